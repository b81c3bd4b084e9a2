package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	stdsync "sync"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/client"
	msync "mottagning/sync"
)

// ErrUnauthenticated: no token, or one that is forged, expired or revoked.
// A StaffAuth may return it (or anything else) from Authenticate: every
// Authenticate error is answered 401 "unauthenticated".
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrTOTPRequired: the password was right and the account has TOTP; the
// sign-in must be sent again with the code (401 "totp_required").
var ErrTOTPRequired = errors.New("second factor required")

// RateLimiter is implemented by a StaffAuth that limits failed sign-ins
// per client address (clientaddr.go): the server asks Blocked before a
// sign-in (429 when true) and reports each failed sign-in and refused
// refresh with Failed. A valid refresh is never blocked or counted.
type RateLimiter interface {
	Blocked(key string) bool
	Failed(key string)
}

// --- staff ---

// StaffSignIn is a staff sign-in on a device (password + TOTP, or a
// recovery code). The first sign-in of a device registers it, with the
// device's public key DeviceKey. A device id proves nothing: a sign-in
// that names one carries the device key's signature DeviceProof over a
// Challenge (docs/sync.md, Devices).
type StaffSignIn struct {
	Username, Password, TOTP, RecoveryCode string
	DeviceID, DeviceName                   string
	DeviceKey                              []byte
	Challenge                              string
	DeviceProof                            []byte
}

// StaffTokens are the tokens a sign-in or refresh issues.
type StaffTokens struct {
	Access, Refresh               string
	AccessExpires, RefreshExpires time.Time
	DeviceID                      app.ID
	// KeyBound: the device holds the key the request presented or proved.
	KeyBound bool
}

// StaffKeyProof is a device's key with its signature over a challenge
// (a refresh that adopts a key for a device registered before keys).
type StaffKeyProof struct {
	PublicKey []byte
	Challenge string
	Signature []byte
}

// Errors of device binding a StaffAuth returns (cmd/mottagning-server's
// adapter maps staffauth's to these).
var (
	// ErrDeviceProof: a sign-in named a device without its key's proof
	// (403 "device_proof").
	ErrDeviceProof = errors.New("device proof missing or invalid")
	// ErrChallenge: the challenge is expired, used or not the server's
	// (401 "challenge_invalid"; ask for another).
	ErrChallenge = errors.New("device challenge invalid")
)

// DeviceRevokedError: the device was revoked; the device itself (its
// token, or a sign-in with its proof) is told why (403 "device_revoked"
// with the revocation). Error() holds no reason: it is an administrator's
// free text and stays out of logs.
type DeviceRevokedError struct {
	Reason string
	At     time.Time
}

func (e *DeviceRevokedError) Error() string { return "device revoked" }

// StaffClaims are what an access token says: who, on which device, with
// which roles per clinic and in the region, until when.
type StaffClaims struct {
	StaffID     app.ID
	DeviceID    app.ID
	Username    string
	Roles       map[app.ID][]app.Role
	RegionRoles []app.Role
	Expires     time.Time
	// NeedsTOTP: a role of the account requires a second factor that is
	// not enrolled yet; the token opens nothing but the enrolment
	// (totpEnrolmentRoutes) until it is.
	NeedsTOTP bool
	// Raw is the StaffAuth's own claims value, handed back to it (RevokeDevice).
	Raw any
}

// totpEnrolmentRoutes are what a token with NeedsTOTP may reach.
var totpEnrolmentRoutes = map[string]bool{
	"GET /api/staff/me": true, "POST /api/staff/me/totp": true, "POST /api/staff/me/totp/confirm": true,
	"POST /api/staff/auth/signout": true,
	// The staff member's own offline verifier: a desktop's sign-in caches
	// it, and must get as far as the window to offer the enrolment.
	"GET /api/staff/me/verifier": true,
}

// StaffAuth is the part of the staff account service (server/staffauth)
// the API uses. It is declared here, with the server's own types, so that
// this package builds without staffauth; cmd/mottagning-server adapts the
// real service. A SITHS/HSA-id login can implement it later.
type StaffAuth interface {
	// SignIn checks the credentials and issues tokens. Errors: app.ErrBadCredentials,
	// app.ErrAccountDisabled, *app.TooManyAttemptsError.
	SignIn(ctx context.Context, req StaffSignIn) (*StaffTokens, error)
	// Refresh exchanges a refresh token for new tokens.
	Refresh(ctx context.Context, refresh string) (*StaffTokens, error)
	// Authenticate checks an access token: signature, expiry, device not
	// revoked (*DeviceRevokedError), session not ended.
	Authenticate(ctx context.Context, access string) (*StaffClaims, error)
	// SignOut ends the caller's session on their device: its tokens stop
	// at once. It never revokes the device.
	SignOut(ctx context.Context, by *StaffClaims) error
}

// DeviceBinder is implemented by a StaffAuth that binds devices to keys
// (server/staffauth, devicebind.go): it hands out challenges and lets a
// device registered before keys adopt one with its refresh token.
type DeviceBinder interface {
	Challenge(ctx context.Context) (string, time.Time, error)
	RefreshDevice(ctx context.Context, refresh string, adopt *StaffKeyProof) (*StaffTokens, error)
}

// DeviceKeys is implemented by a StaffAuth that keeps the keys a desktop
// registers about itself (server/staffauth, devicekeys.go): the escrow of
// its data key (only a random device-wrap key; the data key never leaves
// the desktop) and its access-log signing key with the checkpoints it
// signed. Every method acts on the device of the claims.
type DeviceKeys interface {
	PutDeviceEscrow(ctx context.Context, c *StaffClaims, id string, key, proof []byte) error
	AddEscrowHolder(ctx context.Context, c *StaffClaims, id string, proof []byte) error
	// ReleaseDeviceEscrow hands back the device-wrap key, right after a
	// password sign-in of staff of a clinic the device serves, on a device
	// not revoked.
	ReleaseDeviceEscrow(ctx context.Context, c *StaffClaims) (id string, key []byte, err error)
	RegisterDeviceLogKey(ctx context.Context, c *StaffClaims, pub []byte) error
	PutDeviceCheckpoint(ctx context.Context, c *StaffClaims, cp *app.Checkpoint) error
}

// deviceRoutes registers the device-key endpoints (sync/devicewire.go).
// Handler calls it.
func (s *Server) deviceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT "+msync.PathEscrow, withCapability(s, s.putEscrow))
	mux.HandleFunc("POST "+msync.PathEscrowHolder, withCapability(s, s.addEscrowHolder))
	mux.HandleFunc("POST "+msync.PathEscrowRelease, withCapability(s, s.releaseEscrow))
	mux.HandleFunc("PUT "+msync.PathLogKey, withCapability(s, s.putLogKey))
	mux.HandleFunc("POST "+msync.PathCheckpoints, withCapability(s, s.putCheckpoint))
	// Device binding (signin.go) and administration (devices.go).
	mux.HandleFunc("POST "+msync.PathChallenge, s.staffChallenge)
	mux.HandleFunc("GET /api/staff/devices", withCapability(s, s.listDevices))
	mux.HandleFunc("POST /api/staff/devices/{device}/revoke", withCapability(s, s.revokeDevice))
	mux.HandleFunc("POST /api/staff/accounts/{staff}/unlock", withCapability(s, s.unlockAccount))
	mux.HandleFunc("POST /api/staff/me/totp", withCapability(s, s.enrollTOTP))
	mux.HandleFunc("POST /api/staff/me/totp/confirm", withCapability(s, s.confirmTOTP))
	mux.HandleFunc("POST /api/staff/accounts/{staff}/totp/reset", withCapability(s, s.resetTOTP))
}

// TOTPEnroller is implemented by a StaffAuth with a second factor: the
// caller enrols an authenticator app (EnrollTOTP, then ConfirmTOTP with a
// code from it, which returns the single-use recovery codes), and an
// administrator clears a lost one (ResetTOTP).
type TOTPEnroller interface {
	EnrollTOTP(ctx context.Context, by *StaffClaims) (secret, otpauthURL string, err error)
	ConfirmTOTP(ctx context.Context, by *StaffClaims, code string) (recovery []string, err error)
	ResetTOTP(ctx context.Context, by *StaffClaims, id app.ID) error
}

// withCapability requires a staff token and a StaffAuth that implements
// T (an optional part of it: device keys, device administration, TOTP);
// without it the endpoint does not exist (404).
func withCapability[T any](s *Server, h func(w http.ResponseWriter, r *http.Request, t T, c *StaffClaims)) http.HandlerFunc {
	return s.withStaff(func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.staff.(T)
		if !ok {
			writeErr(w, http.StatusNotFound, codeNotFound, "")
			return
		}
		h(w, r, t, claimsOf(r))
	})
}

// enrollTOTP starts the caller's enrolment: the secret, the otpauth URL
// and the URL as a QR code (PNG) for the authenticator app to scan.
func (s *Server) enrollTOTP(w http.ResponseWriter, r *http.Request, te TOTPEnroller, c *StaffClaims) {
	secret, url, err := te.EnrollTOTP(r.Context(), c)
	if err != nil {
		s.failAuth(w, r, err)
		return
	}
	png, err := qrcode.Encode(url, qrcode.Medium, 256)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, client.TOTPEnrollment{Secret: secret, OTPAuthURL: url, QRPNG: png})
}

// confirmTOTP completes it with a code from the app; the answer holds the
// recovery codes, shown once.
func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, te TOTPEnroller, c *StaffClaims) {
	var req client.TOTPConfirmRequest
	if !decode(w, r, &req) {
		return
	}
	codes, err := te.ConfirmTOTP(r.Context(), c, req.Code)
	if err != nil {
		s.failAuth(w, r, err)
		return
	}
	s.log.Info("totp enrolled", "staff", c.StaffID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, client.TOTPConfirmation{RecoveryCodes: codes})
}

// resetTOTP clears a colleague's second factor (a lost phone).
func (s *Server) resetTOTP(w http.ResponseWriter, r *http.Request, te TOTPEnroller, c *StaffClaims) {
	id := app.ID(r.PathValue("staff"))
	if err := te.ResetTOTP(r.Context(), c, id); err != nil {
		s.failAuth(w, r, err)
		return
	}
	s.log.Info("totp reset", "staff", id, "by", c.StaffID)
	w.WriteHeader(http.StatusNoContent)
}

// AccountUnlocker is implemented by a StaffAuth whose accounts lock after
// failed sign-ins: UnlockAccount lifts every lock of the account, for a
// behörighetsadministratör of its clinics or a region administrator.
type AccountUnlocker interface {
	UnlockAccount(ctx context.Context, by *StaffClaims, id app.ID) error
}

// unlockAccount lifts a colleague's sign-in lock.
func (s *Server) unlockAccount(w http.ResponseWriter, r *http.Request, u AccountUnlocker, c *StaffClaims) {
	id := app.ID(r.PathValue("staff"))
	if err := u.UnlockAccount(r.Context(), c, id); err != nil {
		s.failAuth(w, r, err)
		return
	}
	s.log.Info("account unlocked", "staff", id, "by", c.StaffID)
	w.WriteHeader(http.StatusNoContent)
}

// DeviceHandler serves the device-key endpoints alone, behind the same
// middleware as Handler (tests mount it in front of a Handler).
func (s *Server) DeviceHandler() http.Handler {
	mux := http.NewServeMux()
	s.deviceRoutes(mux)
	return s.middleware(mux)
}

// The handlers below never log a request body or a key: fail logs only
// errors, and staffauth's errors carry ids.

func (s *Server) putEscrow(w http.ResponseWriter, r *http.Request, dk DeviceKeys, c *StaffClaims) {
	var req msync.EscrowDeposit
	if !decode(w, r, &req) {
		return
	}
	if err := dk.PutDeviceEscrow(r.Context(), c, req.ID, req.Key, req.Proof); err != nil {
		s.failAuth(w, r, err)
		return
	}
	s.log.Info("device escrow deposited", "device", c.DeviceID, "staff", c.StaffID)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) addEscrowHolder(w http.ResponseWriter, r *http.Request, dk DeviceKeys, c *StaffClaims) {
	var req msync.EscrowHolder
	if !decode(w, r, &req) {
		return
	}
	if err := dk.AddEscrowHolder(r.Context(), c, req.ID, req.Proof); err != nil {
		s.failAuth(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) releaseEscrow(w http.ResponseWriter, r *http.Request, dk DeviceKeys, c *StaffClaims) {
	id, key, err := dk.ReleaseDeviceEscrow(r.Context(), c)
	if err != nil {
		s.failAuth(w, r, err)
		return
	}
	s.log.Info("device escrow released", "device", c.DeviceID, "staff", c.StaffID)
	writeJSON(w, http.StatusOK, msync.EscrowRelease{ID: id, Key: key})
	clear(key)
}

func (s *Server) putLogKey(w http.ResponseWriter, r *http.Request, dk DeviceKeys, c *StaffClaims) {
	var req msync.LogKeyRequest
	if !decode(w, r, &req) {
		return
	}
	if err := dk.RegisterDeviceLogKey(r.Context(), c, req.PublicKey); err != nil {
		s.failAuth(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) putCheckpoint(w http.ResponseWriter, r *http.Request, dk DeviceKeys, c *StaffClaims) {
	var cp app.Checkpoint
	if !decode(w, r, &cp) {
		return
	}
	if err := dk.PutDeviceCheckpoint(r.Context(), c, &cp); err != nil {
		s.failAuth(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// staffOf is the app.Staff a session is built from: roles from the token,
// so a revoked role takes effect at the next token (minutes).
func staffOf(c *StaffClaims) *app.Staff {
	return &app.Staff{ID: c.StaffID, Username: c.Username, Roles: c.Roles, RegionRoles: c.RegionRoles}
}

type ctxKey int

const (
	keyClaims ctxKey = iota
	keyResident
)

// withStaff requires a valid staff access token.
func (s *Server) withStaff(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" || s.staff == nil {
			writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
			return
		}
		c, err := s.staff.Authenticate(r.Context(), tok)
		var revoked *DeviceRevokedError
		if errors.As(err, &revoked) {
			// The device itself (it holds the token): told why.
			writeRevoked(w, revoked)
			return
		}
		if err != nil || c == nil || c.StaffID == "" {
			if err != nil && !errors.Is(err, ErrUnauthenticated) && app.Code(err) == codeInternal {
				// A broken auth database is not the caller's fault: log
				// it, but still answer 401 so no token is ever accepted.
				s.log.Error("staff authentication failed", "err", err)
			}
			writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
			return
		}
		if !c.Expires.IsZero() && !s.clock.Now().Before(c.Expires) {
			writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
			return
		}
		if c.NeedsTOTP && !totpEnrolmentRoutes[r.Pattern] {
			writeErr(w, ErrorCodes[codeTOTPEnrolment].Status, codeTOTPEnrolment, "")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), keyClaims, c)))
	}
}

func claimsOf(r *http.Request) *StaffClaims { return r.Context().Value(keyClaims).(*StaffClaims) }

// withClinic builds the app.Session for the clinic in the path. A staff
// member with no role in the clinic is refused here already; the services
// check the role each action needs.
func (s *Server) withClinic(h func(w http.ResponseWriter, r *http.Request, sess app.Session)) http.HandlerFunc {
	return s.withStaff(func(w http.ResponseWriter, r *http.Request) {
		sess := app.Session{Staff: staffOf(claimsOf(r)), ClinicID: app.ID(r.PathValue("clinic"))}
		if !sess.Staff.InClinic(sess.ClinicID) {
			writeErr(w, http.StatusForbidden, codeForbidden, "")
			return
		}
		h(w, r, sess)
	})
}

// --- residents ---

// EIDProvider is a BankID/Freja-shaped e-ID: Start an order for a
// personnummer, then Collect it until it completes. A real provider would
// talk to the e-ID service; TestEID completes by itself.
type EIDProvider interface {
	Start(ctx context.Context, pnr personnummer.Number) (orderRef string, err error)
	// Collect returns the order's state; ErrNotFound for an unknown or
	// expired order.
	Collect(ctx context.Context, orderRef string) (EIDResult, error)
}

// EIDResult is the state of an e-ID order.
type EIDResult struct {
	Complete bool
	HintCode string // while pending: outstandingTransaction, userSign, …
	// PNR is the verified personnummer once Complete.
	PNR personnummer.Number
}

// TestEID is a test e-ID provider with the BankID flow: an order completes
// on its second collect, or once Delay has passed since Start. It verifies
// nothing — anyone can sign in as anyone — so the server enables it only
// when told to (--eid test, or a demo database).
type TestEID struct {
	Clock app.Clock
	Delay time.Duration // 0: complete on the second collect
	// TTL is how long an order can be collected (default 3 min, as BankID).
	TTL time.Duration

	mu     stdsync.Mutex
	orders map[string]*testOrder
}

type testOrder struct {
	pnr     personnummer.Number
	started time.Time
	collect int
}

// Start implements EIDProvider.
func (t *TestEID) Start(ctx context.Context, pnr personnummer.Number) (string, error) {
	ref := randomToken(16)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.orders == nil {
		t.orders = map[string]*testOrder{}
	}
	for k, o := range t.orders {
		if now.Sub(o.started) > t.ttl() {
			delete(t.orders, k)
		}
	}
	t.orders[ref] = &testOrder{pnr: pnr, started: now}
	return ref, nil
}

// Collect implements EIDProvider. A completed order is gone afterwards:
// it gives one session only.
func (t *TestEID) Collect(ctx context.Context, ref string) (EIDResult, error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.orders[ref]
	if o == nil || now.Sub(o.started) > t.ttl() {
		delete(t.orders, ref)
		return EIDResult{}, fmt.Errorf("e-id order: %w", app.ErrNotFound)
	}
	o.collect++
	done := o.collect >= 2
	if t.Delay > 0 {
		done = now.Sub(o.started) >= t.Delay
	}
	if !done {
		return EIDResult{HintCode: "outstandingTransaction"}, nil
	}
	delete(t.orders, ref)
	return EIDResult{Complete: true, PNR: o.pnr}, nil
}

func (t *TestEID) now() time.Time {
	if t.Clock == nil {
		return time.Now()
	}
	return t.Clock.Now()
}

func (t *TestEID) ttl() time.Duration {
	if t.TTL <= 0 {
		return 3 * time.Minute
	}
	return t.TTL
}

// residentSessions holds resident sessions in memory, keyed by the SHA-256
// of the bearer token (the token itself is never stored). A restart signs
// every resident out, which for sessions of 30 minutes is acceptable and
// keeps session state out of the database and its backups.
type residentSessions struct {
	clock app.Clock
	ttl   time.Duration
	mu    stdsync.Mutex
	byKey map[[32]byte]residentSession
}

type residentSession struct {
	resident app.ID
	expires  time.Time
}

func newResidentSessions(clock app.Clock, ttl time.Duration) *residentSessions {
	return &residentSessions{clock: clock, ttl: ttl, byKey: map[[32]byte]residentSession{}}
}

// create starts a session for resident and returns its token.
func (rs *residentSessions) create(_ context.Context, resident app.ID) (string, time.Time, error) {
	tok := "r1." + randomToken(32)
	now := rs.clock.Now()
	exp := now.Add(rs.ttl)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for k, v := range rs.byKey {
		if !now.Before(v.expires) {
			delete(rs.byKey, k)
		}
	}
	rs.byKey[sha256.Sum256([]byte(tok))] = residentSession{resident: resident, expires: exp}
	return tok, exp, nil
}

// lookup returns the resident of a valid token.
func (rs *residentSessions) lookup(_ context.Context, tok string) (app.ID, bool, error) {
	k := sha256.Sum256([]byte(tok))
	rs.mu.Lock()
	defer rs.mu.Unlock()
	v, ok := rs.byKey[k]
	if !ok {
		return "", false, nil
	}
	if !rs.clock.Now().Before(v.expires) {
		delete(rs.byKey, k)
		return "", false, nil
	}
	return v.resident, true, nil
}

func (rs *residentSessions) lookupResident(ctx context.Context, tok string) (app.ID, *app.Resident, bool, error) {
	id, ok, err := rs.lookup(ctx, tok)
	return id, nil, ok, err
}

func (rs *residentSessions) end(_ context.Context, tok string) error {
	rs.mu.Lock()
	delete(rs.byKey, sha256.Sum256([]byte(tok)))
	rs.mu.Unlock()
	return nil
}

// endAll ends every session of a resident (after locking the login, R10).
func (rs *residentSessions) endAll(_ context.Context, resident app.ID) error {
	rs.mu.Lock()
	for k, v := range rs.byKey {
		if v.resident == resident {
			delete(rs.byKey, k)
		}
	}
	rs.mu.Unlock()
	return nil
}

func (rs *residentSessions) count() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.byKey)
}

// withResident requires a valid resident session.
func (s *Server) withResident(h func(w http.ResponseWriter, r *http.Request, me app.ID)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" {
			writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
			return
		}
		id, res, ok, err := s.sessions.lookupResident(r.Context(), tok)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if res != nil {
			r = r.WithContext(context.WithValue(r.Context(), sessionResidentKey{}, res))
		}
		if !ok {
			writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
			return
		}
		h(w, r, id)
	}
}

// sessionResidentKey carries the resident a session lookup read along
// (SessionResidentStore), for active.
type sessionResidentKey struct{}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("server: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
