package sync_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/internal/pgtest"
	"mottagning/pgstore"
	"mottagning/server"
	"mottagning/server/staffauth"
	"mottagning/storage"
)

// The central server of these tests keeps its data in bbolt in its data
// directory, or with MOTTAGNING_TEST_DB=postgres in a database of one
// throwaway PostgreSQL cluster the package shares: the data directory
// then holds the database's URL, so that a restart on the same directory
// opens the same database.

func onPostgres() bool { return os.Getenv("MOTTAGNING_TEST_DB") == "postgres" }

var (
	pgOnce    stdsync.Once
	pgCluster *pgtest.Cluster
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgCluster != nil {
		pgCluster.Close()
	}
	os.Exit(code)
}

// authOpts are the staff accounts' options of a central server.
func authOpts(o centralOpt) staffauth.Options {
	opts := staffauth.Options{Params: demo.PasswordParams, SourcePerMinute: 1e6, SourceBurst: 1e6}
	if len(o.totpRoles) > 0 {
		roles := o.totpRoles
		opts.TOTPRequired = func(st app.Staff) bool {
			for _, rs := range st.Roles {
				for _, r := range rs {
					for _, want := range roles {
						if r == want {
							return true
						}
					}
				}
			}
			return false
		}
	}
	return opts
}

// openCentralStore opens the central server's store and staff accounts
// in dir (bbolt) or in the database dir names (PostgreSQL), and says
// whether the store is empty.
func openCentralStore(t testing.TB, ctx context.Context, dir string, opts staffauth.Options) (server.Store, *staffauth.Service, bool) {
	t.Helper()
	if onPostgres() {
		pgOnce.Do(func() { pgCluster = pgtest.StartShared(t) })
		if pgCluster == nil {
			t.Skip("MOTTAGNING_TEST_DB=postgres, and PostgreSQL is not installed")
		}
		urlFile := filepath.Join(dir, "pg-url")
		raw, err := os.ReadFile(urlFile)
		url := string(raw)
		if errors.Is(err, fs.ErrNotExist) {
			url, err = pgCluster.CreateDatabase("sync_" + strings.ToLower(string(app.NewID(app.SystemClock{}.Now()))))
			if err == nil {
				err = os.WriteFile(urlFile, []byte(url), 0o600)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		st, err := pgstore.Open(ctx, url, pgstore.Options{ServerKey: testServerKey})
		if err != nil {
			t.Fatal(err)
		}
		opts.Failures = st.FailureLimit(opts.SourcePerMinute, opts.SourceBurst)
		auth, err := staffauth.New(st.AuthKV(), nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		empty, err := st.IsEmpty(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st, auth, empty
	}
	st, err := storage.Open(ctx, dir, storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	// Sealed, as mottagning-server runs it.
	if _, err := st.UnlockWithServerKey(ctx, testServerKey); err != nil {
		t.Fatal(err)
	}
	auth, err := staffauth.Open(filepath.Join(dir, "auth.db"), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st, auth, st.IsEmpty()
}

// snapshotter and pulledThreader are what both stores offer the tests
// beside server.Store.
type snapshotter interface {
	Snapshot(ctx context.Context) (*storage.SyncSnapshot, error)
}

type pulledThreader interface {
	PulledThreads(ctx context.Context, ids []app.ID) (*app.SyncChanges, error)
}
