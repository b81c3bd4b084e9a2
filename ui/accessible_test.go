package ui

import (
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mottagning/app/demo"
	"mottagning/app/form"
)

// fileName is what an unnamed icon button reads out: its icon's resource.
var fileName = regexp.MustCompile(`(?i)\.(svg|png)$`)

// unlabelled lists the buttons and links under o (through every widget's
// renderer, and every open dialog) that a screen reader would read without
// a name: an empty label or an icon's file name (Fyne 2.8's
// fyne.Accessible; issue 17, item 4).
func unlabelled(c fyne.Canvas) []string {
	var out []string
	objs := test.LaidOutObjects(c.Content())
	for _, ov := range c.Overlays().List() {
		objs = append(objs, test.LaidOutObjects(ov)...)
	}
	for _, o := range objs {
		a, ok := o.(fyne.Accessible)
		if !ok || !o.Visible() {
			continue
		}
		role := a.AccessibilityRole()
		if role != fyne.AccessibleRoleButton && role != fyne.AccessibleRoleLink {
			continue
		}
		if l := strings.TrimSpace(a.AccessibilityLabel()); l == "" || fileName.MatchString(l) {
			out = append(out, strings.TrimSpace(string(role)+" "+l))
		}
	}
	return out
}

// Every button and link of the main screens has a name for a screen
// reader: the case lists and every tab of each role, Skicka ärende, a
// case, and the e-service builder with its icon-only tools (move, remove).
func TestAccessibility_EveryButtonIsNamed(t *testing.T) {
	check := func(t *testing.T, where string, c fyne.Canvas) {
		t.Helper()
		if bad := unlabelled(c); len(bad) > 0 {
			t.Errorf("%s: buttons without a name: %q", where, bad)
		}
	}
	for _, staff := range []string{"Anna Lindqvist", "David Sundberg", "Eva Bergström", "Fredrik Nordin"} {
		f := newFixture(t, false, nil)
		w := f.open(t, staff, "Vårdcentralen Centrum")
		for i := range w.tabs.Items {
			w.tabs.SelectIndex(i)
			f.wait()
			check(t, staff+" / "+w.tabs.Items[i].Text, f.win.Canvas())
		}
		if w.send.Visible() {
			typedShortcut(f.win, keyNew)
			f.wait()
			check(t, staff+" / Skicka ärende", f.win.Canvas())
		}
	}
	cv := openCase(t, demo.StaffReceiver, "Vårdcentralen Centrum", subject("Omboka tid"))
	check(t, "a case", cv.win.Canvas())

	r := openBuilder(t)
	test.Tap(r.s.newBtn)
	test.Type(r.s.newName, "Rökvanor inför operation")
	test.Tap(r.s.newOK)
	r.f.wait()
	r.add(t, form.TypeChoice, "Hur mår du?", true)
	r.add(t, form.TypeText, "Beskriv", false)
	check(t, "E-tjänster with two fields", r.f.win.Canvas())
	if n := len(unlabelledWithout(r.f.win.Canvas())); n == 0 {
		t.Fatal("the builder shows no icon-only buttons: the check above proves nothing")
	}
}

// unlabelledWithout is what unlabelled would report if the icon buttons
// were plain widget.Buttons (their fallback label is the icon's name).
func unlabelledWithout(c fyne.Canvas) []string {
	var out []string
	for _, o := range test.LaidOutObjects(c.Content()) {
		if b, ok := o.(*iconButton); ok && b.Visible() && fileName.MatchString(b.Button.AccessibilityLabel()) {
			out = append(out, b.Button.AccessibilityLabel())
		}
	}
	return out
}
