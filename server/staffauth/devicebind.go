package staffauth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"mottagning/app"
)

// Devices are bound to keys, not to ids (issue 13, finding 2).
//
// A device id is no secret: it is in the desktop's file, in logs, in
// administrators' lists. So it proves nothing. A desktop makes an Ed25519
// key pair at its first online sign-in and sends the public key
// (SignInRequest.DeviceKey); the server keeps it with the device it
// registers (Device.Key). A later sign-in that names the device must carry
// the device's signature (app.SignDeviceProof) over a fresh challenge of
// the server (Challenge), bound to the device id and to the purpose
// (app.ProofSignIn). Without it the sign-in is refused (ErrDeviceProof);
// it never gets the device, and so never its escrow, its access-log key,
// its checkpoints or its sessions, which all follow from the device of
// the token.
//
// A challenge is "c1." + base64url(16 random bytes ‖ expiry) + "." +
// base64url(HMAC-SHA256(key, the part before the dot)). The key is made
// when the Service starts and is kept in memory only: nothing is stored
// per challenge until one is used, and a restart voids every challenge
// that was out (the desktop asks for another). A used challenge is
// remembered until its expiry, so it serves once.
//
// A device registered before keys has none. Naming it at a sign-in gets
// a fresh device (its id proves nothing, so it is treated as unknown),
// unless it is revoked, which is then said (without the reason: the
// caller proved nothing). Such a device adopts a key only with its
// current refresh token, which only the desktop that holds its sessions
// has (RefreshDevice with app.ProofAdopt).

// Errors of device binding.
var (
	// ErrDeviceProof: a sign-in named a device without its signature, or
	// with one its key did not make; or a device that has a key was
	// offered another one. "device_proof" on the wire.
	ErrDeviceProof = errors.New("device proof missing or invalid")
	// ErrChallenge: the challenge is malformed, forged, expired or used;
	// ask for another. "challenge_invalid" on the wire.
	ErrChallenge = errors.New("device challenge invalid, expired or used")
)

// RevokedError is ErrDeviceRevoked with the revocation, for the device
// that was revoked (its tokens, or a sign-in with its proof): the desktop
// shows its users why. Error() holds the device id only, never the
// reason (free text of an administrator).
type RevokedError struct {
	Device app.ID
	// Reason is the administrator's words, or the server's; empty when the
	// caller has not proved it is the device.
	Reason string
	At     time.Time
}

func (e *RevokedError) Error() string { return "device " + string(e.Device) + ": device revoked" }

// Is makes a RevokedError ErrDeviceRevoked.
func (e *RevokedError) Is(target error) bool { return target == ErrDeviceRevoked }

func revokedErr(d *Device) *RevokedError {
	return &RevokedError{Device: d.ID, Reason: d.RevokeReason, At: d.RevokedAt}
}

// KeyProof is a device's proof: its public key (at registration or
// adoption), a challenge from Challenge and its signature
// (app.SignDeviceProof) for the device id and purpose.
type KeyProof struct {
	PublicKey []byte
	Challenge string
	Signature []byte
}

const (
	challengePrefix   = "c1."
	challengeNonceLen = 16
	// maxUsedChallenges bounds the memory of used challenges; past it
	// (after dropping the expired ones) challenges are refused until some
	// expire, which is failing closed.
	maxUsedChallenges = 1 << 16
)

// challenges issues and checks device challenges (see the top of the file).
type challenges struct {
	clock app.Clock
	ttl   time.Duration
	key   []byte
	// kv, on a shared database, keeps the used challenges instead of used.
	kv KV

	mu   stdsync.Mutex
	used map[string]time.Time // nonce → expiry
}

func newChallenges(clock app.Clock, ttl time.Duration) challenges {
	return challenges{clock: clock, ttl: ttl, key: randomBytes(32), used: map[string]time.Time{}}
}

// Challenge returns a new device challenge and when it expires.
func (s *Service) Challenge() (string, time.Time) {
	c := &s.challenges
	exp := c.clock.Now().Add(c.ttl).Truncate(time.Second)
	raw := binary.BigEndian.AppendUint64(randomBytes(challengeNonceLen), uint64(exp.Unix()))
	signed := challengePrefix + b64.EncodeToString(raw)
	return signed + "." + b64.EncodeToString(mac(c.key, signed)), exp
}

// valid reports whether ch is a challenge of ours, unexpired and unused,
// without spending it.
func (c *challenges) valid(ch string) bool {
	nonce, ok := c.parse(ch)
	if !ok {
		return false
	}
	if c.kv != nil {
		seen := true
		_ = c.kv.View(func(tx Tx) error { seen = tx.Bucket(bUsedChallenges).Get([]byte(nonce)) != nil; return nil })
		return !seen
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, seen := c.used[nonce]
	return !seen
}

// parse checks a challenge's form, signature and expiry and returns its nonce.
func (c *challenges) parse(ch string) (string, bool) {
	if len(ch) > 128 || !strings.HasPrefix(ch, challengePrefix) {
		return "", false
	}
	dot := strings.LastIndexByte(ch, '.')
	if dot < len(challengePrefix) {
		return "", false
	}
	signed, sigText := ch[:dot], ch[dot+1:]
	sig, err := b64.DecodeString(sigText)
	if err != nil || !hmac.Equal(sig, mac(c.key, signed)) {
		return "", false
	}
	raw, err := b64.DecodeString(signed[len(challengePrefix):])
	if err != nil || len(raw) != challengeNonceLen+8 {
		return "", false
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(raw[challengeNonceLen:])), 0)
	if !c.clock.Now().Before(exp) {
		return "", false
	}
	return string(raw[:challengeNonceLen]), true
}

// knownDevice returns the device of a sign-in of staff when the request
// proves it is one of staff's own registered devices (its key signed the
// challenge; the challenge is not spent here, SignIn spends it), or "".
// Failed sign-ins from such a device count on the device, not on the
// account (signin.go): whoever guesses at a colleague's password from
// elsewhere cannot lock them out of their own computer.
func (s *Service) knownDevice(req *SignInRequest, staff app.ID) app.ID {
	if req.DeviceID == "" || len(req.DeviceProof) == 0 || !s.challenges.valid(req.Challenge) {
		return ""
	}
	var d *Device
	if err := s.db.View(func(tx Tx) (err error) { d, err = getDevice(tx, req.DeviceID); return err }); err != nil {
		return ""
	}
	if len(d.Key) == 0 || d.Revoked || !slices.Contains(d.Staff, staff) ||
		!app.VerifyDeviceProof(ed25519.PublicKey(d.Key), app.ProofSignIn, d.ID, req.Challenge, req.DeviceProof) {
		return ""
	}
	return d.ID
}

// use checks a challenge and spends it: ErrChallenge when it is not one
// of ours, has expired or was used before.
func (c *challenges) use(tx Tx, ch string) error {
	if len(ch) > 128 || !strings.HasPrefix(ch, challengePrefix) {
		return ErrChallenge
	}
	dot := strings.LastIndexByte(ch, '.')
	if dot < len(challengePrefix) {
		return ErrChallenge
	}
	signed, sigText := ch[:dot], ch[dot+1:]
	sig, err := b64.DecodeString(sigText)
	if err != nil || !hmac.Equal(sig, mac(c.key, signed)) {
		return ErrChallenge
	}
	raw, err := b64.DecodeString(signed[len(challengePrefix):])
	if err != nil || len(raw) != challengeNonceLen+8 {
		return ErrChallenge
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(raw[challengeNonceLen:])), 0)
	now := c.clock.Now()
	if !now.Before(exp) {
		return ErrChallenge
	}
	nonce := string(raw[:challengeNonceLen])
	if c.kv != nil {
		return c.useShared(tx, nonce, exp, now)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.used[nonce]; seen {
		return ErrChallenge
	}
	if len(c.used) >= maxUsedChallenges {
		for k, e := range c.used {
			if !now.Before(e) {
				delete(c.used, k)
			}
		}
		if len(c.used) >= maxUsedChallenges {
			return ErrChallenge
		}
	}
	c.used[nonce] = exp
	return nil
}

// useShared spends a challenge in the shared database, in tx (the
// sign-in's transaction): the first node to commit its nonce wins, any
// later use is refused. Expired nonces go
// now and then.
func (c *challenges) useShared(tx Tx, nonce string, exp, now time.Time) error {
	err := func() error {
		b := tx.Bucket(bUsedChallenges)
		if b.Get([]byte(nonce)) != nil {
			return ErrChallenge
		}
		if now.Unix()%16 == 0 {
			var old [][]byte
			err := b.ForEach(func(k, v []byte) error {
				if len(v) == 8 && !now.Before(time.Unix(int64(binary.BigEndian.Uint64(v)), 0)) {
					old = append(old, clone(k))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return b.Put([]byte(nonce), binary.BigEndian.AppendUint64(nil, uint64(exp.Unix())))
	}()
	if errors.Is(err, ErrChallenge) {
		return ErrChallenge
	}
	return err
}

// checkProof spends the proof's challenge and checks that pub signed it
// for purpose and device: nil, ErrChallenge or ErrDeviceProof.
func (s *Service) checkProof(tx Tx, pub []byte, purpose string, device app.ID, challenge string, sig []byte) error {
	if challenge == "" || len(sig) == 0 {
		return ErrDeviceProof
	}
	if err := s.challenges.use(tx, challenge); err != nil {
		return err
	}
	if !app.VerifyDeviceProof(ed25519.PublicKey(pub), purpose, device, challenge, sig) {
		return ErrDeviceProof
	}
	return nil
}

func checkPublicKey(pub []byte) error {
	if pub != nil && len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("device key of %d bytes: %w", len(pub), app.ErrInvalid)
	}
	return nil
}

// signInDevice picks the device of a sign-in of staff (see the top of the
// file) and reports whether it is bound to the key the request presented.
// It stores nothing; SignIn does.
func (s *Service) signInDevice(tx Tx, req *SignInRequest, staff app.ID, now time.Time) (*Device, bool, error) {
	if err := checkPublicKey(req.DeviceKey); err != nil {
		return nil, false, err
	}
	fresh := func() (*Device, bool, error) {
		d := &Device{ID: app.NewID(now), Name: cleanDeviceName(req.DeviceName), RegisteredAt: now, RegisteredBy: staff}
		if req.DeviceKey != nil {
			d.Key, d.KeyAt = clone(req.DeviceKey), now
		}
		return d, d.Key != nil, nil
	}
	d, err := getDevice(tx, req.DeviceID)
	switch {
	case errors.Is(err, app.ErrNotFound):
		return fresh()
	case err != nil:
		return nil, false, err
	case len(d.Key) == 0 && d.Revoked:
		// Nothing proved: that it is revoked, not why.
		return nil, false, &RevokedError{Device: d.ID}
	case len(d.Key) == 0:
		return fresh()
	}
	if err := s.checkProof(tx, d.Key, app.ProofSignIn, d.ID, req.Challenge, req.DeviceProof); err != nil {
		return nil, false, fmt.Errorf("device %s: %w", d.ID, err)
	}
	if d.Revoked {
		return nil, false, revokedErr(d)
	}
	return d, true, nil
}

// adoptKey binds a device without a key to the adoption's key (the caller
// has shown the device's current refresh token), or confirms the key it
// has. It changes d in memory; the caller stores it.
func (s *Service) adoptKey(tx Tx, d *Device, k *KeyProof, now time.Time) error {
	if err := checkPublicKey(k.PublicKey); err != nil || k.PublicKey == nil {
		return fmt.Errorf("device %s: adopt key: %w", d.ID, app.ErrInvalid)
	}
	if len(d.Key) > 0 {
		if !bytes.Equal(d.Key, k.PublicKey) {
			return fmt.Errorf("device %s: another key than its own: %w", d.ID, ErrDeviceProof)
		}
		return nil
	}
	if err := s.checkProof(tx, k.PublicKey, app.ProofAdopt, d.ID, k.Challenge, k.Signature); err != nil {
		return fmt.Errorf("device %s: adopt key: %w", d.ID, err)
	}
	d.Key, d.KeyAt = clone(k.PublicKey), now
	return nil
}
