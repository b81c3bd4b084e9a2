package storage

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"mottagning/app"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sealer seals records for another store of the server's (the PostgreSQL
// store, pgstore) exactly as this one seals its values: the record's JSON
// in an envelope, sealed with XChaCha20-Poly1305 under the data key and
// bound to its place (table and key) as associated data, so that a value
// moved to another row does not open. The data key itself is kept
// wrapped under the server key (WrapDataKey), as in meta/serverkey here.
type Sealer struct{ c Codec }

// NewSealer seals with dataKey (DataKeySize bytes).
func NewSealer(dataKey []byte) (*Sealer, error) {
	c, err := newAEADCodec(dataKey)
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	return &Sealer{c: c}, nil
}

// DataKeySize is the length of a data key.
const DataKeySize = chacha20poly1305.KeySize

// NewDataKey makes a random data key.
func NewDataKey() ([]byte, error) {
	k := make([]byte, DataKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

// WrapDataKey seals dataKey under serverKey (as meta/serverkey holds it).
func WrapDataKey(serverKey, dataKey []byte) ([]byte, error) {
	if len(serverKey) != ServerKeySize {
		return nil, fmt.Errorf("server key of %d bytes, want %d", len(serverKey), ServerKeySize)
	}
	return sealKey(serverKey, dataKey, serverKeyAD)
}

// UnwrapDataKey opens a wrap of WrapDataKey; ErrWrongKey when serverKey
// does not open it.
func UnwrapDataKey(serverKey, wrap []byte) ([]byte, error) {
	if len(serverKey) != ServerKeySize {
		return nil, ErrWrongKey
	}
	return openKey(serverKey, wrap, serverKeyAD)
}

// Seal encodes v (JSON, in the protocol's form where the store uses it)
// and seals it for place and key.
func (s *Sealer) Seal(place, key string, v any) ([]byte, error) {
	return encode(s.c, []byte(place), []byte(key), v)
}

// SealJSON seals a record already in JSON.
func (s *Sealer) SealJSON(place, key string, p []byte) ([]byte, error) {
	return encodeJSON(s.c, []byte(place), []byte(key), p)
}

// Open opens a value of Seal into v; a value that does not open (changed,
// moved, another key) is ErrCorruptValue.
func (s *Sealer) Open(place, key string, data []byte, v any) error {
	return decode(s.c, []byte(place), []byte(key), data, v)
}

// OpenJSON opens a value of Seal or SealJSON into its JSON.
func (s *Sealer) OpenJSON(place, key string, data []byte) ([]byte, error) {
	return openJSON(s.c, []byte(place), []byte(key), data)
}

// SealBytes seals raw bytes (an attachment's).
func (s *Sealer) SealBytes(place, key string, p []byte) ([]byte, error) {
	return encodeRaw(s.c, []byte(place), []byte(key), p)
}

// OpenBytes opens a value of SealBytes.
func (s *Sealer) OpenBytes(place, key string, data []byte) ([]byte, error) {
	return decodeRaw(s.c, []byte(place), []byte(key), data)
}

// ChainWalk verifies an access-log chain fed link by link in position
// order, with the rules VerifyAccessLog applies here; the PostgreSQL
// store verifies its chain with it.
type ChainWalk struct{ w chainWalk }

// NewChainWalk starts a verification with the database's public key,
// its checkpoints by position, and those that could not be read (badCps,
// with the reason), at time now.
func NewChainWalk(pub ed25519.PublicKey, cps map[uint64]*app.Checkpoint, badCps map[uint64]string, now time.Time) *ChainWalk {
	c := &ChainWalk{w: chainWalk{pub: pub, cps: cps, badCps: badCps, now: now}}
	c.w.rep.Checkpoints = len(cps) + len(badCps)
	if len(pub) != ed25519.PublicKeySize {
		c.w.fail(0, "", app.BreakCheckpoint, "the database has no access-log public key")
	}
	return c
}

// Start sets the walk up for a chain whose first kept link is first (0:
// no link is kept) and whose head is at headSeq.
func (c *ChainWalk) Start(first, headSeq uint64) {
	if c.w.rep.Break != nil {
		return
	}
	if first == 0 {
		c.w.start(headSeq + 1)
	} else {
		c.w.start(first)
	}
}

// Link checks the link stored at seq: l as read, or readErr when it did
// not open (movedFrom: the position whose key it opens under, or 0).
func (c *ChainWalk) Link(seq uint64, l *app.ChainLink, readErr error, movedFrom uint64) {
	c.w.link(seq, l, readErr, movedFrom)
}

// Broken reports whether a break was found.
func (c *ChainWalk) Broken() bool { return c.w.rep.Break != nil }

// End checks the last link against the head.
func (c *ChainWalk) End(headSeq uint64, headHash []byte) {
	if c.w.rep.Break == nil {
		c.w.end(chainHead{Seq: headSeq, Hash: headHash})
	}
}

// Report is the verification's result.
func (c *ChainWalk) Report() app.ChainReport { return c.w.rep }
