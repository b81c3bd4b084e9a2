package app

import (
	"context"
	"fmt"
	"time"

	"mottagning/app/personnummer"
)

// The region's kontaktcenter locks and unlocks a resident's login on the
// resident's request (R10), after checking who is calling. This file is the
// one door for it: the desktop (standalone) and the server's REST route call
// the same ContactCenterService, which checks the role, records the access
// and the identity check, and changes the account.

// IdentityCheck is how the kontaktcenter made sure the caller is the
// resident.
type IdentityCheck string

// Identity checks a kontaktcenter records.
const (
	// CheckBankID: the resident signed with Mobilt BankID during the call.
	CheckBankID IdentityCheck = "mobilt-bankid"
	// CheckIDDocument: a valid ID document shown in person.
	CheckIDDocument IdentityCheck = "id-handling"
	// CheckCallBack: called back on the number in the population register
	// or the patient record, and asked control questions.
	CheckCallBack IdentityCheck = "aterringning"
)

// CheckOwnEID: the resident locked their own login, signed in with their
// e-ID (not offered to the kontaktcenter).
const CheckOwnEID IdentityCheck = "egen-e-legitimation"

// IdentityChecks are the checks in the order the kontaktcenter offers them.
var IdentityChecks = []IdentityCheck{CheckBankID, CheckIDDocument, CheckCallBack}

// Label is the Swedish text of the check.
func (c IdentityCheck) Label() string {
	switch c {
	case CheckBankID:
		return "Mobilt BankID under samtalet"
	case CheckIDDocument:
		return "Giltig id-handling vid besök"
	case CheckCallBack:
		return "Återuppringning till känt nummer och kontrollfrågor"
	case CheckOwnEID:
		return "Invånaren själv, inloggad med e-legitimation"
	}
	return string(c)
}

// LockReason is why a login is locked or unlocked.
type LockReason string

// Reasons a kontaktcenter records.
const (
	ReasonLostEID      LockReason = "forlorad-e-legitimation" // lost phone or e-ID
	ReasonSuspectedUse LockReason = "misstankt-obehorig"      // someone else may have signed in
	ReasonOwnWish      LockReason = "invanarens-onskan"       // the resident wants no digital contact
	ReasonResolved     LockReason = "atgardat"                // unlock: the cause is dealt with
)

// LockReasons are the reasons for a lock, and UnlockReasons for an unlock,
// in the order the kontaktcenter offers them.
var (
	LockReasons   = []LockReason{ReasonLostEID, ReasonSuspectedUse, ReasonOwnWish}
	UnlockReasons = []LockReason{ReasonResolved, ReasonOwnWish}
)

// Label is the Swedish text of the reason.
func (r LockReason) Label() string {
	switch r {
	case ReasonLostEID:
		return "Förlorad telefon eller e-legitimation"
	case ReasonSuspectedUse:
		return "Misstänkt att någon annan loggat in"
	case ReasonOwnWish:
		return "Invånarens egen önskan"
	case ReasonResolved:
		return "Orsaken till spärren är åtgärdad"
	}
	return string(r)
}

// LockEvent is one change of a login lock (R10), kept on the account: who
// (a kontaktcenter staff member, or the resident themselves when By is
// empty), how the caller was identified, and why.
type LockEvent struct {
	At     time.Time
	Locked bool
	By     ID `json:",omitempty"`
	Check  IdentityCheck
	Reason LockReason
}

// maxLockEvents is how many changes an account keeps; older ones stay in
// the access log.
const maxLockEvents = 20

// ContactView is what a kontaktcenter sees of a resident: enough to know
// they have the right person and the state of the login, nothing more (no
// address, no cases, no contact details).
type ContactView struct {
	ResidentID    ID
	Name          string
	PNR           personnummer.Number
	LoginLocked   bool
	JournalSealed bool
	Deceased      bool
	// Last is the latest change of the lock, if any.
	Last *LockEvent
}

// LockRequest is a kontaktcenter's lock (Locked) or unlock.
type LockRequest struct {
	PNR    string
	Locked bool
	Check  IdentityCheck
	Reason LockReason
}

// ContactCenterService is the kontaktcenter's tool (region role).
type ContactCenterService struct {
	store Store
	clock Clock
}

// NewContactCenterService returns a ContactCenterService.
func NewContactCenterService(store Store, clock Clock) *ContactCenterService {
	return &ContactCenterService{store: store, clock: clock}
}

// resident checks the role first, so that nobody else can probe which
// personnummer exist, then finds the resident.
func (s *ContactCenterService) resident(ctx context.Context, st *Staff, pnr, op string) (*Resident, error) {
	if !st.HasRegion(RoleContactCenter) {
		return nil, fmt.Errorf("%s: %w", op, ErrForbidden)
	}
	n, err := personnummer.ParseAt(pnr, s.clock.Now())
	if err != nil {
		return nil, err // Swedish, carries no input
	}
	r, err := s.store.ResidentByPNR(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return r, nil
}

// record writes the access-log entry of a region action: no clinic, the
// resident, the action. No entry, no access.
func (s *ContactCenterService) record(ctx context.Context, st *Staff, id ID, action AccessAction) error {
	now := s.clock.Now()
	if err := s.store.Record(ctx, AccessEntry{ID: NewID(now), At: now, StaffID: st.ID, ResidentID: id, Action: action}); err != nil {
		return fmt.Errorf("access log %s resident %s: %w", action, id, err)
	}
	return nil
}

// FindResident looks a resident up by personnummer for the kontaktcenter
// and records the lookup (AccessLookupResident, no clinic).
func (s *ContactCenterService) FindResident(ctx context.Context, st *Staff, pnr string) (*ContactView, error) {
	r, err := s.resident(ctx, st, pnr, "kontaktcenter lookup")
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, st, r.ID, AccessLookupResident); err != nil {
		return nil, err
	}
	return contactView(r), nil
}

// SetLoginLock locks or unlocks a resident's login on their request (R10).
// The identity check and a reason that fits the change are required; the
// change is recorded in the access log (AccessLoginLock) before it is made,
// and on the account (LockEvent). Locking what is locked, or unlocking what
// is not, is ErrConflict: the view was old.
func (s *ContactCenterService) SetLoginLock(ctx context.Context, st *Staff, req LockRequest) (*ContactView, error) {
	r, err := s.resident(ctx, st, req.PNR, "kontaktcenter lock")
	if err != nil {
		return nil, err
	}
	if !validCheck(req.Check) {
		return nil, fmt.Errorf("kontaktcenter lock %s: identity check %q: %w", r.ID, req.Check, ErrInvalid)
	}
	reasons := UnlockReasons
	if req.Locked {
		reasons = LockReasons
	}
	if !validReason(req.Reason, reasons) {
		return nil, fmt.Errorf("kontaktcenter lock %s: reason %q: %w", r.ID, req.Reason, ErrInvalid)
	}
	if r.Account.LoginLocked == req.Locked {
		return nil, fmt.Errorf("kontaktcenter lock %s: already %v: %w", r.ID, req.Locked, ErrConflict)
	}
	if err := s.record(ctx, st, r.ID, AccessLoginLock); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *Resident
	err = s.store.UpdateResident(ctx, r.ID, func(x *Resident) error {
		if x.Account.LoginLocked == req.Locked {
			return fmt.Errorf("kontaktcenter lock %s: changed meanwhile: %w", x.ID, ErrConflict)
		}
		x.Account.LoginLocked, x.UpdatedAt = req.Locked, now
		x.Account.addLockEvent(LockEvent{At: now, Locked: req.Locked, By: st.ID, Check: req.Check, Reason: req.Reason})
		out = x
		return nil
	})
	if err != nil {
		return nil, err
	}
	return contactView(out), nil
}

func (a *Account) addLockEvent(e LockEvent) {
	a.LockEvents = append(a.LockEvents, e)
	if n := len(a.LockEvents); n > maxLockEvents {
		a.LockEvents = append([]LockEvent(nil), a.LockEvents[n-maxLockEvents:]...)
	}
}

func validCheck(c IdentityCheck) bool {
	for _, x := range IdentityChecks {
		if c == x {
			return true
		}
	}
	return false
}

func validReason(r LockReason, in []LockReason) bool {
	for _, x := range in {
		if r == x {
			return true
		}
	}
	return false
}

func contactView(r *Resident) *ContactView {
	v := &ContactView{ResidentID: r.ID, Name: r.Register.FullName(), PNR: r.PNR,
		LoginLocked: r.Account.LoginLocked, JournalSealed: r.Account.JournalSealed, Deceased: r.Register.Deceased}
	if n := len(r.Account.LockEvents); n > 0 {
		e := r.Account.LockEvents[n-1]
		v.Last = &e
	}
	return v
}
