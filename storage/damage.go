package storage

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// Damage is reported, not served (issue 15, item 3). bbolt trusts its
// pages: a flipped bit in a page header, a branch or the freelist makes it
// panic (or, reading past the mapped file, fault) inside a transaction.
// guard turns exactly those — a panic whose innermost frame outside the
// runtime is bbolt's — into ErrDamaged naming the file and what to do;
// a panic of our own code is not damage and goes on up. Values are
// checked by their codec instead (sealed values by the AEAD, bound to
// bucket and key: ErrCorruptValue), so one damaged value is refused on
// its own while the rest of the file serves.

// guard runs fn, reporting a panic or memory fault of bbolt as ErrDamaged.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if !panicInBolt() && !faultAt(p) {
				panic(p)
			}
			err = damaged(path, p)
		}
	}()
	return fn()
}

// damaged is the error of a damaged page of the file at path.
func damaged(path string, p any) error {
	what := fmt.Sprint(p)
	if len(what) > 160 {
		what = what[:160] + "…"
	}
	return fmt.Errorf("%s: %w (%s): restore it from the latest backup, and list the damaged pages with `bbolt check %s`",
		path, ErrDamaged, what, path)
}

// panicInBolt reports whether the panic being recovered started in bbolt:
// called from the deferred function, it walks the still unwound stack
// from the panic's origin.
func panicInBolt() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	sawPanic := false
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "runtime.gopanic") || strings.HasPrefix(f.Function, "runtime.panic") ||
			strings.HasPrefix(f.Function, "runtime.sigpanic"):
			sawPanic = true
		case sawPanic && strings.HasPrefix(f.Function, "runtime."):
		case sawPanic:
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}

// walkAll reads every key and value of every bucket of tx, byte by byte,
// so that every page reachable from the root is read once (under guard),
// and checks that each bucket's keys are in order: bbolt keeps them
// sorted, so a key out of order is a damaged page.
func walkAll(tx *bolt.Tx) error {
	var sum uint32
	var walk func(name []byte, b *bolt.Bucket) error
	walk = func(name []byte, b *bolt.Bucket) error {
		var prev []byte
		return b.ForEach(func(k, v []byte) error {
			if prev != nil && bytes.Compare(prev, k) >= 0 {
				return fmt.Errorf("%w: bucket %s: keys out of order (a damaged page)", ErrDamaged, name)
			}
			prev = k
			sum += crc32.ChecksumIEEE(k) + crc32.ChecksumIEEE(v)
			if v == nil {
				if nb := b.Bucket(k); nb != nil {
					return walk(k, nb)
				}
			}
			return nil
		})
	}
	err := tx.ForEach(walk)
	_ = sum
	return err
}

// quarantineScan finds items of case_items whose case has no header: a
// flipped bit in an item's key moved it out of its case, so that case
// would be read without it. The item was the last one of the case before
// it or the first one of the case after it; both cases are returned, to be
// refused (ErrCorruptValue) rather than served incomplete.
func quarantineScan(tx *bolt.Tx) map[app.ID]bool {
	b := tx.Bucket(bCaseItems)
	if b == nil {
		return nil
	}
	var out map[app.ID]bool
	var cur []byte // the case of the last header
	orphanPending := false
	mark := func(id []byte) {
		if out == nil {
			out = map[app.ID]bool{}
		}
		out[app.ID(id)] = true
	}
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if isHeaderKey(k) {
			id := k[:len(k)-1]
			if orphanPending {
				mark(id)
				orphanPending = false
			}
			cur = append(cur[:0], id...)
			continue
		}
		if cur != nil && len(k) > len(cur) && bytes.HasPrefix(k, cur) {
			if kind := k[len(cur)]; kind != itemMessage && kind != itemNote {
				mark(cur) // a damaged kind byte: the item would be skipped
			}
			continue
		}
		// An item outside the case before it.
		if cur != nil {
			mark(cur)
		}
		orphanPending = true
	}
	return out
}

// checkBuckets: a file of the current schema has only buckets of the
// classes in crypt.go, and the ones every database has (some others are
// made when first used): a flipped bit in a bucket's name would
// otherwise read as a missing bucket deep inside a read.
func checkBuckets(tx *bolt.Tx) error {
	known := func(name string) bool { return plainBuckets[name] || sealedBuckets[name] || rawBuckets[name] }
	var bad error
	if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !known(string(name)) && bad == nil {
			bad = fmt.Errorf("unknown bucket %x", name)
		}
		return nil
	}); err != nil {
		return err
	}
	if bad != nil {
		return bad
	}
	for _, name := range [][]byte{bMeta, bClinics, bStaff, bResidents, bCaseItems, bIdxStatus, bIdxAssignee, bIdxResident, bResidentPNR} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %q is missing", name)
		}
	}
	return nil
}

// Quarantined lists the cases found damaged when the file was opened
// (quarantineScan); they read as ErrCorruptValue.
func (s *Store) Quarantined() []app.ID {
	out := make([]app.ID, 0, len(s.quarantine))
	for id := range s.quarantine {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// faultAt reports whether p is a memory fault (SetPanicOnFault) at an
// address that is not near nil: reading the mapped file past its end or a
// damaged length, wherever in the code the bytes were read.
func faultAt(p any) bool {
	f, ok := p.(interface{ Addr() uintptr })
	return ok && f.Addr() >= 1<<16
}
