package pgstore

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/storage"
)

// The receiving end of mottagning-server migrate (storage.ServerImport):
// a bbolt server's data written into an empty PostgreSQL database with
// its versions, its feed positions and its access-log chain as they are.

var _ storage.ServerImport = (*Store)(nil)

// ReadyForImport refuses a database that holds any data already.
func (s *Store) ReadyForImport(ctx context.Context) error {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM clinics LIMIT 1) a) + (SELECT count(*) FROM (SELECT 1 FROM residents LIMIT 1) b)
		+ (SELECT count(*) FROM (SELECT 1 FROM cases LIMIT 1) c) + (SELECT count(*) FROM (SELECT 1 FROM access_chain LIMIT 1) d)
		+ (SELECT count(*) FROM (SELECT 1 FROM changes LIMIT 1) e)`).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 || s.feedOn() {
		return fmt.Errorf("migrate: the PostgreSQL database holds data already; migrate into an empty one: %w", app.ErrConflict)
	}
	return nil
}

// ImportDirectory writes clinics, staff, templates, e-services and forms.
func (s *Store) ImportDirectory(ctx context.Context, cs []app.Clinic, st []app.Staff, ts []app.MessageTemplate, es []app.EService, fs []form.Series) error {
	return s.Batch(ctx, func(ctx context.Context) error {
		for i := range cs {
			if err := s.PutClinic(ctx, &cs[i]); err != nil {
				return err
			}
		}
		for i := range st {
			if err := s.PutStaff(ctx, &st[i]); err != nil {
				return err
			}
		}
		for i := range ts {
			if err := s.PutTemplate(ctx, &ts[i]); err != nil {
				return err
			}
		}
		for i := range es {
			if err := s.PutEService(ctx, &es[i]); err != nil {
				return err
			}
		}
		for i := range fs {
			if err := s.PutFormSeries(ctx, &fs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportResidents writes residents.
func (s *Store) ImportResidents(ctx context.Context, rs []app.Resident) error {
	ps := make([]*app.Resident, len(rs))
	for i := range rs {
		ps[i] = &rs[i]
	}
	return s.PutResidents(ctx, ps)
}

// ImportThread writes a case as it is (versions kept: the feed is off
// until ImportFeed), with its notifications and attachments.
func (s *Store) ImportThread(ctx context.Context, t *app.Thread) error {
	return s.write(ctx, "import case "+string(t.Case.ID), func(tx *wtx) error { return s.createThread(ctx, tx, t) })
}

// ImportCredentials writes desktop-style credentials (a server has none
// unless it was once a desktop's database).
func (s *Store) ImportCredentials(ctx context.Context, cs []app.Credential) error {
	for i := range cs {
		if err := s.PutCredential(ctx, &cs[i]); err != nil {
			return err
		}
	}
	return nil
}

// ImportOpResults writes the op memory.
func (s *Store) ImportOpResults(ctx context.Context, rs []app.OpResult) error {
	return s.write(ctx, "import op results", func(tx *wtx) error {
		for i := range rs {
			if err := s.putOpResult(ctx, tx, &rs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportPullLogged writes what the access log recorded as sent to a device.
func (s *Store) ImportPullLogged(ctx context.Context, holder, caseID app.ID, version uint64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO pull_logged (holder, case_id, version) VALUES ($1, $2, $3)
		ON CONFLICT (holder, case_id) DO UPDATE SET version = EXCLUDED.version`, string(holder), string(caseID), int64(version))
	return err
}

// ImportAccessLog takes over the chain with its signing key: the links
// at their positions, the checkpoints, the head.
func (s *Store) ImportAccessLog(ctx context.Context, key ed25519.PrivateKey, links []app.ChainLink, cps []app.Checkpoint, headSeq uint64, headHash []byte) error {
	err := s.write(ctx, "import access log", func(tx *wtx) error {
		if err := s.putSealedMeta(ctx, tx, kLogKey, key.Seed()); err != nil {
			return err
		}
		if err := putMeta(ctx, tx, kLogPub, key.Public().(ed25519.PublicKey)); err != nil {
			return err
		}
		rows := make([][]any, 0, len(links))
		for i := range links {
			l := &links[i]
			data, err := s.seal.Seal("access_chain", strconv.FormatUint(l.Seq, 10), l)
			if err != nil {
				return err
			}
			rows = append(rows, []any{int64(l.Seq), string(l.Entry.ClinicID), string(l.Entry.ID), l.Entry.At.UnixMilli(), data})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"access_chain"}, []string{"seq", "clinic_id", "entry_id", "at", "data"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for i := range cps {
			data, err := s.seal.Seal("access_checkpoints", strconv.FormatUint(cps[i].Seq, 10), &cps[i])
			if err != nil {
				return err
			}
			b.Queue("INSERT INTO access_checkpoints (seq, data) VALUES ($1, $2)", int64(cps[i].Seq), data)
		}
		b.Queue("DELETE FROM access_head")
		b.Queue("INSERT INTO access_head (seq, hash) VALUES ($1, $2)", int64(headSeq), headHash)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return err
	}
	s.signKey, s.pub = key, key.Public().(ed25519.PublicKey)
	return nil
}

// ImportFeed writes the change feed at its positions and turns it on.
func (s *Store) ImportFeed(ctx context.Context, entries []storage.FeedEntry) error {
	var head uint64
	err := s.write(ctx, "import change feed", func(tx *wtx) error {
		rows := make([][]any, 0, len(entries))
		for _, e := range entries {
			rows = append(rows, []any{int64(e.Seq), string([]byte{e.Kind}), string(e.Clinic), string(e.ID)})
			head = max(head, e.Seq)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"changes"}, []string{"seq", "kind", "clinic_id", "id"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE feed_head SET seq = $1", int64(head)); err != nil {
			return err
		}
		return putMeta(ctx, tx, kFeed, []byte{1})
	})
	if err != nil {
		return err
	}
	s.feed.Store(true)
	s.advance(head)
	return nil
}
