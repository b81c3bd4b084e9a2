package ui

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// TemplateSource lists a clinic's message templates. app.DirectoryStore
// satisfies it.
type TemplateSource interface {
	Templates(ctx context.Context, clinicID app.ID) ([]app.MessageTemplate, error)
}

// Texts of Skicka ärende (and, where shared, massutskick).
const (
	textSendTitle      = "common.send_case"
	textStepTemplate   = "send.1_message_template"
	textStepResident   = "send.2_resident_personnummer"
	textStepMessage    = "send.3_message"
	textChooseTemplate = "send.choose_message_template"
	textLoadingTpl     = "send.loading_message_templates"
	textNoTemplates    = "send.clinic_has_no_message_templates"
	textTplFailed      = "common.loading_templates_failed"
	textKindInfo       = "send.information_resident_cannot_reply_case"
	textKindQuestion   = "send.question_resident_reply_case_waits"
	textPNRHint        = "common.yyyymmdd_nnnn"
	textPNRHelp        = "send.enter_personnummer_12_digits_yyyymmdd"
	textPNRPressEnter  = "send.press_enter_look_up_resident"
	textLookingUp      = "send.looking_up_resident"
	textNotFound       = "send.there_no_resident_personnummer_check"
	textLookupFailed   = "send.something_went_wrong_while_looking"
	textSubject        = "common.subject"
	textMessage        = "send.message"
	textSubjectEmpty   = "send.enter_subject"
	textTextEmpty      = "send.write_message"
	textUseTemplate    = "send.use_template_text"
	textEdited         = "send.you_have_changed_text_so"
	textCancel         = "common.cancel"
	textAskDiscardBody = "send.message_you_wrote_has_not"
	textSendButton     = "send.send"
	textShortcutHint   = "send.ctrl_enter_sends"
	textSendFailed     = "send.something_went_wrong_while_sending"
	textSendInvalid    = "send.check_subject_message"
	textCannotSend     = "send.case_cannot_sent"
	textNothingSent    = "send.case_cannot_sent_nothing_has"
	textCanReceive     = "send.resident_receive_case"
	textAddressHidden  = "send.not_shown_protected_personal_data"
	textChoiceCaption  = "send.only_resident_change_choice_their"
	textChoiceChild    = "send.child_under_13_guardians_notified"
	textNoContact      = "send.resident_does_not_share_their"
	textQueued         = "send.case_queued_will_sent_when"
)

// sentText is what the window says once Skicka ärende has saved the case:
// sent, or, on a connected desktop that cannot reach the server now,
// queued until it can (a queued case is not sent, and the server may
// still refuse it).
func sentText(sync SyncStatus) string {
	if queuedOnly(sync) {
		return L(textQueued)
	}
	return L(textSent)
}

// queuedOnly: a change made now stays in this desktop's queue for a while,
// since it is connected and the server cannot be reached (or wants a new
// sign-in first).
func queuedOnly(sync SyncStatus) bool {
	if sync == nil {
		return false
	}
	st := sync.Status()
	return !st.Online || st.SignInNeeded
}

// sendPrefill fills Skicka ärende with a text the server refused
// (Ändringar: Skicka som nytt ärende): the resident's number is looked up
// as if typed, the template chosen when the clinic still offers it.
type sendPrefill struct {
	TemplateID    app.ID
	PNR           personnummer.Number
	Subject, Text string
}

// choiceOptions are the four notification choices as staff see them,
// read-only (R14), in the order of app.NotifyChoice.
var choiceOptions = []struct {
	choice app.NotifyChoice
	label  string
}{
	{app.NotifySMS, K("send.sms")},
	{app.NotifyEmail, K("common.e_mail")},
	{app.NotifyBoth, K("send.both")},
	{app.NotifyNone, K("send.none")},
}

// choiceLabel is the radio option of a choice, in the window's language.
func choiceLabel(c app.NotifyChoice) string {
	for _, o := range choiceOptions {
		if o.choice == c {
			return L(o.label)
		}
	}
	return L("send.none")
}

// factText is the plain-Swedish text of a non-blocking fact.
func factText(f app.FactKind, v *app.ResidentView) string {
	switch f {
	case app.FactChildInbox:
		return L("send.child_under_13_message_goes")
	case app.FactProtectedIdentity:
		return L("send.resident_has_protected_personal_data")
	case app.FactNoNotification:
		if v != nil && v.Child {
			return L("send.no_guardian_notified_nobody_who")
		}
		return L("send.resident_has_not_chosen_any")
	}
	return string(f)
}

// textCoordination labels a samordningsnummer (day of birth + 60).
const textCoordination = "send.number_coordination_number_person_not"

// turns13Text warns that proxy mode ends on the child's 13th birthday.
func turns13Text(birthday, now time.Time) string {
	days := int(birthday.Sub(app.DateIn(now)).Hours()/24 + 0.5)
	date := longDate(birthday)
	switch {
	case days <= 1:
		return Lf("send.child_turns_13_tomorrow_from", date)
	default:
		return Lf("send.child_turns_13_days_from", days, date)
	}
}

// guardianText says what happens for one guardian of a child (R5, R6, R7,
// blocked guardian).
func guardianText(g app.GuardianView) string {
	name := g.Name
	if name == "" {
		name = L("common.guardians")
	}
	switch {
	case g.Notified:
		return Lf("send.notified", name)
	case g.Blocked:
		return Lf("send.proxy_access_blocked_not_notified", name)
	case !g.MayAct:
		return Lf("send.cannot_act_as_proxy_not", name)
	}
	return Lf("send.not_notified_has_not_entered", name)
}

// offeredTemplates keeps the templates Skicka ärende and massutskick start
// a case from: Information and Fråga, in use. Other kinds (standard
// replies) are not messages to send; retired ones are kept for old cases
// only.
func offeredTemplates(all []app.MessageTemplate) []app.MessageTemplate {
	var out []app.MessageTemplate
	for _, t := range all {
		if (t.Kind == app.KindInformation || t.Kind == app.KindQuestion) && !t.Retired {
			out = append(out, t)
		}
	}
	return out
}

// textTemplateRetired: the template was taken out of use after it was
// chosen (another administrator, or sync).
const textTemplateRetired = "send.template_was_taken_out_use"

func templateOption(t app.MessageTemplate) string { return t.Name + " (" + L(t.Kind.Label()) + ")" }

func kindText(k app.CaseKind) string {
	if k == app.KindInformation {
		return L(textKindInfo)
	}
	return L(textKindQuestion)
}

// fieldMessage is the text under a field; empty hides it.
func fieldMessage(l *widget.Label, text string, danger bool) {
	l.Importance = widget.MediumImportance
	if danger {
		l.Importance = widget.DangerImportance
	}
	l.SetText(text)
	l.Hidden = text == ""
	l.Refresh()
}

func newFieldMessage() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return l
}

// checkMessageFields puts a Swedish message under an empty or too long
// subject or text and reports whether both are fine. The service checks
// again (app.SendCase); this only puts the message at the right field.
func checkMessageFields(subject, text string, subjectMsg, textMsg *widget.Label) bool {
	ok := true
	switch {
	case strings.TrimSpace(subject) == "":
		fieldMessage(subjectMsg, L(textSubjectEmpty), true)
		ok = false
	case utf8.RuneCountInString(subject) > app.MaxSubjectLen:
		fieldMessage(subjectMsg, Lf("send.subject_may_at_most_characters", app.MaxSubjectLen), true)
		ok = false
	default:
		fieldMessage(subjectMsg, "", false)
	}
	switch {
	case strings.TrimSpace(text) == "":
		fieldMessage(textMsg, L(textTextEmpty), true)
		ok = false
	case utf8.RuneCountInString(text) > app.MaxTextLen:
		fieldMessage(textMsg, Lf("send.message_may_at_most_characters", app.MaxTextLen), true)
		ok = false
	default:
		fieldMessage(textMsg, "", false)
	}
	return ok
}

// sendShortcuts are the keys that send: Ctrl+Enter (Cmd+Enter on macOS),
// on the main and the keypad Enter key.
var sendShortcuts = []*desktop.CustomShortcut{
	{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault},
	{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierShortcutDefault},
	{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl},
	{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierControl},
}

func isSendShortcut(s fyne.Shortcut) bool {
	for _, k := range sendShortcuts {
		if s.ShortcutName() == k.ShortcutName() {
			return true
		}
	}
	return false
}

// bindShortcuts registers the send keys on a canvas and returns the
// function that removes them. A focused Entry receives every shortcut
// itself (the canvas never sees it), so the screens' entries are
// shortcutEntry; the canvas binding covers focus anywhere else.
func bindShortcuts(c fyne.Canvas, send func()) (unbind func()) {
	for _, k := range sendShortcuts {
		c.AddShortcut(k, func(fyne.Shortcut) { send() })
	}
	return func() {
		for _, k := range sendShortcuts {
			c.RemoveShortcut(k)
		}
	}
}

// shortcutEntry is an Entry that hands Ctrl+Enter to the screen.
type shortcutEntry struct {
	widget.Entry
	onShortcut func()
}

func newShortcutEntry(multiLine bool, onShortcut func()) *shortcutEntry {
	e := &shortcutEntry{onShortcut: onShortcut}
	e.MultiLine = multiLine
	if multiLine {
		e.Wrapping = fyne.TextWrapWord
	}
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab is false: Tab moves on to the next field, also from the
// multi-line text (no keyboard trap; a message needs no tab characters).
func (e *shortcutEntry) AcceptsTab() bool { return false }

// TypedShortcut sends on Ctrl+Enter and leaves every other shortcut to the Entry.
func (e *shortcutEntry) TypedShortcut(s fyne.Shortcut) {
	if e.onShortcut != nil && isSendShortcut(s) {
		e.onShortcut()
		return
	}
	e.Entry.TypedShortcut(s)
}

// pnrShape says how far a typed personnummer has come.
type pnrShape int

const (
	pnrEmpty      pnrShape = iota
	pnrTyping              // could still become a number: say nothing yet
	pnrAmbiguous           // ten digits without separator: may be the start of twelve
	pnrComplete            // as long as it gets: parse it
	pnrImpossible          // can never become a number: parse it for the error
)

// shapeOf classifies s while it is typed, so that an error shows as soon
// as the input is wrong or complete, and not while the user is still on
// the first digits. It only decides when to parse; personnummer.Parse
// decides what is valid.
func shapeOf(s string) pnrShape {
	s = strings.TrimSpace(s)
	if s == "" {
		return pnrEmpty
	}
	sep := strings.IndexAny(s, "-+")
	if sep >= 0 {
		head, tail := s[:sep], s[sep+1:]
		switch {
		case strings.ContainsAny(tail, "-+") || (len(head) != 6 && len(head) != 8) || !allDigits(head):
			return pnrImpossible
		case len(tail) < 4:
			return pnrTyping
		case len(tail) == 4:
			return pnrComplete
		}
		return pnrImpossible
	}
	for i, r := range s {
		letter := ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z')
		// Letters belong only among the last four (a reserve number,
		// which Parse names as such); the date part is digits.
		if !('0' <= r && r <= '9') && (!letter || i < 6) {
			return pnrImpossible
		}
	}
	switch n := len(s); {
	case n < 10 || n == 11:
		return pnrTyping
	case n == 12:
		return pnrComplete
	case n == 10 && allDigits(s):
		return pnrAmbiguous
	case n == 10:
		return pnrComplete
	}
	return pnrImpossible
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

type sendDeps struct {
	ctx       context.Context
	tasks     *tasks
	cases     CaseWork
	templates TemplateSource
	sess      app.Session
	clinic    app.Clinic
	// now is the clock personnummer are parsed against; nil means time.Now.
	now func() time.Time
	// sync is a connected desktop's sync (nil standalone): whether a sent
	// case is only queued.
	sync SyncStatus
	// prefill, when set, fills the screen in (sendPrefill).
	prefill  *sendPrefill
	onDone   func(c *app.Case)
	onCancel func()
}

// sendScreen is Skicka ärende (R14, R16): choose a message template, enter
// the personnummer, see the resident's reachability and notification
// choice read-only, edit the text and send. Rules stay in app: the panel
// shows app.ResidentView as it is, and SendCase checks again.
//
// Ctrl+Enter sends from any of the screen's entries; to send with focus
// elsewhere, the owner binds it on the window: unbind :=
// bindShortcuts(win.Canvas(), s.shortcutSend) while the screen is shown.
type sendScreen struct {
	sendDeps
	content fyne.CanvasObject

	templatePicker
	asked *question // Avbryt with a written message
	// subjectCount and textCount count characters near the limits.
	subjectCount, textCount fyne.CanvasObject
	resident                *app.ResidentView // looked up; nil before
	gen                     int               // bumped by every change of the number; late lookups are dropped
	sending                 bool
	sent                    bool
	// keepText: the template is chosen for a prefilled text, which it
	// must not replace.
	keepText bool

	pnr        *shortcutEntry
	pnrMsg     *widget.Label
	panel      *fyne.Container // the reachability panel, hidden before a look-up
	name       *widget.Label
	age        *widget.Label
	address    *widget.Label
	choice     *widget.RadioGroup
	choiceNote *widget.Label
	contact    *widget.Label
	blockBox   *fyne.Container
	blockText  *widget.Label
	factBox    *fyne.Container
	factText   *widget.Label
	guardians  *widget.Label // a child's guardians and who is notified
	okBox      *fyne.Container
	subject    *shortcutEntry
	subjectMsg *widget.Label
	text       *shortcutEntry
	textMsg    *widget.Label
	edited     *fyne.Container // "Använd mallens text"
	useTpl     *widget.Button
	errText    *widget.Label
	send       *widget.Button
	cancel     *widget.Button
	progress   *widget.ProgressBarInfinite
}

func newSendScreen(d sendDeps) *sendScreen {
	if d.now == nil {
		d.now = time.Now
	}
	s := &sendScreen{sendDeps: d}

	s.template = newSelect(nil, func(string) { s.chooseTemplate() })
	s.template.PlaceHolder = L(textChooseTemplate)
	s.template.Disable()
	s.tplMsg = newFieldMessage()
	fieldMessage(s.tplMsg, L(textLoadingTpl), false)

	s.pnr = newShortcutEntry(false, s.shortcutSend)
	s.pnr.SetPlaceHolder(L(textPNRHint))
	s.pnr.OnChanged = func(string) { s.pnrChanged(false) }
	s.pnr.OnSubmitted = func(string) { s.pnrChanged(true) }
	s.pnrMsg = newFieldMessage()
	s.buildPanel()

	s.subject = newShortcutEntry(false, s.shortcutSend)
	s.subject.OnChanged = func(string) { s.textChanged() }
	s.subjectMsg = newFieldMessage()
	s.text = newShortcutEntry(true, s.shortcutSend)
	s.text.SetMinRowsVisible(10)
	s.text.OnChanged = func(string) { s.textChanged() }
	s.textMsg = newFieldMessage()
	s.subjectCount = limitEntry(&s.subject.Entry, app.MaxSubjectLen)
	s.textCount = limitEntry(&s.text.Entry, app.MaxTextLen)
	s.useTpl = widget.NewButtonWithIcon(L(textUseTemplate), theme.ContentUndoIcon(), s.fillFromTemplate)
	editedNote := widget.NewLabel(L(textEdited))
	editedNote.Wrapping = fyne.TextWrapWord
	s.edited = container.NewBorder(nil, nil, nil, s.useTpl, editedNote)
	s.edited.Hide()

	s.errText = newFieldMessage()
	s.send = widget.NewButtonWithIcon(L(textSendButton), theme.MailSendIcon(), s.doSend)
	s.send.Importance = widget.HighImportance
	s.send.Disable()
	s.cancel = widget.NewButton(L(textCancel), s.doCancel)
	s.progress = widget.NewProgressBarInfinite()
	s.progress.Stop()
	s.progress.Hide()

	title := widget.NewLabel(L(textSendTitle))
	title.SizeName = theme.SizeNameHeadingText
	title.TextStyle.Bold = true
	header := container.NewBorder(nil, nil, container.NewHBox(title, container.NewCenter(widget.NewLabel(d.clinic.Name))), nil)

	left := container.NewVBox(
		heading(L(textStepTemplate)), s.template, steadyBox(s.tplMsg, 2),
		widget.NewSeparator(),
		heading(L(textStepResident)), s.pnr, s.pnrMsg,
		s.panel,
	)
	right := container.NewBorder(
		container.NewVBox(heading(L(textStepMessage)),
			container.NewBorder(nil, nil, widget.NewLabel(L(textSubject)), s.subjectCount), s.subject, s.subjectMsg,
			container.NewBorder(nil, nil, widget.NewLabel(L(textMessage)), s.textCount)),
		container.NewVBox(s.textMsg, s.edited),
		nil, nil, s.text)
	hint := widget.NewLabelWithStyle(L(textShortcutHint), fyne.TextAlignTrailing, fyne.TextStyle{Italic: true})
	footer := container.NewVBox(widget.NewSeparator(), s.errText,
		container.NewHBox(layout.NewSpacer(), s.progress, hint, s.cancel, s.send))
	body := container.NewGridWithColumns(2, container.NewVScroll(container.NewPadded(left)), container.NewVScroll(container.NewPadded(right)))
	s.content = container.NewBorder(
		container.NewVBox(container.NewPadded(header), widget.NewSeparator()),
		container.NewPadded(footer), nil, nil, body)
	if p := d.prefill; p != nil {
		s.subject.SetText(p.Subject)
		s.text.SetText(p.Text)
		s.onLoaded = func() { s.choosePrefilled(p.TemplateID) }
		if !p.PNR.IsZero() {
			s.pnr.SetText(p.PNR.String()) // looked up as if typed
		}
	}
	s.loadTemplates(s.ctx, s.tasks, s.templates, s.sess)
	return s
}

// choosePrefilled chooses the template a refused case was sent with,
// keeping the prefilled subject and text.
func (s *sendScreen) choosePrefilled(id app.ID) {
	for i, t := range s.tpls {
		if t.ID == id && id != "" {
			s.keepText = true
			s.template.SetSelectedIndex(i)
			s.keepText = false
			return
		}
	}
}

// buildPanel makes the reachability panel: who the resident is, whether
// the message can be sent (first, since it decides what to do next), and
// the details: age, address, the notification choice read-only, contact.
func (s *sendScreen) buildPanel() {
	s.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.name.SizeName = theme.SizeNameSubHeadingText
	s.age = widget.NewLabel("")
	s.address = widget.NewLabel("")
	s.address.Wrapping = fyne.TextWrapWord
	var opts []string
	for _, o := range choiceOptions {
		opts = append(opts, L(o.label))
	}
	s.choice = widget.NewRadioGroup(opts, nil)
	s.choice.Horizontal = true
	s.choice.Disable() // only the resident changes it (R14)
	s.choiceNote = widget.NewLabelWithStyle(L(textChoiceCaption), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	s.choiceNote.Wrapping = fyne.TextWrapWord
	s.contact = widget.NewLabel("")
	s.contact.Wrapping = fyne.TextWrapWord

	blockTitle := widget.NewLabelWithStyle(L(textCannotSend), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	blockTitle.Importance = widget.DangerImportance
	s.blockText = widget.NewLabel("")
	s.blockText.Wrapping = fyne.TextWrapWord
	s.blockBox = callout(theme.NewErrorThemedResource(theme.ErrorIcon()), container.NewVBox(blockTitle, s.blockText))
	s.factText = widget.NewLabel("")
	s.factText.Wrapping = fyne.TextWrapWord
	s.guardians = widget.NewLabel("")
	s.guardians.Wrapping = fyne.TextWrapWord
	s.factBox = callout(theme.NewPrimaryThemedResource(theme.InfoIcon()), container.NewVBox(s.factText, s.guardians))
	ok := widget.NewLabel(L(textCanReceive))
	ok.Importance = widget.SuccessImportance
	s.okBox = container.NewHBox(widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon())), ok)

	form := widget.NewForm(
		widget.NewFormItem(L("send.age"), s.age),
		widget.NewFormItem(L("send.address"), s.address),
		widget.NewFormItem(L("send.notification"), container.NewVBox(s.choice, s.choiceNote)),
		widget.NewFormItem(L("send.contact"), s.contact),
	)
	s.panel = container.NewVBox(widget.NewSeparator(), s.name, s.blockBox, s.okBox, s.factBox, form)
	s.panel.Hide()
}

// callout is a framed box with an icon for what staff must read.
func callout(icon fyne.Resource, content fyne.CanvasObject) *fyne.Container {
	card := widget.NewCard("", "", container.NewBorder(nil, nil,
		container.NewVBox(widget.NewIcon(icon)), nil, content))
	return container.NewStack(card)
}

// templatePicker is the template choice Skicka ärende and massutskick
// share: the clinic's offered templates, the chosen one, and what it last
// put into the subject and text (the user has not edited them while they
// still match).
type templatePicker struct {
	tpls                      []app.MessageTemplate // offered, in the store's order
	tpl                       *app.MessageTemplate  // chosen
	filledSubject, filledText string
	template                  *widget.Select
	tplMsg                    *widget.Label
	// onLoaded runs once the templates are offered (nil: nothing).
	onLoaded func()
}

// loadTemplates reads the templates a case can be started with.
func (p *templatePicker) loadTemplates(ctx context.Context, t *tasks, src TemplateSource, sess app.Session) {
	t.run(func() func() {
		all, err := src.Templates(ctx, sess.ClinicID)
		return func() {
			if err != nil {
				logError("list templates", err, "clinic", sess.ClinicID, "staff", sess.Staff.ID)
				fieldMessage(p.tplMsg, L(textTplFailed), true)
				return
			}
			p.tpls = offeredTemplates(all)
			if len(p.tpls) == 0 {
				fieldMessage(p.tplMsg, L(textNoTemplates), true)
				return
			}
			var opts []string
			for _, t := range p.tpls {
				opts = append(opts, templateOption(t))
			}
			p.template.SetOptions(opts)
			p.template.Enable()
			fieldMessage(p.tplMsg, " ", false) // keeps its place: see steadyBox
			if p.onLoaded != nil {
				p.onLoaded()
			}
		}
	})
}

// chooseTemplate puts the chosen template's subject and text in, unless
// the user has edited them; then edited ("Använd mallens text") shows.
// It reports whether a template is chosen.
func (p *templatePicker) chooseTemplate(subject, text *widget.Entry, edited *fyne.Container) bool {
	i := p.template.SelectedIndex()
	if i < 0 || i >= len(p.tpls) {
		return false
	}
	t := p.tpls[i]
	p.tpl = &t
	fieldMessage(p.tplMsg, kindText(t.Kind), false)
	if p.untouched(subject, text) {
		p.fillFromTemplate(subject, text, edited)
	} else {
		edited.Show()
	}
	return true
}

// untouched reports whether subject and text are as a template (or
// nothing) put them.
func (p *templatePicker) untouched(subject, text *widget.Entry) bool {
	return (subject.Text == "" || subject.Text == p.filledSubject) && (text.Text == "" || text.Text == p.filledText)
}

// fillFromTemplate puts the chosen template's subject and text in.
func (p *templatePicker) fillFromTemplate(subject, text *widget.Entry, edited *fyne.Container) {
	if p.tpl == nil {
		return
	}
	p.filledSubject, p.filledText = p.tpl.Subject, p.tpl.Body
	subject.SetText(p.tpl.Subject)
	text.SetText(p.tpl.Body)
	edited.Hide()
}

func (s *sendScreen) chooseTemplate() {
	if s.keepText {
		if i := s.template.SelectedIndex(); i >= 0 && i < len(s.tpls) {
			t := s.tpls[i]
			s.tpl = &t
			fieldMessage(s.tplMsg, kindText(t.Kind), false)
			s.updateSend()
		}
		return
	}
	if s.templatePicker.chooseTemplate(&s.subject.Entry, &s.text.Entry, s.edited) {
		s.updateSend()
	}
}

func (s *sendScreen) untouched() bool {
	return s.templatePicker.untouched(&s.subject.Entry, &s.text.Entry)
}

// doCancel is Avbryt: a message written or changed by hand is thrown
// away only after a question.
func (s *sendScreen) doCancel() { s.asked = askDiscard(s.content, !s.untouched(), s.onCancel) }

func (s *sendScreen) fillFromTemplate() {
	s.templatePicker.fillFromTemplate(&s.subject.Entry, &s.text.Entry, s.edited)
	fieldMessage(s.subjectMsg, "", false)
	fieldMessage(s.textMsg, "", false)
}

func (s *sendScreen) textChanged() {
	if s.untouched() {
		s.edited.Hide()
	}
	if strings.TrimSpace(s.subject.Text) != "" {
		fieldMessage(s.subjectMsg, "", false)
	}
	if strings.TrimSpace(s.text.Text) != "" {
		fieldMessage(s.textMsg, "", false)
	}
}

// pnrChanged validates the number as it is typed and looks the resident
// up as soon as it is complete; submitted is Enter in the field.
func (s *sendScreen) pnrChanged(submitted bool) {
	s.gen++
	s.resident = nil
	s.panel.Hide()
	fieldMessage(s.errText, "", false)
	s.updateSend()
	in := s.pnr.Text
	shape := shapeOf(in)
	switch {
	case shape == pnrEmpty && !submitted:
		fieldMessage(s.pnrMsg, "", false)
		return
	case shape == pnrTyping && !submitted:
		fieldMessage(s.pnrMsg, L(textPNRHelp), false)
		return
	}
	n, err := personnummer.ParseAt(in, s.now())
	switch {
	case err != nil && shape == pnrAmbiguous && !submitted:
		// Perhaps the first ten of twelve digits: not wrong yet.
		fieldMessage(s.pnrMsg, L(textPNRHelp), false)
		return
	case err != nil:
		// The personnummer errors are Swedish, say what to do and
		// never contain the input.
		fieldMessage(s.pnrMsg, errorText(err), true)
		return
	case shape == pnrAmbiguous && !submitted:
		// A valid ten-digit number may still be the start of another
		// twelve-digit one: look up only when asked, so that no
		// stranger's data is opened (and logged) by accident.
		fieldMessage(s.pnrMsg, L(textPNRPressEnter), false)
		return
	}
	s.lookup(n)
}

func (s *sendScreen) lookup(n personnummer.Number) {
	fieldMessage(s.pnrMsg, L(textLookingUp), false)
	gen := s.gen
	s.tasks.run(func() func() {
		v, err := s.cases.LookupResident(s.ctx, s.sess, n)
		return func() {
			if gen != s.gen {
				return // the number changed meanwhile
			}
			switch {
			case errors.Is(err, app.ErrNotFound):
				fieldMessage(s.pnrMsg, L(textNotFound), true)
				return
			case residentOffline(err): // connected desktop, server unreachable
				fieldMessage(s.pnrMsg, L(textResidentOffline), true)
				return
			case errors.Is(err, app.ErrForbidden):
				logError("look up resident", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
				fieldMessage(s.pnrMsg, L(textForbidden), true)
				return
			case err != nil:
				logError("look up resident", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
				fieldMessage(s.pnrMsg, L(textLookupFailed), true)
				return
			}
			fieldMessage(s.pnrMsg, "", false)
			s.showResident(v)
		}
	})
}

// showResident fills the panel from the view, as the service made it: the
// address is nil for protected identity (R9), phone and e-mail are empty
// unless shared (R13).
func (s *sendScreen) showResident(v *app.ResidentView) {
	s.resident = v
	s.name.SetText(v.Name)
	s.age.SetText(Lf("send.years", v.Age))
	if v.Address == nil {
		s.address.SetText(L(textAddressHidden))
	} else {
		s.address.SetText(strings.TrimSpace(v.Address.Street + "\n" + v.Address.PostalCode + " " + v.Address.City))
	}
	s.choice.Enable()
	s.choice.SetSelected(choiceLabel(v.Choice))
	s.choice.Disable()
	s.choiceNote.SetText(L(textChoiceCaption))
	if v.Child {
		s.choiceNote.SetText(L(textChoiceCaption) + " " + L(textChoiceChild))
	}
	var contact []string
	if v.Mobile != "" {
		contact = append(contact, Lf("send.mobile", v.Mobile))
	}
	if v.Email != "" {
		contact = append(contact, Lf("send.email", v.Email))
	}
	if len(contact) == 0 {
		contact = append(contact, L(textNoContact))
	}
	s.contact.SetText(strings.Join(contact, "\n"))

	s.showReach(v.Reach)
	s.panel.Show()
	s.updateSend()
	s.content.Refresh()
}

// showReach shows the reachability exactly as app classified it.
func (s *sendScreen) showReach(r app.Reachability) {
	v := s.resident
	var blocks []string
	for _, b := range r.Blocking {
		blocks = append(blocks, L(b.Message()))
	}
	s.blockText.SetText(strings.Join(blocks, "\n\n"))
	s.blockBox.Hidden = len(blocks) == 0

	var facts []string
	child := false
	for _, f := range r.Facts {
		// When nothing can be sent, what would happen to a message
		// (the child's inbox, who is notified) is no comfort: only what
		// staff must know about the person stays.
		if !r.OK() && (f == app.FactChildInbox || f == app.FactNoNotification) {
			continue
		}
		facts = append(facts, factText(f, v))
		child = child || f == app.FactChildInbox
	}
	if v != nil && !v.Turns13.IsZero() {
		facts = append([]string{turns13Text(v.Turns13, s.now())}, facts...)
	}
	if v != nil && v.PNR.IsCoordination() {
		facts = append(facts, L(textCoordination))
	}
	s.factText.SetText(strings.Join(facts, "\n\n"))
	var gs []string
	if child && v != nil && r.OK() {
		gs = append(gs, L("send.guardians"))
		for _, g := range v.Guardians {
			gs = append(gs, "• "+guardianText(g))
		}
	}
	s.guardians.SetText(strings.Join(gs, "\n"))
	s.guardians.Hidden = len(gs) == 0
	s.factBox.Hidden = len(facts) == 0
	s.okBox.Hidden = !r.OK()
	s.panel.Refresh()
}

// notifiedGuardians are the names the panel lists as notified (for tests
// and the golden).
func (s *sendScreen) notifiedGuardians() []string {
	var out []string
	if s.resident == nil {
		return nil
	}
	for _, g := range s.resident.Guardians {
		if g.Notified {
			out = append(out, g.Name)
		}
	}
	return out
}

func (s *sendScreen) updateSend() {
	if s.tpl != nil && s.resident != nil && s.resident.Reach.OK() && !s.sending && !s.sent {
		s.send.Enable()
	} else {
		s.send.Disable()
	}
}

// shortcutSend is Ctrl+Enter: it sends when the Skicka button could be pressed.
func (s *sendScreen) shortcutSend() {
	if !s.send.Disabled() {
		s.doSend()
	}
}

func (s *sendScreen) doSend() {
	if s.tpl == nil || s.resident == nil || !s.resident.Reach.OK() || s.sending || s.sent {
		return
	}
	fieldMessage(s.errText, "", false)
	if !checkMessageFields(s.subject.Text, s.text.Text, s.subjectMsg, s.textMsg) {
		return
	}
	s.sending = true
	s.updateSend()
	s.progress.Show()
	s.progress.Start()
	req := app.SendRequest{TemplateID: s.tpl.ID, ResidentID: s.resident.ID, Subject: s.subject.Text, Text: s.text.Text}
	s.tasks.run(func() func() {
		c, err := s.cases.SendCase(s.ctx, s.sess, req)
		return func() { s.sendDone(c, err) }
	})
}

func (s *sendScreen) sendDone(c *app.Case, err error) {
	s.sending = false
	s.progress.Stop()
	s.progress.Hide()
	var ue *app.UnreachableError
	switch {
	case err == nil:
		s.sent = true
		s.updateSend()
		fieldMessage(s.errText, sentText(s.sync), false)
		if s.onDone != nil {
			s.onDone(c)
		}
		return
	case errors.As(err, &ue):
		// Something changed since the look-up: show the reasons as the
		// service found them now.
		s.resident.Reach.Blocking = ue.Reasons
		s.showReach(s.resident.Reach)
		fieldMessage(s.errText, L(textNothingSent), true)
	case errors.Is(err, app.ErrForbidden):
		logError("send case", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		fieldMessage(s.errText, L(textForbidden), true)
	case errors.Is(err, app.ErrTextControl):
		fieldMessage(s.errText, L(app.TextMessage), true)
	case errors.Is(err, app.ErrTemplateRetired):
		fieldMessage(s.errText, L(textTemplateRetired), true)
	case errors.Is(err, app.ErrInvalid):
		fieldMessage(s.errText, L(textSendInvalid), true)
	default:
		logError("send case", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID, "resident", s.resident.ID)
		fieldMessage(s.errText, L(textSendFailed), true)
	}
	s.updateSend()
	s.content.Refresh()
}
