package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"mottagning/app"
	"mottagning/storage"
)

// The chunks of attachments desktops upload ahead of their
// attachment.put op (storage/attachsync.go on bbolt): staged_chunks, one
// row per chunk, sealed under (case, attachment, number).

func chunkKey(caseID, id app.ID, n int) string { return attKey(caseID, id) + "\x00" + strconv.Itoa(n) }

func stagedIndexes(ctx context.Context, q querier, caseID, id app.ID) ([]int, error) {
	rows, err := q.Query(ctx, "SELECT n FROM staged_chunks WHERE case_id = $1 AND id = $2 ORDER BY n", string(caseID), string(id))
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if out == nil {
		out = []int{}
	}
	return out, err
}

// assemble reads the staged chunks of an attachment of size bytes as one
// file, or fails with app.ErrAttachmentIncomplete.
func (s *Store) assemble(ctx context.Context, q querier, caseID, id app.ID, size int64) ([]byte, error) {
	rows, err := q.Query(ctx, "SELECT n, data FROM staged_chunks WHERE case_id = $1 AND id = $2 ORDER BY n", string(caseID), string(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := app.AttachmentChunks(size)
	out := make([]byte, 0, size)
	i := 0
	for rows.Next() {
		var k int
		var data []byte
		if err := rows.Scan(&k, &data); err != nil {
			return nil, err
		}
		if k != i || i >= n {
			break
		}
		p, err := s.seal.OpenBytes("staged_chunks", chunkKey(caseID, id, k), data)
		if err != nil {
			return nil, err
		}
		if len(p) != app.AttachmentChunkLen(size, k) {
			return nil, fmt.Errorf("attachment %s: chunk %d has %d bytes: %w", id, k, len(p), storage.ErrCorruptValue)
		}
		out = append(out, p...)
		i++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if i < n {
		return nil, fmt.Errorf("attachment %s: chunk %d: %w", id, i, app.ErrAttachmentIncomplete)
	}
	return out, nil
}

// StageChunk stores chunk n of attachment id of case caseID (size bytes,
// SHA-256 sum in hex) and returns the numbers of its staged chunks. Once
// the case holds the bytes nothing is staged (nil). When the chunks make
// the whole file and it does not match sum, every staged chunk of it is
// dropped and the error matches app.ErrAttachmentCorrupt.
func (s *Store) StageChunk(ctx context.Context, caseID, id app.ID, n int, data []byte, size int64, sum string) ([]int, error) {
	if err := storage.CheckChunk(caseID, id, n, data, size); err != nil {
		return nil, err
	}
	var have []int
	bad := false
	err := s.write(ctx, "stage chunk of attachment "+string(id), func(tx *wtx) error {
		have, bad = nil, false
		var held bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM attachments WHERE case_id = $1 AND id = $2)", string(caseID), string(id)).Scan(&held); err != nil || held {
			return err
		}
		enc, err := s.seal.SealBytes("staged_chunks", chunkKey(caseID, id, n), data)
		if err != nil {
			return err
		}
		// The first chunk's time stays (retention counts from it).
		if _, err := tx.Exec(ctx, `INSERT INTO staged_chunks (case_id, id, n, size, sum, staged_at, data)
			VALUES ($1, $2, $3, $4, $5, coalesce((SELECT min(staged_at) FROM staged_chunks WHERE case_id = $1 AND id = $2), $6), $7)
			ON CONFLICT (case_id, id, n) DO UPDATE SET data = EXCLUDED.data, size = EXCLUDED.size, sum = EXCLUDED.sum`,
			string(caseID), string(id), n, size, sum, s.clock.Now().UnixMilli(), enc); err != nil {
			return err
		}
		if have, err = stagedIndexes(ctx, tx, caseID, id); err != nil {
			return err
		}
		if len(have) < app.AttachmentChunks(size) {
			return nil
		}
		whole, err := s.assemble(ctx, tx, caseID, id, size)
		if err != nil {
			return err
		}
		if d := sha256.Sum256(whole); hex.EncodeToString(d[:]) != sum {
			bad, have = true, nil
			_, err := tx.Exec(ctx, "DELETE FROM staged_chunks WHERE case_id = $1 AND id = $2", string(caseID), string(id))
			return err
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

// StagedChunks lists the numbers of the staged chunks of an attachment.
func (s *Store) StagedChunks(ctx context.Context, caseID, id app.ID) ([]int, error) {
	return stagedIndexes(ctx, s.read(ctx), caseID, id)
}

// StagedAttachment implements app.ChunkStaging.
func (s *Store) StagedAttachment(ctx context.Context, caseID, id app.ID, size int64) ([]byte, error) {
	return s.assemble(ctx, s.read(ctx), caseID, id, size)
}

// DiscardStagedChunks implements app.ChunkStaging.
func (s *Store) DiscardStagedChunks(ctx context.Context, caseID, id app.ID) error {
	return s.write(ctx, "discard chunks of attachment "+string(id), func(tx *wtx) error {
		_, err := tx.Exec(ctx, "DELETE FROM staged_chunks WHERE case_id = $1 AND id = $2", string(caseID), string(id))
		return err
	})
}

// AttachmentChunk returns chunk n of the stored bytes of an attachment
// (app.ErrNotFound while the case holds none under that id).
func (s *Store) AttachmentChunk(ctx context.Context, caseID, id app.ID, n int) ([]byte, error) {
	data, err := s.AttachmentData(ctx, caseID, id)
	if err != nil {
		return nil, err
	}
	l := app.AttachmentChunkLen(int64(len(data)), n)
	if l == 0 {
		return nil, fmt.Errorf("attachment %s: chunk %d: %w", id, n, app.ErrInvalid)
	}
	off := n * app.AttachmentChunkSize
	return data[off : off+l], nil
}

// PruneStagedChunks drops the staged chunks of every attachment whose
// first chunk came before before, and returns how many attachments.
func (s *Store) PruneStagedChunks(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.write(ctx, "prune staged chunks", func(tx *wtx) error {
		rows, err := tx.Query(ctx, `DELETE FROM staged_chunks WHERE (case_id, id) IN
			(SELECT case_id, id FROM staged_chunks GROUP BY case_id, id HAVING min(staged_at) < $1)
			RETURNING case_id, id`, before.UnixMilli())
		if err != nil {
			return err
		}
		seen := map[[2]string]bool{}
		for rows.Next() {
			var c, i string
			if err := rows.Scan(&c, &i); err != nil {
				rows.Close()
				return err
			}
			seen[[2]string{c, i}] = true
		}
		rows.Close()
		n = len(seen)
		return rows.Err()
	})
	return n, err
}
