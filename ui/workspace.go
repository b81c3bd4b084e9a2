package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
)

// Texts of the workspace.
const (
	textClinicCases = "workspace.clinic_cases"
	textMyCases     = "workspace.my_cases"
	textSend        = "common.send_case"
	textBulk        = "common.bulk_send"
	textTemplates   = "workspace.templates"
	textSwitch      = "workspace.switch_clinic"
	textDemoBadge   = "workspace.demo_database"
	textSent        = "workspace.case_has_been_sent"
	textSaveFailed  = "common.file_could_not_saved_choose"
)

type workspaceDeps struct {
	ctx       context.Context
	tasks     *tasks
	win       fyne.Window
	dir       Directory
	cases     CaseWork
	bulk      BulkWork      // nil: no massutskick
	templates TemplateAdmin // nil: no template screen
	extra     []section     // screens of other roles (granskare, behörighetsadministratör …)
	clock     app.Clock
	demo      bool
	prefs     fyne.Preferences // remembers the last tab; nil in some tests
	sync      SyncStatus       // a connected desktop's sync; nil: no status bar
	// onSwitchClinic is "Byt mottagning" (staff in several clinics).
	onSwitchClinic func()
	onSignOut      func()
	onLock         func()
	// secondFactor enrols an authenticator app; nil: no button.
	secondFactor SecondFactor
}

// section is one tab of the workspace.
type section struct {
	title   string
	content fyne.CanvasObject
}

// workspaceScreen is one staff member at work in one clinic: a header bar,
// the tabs their roles give (case lists, templates, the screens of other
// roles), and in their place, while open, a case, Skicka ärende or
// massutskick. The services check every role again.
type workspaceScreen struct {
	workspaceDeps
	content fyne.CanvasObject
	sess    app.Session
	clinic  app.Clinic

	clinicName *widget.Label
	staffName  *widget.Label
	switchBtn  *widget.Button // Byt mottagning; nil for staff in one clinic
	signOut    *widget.Button
	lockBtn    *widget.Button
	totpBtn    *widget.Button // Tvåstegsverifiering; nil standalone
	totp       *totpDialog    // the last enrolment shown
	send       *widget.Button // Skicka ärende (Ctrl+N); hidden without a case role
	bulkBtn    *widget.Button // Massutskick; hidden without a case role
	notice     *widget.Label  // "Ärendet är skickat." and the like

	main        *fyne.Container    // the tabs, or the open screen in their place
	tabs        *container.AppTabs // nil when there is nothing to show in tabs
	clinicCases *caseList          // nil without ärendemottagare
	myCases     *caseList          // nil without a case role
	templ       *templatesScreen   // nil without lokal administratör
	roleInfo    *widget.Label      // nil when there is a tab
	open        *caseView          // the open case; nil in the lists
	sendScr     *sendScreen        // Skicka ärende while open
	bulkScr     *bulkScreen        // massutskick while open
	unbind      func()             // removes the open screen's Ctrl+Enter
	syncScr     *syncScreen        // status bar and Ändringar; nil standalone
}

func newWorkspaceScreen(d workspaceDeps, sess app.Session, clinic app.Clinic) *workspaceScreen {
	s := &workspaceScreen{workspaceDeps: d, sess: sess, clinic: clinic}
	st := sess.Staff
	receiver := st.Has(clinic.ID, app.RoleCaseReceiver)
	handler := st.Has(clinic.ID, app.RoleCaseHandler)
	caseRole := receiver || handler

	s.clinicName = widget.NewLabelWithStyle(clinic.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.clinicName.SizeName = theme.SizeNameSubHeadingText
	who := st.Name
	if st.Title != "" {
		who += " · " + st.Title
	}
	s.staffName = widget.NewLabel(who)
	clinics := 0
	for _, roles := range st.Roles {
		if len(roles) > 0 {
			clinics++
		}
	}
	if st.HasRegion(app.RoleContactCenter) {
		clinics++ // the region is one more place to work
	}
	if clinics > 1 {
		s.switchBtn = widget.NewButtonWithIcon(L(textSwitch), theme.HomeIcon(), d.onSwitchClinic)
	}
	s.lockBtn = widget.NewButtonWithIcon(L(textLockNow), theme.VisibilityOffIcon(), d.onLock)
	s.signOut = widget.NewButtonWithIcon(L(textSignOut), theme.LogoutIcon(), d.onSignOut)
	s.send = widget.NewButtonWithIcon(L(textSend), theme.MailSendIcon(), s.showSend)
	s.send.Importance = widget.HighImportance
	s.bulkBtn = widget.NewButtonWithIcon(L(textBulk), theme.MailForwardIcon(), s.showBulk)
	if !caseRole {
		s.send.Hide()
		s.bulkBtn.Hide()
	}
	if d.bulk == nil {
		s.bulkBtn.Hide()
	}
	// The notice has a row of its own under the top bar, wrapped: beside
	// the buttons its longer texts made the window wider than a laptop's
	// screen.
	s.notice = widget.NewLabel("")
	s.notice.Importance = widget.SuccessImportance
	s.notice.Wrapping = fyne.TextWrapWord
	s.notice.Hide()
	right := container.NewHBox()
	if d.demo {
		right.Add(widget.NewLabelWithStyle(L(textDemoBadge), fyne.TextAlignTrailing, fyne.TextStyle{Italic: true}))
	}
	right.Add(s.send)
	right.Add(s.bulkBtn)
	if s.switchBtn != nil {
		right.Add(s.switchBtn)
	}
	if d.secondFactor != nil {
		s.totpBtn = widget.NewButtonWithIcon(L(textTOTP), theme.AccountIcon(), func() {
			s.totp = showTOTPDialog(d.ctx, d.tasks, d.secondFactor, d.win)
		})
		right.Add(s.totpBtn)
	}
	right.Add(s.lockBtn)
	right.Add(s.signOut)
	// The staff name takes the room the clinic and the buttons leave and is
	// shortened (…) where there is too little, so that the buttons need not
	// make the window wider than a laptop's screen.
	s.staffName.Truncation = fyne.TextTruncateEllipsis
	middle := container.NewVBox(layout.NewSpacer(), s.staffName, layout.NewSpacer())
	header := container.NewBorder(nil, nil, s.clinicName, container.NewCenter(right), middle)

	var items []*container.TabItem
	lists := caseListDeps{ctx: d.ctx, tasks: d.tasks, dir: d.dir, cases: d.cases, sess: sess, onOpen: s.openCase}
	if receiver {
		s.clinicCases = newCaseList(lists, clinicList)
		items = append(items, container.NewTabItem(L(textClinicCases), s.clinicCases.content))
	}
	if caseRole {
		mine := lists
		mine.onUnread = s.setMyUnread
		s.myCases = newCaseList(mine, myList)
		items = append(items, container.NewTabItem(L(textMyCases), s.myCases.content))
	}
	if st.Has(clinic.ID, app.RoleLocalAdmin) && d.templates != nil {
		s.templ = newTemplatesScreen(templatesDeps{ctx: d.ctx, tasks: d.tasks, svc: d.templates, sess: sess, clinic: clinic})
		items = append(items, container.NewTabItem(L(textTemplates), s.templ.content))
	}
	for _, x := range d.extra {
		items = append(items, container.NewTabItem(x.title, x.content))
	}
	var bar fyne.CanvasObject
	if d.sync != nil {
		s.syncScr = newSyncScreen(syncDeps{ctx: d.ctx, tasks: d.tasks, svc: d.sync, dir: d.dir, cases: d.cases,
			sess: sess, clock: d.clock, onShowChanges: s.showChanges, onSignIn: d.onSignOut, onCasesChanged: s.syncedCases,
			onOpenCase: s.openCase, save: s.saveFile, clinicName: clinic.Name})
		if caseRole {
			s.syncScr.onSendAgain = s.showSendWith
		}
		items = append(items, container.NewTabItem(L(textChangesTab), s.syncScr.changes))
		bar = container.NewPadded(s.syncScr.bar)
		s.syncScr.onFirstSync = s.firstSyncLists
		s.syncScr.watch()
	}
	var body fyne.CanvasObject
	if len(items) > 0 {
		s.tabs = container.NewAppTabs(items...)
		s.restoreTab()
		s.tabs.OnSelected = func(*container.TabItem) { s.rememberTab() }
		body = s.tabs
	}
	if len(items) == 0 {
		s.roleInfo = widget.NewLabel(roleInfoText(st, clinic))
		s.roleInfo.Wrapping = fyne.TextWrapWord
		body = container.NewVBox(s.roleInfo)
	}
	s.main = container.NewStack(body)
	s.content = container.NewBorder(
		container.NewVBox(container.NewPadded(header), s.notice, widget.NewSeparator()), bar, nil, nil,
		container.NewPadded(s.main))
	s.bindKeys()
	return s
}

// preselect opens a screen for screenshots (see Preselect.Screen).
func (s *workspaceScreen) preselect(screen string) {
	if title, ok := strings.CutPrefix(screen, "tab:"); ok && s.tabs != nil {
		for i, it := range s.tabs.Items {
			if it.Text == title || it.Text == L(title) {
				s.tabs.SelectIndex(i)
			}
		}
		return
	}
	switch screen {
	case "send":
		s.showSend()
	case "bulk":
		s.showBulk()
	case "case":
		l := s.clinicCases
		if l == nil {
			l = s.myCases
		}
		if l != nil {
			l.autoOpen = true
		}
	}
}

// Keyboard: Ctrl+N Skicka ärende, Ctrl+F the search of the list shown.
// (Ctrl+Enter sends in Skicka ärende and in a case, bound while open.)
var (
	keyNew    = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	keySearch = &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}
)

func (s *workspaceScreen) bindKeys() {
	if s.win == nil {
		return
	}
	c := s.win.Canvas()
	// Only while the workspace is what the window shows (not locked).
	shown := func() bool { return s.win.Content() == s.content }
	c.AddShortcut(keyNew, func(fyne.Shortcut) {
		if shown() && s.send.Visible() && !s.send.Disabled() {
			s.showSend()
		}
	})
	c.AddShortcut(keySearch, func(fyne.Shortcut) {
		if shown() {
			s.focusSearch()
		}
	})
}

// leave removes what the workspace bound on the window, before another
// screen takes it.
func (s *workspaceScreen) leave() {
	s.closeScreen()
	if s.syncScr != nil {
		s.syncScr.leave()
	}
	if s.win != nil {
		c := s.win.Canvas()
		c.RemoveShortcut(keyNew)
		c.RemoveShortcut(keySearch)
	}
}

// focusSearch puts the cursor in the search field of the list shown.
func (s *workspaceScreen) focusSearch() {
	l := s.currentList()
	if l == nil || s.win == nil || s.main.Objects[0] != s.tabs {
		return
	}
	s.win.Canvas().Focus(l.search)
}

func (s *workspaceScreen) currentList() *caseList {
	if s.tabs == nil {
		return nil
	}
	switch s.tabs.Selected().Text {
	case L(textClinicCases):
		return s.clinicCases
	default:
		if strings.HasPrefix(s.tabs.Selected().Text, L(textMyCases)) {
			return s.myCases
		}
	}
	return nil
}

func (s *workspaceScreen) prefKey() string { return "lastTab." + string(s.sess.Staff.ID) }

func (s *workspaceScreen) rememberTab() {
	if s.prefs != nil && s.tabs != nil {
		s.prefs.SetInt(s.prefKey(), s.tabs.SelectedIndex())
	}
}

func (s *workspaceScreen) restoreTab() {
	if s.prefs == nil {
		return
	}
	if i := s.prefs.IntWithFallback(s.prefKey(), 0); i > 0 && i < len(s.tabs.Items) {
		s.tabs.SelectIndex(i)
	}
}

// showChanges goes to the Ändringar tab (the status bar's Visa ändringar).
// An open case, Skicka ärende or massutskick stays open (it may hold typed
// text): the tab shows when it is closed.
func (s *workspaceScreen) showChanges() {
	if s.tabs == nil || s.syncScr == nil {
		return
	}
	for i, it := range s.tabs.Items {
		if it.Content == s.syncScr.changes {
			s.tabs.SelectIndex(i)
		}
	}
}

// setMyUnread shows the unread count on the Mina ärenden tab.
func (s *workspaceScreen) setMyUnread(n int) {
	if s.tabs == nil {
		return
	}
	for _, it := range s.tabs.Items {
		if strings.HasPrefix(it.Text, L(textMyCases)) {
			it.Text = L(textMyCases)
			if n > 0 {
				it.Text = fmt.Sprintf("%s (%d)", L(textMyCases), n)
			}
		}
	}
	s.tabs.Refresh()
}

// syncedCases follows a sync write: the lists are read again where the
// user scrolled to, and an open case the write changed is read again,
// keeping the reply being written and the place in the thread.
func (s *workspaceScreen) syncedCases(since uint64) {
	s.refreshLists()
	if v := s.open; v != nil && s.sync != nil && s.sync.CaseChanged(v.id, since) {
		v.reloadInPlace()
	}
}

// firstSyncLists says, over a list that is still empty, that the cases
// are on their way while the first sync runs.
func (s *workspaceScreen) firstSyncLists(on bool) {
	text := L(textNoCases)
	if on {
		text = L(textListFirstSync)
	}
	for _, l := range []*caseList{s.clinicCases, s.myCases} {
		if l != nil && l.empty.Text != text {
			l.empty.SetText(text)
		}
	}
}

// refreshLists reads the lists again (a case changed: here, or by sync),
// in the background and where the user scrolled to.
func (s *workspaceScreen) refreshLists() {
	for _, l := range []*caseList{s.clinicCases, s.myCases} {
		if l != nil {
			l.refresh()
		}
	}
}

// show puts a screen in place of the tabs.
func (s *workspaceScreen) show(o fyne.CanvasObject) {
	if s.notice.Importance != widget.DangerImportance {
		s.notice.Hide() // a reply that could not be sent stays said
	}
	s.main.Objects = []fyne.CanvasObject{o}
	s.main.Refresh()
}

// closeScreen goes back to the tabs.
func (s *workspaceScreen) closeScreen() {
	if s.unbind != nil {
		s.unbind()
		s.unbind = nil
	}
	if s.open != nil {
		// A reply still waiting for its undo time is sent now.
		if err := s.open.flushPending(); err != nil {
			s.notice.Importance = widget.DangerImportance
			s.notice.SetText(L(cvFlushFailed))
			s.notice.Show()
		}
		s.open.removePrinted()
	}
	s.open, s.sendScr, s.bulkScr = nil, nil, nil
	body := fyne.CanvasObject(s.roleInfo)
	if s.tabs != nil {
		body = s.tabs
	}
	s.main.Objects = []fyne.CanvasObject{body}
	s.main.Refresh()
}

func (s *workspaceScreen) bindSend(send func()) {
	if s.win != nil {
		s.unbind = bindShortcuts(s.win.Canvas(), send)
	}
}

// openCase shows a case in place of the lists.
func (s *workspaceScreen) openCase(r app.CaseRow) {
	s.closeScreen()
	pnr := r.ReserveNumber
	if !r.PNR.IsZero() {
		pnr = r.PNR.String()
	}
	s.open = newCaseView(caseViewDeps{
		ctx: s.ctx, tasks: s.tasks, cases: s.cases, dir: s.dir, replies: s.dir, sess: s.sess, clinic: s.clinic,
		residentName: r.ResidentName, pnr: pnr, save: s.saveFile, sync: s.sync,
		onClose: func() {
			s.closeScreen()
			s.refreshLists()
		},
		onChanged: func(app.Case) { s.refreshLists() },
	}, r.ID)
	s.bindSend(s.open.shortcutSend)
	s.show(s.open.content)
}

// showSend opens Skicka ärende.
func (s *workspaceScreen) showSend() { s.showSendWith(sendPrefill{}) }

// showSendWith opens Skicka ärende filled in (Ändringar: Skicka som nytt
// ärende); an empty prefill fills nothing.
func (s *workspaceScreen) showSendWith(p sendPrefill) {
	s.closeScreen()
	var prefill *sendPrefill
	if p != (sendPrefill{}) {
		prefill = &p
	}
	s.sendScr = newSendScreen(sendDeps{
		ctx: s.ctx, tasks: s.tasks, cases: s.cases, templates: s.dir, sess: s.sess, clinic: s.clinic,
		now: s.clock.Now, sync: s.sync, prefill: prefill,
		onDone: func(*app.Case) {
			s.closeScreen()
			s.refreshLists()
			s.notice.Importance = widget.SuccessImportance
			s.notice.SetText(sentText(s.sync))
			s.notice.Show()
		},
		onCancel: s.closeScreen,
	})
	s.bindSend(s.sendScr.shortcutSend)
	s.show(s.sendScr.content)
	if s.win != nil {
		s.win.Canvas().Focus(s.sendScr.pnr)
	}
}

// showBulk opens massutskick.
func (s *workspaceScreen) showBulk() {
	if s.bulk == nil {
		return
	}
	s.closeScreen()
	s.bulkScr = newBulkScreen(bulkDeps{
		ctx: s.ctx, tasks: s.tasks, cases: s.bulk, templates: s.dir, sess: s.sess, clinic: s.clinic, win: s.win,
		save: s.saveFile, now: s.clock.Now,
		onDone: func([]app.BulkResult) {
			s.closeScreen()
			s.refreshLists()
		},
		onCancel: s.closeScreen,
	})
	s.show(s.bulkScr.content)
}

// saveFile asks where to save an exported PDF.
func (s *workspaceScreen) saveFile(name string, data []byte) {
	if s.win == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return // cancelled
		}
		_, werr := w.Write(data)
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			logError("save exported case", werr)
			dialog.ShowInformation(L(textExportTitle), L(textSaveFailed), s.win)
		}
	}, s.win)
	d.SetFileName(name)
	d.Resize(fileDialogSize(s.win))
	d.Show()
}

const textExportTitle = "common.export_pdf"

// roleTexts say what a role without case handling does in this window.
var roleTexts = map[app.Role]string{
	app.RoleLocalAdmin:      K("workspace.as_local_administrator_you_manage"),
	app.RolePermissionAdmin: K("workspace.as_permission_administrator_you_give"),
	app.RoleAuditor:         K("workspace.as_auditor_you_read_clinic"),
}

// roleInfoText explains, calmly, why there is no case list.
func roleInfoText(st *app.Staff, clinic app.Clinic) string {
	parts := []string{Lf("workspace.case_lists_shown_case_receivers", clinic.Name)}
	for _, r := range app.AllClinicRoles {
		if t, ok := roleTexts[r]; ok && st.Has(clinic.ID, r) {
			parts = append(parts, L(t))
		}
	}
	return strings.Join(parts, "\n\n")
}
