package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
)

// Blocked guardian (shared/DOMAIN.md): the lokal administratör's screen
// on the real store and the real GuardianService.

type guardiansRun struct {
	f *fixture
	s *guardiansScreen
}

func openGuardians(t *testing.T, key, clinic string) *guardiansRun {
	t.Helper()
	f := newFixture(t, false, nil)
	s := newGuardiansScreen(guardiansDeps{
		ctx: context.Background(), tasks: &f.ui.tasks, svc: app.NewGuardianService(f.store, app.FixedClock(now)),
		sess: f.sessionOf(t, key, clinic), clinic: f.clinic(clinic), clock: app.FixedClock(now),
	})
	f.win.SetContent(s.content)
	f.wait()
	return &guardiansRun{f: f, s: s}
}

// lookUp types a persona's personnummer as a person would.
func (r *guardiansRun) lookUp(t *testing.T, key string) *app.Resident {
	t.Helper()
	res := r.f.residentByKey(t, key)
	test.Type(r.s.pnr, res.PNR.String())
	r.f.wait()
	return res
}

func (r *guardiansRun) guardian(t *testing.T, id app.ID) app.Guardianship {
	t.Helper()
	child, err := r.f.store.Resident(context.Background(), r.f.ds.Persona[demo.Child12y11m])
	if err != nil {
		t.Fatal(err)
	}
	g, ok := child.Guardianship(id)
	if !ok {
		t.Fatalf("%s is not a guardian", id)
	}
	return g
}

func (r *guardiansRun) logged(t *testing.T) int {
	t.Helper()
	es, err := r.f.store.Entries(context.Background(), r.s.sess.ClinicID, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func TestBlockedGuardian_ShowsTheChildAndEachGuardian(t *testing.T) {
	r := openGuardians(t, demo.StaffLocalAdmin, "Barn- och ungdomsmottagningen Huskvarna")
	s := r.s
	r.lookUp(t, demo.Child12y11m)
	if !s.panel.Visible() || s.child == nil || s.pnrMsg.Visible() {
		t.Fatalf("the child should show (message %q)", s.pnrMsg.Text)
	}
	if s.name.Text != "Elsa Lindberg" || !strings.HasPrefix(s.age.Text, "12 år") {
		t.Errorf("child %q, %q", s.name.Text, s.age.Text)
	}
	markup := test.RenderToMarkup(r.f.win.Canvas())
	for _, want := range []string{"Ylva Lindberg", "Åke Lindberg", L(textGrdMayAct), "Spärrad sedan"} {
		if !strings.Contains(markup, want) {
			t.Errorf("the screen should show %q", want)
		}
	}
	ylva, ake := r.f.ds.Persona[demo.GuardianBlocked], r.f.ds.Persona[demo.GuardianNotified]
	if s.buttons[ylva].Text != L(textGrdUnblock) || s.buttons[ake].Text != L(textGrdBlock) {
		t.Errorf("buttons %q / %q", s.buttons[ylva].Text, s.buttons[ake].Text)
	}
	if n := r.logged(t); n != 1 {
		t.Errorf("%d access-log entries, want the one lookup", n)
	}
	assertMarkup(t, "guardians_child.xml", r.f.win.Canvas())
	staffToolPNG(t, r.f.win, "guardians_child")
}

func TestBlockedGuardian_BlockAfterConfirmation(t *testing.T) {
	r := openGuardians(t, demo.StaffLocalAdmin, "Barn- och ungdomsmottagningen Huskvarna")
	s := r.s
	r.lookUp(t, demo.Child12y11m)
	ake := r.f.ds.Persona[demo.GuardianNotified]

	// Avbryt writes nothing.
	test.Tap(s.buttons[ake])
	if s.ask == nil || !s.ask.Visible() {
		t.Fatal("Spärra should ask first")
	}
	if !strings.Contains(s.askTitle.Text, "Åke Lindberg") || !strings.Contains(s.askBody.Text, "inte längre agera för barnet i 1177") ||
		!strings.Contains(s.askBody.Text, "inga aviseringar om barnet") || s.confirm.Text != L(textGrdBlock) {
		t.Errorf("confirmation %q / %q / %q", s.askTitle.Text, s.askBody.Text, s.confirm.Text)
	}
	staffToolPNG(t, r.f.win, "guardians_confirm")
	test.Tap(s.cancel)
	r.f.wait()
	if s.ask.Visible() || r.guardian(t, ake).Blocked {
		t.Fatal("Avbryt must close the question and change nothing")
	}

	test.Tap(s.buttons[ake])
	test.Tap(s.confirm)
	r.f.wait()
	g := r.guardian(t, ake)
	if !g.Blocked || g.BlockedBy != s.sess.Staff.ID || g.BlockedClinic != s.sess.ClinicID {
		t.Fatalf("after Spärra: %+v", g)
	}
	if s.status.Text != L(textGrdBlockedOK) || s.buttons[ake].Text != L(textGrdUnblock) {
		t.Errorf("after Spärra: status %q, button %q", s.status.Text, s.buttons[ake].Text)
	}

	// And back: Häv spärr.
	test.Tap(s.buttons[ake])
	if s.confirm.Text != L(textGrdUnblock) || !strings.Contains(s.askTitle.Text, "Häva spärren") {
		t.Errorf("unblock question %q / %q", s.askTitle.Text, s.confirm.Text)
	}
	test.Tap(s.confirm)
	r.f.wait()
	if r.guardian(t, ake).Blocked || s.status.Text != L(textGrdUnblockedOK) || s.buttons[ake].Text != L(textGrdBlock) {
		t.Errorf("after Häv spärr: blocked %v, status %q", r.guardian(t, ake).Blocked, s.status.Text)
	}
}

// The number is checked as it is typed; nothing is looked up (or logged)
// until it is a valid, complete number.
func TestBlockedGuardian_PersonnummerIsCheckedAsTyped(t *testing.T) {
	r := openGuardians(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	test.Type(s.pnr, "2012")
	r.f.wait()
	if s.pnrMsg.Text != L(textPNRHelp) || s.pnrMsg.Importance == widget.DangerImportance {
		t.Errorf("while typing: %q", s.pnrMsg.Text)
	}
	s.pnr.SetText("")
	child := r.f.residentByKey(t, demo.Child12y11m).PNR.String()
	bad := child[:len(child)-1] + string(rune('0'+(child[len(child)-1]-'0'+1)%10))
	test.Type(s.pnr, bad)
	r.f.wait()
	if !s.pnrMsg.Visible() || s.pnrMsg.Text != personnummer.ErrChecksum.Error() || s.panel.Visible() {
		t.Errorf("wrong check digit: %q (panel %v)", s.pnrMsg.Text, s.panel.Visible())
	}
	if n := r.logged(t); n != 0 {
		t.Errorf("%d lookups logged while typing, want none", n)
	}
	staffToolPNG(t, r.f.win, "guardians_bad_pnr")
	// A valid number the register does not know.
	used := map[personnummer.Number]bool{}
	for _, res := range r.f.ds.Residents {
		used[res.PNR] = true
	}
	var unknown personnummer.Number
	for _, n := range demo.TestNumbers() {
		if !used[n] {
			unknown = n
			break
		}
	}
	s.pnr.SetText("")
	test.Type(s.pnr, unknown.String())
	r.f.wait()
	if s.panel.Visible() || s.pnrMsg.Text != L(textNotFound) {
		t.Errorf("unknown number: panel %v, message %q", s.panel.Visible(), s.pnrMsg.Text)
	}
}

// R8: from 13 there is no proxy access to block.
func TestR8_BlockedGuardian_NothingToBlockFromThirteen(t *testing.T) {
	r := openGuardians(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	r.lookUp(t, demo.TeenCleared)
	if !s.panel.Visible() || s.info == nil || !strings.Contains(s.info.Text, "ingen vårdnadshavare kan agera som ombud") ||
		!strings.Contains(s.info.Text, "ombudsbehörighet att spärra") || len(s.buttons) != 0 {
		t.Errorf("a teenager: panel %v, %d buttons, info %v", s.panel.Visible(), len(s.buttons), s.info)
	}
	staffToolPNG(t, r.f.win, "guardians_teen")
}

// R7: a guardian with protected identity may not act, and the screen says why.
func TestR7_BlockedGuardian_ProtectedGuardianShowsWhy(t *testing.T) {
	r := openGuardians(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	r.lookUp(t, demo.ChildProtectedGuard)
	markup := test.RenderToMarkup(r.f.win.Canvas())
	if !strings.Contains(markup, L(textGrdMayNotAct)) || !strings.Contains(markup, "skyddade personuppgifter") {
		t.Error("a guardian with protected identity should be shown as unable to act, with the reason")
	}
}

func TestBlockedGuardian_OtherRolesAreRefused(t *testing.T) {
	r := openGuardians(t, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.lookUp(t, demo.Child12y11m)
	if r.s.panel.Visible() || r.s.pnrMsg.Text != L(textForbidden) {
		t.Errorf("ärendemottagare: panel %v, message %q", r.s.panel.Visible(), r.s.pnrMsg.Text)
	}
	if n := r.logged(t); n != 0 {
		t.Errorf("a refused lookup was logged (%d)", n)
	}
}
