package storage

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mottagning/app"
)

// TestServerKeySealsAPlainServerStore is item 1 of issue 15 at the store:
// a plain store (as the server wrote it before) with residents, cases,
// the outbox and a migration's plaintext copy beside it is sealed under a
// server key at UnlockWithServerKey; afterwards no secret is in any file
// of the directory, the data reads back the same, the file reopens
// locked, a wrong key is refused, and a rewrapped key replaces the old one.
func TestServerKeySealsAPlainServerStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := openTestAt(t, dir, Options{})
	ds := writeSensitive(t, plain)
	if err := plain.SetChangeFeed(ctx); err != nil {
		t.Fatal(err)
	}
	checkClose(t, plain)
	copyFile(t, filepath.Join(dir, FileName), filepath.Join(dir, FileName+".v10-20260101T000000Z.bak"))
	secrets := secretsOf(t, ds, 100)
	if len(found(dirBytes(t, dir), secrets)) == 0 {
		t.Fatal("the plain store holds no secret: the search would prove nothing")
	}
	key := bytes.Repeat([]byte{7}, ServerKeySize)
	if err := CheckServerKey(filepath.Join(dir, FileName), key); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("CheckServerKey on a plain file = %v, want ErrNotSealed", err)
	}

	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	before, err := reread(ctx, s, ds)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UnlockWithServerKey(ctx, key[:16]); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("a short key = %v, want ErrInvalid", err)
	}
	sealedNow, err := s.UnlockWithServerKey(ctx, key)
	if err != nil || !sealedNow {
		t.Fatalf("seal = %v, %v", sealedNow, err)
	}
	after, err := reread(ctx, s, ds)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, after, cmpOpts); d != "" {
		t.Fatalf("data changed by sealing (-before +after):\n%s", d)
	}
	if s.Role() != RoleServer {
		t.Errorf("role after sealing = %v, want server", s.Role())
	}
	checkClose(t, s)
	if hits := found(dirBytes(t, dir), secrets); len(hits) > 0 {
		t.Fatalf("sealed server store: %d secrets readable in the directory: %v", len(hits), hits)
	}

	// Reopened: locked until the key; a wrong key opens nothing.
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Locked() {
		t.Fatal("a sealed server store opened unlocked")
	}
	if _, err := s.Resident(ctx, ds.Residents[0].ID); !errors.Is(err, ErrLocked) {
		t.Fatalf("read while locked = %v, want ErrLocked", err)
	}
	wrong := bytes.Repeat([]byte{8}, ServerKeySize)
	if _, err := s.UnlockWithServerKey(ctx, wrong); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("wrong key = %v, want ErrWrongKey", err)
	}
	if sealedNow, err := s.UnlockWithServerKey(ctx, key); err != nil || sealedNow {
		t.Fatalf("unlock = %v, %v", sealedNow, err)
	}
	again, err := reread(ctx, s, ds)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, again, cmpOpts); d != "" {
		t.Fatalf("data after reopening (-before +after):\n%s", d)
	}

	// A new key file: the old key stops, the new one opens.
	if err := s.RewrapServerKey(ctx, wrong); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := CheckServerKey(filepath.Join(dir, FileName), key); !errors.Is(err, ErrWrongKey) {
		t.Errorf("the old key after a rewrap = %v, want ErrWrongKey", err)
	}
	if err := CheckServerKey(filepath.Join(dir, FileName), wrong); err != nil {
		t.Errorf("the new key after a rewrap = %v", err)
	}
}

// TestServerKeyDoesNotOpenADesktopFile: a desktop's sealed file has no
// server wrap; the server key cannot open it (and says so).
func TestServerKeyDoesNotOpenADesktopFile(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t, t.TempDir())
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	s.Lock()
	if _, err := s.UnlockWithServerKey(ctx, bytes.Repeat([]byte{7}, ServerKeySize)); !errors.Is(err, ErrLocked) {
		t.Fatalf("server key on a desktop file = %v, want ErrLocked", err)
	}
}
