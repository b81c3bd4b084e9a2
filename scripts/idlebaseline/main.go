//go:build ignore

// Command idlebaseline is the raw baseline of scripts/idle-cpu.sh: a Fyne
// window with one label and nothing else, so that the idle CPU of
// Mottagning's window can be compared with what Fyne's event loop costs
// by itself on the same machine. Build it with
// `go build -o idlebaseline scripts/idlebaseline/main.go`.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("se.mottagning.idlebaseline")
	w := a.NewWindow("Mottagning idle baseline")
	w.SetContent(widget.NewLabel("Hej"))
	w.Resize(fyne.NewSize(1200, 760))
	w.ShowAndRun()
}
