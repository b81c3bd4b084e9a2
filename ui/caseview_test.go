package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
	"mottagning/export"
)

// The case-view tests open a view straight on a demo case (the lead wires
// it into the lists), over the real bbolt store and CaseService.

type savedFile struct {
	name string
	data []byte
}

type caseViewFixture struct {
	*fixture
	v       *caseView
	id      app.ID
	clinic  app.Clinic
	saved   []savedFile
	changed []app.Case
	closed  int
}

// replyFunc is a ReplySource made of a function, for a clinic without
// standard replies or a failing read.
type replyFunc func(ctx context.Context, clinicID app.ID) ([]app.MessageTemplate, error)

func (f replyFunc) Templates(ctx context.Context, clinicID app.ID) ([]app.MessageTemplate, error) {
	return f(ctx, clinicID)
}

// standardReplies are the demo set's standardsvar of a clinic, by name.
func (f *caseViewFixture) standardReplies(t *testing.T) []app.MessageTemplate {
	t.Helper()
	var out []app.MessageTemplate
	for _, tpl := range f.ds.Templates {
		if tpl.ClinicID == f.clinic.ID && tpl.Kind == kindStandardReply {
			out = append(out, tpl)
		}
	}
	if len(out) < 2 {
		t.Skipf("the demo set has %d standard replies in %s; the test needs two", len(out), f.clinic.Name)
	}
	slices.SortFunc(out, func(a, b app.MessageTemplate) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// openCase shows the case view of the first demo case of clinic that pick
// accepts, as the staff member with the demo key staffKey.
func openCase(t *testing.T, staffKey, clinic string, pick func(c *app.Case) bool, opts ...func(*caseViewDeps)) *caseViewFixture {
	t.Helper()
	f := &caseViewFixture{fixture: newFixture(t, false, nil)}
	f.clinic = f.fixture.clinic(clinic)
	var th *app.Thread
	for i := range f.ds.Threads {
		if c := &f.ds.Threads[i].Case; c.ClinicID == f.clinic.ID && pick(c) {
			th = &f.ds.Threads[i]
			break
		}
	}
	if th == nil {
		t.Fatalf("no demo case in %s fits", clinic)
	}
	f.id = th.Case.ID
	var staff app.Staff
	for _, s := range f.ds.Staff {
		if s.ID == f.ds.StaffBy[staffKey] {
			staff = s
		}
	}
	var name, pnr string
	for _, r := range f.ds.Residents {
		if r.ID == th.Case.ResidentID {
			name, pnr = r.Register.FullName(), r.PNR.String()
		}
	}
	d := caseViewDeps{
		ctx: context.Background(), tasks: &f.ui.tasks, cases: app.NewCaseService(f.store, app.FixedClock(now)),
		dir: f.store, replies: f.store, sess: app.Session{Staff: &staff, ClinicID: f.clinic.ID}, clinic: f.clinic,
		residentName: name, pnr: pnr,
		save:      func(n string, d []byte) { f.saved = append(f.saved, savedFile{n, d}) },
		onClose:   func() { f.closed++ },
		onChanged: func(c app.Case) { f.changed = append(f.changed, c) },
	}
	for _, o := range opts {
		o(&d)
	}
	f.v = newCaseView(d, f.id)
	f.win.SetContent(f.v.content)
	f.wait()
	return f
}

func (f *caseViewFixture) stored(t *testing.T) *app.Thread {
	t.Helper()
	th, err := f.store.Thread(context.Background(), f.id)
	if err != nil {
		t.Fatalf("read thread: %v", err)
	}
	return th
}

func (f *caseViewFixture) entries(t *testing.T, action app.AccessAction) []app.AccessEntry {
	t.Helper()
	all, err := f.store.Entries(context.Background(), f.clinic.ID, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatalf("access log: %v", err)
	}
	var out []app.AccessEntry
	for _, e := range all {
		if e.Action == action && e.CaseID == f.id {
			out = append(out, e)
		}
	}
	return out
}

func (f *caseViewFixture) markup() string { return test.RenderToMarkup(f.win.Canvas()) }

// typeReply replaces the reply field's text the way typing does.
func (f *caseViewFixture) typeReply(text string) {
	f.v.reply.SetText("")
	test.Type(f.v.reply, text)
}

func subject(s string) func(*app.Case) bool { return func(c *app.Case) bool { return c.Subject == s } }

// The thread shows oldest first with author, time and, for staff
// messages, whether the resident has read them.
func TestCaseView_ThreadWithAuthorsTimesAndReadStatus(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Intyg för sjukskrivning"))
	v := f.v
	if v.thread == nil || !v.body.Visible() {
		t.Fatalf("the case should show; banner %q", v.banner.Text)
	}
	th := f.stored(t)
	if got := len(v.messages.Objects); got != len(th.Messages) {
		t.Errorf("thread shows %d entries, want %d messages", got, len(th.Messages))
	}
	m := f.markup()
	first, reply := th.Messages[0], th.Messages[1]
	for _, want := range []string{
		"Intyg för sjukskrivning", app.StatusOngoing.Label(), "Beställ intyg – Invånaren kan svara",
		app.StartedByResident.Label(), "Lars Andersson", "Björn Ekström",
		"Invånaren", export.DateTime(first.At), export.DateTime(reply.At), export.TextUnread,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("case view lacks %q", want)
		}
	}
	if strings.Index(m, first.Text) > strings.Index(m, reply.Text) {
		t.Error("messages should show oldest first")
	}
	if n := len(f.entries(t, app.AccessOpenCase)); n != 1 {
		t.Errorf("opening the case logged %d entries, want 1", n)
	}
	assertMarkup(t, "caseview_thread.xml", f.win.Canvas())
}

func TestCaseView_ReadByResidentIsShown(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Ditt provsvar"))
	msg := f.stored(t).Messages[0]
	if msg.ReadByResident.IsZero() {
		t.Fatal("the demo's closed information case should be read")
	}
	want := "Läst av invånaren " + export.DayTime(msg.ReadByResident, msg.At)
	if !strings.Contains(f.markup(), want) {
		t.Errorf("case view lacks %q", want)
	}
}

// R5: staff see that a guardian wrote in proxy mode.
func TestR5_CaseView_GuardianAuthor(t *testing.T) {
	f := openCase(t, demo.StaffChildClinic, "Barn- och ungdomsmottagningen Huskvarna", subject("Utslag på armarna"))
	if m := f.markup(); strings.Count(m, app.StartedByGuardian.Label()) < 2 {
		t.Error("the guardian should show as author and as who started the case")
	}
	// Issue 18, item 4: which guardian wrote.
	th := f.stored(t)
	var name string
	for _, m := range th.Messages {
		if m.Author == app.AuthorGuardian {
			for _, r := range f.ds.Residents {
				if r.ID == m.AuthorID {
					name = r.Register.FullName()
				}
			}
		}
	}
	if name == "" {
		t.Fatal("the demo case has no message by a guardian")
	}
	if m := f.markup(); !strings.Contains(m, app.StartedByGuardian.Label()+": "+name) {
		t.Errorf("the thread does not name the guardian %q", name)
	}
}

// R16: information cases cannot be answered by the resident, questions can.
func TestR16_CaseView_KindSaysWhetherResidentCanAnswer(t *testing.T) {
	for _, tc := range []struct {
		subject, want string
	}{
		{"Ditt provsvar", "Information – Invånaren kan inte svara"},
		{"Hur mår du efter besöket?", "Fråga – Invånaren kan svara"},
	} {
		f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject(tc.subject))
		if f.v.kind.Text != tc.want {
			t.Errorf("%s: kind %q, want %q", tc.subject, f.v.kind.Text, tc.want)
		}
	}
}

// R16: a reply to a question waits for the resident.
func TestR16_CaseView_ReplyToQuestionWaitsForResident(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", func(c *app.Case) bool {
		return c.Kind == app.KindQuestion && c.Status == app.StatusOngoing
	})
	before := len(f.stored(t).Messages)
	f.typeReply("Skönt att höra! Hör av dig om något ändras.")
	test.Tap(f.v.send)
	f.wait()
	th := f.stored(t)
	if len(th.Messages) != before+1 {
		t.Fatalf("store has %d messages, want %d", len(th.Messages), before+1)
	}
	last := th.Messages[len(th.Messages)-1]
	if last.Author != app.AuthorStaff || last.AuthorID != f.ds.StaffBy[demo.StaffReceiver] || last.Text != "Skönt att höra! Hör av dig om något ändras." {
		t.Errorf("stored reply = %+v", last)
	}
	if th.Case.Status != app.StatusWaiting {
		t.Errorf("status %s, want %s", th.Case.Status.Label(), app.StatusWaiting.Label())
	}
	if f.v.status.Text != app.StatusWaiting.Label() || f.v.reply.Text != "" {
		t.Errorf("after sending: status %q, reply field %q; want %q and empty", f.v.status.Text, f.v.reply.Text, app.StatusWaiting.Label())
	}
	if len(f.v.messages.Objects) != before+1 || !strings.Contains(f.markup(), export.TextUnread) {
		t.Error("the new reply should show, not yet read")
	}
	if len(f.changed) != 1 || f.changed[0].Status != app.StatusWaiting {
		t.Errorf("onChanged got %v, want the case once, Väntar", f.changed)
	}
}

func TestCaseView_CtrlEnterSends(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	before := len(f.stored(t).Messages)
	f.typeReply("Vi har flyttat din tid.")
	f.v.reply.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	f.wait()
	if got := len(f.stored(t).Messages); got != before+1 {
		t.Errorf("Ctrl+Enter: store has %d messages, want %d", got, before+1)
	}
	// Another shortcut stays with the entry.
	f.v.reply.TypedShortcut(&fyne.ShortcutSelectAll{})
	f.wait()
	if got := len(f.stored(t).Messages); got != before+1 {
		t.Error("Ctrl+A must not send")
	}
}

func TestCaseView_EmptyReplyIsRefusedAtTheField(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	before := f.stored(t)
	f.typeReply("  \n ")
	test.Tap(f.v.send)
	f.wait()
	if !f.v.replyErr.Visible() || f.v.replyErr.Text != L(cvEmptyReply) {
		t.Errorf("field message %q (visible %v), want %q", f.v.replyErr.Text, f.v.replyErr.Visible(), L(cvEmptyReply))
	}
	f.v.mode.SetSelected(L(cvModeNote))
	test.Tap(f.v.note)
	f.wait()
	if f.v.replyErr.Text != L(cvEmptyNote) {
		t.Errorf("empty note: field message %q, want %q", f.v.replyErr.Text, L(cvEmptyNote))
	}
	after := f.stored(t)
	if len(after.Messages) != len(before.Messages) || len(after.Notes) != len(before.Notes) {
		t.Error("an empty text must write nothing")
	}
	f.v.mode.SetSelected(L(cvModeReply))
	test.Tap(f.v.send)
	f.wait()
	assertMarkup(t, "caseview_empty_reply.xml", f.win.Canvas())
	test.Type(f.v.reply, "Hej")
	if f.v.replyErr.Visible() {
		t.Error("typing should clear the field message")
	}
}

func TestCaseView_NoteIsStoredAndShownAsInternal(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	before := f.stored(t)
	f.v.mode.SetSelected(L(cvModeNote))
	f.typeReply("Ringde invånaren, tiden flyttad till tisdag.")
	test.Tap(f.v.note)
	f.wait()
	th := f.stored(t)
	if len(th.Notes) != len(before.Notes)+1 || len(th.Messages) != len(before.Messages) {
		t.Fatalf("notes %d→%d, messages %d→%d; want one note more and no message",
			len(before.Notes), len(th.Notes), len(before.Messages), len(th.Messages))
	}
	if n := th.Notes[len(th.Notes)-1]; n.Text != "Ringde invånaren, tiden flyttad till tisdag." || n.StaffID != f.ds.StaffBy[demo.StaffReceiver] {
		t.Errorf("stored note = %+v", n)
	}
	if th.Case.Status != before.Case.Status {
		t.Errorf("a note changed the status to %s", th.Case.Status.Label())
	}
	if m := f.markup(); !strings.Contains(m, export.TextNote) || !strings.Contains(m, "Ringde invånaren") {
		t.Error("the note should show, marked as internal")
	}
	assertMarkup(t, "caseview_note.xml", f.win.Canvas())
}

func TestCaseView_CloseRefusesReplyThenReopen(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	if f.v.closeBtn.Text != L(cvCloseCase) {
		t.Fatalf("button %q, want %q", f.v.closeBtn.Text, L(cvCloseCase))
	}
	test.Tap(f.v.closeBtn)
	f.wait()
	if st := f.stored(t).Case.Status; st != app.StatusClosed {
		t.Fatalf("status %s after Avsluta ärende", st.Label())
	}
	if f.v.closeBtn.Text != L(cvReopenCase) || f.v.status.Text != app.StatusClosed.Label() {
		t.Errorf("after closing: button %q, status %q", f.v.closeBtn.Text, f.v.status.Text)
	}
	before := len(f.stored(t).Messages)
	f.typeReply("Ett svar för sent.")
	test.Tap(f.v.send)
	f.wait()
	if f.v.replyErr.Text != L(cvClosedReply) || !f.v.replyErr.Visible() {
		t.Errorf("reply to a closed case: field message %q, want %q", f.v.replyErr.Text, L(cvClosedReply))
	}
	if len(f.stored(t).Messages) != before {
		t.Error("a reply to a closed case must not be stored")
	}
	assertMarkup(t, "caseview_closed.xml", f.win.Canvas())

	test.Tap(f.v.closeBtn)
	f.wait()
	if st := f.stored(t).Case.Status; st != app.StatusOngoing {
		t.Errorf("status %s after Öppna igen, want %s", st.Label(), app.StatusOngoing.Label())
	}
	if f.v.closeBtn.Text != L(cvCloseCase) {
		t.Errorf("after reopening the button says %q", f.v.closeBtn.Text)
	}
	if len(f.changed) != 2 {
		t.Errorf("onChanged called %d times, want 2 (close, reopen)", len(f.changed))
	}
}

// A reply the service refuses as a conflict (closed meanwhile, elsewhere)
// shows the same text at the field.
func TestCaseView_ClosedElsewhereShowsClosedText(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	err := f.store.UpdateThread(context.Background(), f.id, app.Write{}, func(th *app.Thread) error {
		th.Case.Status, th.Case.ClosedAt = app.StatusClosed, now
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.typeReply("Hej")
	test.Tap(f.v.send)
	f.wait()
	if f.v.replyErr.Text != L(cvClosedReply) {
		t.Errorf("field message %q, want %q", f.v.replyErr.Text, L(cvClosedReply))
	}
	if f.v.closeBtn.Text != L(cvReopenCase) {
		t.Error("the view should show the case as it now is: closed")
	}
}

// Role table: an ärendemottagare assigns and reassigns.
func TestRoles_CaseView_ReceiverAssigns(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", func(c *app.Case) bool { return c.Status == app.StatusNew })
	if !f.v.assign.Visible() {
		t.Fatal("Tilldela… should show for an ärendemottagare")
	}
	bjorn := "Björn Ekström · Distriktsläkare"
	if !slices.Contains(f.v.assign.Options, bjorn) || slices.ContainsFunc(f.v.assign.Options, func(s string) bool {
		return strings.HasPrefix(s, "Fredrik") || strings.HasPrefix(s, "Cecilia")
	}) {
		t.Errorf("assignees %q: want the clinic's case staff only", f.v.assign.Options)
	}
	f.v.assign.SetSelected(bjorn)
	f.wait()
	c := f.stored(t).Case
	if c.AssigneeID != f.ds.StaffBy[demo.StaffHandler] || c.Status != app.StatusOngoing {
		t.Errorf("stored assignee %s, status %s; want Björn, Pågående", c.AssigneeID, c.Status.Label())
	}
	if f.v.assignee.Text != "Björn Ekström" || f.v.assign.Selected != "" {
		t.Errorf("header says %q, select %q; want Björn and the placeholder back", f.v.assignee.Text, f.v.assign.Selected)
	}
	f.v.assign.SetSelected("Anna Lindqvist · Sjuksköterska")
	f.wait()
	if got := f.stored(t).Case.AssigneeID; got != f.ds.StaffBy[demo.StaffReceiver] {
		t.Errorf("reassign: stored assignee %s, want Anna", got)
	}
}

// Role table: an ärendehanterare does not assign; the service refuses even
// when the view is bypassed, and the view says so in Swedish.
func TestRoles_CaseView_HandlerAssignIsRefused(t *testing.T) {
	f := openCase(t, demo.StaffHandler, "Vårdcentralen Centrum", subject("Intyg för sjukskrivning"))
	if f.v.assign.Visible() {
		t.Error("Tilldela… should not show for an ärendehanterare")
	}
	f.v.assign.SetSelected(f.v.assign.Options[0])
	f.wait()
	if !f.v.banner.Visible() || f.v.banner.Text != L(cvNotAllowed) {
		t.Errorf("banner %q (visible %v), want %q", f.v.banner.Text, f.v.banner.Visible(), L(cvNotAllowed))
	}
	if got := f.stored(t).Case.AssigneeID; got != f.ds.StaffBy[demo.StaffHandler] {
		t.Error("a refused assignment must not change the assignee")
	}
}

// Role table: an ärendehanterare handles only the cases assigned to them.
func TestRoles_CaseView_HandlerCannotOpenOthersCase(t *testing.T) {
	f := openCase(t, demo.StaffHandler, "Vårdcentralen Centrum", subject("Omboka tid")) // assigned to Anna
	if f.v.banner.Text != L(textForbidden) || !f.v.banner.Visible() {
		t.Errorf("banner %q, want %q", f.v.banner.Text, L(textForbidden))
	}
	if f.v.body.Visible() || f.v.exportBtn.Visible() || f.v.closeBtn.Visible() {
		t.Error("a refused case must show no thread and no actions")
	}
	if m := f.markup(); strings.Contains(m, "Hej, kan jag flytta") {
		t.Error("a refused case must not show its messages")
	}
	if len(f.entries(t, app.AccessOpenCase)) != 0 {
		t.Error("a refused opening must not be logged as an access")
	}
	assertMarkup(t, "caseview_forbidden.xml", f.win.Canvas())
	test.Tap(f.v.back)
	if f.closed != 1 {
		t.Error("Tillbaka should call onClose")
	}
}

func TestCaseView_InsertStandardReply(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	std := f.standardReplies(t)
	var names []string
	for _, tpl := range std {
		names = append(names, tpl.Name)
	}
	if f.v.insert.Disabled() || !slices.Equal(f.v.insert.Options, names) {
		t.Fatalf("Infoga standardsvar: options %q (disabled %v), want %q", f.v.insert.Options, f.v.insert.Disabled(), names)
	}
	f.v.insert.SetSelected(std[1].Name)
	if f.v.reply.Text != std[1].Body || f.v.insert.Selected != "" {
		t.Errorf("reply %q, select %q", f.v.reply.Text, f.v.insert.Selected)
	}
	f.v.insert.SetSelected(std[0].Name)
	if want := strings.TrimRight(std[1].Body, "\n ") + "\n\n" + std[0].Body; f.v.reply.Text != want {
		t.Errorf("second insert: reply %q, want %q", f.v.reply.Text, want)
	}
}

// Only standardsvar are offered, not the message templates a case starts from.
func TestCaseView_InsertOffersStandardRepliesOnly(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	for _, tpl := range f.ds.Templates {
		if tpl.Kind != kindStandardReply && slices.Contains(f.v.insert.Options, tpl.Name) {
			t.Errorf("the message template %q is offered as a standard reply", tpl.Name)
		}
	}
}

// Without standard replies (or when they cannot be read) the select says
// so, disabled, and the case still shows.
func TestCaseView_NoStandardReplies(t *testing.T) {
	for name, src := range map[string]replyFunc{
		"none":   func(context.Context, app.ID) ([]app.MessageTemplate, error) { return nil, nil },
		"failed": func(context.Context, app.ID) ([]app.MessageTemplate, error) { return nil, errors.New("disk") },
	} {
		f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"),
			func(d *caseViewDeps) { d.replies = src })
		if !f.v.insert.Disabled() || f.v.insert.PlaceHolder != L(cvNoStdReplies) || !f.v.body.Visible() {
			t.Errorf("%s: select disabled %v, placeholder %q, case shown %v", name, f.v.insert.Disabled(), f.v.insert.PlaceHolder, f.v.body.Visible())
		}
	}
}

// Export is logged before the PDF leaves the system.
func TestCaseView_ExportSavesPDFAndLogsAccess(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Intyg för sjukskrivning"))
	test.Tap(f.v.exportBtn)
	f.wait()
	if len(f.saved) != 1 {
		t.Fatalf("save called %d times, want 1", len(f.saved))
	}
	s := f.saved[0]
	if !bytes.HasPrefix(s.data, []byte("%PDF")) {
		t.Error("saved data is not a PDF")
	}
	// Issue 18, item 4: the date and the subject, never the resident.
	th := f.stored(t)
	want := "arende-" + th.Case.CreatedAt.In(app.Stockholm).Format("2006-01-02") + "-" + fileSlug(th.Case.Subject, 48) + ".pdf"
	if s.name != want || !strings.Contains(s.name, "-") || strings.Contains(s.name, string(f.id)) {
		t.Errorf("file name %q, want %q", s.name, want)
	}
	for _, r := range f.ds.Residents {
		if r.ID == th.Case.ResidentID && (strings.Contains(strings.ToLower(s.name), strings.ToLower(r.Register.FamilyName)) || strings.Contains(s.name, r.PNR.String()[:8])) {
			t.Errorf("file name %q names the resident", s.name)
		}
	}
	if n := len(f.entries(t, app.AccessExport)); n != 1 {
		t.Errorf("access log has %d export entries, want 1", n)
	}
}

func TestCaseView_PrintOpensTempPDFAndLogsAccess(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Intyg för sjukskrivning"))
	var opened []*url.URL
	f.v.open = func(u *url.URL) error { opened = append(opened, u); return nil }
	test.Tap(f.v.printBtn)
	f.wait()
	if len(opened) != 1 || len(f.saved) != 0 {
		t.Fatalf("opened %d, saved %d; want the OS viewer once and no save", len(opened), len(f.saved))
	}
	path := filepath.FromSlash(opened[0].Path)
	if filepath.VolumeName(path) == "" && !strings.HasPrefix(opened[0].Path, "/") {
		t.Errorf("not an absolute file URL: %v", opened[0])
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("printed file: %v", err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF")) {
		t.Error("printed file is not a PDF")
	}
	if n := len(f.entries(t, app.AccessPrint)); n != 1 {
		t.Errorf("access log has %d print entries, want 1", n)
	}
	f.v.removePrinted()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("removePrinted should delete the temporary PDF")
	}

	// Without a viewer, print falls back to saving, and says so.
	f.v.open = func(*url.URL) error { return errors.New("no viewer") }
	test.Tap(f.v.printBtn)
	f.wait()
	f.v.removePrinted()
	if len(f.saved) != 1 || f.v.banner.Text != L(cvPrintFallback) {
		t.Errorf("fallback: saved %d, banner %q", len(f.saved), f.v.banner.Text)
	}
}

func TestCaseView_ExportFailureShowsText(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Intyg för sjukskrivning"))
	f.v.export = func(*app.Thread) ([]byte, error) { return nil, errors.New("pdf: boom") }
	test.Tap(f.v.exportBtn)
	f.wait()
	if len(f.saved) != 0 || f.v.banner.Text != L(cvExportFailed) {
		t.Errorf("saved %d, banner %q; want nothing saved and %q", len(f.saved), f.v.banner.Text, L(cvExportFailed))
	}
	if f.v.exportBtn.Disabled() {
		t.Error("the buttons should work again after a failure")
	}
}

func TestCaseActionError_Texts(t *testing.T) {
	for _, tc := range []struct {
		op   string
		err  error
		want string
	}{
		{opReply, fmt.Errorf("reply: %w", app.ErrConflict), L(cvClosedReply)},
		{opReopen, fmt.Errorf("reopen: %w", app.ErrConflict), L(cvChanged)},
		{opAssign, fmt.Errorf("assign: %w", app.ErrForbidden), L(cvNotAllowed)},
		{opAssign, fmt.Errorf("assign: %w", app.ErrInvalid), L(cvNotAssignable)},
		{opNote, fmt.Errorf("note: %w", app.ErrInvalid), L(cvInvalidText)},
		{opClose, fmt.Errorf("close: %w", app.ErrNotFound), L(cvNotFound)},
		{opExport, errors.New("disk on fire"), L(cvActionFailed)},
	} {
		if got := caseActionError(tc.op, tc.err); got != tc.want {
			t.Errorf("caseActionError(%s, %v) = %q, want %q", tc.op, tc.err, got, tc.want)
		}
	}
}

// TestCaseView_PNG writes the main states as PNG files with the real
// theme, for a person to look at: CASEVIEW_PNG=/tmp/caseview go test -run PNG.
func TestCaseView_PNG(t *testing.T) {
	dir := os.Getenv("CASEVIEW_PNG")
	if dir == "" {
		t.Skip("set CASEVIEW_PNG to a directory to write screenshots")
	}
	shot := func(f *caseViewFixture, name string) {
		th := theme.DefaultTheme()
		if os.Getenv("CASEVIEW_LIGHT") != "" {
			th = lightTheme{th}
		}
		fyne.CurrentApp().Settings().SetTheme(th)
		f.win.Resize(fyne.NewSize(1200, 760))
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if err := png.Encode(fh, f.win.Canvas().Capture()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Intyg för sjukskrivning"))
	f.v.mode.SetSelected(L(cvModeNote))
	f.typeReply("Ringde invånaren: intyget hämtas i receptionen.")
	test.Tap(f.v.note)
	f.wait()
	f.typeReply("Väntar på att läkaren skriver under.")
	shot(f, "caseview_note_mode.png")
	f.v.mode.SetSelected(L(cvModeReply))
	f.typeReply("Hej Lars! Intyget är klart.")
	shot(f, "caseview_thread.png")
	f.v.undo = time.Hour
	test.Tap(f.v.send)
	shot(f, "caseview_pending.png")
	test.Tap(f.v.undoBtn)
	f.wait()
	f.typeReply(" ")
	test.Tap(f.v.send)
	f.wait()
	shot(f, "caseview_empty.png")
	test.Tap(f.v.closeBtn)
	f.wait()
	shot(f, "caseview_closed.png")
	g := openCase(t, demo.StaffHandler, "Vårdcentralen Centrum", subject("Omboka tid"))
	shot(g, "caseview_forbidden.png")
}

// lightTheme is the default theme in its light variant, for screenshots.
type lightTheme struct{ fyne.Theme }

func (l lightTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return l.Theme.Color(n, theme.VariantLight)
}

// Attachments both ways: a PDF and a PNG go with a reply (checked by
// content at once; a disallowed or oversized file is refused at the
// field, nothing sent); the files show on the message, and saving one is
// access-logged and gives the same bytes.
func TestCaseView_AttachmentsWithReply(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", func(c *app.Case) bool {
		return c.Kind == app.KindQuestion && c.Status == app.StatusOngoing
	})
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	next := []struct {
		name string
		data []byte
	}{
		{"program.exe", []byte("MZ\x90\x00")},
		{"stor.pdf", append(append([]byte{}, pdf...), make([]byte, app.MaxAttachmentSize)...)},
		{"remiss.pdf", pdf},
		{"bild.png", png},
	}
	f.v.pickFile = func(done func(string, []byte, error)) {
		n := next[0]
		next = next[1:]
		done(n.name, n.data, nil)
	}
	test.Tap(f.v.attach)
	if !f.v.replyErr.Visible() || f.v.replyErr.Text != app.AttachmentMessage(app.ErrAttachmentType) {
		t.Errorf("an .exe: field says %q", f.v.replyErr.Text)
	}
	test.Tap(f.v.attach)
	if f.v.replyErr.Text != app.AttachmentMessage(app.ErrAttachmentTooLarge) {
		t.Errorf("11 MB: field says %q", f.v.replyErr.Text)
	}
	test.Tap(f.v.attach)
	test.Tap(f.v.attach)
	if len(f.v.files) != 2 || !f.v.attachments.Visible() || !strings.Contains(f.markup(), "remiss.pdf") {
		t.Fatalf("chosen files: %d", len(f.v.files))
	}
	before := len(f.stored(t).Messages)
	f.typeReply("Här är remissen och bilden.")
	test.Tap(f.v.send)
	f.wait()
	th := f.stored(t)
	if len(th.Messages) != before+1 {
		t.Fatalf("messages %d, want %d", len(th.Messages), before+1)
	}
	atts := th.Messages[len(th.Messages)-1].Attachments
	if len(atts) != 2 || atts[0].Name != "remiss.pdf" || atts[1].MIME != app.MIMEPNG {
		t.Fatalf("stored attachments %+v", atts)
	}
	if len(f.v.files) != 0 || f.v.attachments.Visible() {
		t.Error("the chosen files should be cleared after sending")
	}
	logged := len(f.entries(t, app.AccessReadMessage))
	f.v.saveAttachment(atts[0])
	f.wait()
	if len(f.saved) != 1 || f.saved[0].name != "remiss.pdf" || string(f.saved[0].data) != string(pdf) {
		t.Fatalf("saved %v", f.saved)
	}
	if len(f.entries(t, app.AccessReadMessage)) != logged+1 {
		t.Error("reading an attachment must be access-logged")
	}
	if !strings.Contains(f.markup(), "remiss.pdf (") {
		t.Error("the message should list its files")
	}
	// A file whose bytes are not on this computer yet (a connected
	// desktop before its background download): a notice, and the case
	// stays open.
	ghost := atts[1]
	ghost.ID = app.NewID(now)
	err := f.store.UpdateThread(context.Background(), f.v.id, app.Write{}, func(th *app.Thread) error {
		last := th.Messages[len(th.Messages)-1]
		last.ID, last.Attachments = app.NewID(now), []app.Attachment{ghost}
		th.Messages = append(th.Messages, last)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.v.saveAttachment(ghost)
	f.wait()
	if len(f.saved) != 1 || !f.v.banner.Visible() || f.v.banner.Text != app.AttachmentMessage(app.ErrAttachmentNotDownloaded) || !f.v.body.Visible() {
		t.Errorf("a file not downloaded yet: saved %d, banner %q, case shown %v", len(f.saved), f.v.banner.Text, f.v.body.Visible())
	}
}

// Issue 4: staff see the state of each notification on the message it
// announces — channel, resident or guardian, state — never the address.
func TestCaseView_NotificationStateOnTheMessage(t *testing.T) {
	fx := newFixture(t, false, nil)
	ctx := context.Background()
	svc := app.NewCaseService(fx.store, app.FixedClock(now))
	clinic := fx.clinic("Vårdcentralen Centrum")
	var anna app.Staff
	for _, s := range fx.ds.Staff {
		if s.ID == fx.ds.StaffBy[demo.StaffReceiver] {
			anna = s
		}
	}
	sess := app.Session{Staff: &anna, ClinicID: clinic.ID}
	var tpl app.MessageTemplate
	for _, x := range fx.ds.Templates {
		if x.ClinicID == clinic.ID && x.Kind == app.KindQuestion {
			tpl = x
		}
	}
	r := fx.ds.Persona[demo.AdultBoth]
	c, err := svc.SendCase(ctx, sess, app.SendRequest{TemplateID: tpl.ID, ResidentID: r, Subject: tpl.Subject, Text: tpl.Body})
	if err != nil {
		t.Fatal(err)
	}
	v := newCaseView(caseViewDeps{ctx: ctx, tasks: &fx.ui.tasks, cases: svc, dir: fx.store, replies: fx.store, sess: sess, clinic: clinic}, c.ID)
	fx.win.SetContent(v.content)
	fx.wait()
	markup := test.RenderToMarkup(fx.win.Canvas())
	for _, want := range []string{"sms till invånaren – Väntar på att skickas", "e-post till invånaren – Väntar på att skickas"} {
		if !strings.Contains(markup, want) {
			t.Errorf("the case view should say %q", want)
		}
	}
	res, _ := fx.store.Resident(ctx, r)
	for _, addr := range []string{res.Settings.Mobile, res.Settings.Email} {
		if addr != "" && strings.Contains(markup, addr) {
			t.Error("the case view shows a notification address")
		}
	}
}

// formsFunc is a FormReader made of a function (a form that cannot be read).
type formsFunc func(ctx context.Context, id app.ID) (*form.Series, error)

func (f formsFunc) FormSeries(ctx context.Context, id app.ID) (*form.Series, error) {
	return f(ctx, id)
}

// submittedCase publishes a local e-service of Vårdcentralen Centrum with
// a repeating group and logic, and submits answers to it as a resident
// (app.ResidentService.Submit, as the server does); it returns the case
// and the receiver's session.
func submittedCase(t *testing.T, fx *fixture) (*app.Case, app.Session, app.Clinic) {
	t.Helper()
	ctx := context.Background()
	clinic := fx.clinic("Vårdcentralen Centrum")
	staff := func(key string) *app.Staff {
		for i := range fx.ds.Staff {
			if fx.ds.Staff[i].ID == fx.ds.StaffBy[key] {
				return &fx.ds.Staff[i]
			}
		}
		t.Fatalf("no staff %s", key)
		return nil
	}
	admin := app.Session{Staff: staff(demo.StaffLocalAdmin), ClinicID: clinic.ID}
	b := app.NewEServiceBuilder(fx.store, fx.store, app.FixedClock(now))
	d, err := b.Create(ctx, admin, "Läkemedelsgenomgång")
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.Draft(ctx, admin, d.EService.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Items = []form.Item{
		{ID: "info", Type: form.TypeDisplay, Label: "Fyll i inför besöket."},
		{ID: "besvar", Type: form.TypeLongText, Label: "Vad vill du ta upp?", Required: true},
		{ID: "feber", Type: form.TypeBoolean, Label: "Har du feber?"},
		{ID: "temp", Type: form.TypeNumber, Label: "Hur hög är febern?",
			EnableWhen: []form.Condition{{Item: "feber", Op: form.OpEquals, Value: form.Value{Bool: true}}}},
		{ID: "lakemedel", Type: form.TypeGroup, Label: "Läkemedel du tar", Repeats: true, Items: []form.Item{
			{ID: "namn", Type: form.TypeText, Label: "Namn", Required: true},
			{ID: "dos", Type: form.TypeText, Label: "Dos"},
		}},
	}
	if err := b.SaveDraft(ctx, admin, d.EService.ID, f); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, admin, d.EService.ID); err != nil {
		t.Fatal(err)
	}
	r := fx.ds.Persona[demo.AdultEmail]
	c, err := app.NewResidentService(fx.store, app.FixedClock(now)).Submit(ctx, fx.store, app.Submission{
		Actor: r, Owner: r, ClinicID: clinic.ID, EServiceID: d.EService.ID,
		Answers: form.Answers{
			"besvar": {{Text: "Jag blir trött av tabletterna."}},
			"feber":  {{Bool: false}},
			"lakemedel": {
				{Group: form.Answers{"namn": {{Text: "Metformin"}}, "dos": {{Text: "500 mg"}}}},
				{Group: form.Answers{"namn": {{Text: "Alvedon"}}}},
			},
		}})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return c, app.Session{Staff: staff(demo.StaffReceiver), ClinicID: clinic.ID}, clinic
}

// TestCaseView_SubmissionAnswersReadOnly: a case from an e-service shows
// the resident's answers with the questions of the version answered, one
// "Fråga: svar" each, each repeating-group instance under its own heading,
// and nothing of it editable.
func TestCaseView_SubmissionAnswersReadOnly(t *testing.T) {
	fx := newFixture(t, false, nil)
	ctx := context.Background()
	c, sess, clinic := submittedCase(t, fx)
	v := newCaseView(caseViewDeps{ctx: ctx, tasks: &fx.ui.tasks, cases: app.NewCaseService(fx.store, app.FixedClock(now)),
		dir: fx.store, replies: fx.store, sess: sess, clinic: clinic}, c.ID)
	fx.win.SetContent(v.content)
	fx.wait()
	if v.thread == nil || len(v.thread.Messages) == 0 {
		t.Fatalf("the case did not load: %q", v.banner.Text)
	}
	markup := test.RenderToMarkup(fx.win.Canvas())
	for _, want := range []string{
		"Svar i e-tjänsten, version 1",
		"Vad vill du ta upp?: Jag blir trött av tabletterna.",
		"Har du feber?: Nej",
		"Läkemedel du tar 1", "Namn: Metformin", "Dos: 500 mg",
		"Läkemedel du tar 2", "Namn: Alvedon",
	} {
		if !strings.Contains(markup, want) {
			t.Errorf("the case view should show %q", want)
		}
	}
	for _, not := range []string{"Hur hög är febern?", "Fyll i inför besöket."} {
		if strings.Contains(markup, not) {
			t.Errorf("the case view shows %q, which was not answered", not)
		}
	}
	if strings.Count(markup, "Namn: Metformin") != 1 {
		t.Error("the answers are shown twice (structured and as text)")
	}
	// Read-only: no entry holds an answer.
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok && strings.Contains(e.Text, "Metformin") {
			t.Error("an answer is in an editable entry")
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, x := range c.Objects {
				walk(x)
			}
		}
	}
	walk(v.messages)
}

// TestCaseView_SubmissionWithoutFormShowsText: when the form version
// cannot be read, the message's text (the same answers as lines) shows.
func TestCaseView_SubmissionWithoutFormShowsText(t *testing.T) {
	fx := newFixture(t, false, nil)
	ctx := context.Background()
	c, sess, clinic := submittedCase(t, fx)
	broken := formsFunc(func(context.Context, app.ID) (*form.Series, error) { return nil, errors.New("disk") })
	v := newCaseView(caseViewDeps{ctx: ctx, tasks: &fx.ui.tasks, cases: app.NewCaseService(fx.store, app.FixedClock(now)),
		dir: fx.store, replies: fx.store, sess: sess, clinic: clinic, forms: broken}, c.ID)
	fx.win.SetContent(v.content)
	fx.wait()
	markup := test.RenderToMarkup(fx.win.Canvas())
	if strings.Contains(markup, "Svar i e-tjänsten") || !strings.Contains(markup, "Vad vill du ta upp?: Jag blir trött av tabletterna.") {
		t.Errorf("without the form the message text should show")
	}
}

// Issue 13, finding 4: a file name stored before every door cleaned
// names (a path, a NUL byte, a direction override) is shown and saved
// under its clean name.
func TestCaseView_AttachmentNameShownClean(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", func(c *app.Case) bool {
		return c.Kind == app.KindQuestion && c.Status == app.StatusOngoing
	})
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	a, err := app.NewAttachment("x.pdf", pdf)
	if err != nil {
		t.Fatal(err)
	}
	a.ID, a.Name = app.NewID(now), "../../../../root/.bashrc\x00ev\u202Eil.pdf"
	err = f.store.UpdateThread(context.Background(), f.v.id, app.Write{}, func(th *app.Thread) error {
		last := th.Messages[len(th.Messages)-1]
		last.ID, last.Attachments = app.NewID(now), []app.Attachment{a}
		th.Messages = append(th.Messages, last)
		th.Blobs = map[app.ID][]byte{a.ID: pdf}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.v.load(nil)
	f.wait()
	m := f.markup()
	if strings.Contains(m, "root/") || strings.Contains(m, "\u202E") || !strings.Contains(m, "bashrcevil.pdf (") {
		t.Fatalf("the message lists its file as:\n%s", m)
	}
	test.Tap(findButton(t, f.v.scroll.Content, fmt.Sprintf("bashrcevil.pdf (%d byte)", len(pdf))))
	f.wait()
	if len(f.saved) != 1 || f.saved[0].name != "bashrcevil.pdf" || string(f.saved[0].data) != string(pdf) {
		t.Fatalf("saved %+v", f.saved)
	}
}

// TestR10_CaseView_ReplyOffForLockedResidentWithReason (issue 14, item 6):
// in a case of a resident who has locked their login, the view says so
// above the reply field before anyone types, in Skicka ärende's words:
// Skicka svar, Bifoga fil and standard replies are off (the service
// refuses the reply too), while an internal note can still be written.
// After an unlock the composer is back.
func TestR10_CaseView_ReplyOffForLockedResidentWithReason(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	th := f.stored(t)
	lock := func(locked bool) {
		t.Helper()
		if err := f.store.UpdateResident(context.Background(), th.Case.ResidentID, func(r *app.Resident) error {
			r.Account.LoginLocked = locked
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		f.v.load(nil) // as the list reopens it after a sync
		f.wait()
	}
	if f.v.replyBlocked.Visible() || f.v.send.Disabled() {
		t.Fatal("a reachable resident: the composer should be on")
	}
	lock(true)
	v := f.v
	if !v.replyBlocked.Visible() || !strings.Contains(v.replyBlocked.Text, app.BlockLoginLocked.Message()) {
		t.Fatalf("reason shown %v %q; want %q", v.replyBlocked.Visible(), v.replyBlocked.Text, app.BlockLoginLocked.Message())
	}
	if !strings.Contains(f.markup(), app.BlockLoginLocked.Message()) {
		t.Error("the reason is not on screen")
	}
	if !v.send.Disabled() || !v.attach.Disabled() || !v.insert.Disabled() || v.note.Disabled() || v.reply.Disabled() {
		t.Errorf("send off %v, attach off %v, insert off %v, note off %v, field off %v; want reply actions off, notes on",
			v.send.Disabled(), v.attach.Disabled(), v.insert.Disabled(), v.note.Disabled(), v.reply.Disabled())
	}
	if v.reply.PlaceHolder != L(cvNoteOnlyHint) {
		t.Errorf("placeholder %q, want %q", v.reply.PlaceHolder, L(cvNoteOnlyHint))
	}
	// Ctrl+Enter sends nothing; a note is written.
	f.typeReply("Skickat brev i stället.")
	v.reply.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	v.sendReply()
	f.wait()
	if got := f.stored(t); len(got.Messages) != len(th.Messages) {
		t.Fatalf("a reply was stored for a locked resident: %d → %d messages", len(th.Messages), len(got.Messages))
	}
	test.Tap(v.note)
	f.wait()
	if got := f.stored(t); len(got.Notes) != len(th.Notes)+1 {
		t.Fatalf("the note was not stored: %d → %d notes", len(th.Notes), len(got.Notes))
	}
	if !v.send.Disabled() || !v.replyBlocked.Visible() {
		t.Error("after the note the composer must stay off")
	}
	lock(false)
	if v.replyBlocked.Visible() || v.send.Disabled() || v.reply.PlaceHolder != L(cvReplyHint) {
		t.Errorf("after the unlock: reason shown %v, send off %v, placeholder %q", v.replyBlocked.Visible(), v.send.Disabled(), v.reply.PlaceHolder)
	}
}

// A lock that came after the view was opened: the refused reply says why
// in Skicka ärende's words, keeps the text, and turns the composer off.
func TestR10_CaseView_ReplyRefusedWhenLockedMeanwhile(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	th := f.stored(t)
	if err := f.store.UpdateResident(context.Background(), th.Case.ResidentID, func(r *app.Resident) error {
		r.Account.LoginLocked = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.typeReply("Ett svar som inte når fram.")
	test.Tap(f.v.send)
	f.wait()
	if got := f.stored(t); len(got.Messages) != len(th.Messages) {
		t.Fatal("the reply was stored")
	}
	if !f.v.banner.Visible() || f.v.banner.Text != app.BlockLoginLocked.Message() {
		t.Errorf("banner %v %q, want %q", f.v.banner.Visible(), f.v.banner.Text, app.BlockLoginLocked.Message())
	}
	if f.v.reply.Text != "Ett svar som inte når fram." {
		t.Errorf("the text was lost: %q", f.v.reply.Text)
	}
	if !f.v.send.Disabled() || !f.v.replyBlocked.Visible() {
		t.Error("after the refusal the composer should be off with the reason")
	}
}

// Issue 18, item 1: a reply and an internal note are two modes of the
// composer, each with its own colour, explanation, placeholder and
// button; Ctrl+Enter in note mode saves the note and never sends.
func TestCaseView_ReplyAndNoteAreSeparateModes(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	v := f.v
	before := f.stored(t)
	if v.noteMode || !v.send.Visible() || v.note.Visible() || v.composerShade.name != cvColorStaff ||
		v.modeInfo.Text != L(cvReplyInfo) || v.reply.PlaceHolder != L(cvReplyHint) {
		t.Fatalf("opened in note mode %v: send shown %v, note shown %v, shade %s, info %q",
			v.noteMode, v.send.Visible(), v.note.Visible(), v.composerShade.name, v.modeInfo.Text)
	}
	if v.send.Text != L(cvSendReply) || v.note.Text != L(cvAddNote) {
		t.Errorf("buttons %q and %q", v.send.Text, v.note.Text)
	}
	v.mode.SetSelected(L(cvModeNote))
	if !v.noteMode || v.send.Visible() || !v.note.Visible() || v.attach.Visible() || v.insert.Visible() ||
		v.composerShade.name != cvColorNote || v.modeInfo.Text != L(cvNoteInfo) || v.reply.PlaceHolder != L(cvNoteOnlyHint) ||
		v.hint.Text != L(cvShortcutNote) {
		t.Fatalf("note mode: send shown %v, note shown %v, attach shown %v, shade %s, info %q, hint %q",
			v.send.Visible(), v.note.Visible(), v.attach.Visible(), v.composerShade.name, v.modeInfo.Text, v.hint.Text)
	}
	assertMarkup(t, "caseview_note_mode.xml", f.win.Canvas())
	f.typeReply("Patienten ringde, vill ha tid efter lunch.")
	v.reply.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	f.wait()
	// The send button is hidden; tapping it anyway sends nothing.
	f.typeReply("Ska inte nå invånaren.")
	test.Tap(v.send)
	f.wait()
	th := f.stored(t)
	if len(th.Messages) != len(before.Messages) {
		t.Fatalf("note mode sent %d messages to the resident", len(th.Messages)-len(before.Messages))
	}
	if len(th.Notes) != len(before.Notes)+1 || th.Notes[len(th.Notes)-1].Text != "Patienten ringde, vill ha tid efter lunch." {
		t.Fatalf("Ctrl+Enter in note mode: notes %d → %d, want the note saved", len(before.Notes), len(th.Notes))
	}
}

// Text written as a note and then sent as a reply asks once.
func TestCaseView_NoteTextSentAsReplyAsksOnce(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	v := f.v
	before := len(f.stored(t).Messages)
	v.mode.SetSelected(L(cvModeNote))
	f.typeReply("Invånaren verkar orolig.")
	v.mode.SetSelected(L(cvModeReply))
	v.reply.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	f.wait()
	if !v.asked.shown() || v.asked.text.Text != L(cvAskNoteBody) {
		t.Fatal("sending text written as a note should ask first")
	}
	if n := len(f.stored(t).Messages); n != before {
		t.Fatal("the reply was sent before the answer")
	}
	assertMarkup(t, "caseview_ask_note.xml", f.win.Canvas())
	test.Tap(v.asked.no)
	f.wait()
	if v.asked.shown() || len(f.stored(t).Messages) != before || v.reply.Text != "Invånaren verkar orolig." {
		t.Fatal("Avbryt should send nothing and keep the text")
	}
	test.Tap(v.send)
	if !v.asked.shown() {
		t.Fatal("still unconfirmed: it should ask again")
	}
	test.Tap(v.asked.yes)
	f.wait()
	if n := len(f.stored(t).Messages); n != before+1 {
		t.Fatalf("after yes: %d messages, want %d", n, before+1)
	}
	// Text typed in reply mode does not ask.
	f.typeReply("Välkommen på tisdag.")
	test.Tap(v.send)
	f.wait()
	if v.asked.shown() || len(f.stored(t).Messages) != before+2 {
		t.Error("a reply written as a reply should go without a question")
	}
}

// A reply waits with Ångra before it is written; Ångra puts the text and
// files back and writes nothing; Skicka nu writes at once; Tillbaka sends
// a waiting reply before leaving.
func TestCaseView_UndoBeforeReplyLeaves(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	v := f.v
	v.undo = time.Hour
	before := len(f.stored(t).Messages)
	pdf := []byte("%PDF-1.4\n%test\n")
	v.files = []app.File{{Name: "kallelse.pdf", Data: pdf}}
	v.showFiles()
	f.typeReply("Din nya tid är tisdag 10.00.")
	test.Tap(v.send)
	if !v.pendingBar.Visible() || v.reply.Text != "" || !v.reply.Disabled() || !v.closeBtn.Disabled() {
		t.Fatalf("waiting: bar %v, field %q (off %v), close off %v", v.pendingBar.Visible(), v.reply.Text, v.reply.Disabled(), v.closeBtn.Disabled())
	}
	assertMarkup(t, "caseview_pending.xml", f.win.Canvas())
	if n := len(f.stored(t).Messages); n != before {
		t.Fatal("the reply was written before its undo time")
	}
	test.Tap(v.undoBtn)
	f.wait()
	if v.pendingBar.Visible() || v.reply.Text != "Din nya tid är tisdag 10.00." || len(v.files) != 1 || v.reply.Disabled() {
		t.Fatalf("after Ångra: bar %v, field %q, files %d", v.pendingBar.Visible(), v.reply.Text, len(v.files))
	}
	if n := len(f.stored(t).Messages); n != before {
		t.Fatal("Ångra wrote the reply")
	}
	if v.banner.Text != L(cvUndone) {
		t.Errorf("banner %q, want %q", v.banner.Text, L(cvUndone))
	}
	test.Tap(v.send)
	test.Tap(v.sendNowBtn)
	f.wait()
	th := f.stored(t)
	if len(th.Messages) != before+1 || len(th.Messages[len(th.Messages)-1].Attachments) != 1 {
		t.Fatalf("Skicka nu: %d messages, want %d with the file", len(th.Messages), before+1)
	}
	f.typeReply("Glöm inte legitimation.")
	test.Tap(v.send)
	test.Tap(v.back)
	f.wait()
	if n := len(f.stored(t).Messages); n != before+2 || f.closed != 1 {
		t.Fatalf("Tillbaka with a waiting reply: %d messages (want %d), closed %d", n, before+2, f.closed)
	}
}

// Issue 18, item 2: Tillbaka with written text asks before throwing it away.
func TestCaseView_BackWithTextAsks(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	f.typeReply("Halvskrivet svar")
	test.Tap(f.v.back)
	if f.closed != 0 || !f.v.asked.shown() || f.v.asked.title.Text != L(cvAskLeaveTitle) {
		t.Fatal("Tillbaka with text should ask first")
	}
	test.Tap(f.v.asked.no)
	if f.closed != 0 || f.v.reply.Text != "Halvskrivet svar" {
		t.Fatal("Fortsätt skriva should keep the view and the text")
	}
	test.Tap(f.v.back)
	test.Tap(f.v.asked.yes)
	if f.closed != 1 {
		t.Fatal("Kasta texten should leave")
	}
	g := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	test.Tap(g.v.back)
	if g.closed != 1 {
		t.Error("without text Tillbaka leaves at once")
	}
}

func TestFileSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Intyg för sjukskrivning": "intyg-for-sjukskrivning",
		"Åtgärd: Ärr & övrigt!":   "atgard-arr-ovrigt",
		"  Wójcik – svar ":        "wojcik-svar",
		"":                        "",
		"???":                     "",
		"Ett mycket långt ämne som inte får plats i ett filnamn alls": "ett-mycket-langt-amne-som-inte-far-plats-i-ett",
	} {
		if got := fileSlug(in, 48); got != want {
			t.Errorf("fileSlug(%q) = %q, want %q", in, got, want)
		}
	}
}
