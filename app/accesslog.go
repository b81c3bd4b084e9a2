package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// The tamper-evident access log (patientdatalagen 4 kap., HSLF-FS 2016:40
// 4 kap. 9 §). Every database — each desktop and the central server — keeps
// one hash chain: each link carries the SHA-256 of the link before it,
// computed over the canonical encoding below (not over the stored bytes,
// so re-sealing the database under another key keeps the chain). Every so
// many links, and on demand, the store signs a Checkpoint {seq, hash,
// time} with the database's Ed25519 key. Entries older than the retention
// time can then be removed up to a checkpoint: verification starts from the
// oldest kept checkpoint instead of from the first link.
//
// The signing key lives in the database it signs for; it proves that a
// chain was not rewritten by someone without the key, not by someone with
// the whole (unlocked) file. So every connected device registers its public
// key with the server once and sends it checkpoints, which the server
// verifies against the registered key and keeps (server/staffauth,
// devicekeys.go); the server also keeps its own chain of every synced
// entry: together those make a local rewrite detectable.

// MinLogRetentionYears is the shortest time an access log is kept:
// HSLF-FS 2016:40 4 kap. 9 § 7 ("loggarna sparas minst fem år").
// DefaultLogRetentionYears is the retention when none is configured.
const (
	MinLogRetentionYears     = 5
	DefaultLogRetentionYears = 5
)

// HashSize is the size of a chain hash.
const HashSize = sha256.Size

// ChainLink is one access-log entry in the chain.
type ChainLink struct {
	// Seq is the link's position, from 1, without gaps.
	Seq uint64
	// Prev is the Hash of link Seq-1; 32 zero bytes for link 1.
	Prev  []byte
	Entry AccessEntry
}

// Hash is the SHA-256 over the link's canonical encoding: a domain tag,
// Seq, Prev, the entry's time as Unix seconds and nanoseconds (no time
// zone, no monotonic reading), and every string field length-prefixed
// (Device only when set), so no two different links encode alike.
func (l *ChainLink) Hash() []byte {
	// One buffer, one sum: a server writes a link per case a cold sync
	// sends (a hundred thousand), so no allocation per field.
	var stack [512]byte
	b := append(stack[:0], "mottagning access log v1\x00"...)
	b = binary.BigEndian.AppendUint64(b, l.Seq)
	prev := l.Prev
	if len(prev) != HashSize {
		b = append(b, 1) // a malformed Prev hashes as zero but never matches
		b = append(b, make([]byte, HashSize)...)
	} else {
		b = append(b, 0)
		b = append(b, prev...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(l.Entry.At.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(l.Entry.At.Nanosecond()))
	e := &l.Entry
	field := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	field(string(e.ID))
	field(string(e.StaffID))
	field(string(e.ClinicID))
	field(string(e.ResidentID))
	field(string(e.CaseID))
	field(string(e.Action))
	if e.Device != "" {
		// Only when set: an entry without a device (every entry written
		// before devices were recorded) hashes exactly as it always did.
		// The six fields before it are length-prefixed, so a seventh
		// cannot pose as part of them.
		field(string(e.Device))
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// SameEntry reports whether a and b record the same access (the same
// fields, times compared as instants).
func SameEntry(a, b *AccessEntry) bool {
	return a.ID == b.ID && a.At.Equal(b.At) && a.StaffID == b.StaffID && a.ClinicID == b.ClinicID &&
		a.ResidentID == b.ResidentID && a.CaseID == b.CaseID && a.Action == b.Action && a.Device == b.Device
}

// Checkpoint is a signed statement "link Seq of this chain has hash Hash",
// made at time At.
type Checkpoint struct {
	Seq  uint64
	Hash []byte
	At   time.Time
	// Sig is the Ed25519 signature of SignedBytes by the database's key.
	Sig []byte
}

// SignedBytes is what a checkpoint's signature covers.
func (c *Checkpoint) SignedBytes() []byte {
	var b bytes.Buffer
	b.WriteString("mottagning access checkpoint v1\x00")
	var n [12]byte
	binary.BigEndian.PutUint64(n[:8], c.Seq)
	b.Write(n[:8])
	b.Write(c.Hash)
	binary.BigEndian.PutUint64(n[:8], uint64(c.At.Unix()))
	binary.BigEndian.PutUint32(n[8:], uint32(c.At.Nanosecond()))
	b.Write(n[:])
	return b.Bytes()
}

// Sign sets c.Sig.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) { c.Sig = ed25519.Sign(key, c.SignedBytes()) }

// Valid reports whether c is well formed and signed by pub.
func (c *Checkpoint) Valid(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && len(c.Hash) == HashSize && len(c.Sig) == ed25519.SignatureSize &&
		ed25519.Verify(pub, c.SignedBytes(), c.Sig)
}

// BreakKind says how a chain is broken.
type BreakKind string

// The ways a chain breaks.
const (
	// BreakEdited: an entry's content no longer matches the hash that the
	// next link, a checkpoint or the chain's head recorded for it, or its
	// stored value cannot be read or authenticated.
	BreakEdited BreakKind = "edited"
	// BreakRemoved: entries are missing (a gap in the sequence, entries a
	// checkpoint or the head covers are gone, or entries were removed
	// before the retention time or without a checkpoint to start from).
	BreakRemoved BreakKind = "removed"
	// BreakReordered: an entry is stored at another entry's position.
	BreakReordered BreakKind = "reordered"
	// BreakCheckpoint: a checkpoint's signature does not verify.
	BreakCheckpoint BreakKind = "bad checkpoint signature"
)

// ChainBreak is the first broken link verification found.
type ChainBreak struct {
	// Seq is the position of the broken link.
	Seq uint64
	// EntryID is the entry at Seq when it could be read, else empty.
	EntryID ID
	Kind    BreakKind
	// Detail says what did not match; it holds ids and numbers only.
	Detail string
}

func (b *ChainBreak) String() string {
	id := ""
	if b.EntryID != "" {
		id = " (entry " + string(b.EntryID) + ")"
	}
	return fmt.Sprintf("seq %d%s: %s: %s", b.Seq, id, b.Kind, b.Detail)
}

// ChainReport is the result of verifying an access-log chain.
type ChainReport struct {
	// Entries is the number of links verified; First and Last their range.
	Entries     int
	First, Last uint64
	// Anchor is the seq of the checkpoint verification started from: 0
	// when no entry has been removed (the chain starts at link 1).
	Anchor      uint64
	Checkpoints int
	// Break is the first broken link; nil when the chain is whole.
	Break *ChainBreak
}

// OK reports whether the chain is whole.
func (r *ChainReport) OK() bool { return r.Break == nil }

// AccessLogAdmin is what an operator's tools need of a store's access log
// beyond the AccessLog port: verification, checkpoints and retention.
type AccessLogAdmin interface {
	// VerifyAccessLog walks the whole chain and reports the first broken link.
	VerifyAccessLog(ctx context.Context) (ChainReport, error)
	// CheckpointAccessLog signs the chain's current head.
	CheckpointAccessLog(ctx context.Context) (Checkpoint, error)
	// PruneAccessLog removes the entries older than the retention time, up
	// to the newest checkpoint they allow, and returns how many it removed.
	PruneAccessLog(ctx context.Context, now time.Time) (int, error)
}
