package storage

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestOpenTwiceIsAlreadyRunning: a second Mottagning on the same data
// directory gets "already running" after its timeout, not a hang.
func TestOpenTwiceIsAlreadyRunning(t *testing.T) {
	dir := t.TempDir()
	s := openTestAt(t, dir, Options{})
	start := time.Now()
	s2, err := Open(context.Background(), dir, Options{Timeout: 200 * time.Millisecond})
	if err == nil {
		s2.Close()
		t.Fatal("second Open succeeded while the first holds the database")
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("second Open took %v, want about the 200 ms timeout", elapsed)
	}
	wantOpenError(t, err, ErrAlreadyRunning, s.Path())
	// The first one is unharmed.
	if _, err := s.Clinics(context.Background()); err != nil {
		t.Errorf("first store after the refused Open: %v", err)
	}
}

// TestOpenUnreadable: a file that is not a whole Mottagning database is
// refused with ErrUnreadable and left exactly as it was: it may be all that
// is left of the user's data, for a recovery tool or a support case.
func TestOpenUnreadable(t *testing.T) {
	good := realDatabase(t)
	page := os.Getpagesize() // bbolt's page size for a new file
	rnd := rand.New(rand.NewPCG(7, 7))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rnd.Uint32())
	}
	// A bbolt file of another program: valid bbolt, no meta bucket.
	foreign := filepath.Join(t.TempDir(), "foreign.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("widgets"))
		if err != nil {
			return err
		}
		return b.Put([]byte("a"), []byte("b"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	foreignData, err := os.ReadFile(foreign)
	if err != nil {
		t.Fatal(err)
	}
	highWater := int(pagesSize(t, good))
	if len(good) < highWater || highWater < 8*page {
		t.Fatalf("demo database: %d bytes, pages up to %d; want a larger file for the truncation cases", len(good), highWater)
	}
	for name, content := range map[string][]byte{
		"random bytes":                 garbage,
		"random short":                 garbage[:100],
		"zero length":                  {},
		"zeros":                        make([]byte, 32<<10),
		"truncated in the meta page":   good[:100],
		"truncated after meta pages":   good[:2*page],
		"truncated to half":            good[:highWater/2],
		"truncated by one page":        good[:highWater-page],
		"another program's bbolt file": foreignData,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			before := fileSum(t, path)
			s, err := Open(context.Background(), dir, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			wantOpenError(t, err, ErrUnreadable, path)
			if fileSum(t, path) != before {
				t.Error("Open changed the file it refused")
			}
			if matches, _ := filepath.Glob(filepath.Join(dir, "*.bak")); len(matches) > 0 {
				t.Errorf("Open left backups of a file it refused: %v", matches)
			}
		})
	}
}

// TestOpenTooNew: a database written by a newer Mottagning (schema version
// above ours) is refused untouched, so that the newer version still opens it.
func TestOpenTooNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, realDatabase(t), 0o600); err != nil {
		t.Fatal(err)
	}
	setVersion(t, path, SchemaVersion+1)
	before := fileSum(t, path)
	s, err := Open(context.Background(), dir, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer database succeeded")
	}
	wantOpenError(t, err, ErrTooNew, path)
	if fileSum(t, path) != before {
		t.Error("Open changed the newer database")
	}
}

// TestNewDatabaseIsPrivate: the database and its directory are readable by
// the user only (mode 0600 / 0700): it holds patient data.
func TestNewDatabaseIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix file modes; the data directory's ACL protects the file")
	}
	dir := filepath.Join(t.TempDir(), "data")
	s := openTestAt(t, dir, Options{})
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("database file mode %v, want 0600", m)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := di.Mode().Perm(); m != 0o700 {
		t.Errorf("data directory mode %v, want 0700", m)
	}
}

// TestReopenKeepsData: closing and opening again gives the same data, the
// same index key (ResidentByPNR still works) and no backup.
func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTestAt(t, dir, Options{})
	ds := seedDemo(t, s)
	checkClose(t, s)
	s = openTestAt(t, dir, Options{})
	if s.Backup != "" {
		t.Errorf("reopening a current database made a backup %s", s.Backup)
	}
	if v := s.Version(); v != SchemaVersion {
		t.Errorf("Version() = %d, want %d", v, SchemaVersion)
	}
	if !s.IsDemo() || s.IsEmpty() {
		t.Errorf("IsDemo %v, IsEmpty %v; want a non-empty demo database", s.IsDemo(), s.IsEmpty())
	}
	for _, r := range ds.Residents {
		if r.PNR.IsZero() {
			continue
		}
		got, err := s.ResidentByPNR(ctx, r.PNR)
		if err != nil || got.ID != r.ID {
			t.Fatalf("ResidentByPNR after reopen: %v", err)
		}
	}
}

func wantOpenError(t *testing.T, err, kind error, path string) {
	t.Helper()
	t.Logf("Open: %v", err)
	if !errors.Is(err, kind) {
		t.Errorf("Open: got %v, want %v", err, kind)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("Open error %q does not name the file %s", err, path)
	}
}

// realDatabase returns the bytes of a closed database holding the demo data.
func realDatabase(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	seedDemo(t, s)
	path := s.Path()
	checkClose(t, s)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pagesSize is how many bytes the database's pages take (bbolt's high
// water mark): a file shorter than that is missing pages.
func pagesSize(t *testing.T, data []byte) int64 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// setVersion writes meta/version of the closed database at path with raw
// bbolt, as another version of Mottagning would have.
func setVersion(t *testing.T, path string, v uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return writeVersion(tx, v) }); err != nil {
		t.Fatal(err)
	}
}
