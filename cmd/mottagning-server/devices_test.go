package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
)

// The real binary with the real staff accounts: a device registered with
// its key; another staff member naming its id gets another device (or a
// refusal); the operator lists the devices and revokes one through the
// running server's admin socket, and its token is refused with the reason;
// with the server stopped the commands open auth.db themselves.
func TestProcessDevicesListAndRevoke(t *testing.T) {
	data := t.TempDir()
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--demo")
	ctx, c := t.Context(), p.c
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	anna, err := c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "anna", Password: demo.Password("anna"), DeviceName: "Reception 2",
		DeviceKey: pub})
	if err != nil || !anna.DeviceKeyBound {
		t.Fatalf("sign-in with a device key: %v", err)
	}
	// The device's own proof names it …
	ch, err := c.StaffChallenge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "anna", Password: demo.Password("anna"), DeviceID: anna.DeviceID,
		Challenge: ch.Challenge, DeviceProof: app.SignDeviceProof(key, app.ProofSignIn, app.ID(anna.DeviceID), ch.Challenge)})
	if err != nil || again.DeviceID != anna.DeviceID {
		t.Fatalf("sign-in with the device's proof: %v", err)
	}
	// … its id alone does not.
	_, err = c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "bjorn", Password: demo.Password("bjorn"), DeviceID: anna.DeviceID})
	if client.Code(err) != "device_proof" {
		t.Fatalf("naming another device: %v", err)
	}

	out, err := cli(t, "devices", "--data", data)
	if err != nil || !strings.Contains(out, anna.DeviceID) || !strings.Contains(out, "Reception 2") || !strings.Contains(out, "active") {
		t.Fatalf("devices: %v\n%s", err, out)
	}
	if out, err := cli(t, "revoke-device", "--data", data, anna.DeviceID); err == nil || !strings.Contains(out, "--reason") {
		t.Fatalf("revoke-device without a reason: %v\n%s", err, out)
	}
	if out, err := cli(t, "revoke-device", "--data", data, "--reason", "Stulen ur bilen", "01ARZ3NDEKTSV4RRFFQ69G5FAV"); err == nil || !strings.Contains(out, "no such device") {
		t.Fatalf("revoke an unknown device: %v\n%s", err, out)
	}
	if out, err := cli(t, "revoke-device", "--data", data, "--reason", "Stulen ur bilen", anna.DeviceID); err != nil {
		t.Fatalf("revoke-device: %v\n%s", err, out)
	}
	_, err = c.StaffMe(ctx, again.AccessToken)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Code != "device_revoked" || ae.Revocation == nil || ae.Revocation.Reason != "Stulen ur bilen" {
		t.Fatalf("the revoked device's token: %v", err)
	}
	p.stop(t)
	out, err = cli(t, "devices", "--data", data)
	if err != nil || !strings.Contains(out, "revoked") || !strings.Contains(out, "Stulen ur bilen") {
		t.Fatalf("devices with the server stopped: %v\n%s", err, out)
	}
	if strings.Contains(p.logs.String(), "Stulen ur bilen") || !p.logs.has("device revoked") {
		t.Errorf("the server log has the reason, or not the revocation:\n%s", p.logs)
	}
}
