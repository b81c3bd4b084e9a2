package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	msync "mottagning/sync"
	"mottagning/sync/wire"
)

// One door (issue 13): what the staff API refuses, a desktop's sync op
// is refused too, with the same rule from app/, and nothing is stored.

// doorEnv is a server with helpers to push ops as a demo staff member.
type doorEnv struct {
	*env
}

func newDoorEnv(t *testing.T) *doorEnv { return &doorEnv{newEnv(t)} }

func (d *doorEnv) push(key string, ops ...app.SyncOp) []app.OpResult {
	d.t.Helper()
	resp, err := d.c.SyncPush(d.ctx, d.staff(key), &msync.PushRequest{Ops: ops})
	if err != nil {
		d.t.Fatalf("push: %v", err)
	}
	if len(resp.Results) != len(ops) {
		d.t.Fatalf("push answered %d of %d ops", len(resp.Results), len(ops))
	}
	return resp.Results
}

func op(kind app.OpKind, caseID app.ID, base uint64, payload any) app.SyncOp {
	var p json.RawMessage
	if payload != nil {
		p, _ = json.Marshal(payload)
	}
	return app.SyncOp{ID: app.NewOpID(), Kind: kind, CaseID: caseID, Base: base, Payload: p, MadeAt: time.Now()}
}

// caseOf finds a demo case of clinic i matching keep.
func (d *doorEnv) caseOf(i int, keep func(c *app.Case) bool) app.Case {
	d.t.Helper()
	for _, th := range d.ds.Threads {
		c, err := d.store.Case(d.ctx, th.Case.ID)
		if err != nil {
			d.t.Fatal(err)
		}
		if c.ClinicID == d.ds.Clinics[i].ID && keep(c) {
			return *c
		}
	}
	d.t.Fatal("no such demo case")
	return app.Case{}
}

// Finding 5: an ärendehanterare could assign any unassigned case to
// themselves through sync while the staff API refused it. Now both doors
// refuse, with the same rule (only an ärendemottagare assigns; an
// ärendehanterare does not see unassigned cases), and nothing changes.
func TestOneDoor_HandlerCannotTakeUnassignedCaseThroughSync(t *testing.T) {
	d := newDoorEnv(t)
	handler := d.ds.StaffBy[demo.StaffHandler]
	c := d.caseOf(0, func(c *app.Case) bool { return c.AssigneeID == "" && c.Status == app.StatusNew })

	_, err := d.c.Assign(d.ctx, d.staff(demo.StaffHandler), d.clinic(0), string(c.ID), string(handler))
	wantCode(t, err, "forbidden")

	res := d.push(demo.StaffHandler, op(app.OpCaseAssign, c.ID, c.Version, app.AssignChange{AssigneeID: handler}))
	if res[0].Outcome != app.OpRejected || res[0].Code != "forbidden" {
		t.Fatalf("sync assign by ärendehanterare: %+v", res[0])
	}
	after, err := d.store.Case(d.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.AssigneeID != "" || after.Version != c.Version {
		t.Fatalf("case changed: assignee %q version %d→%d", after.AssigneeID, c.Version, after.Version)
	}
	// The ärendemottagare may, through either door.
	res = d.push(demo.StaffReceiver, op(app.OpCaseAssign, c.ID, c.Version, app.AssignChange{AssigneeID: handler}))
	if res[0].Outcome != app.OpApplied {
		t.Fatalf("sync assign by ärendemottagare: %+v", res[0])
	}
}

// Finding 5: an access.record op was accepted with any time and any
// action. Now the server checks it as the desktop's own log would: the
// caller's entry, a known action, a time that can be true, a case of that
// clinic and resident.
func TestOneDoor_AccessRecordChecked(t *testing.T) {
	d := newDoorEnv(t)
	recv := d.ds.StaffBy[demo.StaffReceiver]
	c := d.caseOf(0, func(*app.Case) bool { return true })
	other := d.caseOf(1, func(*app.Case) bool { return true })
	now := d.clock.Now()
	entry := func(mod func(e *app.AccessEntry)) app.SyncOp {
		e := app.AccessEntry{ID: app.NewID(now), At: now.Add(-time.Hour), StaffID: recv, ClinicID: c.ClinicID,
			ResidentID: c.ResidentID, CaseID: c.ID, Action: app.AccessOpenCase}
		mod(&e)
		return op(app.OpAccessRecord, e.CaseID, 0, &e)
	}
	cases := []struct {
		name string
		op   app.SyncOp
		code string
	}{
		{"year 2001", entry(func(e *app.AccessEntry) { e.At = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) }), "invalid"},
		{"year 2099", entry(func(e *app.AccessEntry) { e.At = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) }), "invalid"},
		{"no time", entry(func(e *app.AccessEntry) { e.At = time.Time{} }), "invalid"},
		{"action hacked", entry(func(e *app.AccessEntry) { e.Action = "hacked" }), "invalid"},
		{"another staff member", entry(func(e *app.AccessEntry) { e.StaffID = d.ds.StaffBy[demo.StaffHandler] }), "forbidden"},
		{"case of another clinic", entry(func(e *app.AccessEntry) {
			e.CaseID, e.ResidentID = other.ID, other.ResidentID
		}), "invalid"},
		{"case of another resident", entry(func(e *app.AccessEntry) { e.ResidentID = other.ResidentID }), "invalid"},
		{"NUL in the id", entry(func(e *app.AccessEntry) { e.ID = "a\x00b" }), "invalid"},
	}
	before := d.logCount(c.ClinicID)
	for _, tc := range cases {
		res := d.push(demo.StaffReceiver, tc.op)
		if res[0].Outcome != app.OpRejected || res[0].Code != tc.code {
			t.Errorf("%s: %+v, want rejected %s", tc.name, res[0], tc.code)
		}
	}
	if n := d.logCount(c.ClinicID); n != before {
		t.Fatalf("refused entries were stored: %d → %d", before, n)
	}
	if res := d.push(demo.StaffReceiver, entry(func(*app.AccessEntry) {})); res[0].Outcome != app.OpApplied {
		t.Fatalf("a true entry: %+v", res[0])
	}
	if n := d.logCount(c.ClinicID); n != before+1 {
		t.Fatalf("the true entry: %d → %d", before, n)
	}
}

func (d *doorEnv) logCount(clinic app.ID) int {
	d.t.Helper()
	es, err := d.store.Entries(d.ctx, clinic, time.Time{}, d.clock.Now().Add(24*time.Hour))
	if err != nil {
		d.t.Fatal(err)
	}
	return len(es)
}

// Finding 4: NUL and U+202E (right-to-left override) in subjects, texts
// and notes were stored through sync. Now every door refuses them with
// the same check (app.CheckLine, CheckMultiline), and nothing is stored.
func TestOneDoor_ControlCharactersRefusedOnEveryDoor(t *testing.T) {
	d := newDoorEnv(t)
	recv := d.ds.StaffBy[demo.StaffReceiver]
	c := d.caseOf(0, func(c *app.Case) bool { return c.Status != app.StatusClosed })
	bad := []string{"Hej\x00då", "Faktura \u202Efdp.exe", "Hej\u2066dolt\u2069", "Hej\x1b[31m"}
	now := d.clock.Now()
	before, err := d.store.Thread(d.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range bad {
		m := app.Message{ID: app.NewID(now), CaseID: c.ID, Author: app.AuthorStaff, AuthorID: recv, At: now, Text: text}
		n := app.Note{ID: app.NewID(now), CaseID: c.ID, StaffID: recv, At: now, Text: text}
		res := d.push(demo.StaffReceiver, op(app.OpCaseMessage, c.ID, c.Version, &m), op(app.OpCaseNote, c.ID, c.Version, &n))
		for i, r := range res {
			if r.Outcome != app.OpRejected || r.Code != "invalid" {
				t.Errorf("%q op %d: %+v", text, i, r)
			}
		}
		_, err := d.c.Reply(d.ctx, d.staff(demo.StaffReceiver), d.clinic(0), string(c.ID), text)
		wantCode(t, err, "invalid")
		_, err = d.c.AddNote(d.ctx, d.staff(demo.StaffReceiver), d.clinic(0), string(c.ID), text)
		wantCode(t, err, "invalid")
	}
	after, err := d.store.Thread(d.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Messages) != len(before.Messages) || len(after.Notes) != len(before.Notes) {
		t.Fatalf("stored: messages %d→%d, notes %d→%d", len(before.Messages), len(after.Messages), len(before.Notes), len(after.Notes))
	}

	// A new case whose subject hides a direction override.
	tpl := d.templateOf(0, app.KindQuestion)
	resident := d.persona(demo.AdultSMS)
	for _, subject := range []string{"Provsvar \u202Efdp.exe", "Prov\x00svar", "Två\nrader"} {
		id := app.NewID(now)
		th := app.Thread{Case: app.Case{ID: id, ClinicID: d.ds.Clinics[0].ID, ResidentID: resident.ID, Kind: app.KindQuestion,
			TemplateID: app.ID(tpl), Subject: subject, StartedBy: app.StartedByClinic, CreatedAt: now, LastActivity: now, Status: app.StatusWaiting},
			Messages: []app.Message{{ID: app.NewID(now), CaseID: id, Author: app.AuthorStaff, AuthorID: recv, At: now, Text: "Hej"}}}
		res := d.push(demo.StaffReceiver, op(app.OpCaseCreate, id, 0, &th))
		if res[0].Outcome != app.OpRejected || res[0].Code != "invalid" {
			t.Errorf("create with subject %q: %+v", subject, res[0])
		}
		if _, err := d.store.Case(d.ctx, id); err == nil {
			t.Errorf("create with subject %q: stored", subject)
		}
		_, err := d.c.SendCase(d.ctx, d.staff(demo.StaffReceiver), d.clinic(0), client.SendCaseRequest{TemplateID: tpl, ResidentID: string(resident.ID), Subject: subject, Text: "Hej"})
		wantCode(t, err, "invalid")
	}
	// Ordinary text with line breaks, tabs, a soft hyphen and emoji is fine.
	ok := "Hej!\n\nVälkommen\ttill mottag\u00adningen 👩\u200d⚕️"
	if _, err := d.c.Reply(d.ctx, d.staff(demo.StaffReceiver), d.clinic(0), string(c.ID), ok); err != nil {
		t.Fatalf("ordinary text refused: %v", err)
	}
	if strings.ContainsRune(ok, 0) {
		t.Fatal("test text")
	}
}

// The access log of a clinic through sync: its granskare only (the
// one rule of app.AuditService), nobody of another clinic.
func TestOneDoor_AccessLogForTheGranskareOnly(t *testing.T) {
	d := newDoorEnv(t)
	c := d.caseOf(0, func(*app.Case) bool { return true })
	if _, err := d.c.OpenCase(d.ctx, d.staff(demo.StaffReceiver), d.clinic(0), string(c.ID)); err != nil {
		t.Fatal(err)
	}
	body := wire.AccessLogRequest{From: d.clock.Now().Add(-24 * time.Hour), To: d.clock.Now().Add(time.Hour)}
	for _, key := range []string{demo.StaffReceiver, demo.StaffHandler, demo.StaffLocalAdmin, demo.StaffPermAdmin} {
		_, err := d.c.SyncAccessLog(d.ctx, d.staff(key), d.ds.Clinics[0].ID, body)
		wantCode(t, err, "forbidden")
	}
	// The granskare of Centrum is not Barnmottagningens.
	_, err := d.c.SyncAccessLog(d.ctx, d.staff(demo.StaffAuditor), d.ds.Clinics[1].ID, body)
	wantCode(t, err, "forbidden")
	resp, err := d.c.SyncAccessLog(d.ctx, d.staff(demo.StaffAuditor), d.ds.Clinics[0].ID, body)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Rows) != 1 || resp.Rows[0].Entry.CaseID != string(c.ID) || resp.Rows[0].Entry.Action != wire.AccessOpenCase {
		t.Fatalf("rows for the granskare: %+v", resp.Rows)
	}
	// A period over a year, a bad personnummer: clear refusals.
	long := body
	long.From = long.To.AddDate(-2, 0, 0)
	_, err = d.c.SyncAccessLog(d.ctx, d.staff(demo.StaffAuditor), d.ds.Clinics[0].ID, long)
	wantCode(t, err, "invalid")
	bad := body
	bad.PNR = "19121212-1213"
	_, err = d.c.SyncAccessLog(d.ctx, d.staff(demo.StaffAuditor), d.ds.Clinics[0].ID, bad)
	wantCode(t, err, "invalid")
}
