package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"mottagning/app/personnummer"
)

// AuditService lets a granskare read the clinic's access log
// (patientdatalagen 4 kap.: a care provider reviews who accessed which
// resident's data). This is a plain list; the tamper-evident log comes
// with the safety issue and will sit behind the same AccessLog port.
type AuditService struct {
	store Store
	clock Clock
}

// NewAuditService returns an AuditService over store.
func NewAuditService(store Store, clock Clock) *AuditService {
	return &AuditService{store: store, clock: clock}
}

// AuditQuery selects access-log entries of the session's clinic.
type AuditQuery struct {
	// From and To are the period [From, To); both are required, To after
	// From, and the period at most one year.
	From, To time.Time
	// StaffID keeps only what one staff member did; empty means everyone.
	StaffID ID
	// PNR keeps only the entries about one resident; zero means everyone.
	// A personnummer of nobody in the register gives no rows (not an error).
	PNR personnummer.Number
}

// AuditRow is one access-log entry as the granskare reads it: the entry
// with the names of the staff member, the resident and the clinic.
type AuditRow struct {
	AccessEntry
	// ActionLabel is Action.Label(), the Swedish text.
	ActionLabel string
	StaffName   string
	// ResidentName, PNR and ReserveNumber describe the resident whose data
	// was accessed; empty when the entry names none or the resident is gone.
	ResidentName  string
	PNR           personnummer.Number
	ReserveNumber string
	ClinicName    string
	// CaseSubject is the subject of the case the entry names; empty when
	// it names none or the case is gone.
	CaseSubject string
}

// Entries returns the access log of the session's clinic for q, newest
// first. Only a granskare of the clinic may read it.
func (s *AuditService) Entries(ctx context.Context, sess Session, q AuditQuery) ([]AuditRow, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleAuditor) {
		return nil, forbid("read access log of clinic", sess.ClinicID)
	}
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return nil, fmt.Errorf("read access log: period not set: %w", ErrInvalid)
	case !q.To.After(q.From):
		return nil, fmt.Errorf("read access log: period ends before it starts: %w", ErrInvalid)
	case q.To.After(q.From.AddDate(1, 0, 0)):
		// A review goes period by period; a year bounds what one read loads.
		return nil, fmt.Errorf("read access log: period longer than one year: %w", ErrInvalid)
	}
	var residentID ID
	if !q.PNR.IsZero() {
		r, err := s.store.ResidentByPNR(ctx, q.PNR)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, nil // nobody with that number: nothing was accessed
		case err != nil:
			return nil, fmt.Errorf("read access log of clinic %s: resident: %w", sess.ClinicID, err)
		}
		residentID = r.ID
	}
	all, err := s.store.Entries(ctx, sess.ClinicID, q.From, q.To)
	if err != nil {
		return nil, fmt.Errorf("read access log of clinic %s: %w", sess.ClinicID, err)
	}
	var kept []AccessEntry
	var rids []ID
	for _, e := range all {
		if (q.StaffID != "" && e.StaffID != q.StaffID) || (residentID != "" && e.ResidentID != residentID) {
			continue
		}
		kept = append(kept, e)
		if e.ResidentID != "" {
			rids = append(rids, e.ResidentID)
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	slices.Sort(rids)
	rs, err := s.store.ResidentsByID(ctx, slices.Compact(rids))
	if err != nil {
		return nil, fmt.Errorf("read access log of clinic %s: residents: %w", sess.ClinicID, err)
	}
	staff, err := s.store.AllStaff(ctx)
	if err != nil {
		return nil, fmt.Errorf("read access log of clinic %s: staff: %w", sess.ClinicID, err)
	}
	names := make(map[ID]string, len(staff))
	for _, st := range staff {
		names[st.ID] = st.Name
	}
	clinicName := ""
	if c, err := s.store.Clinic(ctx, sess.ClinicID); err == nil {
		clinicName = c.Name
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("read access log of clinic %s: clinic: %w", sess.ClinicID, err)
	}
	cids := make([]ID, 0, len(kept))
	for _, e := range kept {
		cids = append(cids, e.CaseID)
	}
	subjects, err := caseSubjects(ctx, s.store, cids)
	if err != nil {
		return nil, fmt.Errorf("read access log of clinic %s: %w", sess.ClinicID, err)
	}
	out := make([]AuditRow, 0, len(kept))
	for i := len(kept) - 1; i >= 0; i-- { // the store gives oldest first
		e := kept[i]
		row := AuditRow{AccessEntry: e, ActionLabel: e.Action.Label(), StaffName: names[e.StaffID], ClinicName: clinicName,
			CaseSubject: subjects[e.CaseID]}
		if r := rs[e.ResidentID]; r != nil {
			row.ResidentName, row.PNR, row.ReserveNumber = r.Register.FullName(), r.PNR, r.ReserveNumber
		}
		out = append(out, row)
	}
	return out, nil
}
