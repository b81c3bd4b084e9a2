package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/storage"
)

// testClock is a clock tests can move (R8: the 13th birthday).
type testClock struct {
	mu  stdsync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// fakeAuth is a StaffAuth that issues fixed tokens "staff:<id>" for the
// staff it knows, and refuses "expired:…" and anything else. The real
// staffauth is exercised end to end by cmd/mottagning-server's tests.
type fakeAuth struct {
	clock   app.Clock
	mu      stdsync.Mutex
	staff   map[string]*app.Staff // token → staff
	revoked map[string]bool
}

func (f *fakeAuth) token(id app.ID) string { return "staff:" + string(id) }

func (f *fakeAuth) SignIn(ctx context.Context, r StaffSignIn) (*StaffTokens, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for tok, st := range f.staff {
		if st.Username == r.Username && r.Password == demo.Password(st.Username) {
			return &StaffTokens{Access: tok, Refresh: "refresh:" + tok, AccessExpires: f.clock.Now().Add(10 * time.Minute), DeviceID: "dev-" + st.ID}, nil
		}
	}
	return nil, app.ErrBadCredentials
}

func (f *fakeAuth) Refresh(ctx context.Context, refresh string) (*StaffTokens, error) {
	tok, ok := strings.CutPrefix(refresh, "refresh:")
	f.mu.Lock()
	_, known := f.staff[tok]
	f.mu.Unlock()
	if !ok || !known {
		return nil, ErrUnauthenticated
	}
	return &StaffTokens{Access: tok, Refresh: refresh, AccessExpires: f.clock.Now().Add(10 * time.Minute)}, nil
}

func (f *fakeAuth) Authenticate(ctx context.Context, access string) (*StaffClaims, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(access, "expired:") {
		st := f.staff[strings.TrimPrefix(access, "expired:")]
		if st == nil {
			return nil, ErrUnauthenticated
		}
		// A token past its expiry: the server must refuse it by Expires.
		return &StaffClaims{StaffID: st.ID, Username: st.Username, Roles: st.Roles, RegionRoles: st.RegionRoles, Expires: f.clock.Now().Add(-time.Second)}, nil
	}
	st := f.staff[access]
	if st == nil || f.revoked[access] {
		return nil, ErrUnauthenticated
	}
	return &StaffClaims{StaffID: st.ID, DeviceID: "dev-" + st.ID, Username: st.Username, Roles: st.Roles, RegionRoles: st.RegionRoles, Expires: f.clock.Now().Add(10 * time.Minute)}, nil
}

// SignOut ends the token (the fixed token of the staff member).
func (f *fakeAuth) SignOut(ctx context.Context, by *StaffClaims) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked[f.token(by.StaffID)] = true
	return nil
}

// env is a running server on 127.0.0.1 over TLS with the demo region, and a
// client that pins its self-signed certificate.
type env struct {
	t     *testing.T
	ctx   context.Context
	clock *testClock
	store Store
	srv   *Server
	ds    *demo.Dataset
	auth  *fakeAuth
	c     *client.Client
	url   string
	pin   string
	hc    *http.Client
}

// staff returns the access token of a demo staff member by key.
func (e *env) staff(key string) string { return e.auth.token(e.ds.StaffBy[key]) }

// persona returns a demo resident by persona key.
func (e *env) persona(key string) *app.Resident {
	id := e.ds.Persona[key]
	for _, r := range e.ds.Residents {
		if r.ID == id {
			return r
		}
	}
	e.t.Fatalf("no persona %q", key)
	return nil
}

// clinic returns the id of demo clinic i (0 centrum, 1 barn).
func (e *env) clinic(i int) string { return string(e.ds.Clinics[i].ID) }

// signIn signs a persona in with the test e-ID and returns the token.
func (e *env) signIn(key string) string {
	e.t.Helper()
	s, err := e.c.ResidentSignIn(e.ctx, e.persona(key).PNR.String(), time.Millisecond)
	if err != nil {
		e.t.Fatalf("sign in %s: %v", key, err)
	}
	return s.Token
}

// testServerKey seals the test servers' stores.
var testServerKey = bytes.Repeat([]byte{0x5e}, storage.ServerKeySize)

type envOpt struct {
	noDemo bool
	store  Store // an existing store instead of a new one
	// limits keeps the server's per-address limits at their defaults;
	// without it they are out of the way (the test clock stands still, so
	// a bucket would never refill).
	limits  bool
	trusted []netip.Prefix
}

func newEnv(t testing.TB, opts ...envOpt) *env {
	tt, _ := t.(*testing.T)
	var opt envOpt
	if len(opts) > 0 {
		opt = opts[0]
	}
	ctx := context.Background()
	clock := &testClock{}
	store := opt.store
	if store == nil {
		store = openTestStore(t, clock)
	}
	ds := demo.Build(clock.Now())
	ds.WithPasswords = false
	if !opt.noDemo {
		if err := demo.Seed(ctx, store, ds); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	auth := &fakeAuth{clock: clock, staff: map[string]*app.Staff{}, revoked: map[string]bool{}}
	for i := range ds.Staff {
		auth.staff[auth.token(ds.Staff[i].ID)] = &ds.Staff[i]
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	deps := Deps{Store: store, Staff: auth, EID: &TestEID{Clock: clock}, Clock: clock, Logger: log, TrustedProxies: opt.trusted}
	if !opt.limits {
		deps.ResidentStartPerMinute, deps.TestNotifyPerMinute = 1<<20, 1<<20
	}
	srv, err := New(ctx, deps)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	cert, fp := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.ServeTLS(ln, "", "") }()
	url := "https://" + ln.Addr().String()
	c, err := client.New(url, client.Options{PinSHA256: fp})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() {
		_ = hs.Shutdown(ctx)
		<-done
		c.CloseIdle()
		if ch, ok := store.(interface{ Check() error }); ok {
			if err := ch.Check(); err != nil {
				t.Errorf("store check: %v", err)
			}
		}
		store.Close()
	})
	return &env{t: tt, ctx: ctx, clock: clock, store: store, srv: srv, ds: ds, auth: auth, c: c, url: url, pin: fp}
}

// selfSigned makes a certificate for 127.0.0.1 and returns its fingerprint.
func selfSigned(t testing.TB) (tls.Certificate, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, client.Fingerprint(der)
}

// wantCode fails unless err is an API error with one of codes.
func wantCode(t *testing.T, err error, codes ...string) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an API error %v", err, codes)
	}
	for _, c := range codes {
		if e.Code == c {
			return e
		}
	}
	t.Fatalf("got code %q (status %d), want %v", e.Code, e.Status, codes)
	return nil
}
