package sync_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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

// revokeBody is the body of POST /api/staff/devices/{id}/revoke.
type revokeBody struct {
	Reason string `json:"reason"`
}

// An administrator revokes a desktop: it is told why with a stable code
// and a Swedish text, and its unpushed changes are exported to a file it
// can hand over; nothing is lost from its queue either.
func TestDeviceRevoke_DesktopIsToldWhyAndExportsItsChanges(t *testing.T) {
	ce := startKeyCentral(t)
	centrum := ce.ds.Clinics[0].ID
	d, _ := keyDesktop(t, ce, "")
	anna := ce.staff(demo.StaffReceiver)
	d.signIn(anna, centrum)
	d.unlockAtEnd(t, anna)
	d.mustSync()
	device := d.store.SyncDevice()
	noteText := "Anteckning som inte hann skickas"
	note := queueNote(t, d, centrum, noteText)
	ops, err := d.store.PendingOps(d.ctx, 0)
	if err != nil || len(ops) == 0 {
		t.Fatalf("pending ops: %v", err)
	}

	// Not Björn (no administrator), nor Cecilia by naming the device.
	bjorn, err := apiSignIn(t, ce, ce.staff(demo.StaffHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	reason := "Datorn är stulen"
	err = ce.c.Do(d.ctx, http.MethodPost, "/api/staff/devices/"+device+"/revoke", bjorn.AccessToken, &revokeBody{Reason: reason}, nil)
	if client.Code(err) != "forbidden" {
		t.Errorf("a staff member without the role revokes: %v", err)
	}
	// Eva, behörighetsadministratör of vårdcentralen, lists and revokes.
	eva, err := apiSignIn(t, ce, ce.staff(demo.StaffPermAdmin), "")
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := ce.c.Do(d.ctx, http.MethodGet, "/api/staff/devices", eva.AccessToken, nil, &list); err != nil {
		t.Fatalf("list devices: %v", err)
	}
	found := false
	for _, dv := range list {
		found = found || dv["id"] == device
	}
	if !found {
		t.Errorf("Anna's device is not in Eva's list (%d devices)", len(list))
	}
	err = ce.c.Do(d.ctx, http.MethodPost, "/api/staff/devices/"+device+"/revoke", eva.AccessToken, &revokeBody{}, nil)
	if client.Code(err) != "invalid" {
		t.Errorf("revoke without a reason: %v", err)
	}
	if err := ce.c.Do(d.ctx, http.MethodPost, "/api/staff/devices/"+device+"/revoke", eva.AccessToken, &revokeBody{Reason: reason}, nil); err != nil {
		t.Fatalf("revoke: %v", err)
	}

	// Its access token is refused with the reason …
	access, err := d.tokens.Token(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.c.SyncPull(d.ctx, access, "", 1)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Code != "device_revoked" || ae.Status != http.StatusForbidden ||
		ae.Revocation == nil || ae.Revocation.Reason != reason || ae.Revocation.RevokedAt.IsZero() {
		t.Fatalf("a call with the revoked device's token: %v %+v", err, ae)
	}
	// … and so is its refresh token: the desktop's next sync is told why,
	// and its changes are in a file.
	d.tokens.Invalidate(access)
	err = d.sync()
	if msync.Code(err) != "device_revoked" {
		t.Fatalf("sync of a revoked device: code %q (%v)", msync.Code(err), err)
	}
	st := d.eng.Status()
	if st.ExportPath == "" || !strings.Contains(st.LastError, st.ExportPath) || !strings.Contains(st.LastError, reason) ||
		!strings.Contains(st.LastError, "spärrad") {
		t.Fatalf("status: export %q, text %q", st.ExportPath, st.LastError)
	}
	if filepath.Dir(st.ExportPath) != filepath.Dir(d.store.Path()) {
		t.Errorf("export %s is not in the data directory", st.ExportPath)
	}
	fi, err := os.Stat(st.ExportPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", fi, err)
	}
	raw, err := os.ReadFile(st.ExportPath)
	if err != nil {
		t.Fatal(err)
	}
	var exp msync.RevokedExport
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if !strings.Contains(exp.README, "IT-supporten") || exp.DeviceID != device || len(exp.Ops) != len(ops) {
		t.Fatalf("export: %q, device %s, %d ops (want %d)", exp.README, exp.DeviceID, len(exp.Ops), len(ops))
	}
	for i, op := range exp.Ops {
		if op.ID != ops[i].ID || op.Kind != ops[i].Kind || op.CaseID != ops[i].CaseID || !op.MadeAt.Equal(ops[i].MadeAt) || len(op.Payload) == 0 {
			t.Errorf("exported op %d: %+v", i, op)
		}
	}
	if !strings.Contains(string(raw), noteText) {
		t.Error("the note's text is not in the export")
	}
	// Once per run: the next sync keeps the same file.
	_ = d.sync()
	if d.eng.Status().ExportPath != st.ExportPath {
		t.Errorf("exported again: %s", d.eng.Status().ExportPath)
	}
	// Nothing left the queue; the server has not got the note.
	if n, _ := d.store.PendingCount(d.ctx); n != len(ops) || serverHasNote(t, ce, note, noteText) {
		t.Errorf("pending %d, want %d", n, len(ops))
	}
	// After a restart (a new engine, no token), Anna signs in: the server
	// says revoked; she opens the desktop as she would offline, and the
	// next sync says why and exports again.
	d.signOut()
	if err := os.Remove(st.ExportPath); err != nil {
		t.Fatal(err)
	}
	d.signIn(anna, centrum)
	err = d.sync()
	if msync.Code(err) != "device_revoked" || d.eng.Status().ExportPath != st.ExportPath {
		t.Fatalf("after the restart: %v, export %q", err, d.eng.Status().ExportPath)
	}
	if _, err := os.Stat(st.ExportPath); err != nil {
		t.Errorf("not exported again: %v", err)
	}
	// Cecilia, who has never signed in here, gets nothing.
	d.signOut()
	cecilia := ce.staff(demo.StaffChildClinic)
	_, err = d.auth.SignIn(d.ctx, cecilia.Username, demo.Password(cecilia.Username))
	if !errors.Is(err, app.ErrDeviceRevoked) || !d.store.Locked() {
		t.Errorf("a staff member new to the revoked desktop: %v", err)
	}
	// The server's log has the revocation, without the reason's text.
	if logs := ce.logs.String(); !strings.Contains(logs, "device revoked") || strings.Contains(logs, reason) {
		t.Errorf("server log: revocation logged %v, reason in it %v", strings.Contains(logs, "device revoked"), strings.Contains(logs, reason))
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
