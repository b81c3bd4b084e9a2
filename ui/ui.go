// Package ui is Mottagning's desktop user interface, built with Fyne.
//
// It depends on the domain only: the services and stores of package app,
// through the small interfaces declared here, so that the same screens run
// over the local bbolt store today and the sync client later. It never
// imports storage or bbolt (its tests do, to drive real parts).
//
// Every screen is an unexported struct made by newXScreen(deps). Reads that
// touch the database run off the UI goroutine (see tasks) and apply their
// result with fyne.Do.
package ui

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/assets"
)

// Directory is what the screens read about clinics and staff.
// app.DirectoryStore satisfies it.
type Directory interface {
	Clinics(ctx context.Context) ([]app.Clinic, error)
	AllStaff(ctx context.Context) ([]app.Staff, error)
	// EServices lists a clinic's local e-services, whose names the case
	// lists show as the case type.
	EServices(ctx context.Context, clinicID app.ID) ([]app.EService, error)
	// Templates lists a clinic's message templates and standard replies.
	Templates(ctx context.Context, clinicID app.ID) ([]app.MessageTemplate, error)
}

// CaseLists is the part of app.CaseService the case lists use.
type CaseLists interface {
	ClinicCases(ctx context.Context, sess app.Session, q app.CaseQuery) (app.RowPage, error)
	MyCases(ctx context.Context, sess app.Session, q app.CaseQuery) (app.RowPage, error)
	FindCases(ctx context.Context, sess app.Session, f app.CaseFilter) (*app.CaseResult, error)
}

// CaseWork is the part of app.CaseService the case view, Skicka ärende
// and bulk send use. app.CaseService satisfies it.
type CaseWork interface {
	CaseLists
	OpenCase(ctx context.Context, sess app.Session, id app.ID) (*app.Thread, error)
	Reply(ctx context.Context, sess app.Session, id app.ID, text string) error
	ReplyWithFiles(ctx context.Context, sess app.Session, id app.ID, text string, files []app.File) error
	AttachmentData(ctx context.Context, sess app.Session, caseID, attID app.ID) (app.Attachment, []byte, error)
	AddNote(ctx context.Context, sess app.Session, id app.ID, text string) error
	Assign(ctx context.Context, sess app.Session, id, assignee app.ID) error
	Close(ctx context.Context, sess app.Session, id app.ID) error
	Reopen(ctx context.Context, sess app.Session, id app.ID) error
	LookupResident(ctx context.Context, sess app.Session, pnr personnummer.Number) (*app.ResidentView, error)
	SendCase(ctx context.Context, sess app.Session, req app.SendRequest) (*app.Case, error)
	ExportCase(ctx context.Context, sess app.Session, id app.ID, action app.AccessAction) (*app.Thread, error)
	// Notifications is the state of the case's notifications (never an
	// address or text).
	Notifications(ctx context.Context, sess app.Session, caseID app.ID) ([]app.NotificationStatus, error)
	// ReplyReach says whether a reply can reach the case's resident, with
	// Skicka ärende's reasons (the case view says it before typing).
	ReplyReach(ctx context.Context, sess app.Session, id app.ID) (app.Reachability, error)
	// GuardianAuthors names the guardians who wrote in proxy mode (R5).
	GuardianAuthors(ctx context.Context, sess app.Session, t *app.Thread) (map[app.ID]string, error)
	// OpCases names the cases of a connected desktop's queued and refused
	// changes, with a refused text for its maker (Ändringar).
	OpCases(ctx context.Context, sess app.Session, ops []app.SyncOp) ([]app.OpCase, error)
}

// Deps are what the UI needs from the composition root.
type Deps struct {
	Directory Directory
	Cases     CaseWork
	// Bulk is massutskick (app.CaseService); nil hides it.
	Bulk BulkWork
	// Templates is the lokal administratör's template service; nil hides it.
	Templates TemplateAdmin
	// Audit (granskare), StaffAdmin (behörighetsadministratör) and
	// Guardians (lokal administratör) are the screens of the roles that do
	// not handle cases; nil hides each.
	Audit      AuditReader
	StaffAdmin StaffAdmin
	Guardians  GuardianAdmin
	// TestNotify is the lokal administratör's "Skicka testavisering"; nil hides it.
	TestNotify TestNotifier
	// Prepare, when set, runs before the start screen with a progress
	// bar in the window (the seeding of a new demo database).
	Prepare Prepare
	// ContactCenter is the kontaktcenter's lock and unlock (R10):
	// app.ContactCenterService standalone, the server's door when
	// connected; nil hides it.
	ContactCenter ContactCenter
	// EServices is the e-service builder (app.EServiceBuilder): the lokal
	// administratör's E-tjänster tab and everyone's Förhandsgranska; nil
	// hides both.
	EServices EServiceAdmin
	// Notify shows a desktop notification (fyne.App.SendNotification in
	// main); nil shows none. It gets content-free texts only.
	Notify func(title, body string)
	// Prefs remembers the last tab per staff member; nil remembers nothing.
	Prefs fyne.Preferences
	// Auth signs staff in (app.LocalAuth in standalone mode).
	Auth app.Authenticator
	// Clock is the time the screens show and count idle time by; nil
	// means app.SystemClock.
	Clock app.Clock
	// IdleLock is the idle time after which the window locks; 0 means
	// DefaultIdleLock, a negative value never locks.
	IdleLock time.Duration
	// DemoPassword gives a demo account's password, listed on the sign-in
	// screen; main sets it only for a demo database.
	DemoPassword func(username string) string
	// Demo is true when the database holds the demo data set; the start
	// screen then says that every person and case is made up.
	Demo bool
	// Sync is a connected desktop's sync engine (*sync.Engine): the status
	// bar and the Ändringar tab show it. nil (standalone) shows neither.
	Sync SyncStatus
	// Lookup, when set, is the resident lookup of Skicka ärende and
	// massutskick instead of Cases' (sync.Lookup on a connected desktop: a
	// resident never seen here is fetched from the server, and offline the
	// field says that it needs the server).
	Lookup ResidentLookup
	// SecondFactor, when set (a connected desktop), lets the staff member
	// enrol an authenticator app from the workspace ("Tvåstegsverifiering").
	SecondFactor SecondFactor
	// Connect, when set, lets a new computer (an empty database that is
	// not connected) choose its central server on the start screen: the
	// address and the certificate's fingerprint. Its error is a Swedish
	// message. main sets it; on success the window works connected.
	Connect func(ctx context.Context, url, pin string) (*Connection, error)
	// Preselect, when set, chooses a staff member and clinic as soon as the
	// start screen has loaded and continues to the case lists. main sets it
	// only for a demo database, to take screenshots.
	Preselect *Preselect
}

// Connection is what a desktop connected from the start screen works
// with from then on (the Deps of a connected desktop).
type Connection struct {
	Auth         app.Authenticator
	Sync         SyncStatus
	Lookup       ResidentLookup
	Audit        AuditReader
	SecondFactor SecondFactor
	// ContactCenter is the server's kontaktcenter door; nil keeps the one
	// the desktop started with.
	ContactCenter ContactCenter
}

// connected switches the window to a connection made on the start screen
// and shows the sign-in form of a connected desktop.
func (u *UI) connected(c *Connection) {
	u.deps.Auth, u.deps.Sync, u.deps.Lookup, u.deps.SecondFactor = c.Auth, c.Sync, c.Lookup, c.SecondFactor
	if c.Audit != nil {
		u.deps.Audit = c.Audit
	}
	if c.ContactCenter != nil {
		u.deps.ContactCenter = c.ContactCenter
	}
	u.deps.Connect = nil
	u.showStart(nil, nil)
}

// DefaultIdleLock is the idle time before the window locks.
const DefaultIdleLock = 10 * time.Minute

// Preselect names a demo staff member by username, signed in with the demo
// password, and one of their clinics by its position in the clinic choice
// (sorted by name, from 0). With a position out of range it stops at the
// clinic choice. It works only on a demo database.
type Preselect struct {
	Username string
	Clinic   int
	// Screen, when set, opens one more screen in the workspace: "case"
	// (the newest case of the first list), "send", "bulk", "tab:TITLE"
	// (the tab of that Swedish title), or "preview:NAME" (Förhandsgranska
	// on the e-service whose name starts with NAME).
	Screen string
}

// UI is the content of the main window: the start screen, then the
// workspace of one staff member in one clinic.
type UI struct {
	ctx   context.Context
	win   fyne.Window
	deps  Deps
	tasks tasks

	start *startScreen
	work  *workspaceScreen
	// previewPick is the e-service the preview opens on (Preselect).
	previewPick string
	lock        *lockScreen      // non-nil while locked
	contact     *contactScreen   // the kontaktcenter's tool, while shown
	eservices   *eservicesScreen // E-tjänster of the open workspace; nil without lokal administratör
	prepare     *prepareScreen   // Deps.Prepare running

	idleMu       sync.Mutex
	lastActivity time.Time
}

// New shows the sign-in screen in w and starts loading staff and clinics.
// Reads use ctx; cancel it when the window closes. While someone is signed
// in, the window locks after d.IdleLock without activity.
func New(ctx context.Context, w fyne.Window, d Deps) *UI {
	if d.Clock == nil {
		d.Clock = app.SystemClock{}
	}
	if d.IdleLock == 0 {
		d.IdleLock = DefaultIdleLock
	}
	u := &UI{ctx: ctx, win: w, deps: d}
	u.tasks.onRun = u.touch
	if dc, ok := w.Canvas().(desktop.Canvas); ok {
		dc.SetOnKeyDown(func(*fyne.KeyEvent) { u.touch() })
	}
	if a, ok := d.Cases.(replyAlerts); ok {
		a.SetReplyAlert(func(c app.Case) { fyne.Do(func() { u.replyArrived(c) }) })
	}
	if d.Prepare != nil {
		u.showPrepare()
	} else {
		u.showStart(d.Preselect, nil)
	}
	if d.IdleLock > 0 {
		go u.watchIdle(ctx)
	}
	return u
}

// Close is for the window closing: a reply still waiting for its undo
// time is written now (the user sent it), on this goroutine. Call it on
// the UI goroutine before the window closes.
func (u *UI) Close() {
	if u.work != nil && u.work.open != nil {
		if err := u.work.open.flushPending(); err != nil {
			slog.Error("reply not sent at close", "code", app.Code(err))
		}
	}
}

// Tabs of the roles without case handling.
const (
	textAuditTab     = "common.access_log"
	textStaffTab     = "ui.roles"
	textGuardiansTab = "common.guardians"
)

// roleSections builds the tabs a staff member's other roles give.
func (u *UI) roleSections(sess app.Session, clinic app.Clinic) []section {
	var out []section
	st := sess.Staff
	u.contact, u.eservices = nil, nil
	if clinic.ID == regionClinicID {
		// The whole region: the kontaktcenter's tool only.
		if st.HasRegion(app.RoleContactCenter) && u.deps.ContactCenter != nil {
			u.contact = newContactScreen(contactDeps{ctx: u.ctx, tasks: &u.tasks, svc: u.deps.ContactCenter, sess: sess, clock: u.deps.Clock})
			out = append(out, section{L(textCCTab), u.contact.content})
		}
		return out
	}
	if st.Has(clinic.ID, app.RoleLocalAdmin) && u.deps.Guardians != nil {
		g := newGuardiansScreen(guardiansDeps{ctx: u.ctx, tasks: &u.tasks, svc: u.deps.Guardians, sess: sess, clinic: clinic, clock: u.deps.Clock})
		out = append(out, section{L(textGuardiansTab), g.content})
	}
	if st.Has(clinic.ID, app.RoleLocalAdmin) && u.deps.TestNotify != nil {
		n := newTestNotifyScreen(testNotifyDeps{ctx: u.ctx, tasks: &u.tasks, svc: u.deps.TestNotify, sess: sess})
		out = append(out, section{L(textNotifyTab), n.content})
	}
	if u.deps.EServices != nil {
		// The preview shows a demo database's own residents as personas.
		var people demoResidents
		if r, ok := u.deps.Directory.(demoResidents); ok && u.deps.Demo {
			people = r
		}
		if st.Has(clinic.ID, app.RoleLocalAdmin) {
			u.eservices = newEServicesScreen(eservicesDeps{ctx: u.ctx, tasks: &u.tasks, svc: u.deps.EServices, dir: u.deps.Directory,
				residents: people, sess: sess, clinic: clinic, clock: u.deps.Clock})
			out = append(out, section{L(textEsTab), u.eservices.content})
		}
	}
	if st.Has(clinic.ID, app.RolePermissionAdmin) && u.deps.StaffAdmin != nil {
		a := newStaffAdminScreen(staffAdminDeps{ctx: u.ctx, tasks: &u.tasks, svc: u.deps.StaffAdmin, sess: sess, clinic: clinic})
		out = append(out, section{L(textStaffTab), a.content})
	}
	if st.Has(clinic.ID, app.RoleAuditor) && u.deps.Audit != nil {
		a := newAuditScreen(auditDeps{ctx: u.ctx, tasks: &u.tasks, svc: u.deps.Audit, dir: u.deps.Directory, sess: sess, clinic: clinic, clock: u.deps.Clock})
		out = append(out, section{L(textAuditTab), a.content})
	}
	// Förhandsgranska is everyone's, so it comes after each role's own
	// tool: a granskare or behörighetsadministratör lands on their own.
	if u.deps.EServices != nil && st.InClinic(clinic.ID) {
		var people demoResidents
		if r, ok := u.deps.Directory.(demoResidents); ok && u.deps.Demo {
			people = r
		}
		p := newPreviewScreen(previewDeps{ctx: u.ctx, tasks: &u.tasks, svc: u.deps.EServices, dir: u.deps.Directory,
			residents: people, sess: sess, clock: u.deps.Clock, initial: u.previewPick})
		out = append(out, section{L(textPvTab), p.content})
	}
	return out
}

// replyAlerts is implemented by app.CaseService: the function it raises
// when a resident's reply arrives (from sync, later).
type replyAlerts interface {
	SetReplyAlert(fn func(c app.Case))
}

// replyArrived raises the desktop notification (content-free, R4 in
// spirit: it may show on a lock screen) and refreshes the lists and the
// unread badge, when the reply is for the clinic being worked in.
func (u *UI) replyArrived(c app.Case) {
	if u.work == nil || u.work.sess.ClinicID != c.ClinicID {
		return
	}
	if u.deps.Notify != nil {
		u.deps.Notify(replyAlert(u.work.clinic.Name))
	}
	u.work.refreshLists()
}

// touch records user activity: every key press and every action that
// reads or writes (they all go through tasks.run). Fyne has no global
// pointer hook, so moving the mouse alone does not count.
func (u *UI) touch() {
	u.idleMu.Lock()
	u.lastActivity = u.deps.Clock.Now()
	u.idleMu.Unlock()
}

func (u *UI) watchIdle(ctx context.Context) {
	t := time.NewTicker(min(u.deps.IdleLock/4, 15*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := u.deps.Clock.Now()
			fyne.Do(func() { u.checkIdle(now) })
		}
	}
}

// checkIdle locks the workspace when nothing happened for IdleLock.
func (u *UI) checkIdle(now time.Time) {
	u.idleMu.Lock()
	idle := now.Sub(u.lastActivity)
	u.idleMu.Unlock()
	if u.work != nil && u.lock == nil && u.deps.IdleLock > 0 && idle >= u.deps.IdleLock {
		u.lockNow()
	}
}

// lockNow hides the workspace behind the lock screen.
func (u *UI) lockNow() {
	if u.work == nil || u.lock != nil {
		return
	}
	work := u.work
	u.lock = newLockScreen(lockDeps{
		ctx: u.ctx, tasks: &u.tasks, auth: u.deps.Auth, clock: u.deps.Clock, staff: *work.sess.Staff,
		onUnlock: func() {
			u.lock = nil
			u.touch()
			u.win.SetContent(work.content)
		},
		onSignOut: func() {
			u.lock = nil
			u.showStart(nil, nil)
		},
	})
	u.win.SetContent(u.lock.content)
	u.win.Canvas().Focus(u.lock.password)
}

// Icon is the application icon as a Fyne resource.
func Icon() fyne.Resource { return fyne.NewStaticResource("icon.png", assets.Icon) }

// showStart (re)builds the sign-in screen, so that it reads staff and
// roles afresh; with resume it opens on the clinic step for that staff
// member ("Byt mottagning").
func (u *UI) showStart(pre *Preselect, resume *app.Staff) {
	if u.work != nil {
		u.work.leave()
	}
	u.work, u.contact, u.eservices = nil, nil, nil
	var demoPW func(string) string
	if u.deps.Demo {
		demoPW = u.deps.DemoPassword
	}
	u.start = newStartScreen(startDeps{
		ctx: u.ctx, tasks: &u.tasks, dir: u.deps.Directory, auth: u.deps.Auth, clock: u.deps.Clock,
		demo: u.deps.Demo, demoPassword: demoPW, preselect: pre, resume: resume,
		onContinue: u.showWorkspace, sync: u.deps.Sync, connect: u.deps.Connect, onConnected: u.connected,
	})
	u.win.SetContent(u.start.content)
}

func (u *UI) showWorkspace(staff app.Staff, clinic app.Clinic) {
	screen := ""
	if u.deps.Preselect != nil {
		screen, u.deps.Preselect = u.deps.Preselect.Screen, nil
	}
	u.previewPick = ""
	if name, ok := strings.CutPrefix(screen, "preview:"); ok {
		u.previewPick, screen = name, "tab:"+textPvTab
	}
	defer func() {
		if u.work != nil {
			u.work.preselect(screen)
		}
	}()
	u.touch()
	sess := app.Session{Staff: &staff, ClinicID: clinic.ID}
	cases, bulk := u.deps.Cases, u.deps.Bulk
	if u.deps.Lookup != nil {
		cases = lookupCases{CaseWork: cases, lookup: u.deps.Lookup}
		if bulk != nil {
			bulk = lookupBulk{BulkWork: bulk, lookup: u.deps.Lookup}
		}
	}
	u.work = newWorkspaceScreen(workspaceDeps{
		ctx: u.ctx, tasks: &u.tasks, win: u.win, dir: u.deps.Directory, cases: cases,
		bulk: bulk, templates: u.deps.Templates, extra: u.roleSections(sess, clinic),
		clock: u.deps.Clock, demo: u.deps.Demo, prefs: u.deps.Prefs, sync: u.deps.Sync,
		onSwitchClinic: func() { u.showStart(nil, &staff) },
		onSignOut:      func() { u.showStart(nil, nil) },
		onLock:         u.lockNow,
		secondFactor:   u.deps.SecondFactor,
	}, sess, clinic)
	u.win.SetContent(u.work.content)
}

// tasks runs database reads off the UI goroutine. A job returns the
// function that shows its result; that function runs through fyne.Do, on
// the UI goroutine.
type tasks struct {
	wg sync.WaitGroup
	// onRun is called at the start of every job: user activity.
	onRun func()

	mu   sync.Mutex
	held []func()
}

// holdResults is set by the tests (TestMain) before any UI exists. Fyne's
// test driver runs a fyne.Do function at once on the calling goroutine,
// which would race with the test; held results are applied by wait, on
// the test's goroutine, the way the real driver applies them on its own.
var holdResults bool

func (t *tasks) run(job func() (apply func())) {
	if t.onRun != nil {
		t.onRun()
	}
	t.background(job)
}

// background is run for a job that is no user activity (a list read again
// because sync changed cases): it must not keep the window from locking.
func (t *tasks) background(job func() (apply func())) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		apply := job()
		switch {
		case apply == nil:
		case holdResults:
			t.mu.Lock()
			t.held = append(t.held, apply)
			t.mu.Unlock()
		default:
			fyne.Do(apply)
		}
	}()
}

// wait is for tests: it waits for every job and applies the held results,
// again and again while applying them starts new jobs.
func (t *tasks) wait() {
	for {
		t.wg.Wait()
		t.mu.Lock()
		held := t.held
		t.held = nil
		t.mu.Unlock()
		if len(held) == 0 {
			return
		}
		for _, apply := range held {
			apply()
		}
	}
}

// Texts shown for errors. The detail goes to the log (ids only, never
// personal data); the user gets what happened and what to do.
const (
	textForbidden   = "ui.you_do_not_have_permission"
	textCasesFailed = "ui.loading_cases_failed"
	textStartFailed = "ui.loading_staff_failed"
)

// caseListError maps an error from a case list to the text the user sees.
func caseListError(err error) string {
	if errors.Is(err, app.ErrForbidden) {
		return L(textForbidden)
	}
	return L(textCasesFailed)
}

// logError logs a failed operation with its error code. Callers pass ids
// only; app's errors carry ids, never names or personnummer.
func logError(op string, err error, attrs ...any) {
	slog.Error(op, append([]any{"code", app.Code(err), "err", err}, attrs...)...)
}
