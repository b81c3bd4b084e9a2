package wire

import (
	"time"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/app/personnummer"
)

// The records that cross the wire: in a pull page, in a push's answer,
// and as op payloads. Each has FromX (app → wire) and X.App (wire → app).
// The field order is the JSON order and part of the encoding: the binary
// pull carries case headers, messages and notes exactly as the server
// stores them, so a record must encode to the same bytes on both sides.

// Case is a case header.
type Case struct {
	ID                string    `json:"ID"`
	ClinicID          string    `json:"ClinicID"`
	ResidentID        string    `json:"ResidentID"`
	Kind              CaseKind  `json:"Kind"`
	EServiceID        string    `json:"EServiceID"`
	TemplateID        string    `json:"TemplateID"`
	Subject           string    `json:"Subject"`
	Status            Status    `json:"Status"`
	AssigneeID        string    `json:"AssigneeID"`
	StartedBy         StartedBy `json:"StartedBy"`
	StartedByGuardian string    `json:"StartedByGuardian"`
	CreatorID         string    `json:"CreatorID,omitempty"`
	CreatedAt         time.Time `json:"CreatedAt"`
	LastActivity      time.Time `json:"LastActivity"`
	UnreadByStaff     bool      `json:"UnreadByStaff"`
	ClosedAt          time.Time `json:"ClosedAt"`
	Version           uint64    `json:"Version,omitempty"`
	StatusVersion     uint64    `json:"StatusVersion,omitempty"`
	AssigneeVersion   uint64    `json:"AssigneeVersion,omitempty"`
	StatusBy          string    `json:"StatusBy,omitempty"`
	AssigneeBy        string    `json:"AssigneeBy,omitempty"`
}

// FromCase is c on the wire.
func FromCase(c app.Case) Case {
	return Case{
		ID: string(c.ID), ClinicID: string(c.ClinicID), ResidentID: string(c.ResidentID), Kind: CaseKind(c.Kind),
		EServiceID: string(c.EServiceID), TemplateID: string(c.TemplateID), Subject: c.Subject, Status: Status(c.Status),
		AssigneeID: string(c.AssigneeID), StartedBy: StartedBy(c.StartedBy), StartedByGuardian: string(c.StartedByGuardian),
		CreatorID: string(c.CreatorID), CreatedAt: c.CreatedAt, LastActivity: c.LastActivity, UnreadByStaff: c.UnreadByStaff,
		ClosedAt: c.ClosedAt, Version: c.Version, StatusVersion: c.StatusVersion, AssigneeVersion: c.AssigneeVersion,
		StatusBy: string(c.StatusBy), AssigneeBy: string(c.AssigneeBy),
	}
}

// App is c in the domain.
func (c Case) App() app.Case {
	return app.Case{
		ID: app.ID(c.ID), ClinicID: app.ID(c.ClinicID), ResidentID: app.ID(c.ResidentID), Kind: app.CaseKind(c.Kind),
		EServiceID: app.ID(c.EServiceID), TemplateID: app.ID(c.TemplateID), Subject: c.Subject, Status: app.Status(c.Status),
		AssigneeID: app.ID(c.AssigneeID), StartedBy: app.StartedBy(c.StartedBy), StartedByGuardian: app.ID(c.StartedByGuardian),
		CreatorID: app.ID(c.CreatorID), CreatedAt: c.CreatedAt, LastActivity: c.LastActivity, UnreadByStaff: c.UnreadByStaff,
		ClosedAt: c.ClosedAt, Version: c.Version, StatusVersion: c.StatusVersion, AssigneeVersion: c.AssigneeVersion,
		StatusBy: app.ID(c.StatusBy), AssigneeBy: app.ID(c.AssigneeBy),
	}
}

// Message is one message of a case.
type Message struct {
	ID             string       `json:"ID"`
	CaseID         string       `json:"CaseID"`
	Author         AuthorKind   `json:"Author"`
	AuthorID       string       `json:"AuthorID"`
	At             time.Time    `json:"At"`
	Text           string       `json:"Text"`
	ReadByResident time.Time    `json:"ReadByResident"`
	Attachments    []Attachment `json:"Attachments,omitempty"`
	Answers        form.Answers `json:"Answers,omitempty"`
	FormVersion    int          `json:"FormVersion,omitempty"`
}

// FromMessage is m on the wire.
func FromMessage(m app.Message) Message {
	return Message{
		ID: string(m.ID), CaseID: string(m.CaseID), Author: AuthorKind(m.Author), AuthorID: string(m.AuthorID), At: m.At,
		Text: m.Text, ReadByResident: m.ReadByResident, Attachments: Map(m.Attachments, FromAttachment),
		Answers: m.Answers, FormVersion: m.FormVersion,
	}
}

// App is m in the domain.
func (m Message) App() app.Message {
	return app.Message{
		ID: app.ID(m.ID), CaseID: app.ID(m.CaseID), Author: app.AuthorKind(m.Author), AuthorID: app.ID(m.AuthorID), At: m.At,
		Text: m.Text, ReadByResident: m.ReadByResident, Attachments: Map(m.Attachments, Attachment.App),
		Answers: m.Answers, FormVersion: m.FormVersion,
	}
}

// Attachment describes a file on a message; its bytes travel in chunks.
type Attachment struct {
	ID     string `json:"ID"`
	Name   string `json:"Name"`
	MIME   string `json:"MIME"`
	Size   int64  `json:"Size"`
	SHA256 string `json:"SHA256"`
}

// FromAttachment is a on the wire.
func FromAttachment(a app.Attachment) Attachment {
	return Attachment{ID: string(a.ID), Name: a.Name, MIME: a.MIME, Size: a.Size, SHA256: a.SHA256}
}

// App is a in the domain.
func (a Attachment) App() app.Attachment {
	return app.Attachment{ID: app.ID(a.ID), Name: a.Name, MIME: a.MIME, Size: a.Size, SHA256: a.SHA256}
}

// Note is an internal note on a case.
type Note struct {
	ID      string    `json:"ID"`
	CaseID  string    `json:"CaseID"`
	StaffID string    `json:"StaffID"`
	At      time.Time `json:"At"`
	Text    string    `json:"Text"`
}

// FromNote is n on the wire.
func FromNote(n app.Note) Note {
	return Note{ID: string(n.ID), CaseID: string(n.CaseID), StaffID: string(n.StaffID), At: n.At, Text: n.Text}
}

// App is n in the domain.
func (n Note) App() app.Note {
	return app.Note{ID: app.ID(n.ID), CaseID: app.ID(n.CaseID), StaffID: app.ID(n.StaffID), At: n.At, Text: n.Text}
}

// Thread is a case with its messages and notes: the payload of
// case.create. Attachment bytes and notifications never travel in it.
type Thread struct {
	Case     Case      `json:"Case"`
	Messages []Message `json:"Messages"`
	Notes    []Note    `json:"Notes"`
}

// FromThread is t on the wire, without its Blobs and Outbox.
func FromThread(t app.Thread) Thread {
	return Thread{Case: FromCase(t.Case), Messages: Map(t.Messages, FromMessage), Notes: Map(t.Notes, FromNote)}
}

// App is t in the domain.
func (t Thread) App() app.Thread {
	return app.Thread{Case: t.Case.App(), Messages: Map(t.Messages, Message.App), Notes: Map(t.Notes, Note.App)}
}

// PulledThread is a case as the server has it, in a pull page or a
// push's answer: a Thread with the states of its notifications and its
// feed position.
type PulledThread struct {
	Case          Case           `json:"Case"`
	Messages      []Message      `json:"Messages"`
	Notes         []Note         `json:"Notes"`
	Notifications []Notification `json:"Notifications,omitempty"`
	Seq           uint64         `json:"Seq,omitempty"`
	// RawHeader and RawItems are the stored records of the binary pull
	// (docs/sync.md, Binary pages), passed through untouched; they are
	// frames of their own, never part of the JSON.
	RawHeader []byte    `json:"-"`
	RawItems  []RawItem `json:"-"`
}

// RawItem is a stored message or note of the binary pull: Key is its
// kind byte ('m', 'n') and id, JSON its record.
type RawItem struct {
	Key  []byte `json:"-"`
	JSON []byte `json:"-"`
}

// FromPulledThread is t on the wire.
func FromPulledThread(t app.PulledThread) PulledThread {
	return PulledThread{
		Case: FromCase(t.Case), Messages: Map(t.Messages, FromMessage), Notes: Map(t.Notes, FromNote),
		Notifications: Map(t.Notifications, FromNotification), Seq: t.Seq, RawHeader: t.RawHeader,
		RawItems: Map(t.RawItems, func(r app.RawItem) RawItem { return RawItem{Key: r.Key, JSON: r.JSON} }),
	}
}

// App is t in the domain.
func (t PulledThread) App() app.PulledThread {
	return app.PulledThread{
		Thread:        app.Thread{Case: t.Case.App(), Messages: Map(t.Messages, Message.App), Notes: Map(t.Notes, Note.App)},
		Notifications: Map(t.Notifications, Notification.App), Seq: t.Seq, RawHeader: t.RawHeader,
		RawItems: Map(t.RawItems, func(r RawItem) app.RawItem { return app.RawItem{Key: r.Key, JSON: r.JSON} }),
	}
}

// Notification is the state of one notification of a message. Its
// address never reaches a desktop (the server sends app.Hidden).
type Notification struct {
	ID          string            `json:"ID"`
	CaseID      string            `json:"CaseID"`
	MessageID   string            `json:"MessageID"`
	ClinicID    string            `json:"ClinicID"`
	ResidentID  string            `json:"ResidentID"`
	RecipientID string            `json:"RecipientID"`
	Guardian    bool              `json:"Guardian"`
	Channel     Channel           `json:"Channel"`
	Address     string            `json:"Address"`
	State       NotificationState `json:"State"`
	Attempts    int               `json:"Attempts"`
	CreatedAt   time.Time         `json:"CreatedAt"`
	NextAttempt time.Time         `json:"NextAttempt"`
	LastAttempt time.Time         `json:"LastAttempt"`
	DoneAt      time.Time         `json:"DoneAt"`
	LastError   string            `json:"LastError,omitempty"`
}

// FromNotification is n on the wire.
func FromNotification(n app.Notification) Notification {
	return Notification{
		ID: string(n.ID), CaseID: string(n.CaseID), MessageID: string(n.MessageID), ClinicID: string(n.ClinicID),
		ResidentID: string(n.ResidentID), RecipientID: string(n.RecipientID), Guardian: n.Guardian, Channel: Channel(n.Channel),
		Address: n.Address, State: NotificationState(n.State), Attempts: n.Attempts, CreatedAt: n.CreatedAt,
		NextAttempt: n.NextAttempt, LastAttempt: n.LastAttempt, DoneAt: n.DoneAt, LastError: n.LastError,
	}
}

// App is n in the domain.
func (n Notification) App() app.Notification {
	return app.Notification{
		ID: app.ID(n.ID), CaseID: app.ID(n.CaseID), MessageID: app.ID(n.MessageID), ClinicID: app.ID(n.ClinicID),
		ResidentID: app.ID(n.ResidentID), RecipientID: app.ID(n.RecipientID), Guardian: n.Guardian, Channel: app.Channel(n.Channel),
		Address: n.Address, State: app.NotificationState(n.State), Attempts: n.Attempts, CreatedAt: n.CreatedAt,
		NextAttempt: n.NextAttempt, LastAttempt: n.LastAttempt, DoneAt: n.DoneAt, LastError: n.LastError,
	}
}

// Resident is a resident as staff may see them (app.RedactForStaff runs
// on the server before one is sent).
type Resident struct {
	ID            string              `json:"ID"`
	PNR           personnummer.Number `json:"PNR"`
	ReserveNumber string              `json:"ReserveNumber"`
	Register      Register            `json:"Register"`
	Account       Account             `json:"Account"`
	Settings      Settings            `json:"Settings"`
	Guardians     []Guardianship      `json:"Guardians"`
	HeldBlocks    []Guardianship      `json:"HeldBlocks,omitempty"`
	Demo          bool                `json:"Demo"`
	UpdatedAt     time.Time           `json:"UpdatedAt"`
}

// Register is what the population register says about a resident.
type Register struct {
	GivenName         string  `json:"GivenName"`
	FamilyName        string  `json:"FamilyName"`
	Address           Address `json:"Address"`
	ProtectedIdentity bool    `json:"ProtectedIdentity"`
	Deceased          bool    `json:"Deceased"`
}

// Address is a postal address.
type Address struct {
	Street     string `json:"Street"`
	PostalCode string `json:"PostalCode"`
	City       string `json:"City"`
}

// Account is a resident's e-service account state.
type Account struct {
	Activated     bool      `json:"Activated"`
	ActivatedAt   time.Time `json:"ActivatedAt"`
	LastSignIn    time.Time `json:"LastSignIn"`
	LoginLocked   bool      `json:"LoginLocked"`
	JournalSealed bool      `json:"JournalSealed"`
	// LockEvents are the latest changes of the login lock (R10).
	LockEvents []LockEvent `json:"LockEvents,omitempty"`
}

// LockEvent is one change of a login lock: when, lock or unlock, by which
// kontaktcenter staff member (empty: the resident), the identity check
// and the reason (app.IdentityCheck and app.LockReason codes).
type LockEvent struct {
	At     time.Time `json:"At"`
	Locked bool      `json:"Locked"`
	By     string    `json:"By,omitempty"`
	Check  string    `json:"Check"`
	Reason string    `json:"Reason"`
}

func fromLockEvent(e app.LockEvent) LockEvent {
	return LockEvent{At: e.At, Locked: e.Locked, By: string(e.By), Check: string(e.Check), Reason: string(e.Reason)}
}

// App is e in the domain.
func (e LockEvent) App() app.LockEvent {
	return app.LockEvent{At: e.At, Locked: e.Locked, By: app.ID(e.By), Check: app.IdentityCheck(e.Check), Reason: app.LockReason(e.Reason)}
}

// Settings are a resident's own settings.
type Settings struct {
	Mobile        string    `json:"Mobile"`
	Email         string    `json:"Email"`
	NotifySMS     bool      `json:"NotifySMS"`
	NotifyEmail   bool      `json:"NotifyEmail"`
	ShareWithCare bool      `json:"ShareWithCare"`
	SavedAt       time.Time `json:"SavedAt"`
}

// Guardianship links a child to one guardian.
type Guardianship struct {
	GuardianID     string          `json:"GuardianID"`
	ProxyActivated bool            `json:"ProxyActivated"`
	Contact        GuardianContact `json:"Contact"`
	Blocked        bool            `json:"Blocked"`
	BlockedBy      string          `json:"BlockedBy"`
	BlockedAt      time.Time       `json:"BlockedAt"`
	BlockedClinic  string          `json:"BlockedClinic"`
}

// GuardianContact is what a guardian filled in under one child's settings.
type GuardianContact struct {
	Mobile  string    `json:"Mobile"`
	Email   string    `json:"Email"`
	SavedAt time.Time `json:"SavedAt"`
}

func fromGuardianship(x app.Guardianship) Guardianship {
	return Guardianship{GuardianID: string(x.GuardianID), ProxyActivated: x.ProxyActivated,
		Contact: GuardianContact{Mobile: x.Contact.Mobile, Email: x.Contact.Email, SavedAt: x.Contact.SavedAt},
		Blocked: x.Blocked, BlockedBy: string(x.BlockedBy), BlockedAt: x.BlockedAt, BlockedClinic: string(x.BlockedClinic)}
}

// App is x in the domain.
func (x Guardianship) App() app.Guardianship {
	return app.Guardianship{GuardianID: app.ID(x.GuardianID), ProxyActivated: x.ProxyActivated,
		Contact: app.GuardianContact{Mobile: x.Contact.Mobile, Email: x.Contact.Email, SavedAt: x.Contact.SavedAt},
		Blocked: x.Blocked, BlockedBy: app.ID(x.BlockedBy), BlockedAt: x.BlockedAt, BlockedClinic: app.ID(x.BlockedClinic)}
}

// FromResident is r on the wire.
func FromResident(r app.Resident) Resident {
	g, a, s := r.Register, r.Account, r.Settings
	return Resident{
		ID: string(r.ID), PNR: r.PNR, ReserveNumber: r.ReserveNumber,
		Register: Register{GivenName: g.GivenName, FamilyName: g.FamilyName,
			Address:           Address{Street: g.Address.Street, PostalCode: g.Address.PostalCode, City: g.Address.City},
			ProtectedIdentity: g.ProtectedIdentity, Deceased: g.Deceased},
		Account: Account{Activated: a.Activated, ActivatedAt: a.ActivatedAt, LastSignIn: a.LastSignIn,
			LoginLocked: a.LoginLocked, JournalSealed: a.JournalSealed, LockEvents: Map(a.LockEvents, fromLockEvent)},
		Settings: Settings{Mobile: s.Mobile, Email: s.Email, NotifySMS: s.NotifySMS, NotifyEmail: s.NotifyEmail,
			ShareWithCare: s.ShareWithCare, SavedAt: s.SavedAt},
		Guardians: Map(r.Guardians, fromGuardianship), HeldBlocks: Map(r.HeldBlocks, fromGuardianship),
		Demo: r.Demo, UpdatedAt: r.UpdatedAt,
	}
}

// App is r in the domain.
func (r Resident) App() app.Resident {
	g, a, s := r.Register, r.Account, r.Settings
	return app.Resident{
		ID: app.ID(r.ID), PNR: r.PNR, ReserveNumber: r.ReserveNumber,
		Register: app.Register{GivenName: g.GivenName, FamilyName: g.FamilyName,
			Address:           app.Address{Street: g.Address.Street, PostalCode: g.Address.PostalCode, City: g.Address.City},
			ProtectedIdentity: g.ProtectedIdentity, Deceased: g.Deceased},
		Account: app.Account{Activated: a.Activated, ActivatedAt: a.ActivatedAt, LastSignIn: a.LastSignIn,
			LoginLocked: a.LoginLocked, JournalSealed: a.JournalSealed, LockEvents: Map(a.LockEvents, LockEvent.App)},
		Settings: app.Settings{Mobile: s.Mobile, Email: s.Email, NotifySMS: s.NotifySMS, NotifyEmail: s.NotifyEmail,
			ShareWithCare: s.ShareWithCare, SavedAt: s.SavedAt},
		Guardians: Map(r.Guardians, Guardianship.App), HeldBlocks: Map(r.HeldBlocks, Guardianship.App),
		Demo: r.Demo, UpdatedAt: r.UpdatedAt,
	}
}

// Staff is a staff member with their roles per clinic.
type Staff struct {
	ID          string            `json:"ID"`
	Name        string            `json:"Name"`
	Username    string            `json:"Username"`
	Title       string            `json:"Title"`
	Roles       map[string][]Role `json:"Roles"`
	RegionRoles []Role            `json:"RegionRoles"`
	Disabled    bool              `json:"Disabled"`
}

// FromStaff is s on the wire.
func FromStaff(s app.Staff) Staff {
	var roles map[string][]Role
	if s.Roles != nil {
		roles = make(map[string][]Role, len(s.Roles))
		for c, rs := range s.Roles {
			roles[string(c)] = Map(rs, func(r app.Role) Role { return Role(r) })
		}
	}
	return Staff{ID: string(s.ID), Name: s.Name, Username: s.Username, Title: s.Title, Roles: roles,
		RegionRoles: Map(s.RegionRoles, func(r app.Role) Role { return Role(r) }), Disabled: s.Disabled}
}

// App is s in the domain.
func (s Staff) App() app.Staff {
	var roles map[app.ID][]app.Role
	if s.Roles != nil {
		roles = make(map[app.ID][]app.Role, len(s.Roles))
		for c, rs := range s.Roles {
			roles[app.ID(c)] = Map(rs, func(r Role) app.Role { return app.Role(r) })
		}
	}
	return app.Staff{ID: app.ID(s.ID), Name: s.Name, Username: s.Username, Title: s.Title, Roles: roles,
		RegionRoles: Map(s.RegionRoles, func(r Role) app.Role { return app.Role(r) }), Disabled: s.Disabled}
}

// Clinic is a clinic and the standard e-services it activated.
type Clinic struct {
	ID                string   `json:"ID"`
	Name              string   `json:"Name"`
	Region            string   `json:"Region"`
	StandardEServices []string `json:"StandardEServices"`
}

// FromClinic is c on the wire.
func FromClinic(c app.Clinic) Clinic {
	return Clinic{ID: string(c.ID), Name: c.Name, Region: c.Region, StandardEServices: Map(c.StandardEServices, idString)}
}

// App is c in the domain.
func (c Clinic) App() app.Clinic {
	return app.Clinic{ID: app.ID(c.ID), Name: c.Name, Region: c.Region, StandardEServices: Map(c.StandardEServices, toID)}
}

// Template is a message template: the payload of template.put.
type Template struct {
	ID        string    `json:"ID"`
	ClinicID  string    `json:"ClinicID"`
	Name      string    `json:"Name"`
	Kind      CaseKind  `json:"Kind"`
	Subject   string    `json:"Subject"`
	Body      string    `json:"Body"`
	UpdatedAt time.Time `json:"UpdatedAt"`
	Retired   bool      `json:"Retired,omitempty"`
}

// FromTemplate is t on the wire.
func FromTemplate(t app.MessageTemplate) Template {
	return Template{ID: string(t.ID), ClinicID: string(t.ClinicID), Name: t.Name, Kind: CaseKind(t.Kind),
		Subject: t.Subject, Body: t.Body, UpdatedAt: t.UpdatedAt, Retired: t.Retired}
}

// App is t in the domain.
func (t Template) App() app.MessageTemplate {
	return app.MessageTemplate{ID: app.ID(t.ID), ClinicID: app.ID(t.ClinicID), Name: t.Name, Kind: app.CaseKind(t.Kind),
		Subject: t.Subject, Body: t.Body, UpdatedAt: t.UpdatedAt, Retired: t.Retired}
}

// EService is an e-service: the payload of eservice.put.
type EService struct {
	ID          string           `json:"ID"`
	ClinicID    string           `json:"ClinicID"`
	Name        string           `json:"Name"`
	Description string           `json:"Description"`
	Standard    bool             `json:"Standard"`
	Definition  *form.Definition `json:"Definition,omitempty"`
}

// FromEService is e on the wire.
func FromEService(e app.EService) EService {
	return EService{ID: string(e.ID), ClinicID: string(e.ClinicID), Name: e.Name, Description: e.Description,
		Standard: e.Standard, Definition: e.Definition}
}

// App is e in the domain.
func (e EService) App() app.EService {
	return app.EService{ID: app.ID(e.ID), ClinicID: app.ID(e.ClinicID), Name: e.Name, Description: e.Description,
		Standard: e.Standard, Definition: e.Definition}
}

// AccessEntry is an access-log entry a desktop recorded: the payload of
// access.record.
type AccessEntry struct {
	ID         string       `json:"ID"`
	At         time.Time    `json:"At"`
	StaffID    string       `json:"StaffID"`
	ClinicID   string       `json:"ClinicID"`
	ResidentID string       `json:"ResidentID"`
	CaseID     string       `json:"CaseID"`
	Action     AccessAction `json:"Action"`
	// Device is the device the data went to (a pull's entry).
	Device string `json:"Device,omitempty"`
}

// FromAccessEntry is e on the wire.
func FromAccessEntry(e app.AccessEntry) AccessEntry {
	return AccessEntry{ID: string(e.ID), At: e.At, StaffID: string(e.StaffID), ClinicID: string(e.ClinicID),
		ResidentID: string(e.ResidentID), CaseID: string(e.CaseID), Action: AccessAction(e.Action), Device: string(e.Device)}
}

// App is e in the domain.
func (e AccessEntry) App() app.AccessEntry {
	return app.AccessEntry{ID: app.ID(e.ID), At: e.At, StaffID: app.ID(e.StaffID), ClinicID: app.ID(e.ClinicID),
		ResidentID: app.ID(e.ResidentID), CaseID: app.ID(e.CaseID), Action: app.AccessAction(e.Action), Device: app.ID(e.Device)}
}

// Map converts a slice with one of the conversions, element by element:
// wire.Map(req.Ops, wire.Op.App). Nil stays nil (it encodes as null, an
// empty slice as []).
func Map[S, T any](s []S, f func(S) T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	for i := range s {
		out[i] = f(s[i])
	}
	return out
}

func idString(id app.ID) string { return string(id) }
func toID(s string) app.ID      { return app.ID(s) }
