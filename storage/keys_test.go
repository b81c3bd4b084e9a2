package storage

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
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
	err := s.UpdateThread(ctx, th.Case.ID, func(u *app.Thread) error {
		u.Messages = append(u.Messages, app.Message{ID: app.NewID(testNow), Author: app.AuthorStaff, AuthorID: ds.StaffBy[demo.StaffHandler], At: testNow, Text: "Receptet är förnyat, Karin."})
		u.Notes = append(u.Notes, app.Note{ID: app.NewID(testNow), StaffID: ds.StaffBy[demo.StaffHandler], At: testNow, Text: "Karin Johansson ringde om receptet."})
		u.Case.Status, u.Case.AssigneeID = app.StatusOngoing, ds.StaffBy[demo.StaffHandler]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	moved := unusedNumbers(ds)[0]
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
