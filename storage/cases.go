package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// appendFill is the fill percent for buckets whose keys arrive in
// increasing order (time-ordered ids): bbolt's default of 50 % would leave
// every page half empty when keys only ever go at the end.
const appendFill = 0.9

const (
	itemHeader  = 0
	itemMessage = 'm'
	itemNote    = 'n'
	// importBatch is how many threads ImportThreads writes per transaction.
	importBatch = 1000
)

func isNotFound(err error) bool { return errors.Is(err, app.ErrNotFound) }

// join builds an index key: parts separated by a 0 byte.
func join(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	if len(parts) == 1 {
		b = append(b, 0) // a one-part key is used as a prefix
	}
	return b
}

func tsBytes(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixMilli()))
	return string(b[:])
}

func statusKey(clinic string, st app.Status, at time.Time, id string) []byte {
	return append(join(clinic, string(st), tsBytes(at)), id...)
}

func assigneeKey(clinic, assignee string, at time.Time, id string) []byte {
	return append(join(clinic, assignee, tsBytes(at)), id...)
}

// headerKey is the key of a case header in case_items: the case id and a 0
// byte, which sorts before the case's messages and notes, so a new case's
// header and first message land on the same page (schema v3).
func headerKey(caseID app.ID) []byte {
	k := make([]byte, 0, len(caseID)+1)
	k = append(k, caseID...)
	return append(k, itemHeader)
}

// isHeaderKey tells a header key from an item key: item ids are base32 and
// never end in a 0 byte.
func isHeaderKey(k []byte) bool { return len(k) > 1 && k[len(k)-1] == itemHeader }

// getCase reads the header of case id.
func (s *Store) getCase(tx *bolt.Tx, id app.ID, c *app.Case) error {
	if s.quarantine[id] {
		return fmt.Errorf("case %s: %w: a damaged key was found beside it when the file was opened; restore the file from a backup", id, ErrCorruptValue)
	}
	k := headerKey(id)
	data := tx.Bucket(bCaseItems).Get(k)
	if data == nil {
		return fmt.Errorf("case %s: %w", id, app.ErrNotFound)
	}
	return decode(s.c(bCaseItems), bCaseItems, k, data, c)
}

func itemKey(caseID app.ID, kind byte, id app.ID) []byte {
	k := make([]byte, 0, len(caseID)+1+len(id))
	k = append(k, caseID...)
	k = append(k, kind)
	return append(k, id...)
}

// caseIndexKeys are the index entries a case header owns.
func caseIndexKeys(c *app.Case) (status, assignee, resident []byte) {
	id := string(c.ID)
	status = statusKey(string(c.ClinicID), c.Status, c.LastActivity, id)
	if c.AssigneeID != "" {
		assignee = assigneeKey(string(c.ClinicID), string(c.AssigneeID), c.LastActivity, id)
	}
	resident = append([]byte(c.ResidentID), c.ID...)
	return
}

type caseBuckets struct {
	tx                                *bolt.Tx
	items, status, assignee, resident *bolt.Bucket
	// noIndex: the indexes are built later (a first sync, FinishPull);
	// idx, when not nil, collects their keys meanwhile.
	noIndex bool
	idx     *deferredIdx
}

func bucketsOf(tx *bolt.Tx) caseBuckets {
	b := caseBuckets{
		tx: tx, items: tx.Bucket(bCaseItems),
		status: tx.Bucket(bIdxStatus), assignee: tx.Bucket(bIdxAssignee), resident: tx.Bucket(bIdxResident),
	}
	b.items.FillPercent, b.resident.FillPercent = appendFill, appendFill
	return b
}

func (b caseBuckets) putIndexes(c *app.Case) error {
	if b.noIndex {
		if b.idx != nil {
			b.idx.add(c)
		}
		return nil
	}
	st, as, r := caseIndexKeys(c)
	for _, kv := range []struct {
		b *bolt.Bucket
		k []byte
	}{{b.status, st}, {b.assignee, as}, {b.resident, r}} {
		if kv.k == nil {
			continue
		}
		if err := kv.b.Put(kv.k, nil); err != nil {
			return err
		}
	}
	return nil
}

func (b caseBuckets) deleteIndexes(c *app.Case) error {
	if b.noIndex {
		return nil
	}
	st, as, _ := caseIndexKeys(c)
	for _, kv := range []struct {
		b *bolt.Bucket
		k []byte
	}{{b.status, st}, {b.assignee, as}} {
		if kv.k == nil {
			continue
		}
		if err := kv.b.Delete(kv.k); err != nil {
			return err
		}
	}
	return nil
}

// ValidCase refuses a case header without id, clinic or resident, or
// with an unknown status (here and in pgstore).
func ValidCase(c *app.Case) error {
	switch {
	case c.ID == "" || c.ClinicID == "" || c.ResidentID == "":
		return fmt.Errorf("case %s: missing id, clinic or resident: %w", c.ID, app.ErrInvalid)
	case !c.Status.Valid():
		return fmt.Errorf("case %s: unknown status: %w", c.ID, app.ErrInvalid)
	}
	return nil
}

func (s *Store) createThread(tx *bolt.Tx, b caseBuckets, t *app.Thread) error {
	if err := ValidCase(&t.Case); err != nil {
		return err
	}
	if b.items.Get(headerKey(t.Case.ID)) != nil {
		return fmt.Errorf("create case %s: exists: %w", t.Case.ID, app.ErrConflict)
	}
	if s.server() {
		// The server's first version; the fields' versions stay 0 ("as
		// created"), which a desktop's ops on its own new case have as base.
		t.Case.Version, t.Case.StatusVersion, t.Case.AssigneeVersion = 1, 0, 0
		t.Case.StatusBy, t.Case.AssigneeBy = "", ""
		if err := s.feed(b.tx, feedCase, t.Case.ClinicID, t.Case.ID); err != nil {
			return err
		}
	}
	if err := s.putBucket(b.items, bCaseItems, headerKey(t.Case.ID), &t.Case); err != nil {
		return err
	}
	if err := b.putIndexes(&t.Case); err != nil {
		return err
	}
	return s.putItems(b, t, nil)
}

func (s *Store) putBucket(bk *bolt.Bucket, name, key []byte, v any) error {
	data, err := encode(s.c(name), name, key, v)
	if err != nil {
		return err
	}
	return bk.Put(key, data)
}

// putItems writes the messages and notes of t, except those equal to
// their stored version in was (nil: write all).
func (s *Store) putItems(b caseBuckets, t *app.Thread, was *app.Thread) error {
	if err := s.putBlobs(b.tx, t); err != nil {
		return err
	}
	for i := range t.Messages {
		m := &t.Messages[i]
		m.CaseID = t.Case.ID
		if was != nil && i < len(was.Messages) && reflect.DeepEqual(*m, was.Messages[i]) {
			continue
		}
		if err := s.putBucket(b.items, bCaseItems, itemKey(t.Case.ID, itemMessage, m.ID), m); err != nil {
			return err
		}
	}
	for i := range t.Notes {
		n := &t.Notes[i]
		n.CaseID = t.Case.ID
		if was != nil && i < len(was.Notes) && reflect.DeepEqual(*n, was.Notes[i]) {
			continue
		}
		if err := s.putBucket(b.items, bCaseItems, itemKey(t.Case.ID, itemNote, n.ID), n); err != nil {
			return err
		}
	}
	// The notifications of new messages, in the same transaction (v5) —
	// except on a connected desktop, where the server notifies.
	if s.replica() {
		return nil
	}
	return s.putOutbox(b.tx, t)
}

// CreateThread implements app.CaseStore. It records w with the case, in
// the same transaction: a connected desktop queues w's ops for the
// server, the server marks the op w replays as applied.
func (s *Store) CreateThread(ctx context.Context, t *app.Thread, w app.Write) error {
	return s.updateC(ctx, "create case "+string(t.Case.ID), func(tx *bolt.Tx) error {
		if err := s.caseWritten(tx, t.Case.ID); err != nil {
			return err
		}
		if err := s.createThread(tx, bucketsOf(tx), t); err != nil {
			return err
		}
		if err := s.markOp(tx, &t.Case, w); err != nil {
			return err
		}
		return s.queue(tx, w.Queue...)
	})
}

// ImportThreads implements app.CaseStore: importBatch threads per
// transaction, so 100,000 cases cost 100 fsyncs, not 100,000.
func (s *Store) ImportThreads(ctx context.Context, ts []app.Thread) error {
	for start := 0; start < len(ts); start += importBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+importBatch, len(ts))
		err := s.updateC(ctx, "import cases", func(tx *bolt.Tx) error {
			b := bucketsOf(tx)
			for i := start; i < end; i++ {
				if err := s.createThread(tx, b, &ts[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Case implements app.CaseStore.
func (s *Store) Case(ctx context.Context, id app.ID) (*app.Case, error) {
	var c app.Case
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.getCase(tx, id, &c) }); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *Store) readThread(tx *bolt.Tx, id app.ID) (*app.Thread, error) {
	var t app.Thread
	if err := s.getCase(tx, id, &t.Case); err != nil {
		return nil, err
	}
	c := tx.Bucket(bCaseItems).Cursor()
	prefix := []byte(id)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) > len(prefix); k, v = c.Next() {
		switch k[len(prefix)] {
		case itemMessage:
			var m app.Message
			if err := decode(s.c(bCaseItems), bCaseItems, k, v, &m); err != nil {
				return nil, err
			}
			t.Messages = append(t.Messages, m)
		case itemNote:
			var n app.Note
			if err := decode(s.c(bCaseItems), bCaseItems, k, v, &n); err != nil {
				return nil, err
			}
			t.Notes = append(t.Notes, n)
		case itemHeader:
			if len(k) != len(prefix)+1 {
				return nil, fmt.Errorf("case %s: an item of unknown kind: %w", id, ErrCorruptValue)
			}
		default:
			// Only messages and notes live under a case: anything else is a
			// damaged key, and the case would be served without an item.
			return nil, fmt.Errorf("case %s: an item of unknown kind: %w", id, ErrCorruptValue)
		}
	}
	return &t, nil
}

// Thread implements app.CaseStore.
func (s *Store) Thread(ctx context.Context, id app.ID) (*app.Thread, error) {
	var t *app.Thread
	err := s.viewC(ctx, func(tx *bolt.Tx) (err error) { t, err = s.readThread(tx, id); return err })
	return t, err
}

// UpdateThread implements app.CaseStore. Messages and notes are append-only:
// fn may add them and set read marks, not remove them. w is recorded with
// the change, as in CreateThread; the change writes no op of its own.
func (s *Store) UpdateThread(ctx context.Context, id app.ID, w app.Write, fn func(t *app.Thread) error) error {
	return s.updateC(ctx, "update case "+string(id), func(tx *bolt.Tx) error {
		t, err := s.readThread(tx, id)
		if err != nil {
			return clean(err)
		}
		old := t.Case
		nm, nn := len(t.Messages), len(t.Notes)
		// The items as read: those fn leaves as they are are not written
		// again (a reply on a long case writes one message, not all).
		was := &app.Thread{Messages: slices.Clone(t.Messages), Notes: slices.Clone(t.Notes)}
		// Nothing is written before these checks: their refusals are
		// clean (a Batch goes on).
		if err := fn(t); err != nil {
			return clean(err)
		}
		if len(t.Messages) < nm || len(t.Notes) < nn {
			return clean(fmt.Errorf("update case %s: messages and notes cannot be removed: %w", id, app.ErrInvalid))
		}
		t.Case.ID, t.Case.ClinicID, t.Case.ResidentID = old.ID, old.ClinicID, old.ResidentID
		if err := ValidCase(&t.Case); err != nil {
			return clean(err)
		}
		if err := s.caseWritten(tx, id); err != nil {
			return err
		}
		if s.server() {
			s.bumpVersion(&old, &t.Case, w)
			if err := s.feed(tx, feedCase, old.ClinicID, id); err != nil {
				return err
			}
			if err := s.markOp(tx, &t.Case, w); err != nil {
				return err
			}
		} else {
			// Versions are the server's: a desktop keeps the last pulled.
			t.Case.Version, t.Case.StatusVersion, t.Case.AssigneeVersion = old.Version, old.StatusVersion, old.AssigneeVersion
			t.Case.StatusBy, t.Case.AssigneeBy = old.StatusBy, old.AssigneeBy
		}
		b := bucketsOf(tx)
		if err := b.deleteIndexes(&old); err != nil {
			return err
		}
		if err := b.putIndexes(&t.Case); err != nil {
			return err
		}
		if err := s.putBucket(b.items, bCaseItems, headerKey(id), &t.Case); err != nil {
			return err
		}
		if err := s.putItems(b, t, was); err != nil {
			return err
		}
		return s.queue(tx, w.Queue...)
	})
}

// ListCases implements app.CaseStore. It walks the narrowest index for the
// query backwards (newest activity first) and decodes only the cases on
// the page; an assignee query filtered by status checks the status of the
// assignee's cases, which are few.
func (s *Store) ListCases(ctx context.Context, q app.CaseQuery) (app.CasePage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	// One reverse walk per index range: the assignee's range, the
	// status's range, or, unfiltered, the clinic's four status ranges
	// merged newest first (schema v3 has no separate activity index: one
	// tree less to write per case).
	var tag string
	var prefixes [][]byte
	scope := join(string(q.ClinicID), "")
	switch {
	case q.AssigneeID != "":
		tag, prefixes = string(bIdxAssignee), [][]byte{join(string(q.ClinicID), string(q.AssigneeID), "")}
		scope = prefixes[0]
	case q.Status != "":
		tag, prefixes = string(bIdxStatus), [][]byte{join(string(q.ClinicID), string(q.Status), "")}
		scope = prefixes[0]
	default:
		tag = "all"
		for _, st := range app.AllStatuses {
			prefixes = append(prefixes, join(string(q.ClinicID), string(st), ""))
		}
	}
	bucket := bIdxStatus
	if q.AssigneeID != "" {
		bucket = bIdxAssignee
	}
	// The cursor is the list's kind, then its scope (clinic and filter)
	// and the last listed position (<ts> <caseID>), so a cursor is taken
	// only by the list that made it.
	var after []byte
	if q.After != "" {
		t, enc, ok := strings.Cut(q.After, ":")
		raw, err := base64.RawURLEncoding.DecodeString(enc)
		if !ok || t != tag || err != nil || !bytes.HasPrefix(raw, scope) || len(raw) < len(scope)+9 {
			return app.CasePage{}, fmt.Errorf("list cases: bad cursor: %w", app.ErrInvalid)
		}
		after = raw[len(scope):]
	}
	var page app.CasePage
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		walks := make([]rangeWalk, len(prefixes))
		for i, p := range prefixes {
			walks[i] = rangeWalk{c: tx.Bucket(bucket).Cursor(), prefix: p}
			walks[i].start(after)
		}
		var last []byte
		for {
			// The newest position among the ranges.
			best := -1
			for i := range walks {
				if walks[i].pos != nil && (best < 0 || bytes.Compare(walks[i].pos, walks[best].pos) > 0) {
					best = i
				}
			}
			if best < 0 {
				return nil
			}
			if len(page.Cases) == limit {
				page.Next = tag + ":" + base64.RawURLEncoding.EncodeToString(append(scope, last...))
				return nil
			}
			pos := walks[best].pos
			if len(pos) < 9 {
				return fmt.Errorf("list cases: short index key: %w", ErrCorruptValue)
			}
			var cs app.Case
			if err := s.getCase(tx, app.ID(pos[8:]), &cs); errors.Is(err, ErrCorruptValue) {
				// One damaged case does not take the list down with it:
				// it is left out here and refused when opened.
				walks[best].prev()
				continue
			} else if err != nil {
				return err
			}
			if q.Status == "" || cs.Status == q.Status {
				page.Cases = append(page.Cases, cs)
				last = append(last[:0], pos...)
			}
			walks[best].prev()
		}
	})
	return page, err
}

// rangeWalk walks one index range (keys prefix <ts> <caseID>) backwards;
// pos is the current key without the prefix, nil at the end.
type rangeWalk struct {
	c      *bolt.Cursor
	prefix []byte
	pos    []byte
}

// start positions the walk on the newest key, or, with after, on the
// newest key below prefix+after, also when that key itself is gone (the
// case moved since the page was listed).
func (w *rangeWalk) start(after []byte) {
	var k []byte
	if after == nil {
		k = seekLastWithPrefix(w.c, w.prefix)
	} else {
		if k, _ = w.c.Seek(append(append([]byte(nil), w.prefix...), after...)); k == nil {
			k, _ = w.c.Last()
		} else {
			k, _ = w.c.Prev()
		}
	}
	w.set(k)
}

func (w *rangeWalk) prev() {
	k, _ := w.c.Prev()
	w.set(k)
}

func (w *rangeWalk) set(k []byte) {
	if k == nil || !bytes.HasPrefix(k, w.prefix) {
		w.pos = nil
		return
	}
	w.pos = k[len(w.prefix):]
}

// seekLastWithPrefix positions c on the last key starting with prefix
// (which ends in a 0 separator byte) and returns it, or nil.
func seekLastWithPrefix(c *bolt.Cursor, prefix []byte) []byte {
	upper := append([]byte(nil), prefix...)
	upper[len(upper)-1]++
	k, _ := c.Seek(upper)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil
	}
	return k
}

// CasesOfResident implements app.CaseStore, oldest first.
func (s *Store) CasesOfResident(ctx context.Context, residentID app.ID) ([]app.Case, error) {
	var out []app.Case
	prefix := []byte(residentID)
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bIdxResident).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var cs app.Case
			if err := s.getCase(tx, app.ID(k[len(prefix):]), &cs); err != nil {
				return err
			}
			out = append(out, cs)
		}
		return nil
	})
	return out, err
}

// checkIndexes verifies that every case has exactly its index entries and
// that every index entry points at a case that owns it.
func (s *Store) checkIndexes(tx *bolt.Tx) error {
	want := map[string]map[string]bool{
		string(bIdxStatus): {}, string(bIdxAssignee): {}, string(bIdxResident): {},
	}
	err := tx.Bucket(bCaseItems).ForEach(func(k, v []byte) error {
		if !isHeaderKey(k) {
			return nil
		}
		var c app.Case
		if err := decode(s.c(bCaseItems), bCaseItems, k, v, &c); err != nil {
			return err
		}
		st, as, r := caseIndexKeys(&c)
		want[string(bIdxStatus)][string(st)] = true
		if as != nil {
			want[string(bIdxAssignee)][string(as)] = true
		}
		want[string(bIdxResident)][string(r)] = true
		return nil
	})
	if err != nil {
		return err
	}
	for name, keys := range want {
		n := 0
		err := tx.Bucket([]byte(name)).ForEach(func(k, _ []byte) error {
			if !keys[string(k)] {
				return fmt.Errorf("index %s: entry without its case", name)
			}
			n++
			return nil
		})
		if err != nil {
			return err
		}
		if n != len(keys) {
			return fmt.Errorf("index %s: %d entries, want %d", name, n, len(keys))
		}
	}
	return s.checkOutbox(tx)
}

// putBlobs writes the bytes of a thread's new attachments under the case
// (attKey), each checked against a message's description of it, in the
// thread's transaction. Outside a connected desktop (whose pulled pages
// the server has checked) it also claims, in attachment_owner, every
// attachment id the thread's messages describe for the case, and refuses
// an id another case has claimed (app.ErrAttachmentTaken): the bytes are
// the case's anyway, but an id then names one file in the whole database.
func (s *Store) putBlobs(tx *bolt.Tx, t *app.Thread) error {
	described := map[app.ID]bool{}
	for _, m := range t.Messages {
		for _, a := range m.Attachments {
			described[a.ID] = true
		}
	}
	if !s.replica() {
		if err := claimAttachments(tx, t.Case.ID, described); err != nil {
			return err
		}
	}
	bk := tx.Bucket(bAttachments)
	for id, data := range t.Blobs {
		if !described[id] {
			return fmt.Errorf("case %s: attachment %s on no message: %w", t.Case.ID, id, app.ErrInvalid)
		}
		if err := CheckAttachmentKey(t.Case.ID, id); err != nil {
			return err
		}
		k := attKey(t.Case.ID, id)
		if bk.Get(k) != nil {
			return fmt.Errorf("case %s: attachment %s exists: %w", t.Case.ID, id, app.ErrConflict)
		}
		enc, err := encodeRaw(s.c(bAttachments), bAttachments, k, data)
		if err != nil {
			return err
		}
		if err := bk.Put(k, enc); err != nil {
			return err
		}
	}
	return nil
}

// AttachmentData implements app.CaseStore: the bytes case caseID holds
// under attachment id, never another case's.
func (s *Store) AttachmentData(ctx context.Context, caseID, id app.ID) ([]byte, error) {
	var out []byte
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		k := attKey(caseID, id)
		v := tx.Bucket(bAttachments).Get(k)
		if v == nil {
			return fmt.Errorf("attachment %s of case %s: %w", id, caseID, app.ErrNotFound)
		}
		var err error
		out, err = decodeRaw(s.c(bAttachments), bAttachments, k, v)
		return err
	})
	return out, err
}

// ResidentCasesPage implements app.CaseStore: a reverse walk of the
// resident index (<residentID><caseID>) from before.
func (s *Store) ResidentCasesPage(ctx context.Context, residentID, before app.ID, limit int) ([]app.Case, app.ID, error) {
	limit = max(1, min(limit, 500))
	prefix := []byte(residentID)
	var out []app.Case
	var next app.ID
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bIdxResident).Cursor()
		var k []byte
		if before == "" {
			upper := append(append([]byte(nil), prefix...), 0xff)
			if k, _ = c.Seek(upper); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		} else {
			if k, _ = c.Seek(append(append([]byte(nil), prefix...), before...)); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) > len(prefix); k, _ = c.Prev() {
			id := app.ID(k[len(prefix):])
			if len(out) == limit {
				next = out[len(out)-1].ID
				return nil
			}
			var cs app.Case
			if err := s.getCase(tx, id, &cs); errors.Is(err, ErrCorruptValue) {
				continue // left out here, refused when opened
			} else if err != nil {
				return err
			}
			out = append(out, cs)
		}
		return nil
	})
	return out, next, err
}
