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

// The log extract for one resident and the chain check, on the real store
// after real service calls.

func TestLogExtract_ListsExactlyTheResidentsAccesses(t *testing.T) {
	f := newFixture(t)
	opened, sent := f.accesses(t)
	// A second open of the same case, a minute later, and an access to the
	// child from the other clinic, which no extract of Centrum shows.
	f.now = f.now.Add(time.Minute)
	if _, err := f.cases.OpenCase(f.ctx, f.session(demo.StaffReceiver, 0), opened.ID); err != nil {
		t.Fatal(err)
	}
	david := f.session(demo.StaffLocalAdmin, 1)
	if _, err := app.NewGuardianService(f.store, app.FixedClock(f.now)).ChildGuardians(f.ctx, david, f.resident(demo.Child12y11m).PNR); err != nil {
		t.Fatal(err)
	}
	maria, lars := f.resident(demo.AdultBoth), f.resident(demo.AdultEmail)
	anna, bjorn := f.ds.StaffBy[demo.StaffReceiver], f.ds.StaffBy[demo.StaffHandler]
	type access struct {
		at       time.Time
		staff    app.ID
		action   app.AccessAction
		resident app.ID
		caseID   app.ID
	}
	made := []access{ // oldest first, as accesses() and the lines above made them
		{seedTime, anna, app.AccessOpenCase, opened.ResidentID, opened.ID},
		{seedTime.Add(time.Minute), anna, app.AccessLookupResident, maria.ID, ""},
		{seedTime.Add(2 * time.Minute), bjorn, app.AccessSend, lars.ID, sent.ID},
		{seedTime.Add(3 * time.Minute), anna, app.AccessOpenCase, opened.ResidentID, opened.ID},
	}
	openedRes, err := f.store.Resident(f.ctx, opened.ResidentID)
	if err != nil {
		t.Fatal(err)
	}
	centrum := f.ds.Clinics[0]
	granskare := f.session(demo.StaffAuditor, 0)
	d := app.DateIn(seedTime)
	f.now = f.now.Add(time.Minute)
	for _, r := range []*app.Resident{openedRes, maria, lars, f.resident(demo.Child12y11m)} {
		x, err := f.audit().Extract(f.ctx, granskare, r.PNR, d, d.AddDate(0, 0, 1))
		if err != nil {
			t.Fatalf("extract of %s: %v", r.Register.FullName(), err)
		}
		var want []access
		for _, a := range made {
			if a.resident == r.ID {
				want = append(want, a)
			}
		}
		if x.ResidentName != r.Register.FullName() || x.PNR != r.PNR || x.ClinicName != centrum.Name || x.ClinicID != centrum.ID ||
			x.MadeBy != "Fredrik Nordin" || x.MadeByTitle != "Informationssäkerhet" || !x.MadeAt.Equal(f.now) ||
			!x.From.Equal(d) || !x.To.Equal(d.AddDate(0, 0, 1)) {
			t.Errorf("extract of %s: header %+v", r.Register.FullName(), x)
		}
		if len(x.Rows) != len(want) {
			t.Fatalf("extract of %s: %d rows, want %d: %+v", r.Register.FullName(), len(x.Rows), len(want), x.Rows)
		}
		for i, w := range want {
			row := x.Rows[i]
			st, err := f.store.Staff(f.ctx, w.staff)
			if err != nil {
				t.Fatal(err)
			}
			if !row.At.Equal(w.at) || row.StaffID != w.staff || row.Action != w.action || row.ActionLabel != w.action.Label() ||
				row.ResidentID != r.ID || row.CaseID != w.caseID || row.ClinicID != centrum.ID || row.ClinicName != centrum.Name ||
				row.StaffName != st.Name || row.StaffTitle != st.Title || row.StaffTitle == "" {
				t.Errorf("extract of %s, row %d = %+v, want %+v", r.Register.FullName(), i, row, w)
			}
		}
	}

	// Each extract was recorded as an export by the granskare, for that
	// resident, without a case; the next extract of Maria shows the first.
	rows, err := f.audit().Entries(f.ctx, granskare, app.AuditQuery{From: d, To: d.AddDate(0, 0, 1), StaffID: f.ds.StaffBy[demo.StaffAuditor]})
	if err != nil {
		t.Fatal(err)
	}
	exported := map[app.ID]int{}
	for _, r := range rows {
		if r.Action != app.AccessExport || r.CaseID != "" || !r.At.Equal(f.now) {
			t.Errorf("granskare's entry %+v, want an export now", r)
		}
		exported[r.ResidentID]++
	}
	if len(rows) != 4 || exported[maria.ID] != 1 || exported[lars.ID] != 1 || exported[openedRes.ID] != 1 {
		t.Errorf("recorded exports %v (%d rows), want one per extract", exported, len(rows))
	}
	x, err := f.audit().Extract(f.ctx, granskare, maria.PNR, d, d.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Rows) != 2 || x.Rows[1].Action != app.AccessExport || x.Rows[1].StaffName != "Fredrik Nordin" {
		t.Errorf("second extract of Maria: %+v, want the lookup and the first extract", x.Rows)
	}
}

func TestLogExtract_Refusals(t *testing.T) {
	f := newFixture(t)
	f.accesses(t)
	maria := f.resident(demo.AdultBoth)
	d := app.DateIn(seedTime)
	count := func() int {
		t.Helper()
		rows, err := f.audit().Entries(f.ctx, f.session(demo.StaffAuditor, 0), app.AuditQuery{From: d, To: d.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}
	before := count()
	for _, c := range []struct {
		name      string
		sess      app.Session
		pnr       personnummer.Number
		from, to  time.Time
		wantError error
	}{
		{"ärendemottagare", f.session(demo.StaffReceiver, 0), maria.PNR, d, d.AddDate(0, 0, 1), app.ErrForbidden},
		{"lokal administratör", f.session(demo.StaffLocalAdmin, 0), maria.PNR, d, d.AddDate(0, 0, 1), app.ErrForbidden},
		{"granskare in another clinic", f.session(demo.StaffAuditor, 1), maria.PNR, d, d.AddDate(0, 0, 1), app.ErrForbidden},
		{"no session", app.Session{ClinicID: f.ds.Clinics[0].ID}, maria.PNR, d, d.AddDate(0, 0, 1), app.ErrForbidden},
		{"no personnummer", f.session(demo.StaffAuditor, 0), personnummer.Number{}, d, d.AddDate(0, 0, 1), app.ErrInvalid},
		{"no period", f.session(demo.StaffAuditor, 0), maria.PNR, time.Time{}, d, app.ErrInvalid},
		{"backwards", f.session(demo.StaffAuditor, 0), maria.PNR, d, d.AddDate(0, 0, -1), app.ErrInvalid},
		{"over a year", f.session(demo.StaffAuditor, 0), maria.PNR, d.AddDate(-1, 0, -1), d, app.ErrInvalid},
		{"nobody with the number", f.session(demo.StaffAuditor, 0), unusedPNR(t, f), d, d.AddDate(0, 0, 1), app.ErrNotFound},
	} {
		x, err := f.audit().Extract(f.ctx, c.sess, c.pnr, c.from, c.to)
		if !errors.Is(err, c.wantError) || x != nil {
			t.Errorf("%s: %v, %v; want %v", c.name, x, err, c.wantError)
		}
		if err != nil && !c.pnr.IsZero() && containsPNR(err.Error(), c.pnr) {
			t.Errorf("%s: the error names the personnummer: %v", c.name, err)
		}
	}
	if after := count(); after != before {
		t.Errorf("refused extracts recorded %d entries", after-before)
	}
}

// unusedPNR is a valid personnummer of nobody in the demo register.
func unusedPNR(t *testing.T, f *fixture) personnummer.Number {
	t.Helper()
	for _, s := range []string{"19121212-1212", "19800101-0019", "19900101-0017"} {
		n, err := personnummer.ParseAt(s, f.now)
		if err != nil {
			continue
		}
		if _, err := f.store.ResidentByPNR(f.ctx, n); errors.Is(err, app.ErrNotFound) {
			return n
		}
	}
	t.Fatal("no unused personnummer")
	return personnummer.Number{}
}

func containsPNR(s string, n personnummer.Number) bool {
	return strings.Contains(s, n.String()) || strings.Contains(strings.ReplaceAll(s, "-", ""), strings.ReplaceAll(n.String(), "-", ""))
}

func TestVerifyLog_IntactAndGranskareOnly(t *testing.T) {
	f := newFixture(t)
	f.accesses(t)
	rep, err := f.audit().Verify(f.ctx, f.session(demo.StaffAuditor, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Entries < 3 || rep.Last != uint64(rep.Entries) || rep.Anchor != 0 {
		t.Errorf("report %+v, want a whole chain with at least the 3 accesses", rep)
	}
	for _, key := range []string{demo.StaffReceiver, demo.StaffLocalAdmin, demo.StaffPermAdmin} {
		if _, err := f.audit().Verify(f.ctx, f.session(key, 0)); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", key, err)
		}
	}
}
