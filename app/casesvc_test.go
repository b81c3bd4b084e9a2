package app_test

import (
	"errors"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

func TestReachabilityBlocksDeceasedReserveAndAllBlockedGuardians(t *testing.T) {
	f := newFixture(t)
	for key, want := range map[string]app.BlockReason{
		demo.Deceased:      app.BlockDeceased,
		demo.ReserveNumber: app.BlockReserveNumber,
	} {
		if r := f.reach(key); !hasBlock(r, want) {
			t.Errorf("%s: %+v, want %s", key, r, want)
		}
		if !strings.Contains(want.Message(), "brev") && want != app.BlockDeceased {
			t.Errorf("%s: message does not say what to do instead", want)
		}
	}
	// Block the remaining guardian of the 12-year-old: nobody may act.
	admin := f.session(demo.StaffLocalAdmin, 1)
	child := f.ds.Persona[demo.Child12y11m]
	if err := f.res.BlockGuardian(f.ctx, admin, child, f.ds.Persona[demo.GuardianNotified], true); err != nil {
		t.Fatal(err)
	}
	if r := f.reach(demo.Child12y11m); !hasBlock(r, app.BlockChildAllBlocked) || len(r.Notify) != 0 {
		t.Fatalf("all guardians blocked: %+v", r)
	}
	// Only a lokal administratör blocks.
	if err := f.res.BlockGuardian(f.ctx, f.session(demo.StaffChildClinic, 1), child, f.ds.Persona[demo.GuardianBlocked], false); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("ärendemottagare unblocks: err = %v", err)
	}
}

func TestRolesAreEnforcedInServices(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	receiver := f.session(demo.StaffReceiver, 0)
	handler := f.session(demo.StaffHandler, 0)
	page, err := f.cases.ClinicCases(ctx, receiver, app.CaseQuery{Status: app.StatusNew})
	if err != nil || len(page.Rows) == 0 {
		t.Fatalf("receiver lists new cases: %v", err)
	}
	unassigned := page.Rows[0].ID
	for _, key := range []string{demo.StaffHandler, demo.StaffAuditor, demo.StaffPermAdmin, demo.StaffLocalAdmin} {
		if _, err := f.cases.ClinicCases(ctx, f.session(key, 0), app.CaseQuery{}); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s lists Mottagningens ärenden: err = %v", key, err)
		}
	}
	for _, key := range []string{demo.StaffAuditor, demo.StaffPermAdmin, demo.StaffLocalAdmin} {
		if _, err := f.cases.OpenCase(ctx, f.session(key, 0), unassigned); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s opens a case: err = %v", key, err)
		}
		if _, err := f.send(f.session(key, 0), demo.AdultSMS, app.KindQuestion); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s sends a case: err = %v", key, err)
		}
	}
	// A handler opens only what is assigned to them.
	if _, err := f.cases.OpenCase(ctx, handler, unassigned); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("handler opens an unassigned case: err = %v", err)
	}
	if err := f.cases.Assign(ctx, handler, unassigned, handler.Staff.ID); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("handler assigns: err = %v", err)
	}
	if err := f.cases.Assign(ctx, receiver, unassigned, f.ds.StaffBy[demo.StaffAuditor]); !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("assign to a granskare: err = %v", err)
	}
	if err := f.cases.Assign(ctx, receiver, unassigned, handler.Staff.ID); err != nil {
		t.Fatal(err)
	}
	th, err := f.cases.OpenCase(ctx, handler, unassigned)
	if err != nil {
		t.Fatalf("handler opens assigned case: %v", err)
	}
	if th.Case.Status != app.StatusOngoing || th.Case.UnreadByStaff {
		t.Fatalf("after assign+open: %+v", th.Case)
	}
	// Staff of the other clinic see nothing of this one.
	other := f.session(demo.StaffChildClinic, 1)
	if _, err := f.cases.OpenCase(ctx, other, unassigned); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("other clinic opens case: err = %v", err)
	}
	// A session claiming a clinic the staff member has no role in.
	fake := app.Session{Staff: other.Staff, ClinicID: f.ds.Clinics[0].ID}
	if _, err := f.cases.ClinicCases(ctx, fake, app.CaseQuery{}); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("no role in clinic lists cases: err = %v", err)
	}
	// Notes, reply, close, reopen.
	if err := f.cases.AddNote(ctx, handler, unassigned, "Ring tillbaka i morgon."); err != nil {
		t.Fatal(err)
	}
	if err := f.cases.Reply(ctx, handler, unassigned, "   "); !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("empty reply: err = %v", err)
	}
	if err := f.cases.Close(ctx, handler, unassigned); err != nil {
		t.Fatal(err)
	}
	if err := f.cases.Reply(ctx, handler, unassigned, "Hej"); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("reply to closed case: err = %v", err)
	}
	if err := f.cases.Reopen(ctx, handler, unassigned); err != nil {
		t.Fatal(err)
	}
	th, _ = f.store.Thread(ctx, unassigned)
	if th.Case.Status != app.StatusOngoing || len(th.Notes) != 1 {
		t.Fatalf("after reopen: %+v, %d notes", th.Case, len(th.Notes))
	}
	// Residents never see internal notes.
	rt, err := f.res.ReadCase(ctx, th.Case.ResidentID, unassigned)
	if err != nil {
		t.Fatal(err)
	}
	if len(rt.Notes) != 0 {
		t.Fatal("resident sees internal notes")
	}
}

func TestAccessIsLogged(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	sess := f.session(demo.StaffReceiver, 0)
	page, _ := f.cases.ClinicCases(ctx, sess, app.CaseQuery{Limit: 1})
	c := page.Rows[0]
	if _, err := f.cases.OpenCase(ctx, sess, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cases.LookupResident(ctx, sess, f.resident(demo.AdultBoth).PNR); err != nil {
		t.Fatal(err)
	}
	sent, err := f.send(sess, demo.AdultEmail, app.KindQuestion)
	if err != nil {
		t.Fatal(err)
	}
	// A refused access is not logged as access to data.
	if _, err := f.cases.OpenCase(ctx, f.session(demo.StaffAuditor, 0), c.ID); err == nil {
		t.Fatal("granskare opened a case")
	}
	entries, err := f.store.Entries(ctx, sess.ClinicID, seedTime.Add(-1), seedTime.Add(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		action   app.AccessAction
		resident app.ID
		caseID   app.ID
	}{
		{app.AccessOpenCase, c.ResidentID, c.ID},
		{app.AccessLookupResident, f.ds.Persona[demo.AdultBoth], ""},
		{app.AccessSend, f.ds.Persona[demo.AdultEmail], sent.ID},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d log entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		e := entries[i]
		if e.Action != w.action || e.ResidentID != w.resident || e.CaseID != w.caseID || e.StaffID != sess.Staff.ID || e.ClinicID != sess.ClinicID || !e.At.Equal(seedTime) {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
	// The other clinic's log is empty.
	if other, _ := f.store.Entries(ctx, f.ds.Clinics[1].ID, seedTime.Add(-1), seedTime.Add(1)); len(other) != 0 {
		t.Fatalf("other clinic's log has %d entries", len(other))
	}
}

func TestErrorsNeverCarryPersonalData(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	var errs []error
	for _, key := range []string{demo.NeverSignedIn, demo.Locked, demo.Deceased, demo.ChildProtected} {
		_, err := f.send(sess, key, app.KindQuestion)
		errs = append(errs, err)
	}
	_, err := f.cases.LookupResident(f.ctx, f.session(demo.StaffAuditor, 0), f.resident(demo.AdultSMS).PNR)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		msg := err.Error()
		for _, r := range f.ds.Residents {
			if strings.Contains(msg, r.Register.GivenName) || (!r.PNR.IsZero() && strings.Contains(msg, r.PNR.String()[:8])) {
				t.Fatalf("error %q carries a name or personnummer", msg)
			}
		}
	}
}

func TestNewIDIsTimeOrderedAndUnique(t *testing.T) {
	seen := map[app.ID]bool{}
	var prev app.ID
	for i := 0; i < 10000; i++ {
		id := app.NewID(seedTime)
		if len(id) != 26 || seen[id] || id <= prev {
			t.Fatalf("id %d = %q after %q", i, id, prev)
		}
		seen[id], prev = true, id
	}
	later := app.NewID(seedTime.Add(24 * 3600e9))
	if later <= prev {
		t.Fatal("a later id sorts before an earlier one")
	}
	at, err := app.IDTime(later)
	if err != nil || !at.Equal(seedTime.Add(24*3600e9).Truncate(1e6)) {
		t.Fatalf("IDTime = %v, %v", at, err)
	}
}
