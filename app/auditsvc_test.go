package app_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
)

// The access-log view (patientdatalagen 4 kap.): entries written by the
// real services, read back by a granskare through AuditService.

// accesses makes three logged accesses in Vårdcentralen Centrum, a minute
// apart: Anna opens a case, Anna looks up Maria Karlsson, Björn sends to
// Lars Andersson. It returns the opened case and the sent one.
func (f *fixture) accesses(t *testing.T) (opened app.CaseRow, sent *app.Case) {
	t.Helper()
	anna := f.session(demo.StaffReceiver, 0)
	page, err := f.cases.ClinicCases(f.ctx, anna, app.CaseQuery{Limit: 1})
	if err != nil || len(page.Rows) == 0 {
		t.Fatalf("clinic cases: %v", err)
	}
	opened = page.Rows[0]
	if _, err := f.cases.OpenCase(f.ctx, anna, opened.ID); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := f.cases.LookupResident(f.ctx, anna, f.resident(demo.AdultBoth).PNR); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	sent, err = f.send(f.session(demo.StaffHandler, 0), demo.AdultEmail, app.KindQuestion)
	if err != nil {
		t.Fatal(err)
	}
	return opened, sent
}

func (f *fixture) audit() *app.AuditService {
	return app.NewAuditService(f.store, app.ClockFunc(func() time.Time { return f.now }))
}

// day is the query for the seed day.
func day() app.AuditQuery {
	d := app.DateIn(seedTime)
	return app.AuditQuery{From: d, To: d.AddDate(0, 0, 1)}
}

func TestAuditLog_ShowsWhatRealServiceCallsRecorded(t *testing.T) {
	f := newFixture(t)
	opened, sent := f.accesses(t)
	rows, err := f.audit().Entries(f.ctx, f.session(demo.StaffAuditor, 0), day())
	if err != nil {
		t.Fatal(err)
	}
	maria, lars := f.resident(demo.AdultBoth), f.resident(demo.AdultEmail)
	var openedName string
	for _, r := range f.ds.Residents {
		if r.ID == opened.ResidentID {
			openedName = r.Register.FullName()
		}
	}
	centrum := f.ds.Clinics[0]
	want := []struct {
		at       time.Time
		staff    app.ID
		name     string
		action   app.AccessAction
		resident app.ID
		resName  string
		pnr      personnummer.Number
		caseID   app.ID
	}{ // newest first
		{seedTime.Add(2 * time.Minute), f.ds.StaffBy[demo.StaffHandler], "Björn Ekström", app.AccessSend, lars.ID, "Lars Andersson", lars.PNR, sent.ID},
		{seedTime.Add(time.Minute), f.ds.StaffBy[demo.StaffReceiver], "Anna Lindqvist", app.AccessLookupResident, maria.ID, "Maria Karlsson", maria.PNR, ""},
		{seedTime, f.ds.StaffBy[demo.StaffReceiver], "Anna Lindqvist", app.AccessOpenCase, opened.ResidentID, openedName, opened.PNR, opened.ID},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if !r.At.Equal(w.at) || r.StaffID != w.staff || r.StaffName != w.name || r.Action != w.action ||
			r.ActionLabel != w.action.Label() || r.ResidentID != w.resident || r.ResidentName != w.resName ||
			r.PNR != w.pnr || r.CaseID != w.caseID || r.ClinicID != centrum.ID || r.ClinicName != centrum.Name {
			t.Errorf("row %d = %+v\nwant %+v", i, r, w)
		}
		// Issue 18, item 4: the case by its subject.
		var subject string
		if w.caseID != "" {
			c, err := f.store.Case(f.ctx, w.caseID)
			if err != nil {
				t.Fatal(err)
			}
			subject = c.Subject
		}
		if r.CaseSubject != subject {
			t.Errorf("row %d: case subject %q, want %q", i, r.CaseSubject, subject)
		}
	}
	// The other clinic's log holds none of it (and Fredrik has no role there).
	david := f.session(demo.StaffLocalAdmin, 1)
	if _, err := app.NewGuardianService(f.store, app.FixedClock(f.now)).ChildGuardians(f.ctx, david, f.resident(demo.Child12y11m).PNR); err != nil {
		t.Fatal(err)
	}
	if rows, err := f.audit().Entries(f.ctx, f.session(demo.StaffAuditor, 0), day()); err != nil || len(rows) != 3 {
		t.Errorf("after a lookup in the other clinic: %d rows (%v), want still 3", len(rows), err)
	}
}

func TestAuditLog_FiltersByStaffAndResident(t *testing.T) {
	f := newFixture(t)
	opened, _ := f.accesses(t)
	svc, sess := f.audit(), f.session(demo.StaffAuditor, 0)

	q := day()
	q.StaffID = f.ds.StaffBy[demo.StaffReceiver]
	rows, err := svc.Entries(f.ctx, sess, q)
	if err != nil || len(rows) != 2 {
		t.Fatalf("Anna's entries: %d (%v), want 2", len(rows), err)
	}
	for _, r := range rows {
		if r.StaffID != q.StaffID {
			t.Errorf("staff filter let through %+v", r)
		}
	}

	q = day()
	q.PNR = f.resident(demo.AdultEmail).PNR
	rows, err = svc.Entries(f.ctx, sess, q)
	if err != nil || len(rows) != 1 || rows[0].Action != app.AccessSend {
		t.Fatalf("Lars's entries: %+v (%v), want the one send", rows, err)
	}

	// Both filters: Björn never touched the opened case's resident.
	q.PNR, q.StaffID = opened.PNR, f.ds.StaffBy[demo.StaffHandler]
	if opened.ResidentID != f.ds.Persona[demo.AdultEmail] {
		if rows, err = svc.Entries(f.ctx, sess, q); err != nil || len(rows) != 0 {
			t.Errorf("Björn and the opened case's resident: %+v (%v), want none", rows, err)
		}
	}

	// A personnummer of nobody in the register: no rows, no error.
	q = day()
	q.PNR = unknownPNR(t, f)
	if rows, err = svc.Entries(f.ctx, sess, q); err != nil || len(rows) != 0 {
		t.Errorf("unknown personnummer: %+v (%v), want no rows and no error", rows, err)
	}
}

// unknownPNR is a Skatteverket test number no demo resident has.
func unknownPNR(t *testing.T, f *fixture) personnummer.Number {
	t.Helper()
	used := map[personnummer.Number]bool{}
	for _, r := range f.ds.Residents {
		used[r.PNR] = true
	}
	for _, n := range demo.TestNumbers() {
		if !used[n] {
			return n
		}
	}
	t.Fatal("every test number is in use")
	return personnummer.Number{}
}

func TestAuditLog_PeriodIsHalfOpenAndAtMostAYear(t *testing.T) {
	f := newFixture(t)
	f.accesses(t) // at seedTime, +1 and +2 minutes
	svc, sess := f.audit(), f.session(demo.StaffAuditor, 0)
	count := func(from, to time.Time) (int, error) {
		rows, err := svc.Entries(f.ctx, sess, app.AuditQuery{From: from, To: to})
		return len(rows), err
	}
	if n, err := count(seedTime, seedTime.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("[t, t+1m): %d (%v), want 1: From is in, To is out", n, err)
	}
	if n, err := count(seedTime.Add(-time.Hour), seedTime); err != nil || n != 0 {
		t.Errorf("[t-1h, t): %d (%v), want 0", n, err)
	}
	from := app.DateIn(seedTime).AddDate(-1, 0, 1)
	if n, err := count(from, from.AddDate(1, 0, 0)); err != nil || n != 3 {
		t.Errorf("exactly one year: %d (%v), want 3", n, err)
	}
	for name, q := range map[string]app.AuditQuery{
		"no period":       {},
		"no end":          {From: seedTime},
		"no start":        {To: seedTime},
		"empty":           {From: seedTime, To: seedTime},
		"backwards":       {From: seedTime, To: seedTime.Add(-time.Hour)},
		"a year and more": {From: from, To: from.AddDate(1, 0, 0).Add(time.Second)},
	} {
		if _, err := svc.Entries(f.ctx, sess, q); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// Role table: only a granskare reads the access log, and only of a clinic
// where they are granskare.
func TestAuditLog_OnlyTheClinicsGranskare(t *testing.T) {
	f := newFixture(t)
	f.accesses(t)
	svc := f.audit()
	for _, c := range []struct {
		staff  string
		clinic int
	}{
		{demo.StaffReceiver, 0}, {demo.StaffHandler, 0}, {demo.StaffLocalAdmin, 0},
		{demo.StaffPermAdmin, 0}, {demo.StaffContact, 0}, {demo.StaffAuditor, 1},
	} {
		rows, err := svc.Entries(f.ctx, f.session(c.staff, c.clinic), day())
		if !errors.Is(err, app.ErrForbidden) || rows != nil {
			t.Errorf("%s in clinic %d: %d rows, err %v; want ErrForbidden", c.staff, c.clinic, len(rows), err)
		}
	}
	// A disabled granskare reads nothing either.
	sess := f.session(demo.StaffAuditor, 0)
	sess.Staff.Disabled = true
	if _, err := svc.Entries(f.ctx, sess, day()); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("disabled granskare: err = %v", err)
	}
}

// The errors of the new services never carry a name or personnummer.
func TestStaffToolErrorsNeverCarryPersonalData(t *testing.T) {
	f := newFixture(t)
	child := f.resident(demo.Child12y11m)
	q := day()
	q.PNR = child.PNR
	var errs []error
	_, err := f.audit().Entries(f.ctx, f.session(demo.StaffReceiver, 0), q)
	errs = append(errs, err)
	q.To = q.From
	_, err = f.audit().Entries(f.ctx, f.session(demo.StaffAuditor, 0), q)
	errs = append(errs, err)
	gs := app.NewGuardianService(f.store, app.FixedClock(f.now))
	_, err = gs.ChildGuardians(f.ctx, f.session(demo.StaffReceiver, 0), child.PNR)
	errs = append(errs, err)
	_, err = gs.ChildGuardians(f.ctx, f.session(demo.StaffLocalAdmin, 0), unknownPNR(t, f))
	errs = append(errs, err)
	err = gs.SetBlocked(f.ctx, f.session(demo.StaffLocalAdmin, 0), child.ID, f.ds.Persona[demo.AdultSMS], true)
	errs = append(errs, err)
	staff := app.NewStaffService(f.store, app.FixedClock(f.now))
	err = staff.SetRoles(f.ctx, f.session(demo.StaffPermAdmin, 0), f.ds.StaffBy[demo.StaffHandler], []app.Role{"Björn Ekström"})
	errs = append(errs, err)
	err = staff.SetRoles(f.ctx, f.session(demo.StaffHandler, 0), f.ds.StaffBy[demo.StaffHandler], nil)
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: expected an error", i)
		}
		msg := err.Error()
		for _, r := range f.ds.Residents {
			if strings.Contains(msg, r.Register.GivenName) || strings.Contains(msg, r.Register.FamilyName) ||
				(!r.PNR.IsZero() && strings.Contains(msg, r.PNR.String()[:8])) {
				t.Errorf("error %q carries a resident's name or personnummer", msg)
			}
		}
		for _, st := range f.ds.Staff {
			if strings.Contains(msg, st.Name) {
				t.Errorf("error %q carries a staff member's name", msg)
			}
		}
	}
}
