package staffauth

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

func TestBootstrapOnlyOnFirstRun(t *testing.T) {
	f := newFixture(t)
	err := f.s.Bootstrap(f.ctx, app.Staff{Name: "Another", Username: "another"}, "another-password")
	f.want(err, ErrAlreadyBootstrapped, "second bootstrap")
	f.want(err, app.ErrForbidden, "second bootstrap")
	if !f.root.HasRegion(RoleRegionPermissionAdmin) {
		t.Error("the bootstrap account is not region administrator")
	}
	if f.root.Has(clinicA, app.RoleCaseReceiver) {
		t.Error("region administrator holds a case role")
	}
	clock := &testClock{t: time.Now()}
	s, _ := openTest(t, clock)
	if err := s.Bootstrap(f.ctx, app.Staff{Name: "X", Username: "x"}, "short"); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("bootstrap with a short password: %v", err)
	}
	if err := s.Bootstrap(f.ctx, app.Staff{Name: "", Username: "x y"}, "long enough"); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("bootstrap with a bad username: %v", err)
	}
}

// Role table: a behörighetsadministratör gives and takes roles in the
// clinic, nowhere else, never on their own account; kontaktcenter is a
// region role.
func TestPermissionAdminOnlyInOwnClinic(t *testing.T) {
	f := newFixture(t)
	id := app.NewID(f.clock.Now())
	nurse := app.Staff{ID: id, Name: "Sjuk Sköterska", Username: "nurse",
		Roles: map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler, app.RoleCaseHandler}}}
	if err := f.s.PutStaff(f.ctx, f.adminA, nurse); err != nil {
		t.Fatalf("admin A creates staff in A: %v", err)
	}
	got, err := f.s.Staff(f.ctx, id)
	if err != nil || !slices.Equal(got.Roles[clinicA], []app.Role{app.RoleCaseHandler}) {
		t.Fatalf("stored staff %+v, %v", got, err)
	}

	inB := nurse
	inB.Roles = map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}, clinicB: {app.RoleCaseReceiver}}
	f.want(f.s.PutStaff(f.ctx, f.adminA, inB), app.ErrForbidden, "admin A gives a role in B")
	// Admin B may add B's roles, leaving A's as they are.
	if err := f.s.PutStaff(f.ctx, f.adminB, inB); err != nil {
		t.Fatalf("admin B gives a role in B: %v", err)
	}
	// Now admin A may still change A's roles, but not the name (the
	// account is also B's) nor B's roles.
	changeA := inB
	changeA.Roles = map[app.ID][]app.Role{clinicA: {app.RoleCaseReceiver, app.RoleCaseHandler}, clinicB: {app.RoleCaseReceiver}}
	if err := f.s.PutStaff(f.ctx, f.adminA, changeA); err != nil {
		t.Errorf("admin A changes A's roles of a shared account: %v", err)
	}
	rename := changeA
	rename.Name = "Nytt Namn"
	f.want(f.s.PutStaff(f.ctx, f.adminA, rename), app.ErrForbidden, "admin A renames an account shared with B")
	dropB := changeA
	dropB.Roles = map[app.ID][]app.Role{clinicA: changeA.Roles[clinicA]}
	f.want(f.s.PutStaff(f.ctx, f.adminA, dropB), app.ErrForbidden, "admin A takes B's roles")
	f.want(f.s.SetPassword(f.ctx, f.adminA, id, "new-password-1"), app.ErrForbidden, "admin A resets a password of a shared account")
	f.want(f.s.Disable(f.ctx, f.adminA, id, true), app.ErrForbidden, "admin A disables a shared account")
	if err := f.s.SetPassword(f.ctx, f.root, id, "new-password-1"); err != nil {
		t.Errorf("region admin resets the password: %v", err)
	}

	// Own account, even to add a role in the own clinic.
	self, _ := f.s.Staff(f.ctx, f.adminA.StaffID)
	self.Roles[clinicA] = append(self.Roles[clinicA], app.RoleCaseReceiver)
	f.want(f.s.PutStaff(f.ctx, f.adminA, *self), app.ErrForbidden, "admin changes own roles")
	f.want(f.s.SetPassword(f.ctx, f.adminA, f.adminA.StaffID, "whatever-123"), app.ErrForbidden, "admin resets own password")
	f.want(f.s.Disable(f.ctx, f.adminA, f.adminA.StaffID, true), app.ErrForbidden, "admin disables self")

	// kontaktcenter: region role, region administrator only.
	kc := app.Staff{Name: "Kontakt Center", Username: "kc", RegionRoles: []app.Role{app.RoleContactCenter}}
	f.want(f.s.PutStaff(f.ctx, f.adminA, kc), app.ErrForbidden, "clinic admin gives kontaktcenter")
	if err := f.s.PutStaff(f.ctx, f.root, kc); err != nil {
		t.Errorf("region admin gives kontaktcenter: %v", err)
	}
	// A case handler is no administrator.
	handler := f.newStaff("handler", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	f.want(f.s.PutStaff(f.ctx, handler, app.Staff{Name: "Ny", Username: "ny", Roles: map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}}),
		app.ErrForbidden, "case handler creates staff")
	f.want(f.s.PutStaff(f.ctx, nil, app.Staff{Name: "Ny", Username: "ny"}), app.ErrForbidden, "no caller")

	// Bad input.
	bad := []app.Staff{
		{Name: "X", Username: "", Roles: nil},
		{Name: "X", Username: "has space"},
		{Name: "X", Username: strings.Repeat("u", MaxUsernameLen+1)},
		{Name: "", Username: "noname"},
		{Name: "X", Username: "x1", Roles: map[app.ID][]app.Role{clinicA: {"overlord"}}},
		{Name: "X", Username: "x2", Roles: map[app.ID][]app.Role{clinicA: {app.RoleContactCenter}}},
		{Name: "X", Username: "x3", RegionRoles: []app.Role{app.RoleCaseHandler}},
		{Name: "X\x00", Username: "x4"},
	}
	for i, st := range bad {
		if err := f.s.PutStaff(f.ctx, f.root, st); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("bad staff %d: %v", i, err)
		}
	}
	// Usernames are unique, case-insensitively.
	dup := app.Staff{Name: "Dubbel", Username: "NURSE", Roles: map[app.ID][]app.Role{clinicA: {app.RoleAuditor}}}
	f.want(f.s.PutStaff(f.ctx, f.adminA, dup), app.ErrConflict, "taken username")
	all, err := f.s.AllStaff(f.ctx)
	if err != nil || len(all) != 6 {
		t.Errorf("AllStaff: %d, %v", len(all), err)
	}
	noLeak(t, f.errs, "nurse", "Sjuk Sköterska", "Nytt Namn", "new-password-1", "kontakt")
}

// A change of roles ends the access tokens with the old snapshot; the
// client refreshes and gets the new roles.
func TestRoleChangeTakesEffectAtOnce(t *testing.T) {
	f := newFixture(t)
	tok := f.signInNew(t, "handler", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	c := f.claims(tok)
	if !c.Has(clinicA, app.RoleCaseHandler) || c.Has(clinicA, app.RoleCaseReceiver) {
		t.Fatalf("claims %+v", c.Roles)
	}
	st, _ := f.s.Staff(f.ctx, c.StaffID)
	st.Roles = map[app.ID][]app.Role{clinicA: {app.RoleCaseReceiver}}
	if err := f.s.PutStaff(f.ctx, f.adminA, *st); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.Authenticate(f.ctx, tok.Access)
	f.want(err, ErrTokenExpired, "access token with old roles")
	tok2, err := f.s.Refresh(f.ctx, tok.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	c = f.claims(tok2)
	if c.Has(clinicA, app.RoleCaseHandler) || !c.Has(clinicA, app.RoleCaseReceiver) {
		t.Errorf("claims after refresh %+v", c.Roles)
	}
}

// signInNew creates a staff member with roles as root and signs them in.
func (f *fixture) signInNew(t *testing.T, username string, roles map[app.ID][]app.Role) *Tokens {
	t.Helper()
	return f.newStaffTokens(username, staffPass, roles, nil)
}

func TestSignInWithTOTP(t *testing.T) {
	f := newFixture(t)
	f.newStaffTokens("anna", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	dev := newDevice(t)
	tok, err := f.signInOnDevice(dev, SignInRequest{Username: "anna", Password: staffPass})
	if err != nil {
		t.Fatal(err)
	}
	c := f.claims(tok)
	secret, url, err := f.s.EnrollTOTP(f.ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "otpauth://totp/Mottagning:anna?") || !strings.Contains(url, "secret="+secret) {
		t.Errorf("otpauth URL %q", url)
	}
	// Pending: the password alone still signs in.
	f.signIn("anna", staffPass)

	wrong := "000000"
	if code(t, secret, f.clock.Now()) == wrong {
		wrong = "111111"
	}
	_, err = f.s.ConfirmTOTP(f.ctx, c, wrong)
	f.want(err, ErrBadCredentials, "confirm with a wrong code")
	codes, err := f.s.ConfirmTOTP(f.ctx, c, code(t, secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCodes {
		t.Fatalf("%d recovery codes", len(codes))
	}
	_, _, err = f.s.EnrollTOTP(f.ctx, c)
	f.want(err, app.ErrConflict, "enrol again over a confirmed TOTP")

	req := SignInRequest{Username: "anna", Password: staffPass}
	_, err = f.signInOnDevice(dev, req)
	f.want(err, ErrTOTPRequired, "password only")
	if Code(err) != "totp_required" {
		t.Errorf("code %q", Code(err))
	}
	req.TOTP = wrong
	_, err = f.signInOnDevice(dev, req)
	f.want(err, ErrBadCredentials, "wrong TOTP")
	// The code that confirmed the enrolment cannot be used again.
	req.TOTP = code(t, secret, f.clock.Now())
	_, err = f.signInOnDevice(dev, req)
	f.want(err, ErrBadCredentials, "replayed TOTP")
	f.clock.Add(30 * time.Second)
	req.TOTP = code(t, secret, f.clock.Now())
	tok2, err := f.signInOnDevice(dev, req)
	if err != nil {
		t.Fatalf("right TOTP: %v", err)
	}
	if tok2.DeviceID != tok.DeviceID {
		t.Error("a known device was registered again")
	}
	// A code from the previous step still counts (clock skew), once.
	f.clock.Add(30 * time.Second)
	_, err = f.s.SignIn(f.ctx, req)
	f.want(err, ErrBadCredentials, "code of a used step")
	f.clock.Add(30 * time.Second)
	req.TOTP = code(t, secret, f.clock.Now().Add(-30*time.Second))
	if _, err := f.s.SignIn(f.ctx, req); err != nil {
		t.Errorf("code of the previous step: %v", err)
	}
	// The wrong password with a right code is still wrong.
	f.clock.Add(30 * time.Second)
	req.Password, req.TOTP = "not-the-password", code(t, secret, f.clock.Now())
	_, err = f.s.SignIn(f.ctx, req)
	f.want(err, ErrBadCredentials, "wrong password, right TOTP")

	// Recovery codes: each works once, in any case and with spaces.
	req = SignInRequest{Username: "anna", Password: staffPass, RecoveryCode: strings.ToLower(strings.ReplaceAll(codes[3], "-", " "))}
	if _, err := f.s.SignIn(f.ctx, req); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	_, err = f.s.SignIn(f.ctx, req)
	f.want(err, ErrBadCredentials, "recovery code used twice")
	req.RecoveryCode = "AAAA-BBBB-CCCC-DDDD"
	_, err = f.s.SignIn(f.ctx, req)
	f.want(err, ErrBadCredentials, "made-up recovery code")
	req.RecoveryCode = codes[4]
	if _, err := f.s.SignIn(f.ctx, req); err != nil {
		t.Fatalf("another recovery code: %v", err)
	}

	// Lost phone: an administrator clears TOTP; the password alone signs in.
	f.want(f.s.ResetTOTP(f.ctx, f.adminB, c.StaffID), app.ErrForbidden, "admin of another clinic clears TOTP")
	if err := f.s.ResetTOTP(f.ctx, f.adminA, c.StaffID); err != nil {
		t.Fatal(err)
	}
	f.signIn("anna", staffPass)
	noLeak(t, f.errs, "anna", staffPass, secret, wrong, codes[3], codes[4])
}

func TestAccessTokenExpiry(t *testing.T) {
	f := newFixture(t)
	tok := f.signInNew(t, "bo", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	if got := tok.AccessExpires.Sub(f.clock.Now()); got != 10*time.Minute {
		t.Errorf("access lifetime %v", got)
	}
	if got := tok.RefreshExpires.Sub(f.clock.Now()); got != 12*time.Hour {
		t.Errorf("refresh lifetime %v", got)
	}
	f.clock.Add(10*time.Minute - time.Second)
	f.claims(tok)
	f.clock.Add(time.Second)
	_, err := f.s.Authenticate(f.ctx, tok.Access)
	f.want(err, ErrTokenExpired, "access token at expiry")
	tok2, err := f.s.Refresh(f.ctx, tok.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	f.claims(tok2)
	// Rotation does not extend the working day.
	if !tok2.RefreshExpires.Equal(tok.RefreshExpires) {
		t.Errorf("refresh expiry moved: %v → %v", tok.RefreshExpires, tok2.RefreshExpires)
	}
	f.clock.Add(12 * time.Hour)
	_, err = f.s.Refresh(f.ctx, tok2.Refresh)
	f.want(err, ErrTokenExpired, "refresh after the working day")
}

func TestRefreshRotationAndReuse(t *testing.T) {
	f := newFixture(t)
	tok1 := f.signInNew(t, "cia", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	other := f.signInNew(t, "dan", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	tok2, err := f.s.Refresh(f.ctx, tok1.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	if tok2.Refresh == tok1.Refresh || tok2.DeviceID != tok1.DeviceID {
		t.Fatal("refresh token not rotated, or device changed")
	}
	f.claims(tok2)
	// The old refresh token again, after the grace of a lost answer:
	// somebody has a copy. The device goes, with a reason its users are
	// shown.
	f.clock.Add(RefreshRetryGrace + time.Second)
	_, err = f.s.Refresh(f.ctx, tok1.Refresh)
	f.want(err, ErrDeviceRevoked, "reused refresh token")
	var re *RevokedError
	if !errors.As(err, &re) || re.Reason != reuseReason || re.Device != tok1.DeviceID {
		t.Errorf("reuse: %v", err)
	}
	_, err = f.s.Authenticate(f.ctx, tok2.Access)
	f.want(err, ErrDeviceRevoked, "access token of the revoked device")
	_, err = f.s.Refresh(f.ctx, tok2.Refresh)
	f.want(err, ErrDeviceRevoked, "newest refresh token of the revoked device: told why")
	_, err = f.s.Refresh(f.ctx, tok2.Refresh)
	f.want(err, ErrTokenInvalid, "newest refresh token of the revoked device, again")
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "cia", Password: staffPass, DeviceID: tok1.DeviceID})
	f.want(err, ErrDeviceRevoked, "sign-in with the revoked device id")
	// Another device is untouched; a fresh online sign-in registers anew.
	f.claims(other)
	fresh := f.signIn("cia", staffPass)
	if fresh.DeviceID == tok1.DeviceID {
		t.Error("revoked device id reused")
	}
	devs, err := f.s.Devices(f.ctx, f.claims(fresh).StaffID)
	if err != nil || len(devs) != 2 || !devs[0].Revoked || devs[0].RevokeReason == "" || devs[1].Revoked {
		t.Errorf("devices %+v, %v", devs, err)
	}
	// Malformed refresh tokens.
	for _, bad := range []string{"", ".", tok1.Refresh + "x", strings.Repeat("A", 500), string(tok1.DeviceID) + ".AAAA",
		"01ARZ3NDEKTSV4RRFFQ69G5FAV." + strings.Repeat("A", 43)} {
		_, err := f.s.Refresh(f.ctx, bad)
		f.want(err, ErrTokenInvalid, "malformed refresh token")
	}
	noLeak(t, f.errs, "cia", tok1.Refresh, tok2.Refresh, tok2.Access, tok1.Refresh[strings.IndexByte(tok1.Refresh, '.')+1:])
}

func TestRevokeDeviceStopsTokensAtOnce(t *testing.T) {
	f := newFixture(t)
	f.newStaffTokens("eva", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	dev := newDevice(t)
	tok, err := f.signInOnDevice(dev, SignInRequest{Username: "eva", Password: staffPass})
	if err != nil {
		t.Fatal(err)
	}
	// The same device, shared with a colleague.
	f.newStaffTokens("fia", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseReceiver}}, nil)
	fia, err := f.signInOnDevice(dev, SignInRequest{Username: "fia", Password: staffPass})
	if err != nil {
		t.Fatalf("second staff on the device: %v", err)
	}
	c := f.claims(tok) // now cached
	f.want(f.s.RevokeDevice(f.ctx, f.adminB, tok.DeviceID, "Stulen"), app.ErrForbidden, "admin of another clinic revokes")
	f.want(f.s.RevokeDevice(f.ctx, c, tok.DeviceID, "Stulen"), app.ErrForbidden, "a staff member who used it revokes")
	f.want(f.s.RevokeDevice(f.ctx, f.adminA, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "Stulen"), app.ErrNotFound, "unknown device")
	f.want(f.s.RevokeDevice(f.ctx, f.adminA, tok.DeviceID, " "), app.ErrInvalid, "no reason")
	f.want(f.s.RevokeDevice(f.ctx, f.adminA, tok.DeviceID, strings.Repeat("x", MaxRevokeReasonLen+1)), app.ErrInvalid, "long reason")
	f.want(f.s.RevokeDevice(f.ctx, f.adminA, tok.DeviceID, "Stulen\x1b[2J"), app.ErrInvalid, "control characters")
	f.claims(tok) // nothing of that revoked it
	if err := f.s.RevokeDevice(f.ctx, f.adminA, tok.DeviceID, "Datorn är stulen"); err != nil {
		t.Fatalf("the clinic's behörighetsadministratör revokes: %v", err)
	}
	for _, tk := range []*Tokens{tok, fia} {
		_, err := f.s.Authenticate(f.ctx, tk.Access)
		f.want(err, ErrDeviceRevoked, "access token after revoke")
		var re *RevokedError
		if !errors.As(err, &re) || re.Reason != "Datorn är stulen" || !re.At.Equal(f.clock.Now()) {
			t.Errorf("revoked: %v %+v", err, re)
		}
		if Code(err) != "device_revoked" {
			t.Errorf("code %q", Code(err))
		}
		// The refresh token: told why once, and the session is over.
		_, err = f.s.Refresh(f.ctx, tk.Refresh)
		f.want(err, ErrDeviceRevoked, "refresh token after revoke")
		if !errors.As(err, &re) || re.Reason != "Datorn är stulen" {
			t.Errorf("refresh after revoke: %v", err)
		}
		_, err = f.s.Refresh(f.ctx, tk.Refresh)
		f.want(err, ErrTokenInvalid, "refresh token after revoke, again")
	}
	// The device proves itself and is told why; the first reason stays.
	if err := f.s.RevokeDevice(f.ctx, f.root, tok.DeviceID, "Annan orsak"); err != nil {
		t.Errorf("revoke again: %v", err)
	}
	_, err = f.signInOnDevice(dev, SignInRequest{Username: "fia", Password: staffPass})
	var re *RevokedError
	if !errors.As(err, &re) || re.Reason != "Datorn är stulen" {
		t.Errorf("sign-in of the revoked device: %v", err)
	}
	// Without the proof it learns nothing of it.
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "fia", Password: staffPass, DeviceID: tok.DeviceID})
	f.want(err, ErrDeviceProof, "sign-in naming the revoked device without its proof")
	// The region administrator may revoke any device.
	g := f.signInNew(t, "gun", map[app.ID][]app.Role{clinicB: {app.RoleCaseHandler}})
	if err := f.s.RevokeDevice(f.ctx, f.root, g.DeviceID, "Utbytt"); err != nil {
		t.Errorf("region admin revokes: %v", err)
	}
	_, err = f.s.Authenticate(f.ctx, g.Access)
	f.want(err, ErrDeviceRevoked, "after the region admin's revoke")
	noLeak(t, f.errs, "Datorn är stulen", "Stulen")
}

func TestDisableStopsTokensAtOnce(t *testing.T) {
	f := newFixture(t)
	tok := f.signInNew(t, "hans", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	c := f.claims(tok)
	if err := f.s.Disable(f.ctx, f.adminA, c.StaffID, true); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.Authenticate(f.ctx, tok.Access)
	f.want(err, ErrAccountDisabled, "access token of a disabled account")
	_, err = f.s.Refresh(f.ctx, tok.Refresh)
	f.want(err, ErrTokenInvalid, "refresh of a disabled account")
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "hans", Password: staffPass})
	f.want(err, ErrAccountDisabled, "sign-in of a disabled account")
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "hans", Password: "wrong-password"})
	f.want(err, ErrBadCredentials, "wrong password of a disabled account says nothing more")
	if err := f.s.Disable(f.ctx, f.adminA, c.StaffID, false); err != nil {
		t.Fatal(err)
	}
	f.claims(f.signIn("hans", staffPass))
	noLeak(t, f.errs, "hans", staffPass, tok.Access, tok.Refresh)
}

func TestResetPasswordRevokesRefreshTokens(t *testing.T) {
	f := newFixture(t)
	tok := f.signInNew(t, "ida", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	c := f.claims(tok)
	v1, err := f.s.Verifier(f.ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := app.VerifyPassword(v1, staffPass); !ok {
		t.Error("verifier does not match the password")
	}
	if err := f.s.SetPassword(f.ctx, f.adminA, c.StaffID, "short"); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("short password: %v", err)
	}
	if err := f.s.SetPassword(f.ctx, f.adminA, c.StaffID, "brand-new-pass"); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Refresh(f.ctx, tok.Refresh)
	f.want(err, ErrTokenInvalid, "refresh after reset")
	_, err = f.s.Authenticate(f.ctx, tok.Access)
	f.want(err, ErrTokenExpired, "access after reset")
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "ida", Password: staffPass})
	f.want(err, ErrBadCredentials, "old password")
	c2 := f.claims(f.signIn("ida", "brand-new-pass"))
	v2, _ := f.s.Verifier(f.ctx, c2)
	if v2 == v1 {
		t.Error("verifier not replaced")
	}
	var hash string
	a, _ := f.s.loadAccount(c2.StaffID)
	hash = a.Hash
	if v2 == hash {
		t.Error("verifier equals the server's hash")
	}
	// Own change: checks the old password, ends every session.
	tok3 := f.signIn("ida", "brand-new-pass")
	c3 := f.claims(tok3)
	f.want(f.s.ChangePassword(f.ctx, c3, "not-it-at-all", "third-password"), ErrBadCredentials, "change with a wrong old password")
	if err := f.s.ChangePassword(f.ctx, c3, "brand-new-pass", "third-password"); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Refresh(f.ctx, tok3.Refresh)
	f.want(err, ErrTokenInvalid, "refresh after own change")
	f.signIn("ida", "third-password")
	noLeak(t, f.errs, "ida", staffPass, "brand-new-pass", "third-password", "not-it-at-all")
}

func TestForgedAccessTokensRefused(t *testing.T) {
	f := newFixture(t)
	tok := f.signInNew(t, "jan", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	good := tok.Access
	var cases []string
	// Every single-byte change.
	for i := range good {
		b := []byte(good)
		b[i] ^= 0x01
		cases = append(cases, string(b))
	}
	// A changed payload under the old signature: roles in clinic B.
	p, err := parseAccess(f.s.key(), good)
	if err != nil {
		t.Fatal(err)
	}
	p.Roles = map[app.ID][]app.Role{clinicB: {app.RoleCaseReceiver}}
	forged := signAccess([]byte("another key, 32 bytes long......"), p)
	sig := good[strings.LastIndexByte(good, '.'):]
	cases = append(cases,
		forged, // another key
		forged[:strings.LastIndexByte(forged, '.')]+sig, // new payload, old signature
		good[:strings.LastIndexByte(good, '.')],         // no signature
		good+".",
		"v2"+good[2:],
		"", ".", "v1.", "v1..", "v1.e30.", strings.Repeat("v1.", 5000),
	)
	for i, c := range cases {
		_, err := f.s.Authenticate(f.ctx, c)
		if !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("case %d: %v", i, err)
		}
		f.errs = append(f.errs, err)
	}
	f.claims(tok)
	// After ResetSessions nothing issued before is good.
	if err := f.s.ResetSessions(f.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Authenticate(f.ctx, good)
	f.want(err, ErrTokenInvalid, "token after ResetSessions")
	_, err = f.s.Refresh(f.ctx, tok.Refresh)
	f.want(err, ErrTokenInvalid, "refresh after ResetSessions")
	f.claims(f.signIn("jan", staffPass))
	noLeak(t, f.errs, "jan", good, tok.Refresh)
}

// Brute force: app.FreeAttempts wrong passwords, then a lock that doubles.
func TestRateLimitAfterFiveFailures(t *testing.T) {
	f := newFixture(t)
	f.signInNew(t, "kim", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	wrong := SignInRequest{Username: "kim", Password: "guess-guess"}
	for i := 1; i < app.FreeAttempts; i++ {
		_, err := f.s.SignIn(f.ctx, wrong)
		f.want(err, ErrBadCredentials, "wrong password")
	}
	_, err := f.s.SignIn(f.ctx, wrong)
	var tm *TooManyAttemptsError
	if !errors.As(err, &tm) || !tm.Until.Equal(f.clock.Now().Add(app.LockBase)) {
		t.Fatalf("5th failure: %v", err)
	}
	f.want(err, app.ErrForbidden, "lock")
	if Code(err) != "too_many_attempts" {
		t.Errorf("code %q", Code(err))
	}
	// Locked: even the right password waits.
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "kim", Password: staffPass})
	f.want(err, app.ErrForbidden, "right password while locked")
	// The lock is stored: a restart does not lift it.
	f.s.Close()
	s, err := Open(f.path, f.clock, Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "kim", Password: staffPass})
	f.want(err, app.ErrForbidden, "after restart")
	f.clock.Add(app.LockBase)
	_, err = f.s.SignIn(f.ctx, wrong)
	if !errors.As(err, &tm) || !tm.Until.Equal(f.clock.Now().Add(2*app.LockBase)) {
		t.Errorf("6th failure: %v (want a lock of %v)", err, 2*app.LockBase)
	}
	f.clock.Add(2 * app.LockBase)
	f.signIn("kim", staffPass)
	// A success resets the count.
	_, err = f.s.SignIn(f.ctx, wrong)
	f.want(err, ErrBadCredentials, "first failure after success")
	// Unknown usernames: the same answer, no lock to probe.
	for range app.FreeAttempts + 1 {
		_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "nobody", Password: "guess-guess"})
		f.want(err, ErrBadCredentials, "unknown username")
	}
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "kim", Password: strings.Repeat("x", maxSecretLen+1)})
	f.want(err, ErrBadCredentials, "oversized password")
	noLeak(t, f.errs, "kim", "nobody", "guess-guess", staffPass)
}

func TestSourceLimiter(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	l := NewLimiter(clock, 10, 10)
	for i := range 10 {
		if !l.Allow("192.0.2.1") {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	if l.Allow("192.0.2.1") {
		t.Error("11th request allowed")
	}
	if !l.Allow("192.0.2.2") {
		t.Error("another source refused")
	}
	clock.Add(6 * time.Second) // 10 a minute: one token back
	if !l.Allow("192.0.2.1") || l.Allow("192.0.2.1") {
		t.Error("refill is not one token per 6 s")
	}
	// Memory stays bounded: idle keys go when the map is full.
	for i := range limiterMaxKeys + 10 {
		l.Allow(string(rune(i)))
		if i == limiterMaxKeys/2 {
			clock.Add(time.Hour)
		}
	}
	if n := len(l.buckets); n > limiterMaxKeys {
		t.Errorf("%d buckets", n)
	}
}

func TestOpenFile(t *testing.T) {
	f := newFixture(t)
	fi, err := os.Stat(f.path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v", fi.Mode(), err)
	}
	if _, err := Open(f.path, f.clock, Options{}); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second open: %v", err)
	}
	var buf bytes.Buffer
	if n, err := f.s.Backup(f.ctx, &buf); err != nil || n == 0 {
		t.Errorf("backup: %d, %v", n, err)
	}
	// Nothing name-bearing in any key, and no password in the file.
	raw, _ := os.ReadFile(f.path)
	if bytes.Contains(raw, []byte(adminPass)) || bytes.Contains(raw, []byte(rootPass)) {
		t.Error("a password is stored in clear")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	clock := &testClock{t: time.Now()}
	s, path := openTest(t, clock)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], SchemaVersion+1)
		return tx.Bucket(bMeta).Put(kVersion, b[:])
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, clock, Options{}); !errors.Is(err, ErrTooNew) {
		t.Errorf("open a newer database: %v", err)
	}
	s.db, _ = OpenFile(path) // for the cleanup check
}

// OnChange tells the server of every committed change to an account's
// name, roles or disabled state (it mirrors them into the case database),
// and of nothing that failed.
func TestOnChangeAfterCommitOnly(t *testing.T) {
	f := newFixture(t)
	var got []app.Staff
	f.s.opts.OnChange = func(_ context.Context, st app.Staff) { got = append(got, st) }
	c := f.newStaff("kalle", staffPass, map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	if len(got) != 1 || got[0].ID != c.StaffID || !slices.Contains(got[0].Roles[clinicA], app.RoleCaseHandler) {
		t.Fatalf("put staff: %+v", got)
	}
	if err := f.s.Disable(f.ctx, f.adminA, c.StaffID, true); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[1].Disabled {
		t.Fatalf("disable: %+v", got)
	}
	// A refused change (another clinic's administrator) tells nothing.
	if err := f.s.Disable(f.ctx, f.adminB, c.StaffID, false); err == nil {
		t.Fatal("an administrator of another clinic enabled the account")
	}
	if len(got) != 2 {
		t.Errorf("a refused change was reported")
	}
}

// A desktop whose answer to a rotation was lost (the connection cut, or
// killed before it stored the new token) presents the spent token again
// soon after: it gets fresh tokens, not a revoked device; the token it
// never received stops working, and an older one, or the same one after
// the grace, revokes the device as a copy would.
func TestRefreshLostAnswerRetried(t *testing.T) {
	f := newFixture(t)
	tok1 := f.signInNew(t, "cia", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	if _, err := f.s.Refresh(f.ctx, tok1.Refresh); err != nil { // the answer is lost
		t.Fatal(err)
	}
	f.clock.Add(30 * time.Second)
	tok3, err := f.s.Refresh(f.ctx, tok1.Refresh)
	if err != nil {
		t.Fatalf("retry of a lost rotation: %v", err)
	}
	f.claims(tok3)
	// Lost again: the same spent token still counts from the first rotation.
	f.clock.Add(30 * time.Second)
	tok4, err := f.s.Refresh(f.ctx, tok1.Refresh)
	if err != nil {
		t.Fatalf("second retry within the grace: %v", err)
	}
	if _, err := f.s.Refresh(f.ctx, tok4.Refresh); err != nil {
		t.Fatalf("the retried session goes on: %v", err)
	}
	// The grace of the last rotation runs from now; after it the
	// spent token is a copy.
	f.clock.Add(RefreshRetryGrace + time.Second)
	_, err = f.s.Refresh(f.ctx, tok4.Refresh)
	f.want(err, ErrDeviceRevoked, "spent token after the grace")
}
