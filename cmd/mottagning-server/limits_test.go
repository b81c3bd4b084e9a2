package main

import (
	"net/http"
	"testing"

	"mottagning/app/demo"
	"mottagning/client"
)

// TestProcessSignInLimitsCountFailuresOnly is item 4 of issue 15 on the
// real binary (default limits: 10 failures per client address, refilled
// 10 a minute). Valid refreshes are never counted or blocked: far more
// than ten in a row work (a hundred desktops behind one NAT refresh all
// day). Failed sign-ins are: after ten from one address, a sign-in from it
// waits (429), while a valid refresh from it still works. Five wrong
// passwords lock Anna's account; her behörighetsadministratör lifts the
// lock over the API, and Anna signs in.
func TestProcessSignInLimitsCountFailuresOnly(t *testing.T) {
	p := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--key-file", keyFile(t))
	ctx := t.Context()
	c := p.c
	signIn := func(user, pw string) (*client.Tokens, error) {
		return c.StaffSignIn(ctx, client.StaffSignInRequest{Username: user, Password: pw, DeviceName: "Testdator"})
	}
	tok, err := signIn("anna", demo.Password("anna"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if tok, err = c.StaffRefresh(ctx, tok.RefreshToken); err != nil {
			t.Fatalf("valid refresh %d: %v (valid refreshes must never count)", i+1, err)
		}
	}

	// Anna's account locks after her free attempts (4 failures, the 5th locks).
	for i := 0; i < 5; i++ {
		_, err = signIn("anna", "fel lösenord")
	}
	if client.Code(err) != "login_locked" && client.Code(err) != "too_many_attempts" {
		t.Fatalf("after 5 wrong passwords: %v, want the account locked", err)
	}
	if _, err := signIn("anna", demo.Password("anna")); err == nil {
		t.Fatal("a locked account signed in")
	}
	eva, err := signIn("eva", demo.Password("eva"))
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.StaffMe(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, http.MethodPost, "/api/staff/accounts/"+me.StaffID+"/unlock", tok.AccessToken, nil, nil); client.Code(err) != "forbidden" {
		t.Fatalf("Anna unlocking herself: %v, want forbidden", err)
	}
	if err := c.Do(ctx, http.MethodPost, "/api/staff/accounts/"+me.StaffID+"/unlock", eva.AccessToken, nil, nil); err != nil {
		t.Fatalf("Eva (behörighetsadministratör) unlocking Anna: %v", err)
	}
	if tok, err = signIn("anna", demo.Password("anna")); err != nil {
		t.Fatalf("Anna after the unlock: %v", err)
	}

	// Failures from this address: 6 so far (5 of Anna's, Anna's refused
	// right password during the lock); 4 more use up the 10.
	for i := 0; i < 4; i++ {
		if _, err := signIn("bo", "fel"); client.Code(err) == "too_many_attempts" {
			t.Fatalf("failure %d refused early", 7+i)
		}
	}
	if _, err := signIn("eva", demo.Password("eva")); client.Code(err) != "too_many_attempts" {
		t.Fatalf("a sign-in after 10 failures from one address: %v, want too_many_attempts", err)
	}
	if _, err := c.StaffRefresh(ctx, tok.RefreshToken); err != nil {
		t.Fatalf("a valid refresh from the blocked address: %v (never blocked)", err)
	}
}
