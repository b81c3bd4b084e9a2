package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
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

// chunkPrefix is the key prefix of attachment id's chunks; ids never
// contain a 0 byte (checkAttachmentID), so no id's prefix starts another's.
func chunkPrefix(id app.ID) []byte {
	k := make([]byte, 0, len(id)+5)
	k = append(k, id...)
	return append(k, 0)
}

func chunkKey(id app.ID, n int) []byte {
	return binary.BigEndian.AppendUint32(chunkPrefix(id), uint32(n))
}

func checkAttachmentID(id app.ID) error {
	if id == "" || len(id) > 64 || bytes.IndexByte([]byte(id), 0) >= 0 {
		return fmt.Errorf("attachment id: %w", app.ErrInvalid)
	}
	return nil
}

// checkChunk refuses a chunk that is not chunk n of an attachment of size
// bytes: a number beyond its end, or another length than the chunk's.
func checkChunk(id app.ID, n int, data []byte, size int64) error {
	if err := checkAttachmentID(id); err != nil {
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

// stagedIndexes lists the numbers of the staged chunks of id, in order.
func stagedIndexes(tx *bolt.Tx, id app.ID) []int {
	out := []int{}
	p := chunkPrefix(id)
	c := tx.Bucket(bAttachChunks).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if len(k) == len(p)+4 {
			out = append(out, int(binary.BigEndian.Uint32(k[len(p):])))
		}
	}
	return out
}

// assemble reads the staged chunks of id as one file of size bytes, or
// fails with app.ErrAttachmentIncomplete.
func (s *Store) assemble(tx *bolt.Tx, id app.ID, size int64) ([]byte, error) {
	bk := tx.Bucket(bAttachChunks)
	n := app.AttachmentChunks(size)
	out := make([]byte, 0, size)
	for i := 0; i < n; i++ {
		k := chunkKey(id, i)
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

func deleteChunks(tx *bolt.Tx, id app.ID) error {
	bk := tx.Bucket(bAttachChunks)
	for _, n := range stagedIndexes(tx, id) {
		if err := bk.Delete(chunkKey(id, n)); err != nil {
			return err
		}
	}
	return bk.Delete(stagedSinceKey(id))
}

// stagedSinceKey marks when the first chunk of id was staged (8 bytes,
// Unix milliseconds, in a raw envelope like every value of the bucket):
// one byte after the prefix, so never a chunk's key (stagedIndexes takes
// only keys of prefix and 4 bytes).
func stagedSinceKey(id app.ID) []byte { return append(chunkPrefix(id), 't') }

func (s *Store) markStaged(bk *bolt.Bucket, id app.ID) error {
	k := stagedSinceKey(id)
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
		var old, unmarked []app.ID
		seen, listed := map[app.ID]bool{}, map[app.ID]bool{}
		err := bk.ForEach(func(k, v []byte) error {
			i := bytes.IndexByte(k, 0)
			if i <= 0 {
				return nil
			}
			id := app.ID(k[:i])
			if len(k) == i+2 && k[i+1] == 't' {
				seen[id] = true
				p, err := decodeRaw(s.c(bAttachChunks), bAttachChunks, k, v)
				if err != nil {
					return err
				}
				if len(p) == 8 && time.UnixMilli(int64(binary.BigEndian.Uint64(p))).Before(before) {
					old = append(old, id)
				}
				return nil
			}
			if len(k) == i+5 && !seen[id] && !listed[id] {
				listed[id] = true
				unmarked = append(unmarked, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range unmarked {
			if err := s.markStaged(bk, id); err != nil {
				return err
			}
		}
		for _, id := range old {
			if err := deleteChunks(tx, id); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}

func putChunk(s *Store, tx *bolt.Tx, id app.ID, n int, data []byte) error {
	if err := s.markStaged(tx.Bucket(bAttachChunks), id); err != nil {
		return err
	}
	k := chunkKey(id, n)
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

// StagedChunks lists the numbers of the chunks of attachment id staged so
// far (an upload on the server, a download on a desktop), in order.
func (s *Store) StagedChunks(ctx context.Context, id app.ID) ([]int, error) {
	var out []int
	err := s.viewC(ctx, func(tx *bolt.Tx) error { out = stagedIndexes(tx, id); return nil })
	return out, err
}

// StageChunk stores chunk n of attachment id, an attachment of size bytes
// with the SHA-256 sum (hex), and returns the numbers of its staged
// chunks. Storing a chunk again replaces it; once the bytes are stored
// (the op was applied) nothing is staged and it returns nil. When the
// chunks make the whole file it is checked against sum: on a mismatch
// every staged chunk of id is dropped and the error matches
// app.ErrAttachmentCorrupt.
func (s *Store) StageChunk(ctx context.Context, id app.ID, n int, data []byte, size int64, sum string) ([]int, error) {
	if err := checkChunk(id, n, data, size); err != nil {
		return nil, err
	}
	var have []int
	bad := false
	err := s.updateC(ctx, "stage chunk of attachment "+string(id), func(tx *bolt.Tx) error {
		if tx.Bucket(bAttachments).Get([]byte(id)) != nil {
			return nil
		}
		if err := putChunk(s, tx, id, n, data); err != nil {
			return err
		}
		have = stagedIndexes(tx, id)
		if len(have) < app.AttachmentChunks(size) {
			return nil
		}
		whole, err := s.assemble(tx, id, size)
		if err != nil {
			return err
		}
		if digestOf(whole) != sum {
			bad, have = true, nil
			return deleteChunks(tx, id)
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
func (s *Store) StagedAttachment(ctx context.Context, id app.ID, size int64) ([]byte, error) {
	var out []byte
	err := s.viewC(ctx, func(tx *bolt.Tx) (err error) { out, err = s.assemble(tx, id, size); return err })
	return out, err
}

// DiscardStagedChunks implements app.ChunkStaging.
func (s *Store) DiscardStagedChunks(ctx context.Context, id app.ID) error {
	return s.updateC(ctx, "discard chunks of attachment "+string(id), func(tx *bolt.Tx) error { return deleteChunks(tx, id) })
}

// HasAttachmentData implements app.ChunkStaging.
func (s *Store) HasAttachmentData(ctx context.Context, id app.ID) (held bool, err error) {
	err = s.viewC(ctx, func(tx *bolt.Tx) error { held = tx.Bucket(bAttachments).Get([]byte(id)) != nil; return nil })
	return held, err
}

// AttachmentChunk returns chunk n of the stored bytes of attachment id
// (app.ErrNotFound while they are not stored). On the server, whose
// values are plain, only the chunk is copied out of the file.
func (s *Store) AttachmentChunk(ctx context.Context, id app.ID, n int) ([]byte, error) {
	var out []byte
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bAttachments).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("attachment %s: %w", id, app.ErrNotFound)
		}
		c := s.c(bAttachments)
		var data []byte
		if len(v) >= 2 && v[0] == rawFormat && v[1] == 0 && c.ID() == 0 {
			data = v[2:]
		} else {
			var err error
			if data, err = decodeRaw(c, bAttachments, []byte(id), v); err != nil {
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
			if checkAttachmentID(r.ID) != nil || r.CaseID == "" {
				continue
			}
			if tx.Bucket(bAttachments).Get([]byte(r.ID)) == nil && tx.Bucket(bAttachFetch).Get([]byte(r.ID)) == nil {
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
			if tx.Bucket(bAttachments).Get([]byte(need[i].ID)) != nil {
				continue
			}
			if err := s.put(tx, bAttachFetch, string(need[i].ID), &need[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// WantedAttachments lists the attachments a desktop has yet to fetch,
// oldest first (ids are time-ordered), at most limit (0: all).
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

// StageFetchedChunk stores chunk n of a wanted attachment (WantAttachments)
// and reports whether the attachment is now complete: then the whole file,
// checked against the size and digest of its description, is in bucket
// attachments, and its chunks and its entry are gone, all in this
// transaction. Whole bytes that do not match drop every chunk (the error
// matches app.ErrAttachmentCorrupt); the download starts over.
func (s *Store) StageFetchedChunk(ctx context.Context, id app.ID, n int, data []byte) (bool, error) {
	done, bad := false, false
	err := s.updateC(ctx, "stage fetched chunk of attachment "+string(id), func(tx *bolt.Tx) error {
		var r app.AttachmentRef
		if err := s.get(tx, bAttachFetch, string(id), &r); err != nil {
			return err
		}
		if tx.Bucket(bAttachments).Get([]byte(id)) != nil {
			done = true
			return forgetFetch(tx, id)
		}
		if err := checkChunk(id, n, data, r.Size); err != nil {
			return err
		}
		if err := putChunk(s, tx, id, n, data); err != nil {
			return err
		}
		if len(stagedIndexes(tx, id)) < app.AttachmentChunks(r.Size) {
			return nil
		}
		whole, err := s.assemble(tx, id, r.Size)
		if err != nil {
			return err
		}
		if digestOf(whole) != r.SHA256 {
			bad = true
			return deleteChunks(tx, id)
		}
		enc, err := encodeRaw(s.c(bAttachments), bAttachments, []byte(id), whole)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bAttachments).Put([]byte(id), enc); err != nil {
			return err
		}
		done = true
		return forgetFetch(tx, id)
	})
	if err != nil {
		return false, err
	}
	if bad {
		return false, fmt.Errorf("attachment %s: fetched chunks: %w", id, app.ErrAttachmentCorrupt)
	}
	return done, nil
}

// ForgetWantedAttachment drops a wanted attachment and its chunks (the
// server refuses it for good: the case left the desktop's clinics).
func (s *Store) ForgetWantedAttachment(ctx context.Context, id app.ID) error {
	return s.updateC(ctx, "forget attachment "+string(id), func(tx *bolt.Tx) error { return forgetFetch(tx, id) })
}

func forgetFetch(tx *bolt.Tx, id app.ID) error {
	if err := deleteChunks(tx, id); err != nil {
		return err
	}
	return tx.Bucket(bAttachFetch).Delete([]byte(id))
}
