package storage

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// The access log as a hash chain (schema v7; the chain's rules are in
// app/accesslog.go). Layout:
//
//	access_chain        <seq uint64>              → env(app.ChainLink)
//	idx_access_clinic   <clinicID> 0 <entryID>    → <seq uint64>
//	access_checkpoints  <seq uint64>              → env(app.Checkpoint)
//	meta/accesslog_head <seq uint64> <hash 32>    the last link (raw)
//	meta/accesslog_pub  Ed25519 public key (raw): the key to register centrally
//	meta/accesslog_key  Ed25519 seed: raw in a plain database, sealed in an
//	                    encrypted one (see crypt.go)
//	pull_logged         <device> 0 <caseID>       → <case version uint64> (raw):
//	                    the server's memory of what it recorded as sent to
//	                    a device (RecordPulled)
//
// Links are keyed by their position, not by entry id: the chain's order is
// the order of appending (on the server, entries of an offline device come
// in late), and a position without a link is a removed entry. The clinic
// index keeps entry ids, which are time-ordered, so Entries stays oldest
// first. There is no update or delete path except PruneAccessLog.

var (
	bAccessChain = []byte("access_chain")
	bIdxAccess   = []byte("idx_access_clinic")
	bCheckpoints = []byte("access_checkpoints")

	kLogHead = []byte("accesslog_head")
	kLogPub  = []byte("accesslog_pub")
	kLogKey  = []byte("accesslog_key")
)

// DefaultCheckpointEvery is how many links the store appends between two
// signed checkpoints when Options.CheckpointEvery is 0. It is also the
// granularity of retention: entries are removed a checkpoint at a time.
const DefaultCheckpointEvery = 1000

// pruneBatch is about how many entries PruneAccessLog removes per
// transaction (each transaction ends on a checkpoint, so the chain
// verifies between them), and verifyBatch how many links VerifyAccessLog
// reads per read transaction (no long read transactions).
const (
	pruneBatch  = 10_000
	verifyBatch = 10_000
)

func seqKey(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

type chainHead struct {
	Seq  uint64
	Hash []byte
}

func readHead(tx *bolt.Tx) (chainHead, error) {
	v := tx.Bucket(bMeta).Get(kLogHead)
	if v == nil {
		return chainHead{Hash: make([]byte, app.HashSize)}, nil
	}
	if len(v) != 8+app.HashSize {
		return chainHead{}, fmt.Errorf("access log head: %d bytes: %w", len(v), ErrCorruptValue)
	}
	return chainHead{Seq: binary.BigEndian.Uint64(v[:8]), Hash: append([]byte(nil), v[8:]...)}, nil
}

func writeHead(tx *bolt.Tx, h chainHead) error {
	return tx.Bucket(bMeta).Put(kLogHead, append(seqKey(h.Seq), h.Hash...))
}

// migrate7 turns the access log into a hash chain: new buckets, a signing
// key, and every existing entry appended in entry-id (time) order, with a
// checkpoint over the migrated history. The old buckets go.
func migrate7(tx *bolt.Tx, codec Codec) error {
	for _, b := range [][]byte{bAccessChain, bIdxAccess, bCheckpoints} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("make access-log key: %w", err)
	}
	meta := tx.Bucket(bMeta)
	if err := meta.Put(kLogPub, pub); err != nil {
		return err
	}
	// A database is never encrypted before v7 (crypt.go), so the seed is raw.
	if err := meta.Put(kLogKey, priv.Seed()); err != nil {
		return err
	}
	old := tx.Bucket(bAccessLog)
	var entries []app.AccessEntry
	if old != nil {
		err := old.ForEach(func(k, v []byte) error {
			var e app.AccessEntry
			if err := decode(codec, bAccessLog, k, v, &e); err != nil {
				return err
			}
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			return err
		}
	}
	now := time.Now()
	var head chainHead
	for i := range entries {
		if head, err = appendLink(tx, codec, &entries[i], priv, 0, now); err != nil {
			return err
		}
	}
	if head.Seq > 0 {
		if _, err := putCheckpoint(tx, codec, priv, head, now); err != nil {
			return err
		}
	}
	for _, b := range [][]byte{bAccessLog, bIdxAccessLog} {
		if tx.Bucket(b) != nil {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendLink appends e as the next link, indexes it, moves the head, and
// signs a checkpoint when the new position is a multiple of every (0: never).
func appendLink(tx *bolt.Tx, codec Codec, e *app.AccessEntry, key ed25519.PrivateKey, every uint64, now time.Time) (chainHead, error) {
	w, err := newChainWriter(tx, codec, key, every, now)
	if err != nil {
		return w.head, err
	}
	if err := w.append(e); err != nil {
		return w.head, err
	}
	return w.head, w.finish()
}

// chainWriter appends links in one transaction: the head is read once
// and written once (finish), however many links go in (a pull page's).
type chainWriter struct {
	tx         *bolt.Tx
	codec      Codec
	key        ed25519.PrivateKey
	every      uint64
	now        time.Time
	chain, idx *bolt.Bucket
	head       chainHead
	// free: no link lies beyond the head (checked at the first append;
	// the writer's own links then never collide).
	free bool
}

func newChainWriter(tx *bolt.Tx, codec Codec, key ed25519.PrivateKey, every uint64, now time.Time) (*chainWriter, error) {
	head, err := readHead(tx)
	w := &chainWriter{tx: tx, codec: codec, key: key, every: every, now: now, chain: tx.Bucket(bAccessChain), idx: tx.Bucket(bIdxAccess), head: head}
	w.chain.FillPercent = appendFill
	return w, err
}

// append writes e as the next link and its index entry, and a checkpoint
// when one is due; the head moves in memory until finish.
func (w *chainWriter) append(e *app.AccessEntry) error {
	l := app.ChainLink{Seq: w.head.Seq + 1, Prev: w.head.Hash, Entry: *e}
	k := seqKey(l.Seq)
	if !w.free {
		if taken, _ := w.chain.Cursor().Seek(k); taken != nil {
			return fmt.Errorf("access log: position %d taken beyond the head: %w", binary.BigEndian.Uint64(taken), ErrCorruptValue)
		}
		w.free = true
	}
	data, err := w.encode(k, &l)
	if err != nil {
		return err
	}
	if err := w.chain.Put(k, data); err != nil {
		return err
	}
	if err := w.idx.Put(join(string(e.ClinicID), string(e.ID)), k); err != nil {
		return err
	}
	w.head = chainHead{Seq: l.Seq, Hash: l.Hash()}
	if w.every > 0 && w.head.Seq%w.every == 0 {
		if _, err := putCheckpoint(w.tx, w.codec, w.key, w.head, w.now); err != nil {
			return err
		}
	}
	return nil
}

// encode is encode(codec, bAccessChain, k, l), without encoding/json
// where appendLinkJSON can, and straight into the envelope when the
// codec stores plaintext (the server's).
func (w *chainWriter) encode(k []byte, l *app.ChainLink) ([]byte, error) {
	if _, plain := w.codec.(plainCodec); plain {
		b := append(make([]byte, 0, 384), envelopeFormat, plainCodec{}.ID())
		if b, ok := appendLinkJSON(b, l); ok {
			return b, nil
		}
	} else if j, ok := appendLinkJSON(make([]byte, 0, 384), l); ok {
		return encodeJSON(w.codec, bAccessChain, k, j)
	}
	return encode(w.codec, bAccessChain, k, l)
}

// appendLinkJSON appends l's JSON exactly as encoding/json writes it,
// for links whose strings need no escaping (ids, action codes) and whose
// time encoding/json accepts; ok is false otherwise (then use
// encoding/json). A cold sync writes a link per case pulled: encoding/json
// was a sixth of that write.
func appendLinkJSON(b []byte, l *app.ChainLink) ([]byte, bool) {
	e := &l.Entry
	fields := [...]struct{ name, v string }{{"ID", string(e.ID)}, {"StaffID", string(e.StaffID)}, {"ClinicID", string(e.ClinicID)},
		{"ResidentID", string(e.ResidentID)}, {"CaseID", string(e.CaseID)}, {"Action", string(e.Action)}, {"Device", string(e.Device)}}
	for _, f := range fields {
		if !plainJSON(f.v) {
			return nil, false
		}
	}
	if len(l.Prev) == 0 || e.At.Year() < 0 || e.At.Year() > 9999 {
		return nil, false
	}
	str := func(b []byte, name, v string) []byte {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":"`...)
		b = append(b, v...)
		return append(b, '"')
	}
	b = append(b, `{"Seq":`...)
	b = strconv.AppendUint(b, l.Seq, 10)
	b = append(b, `,"Prev":"`...)
	b = base64.StdEncoding.AppendEncode(b, l.Prev)
	b = append(b, `","Entry":{"ID":"`...)
	b = append(b, e.ID...)
	b = append(b, `","At":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	for _, f := range fields[1:6] {
		b = str(b, f.name, f.v)
	}
	if e.Device != "" { // omitempty
		b = str(b, "Device", string(e.Device))
	}
	return append(b, "}}"...), true
}

// plainJSON: encoding/json writes v between quotes as it is (no escape,
// no HTML-safe \u003c and the like, no replaced invalid UTF-8).
func plainJSON(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// finish writes the head.
func (w *chainWriter) finish() error { return writeHead(w.tx, w.head) }

func putCheckpoint(tx *bolt.Tx, codec Codec, key ed25519.PrivateKey, head chainHead, now time.Time) (app.Checkpoint, error) {
	if len(key) != ed25519.PrivateKeySize {
		return app.Checkpoint{}, fmt.Errorf("access log: no signing key: %w", ErrLocked)
	}
	cp := app.Checkpoint{Seq: head.Seq, Hash: head.Hash, At: now.UTC()}
	cp.Sign(key)
	k := seqKey(cp.Seq)
	bk := tx.Bucket(bCheckpoints)
	bk.FillPercent = appendFill
	data, err := encode(codec, bCheckpoints, k, &cp)
	if err != nil {
		return cp, err
	}
	return cp, bk.Put(k, data)
}

// Record implements app.AccessLog: the entry becomes the chain's next
// link, in one transaction with its index entry, the new head, a
// checkpoint when one is due, and (connected desktop) the sync op. The same
// entry recorded again (a retried write) is not appended twice; another
// entry under a recorded id is refused.
func (s *Store) Record(ctx context.Context, e app.AccessEntry) error {
	if e.ID == "" {
		return fmt.Errorf("record access: no entry id: %w", app.ErrInvalid)
	}
	return s.updateC(ctx, "record access "+string(e.ID), func(tx *bolt.Tx) error {
		if seq := tx.Bucket(bIdxAccess).Get(join(string(e.ClinicID), string(e.ID))); seq != nil {
			var l app.ChainLink
			if err := decode(s.c(bAccessChain), bAccessChain, seq, tx.Bucket(bAccessChain).Get(seq), &l); err != nil {
				return err
			}
			if app.SameEntry(&l.Entry, &e) {
				return nil
			}
			return fmt.Errorf("record access %s: another entry has this id: %w", e.ID, app.ErrConflict)
		}
		if _, err := appendLink(tx, s.c(bAccessChain), &e, s.signKey, s.checkpointEvery, s.clock.Now()); err != nil {
			return err
		}
		// The access log is synced with the same no-loss guarantee as cases.
		return s.queue(tx, app.SyncOp{Kind: app.OpAccessRecord, CaseID: e.CaseID, Payload: payload(&e), By: e.StaffID})
	})
}

// bPullLogged is the server's memory of what it recorded as sent to
// which device (RecordPulled): <device> 0 <caseID> → <case version
// uint64> (raw; ids only). It is made at the first record, on the server
// only, so it needs no schema version of its own.
var bPullLogged = []byte("pull_logged")

// pullLoggedKey is the key of bPullLogged: <holder> 0 <caseID>.
func pullLoggedKey(holder, caseID app.ID) []byte {
	key := make([]byte, 0, len(holder)+1+len(caseID))
	return append(append(append(key, holder...), 0), caseID...)
}

// RecordPulled records the access-log entries of the cases whose content
// one pull page (or a push's answer) sends to a device, all in one
// transaction: a link per case, unless the device named by holder was
// already recorded for that case at this version or a later one — the
// same page sent again after a crash, an unchanged case in a push's
// answer. It returns how many links it appended. When it fails nothing is
// recorded, and the page must not be sent. The memory also tells a later
// page which cases this device held (a withdrawal, ChangesSince).
func (s *Store) RecordPulled(ctx context.Context, holder app.ID, pulls []app.PullAccess) (int, error) {
	if len(pulls) == 0 {
		return 0, nil
	}
	if holder == "" {
		return 0, fmt.Errorf("record pull: no device: %w", app.ErrInvalid)
	}
	return s.recordPulled(ctx, holder, func(yield func([]app.PullAccess) error) error { return yield(pulls) })
}

// recordPulled is RecordPulled of the entries chunks yields, in one
// transaction; an error of chunks rolls it back.
func (s *Store) recordPulled(ctx context.Context, holder app.ID, chunks func(yield func([]app.PullAccess) error) error) (int, error) {
	n := 0
	err := s.updateC(ctx, "record pull to device "+string(holder), func(tx *bolt.Tx) error {
		n = 0
		logged, err := tx.CreateBucketIfNotExists(bPullLogged)
		if err != nil {
			return err
		}
		w, err := newChainWriter(tx, s.c(bAccessChain), s.signKey, s.checkpointEvery, s.clock.Now())
		if err != nil {
			return err
		}
		// One cursor for the lookups (Bucket.Get makes a new one each time).
		look := logged.Cursor()
		err = chunks(func(pulls []app.PullAccess) error {
			for i := range pulls {
				pa := &pulls[i]
				if pa.Entry.ID == "" || pa.Entry.CaseID == "" {
					return fmt.Errorf("record pull: an entry without id or case: %w", app.ErrInvalid)
				}
				// A new key each time: bbolt keeps the slices it is given
				// until the transaction commits.
				key := pullLoggedKey(holder, pa.Entry.CaseID)
				if k, v := look.Seek(key); bytes.Equal(k, key) && len(v) == 8 && binary.BigEndian.Uint64(v) >= pa.Version {
					continue
				}
				if err := w.append(&pa.Entry); err != nil {
					return err
				}
				if err := logged.Put(key, seqKey(pa.Version)); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil || n == 0 {
			return err
		}
		return w.finish()
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Entries implements app.AccessLog: the clinic's entries in [from, to),
// oldest first (entry ids are time-ordered).
func (s *Store) Entries(ctx context.Context, clinicID app.ID, from, to time.Time) ([]app.AccessEntry, error) {
	var out []app.AccessEntry
	prefix := join(string(clinicID))
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		chain := tx.Bucket(bAccessChain)
		c := tx.Bucket(bIdxAccess).Cursor()
		for k, seq := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, seq = c.Next() {
			v := chain.Get(seq)
			if v == nil {
				return fmt.Errorf("access log: entry %s: link missing: %w", k[len(prefix):], ErrCorruptValue)
			}
			var l app.ChainLink
			if err := decode(s.c(bAccessChain), bAccessChain, seq, v, &l); err != nil {
				return err
			}
			if !l.Entry.At.Before(from) && l.Entry.At.Before(to) {
				out = append(out, l.Entry)
			}
		}
		return nil
	})
	return out, err
}

// AccessLogPublicKey is the Ed25519 key that verifies this database's
// checkpoints. Register it centrally (the server's and every device's) so
// that a chain re-signed with another key is recognised.
func (s *Store) AccessLogPublicKey() (pub ed25519.PublicKey) {
	_ = s.view(func(tx *bolt.Tx) error {
		pub = append(ed25519.PublicKey(nil), tx.Bucket(bMeta).Get(kLogPub)...)
		return nil
	})
	return pub
}

// CheckpointAccessLog signs the chain's current head (on demand: at the
// end of a session, before a backup). When the head is already signed it
// returns that checkpoint; an empty chain gives app.ErrNotFound.
func (s *Store) CheckpointAccessLog(ctx context.Context) (app.Checkpoint, error) {
	var cp app.Checkpoint
	err := s.updateC(ctx, "checkpoint access log", func(tx *bolt.Tx) error {
		head, err := readHead(tx)
		if err != nil {
			return err
		}
		if head.Seq == 0 {
			return fmt.Errorf("checkpoint access log: no entries: %w", app.ErrNotFound)
		}
		if v := tx.Bucket(bCheckpoints).Get(seqKey(head.Seq)); v != nil {
			return decode(s.c(bCheckpoints), bCheckpoints, seqKey(head.Seq), v, &cp)
		}
		cp, err = putCheckpoint(tx, s.c(bCheckpoints), s.signKey, head, s.clock.Now())
		return err
	})
	return cp, err
}

// PruneAccessLog removes the entries older than the retention time
// (Options.LogRetentionYears before now): from the oldest entry up to the
// newest checkpoint such that it and every entry up to it are older. That
// checkpoint stays, as the start of verification; older checkpoints go.
// An entry recorded late with an old time does not let newer ones go
// early: the walk stops at the first entry inside the retention time.
// Each transaction ends on a checkpoint, so the chain verifies at every
// moment, also after a crash in the middle.
func (s *Store) PruneAccessLog(ctx context.Context, now time.Time) (int, error) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	cutoff := now.AddDate(-s.retentionYears, 0, 0)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, more := 0, false
		err := s.updateC(ctx, "prune access log", func(tx *bolt.Tx) error {
			var err error
			n, more, err = s.pruneOnce(tx, cutoff)
			return err
		})
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

func (s *Store) pruneOnce(tx *bolt.Tx, cutoff time.Time) (removed int, more bool, err error) {
	chain, cps := tx.Bucket(bAccessChain), tx.Bucket(bCheckpoints)
	codec := s.c(bAccessChain)
	type gone struct {
		seq []byte
		idx []byte
	}
	var walked []gone
	upTo := -1 // index in walked of the newest usable checkpoint
	c := chain.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var l app.ChainLink
		if err := decode(codec, bAccessChain, k, v, &l); err != nil {
			return 0, false, err
		}
		if !l.Entry.At.Before(cutoff) {
			break
		}
		walked = append(walked, gone{append([]byte(nil), k...), join(string(l.Entry.ClinicID), string(l.Entry.ID))})
		if cv := cps.Get(k); cv != nil {
			var cp app.Checkpoint
			if err := decode(s.c(bCheckpoints), bCheckpoints, k, cv, &cp); err != nil {
				return 0, false, err
			}
			if cp.At.Before(cutoff) {
				upTo = len(walked) - 1
				if len(walked) >= pruneBatch {
					more = true
					break
				}
			}
		}
	}
	if upTo < 0 {
		return 0, false, nil
	}
	idx := tx.Bucket(bIdxAccess)
	for _, g := range walked[:upTo+1] {
		if err := chain.Delete(g.seq); err != nil {
			return 0, false, err
		}
		if err := idx.Delete(g.idx); err != nil {
			return 0, false, err
		}
	}
	anchor := walked[upTo].seq
	var old [][]byte
	cc := cps.Cursor()
	for k, _ := cc.First(); k != nil && bytes.Compare(k, anchor) < 0; k, _ = cc.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := cps.Delete(k); err != nil {
			return 0, false, err
		}
	}
	return upTo + 1, more, nil
}

// VerifyAccessLog implements app.AccessLogAdmin: it walks the chain from
// the oldest kept checkpoint (or link 1) to the head, a batch of links
// per read transaction, and reports the first broken link. The error is
// for a database that cannot be read (locked, I/O), not for a broken chain.
func (s *Store) VerifyAccessLog(ctx context.Context) (app.ChainReport, error) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	w := chainWalk{cps: map[uint64]*app.Checkpoint{}, badCps: map[uint64]string{}, now: s.clock.Now()}
	var head chainHead
	var first uint64
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bAccessChain) == nil {
			return fmt.Errorf("verify access log: schema version %d has no chain: %w", readVersion(tx), ErrUnreadable)
		}
		w.pub = append(ed25519.PublicKey(nil), tx.Bucket(bMeta).Get(kLogPub)...)
		var err error
		if head, err = readHead(tx); err != nil {
			return err
		}
		err = tx.Bucket(bCheckpoints).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return nil
			}
			seq := binary.BigEndian.Uint64(k)
			var cp app.Checkpoint
			if err := decode(s.c(bCheckpoints), bCheckpoints, k, v, &cp); err != nil {
				if errors.Is(err, ErrLocked) {
					return err
				}
				w.badCps[seq] = "the checkpoint cannot be read or authenticated"
				return nil
			}
			if cp.Seq != seq {
				w.badCps[seq] = fmt.Sprintf("the checkpoint of position %d is stored at %d", cp.Seq, seq)
				return nil
			}
			w.cps[seq] = &cp
			return nil
		})
		if err != nil {
			return err
		}
		if k, _ := tx.Bucket(bAccessChain).Cursor().First(); len(k) == 8 {
			first = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	if err != nil {
		return app.ChainReport{}, err
	}
	w.rep.Checkpoints = len(w.cps) + len(w.badCps)
	if len(w.pub) != ed25519.PublicKeySize {
		w.fail(0, "", app.BreakCheckpoint, "the database has no access-log public key")
		return w.rep, nil
	}
	if first == 0 {
		w.start(head.Seq + 1)
	} else {
		w.start(first)
	}
	after := first
	for first != 0 && w.rep.Break == nil {
		if err := ctx.Err(); err != nil {
			return w.rep, err
		}
		n := 0
		err := s.viewC(ctx, func(tx *bolt.Tx) error {
			chain := tx.Bucket(bAccessChain)
			codec := s.c(bAccessChain)
			c := chain.Cursor()
			for k, v := c.Seek(seqKey(after)); k != nil && n < verifyBatch && w.rep.Break == nil; k, v = c.Next() {
				if len(k) != 8 {
					w.fail(w.prevSeq+1, "", app.BreakEdited, "a key of %d bytes in the chain", len(k))
					return nil
				}
				seq := binary.BigEndian.Uint64(k)
				var l app.ChainLink
				err := decode(codec, bAccessChain, k, v, &l)
				if errors.Is(err, ErrLocked) {
					return err
				}
				var movedFrom uint64
				if err != nil {
					movedFrom = triedElsewhere(codec, seq, v)
				}
				w.link(seq, &l, err, movedFrom)
				after, n = seq+1, n+1
			}
			return nil
		})
		if err != nil {
			return w.rep, err
		}
		if n < verifyBatch {
			break
		}
	}
	if w.rep.Break == nil {
		w.end(head)
	}
	return w.rep, nil
}

// triedElsewhere tells a value moved from another position from an edited
// one when the codec binds values to their key (AEAD): the value opens
// under a neighbour's key. It returns that position, or 0.
func triedElsewhere(codec Codec, seq uint64, v []byte) uint64 {
	for _, other := range []uint64{seq - 1, seq + 1} {
		if other == 0 {
			continue
		}
		var l app.ChainLink
		if decode(codec, bAccessChain, seqKey(other), v, &l) == nil {
			return other
		}
	}
	return 0
}

// chainWalk is the verification of one chain, fed link by link in order.
type chainWalk struct {
	pub    ed25519.PublicKey
	cps    map[uint64]*app.Checkpoint
	badCps map[uint64]string
	now    time.Time
	rep    app.ChainReport

	prevSeq  uint64
	prevHash []byte
	prevID   app.ID
}

func (w *chainWalk) fail(seq uint64, id app.ID, kind app.BreakKind, format string, args ...any) {
	if w.rep.Break == nil {
		w.rep.Break = &app.ChainBreak{Seq: seq, EntryID: id, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	}
}

// checkCheckpoint checks the checkpoint at seq, if any, against hash (nil:
// the link is gone, only the signature is checked).
func (w *chainWalk) checkCheckpoint(seq uint64, hash []byte, id app.ID) {
	if why, bad := w.badCps[seq]; bad {
		w.fail(seq, id, app.BreakCheckpoint, "%s", why)
		return
	}
	cp := w.cps[seq]
	if cp == nil {
		return
	}
	if !cp.Valid(w.pub) {
		w.fail(seq, id, app.BreakCheckpoint, "the signature of the checkpoint at %d does not verify with the database's key", seq)
		return
	}
	if hash != nil && !bytes.Equal(cp.Hash, hash) {
		w.fail(seq, id, app.BreakEdited, "the entry does not match the signed checkpoint of %s", cp.At.UTC().Format(time.RFC3339))
	}
}

// start sets the walk up for a chain whose first kept link is first.
func (w *chainWalk) start(first uint64) {
	anchor := first - 1
	// Checkpoints older than the anchor outlived their entries (pruning
	// removes them); they must still be genuine.
	for _, seq := range w.sortedCheckpoints() {
		if seq < anchor {
			w.checkCheckpoint(seq, nil, "")
		}
	}
	w.prevSeq, w.prevHash = anchor, make([]byte, app.HashSize)
	if anchor == 0 {
		return
	}
	w.rep.Anchor = anchor
	cp := w.cps[anchor]
	if _, bad := w.badCps[anchor]; cp == nil && !bad {
		w.fail(1, "", app.BreakRemoved, "entries 1 to %d are gone and no checkpoint at %d vouches for their removal", anchor, anchor)
		return
	}
	w.checkCheckpoint(anchor, nil, "")
	if w.rep.Break != nil {
		return
	}
	if limit := w.now.AddDate(-app.MinLogRetentionYears, 0, 0); !cp.At.Before(limit) {
		w.fail(1, "", app.BreakRemoved, "entries 1 to %d were removed before the retention time (their checkpoint is of %s)",
			anchor, cp.At.UTC().Format(time.RFC3339))
		return
	}
	w.prevHash = cp.Hash
}

func (w *chainWalk) link(seq uint64, l *app.ChainLink, readErr error, movedFrom uint64) {
	switch {
	case seq != w.prevSeq+1:
		w.fail(w.prevSeq+1, "", app.BreakRemoved, "%s missing", span(w.prevSeq+1, seq-1))
	case readErr != nil && movedFrom != 0:
		w.fail(seq, "", app.BreakReordered, "the stored value is the entry of position %d", movedFrom)
	case readErr != nil:
		w.fail(seq, "", app.BreakEdited, "the stored value cannot be read or authenticated")
	case l.Seq != seq:
		w.fail(seq, l.Entry.ID, app.BreakReordered, "the entry of position %d is stored at position %d", l.Seq, seq)
	case !bytes.Equal(l.Prev, w.prevHash) && seq == w.rep.Anchor+1 && w.rep.Anchor > 0:
		w.fail(seq, l.Entry.ID, app.BreakEdited, "the entry does not continue from the checkpoint at %d", w.rep.Anchor)
	case !bytes.Equal(l.Prev, w.prevHash) && seq == 1:
		w.fail(seq, l.Entry.ID, app.BreakEdited, "the first entry's link was changed")
	case !bytes.Equal(l.Prev, w.prevHash):
		w.fail(w.prevSeq, w.prevID, app.BreakEdited, "the entry no longer matches the hash entry %d recorded for it", seq)
	}
	if w.rep.Break != nil {
		return
	}
	h := l.Hash()
	w.checkCheckpoint(seq, h, l.Entry.ID)
	w.prevSeq, w.prevHash, w.prevID = seq, h, l.Entry.ID
	if w.rep.Entries == 0 {
		w.rep.First = seq
	}
	w.rep.Entries++
	w.rep.Last = seq
}

// end checks the last link against the head and the checkpoints beyond it.
func (w *chainWalk) end(head chainHead) {
	switch {
	case head.Seq > w.prevSeq:
		w.fail(w.prevSeq+1, "", app.BreakRemoved, "%s gone (the head records %d entries)", span(w.prevSeq+1, head.Seq), head.Seq)
		return
	case head.Seq < w.prevSeq:
		w.fail(head.Seq+1, "", app.BreakEdited, "entries %d to %d lie beyond the recorded head", head.Seq+1, w.prevSeq)
		return
	case !bytes.Equal(head.Hash, w.prevHash):
		w.fail(w.prevSeq, w.prevID, app.BreakEdited, "the last entry no longer matches the recorded head")
		return
	}
	for _, seq := range w.sortedCheckpoints() {
		if seq > w.prevSeq {
			w.checkCheckpoint(seq, nil, "")
			w.fail(seq, "", app.BreakRemoved, "a checkpoint covers position %d, beyond the last entry %d", seq, w.prevSeq)
			return
		}
	}
}

// span names the entries from a to b, with the verb.
func span(a, b uint64) string {
	if a == b {
		return fmt.Sprintf("entry %d is", a)
	}
	return fmt.Sprintf("entries %d to %d are", a, b)
}

func (w *chainWalk) sortedCheckpoints() []uint64 {
	seqs := make([]uint64, 0, len(w.cps)+len(w.badCps))
	for s := range w.cps {
		seqs = append(seqs, s)
	}
	for s := range w.badCps {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs
}
