package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	fstorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// BulkWork is the part of app.CaseService massutskick uses.
// app.CaseService satisfies it.
type BulkWork interface {
	CheckRecipients(ctx context.Context, sess app.Session, text string) ([]app.RecipientCheck, error)
	SendBulk(ctx context.Context, sess app.Session, req app.BulkRequest) ([]app.BulkResult, error)
	LogRecipientExport(ctx context.Context, sess app.Session, residentIDs []app.ID) error
}

// Texts of massutskick.
const (
	textBulkTitle       = "common.bulk_send"
	textStepRecipients  = "bulk.2_recipients"
	textRecipientsHint  = "bulk.one_personnummer_per_line_or"
	textLoadFile        = "bulk.load_file"
	textCheck           = "bulk.check_recipients"
	textChecking        = "bulk.checking_recipients"
	textReport          = "bulk.check_before_sending"
	textResults         = "bulk.result"
	textReportEmpty     = "bulk.paste_or_load_list_press"
	textListChanged     = "bulk.list_has_changed_check_recipients"
	textListEmpty       = "bulk.list_contains_no_personnummer"
	textCheckFailed     = "bulk.something_went_wrong_while_checking"
	textBulkFailed      = "bulk.something_went_wrong_during_send"
	textBulkSendFailed  = "bulk.something_went_wrong_nothing_has"
	textFileFailed      = "bulk.file_could_not_read_check"
	textDone            = "bulk.done"
	textSelectRowDetail = "bulk.select_row_see_full_explanation"
	textWillSend        = "bulk.will_sent"
	textWillNotSend     = "bulk.will_not_sent"
	textWasSent         = "bulk.sent"
	textWasNotSent      = "bulk.not_sent"
	textAskBulkTitle    = "bulk.send_bulk_message"
	textAskBulkFinal    = "bulk.sent_message_cannot_taken_back"
	textExportFollowUp  = "bulk.export_not_sent_csv"
	textExportFailed    = "bulk.list_could_not_exported_try"
	textReserveShort    = "bulk.reserve_number"
	textReserveLong     = "bulk.people_reserve_number_cannot_sign"
)

// blockShort is the short reason of the report table; the row's full
// text (BlockReason.Message) shows below it when the row is selected.
func blockShort(b app.BlockReason) string {
	switch b {
	case app.BlockDeceased:
		return L("bulk.deceased")
	case app.BlockReserveNumber:
		return L("bulk.reserve_number")
	case app.BlockLoginLocked:
		return L("common.sign_locked")
	case app.BlockNeverSignedIn:
		return L("bulk.has_never_signed")
	case app.BlockChildNotActivated:
		return L("bulk.child_proxy_access_not_activated")
	case app.BlockChildProtected:
		return L("bulk.child_protected_personal_data")
	case app.BlockChildAllBlocked:
		return L("bulk.child_all_guardians_blocked")
	}
	return string(b)
}

func blockLong(bs []app.BlockReason) string {
	var out []string
	for _, b := range bs {
		out = append(out, L(b.Message()))
	}
	return strings.Join(out, "\n")
}

// checkReason is the short and the full text of a report row.
func checkReason(c *app.RecipientCheck) (short, long string) {
	switch c.Status {
	case app.RecipientInvalid:
		if errors.Is(c.Err, personnummer.ErrReserve) {
			return L(textReserveShort), L(textReserveLong)
		}
		if c.Err != nil {
			long = errorText(c.Err) // the personnummer errors are Swedish and carry no input
		}
		return L("bulk.invalid_personnummer"), long
	case app.RecipientNotFound:
		if residentOffline(c.Err) { // connected desktop, server unreachable
			return L("bulk.needs_connection"), L(textResidentOffline)
		}
		return L("bulk.unknown_resident"), L(textNotFound)
	case app.RecipientDuplicate:
		return Lf("bulk.duplicate_row", c.DuplicateOf),
			Lf("bulk.same_person_already_row_gets", c.DuplicateOf)
	case app.RecipientBlocked:
		if len(c.Reach.Blocking) > 0 {
			return blockShort(c.Reach.Blocking[0]), blockLong(c.Reach.Blocking)
		}
	}
	// Sendable: the facts that do not stop the send (R5, R6, R9).
	var shorts, longs []string
	for _, f := range c.Reach.Facts {
		switch f {
		case app.FactChildInbox:
			shorts = append(shorts, Lf("bulk.child_guardians_notified", len(c.Reach.NotifiedGuardians)))
		case app.FactProtectedIdentity:
			shorts = append(shorts, L("bulk.protected_personal_data"))
		case app.FactNoNotification:
			shorts = append(shorts, L("bulk.no_notification"))
		}
		longs = append(longs, factText(f, &app.ResidentView{Child: hasFactKind(c.Reach, app.FactChildInbox)}))
	}
	return strings.Join(shorts, ", "), strings.Join(longs, "\n")
}

func hasFactKind(r app.Reachability, k app.FactKind) bool {
	for _, f := range r.Facts {
		if f == k {
			return true
		}
	}
	return false
}

// resultReason is the short and the full text of a result row.
func resultReason(r *app.BulkResult) (short, long string) {
	var ue *app.UnreachableError
	switch {
	case r.Sent():
		return "", ""
	case errors.As(r.Err, &ue) && len(ue.Reasons) > 0:
		return blockShort(ue.Reasons[0]), blockLong(ue.Reasons)
	case errors.Is(r.Err, app.ErrNotFound):
		return L("bulk.resident_no_longer_exists"), L("bulk.resident_no_longer_register")
	case errors.Is(r.Err, context.Canceled), errors.Is(r.Err, context.DeadlineExceeded):
		return L("bulk.cancelled"), L("bulk.send_was_cancelled_before_message")
	case errors.Is(r.Err, app.ErrForbidden):
		return L("bulk.no_permission"), L(textForbidden)
	}
	return L("bulk.technical_error"), L("bulk.something_went_wrong_while_sending")
}

// thousands writes n with a (no-break) space between thousands, as Swedish
// does, or with a comma in English.
func thousands(n int) string {
	sep := "\u00a0"
	if English() {
		sep = ","
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}

type bulkDeps struct {
	ctx       context.Context
	tasks     *tasks
	cases     BulkWork
	templates TemplateSource
	sess      app.Session
	clinic    app.Clinic
	// win is the parent of the file dialog.
	win fyne.Window
	// save hands the follow-up CSV to the user (a file-save dialog; tests
	// capture); nil hides the export.
	save func(name string, data []byte)
	// now dates the exported file's name.
	now func() time.Time
	// onDone is called by "Klar" after the send, with every result.
	onDone   func(results []app.BulkResult)
	onCancel func()
}

// bulkScreen is massutskick: choose a template, paste or load a list of
// personnummer, see a reachability report per recipient, send to the
// reachable ones, and read the result per recipient. Parsing, duplicates
// and reachability are app's (CheckRecipients); the send re-checks every
// recipient (SendBulk).
type bulkScreen struct {
	bulkDeps
	content fyne.CanvasObject

	templatePicker
	checks  []app.RecipientCheck
	checked string // the list text the report belongs to
	results []app.BulkResult
	// outcome is the result per person of the checked list, in list
	// order: the sent, those the send refused, and those the check kept
	// from the send (duplicates left out).
	outcome    []bulkOutcome
	asked      *question
	byResident map[app.ID]*app.RecipientCheck // first report row per resident
	busy       bool
	gen        int

	list       *textArea
	listMsg    *widget.Label
	loadFile   *widget.Button
	check      *widget.Button
	subject    *widget.Entry
	subjectMsg *widget.Label
	text       *textArea
	textMsg    *widget.Label
	edited     *fyne.Container
	useTpl     *widget.Button

	tableTitle *widget.Label
	summary    *widget.Label
	table      *widget.Table
	detail     *widget.Label
	errText    *widget.Label
	progress   *widget.ProgressBarInfinite
	send       *widget.Button
	done       *widget.Button
	cancel     *widget.Button
	export     *widget.Button
}

// bulkOutcome is one person of a sent massutskick.
type bulkOutcome struct {
	check  *app.RecipientCheck
	result *app.BulkResult // nil: the check kept them from the send
}

func (o bulkOutcome) sent() bool { return o.result != nil && o.result.Sent() }

func (o bulkOutcome) reason() (short, long string) {
	if o.result != nil {
		return resultReason(o.result)
	}
	return checkReason(o.check)
}

// Report and result columns.
var (
	reportCols = []struct {
		title string
		width float32
	}{{K("bulk.row"), 40}, {K("common.personnummer"), 130}, {K("common.name"), 150}, {K("bulk.sending"), 100}, {K("bulk.reason_or_note"), 240}}
	resultCols = []struct {
		title string
		width float32
	}{{K("bulk.row"), 40}, {K("common.personnummer"), 130}, {K("common.name"), 150}, {K("bulk.result"), 100}, {K("common.reason"), 240}}
)

func newBulkScreen(d bulkDeps) *bulkScreen {
	s := &bulkScreen{bulkDeps: d}

	s.template = newSelect(nil, func(string) { s.chooseTemplate() })
	s.template.PlaceHolder = L(textChooseTemplate)
	s.template.Disable()
	s.tplMsg = newFieldMessage()
	fieldMessage(s.tplMsg, L(textLoadingTpl), false)

	hint := widget.NewLabel(L(textRecipientsHint))
	hint.Wrapping = fyne.TextWrapWord
	s.list = newTextArea()
	s.list.SetPlaceHolder(L(textPNRHint) + "\n" + L(textPNRHint) + "\n…")
	s.list.SetMinRowsVisible(5)
	s.list.OnChanged = func(string) { s.listChanged() }
	s.listMsg = newFieldMessage()
	s.loadFile = widget.NewButtonWithIcon(L(textLoadFile), theme.FolderOpenIcon(), s.openFile)
	s.check = widget.NewButtonWithIcon(L(textCheck), theme.SearchIcon(), s.doCheck)
	s.check.Disable()

	s.subject = widget.NewEntry()
	s.subject.OnChanged = func(string) { s.textChanged() }
	s.subjectMsg = newFieldMessage()
	s.text = newTextArea()
	s.text.SetMinRowsVisible(3)
	s.text.OnChanged = func(string) { s.textChanged() }
	s.textMsg = newFieldMessage()
	subjectCount := limitEntry(s.subject, app.MaxSubjectLen)
	textCount := limitEntry(&s.text.Entry, app.MaxTextLen)
	s.useTpl = widget.NewButtonWithIcon(L(textUseTemplate), theme.ContentUndoIcon(), s.fillFromTemplate)
	editedNote := widget.NewLabel(L(textEdited))
	editedNote.Wrapping = fyne.TextWrapWord
	s.edited = container.NewBorder(nil, nil, nil, s.useTpl, editedNote)
	s.edited.Hide()

	s.tableTitle = heading(L(textReport))
	s.summary = widget.NewLabel(L(textReportEmpty))
	s.summary.Wrapping = fyne.TextWrapWord
	s.table = widget.NewTableWithHeaders(s.tableSize, func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}, s.updateCell)
	s.table.ShowHeaderColumn = false
	s.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		o.(*widget.Label).SetText(s.colTitle(id.Col))
	}
	s.table.OnSelected = s.showDetail
	s.setColumns()
	s.table.Hide()
	s.detail = widget.NewLabel("")
	s.detail.Wrapping = fyne.TextWrapWord
	s.detail.Hide()

	s.errText = newFieldMessage()
	s.progress = widget.NewProgressBarInfinite()
	s.progress.Stop()
	s.progress.Hide()
	s.send = widget.NewButtonWithIcon(sendLabel(0), theme.MailSendIcon(), s.doSend)
	s.send.Importance = widget.HighImportance
	s.send.Disable()
	s.done = widget.NewButtonWithIcon(L(textDone), theme.ConfirmIcon(), func() {
		if s.onDone != nil {
			s.onDone(s.results)
		}
	})
	s.done.Importance = widget.HighImportance
	s.done.Hide()
	s.export = widget.NewButtonWithIcon(L(textExportFollowUp), theme.DocumentSaveIcon(), s.exportFollowUp)
	s.export.Hide()
	s.cancel = widget.NewButton(L(textCancel), func() { s.asked = askDiscard(s.content, !s.untouched(), s.onCancel) })

	title := widget.NewLabel(L(textBulkTitle))
	title.SizeName = theme.SizeNameHeadingText
	title.TextStyle.Bold = true
	header := container.NewBorder(nil, nil, container.NewHBox(title, container.NewCenter(widget.NewLabel(d.clinic.Name))), nil)

	// The message text takes the room the other fields of the left column
	// leave; where the window is lower than they need (a laptop at 150 %),
	// the column scrolls instead of making the window taller than the
	// screen.
	subjectRow := container.NewBorder(nil, nil, widget.NewLabel(L(textSubject)), nil, s.subject)
	left := container.NewBorder(
		container.NewVBox(
			heading(L(textStepTemplate)), s.template, steadyBox(s.tplMsg, 2),
			widget.NewSeparator(),
			heading(L(textStepRecipients)), hint, s.list, s.listMsg,
			container.NewHBox(s.loadFile, layout.NewSpacer(), s.check),
			widget.NewSeparator(),
			heading(L(textStepMessage)), subjectRow, container.NewBorder(nil, nil, nil, subjectCount, s.subjectMsg)),
		container.NewVBox(container.NewBorder(nil, nil, nil, textCount, s.textMsg), s.edited), nil, nil, s.text)
	right := container.NewBorder(container.NewVBox(s.tableTitle, s.summary), s.detail, nil, nil, s.table)
	split := container.NewHSplit(container.NewVScroll(container.NewPadded(left)), container.NewPadded(right))
	split.Offset = 0.42
	footer := container.NewVBox(widget.NewSeparator(), s.errText,
		container.NewHBox(layout.NewSpacer(), s.progress, s.export, s.cancel, s.send, s.done))
	s.content = container.NewBorder(
		container.NewVBox(container.NewPadded(header), widget.NewSeparator()),
		container.NewPadded(footer), nil, nil, split)
	s.loadTemplates(s.ctx, s.tasks, s.templates, s.sess)
	return s
}

func sendLabel(n int) string {
	if n == 0 {
		return L(textSendButton)
	}
	return Lf("bulk.send_recipients", thousands(n))
}

func (s *bulkScreen) chooseTemplate() {
	if s.templatePicker.chooseTemplate(s.subject, &s.text.Entry, s.edited) {
		s.updateSend()
	}
}

func (s *bulkScreen) untouched() bool { return s.templatePicker.untouched(s.subject, &s.text.Entry) }

func (s *bulkScreen) fillFromTemplate() {
	s.templatePicker.fillFromTemplate(s.subject, &s.text.Entry, s.edited)
}

func (s *bulkScreen) textChanged() {
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

// listChanged invalidates a report of another list: what is sent is
// always what was checked.
func (s *bulkScreen) listChanged() {
	fieldMessage(s.listMsg, "", false)
	if s.busy || s.results != nil {
		return
	}
	if strings.TrimSpace(s.list.Text) == "" {
		s.check.Disable()
	} else {
		s.check.Enable()
	}
	if s.checks != nil && s.list.Text != s.checked {
		s.gen++
		s.checks, s.byResident = nil, nil
		s.summary.SetText(L(textListChanged))
		s.table.Hide()
		s.detail.Hide()
		s.content.Refresh()
	}
	s.updateSend()
}

func (s *bulkScreen) sendable() (ids []app.ID) {
	for _, c := range s.checks {
		if c.Sendable() {
			ids = append(ids, c.ResidentID)
		}
	}
	return ids
}

func (s *bulkScreen) updateSend() {
	n := len(s.sendable())
	s.send.SetText(sendLabel(n))
	if s.tpl != nil && n > 0 && !s.busy && s.results == nil && s.list.Text == s.checked {
		s.send.Enable()
	} else {
		s.send.Disable()
	}
}

// openFile lets staff pick a text or CSV file; its text goes into the list
// as it is, to be checked like a pasted list.
func (s *bulkScreen) openFile() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			logError("open recipient file", err, "clinic", s.sess.ClinicID)
			fieldMessage(s.listMsg, L(textFileFailed), true)
			return
		}
		if rc == nil {
			return // cancelled
		}
		s.readList(rc)
	}, s.win)
	d.SetFilter(fstorage.NewExtensionFileFilter([]string{".txt", ".csv"}))
	d.Resize(fileDialogSize(s.win))
	d.Show()
}

// readList reads a recipient file off the UI goroutine into the list.
func (s *bulkScreen) readList(rc io.ReadCloser) {
	s.tasks.run(func() func() {
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, app.MaxBulkInput+1))
		return func() {
			switch {
			case err != nil:
				logError("read recipient file", err, "clinic", s.sess.ClinicID)
				fieldMessage(s.listMsg, L(textFileFailed), true)
			case len(b) > app.MaxBulkInput:
				fieldMessage(s.listMsg, Lf("bulk.file_too_large_list_may",
					app.MaxBulkInput>>10, thousands(app.MaxBulkRecipients)), true)
			default:
				// Personnummer are ASCII; a file saved in another
				// encoding keeps them, only its other letters turn into '?'.
				text := strings.ToValidUTF8(strings.TrimPrefix(string(b), "\ufeff"), "?")
				s.list.SetText(text)
			}
		}
	})
}

func (s *bulkScreen) doCheck() {
	if s.busy || strings.TrimSpace(s.list.Text) == "" {
		return
	}
	text := s.list.Text
	s.gen++
	gen := s.gen
	s.setBusy(true)
	s.summary.SetText(L(textChecking))
	fieldMessage(s.errText, "", false)
	s.tasks.run(func() func() {
		checks, err := s.cases.CheckRecipients(s.ctx, s.sess, text)
		return func() {
			s.setBusy(false)
			if gen != s.gen {
				return
			}
			s.showReport(text, checks, err)
		}
	})
}

func (s *bulkScreen) showReport(text string, checks []app.RecipientCheck, err error) {
	var tl *app.ListTooLongError
	switch {
	case errors.As(err, &tl):
		msg := Lf("bulk.list_too_long_at_most", thousands(tl.Max))
		if tl.Entries > 0 {
			msg = Lf("bulk.list_has_personnummer_at_most", thousands(tl.Entries), thousands(tl.Max))
		}
		fieldMessage(s.listMsg, msg, true)
		s.summary.SetText(L(textReportEmpty))
		return
	case errors.Is(err, app.ErrForbidden):
		logError("check recipients", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		fieldMessage(s.errText, L(textForbidden), true)
		s.summary.SetText(L(textReportEmpty))
		return
	case err != nil:
		logError("check recipients", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		fieldMessage(s.errText, L(textCheckFailed), true)
		s.summary.SetText(L(textReportEmpty))
		return
	case len(checks) == 0:
		fieldMessage(s.listMsg, L(textListEmpty), true)
		return
	}
	s.checks, s.checked = checks, text
	s.byResident = map[app.ID]*app.RecipientCheck{}
	ok, dup := 0, 0
	for i := range checks {
		c := &checks[i]
		if c.ResidentID != "" && s.byResident[c.ResidentID] == nil {
			s.byResident[c.ResidentID] = c
		}
		switch {
		case c.Sendable():
			ok++
		case c.Status == app.RecipientDuplicate:
			dup++
		}
	}
	sum := Lf("bulk.personnummer_list_will_sent_will", thousands(len(checks)), thousands(ok), thousands(len(checks)-ok))
	if dup > 0 {
		sum += " " + Lf("bulk.them_duplicates_people_already_list", thousands(dup))
	}
	if ok > 0 {
		sum += " " + L(textSelectRowDetail)
	}
	s.summary.SetText(sum)
	s.showTable()
	s.updateSend()
}

func (s *bulkScreen) showTable() {
	s.setColumns()
	s.table.UnselectAll()
	s.table.ScrollToTop()
	s.table.Show()
	s.table.Refresh()
	s.detail.Hide()
	s.content.Refresh()
}

func (s *bulkScreen) setBusy(b bool) {
	s.busy = b
	if b {
		s.progress.Show()
		s.progress.Start()
		s.check.Disable()
		s.loadFile.Disable()
	} else {
		s.progress.Stop()
		s.progress.Hide()
		if s.results == nil {
			s.check.Enable()
			s.loadFile.Enable()
		}
	}
	s.updateSend()
}

func (s *bulkScreen) doSend() {
	ids := s.sendable()
	if s.busy || s.tpl == nil || len(ids) == 0 || s.results != nil || s.list.Text != s.checked {
		return
	}
	fieldMessage(s.errText, "", false)
	if !checkMessageFields(s.subject.Text, s.text.Text, s.subjectMsg, s.textMsg) {
		return
	}
	if s.asked.shown() {
		return
	}
	s.asked = askQuestion(s.content, L(textAskBulkTitle), s.confirmText(ids), sendLabel(len(ids)), L(textCancel), func() { s.sendNow(ids) })
}

// confirmText says what is about to go: how many, which template, the
// subject, a sample of the text and of the recipients.
func (s *bulkScreen) confirmText(ids []app.ID) string {
	var b strings.Builder
	b.WriteString(Lf("bulk.recipients_will_get_case_from", thousands(len(ids)), strings.TrimSpace(s.subject.Text), s.tpl.Name))
	text := strings.Join(strings.Fields(s.text.Text), " ")
	if r := []rune(text); len(r) > 140 {
		text = string(r[:140]) + " …"
	}
	b.WriteString("\n\n" + Lf("bulk.text_begins", text))
	var names []string
	for _, c := range s.checks {
		if c.Sendable() && len(names) < 3 {
			names = append(names, c.Name)
		}
	}
	if len(names) > 0 {
		sample := strings.Join(names, ", ")
		if len(ids) > len(names) {
			sample += Lf("bulk.and_more", thousands(len(ids)-len(names)))
		}
		b.WriteString("\n\n" + Lf("bulk.recipients", sample))
	}
	b.WriteString("\n\n" + L(textAskBulkFinal))
	return b.String()
}

// sendNow is the confirmed send.
func (s *bulkScreen) sendNow(ids []app.ID) {
	if s.busy || s.results != nil || s.list.Text != s.checked || s.tpl == nil {
		return
	}
	req := app.BulkRequest{TemplateID: s.tpl.ID, Subject: s.subject.Text, Text: s.text.Text, ResidentIDs: ids}
	s.setBusy(true)
	s.summary.SetText(Lf("bulk.sending_recipients", thousands(len(ids))))
	s.tasks.run(func() func() {
		res, err := s.cases.SendBulk(s.ctx, s.sess, req)
		return func() { s.showResults(res, err) }
	})
}

func (s *bulkScreen) showResults(res []app.BulkResult, err error) {
	if res == nil {
		// Refused as a whole: nothing was sent.
		s.setBusy(false)
		switch {
		case errors.Is(err, app.ErrForbidden):
			fieldMessage(s.errText, L(textForbidden), true)
		case errors.Is(err, app.ErrTemplateRetired):
			fieldMessage(s.errText, L(textTemplateRetired), true)
		case errors.Is(err, app.ErrInvalid):
			fieldMessage(s.errText, L(textSendInvalid), true)
		default:
			fieldMessage(s.errText, L(textBulkSendFailed), true)
		}
		logError("bulk send", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		s.summary.SetText(L(textBulkSendFailed))
		return
	}
	s.results = res
	s.outcome = outcomes(s.checks, res)
	s.setBusy(false)
	if err != nil {
		logError("bulk send", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		fieldMessage(s.errText, L(textBulkFailed), true)
	}
	for _, r := range res {
		if !r.Sent() && !errors.Is(r.Err, app.ErrUnreachable) {
			logError("bulk send to resident", r.Err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID, "resident", r.ResidentID)
		}
	}
	sent := 0
	for _, o := range s.outcome {
		if o.sent() {
			sent++
		}
	}
	sum := Lf("bulk.sent_people_list", thousands(sent), thousands(len(s.outcome)))
	if n := len(s.outcome) - sent; n > 0 {
		sum += " " + Lf("bulk.did_not_get_message_need", thousands(n))
		if s.save != nil {
			sum += " " + L("bulk.export_list_send_letters")
			s.export.Show()
		}
	}
	s.summary.SetText(sum)
	s.tableTitle.SetText(L(textResults))
	for _, w := range []fyne.Disableable{s.template, s.list, s.loadFile, s.check, s.subject, s.text, s.useTpl} {
		w.Disable()
	}
	s.send.Hide()
	s.cancel.Hide()
	s.done.Show()
	s.showTable()
}

func (s *bulkScreen) tableSize() (int, int) {
	if s.results != nil {
		return len(s.outcome), len(resultCols)
	}
	return len(s.checks), len(reportCols)
}

func (s *bulkScreen) colTitle(col int) string {
	if s.results != nil {
		return L(resultCols[col].title)
	}
	return L(reportCols[col].title)
}

func (s *bulkScreen) setColumns() {
	if s.results != nil {
		for i, c := range resultCols {
			s.table.SetColumnWidth(i, c.width)
		}
		return
	}
	for i, c := range reportCols {
		s.table.SetColumnWidth(i, c.width)
	}
}

// cellText is the text of one cell and whether it says "not sent".
func (s *bulkScreen) cellText(row, col int) (string, bool) {
	if s.results != nil {
		if row >= len(s.outcome) {
			return "", false
		}
		o := s.outcome[row]
		switch col {
		case 0, 1, 2:
			return s.checkCell(o.check, col)
		case 3:
			if o.sent() {
				return L(textWasSent), false
			}
			return L(textWasNotSent), true
		case 4:
			short, _ := o.reason()
			return short, false
		}
		return "", false
	}
	if row >= len(s.checks) {
		return "", false
	}
	c := &s.checks[row]
	switch col {
	case 0, 1, 2:
		return s.checkCell(c, col)
	case 3:
		if c.Sendable() {
			return L(textWillSend), false
		}
		return L(textWillNotSend), true
	case 4:
		short, _ := checkReason(c)
		return short, false
	}
	return "", false
}

// checkCell is the line, number and name of a list entry.
func (s *bulkScreen) checkCell(c *app.RecipientCheck, col int) (string, bool) {
	switch col {
	case 0:
		return strconv.Itoa(c.Line), false
	case 1:
		if c.PNR.IsZero() {
			return c.Input, false // as written, so that staff can find the mistake
		}
		return c.PNR.String(), false
	case 2:
		return c.Name, false
	}
	return "", false
}

func (s *bulkScreen) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	text, not := s.cellText(id.Row, id.Col)
	l.Importance = widget.MediumImportance
	if not {
		l.Importance = widget.DangerImportance
	}
	l.SetText(text)
}

// showDetail shows the full reason of the selected row below the table.
func (s *bulkScreen) showDetail(id widget.TableCellID) {
	var long string
	switch {
	case s.results != nil && id.Row < len(s.outcome):
		_, long = s.outcome[id.Row].reason()
	case s.results == nil && id.Row < len(s.checks):
		_, long = checkReason(&s.checks[id.Row])
	}
	s.detail.SetText(long)
	s.detail.Hidden = long == ""
	s.content.Refresh()
}

// outcomes pairs each person of the checked list with the send's result:
// a sendable entry with its result, any other entry (but a duplicate)
// with the check's reason.
func outcomes(checks []app.RecipientCheck, res []app.BulkResult) []bulkOutcome {
	byID := make(map[app.ID]*app.BulkResult, len(res))
	for i := range res {
		byID[res[i].ResidentID] = &res[i]
	}
	out := make([]bulkOutcome, 0, len(checks))
	for i := range checks {
		c := &checks[i]
		switch {
		case c.Status == app.RecipientDuplicate:
		case c.Sendable():
			r := byID[c.ResidentID]
			if r == nil { // not in the send (cannot happen): say so rather than hide it
				r = &app.BulkResult{ResidentID: c.ResidentID, Err: context.Canceled}
			}
			out = append(out, bulkOutcome{check: c, result: r})
		default:
			out = append(out, bulkOutcome{check: c})
		}
	}
	return out
}

// exportFollowUp saves the people not sent to as CSV, for letters and
// calls, after the access log has recorded the export of each.
func (s *bulkScreen) exportFollowUp() {
	if s.save == nil || s.busy {
		return
	}
	var rows []bulkOutcome
	var ids []app.ID
	for _, o := range s.outcome {
		if !o.sent() {
			rows = append(rows, o)
			if o.check.ResidentID != "" {
				ids = append(ids, o.check.ResidentID)
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	s.setBusy(true)
	s.export.Disable()
	s.tasks.run(func() func() {
		err := s.cases.LogRecipientExport(s.ctx, s.sess, ids)
		return func() {
			s.setBusy(false)
			s.export.Enable()
			if err != nil {
				logError("export bulk follow-up", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
				fieldMessage(s.errText, L(textExportFailed), true)
				return
			}
			now := time.Now
			if s.now != nil {
				now = s.now
			}
			s.save("massutskick-ej-skickade-"+now().In(app.Stockholm).Format("2006-01-02")+".csv", followUpCSV(rows))
		}
	})
}

// followUpCSV is the follow-up list as a spreadsheet opens it in Sweden:
// UTF-8 with a byte-order mark, semicolons, one person per row. A cell
// that a spreadsheet would take for a formula is quoted with a leading '.
func followUpCSV(rows []bulkOutcome) []byte {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.Comma = ';'
	w.UseCRLF = true
	_ = w.Write([]string{L("bulk.row"), L("common.personnummer"), L("common.name"), L("common.reason"), L("bulk.what_do")})
	for _, o := range rows {
		c := o.check
		pnr := c.Input
		if !c.PNR.IsZero() {
			pnr = c.PNR.String()
		}
		short, long := o.reason()
		_ = w.Write([]string{strconv.Itoa(c.Line), csvCell(pnr), csvCell(c.Name), csvCell(short), csvCell(strings.ReplaceAll(long, "\n", " "))})
	}
	w.Flush()
	return b.Bytes()
}

func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
