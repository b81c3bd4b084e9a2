package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
)

const (
	staffA, passA = app.ID("staff-a"), "Anna-lösenord-1"
	staffB, passB = app.ID("staff-b"), "Bo-lösenord-22"
)

// openSealed opens dir with encryption on (cheap key derivation).
func openSealed(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{Encrypt: true, KeyParams: cheapKeys})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if !s.Locked() {
			checkClose(t, s)
		} else {
			s.Close()
		}
	})
	return s
}

// writeSensitive writes the demo data set, a few more cases with notes and
// an attachment, notifications and access-log entries: everything a real
// day writes. It returns the data set as the store now holds it.
func writeSensitive(t *testing.T, s *Store) *demo.Dataset {
	t.Helper()
	ctx := context.Background()
	ds := seedDemo(t, s)
	handler := ds.StaffBy[demo.StaffHandler]
	for i, r := range ds.Residents[:6] {
		th := newThread(ds.Clinics[0].ID, r.ID, handler, app.StatusOngoing, testNow,
			"Jag har fått utslag efter den nya medicinen, ärende "+string(rune('A'+i)),
			"Sluta med medicinen och ring mottagningen i morgon bitti.")
		th.Outbox = []app.Notification{testNotification(&th, app.ChannelEmail, testNow)}
		if i == 0 {
			a := app.Attachment{ID: app.NewID(testNow), Name: "remiss-hudmottagningen.pdf", MIME: "application/pdf", Size: 42}
			th.Messages[0].Attachments = []app.Attachment{a}
			th.Blobs = map[app.ID][]byte{a.ID: []byte("%PDF-1.4 Remiss: misstänkt läkemedelsutslag hos patienten")}
		}
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		err := s.UpdateThread(ctx, th.Case.ID, app.Write{}, func(u *app.Thread) error {
			u.Notes = append(u.Notes, app.Note{ID: app.NewID(testNow), StaffID: handler, At: testNow, Text: "Ringde upp, patienten mår bättre " + string(rune('A'+i))})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e := app.AccessEntry{ID: app.NewID(testNow), At: testNow, StaffID: handler, ClinicID: ds.Clinics[0].ID, ResidentID: r.ID, CaseID: th.Case.ID, Action: app.AccessOpenCase}
		if err := s.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ds.Threads = nil
	for _, c := range ds.Clinics {
		for after := ""; ; {
			page, err := s.ListCases(ctx, app.CaseQuery{ClinicID: c.ID, Limit: 500, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, cs := range page.Cases {
				th, err := s.Thread(ctx, cs.ID)
				if err != nil {
					t.Fatal(err)
				}
				ds.Threads = append(ds.Threads, *th)
			}
			if after = page.Next; after == "" {
				break
			}
		}
	}
	return ds
}

// secret is one piece of personal data or message text, in the forms it
// could take on disk.
type secret struct {
	what  string
	forms [][]byte
}

// secretsOf lists what the data set holds that must not be readable in a
// sealed file: personnummer (12 and 10 digits, with and without the
// separator), reserve numbers, resident names, addresses, phone numbers
// and e-mail addresses, subjects, message and note texts, attachment
// names and bytes, template texts. Each in UTF-8, ISO 8859-1 where that
// differs, and JSON-escaped where that differs (how a plain store writes
// it). Free strings under 6 bytes are looked for only inside their JSON
// field ("GivenName":"Rut"): alone, in a megabyte of ciphertext, a 5-byte
// string turns up by chance about once in a thousand runs. Staff names and
// usernames are not secrets here: the directory stays readable before
// unlock (crypt.go).
func secretsOf(t *testing.T, ds *demo.Dataset, atLeast int) []secret {
	var out []secret
	seen := map[string]bool{}
	forms := func(f string) [][]byte {
		fs := [][]byte{[]byte(f)}
		if l1, ok := latin1(f); ok && l1 != f {
			fs = append(fs, []byte(l1))
		}
		if j, _ := json.Marshal(f); string(j[1:len(j)-1]) != f {
			fs = append(fs, j[1:len(j)-1])
		}
		return fs
	}
	add := func(what, s string, more ...string) {
		s = strings.TrimSpace(s)
		if len(s) < 6 || seen[s] {
			return
		}
		seen[s] = true
		sec := secret{what: what}
		for _, f := range append([]string{s}, more...) {
			sec.forms = append(sec.forms, forms(f)...)
		}
		out = append(out, sec)
	}
	field := func(name, v string) {
		if v == "" || seen[name+v] {
			return
		}
		seen[name+v] = true
		j, _ := json.Marshal(v)
		out = append(out, secret{what: name, forms: [][]byte{append([]byte(`"`+name+`":`), j...)}})
	}
	for _, r := range ds.Residents {
		if !r.PNR.IsZero() {
			long, short := r.PNR.String(), r.PNR.ShortAt(testNow)
			strip := strings.NewReplacer("-", "", "+", "").Replace
			add("personnummer", long, strip(long), short, strip(short))
		}
		add("reserve number", r.ReserveNumber)
		add("given name", r.Register.GivenName)
		add("family name", r.Register.FamilyName)
		field("GivenName", r.Register.GivenName)
		field("FamilyName", r.Register.FamilyName)
		add("street", r.Register.Address.Street)
		add("mobile", r.Settings.Mobile)
		add("e-mail", r.Settings.Email)
		for _, g := range r.Guardians {
			add("guardian mobile", g.Contact.Mobile)
			add("guardian e-mail", g.Contact.Email)
		}
	}
	for _, th := range ds.Threads {
		add("subject", th.Case.Subject)
		for _, m := range th.Messages {
			add("message", m.Text)
			for _, a := range m.Attachments {
				add("attachment name", a.Name)
			}
		}
		for _, n := range th.Notes {
			add("note", n.Text)
		}
	}
	add("attachment bytes", "Remiss: misstänkt läkemedelsutslag hos patienten")
	for _, tpl := range ds.Templates {
		add("template", tpl.Body)
	}
	if len(out) < atLeast {
		t.Fatalf("only %d secrets: the data set is too small to prove anything", len(out))
	}
	return out
}

// latin1 encodes s in ISO 8859-1, when every rune has a code there.
func latin1(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

// dirBytes is the content of every file in dir (the database, and any
// backup or temporary file beside it).
func dirBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[n.Name()] = data
	}
	return out
}

// found returns the secrets found in any of the files.
func found(files map[string][]byte, secrets []secret) []string {
	var hits []string
	for _, s := range secrets {
		for _, f := range s.forms {
			for name, data := range files {
				if bytes.Contains(data, f) {
					hits = append(hits, s.what+" in "+name)
				}
			}
		}
	}
	return hits
}

// TestEncryptedFileHoldsNoPlaintext: after a day's writes through an
// encrypted store, no personnummer, resident name, address, contact,
// subject, message, note, attachment or template text is in any file of
// the data directory; the same writes through a plain store leave every
// one of them there (so the search finds what it looks for).
func TestEncryptedFileHoldsNoPlaintext(t *testing.T) {
	ctx := context.Background()
	plainDir, sealedDir := t.TempDir(), t.TempDir()

	plain := openTestAt(t, plainDir, Options{})
	pds := writeSensitive(t, plain)
	checkClose(t, plain)
	secrets := secretsOf(t, pds, 100)
	plainFiles := dirBytes(t, plainDir)
	for _, s := range secrets {
		if len(found(map[string][]byte{FileName: plainFiles[FileName]}, []secret{s})) == 0 {
			t.Errorf("plain store: %s %q not in the file: the search would prove nothing", s.what, s.forms[0])
		}
	}

	s := openSealed(t, sealedDir)
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	ds := writeSensitive(t, s)
	checkClose(t, s)
	secrets = secretsOf(t, ds, 100)
	if hits := found(dirBytes(t, sealedDir), secrets); len(hits) > 0 {
		t.Errorf("sealed store: %d secrets readable in the raw files: %v", len(hits), hits)
	}
	t.Logf("%d secrets in %d forms looked for", len(secrets), func() (n int) {
		for _, s := range secrets {
			n += len(s.forms)
		}
		return
	}())
}

// TestEncryptPlainDatabase: a plain database (with a plaintext backup
// an earlier upgrade left beside it) is rewritten sealed at the first
// Unlock: everything reads back the same, no secret is left in any file,
// the backup is gone, and the access log still verifies (its hashes do
// not depend on how values are sealed).
func TestEncryptPlainDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := openTestAt(t, dir, Options{})
	ds := writeSensitive(t, plain)
	checkClose(t, plain)
	copyFile(t, filepath.Join(dir, FileName), filepath.Join(dir, FileName+".v6-20260101T000000Z.bak"))

	s := openSealed(t, dir)
	if s.Encrypted() || s.Locked() {
		t.Fatalf("plain file with Encrypt: encrypted %v, locked %v; want plain and readable until Unlock", s.Encrypted(), s.Locked())
	}
	before, err := reread(ctx, s, ds)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	if !s.Encrypted() || s.Locked() {
		t.Fatalf("after Unlock: encrypted %v, locked %v", s.Encrypted(), s.Locked())
	}
	after, err := reread(ctx, s, ds)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, after, cmpOpts); d != "" {
		t.Errorf("data changed by the encryption (-before +after):\n%s", d)
	}
	for _, th := range ds.Threads {
		for _, m := range th.Messages {
			for _, a := range m.Attachments {
				if data, err := s.AttachmentData(ctx, th.Case.ID, a.ID); err != nil || !bytes.Contains(data, []byte("Remiss")) {
					t.Errorf("attachment %s after encryption: %q %v", a.ID, data, err)
				}
			}
		}
	}
	if rep, err := s.VerifyAccessLog(ctx); err != nil || !rep.OK() || rep.Entries != 6 {
		t.Errorf("access log after encryption: %+v %v", rep, err)
	}
	// Writes go on in the sealed file, queues keep their sequence.
	th := newThread(ds.Clinics[0].ID, ds.Residents[0].ID, "", app.StatusNew, testNow, "Skrivet efter krypteringen, tack.")
	if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
		t.Fatal(err)
	}
	checkClose(t, s)

	files := dirBytes(t, dir)
	if len(files) != 1 {
		t.Errorf("files in the data directory: %v, want only %s (backup and temporary file removed)", slices.Collect(mapKeys(files)), FileName)
	}
	ds.Threads = append(ds.Threads, th)
	if hits := found(files, secretsOf(t, ds, 100)); len(hits) > 0 {
		t.Errorf("%d secrets readable after the encryption: %v", len(hits), hits)
	}

	// Reopened, it is locked until the right password.
	s = openSealed(t, dir)
	if !s.Locked() {
		t.Fatal("reopened sealed database is not locked")
	}
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	if again, err := reread(ctx, s, ds); err != nil || len(again.Threads) != len(ds.Threads) {
		t.Errorf("reread after reopen: %v", err)
	}
}

// TestEncryptUpgradedDatabase: a v6 file is upgraded (with a backup) and
// then sealed; the checked-in records read back, and no file holds them.
func TestEncryptUpgradedDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	copyFile(t, schemaFile(6), filepath.Join(dir, FileName))
	s := openSealed(t, dir)
	if s.Backup == "" {
		t.Fatal("no backup made before the upgrade")
	}
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	g := loadGolden(t)
	wantGolden(t, s, g)
	checkClose(t, s)
	files := dirBytes(t, dir)
	if len(files) != 1 {
		t.Errorf("files in the data directory: %v, want only %s", slices.Collect(mapKeys(files)), FileName)
	}
	ds := &demo.Dataset{Residents: g.Residents, Threads: g.Threads, Templates: g.Templates}
	secrets := secretsOf(t, ds, 40)
	if hits := found(files, secrets); len(hits) > 0 {
		t.Errorf("%d secrets readable after the encryption: %v", len(hits), hits)
	}
}

func mapKeys[M ~map[K]V, K comparable, V any](m M) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestLockedDatabase: before Unlock only the directory reads; a wrong
// password and a staff member without a key on the device are refused
// with their own errors, and neither changes the file.
func TestLockedDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSealed(t, dir)
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	ds := writeSensitive(t, s)
	checkClose(t, s)
	sum := fileSum(t, filepath.Join(dir, FileName))

	s = openSealed(t, dir)
	if _, err := s.AllStaff(ctx); err != nil {
		t.Errorf("staff before unlock: %v (the sign-in screen needs them)", err)
	}
	if _, err := s.Clinics(ctx); err != nil {
		t.Errorf("clinics before unlock: %v", err)
	}
	if _, err := s.Credential(ctx, ds.Staff[0].ID); err != nil {
		t.Errorf("credential before unlock: %v (app.LocalAuth needs it)", err)
	}
	for what, err := range map[string]error{
		"resident":           func() error { _, err := s.Resident(ctx, ds.Residents[0].ID); return err }(),
		"resident by number": func() error { _, err := s.ResidentByPNR(ctx, ds.Residents[0].PNR); return err }(),
		"thread":             func() error { _, err := s.Thread(ctx, ds.Threads[0].Case.ID); return err }(),
		"case list": func() error {
			_, err := s.ListCases(ctx, app.CaseQuery{ClinicID: ds.Clinics[0].ID})
			return err
		}(),
		"put resident": s.PutResident(ctx, ds.Residents[0]),
		"record":       s.Record(ctx, logEntry(1, testNow)),
	} {
		if !errors.Is(err, ErrLocked) {
			t.Errorf("%s before unlock: %v, want ErrLocked", what, err)
		}
	}
	if err := s.Unlock(ctx, staffA, "fel-lösenord"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("wrong password: %v, want ErrWrongKey", err)
	}
	if err := s.Unlock(ctx, staffB, passB); !errors.Is(err, ErrLocked) {
		t.Errorf("staff without a key on the device: %v, want ErrLocked", err)
	}
	if !s.Locked() {
		t.Fatal("unlocked by a refused password")
	}
	s.Close()
	if fileSum(t, filepath.Join(dir, FileName)) != sum {
		t.Error("refused unlocks changed the file")
	}

	s = openSealed(t, dir)
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	if r, err := s.ResidentByPNR(ctx, ds.Residents[0].PNR); err != nil || r.ID != ds.Residents[0].ID {
		t.Errorf("resident by number after unlock: %v", err)
	}
	s.Lock()
	if _, err := s.Resident(ctx, ds.Residents[0].ID); !errors.Is(err, ErrLocked) {
		t.Errorf("resident after Lock: %v, want ErrLocked", err)
	}
}

// TestSecondStaffMemberKey: a second staff member who signs in while the
// database is unlocked gets a key, and can then unlock it alone; a
// changed password is wrapped again; the last key cannot be removed.
func TestSecondStaffMemberKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSealed(t, dir)
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	ds := writeSensitive(t, s)
	if err := s.Unlock(ctx, staffB, passB); err != nil {
		t.Fatalf("second staff member while unlocked: %v", err)
	}
	checkClose(t, s)

	s = openSealed(t, dir)
	if err := s.Unlock(ctx, staffB, passB); err != nil {
		t.Fatalf("second staff member alone: %v", err)
	}
	if r, err := s.Resident(ctx, ds.Residents[0].ID); err != nil || r.PNR != ds.Residents[0].PNR {
		t.Errorf("read with the second key: %v", err)
	}
	holders, err := s.KeyHolders()
	if err != nil || !slices.Equal(holders, []app.ID{staffA, staffB}) {
		t.Errorf("key holders %v %v", holders, err)
	}
	// B's password changed (verified by the caller): wrapped again.
	if err := s.Unlock(ctx, staffB, "Bo-nytt-lösenord"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveKeyHolder(ctx, staffA); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveKeyHolder(ctx, staffB); !errors.Is(err, app.ErrConflict) {
		t.Errorf("removing the last key: %v, want ErrConflict", err)
	}
	checkClose(t, s)

	s = openSealed(t, dir)
	if err := s.Unlock(ctx, staffB, passB); !errors.Is(err, ErrWrongKey) {
		t.Errorf("old password after the change: %v, want ErrWrongKey", err)
	}
	if err := s.Unlock(ctx, staffA, passA); !errors.Is(err, ErrLocked) {
		t.Errorf("removed key holder: %v, want ErrLocked", err)
	}
	if err := s.Unlock(ctx, staffB, "Bo-nytt-lösenord"); err != nil {
		t.Errorf("new password: %v", err)
	}
}

// TestMovedSealedValue: a sealed value copied under another key does not
// open (the bucket and key are the associated data).
func TestMovedSealedValue(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t, t.TempDir())
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	ds := seedDemo(t, s)
	a, b := ds.Residents[0].ID, ds.Residents[1].ID
	raw(t, s, func(tx *bolt.Tx) error {
		bk := tx.Bucket(bResidents)
		return bk.Put([]byte(b), append([]byte(nil), bk.Get([]byte(a))...))
	})
	if _, err := s.Resident(ctx, b); !errors.Is(err, ErrCorruptValue) {
		t.Errorf("resident moved onto another id: %v, want ErrCorruptValue", err)
	}
	// Put it back for the cleanup check.
	if err := s.PutResident(ctx, ds.Residents[1]); err != nil {
		t.Fatal(err)
	}
}

// TestUnlockWhileReading: the sign-in screen may still be reading the
// directory while the first Unlock replaces the file; no read fails and
// none sees a closed database.
func TestUnlockWhileReading(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := openTestAt(t, dir, Options{})
	seedDemo(t, plain)
	checkClose(t, plain)
	s := openSealed(t, dir)
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if _, err := s.AllStaff(ctx); err != nil {
					errs <- err
					return
				}
				if _, err := s.Clinics(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	err := s.Unlock(ctx, staffA, passA)
	close(stop)
	for range 4 {
		if e := <-errs; e != nil {
			t.Errorf("read during Unlock: %v", e)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if !s.Encrypted() {
		t.Error("not encrypted")
	}
}

// TestSignInUnlocks is the desktop's sign-in over an encrypted store, as
// main.go wires it: app.LocalAuth reads the staff and their verifiers
// while the store is locked, and app.UnlockingAuth then opens the data with
// the same password. The first sign-in encrypts the seeded plain file; a
// second staff member signing in while it is unlocked gets a key; after a
// restart, both can sign in and read, and someone who never signed in on
// the device gets ErrLocked.
func TestSignInUnlocks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSealed(t, dir)
	ds := seedDemo(t, s)
	auth := func(s *Store) app.Authenticator {
		return app.UnlockingAuth{Auth: app.NewLocalAuth(s, s, app.FixedClock(testNow)), Store: s}
	}
	a, b, c := ds.Staff[0], ds.Staff[1], ds.Staff[2]
	for _, st := range []app.Staff{a, b} {
		if _, err := auth(s).SignIn(ctx, st.Username, demo.Password(st.Username)); err != nil {
			t.Fatalf("sign in %s: %v", st.Username, err)
		}
	}
	if !s.Encrypted() {
		t.Fatal("the first sign-in did not encrypt the database")
	}
	checkClose(t, s)

	for _, st := range []app.Staff{b, a} {
		s = openSealed(t, dir)
		if _, err := auth(s).SignIn(ctx, st.Username, "fel-lösenord"); !errors.Is(err, app.ErrBadCredentials) || !s.Locked() {
			t.Errorf("wrong password for %s: %v, locked %v", st.Username, err, s.Locked())
		}
		if _, err := auth(s).SignIn(ctx, c.Username, demo.Password(c.Username)); !errors.Is(err, app.ErrLocked) || !s.Locked() {
			t.Errorf("%s, who never signed in here: %v, want ErrLocked", c.Username, err)
		}
		if _, err := auth(s).SignIn(ctx, st.Username, demo.Password(st.Username)); err != nil {
			t.Fatalf("sign in %s after restart: %v", st.Username, err)
		}
		if _, err := s.Thread(ctx, ds.Threads[0].Case.ID); err != nil {
			t.Errorf("read after %s signed in: %v", st.Username, err)
		}
		checkClose(t, s)
	}
}
