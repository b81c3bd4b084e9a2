package pgstore

import (
	"context"
	"os"
	"sync"
	"testing"

	"mottagning/app"
	"mottagning/internal/pgtest"
	"mottagning/server"
	"mottagning/storage/storetest"
)

// testServerKey seals every test database.
var testServerKey = []byte("0123456789abcdef0123456789abcdef")

var (
	clusterOnce sync.Once
	cluster     *pgtest.Cluster
)

// TestMain stops the package's shared cluster at the end.
func TestMain(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Close()
	}
	os.Exit(code)
}

// shared is one cluster for the package's tests (a database each).
func shared(t *testing.T) *pgtest.Cluster {
	t.Helper()
	clusterOnce.Do(func() { cluster = pgtest.StartShared(t) })
	if cluster == nil {
		t.Skip("no PostgreSQL")
	}
	return cluster
}

// openTest opens a store on a new, empty database.
func openTest(t *testing.T) *Store {
	t.Helper()
	url := shared(t).NewDatabase(t)
	s, err := Open(context.Background(), url, Options{ServerKey: testServerKey, Clock: app.FixedClock(storetest.Now())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostgresStoreContract runs the app.Store suite the bbolt store
// runs (storage/storetest) on PostgreSQL.
func TestPostgresStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) app.Store { return openTest(t) })
}

// The server needs all of server.Store of the PostgreSQL store.
var _ server.Store = (*Store)(nil)

// The node state lives in the database (server/state.go).
var (
	_ server.ResidentSessionStore = (*Store)(nil)
	_ server.RateLimitStore       = (*Store)(nil)
	_ server.GuardianIndex        = (*Store)(nil)
)

// Every node's dispatcher shares the outbox.
var _ server.OutboxClaimer = (*Store)(nil)

// Each node follows the feed for its case lists.
var _ server.CaseFeed = (*Store)(nil)

// A resident request reads the session and the resident in one query.
var _ server.SessionResidentStore = (*Store)(nil)

// A device's push is one at a time across nodes.
var _ server.KeyLocker = (*Store)(nil)
