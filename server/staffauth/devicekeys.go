package staffauth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode"

	"mottagning/app"
)

// Device keys: what a desktop registers about itself besides its id.
//
// # Escrow of the data key
//
// A desktop's database is sealed under a random data key, wrapped once per
// staff member who has signed in on it (storage/crypt.go). Someone signing
// in there for the first time while nobody with a key is signed in would
// find it closed. So when a desktop is registered, it also wraps its data
// key under a random 256-bit device-wrap key, keeps that wrap, and hands
// the server the device-wrap key alone (PutDeviceEscrow). The server never
// sees the data key and the laptop never keeps the device-wrap key: a
// stolen laptop opens with neither, a stolen auth.db opens no laptop.
//
// ReleaseDeviceEscrow hands the device-wrap key back, for the desktop to
// open its data key, wrap it for the new staff member's password and
// forget the device-wrap key again, only
//   - to an access token of the device the escrow belongs to, from a
//     password sign-in at most Options.EscrowWindow ago (a refreshed token
//     keeps the time of its sign-in: a token alone is not enough);
//   - while the device is not revoked: revocation deletes the escrow in its
//     own transaction (revokeDevice), so a lost laptop stays closed even to
//     staff of its clinics;
//   - to a staff member who has, now, a role in a clinic the device serves:
//     a clinic where one of the escrow's holders has a role now. The
//     holders are whoever deposited the escrow, whoever it was released to,
//     and whoever showed that they hold the data key on the device
//     (AddEscrowHolder: a staff member who signed in there while it was
//     unlocked). The roles are read from auth.db, not from the token.
//
// The holder proof is an HMAC of the escrow's id under the data key, made
// by the desktop; the server keeps only its SHA-256, learns nothing of the
// data key from it, and compares what a holder shows with it. Without the
// proof, anyone signing in on the device (without a key) could make their
// own clinics "served". A deposit made through the API by someone without
// the data key replaces the escrow with a key that opens nothing, and its
// holders with the caller alone: it can stop the escrow, never open it.
//
// Each release adds the caller to the holders. The key is in no error and
// no log line; it leaves auth.db only in the answer to the device.
//
// # Access-log signing keys
//
// Each desktop signs checkpoints of its access-log chain with an Ed25519
// key of its own (app.Checkpoint). The key lives in the database it signs
// for, so on the desktop alone it proves nothing against someone holding the
// whole unlocked file. The device therefore registers the public key here
// once (RegisterDeviceLogKey; a different one later is refused, so the key
// cannot be swapped for one that signs a rewritten chain) and sends its
// checkpoints (PutDeviceCheckpoint): one signed by another key is refused,
// and so is one that contradicts a checkpoint the server already holds for
// the same position (a rewritten chain). DeviceLogKey and
// VerifyDeviceCheckpoint let any other part of the server (sync, audits)
// check a device's checkpoints against the registered key.

// Errors of device keys. The FieldErrors carry a Swedish text the desktop
// shows; all of them are app.ErrInvalid ("invalid" on the wire).
var (
	// ErrSignInTooOld: the escrow is handed out (or deposited) only
	// shortly after a password sign-in; sign in again.
	ErrSignInTooOld = forbidden("device escrow: the sign-in is too old, sign in again")
	// ErrNotServed: the caller has no role in a clinic the device serves.
	ErrNotServed = forbidden("device escrow: no role in a clinic the device serves")
	// ErrLogKeyMismatch: the device has another access-log key registered.
	ErrLogKeyMismatch = &app.FieldError{Field: "publicKey", Code: "log_key_mismatch",
		Text: "Datorn har redan en annan nyckel registrerad för sin åtkomstlogg. Kontakta IT-supporten."}
	// ErrNoLogKey: the device has registered no access-log key.
	ErrNoLogKey = &app.FieldError{Field: "publicKey", Code: "log_key_missing",
		Text: "Datorn har ingen registrerad nyckel för sin åtkomstlogg. Logga in på datorn när den är ansluten."}
	// ErrCheckpointSignature: a checkpoint that the device's registered key
	// did not sign (or a malformed one).
	ErrCheckpointSignature = &app.FieldError{Field: "sig", Code: "checkpoint_signature",
		Text: "Kontrollpunkten i åtkomstloggen är inte signerad med datorns registrerade nyckel och togs inte emot."}
	// ErrCheckpointFork: a checkpoint for a position the server holds
	// another hash for: the device's chain was rewritten.
	ErrCheckpointFork = &app.FieldError{Field: "hash", Code: "checkpoint_fork",
		Text: "Åtkomstloggen på datorn stämmer inte med en kontrollpunkt som servern redan har. Kontakta IT-supporten."}
)

// EscrowKeySize is the size of a device-wrap key, and of a holder proof.
const EscrowKeySize = 32

// maxEscrowIDLen bounds the desktop's id of its escrow.
const maxEscrowIDLen = 64

// escrow is a device's deposited device-wrap key.
type escrow struct {
	// ID names the desktop's wrap made under Key (the desktop keeps a wrap
	// per id until the server confirms one).
	ID  string
	Key []byte
	// Proof is the SHA-256 of the holder proof (AddEscrowHolder).
	Proof     []byte
	Holders   []app.ID
	CreatedAt time.Time
	CreatedBy app.ID
	Released  int `json:",omitempty"`
}

func getEscrow(tx Tx, device app.ID) (*escrow, error) {
	var e escrow
	if err := getJSON(tx.Bucket(bEscrow), []byte(device), &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// deleteEscrow deletes a device's escrow. bbolt writes copies of pages, so
// the old bytes stay on a free page of auth.db until it is reused: what
// makes the key unusable is that the server no longer hands it out.
func deleteEscrow(tx Tx, device app.ID) error {
	return tx.Bucket(bEscrow).Delete([]byte(device))
}

func validEscrowID(id string) bool {
	if id == "" || len(id) > maxEscrowIDLen {
		return false
	}
	for _, r := range id {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// deviceOf loads the caller's device for a change: it must exist, be the
// token's, and not be revoked.
func deviceOf(tx Tx, c *Claims) (*Device, error) {
	d, err := getDevice(tx, c.DeviceID)
	if errors.Is(err, app.ErrNotFound) {
		return nil, ErrTokenInvalid
	} else if err != nil {
		return nil, err
	}
	if d.Revoked {
		return nil, revokedErr(d)
	}
	return d, nil
}

// freshSignIn checks that the claims come from a sign-in within the
// escrow window.
func (s *Service) freshSignIn(c *Claims) error {
	if c == nil || c.StaffID == "" || c.DeviceID == "" {
		return forbidden("device keys: not signed in")
	}
	if c.AuthTime.IsZero() || s.clock.Now().Sub(c.AuthTime) > s.opts.EscrowWindow {
		return ErrSignInTooOld
	}
	return nil
}

// activeAccount loads the caller's account; disabled is ErrAccountDisabled.
func activeAccount(tx Tx, id app.ID) (*account, error) {
	a, err := getAccount(tx, id)
	if errors.Is(err, app.ErrNotFound) {
		return nil, ErrTokenInvalid
	} else if err != nil {
		return nil, err
	}
	if a.Staff.Disabled {
		return nil, ErrAccountDisabled
	}
	return a, nil
}

// PutDeviceEscrow deposits the device-wrap key of the caller's device under
// id, with the holder proof, replacing an earlier one (the desktop makes a
// new one when the server no longer knows its old one). The caller becomes
// its only holder. It needs a sign-in within Options.EscrowWindow on a
// device not revoked.
func (s *Service) PutDeviceEscrow(ctx context.Context, c *Claims, id string, key, proof []byte) error {
	if !validEscrowID(id) || len(key) != EscrowKeySize || len(proof) != EscrowKeySize {
		return fmt.Errorf("put device escrow: malformed id or key: %w", app.ErrInvalid)
	}
	if err := s.freshSignIn(c); err != nil {
		return fmt.Errorf("put device escrow: %w", err)
	}
	now := s.clock.Now()
	err := s.db.Update(func(tx Tx) error {
		if _, err := activeAccount(tx, c.StaffID); err != nil {
			return err
		}
		d, err := deviceOf(tx, c)
		if err != nil {
			return err
		}
		ph := sha256.Sum256(proof)
		return putJSON(tx.Bucket(bEscrow), []byte(d.ID), &escrow{ID: id, Key: clone(key), Proof: ph[:],
			Holders: []app.ID{c.StaffID}, CreatedAt: now, CreatedBy: c.StaffID})
	})
	if err != nil {
		return fmt.Errorf("put device escrow: device %s by staff %s: %w", c.DeviceID, c.StaffID, err)
	}
	return nil
}

// AddEscrowHolder records that the caller holds a key on their device (a
// staff member who signed in there while it was unlocked), shown by the
// holder proof: the clinics they have roles in count as served by the
// device from now on. app.ErrNotFound when the server holds no escrow with
// this id for the device (the desktop deposits a new one); a wrong proof
// is app.ErrForbidden.
func (s *Service) AddEscrowHolder(ctx context.Context, c *Claims, id string, proof []byte) error {
	if err := s.freshSignIn(c); err != nil {
		return fmt.Errorf("add escrow holder: %w", err)
	}
	err := s.db.Update(func(tx Tx) error {
		if _, err := activeAccount(tx, c.StaffID); err != nil {
			return err
		}
		d, err := deviceOf(tx, c)
		if err != nil {
			return err
		}
		e, err := getEscrow(tx, d.ID)
		if err != nil {
			return err
		}
		if e.ID != id {
			return app.ErrNotFound
		}
		ph := sha256.Sum256(proof)
		if len(proof) != EscrowKeySize || subtle.ConstantTimeCompare(ph[:], e.Proof) != 1 {
			return forbidden("escrow holder proof does not match")
		}
		if slices.Contains(e.Holders, c.StaffID) {
			return nil
		}
		e.Holders = append(e.Holders, c.StaffID)
		return putJSON(tx.Bucket(bEscrow), []byte(d.ID), e)
	})
	if err != nil {
		return fmt.Errorf("add escrow holder: device %s, staff %s: %w", c.DeviceID, c.StaffID, err)
	}
	return nil
}

// ReleaseDeviceEscrow hands the caller's device its device-wrap key and the
// id it was deposited under (see the comment at the top of the file for
// who gets it). Errors: ErrSignInTooOld, ErrDeviceRevoked, app.ErrNotFound
// (no escrow), ErrNotServed, ErrAccountDisabled.
func (s *Service) ReleaseDeviceEscrow(ctx context.Context, c *Claims) (id string, key []byte, err error) {
	if err := s.freshSignIn(c); err != nil {
		return "", nil, fmt.Errorf("release device escrow: %w", err)
	}
	err = s.db.Update(func(tx Tx) error {
		caller, err := activeAccount(tx, c.StaffID)
		if err != nil {
			return err
		}
		d, err := deviceOf(tx, c)
		if err != nil {
			return err
		}
		e, err := getEscrow(tx, d.ID)
		if err != nil {
			return err
		}
		served := map[app.ID]bool{}
		for _, h := range e.Holders {
			a, err := getAccount(tx, h)
			if errors.Is(err, app.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if a.Staff.Disabled {
				continue
			}
			for clinic, roles := range a.Staff.Roles {
				if len(roles) > 0 {
					served[clinic] = true
				}
			}
		}
		ok := false
		for clinic, roles := range caller.Staff.Roles {
			ok = ok || (len(roles) > 0 && served[clinic])
		}
		if !ok {
			return ErrNotServed
		}
		if !slices.Contains(e.Holders, c.StaffID) {
			e.Holders = append(e.Holders, c.StaffID)
		}
		e.Released++
		id, key = e.ID, clone(e.Key)
		return putJSON(tx.Bucket(bEscrow), []byte(d.ID), e)
	})
	if err != nil {
		return "", nil, fmt.Errorf("release device escrow: device %s to staff %s: %w", c.DeviceID, c.StaffID, err)
	}
	return id, key, nil
}

// HasDeviceEscrow reports whether the server holds an escrow for deviceID
// (administration and tests; the key is not returned).
func (s *Service) HasDeviceEscrow(ctx context.Context, deviceID app.ID) (bool, error) {
	var ok bool
	err := s.db.View(func(tx Tx) error {
		ok = tx.Bucket(bEscrow).Get([]byte(deviceID)) != nil
		return nil
	})
	return ok, err
}

// RegisterDeviceLogKey registers the Ed25519 public key the caller's device
// signs its access-log checkpoints with. Registering the same key again is
// fine; another one is ErrLogKeyMismatch (the device must be revoked and
// registered anew, which gives it a new id and a new chain).
func (s *Service) RegisterDeviceLogKey(ctx context.Context, c *Claims, pub ed25519.PublicKey) error {
	if c == nil || c.DeviceID == "" {
		return forbidden("register log key: not signed in")
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("register log key: device %s: key of %d bytes: %w", c.DeviceID, len(pub), app.ErrInvalid)
	}
	now := s.clock.Now()
	err := s.db.Update(func(tx Tx) error {
		d, err := deviceOf(tx, c)
		if err != nil {
			return err
		}
		switch {
		case bytes.Equal(d.LogKey, pub):
			return nil
		case d.LogKey != nil:
			return ErrLogKeyMismatch
		}
		d.LogKey, d.LogKeyAt = clone(pub), now
		return putDevice(tx, d)
	})
	if err != nil {
		return fmt.Errorf("register log key: device %s: %w", c.DeviceID, err)
	}
	return nil
}

// DeviceLogKey returns the registered access-log key of a device (revoked
// ones too: their checkpoints stay verifiable), or ErrNoLogKey, or
// app.ErrNotFound for an unknown device.
func (s *Service) DeviceLogKey(ctx context.Context, deviceID app.ID) (ed25519.PublicKey, error) {
	var pub ed25519.PublicKey
	err := s.db.View(func(tx Tx) error {
		d, err := getDevice(tx, deviceID)
		if err != nil {
			return err
		}
		if len(d.LogKey) != ed25519.PublicKeySize {
			return ErrNoLogKey
		}
		pub = ed25519.PublicKey(clone(d.LogKey))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("device %s: log key: %w", deviceID, err)
	}
	return pub, nil
}

// VerifyDeviceCheckpoint checks cp's signature against the device's
// registered key: nil, ErrCheckpointSignature, ErrNoLogKey or
// app.ErrNotFound. It stores nothing (PutDeviceCheckpoint does).
func (s *Service) VerifyDeviceCheckpoint(ctx context.Context, deviceID app.ID, cp *app.Checkpoint) error {
	pub, err := s.DeviceLogKey(ctx, deviceID)
	if err != nil {
		return err
	}
	if cp == nil || cp.Seq == 0 || !cp.Valid(pub) {
		return fmt.Errorf("device %s: checkpoint: %w", deviceID, ErrCheckpointSignature)
	}
	return nil
}

func checkpointKey(device app.ID, seq uint64) []byte {
	k := make([]byte, 0, len(device)+9)
	k = append(k, device...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// PutDeviceCheckpoint verifies a checkpoint of the caller's device against
// its registered key and keeps it. A checkpoint already held is fine; one
// for the same position with another hash is ErrCheckpointFork, one not
// signed by the registered key ErrCheckpointSignature.
func (s *Service) PutDeviceCheckpoint(ctx context.Context, c *Claims, cp *app.Checkpoint) error {
	if c == nil || c.DeviceID == "" {
		return forbidden("put checkpoint: not signed in")
	}
	err := s.db.Update(func(tx Tx) error {
		d, err := deviceOf(tx, c)
		if err != nil {
			return err
		}
		if len(d.LogKey) != ed25519.PublicKeySize {
			return ErrNoLogKey
		}
		if cp == nil || cp.Seq == 0 || !cp.Valid(ed25519.PublicKey(d.LogKey)) {
			return ErrCheckpointSignature
		}
		b := tx.Bucket(bDeviceCps)
		k := checkpointKey(d.ID, cp.Seq)
		if v := b.Get(k); v != nil {
			var old app.Checkpoint
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("decode checkpoint: %w", err)
			}
			if !bytes.Equal(old.Hash, cp.Hash) {
				return ErrCheckpointFork
			}
			return nil
		}
		return putJSON(b, k, &app.Checkpoint{Seq: cp.Seq, Hash: clone(cp.Hash), At: cp.At.UTC(), Sig: clone(cp.Sig)})
	})
	if err != nil {
		return fmt.Errorf("put checkpoint: device %s: %w", c.DeviceID, err)
	}
	return nil
}

// DeviceCheckpoints returns the checkpoints the server holds for a device,
// by position: what a review of the device's own chain is checked against.
func (s *Service) DeviceCheckpoints(ctx context.Context, deviceID app.ID) ([]app.Checkpoint, error) {
	var out []app.Checkpoint
	err := s.db.View(func(tx Tx) error {
		prefix := checkpointKey(deviceID, 0)[:len(deviceID)+1]
		c := tx.Bucket(bDeviceCps).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var cp app.Checkpoint
			if err := json.Unmarshal(v, &cp); err != nil {
				return fmt.Errorf("decode checkpoint: %w", err)
			}
			out = append(out, cp)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoints of device %s: %w", deviceID, err)
	}
	return out, nil
}
