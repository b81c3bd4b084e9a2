package sync_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/server"
	"mottagning/server/staffauth"
	"mottagning/storage"
	msync "mottagning/sync"
)

// The device keys over real HTTP: the real server (server.New, real
// staffauth on its own auth.db) on 127.0.0.1 with TLS, and a desktop as a
// storage replica with RemoteAuth and DeviceKeys.

// keyAuth is the harness's authAdapter with the device keys, as
// cmd/mottagning-server's adapter has them.
type keyAuth struct{ authAdapter }

var _ server.DeviceKeys = keyAuth{}

func raw(by *server.StaffClaims) *staffauth.Claims { return by.Raw.(*staffauth.Claims) }

func (a keyAuth) PutDeviceEscrow(ctx context.Context, by *server.StaffClaims, id string, key, proof []byte) error {
	return authErr(a.s.PutDeviceEscrow(ctx, raw(by), id, key, proof))
}

func (a keyAuth) AddEscrowHolder(ctx context.Context, by *server.StaffClaims, id string, proof []byte) error {
	return authErr(a.s.AddEscrowHolder(ctx, raw(by), id, proof))
}

func (a keyAuth) ReleaseDeviceEscrow(ctx context.Context, by *server.StaffClaims) (string, []byte, error) {
	id, key, err := a.s.ReleaseDeviceEscrow(ctx, raw(by))
	return id, key, authErr(err)
}

func (a keyAuth) RegisterDeviceLogKey(ctx context.Context, by *server.StaffClaims, pub []byte) error {
	return authErr(a.s.RegisterDeviceLogKey(ctx, raw(by), pub))
}

func (a keyAuth) PutDeviceCheckpoint(ctx context.Context, by *server.StaffClaims, cp *app.Checkpoint) error {
	return authErr(a.s.PutDeviceCheckpoint(ctx, raw(by), cp))
}

// keyCentral is a running server with device keys, and its staff accounts.
type keyCentral struct {
	*central
	auth  *staffauth.Service
	admin *staffauth.Claims // the region administrator
	logs  *bytes.Buffer     // everything the server logged
}

func startKeyCentral(t *testing.T) *keyCentral {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	store, err := storage.Open(ctx, dir, storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := staffauth.Open(filepath.Join(dir, "auth.db"), nil, staffauth.Options{Params: demo.PasswordParams, SourcePerMinute: 1e6, SourceBurst: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ds := demo.Build(now)
	ds.WithPasswords = false
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
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(ctx, server.Deps{Store: store, Staff: keyAuth{authAdapter{auth}}, EID: &server.TestEID{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	// The device-key routes in front of the API (Handler serves them too
	// once it registers deviceRoutes).
	mux := http.NewServeMux()
	mux.Handle("/api/staff/device/", srv.DeviceHandler())
	mux.Handle("/", srv.Handler())
	cert, fp := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  slog.NewLogLogger(quiet.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.ServeTLS(ln, "", "") }()
	ce := &central{t: t, ctx: ctx, store: store, srv: srv, ds: ds, url: "https://" + ln.Addr().String(), pin: fp}
	if ce.c, err = client.New(ce.url, client.Options{PinSHA256: fp}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = hs.Close()
		<-done
		ce.c.CloseIdle()
		if err := store.Check(); err != nil {
			t.Errorf("server store check: %v", err)
		}
		store.Close()
		auth.Close()
	})
	return &keyCentral{central: ce, auth: auth, admin: by, logs: logs}
}

// keyDesktop is newDesktop signing in through RemoteAuth with DeviceKeys.
func keyDesktop(t *testing.T, ce *keyCentral, dir string) (*desktop, *msync.DeviceKeys) {
	t.Helper()
	d := newDesktop(t, ce.central, dir)
	keys := &msync.DeviceKeys{Server: d.c, Store: d.store, Log: quiet}
	d.auth = app.UnlockingAuth{Store: d.store, Auth: &msync.RemoteAuth{Remote: d.c, Local: app.NewLocalAuth(d.store, d.store, app.SystemClock{}),
		Store: d.store, Tokens: d.tokens, DeviceName: "test", Keys: keys}}
	return d, keys
}

// signOut is what the window does at sign-out: the data key is forgotten.
func (d *desktop) signOut() { d.store.Lock() }

// unlockAtEnd unlocks the store with st's password before the harness's
// consistency check reads it.
func (d *desktop) unlockAtEnd(t *testing.T, st *app.Staff) {
	t.Cleanup(func() {
		if err := d.store.Unlock(d.ctx, st.ID, demo.Password(st.Username)); err != nil {
			t.Errorf("unlock for the check: %v", err)
		}
	})
}

func (d *desktop) openEveryCase(t *testing.T, clinic app.ID) int {
	t.Helper()
	page, err := d.cases.ClinicCases(d.ctx, app.Session{Staff: d.sess.Staff, ClinicID: clinic}, app.CaseQuery{ClinicID: clinic, Limit: 500})
	if err != nil {
		t.Fatalf("clinic cases: %v", err)
	}
	for _, r := range page.Rows {
		if _, err := d.cases.OpenCase(d.ctx, app.Session{Staff: d.sess.Staff, ClinicID: clinic}, r.Case.ID); err != nil {
			t.Fatalf("open case %s: %v", r.Case.ID, err)
		}
	}
	return len(page.Rows)
}

// Issue 6: a staff member signing in for the first time on an encrypted,
// connected desktop while nobody with a key is signed in gets the data key
// through the device escrow, and reads the cases; staff of a clinic the
// device does not serve get nothing.
func TestDeviceEscrow_SecondStaffFirstSignInReadsCases(t *testing.T) {
	ce := startKeyCentral(t)
	centrum := ce.ds.Clinics[0].ID
	d, _ := keyDesktop(t, ce, "")

	// Björn (vårdcentralen only) connects the desktop: it is encrypted,
	// registered, synced, and its escrow deposited.
	bjorn := ce.staff(demo.StaffHandler)
	d.signIn(bjorn, centrum)
	d.unlockAtEnd(t, bjorn)
	d.mustSync()
	device := app.ID(d.store.SyncDevice())
	if ok, err := ce.auth.HasDeviceEscrow(d.ctx, device); !ok || err != nil {
		t.Fatalf("no escrow on the server after the first sign-in: %v", err)
	}
	if !d.store.Encrypted() {
		t.Fatal("the desktop is not encrypted")
	}
	d.signOut()

	// Cecilia (barnmottagningen only): the device does not serve her
	// clinic; she gets the old message, and the store stays locked.
	cecilia := ce.staff(demo.StaffChildClinic)
	_, err := d.auth.SignIn(d.ctx, cecilia.Username, demo.Password(cecilia.Username))
	if !errors.Is(err, app.ErrLocked) || app.SignInMessage(err, time.Now()) == "" {
		t.Fatalf("staff of a clinic the device does not serve: %v", err)
	}
	if !d.store.Locked() {
		t.Fatal("unlocked for staff of another clinic")
	}

	// Anna (vårdcentralen and barnmottagningen), first time on the device,
	// nobody signed in: the escrow opens it.
	anna := ce.staff(demo.StaffReceiver)
	d.signIn(anna, centrum)
	if d.store.Locked() {
		t.Fatal("still locked")
	}
	if n := d.openEveryCase(t, centrum); n == 0 {
		t.Fatal("no cases to read")
	}
	holders, err := d.store.KeyHolders()
	if err != nil || len(holders) != 2 {
		t.Fatalf("key holders %v, %v; want Björn and Anna", holders, err)
	}
	d.mustSync()
	d.signOut()

	// From now on her password opens it, offline too: the device-wrap key
	// was not kept.
	d.f.down.Store(true)
	if _, err := d.auth.SignIn(d.ctx, anna.Username, demo.Password(anna.Username)); err != nil {
		t.Fatalf("Anna offline after the escrow: %v", err)
	}
	d.signOut()
	d.f.down.Store(false)

	// Anna made barnmottagningen a clinic the device serves: Cecilia now
	// gets the key too.
	if _, err := d.auth.SignIn(d.ctx, cecilia.Username, demo.Password(cecilia.Username)); err != nil {
		t.Fatalf("Cecilia after Anna: %v", err)
	}
	d.signOut()

	// Nothing of the escrow in the server's log lines but ids, and no
	// data key or device-wrap key in the desktop's file.
	checkNoKeyMaterial(t, ce, d, anna)
}

// checkNoKeyMaterial: the server logged the escrow's events with ids
// only, and neither its log nor the desktop's file holds the device-wrap
// key (fetched here the way the desktop fetches it).
func checkNoKeyMaterial(t *testing.T, ce *keyCentral, d *desktop, st *app.Staff) {
	t.Helper()
	tok, err := deviceSignIn(t, ce, d, st)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ce.auth.Authenticate(d.ctx, tok.Access)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := ce.auth.ReleaseDeviceEscrow(d.ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	logs := ce.logs.String()
	if !strings.Contains(logs, "device escrow released") || !strings.Contains(logs, "device escrow deposited") {
		t.Errorf("the escrow's events are not in the server log")
	}
	data, err := os.ReadFile(d.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range [][]byte{key, []byte(base64.StdEncoding.EncodeToString(key)), []byte(hex.EncodeToString(key))} {
		if strings.Contains(logs, string(form)) {
			t.Error("the device-wrap key is in the server's log")
		}
		if bytes.Contains(data, form) {
			t.Error("the device-wrap key is in the desktop's file")
		}
	}
}

// Issue 6: a revoked device gets no key: the sign-in is refused with a
// clear Swedish message, the server holds no escrow for it any more, and
// the store stays locked.
func TestDeviceEscrow_RevokedDeviceGetsNoKey(t *testing.T) {
	ce := startKeyCentral(t)
	centrum := ce.ds.Clinics[0].ID
	d, _ := keyDesktop(t, ce, "")
	d.signIn(ce.staff(demo.StaffHandler), centrum)
	d.unlockAtEnd(t, ce.staff(demo.StaffHandler))
	d.mustSync()
	d.signOut()
	device := app.ID(d.store.SyncDevice())
	if err := ce.auth.RevokeDevice(d.ctx, ce.admin, device, "Borttappad"); err != nil {
		t.Fatal(err)
	}
	if ok, err := ce.auth.HasDeviceEscrow(d.ctx, device); ok || err != nil {
		t.Fatalf("escrow of a revoked device kept: %v", err)
	}
	anna := ce.staff(demo.StaffReceiver)
	_, err := d.auth.SignIn(d.ctx, anna.Username, demo.Password(anna.Username))
	if !errors.Is(err, app.ErrDeviceRevoked) {
		t.Fatalf("sign-in on a revoked device: %v", err)
	}
	msg := app.SignInMessage(err, time.Now())
	if !strings.Contains(msg, "spärrad") || !strings.Contains(msg, "IT-supporten") {
		t.Errorf("message %q", msg)
	}
	if !d.store.Locked() {
		t.Error("a revoked device was unlocked")
	}
	if h, _ := d.store.KeyHolders(); len(h) != 1 {
		t.Errorf("key holders %v: Anna got a key", h)
	}
	// Even the device's own proof gets nothing but the reason.
	_, err = deviceSignIn(t, ce, d, anna)
	var re *staffauth.RevokedError
	if !errors.As(err, &re) || re.Reason != "Borttappad" {
		t.Errorf("staffauth sign-in on the revoked device: %v", err)
	}
}

// deviceSignIn signs st in on d's device straight through staffauth, with
// the proof of d's device key, as d's RemoteAuth would.
func deviceSignIn(t *testing.T, ce *keyCentral, d *desktop, st *app.Staff) (*staffauth.Tokens, error) {
	t.Helper()
	key, err := d.store.DeviceKey(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	device := app.ID(d.store.SyncDevice())
	ch, _ := ce.auth.Challenge()
	return ce.auth.SignIn(d.ctx, staffauth.SignInRequest{Username: st.Username, Password: demo.Password(st.Username),
		DeviceID: device, Challenge: ch, DeviceProof: app.SignDeviceProof(key, app.ProofSignIn, device, ch)})
}

// Issue 8: the desktop registers its access-log key at sign-in and sends
// checkpoints; the server verifies them against the registered key, and
// refuses a checkpoint signed by another key with a coded Swedish reason.
func TestDeviceLogKey_CheckpointOfAnotherKeyRefused(t *testing.T) {
	ce := startKeyCentral(t)
	centrum := ce.ds.Clinics[0].ID
	d, keys := keyDesktop(t, ce, "")
	anna := ce.staff(demo.StaffReceiver)
	d.signIn(anna, centrum)
	d.mustSync()
	device := app.ID(d.store.SyncDevice())
	pub, err := ce.auth.DeviceLogKey(d.ctx, device)
	if err != nil || !bytes.Equal(pub, d.store.AccessLogPublicKey()) {
		t.Fatalf("registered log key: %v", err)
	}

	// Open cases (access-logged), then send a checkpoint of the head.
	if d.openEveryCase(t, centrum) == 0 {
		t.Fatal("no cases")
	}
	tok, err := d.tokens.Token(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Checkpoint(d.ctx, tok); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	cps, err := ce.auth.DeviceCheckpoints(d.ctx, device)
	if err != nil || len(cps) == 0 {
		t.Fatalf("server holds %d checkpoints, %v", len(cps), err)
	}
	last := cps[len(cps)-1]
	if err := ce.auth.VerifyDeviceCheckpoint(d.ctx, device, &last); err != nil {
		t.Errorf("verify the device's checkpoint: %v", err)
	}
	report, err := d.store.VerifyAccessLog(d.ctx)
	if err != nil || !report.OK() || report.Last < last.Seq {
		t.Errorf("local chain %+v, %v", report, err)
	}

	// A checkpoint of a rewritten chain, signed with another key.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	h := sha256.Sum256([]byte("rewritten"))
	forged := app.Checkpoint{Seq: last.Seq + 1, Hash: h[:], At: time.Now().UTC()}
	forged.Sign(other)
	err = d.c.Do(d.ctx, http.MethodPost, msync.PathCheckpoints, tok, &forged, nil)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "invalid" || len(ae.Reasons) != 1 ||
		ae.Reasons[0].Code != "checkpoint_signature" || !strings.Contains(ae.Reasons[0].Message, "signerad") {
		t.Fatalf("forged checkpoint: %v (%+v)", err, ae)
	}
	// And another key for the device is refused too.
	otherPub := other.Public().(ed25519.PublicKey)
	err = d.c.Do(d.ctx, http.MethodPut, msync.PathLogKey, tok, &msync.LogKeyRequest{PublicKey: otherPub}, nil)
	if !errors.As(err, &ae) || len(ae.Reasons) != 1 || ae.Reasons[0].Code != "log_key_mismatch" {
		t.Fatalf("another log key: %v", err)
	}
	if cps2, _ := ce.auth.DeviceCheckpoints(d.ctx, device); len(cps2) != len(cps) {
		t.Errorf("the forged checkpoint was kept")
	}
}
