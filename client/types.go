package client

import (
	"fmt"
	"time"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// The wire types of the API (docs/openapi.yaml). They are plain data with
// JSON tags and no dependency on package app, so the wire format stays
// stable while the domain types change; the server converts between them.
// IDs are opaque strings (26-character ULIDs) and carry no personal data.

// Error is the body of every error response and the error the client
// returns for one. Code is stable (see docs/openapi.yaml); Message is a
// Swedish sentence for the user. Neither ever holds a personnummer, a name
// or message text.
type Error struct {
	// Status is the HTTP status; not part of the body.
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Field   string   `json:"field,omitempty"`   // the refused field of an "invalid" error, when known
	Reasons []Reason `json:"reasons,omitempty"` // why a send or a proxy was refused
	// Revocation is when and why the device was revoked ("device_revoked",
	// told only to the device itself).
	Revocation *Revocation `json:"revocation,omitempty"`
}

// Revocation is an administrator's revocation of a device, as the device
// is told it.
type Revocation struct {
	// Reason is the administrator's words (or the server's); empty when
	// the caller did not prove it is the device.
	Reason    string    `json:"reason,omitempty"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

// Revoked reports the revocation of a "device_revoked" answer (the
// desktop's sync engine reads it through this method).
func (e *Error) Revoked() (reason string, at time.Time, ok bool) {
	if e.Code != "device_revoked" {
		return "", time.Time{}, false
	}
	if e.Revocation != nil {
		reason, at = e.Revocation.Reason, e.Revocation.RevokedAt
	}
	return reason, at, true
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("mottagning api: %d %s (%s)", e.Status, e.Code, e.Field)
	}
	return fmt.Sprintf("mottagning api: %d %s", e.Status, e.Code)
}

// Reason is a coded reason with its Swedish text: a blocking reason before
// sending (barn-ej-aktiverat, last-inloggning, …) or a proxy refusal.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field is the refused answer's path (e-service submissions).
	Field string `json:"field,omitempty"`
}

// --- staff: sign-in ---

// StaffSignInRequest signs a staff member in on a device. The first sign-in
// of a device registers it, with DeviceKey. A device id alone proves
// nothing: naming a device takes Challenge (POST /api/staff/auth/challenge)
// and DeviceProof, the device key's Ed25519 signature of
// app.DeviceProofBytes("signin", DeviceID, Challenge) (docs/sync.md, Devices).
type StaffSignInRequest struct {
	Username     string `json:"username"`
	Password     string `json:"password"`
	TOTP         string `json:"totp,omitempty"`
	RecoveryCode string `json:"recoveryCode,omitempty"`
	DeviceID     string `json:"deviceId,omitempty"`
	DeviceName   string `json:"deviceName,omitempty"`
	DeviceKey    []byte `json:"deviceKey,omitempty"`
	Challenge    string `json:"challenge,omitempty"`
	DeviceProof  []byte `json:"deviceProof,omitempty"`
}

// Challenge is the answer of POST /api/staff/auth/challenge: single-use,
// until Expires.
type Challenge struct {
	Challenge string    `json:"challenge"`
	Expires   time.Time `json:"expires"`
}

// Tokens are a staff member's access and refresh tokens.
type Tokens struct {
	AccessToken    string    `json:"accessToken"`
	RefreshToken   string    `json:"refreshToken"`
	AccessExpires  time.Time `json:"accessExpires"`
	RefreshExpires time.Time `json:"refreshExpires,omitzero"`
	DeviceID       string    `json:"deviceId,omitempty"`
	// DeviceKeyBound: the device holds the key the request presented or
	// proved; the desktop names the device at its next sign-in.
	DeviceKeyBound bool `json:"deviceKeyBound,omitempty"`
}

// RefreshRequest exchanges a refresh token for new tokens. With DeviceKey,
// Challenge and DeviceProof (the key's signature of
// app.DeviceProofBytes("adopt", device id, Challenge)) a device registered
// before device keys adopts its key: the refresh token proves it is that
// device.
type RefreshRequest struct {
	RefreshToken string `json:"refreshToken"`
	DeviceKey    []byte `json:"deviceKey,omitempty"`
	Challenge    string `json:"challenge,omitempty"`
	DeviceProof  []byte `json:"deviceProof,omitempty"`
}

// Device is a registered device as an administrator sees it
// (GET /api/staff/devices).
type Device struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	RegisteredAt time.Time `json:"registeredAt"`
	RegisteredBy string    `json:"registeredBy"`
	LastSeen     time.Time `json:"lastSeen,omitzero"`
	// Staff are the staff members who have signed in on it (ids).
	Staff []string `json:"staff"`
	// Keyed: it proves itself with a device key.
	Keyed        bool      `json:"keyed"`
	Revoked      bool      `json:"revoked"`
	RevokedAt    time.Time `json:"revokedAt,omitzero"`
	RevokedBy    string    `json:"revokedBy,omitempty"`
	RevokeReason string    `json:"revokeReason,omitempty"`
}

// RevokeDeviceRequest is the body of POST /api/staff/devices/{id}/revoke.
// Reason is shown to the device's users (at most 200 characters).
type RevokeDeviceRequest struct {
	Reason string `json:"reason"`
}

// StaffMe is who the access token belongs to.
type StaffMe struct {
	// TOTPEnrollmentRequired: a role of the account requires a second
	// factor that is not enrolled; nothing but the enrolment works until it is.
	TOTPEnrollmentRequired bool                `json:"totpEnrollmentRequired,omitempty"`
	StaffID                string              `json:"staffId"`
	DeviceID               string              `json:"deviceId,omitempty"`
	Username               string              `json:"username"`
	Roles                  map[string][]string `json:"roles"`
	RegionRoles            []string            `json:"regionRoles,omitempty"`
	Expires                time.Time           `json:"expires"`
}

// --- staff: cases ---

// Case is a case header as staff see it.
type Case struct {
	ID                string    `json:"id"`
	ClinicID          string    `json:"clinicId"`
	ResidentID        string    `json:"residentId"`
	Kind              string    `json:"kind"` // etjanst | information | fraga
	EServiceID        string    `json:"eserviceId,omitempty"`
	TemplateID        string    `json:"templateId,omitempty"`
	Subject           string    `json:"subject"`
	Status            string    `json:"status"` // ny | pagaende | vantar | avslutad
	AssigneeID        string    `json:"assigneeId,omitempty"`
	StartedBy         string    `json:"startedBy"` // invanaren | vardnadshavare | mottagningen
	StartedByGuardian string    `json:"startedByGuardian,omitempty"`
	CreatedAt         time.Time `json:"createdAt,omitzero"`
	LastActivity      time.Time `json:"lastActivity"`
	UnreadByStaff     bool      `json:"unreadByStaff"`
	ClosedAt          time.Time `json:"closedAt,omitzero"`
}

// CaseRow is one line of a case list.
type CaseRow struct {
	Case
	ResidentName  string `json:"residentName"`
	Personnummer  string `json:"personnummer,omitempty"`
	ReserveNumber string `json:"reserveNumber,omitempty"`
}

// CasePage is a page of a case list. Next is the cursor of the following
// page (empty at the end). Total and Unread are set by the search form.
type CasePage struct {
	Rows   []CaseRow `json:"rows"`
	Next   string    `json:"next,omitempty"`
	Total  int       `json:"total,omitempty"`
	Unread int       `json:"unread,omitempty"`
}

// CaseListQuery selects a case list: List is "clinic" (Mottagningens
// ärenden) or "mine" (Mina ärenden).
type CaseListQuery struct {
	List   string // clinic | mine
	Status string
	Limit  int
	After  string
}

// CaseSearch is the filtered, sorted case list of the staff tool.
type CaseSearch struct {
	List       string `json:"list"` // clinic | mine
	Status     string `json:"status,omitempty"`
	Type       string `json:"type,omitempty"`
	AssigneeID string `json:"assigneeId,omitempty"`
	Unassigned bool   `json:"unassigned,omitempty"`
	UnreadOnly bool   `json:"unreadOnly,omitempty"`
	// Search is a personnummer, digits of one, or text in the subject or
	// the resident's name. It goes in the body, never in a URL.
	Search  string `json:"search,omitempty"`
	Sort    string `json:"sort,omitempty"` // activity | status | subject | type | resident | startedBy
	Reverse bool   `json:"reverse,omitempty"`
	Offset  int    `json:"offset,omitempty"`
	Limit   int    `json:"limit,omitempty"`
}

// Attachment describes a file on a message (the bytes are not in the thread).
type Attachment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// Message is one message of a thread. ReadByResident is the read receipt
// (zero while unread).
type Message struct {
	ID             string       `json:"id"`
	Author         string       `json:"author"` // invanare | vardnadshavare | personal
	AuthorID       string       `json:"authorId,omitempty"`
	At             time.Time    `json:"at"`
	Text           string       `json:"text"`
	ReadByResident time.Time    `json:"readByResident,omitzero"`
	Attachments    []Attachment `json:"attachments,omitempty"`
}

// Note is an internal note; residents never see notes.
type Note struct {
	ID      string    `json:"id"`
	StaffID string    `json:"staffId"`
	At      time.Time `json:"at"`
	Text    string    `json:"text"`
}

// Thread is an opened case: header, messages and notes.
type Thread struct {
	Case     Case      `json:"case"`
	Messages []Message `json:"messages"`
	Notes    []Note    `json:"notes"`
}

// NotificationStatus is what staff see of a notification: never the address.
type NotificationStatus struct {
	ID          string    `json:"id"`
	MessageID   string    `json:"messageId"`
	Channel     string    `json:"channel"`   // sms | epost
	Recipient   string    `json:"recipient"` // invanare | vardnadshavare
	State       string    `json:"state"`     // koad | skickad | misslyckad
	Attempts    int       `json:"attempts"`
	CreatedAt   time.Time `json:"createdAt"`
	LastAttempt time.Time `json:"lastAttempt,omitzero"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	DoneAt      time.Time `json:"doneAt,omitzero"`
}

// SendCaseRequest is Skicka ärende.
type SendCaseRequest struct {
	TemplateID string `json:"templateId"`
	ResidentID string `json:"residentId"`
	Subject    string `json:"subject"`
	Text       string `json:"text"`
}

// TextRequest carries a reply's or a note's text.
type TextRequest struct {
	Text string `json:"text"`
}

// AssignRequest gives a case to a staff member.
type AssignRequest struct {
	AssigneeID string `json:"assigneeId"`
}

// LookupRequest looks a resident up by personnummer (in the body, so it
// never appears in a URL or an access log of a proxy).
type LookupRequest struct {
	Personnummer string `json:"personnummer"`
}

// Address is a postal address from the population register.
type Address struct {
	Street     string `json:"street"`
	PostalCode string `json:"postalCode"`
	City       string `json:"city"`
}

// Reachability is what staff see before sending (shared/DOMAIN.md).
type Reachability struct {
	OK                bool     `json:"ok"`
	Blocking          []Reason `json:"blocking,omitempty"`
	Facts             []string `json:"facts,omitempty"`
	Choice            string   `json:"choice"` // ingen | sms | e-post | båda
	NotifyCount       int      `json:"notifyCount"`
	NotifiedGuardians []string `json:"notifiedGuardians,omitempty"`
}

// GuardianView is a child's guardian as staff see it.
type GuardianView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	MayAct   bool   `json:"mayAct"`
	Blocked  bool   `json:"blocked"`
	Notified bool   `json:"notified"`
}

// ResidentView is what staff see of a resident in Skicka ärende: no address
// with protected identity (R9), phone and e-mail only when shared (R13, R14).
type ResidentView struct {
	ID                string         `json:"id"`
	Personnummer      string         `json:"personnummer,omitempty"`
	ReserveNumber     string         `json:"reserveNumber,omitempty"`
	Name              string         `json:"name"`
	Address           *Address       `json:"address,omitempty"`
	ProtectedIdentity bool           `json:"protectedIdentity"`
	Deceased          bool           `json:"deceased"`
	Age               int            `json:"age"`
	Child             bool           `json:"child"`
	Choice            string         `json:"choice"`
	Mobile            string         `json:"mobile,omitempty"`
	Email             string         `json:"email,omitempty"`
	LoginLocked       bool           `json:"loginLocked"`
	JournalSealed     bool           `json:"journalSealed"`
	Activated         bool           `json:"activated"`
	Guardians         []GuardianView `json:"guardians,omitempty"`
	Reach             Reachability   `json:"reach"`
}

// Template is a message template (meddelandemall) or standard reply.
type Template struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// TestNotificationRequest is "Skicka testavisering".
type TestNotificationRequest struct {
	Channel string `json:"channel"` // sms | epost
	Address string `json:"address"`
}

// BlockGuardianRequest blocks or unblocks one guardian for one child.
type BlockGuardianRequest struct {
	Blocked bool `json:"blocked"`
}

// RegionResidentRequest is the kontaktcenter's lock/unlock or seal/unseal
// of a resident's login or record, on the resident's request (R10, R11).
type RegionResidentRequest struct {
	Personnummer string `json:"personnummer"`
	On           bool   `json:"on"`
	// IdentityCheck and Reason are required by a lock or unlock (R10):
	// app.IdentityCheck and app.LockReason codes.
	IdentityCheck string `json:"identityCheck,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// RegionResident is what the kontaktcenter sees of a resident: who, and
// the state of the login and record (app.ContactView).
type RegionResident struct {
	ResidentID    string          `json:"residentId"`
	Name          string          `json:"name"`
	Personnummer  string          `json:"personnummer"`
	LoginLocked   bool            `json:"loginLocked"`
	JournalSealed bool            `json:"journalSealed"`
	Deceased      bool            `json:"deceased"`
	Last          *RegionLockInfo `json:"last,omitempty"`
}

// RegionLockInfo is the latest change of a login lock.
type RegionLockInfo struct {
	At            time.Time `json:"at"`
	Locked        bool      `json:"locked"`
	By            string    `json:"by,omitempty"`
	IdentityCheck string    `json:"identityCheck"`
	Reason        string    `json:"reason"`
}

// RegionResidentOf is the wire form of v.
func RegionResidentOf(v *app.ContactView) RegionResident {
	out := RegionResident{ResidentID: string(v.ResidentID), Name: v.Name, Personnummer: v.PNR.String(),
		LoginLocked: v.LoginLocked, JournalSealed: v.JournalSealed, Deceased: v.Deceased}
	if e := v.Last; e != nil {
		out.Last = &RegionLockInfo{At: e.At, Locked: e.Locked, By: string(e.By), IdentityCheck: string(e.Check), Reason: string(e.Reason)}
	}
	return out
}

// App is the view the desktop's kontaktcenter screen shows.
func (r RegionResident) App() (*app.ContactView, error) {
	n, err := personnummer.Parse(r.Personnummer)
	if err != nil {
		return nil, fmt.Errorf("region resident: %w", err)
	}
	v := &app.ContactView{ResidentID: app.ID(r.ResidentID), Name: r.Name, PNR: n,
		LoginLocked: r.LoginLocked, JournalSealed: r.JournalSealed, Deceased: r.Deceased}
	if e := r.Last; e != nil {
		v.Last = &app.LockEvent{At: e.At, Locked: e.Locked, By: app.ID(e.By), Check: app.IdentityCheck(e.IdentityCheck), Reason: app.LockReason(e.Reason)}
	}
	return v, nil
}

// --- resident ---

// EIDStartRequest starts an e-ID sign-in (BankID/Freja shaped).
type EIDStartRequest struct {
	Personnummer string `json:"personnummer"`
}

// EIDStartResponse carries the order to collect.
type EIDStartResponse struct {
	OrderRef string `json:"orderRef"`
}

// EIDCollectRequest polls an order.
type EIDCollectRequest struct {
	OrderRef string `json:"orderRef"`
}

// EIDCollectResponse is "pending" (poll again after a second) or
// "complete" with the resident's session.
type EIDCollectResponse struct {
	Status   string           `json:"status"` // pending | complete
	HintCode string           `json:"hintCode,omitempty"`
	Session  *ResidentSession `json:"session,omitempty"`
}

// ResidentSession is a signed-in resident's bearer token.
type ResidentSession struct {
	Token      string    `json:"token"`
	Expires    time.Time `json:"expires"`
	ResidentID string    `json:"residentId"`
	// FirstSignIn: this sign-in activated the account (R1).
	FirstSignIn bool `json:"firstSignIn"`
}

// Settings are the resident's own settings (R3, R13).
type Settings struct {
	Mobile        string    `json:"mobile"`
	Email         string    `json:"email"`
	NotifySMS     bool      `json:"notifySms"`
	NotifyEmail   bool      `json:"notifyEmail"`
	ShareWithCare bool      `json:"shareWithCare"`
	SavedAt       time.Time `json:"savedAt,omitzero"`
}

// ResidentMe is the signed-in resident.
type ResidentMe struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Activated           bool     `json:"activated"`
	JournalSealed       bool     `json:"journalSealed"`
	NeedsSettingsPrompt bool     `json:"needsSettingsPrompt"`
	Settings            Settings `json:"settings"`
}

// GuardianContact is what a guardian fills in under one child's settings (R6).
type GuardianContact struct {
	Mobile string `json:"mobile"`
	Email  string `json:"email"`
}

// Child is a child of the signed-in guardian, from the register.
type Child struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Age            int             `json:"age"`
	MayAct         bool            `json:"mayAct"`
	Reason         *Reason         `json:"reason,omitempty"` // why not, when MayAct is false
	ProxyActivated bool            `json:"proxyActivated"`
	Contact        GuardianContact `json:"contact"`
}

// ResidentCase is a case in an inbox.
type ResidentCase struct {
	ID           string    `json:"id"`
	ClinicID     string    `json:"clinicId"`
	Kind         string    `json:"kind"`
	EServiceID   string    `json:"eserviceId,omitempty"`
	Subject      string    `json:"subject"`
	Status       string    `json:"status"`
	StartedBy    string    `json:"startedBy"`
	CreatedAt    time.Time `json:"createdAt"`
	LastActivity time.Time `json:"lastActivity"`
	Answerable   bool      `json:"answerable"`
}

// ResidentMessage is a message as the resident sees it.
type ResidentMessage struct {
	ID     string    `json:"id"`
	Author string    `json:"author"` // invanare | vardnadshavare | personal
	At     time.Time `json:"at"`
	Text   string    `json:"text"`
}

// ResidentThread is a case opened by the resident (never with notes).
type ResidentThread struct {
	Case     ResidentCase      `json:"case"`
	Messages []ResidentMessage `json:"messages"`
}

// StartCaseRequest starts a case through an e-service, in the resident's
// own name or (For) a child's in proxy mode.
type StartCaseRequest struct {
	For        string `json:"for,omitempty"`
	ClinicID   string `json:"clinicId"`
	EServiceID string `json:"eserviceId"`
	Subject    string `json:"subject"`
	Text       string `json:"text"`
}

// EService is an e-service a clinic offers.
type EService struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Standard    bool   `json:"standard"`
}

// Clinic is a clinic with the e-services it offers residents.
type Clinic struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	EServices []EService `json:"eservices"`
}

// SealRequest seals or unseals the resident's record (R11).
type SealRequest struct {
	Sealed bool `json:"sealed"`
}

// TOTPEnrollment is the answer of POST /api/staff/me/totp: the new secret
// (base32, for typing in), the otpauth:// URL and that URL as a QR code
// (PNG) for an authenticator app. Nothing is asked at sign-in until the
// enrolment is confirmed.
type TOTPEnrollment struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauthUrl"`
	QRPNG      []byte `json:"qrPng"`
}

// TOTPConfirmRequest confirms an enrolment with a code from the app.
type TOTPConfirmRequest struct {
	Code string `json:"code"`
}

// TOTPConfirmation holds the single-use recovery codes, shown once.
type TOTPConfirmation struct {
	RecoveryCodes []string `json:"recoveryCodes"`
}

// InboxPage is one page of a resident's inbox, newest case first. Next
// is the cursor of the following page (empty at the end); a cursor stays
// valid however the cases change.
type InboxPage struct {
	Cases []ResidentCase `json:"cases"`
	Next  string         `json:"next,omitempty"`
}
