package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"mottagning/app"
	"mottagning/pgstore"
	"mottagning/server/staffauth"
	"mottagning/storage"
)

// migrate moves a stopped bbolt server's data into an empty PostgreSQL
// database: every record, the case versions, the change feed at its
// positions (desktops keep their cursors), the access-log chain with its
// signing key (its checkpoints still verify), the op memory, and the
// staff accounts with their token key (desktops stay signed in). The
// database is sealed under the same server key. The bbolt files are left
// as they were: start the server with --db afterwards, and keep them
// until the PostgreSQL database has its own backups.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir, to string
	var key keySource
	fs := flagSet("migrate", stderr, &dir)
	key.flags(fs)
	fs.StringVar(&to, "to", "", "PostgreSQL `URL` of an empty database (postgres://…; or $MOTTAGNING_DB)")
	if err := parseSub(fs, args, stderr, 0, "data"); err != nil {
		return err
	}
	if to == "" {
		to = envDB()
	}
	if to == "" {
		fmt.Fprintln(stderr, "usage: mottagning-server migrate --data DIR --to postgres://… [--key-file FILE | --key-command CMD]")
		return fmt.Errorf("%w: --to is required", errUsage)
	}
	store, err := storage.Open(ctx, dir, storage.Options{Timeout: time.Second})
	if errors.Is(err, storage.ErrAlreadyRunning) {
		return fmt.Errorf("migrate: %w; stop it first", errRunning)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer store.Close()
	serverKey, _, err := openSealed(ctx, store, key, dir, store.IsDemo())
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if serverKey == nil {
		return fmt.Errorf("migrate: a PostgreSQL database is always sealed: give the server key (--key-file or --key-command)")
	}
	if err := store.SetChangeFeed(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	pg, err := pgstore.Open(ctx, to, pgstore.Options{ServerKey: serverKey, Clock: app.SystemClock{}})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer pg.Close()
	if err := pg.ReadyForImport(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	if err := store.ExportServer(ctx, pg); err != nil {
		return fmt.Errorf("migrate: %w (the PostgreSQL database is half written: drop it and create it anew before trying again)", err)
	}
	if err := staffauth.CopyFile(filepath.Join(dir, authFile), pg.AuthKV()); err != nil {
		return fmt.Errorf("migrate: staff accounts: %w", err)
	}
	// Check: the same number of residents and cases, and a chain that verifies.
	rs, _, err := pg.ReadableResidents(ctx)
	if err != nil {
		return fmt.Errorf("migrate: check: %w", err)
	}
	rep, err := pg.VerifyAccessLog(ctx)
	if err != nil {
		return fmt.Errorf("migrate: check access log: %w", err)
	}
	if !rep.OK() {
		return fmt.Errorf("migrate: the access log does not verify after the move: %s", rep.Break.String())
	}
	fmt.Fprintf(stdout, "migrated to PostgreSQL in %v: %d residents, access log of %d entries verified; start the server with --db and the same key, and keep the data directory until the database has its own backups\n",
		time.Since(t0).Round(time.Millisecond), len(rs), rep.Entries)
	return nil
}
