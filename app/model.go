package app

import (
	"time"

	"mottagning/app/form"
	"mottagning/app/personnummer"
)

// Role is what a staff member may do in one clinic (shared/DOMAIN.md, role
// table). A staff member may hold several roles per clinic.
type Role string

// The roles of the staff tool. The string values are stable storage codes;
// Label gives the Swedish name the UI shows.
const (
	RoleCaseReceiver    Role = "arendemottagare"          // sees all cases of the clinic, assigns them
	RoleCaseHandler     Role = "arendehanterare"          // handles cases assigned to them, Skicka ärende
	RoleLocalAdmin      Role = "lokal-administrator"      // templates, e-services, clinic settings, block a guardian
	RolePermissionAdmin Role = "behorighetsadministrator" // gives and takes staff roles; nothing else
	RoleAuditor         Role = "granskare"                // reads the clinic's access log; no case handling
	RoleContactCenter   Role = "kontaktcenter"            // region role: locks/unlocks a resident's login (R10)
)

// AllClinicRoles lists the roles held per clinic, in the order the UI shows them.
var AllClinicRoles = []Role{RoleCaseReceiver, RoleCaseHandler, RoleLocalAdmin, RolePermissionAdmin, RoleAuditor}

// Label is the Swedish name of the role.
func (r Role) Label() string {
	switch r {
	case RoleCaseReceiver:
		return "Ärendemottagare"
	case RoleCaseHandler:
		return "Ärendehanterare"
	case RoleLocalAdmin:
		return "Lokal administratör"
	case RolePermissionAdmin:
		return "Behörighetsadministratör"
	case RoleAuditor:
		return "Granskare"
	case RoleContactCenter:
		return "Kontaktcenter"
	}
	return string(r)
}

// Clinic is a mottagning activated in the staff tool (R15).
type Clinic struct {
	ID     ID
	Name   string
	Region string
	// StandardEServices are the ids of the catalogue e-services
	// (StandardCatalogue) this clinic has activated.
	StandardEServices []ID
}

// Staff is a medarbetare. Roles are per clinic; RegionRoles hold the
// region-wide kontaktcenter role.
type Staff struct {
	ID          ID
	Name        string
	Username    string
	Title       string
	Roles       map[ID][]Role
	RegionRoles []Role
	Disabled    bool
}

// Has reports whether the staff member holds role r in clinic c.
func (s *Staff) Has(c ID, r Role) bool {
	if s == nil || s.Disabled {
		return false
	}
	for _, x := range s.Roles[c] {
		if x == r {
			return true
		}
	}
	return false
}

// HasRegion reports whether the staff member holds the region role r.
func (s *Staff) HasRegion(r Role) bool {
	if s == nil || s.Disabled {
		return false
	}
	for _, x := range s.RegionRoles {
		if x == r {
			return true
		}
	}
	return false
}

// InClinic reports whether the staff member has any role in clinic c.
// Nobody sees anything of a clinic they have no role in.
func (s *Staff) InClinic(c ID) bool {
	return s != nil && !s.Disabled && len(s.Roles[c]) > 0
}

// Address is a postal address from the population register.
type Address struct {
	Street     string
	PostalCode string
	City       string
}

// Register is what folkbokföringen says about a person (R12): nobody edits
// it in this system; it changes only through a register import.
type Register struct {
	GivenName         string
	FamilyName        string
	Address           Address
	ProtectedIdentity bool // skyddade personuppgifter (R7, R9)
	Deceased          bool
}

// FullName is "Förnamn Efternamn".
func (r Register) FullName() string {
	switch {
	case r.GivenName == "":
		return r.FamilyName
	case r.FamilyName == "":
		return r.GivenName
	}
	return r.GivenName + " " + r.FamilyName
}

// Account is the resident's e-service account state.
type Account struct {
	// Activated is set by the first e-ID sign-in (R1) or, for a child under
	// 13, when a guardian activates the child's login in proxy mode (R5).
	Activated   bool
	ActivatedAt time.Time
	// LastSignIn is the resident's own latest e-ID sign-in (zero: never).
	LastSignIn    time.Time
	LoginLocked   bool // låst inloggning (R10)
	JournalSealed bool // förseglad journal (R11), independent of LoginLocked
	// LockEvents are the latest changes of LoginLocked, oldest first: by
	// the kontaktcenter with the identity check and reason, or by the
	// resident.
	LockEvents []LockEvent `json:",omitempty"`
}

// Settings are the resident's own inställningar (R3, R13). Only the resident
// edits them (R14).
type Settings struct {
	Mobile      string // E.164, e.g. +46701234567
	Email       string
	NotifySMS   bool
	NotifyEmail bool
	// ShareWithCare: the resident shares mobile and e-mail with care
	// providers (R13); only then do staff see them (R14).
	ShareWithCare bool
	// SavedAt is when the resident last saved the settings. R8 uses it:
	// settings saved before the 13th birthday no longer count.
	SavedAt time.Time
}

// NotifyChoice is the notification method as the resident set it.
type NotifyChoice string

// The four choices staff see read-only in Skicka ärende (R14).
const (
	NotifyNone  NotifyChoice = "ingen"
	NotifySMS   NotifyChoice = "sms"
	NotifyEmail NotifyChoice = "e-post"
	NotifyBoth  NotifyChoice = "båda"
)

// Label is the Swedish text of the choice.
func (c NotifyChoice) Label() string {
	switch c {
	case NotifySMS:
		return "SMS"
	case NotifyEmail:
		return "E-post"
	case NotifyBoth:
		return "SMS och e-post"
	}
	return "Ingen avisering"
}

// Choice returns the notification method as the resident set it. A channel
// counts only when it is switched on and its address is filled in.
func (s Settings) Choice() NotifyChoice {
	sms := s.NotifySMS && s.Mobile != ""
	mail := s.NotifyEmail && s.Email != ""
	switch {
	case sms && mail:
		return NotifyBoth
	case sms:
		return NotifySMS
	case mail:
		return NotifyEmail
	}
	return NotifyNone
}

// GuardianContact is what a guardian filled in under one child's settings
// (R6): each child has separate settings.
type GuardianContact struct {
	Mobile  string
	Email   string
	SavedAt time.Time
}

// IsEmpty reports whether nothing is filled in.
func (g GuardianContact) IsEmpty() bool { return g.Mobile == "" && g.Email == "" }

// Guardianship links a child to one guardian (from the register), with the
// guardian's contact details under the child's settings and the block a
// lokal administratör may set.
type Guardianship struct {
	GuardianID ID
	// ProxyActivated: this guardian has activated the child's login in
	// proxy mode (R5).
	ProxyActivated bool
	Contact        GuardianContact
	Blocked        bool // proxy access blocked for this child (e.g. social services decision)
	BlockedBy      ID   // staff id
	BlockedAt      time.Time
	BlockedClinic  ID
}

// Resident is an invånare.
type Resident struct {
	ID ID
	// PNR is the personnummer or samordningsnummer; zero when the person is
	// known to care only by a reserve number.
	PNR personnummer.Number
	// ReserveNumber is the care provider's reservnummer for a person without
	// a usable personnummer. Such a person cannot use the e-services.
	ReserveNumber string
	Register      Register
	Account       Account
	Settings      Settings
	// Guardians is set on a child: one entry per guardian in the register.
	Guardians []Guardianship
	// HeldBlocks are a lokal administratör's blocks of guardians the
	// population register no longer lists for this child, with only the
	// block fields kept. A register import must never lift a block, not
	// even by leaving the guardian out once and listing them again later:
	// ApplyRegister holds the block here and puts it back when the
	// guardian returns. Only BlockGuardian lifts one.
	HeldBlocks []Guardianship `json:",omitempty"`
	// Demo marks synthetic residents (children and samordningsnummer built
	// with a valid check digit, see shared/DOMAIN.md). They never leave a
	// demo database.
	Demo bool
	// UpdatedAt is the time of the last change to this record.
	UpdatedAt time.Time
}

// Guardianship returns the child's guardianship entry for guardian g.
func (r *Resident) Guardianship(g ID) (Guardianship, bool) {
	for _, x := range r.Guardians {
		if x.GuardianID == g {
			return x, true
		}
	}
	return Guardianship{}, false
}

// CaseKind says whether a case came from an e-service or was started by
// staff as an invånarärende of kind Information or Fråga.
type CaseKind string

// Case kinds (shared/DOMAIN.md, case model).
const (
	KindEService    CaseKind = "etjanst"
	KindInformation CaseKind = "information" // the resident cannot answer (R16)
	KindQuestion    CaseKind = "fraga"       // the resident can answer (R16)
)

// Label is the Swedish name of the kind.
func (k CaseKind) Label() string {
	switch k {
	case KindInformation:
		return "Information"
	case KindQuestion:
		return "Fråga"
	case KindEService:
		return "E-tjänst"
	}
	return string(k)
}

// Status is a case's status.
type Status string

// Statuses (shared/DOMAIN.md).
const (
	StatusNew     Status = "ny"       // Ny: not yet assigned
	StatusOngoing Status = "pagaende" // Pågående: assigned
	StatusWaiting Status = "vantar"   // Väntar på invånaren: question sent, no answer yet
	StatusClosed  Status = "avslutad" // Avslutad: closed; can be reopened
)

// AllStatuses in workflow order.
var AllStatuses = []Status{StatusNew, StatusOngoing, StatusWaiting, StatusClosed}

// Label is the Swedish status text.
func (s Status) Label() string {
	switch s {
	case StatusNew:
		return "Ny"
	case StatusOngoing:
		return "Pågående"
	case StatusWaiting:
		return "Väntar på invånaren"
	case StatusClosed:
		return "Avslutad"
	}
	return string(s)
}

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	for _, x := range AllStatuses {
		if s == x {
			return true
		}
	}
	return false
}

// StartedBy says who started a case; staff see it in every list (R5).
type StartedBy string

// Who can start a case.
const (
	StartedByResident StartedBy = "invanaren"
	StartedByGuardian StartedBy = "vardnadshavare" // Vårdnadshavare i ombudsläge, for a child under 13
	StartedByClinic   StartedBy = "mottagningen"
)

// Label is the Swedish text.
func (s StartedBy) Label() string {
	switch s {
	case StartedByResident:
		return "Invånaren"
	case StartedByGuardian:
		return "Vårdnadshavare i ombudsläge"
	case StartedByClinic:
		return "Mottagningen"
	}
	return string(s)
}

// Case is an ärende: the header of a thread between a clinic and a resident.
// Messages and notes are separate records (Thread) so that case lists read
// only headers.
type Case struct {
	ID         ID
	ClinicID   ID
	ResidentID ID
	Kind       CaseKind
	// EServiceID is set for KindEService.
	EServiceID ID
	TemplateID ID
	Subject    string
	Status     Status
	AssigneeID ID
	StartedBy  StartedBy
	// StartedByGuardian is the guardian's resident id when StartedBy is
	// StartedByGuardian.
	StartedByGuardian ID
	// CreatorID is the staff member who started the case with Skicka
	// ärende (StartedByClinic); an ärendehanterare keeps seeing what they
	// started after it is reassigned (CaseVisible).
	CreatorID    ID `json:",omitempty"`
	CreatedAt    time.Time
	LastActivity time.Time
	// UnreadByStaff: the resident's latest message has not been opened by staff.
	UnreadByStaff bool
	ClosedAt      time.Time
	// Version is the central server's version of the header (0 before the
	// server has seen it); a connected desktop sends it as an op's base.
	Version uint64 `json:",omitempty"`
	// StatusVersion and AssigneeVersion are the server versions at which
	// the status and the assignee last changed (0: as created). The server
	// decides a status or assignee op made on an older base with them
	// (docs/sync.md, Conflicts).
	StatusVersion   uint64 `json:",omitempty"`
	AssigneeVersion uint64 `json:",omitempty"`
	// StatusBy and AssigneeBy are the devices whose ops made those
	// changes ("" for any other change): a desktop's own earlier change
	// is no conflict for its later ops.
	StatusBy   ID `json:",omitempty"`
	AssigneeBy ID `json:",omitempty"`
}

// Answerable reports whether the resident may reply (R16): questions and
// e-service cases can be answered, information cannot.
func (c *Case) Answerable() bool { return c.Kind != KindInformation }

// AuthorKind says who wrote a message.
type AuthorKind string

// Message authors.
const (
	AuthorResident AuthorKind = "invanare"
	AuthorGuardian AuthorKind = "vardnadshavare" // in proxy mode, in the child's name
	AuthorStaff    AuthorKind = "personal"
)

// Message is one entry of a case thread, visible to the resident.
type Message struct {
	ID       ID
	CaseID   ID
	Author   AuthorKind
	AuthorID ID // staff id or resident id
	At       time.Time
	Text     string
	// ReadByResident is when the resident (or guardian in proxy mode)
	// first read it; zero while unread. Staff see it per message.
	ReadByResident time.Time
	// Attachments describe the files on the message; their bytes are in
	// the store under each attachment's id.
	Attachments []Attachment `json:",omitempty"`
	// Answers and FormVersion are set on the first message of a case a
	// resident started through an e-service: the cleaned answers, and the
	// published version of the form they answer (it never changes).
	Answers     form.Answers `json:",omitempty"`
	FormVersion int          `json:",omitempty"`
}

// Note is an internal note on a case. Residents never see notes.
type Note struct {
	ID      ID
	CaseID  ID
	StaffID ID
	At      time.Time
	Text    string
}

// Thread is a case with its messages and notes, oldest first.
type Thread struct {
	Case     Case
	Messages []Message
	Notes    []Note
	// Blobs are the bytes of attachments new in this change, by attachment
	// id. The store writes them in the same transaction as the thread and
	// never reads them back here (see CaseStore.AttachmentData).
	Blobs map[ID][]byte `json:"-"`
	// Outbox are the notifications of messages new in this change (see
	// Notification). The store writes them in the same transaction as the
	// messages, so a message never enters an inbox without its
	// notifications, nor the other way round; a store that sends nothing
	// itself (the connected desktop) ignores them.
	Outbox []Notification `json:"-"`
}

// TemplateKind is the kind of case a message template starts.
type TemplateKind = CaseKind

// MessageTemplate is a meddelandemall a case is started from: Information
// (cannot be answered) or Fråga (can be answered).
type MessageTemplate struct {
	ID        ID
	ClinicID  ID
	Name      string
	Kind      TemplateKind // KindInformation or KindQuestion
	Subject   string
	Body      string
	UpdatedAt time.Time
	// Retired: taken out of use by the lokal administratör. A template is
	// never deleted (old cases name it); a retired one is offered nowhere
	// new (Skicka ärende, massutskick, standard replies) and can be taken
	// into use again.
	Retired bool `json:",omitempty"`
}

// EService is an e-tjänst: a standard one from the national catalogue or a
// local one a clinic designed (R15). The form itself comes with the
// e-service builder.
type EService struct {
	ID          ID
	ClinicID    ID // empty for a catalogue (standard) e-service
	Name        string
	Description string
	Standard    bool
	// Definition is who may use it, where cases go, the automatic reply
	// and the closed message (issue 7); nil until the builder sets it.
	// The form's versions are kept apart, in a form.Series with FormID ID.
	Definition *form.Definition `json:",omitempty"`
}

// StandardCatalogue is the national catalogue of standard e-services a
// clinic can activate (shared/DOMAIN.md, case model). The ids are fixed so
// every database and the server agree on them.
var StandardCatalogue = []EService{
	{ID: "std-av-omboka-tid", Name: "Av- och omboka tid", Standard: true, Description: "Avboka eller omboka en bokad tid."},
	{ID: "std-fornya-recept", Name: "Förnya recept", Standard: true, Description: "Be om förnyelse av ett recept."},
	{ID: "std-kontakta-mottagningen", Name: "Kontakta mottagningen", Standard: true, Description: "Skriv till mottagningen i ett ärende som inte är brådskande."},
	{ID: "std-bestall-intyg", Name: "Beställ intyg", Standard: true, Description: "Beställ ett intyg från mottagningen."},
	{ID: "std-egen-vardbegaran", Name: "Egen vårdbegäran", Standard: true, Description: "Be om en bedömning eller remiss."},
}

// AccessAction is what staff did to a resident's data. Every service that
// reads or sends patient data records one (patientdatalagen 4 kap.).
type AccessAction string

// Access-log actions.
const (
	AccessOpenCase       AccessAction = "oppna-arende"
	AccessLookupResident AccessAction = "sla-upp-invanare"
	AccessReadMessage    AccessAction = "lasa-meddelande"
	AccessSend           AccessAction = "skicka"
	AccessExport         AccessAction = "exportera"
	AccessPrint          AccessAction = "skriva-ut"
	// AccessSyncPull: the server sent a case's content to a staff member's
	// device (a pull page or a push's answer); recorded by the server,
	// once per device, case and case version.
	AccessSyncPull AccessAction = "hamta-till-dator"
	// AccessLoginLock: a kontaktcenter locked or unlocked a resident's
	// login (R10); recorded with no clinic.
	AccessLoginLock AccessAction = "andra-inloggningssparr"
)

// Label is the Swedish text of the action.
func (a AccessAction) Label() string {
	switch a {
	case AccessOpenCase:
		return "Öppnade ärende"
	case AccessLookupResident:
		return "Slog upp invånare"
	case AccessReadMessage:
		return "Läste meddelande"
	case AccessSend:
		return "Skickade"
	case AccessExport:
		return "Exporterade"
	case AccessPrint:
		return "Skrev ut"
	case AccessSyncPull:
		return "Hämtade till dator"
	case AccessLoginLock:
		return "Ändrade spärr av inloggning"
	}
	return string(a)
}

// AccessEntry is one access-log record: who, when, what, whose data, from
// which clinic (vårdenhet).
type AccessEntry struct {
	ID         ID
	At         time.Time
	StaffID    ID
	ClinicID   ID
	ResidentID ID
	CaseID     ID
	Action     AccessAction
	// Device is the device the data went to (AccessSyncPull); empty for
	// every other action, and then left out of the record and the chain's
	// hash, so entries written before it existed keep their hashes.
	Device ID `json:",omitempty"`
}
