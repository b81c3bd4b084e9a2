package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// A connected desktop's side of sync (docs/sync.md): a pulled page is
// applied together with the new cursor in one transaction, and a push's
// answers together with dropping the answered ops, so that a crash
// repeats a page or a push and never skips one.

// ErrNotConnected: a sync write on a database that is not connected.
var ErrNotConnected = errors.New("the database is not connected to a server")

// OnQueued sets fn to be called after every commit that queued sync ops
// (the sync engine's wake-up). Set it before the store is used.
func (s *Store) OnQueued(fn func()) { s.onQueued = fn }

func (s *Store) queued() {
	if s.onQueued != nil {
		s.onQueued()
	}
}

// The pull cursor is per staff member: the server sends each staff
// member what their roles let them see, so a second staff member on the
// same desktop pulls their own scope from their own cursor. The desktop
// syncs as the owner of the refresh token it keeps (meta/sync_staff, raw,
// written with the token by SaveSyncToken); that owner's cursor is
// meta/sync_cursor/<staffID>. Until an owner is known (a database of an
// earlier version, or tokens stored without one) the cursor is the old
// meta/sync_cursor. A cursor left by another staff member stays for their
// next session.
var kSyncStaff = []byte("sync_staff")

// cursorKey is the meta key of staff's pull cursor.
func cursorKey(staff []byte) []byte {
	if len(staff) == 0 {
		return kSyncCursor
	}
	k := make([]byte, 0, len(kSyncCursor)+1+len(staff))
	return append(append(append(k, kSyncCursor...), '/'), staff...)
}

// syncPosition reads the staff member the desktop syncs as and the key
// and value of their cursor.
func syncPosition(tx *bolt.Tx) (staff app.ID, key, cursor []byte) {
	m := tx.Bucket(bMeta)
	st := m.Get(kSyncStaff)
	key = cursorKey(st)
	return app.ID(st), key, m.Get(key)
}

// anyCursor reports whether any staff member's pull has committed a page
// on this desktop.
func anyCursor(tx *bolt.Tx) bool {
	m := tx.Bucket(bMeta)
	if m.Get(kSyncCursor) != nil {
		return true
	}
	prefix := append(append([]byte(nil), kSyncCursor...), '/')
	k, _ := m.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// SyncCursor is the pull cursor of the staff member the desktop syncs as
// ("" at the start).
func (s *Store) SyncCursor() string {
	_, c := s.SyncPosition()
	return c
}

// SyncPosition is the staff member the desktop syncs as (the owner of
// its refresh token; "" while unknown) and their pull cursor ("" at the
// start), read together.
func (s *Store) SyncPosition() (staff app.ID, cursor string) {
	_ = s.view(func(tx *bolt.Tx) error {
		st, _, c := syncPosition(tx)
		staff, cursor = st, string(c)
		return nil
	})
	return staff, cursor
}

// SyncServer is the server a desktop connects to and the pinned SHA-256
// fingerprint of its certificate ("" when never connected).
func (s *Store) SyncServer() (url, pin string) {
	_ = s.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		url, pin = string(m.Get(kSyncServer)), string(m.Get(kSyncPin))
		return nil
	})
	return url, pin
}

// SetSyncServer stores the server and its pinned fingerprint (at the
// first connect). A demo database is refused.
func (s *Store) SetSyncServer(ctx context.Context, url, pin string) error {
	return s.updateC(ctx, "set sync server", func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if string(m.Get(kDemo)) == "1" {
			return ErrDemoNotConnectable
		}
		if err := m.Put(kSyncServer, []byte(url)); err != nil {
			return err
		}
		return m.Put(kSyncPin, []byte(pin))
	})
}

// SetSyncPin replaces the pinned fingerprint of the server's certificate
// and forgets an announced next one, in one transaction: the rotation the
// server announced (sync.NextPin), or an administrator's re-pin after the
// server's certificate was replaced. The queued ops, the token and the
// data stay. A database never connected is refused.
func (s *Store) SetSyncPin(ctx context.Context, pin string) error {
	return s.updateC(ctx, "set sync pin", func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if len(m.Get(kSyncServer)) == 0 {
			return fmt.Errorf("set sync pin: %w", ErrNotConnected)
		}
		if err := m.Put(kSyncPin, []byte(pin)); err != nil {
			return err
		}
		return m.Delete(kSyncNextPin)
	})
}

// SyncNextPin is the stored announcement of the server's next
// certificate (JSON of sync.NextPin; nil when none). The caller verifies
// it against the pin before it trusts it.
func (s *Store) SyncNextPin() []byte {
	var out []byte
	_ = s.view(func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bMeta).Get(kSyncNextPin))
		return nil
	})
	return out
}

// SetSyncNextPin stores the announcement of the server's next certificate
// (nil removes it).
func (s *Store) SetSyncNextPin(ctx context.Context, raw []byte) error {
	return s.updateC(ctx, "set sync next pin", func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if raw == nil {
			return m.Delete(kSyncNextPin)
		}
		return m.Put(kSyncNextPin, raw)
	})
}

// SyncToken is the stored refresh token ("" when none); sealed.
func (s *Store) SyncToken(ctx context.Context) (string, error) {
	var tok string
	err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.get(tx, bSyncState, "refresh", &tok) })
	if isNotFound(err) {
		return "", nil
	}
	return tok, err
}

// SetSyncToken stores the refresh token ("" removes it), keeping the
// staff member it is stored for (a refreshed token of the same session).
func (s *Store) SetSyncToken(ctx context.Context, tok string) error {
	return s.SaveSyncToken(ctx, "", tok)
}

// SaveSyncToken stores the refresh token together with the staff member
// it belongs to, in one transaction: from then on the desktop syncs as
// that staff member, from their own pull cursor. staff "" keeps the owner
// stored (a refresh of the same session); tok "" removes the token and
// keeps the owner (their cursor stays theirs). It is the hook for
// sync.Tokens, which knows the owner of a session since the online
// sign-in that made it.
func (s *Store) SaveSyncToken(ctx context.Context, staff app.ID, tok string) error {
	return s.updateC(ctx, "set sync token", func(tx *bolt.Tx) error {
		if tok == "" {
			return tx.Bucket(bSyncState).Delete([]byte("refresh"))
		}
		if staff != "" {
			if err := tx.Bucket(bMeta).Put(kSyncStaff, []byte(staff)); err != nil {
				return err
			}
		}
		return s.put(tx, bSyncState, "refresh", tok)
	})
}

// ErrSyncStaffChanged: the desktop syncs as another staff member than the
// one a pull was started for (a sign-in in between): the page is not
// applied, since it may hold another scope than the cursor it would move.
var ErrSyncStaffChanged = errors.New("the desktop syncs as another staff member now")

// UpdateFromServer applies a pulled page and stores cursor with it, in one
// transaction, as ApplyPulledPage does for the staff member the desktop
// syncs as now, without telling what changed.
func (s *Store) UpdateFromServer(ctx context.Context, ch *app.SyncChanges, cursor string) error {
	_, err := s.applyPage(ctx, nil, ch, cursor)
	return err
}

// ApplyPulledPage applies a page staff pulled and stores cursor as their
// cursor with it, in one transaction, without queueing anything, and
// reports the cases it wrote or removed once committed (for the case
// lists: app.CaseService.ServerChanged). When the desktop syncs as
// another staff member by now, nothing is applied: ErrSyncStaffChanged. A
// case with ops still pending is left as it is here: the answer to its
// ops brings its state.
//
// The first sync of a replica that holds no cases yet writes no case
// indexes: inserting a hundred thousand index keys in random order
// rewrites most index pages at every page's commit. Its pages set
// meta/idx_deferred instead (and report Deferred, not their cases), and
// FinishPull builds the indexes once, in key order, after the last page;
// a crash in between leaves the flag, so the next complete pull builds
// them. A staff member's first pull on a replica that already holds cases
// (a colleague's) writes its indexes page by page, as any pull.
func (s *Store) ApplyPulledPage(ctx context.Context, staff app.ID, ch *app.SyncChanges, cursor string) (app.ServerChange, error) {
	return s.applyPage(ctx, &staff, ch, cursor)
}

// applyPage is ApplyPulledPage; staff nil: whoever the desktop syncs as.
func (s *Store) applyPage(ctx context.Context, staff *app.ID, ch *app.SyncChanges, cursor string) (app.ServerChange, error) {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	var col *deferredIdx
	var out app.ServerChange
	fresh, dirty := false, false
	err := s.updateC(ctx, "apply pulled changes", func(tx *bolt.Tx) error {
		out = app.ServerChange{}
		if !s.replica() {
			return ErrNotConnected
		}
		owner, key, cur := syncPosition(tx)
		if staff != nil && owner != *staff {
			return ErrSyncStaffChanged
		}
		m := tx.Bucket(bMeta)
		col = s.idx
		if cur == nil && len(ch.Threads) > 0 && !idxDeferred(tx) {
			// A replica with no case yet; or the very first page of this
			// replica, after cases written before it (a case sent while
			// the first sync started), which are not in the collector.
			k, _ := tx.Bucket(bCaseItems).Cursor().First()
			if k == nil || !anyCursor(tx) {
				if err := m.Put(kIdxDeferred, []byte("1")); err != nil {
					return err
				}
				fresh, dirty, col = true, k != nil, newDeferredIdx()
			}
		}
		if err := s.applyChanges(tx, ch, col, &out); err != nil {
			return err
		}
		return m.Put(key, []byte(cursor))
	})
	s.afterDeferred(err, col, fresh, dirty)
	if err != nil {
		return app.ServerChange{}, err
	}
	return out, nil
}

// afterDeferred keeps the collector of a committed transaction and drops
// one whose transaction failed (its keys may be half added).
func (s *Store) afterDeferred(err error, col *deferredIdx, fresh, dirty bool) {
	switch {
	case err != nil:
		s.idx = nil
	case fresh:
		s.idx = col
		s.idxDirty.Store(dirty)
	}
}

// kIdxDeferred marks a desktop whose case indexes are built after its
// first sync (UpdateFromServer).
var kIdxDeferred = []byte("idx_deferred")

func idxDeferred(tx *bolt.Tx) bool { return tx.Bucket(bMeta).Get(kIdxDeferred) != nil }

// deferredIdx collects, while the indexes are deferred, what the index
// keys of every case the pulled pages wrote are made of (the headers are
// decoded then anyway), so that FinishPull need not read them back. It is
// complete only when this process set the flag, no local case write came
// in between and it did not overflow; otherwise FinishPull rebuilds from
// the stored headers.
//
// A record is about 70 bytes: the case id and resident id, the clinic,
// assignee and status as numbers of names, and the last activity in
// milliseconds; a case written twice has two records, the later counts.
type deferredIdx struct {
	arena    []byte
	names    []string
	num      map[string]uint16
	overflow bool
}

// removedMark stands for the resident id's length in a removed case's record.
const removedMark = 0xff

func newDeferredIdx() *deferredIdx { return &deferredIdx{num: map[string]uint16{}} }

func (d *deferredIdx) name(s string) uint16 {
	n, ok := d.num[s]
	if !ok {
		if len(d.names) >= 0xffff {
			d.overflow = true
			return 0
		}
		n = uint16(len(d.names))
		d.names = append(d.names, s)
		d.num[s] = n
	}
	return n
}

func (d *deferredIdx) add(c *app.Case) {
	if len(c.ID) >= removedMark || len(c.ResidentID) >= removedMark {
		d.overflow = true
		return
	}
	a := append(d.arena, byte(len(c.ID)))
	a = append(a, c.ID...)
	a = append(a, byte(len(c.ResidentID)))
	a = append(a, c.ResidentID...)
	a = binary.BigEndian.AppendUint16(a, d.name(string(c.ClinicID)))
	a = binary.BigEndian.AppendUint16(a, d.name(string(c.AssigneeID)))
	a = binary.BigEndian.AppendUint16(a, d.name(string(c.Status)))
	d.arena = binary.BigEndian.AppendUint64(a, uint64(c.LastActivity.UnixMilli()))
}

func (d *deferredIdx) remove(id app.ID) {
	if len(id) >= removedMark {
		d.overflow = true
		return
	}
	a := append(d.arena, byte(len(id)))
	a = append(a, id...)
	d.arena = append(a, removedMark)
}

// latest returns the arena offsets of each case's latest record (none for
// a case whose latest record removes it).
func (d *deferredIdx) latest() []int {
	var offs []int
	for at := 0; at < len(d.arena); {
		offs = append(offs, at)
		n := int(d.arena[at])
		at += 1 + n
		if rn := int(d.arena[at]); rn == removedMark {
			at++
		} else {
			at += 1 + rn + 14
		}
	}
	id := func(off int) []byte { return d.arena[off+1 : off+1+int(d.arena[off])] }
	// Stable: a case's records stay in the order written; the last counts.
	slices.SortStableFunc(offs, func(a, b int) int { return bytes.Compare(id(a), id(b)) })
	out := offs[:0]
	for i, off := range offs {
		if i+1 < len(offs) && bytes.Equal(id(off), id(offs[i+1])) {
			continue
		}
		if d.arena[off+1+int(d.arena[off])] != removedMark {
			out = append(out, off)
		}
	}
	return out
}

// caseAt rebuilds the indexed fields of the record at off.
func (d *deferredIdx) caseAt(off int) *app.Case {
	a := d.arena[off:]
	n := int(a[0])
	c := &app.Case{ID: app.ID(a[1 : 1+n])}
	a = a[1+n:]
	rn := int(a[0])
	c.ResidentID = app.ID(a[1 : 1+rn])
	a = a[1+rn:]
	c.ClinicID = app.ID(d.names[binary.BigEndian.Uint16(a)])
	c.AssigneeID = app.ID(d.names[binary.BigEndian.Uint16(a[2:])])
	c.Status = app.Status(d.names[binary.BigEndian.Uint16(a[4:])])
	c.LastActivity = time.UnixMilli(int64(binary.BigEndian.Uint64(a[6:])))
	return c
}

// keys returns the sorted keys of index i (0 status, 1 assignee, 2
// resident) of the cases at offs. One index at a time keeps the memory of
// a first sync low.
func (d *deferredIdx) keys(offs []int, i int) [][]byte {
	out := make([][]byte, 0, len(offs))
	for _, off := range offs {
		st, as, r := caseIndexKeys(d.caseAt(off))
		if k := [3][]byte{st, as, r}[i]; k != nil {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return out
}

// caseWritten is called by a write of case id. On a connected desktop
// the copy no longer is the server's state at its feed position, and,
// while the indexes are deferred, the collected keys no longer tell the
// whole story.
func (s *Store) caseWritten(tx *bolt.Tx, id app.ID) error {
	if s.server() {
		return nil
	}
	if idxDeferred(tx) {
		s.idxDirty.Store(true)
	}
	return tx.Bucket(bChangeKeys).Delete(caseSeqKey(id))
}

// FinishPull ends a complete pull: after a first sync it builds the case
// indexes the pages left out and clears the flag. Without the flag it
// only reads it. Each index is written in key order into a new bucket in
// transactions of at most indexBatch keys, to keep the memory of one
// transaction small; the flag goes with the last.
func (s *Store) FinishPull(ctx context.Context) error {
	var pending bool
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { pending = idxDeferred(tx); return nil }); err != nil || !pending {
		return err
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	d := s.idx
	if d == nil || d.overflow || s.idxDirty.Load() {
		d = newDeferredIdx()
		err := s.viewC(ctx, func(tx *bolt.Tx) error {
			return tx.Bucket(bCaseItems).ForEach(func(k, v []byte) error {
				if !isHeaderKey(k) {
					return nil
				}
				var c app.Case
				if err := decode(s.c(bCaseItems), bCaseItems, k, v, &c); err != nil {
					return err
				}
				d.add(&c)
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	offs := d.latest()
	names := [3][]byte{bIdxStatus, bIdxAssignee, bIdxResident}
	for i, name := range names {
		keys := d.keys(offs, i)
		for start := 0; start == 0 || start < len(keys); start += indexBatch {
			part := keys[start:min(start+indexBatch, len(keys))]
			last := i == len(names)-1 && start+indexBatch >= len(keys)
			err := s.updateC(ctx, "build case indexes", func(tx *bolt.Tx) error {
				if !idxDeferred(tx) {
					return nil
				}
				if start == 0 {
					if err := tx.DeleteBucket(name); err != nil {
						return err
					}
					if _, err := tx.CreateBucket(name); err != nil {
						return err
					}
				}
				bk := tx.Bucket(name)
				bk.FillPercent = 1
				for _, k := range part {
					if err := bk.Put(k, nil); err != nil {
						return err
					}
				}
				if last {
					return tx.Bucket(bMeta).Delete(kIdxDeferred)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	s.idx = nil
	return nil
}

// indexBatch is how many index keys FinishPull writes per transaction.
const indexBatch = 25000

// DropAnsweredOps stores the server's answers to pushed ops, as
// ApplyAnswers does for the staff member the desktop syncs as now, without
// telling what changed.
func (s *Store) DropAnsweredOps(ctx context.Context, results []app.OpResult, ch *app.SyncChanges) error {
	_, err := s.applyAnswers(ctx, nil, results, ch)
	return err
}

// ApplyAnswers stores the server's answers to ops staff pushed: the
// answered ops leave the queue, the rejected and conflicting ones are kept
// as SyncProblems, and the server's state of their cases (ch) is applied —
// all in one transaction, so an answer is never half taken — and reports
// the cases it wrote or removed once committed. The answers are stored
// whoever the desktop syncs as by now; staff's cursor moves with them
// (ch.From, ch.To) only while the desktop still syncs as staff.
func (s *Store) ApplyAnswers(ctx context.Context, staff app.ID, results []app.OpResult, ch *app.SyncChanges) (app.ServerChange, error) {
	return s.applyAnswers(ctx, &staff, results, ch)
}

func (s *Store) applyAnswers(ctx context.Context, staff *app.ID, results []app.OpResult, ch *app.SyncChanges) (app.ServerChange, error) {
	byID := make(map[string]*app.OpResult, len(results))
	for i := range results {
		byID[results[i].ID] = &results[i]
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	col := s.idx
	var out app.ServerChange
	err := s.updateC(ctx, "store op results", func(tx *bolt.Tx) error {
		out = app.ServerChange{}
		if !s.replica() {
			return ErrNotConnected
		}
		bk := tx.Bucket(bPendingOps)
		var drop [][]byte
		err := bk.ForEach(func(k, v []byte) error {
			var op app.SyncOp
			if err := decode(s.c(bPendingOps), bPendingOps, k, v, &op); err != nil {
				return err
			}
			r := byID[op.ID]
			if r == nil {
				return nil
			}
			drop = append(drop, append([]byte(nil), k...))
			if r.Outcome == app.OpApplied {
				return nil
			}
			return s.put(tx, bSyncResult, op.ID, &app.SyncProblem{Op: op, Result: *r})
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		if err := s.applyChanges(tx, ch, col, &out); err != nil {
			return err
		}
		if owner, _, _ := syncPosition(tx); staff != nil && owner != *staff {
			return nil
		}
		return advanceCursor(tx, ch)
	})
	s.afterDeferred(err, col, false, false)
	if err != nil {
		return app.ServerChange{}, err
	}
	return out, nil
}

// advanceCursor moves the pull cursor from ch.From to ch.To (a push's
// answer: the feed held nothing else for this desktop in between), only
// when the cursor is still From and To is further.
func advanceCursor(tx *bolt.Tx, ch *app.SyncChanges) error {
	if ch == nil || ch.From == "" || ch.To == "" {
		return nil
	}
	m := tx.Bucket(bMeta)
	_, key, cur := syncPosition(tx)
	if string(cur) != ch.From {
		return nil
	}
	from, err1 := ParseCursor(ch.From)
	to, err2 := ParseCursor(ch.To)
	if err1 != nil || err2 != nil || to <= from {
		return nil
	}
	return m.Put(key, []byte(ch.To))
}

// SyncProblems lists the rejected and conflicting ops, oldest first.
func (s *Store) SyncProblems(ctx context.Context) ([]app.SyncProblem, error) {
	out, err := all[app.SyncProblem](ctx, s, bSyncResult, nil)
	sort.Slice(out, func(i, j int) bool { return out[i].Op.Seq < out[j].Op.Seq })
	return out, err
}

// DeleteSyncProblem removes a problem staff member staff dismissed, with
// the text a refused op kept. Only its maker may (app.SyncOp.MadeBy):
// another's is app.ErrForbidden, and a missing one app.ErrNotFound.
func (s *Store) DeleteSyncProblem(ctx context.Context, staff app.ID, opID string) error {
	return s.updateC(ctx, "dismiss sync problem", func(tx *bolt.Tx) error {
		bk := tx.Bucket(bSyncResult)
		v := bk.Get([]byte(opID))
		if v == nil {
			return fmt.Errorf("dismiss sync problem %s: %w", opID, app.ErrNotFound)
		}
		var p app.SyncProblem
		if err := decode(s.c(bSyncResult), bSyncResult, []byte(opID), v, &p); err != nil {
			return err
		}
		if staff == "" || !p.Op.MadeBy(staff) {
			return fmt.Errorf("dismiss sync problem %s by staff %s: %w", opID, staff, app.ErrForbidden)
		}
		return bk.Delete([]byte(opID))
	})
}

// pendingCases are the cases with thread ops still queued.
func (s *Store) pendingCases(tx *bolt.Tx) (map[app.ID]bool, error) {
	out := map[app.ID]bool{}
	err := tx.Bucket(bPendingOps).ForEach(func(k, v []byte) error {
		var op app.SyncOp
		if err := decode(s.c(bPendingOps), bPendingOps, k, v, &op); err != nil {
			return err
		}
		if op.CaseID != "" && op.Kind != app.OpAccessRecord {
			out[op.CaseID] = true
		}
		return nil
	})
	return out, err
}

// applyChanges writes a pulled page or a push's answer and adds the cases
// it wrote or removed to out. While the case indexes are deferred it adds
// their keys to col instead (when not nil) and sets out.Deferred: the
// cases of a first sync are not listed one by one.
func (s *Store) applyChanges(tx *bolt.Tx, ch *app.SyncChanges, col *deferredIdx, out *app.ServerChange) error {
	out.Deferred = idxDeferred(tx)
	if ch.Empty() {
		return nil
	}
	for i := range ch.Clinics {
		if err := s.put(tx, bClinics, string(ch.Clinics[i].ID), &ch.Clinics[i]); err != nil {
			return err
		}
	}
	for i := range ch.Staff {
		if err := s.put(tx, bStaff, string(ch.Staff[i].ID), &ch.Staff[i]); err != nil {
			return err
		}
	}
	for i := range ch.Templates {
		if err := s.put(tx, bTemplates, string(ch.Templates[i].ID), &ch.Templates[i]); err != nil {
			return err
		}
	}
	for i := range ch.EServices {
		if err := s.put(tx, bEServices, string(ch.EServices[i].ID), &ch.EServices[i]); err != nil {
			return err
		}
	}
	if err := s.applyPulledForms(tx, ch.FormSeries); err != nil {
		return err
	}
	for i := range ch.Residents {
		if err := s.putResident(tx, &ch.Residents[i]); err != nil {
			return err
		}
	}
	if len(ch.Threads)+len(ch.Gone)+len(ch.Withdrawn) == 0 {
		return nil
	}
	pending, err := s.pendingCases(tx)
	if err != nil {
		return err
	}
	b := bucketsOf(tx)
	if b.noIndex = idxDeferred(tx); b.noIndex {
		b.idx = col
	}
	report := func(id app.ID) {
		if !b.noIndex {
			out.Cases = append(out.Cases, id)
		}
	}
	for i := range ch.Threads {
		pt := &ch.Threads[i]
		if pending[pt.Case.ID] {
			continue
		}
		wrote, err := s.putPulledThread(b, pt)
		if err != nil {
			return err
		}
		if wrote {
			report(pt.Case.ID)
		}
	}
	for _, id := range ch.Gone {
		if pending[id] {
			continue
		}
		held := b.items.Get(headerKey(id)) != nil
		if err := s.deleteThread(b, id); err != nil {
			return err
		}
		if held {
			report(id)
		}
	}
	for i := range ch.Withdrawn {
		w := &ch.Withdrawn[i]
		if pending[w.CaseID] {
			continue
		}
		wrote, err := s.withdraw(b, w)
		if err != nil {
			return err
		}
		if wrote {
			report(w.CaseID)
		}
	}
	return nil
}

// withdraw applies a withdrawn case (docs/sync.md, Pull): the case left
// the view of the staff member the desktop syncs as (an ärendehanterare's
// case given to someone else). The copy here takes the server's assignee
// and status, so that the lists and the staff tool's rules (CaseVisible)
// hide it from that staff member at once; its content stays for a
// colleague on this desktop who may see it, and its feed position is
// dropped, so that that colleague's next pull brings the case whole.
func (s *Store) withdraw(b caseBuckets, w *app.WithdrawnCase) (bool, error) {
	var c app.Case
	if err := s.getCase(b.tx, w.CaseID, &c); isNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if c.ClinicID != w.ClinicID || !w.Status.Valid() {
		return false, fmt.Errorf("withdrawn case %s: %w", w.CaseID, ErrCorruptValue)
	}
	if err := b.tx.Bucket(bChangeKeys).Delete(caseSeqKey(c.ID)); err != nil {
		return false, err
	}
	if c.AssigneeID == w.AssigneeID && c.Status == w.Status {
		return false, nil
	}
	if err := b.deleteIndexes(&c); err != nil {
		return false, err
	}
	c.AssigneeID, c.Status = w.AssigneeID, w.Status
	if w.Version > c.Version {
		c.Version = w.Version
	}
	if err := b.putIndexes(&c); err != nil {
		return false, err
	}
	return true, s.putBucket(b.items, bCaseItems, headerKey(c.ID), &c)
}

// putPulledThread replaces the desktop's copy of a case with the
// server's, and reports whether it wrote anything.
func (s *Store) putPulledThread(b caseBuckets, pt *app.PulledThread) (wrote bool, err error) {
	c := &pt.Case
	if err := ValidCase(c); err != nil {
		return false, err
	}
	// The server's state at the same feed position as the copy here,
	// which has not changed since (a local write drops the position):
	// nothing to write. A first sync (deferred indexes) keeps no
	// positions; its cases are new anyway.
	if pt.Seq != 0 && !b.noIndex {
		if v := b.tx.Bucket(bChangeKeys).Get(caseSeqKey(c.ID)); len(v) == 8 && binary.BigEndian.Uint64(v) == pt.Seq {
			return false, nil
		}
	}
	return true, s.writePulledThread(b, pt)
}

// writePulledThread writes the server's state of a case over the copy here.
func (s *Store) writePulledThread(b caseBuckets, pt *app.PulledThread) error {
	c := &pt.Case
	seqs := b.tx.Bucket(bChangeKeys)
	var old app.Case
	existed := false
	if err := s.getCase(b.tx, c.ID, &old); err == nil {
		existed = true
		if err := b.deleteIndexes(&old); err != nil {
			return err
		}
		if err := s.dropLocalOnly(b, pt); err != nil {
			return err
		}
	} else if !isNotFound(err) {
		return err
	}
	if err := b.putIndexes(c); err != nil {
		return err
	}
	if pt.RawHeader != nil {
		if err := s.putPulledRaw(b, pt, existed); err != nil {
			return err
		}
	} else if err := s.putBucket(b.items, bCaseItems, headerKey(c.ID), c); err != nil {
		return err
	}
	if pt.Seq != 0 && !b.noIndex {
		if err := seqs.Put(caseSeqKey(c.ID), binary.BigEndian.AppendUint64(nil, pt.Seq)); err != nil {
			return err
		}
	} else if err := seqs.Delete(caseSeqKey(c.ID)); err != nil {
		return err
	}
	for i := range pt.Messages {
		m := &pt.Messages[i]
		m.CaseID = c.ID
		if err := s.putBucket(b.items, bCaseItems, itemKey(c.ID, itemMessage, m.ID), m); err != nil {
			return err
		}
	}
	for i := range pt.Notes {
		n := &pt.Notes[i]
		n.CaseID = c.ID
		if err := s.putBucket(b.items, bCaseItems, itemKey(c.ID, itemNote, n.ID), n); err != nil {
			return err
		}
	}
	// Notification states, to show; never due here: the server sends.
	ob, due, byCase := b.tx.Bucket(bOutbox), b.tx.Bucket(bIdxOutboxDue), b.tx.Bucket(bIdxOutboxCase)
	for i := range pt.Notifications {
		n := &pt.Notifications[i]
		n.CaseID = c.ID
		if err := ValidNotification(n); err != nil {
			return err
		}
		var prev app.Notification
		if err := s.get(b.tx, bOutbox, string(n.ID), &prev); err == nil && prev.State == app.NotificationQueued {
			if err := due.Delete(dueKey(&prev)); err != nil {
				return err
			}
		}
		if err := s.putBucket(ob, bOutbox, []byte(n.ID), n); err != nil {
			return err
		}
		if err := byCase.Put(outboxCaseKey(n), nil); err != nil {
			return err
		}
	}
	return nil
}

// putPulledRaw stores a case's header and items as the server sent them
// (the binary pull): sealed, not decoded and encoded again. Only message
// and note items are taken.
func (s *Store) putPulledRaw(b caseBuckets, pt *app.PulledThread, existed bool) error {
	id := pt.Case.ID
	put := func(k, j []byte) error {
		// The header was decoded; an item is checked for being one JSON
		// object only (a full parse of every message would cost what
		// storing it as sent saves). A bad one reads as ErrCorruptValue.
		if len(j) < 2 || j[0] != '{' || j[len(j)-1] != '}' {
			return fmt.Errorf("pulled case %s: %w", id, ErrCorruptValue)
		}
		// An item already stored as sent is not written again (a case
		// that got one reply keeps its other messages' pages clean).
		if existed {
			if old := b.items.Get(k); old != nil {
				if p, err := openJSON(s.c(bCaseItems), bCaseItems, k, old); err == nil && bytes.Equal(p, j) {
					return nil
				}
			}
		}
		v, err := encodeJSON(s.c(bCaseItems), bCaseItems, k, j)
		if err != nil {
			return err
		}
		return b.items.Put(k, v)
	}
	if err := put(headerKey(id), pt.RawHeader); err != nil {
		return err
	}
	for _, it := range pt.RawItems {
		if len(it.Key) < 2 || (it.Key[0] != itemMessage && it.Key[0] != itemNote) {
			return fmt.Errorf("pulled case %s: item key: %w", id, app.ErrInvalid)
		}
		k := make([]byte, 0, len(id)+len(it.Key))
		k = append(append(k, id...), it.Key...)
		if err := put(k, it.JSON); err != nil {
			return err
		}
	}
	return nil
}

// dropLocalOnly removes the messages and notes of the desktop's copy of
// a case that the server's state pt lacks: items the server rejected
// (a reply refused by a rule), with their attachment bytes. The server's
// state is the case whole; a page never carries an item the desktop still
// has queued (a case with pending ops is not replaced).
func (s *Store) dropLocalOnly(b caseBuckets, pt *app.PulledThread) error {
	keep := make(map[string]bool, len(pt.Messages)+len(pt.Notes)+len(pt.RawItems))
	for _, it := range pt.RawItems {
		keep[string(pt.Case.ID)+string(it.Key)] = true
	}
	for i := range pt.Messages {
		keep[string(itemKey(pt.Case.ID, itemMessage, pt.Messages[i].ID))] = true
	}
	for i := range pt.Notes {
		keep[string(itemKey(pt.Case.ID, itemNote, pt.Notes[i].ID))] = true
	}
	prefix := []byte(pt.Case.ID)
	var drop [][]byte
	c := b.items.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) <= len(prefix) || keep[string(k)] {
			continue
		}
		switch k[len(prefix)] {
		case itemMessage:
			var m app.Message
			if err := decode(s.c(bCaseItems), bCaseItems, k, v, &m); err != nil {
				return err
			}
			for _, a := range m.Attachments {
				if err := b.tx.Bucket(bAttachments).Delete(attKey(pt.Case.ID, a.ID)); err != nil {
					return err
				}
			}
		case itemNote:
		default:
			continue
		}
		drop = append(drop, append([]byte(nil), k...))
	}
	for _, k := range drop {
		if err := b.items.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// deleteThread removes a case the server does not hold (its creation was
// rejected): header, items, indexes, notifications and attachment bytes.
func (s *Store) deleteThread(b caseBuckets, id app.ID) error {
	t, err := s.readThread(b.tx, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if b.noIndex && b.idx != nil {
		b.idx.remove(id)
	}
	if err := b.tx.Bucket(bChangeKeys).Delete(caseSeqKey(id)); err != nil {
		return err
	}
	if err := b.deleteIndexes(&t.Case); err != nil {
		return err
	}
	if err := b.resident.Delete(append([]byte(t.Case.ResidentID), id...)); err != nil {
		return err
	}
	var keys [][]byte
	c := b.items.Cursor()
	prefix := []byte(id)
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) > len(prefix) && (k[len(prefix)] == itemHeader || k[len(prefix)] == itemMessage || k[len(prefix)] == itemNote) {
			keys = append(keys, append([]byte(nil), k...))
		}
	}
	for _, k := range keys {
		if err := b.items.Delete(k); err != nil {
			return err
		}
	}
	for _, m := range t.Messages {
		for _, a := range m.Attachments {
			if err := b.tx.Bucket(bAttachments).Delete(attKey(id, a.ID)); err != nil {
				return err
			}
		}
	}
	oc := b.tx.Bucket(bIdxOutboxCase).Cursor()
	cp := join(string(id), "")
	var nids [][]byte
	for k, _ := oc.Seek(cp); k != nil && bytes.HasPrefix(k, cp); k, _ = oc.Next() {
		nids = append(nids, append([]byte(nil), k...))
	}
	for _, k := range nids {
		nid := k[len(cp):]
		var n app.Notification
		if err := s.get(b.tx, bOutbox, string(nid), &n); err == nil && n.State == app.NotificationQueued {
			if err := b.tx.Bucket(bIdxOutboxDue).Delete(dueKey(&n)); err != nil {
				return err
			}
		}
		if err := b.tx.Bucket(bOutbox).Delete(nid); err != nil {
			return err
		}
		if err := b.tx.Bucket(bIdxOutboxCase).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// SyncSnapshot is what a desktop holds of the synced records, for tests
// that compare replicas with the server (convergence).
type SyncSnapshot struct {
	Threads   map[app.ID]app.Thread
	Residents map[app.ID]app.Resident
}

// Snapshot reads every case thread and resident (small databases: tests).
func (s *Store) Snapshot(ctx context.Context) (*SyncSnapshot, error) {
	out := &SyncSnapshot{Threads: map[app.ID]app.Thread{}, Residents: map[app.ID]app.Resident{}}
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		err := tx.Bucket(bCaseItems).ForEach(func(k, _ []byte) error {
			if !isHeaderKey(k) {
				return nil
			}
			t, err := s.readThread(tx, app.ID(k[:len(k)-1]))
			if err != nil {
				return err
			}
			out.Threads[t.Case.ID] = *t
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bResidents).ForEach(func(k, v []byte) error {
			var r app.Resident
			if err := decode(s.c(bResidents), bResidents, k, v, &r); err != nil {
				return err
			}
			out.Residents[r.ID] = r
			return nil
		})
	})
	return out, err
}

// PutResidentsFromServer stores residents fetched from the server (a
// lookup on a connected desktop), in one transaction, queueing nothing.
func (s *Store) PutResidentsFromServer(ctx context.Context, rs []app.Resident) error {
	return s.updateC(ctx, "put residents from server", func(tx *bolt.Tx) error {
		for i := range rs {
			if err := s.putResident(tx, &rs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}
