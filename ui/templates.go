package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
)

// TemplateAdmin is the part of app.TemplateService the template screen
// uses. app.TemplateService satisfies it.
type TemplateAdmin interface {
	// List returns the clinic's templates by name; kind "" means all.
	List(ctx context.Context, sess app.Session, kind app.TemplateKind) ([]app.MessageTemplate, error)
	// Save creates or replaces a template; a lint error refuses it with an
	// *app.TemplateLintError and writes nothing.
	Save(ctx context.Context, sess app.Session, t *app.MessageTemplate) (*app.MessageTemplate, []app.LintIssue, error)
	// SetRetired takes a template out of use or into use again (it is
	// never deleted: old cases name it).
	SetRetired(ctx context.Context, sess app.Session, id app.ID, at time.Time, retired bool) (*app.MessageTemplate, error)
}

// Texts of the template screen.
const (
	textTplTitle       = "templates.message_templates_standard_replies"
	textTplAllKinds    = "common.all_types"
	textTplKindFilter  = "templates.show"
	textTplNew         = "templates.new_template"
	textTplSave        = "common.save"
	textTplRevert      = "common.undo_changes"
	textTplLoading     = "templates.loading_templates"
	textTplNone        = "templates.no_templates_type_yet"
	textTplPick        = "templates.choose_template_list_or_create"
	textTplNewTitle    = "templates.new_template"
	textTplName        = "common.name"
	textTplNameHint    = "templates.visible_only_clinic_staff"
	textTplKind        = "templates.type"
	textTplSubject     = "common.subject"
	textTplSubjectHint = "templates.visible_resident_inbox"
	textTplNoSubject   = "templates.standard_reply_has_no_subject"
	textTplText        = "common.text"
	textTplUnsaved     = "common.unsaved_changes"
	textTplSaving      = "common.saving"
	textTplSaved       = "templates.saved"
	textTplSavedWarn   = "templates.saved_see_warnings_at_fields"
	textTplFixErrors   = "templates.correct_what_marked_red_before"
	textTplRefused     = "templates.template_was_not_saved_correct"
	textTplConflict    = "templates.template_has_been_changed_by"
	textTplSaveFailed  = "templates.something_went_wrong_while_saving"
	textTplNoRight     = "templates.you_do_not_have_permission"
	textTplListFailed  = "templates.something_went_wrong_while_loading"
	textTplReadOnly    = "templates.only_clinic_local_administrator_change"
	textTplAskTitle    = "common.unsaved_changes"
	textTplAskBody     = "templates.you_have_changes_template_not"
	textTplStay        = "common.keep_editing"
	textTplLeave       = "common.leave_without_saving"
	textTplChanged     = "templates.last_changed"
	textTplRetire      = "templates.take_out_use"
	textTplReinstate   = "templates.take_into_use_again"
	textTplRetiredNote = "templates.out_use_template_kept_old"
	textTplRetiredDone = "templates.template_out_use"
	textTplInUseDone   = "templates.template_use_again"
	textTplRetiredTag  = "templates.out_use"
)

type templatesDeps struct {
	ctx    context.Context
	tasks  *tasks
	svc    TemplateAdmin
	sess   app.Session
	clinic app.Clinic
}

// templatesScreen is where the lokal administratör keeps the clinic's
// message templates and standard replies: the list on the left, filtered
// by kind; the form on the right, linted as one types (app.LintTemplate),
// with each finding under the field it concerns. Spara stays disabled
// while there is an error; leaving unsaved edits asks first. Staff with a
// case role see the same screen read-only.
type templatesScreen struct {
	templatesDeps
	content fyne.CanvasObject
	admin   bool

	all    []app.MessageTemplate // by name, as List returns them
	shown  []int                 // indexes into all that pass the filter
	loaded bool

	filter  *widget.Select
	list    *widget.List
	newBtn  *widget.Button
	listMsg *widget.Label

	// The form. base is the version the form started from (zero ID: a
	// new template); the entries hold the edits.
	base      app.MessageTemplate
	editing   bool
	gen       int             // bumped whenever the form shows another template
	touched   map[string]bool // fields typed in; an empty field is not nagged about before
	issues    []app.LintIssue // what the fields show now
	saving    bool
	loadingUI bool // the form is being filled by code: not an edit

	formTitle   *widget.Label
	changed     *widget.Label
	readOnly    *widget.Label
	name        *widget.Entry
	kind        *widget.RadioGroup
	subject     *widget.Entry
	body        *textArea
	fieldIssues map[string]*fyne.Container
	save        *widget.Button
	revert      *widget.Button
	retire      *widget.Button
	retiredNote *widget.Label
	status      *widget.Label
	form        fyne.CanvasObject
	pick        *widget.Label

	// The unsaved-changes question.
	ask      *widget.PopUp
	stayBtn  *widget.Button
	leaveBtn *widget.Button
	pending  func()

	selecting bool // the list's selection is being set by code
}

func newTemplatesScreen(d templatesDeps) *templatesScreen {
	s := &templatesScreen{templatesDeps: d, touched: map[string]bool{}}
	s.admin = d.sess.Staff.Has(d.clinic.ID, app.RoleLocalAdmin)

	// The list.
	opts := []string{L(textTplAllKinds)}
	for _, k := range app.TemplateKinds {
		opts = append(opts, L(app.TemplateKindLabel(k)))
	}
	s.filter = newSelect(opts, func(string) { s.applyFilter() })
	s.filter.Selected = L(textTplAllKinds)
	s.newBtn = widget.NewButtonWithIcon(L(textTplNew), theme.ContentAddIcon(), func() { s.request(s.startNew) })
	if !s.admin {
		s.newBtn.Hide()
	}
	s.listMsg = widget.NewLabel(L(textTplLoading))
	s.listMsg.Wrapping = fyne.TextWrapWord
	s.list = titledList(func() int { return len(s.shown) }, false, func(id int) (string, string) {
		t := &s.all[s.shown[id]]
		return t.Name, tplSubtitle(t)
	})
	s.list.OnSelected = s.listSelected
	top := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel(L(textTplKindFilter)), nil, s.filter),
		s.newBtn,
		s.listMsg,
	)
	left := container.NewBorder(top, nil, nil, nil, s.list)

	// The form.
	s.formTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.formTitle.SizeName = theme.SizeNameSubHeadingText
	s.formTitle.Truncation = fyne.TextTruncateEllipsis
	s.changed = widget.NewLabel("")
	s.changed.SizeName = theme.SizeNameCaptionText
	s.readOnly = widget.NewLabel(L(textTplReadOnly))
	s.readOnly.Wrapping = fyne.TextWrapWord
	s.readOnly.Hidden = s.admin
	s.name = widget.NewEntry()
	s.name.PlaceHolder = L(textTplNameHint)
	s.subject = widget.NewEntry()
	s.subject.PlaceHolder = L(textTplSubjectHint)
	s.body = newTextArea()
	s.body.SetMinRowsVisible(5)
	var kindLabels []string
	for _, k := range app.TemplateKinds {
		kindLabels = append(kindLabels, L(app.TemplateKindLabel(k)))
	}
	s.kind = widget.NewRadioGroup(kindLabels, func(string) { s.edited(app.FieldKind) })
	s.kind.Horizontal = true
	s.kind.Required = true
	s.name.OnChanged = func(string) { s.edited(app.FieldName) }
	s.subject.OnChanged = func(string) { s.edited(app.FieldSubject) }
	s.body.OnChanged = func(string) { s.edited(app.FieldText) }
	nameCount := limitEntry(s.name, app.MaxTemplateNameLen)
	subjectCount := limitEntry(s.subject, app.MaxSubjectLen)
	bodyCount := limitEntry(&s.body.Entry, app.MaxTextLen)
	counted := map[string]fyne.CanvasObject{app.FieldName: nameCount, app.FieldSubject: subjectCount}

	s.fieldIssues = map[string]*fyne.Container{}
	for _, f := range []string{app.FieldName, app.FieldKind, app.FieldSubject, app.FieldText} {
		s.fieldIssues[f] = container.NewVBox()
	}
	field := func(label string, f string, o fyne.CanvasObject) fyne.CanvasObject {
		head := fyne.CanvasObject(widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		if c := counted[f]; c != nil {
			head = container.NewBorder(nil, nil, head, c)
		}
		return container.NewVBox(head, o, s.fieldIssues[f])
	}
	s.save = widget.NewButtonWithIcon(L(textTplSave), theme.DocumentSaveIcon(), s.doSave)
	s.save.Importance = widget.HighImportance
	s.revert = widget.NewButtonWithIcon(L(textTplRevert), theme.ContentUndoIcon(), s.doRevert)
	s.retire = widget.NewButton(L(textTplRetire), s.doRetire)
	s.retiredNote = widget.NewLabel(L(textTplRetiredNote))
	s.retiredNote.Wrapping = fyne.TextWrapWord
	s.retiredNote.Importance = widget.WarningImportance
	s.retiredNote.Hide()
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	if !s.admin {
		s.save.Hide()
		s.revert.Hide()
		s.retire.Hide()
	}
	head := container.NewVBox(s.formTitle, s.changed, s.retiredNote, s.readOnly, widget.NewSeparator(),
		field(L(textTplName), app.FieldName, s.name),
		field(L(textTplKind), app.FieldKind, s.kind),
		field(L(textTplSubject), app.FieldSubject, s.subject),
		container.NewBorder(nil, nil, widget.NewLabelWithStyle(L(textTplText), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), bodyCount),
	)
	buttons := container.NewBorder(nil, nil, nil, container.NewHBox(s.retire, s.revert, s.save), s.status)
	// The text takes the room the fields leave; a window lower than the
	// fields need (a laptop at 150 %) scrolls them, with the buttons kept
	// in view, instead of growing taller than the screen.
	fields := container.NewBorder(head, s.fieldIssues[app.FieldText], nil, nil, s.body)
	s.form = container.NewBorder(nil, buttons, nil, nil, container.NewVScroll(fields))
	s.form.Hide()
	s.pick = widget.NewLabel(L(textTplPick))
	s.pick.Wrapping = fyne.TextWrapWord
	s.pick.Alignment = fyne.TextAlignCenter
	right := container.NewStack(container.NewPadded(s.form), container.NewCenter(container.NewGridWrap(fyne.NewSize(360, 80), s.pick)))

	split := container.NewHSplit(container.NewPadded(left), right)
	split.Offset = 0.3
	title := widget.NewLabelWithStyle(L(textTplTitle), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.content = container.NewBorder(container.NewVBox(title, widget.NewSeparator()), nil, nil, nil, split)

	s.buildAsk()
	s.load()
	return s
}

// load reads the clinic's templates.
func (s *templatesScreen) load() {
	s.tasks.run(func() func() {
		all, err := s.svc.List(s.ctx, s.sess, "")
		return func() { s.listed(all, err) }
	})
}

func (s *templatesScreen) listed(all []app.MessageTemplate, err error) {
	if err != nil {
		logError("list templates", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		s.listMsg.Importance = widget.DangerImportance
		s.listMsg.SetText(L(textTplListFailed))
		if errors.Is(err, app.ErrForbidden) {
			s.listMsg.SetText(L(textForbidden))
			s.newBtn.Hide()
		}
		s.listMsg.Show()
		s.pick.Hide()
		s.content.Refresh()
		return
	}
	s.all, s.loaded = all, true
	s.applyFilter()
}

// filterKind is the kind chosen in the filter; "" for all.
func (s *templatesScreen) filterKind() app.TemplateKind {
	for _, k := range app.TemplateKinds {
		if L(app.TemplateKindLabel(k)) == s.filter.Selected {
			return k
		}
	}
	return ""
}

func (s *templatesScreen) applyFilter() {
	k := s.filterKind()
	s.shown = s.shown[:0]
	for i, t := range s.all {
		if k == "" || t.Kind == k {
			s.shown = append(s.shown, i)
		}
	}
	if s.loaded {
		s.listMsg.Importance = widget.MediumImportance
		s.listMsg.SetText(L(textTplNone))
		s.listMsg.Hidden = len(s.shown) > 0
	}
	s.list.Refresh()
	s.syncSelection()
	s.content.Refresh()
}

// syncSelection selects the edited template in the list, or nothing.
func (s *templatesScreen) syncSelection() {
	s.selecting = true
	defer func() { s.selecting = false }()
	for row, i := range s.shown {
		if s.editing && !s.base.ID.IsZero() && s.all[i].ID == s.base.ID {
			s.list.Select(row)
			return
		}
	}
	s.list.UnselectAll()
}

func (s *templatesScreen) listSelected(row widget.ListItemID) {
	if s.selecting || row < 0 || row >= len(s.shown) {
		return
	}
	t := s.all[s.shown[row]]
	if s.editing && t.ID == s.base.ID {
		return
	}
	// Until the question is answered, the list shows what the form holds.
	s.syncSelection()
	s.request(func() { s.edit(t) })
}

// request runs next at once when the form holds no unsaved edits, and
// otherwise asks first.
func (s *templatesScreen) request(next func()) {
	if !s.dirty() {
		next()
		return
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(s.content)
	if c == nil {
		return // not shown: keep the edits rather than guess
	}
	s.pending = next
	if s.ask == nil || s.ask.Canvas != c {
		s.buildAskOn(c)
	}
	s.ask.Show()
}

func (s *templatesScreen) buildAsk() {
	s.stayBtn = widget.NewButton(L(textTplStay), func() {
		s.pending = nil
		s.ask.Hide()
	})
	s.stayBtn.Importance = widget.HighImportance
	s.leaveBtn = widget.NewButton(L(textTplLeave), func() {
		next := s.pending
		s.pending = nil
		s.ask.Hide()
		if next != nil {
			next()
		}
	})
}

func (s *templatesScreen) buildAskOn(c fyne.Canvas) {
	text := widget.NewLabel(L(textTplAskBody))
	text.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(
		widget.NewLabelWithStyle(L(textTplAskTitle), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewGridWrap(fyne.NewSize(380, text.MinSize().Height*2), text),
		container.NewHBox(layout.NewSpacer(), s.leaveBtn, s.stayBtn),
	)
	s.ask = widget.NewModalPopUp(container.NewPadded(body), c)
}

// edit shows t in the form.
func (s *templatesScreen) edit(t app.MessageTemplate) {
	s.gen++
	s.base, s.editing = t, true
	s.touched = map[string]bool{}
	if !t.ID.IsZero() {
		// An existing template: every field counts as seen.
		for _, f := range []string{app.FieldName, app.FieldKind, app.FieldSubject, app.FieldText} {
			s.touched[f] = true
		}
	}
	s.fill(t)
	s.status.SetText("")
	s.form.Show()
	s.pick.Hide()
	s.syncSelection()
	s.relint()
	s.content.Refresh()
}

func (s *templatesScreen) startNew() {
	k := s.filterKind()
	if k == "" {
		k = app.KindInformation
	}
	s.edit(app.MessageTemplate{Kind: k})
	s.formTitle.SetText(L(textTplNewTitle))
	s.changed.SetText("")
	if c := fyne.CurrentApp().Driver().CanvasForObject(s.content); c != nil && s.admin {
		c.Focus(s.name)
	}
}

// fill puts t into the entries without counting it as an edit.
func (s *templatesScreen) fill(t app.MessageTemplate) {
	s.loadingUI = true
	defer func() { s.loadingUI = false }()
	s.formTitle.SetText(t.Name)
	if t.ID.IsZero() {
		s.formTitle.SetText(L(textTplNewTitle))
	}
	s.changed.SetText("")
	if !t.UpdatedAt.IsZero() {
		s.changed.SetText(Lf(textTplChanged, t.UpdatedAt.In(app.Stockholm).Format(dateLayout)))
	}
	s.name.SetText(t.Name)
	s.kind.SetSelected(L(app.TemplateKindLabel(t.Kind)))
	s.subject.SetText(t.Subject)
	s.body.SetText(t.Body)
	for _, w := range []fyne.Disableable{s.name, s.kind, s.subject, s.body} {
		if s.admin {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	s.syncSubject()
}

// current is the template as the form holds it.
func (s *templatesScreen) current() app.MessageTemplate {
	t := s.base
	t.Name, t.Subject, t.Body = s.name.Text, s.subject.Text, s.body.Text
	for _, k := range app.TemplateKinds {
		if L(app.TemplateKindLabel(k)) == s.kind.Selected {
			t.Kind = k
		}
	}
	return t
}

func (s *templatesScreen) dirty() bool {
	if !s.editing || !s.admin {
		return false
	}
	c := s.current()
	return c.Name != s.base.Name || c.Kind != s.base.Kind || c.Subject != s.base.Subject || c.Body != s.base.Body
}

func (s *templatesScreen) edited(field string) {
	if s.loadingUI || !s.editing {
		return
	}
	s.touched[field] = true
	s.status.SetText("")
	if field == app.FieldKind {
		s.syncSubject()
	}
	s.relint()
}

// relint runs the linter on the form and shows its findings at the fields.
func (s *templatesScreen) relint() {
	t := s.current()
	all := app.LintTemplate(&t)
	var shown []app.LintIssue
	for _, i := range all {
		// An empty field nobody has typed in yet is not an error to
		// shout about; Spara stays disabled all the same.
		if i.Code == app.LintEmpty && !s.touched[i.Field] {
			continue
		}
		shown = append(shown, i)
	}
	s.showIssues(shown)
	s.updateButtons(app.HasLintErrors(all))
}

// syncSubject: a standard reply has no subject, so the field rests,
// disabled, unless it holds a subject that must be removed (the error
// says so). It runs when the kind is set, not while the subject is typed
// in, so that emptying the field does not take it away mid-keystroke.
func (s *templatesScreen) syncSubject() {
	if !s.admin {
		return
	}
	if s.current().Kind == app.KindStandardReply && s.subject.Text == "" {
		s.subject.PlaceHolder = L(textTplNoSubject)
		s.subject.Disable()
	} else {
		s.subject.PlaceHolder = L(textTplSubjectHint)
		s.subject.Enable()
	}
	s.subject.Refresh()
}

func (s *templatesScreen) updateButtons(hasErrors bool) {
	dirty := s.dirty()
	if dirty && !hasErrors && !s.saving {
		s.save.Enable()
	} else {
		s.save.Disable()
	}
	if dirty && !s.saving && !s.base.ID.IsZero() {
		s.revert.Enable()
	} else {
		s.revert.Disable()
	}
	// Out of use or into use again: a saved template, without edits.
	s.retire.SetText(L(textTplRetire))
	if s.base.Retired {
		s.retire.SetText(L(textTplReinstate))
	}
	if s.admin && !s.base.ID.IsZero() {
		s.retire.Show()
	} else {
		s.retire.Hide()
	}
	if !dirty && !s.saving && !s.base.ID.IsZero() {
		s.retire.Enable()
	} else {
		s.retire.Disable()
	}
	s.retiredNote.Hidden = !s.base.Retired
	switch {
	case s.saving:
		s.setStatus(L(textTplSaving), widget.MediumImportance)
	case s.status.Text != "":
		// A save result stays until the next edit.
	case dirty && hasErrors:
		s.setStatus(L(textTplFixErrors), widget.DangerImportance)
	case dirty:
		s.setStatus(L(textTplUnsaved), widget.WarningImportance)
	}
}

func (s *templatesScreen) setStatus(text string, imp widget.Importance) {
	s.status.Importance = imp
	s.status.SetText(text)
}

// showIssues puts each issue under its field: errors in red, warnings
// with the warning icon, in the order LintTemplate gives them.
func (s *templatesScreen) showIssues(issues []app.LintIssue) {
	s.issues = issues
	for f, c := range s.fieldIssues {
		var rows []fyne.CanvasObject
		for _, i := range issues {
			if i.Field != f {
				continue
			}
			l := widget.NewLabel(L(i.Message))
			l.Wrapping = fyne.TextWrapWord
			icon := widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))
			if i.Severity == app.LintError {
				l.Importance = widget.DangerImportance
				icon = widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
			}
			rows = append(rows, container.NewBorder(nil, nil, container.NewVBox(icon), nil, l))
		}
		c.Objects = rows
		c.Refresh()
	}
}

// fieldIssueText is every message shown under a field, one per line (tests).
func (s *templatesScreen) fieldIssueText(field string) string {
	var out []string
	for _, i := range s.issues {
		if i.Field == field {
			out = append(out, L(i.Message))
		}
	}
	return strings.Join(out, "\n")
}

func (s *templatesScreen) doRevert() {
	s.fill(s.base)
	s.status.SetText("")
	s.relint()
}

func (s *templatesScreen) doSave() {
	if !s.admin || s.saving || !s.dirty() {
		return
	}
	t := s.current()
	if issues := app.LintTemplate(&t); app.HasLintErrors(issues) {
		return // the button is disabled; a shortcut must not get past it either
	}
	s.saving = true
	s.status.SetText("")
	s.relint()
	gen := s.gen
	s.tasks.run(func() func() {
		saved, warnings, err := s.svc.Save(s.ctx, s.sess, &t)
		return func() { s.saved(gen, t, saved, warnings, err) }
	})
}

// saved applies a save's result. The edits stay in the form whatever
// happened; only a success moves the base version on.
func (s *templatesScreen) saved(gen int, sent app.MessageTemplate, saved *app.MessageTemplate, warnings []app.LintIssue, err error) {
	s.saving = false
	if err == nil {
		i := slices.IndexFunc(s.all, func(t app.MessageTemplate) bool { return t.ID == saved.ID })
		if i >= 0 {
			s.all[i] = *saved
		} else {
			s.all = append(s.all, *saved)
		}
		slices.SortStableFunc(s.all, func(a, b app.MessageTemplate) int { return strings.Compare(a.Name, b.Name) })
	}
	if gen != s.gen {
		// The form shows another template by now.
		if err != nil {
			logError("save template", err, "template", sent.ID, "clinic", s.sess.ClinicID)
		}
		s.applyFilter()
		return
	}
	if err != nil {
		logError("save template", err, "template", sent.ID, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		var lint *app.TemplateLintError
		switch {
		case errors.As(err, &lint):
			for _, f := range []string{app.FieldName, app.FieldKind, app.FieldSubject, app.FieldText} {
				s.touched[f] = true
			}
			s.relint()
			s.showIssues(lint.Issues)
			s.setStatus(L(textTplRefused), widget.DangerImportance)
		case errors.Is(err, app.ErrForbidden):
			s.relint()
			s.setStatus(L(textTplNoRight), widget.DangerImportance)
		case errors.Is(err, app.ErrConflict):
			s.relint()
			s.setStatus(L(textTplConflict), widget.DangerImportance)
		default:
			// Perhaps passing (a full disk, a lost connection): Spara
			// stays enabled for another try.
			s.relint()
			s.setStatus(L(textTplSaveFailed), widget.DangerImportance)
			return
		}
		s.save.Disable() // until the next edit: saving again unchanged would fail the same way
		return
	}
	unchanged := s.current() == sent
	s.base = *saved
	if unchanged {
		s.fill(*saved) // the service trims name and subject
	} else {
		s.formTitle.SetText(saved.Name)
		s.changed.SetText(Lf(textTplChanged, saved.UpdatedAt.In(app.Stockholm).Format(dateLayout)))
	}
	for _, f := range []string{app.FieldName, app.FieldKind, app.FieldSubject, app.FieldText} {
		s.touched[f] = true
	}
	s.status.SetText("")
	s.relint()
	if !s.dirty() {
		if len(warnings) > 0 {
			s.setStatus(L(textTplSavedWarn), widget.WarningImportance)
		} else {
			s.setStatus(L(textTplSaved), widget.SuccessImportance)
		}
	}
	s.applyFilter()
}

// doRetire takes the shown template out of use, or into use again.
func (s *templatesScreen) doRetire() {
	if !s.admin || s.saving || s.dirty() || s.base.ID.IsZero() {
		return
	}
	base := s.base
	s.saving = true
	s.status.SetText("")
	s.updateButtons(false)
	gen := s.gen
	s.tasks.run(func() func() {
		saved, err := s.svc.SetRetired(s.ctx, s.sess, base.ID, base.UpdatedAt, !base.Retired)
		return func() {
			s.saving = false
			if err != nil {
				logError("retire template", err, "template", base.ID, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
				msg := textTplSaveFailed
				switch {
				case errors.Is(err, app.ErrConflict):
					msg = textTplConflict
				case errors.Is(err, app.ErrForbidden):
					msg = textTplNoRight
				}
				s.setStatus(L(msg), widget.DangerImportance)
				s.updateButtons(false)
				return
			}
			if i := slices.IndexFunc(s.all, func(t app.MessageTemplate) bool { return t.ID == saved.ID }); i >= 0 {
				s.all[i] = *saved
			}
			s.applyFilter()
			if gen == s.gen {
				s.base = *saved
				s.fill(*saved)
				done := L(textTplInUseDone)
				if saved.Retired {
					done = L(textTplRetiredDone)
				}
				s.setStatus(done, widget.SuccessImportance)
				s.relint()
			}
			s.content.Refresh()
		}
	})
}

// tplSubtitle is the list's second line of a template: its kind, and
// "ur bruk" when it is retired.
func tplSubtitle(t *app.MessageTemplate) string {
	if t.Retired {
		return L(app.TemplateKindLabel(t.Kind)) + " · " + L(textTplRetiredTag)
	}
	return L(app.TemplateKindLabel(t.Kind))
}
