package notify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"
	"unicode/utf16"

	"mottagning/app"
)

// The Kannel binaries the harness runs (Debian packages kannel and
// kannel-extras; `make test` installs them).
const (
	bearerboxBin = "/usr/sbin/bearerbox"
	smsboxBin    = "/usr/sbin/smsbox"
	fakesmscBin  = "/usr/lib/kannel/test/fakesmsc"
)

// kannelHarness is a real Kannel on 127.0.0.1: bearerbox, smsbox and
// fakesmsc playing the operator. Everything fakesmsc receives from
// bearerbox arrives on got.
type kannelHarness struct {
	URL                string // sendsms URL
	Username, Password string
	Dir                string
	got                chan fakeSMS
}

// fakeSMS is one message as fakesmsc printed it.
type fakeSMS struct {
	From, To, Type, Text string
}

type kannelConf struct {
	Dir, AdminPassword, Username, Password    string
	AdminPort, SMSBoxPort, FakePort, SendPort int
}

// startKannel writes the config from testdata/kannel/kannel.conf.tmpl into
// a temporary directory, starts the three programs each in its own process
// group, waits until sendsms answers, and stops them all at cleanup.
func startKannel(t *testing.T) *kannelHarness {
	t.Helper()
	for _, bin := range []string{bearerboxBin, smsboxBin, fakesmscBin} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("Kannel is not installed (%s missing): run `make test`, which installs the packages kannel and kannel-extras", bin)
		}
	}
	dir := t.TempDir()
	conf := kannelConf{
		Dir: dir, AdminPassword: "admin-test", Username: "mottagning", Password: "sms-test-password",
		AdminPort: freePort(t), SMSBoxPort: freePort(t), FakePort: freePort(t), SendPort: freePort(t),
	}
	tmpl := template.Must(template.ParseFiles(filepath.Join("testdata", "kannel", "kannel.conf.tmpl")))
	cfgPath := filepath.Join(dir, "kannel.conf")
	f, err := os.Create(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Execute(f, conf); err != nil {
		t.Fatal(err)
	}
	f.Close()

	h := &kannelHarness{
		URL:      fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", conf.SendPort),
		Username: conf.Username, Password: conf.Password, Dir: dir,
		got: make(chan fakeSMS, 16),
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"bearerbox.log", "smsbox.log", "fakesmsc.out"} {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
					t.Logf("--- %s (tail)\n%s", name, tail(string(b), 3000))
				}
			}
		}
	})

	start(t, dir, "bearerbox", nil, bearerboxBin, cfgPath)
	waitTCP(t, conf.SMSBoxPort, "bearerbox's smsbox port")
	waitTCP(t, conf.FakePort, "bearerbox's fake SMSC port")
	start(t, dir, "smsbox", nil, smsboxBin, cfgPath)

	// fakesmsc logs every message bearerbox hands it on stderr, at debug
	// level: `Got message N: <from to type data>`. -m 0: it sends nothing
	// itself. The message argument is required by its usage but unused.
	pr, pw := io.Pipe()
	start(t, dir, "fakesmsc", pw, fakesmscBin, "-H", "127.0.0.1", "-r", fmt.Sprint(conf.FakePort), "-i", "0.1", "-m", "0", "100 200 text unused")
	go h.readFake(t, pr, filepath.Join(dir, "fakesmsc.out"))

	h.waitSendsms(t)
	return h
}

// start runs a program in its own process group with output to a log file
// (or to out) and kills the whole group at cleanup: SIGTERM, then SIGKILL.
func start(t *testing.T, dir, name string, out io.WriteCloser, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	newProcessGroup(cmd)
	if out == nil {
		logf, err := os.Create(filepath.Join(dir, name+".stderr"))
		if err != nil {
			t.Fatal(err)
		}
		out = logf
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(done)
	}()
	t.Cleanup(func() {
		stopGroup(cmd, false)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			stopGroup(cmd, true)
			<-done
		}
	})
}

// readFake copies fakesmsc's output to a file and sends each received
// message to h.got.
func (h *kannelHarness) readFake(t *testing.T, r io.Reader, copyTo string) {
	f, err := os.Create(copyTo)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(f, line)
		if m, ok := parseFakeLine(line); ok {
			h.got <- m
		}
	}
}

// parseFakeLine decodes `... Got message 1: <1177 +46701740605 text Du har …>`.
// The data is raw for type "text" (Kannel's GSM coding, which it hands over
// as UTF-8), URL-encoded bytes for "data", and URL-encoded UTF-16BE for
// "ucs-2" (smsc_fake.c, sms_to_client; '+' is a space there, as in forms).
func parseFakeLine(line string) (fakeSMS, bool) {
	const mark = "Got message "
	i := strings.Index(line, mark)
	if i < 0 {
		return fakeSMS{}, false
	}
	rest := line[i+len(mark):]
	j := strings.Index(rest, ": <")
	if j < 0 || !strings.HasSuffix(rest, ">") {
		return fakeSMS{}, false
	}
	fields := strings.SplitN(rest[j+3:len(rest)-1], " ", 4)
	if len(fields) != 4 {
		return fakeSMS{}, false
	}
	m := fakeSMS{From: fields[0], To: fields[1], Type: fields[2], Text: fields[3]}
	switch m.Type {
	case "data":
		s, err := url.QueryUnescape(m.Text)
		if err != nil {
			return fakeSMS{}, false
		}
		m.Text = s
	case "ucs-2", "ucs2":
		s, err := url.QueryUnescape(m.Text)
		if err != nil || len(s)%2 != 0 {
			return fakeSMS{}, false
		}
		u := make([]uint16, len(s)/2)
		for k := range u {
			u[k] = uint16(s[2*k])<<8 | uint16(s[2*k+1])
		}
		m.Text = string(utf16.Decode(u))
	}
	return m, true
}

func waitTCP(t *testing.T, port int, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s (127.0.0.1:%d) did not open within 20s", what, port)
}

// waitSendsms waits until smsbox answers on sendsms (any HTTP answer: a
// request without credentials gets 403).
func (h *kannelHarness) waitSendsms(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(h.URL)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("Kannel's sendsms did not answer within 20s")
}

// next waits for the next message at the operator.
func (h *kannelHarness) next(t *testing.T) fakeSMS {
	t.Helper()
	select {
	case m := <-h.got:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no message reached fakesmsc within 20s")
		return fakeSMS{}
	}
}

func (h *kannelHarness) sender(t *testing.T, password, from string) *KannelSender {
	t.Helper()
	k, err := NewKannelSender(h.URL, h.Username, password, from)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// R4 through a real Kannel: the exact text of R4 and the exact number reach
// the operator, in GSM coding, with å ä ö intact.
func TestR4_KannelDeliversExactTextAndNumber(t *testing.T) {
	h := startKannel(t)
	ctx := context.Background()
	k := h.sender(t, h.Password, "1177")
	if err := k.SendSMS(ctx, testNumber, app.SMSText); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	m := h.next(t)
	if m.To != testNumber || m.From != "1177" || m.Type != "text" || m.Text != app.SMSText {
		t.Fatalf("fakesmsc got from %q to %q type %q text %q;\nwant from 1177 to %s type text text %q", m.From, m.To, m.Type, m.Text, testNumber, app.SMSText)
	}

	// Every GSM-7 letter Swedish uses, and extension characters, survive
	// the UTF-8 → GSM → operator path; an alphanumeric sender too.
	k2 := h.sender(t, h.Password, "Region")
	const swedish = "Åsa, Ärlig & Östen: å ä ö é É ü [x] {y} € ~ | ^ \\ @ £ $ §"
	if err := k2.SendSMS(ctx, testNumber2, swedish); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if m := h.next(t); m.To != testNumber2 || m.From != "Region" || m.Type != "text" || m.Text != swedish {
		t.Fatalf("fakesmsc got %+v, want text %q to %s", m, swedish, testNumber2)
	}

	// Outside GSM-7 the sender asks for UCS-2, and the text still arrives
	// exactly.
	const emoji = "Hej ’Åsa’ 😀"
	if err := k.SendSMS(ctx, testNumber, emoji); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if m := h.next(t); m.Type != "ucs-2" || m.Text != emoji || m.To != testNumber {
		t.Fatalf("fakesmsc got %+v, want ucs2 %q", m, emoji)
	}
}

// A wrong password is refused by Kannel (403 "Authorization failed"):
// permanent, code auth, and the error holds no number, text or password.
func TestKannelWrongPasswordIsPermanent(t *testing.T) {
	h := startKannel(t)
	k := h.sender(t, "wrong-password", "")
	err := k.SendSMS(context.Background(), testNumber, app.SMSText)
	if err == nil || IsTemporary(err) {
		t.Fatalf("SendSMS with a wrong password = %v, want a permanent error", err)
	}
	if g := gatewayError(t, err); g.Code != SMSCodeAuth || g.Status != http.StatusForbidden {
		t.Fatalf("error %v: code %q status %d, want auth 403", err, g.Code, g.Status)
	}
	assertNoLeak(t, err, testNumber, app.SMSText, "wrong-password", h.Password)
	select {
	case m := <-h.got:
		t.Fatalf("a refused message reached the operator: %+v", m)
	case <-time.After(300 * time.Millisecond):
	}
}

// Kannel down (nothing listening) is temporary: the notification stays
// queued and is retried.
func TestKannelDownIsTemporary(t *testing.T) {
	k, err := NewKannelSender(closedURL(t, "/cgi-bin/sendsms"), "u", "secret-pw", "1177")
	if err != nil {
		t.Fatal(err)
	}
	err = k.SendSMS(context.Background(), testNumber, app.SMSText)
	var te *TempError
	if !IsTemporary(err) || !errors.As(err, &te) {
		t.Fatalf("SendSMS to a closed port = %v, want *TempError", err)
	}
	if g := gatewayError(t, err); g.Code != SMSCodeUnreachable {
		t.Fatalf("code %q, want %s (%v)", g.Code, SMSCodeUnreachable, err)
	}
	assertNoLeak(t, err, testNumber, app.SMSText, "secret-pw")
}

// The answers of smsbox (gw/smsbox.c) mapped to temporary or permanent,
// against an HTTP server that plays smsbox, checking the request too.
func TestKannelAnswers(t *testing.T) {
	cases := []struct {
		status int
		body   string
		err    bool
		temp   bool
		code   string
	}{
		{202, "0: Accepted for delivery", false, false, ""},
		{202, "3: Queued for later delivery", false, false, ""},
		{202, "Sent.", false, false, ""},
		{503, "Temporal failure, try again later.", true, true, SMSCodeServer},
		{500, "", true, true, SMSCodeServer},
		{403, "Authorization failed for sendsms", true, false, SMSCodeAuth},
		{403, "Not routable. Do not try again.", true, false, SMSCodeNotRoutable},
		{400, "Missing receiver number, rejected", true, false, SMSCodeBadRequest},
		{404, "Unknown service", true, false, SMSCodeRejected},
		{302, "", true, false, SMSCodeRejected},
	}
	for _, c := range cases {
		var got http.Header
		var body string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Clone()
			b, _ := io.ReadAll(r.Body)
			body = string(b)
			if r.Method != http.MethodPost || r.URL.RawQuery != "" {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			if c.status == 302 {
				w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			}
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}))
		k, err := NewKannelSender(srv.URL+"/cgi-bin/sendsms", "user", "pw-123", "Region")
		if err != nil {
			t.Fatal(err)
		}
		err = k.SendSMS(context.Background(), testNumber, app.SMSText)
		srv.Close()
		if got.Get("X-Kannel-Username") != "user" || got.Get("X-Kannel-Password") != "pw-123" ||
			got.Get("X-Kannel-To") != testNumber || got.Get("X-Kannel-From") != "Region" ||
			got.Get("X-Kannel-Coding") != "0" || got.Get("Content-Type") != "text/plain; charset=UTF-8" || body != app.SMSText {
			t.Errorf("%d: request headers %v body %q", c.status, got, body)
		}
		if (err != nil) != c.err || IsTemporary(err) != c.temp {
			t.Errorf("%d %q: err = %v (temporary %v), want err %v temporary %v", c.status, c.body, err, IsTemporary(err), c.err, c.temp)
			continue
		}
		if err != nil {
			if g := gatewayError(t, err); g.Code != c.code || g.Status != c.status {
				t.Errorf("%d %q: code %q status %d, want %q", c.status, c.body, g.Code, g.Status, c.code)
			}
			assertNoLeak(t, err, testNumber, app.SMSText, "pw-123")
		}
	}
}

// Refused before any request: a number that is not E.164, empty text.
func TestKannelRefusesBadInputWithoutSending(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	k, err := NewKannelSender(srv.URL, "u", "p", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ to, text, code string }{
		{"0701740605", app.SMSText, SMSCodeBadNumber},
		{"+46 70 174 06 05", app.SMSText, SMSCodeBadNumber},
		{testNumber, "  ", SMSCodeBadText},
	} {
		err := k.SendSMS(context.Background(), c.to, c.text)
		if IsTemporary(err) || gatewayError(t, err).Code != c.code {
			t.Errorf("SendSMS(%q, %q) = %v, want permanent %s", c.to, c.text, err, c.code)
		}
		assertNoLeak(t, err, c.to, "0701740605")
	}
	if calls != 0 {
		t.Fatalf("%d requests reached the gateway", calls)
	}
}

// A gateway that does not answer in time: temporary (timeout), and the
// caller's cancellation is temporary too (shutdown keeps it queued).
func TestKannelTimeoutAndCancelAreTemporary(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer once.Do(func() { close(release) })
	k, err := NewKannelSender(srv.URL, "u", "p", "")
	if err != nil {
		t.Fatal(err)
	}
	k.Timeout = 200 * time.Millisecond
	err = k.SendSMS(context.Background(), testNumber, app.SMSText)
	if !IsTemporary(err) || gatewayError(t, err).Code != SMSCodeTimeout {
		t.Fatalf("slow gateway: %v, want temporary timeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	k.Timeout = 0
	err = k.SendSMS(ctx, testNumber, app.SMSText)
	if !IsTemporary(err) || gatewayError(t, err).Code != SMSCodeCanceled {
		t.Fatalf("cancelled: %v, want temporary canceled", err)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
