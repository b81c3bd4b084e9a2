package storage

import (
	"context"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"mottagning/app"
)

// The encrypted local store (the patient-data safety issue, item 3).
//
// Every value of a sealed bucket is sealed with XChaCha20-Poly1305 under
// one random 256-bit data key, with the bucket and key as associated data
// (codec id 1; a value moved to another key does not open). The data key
// is never stored. It is wrapped once per staff member who has signed in
// on the device, under a key derived from that member's password with
// argon2id, and kept in meta:
//
//	meta/cipher               "xchacha20poly1305": the file is sealed
//	meta/datakey/<staffID>    JSON wrappedKey: argon2id salt and cost, and
//	                          the data key sealed under the derived key,
//	                          with "…data key v1" and the staff id as
//	                          associated data
//	meta/escrow/<id>, meta/oskey/<staffID>
//	                          the data key's other wraps (keys.go): under a
//	                          device-wrap key the server keeps, and under a
//	                          secret in the OS key store
//	meta/pnrkey, meta/accesslog_key
//	                          sealed like a value (rawFormat envelope): with
//	                          the personnummer index key in the clear, the
//	                          keyed hashes of resident_pnr could be matched
//	                          against every possible personnummer
//
// What stays readable before Unlock: the directory the sign-in screen
// and app.LocalAuth need — clinics, staff (names, usernames, roles) and
// credentials (argon2id verifiers) — and the index keys, which hold ids,
// fixed codes, timestamps and keyed hashes only (TestNoPersonalDataInKeys,
// TestEncryptedFileHoldsNoPlaintext). None of it is patient data. A
// replaced verifier lets someone past LocalAuth, not past Unlock: the
// data key opens only with the real password.
//
// Residents, cases with their messages and notes, attachments, templates,
// e-services, the access log and its checkpoints, the outbox (addresses)
// and pending sync ops (payloads) are sealed.
//
// A plain database opened with Options.Encrypt is rewritten sealed at the
// first Unlock (encryptFile): every value is copied through the codec into
// a new, compact file, which replaces the old one by rename; the old file
// and the plaintext copies earlier migrations left (*.bak) are overwritten
// with zeros and removed. The rewrite waits for the first password because
// a data key nobody has wrapped would be lost at the next exit.

var (
	kCipher         = []byte("cipher")
	cipherName      = []byte("xchacha20poly1305")
	kDataKeyPrefix  = "datakey/"
	dataKeyADPrefix = "mottagning data key v1\x00"
)

// Errors of the encrypted store; neither changes the file. They are app's
// values, so the UI (which imports app, not storage) can tell them apart.
var (
	// ErrLocked: the database is encrypted and not unlocked, or the staff
	// member has no key on this device (they have never signed in here
	// while it was unlocked): sign in as someone who has.
	ErrLocked = app.ErrLocked
	// ErrWrongKey: the password does not open the staff member's key, or
	// the key does not open this database.
	ErrWrongKey = app.ErrWrongKey
)

var _ app.KeyStore = (*Store)(nil)

const aeadCodecID = 1

// aeadCodec seals with XChaCha20-Poly1305: a random 24-byte nonce (safe at
// any number of values under one key), then the ciphertext and tag.
type aeadCodec struct{ aead cipher.AEAD }

func newAEADCodec(key []byte) (*aeadCodec, error) {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return &aeadCodec{aead: a}, nil
}

func (c *aeadCodec) ID() byte { return aeadCodecID }

func (c *aeadCodec) Seal(p, ad []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	out := make([]byte, ns, ns+len(p)+c.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return c.aead.Seal(out, out[:ns], p, ad), nil
}

func (c *aeadCodec) Open(sealed, ad []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	if len(sealed) < ns+c.aead.Overhead() {
		return nil, errors.New("sealed value too short")
	}
	return c.aead.Open(nil, sealed[:ns], sealed[ns:], ad)
}

// lockedCodec stands in for the data key while an encrypted database is
// locked: every sealed value reads as ErrLocked.
type lockedCodec struct{}

func (lockedCodec) ID() byte                         { return aeadCodecID }
func (lockedCodec) Seal(_, _ []byte) ([]byte, error) { return nil, ErrLocked }
func (lockedCodec) Open(_, _ []byte) ([]byte, error) { return nil, ErrLocked }

// Bucket classes. Every bucket is in exactly one; encryptFile refuses a
// bucket it does not know, so a new bucket cannot slip into the file
// unsealed.
var (
	// plainBuckets hold envelopes that stay readable before Unlock.
	plainBuckets = bucketSet(bClinics, bStaff, bCredentials)
	// sealedBuckets hold envelopes sealed with the data key.
	sealedBuckets = bucketSet(bResidents, bTemplates, bEServices, bCaseItems, bAttachments,
		bAccessChain, bCheckpoints, bOutbox, bPendingOps, bForms, bAppliedOps, bSyncResult, bSyncState,
		// Staged chunks are attachment bytes; the fetch list has file names.
		bAttachChunks, bAttachFetch)
	// rawBuckets hold index keys and raw values (ids, sequence numbers).
	rawBuckets = bucketSet(bMeta, bResidentPNR, bIdxStatus, bIdxAssignee, bIdxResident, bIdxAccess,
		bIdxOutboxDue, bIdxOutboxCase, bChanges, bChangeKeys, bAttachOwner,
		// What the server recorded as sent to which device: ids, versions.
		bPullLogged)
)

func bucketSet(bs ...[]byte) map[string]bool {
	m := make(map[string]bool, len(bs))
	for _, b := range bs {
		m[string(b)] = true
	}
	return m
}

// c is the codec of bucket's values.
func (s *Store) c(bucket []byte) Codec {
	if plainBuckets[string(bucket)] {
		return plainCodec{}
	}
	return s.codec
}

// wrappedKey is the data key wrapped for one staff member.
type wrappedKey struct {
	KDF     string
	Salt    []byte
	Time    uint32
	MemKiB  uint32
	Threads uint8
	// Sealed is nonce ‖ XChaCha20-Poly1305(kek, data key).
	Sealed []byte
}

func (w *wrappedKey) kek(password string) []byte {
	return argon2.IDKey([]byte(password), w.Salt, w.Time, w.MemKiB, w.Threads, chacha20poly1305.KeySize)
}

func wrapKey(dataKey []byte, staffID app.ID, password string, p app.PasswordParams) (*wrappedKey, error) {
	w := &wrappedKey{KDF: "argon2id", Salt: make([]byte, 16), Time: p.Time, MemKiB: p.MemKiB, Threads: p.Threads}
	if _, err := rand.Read(w.Salt); err != nil {
		return nil, err
	}
	c, err := newAEADCodec(w.kek(password))
	if err != nil {
		return nil, err
	}
	w.Sealed, err = c.Seal(dataKey, []byte(dataKeyADPrefix+string(staffID)))
	return w, err
}

func (w *wrappedKey) unwrap(staffID app.ID, password string) ([]byte, error) {
	if w.KDF != "argon2id" || w.Time == 0 || w.Threads == 0 || len(w.Salt) == 0 {
		return nil, fmt.Errorf("key of staff %s: unknown key derivation: %w", staffID, ErrWrongKey)
	}
	c, err := newAEADCodec(w.kek(password))
	if err != nil {
		return nil, err
	}
	key, err := c.Open(w.Sealed, []byte(dataKeyADPrefix+string(staffID)))
	if err != nil || len(key) != chacha20poly1305.KeySize {
		return nil, fmt.Errorf("key of staff %s: %w", staffID, ErrWrongKey)
	}
	return key, nil
}

func dataKeyName(staffID app.ID) []byte { return []byte(kDataKeyPrefix + string(staffID)) }

func readWrapped(tx *bolt.Tx, staffID app.ID) (*wrappedKey, error) {
	v := tx.Bucket(bMeta).Get(dataKeyName(staffID))
	if v == nil {
		return nil, nil
	}
	var w wrappedKey
	if err := json.Unmarshal(v, &w); err != nil {
		return nil, fmt.Errorf("key of staff %s: %w: %w", staffID, ErrCorruptValue, err)
	}
	return &w, nil
}

// readSecret reads a secret of meta: raw in a plain database, sealed in
// an encrypted one. A missing secret is nil.
func readSecret(tx *bolt.Tx, codec Codec, encrypted bool, k []byte) ([]byte, error) {
	v := tx.Bucket(bMeta).Get(k)
	if v == nil {
		return nil, nil
	}
	if !encrypted {
		return append([]byte(nil), v...), nil
	}
	return decodeRaw(codec, bMeta, k, v)
}

// loadKeys reads the index and signing keys, or forgets them while an
// encrypted database is locked. The caller holds s.mu or owns s alone.
func (s *Store) loadKeys(tx *bolt.Tx) error {
	s.pnrKey, s.signKey = nil, nil
	if s.encrypted && s.dataKey == nil {
		return nil
	}
	pnr, err := readSecret(tx, s.codec, s.encrypted, kPNRKey)
	if err != nil {
		return fmt.Errorf("open %s: index key: %w: %w", s.path, ErrWrongKey, err)
	}
	if len(pnr) != 32 {
		return fmt.Errorf("open %s: index key missing: %w", s.path, ErrUnreadable)
	}
	seed, err := readSecret(tx, s.codec, s.encrypted, kLogKey)
	if err != nil {
		return fmt.Errorf("open %s: access-log key: %w: %w", s.path, ErrWrongKey, err)
	}
	if seed != nil && len(seed) != ed25519.SeedSize {
		return fmt.Errorf("open %s: access-log key of %d bytes: %w", s.path, len(seed), ErrUnreadable)
	}
	s.pnrKey = pnr
	if seed != nil {
		s.signKey = ed25519.NewKeyFromSeed(seed)
	}
	return nil
}

// forgetKeys drops the keys from memory. The caller holds s.mu.
func (s *Store) forgetKeys() {
	clear(s.dataKey)
	clear(s.pnrKey)
	clear(s.signKey)
	s.dataKey, s.pnrKey, s.signKey = nil, nil, nil
	if s.encrypted {
		s.codec = lockedCodec{}
	}
}

// Encrypted reports whether the database file is sealed.
func (s *Store) Encrypted() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.encrypted
}

// Locked reports whether sealed values cannot be read now: the database
// is encrypted and nobody has unlocked it, or it is plain and waits for
// the first Unlock to be encrypted (Options.Encrypt).
func (s *Store) Locked() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.encrypted && s.dataKey == nil
}

// Unlock is called at sign-in, after app.LocalAuth (or the server) has
// accepted staffID's password. It makes the sealed values readable and
// makes sure staffID can unlock this device next time:
//
//   - locked: staffID's wrapped key is opened with the password
//     (ErrLocked when staffID has none on this device, ErrWrongKey when the
//     password does not open it);
//   - unlocked: staffID's key is wrapped now if it is missing, or wrapped
//     again if the password changed since (the caller verified it);
//   - plain with Options.Encrypt: the file is rewritten encrypted under a
//     new data key wrapped for staffID (encryptFile);
//   - plain without Options.Encrypt: nothing.
//
// Only a verified password may reach Unlock in the unlocked state, or
// anyone could enrol: the store cannot tell a right password from a new one.
func (s *Store) Unlock(ctx context.Context, staffID app.ID, password string) error {
	if staffID == "" {
		return fmt.Errorf("unlock: no staff id: %w", app.ErrInvalid)
	}
	var w *wrappedKey
	var encrypted, unlocked bool
	var dataKey []byte
	err := s.viewC(ctx, func(tx *bolt.Tx) (err error) {
		encrypted, unlocked = s.encrypted, s.dataKey != nil
		dataKey = append([]byte(nil), s.dataKey...)
		if encrypted {
			w, err = readWrapped(tx, staffID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("unlock for staff %s: %w", staffID, err)
	}
	switch {
	case !encrypted && !s.opt.Encrypt:
		return nil
	case !encrypted:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.encrypted { // another Unlock got here first
			return nil
		}
		return s.encryptFileForStaff(ctx, staffID, password)
	case !unlocked:
		if w == nil {
			return fmt.Errorf("unlock for staff %s: no key on this device: %w", staffID, ErrLocked)
		}
		key, err := w.unwrap(staffID, password)
		if err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		return s.useKey(key)
	}
	if w != nil {
		if _, err := w.unwrap(staffID, password); err == nil {
			return nil
		}
	}
	nw, err := wrapKey(dataKey, staffID, password, s.opt.KeyParams)
	if err != nil {
		return fmt.Errorf("unlock: wrap key of staff %s: %w", staffID, err)
	}
	data, err := json.Marshal(nw)
	if err != nil {
		return err
	}
	return s.updateC(ctx, "wrap key of staff "+string(staffID), func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(dataKeyName(staffID), data)
	})
}

// useKey unlocks with a data key that opened a wrapped key.
func (s *Store) useKey(key []byte) error {
	codec, err := newAEADCodec(key)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dataKey != nil {
		return nil
	}
	s.codec, s.dataKey = codec, key
	if err := guard(s.path, func() error { return s.db.View(s.loadKeys) }); err != nil {
		s.forgetKeys()
		return err
	}
	if err := s.finishAttachmentsByCase(codec); err != nil {
		s.forgetKeys()
		return err
	}
	return nil
}

// Lock forgets the data key (at sign-out): sealed values read as
// ErrLocked until the next Unlock. A plain database is not affected.
func (s *Store) Lock() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.encrypted {
		s.forgetKeys()
	}
}

// KeyHolders lists the staff members who can unlock this device.
func (s *Store) KeyHolders() ([]app.ID, error) {
	var out []app.ID
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bMeta).Cursor()
		p := []byte(kDataKeyPrefix)
		for k, _ := c.Seek(p); k != nil && strings.HasPrefix(string(k), kDataKeyPrefix); k, _ = c.Next() {
			out = append(out, app.ID(k[len(p):]))
		}
		return nil
	})
	return out, err
}

// RemoveKeyHolder removes staffID's wrapped key (an account disabled or
// moved away). The last key is never removed: the data would be lost.
func (s *Store) RemoveKeyHolder(ctx context.Context, staffID app.ID) error {
	return s.updateC(ctx, "remove key of staff "+string(staffID), func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta.Get(dataKeyName(staffID)) == nil {
			return fmt.Errorf("key of staff %s: %w", staffID, app.ErrNotFound)
		}
		n := 0
		c := meta.Cursor()
		for k, _ := c.Seek([]byte(kDataKeyPrefix)); k != nil && strings.HasPrefix(string(k), kDataKeyPrefix); k, _ = c.Next() {
			n++
		}
		if n <= 1 {
			return fmt.Errorf("key of staff %s is the last one: %w", staffID, app.ErrConflict)
		}
		// Their OS key store wrap goes too (keys.go): it is a way in.
		if err := meta.Delete(osKeyName(staffID)); err != nil {
			return err
		}
		return meta.Delete(dataKeyName(staffID))
	})
}

// encryptFileForStaff encrypts the file under a new data key wrapped for
// staffID's password. The caller holds s.mu for writing.
func (s *Store) encryptFileForStaff(ctx context.Context, staffID app.ID, password string) error {
	dataKey := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(dataKey); err != nil {
		return err
	}
	w, err := wrapKey(dataKey, staffID, password, s.opt.KeyParams)
	if err != nil {
		return fmt.Errorf("encrypt database: wrap key: %w", err)
	}
	wrapped, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return s.encryptFile(ctx, dataKey, dataKeyName(staffID), wrapped)
}

// encryptFile rewrites the plain database sealed under dataKey, with the
// data key's wrap (wrapped) at meta/wrapName, replaces the file atomically
// and scrubs the plaintext. The caller holds s.mu for writing. A crash
// before the rename leaves the plain database as it was (and a stray
// <file>.encrypting, removed next time); after it, the sealed one.
func (s *Store) encryptFile(ctx context.Context, dataKey, wrapName, wrapped []byte) (err error) {
	codec, err := newAEADCodec(dataKey)
	if err != nil {
		return err
	}
	tmp := s.path + ".encrypting"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("encrypt database: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: s.opt.Timeout, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return writeError("encrypt database: create "+tmp, err)
	}
	err = s.copySealed(ctx, dst, codec, wrapName, wrapped)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return writeError("encrypt database", err)
	}

	// Keep a handle on the plain file to overwrite it once it is unlinked.
	old, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("encrypt database: %w", err)
	}
	defer old.Close()
	if err := s.db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("encrypt database: close plain file: %w", err)
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr == nil {
		renameErr = syncDir(filepath.Dir(s.path))
	}
	db, err := openBolt(s.path, s.opt)
	if err != nil {
		return openError(s.path, err) // the store is closed now; the file is fine
	}
	s.db = db
	if renameErr != nil {
		os.Remove(tmp)
		return fmt.Errorf("encrypt database: replace file: %w", renameErr)
	}
	s.encrypted, s.codec, s.dataKey = true, codec, dataKey
	if err := guard(s.path, func() error { return s.db.View(s.loadKeys) }); err != nil {
		return err
	}
	// No plaintext left behind: the old file's bytes, and the copies
	// earlier migrations made before upgrading (they are plain too).
	// Overwriting is best effort on SSDs and copy-on-write file systems,
	// which may keep the old blocks; full-disk encryption covers those.
	var scrubErr error
	if err := scrub(old); err != nil {
		scrubErr = err
	}
	baks, _ := filepath.Glob(s.path + ".v*.bak")
	for _, b := range baks {
		if err := scrubPath(b); err != nil && scrubErr == nil {
			scrubErr = err
		}
	}
	if scrubErr != nil {
		return fmt.Errorf("encrypt database: the database is encrypted, but a plaintext copy could not be erased: %w", scrubErr)
	}
	return nil
}

// copySealed copies every bucket of s.db into dst, sealing what belongs
// sealed under codec, in transactions of about copyTxBytes.
func (s *Store) copySealed(ctx context.Context, dst *bolt.DB, codec Codec, wrapName, wrapped []byte) error {
	return guard(s.path, func() error { return s.copySealedTx(ctx, dst, codec, wrapName, wrapped) })
}

func (s *Store) copySealedTx(ctx context.Context, dst *bolt.DB, codec Codec, wrapName, wrapped []byte) error {
	const copyTxBytes = 32 << 20
	return s.db.View(func(src *bolt.Tx) error {
		dtx, err := dst.Begin(true)
		if err != nil {
			return err
		}
		defer func() { _ = dtx.Rollback() }()
		size := 0
		err = src.ForEach(func(name []byte, b *bolt.Bucket) error {
			n := string(name)
			if !plainBuckets[n] && !sealedBuckets[n] && !rawBuckets[n] {
				return fmt.Errorf("bucket %s has no class in crypt.go: %w", name, app.ErrInvalid)
			}
			db, err := dtx.CreateBucket(name)
			if err != nil {
				return err
			}
			db.FillPercent = 1 // keys arrive in order; the file is to be compact
			if err := db.SetSequence(b.Sequence()); err != nil {
				return err
			}
			return b.ForEach(func(k, v []byte) error {
				if v == nil {
					return fmt.Errorf("bucket %s: nested bucket %x: %w", name, k, app.ErrInvalid)
				}
				nv, err := s.reseal(name, k, v, codec)
				if err != nil {
					return err
				}
				if err := db.Put(k, nv); err != nil {
					return err
				}
				if size += len(k) + len(nv); size < copyTxBytes {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := dtx.Commit(); err != nil {
					return err
				}
				size = 0
				if dtx, err = dst.Begin(true); err != nil {
					return err
				}
				db = dtx.Bucket(name)
				db.FillPercent = 1
				return nil
			})
		})
		if err != nil {
			return err
		}
		meta := dtx.Bucket(bMeta)
		if err := meta.Put(kCipher, cipherName); err != nil {
			return err
		}
		if err := meta.Put(wrapName, wrapped); err != nil {
			return err
		}
		return dtx.Commit()
	})
}

// reseal returns the value v of bucket name/k as the sealed file stores it.
func (s *Store) reseal(name, k, v []byte, codec Codec) ([]byte, error) {
	n := string(name)
	switch {
	case n == string(bMeta) && (string(k) == string(kPNRKey) || string(k) == string(kLogKey)):
		return encodeRaw(codec, bMeta, k, v)
	case !sealedBuckets[n]:
		return v, nil
	}
	if len(v) < 2 || (v[0] != envelopeFormat && v[0] != rawFormat) || v[1] != s.codec.ID() {
		return nil, fmt.Errorf("%s value: unknown envelope: %w", name, ErrCorruptValue)
	}
	ad := adFor(name, k)
	p, err := s.codec.Open(v[2:], ad)
	if err != nil {
		return nil, fmt.Errorf("%s value: %w: %w", name, ErrCorruptValue, err)
	}
	sealed, err := codec.Seal(p, ad)
	if err != nil {
		return nil, err
	}
	return append([]byte{v[0], codec.ID()}, sealed...), nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err // some systems (Windows) cannot sync a directory
	}
	return nil
}

// scrub overwrites the whole file f with zeros and syncs it.
func scrub(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	zero := make([]byte, 1<<20)
	for off := int64(0); off < fi.Size(); off += int64(len(zero)) {
		n := min(int64(len(zero)), fi.Size()-off)
		if _, err := f.WriteAt(zero[:n], off); err != nil {
			return err
		}
	}
	return f.Sync()
}

func scrubPath(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = scrub(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Remove(path)
}
