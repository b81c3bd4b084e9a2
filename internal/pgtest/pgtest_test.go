package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCluster starts a cluster, writes in a fresh database, kills
// postgres as a crash would and finds the committed row after a restart.
func TestCluster(t *testing.T) {
	c := Start(t)
	url := c.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE x (v int); INSERT INTO x VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	c.Kill()
	c.Restart(t)
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM x").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after a crash: %d, %v; want 42", v, err)
	}
}
