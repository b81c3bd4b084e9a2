package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"mottagning/app/form"
)

// Actor is who performs a resident-side action: a signed-in resident
// (ResidentID) or a staff member (Staff). Exactly one is set.
type Actor struct {
	ResidentID ID
	Staff      *Staff
}

// ResidentService is the resident side (what 1177 calls): sign-in, the
// inbox with proxy mode, replies, starting cases, settings, locking. The
// desktop uses it in standalone demo mode and the central server later.
type ResidentService struct {
	store Store
	clock Clock
}

// NewResidentService returns a ResidentService.
func NewResidentService(store Store, clock Clock) *ResidentService {
	return &ResidentService{store: store, clock: clock}
}

// SignIn records an e-ID sign-in. The first one activates the account
// (R1); a locked login cannot sign in (R10).
func (s *ResidentService) SignIn(ctx context.Context, id ID) error {
	now := s.clock.Now()
	return s.store.UpdateResident(ctx, id, func(r *Resident) error {
		if err := CanSignInPersonally(r, now); err != nil {
			return err
		}
		if !r.Account.Activated {
			r.Account.Activated, r.Account.ActivatedAt = true, now
		}
		r.Account.LastSignIn = now
		r.UpdatedAt = now
		return nil
	})
}

// mayAccess decides whether the signed-in resident may see resident
// owner's inbox: their own (R2), or a child they may act for (R5, R7, R8).
func (s *ResidentService) mayAccess(ctx context.Context, actor ID, owner ID) (proxy bool, err error) {
	if actor == owner {
		return false, nil
	}
	rs, err := s.store.ResidentsByID(ctx, []ID{actor, owner})
	if err != nil {
		return false, err
	}
	g, c := rs[actor], rs[owner]
	if g == nil || c == nil {
		return false, fmt.Errorf("resident %s acting for %s: %w", actor, owner, ErrForbidden)
	}
	if err := MayActAsProxy(g, c, s.clock.Now()); err != nil {
		return false, err
	}
	return true, nil
}

// ActivateProxy: a guardian activates the child's login in proxy mode (R5).
// It is the one proxy action on a child whose login is not yet activated
// (MayActivateProxy); every other waits for it (MayActAsProxy).
func (s *ResidentService) ActivateProxy(ctx context.Context, guardian, child ID) error {
	if guardian == child {
		return fmt.Errorf("activate proxy for %s: self: %w", child, ErrForbidden)
	}
	now := s.clock.Now()
	rs, err := s.store.ResidentsByID(ctx, []ID{guardian, child})
	if err != nil {
		return fmt.Errorf("activate proxy for %s: %w", child, err)
	}
	g, c := rs[guardian], rs[child]
	if g == nil || c == nil {
		return fmt.Errorf("activate proxy for %s by %s: %w", child, guardian, ErrForbidden)
	}
	if err := MayActivateProxy(g, c, now); err != nil {
		return fmt.Errorf("activate proxy for %s: %w", child, err)
	}
	return s.store.UpdateResident(ctx, child, func(r *Resident) error {
		for i := range r.Guardians {
			if r.Guardians[i].GuardianID == guardian {
				r.Guardians[i].ProxyActivated = true
			}
		}
		if !r.Account.Activated {
			r.Account.Activated, r.Account.ActivatedAt = true, now
		}
		r.UpdatedAt = now
		return nil
	})
}

// Inbox lists the cases in owner's inbox, as seen by actor: their own, or a
// child's they may act for (R2, R5).
func (s *ResidentService) Inbox(ctx context.Context, actor, owner ID) ([]Case, error) {
	if _, err := s.mayAccess(ctx, actor, owner); err != nil {
		return nil, fmt.Errorf("inbox of %s: %w", owner, err)
	}
	return s.store.CasesOfResident(ctx, owner)
}

// InboxPageSize is the default and MaxInboxPage the largest page of the
// paged inbox.
const (
	InboxPageSize = 50
	MaxInboxPage  = 500
)

// InboxPage lists one page of owner's inbox as seen by actor (as Inbox),
// newest case first, from the cursor before ("" for the first page); it
// returns the cursor of the next page ("" at the end). A cursor is a
// case id: it stays valid however the cases change.
func (s *ResidentService) InboxPage(ctx context.Context, actor, owner, before ID, limit int) ([]Case, ID, error) {
	if _, err := s.mayAccess(ctx, actor, owner); err != nil {
		return nil, "", fmt.Errorf("inbox of %s: %w", owner, err)
	}
	if limit <= 0 {
		limit = InboxPageSize
	}
	if limit > MaxInboxPage {
		return nil, "", fmt.Errorf("inbox of %s: a page of %d cases, at most %d: %w", owner, limit, MaxInboxPage, ErrInvalid)
	}
	if before != "" && !validCursor(before) {
		return nil, "", fmt.Errorf("inbox of %s: bad cursor: %w", owner, ErrInvalid)
	}
	return s.store.ResidentCasesPage(ctx, owner, before, limit)
}

// ReadCase returns a case for the resident (without internal notes) and
// sets the read receipt on every staff message not yet read.
func (s *ResidentService) ReadCase(ctx context.Context, actor, caseID ID) (*Thread, error) {
	t, err := s.store.Thread(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("read case %s: %w", caseID, err)
	}
	if _, err := s.mayAccess(ctx, actor, t.Case.ResidentID); err != nil {
		return nil, fmt.Errorf("read case %s: %w", caseID, err)
	}
	unread := false
	for i := range t.Messages {
		unread = unread || (t.Messages[i].Author == AuthorStaff && t.Messages[i].ReadByResident.IsZero())
	}
	if !unread {
		// Nothing to mark: a read is a read, not a write (a region's
		// residents read far more than staff write).
		return &Thread{Case: t.Case, Messages: t.Messages}, nil
	}
	now := s.clock.Now()
	var out Thread
	err = s.store.UpdateThread(ctx, caseID, Write{}, func(t *Thread) error {
		for i := range t.Messages {
			if t.Messages[i].Author == AuthorStaff && t.Messages[i].ReadByResident.IsZero() {
				t.Messages[i].ReadByResident = now
			}
		}
		out = Thread{Case: t.Case, Messages: append([]Message(nil), t.Messages...)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read case %s: %w", caseID, err)
	}
	return &out, nil // Notes deliberately left out: residents never see them.
}

// Reply adds the resident's (or the guardian's, in the child's name)
// message. Information cases cannot be answered (R16).
func (s *ResidentService) Reply(ctx context.Context, actor, caseID ID, text string) error {
	if err := checkBody(text); err != nil {
		return fmt.Errorf("resident reply to %s: %w", caseID, err)
	}
	c, err := s.store.Case(ctx, caseID)
	if err != nil {
		return fmt.Errorf("resident reply to %s: %w", caseID, err)
	}
	proxy, err := s.mayAccess(ctx, actor, c.ResidentID)
	if err != nil {
		return fmt.Errorf("resident reply to %s: %w", caseID, err)
	}
	now := s.clock.Now()
	return s.store.UpdateThread(ctx, caseID, Write{}, func(t *Thread) error {
		if !t.Case.Answerable() {
			return fmt.Errorf("resident reply to %s: %w", caseID, ErrNotAnswerable)
		}
		if t.Case.Status == StatusClosed {
			return fmt.Errorf("resident reply to %s: case closed: %w", caseID, ErrConflict)
		}
		author := AuthorResident
		if proxy {
			author = AuthorGuardian
		}
		t.Messages = append(t.Messages, Message{ID: NewID(now), CaseID: caseID, Author: author, AuthorID: actor, At: now, Text: text})
		t.Case.LastActivity, t.Case.UnreadByStaff = now, true
		if t.Case.Status == StatusWaiting {
			t.Case.Status = StatusOngoing
		}
		return nil
	})
}

// StartCase starts a case through an e-service in owner's name: by the
// resident, or by a guardian in proxy mode for a child under 13, which
// staff then see as "Vårdnadshavare i ombudsläge" (R5).
func (s *ResidentService) StartCase(ctx context.Context, actor, owner, clinicID, eserviceID ID, subject, text string) (*Case, error) {
	if err := checkText(subject, text); err != nil {
		return nil, fmt.Errorf("start case: %w", err)
	}
	proxy, err := s.mayAccess(ctx, actor, owner)
	if err != nil {
		return nil, fmt.Errorf("start case for %s: %w", owner, err)
	}
	r, err := s.store.Resident(ctx, actor)
	if err != nil {
		return nil, fmt.Errorf("start case: %w", err)
	}
	if err := CanSignIn(r); err != nil {
		return nil, fmt.Errorf("start case: %w", err)
	}
	if _, err := s.store.Clinic(ctx, clinicID); err != nil {
		return nil, fmt.Errorf("start case: clinic %s: %w", clinicID, err)
	}
	// The clinic's own definition of the e-service decides where the
	// case goes, as for a submission (Route); without one it goes to
	// Mottagningens ärenden.
	var def *form.Definition
	es, err := s.store.EServices(ctx, clinicID)
	if err != nil {
		return nil, fmt.Errorf("start case: e-services of %s: %w", clinicID, err)
	}
	for i := range es {
		if es[i].ID == eserviceID {
			def = es[i].Definition
		}
	}
	assignee, err := Route(ctx, s.store, clinicID, def)
	if err != nil {
		return nil, fmt.Errorf("start case: %w", err)
	}
	now := s.clock.Now()
	c := Case{
		ID: NewID(now), ClinicID: clinicID, ResidentID: owner, Kind: KindEService, EServiceID: eserviceID,
		Subject: strings.TrimSpace(subject), Status: StatusNew, AssigneeID: assignee, StartedBy: StartedByResident,
		CreatedAt: now, LastActivity: now, UnreadByStaff: true,
	}
	if assignee != "" {
		c.Status = StatusOngoing // as Assign does: an assigned case is Pågående
	}
	author := AuthorResident
	if proxy {
		c.StartedBy, c.StartedByGuardian, author = StartedByGuardian, actor, AuthorGuardian
	}
	t := &Thread{Case: c, Messages: []Message{{ID: NewID(now), CaseID: c.ID, Author: author, AuthorID: actor, At: now, Text: text}}}
	if err := s.store.CreateThread(ctx, t, Write{}); err != nil {
		return nil, fmt.Errorf("start case %s: %w", c.ID, err)
	}
	return &t.Case, nil
}

// UpdateSettings saves a resident's own settings. Only the resident edits
// them (R14): staff are refused. Name and address are not part of Settings
// and cannot change this way (R12).
func (s *ResidentService) UpdateSettings(ctx context.Context, actor Actor, id ID, set Settings) error {
	if actor.Staff != nil || actor.ResidentID != id {
		return fmt.Errorf("update settings of %s: %w", id, ErrForbidden)
	}
	// A child under 13 has no settings of their own: the guardians' contact
	// details under the child's settings are what count (R6), and the child
	// cannot sign in personally (CanSignInPersonally). Checked on the
	// stored resident below, in the write.
	// R13: the mobile is kept in E.164 and must be a mobile (the channel is
	// SMS); the e-mail must be a bare, plausible address. Both are checked
	// whenever filled in, not only when their channel is on, since they may
	// also be shared with care providers. The FieldError carries the
	// Swedish text for the field and never the value typed.
	set.Mobile, set.Email = strings.TrimSpace(set.Mobile), strings.TrimSpace(set.Email)
	if set.Mobile != "" {
		m, err := NormalizePhone(set.Mobile)
		if err != nil {
			return fmt.Errorf("update settings of %s: %w", id, err)
		}
		set.Mobile = m
	}
	if set.Email != "" {
		e, err := NormalizeEmail(set.Email)
		if err != nil {
			return fmt.Errorf("update settings of %s: %w", id, err)
		}
		set.Email = e
	}
	if (set.NotifySMS && set.Mobile == "") || (set.NotifyEmail && set.Email == "") {
		return fmt.Errorf("update settings of %s: channel on without address: %w", id, ErrInvalid)
	}
	now := s.clock.Now()
	set.SavedAt = now
	return s.store.UpdateResident(ctx, id, func(r *Resident) error {
		if IsChild(r, now) {
			return fmt.Errorf("update settings of %s: %w", id, ErrChildSignIn)
		}
		r.Settings, r.UpdatedAt = set, now
		return nil
	})
}

// SetGuardianContact saves a guardian's mobile and e-mail under one child's
// settings (R6). Only a guardian who may act for the child can.
func (s *ResidentService) SetGuardianContact(ctx context.Context, guardian, child ID, c GuardianContact) error {
	if _, err := s.mayAccess(ctx, guardian, child); err != nil || guardian == child {
		if err == nil {
			err = ErrForbidden
		}
		return fmt.Errorf("guardian contact for %s: %w", child, err)
	}
	// R6, R13: the same checks as the resident's own settings.
	c.Mobile, c.Email = strings.TrimSpace(c.Mobile), strings.TrimSpace(c.Email)
	if c.Mobile != "" {
		m, err := NormalizePhone(c.Mobile)
		if err != nil {
			return fmt.Errorf("guardian contact for %s: %w", child, err)
		}
		c.Mobile = m
	}
	if c.Email != "" {
		e, err := NormalizeEmail(c.Email)
		if err != nil {
			return fmt.Errorf("guardian contact for %s: %w", child, err)
		}
		c.Email = e
	}
	now := s.clock.Now()
	c.SavedAt = now
	return s.store.UpdateResident(ctx, child, func(r *Resident) error {
		for i := range r.Guardians {
			if r.Guardians[i].GuardianID == guardian {
				r.Guardians[i].Contact = c
			}
		}
		r.UpdatedAt = now
		return nil
	})
}

// SetLoginLocked is a resident locking their own login (R10), signed in
// with their e-ID. Staff use ContactCenterService.SetLoginLock, which
// records the identity check and the access. A locked resident cannot
// sign in, so unlocking goes through the kontaktcenter.
func (s *ResidentService) SetLoginLocked(ctx context.Context, actor Actor, id ID, locked bool) error {
	if actor.Staff != nil || actor.ResidentID != id {
		return fmt.Errorf("lock login of %s: %w", id, ErrForbidden)
	}
	if !locked {
		return fmt.Errorf("unlock login of %s by resident: %w", id, ErrForbidden)
	}
	now := s.clock.Now()
	return s.store.UpdateResident(ctx, id, func(r *Resident) error {
		if !r.Account.LoginLocked {
			r.Account.addLockEvent(LockEvent{At: now, Locked: true, Check: CheckOwnEID, Reason: ReasonOwnWish})
		}
		r.Account.LoginLocked, r.UpdatedAt = locked, now
		return nil
	})
}

// SetJournalSealed seals or unseals the record (R11), separately from the lock.
func (s *ResidentService) SetJournalSealed(ctx context.Context, actor Actor, id ID, sealed bool) error {
	if !(actor.Staff == nil && actor.ResidentID == id) && !actor.Staff.HasRegion(RoleContactCenter) {
		return fmt.Errorf("seal journal of %s: %w", id, ErrForbidden)
	}
	now := s.clock.Now()
	return s.store.UpdateResident(ctx, id, func(r *Resident) error {
		r.Account.JournalSealed, r.UpdatedAt = sealed, now
		return nil
	})
}

// BlockGuardian blocks or unblocks one guardian's proxy access to one
// child (lokal administratör). A blocked guardian cannot act for the child
// and is not notified about it. Unblocking also lifts a block held for a
// guardian the register no longer lists (Resident.HeldBlocks), so that it
// does not come back with them; blocking needs a current guardian.
func (s *ResidentService) BlockGuardian(ctx context.Context, sess Session, child, guardian ID, blocked bool) error {
	if !sess.Staff.Has(sess.ClinicID, RoleLocalAdmin) {
		return fmt.Errorf("block guardian for %s: %w", child, ErrForbidden)
	}
	now := s.clock.Now()
	return s.store.UpdateResident(ctx, child, func(r *Resident) error {
		for i := range r.Guardians {
			if r.Guardians[i].GuardianID == guardian {
				g := &r.Guardians[i]
				g.Blocked, g.BlockedBy, g.BlockedAt, g.BlockedClinic = blocked, sess.Staff.ID, now, sess.ClinicID
				r.UpdatedAt = now
				return nil
			}
		}
		if !blocked {
			for i := range r.HeldBlocks {
				if r.HeldBlocks[i].GuardianID == guardian {
					r.HeldBlocks = slices.Delete(r.HeldBlocks, i, i+1)
					if len(r.HeldBlocks) == 0 {
						r.HeldBlocks = nil
					}
					r.UpdatedAt = now
					return nil
				}
			}
		}
		return fmt.Errorf("block guardian %s for %s: not a guardian: %w", guardian, child, ErrNotFound)
	})
}

// ApplyRegister is the only way name, address, protected identity and
// deceased change (R12): a population-register import. It keeps the
// account, settings and guardians' contact details, and never deletes.
//
// It never lifts a guardian's block either: a blocked guardian the
// register no longer lists loses the guardianship, but the block is held
// in HeldBlocks (block fields only: no contact details of a non-guardian
// are kept) and comes back in force if a later import lists the guardian
// again. kept counts the blocks in force after the import, for guardians
// listed or held; held counts those held for guardians not listed. The
// importer reports both, so an operator sees that blocks survived.
func ApplyRegister(r *Resident, reg Register, guardians []ID) (kept, held int) {
	r.Register = reg
	old := append(append([]Guardianship(nil), r.Guardians...), r.HeldBlocks...)
	prev := make(map[ID]Guardianship, len(old))
	for _, g := range old {
		if _, seen := prev[g.GuardianID]; !seen { // a current entry wins over a held one
			prev[g.GuardianID] = g
		}
	}
	listed := make(map[ID]bool, len(guardians))
	r.Guardians = r.Guardians[:0]
	for _, id := range guardians {
		g, ok := prev[id]
		if !ok {
			g = Guardianship{GuardianID: id}
		}
		listed[id] = true
		if g.Blocked {
			kept++
		}
		r.Guardians = append(r.Guardians, g)
	}
	r.HeldBlocks = nil
	done := map[ID]bool{}
	for _, g := range old {
		if listed[g.GuardianID] || done[g.GuardianID] || !g.Blocked {
			continue
		}
		done[g.GuardianID] = true
		r.HeldBlocks = append(r.HeldBlocks, Guardianship{GuardianID: g.GuardianID, Blocked: true,
			BlockedBy: g.BlockedBy, BlockedAt: g.BlockedAt, BlockedClinic: g.BlockedClinic})
		kept++
		held++
	}
	return kept, held
}

// validCursor accepts what InboxPage hands out: a case id (at most 64
// letters, digits, '-', '_' or '.').
func validCursor(id ID) bool {
	if len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
