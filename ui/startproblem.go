package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// StartProblem is the window's content when the program cannot start
// (a damaged or locked database, a full disk, a wrong setting): what is
// wrong and what to do, in the user's words, and a button that closes
// the program. Nothing has been changed when it shows. logFile, when set,
// is named (the log file IT asks for). copyText, when set, puts the
// message on the clipboard (for IT or support).
func StartProblem(message, logFile string, copyText func(string), quit func()) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(L("startproblem.mottagning_cannot_start"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	msg := widget.NewLabel(message)
	msg.Wrapping = fyne.TextWrapWord
	icon := widget.NewIcon(theme.ErrorIcon())
	closeBtn := widget.NewButtonWithIcon(L("common.close"), theme.CancelIcon(), quit)
	closeBtn.Importance = widget.HighImportance
	buttons := container.NewHBox(closeBtn)
	if copyText != nil {
		buttons.Add(widget.NewButtonWithIcon(L("common.copy_text"), theme.ContentCopyIcon(), func() { copyText(message) }))
	}
	body := container.NewVBox(msg)
	if logFile != "" {
		l := widget.NewLabel(Lf("startproblem.log_file", logFile))
		l.Wrapping = fyne.TextWrapBreak
		l.TextStyle.Italic = true
		body.Add(l)
	}
	return container.NewPadded(container.NewBorder(
		container.NewHBox(icon, title), buttons, nil, nil,
		container.NewVScroll(body)))
}
