package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"

	"mottagning/app"
)

// The central server's store is sealed like a desktop's (crypt.go), but
// nobody types a password there: the data key is wrapped under a server
// key (32 random bytes) that lives outside the data directory — a key
// file, a systemd credential or whatever a key command prints
// (cmd/mottagning-server, keys.go):
//
//	meta/serverkey   nonce ‖ XChaCha20-Poly1305(server key, data key), with
//	                 "mottagning server key v1" as associated data
//
// Without the server key the file opens locked and serves nothing; a
// copy of the data directory alone (a stolen disk, a backup tar) holds no
// resident or case value in the clear.

var (
	kServerKey  = []byte("serverkey")
	serverKeyAD = []byte("mottagning server key v1")
)

// ServerKeySize is the length of a server key.
const ServerKeySize = chacha20poly1305.KeySize

// UnlockWithServerKey makes the server's store readable with serverKey:
//
//   - plain (a new store, or one a version before sealing wrote): the file
//     is rewritten sealed under a new data key wrapped for serverKey, and
//     the plaintext is scrubbed (sealedNow is true);
//   - sealed and locked: the server-key wrap is opened (ErrWrongKey when
//     serverKey does not open it; ErrLocked when the file has no server
//     wrap, as a desktop's file has not);
//   - sealed and unlocked: serverKey must open the wrap all the same.
func (s *Store) UnlockWithServerKey(ctx context.Context, serverKey []byte) (sealedNow bool, err error) {
	if len(serverKey) != ServerKeySize {
		return false, fmt.Errorf("server key of %d bytes, want %d: %w", len(serverKey), ServerKeySize, app.ErrInvalid)
	}
	var wrap []byte
	var encrypted, staffWraps bool
	err = s.viewC(ctx, func(tx *bolt.Tx) error {
		encrypted = s.encrypted
		if v := tx.Bucket(bMeta).Get(kServerKey); v != nil {
			wrap = append([]byte(nil), v...)
		}
		k, _ := tx.Bucket(bMeta).Cursor().Seek([]byte(kDataKeyPrefix))
		staffWraps = k != nil && strings.HasPrefix(string(k), kDataKeyPrefix)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("unlock with server key: %w", err)
	}
	if !encrypted {
		dataKey := make([]byte, chacha20poly1305.KeySize)
		if _, err := rand.Read(dataKey); err != nil {
			return false, err
		}
		sealed, err := sealKey(serverKey, dataKey, serverKeyAD)
		if err != nil {
			return false, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.encrypted {
			return false, fmt.Errorf("unlock with server key: sealed meanwhile: %w", app.ErrConflict)
		}
		if err := s.encryptFile(ctx, dataKey, kServerKey, sealed); err != nil {
			return false, fmt.Errorf("seal %s: %w", s.path, err)
		}
		return true, nil
	}
	if wrap == nil && staffWraps {
		return false, fmt.Errorf("open %s: sealed with staff passwords, not a server key (a desktop's database?): %w", s.path, ErrLocked)
	}
	if wrap == nil {
		return false, fmt.Errorf("open %s: sealed, but the wrap of its key is gone: %w: restore it from the latest backup", s.path, ErrDamaged)
	}
	dataKey, err := openKey(serverKey, wrap, serverKeyAD)
	if err != nil {
		return false, fmt.Errorf("open %s: the server key does not open this database: %w", s.path, ErrWrongKey)
	}
	if err := s.useKey(dataKey); err != nil {
		return false, fmt.Errorf("open %s: %w", s.path, err)
	}
	return false, nil
}

// RewrapServerKey wraps the data key under a new server key, replacing the
// old wrap in one transaction (rotating the key file without rewriting the
// data). ErrLocked unless the store is unlocked.
func (s *Store) RewrapServerKey(ctx context.Context, newKey []byte) error {
	if len(newKey) != ServerKeySize {
		return fmt.Errorf("server key of %d bytes, want %d: %w", len(newKey), ServerKeySize, app.ErrInvalid)
	}
	dataKey, err := s.unlockedKey()
	if err != nil {
		return fmt.Errorf("rewrap server key: %w", err)
	}
	defer clear(dataKey)
	sealed, err := sealKey(newKey, dataKey, serverKeyAD)
	if err != nil {
		return err
	}
	return s.updateC(ctx, "rewrap server key", func(tx *bolt.Tx) error {
		if tx.Bucket(bMeta).Get(kServerKey) == nil {
			return fmt.Errorf("no server key wrap: %w", ErrLocked)
		}
		return tx.Bucket(bMeta).Put(kServerKey, sealed)
	})
}

// readServerWrap reads, read-only, whether the database file at path is
// sealed and its server-key wrap (the file may belong to a stopped server
// or be a restore's staged copy).
func readServerWrap(path string) (sealed bool, wrap []byte, err error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return false, nil, openError(path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bMeta); meta != nil {
			sealed = meta.Get(kCipher) != nil
			wrap = append([]byte(nil), meta.Get(kServerKey)...)
		}
		return nil
	})
	if err != nil {
		return false, nil, openError(path, err)
	}
	return sealed, wrap, nil
}

// FileSealed reports whether the database file at path is sealed.
func FileSealed(path string) (bool, error) {
	sealed, _, err := readServerWrap(path)
	return sealed, err
}

// CheckServerKey reports whether key opens the server-key wrap of the
// database file at path (read-only). A plain file: ErrNotSealed.
func CheckServerKey(path string, key []byte) error {
	sealed, wrap, err := readServerWrap(path)
	if err != nil {
		return err
	}
	switch {
	case !sealed:
		return fmt.Errorf("%s: %w", path, ErrNotSealed)
	case len(wrap) == 0:
		return fmt.Errorf("%s: sealed, but not with a server key: %w", path, ErrLocked)
	}
	dk, err := openKey(key, wrap, serverKeyAD)
	clear(dk)
	if err != nil {
		return fmt.Errorf("%s: the server key does not open this database: %w", path, ErrWrongKey)
	}
	return nil
}

// ErrNotSealed: the database file is plain (written before the server
// sealed its data, or a demo run without a server key).
var ErrNotSealed = errors.New("the database is not sealed")
