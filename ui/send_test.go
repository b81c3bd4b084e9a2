package ui

import (
	"context"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
	"mottagning/storage"
)

// staffBy returns a demo staff member by key.
func staffByKey(f *fixture, t *testing.T, key string) app.Staff {
	t.Helper()
	for _, st := range f.ds.Staff {
		if st.ID == f.ds.StaffBy[key] {
			return st
		}
	}
	t.Fatalf("no staff %q", key)
	return app.Staff{}
}

func personaResident(f *fixture, t *testing.T, key string) *app.Resident {
	t.Helper()
	r, err := f.store.Resident(context.Background(), f.ds.Persona[key])
	if err != nil {
		t.Fatalf("persona %s: %v", key, err)
	}
	return r
}

// allCases counts the cases of every demo resident in the store.
func casesPerResident(f *fixture, t *testing.T) map[app.ID][]app.Case {
	t.Helper()
	out := map[app.ID][]app.Case{}
	for _, r := range f.ds.Residents {
		cs, err := f.store.CasesOfResident(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[r.ID] = cs
	}
	return out
}

func totalCases(m map[app.ID][]app.Case) (n int) {
	for _, cs := range m {
		n += len(cs)
	}
	return n
}

// accessLog is the clinic's log written at the fixture's fixed time.
func accessLogNow(f *fixture, t *testing.T, clinic app.ID) []app.AccessEntry {
	t.Helper()
	es, err := f.store.Entries(context.Background(), clinic, now.Add(-time.Second), now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

type sendRun struct {
	f    *fixture
	s    *sendScreen
	sess app.Session
	done []*app.Case
	quit bool
}

// newSend shows Skicka ärende for a staff member in a clinic, in the
// fixture's window, with the templates loaded.
func newSend(t *testing.T, f *fixture, staffKey, clinic string) *sendRun {
	t.Helper()
	st := staffByKey(f, t, staffKey)
	c := f.clinic(clinic)
	r := &sendRun{f: f, sess: app.Session{Staff: &st, ClinicID: c.ID}}
	r.s = newSendScreen(sendDeps{
		ctx: context.Background(), tasks: &f.ui.tasks, cases: app.NewCaseService(f.store, app.FixedClock(now)),
		templates: f.store, sess: r.sess, clinic: c, now: func() time.Time { return now },
		onDone: func(c *app.Case) { r.done = append(r.done, c) }, onCancel: func() { r.quit = true },
	})
	f.win.SetContent(r.s.content)
	f.wait()
	return r
}

// chooseTemplate selects the offered template with the given name.
func (r *sendRun) chooseTemplate(t *testing.T, name string) app.MessageTemplate {
	t.Helper()
	i := slices.IndexFunc(r.s.tpls, func(tp app.MessageTemplate) bool { return tp.Name == name })
	if i < 0 {
		t.Fatalf("template %q not offered", name)
	}
	r.s.template.SetSelectedIndex(i)
	return r.s.tpls[i]
}

// typePNR types a persona's personnummer (12 digits with '-') and waits
// for the look-up.
func (r *sendRun) typePNR(t *testing.T, key string) {
	t.Helper()
	r.s.pnr.SetText("")
	test.Type(r.s.pnr, personaResident(r.f, t, key).PNR.String())
	r.f.wait()
}

// capture writes the window as PNG to /tmp for a look (with -png).
func capturePNG(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	if os.Getenv("UI_PNG") == "" {
		return
	}
	test.ApplyTheme(t, theme.LightTheme())
	f, err := os.Create("/tmp/" + name + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

func TestSend_PersonnummerValidatedAsYouType(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	s := r.s
	test.Type(s.pnr, "2000")
	if s.pnrMsg.Text != L(textPNRHelp) || s.pnrMsg.Importance == widget.DangerImportance {
		t.Errorf("while typing: %q (importance %v), want the help text, not an error", s.pnrMsg.Text, s.pnrMsg.Importance)
	}
	test.Type(s.pnr, "0101-2385") // a wrong check digit
	f.wait()
	if s.pnrMsg.Text != personnummer.ErrChecksum.Error() || !s.pnrMsg.Visible() {
		t.Errorf("wrong check digit: %q, want %q", s.pnrMsg.Text, personnummer.ErrChecksum.Error())
	}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"abc", personnummer.ErrFormat},
		{"20230230-1234", personnummer.ErrDate},
		{"20010704-R017", personnummer.ErrReserve}, // the reserve-number resident cannot be sent to
		{"2000010123850", personnummer.ErrFormat},
	} {
		s.pnr.SetText("")
		test.Type(s.pnr, tc.in)
		f.wait()
		if s.pnrMsg.Text != tc.want.Error() {
			t.Errorf("%q: message %q, want %q", tc.in, s.pnrMsg.Text, tc.want.Error())
		}
		if s.panel.Visible() || !s.send.Disabled() {
			t.Errorf("%q: the panel shows or Skicka is enabled", tc.in)
		}
	}
	if log := accessLogNow(f, t, r.sess.ClinicID); len(log) != 0 {
		t.Errorf("invalid numbers were looked up: %d log entries", len(log))
	}
	s.pnr.SetText("")
	f.wait()
	if s.pnrMsg.Visible() {
		t.Error("an empty field should show no message")
	}
}

// A ten-digit number without separator may be the start of a twelve-digit
// one: it is looked up only on Enter, so no stranger's data is opened.
func TestSend_TenDigitsWaitForEnter(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	short := strings.ReplaceAll(personaResident(f, t, demo.AdultSMS).PNR.ShortAt(now), "-", "")
	test.Type(r.s.pnr, short)
	f.wait()
	if r.s.panel.Visible() || r.s.pnrMsg.Text != L(textPNRPressEnter) {
		t.Fatalf("10 digits: message %q, panel %v; want %q and no look-up", r.s.pnrMsg.Text, r.s.panel.Visible(), L(textPNRPressEnter))
	}
	if log := accessLogNow(f, t, r.sess.ClinicID); len(log) != 0 {
		t.Fatalf("looked up before Enter: %d entries", len(log))
	}
	r.s.pnr.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	f.wait()
	if !r.s.panel.Visible() || r.s.name.Text != "Karin Johansson" {
		t.Fatalf("after Enter: panel %v, name %q", r.s.panel.Visible(), r.s.name.Text)
	}
}

func TestSend_UnknownResident(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
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
	test.Type(r.s.pnr, unknown.String())
	f.wait()
	if r.s.pnrMsg.Text != L(textNotFound) || r.s.panel.Visible() || !r.s.send.Disabled() {
		t.Errorf("unknown: message %q, panel %v", r.s.pnrMsg.Text, r.s.panel.Visible())
	}
}

// R14, R16: a reachable adult; the choice shows read-only, the contact
// details because Karin shares them; the case is created as a question.
func TestR16_SendQuestionToReachableAdult(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	s := r.s
	for _, tp := range s.tpls {
		if tp.ClinicID != r.sess.ClinicID || (tp.Kind != app.KindInformation && tp.Kind != app.KindQuestion) {
			t.Errorf("offered template %q of kind %s", tp.Name, tp.Kind)
		}
	}
	tpl := r.chooseTemplate(t, "Fråga om hur det går")
	if s.subject.Text != tpl.Subject || s.text.Text != tpl.Body || s.tplMsg.Text != L(textKindQuestion) {
		t.Errorf("template not filled in: subject %q", s.subject.Text)
	}
	if !s.send.Disabled() {
		t.Error("Skicka enabled before a resident is chosen")
	}
	r.typePNR(t, demo.AdultSMS)
	karin := personaResident(f, t, demo.AdultSMS)
	if !s.panel.Visible() || s.name.Text != "Karin Johansson" {
		t.Fatalf("panel %v, name %q", s.panel.Visible(), s.name.Text)
	}
	if s.choice.Selected != "SMS" || !s.choice.Disabled() {
		t.Errorf("choice %q (disabled %v), want SMS read-only", s.choice.Selected, s.choice.Disabled())
	}
	if !strings.Contains(s.contact.Text, karin.Settings.Mobile) {
		t.Errorf("contact %q, want the shared mobile", s.contact.Text)
	}
	if !strings.Contains(s.address.Text, karin.Register.Address.Street) {
		t.Errorf("address %q", s.address.Text)
	}
	if s.blockBox.Visible() || !s.okBox.Visible() || s.send.Disabled() {
		t.Fatalf("reachable adult: block %v, ok %v, send disabled %v", s.blockBox.Visible(), s.okBox.Visible(), s.send.Disabled())
	}
	s.text.SetText(tpl.Body + "\nHälsningar Anna")
	assertMarkup(t, "send_reachable.xml", f.win.Canvas())
	capturePNG(t, f.win, "send_reachable")

	before := totalCases(casesPerResident(f, t))
	test.Tap(s.send)
	f.wait()
	if len(r.done) != 1 {
		t.Fatalf("onDone called %d times; error %q", len(r.done), s.errText.Text)
	}
	th, err := f.store.Thread(context.Background(), r.done[0].ID)
	if err != nil {
		t.Fatalf("the sent case is not in the store: %v", err)
	}
	c := th.Case
	if c.Kind != app.KindQuestion || c.Status != app.StatusWaiting || c.ResidentID != karin.ID || c.AssigneeID != r.sess.Staff.ID ||
		c.StartedBy != app.StartedByClinic || th.Messages[0].Text != tpl.Body+"\nHälsningar Anna" {
		t.Errorf("case %+v", c)
	}
	if n := totalCases(casesPerResident(f, t)); n != before+1 {
		t.Errorf("%d cases, want %d", n, before+1)
	}
	log := accessLogNow(f, t, r.sess.ClinicID)
	if len(log) != 2 || log[0].Action != app.AccessLookupResident || log[1].Action != app.AccessSend || log[1].CaseID != c.ID {
		t.Errorf("access log %+v, want look-up and send", log)
	}
	if !s.send.Disabled() {
		t.Error("Skicka should stay disabled after the send")
	}
}

func TestR16_InformationIsClosedAtOnce(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffHandler, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Provsvar utan anmärkning")
	r.typePNR(t, demo.AdultEmail)
	test.Tap(r.s.send)
	f.wait()
	if len(r.done) != 1 || r.done[0].Kind != app.KindInformation || r.done[0].Status != app.StatusClosed {
		t.Fatalf("sent %+v", r.done)
	}
}

// R14: the four choices, exactly as the resident set them; phone and
// e-mail only when shared (R13).
func TestR14_NotificationChoiceReadOnly(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	for _, tc := range []struct {
		key      string
		choice   string
		contact  []string // shown
		noNotify bool
	}{
		{demo.AdultSMS, "SMS", []string{"Mobil: "}, false},
		{demo.AdultEmail, "E-post", nil, false}, // chose e-mail, does not share
		{demo.AdultBoth, "Båda", []string{"Mobil: ", "E-post: "}, false},
		{demo.AdultNone, "Ingen", nil, true},
	} {
		r.typePNR(t, tc.key)
		s := r.s
		res := personaResident(f, t, tc.key)
		if s.choice.Selected != tc.choice || !s.choice.Disabled() {
			t.Errorf("%s: choice %q, want %q read-only", tc.key, s.choice.Selected, tc.choice)
		}
		for _, want := range tc.contact {
			if !strings.Contains(s.contact.Text, want) {
				t.Errorf("%s: contact %q, want %q", tc.key, s.contact.Text, want)
			}
		}
		if len(tc.contact) == 0 {
			if s.contact.Text != L(textNoContact) {
				t.Errorf("%s: contact %q, want %q", tc.key, s.contact.Text, L(textNoContact))
			}
			if res.Settings.Mobile != "" && strings.Contains(test.RenderToMarkup(f.win.Canvas()), res.Settings.Mobile) {
				t.Errorf("%s: an unshared mobile number is shown", tc.key)
			}
		}
		if got := strings.Contains(s.factText.Text, factText(app.FactNoNotification, s.resident)); got != tc.noNotify {
			t.Errorf("%s: 'no notification' shown %v, want %v", tc.key, got, tc.noNotify)
		}
		if s.blockBox.Visible() {
			t.Errorf("%s: shown as blocked", tc.key)
		}
		if !s.okBox.Visible() {
			t.Errorf("%s: a reachable resident should say so", tc.key)
		}
	}
}

// R1, R7, R10, deceased, a child nobody may act for: the panel says why
// and what to do instead; Skicka stays disabled and nothing is written.
func TestR1_R7_R10_BlockedResidentIsRefused(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Fråga om hur det går")
	before := totalCases(casesPerResident(f, t))
	for _, tc := range []struct {
		key  string
		want app.BlockReason
	}{
		{demo.NeverSignedIn, app.BlockNeverSignedIn},
		{demo.Locked, app.BlockLoginLocked},
		{demo.Deceased, app.BlockDeceased},
		{demo.ChildNotActivated, app.BlockChildNotActivated},
		{demo.ChildProtected, app.BlockChildProtected},
		{demo.ChildProtectedGuard, app.BlockChildProtected},
	} {
		r.typePNR(t, tc.key)
		s := r.s
		if !s.panel.Visible() || !s.blockBox.Visible() || !strings.Contains(s.blockText.Text, tc.want.Message()) {
			t.Errorf("%s: block box %v, text %q; want %q", tc.key, s.blockBox.Visible(), s.blockText.Text, tc.want.Message())
		}
		if s.okBox.Visible() || !s.send.Disabled() {
			t.Errorf("%s: Skicka enabled or 'kan ta emot' shown", tc.key)
		}
		if tc.key == demo.NeverSignedIn {
			assertMarkup(t, "send_blocked.xml", f.win.Canvas())
			capturePNG(t, f.win, "send_blocked")
		}
		// Neither the button, the shortcut nor a direct call sends.
		test.Tap(s.send)
		s.text.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
		s.doSend()
		f.wait()
	}
	if len(r.done) != 0 || totalCases(casesPerResident(f, t)) != before {
		t.Fatalf("a blocked resident got a case: %d sent", len(r.done))
	}
	for _, e := range accessLogNow(f, t, r.sess.ClinicID) {
		if e.Action == app.AccessSend {
			t.Errorf("a send was logged: %+v", e)
		}
	}
}

// The service re-checks: a resident who locks their login between the
// look-up and the send is refused, with the reason in the panel.
func TestR10_LockedAfterLookupIsRefusedAtSend(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Fråga om hur det går")
	r.typePNR(t, demo.AdultBoth)
	id := f.ds.Persona[demo.AdultBoth]
	err := f.store.UpdateResident(context.Background(), id, func(res *app.Resident) error {
		res.Account.LoginLocked = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	test.Tap(r.s.send)
	f.wait()
	if len(r.done) != 0 || !r.s.blockBox.Visible() || !strings.Contains(r.s.blockText.Text, app.BlockLoginLocked.Message()) {
		t.Fatalf("sent %d, block %q", len(r.done), r.s.blockText.Text)
	}
	if !strings.Contains(r.s.errText.Text, "Inget har skickats") || !r.s.send.Disabled() {
		t.Errorf("error %q, send disabled %v", r.s.errText.Text, r.s.send.Disabled())
	}
	if cs := casesPerResident(f, t)[id]; len(cs) != 1 { // the demo case only
		t.Errorf("%d cases for the locked resident", len(cs))
	}
}

// R5, R6: a child under 13 — the message goes to the child's inbox, the
// guardian with contact details under the child's settings is notified,
// the blocked guardian is not.
func TestR5_R6_ChildShowsNotifiedGuardians(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffChildClinic, "Barn- och ungdomsmottagningen Huskvarna")
	r.chooseTemplate(t, "Vaccination")
	r.typePNR(t, demo.Child12y11m)
	s := r.s
	if s.blockBox.Visible() || !s.factBox.Visible() || !strings.Contains(s.factText.Text, "barnets inkorg") {
		t.Fatalf("child: block %v, facts %q", s.blockBox.Visible(), s.factText.Text)
	}
	if got := s.notifiedGuardians(); !slices.Equal(got, []string{"Åke Lindberg"}) {
		t.Errorf("notified guardians %q, want Åke Lindberg", got)
	}
	if !strings.Contains(s.guardians.Text, "Åke Lindberg – aviseras") ||
		!strings.Contains(s.guardians.Text, "Ylva Lindberg – ombudsbehörigheten är spärrad, aviseras inte") {
		t.Errorf("guardians %q", s.guardians.Text)
	}
	assertMarkup(t, "send_child.xml", f.win.Canvas())
	capturePNG(t, f.win, "send_child")
	test.Tap(s.send)
	f.wait()
	if len(r.done) != 1 || r.done[0].ResidentID != f.ds.Persona[demo.Child12y11m] {
		t.Fatalf("child not sent to: %+v, %q", r.done, s.errText.Text)
	}
}

// R9: the address of a person with protected identity is never shown,
// even when the register record holds one.
func TestR9_ProtectedIdentityAddressNotShown(t *testing.T) {
	withAddress := func(st *storage.Store, ds *demo.Dataset) {
		err := st.UpdateResident(context.Background(), ds.Persona[demo.Protected], func(r *app.Resident) error {
			r.Register.Address = app.Address{Street: "Hemliga gatan 7", PostalCode: "553 99", City: "Jönköping"}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	f := newFixture(t, false, nil, withAddress)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Kallelse till årskontroll")
	r.typePNR(t, demo.Protected)
	s := r.s
	if s.address.Text != L(textAddressHidden) {
		t.Errorf("address %q, want %q", s.address.Text, L(textAddressHidden))
	}
	markup := test.RenderToMarkup(f.win.Canvas())
	if strings.Contains(markup, "Hemliga") || strings.Contains(markup, "553 99") {
		t.Fatal("the protected address is on screen")
	}
	if !strings.Contains(s.factText.Text, factText(app.FactProtectedIdentity, nil)) || s.send.Disabled() {
		t.Errorf("protected identity: facts %q, send disabled %v (R9: sending goes ahead)", s.factText.Text, s.send.Disabled())
	}
	assertMarkup(t, "send_protected.xml", f.win.Canvas())
}

func TestSend_EmptySubjectOrTextIsRefusedAtTheField(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Fråga om hur det går")
	r.typePNR(t, demo.AdultSMS)
	r.s.subject.SetText("  ")
	r.s.text.SetText("")
	before := totalCases(casesPerResident(f, t))
	test.Tap(r.s.send)
	f.wait()
	if r.s.subjectMsg.Text != L(textSubjectEmpty) || !r.s.subjectMsg.Visible() || r.s.textMsg.Text != L(textTextEmpty) {
		t.Errorf("messages %q / %q", r.s.subjectMsg.Text, r.s.textMsg.Text)
	}
	assertMarkup(t, "send_empty.xml", f.win.Canvas())
	if len(r.done) != 0 || totalCases(casesPerResident(f, t)) != before {
		t.Fatal("an empty message was sent")
	}
	test.Type(r.s.subject, "Hej")
	if r.s.subjectMsg.Visible() {
		t.Error("the subject message should go once there is a subject")
	}
}

// Ctrl+Enter sends from the text and, bound on the canvas, from anywhere.
func TestSend_CtrlEnterSends(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	unbind := bindShortcuts(f.win.Canvas(), r.s.shortcutSend)
	r.chooseTemplate(t, "Fråga om hur det går")
	r.typePNR(t, demo.AdultSMS)
	ctrlEnter := &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}
	r.s.text.TypedShortcut(ctrlEnter)
	f.wait()
	if len(r.done) != 1 {
		t.Fatalf("Ctrl+Enter in the text sent %d", len(r.done))
	}
	// A second Ctrl+Enter on the canvas does not send twice.
	canvasShortcut(f.win.Canvas(), ctrlEnter)
	f.wait()
	if len(r.done) != 1 {
		t.Fatalf("sent again: %d", len(r.done))
	}
	unbind()

	r2 := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	unbind = bindShortcuts(f.win.Canvas(), r2.s.shortcutSend)
	defer unbind()
	r2.chooseTemplate(t, "Fråga om hur det går")
	r2.typePNR(t, demo.AdultBoth)
	canvasShortcut(f.win.Canvas(), &desktop.CustomShortcut{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierControl})
	f.wait()
	if len(r2.done) != 1 {
		t.Fatalf("Ctrl+Enter on the canvas sent %d", len(r2.done))
	}
	// Other shortcuts still reach the entry.
	r2.s.subject.SetText("abc")
	r2.s.subject.TypedShortcut(&fyne.ShortcutSelectAll{})
	if r2.s.subject.SelectedText() != "abc" {
		t.Error("Ctrl+A no longer selects in the entry")
	}
}

// An edited text is not replaced by the next template without asking.
func TestSend_EditedTextSurvivesTemplateChange(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Fråga om hur det går")
	r.s.text.SetText("Min egen text")
	tpl := r.chooseTemplate(t, "Provsvar utan anmärkning")
	if r.s.text.Text != "Min egen text" || !r.s.edited.Visible() {
		t.Fatalf("text %q, note %v", r.s.text.Text, r.s.edited.Visible())
	}
	test.Tap(r.s.useTpl)
	if r.s.text.Text != tpl.Body || r.s.subject.Text != tpl.Subject || r.s.edited.Visible() {
		t.Errorf("after %q: text %q", L(textUseTemplate), r.s.text.Text)
	}
	// Untouched text follows the template.
	tpl = r.chooseTemplate(t, "Komplettering behövs")
	if r.s.text.Text != tpl.Body {
		t.Errorf("untouched text not replaced: %q", r.s.text.Text)
	}
}

// Only Information and Fråga are offered: another kind (standard replies)
// is not a message to send.
func TestSend_OnlyInformationAndQuestionTemplates(t *testing.T) {
	addReply := func(st *storage.Store, ds *demo.Dataset) {
		tp := app.MessageTemplate{ID: app.NewID(now), ClinicID: ds.Clinics[0].ID, Name: "Standardsvar tack", Kind: "standardsvar", Subject: "Tack", Body: "Tack."}
		if err := st.PutTemplate(context.Background(), &tp); err != nil {
			t.Fatal(err)
		}
	}
	f := newFixture(t, false, nil, addReply)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	if len(r.s.tpls) != 4 || len(r.s.template.Options) != 4 {
		t.Fatalf("offered %d templates, want the clinic's 4 of kind Information and Fråga", len(r.s.tpls))
	}
	for _, o := range r.s.template.Options {
		if strings.Contains(o, "Standardsvar") {
			t.Errorf("offered %q", o)
		}
	}
}

// A look-up that returns after the number changed is dropped.
func TestSend_LateLookupIsDropped(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.s.pnr.SetText(personaResident(f, t, demo.AdultSMS).PNR.String())
	r.s.pnr.SetText(personaResident(f, t, demo.AdultEmail).PNR.String())
	f.wait()
	if r.s.name.Text != "Lars Andersson" {
		t.Errorf("panel shows %q, want the last number's resident", r.s.name.Text)
	}
	test.Tap(r.s.cancel)
	if !r.quit {
		t.Error("Avbryt should call onCancel")
	}
}

func TestShapeOf(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want pnrShape
	}{
		{"", pnrEmpty},
		{"  ", pnrEmpty},
		{"2000", pnrTyping},
		{"20000101-", pnrTyping},
		{"20000101-238", pnrTyping},
		{"20000101-2384", pnrComplete},
		{"000101-2384", pnrComplete},
		{"000101+2384", pnrComplete},
		{"200001012384", pnrComplete},
		{"0001012384", pnrAmbiguous},
		{"20000101238", pnrTyping},
		{"2000010123845", pnrImpossible},
		{"20000101-23845", pnrImpossible},
		{"2000-0101", pnrImpossible},
		{"20000101--", pnrImpossible},
		{"20010704-R017", pnrComplete},
		{"abc", pnrImpossible},
		{"000101123A", pnrComplete},
		{"20000101 2384", pnrImpossible},
		{"ÅÄÖ", pnrImpossible},
	} {
		if got := shapeOf(tc.in); got != tc.want {
			t.Errorf("shapeOf(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// Issue 18, item 2: Avbryt with a message written by hand asks before it
// throws the message away; a template's text as it came does not.
func TestSend_CancelWithWrittenMessageAsks(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Kallelse till årskontroll")
	test.Tap(r.s.cancel)
	if !r.quit {
		t.Fatal("a template's text untouched: Avbryt should leave at once")
	}
	r = newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Kallelse till årskontroll")
	test.Type(&r.s.text.Entry, " Ta med dina mediciner.")
	test.Tap(r.s.cancel)
	if r.quit || !r.s.asked.shown() || r.s.asked.text.Text != L(textAskDiscardBody) {
		t.Fatalf("edited text: left %v, asked %v", r.quit, r.s.asked.shown())
	}
	test.Tap(r.s.asked.no)
	if r.quit || !strings.Contains(r.s.text.Text, " Ta med dina mediciner.") {
		t.Fatal("Fortsätt skriva should keep the screen and the text")
	}
	test.Tap(r.s.cancel)
	test.Tap(r.s.asked.yes)
	if !r.quit {
		t.Error("Kasta texten should leave")
	}
}

// Issue 18, item 5: a pasted 5,000-character subject is cut to the limit
// at once, and the counter says so; near the limit the counter counts;
// the field does not move when the counter appears.
func TestSend_SubjectLimitWhileTyping(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	counter := func() *widget.Label {
		return r.s.subjectCount.(*fyne.Container).Objects[0].(*widget.Label)
	}
	x := r.s.subject.Position()
	r.s.subject.SetText(strings.Repeat("Ont i knät ", 2))
	if counter().Text != "" {
		t.Errorf("far from the limit the counter shows %q", counter().Text)
	}
	r.s.subject.SetText(strings.Repeat("a", 170))
	if counter().Text != "170/200" {
		t.Errorf("near the limit: counter %q, want 170/200", counter().Text)
	}
	if r.s.subject.Position() != x {
		t.Error("the subject field moved when the counter appeared")
	}
	pasted := strings.Repeat("Smärta ", 715) // 5,005 characters
	r.s.subject.SetText("")
	r.s.subject.TypedShortcut(&fyne.ShortcutPaste{Clipboard: clip(pasted)})
	if n := utf8.RuneCountInString(r.s.subject.Text); n != app.MaxSubjectLen {
		t.Fatalf("pasted subject kept %d characters, want %d", n, app.MaxSubjectLen)
	}
	if counter().Text != "200/200 – kortad" || counter().Importance != widget.DangerImportance {
		t.Errorf("after the cut: counter %q", counter().Text)
	}
	assertMarkup(t, "send_subject_cut.xml", f.win.Canvas())
}

// clip is a clipboard holding text, for a paste.
type clip string

func (c clip) Content() string   { return string(c) }
func (c clip) SetContent(string) {}

// Issue 18, item 5: the personnummer field stays where it is while the
// template's message comes and changes above it.
func TestSend_PersonnummerFieldHoldsStill(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	pos := func() float32 {
		f.win.Content().Refresh()
		return r.s.pnr.Position().Y
	}
	y := pos()
	r.chooseTemplate(t, "Kallelse till årskontroll")
	if got := pos(); got != y {
		t.Errorf("choosing a template moved the personnummer field from y=%v to y=%v", y, got)
	}
	r.chooseTemplate(t, "Fråga om hur det går")
	if got := pos(); got != y {
		t.Errorf("another template moved the personnummer field from y=%v to y=%v", y, got)
	}
}

// Issue 18, item 5: Fortsätt holds still when the roles line appears.
func TestSignIn_ContinueHoldsStill(t *testing.T) {
	f := newFixture(t, false, nil)
	f.signIn(t, "Anna Lindqvist")
	s := f.ui.start
	y := func() float32 {
		f.win.Content().Refresh()
		return s.proceed.Position().Y
	}
	before := y()
	s.clinicPick.SetSelected(s.clinicPick.Options[0])
	if after := y(); after != before || !strings.Contains(s.roles.Text, "Roller i") {
		t.Errorf("Fortsätt moved from y=%v to y=%v (roles %q)", before, after, s.roles.Text)
	}
}

// Issue 18, item 6: the panel agrees with the decision. A child nobody
// may act for gets the red reason and no reassuring line about the
// child's inbox; a samordningsnummer is labelled; a child who turns 13
// tomorrow is warned about.
func TestSend_ReachabilityPanelAgreesWithTheDecision(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newSend(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Kallelse till årskontroll")
	r.typePNR(t, demo.ChildProtected)
	inbox := factText(app.FactChildInbox, &app.ResidentView{Child: true})
	if !r.s.blockBox.Visible() || strings.Contains(r.s.factText.Text, inbox) && r.s.factBox.Visible() {
		t.Errorf("blocked child: reason shown %v, facts %q", r.s.blockBox.Visible(), r.s.factText.Text)
	}
	r.typePNR(t, demo.Coordination)
	if !r.s.factBox.Visible() || !strings.Contains(r.s.factText.Text, L(textCoordination)) {
		t.Errorf("samordningsnummer not labelled: %q", r.s.factText.Text)
	}
	r.typePNR(t, demo.Child12y11m)
	if strings.Contains(r.s.factText.Text, "fyller 13") {
		t.Errorf("a month before the birthday: %q", r.s.factText.Text)
	}

	// The day before Elsa's 13th birthday.
	elsa := personaResident(f, t, demo.Child12y11m)
	day := app.ThirteenthBirthday(elsa).Add(-14 * time.Hour)
	st := staffByKey(f, t, demo.StaffReceiver)
	c := f.clinic("Vårdcentralen Centrum")
	s := newSendScreen(sendDeps{
		ctx: context.Background(), tasks: &f.ui.tasks, cases: app.NewCaseService(f.store, app.FixedClock(day)),
		templates: f.store, sess: app.Session{Staff: &st, ClinicID: c.ID}, clinic: c, now: func() time.Time { return day },
	})
	f.win.SetContent(s.content)
	f.wait()
	test.Type(s.pnr, elsa.PNR.String())
	f.wait()
	if !strings.Contains(s.factText.Text, "Barnet fyller 13 år i morgon") || !s.factBox.Visible() {
		t.Errorf("the day before: %q", s.factText.Text)
	}
	assertMarkup(t, "send_turns13.xml", f.win.Canvas())
	capturePNG(t, f.win, "send_turns13")
}
