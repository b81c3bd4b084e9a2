package app

import (
	"context"
	"fmt"
	"strings"
)

// EServiceService lists what a clinic offers and lets its lokal
// administratör create local e-services (R15). The form builder comes later.
type EServiceService struct {
	store Store
	clock Clock
}

// NewEServiceService returns an EServiceService.
func NewEServiceService(store Store, clock Clock) *EServiceService {
	return &EServiceService{store: store, clock: clock}
}

// Offered lists the e-services a clinic offers residents: the standard
// e-services it has activated, then its local ones (R15).
func (s *EServiceService) Offered(ctx context.Context, clinicID ID) ([]EService, error) {
	c, err := s.store.Clinic(ctx, clinicID)
	if err != nil {
		return nil, fmt.Errorf("e-services of clinic %s: %w", clinicID, err)
	}
	var out []EService
	for _, id := range c.StandardEServices {
		for _, e := range StandardCatalogue {
			if e.ID == id {
				out = append(out, e)
			}
		}
	}
	local, err := s.store.EServices(ctx, clinicID)
	if err != nil {
		return nil, fmt.Errorf("e-services of clinic %s: %w", clinicID, err)
	}
	return append(out, local...), nil
}

// CreateLocal creates a local e-service of the session's clinic; only its
// lokal administratör may.
func (s *EServiceService) CreateLocal(ctx context.Context, sess Session, name, description string) (*EService, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleLocalAdmin) {
		return nil, forbid("create e-service in clinic", sess.ClinicID)
	}
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("create e-service: empty name: %w", ErrInvalid)
	}
	e := &EService{ID: NewID(s.clock.Now()), ClinicID: sess.ClinicID, Name: strings.TrimSpace(name), Description: description}
	if err := s.store.PutEService(ctx, e); err != nil {
		return nil, fmt.Errorf("create e-service %s: %w", e.ID, err)
	}
	return e, nil
}
