package app_test

import (
	"errors"
	"slices"
	stdsync "sync"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// Role table: a behörighetsadministratör gives and takes staff roles in the
// clinic, nothing else.

func (f *fixture) staffSvc() *app.StaffService {
	return app.NewStaffService(f.store, app.FixedClock(f.now))
}

func (f *fixture) staffRec(key string) *app.Staff {
	f.t.Helper()
	st, err := f.store.Staff(f.ctx, f.ds.StaffBy[key])
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func TestStaffRoles_ClinicStaffListsEveryActiveStaffMember(t *testing.T) {
	f := newFixture(t)
	// Disable Cecilia: she is no longer listed.
	cecilia := f.staffRec(demo.StaffChildClinic)
	cecilia.Disabled = true
	if err := f.store.PutStaff(f.ctx, cecilia); err != nil {
		t.Fatal(err)
	}
	list, err := f.staffSvc().ClinicStaff(f.ctx, f.session(demo.StaffPermAdmin, 0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range list {
		got = append(got, st.Name)
	}
	// Greta has no role in any clinic and Cecilia none in Centrum: both
	// can be given one, so the active ones are listed.
	want := []string{"Anna Lindqvist", "Björn Ekström", "David Sundberg", "Eva Bergström", "Fredrik Nordin", "Greta Lundgren"}
	if !slices.Equal(got, want) {
		t.Errorf("ClinicStaff = %q, want %q", got, want)
	}
	for _, key := range []string{demo.StaffReceiver, demo.StaffLocalAdmin, demo.StaffAuditor} {
		if _, err := f.staffSvc().ClinicStaff(f.ctx, f.session(key, 0)); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s lists staff: err = %v, want ErrForbidden", key, err)
		}
	}
}

func TestStaffRoles_SetRolesInTheClinicOnly(t *testing.T) {
	f := newFixture(t)
	eva := f.session(demo.StaffPermAdmin, 0)
	centrum, barn := f.ds.Clinics[0].ID, f.ds.Clinics[1].ID
	svc := f.staffSvc()

	// Anna: drop ärendehanterare in Centrum; her Huskvarna roles stay.
	before := f.staffRec(demo.StaffReceiver)
	if err := svc.SetRoles(f.ctx, eva, before.ID, []app.Role{app.RoleCaseReceiver, app.RoleAuditor, app.RoleCaseReceiver}); err != nil {
		t.Fatal(err)
	}
	anna := f.staffRec(demo.StaffReceiver)
	if want := []app.Role{app.RoleCaseReceiver, app.RoleAuditor}; !slices.Equal(anna.Roles[centrum], want) {
		t.Errorf("Anna in Centrum: %v, want %v (no duplicates, in the UI's order)", anna.Roles[centrum], want)
	}
	if !slices.Equal(anna.Roles[barn], before.Roles[barn]) {
		t.Errorf("Anna in Huskvarna: %v, want untouched %v", anna.Roles[barn], before.Roles[barn])
	}

	// Greta (kontaktcenter, no clinic) becomes ärendehanterare in Centrum;
	// her region role stays.
	if err := svc.SetRoles(f.ctx, eva, f.ds.StaffBy[demo.StaffContact], []app.Role{app.RoleCaseHandler}); err != nil {
		t.Fatal(err)
	}
	greta := f.staffRec(demo.StaffContact)
	if !greta.Has(centrum, app.RoleCaseHandler) || !greta.HasRegion(app.RoleContactCenter) || greta.InClinic(barn) {
		t.Errorf("Greta after the change: %+v", greta)
	}

	// Taking every role takes Björn out of the clinic.
	if err := svc.SetRoles(f.ctx, eva, f.ds.StaffBy[demo.StaffHandler], nil); err != nil {
		t.Fatal(err)
	}
	if bjorn := f.staffRec(demo.StaffHandler); bjorn.InClinic(centrum) {
		t.Errorf("Björn still in Centrum: %v", bjorn.Roles)
	}
}

func TestStaffRoles_RefusedChangesWriteNothing(t *testing.T) {
	f := newFixture(t)
	svc := f.staffSvc()
	eva := f.session(demo.StaffPermAdmin, 0)
	bjorn := f.ds.StaffBy[demo.StaffHandler]
	for _, c := range []struct {
		name  string
		sess  app.Session
		staff app.ID
		roles []app.Role
		want  error
	}{
		// Nobody locks themselves out or raises themselves.
		{"own roles", eva, eva.Staff.ID, []app.Role{app.RolePermissionAdmin, app.RoleCaseReceiver}, app.ErrForbidden},
		{"own roles taken", eva, eva.Staff.ID, nil, app.ErrForbidden},
		// The region role is not the clinic's to give.
		{"region role", eva, bjorn, []app.Role{app.RoleContactCenter}, app.ErrForbidden},
		{"unknown role", eva, bjorn, []app.Role{app.RoleCaseHandler, "superanvandare"}, app.ErrInvalid},
		{"lokal administratör", f.session(demo.StaffLocalAdmin, 0), bjorn, []app.Role{app.RoleCaseReceiver}, app.ErrForbidden},
		{"ärendemottagare", f.session(demo.StaffReceiver, 0), bjorn, []app.Role{app.RoleCaseReceiver}, app.ErrForbidden},
		{"granskare", f.session(demo.StaffAuditor, 0), bjorn, []app.Role{app.RoleCaseReceiver}, app.ErrForbidden},
		{"no role in the clinic", app.Session{Staff: eva.Staff, ClinicID: "ingen-mottagning"}, bjorn, []app.Role{app.RoleCaseReceiver}, app.ErrForbidden},
		{"unknown staff", eva, "00000000000000000000000000", []app.Role{app.RoleCaseReceiver}, app.ErrNotFound},
	} {
		before, _ := f.store.AllStaff(f.ctx)
		err := svc.SetRoles(f.ctx, c.sess, c.staff, c.roles)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		after, _ := f.store.AllStaff(f.ctx)
		for i := range before {
			if !rolesEqual(before[i].Roles, after[i].Roles) {
				t.Errorf("%s: staff %s changed: %v → %v", c.name, before[i].ID, before[i].Roles, after[i].Roles)
			}
		}
	}
	// A disabled account gets no roles.
	b := f.staffRec(demo.StaffHandler)
	b.Disabled = true
	if err := f.store.PutStaff(f.ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetRoles(f.ctx, eva, bjorn, []app.Role{app.RoleCaseReceiver}); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("disabled account: err = %v, want ErrInvalid", err)
	}
}

func rolesEqual(a, b map[app.ID][]app.Role) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// Two administrators save roles for the same person in two clinics at
// once: neither change is lost (run with -race).
func TestStaffRoles_ConcurrentSavesInTwoClinicsKeepBoth(t *testing.T) {
	f := newFixture(t)
	svc := f.staffSvc()
	anna := f.ds.StaffBy[demo.StaffReceiver]
	var wg stdsync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := svc.SetRoles(f.ctx, f.session(demo.StaffPermAdmin, 0), anna, []app.Role{app.RoleAuditor}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := svc.SetRoles(f.ctx, f.session(demo.StaffPermAdmin, 1), anna, []app.Role{app.RoleLocalAdmin}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st := f.staffRec(demo.StaffReceiver)
	if !slices.Equal(st.Roles[f.ds.Clinics[0].ID], []app.Role{app.RoleAuditor}) || !slices.Equal(st.Roles[f.ds.Clinics[1].ID], []app.Role{app.RoleLocalAdmin}) {
		t.Errorf("after concurrent saves: %v", st.Roles)
	}
}
