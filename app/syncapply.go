package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The central server's side of sync (docs/sync.md): an op a connected
// desktop made offline is applied here through the same rules as a live
// request — roles, R1, R5, R7, R10 and age re-checked on the server's
// current data — but with the ids the desktop made, so that applying it
// again writes nothing twice. The server notifies: the notifications of a
// message are written in the message's transaction, as in standalone mode.

// OpOutcome is the server's answer to one op.
type OpOutcome string

// Op outcomes.
const (
	OpApplied  OpOutcome = "applied"
	OpRejected OpOutcome = "rejected"
	OpConflict OpOutcome = "conflict"
)

// OpResult is the answer to one op. A rejected op carries a stable code
// and a Swedish reason (and, for an unreachable resident, the block
// reasons); a conflict carries the server's values.
type OpResult struct {
	ID      string
	Kind    OpKind    `json:",omitempty"`
	CaseID  ID        `json:",omitempty"`
	Outcome OpOutcome // applied, rejected or conflict
	// Version is the case's server version after the op.
	Version uint64        `json:",omitempty"`
	Code    string        `json:",omitempty"`
	Reason  string        `json:",omitempty"`
	Blocks  []BlockReason `json:",omitempty"`
	// ServerStatus and ServerAssignee are the values that won a conflict;
	// Mine is the op's payload (what the desktop wanted).
	ServerStatus   Status          `json:",omitempty"`
	ServerAssignee ID              `json:",omitempty"`
	Mine           json.RawMessage `json:",omitempty"`
	// At is when the server decided.
	At time.Time
}

// SyncProblem is an op the server did not apply as made: rejected (with
// the reason) or lost a conflict (with the server's values). A desktop
// keeps it for the list of pending and rejected changes until staff
// dismiss it.
type SyncProblem struct {
	Op     SyncOp
	Result OpResult
}

// Rejected builds the result of an op refused with err.
func Rejected(op *SyncOp, err error, at time.Time) OpResult {
	r := OpResult{ID: op.ID, Kind: op.Kind, CaseID: op.CaseID, Outcome: OpRejected, Code: Code(err), At: at}
	var ue *UnreachableError
	if errors.As(err, &ue) {
		r.Blocks = ue.Reasons
	}
	r.Reason = RejectReason(r.Code, r.Blocks)
	return r
}

// RejectReason is the Swedish text of a rejected op for the list of
// pending and rejected changes: what happened and what to do instead.
func RejectReason(code string, blocks []BlockReason) string {
	switch code {
	case "unreachable":
		if len(blocks) > 0 {
			return "Ärendet skickades inte: " + blocks[0].Message()
		}
		return "Ärendet skickades inte: invånaren kan inte ta emot meddelanden i e-tjänsterna. Skicka ett brev eller ring i stället."
	case "forbidden":
		return "Ändringen gjordes inte: du har inte längre behörighet till detta."
	case "not_found":
		return "Ändringen gjordes inte: ärendet eller uppgiften finns inte på servern."
	case "conflict":
		return "Ändringen gjordes inte: ärendet har ändrats under tiden."
	case "invalid":
		return "Ändringen gjordes inte: uppgifterna är inte giltiga."
	case "not_answerable":
		return "Ändringen gjordes inte: ärendet kan inte besvaras."
	case "unsupported":
		return "Ändringen gjordes inte: servern kan inte ta emot den här typen av ändring."
	}
	return "Ändringen gjordes inte på servern."
}

// ApplyOp applies one desktop op as staff member st (roles as the server
// knows them now). A refusal by the rules is a result, not an error; an
// error means nothing could be decided (the database failed) and the op
// must be retried.
func (s *CaseService) ApplyOp(ctx context.Context, st *Staff, device ID, op *SyncOp) (OpResult, error) {
	now := s.clock.Now()
	var err error
	var res OpResult
	switch op.Kind {
	case OpCaseCreate:
		res, err = s.applyCreate(ctx, st, op, now)
	case OpCaseMessage, OpCaseNote, OpCaseStatus, OpCaseAssign, OpCaseRead, OpAttachmentPut:
		res, err = s.applyUpdate(ctx, st, device, op, now)
	case OpAccessRecord:
		res, err = s.applyAccess(ctx, st, op, now)
	case OpTemplatePut:
		res, err = s.applyTemplate(ctx, st, op, now)
	case OpEServicePut:
		res, err = s.applyEService(ctx, st, op, now)
	case OpFormSeriesPut:
		res, err = s.applyFormSeries(ctx, st, op, now)
	default:
		err = fmt.Errorf("op %s: kind %q: %w", op.ID, op.Kind, errUnsupported)
	}
	if err != nil {
		if Code(err) == "internal" && !errors.Is(err, errUnsupported) {
			return OpResult{}, err
		}
		r := Rejected(op, err, now)
		if errors.Is(err, errUnsupported) {
			r.Code, r.Reason = "unsupported", RejectReason("unsupported", nil)
		}
		return r, nil
	}
	res.ID, res.Kind, res.CaseID, res.At = op.ID, op.Kind, op.CaseID, now
	if res.Outcome == "" {
		res.Outcome = OpApplied
	}
	return res, nil
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

// clamp keeps a desktop's time out of the future: a desktop with a wrong
// clock must not put its case first in every list for years.
func clamp(t, now time.Time) time.Time {
	if t.IsZero() || t.After(now) {
		return now
	}
	return t
}

// applyCreate is Skicka ärende made offline: the same rules as SendCase,
// decided on the server's data now (a resident who locked the login
// meanwhile is refused with the reasons), with the desktop's ids.
func (s *CaseService) applyCreate(ctx context.Context, st *Staff, op *SyncOp, now time.Time) (OpResult, error) {
	var in Thread
	if err := decodePayload(op, &in); err != nil {
		return OpResult{}, err
	}
	c := in.Case
	if c.ID == "" || c.ID != op.CaseID || len(in.Messages) != 1 {
		return OpResult{}, fmt.Errorf("create case %s: %w", op.CaseID, ErrBadPayload)
	}
	if old, err := s.store.Case(ctx, c.ID); err == nil {
		// Applied before (the op id was forgotten, or another op carried
		// the same case): the case exists as that desktop made it.
		if old.ClinicID != c.ClinicID || old.ResidentID != c.ResidentID {
			return OpResult{}, fmt.Errorf("create case %s: another case has this id: %w", c.ID, ErrConflict)
		}
		return OpResult{Version: old.Version}, nil
	} else if !errors.Is(err, ErrNotFound) {
		return OpResult{}, err
	}
	if !st.Has(c.ClinicID, RoleCaseHandler) && !st.Has(c.ClinicID, RoleCaseReceiver) {
		return OpResult{}, forbid("send case in clinic", c.ClinicID)
	}
	if c.StartedBy != StartedByClinic || (c.Kind != KindInformation && c.Kind != KindQuestion) {
		return OpResult{}, fmt.Errorf("create case %s: only Skicka ärende starts a case on a desktop: %w", c.ID, ErrInvalid)
	}
	m := in.Messages[0]
	if m.ID == "" || m.Author != AuthorStaff || m.AuthorID != st.ID || len(m.Attachments) > 0 {
		return OpResult{}, fmt.Errorf("create case %s: first message: %w", c.ID, ErrInvalid)
	}
	if err := checkText(c.Subject, m.Text); err != nil {
		return OpResult{}, fmt.Errorf("create case %s: %w", c.ID, err)
	}
	tpl, err := s.store.Template(ctx, c.TemplateID)
	if err != nil {
		return OpResult{}, fmt.Errorf("create case %s: template %s: %w", c.ID, c.TemplateID, err)
	}
	if tpl.ClinicID != c.ClinicID || tpl.Kind != c.Kind {
		return OpResult{}, fmt.Errorf("create case %s: template %s: %w", c.ID, tpl.ID, ErrInvalid)
	}
	r, err := s.store.Resident(ctx, c.ResidentID)
	if err != nil {
		return OpResult{}, fmt.Errorf("create case %s: resident %s: %w", c.ID, c.ResidentID, err)
	}
	gs, err := s.guardiansOf(ctx, r)
	if err != nil {
		return OpResult{}, fmt.Errorf("create case %s: guardians of %s: %w", c.ID, r.ID, err)
	}
	// The rules on the server's data now, not the desktop's when offline.
	if reach := Reach(r, gs, now); !reach.OK() {
		return OpResult{}, &UnreachableError{ResidentID: r.ID, Reasons: reach.Blocking}
	}
	created := clamp(c.CreatedAt, now)
	out := Case{
		ID: c.ID, ClinicID: c.ClinicID, ResidentID: r.ID, Kind: tpl.Kind, TemplateID: tpl.ID,
		Subject: strings.TrimSpace(c.Subject), AssigneeID: st.ID, StartedBy: StartedByClinic,
		CreatorID: st.ID, CreatedAt: created, LastActivity: created, Status: StatusWaiting,
	}
	if tpl.Kind == KindInformation {
		out.Status, out.ClosedAt = StatusClosed, created
	}
	t := &Thread{Case: out, Messages: []Message{{
		ID: m.ID, CaseID: c.ID, Author: AuthorStaff, AuthorID: st.ID, At: clamp(m.At, now), Text: m.Text,
	}}}
	for _, n := range in.Notes {
		if n.ID == "" || checkBody(n.Text) != nil {
			return OpResult{}, fmt.Errorf("create case %s: note: %w", c.ID, ErrInvalid)
		}
		t.Notes = append(t.Notes, Note{ID: n.ID, CaseID: c.ID, StaffID: st.ID, At: clamp(n.At, now), Text: n.Text})
	}
	t.Outbox = notificationsFor(t, &t.Messages[0], NotifyTargets(r, gs, now), now)
	if err := s.store.CreateThread(ctx, t); err != nil {
		// Written meanwhile by a copy of this op (the check above runs
		// outside the write): applied, as the first copy answered.
		if errors.Is(err, ErrConflict) {
			if old, gerr := s.store.Case(ctx, c.ID); gerr == nil && old.ClinicID == c.ClinicID && old.ResidentID == c.ResidentID {
				return OpResult{Version: old.Version}, nil
			}
		}
		return OpResult{}, fmt.Errorf("create case %s: %w", c.ID, err)
	}
	s.indexCase(ctx, &t.Case)
	return OpResult{Version: t.Case.Version}, nil
}

// applyUpdate applies an op on an existing case in the case's own
// transaction: the rule that decides a conflict sees exactly what it
// writes on.
func (s *CaseService) applyUpdate(ctx context.Context, st *Staff, device ID, op *SyncOp, now time.Time) (OpResult, error) {
	c, err := s.store.Case(ctx, op.CaseID)
	if err != nil {
		return OpResult{}, fmt.Errorf("op %s on case %s: %w", op.Kind, op.CaseID, err)
	}
	sess := Session{Staff: st, ClinicID: c.ClinicID}
	if !mayHandle(sess, c) && !(op.Kind == OpCaseAssign && st.Has(c.ClinicID, RoleCaseHandler)) {
		return OpResult{}, forbid("op on case", c.ID)
	}
	var res OpResult
	var change func(t *Thread) error
	switch op.Kind {
	case OpCaseMessage:
		var m Message
		if err := decodePayload(op, &m); err != nil {
			return OpResult{}, err
		}
		if m.ID == "" || m.Author != AuthorStaff || m.AuthorID != st.ID {
			return OpResult{}, fmt.Errorf("message on case %s: %w", c.ID, ErrInvalid)
		}
		if err := checkBody(m.Text); err != nil {
			return OpResult{}, fmt.Errorf("message on case %s: %w", c.ID, err)
		}
		if len(m.Attachments) > MaxAttachmentsPerMessage {
			return OpResult{}, ErrTooManyAttachments
		}
		for _, a := range m.Attachments {
			if err := a.checkDescription(); err != nil {
				return OpResult{}, fmt.Errorf("message on case %s: %w", c.ID, err)
			}
		}
		targets, err := s.notifyTargets(ctx, c.ResidentID, now)
		if err != nil {
			return OpResult{}, fmt.Errorf("message on case %s: %w", c.ID, err)
		}
		change = func(t *Thread) error {
			for _, x := range t.Messages {
				if x.ID == m.ID {
					return errAlready
				}
			}
			// Messages never conflict (docs/sync.md): a reply written
			// offline lands even when the case was closed meanwhile,
			// and makes it active again, as a reply does.
			msg := Message{ID: m.ID, CaseID: c.ID, Author: AuthorStaff, AuthorID: st.ID, At: clamp(m.At, now), Text: m.Text, Attachments: m.Attachments}
			t.Messages = append(t.Messages, msg)
			t.Outbox = notificationsFor(t, &t.Messages[len(t.Messages)-1], targets, now)
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
		}
	case OpAttachmentPut:
		// The bytes were uploaded in chunks before the op (docs/sync.md,
		// Attachments), or, from an older desktop, come with the op
		// (Data); either way the digest on the message decides whether
		// they are the right ones.
		var a struct {
			Attachment
			Data []byte
		}
		if err := decodePayload(op, &a); err != nil {
			return OpResult{}, err
		}
		if len(a.Data) == 0 {
			return s.applyStagedAttachment(ctx, sess, c.ID, a.ID)
		}
		change = func(t *Thread) error {
			desc, ok := t.attachment(a.ID)
			if !ok {
				return fmt.Errorf("attachment %s on no message of case %s: %w", a.ID, c.ID, ErrNotFound)
			}
			if err := desc.verify(a.Data); err != nil {
				return fmt.Errorf("attachment %s: %w: %w", a.ID, ErrInvalid, err)
			}
			if _, err := s.store.AttachmentData(ctx, a.ID); err == nil {
				return errAlready
			}
			t.Blobs = map[ID][]byte{a.ID: a.Data}
			return nil
		}
	case OpCaseNote:
		var n Note
		if err := decodePayload(op, &n); err != nil {
			return OpResult{}, err
		}
		if n.ID == "" || n.StaffID != st.ID {
			return OpResult{}, fmt.Errorf("note on case %s: %w", c.ID, ErrInvalid)
		}
		if err := checkBody(n.Text); err != nil {
			return OpResult{}, fmt.Errorf("note on case %s: %w", c.ID, err)
		}
		change = func(t *Thread) error {
			for _, x := range t.Notes {
				if x.ID == n.ID {
					return errAlready
				}
			}
			t.Notes = append(t.Notes, Note{ID: n.ID, CaseID: c.ID, StaffID: st.ID, At: clamp(n.At, now), Text: n.Text})
			return nil
		}
	case OpCaseStatus:
		var sc StatusChange
		if err := decodePayload(op, &sc); err != nil {
			return OpResult{}, err
		}
		if !sc.Status.Valid() {
			return OpResult{}, fmt.Errorf("status of case %s: %w", c.ID, ErrInvalid)
		}
		change = func(t *Thread) error {
			if t.Case.Status == sc.Status {
				return errAlready
			}
			// The deterministic rule: a change made on a version older
			// than the field's last change loses.
			if op.Base < t.Case.StatusVersion && t.Case.StatusBy != device {
				res = OpResult{Outcome: OpConflict, ServerStatus: t.Case.Status, ServerAssignee: t.Case.AssigneeID, Mine: op.Payload,
					Code: "conflict", Reason: "Statusen ändrades på servern innan din ändring kom fram. Serverns värde gäller."}
				return errAlready
			}
			t.Case.Status, t.Case.LastActivity = sc.Status, now
			t.Case.ClosedAt = time.Time{}
			if sc.Status == StatusClosed {
				t.Case.ClosedAt = now
			}
			return nil
		}
	case OpCaseAssign:
		var ac AssignChange
		if err := decodePayload(op, &ac); err != nil {
			return OpResult{}, err
		}
		to, err := s.store.Staff(ctx, ac.AssigneeID)
		if err != nil {
			return OpResult{}, fmt.Errorf("assign case %s: staff %s: %w", c.ID, ac.AssigneeID, err)
		}
		if !to.Has(c.ClinicID, RoleCaseHandler) && !to.Has(c.ClinicID, RoleCaseReceiver) {
			return OpResult{}, fmt.Errorf("assign case %s: %w", c.ID, ErrInvalid)
		}
		receiver := st.Has(c.ClinicID, RoleCaseReceiver)
		change = func(t *Thread) error {
			if t.Case.AssigneeID == ac.AssigneeID {
				return errAlready
			}
			// An ärendehanterare takes an unassigned case by replying to
			// it; anything else needs an ärendemottagare.
			if !receiver && !(ac.AssigneeID == st.ID && t.Case.AssigneeID == "") {
				return forbid("assign case", c.ID)
			}
			if op.Base < t.Case.AssigneeVersion && t.Case.AssigneeBy != device {
				res = OpResult{Outcome: OpConflict, ServerStatus: t.Case.Status, ServerAssignee: t.Case.AssigneeID, Mine: op.Payload,
					Code: "conflict", Reason: "Ärendet fördelades på servern innan din ändring kom fram. Serverns värde gäller."}
				return errAlready
			}
			t.Case.AssigneeID = ac.AssigneeID
			if t.Case.Status == StatusNew {
				t.Case.Status = StatusOngoing
			}
			return nil
		}
	case OpCaseRead:
		madeAt := clamp(op.MadeAt, now)
		change = func(t *Thread) error {
			if !t.Case.UnreadByStaff {
				return errAlready
			}
			// A reply that arrived after the desktop read the case stays unread.
			for _, m := range t.Messages {
				if m.Author != AuthorStaff && m.At.After(madeAt) {
					return errAlready
				}
			}
			t.Case.UnreadByStaff = false
			return nil
		}
	}
	var hdr Case
	err = s.store.UpdateThread(ctx, c.ID, func(t *Thread) error {
		if !mayHandle(sess, &t.Case) && op.Kind != OpCaseAssign {
			return forbid("op on case", c.ID)
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

// errAlready ends an UpdateThread without writing: the op's change is
// there already (or lost a conflict, which writes nothing either).
var errAlready = errors.New("nothing to change")

// applyAccess records an access-log entry the desktop wrote; the store
// keeps an entry id once.
func (s *CaseService) applyAccess(ctx context.Context, st *Staff, op *SyncOp, now time.Time) (OpResult, error) {
	var e AccessEntry
	if err := decodePayload(op, &e); err != nil {
		return OpResult{}, err
	}
	if e.ID == "" || e.StaffID != st.ID || !st.InClinic(e.ClinicID) {
		return OpResult{}, fmt.Errorf("access entry %s: %w", e.ID, ErrForbidden)
	}
	if err := s.store.Record(ctx, e); err != nil {
		return OpResult{}, fmt.Errorf("access entry %s: %w", e.ID, err)
	}
	return OpResult{}, nil
}

// applyTemplate saves a template edited offline. An edit older than the
// server's version is not lost and overwrites nothing: it becomes a
// separate template named "… (konflikt)" for the lokal administratör to
// merge (docs/sync.md).
func (s *CaseService) applyTemplate(ctx context.Context, st *Staff, op *SyncOp, now time.Time) (OpResult, error) {
	var t MessageTemplate
	if err := decodePayload(op, &t); err != nil {
		return OpResult{}, err
	}
	if t.ID == "" || !st.Has(t.ClinicID, RoleLocalAdmin) {
		return OpResult{}, fmt.Errorf("template %s: %w", t.ID, ErrForbidden)
	}
	if HasLintErrors(LintTemplate(&t)) {
		return OpResult{}, fmt.Errorf("template %s: %w", t.ID, ErrInvalid)
	}
	old, err := s.store.Template(ctx, t.ID)
	switch {
	case err == nil && old.ClinicID != t.ClinicID:
		return OpResult{}, forbid("save template", t.ID)
	case err == nil && old.UpdatedAt.After(t.UpdatedAt):
		copyID := ID("konflikt-" + op.ID)
		if _, err := s.store.Template(ctx, copyID); err == nil {
			return OpResult{Outcome: OpConflict, Code: "conflict", Reason: templateConflict}, nil
		}
		c := t
		c.ID, c.Name, c.UpdatedAt = copyID, t.Name+" (konflikt)", now
		if err := s.store.PutTemplate(ctx, &c); err != nil {
			return OpResult{}, err
		}
		return OpResult{Outcome: OpConflict, Code: "conflict", Reason: templateConflict, Mine: op.Payload}, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return OpResult{}, err
	}
	t.UpdatedAt = clamp(t.UpdatedAt, now)
	if err := s.store.PutTemplate(ctx, &t); err != nil {
		return OpResult{}, err
	}
	return OpResult{}, nil
}

const templateConflict = "Mallen ändrades på servern efter din ändring. Din version sparades som en egen mall med namnet ”… (konflikt)”."
