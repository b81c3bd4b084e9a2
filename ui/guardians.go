package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// GuardianAdmin is the part of app.GuardianService the block screen uses.
// app.GuardianService satisfies it.
type GuardianAdmin interface {
	ChildGuardians(ctx context.Context, sess app.Session, pnr personnummer.Number) (*app.ChildView, error)
	SetBlocked(ctx context.Context, sess app.Session, child, guardian app.ID, blocked bool) error
}

// Texts of the block screen.
const (
	textGrdTitle       = "guardians.block_guardian"
	textGrdIntro       = "guardians.here_you_block_guardian_proxy"
	textGrdPNR         = "guardians.child_personnummer"
	textGrdMayAct      = "guardians.may_act_as_proxy"
	textGrdMayNotAct   = "guardians.may_not_act_as_proxy"
	textGrdBlock       = "guardians.block"
	textGrdUnblock     = "guardians.lift_block"
	textGrdCancel      = "common.cancel"
	textGrdNoGuardians = "guardians.child_has_no_guardians_population"
	textGrdSaving      = "common.saving"
	textGrdBlockedOK   = "guardians.block_has_been_saved"
	textGrdUnblockedOK = "guardians.block_has_been_lifted"
	textGrdNoRight     = "guardians.you_do_not_have_permission"
	textGrdSaveFailed  = "guardians.something_went_wrong_block_was"
	textGrdGone        = "guardians.person_no_longer_child_guardian"
)

type guardiansDeps struct {
	ctx    context.Context
	tasks  *tasks
	svc    GuardianAdmin
	sess   app.Session
	clinic app.Clinic
	// clock decides the century of ten-digit personnummer; nil means
	// app.SystemClock.
	clock app.Clock
}

// guardiansScreen is where a lokal administratör blocks or unblocks one
// guardian's proxy access to one child (shared/DOMAIN.md, Blocked
// guardian). The personnummer is checked as it is typed; the child is
// looked up (and the lookup logged) only when the number is complete.
type guardiansScreen struct {
	guardiansDeps
	content fyne.CanvasObject

	pnr    *widget.Entry
	pnrMsg *widget.Label
	panel  *fyne.Container // the child and the guardians; hidden until found
	name   *widget.Label
	age    *widget.Label
	status *widget.Label
	rows   *fyne.Container
	info   *widget.Label // the explanation when there is nobody to block; nil otherwise

	child   *app.ChildView
	gen     int
	buttons map[app.ID]*widget.Button // the Spärra / Häv spärr button per guardian

	// The confirmation.
	ask      *widget.PopUp
	askTitle *widget.Label
	askBody  *widget.Label
	confirm  *widget.Button
	cancel   *widget.Button
	pending  func()
}

func newGuardiansScreen(d guardiansDeps) *guardiansScreen {
	if d.clock == nil {
		d.clock = app.SystemClock{}
	}
	s := &guardiansScreen{guardiansDeps: d}
	s.pnr = widget.NewEntry()
	s.pnr.PlaceHolder = L(textPNRHint)
	s.pnr.OnChanged = func(string) { s.pnrChanged(false) }
	s.pnr.OnSubmitted = func(string) { s.pnrChanged(true) }
	s.pnrMsg = newFieldMessage()

	s.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.name.SizeName = theme.SizeNameSubHeadingText
	s.age = widget.NewLabel("")
	s.status = newFieldMessage()
	s.rows = container.NewVBox()
	s.panel = container.NewVBox(widget.NewSeparator(), s.name, s.age, s.rows, s.status)
	s.panel.Hide()

	title := widget.NewLabelWithStyle(L(textGrdTitle)+" – "+d.clinic.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	intro := widget.NewLabel(L(textGrdIntro))
	intro.Wrapping = fyne.TextWrapWord
	field := container.New(&fixedColumns{widths: []float32{420}}, container.NewVBox(
		widget.NewLabelWithStyle(L(textGrdPNR), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.pnr, s.pnrMsg))
	body := container.NewVBox(intro, container.NewHBox(field), s.panel)
	s.content = container.NewBorder(container.NewVBox(title, widget.NewSeparator()), nil, nil, nil,
		container.NewVScroll(container.NewPadded(body)))
	s.buildAsk()
	return s
}

// pnrChanged checks the number as it is typed and looks the child up as
// soon as it is complete; submitted is Enter in the field. It follows
// Skicka ärende: no error while the number is still being typed, and a
// valid ten-digit number (perhaps the start of twelve) waits for Enter, so
// that nobody's data is opened, and logged, by accident.
func (s *guardiansScreen) pnrChanged(submitted bool) {
	s.gen++
	s.child = nil
	s.panel.Hide()
	in := s.pnr.Text
	shape := shapeOf(in)
	switch {
	case shape == pnrEmpty && !submitted:
		fieldMessage(s.pnrMsg, "", false)
		return
	case shape == pnrTyping && !submitted:
		fieldMessage(s.pnrMsg, L(textPNRHelp), false)
		return
	}
	n, err := personnummer.ParseAt(in, s.clock.Now())
	switch {
	case err != nil && shape == pnrAmbiguous && !submitted:
		fieldMessage(s.pnrMsg, L(textPNRHelp), false)
		return
	case err != nil:
		// Swedish, says what to do, never contains the input.
		fieldMessage(s.pnrMsg, errorText(err), true)
		return
	case shape == pnrAmbiguous && !submitted:
		fieldMessage(s.pnrMsg, L(textPNRPressEnter), false)
		return
	}
	s.lookup(n, "")
}

// lookup reads the child; status, when set, is shown with the result (a
// block just saved).
func (s *guardiansScreen) lookup(n personnummer.Number, status string) {
	if status == "" {
		fieldMessage(s.pnrMsg, L(textLookingUp), false)
	}
	gen := s.gen
	s.tasks.run(func() func() {
		v, err := s.svc.ChildGuardians(s.ctx, s.sess, n)
		return func() {
			if gen != s.gen {
				return // the number changed meanwhile
			}
			if err != nil {
				s.child = nil
				s.panel.Hide()
				fieldMessage(s.pnrMsg, s.lookupError(err), true)
				s.content.Refresh()
				return
			}
			fieldMessage(s.pnrMsg, "", false)
			s.showChild(v)
			if status != "" {
				s.status.Importance = widget.SuccessImportance
				s.status.SetText(status)
				s.status.Show()
			}
		}
	})
}

func (s *guardiansScreen) lookupError(err error) string {
	switch {
	case errors.Is(err, app.ErrNotFound):
		return L(textNotFound)
	case errors.Is(err, app.ErrForbidden):
		logError("look up child's guardians", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		return L(textForbidden)
	}
	logError("look up child's guardians", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
	return L(textLookupFailed)
}

// showChild shows the child and each guardian's proxy state as the
// service decided it.
func (s *guardiansScreen) showChild(v *app.ChildView) {
	s.child = v
	s.name.SetText(v.Name)
	s.age.SetText(Lf("guardians.years", v.Age, v.PNR.String()))
	fieldMessage(s.status, "", false)
	s.buttons = map[app.ID]*widget.Button{}
	s.info = nil
	var rows []fyne.CanvasObject
	switch {
	case !v.Child:
		// R8: from 13 the child signs in personally; nobody is ombud.
		rows = append(rows, s.infoBox(Lf("guardians.years_old_from_13_children", v.Name, v.Age)))
	case len(v.Guardians) == 0:
		rows = append(rows, s.infoBox(L(textGrdNoGuardians)))
	default:
		rows = append(rows, widget.NewLabelWithStyle(L("common.guardians"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, g := range v.Guardians {
			rows = append(rows, s.guardianRow(g))
		}
	}
	s.rows.Objects = rows
	s.rows.Refresh()
	s.panel.Show()
	s.content.Refresh()
}

func (s *guardiansScreen) infoBox(text string) fyne.CanvasObject {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	s.info = l
	icon := widget.NewIcon(theme.InfoIcon())
	return container.NewBorder(nil, nil, container.NewVBox(icon), nil, l)
}

// guardianRow is one guardian: name and personnummer, the state in words,
// and the button that changes it.
func (s *guardiansScreen) guardianRow(g app.GuardianProxy) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(g.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	pnr := widget.NewLabel(g.PNR.String())
	state := widget.NewLabel("")
	state.Wrapping = fyne.TextWrapWord
	var icon fyne.Resource
	switch {
	case g.Blocked:
		state.SetText(Lf("guardians.blocked_since_guardian_cannot_act",
			g.BlockedAt.In(app.Stockholm).Format(audDateLayout)))
		state.Importance = widget.DangerImportance
		icon = theme.NewErrorThemedResource(theme.CancelIcon())
	case g.MayAct:
		state.SetText(L(textGrdMayAct) + ".")
		state.Importance = widget.SuccessImportance
		icon = theme.NewSuccessThemedResource(theme.ConfirmIcon())
	default:
		// Not blocked, yet not allowed (R7, a locked login…): say why.
		state.SetText(L(textGrdMayNotAct) + ". " + L(g.Reason.Message()))
		icon = theme.NewWarningThemedResource(theme.WarningIcon())
	}
	var btn *widget.Button
	if g.Blocked {
		btn = widget.NewButtonWithIcon(L(textGrdUnblock), theme.ContentUndoIcon(), func() { s.askUnblock(g) })
	} else {
		btn = widget.NewButtonWithIcon(L(textGrdBlock), theme.CancelIcon(), func() { s.askBlock(g) })
	}
	s.buttons[g.ID] = btn
	head := container.NewHBox(name, pnr)
	text := container.NewBorder(head, nil, container.NewVBox(widget.NewIcon(icon)), nil, state)
	return container.NewVBox(container.NewBorder(nil, nil, nil, container.NewVBox(btn), text), widget.NewSeparator())
}

func (s *guardiansScreen) askBlock(g app.GuardianProxy) {
	c := s.child
	s.askFor(
		Lf("guardians.block_as_proxy", g.Name, c.Name),
		Lf("guardians.then_no_longer_act_child", g.Name),
		L(textGrdBlock), widget.DangerImportance,
		func() { s.setBlocked(g, true) })
}

func (s *guardiansScreen) askUnblock(g app.GuardianProxy) {
	c := s.child
	s.askFor(
		Lf("guardians.lift_block_question", g.Name),
		Lf("guardians.then_act_as_proxy_1177", g.Name, c.Name),
		L(textGrdUnblock), widget.HighImportance,
		func() { s.setBlocked(g, false) })
}

func (s *guardiansScreen) buildAsk() {
	s.askTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.askTitle.Wrapping = fyne.TextWrapWord
	s.askBody = widget.NewLabel("")
	s.askBody.Wrapping = fyne.TextWrapWord
	s.cancel = widget.NewButton(L(textGrdCancel), func() {
		s.pending = nil
		s.ask.Hide()
	})
	s.confirm = widget.NewButton("", func() {
		next := s.pending
		s.pending = nil
		s.ask.Hide()
		if next != nil {
			next()
		}
	})
}

// askFor shows the confirmation with its own texts; yes runs on confirm.
func (s *guardiansScreen) askFor(title, body, action string, imp widget.Importance, yes func()) {
	c := fyne.CurrentApp().Driver().CanvasForObject(s.content)
	if c == nil {
		return // not shown: nothing to confirm on
	}
	s.askTitle.SetText(title)
	s.askBody.SetText(body)
	s.confirm.SetText(action)
	s.confirm.Importance = imp
	s.confirm.Refresh()
	s.pending = yes
	if s.ask == nil || s.ask.Canvas != c {
		box := container.New(&fixedColumns{widths: []float32{460}}, container.NewVBox(
			s.askTitle, s.askBody, container.NewHBox(layout.NewSpacer(), s.cancel, s.confirm)))
		s.ask = widget.NewModalPopUp(container.NewPadded(box), c)
	}
	s.ask.Show()
}

// setBlocked writes the block, then reads the child again so that the
// screen shows what the service now says (another rule may still stop
// an unblocked guardian).
func (s *guardiansScreen) setBlocked(g app.GuardianProxy, blocked bool) {
	c := s.child
	if c == nil {
		return
	}
	for _, b := range s.buttons {
		b.Disable()
	}
	fieldMessage(s.status, L(textGrdSaving), false)
	gen := s.gen
	s.tasks.run(func() func() {
		err := s.svc.SetBlocked(s.ctx, s.sess, c.ID, g.ID, blocked)
		return func() {
			if gen != s.gen {
				return
			}
			if err != nil {
				logError("block guardian", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID, "child", c.ID, "guardian", g.ID)
				for _, b := range s.buttons {
					b.Enable()
				}
				text := L(textGrdSaveFailed)
				switch {
				case errors.Is(err, app.ErrForbidden):
					text = L(textGrdNoRight)
				case errors.Is(err, app.ErrNotFound):
					text = L(textGrdGone)
				}
				fieldMessage(s.status, text, true)
				s.content.Refresh()
				return
			}
			done := L(textGrdBlockedOK)
			if !blocked {
				done = L(textGrdUnblockedOK)
			}
			s.lookup(c.PNR, done)
		}
	})
}
