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
)

// Texts of the lock screen.
const (
	textLocked     = "lock.mottagning_locked"
	textLockedHelp = "lock.screen_was_locked_after_while"
	textUnlock     = "lock.unlock"
	textLockNow    = "lock.lock"
)

// errOtherStaff: the password given on the lock screen belongs to someone
// else (their username typed into the shared field is not possible here,
// but a future Authenticator could map passwords to accounts).
var errOtherStaff = errors.New("unlocked by another staff member")

type lockDeps struct {
	ctx       context.Context
	tasks     *tasks
	auth      app.Authenticator
	clock     app.Clock
	staff     app.Staff
	onUnlock  func()
	onSignOut func()
}

// lockScreen hides the workspace after idle time. Only the signed-in
// staff member's password opens it again, to the very same workspace
// (drafts and scroll positions kept); "Logga ut" leaves to the sign-in.
type lockScreen struct {
	lockDeps
	content  fyne.CanvasObject
	password *widget.Entry
	unlock   *widget.Button
	errText  *widget.Label
}

func newLockScreen(d lockDeps) *lockScreen {
	s := &lockScreen{lockDeps: d}
	title := widget.NewLabelWithStyle(L(textLocked), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	help := widget.NewLabel(L(textLockedHelp))
	help.Wrapping = fyne.TextWrapWord
	who := widget.NewLabel(d.staff.Name + " (" + d.staff.Username + ")")
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder(L(textPassword))
	s.password.OnSubmitted = func(string) { s.submit() }
	s.unlock = widget.NewButtonWithIcon(L(textUnlock), theme.LoginIcon(), s.submit)
	s.unlock.Importance = widget.HighImportance
	s.errText = widget.NewLabel("")
	s.errText.Importance = widget.DangerImportance
	s.errText.Wrapping = fyne.TextWrapWord
	s.errText.Hide()
	signOut := widget.NewButtonWithIcon(L(textSignOut), theme.LogoutIcon(), d.onSignOut)
	box := container.NewVBox(
		container.NewHBox(widget.NewIcon(theme.VisibilityOffIcon()), title),
		help, who,
		widget.NewForm(widget.NewFormItem(L(textPassword), s.password)),
		s.errText,
		container.NewHBox(signOut, layout.NewSpacer(), s.unlock),
	)
	s.content = container.NewPadded(container.NewBorder(nil, nil, nil, nil,
		container.NewGridWithColumns(3, layout.NewSpacer(), container.NewVBox(layout.NewSpacer(), box, layout.NewSpacer()), layout.NewSpacer())))
	return s
}

func (s *lockScreen) submit() {
	pw := s.password.Text
	if pw == "" || s.unlock.Disabled() {
		s.errText.SetText(L(textNeedPassword))
		s.errText.Show()
		return
	}
	s.unlock.Disable()
	s.tasks.run(func() func() {
		st, err := s.auth.SignIn(s.ctx, s.staff.Username, pw)
		if err == nil && st.ID != s.staff.ID {
			err = errOtherStaff
		}
		return func() {
			s.unlock.Enable()
			s.password.SetText("")
			if err != nil {
				logError("unlock", err, "staff", s.staff.ID)
				s.errText.SetText(signInText(err, s.clock.Now()))
				s.errText.Show()
				return
			}
			s.onUnlock()
		}
	})
}
