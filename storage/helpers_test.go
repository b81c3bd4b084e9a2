package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	bolterrors "go.etcd.io/bbolt/errors"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
	"mottagning/storage/storetest"
)

// testNow is the fixed clock of the storage tests: the demo data set and
// every timestamp a test writes derive from it.
var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, app.Stockholm)

// cmpOpts compare records as they come back from the store: times lose
// their location and monotonic reading in JSON (compare instants), a
// personnummer has unexported fields (compare values), and an empty slice
// may come back nil.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b personnummer.Number) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

// openTest opens a store on a fresh t.TempDir(). At cleanup it runs
// Store.Check — bbolt's consistency check and the index check — and fails
// the test on any finding, then closes the store.
func openTest(t *testing.T) *Store {
	t.Helper()
	return openTestAt(t, t.TempDir(), Options{})
}

// openTestAt opens the store in dir with opt, with openTest's cleanup.
func openTestAt(t *testing.T, dir string, opt Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, opt)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { checkClose(t, s) })
	return s
}

// checkClose checks and closes s. A test that closes its store itself (to
// reopen the file) calls it directly; the cleanup then finds the store
// closed and has nothing left to do.
func checkClose(t *testing.T, s *Store) {
	t.Helper()
	err := s.Check()
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return
	}
	if err != nil {
		t.Errorf("check %s: %v", s.Path(), err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close %s: %v", s.Path(), err)
	}
}

// seedDemo writes the demo data set built at testNow into s.
func seedDemo(t testing.TB, s *Store) *demo.Dataset {
	t.Helper()
	ds := demo.Build(testNow)
	if err := demo.Seed(context.Background(), s, ds); err != nil {
		t.Fatalf("seed demo: %v", err)
	}
	return ds
}

// fileSum is the sha256 of a file's content.
func fileSum(t testing.TB, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// copyFile copies src to dst (created 0600).
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// newThread is storetest.NewThread: a case with one message per text.
var newThread = storetest.NewThread
