package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/storage"
	msync "mottagning/sync"
)

// Fuzz targets of the sync API (sync.go), the requests a connected
// desktop sends: FuzzPushRequest (POST /api/sync/push bodies),
// FuzzPullRequest (GET /api/sync/pull query strings) and FuzzSyncRequest
// (the events long poll's "after" and the lookup's body). They drive the
// real handler (New over a real store with the demo region, a valid staff
// token) through httptest.NewRecorder, no network. Whatever comes in:
// never a panic or a 5xx; a refusal is a 4xx with the JSON error shape of
// ErrorCodes; a request answered 4xx writes nothing (the change feed's
// head stays where it was and no op of it is remembered); an answer is
// well formed and holds only the caller's clinics.

// fuzzLog keeps the error records of the server's log (a recovered
// panic's stack, an internal error) for the failure message.
type fuzzLog struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (l *fuzzLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() < 64<<10 {
		l.buf.Write(p)
	}
	return len(p), nil
}

func (l *fuzzLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

// syncFuzz is a server over a throw-away store with the demo region.
type syncFuzz struct {
	store  *storage.Store
	srv    *Server
	h      http.Handler
	ds     *demo.Dataset
	auth   *fakeAuth
	log    *fuzzLog
	clinic app.ID // clinic 0 (centrum)
	// staff are the tokens the fuzzers pick from: a receiver, a handler,
	// the child clinic's staff and the granskare.
	staff []*app.Staff
}

func newSyncFuzz(t testing.TB) *syncFuzz {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{}
	// NoSync: throw-away data, and a fuzzer's many pushes would otherwise
	// be as many fsyncs.
	store, err := storage.Open(ctx, t.TempDir(), storage.Options{NoSync: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		store.Close()
	})
	ds := demo.Build(clock.Now())
	ds.WithPasswords = false
	if err := demo.Seed(ctx, store, ds); err != nil {
		t.Fatalf("seed: %v", err)
	}
	auth := &fakeAuth{clock: clock, staff: map[string]*app.Staff{}, revoked: map[string]bool{}}
	for i := range ds.Staff {
		auth.staff[auth.token(ds.Staff[i].ID)] = &ds.Staff[i]
	}
	fl := &fuzzLog{}
	log := slog.New(slog.NewTextHandler(fl, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := New(ctx, Deps{Store: store, Staff: auth, EID: &TestEID{Clock: clock}, Clock: clock, Logger: log, ResidentStartPerMinute: 1 << 20, TestNotifyPerMinute: 1 << 20})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	f := &syncFuzz{store: store, srv: srv, h: srv.Handler(), ds: ds, auth: auth, log: fl, clinic: ds.Clinics[0].ID}
	for _, key := range []string{demo.StaffReceiver, demo.StaffHandler, demo.StaffChildClinic, demo.StaffAuditor} {
		f.staff = append(f.staff, f.staffBy(key))
	}
	return f
}

func (f *syncFuzz) staffBy(key string) *app.Staff {
	for i := range f.ds.Staff {
		if f.ds.Staff[i].ID == f.ds.StaffBy[key] {
			return &f.ds.Staff[i]
		}
	}
	panic("no staff " + key)
}

// pick returns the staff member sel chooses.
func (f *syncFuzz) pick(sel uint8) *app.Staff { return f.staff[int(sel)%len(f.staff)] }

// fuzzHangAfter is how long one request may take before the fuzzer calls it
// hung and fails with every goroutine's stack.
const fuzzHangAfter = 30 * time.Second

// serve runs one request through the real handler as st.
func (f *syncFuzz) serve(t testing.TB, ctx context.Context, st *app.Staff, method, path, rawQuery string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	req.URL.RawQuery = rawQuery
	req.Header.Set("Authorization", "Bearer "+f.auth.token(st.ID))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.h.ServeHTTP(rec, req)
	}()
	select {
	case <-done:
	case <-time.After(fuzzHangAfter):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%s %s?%q with body %q as %s: no answer after %s\n%s", method, path, rawQuery, body, st.Username, fuzzHangAfter, buf)
	}
	return rec
}

// check fails on a 5xx or anything but a 2xx or a well-formed 4xx, and
// returns whether the request was refused.
func (f *syncFuzz) check(t *testing.T, what string, rec *httptest.ResponseRecorder, input string) (refused bool) {
	t.Helper()
	log := f.log.take()
	st := rec.Code
	switch {
	case st >= 500:
		t.Fatalf("%s: %d for %s\nanswer: %.500s\nserver log: %.4000s", what, st, input, rec.Body.String(), log)
	case st >= 400:
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s: %d with content type %q for %s", what, st, ct, input)
		}
		var e client.Error
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: %d with a body that is not the error shape (%v): %.500s", what, st, err, rec.Body.String())
		}
		info, ok := ErrorCodes[e.Code]
		if !ok || info.Status != st || e.Message != info.Message {
			t.Fatalf("%s: %d with error %+v, not one of ErrorCodes with its status and message", what, st, e)
		}
		return true
	case st >= 300 || st < 200:
		t.Fatalf("%s: status %d for %s", what, st, input)
	}
	if log != "" {
		t.Fatalf("%s: %d, but the server logged an error for %s:\n%.4000s", what, st, input, log)
	}
	return false
}

// unapplied returns the ids of ops the server has not applied (nor
// refused) yet: after a refused push they must still be unknown.
func (f *syncFuzz) unapplied(t *testing.T, ops []app.SyncOp) []string {
	var ids []string
	for _, op := range ops {
		if op.ID == "" || len(op.ID) > 64 {
			continue
		}
		_, err := f.srv.gate.AppliedOp(context.Background(), op.ID)
		switch {
		case errors.Is(err, app.ErrNotFound):
			ids = append(ids, op.ID)
		case err != nil:
			t.Fatalf("op memory %q: %v", op.ID, err)
		}
	}
	return ids
}

// fuzzOnlyMine checks that a page holds only cases and clinics of st's
// clinics, and residents redacted for staff (app.RedactForStaff).
func fuzzOnlyMine(t *testing.T, what string, st *app.Staff, ch *app.SyncChanges) {
	t.Helper()
	if ch == nil {
		return
	}
	for _, th := range ch.Threads {
		if !st.InClinic(th.Case.ClinicID) {
			t.Fatalf("%s: case %s of clinic %s given to %s, who is not in it", what, th.Case.ID, th.Case.ClinicID, st.Username)
		}
	}
	for _, c := range ch.Clinics {
		if !st.InClinic(c.ID) {
			t.Fatalf("%s: clinic %s given to %s, who is not in it", what, c.ID, st.Username)
		}
	}
	for _, r := range ch.Residents {
		if (r.Settings.Mobile != "" && r.Settings.Mobile != app.Hidden || r.Settings.Email != "" && r.Settings.Email != app.Hidden) && !r.Settings.ShareWithCare {
			t.Fatalf("%s: resident %s with a contact detail not shared with care", what, r.ID)
		}
	}
}

// fuzzOp builds a push op.
func fuzzOp(kind app.OpKind, caseID app.ID, base uint64, payload any) app.SyncOp {
	p, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	if payload == nil {
		p = nil
	}
	return app.SyncOp{ID: app.NewOpID(), Kind: kind, CaseID: caseID, Base: base, Payload: p, MadeAt: time.Now().UTC().Truncate(time.Second)}
}

func fuzzPushBody(deviceID string, ops ...app.SyncOp) []byte {
	b, err := json.Marshal(msync.PushRequest{DeviceID: deviceID, Ops: ops})
	if err != nil {
		panic(err)
	}
	return b
}

// pushSeeds are valid pushes of every kind of op on the demo region (each
// checked to be answered 200 with the op applied or decided), and a few
// malformed ones.
func (f *syncFuzz) pushSeeds(t testing.TB) [][]byte {
	t.Helper()
	anna := f.staffBy(demo.StaffReceiver)
	bjorn := f.staffBy(demo.StaffHandler)
	var th *app.Thread
	for i := range f.ds.Threads {
		if f.ds.Threads[i].Case.ClinicID == f.clinic {
			th = &f.ds.Threads[i]
			break
		}
	}
	if th == nil {
		t.Fatal("no demo case in clinic 0")
	}
	c := th.Case
	now := time.Now().UTC().Truncate(time.Second)
	var resident app.ID
	for _, r := range f.ds.Residents {
		if r.ID == f.ds.Persona[demo.AdultSMS] {
			resident = r.ID
		}
	}
	var fraga app.ID
	for _, tpl := range f.ds.Templates {
		if tpl.ClinicID == f.clinic && tpl.Kind == app.KindQuestion {
			fraga = tpl.ID
		}
	}
	newCase := app.NewID(now)
	create := app.Thread{
		Case: app.Case{ID: newCase, ClinicID: f.clinic, ResidentID: resident, Kind: app.KindQuestion, TemplateID: fraga,
			Subject: "Hur mår du?", StartedBy: app.StartedByClinic, CreatedAt: now},
		Messages: []app.Message{{ID: app.NewID(now), CaseID: newCase, Author: app.AuthorStaff, AuthorID: anna.ID, At: now, Text: "Hej! Hur mår du efter besöket?"}},
	}
	dev := "dev-" + string(anna.ID)
	valid := [][]byte{
		fuzzPushBody(dev, fuzzOp(app.OpCaseMessage, c.ID, c.Version, app.Message{ID: app.NewID(now), CaseID: c.ID, Author: app.AuthorStaff, AuthorID: anna.ID, At: now, Text: "Provsvaret är klart."})),
		fuzzPushBody("", fuzzOp(app.OpCaseNote, c.ID, c.Version, app.Note{ID: app.NewID(now), CaseID: c.ID, StaffID: anna.ID, At: now, Text: "Ringde, inget svar."})),
		fuzzPushBody(dev, fuzzOp(app.OpCaseAssign, c.ID, c.Version, app.AssignChange{AssigneeID: bjorn.ID}),
			fuzzOp(app.OpCaseStatus, c.ID, c.Version, app.StatusChange{Status: app.StatusOngoing}),
			fuzzOp(app.OpCaseRead, c.ID, c.Version, nil)),
		fuzzPushBody(dev, fuzzOp(app.OpAccessRecord, c.ID, 0, app.AccessEntry{ID: app.NewID(now), At: now, StaffID: anna.ID, ClinicID: f.clinic,
			ResidentID: c.ResidentID, CaseID: c.ID, Action: app.AccessOpenCase})),
		fuzzPushBody(dev, fuzzOp(app.OpCaseCreate, newCase, 0, create)),
		fuzzPushBody(dev, fuzzOp(app.OpCaseStatus, c.ID, 0, app.StatusChange{Status: app.StatusClosed, ClosedAt: now})),
		fuzzPushBody(dev, fuzzOp(app.OpTemplatePut, "", 0, app.MessageTemplate{ID: fraga, ClinicID: f.clinic, Kind: app.KindQuestion, Name: "Fråga"})),
	}
	ctx := context.Background()
	for i, b := range valid {
		rec := f.serve(t, ctx, anna, http.MethodPost, "/api/sync/push", "", b, map[string]string{"Content-Type": "application/json"})
		if rec.Code != http.StatusOK {
			t.Fatalf("seed push %d: %d %s\n%s", i, rec.Code, rec.Body.String(), f.log.take())
		}
		var resp msync.PushResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Results) == 0 {
			t.Fatalf("seed push %d: %v %s", i, err, rec.Body.String())
		}
		if i < 5 && resp.Results[0].Outcome != app.OpApplied {
			t.Fatalf("seed push %d: %+v, want applied", i, resp.Results[0])
		}
	}
	malformed := [][]byte{
		nil,
		[]byte(`{}`),
		[]byte(`{"ops":[]}`),
		[]byte(`{"deviceId":"dev-someone-else","ops":[{"ID":"x","Kind":"case.read","CaseID":"` + string(c.ID) + `"}]}`),
		[]byte(`{"ops":[{"ID":"","Kind":"case.message"}]}`),
		[]byte(`{"ops":[{"ID":"y","Kind":"no.such.kind","Payload":{}}]}`),
		[]byte(`{"ops":[{"ID":"z","Kind":"case.message","CaseID":"` + string(c.ID) + `","Payload":"not a message"}]}`),
		[]byte(`{"ops":[{"ID":"w","Kind":"case.create","CaseID":"n","Payload":{"Case":{"ID":"n"},"Messages":[]}}]}`),
		[]byte(`{"ops":[{"ID":"v","Kind":"attachment.put","CaseID":"` + string(c.ID) + `","Payload":{"ID":"a","Data":"aGVq"}}]}`),
		[]byte(`{"ops":[{"ID":"u","Kind":"case.status","CaseID":"` + string(c.ID) + `","Base":18446744073709551615,"Payload":{"Status":"??"}}]}`),
		[]byte(`{"ops":[{"ID":"t","Seq":-1}]}`),
		[]byte(`{"ops":[{"ID":"s"}],"extra":1}`),
		[]byte(`{"ops":[{"ID":"r","MadeAt":"not a time"}]}`),
		[]byte(`{"ops":null}`),
		[]byte(`{"ops":[{"ID":"q","Kind":"case.message"}]} trailing`),
		[]byte(`[`),
		append([]byte(`{"ops":[`), append(bytes.Repeat([]byte(`{"ID":"p"},`), msync.MaxPushOps), `{"ID":"p"}]}`...)...),
	}
	return append(valid, malformed...)
}

func FuzzPushRequest(f *testing.F) {
	e := newSyncFuzz(f)
	for _, b := range e.pushSeeds(f) {
		f.Add(b, uint8(0), false)
		f.Add(b, uint8(1), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, staff uint8, binary bool) {
		st := e.pick(staff)
		// The ops as the server would read them, when it can.
		var req msync.PushRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		parsed := dec.Decode(&req) == nil
		unknown := e.unapplied(t, req.Ops)
		head := e.store.ChangeHead()

		hdr := map[string]string{"Content-Type": "application/json"}
		if binary {
			hdr["Accept"] = msync.PushMediaType
		}
		rec := e.serve(t, context.Background(), st, http.MethodPost, "/api/sync/push", "", body, hdr)
		input := fmt.Sprintf("push %q as %s (binary %v)", body, st.Username, binary)
		if e.check(t, "push", rec, input) {
			if h := e.store.ChangeHead(); h != head {
				t.Fatalf("push refused with %d, but the change feed moved from %d to %d: %s", rec.Code, head, h, input)
			}
			if still := e.unapplied(t, req.Ops); len(still) != len(unknown) {
				t.Fatalf("push refused with %d, but %d of its ops are remembered as decided: %s", rec.Code, len(unknown)-len(still), input)
			}
			return
		}
		if !parsed {
			t.Fatalf("push answered %d to a body that is not a push request: %s", rec.Code, input)
		}
		var resp msync.PushResponse
		if binary {
			if ct := rec.Header().Get("Content-Type"); ct != msync.PushMediaType {
				t.Fatalf("binary push answered with content type %q", ct)
			}
			if err := resp.UnmarshalBinary(rec.Body.Bytes()); err != nil {
				t.Fatalf("binary push answer does not decode: %v (%s)", err, input)
			}
		} else if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("push answer does not decode: %v (%s)", err, input)
		}
		if len(resp.Results) == 0 || len(resp.Results) > len(req.Ops) {
			t.Fatalf("push of %d ops answered with %d results: %s", len(req.Ops), len(resp.Results), input)
		}
		for i, r := range resp.Results {
			if r.ID != req.Ops[i].ID {
				t.Fatalf("result %d is for op %q, want %q: %s", i, r.ID, req.Ops[i].ID, input)
			}
			switch r.Outcome {
			case app.OpApplied, app.OpConflict:
			case app.OpRejected:
				if r.Code == "" || r.Reason == "" {
					t.Fatalf("result %d rejected without code or reason: %+v", i, r)
				}
			default:
				t.Fatalf("result %d: outcome %q", i, r.Outcome)
			}
		}
		fuzzOnlyMine(t, "push", st, resp.State)
	})
}

func FuzzPullRequest(f *testing.F) {
	e := newSyncFuzz(f)
	head := e.store.ChangeHead()
	for _, q := range []string{
		"", "cursor=0", "cursor=0&limit=1", "cursor=3&limit=2000", fmt.Sprintf("cursor=%d", head), fmt.Sprintf("cursor=%d&limit=5", head/2),
		fmt.Sprintf("cursor=%d", head+1000), "limit=0", "limit=2001", "limit=-1", "cursor=-1", "cursor=abc", "cursor=18446744073709551615",
		"cursor=18446744073709551616", "cursor=1&cursor=2", "limit=1&limit=x", "cursor=%zz", "cursor=+1", "cursor=1e3", "limit=1%00",
	} {
		f.Add(q, uint8(0), false)
		f.Add(q, uint8(2), true)
	}
	f.Fuzz(func(t *testing.T, query string, staff uint8, binary bool) {
		st := e.pick(staff)
		before := e.store.ChangeHead()
		hdr := map[string]string{}
		if binary {
			hdr["Accept"] = msync.PullMediaType
		}
		rec := e.serve(t, context.Background(), st, http.MethodGet, "/api/sync/pull", query, nil, hdr)
		input := fmt.Sprintf("pull ?%q as %s (binary %v)", query, st.Username, binary)
		refused := e.check(t, "pull", rec, input)
		if h := e.store.ChangeHead(); h != before {
			t.Fatalf("a pull moved the change feed from %d to %d: %s", before, h, input)
		}
		if refused {
			return
		}
		var resp msync.PullResponse
		if binary {
			if ct := rec.Header().Get("Content-Type"); ct != msync.PullMediaType {
				t.Fatalf("binary pull answered with content type %q", ct)
			}
			if err := resp.UnmarshalBinary(rec.Body.Bytes()); err != nil {
				t.Fatalf("binary pull page does not decode: %v (%s)", err, input)
			}
		} else if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("pull page does not decode: %v (%s)", err, input)
		}
		cur, err1 := storage.ParseCursor(resp.Cursor)
		hd, err2 := storage.ParseCursor(resp.Head)
		if err1 != nil || err2 != nil || resp.Cursor == "" || cur > hd {
			t.Fatalf("pull page with cursor %q and head %q: %s", resp.Cursor, resp.Head, input)
		}
		fuzzOnlyMine(t, "pull", st, &resp.Changes)
	})
}

func FuzzSyncRequest(f *testing.F) {
	e := newSyncFuzz(f)
	head := e.store.ChangeHead()
	var adult string
	for _, r := range e.ds.Residents {
		if r.ID == e.ds.Persona[demo.AdultSMS] {
			adult = r.PNR.String()
		}
	}
	for _, s := range []struct {
		after, ct string
		body      string
	}{
		{"", "application/json", `{"personnummer":"` + adult + `"}`},
		{"0", "", `{"personnummer":"200001012384"}`},
		{fmt.Sprint(head), "application/json; charset=utf-8", `{"personnummer":"20000101-2392"}`},
		{fmt.Sprint(head + 1), "application/json", `{"personnummer":"000102-2383"}`},
		{"-1", "text/plain", `{"personnummer":"200001012384"}`},
		{"x", "application/json", `{"personnummer":""}`},
		{"18446744073709551615", "application/json", `{"personnummer":200001012384}`},
		{"1e9", "application/json", `{"personnummer":"200001012384","extra":true}`},
		{" 1", "application/json;;", `{"personnummer":"200001012384"} {}`},
		{"", "application/json", `{"personnummer":"20000101+2384"}`},
		{"", "application/json", `{"personnummer":"200001032390 "}`},
		{"", "application/json", `null`},
		{"", "application/json", ``},
	} {
		for sel := uint8(0); sel < 3; sel++ {
			f.Add(s.after, sel, s.ct, []byte(s.body))
		}
	}
	clinics := []string{string(e.ds.Clinics[0].ID), string(e.ds.Clinics[1].ID), "no-such-clinic"}
	f.Fuzz(func(t *testing.T, after string, sel uint8, contentType string, body []byte) {
		st := e.pick(sel / 3)
		before := e.store.ChangeHead()

		// Events: a caller that is up to date would wait EventsWait
		// seconds; the request's context has ended already, so the
		// answer is the head at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := e.serve(t, ctx, st, http.MethodGet, "/api/sync/events", "after="+after, nil, nil)
		input := fmt.Sprintf("events ?after=%q as %s", after, st.Username)
		if !e.check(t, "events", rec, input) {
			var ev msync.EventsResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &ev); err != nil {
				t.Fatalf("events answer does not decode: %v (%s)", err, input)
			}
			h, err := storage.ParseCursor(ev.Head)
			a, _ := storage.ParseCursor(after)
			if err != nil || h != before || ev.Changed != (h > a) {
				t.Fatalf("events answer %+v with head %d: %s", ev, before, input)
			}
		}
		if h := e.store.ChangeHead(); h != before {
			t.Fatalf("an events poll moved the change feed from %d to %d: %s", before, h, input)
		}

		// Lookup of a resident never seen on the desktop.
		clinic := clinics[int(sel)%len(clinics)]
		hdr := map[string]string{}
		if contentType != "" {
			hdr["Content-Type"] = contentType
		}
		rec = e.serve(t, context.Background(), st, http.MethodPost, "/api/sync/clinics/"+clinic+"/residents/lookup", "", body, hdr)
		input = fmt.Sprintf("lookup %q (content type %q) in clinic %s as %s", body, contentType, clinic, st.Username)
		if e.check(t, "lookup", rec, input) {
			if h := e.store.ChangeHead(); h != before {
				t.Fatalf("lookup refused with %d, but the change feed moved from %d to %d: %s", rec.Code, before, h, input)
			}
			return
		}
		var lr msync.LookupResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil {
			t.Fatalf("lookup answer does not decode: %v (%s)", err, input)
		}
		if len(lr.Residents) == 0 || string(lr.Residents[0].ID) != lr.ResidentID || !st.InClinic(app.ID(clinic)) {
			t.Fatalf("lookup answer %s: %s", rec.Body.String(), input)
		}
		fuzzOnlyMine(t, "lookup", st, &app.SyncChanges{Residents: lr.Residents})
	})
}
