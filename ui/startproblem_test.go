package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestStartProblemShowsTheMessage: the window shown when the database
// cannot be opened (a damaged file, issue 15 item 3) carries the whole
// message, closes the program with Stäng, and copies the text for IT.
func TestStartProblemShowsTheMessage(t *testing.T) {
	a := test.NewTempApp(t)
	const msg = "Databasfilen /home/anna/.config/Mottagning/mottagning.db är skadad: en del av den går inte att läsa. " +
		"Ingenting har ändrats i den. Återställ filen från en säkerhetskopia, och be IT kontrollera disken och filen (bbolt check)."
	quit, copied := false, ""
	w := a.NewWindow("Mottagning")
	const logFile = "/home/anna/.cache/Mottagning/mottagning.log"
	w.SetContent(StartProblem(msg, logFile, func(s string) { copied = s }, func() { quit = true }))
	w.Resize(fyne.NewSize(640, 300))
	w.Show()
	defer w.Close()

	shown := labels(w.Content())
	found := false
	for _, s := range shown {
		found = found || s == msg
	}
	if !found || !slices.Contains(shown, "Mottagning kan inte starta") || shown[len(shown)-2] != "[Stäng]" || shown[len(shown)-1] != "[Kopiera texten]" {
		t.Fatalf("shown %q; want the title, the whole message and the two buttons", shown)
	}
	if !slices.Contains(shown, "Loggfil: "+logFile) {
		t.Errorf("shown %q; want the log file named", shown)
	}
	buttons := []*widget.Button{findButton(t, w.Content(), "Stäng"), findButton(t, w.Content(), "Kopiera texten")}
	test.Tap(buttons[1])
	test.Tap(buttons[0])
	if !quit || copied != msg {
		t.Fatalf("quit %v, copied %q", quit, copied)
	}
	capture(t, w, "start-problem")
}
