package pgstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"mottagning/server/staffauth"
)

// AuthKV is the staff accounts' KV (staffauth.KV) in this database:
// table auth_kv, each value sealed under its bucket and key. Updates run
// serializable (retried on a conflict), as bbolt's one writer at a time
// would; Shared is true, so that the service caches nothing another node
// may change.
func (s *Store) AuthKV() staffauth.KV { return authKV{s} }

type authKV struct{ s *Store }

// authTimeout bounds one transaction of the staff accounts.
const authTimeout = 30 * time.Second

func (k authKV) View(fn func(tx staffauth.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
	defer cancel()
	return pgx.BeginTxFunc(ctx, k.s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		t := &authTx{ctx: ctx, s: k.s, tx: tx}
		if err := fn(t); err != nil {
			return err
		}
		return t.err
	})
}

func (k authKV) Update(fn func(tx staffauth.Tx) error) error {
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
		var after []func()
		err := pgx.BeginTxFunc(ctx, k.s.pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
			t := &authTx{ctx: ctx, s: k.s, tx: tx}
			if err := fn(t); err != nil {
				return err
			}
			after = t.onCommit
			return t.err
		})
		cancel()
		if retryable(err) && attempt < 10 {
			time.Sleep(time.Duration(attempt+1) * 3 * time.Millisecond)
			continue
		}
		if err == nil {
			for _, f := range after {
				f()
			}
		}
		return err
	}
}

func (k authKV) Shared() bool { return true }

// Close does nothing: the store's pool is the store's.
func (k authKV) Close() error { return nil }

// authTx is one transaction; the first database error sticks and fails it.
type authTx struct {
	ctx      context.Context
	s        *Store
	tx       pgx.Tx
	err      error
	onCommit []func()
}

func (t *authTx) fail(err error) {
	if t.err == nil && err != nil {
		t.err = err
	}
}

func (t *authTx) Bucket(name []byte) staffauth.Bucket { return &authBucket{t: t, name: string(name)} }

func (t *authTx) CreateBucketIfNotExists(name []byte) (staffauth.Bucket, error) {
	return t.Bucket(name), nil
}

func (t *authTx) ClearBucket(name []byte) error {
	_, err := t.tx.Exec(t.ctx, "DELETE FROM auth_kv WHERE bucket = $1", string(name))
	return err
}

func (t *authTx) OnCommit(fn func()) { t.onCommit = append(t.onCommit, fn) }

type authBucket struct {
	t    *authTx
	name string
}

// place is the sealing place of a key: the bucket and the key in hex.
func (b *authBucket) place(k []byte) string { return b.name + "\x00" + hex.EncodeToString(k) }

func (b *authBucket) open(k, v []byte) []byte {
	p, err := b.t.s.seal.OpenBytes("auth_kv", b.place(k), v)
	if err != nil {
		b.t.fail(err)
		return nil
	}
	return p
}

func (b *authBucket) Get(k []byte) []byte {
	var v []byte
	err := b.t.tx.QueryRow(b.t.ctx, "SELECT value FROM auth_kv WHERE bucket = $1 AND key = $2", b.name, k).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		b.t.fail(err)
		return nil
	}
	return b.open(k, v)
}

func (b *authBucket) Put(k, v []byte) error {
	sealed, err := b.t.s.seal.SealBytes("auth_kv", b.place(k), v)
	if err != nil {
		return err
	}
	_, err = b.t.tx.Exec(b.t.ctx, `INSERT INTO auth_kv (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value`, b.name, k, sealed)
	b.t.fail(err)
	return err
}

func (b *authBucket) Delete(k []byte) error {
	_, err := b.t.tx.Exec(b.t.ctx, "DELETE FROM auth_kv WHERE bucket = $1 AND key = $2", b.name, k)
	b.t.fail(err)
	return err
}

type kvPair struct{ k, v []byte }

// all reads the bucket's pairs with keys from from on, in key order.
func (b *authBucket) all(from []byte) []kvPair {
	rows, err := b.t.tx.Query(b.t.ctx, "SELECT key, value FROM auth_kv WHERE bucket = $1 AND key >= $2 ORDER BY key", b.name, from)
	if err != nil {
		b.t.fail(err)
		return nil
	}
	defer rows.Close()
	var out []kvPair
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			b.t.fail(err)
			return nil
		}
		out = append(out, kvPair{k, b.open(k, v)})
	}
	b.t.fail(rows.Err())
	// bytea compares bytewise, as bbolt does; sort anyway for safety.
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].k, out[j].k) < 0 })
	return out
}

func (b *authBucket) ForEach(fn func(k, v []byte) error) error {
	for _, p := range b.all(nil) {
		if err := fn(p.k, p.v); err != nil {
			return err
		}
	}
	return b.t.err
}

func (b *authBucket) Cursor() staffauth.Cursor { return &authCursor{b: b} }

// authCursor reads the bucket from its seek position on at the first
// move (staff buckets are small: accounts, devices, checkpoints of one
// device).
type authCursor struct {
	b     *authBucket
	pairs []kvPair
	i     int
}

func (c *authCursor) at() ([]byte, []byte) {
	if c.i >= len(c.pairs) {
		return nil, nil
	}
	return c.pairs[c.i].k, c.pairs[c.i].v
}

func (c *authCursor) First() ([]byte, []byte) { return c.Seek(nil) }

func (c *authCursor) Seek(seek []byte) ([]byte, []byte) {
	if seek == nil {
		seek = []byte{}
	}
	c.pairs, c.i = c.b.all(seek), 0
	return c.at()
}

func (c *authCursor) Next() ([]byte, []byte) {
	c.i++
	return c.at()
}

// FailureLimit counts failed staff sign-ins per address in the shared
// table of limits (staffauth.FailureLimit): the failures at every node
// count together.
func (s *Store) FailureLimit(perMinute float64, burst int) staffauth.FailureLimit {
	return &failureLimit{s: s, perMinute: perMinute, burst: burst}
}

type failureLimit struct {
	s         *Store
	perMinute float64
	burst     int
}

const failureScope = "staff_signin_failures"

func (f *failureLimit) Blocked(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var tokens float64
	var at int64
	err := f.s.pool.QueryRow(ctx, "SELECT tokens, at FROM rate_limits WHERE scope = $1 AND key = $2", failureScope, key).Scan(&tokens, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return false
	}
	if err != nil {
		f.s.log.Warn("sign-in limit: the database did not answer; refused", "err", err)
		return true
	}
	now := f.s.clock.Now().UnixMilli()
	return min(float64(f.burst), tokens+float64(max(0, now-at))*f.perMinute/60000) < 1
}

func (f *failureLimit) Take(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := f.s.AllowRate(ctx, failureScope, key, f.perMinute, f.burst, f.s.clock.Now()); err != nil {
		f.s.log.Warn("sign-in limit: a failure was not counted", "err", err)
	}
}
