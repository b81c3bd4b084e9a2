package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mottagning/app"
)

// elksServer implements the documented 46elks "Send an SMS" call on
// 127.0.0.1: POST /a1/sms, basic auth, form fields from, to, message; it
// answers 200 with the JSON 46elks returns. Canned failures can be queued.
type elksServer struct {
	*httptest.Server
	user, pass string

	mu       sync.Mutex
	received []elksForm
	fail     []elksAnswer // answered first, in order
}

type elksForm struct{ From, To, Message string }

type elksAnswer struct {
	status     int
	retryAfter string
	body       string
}

func newElksServer(t *testing.T) *elksServer {
	s := &elksServer{user: "u0123456789abcdef", pass: "API-PASSWORD-0123"}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *elksServer) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path != "/a1/sms" || r.Method != http.MethodPost {
		http.Error(w, "Not found", http.StatusNotFound)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="46elks"`)
		http.Error(w, "API access denied", http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		http.Error(w, "Unsupported content type", http.StatusBadRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad form", http.StatusBadRequest)
		return
	}
	f := elksForm{r.PostForm.Get("from"), r.PostForm.Get("to"), r.PostForm.Get("message")}
	if len(s.fail) > 0 {
		a := s.fail[0]
		s.fail = s.fail[1:]
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
		return
	}
	if f.From == "" || f.To == "" || f.Message == "" {
		http.Error(w, "Missing key from, to or message", http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(f.To, "+") {
		http.Error(w, "Invalid phone number "+f.To, http.StatusBadRequest)
		return
	}
	s.received = append(s.received, f)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"status": "created", "direction": "outgoing", "from": f.From, "to": f.To,
		"message": f.Message, "id": fmt.Sprintf("s%032d", len(s.received)), "parts": 1, "cost": 3500,
		"created": "2026-11-25T10:00:00.000000",
	})
}

func (s *elksServer) queue(a ...elksAnswer) {
	s.mu.Lock()
	s.fail = append(s.fail, a...)
	s.mu.Unlock()
}

func (s *elksServer) got() []elksForm {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]elksForm(nil), s.received...)
}

func (s *elksServer) sender(t *testing.T) *ElksSender {
	t.Helper()
	e, err := NewElksSender(s.URL, s.user, s.pass, "Region1177")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// R4 through the provider API: the exact from, to and message arrive.
func TestR4_ElksSendsExactFromToMessage(t *testing.T) {
	s := newElksServer(t)
	if err := s.sender(t).SendSMS(context.Background(), testNumber, app.SMSText); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	got := s.got()
	want := elksForm{From: "Region1177", To: testNumber, Message: app.SMSText}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("provider received %+v, want exactly %+v", got, want)
	}
}

// 429 is temporary and carries Retry-After (seconds or an HTTP date);
// the next attempt goes through and the message arrives once.
func TestElksThrottledHonoursRetryAfter(t *testing.T) {
	s := newElksServer(t)
	e := s.sender(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e.now = func() time.Time { return now }
	s.queue(
		elksAnswer{status: 429, retryAfter: "7", body: "Too many requests"},
		elksAnswer{status: 429, retryAfter: now.Add(90 * time.Second).Format(http.TimeFormat)},
		elksAnswer{status: 429},
	)
	for i, want := range []time.Duration{7 * time.Second, 90 * time.Second, 0} {
		err := e.SendSMS(context.Background(), testNumber, app.SMSText)
		var te *TempError
		if !IsTemporary(err) || !errors.As(err, &te) {
			t.Fatalf("429 #%d: %v, want *TempError", i, err)
		}
		g := gatewayError(t, err)
		d, ok := RetryAfter(err)
		if g.Code != SMSCodeThrottled || g.Status != 429 || d != want || ok != (want > 0) {
			t.Fatalf("429 #%d: code %q status %d retry-after %v %v, want throttled, %v", i, g.Code, g.Status, d, ok, want)
		}
		assertNoLeak(t, err, testNumber, app.SMSText, s.pass)
	}
	if err := e.SendSMS(context.Background(), testNumber, app.SMSText); err != nil {
		t.Fatalf("after throttling: %v", err)
	}
	if got := s.got(); len(got) != 1 {
		t.Fatalf("provider received %d messages, want 1", len(got))
	}
}

// The provider's answers mapped to temporary or permanent.
func TestElksAnswers(t *testing.T) {
	cases := []struct {
		name string
		a    elksAnswer
		temp bool
		code string
	}{
		{"500", elksAnswer{status: 500, body: "Internal server error"}, true, SMSCodeServer},
		{"502", elksAnswer{status: 502}, true, SMSCodeServer},
		{"503", elksAnswer{status: 503, retryAfter: "30"}, true, SMSCodeServer},
		{"402 no credit", elksAnswer{status: 402, body: "Not enough credits"}, true, SMSCodeNoCredit},
		{"400", elksAnswer{status: 400, body: "Invalid to number +46701740605"}, false, SMSCodeBadRequest},
		{"401", elksAnswer{status: 401, body: "API access denied"}, false, SMSCodeAuth},
		{"403", elksAnswer{status: 403, body: "Forbidden"}, false, SMSCodeAuth},
		{"404", elksAnswer{status: 404}, false, SMSCodeRejected},
		{"2xx failed", elksAnswer{status: 200, body: `{"status":"failed","id":"s1"}`}, false, SMSCodeRejected},
	}
	for _, c := range cases {
		s := newElksServer(t)
		s.queue(c.a)
		err := s.sender(t).SendSMS(context.Background(), testNumber, app.SMSText)
		if err == nil || IsTemporary(err) != c.temp {
			t.Errorf("%s: %v (temporary %v), want temporary=%v", c.name, err, IsTemporary(err), c.temp)
			continue
		}
		if g := gatewayError(t, err); g.Code != c.code || g.Status != c.a.status {
			t.Errorf("%s: code %q status %d, want %s", c.name, g.Code, g.Status, c.code)
		}
		if _, ok := RetryAfter(err); ok {
			t.Errorf("%s: RetryAfter set outside a 429", c.name)
		}
		assertNoLeak(t, err, testNumber, app.SMSText, s.pass)
	}
	// A 2xx we cannot read is accepted: retrying would send twice.
	s := newElksServer(t)
	s.queue(elksAnswer{status: 200, body: "not json"})
	if err := s.sender(t).SendSMS(context.Background(), testNumber, app.SMSText); err != nil {
		t.Errorf("2xx with an unreadable body: %v, want accepted", err)
	}
}

// Wrong credentials against the real check of the test server: permanent.
func TestElksWrongPasswordIsPermanent(t *testing.T) {
	s := newElksServer(t)
	e, err := NewElksSender(s.URL, s.user, "wrong-password", "Region1177")
	if err != nil {
		t.Fatal(err)
	}
	err = e.SendSMS(context.Background(), testNumber, app.SMSText)
	if err == nil || IsTemporary(err) || gatewayError(t, err).Code != SMSCodeAuth {
		t.Fatalf("wrong password: %v, want permanent auth", err)
	}
	assertNoLeak(t, err, testNumber, app.SMSText, "wrong-password", s.user)
	if n := len(s.got()); n != 0 {
		t.Fatalf("%d messages accepted with a wrong password", n)
	}
}

// An unreachable gateway (a closed listener) is temporary.
func TestElksUnreachableIsTemporary(t *testing.T) {
	e, err := NewElksSender(closedURL(t, ""), "u", "secret-pw", "Region1177")
	if err != nil {
		t.Fatal(err)
	}
	err = e.SendSMS(context.Background(), testNumber, app.SMSText)
	var te *TempError
	if !errors.As(err, &te) || gatewayError(t, err).Code != SMSCodeUnreachable {
		t.Fatalf("unreachable gateway: %v, want *TempError unreachable", err)
	}
	assertNoLeak(t, err, testNumber, app.SMSText, "secret-pw")
}

// A redirect is not followed (it would carry the credentials elsewhere).
func TestElksDoesNotFollowRedirects(t *testing.T) {
	other := newElksServer(t)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/a1/sms", http.StatusTemporaryRedirect)
	}))
	defer s.Close()
	e, err := NewElksSender(s.URL, other.user, other.pass, "Region1177")
	if err != nil {
		t.Fatal(err)
	}
	err = e.SendSMS(context.Background(), testNumber, app.SMSText)
	if err == nil || IsTemporary(err) || len(other.got()) != 0 {
		t.Fatalf("redirect: %v, %d received elsewhere; want a permanent error and none", err, len(other.got()))
	}
}
