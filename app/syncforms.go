package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mottagning/app/form"
)

// Sync of the e-service builder (issue 7): a lokal administratör builds
// and publishes local e-services on a connected desktop; the desktop
// queues the e-service and its form versions as ops, the server applies
// them through the same rules (role, definition check, a published version
// never changes) and feeds them to the clinic's other desktops, and the
// resident API uses the server's copy to validate submissions.

// Operation kinds of the builder.
const (
	OpEServicePut   OpKind = "eservice.put"   // payload: the EService (a local one)
	OpFormSeriesPut OpKind = "formseries.put" // payload: the form.Series of an e-service
)

// formConflict is the reason of a form op that lost: another desktop
// published first.
const formConflict = "E-tjänstens formulär ändrades på servern innan din ändring kom fram. Serverns version gäller; gör om ändringen på den."

// FindEService returns the local e-service id of any clinic, or
// ErrNotFound (the store indexes e-services by clinic).
func FindEService(ctx context.Context, store Store, id ID) (*EService, error) {
	clinics, err := store.Clinics(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range clinics {
		es, err := store.EServices(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for i := range es {
			if es[i].ID == id {
				return &es[i], nil
			}
		}
	}
	return nil, fmt.Errorf("e-service %s: %w", id, ErrNotFound)
}

func isStandardEService(id ID) bool {
	for _, e := range StandardCatalogue {
		if e.ID == id {
			return true
		}
	}
	return false
}

// applyEService stores a local e-service (its name, description and
// definition) made or changed on a desktop. Only the clinic's lokal
// administratör may; a standard e-service and another clinic's are refused.
func (s *CaseService) applyEService(ctx context.Context, st *Staff, op *SyncOp, _ time.Time) (OpResult, error) {
	var e EService
	if err := decodePayload(op, &e); err != nil {
		return OpResult{}, err
	}
	if e.ID == "" || e.ClinicID == "" || e.Standard || isStandardEService(e.ID) {
		return OpResult{}, fmt.Errorf("e-service %s: %w", e.ID, ErrInvalid)
	}
	if !st.Has(e.ClinicID, RoleLocalAdmin) {
		return OpResult{}, forbid("change e-service", e.ID)
	}
	old, err := FindEService(ctx, s.store, e.ID)
	switch {
	case err == nil && old.ClinicID != e.ClinicID:
		return OpResult{}, forbid("change e-service", e.ID)
	case err != nil && !errors.Is(err, ErrNotFound):
		return OpResult{}, err
	}
	e.Name = strings.TrimSpace(e.Name)
	if e.Name == "" {
		return OpResult{}, fmt.Errorf("e-service %s: empty name: %w", e.ID, ErrInvalid)
	}
	if e.Definition != nil {
		if err := e.Definition.Check(); err != nil {
			return OpResult{}, fmt.Errorf("e-service %s: %w", e.ID, err)
		}
	}
	if err := s.store.PutEService(ctx, &e); err != nil {
		return OpResult{}, fmt.Errorf("e-service %s: %w", e.ID, err)
	}
	return OpResult{}, nil
}

// applyFormSeries stores the form versions of a local e-service. Versions
// published for the first time are checked as Publish checks them; a
// series that would change or drop a published version (another desktop
// published first) loses as a conflict, and the server's series is fed
// again so that the desktop gets it back.
func (s *CaseService) applyFormSeries(ctx context.Context, st *Staff, op *SyncOp, _ time.Time) (OpResult, error) {
	forms, ok := s.store.(FormStore)
	if !ok {
		return OpResult{}, fmt.Errorf("op %s: no form store: %w", op.ID, errUnsupported)
	}
	var fs form.Series
	if err := decodePayload(op, &fs); err != nil {
		return OpResult{}, err
	}
	id := ID(fs.FormID)
	if id == "" || isStandardEService(id) {
		return OpResult{}, fmt.Errorf("form %s: %w", id, ErrInvalid)
	}
	e, err := FindEService(ctx, s.store, id)
	if err != nil {
		return OpResult{}, fmt.Errorf("form %s: %w", id, err)
	}
	if !st.Has(e.ClinicID, RoleLocalAdmin) {
		return OpResult{}, forbid("change e-service form", id)
	}
	old, err := forms.FormSeries(ctx, id)
	if errors.Is(err, ErrNotFound) {
		old, err = &form.Series{FormID: string(id)}, nil
	}
	if err != nil {
		return OpResult{}, err
	}
	for i := len(old.Published); i < len(fs.Published); i++ {
		p := fs.Published[i]
		if p.Form == nil || p.Form.Version != i+1 || p.Form.ID != fs.FormID {
			return OpResult{}, fmt.Errorf("form %s version %d: %w", id, i+1, ErrInvalid)
		}
		if err := p.Form.Check(); err != nil {
			return OpResult{}, fmt.Errorf("form %s version %d: %w", id, i+1, err)
		}
	}
	err = forms.PutFormSeries(ctx, &fs)
	if errors.Is(err, form.ErrPublished) {
		if len(old.Published) > 0 {
			// Fed again: every desktop (the one that lost too) pulls the
			// server's versions.
			if err := forms.PutFormSeries(ctx, old); err != nil {
				return OpResult{}, err
			}
		}
		return OpResult{Outcome: OpConflict, Code: "conflict", Reason: formConflict, Mine: op.Payload}, nil
	}
	if err != nil {
		return OpResult{}, fmt.Errorf("form %s: %w", id, err)
	}
	return OpResult{}, nil
}
