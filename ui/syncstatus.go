package ui

// The connected desktop's view of sync (docs/sync.md, "Desktop view of
// sync"): a status bar at the bottom of the workspace (Online/Offline, the
// pending changes, the last sync, a progress bar during the first sync, the
// last error), and the Ändringar tab: the queued changes, the rejected ones
// with the server's reason, and the conflicts with both values. Each row
// names its case (subject and resident, app.CaseService.OpCases) and opens
// it while it exists; a refused new case or reply keeps its whole text,
// with what to do instead: copy it, send it as a new case, or save it as
// a letter to print. Rejections and conflicts are each staff member's own
// (several share a desktop): only the one who made the op sees and
// dismisses it, and a kept text is deleted only after they confirm. The
// queued changes show the case only where the staff member may see it,
// and never their text.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/export"
	msync "mottagning/sync"
)

// SyncStatus is the connected desktop's sync engine as the window uses it
// (*sync.Engine satisfies it).
type SyncStatus interface {
	Status() msync.Status
	// Subscribe's channel receives when the status or the data changed.
	Subscribe() (<-chan struct{}, func())
	// Pending lists the queued ops, oldest first.
	Pending(ctx context.Context, limit int) ([]app.SyncOp, error)
	// Dismiss removes a rejected or conflicting op, and the text it kept,
	// from the lists; only its maker may (app.SyncOp.MadeBy).
	Dismiss(ctx context.Context, staff app.ID, opID string) error
	// Kick asks for a sync now.
	Kick()
	// CaseChanged reports whether a sync write changed the case after
	// Status.Changes was since (the open case view reads it again).
	CaseChanged(id app.ID, since uint64) bool
}

// ResidentLookup finds a resident by personnummer for Skicka ärende and
// massutskick: on a connected desktop sync.Lookup, which asks the server
// for a resident never seen here (and says so when it cannot be reached).
type ResidentLookup interface {
	LookupResident(ctx context.Context, sess app.Session, pnr personnummer.Number) (*app.ResidentView, error)
}

// Texts of the sync view.
const (
	textOnline        = "syncstatus.online"
	textOffline       = "syncstatus.offline"
	textSyncing       = "syncstatus.syncing"
	textNoPending     = "syncstatus.no_changes_waiting"
	textOnePending    = "syncstatus.1_change_waiting"
	textNPending      = "syncstatus.changes_waiting"
	textLastSync      = "syncstatus.last_synced"
	textNeverSynced   = "syncstatus.not_synced_yet"
	textSignInAgain   = "syncstatus.sign_again"
	textSyncNow       = "syncstatus.try_now"
	textShowChanges   = "syncstatus.show_changes"
	textOneRejected   = "syncstatus.1_rejected"
	textNRejected     = "syncstatus.rejected"
	textOneConflict   = "syncstatus.1_conflict"
	textNConflicts    = "syncstatus.conflicts_count"
	textChangesTab    = "syncstatus.changes"
	textPendingHead   = "syncstatus.waiting_sent"
	textRejectedHead  = "syncstatus.rejected_changes"
	textConflictsHead = "syncstatus.conflicts_heading"
	textPendingNone   = "syncstatus.no_changes_waiting_sent"
	textRejectedNone  = "syncstatus.no_changes_have_been_rejected"
	textConflictsNone = "syncstatus.no_conflicts"
	textPendingMore   = "syncstatus.showing_oldest"
	textChangesIntro  = "syncstatus.changes_you_make_saved_computer"
	textMadeAt        = "syncstatus.made"
	textDismiss       = "syncstatus.remove_from_list"
	textUseServer     = "syncstatus.use_server_value"
	textUseMine       = "syncstatus.use_my_value_again"
	textServerValue   = "syncstatus.server_value"
	textMyValue       = "syncstatus.your_value"
	textConflictIntro = "syncstatus.someone_else_changed_same_detail"
	textReapplyFailed = "syncstatus.your_value_could_not_set"
	textDismissFailed = "syncstatus.change_could_not_removed_from"
	textPendingFailed = "syncstatus.list_waiting_changes_could_not"
	textNobody        = "syncstatus.nobody"
	textUnknownStaff  = "syncstatus.unknown_staff_member"
	textOpOther       = "syncstatus.change"
	textOpenCase      = "syncstatus.open_case"
	textCaseOf        = "syncstatus.two_parts_joined" // subject · resident
	textCaseGone      = "syncstatus.case_not_server_has_been"
	textKeptText      = "syncstatus.text_was_not_sent"
	textCopyText      = "common.copy_text"
	textCopied        = "syncstatus.text_copied_paste_where_you"
	textSendAsNew     = "syncstatus.send_as_new_case"
	textSaveLetter    = "syncstatus.save_as_letter"
	textConfirmDelete = "syncstatus.text_exists_only_here_copy"
	textYesDelete     = "syncstatus.yes_remove"
	textKeep          = "syncstatus.keep"
	textOthersChange  = "syncstatus.colleague_change"
	textGoneOne       = "syncstatus.case_could_not_sent_has"
	textGoneMany      = "syncstatus.cases_could_not_sent_have"
)

// The letter of Spara som brev goes to a resident: Swedish whatever the
// window's language (as the exported PDF), so these are not translated.
const (
	letterFile    = "brev-%s.txt"
	letterTo      = "Till:"
	letterNoAddr  = "Adressen visas inte – skyddade personuppgifter. Skicka brevet via Skatteverket, som vidarebefordrar det."
	letterSubject = "Ärende: %s"
)

// pendingShown is the most queued ops the Ändringar tab lists.
const pendingShown = 200

// opKindTexts name each kind of op in the lists (never its content).
var opKindTexts = map[app.OpKind]string{
	app.OpCaseCreate:    K("syncstatus.new_case"),
	app.OpCaseMessage:   K("syncstatus.reply_case"),
	app.OpCaseNote:      K("syncstatus.note"),
	app.OpCaseStatus:    K("common.status"),
	app.OpCaseAssign:    K("syncstatus.assignment"),
	app.OpCaseRead:      K("syncstatus.read"),
	app.OpAccessRecord:  K("common.access_log"),
	app.OpTemplatePut:   K("syncstatus.template"),
	app.OpAttachmentPut: K("common.attachment"),
	app.OpEServicePut:   K("common.e_service"),
	app.OpFormSeriesPut: K("common.form"),
}

func opKindText(k app.OpKind) string {
	if t, ok := opKindTexts[k]; ok {
		return L(t)
	}
	return L(textOpOther)
}

// textResidentOffline is the id of sync.Message for sync.ErrResidentOffline
// (the test keeps the two equal).
const textResidentOffline = "sync.resident_not_computer_server_cannot"

// syncErrorTexts are the ids of the texts sync.Message gives for
// Status.LastError, which L translates where it is shown. The test checks
// that every text of sync.Message is here.
var syncErrorTexts = []string{
	K(textResidentOffline),
	K("sync.server_certificate_has_changed_since"),
	K("sync.sign_out_sign_again_while"),
	K("sync.server_cannot_reached_first_time"),
	K("sync.server_cannot_reached_you_keep"),
	K("sync.syncing_failed_retried_automatically"),
}

// rejectTexts are the ids of app.RejectReason's texts by code (the test
// keeps them equal), for a refusal that came without a reason; an
// unreachable resident's reason is built from the block.
var rejectTexts = map[string]string{
	"unreachable":    K("app.rejected_unreachable"),
	"forbidden":      K("app.rejected_forbidden"),
	"not_found":      K("app.rejected_not_found"),
	"conflict":       K("app.rejected_conflict"),
	"invalid":        K("app.rejected_invalid"),
	"not_answerable": K("app.rejected_not_answerable"),
	"unsupported":    K("app.rejected_unsupported"),
	"":               K("app.rejected_other"),
}

// textUnreachablePrefix is app.RejectReason's text for an unreachable
// resident, with the block's message as %s.
const textUnreachablePrefix = "syncstatus.case_was_not_sent"

// Texts of a reply refused because the resident cannot be reached: the
// server's reason speaks of a case ("Ärendet skickades inte"), which
// reads wrong above a reply's text.
const (
	textReplyUnreachablePrefix = "syncstatus.reply_was_not_sent"
	textReplyUnreachable       = "syncstatus.reply_was_not_sent_resident"
)

// rejectText is the reason of a rejected op in the window's language.
func rejectText(r *app.OpResult) string {
	if r.Code == "unreachable" && r.Kind == app.OpCaseMessage {
		if len(r.Blocks) > 0 {
			return Lf(textReplyUnreachablePrefix, L(r.Blocks[0].Message()))
		}
		return L(textReplyUnreachable)
	}
	if r.Code == "unreachable" && len(r.Blocks) > 0 {
		return Lf(textUnreachablePrefix, L(r.Blocks[0].Message()))
	}
	if r.Reason != "" {
		return L(r.Reason) // app's text translated; a newer server's text stays Swedish
	}
	if t, ok := rejectTexts[r.Code]; ok {
		return L(t)
	}
	return L(rejectTexts[""])
}

// residentOffline reports whether a lookup failed because the resident is
// not on this desktop and the server cannot be reached.
func residentOffline(err error) bool { return errors.Is(err, msync.ErrResidentOffline) }

// lookupCases is CaseWork with a connected desktop's resident lookup.
type lookupCases struct {
	CaseWork
	lookup ResidentLookup
}

func (c lookupCases) LookupResident(ctx context.Context, sess app.Session, pnr personnummer.Number) (*app.ResidentView, error) {
	return c.lookup.LookupResident(ctx, sess, pnr)
}

// lookupBulk is massutskick on a connected desktop: a recipient not on
// this desktop is fetched from the server first; when the server cannot
// be reached the entry says so (its Err wraps sync.ErrResidentOffline).
type lookupBulk struct {
	BulkWork
	lookup ResidentLookup
}

func (b lookupBulk) CheckRecipients(ctx context.Context, sess app.Session, text string) ([]app.RecipientCheck, error) {
	checks, err := b.BulkWork.CheckRecipients(ctx, sess, text)
	if err != nil {
		return checks, err
	}
	var offline error
	fetched := false
	for i := range checks {
		c := &checks[i]
		if c.Status != app.RecipientNotFound || c.PNR.IsZero() {
			continue
		}
		if offline != nil {
			c.Err = offline
			continue
		}
		_, lerr := b.lookup.LookupResident(ctx, sess, c.PNR)
		switch {
		case lerr == nil:
			fetched = true
		case residentOffline(lerr):
			offline, c.Err = lerr, lerr // the rest need the server too: ask no more
		case errors.Is(lerr, context.Canceled):
			return nil, lerr
		}
	}
	if !fetched {
		return checks, nil
	}
	again, err := b.BulkWork.CheckRecipients(ctx, sess, text)
	if err != nil {
		return nil, err
	}
	for i := range again {
		if again[i].Status == app.RecipientNotFound && i < len(checks) && checks[i].Line == again[i].Line && residentOffline(checks[i].Err) {
			again[i].Err = checks[i].Err
		}
	}
	return again, nil
}

type syncDeps struct {
	ctx   context.Context
	tasks *tasks
	svc   SyncStatus
	dir   Directory
	cases CaseWork // re-applies my value of a conflict; names the ops' cases
	sess  app.Session
	clock app.Clock
	// onShowChanges selects the Ändringar tab; onSignIn goes back to the
	// sign-in screen.
	onShowChanges func()
	onSignIn      func()
	// onCasesChanged reads the case lists again: sync wrote or removed
	// cases (Status.Changes moved from since).
	onCasesChanged func(since uint64)
	// onFirstSync is told whether the first sync runs (the empty lists
	// say that the cases are on their way).
	onFirstSync func(on bool)
	// onOpenCase opens a case a row names (nil: no Öppna ärendet).
	onOpenCase func(r app.CaseRow)
	// onSendAgain opens Skicka ärende filled in with a refused text (nil:
	// no Skicka som nytt ärende).
	onSendAgain func(p sendPrefill)
	// save hands a letter to the user (a file-save dialog; nil: no
	// Spara som brev). It runs on the UI goroutine.
	save func(name string, data []byte)
	// clinicName heads a letter.
	clinicName string
}

// syncScreen is the status bar and the Ändringar tab.
type syncScreen struct {
	syncDeps
	bar     fyne.CanvasObject
	changes fyne.CanvasObject

	icon      *widget.Icon
	state     *widget.Label // Online / Offline / Synkroniserar …
	pending   *widget.Label
	lastSync  *widget.Label
	problems  *widget.Label // "2 avvisade · 1 konflikt"
	showBtn   *widget.Button
	errText   *widget.Label
	signIn    *widget.Button
	syncNow   *widget.Button
	firstSync *fyne.Container
	progress  *widget.ProgressBar
	// firstLabel says how far the first sync has come (firstSyncText).
	firstLabel *widget.Label

	pendingHead, rejectedHead, conflictsHead *widget.Label
	pendingBox, rejectedBox, conflictsBox    *fyne.Container
	listMsg                                  *widget.Label
	gone                                     *widget.Label // refused new cases left the lists

	// st is the engine's status with only this staff member's
	// rejections and conflicts.
	st  msync.Status
	ops []app.SyncOp
	// views are the ops' cases and kept texts, by op id (OpCases).
	views map[string]app.OpCase
	// confirming is the op whose removal waits for Ja, ta bort.
	confirming string
	names      map[app.ID]string // staff names for the conflicts' assignees
	// namesAsked: a refresh to read the names has been started.
	namesAsked bool
	// casesSeen is the Status.Changes the case lists were read at.
	casesSeen uint64
	stop      func()
}

func newSyncScreen(d syncDeps) *syncScreen {
	s := &syncScreen{syncDeps: d}
	s.icon = widget.NewIcon(theme.ConfirmIcon())
	s.state = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.pending = widget.NewLabel("")
	s.lastSync = widget.NewLabel("")
	s.problems = widget.NewLabel("")
	s.problems.Importance = widget.WarningImportance
	s.showBtn = widget.NewButton(L(textShowChanges), func() {
		if s.onShowChanges != nil {
			s.onShowChanges()
		}
	})
	s.showBtn.Importance = widget.LowImportance
	s.errText = widget.NewLabel("")
	s.errText.Importance = widget.WarningImportance
	s.errText.Truncation = fyne.TextTruncateEllipsis
	s.signIn = widget.NewButtonWithIcon(L(textSignInAgain), theme.LoginIcon(), func() {
		if s.onSignIn != nil {
			s.onSignIn()
		}
	})
	s.syncNow = widget.NewButtonWithIcon(L(textSyncNow), theme.ViewRefreshIcon(), s.svc.Kick)
	s.syncNow.Importance = widget.LowImportance
	s.progress = widget.NewProgressBar()
	s.firstLabel = widget.NewLabel(L(textFirstStarting))
	s.firstSync = container.NewBorder(nil, nil, s.firstLabel, nil, s.progress)
	left := container.NewHBox(s.icon, s.state, widget.NewSeparator(), s.pending, widget.NewSeparator(), s.lastSync, s.problems, s.showBtn)
	right := container.NewHBox(s.syncNow, s.signIn)
	line := container.NewBorder(nil, nil, left, right, s.errText)
	s.gone = widget.NewLabel("")
	s.gone.Importance = widget.WarningImportance
	s.gone.Wrapping = fyne.TextWrapWord
	s.gone.Hide()
	s.bar = container.NewVBox(widget.NewSeparator(), s.firstSync, s.gone, line)

	s.pendingHead = heading("")
	s.rejectedHead = heading("")
	s.conflictsHead = heading("")
	s.pendingBox = container.NewVBox()
	s.rejectedBox = container.NewVBox()
	s.conflictsBox = container.NewVBox()
	s.listMsg = widget.NewLabel("")
	s.listMsg.Hide()
	intro := widget.NewLabel(L(textChangesIntro))
	intro.Wrapping = fyne.TextWrapWord
	s.changes = container.NewVScroll(container.NewVBox(intro, s.listMsg,
		s.rejectedHead, s.rejectedBox, widget.NewSeparator(),
		s.conflictsHead, s.conflictsBox, widget.NewSeparator(),
		s.pendingHead, s.pendingBox))
	st := s.svc.Status()
	s.casesSeen = st.Changes // the lists are being read now
	s.show(st, nil, nil, nil)
	s.refresh()
	return s
}

// watch follows the engine until the workspace is left (stop) or ctx
// ends. A change in the background is no user activity: it does not go
// through tasks.run, which would keep the window from locking.
func (s *syncScreen) watch() {
	ch, cancel := s.svc.Subscribe()
	ctx, end := context.WithCancel(s.ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				st, ops, cases, err := s.read(ctx)
				if ctx.Err() != nil {
					return
				}
				s.post(func() { s.show(st, ops, cases, err) })
			}
		}
	}()
	s.stop = func() { end(); cancel() }
}

// post applies a result on the UI goroutine (held for wait in the tests,
// as tasks does).
func (s *syncScreen) post(apply func()) { s.tasks.post(apply) }

func (s *syncScreen) leave() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// read gets the status with this staff member's rejections and
// conflicts only, the queued ops, and the cases of all of them.
func (s *syncScreen) read(ctx context.Context) (msync.Status, []app.SyncOp, map[string]app.OpCase, error) {
	st := s.mine(s.svc.Status())
	ops, err := s.svc.Pending(ctx, pendingShown)
	if err != nil {
		logError("read pending sync ops", err)
	}
	cases := s.describe(ctx, &st, ops)
	return st, ops, cases, err
}

// mine keeps the rejections and conflicts of the signed-in staff member:
// a colleague's are theirs to see and decide (app.SyncOp.MadeBy).
func (s *syncScreen) mine(st msync.Status) msync.Status {
	keep := func(ps []app.SyncProblem) []app.SyncProblem {
		var out []app.SyncProblem
		for _, p := range ps {
			if s.sess.Staff != nil && p.Op.MadeBy(s.sess.Staff.ID) {
				out = append(out, p)
			}
		}
		return out
	}
	st.Rejected, st.Conflicts = keep(st.Rejected), keep(st.Conflicts)
	return st
}

// describe reads the cases the rows name; a failure leaves rows unnamed.
func (s *syncScreen) describe(ctx context.Context, st *msync.Status, pending []app.SyncOp) map[string]app.OpCase {
	if s.cases == nil || s.sess.Staff == nil {
		return nil
	}
	var ops []app.SyncOp
	for _, ps := range [][]app.SyncProblem{st.Rejected, st.Conflicts} {
		for _, p := range ps {
			ops = append(ops, p.Op)
		}
	}
	ops = append(ops, pending...)
	if len(ops) == 0 {
		return nil
	}
	views, err := s.cases.OpCases(ctx, s.sess, ops)
	if err != nil {
		logError("describe sync ops", err, "staff", s.sess.Staff.ID)
		return nil
	}
	out := make(map[string]app.OpCase, len(ops))
	for i := range ops {
		out[ops[i].ID] = views[i]
	}
	return out
}

// refresh reads everything again (after an action of the user).
func (s *syncScreen) refresh() {
	s.tasks.run(func() func() {
		st, ops, cases, err := s.read(s.ctx)
		var names map[app.ID]string
		if len(st.Conflicts) > 0 && s.dir != nil {
			if all, derr := s.dir.AllStaff(s.ctx); derr == nil {
				names = map[app.ID]string{}
				for _, m := range all {
					names[m.ID] = m.Name
				}
			}
		}
		return func() {
			if names != nil {
				s.names = names
			}
			s.show(st, ops, cases, err)
		}
	})
}

// show puts a status, the queued ops and their cases on screen.
func (s *syncScreen) show(st msync.Status, ops []app.SyncOp, cases map[string]app.OpCase, err error) {
	if len(st.Conflicts) > 0 && s.names == nil && !s.namesAsked {
		s.namesAsked = true
		defer s.refresh() // read the staff names for the assignees
	}
	if st.Changes > s.casesSeen {
		since := s.casesSeen
		s.casesSeen = st.Changes
		if s.onCasesChanged != nil {
			defer s.onCasesChanged(since)
		}
	}
	s.st, s.ops, s.views = s.mine(st), ops, cases
	if s.onFirstSync != nil {
		s.onFirstSync(st.FirstSync)
	}
	s.showBar()
	s.showLists(err)
}

func (s *syncScreen) showBar() {
	st := &s.st
	switch {
	case st.Syncing:
		s.icon.SetResource(theme.ViewRefreshIcon())
		s.state.SetText(L(textSyncing))
	case st.Online:
		s.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		s.state.SetText(L(textOnline))
	default:
		s.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		s.state.SetText(L(textOffline))
	}
	switch st.Pending {
	case 0:
		s.pending.SetText(L(textNoPending))
	case 1:
		s.pending.SetText(L(textOnePending))
	default:
		s.pending.SetText(Lf(textNPending, st.Pending))
	}
	s.lastSync.SetText(s.lastSyncText(st.LastSync))
	var probs []string
	switch n := len(st.Rejected); {
	case n == 1:
		probs = append(probs, L(textOneRejected))
	case n > 1:
		probs = append(probs, Lf(textNRejected, n))
	}
	switch n := len(st.Conflicts); {
	case n == 1:
		probs = append(probs, L(textOneConflict))
	case n > 1:
		probs = append(probs, Lf(textNConflicts, n))
	}
	s.problems.SetText(joinDot(probs))
	s.problems.Hidden = len(probs) == 0
	s.showBtn.Hidden = len(probs) == 0
	s.problems.Refresh()
	s.showBtn.Refresh()
	s.errText.SetText(L(st.LastError))
	s.errText.Hidden = st.LastError == ""
	s.errText.Refresh()
	s.signIn.Hidden = !st.SignInNeeded
	s.signIn.Refresh()
	s.syncNow.Hidden = st.Online || st.Syncing || st.SignInNeeded
	s.syncNow.Refresh()
	s.firstSync.Hidden = !st.FirstSync
	s.progress.SetValue(st.Progress)
	if st.FirstSync {
		s.firstLabel.SetText(firstSyncText(*st, s.clock.Now()))
	}
	s.firstSync.Refresh()
	s.showGone()
}

// showGone says, under the lists, that new cases the server refused have
// left them, and that their texts are kept under Ändringar.
func (s *syncScreen) showGone() {
	var gone []app.OpCase
	for _, p := range s.st.Rejected {
		if p.Op.Kind != app.OpCaseCreate {
			continue
		}
		v := s.views[p.Op.ID]
		if v.Exists {
			continue // still here: the server's state has not come yet
		}
		gone = append(gone, v)
	}
	switch {
	case len(gone) == 0:
		s.gone.SetText("")
	case len(gone) == 1 && gone[0].Named:
		s.gone.SetText(Lf(textGoneOne, gone[0].Row.Subject, gone[0].Row.ResidentName))
	default:
		s.gone.SetText(Lf(textGoneMany, len(gone)))
	}
	s.gone.Hidden = len(gone) == 0
	s.gone.Refresh()
}

func joinDot(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += " · "
		}
		out += p
	}
	return out
}

// lastSyncText is "Senast synkad 09:30" today, with the date otherwise.
func (s *syncScreen) lastSyncText(t time.Time) string {
	if t.IsZero() {
		return L(textNeverSynced)
	}
	return Lf(textLastSync, s.when(t))
}

func (s *syncScreen) when(t time.Time) string {
	t = t.In(app.Stockholm)
	now := s.clock.Now().In(app.Stockholm)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return dateTime(t)
}

func (s *syncScreen) showLists(err error) {
	st := &s.st
	fieldMessage(s.listMsg, "", false)
	if err != nil {
		fieldMessage(s.listMsg, L(textPendingFailed), true)
	}

	s.rejectedHead.SetText(Lf(textRejectedHead, len(st.Rejected)))
	var rows []fyne.CanvasObject
	for i := range st.Rejected {
		if i > 0 {
			rows = append(rows, widget.NewSeparator())
		}
		rows = append(rows, s.rejectedRow(st.Rejected[i]))
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel(L(textRejectedNone)))
	}
	s.rejectedBox.Objects = rows
	s.rejectedBox.Refresh()

	s.conflictsHead.SetText(Lf(textConflictsHead, len(st.Conflicts)))
	rows = nil
	for i := range st.Conflicts {
		rows = append(rows, s.conflictRow(st.Conflicts[i]))
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel(L(textConflictsNone)))
	}
	s.conflictsBox.Objects = rows
	s.conflictsBox.Refresh()

	s.pendingHead.SetText(Lf(textPendingHead, max(st.Pending, len(s.ops))))
	rows = nil
	for _, op := range s.ops {
		rows = append(rows, s.pendingRow(op))
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel(L(textPendingNone)))
	} else if st.Pending > len(s.ops) {
		rows = append(rows, widget.NewLabel(Lf(textPendingMore, len(s.ops), st.Pending)))
	}
	s.pendingBox.Objects = rows
	s.pendingBox.Refresh()
}

// opDetail is what a status or assignee op set (no personal data).
func (s *syncScreen) opDetail(op *app.SyncOp) string {
	switch op.Kind {
	case app.OpCaseStatus:
		var c app.StatusChange
		if json.Unmarshal(op.Payload, &c) == nil && c.Status != "" {
			return L(c.Status.Label())
		}
	case app.OpCaseAssign:
		var c app.AssignChange
		if json.Unmarshal(op.Payload, &c) == nil {
			return s.staffName(c.AssigneeID)
		}
	}
	return ""
}

func (s *syncScreen) staffName(id app.ID) string {
	if id == "" {
		return L(textNobody)
	}
	if n, ok := s.names[id]; ok {
		return n
	}
	return L(textUnknownStaff)
}

func (s *syncScreen) opTitle(op *app.SyncOp) string {
	t := opKindText(op.Kind)
	if op.Kind == app.OpCaseStatus {
		if d := s.opDetail(op); d != "" {
			t += ": " + d
		}
	}
	return t
}

// caseText names an op's case: "Ämne · Invånare", "" when the row may
// not name it.
func (s *syncScreen) caseText(op *app.SyncOp) string {
	v, ok := s.views[op.ID]
	if !ok || !v.Named {
		return ""
	}
	return Lf(textCaseOf, v.Row.Subject, v.Row.ResidentName)
}

// openButton is Öppna ärendet for an op's case that is still here.
func (s *syncScreen) openButton(op *app.SyncOp) fyne.CanvasObject {
	v, ok := s.views[op.ID]
	if !ok || !v.Exists || s.onOpenCase == nil {
		return nil
	}
	b := widget.NewButtonWithIcon(L(textOpenCase), theme.FolderOpenIcon(), func() { s.onOpenCase(v.Row) })
	b.Importance = widget.LowImportance
	return b
}

func (s *syncScreen) pendingRow(op app.SyncOp) fyne.CanvasObject {
	title := widget.NewLabel(s.opTitle(&op))
	left := container.NewHBox(widget.NewIcon(theme.UploadIcon()), title)
	if c := s.caseText(&op); c != "" {
		left.Add(widget.NewLabelWithStyle(c, fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
	} else if s.sess.Staff != nil && !op.MadeBy(s.sess.Staff.ID) {
		left.Add(widget.NewLabelWithStyle(L(textOthersChange), fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
	}
	right := container.NewHBox()
	if b := s.openButton(&op); b != nil {
		right.Add(b)
	}
	if !op.MadeAt.IsZero() {
		right.Add(widget.NewLabel(Lf(textMadeAt, s.when(op.MadeAt))))
	}
	return container.NewBorder(nil, nil, left, right)
}

// problemHead is a rejected or conflicting row's first line: icon, kind,
// the case, and Öppna ärendet while the case is here.
func (s *syncScreen) problemHead(icon fyne.Resource, op *app.SyncOp, title string) fyne.CanvasObject {
	left := container.NewHBox(widget.NewIcon(icon), widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	if c := s.caseText(op); c != "" {
		left.Add(widget.NewLabel(c))
	}
	var right fyne.CanvasObject
	if b := s.openButton(op); b != nil {
		right = b
	}
	return container.NewBorder(nil, nil, left, right)
}

func (s *syncScreen) rejectedRow(p app.SyncProblem) fyne.CanvasObject {
	head := s.problemHead(theme.NewErrorThemedResource(theme.ErrorIcon()), &p.Op, s.opTitle(&p.Op))
	reason := widget.NewLabel(rejectText(&p.Result))
	reason.Wrapping = fyne.TextWrapWord
	reason.Importance = widget.DangerImportance
	row := container.NewVBox(head, reason)
	v := s.views[p.Op.ID]
	if p.Op.Kind == app.OpCaseCreate && !v.Exists {
		row.Add(widget.NewLabel(L(textCaseGone)))
	}
	msg := widget.NewLabel("")
	msg.Wrapping = fyne.TextWrapWord
	msg.Hide()
	buttons := container.NewHBox()
	if v.Text != "" {
		text := widget.NewLabel(v.Text)
		text.Wrapping = fyne.TextWrapWord
		caption := widget.NewLabelWithStyle(L(textKeptText), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		row.Add(widget.NewCard("", "", container.NewVBox(caption, text)))
		copyBtn := widget.NewButtonWithIcon(L(textCopyText), theme.ContentCopyIcon(), func() {
			fyne.CurrentApp().Clipboard().SetContent(v.Text)
			fieldMessage(msg, L(textCopied), false)
		})
		buttons.Add(copyBtn)
		if v.Named && s.onSendAgain != nil && (p.Op.Kind == app.OpCaseCreate || p.Op.Kind == app.OpCaseMessage) {
			again := widget.NewButtonWithIcon(L(textSendAsNew), theme.MailSendIcon(), func() {
				s.onSendAgain(sendPrefill{TemplateID: v.Row.TemplateID, PNR: v.Row.PNR, Subject: v.Row.Subject, Text: v.Text})
			})
			buttons.Add(again)
		}
		if v.Named && s.save != nil && (p.Op.Kind == app.OpCaseCreate || p.Op.Kind == app.OpCaseMessage) {
			letter := widget.NewButtonWithIcon(L(textSaveLetter), theme.DocumentSaveIcon(), func() {
				s.save(fmt.Sprintf(letterFile, s.clock.Now().In(app.Stockholm).Format("2006-01-02")), []byte(s.letter(&v)))
			})
			buttons.Add(letter)
		}
	}
	var dismiss *widget.Button
	dismiss = widget.NewButtonWithIcon(L(textDismiss), theme.DeleteIcon(), func() {
		if v.Text == "" {
			s.dismiss(p.Op.ID, dismiss)
			return
		}
		s.confirming = p.Op.ID // Ja, ta bort
		s.showLists(nil)
	})
	buttons.Add(layout.NewSpacer())
	buttons.Add(dismiss)
	if s.confirming == p.Op.ID {
		ask := widget.NewLabel(L(textConfirmDelete))
		ask.Wrapping = fyne.TextWrapWord
		ask.Importance = widget.WarningImportance
		var yes *widget.Button
		yes = widget.NewButtonWithIcon(L(textYesDelete), theme.DeleteIcon(), func() { s.dismiss(p.Op.ID, yes) })
		yes.Importance = widget.DangerImportance
		keep := widget.NewButton(L(textKeep), func() {
			s.confirming = ""
			s.showLists(nil)
		})
		dismiss.Disable()
		row.Add(buttons)
		row.Add(container.NewBorder(nil, nil, nil, container.NewHBox(keep, yes), ask))
	} else {
		row.Add(buttons)
	}
	row.Add(msg)
	return row
}

// letter is Spara som brev: a plain text to print on the clinic's paper
// and post, for a resident the e-services cannot reach. The address is
// the population register's, left out with protected personal data (R9).
func (s *syncScreen) letter(v *app.OpCase) string {
	var b strings.Builder
	date := strings.Fields(export.DateTime(s.clock.Now())) // "5 december 2026 09:30"
	b.WriteString(s.clinicName + "\n")
	b.WriteString(strings.Join(date[:3], " ") + "\n\n")
	b.WriteString(letterTo + "\n" + v.Row.ResidentName + "\n")
	if a := v.Address; a != nil && a.Street != "" {
		b.WriteString(a.Street + "\n" + strings.TrimSpace(a.PostalCode+" "+a.City) + "\n")
	} else {
		b.WriteString(letterNoAddr + "\n")
	}
	b.WriteString("\n" + fmt.Sprintf(letterSubject, v.Row.Subject) + "\n\n")
	b.WriteString(strings.TrimRight(v.Text, "\n") + "\n")
	return b.String()
}

// conflictValues are the server's and my value of a conflict, as text.
func (s *syncScreen) conflictValues(p *app.SyncProblem) (server, mine string) {
	switch p.Op.Kind {
	case app.OpCaseStatus:
		var c app.StatusChange
		_ = json.Unmarshal(p.Op.Payload, &c)
		return L(p.Result.ServerStatus.Label()), L(c.Status.Label())
	case app.OpCaseAssign:
		var c app.AssignChange
		_ = json.Unmarshal(p.Op.Payload, &c)
		return s.staffName(p.Result.ServerAssignee), s.staffName(c.AssigneeID)
	}
	return "", ""
}

// reapply makes my value of a conflict again, through the case service
// and on the case's current version, or nil when it cannot be made here.
func (s *syncScreen) reapply(p *app.SyncProblem) func(ctx context.Context) error {
	id := p.Op.CaseID
	switch p.Op.Kind {
	case app.OpCaseStatus:
		var c app.StatusChange
		if json.Unmarshal(p.Op.Payload, &c) != nil {
			return nil
		}
		switch {
		case c.Status == app.StatusClosed && p.Result.ServerStatus != app.StatusClosed:
			return func(ctx context.Context) error { return s.cases.Close(ctx, s.sess, id) }
		case c.Status != app.StatusClosed && p.Result.ServerStatus == app.StatusClosed:
			return func(ctx context.Context) error { return s.cases.Reopen(ctx, s.sess, id) }
		}
	case app.OpCaseAssign:
		var c app.AssignChange
		if json.Unmarshal(p.Op.Payload, &c) != nil || c.AssigneeID == "" || c.AssigneeID == p.Result.ServerAssignee {
			return nil
		}
		return func(ctx context.Context) error { return s.cases.Assign(ctx, s.sess, id, c.AssigneeID) }
	}
	return nil
}

func (s *syncScreen) conflictRow(p app.SyncProblem) fyne.CanvasObject {
	server, mine := s.conflictValues(&p)
	intro := widget.NewLabel(L(textConflictIntro))
	intro.Wrapping = fyne.TextWrapWord
	values := container.NewHBox(
		widget.NewLabelWithStyle(Lf(textServerValue, server), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel(Lf(textMyValue, mine)))
	msg := widget.NewLabel("")
	msg.Hide()
	var useServer, useMine *widget.Button
	useServer = widget.NewButton(L(textUseServer), func() { s.dismiss(p.Op.ID, useServer) })
	buttons := container.NewHBox(useServer)
	if again := s.reapply(&p); again != nil && s.cases != nil {
		useMine = widget.NewButton(L(textUseMine), func() {
			useMine.Disable()
			useServer.Disable()
			s.tasks.run(func() func() {
				err := again(s.ctx)
				if err == nil {
					err = s.svc.Dismiss(s.ctx, s.sess.Staff.ID, p.Op.ID)
				}
				return func() {
					if err != nil {
						logError("re-apply conflicting change", err, "case", p.Op.CaseID, "op", p.Op.ID)
						useMine.Enable()
						useServer.Enable()
						fieldMessage(msg, L(textReapplyFailed), true)
						return
					}
					s.svc.Kick()
					s.refresh()
				}
			})
		})
		useMine.Importance = widget.HighImportance
		buttons.Add(useMine)
	}
	return container.NewVBox(
		s.problemHead(theme.NewWarningThemedResource(theme.WarningIcon()), &p.Op, opKindText(p.Op.Kind)),
		intro, values, buttons, msg)
}

// dismiss removes a problem from the lists ("Ta bort ur listan", after
// Ja, ta bort where it kept a text; "Använd serverns värde").
func (s *syncScreen) dismiss(opID string, btn *widget.Button) {
	btn.Disable()
	s.tasks.run(func() func() {
		err := s.svc.Dismiss(s.ctx, s.sess.Staff.ID, opID)
		return func() {
			if s.confirming == opID {
				s.confirming = ""
			}
			if err != nil {
				logError("dismiss sync problem", err, "op", opID)
				btn.Enable()
				fieldMessage(s.listMsg, L(textDismissFailed), true)
				return
			}
			s.refresh()
		}
	})
}
