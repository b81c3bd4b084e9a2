package ui

import (
	"context"
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"

	"mottagning/app"
	"mottagning/app/demo"
)

// Role table: the behörighetsadministratör's screen on the real store and
// the real StaffService.

type staffAdminRun struct {
	f *fixture
	s *staffAdminScreen
}

func openStaffAdmin(t *testing.T, key, clinic string) *staffAdminRun {
	t.Helper()
	f := newFixture(t, false, nil)
	s := newStaffAdminScreen(staffAdminDeps{
		ctx: context.Background(), tasks: &f.ui.tasks, svc: app.NewStaffService(f.store, app.FixedClock(now)),
		sess: f.sessionOf(t, key, clinic), clinic: f.clinic(clinic),
	})
	f.win.SetContent(s.content)
	f.wait()
	return &staffAdminRun{f: f, s: s}
}

func (r *staffAdminRun) choose(t *testing.T, name string) {
	t.Helper()
	i := slices.IndexFunc(r.s.staff, func(st app.Staff) bool { return st.Name == name })
	if i < 0 {
		t.Fatalf("%q not in the staff list", name)
	}
	r.s.list.Select(i)
	r.f.wait()
}

func (r *staffAdminRun) checked() []app.Role {
	var out []app.Role
	for _, role := range app.AllClinicRoles {
		if r.s.checks[role].Checked {
			out = append(out, role)
		}
	}
	return out
}

func TestStaffAdmin_GivesARoleAndSaves(t *testing.T) {
	r := openStaffAdmin(t, demo.StaffPermAdmin, "Vårdcentralen Centrum")
	s := r.s
	if len(s.staff) != len(r.f.ds.Staff) {
		t.Errorf("the list has %d staff, want every active staff member (%d)", len(s.staff), len(r.f.ds.Staff))
	}
	if !s.pick.Visible() || s.form.Visible() {
		t.Error("before a choice the form should rest and say how to begin")
	}
	if got := s.rolesText(&s.staff[slices.IndexFunc(s.staff, func(st app.Staff) bool { return st.Name == "Greta Lundgren" })]); got != L(textSAdmNoRole) {
		t.Errorf("Greta's roles here: %q, want %q", got, L(textSAdmNoRole))
	}
	r.choose(t, "Björn Ekström")
	if got := r.checked(); !slices.Equal(got, []app.Role{app.RoleCaseHandler}) {
		t.Fatalf("Björn's checks %v, want ärendehanterare", got)
	}
	for role, c := range s.checks {
		if c.Disabled() {
			t.Errorf("the %s check should be enabled for someone else", role)
		}
		if c.Text != role.Label() {
			t.Errorf("check text %q, want %q", c.Text, role.Label())
		}
	}
	if !s.save.Disabled() || s.ownBox.Visible() {
		t.Error("nothing changed yet: Spara disabled, no own-account note")
	}
	test.Tap(s.checks[app.RoleCaseReceiver])
	if s.save.Disabled() || s.status.Text != L(textSAdmUnsaved) {
		t.Fatalf("after a change: Spara disabled %v, status %q", s.save.Disabled(), s.status.Text)
	}
	assertMarkup(t, "staffadmin_bjorn.xml", r.f.win.Canvas())
	staffToolPNG(t, r.f.win, "staffadmin_bjorn")

	test.Tap(s.save)
	r.f.wait()
	st, err := r.f.store.Staff(context.Background(), r.f.ds.StaffBy[demo.StaffHandler])
	if err != nil {
		t.Fatal(err)
	}
	centrum := r.f.clinic("Vårdcentralen Centrum").ID
	if !slices.Equal(st.Roles[centrum], []app.Role{app.RoleCaseReceiver, app.RoleCaseHandler}) {
		t.Errorf("stored roles %v", st.Roles[centrum])
	}
	if s.status.Text != L(textSAdmSaved) || !s.save.Disabled() || s.dirty() {
		t.Errorf("after saving: status %q, Spara disabled %v", s.status.Text, s.save.Disabled())
	}
	if got := s.rolesText(&s.staff[s.selected]); got != "Ärendemottagare, Ärendehanterare" {
		t.Errorf("the list says %q after saving", got)
	}
}

func TestStaffAdmin_RevertAndTakeAllRoles(t *testing.T) {
	r := openStaffAdmin(t, demo.StaffPermAdmin, "Barn- och ungdomsmottagningen Huskvarna")
	s := r.s
	r.choose(t, "Cecilia Holm")
	test.Tap(s.checks[app.RoleAuditor])
	test.Tap(s.revert)
	if got := r.checked(); !slices.Equal(got, []app.Role{app.RoleCaseReceiver, app.RoleCaseHandler}) || !s.save.Disabled() {
		t.Errorf("after Ångra: %v, Spara disabled %v", got, s.save.Disabled())
	}
	test.Tap(s.checks[app.RoleCaseReceiver])
	test.Tap(s.checks[app.RoleCaseHandler])
	test.Tap(s.save)
	r.f.wait()
	st, _ := r.f.store.Staff(context.Background(), r.f.ds.StaffBy[demo.StaffChildClinic])
	if st.InClinic(r.f.clinic("Barn- och ungdomsmottagningen Huskvarna").ID) {
		t.Errorf("Cecilia still has roles: %v", st.Roles)
	}
	if s.rolesText(&s.staff[s.selected]) != L(textSAdmNoRole) {
		t.Errorf("the list says %q", s.rolesText(&s.staff[s.selected]))
	}
}

// Nobody locks themselves out or raises themselves: the own account's
// checks are disabled with the reason, and there is no Spara.
func TestStaffAdmin_OwnAccountCannotBeChanged(t *testing.T) {
	r := openStaffAdmin(t, demo.StaffPermAdmin, "Vårdcentralen Centrum")
	s := r.s
	r.choose(t, "Eva Bergström")
	if !s.ownBox.Visible() || s.own.Text != L(textSAdmOwn) {
		t.Errorf("own account note %q (visible %v)", s.own.Text, s.ownBox.Visible())
	}
	for role, c := range s.checks {
		if !c.Disabled() {
			t.Errorf("own %s check is enabled", role)
		}
	}
	if s.save.Visible() || s.revert.Visible() {
		t.Error("Spara and Ångra make no sense for the own account")
	}
	staffToolPNG(t, r.f.win, "staffadmin_own")
	s.checks[app.RoleAuditor].SetChecked(true) // as if past the disabled check
	s.doSave()
	r.f.wait()
	st, _ := r.f.store.Staff(context.Background(), r.f.ds.StaffBy[demo.StaffPermAdmin])
	if !slices.Equal(st.Roles[r.f.clinic("Vårdcentralen Centrum").ID], []app.Role{app.RolePermissionAdmin}) {
		t.Errorf("own roles changed: %v", st.Roles)
	}
}

func TestStaffAdmin_OtherRolesAreRefused(t *testing.T) {
	r := openStaffAdmin(t, demo.StaffAuditor, "Vårdcentralen Centrum")
	if len(r.s.staff) != 0 || !r.s.listMsg.Visible() || r.s.listMsg.Text != L(textForbidden) {
		t.Errorf("granskare: %d staff, message %q", len(r.s.staff), r.s.listMsg.Text)
	}
}
