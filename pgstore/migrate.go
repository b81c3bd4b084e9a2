package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SchemaVersion is the number of the newest migration this binary has.
func SchemaVersion() int {
	ms, _ := loadMigrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].n
}

type migration struct {
	n    int
	name string
	sql  string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, p := range names {
		base := strings.TrimPrefix(p, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n <= 0 {
			return nil, fmt.Errorf("pgstore: migration %s: want NNNN_name.sql", base)
		}
		b, err := migrations.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{n: n, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	for i, m := range out {
		if m.n != i+1 {
			return nil, fmt.Errorf("pgstore: migration %s: numbers must run 1, 2, 3…", m.name)
		}
	}
	return out, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction with its row in schema_migrations. The caller holds the
// migration lock. A database newer than this binary is refused: an older
// node must not write into a schema it does not know.
func migrate(ctx context.Context, conn *pgx.Conn) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("pgstore: schema_migrations: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("pgstore: schema version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("pgstore: the database is at schema %d, this binary knows %d: run the newer mottagning-server", have, len(ms))
	}
	for _, m := range ms[have:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.n, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("pgstore: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// Version is the database's schema version.
func (s *Store) Version() uint64 {
	var v int
	_ = s.pool.QueryRow(context.Background(), "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return uint64(v)
}
