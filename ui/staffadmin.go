package ui

import (
	"context"
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
)

// StaffAdmin is the part of app.StaffService the role screen uses.
// app.StaffService satisfies it.
type StaffAdmin interface {
	ClinicStaff(ctx context.Context, sess app.Session) ([]app.Staff, error)
	SetRoles(ctx context.Context, sess app.Session, staffID app.ID, roles []app.Role) error
}

// Texts of the role screen.
const (
	textSAdmTitle      = "staffadmin.staff_roles"
	textSAdmLoading    = "staffadmin.loading_staff"
	textSAdmNone       = "staffadmin.there_no_staff_show"
	textSAdmNoRole     = "staffadmin.no_role_clinic"
	textSAdmPick       = "staffadmin.choose_staff_member_list_see"
	textSAdmRolesIn    = "staffadmin.roles_in"
	textSAdmOwn        = "staffadmin.your_own_account_you_cannot"
	textSAdmOther      = "staffadmin.roles_other_clinics_region_roles"
	textSAdmSave       = "common.save"
	textSAdmRevert     = "common.undo_changes"
	textSAdmUnsaved    = "common.unsaved_changes"
	textSAdmSaving     = "common.saving"
	textSAdmSaved      = "staffadmin.roles_have_been_saved"
	textSAdmNoRight    = "staffadmin.you_do_not_have_permission"
	textSAdmSaveFailed = "staffadmin.something_went_wrong_while_saving"
	textSAdmListFailed = "staffadmin.something_went_wrong_while_loading"
	textSAdmGone       = "staffadmin.staff_member_no_longer_exists"
)

// roleExplanations say in one line what each clinic role may do (the role
// table of shared/DOMAIN.md).
var roleExplanations = map[app.Role]string{
	app.RoleCaseReceiver:    K("staffadmin.sees_all_clinic_cases_distributes"),
	app.RoleCaseHandler:     K("staffadmin.handles_cases_assigned_them_send"),
	app.RoleLocalAdmin:      K("staffadmin.looks_after_templates_standard_replies"),
	app.RolePermissionAdmin: K("staffadmin.gives_removes_staff_members_roles"),
	app.RoleAuditor:         K("staffadmin.reads_clinic_access_log_handles"),
}

type staffAdminDeps struct {
	ctx    context.Context
	tasks  *tasks
	svc    StaffAdmin
	sess   app.Session
	clinic app.Clinic
}

// staffAdminScreen is where a behörighetsadministratör gives and takes
// roles in the clinic: the staff on the left, one check per clinic role on
// the right. The own account is shown but cannot be changed (the service
// refuses it too).
type staffAdminScreen struct {
	staffAdminDeps
	content fyne.CanvasObject

	staff    []app.Staff
	selected int // index into staff; -1 for none
	saving   bool
	loading  bool // the checks are being set by code: not an edit

	list    *widget.List
	listMsg *widget.Label

	name   *widget.Label
	job    *widget.Label
	own    *widget.Label
	ownBox *fyne.Container // own with its icon
	checks map[app.Role]*widget.Check
	save   *widget.Button
	revert *widget.Button
	status *widget.Label
	form   fyne.CanvasObject
	pick   *widget.Label
}

func newStaffAdminScreen(d staffAdminDeps) *staffAdminScreen {
	s := &staffAdminScreen{staffAdminDeps: d, selected: -1, checks: map[app.Role]*widget.Check{}}

	s.listMsg = widget.NewLabel(L(textSAdmLoading))
	s.listMsg.Wrapping = fyne.TextWrapWord
	s.list = titledList(func() int { return len(s.staff) }, true, func(id int) (string, string) {
		return s.staff[id].Name, s.rolesText(&s.staff[id])
	})
	s.list.OnSelected = func(id widget.ListItemID) { s.choose(id) }
	left := container.NewBorder(s.listMsg, nil, nil, nil, s.list)

	s.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.name.SizeName = theme.SizeNameSubHeadingText
	s.job = widget.NewLabel("")
	s.own = widget.NewLabel(L(textSAdmOwn))
	s.own.Wrapping = fyne.TextWrapWord
	// Calm: an explanation, not a warning.
	s.ownBox = container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(theme.InfoIcon())), nil, s.own)
	s.ownBox.Hide()
	rolesBox := container.NewVBox()
	for _, r := range app.AllClinicRoles {
		c := widget.NewCheck(L(r.Label()), func(bool) { s.edited() })
		s.checks[r] = c
		expl := widget.NewLabel(L(roleExplanations[r]))
		expl.SizeName = theme.SizeNameCaptionText
		expl.Wrapping = fyne.TextWrapWord
		// The explanation sits under the check's text, not under its box.
		indent := widget.NewIcon(nil)
		rolesBox.Add(container.NewVBox(c, container.NewBorder(nil, nil, indent, nil, expl)))
	}
	s.save = widget.NewButtonWithIcon(L(textSAdmSave), theme.DocumentSaveIcon(), s.doSave)
	s.save.Importance = widget.HighImportance
	s.revert = widget.NewButtonWithIcon(L(textSAdmRevert), theme.ContentUndoIcon(), s.doRevert)
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	other := widget.NewLabel(L(textSAdmOther))
	other.SizeName = theme.SizeNameCaptionText
	other.Wrapping = fyne.TextWrapWord
	rolesTitle := widget.NewLabelWithStyle(Lf(textSAdmRolesIn, d.clinic.Name), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	buttons := container.NewBorder(nil, nil, nil, container.NewHBox(s.revert, s.save), s.status)
	s.form = container.NewVBox(s.name, s.job, s.ownBox, widget.NewSeparator(), rolesTitle, rolesBox, other, widget.NewSeparator(), buttons)
	s.form.Hide()
	s.pick = widget.NewLabel(L(textSAdmPick))
	s.pick.Wrapping = fyne.TextWrapWord
	s.pick.Alignment = fyne.TextAlignCenter
	right := container.NewStack(
		container.NewVScroll(container.NewPadded(s.form)),
		container.NewCenter(container.NewGridWrap(fyne.NewSize(360, 80), s.pick)))

	split := container.NewHSplit(container.NewPadded(left), right)
	split.Offset = 0.3
	title := widget.NewLabelWithStyle(L(textSAdmTitle)+" – "+d.clinic.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	s.content = container.NewBorder(container.NewVBox(title, widget.NewSeparator()), nil, nil, nil, split)
	s.load()
	return s
}

// rolesText is the list's second line: the staff member's roles here.
func (s *staffAdminScreen) rolesText(st *app.Staff) string {
	var out []string
	for _, r := range app.AllClinicRoles {
		if slices.Contains(st.Roles[s.sess.ClinicID], r) {
			out = append(out, L(r.Label()))
		}
	}
	if len(out) == 0 {
		return L(textSAdmNoRole)
	}
	return strings.Join(out, ", ")
}

func (s *staffAdminScreen) load() {
	s.tasks.run(func() func() {
		staff, err := s.svc.ClinicStaff(s.ctx, s.sess)
		return func() { s.listed(staff, err) }
	})
}

func (s *staffAdminScreen) listed(staff []app.Staff, err error) {
	defer s.content.Refresh()
	if err != nil {
		logError("list staff", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		s.listMsg.Importance = widget.DangerImportance
		s.listMsg.SetText(L(textSAdmListFailed))
		if errors.Is(err, app.ErrForbidden) {
			s.listMsg.SetText(L(textForbidden))
		}
		s.listMsg.Show()
		s.pick.Hide()
		return
	}
	var keep app.ID
	if s.selected >= 0 {
		keep = s.staff[s.selected].ID
	}
	s.staff = staff
	s.listMsg.Importance = widget.MediumImportance
	s.listMsg.SetText(L(textSAdmNone))
	s.listMsg.Hidden = len(staff) > 0
	s.list.Refresh()
	if i := slices.IndexFunc(staff, func(st app.Staff) bool { return st.ID == keep }); keep != "" && i >= 0 {
		s.selected = i
	} else {
		s.selected = -1
		s.list.UnselectAll()
	}
}

// choose shows staff member i. Unsaved choices for the previous one are
// dropped: they are a handful of checks, and the list says what is saved.
func (s *staffAdminScreen) choose(i int) {
	if i < 0 || i >= len(s.staff) {
		return
	}
	s.selected = i
	st := &s.staff[i]
	s.name.SetText(st.Name)
	s.job.SetText(st.Title)
	s.job.Hidden = st.Title == ""
	s.ownBox.Hidden = st.ID != s.sess.Staff.ID
	s.fill(st)
	s.status.SetText("")
	s.form.Show()
	s.pick.Hide()
	s.updateButtons()
	s.content.Refresh()
}

// fill sets the checks from st's roles in the clinic.
func (s *staffAdminScreen) fill(st *app.Staff) {
	s.loading = true
	defer func() { s.loading = false }()
	for r, c := range s.checks {
		c.SetChecked(slices.Contains(st.Roles[s.sess.ClinicID], r))
	}
	s.enableChecks(!s.saving)
}

// enableChecks enables the checks, or disables them; those of the own
// account stay disabled.
func (s *staffAdminScreen) enableChecks(on bool) {
	own := s.selected >= 0 && s.staff[s.selected].ID == s.sess.Staff.ID
	for _, c := range s.checks {
		if on && !own {
			c.Enable()
		} else {
			c.Disable()
		}
	}
}

// chosen is the roles as the checks hold them, in the UI's order.
func (s *staffAdminScreen) chosen() []app.Role {
	var out []app.Role
	for _, r := range app.AllClinicRoles {
		if s.checks[r].Checked {
			out = append(out, r)
		}
	}
	return out
}

func (s *staffAdminScreen) dirty() bool {
	if s.selected < 0 {
		return false
	}
	st := &s.staff[s.selected]
	for _, r := range app.AllClinicRoles {
		if s.checks[r].Checked != slices.Contains(st.Roles[s.sess.ClinicID], r) {
			return true
		}
	}
	return false
}

func (s *staffAdminScreen) edited() {
	if s.loading {
		return
	}
	s.status.SetText("")
	s.updateButtons()
}

func (s *staffAdminScreen) updateButtons() {
	own := s.selected >= 0 && s.staff[s.selected].ID == s.sess.Staff.ID
	dirty := s.dirty()
	if dirty && !own && !s.saving {
		s.save.Enable()
		s.revert.Enable()
	} else {
		s.save.Disable()
		s.revert.Disable()
	}
	s.save.Hidden, s.revert.Hidden = own, own
	switch {
	case s.saving:
		s.setStatus(L(textSAdmSaving), widget.MediumImportance)
	case s.status.Text != "":
		// A save result stays until the next change.
	case dirty:
		s.setStatus(L(textSAdmUnsaved), widget.WarningImportance)
	}
}

func (s *staffAdminScreen) setStatus(text string, imp widget.Importance) {
	s.status.Importance = imp
	s.status.SetText(text)
}

func (s *staffAdminScreen) doRevert() {
	if s.selected >= 0 && !s.saving {
		s.fill(&s.staff[s.selected])
		s.status.SetText("")
		s.updateButtons()
	}
}

func (s *staffAdminScreen) doSave() {
	if s.selected < 0 || s.saving || !s.dirty() {
		return
	}
	st := s.staff[s.selected]
	if st.ID == s.sess.Staff.ID {
		return // the button is hidden; a shortcut must not get past it either
	}
	roles := s.chosen()
	s.saving = true
	s.status.SetText("")
	s.enableChecks(false)
	s.updateButtons()
	s.tasks.run(func() func() {
		err := s.svc.SetRoles(s.ctx, s.sess, st.ID, roles)
		return func() { s.saved(st.ID, roles, err) }
	})
}

// saved applies a save's result; the choices stay in the checks whatever
// happened.
func (s *staffAdminScreen) saved(id app.ID, roles []app.Role, err error) {
	s.saving = false
	s.enableChecks(true)
	defer s.content.Refresh()
	i := slices.IndexFunc(s.staff, func(st app.Staff) bool { return st.ID == id })
	if err == nil && i >= 0 {
		st := &s.staff[i]
		m := make(map[app.ID][]app.Role, len(st.Roles)+1)
		for c, rs := range st.Roles {
			m[c] = rs
		}
		if len(roles) == 0 {
			delete(m, s.sess.ClinicID)
		} else {
			m[s.sess.ClinicID] = roles
		}
		st.Roles = m
		s.list.RefreshItem(i)
	}
	if s.selected < 0 || s.staff[s.selected].ID != id {
		if err != nil {
			logError("set roles", err, "clinic", s.sess.ClinicID, "target", id)
		}
		s.updateButtons()
		return // another staff member is shown by now
	}
	if err != nil {
		logError("set roles", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID, "target", id)
		switch {
		case errors.Is(err, app.ErrForbidden):
			s.setStatus(L(textSAdmNoRight), widget.DangerImportance)
		case errors.Is(err, app.ErrNotFound), errors.Is(err, app.ErrInvalid):
			s.setStatus(L(textSAdmGone), widget.DangerImportance)
		default:
			s.setStatus(L(textSAdmSaveFailed), widget.DangerImportance)
		}
		s.updateButtons()
		return
	}
	s.setStatus(L(textSAdmSaved), widget.SuccessImportance)
	s.updateButtons()
}
