package app

import (
	"context"
	"errors"
	"fmt"

	"mottagning/app/form"
)

// UsableEService is an e-service of a clinic as the resident API lists it
// before a submission: its latest published form and whether the
// requester may use it today, with the Swedish reason when not (the same
// decision Submit makes).
type UsableEService struct {
	EService  EService
	Form      *form.Form
	Version   int
	Available bool
	Reason    string
}

// UsableEServices lists the e-services clinic offers that have a published
// form, for actor acting for owner (themselves, or a child in proxy mode:
// R5, R7, R8 and a blocked guardian are refused as Submit refuses them; a
// locked login, R10, too).
func (s *ResidentService) UsableEServices(ctx context.Context, forms FormStore, actor, owner, clinic ID) ([]UsableEService, error) {
	proxy, err := s.mayAccess(ctx, actor, owner)
	if err != nil {
		return nil, fmt.Errorf("e-services of %s for %s: %w", clinic, owner, err)
	}
	a, err := s.store.Resident(ctx, actor)
	if err != nil {
		return nil, err
	}
	if err := CanSignIn(a); err != nil {
		return nil, fmt.Errorf("e-services of %s: %w", clinic, err)
	}
	o, err := s.store.Resident(ctx, owner)
	if err != nil {
		return nil, err
	}
	offered, err := NewEServiceService(s.store, s.clock).Offered(ctx, clinic)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	req := form.Requester{ResidentID: string(o.ID), Proxy: proxy}
	if !o.PNR.IsZero() {
		req.Age = o.PNR.AgeOn(now)
	}
	out := make([]UsableEService, 0, len(offered))
	for _, e := range offered {
		series, err := formsWithStandard{forms}.FormSeries(ctx, e.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("form of e-service %s: %w", e.ID, err)
		}
		if len(series.Published) == 0 {
			continue
		}
		f, err := series.Version(len(series.Published))
		if err != nil {
			return nil, fmt.Errorf("form of e-service %s: %w", e.ID, err)
		}
		u := UsableEService{EService: e, Form: f, Version: len(series.Published), Available: true}
		if e.Definition != nil {
			u.Available, u.Reason = e.Definition.Available(req, now)
		}
		out = append(out, u)
	}
	return out, nil
}

// PublishedForm returns the latest published version of an e-service's
// form (a standard e-service's national form, or a local one's), or
// ErrNotFound.
func PublishedForm(ctx context.Context, forms FormStore, id ID) (*form.Form, int, error) {
	series, err := formsWithStandard{forms}.FormSeries(ctx, id)
	if err != nil {
		return nil, 0, fmt.Errorf("form of e-service %s: %w", id, err)
	}
	if len(series.Published) == 0 {
		return nil, 0, fmt.Errorf("form of e-service %s: not published: %w", id, ErrNotFound)
	}
	f, err := series.Version(len(series.Published))
	if err != nil {
		return nil, 0, err
	}
	return f, len(series.Published), nil
}
