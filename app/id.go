package app

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	stdsync "sync"
	"time"
)

// ID identifies a record. IDs are 26-character, Crockford base32 strings of
// a 48-bit millisecond timestamp followed by 80 random bits (the ULID
// layout), so that byte order is creation order: bbolt keys built from them
// sort by time, which keeps appends at the end of the B+tree and makes
// "newest first" a reverse cursor walk. IDs carry no personal data, so they
// are safe as bbolt keys and in logs.
type ID string

// IsZero reports whether the id is empty.
func (id ID) IsZero() bool { return id == "" }

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var idGen struct {
	mu     stdsync.Mutex
	lastMS uint64
	last   [10]byte
}

// NewID returns a new time-ordered ID for the moment t. IDs made in the same
// millisecond by this process are strictly increasing (the random part is
// incremented), so two records created back to back never swap order.
func NewID(t time.Time) ID {
	ms := uint64(t.UnixMilli())
	idGen.mu.Lock()
	var r [10]byte
	if ms <= idGen.lastMS {
		// Same (or an earlier, clock went backwards) millisecond: keep the
		// last timestamp and increment the random part, ULID-monotonic.
		ms = idGen.lastMS
		r = idGen.last
		for i := len(r) - 1; i >= 0; i-- {
			r[i]++
			if r[i] != 0 {
				break
			}
		}
	} else {
		if _, err := rand.Read(r[:]); err != nil {
			panic("app: crypto/rand failed: " + err.Error())
		}
	}
	idGen.lastMS, idGen.last = ms, r
	idGen.mu.Unlock()

	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	copy(b[6:], r[:])
	return ID(encodeBase32(b))
}

func encodeBase32(b [16]byte) string {
	// 128 bits → 26 symbols of 5 bits, most significant first (the first
	// symbol holds only 3 bits).
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ErrBadID is returned by IDTime for a string that is not an ID.
var ErrBadID = errors.New("app: malformed id")

// IDTime returns the creation time encoded in an ID (millisecond precision).
func IDTime(id ID) (time.Time, error) {
	if len(id) != 26 {
		return time.Time{}, ErrBadID
	}
	var ms uint64
	for i := 0; i < 10; i++ {
		v := indexCrockford(id[i])
		if v < 0 {
			return time.Time{}, ErrBadID
		}
		ms = ms<<5 | uint64(v)
	}
	// 10 symbols = 50 bits: two leading pad bits (the first symbol holds
	// only 3 of the 128 bits) and the 48-bit timestamp.
	return time.UnixMilli(int64(ms)), nil
}

func indexCrockford(c byte) int {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return -1
}
