package wire

import (
	"mottagning/app"
	"mottagning/app/form"
	"mottagning/app/personnummer"
	"time"
)

// The bodies of the sync calls (docs/sync.md). Their names are camelCase
// tags; the records inside them keep the names of the records.

// Media types of the binary pull page and push answer (sync/pullwire.go):
// the frames carry the same records as the JSON bodies.
const (
	PullMediaType = "application/vnd.mottagning.pull.v1"
	PushMediaType = "application/vnd.mottagning.push.v1"
)

// PushRequest is POST /api/sync/push: the device's oldest pending ops, in
// queue order, and its pull cursor.
type PushRequest struct {
	DeviceID string `json:"deviceId"`
	Ops      []Op   `json:"ops"`
	Cursor   string `json:"cursor,omitempty"`
}

// PushResponse answers the ops of a push in order (the first ones, when
// the server stopped), with the server's state of the cases they concern.
type PushResponse struct {
	Results []Result `json:"results"`
	State   *Changes `json:"state,omitempty"`
}

// PushHead is the head frame of a binary push answer: the results, and
// the state's From and To (its records follow as frames).
type PushHead struct {
	Results []Result `json:"results"`
	From    string   `json:"from,omitempty"`
	To      string   `json:"to,omitempty"`
}

// PullResponse is GET /api/sync/pull?cursor=&limit=: the page after the
// cursor After, and the cursor after it.
type PullResponse struct {
	After   string  `json:"after"`
	Cursor  string  `json:"cursor"`
	More    bool    `json:"more"`
	Head    string  `json:"head"`
	Changes Changes `json:"changes"`
}

// PageHead is the head frame of a binary pull page: PullResponse without
// its changes, which follow as frames.
type PageHead struct {
	After  string `json:"after"`
	Cursor string `json:"cursor"`
	More   bool   `json:"more"`
	Head   string `json:"head"`
}

// Changes is one page of a pull, or the state of the cases a push
// answered: the current state of every record in it.
type Changes struct {
	Threads []PulledThread `json:"Threads,omitempty"`
	// Gone are cases the server does not hold (a rejected case.create).
	Gone       []string      `json:"Gone,omitempty"`
	Residents  []Resident    `json:"Residents,omitempty"`
	Staff      []Staff       `json:"Staff,omitempty"`
	Clinics    []Clinic      `json:"Clinics,omitempty"`
	Templates  []Template    `json:"Templates,omitempty"`
	EServices  []EService    `json:"EServices,omitempty"`
	FormSeries []form.Series `json:"FormSeries,omitempty"`
	// Withdrawn are cases that left the caller's view (PullScope): what
	// the desktop needs to drop its copy, nothing of the content.
	Withdrawn []WithdrawnCase `json:"Withdrawn,omitempty"`
	// From and To, in a push's answer: the desktop may move its pull
	// cursor from From to To with this state.
	From string `json:"From,omitempty"`
	To   string `json:"To,omitempty"`
}

// FromChanges is c on the wire.
func FromChanges(c app.SyncChanges) Changes {
	return Changes{
		Threads: Map(c.Threads, FromPulledThread), Gone: Map(c.Gone, idString), Residents: Map(c.Residents, FromResident),
		Staff: Map(c.Staff, FromStaff), Clinics: Map(c.Clinics, FromClinic), Templates: Map(c.Templates, FromTemplate),
		EServices: Map(c.EServices, FromEService), FormSeries: c.FormSeries, Withdrawn: Map(c.Withdrawn, FromWithdrawnCase),
		From: c.From, To: c.To,
	}
}

// App is c in the domain.
func (c Changes) App() app.SyncChanges {
	return app.SyncChanges{
		Threads: Map(c.Threads, PulledThread.App), Gone: Map(c.Gone, toID), Residents: Map(c.Residents, Resident.App),
		Staff: Map(c.Staff, Staff.App), Clinics: Map(c.Clinics, Clinic.App), Templates: Map(c.Templates, Template.App),
		EServices: Map(c.EServices, EService.App), FormSeries: c.FormSeries, Withdrawn: Map(c.Withdrawn, WithdrawnCase.App),
		From: c.From, To: c.To,
	}
}

// WithdrawnCase tells a desktop that a case is not its staff member's to
// see any longer (app.WithdrawnCase).
type WithdrawnCase struct {
	CaseID     string `json:"CaseID"`
	ClinicID   string `json:"ClinicID"`
	AssigneeID string `json:"AssigneeID,omitempty"`
	Status     Status `json:"Status"`
	Version    uint64 `json:"Version,omitempty"`
}

// FromWithdrawnCase is w on the wire.
func FromWithdrawnCase(w app.WithdrawnCase) WithdrawnCase {
	return WithdrawnCase{CaseID: string(w.CaseID), ClinicID: string(w.ClinicID), AssigneeID: string(w.AssigneeID),
		Status: Status(w.Status), Version: w.Version}
}

// App is w in the domain.
func (w WithdrawnCase) App() app.WithdrawnCase {
	return app.WithdrawnCase{CaseID: app.ID(w.CaseID), ClinicID: app.ID(w.ClinicID), AssigneeID: app.ID(w.AssigneeID),
		Status: app.Status(w.Status), Version: w.Version}
}

// Empty reports whether the page holds no record.
func (c *Changes) Empty() bool {
	return c == nil || len(c.Threads)+len(c.Gone)+len(c.Residents)+len(c.Staff)+len(c.Clinics)+len(c.Templates)+len(c.EServices)+len(c.FormSeries)+len(c.Withdrawn) == 0
}

// EventsResponse is GET /api/sync/events?after=: the server's head, and
// whether it passed after before the wait ended.
type EventsResponse struct {
	Head    string `json:"head"`
	Changed bool   `json:"changed"`
}

// LookupRequest is POST /api/sync/clinics/{clinic}/residents/lookup.
type LookupRequest struct {
	Personnummer string `json:"personnummer"`
}

// LookupResponse is the resident looked up and a child's guardians, as
// staff may see them.
type LookupResponse struct {
	ResidentID string     `json:"residentId"`
	Residents  []Resident `json:"residents"`
}

// VerifierResponse is GET /api/staff/me/verifier: the argon2id verifier a
// desktop caches for offline sign-in, and the staff record.
type VerifierResponse struct {
	Verifier string `json:"verifier"`
	Staff    Staff  `json:"staff"`
}

// AccessLogRequest is POST /api/sync/clinics/{clinic}/access-log: the
// period [From, To), and optionally one staff member or one resident.
type AccessLogRequest struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	StaffID string    `json:"staffId,omitempty"`
	PNR     string    `json:"personnummer,omitempty"`
}

// AccessLogResponse answers AccessLogRequest: the
// clinic's access log for a period, as its granskare reads it, newest
// first (app.AuditService.Entries).
type AccessLogResponse struct {
	Rows []AuditRow `json:"rows"`
}

// AuditRow is one access-log entry with the names a granskare reads.
type AuditRow struct {
	Entry         AccessEntry         `json:"entry"`
	ActionLabel   string              `json:"actionLabel"`
	StaffName     string              `json:"staffName,omitempty"`
	ResidentName  string              `json:"residentName,omitempty"`
	PNR           personnummer.Number `json:"pnr"`
	ReserveNumber string              `json:"reserveNumber,omitempty"`
	ClinicName    string              `json:"clinicName,omitempty"`
	CaseSubject   string              `json:"caseSubject,omitempty"`
}

// FromAuditRow is r on the wire.
func FromAuditRow(r app.AuditRow) AuditRow {
	return AuditRow{Entry: FromAccessEntry(r.AccessEntry), ActionLabel: r.ActionLabel, StaffName: r.StaffName,
		ResidentName: r.ResidentName, PNR: r.PNR, ReserveNumber: r.ReserveNumber, ClinicName: r.ClinicName,
		CaseSubject: r.CaseSubject}
}

// App is r in the domain.
func (r AuditRow) App() app.AuditRow {
	return app.AuditRow{AccessEntry: r.Entry.App(), ActionLabel: r.ActionLabel, StaffName: r.StaffName,
		ResidentName: r.ResidentName, PNR: r.PNR, ReserveNumber: r.ReserveNumber, ClinicName: r.ClinicName,
		CaseSubject: r.CaseSubject}
}

// NextPin is GET /api/sync/next-pin: the server's announcement of the
// certificate it will present next, signed with the key of the
// certificate it presents now (docs/sync.md, Operations). It carries that
// certificate itself, so that a desktop that knows only the pinned
// fingerprint can check the signature, also after the switch, over a
// connection it does not trust.
type NextPin struct {
	// Format names the signed text's layout: "mottagning-next-pin/1".
	Format string `json:"format"`
	// Current and Next are SHA-256 fingerprints (64 lower-case hex
	// digits) of the signing certificate and of the next one.
	Current string `json:"current"`
	Next    string `json:"next"`
	// NotAfter ends the announcement: a desktop switches to Next only
	// before it.
	NotAfter time.Time `json:"notAfter"`
	// Cert is the signing certificate (DER); its SHA-256 is Current.
	Cert []byte `json:"cert"`
	// Signature signs the text of sync.NextPinText with Cert's key.
	Signature []byte `json:"signature"`
}
