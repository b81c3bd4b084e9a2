package ui

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/form"
)

// EServiceAdmin is the part of app.EServiceBuilder the e-service builder
// and the citizen preview use. app.EServiceBuilder satisfies it.
type EServiceAdmin interface {
	List(ctx context.Context, sess app.Session) ([]app.EServiceDraft, error)
	Create(ctx context.Context, sess app.Session, name string) (*app.EServiceDraft, error)
	SaveDefinition(ctx context.Context, sess app.Session, id app.ID, def form.Definition) error
	SaveDraft(ctx context.Context, sess app.Session, id app.ID, f *form.Form) error
	Preview(ctx context.Context, sess app.Session, id app.ID) (*app.PublishPreview, error)
	Publish(ctx context.Context, sess app.Session, id app.ID) (*form.Form, error)
}

// Texts of the e-service builder.
const (
	textEsTab          = "eservices.e_services"
	textEsTitle        = "eservices.clinic_e_services"
	textEsNew          = "eservices.new_e_service"
	textEsNewName      = "eservices.name_new_e_service"
	textEsCreate       = "eservices.create"
	textEsCancel       = "common.cancel"
	textEsLoading      = "common.loading_e_services"
	textEsListFailed   = "common.loading_eservices_failed"
	textEsPick         = "eservices.choose_e_service_list_or"
	textEsStandard     = "eservices.standard_read_only"
	textEsLocal        = "eservices.local"
	textEsPublishedN   = "eservices.published_version_inline"
	textEsNotPublished = "eservices.not_published"
	textEsHasDraft     = "eservices.draft"
	textEsStdNote      = "eservices.standard_e_services_come_from"
	textEsFormTab      = "common.form"
	textEsSettingsTab  = "eservices.settings"
	textEsSaveDraft    = "eservices.save_draft"
	textEsPreview      = "common.preview"
	textEsPublish      = "eservices.publish_ellipsis"
	textEsUnsaved      = "common.unsaved_changes"
	textEsSaving       = "common.saving"
	textEsSaved        = "eservices.draft_saved"
	textEsSaveFailed   = "eservices.something_went_wrong_while_saving"
	textEsDefRefused   = "eservices.settings_were_not_saved_fix"
	textEsNoRight      = "eservices.you_not_allowed_change_e"
	textEsProblems     = "eservices.form_has_problems_must_fixed"
	textEsVersionLine  = "eservices.published_version"
	textEsNoVersion    = "eservices.not_yet_published"
	textEsPublished    = "eservices.version_published"
	textEsPubFailed    = "eservices.something_went_wrong_while_publishing"
	textEsPubRefused   = "eservices.publishing_was_refused_fix_problems"
	textEsNoDraft      = "eservices.there_no_draft_publish"

	textEsFormTitle   = "eservices.heading"
	textEsFormDesc    = "eservices.introduction"
	textEsAddType     = "eservices.field_type"
	textEsAdd         = "eservices.add_field"
	textEsNoItems     = "eservices.form_has_no_fields_yet"
	textEsPickItem    = "eservices.choose_field_left_change"
	textEsItemHead    = "eservices.name_and_id"
	textEsLabel       = "eservices.question_or_heading"
	textEsHelp        = "eservices.help_text"
	textEsRequired    = "eservices.required"
	textEsRepeats     = "eservices.repeating_group_resident_add_several"
	textEsPage        = "eservices.page_its_own"
	textEsMin         = "eservices.minimum_value"
	textEsMax         = "eservices.maximum_value"
	textEsDecimals    = "eservices.number_decimals"
	textEsUnit        = "eservices.unit"
	textEsMaxLength   = "eservices.maximum_number_characters"
	textEsOptions     = "eservices.answer_options"
	textEsOptText     = "common.text"
	textEsOptScore    = "eservices.score"
	textEsAddOption   = "eservices.add_option"
	textEsLogic       = "eservices.show_only_when"
	textEsLogicNone   = "eservices.field_always_shown"
	textEsHasLogic    = "eservices.condition"
	textEsAll         = "eservices.all_conditions_hold"
	textEsAnyOf       = "eservices.any_condition_holds"
	textEsAddCond     = "eservices.add_condition"
	textEsCondItem    = "eservices.field"
	textEsCondValue   = "eservices.value"
	textEsMissingRef  = "eservices.missing"
	textEsAnswered    = "eservices.answered"
	textEsUnanswered  = "eservices.not_answered"
	textEsValidation  = "eservices.validation"
	textEsGeneral     = "eservices.problems_form"
	textEsNewQuestion = "eservices.new_question"
	textEsNewGroup    = "eservices.new_group"
	textEsNewInfo     = "eservices.information_text"
	textEsNewOption   = "eservices.option"

	textEsName       = "common.name"
	textEsDesc       = "eservices.description"
	textEsMinAge     = "eservices.minimum_age_years"
	textEsMaxAge     = "eservices.maximum_age_years"
	textEsProxy      = "eservices.guardians_children_under_13_may"
	textEsNamed      = "eservices.only_named_residents"
	textEsNamedNone  = "eservices.no_limit_everyone_who_meets"
	textEsNamedID    = "eservices.resident_id"
	textEsNamedUntil = "eservices.until_including_yyyy_mm_dd"
	textEsAddNamed   = "eservices.add_resident"
	textEsRole       = "eservices.cases_go"
	textEsQueue      = "eservices.queue"
	textEsQueueAll   = "eservices.everyone_role"
	textEsQueueHint  = "eservices.choose_staff_member_if_cases"
	textEsAutoReply  = "eservices.automatic_reply_resident"
	textEsAttach     = "eservices.resident_may_attach_files"
	textEsClosed     = "eservices.closed_new_cases"
	textEsClosedMsg  = "eservices.message_when_e_service_closed"
	textEsAgeNumber  = "eservices.age_must_whole_number"
	textEsBadDate    = "eservices.write_date_as_yyyy_mm"

	textEsPubTitle   = "eservices.publish_version"
	textEsPubChanges = "eservices.changes_from_published_version"
	textEsPubFirst   = "eservices.first_version_form"
	textEsPubNone    = "eservices.no_changes_questions"
	textEsPubProbs   = "eservices.problems_must_fixed_before_form"
	textEsPubFinal   = "eservices.published_version_never_changed_new"
	textEsPubConfirm = "eservices.publish"
	textEsClose      = "common.close"

	textEsAskTitle = "common.unsaved_changes"
	textEsAskBody  = "eservices.you_have_unsaved_changes_e"
	textEsStay     = "common.keep_editing"
	textEsLeave    = "common.leave_without_saving"
)

// typeLabels are the builder's names of the item types (form.Type.Label,
// marked for translation).
var typeLabels = map[form.Type]string{
	form.TypeText: K("common.text"), form.TypeLongText: K("eservices.long_text"), form.TypeNumber: K("eservices.number"), form.TypeDate: K("eservices.date"),
	form.TypeDateTime: K("eservices.date_time"), form.TypeTime: K("eservices.time_day"), form.TypeBoolean: K("eservices.yes_no"),
	form.TypeChoice: K("eservices.single_choice"), form.TypeMultiChoice: K("eservices.multiple_choice"), form.TypePersonnummer: K("common.personnummer"),
	form.TypePhone: K("eservices.phone_number"), form.TypeEmail: K("eservices.e_mail_address"), form.TypeDisplay: K("eservices.information_text"),
	form.TypeAttachment: K("common.attachment"), form.TypeGroup: K("eservices.group"),
}

// operatorLabels are the logic editor's operators (form.Operator.Label).
var operatorLabels = map[form.Operator]string{
	form.OpEquals: K("eservices.equals"), form.OpNotEquals: K("eservices.not_equal"), form.OpExists: K("eservices.is_answered"),
	form.OpGreater: K("eservices.greater_than"), form.OpLess: K("eservices.less_than"), form.OpGreaterEq: K("eservices.at_least"), form.OpLessEq: K("eservices.at_most"),
}

// editorOperators are the operators the logic editor offers.
var editorOperators = []form.Operator{form.OpEquals, form.OpNotEquals, form.OpExists, form.OpGreater, form.OpLess}

func typeLabel(t form.Type) string {
	if l, ok := typeLabels[t]; ok {
		return L(l)
	}
	return string(t)
}

func operatorLabel(o form.Operator) string {
	if l, ok := operatorLabels[o]; ok {
		return L(l)
	}
	return string(o)
}

// condWidgets are one condition row of the logic editor.
type condWidgets struct {
	item, op *widget.Select
	value    fyne.CanvasObject
}

// receivingRoles are the roles whose members can receive an e-service's cases.
var receivingRoles = []app.Role{app.RoleCaseReceiver, app.RoleCaseHandler}

type eservicesDeps struct {
	ctx       context.Context
	tasks     *tasks
	svc       EServiceAdmin
	dir       Directory
	residents demoResidents // for the preview's personas; nil: made up
	sess      app.Session
	clinic    app.Clinic
	clock     app.Clock
}

// eservicesScreen is the lokal administratör's e-service builder (R15,
// issue 7): the clinic's e-services on the left (local ones editable,
// activated standard ones read-only), and the chosen one's form and
// settings on the right. Every edit is checked at once with form.Check
// and Definition.Check, each problem shown at the item it names; Spara
// utkast stores the draft, Publicera … shows the diff and the problems
// and publishes only a form without problems. Leaving unsaved edits asks
// first.
type eservicesScreen struct {
	eservicesDeps
	content fyne.CanvasObject
	admin   bool

	all    []app.EServiceDraft
	list   *widget.List
	newBtn *widget.Button
	msg    *widget.Label

	// The e-service being edited: base* are as stored, def and f hold
	// the edits.
	cur        *app.EServiceDraft
	def        form.Definition
	f          *form.Form
	baseDef    string
	baseDigest string
	selected   string // item id in the editor
	problems   []form.Problem
	defProbs   []form.Problem
	busy       bool

	pick   *widget.Label
	editor fyne.CanvasObject
	// roleSel and queueSel: where the cases go (fillSettings).
	roleSel, queueSel *widget.Select
	name              *widget.Label
	version           *widget.Label
	stdNote           *widget.Label
	tabs              *container.AppTabs
	status            *widget.Label
	saveBtn           *widget.Button
	prevBtn           *widget.Button
	pubBtn            *widget.Button
	formTitle         *widget.Entry
	formDesc          *widget.Entry
	addType           *widget.Select
	addBtn            *widget.Button
	general           *fyne.Container
	outline           *fyne.Container
	itemBox           *fyne.Container
	settings          *fyne.Container
	defErrs           *widget.Label

	// The item editor's widgets, for tests.
	itemLabel    *textArea
	itemRequired *widget.Check
	itemProblems *widget.Label
	conds        []condWidgets
	addCond      *widget.Button

	// Dialogs.
	ask        *widget.PopUp
	pending    func()
	newPop     *widget.PopUp
	newName    *widget.Entry
	newOK      *widget.Button
	pubPop     *widget.PopUp
	pubText    *widget.Label
	pubConfirm *widget.Button
	prevPop    *widget.PopUp
	preview    *previewScreen
	selecting  bool
}

func newEServicesScreen(d eservicesDeps) *eservicesScreen {
	if d.clock == nil {
		d.clock = app.SystemClock{}
	}
	s := &eservicesScreen{eservicesDeps: d}
	s.admin = d.sess.Staff.Has(d.clinic.ID, app.RoleLocalAdmin)

	s.newBtn = widget.NewButtonWithIcon(L(textEsNew), theme.ContentAddIcon(), func() { s.request(s.askNew) })
	if !s.admin {
		s.newBtn.Hide()
	}
	s.msg = widget.NewLabel(L(textEsLoading))
	s.msg.Wrapping = fyne.TextWrapWord
	s.list = titledList(func() int { return len(s.all) }, true, func(id int) (string, string) {
		return L(s.all[id].EService.Name), eserviceInfo(&s.all[id])
	})
	s.list.OnSelected = s.listSelected
	left := container.NewBorder(container.NewVBox(s.newBtn, s.msg), nil, nil, nil, s.list)

	s.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.name.SizeName = theme.SizeNameSubHeadingText
	s.name.Truncation = fyne.TextTruncateEllipsis
	s.version = widget.NewLabel("")
	s.version.SizeName = theme.SizeNameCaptionText
	s.stdNote = widget.NewLabel(L(textEsStdNote))
	s.stdNote.Wrapping = fyne.TextWrapWord
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.saveBtn = widget.NewButtonWithIcon(L(textEsSaveDraft), theme.DocumentSaveIcon(), func() { s.save(nil) })
	s.prevBtn = widget.NewButtonWithIcon(L(textEsPreview), theme.VisibilityIcon(), s.showPreview)
	s.pubBtn = widget.NewButtonWithIcon(L(textEsPublish), theme.UploadIcon(), s.startPublish)
	s.pubBtn.Importance = widget.HighImportance

	s.tabs = container.NewAppTabs(
		container.NewTabItem(L(textEsFormTab), s.formTab()),
		container.NewTabItem(L(textEsSettingsTab), s.settingsTab()),
	)
	buttons := container.NewBorder(nil, nil, nil, container.NewHBox(s.prevBtn, s.saveBtn, s.pubBtn), s.status)
	head := container.NewVBox(s.name, s.version, s.stdNote)
	s.editor = container.NewBorder(head, container.NewVBox(widget.NewSeparator(), buttons), nil, nil, s.tabs)
	s.editor.Hide()
	s.pick = widget.NewLabel(L(textEsPick))
	s.pick.Wrapping = fyne.TextWrapWord
	s.pick.Alignment = fyne.TextAlignCenter
	right := container.NewStack(container.NewPadded(s.editor), container.NewCenter(container.NewGridWrap(fyne.NewSize(360, 80), s.pick)))

	split := container.NewHSplit(container.NewPadded(left), right)
	split.Offset = 0.24
	title := widget.NewLabelWithStyle(L(textEsTitle), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.content = container.NewBorder(container.NewVBox(title, widget.NewSeparator()), nil, nil, nil, split)
	s.load("")
	return s
}

// eserviceInfo is the list's second line about an e-service.
func eserviceInfo(e *app.EServiceDraft) string {
	if e.EService.Standard {
		return L(textEsStandard)
	}
	parts := []string{L(textEsLocal)}
	if n := len(e.Series.Published); n > 0 {
		parts = append(parts, Lf(textEsPublishedN, n))
	} else {
		parts = append(parts, L(textEsNotPublished))
	}
	if e.Series.Draft != nil {
		parts = append(parts, L(textEsHasDraft))
	}
	return strings.Join(parts, " · ")
}

// load reads the e-services and then shows the one with id (if any).
func (s *eservicesScreen) load(id app.ID) {
	s.tasks.run(func() func() {
		all, err := s.svc.List(s.ctx, s.sess)
		return func() { s.listed(all, err, id) }
	})
}

func (s *eservicesScreen) listed(all []app.EServiceDraft, err error, id app.ID) {
	if err != nil {
		logError("list e-services", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		s.msg.Importance = widget.DangerImportance
		s.msg.SetText(L(textEsListFailed))
		if errors.Is(err, app.ErrForbidden) {
			s.msg.SetText(L(textForbidden))
			s.newBtn.Hide()
		}
		s.msg.Show()
		return
	}
	// Local ones first (the ones to work on), each group by name.
	slices.SortStableFunc(all, func(a, b app.EServiceDraft) int {
		if a.EService.Standard != b.EService.Standard {
			if a.EService.Standard {
				return 1
			}
			return -1
		}
		return strings.Compare(a.EService.Name, b.EService.Name)
	})
	s.all = all
	s.msg.Hide()
	s.list.Refresh()
	if id != "" {
		for i := range s.all {
			if s.all[i].EService.ID == id {
				s.edit(s.all[i])
			}
		}
	}
	s.syncSelection()
}

func (s *eservicesScreen) syncSelection() {
	s.selecting = true
	defer func() { s.selecting = false }()
	for i := range s.all {
		if s.cur != nil && s.all[i].EService.ID == s.cur.EService.ID {
			s.list.Select(i)
			return
		}
	}
	s.list.UnselectAll()
}

func (s *eservicesScreen) listSelected(i widget.ListItemID) {
	if s.selecting || i < 0 || i >= len(s.all) {
		return
	}
	e := s.all[i]
	if s.cur != nil && s.cur.EService.ID == e.EService.ID {
		return
	}
	s.syncSelection()
	s.request(func() { s.edit(e) })
}

// selectByName chooses the e-service named name (tests).
func (s *eservicesScreen) selectByName(name string) bool {
	for i := range s.all {
		if s.all[i].EService.Name == name {
			s.list.Select(i)
			return true
		}
	}
	return false
}

// editable: a local e-service of the clinic, for its lokal administratör.
func (s *eservicesScreen) editable() bool {
	return s.admin && s.cur != nil && !s.cur.EService.Standard
}

// edit shows e in the editor.
func (s *eservicesScreen) edit(e app.EServiceDraft) {
	s.cur = &e
	s.def = form.Definition{Name: e.EService.Name, Description: e.EService.Description, Standard: e.EService.Standard}
	if e.EService.Definition != nil {
		s.def = *e.EService.Definition
	}
	series := e.Series
	s.f = series.StartDraft(e.EService.Name)
	if s.f.Title == "" {
		s.f.Title = e.EService.Name
	}
	s.markSaved()
	s.selected = ""
	s.status.SetText("")
	s.name.SetText(L(e.EService.Name))
	s.showVersion()
	s.stdNote.Hidden = !e.EService.Standard
	s.tabs.Hidden = e.EService.Standard
	for _, b := range []*widget.Button{s.saveBtn, s.pubBtn} {
		b.Hidden = !s.editable()
	}
	s.prevBtn.Hidden = e.EService.Standard
	s.fillForm()
	s.fillSettings()
	s.pick.Hide()
	s.editor.Show()
	s.syncSelection()
	s.recheck()
	s.content.Refresh()
}

func (s *eservicesScreen) markSaved() {
	s.baseDef = defKey(s.def)
	s.baseDigest = s.f.Digest()
}

func defKey(d form.Definition) string {
	b, _ := json.Marshal(d)
	return string(b)
}

func (s *eservicesScreen) showVersion() {
	if s.cur == nil {
		return
	}
	if n := len(s.cur.Series.Published); n > 0 {
		s.version.SetText(Lf(textEsVersionLine, n))
	} else {
		s.version.SetText(L(textEsNoVersion))
	}
}

func (s *eservicesScreen) dirty() bool {
	return s.editable() && (defKey(s.def) != s.baseDef || s.f.Digest() != s.baseDigest)
}

// edited is called after every change in the editor.
func (s *eservicesScreen) edited() {
	s.status.SetText("")
	s.recheck()
}

// recheck runs form.Check and Definition.Check and shows their problems
// at the items and settings they name.
func (s *eservicesScreen) recheck() {
	if s.cur == nil || s.f == nil {
		return
	}
	s.problems = nil
	var de *form.DefinitionError
	if err := s.f.Check(); errors.As(err, &de) {
		s.problems = de.Problems
	}
	s.defProbs = nil
	if err := s.def.Check(); errors.As(err, &de) {
		s.defProbs = de.Problems
	}
	var general []fyne.CanvasObject
	for _, p := range s.problems {
		if p.ItemID == "" || s.f.Item(p.ItemID) == nil {
			general = append(general, problemRow(p.Text))
		}
	}
	if len(general) > 0 {
		general = append([]fyne.CanvasObject{widget.NewLabelWithStyle(L(textEsGeneral), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}, general...)
	}
	s.general.Objects = general
	s.general.Refresh()
	var dt []string
	for _, p := range s.defProbs {
		dt = append(dt, p.Text)
	}
	s.defErrs.SetText(strings.Join(dt, "\n"))
	s.defErrs.Hidden = len(dt) == 0
	s.fillOutline()
	if s.itemProblems != nil {
		t := strings.Join(s.itemProblemTexts(s.selected), "\n")
		s.itemProblems.SetText(t)
		s.itemProblems.Hidden = t == ""
	}
	s.updateButtons()
}

func problemRow(text string) fyne.CanvasObject {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	return container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))), nil, l)
}

// itemProblemTexts are the problems that name the item id.
func (s *eservicesScreen) itemProblemTexts(id string) []string {
	var out []string
	for _, p := range s.problems {
		if id != "" && p.ItemID == id {
			out = append(out, p.Text)
		}
	}
	return out
}

func (s *eservicesScreen) updateButtons() {
	if !s.editable() {
		return
	}
	dirty := s.dirty()
	if dirty && !s.busy {
		s.saveBtn.Enable()
	} else {
		s.saveBtn.Disable()
	}
	if s.busy {
		s.pubBtn.Disable()
	} else {
		s.pubBtn.Enable()
	}
	switch {
	case s.busy:
		s.setStatus(L(textEsSaving), widget.MediumImportance)
	case s.status.Text != "":
	case len(s.problems) > 0:
		s.setStatus(Lf(textEsProblems, len(s.problems)), widget.DangerImportance)
	case dirty:
		s.setStatus(L(textEsUnsaved), widget.WarningImportance)
	}
}

func (s *eservicesScreen) setStatus(text string, imp widget.Importance) {
	s.status.Importance = imp
	s.status.SetText(text)
}

// ---- The form tab ----

func (s *eservicesScreen) formTab() fyne.CanvasObject {
	s.formTitle = widget.NewEntry()
	s.formTitle.OnChanged = func(t string) {
		if s.f != nil && s.f.Title != t {
			s.f.Title = t
			s.edited()
		}
	}
	s.formDesc = widget.NewEntry()
	s.formDesc.OnChanged = func(t string) {
		if s.f != nil && s.f.Description != t {
			s.f.Description = t
			s.edited()
		}
	}
	var types []string
	for _, t := range form.Types {
		types = append(types, typeLabel(t))
	}
	s.addType = newSelect(types, nil)
	s.addType.Selected = types[0]
	s.addBtn = widget.NewButtonWithIcon(L(textEsAdd), theme.ContentAddIcon(), func() {
		s.addItem(form.Types[max(0, s.addType.SelectedIndex())])
	})
	s.general = container.NewVBox()
	s.outline = container.NewVBox()
	s.itemBox = container.NewVBox()
	top := container.NewVBox(
		widget.NewForm(widget.NewFormItem(L(textEsFormTitle), s.formTitle), widget.NewFormItem(L(textEsFormDesc), s.formDesc)),
		container.NewBorder(nil, nil, widget.NewLabel(L(textEsAddType)), s.addBtn, s.addType),
		s.general,
	)
	outline := container.NewBorder(top, nil, nil, nil, container.NewVScroll(s.outline))
	split := container.NewHSplit(outline, container.NewVScroll(container.NewPadded(s.itemBox)))
	split.Offset = 0.45
	return split
}

func (s *eservicesScreen) fillForm() {
	s.formTitle.SetText(s.f.Title)
	s.formDesc.SetText(s.f.Description)
	for _, w := range []fyne.Disableable{s.formTitle, s.formDesc, s.addType, s.addBtn} {
		if s.editable() {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	s.fillOutline()
	s.fillItem()
}

// fillOutline lists the items as a tree, each with its problems marked
// and the buttons that move or remove it.
func (s *eservicesScreen) fillOutline() {
	var rows []fyne.CanvasObject
	var walk func(items []form.Item, depth int)
	walk = func(items []form.Item, depth int) {
		for i := range items {
			it := &items[i]
			id := it.ID
			name := it.Label
			if strings.TrimSpace(name) == "" {
				name = it.ID
			}
			text := typeLabel(it.Type) + ": " + shortened(name, outlineLabelRunes)
			if it.Required {
				text += " *"
			}
			if len(it.EnableWhen) > 0 {
				text += " · " + L(textEsHasLogic)
			}
			open := widget.NewButton(text, func() { s.selectItem(id) })
			open.Alignment = widget.ButtonAlignLeading
			if id == s.selected {
				open.Importance = widget.HighImportance
			}
			var icon fyne.CanvasObject = layout.NewSpacer()
			if len(s.itemProblemTexts(id)) > 0 {
				icon = widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
				open.Importance = widget.DangerImportance
			}
			var tools fyne.CanvasObject = layout.NewSpacer()
			if s.editable() {
				up := newIconButton(L(textA11yMoveUp), theme.MoveUpIcon(), func() { s.move(id, -1) })
				down := newIconButton(L(textA11yMoveDown), theme.MoveDownIcon(), func() { s.move(id, 1) })
				del := newIconButton(L(textA11yRemoveItem), theme.DeleteIcon(), func() { s.removeItem(id) })
				if i == 0 {
					up.Disable()
				}
				if i == len(items)-1 {
					down.Disable()
				}
				tools = container.NewHBox(up, down, del)
			}
			indent := canvasSpacer(float32(depth) * 20)
			rows = append(rows, container.NewBorder(nil, nil, container.NewHBox(indent, icon), tools, open))
			walk(it.Items, depth+1)
		}
	}
	if s.f != nil {
		walk(s.f.Items, 0)
	}
	if len(rows) == 0 {
		l := widget.NewLabel(L(textEsNoItems))
		l.Wrapping = fyne.TextWrapWord
		rows = append(rows, l)
	}
	s.outline.Objects = rows
	s.outline.Refresh()
}

// outlineLabelRunes is the most of a question's text the outline shows:
// a button's text is not shortened by Fyne, and a long question would make
// the editor wider than a laptop's screen. The whole text is in the field
// editor beside it.
const outlineLabelRunes = 40

// shortened is text cut to at most n runes, the cut marked with "…".
func shortened(text string, n int) string {
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	if n < 1 {
		return ""
	}
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// canvasSpacer is an empty object w wide.
func canvasSpacer(w float32) fyne.CanvasObject {
	r := widget.NewLabel("")
	r.Hide()
	return container.NewGridWrap(fyne.NewSize(w, 1), r)
}

func (s *eservicesScreen) selectItem(id string) {
	s.selected = id
	s.fillOutline()
	s.fillItem()
}

// nextID is a new item id, unique in the form and in every published
// version (ids are stable across versions, so a removed id is not reused).
func (s *eservicesScreen) nextID() string {
	n := 0
	seen := func(f *form.Form) {
		f.Walk(func(it, _ *form.Item) bool {
			if rest, ok := strings.CutPrefix(it.ID, "falt-"); ok {
				if k, err := strconv.Atoi(rest); err == nil && k > n {
					n = k
				}
			}
			return true
		})
	}
	seen(s.f)
	if s.cur != nil {
		for _, p := range s.cur.Series.Published {
			seen(p.Form)
		}
	}
	return "falt-" + strconv.Itoa(n+1)
}

// addItem adds an item of type t: into the chosen group, after the
// chosen item, or last.
func (s *eservicesScreen) addItem(t form.Type) {
	if !s.editable() {
		return
	}
	it := form.Item{ID: s.nextID(), Type: t, Label: L(textEsNewQuestion)}
	switch t {
	case form.TypeGroup:
		it.Label = L(textEsNewGroup)
	case form.TypeDisplay:
		it.Label = L(textEsNewInfo)
	case form.TypeChoice, form.TypeMultiChoice:
		it.Options = []form.Option{{Code: "1", Label: Lf(textEsNewOption, 1)}, {Code: "2", Label: Lf(textEsNewOption, 2)}}
	}
	if sel := s.f.Item(s.selected); sel != nil && sel.Type == form.TypeGroup {
		sel.Items = append(sel.Items, it)
	} else if list, i := locate(&s.f.Items, s.selected); list != nil {
		*list = slices.Insert(*list, i+1, it)
	} else {
		s.f.Items = append(s.f.Items, it)
	}
	s.selected = it.ID
	s.fillItem()
	s.edited()
}

// locate finds the slice that holds the item id and its index.
func locate(items *[]form.Item, id string) (*[]form.Item, int) {
	if id == "" {
		return nil, -1
	}
	for i := range *items {
		if (*items)[i].ID == id {
			return items, i
		}
		if l, j := locate(&(*items)[i].Items, id); l != nil {
			return l, j
		}
	}
	return nil, -1
}

func (s *eservicesScreen) move(id string, d int) {
	list, i := locate(&s.f.Items, id)
	if list == nil || i+d < 0 || i+d >= len(*list) || !s.editable() {
		return
	}
	(*list)[i], (*list)[i+d] = (*list)[i+d], (*list)[i]
	s.selected = id
	s.fillItem()
	s.edited()
}

// removeItem removes an item (and what it holds). Conditions that refer
// to it stay, so that form.Check shows them at their items.
func (s *eservicesScreen) removeItem(id string) {
	list, i := locate(&s.f.Items, id)
	if list == nil || !s.editable() {
		return
	}
	*list = slices.Delete(*list, i, i+1)
	if s.f.Item(s.selected) == nil {
		s.selected = ""
	}
	s.fillItem()
	s.edited()
}

// itemRefs are the items a condition can refer to: every answered item
// but it, in document order.
func (s *eservicesScreen) itemRefs(self string) []*form.Item {
	var out []*form.Item
	s.f.Walk(func(it, _ *form.Item) bool {
		if it.ID != self && it.Type != form.TypeGroup && it.Type != form.TypeDisplay {
			out = append(out, it)
		}
		return true
	})
	return out
}

func refLabel(it *form.Item) string {
	name := it.Label
	if strings.TrimSpace(name) == "" {
		name = it.ID
	}
	return name + " (" + it.ID + ")"
}

// fillItem shows the chosen item's editor.
func (s *eservicesScreen) fillItem() {
	s.itemLabel, s.itemRequired, s.itemProblems, s.conds, s.addCond = nil, nil, nil, nil, nil
	it := s.f.Item(s.selected)
	if it == nil {
		l := widget.NewLabel(L(textEsPickItem))
		l.Wrapping = fyne.TextWrapWord
		s.itemBox.Objects = []fyne.CanvasObject{l}
		s.itemBox.Refresh()
		return
	}
	id := it.ID
	get := func() *form.Item { return s.f.Item(id) }
	bold := func(t string) *widget.Label {
		return widget.NewLabelWithStyle(t, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	var objs []fyne.CanvasObject
	objs = append(objs, bold(Lf(textEsItemHead, typeLabel(it.Type), it.ID)))
	s.itemProblems = widget.NewLabel(strings.Join(s.itemProblemTexts(id), "\n"))
	s.itemProblems.Wrapping = fyne.TextWrapWord
	s.itemProblems.Importance = widget.DangerImportance
	s.itemProblems.Hidden = s.itemProblems.Text == ""
	objs = append(objs, s.itemProblems)

	s.itemLabel = newTextArea()
	s.itemLabel.MultiLine, s.itemLabel.Wrapping = false, fyne.TextWrapOff // multi-line for a text to show, below
	s.itemLabel.SetText(it.Label)
	if it.Type == form.TypeDisplay {
		s.itemLabel.MultiLine = true
		s.itemLabel.Wrapping = fyne.TextWrapWord
	}
	s.itemLabel.OnChanged = func(t string) { get().Label = t; s.edited() }
	help := widget.NewEntry()
	help.SetText(it.Help)
	help.OnChanged = func(t string) { get().Help = t; s.edited() }
	fi := []*widget.FormItem{widget.NewFormItem(L(textEsLabel), s.itemLabel)}
	if it.Type != form.TypeDisplay {
		fi = append(fi, widget.NewFormItem(L(textEsHelp), help))
	}
	objs = append(objs, widget.NewForm(fi...))
	if it.Type != form.TypeDisplay {
		s.itemRequired = widget.NewCheck(L(textEsRequired), func(b bool) { get().Required = b; s.edited() })
		s.itemRequired.Checked = it.Required
		objs = append(objs, s.itemRequired)
	}
	if it.Type == form.TypeGroup {
		rep := widget.NewCheck(L(textEsRepeats), nil)
		rep.Checked = it.Repeats
		rep.OnChanged = func(b bool) { get().Repeats = b; s.edited() }
		page := widget.NewCheck(L(textEsPage), nil)
		page.Checked = it.Page
		page.OnChanged = func(b bool) { get().Page = b; s.edited() }
		objs = append(objs, rep, page)
	}
	objs = append(objs, s.validationEditor(it, get)...)
	if it.Type == form.TypeChoice || it.Type == form.TypeMultiChoice {
		objs = append(objs, s.optionsEditor(it, get)...)
	}
	objs = append(objs, s.logicEditor(it, get)...)
	for _, o := range objs {
		if w, ok := o.(fyne.Disableable); ok && !s.editable() {
			w.Disable()
		}
	}
	if !s.editable() {
		s.itemLabel.Disable()
		help.Disable()
	}
	s.itemBox.Objects = objs
	s.itemBox.Refresh()
}

// numberEntry is an entry for an optional number: empty is nil.
func numberEntry(v *float64, set func(*float64)) *widget.Entry {
	e := widget.NewEntry()
	if v != nil {
		e.SetText(numberText(*v))
	}
	e.OnChanged = func(t string) {
		if strings.TrimSpace(t) == "" {
			set(nil)
			return
		}
		if f, ok := form.ParseNumber(t); ok {
			set(&f)
		}
	}
	return e
}

func intEntry(v *int, set func(*int)) *widget.Entry {
	e := widget.NewEntry()
	if v != nil {
		e.SetText(strconv.Itoa(*v))
	}
	e.OnChanged = func(t string) {
		t = strings.TrimSpace(t)
		if t == "" {
			set(nil)
			return
		}
		if n, err := strconv.Atoi(t); err == nil {
			set(&n)
		}
	}
	return e
}

// validationEditor edits the rules of answers: bounds, decimals and unit
// of a number, the length of a text.
func (s *eservicesScreen) validationEditor(it *form.Item, get func() *form.Item) []fyne.CanvasObject {
	var fi []*widget.FormItem
	switch it.Type {
	case form.TypeNumber:
		fi = append(fi,
			widget.NewFormItem(L(textEsMin), numberEntry(it.Min, func(f *float64) { get().Min = f; s.edited() })),
			widget.NewFormItem(L(textEsMax), numberEntry(it.Max, func(f *float64) { get().Max = f; s.edited() })),
			widget.NewFormItem(L(textEsDecimals), intEntry(it.Decimals, func(n *int) { get().Decimals = n; s.edited() })))
		unit := widget.NewEntry()
		if it.Unit != nil {
			unit.SetText(it.Unit.Text())
		}
		unit.OnChanged = func(t string) {
			if strings.TrimSpace(t) == "" {
				get().Unit = nil
			} else {
				get().Unit = &form.Coding{Display: t}
			}
			s.edited()
		}
		fi = append(fi, widget.NewFormItem(L(textEsUnit), unit))
	case form.TypeText, form.TypeLongText:
		var cur *int
		if it.MaxLength > 0 {
			cur = &it.MaxLength
		}
		fi = append(fi, widget.NewFormItem(L(textEsMaxLength), intEntry(cur, func(n *int) {
			get().MaxLength = 0
			if n != nil {
				get().MaxLength = *n
			}
			s.edited()
		})))
	}
	if len(fi) == 0 {
		return nil
	}
	f := widget.NewForm(fi...)
	if !s.editable() {
		for _, x := range fi {
			if w, ok := x.Widget.(fyne.Disableable); ok {
				w.Disable()
			}
		}
	}
	return []fyne.CanvasObject{widget.NewSeparator(), widget.NewLabelWithStyle(L(textEsValidation), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), f}
}

// optionsEditor edits a choice's options: text and score, add, remove.
func (s *eservicesScreen) optionsEditor(it *form.Item, get func() *form.Item) []fyne.CanvasObject {
	objs := []fyne.CanvasObject{widget.NewSeparator(), widget.NewLabelWithStyle(L(textEsOptions), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	for i, o := range it.Options {
		i := i
		text := widget.NewEntry()
		text.PlaceHolder = L(textEsOptText)
		text.SetText(o.Label)
		text.OnChanged = func(t string) { get().Options[i].Label = t; s.edited() }
		score := numberEntry(o.Score, func(f *float64) { get().Options[i].Score = f; s.edited() })
		score.PlaceHolder = L(textEsOptScore)
		del := newIconButton(L(textA11yRemoveOption), theme.DeleteIcon(), func() {
			x := get()
			x.Options = slices.Delete(x.Options, i, i+1)
			s.fillItem()
			s.edited()
		})
		if !s.editable() {
			text.Disable()
			score.Disable()
			del.Disable()
		}
		objs = append(objs, container.NewBorder(nil, nil, nil, container.NewHBox(container.NewGridWrap(fyne.NewSize(90, score.MinSize().Height), score), del), text))
	}
	add := widget.NewButtonWithIcon(L(textEsAddOption), theme.ContentAddIcon(), func() {
		x := get()
		n := 1
		for {
			if !slices.ContainsFunc(x.Options, func(o form.Option) bool { return o.Code == strconv.Itoa(n) }) {
				break
			}
			n++
		}
		x.Options = append(x.Options, form.Option{Code: strconv.Itoa(n), Label: Lf(textEsNewOption, n)})
		s.fillItem()
		s.edited()
	})
	if !s.editable() {
		add.Disable()
	}
	return append(objs, container.NewHBox(add))
}

// logicEditor edits when the item shows: condition rows (item, operator,
// value) combined with alla/någon.
func (s *eservicesScreen) logicEditor(it *form.Item, get func() *form.Item) []fyne.CanvasObject {
	objs := []fyne.CanvasObject{widget.NewSeparator(), widget.NewLabelWithStyle(L(textEsLogic), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	if len(it.EnableWhen) == 0 {
		objs = append(objs, widget.NewLabel(L(textEsLogicNone)))
	} else {
		beh := widget.NewRadioGroup([]string{L(textEsAll), L(textEsAnyOf)}, nil)
		beh.Horizontal = true
		beh.Required = true
		beh.Selected = L(textEsAll)
		if it.EnableBehavior == form.Any {
			beh.Selected = L(textEsAnyOf)
		}
		beh.OnChanged = func(v string) {
			get().EnableBehavior = form.All
			if v == L(textEsAnyOf) {
				get().EnableBehavior = form.Any
			}
			s.edited()
		}
		if !s.editable() {
			beh.Disable()
		}
		objs = append(objs, beh)
	}
	refs := s.itemRefs(it.ID)
	var refNames []string
	for _, r := range refs {
		refNames = append(refNames, refLabel(r))
	}
	var opNames []string
	for _, o := range editorOperators {
		opNames = append(opNames, operatorLabel(o))
	}
	for i, c := range it.EnableWhen {
		i := i
		cond := func() *form.Condition { return &get().EnableWhen[i] }
		pickItem := newSelect(refNames, nil)
		pickItem.PlaceHolder = L(textEsCondItem)
		var ref *form.Item
		for _, r := range refs {
			if r.ID == c.Item {
				ref = r
				pickItem.Selected = refLabel(r)
			}
		}
		if ref == nil && c.Item != "" {
			pickItem.PlaceHolder = Lf(textEsMissingRef, c.Item)
		}
		pickItem.OnChanged = func(string) {
			if k := pickItem.SelectedIndex(); k >= 0 {
				cond().Item = refs[k].ID
				cond().Value = form.Value{}
				s.fillItem()
				s.edited()
			}
		}
		ops := newSelect(opNames, nil)
		ops.Selected = operatorLabel(c.Op)
		ops.OnChanged = func(string) {
			if k := ops.SelectedIndex(); k >= 0 {
				cond().Op = editorOperators[k]
				if cond().Op == form.OpExists {
					cond().Value = form.BoolValue(true)
				}
				s.fillItem()
				s.edited()
			}
		}
		value := s.conditionValue(ref, c, cond)
		del := newIconButton(L(textA11yRemoveCondition), theme.DeleteIcon(), func() {
			x := get()
			x.EnableWhen = slices.Delete(x.EnableWhen, i, i+1)
			if len(x.EnableWhen) == 0 {
				x.EnableWhen, x.EnableBehavior = nil, ""
			}
			s.fillItem()
			s.edited()
		})
		if !s.editable() {
			pickItem.Disable()
			ops.Disable()
			del.Disable()
			if w, ok := value.(fyne.Disableable); ok {
				w.Disable()
			}
		}
		s.conds = append(s.conds, condWidgets{item: pickItem, op: ops, value: value})
		objs = append(objs, container.NewBorder(nil, nil, nil, del, container.NewGridWithColumns(3, pickItem, ops, value)))
	}
	add := widget.NewButtonWithIcon(L(textEsAddCond), theme.ContentAddIcon(), func() {
		x := get()
		c := form.Condition{Op: form.OpEquals}
		if len(refs) > 0 {
			c.Item = refs[0].ID
		}
		x.EnableWhen = append(x.EnableWhen, c)
		if x.EnableBehavior == "" {
			x.EnableBehavior = form.All
		}
		s.fillItem()
		s.edited()
	})
	if !s.editable() || len(refs) == 0 {
		add.Disable()
	}
	s.addCond = add
	return append(objs, container.NewHBox(add))
}

// conditionValue is the widget for a condition's value, fitting the type
// of the item referred to.
func (s *eservicesScreen) conditionValue(ref *form.Item, c form.Condition, cond func() *form.Condition) fyne.CanvasObject {
	set := func(v form.Value) { cond().Value = v; s.edited() }
	if c.Op == form.OpExists {
		sel := newSelect([]string{L(textEsAnswered), L(textEsUnanswered)}, nil)
		sel.Selected = L(textEsUnanswered)
		if c.Value.Bool {
			sel.Selected = L(textEsAnswered)
		}
		sel.OnChanged = func(v string) { set(form.BoolValue(v == L(textEsAnswered))) }
		return sel
	}
	switch {
	case ref == nil:
		e := widget.NewEntry()
		e.PlaceHolder = L(textEsCondValue)
		e.Disable()
		return e
	case ref.Type == form.TypeBoolean:
		sel := newSelect([]string{L(textFvYes), L(textFvNo)}, nil)
		sel.PlaceHolder = L(textEsCondValue)
		if c.Item != "" {
			sel.Selected = L(textFvNo)
			if c.Value.Bool {
				sel.Selected = L(textFvYes)
			}
		}
		sel.OnChanged = func(v string) { set(form.BoolValue(v == L(textFvYes))) }
		return sel
	case ref.Type == form.TypeChoice || ref.Type == form.TypeMultiChoice:
		labels := optionLabels(ref)
		sel := newSelect(labels, nil)
		sel.PlaceHolder = L(textEsCondValue)
		for i, o := range ref.Options {
			if o.Code == c.Value.Code {
				sel.Selected = labels[i]
			}
		}
		sel.OnChanged = func(string) {
			if k := sel.SelectedIndex(); k >= 0 {
				set(form.Value{Code: ref.Options[k].Code, System: ref.Options[k].System})
			}
		}
		return sel
	case ref.Type == form.TypeNumber:
		e := widget.NewEntry()
		e.PlaceHolder = L(textEsCondValue)
		if c.Value.Number != 0 {
			e.SetText(numberText(c.Value.Number))
		}
		e.OnChanged = func(t string) {
			f, _ := form.ParseNumber(t)
			set(form.NumberValue(f))
		}
		return e
	}
	e := widget.NewEntry()
	e.PlaceHolder = L(textEsCondValue)
	e.SetText(c.Value.Text)
	e.OnChanged = func(t string) { set(form.TextValue(t)) }
	return e
}

// ---- The settings tab ----

func (s *eservicesScreen) settingsTab() fyne.CanvasObject {
	s.settings = container.NewVBox()
	s.defErrs = widget.NewLabel("")
	s.defErrs.Wrapping = fyne.TextWrapWord
	s.defErrs.Importance = widget.DangerImportance
	s.defErrs.Hide()
	return container.NewVScroll(container.NewPadded(container.NewVBox(s.defErrs, s.settings)))
}

// fillSettings shows the definition: who may use it, where cases go,
// the automatic reply, attachments, closed.
func (s *eservicesScreen) fillSettings() {
	d := &s.def
	name := widget.NewEntry()
	name.SetText(d.Name)
	name.OnChanged = func(t string) { d.Name = t; s.edited() }
	desc := newTextArea()
	desc.SetText(d.Description)
	desc.OnChanged = func(t string) { d.Description = t; s.edited() }
	ageErr := widget.NewLabel(L(textEsAgeNumber))
	ageErr.Importance = widget.DangerImportance
	ageErr.Hide()
	age := func(v *int, set func(*int)) *widget.Entry {
		e := intEntry(v, func(n *int) { set(n); s.edited() })
		inner := e.OnChanged
		e.OnChanged = func(t string) {
			_, err := strconv.Atoi(strings.TrimSpace(t))
			ageErr.Hidden = strings.TrimSpace(t) == "" || err == nil
			ageErr.Refresh()
			inner(t)
		}
		return e
	}
	minAge := age(d.Availability.MinAge, func(n *int) { d.Availability.MinAge = n })
	maxAge := age(d.Availability.MaxAge, func(n *int) { d.Availability.MaxAge = n })
	proxy := widget.NewCheck(L(textEsProxy), func(b bool) { d.Availability.Proxy = b; s.edited() })
	proxy.Checked = d.Availability.Proxy
	var roles []string
	for _, r := range receivingRoles {
		roles = append(roles, L(r.Label()))
	}
	role := newSelect(roles, nil)
	for i, r := range receivingRoles {
		if string(r) == d.ReceivingRole {
			role.Selected = roles[i]
		}
	}
	// The queue: everyone with the role, or one staff member who holds
	// it in the clinic (app.Route).
	queue := newSelect(nil, nil)
	var queueIDs []app.ID
	fillQueue := func(roleChanged bool) {
		r := app.Role(d.ReceivingRole)
		if r == "" {
			r = app.RoleCaseReceiver
		}
		opts, ids := []string{L(textEsQueueAll)}, []app.ID{""}
		if s.dir != nil {
			all, _ := s.dir.AllStaff(s.ctx)
			slices.SortFunc(all, func(a, b app.Staff) int { return strings.Compare(a.Name, b.Name) })
			for _, st := range all {
				if st.Has(s.sess.ClinicID, r) {
					opts, ids = append(opts, st.Name), append(ids, st.ID)
				}
			}
		}
		queueIDs = ids
		queue.OnChanged = nil
		queue.SetOptions(opts)
		queue.SetSelectedIndex(0)
		if k := slices.Index(ids, app.ID(d.Queue)); k > 0 {
			queue.SetSelectedIndex(k)
		} else if d.Queue != "" && roleChanged {
			// The named staff member does not hold the new role. (When
			// loading, a queue whose staff member lost the role stays as
			// saved: Route goes by the role then, as "Alla med rollen" says.)
			d.Queue = ""
		}
		queue.OnChanged = func(string) {
			if k := queue.SelectedIndex(); k >= 0 && k < len(queueIDs) {
				d.Queue = string(queueIDs[k])
				s.edited()
			}
		}
	}
	fillQueue(false)
	s.roleSel, s.queueSel = role, queue
	queueHint := widget.NewLabel(L(textEsQueueHint))
	queueHint.Wrapping = fyne.TextWrapWord
	queueHint.Importance = widget.LowImportance
	role.OnChanged = func(string) {
		if k := role.SelectedIndex(); k >= 0 {
			d.ReceivingRole = string(receivingRoles[k])
			fillQueue(true)
			s.edited()
		}
	}
	auto := newTextArea()
	auto.SetText(d.AutoReply)
	auto.OnChanged = func(t string) { d.AutoReply = t; s.edited() }
	attach := widget.NewCheck(L(textEsAttach), func(b bool) { d.AttachmentsAllowed = b; s.edited() })
	attach.Checked = d.AttachmentsAllowed
	closedMsg := newTextArea()
	closedMsg.SetText(d.ClosedMessage)
	closedMsg.OnChanged = func(t string) { d.ClosedMessage = t; s.edited() }
	closed := widget.NewCheck(L(textEsClosed), func(b bool) { d.Closed = b; s.edited() })
	closed.Checked = d.Closed

	f := widget.NewForm(
		widget.NewFormItem(L(textEsName), name),
		widget.NewFormItem(L(textEsDesc), desc),
		widget.NewFormItem(L(textEsMinAge), minAge),
		widget.NewFormItem(L(textEsMaxAge), maxAge),
	)
	objs := []fyne.CanvasObject{f, ageErr, proxy, s.namedEditor()}
	objs = append(objs, widget.NewForm(
		widget.NewFormItem(L(textEsRole), role),
		widget.NewFormItem(L(textEsQueue), queue),
	), queueHint, widget.NewForm(
		widget.NewFormItem(L(textEsAutoReply), auto),
	), attach, closed, widget.NewForm(widget.NewFormItem(L(textEsClosedMsg), closedMsg)))
	if !s.editable() {
		for _, w := range []fyne.Disableable{name, desc, minAge, maxAge, proxy, role, queue, auto, attach, closedMsg, closed} {
			w.Disable()
		}
	}
	s.settings.Objects = objs
	s.settings.Refresh()
}

// namedEditor edits the named residents, each with an end date.
func (s *eservicesScreen) namedEditor() fyne.CanvasObject {
	d := &s.def
	box := container.NewVBox(widget.NewLabelWithStyle(L(textEsNamed), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	if len(d.Availability.Named) == 0 {
		l := widget.NewLabel(L(textEsNamedNone))
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	for i, n := range d.Availability.Named {
		i := i
		id := widget.NewEntry()
		id.PlaceHolder = L(textEsNamedID)
		id.SetText(n.ResidentID)
		id.OnChanged = func(t string) { d.Availability.Named[i].ResidentID = strings.TrimSpace(t); s.edited() }
		until := widget.NewEntry()
		until.PlaceHolder = L(textEsNamedUntil)
		if !n.Until.IsZero() {
			until.SetText(n.Until.In(app.Stockholm).Format("2006-01-02"))
		}
		bad := widget.NewLabel(L(textEsBadDate))
		bad.Importance = widget.DangerImportance
		bad.Hide()
		until.OnChanged = func(t string) {
			t = strings.TrimSpace(t)
			if t == "" {
				d.Availability.Named[i].Until = time.Time{}
				bad.Hide()
			} else if day, err := time.ParseInLocation("2006-01-02", t, app.Stockholm); err == nil {
				d.Availability.Named[i].Until = day
				bad.Hide()
			} else {
				bad.Show()
			}
			s.edited()
		}
		del := newIconButton(L(textA11yRemoveNamed), theme.DeleteIcon(), func() {
			d.Availability.Named = slices.Delete(d.Availability.Named, i, i+1)
			if len(d.Availability.Named) == 0 {
				d.Availability.Named = nil
			}
			s.fillSettings()
			s.edited()
		})
		if !s.editable() {
			id.Disable()
			until.Disable()
			del.Disable()
		}
		box.Add(container.NewBorder(nil, bad, nil, del, container.NewGridWithColumns(2, id, until)))
	}
	add := widget.NewButtonWithIcon(L(textEsAddNamed), theme.ContentAddIcon(), func() {
		d.Availability.Named = append(d.Availability.Named, form.NamedResident{})
		s.fillSettings()
		s.edited()
	})
	if !s.editable() {
		add.Disable()
	}
	box.Add(container.NewHBox(add))
	return box
}

// ---- Saving and publishing ----

// save stores the settings and the draft; then runs next (publishing).
func (s *eservicesScreen) save(next func()) {
	if !s.editable() || s.busy {
		return
	}
	if !s.dirty() {
		if next != nil {
			next()
		}
		return
	}
	s.busy = true
	s.status.SetText("")
	s.updateButtons()
	id, def, f := s.cur.EService.ID, s.def, s.f.Clone()
	s.tasks.run(func() func() {
		err := s.svc.SaveDefinition(s.ctx, s.sess, id, def)
		defErr := err != nil
		if err == nil {
			err = s.svc.SaveDraft(s.ctx, s.sess, id, f)
		}
		return func() { s.saved(id, def, f, defErr, err, next) }
	})
}

func (s *eservicesScreen) saved(id app.ID, def form.Definition, f *form.Form, defErr bool, err error, next func()) {
	s.busy = false
	if s.cur == nil || s.cur.EService.ID != id {
		if err != nil {
			logError("save e-service", err, "eservice", id, "clinic", s.sess.ClinicID)
		}
		return
	}
	if err != nil {
		logError("save e-service", err, "eservice", id, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		s.status.SetText("")
		switch {
		case errors.Is(err, app.ErrForbidden):
			s.setStatus(L(textEsNoRight), widget.DangerImportance)
		case defErr && errors.Is(err, form.ErrDefinition):
			s.setStatus(L(textEsDefRefused), widget.DangerImportance)
			s.tabs.SelectIndex(1)
		default:
			s.setStatus(L(textEsSaveFailed), widget.DangerImportance)
		}
		s.updateButtons()
		return
	}
	s.baseDef = defKey(def)
	s.baseDigest = f.Digest()
	s.cur.EService.Name, s.cur.EService.Description = strings.TrimSpace(def.Name), def.Description
	s.cur.EService.Definition = &def
	s.cur.Series.Draft = f.Clone()
	s.name.SetText(s.cur.EService.Name)
	for i := range s.all {
		if s.all[i].EService.ID == id {
			s.all[i] = *s.cur
		}
	}
	s.list.Refresh()
	s.status.SetText("")
	s.setStatus(L(textEsSaved), widget.SuccessImportance)
	s.recheck()
	if next != nil {
		next()
	}
}

// startPublish saves what is unsaved, then shows the publish dialog.
func (s *eservicesScreen) startPublish() {
	s.save(s.askPublish)
}

func (s *eservicesScreen) askPublish() {
	if s.cur == nil {
		return
	}
	id := s.cur.EService.ID
	if s.cur.Series.Draft == nil {
		// Nothing changed since the last publishing: store the draft
		// StartDraft made, so that there is something to compare.
		if s.f.Digest() == s.baseDigest && len(s.cur.Series.Published) > 0 {
			s.setStatus(L(textEsNoDraft), widget.WarningImportance)
			return
		}
	}
	s.busy = true
	s.updateButtons()
	s.tasks.run(func() func() {
		p, err := s.svc.Preview(s.ctx, s.sess, id)
		return func() { s.previewed(id, p, err) }
	})
}

func (s *eservicesScreen) previewed(id app.ID, p *app.PublishPreview, err error) {
	s.busy = false
	s.status.SetText("")
	if s.cur == nil || s.cur.EService.ID != id {
		return
	}
	if err != nil {
		logError("publish preview", err, "eservice", id, "clinic", s.sess.ClinicID)
		if errors.Is(err, app.ErrInvalid) {
			s.setStatus(L(textEsNoDraft), widget.WarningImportance)
		} else {
			s.setStatus(L(textEsPubFailed), widget.DangerImportance)
		}
		s.updateButtons()
		return
	}
	s.updateButtons()
	s.showPublishDialog(p)
}

// publishText is the publish dialog's text: the diff's Swedish sentences
// and the problems.
func (s *eservicesScreen) publishText(p *app.PublishPreview) string {
	var b strings.Builder
	if len(s.cur.Series.Published) == 0 {
		b.WriteString(L(textEsPubFirst))
	} else if p.Diff.Empty() {
		b.WriteString(L(textEsPubNone))
	} else {
		b.WriteString(L(textEsPubChanges))
		for _, c := range p.Diff.Changes {
			b.WriteString("\n• " + c.Text)
		}
	}
	if len(p.Problems) > 0 {
		b.WriteString("\n\n" + L(textEsPubProbs))
		for _, pr := range p.Problems {
			b.WriteString("\n• " + pr.Text)
		}
	} else {
		b.WriteString("\n\n" + L(textEsPubFinal))
	}
	return b.String()
}

func (s *eservicesScreen) showPublishDialog(p *app.PublishPreview) {
	c := fyne.CurrentApp().Driver().CanvasForObject(s.content)
	if c == nil {
		return
	}
	s.pubText = widget.NewLabel(s.publishText(p))
	s.pubText.Wrapping = fyne.TextWrapWord
	if len(p.Problems) > 0 {
		s.pubText.Importance = widget.DangerImportance
	}
	s.pubConfirm = widget.NewButtonWithIcon(L(textEsPubConfirm), theme.UploadIcon(), s.publish)
	s.pubConfirm.Importance = widget.HighImportance
	if len(p.Problems) > 0 {
		s.pubConfirm.Disable()
	}
	cancel := widget.NewButton(L(textEsCancel), func() { s.pubPop.Hide() })
	title := widget.NewLabelWithStyle(Lf(textEsPubTitle, len(s.cur.Series.Published)+1), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	size := c.Size()
	scroll := container.NewVScroll(s.pubText)
	body := container.NewBorder(title, container.NewHBox(layout.NewSpacer(), cancel, s.pubConfirm), nil, nil,
		container.NewGridWrap(fyne.NewSize(min(560, size.Width-80), min(320, size.Height-160)), scroll))
	s.pubPop = widget.NewModalPopUp(container.NewPadded(body), c)
	s.pubPop.Show()
}

func (s *eservicesScreen) publish() {
	if s.cur == nil || s.busy {
		return
	}
	if s.pubPop != nil {
		s.pubPop.Hide()
	}
	id := s.cur.EService.ID
	s.busy = true
	s.updateButtons()
	s.tasks.run(func() func() {
		f, err := s.svc.Publish(s.ctx, s.sess, id)
		return func() { s.published(id, f, err) }
	})
}

func (s *eservicesScreen) published(id app.ID, f *form.Form, err error) {
	s.busy = false
	s.status.SetText("")
	if err != nil {
		logError("publish e-service", err, "eservice", id, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		switch {
		case errors.Is(err, app.ErrForbidden):
			s.setStatus(L(textEsNoRight), widget.DangerImportance)
		case errors.Is(err, form.ErrDefinition):
			s.setStatus(L(textEsPubRefused), widget.DangerImportance)
		default:
			s.setStatus(L(textEsPubFailed), widget.DangerImportance)
		}
		s.updateButtons()
		return
	}
	// Read the list again: the series now has the new version and no draft.
	s.tasks.run(func() func() {
		all, lerr := s.svc.List(s.ctx, s.sess)
		return func() {
			s.listed(all, lerr, id)
			s.setStatus(Lf(textEsPublished, f.Version), widget.SuccessImportance)
		}
	})
}

// showPreview opens the citizen preview of the form as it is being edited,
// saved or not.
func (s *eservicesScreen) showPreview() {
	if s.cur == nil || s.f == nil {
		return
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(s.content)
	if c == nil {
		return
	}
	src := previewSource{label: Lf(textPvDraft, s.def.Name), def: s.def, form: s.f.Clone()}
	s.preview = newPreviewScreen(previewDeps{ctx: s.ctx, tasks: s.tasks, residents: s.residents, sess: s.sess, clock: s.clock, fixed: &src})
	closeBtn := widget.NewButton(L(textEsClose), func() { s.prevPop.Hide() })
	size := c.Size()
	body := container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), closeBtn), nil, nil, s.preview.content)
	s.prevPop = widget.NewModalPopUp(container.NewGridWrap(fyne.NewSize(size.Width*0.85, size.Height*0.85), container.NewPadded(body)), c)
	s.prevPop.Show()
}

// ---- Ny e-tjänst ----

func (s *eservicesScreen) askNew() {
	c := fyne.CurrentApp().Driver().CanvasForObject(s.content)
	if c == nil {
		return
	}
	s.newName = widget.NewEntry()
	s.newName.PlaceHolder = L(textEsNewName)
	s.newOK = widget.NewButton(L(textEsCreate), s.create)
	s.newOK.Importance = widget.HighImportance
	s.newOK.Disable()
	s.newName.OnChanged = func(t string) {
		if strings.TrimSpace(t) == "" {
			s.newOK.Disable()
		} else {
			s.newOK.Enable()
		}
	}
	s.newName.OnSubmitted = func(string) { s.create() }
	cancel := widget.NewButton(L(textEsCancel), func() { s.newPop.Hide() })
	body := container.NewVBox(
		widget.NewLabelWithStyle(L(textEsNew), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewGridWrap(fyne.NewSize(380, s.newName.MinSize().Height), s.newName),
		container.NewHBox(layout.NewSpacer(), cancel, s.newOK),
	)
	s.newPop = widget.NewModalPopUp(container.NewPadded(body), c)
	s.newPop.Show()
	c.Focus(s.newName)
}

func (s *eservicesScreen) create() {
	name := strings.TrimSpace(s.newName.Text)
	if name == "" || !s.admin {
		return
	}
	s.newPop.Hide()
	s.tasks.run(func() func() {
		e, err := s.svc.Create(s.ctx, s.sess, name)
		return func() {
			if err != nil {
				logError("create e-service", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
				s.msg.Importance = widget.DangerImportance
				s.msg.SetText(L(textEsSaveFailed))
				if errors.Is(err, app.ErrForbidden) {
					s.msg.SetText(L(textEsNoRight))
				}
				s.msg.Show()
				return
			}
			s.cur = nil
			s.load(e.EService.ID)
		}
	})
}

// ---- Unsaved changes ----

// request runs next at once when nothing is unsaved, and otherwise asks.
func (s *eservicesScreen) request(next func()) {
	if !s.dirty() {
		next()
		return
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(s.content)
	if c == nil {
		return // not shown: keep the edits rather than guess
	}
	s.pending = next
	text := widget.NewLabel(L(textEsAskBody))
	text.Wrapping = fyne.TextWrapWord
	stay := widget.NewButton(L(textEsStay), func() {
		s.pending = nil
		s.ask.Hide()
	})
	stay.Importance = widget.HighImportance
	leave := widget.NewButton(L(textEsLeave), func() {
		next := s.pending
		s.pending = nil
		s.ask.Hide()
		if next != nil {
			next()
		}
	})
	body := container.NewVBox(
		widget.NewLabelWithStyle(L(textEsAskTitle), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewGridWrap(fyne.NewSize(380, text.MinSize().Height*2), text),
		container.NewHBox(layout.NewSpacer(), leave, stay),
	)
	s.ask = widget.NewModalPopUp(container.NewPadded(body), c)
	s.ask.Show()
}
