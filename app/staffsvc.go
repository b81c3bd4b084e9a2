package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	stdsync "sync"
)

// StaffService is the behörighetsadministratör's work: giving and taking
// staff roles in the clinic, and nothing else (role table).
type StaffService struct {
	store Store
	clock Clock
	// mu serialises SetRoles: the directory has no read-modify-write in one
	// transaction for staff, and a staff record holds the roles of every
	// clinic, so two saves at once (for two clinics) must not lose one.
	mu stdsync.Mutex
}

// NewStaffService returns a StaffService over store.
func NewStaffService(store Store, clock Clock) *StaffService {
	return &StaffService{store: store, clock: clock}
}

func (s *StaffService) mayAdminister(sess Session) bool {
	return sess.Staff.Has(sess.ClinicID, RolePermissionAdmin)
}

// ClinicStaff lists every active staff member, by name, so that roles can
// be given to someone who has none in the clinic yet.
func (s *StaffService) ClinicStaff(ctx context.Context, sess Session) ([]Staff, error) {
	if !s.mayAdminister(sess) {
		return nil, forbid("list staff for clinic", sess.ClinicID)
	}
	all, err := s.store.AllStaff(ctx)
	if err != nil {
		return nil, fmt.Errorf("list staff for clinic %s: %w", sess.ClinicID, err)
	}
	out := make([]Staff, 0, len(all))
	for _, st := range all {
		if !st.Disabled {
			out = append(out, st)
		}
	}
	slices.SortStableFunc(out, func(a, b Staff) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// SetRoles replaces staffID's roles in the session's clinic with roles;
// the roles in other clinics and the region roles stay as they are. Only
// a behörighetsadministratör of the clinic may, only clinic roles
// (AllClinicRoles), and never for their own account, so that nobody locks
// themselves out or raises themselves (ErrForbidden). An unknown role is
// ErrInvalid.
func (s *StaffService) SetRoles(ctx context.Context, sess Session, staffID ID, roles []Role) error {
	if !s.mayAdminister(sess) {
		return forbid("set roles in clinic", sess.ClinicID)
	}
	if staffID == sess.Staff.ID {
		return forbid("set own roles, staff", staffID)
	}
	set := map[Role]bool{}
	for _, r := range roles {
		switch {
		case slices.Contains(AllClinicRoles, r):
			set[r] = true
		case r == RoleContactCenter:
			// A region role: not the clinic's to give.
			return fmt.Errorf("set roles of staff %s: region role %s: %w", staffID, r, ErrForbidden)
		default:
			// The value is left out: it is not ours to know what it holds.
			return fmt.Errorf("set roles of staff %s: unknown role: %w", staffID, ErrInvalid)
		}
	}
	// In the order the UI shows them, without duplicates.
	var clean []Role
	for _, r := range AllClinicRoles {
		if set[r] {
			clean = append(clean, r)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.store.Staff(ctx, staffID)
	if err != nil {
		return fmt.Errorf("set roles of staff %s: %w", staffID, err)
	}
	if st.Disabled {
		return fmt.Errorf("set roles of staff %s: account disabled: %w", staffID, ErrInvalid)
	}
	roleMap := make(map[ID][]Role, len(st.Roles)+1)
	for c, rs := range st.Roles {
		roleMap[c] = rs
	}
	if len(clean) == 0 {
		delete(roleMap, sess.ClinicID) // no role: not in the clinic at all
	} else {
		roleMap[sess.ClinicID] = clean
	}
	st.Roles = roleMap
	if err := s.store.PutStaff(ctx, st); err != nil {
		return fmt.Errorf("set roles of staff %s: %w", staffID, err)
	}
	return nil
}
