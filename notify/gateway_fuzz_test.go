package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mottagning/app"
)

// FuzzKannelAnswer and FuzzElksAnswer fuzz what an SMS gateway answers:
// a real gateway double on 127.0.0.1 (httptest) answers with the fuzzed
// status, headers and body, and the real send path reads it. Whatever the
// answer: no panic; exactly one request per send (never a second SMS);
// any answer that is not a 2xx is an error (an *SMSGatewayError, wrapped
// in *TempError exactly for the temporary codes), never "sent"; a 2xx is
// "sent", except 46elks' {"status":"failed"}, as documented (sending again
// after an accepted but unreadable answer would deliver twice); and the
// error never holds the number, the text or the password.

// fzGateway is a gateway double that answers with the fuzzed answer.
type fzGateway struct {
	srv *httptest.Server

	mu       sync.Mutex
	status   int
	header   http.Header
	body     []byte
	requests int
}

func newFzGateway(t testing.TB) *fzGateway {
	g := &fzGateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.requests++
		for k, vs := range g.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(g.status)
		_, _ = w.Write(g.body)
	}))
	if !strings.HasPrefix(g.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("gateway double on %s, not 127.0.0.1", g.srv.URL)
	}
	t.Cleanup(g.srv.Close)
	return g
}

// answer sets the next answer. status is mapped to 100–999 (what
// net/http can write); headers are "Name: value" lines.
func (g *fzGateway) answer(status uint16, headers string, body []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status = 100 + int(status)%900
	g.header = http.Header{}
	for _, line := range strings.Split(headers, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			g.header.Add(k, strings.TrimSpace(v))
		}
	}
	g.body = body
	g.requests = 0
}

func (g *fzGateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests
}

// fzSeen records the final answer the client got (after any 1xx), or that
// there was none.
type fzSeen struct {
	inner  http.RoundTripper
	status int
	header http.Header
	err    error
}

func (s *fzSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.inner.RoundTrip(r)
	s.err = err
	if err == nil {
		s.status, s.header = resp.StatusCode, resp.Header
	}
	return resp, err
}

func (s *fzSeen) reset() { s.status, s.header, s.err = 0, nil, nil }

const fzPassword = "pw-Hemligt-0123"

// fzTemporaryCodes are the codes IsTemporary must report.
var fzTemporaryCodes = map[string]bool{SMSCodeThrottled: true, SMSCodeServer: true, SMSCodeTimeout: true,
	SMSCodeUnreachable: true, SMSCodeNoCredit: true, SMSCodeCanceled: true}

// fzCheckAnswer checks a send's error against the answer the client saw.
// read is false when the sender got no answer it could read (a header
// or body the client could not parse, a redirect it could not follow):
// then the error is temporary and not sent, whatever the status.
func fzCheckAnswer(t *testing.T, gateway string, err error, s *fzSeen, requests int, input string) (g *SMSGatewayError, read bool) {
	t.Helper()
	if requests != 1 {
		t.Fatalf("%s: %d requests for one send (%s)", gateway, requests, input)
	}
	if s.err != nil {
		// No HTTP answer the client could read (a malformed header):
		// temporary, not sent.
		if err == nil || !errors.As(err, &g) || !IsTemporary(err) || g.Status != 0 {
			t.Fatalf("%s: transport failure %v gave %v, want a temporary gateway error (%s)", gateway, s.err, err, input)
		}
		fzCheckNoLeak(t, gateway, err, input)
		return g, false
	}
	if err == nil {
		if s.status/100 != 2 {
			t.Fatalf("%s: answer %d taken as sent (%s)", gateway, s.status, input)
		}
		return nil, true
	}
	if !errors.As(err, &g) {
		t.Fatalf("%s: answer %d gave %v (%T), not an SMSGatewayError (%s)", gateway, s.status, err, err, input)
	}
	if g.Status == 0 && s.status/100 != 2 && IsTemporary(err) && g.Code == SMSCodeUnreachable {
		// The client failed after the answer's header (its body broke
		// off before any byte, a Location it cannot parse): as no
		// answer, temporary.
		fzCheckNoLeak(t, gateway, err, input)
		return g, false
	}
	if g.Gateway != gateway || g.Status != s.status {
		t.Fatalf("%s: error %+v for answer %d (%s)", gateway, g, s.status, input)
	}
	if IsTemporary(err) != fzTemporaryCodes[g.Code] {
		t.Fatalf("%s: code %s, temporary %v (%s)", gateway, g.Code, IsTemporary(err), input)
	}
	fzCheckNoLeak(t, gateway, err, input)
	return g, true
}

// fzCheckNoLeak fails if the error holds the number (with or without +),
// the text or the password.
func fzCheckNoLeak(t *testing.T, gateway string, err error, input string) {
	t.Helper()
	msg := err.Error()
	for _, s := range []string{testNumber, strings.TrimPrefix(testNumber, "+"), app.SMSText, fzPassword} {
		if strings.Contains(msg, s) {
			t.Fatalf("%s: error %q holds %q (%s)", gateway, msg, s, input)
		}
	}
}

func fzSeeds(f *testing.F, extra ...[3]string) {
	for _, a := range append([][3]string{
		{"202", "Content-Type: text/html", "0: Accepted for delivery"},
		{"202", "", "3: Queued for later delivery"},
		{"200", "Content-Type: application/json", `{"id":"s17a6dafb12d6b1cabc053d57dac2b9d8","status":"created","from":"Region","to":"` + testNumber + `","message":"x","parts":1,"cost":3500}`},
		{"200", "Content-Type: application/json", `{"status":"failed"}`},
		{"200", "", `{"status":"failed"`},
		{"201", "", `not json`},
		{"204", "", ``},
		{"503", "", "Temporal failure, try again later."},
		{"500", "", ""},
		{"403", "", "Authorization failed for sendsms"},
		{"403", "", "Not routable. Do not try again."},
		{"400", "", "Missing receiver number, rejected"},
		{"400", "", "Invalid to number: " + testNumber + "\nmore"},
		{"400", "", "Invalid message: " + app.SMSText},
		{"401", "WWW-Authenticate: Basic realm=\"46elks\"", "API access denied"},
		{"402", "", "Not enough credits"},
		{"404", "", "Unknown service"},
		{"408", "", ""},
		{"429", "Retry-After: 120", "Too many requests"},
		{"429", "Retry-After: Wed, 21 Oct 2037 07:28:00 GMT", ""},
		{"429", "Retry-After: -3", ""},
		{"302", "Location: http://127.0.0.1:1/elsewhere", ""},
		{"302", "Location: %", ""},
		{"100", "", "0: Accepted for delivery"},
		{"101", "", ""},
		{"999", "", "?"},
		{"200", "Content-Length: 5", "0"},
		{"200", "X-Bad\x00Header: 1", ""},
	}, extra...) {
		st, _ := strconv.Atoi(a[0])
		f.Add(uint16(st-100), a[1], []byte(a[2]))
	}
}

func FuzzKannelAnswer(f *testing.F) {
	fzSeeds(f)
	g := newFzGateway(f)
	tr := &fzSeen{inner: &http.Transport{DisableKeepAlives: true}}
	k, err := NewKannelSender(g.srv.URL+"/cgi-bin/sendsms", "mottagning", fzPassword, "Region")
	if err != nil {
		f.Fatal(err)
	}
	k.HTTPClient = &http.Client{Transport: tr}
	k.Timeout = 10 * time.Second
	f.Fuzz(func(t *testing.T, status uint16, headers string, body []byte) {
		g.answer(status, headers, body)
		tr.reset()
		err := k.SendSMS(context.Background(), testNumber, app.SMSText)
		input := fmt.Sprintf("status %d, headers %q, body %q", g.status, headers, body)
		ge, read := fzCheckAnswer(t, "kannel", err, tr, g.count(), input)
		if ge == nil || !read {
			return
		}
		want := statusCode(tr.status)
		if tr.status == http.StatusForbidden && strings.Contains(string(body), "Not routable") {
			want = SMSCodeNotRoutable
		}
		if ge.Code != want {
			t.Fatalf("kannel: code %s for answer %d, want %s (%s)", ge.Code, tr.status, want, input)
		}
	})
}

func FuzzElksAnswer(f *testing.F) {
	fzSeeds(f)
	g := newFzGateway(f)
	tr := &fzSeen{inner: &http.Transport{DisableKeepAlives: true}}
	e, err := NewElksSender(g.srv.URL, "u0123456789abcdef", fzPassword, "Region")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	e.now = func() time.Time { return now }
	e.HTTPClient = &http.Client{Transport: tr}
	e.Timeout = 10 * time.Second
	f.Fuzz(func(t *testing.T, status uint16, headers string, body []byte) {
		g.answer(status, headers, body)
		tr.reset()
		err := e.SendSMS(context.Background(), testNumber, app.SMSText)
		input := fmt.Sprintf("status %d, headers %q, body %q", g.status, headers, body)
		ge, read := fzCheckAnswer(t, "elks", err, tr, g.count(), input)
		if !read {
			return
		}
		if tr.status/100 == 2 {
			// Sent, unless the answer says "failed" (permanent).
			var r elksResponse
			failed := json.Unmarshal(body, &r) == nil && r.Status == "failed"
			if failed != (ge != nil) || failed && (ge.Code != SMSCodeRejected || IsTemporary(err)) {
				t.Fatalf("elks: 2xx answer gave %v, failed %v (%s)", err, failed, input)
			}
			return
		}
		if ge.Code != statusCode(tr.status) {
			t.Fatalf("elks: code %s for answer %d, want %s (%s)", ge.Code, tr.status, statusCode(tr.status), input)
		}
		// Retry-After: only on a 429, never negative, never more than a
		// day; whole seconds as given up to that cap.
		ra, ok := RetryAfter(err)
		if tr.status != http.StatusTooManyRequests {
			if ok {
				t.Fatalf("elks: retry after %s on a %d (%s)", ra, tr.status, input)
			}
			return
		}
		if ra < 0 || ra > 24*time.Hour {
			t.Fatalf("elks: retry after %s (%s)", ra, input)
		}
		h := strings.TrimSpace(tr.header.Get("Retry-After"))
		if secs, err := strconv.Atoi(h); err == nil {
			want := time.Duration(0)
			switch {
			case secs > 24*60*60:
				want = 24 * time.Hour
			case secs > 0:
				want = time.Duration(secs) * time.Second
			}
			if ra != want {
				t.Fatalf("elks: Retry-After %q gave a wait of %s, want %s (%s)", h, ra, want, input)
			}
		}
	})
}

// Found by the fuzz targets: a control character inside a number let it
// through sanitize, and a huge Retry-After overflowed to almost no wait.
func TestGatewayAnswerRegressions(t *testing.T) {
	if got := sanitize("Invalid number +46701\x0174060\x015", "+46701740605", ""); strings.Contains(got, "740605") || strings.Contains(got, "46701") {
		t.Errorf("sanitize let the number through: %q", got)
	}
	for _, h := range []string{"9223372037", "18446744074", "99999999999999999"} {
		if d := parseRetryAfter(h, time.Now()); d != 24*time.Hour {
			t.Errorf("Retry-After %s: %s, want the 24h cap", h, d)
		}
	}
}
