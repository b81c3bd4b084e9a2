package main

import (
	"bytes"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/internal/servertest"
)

// TestProcessTOTPEnrolment is item 4 of issue 15 (TOTP existed, but
// nothing could enrol it) on the real binary: Anna enrols an
// authenticator app over the API (a secret, its otpauth URL and a QR code
// that is a real PNG), confirms it with a code and gets ten recovery
// codes; from then on her sign-in asks for a code (totp_required), takes a
// code from the app or a recovery code (once), and refuses a wrong one;
// her behörighetsadministratör resets it, and the password alone works
// again.
func TestProcessTOTPEnrolment(t *testing.T) {
	p := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--key-file", keyFile(t))
	ctx := t.Context()
	c := p.c
	signIn := func(req client.StaffSignInRequest) (*client.Tokens, error) {
		req.Username, req.Password, req.DeviceName = "anna", demo.Password("anna"), "Testdator"
		return c.StaffSignIn(ctx, req)
	}
	tok, err := signIn(client.StaffSignInRequest{})
	if err != nil {
		t.Fatal(err)
	}
	en, err := c.EnrollTOTP(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("enrol: %v", err)
	}
	if !strings.HasPrefix(en.OTPAuthURL, "otpauth://totp/Mottagning:anna?") || !strings.Contains(en.OTPAuthURL, "secret="+en.Secret) {
		t.Errorf("otpauth URL %q", en.OTPAuthURL)
	}
	img, err := png.Decode(bytes.NewReader(en.QRPNG))
	if err != nil || img.Bounds().Dx() < 200 {
		t.Fatalf("QR code: %v", err)
	}
	// Until confirmed, sign-in asks for nothing.
	if _, err := signIn(client.StaffSignInRequest{}); err != nil {
		t.Fatalf("sign-in before the enrolment is confirmed: %v", err)
	}
	if _, err := c.ConfirmTOTP(ctx, tok.AccessToken, "000000"); client.Code(err) != "bad_credentials" {
		t.Fatalf("confirm with a wrong code: %v", err)
	}
	recovery, err := c.ConfirmTOTP(ctx, tok.AccessToken, servertest.TOTP(t, en.Secret, time.Now().Add(-30*time.Second)))
	if err != nil || len(recovery) != 10 {
		t.Fatalf("confirm: %d codes, %v", len(recovery), err)
	}
	if _, err := c.EnrollTOTP(ctx, tok.AccessToken); client.Code(err) != "conflict" {
		t.Errorf("a second enrolment: %v, want conflict", err)
	}

	if _, err := signIn(client.StaffSignInRequest{}); client.Code(err) != "totp_required" {
		t.Fatalf("sign-in without a code: %v, want totp_required", err)
	}
	if _, err := signIn(client.StaffSignInRequest{TOTP: "123456"}); client.Code(err) != "bad_credentials" {
		t.Fatalf("a wrong code: %v", err)
	}
	if _, err := signIn(client.StaffSignInRequest{TOTP: servertest.TOTP(t, en.Secret, time.Now())}); err != nil {
		t.Fatalf("sign-in with the app's code: %v", err)
	}
	if _, err := signIn(client.StaffSignInRequest{RecoveryCode: recovery[3]}); err != nil {
		t.Fatalf("sign-in with a recovery code: %v", err)
	}
	if _, err := signIn(client.StaffSignInRequest{RecoveryCode: recovery[3]}); client.Code(err) != "bad_credentials" {
		t.Fatalf("a used recovery code again: %v", err)
	}

	eva, err := c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "eva", Password: demo.Password("eva"), DeviceName: "Adm"})
	if err != nil {
		t.Fatal(err)
	}
	me, _ := c.StaffMe(ctx, tok.AccessToken)
	if err := c.Do(ctx, http.MethodPost, "/api/staff/accounts/"+me.StaffID+"/totp/reset", eva.AccessToken, nil, nil); err != nil {
		t.Fatalf("reset by the behörighetsadministratör: %v", err)
	}
	if _, err := signIn(client.StaffSignInRequest{}); err != nil {
		t.Fatalf("password alone after the reset: %v", err)
	}
}

// TestProcessTOTPRequiredForARole: with totp_required_roles naming the
// behörighetsadministratör, Eva's password sign-in gives a token that
// opens nothing but the enrolment (403 totp_enrollment_required
// elsewhere; /api/staff/me says so); once she has confirmed an
// authenticator app, the same token works, and her next sign-in needs the
// code. Anna (no such role) is not asked.
func TestProcessTOTPRequiredForARole(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(cfgFile, []byte(`totp_required_roles = ["behorighetsadministrator"]`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binary(t), "--data", t.TempDir(), "--demo", "--config", writeConfig(t, `totp_required_roles = ["chef"]`)).CombinedOutput(); err == nil || !strings.Contains(string(out), `unknown role "chef"`) {
		t.Fatalf("an unknown role: %v\n%s", err, out)
	}
	p := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--key-file", keyFile(t), "--config", cfgFile)
	ctx := t.Context()
	c := p.c
	eva, err := c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "eva", Password: demo.Password("eva"), DeviceName: "Adm"})
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.StaffMe(ctx, eva.AccessToken)
	if err != nil || !me.TOTPEnrollmentRequired {
		t.Fatalf("me = %+v, %v; want the enrolment required", me, err)
	}
	if _, err := c.Devices(ctx, eva.AccessToken); client.Code(err) != "totp_enrollment_required" {
		t.Fatalf("another endpoint before enrolling: %v", err)
	}
	en, err := c.EnrollTOTP(ctx, eva.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmTOTP(ctx, eva.AccessToken, servertest.TOTP(t, en.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Devices(ctx, eva.AccessToken); err != nil {
		t.Fatalf("after enrolling: %v", err)
	}
	if _, err := c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "eva", Password: demo.Password("eva"), DeviceName: "Adm"}); client.Code(err) != "totp_required" {
		t.Fatalf("Eva's next sign-in without a code: %v", err)
	}
	anna, err := c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "anna", Password: demo.Password("anna"), DeviceName: "Hand"})
	if err != nil {
		t.Fatal(err)
	}
	if me, err := c.StaffMe(ctx, anna.AccessToken); err != nil || me.TOTPEnrollmentRequired {
		t.Fatalf("Anna: %+v, %v", me, err)
	}
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(f, []byte(text+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
