package ui

import (
	"unicode/utf8"

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

// textChooseOne is the placeholder of a drop-down list with nothing
// chosen, instead of Fyne's English "(Select one)".
const textChooseOne = "widgets.choose"

// newSelect is widget.NewSelect with a Swedish placeholder; set
// PlaceHolder after it for a more telling one.
func newSelect(options []string, changed func(string)) *widget.Select {
	s := widget.NewSelect(options, changed)
	s.PlaceHolder = L(textChooseOne)
	return s
}

// fileDialogSize is the size of a file dialog over win: most of the
// window, so that names and folders can be read (Fyne's default is small).
func fileDialogSize(win fyne.Window) fyne.Size {
	size := fyne.NewSize(900, 600)
	if win != nil {
		c := win.Canvas().Size()
		size = fyne.NewSize(max(min(c.Width*0.85, 1100), 640), max(min(c.Height*0.85, 800), 440))
	}
	return size
}

// Texts of the length counter.
const (
	textCounter    = "widgets.counter_of_limit"
	textCounterCut = "widgets.shortened"
)

// limitEntry keeps e's text within max characters while typing or
// pasting: a longer paste is cut to max, and the counter says so. From
// 80 % of max the counter shows how many characters are used. It returns
// the counter, to place beside the field's label; its width is fixed, so
// nothing moves when it appears. Call it after setting e.OnChanged.
func limitEntry(e *widget.Entry, max int) fyne.CanvasObject {
	counter := widget.NewLabel("")
	counter.SizeName = theme.SizeNameCaptionText
	counter.Alignment = fyne.TextAlignTrailing
	show := func(n int, cut bool) {
		counter.Importance = widget.MediumImportance
		switch {
		case cut:
			counter.Importance = widget.DangerImportance
			counter.SetText(Lf(textCounterCut, thousands(n), thousands(max)))
		case n*5 >= max*4:
			if n >= max {
				counter.Importance = widget.WarningImportance
			}
			counter.SetText(Lf(textCounter, thousands(n), thousands(max)))
		default:
			counter.SetText("")
		}
	}
	prev := e.OnChanged
	e.OnChanged = func(s string) {
		if n := utf8.RuneCountInString(s); n > max {
			e.SetText(string([]rune(s)[:max])) // runs this again with the cut text
			show(max, true)
			return
		}
		show(utf8.RuneCountInString(s), false)
		if prev != nil {
			prev(s)
		}
	}
	probe := widget.NewLabel(Lf(textCounterCut, thousands(max), thousands(max)))
	probe.SizeName = theme.SizeNameCaptionText
	return container.NewGridWrap(fyne.NewSize(probe.MinSize().Width, probe.MinSize().Height), counter)
}

// steadyBox holds a message label at least lines lines tall, so that
// what is below it stays in place as the message comes, changes and goes
// (Skicka ärende's personnummer field under the template's message).
func steadyBox(l *widget.Label, lines int) fyne.CanvasObject {
	one := widget.NewLabel("Ag").MinSize().Height
	two := widget.NewLabel("Ag\nAg").MinSize().Height
	return container.New(&minHeight{h: one + float32(lines-1)*(two-one)}, l)
}

// minHeight lays its objects over its whole size and is at least h tall.
type minHeight struct{ h float32 }

func (m *minHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		if o.Visible() {
			s = s.Max(o.MinSize())
		}
	}
	return fyne.NewSize(s.Width, max(s.Height, m.h))
}

// Layout lays the objects over the whole size, as Fyne's stack does.
func (m *minHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	layout.NewStackLayout().Layout(objs, size)
}

// optionsWide holds a select at least as wide as its longest option, up
// to max: in a row of filters each shows all of its choice ("Alla
// handläggare", not "Alla ..."), whichever language and text size. Fyne
// sizes a select by its placeholder only. Options set later count too.
type optionsWide struct {
	s   *widget.Select
	max float32
}

// wideSelect is s in an optionsWide at most max wide.
func wideSelect(s *widget.Select, max float32) fyne.CanvasObject {
	return container.New(&optionsWide{s: s, max: max}, s)
}

func (o *optionsWide) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := o.s.MinSize()
	th := o.s.Theme()
	size := th.Size(theme.SizeNameText)
	var w float32
	for _, opt := range o.s.Options {
		w = max(w, fyne.MeasureText(opt, size, fyne.TextStyle{}).Width)
	}
	pad := th.Size(theme.SizeNameInnerPadding)
	w += pad*4 + th.Size(theme.SizeNameInlineIcon)
	return fyne.NewSize(max(m.Width, min(w, o.max)), m.Height)
}

func (o *optionsWide) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	layout.NewStackLayout().Layout(objs, size)
}

// askDiscard is Avbryt of a screen with a message: leave runs at once when
// nothing was written (written false), otherwise after "Kasta texten?".
// It returns the question asked, nil when none.
func askDiscard(on fyne.CanvasObject, written bool, leave func()) *question {
	if leave == nil {
		leave = func() {}
	}
	if written {
		if q := askQuestion(on, L(cvAskLeaveTitle), L(textAskDiscardBody), L(cvAskLeaveYes), L(cvAskLeaveNo), leave); q != nil {
			return q
		}
	}
	leave()
	return nil
}

// textArea is a multi-line entry (word-wrapped) that leaves Tab to move
// the focus, as the single-line fields do. Fyne's multi-line Entry takes
// Tab as a character, which traps a keyboard-only user in the field
// (WCAG 2.1.2); the texts of Mottagning need no tab characters.
type textArea struct {
	widget.Entry
}

func newTextArea() *textArea {
	e := &textArea{}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab is false: Tab moves the focus on.
func (e *textArea) AcceptsTab() bool { return false }

// Names of the buttons that show only an icon, for screen readers (the
// accessible label; Fyne would otherwise read the icon's file name).
const (
	textA11yMoveUp          = "widgets.move_field_up"
	textA11yMoveDown        = "widgets.move_field_down"
	textA11yRemoveItem      = "widgets.remove_field"
	textA11yRemoveOption    = "widgets.remove_answer_option"
	textA11yRemoveCondition = "widgets.remove_condition"
	textA11yRemoveNamed     = "widgets.remove_person_from_list"
)

// iconButton is a button that shows only an icon and names its action to
// assistive technology (fyne.Accessible, Fyne 2.8): a plain icon button's
// accessible label is the icon's resource name, such as "delete.svg".
type iconButton struct {
	widget.Button
	name string
}

func newIconButton(name string, icon fyne.Resource, tapped func()) *iconButton {
	b := &iconButton{name: name}
	b.Icon = icon
	b.OnTapped = tapped
	b.ExtendBaseWidget(b)
	return b
}

// AccessibilityLabel is the action's name.
func (b *iconButton) AccessibilityLabel() string { return b.name }
