package app_test

import (
	"context"
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

// recordingStore notes what the services record in the access log.
type recordingStore struct {
	app.Store
	recorded []app.AccessEntry
}

func (s *recordingStore) Record(ctx context.Context, e app.AccessEntry) error {
	if err := s.Store.Record(ctx, e); err != nil {
		return err
	}
	s.recorded = append(s.recorded, e)
	return nil
}

func (f *fixture) residentsOver(st app.Store) *app.ResidentService {
	return app.NewResidentService(st, app.ClockFunc(func() time.Time { return f.now }))
}

// R2, patientdatalagen 8 kap. 1 §: a resident's own log extract lists
// every access staff of any clinic made to their data — and nobody
// else's — with the staff member's name and title and the clinic, the
// same rows a granskare's extract of each clinic gives. Making it is
// recorded (no staff member, no clinic), after the read.
func TestR2_ResidentLogExtractListsOwnAccessesFromEveryClinic(t *testing.T) {
	f := newFixture(t)
	opened, _ := f.accesses(t) // Centrum: Anna opens a case, looks up Maria; Björn sends to Lars
	elsa := f.resident(demo.Child12y11m)
	f.now = f.now.Add(time.Minute)
	// Barnmottagningen: Cecilia opens Elsa's case there.
	cecilia := f.session(demo.StaffChildClinic, 1)
	var elsaCase app.ID
	for _, th := range f.ds.Threads {
		if th.Case.ResidentID == elsa.ID && th.Case.ClinicID == f.ds.Clinics[1].ID && th.Case.Status != app.StatusClosed {
			elsaCase = th.Case.ID
		}
	}
	if _, err := f.cases.OpenCase(f.ctx, cecilia, elsaCase); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	d := app.DateIn(seedTime)
	from, to := d, d.AddDate(0, 0, 1)

	rec := &recordingStore{Store: f.store}
	res := f.residentsOver(rec)
	maria, lars := f.resident(demo.AdultBoth), f.resident(demo.AdultEmail)
	x, err := res.AccessLogExtract(f.ctx, maria.ID, maria.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if x.ResidentID != maria.ID || x.ResidentName != maria.Register.FullName() || x.PNR != maria.PNR || !x.AllClinics ||
		x.ClinicID != "" || x.ClinicName != app.TextExtractAllClinics || x.Proxy || x.MadeBy != app.TextExtractByResident ||
		!x.MadeAt.Equal(f.now) || !x.From.Equal(from) || !x.To.Equal(to) {
		t.Errorf("header %+v", x)
	}
	if len(x.Rows) != 1 || x.Rows[0].Action != app.AccessLookupResident || x.Rows[0].StaffName != "Anna Lindqvist" ||
		x.Rows[0].StaffTitle != "Sjuksköterska" || x.Rows[0].ClinicName != f.ds.Clinics[0].Name || x.Rows[0].ResidentID != maria.ID {
		t.Errorf("Maria's rows %+v, want Anna's lookup", x.Rows)
	}
	if len(rec.recorded) != 1 {
		t.Fatalf("recorded %+v, want one entry", rec.recorded)
	}
	if e := rec.recorded[0]; e.Action != app.AccessExport || e.ResidentID != maria.ID || e.StaffID != "" || e.ClinicID != "" ||
		e.CaseID != "" || !e.At.Equal(f.now) || e.ID == "" {
		t.Errorf("recorded %+v, want an export for Maria by no staff member in no clinic", e)
	}
	// The extract of each resident equals what the granskare of Centrum
	// sees (plus other clinics' rows), and the resident's own earlier
	// extract is not listed: it was no access by staff.
	x2, err := res.AccessLogExtract(f.ctx, lars.ID, lars.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(x2.Rows) != 1 || x2.Rows[0].Action != app.AccessSend || x2.Rows[0].StaffName != "Björn Ekström" {
		t.Errorf("Lars's rows %+v, want Björn's send", x2.Rows)
	}
	if x3, err := res.AccessLogExtract(f.ctx, maria.ID, maria.ID, from, to); err != nil || len(x3.Rows) != 1 {
		t.Errorf("Maria's second extract: %+v, %v: want the same single row", x3, err)
	}
	owner, err := f.store.Resident(f.ctx, opened.ResidentID)
	if err != nil {
		t.Fatal(err)
	}
	if owner.Register.ProtectedIdentity || app.IsChild(owner, f.now) {
		t.Fatal("the opened case's resident cannot fetch an own extract: pick another case")
	}
	staffX, err := f.audit().Extract(f.ctx, f.session(demo.StaffAuditor, 0), owner.PNR, from, to)
	if err != nil {
		t.Fatal(err)
	}
	ownX, err := res.AccessLogExtract(f.ctx, owner.ID, owner.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	// The granskare's extract was itself an access: the resident's own
	// extract, made after it, lists it last.
	if len(ownX.Rows) != len(staffX.Rows)+1 {
		t.Fatalf("own extract %d rows, granskare's %d", len(ownX.Rows), len(staffX.Rows))
	}
	if last := ownX.Rows[len(ownX.Rows)-1]; last.Action != app.AccessExport || last.StaffName != "Fredrik Nordin" || last.ClinicID != f.ds.Clinics[0].ID {
		t.Errorf("last row %+v, want the granskare's extract", last)
	}
	for i := range staffX.Rows {
		a, b := ownX.Rows[i], staffX.Rows[i]
		if !app.SameEntry(&a.AccessEntry, &b.AccessEntry) || a.StaffName != b.StaffName || a.StaffTitle != b.StaffTitle ||
			a.ClinicName != b.ClinicName || a.CaseSubject != b.CaseSubject {
			t.Errorf("row %d: own %+v, granskare's %+v", i, a, b)
		}
		if a.CaseID != "" && (a.CaseSubject == "" || a.CaseSubject != opened.Subject && a.CaseID == opened.ID) {
			t.Errorf("row %d: case %s without its subject %q", i, a.CaseID, a.CaseSubject)
		}
	}
	// R10: the kontaktcenter's lookup and lock are in the resident's own
	// extract, as the region's contact centre.
	contact, _ := f.store.Staff(f.ctx, f.ds.StaffBy[demo.StaffContact])
	cc := app.NewContactCenterService(f.store, app.FixedClock(f.now))
	if _, err := cc.SetLoginLock(f.ctx, contact, app.LockRequest{PNR: lars.PNR.String(), Locked: true, Check: app.CheckBankID, Reason: app.ReasonLostEID}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.SetLoginLock(f.ctx, contact, app.LockRequest{PNR: lars.PNR.String(), Check: app.CheckIDDocument, Reason: app.ReasonResolved}); err != nil {
		t.Fatal(err)
	}
	x4, err := res.AccessLogExtract(f.ctx, lars.ID, lars.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var region int
	for _, r := range x4.Rows {
		if r.ClinicName == app.TextExtractRegion && r.Action == app.AccessLoginLock && r.StaffName == "Greta Lundgren" {
			region++
		}
	}
	if region != 2 {
		t.Errorf("Lars's extract has %d kontaktcenter rows, want 2: %+v", region, x4.Rows)
	}
}

// R5: a guardian of a child under 13 gets the child's extract in proxy
// mode — the child's accesses from both clinics, none of the guardian's.
func TestR5_GuardianGetsChildsLogExtract(t *testing.T) {
	f := newFixture(t)
	elsa := f.resident(demo.Child12y11m)
	ake := f.resident(demo.GuardianNotified)
	// Accesses to Elsa in both clinics and one to Åke.
	if _, err := f.cases.LookupResident(f.ctx, f.session(demo.StaffReceiver, 0), elsa.PNR); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := f.cases.LookupResident(f.ctx, f.session(demo.StaffChildClinic, 1), elsa.PNR); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cases.LookupResident(f.ctx, f.session(demo.StaffReceiver, 0), ake.PNR); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	rec := &recordingStore{Store: f.store}
	d := app.DateIn(seedTime)
	x, err := f.residentsOver(rec).AccessLogExtract(f.ctx, ake.ID, elsa.ID, d, d.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !x.Proxy || x.ResidentID != elsa.ID || x.MadeBy != app.TextExtractByGuardian || len(x.Rows) != 2 {
		t.Fatalf("extract %+v", x)
	}
	if x.Rows[0].ClinicID != f.ds.Clinics[0].ID || x.Rows[1].ClinicID != f.ds.Clinics[1].ID || x.Rows[1].StaffName != "Cecilia Holm" {
		t.Errorf("rows %+v, want Anna's lookup in Centrum and Cecilia's in Barnmottagningen", x.Rows)
	}
	for _, r := range x.Rows {
		if r.ResidentID != elsa.ID {
			t.Errorf("row about someone else: %+v", r)
		}
	}
	if len(rec.recorded) != 1 || rec.recorded[0].ResidentID != elsa.ID {
		t.Errorf("recorded %+v, want the child's extract", rec.recorded)
	}
}

// Who gets no extract (R2 another resident, R7 protected identity on
// either side, R8 from the 13th birthday, a blocked guardian, R10 a locked
// login, a child nobody activated) and a bad period: refused, nothing
// recorded, no personnummer in the error.
func TestR7_ResidentLogExtractRefusals(t *testing.T) {
	f := newFixture(t)
	d := app.DateIn(seedTime)
	day := []time.Time{d, d.AddDate(0, 0, 1)}
	id := func(key string) app.ID { return f.resident(key).ID }
	hugo := f.resident(demo.ChildTurns13)
	rec := &recordingStore{Store: f.store}
	res := f.residentsOver(rec)
	for _, c := range []struct {
		name         string
		actor, owner app.ID
		period       []time.Time
		at           time.Time
		want         error
	}{
		{"R2 another resident", id(demo.AdultEmail), id(demo.AdultSMS), day, seedTime, app.ErrProxyNotAllowed},
		{"R2 someone not in the register", id(demo.AdultEmail), app.NewID(seedTime), day, seedTime, app.ErrForbidden},
		{"R7 guardian with protected identity", id(demo.GuardianProtected), id(demo.ChildProtectedGuard), day, seedTime, app.ErrProxyNotAllowed},
		{"R7 child with protected identity", id(demo.GuardianOfProtected), id(demo.ChildProtected), day, seedTime, app.ErrProxyNotAllowed},
		{"R8 child turned 13", id(demo.GuardianOf13), hugo.ID, []time.Time{app.DateIn(demo.ThirteenthMinus(hugo, 0)), app.DateIn(demo.ThirteenthMinus(hugo, -1))}, demo.ThirteenthMinus(hugo, 0), app.ErrProxyNotAllowed},
		{"blocked guardian", id(demo.GuardianBlocked), id(demo.Child12y11m), day, seedTime, app.ErrProxyNotAllowed},
		{"R10 locked login", id(demo.Locked), id(demo.Locked), day, seedTime, app.ErrLoginLocked},
		{"deceased", id(demo.Deceased), id(demo.Deceased), day, seedTime, app.ErrForbidden},
		{"no period", id(demo.AdultEmail), id(demo.AdultEmail), []time.Time{{}, d}, seedTime, app.ErrInvalid},
		{"backwards", id(demo.AdultEmail), id(demo.AdultEmail), []time.Time{d, d.AddDate(0, 0, -1)}, seedTime, app.ErrInvalid},
		{"over a year", id(demo.AdultEmail), id(demo.AdultEmail), []time.Time{d.AddDate(-1, 0, -1), d}, seedTime, app.ErrInvalid},
	} {
		f.now = c.at
		x, err := res.AccessLogExtract(f.ctx, c.actor, c.owner, c.period[0], c.period[1])
		if !errors.Is(err, c.want) || x != nil {
			t.Errorf("%s: %v, %v; want %v", c.name, x, err, c.want)
		}
		for _, r := range f.ds.Residents {
			if err == nil {
				break
			}
			if (!r.PNR.IsZero() && containsPNR(err.Error(), r.PNR)) || (len(r.Register.FamilyName) > 3 && strings.Contains(err.Error(), r.Register.FamilyName)) {
				t.Errorf("%s: the error names a resident: %v", c.name, err)
			}
		}
	}
	if len(rec.recorded) != 0 {
		t.Errorf("refused extracts recorded %+v", rec.recorded)
	}
	// The day before the 13th birthday the guardian still may.
	f.now = demo.ThirteenthMinus(hugo, 1)
	if _, err := res.AccessLogExtract(f.ctx, id(demo.GuardianOf13), hugo.ID, app.DateIn(f.now), app.DateIn(f.now).AddDate(0, 0, 1)); err != nil {
		t.Errorf("R5 the day before the 13th birthday: %v", err)
	}
}
