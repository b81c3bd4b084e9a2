package storage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"

	"mottagning/app"
)

// The data key's other wraps (crypt.go has the password wraps). Neither
// holds the data key in the clear; each is the data key sealed with
// XChaCha20-Poly1305 under a random 256-bit key that is NOT on this disk:
//
//	meta/escrow/<escrowID>    JSON escrowWrap: the device escrow. The
//	                          device-wrap key is on the central server
//	                          (server/staffauth, devicekeys.go), which
//	                          hands it back only after a fresh online
//	                          sign-in of staff of the device's clinics; the
//	                          desktop opens this wrap with it, wraps the
//	                          data key for the new staff member's password
//	                          and forgets the device-wrap key again.
//	meta/oskey/<staffID>      JSON secretWrap: the data key under a random
//	                          secret kept in the OS key store (Secret
//	                          Service, Keychain, Credential Manager) for
//	                          this staff member: a second way in once the
//	                          password is verified (app.UnlockingAuth).
//	meta/keyring_id           random id naming this database in the OS key
//	                          store (two data directories never share an
//	                          entry)
//
// The associated data binds each wrap to its place: a wrap copied to
// another device, escrow id or staff member does not open.

var (
	kEscrowPrefix = "escrow/"
	kOSKeyPrefix  = "oskey/"
	kKeyringID    = []byte("keyring_id")

	escrowADPrefix = "mottagning device escrow v1\x00"
	holderADPrefix = "mottagning escrow holder v1\x00"
	osKeyADPrefix  = "mottagning os key store v1\x00"
)

var _ app.SecretKeyStore = (*Store)(nil)

// escrowWrap is the data key wrapped under a device-wrap key.
type escrowWrap struct {
	Device string
	// Sealed is nonce ‖ XChaCha20-Poly1305(device-wrap key, data key).
	Sealed []byte
	Made   time.Time
	// Confirmed: the server has the device-wrap key of this wrap. Wraps
	// not confirmed are kept until one is (the server may have taken a
	// deposit whose answer was lost).
	Confirmed bool
}

// secretWrap is the data key wrapped under a secret of the OS key store.
type secretWrap struct {
	Sealed []byte
}

func escrowName(id string) []byte       { return []byte(kEscrowPrefix + id) }
func osKeyName(staffID app.ID) []byte   { return []byte(kOSKeyPrefix + string(staffID)) }
func escrowAD(device, id string) []byte { return []byte(escrowADPrefix + device + "\x00" + id) }
func osKeyAD(staffID app.ID) []byte     { return []byte(osKeyADPrefix + string(staffID)) }

// sealKey seals the data key under key with ad.
func sealKey(key, dataKey, ad []byte) ([]byte, error) {
	c, err := newAEADCodec(key)
	if err != nil {
		return nil, err
	}
	return c.Seal(dataKey, ad)
}

// openKey opens a data key sealed by sealKey; ErrWrongKey when it does not.
func openKey(key, sealed, ad []byte) ([]byte, error) {
	c, err := newAEADCodec(key)
	if err != nil {
		return nil, ErrWrongKey
	}
	dk, err := c.Open(sealed, ad)
	if err != nil || len(dk) != chacha20poly1305.KeySize {
		return nil, ErrWrongKey
	}
	return dk, nil
}

// unlockedKey returns a copy of the data key, or ErrLocked.
func (s *Store) unlockedKey() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.encrypted || s.dataKey == nil {
		return nil, ErrLocked
	}
	return append([]byte(nil), s.dataKey...), nil
}

// holderProof is what shows the server that a staff member holds the data
// key of this device: an HMAC of the escrow's place under the data key.
// The server keeps its SHA-256 and learns nothing of the data key.
func holderProof(dataKey []byte, device, id string) []byte {
	m := hmac.New(sha256.New, dataKey)
	m.Write([]byte(holderADPrefix + device + "\x00" + id))
	return m.Sum(nil)
}

// --- device escrow ---

// NewDeviceEscrow wraps the data key under a new random device-wrap key for
// the connected device and keeps the wrap (not yet confirmed). It returns
// the wrap's id, the device-wrap key and the holder proof for the server;
// the caller deposits them, calls ConfirmDeviceEscrow when the server took
// them, and clears key either way. ErrLocked when the store is not
// unlocked (or not encrypted), ErrNotConnected when it has no device id.
func (s *Store) NewDeviceEscrow(ctx context.Context) (id string, key, proof []byte, err error) {
	dataKey, err := s.unlockedKey()
	if err != nil {
		return "", nil, nil, fmt.Errorf("new device escrow: %w", err)
	}
	defer clear(dataKey)
	device := s.SyncDevice()
	if device == "" {
		return "", nil, nil, fmt.Errorf("new device escrow: %w", ErrNotConnected)
	}
	var idb [16]byte
	key = make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(idb[:]); err != nil {
		return "", nil, nil, err
	}
	if _, err := rand.Read(key); err != nil {
		return "", nil, nil, err
	}
	id = hex.EncodeToString(idb[:])
	sealed, err := sealKey(key, dataKey, escrowAD(device, id))
	if err != nil {
		return "", nil, nil, err
	}
	data, err := json.Marshal(&escrowWrap{Device: device, Sealed: sealed, Made: s.clock.Now().UTC()})
	if err != nil {
		return "", nil, nil, err
	}
	err = s.update("new device escrow", func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(escrowName(id), data)
	})
	if err != nil {
		clear(key)
		return "", nil, nil, err
	}
	return id, key, holderProof(dataKey, device, id), nil
}

// ConfirmDeviceEscrow marks the wrap id as deposited on the server and
// removes every other escrow wrap (older deposits, other device ids).
func (s *Store) ConfirmDeviceEscrow(ctx context.Context, id string) error {
	return s.update("confirm device escrow", func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		v := meta.Get(escrowName(id))
		if v == nil {
			return fmt.Errorf("device escrow %s: %w", id, app.ErrNotFound)
		}
		var w escrowWrap
		if err := json.Unmarshal(v, &w); err != nil {
			return fmt.Errorf("device escrow %s: %w: %w", id, ErrCorruptValue, err)
		}
		w.Confirmed = true
		data, err := json.Marshal(&w)
		if err != nil {
			return err
		}
		var others [][]byte
		c := meta.Cursor()
		for k, _ := c.Seek([]byte(kEscrowPrefix)); k != nil && strings.HasPrefix(string(k), kEscrowPrefix); k, _ = c.Next() {
			if string(k) != string(escrowName(id)) {
				others = append(others, append([]byte(nil), k...))
			}
		}
		for _, k := range others {
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		return meta.Put(escrowName(id), data)
	})
}

// DeviceEscrow returns the id of the confirmed escrow wrap of the current
// device ("" when there is none: deposit one) and, the store being
// unlocked, the holder proof for it.
func (s *Store) DeviceEscrow() (id string, proof []byte, err error) {
	dataKey, err := s.unlockedKey()
	if err != nil {
		return "", nil, fmt.Errorf("device escrow: %w", err)
	}
	defer clear(dataKey)
	var device string
	err = s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		device = string(meta.Get(kSyncDevice))
		c := meta.Cursor()
		for k, v := c.Seek([]byte(kEscrowPrefix)); k != nil && strings.HasPrefix(string(k), kEscrowPrefix); k, v = c.Next() {
			var w escrowWrap
			if json.Unmarshal(v, &w) == nil && w.Confirmed && w.Device == device && device != "" {
				id = string(k[len(kEscrowPrefix):])
			}
		}
		return nil
	})
	if err != nil || id == "" {
		return "", nil, err
	}
	return id, holderProof(dataKey, device, id), nil
}

// UnlockWithDeviceEscrow opens the escrow wrap id with the device-wrap key
// the server released, unlocks the store with the data key in it, and
// wraps that for staffID's password, so that staffID unlocks with the
// password from now on, offline too. Only a password the server verified
// at a sign-in seconds ago may reach it (as for Unlock). The caller clears
// key. ErrLocked when this device has no wrap with that id (the server's
// escrow belongs to another database, or the wrap was never kept);
// ErrWrongKey when key does not open it.
func (s *Store) UnlockWithDeviceEscrow(ctx context.Context, staffID app.ID, password, id string, key []byte) error {
	if staffID == "" {
		return fmt.Errorf("unlock with device escrow: no staff id: %w", app.ErrInvalid)
	}
	var w escrowWrap
	var device string
	err := s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		device = string(meta.Get(kSyncDevice))
		v := meta.Get(escrowName(id))
		if v == nil || !s.encrypted {
			return ErrLocked
		}
		return json.Unmarshal(v, &w)
	})
	if err != nil {
		return fmt.Errorf("unlock with device escrow %s: %w", id, err)
	}
	if device == "" || w.Device != device {
		return fmt.Errorf("unlock with device escrow %s: the wrap belongs to another device: %w", id, ErrLocked)
	}
	dataKey, err := openKey(key, w.Sealed, escrowAD(device, id))
	if err != nil {
		return fmt.Errorf("unlock with device escrow %s: %w", id, err)
	}
	return s.unlockAndWrap(ctx, staffID, password, dataKey)
}

// unlockAndWrap unlocks with dataKey (checked against the database's
// sealed keys) and wraps it for staffID's password.
func (s *Store) unlockAndWrap(ctx context.Context, staffID app.ID, password string, dataKey []byte) error {
	if err := s.useKey(dataKey); err != nil {
		return fmt.Errorf("unlock: the key does not open this database: %w: %w", ErrWrongKey, err)
	}
	cur, err := s.unlockedKey()
	if err != nil {
		return err
	}
	defer clear(cur)
	w, err := wrapKey(cur, staffID, password, s.opt.KeyParams)
	if err != nil {
		return fmt.Errorf("unlock: wrap key of staff %s: %w", staffID, err)
	}
	data, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return s.update("wrap key of staff "+string(staffID), func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(dataKeyName(staffID), data)
	})
}

// --- OS key store ---

// KeyringAccount names staffID's entry in the OS key store: this
// database's random keyring id and the staff id (no name). The id is made
// at the first call. app.ErrInvalid for a database that is not encrypted
// (it has no data key to wrap).
func (s *Store) KeyringAccount(ctx context.Context, staffID app.ID) (string, error) {
	if !s.Encrypted() {
		return "", fmt.Errorf("keyring account: the database is not encrypted: %w", app.ErrInvalid)
	}
	var id string
	err := s.view(func(tx *bolt.Tx) error { id = string(tx.Bucket(bMeta).Get(kKeyringID)); return nil })
	if err == nil && id == "" {
		err = s.update("make keyring id", func(tx *bolt.Tx) error {
			meta := tx.Bucket(bMeta)
			if id = string(meta.Get(kKeyringID)); id != "" {
				return nil
			}
			var b [16]byte
			if _, err := rand.Read(b[:]); err != nil {
				return err
			}
			id = hex.EncodeToString(b[:])
			return meta.Put(kKeyringID, []byte(id))
		})
	}
	if err != nil {
		return "", fmt.Errorf("keyring account: %w", err)
	}
	return id + "/" + string(staffID), nil
}

// WrapForSecret wraps the data key for staffID under secret (32 random
// bytes the caller keeps in the OS key store), replacing an earlier wrap.
// ErrLocked unless the store is unlocked.
func (s *Store) WrapForSecret(ctx context.Context, staffID app.ID, secret []byte) error {
	if staffID == "" || len(secret) != chacha20poly1305.KeySize {
		return fmt.Errorf("wrap for os key store: %w", app.ErrInvalid)
	}
	dataKey, err := s.unlockedKey()
	if err != nil {
		return fmt.Errorf("wrap for os key store: %w", err)
	}
	defer clear(dataKey)
	sealed, err := sealKey(secret, dataKey, osKeyAD(staffID))
	if err != nil {
		return err
	}
	data, err := json.Marshal(&secretWrap{Sealed: sealed})
	if err != nil {
		return err
	}
	return s.update("wrap for os key store", func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(osKeyName(staffID), data)
	})
}

func (s *Store) secretWrap(staffID app.ID) (*secretWrap, error) {
	var w *secretWrap
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bMeta).Get(osKeyName(staffID))
		if v == nil {
			return nil
		}
		w = new(secretWrap)
		return json.Unmarshal(v, w)
	})
	return w, err
}

// OpensWithSecret reports whether staffID's OS key store wrap opens with
// secret (no key derivation: cheap).
func (s *Store) OpensWithSecret(staffID app.ID, secret []byte) bool {
	w, err := s.secretWrap(staffID)
	if err != nil || w == nil {
		return false
	}
	dk, err := openKey(secret, w.Sealed, osKeyAD(staffID))
	clear(dk)
	return err == nil
}

// UnlockWithSecret opens staffID's OS key store wrap with secret, unlocks
// the store and wraps the data key for password anew (the password wrap
// did not open: the password changed since). Call it only with a password
// an Authenticator verified. ErrLocked when staffID has no such wrap,
// ErrWrongKey when secret does not open it.
func (s *Store) UnlockWithSecret(ctx context.Context, staffID app.ID, password string, secret []byte) error {
	w, err := s.secretWrap(staffID)
	if err != nil {
		return fmt.Errorf("unlock with os key store: staff %s: %w: %w", staffID, ErrCorruptValue, err)
	}
	if w == nil {
		return fmt.Errorf("unlock with os key store: staff %s: no wrap: %w", staffID, ErrLocked)
	}
	dataKey, err := openKey(secret, w.Sealed, osKeyAD(staffID))
	if err != nil {
		return fmt.Errorf("unlock with os key store: staff %s: %w", staffID, err)
	}
	return s.unlockAndWrap(ctx, staffID, password, dataKey)
}

// OSKeyring is app.Keyring over the operating system's key store through
// github.com/zalando/go-keyring: the Secret Service over D-Bus on Linux
// (GNOME Keyring, KWallet), the Keychain on macOS, the Credential Manager
// on Windows. Secrets are stored base64-encoded under Service and the
// account name. A key store that is missing, locked (it may open a prompt
// nobody answers) or slow is given up after Timeout, and after one such
// time-out the OSKeyring stops asking for the rest of the process: the
// password path never waits on it twice. A call given up on may still
// finish in the background.
type OSKeyring struct {
	// Service is the service name of the entries (default "mottagning").
	Service string
	// Timeout bounds each call (default 3 s).
	Timeout time.Duration

	gaveUp atomic.Bool
}

// ErrKeyringUnavailable: no OS key store can be reached (no D-Bus session
// on Linux, a time-out earlier in the process).
var ErrKeyringUnavailable = errors.New("the OS key store is not available")

var _ app.Keyring = (*OSKeyring)(nil)

func (k *OSKeyring) service() string {
	if k.Service == "" {
		return "mottagning"
	}
	return k.Service
}

// available rules out, without touching D-Bus, a Linux session with no
// session bus: godbus would otherwise try to autolaunch one.
func (k *OSKeyring) available() bool {
	if k.gaveUp.Load() {
		return false
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "bus")); err == nil {
			return true
		}
	}
	return false
}

// call runs fn with the time-out.
func (k *OSKeyring) call(ctx context.Context, fn func() error) error {
	if !k.available() {
		return ErrKeyringUnavailable
	}
	d := k.Timeout
	if d <= 0 {
		d = 3 * time.Second
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		k.gaveUp.Store(true)
		return fmt.Errorf("os key store: no answer in %s: %w", d, ErrKeyringUnavailable)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Get implements app.Keyring: app.ErrNotFound when there is no entry.
func (k *OSKeyring) Get(ctx context.Context, account string) ([]byte, error) {
	var v string
	err := k.call(ctx, func() (err error) { v, err = keyring.Get(k.service(), account); return err })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("os key store: %w", app.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("os key store: get: %w", err)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("os key store: malformed entry: %w", app.ErrInvalid)
	}
	return b, nil
}

// Set implements app.Keyring.
func (k *OSKeyring) Set(ctx context.Context, account string, secret []byte) error {
	v := base64.StdEncoding.EncodeToString(secret)
	if err := k.call(ctx, func() error { return keyring.Set(k.service(), account, v) }); err != nil {
		return fmt.Errorf("os key store: set: %w", err)
	}
	return nil
}

// Delete removes an entry; a missing one is no error.
func (k *OSKeyring) Delete(ctx context.Context, account string) error {
	err := k.call(ctx, func() error { return keyring.Delete(k.service(), account) })
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("os key store: delete: %w", err)
	}
	return nil
}
