package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
	"mottagning/storage"
	msync "mottagning/sync"
)

// The sync tests run the real sync.Engine over a connected storage.Store
// (the demo set seeded without the demo mark, which could never connect)
// and a scripted server: down (offline), or answering each pushed op the
// way a test asks (applied, rejected with the server's reason, conflict
// with the server's values and state). Pull answers an empty page.

var errUnreachable = errors.New("dial tcp 127.0.0.1:443: connect: connection refused (test)")

type scriptedServer struct {
	down  atomic.Bool
	store *storage.Store // to answer with the case's state as the server holds it

	mu sync.Mutex
	// answer decides a pushed op; nil or a zero result: applied.
	answer    func(op app.SyncOp) app.OpResult
	residents []app.Resident // found by a lookup
	pushed    []app.SyncOp
	// pages are pulled, in order, each once (answering the cursor asked
	// with); then the empty page.
	pages []*msync.PullResponse
}

func (s *scriptedServer) SyncPush(ctx context.Context, _ string, req *msync.PushRequest) (*msync.PushResponse, error) {
	if s.down.Load() {
		return nil, errUnreachable
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &msync.PushResponse{State: &app.SyncChanges{}}
	for _, op := range req.Ops {
		s.pushed = append(s.pushed, op)
		var r app.OpResult
		if s.answer != nil {
			r = s.answer(op)
		}
		if r.Outcome == "" {
			r = app.OpResult{Outcome: app.OpApplied, Version: op.Base + 1}
		}
		r.ID, r.Kind, r.CaseID, r.At = op.ID, op.Kind, op.CaseID, now
		if r.Outcome == app.OpConflict && op.CaseID != "" {
			// The server's state: its value won, on a newer version.
			th, err := s.store.Thread(ctx, op.CaseID)
			if err != nil {
				return nil, err
			}
			if r.ServerStatus != "" {
				th.Case.Status, th.Case.ClosedAt = r.ServerStatus, time.Time{}
			}
			if r.ServerAssignee != "" {
				th.Case.AssigneeID = r.ServerAssignee
			}
			th.Case.Version = r.Version
			resp.State.Threads = append(resp.State.Threads, app.PulledThread{Thread: *th})
		}
		if r.Outcome == app.OpRejected {
			// The server's state: a refused new case it does not hold
			// (Gone); a case without the refused reply.
			switch op.Kind {
			case app.OpCaseCreate:
				resp.State.Gone = append(resp.State.Gone, op.CaseID)
			case app.OpCaseMessage:
				var m app.Message
				_ = json.Unmarshal(op.Payload, &m)
				th, err := s.store.Thread(ctx, op.CaseID)
				if err != nil {
					return nil, err
				}
				th.Messages = slices.DeleteFunc(th.Messages, func(x app.Message) bool { return x.ID == m.ID })
				resp.State.Threads = append(resp.State.Threads, app.PulledThread{Thread: *th})
			}
		}
		resp.Results = append(resp.Results, r)
	}
	return resp, nil
}

func (s *scriptedServer) SyncPull(_ context.Context, _, cursor string, _ int) (*msync.PullResponse, error) {
	if s.down.Load() {
		return nil, errUnreachable
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pages) > 0 {
		p := *s.pages[0]
		s.pages = s.pages[1:]
		p.After = cursor
		return &p, nil
	}
	next := cursor
	if next == "" {
		next = "7"
	}
	return &msync.PullResponse{After: cursor, Cursor: next, Head: next}, nil
}

func (s *scriptedServer) SyncEvents(context.Context, string, string) (*msync.EventsResponse, error) {
	return &msync.EventsResponse{}, nil
}

func (s *scriptedServer) SyncLookup(_ context.Context, _ string, _ app.ID, pnr string) (*msync.LookupResponse, error) {
	if s.down.Load() {
		return nil, errUnreachable
	}
	for _, r := range s.residents {
		if r.PNR.String() == pnr {
			return &msync.LookupResponse{ResidentID: string(r.ID), Residents: []app.Resident{r}}, nil
		}
	}
	return nil, fmt.Errorf("lookup: %w", app.ErrNotFound)
}

type testTokens struct{}

func (testTokens) Token(context.Context) (string, error) { return "token", nil }
func (testTokens) Invalidate(string)                     {}

// notDemo seeds the demo set without marking the database as demo data.
type notDemo struct{ *storage.Store }

func (notDemo) MarkDemo(context.Context) error { return nil }

type syncFixture struct {
	*fixture
	server *scriptedServer
	eng    *msync.Engine
	ctx    context.Context
}

// newSyncFixture is newFixture for a connected desktop: the window gets
// the engine (Deps.Sync) and sync.Lookup (Deps.Lookup).
func newSyncFixture(t *testing.T) *syncFixture {
	t.Helper()
	test.NewTempApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
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
	f := &fixture{store: st, ds: demo.Build(now)}
	if err := demo.Seed(ctx, notDemo{st}, f.ds); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if err := st.Connect(ctx, "device-test"); err != nil {
		t.Fatalf("connect: %v", err)
	}
	srv := &scriptedServer{store: st}
	srv.down.Store(true)
	f.svc = app.NewCaseService(st, app.FixedClock(now))
	// As the desktop program wires it (sync_main.go).
	eng := msync.New(msync.Options{Replica: st, Remote: srv, Tokens: testTokens{}, DeviceID: st.SyncDevice(),
		Clock: app.FixedClock(now), NoEvents: true, Log: quietLog(), OnChange: f.svc.ServerChanged})
	f.win = test.NewTempWindow(t, nil)
	f.win.Resize(fyne.NewSize(1200, 760))
	f.ui = New(ctx, f.win, Deps{
		Directory: st, Cases: f.svc, Bulk: f.svc, Templates: app.NewTemplateService(st, app.FixedClock(now)),
		Auth: app.NewLocalAuth(st, st, app.FixedClock(now)), Clock: app.FixedClock(now), IdleLock: -1,
		Sync:   eng,
		Lookup: &msync.Lookup{Cases: f.svc, Remote: srv, Tokens: testTokens{}, Store: st},
		Notify: func(title, body string) { f.notified = append(f.notified, title+"|"+body) },
	})
	f.wait()
	return &syncFixture{fixture: f, server: srv, eng: eng, ctx: ctx}
}

// openStill opens the workspace and stops its live following of the
// engine, so that the test decides when the window reads it (syncNow).
func (f *syncFixture) openStill(t *testing.T) *workspaceScreen {
	t.Helper()
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	if w.syncScr == nil {
		t.Fatal("a connected desktop's workspace has no sync view")
	}
	w.syncScr.leave()
	return w
}

// syncNow runs one sync and shows its outcome.
func (f *syncFixture) syncNow(t *testing.T, w *workspaceScreen) error {
	t.Helper()
	err := f.eng.SyncOnce(f.ctx)
	w.syncScr.refresh()
	f.wait()
	return err
}

func (f *syncFixture) anna(t *testing.T) app.Session {
	st := staffByKey(f.fixture, t, demo.StaffReceiver)
	return app.Session{Staff: &st, ClinicID: f.clinic("Vårdcentralen Centrum").ID}
}

// openCaseOf is a case of Centrum with the status wanted.
func (f *syncFixture) openCaseOf(t *testing.T, status app.Status, skip int) app.Case {
	t.Helper()
	cs := f.casesOf(f.clinic("Vårdcentralen Centrum").ID, func(c *app.Case) bool { return c.Status == status })
	if len(cs) <= skip {
		t.Fatalf("no %d cases %s in Centrum", skip+1, status)
	}
	return cs[skip]
}

// labels are the texts of the labels and buttons under o, in order.
func labels(o fyne.CanvasObject) []string {
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.Label:
			out = append(out, x.Text)
		case *widget.Button:
			out = append(out, "["+x.Text+"]")
		case *widget.Card:
			if x.Content != nil {
				walk(x.Content)
			}
		case *container.Scroll:
			walk(x.Content)
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// golden compares the window with a golden; not with UI_PNG, whose
// captures change the theme.
func golden(t *testing.T, name string, w fyne.Window) {
	t.Helper()
	if os.Getenv("UI_PNG") == "" {
		assertMarkup(t, name, w.Canvas())
	}
}

// capture writes the window as PNG into the directory UI_PNG names.
func capture(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	dir := os.Getenv("UI_PNG")
	if dir == "" {
		return
	}
	test.ApplyTheme(t, theme.LightTheme())
	file, err := os.Create(strings.TrimSuffix(dir, "/") + "/" + name + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if err := png.Encode(file, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

// Offline: the bar says so with the engine's Swedish error, counts the
// queued changes, has no last sync yet and shows the first sync's
// progress; nothing is lost, and once the server answers the bar turns
// Online with the time of the sync.
func TestSync_StatusBarOfflineThenOnline(t *testing.T) {
	f := newSyncFixture(t)
	w := f.openStill(t)
	if w.syncScr.bar == nil || !w.syncScr.bar.Visible() {
		t.Fatal("no status bar")
	}
	sess := f.anna(t)
	c := f.openCaseOf(t, app.StatusOngoing, 0)
	if err := f.svc.AddNote(f.ctx, sess, c.ID, "Ringt, inget svar."); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(f.ctx, sess, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.syncNow(t, w); err == nil {
		t.Fatal("sync with the server down should fail")
	}
	s := w.syncScr
	if s.state.Text != L(textOffline) || s.pending.Text != "2 ändringar väntar" || s.lastSync.Text != L(textNeverSynced) {
		t.Errorf("offline bar: %q, %q, %q", s.state.Text, s.pending.Text, s.lastSync.Text)
	}
	if want := msync.Message(errUnreachable); s.errText.Text != want || !s.errText.Visible() || want == "" {
		t.Errorf("offline error %q, want the engine's %q", s.errText.Text, want)
	}
	if !s.firstSync.Visible() || !s.syncNow.Visible() || s.signIn.Visible() {
		t.Errorf("offline: first sync progress %v, Försök nu %v, Logga in igen %v", s.firstSync.Visible(), s.syncNow.Visible(), s.signIn.Visible())
	}
	golden(t, "sync_bar_offline.xml", f.win)
	capture(t, f.win, "sync_bar_offline")

	f.server.down.Store(false)
	if err := f.syncNow(t, w); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if s.state.Text != L(textOnline) || s.pending.Text != L(textNoPending) || s.lastSync.Text != "Senast synkad 09:30" {
		t.Errorf("online bar: %q, %q, %q", s.state.Text, s.pending.Text, s.lastSync.Text)
	}
	if s.errText.Visible() || s.firstSync.Visible() || s.syncNow.Visible() || s.problems.Visible() {
		t.Error("online with nothing wrong: no error, no progress, no Försök nu, no problems")
	}
	if len(f.server.pushed) != 2 || f.server.pushed[0].Kind != app.OpCaseNote || f.server.pushed[1].Kind != app.OpCaseStatus {
		t.Errorf("pushed %d ops, want the note and the status", len(f.server.pushed))
	}
	golden(t, "sync_bar_online.xml", f.win)
	capture(t, f.win, "sync_bar_online")
}

// The bar follows the engine by itself (Subscribe → fyne.Do), with no
// user activity.
func TestSync_StatusBarFollowsTheEngine(t *testing.T) {
	f := newSyncFixture(t)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	defer w.leave()
	c := f.openCaseOf(t, app.StatusOngoing, 0)
	if err := f.svc.AddNote(f.ctx, f.anna(t), c.ID, "Anteckning."); err != nil {
		t.Fatal(err)
	}
	_ = f.eng.SyncOnce(f.ctx)
	want := msync.Message(errUnreachable)
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.wait()
		s := w.syncScr
		if s.state.Text == L(textOffline) && s.pending.Text == L(textOnePending) && s.errText.Text == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bar did not follow the engine: %q, %q, %q", s.state.Text, s.pending.Text, s.errText.Text)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The Ändringar tab lists the queued changes by kind, never by content.
func TestSync_PendingChangesAreListedByKind(t *testing.T) {
	f := newSyncFixture(t)
	w := f.openStill(t)
	sess := f.anna(t)
	c := f.openCaseOf(t, app.StatusOngoing, 0)
	const secret = "Hemligt innehåll i anteckningen"
	if err := f.svc.AddNote(f.ctx, sess, c.ID, secret); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Reply(f.ctx, sess, c.ID, "Hej! Provsvaret är klart."); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(f.ctx, sess, c.ID); err != nil {
		t.Fatal(err)
	}
	_ = f.syncNow(t, w)
	w.showChanges()
	if w.tabs.Selected().Content != w.syncScr.changes {
		t.Fatal("Visa ändringar should show the Ändringar tab")
	}
	got := strings.Join(labels(w.syncScr.pendingBox), "\n")
	// One op per change the staff member made: the reply is one message
	// op (the server puts the case back to Väntar på invånaren itself).
	for _, want := range []string{"Anteckning", "Svar i ärende", "Status: Avslutad"} {
		if !strings.Contains(got, want) {
			t.Errorf("pending list %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "Väntar på invånaren") {
		t.Errorf("pending list %q shows a status op the staff member did not make", got)
	}
	if w.syncScr.pendingHead.Text != "Väntar på att skickas (3)" {
		t.Errorf("pending heading %q", w.syncScr.pendingHead.Text)
	}
	markup := test.RenderToMarkup(f.win.Canvas())
	if strings.Contains(markup, secret) || strings.Contains(markup, "Provsvaret") {
		t.Error("the list of changes must not show their content")
	}
	capture(t, f.win, "sync_pending_real")
}

// A rejected change shows the server's reason and leaves the list with
// Ta bort ur listan; a lost conflict shows both values, and Använd mitt
// värde igen makes my value again on the server's new version.
func TestSync_RejectedAndConflicts(t *testing.T) {
	f := newSyncFixture(t)
	w := f.openStill(t)
	sess := f.anna(t)
	bjorn := staffByKey(f.fixture, t, demo.StaffHandler)
	noted := f.openCaseOf(t, app.StatusOngoing, 0)
	closed := f.openCaseOf(t, app.StatusOngoing, 1)
	assigned := f.openCaseOf(t, app.StatusOngoing, 2)
	if err := f.svc.AddNote(f.ctx, sess, noted.ID, "Anteckning."); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(f.ctx, sess, closed.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Assign(f.ctx, sess, assigned.ID, bjorn.ID); err != nil {
		t.Fatal(err)
	}
	f.server.down.Store(false)
	f.server.answer = func(op app.SyncOp) app.OpResult {
		switch op.Kind {
		case app.OpCaseNote:
			return app.Rejected(&op, fmt.Errorf("add note: %w", app.ErrForbidden), now)
		case app.OpCaseStatus:
			return app.OpResult{Outcome: app.OpConflict, ServerStatus: app.StatusOngoing, Version: op.Base + 5, Mine: op.Payload}
		case app.OpCaseAssign:
			return app.OpResult{Outcome: app.OpConflict, ServerAssignee: sess.Staff.ID, ServerStatus: app.StatusOngoing, Version: op.Base + 3, Mine: op.Payload}
		}
		return app.OpResult{}
	}
	if err := f.syncNow(t, w); err != nil {
		t.Fatal(err)
	}
	f.wait()
	s := w.syncScr
	if s.problems.Text != "1 avvisad · 2 konflikter" || !s.problems.Visible() || !s.showBtn.Visible() {
		t.Errorf("bar problems %q (visible %v)", s.problems.Text, s.problems.Visible())
	}
	test.Tap(s.showBtn)
	rejected := strings.Join(labels(s.rejectedBox), "\n")
	if !strings.Contains(rejected, "Anteckning") || !strings.Contains(rejected, app.RejectReason("forbidden", nil)) ||
		!strings.Contains(rejected, "["+L(textDismiss)+"]") {
		t.Errorf("rejected list %q", rejected)
	}
	conflicts := labels(s.conflictsBox)
	for _, want := range []string{"Serverns värde: Pågående", "Ditt värde: Avslutad",
		"Serverns värde: Anna Lindqvist", "Ditt värde: Björn Ekström", "[" + L(textUseServer) + "]", "[" + L(textUseMine) + "]"} {
		if !slices.Contains(conflicts, want) {
			t.Errorf("conflicts %q lack %q", conflicts, want)
		}
	}
	golden(t, "sync_changes.xml", f.win)
	capture(t, f.win, "sync_changes")

	// Ta bort ur listan.
	f.server.answer = nil
	test.Tap(findButton(t, s.rejectedBox, L(textDismiss)))
	f.wait()
	if len(f.eng.Status().Rejected) != 0 || s.rejectedHead.Text != "Avvisade ändringar (0)" {
		t.Errorf("after Ta bort ur listan: %d rejected, heading %q", len(f.eng.Status().Rejected), s.rejectedHead.Text)
	}
	// Använd mitt värde igen on the status conflict: closed again, on
	// the server's version.
	th, err := f.store.Thread(f.ctx, closed.ID)
	if err != nil || th.Case.Status != app.StatusOngoing {
		t.Fatalf("the server's state was not applied: %v %v", err, th.Case.Status)
	}
	test.Tap(findButton(t, s.conflictsBox, L(textUseMine)))
	f.wait()
	ops, err := f.store.PendingOps(f.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Kind != app.OpCaseStatus || ops[0].CaseID != closed.ID || ops[0].Base != th.Case.Version {
		t.Fatalf("after Använd mitt värde igen: ops %+v, want one status op on version %d", ops, th.Case.Version)
	}
	var ch app.StatusChange
	if err := json.Unmarshal(ops[0].Payload, &ch); err != nil || ch.Status != app.StatusClosed {
		t.Errorf("re-applied status %v", ch.Status)
	}
	if n := len(f.eng.Status().Conflicts); n != 1 || s.conflictsHead.Text != "Konflikter (1)" {
		t.Errorf("after re-applying: %d conflicts, heading %q", n, s.conflictsHead.Text)
	}
	// Använd serverns värde on the assignee: dismissed, nothing queued.
	test.Tap(findButton(t, s.conflictsBox, L(textUseServer)))
	f.wait()
	if n := len(f.eng.Status().Conflicts); n != 0 || !slices.Contains(labels(s.conflictsBox), L(textConflictsNone)) {
		t.Errorf("after Använd serverns värde: %d conflicts", n)
	}
	if ops, _ := f.store.PendingOps(f.ctx, 0); len(ops) != 1 {
		t.Errorf("Använd serverns värde queued %d ops", len(ops)-1)
	}
}

func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found != nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == text {
				found = x
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	if found == nil {
		t.Fatalf("no button %q", text)
	}
	return found
}

// Skicka ärende on a connected desktop: a resident never seen here is
// fetched from the server; offline the field says that it needs the
// server (and a resident on this desktop is found offline as usual).
func TestSync_LookupOfUnseenResident(t *testing.T) {
	f := newSyncFixture(t)
	w := f.openStill(t)
	used := map[personnummer.Number]bool{}
	for _, res := range f.ds.Residents {
		used[res.PNR] = true
	}
	var unknown personnummer.Number
	for _, n := range demo.TestNumbers() {
		if !used[n] && n.AgeOn(now) > 18 {
			unknown = n
			break
		}
	}
	w.showSend()
	s := w.sendScr
	test.Type(s.pnr, unknown.String())
	f.wait()
	if s.pnrMsg.Text != L(textResidentOffline) || s.panel.Visible() {
		t.Errorf("unseen resident offline: %q", s.pnrMsg.Text)
	}
	if want := msync.Message(msync.ErrResidentOffline); L(textResidentOffline) != want {
		t.Errorf("textResidentOffline differs from sync.Message: %q", want)
	}
	capture(t, f.win, "sync_lookup_offline")
	// A resident on this desktop, offline.
	s.pnr.SetText("")
	test.Type(s.pnr, personaResident(f.fixture, t, demo.AdultSMS).PNR.String())
	f.wait()
	if !s.panel.Visible() || s.name.Text != "Karin Johansson" {
		t.Errorf("known resident offline: panel %v, name %q, message %q", s.panel.Visible(), s.name.Text, s.pnrMsg.Text)
	}
	// Online: fetched from the server.
	r := *personaResident(f.fixture, t, demo.AdultSMS)
	r.ID, r.PNR, r.Register.GivenName, r.Register.FamilyName = app.NewID(now), unknown, "Nils", "Nyström"
	f.server.residents = []app.Resident{r}
	f.server.down.Store(false)
	s.pnr.SetText("")
	test.Type(s.pnr, unknown.String())
	f.wait()
	if !s.panel.Visible() || s.name.Text != "Nils Nyström" {
		t.Errorf("unseen resident online: panel %v, name %q, message %q", s.panel.Visible(), s.name.Text, s.pnrMsg.Text)
	}
}

// Massutskick on a connected desktop: an unseen recipient offline is
// marked as needing the server; online it is fetched and checked.
func TestSync_BulkCheckOfUnseenResident(t *testing.T) {
	f := newSyncFixture(t)
	w := f.openStill(t)
	used := map[personnummer.Number]bool{}
	for _, res := range f.ds.Residents {
		used[res.PNR] = true
	}
	var unknown personnummer.Number
	for _, n := range demo.TestNumbers() {
		if !used[n] && n.AgeOn(now) > 18 {
			unknown = n
			break
		}
	}
	w.showBulk()
	b := w.bulkScr
	b.list.SetText(personaResident(f.fixture, t, demo.AdultSMS).PNR.String() + "\n" + unknown.String())
	test.Tap(b.check)
	f.wait()
	cell := func(row, col int) string { s, _ := b.cellText(row, col); return s }
	if rows, cols := b.tableSize(); rows != 2 || cell(1, cols-1) != "Kräver anslutning" || cell(0, 2) != "Karin Johansson" {
		t.Errorf("offline report: %d rows, row 2 %q", rows, cell(1, cols-1))
	}
	r := *personaResident(f.fixture, t, demo.AdultSMS)
	r.ID, r.PNR, r.Register.GivenName, r.Register.FamilyName = app.NewID(now), unknown, "Nils", "Nyström"
	f.server.residents = []app.Resident{r}
	f.server.down.Store(false)
	b.list.SetText(b.list.Text + "\n")
	test.Tap(b.check)
	f.wait()
	if rows, _ := b.tableSize(); rows != 2 || cell(1, 2) != "Nils Nyström" {
		t.Errorf("online report: %d rows, row 2 %q", rows, cell(1, 2))
	}
}

// fakeSync is a SyncStatus in states the real engine does not reach on
// demand: a first sync under way, a sign-in needed, fixed times.
type fakeSync struct {
	st  msync.Status
	ops []app.SyncOp
}

func (f *fakeSync) Status() msync.Status { return f.st }
func (f *fakeSync) Subscribe() (<-chan struct{}, func()) {
	return make(chan struct{}), func() {}
}
func (f *fakeSync) Pending(context.Context, int) ([]app.SyncOp, error) { return f.ops, nil }
func (f *fakeSync) Dismiss(context.Context, app.ID, string) error      { return nil }
func (f *fakeSync) Kick()                                              {}
func (f *fakeSync) CaseChanged(app.ID, uint64) bool                    { return false }

// The first sync shows its progress; a sign-in the server wants shows
// Logga in igen; the queued changes, with the time each was made.
func TestSync_FirstSyncSignInAndPendingList(t *testing.T) {
	f := newFixture(t, false, nil)
	fs := &fakeSync{}
	f.ui.deps.Sync = fs
	fs.st = msync.Status{FirstSync: true, Progress: 0.4, Pending: 203, SignInNeeded: true, Online: true,
		LastError: msync.Message(msync.ErrSignInNeeded)}
	kinds := []app.OpKind{app.OpCaseCreate, app.OpCaseMessage, app.OpCaseNote, app.OpCaseStatus, app.OpCaseAssign,
		app.OpCaseRead, app.OpAccessRecord, app.OpTemplatePut, app.OpAttachmentPut}
	for i, k := range kinds {
		op := app.SyncOp{ID: app.NewOpID(), Kind: k, MadeAt: now.Add(-time.Duration(len(kinds)-i) * time.Minute)}
		if k == app.OpCaseStatus {
			op.Payload, _ = json.Marshal(app.StatusChange{Status: app.StatusClosed})
		}
		if k == app.OpCaseCreate {
			op.MadeAt = now.Add(-26 * time.Hour)
		}
		fs.ops = append(fs.ops, op)
	}
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	s := w.syncScr
	if !s.firstSync.Visible() || s.progress.Value != 0.4 || !s.signIn.Visible() || s.syncNow.Visible() {
		t.Errorf("first sync %v (%.1f), Logga in igen %v", s.firstSync.Visible(), s.progress.Value, s.signIn.Visible())
	}
	if s.pending.Text != "203 ändringar väntar" {
		t.Errorf("pending %q", s.pending.Text)
	}
	golden(t, "sync_bar_signin.xml", f.win)
	capture(t, f.win, "sync_bar_signin")
	w.showChanges()
	got := labels(s.pendingBox)
	want := []string{"Nytt ärende", "Gjord 11 mars 2025 07:30", "Svar i ärende", "Gjord 09:22", "Anteckning", "Gjord 09:23",
		"Status: Avslutad", "Gjord 09:24", "Tilldelning", "Gjord 09:25", "Läst", "Gjord 09:26", "Åtkomstlogg", "Gjord 09:27",
		"Mall", "Gjord 09:28", "Bilaga", "Gjord 09:29", "Visar de 9 äldsta av 203."}
	if !slices.Equal(got, want) {
		t.Errorf("pending list\n%q\nwant\n%q", got, want)
	}
	golden(t, "sync_pending.xml", f.win)
	capture(t, f.win, "sync_pending")
	// Logga in igen goes back to the sign-in screen.
	test.Tap(s.signIn)
	if f.ui.work != nil || f.win.Content() != f.ui.start.content {
		t.Error("Logga in igen should show the sign-in screen")
	}
}

// Standalone: no status bar and no Ändringar tab.
func TestSync_StandaloneHasNoStatusBar(t *testing.T) {
	f := newFixture(t, false, nil)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	if w.syncScr != nil {
		t.Error("standalone workspace has a sync view")
	}
	for _, it := range w.tabs.Items {
		if it.Text == L(textChangesTab) {
			t.Error("standalone workspace has the Ändringar tab")
		}
	}
}

// The texts the window translates from sync.Message and app.RejectReason
// are the ones they make, and L finds their ids from the Swedish text.
func TestSync_TextsMatchSyncAndApp(t *testing.T) {
	loadTables()
	for _, err := range []error{msync.ErrResidentOffline, msync.ErrPinMismatch, msync.ErrSignInNeeded,
		msync.ErrFirstSignInOffline, errUnreachable, &apiErr{500}} {
		m := msync.Message(err)
		if id, ok := appTextIDs[m]; !ok || !slices.Contains(syncErrorTexts, id) {
			t.Errorf("sync.Message(%v) = %q is not a text of syncErrorTexts (id %q)", err, m, id)
		}
	}
	for code, id := range rejectTexts {
		if got := app.RejectReason(code, nil); got != svTexts[id] || appTextIDs[got] != id {
			t.Errorf("app.RejectReason(%q) = %q, rejectTexts has %q = %q", code, got, id, svTexts[id])
		}
	}
	b := app.BlockLoginLocked
	if got, want := rejectText(&app.OpResult{Code: "unreachable", Blocks: []app.BlockReason{b}}), app.RejectReason("unreachable", []app.BlockReason{b}); got != want {
		t.Errorf("unreachable reason %q, want app's %q", got, want)
	}
	for k := range map[app.OpKind]bool{app.OpCaseCreate: true, app.OpCaseMessage: true, app.OpCaseNote: true, app.OpCaseStatus: true,
		app.OpCaseAssign: true, app.OpCaseRead: true, app.OpAccessRecord: true, app.OpTemplatePut: true, app.OpAttachmentPut: true} {
		if opKindText(k) == L(textOpOther) {
			t.Errorf("op kind %s has no name", k)
		}
	}
}

type apiErr struct{ code int }

func (e *apiErr) Error() string   { return fmt.Sprintf("status %d", e.code) }
func (e *apiErr) StatusCode() int { return e.code }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
