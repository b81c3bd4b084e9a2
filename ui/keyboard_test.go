package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"mottagning/app/demo"
)

// The main flows without the mouse (issue 17, item 4; WCAG 2.1.1
// Keyboard, 2.1.2 No Keyboard Trap): Tab and Shift+Tab move between the
// controls, Space presses a button, the arrow keys choose in a list, and
// no field keeps the focus.

// pressTab is the Tab key the way Fyne's window handles it
// (internal/driver/glfw, window.capturesTab): a focused widget that
// accepts Tab gets it as a key; otherwise the focus moves on.
func pressTab(c fyne.Canvas) {
	if tb, ok := c.Focused().(fyne.Tabbable); ok && tb.AcceptsTab() {
		c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyTab})
		return
	}
	c.FocusNext()
}

func pressKey(c fyne.Canvas, k fyne.KeyName) { c.Focused().TypedKey(&fyne.KeyEvent{Name: k}) }

// typeKeys types s into the focused widget, one key at a time.
func typeKeys(c fyne.Canvas, s string) {
	for _, r := range s {
		c.Focused().TypedRune(r)
	}
}

// tabTo presses Tab until target has the focus, failing after max
// presses: the control cannot be reached from the keyboard.
func tabTo(t *testing.T, c fyne.Canvas, target fyne.Focusable, name string, max int) {
	t.Helper()
	for i := 0; i < max; i++ {
		if c.Focused() == target {
			return
		}
		pressTab(c)
	}
	if c.Focused() != target {
		t.Fatalf("%s cannot be reached with Tab (%d presses; focus on %T)", name, max, c.Focused())
	}
}

// Skicka ärende from the keyboard: Ctrl+N, Tab to the template and choose
// it with the arrow keys, type the personnummer, Tab through the text (it
// must let Tab go), Space on Skicka.
func TestKeyboard_SkickaArendeWithoutTheMouse(t *testing.T) {
	f := newFixture(t, false, nil)
	ws := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	c := f.win.Canvas()
	before := ws.clinicCases.len()
	typedShortcut(f.win, keyNew)
	f.wait()
	s := ws.sendScr
	if s == nil {
		t.Fatal("Ctrl+N did not open Skicka ärende")
	}
	tabTo(t, c, s.template, "Meddelandemall", 40)
	const want = "Fråga om hur det går"
	for i := 0; i < len(s.template.Options) && !strings.HasPrefix(s.template.Selected, want); i++ {
		pressKey(c, fyne.KeyRight)
	}
	if !strings.HasPrefix(s.template.Selected, want) {
		t.Fatalf("the arrow keys chose %q", s.template.Selected)
	}
	f.wait()
	tabTo(t, c, s.pnr, "Personnummer", 10)
	pnr := personaResident(f, t, demo.AdultSMS).PNR.String()
	typeKeys(c, pnr)
	f.wait()
	tabTo(t, c, s.text, "Meddelande", 20)
	typeKeys(c, " Svara gärna i dag.")
	pressTab(c)
	if c.Focused() == s.text {
		t.Fatal("Tab stayed in the message text (a keyboard trap)")
	}
	tabTo(t, c, s.send, "Skicka", 10)
	pressKey(c, fyne.KeySpace)
	f.wait()
	if ws.sendScr != nil || !ws.notice.Visible() {
		t.Fatal("Space on Skicka did not send")
	}
	if after := ws.clinicCases.len(); after != before+1 {
		t.Fatalf("%d cases in Mottagningens ärenden after sending, want %d", after, before+1)
	}
}

// A reply in a case from the keyboard: Tab into the reply, type, Tab out
// (not a tab character), Space on Skicka svar; and Shift+Tab goes back.
func TestKeyboard_CaseReplyWithoutTheMouse(t *testing.T) {
	f := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	c := f.win.Canvas()
	before := len(f.stored(t).Messages)
	tabTo(t, c, f.v.reply, "Svar", 40)
	typeKeys(c, "Vi har flyttat din tid.")
	pressTab(c)
	if c.Focused() == f.v.reply || f.v.reply.Text != "Vi har flyttat din tid." {
		t.Fatalf("Tab in the reply: focus %T, text %q", c.Focused(), f.v.reply.Text)
	}
	c.FocusPrevious()
	if c.Focused() != f.v.reply {
		t.Fatalf("Shift+Tab did not go back to the reply (focus %T)", c.Focused())
	}
	tabTo(t, c, f.v.send, "Skicka svar till invånaren", 10)
	pressKey(c, fyne.KeySpace)
	f.wait()
	if got := len(f.stored(t).Messages); got != before+1 {
		t.Fatalf("Space on Skicka svar: %d messages, want %d", got, before+1)
	}
	if last := f.stored(t).Messages[before]; last.Text != "Vi har flyttat din tid." {
		t.Errorf("stored %q", last.Text)
	}
}
