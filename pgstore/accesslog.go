package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"mottagning/app"
	"mottagning/storage"
)

// The access log as a hash chain (app/accesslog.go), as storage keeps
// it: links by position, each sealed under its position. The head row is
// locked by every append (chainWriter), so the positions of all nodes
// follow one order and the chain has no fork; the lock is held to the
// commit of the appending transaction.

type chainWriter struct {
	s      *Store
	tx     pgx.Tx
	seq    uint64
	hash   []byte
	locked bool
	b      *pgx.Batch
}

func (s *Store) newChainWriter(tx *wtx) *chainWriter {
	return &chainWriter{s: s, tx: tx, b: &pgx.Batch{}}
}

// lock reads and locks the head (once).
func (w *chainWriter) lock(ctx context.Context) error {
	if w.locked {
		return nil
	}
	var seq int64
	err := w.tx.QueryRow(ctx, "SELECT seq, hash FROM access_head FOR UPDATE").Scan(&seq, &w.hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// The first link ever: make the head row (a racing node's insert
		// waits on the key, then fails and retries this transaction).
		w.hash = make([]byte, app.HashSize)
		if _, err := w.tx.Exec(ctx, "INSERT INTO access_head (seq, hash) VALUES (0, $1)", w.hash); err != nil {
			return err
		}
		if err := w.tx.QueryRow(ctx, "SELECT seq, hash FROM access_head FOR UPDATE").Scan(&seq, &w.hash); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("access log head: %w", err)
	}
	w.seq, w.locked = uint64(seq), true
	return nil
}

// append queues e as the next link, and a checkpoint when one is due.
func (w *chainWriter) append(ctx context.Context, e *app.AccessEntry) error {
	if err := w.lock(ctx); err != nil {
		return err
	}
	l := app.ChainLink{Seq: w.seq + 1, Prev: w.hash, Entry: *e}
	key := strconv.FormatUint(l.Seq, 10)
	data, err := w.s.seal.Seal("access_chain", key, &l)
	if err != nil {
		return err
	}
	w.b.Queue("INSERT INTO access_chain (seq, clinic_id, entry_id, at, data) VALUES ($1, $2, $3, $4, $5)",
		int64(l.Seq), string(e.ClinicID), string(e.ID), e.At.UnixMilli(), data)
	w.seq, w.hash = l.Seq, l.Hash()
	if w.s.every > 0 && w.seq%w.s.every == 0 {
		if _, err := w.checkpoint(); err != nil {
			return err
		}
	}
	return nil
}

func (w *chainWriter) checkpoint() (app.Checkpoint, error) {
	cp := app.Checkpoint{Seq: w.seq, Hash: w.hash, At: w.s.clock.Now().UTC()}
	cp.Sign(w.s.signKey)
	data, err := w.s.seal.Seal("access_checkpoints", strconv.FormatUint(cp.Seq, 10), &cp)
	if err != nil {
		return cp, err
	}
	w.b.Queue("INSERT INTO access_checkpoints (seq, data) VALUES ($1, $2) ON CONFLICT (seq) DO NOTHING", int64(cp.Seq), data)
	return cp, nil
}

// finish writes the queued links and the head.
func (w *chainWriter) finish(ctx context.Context) error {
	if !w.locked {
		return nil
	}
	w.b.Queue("UPDATE access_head SET seq = $1, hash = $2", int64(w.seq), w.hash)
	return w.tx.SendBatch(ctx, w.b).Close()
}

// Record implements app.AccessLog: the entry becomes the chain's next
// link. The same entry recorded again is not appended twice; another
// entry under a recorded id is refused.
func (s *Store) Record(ctx context.Context, e app.AccessEntry) error {
	if e.ID == "" {
		return fmt.Errorf("record access: no entry id: %w", app.ErrInvalid)
	}
	return s.write(ctx, "record access "+string(e.ID), func(tx *wtx) error {
		w := s.newChainWriter(tx)
		// Lock first: a retry of the same entry racing the original then
		// sees it.
		if err := w.lock(ctx); err != nil {
			return err
		}
		var seq int64
		var data []byte
		err := tx.QueryRow(ctx, "SELECT seq, data FROM access_chain WHERE clinic_id = $1 AND entry_id = $2", string(e.ClinicID), string(e.ID)).Scan(&seq, &data)
		if err == nil {
			var l app.ChainLink
			if err := s.seal.Open("access_chain", strconv.FormatInt(seq, 10), data, &l); err != nil {
				return err
			}
			if app.SameEntry(&l.Entry, &e) {
				return nil
			}
			return fmt.Errorf("record access %s: another entry has this id: %w", e.ID, app.ErrConflict)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := w.append(ctx, &e); err != nil {
			return err
		}
		return w.finish(ctx)
	})
}

// RecordPulled records the access-log entries of the cases whose content
// a pull page (or a push's answer) sends to a device, skipping a case
// already recorded as sent to it at that version or later.
func (s *Store) RecordPulled(ctx context.Context, holder app.ID, pulls []app.PullAccess) (int, error) {
	if len(pulls) == 0 {
		return 0, nil
	}
	if holder == "" {
		return 0, fmt.Errorf("record pull: no device: %w", app.ErrInvalid)
	}
	n := 0
	err := s.write(ctx, "record pull to device "+string(holder), func(tx *wtx) error {
		var err error
		n, err = s.recordPulled(ctx, tx, holder, pulls)
		return err
	})
	return n, err
}

func (s *Store) recordPulled(ctx context.Context, tx *wtx, holder app.ID, pulls []app.PullAccess) (int, error) {
	ids := make([]string, 0, len(pulls))
	for i := range pulls {
		if pulls[i].Entry.ID == "" || pulls[i].Entry.CaseID == "" {
			return 0, fmt.Errorf("record pull: an entry without id or case: %w", app.ErrInvalid)
		}
		ids = append(ids, string(pulls[i].Entry.CaseID))
	}
	w := s.newChainWriter(tx)
	// The head first, then pull_logged: every recorder locks in this order.
	if err := w.lock(ctx); err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, "SELECT case_id, version FROM pull_logged WHERE holder = $1 AND case_id = ANY($2)", string(holder), ids)
	if err != nil {
		return 0, err
	}
	logged := map[app.ID]uint64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return 0, err
		}
		logged[app.ID(id)] = uint64(v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for i := range pulls {
		pa := &pulls[i]
		if v, ok := logged[pa.Entry.CaseID]; ok && v >= pa.Version {
			continue
		}
		if err := w.append(ctx, &pa.Entry); err != nil {
			return 0, err
		}
		w.b.Queue(`INSERT INTO pull_logged (holder, case_id, version) VALUES ($1, $2, $3)
			ON CONFLICT (holder, case_id) DO UPDATE SET version = EXCLUDED.version`, string(holder), string(pa.Entry.CaseID), int64(pa.Version))
		logged[pa.Entry.CaseID] = pa.Version
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, w.finish(ctx)
}

// Entries implements app.AccessLog: the clinic's entries in [from, to),
// oldest first (entry ids are time-ordered).
func (s *Store) Entries(ctx context.Context, clinicID app.ID, from, to time.Time) ([]app.AccessEntry, error) {
	// at is in milliseconds: the range is widened by one and the exact
	// times are compared after opening.
	lo, hi := int64(-1<<62), int64(1<<62)
	if !from.IsZero() {
		lo = from.UnixMilli() - 1
	}
	if !to.IsZero() {
		hi = to.UnixMilli() + 1
	}
	rows, err := s.read(ctx).Query(ctx, `SELECT seq, data FROM access_chain WHERE clinic_id = $1 AND at >= $2 AND at <= $3
		ORDER BY entry_id`, string(clinicID), lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.AccessEntry
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, err
		}
		var l app.ChainLink
		if err := s.seal.Open("access_chain", strconv.FormatInt(seq, 10), data, &l); err != nil {
			return nil, err
		}
		if !l.Entry.At.Before(from) && l.Entry.At.Before(to) {
			out = append(out, l.Entry)
		}
	}
	return out, rows.Err()
}

// CheckpointAccessLog signs the chain's current head; when the head is
// already signed it returns that checkpoint; an empty chain gives
// app.ErrNotFound.
func (s *Store) CheckpointAccessLog(ctx context.Context) (app.Checkpoint, error) {
	var cp app.Checkpoint
	err := s.write(ctx, "checkpoint access log", func(tx *wtx) error {
		w := s.newChainWriter(tx)
		if err := w.lock(ctx); err != nil {
			return err
		}
		if w.seq == 0 {
			return fmt.Errorf("checkpoint access log: no entries: %w", app.ErrNotFound)
		}
		var data []byte
		err := tx.QueryRow(ctx, "SELECT data FROM access_checkpoints WHERE seq = $1", int64(w.seq)).Scan(&data)
		if err == nil {
			return s.seal.Open("access_checkpoints", strconv.FormatUint(w.seq, 10), data, &cp)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if cp, err = w.checkpoint(); err != nil {
			return err
		}
		return w.finish(ctx)
	})
	return cp, err
}

// verifyBatch is how many links VerifyAccessLog reads per query.
const verifyBatch = 10_000

// VerifyAccessLog implements app.AccessLogAdmin: it walks the chain from
// the oldest kept checkpoint (or link 1) to the head in one snapshot,
// with storage's rules (storage.ChainWalk), and reports the first broken
// link. The error is for a log that cannot be read.
func (s *Store) VerifyAccessLog(ctx context.Context) (app.ChainReport, error) {
	var rep app.ChainReport
	err := s.snapshot(ctx, func(q querier) error {
		var headSeq int64
		var headHash []byte
		if err := q.QueryRow(ctx, "SELECT seq, hash FROM access_head").Scan(&headSeq, &headHash); errors.Is(err, pgx.ErrNoRows) {
			headHash = make([]byte, app.HashSize)
		} else if err != nil {
			return err
		}
		cps, bad := map[uint64]*app.Checkpoint{}, map[uint64]string{}
		rows, err := q.Query(ctx, "SELECT seq, data FROM access_checkpoints ORDER BY seq")
		if err != nil {
			return err
		}
		for rows.Next() {
			var seq int64
			var data []byte
			if err := rows.Scan(&seq, &data); err != nil {
				rows.Close()
				return err
			}
			var cp app.Checkpoint
			if err := s.seal.Open("access_checkpoints", strconv.FormatInt(seq, 10), data, &cp); err != nil {
				bad[uint64(seq)] = "the checkpoint cannot be read or authenticated"
			} else if cp.Seq != uint64(seq) {
				bad[uint64(seq)] = fmt.Sprintf("the checkpoint of position %d is stored at %d", cp.Seq, seq)
			} else {
				cps[uint64(seq)] = &cp
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var first int64
		if err := q.QueryRow(ctx, "SELECT coalesce(min(seq), 0) FROM access_chain").Scan(&first); err != nil {
			return err
		}
		w := storage.NewChainWalk(s.pub, cps, bad, s.clock.Now())
		w.Start(uint64(first), uint64(headSeq))
		after := first - 1
		for first != 0 && !w.Broken() {
			if err := ctx.Err(); err != nil {
				return err
			}
			rows, err := q.Query(ctx, "SELECT seq, data FROM access_chain WHERE seq > $1 ORDER BY seq LIMIT $2", after, verifyBatch)
			if err != nil {
				return err
			}
			n := 0
			for rows.Next() && !w.Broken() {
				var seq int64
				var data []byte
				if err := rows.Scan(&seq, &data); err != nil {
					rows.Close()
					return err
				}
				var l app.ChainLink
				err := s.seal.Open("access_chain", strconv.FormatInt(seq, 10), data, &l)
				var moved uint64
				if err != nil {
					for _, other := range []int64{seq - 1, seq + 1} {
						var x app.ChainLink
						if other > 0 && s.seal.Open("access_chain", strconv.FormatInt(other, 10), data, &x) == nil {
							moved = uint64(other)
							break
						}
					}
				}
				w.Link(uint64(seq), &l, err, moved)
				after, n = seq, n+1
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if n < verifyBatch {
				break
			}
		}
		w.End(uint64(headSeq), headHash)
		rep = w.Report()
		return nil
	})
	return rep, err
}

// PruneAccessLog removes the entries older than the retention time
// (Options.LogRetentionYears before now) up to the newest checkpoint that
// is itself older and has only older entries before it; that checkpoint
// stays as the start of verification, older checkpoints go. One
// transaction, under the head's lock.
func (s *Store) PruneAccessLog(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.AddDate(-s.years, 0, 0)
	n := 0
	err := s.write(ctx, "prune access log", func(tx *wtx) error {
		n = 0
		w := s.newChainWriter(tx)
		if err := w.lock(ctx); err != nil {
			return err
		}
		// The first entry inside the retention time bounds the walk (an
		// entry recorded late with an old time lets nothing after it go).
		var stop int64
		if err := tx.QueryRow(ctx, "SELECT coalesce(min(seq), $2) FROM access_chain WHERE at >= $1", cutoff.UnixMilli(), int64(w.seq)+1).Scan(&stop); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT seq, data FROM access_checkpoints WHERE seq < $1 ORDER BY seq DESC", stop)
		if err != nil {
			return err
		}
		var anchor int64
		for rows.Next() {
			var seq int64
			var data []byte
			if err := rows.Scan(&seq, &data); err != nil {
				rows.Close()
				return err
			}
			var cp app.Checkpoint
			if err := s.seal.Open("access_checkpoints", strconv.FormatInt(seq, 10), data, &cp); err != nil {
				rows.Close()
				return err
			}
			if cp.At.Before(cutoff) {
				anchor = seq
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil || anchor == 0 {
			return err
		}
		// Exact times, not milliseconds: every entry up to the anchor must
		// be older than the cutoff.
		lrows, err := tx.Query(ctx, "SELECT seq, data FROM access_chain WHERE seq <= $1 ORDER BY seq", anchor)
		if err != nil {
			return err
		}
		for lrows.Next() {
			var seq int64
			var data []byte
			if err := lrows.Scan(&seq, &data); err != nil {
				lrows.Close()
				return err
			}
			var l app.ChainLink
			if err := s.seal.Open("access_chain", strconv.FormatInt(seq, 10), data, &l); err != nil {
				lrows.Close()
				return err
			}
			if !l.Entry.At.Before(cutoff) {
				lrows.Close()
				return nil
			}
		}
		lrows.Close()
		if err := lrows.Err(); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM access_chain WHERE seq <= $1", anchor)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, "DELETE FROM access_checkpoints WHERE seq < $1", anchor)
		return err
	})
	return n, err
}
