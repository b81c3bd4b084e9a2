package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// Attachments in chunks (docs/sync.md, Attachments; schema v10).
//
// The central server stages in attachment_chunks the chunks a desktop
// uploads ahead of its attachment.put op. When the last one arrives the
// whole file is checked against the digest on the message (a mismatch
// drops every chunk of the attachment: which one is wrong cannot be told);
// applying the op then assembles them, stores the bytes in the case's
// transaction and drops the chunks in the same one (app.CaseService,
// through Batch). A chunk is written in its own transaction, so an upload
// cut off anywhere resumes at the first chunk the server lacks.
//
// A connected desktop stages the chunks it downloads in the same bucket,
// and lists in attachment_fetch the attachments described on pulled
// messages whose bytes it lacks. The bytes reach bucket attachments only
// whole and verified, in the transaction of the last chunk, which also
// drops the chunks and the entry.
//
// Bytes, chunks and the fetch list are keyed by case and attachment id
// (v11, attKey): an attachment id names a file only within its case, so a
// message of one case that names another case's attachment id reaches
// nothing of it (issue 13, finding 3).

var (
	bAttachChunks = []byte("attachment_chunks")
	bAttachFetch  = []byte("attachment_fetch")
)

func migrate10(tx *bolt.Tx, _ Codec) error {
	for _, b := range [][]byte{bAttachChunks, bAttachFetch} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

// attKey is the key of attachment id of case caseID in buckets
// attachments and attachment_fetch: <caseID> 0 <attachmentID>. Neither id
// contains a 0 byte (CheckAttachmentKey), so each key names one pair.
func attKey(caseID, id app.ID) []byte {
	k := make([]byte, 0, len(caseID)+1+len(id)+6)
	k = append(k, caseID...)
	k = append(k, 0)
	return append(k, id...)
}

// chunkPrefix is the key prefix of the chunks of attachment id of case
// caseID: attKey and a 0 byte, so no pair's prefix starts another's.
func chunkPrefix(caseID, id app.ID) []byte { return append(attKey(caseID, id), 0) }

func chunkKey(caseID, id app.ID, n int) []byte {
	return binary.BigEndian.AppendUint32(chunkPrefix(caseID, id), uint32(n))
}

// CheckAttachmentKey refuses a case or attachment id that cannot be a
// key (empty, over 64 bytes, a 0 byte; here and in pgstore).
func CheckAttachmentKey(caseID, id app.ID) error {
	for _, x := range []app.ID{caseID, id} {
		if x == "" || len(x) > 64 || bytes.IndexByte([]byte(x), 0) >= 0 {
			return fmt.Errorf("attachment id: %w", app.ErrInvalid)
		}
	}
	return nil
}

// CheckChunk refuses a chunk that is not chunk n of an attachment of size
// bytes: a number beyond its end, or another length than the chunk's.
func CheckChunk(caseID, id app.ID, n int, data []byte, size int64) error {
	if err := CheckAttachmentKey(caseID, id); err != nil {
		return err
	}
	if size <= 0 || size > app.MaxAttachmentSize {
		return fmt.Errorf("attachment %s: size %d: %w", id, size, app.ErrInvalid)
	}
	if want := app.AttachmentChunkLen(size, n); want == 0 || len(data) != want {
		return fmt.Errorf("attachment %s: chunk %d of %d bytes: %w", id, n, len(data), app.ErrInvalid)
	}
	return nil
}

// stagedIndexes lists the numbers of the staged chunks of id of case
// caseID, in order.
func stagedIndexes(tx *bolt.Tx, caseID, id app.ID) []int {
	out := []int{}
	p := chunkPrefix(caseID, id)
	c := tx.Bucket(bAttachChunks).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if len(k) == len(p)+4 {
			out = append(out, int(binary.BigEndian.Uint32(k[len(p):])))
		}
	}
	return out
}

// assemble reads the staged chunks of id of case caseID as one file of
// size bytes, or fails with app.ErrAttachmentIncomplete.
func (s *Store) assemble(tx *bolt.Tx, caseID, id app.ID, size int64) ([]byte, error) {
	bk := tx.Bucket(bAttachChunks)
	n := app.AttachmentChunks(size)
	out := make([]byte, 0, size)
	for i := 0; i < n; i++ {
		k := chunkKey(caseID, id, i)
		v := bk.Get(k)
		if v == nil {
			return nil, fmt.Errorf("attachment %s: chunk %d: %w", id, i, app.ErrAttachmentIncomplete)
		}
		p, err := decodeRaw(s.c(bAttachChunks), bAttachChunks, k, v)
		if err != nil {
			return nil, err
		}
		if len(p) != app.AttachmentChunkLen(size, i) {
			return nil, fmt.Errorf("attachment %s: chunk %d has %d bytes: %w", id, i, len(p), ErrCorruptValue)
		}
		out = append(out, p...)
	}
	return out, nil
}

func deleteChunks(tx *bolt.Tx, caseID, id app.ID) error {
	bk := tx.Bucket(bAttachChunks)
	for _, n := range stagedIndexes(tx, caseID, id) {
		if err := bk.Delete(chunkKey(caseID, id, n)); err != nil {
			return err
		}
	}
	return bk.Delete(stagedSinceKey(caseID, id))
}

// stagedSinceKey marks when the first chunk of id was staged (8 bytes,
// Unix milliseconds, in a raw envelope like every value of the bucket):
// one byte after the prefix, so never a chunk's key (stagedIndexes takes
// only keys of prefix and 4 bytes).
func stagedSinceKey(caseID, id app.ID) []byte { return append(chunkPrefix(caseID, id), 't') }

// splitChunkKey splits a key of attachment_chunks into the prefix of its
// upload (<caseID> 0 <attachmentID> 0) and the rest (4 bytes of a chunk
// number, or 't'); ok is false for a key of another shape.
func splitChunkKey(k []byte) (prefix, rest []byte, ok bool) {
	i := bytes.IndexByte(k, 0)
	if i <= 0 {
		return nil, nil, false
	}
	j := bytes.IndexByte(k[i+1:], 0)
	if j <= 0 {
		return nil, nil, false
	}
	p := i + 1 + j + 1
	return k[:p], k[p:], true
}

func (s *Store) markStaged(bk *bolt.Bucket, caseID, id app.ID) error {
	k := stagedSinceKey(caseID, id)
	if bk.Get(k) != nil {
		return nil
	}
	v, err := encodeRaw(s.c(bAttachChunks), bAttachChunks, k, binary.BigEndian.AppendUint64(nil, uint64(s.clock.Now().UnixMilli())))
	if err != nil {
		return err
	}
	return bk.Put(k, v)
}

// StagedChunksRetention is how long the server keeps the chunks of an
// upload whose attachment.put op never came (a desktop wiped or
// reinstalled in the middle): PruneStagedChunks drops them after it.
const StagedChunksRetention = 7 * 24 * time.Hour

// PruneStagedChunks drops the staged chunks of every attachment whose
// first chunk came before before, and returns how many attachments. A
// staging without its mark (written before the mark existed) gets one now.
func (s *Store) PruneStagedChunks(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.updateC(ctx, "prune staged chunks", func(tx *bolt.Tx) error {
		bk := tx.Bucket(bAttachChunks)
		type upload struct{ caseID, id app.ID }
		var old, unmarked []upload
		seen, listed := map[string]bool{}, map[string]bool{}
		err := bk.ForEach(func(k, v []byte) error {
			p, rest, ok := splitChunkKey(k)
			if !ok {
				return nil
			}
			i := bytes.IndexByte(p, 0)
			up := upload{app.ID(p[:i]), app.ID(p[i+1 : len(p)-1])}
			if len(rest) == 1 && rest[0] == 't' {
				seen[string(p)] = true
				t, err := decodeRaw(s.c(bAttachChunks), bAttachChunks, k, v)
				if err != nil {
					return err
				}
				if len(t) == 8 && time.UnixMilli(int64(binary.BigEndian.Uint64(t))).Before(before) {
					old = append(old, up)
				}
				return nil
			}
			if len(rest) == 4 && !seen[string(p)] && !listed[string(p)] {
				listed[string(p)] = true
				unmarked = append(unmarked, up)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, u := range unmarked {
			if err := s.markStaged(bk, u.caseID, u.id); err != nil {
				return err
			}
		}
		for _, u := range old {
			if err := deleteChunks(tx, u.caseID, u.id); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}

func putChunk(s *Store, tx *bolt.Tx, caseID, id app.ID, n int, data []byte) error {
	if err := s.markStaged(tx.Bucket(bAttachChunks), caseID, id); err != nil {
		return err
	}
	k := chunkKey(caseID, id, n)
	enc, err := encodeRaw(s.c(bAttachChunks), bAttachChunks, k, data)
	if err != nil {
		return err
	}
	return tx.Bucket(bAttachChunks).Put(k, enc)
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// StagedChunks lists the numbers of the chunks of attachment id of case
// caseID staged so far (an upload on the server, a download on a
// desktop), in order.
func (s *Store) StagedChunks(ctx context.Context, caseID, id app.ID) ([]int, error) {
	var out []int
	err := s.viewC(ctx, func(tx *bolt.Tx) error { out = stagedIndexes(tx, caseID, id); return nil })
	return out, err
}

// StageChunk stores chunk n of attachment id of case caseID, an
// attachment of size bytes with the SHA-256 sum (hex), and returns the
// numbers of its staged chunks. Storing a chunk again replaces it; once
// the case holds the bytes (the op was applied) nothing is staged and it
// returns nil. When the chunks make the whole file it is checked against
// sum: on a mismatch every staged chunk of it is dropped and the error
// matches app.ErrAttachmentCorrupt.
func (s *Store) StageChunk(ctx context.Context, caseID, id app.ID, n int, data []byte, size int64, sum string) ([]int, error) {
	if err := CheckChunk(caseID, id, n, data, size); err != nil {
		return nil, err
	}
	var have []int
	bad := false
	err := s.updateC(ctx, "stage chunk of attachment "+string(id), func(tx *bolt.Tx) error {
		if tx.Bucket(bAttachments).Get(attKey(caseID, id)) != nil {
			return nil
		}
		if err := putChunk(s, tx, caseID, id, n, data); err != nil {
			return err
		}
		have = stagedIndexes(tx, caseID, id)
		if len(have) < app.AttachmentChunks(size) {
			return nil
		}
		whole, err := s.assemble(tx, caseID, id, size)
		if err != nil {
			return err
		}
		if digestOf(whole) != sum {
			bad, have = true, nil
			return deleteChunks(tx, caseID, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if bad {
		return nil, fmt.Errorf("attachment %s: staged chunks: %w", id, app.ErrAttachmentCorrupt)
	}
	return have, nil
}

// StagedAttachment implements app.ChunkStaging.
func (s *Store) StagedAttachment(ctx context.Context, caseID, id app.ID, size int64) ([]byte, error) {
	var out []byte
	err := s.viewC(ctx, func(tx *bolt.Tx) (err error) { out, err = s.assemble(tx, caseID, id, size); return err })
	return out, err
}

// DiscardStagedChunks implements app.ChunkStaging.
func (s *Store) DiscardStagedChunks(ctx context.Context, caseID, id app.ID) error {
	return s.updateC(ctx, "discard chunks of attachment "+string(id), func(tx *bolt.Tx) error { return deleteChunks(tx, caseID, id) })
}

// HasAttachmentData implements app.ChunkStaging.
func (s *Store) HasAttachmentData(ctx context.Context, caseID, id app.ID) (held bool, err error) {
	err = s.viewC(ctx, func(tx *bolt.Tx) error { held = tx.Bucket(bAttachments).Get(attKey(caseID, id)) != nil; return nil })
	return held, err
}

// AttachmentChunk returns chunk n of the stored bytes of attachment id
// of case caseID (app.ErrNotFound while the case holds none under that
// id). On the server, whose values are plain, only the chunk is copied
// out of the file.
func (s *Store) AttachmentChunk(ctx context.Context, caseID, id app.ID, n int) ([]byte, error) {
	var out []byte
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		k := attKey(caseID, id)
		v := tx.Bucket(bAttachments).Get(k)
		if v == nil {
			return fmt.Errorf("attachment %s of case %s: %w", id, caseID, app.ErrNotFound)
		}
		c := s.c(bAttachments)
		var data []byte
		if len(v) >= 2 && v[0] == rawFormat && v[1] == 0 && c.ID() == 0 {
			data = v[2:]
		} else {
			var err error
			if data, err = decodeRaw(c, bAttachments, k, v); err != nil {
				return err
			}
		}
		l := app.AttachmentChunkLen(int64(len(data)), n)
		if l == 0 {
			return fmt.Errorf("attachment %s: chunk %d: %w", id, n, app.ErrInvalid)
		}
		off := n * app.AttachmentChunkSize
		out = append([]byte(nil), data[off:off+l]...)
		return nil
	})
	return out, err
}

// WantAttachments records, on a connected desktop, attachments described
// on pulled messages whose bytes it does not hold yet; the sync engine
// fetches them (StageFetchedChunk). Those held or listed already are
// skipped, and nothing is written when all are.
func (s *Store) WantAttachments(ctx context.Context, refs []app.AttachmentRef) error {
	var need []app.AttachmentRef
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		for _, r := range refs {
			if CheckAttachmentKey(r.CaseID, r.ID) != nil {
				continue
			}
			k := attKey(r.CaseID, r.ID)
			if tx.Bucket(bAttachments).Get(k) == nil && tx.Bucket(bAttachFetch).Get(k) == nil {
				need = append(need, r)
			}
		}
		return nil
	})
	if err != nil || len(need) == 0 {
		return err
	}
	return s.updateC(ctx, "want attachments", func(tx *bolt.Tx) error {
		for i := range need {
			k := attKey(need[i].CaseID, need[i].ID)
			if tx.Bucket(bAttachments).Get(k) != nil {
				continue
			}
			if err := s.put(tx, bAttachFetch, string(k), &need[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// WantedAttachments lists the attachments a desktop has yet to fetch,
// by case, oldest first within a case (ids are time-ordered), at most
// limit (0: all).
func (s *Store) WantedAttachments(ctx context.Context, limit int) ([]app.AttachmentRef, error) {
	var out []app.AttachmentRef
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bAttachFetch).Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var r app.AttachmentRef
			if err := decode(s.c(bAttachFetch), bAttachFetch, k, v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// StageFetchedChunk stores chunk n of attachment id of case caseID, a
// wanted attachment (WantAttachments), and reports whether it is now
// complete: then the whole file, checked against the size and digest of
// its description, is in bucket attachments under the case, and its
// chunks and its entry are gone, all in this transaction. Whole bytes
// that do not match drop every chunk (the error matches
// app.ErrAttachmentCorrupt); the download starts over.
func (s *Store) StageFetchedChunk(ctx context.Context, caseID, id app.ID, n int, data []byte) (bool, error) {
	done, bad := false, false
	err := s.updateC(ctx, "stage fetched chunk of attachment "+string(id), func(tx *bolt.Tx) error {
		if err := CheckAttachmentKey(caseID, id); err != nil {
			return err
		}
		k := attKey(caseID, id)
		v := tx.Bucket(bAttachFetch).Get(k)
		if v == nil {
			return fmt.Errorf("attachment %s of case %s: not wanted: %w", id, caseID, app.ErrNotFound)
		}
		var r app.AttachmentRef
		if err := decode(s.c(bAttachFetch), bAttachFetch, k, v, &r); err != nil {
			return err
		}
		if tx.Bucket(bAttachments).Get(k) != nil {
			done = true
			return forgetFetch(tx, caseID, id)
		}
		if err := CheckChunk(caseID, id, n, data, r.Size); err != nil {
			return err
		}
		if err := putChunk(s, tx, caseID, id, n, data); err != nil {
			return err
		}
		if len(stagedIndexes(tx, caseID, id)) < app.AttachmentChunks(r.Size) {
			return nil
		}
		whole, err := s.assemble(tx, caseID, id, r.Size)
		if err != nil {
			return err
		}
		if digestOf(whole) != r.SHA256 {
			bad = true
			return deleteChunks(tx, caseID, id)
		}
		enc, err := encodeRaw(s.c(bAttachments), bAttachments, k, whole)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bAttachments).Put(k, enc); err != nil {
			return err
		}
		done = true
		return forgetFetch(tx, caseID, id)
	})
	if err != nil {
		return false, err
	}
	if bad {
		return false, fmt.Errorf("attachment %s: fetched chunks: %w", id, app.ErrAttachmentCorrupt)
	}
	return done, nil
}

// ForgetWantedAttachment drops a wanted attachment of case caseID and its
// chunks (the server refuses it for good: the case left the desktop's
// clinics).
func (s *Store) ForgetWantedAttachment(ctx context.Context, caseID, id app.ID) error {
	return s.updateC(ctx, "forget attachment "+string(id), func(tx *bolt.Tx) error { return forgetFetch(tx, caseID, id) })
}

func forgetFetch(tx *bolt.Tx, caseID, id app.ID) error {
	if err := deleteChunks(tx, caseID, id); err != nil {
		return err
	}
	return tx.Bucket(bAttachFetch).Delete(attKey(caseID, id))
}

// Attachments by case (schema v11, issue 13 finding 3). Up to v10 the
// bytes, the staged chunks and the fetch list were keyed by the
// attachment id alone, which a desktop chooses: a message of one case
// naming another case's id reached that case's bytes. From v11 they are
// keyed by case and id (attKey), and attachment_owner remembers which
// case each id belongs to (not on a connected desktop; putBlobs).

var (
	bAttachOwner = []byte("attachment_owner")
	// kAttachByCase marks a sealed database migrated to v11 while locked:
	// its message descriptions, which say whose each attachment is, are
	// sealed, so Unlock moves the attachments (finishAttachmentsByCase).
	kAttachByCase = []byte("attachments_by_case")
)

// claimAttachments records in attachment_owner that the attachment ids
// ids belong to case caseID, and refuses one that another case has.
func claimAttachments(tx *bolt.Tx, caseID app.ID, ids map[app.ID]bool) error {
	bk := tx.Bucket(bAttachOwner)
	for id := range ids {
		if err := CheckAttachmentKey(caseID, id); err != nil {
			return fmt.Errorf("case %s: %w", caseID, err)
		}
		switch v := bk.Get([]byte(id)); {
		case v == nil:
			if err := bk.Put([]byte(id), []byte(caseID)); err != nil {
				return err
			}
		case string(v) != string(caseID):
			return fmt.Errorf("case %s: attachment %s: %w", caseID, id, app.ErrAttachmentTaken)
		}
	}
	return nil
}

// migrate11 puts every attachment under its case. A sealed database
// opens locked (its values cannot be read yet): it is marked, and the
// first Unlock finishes the move before anything reads an attachment.
// Nothing needs to be readable in between: everything moved is sealed.
func migrate11(tx *bolt.Tx, codec Codec) error {
	if _, err := tx.CreateBucketIfNotExists(bAttachOwner); err != nil {
		return fmt.Errorf("create bucket %s: %w", bAttachOwner, err)
	}
	if _, locked := codec.(lockedCodec); locked {
		return tx.Bucket(bMeta).Put(kAttachByCase, []byte("1"))
	}
	return attachmentsByCase(tx, codec)
}

// finishAttachmentsByCase runs the move of migrate11 on a sealed
// database at its first Unlock (codec is its data key's). Called by
// useKey, which holds s.mu.
func (s *Store) finishAttachmentsByCase(codec Codec) error {
	pending := false
	if err := s.db.View(func(tx *bolt.Tx) error { pending = tx.Bucket(bMeta).Get(kAttachByCase) != nil; return nil }); err != nil {
		return err
	}
	if !pending {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := attachmentsByCase(tx, codec); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Delete(kAttachByCase)
	})
	return writeError("migration 11 (attachments by case) at unlock", err)
}

// describedBy is an attachment as a message of a case describes it.
type describedBy struct {
	caseID app.ID
	a      app.Attachment
}

// attachmentsByCase moves the v10 attachment keys under their cases.
//
// Whose an attachment is, is read from the message descriptions in
// case_items: the one case whose messages describe its id. When several
// cases describe the same id (a message that named another case's file,
// finding 3), the bytes go to the one case whose description matches
// them (size and SHA-256); when that does not decide either, and for
// bytes no message describes, they stay under their v10 key, where no
// read reaches them: nothing is deleted, and nothing reaches the wrong
// case. Values are re-sealed under their new keys (the codec binds each
// to its bucket and key).
//
// Staged chunks move with their upload's case (a desktop's fetch entry
// names it; on the server the one case describing the id), or are
// dropped when it cannot be told: they are copies in transit, which the
// desktop sends or fetches again. Fetch entries move under their case.
// Outside a connected desktop attachment_owner is filled from the same
// decisions.
func attachmentsByCase(tx *bolt.Tx, codec Codec) error {
	described := map[app.ID][]describedBy{}
	var cur []byte
	err := tx.Bucket(bCaseItems).ForEach(func(k, v []byte) error {
		if isHeaderKey(k) {
			cur = append(cur[:0], k[:len(k)-1]...)
			return nil
		}
		if len(cur) == 0 || len(k) <= len(cur) || !bytes.HasPrefix(k, cur) || k[len(cur)] != itemMessage {
			return nil
		}
		var m struct{ Attachments []app.Attachment }
		if err := decode(codec, bCaseItems, k, v, &m); err != nil {
			return err
		}
		for _, a := range m.Attachments {
			described[a.ID] = append(described[a.ID], describedBy{app.ID(cur), a})
		}
		return nil
	})
	if err != nil {
		return err
	}
	// owner decides the case of id; data, when known, breaks a tie.
	owner := func(id app.ID, data []byte) (app.ID, bool) {
		var cases, match []app.ID
		for _, d := range described[id] {
			if !slices.Contains(cases, d.caseID) {
				cases = append(cases, d.caseID)
			}
			if data != nil && d.a.Size == int64(len(data)) && d.a.SHA256 == digestOf(data) && !slices.Contains(match, d.caseID) {
				match = append(match, d.caseID)
			}
		}
		switch {
		case len(cases) == 1:
			return cases[0], CheckAttachmentKey(cases[0], id) == nil
		case len(match) == 1:
			return match[0], CheckAttachmentKey(match[0], id) == nil
		}
		return "", false
	}
	owners := map[app.ID]app.ID{}

	// Bytes: v10 keys are the bare id (no 0 byte).
	att := tx.Bucket(bAttachments)
	var old [][]byte
	if err := att.ForEach(func(k, _ []byte) error {
		if bytes.IndexByte(k, 0) < 0 {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range old {
		data, err := decodeRaw(codec, bAttachments, k, att.Get(k))
		if err != nil {
			return fmt.Errorf("attachment %s: %w", k, err)
		}
		id := app.ID(k)
		o, ok := owner(id, data)
		if !ok {
			continue
		}
		owners[id] = o
		if err := moveRaw(att, codec, bAttachments, k, attKey(o, id), data); err != nil {
			return err
		}
	}

	// Fetch list (a connected desktop): <id> → <caseID> 0 <id>.
	fetch := tx.Bucket(bAttachFetch)
	fetchCase := map[app.ID]app.ID{}
	var refs []app.AttachmentRef
	var oldRefs [][]byte
	if err := fetch.ForEach(func(k, v []byte) error {
		if bytes.IndexByte(k, 0) >= 0 {
			return nil
		}
		var r app.AttachmentRef
		if err := decode(codec, bAttachFetch, k, v, &r); err != nil {
			return err
		}
		oldRefs = append(oldRefs, append([]byte(nil), k...))
		if CheckAttachmentKey(r.CaseID, r.ID) == nil && r.ID == app.ID(k) {
			refs = append(refs, r)
			fetchCase[r.ID] = r.CaseID
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range oldRefs {
		if err := fetch.Delete(k); err != nil {
			return err
		}
	}
	for i := range refs {
		nk := attKey(refs[i].CaseID, refs[i].ID)
		enc, err := encode(codec, bAttachFetch, nk, &refs[i])
		if err != nil {
			return err
		}
		if err := fetch.Put(nk, enc); err != nil {
			return err
		}
	}

	// Staged chunks: <id> 0 <n uint32> and <id> 0 't'.
	chunks := tx.Bucket(bAttachChunks)
	type oldChunk struct {
		key, rest []byte
		id        app.ID
	}
	var staged []oldChunk
	if err := chunks.ForEach(func(k, _ []byte) error {
		i := bytes.IndexByte(k, 0)
		if i > 0 && (len(k) == i+5 || len(k) == i+2 && k[i+1] == 't') {
			k = append([]byte(nil), k...)
			staged = append(staged, oldChunk{k, k[i+1:], app.ID(k[:i])})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, c := range staged {
		o, ok := fetchCase[c.id]
		if !ok {
			o, ok = owner(c.id, nil)
		}
		if !ok {
			if err := chunks.Delete(c.key); err != nil {
				return err
			}
			continue
		}
		data, err := decodeRaw(codec, bAttachChunks, c.key, chunks.Get(c.key))
		if err != nil {
			return fmt.Errorf("chunk of attachment %s: %w", c.id, err)
		}
		if err := moveRaw(chunks, codec, bAttachChunks, c.key, append(chunkPrefix(o, c.id), c.rest...), data); err != nil {
			return err
		}
	}

	if readRole(tx) == RoleReplica {
		return nil
	}
	own := tx.Bucket(bAttachOwner)
	for id := range described {
		o, ok := owners[id]
		if !ok {
			o, ok = owner(id, nil)
		}
		if !ok {
			continue
		}
		if err := own.Put([]byte(id), []byte(o)); err != nil {
			return err
		}
	}
	return nil
}

// moveRaw re-seals the raw value p from key from to key to of bucket bk.
func moveRaw(bk *bolt.Bucket, codec Codec, bucket, from, to, p []byte) error {
	enc, err := encodeRaw(codec, bucket, to, p)
	if err != nil {
		return err
	}
	if err := bk.Put(to, enc); err != nil {
		return err
	}
	return bk.Delete(from)
}
