package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	qrcode "github.com/skip2/go-qrcode"

	"mottagning/app"
)

// fakeSecondFactor is the server's enrolment as sync_main's secondFactor
// reports it (TestProcessTOTPEnrolment proves the server's side on the
// real binary): a QR code, then the code "246810" confirms and anything
// else is app.ErrBadCredentials.
type fakeSecondFactor struct{ png []byte }

func (f fakeSecondFactor) EnrollTOTP(context.Context) (string, []byte, error) {
	return "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", f.png, nil
}

func (f fakeSecondFactor) ConfirmTOTP(_ context.Context, code string) ([]string, error) {
	if code != "246810" {
		return nil, app.ErrBadCredentials
	}
	return []string{"ABCD-EFGH-JKLM", "NPQR-STUV-WXYZ"}, nil
}

// Item 4 of issue 15 in the window: "Tvåstegsverifiering" shows the QR
// code and the key in groups, refuses a code that is not six digits
// before sending it, says a wrong code is wrong, and after the right one
// shows the recovery codes once, with a copy button.
func TestSecondFactorEnrolment(t *testing.T) {
	a := test.NewTempApp(t)
	win := a.NewWindow("Mottagning")
	win.Resize(fyne.NewSize(1000, 760))
	win.Show()
	var tk tasks
	qr, err := qrcode.Encode("otpauth://totp/Mottagning:anna?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Mottagning", qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	d := showTOTPDialog(context.Background(), &tk, fakeSecondFactor{png: qr}, win)
	tk.wait()
	if d.code == nil || !strings.Contains(strings.Join(labels(d.body), "\n"), "JBSW Y3DP EHPK 3PXP") {
		t.Fatalf("enrolment shows %q", labels(d.body))
	}
	capture(t, win, "totp_enrol")
	d.code.SetText("12")
	d.submit()
	tk.wait()
	if d.errText.Text != L(textTOTPNeedCode) {
		t.Fatalf("a short code: %q", d.errText.Text)
	}
	d.code.SetText("123 456")
	d.submit()
	tk.wait()
	if d.errText.Text != L(textTOTPBadCode) || d.codes != nil {
		t.Fatalf("a wrong code: %q", d.errText.Text)
	}
	d.code.SetText("246 810")
	d.submit()
	tk.wait()
	if d.codes == nil || d.codes.Text != "ABCD-EFGH-JKLM\nNPQR-STUV-WXYZ" {
		t.Fatalf("recovery codes not shown: %q", labels(d.body))
	}
	test.Tap(findButton(t, d.body, L(textCopyCodes)))
	if got := a.Clipboard().Content(); got != d.codes.Text {
		t.Errorf("copied %q", got)
	}
	capture(t, win, "totp_recovery")
}
