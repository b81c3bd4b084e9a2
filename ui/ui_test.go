package ui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
	"mottagning/storage"
)

// The UI tests drive real parts: a bbolt store in t.TempDir() seeded with
// the demo data set, and the real CaseService. Only the clock is fixed, so
// that the goldens do not change from day to day.

var update = flag.Bool("update", false, "rewrite the markup goldens in testdata/")

func TestMain(m *testing.M) {
	replyUndo = 0      // replies are written at once; the undo tests set their own
	holdResults = true // see tasks: results are applied in wait, on the test's goroutine
	// The goldens are Swedish whatever the system's language; only the
	// English test's child process (see lang_test.go) asks for English.
	if os.Getenv(langChildEnv) == "" {
		if err := SetLanguage("sv"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// now is the fixed time of the demo data set. Every rendered text derives
// from it (ids are random but never rendered).
var now = time.Date(2025, time.March, 12, 9, 30, 0, 0, app.Stockholm)

type fixture struct {
	store    *storage.Store
	ds       *demo.Dataset
	win      fyne.Window
	ui       *UI
	svc      *app.CaseService
	notified []string // desktop notifications shown: title + "|" + body
}

// newFixture opens a store, seeds the demo set unless empty is asked for,
// lets more add to it, and shows the UI in a 1200×760 test window.
func newFixture(t *testing.T, empty bool, pre *Preselect, more ...func(*storage.Store, *demo.Dataset)) *fixture {
	t.Helper()
	test.NewTempApp(t)
	ctx := context.Background()
	st, err := storage.Open(ctx, t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		st.Close()
	})
	f := &fixture{store: st}
	if !empty {
		f.ds = demo.Build(now)
		if err := demo.Seed(ctx, st, f.ds); err != nil {
			t.Fatalf("seed: %v", err)
		}
		for _, fn := range more {
			fn(st, f.ds)
		}
	}
	f.win = test.NewTempWindow(t, nil)
	f.win.Resize(fyne.NewSize(1200, 760))
	f.svc = app.NewCaseService(st, app.FixedClock(now))
	f.ui = New(ctx, f.win, Deps{
		Directory: st, Cases: f.svc, Bulk: f.svc, Templates: app.NewTemplateService(st, app.FixedClock(now)),
		Audit: app.NewAuditService(st, app.FixedClock(now)), StaffAdmin: app.NewStaffService(st, app.FixedClock(now)),
		Guardians: app.NewGuardianService(st, app.FixedClock(now)), TestNotify: app.NewNotificationAdmin(nil),
		Demo: st.IsDemo(), Preselect: pre,
		Auth: app.NewLocalAuth(st, st, app.FixedClock(now)), Clock: app.FixedClock(now), IdleLock: -1,
		DemoPassword: demo.Password,
		Notify:       func(title, body string) { f.notified = append(f.notified, title+"|"+body) },
	})
	f.ui.tasks.wait()
	return f
}

func (f *fixture) wait() { f.ui.tasks.wait() }

// staffNamed finds a demo staff member by name.
func (f *fixture) staffNamed(t *testing.T, name string) app.Staff {
	t.Helper()
	for _, st := range f.ds.Staff {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no demo staff member %q", name)
	return app.Staff{}
}

// signIn types a demo staff member's username and password into the
// sign-in form and taps Logga in.
func (f *fixture) signIn(t *testing.T, name string) {
	t.Helper()
	st := f.staffNamed(t, name)
	s := f.ui.start
	test.Type(s.username, st.Username)
	test.Type(s.password, demo.Password(st.Username))
	test.Tap(s.signIn)
	f.wait()
}

// open signs in as a staff member, chooses the clinic when asked, and
// returns the workspace.
func (f *fixture) open(t *testing.T, staff, clinic string) *workspaceScreen {
	t.Helper()
	f.signIn(t, staff)
	if f.ui.work == nil {
		s := f.ui.start
		if !s.choose.Visible() || !slices.Contains(s.clinicPick.Options, clinic) {
			t.Fatalf("%s: no clinic choice with %q after signing in (error %q)", staff, clinic, s.errText.Text)
		}
		s.clinicPick.SetSelected(clinic)
		test.Tap(s.proceed)
		f.wait()
	}
	if f.ui.work == nil {
		t.Fatal("signing in did not open the workspace")
	}
	if f.win.Content() != f.ui.work.content {
		t.Fatal("the window does not show the workspace")
	}
	if got := f.ui.work.clinicName.Text; got != clinic {
		t.Fatalf("%s works in %q, not in %q", staff, got, clinic)
	}
	return f.ui.work
}

func (f *fixture) clinic(name string) app.Clinic {
	for _, c := range f.ds.Clinics {
		if c.Name == name {
			return c
		}
	}
	panic("no clinic " + name)
}

// casesOf returns the demo cases of a clinic, newest activity first (ties:
// newer id first), as the store lists them.
func (f *fixture) casesOf(clinic app.ID, keep func(*app.Case) bool) []app.Case {
	var out []app.Case
	for _, th := range f.ds.Threads {
		if th.Case.ClinicID == clinic && (keep == nil || keep(&th.Case)) {
			out = append(out, th.Case)
		}
	}
	slices.SortFunc(out, func(a, b app.Case) int {
		if c := b.LastActivity.Compare(a.LastActivity); c != 0 {
			return c
		}
		return strings.Compare(string(b.ID), string(a.ID))
	})
	return out
}

// assertMarkup compares the window with a golden in testdata; -update
// writes the golden first.
func assertMarkup(t *testing.T, name string, c fyne.Canvas) {
	t.Helper()
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", name), []byte(test.RenderToMarkup(c)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertRendersToMarkup(t, name, c)
}

func TestSignIn_DemoListsEveryAccountWithItsPassword(t *testing.T) {
	f := newFixture(t, false, nil)
	s := f.ui.start
	var want, got []string
	for _, st := range f.ds.Staff {
		want = append(want, st.Name)
	}
	slices.Sort(want)
	for _, st := range s.staff {
		got = append(got, st.Name)
	}
	if !slices.Equal(got, want) || s.staffList.Length() != len(want) {
		t.Errorf("demo accounts %q, want every demo staff member %q", got, want)
	}
	markup := test.RenderToMarkup(f.win.Canvas())
	if !strings.Contains(markup, "Lösenord: "+demo.Password("anna")) {
		t.Error("the demo account list should show each password")
	}
	if !s.main.Visible() || s.message.Visible() {
		t.Error("the form and the accounts should show, without a message")
	}
	// Choosing an account fills the form.
	s.staffList.Select(slices.Index(got, "Björn Ekström"))
	if s.username.Text != "bjorn" || s.password.Text != demo.Password("bjorn") {
		t.Errorf("after choosing Björn: username %q", s.username.Text)
	}
	assertMarkup(t, "start_demo.xml", f.win.Canvas())
}

func TestSignIn_DemoDatabaseSaysSo(t *testing.T) {
	f := newFixture(t, false, nil)
	if !strings.Contains(test.RenderToMarkup(f.win.Canvas()), L(textDemo)) {
		t.Errorf("sign-in screen of a demo database should say %q", L(textDemo))
	}
}

func TestSignIn_EmptyDatabaseExplainsDemo(t *testing.T) {
	f := newFixture(t, true, nil)
	s := f.ui.start
	if s.message.Text != L(textEmpty) || !s.message.Visible() {
		t.Errorf("message = %q (visible %v), want %q", s.message.Text, s.message.Visible(), L(textEmpty))
	}
	if s.main.Visible() {
		t.Error("an empty database has nobody to sign in; the form should be hidden")
	}
	if strings.Contains(test.RenderToMarkup(f.win.Canvas()), L(textDemo)) {
		t.Error("an empty (non-demo) database must not be called a demo database")
	}
}

// A wrong password gets one Swedish message (never saying whether the
// username exists), nothing opens, and the password field is cleared;
// after app.FreeAttempts the account is locked with the wait in words.
func TestSignIn_WrongPasswordIsRateLimited(t *testing.T) {
	f := newFixture(t, false, nil)
	s := f.ui.start
	test.Tap(s.signIn)
	if !s.errText.Visible() || s.errText.Text != L(textNeedUsername) {
		t.Errorf("empty form: %q", s.errText.Text)
	}
	for i := 1; i <= app.FreeAttempts; i++ {
		s.username.SetText("anna")
		test.Type(s.password, "inte-rätt")
		test.Tap(s.signIn)
		f.wait()
		if f.ui.work != nil {
			t.Fatal("a wrong password opened the workspace")
		}
		if s.password.Text != "" {
			t.Error("the password field should be cleared after a failed sign-in")
		}
		want := "Fel användarnamn eller lösenord."
		if i == app.FreeAttempts {
			want = "För många felaktiga försök. Vänta 30 sekunder och försök igen."
		}
		if s.errText.Text != want {
			t.Errorf("attempt %d: %q, want %q", i, s.errText.Text, want)
		}
	}
	// Now even the right password waits.
	test.Type(s.password, demo.Password("anna"))
	test.Tap(s.signIn)
	f.wait()
	if f.ui.work != nil || !strings.HasPrefix(s.errText.Text, "För många") {
		t.Errorf("right password while locked: workspace %v, %q", f.ui.work != nil, s.errText.Text)
	}
	assertMarkup(t, "start_locked_out.xml", f.win.Canvas())
}

func TestSignIn_AnnaChoosesBetweenTwoClinics(t *testing.T) {
	f := newFixture(t, false, nil)
	f.signIn(t, "Anna Lindqvist")
	s := f.ui.start
	want := []string{"Barn- och ungdomsmottagningen Huskvarna", "Vårdcentralen Centrum"}
	if f.ui.work != nil || !s.choose.Visible() || !slices.Equal(s.clinicPick.Options, want) {
		t.Fatalf("clinic choice = %q (visible %v), want %q", s.clinicPick.Options, s.choose.Visible(), want)
	}
	if !s.proceed.Disabled() {
		t.Error("the clinic is never chosen by default: Fortsätt should wait for a choice")
	}
	assertMarkup(t, "start_anna.xml", f.win.Canvas())
	s.clinicPick.SetSelected("Vårdcentralen Centrum")
	if s.proceed.Disabled() {
		t.Error("Fortsätt should be enabled after choosing a clinic")
	}
	if want := "Roller i Vårdcentralen Centrum: Ärendemottagare, Ärendehanterare"; s.roles.Text != want {
		t.Errorf("roles = %q, want %q", s.roles.Text, want)
	}
}

func TestSignIn_OneClinicOpensAtOnce(t *testing.T) {
	f := newFixture(t, false, nil)
	f.signIn(t, "Björn Ekström")
	if f.ui.work == nil || f.ui.work.clinicName.Text != "Vårdcentralen Centrum" {
		t.Fatal("a staff member in one clinic should go straight to it")
	}
	if f.ui.work.switchBtn != nil {
		t.Error("Byt mottagning makes no sense for one clinic")
	}
}

// TestR10_ContactCentreLocksAndUnlocksFromItsOwnTool (issue 18, item 3):
// the kontaktcenter signs in and lands on its own tool; a wrong number is
// refused at the field, a stranger is said to be unknown; a lock needs the
// identity check and a reason, takes effect in the store at once and is
// access-logged; the unlock offers the unlock reasons.
func TestR10_ContactCentreLocksAndUnlocksFromItsOwnTool(t *testing.T) {
	f := newFixture(t, false, nil)
	f.ui.deps.ContactCenter = app.NewContactCenterService(f.store, app.FixedClock(now))
	f.signIn(t, "Greta Lundgren")
	w := f.ui.work
	if w == nil || w.clinicName.Text != L(textRegionClinic) || w.tabs == nil || len(w.tabs.Items) != 1 || w.tabs.Items[0].Text != L(textCCTab) {
		t.Fatalf("kontaktcenter should land on its own tool; work %v", w != nil)
	}
	c := f.ui.contact
	test.Type(c.pnr, "20000101-2385")
	test.Tap(c.find)
	f.wait()
	if !c.msg.Visible() || c.msg.Text != personnummer.ErrChecksum.Error() || c.result.Visible() {
		t.Fatalf("wrong check digit: message %q", c.msg.Text)
	}
	karin := personaResident(f, t, demo.AdultSMS)
	c.pnr.SetText(karin.PNR.String())
	test.Tap(c.find)
	f.wait()
	if !c.result.Visible() || c.name.Text != karin.Register.FullName() || c.state.Text != L(textCCUnlocked) || c.act.Text != L(textCCLock) {
		t.Fatalf("found: result %v, name %q, state %q, button %q", c.result.Visible(), c.name.Text, c.state.Text, c.act.Text)
	}
	if !c.act.Disabled() {
		t.Fatal("the lock must wait for the identity check and a reason")
	}
	c.check.SetSelected(app.CheckBankID.Label())
	c.reason.SetSelected(app.ReasonSuspectedUse.Label())
	assertMarkup(t, "contactcenter_found.xml", f.win.Canvas())
	capturePNG(t, f.win, "contactcenter_found")
	test.Tap(c.act)
	f.wait()
	got, err := f.store.ResidentByPNR(context.Background(), karin.PNR)
	if err != nil || !got.Account.LoginLocked {
		t.Fatalf("after Spärra: locked %v, %v", got != nil && got.Account.LoginLocked, err)
	}
	if c.state.Text != L(textCCLocked) || c.act.Text != L(textCCUnlock) || c.msg.Text != L(textCCDidLock) || !strings.Contains(c.last.Text, app.ReasonSuspectedUse.Label()) {
		t.Errorf("after the lock: state %q, button %q, message %q, last %q", c.state.Text, c.act.Text, c.msg.Text, c.last.Text)
	}
	if !slices.Equal(c.reason.Options, []string{app.ReasonResolved.Label(), app.ReasonOwnWish.Label()}) {
		t.Errorf("unlock reasons %q", c.reason.Options)
	}
	capturePNG(t, f.win, "contactcenter_locked")
	c.check.SetSelected(app.CheckIDDocument.Label())
	c.reason.SetSelected(app.ReasonResolved.Label())
	test.Tap(c.act)
	f.wait()
	if got, _ = f.store.ResidentByPNR(context.Background(), karin.PNR); got.Account.LoginLocked {
		t.Fatal("Häv spärren did not unlock")
	}
	var actions []app.AccessAction
	es, err := f.store.Entries(context.Background(), "", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.ResidentID == karin.ID {
			actions = append(actions, e.Action)
		}
	}
	want := []app.AccessAction{app.AccessLookupResident, app.AccessLoginLock, app.AccessLoginLock}
	if !slices.Equal(actions, want) {
		t.Errorf("access log %v, want %v", actions, want)
	}
	// Someone the register does not have.
	c.pnr.SetText("19121212-1212")
	test.Tap(c.find)
	f.wait()
	if c.msg.Text != L(textCCNotFound) || c.result.Visible() {
		t.Errorf("unknown: message %q", c.msg.Text)
	}
}

// R16: an ärendemottagare sees "Mottagningens ärenden", newest activity
// first, next to "Mina ärenden".
func TestR16_ClinicCasesNewestFirst(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	if w.tabs == nil || len(w.tabs.Items) != 2 || w.tabs.Items[0].Text != L(textClinicCases) || !strings.HasPrefix(w.tabs.Items[1].Text, L(textMyCases)) {
		t.Fatalf("an ärendemottagare and ärendehanterare should see the tabs %q and %q", L(textClinicCases), L(textMyCases))
	}
	want := f.casesOf(f.clinic("Vårdcentralen Centrum").ID, nil)
	l := w.clinicCases
	if l.len() != len(want) {
		t.Fatalf("case list has %d rows, want the clinic's %d demo cases", l.len(), len(want))
	}
	if rows, _ := l.table.Length(); rows != len(want) {
		t.Errorf("table shows %d rows, want %d", rows, len(want))
	}
	if l.row(0).Subject != want[0].Subject {
		t.Errorf("first row is %q, want the newest case %q", l.row(0).Subject, want[0].Subject)
	}
	for i := range want {
		if l.row(i).ID != want[i].ID {
			t.Errorf("row %d is case %s, want %s (newest activity first)", i, l.row(i).ID, want[i].ID)
		}
	}
	if l.more.Visible() {
		t.Error("all cases fit on one page; Visa fler should be hidden")
	}
	assertMarkup(t, "arenden_anna_centrum.xml", f.win.Canvas())
}

func TestR16_StatusFilterNy(t *testing.T) {
	f := newFixture(t, false, nil)
	l := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum").clinicCases
	l.status.SetSelected(app.StatusNew.Label())
	f.wait()
	want := f.casesOf(f.clinic("Vårdcentralen Centrum").ID, func(c *app.Case) bool { return c.Status == app.StatusNew })
	if len(want) == 0 {
		t.Fatal("the demo set has no Ny case in Vårdcentralen Centrum")
	}
	if l.len() != len(want) {
		t.Errorf("filter Ny shows %d rows, want %d", l.len(), len(want))
	}
	for _, r := range l.rowsForTest() {
		if r.Status != app.StatusNew {
			t.Errorf("filter Ny shows a case with status %s", r.Status.Label())
		}
	}
	l.status.SetSelected(L(textAll))
	f.wait()
	if all := f.casesOf(f.clinic("Vårdcentralen Centrum").ID, nil); l.len() != len(all) {
		t.Errorf("back to Alla: %d rows, want %d", l.len(), len(all))
	}
}

// R16 and the role table: an ärendehanterare without ärendemottagare sees
// only "Mina ärenden", the cases assigned to them.
func TestR16_HandlerSeesOnlyMyCases(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Björn Ekström", "Vårdcentralen Centrum")
	if w.clinicCases != nil || w.myCases == nil || len(w.tabs.Items) != 1 {
		t.Fatal("an ärendehanterare should see Mina ärenden only")
	}
	bjorn := f.ds.StaffBy[demo.StaffHandler]
	want := f.casesOf(f.clinic("Vårdcentralen Centrum").ID, func(c *app.Case) bool { return c.AssigneeID == bjorn })
	if w.myCases.len() != len(want) || len(want) == 0 {
		t.Errorf("Mina ärenden has %d rows, want the %d cases assigned to Björn", w.myCases.len(), len(want))
	}
	for _, r := range w.myCases.rowsForTest() {
		if r.AssigneeID != bjorn {
			t.Errorf("Mina ärenden shows case %s assigned to %s", r.ID, r.AssigneeID)
		}
	}
}

func TestRoles_AuditorSeesNoCaseList(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Fredrik Nordin", "Vårdcentralen Centrum")
	if w.clinicCases != nil || w.myCases != nil {
		t.Error("a granskare must not see a case list")
	}
	if w.tabs == nil || len(w.tabs.Items) != 1 || w.tabs.Items[0].Text != L(textAuditTab) {
		t.Error("a granskare should see the access log, and only it")
	}
	if w.send.Visible() {
		t.Error("a granskare cannot send cases; Skicka ärende should not show")
	}
}

func TestCaseList_ForbiddenShowsSwedishText(t *testing.T) {
	f := newFixture(t, false, nil)
	var auditor app.Staff
	for _, st := range f.ds.Staff {
		if st.ID == f.ds.StaffBy[demo.StaffAuditor] {
			auditor = st
		}
	}
	ctx := context.Background()
	l := newCaseList(caseListDeps{
		ctx: ctx, tasks: &f.ui.tasks, dir: f.store, cases: app.NewCaseService(f.store, app.FixedClock(now)),
		sess: app.Session{Staff: &auditor, ClinicID: f.clinic("Vårdcentralen Centrum").ID},
	}, clinicList)
	f.wait()
	if !l.errText.Visible() || l.errText.Text != L(textForbidden) {
		t.Errorf("error text = %q (visible %v), want %q", l.errText.Text, l.errText.Visible(), L(textForbidden))
	}
	if l.len() != 0 {
		t.Error("a refused list must show no rows")
	}
}

func TestCaseListError_Texts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("list clinic cases X: %w", app.ErrForbidden), L(textForbidden)},
		{fmt.Errorf("list cases: %w", app.ErrNotFound), L(textCasesFailed)},
		{errors.New("disk on fire"), L(textCasesFailed)},
	} {
		if got := caseListError(tc.err); got != tc.want {
			t.Errorf("caseListError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func (l *caseList) rowsForTest() []app.CaseRow {
	out := make([]app.CaseRow, l.len())
	for i := range out {
		out[i] = l.row(i)
	}
	return out
}

func generate(t *testing.T, n int) func(*storage.Store, *demo.Dataset) {
	return func(st *storage.Store, ds *demo.Dataset) {
		err := demo.GenerateThreads(context.Background(), ds, now, n, 200, 7, func(ts []app.Thread) error {
			ds.Threads = append(ds.Threads, ts...)
			return st.ImportThreads(context.Background(), ts)
		})
		if err != nil {
			t.Fatalf("generate: %v", err)
		}
	}
}

// Page mode (the first paint, before the index is built): Visa fler reads
// the next page through RowPage.Next until the end.
func TestCaseList_PageModeVisaFler(t *testing.T) {
	f := newFixture(t, false, nil, generate(t, 400))
	l := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum").clinicCases
	all := f.casesOf(f.clinic("Vårdcentralen Centrum").ID, nil)
	if len(all) <= 2*pageSize {
		t.Fatalf("want more than two pages of cases, have %d", len(all))
	}
	// The index answered; go back to the state of the first paint.
	page, err := f.ui.deps.Cases.ClinicCases(context.Background(), f.ui.work.sess, app.CaseQuery{Limit: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	l.res, l.page = nil, nil
	l.showPage(page, false, nil)
	if l.len() != pageSize || !l.more.Visible() {
		t.Fatalf("first page: %d rows, Visa fler visible %v; want %d and visible", l.len(), l.more.Visible(), pageSize)
	}
	test.Tap(l.more)
	f.wait()
	if l.len() != 2*pageSize {
		t.Fatalf("after Visa fler: %d rows, want %d", l.len(), 2*pageSize)
	}
	for l.more.Visible() {
		test.Tap(l.more)
		f.wait()
	}
	for i, r := range l.rowsForTest() {
		if r.ID != all[i].ID {
			t.Fatalf("row %d is case %s, want %s", i, r.ID, all[i].ID)
		}
	}
	if l.len() != len(all) {
		t.Errorf("after the last page: %d rows, want %d", l.len(), len(all))
	}
}

// Index mode: every case in one table (no paging), filters, search and
// sorting by a tap on a column title.
func TestCaseList_FiltersSearchAndSort(t *testing.T) {
	f := newFixture(t, false, nil, generate(t, 400))
	l := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum").clinicCases
	centrum := f.clinic("Vårdcentralen Centrum").ID
	all := f.casesOf(centrum, nil)
	if l.res == nil || l.len() != len(all) || l.more.Visible() {
		t.Fatalf("index mode: %d rows of %d, Visa fler %v", l.len(), len(all), l.more.Visible())
	}
	if l.count.Text != fmt.Sprintf("%d ärenden", len(all)) {
		t.Errorf("count %q", l.count.Text)
	}
	// Unread only.
	l.unread.SetChecked(true)
	f.wait()
	unread := f.casesOf(centrum, func(c *app.Case) bool { return c.UnreadByStaff })
	if l.len() != len(unread) || l.count.Text != fmt.Sprintf("%d av %d ärenden", len(unread), len(all)) {
		t.Errorf("unread: %d rows (%q), want %d", l.len(), l.count.Text, len(unread))
	}
	l.unread.SetChecked(false)
	// Type: Fråga.
	l.typ.SetSelected(app.KindQuestion.Label())
	f.wait()
	q := f.casesOf(centrum, func(c *app.Case) bool { return c.Kind == app.KindQuestion })
	if l.len() != len(q) {
		t.Errorf("type Fråga: %d rows, want %d", l.len(), len(q))
	}
	l.typ.SetSelected(L(textAllTypes))
	// Assignee: Ej tilldelade.
	l.assignee.SetSelected(L(textUnassigned))
	f.wait()
	un := f.casesOf(centrum, func(c *app.Case) bool { return c.AssigneeID == "" })
	if l.len() != len(un) {
		t.Errorf("unassigned: %d rows, want %d", l.len(), len(un))
	}
	l.assignee.SetSelected(L(textAllAssignees))
	// Search by personnummer.
	var r *app.Resident
	for _, x := range f.ds.Residents {
		if x.ID == f.ds.Persona[demo.AdultSMS] {
			r = x
		}
	}
	test.Type(l.search, r.PNR.String())
	f.wait()
	theirs := f.casesOf(centrum, func(c *app.Case) bool { return c.ResidentID == r.ID })
	if l.len() != len(theirs) || len(theirs) == 0 {
		t.Errorf("search by personnummer: %d rows, want %d", l.len(), len(theirs))
	}
	l.search.SetText("")
	f.wait()
	// Sort by Invånare (tap the title), then turn it around.
	l.sortBy(3)
	f.wait()
	first, last := l.row(0).ResidentName, l.row(l.len()-1).ResidentName
	l.sortBy(3)
	f.wait()
	if l.row(0).ResidentName != last || l.row(l.len()-1).ResidentName != first || first == last {
		t.Errorf("sort by resident: %q…%q, reversed %q…%q", first, last, l.row(0).ResidentName, l.row(l.len()-1).ResidentName)
	}
	if !strings.Contains(test.RenderToMarkup(f.win.Canvas()), "Invånare ▲") {
		t.Error("the sorted column's title should show the order")
	}
}

// The filters of the case list show their whole choice ("Alla
// handläggare", not "Alla …"), with the window at its smallest width too:
// Fyne sizes a select by its placeholder, and three filters reading
// "Alla …" do not say what they filter.
func TestCaseList_FiltersShowTheirWholeChoice(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	l := w.clinicCases
	f.wait()
	for _, size := range []fyne.Size{f.win.Canvas().Size(), f.win.Content().MinSize()} {
		f.win.Resize(size)
		for _, s := range []*widget.Select{l.status, l.typ, l.assignee} {
			for _, o := range test.LaidOutObjects(s) {
				if txt, ok := o.(*canvas.Text); ok && txt.Text != s.Selected {
					t.Errorf("width %.0f: filter %q shows %q", size.Width, s.Selected, txt.Text)
				}
			}
		}
	}
	if got := l.status.Selected; got != "Alla statusar" {
		t.Errorf("status filter %q, want Alla statusar", got)
	}
}

// Issue 18, item 4: Mottagningens ärenden has a Handläggare column with
// the assignee's name, and every column title sorts when tapped: the
// header buttons as the table shows them, Personnummer, Oläst and
// Handläggare included; Invånare sorts on the surname.
func TestCaseList_EveryColumnSortsAndHandlaggareShows(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	l := w.clinicCases
	f.wait()
	col := slices.IndexFunc(l.cols, func(c column) bool { return L(c.title) == "Handläggare" })
	if col < 0 {
		t.Fatal("no Handläggare column in Mottagningens ärenden")
	}
	if w.myCases != nil && slices.ContainsFunc(w.myCases.cols, func(c column) bool { return L(c.title) == "Handläggare" }) {
		t.Error("Mina ärenden needs no Handläggare column")
	}
	names := map[app.ID]string{}
	for _, st := range f.ds.Staff {
		names[st.ID] = st.Name
	}
	for i := 0; i < l.len(); i++ {
		r := l.row(i)
		want := L(textNobodyYet)
		if r.AssigneeID != "" {
			want = names[r.AssigneeID]
		}
		if got := l.cols[col].text(l, &r); got != want {
			t.Errorf("row %d: Handläggare %q, want %q", i, got, want)
		}
	}
	// Tap every header button as the table made it.
	for c := range l.cols {
		hdr := l.table.CreateHeader().(*widget.Button)
		l.table.UpdateHeader(widget.TableCellID{Row: -1, Col: c}, hdr)
		before := l.sort
		test.Tap(hdr)
		f.wait()
		if l.sort != l.sorts[c] || (c > 0 && l.sort == before && l.sorts[c] != before) {
			t.Errorf("column %s: tap gave sort %d, want %d", l.cols[c].title, l.sort, l.sorts[c])
		}
		if l.rev {
			test.Tap(hdr) // back to the natural order for the checks below
			f.wait()
		}
		for i := 1; i < l.len(); i++ {
			a, b := l.row(i-1), l.row(i)
			var bad bool
			switch L(l.cols[c].title) {
			case "Personnummer":
				bad = !b.PNR.IsZero() && (a.PNR.IsZero() || b.PNR.String() < a.PNR.String())
			case "Oläst":
				bad = !a.UnreadByStaff && b.UnreadByStaff
			case "Handläggare":
				bad = (a.AssigneeID == "" && b.AssigneeID != "") || (b.AssigneeID != "" && names[b.AssigneeID] < names[a.AssigneeID])
			}
			if bad {
				t.Errorf("column %s: row %d before row %d out of order", l.cols[c].title, i-1, i)
			}
		}
	}
	// Invånare: surname first.
	inv := slices.IndexFunc(l.cols, func(c column) bool { return L(c.title) == "Invånare" })
	for l.sort != app.SortResident || l.rev {
		l.sortBy(inv)
		f.wait()
	}
	family := map[app.ID]string{}
	for _, r := range f.ds.Residents {
		family[r.ID] = strings.ToLower(r.Register.FamilyName)
	}
	for i := 1; i < l.len(); i++ {
		a, b := family[l.row(i-1).ResidentID], family[l.row(i).ResidentID]
		if !strings.ContainsAny(a+b, "åäöéó") && b < a {
			t.Errorf("Invånare: %q before %q", a, b)
		}
	}
	assertMarkup(t, "arenden_sorted_handlaggare.xml", f.win.Canvas())
	capturePNG(t, f.win, "arenden_handlaggare")
}

func TestWorkspace_SwitchClinicAndSignOut(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	test.Tap(w.switchBtn)
	f.wait()
	s := f.ui.start
	if f.ui.work != nil || !s.choose.Visible() || s.form.Visible() {
		t.Fatal("Byt mottagning should open the clinic choice without asking for the password")
	}
	s.clinicPick.SetSelected("Barn- och ungdomsmottagningen Huskvarna")
	test.Tap(s.proceed)
	if f.ui.work == nil || f.ui.work.clinicName.Text != "Barn- och ungdomsmottagningen Huskvarna" {
		t.Fatal("the new clinic should open")
	}
	test.Tap(f.ui.work.signOut)
	f.wait()
	if f.ui.work != nil || !f.ui.start.form.Visible() || f.win.Content() != f.ui.start.content {
		t.Error("Logga ut should show the sign-in form")
	}
}

// The window locks after the idle time; only the same staff member's
// password opens it, to the same workspace object (nothing lost).
func TestIdleLock_LocksAndUnlocksToTheSameWorkspace(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Björn Ekström", "Vårdcentralen Centrum")
	f.ui.deps.IdleLock = 10 * time.Minute
	f.ui.checkIdle(now.Add(9 * time.Minute))
	if f.ui.lock != nil {
		t.Fatal("locked before the idle time")
	}
	f.ui.checkIdle(now.Add(10 * time.Minute))
	if f.ui.lock == nil || f.win.Content() != f.ui.lock.content {
		t.Fatal("not locked after the idle time")
	}
	if strings.Contains(test.RenderToMarkup(f.win.Canvas()), "Ärende") {
		t.Error("the lock screen must hide the cases")
	}
	assertMarkup(t, "locked.xml", f.win.Canvas())
	l := f.ui.lock
	test.Type(l.password, demo.Password("anna"))
	test.Tap(l.unlock)
	f.wait()
	if f.ui.lock == nil || l.errText.Text != "Fel användarnamn eller lösenord." {
		t.Fatalf("someone else's password unlocked (%q)", l.errText.Text)
	}
	test.Type(l.password, demo.Password("bjorn"))
	test.Tap(l.unlock)
	f.wait()
	if f.ui.lock != nil || f.ui.work != w || f.win.Content() != w.content {
		t.Error("the right password should return to the same workspace")
	}
}

func TestPreselect_OpensTheClinic(t *testing.T) {
	f := newFixture(t, false, &Preselect{Username: "anna", Clinic: 1})
	if f.ui.work == nil || f.ui.work.clinicName.Text != "Vårdcentralen Centrum" {
		t.Fatal("Preselect anna:1 should open Vårdcentralen Centrum")
	}
}

// A tap on a row opens the case in place of the lists; Tillbaka returns.
func TestWorkspace_OpenCaseFromListAndBack(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	l := w.clinicCases
	first := l.row(0)
	l.table.Select(widget.TableCellID{Row: 0, Col: 1})
	f.wait()
	if w.open == nil || w.main.Objects[0] != w.open.content {
		t.Fatal("selecting a row should open the case")
	}
	if w.open.thread == nil || w.open.thread.Case.ID != first.ID {
		t.Fatalf("the open case is not the row's case")
	}
	test.Tap(w.open.back)
	f.wait()
	if w.open != nil || w.main.Objects[0] != w.tabs {
		t.Error("Tillbaka should show the lists again")
	}
}

// Ctrl+N opens Skicka ärende; a sent case shows in the list with a notice.
func TestWorkspace_CtrlNOpensSkickaArende(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	before := w.clinicCases.len()
	typedShortcut(f.win, keyNew)
	if w.sendScr == nil || w.main.Objects[0] != w.sendScr.content {
		t.Fatal("Ctrl+N should open Skicka ärende")
	}
	w.sendScr.onDone(nil)
	f.wait()
	if w.sendScr != nil || !w.notice.Visible() || w.clinicCases.len() != before {
		t.Errorf("after sending: screen %v, notice %v", w.sendScr != nil, w.notice.Visible())
	}
}

// typedShortcut presses a window shortcut.
func typedShortcut(w fyne.Window, s fyne.Shortcut) { canvasShortcut(w.Canvas(), s) }

// canvasShortcut hands s to the canvas's shortcut handler, as the driver
// does when the focused widget does not take it. Fyne 2.8's test canvas
// wraps the software canvas (which embeds a fyne.ShortcutHandler) behind
// an interface that lacks TypedShortcut, so it is reached through the
// exported embedded field.
func canvasShortcut(c fyne.Canvas, s fyne.Shortcut) {
	type shortcutable interface{ TypedShortcut(fyne.Shortcut) }
	if sc, ok := c.(shortcutable); ok {
		sc.TypedShortcut(s)
		return
	}
	inner := reflect.ValueOf(c).Elem().FieldByName("WindowlessCanvas").Interface()
	inner.(shortcutable).TypedShortcut(s)
}

// A resident's reply raises the desktop notification (content-free) and
// the unread badge on Mina ärenden.
func TestWorkspace_ReplyAlertNotifiesAndBadges(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Björn Ekström", "Vårdcentralen Centrum")
	ctx := context.Background()
	// Björn sends a question; the resident answers it.
	var c *app.Case
	for _, tpl := range f.ds.Templates {
		if tpl.ClinicID == w.clinic.ID && tpl.Kind == app.KindQuestion {
			var err error
			c, err = f.svc.SendCase(ctx, w.sess, app.SendRequest{TemplateID: tpl.ID, ResidentID: f.ds.Persona[demo.AdultSMS], Subject: tpl.Subject, Text: tpl.Body})
			if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	f.wait()
	res := app.NewResidentService(f.store, app.FixedClock(now.Add(time.Minute)))
	if err := res.Reply(ctx, c.ResidentID, c.ID, "Tack för beskedet."); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CaseChanged(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	f.wait()
	if len(f.notified) != 1 || strings.Contains(f.notified[0], "Tack") {
		t.Fatalf("notifications: %q", f.notified)
	}
	mine := w.tabs.Items[0].Text
	if !strings.HasPrefix(mine, L(textMyCases)+" (") {
		t.Errorf("Mina ärenden tab %q, want an unread count", mine)
	}
	if w.myCases.row(0).ID != c.ID || !w.myCases.row(0).UnreadByStaff {
		t.Error("the answered case should be first in Mina ärenden, unread")
	}
}

// Each role's tabs, exactly: the role table of shared/DOMAIN.md.
func TestRoles_TabsPerRole(t *testing.T) {
	for _, tc := range []struct {
		staff string
		want  []string
	}{
		{"Anna Lindqvist", []string{L(textClinicCases), L(textMyCases)}},
		{"Björn Ekström", []string{L(textMyCases)}},
		{"David Sundberg", []string{L(textTemplates), L(textGuardiansTab), L(textNotifyTab)}},
		{"Eva Bergström", []string{L(textStaffTab)}},
		{"Fredrik Nordin", []string{L(textAuditTab)}},
	} {
		t.Run(tc.staff, func(t *testing.T) {
			f := newFixture(t, false, nil)
			w := f.open(t, tc.staff, "Vårdcentralen Centrum")
			var got []string
			for _, it := range w.tabs.Items {
				got = append(got, strings.SplitN(it.Text, " (", 2)[0])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("tabs %q, want %q", got, tc.want)
			}
			if caseRole := tc.want[0] == L(textClinicCases) || tc.want[0] == L(textMyCases); w.send.Visible() != caseRole {
				t.Errorf("Skicka ärende visible %v, want %v", w.send.Visible(), caseRole)
			}
		})
	}
}

// recordingTestSender is the app.TestSender the UI test sends through: the
// real SMTP and SMS paths are tested in notify against mailpit and Kannel.
type recordingTestSender struct{ sent []string }

func (r *recordingTestSender) SendTest(_ context.Context, ch app.Channel, address string) error {
	r.sent = append(r.sent, string(ch)+":"+address)
	return nil
}

// "Skicka testavisering" (issue 4): the lokal administratör sends the
// fixed text to a number they type; a bad number is refused at the field
// in Swedish and nothing is sent; without a configured channel it says so.
func TestTestNotify_LocalAdminSendsToATypedNumber(t *testing.T) {
	rec := &recordingTestSender{}
	f := newFixture(t, false, nil)
	f.ui.deps.TestNotify = app.NewNotificationAdmin(rec)
	w := f.open(t, "David Sundberg", "Vårdcentralen Centrum")
	var s *fyne.Container
	for _, it := range w.tabs.Items {
		if it.Text == L(textNotifyTab) {
			s, _ = it.Content.(*fyne.Container)
		}
	}
	if s == nil {
		t.Fatal("no Aviseringar tab for the lokal administratör")
	}
	scr := newTestNotifyScreen(testNotifyDeps{ctx: context.Background(), tasks: &f.ui.tasks, svc: app.NewNotificationAdmin(rec), sess: w.sess})
	test.Type(scr.address, "08-123 456 78")
	test.Tap(scr.send)
	f.wait()
	if len(rec.sent) != 0 || !strings.HasPrefix(scr.result.Text, "Numret är inte ett mobilnummer") {
		t.Fatalf("a landline: sent %v, says %q", rec.sent, scr.result.Text)
	}
	scr.address.SetText("070-174 06 05")
	test.Tap(scr.send)
	f.wait()
	if len(rec.sent) != 1 || rec.sent[0] != "sms:+46701740605" || scr.result.Text != L(textNotifySent) {
		t.Fatalf("sent %v, says %q", rec.sent, scr.result.Text)
	}
	none := newTestNotifyScreen(testNotifyDeps{ctx: context.Background(), tasks: &f.ui.tasks, svc: app.NewNotificationAdmin(nil), sess: w.sess})
	none.channel.SetSelected(L(textNotifyEmail))
	test.Type(none.address, "test@example.com")
	test.Tap(none.send)
	f.wait()
	if none.result.Text != L(textNotifyNoConf) {
		t.Errorf("not configured: %q", none.result.Text)
	}
}
