package storage

import (
	"bytes"
	"context"
	"errors"
	"sort"

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

// SyncCursor is the pull cursor of a connected desktop ("" at the start).
func (s *Store) SyncCursor() (c string) {
	_ = s.view(func(tx *bolt.Tx) error { c = string(tx.Bucket(bMeta).Get(kSyncCursor)); return nil })
	return c
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
	return s.update("set sync server", func(tx *bolt.Tx) error {
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

// SyncToken is the stored refresh token ("" when none); sealed.
func (s *Store) SyncToken(ctx context.Context) (string, error) {
	var tok string
	err := s.view(func(tx *bolt.Tx) error { return s.get(tx, bSyncState, "refresh", &tok) })
	if isNotFound(err) {
		return "", nil
	}
	return tok, err
}

// SetSyncToken stores the refresh token ("" removes it).
func (s *Store) SetSyncToken(ctx context.Context, tok string) error {
	return s.update("set sync token", func(tx *bolt.Tx) error {
		if tok == "" {
			return tx.Bucket(bSyncState).Delete([]byte("refresh"))
		}
		return s.put(tx, bSyncState, "refresh", tok)
	})
}

// UpdateFromServer applies a pulled page and stores cursor with it, in one
// transaction, without queueing anything. A case with ops still pending
// is left as it is here: the answer to its ops brings its state.
func (s *Store) UpdateFromServer(ctx context.Context, ch *app.SyncChanges, cursor string) error {
	return s.update("apply pulled changes", func(tx *bolt.Tx) error {
		if !connected(tx) {
			return ErrNotConnected
		}
		if err := s.applyChanges(tx, ch); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put(kSyncCursor, []byte(cursor))
	})
}

// DropAnsweredOps stores the server's answers to pushed ops: the answered
// ops leave the queue, the rejected and conflicting ones are kept as
// SyncProblems, and the server's state of their cases (ch) is applied —
// all in one transaction, so an answer is never half taken.
func (s *Store) DropAnsweredOps(ctx context.Context, results []app.OpResult, ch *app.SyncChanges) error {
	byID := make(map[string]*app.OpResult, len(results))
	for i := range results {
		byID[results[i].ID] = &results[i]
	}
	return s.update("store op results", func(tx *bolt.Tx) error {
		if !connected(tx) {
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
		return s.applyChanges(tx, ch)
	})
}

// SyncProblems lists the rejected and conflicting ops, oldest first.
func (s *Store) SyncProblems(ctx context.Context) ([]app.SyncProblem, error) {
	out, err := all[app.SyncProblem](s, bSyncResult, nil)
	sort.Slice(out, func(i, j int) bool { return out[i].Op.Seq < out[j].Op.Seq })
	return out, err
}

// DeleteSyncProblem removes a problem staff have dismissed.
func (s *Store) DeleteSyncProblem(ctx context.Context, opID string) error {
	return s.update("dismiss sync problem", func(tx *bolt.Tx) error { return tx.Bucket(bSyncResult).Delete([]byte(opID)) })
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

func (s *Store) applyChanges(tx *bolt.Tx, ch *app.SyncChanges) error {
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
	if len(ch.Threads)+len(ch.Gone) == 0 {
		return nil
	}
	pending, err := s.pendingCases(tx)
	if err != nil {
		return err
	}
	b := bucketsOf(tx)
	for i := range ch.Threads {
		pt := &ch.Threads[i]
		if pending[pt.Case.ID] {
			continue
		}
		if err := s.putPulledThread(b, pt); err != nil {
			return err
		}
	}
	for _, id := range ch.Gone {
		if pending[id] {
			continue
		}
		if err := s.deleteThread(b, id); err != nil {
			return err
		}
	}
	return nil
}

// putPulledThread replaces the desktop's copy of a case with the server's.
func (s *Store) putPulledThread(b caseBuckets, pt *app.PulledThread) error {
	c := &pt.Case
	if err := validCase(c); err != nil {
		return err
	}
	var old app.Case
	if err := s.getCase(b.tx, c.ID, &old); err == nil {
		if err := b.deleteIndexes(&old); err != nil {
			return err
		}
		if err := s.dropLocalOnly(b, pt); err != nil {
			return err
		}
	} else if !isNotFound(err) {
		return err
	}
	if err := s.putBucket(b.items, bCaseItems, headerKey(c.ID), c); err != nil {
		return err
	}
	if err := b.putIndexes(c); err != nil {
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
		if err := validNotification(n); err != nil {
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

// dropLocalOnly removes the messages and notes of the desktop's copy of
// a case that the server's state pt lacks: items the server rejected
// (a reply refused by a rule), with their attachment bytes. The server's
// state is the case whole; a page never carries an item the desktop still
// has queued (a case with pending ops is not replaced).
func (s *Store) dropLocalOnly(b caseBuckets, pt *app.PulledThread) error {
	keep := make(map[string]bool, len(pt.Messages)+len(pt.Notes))
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
				if err := b.tx.Bucket(bAttachments).Delete([]byte(a.ID)); err != nil {
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
			if err := b.tx.Bucket(bAttachments).Delete([]byte(a.ID)); err != nil {
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
	err := s.view(func(tx *bolt.Tx) error {
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
	return s.update("put residents from server", func(tx *bolt.Tx) error {
		for i := range rs {
			if err := s.putResident(tx, &rs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}
