package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mottagning/app/personnummer"
)

// GuardianService is the lokal administratör's view of a child's
// guardians, for blocking one guardian's proxy access to the child
// (shared/DOMAIN.md, Blocked guardian). It exists because
// CaseService.LookupResident needs a case role, which a lokal
// administratör usually does not have, and shows far more than blocking
// needs (address, contact details, reachability).
type GuardianService struct {
	store Store
	clock Clock
}

// NewGuardianService returns a GuardianService over store.
func NewGuardianService(store Store, clock Clock) *GuardianService {
	return &GuardianService{store: store, clock: clock}
}

// ChildView is what a lokal administratör sees of a resident looked up to
// block a guardian: name and age, and for a child under 13 each guardian's
// proxy state. Nothing else (no address, no contact details).
type ChildView struct {
	ID   ID
	PNR  personnummer.Number
	Name string
	Age  int
	// Child: under 13 on today's date, so guardians may have proxy access
	// (R5). From 13 nobody has (R8) and Guardians is empty.
	Child     bool
	Guardians []GuardianProxy
}

// GuardianProxy is one guardian's proxy access to the child.
type GuardianProxy struct {
	ID   ID
	Name string
	PNR  personnummer.Number
	// MayAct: the guardian may act as ombud for the child today
	// (MayActAsProxy); Reason says why not otherwise.
	MayAct bool
	Reason ProxyReason
	// Blocked: a lokal administratör has blocked this guardian's proxy
	// access to the child; BlockedAt is when.
	Blocked   bool
	BlockedAt time.Time
}

// ChildGuardians looks a resident up by personnummer for blocking a
// guardian, and records the lookup in the access log before showing
// anything. Only a lokal administratör of the clinic may.
func (s *GuardianService) ChildGuardians(ctx context.Context, sess Session, pnr personnummer.Number) (*ChildView, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleLocalAdmin) {
		return nil, forbid("look up child's guardians in clinic", sess.ClinicID)
	}
	r, err := s.store.ResidentByPNR(ctx, pnr)
	if err != nil {
		return nil, fmt.Errorf("look up child's guardians: %w", err)
	}
	now := s.clock.Now()
	err = s.store.Record(ctx, AccessEntry{
		ID: NewID(now), At: now, StaffID: sess.Staff.ID, ClinicID: sess.ClinicID,
		ResidentID: r.ID, Action: AccessLookupResident,
	})
	if err != nil {
		return nil, fmt.Errorf("access log %s resident %s: %w", AccessLookupResident, r.ID, err)
	}
	v := &ChildView{ID: r.ID, PNR: r.PNR, Name: r.Register.FullName(), Child: IsChild(r, now)}
	if !r.PNR.IsZero() {
		v.Age = r.PNR.AgeOn(now)
	}
	if !v.Child || len(r.Guardians) == 0 {
		return v, nil
	}
	ids := make([]ID, len(r.Guardians))
	for i, g := range r.Guardians {
		ids[i] = g.GuardianID
	}
	gs, err := s.store.ResidentsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("look up guardians of %s: %w", r.ID, err)
	}
	for _, g := range r.Guardians {
		gp := GuardianProxy{ID: g.GuardianID, Blocked: g.Blocked, BlockedAt: g.BlockedAt}
		if gr := gs[g.GuardianID]; gr != nil {
			gp.Name, gp.PNR = gr.Register.FullName(), gr.PNR
			if err := MayActAsProxy(gr, r, now); err != nil {
				gp.Reason = proxyReason(err)
			} else {
				gp.MayAct = true
			}
		}
		v.Guardians = append(v.Guardians, gp)
	}
	return v, nil
}

func proxyReason(err error) ProxyReason {
	var pe *ProxyError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return ""
}

// SetBlocked blocks or unblocks guardian's proxy access to child. The rule
// (who may, what is written) is ResidentService.BlockGuardian's.
func (s *GuardianService) SetBlocked(ctx context.Context, sess Session, child, guardian ID, blocked bool) error {
	return NewResidentService(s.store, s.clock).BlockGuardian(ctx, sess, child, guardian, blocked)
}
