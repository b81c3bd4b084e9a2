package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// SyncOp is one local change of a connected desktop, queued for the
// central server in the same transaction as the change (docs/sync.md).
// Ops are semantic ("add this message", "set this status on version 17"),
// so that the server can re-check the rules and merge.
type SyncOp struct {
	// ID is a random UUID made on the desktop: the server applies an op
	// with a given id at most once.
	ID string
	// Seq is the local order of the queue, set by the store.
	Seq    uint64
	Kind   OpKind
	CaseID ID `json:",omitempty"`
	// Base is the server version of the record the change was made on; 0
	// for a new record.
	Base    uint64
	Payload json.RawMessage
	MadeAt  time.Time
	// By is the staff member who made the op on this desktop (several
	// staff may share one). It stays on the desktop (storage keeps it
	// beside the op's wire form; the server knows the pusher from the
	// token): the list of rejected changes is each staff member's own.
	// Empty on ops queued before it was recorded (Maker reads the
	// payload then). Not part of the op's JSON: it never crosses the
	// network (storage writes it beside the wire form itself).
	By ID `json:"-"`
}

// OpKind names what an op does.
type OpKind string

// Operation kinds.
const (
	OpCaseCreate    OpKind = "case.create"    // payload: the Thread (header, messages, notes)
	OpCaseMessage   OpKind = "case.message"   // payload: the Message
	OpCaseNote      OpKind = "case.note"      // payload: the Note
	OpCaseStatus    OpKind = "case.status"    // payload: StatusChange
	OpCaseAssign    OpKind = "case.assign"    // payload: AssignChange
	OpCaseRead      OpKind = "case.read"      // payload: none (staff opened the resident's reply)
	OpAccessRecord  OpKind = "access.record"  // payload: the AccessEntry
	OpTemplatePut   OpKind = "template.put"   // payload: the MessageTemplate
	OpAttachmentPut OpKind = "attachment.put" // payload: the Attachment; bytes go in chunks
)

// StatusChange is the payload of OpCaseStatus.
type StatusChange struct {
	Status   Status
	ClosedAt time.Time
}

// AssignChange is the payload of OpCaseAssign.
type AssignChange struct {
	AssigneeID ID
}

// NewOpID returns a random RFC 4122 version 4 UUID.
func NewOpID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("app: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// SyncQueue is a connected desktop's queue of pending ops.
type SyncQueue interface {
	// PendingOps returns the oldest pending ops, at most limit.
	PendingOps(ctx context.Context, limit int) ([]SyncOp, error)
	// PendingCount is the number of pending ops (the status bar).
	PendingCount(ctx context.Context) (int, error)
	// DropOps removes ops the server has answered, in one transaction.
	DropOps(ctx context.Context, ids []string) error
}

// Write says what a case write is, for the store to record in the same
// transaction as the write itself; nothing about it travels in a context.
// The store's role decides what it records (storage.Role): a connected
// desktop queues Queue for the server; the central server remembers
// Applies as applied (exactly once, docs/sync.md) and credits Device with
// the status and assignee the write changes; a standalone desktop
// records neither. The zero Write is a write that is no op (a resident's
// reply on the server, the demo's seed).
type Write struct {
	// Queue are the ops the change is, made by the app for it (never
	// derived by the store from old and new records).
	Queue []SyncOp
	// Applies is the id of the desktop op this write replays (server).
	Applies string
	// Device is the device that made the replayed op (server).
	Device ID
}

// Local is the Write of a change made here and now: these ops, queued
// on a connected desktop.
func Local(ops ...SyncOp) Write { return Write{Queue: ops} }

// DeviceTag is what a case header records about the device whose op
// changed its status or assignee (Case.StatusBy, AssigneeBy): a one-way
// tag of the device id, so that the header, which every desktop of the
// clinic pulls, never carries a device id.
func DeviceTag(device ID) ID {
	if device == "" {
		return ""
	}
	h := sha256.Sum256([]byte("mottagning device tag\x00" + string(device)))
	return ID("dt-" + hex.EncodeToString(h[:9]))
}
