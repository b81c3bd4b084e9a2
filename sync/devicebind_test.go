package sync_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/server/staffauth"
	msync "mottagning/sync"
)

// Issue 13, finding 2: a device id is not a credential. The real server
// with the real staff accounts on 127.0.0.1 over TLS; desktops sign in
// through RemoteAuth; the other staff member calls the API directly.

// queueNote adds a note to the first case of clinic on d while the server
// cannot be reached, and returns the case; the note's op stays queued.
func queueNote(t *testing.T, d *desktop, clinic app.ID, text string) app.ID {
	t.Helper()
	sess := app.Session{Staff: d.sess.Staff, ClinicID: clinic}
	page, err := d.cases.ClinicCases(d.ctx, sess, app.CaseQuery{ClinicID: clinic, Limit: 1})
	if err != nil || len(page.Rows) == 0 {
		t.Fatalf("a case to write in: %v", err)
	}
	id := page.Rows[0].Case.ID
	d.f.down.Store(true)
	if err := d.cases.AddNote(d.ctx, sess, id, text); err != nil {
		t.Fatalf("note offline: %v", err)
	}
	d.f.down.Store(false)
	if n, err := d.store.PendingCount(d.ctx); err != nil || n == 0 {
		t.Fatalf("pending %d, %v", n, err)
	}
	return id
}

// serverHasNote reports whether the server's case holds a note with text.
func serverHasNote(t *testing.T, ce *keyCentral, id app.ID, text string) bool {
	t.Helper()
	th, err := ce.store.Thread(ce.ctx, id)
	if err != nil {
		t.Fatalf("server thread: %v", err)
	}
	for _, n := range th.Notes {
		if n.Text == text {
			return true
		}
	}
	return false
}

// apiSignIn signs st in through the API on a device of its own (no
// device id, no device key: a script, or another computer).
func apiSignIn(t *testing.T, ce *keyCentral, st *app.Staff, deviceID string) (*client.Tokens, error) {
	t.Helper()
	return ce.c.StaffSignIn(ce.ctx, client.StaffSignInRequest{Username: st.Username, Password: demo.Password(st.Username),
		DeviceID: deviceID, DeviceName: "annan dator"})
}

// Another staff member who names a desktop's device id at sign-in does not
// get that device: not its escrow (neither the key nor a way to replace
// it), and their sign-out does not touch it.
func TestDeviceID_NamingAnotherDeviceGetsNeitherItNorItsEscrow(t *testing.T) {
	ce := startKeyCentral(t)
	centrum := ce.ds.Clinics[0].ID
	d, _ := keyDesktop(t, ce, "")
	anna := ce.staff(demo.StaffReceiver)
	d.signIn(anna, centrum)
	d.unlockAtEnd(t, anna)
	d.mustSync()
	device := d.store.SyncDevice()
	if ok, err := ce.auth.HasDeviceEscrow(d.ctx, app.ID(device)); !ok || err != nil {
		t.Fatalf("no escrow: %v", err)
	}
	d.signOut()

	// Cecilia (barnmottagningen, which Anna's device serves) reads the
	// device id somewhere and names it.
	cecilia := ce.staff(demo.StaffChildClinic)
	tok, err := apiSignIn(t, ce, cecilia, device)
	if err == nil && tok.DeviceID == device {
		t.Errorf("a sign-in naming another device's id got that device")
	}
	if err == nil {
		var rel msync.EscrowRelease
		if err := ce.c.Do(d.ctx, http.MethodPost, msync.PathEscrowRelease, tok.AccessToken, nil, &rel); err == nil {
			t.Errorf("the escrow was released to a sign-in that only named the device")
		}
		junk := make([]byte, 32)
		_ = ce.c.Do(d.ctx, http.MethodPut, msync.PathEscrow, tok.AccessToken, &msync.EscrowDeposit{ID: "junk", Key: junk, Proof: junk}, nil)
		// And her sign-out is hers alone.
		if err := ce.c.StaffSignOut(d.ctx, tok.AccessToken); err != nil {
			t.Fatalf("sign-out: %v", err)
		}
	}

	// Björn, new on the desktop while nobody is signed in, still gets the
	// data key through the escrow Anna deposited: it was not replaced.
	bjorn := ce.staff(demo.StaffHandler)
	if _, err := d.auth.SignIn(d.ctx, bjorn.Username, demo.Password(bjorn.Username)); err != nil {
		t.Fatalf("Björn through the escrow after the other sign-in: %v (%s)", err, app.SignInMessage(err, time.Now()))
	}
	if d.store.Locked() || d.store.SyncDevice() != device {
		t.Fatalf("locked %v, device %s → %s", d.store.Locked(), device, d.store.SyncDevice())
	}
	d.mustSync()
}

// Naming a device whose access-log key is not registered yet does not let
// another staff member register theirs for it.
func TestDeviceID_NamingAnotherDeviceCannotRegisterItsLogKey(t *testing.T) {
	ce := startKeyCentral(t)
	centrum := ce.ds.Clinics[0].ID
	d := newDesktop(t, ce.central, "") // no device keys registered yet
	anna := ce.staff(demo.StaffReceiver)
	d.signIn(anna, centrum)
	d.unlockAtEnd(t, anna)
	d.mustSync()
	device := app.ID(d.store.SyncDevice())

	cecilia := ce.staff(demo.StaffChildClinic)
	tok, err := apiSignIn(t, ce, cecilia, string(device))
	if err == nil {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		_ = ce.c.Do(d.ctx, http.MethodPut, msync.PathLogKey, tok.AccessToken, &msync.LogKeyRequest{PublicKey: pub}, nil)
	}
	if _, err := ce.auth.DeviceLogKey(d.ctx, device); !errors.Is(err, staffauth.ErrNoLogKey) {
		t.Errorf("the device has a log key now that it did not register: %v", err)
	}
	// The desktop registers its own at its next online sign-in.
	keys := &msync.DeviceKeys{Server: d.c, Store: d.store, Log: quiet}
	access, err := d.tokens.Token(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Register(d.ctx, access); err != nil {
		t.Fatalf("the desktop registers its keys: %v", err)
	}
	if pub, err := ce.auth.DeviceLogKey(d.ctx, device); err != nil || !pub.Equal(d.store.AccessLogPublicKey()) {
		t.Errorf("registered log key: %v", err)
	}
}

// Sign-out ends the session of whoever signs out. It does not revoke the
// device: a colleague's sign-out on a shared desktop, or anyone's who
// named the device, leaves its queued offline changes pushable.
func TestDeviceSignOut_EndsTheSessionNotTheDevice(t *testing.T) {
	ce := startKeyCentral(t)
	centrum := ce.ds.Clinics[0].ID
	d, _ := keyDesktop(t, ce, "")
	anna := ce.staff(demo.StaffReceiver)
	d.signIn(anna, centrum)
	d.unlockAtEnd(t, anna)
	d.mustSync()
	device := d.store.SyncDevice()
	note := queueNote(t, d, centrum, "Anteckning gjord utan anslutning")
	d.signOut()

	// Somebody names the device and signs out.
	if tok, err := apiSignIn(t, ce, ce.staff(demo.StaffChildClinic), device); err == nil {
		if err := ce.c.StaffSignOut(d.ctx, tok.AccessToken); err != nil {
			t.Fatalf("sign-out: %v", err)
		}
	}
	// A colleague signs in on the shared desktop and signs out.
	bjorn := ce.staff(demo.StaffHandler)
	if _, err := d.auth.SignIn(d.ctx, bjorn.Username, demo.Password(bjorn.Username)); err != nil {
		t.Fatalf("Björn signs in: %v", err)
	}
	access, err := d.tokens.Token(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ce.c.StaffSignOut(d.ctx, access); err != nil {
		t.Fatalf("Björn signs out: %v", err)
	}
	if _, err := ce.c.StaffMe(d.ctx, access); client.Code(err) != "unauthenticated" {
		t.Errorf("Björn's access token after his sign-out: %v", err)
	}
	d.signOut()

	// Anna comes back: same device, and her offline note reaches the server.
	got, err := d.auth.SignIn(d.ctx, anna.Username, demo.Password(anna.Username))
	if err != nil {
		t.Fatalf("Anna after the sign-outs: %v (%s)", err, app.SignInMessage(err, time.Now()))
	}
	d.sess = app.Session{Staff: got, ClinicID: centrum}
	if d.store.SyncDevice() != device {
		t.Fatalf("device %s → %s", device, d.store.SyncDevice())
	}
	d.mustSync()
	if n, _ := d.store.PendingCount(d.ctx); n != 0 || !serverHasNote(t, ce, note, "Anteckning gjord utan anslutning") {
		t.Fatalf("pending %d; the offline note did not reach the server", n)
	}
}

// totpNow is RFC 6238's code of a base32 secret now (HMAC-SHA-1, 30 s, 6
// digits), as an authenticator app computes it.
func totpNow(t *testing.T, secret string) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(time.Now().Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

// A staff member whose account asks for a one-time code is told so by the
// desktop, not that the password is wrong (which would make them try
// again until the account locks).
func TestDeviceSignIn_TOTPRequiredIsNotAWrongPassword(t *testing.T) {
	ce := startKeyCentral(t)
	anna := ce.staff(demo.StaffReceiver)
	tok, err := ce.auth.SignIn(ce.ctx, staffauth.SignInRequest{Username: anna.Username, Password: demo.Password(anna.Username)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ce.auth.Authenticate(ce.ctx, tok.Access)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := ce.auth.EnrollTOTP(ce.ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ce.auth.ConfirmTOTP(ce.ctx, c, totpNow(t, secret)); err != nil {
		t.Fatal(err)
	}
	d, _ := keyDesktop(t, ce, "")
	_, err = d.auth.SignIn(d.ctx, anna.Username, demo.Password(anna.Username))
	if !errors.Is(err, msync.ErrTOTPRequired) || errors.Is(err, app.ErrBadCredentials) || msync.Code(err) != "totp_required" ||
		!strings.Contains(msync.Message(err), "engångskod") {
		t.Fatalf("sign-in of an account with TOTP: %v (code %q)", err, msync.Code(err))
	}
	_, err = d.auth.SignIn(d.ctx, anna.Username, "fel-lösenord")
	if !errors.Is(err, app.ErrBadCredentials) {
		t.Errorf("a wrong password: %v", err)
	}
}
