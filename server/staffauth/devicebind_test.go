package staffauth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"mottagning/app"
)

// Issue 13, finding 2: a device is bound to its key; naming its id proves
// nothing.
func TestDeviceBinding_NamingADeviceTakesItsProof(t *testing.T) {
	f := newFixture(t)
	annaRoles := map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}
	dev := newDevice(t)
	anna := f.signInOn("anna", annaRoles, dev)
	f.newStaffTokens("cia", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseReceiver}}, nil)

	name := func(ch string, sig []byte) error {
		_, err := f.s.SignIn(f.ctx, SignInRequest{Username: "cia", Password: staffPass, DeviceID: anna.DeviceID,
			Challenge: ch, DeviceProof: sig})
		return err
	}
	err := name("", nil)
	f.want(err, ErrDeviceProof, "naming the device without a proof")
	if Code(err) != "device_proof" {
		t.Errorf("code %q", Code(err))
	}
	other := newDevice(t)
	ch, _ := f.s.Challenge()
	f.want(name(ch, app.SignDeviceProof(other.key, app.ProofSignIn, anna.DeviceID, ch)), ErrDeviceProof, "signed by another key")
	ch, _ = f.s.Challenge()
	f.want(name(ch, app.SignDeviceProof(dev.key, app.ProofAdopt, anna.DeviceID, ch)), ErrDeviceProof, "a proof for another purpose")
	ch, _ = f.s.Challenge()
	f.want(name(ch, app.SignDeviceProof(dev.key, app.ProofSignIn, "01ARZ3NDEKTSV4RRFFQ69G5FAV", ch)), ErrDeviceProof, "a proof for another device")

	// A proof serves once.
	ch, _ = f.s.Challenge()
	sig := app.SignDeviceProof(dev.key, app.ProofSignIn, anna.DeviceID, ch)
	tok, err := f.s.SignIn(f.ctx, SignInRequest{Username: "anna", Password: staffPass, DeviceID: anna.DeviceID, Challenge: ch, DeviceProof: sig})
	if err != nil || tok.DeviceID != anna.DeviceID || !tok.KeyBound {
		t.Fatalf("the device's own proof: %v", err)
	}
	f.want(name(ch, sig), ErrChallenge, "a proof replayed")
	if Code(f.errs[len(f.errs)-1]) != "challenge_invalid" {
		t.Errorf("code %q", Code(f.errs[len(f.errs)-1]))
	}
	// Expired, forged or foreign challenges.
	ch, exp := f.s.Challenge()
	if d := exp.Sub(f.clock.Now()); d != 2*time.Minute {
		t.Errorf("challenge lifetime %v", d)
	}
	f.clock.Add(2 * time.Minute)
	f.want(name(ch, app.SignDeviceProof(dev.key, app.ProofSignIn, anna.DeviceID, ch)), ErrChallenge, "an expired challenge")
	ch, _ = f.s.Challenge()
	forged := ch[:5] + string(ch[5]^1) + ch[6:]
	f.want(name(forged, app.SignDeviceProof(dev.key, app.ProofSignIn, anna.DeviceID, forged)), ErrChallenge, "a forged challenge")
	s2, _ := openTest(t, f.clock)
	foreign, _ := s2.Challenge()
	f.want(name(foreign, app.SignDeviceProof(dev.key, app.ProofSignIn, anna.DeviceID, foreign)), ErrChallenge, "another server's challenge")
	for _, bad := range []string{"c1.", "c1..", "x" + ch, strings.Repeat("A", 500)} {
		f.want(name(bad, sig), ErrChallenge, "a malformed challenge")
	}

	// The password comes first: without it nothing is said of devices.
	ch, _ = f.s.Challenge()
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "cia", Password: "fel-lösenord", DeviceID: anna.DeviceID})
	f.want(err, ErrBadCredentials, "a wrong password naming the device")
	// A sign-in with the proof cannot swap the device's key.
	other.id = ""
	ch, _ = f.s.Challenge()
	tok, err = f.s.SignIn(f.ctx, SignInRequest{Username: "anna", Password: staffPass, DeviceID: anna.DeviceID, DeviceKey: other.pub(),
		Challenge: ch, DeviceProof: app.SignDeviceProof(dev.key, app.ProofSignIn, anna.DeviceID, ch)})
	if err != nil || tok.DeviceID != anna.DeviceID {
		t.Fatalf("sign-in with the proof and another key: %v", err)
	}
	devs, _ := f.s.Devices(f.ctx, anna.StaffID)
	if len(devs) != 1 || !bytes.Equal(devs[0].Key, dev.pub()) || !devs[0].KeyAt.Before(f.clock.Now()) {
		t.Errorf("the device's key changed: %+v", devs)
	}
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "cia", Password: staffPass, DeviceKey: make([]byte, 16)})
	f.want(err, app.ErrInvalid, "a malformed device key")
	noLeak(t, f.errs, "cia", "anna", staffPass)
}

// A device registered before keys: naming it gets a fresh device, and it
// adopts a key only with its current refresh token.
func TestDeviceBinding_KeylessDeviceAdoptsAKeyOnlyWithItsRefreshToken(t *testing.T) {
	f := newFixture(t)
	legacy := f.newStaffTokens("anna", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	if legacy.KeyBound {
		t.Fatal("a sign-in without a key is bound")
	}
	f.newStaffTokens("cia", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseReceiver}}, nil)
	mallory := newDevice(t)

	// Cia names it, with a key of her own: a new device, hers.
	tok, err := f.s.SignIn(f.ctx, SignInRequest{Username: "cia", Password: staffPass, DeviceID: legacy.DeviceID, DeviceKey: mallory.pub()})
	if err != nil || tok.DeviceID == legacy.DeviceID || !tok.KeyBound {
		t.Fatalf("naming a keyless device: %v, same device %v", err, err == nil && tok.DeviceID == legacy.DeviceID)
	}
	// Her refresh token adopts (here: confirms) for her own device only.
	ch, _ := f.s.Challenge()
	if _, err := f.s.RefreshDevice(f.ctx, tok.Refresh, &KeyProof{PublicKey: mallory.pub(), Challenge: ch,
		Signature: app.SignDeviceProof(mallory.key, app.ProofAdopt, legacy.DeviceID, ch)}); err != nil {
		t.Fatalf("refresh of her own device: %v", err)
	}
	devs, err := f.s.Devices(f.ctx, f.claims(legacy).StaffID)
	if err != nil || len(devs) != 1 || devs[0].ID != legacy.DeviceID || devs[0].Key != nil {
		t.Fatalf("the keyless device got a key: %+v, %v", devs, err)
	}
	// Nor does naming it again, now with a proof by her key.
	ch, _ = f.s.Challenge()
	tok2, err := f.s.SignIn(f.ctx, SignInRequest{Username: "cia", Password: staffPass, DeviceID: legacy.DeviceID, DeviceKey: mallory.pub(),
		Challenge: ch, DeviceProof: app.SignDeviceProof(mallory.key, app.ProofSignIn, legacy.DeviceID, ch)})
	if err != nil || tok2.DeviceID == legacy.DeviceID {
		t.Fatalf("naming a keyless device with a proof: %v", err)
	}
}

// The adoption from the desktop's side: refresh token and key together,
// then a sign-in naming the device with its proof keeps it.
func TestDeviceBinding_AdoptionThenSignInKeepsTheDevice(t *testing.T) {
	f := newFixture(t)
	legacy := f.newStaffTokens("anna", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	dev := newDevice(t)
	ch, _ := f.s.Challenge()
	bad := &KeyProof{PublicKey: dev.pub(), Challenge: ch, Signature: make([]byte, 64)}
	_, err := f.s.RefreshDevice(f.ctx, legacy.Refresh, bad)
	f.want(err, ErrDeviceProof, "a bad adoption signature")
	// A refused adoption spends nothing: the token still refreshes.
	ch, _ = f.s.Challenge()
	tok, err := f.s.RefreshDevice(f.ctx, legacy.Refresh, &KeyProof{PublicKey: dev.pub(), Challenge: ch,
		Signature: app.SignDeviceProof(dev.key, app.ProofAdopt, legacy.DeviceID, ch)})
	if err != nil || !tok.KeyBound || tok.DeviceID != legacy.DeviceID {
		t.Fatalf("adoption: %v", err)
	}
	dev.id = legacy.DeviceID
	tok, err = f.signInOnDevice(dev, SignInRequest{Username: "anna", Password: staffPass})
	if err != nil {
		t.Fatalf("sign-in after the adoption: %v", err)
	}
	// Another key on a device that has one is refused, and spends nothing.
	other := newDevice(t)
	ch, _ = f.s.Challenge()
	tok2, err := f.s.RefreshDevice(f.ctx, tok.Refresh, &KeyProof{PublicKey: other.pub(), Challenge: ch,
		Signature: app.SignDeviceProof(other.key, app.ProofAdopt, legacy.DeviceID, ch)})
	if err == nil {
		t.Fatalf("another key adopted: %+v", tok2)
	}
	f.want(err, ErrDeviceProof, "another key for a device with a key")
	if _, err := f.s.Refresh(f.ctx, tok.Refresh); err != nil {
		t.Errorf("the refresh token after a refused adoption: %v", err)
	}
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "anna", Password: staffPass, DeviceID: legacy.DeviceID})
	f.want(err, ErrDeviceProof, "naming the adopted device without a proof")

	// A revoked keyless device named: refused as revoked, without why.
	old := f.newStaffTokens("bo", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	if err := f.s.RevokeDevice(f.ctx, f.adminA, old.DeviceID, "Stulen"); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "bo", Password: staffPass, DeviceID: old.DeviceID})
	var re *RevokedError
	if !errors.As(err, &re) || re.Reason != "" {
		t.Errorf("naming a revoked keyless device: %v", err)
	}
}

// Sign-out ends the caller's session on the device, at once, and nothing
// else: not the device, not a colleague's session on it.
func TestEndSession_EndsOnlyTheCallersSession(t *testing.T) {
	f := newFixture(t)
	dev := newDevice(t)
	anna := f.signInOn("anna", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, dev)
	annaTok := f.signInTok("anna", dev)
	f.newStaffTokens("bo", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseReceiver}}, nil)
	boTok := f.signInTok("bo", dev)
	bo := f.claims(boTok)
	if err := f.s.EndSession(f.ctx, bo); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.Authenticate(f.ctx, boTok.Access)
	f.want(err, ErrTokenExpired, "access token after sign-out")
	_, err = f.s.Refresh(f.ctx, boTok.Refresh)
	f.want(err, ErrTokenInvalid, "refresh token after sign-out")
	if err := f.s.EndSession(f.ctx, bo); err != nil {
		t.Errorf("signing out twice: %v", err)
	}
	// Anna on the same device is untouched, and so is the device.
	f.claims(annaTok)
	if _, err := f.s.Refresh(f.ctx, annaTok.Refresh); err != nil {
		t.Errorf("colleague's refresh after the sign-out: %v", err)
	}
	devs, _ := f.s.Devices(f.ctx, anna.StaffID)
	if len(devs) != 1 || devs[0].Revoked {
		t.Errorf("device after a sign-out: %+v", devs)
	}
	if _, err := f.signInOnDevice(dev, SignInRequest{Username: "bo", Password: staffPass}); err != nil {
		t.Errorf("signing in again after signing out: %v", err)
	}
	// SignOut with the refresh token stops the access token too.
	tok := f.signInTok("anna", dev)
	f.claims(tok)
	if err := f.s.SignOut(f.ctx, tok.Refresh); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Authenticate(f.ctx, tok.Access)
	f.want(err, ErrTokenExpired, "access token after SignOut")
}

// The list of devices is what the caller may revoke; the operator sees
// and revokes every device.
func TestDevicesFor_WhatTheCallerMayRevoke(t *testing.T) {
	f := newFixture(t)
	inA := f.signInOn("anna", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	inB := f.signInOn("bo", map[app.ID][]app.Role{clinicB: {app.RoleCaseHandler}}, nil)
	ids := func(by *Claims) map[app.ID]bool {
		t.Helper()
		ds, err := f.s.DevicesFor(f.ctx, by)
		if err != nil {
			t.Fatal(err)
		}
		m := map[app.ID]bool{}
		for _, d := range ds {
			m[d.ID] = true
		}
		return m
	}
	if m := ids(f.adminA); !m[inA.DeviceID] || m[inB.DeviceID] {
		t.Errorf("admin A sees %v", m)
	}
	if m := ids(f.root); !m[inA.DeviceID] || !m[inB.DeviceID] {
		t.Errorf("region admin sees %v", m)
	}
	if m := ids(inA); len(m) != 0 {
		t.Errorf("a staff member without the role sees %v", m)
	}
	f.want(f.s.OperatorRevokeDevice(f.ctx, inB.DeviceID, ""), app.ErrInvalid, "operator without a reason")
	if err := f.s.OperatorRevokeDevice(f.ctx, inB.DeviceID, "Kasserad"); err != nil {
		t.Fatal(err)
	}
	all, err := f.s.AllDevices(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if d.ID == inB.DeviceID && (!d.Revoked || d.RevokedBy != "" || d.RevokeReason != "Kasserad") {
			t.Errorf("operator's revocation: %+v", d)
		}
	}
	_, err = f.s.Authenticate(f.ctx, f.signInTok("bo", newDevice(t)).Access)
	if err == nil {
		// bo signs in on a new device: fine; his old one is revoked.
		devs, _ := f.s.Devices(f.ctx, inB.StaffID)
		if len(devs) != 2 || !devs[0].Revoked {
			t.Errorf("bo's devices %+v", devs)
		}
	}
}
