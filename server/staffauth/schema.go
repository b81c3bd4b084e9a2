package staffauth

// The schema of auth.db. Values are JSON; keys are ids, fixed codes or a
// keyed hash. No username or name is ever part of a key.
//
//	meta                      raw values
//	  version                 uint64 big-endian: schema version (len(migrations))
//	  created                 RFC 3339 time the file was made
//	  signkey                 32 random bytes: HMAC-SHA256 key of access tokens
//	  idxkey                  32 random bytes: HMAC key of idx_username
//	accounts                  <staffID>                         → JSON(account): app.Staff, password
//	                                                              hash, offline verifier, failures,
//	                                                              lock, epoch, TOTP, recovery hashes
//	idx_username              <hmac(idxkey, lower(username))[:16]> → staffID (lookup, uniqueness)
//	devices                   <deviceID>                        → JSON(Device); v3: with the
//	                                                              device's Ed25519 public key
//	idx_staff_device          <staffID> 0 <deviceID>            → empty
//	sessions                  <sessionID>                       → JSON(session): staff, device,
//	                                                              sha256(refresh secret), expiry
//	device_escrow (v2)        <deviceID>                        → JSON(escrow): the device-wrap key
//	                                                              of the desktop's data key, its
//	                                                              id and holders (devicekeys.go)
//	device_checkpoints (v2)   <deviceID> 0 <seq uint64>         → JSON(app.Checkpoint): signed
//	                                                              access-log checkpoints of a device
//
// Version history:
//
//	1  the buckets above up to sessions
//	2  device_escrow and device_checkpoints; Device.LogKey (no migration of
//	   records: a device without one registers it at its next sign-in)
//	3  Device.Key, the key a device proves itself with (devicebind.go). No
//	   record changes: a device without one is "keyless", and its id names
//	   nothing any more. The version is raised so that an older server
//	   refuses this file (ErrTooNew) instead of taking device ids as proof
//	   again.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"mottagning/app"
)

// FileName is the usual name of the file in the server's data directory.
const FileName = "auth.db"

var (
	bMeta        = []byte("meta")
	bAccounts    = []byte("accounts")
	bIdxUsername = []byte("idx_username")
	bDevices     = []byte("devices")
	bIdxDevice   = []byte("idx_staff_device")
	bSessions    = []byte("sessions")
	bEscrow      = []byte("device_escrow")
	bDeviceCps   = []byte("device_checkpoints")
	// bUsedChallenges: nonce → expiry (Unix seconds), on a shared database.
	bUsedChallenges = []byte("used_challenges")

	kVersion = []byte("version")
	kCreated = []byte("created")
	kSignKey = []byte("signkey")
	kIdxKey  = []byte("idxkey")
	// kChallengeKey signs device challenges (devicebind.go).
	kChallengeKey = []byte("challengekey")
)

type migration struct {
	name string
	up   func(tx Tx, now time.Time) error
}

// migrations is the ordered schema history; append, never edit.
var migrations = []migration{
	{"create buckets and keys", migrate1},
	{"device escrow and access-log checkpoints", migrate2},
	{"device keys (no record changes)", func(Tx, time.Time) error { return nil }},
	{"device challenges shared by the nodes of one database", migrate4},
}

// SchemaVersion is the schema version this binary writes.
var SchemaVersion = uint64(len(migrations))

func migrate1(tx Tx, now time.Time) error {
	for _, b := range [][]byte{bAccounts, bIdxUsername, bDevices, bIdxDevice, bSessions} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	meta := tx.Bucket(bMeta)
	for _, k := range [][]byte{kSignKey, kIdxKey} {
		if meta.Get(k) == nil {
			if err := meta.Put(k, randomBytes(32)); err != nil {
				return err
			}
		}
	}
	if meta.Get(kCreated) == nil {
		return meta.Put(kCreated, []byte(now.UTC().Format(time.RFC3339)))
	}
	return nil
}

// migrate4 keeps the device challenges' key and the used challenges in
// the database, so that a challenge one node issued is checked (once) by
// any node.
func migrate4(tx Tx, now time.Time) error {
	if _, err := tx.CreateBucketIfNotExists(bUsedChallenges); err != nil {
		return fmt.Errorf("create bucket %s: %w", bUsedChallenges, err)
	}
	meta := tx.Bucket(bMeta)
	if meta.Get(kChallengeKey) == nil {
		return meta.Put(kChallengeKey, randomBytes(32))
	}
	return nil
}

func migrate2(tx Tx, now time.Time) error {
	for _, b := range [][]byte{bEscrow, bDeviceCps} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

func (s *Service) prepare() error {
	return s.db.Update(func(tx Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bMeta)
		if err != nil {
			return err
		}
		var have uint64
		if v := meta.Get(kVersion); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("auth database: bad version value")
			}
			have = binary.BigEndian.Uint64(v)
		}
		if have > SchemaVersion {
			return fmt.Errorf("auth database version %d, binary %d: %w", have, SchemaVersion, ErrTooNew)
		}
		for v := have; v < SchemaVersion; v++ {
			if err := migrations[v].up(tx, s.clock.Now()); err != nil {
				return fmt.Errorf("auth database migration %d (%s): %w", v+1, migrations[v].name, err)
			}
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], SchemaVersion)
		if err := meta.Put(kVersion, b[:]); err != nil {
			return err
		}
		key := clone(meta.Get(kSignKey))
		s.signKey.Store(&key)
		s.idxKey = clone(meta.Get(kIdxKey))
		s.challenges.key = clone(meta.Get(kChallengeKey))
		if s.db.Shared() {
			s.challenges.kv = s.db
		}
		return nil
	})
}

// Open opens (creating when missing) auth.db at path, mode 0600, waiting
// at most a second for the file lock: a second server on the same data
// directory gets ErrAlreadyRunning.
func Open(path string, clock app.Clock, opts Options) (*Service, error) {
	kv, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	s, err := New(kv, clock, opts)
	if err != nil {
		kv.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// New is the service over kv (auth.db, or the PostgreSQL store's), whose
// schema it brings up to date. It closes kv when it is closed.
func New(kv KV, clock app.Clock, opts Options) (*Service, error) {
	if clock == nil {
		clock = app.SystemClock{}
	}
	opts = opts.withDefaults()
	s := newService(kv, clock, opts)
	if err := s.prepare(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the service's KV.
func (s *Service) Close() error { return s.db.Close() }

// Backup writes a consistent copy of auth.db to w while the server runs.
// The copy holds the token key, password hashes and TOTP seeds: store it
// encrypted, apart from the case database backups (see the package doc).
// A service on a shared database (PostgreSQL) has no file of its own:
// its data is in that database's backups (errors.ErrUnsupported).
func (s *Service) Backup(ctx context.Context, w io.Writer) (int64, error) {
	wt, ok := s.db.(io.WriterTo)
	if !ok {
		return 0, fmt.Errorf("backup auth database: the accounts are in the shared database: %w", errors.ErrUnsupported)
	}
	n, err := wt.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("backup auth database: %w", err)
	}
	return n, nil
}

// account is one staff member's record.
type account struct {
	Staff app.Staff
	// Hash is the argon2id PHC string the server verifies against.
	Hash string `json:",omitempty"`
	// Verifier is a second argon2id PHC string of the same password with
	// its own salt, for desktops to cache for offline unlock.
	Verifier          string    `json:",omitempty"`
	PasswordChangedAt time.Time `json:",omitzero"`
	// Failures and LockedUntil are the lock of sign-ins from anywhere but
	// the staff member's own registered devices; DeviceLocks those of each
	// such device that proved itself (signin.go, knownDevice).
	Failures    int                   `json:",omitempty"`
	LockedUntil time.Time             `json:",omitzero"`
	DeviceLocks map[app.ID]*lockState `json:",omitempty"`
	// Epoch rises whenever tokens issued before must stop: roles changed,
	// password reset, account disabled.
	Epoch uint64
	// TOTPSecret is the confirmed TOTP seed (base32), TOTPPending one
	// awaiting ConfirmTOTP. TOTPLastStep is the last time step accepted.
	TOTPSecret   string `json:",omitempty"`
	TOTPPending  string `json:",omitempty"`
	TOTPLastStep int64  `json:",omitempty"`
	// Recovery are hex SHA-256 hashes of the unused recovery codes.
	Recovery  []string `json:",omitempty"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// lockState is one lock of failed sign-ins.
type lockState struct {
	Failures    int       `json:",omitempty"`
	LockedUntil time.Time `json:",omitzero"`
}

// session is one refresh-token chain: one staff member on one device.
type session struct {
	ID        app.ID
	StaffID   app.ID
	DeviceID  app.ID
	Hash      []byte // SHA-256 of the current refresh secret
	Created   time.Time
	Expires   time.Time
	Rotations int
	// PrevHash is the SHA-256 of the refresh secret the last rotation
	// spent, and RotatedAt when: a desktop whose answer to that rotation
	// was lost (a cut connection, a crash before it stored the new token)
	// may present it once more within RefreshRetryGrace (Refresh).
	PrevHash  []byte    `json:",omitempty"`
	RotatedAt time.Time `json:",omitempty"`
}

// Device is a desktop installation registered at a staff member's first
// online sign-in on it. Several staff may sign in on one (shared clinic
// computers); revoking it ends every session on it.
type Device struct {
	ID app.ID
	// Name is what the desktop called itself ("Reception 2"); free text,
	// shown to administrators, never logged.
	Name         string
	RegisteredAt time.Time
	RegisteredBy app.ID
	LastSeen     time.Time
	// Staff are the staff members who have signed in on the device.
	Staff     []app.ID
	Revoked   bool
	RevokedAt time.Time `json:",omitzero"`
	// RevokedBy is the administrator who revoked it; empty when the
	// server or its operator did. RevokeReason says why, in the words the
	// desktop shows its users (free text of the administrator; never
	// logged).
	RevokedBy    app.ID `json:",omitempty"`
	RevokeReason string `json:",omitempty"`
	// LogKey is the Ed25519 public key the device signs its access-log
	// checkpoints with (RegisterDeviceLogKey), set once; LogKeyAt when.
	LogKey   []byte    `json:",omitempty"`
	LogKeyAt time.Time `json:",omitzero"`
	// Key is the Ed25519 public key the device proves itself with
	// (devicebind.go): given at its registration, or adopted once by a
	// device registered before keys, with its refresh token. A sign-in
	// that names a device with a key must carry its signature; a device
	// without one (Key empty) is never handed to a sign-in that names it.
	Key   []byte    `json:",omitempty"`
	KeyAt time.Time `json:",omitzero"`
}

func getJSON(b Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return app.ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	return nil
}

func putJSON(b Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func getAccount(tx Tx, id app.ID) (*account, error) {
	if id == "" {
		return nil, app.ErrNotFound
	}
	var a account
	if err := getJSON(tx.Bucket(bAccounts), []byte(id), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

func putAccount(tx Tx, a *account) error {
	return putJSON(tx.Bucket(bAccounts), []byte(a.Staff.ID), a)
}

func getDevice(tx Tx, id app.ID) (*Device, error) {
	if id == "" {
		return nil, app.ErrNotFound
	}
	var d Device
	if err := getJSON(tx.Bucket(bDevices), []byte(id), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func putDevice(tx Tx, d *Device) error {
	if err := putJSON(tx.Bucket(bDevices), []byte(d.ID), d); err != nil {
		return err
	}
	for _, st := range d.Staff {
		if err := tx.Bucket(bIdxDevice).Put(staffDeviceKey(st, d.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

func staffDeviceKey(staff, device app.ID) []byte {
	k := make([]byte, 0, len(staff)+1+len(device))
	k = append(k, staff...)
	k = append(k, 0)
	return append(k, device...)
}

// usernameKey is the index key of a username: a keyed hash, so that no
// name-bearing username is a bbolt key.
func (s *Service) usernameKey(username string) []byte {
	m := hmac.New(sha256.New, s.idxKey)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(username))))
	return m.Sum(nil)[:16]
}

// deleteSessions deletes the sessions for which match is true. Once tx
// commits, the access tokens of those sessions stop too (Authenticate
// checks the session of a token against a cache this drops).
func (s *Service) deleteSessions(tx Tx, match func(*session) bool) error {
	b := tx.Bucket(bSessions)
	var del [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var se session
		if err := json.Unmarshal(v, &se); err != nil {
			return fmt.Errorf("decode session: %w", err)
		}
		if match(&se) {
			del = append(del, clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range del {
		if err := s.deleteSession(tx, app.ID(k)); err != nil {
			return err
		}
	}
	return nil
}

// deleteSession deletes one session; its access tokens stop once tx commits.
func (s *Service) deleteSession(tx Tx, id app.ID) error {
	if err := tx.Bucket(bSessions).Delete([]byte(id)); err != nil {
		return err
	}
	tx.OnCommit(func() { s.forgetSession(id) })
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("staffauth: crypto/rand failed: " + err.Error())
	}
	return b
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
