// Package storage keeps Mottagning's data in a bbolt file and implements
// the store ports of package app. The schema (schema.go) is versioned with
// an ordered list of migrations; a database newer than the binary is
// refused, and the file is copied before it is migrated.
package storage

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	stdsync "sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// FileName is the database file inside the data directory.
const FileName = "mottagning.db"

// Errors Open and writes return. Each names the problem; the UI adds what to do.
var (
	// ErrAlreadyRunning: another Mottagning holds the database open.
	ErrAlreadyRunning = errors.New("the database is already open in another Mottagning")
	// ErrTooNew: the database was written by a newer version of Mottagning.
	ErrTooNew = errors.New("the database was written by a newer version of Mottagning")
	// ErrUnreadable: the file is not a Mottagning database or is damaged.
	ErrUnreadable = errors.New("the database file cannot be read")
	// ErrDamaged: a page of the file is damaged (a read ran into it); the
	// records on it cannot be read. Restore the file from a backup, and
	// see what else is hit with `bbolt check FILE` (go.etcd.io/bbolt/cmd/bbolt).
	ErrDamaged = errors.New("the database file is damaged")
	// ErrDiskFull: a write failed because the disk is full; nothing was changed.
	ErrDiskFull = errors.New("the disk is full")
)

// Options tune Open.
type Options struct {
	// Timeout is how long Open waits for the file lock before reporting
	// ErrAlreadyRunning (default 1 s).
	Timeout time.Duration
	// Codec seals values (default: plaintext).
	Codec Codec
	// NoSync skips fsync on commit. Only for benchmarks of CPU cost and
	// generators of throw-away data; never for user data.
	NoSync bool
	// Encrypt seals the database (crypt.go): a plain database is
	// rewritten encrypted at the first Unlock. An encrypted database is
	// opened locked whatever this says.
	Encrypt bool
	// KeyParams is the argon2id cost of deriving a staff member's
	// key-wrapping key from the password (default app.DefaultPasswordParams).
	KeyParams app.PasswordParams
	// Clock dates checkpoints and judges retention (default: system clock).
	Clock app.Clock
	// LogRetentionYears is how long access-log entries are kept (default
	// and minimum app.MinLogRetentionYears; less is refused with ErrInvalid).
	LogRetentionYears int
	// CheckpointEvery is how many access-log entries lie between two
	// signed checkpoints (default DefaultCheckpointEvery).
	CheckpointEvery int
	// migrateTo stops migrations at a version (tests that build old files).
	migrateTo uint64
}

// Store is the bbolt implementation of app.Store.
type Store struct {
	// mu is held for reading by every transaction and for writing while
	// the store changes keys or replaces its file (Unlock, Lock, Close):
	// db, codec, pnrKey and signKey change only under it.
	mu    stdsync.RWMutex
	db    *bolt.DB
	codec Codec
	// pnrKey keys the personnummer index; signKey signs access-log
	// checkpoints. Both are nil while an encrypted database is locked.
	pnrKey  []byte
	signKey ed25519.PrivateKey
	path    string
	opt     Options
	// encrypted: the file is sealed (meta/cipher); dataKey is its key
	// while unlocked.
	encrypted bool
	dataKey   []byte

	clock           app.Clock
	checkpointEvery uint64
	retentionYears  int
	// logMu keeps PruneAccessLog and VerifyAccessLog apart: a
	// verification must not see a prune half way through its batches.
	logMu stdsync.Mutex
	// changed wakes WaitChange when the change feed grows (server).
	changed ChangeSignal
	// onQueued is called after a commit that queued sync ops (desktop).
	onQueued func()
	// idx collects the case index keys of a first sync (syncreplica.go),
	// under idxMu; idxDirty: a local case write came in meanwhile.
	idxMu    stdsync.Mutex
	idx      *deferredIdx
	idxDirty atomic.Bool
	// role is the database's Role, read once at Open and changed only
	// by Connect and SetChangeFeed (after their commit).
	role atomic.Int32

	// quarantine are the cases found damaged at open (quarantineScan):
	// they read as ErrCorruptValue instead of incomplete.
	quarantine map[app.ID]bool

	// Backup is the copy made before the last migration ("" when none).
	Backup string
}

// Open opens (creating when missing) the database in dir, migrating an
// older schema after copying the file to <file>.v<old>-<time>.bak.
func Open(ctx context.Context, dir string, opt Options) (*Store, error) {
	if opt.Timeout == 0 {
		opt.Timeout = time.Second
	}
	if opt.Codec == nil {
		opt.Codec = plainCodec{}
	}
	if opt.migrateTo == 0 {
		opt.migrateTo = SchemaVersion
	}
	if opt.Clock == nil {
		opt.Clock = app.SystemClock{}
	}
	if opt.KeyParams == (app.PasswordParams{}) {
		opt.KeyParams = app.DefaultPasswordParams
	}
	switch {
	case opt.LogRetentionYears == 0:
		opt.LogRetentionYears = app.DefaultLogRetentionYears
	case opt.LogRetentionYears < app.MinLogRetentionYears:
		return nil, fmt.Errorf("open database: access-log retention %d years, the law requires at least %d: %w",
			opt.LogRetentionYears, app.MinLogRetentionYears, app.ErrInvalid)
	}
	if opt.CheckpointEvery <= 0 {
		opt.CheckpointEvery = DefaultCheckpointEvery
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open database: make directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := checkLength(path, opt.Timeout); err != nil {
		return nil, err
	}
	db, err := openBolt(path, opt)
	if err != nil {
		return nil, openError(path, err)
	}
	s := &Store{db: db, codec: opt.Codec, path: path, opt: opt, clock: opt.Clock,
		checkpointEvery: uint64(opt.CheckpointEvery), retentionYears: opt.LogRetentionYears}
	if err := s.prepare(opt.migrateTo); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// checkLength refuses an existing file that cannot be a whole database,
// before bbolt opens it for writing. It also checks every page once
// (checkFilePages): opened for writing, bbolt rebuilds its free list by
// checking every page on a goroutine of its own, where a damaged page is
// a panic nobody can recover; read here, it is ErrDamaged.
//
// An empty file: bbolt would turn it into a new database. Where a database
// should be, it is a lost one (a failed copy or restore), not a first
// start: say so rather than show an empty inbox. (A crash in the
// milliseconds between bbolt creating a new file and writing its first
// pages leaves one too; deleting the file fixes that.)
//
// A truncated file keeps valid meta pages, and bbolt maps the missing
// pages as if they were there: a read-write bolt.Open reads the freelist
// from them and panics, or the process dies of SIGBUS. A read-only open
// reads only the meta pages, which say how long the file must be.
func checkLength(path string, timeout time.Duration) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a new database
	}
	if err != nil {
		return openError(path, err)
	}
	if fi.Size() == 0 {
		return fmt.Errorf("open %s: empty file: %w", path, ErrUnreadable)
	}
	var need int64
	err = guard(path, func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error {
			need = tx.Size()
			if fi.Size() < need {
				return nil // reported below; walking would fault
			}
			// Every element of every page is checked to lie within its
			// page, so later reads cannot run past the mapped file.
			if err := checkFilePages(path, db.Info().PageSize); err != nil {
				return fmt.Errorf("%s: %w: %w: restore it from the latest backup, and list the damaged pages with `bbolt check %s`", path, ErrDamaged, err, path)
			}
			return nil
		})
	})
	if err != nil {
		return openError(path, err)
	}
	if fi.Size() < need {
		return fmt.Errorf("open %s: file is %d bytes, its pages need %d (truncated): %w", path, fi.Size(), need, ErrUnreadable)
	}
	return nil
}

func openBolt(path string, opt Options) (db *bolt.DB, err error) {
	err = guard(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.Timeout, NoSync: opt.NoSync, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
		return err
	})
	return db, err
}

func openError(path string, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("open %s: %w", path, ErrAlreadyRunning)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch),
		errors.Is(err, bolterrors.ErrChecksum):
		return fmt.Errorf("open %s: %w: %w", path, ErrUnreadable, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("open %s: %w", path, err)
	case isDiskFull(err):
		return fmt.Errorf("open %s: %w", path, ErrDiskFull)
	}
	// bbolt reports a file too short to hold its meta pages with a plain
	// error; anything else at open time means the file is not usable.
	return fmt.Errorf("open %s: %w: %w", path, ErrUnreadable, err)
}

func isDiskFull(err error) bool { return errors.Is(err, syscall.ENOSPC) }

// writeError maps a failed write transaction to the error kind callers test.
func writeError(op string, err error) error {
	if err == nil {
		return nil
	}
	if isDiskFull(err) {
		return fmt.Errorf("%s: %w", op, ErrDiskFull)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// prepare reads the version and role and migrates; a damaged page is
// reported (guard), not a panic.
func (s *Store) prepare(to uint64) error {
	return guard(s.path, func() error { return s.prepareFile(to) })
}

func (s *Store) prepareFile(to uint64) error {
	var version uint64
	var hasData bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		version = readVersion(tx)
		// Any bucket means someone wrote here: a bbolt file of another
		// program has buckets but no meta, and must not be "migrated".
		hasData = tx.ForEach(func([]byte, *bolt.Bucket) error { return errStop }) != nil
		if meta := tx.Bucket(bMeta); meta != nil && meta.Get(kCipher) != nil {
			// Sealed: nothing but the directory is readable until Unlock.
			// (Migrations after v7 that read sealed values must therefore
			// run at Unlock, not here.)
			s.encrypted, s.codec = true, lockedCodec{}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("open %s: %w: %w", s.path, ErrUnreadable, err)
	}
	if hasData && version == 0 {
		return fmt.Errorf("open %s: no schema version: %w", s.path, ErrUnreadable)
	}
	if version > SchemaVersion+1000 {
		// No release will number its schema like this: the value is damaged.
		return fmt.Errorf("open %s: schema version %d: %w: restore it from the latest backup", s.path, version, ErrDamaged)
	}
	if version > SchemaVersion {
		return fmt.Errorf("open %s: schema version %d, this program knows up to %d: %w", s.path, version, SchemaVersion, ErrTooNew)
	}
	if version < to {
		if hasData {
			// Copy before migrating, from a read transaction: a consistent
			// snapshot while we keep the lock.
			s.Backup = fmt.Sprintf("%s.v%d-%s.bak", s.path, version, time.Now().UTC().Format("20060102T150405Z"))
			if err := s.db.View(func(*bolt.Tx) error { return copyFileSynced(s.path, s.Backup) }); err != nil {
				return writeError(fmt.Sprintf("copy %s before migrating", s.path), err)
			}
		}
		if err := s.db.Update(func(tx *bolt.Tx) error { return migrate(tx, s.codec, version, to) }); err != nil {
			return writeError(fmt.Sprintf("migrate %s from version %d", s.path, version), err)
		}
	}
	return s.db.View(func(tx *bolt.Tx) error {
		if to == SchemaVersion {
			if err := checkBuckets(tx); err != nil {
				return fmt.Errorf("%s: %w: %w: restore it from the latest backup", s.path, ErrDamaged, err)
			}
			s.quarantine = quarantineScan(tx)
		}
		s.role.Store(int32(readRole(tx)))
		return s.loadKeys(tx)
	})
}

// errStop ends a bbolt ForEach early.
var errStop = errors.New("stop")

// copyFileSynced copies the file at src to dst byte for byte and
// makes it durable before the migration's commit can overwrite anything.
// Byte for byte (rather than bbolt's Tx.CopyFile, which rewrites the meta
// pages and does not fsync): we hold the lock and have written nothing, so
// the file is exactly what the older version left, and the copy is what
// that version opens again.
func copyFileSynced(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}

// Close closes the database file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetKeys()
	return s.db.Close()
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Version is the schema version of the open database.
func (s *Store) Version() (v uint64) {
	_ = s.view(func(tx *bolt.Tx) error { v = readVersion(tx); return nil })
	return v
}

// IsDemo reports whether the database holds the demo data set. A demo
// database is never connected to a server.
func (s *Store) IsDemo() (demo bool) {
	_ = s.view(func(tx *bolt.Tx) error { demo = string(tx.Bucket(bMeta).Get(kDemo)) == "1"; return nil })
	return demo
}

// MarkDemo marks the database as holding demo data.
func (s *Store) MarkDemo(ctx context.Context) error {
	return s.updateC(ctx, "mark demo", func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kDemo, []byte("1")) })
}

// IsEmpty reports whether no clinic has been stored yet (a fresh database).
func (s *Store) IsEmpty() (empty bool) {
	_ = s.view(func(tx *bolt.Tx) error { empty = tx.Bucket(bClinics).Stats().KeyN == 0; return nil })
	return empty
}

// Check runs bbolt's consistency check and our own index checks (every
// case has exactly its index entries, every index entry has its case).
func (s *Store) Check() error {
	return s.view(func(tx *bolt.Tx) error {
		// Every page read here first: tx.Check reads them on a goroutine
		// of its own, where a damaged page is an unrecoverable panic.
		if err := walkAll(tx); err != nil {
			return err
		}
		var first error
		for err := range tx.Check() { // drain: the checker goroutine blocks otherwise
			if first == nil {
				first = fmt.Errorf("bbolt check: %w", err)
			}
		}
		if first != nil {
			return first
		}
		return s.checkIndexes(tx)
	})
}

// pnrIndexKey is the keyed hash under which a personnummer is indexed: an
// HMAC with a per-database random key, so the file holds no personnummer in
// a key and a hash cannot be matched against a list of numbers without the
// key.
func (s *Store) pnrIndexKey(n personnummer.Number) []byte {
	m := hmac.New(sha256.New, s.pnrKey)
	m.Write([]byte(n.String()))
	return m.Sum(nil)[:16]
}
