package storage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	stdsync "sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// The central server's side of sync (docs/sync.md, schema v9).
//
// The change feed: every write of a store with meta/changefeed set (the
// server's) appends, in its own transaction, one entry per changed record
// to bucket changes under the next sequence number, and moves the record's
// previous entry out (change_keys remembers it): the feed holds each
// record once, at the position of its latest change. A desktop's cursor is
// a sequence number; a pull after it returns the current state of every
// record whose entry lies after it. A record changed while a desktop pages
// through the feed moves behind its cursor and is sent again, later.
//
// The op memory: applied_ops remembers the result of every op id applied
// (at least AppliedOpsRetention). The write that applies an op records
// its id in the same transaction (app.Write.Applies), so a crash between
// the write and the stored result cannot apply the op a second time.

var (
	bChanges    = []byte("changes")
	bChangeKeys = []byte("change_keys")
	bAppliedOps = []byte("applied_ops")
	bSyncResult = []byte("sync_results")
	bSyncState  = []byte("sync_state")

	kChangeFeed = []byte("changefeed")
	kSyncCursor = []byte("sync_cursor")
	kSyncServer = []byte("sync_server")
	kSyncPin    = []byte("sync_pin")
	// kSyncNextPin: the server's signed announcement of its next
	// certificate (sync.NextPin as JSON, raw), kept until the switch.
	kSyncNextPin = []byte("sync_next_pin")
)

// Kinds of feed entries.
const (
	feedCase     = 'c'
	feedResident = 'r'
	feedStaff    = 's'
	feedClinic   = 'k'
	feedTemplate = 't'
	feedEService = 'e'
)

// AppliedOpsRetention is how long the server remembers an applied op id
// (docs/sync.md: at least 30 days).
const AppliedOpsRetention = 31 * 24 * time.Hour

func migrate9(tx *bolt.Tx, _ Codec) error {
	for _, b := range [][]byte{bChanges, bChangeKeys, bAppliedOps, bSyncResult, bSyncState} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

// SetChangeFeed makes this database the central server's: from now on
// every write appends to the change feed and case versions count. It is
// kept in the file, so a restart without it still feeds.
func (s *Store) SetChangeFeed(ctx context.Context) error {
	return s.updateC(ctx, "enable change feed", func(tx *bolt.Tx) error {
		switch s.Role() {
		case RoleReplica:
			return fmt.Errorf("change feed on a connected desktop: %w", app.ErrInvalid)
		case RoleServer:
			return nil
		}
		if err := tx.Bucket(bMeta).Put(kChangeFeed, []byte("1")); err != nil {
			return err
		}
		s.becomes(tx, RoleServer)
		return s.backfillFeed(tx)
	})
}

// backfillFeed gives every record a feed entry when the feed is turned on
// over existing data (a server upgraded to v9), so that desktops get them.
func (s *Store) backfillFeed(tx *bolt.Tx) error {
	type entry struct {
		kind       byte
		clinic, id app.ID
	}
	var es []entry
	for _, b := range []struct {
		name []byte
		kind byte
	}{{bClinics, feedClinic}, {bStaff, feedStaff}, {bResidents, feedResident}} {
		err := tx.Bucket(b.name).ForEach(func(k, _ []byte) error {
			clinic := app.ID("")
			if b.kind == feedClinic {
				clinic = app.ID(k)
			}
			es = append(es, entry{b.kind, clinic, app.ID(k)})
			return nil
		})
		if err != nil {
			return err
		}
	}
	var tpl []app.MessageTemplate
	var esv []app.EService
	for _, b := range []struct {
		name []byte
		fn   func(k, v []byte) error
	}{
		{bTemplates, func(k, v []byte) error {
			var t app.MessageTemplate
			if err := decode(s.c(bTemplates), bTemplates, k, v, &t); err != nil {
				return err
			}
			tpl = append(tpl, t)
			return nil
		}},
		{bEServices, func(k, v []byte) error {
			var e app.EService
			if err := decode(s.c(bEServices), bEServices, k, v, &e); err != nil {
				return err
			}
			esv = append(esv, e)
			return nil
		}},
	} {
		if err := tx.Bucket(b.name).ForEach(b.fn); err != nil {
			return err
		}
	}
	for _, t := range tpl {
		es = append(es, entry{feedTemplate, t.ClinicID, t.ID})
	}
	for _, e := range esv {
		es = append(es, entry{feedEService, e.ClinicID, e.ID})
	}
	// Form series after their e-services (a desktop stores a series of
	// an e-service it holds).
	err := tx.Bucket(bForms).ForEach(func(k, _ []byte) error {
		es = append(es, entry{feedForm, s.formClinic(tx, string(k)), app.ID(k)})
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bCaseItems).ForEach(func(k, v []byte) error {
		if !isHeaderKey(k) {
			return nil
		}
		var c app.Case
		if err := decode(s.c(bCaseItems), bCaseItems, k, v, &c); err != nil {
			return err
		}
		es = append(es, entry{feedCase, c.ClinicID, c.ID})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := s.appendFeed(tx, e.kind, e.clinic, e.id); err != nil {
			return err
		}
	}
	return nil
}

// feed appends the change of one record to the feed, on the server.
func (s *Store) feed(tx *bolt.Tx, kind byte, clinic, id app.ID) error {
	if !s.server() {
		return nil
	}
	return s.appendFeed(tx, kind, clinic, id)
}

func (s *Store) appendFeed(tx *bolt.Tx, kind byte, clinic, id app.ID) error {
	ch, keys := tx.Bucket(bChanges), tx.Bucket(bChangeKeys)
	ch.FillPercent = appendFill
	k := append([]byte{kind}, id...)
	if old := keys.Get(k); old != nil {
		if err := ch.Delete(append([]byte(nil), old...)); err != nil {
			return err
		}
	}
	seq, err := ch.NextSequence()
	if err != nil {
		return err
	}
	sk := seqKey(seq)
	v := make([]byte, 0, 2+len(clinic)+len(id))
	v = append(v, kind)
	v = append(v, clinic...)
	v = append(v, 0)
	v = append(v, id...)
	if err := ch.Put(sk, v); err != nil {
		return err
	}
	if err := keys.Put(k, sk); err != nil {
		return err
	}
	tx.OnCommit(s.changed.Signal)
	return nil
}

// feedEntry reads a feed entry as feed writes it: the kind, the clinic
// ("" for records of no clinic), a 0 byte, the record's id.
func feedEntry(v []byte) (kind byte, clinic, id app.ID, ok bool) {
	if len(v) < 2 {
		return 0, "", "", false
	}
	i := bytes.IndexByte(v[1:], 0)
	if i < 0 {
		return 0, "", "", false
	}
	return v[0], app.ID(v[1 : 1+i]), app.ID(v[2+i:]), true
}

// markOp records the op w replays as applied to case c, in the write's
// transaction (server). Its final result (PutOpResult) replaces the mark.
func (s *Store) markOp(tx *bolt.Tx, c *app.Case, w app.Write) error {
	if w.Applies == "" || !s.server() {
		return nil
	}
	r := app.OpResult{ID: w.Applies, CaseID: c.ID, Outcome: app.OpApplied, Version: c.Version, At: s.clock.Now()}
	return s.putBucket(tx.Bucket(bAppliedOps), bAppliedOps, []byte(w.Applies), &r)
}

// bumpVersion gives a changed case header its next server version.
func (s *Store) bumpVersion(old, c *app.Case, w app.Write) {
	if s.server() {
		NextCaseVersion(old, c, w)
	}
}

// NextCaseVersion gives a changed case header its next server version
// (here and in pgstore), and notes which fields changed at it and
// through whose op (a tag of the device, app.DeviceTag: the header never
// carries a device id).
func NextCaseVersion(old, c *app.Case, w app.Write) {
	dev := app.DeviceTag(w.Device)
	c.Version = old.Version + 1
	c.StatusVersion, c.StatusBy = old.StatusVersion, old.StatusBy
	c.AssigneeVersion, c.AssigneeBy = old.AssigneeVersion, old.AssigneeBy
	if c.Status != old.Status {
		c.StatusVersion, c.StatusBy = c.Version, dev
	}
	if c.AssigneeID != old.AssigneeID {
		c.AssigneeVersion, c.AssigneeBy = c.Version, dev
	}
}

// AppliedOp returns the stored result of op id, or app.ErrNotFound.
func (s *Store) AppliedOp(ctx context.Context, id string) (*app.OpResult, error) {
	var r app.OpResult
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.get(tx, bAppliedOps, id, &r) }); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutOpResult stores the final result of an op.
func (s *Store) PutOpResult(ctx context.Context, r *app.OpResult) error {
	if r.ID == "" {
		return fmt.Errorf("op result: no id: %w", app.ErrInvalid)
	}
	return s.updateC(ctx, "store op result "+r.ID, func(tx *bolt.Tx) error {
		// An op applied once stays applied: a later answer to a copy of
		// it (which found its case already written) never turns it into
		// a refusal.
		var old app.OpResult
		if err := s.get(tx, bAppliedOps, r.ID, &old); err == nil && old.Outcome == app.OpApplied && r.Outcome != app.OpApplied {
			return nil
		}
		return s.put(tx, bAppliedOps, r.ID, r)
	})
}

// PruneAppliedOps forgets op results older than before; it returns how
// many. Call it with now - AppliedOpsRetention at most.
func (s *Store) PruneAppliedOps(ctx context.Context, before time.Time) (int, error) {
	var old [][]byte
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bAppliedOps).ForEach(func(k, v []byte) error {
			var r app.OpResult
			if err := decode(s.c(bAppliedOps), bAppliedOps, k, v, &r); err != nil {
				return err
			}
			if r.At.Before(before) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
	})
	if err != nil || len(old) == 0 {
		return 0, err
	}
	err = s.updateC(ctx, "prune applied ops", func(tx *bolt.Tx) error {
		bk := tx.Bucket(bAppliedOps)
		for _, k := range old {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return len(old), err
}

// ChangeSignal wakes waiters when the feed grows (here and in pgstore):
// Wait returns a channel closed at the next Signal.
type ChangeSignal struct {
	mu stdsync.Mutex
	ch chan struct{}
}

func (c *ChangeSignal) Wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// Signal wakes every waiter.
func (c *ChangeSignal) Signal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// ChangeHead is the sequence number of the feed's latest entry.
func (s *Store) ChangeHead() (seq uint64) {
	_ = s.view(func(tx *bolt.Tx) error { seq = tx.Bucket(bChanges).Sequence(); return nil })
	return seq
}

// WaitChange returns the feed's head once it is past after, or when ctx
// ends (then with the head as it is and ctx's error).
func (s *Store) WaitChange(ctx context.Context, after uint64) (uint64, error) {
	for {
		w := s.changed.Wait()
		if h := s.ChangeHead(); h > after {
			return h, nil
		}
		select {
		case <-w:
		case <-ctx.Done():
			return s.ChangeHead(), ctx.Err()
		}
	}
}

// ParseCursor reads a pull cursor ("" is the start).
func ParseCursor(c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cursor: %w", app.ErrInvalid)
	}
	return n, nil
}

// FormatCursor writes a pull cursor.
func FormatCursor(seq uint64) string { return strconv.FormatUint(seq, 10) }

// ChangesSince reads one page of the feed after the cursor for the staff
// member of scope, which decides what each record of the feed may carry
// to them (app.PullScope): at most limit records, scanning at most
// 20×limit entries (entries for nobody of theirs are skipped). It returns
// the page, the cursor after it, and whether entries remain. A page
// after a cursor (after > 0) also withdraws the cases that changed, that
// the staff member may not see and whose content was sent to the scope's
// device before (RecordPulled).
func (s *Store) ChangesSince(ctx context.Context, after uint64, limit int, scope *app.PullScope) (*app.SyncChanges, uint64, bool, error) {
	return s.changesSince(ctx, after, limit, scope, false)
}

// ChangesSinceRaw is ChangesSince with every case's header and items as
// stored (PulledThread.RawHeader and RawItems), for the binary pull.
func (s *Store) ChangesSinceRaw(ctx context.Context, after uint64, limit int, scope *app.PullScope) (*app.SyncChanges, uint64, bool, error) {
	return s.changesSince(ctx, after, limit, scope, true)
}

// RecordChangesSince is ChangesSince (raw: ChangesSinceRaw) whose cases
// are recorded in the access log as sent to the scope's device, as
// RecordPulled records them, and it returns only once that record is
// committed: a page it returns without an error may be sent, and one it
// refuses must not be. The record is written while the page is read, a
// chunk of cases at a time, in one write transaction beside the page's
// read transaction: a page's latency is then about the longer of the
// two, not their sum (a cold sync waits for page after page). prepare
// (nil: none) works on the read page while its record commits (the
// server encodes it); its error fails the call too.
func (s *Store) RecordChangesSince(ctx context.Context, after uint64, limit int, scope *app.PullScope, raw bool, prepare func(page *app.SyncChanges, next uint64, more bool) error) (*app.SyncChanges, uint64, bool, error) {
	holder := scope.Holder()
	if holder == "" {
		return nil, after, false, fmt.Errorf("record pull: no device: %w", app.ErrInvalid)
	}
	if batchOf(ctx, s) != nil {
		// Inside a Batch both would use its one transaction: in turn.
		out, next, more, err := s.changesSince(ctx, after, limit, scope, raw)
		if err == nil {
			_, err = s.RecordPulled(ctx, holder, scope.PullAccesses(s.clock.Now(), out.Threads))
		}
		if err == nil && prepare != nil {
			err = prepare(out, next, more)
		}
		if err != nil {
			return nil, after, false, err
		}
		return out, next, more, nil
	}
	now := s.clock.Now()
	// Buffered for every chunk of a page: the reader never waits for the
	// writer, so neither can hold the other up (nor the store's lock).
	chunks := make(chan []app.PullAccess, max(limit, 1)/recordChunk+2)
	var readFailed bool
	done := make(chan error, 1)
	go func() {
		_, err := s.recordPulled(ctx, holder, func(yield func([]app.PullAccess) error) error {
			for c := range chunks {
				if err := yield(c); err != nil {
					for range chunks { // drain: the reader never blocks anyway
					}
					return err
				}
			}
			if readFailed { // set before the close that ended the loop
				return errPageNotRead
			}
			return nil
		})
		done <- err
	}()
	sent := func(threads []app.PulledThread) { chunks <- scope.PullAccesses(now, threads) }
	out, next, more, err := s.changesSinceTo(ctx, after, limit, scope, raw, sent)
	readFailed = err != nil
	close(chunks)
	if err == nil && prepare != nil {
		err = prepare(out, next, more)
	}
	if rerr := <-done; err == nil && rerr != nil {
		err = fmt.Errorf("record pull: %w", rerr)
	}
	if err != nil {
		return nil, after, false, err
	}
	return out, next, more, nil
}

// recordChunk is how many cases RecordChangesSince hands the writer at a
// time.
const recordChunk = 250

var errPageNotRead = errors.New("the page was not read: nothing recorded")

func (s *Store) changesSince(ctx context.Context, after uint64, limit int, scope *app.PullScope, raw bool) (*app.SyncChanges, uint64, bool, error) {
	return s.changesSinceTo(ctx, after, limit, scope, raw, nil)
}

// changesSinceTo reads a page; sent, when set, gets the page's threads a
// chunk at a time as they are read (the last chunk after the read).
func (s *Store) changesSinceTo(ctx context.Context, after uint64, limit int, scope *app.PullScope, raw bool, sent func([]app.PulledThread)) (*app.SyncChanges, uint64, bool, error) {
	if limit <= 0 {
		limit = 500
	}
	out := &app.SyncChanges{}
	next, more := after, false
	flushed := 0
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		p := pager{s: s, tx: tx, out: out, scope: scope, residents: map[app.ID]bool{}, raw: raw}
		if sent != nil {
			p.sent = func() {
				// Threads are never changed once appended, and the
				// writer reads none: it gets its own entries.
				if len(out.Threads)-flushed >= recordChunk {
					sent(out.Threads[flushed:])
					flushed = len(out.Threads)
				}
			}
		}
		if after > 0 {
			// What this device was sent (RecordPulled), to withdraw from.
			p.held = tx.Bucket(bPullLogged)
		}
		c := tx.Bucket(bChanges).Cursor()
		scanned := 0
		for key, v := c.Seek(seqKey(after + 1)); key != nil; key, v = c.Next() {
			if p.n >= limit || scanned >= 20*limit {
				more = true
				return nil
			}
			scanned++
			next = binary.BigEndian.Uint64(key)
			kind, clinic, id, ok := feedEntry(v)
			if !ok {
				return fmt.Errorf("change %d: %w", next, ErrCorruptValue)
			}
			if err := p.add(kind, clinic, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, after, false, fmt.Errorf("changes since %d: %w", after, err)
	}
	if sent != nil && len(out.Threads) > flushed {
		sent(out.Threads[flushed:])
	}
	return out, next, more, nil
}

// pager collects the records of one page, each resident once, as the
// scope allows.
type pager struct {
	s         *Store
	tx        *bolt.Tx
	out       *app.SyncChanges
	scope     *app.PullScope
	residents map[app.ID]bool
	n         int
	raw       bool
	// held is the server's memory of the cases it sent to devices, on a
	// page after a cursor (nil: no withdrawals, as on a first sync).
	held *bolt.Bucket
	// sent, when set, is told of each case added (RecordChangesSince).
	sent func()
}

func (p *pager) add(kind byte, clinic, id app.ID) error {
	switch kind {
	case feedCase:
		return p.addCase(clinic, id)
	case feedResident:
		return p.resident(id, false)
	case feedStaff:
		var st app.Staff
		if err := p.s.get(p.tx, bStaff, string(id), &st); err != nil {
			return err
		}
		rec, ok := p.scope.StaffRecord(&st)
		if !ok {
			return nil
		}
		p.out.Staff = append(p.out.Staff, rec)
	case feedClinic:
		if !p.scope.Clinic(id) {
			return nil
		}
		var c app.Clinic
		if err := p.s.get(p.tx, bClinics, string(id), &c); err != nil {
			return err
		}
		p.out.Clinics = append(p.out.Clinics, c)
	case feedTemplate:
		if !p.scope.Template(clinic) {
			return nil
		}
		var t app.MessageTemplate
		if err := p.s.get(p.tx, bTemplates, string(id), &t); err != nil {
			return err
		}
		p.out.Templates = append(p.out.Templates, t)
	case feedEService:
		if !p.scope.EService(clinic) {
			return nil
		}
		var e app.EService
		if err := p.s.get(p.tx, bEServices, string(id), &e); err != nil {
			return err
		}
		p.out.EServices = append(p.out.EServices, e)
	case feedForm:
		// The series goes with its e-service: the clinic it has now.
		if c := p.s.formClinic(p.tx, string(id)); c != "" {
			clinic = c
		}
		if !p.scope.EService(clinic) {
			return nil
		}
		return p.addFormSeries(id)
	default:
		return nil
	}
	p.n++
	return nil
}

// addCase adds a case the scope lets the staff member see, with the
// resident it needs; of a case they may not see, an incremental page
// carries its withdrawal (app.PullScope.Withdraw) when its content was
// sent to this device before, nothing more. The
// header's key fields decide (app.DecodeCaseKeys): a case not sent is
// never read further.
func (p *pager) addCase(clinic, id app.ID) error {
	if !p.scope.CaseClinic(clinic) {
		return nil
	}
	hdr, c, err := p.s.caseKeys(p.tx, id)
	if err != nil {
		return err
	}
	if !p.scope.Case(&c) {
		if p.scope.Withdraw(&c) && p.wasSent(c.ID) {
			p.out.Withdrawn = append(p.out.Withdrawn, app.Withdrawn(&c))
			p.n++
		}
		return nil
	}
	var pt *app.PulledThread
	if p.raw {
		pt, err = p.s.rawThread(p.tx, hdr, &c)
	} else {
		pt, err = p.s.pulledThread(p.tx, id)
	}
	if err != nil {
		return err
	}
	p.out.Threads = append(p.out.Threads, *pt)
	p.n++
	if p.sent != nil {
		p.sent()
	}
	return p.resident(pt.Case.ResidentID, true)
}

// wasSent reports whether the content of case id was sent to the page's
// device before (a page after a cursor).
func (p *pager) wasSent(id app.ID) bool {
	if p.held == nil {
		return false
	}
	return p.held.Get(pullLoggedKey(p.scope.Holder(), id)) != nil
}

// resident adds a resident (and a child's guardians) once per page: always
// when a case of the page needs it, otherwise only when the resident has
// a case the staff member may see (desktops never hold the population).
func (p *pager) resident(id app.ID, needed bool) error {
	if p.residents[id] {
		return nil
	}
	if !needed && !p.hasCaseHere(id) {
		return nil
	}
	var r app.Resident
	if err := p.s.get(p.tx, bResidents, string(id), &r); err != nil {
		return err
	}
	p.residents[id] = true
	for _, g := range r.Guardians {
		if err := p.resident(g.GuardianID, true); err != nil && !isNotFound(err) {
			return err
		}
	}
	app.RedactForStaff(&r)
	p.out.Residents = append(p.out.Residents, r)
	p.n++
	return nil
}

// hasCaseHere reports whether the resident has a case the staff member
// may see (its header's key fields decide).
func (p *pager) hasCaseHere(resident app.ID) bool {
	if !p.scope.CaseRoles() {
		return false
	}
	prefix := []byte(resident)
	c := p.tx.Bucket(bIdxResident).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		_, cs, err := p.s.caseKeys(p.tx, app.ID(k[len(prefix):]))
		if err == nil && p.scope.Case(&cs) {
			return true
		}
	}
	return false
}

// caseKeys reads case id's header as stored (its JSON) and its key fields
// (app.DecodeCaseKeys), not the rest.
func (s *Store) caseKeys(tx *bolt.Tx, id app.ID) ([]byte, app.Case, error) {
	var c app.Case
	hk := headerKey(id)
	data := tx.Bucket(bCaseItems).Get(hk)
	if data == nil {
		return nil, c, fmt.Errorf("case %s: %w", id, app.ErrNotFound)
	}
	hdr, err := openJSON(s.c(bCaseItems), bCaseItems, hk, data)
	if err != nil {
		return nil, c, err
	}
	if err := app.DecodeCaseKeys(hdr, &c); err != nil {
		return nil, c, fmt.Errorf("case %s: %w: %w", id, ErrCorruptValue, err)
	}
	return hdr, c, nil
}

// pulledThread reads a thread with its notifications, addresses left out.
func (s *Store) pulledThread(tx *bolt.Tx, id app.ID) (*app.PulledThread, error) {
	t, err := s.readThread(tx, id)
	if err != nil {
		return nil, err
	}
	pt := &app.PulledThread{Thread: *t, Seq: feedSeq(tx, id)}
	if err := s.pulledNotifications(tx, pt); err != nil {
		return nil, err
	}
	return pt, nil
}

// pulledNotifications adds the notifications of pt's case, addresses
// left out.
func (s *Store) pulledNotifications(tx *bolt.Tx, pt *app.PulledThread) error {
	prefix := join(string(pt.Case.ID), "")
	c := tx.Bucket(bIdxOutboxCase).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		var n app.Notification
		if err := s.get(tx, bOutbox, string(k[len(prefix):]), &n); err != nil {
			return err
		}
		n.Address = app.Hidden
		pt.Notifications = append(pt.Notifications, n)
	}
	return nil
}

// feedSeq is the feed position of case id's latest change (0 when the
// feed is off). A connected desktop keeps the same key in change_keys:
// the position of the server's state it holds (putPulledThread).
func feedSeq(tx *bolt.Tx, id app.ID) uint64 {
	if v := tx.Bucket(bChangeKeys).Get(caseSeqKey(id)); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func caseSeqKey(id app.ID) []byte { return append([]byte{feedCase}, id...) }

// pulledThreadRaw is pulledThread with the header and items as stored.
func (s *Store) pulledThreadRaw(tx *bolt.Tx, id app.ID) (*app.PulledThread, error) {
	hdr, c, err := s.caseKeys(tx, id)
	if err != nil {
		return nil, err
	}
	return s.rawThread(tx, hdr, &c)
}

// rawThread is pulledThreadRaw of a header already read (caseKeys).
func (s *Store) rawThread(tx *bolt.Tx, hdr []byte, c *app.Case) (*app.PulledThread, error) {
	id := c.ID
	pt := &app.PulledThread{Seq: feedSeq(tx, id), RawHeader: hdr}
	pt.Case = *c
	cur := tx.Bucket(bCaseItems).Cursor()
	prefix := []byte(id)
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) > len(prefix); k, v = cur.Next() {
		if kind := k[len(prefix)]; kind != itemMessage && kind != itemNote {
			continue
		}
		j, err := openJSON(s.c(bCaseItems), bCaseItems, k, v)
		if err != nil {
			return nil, err
		}
		pt.RawItems = append(pt.RawItems, app.RawItem{Key: append([]byte(nil), k[len(prefix):]...), JSON: j})
	}
	if err := s.pulledNotifications(tx, pt); err != nil {
		return nil, err
	}
	return pt, nil
}

// PulledThreads reads the current state of cases for a push's answer;
// ids the server does not hold come back in Gone.
func (s *Store) PulledThreads(ctx context.Context, ids []app.ID) (*app.SyncChanges, error) {
	return s.pulledThreads(ctx, ids, s.pulledThread)
}

// PulledThreadsRaw is PulledThreads with headers and items as stored.
func (s *Store) PulledThreadsRaw(ctx context.Context, ids []app.ID) (*app.SyncChanges, error) {
	return s.pulledThreads(ctx, ids, s.pulledThreadRaw)
}

// PushState reads the current state of the cases a push's ops concerned
// (raw: as stored, for the binary answer), only those the staff member of
// scope may see: a case they may not see is neither sent nor reported
// (a case the server does not hold is reported Gone). When after is a
// cursor of the desktop (> 0), it looks at the feed after it in the same
// transaction: when every entry there is one of the cases sent or a case
// of a clinic where the staff member holds no case role (the pull would
// carry nothing of it), the answer carries From and To
// (app.SyncChanges), the cursor the desktop may move to. A feed with
// anything else after the cursor (another case of its clinics — also one
// to withdraw —, a resident, a template, …), or more than a few entries,
// is left to the pull.
func (s *Store) PushState(ctx context.Context, ids []app.ID, raw bool, after uint64, scope *app.PullScope) (*app.SyncChanges, error) {
	var out *app.SyncChanges
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		out = &app.SyncChanges{}
		want := make(map[string]bool, len(ids))
		for _, id := range ids {
			hdr, c, err := s.caseKeys(tx, id)
			if isNotFound(err) {
				out.Gone = append(out.Gone, id)
				continue
			}
			if err != nil {
				return err
			}
			if !scope.Case(&c) {
				continue
			}
			var pt *app.PulledThread
			if raw {
				pt, err = s.rawThread(tx, hdr, &c)
			} else {
				pt, err = s.pulledThread(tx, id)
			}
			if err != nil {
				return err
			}
			out.Threads = append(out.Threads, *pt)
			want[string(id)] = true
		}
		if after == 0 {
			return nil
		}
		cur := tx.Bucket(bChanges).Cursor()
		last, n := after, 0
		for key, v := cur.Seek(seqKey(after + 1)); key != nil; key, v = cur.Next() {
			if n++; n > 4*len(ids)+16 {
				return nil
			}
			kind, clinic, id, ok := feedEntry(v)
			if !ok || kind != feedCase || (scope.CaseClinic(clinic) && !want[string(id)]) {
				return nil
			}
			last = binary.BigEndian.Uint64(key)
		}
		if last > after {
			out.From, out.To = FormatCursor(after), FormatCursor(last)
		}
		return nil
	})
	return out, err
}

func (s *Store) pulledThreads(ctx context.Context, ids []app.ID, read func(*bolt.Tx, app.ID) (*app.PulledThread, error)) (*app.SyncChanges, error) {
	var out *app.SyncChanges
	err := s.viewC(ctx, func(tx *bolt.Tx) (err error) { out, err = s.pulledThreadsTx(tx, ids, read); return err })
	return out, err
}

func (s *Store) pulledThreadsTx(tx *bolt.Tx, ids []app.ID, read func(*bolt.Tx, app.ID) (*app.PulledThread, error)) (*app.SyncChanges, error) {
	out := &app.SyncChanges{}
	err := func() error {
		for _, id := range ids {
			pt, err := read(tx, id)
			if isNotFound(err) {
				out.Gone = append(out.Gone, id)
				continue
			}
			if err != nil {
				return err
			}
			out.Threads = append(out.Threads, *pt)
		}
		return nil
	}()
	return out, err
}

// StreamRecords writes the records a cold sync carries — case items
// (headers, messages, notes), residents and notifications — as stored,
// with no protocol: per record the bucket's number (0, 1, 2 in that
// order), then the key and the value, each with a uvarint length. It is
// the raw baseline of the cold-sync benchmark (sync/bench_test.go).
func (s *Store) StreamRecords(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		var hdr [1 + 2*binary.MaxVarintLen64]byte
		for i, name := range RawBuckets {
			err := tx.Bucket(name).ForEach(func(k, v []byte) error {
				hdr[0] = byte(i)
				n := 1 + binary.PutUvarint(hdr[1:], uint64(len(k)))
				n += binary.PutUvarint(hdr[n:], uint64(len(v)))
				if _, err := bw.Write(hdr[:n]); err != nil {
					return err
				}
				if _, err := bw.Write(k); err != nil {
					return err
				}
				_, err := bw.Write(v)
				return err
			})
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// RawBuckets are the buckets StreamRecords writes, by number.
var RawBuckets = [][]byte{bCaseItems, bResidents, bOutbox}
