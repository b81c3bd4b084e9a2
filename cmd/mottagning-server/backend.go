package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"mottagning/app"
	"mottagning/pgstore"
	"mottagning/server"
	"mottagning/server/staffauth"
	"mottagning/storage"
)

// backend is where the server keeps its data: the embedded bbolt store in
// --data (one node, the default), or PostgreSQL (--db postgres://…),
// which several nodes share.
type backend struct {
	store server.Store
	// empty reports whether the store holds no data yet (demo seeding).
	empty func(ctx context.Context) (bool, error)
	// seeding runs the demo seed, alone among the nodes.
	seeding   func(ctx context.Context, fn func() error) error
	serverKey []byte
	sealed    bool
	// keyMsg says how the data is sealed, for the log.
	keyMsg string
	// note is a line about a migration of the bbolt file, or "".
	note string
	// newAuth opens the staff accounts beside the store.
	newAuth func(opts staffauth.Options) (*staffauth.Service, error)
	close   func()
}

// openBackend opens the store cfg names and unlocks it with the server key.
func openBackend(ctx context.Context, cfg config, clock app.Clock, log *slog.Logger) (*backend, error) {
	src := keySource{File: cfg.KeyFile, Command: cfg.KeyCommand}
	if cfg.DB != "" {
		return openPostgres(ctx, cfg, src, clock, log)
	}
	store, err := storage.Open(ctx, cfg.DataDir, storage.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	serverKey, msg, err := openSealed(ctx, store, src, cfg.DataDir, cfg.demo)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("open database: server key: %w", err)
	}
	b := &backend{store: store, serverKey: serverKey, sealed: store.Encrypted(), keyMsg: msg,
		empty:   func(context.Context) (bool, error) { return store.IsEmpty(), nil },
		seeding: func(_ context.Context, fn func() error) error { return fn() },
		newAuth: func(opts staffauth.Options) (*staffauth.Service, error) {
			return staffauth.Open(filepath.Join(cfg.DataDir, authFile), clock, opts)
		},
		close: func() { store.Close() }}
	if store.Backup != "" {
		b.note = "database migrated; the old version was copied to " + filepath.Base(store.Backup)
	}
	return b, nil
}

// openPostgres opens the PostgreSQL store, which is always sealed: a
// server key is required, and a key file is made only for a database
// that holds no data key yet.
func openPostgres(ctx context.Context, cfg config, src keySource, clock app.Clock, log *slog.Logger) (*backend, error) {
	src = src.resolve()
	if !src.configured() {
		return nil, fmt.Errorf("--db: %w", errNoKey)
	}
	sealed, err := pgstore.Sealed(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	key, made, err := src.load(ctx, cfg.DataDir, !sealed)
	if err != nil {
		return nil, fmt.Errorf("open database: server key: %w", err)
	}
	st, err := pgstore.Open(ctx, cfg.DB, pgstore.Options{ServerKey: key, Clock: clock, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	msg := "PostgreSQL database sealed with the " + src.String()
	if made {
		msg = "new server key written to " + src.File + ": back it up apart from the database, and give every node the same key; " + msg
	}
	return &backend{store: st, serverKey: key, sealed: true, keyMsg: msg,
		empty:   st.IsEmpty,
		seeding: st.Seeding,
		newAuth: func(opts staffauth.Options) (*staffauth.Service, error) {
			opts.Failures = st.FailureLimit(opts.SourcePerMinute, opts.SourceBurst)
			return staffauth.New(st.AuthKV(), clock, opts)
		},
		close: func() { st.Close() }}, nil
}
