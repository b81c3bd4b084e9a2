package storage

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// movingClock is a clock tests set.
type movingClock struct{ now time.Time }

func (c *movingClock) Now() time.Time { return c.now }

// cheapKeys is the argon2id cost of wrapped keys in tests.
var cheapKeys = app.PasswordParams{Time: 1, MemKiB: 1024, Threads: 1}

// logEntry is access entry i of clinic "k1" or "k2", at at.
func logEntry(i int, at time.Time) app.AccessEntry {
	clinic := app.ID("k1")
	if i%3 == 0 {
		clinic = "k2"
	}
	return app.AccessEntry{ID: app.NewID(at), At: at, StaffID: app.ID(fmt.Sprintf("staff%03d", i)), ClinicID: clinic,
		ResidentID: app.ID(fmt.Sprintf("resident%03d", i)), CaseID: app.ID(fmt.Sprintf("case%03d", i)), Action: app.AccessOpenCase}
}

// recordN records n entries a second apart from at, and returns them.
func recordN(t *testing.T, s *Store, n int, at time.Time) []app.AccessEntry {
	t.Helper()
	var out []app.AccessEntry
	for i := range n {
		e := logEntry(i, at.Add(time.Duration(i)*time.Second))
		if err := s.Record(context.Background(), e); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func verify(t *testing.T, s *Store) app.ChainReport {
	t.Helper()
	rep, err := s.VerifyAccessLog(context.Background())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func wantBreak(t *testing.T, rep app.ChainReport, seq uint64, kind app.BreakKind) {
	t.Helper()
	if rep.Break == nil {
		t.Fatalf("verify found nothing (%+v), want %s at %d", rep, kind, seq)
	}
	if rep.Break.Seq != seq || rep.Break.Kind != kind {
		t.Fatalf("verify: %s, want %s at %d", rep.Break, kind, seq)
	}
	t.Logf("found: %s", rep.Break)
}

// raw changes the file under the store with plain bbolt calls.
func raw(t *testing.T, s *Store, fn func(tx *bolt.Tx) error) {
	t.Helper()
	if err := s.db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// chainStores are the two kinds of store every tamper test runs on: plain,
// and sealed (where the AEAD itself catches a changed or moved value).
func chainStores(t *testing.T, every int) map[string]*Store {
	t.Helper()
	plain := openTestAt(t, t.TempDir(), Options{CheckpointEvery: every})
	sealed := openTestAt(t, t.TempDir(), Options{CheckpointEvery: every, Encrypt: true, KeyParams: cheapKeys})
	if err := sealed.Unlock(context.Background(), "staff-a", "lösenord-a"); err != nil {
		t.Fatal(err)
	}
	return map[string]*Store{"plain": plain, "sealed": sealed}
}

func TestAccessLogChainVerifies(t *testing.T) {
	ctx := context.Background()
	for name, s := range chainStores(t, 10) {
		t.Run(name, func(t *testing.T) {
			es := recordN(t, s, 25, testNow)
			rep := verify(t, s)
			if !rep.OK() || rep.Entries != 25 || rep.First != 1 || rep.Last != 25 || rep.Checkpoints != 2 || rep.Anchor != 0 {
				t.Fatalf("report %+v, want 25 whole entries and 2 checkpoints", rep)
			}
			// The same entry again is a retried write, not a second link.
			if err := s.Record(ctx, es[3]); err != nil {
				t.Fatal(err)
			}
			other := es[3]
			other.Action = app.AccessPrint
			if err := s.Record(ctx, other); !errors.Is(err, app.ErrConflict) {
				t.Errorf("another entry under a recorded id: %v, want ErrConflict", err)
			}
			if rep := verify(t, s); rep.Entries != 25 {
				t.Errorf("%d entries after the retries, want 25", rep.Entries)
			}
			// The port still lists a clinic's entries, oldest first, in the period.
			got, err := s.Entries(ctx, "k1", testNow.Add(2*time.Second), testNow.Add(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			var want []app.AccessEntry
			for _, e := range es[2:10] {
				if e.ClinicID == "k1" {
					want = append(want, e)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("Entries: %d, want %d", len(got), len(want))
			}
			for i := range got {
				if !app.SameEntry(&got[i], &want[i]) {
					t.Errorf("Entries[%d] = %+v, want %+v", i, got[i], want[i])
				}
			}
			// On demand: the head is signed; asking again gives the same.
			cp, err := s.CheckpointAccessLog(ctx)
			if err != nil || cp.Seq != 25 || !cp.Valid(s.AccessLogPublicKey()) {
				t.Fatalf("checkpoint on demand: %+v %v", cp, err)
			}
			if again, err := s.CheckpointAccessLog(ctx); err != nil || !bytes.Equal(again.Sig, cp.Sig) {
				t.Errorf("second checkpoint of the same head: %v", err)
			}
			if rep := verify(t, s); !rep.OK() || rep.Checkpoints != 3 {
				t.Errorf("after the checkpoint: %+v", rep)
			}
		})
	}
}

// TestAccessLogDetectsEditedEntry: one byte of a stored entry changed.
func TestAccessLogDetectsEditedEntry(t *testing.T) {
	for name, s := range chainStores(t, 10) {
		t.Run(name, func(t *testing.T) {
			recordN(t, s, 25, testNow)
			raw(t, s, func(tx *bolt.Tx) error {
				bk := tx.Bucket(bAccessChain)
				v := append([]byte(nil), bk.Get(seqKey(7))...)
				// Plain: make staff006 into staff007, a plausible edit
				// that keeps the JSON valid. Sealed: any byte.
				i := bytes.Index(v, []byte("staff006"))
				if name == "sealed" {
					i = len(v) / 2
				} else if i < 0 {
					return errors.New("staff id not in the plain value")
				} else {
					i += len("staff00")
				}
				v[i] ^= 1
				return bk.Put(seqKey(7), v)
			})
			wantBreak(t, verify(t, s), 7, app.BreakEdited)
		})
	}
}

// TestAccessLogDetectsEditedLastEntry: the newest entry, which no later
// link covers, is caught by the head; one at a checkpoint by the checkpoint.
func TestAccessLogDetectsEditedLastEntry(t *testing.T) {
	for _, seq := range []uint64{25, 20} {
		t.Run(fmt.Sprint(seq), func(t *testing.T) {
			s := openTestAt(t, t.TempDir(), Options{CheckpointEvery: 10})
			recordN(t, s, 25, testNow)
			raw(t, s, func(tx *bolt.Tx) error {
				bk := tx.Bucket(bAccessChain)
				v := bytes.Replace(bk.Get(seqKey(seq)), []byte(app.AccessOpenCase), []byte(app.AccessPrint), 1)
				return bk.Put(seqKey(seq), v)
			})
			wantBreak(t, verify(t, s), seq, app.BreakEdited)
		})
	}
}

// TestAccessLogDetectsRemovedEntry: an entry in the middle, and the newest.
func TestAccessLogDetectsRemovedEntry(t *testing.T) {
	for name, s := range chainStores(t, 10) {
		t.Run(name, func(t *testing.T) {
			recordN(t, s, 25, testNow)
			raw(t, s, func(tx *bolt.Tx) error { return tx.Bucket(bAccessChain).Delete(seqKey(12)) })
			wantBreak(t, verify(t, s), 12, app.BreakRemoved)
		})
	}
	s := openTestAt(t, t.TempDir(), Options{CheckpointEvery: 10})
	recordN(t, s, 25, testNow)
	raw(t, s, func(tx *bolt.Tx) error { return tx.Bucket(bAccessChain).Delete(seqKey(25)) })
	wantBreak(t, verify(t, s), 25, app.BreakRemoved)
	// The first entries, without a checkpoint to start from.
	s = openTestAt(t, t.TempDir(), Options{CheckpointEvery: 10})
	recordN(t, s, 25, testNow)
	raw(t, s, func(tx *bolt.Tx) error {
		for i := uint64(1); i <= 4; i++ {
			if err := tx.Bucket(bAccessChain).Delete(seqKey(i)); err != nil {
				return err
			}
		}
		return nil
	})
	wantBreak(t, verify(t, s), 1, app.BreakRemoved)
}

// TestAccessLogDetectsReorderedPair: the values of two neighbours swapped.
func TestAccessLogDetectsReorderedPair(t *testing.T) {
	for name, s := range chainStores(t, 10) {
		t.Run(name, func(t *testing.T) {
			recordN(t, s, 25, testNow)
			raw(t, s, func(tx *bolt.Tx) error {
				bk := tx.Bucket(bAccessChain)
				a := append([]byte(nil), bk.Get(seqKey(14))...)
				b := append([]byte(nil), bk.Get(seqKey(15))...)
				if err := bk.Put(seqKey(14), b); err != nil {
					return err
				}
				return bk.Put(seqKey(15), a)
			})
			wantBreak(t, verify(t, s), 14, app.BreakReordered)
		})
	}
}

// TestAccessLogDetectsForgedCheckpoint: a checkpoint signed with another
// key, and one whose hash was changed under the original signature.
func TestAccessLogDetectsForgedCheckpoint(t *testing.T) {
	_, forger, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"other key", "changed hash"} {
		t.Run(how, func(t *testing.T) {
			s := openTestAt(t, t.TempDir(), Options{CheckpointEvery: 10})
			recordN(t, s, 25, testNow)
			raw(t, s, func(tx *bolt.Tx) error {
				k := seqKey(20)
				var cp app.Checkpoint
				if err := decode(s.c(bCheckpoints), bCheckpoints, k, tx.Bucket(bCheckpoints).Get(k), &cp); err != nil {
					return err
				}
				if how == "other key" {
					cp.At = cp.At.Add(time.Hour)
					cp.Sign(forger)
				} else {
					cp.Hash[0] ^= 1
				}
				data, err := encode(s.c(bCheckpoints), bCheckpoints, k, &cp)
				if err != nil {
					return err
				}
				return tx.Bucket(bCheckpoints).Put(k, data)
			})
			wantBreak(t, verify(t, s), 20, app.BreakCheckpoint)
		})
	}
}

// TestAccessLogRetention: entries older than the retention time go, a
// checkpoint at a time, and the rest still verifies from the checkpoint;
// entries removed too early (by hand) are reported.
func TestAccessLogRetention(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, t.TempDir(), Options{LogRetentionYears: app.MinLogRetentionYears - 1}); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("retention below the law's minimum: %v, want ErrInvalid", err)
	}
	clock := &movingClock{now: testNow.AddDate(-7, 0, 0)}
	s := openTestAt(t, t.TempDir(), Options{CheckpointEvery: 10, Clock: clock})
	old := recordN(t, s, 35, clock.now) // 3 checkpoints, 7 years ago
	clock.now = testNow.AddDate(-1, 0, 0)
	recordN(t, s, 12, clock.now) // a year ago: checkpoint at 40
	clock.now = testNow

	n, err := s.PruneAccessLog(ctx, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if n != 30 {
		t.Errorf("pruned %d entries, want 30 (up to the checkpoint at 30; 31–35 wait for the next one)", n)
	}
	rep := verify(t, s)
	if !rep.OK() || rep.Anchor != 30 || rep.First != 31 || rep.Last != 47 || rep.Entries != 17 {
		t.Fatalf("after pruning: %+v", rep)
	}
	got, err := s.Entries(ctx, "k1", testNow.AddDate(-10, 0, 0), testNow.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		for _, o := range old[:30] {
			if e.ID == o.ID {
				t.Fatalf("pruned entry %s still listed", e.ID)
			}
		}
	}
	if n, err := s.PruneAccessLog(ctx, testNow); err != nil || n != 0 {
		t.Errorf("second prune: %d %v, want nothing", n, err)
	}
	// Four years on, the cutoff is the time of entry 36: 31–35 are older
	// but no checkpoint among them lets them go alone, and 36 stays.
	if n, err := s.PruneAccessLog(ctx, testNow.AddDate(4, 0, 0)); err != nil || n != 0 {
		t.Errorf("prune at the edge of the retention time: %d %v, want nothing", n, err)
	}
	s.Close()

	// Removed by hand up to a checkpoint of a year ago: the checkpoint is
	// genuine, but the law's five years are not over.
	s = openTestAt(t, t.TempDir(), Options{CheckpointEvery: 10, Clock: clock})
	clock.now = testNow.AddDate(-1, 0, 0)
	recordN(t, s, 25, clock.now)
	clock.now = testNow
	raw(t, s, func(tx *bolt.Tx) error {
		for i := uint64(1); i <= 10; i++ {
			if err := tx.Bucket(bAccessChain).Delete(seqKey(i)); err != nil {
				return err
			}
		}
		return nil
	})
	wantBreak(t, verify(t, s), 1, app.BreakRemoved)
}

// TestAccessLogLocked: a locked store neither reads nor writes the log.
func TestAccessLogLocked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTestAt(t, dir, Options{Encrypt: true, KeyParams: cheapKeys})
	if err := s.Unlock(ctx, "staff-a", "lösenord-a"); err != nil {
		t.Fatal(err)
	}
	recordN(t, s, 3, testNow)
	checkClose(t, s)
	s = openTestAt(t, dir, Options{Encrypt: true, KeyParams: cheapKeys})
	if err := s.Record(ctx, logEntry(9, testNow)); !errors.Is(err, ErrLocked) {
		t.Errorf("record while locked: %v, want ErrLocked", err)
	}
	if _, err := s.VerifyAccessLog(ctx); !errors.Is(err, ErrLocked) {
		t.Errorf("verify while locked: %v, want ErrLocked", err)
	}
	if err := s.Unlock(ctx, "staff-a", "lösenord-a"); err != nil {
		t.Fatal(err)
	}
	if rep := verify(t, s); !rep.OK() || rep.Entries != 3 {
		t.Errorf("after unlock: %+v", rep)
	}
}
