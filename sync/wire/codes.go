package wire

// The stable codes of the protocol. Each mirrors an app type value for
// value (codes_test.go proves both directions); converting is a string
// conversion, done by the record conversions.

// OpKind names what an op does.
type OpKind string

// Op kinds.
const (
	OpCaseCreate    OpKind = "case.create"    // payload: Thread
	OpCaseMessage   OpKind = "case.message"   // payload: Message
	OpCaseNote      OpKind = "case.note"      // payload: Note
	OpCaseStatus    OpKind = "case.status"    // payload: StatusChange
	OpCaseAssign    OpKind = "case.assign"    // payload: AssignChange
	OpCaseRead      OpKind = "case.read"      // payload: none (null)
	OpAccessRecord  OpKind = "access.record"  // payload: AccessEntry
	OpTemplatePut   OpKind = "template.put"   // payload: Template
	OpAttachmentPut OpKind = "attachment.put" // payload: AttachmentPut
	OpEServicePut   OpKind = "eservice.put"   // payload: EService
	OpFormSeriesPut OpKind = "formseries.put" // payload: form.Series
)

// Outcome is the server's answer to one op.
type Outcome string

// Outcomes.
const (
	Applied  Outcome = "applied"
	Rejected Outcome = "rejected"
	Conflict Outcome = "conflict"
)

// Code is the stable code of an error kind (app.Code): why an op was
// rejected, or why a call failed.
type Code string

// Codes.
const (
	CodeNotFound        Code = "not_found"
	CodeForbidden       Code = "forbidden"
	CodeInvalid         Code = "invalid"
	CodeUnreachable     Code = "unreachable"
	CodeNotAnswerable   Code = "not_answerable"
	CodeProxyNotAllowed Code = "proxy_not_allowed"
	CodeLoginLocked     Code = "login_locked"
	CodeChildUnder13    Code = "child_under_13" // a resident sign-in; never an op's
	CodeConflict        Code = "conflict"
	CodeBadCredentials  Code = "bad_credentials"
	CodeAccountDisabled Code = "account_disabled"
	CodeUnsupported     Code = "unsupported" // an op kind the server does not apply
	CodeInternal        Code = "internal"
)

// BlockReason is why a resident cannot be sent a message (app.BlockReason).
type BlockReason string

// Block reasons.
const (
	BlockDeceased          BlockReason = "avliden"
	BlockReserveNumber     BlockReason = "reservnummer"
	BlockLoginLocked       BlockReason = "last-inloggning"
	BlockNeverSignedIn     BlockReason = "aldrig-inloggad"
	BlockChildNotActivated BlockReason = "barn-ej-aktiverat"
	BlockChildProtected    BlockReason = "barn-skyddade"
	BlockChildAllBlocked   BlockReason = "barn-alla-sparrade"
)

// Status is a case's status.
type Status string

// Statuses.
const (
	StatusNew     Status = "ny"
	StatusOngoing Status = "pagaende"
	StatusWaiting Status = "vantar"
	StatusClosed  Status = "avslutad"
)

// AuthorKind says who wrote a message.
type AuthorKind string

// Author kinds.
const (
	AuthorResident AuthorKind = "invanare"
	AuthorGuardian AuthorKind = "vardnadshavare"
	AuthorStaff    AuthorKind = "personal"
)

// Role is a staff role.
type Role string

// Roles.
const (
	RoleCaseReceiver    Role = "arendemottagare"
	RoleCaseHandler     Role = "arendehanterare"
	RoleLocalAdmin      Role = "lokal-administrator"
	RolePermissionAdmin Role = "behorighetsadministrator"
	RoleAuditor         Role = "granskare"
	RoleContactCenter   Role = "kontaktcenter"
)

// CaseKind is the kind of a case, or of a template.
type CaseKind string

// Case kinds.
const (
	KindEService      CaseKind = "etjanst"
	KindInformation   CaseKind = "information"
	KindQuestion      CaseKind = "fraga"
	KindStandardReply CaseKind = "standardsvar" // a template only: text inserted into a reply
)

// StartedBy says who started a case.
type StartedBy string

// Who can start a case.
const (
	StartedByResident StartedBy = "invanaren"
	StartedByGuardian StartedBy = "vardnadshavare"
	StartedByClinic   StartedBy = "mottagningen"
)

// Channel is a notification channel.
type Channel string

// Channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "epost"
)

// NotificationState is where a notification is on its way out.
type NotificationState string

// Notification states.
const (
	NotificationQueued NotificationState = "koad"
	NotificationSent   NotificationState = "skickad"
	NotificationFailed NotificationState = "misslyckad"
)

// AccessAction is what staff did to a resident's data (access.record).
type AccessAction string

// Access actions.
const (
	AccessOpenCase       AccessAction = "oppna-arende"
	AccessLookupResident AccessAction = "sla-upp-invanare"
	AccessReadMessage    AccessAction = "lasa-meddelande"
	AccessSend           AccessAction = "skicka"
	AccessExport         AccessAction = "exportera"
	AccessPrint          AccessAction = "skriva-ut"
	AccessSyncPull       AccessAction = "hamta-till-dator"
	AccessLoginLock      AccessAction = "andra-inloggningssparr"
)
