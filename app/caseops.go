package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// One way to write a case (docs/architecture.md). Every change of a case
// is an op (SyncOp) that the app makes explicitly, and one function per
// op kind applies it: the same function serves the staff tool's use case
// (Reply, AddNote, Assign, Close, Reopen, opening a case, Skicka ärende),
// the staff API on the server (which calls those use cases) and the
// server's replay of an op a connected desktop made, perhaps offline. The
// store records the op with the write (Write): a connected desktop queues
// it for the server, the server remembers the replayed op as applied.
//
// How an op is applied differs between "made here, now" (local) and
// "replayed from a desktop" (replay) in these ways, and only these:
//
//   - Times: a local op happens now; a replayed op keeps the desktop's
//     times, never later than the server's clock (a wrong desktop clock
//     must not put its case first in every list for years).
//   - A replayed op whose change is there already writes nothing and
//     answers applied (its id was forgotten, or a copy came first).
//   - A replayed status or assignee change made on a version older than
//     the field's last change loses and answers conflict with the
//     server's value, unless the same device made that change
//     (docs/sync.md, Conflicts). A local change is made on the current
//     version and never conflicts.
//   - A reply made now on a closed case is refused (reopen it first); a
//     reply written offline lands on a case closed meanwhile (messages
//     never conflict) and makes an answerable case active again.
//   - Attachment bytes: made locally, they are written in the message's
//     transaction; replayed, they come with their own attachment.put op
//     after the message (chunks, docs/sync.md).
//   - The write records the op: local, queued for the server (on a
//     connected desktop); replayed, its id marked applied and the status
//     or assignee credited to the device (as a DeviceTag).
//
// Roles and rules are the same both ways: CaseVisible decides who may
// touch a case, only an ärendemottagare assigns, the reachability rules
// (R1, R5, R7, R10, age) decide a new case on the data as it is when the
// op is applied, and every text goes through CheckLine/CheckMultiline.

// how says whether an op is applied as made here and now or replayed
// from a desktop's queue.
type how struct {
	replay bool
	// device made the replayed op.
	device ID
}

var local = how{}

func replayBy(device ID) how { return how{replay: true, device: device} }

// write is what the store records with the op's write: the op (and the
// attachment ops that follow it) queued as made by staff member by, or
// the replayed op's id.
func (h how) write(op *SyncOp, more []SyncOp, by ID) Write {
	if h.replay {
		return Write{Applies: op.ID, Device: h.device}
	}
	op.By = by
	q := append([]SyncOp{*op}, more...)
	for i := range q {
		q[i].By = by
	}
	return Write{Queue: q}
}

// at is when a change happened: now for a local op; for a replayed one
// the desktop's time, but never later than now.
func (h how) at(t, now time.Time) time.Time {
	if !h.replay {
		return now
	}
	return clamp(t, now)
}

// sameDevice: the field's last change (a DeviceTag, or a device id in
// headers written before tags) was made by this op's device.
func (h how) sameDevice(by ID) bool {
	return h.device != "" && (by == DeviceTag(h.device) || by == h.device)
}

// clamp keeps a desktop's time out of the future.
func clamp(t, now time.Time) time.Time {
	if t.IsZero() || t.After(now) {
		return now
	}
	return t
}

// newOp makes the op of a change made here and now.
func newOp(kind OpKind, caseID ID, base uint64, payload any, now time.Time) *SyncOp {
	op := &SyncOp{ID: NewOpID(), Kind: kind, CaseID: caseID, Base: base, MadeAt: now}
	if payload != nil {
		data, err := json.Marshal(payload)
		if err != nil {
			panic("app: marshal op payload: " + err.Error()) // our own types always marshal
		}
		op.Payload = data
	}
	return op
}

var errUnsupported = errors.New("unsupported op")

// ErrBadPayload: an op's payload does not decode as its kind's.
var ErrBadPayload = fmt.Errorf("op payload: %w", ErrInvalid)

func decodePayload(op *SyncOp, v any) error {
	if err := json.Unmarshal(op.Payload, v); err != nil {
		return fmt.Errorf("op %s: %w", op.ID, ErrBadPayload)
	}
	return nil
}

// errAlready ends an UpdateThread without writing: the op's change is
// there already (or lost a conflict, which writes nothing either).
var errAlready = errors.New("nothing to change")

// caseChange is the preparation of one op on an existing case: what it
// needs from outside the case (read before the case's transaction) and
// the change itself, run in it.
type caseChange func(t *Thread) error

// caseOp applies op, which changes an existing case, as sess: the one
// function behind every such change, local or replayed (see how). A
// replayed op's session is the case's clinic. blobs are the bytes of the
// attachments a local reply carries, more the attachment ops queued with
// it. A refusal is an error; a replayed op that lost a conflict is a
// result with Outcome OpConflict.
func (s *CaseService) caseOp(ctx context.Context, sess Session, op *SyncOp, h how, blobs map[ID][]byte, more []SyncOp) (OpResult, error) {
	now := s.clock.Now()
	c, err := s.store.Case(ctx, op.CaseID)
	if err != nil {
		return OpResult{}, fmt.Errorf("op %s on case %s: %w", op.Kind, op.CaseID, err)
	}
	if h.replay {
		sess.ClinicID = c.ClinicID
	}
	if !mayHandle(sess, c) {
		return OpResult{}, forbid(string(op.Kind)+" on case", c.ID)
	}
	st := sess.Staff
	var res OpResult
	var change caseChange
	switch op.Kind {
	case OpCaseMessage:
		change, err = s.messageChange(ctx, st, c, op, h, blobs, now)
	case OpCaseNote:
		change, err = noteChange(st, c, op, h, now)
	case OpCaseStatus:
		change, err = statusChange(c, op, h, &res, now)
	case OpCaseAssign:
		change, err = s.assignChange(ctx, st, c, op, h, &res)
	case OpCaseRead:
		change = readChange(op, h, now)
	default:
		err = fmt.Errorf("op %s: kind %q on a case: %w", op.ID, op.Kind, errUnsupported)
	}
	if err != nil {
		return OpResult{}, err
	}
	var hdr Case
	err = s.store.UpdateThread(ctx, c.ID, h.write(op, more, sess.Staff.ID), func(t *Thread) error {
		// The case may have changed since it was read (reassigned).
		if !mayHandle(sess, &t.Case) {
			return forbid(string(op.Kind)+" on case", c.ID)
		}
		if err := change(t); err != nil {
			return err
		}
		hdr = t.Case
		return nil
	})
	switch {
	case errors.Is(err, errAlready):
		cur, err := s.store.Case(ctx, c.ID)
		if err != nil {
			return OpResult{}, err
		}
		res.Version = cur.Version
		return res, nil
	case err != nil:
		return OpResult{}, fmt.Errorf("op %s on case %s: %w", op.Kind, c.ID, err)
	}
	s.indexCase(ctx, &hdr)
	return OpResult{Version: hdr.Version}, nil
}

// messageChange: a staff reply. Whether the resident can receive it and
// who is notified are decided on the resident as they are now (read
// before the case's transaction; the case's own transaction writes the
// reply and its notifications together). A reply is a message to the
// resident's inbox as much as Skicka ärende's first one, so it is refused
// for the same reasons (Reach: R1, R5, R7, R10, deceased): a reply to a
// resident who locked their login would land in an inbox nobody can open,
// with nobody notified. Made here or replayed, the same; a note is not a
// message to the resident and stays allowed.
func (s *CaseService) messageChange(ctx context.Context, st *Staff, c *Case, op *SyncOp, h how, blobs map[ID][]byte, now time.Time) (caseChange, error) {
	var m Message
	if err := decodePayload(op, &m); err != nil {
		return nil, err
	}
	if m.ID == "" || m.Author != AuthorStaff || m.AuthorID != st.ID {
		return nil, fmt.Errorf("message on case %s: %w", c.ID, ErrInvalid)
	}
	if err := checkBody(m.Text); err != nil {
		return nil, fmt.Errorf("message on case %s: %w", c.ID, err)
	}
	if len(m.Attachments) > MaxAttachmentsPerMessage {
		return nil, ErrTooManyAttachments
	}
	for _, a := range m.Attachments {
		if err := a.checkDescription(); err != nil {
			return nil, fmt.Errorf("message on case %s: %w", c.ID, err)
		}
	}
	reach, err := s.reachOf(ctx, c.ResidentID, now)
	if err != nil {
		return nil, fmt.Errorf("message on case %s: %w", c.ID, err)
	}
	return func(t *Thread) error {
		for _, x := range t.Messages {
			if x.ID == m.ID {
				return errAlready
			}
		}
		// After the repeat check: a replayed reply applied before the
		// resident locked the login is still answered as applied.
		if !reach.OK() {
			return &UnreachableError{ResidentID: c.ResidentID, Reasons: reach.Blocking}
		}
		if !h.replay && t.Case.Status == StatusClosed {
			return fmt.Errorf("case is closed: %w", ErrConflict)
		}
		msg := Message{ID: m.ID, CaseID: c.ID, Author: AuthorStaff, AuthorID: st.ID, At: h.at(m.At, now), Text: m.Text, Attachments: m.Attachments}
		t.Messages = append(t.Messages, msg)
		t.Blobs = blobs
		t.Outbox = notificationsFor(t, &t.Messages[len(t.Messages)-1], reach.Notify, now)
		t.Case.LastActivity = now
		if t.Case.Answerable() {
			t.Case.Status, t.Case.ClosedAt = StatusWaiting, time.Time{}
		} else if t.Case.Status == StatusClosed {
			t.Case.ClosedAt = now
		}
		if t.Case.AssigneeID == "" {
			t.Case.AssigneeID = st.ID
		}
		return nil
	}, nil
}

// noteChange: an internal note; residents never see notes.
func noteChange(st *Staff, c *Case, op *SyncOp, h how, now time.Time) (caseChange, error) {
	var n Note
	if err := decodePayload(op, &n); err != nil {
		return nil, err
	}
	if n.ID == "" || n.StaffID != st.ID {
		return nil, fmt.Errorf("note on case %s: %w", c.ID, ErrInvalid)
	}
	if err := checkBody(n.Text); err != nil {
		return nil, fmt.Errorf("note on case %s: %w", c.ID, err)
	}
	return func(t *Thread) error {
		for _, x := range t.Notes {
			if x.ID == n.ID {
				return errAlready
			}
		}
		t.Notes = append(t.Notes, Note{ID: n.ID, CaseID: c.ID, StaffID: st.ID, At: h.at(n.At, now), Text: n.Text})
		return nil
	}, nil
}

// statusChange: close, or reopen (Status Pågående; an unassigned case
// reopens as Ny). Reopening needs a closed case.
func statusChange(c *Case, op *SyncOp, h how, res *OpResult, now time.Time) (caseChange, error) {
	var sc StatusChange
	if err := decodePayload(op, &sc); err != nil {
		return nil, err
	}
	if !sc.Status.Valid() {
		return nil, fmt.Errorf("status of case %s: %w", c.ID, ErrInvalid)
	}
	return func(t *Thread) error {
		want := sc.Status
		if want == StatusOngoing && t.Case.AssigneeID == "" {
			want = StatusNew
		}
		if !h.replay && want != StatusClosed && t.Case.Status != StatusClosed {
			return fmt.Errorf("case is not closed: %w", ErrConflict)
		}
		if t.Case.Status == want {
			return errAlready
		}
		// The deterministic rule: a change made on a version older than
		// the field's last change loses.
		if h.replay && op.Base < t.Case.StatusVersion && !h.sameDevice(t.Case.StatusBy) {
			*res = OpResult{Outcome: OpConflict, ServerStatus: t.Case.Status, ServerAssignee: t.Case.AssigneeID, Mine: op.Payload,
				Code: "conflict", Reason: "Statusen ändrades på servern innan din ändring kom fram. Serverns värde gäller."}
			return errAlready
		}
		t.Case.Status, t.Case.LastActivity, t.Case.ClosedAt = want, now, time.Time{}
		if want == StatusClosed {
			t.Case.ClosedAt = now
		}
		return nil
	}, nil
}

// assignChange: only an ärendemottagare assigns, to staff with a case
// role in the clinic; a new case becomes Pågående. (An ärendehanterare
// takes no unassigned case: they do not see one, CaseVisible.)
func (s *CaseService) assignChange(ctx context.Context, st *Staff, c *Case, op *SyncOp, h how, res *OpResult) (caseChange, error) {
	var ac AssignChange
	if err := decodePayload(op, &ac); err != nil {
		return nil, err
	}
	if !st.Has(c.ClinicID, RoleCaseReceiver) {
		return nil, forbid("assign case", c.ID)
	}
	to, err := s.store.Staff(ctx, ac.AssigneeID)
	if err != nil {
		return nil, fmt.Errorf("assign case %s: staff %s: %w", c.ID, ac.AssigneeID, err)
	}
	if !to.Has(c.ClinicID, RoleCaseHandler) && !to.Has(c.ClinicID, RoleCaseReceiver) {
		return nil, fmt.Errorf("assign case %s to staff %s: no case role in clinic: %w", c.ID, ac.AssigneeID, ErrInvalid)
	}
	return func(t *Thread) error {
		if t.Case.AssigneeID == ac.AssigneeID {
			return errAlready
		}
		if h.replay && op.Base < t.Case.AssigneeVersion && !h.sameDevice(t.Case.AssigneeBy) {
			*res = OpResult{Outcome: OpConflict, ServerStatus: t.Case.Status, ServerAssignee: t.Case.AssigneeID, Mine: op.Payload,
				Code: "conflict", Reason: "Ärendet fördelades på servern innan din ändring kom fram. Serverns värde gäller."}
			return errAlready
		}
		t.Case.AssigneeID = ac.AssigneeID
		if t.Case.Status == StatusNew {
			t.Case.Status = StatusOngoing
		}
		return nil
	}, nil
}

// readChange: staff opened the resident's reply. A reply that arrived
// after the desktop read the case stays unread.
func readChange(op *SyncOp, h how, now time.Time) caseChange {
	madeAt := h.at(op.MadeAt, now)
	return func(t *Thread) error {
		if !t.Case.UnreadByStaff {
			return errAlready
		}
		for _, m := range t.Messages {
			if m.Author != AuthorStaff && m.At.After(madeAt) {
				return errAlready
			}
		}
		t.Case.UnreadByStaff = false
		return nil
	}
}

// createOp applies a case.create op: Skicka ärende, made now (SendCase)
// or offline and replayed. The rules are decided on the data as it is
// now — a resident who locked the login meanwhile is refused with the
// reasons. logged, when set, runs after every check and before the write
// (the use case's access-log entry: no entry, no case).
func (s *CaseService) createOp(ctx context.Context, sess Session, op *SyncOp, h how, logged func(c *Case) error) (OpResult, *Case, error) {
	now := s.clock.Now()
	var in Thread
	if err := decodePayload(op, &in); err != nil {
		return OpResult{}, nil, err
	}
	c := in.Case
	if c.ID == "" || c.ID != op.CaseID || len(in.Messages) != 1 {
		return OpResult{}, nil, fmt.Errorf("create case %s: %w", op.CaseID, ErrBadPayload)
	}
	if h.replay {
		sess.ClinicID = c.ClinicID
		if old, err := s.store.Case(ctx, c.ID); err == nil {
			// Applied before (the op id was forgotten, or another op
			// carried the same case): the case exists as that desktop made it.
			if old.ClinicID != c.ClinicID || old.ResidentID != c.ResidentID {
				return OpResult{}, nil, fmt.Errorf("create case %s: another case has this id: %w", c.ID, ErrConflict)
			}
			return OpResult{Version: old.Version}, old, nil
		} else if !errors.Is(err, ErrNotFound) {
			return OpResult{}, nil, err
		}
	}
	st := sess.Staff
	if c.ClinicID != sess.ClinicID || (!st.Has(c.ClinicID, RoleCaseHandler) && !st.Has(c.ClinicID, RoleCaseReceiver)) {
		return OpResult{}, nil, forbid("send case in clinic", c.ClinicID)
	}
	if c.StartedBy != StartedByClinic || (c.Kind != KindInformation && c.Kind != KindQuestion) {
		return OpResult{}, nil, fmt.Errorf("create case %s: only Skicka ärende starts a case on a desktop: %w", c.ID, ErrInvalid)
	}
	m := in.Messages[0]
	if m.ID == "" || m.Author != AuthorStaff || m.AuthorID != st.ID || len(m.Attachments) > 0 {
		return OpResult{}, nil, fmt.Errorf("create case %s: first message: %w", c.ID, ErrInvalid)
	}
	if err := checkText(c.Subject, m.Text); err != nil {
		return OpResult{}, nil, fmt.Errorf("create case %s: %w", c.ID, err)
	}
	tpl, err := s.store.Template(ctx, c.TemplateID)
	if err != nil {
		return OpResult{}, nil, fmt.Errorf("create case %s: template %s: %w", c.ID, c.TemplateID, err)
	}
	if tpl.ClinicID != c.ClinicID {
		return OpResult{}, nil, forbid("send case with template", tpl.ID)
	}
	if tpl.Kind != c.Kind {
		// A standard reply is inserted into a reply; it starts no case.
		return OpResult{}, nil, fmt.Errorf("create case %s: template %s of kind %s: %w", c.ID, tpl.ID, tpl.Kind, ErrInvalid)
	}
	r, err := s.store.Resident(ctx, c.ResidentID)
	if err != nil {
		return OpResult{}, nil, fmt.Errorf("create case %s: resident %s: %w", c.ID, c.ResidentID, err)
	}
	gs, err := s.guardiansOf(ctx, r)
	if err != nil {
		return OpResult{}, nil, fmt.Errorf("create case %s: guardians of %s: %w", c.ID, r.ID, err)
	}
	if reach := Reach(r, gs, now); !reach.OK() {
		return OpResult{}, nil, &UnreachableError{ResidentID: r.ID, Reasons: reach.Blocking}
	}
	created := h.at(c.CreatedAt, now)
	out := Case{
		ID: c.ID, ClinicID: c.ClinicID, ResidentID: r.ID, Kind: tpl.Kind, TemplateID: tpl.ID,
		Subject: strings.TrimSpace(c.Subject), AssigneeID: st.ID, StartedBy: StartedByClinic,
		CreatorID: st.ID, CreatedAt: created, LastActivity: created, Status: StatusWaiting,
	}
	if tpl.Kind == KindInformation {
		out.Status, out.ClosedAt = StatusClosed, created
	}
	t := &Thread{Case: out, Messages: []Message{{
		ID: m.ID, CaseID: c.ID, Author: AuthorStaff, AuthorID: st.ID, At: h.at(m.At, now), Text: m.Text,
	}}}
	for _, n := range in.Notes {
		if n.ID == "" || checkBody(n.Text) != nil {
			return OpResult{}, nil, fmt.Errorf("create case %s: note: %w", c.ID, ErrInvalid)
		}
		t.Notes = append(t.Notes, Note{ID: n.ID, CaseID: c.ID, StaffID: st.ID, At: h.at(n.At, now), Text: n.Text})
	}
	// The notifications go into the message's transaction (R3, R6–R10):
	// the message never lands without them, nor they without it.
	t.Outbox = notificationsFor(t, &t.Messages[0], NotifyTargets(r, gs, now), now)
	if logged != nil {
		if err := logged(&t.Case); err != nil {
			return OpResult{}, nil, err
		}
	}
	if err := s.store.CreateThread(ctx, t, h.write(op, nil, sess.Staff.ID)); err != nil {
		// Written meanwhile by a copy of this op (the check above runs
		// outside the write): applied, as the first copy answered.
		if h.replay && errors.Is(err, ErrConflict) {
			if old, gerr := s.store.Case(ctx, c.ID); gerr == nil && old.ClinicID == c.ClinicID && old.ResidentID == c.ResidentID {
				return OpResult{Version: old.Version}, old, nil
			}
		}
		return OpResult{}, nil, fmt.Errorf("create case %s: %w", c.ID, err)
	}
	s.indexCase(ctx, &t.Case)
	return OpResult{Version: t.Case.Version}, &t.Case, nil
}
