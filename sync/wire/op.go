package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mottagning/app"
	"mottagning/app/form"
)

// Op is one change a connected desktop made, as it is pushed and as it
// waits in the desktop's queue (bucket pending_ops). Payload is the JSON
// of the kind's payload type (see OpKind); ID is the idempotency key.
type Op struct {
	ID string `json:"ID"`
	// Seq is the desktop's queue order; the server ignores it.
	Seq     uint64          `json:"Seq"`
	Kind    OpKind          `json:"Kind"`
	CaseID  string          `json:"CaseID,omitempty"`
	Base    uint64          `json:"Base"`
	Payload json.RawMessage `json:"Payload"`
	MadeAt  time.Time       `json:"MadeAt"`
}

// FromOp is op on the wire. Its payload, encoded by the app, is decoded
// as the app's type of its kind and encoded again as the wire's, so that
// the pushed bytes are the protocol's whatever the app's fields are named.
func FromOp(op app.SyncOp) Op {
	return Op{ID: op.ID, Seq: op.Seq, Kind: OpKind(op.Kind), CaseID: string(op.CaseID), Base: op.Base,
		Payload: payloadToWire(OpKind(op.Kind), op.Payload), MadeAt: op.MadeAt}
}

// App is o in the domain, its payload encoded as the app's type of its
// kind.
func (o Op) App() app.SyncOp {
	return app.SyncOp{ID: o.ID, Seq: o.Seq, Kind: app.OpKind(o.Kind), CaseID: app.ID(o.CaseID), Base: o.Base,
		Payload: payloadToApp(o.Kind, o.Payload), MadeAt: o.MadeAt}
}

// ErrPayload: an op's payload does not decode as its kind's, or the kind
// is unknown.
var ErrPayload = errors.New("wire: op payload")

// DecodePayload returns the op's payload as its kind's wire type: *Thread,
// *Message, *Note, *StatusChange, *AssignChange, *AccessEntry, *Template,
// *AttachmentPut, *EService or *form.Series; nil for case.read.
func (o Op) DecodePayload() (any, error) {
	if o.Kind == OpCaseRead {
		return nil, nil
	}
	c, ok := payloads[o.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: op %s: unknown kind %q", ErrPayload, o.ID, o.Kind)
	}
	v := c.new()
	if err := json.Unmarshal(o.Payload, v); err != nil {
		return nil, fmt.Errorf("%w: op %s (%s): %w", ErrPayload, o.ID, o.Kind, err)
	}
	return v, nil
}

// StatusChange is the payload of case.status.
type StatusChange struct {
	Status   Status    `json:"Status"`
	ClosedAt time.Time `json:"ClosedAt"`
}

// FromStatusChange is s on the wire.
func FromStatusChange(s app.StatusChange) StatusChange {
	return StatusChange{Status: Status(s.Status), ClosedAt: s.ClosedAt}
}

// App is s in the domain.
func (s StatusChange) App() app.StatusChange {
	return app.StatusChange{Status: app.Status(s.Status), ClosedAt: s.ClosedAt}
}

// AssignChange is the payload of case.assign.
type AssignChange struct {
	AssigneeID string `json:"AssigneeID"`
}

// FromAssignChange is a on the wire.
func FromAssignChange(a app.AssignChange) AssignChange {
	return AssignChange{AssigneeID: string(a.AssigneeID)}
}

// App is a in the domain.
func (a AssignChange) App() app.AssignChange {
	return app.AssignChange{AssigneeID: app.ID(a.AssigneeID)}
}

// AttachmentPut is the payload of attachment.put: the description of
// the file, whose bytes go in chunks before the op; Data carries them
// inside the op in the older form (docs/sync.md, Attachments).
type AttachmentPut struct {
	ID     string `json:"ID"`
	Name   string `json:"Name"`
	MIME   string `json:"MIME"`
	Size   int64  `json:"Size"`
	SHA256 string `json:"SHA256"`
	Data   []byte `json:"Data,omitempty"`
}

// appAttachmentPut is how the app reads an attachment.put payload: the
// anonymous struct{Attachment; Data []byte} of app/syncapply.go and
// sync/attach.go, which have no named type to convert to.
type appAttachmentPut struct {
	app.Attachment
	Data []byte `json:",omitempty"`
}

func fromAttachmentPut(a appAttachmentPut) AttachmentPut {
	w := FromAttachment(a.Attachment)
	return AttachmentPut{ID: w.ID, Name: w.Name, MIME: w.MIME, Size: w.Size, SHA256: w.SHA256, Data: a.Data}
}

func (a AttachmentPut) appPut() appAttachmentPut {
	d := Attachment{ID: a.ID, Name: a.Name, MIME: a.MIME, Size: a.Size, SHA256: a.SHA256}
	return appAttachmentPut{Attachment: d.App(), Data: a.Data}
}

// payloadCodec converts one kind's payload between the app's JSON and
// the wire's.
type payloadCodec struct {
	new           func() any
	toWire, toApp func([]byte) ([]byte, error)
}

func codec[A, W any](from func(A) W, to func(W) A) payloadCodec {
	return payloadCodec{
		new:    func() any { return new(W) },
		toWire: func(p []byte) ([]byte, error) { return recode(p, from) },
		toApp:  func(p []byte) ([]byte, error) { return recode(p, to) },
	}
}

func recode[S, T any](p []byte, f func(S) T) ([]byte, error) {
	var s S
	if err := json.Unmarshal(p, &s); err != nil {
		return nil, err
	}
	return json.Marshal(f(s))
}

func same[T any](v T) T { return v }

// payloads are the payload types by op kind (case.read has none).
var payloads = map[OpKind]payloadCodec{
	OpCaseCreate:    codec(FromThread, Thread.App),
	OpCaseMessage:   codec(FromMessage, Message.App),
	OpCaseNote:      codec(FromNote, Note.App),
	OpCaseStatus:    codec(FromStatusChange, StatusChange.App),
	OpCaseAssign:    codec(FromAssignChange, AssignChange.App),
	OpAccessRecord:  codec(FromAccessEntry, AccessEntry.App),
	OpTemplatePut:   codec(FromTemplate, Template.App),
	OpAttachmentPut: codec(fromAttachmentPut, AttachmentPut.appPut),
	OpEServicePut:   codec(FromEService, EService.App),
	OpFormSeriesPut: codec(same[form.Series], same[form.Series]),
}

// payloadToWire and payloadToApp convert a payload of kind k. None (null
// on the wire, nil in the app) stays none. A payload they cannot convert
// (an unknown kind, or one that does not decode as its kind's) passes
// unchanged: the server's app refuses it as it always did
// (app.ErrBadPayload, unsupported), with a result for the op.
func payloadToWire(k OpKind, p json.RawMessage) json.RawMessage {
	return convertPayload(p, payloads[k].toWire)
}

func payloadToApp(k OpKind, p json.RawMessage) json.RawMessage {
	return convertPayload(p, payloads[k].toApp)
}

func convertPayload(p json.RawMessage, recode func([]byte) ([]byte, error)) json.RawMessage {
	if string(p) == "null" {
		return nil
	}
	if recode == nil || len(p) == 0 {
		return p
	}
	out, err := recode(p)
	if err != nil {
		return p
	}
	return out
}

// Result is the server's answer to one op. A rejected op carries a Code,
// a Swedish Reason and, for an unreachable resident, the Blocks; a
// conflict the server's values and Mine, the op's payload.
type Result struct {
	ID             string          `json:"ID"`
	Kind           OpKind          `json:"Kind,omitempty"`
	CaseID         string          `json:"CaseID,omitempty"`
	Outcome        Outcome         `json:"Outcome"`
	Version        uint64          `json:"Version,omitempty"`
	Code           Code            `json:"Code,omitempty"`
	Detail         string          `json:"Detail,omitempty"`
	Reason         string          `json:"Reason,omitempty"`
	Blocks         []BlockReason   `json:"Blocks,omitempty"`
	ServerStatus   Status          `json:"ServerStatus,omitempty"`
	ServerAssignee string          `json:"ServerAssignee,omitempty"`
	Mine           json.RawMessage `json:"Mine,omitempty"`
	At             time.Time       `json:"At"`
}

// FromResult is r on the wire (Mine converted as a payload of r.Kind).
func FromResult(r app.OpResult) Result {
	return Result{ID: r.ID, Kind: OpKind(r.Kind), CaseID: string(r.CaseID), Outcome: Outcome(r.Outcome), Version: r.Version,
		Code: Code(r.Code), Detail: r.Detail, Reason: r.Reason, Blocks: Map(r.Blocks, func(b app.BlockReason) BlockReason { return BlockReason(b) }),
		ServerStatus: Status(r.ServerStatus), ServerAssignee: string(r.ServerAssignee),
		Mine: payloadToWire(OpKind(r.Kind), r.Mine), At: r.At}
}

// App is r in the domain.
func (r Result) App() app.OpResult {
	return app.OpResult{ID: r.ID, Kind: app.OpKind(r.Kind), CaseID: app.ID(r.CaseID), Outcome: app.OpOutcome(r.Outcome),
		Version: r.Version, Code: string(r.Code), Detail: r.Detail, Reason: r.Reason,
		Blocks:       Map(r.Blocks, func(b BlockReason) app.BlockReason { return app.BlockReason(b) }),
		ServerStatus: app.Status(r.ServerStatus), ServerAssignee: app.ID(r.ServerAssignee),
		Mine: payloadToApp(r.Kind, r.Mine), At: r.At}
}
