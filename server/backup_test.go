package server

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"filippo.io/age"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage"
)

// gatedWrites are the write methods of *storage.Store that Gate overrides.
var gatedWrites = []string{"PutFormSeries", "CheckpointAccessLog", "PruneAccessLog", "Connect", "DropOps", "Unlock", "UnlockWithServerKey", "RewrapServerKey", "RemoveKeyHolder", "PutResident", "PutResidents", "UpdateResident", "CreateThread", "ImportThreads", "UpdateThread",
	"PutClinic", "PutStaff", "PutTemplate", "PutEService", "Record", "PutCredential", "UpdateCredential",
	"UpdateNotifications", "MarkDemo",
	"SetChangeFeed", "PutOpResult", "PruneAppliedOps", "UpdateFromServer", "DropAnsweredOps", "DeleteSyncProblem",
	"SetSyncServer", "SetSyncPin", "SetSyncNextPin", "SetSyncToken", "PutResidentsFromServer", "FinishPull", "Batch", "SetDeviceKeyBound", "DeviceKey",
	"NewDeviceEscrow", "ConfirmDeviceEscrow", "UnlockWithDeviceEscrow", "KeyringAccount", "WrapForSecret", "UnlockWithSecret",
	"StageChunk", "DiscardStagedChunks", "WantAttachments", "StageFetchedChunk", "ForgetWantedAttachment", "PruneStagedChunks",
	"RecordPulled", "RecordChangesSince"}

// TestGateCoversEveryWrite fails when storage gains a write method the
// gate does not hold back during a backup.
func TestGateCoversEveryWrite(t *testing.T) {
	st := reflect.TypeOf(&storage.Store{})
	for i := 0; i < st.NumMethod(); i++ {
		name := st.Method(i).Name
		for _, p := range []string{"Put", "Update", "Create", "Import", "Record", "Mark", "Delete", "Set", "Append", "Write",
			"Prune", "Checkpoint", "Connect", "Drop", "Unlock", "Remove"} {
			if strings.HasPrefix(name, p) && !slices.Contains(gatedWrites, name) {
				t.Errorf("storage.Store.%s looks like a write and is not gated (add it to Gate and gatedWrites)", name)
			}
		}
	}
	gt := reflect.TypeOf(Gate{})
	for _, name := range gatedWrites {
		if _, ok := gt.MethodByName(name); ok {
			continue // a value-receiver method set would not include them; pointer methods below
		}
		if _, ok := reflect.TypeOf(&Gate{}).MethodByName(name); !ok {
			t.Errorf("Gate lacks %s", name)
		}
	}
}

// TestOnlineBackupWhileWriting takes backups while residents reply, and
// checks that each backup opens, passes bbolt's and our consistency check,
// and holds every reply acknowledged before the backup began.
func TestOnlineBackupWhileWriting(t *testing.T) {
	e := newEnv(t)
	tok := e.signIn(demo.AdultSMS)
	karin := e.persona(demo.AdultSMS)
	var caseID app.ID
	for _, th := range e.ds.Threads {
		if th.Case.ResidentID == karin.ID && th.Case.Answerable() && th.Case.Status != app.StatusClosed {
			caseID = th.Case.ID
		}
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	var mu stdsync.Mutex
	acked := 0
	var wg stdsync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := e.c.ResidentReply(ctx, tok, string(caseID), "svar"); err != nil {
				return
			}
			mu.Lock()
			acked++
			mu.Unlock()
		}
	}()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		before := acked
		mu.Unlock()
		var buf bytes.Buffer
		dir := t.TempDir()
		if err := WriteBackup(e.ctx, &buf, dir, e.store.Version(), []age.Recipient{id.Recipient()}, e.srv.MainBackup()); err != nil {
			t.Fatalf("backup: %v", err)
		}
		plain, err := age.Decrypt(&buf, id)
		if err != nil {
			t.Fatalf("decrypt backup: %v", err)
		}
		tr := tar.NewReader(plain)
		var names []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, h.Name)
			if h.Name == storage.FileName {
				out := filepath.Join(dir, "restored")
				os.MkdirAll(out, 0o700)
				f, _ := os.Create(filepath.Join(out, storage.FileName))
				io.Copy(f, tr)
				f.Close()
				st, err := storage.Open(e.ctx, out, storage.Options{})
				if err != nil {
					t.Fatalf("open backup: %v", err)
				}
				if _, err := st.UnlockWithServerKey(e.ctx, testServerKey); err != nil {
					t.Fatalf("unlock backup: %v", err)
				}
				if err := st.Check(); err != nil {
					t.Fatalf("backup check: %v", err)
				}
				th, err := st.Thread(e.ctx, caseID)
				if err != nil {
					t.Fatal(err)
				}
				replies := 0
				for _, m := range th.Messages {
					if m.Text == "svar" {
						replies++
					}
				}
				if replies < before {
					t.Errorf("round %d: backup has %d replies, %d were acknowledged before it began", round, replies, before)
				}
				st.Close()
			}
		}
		if !slices.Equal(names, []string{"MANIFEST.json", storage.FileName}) {
			t.Errorf("archive entries = %v", names)
		}
	}
	cancel()
	wg.Wait()
	if acked == 0 {
		t.Fatal("no reply was acknowledged during the test")
	}
}
