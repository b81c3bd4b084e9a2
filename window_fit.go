package main

import (
	"log/slog"

	"fyne.io/fyne/v2"
	"github.com/go-gl/glfw/v3.4/glfw"

	"mottagning/ui"
)

// fitToScreen makes the window fit the screen it opens on (issue 17, item
// 4): a 1200×760 window is 1800×1140 pixels at 150 %, taller than a
// 1920×1080 screen, and its bottom and right were cut off. The size the
// window was closed at is remembered (main) and fitted the same way, so a
// size from a larger screen never opens off the edge of a laptop's.
//
// It runs on the main goroutine after Show has created the native window
// (GLFW is then initialised) and before the app runs. The work area is
// the monitor's size less the task bar and docks, in screen coordinates;
// Fyne's screen coordinate is its size times the canvas scale (its
// internal/scale), so the room in Fyne units is the work area divided by
// that scale. Under Wayland the compositor sizes and places windows and
// GLFW has no work area: nothing is changed there.
func fitToScreen(w fyne.Window, want fyne.Size) {
	if glfw.GetPlatform() == glfw.PlatformWayland {
		return
	}
	mon := glfw.GetPrimaryMonitor()
	if mon == nil {
		return
	}
	_, _, width, height := mon.GetWorkarea()
	if width <= 0 || height <= 0 {
		if mode := mon.GetVideoMode(); mode != nil {
			width, height = mode.Width, mode.Height
		}
	}
	scale := w.Canvas().Scale()
	if width <= 0 || height <= 0 || scale <= 0 {
		return
	}
	room := fyne.NewSize(float32(width)/scale, float32(height)/scale)
	fitted := ui.FitWindow(want, room)
	slog.Info("window size", "screen_w", width, "screen_h", height, "scale", scale, "w", fitted.Width, "h", fitted.Height)
	if fitted != want {
		w.Resize(fitted)
		w.CenterOnScreen()
	}
}
