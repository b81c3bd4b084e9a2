package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mottagning/app/personnummer"
)

// Session is a signed-in staff member working in one clinic.
type Session struct {
	Staff    *Staff
	ClinicID ID
}

// Limits on what staff type.
const (
	MaxSubjectLen = 200
	MaxTextLen    = 20000
)

// CaseService is the staff side of cases: the two case lists, opening a
// case, Skicka ärende, replies, notes, assignment, closing and reopening.
// Roles are enforced here, not only by hidden buttons.
type CaseService struct {
	store Store
	clock Clock
	idx   caseIndexes
}

// NewCaseService returns a CaseService over store, reading time from clock.
func NewCaseService(store Store, clock Clock) *CaseService {
	return &CaseService{store: store, clock: clock}
}

// CaseRow is one line of a case list: the header plus what the list shows
// about the resident.
type CaseRow struct {
	Case
	ResidentName string
	PNR          personnummer.Number
	// ReserveNumber is shown when the resident has no personnummer.
	ReserveNumber string
}

// RowPage is a page of case rows.
type RowPage struct {
	Rows []CaseRow
	Next string
}

func forbid(op string, id ID) error { return fmt.Errorf("%s %s: %w", op, id, ErrForbidden) }

// ClinicCases is "Mottagningens ärenden": every case of the session's
// clinic, for an ärendemottagare.
func (s *CaseService) ClinicCases(ctx context.Context, sess Session, q CaseQuery) (RowPage, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleCaseReceiver) {
		return RowPage{}, forbid("list clinic cases", sess.ClinicID)
	}
	q.ClinicID = sess.ClinicID
	return s.rows(ctx, q)
}

// MyCases is "Mina ärenden": the cases assigned to the signed-in staff member.
func (s *CaseService) MyCases(ctx context.Context, sess Session, q CaseQuery) (RowPage, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleCaseHandler) && !sess.Staff.Has(sess.ClinicID, RoleCaseReceiver) {
		return RowPage{}, forbid("list my cases", sess.ClinicID)
	}
	q.ClinicID, q.AssigneeID = sess.ClinicID, sess.Staff.ID
	return s.rows(ctx, q)
}

func (s *CaseService) rows(ctx context.Context, q CaseQuery) (RowPage, error) {
	page, err := s.store.ListCases(ctx, q)
	if err != nil {
		return RowPage{}, fmt.Errorf("list cases of clinic %s: %w", q.ClinicID, err)
	}
	ids := make([]ID, 0, len(page.Cases))
	for _, c := range page.Cases {
		ids = append(ids, c.ResidentID)
	}
	rs, err := s.store.ResidentsByID(ctx, ids)
	if err != nil {
		return RowPage{}, fmt.Errorf("list cases of clinic %s: residents: %w", q.ClinicID, err)
	}
	out := RowPage{Rows: make([]CaseRow, len(page.Cases)), Next: page.Next}
	for i, c := range page.Cases {
		out.Rows[i].Case = c
		if r := rs[c.ResidentID]; r != nil {
			out.Rows[i].ResidentName = r.Register.FullName()
			out.Rows[i].PNR = r.PNR
			out.Rows[i].ReserveNumber = r.ReserveNumber
		}
	}
	return out, nil
}

// mayHandle: the session's clinic is the case's, and the staff member may
// see the case's content there (CaseVisible).
func mayHandle(sess Session, c *Case) bool {
	return c.ClinicID == sess.ClinicID && CaseVisible(sess.Staff, c)
}

// CaseVisible is the one rule of who may see a case's content (its
// messages, notes, resident), on every door: a case list, opening a case,
// a sync pull, an attachment. An ärendemottagare sees every case of the
// clinic; an ärendehanterare the cases assigned to them and those they
// started (shared/DOMAIN.md, roles). Nobody sees a case of a clinic they
// have no role in, and the other roles (lokal administratör,
// behörighetsadministratör, granskare, kontaktcenter) see no case content.
func CaseVisible(st *Staff, c *Case) bool {
	if st == nil || !st.InClinic(c.ClinicID) {
		return false
	}
	if st.Has(c.ClinicID, RoleCaseReceiver) {
		return true
	}
	return st.Has(c.ClinicID, RoleCaseHandler) && (c.AssigneeID == st.ID || (c.CreatorID != "" && c.CreatorID == st.ID))
}

func (s *CaseService) record(ctx context.Context, sess Session, action AccessAction, residentID, caseID ID) error {
	err := s.store.Record(ctx, AccessEntry{
		ID: NewID(s.clock.Now()), At: s.clock.Now(), StaffID: sess.Staff.ID, ClinicID: sess.ClinicID,
		ResidentID: residentID, CaseID: caseID, Action: action,
	})
	if err != nil {
		return fmt.Errorf("access log %s case %s: %w", action, caseID, err)
	}
	return nil
}

// OpenCase returns the thread with notes, records the access, and clears
// the unread marker.
func (s *CaseService) OpenCase(ctx context.Context, sess Session, id ID) (*Thread, error) {
	t, err := s.store.Thread(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", id, err)
	}
	if !mayHandle(sess, &t.Case) {
		return nil, forbid("open case", id)
	}
	// Log before returning anything: no log entry, no access.
	if err := s.record(ctx, sess, AccessOpenCase, t.Case.ResidentID, t.Case.ID); err != nil {
		return nil, err
	}
	if t.Case.UnreadByStaff {
		// Only write when there is something to clear: the access log
		// already costs one commit per opening; do not add a second.
		now := s.clock.Now()
		if _, err := s.caseOp(ctx, sess, newOp(OpCaseRead, id, t.Case.Version, nil, now), local, nil, nil); err != nil {
			return nil, fmt.Errorf("open case %s: %w", id, err)
		}
		t.Case.UnreadByStaff = false
	}
	return t, nil
}

// ResidentView is what staff may see of a resident: never the address of a
// person with protected identity (R9), phone and e-mail only when the
// resident shares them (R13, R14), the notification choice read-only.
type ResidentView struct {
	ID            ID
	PNR           personnummer.Number
	ReserveNumber string
	Name          string
	// Address is nil for protected identity (R9).
	Address           *Address
	ProtectedIdentity bool
	Deceased          bool
	Age               int
	Child             bool
	Choice            NotifyChoice
	// Mobile and Email are set only when the resident shares them (R13).
	Mobile, Email string
	LoginLocked   bool
	JournalSealed bool
	Activated     bool
	Guardians     []GuardianView
	Reach         Reachability
	// Turns13 is the 13th birthday (Stockholm midnight) of a child who
	// has it within Turns13Soon: from then on no guardian can act for
	// them (R5, R8) and a message sent now is read by the child alone.
	// Zero otherwise.
	Turns13 time.Time
}

// Turns13Soon is how far ahead staff are told that a child turns 13.
const Turns13Soon = 14 * 24 * time.Hour

// GuardianView is a child's guardian as staff see it.
type GuardianView struct {
	ID       ID
	Name     string
	MayAct   bool
	Blocked  bool
	Notified bool
}

// view builds the staff view of r on the date of s's clock.
func (s *CaseService) view(r *Resident, guardians map[ID]*Resident) *ResidentView {
	now := s.clock.Now()
	v := &ResidentView{
		ID: r.ID, PNR: r.PNR, ReserveNumber: r.ReserveNumber, Name: r.Register.FullName(),
		ProtectedIdentity: r.Register.ProtectedIdentity, Deceased: r.Register.Deceased,
		Child: IsChild(r, now), LoginLocked: r.Account.LoginLocked, JournalSealed: r.Account.JournalSealed,
		Activated: r.Account.Activated, Reach: Reach(r, guardians, now),
	}
	if !r.PNR.IsZero() {
		v.Age = r.PNR.AgeOn(now)
	}
	if v.Child {
		if b := ThirteenthBirthday(r); b.Sub(now) <= Turns13Soon {
			v.Turns13 = b
		}
	}
	if !r.Register.ProtectedIdentity {
		a := r.Register.Address
		v.Address = &a
	}
	set := EffectiveSettings(r, now)
	v.Choice = set.Choice()
	if set.ShareWithCare {
		v.Mobile, v.Email = set.Mobile, set.Email
	}
	notified := map[ID]bool{}
	for _, g := range v.Reach.NotifiedGuardians {
		notified[g] = true
	}
	for _, g := range r.Guardians {
		gv := GuardianView{ID: g.GuardianID, Blocked: g.Blocked, Notified: notified[g.GuardianID]}
		if gr := guardians[g.GuardianID]; gr != nil {
			gv.Name = gr.Register.FullName()
			gv.MayAct = MayActAsProxy(gr, r, now) == nil
		}
		v.Guardians = append(v.Guardians, gv)
	}
	return v
}

func (s *CaseService) guardiansOf(ctx context.Context, r *Resident) (map[ID]*Resident, error) {
	if len(r.Guardians) == 0 {
		return nil, nil
	}
	ids := make([]ID, len(r.Guardians))
	for i, g := range r.Guardians {
		ids[i] = g.GuardianID
	}
	return s.store.ResidentsByID(ctx, ids)
}

// LookupResident finds a resident by personnummer for Skicka ärende and
// records the lookup in the access log. Any staff member with a case role
// in the clinic may look up.
func (s *CaseService) LookupResident(ctx context.Context, sess Session, pnr personnummer.Number) (*ResidentView, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleCaseHandler) && !sess.Staff.Has(sess.ClinicID, RoleCaseReceiver) {
		return nil, forbid("look up resident in clinic", sess.ClinicID)
	}
	r, err := s.store.ResidentByPNR(ctx, pnr)
	if err != nil {
		return nil, fmt.Errorf("look up resident: %w", err)
	}
	if err := s.record(ctx, sess, AccessLookupResident, r.ID, ""); err != nil {
		return nil, err
	}
	gs, err := s.guardiansOf(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("look up resident %s: guardians: %w", r.ID, err)
	}
	return s.view(r, gs), nil
}

// SendRequest is Skicka ärende: a template, a resident, and the text as
// edited by staff.
type SendRequest struct {
	TemplateID ID
	ResidentID ID
	Subject    string
	Text       string
}

// UnreachableError is returned by SendCase when the resident cannot be
// reached; it carries the reasons for the UI. It matches ErrUnreachable.
type UnreachableError struct {
	ResidentID ID
	Reasons    []BlockReason
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("send to resident %s: unreachable: %v", e.ResidentID, e.Reasons)
}

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// SendCase starts a case from a template in the resident's inbox (R16).
// Reachability is re-checked here (R1, R5, R7, R10): a blocked resident is
// refused with the reasons, and nothing is written. The sender becomes the
// assignee. A question waits for the resident; an information case is
// closed at once, since nothing is expected back (it can be reopened).
// The case is the op case.create (createOp), applied as a desktop's
// replayed one is.
func (s *CaseService) SendCase(ctx context.Context, sess Session, req SendRequest) (*Case, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleCaseHandler) && !sess.Staff.Has(sess.ClinicID, RoleCaseReceiver) {
		return nil, forbid("send case in clinic", sess.ClinicID)
	}
	if err := checkText(req.Subject, req.Text); err != nil {
		return nil, fmt.Errorf("send case: %w", err)
	}
	tpl, err := s.store.Template(ctx, req.TemplateID)
	if err != nil {
		return nil, fmt.Errorf("send case: template %s: %w", req.TemplateID, err)
	}
	if tpl.Retired {
		// Refused when sent from here; a desktop's offline send that the
		// server replays later still goes (createOp does not ask).
		return nil, fmt.Errorf("send case: template %s: %w", tpl.ID, ErrTemplateRetired)
	}
	now := s.clock.Now()
	c := Case{
		ID: NewID(now), ClinicID: sess.ClinicID, ResidentID: req.ResidentID, Kind: tpl.Kind, TemplateID: tpl.ID,
		Subject: strings.TrimSpace(req.Subject), AssigneeID: sess.Staff.ID, StartedBy: StartedByClinic,
		CreatorID: sess.Staff.ID, CreatedAt: now, LastActivity: now, Status: StatusWaiting,
	}
	t := Thread{Case: c, Messages: []Message{{
		ID: NewID(now), CaseID: c.ID, Author: AuthorStaff, AuthorID: sess.Staff.ID, At: now, Text: req.Text,
	}}}
	op := newOp(OpCaseCreate, c.ID, 0, &t, now)
	_, out, err := s.createOp(ctx, sess, op, local, func(c *Case) error {
		return s.record(ctx, sess, AccessSend, c.ResidentID, c.ID)
	})
	if err != nil {
		var ue *UnreachableError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, fmt.Errorf("send case: %w", err)
	}
	return out, nil
}

// Reply adds a staff message to the thread. Replying to a question puts it
// back to "Väntar på invånaren"; replying reopens nothing: a closed case
// must be reopened first.
func (s *CaseService) Reply(ctx context.Context, sess Session, id ID, text string) error {
	return s.ReplyWithFiles(ctx, sess, id, text, nil)
}

// ReplyWithFiles is Reply with attachments (PDF, JPEG or PNG, see
// NewAttachment). The message and the bytes of its files are written in
// one transaction: either the reply lands whole or not at all. It is the
// op case.message, and one attachment.put op per file for the server.
func (s *CaseService) ReplyWithFiles(ctx context.Context, sess Session, id ID, text string, files []File) error {
	if err := checkBody(text); err != nil {
		return fmt.Errorf("reply to case %s: %w", id, err)
	}
	now := s.clock.Now()
	atts, blobs, err := attachmentsOf(files, now)
	if err != nil {
		return fmt.Errorf("reply to case %s: %w", id, err)
	}
	c, err := s.store.Case(ctx, id)
	if err != nil {
		return fmt.Errorf("reply to case %s: %w", id, err)
	}
	m := Message{ID: NewID(now), CaseID: id, Author: AuthorStaff, AuthorID: sess.Staff.ID, At: now, Text: text, Attachments: atts}
	var more []SyncOp
	for _, a := range atts {
		more = append(more, *newOp(OpAttachmentPut, id, c.Version, a, now))
	}
	if _, err := s.caseOp(ctx, sess, newOp(OpCaseMessage, id, c.Version, &m, now), local, blobs, more); err != nil {
		return fmt.Errorf("reply to case %s: %w", id, err)
	}
	return nil
}

// change applies one local op of kind on case id with payload.
func (s *CaseService) change(ctx context.Context, sess Session, what string, kind OpKind, id ID, payload any) error {
	c, err := s.store.Case(ctx, id)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if _, err := s.caseOp(ctx, sess, newOp(kind, id, c.Version, payload, s.clock.Now()), local, nil, nil); err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	return nil
}

// reachOf reads the resident and their guardians and applies Reach on
// the date now: whether a message can be delivered, and who is notified.
func (s *CaseService) reachOf(ctx context.Context, residentID ID, now time.Time) (Reachability, error) {
	r, err := s.store.Resident(ctx, residentID)
	if err != nil {
		return Reachability{}, fmt.Errorf("resident %s: %w", residentID, err)
	}
	gs, err := s.guardiansOf(ctx, r)
	if err != nil {
		return Reachability{}, fmt.Errorf("guardians of %s: %w", r.ID, err)
	}
	return Reach(r, gs, now), nil
}

// ReplyReach says whether a reply in case id can reach the resident now,
// with the same reasons as Skicka ärende (Reach), so that the case view
// can say so before the staff member types (R1, R5, R7, R10). Reply
// refuses what it refuses regardless. It needs the same right as opening
// the case and writes no access-log entry of its own: the case view asks
// right after OpenCase, which logged the opening, and it tells no more
// than a refused reply would.
func (s *CaseService) ReplyReach(ctx context.Context, sess Session, id ID) (Reachability, error) {
	c, err := s.store.Case(ctx, id)
	if err != nil {
		return Reachability{}, fmt.Errorf("reach of case %s: %w", id, err)
	}
	if !mayHandle(sess, c) {
		return Reachability{}, forbid("reach of case", id)
	}
	reach, err := s.reachOf(ctx, c.ResidentID, s.clock.Now())
	if err != nil {
		return Reachability{}, fmt.Errorf("reach of case %s: %w", id, err)
	}
	return reach, nil
}

// GuardianAuthors names the guardians who wrote in the case in proxy mode
// (R5), by resident id, so that staff see which guardian wrote. Only the
// child's own guardians (current, or held after a register change) are
// named; an author the store does not have is left out. The names are part
// of the case: opening it is what is logged.
func (s *CaseService) GuardianAuthors(ctx context.Context, sess Session, t *Thread) (map[ID]string, error) {
	if t == nil || !mayHandle(sess, &t.Case) {
		return nil, forbid("guardian authors of case", "")
	}
	var ids []ID
	for _, m := range t.Messages {
		if m.Author == AuthorGuardian && m.AuthorID != "" && !slices.Contains(ids, m.AuthorID) {
			ids = append(ids, m.AuthorID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	child, err := s.store.Resident(ctx, t.Case.ResidentID)
	if err != nil {
		return nil, fmt.Errorf("guardian authors of case %s: %w", t.Case.ID, err)
	}
	own := func(id ID) bool {
		for _, g := range slices.Concat(child.Guardians, child.HeldBlocks) {
			if g.GuardianID == id {
				return true
			}
		}
		return false
	}
	ids = slices.DeleteFunc(ids, func(id ID) bool { return !own(id) })
	rs, err := s.store.ResidentsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("guardian authors of case %s: %w", t.Case.ID, err)
	}
	out := make(map[ID]string, len(rs))
	for id, r := range rs {
		out[id] = r.Register.FullName()
	}
	return out, nil
}

// attachmentsOf checks files and gives each an id.
func attachmentsOf(files []File, now time.Time) ([]Attachment, map[ID][]byte, error) {
	if len(files) == 0 {
		return nil, nil, nil
	}
	if len(files) > MaxAttachmentsPerMessage {
		return nil, nil, ErrTooManyAttachments
	}
	atts := make([]Attachment, 0, len(files))
	blobs := make(map[ID][]byte, len(files))
	for i, f := range files {
		a, err := NewAttachment(f.Name, f.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("attachment %d: %w", i+1, err)
		}
		a.ID = NewID(now)
		atts = append(atts, a)
		blobs[a.ID] = f.Data
	}
	return atts, blobs, nil
}

// AttachmentData returns the bytes of an attachment on a case the session
// may handle, checked against the digest on its message, and records the
// reading in the access log.
func (s *CaseService) AttachmentData(ctx context.Context, sess Session, caseID, attID ID) (Attachment, []byte, error) {
	t, err := s.store.Thread(ctx, caseID)
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("attachment of case %s: %w", caseID, err)
	}
	if !mayHandle(sess, &t.Case) {
		return Attachment{}, nil, forbid("attachment of case", caseID)
	}
	a, ok := t.attachment(attID)
	if !ok {
		return Attachment{}, nil, fmt.Errorf("attachment %s of case %s: %w", attID, caseID, ErrNotFound)
	}
	if err := s.record(ctx, sess, AccessReadMessage, t.Case.ResidentID, caseID); err != nil {
		return Attachment{}, nil, err
	}
	data, err := s.store.AttachmentData(ctx, caseID, attID)
	if err != nil {
		err = notDownloaded(err)
		return Attachment{}, nil, fmt.Errorf("attachment %s of case %s: %w", attID, caseID, err)
	}
	if err := a.verify(data); err != nil {
		return Attachment{}, nil, fmt.Errorf("attachment %s of case %s: %w", attID, caseID, err)
	}
	return a, data, nil
}

// AddNote adds an internal note; residents never see notes.
func (s *CaseService) AddNote(ctx context.Context, sess Session, id ID, text string) error {
	if err := checkBody(text); err != nil {
		return fmt.Errorf("note on case %s: %w", id, err)
	}
	now := s.clock.Now()
	return s.change(ctx, sess, "note on case", OpCaseNote, id, &Note{ID: NewID(now), CaseID: id, StaffID: sess.Staff.ID, At: now, Text: text})
}

// Assign gives a case to an ärendehanterare of the clinic (ärendemottagare
// only). A new case becomes Pågående.
func (s *CaseService) Assign(ctx context.Context, sess Session, id, assignee ID) error {
	if !sess.Staff.Has(sess.ClinicID, RoleCaseReceiver) {
		return forbid("assign case", id)
	}
	return s.change(ctx, sess, "assign case", OpCaseAssign, id, AssignChange{AssigneeID: assignee})
}

// Close closes a case.
func (s *CaseService) Close(ctx context.Context, sess Session, id ID) error {
	return s.change(ctx, sess, "close case", OpCaseStatus, id, StatusChange{Status: StatusClosed})
}

// Reopen reopens a closed case as Pågående (or Ny when unassigned).
func (s *CaseService) Reopen(ctx context.Context, sess Session, id ID) error {
	return s.change(ctx, sess, "reopen case", OpCaseStatus, id, StatusChange{Status: StatusOngoing})
}

// ExportCase returns the thread for printing or export as PDF (for copying
// into the journal) and records the access as AccessExport or AccessPrint.
// It clears no unread marker: exporting is not reading the reply.
func (s *CaseService) ExportCase(ctx context.Context, sess Session, id ID, action AccessAction) (*Thread, error) {
	if action != AccessExport && action != AccessPrint {
		return nil, fmt.Errorf("export case %s: action %q: %w", id, action, ErrInvalid)
	}
	t, err := s.store.Thread(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("export case %s: %w", id, err)
	}
	if !mayHandle(sess, &t.Case) {
		return nil, forbid("export case", id)
	}
	if err := s.record(ctx, sess, action, t.Case.ResidentID, t.Case.ID); err != nil {
		return nil, err
	}
	return t, nil
}
