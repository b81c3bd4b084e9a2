package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/storage"
)

func record(t *testing.T, s *storage.Store, n int) {
	t.Helper()
	now := time.Now()
	for i := range n {
		e := app.AccessEntry{ID: app.NewID(now), At: now, StaffID: "s1", ClinicID: "k1", ResidentID: app.ID("r" + string(rune('a'+i))), Action: app.AccessOpenCase}
		if err := s.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func check(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestLogcheck(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.Open(context.Background(), dir, storage.Options{CheckpointEvery: 4})
	if err != nil {
		t.Fatal(err)
	}
	record(t, s, 10)
	s.Close()
	if code, out := check(t, "", "--data", dir); code != 0 || !strings.HasPrefix(out, "OK 10 entries") {
		t.Fatalf("whole chain: exit %d, %q", code, out)
	}

	db, err := bolt.Open(filepath.Join(dir, storage.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], 6)
		return tx.Bucket([]byte("access_chain")).Delete(k[:])
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, out := check(t, "", "--data", dir); code != 1 || !strings.HasPrefix(out, "BROKEN seq 6: removed") {
		t.Fatalf("removed entry: exit %d, %q", code, out)
	}
	if code, out := check(t, "", "--data", filepath.Join(dir, "nothing")); code != 2 {
		t.Errorf("no database: exit %d, %q", code, out)
	}
}

func TestLogcheckEncrypted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := storage.Open(ctx, dir, storage.Options{Encrypt: true, KeyParams: app.PasswordParams{Time: 1, MemKiB: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	st := app.Staff{ID: "s1", Name: "Anna Andersson", Username: "anna"}
	if err := s.PutStaff(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(ctx, st.ID, "anna-lösenord"); err != nil {
		t.Fatal(err)
	}
	record(t, s, 3)
	s.Close()
	if code, out := check(t, "", "--data", dir); code != 2 || !strings.Contains(out, "--user") {
		t.Errorf("encrypted without a user: exit %d, %q", code, out)
	}
	if code, out := check(t, "fel-lösenord\n", "--data", dir, "--user", "anna"); code != 2 || !strings.Contains(out, "wrong key") {
		t.Errorf("wrong password: exit %d, %q", code, out)
	}
	if code, out := check(t, "anna-lösenord\n", "--data", dir, "--user", "Anna"); code != 0 || !strings.HasPrefix(out, "OK 3 entries") {
		t.Errorf("right password: exit %d, %q", code, out)
	}
}
