package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
)

// endpoint is one API call with placeholders {clinic}, {case}, {child},
// {guardian}, {pnr}, {resident} filled from the target.
type endpoint struct {
	method, path, body string
}

var staffEndpoints = []endpoint{
	{"GET", "/api/staff/clinics/{clinic}/cases", ""},
	{"GET", "/api/staff/clinics/{clinic}/cases?list=mine", ""},
	{"POST", "/api/staff/clinics/{clinic}/cases/search", `{"search":"{pnr}"}`},
	{"POST", "/api/staff/clinics/{clinic}/cases", `{"templateId":"{template}","residentId":"{resident}","subject":"Hej","text":"Hej"}`},
	{"GET", "/api/staff/clinics/{clinic}/cases/{case}", ""},
	{"POST", "/api/staff/clinics/{clinic}/cases/{case}/replies", `{"text":"Hej"}`},
	{"POST", "/api/staff/clinics/{clinic}/cases/{case}/notes", `{"text":"Hej"}`},
	{"POST", "/api/staff/clinics/{clinic}/cases/{case}/assign", `{"assigneeId":"{staff}"}`},
	{"POST", "/api/staff/clinics/{clinic}/cases/{case}/close", ""},
	{"POST", "/api/staff/clinics/{clinic}/cases/{case}/reopen", ""},
	{"GET", "/api/staff/clinics/{clinic}/cases/{case}/notifications", ""},
	{"POST", "/api/staff/clinics/{clinic}/residents/lookup", `{"personnummer":"{pnr}"}`},
	{"GET", "/api/staff/clinics/{clinic}/templates", ""},
	{"POST", "/api/staff/clinics/{clinic}/children/{child}/guardians/{guardian}/block", `{"blocked":true}`},
	{"POST", "/api/staff/clinics/{clinic}/notifications/test", `{"channel":"sms","address":"0701740650"}`},
	{"POST", "/api/staff/region/residents/find", `{"personnummer":"{pnr}"}`},
	{"POST", "/api/staff/region/residents/lock", `{"personnummer":"{pnr}","on":true,"identityCheck":"mobilt-bankid","reason":"forlorad-e-legitimation"}`},
	{"POST", "/api/staff/region/residents/seal", `{"personnummer":"{pnr}","on":true}`},
}

var residentEndpoints = []endpoint{
	{"GET", "/api/resident/cases?for={resident}", ""},
	{"GET", "/api/resident/cases/{case}", ""},
	{"POST", "/api/resident/cases/{case}/replies", `{"text":"Hej"}`},
	{"POST", "/api/resident/cases", `{"for":"{resident}","clinicId":"{clinic}","eserviceId":"std-kontakta-mottagningen","subject":"Hej","text":"Hej"}`},
	{"POST", "/api/resident/children/{resident}/activate", ""},
	{"PUT", "/api/resident/children/{resident}/contact", `{"mobile":"0701740650","email":""}`},
}

// ownResidentEndpoints need only a session (they act on the caller).
var ownResidentEndpoints = []endpoint{
	{"GET", "/api/resident/me", ""},
	{"GET", "/api/resident/clinics", ""},
	{"GET", "/api/resident/cases", ""},
	{"GET", "/api/resident/children", ""},
	{"PUT", "/api/resident/settings", `{"mobile":"","email":"","notifySms":false,"notifyEmail":false,"shareWithCare":false}`},
	{"PUT", "/api/resident/journal-seal", `{"sealed":false}`},
	{"POST", "/api/resident/lock", ""},
	{"POST", "/api/resident/auth/signout", ""},
	{"GET", "/api/staff/me", ""},
	{"POST", "/api/staff/auth/signout", ""},
}

type target struct {
	clinic, caseID, template, resident, child, guardian, staff, pnr string
}

func (tg target) fill(s string) string {
	return strings.NewReplacer("{clinic}", tg.clinic, "{case}", tg.caseID, "{template}", tg.template, "{resident}", tg.resident,
		"{child}", tg.child, "{guardian}", tg.guardian, "{staff}", tg.staff, "{pnr}", tg.pnr).Replace(s)
}

// raw sends one request and returns status and body.
func (e *env) raw(method, path, token, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.httpClient().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *env) httpClient() *http.Client {
	// The client package's transport, through its exported Do, is tested
	// elsewhere; raw requests reuse the pinning by going through a client
	// with the same options.
	if e.hc == nil {
		c, err := client.New(e.url, client.Options{PinSHA256: e.pin})
		if err != nil {
			e.t.Fatal(err)
		}
		e.hc = c.HTTP()
	}
	return e.hc
}

// secrets are strings of the demo data that must never appear in a refusal.
func (e *env) secrets() []string {
	var out []string
	for _, r := range e.ds.Residents {
		if !r.PNR.IsZero() {
			s := r.PNR.String()
			out = append(out, s, strings.ReplaceAll(s, "-", ""))
		}
		out = append(out, r.Register.GivenName, r.Register.FamilyName)
	}
	for _, t := range e.ds.Threads {
		for _, m := range t.Messages {
			out = append(out, m.Text)
		}
		out = append(out, t.Case.Subject)
	}
	return out
}

// refused checks a refusal: an error status, a JSON body with a stable code
// among want, and nothing of the demo data in it.
func (e *env) refused(t *testing.T, what string, status int, body []byte, want ...string) {
	t.Helper()
	var eb client.Error
	if status < 400 || json.Unmarshal(body, &eb) != nil {
		t.Errorf("%s: status %d body %s: want a refusal %v", what, status, body, want)
		return
	}
	ok := false
	for _, w := range want {
		ok = ok || eb.Code == w
	}
	if !ok {
		t.Errorf("%s: code %q (status %d), want %v", what, eb.Code, status, want)
	}
	if _, known := ErrorCodes[eb.Code]; !known {
		t.Errorf("%s: code %q is not in ErrorCodes", what, eb.Code)
	}
	for _, s := range e.secrets() {
		if len(s) > 3 && bytes.Contains(body, []byte(s)) {
			t.Errorf("%s: the refusal leaks %q: %s", what, s, body)
		}
	}
}

// TestAccessMatrix tries every endpoint as each actor who must be refused.
func TestAccessMatrix(t *testing.T) {
	e := newEnv(t)
	centrum := e.ds.Clinics[0]
	karin := e.persona(demo.AdultSMS)
	var karinCase app.ID
	for _, th := range e.ds.Threads {
		if th.Case.ResidentID == karin.ID && th.Case.ClinicID == centrum.ID {
			karinCase = th.Case.ID
		}
	}
	elsa := e.persona(demo.Child12y11m)
	tg := target{clinic: string(centrum.ID), caseID: string(karinCase), template: e.templateOf(0, app.KindQuestion),
		resident: string(karin.ID), child: string(elsa.ID), guardian: string(e.persona(demo.GuardianNotified).ID),
		staff: string(e.ds.StaffBy[demo.StaffHandler]), pnr: karin.PNR.String()}

	staffActors := []struct {
		name, token string
		want        []string
	}{
		{"staff of another clinic", e.staff(demo.StaffChildClinic), []string{"forbidden"}},
		{"granskare (no case role)", e.staff(demo.StaffAuditor), []string{"forbidden"}},
		{"behörighetsadministratör", e.staff(demo.StaffPermAdmin), []string{"forbidden"}},
		{"no token", "", []string{"unauthenticated"}},
		{"forged token", "staff:" + string(app.NewID(time.Now())), []string{"unauthenticated"}},
		{"expired token", "expired:" + e.staff(demo.StaffReceiver), []string{"unauthenticated"}},
		{"resident token", e.signIn(demo.AdultEmail), []string{"unauthenticated"}},
	}
	for _, a := range staffActors {
		for _, ep := range staffEndpoints {
			if a.name == "behörighetsadministratör" && strings.Contains(ep.path, "/block") {
				continue // blocking is lokal administratör's; Eva is refused below by role anyway
			}
			what := fmt.Sprintf("%s: %s %s", a.name, ep.method, ep.path)
			st, body := e.raw(ep.method, tg.fill(ep.path), a.token, tg.fill(ep.body))
			e.refused(t, what, st, body, a.want...)
		}
	}
	// Revoked device: the token stops at once.
	revoked := e.staff(demo.StaffHandler)
	if st, _ := e.raw("POST", "/api/staff/auth/signout", revoked, ""); st != http.StatusNoContent {
		t.Fatalf("sign out: %d", st)
	}
	for _, ep := range staffEndpoints {
		st, body := e.raw(ep.method, tg.fill(ep.path), revoked, tg.fill(ep.body))
		e.refused(t, "revoked device: "+ep.method+" "+ep.path, st, body, "unauthenticated")
	}

	// Resident side: another resident, a guardian with protected identity
	// (for their child), a guardian of a 13-year-old, staff and no token.
	other := e.signIn(demo.AdultEmail)
	for _, ep := range residentEndpoints {
		st, body := e.raw(ep.method, tg.fill(ep.path), other, tg.fill(ep.body))
		e.refused(t, "another resident: "+ep.method+" "+ep.path, st, body, "forbidden", "proxy_not_allowed")
	}
	childCase := func(child *app.Resident) string {
		for _, th := range e.ds.Threads {
			if th.Case.ResidentID == child.ID {
				return string(th.Case.ID)
			}
		}
		return string(karinCase)
	}
	protChild := e.persona(demo.ChildProtectedGuard)
	protTok := e.signIn(demo.GuardianProtected)
	ptg := tg
	ptg.resident, ptg.caseID, ptg.clinic = string(protChild.ID), childCase(protChild), string(e.ds.Clinics[1].ID)
	for _, ep := range residentEndpoints {
		st, body := e.raw(ep.method, ptg.fill(ep.path), protTok, ptg.fill(ep.body))
		e.refused(t, "guardian with protected identity: "+ep.method+" "+ep.path, st, body, "proxy_not_allowed")
	}
	for _, ep := range residentEndpoints {
		for _, a := range []struct{ name, tok string }{{"no token", ""}, {"staff token", e.staff(demo.StaffReceiver)}, {"forged", "r1.AAAA"}} {
			st, body := e.raw(ep.method, tg.fill(ep.path), a.tok, tg.fill(ep.body))
			e.refused(t, a.name+": "+ep.method+" "+ep.path, st, body, "unauthenticated")
		}
	}
	for _, ep := range ownResidentEndpoints {
		st, body := e.raw(ep.method, ep.path, "", ep.body)
		e.refused(t, "no token: "+ep.method+" "+ep.path, st, body, "unauthenticated")
		st, body = e.raw(ep.method, ep.path, "forged", ep.body)
		e.refused(t, "forged: "+ep.method+" "+ep.path, st, body, "unauthenticated")
	}
	// Guardian of a 13-year-old: Hugo turns 13 tomorrow; three days on.
	e.clock.Advance(72 * time.Hour)
	hugo := e.persona(demo.ChildTurns13)
	g13 := e.signIn(demo.GuardianOf13)
	htg := tg
	htg.resident, htg.caseID, htg.clinic = string(hugo.ID), childCase(hugo), string(e.ds.Clinics[1].ID)
	for _, ep := range residentEndpoints {
		st, body := e.raw(ep.method, htg.fill(ep.path), g13, htg.fill(ep.body))
		e.refused(t, "guardian of a 13-year-old: "+ep.method+" "+ep.path, st, body, "proxy_not_allowed")
	}
}

// TestBadInput: malformed, oversized and wrongly typed requests get a
// stable code and change nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	anna, centrum := e.staff(demo.StaffReceiver), e.clinic(0)
	lookup := "/api/staff/clinics/" + centrum + "/residents/lookup"
	big := `{"text":"` + strings.Repeat("a", MaxBody) + `"}`
	tests := []struct {
		name, method, path, token, body, ctype string
		status                                 int
		code                                   string
	}{
		{"malformed JSON", "POST", lookup, anna, `{"personnummer":`, "", 400, "invalid_json"},
		{"unknown field", "POST", lookup, anna, `{"personnummer":"x","extra":1}`, "", 400, "invalid_json"},
		{"two values", "POST", lookup, anna, `{"personnummer":"x"}{}`, "", 400, "invalid_json"},
		{"wrong type", "POST", lookup, anna, `{"personnummer":12}`, "", 400, "invalid_json"},
		{"not JSON content", "POST", lookup, anna, `personnummer=x`, "application/x-www-form-urlencoded", 415, "unsupported_media"},
		{"oversized", "POST", "/api/staff/clinics/" + centrum + "/cases/x/replies", anna, big, "", 413, "too_large"},
		{"bad personnummer", "POST", lookup, anna, `{"personnummer":"19121212-1213"}`, "", 400, "invalid"},
		{"reserve number", "POST", lookup, anna, `{"personnummer":"20010704-R017"}`, "", 400, "invalid"},
		{"unknown personnummer", "POST", lookup, anna, `{"personnummer":"19121212-1212"}`, "", 404, "not_found"},
		{"unknown case", "GET", "/api/staff/clinics/" + centrum + "/cases/" + string(app.NewID(time.Now())), anna, "", "", 404, "not_found"},
		{"bad status filter", "GET", "/api/staff/clinics/" + centrum + "/cases?status=x", anna, "", "", 400, "invalid"},
		{"bad limit", "GET", "/api/staff/clinics/" + centrum + "/cases?limit=100000", anna, "", "", 400, "invalid"},
		{"empty subject", "POST", "/api/staff/clinics/" + centrum + "/cases", anna, `{"templateId":"x","residentId":"y","subject":" ","text":"a"}`, "", 400, "invalid"},
		{"unknown route", "GET", "/api/nope", "", "", "", 404, "not_found"},
		{"wrong method", "DELETE", "/api/resident/me", "", "", "", 405, "method_not_allowed"},
		{"e-ID unknown order", "POST", "/api/resident/auth/collect", "", `{"orderRef":"nope"}`, "", 404, "not_found"},
		{"e-ID bad personnummer", "POST", "/api/resident/auth/start", "", `{"personnummer":"abc"}`, "", 400, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(e.ctx, tt.method, e.url+tt.path, strings.NewReader(tt.body))
			ct := tt.ctype
			if ct == "" {
				ct = "application/json"
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", ct)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := e.httpClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			e.refused(t, tt.name, resp.StatusCode, body, tt.code)
			if tt.code == "method_not_allowed" && !strings.Contains(resp.Header.Get("Allow"), "GET") {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
	// An unknown personnummer in the e-ID: the order completes, the sign-in is refused.
	_, err := e.c.ResidentSignIn(e.ctx, "19121212-1212", time.Millisecond)
	wantCode(t, err, "not_found")
}

// TestMetricsAndHealthz: Prometheus metrics (the Prometheus Go client)
// with route labels, never a path, request histograms, the Go and process
// collectors and the build info, on the metrics listener only: the public
// API has no /metrics (issue 15, item 5).
func TestMetricsAndHealthz(t *testing.T) {
	e := newEnv(t)
	if err := e.c.Healthz(e.ctx); err != nil {
		t.Fatal(err)
	}
	_, _ = e.c.OpenCase(e.ctx, e.staff(demo.StaffReceiver), e.clinic(0), "01SECRETPATHID0000000000000")
	if m, err := e.c.Metrics(e.ctx); err != nil || strings.Contains(m, "mottagning_http_requests_total") {
		t.Fatalf("the public API serves metrics: %v\n%s", err, m)
	}
	ms := httptest.NewServer(e.srv.MetricsHandler())
	defer ms.Close()
	resp, err := http.Get(ms.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(body)
	for _, want := range []string{
		`mottagning_http_requests_total{code="200",route="GET /healthz"} 1`,
		`mottagning_http_requests_total{code="404",route="GET /api/staff/clinics/{clinic}/cases/{case}"} 1`,
		`mottagning_outbox_queued{channel="sms"}`,
		"mottagning_outbox_delivery_failures_total 0",
		"# TYPE mottagning_http_request_duration_seconds histogram",
		`mottagning_http_request_duration_seconds_bucket{route="GET /healthz",le="0.005"}`,
		`mottagning_build_info{version="dev"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	if runtime.GOOS == "linux" && !strings.Contains(m, "process_cpu_seconds_total ") {
		t.Errorf("no process collector:\n%s", m)
	}
	if strings.Contains(m, "SECRETPATH") {
		t.Error("metrics contain a path")
	}
}
