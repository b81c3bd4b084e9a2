package server

import (
	"archive/tar"
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
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

// TestGateCoversEveryWrite fails when Store gains a write method the
// gate does not hold back during a backup: every method of Store whose
// name says it writes must be declared on *Gate itself (in this
// package's source), not promoted from the embedded Store.
func TestGateCoversEveryWrite(t *testing.T) {
	declared := map[string]bool{}
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok && id.Name == "Gate" {
					declared[fd.Name.Name] = true
				}
			}
		}
	}
	st := reflect.TypeOf((*Store)(nil)).Elem()
	writes := 0
	for i := 0; i < st.NumMethod(); i++ {
		name := st.Method(i).Name
		for _, p := range []string{"Put", "Update", "Create", "Import", "Record", "Mark", "Delete", "Set", "Append", "Write",
			"Prune", "Checkpoint", "Connect", "Drop", "Unlock", "Remove", "StageChunk", "Discard", "Batch"} {
			if strings.HasPrefix(name, p) {
				writes++
				if !declared[name] {
					t.Errorf("Store.%s looks like a write and is not gated (declare it on *Gate)", name)
				}
				break
			}
		}
	}
	if writes < 20 {
		t.Errorf("only %d write methods found on Store: is the prefix list stale?", writes)
	}
}

// TestOnlineBackupWhileWriting takes backups while residents reply, and
// checks that each backup opens, passes bbolt's and our consistency check,
// and holds every reply acknowledged before the backup began.
func TestOnlineBackupWhileWriting(t *testing.T) {
	bboltOnly(t, "a PostgreSQL server is backed up with pg_dump or a base backup (TestBackupRefusedOnPostgres)")
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
		if err := WriteBackup(e.ctx, &buf, dir, e.store.(FileStore).Version(), []age.Recipient{id.Recipient()}, e.srv.MainBackup()); err != nil {
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
