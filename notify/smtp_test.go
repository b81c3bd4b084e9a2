package notify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/notify"
)

const testFrom = "1177 e-tjänster <no-reply@region.example>"

// plainClient is an SMTP client for mailpit without TLS on loopback, with
// AUTH (mailpit accepts any user): allowed only because the server is on
// 127.0.0.1 and AllowInsecureLoopback says so.
func plainClient(t testing.TB, port int) *notify.SMTPClient {
	t.Helper()
	c, err := notify.NewSMTPClient(notify.SMTPConfig{
		Host: "127.0.0.1", Port: port, TLS: notify.TLSNone, Username: "test", Password: "test",
		From: testFrom, AllowInsecureLoopback: true, CommandTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMailpit_NotificationsArriveWithFixedContent sends notifications of
// real cases (SendCase to demo personas, guardians included) through the
// outbox to mailpit and reads each back through its API.
func TestMailpit_NotificationsArriveWithFixedContent(t *testing.T) {
	mp := startMailpit(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	w := newWorld(t, true)
	var cases []*app.Case
	for _, key := range []string{demo.AdultEmail, demo.AdultBoth, demo.AdultSMS, demo.Child12y11m, demo.Sealed, demo.Coordination, demo.Protected, demo.AdultNone} {
		cases = append(cases, w.send(t, key))
	}
	sms := &fakeSMS{}
	d := w.dispatcher(t, plainClient(t, mp.SMTPPort), sms)
	n, err := d.RunOnce(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := w.notifications(t, cases...)
	if n != len(all) {
		t.Errorf("RunOnce made %d attempts, want %d", n, len(all))
	}
	wantMail := map[string]app.Notification{}
	var wantSMS []string
	for _, x := range all {
		if x.State != app.NotificationSent || x.Attempts != 1 || !x.DoneAt.Equal(seedTime) {
			t.Errorf("notification %s: state %s attempts %d; want sent at the first attempt", x.ID, x.State, x.Attempts)
		}
		if x.Channel == app.ChannelEmail {
			wantMail[x.Address] = x
		} else {
			wantSMS = append(wantSMS, x.Address+" "+app.SMSText)
		}
	}
	if len(wantMail) < 5 || len(wantSMS) < 3 {
		t.Fatalf("only %d e-mails and %d SMS: the personas did not cover both channels", len(wantMail), len(wantSMS))
	}
	got := sms.sent()
	slices.Sort(got)
	slices.Sort(wantSMS)
	if !slices.Equal(got, wantSMS) {
		t.Errorf("SMS sent %q, want %q", got, wantSMS)
	}

	msgs := mp.messages(t)
	if len(msgs) != len(wantMail) {
		t.Fatalf("mailpit holds %d messages, want %d", len(msgs), len(wantMail))
	}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Fatalf("message %s: To %v", m.ID, m.To)
		}
		x, ok := wantMail[m.To[0].Address]
		if !ok {
			t.Errorf("message %s to an address with no notification", m.ID)
			continue
		}
		delete(wantMail, m.To[0].Address)
		h := func(k string) string { return strings.Join(m.Headers[k], "|") }
		checks := []struct{ what, got, want string }{
			{"Subject (decoded)", m.Subject, app.EmailSubject},
			{"From name", m.From.Name, "1177 e-tjänster"},
			{"From address", m.From.Address, "no-reply@region.example"},
			{"Auto-Submitted", h("Auto-Submitted"), "auto-generated"},
			{"MIME-Version", h("Mime-Version"), "1.0"},
			{"Content-Type", h("Content-Type"), "text/plain; charset=utf-8"},
			{"Content-Transfer-Encoding", h("Content-Transfer-Encoding"), "quoted-printable"},
			{"Message-ID", m.MessageID, strings.ToLower(string(x.ID)) + "@region.example"},
			{"Text (å ä ö intact)", strings.ReplaceAll(m.Text, "\r\n", "\n"), strings.ReplaceAll(app.EmailBody, "\r\n", "\n")},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("message %s: %s = %q, want %q", m.ID, c.what, c.got, c.want)
			}
		}
		if !m.Date.Equal(seedTime) {
			t.Errorf("message %s: Date %v, want %v", m.ID, m.Date, seedTime)
		}
		if dec, err := new(mime.WordDecoder).DecodeHeader(h("Subject")); err != nil || dec != app.EmailSubject || h("Subject") == app.EmailSubject {
			t.Errorf("Subject header %q is not RFC 2047-encoded UTF-8 of the fixed subject", h("Subject"))
		}
		if !strings.Contains(m.Raw, "p=C3=A5") || strings.Contains(m.Raw, "på") {
			t.Errorf("message %s: body not quoted-printable (å should be =C3=A5 on the wire)", m.ID)
		}
		if m.HTML != "" || strings.Contains(m.Raw, "http") {
			t.Errorf("message %s: has HTML or a link", m.ID)
		}
	}
	if len(wantMail) != 0 {
		t.Errorf("%d notifications never arrived", len(wantMail))
	}

	// A second round finds nothing due: nothing is sent twice.
	if n, err := d.RunOnce(w.ctx); n != 0 || err != nil {
		t.Errorf("second round: %d attempts, err %v", n, err)
	}
	if c := mp.count(t); c != len(msgs) {
		t.Errorf("after a second round mailpit holds %d, want %d", c, len(msgs))
	}
}

// startTLSMailpit starts mailpit requiring TLS (STARTTLS, or implicit when
// implicit) with a certificate of our own CA and an auth file.
func startTLSMailpit(t *testing.T, implicit bool) (*mailpit, string) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	auth := filepath.Join(dir, "auth")
	if err := os.WriteFile(auth, []byte("avisering:rätt-lösen\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--smtp-auth-file", auth, "--smtp-tls-cert", cert, "--smtp-tls-key", key}
	if implicit {
		flags = append(flags, "--smtp-require-tls")
	} else {
		flags = append(flags, "--smtp-require-starttls")
	}
	return startMailpit(t, flags...), cert
}

// TestSMTP_STARTTLSWithPlainAndLogin: STARTTLS against our CA, then SASL
// PLAIN and LOGIN; a wrong password is ErrAuthRejected and the queued
// notifications stay untouched; an unknown CA is ErrTLS.
func TestSMTP_STARTTLSWithPlainAndLogin(t *testing.T) {
	mp, ca := startTLSMailpit(t, false)
	ctx := context.Background()
	cfg := notify.SMTPConfig{Host: "localhost", Port: mp.SMTPPort, TLS: notify.TLSStartTLS, Username: "avisering",
		Password: "rätt-lösen", From: testFrom, CAFile: ca}
	for _, mech := range []string{"plain", "login", ""} {
		c := cfg
		c.Auth = mech
		cl, err := notify.NewSMTPClient(c)
		if err != nil {
			t.Fatal(err)
		}
		ts := &notify.TestSender{Mail: cl, Clock: app.FixedClock(seedTime)}
		if err := ts.SendTest(ctx, app.ChannelEmail, "starttls-"+mech+"@example.com"); err != nil {
			t.Errorf("auth %q: %v", mech, err)
		}
	}
	if got := mp.count(t); got != 3 {
		t.Errorf("mailpit holds %d messages, want 3", got)
	}
	mp.messages(t)

	// Wrong password: refused, and the dispatcher keeps the rows queued.
	bad := cfg
	bad.Password = "fel"
	cl, err := notify.NewSMTPClient(bad)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, true)
	c := w.send(t, demo.AdultEmail)
	_, err = w.dispatcher(t, cl, nil).RunOnce(ctx)
	if !errors.Is(err, notify.ErrAuthRejected) || strings.Contains(err.Error(), "fel") {
		t.Errorf("wrong password: %v, want ErrAuthRejected without the password", err)
	}
	for _, n := range w.notifications(t, c) {
		if n.State != app.NotificationQueued || n.Attempts != 0 {
			t.Errorf("after an auth failure: %s attempts %d; want queued, untouched", n.State, n.Attempts)
		}
	}

	// No CA file: the self-signed certificate is not trusted.
	noCA := cfg
	noCA.CAFile = ""
	cl, _ = notify.NewSMTPClient(noCA)
	if _, err := cl.Dial(ctx); !errors.Is(err, notify.ErrTLS) {
		t.Errorf("untrusted certificate: %v, want ErrTLS", err)
	}
}

// TestSMTP_ImplicitTLS: TLS from the first byte (port 465 style).
func TestSMTP_ImplicitTLS(t *testing.T) {
	mp, ca := startTLSMailpit(t, true)
	cl, err := notify.NewSMTPClient(notify.SMTPConfig{Host: "localhost", Port: mp.SMTPPort, TLS: notify.TLSImplicit,
		Username: "avisering", Password: "rätt-lösen", From: testFrom, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, true)
	c := w.send(t, demo.AdultBoth)
	if _, err := w.dispatcher(t, cl, &fakeSMS{}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, n := range w.notifications(t, c) {
		if n.State != app.NotificationSent {
			t.Errorf("%s notification %s", n.Channel, n.State)
		}
	}
	if msgs := mp.messages(t); len(msgs) != 1 || msgs[0].Subject != app.EmailSubject {
		t.Errorf("mailpit: %d messages", len(msgs))
	}
}

// TestSMTP_RefusesPlaintextAuth: no password and no address in clear text
// to anything but a loopback test server that was explicitly allowed.
func TestSMTP_RefusesPlaintextAuth(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  notify.SMTPConfig
	}{
		{"loopback without the option", notify.SMTPConfig{Host: "127.0.0.1", Port: 25, TLS: notify.TLSNone, From: testFrom}},
		{"remote host with the option", notify.SMTPConfig{Host: "smtp.region.example", Port: 25, TLS: notify.TLSNone, From: testFrom, AllowInsecureLoopback: true}},
		{"private address with the option", notify.SMTPConfig{Host: "10.0.0.1", Port: 25, TLS: notify.TLSNone, From: testFrom, AllowInsecureLoopback: true}},
	} {
		if _, err := notify.NewSMTPClient(tc.cfg); !errors.Is(err, notify.ErrInsecure) {
			t.Errorf("%s: %v, want ErrInsecure", tc.name, err)
		}
	}
	// A server that offers no STARTTLS: refused before AUTH.
	mp := startMailpit(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	cl, err := notify.NewSMTPClient(notify.SMTPConfig{Host: "127.0.0.1", Port: mp.SMTPPort, TLS: notify.TLSStartTLS,
		Username: "u", Password: "p", From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Dial(context.Background()); !errors.Is(err, notify.ErrTLS) {
		t.Errorf("no STARTTLS offered: %v, want ErrTLS", err)
	}
	if mp.count(t) != 0 {
		t.Error("something was sent")
	}
}

// faultServer is a go-smtp server on 127.0.0.1:0 whose answers a test
// scripts. accepted holds the messages it took (DATA answered, or
// meant to be answered, with 250).
type faultServer struct {
	mu       stdsync.Mutex
	port     int
	rcpt     func(to string) error
	data     func(c *smtp.Conn, to string, r io.Reader) error
	accepted []string // recipient of each message taken
	conns    int
}

func startFaultServer(t *testing.T) *faultServer {
	fs := &faultServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		fs.mu.Lock()
		fs.conns++
		fs.mu.Unlock()
		return &faultSession{fs: fs, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs.port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return fs
}

func (fs *faultServer) script(rcpt func(string) error, data func(*smtp.Conn, string, io.Reader) error) {
	fs.mu.Lock()
	fs.rcpt, fs.data = rcpt, data
	fs.mu.Unlock()
}

func (fs *faultServer) taken() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return slices.Clone(fs.accepted)
}

type faultSession struct {
	fs   *faultServer
	conn *smtp.Conn
	to   string
}

func (s *faultSession) Reset()        { s.to = "" }
func (s *faultSession) Logout() error { return nil }
func (s *faultSession) Mail(string, *smtp.MailOptions) error {
	return nil
}
func (s *faultSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.fs.mu.Lock()
	f := s.fs.rcpt
	s.fs.mu.Unlock()
	if f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	s.to = to
	return nil
}
func (s *faultSession) Data(r io.Reader) error {
	s.fs.mu.Lock()
	f := s.fs.data
	s.fs.mu.Unlock()
	if f != nil {
		return f(s.conn, s.to, r)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.fs.mu.Lock()
	s.fs.accepted = append(s.fs.accepted, s.to)
	s.fs.mu.Unlock()
	return nil
}

func faultClient(t *testing.T, fs *faultServer) *notify.SMTPClient {
	t.Helper()
	c, err := notify.NewSMTPClient(notify.SMTPConfig{Host: "127.0.0.1", Port: fs.port, TLS: notify.TLSNone,
		From: testFrom, AllowInsecureLoopback: true, CommandTimeout: 5 * time.Second, DataTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// emailsOf sends one case to each e-mail-only persona and returns their
// e-mail notifications.
func emailsOf(t *testing.T, w *world, keys ...string) []app.Notification {
	t.Helper()
	var out []app.Notification
	for _, k := range keys {
		for _, n := range w.notifications(t, w.send(t, k)) {
			if n.Channel == app.ChannelEmail {
				out = append(out, n)
			}
		}
	}
	return out
}

func (w *world) get(t *testing.T, id app.ID) app.Notification {
	t.Helper()
	for _, c := range w.ds.Persona {
		cs, _ := w.store.CasesOfResident(w.ctx, c)
		for _, cc := range cs {
			for _, n := range w.notifications(t, &cc) {
				if n.ID == id {
					return n
				}
			}
		}
	}
	t.Fatalf("notification %s not found", id)
	return app.Notification{}
}

// TestFault_TemporaryAnswersAreRetriedWithBackoff: 451 and 421 keep the
// notification queued with one more attempt and a later next attempt
// (1 min, 2 min, 4 min … capped at 1 h); nothing is tried before it is
// due; after 3 days it fails for good.
func TestFault_TemporaryAnswersAreRetriedWithBackoff(t *testing.T) {
	for _, code := range []int{451, 421} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			fs := startFaultServer(t)
			w := newWorld(t, true)
			ns := emailsOf(t, w, demo.AdultEmail)
			fs.script(func(string) error {
				return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later, <" + ns[0].Address + ">"}
			}, nil)
			d := w.dispatcher(t, faultClient(t, fs), nil)
			start := seedTime
			wantDelay := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
			for i, delay := range wantDelay {
				if _, err := d.RunOnce(w.ctx); err != nil {
					t.Fatal(err)
				}
				n := w.get(t, ns[0].ID)
				if n.State != app.NotificationQueued || n.Attempts != i+1 || !n.NextAttempt.Equal(w.clock.Now().Add(delay)) ||
					n.LastError != fmt.Sprintf("smtp-%d", code) {
					t.Fatalf("after attempt %d: %s attempts %d next +%v code %q; want queued, %d, +%v, smtp-%d",
						i+1, n.State, n.Attempts, n.NextAttempt.Sub(w.clock.Now()), n.LastError, i+1, delay, code)
				}
				// Not due yet: a round now tries nothing.
				w.clock.set(n.NextAttempt.Add(-time.Second))
				if k, _ := d.RunOnce(w.ctx); k != 0 {
					t.Fatalf("a notification not yet due was tried")
				}
				w.clock.set(n.NextAttempt)
			}
			// Three days after it was made, a temporary failure is final.
			w.clock.set(start.Add(72 * time.Hour))
			if _, err := d.RunOnce(w.ctx); err != nil {
				t.Fatal(err)
			}
			n := w.get(t, ns[0].ID)
			if n.State != app.NotificationFailed || !strings.Contains(n.LastError, "gave-up") {
				t.Errorf("after 3 days: %s %q, want failed, gave-up", n.State, n.LastError)
			}
			if len(fs.taken()) != 0 {
				t.Errorf("server took %d messages", len(fs.taken()))
			}
		})
	}
}

// TestFault_TemporaryThenAccepted: after a 451 the retry is delivered
// once, and the other notifications of the batch went over the same
// connection.
func TestFault_TemporaryThenAccepted(t *testing.T) {
	fs := startFaultServer(t)
	w := newWorld(t, true)
	ns := emailsOf(t, w, demo.AdultEmail, demo.Sealed, demo.Coordination)
	refuse := ns[1].Address
	fs.script(func(to string) error {
		if to == refuse {
			return &smtp.SMTPError{Code: 451, Message: "greylisted"}
		}
		return nil
	}, nil)
	d := w.dispatcher(t, faultClient(t, fs), nil)
	if _, err := d.RunOnce(w.ctx); err != nil {
		t.Fatal(err)
	}
	if got := fs.taken(); len(got) != 2 || fs.conns != 1 {
		t.Errorf("first round: %d taken over %d connections, want 2 over 1 (RSET after the 451, same connection)", len(got), fs.conns)
	}
	fs.script(nil, nil)
	w.clock.set(seedTime.Add(time.Minute))
	if _, err := d.RunOnce(w.ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n := w.get(t, n.ID); n.State != app.NotificationSent {
			t.Errorf("%s: %s", n.ID, n.State)
		}
	}
	if n := w.get(t, ns[1].ID); n.Attempts != 2 {
		t.Errorf("retried notification: %d attempts, want 2", n.Attempts)
	}
	if got := fs.taken(); len(got) != 3 {
		t.Errorf("server took %d messages, want each once (3)", len(got))
	}
}

// TestFault_PermanentAnswerFails: 554 marks that recipient failed at once
// and never retries it; the others of the batch are sent.
func TestFault_PermanentAnswerFails(t *testing.T) {
	fs := startFaultServer(t)
	w := newWorld(t, true)
	ns := emailsOf(t, w, demo.AdultEmail, demo.Sealed)
	refuse := ns[0].Address
	fs.script(nil, func(_ *smtp.Conn, to string, r io.Reader) error {
		io.Copy(io.Discard, r)
		if to == refuse {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected <" + to + ">"}
		}
		fs.mu.Lock()
		fs.accepted = append(fs.accepted, to)
		fs.mu.Unlock()
		return nil
	})
	d := w.dispatcher(t, faultClient(t, fs), nil)
	failures := 0
	d.OnFailed = func(n int) { failures += n }
	if _, err := d.RunOnce(w.ctx); err != nil {
		t.Fatal(err)
	}
	if failures != 1 {
		t.Errorf("OnFailed told of %d failures, want 1 (the server's metric)", failures)
	}
	n := w.get(t, ns[0].ID)
	if n.State != app.NotificationFailed || n.LastError != "smtp-554" || n.Attempts != 1 {
		t.Errorf("554: %s %q attempts %d, want failed smtp-554 after 1", n.State, n.LastError, n.Attempts)
	}
	if n := w.get(t, ns[1].ID); n.State != app.NotificationSent {
		t.Errorf("other recipient: %s", n.State)
	}
	w.clock.set(seedTime.Add(24 * time.Hour))
	if k, _ := d.RunOnce(w.ctx); k != 0 {
		t.Errorf("a failed notification was tried again")
	}
}

// TestFault_DropInDataIsRetriedNothingLost: the server closes the
// connection in the middle of DATA. That notification is retried later
// (attempts+1), the rest of the batch was not tried and stays due as it
// was; in the end every notification arrived exactly once, because the
// server never took the half message.
func TestFault_DropInDataIsRetriedNothingLost(t *testing.T) {
	fs := startFaultServer(t)
	w := newWorld(t, true)
	ns := emailsOf(t, w, demo.AdultEmail, demo.Sealed, demo.Coordination)
	fs.script(nil, func(c *smtp.Conn, _ string, r io.Reader) error {
		io.CopyN(io.Discard, r, 40)
		c.Conn().Close()
		return errors.New("dropped")
	})
	d := w.dispatcher(t, faultClient(t, fs), nil)
	if _, err := d.RunOnce(w.ctx); err != nil {
		t.Fatal(err)
	}
	first := w.get(t, ns[0].ID)
	if first.State != app.NotificationQueued || first.Attempts != 1 || first.LastError != "connection-lost" || !first.NextAttempt.After(seedTime) {
		t.Errorf("dropped: %s attempts %d code %q next %v", first.State, first.Attempts, first.LastError, first.NextAttempt)
	}
	for _, n := range ns[1:] {
		if n := w.get(t, n.ID); n.State != app.NotificationQueued || n.Attempts != 0 || !n.NextAttempt.Equal(seedTime) {
			t.Errorf("not tried: %s attempts %d; want queued and due as before", n.State, n.Attempts)
		}
	}
	fs.script(nil, nil)
	for range 3 {
		if _, err := d.RunOnce(w.ctx); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.set(seedTime.Add(time.Minute))
	if _, err := d.RunOnce(w.ctx); err != nil {
		t.Fatal(err)
	}
	got := fs.taken()
	slices.Sort(got)
	var want []string
	for _, n := range ns {
		want = append(want, n.Address)
		if n := w.get(t, n.ID); n.State != app.NotificationSent {
			t.Errorf("%s: %s", n.ID, n.State)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("server took %d messages, want each of %d exactly once", len(got), len(want))
	}
}

// TestFault_LostAnswerIsTheOnlyDuplicate: the server takes the message
// and the connection drops before its 250 reaches us. We cannot tell
// this from a drop before the server took it, so we send again: the
// one way a duplicate arises. Both copies carry the same Message-ID.
func TestFault_LostAnswerIsTheOnlyDuplicate(t *testing.T) {
	fs := startFaultServer(t)
	w := newWorld(t, true)
	ns := emailsOf(t, w, demo.AdultEmail)
	var ids []string
	fs.script(nil, func(c *smtp.Conn, to string, r io.Reader) error {
		data, _ := io.ReadAll(r)
		fs.mu.Lock()
		for _, l := range strings.Split(string(data), "\r\n") {
			if strings.HasPrefix(l, "Message-ID:") {
				ids = append(ids, l)
			}
		}
		fs.accepted = append(fs.accepted, to)
		lose := len(fs.accepted) == 1
		fs.mu.Unlock()
		if lose {
			c.Conn().Close() // taken, but the answer is lost
		}
		return nil
	})
	d := w.dispatcher(t, faultClient(t, fs), nil)
	d.RunOnce(w.ctx)
	if n := w.get(t, ns[0].ID); n.State != app.NotificationQueued || n.LastError != "connection-lost" {
		t.Fatalf("lost answer: %s %q, want queued connection-lost", n.State, n.LastError)
	}
	w.clock.set(seedTime.Add(time.Minute))
	d.RunOnce(w.ctx)
	if n := w.get(t, ns[0].ID); n.State != app.NotificationSent || n.Attempts != 2 {
		t.Errorf("retry: %s attempts %d", n.State, n.Attempts)
	}
	if len(fs.taken()) != 2 || len(ids) != 2 || ids[0] != ids[1] {
		t.Errorf("server took %d copies with Message-IDs %q; want 2 with the same id", len(fs.taken()), ids)
	}
}

// TestFault_ServerDownKeepsQueue: nobody listening: the round reports the
// error, no notification is touched; Serve keeps running and delivers
// once the server is back.
func TestFault_ServerDownKeepsQueue(t *testing.T) {
	port := freePort(t)
	cl, err := notify.NewSMTPClient(notify.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: notify.TLSNone, From: testFrom,
		AllowInsecureLoopback: true, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, true)
	ns := emailsOf(t, w, demo.AdultEmail)
	d := w.dispatcher(t, cl, nil)
	if _, err := d.RunOnce(w.ctx); err == nil || !notify.IsTemporary(err) {
		t.Errorf("server down: %v, want a temporary error", err)
	}
	if n := w.get(t, ns[0].ID); n.State != app.NotificationQueued || n.Attempts != 0 {
		t.Errorf("server down: %s attempts %d, want untouched", n.State, n.Attempts)
	}
}

// TestDispatcher_ServeDeliversUntilCanceled runs Serve as the program
// does: it delivers what is queued and returns when the context ends.
func TestDispatcher_ServeDeliversUntilCanceled(t *testing.T) {
	mp := startMailpit(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	w := newWorld(t, true)
	c := w.send(t, demo.AdultBoth)
	sms := &fakeSMS{}
	d := w.dispatcher(t, plainClient(t, mp.SMTPPort), sms)
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ns := w.notifications(t, c)
		if !slices.ContainsFunc(ns, func(n app.Notification) bool { return n.State != app.NotificationSent }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not delivered in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A reply while Serve runs is delivered too.
	st, _ := w.store.Staff(w.ctx, w.ds.StaffBy[demo.StaffReceiver])
	if err := w.cases.Reply(w.ctx, app.Session{Staff: st, ClinicID: w.ds.Clinics[0].ID}, c.ID, "Ett svar"); err != nil {
		t.Fatal(err)
	}
	for len(sms.sent()) < 2 || mp.count(t) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("reply not delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	mp.messages(t)
}

// TestDispatcher_SMSRetriesAndFailures: an SMS gateway's temporary error
// is retried (respecting its Retry-After), a permanent one fails that
// number, and refused credentials stop the round without holding it
// against the recipient.
func TestDispatcher_SMSRetriesAndFailures(t *testing.T) {
	w := newWorld(t, true)
	var ns []app.Notification
	for _, k := range []string{demo.AdultSMS, demo.Protected} {
		ns = append(ns, w.notifications(t, w.send(t, k))...)
	}
	tempTo, permTo := ns[0].Address, ns[1].Address
	sms := &fakeSMS{err: func(to string) error {
		switch to {
		case tempTo:
			return &notify.TempError{Err: &notify.SMSGatewayError{Gateway: "kannel", Code: notify.SMSCodeThrottled, Status: 429, RetryAfter: 10 * time.Minute}}
		case permTo:
			return &notify.SMSGatewayError{Gateway: "kannel", Code: notify.SMSCodeNotRoutable, Status: 403}
		}
		return nil
	}}
	d := w.dispatcher(t, nil, sms)
	if _, err := d.RunOnce(w.ctx); err != nil {
		t.Fatal(err)
	}
	n0, n1 := w.get(t, ns[0].ID), w.get(t, ns[1].ID)
	if n0.State != app.NotificationQueued || !n0.NextAttempt.Equal(seedTime.Add(10*time.Minute)) || n0.LastError != "sms-throttled" {
		t.Errorf("throttled: %s next %v code %q; want queued, after Retry-After (10 min)", n0.State, n0.NextAttempt, n0.LastError)
	}
	if n1.State != app.NotificationFailed || n1.LastError != "sms-not_routable" {
		t.Errorf("not routable: %s %q", n1.State, n1.LastError)
	}
	sms.err = nil
	w.clock.set(seedTime.Add(10 * time.Minute))
	d.RunOnce(w.ctx)
	if n := w.get(t, ns[0].ID); n.State != app.NotificationSent || n.Attempts != 2 {
		t.Errorf("after the wait: %s attempts %d", n.State, n.Attempts)
	}
	if got := sms.sent(); len(got) != 1 || got[0] != tempTo+" "+app.SMSText {
		t.Errorf("SMS sent %q", got)
	}

	// Refused credentials: our problem, nothing recorded.
	c := w.send(t, demo.AdultSMS)
	sms.err = func(string) error {
		return &notify.SMSGatewayError{Gateway: "elks", Code: notify.SMSCodeAuth, Status: 401}
	}
	if _, err := d.RunOnce(w.ctx); err == nil {
		t.Error("refused credentials: no error")
	}
	for _, n := range w.notifications(t, c) {
		if n.State != app.NotificationQueued || n.Attempts != 0 {
			t.Errorf("after refused credentials: %s attempts %d, want untouched", n.State, n.Attempts)
		}
	}
}

// TestBuildMail_RefusesHeaderInjection: an address with a line break, a
// second address or a display name is refused, and the error does not
// quote it.
func TestBuildMail_RefusesHeaderInjection(t *testing.T) {
	for _, to := range []string{"a@example.com\r\nBcc: b@example.com", "a@example.com, b@example.com", "Anna <a@example.com>", "inte-en-adress", ""} {
		_, err := notify.BuildMail(notify.Mail{From: testFrom, To: to, ID: "X", Date: seedTime})
		if !errors.Is(err, notify.ErrBadAddress) || (to != "" && strings.Contains(err.Error(), to)) {
			t.Errorf("To %q: %v", to, err)
		}
	}
	if _, err := notify.BuildMail(notify.Mail{From: "ingen avsändare", To: "a@example.com", ID: "X", Date: seedTime}); !errors.Is(err, notify.ErrBadAddress) {
		t.Errorf("bad From: %v", err)
	}
	msg, err := notify.BuildMail(notify.Mail{From: testFrom, To: "a@example.com", ID: "X", Date: seedTime})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), "From: =?utf-8?q?1177_e-tj=C3=A4nster?= <no-reply@region.example>\r\n") {
		t.Errorf("From with ä not RFC 2047-encoded:\n%s", msg)
	}
	if strings.Contains(string(msg), "\n") && strings.Count(string(msg), "\n") != strings.Count(string(msg), "\r\n") {
		t.Error("a bare LF in the message")
	}
}
