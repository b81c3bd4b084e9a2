package sync_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/internal/mailpittest"
	"mottagning/notify"
	"mottagning/server"
	"mottagning/server/staffauth"
	"mottagning/storage"
	msync "mottagning/sync"
)

// The tests run the real server (server.New over a real store and the
// real staff accounts of server/staffauth) on 127.0.0.1 over TLS, desktops
// as storage replicas with the app services and an Engine (no Fyne), and
// mailpit for the e-mail notifications. Between a desktop and the server
// sits only a fault injector (faults): down, dropped requests, dropped
// answers.

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// authAdapter is cmd/mottagning-server's adapter of staffauth to the
// server's StaffAuth, DeviceBinder and DeviceAdmin (that one is in package
// main).
type authAdapter struct{ s *staffauth.Service }

var (
	_ server.DeviceBinder = authAdapter{}
	_ server.DeviceAdmin  = authAdapter{}
)

func (a authAdapter) SignIn(ctx context.Context, r server.StaffSignIn) (*server.StaffTokens, error) {
	t, err := a.s.SignIn(ctx, staffauth.SignInRequest{Username: r.Username, Password: r.Password, TOTP: r.TOTP, RecoveryCode: r.RecoveryCode,
		DeviceID: app.ID(r.DeviceID), DeviceName: r.DeviceName,
		DeviceKey: r.DeviceKey, Challenge: r.Challenge, DeviceProof: r.DeviceProof})
	if err != nil {
		return nil, authErr(err)
	}
	return staffTokens(t), nil
}

func staffTokens(t *staffauth.Tokens) *server.StaffTokens {
	return &server.StaffTokens{Access: t.Access, Refresh: t.Refresh, AccessExpires: t.AccessExpires, RefreshExpires: t.RefreshExpires,
		DeviceID: t.DeviceID, KeyBound: t.KeyBound}
}

func (a authAdapter) Challenge(ctx context.Context) (string, time.Time, error) {
	ch, exp := a.s.Challenge()
	return ch, exp, nil
}

func (a authAdapter) RefreshDevice(ctx context.Context, refresh string, adopt *server.StaffKeyProof) (*server.StaffTokens, error) {
	var k *staffauth.KeyProof
	if adopt != nil {
		k = &staffauth.KeyProof{PublicKey: adopt.PublicKey, Challenge: adopt.Challenge, Signature: adopt.Signature}
	}
	t, err := a.s.RefreshDevice(ctx, refresh, k)
	if err != nil {
		return nil, authErr(err)
	}
	return staffTokens(t), nil
}

func (a authAdapter) Devices(ctx context.Context, by *server.StaffClaims) ([]server.StaffDevice, error) {
	ds, err := a.s.DevicesFor(ctx, by.Raw.(*staffauth.Claims))
	if err != nil {
		return nil, authErr(err)
	}
	var out []server.StaffDevice
	for _, d := range ds {
		out = append(out, server.StaffDevice{ID: d.ID, Name: d.Name, RegisteredAt: d.RegisteredAt, RegisteredBy: d.RegisteredBy,
			LastSeen: d.LastSeen, Staff: d.Staff, Keyed: len(d.Key) > 0, Revoked: d.Revoked, RevokedAt: d.RevokedAt,
			RevokedBy: d.RevokedBy, RevokeReason: d.RevokeReason})
	}
	return out, nil
}

func (a authAdapter) RevokeDevice(ctx context.Context, by *server.StaffClaims, id app.ID, reason string) error {
	return authErr(a.s.RevokeDevice(ctx, by.Raw.(*staffauth.Claims), id, reason))
}

func (a authAdapter) Refresh(ctx context.Context, refresh string) (*server.StaffTokens, error) {
	t, err := a.s.Refresh(ctx, refresh)
	if err != nil {
		return nil, authErr(err)
	}
	return staffTokens(t), nil
}

func (a authAdapter) Authenticate(ctx context.Context, access string) (*server.StaffClaims, error) {
	c, err := a.s.Authenticate(ctx, access)
	if err != nil {
		return nil, authErr(err)
	}
	return &server.StaffClaims{StaffID: c.StaffID, DeviceID: c.DeviceID, Username: c.Username, Roles: c.Roles, RegionRoles: c.RegionRoles, Expires: c.Expires, NeedsTOTP: c.NeedsTOTP, Raw: c}, nil
}

func (a authAdapter) SignOut(ctx context.Context, by *server.StaffClaims) error {
	return authErr(a.s.EndSession(ctx, by.Raw.(*staffauth.Claims)))
}

func (a authAdapter) EnrollTOTP(ctx context.Context, by *server.StaffClaims) (string, string, error) {
	secret, url, err := a.s.EnrollTOTP(ctx, by.Raw.(*staffauth.Claims))
	return secret, url, authErr(err)
}

func (a authAdapter) ConfirmTOTP(ctx context.Context, by *server.StaffClaims, code string) ([]string, error) {
	codes, err := a.s.ConfirmTOTP(ctx, by.Raw.(*staffauth.Claims), code)
	return codes, authErr(err)
}

func (a authAdapter) ResetTOTP(ctx context.Context, by *server.StaffClaims, id app.ID) error {
	return authErr(a.s.ResetTOTP(ctx, by.Raw.(*staffauth.Claims), id))
}

func (a authAdapter) Verifier(ctx context.Context, by *server.StaffClaims) (string, error) {
	return a.s.Verifier(ctx, by.Raw.(*staffauth.Claims))
}

func authErr(err error) error {
	var re *staffauth.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return fmt.Errorf("%w: %w", &server.DeviceRevokedError{Reason: re.Reason, At: re.At}, err)
	case errors.Is(err, staffauth.ErrDeviceProof):
		return fmt.Errorf("%w: %w", server.ErrDeviceProof, err)
	case errors.Is(err, staffauth.ErrChallenge):
		return fmt.Errorf("%w: %w", server.ErrChallenge, err)
	case errors.Is(err, staffauth.ErrTOTPRequired):
		return fmt.Errorf("%w: %w", server.ErrTOTPRequired, err)
	case errors.Is(err, staffauth.ErrTokenExpired), errors.Is(err, staffauth.ErrTokenInvalid), errors.Is(err, staffauth.ErrDeviceRevoked):
		return fmt.Errorf("%w: %w", server.ErrUnauthenticated, err)
	}
	return err
}

// central is a running server.
type central struct {
	t     testing.TB
	ctx   context.Context
	store server.Store
	srv   *server.Server
	ds    *demo.Dataset
	url   string
	pin   string
	c     *client.Client // the resident side and direct calls, no faults
	mp    *mailpit
	dir   string
	addr  string // host:port it listens on
	cert  tls.Certificate
	stop  func() // stops the server and closes its files (also at cleanup)
}

type centralOpt struct {
	mailpit bool
	dir     string // reuse a data directory
	noSeed  bool
	addr    string                          // listen here (a restart on the same address); "" a free port
	cert    *tls.Certificate                // serve this certificate; nil a new self-signed one
	handler func(http.Handler) http.Handler // wraps the server's handler
	// totpRoles must enrol a second factor (staffauth.Options.TOTPRequired).
	totpRoles []app.Role
}

// testServerKey seals the central servers' stores (the same for every
// data directory, so a restarted server opens its store again).
var testServerKey = bytes.Repeat([]byte{0x5e}, storage.ServerKeySize)

func startCentral(t testing.TB, o centralOpt) *central {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	store, auth, empty := openCentralStore(t, ctx, dir, authOpts(o))
	now := time.Now()
	ds := demo.Build(now)
	ds.WithPasswords = false
	if !o.noSeed && empty {
		if err := demo.Seed(ctx, store, ds); err != nil {
			t.Fatal(err)
		}
		admin := app.Staff{ID: app.NewID(now), Name: "Admin", Username: "regionadmin"}
		if err := auth.Bootstrap(ctx, admin, demo.Password(admin.Username)); err != nil {
			t.Fatal(err)
		}
		by := &staffauth.Claims{StaffID: admin.ID}
		for _, st := range ds.Staff {
			if err := auth.PutStaff(ctx, by, st); err != nil {
				t.Fatal(err)
			}
			if err := auth.SetPassword(ctx, by, st.ID, demo.Password(st.Username)); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv, err := server.New(ctx, server.Deps{Store: store, Staff: authAdapter{auth}, EID: &server.TestEID{}, Logger: quiet,
		ResidentStartPerMinute: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ce := &central{t: t, ctx: ctx, store: store, srv: srv, ds: ds}
	var wg stdsync.WaitGroup
	if o.mailpit {
		ce.mp = startMailpit(t)
		mail, err := notify.NewSMTPClient(notify.SMTPConfig{Host: "127.0.0.1", Port: ce.mp.SMTPPort, TLS: notify.TLSNone,
			AllowInsecureLoopback: true, From: "Mottagning <noreply@example.invalid>"})
		if err != nil {
			t.Fatal(err)
		}
		d := &notify.Dispatcher{Outbox: srv.Gate(), Mail: mail, Log: quiet, Poll: 50 * time.Millisecond}
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Serve(ctx) }()
	}
	var cert tls.Certificate
	if o.cert != nil {
		cert = *o.cert
	} else {
		cert, _ = selfSigned(t)
	}
	fp := client.Fingerprint(cert.Certificate[0])
	addr := o.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv.Handler()
	if o.handler != nil {
		h = o.handler(h)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  slog.NewLogLogger(quiet.Handler(), slog.LevelWarn)}
	wg.Add(1)
	go func() { defer wg.Done(); _ = hs.ServeTLS(ln, "", "") }()
	ce.url, ce.pin = "https://"+ln.Addr().String(), fp
	ce.dir, ce.addr, ce.cert = dir, ln.Addr().String(), cert
	ce.c, err = client.New(ce.url, client.Options{PinSHA256: fp})
	if err != nil {
		t.Fatal(err)
	}
	var once stdsync.Once
	ce.stop = func() {
		once.Do(func() {
			cancel()
			_ = hs.Close()
			wg.Wait()
			ce.c.CloseIdle()
			if ch, ok := store.(interface{ Check() error }); ok {
				if err := ch.Check(); err != nil {
					t.Errorf("server store check: %v", err)
				}
			}
			store.Close()
			auth.Close()
		})
	}
	t.Cleanup(ce.stop)
	return ce
}

func (ce *central) persona(key string) *app.Resident {
	for _, r := range ce.ds.Residents {
		if r.ID == ce.ds.Persona[key] {
			return r
		}
	}
	ce.t.Fatalf("no persona %s", key)
	return nil
}

func (ce *central) staff(key string) *app.Staff {
	for i := range ce.ds.Staff {
		if ce.ds.Staff[i].ID == ce.ds.StaffBy[key] {
			return &ce.ds.Staff[i]
		}
	}
	ce.t.Fatalf("no staff %s", key)
	return nil
}

func (ce *central) template(clinic app.ID, kind app.CaseKind) app.ID {
	for _, t := range ce.ds.Templates {
		if t.ClinicID == clinic && t.Kind == kind {
			return t.ID
		}
	}
	ce.t.Fatalf("no template %s", kind)
	return ""
}

func (ce *central) resident(key string) string {
	ce.t.Helper()
	s, err := ce.c.ResidentSignIn(ce.ctx, ce.persona(key).PNR.String(), time.Millisecond)
	if err != nil {
		ce.t.Fatalf("resident sign-in %s: %v", key, err)
	}
	return s.Token
}

// faults sits between a desktop and the server: down refuses every
// request as an unreachable server would; the random drops (convergence)
// lose a request before or its answer after the server handled it.
type faults struct {
	inner    http.RoundTripper
	down     atomic.Bool
	mu       stdsync.Mutex
	rnd      func() float64
	dropReq  float64
	dropResp float64
}

var errDown = errors.New("connect: connection refused (test: server unreachable)")

func (f *faults) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.down.Load() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errDown
	}
	f.mu.Lock()
	var pReq, pResp float64 = 1, 1
	if f.rnd != nil {
		pReq, pResp = f.rnd(), f.rnd()
	}
	f.mu.Unlock()
	if pReq < f.dropReq {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errDown
	}
	resp, err := f.inner.RoundTrip(r)
	if err == nil && pResp < f.dropResp {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("connection reset (test: answer lost)")
	}
	return resp, err
}

// desktop is a connected desktop without its window.
type desktop struct {
	t      testing.TB
	ctx    context.Context
	store  *storage.Store
	cases  *app.CaseService
	auth   app.Authenticator
	tokens *msync.Tokens
	eng    *msync.Engine
	f      *faults
	c      *client.Client
	sess   app.Session
	lookup *msync.Lookup
}

func newDesktop(t testing.TB, ce *central, dir string) *desktop {
	t.Helper()
	return newDesktopAt(t, ce.url, ce.pin, dir, nil)
}

// newDesktopAt is newDesktop for the server at url with pin; dial, when
// set, replaces the transport's dialer (the benchmark counts bytes).
func newDesktopAt(t testing.TB, url, pin, dir string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *desktop {
	t.Helper()
	ctx := context.Background()
	if dir == "" {
		dir = t.TempDir()
	}
	store, err := storage.Open(ctx, dir, storage.Options{NoSync: true, Encrypt: true, KeyParams: demo.PasswordParams})
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := client.New(url, client.Options{PinSHA256: pin})
	if err != nil {
		t.Fatal(err)
	}
	if dial != nil {
		pinned.HTTP().Transport.(*http.Transport).DialContext = dial
	}
	f := &faults{inner: pinned.HTTP().Transport}
	c, err := client.New(url, client.Options{HTTPClient: &http.Client{Transport: f, Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	d := &desktop{t: t, ctx: ctx, store: store, f: f, c: c, cases: app.NewCaseService(store, app.SystemClock{})}
	d.tokens = &msync.Tokens{Remote: c, Store: store}
	d.auth = app.UnlockingAuth{Store: store, Auth: &msync.RemoteAuth{Remote: c, Local: app.NewLocalAuth(store, store, app.SystemClock{}),
		Store: store, Tokens: d.tokens, DeviceName: "test"}}
	d.lookup = &msync.Lookup{Cases: d.cases, Remote: c, Tokens: d.tokens, Store: store}
	t.Cleanup(func() {
		if err := store.Check(); err != nil {
			t.Errorf("desktop store check: %v", err)
		}
		store.Close()
		c.CloseIdle()
		pinned.CloseIdle()
	})
	return d
}

// signIn signs a demo staff member in and starts the engine (not Serve:
// tests drive SyncOnce, or call serve).
func (d *desktop) signIn(st *app.Staff, clinic app.ID) {
	d.t.Helper()
	got, err := d.auth.SignIn(d.ctx, st.Username, demo.Password(st.Username))
	if err != nil {
		d.t.Fatalf("sign in %s: %v", st.Username, err)
	}
	d.sess = app.Session{Staff: got, ClinicID: clinic}
	d.eng = msync.New(msync.Options{Replica: d.store, Remote: d.c, Tokens: d.tokens, DeviceID: d.store.SyncDevice(), Log: quiet,
		NoEvents: true, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Poll: 50 * time.Millisecond,
		OnChange: d.cases.ServerChanged})
	d.store.OnQueued(d.eng.Kick)
}

func (d *desktop) sync() error { return d.eng.SyncOnce(d.ctx) }

func (d *desktop) mustSync() {
	d.t.Helper()
	if err := d.sync(); err != nil {
		d.t.Fatalf("sync: %v", err)
	}
}

func selfSigned(t testing.TB) (tls.Certificate, string) {
	cert, fp, err := selfSignedCert()
	if err != nil {
		t.Fatal(err)
	}
	return cert, fp
}

func selfSignedCert() (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, client.Fingerprint(der), nil
}

// --- mailpit (as notify's tests start it) ---

type mailpit struct{ *mailpittest.Server }

func freePort(t testing.TB) int { return mailpittest.FreePort(t) }

func startMailpit(t testing.TB) *mailpit { return &mailpit{mailpittest.Start(t)} }

// to counts the messages mailpit holds for addr.
func (mp *mailpit) to(t testing.TB, addr string) int {
	t.Helper()
	resp, err := http.Get(mp.API + "/api/v1/messages?limit=500")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Messages []struct {
			To []struct{ Address string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range list.Messages {
		for _, to := range m.To {
			if strings.EqualFold(to.Address, addr) {
				n++
			}
		}
	}
	return n
}
