package sync_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/client/connect"
	msync "mottagning/sync"
)

// pinned is a desktop connected through client/connect, as the real
// desktop is: its client, token source and engine follow the stored pin.
type pinned struct {
	*desktop
	c      *client.Client
	tokens *msync.Tokens
	eng    *msync.Engine
}

// connectDesktop connects d's store to the server as the desktop's main
// does (the first connect with the pin the server printed), signs st in
// and builds the engine on the connected client.
func connectDesktop(t *testing.T, ce *central, d *desktop, st *app.Staff, clinic app.ID) *pinned {
	t.Helper()
	c, err := connect.Connect(d.ctx, d.store, connect.Config{URL: ce.url, Pin: ce.pin, Log: quiet})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(c.CloseIdle)
	d.signIn(st, clinic)
	// The sign-in's session reaches the store with its first token; the
	// engine below reads it from there.
	if _, err := d.tokens.Token(d.ctx); err != nil {
		t.Fatal(err)
	}
	return onClient(d, c)
}

func onClient(d *desktop, c *client.Client) *pinned {
	p := &pinned{desktop: d, c: c, tokens: &msync.Tokens{Remote: c, Store: d.store}}
	p.eng = msync.New(msync.Options{Replica: d.store, Remote: c, Tokens: p.tokens, DeviceID: d.store.SyncDevice(), Log: quiet,
		NoEvents: true, OnChange: d.cases.ServerChanged, Pins: &connect.Pins{Store: d.store, Client: c, Log: quiet, Every: time.Nanosecond}}) // asks at every sync
	d.store.OnQueued(p.eng.Kick)
	return p
}

// queueOffline makes a new case and a note on it while the server is
// down, and returns the case.
func queueOffline(t *testing.T, ce *central, p *pinned, clinic app.ID) *app.Case {
	t.Helper()
	lars := ce.persona(demo.AdultEmail)
	sent, err := p.cases.SendCase(p.ctx, p.sess, app.SendRequest{TemplateID: ce.template(clinic, app.KindQuestion), ResidentID: lars.ID,
		Subject: "Provsvar", Text: "Hej! Dina provsvar är klara."})
	if err != nil {
		t.Fatalf("send offline: %v", err)
	}
	if err := p.cases.AddNote(p.ctx, p.sess, sent.ID, "Ringde, inget svar."); err != nil {
		t.Fatalf("note offline: %v", err)
	}
	if err := p.eng.SyncOnce(p.ctx); !msync.Offline(err) {
		t.Fatalf("sync while the server is down = %v, want offline", err)
	}
	return sent
}

// onServer checks that the server holds the case with its message and note.
func onServer(t *testing.T, ce *central, id app.ID) {
	t.Helper()
	th, err := ce.store.Thread(ce.ctx, id)
	if err != nil || len(th.Messages) != 1 || len(th.Notes) != 1 {
		t.Fatalf("server thread = %+v, %v; want the message and the note", th, err)
	}
}

func pendingOf(t *testing.T, p *pinned) int {
	t.Helper()
	n, err := p.store.PendingCount(p.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRepinAfterRestoreKeepsQueuedWork is issue 14's "done when": a
// desktop with changes queued offline; the server is restored with a new
// certificate (a new fingerprint); the desktop refuses it, the
// administrator re-pins with the new fingerprint (--server-pin FP
// --repin), and the desktop pushes its queued work, nothing lost.
func TestRepinAfterRestoreKeepsQueuedWork(t *testing.T) {
	dir := t.TempDir()
	ce := startCentral(t, centralOpt{dir: dir})
	centrum := ce.ds.Clinics[0].ID
	p := connectDesktop(t, ce, newDesktop(t, ce, ""), ce.staff(demo.StaffReceiver), centrum)
	if _, err := p.lookup.LookupResident(p.ctx, p.sess, ce.persona(demo.AdultEmail).PNR); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if err := p.eng.SyncOnce(p.ctx); err != nil {
		t.Fatal(err)
	}

	ce.stop()
	sent := queueOffline(t, ce, p, centrum)
	queued := pendingOf(t, p)
	if queued < 2 {
		t.Fatalf("queued %d ops, want the case and the note at least", queued)
	}

	// Restored: same data, a new certificate.
	cert, newFP := selfSigned(t)
	ce = startCentral(t, centralOpt{dir: dir, addr: ce.addr, cert: &cert})
	if err := p.eng.SyncOnce(p.ctx); !errors.Is(err, msync.ErrPinMismatch) {
		t.Fatalf("sync against the restored server = %v, want a pin mismatch", err)
	}
	if _, err := connect.Connect(p.ctx, p.store, connect.Config{Log: quiet}); err == nil || !strings.Contains(err.Error(), "--repin") {
		t.Fatalf("start after the restore = %v, want the changed certificate refused, naming --repin", err)
	}
	if _, err := connect.Connect(p.ctx, p.store, connect.Config{Pin: newFP, Log: quiet}); err == nil {
		t.Fatal("a new --server-pin without --repin was taken")
	}
	// A wrong fingerprint with --repin changes nothing.
	if _, err := connect.Connect(p.ctx, p.store, connect.Config{Pin: strings.Repeat("ab", 32), Repin: true, Log: quiet}); err == nil {
		t.Fatal("--repin with a fingerprint the server does not present was taken")
	}
	if _, pin := p.store.SyncServer(); pin == newFP {
		t.Fatal("the pin moved to a refused fingerprint")
	}
	var out bytes.Buffer
	c, err := connect.Connect(p.ctx, p.store, connect.Config{Pin: strings.ToUpper(newFP), Repin: true, Out: &out, Log: quiet})
	if err != nil {
		t.Fatalf("re-pin: %v", err)
	}
	defer c.CloseIdle()
	if _, pin := p.store.SyncServer(); pin != newFP {
		t.Fatalf("stored pin %s, want %s", pin, newFP)
	}
	if pendingOf(t, p) != queued {
		t.Fatal("the re-pin changed the queue")
	}
	q := onClient(p.desktop, c)
	if err := q.eng.SyncOnce(q.ctx); err != nil {
		t.Fatalf("sync after the re-pin: %v", err)
	}
	if n := pendingOf(t, q); n != 0 {
		t.Fatalf("%d ops still queued after the re-pin", n)
	}
	if st := q.eng.Status(); len(st.Rejected)+len(st.Conflicts) != 0 {
		t.Fatalf("problems after the re-pin: %+v", st)
	}
	onServer(t, ce, sent.ID)
}

// TestCertificateRotationAnnounced is the signed rotation: the server
// announces its next certificate signed with the current one's key; a
// desktop keeps the announcement during its syncs and, when the server
// presents exactly that certificate, moves its pin and pushes what it
// queued meanwhile. A desktop that was offline while it was announced
// takes the announcement the server still serves after the switch. Any
// other certificate is still refused.
func TestCertificateRotationAnnounced(t *testing.T) {
	dir := t.TempDir()
	var announced atomic.Pointer[msync.NextPin]
	serveNext := func(h http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("GET "+msync.NextPinPath, msync.NextPinHandler(announced.Load))
		mux.Handle("/", h)
		return mux
	}
	ce := startCentral(t, centralOpt{dir: dir, handler: serveNext})
	centrum := ce.ds.Clinics[0].ID
	p := connectDesktop(t, ce, newDesktop(t, ce, ""), ce.staff(demo.StaffReceiver), centrum)
	late := connectDesktop(t, ce, newDesktop(t, ce, ""), ce.staff(demo.StaffReceiver), centrum)
	if _, err := p.lookup.LookupResident(p.ctx, p.sess, ce.persona(demo.AdultEmail).PNR); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	for i, d := range []*pinned{p, late} {
		if err := d.eng.SyncOnce(d.ctx); err != nil {
			t.Fatalf("desktop %d: %v", i, err)
		}
	}
	if p.store.SyncNextPin() != nil {
		t.Fatal("an announcement stored before the server made one")
	}

	// The server prepares its next certificate and announces it.
	next, nextFP := selfSigned(t)
	np, err := msync.SignNextPin(ce.cert.PrivateKey.(crypto.Signer), ce.cert.Certificate[0], nextFP, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	announced.Store(np)
	if err := p.eng.SyncOnce(p.ctx); err != nil {
		t.Fatal(err)
	}
	if raw := p.store.SyncNextPin(); !bytes.Contains(raw, []byte(nextFP)) {
		t.Fatalf("the desktop did not keep the announcement: %s", raw)
	}

	// The switch, while the desktop has work queued.
	ce.stop()
	sent := queueOffline(t, ce, p, centrum)
	ce = startCentral(t, centralOpt{dir: dir, addr: ce.addr, cert: &next, handler: serveNext})
	for _, d := range []*pinned{p, late} {
		if err := d.eng.SyncOnce(d.ctx); err != nil {
			t.Fatalf("sync after the switch: %v", err)
		}
		if _, pin := d.store.SyncServer(); pin != nextFP {
			t.Fatalf("pin after the switch %s, want %s", pin, nextFP)
		}
		if d.store.SyncNextPin() != nil {
			t.Fatal("the announcement was kept after the switch")
		}
	}
	if n := pendingOf(t, p); n != 0 {
		t.Fatalf("%d ops still queued after the switch", n)
	}
	onServer(t, ce, sent.ID)
	// A restart of the desktop connects with the new pin.
	if c, err := connect.Connect(p.ctx, p.store, connect.Config{Log: quiet}); err != nil {
		t.Fatalf("start after the switch: %v", err)
	} else {
		c.CloseIdle()
	}

	// A certificate nobody announced is refused, also when the server
	// serves an old announcement.
	ce.stop()
	other, _ := selfSigned(t)
	ce = startCentral(t, centralOpt{dir: dir, addr: ce.addr, cert: &other, handler: serveNext})
	if err := p.eng.SyncOnce(p.ctx); !errors.Is(err, msync.ErrPinMismatch) {
		t.Fatalf("sync against an unannounced certificate = %v, want a pin mismatch", err)
	}
	if _, pin := p.store.SyncServer(); pin != nextFP {
		t.Fatalf("the pin moved to an unannounced certificate: %s", pin)
	}
	if _, err := connect.Connect(p.ctx, p.store, connect.Config{Log: quiet}); err == nil {
		t.Fatal("a start against an unannounced certificate connected")
	}
}

// TestConnectTrustsSystemCAs: a server whose certificate a trusted CA
// issued for its host is trusted by normal verification, with no pin
// (a renewal needs nothing); without that CA the first connect falls
// back to pinning the presented certificate; a CA-trusted desktop
// refuses a server whose certificate no longer verifies.
func TestConnectTrustsSystemCAs(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Regionens test-CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mottagning.region.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf := tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}
	dir := t.TempDir()
	ce := startCentral(t, centralOpt{dir: dir, cert: &leaf})
	ctx := context.Background()

	d := newDesktop(t, ce, "")
	c, err := connect.Connect(ctx, d.store, connect.Config{URL: ce.url, RootCAs: roots, Log: quiet})
	if err != nil {
		t.Fatalf("connect with the CA trusted: %v", err)
	}
	if url, pin := d.store.SyncServer(); url != ce.url || pin != "" {
		t.Fatalf("stored %q %q, want the address and no pin", url, pin)
	}
	if err := c.Healthz(ctx); err != nil {
		t.Fatal(err)
	}
	c.CloseIdle()
	// A later start verifies the same way.
	if c, err = connect.Connect(ctx, d.store, connect.Config{RootCAs: roots, Log: quiet}); err != nil {
		t.Fatalf("second start: %v", err)
	}
	c.CloseIdle()

	// The start screen's choice (CAOnly) without the CA and without a
	// fingerprint: refused, nothing stored (no trust on first use there).
	f := newDesktop(t, ce, "")
	if _, err := connect.Connect(ctx, f.store, connect.Config{URL: ce.url, CAOnly: true, Log: quiet}); err == nil ||
		!strings.Contains(err.Error(), "fingeravtryck") {
		t.Fatalf("CAOnly first connect to a server no trusted CA vouches for = %v, want a refusal", err)
	}
	if url, pin := f.store.SyncServer(); url != "" || pin != "" {
		t.Fatalf("a refused first connect stored %q %q", url, pin)
	}
	// With the CA it is taken as above.
	if c, err = connect.Connect(ctx, f.store, connect.Config{URL: ce.url, CAOnly: true, RootCAs: roots, Log: quiet}); err != nil {
		t.Fatalf("CAOnly with the CA trusted: %v", err)
	}
	c.CloseIdle()

	// Without the CA: trust on first use, pinned.
	e := newDesktop(t, ce, "")
	if c, err = connect.Connect(ctx, e.store, connect.Config{URL: ce.url, Log: quiet}); err != nil {
		t.Fatalf("connect without the CA: %v", err)
	}
	c.CloseIdle()
	if _, pin := e.store.SyncServer(); pin != client.Fingerprint(leafDER) {
		t.Fatalf("pin %q, want the presented certificate's", pin)
	}

	// The server now presents a certificate no trusted CA issued.
	ce.stop()
	self, _ := selfSigned(t)
	ce = startCentral(t, centralOpt{dir: dir, addr: ce.addr, cert: &self})
	if _, err := connect.Connect(ctx, d.store, connect.Config{RootCAs: roots, Log: quiet}); err == nil || !strings.Contains(err.Error(), "verifieras") {
		t.Fatalf("start against an untrusted certificate = %v, want it refused", err)
	}
}

// TestFirstConnectWithWrongFingerprintStoresNothing: at the first
// connect (the start screen's form, or --server with --server-pin) a
// mistyped fingerprint or address is refused and nothing is stored, so
// the next try with the right ones connects; before, the wrong pin was
// stored first and every later try was refused as a changed certificate.
func TestFirstConnectWithWrongFingerprintStoresNothing(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := context.Background()
	d := newDesktop(t, ce, "")
	wrong := strings.Repeat("ab", 32)
	_, err := connect.Connect(ctx, d.store, connect.Config{URL: ce.url, Pin: wrong, CAOnly: true, Log: quiet})
	if err == nil || !strings.Contains(err.Error(), "annat certifikat") || strings.Contains(err.Error(), "--repin") {
		t.Fatalf("first connect with a wrong fingerprint = %v, want the first-connect refusal", err)
	}
	if url, pin := d.store.SyncServer(); url != "" || pin != "" {
		t.Fatalf("a refused first connect stored %q %q", url, pin)
	}
	// A wrong address (nothing listens there): refused, nothing stored.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "https://" + ln.Addr().String()
	ln.Close()
	if _, err := connect.Connect(ctx, d.store, connect.Config{URL: dead, Pin: ce.pin, CAOnly: true, Log: quiet}); err == nil || !strings.Contains(err.Error(), "kan inte nås") {
		t.Fatalf("first connect to a dead address = %v, want unreachable", err)
	}
	if url, pin := d.store.SyncServer(); url != "" || pin != "" {
		t.Fatalf("a first connect to a dead address stored %q %q", url, pin)
	}
	// The right address and fingerprint now connect and are stored.
	c, err := connect.Connect(ctx, d.store, connect.Config{URL: ce.url, Pin: strings.ToUpper(ce.pin), CAOnly: true, Log: quiet})
	if err != nil {
		t.Fatalf("first connect with the right fingerprint after a wrong one: %v", err)
	}
	defer c.CloseIdle()
	if url, pin := d.store.SyncServer(); url != ce.url || pin != ce.pin {
		t.Fatalf("stored %q %q, want %q %q", url, pin, ce.url, ce.pin)
	}
}
