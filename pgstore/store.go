// Package pgstore is the central server's store on PostgreSQL (pgx v5):
// the same server.Store the embedded bbolt store (package storage) is,
// for deployments where several stateless server nodes share one
// database. Values are sealed as in the bbolt store (storage.Sealer, the
// data key wrapped under the server key); the schema comes from the
// numbered SQL files in migrations/, applied at Open under an advisory
// lock so that nodes starting together migrate once.
package pgstore

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/storage"
)

// Options configure Open.
type Options struct {
	// ServerKey opens the data key (storage.ServerKeySize bytes); the
	// first Open of an empty database makes a data key wrapped under it.
	ServerKey []byte
	// Clock stamps checkpoints and op results (default: system clock).
	Clock app.Clock
	// Logger gets operational messages, never personal data.
	Logger *slog.Logger
	// CheckpointEvery is how many access-log links go between two signed
	// checkpoints (default storage.DefaultCheckpointEvery).
	CheckpointEvery uint64
	// LogRetentionYears is how long access-log entries are kept (default
	// app.DefaultLogRetentionYears; less than app.MinLogRetentionYears is
	// refused).
	LogRetentionYears int
	// MaxConns bounds the connection pool (default 4 per CPU, pgxpool's).
	MaxConns int32
}

// Store is the PostgreSQL store. It is safe for concurrent use, also by
// several processes on one database.
type Store struct {
	pool  *pgxpool.Pool
	url   string
	seal  *storage.Sealer
	clock app.Clock
	log   *slog.Logger
	every uint64
	years int

	pnrKey  []byte
	signKey ed25519.PrivateKey
	pub     ed25519.PublicKey

	demo atomic.Bool
	feed atomic.Bool

	head       atomic.Uint64
	changed    storage.ChangeSignal
	listenOnce sync.Once
	lockMu     sync.Mutex
	locks      *pgxpool.Pool
	closed     chan struct{}
	wg         sync.WaitGroup
}

// ErrNoServerKey: the PostgreSQL store is always sealed.
var ErrNoServerKey = errors.New("pgstore: no server key: the database is sealed under one (--key-file, --key-command or the systemd credential data-key)")

// Open connects to the database at url, brings its schema up to date and
// opens its data key with opt.ServerKey.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	if len(opt.ServerKey) != storage.ServerKeySize {
		return nil, ErrNoServerKey
	}
	if opt.Clock == nil {
		opt.Clock = app.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	switch {
	case opt.LogRetentionYears == 0:
		opt.LogRetentionYears = app.DefaultLogRetentionYears
	case opt.LogRetentionYears < app.MinLogRetentionYears:
		return nil, fmt.Errorf("pgstore: access-log retention of %d years, the law asks for at least %d: %w",
			opt.LogRetentionYears, app.MinLogRetentionYears, app.ErrInvalid)
	}
	if opt.CheckpointEvery == 0 {
		opt.CheckpointEvery = storage.DefaultCheckpointEvery
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may hold a password: say only that it did not parse.
		return nil, fmt.Errorf("pgstore: the database URL does not parse (want postgres://user@host/db?…): %w", app.ErrInvalid)
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{pool: pool, url: url, clock: opt.Clock, log: opt.Logger, every: opt.CheckpointEvery, years: opt.LogRetentionYears, closed: make(chan struct{})}
	if err := s.prepare(ctx, opt.ServerKey); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// prepare migrates and loads the keys, under a session advisory lock:
// nodes starting together run the migrations and make the keys once.
func (s *Store) prepare(ctx context.Context, serverKey []byte) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockMigrate); err != nil {
		return fmt.Errorf("pgstore: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockMigrate)
	if err := migrate(ctx, conn.Conn()); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error { return s.loadKeys(ctx, tx, serverKey) })
}

// Advisory lock keys (one namespace: the first 8 bytes of "mottagng").
const (
	lockMigrate int64 = 0x6d6f7474_61676e01
)

// Meta keys.
const (
	kServerKey = "serverkey"
	kPNRKey    = "pnrkey"
	kLogKey    = "accesslog_key"
	kLogPub    = "accesslog_pub"
	kDemo      = "demo"
	kFeed      = "changefeed"
)

// loadKeys opens the data key (making it, wrapped, in a new database),
// then the personnummer index key and the access-log signing key sealed
// under it.
func (s *Store) loadKeys(ctx context.Context, tx pgx.Tx, serverKey []byte) error {
	meta := map[string][]byte{}
	rows, err := tx.Query(ctx, "SELECT key, value FROM meta")
	if err != nil {
		return err
	}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		meta[k] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var dataKey []byte
	if wrap := meta[kServerKey]; wrap != nil {
		if dataKey, err = storage.UnwrapDataKey(serverKey, wrap); err != nil {
			return fmt.Errorf("pgstore: the server key does not open this database: %w", storage.ErrWrongKey)
		}
	} else {
		if len(meta) > 0 {
			return fmt.Errorf("pgstore: the database has data but no key wrap: %w", storage.ErrDamaged)
		}
		if dataKey, err = storage.NewDataKey(); err != nil {
			return err
		}
		wrap, err := storage.WrapDataKey(serverKey, dataKey)
		if err != nil {
			return err
		}
		if err := putMeta(ctx, tx, kServerKey, wrap); err != nil {
			return err
		}
	}
	defer clear(dataKey)
	if s.seal, err = storage.NewSealer(dataKey); err != nil {
		return err
	}
	if v := meta[kPNRKey]; v != nil {
		if s.pnrKey, err = s.seal.OpenBytes("meta", kPNRKey, v); err != nil {
			return fmt.Errorf("pgstore: personnummer index key: %w", err)
		}
	} else {
		s.pnrKey = make([]byte, 32)
		if _, err := rand.Read(s.pnrKey); err != nil {
			return err
		}
		if err := s.putSealedMeta(ctx, tx, kPNRKey, s.pnrKey); err != nil {
			return err
		}
	}
	if v := meta[kLogKey]; v != nil {
		seed, err := s.seal.OpenBytes("meta", kLogKey, v)
		if err != nil || len(seed) != ed25519.SeedSize {
			return fmt.Errorf("pgstore: access-log key: %w", storage.ErrCorruptValue)
		}
		s.signKey = ed25519.NewKeyFromSeed(seed)
		s.pub = s.signKey.Public().(ed25519.PublicKey)
	} else {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		if err := s.putSealedMeta(ctx, tx, kLogKey, priv.Seed()); err != nil {
			return err
		}
		if err := putMeta(ctx, tx, kLogPub, pub); err != nil {
			return err
		}
		s.signKey, s.pub = priv, pub
	}
	s.demo.Store(meta[kDemo] != nil)
	s.feed.Store(meta[kFeed] != nil)
	return nil
}

func putMeta(ctx context.Context, q querier, k string, v []byte) error {
	_, err := q.Exec(ctx, "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", k, v)
	return err
}

func (s *Store) putSealedMeta(ctx context.Context, q querier, k string, v []byte) error {
	sealed, err := s.seal.SealBytes("meta", k, v)
	if err != nil {
		return err
	}
	return putMeta(ctx, q, k, sealed)
}

// Close stops the store's listener and closes the pool.
func (s *Store) Close() error {
	select {
	case <-s.closed:
		return nil
	default:
	}
	close(s.closed)
	s.wg.Wait()
	s.lockMu.Lock()
	if s.locks != nil {
		s.locks.Close()
	}
	s.lockMu.Unlock()
	s.pool.Close()
	return nil
}

// URL is the database's URL as given to Open (it may hold a password:
// never log it).
func (s *Store) URL() string { return s.url }

// Pool is the connection pool (the server's tables of its own: sessions,
// limits, staff accounts).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// MarkDemo marks the database as demo data.
func (s *Store) MarkDemo(ctx context.Context) error {
	err := s.write(ctx, "mark demo", func(tx *wtx) error { return putMeta(ctx, tx, kDemo, []byte{1}) })
	if err == nil {
		s.demo.Store(true)
	}
	return err
}

// IsDemo reports whether the database holds demo data (read again each
// time: another node may have seeded it since this one opened it).
func (s *Store) IsDemo() bool {
	if s.demo.Load() {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var demo bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM meta WHERE key = $1)", kDemo).Scan(&demo); err == nil && demo {
		s.demo.Store(true)
	}
	return s.demo.Load()
}

// IsEmpty reports whether the database holds no clinic yet (a new one).
func (s *Store) IsEmpty(ctx context.Context) (bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM clinics LIMIT 1) x").Scan(&n)
	return n == 0, err
}

// AccessLogPublicKey verifies the access log's checkpoints.
func (s *Store) AccessLogPublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), s.pub...)
}

// pnrHash is the keyed hash the personnummer index holds (as storage's).
func (s *Store) pnrHash(n personnummer.Number) []byte {
	m := hmac.New(sha256.New, s.pnrKey)
	m.Write([]byte(n.String()))
	return m.Sum(nil)[:16]
}

// --- transactions ---

// querier is what a pool, a connection and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// wtx is a write transaction (or a savepoint inside a batch) with what
// it collects to do at its end: the feed entries, appended just before
// the commit (appendFeed).
type wtx struct {
	pgx.Tx
	st *txState
}

type txState struct {
	feed []feedItem
}

type feedItem struct {
	kind       string
	clinic, id app.ID
}

type batchKey struct{}

// batch is one transaction several store calls share (Batch).
type batch struct {
	s      *Store
	tx     *wtx
	failed bool
}

func (s *Store) batchOf(ctx context.Context) *batch {
	if b, ok := ctx.Value(batchKey{}).(*batch); ok && b.s == s {
		return b
	}
	return nil
}

// Batch runs fn with a context in which every call of this store shares
// one transaction, committed when fn returns nil. A call refused for its
// input (invalid, conflict, not found, or its fn's error) is rolled back
// to a savepoint and the batch goes on; any other error fails the batch:
// nothing of it is written and Batch returns storage.ErrBatchFailed.
func (s *Store) Batch(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.batchOf(ctx) != nil {
		return fn(ctx)
	}
	return s.inTx(ctx, "batch", func(tx *wtx) error {
		b := &batch{s: s, tx: tx}
		if err := fn(context.WithValue(ctx, batchKey{}, b)); err != nil {
			return err
		}
		if b.failed {
			return storage.ErrBatchFailed
		}
		return nil
	})
}

// clean marks an error as a refusal before anything was written (the
// caller's fn refused): in a batch, only that call is undone.
type cleanError struct{ error }

func (c cleanError) Unwrap() error { return c.error }

func clean(err error) error {
	if err == nil {
		return nil
	}
	return cleanError{err}
}

func isClean(err error) bool {
	var c cleanError
	return errors.As(err, &c) || errors.Is(err, app.ErrInvalid) || errors.Is(err, app.ErrConflict) ||
		errors.Is(err, app.ErrNotFound) || errors.Is(err, app.ErrAttachmentTaken)
}

func unclean(err error) error {
	if c, ok := err.(cleanError); ok {
		return c.error
	}
	return err
}

// write runs fn in a write transaction, or inside ctx's batch (behind a
// savepoint).
func (s *Store) write(ctx context.Context, op string, fn func(tx *wtx) error) error {
	if b := s.batchOf(ctx); b != nil {
		if b.failed {
			return storage.ErrBatchFailed
		}
		sp, err := b.tx.Begin(ctx)
		if err != nil {
			b.failed = true
			return fmt.Errorf("%s: %w", op, err)
		}
		mark := len(b.tx.st.feed)
		if err := fn(&wtx{Tx: sp, st: b.tx.st}); err != nil {
			if rerr := sp.Rollback(ctx); rerr != nil || !isClean(err) {
				b.failed = true
				return fmt.Errorf("%s: %w", op, unclean(err))
			}
			b.tx.st.feed = b.tx.st.feed[:mark]
			return unclean(err)
		}
		if err := sp.Commit(ctx); err != nil {
			b.failed = true
			return fmt.Errorf("%s: %w", op, err)
		}
		return nil
	}
	return s.inTx(ctx, op, fn)
}

// inTx runs fn in a new transaction and commits it with the feed entries
// it collected. A serialization failure or deadlock is retried.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *wtx) error) error {
	for attempt := 0; ; attempt++ {
		var head uint64
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			w := &wtx{Tx: tx, st: &txState{}}
			if err := fn(w); err != nil {
				return err
			}
			var err error
			head, err = s.appendFeed(ctx, w, w.st.feed)
			return err
		})
		if err == nil {
			if head > 0 {
				s.advance(head)
			}
			return nil
		}
		if retryable(err) && attempt < 5 {
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
			continue
		}
		if isClean(err) {
			return unclean(err)
		}
		if errors.Is(err, storage.ErrBatchFailed) {
			return err
		}
		return fmt.Errorf("%s: %w", op, err)
	}
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// read runs fn on ctx's batch transaction, or on the pool.
func (s *Store) read(ctx context.Context) querier {
	if b := s.batchOf(ctx); b != nil {
		return b.tx
	}
	return s.pool
}

// --- sealed rows ---

// get reads the sealed data of one row by key into v, or app.ErrNotFound.
func (s *Store) get(ctx context.Context, q querier, table, keyCol, key string, v any) error {
	var data []byte
	err := q.QueryRow(ctx, "SELECT data FROM "+table+" WHERE "+keyCol+" = $1", key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", table, key, app.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return s.seal.Open(table, key, data, v)
}

// getForUpdate is get with the row locked until the transaction ends.
func (s *Store) getForUpdate(ctx context.Context, tx *wtx, table, keyCol, key string, v any) error {
	var data []byte
	err := tx.QueryRow(ctx, "SELECT data FROM "+table+" WHERE "+keyCol+" = $1 FOR UPDATE", key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", table, key, app.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return s.seal.Open(table, key, data, v)
}

// all reads every row of table matching where (args), opening each.
func all[T any](ctx context.Context, s *Store, table, keyCol, where string, args ...any) ([]T, error) {
	sql := "SELECT " + keyCol + ", data FROM " + table
	if where != "" {
		sql += " WHERE " + where
	}
	rows, err := s.read(ctx).Query(ctx, sql+" ORDER BY "+keyCol, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var k string
		var data []byte
		if err := rows.Scan(&k, &data); err != nil {
			return nil, err
		}
		var x T
		if err := s.seal.Open(table, k, data, &x); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Sealed reports, without opening it, whether the database at url holds a
// data key already (its server key must then be the one it was sealed
// with); false for a new, empty database.
func Sealed(ctx context.Context, url string) (bool, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return false, fmt.Errorf("pgstore: the database URL does not parse (want postgres://user@host/db?…): %w", app.ErrInvalid)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("pgstore: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('meta') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return false, err
	}
	var sealed bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM meta WHERE key = $1)", kServerKey).Scan(&sealed)
	return sealed, err
}

// lockSeed serialises the demo seeding of nodes started together.
const lockSeed int64 = 0x6d6f7474_61676e02

// Seeding runs fn (which seeds an empty database) under a session
// advisory lock: of several nodes started together on an empty database,
// one seeds and the others find it seeded.
func (s *Store) Seeding(ctx context.Context, fn func() error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockSeed); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockSeed)
	return fn()
}
