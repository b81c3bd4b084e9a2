package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"mottagning/app"
	"mottagning/sync/wire"
)

// Codec turns a value's plaintext into the bytes stored on disk and back.
// Every value except meta goes through exactly one Codec, so sealing the
// database with an AEAD later (the patient-data safety issue) changes no
// caller. ad is the bucket and key the value is stored under: an AEAD codec
// binds the value to its place so that swapping two values is detected.
type Codec interface {
	// ID is stored in every envelope so a reader knows how a value was written.
	ID() byte
	Seal(plaintext, ad []byte) ([]byte, error)
	Open(sealed, ad []byte) ([]byte, error)
}

// plainCodec stores plaintext: the server, a desktop without
// Options.Encrypt, and the directory buckets of an encrypted one (crypt.go).
type plainCodec struct{}

func (plainCodec) ID() byte                              { return 0 }
func (plainCodec) Seal(p, _ []byte) ([]byte, error)      { return p, nil }
func (plainCodec) Open(sealed, _ []byte) ([]byte, error) { return sealed, nil }

// Envelope layout: one byte envelope format (1), one byte codec id, then the
// codec's output of the JSON record. JSON ignores fields it does not know
// and zero-fills fields it lacks, so a newer binary adds fields without a
// migration and an older record still decodes; a field that changes meaning
// needs a migration.
const envelopeFormat = 1

// ErrCorruptValue is returned when a stored value cannot be decoded.
var ErrCorruptValue = errors.New("stored value cannot be read")

func encode(c Codec, bucket, key []byte, v any) ([]byte, error) {
	p, err := json.Marshal(protocolForm(v))
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", bucket, err)
	}
	return encodeJSON(c, bucket, key, p)
}

// encodeJSON is encode of a record already in JSON (a pulled record
// stored as the server sent it).
func encodeJSON(c Codec, bucket, key, p []byte) ([]byte, error) {
	sealed, err := c.Seal(p, adFor(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", bucket, err)
	}
	out := make([]byte, 2+len(sealed))
	out[0], out[1] = envelopeFormat, c.ID()
	copy(out[2:], sealed)
	return out, nil
}

// decode reads an envelope. It must run inside the transaction that read
// data: json.Unmarshal copies everything it keeps, so nothing refers to
// bbolt's memory after the transaction ends.
func decode(c Codec, bucket, key, data []byte, v any) error {
	p, err := openEnvelope(c, envelopeFormat, bucket, key, data)
	if err != nil {
		return err
	}
	if w, back := fromProtocol(v); w != nil {
		if err := json.Unmarshal(p, w); err != nil {
			return fmt.Errorf("%s value: %w: %w", bucket, ErrCorruptValue, err)
		}
		back()
		return nil
	}
	if err := json.Unmarshal(p, v); err != nil {
		return fmt.Errorf("%s value: %w: %w", bucket, ErrCorruptValue, err)
	}
	return nil
}

// The sync queue (pending_ops), the server's op memory (applied_ops) and
// the desktop's list of refused ops (sync_results) keep their records in
// the protocol's form (package sync/wire), not as app structs: a desktop
// may hold queued ops for weeks offline, and renaming an app field must
// not change what it stored, nor what it pushes later.

type storedProblem struct {
	Op     storedOp    `json:"Op"`
	Result wire.Result `json:"Result"`
}

// storedOp is a queued op as stored: its wire form and, beside it, the
// staff member who made it (app.SyncOp.By), which stays on the desktop
// (the push sends wire.Op alone). An op stored before By was kept
// decodes with By empty; no migration is needed.
type storedOp struct {
	wire.Op
	By string `json:"By,omitempty"`
}

func toStoredOp(op app.SyncOp) storedOp { return storedOp{Op: wire.FromOp(op), By: string(op.By)} }

func (o storedOp) app() app.SyncOp {
	op := o.Op.App()
	op.By = app.ID(o.By)
	return op
}

// protocolForm is v's wire form when v is one of those records.
func protocolForm(v any) any {
	switch v := v.(type) {
	case *app.SyncOp:
		return toStoredOp(*v)
	case *app.OpResult:
		return wire.FromResult(*v)
	case *app.SyncProblem:
		return storedProblem{Op: toStoredOp(v.Op), Result: wire.FromResult(v.Result)}
	}
	return v
}

// fromProtocol returns, for one of those records, what to decode into
// and a function that fills v from it; nil for any other v.
func fromProtocol(v any) (any, func()) {
	switch v := v.(type) {
	case *app.SyncOp:
		var w storedOp
		return &w, func() { *v = w.app() }
	case *app.OpResult:
		var w wire.Result
		return &w, func() { *v = w.App() }
	case *app.SyncProblem:
		var w storedProblem
		return &w, func() { *v = app.SyncProblem{Op: w.Op.app(), Result: w.Result.App()} }
	}
	return nil, nil
}

// openJSON returns a copy of an envelope's JSON record, not decoded.
func openJSON(c Codec, bucket, key, data []byte) ([]byte, error) {
	p, err := openEnvelope(c, envelopeFormat, bucket, key, data)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), p...), nil
}

// openEnvelope checks an envelope of format and opens its codec's output;
// the plaintext may be data itself (plain codec): copy what outlives the
// transaction.
func openEnvelope(c Codec, format byte, bucket, key, data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != format {
		return nil, fmt.Errorf("%s value: unknown envelope: %w", bucket, ErrCorruptValue)
	}
	if data[1] != c.ID() {
		return nil, fmt.Errorf("%s value: written with codec %d, opened with %d: %w", bucket, data[1], c.ID(), ErrCorruptValue)
	}
	p, err := c.Open(data[2:], adFor(bucket, key))
	if errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("%s value: %w", bucket, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s value: %w: %w", bucket, ErrCorruptValue, err)
	}
	return p, nil
}

func adFor(bucket, key []byte) []byte {
	ad := make([]byte, 0, len(bucket)+1+len(key))
	ad = append(ad, bucket...)
	ad = append(ad, 0)
	return append(ad, key...)
}

// rawFormat is the envelope of a value stored as bytes, not JSON
// (attachment blobs): one byte rawFormat, one byte codec id, then the
// codec's output of the bytes.
const rawFormat = 2

func encodeRaw(c Codec, bucket, key, p []byte) ([]byte, error) {
	sealed, err := c.Seal(p, adFor(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", bucket, err)
	}
	out := make([]byte, 2+len(sealed))
	out[0], out[1] = rawFormat, c.ID()
	copy(out[2:], sealed)
	return out, nil
}

func decodeRaw(c Codec, bucket, key, data []byte) ([]byte, error) {
	p, err := openEnvelope(c, rawFormat, bucket, key, data)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), p...), nil
}
