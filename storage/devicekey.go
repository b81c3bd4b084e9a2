package storage

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// The device key of a connected desktop (docs/sync.md, Devices): an
// Ed25519 key the desktop makes at its first online sign-in and proves
// itself with to the server, which binds the device to its public key.
//
//	meta/device_key        the key's 32-byte seed (raw, never sealed)
//	meta/device_key_bound  the device id the server has bound to the key (raw)
//
// The seed is kept raw, like the directory the sign-in screen reads,
// because it is needed before the store is unlocked: the online sign-in
// that names the device comes first, and for a staff member new to the
// device it is what gets them the data key (through the escrow). That is
// acceptable because the key proves only which installation is asking,
// never who: every sign-in still needs the staff member's password (and
// second factor), checked by the server; a stolen laptop's key is voided
// by revoking the device; and the file is mode 0600. What it removes is
// the old weakness: the device id, which is in logs and lists and
// screens, no longer lets anybody act as the device. Whoever can copy the
// file can copy the key, as they could copy the device id before; full-disk
// encryption and revocation are the answer to a stolen disk.

var (
	kDeviceKey      = []byte("device_key")
	kDeviceKeyBound = []byte("device_key_bound")
)

// DeviceKey returns the desktop's device key, making it the first time
// (one write of meta). It works while the store is locked.
func (s *Store) DeviceKey(ctx context.Context) (ed25519.PrivateKey, error) {
	var seed []byte
	_ = s.view(func(tx *bolt.Tx) error {
		seed = append([]byte(nil), tx.Bucket(bMeta).Get(kDeviceKey)...)
		return nil
	})
	if len(seed) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(seed), nil
	}
	err := s.updateC(ctx, "make device key", func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if v := m.Get(kDeviceKey); len(v) == ed25519.SeedSize { // made meanwhile
			seed = append([]byte(nil), v...)
			return nil
		}
		seed = make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return err
		}
		// A new key is bound to no device yet.
		if err := m.Delete(kDeviceKeyBound); err != nil {
			return err
		}
		return m.Put(kDeviceKey, seed)
	})
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// DeviceKeyBound is the device id the server has bound to the device key
// ("" when none: a new desktop, or one registered before device keys).
func (s *Store) DeviceKeyBound() (id string) {
	_ = s.view(func(tx *bolt.Tx) error { id = string(tx.Bucket(bMeta).Get(kDeviceKeyBound)); return nil })
	return id
}

// SetDeviceKeyBound records that the server bound deviceID to the device
// key (after a sign-in or an adoption that said so).
func (s *Store) SetDeviceKeyBound(ctx context.Context, deviceID string) error {
	if deviceID == "" {
		return fmt.Errorf("device key bound: no device id: %w", app.ErrInvalid)
	}
	return s.updateC(ctx, "device key bound", func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(kDeviceKeyBound, []byte(deviceID))
	})
}
