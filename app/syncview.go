package app

import (
	"context"
	"encoding/json"
	"fmt"
)

// What a connected desktop's list of changes (Ändringar) shows of an op:
// whose it is, the case it concerns, and, for a refused new case or
// reply, the text itself, so that nothing written is lost when the
// server refuses it (docs/sync.md, Desktop view of sync).

// Maker is the staff member who made the op: By, or for an op queued
// before By was recorded, the author its payload names (the creator of
// a new case, the author of a reply, the writer of a note, the staff
// member of an access entry); "" when neither tells (a status, assignee
// or read op of that time).
func (op *SyncOp) Maker() ID {
	if op.By != "" {
		return op.By
	}
	switch op.Kind {
	case OpCaseCreate:
		var t Thread
		if json.Unmarshal(op.Payload, &t) == nil {
			return t.Case.CreatorID
		}
	case OpCaseMessage:
		var m Message
		if json.Unmarshal(op.Payload, &m) == nil && m.Author == AuthorStaff {
			return m.AuthorID
		}
	case OpCaseNote:
		var n Note
		if json.Unmarshal(op.Payload, &n) == nil {
			return n.StaffID
		}
	case OpAccessRecord:
		var e AccessEntry
		if json.Unmarshal(op.Payload, &e) == nil {
			return e.StaffID
		}
	}
	return ""
}

// MadeBy reports whether staff member st made the op. An op whose maker
// is unknown (Maker "") counts as everyone's: it was queued before the
// desktop recorded makers, and hiding it would lose it.
func (op *SyncOp) MadeBy(st ID) bool {
	m := op.Maker()
	return m == "" || m == st
}

// OpCase is what the list of changes shows of one op's case.
type OpCase struct {
	// Named: the row may name the case (Row's subject and resident). Only
	// for the maker's own op, or a case the staff member may see
	// (CaseVisible).
	Named bool
	// Row is the case as a list row: the case's header as this desktop
	// holds it (for a new case the server refused: as it was sent), the
	// resident's name and personnummer.
	Row CaseRow
	// Exists: the case is on this desktop and the staff member may open
	// it (Öppna ärendet).
	Exists bool
	// Text is the text of a new case or reply the staff member made
	// themselves (the kept text of a refused one); "" otherwise.
	Text string
	// Address is the resident's address for a letter; nil with protected
	// personal data (R9), which is never shown to staff.
	Address *Address
}

// OpCases describes ops for the list of changes of staff member sess,
// one OpCase per op in order. It writes no access-log entry: like a case
// list it shows who and what a case is about, and the text it shows is
// the staff member's own, never delivered. An op of another staff
// member is named only when sess may see its case, and never shows text.
func (s *CaseService) OpCases(ctx context.Context, sess Session, ops []SyncOp) ([]OpCase, error) {
	out := make([]OpCase, len(ops))
	var residents []ID
	for i := range ops {
		op, o := &ops[i], &out[i]
		mine := op.Maker() == sess.Staff.ID
		var sent *Thread // a new case as it was sent
		if op.Kind == OpCaseCreate {
			var t Thread
			if json.Unmarshal(op.Payload, &t) == nil {
				sent = &t
				if mine && len(t.Messages) > 0 {
					o.Text = t.Messages[0].Text
				}
			}
		}
		if op.Kind == OpCaseMessage && mine {
			var m Message
			if json.Unmarshal(op.Payload, &m) == nil {
				o.Text = m.Text
			}
		}
		if op.CaseID == "" {
			continue
		}
		c, err := s.store.Case(ctx, op.CaseID)
		switch {
		case err == nil && CaseVisible(sess.Staff, c):
			o.Named, o.Exists, o.Row.Case = true, true, *c
		case err != nil && !IsNotFound(err):
			return nil, fmt.Errorf("describe op %s of case %s: %w", op.ID, op.CaseID, err)
		case mine && sent != nil:
			o.Named, o.Row.Case = true, sent.Case
		}
		if !o.Named {
			continue
		}
		residents = append(residents, o.Row.ResidentID)
	}
	if len(residents) == 0 {
		return out, nil
	}
	rs, err := s.store.ResidentsByID(ctx, residents)
	if err != nil {
		return nil, fmt.Errorf("describe ops: residents: %w", err)
	}
	for i := range out {
		o := &out[i]
		r := rs[o.Row.ResidentID]
		if !o.Named || r == nil {
			continue
		}
		o.Row.ResidentName, o.Row.PNR, o.Row.ReserveNumber = r.Register.FullName(), r.PNR, r.ReserveNumber
		if !r.Register.ProtectedIdentity {
			a := r.Register.Address
			o.Address = &a
		}
	}
	return out, nil
}
