package app

import (
	"context"
	"time"

	"mottagning/app/personnummer"
)

// The ports: small interfaces the services consume. storage implements them
// on bbolt; later the sync client implements "where changes go" for the
// connected desktop. Every getter returns ErrNotFound (wrapped) for a missing
// record, never (nil, nil).

// ResidentStore holds residents (register data, account, settings).
type ResidentStore interface {
	// PutResident creates or replaces a resident and its personnummer index.
	PutResident(ctx context.Context, r *Resident) error
	Resident(ctx context.Context, id ID) (*Resident, error)
	// ResidentByPNR finds a resident by personnummer through a keyed-hash index.
	ResidentByPNR(ctx context.Context, pnr personnummer.Number) (*Resident, error)
	// ResidentsByID returns the residents that exist among ids.
	ResidentsByID(ctx context.Context, ids []ID) (map[ID]*Resident, error)
	// UpdateResident loads, changes and writes one resident in one transaction.
	UpdateResident(ctx context.Context, id ID, fn func(r *Resident) error) error
}

// CaseQuery selects one page of a clinic's case list, newest activity first.
type CaseQuery struct {
	ClinicID ID
	// Status filters on one status; empty means all.
	Status Status
	// AssigneeID filters on the assignee; empty means anyone.
	AssigneeID ID
	// Limit is the page size (default 50, at most 500).
	Limit int
	// After is the cursor from the previous page's Next; empty for the first page.
	After string
}

// CasePage is one page of a case list.
type CasePage struct {
	Cases []Case
	// Next is the cursor for the following page; empty at the end.
	Next string
}

// CaseStore holds cases, their messages and notes.
type CaseStore interface {
	// CreateThread writes a new case with its first messages and notes in
	// one transaction, and records w with it (Write).
	CreateThread(ctx context.Context, t *Thread, w Write) error
	// ImportThreads writes many new threads, batched into large transactions.
	ImportThreads(ctx context.Context, ts []Thread) error
	Case(ctx context.Context, id ID) (*Case, error)
	Thread(ctx context.Context, id ID) (*Thread, error)
	// UpdateThread loads a thread, lets fn change it (header fields, new
	// messages or notes, read marks) and writes it back with its indexes in
	// one transaction, and records w with it (Write). An error from fn
	// aborts without writing anything.
	UpdateThread(ctx context.Context, id ID, w Write, fn func(t *Thread) error) error
	// ListCases reads one page through the clinic indexes without scanning all cases.
	ListCases(ctx context.Context, q CaseQuery) (CasePage, error)
	// CasesOfResident lists the headers of every case of one resident.
	CasesOfResident(ctx context.Context, residentID ID) ([]Case, error)
	// ResidentCasesPage lists one page of a resident's cases, newest
	// first by case id (ids are time-ordered, so a page never shifts when
	// cases change): at most limit (1 to 500) with ids below before (""
	// for the first page), and the id to continue before ("" at the end).
	ResidentCasesPage(ctx context.Context, residentID, before ID, limit int) ([]Case, ID, error)
	// AttachmentData returns the bytes of attachment id of case caseID,
	// written with the case's Blobs; ErrNotFound when the case holds none
	// under that id (whatever another case holds under it).
	AttachmentData(ctx context.Context, caseID, id ID) ([]byte, error)
}

// DirectoryStore holds clinics, staff, templates and e-services.
type DirectoryStore interface {
	PutClinic(ctx context.Context, c *Clinic) error
	Clinic(ctx context.Context, id ID) (*Clinic, error)
	Clinics(ctx context.Context) ([]Clinic, error)
	PutStaff(ctx context.Context, s *Staff) error
	Staff(ctx context.Context, id ID) (*Staff, error)
	AllStaff(ctx context.Context) ([]Staff, error)
	PutTemplate(ctx context.Context, t *MessageTemplate) error
	Template(ctx context.Context, id ID) (*MessageTemplate, error)
	Templates(ctx context.Context, clinicID ID) ([]MessageTemplate, error)
	PutEService(ctx context.Context, e *EService) error
	EServices(ctx context.Context, clinicID ID) ([]EService, error)
}

// AccessLog is the access-log port (patientdatalagen 4 kap.): every service
// that reads or sends patient data records who did what, when, to whose
// data and from which clinic. A failure to record is a failure of the
// access itself: services return the error and show nothing.
type AccessLog interface {
	Record(ctx context.Context, e AccessEntry) error
	// Entries lists the log of one clinic in the period [from, to), oldest first.
	Entries(ctx context.Context, clinicID ID, from, to time.Time) ([]AccessEntry, error)
}

// Store is everything a desktop in standalone mode keeps locally.
type Store interface {
	ResidentStore
	CaseStore
	DirectoryStore
	AccessLog
	CredentialStore
}
