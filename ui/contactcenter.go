package ui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// ContactCenter is the kontaktcenter's door (R10): app.ContactCenterService
// on a standalone desktop, the server's region routes on a connected one
// (where a lock must take effect for the resident at once, so it is never
// queued).
type ContactCenter interface {
	FindResident(ctx context.Context, st *app.Staff, pnr string) (*app.ContactView, error)
	SetLoginLock(ctx context.Context, st *app.Staff, req app.LockRequest) (*app.ContactView, error)
}

// ErrServerUnreachable is what a connected desktop's ContactCenter returns
// when the server cannot be reached: nothing was changed.
var ErrServerUnreachable = errors.New("ui: the server cannot be reached")

// regionClinicID is the kontaktcenter's place on the start screen and in
// the workspace: the whole region, not a clinic.
const regionClinicID app.ID = "region"

// regionClinic is the start screen's option for the kontaktcenter.
func regionClinic() app.Clinic { return app.Clinic{ID: regionClinicID, Name: L(textRegionClinic)} }

// Texts of the kontaktcenter.
const (
	textRegionClinic   = "contactcenter.contact_centre_whole_region"
	textCCTab          = "contactcenter.contact_centre"
	textCCTitle        = "contactcenter.sign_lock"
	textCCIntro        = "contactcenter.resident_asks_have_their_sign"
	textCCFind         = "contactcenter.search"
	textCCNotFound     = "common.there_no_resident_personal_identity"
	textCCOffline      = "contactcenter.server_cannot_reached_lock_changed"
	textCCFailed       = "common.something_went_wrong_try_again"
	textCCChanged      = "contactcenter.lock_was_changed_meanwhile_resident"
	textCCInvalid      = "contactcenter.choose_how_identity_was_checked"
	textCCLocked       = "contactcenter.locked_resident_cannot_sign_gets"
	textCCUnlocked     = "contactcenter.not_locked"
	textCCSealed       = "contactcenter.record_sealed_not_changed_here"
	textCCDeceased     = "contactcenter.deceased_according_population_register"
	textCCCheck        = "contactcenter.how_identity_was_checked"
	textCCReason       = "common.reason"
	textCCChooseReason = "contactcenter.choose_reason"
	textCCLock         = "contactcenter.lock_sign"
	textCCUnlock       = "contactcenter.lift_lock"
	textCCDidLock      = "contactcenter.sign_locked_resident_signed_out"
	textCCDidUnlock    = "contactcenter.lock_lifted_resident_sign_again"
	textCCLastBy       = "contactcenter.by_contact_centre_identity"
	textCCLastOwn      = "contactcenter.by_resident_themselves"
	textCCWasLocked    = "contactcenter.locked"
	textCCWasUnlocked  = "contactcenter.lock_lifted"
)

type contactDeps struct {
	ctx   context.Context
	tasks *tasks
	svc   ContactCenter
	sess  app.Session
	clock app.Clock
}

// contactScreen is the kontaktcenter's tool: find a resident by
// personnummer, see whether the login is locked, and lock or unlock it
// with the identity check and the reason (R10). app checks the role and
// records every step in the access log.
type contactScreen struct {
	contactDeps
	content fyne.CanvasObject

	view *app.ContactView
	busy bool
	gen  int

	pnr      *widget.Entry
	find     *widget.Button
	msg      *widget.Label // errors and what was done
	result   *fyne.Container
	name     *widget.Label
	number   *widget.Label
	state    *widget.Label
	last     *widget.Label
	extra    *widget.Label
	check    *widget.RadioGroup
	reason   *widget.Select
	reasons  []app.LockReason
	act      *widget.Button
	progress *widget.ProgressBarInfinite
}

func newContactScreen(d contactDeps) *contactScreen {
	s := &contactScreen{contactDeps: d}
	title := widget.NewLabelWithStyle(L(textCCTitle), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	intro := widget.NewLabel(L(textCCIntro))
	intro.Wrapping = fyne.TextWrapWord

	s.pnr = widget.NewEntry()
	s.pnr.SetPlaceHolder(L(textPNRHint))
	s.pnr.OnSubmitted = func(string) { s.doFind() }
	s.pnr.OnChanged = func(string) {
		if s.view == nil && s.msg.Visible() {
			s.msg.Hide()
		}
	}
	s.find = widget.NewButtonWithIcon(L(textCCFind), theme.SearchIcon(), s.doFind)
	s.find.Importance = widget.HighImportance
	s.msg = newFieldMessage()
	s.progress = widget.NewProgressBarInfinite()
	s.progress.Stop()
	s.progress.Hide()

	s.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.number = widget.NewLabel("")
	s.state = widget.NewLabel("")
	s.state.Wrapping = fyne.TextWrapWord
	s.last = widget.NewLabel("")
	s.last.Wrapping = fyne.TextWrapWord
	s.last.SizeName = theme.SizeNameCaptionText
	s.extra = widget.NewLabel("")
	s.extra.Wrapping = fyne.TextWrapWord
	checks := make([]string, len(app.IdentityChecks))
	for i, c := range app.IdentityChecks {
		checks[i] = L(c.Label())
	}
	s.check = widget.NewRadioGroup(checks, func(string) { s.updateAct() })
	s.reason = newSelect(nil, func(string) { s.updateAct() })
	s.reason.PlaceHolder = L(textCCChooseReason)
	s.act = widget.NewButton("", s.doChange)
	form := container.New(layout.NewFormLayout(),
		widget.NewLabelWithStyle(L("common.resident"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), container.NewHBox(s.name, s.number),
		widget.NewLabelWithStyle(L("contactcenter.sign_in"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), container.NewVBox(s.state, s.last),
	)
	s.result = container.NewVBox(
		widget.NewSeparator(),
		form,
		s.extra,
		widget.NewSeparator(),
		heading(L(textCCCheck)), s.check,
		heading(L(textCCReason)), s.reason,
		container.NewHBox(layout.NewSpacer(), s.act),
	)
	s.result.Hide()

	search := container.NewBorder(nil, nil, widget.NewLabel(L("common.personnummer")), container.NewHBox(s.progress, s.find), s.pnr)
	body := container.NewVBox(title, intro, search, s.msg, s.result)
	// A readable column on a wide screen.
	s.content = container.NewVScroll(container.NewHBox(container.New(&maxWidth{w: 760}, body), layout.NewSpacer()))
	return s
}

// maxWidth lays its objects out at most w wide, as tall as they need.
type maxWidth struct{ w float32 }

func (m *maxWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		if o.Visible() {
			h = max(h, o.MinSize().Height)
		}
	}
	return fyne.NewSize(m.w, h)
}

func (m *maxWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(fyne.NewSize(min(size.Width, m.w), size.Height))
	}
}

func (s *contactScreen) setBusy(b bool) {
	s.busy = b
	if b {
		s.progress.Show()
		s.progress.Start()
		s.find.Disable()
		s.act.Disable()
	} else {
		s.progress.Stop()
		s.progress.Hide()
		s.find.Enable()
		s.updateAct()
	}
}

// doFind checks the number here (the same rules as everywhere) and looks
// the resident up through the door, which records it.
func (s *contactScreen) doFind() {
	if s.busy {
		return
	}
	text := strings.TrimSpace(s.pnr.Text)
	if _, err := personnummer.ParseAt(text, s.clock.Now()); err != nil {
		s.view = nil
		s.result.Hide()
		fieldMessage(s.msg, errorText(err), true)
		return
	}
	s.gen++
	gen := s.gen
	s.setBusy(true)
	st := s.sess.Staff
	s.tasks.run(func() func() {
		v, err := s.svc.FindResident(s.ctx, st, text)
		return func() {
			s.setBusy(false)
			if gen != s.gen {
				return
			}
			if err != nil {
				logError("kontaktcenter find", err, "staff", st.ID)
				s.view = nil
				s.result.Hide()
				fieldMessage(s.msg, contactError(err), true)
				return
			}
			fieldMessage(s.msg, "", false)
			s.show(v)
		}
	})
}

// contactError is the Swedish text of a refusal.
func contactError(err error) string {
	switch {
	case errors.Is(err, ErrServerUnreachable):
		return L(textCCOffline)
	case errors.Is(err, app.ErrForbidden):
		return L(textForbidden)
	case errors.Is(err, app.ErrNotFound):
		return L(textCCNotFound)
	case errors.Is(err, app.ErrConflict):
		return L(textCCChanged)
	case errors.Is(err, app.ErrInvalid):
		return L(textCCInvalid)
	}
	return L(textCCFailed)
}

// show puts a resident on screen with the form for the change their
// state allows: a lock when unlocked, an unlock when locked.
func (s *contactScreen) show(v *app.ContactView) {
	s.view = v
	s.name.SetText(v.Name)
	s.number.SetText(v.PNR.String())
	if v.LoginLocked {
		s.state.SetText(L(textCCLocked))
		s.state.Importance = widget.DangerImportance
		s.reasons = app.UnlockReasons
		s.act.SetText(L(textCCUnlock))
		s.act.SetIcon(theme.ViewRefreshIcon())
		s.act.Importance = widget.HighImportance
	} else {
		s.state.SetText(L(textCCUnlocked))
		s.state.Importance = widget.SuccessImportance
		s.reasons = app.LockReasons
		s.act.SetText(L(textCCLock))
		s.act.SetIcon(theme.VisibilityOffIcon())
		s.act.Importance = widget.DangerImportance
	}
	s.state.Refresh()
	s.last.SetText(lastLockText(v.Last))
	s.last.Hidden = v.Last == nil
	var extra []string
	if v.Deceased {
		extra = append(extra, L(textCCDeceased))
	}
	if v.JournalSealed {
		extra = append(extra, L(textCCSealed))
	}
	s.extra.SetText(strings.Join(extra, " "))
	s.extra.Hidden = len(extra) == 0
	opts := make([]string, len(s.reasons))
	for i, r := range s.reasons {
		opts[i] = L(r.Label())
	}
	s.reason.Options = opts
	s.reason.ClearSelected()
	s.check.Selected = ""
	s.check.Refresh()
	s.result.Show()
	s.updateAct()
	s.content.Refresh()
}

// lastLockText is the latest change of the lock, in words.
func lastLockText(e *app.LockEvent) string {
	if e == nil {
		return ""
	}
	what := L(textCCWasUnlocked)
	if e.Locked {
		what = L(textCCWasLocked)
	}
	if e.By == "" {
		return Lf(textCCLastOwn, what, dateTime(e.At))
	}
	return Lf(textCCLastBy, what, dateTime(e.At), L(e.Reason.Label()), L(e.Check.Label()))
}

func (s *contactScreen) chosen() (app.IdentityCheck, app.LockReason, bool) {
	var c app.IdentityCheck
	for _, x := range app.IdentityChecks {
		if L(x.Label()) == s.check.Selected {
			c = x
		}
	}
	i := s.reason.SelectedIndex()
	if c == "" || i < 0 || i >= len(s.reasons) {
		return "", "", false
	}
	return c, s.reasons[i], true
}

func (s *contactScreen) updateAct() {
	if _, _, ok := s.chosen(); ok && !s.busy && s.view != nil {
		s.act.Enable()
	} else {
		s.act.Disable()
	}
}

// doChange locks or unlocks through the door; a refusal shows why, and a
// change made meanwhile elsewhere shows the resident as now.
func (s *contactScreen) doChange() {
	check, reason, ok := s.chosen()
	if s.busy || s.view == nil {
		return
	}
	if !ok {
		fieldMessage(s.msg, L(textCCInvalid), true)
		return
	}
	req := app.LockRequest{PNR: s.view.PNR.String(), Locked: !s.view.LoginLocked, Check: check, Reason: reason}
	s.gen++
	gen := s.gen
	s.setBusy(true)
	st := s.sess.Staff
	s.tasks.run(func() func() {
		v, err := s.svc.SetLoginLock(s.ctx, st, req)
		var now *app.ContactView
		if errors.Is(err, app.ErrConflict) {
			now, _ = s.svc.FindResident(s.ctx, st, req.PNR)
		}
		return func() {
			s.setBusy(false)
			if gen != s.gen {
				return
			}
			if err != nil {
				logError("kontaktcenter lock", err, "staff", st.ID)
				if now != nil {
					s.show(now)
				}
				fieldMessage(s.msg, contactError(err), true)
				return
			}
			s.show(v)
			done := L(textCCDidUnlock)
			if v.LoginLocked {
				done = L(textCCDidLock)
			}
			fieldMessage(s.msg, done, false)
			s.msg.Importance = widget.SuccessImportance
			s.msg.Refresh()
		}
	})
}
