package sync

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	stdsync "sync"
	"time"

	"mottagning/app"
	"mottagning/app/personnummer"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Errors of a connected desktop, each with a Swedish text (Message).
var (
	// ErrSignInNeeded: no valid refresh token; sign in again while online.
	ErrSignInNeeded = errors.New("sync: sign in online to sync")
	// ErrPinMismatch: the server's certificate is not the pinned one.
	// package client returns this same value.
	ErrPinMismatch = errors.New("the server's certificate does not match the pinned fingerprint")
	// ErrFirstSignInOffline: the server cannot be reached and this staff
	// member has no verifier on this device (never signed in here online),
	// or the password is wrong.
	ErrFirstSignInOffline = fmt.Errorf("sync: server unreachable, and no offline sign-in on this device: %w", app.ErrBadCredentials)
	// ErrResidentOffline: looking up a resident never seen on this device
	// needs the server, which cannot be reached.
	ErrResidentOffline = errors.New("sync: resident not on this device and the server cannot be reached")
	// ErrDeviceProof: the server did not accept this desktop's proof that
	// it is the registered device (its device key does not match: a
	// damaged or copied data directory).
	ErrDeviceProof = fmt.Errorf("sync: the server refused this device's key: %w", app.ErrDeviceNotRecognised)
	// ErrTOTPRequired: the password was right, and the account asks for a
	// one-time code, which this desktop's sign-in cannot send. Not a wrong
	// password: trying again would only lock the account.
	ErrTOTPRequired = fmt.Errorf("sync: the account requires a one-time code: %w", app.ErrOneTimeCodeRequired)
)

// Code is the stable code of a connected desktop's error ("" when none).
func Code(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrResidentOffline):
		return "resident_offline"
	case revokedOf(err) != nil:
		return "device_revoked"
	case errors.Is(err, ErrDeviceProof):
		return "device_proof"
	case errors.Is(err, ErrTOTPRequired):
		return "totp_required"
	case codeOf(err) == "totp_enrollment_required":
		return "totp_enrollment_required"
	case errors.Is(err, ErrPinMismatch):
		return "pin_mismatch"
	case errors.Is(err, ErrSignInNeeded):
		return "signin_needed"
	case errors.Is(err, ErrFirstSignInOffline):
		return "first_signin_offline"
	case Offline(err):
		return "offline"
	}
	return app.Code(err)
}

// Message is the Swedish text the desktop shows for a sync error; ""
// for nil.
func Message(err error) string {
	switch Code(err) {
	case "":
		return ""
	case "resident_offline":
		return "Invånaren finns inte på den här datorn, och servern kan inte nås just nu. " +
			"Att slå upp en invånare som inte har något ärende på mottagningen kräver anslutning. Försök igen när datorn är ansluten."
	case "pin_mismatch":
		return "Serverns certifikat har ändrats sedan datorn anslöts första gången, så anslutningen avbröts. " +
			"Det kan betyda att någon utger sig för att vara servern. Kontakta IT-supporten innan du fortsätter."
	case "signin_needed":
		return "Logga ut och logga in igen när datorn är ansluten, så att dina ändringar kan skickas till servern. Inget har gått förlorat."
	case "first_signin_offline":
		return "Servern kan inte nås. Första gången du loggar in på den här datorn måste den vara ansluten; " +
			"annars: kontrollera användarnamn och lösenord."
	case "offline":
		return "Servern kan inte nås. Du kan arbeta vidare; ändringarna skickas när anslutningen är tillbaka."
	case "device_revoked":
		return revokedOf(err).message()
	case "device_proof":
		return "Servern godtog inte den här datorns nyckel, så datorn kan inte logga in med anslutning. " +
			"Det kan bero på att datakatalogen har kopierats eller skadats. Kontakta IT-supporten. Inget har raderats på datorn."
	case "totp_enrollment_required":
		return "Ditt konto kräver tvåstegsverifiering: välj Tvåstegsverifiering överst i fönstret och lägg till en autentiseringsapp. Dina ändringar skickas sedan."
	case "totp_required":
		return "Skriv engångskoden från din autentiseringsapp (sex siffror), eller en av dina återställningskoder om du inte har telefonen."
	}
	return "Synkroniseringen misslyckades. Den görs om automatiskt."
}

// Session is a staff member's tokens from the server.
type Session struct {
	Access, Refresh string
	AccessExpires   time.Time
	DeviceID        string
	// KeyBound: the server bound DeviceID to this desktop's device key.
	KeyBound bool
	// StaffID is the staff member the session is of (set by the online
	// sign-in that made it, kept through refreshes): the desktop pulls
	// from that staff member's own cursor.
	StaffID app.ID
}

// SignInRequest is a connected desktop's sign-in: the device's public key
// (kept with a device the sign-in registers), and when it names its
// device, the key's signature of app.DeviceProofBytes(app.ProofSignIn,
// DeviceID, Challenge).
type SignInRequest struct {
	Username, Password string
	// TOTP or RecoveryCode: the second factor, when the account has one
	// and the staff member typed it (app.WithOneTimeCode).
	TOTP, RecoveryCode   string
	DeviceID, DeviceName string
	DeviceKey            []byte
	Challenge            string
	DeviceProof          []byte
}

// AuthRemote is the server's staff sign-in as a connected desktop uses it
// (client.Client implements it).
type AuthRemote interface {
	// SyncChallenge fetches a device challenge (PathChallenge).
	SyncChallenge(ctx context.Context) (string, error)
	SyncDeviceSignIn(ctx context.Context, req SignInRequest) (*Session, error)
	SyncRefresh(ctx context.Context, refresh string) (*Session, error)
	// SyncAdoptRefresh is SyncRefresh that also binds the token's device,
	// registered before device keys, to key (proof: key's signature of
	// app.DeviceProofBytes(app.ProofAdopt, device id, challenge)).
	SyncAdoptRefresh(ctx context.Context, refresh string, key []byte, challenge string, proof []byte) (*Session, error)
	SyncVerifier(ctx context.Context, access string) (*VerifierResponse, error)
}

// DeviceKeyHolder keeps the desktop's device key (storage.Store): usable
// while the store is locked, because the sign-in that names the device
// comes before the unlock (storage/devicekey.go says why that is fine).
type DeviceKeyHolder interface {
	SyncDevice() string
	DeviceKey(ctx context.Context) (ed25519.PrivateKey, error)
	// DeviceKeyBound is the device id the server bound to the key.
	DeviceKeyBound() string
	SetDeviceKeyBound(ctx context.Context, deviceID string) error
}

// TokenStore keeps the refresh token on the desktop (sealed).
type TokenStore interface {
	SyncToken(ctx context.Context) (string, error)
	SetSyncToken(ctx context.Context, tok string) error
}

// OwnedTokenStore keeps the refresh token together with its owner, in
// one transaction (storage.Store): from then on the desktop syncs as that
// staff member, from their own pull cursor.
type OwnedTokenStore interface {
	SaveSyncToken(ctx context.Context, staff app.ID, tok string) error
}

// save writes the session's refresh token with its owner.
func (t *Tokens) save(ctx context.Context, s *Session) error {
	if o, ok := t.Store.(OwnedTokenStore); ok {
		return o.SaveSyncToken(ctx, s.StaffID, s.Refresh)
	}
	return t.Store.SetSyncToken(ctx, s.Refresh)
}

// Tokens is the engine's TokenSource: the session of the last online
// sign-in, refreshed when its access token runs out, the refresh token
// kept in the (sealed) store so that a desktop signed in offline syncs
// as soon as the server can be reached.
type Tokens struct {
	Remote AuthRemote
	Store  TokenStore
	Clock  app.Clock

	mu    stdsync.Mutex
	sess  *Session
	dirty bool
	// revoked: the server said this device is revoked; every Token says
	// so until a new online sign-in (Set).
	revoked *RevokedError
}

// Set installs the session of an online sign-in. The store may still be
// locked (the sign-in unlocks it afterwards): the refresh token is
// written at the next Token.
func (t *Tokens) Set(s *Session) {
	t.mu.Lock()
	t.sess, t.dirty, t.revoked = s, true, nil
	t.mu.Unlock()
}

// setRevoked records that the server revoked the device (RemoteAuth
// learnt it at a sign-in): the engine's next sync reports it and exports
// the queued changes.
func (t *Tokens) setRevoked(re *RevokedError) {
	t.mu.Lock()
	t.sess, t.revoked = nil, re
	t.mu.Unlock()
}

func (t *Tokens) now() time.Time {
	if t.Clock == nil {
		return time.Now()
	}
	return t.Clock.Now()
}

// Token implements TokenSource.
func (t *Tokens) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.revoked != nil {
		return "", t.revoked
	}
	if t.sess != nil && t.dirty {
		err := t.save(ctx, t.sess)
		if err == nil {
			t.dirty = false
		} else if t.sess.StaffID != "" {
			// A new owner must be stored before their token is used: the
			// pages it brings go to the owner's cursor (the store may still
			// be locked right after the sign-in; the next sync tries again).
			return "", fmt.Errorf("sync token: store the session's owner: %w", err)
		}
	}
	if t.sess != nil && t.sess.Access != "" && t.sess.AccessExpires.Sub(t.now()) > 30*time.Second {
		return t.sess.Access, nil
	}
	refresh := ""
	if t.sess != nil {
		refresh = t.sess.Refresh
	} else {
		var err error
		if refresh, err = t.Store.SyncToken(ctx); err != nil {
			return "", fmt.Errorf("sync token: %w", err)
		}
	}
	if refresh == "" {
		return "", ErrSignInNeeded
	}
	ns, err := t.refresh(ctx, refresh)
	if re := revokedOf(err); re != nil {
		// Revoked: no token will work again; the engine exports what is
		// queued (revoked.go).
		t.sess, t.revoked = nil, re
		_ = t.Store.SetSyncToken(ctx, "")
		return "", re
	}
	if st := statusOf(err); st == 401 || st == 403 {
		t.sess = nil
		_ = t.Store.SetSyncToken(ctx, "")
		return "", fmt.Errorf("%w: %w", ErrSignInNeeded, err)
	} else if err != nil {
		return "", err
	}
	// Refresh tokens are single-use on the server: keep the new one first.
	if ns.StaffID == "" && t.sess != nil {
		ns.StaffID = t.sess.StaffID
	}
	t.sess = ns
	t.dirty = t.save(ctx, ns) != nil
	return ns.Access, nil
}

// refresh exchanges the refresh token. A device registered before device
// keys adopts its key here (the refresh token is the proof that it is
// that device, docs/sync.md, Devices); if the server refuses the adoption,
// the refresh goes ahead without it and the next one tries again.
func (t *Tokens) refresh(ctx context.Context, refresh string) (*Session, error) {
	ks, ok := t.Store.(DeviceKeyHolder)
	dev := ""
	if ok {
		dev = ks.SyncDevice()
	}
	if dev == "" || ks.DeviceKeyBound() == dev {
		return t.Remote.SyncRefresh(ctx, refresh)
	}
	key, err := ks.DeviceKey(ctx)
	if err != nil {
		return t.Remote.SyncRefresh(ctx, refresh)
	}
	ch, err := t.Remote.SyncChallenge(ctx)
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	ns, err := t.Remote.SyncAdoptRefresh(ctx, refresh, pub, ch, app.SignDeviceProof(key, app.ProofAdopt, app.ID(dev), ch))
	switch code := codeOf(err); {
	case err == nil:
		if ns.KeyBound && ns.DeviceID == dev {
			_ = ks.SetDeviceKeyBound(ctx, dev) // if it fails, the next refresh confirms again
		}
		return ns, nil
	case code == "device_proof" || code == "challenge_invalid":
		return t.Remote.SyncRefresh(ctx, refresh)
	}
	return nil, err
}

// Invalidate implements TokenSource.
func (t *Tokens) Invalidate(tok string) {
	t.mu.Lock()
	if t.sess != nil && t.sess.Access == tok {
		t.sess.Access = ""
	}
	t.mu.Unlock()
}

// AuthStore is what RemoteAuth writes on the desktop.
type AuthStore interface {
	PutStaff(ctx context.Context, s *app.Staff) error
	PutCredential(ctx context.Context, c *app.Credential) error
	Connect(ctx context.Context, deviceID string) error
	DeviceKeyHolder
}

// RemoteAuth is a connected desktop's Authenticator: online, the server
// checks the password (the first sign-in registers the device with the
// desktop's device key; later ones name it with the key's proof) and the
// desktop caches the staff member's argon2id verifier; offline, Local
// (app.LocalAuth over the cached verifiers) decides. Wrap it in
// app.UnlockingAuth to open the sealed store with the same password.
//
// With Keys set it is also the app.KeyRecovery of that UnlockingAuth:
// after an online sign-in a staff member without a key on the device gets
// one through the device escrow, and the device's keys are registered
// with the server (DeviceKeys).
type RemoteAuth struct {
	Remote     AuthRemote
	Local      app.Authenticator
	Store      AuthStore
	Tokens     *Tokens
	DeviceName string
	Clock      app.Clock
	// Keys, when set, are the device's keys on the server.
	Keys *DeviceKeys

	mu stdsync.Mutex
	// online is the session of the last sign-in the server checked, for
	// RecoverKey and KeyUnlocked right after it.
	online *onlineSignIn
}

type onlineSignIn struct {
	staff app.ID
	sess  *Session
	at    time.Time
}

var _ app.KeyRecovery = (*RemoteAuth)(nil)

// SignIn implements app.Authenticator.
func (a *RemoteAuth) SignIn(ctx context.Context, username, password string) (*app.Staff, error) {
	a.mu.Lock()
	a.online = nil // only this sign-in's session, when it is online
	a.mu.Unlock()
	sess, err := a.signInOnline(ctx, username, password)
	if re := revokedOf(err); re != nil {
		// The server revoked this device and says why. The staff who
		// have signed in here before still open it as they would
		// offline (the password is checked against their verifier, and
		// it gives them nothing the server could still refuse), so that
		// the unsent changes can be exported and handed over: the
		// engine's next sync does that and says what happened.
		a.Tokens.setRevoked(re)
		if st, lerr := a.Local.SignIn(ctx, username, password); lerr == nil {
			return st, nil
		}
		return nil, re
	}
	if Offline(err) {
		if errors.Is(err, ErrPinMismatch) {
			return nil, err
		}
		st, lerr := a.Local.SignIn(ctx, username, password)
		if errors.Is(lerr, app.ErrBadCredentials) {
			return nil, ErrFirstSignInOffline
		}
		return st, lerr
	}
	if err != nil {
		return nil, signInError(err)
	}
	v, err := a.Remote.SyncVerifier(ctx, sess.Access)
	if err != nil {
		return nil, fmt.Errorf("sign in: verifier: %w", err)
	}
	st := v.Staff
	if err := a.Store.PutStaff(ctx, &st); err != nil {
		return nil, fmt.Errorf("sign in: staff %s: %w", st.ID, err)
	}
	now := time.Now()
	if a.Clock != nil {
		now = a.Clock.Now()
	}
	if err := a.Store.PutCredential(ctx, &app.Credential{StaffID: st.ID, Hash: v.Verifier, ChangedAt: now}); err != nil {
		return nil, fmt.Errorf("sign in: cache verifier of %s: %w", st.ID, err)
	}
	if sess.DeviceID != "" && a.Store.SyncDevice() != sess.DeviceID {
		if err := a.Store.Connect(ctx, sess.DeviceID); err != nil {
			return nil, fmt.Errorf("sign in: connect: %w", err)
		}
	}
	if sess.KeyBound && a.Store.DeviceKeyBound() != sess.DeviceID {
		if err := a.Store.SetDeviceKeyBound(ctx, sess.DeviceID); err != nil {
			return nil, fmt.Errorf("sign in: device %s: %w", sess.DeviceID, err)
		}
	}
	sess.StaffID = st.ID
	a.Tokens.Set(sess)
	if st.Disabled {
		return nil, app.ErrAccountDisabled
	}
	a.mu.Lock()
	a.online = &onlineSignIn{staff: st.ID, sess: sess, at: now}
	a.mu.Unlock()
	return &st, nil
}

// signInOnline asks the server. A desktop whose device the server bound to
// its device key names the device with the key's signature over a fresh
// challenge (asked again once when it went stale on the way); any other
// sends its public key, for the server to keep with the device it
// registers. A device registered before keys is named without a proof:
// the server then registers a new device, or says that the old one is
// revoked.
func (a *RemoteAuth) signInOnline(ctx context.Context, username, password string) (*Session, error) {
	key, err := a.Store.DeviceKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	req := SignInRequest{Username: username, Password: password, DeviceID: a.Store.SyncDevice(), DeviceName: a.DeviceName,
		DeviceKey: key.Public().(ed25519.PublicKey)}
	if code := strings.TrimSpace(app.OneTimeCode(ctx)); app.IsAuthenticatorCode(code) {
		req.TOTP = strings.ReplaceAll(code, " ", "")
	} else if code != "" {
		req.RecoveryCode = code
	}
	bound := req.DeviceID != "" && a.Store.DeviceKeyBound() == req.DeviceID
	for try := 0; ; try++ {
		if bound {
			ch, err := a.Remote.SyncChallenge(ctx)
			if err != nil {
				return nil, err
			}
			req.Challenge, req.DeviceProof = ch, app.SignDeviceProof(key, app.ProofSignIn, app.ID(req.DeviceID), ch)
		}
		sess, err := a.Remote.SyncDeviceSignIn(ctx, req)
		if codeOf(err) == "challenge_invalid" && try == 0 {
			continue
		}
		return sess, err
	}
}

// onlineSession is the session of staffID's online sign-in of the last
// minute, or nil (the sign-in was offline).
func (a *RemoteAuth) onlineSession(staffID app.ID, take bool) *Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.online
	if take {
		a.online = nil
	}
	now := time.Now()
	if a.Clock != nil {
		now = a.Clock.Now()
	}
	if o == nil || o.staff != staffID || now.Sub(o.at) > time.Minute {
		return nil
	}
	return o.sess
}

// RecoverKey implements app.KeyRecovery: after an online sign-in whose
// password the store refused, the data key through the device escrow. A
// revoked device is app.ErrDeviceRevoked; anything else keeps cause (the
// staff member signs in after a colleague with a key, as before).
func (a *RemoteAuth) RecoverKey(ctx context.Context, st *app.Staff, password string, cause error) error {
	sess := a.onlineSession(st.ID, false)
	if a.Keys == nil || sess == nil {
		return cause
	}
	err := a.Keys.Recover(ctx, sess.Access, st.ID, password)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, app.ErrDeviceRevoked):
		return err
	}
	a.Keys.log().Info("no key through the device escrow", "staff", st.ID, "code", Code(err), "err", err)
	return cause
}

// KeyUnlocked implements app.KeyRecovery: after an online sign-in that
// unlocked the store, the device's keys are registered (best effort).
func (a *RemoteAuth) KeyUnlocked(ctx context.Context, st *app.Staff) {
	sess := a.onlineSession(st.ID, true)
	if a.Keys == nil || sess == nil {
		return
	}
	if err := a.Keys.Register(ctx, sess.Access); err != nil {
		a.Keys.log().Warn("device keys not registered", "staff", st.ID, "err", err)
	}
}

// codeErr is an API error's stable code (client.Error).
type codeErr interface{ ErrorCode() string }

// codeOf is the stable code of an API answer, "" for anything else.
func codeOf(err error) string {
	var ce codeErr
	if !errors.As(err, &ce) {
		return ""
	}
	return ce.ErrorCode()
}

func signInError(err error) error {
	if re := revokedOf(err); re != nil {
		return re // app.ErrDeviceRevoked, with the reason
	}
	switch codeOf(err) {
	case "bad_credentials":
		return fmt.Errorf("%w: %w", app.ErrBadCredentials, err)
	case "totp_required":
		return fmt.Errorf("%w: %w", ErrTOTPRequired, err)
	case "device_proof":
		return fmt.Errorf("%w: %w", ErrDeviceProof, err)
	case "account_disabled":
		return fmt.Errorf("%w: %w", app.ErrAccountDisabled, err)
	case "too_many_attempts":
		return &app.TooManyAttemptsError{Until: time.Now().Add(app.LockBase)}
	}
	return err
}

// LookupRemote fetches a resident never seen on this device.
type LookupRemote interface {
	SyncLookup(ctx context.Context, token string, clinic app.ID, pnr string) (*LookupResponse, error)
}

// ResidentWriter stores fetched residents as the server's (no op queued).
type ResidentWriter interface {
	PutResidentsFromServer(ctx context.Context, rs []app.Resident) error
}

// Lookup is Skicka ärende's resident lookup on a connected desktop: from
// the replica when the resident is there, otherwise from the server, and
// offline a clear ErrResidentOffline.
type Lookup struct {
	Cases  *app.CaseService
	Remote LookupRemote
	Tokens TokenSource
	Store  ResidentWriter
}

// LookupResident implements the lookup (same contract as
// app.CaseService.LookupResident).
func (l *Lookup) LookupResident(ctx context.Context, sess app.Session, pnr personnummer.Number) (*app.ResidentView, error) {
	v, err := l.Cases.LookupResident(ctx, sess, pnr)
	if err == nil || !errors.Is(err, app.ErrNotFound) {
		return v, err
	}
	tok, err := l.Tokens.Token(ctx)
	if err != nil {
		if Offline(err) || errors.Is(err, ErrSignInNeeded) {
			return nil, fmt.Errorf("look up resident: %w: %w", ErrResidentOffline, err)
		}
		return nil, err
	}
	resp, err := l.Remote.SyncLookup(ctx, tok, sess.ClinicID, pnr.String())
	if Offline(err) {
		return nil, fmt.Errorf("look up resident: %w: %w", ErrResidentOffline, err)
	}
	if err != nil {
		var ce codeErr
		if errors.As(err, &ce) && ce.ErrorCode() == "not_found" {
			return nil, fmt.Errorf("look up resident: %w", app.ErrNotFound)
		}
		if errors.As(err, &ce) && ce.ErrorCode() == "forbidden" {
			return nil, fmt.Errorf("look up resident: %w", app.ErrForbidden)
		}
		return nil, fmt.Errorf("look up resident: %w", err)
	}
	if err := l.Store.PutResidentsFromServer(ctx, resp.Residents); err != nil {
		return nil, fmt.Errorf("look up resident: store: %w", err)
	}
	return l.Cases.LookupResident(ctx, sess, pnr)
}
