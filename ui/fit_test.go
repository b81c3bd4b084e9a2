package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mottagning/app"
	"mottagning/app/demo"
)

// laptops are the work areas of common clinic laptops, in Fyne units, with
// the Windows taskbar (48 pixels at 100 %) taken off. FitWindow leaves the
// window's frame and title bar out of them.
var laptops = []struct {
	name string
	room fyne.Size
}{
	{"1920×1080 at 150 %", fyne.NewSize(1920/1.5, (1080-48*1.5)/1.5)},
	{"1366×768 at 125 %", fyne.NewSize(1366/1.25, (768-48*1.25)/1.25)},
}

// TestScreens_FitALaptop (issue 17, item 4): no screen, in the state a user
// brings it to, needs more room than the window fitted to a laptop's screen
// has. The window is fitted to the screen, but Fyne makes it as large as
// its content's minimum, so a screen that asks for more grows the window
// past the screen's edge: Massutskick did (its buttons out of sight at
// 150 %), so did Mallar with a template open, Skicka ärende at 125 % on
// 1366×768, a nurse's top bar and the e-service editor with a long question
// were wider than that screen.
func TestScreens_FitALaptop(t *testing.T) {
	check := func(t *testing.T, f *fixture, what string) {
		t.Helper()
		f.wait()
		got := f.win.Content().MinSize()
		for _, l := range laptops {
			room := FitWindow(fyne.NewSize(1e4, 1e4), l.room)
			if got.Width > room.Width || got.Height > room.Height {
				t.Errorf("%s needs %.0f×%.0f units; on %s the window has %.0f×%.0f", what, got.Width, got.Height, l.name, room.Width, room.Height)
			}
		}
	}

	t.Run("Anna", func(t *testing.T) {
		f := newFixture(t, false, nil)
		w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
		check(t, f, "Mottagningens ärenden")
		for _, text := range []string{L(textQueued), L(cvFlushFailed)} {
			w.notice.SetText(text)
			w.notice.Show()
			check(t, f, "the top bar saying "+text)
		}
		w.notice.Hide()

		w.openCase(w.clinicCases.row(0))
		check(t, f, "an open case")
		w.closeScreen()

		w.showSend()
		s := w.sendScr
		s.template.SetSelectedIndex(0)
		test.Type(s.pnr, personaResident(f, t, demo.Child12y11m).PNR.String())
		check(t, f, "Skicka ärende with a template and a child's number")
		test.Tap(s.cancel)
		f.wait()

		w.showBulk()
		b := w.bulkScr
		b.template.SetSelectedIndex(0)
		b.list.SetText(mixedBulkList(t, f))
		test.Tap(b.check)
		check(t, f, "Massutskick with a checked list")
	})

	t.Run("David", func(t *testing.T) {
		f := newFixture(t, false, nil)
		f.ui.deps.EServices = app.NewEServiceBuilder(f.store, f.store, app.FixedClock(now))
		w := f.open(t, "David Sundberg", "Vårdcentralen Centrum")
		w.templ.list.Select(0)
		check(t, f, "Mallar with a template open")

		for i, it := range w.tabs.Items {
			if it.Text == L(textEsTab) {
				w.tabs.SelectIndex(i)
			}
		}
		es := f.ui.eservices
		if !es.selectByName("Hälsodeklaration inför hälsosamtal") {
			t.Fatal("no local e-service in the demo clinic")
		}
		f.wait()
		for _, id := range []string{"cigaretter", "motion"} {
			es.selectItem(id)
			check(t, f, "E-tjänster editing "+id)
			f.win.Resize(FitWindow(fyne.NewSize(1e4, 1e4), laptops[1].room)) // for the picture (UI_PNG)
			capturePNG(t, f.win, "fit_eservices_"+id)
		}
	})

	t.Run("OtherRoles", func(t *testing.T) {
		for _, who := range []string{"Fredrik Nordin", "Eva Bergström"} {
			f := newFixture(t, false, nil)
			f.open(t, who, "Vårdcentralen Centrum")
			check(t, f, who+"'s tool")
		}
		f := newFixture(t, false, nil)
		f.ui.deps.ContactCenter = app.NewContactCenterService(f.store, app.FixedClock(now))
		f.signIn(t, "Greta Lundgren")
		c := f.ui.contact
		test.Type(c.pnr, personaResident(f, t, demo.AdultSMS).PNR.String())
		test.Tap(c.find)
		check(t, f, "Kontaktcenter with a resident found")
	})
}

func TestShortened(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Röker du?", 40, "Röker du?"},
		{"Hur ofta har du känt dig nedstämd de senaste två veckorna?", 20, "Hur ofta har du kän…"},
		{"Åäö åäö åäö", 5, "Åäö…"},
		{"Åäö", 1, "…"},
		{"Åäö", 0, ""},
	} {
		if got := shortened(tc.in, tc.n); got != tc.want {
			t.Errorf("shortened(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
