package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// overlayTexts are the texts of every label, button and radio option in
// the top overlay (an open dialog), through the widgets' renderers.
func overlayTexts(t *testing.T, w fyne.Window) []string {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog is open")
	}
	var out []string
	for _, o := range test.LaidOutObjects(top) {
		switch x := o.(type) {
		case *widget.Label:
			out = append(out, x.Text)
		case *widget.Button:
			out = append(out, "["+x.Text+"]")
		case *widget.RadioGroup:
			out = append(out, x.Options...)
		}
	}
	return out
}

// overlayButton is the button with text in the top overlay.
func overlayButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q in the dialog", text)
	return nil
}

func menuItem(t *testing.T, m *fyne.MainMenu, label string) *fyne.MenuItem {
	t.Helper()
	for _, menu := range m.Items {
		for _, it := range menu.Items {
			if it.Label == label {
				return it
			}
		}
	}
	t.Fatalf("no menu item %q", label)
	return nil
}

// The About box (issue 17, item 5) names the version, the log file IT
// asks for and the data directory, and copies the log file's path.
func TestAbout_ShowsVersionAndLogFile(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("Mottagning")
	w.Resize(fyne.NewSize(1000, 700))
	w.Show()
	defer w.Close()
	info := AboutInfo{Version: "0.1.0 (1)", LogFile: "/home/anna/.cache/Mottagning/mottagning.log", DataDir: "/home/anna/.config/Mottagning"}
	copied := ""
	m := MainMenu(w, a.Preferences(), info, func(s string) { copied = s })
	menuItem(t, m, "Om Mottagning").Action()
	shown := overlayTexts(t, w)
	for _, want := range []string{info.Version, info.LogFile, info.DataDir, "[Kopiera sökvägen]"} {
		if !slices.Contains(shown, want) {
			t.Errorf("the About box shows %q; want %q", shown, want)
		}
	}
	if !strings.Contains(strings.Join(shown, "\n"), "inga personnummer") {
		t.Errorf("the About box does not say the log holds no personal data: %q", shown)
	}
	capture(t, w, "about")
	test.Tap(overlayButton(t, w, "Kopiera sökvägen"))
	if copied != info.LogFile {
		t.Errorf("copied %q", copied)
	}

	// Without a log file it says so instead of showing an empty path.
	w.Canvas().Overlays().Top().Hide()
	w.Canvas().Overlays().Remove(w.Canvas().Overlays().Top())
	ShowAbout(w, AboutInfo{Version: "dev"}, nil)
	if shown := overlayTexts(t, w); !slices.Contains(shown, L(textAboutNoLog)) {
		t.Errorf("without a log file: %q", shown)
	}
}

// The language is chosen in the window (issue 17, item 6) and kept in the
// Preferences, where main reads it at the next start.
func TestLanguage_ChoiceIsStoredInPreferences(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("Mottagning")
	w.Resize(fyne.NewSize(1000, 700))
	w.Show()
	defer w.Close()
	prefs := a.Preferences()
	m := MainMenu(w, prefs, AboutInfo{}, nil)
	menuItem(t, m, L(textMenuLanguage)).Action()
	shown := overlayTexts(t, w)
	if !slices.Contains(shown, "Svenska") || !slices.Contains(shown, "English") {
		t.Fatalf("the language dialog shows %q", shown)
	}
	var radio *widget.RadioGroup
	for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
		if r, ok := o.(*widget.RadioGroup); ok {
			radio = r
		}
	}
	if radio.Selected != "Svenska" {
		t.Errorf("selected %q in a Swedish window", radio.Selected)
	}
	radio.SetSelected("English")
	if prefs.String(LangPref) != "" {
		t.Fatal("stored before Spara")
	}
	test.Tap(overlayButton(t, w, "Spara"))
	if got := prefs.String(LangPref); got != "en" {
		t.Fatalf("stored %q, want en", got)
	}
	if shown := overlayTexts(t, w); !slices.Contains(shown, L(textLangSaved)) {
		t.Errorf("no confirmation: %q", shown)
	}
	capture(t, w, "language")

	// Opened again, the stored choice is the selected one.
	w.Canvas().Overlays().Top().Hide()
	ShowLanguage(w, prefs, true)
	for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
		if r, ok := o.(*widget.RadioGroup); ok && r.Selected != "English" {
			t.Errorf("reopened with %q selected", r.Selected)
		}
	}
	if shown := overlayTexts(t, w); !slices.Contains(shown, L(textLangFixedFlag)) {
		t.Errorf("a language fixed by --lang is not explained: %q", shown)
	}
}

// The window fits the screen it opens on (issue 17, item 4): 1200×760
// units at 150 % on a 1920×1080 screen with a 40-pixel task bar leave
// 1280×693 units of room.
func TestFitWindow(t *testing.T) {
	for _, c := range []struct {
		name       string
		want, room fyne.Size
		out        fyne.Size
	}{
		{"100 % on 1920×1080", fyne.NewSize(1200, 760), fyne.NewSize(1920, 1040), fyne.NewSize(1200, 760)},
		{"150 % on 1920×1080", fyne.NewSize(1200, 760), fyne.NewSize(1280, 693.3), fyne.NewSize(1200, 645)},
		{"200 % on 1920×1080", fyne.NewSize(1200, 760), fyne.NewSize(960, 520), fyne.NewSize(944, 480)},
		{"remembered from a big screen", fyne.NewSize(2400, 1300), fyne.NewSize(1366, 728), fyne.NewSize(1350, 680)},
		{"tiny screen", fyne.NewSize(1200, 760), fyne.NewSize(600, 400), fyne.NewSize(600, 400)},
	} {
		if got := FitWindow(c.want, c.room); got != c.out {
			t.Errorf("%s: FitWindow(%v, %v) = %v, want %v", c.name, c.want, c.room, got, c.out)
		}
	}
}
