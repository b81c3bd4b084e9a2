package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/text/unicode/norm"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/export"
)

// ReplySource gives the clinic's templates; the case view offers those of
// kind standardsvar under "Infoga standardsvar". app.DirectoryStore
// satisfies it.
type ReplySource interface {
	Templates(ctx context.Context, clinicID app.ID) ([]app.MessageTemplate, error)
}

// kindStandardReply is the template kind of a standard reply.
const kindStandardReply = app.KindStandardReply

// Texts of the case view.
const (
	cvBack          = "caseview.back"
	cvLoadingCase   = "caseview.loading_case"
	cvModeReply     = "caseview.reply_resident"
	cvModeNote      = "caseview.internal_note"
	cvReplyHint     = "caseview.write_reply_resident"
	cvReplyInfo     = "caseview.resident_will_read_what_you"
	cvNoteInfo      = "caseview.seen_by_staff_only_never"
	cvInsertReply   = "caseview.insert_standard_reply"
	cvNoStdReplies  = "caseview.no_standard_replies"
	cvSendReply     = "caseview.send_reply_resident"
	cvReplyQueued   = "caseview.reply_queued_will_sent_when"
	cvShortcutHint  = "caseview.ctrl_enter_sends_reply"
	cvShortcutNote  = "caseview.ctrl_enter_saves_note"
	cvAddNote       = "caseview.save_internal_note"
	cvAskNoteTitle  = "caseview.send_resident_question"
	cvAskNoteBody   = "caseview.text_was_written_as_internal"
	cvAskNoteYes    = "caseview.send_resident"
	cvCancel        = "common.cancel"
	cvPending       = "caseview.reply_will_sent_few_seconds"
	cvUndo          = "caseview.undo"
	cvSendNow       = "caseview.send_now"
	cvUndone        = "caseview.reply_was_not_sent_text"
	cvAskLeaveTitle = "caseview.discard_text_question"
	cvAskLeaveBody  = "caseview.what_you_wrote_has_not"
	cvAskLeaveYes   = "caseview.discard_text"
	cvAskLeaveNo    = "caseview.keep_writing"
	cvCloseCase     = "caseview.close_case"
	cvReopenCase    = "caseview.reopen"
	cvAssign        = "caseview.assign"
	cvExportPDF     = "common.export_pdf"
	cvPrint         = "caseview.print"
	cvEmptyReply    = "caseview.write_reply_box_first"
	cvEmptyNote     = "caseview.write_note_box_first"
	cvTooLong       = "caseview.text_too_long_at_most"
	cvClosedReply   = "caseview.case_closed_reopen_reply"
	cvNoMessages    = "caseview.case_has_no_messages"
	cvNobody        = "caseview.nobody_yet"
	cvUnknownStaff  = "caseview.unknown_staff_member"
	cvNotFound      = "caseview.case_no_longer_exists_go"
	cvDraftKept     = "caseview.text_you_wrote_still_below"
	cvNotAllowed    = "caseview.you_do_not_have_permission"
	cvChanged       = "caseview.case_has_changed_meantime_now"
	cvNotAssignable = "caseview.staff_member_cannot_assigned_cases"
	cvInvalidText   = "caseview.text_could_not_saved_empty"
	cvActionFailed  = "common.something_went_wrong_try_again"
	cvExportFailed  = "caseview.pdf_file_could_not_created"
	cvPrintFallback = "caseview.pdf_viewer_could_not_opened"
	cvNoteOnlyHint  = "caseview.write_internal_note"
	cvFlushFailed   = "caseview.reply_could_not_sent_open"
	cvNoteStillOK   = "caseview.no_reply_sent_case_you"
)

// isCaseSendShortcut: Ctrl or the platform's shortcut key (Cmd on macOS)
// with either Enter key.
func isCaseSendShortcut(s fyne.Shortcut) bool {
	cs, ok := s.(*desktop.CustomShortcut)
	return ok && (cs.Modifier == fyne.KeyModifierControl || cs.Modifier == fyne.KeyModifierShortcutDefault) &&
		(cs.KeyName == fyne.KeyReturn || cs.KeyName == fyne.KeyEnter)
}

type caseViewDeps struct {
	ctx     context.Context
	tasks   *tasks
	cases   CaseWork
	dir     Directory
	replies ReplySource
	sess    app.Session
	clinic  app.Clinic
	// residentName and pnr come from the case-list row: the thread holds
	// ids only. pnr is the personnummer, samordningsnummer or
	// reservnummer as the list shows it.
	residentName, pnr string
	// export builds the PDF; nil means export.CasePDF with the view's names.
	export func(t *app.Thread) ([]byte, error)
	// save hands a finished PDF to the user (the lead supplies a file-save
	// dialog; tests capture). It runs on the UI goroutine.
	save func(name string, data []byte)
	// onClose goes back to the list.
	onClose func()
	// onChanged tells the list that a case changed (reply, note, assign,
	// close, reopen), with the header as stored.
	onChanged func(c app.Case)
	// forms reads e-service form versions, for a submission's answers;
	// nil: dir when it can (caseanswers.go), else the message text.
	forms FormReader
	// sync is a connected desktop's sync (nil standalone): a reply made
	// while the server cannot be reached is only queued, and says so.
	sync SyncStatus
}

// caseView is the ärendevy: the case's facts, its thread with read status,
// internal notes, and what staff do with it — reply, note, assign, close,
// reopen, export and print. The service checks every role again; the view
// only hides what a role never uses (Tilldela… without ärendemottagare).
type caseView struct {
	caseViewDeps
	id app.ID

	thread    *app.Thread
	loaded    bool                   // directory data read (staff, templates, e-services)
	staff     map[app.ID]string      // names of every staff member, for authors
	assignees []app.Staff            // staff with a case role in the clinic, by name
	eservices map[app.ID]string      // e-service names, for the case type
	standard  []app.MessageTemplate  // standard replies, by name
	busy      bool                   // a write or export is running
	tempFiles []string               // printed PDFs, see removePrinted
	open      func(u *url.URL) error // opens a file with the OS; tests replace it

	content  *fyne.Container
	back     *widget.Button
	title    *widget.Label
	status   *widget.Label
	kind     *widget.Label
	started  *widget.Label
	resident *widget.Label
	assignee *widget.Label
	banner   *widget.Label // loading, errors, the print fallback
	body     *fyne.Container
	messages *fyne.Container // the thread's cards
	scroll   *container.Scroll
	// attachments lists the files chosen for the next reply, each with a
	// remove button; hidden while there are none.
	attachments *fyne.Container
	files       []app.File                          // chosen for the next reply, checked
	notified    map[app.ID][]app.NotificationStatus // by message
	// formVersions are the form versions the thread's answers were
	// given on, by version (caseanswers.go).
	formVersions map[int]*form.Form
	// guardians are the names of the guardians who wrote in proxy mode.
	guardians map[app.ID]string
	attach    *widget.Button
	// pickFile asks for a file to attach (a file-open dialog); tests
	// replace it.
	pickFile  func(done func(name string, data []byte, err error))
	insert    *widget.Select
	reply     *cvReplyEntry
	replyErr  *widget.Label
	send      *widget.Button
	note      *widget.Button
	closeBtn  *widget.Button
	assign    *widget.Select
	exportBtn *widget.Button
	printBtn  *widget.Button

	// replyBlocked says why no reply can reach the resident (Skicka
	// ärende's reasons, app.CaseService.ReplyReach); hidden when one can.
	// While it shows, Skicka svar, Bifoga fil and standard replies are
	// off and the field takes internal notes only.
	replyBlocked *widget.Label
	blocks       []app.BlockReason

	// The composer writes either a reply to the resident or an internal
	// note, never both: mode switches, and its colour, its line of
	// explanation, its placeholder, its button and what Ctrl+Enter does
	// follow. writtenAsNote: text was typed in note mode and not yet
	// confirmed as a reply, so sending it as one asks first (asked).
	mode          *widget.RadioGroup
	noteMode      bool
	forcedNote    bool // blocks put the composer in note mode
	writtenAsNote bool
	modeIcon      *widget.Icon
	modeInfo      *widget.Label
	composerShade *cvShade
	hint          *widget.Label
	asked         *question

	// A reply waits undo before it is written: pendingBar offers Ångra
	// and Skicka nu meanwhile.
	undo       time.Duration
	pending    *pendingReply
	pendingBar *fyne.Container
	undoBtn    *widget.Button
	sendNowBtn *widget.Button
}

// replyUndo is how long a reply waits, with Ångra on screen, before it
// is written and can reach the resident.
var replyUndo = 5 * time.Second

// pendingReply is a reply waiting for its undo time.
type pendingReply struct {
	text  string
	files []app.File
	stop  chan struct{} // closed by Ångra and Skicka nu
}

// newCaseView builds the view of case id and starts reading it (OpenCase,
// which logs the access). Put v.content in the window; results arrive
// through d.tasks.
func newCaseView(d caseViewDeps, id app.ID) *caseView {
	v := &caseView{caseViewDeps: d, id: id}
	v.open = func(u *url.URL) error {
		a := fyne.CurrentApp()
		if a == nil {
			return errors.New("no app")
		}
		return a.OpenURL(u)
	}

	v.back = widget.NewButtonWithIcon(L(cvBack), theme.NavigateBackIcon(), v.goBack)
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.title.SizeName = theme.SizeNameSubHeadingText
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.status = widget.NewLabel("")
	v.kind = widget.NewLabel("")
	v.started = widget.NewLabel("")
	v.resident = widget.NewLabel("")
	v.assignee = widget.NewLabel("")
	v.banner = widget.NewLabel(L(cvLoadingCase))
	v.banner.Wrapping = fyne.TextWrapWord

	v.exportBtn = widget.NewButtonWithIcon(L(cvExportPDF), theme.DocumentSaveIcon(), func() { v.exportCase(app.AccessExport) })
	v.printBtn = widget.NewButtonWithIcon(L(cvPrint), theme.DocumentPrintIcon(), func() { v.exportCase(app.AccessPrint) })
	v.closeBtn = widget.NewButtonWithIcon(L(cvCloseCase), theme.ConfirmIcon(), v.toggleClosed)
	v.assign = newSelect(nil, v.assignTo)
	v.assign.PlaceHolder = L(cvAssign)
	if !d.sess.Staff.Has(d.clinic.ID, app.RoleCaseReceiver) {
		v.assign.Hide() // only an ärendemottagare assigns; the service checks too
	}

	v.messages = container.NewVBox()
	v.scroll = container.NewVScroll(v.messages)
	v.attachments = container.NewVBox()
	v.attachments.Hide()
	v.attach = widget.NewButtonWithIcon(L(cvAttach), theme.ContentAddIcon(), v.chooseFile)
	v.pickFile = v.openDialog

	v.undo = replyUndo
	v.insert = newSelect(nil, v.insertStandard)
	v.insert.PlaceHolder = L(cvInsertReply)
	v.reply = newCVReplyEntry(v.shortcutSend)
	v.reply.SetPlaceHolder(L(cvReplyHint))
	v.reply.SetMinRowsVisible(4)
	v.reply.Wrapping = fyne.TextWrapWord
	v.reply.OnChanged = func(text string) {
		if v.replyErr.Visible() {
			v.replyErr.Hide()
		}
		switch {
		case strings.TrimSpace(text) == "":
			v.writtenAsNote = false
		case v.noteMode:
			v.writtenAsNote = true
		}
	}
	v.replyErr = widget.NewLabel("")
	v.replyErr.Importance = widget.DangerImportance
	v.replyErr.Wrapping = fyne.TextWrapWord
	v.replyErr.Hide()
	v.replyBlocked = widget.NewLabel("")
	v.replyBlocked.Importance = widget.WarningImportance
	v.replyBlocked.Wrapping = fyne.TextWrapWord
	v.replyBlocked.Hide()
	v.send = widget.NewButtonWithIcon(L(cvSendReply), theme.MailReplyIcon(), v.sendReply)
	v.send.Importance = widget.HighImportance
	v.note = widget.NewButtonWithIcon(L(cvAddNote), theme.DocumentCreateIcon(), v.addNote)
	v.hint = widget.NewLabel(L(cvShortcutHint))
	v.hint.SizeName = theme.SizeNameCaptionText
	v.mode = widget.NewRadioGroup([]string{L(cvModeReply), L(cvModeNote)}, nil)
	v.mode.Horizontal = true
	v.mode.Required = true
	v.mode.Selected = L(cvModeReply)
	v.mode.OnChanged = func(opt string) { v.setMode(opt == L(cvModeNote)) }
	v.modeIcon = widget.NewIcon(theme.MailReplyIcon())
	v.modeInfo = widget.NewLabelWithStyle(L(cvReplyInfo), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.modeInfo.Wrapping = fyne.TextWrapWord
	v.composerShade = newCVShade(cvColorStaff)
	v.undoBtn = widget.NewButtonWithIcon(L(cvUndo), theme.ContentUndoIcon(), v.undoPending)
	v.undoBtn.Importance = widget.HighImportance
	v.sendNowBtn = widget.NewButton(L(cvSendNow), v.sendPendingNow)
	pendingText := widget.NewLabel(L(cvPending))
	v.pendingBar = container.NewBorder(nil, nil, widget.NewIcon(theme.MailSendIcon()),
		container.NewHBox(v.sendNowBtn, v.undoBtn), pendingText)
	v.pendingBar.Hide()
	v.note.Hide()

	facts := container.NewGridWithColumns(2,
		cvForm(L("common.status"), v.status, L("common.case_type"), v.kind, L("common.started_by"), v.started),
		cvForm(L("common.resident"), v.resident, L("caseview.handled_by"), v.assignee),
	)
	head := container.NewBorder(nil, nil, v.back,
		container.NewHBox(v.assign, v.closeBtn, v.exportBtn, v.printBtn), v.title)
	replyCount := limitEntry(&v.reply.Entry, app.MaxTextLen)
	composer := container.NewStack(v.composerShade, container.NewPadded(container.NewVBox(
		container.NewBorder(nil, nil, v.modeIcon, replyCount, v.modeInfo),
		v.reply,
	)))
	replyBox := container.NewVBox(
		widget.NewSeparator(),
		v.attachments,
		container.NewBorder(nil, nil, v.mode, v.insert),
		v.replyBlocked,
		composer,
		v.replyErr,
		v.pendingBar,
		container.NewHBox(v.attach, layout.NewSpacer(), v.hint, v.send, v.note),
	)
	v.body = container.NewBorder(container.NewVBox(facts, widget.NewSeparator()), replyBox, nil, nil, v.scroll)
	v.body.Hide()
	v.content = container.NewBorder(container.NewVBox(head, v.banner), nil, nil, nil, v.body)
	v.setBusy(true)
	v.load(nil)
	return v
}

// cvForm lays out label–value pairs as a two-column form with bold keys.
func cvForm(pairs ...any) *fyne.Container {
	c := container.New(layout.NewFormLayout())
	for i := 0; i < len(pairs); i += 2 {
		key := widget.NewLabelWithStyle(pairs[i].(string), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		c.Add(key)
		c.Add(pairs[i+1].(fyne.CanvasObject))
	}
	return c
}

// cvReplyEntry is the multi-line reply field; it sends on Ctrl+Enter.
type cvReplyEntry struct {
	widget.Entry
	onSend func()
}

func newCVReplyEntry(onSend func()) *cvReplyEntry {
	e := &cvReplyEntry{onSend: onSend}
	e.MultiLine = true
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab is false: Tab leaves the reply for the send button (no
// keyboard trap).
func (e *cvReplyEntry) AcceptsTab() bool { return false }

// TypedShortcut sends on Ctrl+Enter (either Enter key) and leaves every
// other shortcut to the entry.
func (e *cvReplyEntry) TypedShortcut(s fyne.Shortcut) {
	if isCaseSendShortcut(s) {
		e.onSend()
		return
	}
	e.Entry.TypedShortcut(s)
}

// shortcutSend is what Ctrl+Enter does: the composer's own button.
// It sends to the resident only from a reply; in note mode it saves the
// note.
func (v *caseView) shortcutSend() {
	if v.noteMode {
		if !v.note.Disabled() {
			v.addNote()
		}
		return
	}
	if !v.send.Disabled() {
		v.sendReply()
	}
}

// setMode switches the composer between a reply to the resident and an
// internal note: colour, explanation, placeholder, button and shortcut
// all change, so that nobody takes one for the other.
func (v *caseView) setMode(note bool) {
	v.noteMode = note
	if note {
		v.composerShade.name = cvColorNote
		v.modeIcon.SetResource(theme.VisibilityOffIcon())
		v.modeInfo.SetText(L(cvNoteInfo))
		v.reply.SetPlaceHolder(L(cvNoteOnlyHint))
		v.hint.SetText(L(cvShortcutNote))
		v.send.Hide()
		v.note.Show()
		v.attach.Hide()
		v.attachments.Hide()
		v.insert.Hide()
	} else {
		v.composerShade.name = cvColorStaff
		v.modeIcon.SetResource(theme.MailReplyIcon())
		v.modeInfo.SetText(L(cvReplyInfo))
		v.reply.SetPlaceHolder(L(cvReplyHint))
		v.hint.SetText(L(cvShortcutHint))
		v.note.Hide()
		v.send.Show()
		v.attach.Show()
		v.insert.Show()
		v.showFiles()
	}
	if sel := map[bool]string{false: L(cvModeReply), true: L(cvModeNote)}[note]; v.mode.Selected != sel {
		v.mode.Selected = sel
		v.mode.Refresh()
	}
	v.composerShade.Refresh()
	v.content.Refresh()
}

// goBack is Tillbaka: a reply waiting for its undo time is written now;
// text written and not sent or saved is thrown away only after a question.
func (v *caseView) goBack() {
	leave := func() {
		if v.onClose != nil {
			v.onClose()
		}
	}
	if p := v.pending; p != nil {
		// Sent now, before leaving; refused, it stays here with the
		// reason and its text back in the composer.
		if err := v.flushPending(); err != nil {
			v.reply.SetText(p.text)
			v.files = p.files
			v.showFiles()
			v.load(func() { v.showBanner(caseActionError(opReply, err), widget.DangerImportance) })
			return
		}
		leave()
		return
	}
	if strings.TrimSpace(v.reply.Text) != "" && v.thread != nil {
		v.asked = askQuestion(v.content, L(cvAskLeaveTitle), L(cvAskLeaveBody), L(cvAskLeaveYes), L(cvAskLeaveNo), leave)
		if v.asked != nil {
			return
		}
	}
	leave()
}

// load reads the thread through OpenCase, which records the access, and,
// the first time, the names the thread refers to by id. Every reload after
// a change is an OpenCase too, so it is logged: CaseWork has no read that
// is not. after, when set, runs on the UI goroutine once the thread shows.
func (v *caseView) load(after func()) { v.loadCase(false, after) }

// loadCase is load; inPlace is a reload a sync asked for (reloadInPlace),
// which gives way to a write of this view begun meanwhile (that write
// reads the case when done: showing this read would end its busy state
// and enable Skicka while the reply is still being written) and, when the
// case can no longer be read, keeps the thread and the text being written
// on screen (lost) instead of hiding them.
func (v *caseView) loadCase(inPlace bool, after func()) {
	first := !v.loaded
	v.tasks.run(func() func() {
		t, err := v.cases.OpenCase(v.ctx, v.sess, v.id)
		if err != nil {
			return func() {
				switch {
				case inPlace && v.busy:
				case first || v.thread == nil:
					v.fail("open case", err, caseOpenError(err))
				default:
					v.lost(err)
				}
			}
		}
		// The state of the notifications; a failed read costs that line only.
		notes, nerr := v.cases.Notifications(v.ctx, v.sess, v.id)
		if nerr != nil {
			logError("case view: notifications", nerr, "case", v.id)
		}
		// Whether a reply can reach the resident; a failed read leaves
		// the composer on, and Reply still refuses what it must.
		reach, rerr := v.cases.ReplyReach(v.ctx, v.sess, v.id)
		if rerr != nil {
			logError("case view: reach", rerr, "case", v.id)
		}
		forms := v.answerForms(t)
		guardians, gerr := v.cases.GuardianAuthors(v.ctx, v.sess, t)
		if gerr != nil {
			logError("case view: guardian authors", gerr, "case", v.id)
		}
		var staff []app.Staff
		var templates []app.MessageTemplate
		var eservices map[app.ID]string
		if first {
			// A failed directory read costs names, not the case: log it
			// and show the case with what is known.
			if staff, err = v.dir.AllStaff(v.ctx); err != nil {
				logError("case view: list staff", err, "case", v.id, "staff", v.sess.Staff.ID)
			}
			if v.replies != nil {
				if templates, err = v.replies.Templates(v.ctx, v.clinic.ID); err != nil {
					logError("case view: list templates", err, "clinic", v.clinic.ID, "staff", v.sess.Staff.ID)
				}
			}
			eservices = eserviceNames(v.ctx, v.dir, v.clinic.ID)
		}
		return func() {
			if inPlace && v.busy {
				return // a write began meanwhile; it reads the case when done
			}
			if first {
				v.setDirectory(staff, templates, eservices)
			}
			v.notified = map[app.ID][]app.NotificationStatus{}
			v.formVersions = forms
			v.guardians = guardians
			for _, n := range notes {
				v.notified[n.MessageID] = append(v.notified[n.MessageID], n)
			}
			v.blocks = reach.Blocking
			v.show(t)
			if after != nil {
				after()
			}
		}
	})
}

func (v *caseView) setDirectory(staff []app.Staff, templates []app.MessageTemplate, eservices map[app.ID]string) {
	v.loaded = true
	v.eservices = eservices
	v.staff = make(map[app.ID]string, len(staff))
	v.assignees = nil
	for _, s := range staff {
		v.staff[s.ID] = s.Name
		if s.Has(v.clinic.ID, app.RoleCaseHandler) || s.Has(v.clinic.ID, app.RoleCaseReceiver) {
			v.assignees = append(v.assignees, s)
		}
	}
	slices.SortFunc(v.assignees, func(a, b app.Staff) int { return strings.Compare(a.Name, b.Name) })
	opts := make([]string, len(v.assignees))
	for i, s := range v.assignees {
		opts[i] = cvAssigneeOption(s)
	}
	v.assign.SetOptions(opts)

	v.standard = nil
	for _, t := range templates {
		if t.Kind == kindStandardReply && t.ClinicID == v.clinic.ID && !t.Retired {
			v.standard = append(v.standard, t)
		}
	}
	slices.SortFunc(v.standard, func(a, b app.MessageTemplate) int { return strings.Compare(a.Name, b.Name) })
	names := make([]string, len(v.standard))
	for i, t := range v.standard {
		names[i] = t.Name
	}
	v.insert.SetOptions(names)
	if len(names) == 0 {
		v.insert.PlaceHolder = L(cvNoStdReplies)
	}
}

// cvAssigneeOption is how a staff member appears in Tilldela…: the name and,
// so that two people of the same name can be told apart, the title.
func cvAssigneeOption(s app.Staff) string {
	if s.Title == "" {
		return s.Name
	}
	return s.Name + " · " + s.Title
}

func (v *caseView) staffName(id app.ID) string {
	if id == "" {
		return L(cvNobody)
	}
	if n, ok := v.staff[id]; ok {
		return n
	}
	return L(cvUnknownStaff)
}

// kindText is the e-service's name, or Information / Fråga, with R16 in
// words: whether the resident can answer.
func (v *caseView) kindText(c *app.Case) string {
	k := L(c.Kind.Label())
	if c.Kind == app.KindEService {
		if n, ok := v.eservices[c.EServiceID]; ok {
			k = n
		}
	}
	return k + " – " + L(export.AnswerText(c))
}

// reloadInPlace reads the case again after a sync changed it, keeping
// what the user has here: the reply or note being written (its own
// widgets, untouched by show) and the place in the thread, unless they
// were at its end, where the new entry then shows.
func (v *caseView) reloadInPlace() {
	if v.busy {
		return // a write of this view is under way; it reads the case when done
	}
	off := v.scroll.Offset
	atEnd := off.Y+v.scroll.Size().Height >= v.scroll.Content.MinSize().Height-1
	v.loadCase(true, func() {
		if !atEnd {
			v.scroll.ScrollToOffset(off)
		}
	})
}

// show puts a freshly read thread on screen.
func (v *caseView) show(t *app.Thread) {
	v.thread = t
	c := &t.Case
	v.title.SetText(c.Subject)
	v.status.SetText(L(c.Status.Label()))
	v.kind.SetText(v.kindText(c))
	v.started.SetText(L(c.StartedBy.Label()))
	who := v.residentName
	if v.pnr != "" {
		if who != "" {
			who += ", "
		}
		who += v.pnr
	}
	v.resident.SetText(who)
	v.assignee.SetText(v.staffName(c.AssigneeID))
	if c.Status == app.StatusClosed {
		v.closeBtn.SetText(L(cvReopenCase))
		v.closeBtn.SetIcon(theme.ViewRefreshIcon())
	} else {
		v.closeBtn.SetText(L(cvCloseCase))
		v.closeBtn.SetIcon(theme.ConfirmIcon())
	}

	v.messages.RemoveAll()
	for _, e := range export.Entries(t) {
		v.messages.Add(v.card(e))
	}
	if len(t.Messages)+len(t.Notes) == 0 {
		v.messages.Add(widget.NewLabel(L(cvNoMessages)))
	}
	v.showBlocks()
	v.banner.Hide()
	v.body.Show()
	v.setBusy(false)
	v.content.Refresh()
	v.scroll.ScrollToBottom() // the newest entry is where work continues
}

// showBlocks says, above the reply field and before anyone types, why a
// reply cannot reach the resident, in Skicka ärende's words (R1, R5, R7,
// R10): a reply is refused for the same reasons as a new case.
func (v *caseView) showBlocks() {
	if len(v.blocks) == 0 {
		v.replyBlocked.Hide()
		v.mode.Enable()
		if v.forcedNote {
			// Back to a reply, unless a note is being written.
			v.forcedNote = false
			if strings.TrimSpace(v.reply.Text) == "" {
				v.setMode(false)
			}
		}
		return
	}
	// Only a note can be written: the composer is in note mode and
	// cannot leave it.
	if !v.noteMode {
		v.forcedNote = true
		v.setMode(true)
	}
	v.mode.Disable()
	lines := make([]string, 0, len(v.blocks)+1)
	for _, b := range v.blocks {
		lines = append(lines, L(b.Message()))
	}
	lines = append(lines, L(cvNoteStillOK))
	v.replyBlocked.SetText(strings.Join(lines, "\n\n"))
	v.replyBlocked.Show()
}

// card shows one message or note. Messages from the resident's side and
// from staff have different shades; a note has a warm shade and says it
// is internal, so that nobody takes it for something the resident saw.
func (v *caseView) card(e export.Entry) fyne.CanvasObject {
	var who, text string
	tone := theme.ColorNameInputBackground
	var lines []fyne.CanvasObject
	switch {
	case e.Note != nil:
		who, text, tone = v.staffName(e.Note.StaffID), e.Note.Text, cvColorNote
		internal := widget.NewLabelWithStyle(L(export.TextNote), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		internal.SizeName = theme.SizeNameCaptionText
		lines = append(lines, cvIndent(container.NewHBox(widget.NewIcon(theme.VisibilityOffIcon()), internal)))
	case e.Message.Author == app.AuthorStaff:
		who, text, tone = v.staffName(e.Message.AuthorID), e.Message.Text, cvColorStaff
	default:
		who, text = L(export.Author(e.Message, v.staffName)), e.Message.Text
		if n := v.guardians[e.Message.AuthorID]; e.Message.Author == app.AuthorGuardian && n != "" {
			who += ": " + n // which guardian wrote (R5)
		}
	}
	author := widget.NewLabelWithStyle(who, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	at := widget.NewLabel(dateTime(e.At))
	lines = append(lines, container.NewBorder(nil, nil, author, at))
	if answers := v.answersBlock(e.Message); answers != nil {
		lines = append(lines, answers) // the text is the same answers as plain lines
	} else {
		body := widget.NewLabel(strings.TrimRight(text, "\n "))
		body.Wrapping = fyne.TextWrapWord
		body.Selectable = true // staff copy from here into the journal
		lines = append(lines, body)
	}
	if e.Message != nil {
		for _, a := range e.Message.Attachments {
			a := a
			// Shown and saved under its clean name, whatever a message
			// stored before every door checked names says.
			a.Name = app.CleanAttachmentName(a.Name, a.MIME)
			b := widget.NewButtonWithIcon(fmt.Sprintf("%s (%s)", a.Name, sizeText(a.Size)), theme.FileIcon(), func() { v.saveAttachment(a) })
			b.Importance = widget.LowImportance
			b.Alignment = widget.ButtonAlignLeading
			lines = append(lines, container.NewHBox(b))
		}
	}
	if e.Message != nil && e.Message.Author == app.AuthorStaff {
		read := widget.NewLabelWithStyle(readText(e.Message), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		read.SizeName = theme.SizeNameCaptionText
		icon := theme.ConfirmIcon() // read: a check mark
		if e.Message.ReadByResident.IsZero() {
			icon = theme.MailComposeIcon() // waiting in the inbox
		}
		lines = append(lines, cvIndent(container.NewHBox(widget.NewIcon(icon), read)))
		if ns := v.notified[e.Message.ID]; len(ns) > 0 {
			nl := widget.NewLabelWithStyle(notifiedText(ns), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
			nl.SizeName = theme.SizeNameCaptionText
			nl.Wrapping = fyne.TextWrapWord
			lines = append(lines, cvIndent(container.NewBorder(nil, nil, widget.NewIcon(theme.MailSendIcon()), nil, nl)))
		}
	}
	bg := newCVShade(tone)
	return container.NewPadded(container.NewStack(bg, container.NewPadded(container.NewVBox(lines...))))
}

// cvIndent lines an icon row up with the text of the labels around it,
// which sits one inner padding in from the label's edge.
func cvIndent(o fyne.CanvasObject) fyne.CanvasObject {
	return container.New(layout.NewCustomPaddedLayout(0, 0, theme.InnerPadding(), 0), o)
}

// actions are the view's controls that change or export the case.
func (v *caseView) actions() []fyne.Disableable {
	return []fyne.Disableable{v.send, v.note, v.attach, v.closeBtn, v.exportBtn, v.printBtn, v.assign, v.insert}
}

// setBusy disables the actions while a write or export runs, so that a
// double tap does not send a reply twice.
func (v *caseView) setBusy(busy bool) {
	v.busy = busy
	for _, w := range v.actions() {
		if busy {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	if !busy && len(v.standard) == 0 {
		v.insert.Disable()
	}
	if !busy && len(v.blocks) > 0 {
		// Notes stay: they never reach the resident.
		v.send.Disable()
		v.attach.Disable()
		v.insert.Disable()
	}
	if !busy && len(v.blocks) == 0 && v.pending == nil {
		v.mode.Enable()
	} else {
		v.mode.Disable()
	}
}

// fail shows why the case cannot be shown (forbidden, gone, read error):
// the thread and the actions disappear, Tillbaka stays.
func (v *caseView) fail(op string, err error, text string) {
	logError(op, err, "case", v.id, "staff", v.sess.Staff.ID, "clinic", v.clinic.ID)
	v.thread = nil
	v.body.Hide()
	v.assign.Hide()
	v.closeBtn.Hide()
	v.exportBtn.Hide()
	v.printBtn.Hide()
	v.showBanner(text, widget.DangerImportance)
}

// lost is a case that could be read before and no longer can (it was
// withdrawn from this staff member or removed on the server, or the read
// failed): the thread and the text being written stay on screen, so the
// text can still be copied, and the actions that would change the case
// are off, with the reason above.
func (v *caseView) lost(err error) {
	logError("reload case", err, "case", v.id, "staff", v.sess.Staff.ID, "clinic", v.clinic.ID)
	v.thread = nil
	v.busy = false
	for _, w := range v.actions() {
		w.Disable()
	}
	text := caseOpenError(err)
	if strings.TrimSpace(v.reply.Text) != "" {
		text += " " + L(cvDraftKept)
	}
	v.showBanner(text, widget.DangerImportance)
}

func (v *caseView) showBanner(text string, imp widget.Importance) {
	v.banner.Importance = imp
	v.banner.SetText(text)
	v.banner.Show()
	v.content.Refresh()
}

// caseOpenError maps an error from OpenCase to what the user sees.
func caseOpenError(err error) string {
	switch {
	case errors.Is(err, app.ErrForbidden):
		return L(textForbidden)
	case errors.Is(err, app.ErrNotFound):
		return L(cvNotFound)
	}
	return L(cvActionFailed)
}

// Operations of the case view, for the log and for caseActionError.
const (
	opReply  = "reply to case"
	opNote   = "note on case"
	opAssign = "assign case"
	opClose  = "close case"
	opReopen = "reopen case"
	opExport = "export case"
)

// caseActionError maps an error from a write to what the user sees.
func caseActionError(op string, err error) string {
	var ue *app.UnreachableError
	switch {
	case errors.As(err, &ue) && len(ue.Reasons) > 0:
		// Locked (or otherwise unreachable) since the case was opened:
		// Skicka ärende's words; the reload then turns the composer off.
		return L(ue.Reasons[0].Message())
	case errors.Is(err, app.ErrConflict) && op == opReply:
		return L(cvClosedReply)
	case errors.Is(err, app.ErrInvalid) && op == opAssign:
		return L(cvNotAssignable)
	case errors.Is(err, app.ErrTextControl):
		return L(app.TextMessage)
	case errors.Is(err, app.ErrForbidden):
		return L(cvNotAllowed)
	case errors.Is(err, app.ErrNotFound):
		return L(cvNotFound)
	case errors.Is(err, app.ErrConflict):
		return L(cvChanged)
	case errors.Is(err, app.ErrInvalid):
		return L(cvInvalidText)
	}
	return L(cvActionFailed)
}

// write runs a change off the UI goroutine, then reads the case again and
// tells the list. A refused change shows its Swedish text (at the reply
// field when it concerns the text) and reloads too, since the case may
// have changed under the user.
func (v *caseView) write(op string, atField bool, fn func() error, done func()) {
	v.writeOr(op, atField, fn, done, nil)
}

// writeOr is write with failed, which runs on the UI goroutine before the
// refused change's text shows.
func (v *caseView) writeOr(op string, atField bool, fn func() error, done, failed func()) {
	if v.busy || v.thread == nil {
		return
	}
	v.setBusy(true)
	v.banner.Hide()
	v.replyErr.Hide() // an older field message no longer applies
	v.tasks.run(func() func() {
		err := fn()
		return func() {
			if err != nil {
				logError(op, err, "case", v.id, "staff", v.sess.Staff.ID, "clinic", v.clinic.ID)
				text := caseActionError(op, err)
				if failed != nil {
					failed()
				}
				v.load(func() {
					if atField && (errors.Is(err, app.ErrInvalid) || errors.Is(err, app.ErrConflict)) {
						v.fieldError(text)
					} else {
						v.showBanner(text, widget.DangerImportance)
					}
				})
				return
			}
			v.load(func() {
				if done != nil {
					done()
				}
				if v.onChanged != nil && v.thread != nil {
					v.onChanged(v.thread.Case)
				}
			})
		}
	})
}

func (v *caseView) fieldError(text string) {
	v.replyErr.SetText(text)
	v.replyErr.Show()
	v.content.Refresh()
}

// checkText is the field check before anything is written: the service
// checks the same, this only saves a round trip and says it at the field.
func (v *caseView) checkText(empty string) (string, bool) {
	text := v.reply.Text
	switch {
	case strings.TrimSpace(text) == "":
		v.fieldError(empty)
		return "", false
	case utf8.RuneCountInString(text) > app.MaxTextLen:
		v.fieldError(L(cvTooLong))
		return "", false
	case app.CheckMultiline(text) != nil:
		v.fieldError(L(app.TextMessage))
		return "", false
	}
	return text, true
}

// sendReply is Skicka svar till invånaren: a closed case must be reopened
// first, a resident who cannot be reached gets no reply (showBlocks says
// why), and text written as a note is sent only after a question. The
// reply then waits the undo time (startPending) before it is written.
func (v *caseView) sendReply() {
	if v.thread == nil || v.busy || len(v.blocks) > 0 || v.noteMode || v.pending != nil {
		return
	}
	text, ok := v.checkText(L(cvEmptyReply))
	if !ok {
		return
	}
	if v.thread.Case.Status == app.StatusClosed {
		v.fieldError(L(cvClosedReply))
		return
	}
	if v.writtenAsNote {
		if v.asked.shown() {
			return
		}
		v.asked = askQuestion(v.content, L(cvAskNoteTitle), L(cvAskNoteBody), L(cvAskNoteYes), L(cvCancel), func() {
			v.writtenAsNote = false // asked once
			v.sendReply()
		})
		return
	}
	v.startPending(text, v.files)
}

// startPending takes the reply out of the composer and shows Ångra and
// Skicka nu until the undo time has passed; then the reply is written.
// The case's actions wait meanwhile.
func (v *caseView) startPending(text string, files []app.File) {
	p := &pendingReply{text: text, files: files, stop: make(chan struct{})}
	v.pending = p
	v.reply.SetText("")
	v.files = nil
	v.showFiles()
	v.reply.Disable()
	v.setBusy(true)
	v.pendingBar.Show()
	v.content.Refresh()
	delay := v.undo
	v.tasks.run(func() func() {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.stop:
		}
		return func() {
			if v.pending == p { // not undone, not sent by flushPending
				v.commitPending()
			}
		}
	})
}

// endPending takes the pending reply off screen and gives the composer
// back.
func (v *caseView) endPending() *pendingReply {
	p := v.pending
	if p == nil {
		return nil
	}
	v.pending = nil
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	v.pendingBar.Hide()
	v.reply.Enable()
	v.setBusy(false)
	v.content.Refresh()
	return p
}

// undoPending is Ångra: nothing is written, the text and the files are
// back in the composer.
func (v *caseView) undoPending() {
	p := v.endPending()
	if p == nil {
		return
	}
	v.reply.SetText(p.text)
	v.files = p.files
	v.showFiles()
	v.showBanner(L(cvUndone), widget.MediumImportance)
}

// sendPendingNow is Skicka nu: the undo time ends at once.
func (v *caseView) sendPendingNow() {
	if v.pending != nil {
		v.commitPending()
	}
}

// commitPending writes the pending reply. A refused reply puts its text
// back in the composer, with the reason.
func (v *caseView) commitPending() {
	p := v.endPending()
	if p == nil {
		return
	}
	v.writeOr(opReply, true, func() error {
		if len(p.files) > 0 {
			return v.cases.ReplyWithFiles(v.ctx, v.sess, v.id, p.text, p.files)
		}
		return v.cases.Reply(v.ctx, v.sess, v.id, p.text)
	}, func() {
		if queuedOnly(v.sync) {
			v.showBanner(L(cvReplyQueued), widget.WarningImportance)
		}
	}, func() {
		if strings.TrimSpace(v.reply.Text) == "" {
			v.reply.SetText(p.text)
			v.files = p.files
			v.showFiles()
		}
	})
}

// flushPending writes a reply still waiting for its undo time now, on
// this goroutine: the view is being left (another screen, sign-out, the
// window closing) and the user sent it. It returns the refusal, if any.
func (v *caseView) flushPending() error {
	p := v.endPending()
	if p == nil {
		return nil
	}
	var err error
	if len(p.files) > 0 {
		err = v.cases.ReplyWithFiles(v.ctx, v.sess, v.id, p.text, p.files)
	} else {
		err = v.cases.Reply(v.ctx, v.sess, v.id, p.text)
	}
	if err != nil {
		logError(opReply, err, "case", v.id, "staff", v.sess.Staff.ID, "clinic", v.clinic.ID)
	}
	return err
}

// addNote is Spara intern anteckning: internal, never shown to the
// resident.
func (v *caseView) addNote() {
	if v.thread == nil || v.busy || !v.noteMode {
		return
	}
	text, ok := v.checkText(L(cvEmptyNote))
	if !ok {
		return
	}
	v.write(opNote, true, func() error {
		return v.cases.AddNote(v.ctx, v.sess, v.id, text)
	}, func() { v.reply.SetText("") })
}

// toggleClosed is Avsluta ärende / Öppna igen.
func (v *caseView) toggleClosed() {
	if v.thread == nil {
		return
	}
	if v.thread.Case.Status == app.StatusClosed {
		v.write(opReopen, false, func() error { return v.cases.Reopen(v.ctx, v.sess, v.id) }, nil)
		return
	}
	v.write(opClose, false, func() error { return v.cases.Close(v.ctx, v.sess, v.id) }, nil)
}

// assignTo is Tilldela…: the select goes back to its placeholder, since
// the header says who has the case.
func (v *caseView) assignTo(option string) {
	if option == "" {
		return
	}
	i := slices.IndexFunc(v.assignees, func(s app.Staff) bool { return cvAssigneeOption(s) == option })
	v.assign.ClearSelected()
	if i < 0 {
		return
	}
	to := v.assignees[i].ID
	v.write(opAssign, false, func() error { return v.cases.Assign(v.ctx, v.sess, v.id, to) }, nil)
}

// insertStandard puts a standard reply's text into the reply field, after
// what is already written, for staff to adjust before sending.
func (v *caseView) insertStandard(name string) {
	if name == "" {
		return
	}
	i := slices.IndexFunc(v.standard, func(t app.MessageTemplate) bool { return t.Name == name })
	v.insert.ClearSelected()
	if i < 0 {
		return
	}
	body := v.standard[i].Body
	if strings.TrimSpace(v.reply.Text) != "" {
		body = strings.TrimRight(v.reply.Text, "\n ") + "\n\n" + body
	}
	v.reply.SetText(body)
	v.reply.CursorRow = strings.Count(body, "\n")
	v.reply.Refresh()
}

// exportName is the PDF's file name: the case's start date and subject,
// which staff recognise among their files (issue 18), never the
// resident's name or personnummer, which would show in folders and
// recent-file lists.
func (v *caseView) exportName() string {
	if v.thread == nil {
		return "arende-" + string(v.id) + ".pdf"
	}
	c := &v.thread.Case
	name := "arende-" + c.CreatedAt.In(app.Stockholm).Format("2006-01-02")
	if s := fileSlug(c.Subject, 48); s != "" {
		name += "-" + s
	}
	return name + ".pdf"
}

// fileSlug is s as a portable file-name part: lower case, letters and
// digits in ASCII (å, ä → a, ö → o, other accents dropped), words joined
// by '-', at most max bytes, cut at a word.
func fileSlug(s string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r): // a combining accent: dropped
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
		if i := strings.LastIndexByte(out, '-'); i > max/2 {
			out = out[:i]
		}
	}
	return strings.Trim(out, "-")
}

// pdfFunc is d.export, or export.CasePDF with the names this view knows.
// It runs off the UI goroutine, on data read before the job started.
func (v *caseView) pdfFunc() func(t *app.Thread) ([]byte, error) {
	if v.export != nil {
		return v.export
	}
	names := export.Names{
		Clinic: v.clinic.Name, Resident: v.residentName, PNR: v.pnr,
		Staff: v.staff, // not written after setDirectory: safe to read from the job
		// Replaced, never changed in place, by a load: safe to read too.
		Guardians: v.guardians,
	}
	if v.thread != nil && v.thread.Case.Kind == app.KindEService {
		names.Kind = v.eservices[v.thread.Case.EServiceID]
		// The PDF is Swedish (it goes into the journal): the national
		// catalogue's name untranslated.
		for _, e := range app.StandardCatalogue {
			if e.ID == v.thread.Case.EServiceID {
				names.Kind = e.Name
			}
		}
	}
	return func(t *app.Thread) ([]byte, error) { return export.CasePDF(t, names) }
}

// exportCase is Exportera PDF and Skriv ut. Both go through
// CaseWork.ExportCase, which records the access as export or print before
// anything leaves the system. Export hands the PDF to save (a file dialog
// in the app). Print writes it to a temporary file and asks the OS to open
// it in its PDF viewer, where the user prints; Fyne has no print API. When
// the viewer cannot be opened, the PDF goes to save instead, with a note.
func (v *caseView) exportCase(action app.AccessAction) {
	if v.busy || v.thread == nil {
		return
	}
	v.setBusy(true)
	v.banner.Hide()
	build := v.pdfFunc()
	name := v.exportName()
	v.tasks.run(func() func() {
		t, err := v.cases.ExportCase(v.ctx, v.sess, v.id, action)
		if err != nil {
			return func() { v.exportFailed(action, err, caseActionError(opExport, err)) }
		}
		data, err := build(t)
		if err != nil {
			return func() { v.exportFailed(action, err, L(cvExportFailed)) }
		}
		var path string
		if action == app.AccessPrint {
			path, err = cvWriteTemp(data)
			if err != nil {
				logError("print case: temp file", err, "case", v.id, "staff", v.sess.Staff.ID)
			}
		}
		return func() {
			v.setBusy(false)
			if action == app.AccessPrint && path != "" {
				v.tempFiles = append(v.tempFiles, path)
				err := v.open(cvFileURL(path))
				if err == nil {
					return
				}
				logError("print case: open viewer", err, "case", v.id, "staff", v.sess.Staff.ID)
			}
			if action == app.AccessPrint {
				v.showBanner(L(cvPrintFallback), widget.MediumImportance)
			}
			if v.save != nil {
				v.save(name, data)
			}
		}
	})
}

func (v *caseView) exportFailed(action app.AccessAction, err error, text string) {
	logError(opExport, err, "action", string(action), "case", v.id, "staff", v.sess.Staff.ID, "clinic", v.clinic.ID)
	v.setBusy(false)
	v.showBanner(text, widget.DangerImportance)
}

// cvWriteTemp writes a PDF for the OS viewer, readable by the user only.
func cvWriteTemp(data []byte) (string, error) {
	f, err := os.CreateTemp("", "mottagning-arende-*.pdf") // mode 0600
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// removePrinted deletes the temporary PDFs this view handed to the OS
// viewer. They hold patient data; call it when the view is left or the
// window closes (a viewer that still has a file open keeps its copy on
// Unix; on Windows the remove may fail and is logged).
func (v *caseView) removePrinted() {
	for _, p := range v.tempFiles {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			logError("print case: remove temp file", err, "case", v.id)
		}
	}
	v.tempFiles = nil
}

func cvFileURL(path string) *url.URL {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/… on Windows
	}
	return &url.URL{Scheme: "file", Path: p}
}

// Shades of the thread's cards, resolved against the current theme so that
// light and dark variants both work.
const (
	cvColorStaff fyne.ThemeColorName = "mottagning-staff-message"
	cvColorNote  fyne.ThemeColorName = "mottagning-note"
)

// cvShade is a rounded background that follows the theme.
type cvShade struct {
	widget.BaseWidget
	name fyne.ThemeColorName
}

func newCVShade(name fyne.ThemeColorName) *cvShade {
	s := &cvShade{name: name}
	s.ExtendBaseWidget(s)
	return s
}

func (s *cvShade) CreateRenderer() fyne.WidgetRenderer {
	r := &cvShadeRenderer{s: s, rect: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type cvShadeRenderer struct {
	s    *cvShade
	rect *canvas.Rectangle
}

func (r *cvShadeRenderer) Layout(size fyne.Size)        { r.rect.Resize(size) }
func (r *cvShadeRenderer) MinSize() fyne.Size           { return fyne.Size{} }
func (r *cvShadeRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.rect} }
func (r *cvShadeRenderer) Destroy()                     {}

func (r *cvShadeRenderer) Refresh() {
	th := r.s.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.rect.CornerRadius = th.Size(theme.SizeNameInputRadius)
	switch r.s.name {
	case cvColorNote:
		// A warm cvTint of the theme's warning colour: noticeable, not alarming.
		r.rect.FillColor = cvTint(th.Color(theme.ColorNameWarning, v), 0x38)
		r.rect.StrokeColor = cvTint(th.Color(theme.ColorNameWarning, v), 0x90)
		r.rect.StrokeWidth = 1
	case cvColorStaff:
		r.rect.FillColor = cvTint(th.Color(theme.ColorNamePrimary, v), 0x1c)
		r.rect.StrokeWidth = 0
	default:
		r.rect.FillColor = th.Color(r.s.name, v)
		r.rect.StrokeWidth = 0
	}
	r.rect.Refresh()
}

// cvTint is c at alpha a (non-premultiplied).
func cvTint(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}

// Texts of attachments.
const (
	cvAttach       = "caseview.attach_file"
	cvRemoveFile   = "common.remove"
	cvAttachFailed = "caseview.attachment_could_not_loaded_try"
)

// sizeText is a file size as staff read it.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return Lf("caseview.megabytes", float64(n)/(1<<20))
	case n >= 1<<10:
		return Lf("caseview.kilobytes", n>>10)
	}
	return Lf("caseview.bytes", n)
}

// chooseFile adds a file to the next reply, checked at once (type by its
// content, size, count) so a bad file is refused at the field, before
// anything is sent.
func (v *caseView) chooseFile() {
	v.pickFile(func(name string, data []byte, err error) {
		if err != nil {
			logError("read attachment", err, "case", v.id)
			v.fieldError(L(cvAttachFailed))
			return
		}
		if data == nil {
			return // cancelled
		}
		if len(v.files) >= app.MaxAttachmentsPerMessage {
			v.fieldError(L(app.AttachmentMessage(app.ErrTooManyAttachments)))
			return
		}
		if _, err := app.NewAttachment(name, data); err != nil {
			v.fieldError(L(app.AttachmentMessage(err)))
			return
		}
		v.files = append(v.files, app.File{Name: name, Data: data})
		v.replyErr.Hide()
		v.showFiles()
	})
}

// showFiles lists the files chosen for the next reply.
func (v *caseView) showFiles() {
	v.attachments.Objects = nil
	for i, f := range v.files {
		i := i
		a, _ := app.NewAttachment(f.Name, f.Data)
		rm := widget.NewButtonWithIcon(L(cvRemoveFile), theme.DeleteIcon(), func() {
			v.files = append(v.files[:i:i], v.files[i+1:]...)
			v.showFiles()
		})
		rm.Importance = widget.LowImportance
		v.attachments.Add(container.NewHBox(widget.NewIcon(theme.FileIcon()),
			widget.NewLabel(fmt.Sprintf("%s (%s)", a.Name, sizeText(a.Size))), rm))
	}
	v.attachments.Hidden = len(v.files) == 0 || v.noteMode
	v.content.Refresh()
}

// openDialog is the file-open dialog for attachments: PDF, JPEG and PNG.
func (v *caseView) openDialog(done func(name string, data []byte, err error)) {
	win := fyne.CurrentApp().Driver().AllWindows()
	if len(win) == 0 {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			done("", nil, err)
			return
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, app.MaxAttachmentSize+1))
		done(r.URI().Name(), data, err)
	}, win[0])
	d.SetFilter(storage.NewExtensionFileFilter([]string{".pdf", ".jpg", ".jpeg", ".png", ".PDF", ".JPG", ".JPEG", ".PNG"}))
	d.Resize(fileDialogSize(win[0]))
	d.Show()
}

// saveAttachment reads an attachment (access-logged, digest-checked) and
// hands it to save.
func (v *caseView) saveAttachment(a app.Attachment) {
	if v.save == nil {
		return
	}
	v.tasks.run(func() func() {
		_, data, err := v.cases.AttachmentData(v.ctx, v.sess, v.id, a.ID)
		return func() {
			if errors.Is(err, app.ErrAttachmentNotDownloaded) {
				// Not an error of the case: the bytes come with a later
				// sync. The case stays as it is.
				v.showBanner(L(app.AttachmentMessage(err)), widget.MediumImportance)
				return
			}
			if err != nil {
				v.fail("read attachment", err, caseActionError("read attachment", err))
				return
			}
			v.save(a.Name, data)
		}
	})
}

// Texts of the notification line.
const (
	cvNotified   = "caseview.notification"
	cvNotifySMS  = "caseview.sms_lowercase"
	cvNotifyMail = "caseview.e_mail"
	cvNotifyTo   = "caseview.sent_from_to_channel"
	cvToResident = "caseview.the_resident"
	cvToGuardian = "caseview.the_guardian"
)

// notifiedText is one line per message: each notification's channel,
// recipient kind and state ("sms till invånaren – Skickad").
func notifiedText(ns []app.NotificationStatus) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		ch := L(cvNotifySMS)
		if n.Channel == app.ChannelEmail {
			ch = L(cvNotifyMail)
		}
		to := L(cvToResident)
		if n.Recipient == app.RecipientGuardian {
			to = L(cvToGuardian)
		}
		parts[i] = Lf(cvNotifyTo, ch, to, L(n.State.Label()))
	}
	return Lf(cvNotified, strings.Join(parts, "; "))
}
