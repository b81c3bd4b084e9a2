package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/internal/mailpittest"
	"mottagning/notify"
	"mottagning/storage"
)

// suite collects every notification the tests sent, for the scan in
// TestMain (R4: nothing personal, nothing about the case, no link).
var suite struct {
	mu    stdsync.Mutex
	mails []string // raw messages as mailpit has them
	sms   []string // "to text" of every fake SMS
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := scanSuite(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: scan of every notification sent:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// forbidden lists what no notification may contain: every personnummer
// (in its usual forms), name and address of the demo residents, every
// case subject and message text of the demo set, and any URL.
func forbidden() []string {
	ds := demo.Build(time.Now())
	var out []string
	for _, r := range ds.Residents {
		if !r.PNR.IsZero() {
			s := r.PNR.String()
			digits := strings.NewReplacer("-", "", "+", "").Replace(s)
			out = append(out, s, digits)
			if len(digits) == 12 {
				out = append(out, digits[2:])
			}
		}
		out = append(out, r.Register.FullName(), r.Register.Address.Street)
		for _, n := range []string{r.Register.GivenName, r.Register.FamilyName} {
			if len(n) >= 4 { // "Ek" turns up inside ordinary words
				out = append(out, n)
			}
		}
	}
	for _, th := range ds.Threads {
		out = append(out, th.Case.Subject)
		for _, m := range th.Messages {
			out = append(out, firstLine(m.Text))
		}
	}
	for _, t := range ds.Templates {
		if t.Subject != "" {
			out = append(out, t.Subject)
		}
	}
	return out
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); len(l) > 12 {
			return l
		}
	}
	return ""
}

var messageIDLine = regexp.MustCompile(`(?im)^message-id:.*$`)

var urlish = regexp.MustCompile(`(?i)(https?://|www\.|\b1177\.se\b|href=)`)

func scanSuite() error {
	suite.mu.Lock()
	defer suite.mu.Unlock()
	bad := forbidden()
	check := func(kind, s string) error {
		for _, b := range bad {
			if b != "" && strings.Contains(strings.ToLower(s), strings.ToLower(b)) {
				return fmt.Errorf("a %s holds personal or case data (%d bytes in)", kind, strings.Index(strings.ToLower(s), strings.ToLower(b)))
			}
		}
		if urlish.MatchString(s) {
			return fmt.Errorf("a %s holds a link", kind)
		}
		return nil
	}
	for _, m := range suite.mails {
		// The recipient's own address is where the e-mail goes (To,
		// mailpit's Received … for <addr>), not its content: demo
		// addresses are made from given names, so take them out first.
		if err := check("e-mail", addrLike.ReplaceAllString(m, "<adress>")); err != nil {
			return err
		}
	}
	for _, s := range suite.sms {
		if err := check("SMS", s); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "scan: %d e-mails and %d SMS sent by the suite hold no personnummer, name, case text or link\n", len(suite.mails), len(suite.sms))
	return nil
}

// fakeSMS records SMS; err, when set, answers each send.
type fakeSMS struct {
	mu    stdsync.Mutex
	calls []string
	err   func(to string) error
}

func (f *fakeSMS) SendSMS(_ context.Context, to, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		if err := f.err(to); err != nil {
			return err
		}
	}
	f.calls = append(f.calls, to+" "+text)
	suite.mu.Lock()
	suite.sms = append(suite.sms, text)
	suite.mu.Unlock()
	return nil
}

func (f *fakeSMS) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// clock is a settable clock, safe for the dispatcher's goroutine.
type clock struct {
	mu stdsync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int { return mailpittest.FreePort(t) }

// mailpit is a running mailpit on 127.0.0.1.
type mailpit struct{ *mailpittest.Server }

// startMailpit starts mailpit (internal/mailpittest) with extra flags.
func startMailpit(t testing.TB, extra ...string) *mailpit {
	return &mailpit{mailpittest.Start(t, extra...)}
}

type mpAddress struct{ Name, Address string }

type mpSummary struct {
	ID        string
	MessageID string
	From      mpAddress
	To        []mpAddress
	Subject   string
}

type mpMessage struct {
	mpSummary
	Date    time.Time
	Text    string
	HTML    string
	Headers map[string][]string
	Raw     string
}

func (mp *mailpit) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(mp.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// messages reads back every message mailpit holds, with headers and raw
// source, and adds them to the suite's scan.
func (mp *mailpit) messages(t testing.TB) []mpMessage {
	t.Helper()
	var list struct {
		Total    int
		Messages []mpSummary
	}
	mp.getJSON(t, "/api/v1/messages?limit=100000", &list)
	out := make([]mpMessage, 0, len(list.Messages))
	for _, s := range list.Messages {
		var m mpMessage
		mp.getJSON(t, "/api/v1/message/"+s.ID, &m)
		mp.getJSON(t, "/api/v1/message/"+s.ID+"/headers", &m.Headers)
		resp, err := http.Get(mp.API + "/api/v1/message/" + s.ID + "/raw")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m.Raw = string(raw)
		out = append(out, m)
		suite.mu.Lock()
		// The Message-ID is a lower-cased notification id: random letters
		// that could spell a short name by chance; tests check its form.
		suite.mails = append(suite.mails, messageIDLine.ReplaceAllString(m.Raw, ""), m.Text, m.Subject)
		suite.mu.Unlock()
	}
	return out
}

// count is how many messages mailpit holds.
func (mp *mailpit) count(t testing.TB) int {
	t.Helper()
	var list struct{ Total int }
	mp.getJSON(t, "/api/v1/messages?limit=1", &list)
	return list.Total
}

// selfSigned writes a certificate for localhost and 127.0.0.1 and its key
// to dir, and returns their paths.
func selfSigned(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// world is the demo data set in a real bbolt store, with a case service on
// a settable clock: notifications enter the outbox the way they do in the
// program, through SendCase.
type world struct {
	ctx   context.Context
	clock *clock
	store *storage.Store
	ds    *demo.Dataset
	cases *app.CaseService
}

var seedTime = time.Date(2026, 11, 25, 10, 0, 0, 0, app.Stockholm)

func newWorld(t testing.TB, noSync bool) *world {
	t.Helper()
	w := &world{ctx: context.Background(), clock: &clock{t: seedTime}}
	s, err := storage.Open(w.ctx, t.TempDir(), storage.Options{NoSync: noSync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		s.Close()
	})
	w.store, w.ds = s, demo.Build(seedTime)
	if err := demo.Seed(w.ctx, s, w.ds); err != nil {
		t.Fatal(err)
	}
	w.cases = app.NewCaseService(s, w.clock)
	return w
}

// send sends a question from the clinic's receiver to persona key and
// returns the case.
func (w *world) send(t testing.TB, key string) *app.Case {
	t.Helper()
	staff, clinic := demo.StaffReceiver, 0
	if r, _ := w.store.Resident(w.ctx, w.ds.Persona[key]); r != nil && app.IsChild(r, w.clock.Now()) {
		staff, clinic = demo.StaffChildClinic, 1
	}
	st, err := w.store.Staff(w.ctx, w.ds.StaffBy[staff])
	if err != nil {
		t.Fatal(err)
	}
	sess := app.Session{Staff: st, ClinicID: w.ds.Clinics[clinic].ID}
	var tpl app.MessageTemplate
	for _, x := range w.ds.Templates {
		if x.ClinicID == sess.ClinicID && x.Kind == app.KindQuestion {
			tpl = x
			break
		}
	}
	c, err := w.cases.SendCase(w.ctx, sess, app.SendRequest{TemplateID: tpl.ID, ResidentID: w.ds.Persona[key], Subject: tpl.Subject, Text: tpl.Body})
	if err != nil {
		t.Fatalf("send to %s: %v", key, err)
	}
	return c
}

// notifications lists every notification of the cases.
func (w *world) notifications(t testing.TB, cs ...*app.Case) []app.Notification {
	t.Helper()
	var out []app.Notification
	for _, c := range cs {
		ns, err := w.store.NotificationsOfCase(w.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ns...)
	}
	return out
}

// dispatcher builds a Dispatcher over w's outbox with a test logger that
// fails the test if an address is ever logged.
func (w *world) dispatcher(t testing.TB, mail notify.MailSender, sms notify.SMSSender) *notify.Dispatcher {
	return &notify.Dispatcher{Outbox: w.store, Mail: mail, SMS: sms, Clock: w.clock, Log: slog.New(&addrGuard{t: t}), Poll: 20 * time.Millisecond}
}

// addrGuard is a slog handler that fails the test when a log line holds
// an e-mail address or a phone number.
type addrGuard struct {
	t     testing.TB
	attrs []slog.Attr
}

var addrLike = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|\+46[0-9]{6,}`)

func (h *addrGuard) Enabled(context.Context, slog.Level) bool { return true }
func (h *addrGuard) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	if addrLike.MatchString(b.String()) {
		h.t.Errorf("log line holds an address: %q", addrLike.FindString(b.String()))
	}
	return nil
}
func (h *addrGuard) WithAttrs(as []slog.Attr) slog.Handler {
	return &addrGuard{t: h.t, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}
func (h *addrGuard) WithGroup(string) slog.Handler { return h }
