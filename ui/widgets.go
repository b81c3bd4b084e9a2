package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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
