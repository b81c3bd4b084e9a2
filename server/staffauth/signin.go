package staffauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"mottagning/app"
)

// Authenticator checks who is signing in. The default checks password and
// TOTP against auth.db; a SITHS/HSA-id login implements it too and is set
// in Options.Authenticator. It returns the staff member (whose account
// must exist in auth.db; SignIn takes roles and the disabled flag from
// there) or ErrBadCredentials, *TooManyAttemptsError, ErrTOTPRequired or
// ErrAccountDisabled. It must not register devices or issue tokens: SignIn
// does that for every Authenticator alike.
type Authenticator interface {
	Authenticate(ctx context.Context, req SignInRequest) (*app.Staff, error)
}

// SignInRequest is one sign-in attempt. TOTP or RecoveryCode is needed
// when the account has TOTP (ErrTOTPRequired says so).
type SignInRequest struct {
	Username     string
	Password     string
	TOTP         string
	RecoveryCode string
	// DeviceID is the id a previous SignIn returned on this device. Empty
	// (or unknown to the server, e.g. after a restore) at a device's first
	// sign-in: a new device is registered and its id is in Tokens.DeviceID.
	// An id alone proves nothing (devicebind.go): naming a device that has
	// a key takes Challenge and DeviceProof; naming one without a key
	// registers a new device.
	DeviceID   app.ID
	DeviceName string
	// DeviceKey is the device's Ed25519 public key, kept with a device
	// this sign-in registers.
	DeviceKey []byte
	// Challenge is one from Service.Challenge, and DeviceProof the
	// device key's signature of app.DeviceProofBytes(app.ProofSignIn,
	// DeviceID, Challenge).
	Challenge   string
	DeviceProof []byte
}

// maxSecretLen bounds passwords and codes: argon2 reads all of it.
const maxSecretLen = 1024

// passwordTOTP is the default Authenticator.
type passwordTOTP struct{ s *Service }

// lockFor is app/auth.go's backoff: app.FreeAttempts failures are free;
// each further one locks for app.LockBase doubled per extra failure, at
// most app.LockMax.
func lockFor(failures int) time.Duration {
	if failures < app.FreeAttempts {
		return 0
	}
	d := app.LockBase
	for i := app.FreeAttempts; i < failures && d < app.LockMax; i++ {
		d *= 2
	}
	return min(d, app.LockMax)
}

// lockOf is the lock a sign-in counts on: dev's (a known device that
// proved itself) or the account's (anywhere else).
func lockOf(a *account, dev app.ID) (failures *int, until *time.Time) {
	if dev == "" {
		return &a.Failures, &a.LockedUntil
	}
	if a.DeviceLocks == nil {
		a.DeviceLocks = map[app.ID]*lockState{}
	}
	l := a.DeviceLocks[dev]
	if l == nil {
		l = &lockState{}
		a.DeviceLocks[dev] = l
	}
	return &l.Failures, &l.LockedUntil
}

// fail counts one failure on a's lock for dev and returns the error to give.
func fail(a *account, dev app.ID, now time.Time) error {
	failures, until := lockOf(a, dev)
	*failures++
	if d := lockFor(*failures); d > 0 {
		*until = now.Add(d)
		return &TooManyAttemptsError{Until: *until}
	}
	return ErrBadCredentials
}

// burn spends the time of a password check, so that an unknown username
// answers as slowly as a wrong password.
func (s *Service) burn(password string) {
	s.dummyOnce.Do(func() { s.dummy, _ = app.HashPassword("dummy password", s.opts.Params) })
	_, _ = app.VerifyPassword(s.dummy, password)
}

func (s *Service) lookupUsername(username string) (app.ID, error) {
	var id app.ID
	err := s.db.View(func(tx Tx) error {
		v := tx.Bucket(bIdxUsername).Get(s.usernameKey(username))
		if v == nil {
			return app.ErrNotFound
		}
		id = app.ID(v)
		return nil
	})
	return id, err
}

// checkPassword verifies password against a (loaded before; the caller
// holds the account lock) and records a failure in auth.db.
func (s *Service) checkPassword(a *account, dev app.ID, password string) error {
	now := s.clock.Now()
	_, until := lockOf(a, dev)
	if now.Before(*until) {
		return &TooManyAttemptsError{Until: *until}
	}
	if a.Hash == "" || len(password) > maxSecretLen {
		s.burn(password[:min(len(password), maxSecretLen)])
		return ErrBadCredentials
	}
	ok, err := app.VerifyPassword(a.Hash, password)
	if err != nil {
		return fmt.Errorf("password hash: %w", err)
	}
	if ok {
		return nil
	}
	var out error
	if err := s.updateAccount(a.Staff.ID, func(a *account) error { out = fail(a, dev, now); return nil }); err != nil {
		return err
	}
	return out
}

// Authenticate checks username, password and second factor.
func (p passwordTOTP) Authenticate(ctx context.Context, req SignInRequest) (*app.Staff, error) {
	s := p.s
	if len(req.Password) > maxSecretLen || len(req.Username) > 4*MaxUsernameLen {
		s.burn("")
		return nil, ErrBadCredentials
	}
	id, err := s.lookupUsername(req.Username)
	if errors.Is(err, app.ErrNotFound) {
		s.burn(req.Password)
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	mu := s.accountLock(id)
	mu.Lock()
	defer mu.Unlock()
	a, err := s.loadAccount(id)
	if errors.Is(err, app.ErrNotFound) {
		s.burn(req.Password)
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	dev := s.knownDevice(&req, id)
	if err := s.checkPassword(a, dev, req.Password); err != nil {
		return nil, err
	}
	if a.TOTPSecret == "" {
		return s.succeed(id, dev)
	}
	now := s.clock.Now()
	var out error
	err = s.updateAccount(id, func(a *account) error {
		switch {
		case req.TOTP != "":
			step, ok := verifyTOTP(a.TOTPSecret, req.TOTP, now, a.TOTPLastStep)
			if !ok {
				out = fail(a, dev, now)
				return nil
			}
			a.TOTPLastStep = step
		case req.RecoveryCode != "" && len(req.RecoveryCode) <= 64:
			h := hashRecovery(req.RecoveryCode)
			i := -1
			for j, x := range a.Recovery {
				if subtle.ConstantTimeCompare([]byte(x), []byte(h)) == 1 {
					i = j
				}
			}
			if i < 0 {
				out = fail(a, dev, now)
				return nil
			}
			a.Recovery = slices.Delete(a.Recovery, i, i+1)
		case req.RecoveryCode != "":
			out = fail(a, dev, now)
			return nil
		default:
			out = ErrTOTPRequired
		}
		return nil
	})
	if err == nil {
		err = out
	}
	if err != nil {
		return nil, err
	}
	return s.succeed(id, dev)
}

// succeed clears the failure count of the lock the sign-in counted on
// (dev's, or the account's) and returns the staff member, or
// ErrAccountDisabled (told only to whoever knew the password).
func (s *Service) succeed(id, dev app.ID) (*app.Staff, error) {
	var st app.Staff
	err := s.updateAccount(id, func(a *account) error {
		failures, until := lockOf(a, dev)
		*failures, *until = 0, time.Time{}
		if dev != "" {
			delete(a.DeviceLocks, dev)
		}
		st = a.Staff
		return nil
	})
	if err != nil {
		return nil, err
	}
	if st.Disabled {
		return nil, ErrAccountDisabled
	}
	return &st, nil
}

// MaxDeviceNameLen bounds a device name, in characters.
const MaxDeviceNameLen = 100

func cleanDeviceName(n string) string {
	n = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(n))
	if r := []rune(n); len(r) > MaxDeviceNameLen {
		n = string(r[:MaxDeviceNameLen])
	}
	return n
}

// SignIn signs a staff member in (through the Authenticator), registers
// the device at its first sign-in, and issues tokens for that device. A
// sign-in that names a device with a key must prove it holds the key
// (ErrDeviceProof, ErrChallenge; devicebind.go); one that names a device
// without a key gets a new device. A revoked device that proved itself
// gets a *RevokedError with the reason (ErrDeviceRevoked). The password
// is checked first: who does not know one learns nothing of devices. A
// staff member's earlier session on the same device ends.
func (s *Service) SignIn(ctx context.Context, req SignInRequest) (*Tokens, error) {
	st, err := s.auth.Authenticate(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	now := s.clock.Now()
	var t *Tokens
	err = s.db.Update(func(tx Tx) error {
		a, err := getAccount(tx, st.ID)
		if errors.Is(err, app.ErrNotFound) {
			return ErrBadCredentials // an Authenticator vouched for someone without an account
		} else if err != nil {
			return err
		}
		if a.Staff.Disabled {
			return ErrAccountDisabled
		}
		d, bound, err := s.signInDevice(tx, &req, st.ID, now)
		if err != nil {
			return err
		}
		d.LastSeen = now
		if !slices.Contains(d.Staff, st.ID) {
			d.Staff = append(d.Staff, st.ID)
		}
		if err := putDevice(tx, d); err != nil {
			return err
		}
		// This staff member's earlier session on the device ends, and
		// sessions past their expiry go (the bucket holds live ones only).
		err = s.deleteSessions(tx, func(se *session) bool {
			return !now.Before(se.Expires) || (se.StaffID == st.ID && se.DeviceID == d.ID)
		})
		if err != nil {
			return err
		}
		se := &session{ID: app.NewID(now), StaffID: st.ID, DeviceID: d.ID, Created: now, Expires: now.Add(s.opts.RefreshTTL)}
		if t, err = s.issue(tx, a, se, now); err != nil {
			return err
		}
		t.KeyBound = bound
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sign in: staff %s: %w", st.ID, err)
	}
	s.forget(nil, []app.ID{t.DeviceID})
	return t, nil
}

// issue stores se with a new refresh secret and returns the tokens.
func (s *Service) issue(tx Tx, a *account, se *session, now time.Time) (*Tokens, error) {
	refresh, hash := makeRefresh(se.ID)
	se.Hash = hash
	if err := putJSON(tx.Bucket(bSessions), []byte(se.ID), se); err != nil {
		return nil, err
	}
	exp := now.Add(s.opts.AccessTTL).Truncate(time.Second)
	if exp.After(se.Expires) {
		exp = se.Expires.Truncate(time.Second)
	}
	p := &accessPayload{Staff: a.Staff.ID, Device: se.DeviceID, Username: a.Staff.Username,
		Roles: a.Staff.Roles, Region: a.Staff.RegionRoles, Epoch: a.Epoch, Issued: now.Unix(), Expires: exp.Unix(),
		Auth: se.Created.Unix(), Session: se.ID}
	return &Tokens{Access: signAccess(s.key(), p), Refresh: refresh, AccessExpires: time.Unix(p.Expires, 0),
		RefreshExpires: se.Expires, DeviceID: se.DeviceID}, nil
}

// Refresh exchanges a refresh token for new tokens; the old refresh token
// is spent. An old (already rotated) refresh token means two holders of
// one token: the device is revoked and ErrDeviceRevoked returned, and
// every session on it ends. A session past its expiry is ErrTokenExpired
// (sign in again), a disabled account ErrAccountDisabled, a revoked device
// a *RevokedError with the reason.
func (s *Service) Refresh(ctx context.Context, refresh string) (*Tokens, error) {
	return s.RefreshDevice(ctx, refresh, nil)
}

// RefreshRetryGrace is how long after a rotation the refresh secret it
// spent is taken once more (a lost answer, RefreshDevice).
const RefreshRetryGrace = 2 * time.Minute

// reuseReason is the revocation reason of a reused refresh token, in the
// words the desktop shows.
const reuseReason = "Servern spärrade datorn automatiskt: en inloggningsnyckel som redan hade bytts ut användes igen, " +
	"vilket kan betyda att någon har kopierat den."

// RefreshDevice is Refresh that, with adopt, also binds a device
// registered before device keys to the adoption's key (devicebind.go):
// holding the device's current refresh token is the proof that the key
// is that device's. A device that has a key already takes only that key
// again (another is ErrDeviceProof). A refused adoption spends nothing:
// the refresh token stays valid. Tokens.KeyBound reports the binding.
func (s *Service) RefreshDevice(ctx context.Context, refresh string, adopt *KeyProof) (*Tokens, error) {
	sid, hash, err := parseRefresh(refresh)
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	now := s.clock.Now()
	var t *Tokens
	var out error
	var revoked app.ID
	err = s.db.Update(func(tx Tx) error {
		var se session
		err := getJSON(tx.Bucket(bSessions), []byte(sid), &se)
		if errors.Is(err, app.ErrNotFound) {
			out = ErrTokenInvalid
			return nil
		} else if err != nil {
			return err
		}
		end := func(e error) error {
			out = e
			return s.deleteSession(tx, sid)
		}
		d, err := getDevice(tx, se.DeviceID)
		if errors.Is(err, app.ErrNotFound) {
			return end(ErrTokenInvalid)
		} else if err != nil {
			return err
		}
		// The refresh secret the last rotation spent, again, soon after: the
		// answer to that rotation never reached the desktop (a cut
		// connection, a crash before it stored the new token). It gets a
		// fresh one; the secret it never received stops working. Later, or
		// any older secret, is a copy in other hands: the device goes.
		retry := subtle.ConstantTimeCompare(hash, se.Hash) != 1 && len(se.PrevHash) > 0 &&
			subtle.ConstantTimeCompare(hash, se.PrevHash) == 1 && !now.After(se.RotatedAt.Add(RefreshRetryGrace))
		if !retry && subtle.ConstantTimeCompare(hash, se.Hash) != 1 {
			revoked = d.ID
			if !d.Revoked {
				if err := s.revokeDevice(tx, d, "", reuseReason, now); err != nil {
					return err
				}
			}
			out = fmt.Errorf("refresh token reused: %w", revokedErr(d))
			return nil
		}
		if !now.Before(se.Expires) {
			return end(ErrTokenExpired)
		}
		if d.Revoked {
			return end(revokedErr(d))
		}
		a, err := getAccount(tx, se.StaffID)
		if errors.Is(err, app.ErrNotFound) {
			return end(ErrTokenInvalid)
		} else if err != nil {
			return err
		}
		if a.Staff.Disabled {
			return end(ErrAccountDisabled)
		}
		if adopt != nil {
			if err := s.adoptKey(tx, d, adopt, now); err != nil {
				out = err
				return nil
			}
		}
		d.LastSeen = now
		if err := putDevice(tx, d); err != nil {
			return err
		}
		se.Rotations++
		if !retry {
			se.PrevHash, se.RotatedAt = se.Hash, now
		}
		if t, err = s.issue(tx, a, &se, now); err != nil {
			return err
		}
		t.KeyBound = adopt != nil
		return nil
	})
	if revoked != "" {
		s.forget(nil, []app.ID{revoked})
	}
	if err == nil {
		err = out
	}
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	return t, nil
}

// SignOut ends the session of a refresh token, and with it the access
// tokens of the session. An unknown or spent token is no error (signing
// out twice is fine). The device stays as it was (EndSession).
func (s *Service) SignOut(ctx context.Context, refresh string) error {
	sid, hash, err := parseRefresh(refresh)
	if err != nil {
		return nil
	}
	err = s.db.Update(func(tx Tx) error {
		var se session
		if err := getJSON(tx.Bucket(bSessions), []byte(sid), &se); err != nil {
			return nil
		}
		if subtle.ConstantTimeCompare(hash, se.Hash) != 1 {
			return nil
		}
		return s.deleteSession(tx, sid)
	})
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// EndSession signs the caller out: their session on the token's device
// ends, its refresh token and its access tokens stop at once. It does not
// revoke the device: the other staff on it, and the changes it has
// queued, are untouched (revoking is an administrator's act,
// RevokeDevice). Ending a session that has ended is fine.
func (s *Service) EndSession(ctx context.Context, c *Claims) error {
	if c == nil || c.StaffID == "" || c.DeviceID == "" {
		return forbidden("end session: not signed in")
	}
	err := s.db.Update(func(tx Tx) error {
		return s.deleteSessions(tx, func(se *session) bool { return se.StaffID == c.StaffID && se.DeviceID == c.DeviceID })
	})
	if err != nil {
		return fmt.Errorf("end session: staff %s on device %s: %w", c.StaffID, c.DeviceID, err)
	}
	return nil
}

// Authenticate verifies an access token: signature, expiry, and then the
// device (not revoked), the account (not disabled, unchanged since the
// token was issued) and the session (not signed out) as they are now, from
// an in-memory cache every change invalidates. It returns the token's
// claims, or ErrTokenInvalid, ErrTokenExpired, a *RevokedError
// (ErrDeviceRevoked) or ErrAccountDisabled.
func (s *Service) Authenticate(ctx context.Context, access string) (*Claims, error) {
	p, err := parseAccess(s.key(), access)
	if err != nil {
		return nil, err
	}
	if !s.clock.Now().Before(time.Unix(p.Expires, 0)) {
		return nil, ErrTokenExpired
	}
	ds, err := s.deviceState(p.Device)
	switch {
	case err != nil:
		return nil, fmt.Errorf("authenticate: device %s: %w", p.Device, err)
	case !ds.exists:
		return nil, ErrTokenInvalid
	case ds.revoked != nil:
		return nil, fmt.Errorf("authenticate: %w", ds.revoked)
	}
	as, err := s.accountState(p.Staff)
	switch {
	case err != nil:
		return nil, fmt.Errorf("authenticate: staff %s: %w", p.Staff, err)
	case !as.exists:
		return nil, ErrTokenInvalid
	case as.disabled:
		return nil, fmt.Errorf("authenticate: staff %s: %w", p.Staff, ErrAccountDisabled)
	case as.epoch != p.Epoch:
		return nil, fmt.Errorf("authenticate: staff %s: account changed: %w", p.Staff, ErrTokenExpired)
	}
	if p.Session != "" { // tokens issued before sessions were named have none
		live, err := s.sessionLive(p.Session)
		switch {
		case err != nil:
			return nil, fmt.Errorf("authenticate: session %s: %w", p.Session, err)
		case !live:
			return nil, fmt.Errorf("authenticate: session %s ended: %w", p.Session, ErrTokenExpired)
		}
	}
	c := p.claims()
	c.NeedsTOTP = as.needsTOTP
	return c, nil
}
