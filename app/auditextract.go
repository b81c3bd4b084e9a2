package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"mottagning/app/personnummer"
)

// Log extracts and chain verification for the granskare.
//
// A resident has the right to be told who accessed their data
// (patientdatalagen 8 kap. 1 §: information om direktåtkomst och
// elektronisk åtkomst). Today the resident asks the clinic, and a granskare
// of that clinic makes the extract with Extract and hands it over on paper
// or in a secure message; the extract covers the clinic's entries (the
// care unit the granskare reviews), never another clinic's.
//
// A resident can also fetch their own extract through the e-services
// (ResidentService.AccessLogExtract, served by the central server): it is
// authorised by the resident's own session — their own data (R2), or a
// child they may act for in proxy mode (R5, R7, R8, blocked guardian) —
// and reads the log of every clinic in the database, since the server's
// chain holds every synced entry of every clinic. Extract itself refuses
// everyone but a granskare of the clinic.

// ExtractRow is one access in a log extract, with the names a reader needs.
type ExtractRow struct {
	AccessEntry
	// ActionLabel is Action.Label(), the Swedish text.
	ActionLabel string
	// StaffName and StaffTitle describe who accessed the data; empty when
	// the staff member is no longer in the directory.
	StaffName, StaffTitle string
	// ClinicName is the care unit the access was made from.
	ClinicName string
	// CaseSubject is the subject of the case the entry names; empty when
	// it names none or the case is gone.
	CaseSubject string
}

// caseSubjects reads the subjects of the cases ids name, once each; a
// case that is gone has none.
func caseSubjects(ctx context.Context, store CaseStore, ids []ID) (map[ID]string, error) {
	out := map[ID]string{}
	for _, id := range ids {
		if _, done := out[id]; done || id == "" {
			continue
		}
		c, err := store.Case(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			out[id] = ""
		case err != nil:
			return nil, fmt.Errorf("case %s: %w", id, err)
		default:
			out[id] = c.Subject
		}
	}
	return out, nil
}

// TextExtractRegion is the "clinic" of a kontaktcenter's entries in a
// resident's own extract: the region's contact centre, no care unit.
const TextExtractRegion = "Kontaktcenter (regionen)"

// LogExtract is the log extract for one resident: every access to their
// data from the clinic in a period, oldest first.
type LogExtract struct {
	ResidentName string
	PNR          personnummer.Number
	// ClinicID and ClinicName are the clinic whose log the extract is from.
	ClinicID   ID
	ClinicName string
	// From and To are the period [From, To).
	From, To time.Time
	Rows     []ExtractRow
	// MadeAt, MadeBy and MadeByTitle say when and by which granskare the
	// extract was made (printed on the extract).
	MadeAt              time.Time
	MadeBy, MadeByTitle string
	// AllClinics: the extract covers every clinic of the database (a
	// resident's own extract); ClinicID is then empty and ClinicName says
	// so, and each row names its clinic.
	AllClinics bool
	// ResidentID is the person the extract is about; Proxy is set when a
	// guardian fetched a child's extract in proxy mode (R5).
	ResidentID ID
	Proxy      bool
}

// checkPeriod is the period rule of the access log's reads: both ends set,
// To after From, at most one year (a read loads the clinic's whole log for
// the period; a longer request is made a year at a time).
func checkPeriod(op string, from, to time.Time) error {
	switch {
	case from.IsZero() || to.IsZero():
		return fmt.Errorf("%s: period not set: %w", op, ErrInvalid)
	case !to.After(from):
		return fmt.Errorf("%s: period ends before it starts: %w", op, ErrInvalid)
	case to.After(from.AddDate(1, 0, 0)):
		return fmt.Errorf("%s: period longer than one year: %w", op, ErrInvalid)
	}
	return nil
}

// Extract returns the log extract for the resident with personnummer pnr
// in the period [from, to): every access to the resident's data recorded
// by the session's clinic, oldest first. Only a granskare of the clinic
// may make one. A personnummer of nobody in the register gives ErrNotFound.
//
// The extract is itself an access to the resident's data: it is recorded
// as AccessExport (by the granskare, for the resident, no case) after the
// entries are read, so the extract lists what happened before it was
// made. When the record cannot be written, no extract is returned.
func (s *AuditService) Extract(ctx context.Context, sess Session, pnr personnummer.Number, from, to time.Time) (*LogExtract, error) {
	const op = "make log extract"
	if !sess.Staff.Has(sess.ClinicID, RoleAuditor) {
		return nil, forbid(op+" of clinic", sess.ClinicID)
	}
	if pnr.IsZero() {
		return nil, fmt.Errorf("%s: no personnummer: %w", op, ErrInvalid)
	}
	if err := checkPeriod(op, from, to); err != nil {
		return nil, err
	}
	r, err := s.store.ResidentByPNR(ctx, pnr)
	if err != nil {
		// Errors name the clinic, never the personnummer.
		return nil, fmt.Errorf("%s of clinic %s: resident: %w", op, sess.ClinicID, err)
	}
	all, err := s.store.Entries(ctx, sess.ClinicID, from, to)
	if err != nil {
		return nil, fmt.Errorf("%s of clinic %s: %w", op, sess.ClinicID, err)
	}
	staff, err := s.store.AllStaff(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s of clinic %s: staff: %w", op, sess.ClinicID, err)
	}
	byID := make(map[ID]*Staff, len(staff))
	for i := range staff {
		byID[staff[i].ID] = &staff[i]
	}
	clinicName := ""
	if c, err := s.store.Clinic(ctx, sess.ClinicID); err == nil {
		clinicName = c.Name
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%s of clinic %s: clinic: %w", op, sess.ClinicID, err)
	}
	x := &LogExtract{
		ResidentName: r.Register.FullName(), PNR: r.PNR, ResidentID: r.ID,
		ClinicID: sess.ClinicID, ClinicName: clinicName,
		From: from, To: to,
		MadeAt: s.clock.Now(), MadeBy: sess.Staff.Name, MadeByTitle: sess.Staff.Title,
	}
	for _, e := range all { // the store gives oldest first
		if e.ResidentID != r.ID {
			continue
		}
		row := ExtractRow{AccessEntry: e, ActionLabel: e.Action.Label(), ClinicName: clinicName}
		if st := byID[e.StaffID]; st != nil {
			row.StaffName, row.StaffTitle = st.Name, st.Title
		}
		x.Rows = append(x.Rows, row)
	}
	slices.SortStableFunc(x.Rows, func(a, b ExtractRow) int { return a.At.Compare(b.At) })
	if err := x.addSubjects(ctx, s.store); err != nil {
		return nil, fmt.Errorf("%s of clinic %s: %w", op, sess.ClinicID, err)
	}
	err = s.store.Record(ctx, AccessEntry{
		ID: NewID(x.MadeAt), At: x.MadeAt, StaffID: sess.Staff.ID, ClinicID: sess.ClinicID,
		ResidentID: r.ID, Action: AccessExport,
	})
	if err != nil {
		return nil, fmt.Errorf("%s of clinic %s: access log: %w", op, sess.ClinicID, err)
	}
	return x, nil
}

// Texts of a resident's own extract (Swedish: the resident reads them).
const (
	TextExtractAllClinics = "Alla mottagningar i e-tjänsterna"
	TextExtractByResident = "invånaren själv i e-tjänsterna"
	TextExtractByGuardian = "vårdnadshavare i ombudsläge i e-tjänsterna"
)

// AccessLogExtract is the log extract a resident fetches through the
// e-services (patientdatalagen 8 kap. 1 §): every access staff of any
// clinic made to owner's data in [from, to), oldest first, with the staff
// member's name and title and the clinic — the content of a granskare's
// Extract, across clinics. actor is the signed-in resident: owner
// themselves, or a guardian acting for a child under 13 (R5; refused for
// protected identity, R7, from the 13th birthday, R8, and for a blocked
// guardian). A locked login gets nothing (R10): it cannot use the
// e-services at all.
//
// Making the extract is recorded in the access log after the entries are
// read, so the extract never lists itself: an AccessExport for owner with
// no staff member and no clinic (it was not an access by care staff and
// belongs to no care unit's log, so no clinic's extract or review shows
// it; it is in the database's hash chain). When the record cannot be
// written, no extract is returned.
func (s *ResidentService) AccessLogExtract(ctx context.Context, actor, owner ID, from, to time.Time) (*LogExtract, error) {
	const op = "resident log extract"
	proxy, err := s.mayAccess(ctx, actor, owner)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", op, owner, err)
	}
	rs, err := s.store.ResidentsByID(ctx, []ID{actor, owner})
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", op, owner, err)
	}
	a, r := rs[actor], rs[owner]
	if a == nil || r == nil {
		return nil, fmt.Errorf("%s of %s: resident: %w", op, owner, ErrNotFound)
	}
	if err := CanSignIn(a); err != nil { // R10, and no e-services without a personnummer
		return nil, fmt.Errorf("%s of %s: %w", op, owner, err)
	}
	if err := checkPeriod(op, from, to); err != nil {
		return nil, err
	}
	clinics, err := s.store.Clinics(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: clinics: %w", op, owner, err)
	}
	staff, err := s.store.AllStaff(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: staff: %w", op, owner, err)
	}
	byID := make(map[ID]*Staff, len(staff))
	for i := range staff {
		byID[staff[i].ID] = &staff[i]
	}
	now := s.clock.Now()
	x := &LogExtract{
		ResidentName: r.Register.FullName(), PNR: r.PNR, ResidentID: r.ID, Proxy: proxy,
		ClinicName: TextExtractAllClinics, AllClinics: true,
		From: from, To: to, MadeAt: now, MadeBy: TextExtractByResident,
	}
	if proxy {
		x.MadeBy = TextExtractByGuardian
	}
	// The kontaktcenter's entries have no clinic (R10); the resident's own
	// extracts, recorded without a staff member, are not accesses by staff.
	for _, c := range append(clinics, Clinic{Name: TextExtractRegion}) {
		// The store indexes the log by clinic; each clinic's period is
		// read and filtered here (a per-resident index would avoid it).
		all, err := s.store.Entries(ctx, c.ID, from, to)
		if err != nil {
			return nil, fmt.Errorf("%s of %s: clinic %s: %w", op, owner, c.ID, err)
		}
		for _, e := range all {
			if e.ResidentID != owner || e.StaffID == "" {
				continue
			}
			row := ExtractRow{AccessEntry: e, ActionLabel: e.Action.Label(), ClinicName: c.Name}
			if st := byID[e.StaffID]; st != nil {
				row.StaffName, row.StaffTitle = st.Name, st.Title
			}
			x.Rows = append(x.Rows, row)
		}
	}
	slices.SortStableFunc(x.Rows, func(a, b ExtractRow) int { return a.At.Compare(b.At) })
	if err := x.addSubjects(ctx, s.store); err != nil {
		return nil, fmt.Errorf("%s of %s: %w", op, owner, err)
	}
	err = s.store.Record(ctx, AccessEntry{
		ID: NewID(now), At: now, ResidentID: owner, Action: AccessExport,
	})
	if err != nil {
		return nil, fmt.Errorf("%s of %s: access log: %w", op, owner, err)
	}
	return x, nil
}

// ChainVerifier is the port Verify uses: the verification of the
// database's access-log chain (AccessLogAdmin.VerifyAccessLog).
// storage.Store satisfies it.
type ChainVerifier interface {
	VerifyAccessLog(ctx context.Context) (ChainReport, error)
}

// Verify walks the access-log chain of the database the service reads (the
// device's, or the server's) and reports the first broken link. Only a
// granskare may run it; the report holds counts, positions and entry ids,
// no personal data. The chain is the whole database's, not one clinic's.
// A store without verification gives errors.ErrUnsupported. The error is
// for a log that cannot be read; a broken chain is a report with Break set.
func (s *AuditService) Verify(ctx context.Context, sess Session) (ChainReport, error) {
	const op = "verify access log"
	if !sess.Staff.Has(sess.ClinicID, RoleAuditor) {
		return ChainReport{}, forbid(op+" as granskare of clinic", sess.ClinicID)
	}
	v, ok := s.store.(ChainVerifier)
	if !ok {
		return ChainReport{}, fmt.Errorf("%s: the store cannot verify its chain: %w", op, errors.ErrUnsupported)
	}
	rep, err := v.VerifyAccessLog(ctx)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", op, err)
	}
	return rep, nil
}

// addSubjects names the cases of the rows by their subjects.
func (x *LogExtract) addSubjects(ctx context.Context, store CaseStore) error {
	ids := make([]ID, 0, len(x.Rows))
	for _, r := range x.Rows {
		ids = append(ids, r.CaseID)
	}
	subjects, err := caseSubjects(ctx, store, ids)
	if err != nil {
		return err
	}
	for i := range x.Rows {
		x.Rows[i].CaseSubject = subjects[x.Rows[i].CaseID]
	}
	return nil
}
