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

// TestNotifier is "Skicka testavisering" (app.NotificationAdmin).
type TestNotifier interface {
	TestNotification(ctx context.Context, sess app.Session, ch app.Channel, address string) error
}

// Texts of the test-notification screen.
const (
	textNotifyTab     = "testnotify.notifications"
	textNotifyTitle   = "testnotify.send_test_notification"
	textNotifyHelp    = "testnotify.send_fixed_notification_text_e"
	textNotifySMS     = "common.text_message"
	textNotifyEmail   = "common.e_mail"
	textNotifyAddress = "testnotify.mobile_number_or_e_mail"
	textNotifySend    = "testnotify.send_test_notification"
	textNotifySent    = "testnotify.test_notification_was_sent"
	textNotifyNoConf  = "testnotify.no_mail_server_or_text"
	textNotifyFailed  = "testnotify.test_notification_could_not_sent"
	textNotifyNoAddr  = "testnotify.enter_mobile_number_or_e"
)

type testNotifyDeps struct {
	ctx   context.Context
	tasks *tasks
	svc   TestNotifier
	sess  app.Session
}

// testNotifyScreen lets a lokal administratör check the notification
// channels with the fixed text.
type testNotifyScreen struct {
	testNotifyDeps
	content fyne.CanvasObject
	channel *widget.RadioGroup
	address *widget.Entry
	send    *widget.Button
	result  *widget.Label
}

func newTestNotifyScreen(d testNotifyDeps) *testNotifyScreen {
	s := &testNotifyScreen{testNotifyDeps: d}
	help := widget.NewLabel(L(textNotifyHelp))
	help.Wrapping = fyne.TextWrapWord
	s.channel = widget.NewRadioGroup([]string{L(textNotifySMS), L(textNotifyEmail)}, func(string) { s.result.Hide() })
	s.channel.Horizontal = true
	s.channel.Required = true
	s.channel.Selected = L(textNotifySMS)
	s.address = widget.NewEntry()
	s.address.SetPlaceHolder(L(textNotifyAddress))
	s.address.OnSubmitted = func(string) { s.submit() }
	s.send = widget.NewButtonWithIcon(L(textNotifySend), theme.MailSendIcon(), s.submit)
	s.send.Importance = widget.HighImportance
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.result.Hide()
	box := container.NewVBox(sectionTitle(L(textNotifyTitle)), help, s.channel, s.address, s.result,
		container.NewHBox(layout.NewSpacer(), s.send))
	s.content = container.NewGridWithColumns(2, container.NewPadded(box), layout.NewSpacer())
	return s
}

func (s *testNotifyScreen) show(text string, imp widget.Importance) {
	s.result.SetText(text)
	s.result.Importance = imp
	s.result.Show()
	s.result.Refresh()
}

func (s *testNotifyScreen) submit() {
	addr := s.address.Text
	if addr == "" {
		s.show(L(textNotifyNoAddr), widget.DangerImportance)
		return
	}
	ch := app.ChannelSMS
	if s.channel.Selected == L(textNotifyEmail) {
		ch = app.ChannelEmail
	}
	s.send.Disable()
	s.tasks.run(func() func() {
		err := s.svc.TestNotification(s.ctx, s.sess, ch, addr)
		return func() {
			s.send.Enable()
			var fe *app.FieldError
			switch {
			case err == nil:
				s.show(L(textNotifySent), widget.SuccessImportance)
			case errors.As(err, &fe):
				s.show(L(fe.Text), widget.DangerImportance)
			case errors.Is(err, app.ErrNotConfigured):
				s.show(L(textNotifyNoConf), widget.DangerImportance)
			case errors.Is(err, app.ErrForbidden):
				s.show(L(textForbidden), widget.DangerImportance)
			default:
				logError("test notification", err, "clinic", s.sess.ClinicID)
				s.show(L(textNotifyFailed), widget.DangerImportance)
			}
		}
	})
}
