package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
)

// syncBuffer is a log sink the server's goroutines may write concurrently.
type syncBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedServer starts a second server over e's store whose log (debug
// level, so refusals are logged too) is kept, and returns a client of it.
func (e *env) loggedServer(t *testing.T) (*client.Client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(e.ctx, Deps{Store: e.store, Staff: e.auth, EID: &TestEID{Clock: e.clock}, Clock: e.clock, Logger: log, ResidentStartPerMinute: 1 << 20, TestNotifyPerMinute: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(ts.Close)
	c, err := client.New(ts.URL, client.Options{PinSHA256: client.Fingerprint(ts.Certificate().Raw)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	return c, logs
}

// residentExports counts the extracts recorded for resident in the
// server's access log today: exports with no staff member and no clinic.
// (Entries of the clinic "" read the whole index; the filter keeps the
// entries without a clinic.)
func (e *env) residentExports(resident app.ID) int {
	e.t.Helper()
	d := app.DateIn(e.clock.Now())
	all, err := e.store.Entries(e.ctx, "", d, d.AddDate(0, 0, 1))
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, x := range all {
		if x.ClinicID == "" && x.StaffID == "" && x.ResidentID == resident && x.Action == app.AccessExport && x.CaseID == "" {
			n++
		}
	}
	return n
}

// staffAccessesTo counts the access-log entries about resident in every
// clinic over the default period (the last twelve months to today).
func (e *env) staffAccessesTo(resident app.ID) int {
	e.t.Helper()
	to := app.DateIn(e.clock.Now()).AddDate(0, 0, 1)
	n := 0
	for _, c := range e.ds.Clinics {
		all, err := e.store.Entries(e.ctx, c.ID, to.AddDate(-1, 0, 0), to)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, x := range all {
			if x.ResidentID == resident {
				n++
			}
		}
	}
	return n
}

// Issue 8 / patientdatalagen 8 kap. 1 §, R2: a resident fetches their own
// log extract through the resident API, as JSON and as PDF: the staff
// accesses to their data with name, title and clinic, nobody else's, no
// staff account id; each extract is recorded in the server's access log;
// the server's log holds ids only.
func TestR2_ResidentAccessLog_JSONAndPDF(t *testing.T) {
	e := newEnv(t)
	lc, logs := e.loggedServer(t)
	lars, karin := e.persona(demo.AdultEmail), e.persona(demo.AdultSMS)
	anna := e.staff(demo.StaffReceiver)
	var larsCase string
	for _, th := range e.ds.Threads {
		if th.Case.ResidentID == lars.ID && th.Case.ClinicID == e.ds.Clinics[0].ID {
			larsCase = string(th.Case.ID)
		}
	}
	// Anna opens Lars's case and looks him and Karin up.
	if _, err := e.c.OpenCase(e.ctx, anna, e.clinic(0), larsCase); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*app.Resident{lars, karin} {
		if _, err := e.c.LookupResident(e.ctx, anna, e.clinic(0), p.PNR.String()); err != nil {
			t.Fatal(err)
		}
	}
	s, err := lc.ResidentSignIn(e.ctx, lars.PNR.String(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Token
	want := e.staffAccessesTo(lars.ID)
	x, err := lc.AccessLog(e.ctx, tok, client.AccessLogQuery{})
	if err != nil {
		t.Fatalf("extract: %v", err)
	}
	today := app.DateIn(e.clock.Now())
	if x.ResidentID != string(lars.ID) || x.ResidentName != lars.Register.FullName() || x.Proxy ||
		!x.To.Equal(today.AddDate(0, 0, 1)) || !x.From.Equal(today.AddDate(-1, 0, 1)) || len(x.Rows) != want {
		t.Fatalf("extract header %+v with %d rows, want %d rows over the last twelve months", x, len(x.Rows), want)
	}
	var opened, looked bool
	for _, r := range x.Rows {
		if r.StaffName != "Anna Lindqvist" || r.StaffTitle != "Sjuksköterska" || r.ClinicName != e.ds.Clinics[0].Name || r.ClinicID != e.clinic(0) {
			continue
		}
		opened = opened || (r.Action == string(app.AccessOpenCase) && r.CaseID == larsCase && r.ActionLabel == "Öppnade ärende")
		looked = looked || (r.Action == string(app.AccessLookupResident) && r.ActionLabel == "Slog upp invånare")
	}
	if !opened || !looked {
		t.Errorf("rows %+v lack Anna's opening and lookup", x.Rows)
	}
	raw, _ := json.Marshal(x)
	for _, leak := range []string{string(e.ds.StaffBy[demo.StaffReceiver]), karin.Register.FamilyName, karin.PNR.String()} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("the extract contains %q", leak)
		}
	}
	if n := e.residentExports(lars.ID); n != 1 {
		t.Errorf("%d extracts recorded, want 1", n)
	}
	// The extract is no staff access: the next one lists the same rows.
	if x2, err := lc.AccessLog(e.ctx, tok, client.AccessLogQuery{}); err != nil || len(x2.Rows) != want {
		t.Errorf("second extract: %d rows, %v; want %d", len(x2.Rows), err, want)
	}

	// The PDF: the same extract, printable, recorded too.
	pdf, err := lc.AccessLogPDF(e.ctx, tok, client.AccessLogQuery{From: today.Format(time.DateOnly), To: today.Format(time.DateOnly)})
	if err != nil {
		t.Fatalf("pdf: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 16)])
	}
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodGet, e.url+"/api/resident/access-log/pdf", nil)
	s2, err := e.c.ResidentSignIn(e.ctx, lars.PNR.String(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s2.Token)
	resp, err := e.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); resp.StatusCode != 200 || ct != "application/pdf" ||
		cd != `attachment; filename="loggutdrag.pdf"` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("pdf answer %d %q %q", resp.StatusCode, ct, cd)
	}
	if n := e.residentExports(lars.ID); n != 4 {
		t.Errorf("%d extracts recorded, want 4 (json, json, pdf, pdf)", n)
	}

	// Bad periods: refused with the field, nothing recorded.
	for _, q := range []struct {
		q     client.AccessLogQuery
		field string
	}{
		{client.AccessLogQuery{From: "igår"}, "from"},
		{client.AccessLogQuery{To: "2025-02-30"}, "to"},
		{client.AccessLogQuery{From: today.AddDate(-2, 0, 0).Format(time.DateOnly)}, "period"},
		{client.AccessLogQuery{From: today.Format(time.DateOnly), To: today.AddDate(0, 0, -1).Format(time.DateOnly)}, "period"},
	} {
		_, err := lc.AccessLog(e.ctx, tok, q.q)
		if ae := wantCode(t, err, "invalid"); ae.Field != q.field || ae.Status != 400 {
			t.Errorf("%+v: %+v, want field %q", q.q, ae, q.field)
		}
	}
	if n := e.residentExports(lars.ID); n != 4 {
		t.Errorf("refused extracts were recorded: %d", n)
	}

	// A guardian in proxy mode gets the child's extract (R5).
	elsa := e.persona(demo.Child12y11m)
	if _, err := e.c.LookupResident(e.ctx, e.staff(demo.StaffChildClinic), e.clinic(1), elsa.PNR.String()); err != nil {
		t.Fatal(err)
	}
	gs, err := lc.ResidentSignIn(e.ctx, e.persona(demo.GuardianNotified).PNR.String(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	cx, err := lc.AccessLog(e.ctx, gs.Token, client.AccessLogQuery{For: string(elsa.ID)})
	if err != nil {
		t.Fatalf("child's extract: %v", err)
	}
	found := false
	for _, r := range cx.Rows {
		found = found || (r.StaffName == "Cecilia Holm" && r.ClinicID == e.clinic(1) && r.Action == string(app.AccessLookupResident))
	}
	if !cx.Proxy || cx.ResidentID != string(elsa.ID) || len(cx.Rows) != e.staffAccessesTo(elsa.ID) || !found {
		t.Errorf("child's extract %+v", cx)
	}
	if e.residentExports(elsa.ID) != 1 {
		t.Error("the child's extract was not recorded")
	}

	// Without a session: the PDF call reports the refusal as an API error.
	_, err = lc.AccessLogPDF(e.ctx, "", client.AccessLogQuery{})
	wantCode(t, err, "unauthenticated")

	// The server's log: the extracts by id, never a personnummer or a name.
	out := logs.String()
	if !strings.Contains(out, `"msg":"resident log extract"`) || !strings.Contains(out, string(lars.ID)) {
		t.Errorf("no log line for the extract:\n%s", out)
	}
	for _, secret := range e.secrets() {
		if len(secret) > 3 && strings.Contains(out, secret) {
			t.Errorf("the server log contains %q", secret)
		}
	}
}
