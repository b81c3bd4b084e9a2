package sync

import (
	"mottagning/app"
)

// Limits of the protocol (docs/sync.md, Push and Pull).
const (
	// MaxPushOps is the most ops in one push.
	MaxPushOps = 500
	// PushBudget is the size a push batch is filled up to; one op larger
	// than that (an attachment) goes alone.
	PushBudget = 4 << 20
	// MaxPushBody is the largest push body the server reads: one
	// attachment of app.MaxAttachmentSize in base64 with room to spare.
	MaxPushBody = 16 << 20
	// DefaultPullLimit and MaxPullLimit bound the records of one page.
	DefaultPullLimit = 2000
	MaxPullLimit     = 2000
	// EventsWait is how long the server holds GET /api/sync/events open.
	EventsWait = 20
)

// PushRequest is POST /api/sync/push: the device's oldest pending ops, in
// queue order.
type PushRequest struct {
	DeviceID string       `json:"deviceId"`
	Ops      []app.SyncOp `json:"ops"`
	// Cursor is the desktop's pull cursor: the answer's state may then
	// carry the position the cursor can move to (app.SyncChanges.To).
	Cursor string `json:"cursor,omitempty"`
}

// PushResponse answers every op of the request in order, or the first
// ones when the server stopped (the rest are pushed again). State holds the
// server's current state of every case an answered op concerned (Gone: a
// case the server does not hold), so that the desktop stores the answer
// together with what it means.
type PushResponse struct {
	Results []app.OpResult   `json:"results"`
	State   *app.SyncChanges `json:"state,omitempty"`
}

// PullResponse is GET /api/sync/pull?cursor=&limit=: the changes after the
// cursor, and the cursor after them. More: call again at once. Head is the
// server's latest change (progress of a first sync: Cursor/Head).
type PullResponse struct {
	// After is the cursor the page answers (as asked): a desktop applies
	// a page only for the cursor it asked with, never one meant for
	// another request.
	After   string          `json:"after"`
	Cursor  string          `json:"cursor"`
	More    bool            `json:"more"`
	Head    string          `json:"head"`
	Changes app.SyncChanges `json:"changes"`
}

// EventsResponse is GET /api/sync/events?after=: the server's head once it
// is past after, or after EventsWait seconds with Changed false.
type EventsResponse struct {
	Head    string `json:"head"`
	Changed bool   `json:"changed"`
}

// LookupRequest is POST /api/sync/clinics/{clinic}/residents/lookup: a
// resident never seen on this device, fetched from the server
// (access-logged there like any lookup).
type LookupRequest struct {
	Personnummer string `json:"personnummer"`
}

// LookupResponse holds the resident and a child's guardians, redacted for
// staff (app.RedactForStaff).
type LookupResponse struct {
	ResidentID string         `json:"residentId"`
	Residents  []app.Resident `json:"residents"`
}

// VerifierResponse is GET /api/staff/me/verifier: the argon2id verifier a
// desktop caches for signing in offline, and the staff record.
type VerifierResponse struct {
	Verifier string    `json:"verifier"`
	Staff    app.Staff `json:"staff"`
}
