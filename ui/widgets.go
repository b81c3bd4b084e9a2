package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// titledList is a list whose rows are a bold title over a caption line
// (the e-services, templates and staff lists). lines gives row id's two
// texts; truncateCaption shortens a long caption with an ellipsis (the
// title always is).
func titledList(length func() int, truncateCaption bool, lines func(id int) (title, caption string)) *widget.List {
	return widget.NewList(
		length,
		func() fyne.CanvasObject {
			title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			title.Truncation = fyne.TextTruncateEllipsis
			caption := widget.NewLabel("")
			caption.SizeName = theme.SizeNameCaptionText
			if truncateCaption {
				caption.Truncation = fyne.TextTruncateEllipsis
			}
			return container.NewVBox(title, caption)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < 0 || id >= length() {
				return
			}
			t, c := lines(id)
			objs := o.(*fyne.Container).Objects
			objs[0].(*widget.Label).SetText(t)
			objs[1].(*widget.Label).SetText(c)
		},
	)
}

// question is a modal question with two answers, on the canvas of the
// screen that asks: the safe answer (no) is the default button and
// closes it; yes runs onYes. Tests tap yes and no.
type question struct {
	pop     *widget.PopUp
	title   *widget.Label
	text    *widget.Label
	yes, no *widget.Button
}

// askQuestion shows the question over the canvas on is shown on and
// returns it; nil when on is not on a canvas (nothing is asked and
// nothing is done: the caller keeps what it has).
func askQuestion(on fyne.CanvasObject, title, body, yes, no string, onYes func()) *question {
	c := fyne.CurrentApp().Driver().CanvasForObject(on)
	if c == nil {
		return nil
	}
	q := &question{}
	q.title = widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	q.text = widget.NewLabel(body)
	q.text.Wrapping = fyne.TextWrapWord
	q.no = widget.NewButton(no, func() { q.pop.Hide() })
	q.no.Importance = widget.HighImportance
	q.yes = widget.NewButton(yes, func() {
		q.pop.Hide()
		onYes()
	})
	// A wrapping label is as tall as its width makes it: lay it out at the
	// question's width to know its height.
	const width = 440
	q.text.Resize(fyne.NewSize(width, q.text.MinSize().Height))
	content := container.NewVBox(
		q.title,
		container.NewGridWrap(fyne.NewSize(width, q.text.MinSize().Height), q.text),
		container.NewHBox(layout.NewSpacer(), q.yes, q.no),
	)
	q.pop = widget.NewModalPopUp(container.NewPadded(content), c)
	q.pop.Show()
	c.Focus(q.no)
	return q
}

// shown says whether the question is on screen.
func (q *question) shown() bool { return q != nil && q.pop.Visible() }
