package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage/storetest"
)

var updateSchemaFiles = flag.Bool("update-schema-files", false,
	"rewrite testdata/v*.db and testdata/schema-files.json (go test ./storage -run TestGenerateSchemaFiles -update-schema-files)")

// goldenPath holds, as JSON, the records every testdata/v*.db was written
// with: the upgrade tests compare what they read against it, not against
// what the code under test wrote.
const goldenPath = "testdata/schema-files.json"

func schemaFile(v uint64) string { return filepath.Join("testdata", fmt.Sprintf("v%d.db", v)) }

// schemaGolden is the content of the checked-in databases.
type schemaGolden struct {
	Clinics   []app.Clinic
	Staff     []app.Staff
	Residents []*app.Resident
	Templates []app.MessageTemplate
	Threads   []app.Thread
	Access    []app.AccessEntry
}

// TestGenerateSchemaFiles writes a small database of every schema version
// that has none yet to testdata/, from testdata/schema-files.json (made
// once from a slice of the demo data set when it does not exist). A
// checked-in file is never rewritten: it stands for databases users have
// on disk, so the upgrade tests must keep reading the bytes of the day.
//
// Every missing file is written by today's code, then taken back to the
// layout of its version by undoing the later migrations with raw bbolt:
//
//   - current: written through a store opened with migrateTo: SchemaVersion.
//   - v6: access_chain back to accesslog under entry ids, with
//     idx_accesslog_clinic (empty values); the chain's buckets and meta
//     keys deleted (undoes migration 7).
//   - v10: attachments, staged chunks and fetch entries moved back from
//     <caseID> 0 <attachmentID> to <attachmentID>, re-sealed for their
//     old keys; bucket attachment_owner and meta/attachments_by_case
//     deleted (undoes migration 11; undoAttachmentsByCase).
//   - v9: buckets attachment_chunks and attachment_fetch deleted
//     (undoes migration 10, which only adds them).
//   - v8: buckets changes, change_keys, applied_ops, sync_results and
//     sync_state deleted (undoes migration 9, which only adds them).
//   - v5: bucket pending_ops deleted (undoes migration 6).
//   - v4: buckets outbox, idx_outbox_due and idx_outbox_case deleted
//     (undoes migration 5, which only adds them).
//   - v3: buckets attachments and credentials deleted (undoes migration 4).
//   - v2: case headers moved back from case_items (<id> 0) to bucket cases
//     under <id>, re-sealed for that bucket, and idx_case_activity rebuilt
//     from them (undoes migration 3).
//   - v1: bucket idx_case_assignee deleted (undoes migration 2, which only
//     adds it).
//
// A new migration N+1 adds its undo step to undo below and a TestOpenV…
// for the new file.
func TestGenerateSchemaFiles(t *testing.T) {
	if !*updateSchemaFiles {
		t.Skip("run with -update-schema-files to write the missing checked-in databases")
	}
	ctx := context.Background()
	var g *schemaGolden
	if _, err := os.Stat(goldenPath); err == nil {
		g = loadGolden(t)
	} else {
		g = schemaSubset(demo.Build(testNow))
		golden, err := json.MarshalIndent(g, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, append(golden, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{migrateTo: SchemaVersion})
	if err != nil {
		t.Fatal(err)
	}
	err = demo.Seed(ctx, s, &demo.Dataset{Clinics: g.Clinics, Staff: g.Staff, Residents: g.Residents, Templates: g.Templates, Threads: g.Threads})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range g.Access {
		if err := s.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	cur := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for v := SchemaVersion; v >= 1; v-- {
		if v < SchemaVersion {
			undo(t, cur, v)
		}
		if _, err := os.Stat(schemaFile(v)); err == nil {
			t.Logf("%s exists, kept", schemaFile(v))
			continue
		}
		compactTo(t, cur, schemaFile(v))
		t.Logf("%s written", schemaFile(v))
	}
}

// undo takes the database at path from version v+1 back to version v.
func undo(t *testing.T, path string, v uint64) { t.Helper(); undoWith(t, path, v, plainCodec{}) }

// undoWith is undo for a database whose values codec seals.
func undoWith(t *testing.T, path string, v uint64, codec Codec) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		switch v {
		case 10:
			if err := undoAttachmentsByCase(tx, codec); err != nil {
				return err
			}
		case 9:
			for _, b := range [][]byte{bAttachChunks, bAttachFetch} {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
		case 8:
			for _, b := range [][]byte{bChanges, bChangeKeys, bAppliedOps, bSyncResult, bSyncState} {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
		case 7:
			if err := tx.DeleteBucket(bForms); err != nil {
				return err
			}
		case 6:
			log, err := tx.CreateBucket(bAccessLog)
			if err != nil {
				return err
			}
			idx, err := tx.CreateBucket(bIdxAccessLog)
			if err != nil {
				return err
			}
			err = tx.Bucket(bAccessChain).ForEach(func(k, val []byte) error {
				var l app.ChainLink
				if err := decode(codec, bAccessChain, k, val, &l); err != nil {
					return err
				}
				data, err := encode(codec, bAccessLog, []byte(l.Entry.ID), &l.Entry)
				if err != nil {
					return err
				}
				if err := idx.Put(join(string(l.Entry.ClinicID), string(l.Entry.ID)), nil); err != nil {
					return err
				}
				return log.Put([]byte(l.Entry.ID), data)
			})
			if err != nil {
				return err
			}
			for _, b := range [][]byte{bAccessChain, bIdxAccess, bCheckpoints} {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
			for _, k := range [][]byte{kLogHead, kLogPub, kLogKey} {
				if err := tx.Bucket(bMeta).Delete(k); err != nil {
					return err
				}
			}
		case 5:
			if err := tx.DeleteBucket(bPendingOps); err != nil {
				return err
			}
		case 4:
			for _, b := range [][]byte{bOutbox, bIdxOutboxDue, bIdxOutboxCase} {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
		case 3:
			for _, b := range [][]byte{bAttachments, bCredentials} {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
		case 2:
			cases, err := tx.CreateBucket(bCases)
			if err != nil {
				return err
			}
			act, err := tx.CreateBucket(bIdxActivity)
			if err != nil {
				return err
			}
			items := tx.Bucket(bCaseItems)
			var heads [][]byte
			err = items.ForEach(func(k, val []byte) error {
				if !isHeaderKey(k) {
					return nil
				}
				var c app.Case
				if err := decode(codec, bCaseItems, k, val, &c); err != nil {
					return err
				}
				id := k[:len(k)-1]
				data, err := encode(codec, bCases, id, &c)
				if err != nil {
					return err
				}
				heads = append(heads, append([]byte(nil), k...))
				if err := act.Put(append(join(string(c.ClinicID), tsBytes(c.LastActivity)), id...), nil); err != nil {
					return err
				}
				return cases.Put(id, data)
			})
			if err != nil {
				return err
			}
			for _, k := range heads {
				if err := items.Delete(k); err != nil {
					return err
				}
			}
		case 1:
			if err := tx.DeleteBucket(bIdxAssignee); err != nil {
				return err
			}
		default:
			return fmt.Errorf("no undo step down to version %d", v)
		}
		return writeVersion(tx, v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// compactTo writes a compacted copy of the bbolt file src to dst: the
// pages freed by the seed's many transactions would double the size of the
// checked-in files.
func compactTo(t *testing.T, src, dst string) {
	t.Helper()
	from, err := bolt.Open(src, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	os.Remove(dst)
	to, err := bolt.Open(dst, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bolt.Compact(to, from, 0); err != nil {
		t.Fatal(err)
	}
	if err := to.Close(); err != nil {
		t.Fatal(err)
	}
}

// schemaSubset picks a few records of the demo set, to keep the files
// small (64 KB): both clinics, all staff and templates, the first case of
// each status, the first case a guardian started, the residents of those
// cases and their guardians, and two access entries.
func schemaSubset(ds *demo.Dataset) *schemaGolden {
	g := &schemaGolden{Clinics: ds.Clinics, Staff: ds.Staff, Templates: ds.Templates}
	seen := map[string]bool{}
	need := map[app.ID]bool{}
	for _, th := range ds.Threads {
		k := string(th.Case.Status)
		if th.Case.StartedBy == app.StartedByGuardian {
			k = "guardian"
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		g.Threads = append(g.Threads, th)
		need[th.Case.ResidentID], need[th.Case.StartedByGuardian] = true, true
	}
	for _, r := range ds.Residents {
		if need[r.ID] {
			for _, gd := range r.Guardians {
				need[gd.GuardianID] = true
			}
		}
	}
	for _, r := range ds.Residents {
		if need[r.ID] {
			g.Residents = append(g.Residents, r)
		}
	}
	for i, th := range g.Threads[:2] {
		at := th.Case.LastActivity.Add(-30 * time.Minute)
		g.Access = append(g.Access, app.AccessEntry{ID: app.NewID(at), At: at, StaffID: ds.Staff[i].ID,
			ClinicID: th.Case.ClinicID, ResidentID: th.Case.ResidentID, CaseID: th.Case.ID, Action: app.AccessOpenCase})
	}
	return g
}

// TestSchemaFileForEveryVersion: every schema version has its checked-in
// database, in the layout of that version.
func TestSchemaFileForEveryVersion(t *testing.T) {
	for v := uint64(1); v <= SchemaVersion; v++ {
		db, err := bolt.Open(schemaFile(v), 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("schema version %d has no readable %s (see TestGenerateSchemaFiles): %v", v, schemaFile(v), err)
		}
		err = db.View(func(tx *bolt.Tx) error {
			if got := readVersion(tx); got != v {
				t.Errorf("%s: meta/version %d, want %d", schemaFile(v), got, v)
			}
			if has := tx.Bucket(bIdxAssignee) != nil; has != (v >= 2) {
				t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), bIdxAssignee, has, v >= 2)
			}
			if has := tx.Bucket(bForms) != nil; has != (v >= 8) {
				t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), bForms, has, v >= 8)
			}
			if has := tx.Bucket(bPendingOps) != nil; has != (v >= 6) {
				t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), bPendingOps, has, v >= 6)
			}
			for _, nb := range [][]byte{bAccessChain, bIdxAccess, bCheckpoints} {
				if has := tx.Bucket(nb) != nil; has != (v >= 7) {
					t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), nb, has, v >= 7)
				}
			}
			for _, nb := range [][]byte{bAccessLog, bIdxAccessLog} {
				if has := tx.Bucket(nb) != nil; has != (v < 7) {
					t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), nb, has, v < 7)
				}
			}
			for _, nb := range [][]byte{bAttachments, bCredentials} {
				if has := tx.Bucket(nb) != nil; has != (v >= 4) {
					t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), nb, has, v >= 4)
				}
			}
			for _, nb := range [][]byte{bOutbox, bIdxOutboxDue, bIdxOutboxCase} {
				if has := tx.Bucket(nb) != nil; has != (v >= 5) {
					t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), nb, has, v >= 5)
				}
			}
			for _, nb := range [][]byte{bAttachChunks, bAttachFetch} {
				if has := tx.Bucket(nb) != nil; has != (v >= 10) {
					t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), nb, has, v >= 10)
				}
			}
			if has := tx.Bucket(bAttachOwner) != nil; has != (v >= 11) {
				t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), bAttachOwner, has, v >= 11)
			}
			for _, old := range [][]byte{bCases, bIdxActivity} {
				if has := tx.Bucket(old) != nil; has != (v < 3) {
					t.Errorf("%s: bucket %s present %v, want %v", schemaFile(v), old, has, v < 3)
				}
			}
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestUpgradeFromV1: a v1 database is copied aside byte for byte and
// upgraded; everything in it is still there, and Mina ärenden lists every
// assigned case through the index migration 2 back-fills.
func TestUpgradeFromV1(t *testing.T) { testSchemaFile(t, 1) }

// TestUpgradeFromV2: a v2 database (headers in bucket cases) is upgraded;
// every header now reads from case_items and bucket cases is gone.
func TestUpgradeFromV2(t *testing.T) { testSchemaFile(t, 2) }

// TestUpgradeFromV3: a v3 database gains the attachments and credentials buckets.
func TestUpgradeFromV3(t *testing.T) { testSchemaFile(t, 3) }

// TestUpgradeFromV4: a v4 database gains the outbox buckets; its
// messages get no notifications (they were delivered before), and a new
// case with notifications lands in the upgraded file.
func TestUpgradeFromV4(t *testing.T) { testSchemaFile(t, 4) }

// TestUpgradeFromV5: a v5 database gains the pending-ops queue.
func TestUpgradeFromV5(t *testing.T) { testSchemaFile(t, 5) }

// TestUpgradeFromV6: a v6 database's access log becomes a hash chain
// that verifies, with a signed checkpoint over the migrated entries.
func TestUpgradeFromV6(t *testing.T) {
	testSchemaFile(t, 6)
	dir := t.TempDir()
	copyFile(t, schemaFile(6), filepath.Join(dir, FileName))
	s := openTestAt(t, dir, Options{})
	rep, err := s.VerifyAccessLog(context.Background())
	if err != nil || !rep.OK() || rep.Entries != len(loadGolden(t).Access) || rep.Checkpoints != 1 {
		t.Errorf("verify after upgrade: %+v %v, want %d entries and one checkpoint", rep, err, len(loadGolden(t).Access))
	}
}

// TestUpgradeFromV7: a v7 database gains the form versions.
func TestUpgradeFromV7(t *testing.T) { testSchemaFile(t, 7) }

// TestOpenV8: a v8 database gains the sync buckets (v9).
func TestOpenV8(t *testing.T) { testSchemaFile(t, 8) }

// TestOpenV9: a v9 database gains the buckets of attachments in chunks (v10).
func TestOpenV9(t *testing.T) { testSchemaFile(t, 9) }

// TestOpenV10: a v10 database gains attachments by case (v11); the
// move itself is TestUpgradeV10AttachmentsMoveUnderTheirCase's.
func TestOpenV10(t *testing.T) { testSchemaFile(t, 10) }

// TestOpenV11: the current version opens as it is, without a backup.
func TestOpenV11(t *testing.T) { testSchemaFile(t, 11) }

func testSchemaFile(t *testing.T, v uint64) {
	ctx := context.Background()
	g := loadGolden(t)
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	copyFile(t, schemaFile(v), path)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	s := openTestAt(t, dir, Options{})
	if got := s.Version(); got != SchemaVersion {
		t.Errorf("Version() after Open = %d, want %d", got, SchemaVersion)
	}
	baks, _ := filepath.Glob(filepath.Join(dir, "*.bak"))
	if v < SchemaVersion {
		if s.Backup == "" {
			t.Fatal("no backup made before migrating")
		}
		if filepath.Dir(s.Backup) != dir || !slices.Equal(baks, []string{s.Backup}) {
			t.Errorf("backup %s, backups in the directory %v; want exactly the one next to the database", s.Backup, baks)
		}
		bak, err := os.ReadFile(s.Backup)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bak, orig) {
			t.Errorf("backup (%d bytes) differs from the v%d file (%d bytes)", len(bak), v, len(orig))
		}
	} else if s.Backup != "" || len(baks) > 0 {
		t.Errorf("opening a current database made backups %q %v", s.Backup, baks)
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check after upgrade: %v", err)
	}

	wantGolden(t, s, g)

	// Mina ärenden: every assigned case, through the assignee index.
	var cases []app.Case
	for _, th := range g.Threads {
		cases = append(cases, th.Case)
	}
	assigned := 0
	for _, c := range g.Clinics {
		for _, st := range g.Staff {
			q := app.CaseQuery{ClinicID: c.ID, AssigneeID: st.ID}
			want := storetest.WantList(cases, q)
			assigned += len(want)
			if got := storetest.ListAll(t, s, q, 2); !slices.Equal(got, want) {
				t.Errorf("Mina ärenden of %s in %s: got %v, want %v", st.Name, c.Name, got, want)
			}
		}
	}
	if assigned < 3 {
		t.Errorf("only %d assigned cases in the v%d file: it does not test the assignee index", assigned, v)
	}

	// No message of the old file has a notification.
	for _, th := range g.Threads {
		if ns, err := s.NotificationsOfCase(ctx, th.Case.ID); err != nil || len(ns) != 0 {
			t.Errorf("case %s: %d notifications after upgrade (err %v), want none", th.Case.ID, len(ns), err)
		}
	}

	// The upgraded database takes writes and keeps its indexes.
	th := newThread(g.Clinics[0].ID, g.Residents[0].ID, g.Staff[0].ID, app.StatusOngoing, testNow, "Efter uppgraderingen")
	th.Outbox = []app.Notification{testNotification(&th, app.ChannelEmail, testNow)}
	if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
		t.Fatal(err)
	}
	if due, err := s.DueNotifications(ctx, app.ChannelEmail, testNow, 10); err != nil || len(due) != 1 || due[0].ID != th.Outbox[0].ID {
		t.Errorf("due after upgrade: %v (err %v), want the new case's notification", due, err)
	}
	page, err := s.ListCases(ctx, app.CaseQuery{ClinicID: th.Case.ClinicID, AssigneeID: th.Case.AssigneeID})
	if err != nil || len(page.Cases) == 0 || page.Cases[0].ID != th.Case.ID {
		t.Errorf("new case not first in Mina ärenden after upgrade (err %v)", err)
	}

	// A second Open finds nothing to migrate.
	checkClose(t, s)
	s = openTestAt(t, dir, Options{})
	if s.Backup != "" {
		t.Errorf("second Open made another backup %s", s.Backup)
	}
	wantGolden(t, s, g)
}

func loadGolden(t *testing.T) *schemaGolden {
	t.Helper()
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var g schemaGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Clinics) == 0 || len(g.Threads) == 0 || len(g.Residents) == 0 {
		t.Fatalf("%s is empty", goldenPath)
	}
	return &g
}

// wantGolden checks that s holds every record of g.
func wantGolden(t *testing.T, s *Store, g *schemaGolden) {
	t.Helper()
	ctx := context.Background()
	check := func(what string, want any, get func() (any, error)) {
		t.Helper()
		got, err := get()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if d := cmp.Diff(want, got, cmpOpts); d != "" {
			t.Errorf("%s (-file +read):\n%s", what, d)
		}
	}
	for _, c := range g.Clinics {
		check("clinic "+string(c.ID), &c, func() (any, error) { return s.Clinic(ctx, c.ID) })
		var tpls []app.MessageTemplate
		for _, tpl := range g.Templates {
			if tpl.ClinicID == c.ID {
				tpls = append(tpls, tpl)
			}
		}
		slices.SortFunc(tpls, func(a, b app.MessageTemplate) int { return strings.Compare(a.Name, b.Name) })
		check("templates of "+string(c.ID), tpls, func() (any, error) { return s.Templates(ctx, c.ID) })
		var log []app.AccessEntry
		for _, e := range g.Access {
			if e.ClinicID == c.ID {
				log = append(log, e)
			}
		}
		check("access log of "+string(c.ID), log, func() (any, error) {
			return s.Entries(ctx, c.ID, testNow.AddDate(-10, 0, 0), testNow.AddDate(1, 0, 0))
		})
	}
	for _, st := range g.Staff {
		check("staff "+string(st.ID), &st, func() (any, error) { return s.Staff(ctx, st.ID) })
	}
	for _, r := range g.Residents {
		check("resident "+string(r.ID), r, func() (any, error) { return s.Resident(ctx, r.ID) })
		if !r.PNR.IsZero() {
			check("resident by number "+string(r.ID), r, func() (any, error) { return s.ResidentByPNR(ctx, r.PNR) })
		}
	}
	for _, th := range g.Threads {
		check("thread "+string(th.Case.ID), &th, func() (any, error) { return s.Thread(ctx, th.Case.ID) })
	}
}

// undoAttachmentsByCase takes the attachments of a v11 database back to
// the keys of v10 (the bare attachment id), re-sealed with codec, and
// drops what v11 added.
func undoAttachmentsByCase(tx *bolt.Tx, codec Codec) error {
	back := func(name []byte, oldKey func(k []byte) ([]byte, bool), env byte) error {
		bk := tx.Bucket(name)
		type kv struct{ from, to []byte }
		var moves []kv
		if err := bk.ForEach(func(k, _ []byte) error {
			if to, ok := oldKey(k); ok {
				moves = append(moves, kv{append([]byte(nil), k...), to})
			}
			return nil
		}); err != nil {
			return err
		}
		for _, m := range moves {
			v := bk.Get(m.from)
			var enc []byte
			if env == rawFormat {
				p, err := decodeRaw(codec, name, m.from, v)
				if err != nil {
					return err
				}
				if enc, err = encodeRaw(codec, name, m.to, p); err != nil {
					return err
				}
			} else {
				p, err := openJSON(codec, name, m.from, v)
				if err != nil {
					return err
				}
				if enc, err = encodeJSON(codec, name, m.to, p); err != nil {
					return err
				}
			}
			if err := bk.Delete(m.from); err != nil {
				return err
			}
			if err := bk.Put(m.to, enc); err != nil {
				return err
			}
		}
		return nil
	}
	// <caseID> 0 <attachmentID> → <attachmentID>
	bare := func(k []byte) ([]byte, bool) {
		i := bytes.IndexByte(k, 0)
		if i <= 0 || bytes.IndexByte(k[i+1:], 0) >= 0 {
			return nil, false
		}
		return append([]byte(nil), k[i+1:]...), true
	}
	if err := back(bAttachments, bare, rawFormat); err != nil {
		return err
	}
	if err := back(bAttachFetch, bare, envelopeFormat); err != nil {
		return err
	}
	// <caseID> 0 <attachmentID> 0 <rest> → <attachmentID> 0 <rest>
	if err := back(bAttachChunks, func(k []byte) ([]byte, bool) {
		p, rest, ok := splitChunkKey(k)
		if !ok {
			return nil, false
		}
		i := bytes.IndexByte(p, 0)
		return append(append([]byte(nil), p[i+1:]...), rest...), true
	}, rawFormat); err != nil {
		return err
	}
	if err := tx.DeleteBucket(bAttachOwner); err != nil {
		return err
	}
	return tx.Bucket(bMeta).Delete(kAttachByCase)
}
