package storage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage/storetest"
)

// TestNoPersonalDataInKeys: no bbolt key holds a personnummer, a name, an
// address or message text (STYLE.md, "Accounts and keys"): keys stay
// readable after values are sealed, so they must say nothing. Values may
// still hold them until the codec encrypts.
func TestNoPersonalDataInKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTestAt(t, dir, Options{})
	ds := seedDemo(t, s)
	// Exercise the writes the seed does not: an update with a reply and a
	// note, a changed personnummer, access-log entries.
	th := ds.Threads[0]
	err := s.UpdateThread(ctx, th.Case.ID, app.Write{}, func(u *app.Thread) error {
		u.Messages = append(u.Messages, app.Message{ID: app.NewID(testNow), Author: app.AuthorStaff, AuthorID: ds.StaffBy[demo.StaffHandler], At: testNow, Text: "Receptet är förnyat, Karin."})
		u.Notes = append(u.Notes, app.Note{ID: app.NewID(testNow), StaffID: ds.StaffBy[demo.StaffHandler], At: testNow, Text: "Karin Johansson ringde om receptet."})
		u.Case.Status, u.Case.AssigneeID = app.StatusOngoing, ds.StaffBy[demo.StaffHandler]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	moved := storetest.UnusedNumbers(ds)[0]
	if err := s.UpdateResident(ctx, ds.Residents[1].ID, func(r *app.Resident) error { r.PNR = moved; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, r := range ds.Residents[:5] {
		e := app.AccessEntry{ID: app.NewID(testNow), At: testNow, StaffID: ds.StaffBy[demo.StaffReceiver], ClinicID: ds.Clinics[0].ID, ResidentID: r.ID, Action: app.AccessLookupResident}
		if err := s.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	after, err := reread(ctx, s, ds)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, s)

	// What must not be in a key. Tokens of fewer than 4 bytes ("Ek",
	// "Rut") are not looked for in resident_pnr keys: those are 16 random
	// bytes of an HMAC, where a 2-byte sequence turns up by chance in about
	// one run in 150. Those keys are instead checked to be exactly the
	// keyed hash of a stored resident's number.
	var secrets []string
	add := func(ss ...string) {
		for _, s := range ss {
			if s = strings.TrimSpace(s); s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	// Both the data as seeded and as updated: a number a resident no
	// longer has must not linger in a key either.
	both := append(slices.Clone(ds.Residents), after.Residents...)
	for _, r := range both {
		if !r.PNR.IsZero() {
			long, short := r.PNR.String(), r.PNR.ShortAt(testNow)
			add(long, strings.NewReplacer("-", "", "+", "").Replace(long), short, strings.NewReplacer("-", "", "+", "").Replace(short))
		}
		add(r.ReserveNumber, r.Register.GivenName, r.Register.FamilyName, r.Register.FullName(), r.Register.Address.Street,
			r.Settings.Mobile, r.Settings.Email)
		for _, g := range r.Guardians {
			add(g.Contact.Mobile, g.Contact.Email)
		}
	}
	for _, th := range after.Threads {
		add(th.Case.Subject)
		for _, m := range th.Messages {
			add(m.Text)
		}
		for _, n := range th.Notes {
			add(n.Text)
		}
	}
	for _, st := range ds.Staff {
		add(st.Name, st.Username)
	}

	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hashes := map[string]bool{}
	keys := 0
	err = db.View(func(tx *bolt.Tx) error {
		pnrKey := tx.Bucket(bMeta).Get(kPNRKey)
		for _, r := range after.Residents {
			if !r.PNR.IsZero() {
				m := hmac.New(sha256.New, pnrKey)
				m.Write([]byte(r.PNR.String()))
				hashes[string(m.Sum(nil)[:16])] = true
			}
		}
		return walkKeys(tx, func(path []string, k []byte) {
			keys++
			hashed := path[0] == string(bResidentPNR)
			if hashed && !hashes[string(k)] {
				t.Errorf("%s key %x is not the keyed hash of a stored resident's number", path[0], k)
			}
			for _, secret := range secrets {
				if hashed && len(secret) < 4 {
					continue
				}
				if bytes.Contains(k, []byte(secret)) {
					t.Errorf("bucket %s: key %q contains personal data or message text (%d bytes)", strings.Join(path, "/"), k, len(secret))
				}
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if keys < 200 || len(secrets) < 100 {
		t.Errorf("walked %d keys for %d strings: the data set is too small to prove anything", keys, len(secrets))
	}
}

// walkKeys calls fn with every key of every bucket, nested buckets
// included, and the path of bucket names leading to it.
func walkKeys(tx *bolt.Tx, fn func(path []string, k []byte)) error {
	var walk func(path []string, b *bolt.Bucket) error
	walk = func(path []string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			fn(path, k)
			if v == nil {
				if nested := b.Bucket(k); nested != nil {
					return walk(append(path[:len(path):len(path)], string(k)), nested)
				}
			}
			return nil
		})
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		fn([]string{"(root)"}, name)
		return walk([]string{string(name)}, b)
	})
}

// reread replaces the data set's residents and threads with what the store
// now holds (after the test's updates).
func reread(ctx context.Context, s *Store, ds *demo.Dataset) (*demo.Dataset, error) {
	out := *ds
	out.Residents = nil
	for _, r := range ds.Residents {
		x, err := s.Resident(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		out.Residents = append(out.Residents, x)
	}
	out.Threads = nil
	for _, th := range ds.Threads {
		x, err := s.Thread(ctx, th.Case.ID)
		if err != nil {
			return nil, fmt.Errorf("thread %s: %w", th.Case.ID, err)
		}
		out.Threads = append(out.Threads, *x)
	}
	return &out, nil
}

// --- the data key's other wraps (keys.go) ---

// TestDeviceEscrowOpensForNewStaff: the escrow wrap opens only with the
// device-wrap key, on the device it was made for, and leaves the new staff
// member with a password wrap of their own; neither the device-wrap key
// nor the data key is in the file.
func TestDeviceEscrowOpensForNewStaff(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSealed(t, dir)
	if _, _, _, err := s.NewDeviceEscrow(ctx); !errors.Is(err, ErrLocked) {
		t.Errorf("escrow of a locked store: %v, want ErrLocked", err)
	}
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	ds := writeSensitive(t, s)
	raw(t, s, func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Delete(kDemo) }) // connectable
	if _, _, _, err := s.NewDeviceEscrow(ctx); !errors.Is(err, ErrNotConnected) {
		t.Errorf("escrow of a standalone store: %v, want ErrNotConnected", err)
	}
	if err := s.Connect(ctx, "device-1"); err != nil {
		t.Fatal(err)
	}
	old, oldKey, _, err := s.NewDeviceEscrow(ctx) // a deposit that never got through
	if err != nil {
		t.Fatal(err)
	}
	id, key, proof, err := s.NewDeviceEscrow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.DeviceEscrow(); got != "" {
		t.Errorf("an escrow not confirmed is offered: %q", got)
	}
	if err := s.ConfirmDeviceEscrow(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got, p, err := s.DeviceEscrow(); got != id || !bytes.Equal(p, proof) || err != nil {
		t.Errorf("DeviceEscrow = %q, %v; want %q and the same proof", got, err, id)
	}
	dataKey := append([]byte(nil), s.dataKey...)
	checkClose(t, s)
	file, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	for what, b := range map[string][]byte{"device-wrap key": key, "data key": dataKey, "base64 device-wrap key": []byte(base64.StdEncoding.EncodeToString(key))} {
		if bytes.Contains(file, b) {
			t.Errorf("the %s is in the file", what)
		}
	}

	s = openSealed(t, dir)
	wrong := append([]byte(nil), key...)
	wrong[0] ^= 1
	if err := s.UnlockWithDeviceEscrow(ctx, staffB, passB, id, wrong); !errors.Is(err, ErrWrongKey) || !s.Locked() {
		t.Errorf("wrong device-wrap key: %v", err)
	}
	if err := s.UnlockWithDeviceEscrow(ctx, staffB, passB, old, oldKey); !errors.Is(err, ErrLocked) || !s.Locked() {
		t.Errorf("a wrap removed at the confirmation: %v, want ErrLocked", err)
	}
	if err := s.UnlockWithDeviceEscrow(ctx, staffB, passB, id, key); err != nil {
		t.Fatalf("unlock with the escrow: %v", err)
	}
	if r, err := s.Resident(ctx, ds.Residents[0].ID); err != nil || r.PNR != ds.Residents[0].PNR {
		t.Errorf("read after the escrow: %v", err)
	}
	checkClose(t, s)

	// B unlocks with the password from now on; the wrap is bound to the
	// device id.
	s = openSealed(t, dir)
	if err := s.Unlock(ctx, staffB, passB); err != nil {
		t.Fatalf("B's password after the escrow: %v", err)
	}
	if err := s.Connect(ctx, "device-2"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.DeviceEscrow(); got != "" {
		t.Errorf("the escrow of device-1 is offered for device-2")
	}
	s.Lock()
	if err := s.UnlockWithDeviceEscrow(ctx, staffB, passB, id, key); !errors.Is(err, ErrLocked) {
		t.Errorf("the wrap on another device id: %v, want ErrLocked", err)
	}
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
}

// TestOSKeyStoreWrap: the wrap under a key-store secret opens with that
// secret only, re-wraps for a changed password, and goes with its key
// holder.
func TestOSKeyStoreWrap(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := openTest(t)
	if _, err := plain.KeyringAccount(ctx, staffA); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("keyring account of a plain database: %v, want ErrInvalid", err)
	}
	s := openSealed(t, dir)
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	ds := writeSensitive(t, s)
	acct, err := s.KeyringAccount(ctx, staffA)
	if err != nil || !strings.HasSuffix(acct, "/"+string(staffA)) {
		t.Fatalf("keyring account %q, %v", acct, err)
	}
	if again, _ := s.KeyringAccount(ctx, staffA); again != acct {
		t.Errorf("keyring account changed: %q, %q", acct, again)
	}
	if other, _ := openSealedAccount(t, ctx); other == acct {
		t.Error("two databases share a keyring account")
	}
	secret := bytes.Repeat([]byte{7}, 32)
	if err := s.WrapForSecret(ctx, staffA, secret); err != nil {
		t.Fatal(err)
	}
	if !s.OpensWithSecret(staffA, secret) || s.OpensWithSecret(staffA, bytes.Repeat([]byte{8}, 32)) || s.OpensWithSecret(staffB, secret) {
		t.Error("OpensWithSecret")
	}
	checkClose(t, s)

	s = openSealed(t, dir)
	const newPass = "Anna-nytt-lösenord-2"
	if err := s.Unlock(ctx, staffA, newPass); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("changed password: %v, want ErrWrongKey", err)
	}
	if err := s.UnlockWithSecret(ctx, staffA, newPass, bytes.Repeat([]byte{8}, 32)); !errors.Is(err, ErrWrongKey) || !s.Locked() {
		t.Errorf("wrong secret: %v", err)
	}
	if err := s.UnlockWithSecret(ctx, staffB, passB, secret); !errors.Is(err, ErrLocked) {
		t.Errorf("staff without a key-store wrap: %v, want ErrLocked", err)
	}
	if err := s.UnlockWithSecret(ctx, staffA, newPass, secret); err != nil {
		t.Fatalf("unlock with the key-store secret: %v", err)
	}
	if _, err := s.Thread(ctx, ds.Threads[0].Case.ID); err != nil {
		t.Errorf("read: %v", err)
	}
	if err := s.Unlock(ctx, staffB, passB); err != nil {
		t.Fatal(err)
	}
	checkClose(t, s)
	s = openSealed(t, dir)
	if err := s.Unlock(ctx, staffA, newPass); err != nil {
		t.Fatalf("the new password after the key-store unlock: %v", err)
	}
	if err := s.RemoveKeyHolder(ctx, staffA); err != nil {
		t.Fatal(err)
	}
	if s.OpensWithSecret(staffA, secret) {
		t.Error("the key-store wrap of a removed key holder is still there")
	}
}

// openSealedAccount is the keyring account of staffA in another database.
func openSealedAccount(t *testing.T, ctx context.Context) (string, error) {
	s := openSealed(t, t.TempDir())
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		return "", err
	}
	return s.KeyringAccount(ctx, staffA)
}

// --- the OS key store, for real: dbus-daemon and gnome-keyring ---

// busConfig is a session bus of the test's own that activates nothing:
// with the system's service files, a call before gnome-keyring has taken
// its name would start a second, unmanaged daemon.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// startSecretService starts a private D-Bus session bus and gnome-keyring
// (the Secret Service, its login keyring unlocked with a password on
// stdin) for this test only, points the process's session bus at it, and
// stops both at the end. It skips when they are not installed.
func startSecretService(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service test runs on Linux (macOS and Windows key stores are not started by a test)")
	}
	for _, bin := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: the OS key store test needs a Secret Service "+
				"(Debian: apt-get install dbus-daemon gnome-keyring; make deps-test installs them)", bin)
		}
	}
	// Unix socket paths are short: not under t.TempDir's long name.
	tmp, err := os.MkdirTemp("", "mtg-ss-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	for _, d := range []string{"home", "run", "data", "config", "cache"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(tmp, "bus.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, filepath.Join(tmp, "run", "bus"))), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "DBUS_") && !strings.HasPrefix(e, "XDG_") && !strings.HasPrefix(e, "HOME=") {
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+filepath.Join(tmp, "home"), "XDG_RUNTIME_DIR="+filepath.Join(tmp, "run"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "data"), "XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"XDG_CACHE_HOME="+filepath.Join(tmp, "cache"))

	bus := exec.CommandContext(ctx, "dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	bus.Env = env
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { _ = bus.Process.Kill(); _ = bus.Wait() })
	addrc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addrc <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address in 10 s")
	}
	if addr == "" {
		t.Fatal("dbus-daemon printed no address")
	}

	gk := exec.CommandContext(ctx, "gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	gk.Env = append(env, "DBUS_SESSION_BUS_ADDRESS="+addr)
	gk.Stdin = strings.NewReader("login-keyring-password")
	var gkOut bytes.Buffer
	gk.Stdout, gk.Stderr = &gkOut, &gkOut
	if err := gk.Start(); err != nil {
		t.Fatalf("start gnome-keyring-daemon: %v", err)
	}
	t.Cleanup(func() {
		_ = gk.Process.Kill()
		_ = gk.Wait()
		if t.Failed() {
			t.Logf("gnome-keyring-daemon said:\n%s", gkOut.String())
		}
	})
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)

	// Ready when a lookup answers "not found" (the name is taken and the
	// login keyring unlocked).
	deadline := time.Now().Add(20 * time.Second)
	for {
		probe := &OSKeyring{Service: "mottagning-test", Timeout: 2 * time.Second}
		_, err := probe.Get(ctx, "probe")
		if errors.Is(err, app.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Secret Service did not come up in 20 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOSKeyring_SecretServiceOpensAfterPasswordReset runs the key-store
// path against a real Secret Service: the first sign-in puts a secret in
// the key store (not the data key); after a password reset the old wrap
// does not open, and the key store's does, silently; without the key store
// the same sign-in is refused as before.
func TestOSKeyring_SecretServiceOpensAfterPasswordReset(t *testing.T) {
	startSecretService(t)
	ctx := context.Background()
	dir := t.TempDir()
	s := openSealed(t, dir)
	ds := seedDemo(t, s)
	a := ds.Staff[0]
	ring := &OSKeyring{Service: "mottagning-test", Timeout: 5 * time.Second}
	var ringErrs []error
	auth := func(withRing bool) app.UnlockingAuth {
		u := app.UnlockingAuth{Auth: app.NewLocalAuth(s, s, app.FixedClock(testNow)), Store: s,
			KeyringError: func(err error) { ringErrs = append(ringErrs, err) }}
		if withRing {
			u.Keyring = ring
		}
		return u
	}
	if _, err := auth(true).SignIn(ctx, a.Username, demo.Password(a.Username)); err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	acct, err := s.KeyringAccount(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := ring.Get(ctx, acct)
	if err != nil || len(secret) != 32 {
		t.Fatalf("no secret in the key store after sign-in: %v (%v)", err, ringErrs)
	}
	if !s.OpensWithSecret(a.ID, secret) {
		t.Fatal("the key store's secret does not open the wrap")
	}
	if bytes.Equal(secret, s.dataKey) {
		t.Fatal("the key store holds the data key itself")
	}
	// A second sign-in keeps the same secret.
	s.Lock()
	if _, err := auth(true).SignIn(ctx, a.Username, demo.Password(a.Username)); err != nil {
		t.Fatal(err)
	}
	if again, _ := ring.Get(ctx, acct); !bytes.Equal(again, secret) {
		t.Error("the secret was replaced at an ordinary sign-in")
	}

	// The password is reset (a behörighetsadministratör; standalone, the
	// verifier is local): the data key is still wrapped under the old one.
	const newPass = "helt-nytt-lösenord-3"
	if err := app.SetPassword(ctx, s, a.ID, newPass, cheapKeys, testNow); err != nil {
		t.Fatal(err)
	}
	s.Lock()
	if _, err := auth(false).SignIn(ctx, a.Username, newPass); !errors.Is(err, app.ErrWrongKey) || !s.Locked() {
		t.Fatalf("without the key store: %v, want ErrWrongKey", err)
	}
	if _, err := auth(true).SignIn(ctx, a.Username, demo.Password(a.Username)); !errors.Is(err, app.ErrBadCredentials) || !s.Locked() {
		t.Fatalf("the old password after the reset: %v (the key store never replaces the password check)", err)
	}
	if _, err := auth(true).SignIn(ctx, a.Username, newPass); err != nil {
		t.Fatalf("with the key store: %v (%v)", err, ringErrs)
	}
	if _, err := s.Thread(ctx, ds.Threads[0].Case.ID); err != nil {
		t.Errorf("read: %v", err)
	}
	// The password path opens it from now on, key store or not.
	s.Lock()
	if err := s.Unlock(ctx, a.ID, newPass); err != nil {
		t.Errorf("the new password after the key-store unlock: %v", err)
	}
	if len(ringErrs) != 0 {
		t.Errorf("key store errors: %v", ringErrs)
	}
	_ = ring.Delete(ctx, acct)
}

// TestOSKeyring_MissingFallsBackToPassword: with no key store reachable,
// sign-in works by password alone, at once, and says nothing to the user.
func TestOSKeyring_MissingFallsBackToPassword(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ctx := context.Background()
	s := openSealed(t, t.TempDir())
	ds := seedDemo(t, s)
	a := ds.Staff[0]
	var ringErrs []error
	auth := app.UnlockingAuth{Auth: app.NewLocalAuth(s, s, app.FixedClock(testNow)), Store: s,
		Keyring: &OSKeyring{Timeout: time.Second}, KeyringError: func(err error) { ringErrs = append(ringErrs, err) }}
	start := time.Now()
	for range 2 {
		if _, err := auth.SignIn(ctx, a.Username, demo.Password(a.Username)); err != nil {
			t.Fatalf("sign-in without a key store: %v", err)
		}
		s.Lock()
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("two sign-ins took %s without a key store", d)
	}
	if len(ringErrs) == 0 || !errors.Is(ringErrs[0], ErrKeyringUnavailable) {
		t.Errorf("key store errors %v, want ErrKeyringUnavailable", ringErrs)
	}
	if s.OpensWithSecret(a.ID, make([]byte, 32)) {
		t.Error("a wrap under a secret nobody keeps")
	}
	if err := s.Unlock(ctx, a.ID, demo.Password(a.Username)); err != nil {
		t.Fatal(err)
	}
}

// TestOSKeyring_SlowKeyStoreGivenUp: a key store that does not answer (a
// locked keyring whose unlock prompt nobody answers) is given up after the
// time-out, and not asked again in this process.
func TestOSKeyring_SlowKeyStoreGivenUp(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
	k := &OSKeyring{Timeout: 100 * time.Millisecond}
	block := make(chan struct{})
	defer close(block)
	start := time.Now()
	err := k.call(context.Background(), func() error { <-block; return nil })
	if !errors.Is(err, ErrKeyringUnavailable) || time.Since(start) > 2*time.Second {
		t.Fatalf("blocked key store: %v after %s", err, time.Since(start))
	}
	called := false
	if err := k.call(context.Background(), func() error { called = true; return nil }); !errors.Is(err, ErrKeyringUnavailable) || called {
		t.Errorf("asked again after a time-out: %v", err)
	}
}
