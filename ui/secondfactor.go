package ui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
)

// SecondFactor enrols the signed-in staff member's authenticator app on
// the central server (a connected desktop; nil standalone). Its errors are
// app's: ErrConflict (one is enrolled already), ErrBadCredentials (the code
// did not match), *app.TooManyAttemptsError; anything else is shown as
// "the server could not be reached".
type SecondFactor interface {
	EnrollTOTP(ctx context.Context) (secret string, qrPNG []byte, err error)
	ConfirmTOTP(ctx context.Context, code string) (recovery []string, err error)
}

const (
	textTOTP         = "secondfactor.two_step_verification"
	textTOTPScan     = "secondfactor.1_scan_code_authenticator_app"
	textTOTPType     = "secondfactor.2_type_six_digits_app"
	textTOTPConfirm  = "secondfactor.confirm"
	textTOTPDone     = "secondfactor.done_from_now_signing_asks"
	textTOTPRecovery = "secondfactor.your_recovery_codes_each_works"
	textTOTPConflict = "secondfactor.you_already_have_authenticator_app"
	textTOTPBadCode  = "secondfactor.code_did_not_match_check"
	textTOTPOffline  = "secondfactor.server_could_not_reached_so"
	textTOTPNeedCode = "secondfactor.type_six_digits_from_app"
	textCopyCodes    = "secondfactor.copy_codes"
)

// totpErrorText is the Swedish text of an enrolment error.
func totpErrorText(err error) string {
	var tm *app.TooManyAttemptsError
	switch {
	case errors.Is(err, app.ErrConflict):
		return L(textTOTPConflict)
	case errors.Is(err, app.ErrBadCredentials):
		return L(textTOTPBadCode)
	case errors.As(err, &tm):
		return signInText(err, tm.Until)
	}
	return L(textTOTPOffline)
}

// totpDialog is the enrolment of an authenticator app: the QR code and
// the key, the code to confirm, then the recovery codes, shown once.
type totpDialog struct {
	ctx   context.Context
	tasks *tasks
	sf    SecondFactor
	win   fyne.Window
	dlg   dialog.Dialog

	body    *fyne.Container
	code    *widget.Entry
	confirm *widget.Button
	errText *widget.Label
	codes   *widget.Label // the recovery codes, once confirmed
}

// showTOTPDialog starts an enrolment and shows it.
func showTOTPDialog(ctx context.Context, tk *tasks, sf SecondFactor, win fyne.Window) *totpDialog {
	d := &totpDialog{ctx: ctx, tasks: tk, sf: sf, win: win}
	d.errText = widget.NewLabel("")
	d.errText.Wrapping = fyne.TextWrapWord
	d.errText.Importance = widget.DangerImportance
	d.errText.Hide()
	wait := widget.NewProgressBarInfinite()
	d.body = container.NewVBox(wait, d.errText)
	d.dlg = dialog.NewCustom(L(textTOTP), L("common.close"), container.NewPadded(d.body), win)
	d.dlg.Resize(fyne.NewSize(560, 640))
	d.dlg.Show()
	tk.run(func() func() {
		secret, png, err := sf.EnrollTOTP(ctx)
		return func() {
			if err != nil {
				logError("enroll totp", err)
				d.body.Objects = []fyne.CanvasObject{d.errText}
				d.showError(totpErrorText(err))
				return
			}
			d.showEnrolment(secret, png)
		}
	})
	return d
}

func (d *totpDialog) showError(msg string) {
	d.errText.SetText(msg)
	d.errText.Show()
	d.body.Refresh()
}

func (d *totpDialog) showEnrolment(secret string, png []byte) {
	scan := widget.NewLabel(L(textTOTPScan))
	scan.Wrapping = fyne.TextWrapWord
	img := canvas.NewImageFromResource(fyne.NewStaticResource("totp-qr.png", png))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScalePixels // a QR code wants sharp squares
	img.SetMinSize(fyne.NewSize(220, 220))
	key := widget.NewLabelWithStyle(groupKey(secret), fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	key.Selectable = true
	typeIt := widget.NewLabel(L(textTOTPType))
	typeIt.Wrapping = fyne.TextWrapWord
	d.code = widget.NewEntry()
	d.code.SetPlaceHolder("123 456")
	d.code.OnSubmitted = func(string) { d.submit() }
	d.confirm = widget.NewButtonWithIcon(L(textTOTPConfirm), theme.ConfirmIcon(), d.submit)
	d.confirm.Importance = widget.HighImportance
	d.body.Objects = []fyne.CanvasObject{scan, container.NewCenter(img), key, typeIt,
		container.NewBorder(nil, nil, nil, d.confirm, d.code), d.errText}
	d.body.Refresh()
	if c := d.win.Canvas(); c != nil {
		c.Focus(d.code)
	}
}

func (d *totpDialog) submit() {
	code := strings.ReplaceAll(strings.TrimSpace(d.code.Text), " ", "")
	if !app.IsAuthenticatorCode(code) {
		d.showError(L(textTOTPNeedCode))
		return
	}
	d.confirm.Disable()
	d.tasks.run(func() func() {
		codes, err := d.sf.ConfirmTOTP(d.ctx, code)
		return func() {
			d.confirm.Enable()
			d.code.SetText("")
			if err != nil {
				logError("confirm totp", err)
				d.showError(totpErrorText(err))
				return
			}
			d.showRecovery(codes)
		}
	})
}

func (d *totpDialog) showRecovery(codes []string) {
	done := widget.NewLabel(L(textTOTPDone))
	done.Wrapping = fyne.TextWrapWord
	done.Importance = widget.SuccessImportance
	info := widget.NewLabel(L(textTOTPRecovery))
	info.Wrapping = fyne.TextWrapWord
	d.codes = widget.NewLabelWithStyle(strings.Join(codes, "\n"), fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	d.codes.Selectable = true
	text := strings.Join(codes, "\n")
	copyBtn := widget.NewButtonWithIcon(L(textCopyCodes), theme.ContentCopyIcon(), func() {
		if a := fyne.CurrentApp(); a != nil {
			a.Clipboard().SetContent(text)
		}
	})
	d.body.Objects = []fyne.CanvasObject{done, info, d.codes, container.NewCenter(copyBtn)}
	d.errText.Hide()
	d.body.Refresh()
}

// groupKey writes a base32 key in groups of four, as authenticator apps
// accept it typed.
func groupKey(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
