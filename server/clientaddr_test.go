package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mottagning/app/demo"
	"mottagning/client"
)

// post sends a JSON POST over the env's real TLS connection with an
// optional X-Forwarded-For and returns the status and error code.
func (e *env) post(path, token, body, xff string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := e.httpClient().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ce client.Error
	_ = json.Unmarshal(b, &ce)
	return resp.StatusCode, ce.Code
}

// TestResidentStartLimitedPerAddress: the resident's e-ID start had no
// limit at all (issue 15). Now each client address has 10 a minute; a
// forged X-Forwarded-For from a client that is not a trusted proxy is
// ignored (rotating it gives no fresh bucket), and after a minute the
// address may start again.
func TestResidentStartLimitedPerAddress(t *testing.T) {
	e := newEnv(t, envOpt{limits: true})
	body := `{"personnummer":"` + e.persona(demo.AdultEmail).PNR.String() + `"}`
	for i := 0; i < 10; i++ {
		if st, code := e.post("/api/resident/auth/start", "", body, ""); st != http.StatusOK {
			t.Fatalf("start %d: %d %s", i+1, st, code)
		}
	}
	if st, code := e.post("/api/resident/auth/start", "", body, ""); st != http.StatusTooManyRequests || code != "too_many_attempts" {
		t.Fatalf("11th start in a minute: %d %s, want 429 too_many_attempts", st, code)
	}
	if st, _ := e.post("/api/resident/auth/start", "", body, "198.51.100.9"); st != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For from an untrusted client got a fresh bucket: %d", st)
	}
	e.clock.Advance(time.Minute)
	if st, code := e.post("/api/resident/auth/start", "", body, ""); st != http.StatusOK {
		t.Fatalf("start a minute later: %d %s", st, code)
	}
}

// TestTrustedProxyForwardsTheClientAddress: behind a configured proxy
// (here 127.0.0.1, where the test connects from) each forwarded client
// has its own bucket, so one busy client does not lock out the others
// behind the same proxy; the rightmost address no trusted proxy vouches
// for is the client.
func TestTrustedProxyForwardsTheClientAddress(t *testing.T) {
	e := newEnv(t, envOpt{limits: true, trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}})
	body := `{"personnummer":"` + e.persona(demo.AdultEmail).PNR.String() + `"}`
	for i := 0; i < 10; i++ {
		// The client's own claim (left) is not believed; 203.0.113.7 is
		// what the trusted proxies saw.
		if st, code := e.post("/api/resident/auth/start", "", body, "192.0.2.1, 203.0.113.7, 10.1.2.3"); st != http.StatusOK {
			t.Fatalf("start %d: %d %s", i+1, st, code)
		}
	}
	if st, _ := e.post("/api/resident/auth/start", "", body, "192.0.2.99, 203.0.113.7, 10.1.2.3"); st != http.StatusTooManyRequests {
		t.Fatalf("the same forwarded client with another claimed address: %d, want 429", st)
	}
	if st, code := e.post("/api/resident/auth/start", "", body, "203.0.113.8"); st != http.StatusOK {
		t.Fatalf("another client behind the proxy: %d %s", st, code)
	}
}

// TestTestNotificationLimitedPerAddress: "Skicka testavisering" sends a
// message to any address; 5 a minute per client address (it had no
// limit).
func TestTestNotificationLimitedPerAddress(t *testing.T) {
	e := newEnv(t, envOpt{limits: true})
	path := "/api/staff/clinics/" + string(e.ds.Clinics[0].ID) + "/notifications/test"
	tok := e.staff(demo.StaffLocalAdmin)
	body := `{"channel":"sms","address":"0701740650"}`
	for i := 0; i < 5; i++ {
		if st, code := e.post(path, tok, body, ""); st == http.StatusTooManyRequests {
			t.Fatalf("test notification %d refused: %d %s", i+1, st, code)
		}
	}
	if st, code := e.post(path, tok, body, ""); st != http.StatusTooManyRequests || code != "too_many_attempts" {
		t.Fatalf("6th test notification in a minute: %d %s, want 429", st, code)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{"10.0.0.0/8", " 192.168.1.5 ", "", "2001:db8::/32", "::ffff:10.9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.5/32", "2001:db8::/32", "10.9.9.9/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := ParseTrustedProxies([]string{"proxy.example"}); err == nil {
		t.Error("a host name was taken as a proxy address")
	}
}
