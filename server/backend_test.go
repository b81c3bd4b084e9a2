package server

import (
	"context"
	"os"
	"sync"
	"testing"

	"mottagning/app"
	"mottagning/internal/pgtest"
	"mottagning/pgstore"
	"mottagning/storage"
)

// The server's tests run on the bbolt store, and with
// MOTTAGNING_TEST_DB=postgres (make test runs the package a second time
// so) on PostgreSQL: each test on a new database of one throwaway
// cluster the package shares.

// onPostgres reports whether the tests run on PostgreSQL.
func onPostgres() bool { return os.Getenv("MOTTAGNING_TEST_DB") == "postgres" }

// bboltOnly skips a test of what only the bbolt file has (a byte copy
// backup, a damaged page), with the reason.
func bboltOnly(t testing.TB, why string) {
	t.Helper()
	if onPostgres() {
		t.Skip("bbolt only: " + why)
	}
}

var (
	pgOnce    sync.Once
	pgCluster *pgtest.Cluster
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, r := range regions.m {
		if r.store != nil {
			r.store.Close()
		}
	}
	if pgCluster != nil {
		pgCluster.Close()
	}
	os.Exit(code)
}

// openTestStore opens a new, empty, sealed store on the backend of the run.
func openTestStore(t testing.TB, clock app.Clock) Store {
	t.Helper()
	ctx := context.Background()
	if onPostgres() {
		pgOnce.Do(func() { pgCluster = pgtest.StartShared(t) })
		if pgCluster == nil {
			t.Skip("MOTTAGNING_TEST_DB=postgres, and PostgreSQL is not installed")
		}
		st, err := pgstore.Open(ctx, pgCluster.NewDatabase(t), pgstore.Options{ServerKey: testServerKey, Clock: clock})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		return st
	}
	st, err := storage.Open(ctx, t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	// Sealed, as mottagning-server runs it (a server key from outside
	// the data directory).
	if _, err := st.UnlockWithServerKey(ctx, testServerKey); err != nil {
		t.Fatalf("seal store: %v", err)
	}
	return st
}
