package staffauth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// KV is where the staff accounts, devices and sessions live: named
// buckets of keys and JSON values, read and written in transactions
// that see one consistent state (an Update runs as if alone). OpenFile
// keeps them in the bbolt file auth.db in the data directory; the
// PostgreSQL store (pgstore.AuthKV) keeps them in the shared database,
// so that a token one node issued is accepted by every other.
type KV interface {
	View(fn func(tx Tx) error) error
	Update(fn func(tx Tx) error) error
	// Shared reports whether other processes write to it too: then the
	// service caches nothing it reads.
	Shared() bool
	Close() error
}

// Tx is one transaction of a KV.
type Tx interface {
	// Bucket is a bucket the schema made (CreateBucketIfNotExists).
	Bucket(name []byte) Bucket
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// ClearBucket deletes every key of a bucket.
	ClearBucket(name []byte) error
	// OnCommit runs fn after the transaction commits.
	OnCommit(fn func())
}

// Bucket is a bucket of a transaction; Get returns nil for a missing key.
// What it returns is valid until the transaction ends.
type Bucket interface {
	Get(k []byte) []byte
	Put(k, v []byte) error
	Delete(k []byte) error
	ForEach(fn func(k, v []byte) error) error
	Cursor() Cursor
}

// Cursor walks a bucket in key order (bytewise); nil keys at the end.
type Cursor interface {
	First() (k, v []byte)
	Seek(seek []byte) (k, v []byte)
	Next() (k, v []byte)
}

// boltKV is auth.db.
type boltKV struct{ db *bolt.DB }

// OpenFile opens (creating when missing) the bbolt file at path, mode
// 0600, waiting at most a second for its lock: a second server on the
// same data directory gets ErrAlreadyRunning.
func OpenFile(path string) (KV, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open auth database: make directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w", path, ErrAlreadyRunning)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return boltKV{db}, nil
}

func (k boltKV) View(fn func(tx Tx) error) error {
	return k.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (k boltKV) Update(fn func(tx Tx) error) error {
	return k.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (k boltKV) Shared() bool { return false }
func (k boltKV) Close() error { return k.db.Close() }

// WriteTo writes a consistent copy of the file (Backup).
func (k boltKV) WriteTo(w io.Writer) (n int64, err error) {
	err = k.db.View(func(tx *bolt.Tx) error { n, err = tx.WriteTo(w); return err })
	return n, err
}

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Bucket(name []byte) Bucket {
	b := t.tx.Bucket(name)
	if b == nil {
		return nil
	}
	return boltBucket{b}
}

func (t boltTx) CreateBucketIfNotExists(name []byte) (Bucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return boltBucket{b}, nil
}

func (t boltTx) OnCommit(fn func()) { t.tx.OnCommit(fn) }

func (t boltTx) ClearBucket(name []byte) error {
	if err := t.tx.DeleteBucket(name); err != nil {
		return err
	}
	_, err := t.tx.CreateBucket(name)
	return err
}

type boltBucket struct{ *bolt.Bucket }

func (b boltBucket) Cursor() Cursor { return b.Bucket.Cursor() }

// CopyFile copies every bucket of the auth.db at path into dst, which
// must be empty (mottagning-server migrate): accounts, devices,
// sessions and the token and index keys, so that tokens issued before
// the move stay valid after it.
func CopyFile(path string, dst KV) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return fmt.Errorf("open %s: %w", path, ErrAlreadyRunning)
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	return db.View(func(src *bolt.Tx) error {
		return dst.Update(func(tx Tx) error {
			if tx.Bucket(bMeta).Get(kVersion) != nil {
				return fmt.Errorf("copy staff accounts: the destination holds accounts already")
			}
			return src.ForEach(func(name []byte, b *bolt.Bucket) error {
				out, err := tx.CreateBucketIfNotExists(name)
				if err != nil {
					return err
				}
				return b.ForEach(func(k, v []byte) error {
					if v == nil {
						return nil // a nested bucket: auth.db has none
					}
					return out.Put(k, v)
				})
			})
		})
	})
}
