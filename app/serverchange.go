package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// On a connected desktop the sync engine writes the server's cases into
// the store behind the services' back: a pulled page, the server's state
// in the answer to a push (a case whose creation was rejected is removed).
// The store reports which cases each committed write changed, the engine
// passes that on to ServerChanged, and the case lists (the in-memory
// indexes of FindCases) follow. ServerChanged is also the one place that
// decides whether a pull brought a new reply for the desktop alert.

// ServerChange is what one committed sync write changed among a connected
// desktop's cases.
type ServerChange struct {
	// Cases were written or removed. Reported only after the commit.
	Cases []ID
	// All: every case may have changed (a first sync built the case
	// indexes once at its end): the lists are read anew; Cases is empty.
	All bool
	// First: the write belongs to the first pull of the staff member the
	// desktop syncs as; every case is new to the lists and none counts as
	// a new reply.
	First bool
	// Deferred is set by the store on a write of a first sync whose case
	// indexes are built only at its end: its cases are not listed, and the
	// engine reports All after that end (storage: FinishPull).
	Deferred bool
}

// ServerChanged brings the cases a sync write changed into the case lists:
// each is read again from the store and replaces its row, or leaves the
// lists when the store no longer holds it (its creation was rejected, or
// it left this desktop). Only clinics whose index is built are read;
// ch.All drops every index, to be built again at the next FindCases.
//
// It raises the reply alert (SetReplyAlert), once per clinic and call,
// with the newest case that got a reply staff have not opened: a case
// that is unread by staff and newer than its row, or has no row yet. A
// first pull (ch.First) raises none. A desktop alert for each of fifty
// replies of one page would only be noise.
func (s *CaseService) ServerChanged(ctx context.Context, ch ServerChange) error {
	s.idx.mu.Lock()
	if ch.All {
		s.idx.clinics = nil
		s.idx.mu.Unlock()
		return nil
	}
	xs := make([]*clinicIndex, 0, len(s.idx.clinics))
	for _, x := range s.idx.clinics {
		xs = append(xs, x)
	}
	alert := s.idx.alert
	s.idx.mu.Unlock()
	if len(xs) == 0 || len(ch.Cases) == 0 {
		return nil
	}
	byClinic := map[ID][]*Case{}
	var gone []ID
	var errs []error
	for _, id := range ch.Cases {
		c, err := s.store.Case(ctx, id)
		switch {
		case IsNotFound(err):
			gone = append(gone, id)
		case err != nil:
			errs = append(errs, fmt.Errorf("server changed case %s: %w", id, err))
		default:
			byClinic[c.ClinicID] = append(byClinic[c.ClinicID], c)
		}
	}
	for _, x := range xs {
		select {
		case <-x.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if x.err != nil {
			continue // built again at the next FindCases
		}
		cs := byClinic[x.clinic]
		if len(cs) == 0 && len(gone) == 0 {
			continue
		}
		if err := s.indexResidents(ctx, x, cs); err != nil {
			errs = append(errs, err)
		}
		x.mu.Lock()
		var reply *Case
		for _, c := range cs {
			if !ch.First && newReply(x.byID[c.ID], c) && (reply == nil || c.LastActivity.After(reply.LastActivity)) {
				reply = c
			}
		}
		x.replace(cs, gone)
		x.mu.Unlock()
		if reply != nil && alert != nil {
			alert(*reply)
		}
	}
	return errors.Join(errs...)
}

// newReply: c, as the server has it now, has a reply staff have not
// opened that the list's row (nil: none) did not show.
func newReply(row *indexRow, c *Case) bool {
	return c.UnreadByStaff && (row == nil || !row.unread || c.LastActivity.UnixMilli() > row.last)
}

// indexResidents adds the residents of cs the index does not know yet,
// read in one go.
func (s *CaseService) indexResidents(ctx context.Context, x *clinicIndex, cs []*Case) error {
	x.mu.RLock()
	var need []ID
	for _, c := range cs {
		if _, ok := x.residents[c.ResidentID]; !ok && !slices.Contains(need, c.ResidentID) {
			need = append(need, c.ResidentID)
		}
	}
	x.mu.RUnlock()
	if len(need) == 0 {
		return nil
	}
	rs, err := s.store.ResidentsByID(ctx, need)
	if err != nil {
		return fmt.Errorf("server changed cases of clinic %s: residents: %w", x.clinic, err)
	}
	x.mu.Lock()
	for id, r := range rs {
		x.residents[id] = newIndexResident(r)
	}
	x.mu.Unlock()
	return nil
}

// replace puts the headers cs in their places and removes the rows of
// gone; x.mu must be held for writing. A few rows move one by one; many
// (a page of a catch-up sync) are merged in one pass over the index
// instead of one shift of it per row.
func (x *clinicIndex) replace(cs []*Case, gone []ID) {
	if len(cs)+len(gone) <= 16 {
		for _, id := range gone {
			x.remove(id)
		}
		for _, c := range cs {
			x.put(c)
		}
		return
	}
	out := make(map[ID]bool, len(cs)+len(gone))
	for _, id := range gone {
		out[id] = true
		delete(x.byID, id)
	}
	rows := make([]*indexRow, 0, len(cs))
	for _, c := range cs {
		out[c.ID] = true
		r := x.newRow(c)
		rows = append(rows, r)
		x.byID[c.ID] = r
	}
	// A case reported twice keeps its last header.
	rows = slices.DeleteFunc(rows, func(r *indexRow) bool { return x.byID[r.id] != r })
	slices.SortFunc(rows, before)
	kept := make([]*indexRow, 0, len(x.rows)+len(rows))
	i := 0
	for _, r := range x.rows {
		if out[r.id] {
			continue
		}
		for i < len(rows) && before(rows[i], r) < 0 {
			kept = append(kept, rows[i])
			i++
		}
		kept = append(kept, r)
	}
	x.rows = append(kept, rows[i:]...)
}

// remove takes a case's row out of the index; x.mu must be held for
// writing.
func (x *clinicIndex) remove(id ID) {
	old := x.byID[id]
	if old == nil {
		return
	}
	if i, ok := slices.BinarySearchFunc(x.rows, old, before); ok {
		x.rows = slices.Delete(x.rows, i, i+1)
	}
	delete(x.byID, id)
}
