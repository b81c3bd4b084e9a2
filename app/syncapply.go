package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	Detail  string        `json:",omitempty"` // a FieldError's code, e.g. attachment_type
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
	r.Detail, r.Reason = rejectDetail(err, RejectReason(r.Code, r.Blocks))
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
// knows them now), through the same function per op kind as the staff
// tool's use cases (caseops.go), replayed. A refusal by the rules is a
// result, not an error; an error means nothing could be decided (the
// database failed) and the op must be retried.
func (s *CaseService) ApplyOp(ctx context.Context, st *Staff, device ID, op *SyncOp) (OpResult, error) {
	now := s.clock.Now()
	h := replayBy(device)
	sess := Session{Staff: st}
	var err error
	var res OpResult
	switch op.Kind {
	case OpCaseCreate:
		res, _, err = s.createOp(ctx, sess, op, h, nil)
	case OpCaseMessage, OpCaseNote, OpCaseStatus, OpCaseAssign, OpCaseRead:
		res, err = s.caseOp(ctx, sess, op, h, nil, nil)
	case OpAttachmentPut:
		res, err = s.applyAttachment(ctx, st, device, op)
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

// applyAttachment applies an attachment.put op: the bytes of a file a
// message of the case describes, uploaded in chunks before the op
// (docs/sync.md, Attachments) or, from an older desktop, inside the op
// (Data). The digest on the message decides whether they are the right
// ones. Only someone who may handle the case stores its attachments.
func (s *CaseService) applyAttachment(ctx context.Context, st *Staff, device ID, op *SyncOp) (OpResult, error) {
	var a struct {
		Attachment
		Data []byte
	}
	if err := decodePayload(op, &a); err != nil {
		return OpResult{}, err
	}
	c, err := s.store.Case(ctx, op.CaseID)
	if err != nil {
		return OpResult{}, fmt.Errorf("op %s on case %s: %w", op.Kind, op.CaseID, err)
	}
	sess := Session{Staff: st, ClinicID: c.ClinicID}
	if !mayHandle(sess, c) {
		return OpResult{}, forbid("attachment on case", c.ID)
	}
	w := replayBy(device).write(op, nil, "")
	if len(a.Data) == 0 {
		return s.applyStagedAttachment(ctx, sess, c.ID, a.ID, w)
	}
	err = s.store.UpdateThread(ctx, c.ID, w, func(t *Thread) error {
		if !mayHandle(sess, &t.Case) {
			return forbid("attachment on case", c.ID)
		}
		desc, ok := t.attachment(a.ID)
		if !ok {
			return fmt.Errorf("attachment %s on no message of case %s: %w", a.ID, c.ID, ErrNotFound)
		}
		if err := CheckAttachment(desc, a.Data); err != nil {
			return fmt.Errorf("attachment %s: %w: %w", a.ID, ErrInvalid, err)
		}
		if _, err := s.store.AttachmentData(ctx, c.ID, a.ID); err == nil {
			return errAlready
		}
		t.Blobs = map[ID][]byte{a.ID: a.Data}
		return nil
	})
	if err != nil && !errors.Is(err, errAlready) {
		return OpResult{}, fmt.Errorf("op %s on case %s: %w", op.Kind, c.ID, err)
	}
	cur, err := s.store.Case(ctx, c.ID)
	if err != nil {
		return OpResult{}, err
	}
	return OpResult{Version: cur.Version}, nil
}

// Limits on an access-log entry a desktop sends (access.record). A
// desktop records its entries when the access happens and sends them when
// it is online again, so an entry may be old, but not older than a
// desktop can stay signed in offline and then some; and not in the
// future beyond clock skew (then it is taken as made now).
const (
	AccessEntryMaxAge  = 90 * 24 * time.Hour
	AccessEntryMaxSkew = 10 * time.Minute
)

// desktopAccessActions are the actions a desktop's staff tool records.
var desktopAccessActions = map[AccessAction]bool{
	AccessOpenCase: true, AccessLookupResident: true, AccessReadMessage: true,
	AccessSend: true, AccessExport: true, AccessPrint: true,
}

// applyAccess records an access-log entry the desktop wrote, after the
// same checks an entry gets where it is made: the caller's own entry, in
// a clinic they have a role in, an action the staff tool records, a time
// that can be true, and a case that belongs to that clinic and resident.
// The store keeps an entry id once.
func (s *CaseService) applyAccess(ctx context.Context, st *Staff, op *SyncOp, now time.Time) (OpResult, error) {
	var e AccessEntry
	if err := decodePayload(op, &e); err != nil {
		return OpResult{}, err
	}
	switch {
	case e.ID == "" || len(e.ID) > 64 || CheckLine(string(e.ID)) != nil:
		return OpResult{}, fmt.Errorf("access entry: id: %w", ErrInvalid)
	case e.StaffID != st.ID || !st.InClinic(e.ClinicID):
		return OpResult{}, fmt.Errorf("access entry %s: %w", e.ID, ErrForbidden)
	case !desktopAccessActions[e.Action]:
		return OpResult{}, fmt.Errorf("access entry %s: action: %w", e.ID, ErrInvalid)
	case e.At.IsZero() || e.At.Before(now.Add(-AccessEntryMaxAge)) || e.At.After(now.Add(AccessEntryMaxSkew)):
		return OpResult{}, fmt.Errorf("access entry %s: time: %w", e.ID, ErrInvalid)
	case op.CaseID != e.CaseID:
		return OpResult{}, fmt.Errorf("access entry %s: case: %w", e.ID, ErrInvalid)
	}
	e.At = clamp(e.At, now)
	if e.CaseID != "" {
		c, err := s.store.Case(ctx, e.CaseID)
		if errors.Is(err, ErrNotFound) {
			// A case whose creation the server refused: the access
			// (Skicka ärende was tried) still happened, to that resident.
			if e.Action != AccessSend {
				return OpResult{}, fmt.Errorf("access entry %s: case %s: %w", e.ID, e.CaseID, err)
			}
		} else if err != nil {
			return OpResult{}, err
		} else if c.ClinicID != e.ClinicID || c.ResidentID != e.ResidentID {
			return OpResult{}, fmt.Errorf("access entry %s: case %s of another clinic or resident: %w", e.ID, e.CaseID, ErrInvalid)
		}
	}
	if e.ResidentID != "" {
		if _, err := s.store.Resident(ctx, e.ResidentID); err != nil {
			return OpResult{}, fmt.Errorf("access entry %s: resident %s: %w", e.ID, e.ResidentID, err)
		}
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
