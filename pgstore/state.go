package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mottagning/app"
)

// The state every node shares (server/state.go): resident sessions,
// per-address limits and the guardian index, in the database.

// PutResidentSession stores a session by the hash of its token; now and
// then it also drops expired sessions.
func (s *Store) PutResidentSession(ctx context.Context, key []byte, resident app.ID, expires time.Time) error {
	if _, err := s.pool.Exec(ctx, "INSERT INTO resident_sessions (key, resident_id, expires) VALUES ($1, $2, $3)",
		key, string(resident), expires.UnixMilli()); err != nil {
		return err
	}
	if rand.IntN(64) == 0 {
		_, err := s.pool.Exec(ctx, "DELETE FROM resident_sessions WHERE expires <= $1", s.clock.Now().UnixMilli())
		return err
	}
	return nil
}

// ResidentSession is the resident of an unexpired session.
func (s *Store) ResidentSession(ctx context.Context, key []byte, now time.Time) (app.ID, bool, error) {
	var id string
	err := s.pool.QueryRow(ctx, "SELECT resident_id FROM resident_sessions WHERE key = $1 AND expires > $2", key, now.UnixMilli()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return app.ID(id), true, nil
}

// DeleteResidentSession ends one session.
func (s *Store) DeleteResidentSession(ctx context.Context, key []byte) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM resident_sessions WHERE key = $1", key)
	return err
}

// DeleteResidentSessions ends every session of a resident (R10).
func (s *Store) DeleteResidentSessions(ctx context.Context, resident app.ID) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM resident_sessions WHERE resident_id = $1", string(resident))
	return err
}

// CountResidentSessions counts the unexpired sessions.
func (s *Store) CountResidentSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM resident_sessions WHERE expires > $1", now.UnixMilli()).Scan(&n)
	return n, err
}

// AllowRate takes one token from the bucket (scope, key), which holds at
// most burst tokens and gains perMinute a minute, in one statement: the
// row lock orders the nodes' takes. It reports whether there was one.
func (s *Store) AllowRate(ctx context.Context, scope, key string, perMinute float64, burst int, now time.Time) (bool, error) {
	perMs := perMinute / 60000
	ms := now.UnixMilli()
	var left float64
	err := s.pool.QueryRow(ctx, `INSERT INTO rate_limits AS r (scope, key, tokens, at) VALUES ($1, $2, $3::float8 - 1, $4::bigint)
		ON CONFLICT (scope, key) DO UPDATE SET
			tokens = least($3::float8, r.tokens + greatest(0, $4::bigint - r.at) * $5::float8) - 1,
			at = greatest(r.at, $4::bigint)
		WHERE least($3::float8, r.tokens + greatest(0, $4::bigint - r.at) * $5::float8) >= 1
		RETURNING tokens`, scope, key, float64(burst), ms, perMs).Scan(&left)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rand.IntN(256) == 0 {
		// Buckets full again hold nothing worth keeping.
		full := int64(float64(burst) / perMs)
		_, _ = s.pool.Exec(ctx, "DELETE FROM rate_limits WHERE at < $1", ms-full)
	}
	return true, nil
}

// ChildrenOf lists the children whose guardian the register names.
func (s *Store) ChildrenOf(ctx context.Context, guardian app.ID) ([]app.ID, error) {
	rows, err := s.read(ctx).Query(ctx, "SELECT child_id FROM guardianships WHERE guardian_id = $1 ORDER BY child_id", string(guardian))
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := make([]app.ID, len(ids))
	for i, id := range ids {
		out[i] = app.ID(id)
	}
	return out, err
}

// SessionResident reads an unexpired session's resident with the session
// in one query (server.SessionResidentStore).
func (s *Store) SessionResident(ctx context.Context, key []byte, now time.Time) (*app.Resident, bool, error) {
	var id string
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT r.id, r.data FROM resident_sessions s JOIN residents r ON r.id = s.resident_id
		WHERE s.key = $1 AND s.expires > $2`, key, now.UnixMilli()).Scan(&id, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var r app.Resident
	if err := s.seal.Open("residents", id, data, &r); err != nil {
		return nil, false, err
	}
	return &r, true, nil
}

// LockKey takes a session advisory lock named by key (a hash of it) on a
// connection of its own, waiting for another node's holder, until unlock
// (server.KeyLocker). A node that dies loses its session and with it the
// lock. The connections come from a small pool of their own, so that
// held locks never starve the store's queries.
func (s *Store) LockKey(ctx context.Context, key string) (func(), error) {
	pool, err := s.lockPool(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	id := int64(h.Sum64())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		conn.Conn().Close(context.Background()) // the lock's state is unknown: drop the session
		conn.Release()
		return nil, fmt.Errorf("lock: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", id); err != nil {
			conn.Conn().Close(context.Background())
		}
		conn.Release()
	}, nil
}

// lockPool is the pool of LockKey's connections (made at first use).
func (s *Store) lockPool(ctx context.Context) (*pgxpool.Pool, error) {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if s.locks != nil {
		return s.locks, nil
	}
	cfg, err := pgxpool.ParseConfig(s.url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 32
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.locks = p
	return p, nil
}
