package app_test

import (
	"errors"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

// Blocked guardian (shared/DOMAIN.md): a lokal administratör looks a child
// up and blocks or unblocks one guardian's proxy access.

func (f *fixture) guardianSvc() *app.GuardianService {
	return app.NewGuardianService(f.store, app.ClockFunc(func() time.Time { return f.now }))
}

func TestBlockedGuardian_LocalAdminSeesEachGuardiansProxyState(t *testing.T) {
	f := newFixture(t)
	david := f.session(demo.StaffLocalAdmin, 1)
	child := f.resident(demo.Child12y11m)
	v, err := f.guardianSvc().ChildGuardians(f.ctx, david, child.PNR)
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != child.ID || v.Name != "Elsa Lindberg" || v.Age != 12 || !v.Child || len(v.Guardians) != 2 {
		t.Fatalf("view = %+v", v)
	}
	ylva, ake := v.Guardians[0], v.Guardians[1]
	if ylva.Name != "Ylva Lindberg" || !ylva.Blocked || ylva.MayAct || ylva.Reason != app.ProxyBlocked || ylva.BlockedAt.IsZero() {
		t.Errorf("blocked guardian: %+v", ylva)
	}
	if ake.Name != "Åke Lindberg" || ake.Blocked || !ake.MayAct || ake.Reason != "" || ake.PNR != f.resident(demo.GuardianNotified).PNR {
		t.Errorf("guardian who may act: %+v", ake)
	}
	// The lookup is in the access log before anything is shown.
	es, err := f.store.Entries(f.ctx, david.ClinicID, seedTime, seedTime.Add(time.Second))
	if err != nil || len(es) != 1 {
		t.Fatalf("access log: %+v (%v)", es, err)
	}
	if e := es[0]; e.Action != app.AccessLookupResident || e.ResidentID != child.ID || e.StaffID != david.Staff.ID {
		t.Errorf("access log entry %+v", e)
	}
}

// R7: a guardian with protected identity is shown as unable to act, with
// the reason, whether blocked or not.
func TestR7_GuardianWithProtectedIdentityMayNotAct(t *testing.T) {
	f := newFixture(t)
	v, err := f.guardianSvc().ChildGuardians(f.ctx, f.session(demo.StaffLocalAdmin, 0), f.resident(demo.ChildProtectedGuard).PNR)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Guardians) != 1 || v.Guardians[0].MayAct || v.Guardians[0].Reason != app.ProxyProtectedIdentity {
		t.Errorf("guardians = %+v", v.Guardians)
	}
}

func TestBlockedGuardian_BlockAndUnblock(t *testing.T) {
	f := newFixture(t)
	svc := f.guardianSvc()
	david := f.session(demo.StaffLocalAdmin, 0)
	child := f.ds.Persona[demo.Child12y11m]
	ake, ylva := f.ds.Persona[demo.GuardianNotified], f.ds.Persona[demo.GuardianBlocked]
	if err := svc.SetBlocked(f.ctx, david, child, ake, true); err != nil {
		t.Fatal(err)
	}
	g, _ := f.resident(demo.Child12y11m).Guardianship(ake)
	if !g.Blocked || g.BlockedBy != david.Staff.ID || g.BlockedClinic != david.ClinicID || !g.BlockedAt.Equal(f.now) {
		t.Errorf("after blocking: %+v", g)
	}
	if r := f.reach(demo.Child12y11m); !hasBlock(r, app.BlockChildAllBlocked) {
		t.Errorf("both guardians blocked, yet %+v", r)
	}
	if err := svc.SetBlocked(f.ctx, david, child, ylva, false); err != nil {
		t.Fatal(err)
	}
	v, err := svc.ChildGuardians(f.ctx, david, f.resident(demo.Child12y11m).PNR)
	if err != nil {
		t.Fatal(err)
	}
	if v.Guardians[0].Blocked || !v.Guardians[0].MayAct || !v.Guardians[1].Blocked || v.Guardians[1].MayAct {
		t.Errorf("after unblocking Ylva and blocking Åke: %+v", v.Guardians)
	}
	// Someone who is not the child's guardian.
	if err := svc.SetBlocked(f.ctx, david, child, f.ds.Persona[demo.AdultSMS], true); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("not a guardian: err = %v, want ErrNotFound", err)
	}
}

// R8: from the 13th birthday nobody has proxy access, so there is nothing
// to block: the view shows the person without guardians.
func TestR8_NoGuardiansToBlockFromThirteen(t *testing.T) {
	f := newFixture(t)
	svc, david := f.guardianSvc(), f.session(demo.StaffLocalAdmin, 0)
	pnr := f.resident(demo.ChildTurns13).PNR
	v, err := svc.ChildGuardians(f.ctx, david, pnr)
	if err != nil || !v.Child || v.Age != 12 || len(v.Guardians) != 1 {
		t.Fatalf("the day before the birthday: %+v (%v)", v, err)
	}
	f.now = app.ThirteenthBirthday(f.resident(demo.ChildTurns13)).Add(time.Hour)
	v, err = svc.ChildGuardians(f.ctx, david, pnr)
	if err != nil || v.Child || v.Age != 13 || len(v.Guardians) != 0 {
		t.Errorf("on the 13th birthday: %+v (%v), want no guardians", v, err)
	}
}

func TestBlockedGuardian_OnlyLocalAdmin(t *testing.T) {
	f := newFixture(t)
	svc := f.guardianSvc()
	pnr := f.resident(demo.Child12y11m).PNR
	for _, c := range []struct {
		staff  string
		clinic int
	}{
		{demo.StaffReceiver, 0}, {demo.StaffChildClinic, 1}, {demo.StaffPermAdmin, 0}, {demo.StaffAuditor, 0}, {demo.StaffContact, 0},
	} {
		sess := f.session(c.staff, c.clinic)
		if _, err := svc.ChildGuardians(f.ctx, sess, pnr); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s looks up: err = %v, want ErrForbidden", c.staff, err)
		}
		if err := svc.SetBlocked(f.ctx, sess, f.ds.Persona[demo.Child12y11m], f.ds.Persona[demo.GuardianBlocked], false); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s unblocks: err = %v, want ErrForbidden", c.staff, err)
		}
	}
	// A refused lookup is no access: nothing logged.
	for _, c := range f.ds.Clinics {
		if es, _ := f.store.Entries(f.ctx, c.ID, seedTime.Add(-time.Hour), seedTime.Add(time.Hour)); len(es) != 0 {
			t.Errorf("refused lookups were logged: %+v", es)
		}
	}
	// An unknown number is not found, and nothing is logged.
	if _, err := svc.ChildGuardians(f.ctx, f.session(demo.StaffLocalAdmin, 0), unknownPNR(t, f)); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("unknown number: err = %v, want ErrNotFound", err)
	}
}
