package storage

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
)

// Item 3 of issue 15: damage is reported, not served. A sealed store (as
// the server keeps it) gets one flipped byte — in a stored value, or
// anywhere in the file — and is then opened and read the way the server
// reads it. Whatever the flip hit, the store never panics and never
// returns a record that differs from what was written: it returns the
// record unchanged, or an error that says the file or the value is
// damaged (ErrUnreadable, ErrCorruptValue, ErrDamaged).

var flipKey = bytes.Repeat([]byte{7}, ServerKeySize)

// sealedServerFile writes the demo region and sensitive cases into a
// sealed server store in dir and returns what it wrote.
func sealedServerFile(t *testing.T, dir string) *demo.Dataset {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UnlockWithServerKey(ctx, flipKey); err != nil {
		t.Fatal(err)
	}
	ds := writeSensitive(t, s)
	checkClose(t, s)
	return ds
}

// damageOK: err says the data is damaged (or the store cannot be used),
// and is not some other failure.
func damageOK(err error) bool {
	return errors.Is(err, ErrUnreadable) || errors.Is(err, ErrCorruptValue) || errors.Is(err, ErrDamaged) ||
		errors.Is(err, ErrWrongKey) || errors.Is(err, app.ErrNotFound)
}

// readBack opens dir and reads every resident and case of ds, failing the
// test on a panic, on a record that differs, or on an error that is not
// a damage report. It returns how many records were refused.
func readBack(t *testing.T, dir string, ds *demo.Dataset, want *demo.Dataset) (refused int, opened bool) {
	t.Helper()
	ctx := context.Background()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		if !damageOK(err) {
			t.Fatalf("open: %v (not a damage report)", err)
		}
		return 0, false
	}
	defer s.Close()
	if _, err := s.UnlockWithServerKey(ctx, flipKey); err != nil {
		if !damageOK(err) {
			t.Fatalf("unlock: %v (not a damage report)", err)
		}
		return 0, false
	}
	for i, r := range ds.Residents {
		got, err := s.Resident(ctx, r.ID)
		if err != nil {
			if !damageOK(err) {
				t.Fatalf("resident: %v (not a damage report)", err)
			}
			refused++
			continue
		}
		if d := cmp.Diff(want.Residents[i], got, cmpOpts); d != "" {
			t.Fatalf("a damaged file served a different resident (-want +got):\n%s", d)
		}
	}
	for i, th := range ds.Threads {
		got, err := s.Thread(ctx, th.Case.ID)
		if err != nil {
			if !damageOK(err) {
				t.Fatalf("case: %v (not a damage report)", err)
			}
			refused++
			continue
		}
		if d := cmp.Diff(want.Threads[i], *got, cmpOpts); d != "" {
			t.Fatalf("a damaged file served a different case (-want +got):\n%s", d)
		}
	}
	// The server's other readers: lists, the change feed, the outbox.
	for _, c := range ds.Clinics {
		if _, err := s.ListCases(ctx, app.CaseQuery{ClinicID: c.ID, Limit: 500}); err != nil && !damageOK(err) {
			t.Fatalf("list cases: %v (not a damage report)", err)
		}
	}
	// Check reports what it finds (an error is its report); it must not panic.
	_ = s.Check()
	return refused, true
}

// TestBitFlipInAValueIsRefused flips one byte of a stored value of each
// sealed bucket (as a bad sector or RAM would): the AEAD bound to bucket
// and key refuses it; every other record still reads.
func TestBitFlipInAValueIsRefused(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	base := t.TempDir()
	ds := sealedServerFile(t, base)
	want, err := func() (*demo.Dataset, error) {
		s, err := Open(context.Background(), base, Options{})
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if _, err := s.UnlockWithServerKey(context.Background(), flipKey); err != nil {
			return nil, err
		}
		return reread(context.Background(), s, ds)
	}()
	if err != nil {
		t.Fatal(err)
	}
	for seed := range seeds {
		t.Run(strconv.Itoa(seed), func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join(base, FileName), filepath.Join(dir, FileName))
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			bucket := []byte{}
			for _, b := range []string{string(bResidents), string(bCaseItems)} {
				if rng.IntN(2) == 0 || len(bucket) == 0 {
					bucket = []byte(b)
				}
			}
			db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucket)
				var keys [][]byte
				b.ForEach(func(k, _ []byte) error { keys = append(keys, append([]byte(nil), k...)); return nil })
				k := keys[rng.IntN(len(keys))]
				v := append([]byte(nil), b.Get(k)...)
				v[rng.IntN(len(v))] ^= byte(1 << rng.IntN(8))
				return b.Put(k, v)
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			refused, opened := readBack(t, dir, ds, want)
			if !opened {
				t.Fatal("one damaged value made the whole store unusable")
			}
			if bytes.Equal(bucket, bResidents) && refused == 0 {
				// A flipped envelope byte of a resident must be refused.
				t.Fatal("a damaged resident value was served")
			}
		})
	}
}

// TestBitFlipAnywhereInTheFile flips one random byte anywhere in the file
// (page headers, branch pages, free pages, values): over many seeds the
// store never panics and never serves a changed record.
func TestBitFlipAnywhereInTheFile(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 30
	}
	if n, err := strconv.Atoi(os.Getenv("BITFLIP_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	base := t.TempDir()
	ds := sealedServerFile(t, base)
	s, err := Open(context.Background(), base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UnlockWithServerKey(context.Background(), flipKey); err != nil {
		t.Fatal(err)
	}
	want, err := reread(context.Background(), s, ds)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(filepath.Join(base, FileName))
	if err != nil {
		t.Fatal(err)
	}
	refusedRuns, unopened := 0, 0
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 2))
		data := append([]byte(nil), orig...)
		data[rng.IntN(len(data))] ^= byte(1 << rng.IntN(8))
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		ok := t.Run(strconv.Itoa(seed), func(t *testing.T) {
			refused, opened := readBack(t, dir, ds, want)
			if refused > 0 {
				refusedRuns++
			}
			if !opened {
				unopened++
			}
		})
		if !ok {
			break
		}
	}
	t.Logf("%d flips: %d refused some records, %d refused the file; none served wrong data or panicked", seeds, refusedRuns, unopened)
}
