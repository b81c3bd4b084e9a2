package pgstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"mottagning/app"
	"mottagning/storage"
)

// itemKey is the sealing place of a message or note: case, kind, id.
func itemKey(caseID app.ID, kind string, id app.ID) string {
	return string(caseID) + "\x00" + kind + "\x00" + string(id)
}

func attKey(caseID, id app.ID) string { return string(caseID) + "\x00" + string(id) }

// CreateThread implements app.CaseStore: the case, its messages, notes,
// attachments and notifications in one transaction, with w's op marked
// applied.
func (s *Store) CreateThread(ctx context.Context, t *app.Thread, w app.Write) error {
	return s.write(ctx, "create case "+string(t.Case.ID), func(tx *wtx) error {
		if err := s.createThread(ctx, tx, t); err != nil {
			return err
		}
		return s.markOp(ctx, tx, &t.Case, w)
	})
}

// importBatch is how many threads ImportThreads writes per transaction.
const importBatch = 1000

// ImportThreads implements app.CaseStore, importBatch threads per
// transaction, each batch with COPY (one round trip per table) when its
// threads carry no attachments or notifications (a migration, a demo or
// benchmark region); otherwise thread by thread. An existing id fails
// the batch with app.ErrConflict.
func (s *Store) ImportThreads(ctx context.Context, ts []app.Thread) error {
	for start := 0; start < len(ts); start += importBatch {
		end := min(start+importBatch, len(ts))
		batch := ts[start:end]
		err := s.write(ctx, "import cases", func(tx *wtx) error {
			if plainThreads(batch) {
				return s.copyThreads(ctx, tx, batch)
			}
			for i := range batch {
				if err := s.createThread(ctx, tx, &batch[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if isUniqueViolation(err) {
			return fmt.Errorf("import cases: a case exists: %w", app.ErrConflict)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// plainThreads: no thread has attachments or notifications to write.
func plainThreads(ts []app.Thread) bool {
	for i := range ts {
		if len(ts[i].Blobs) > 0 || len(ts[i].Outbox) > 0 {
			return false
		}
		for _, m := range ts[i].Messages {
			if len(m.Attachments) > 0 {
				return false
			}
		}
	}
	return true
}

// copyThreads writes plain threads with COPY.
func (s *Store) copyThreads(ctx context.Context, tx *wtx, ts []app.Thread) error {
	cases := make([][]any, 0, len(ts))
	var items [][]any
	for i := range ts {
		t := &ts[i]
		if err := storage.ValidCase(&t.Case); err != nil {
			return err
		}
		if s.feedOn() {
			t.Case.Version, t.Case.StatusVersion, t.Case.AssigneeVersion = 1, 0, 0
			t.Case.StatusBy, t.Case.AssigneeBy = "", ""
		}
		c := &t.Case
		data, err := s.seal.Seal("cases", string(c.ID), c)
		if err != nil {
			return err
		}
		cases = append(cases, []any{string(c.ID), string(c.ClinicID), string(c.ResidentID), string(c.Status), string(c.AssigneeID), c.LastActivity.UnixMilli(), data})
		for j := range t.Messages {
			m := &t.Messages[j]
			m.CaseID = c.ID
			d, err := s.seal.Seal("case_items", itemKey(c.ID, "m", m.ID), m)
			if err != nil {
				return err
			}
			items = append(items, []any{string(c.ID), "m", string(m.ID), d})
		}
		for j := range t.Notes {
			n := &t.Notes[j]
			n.CaseID = c.ID
			d, err := s.seal.Seal("case_items", itemKey(c.ID, "n", n.ID), n)
			if err != nil {
				return err
			}
			items = append(items, []any{string(c.ID), "n", string(n.ID), d})
		}
		s.feedAdd(tx, feedCase, c.ClinicID, c.ID)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cases"}, []string{"id", "clinic_id", "resident_id", "status", "assignee_id", "activity", "data"}, pgx.CopyFromRows(cases)); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"case_items"}, []string{"case_id", "kind", "id", "data"}, pgx.CopyFromRows(items))
	return err
}

func (s *Store) createThread(ctx context.Context, tx *wtx, t *app.Thread) error {
	if err := storage.ValidCase(&t.Case); err != nil {
		return err
	}
	if s.feedOn() {
		// The server's first version (as storage's createThread).
		t.Case.Version, t.Case.StatusVersion, t.Case.AssigneeVersion = 1, 0, 0
		t.Case.StatusBy, t.Case.AssigneeBy = "", ""
	}
	data, err := s.seal.Seal("cases", string(t.Case.ID), &t.Case)
	if err != nil {
		return err
	}
	c := &t.Case
	tag, err := tx.Exec(ctx, `INSERT INTO cases (id, clinic_id, resident_id, status, assignee_id, activity, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
		string(c.ID), string(c.ClinicID), string(c.ResidentID), string(c.Status), string(c.AssigneeID), c.LastActivity.UnixMilli(), data)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create case %s: exists: %w", c.ID, app.ErrConflict)
	}
	s.feedAdd(tx, feedCase, c.ClinicID, c.ID)
	return s.putItems(ctx, tx, t, nil)
}

// putItems writes the messages and notes of t except those equal to
// their stored version in was (nil: all), the new attachments and the
// notifications, in one round trip.
func (s *Store) putItems(ctx context.Context, tx *wtx, t *app.Thread, was *app.Thread) error {
	b := &pgx.Batch{}
	if err := s.putBlobs(ctx, tx, b, t); err != nil {
		return err
	}
	put := func(kind string, id app.ID, v any) error {
		k := itemKey(t.Case.ID, kind, id)
		data, err := s.seal.Seal("case_items", k, v)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO case_items (case_id, kind, id, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (case_id, kind, id) DO UPDATE SET data = EXCLUDED.data`, string(t.Case.ID), kind, string(id), data)
		return nil
	}
	for i := range t.Messages {
		m := &t.Messages[i]
		m.CaseID = t.Case.ID
		if was != nil && i < len(was.Messages) && reflect.DeepEqual(*m, was.Messages[i]) {
			continue
		}
		if err := put("m", m.ID, m); err != nil {
			return err
		}
	}
	for i := range t.Notes {
		n := &t.Notes[i]
		n.CaseID = t.Case.ID
		if was != nil && i < len(was.Notes) && reflect.DeepEqual(*n, was.Notes[i]) {
			continue
		}
		if err := put("n", n.ID, n); err != nil {
			return err
		}
	}
	if err := s.putOutbox(t, b); err != nil {
		return err
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// putBlobs claims every attachment id the thread's messages describe for
// its case (app.ErrAttachmentTaken when another case has it) and queues
// the bytes of the new ones.
func (s *Store) putBlobs(ctx context.Context, tx *wtx, b *pgx.Batch, t *app.Thread) error {
	described := map[app.ID]bool{}
	for _, m := range t.Messages {
		for _, a := range m.Attachments {
			described[a.ID] = true
		}
	}
	if len(described) > 0 {
		ids := make([]string, 0, len(described))
		for id := range described {
			if err := storage.CheckAttachmentKey(t.Case.ID, id); err != nil {
				return fmt.Errorf("case %s: %w", t.Case.ID, err)
			}
			ids = append(ids, string(id))
		}
		slices.Sort(ids)
		// Claim the free ids, then look at who holds each.
		if _, err := tx.Exec(ctx, `INSERT INTO attachment_owner (id, case_id) SELECT unnest($1::text[]), $2 ON CONFLICT (id) DO NOTHING`,
			ids, string(t.Case.ID)); err != nil {
			return err
		}
		var taken int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM attachment_owner WHERE id = ANY($1) AND case_id <> $2`,
			ids, string(t.Case.ID)).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return fmt.Errorf("case %s: an attachment id of another case: %w", t.Case.ID, app.ErrAttachmentTaken)
		}
	}
	for id, data := range t.Blobs {
		if !described[id] {
			return fmt.Errorf("case %s: attachment %s on no message: %w", t.Case.ID, id, app.ErrInvalid)
		}
		if err := storage.CheckAttachmentKey(t.Case.ID, id); err != nil {
			return err
		}
		enc, err := s.seal.SealBytes("attachments", attKey(t.Case.ID, id), data)
		if err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM attachments WHERE case_id = $1 AND id = $2)", string(t.Case.ID), string(id)).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("case %s: attachment %s exists: %w", t.Case.ID, id, app.ErrConflict)
		}
		b.Queue("INSERT INTO attachments (case_id, id, data) VALUES ($1, $2, $3)", string(t.Case.ID), string(id), enc)
	}
	return nil
}

// Case implements app.CaseStore.
func (s *Store) Case(ctx context.Context, id app.ID) (*app.Case, error) {
	var c app.Case
	if err := s.get(ctx, s.read(ctx), "cases", "id", string(id), &c); err != nil {
		return nil, fmt.Errorf("case %s: %w", id, unwrapNotFound(err))
	}
	return &c, nil
}

func unwrapNotFound(err error) error {
	if errors.Is(err, app.ErrNotFound) {
		return app.ErrNotFound
	}
	return err
}

// readThread reads a case with its items in one statement (one
// snapshot); lock takes the header row for update.
func (s *Store) readThread(ctx context.Context, q querier, id app.ID, lock bool) (*app.Thread, error) {
	var t app.Thread
	var hdr []byte
	sql := "SELECT data FROM cases WHERE id = $1"
	if lock {
		sql += " FOR UPDATE"
	}
	if err := q.QueryRow(ctx, sql, string(id)).Scan(&hdr); errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("case %s: %w", id, app.ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := s.seal.Open("cases", string(id), hdr, &t.Case); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT kind, id, data FROM case_items WHERE case_id = $1 ORDER BY kind, id", string(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, iid string
		var data []byte
		if err := rows.Scan(&kind, &iid, &data); err != nil {
			return nil, err
		}
		k := itemKey(id, kind, app.ID(iid))
		switch kind {
		case "m":
			var m app.Message
			if err := s.seal.Open("case_items", k, data, &m); err != nil {
				return nil, err
			}
			t.Messages = append(t.Messages, m)
		case "n":
			var n app.Note
			if err := s.seal.Open("case_items", k, data, &n); err != nil {
				return nil, err
			}
			t.Notes = append(t.Notes, n)
		default:
			return nil, fmt.Errorf("case %s: an item of unknown kind: %w", id, storage.ErrCorruptValue)
		}
	}
	return &t, rows.Err()
}

// Thread implements app.CaseStore. Outside a batch the header and the
// items are read in one read-only repeatable-read transaction: a
// concurrent reply shows in both or in neither.
func (s *Store) Thread(ctx context.Context, id app.ID) (*app.Thread, error) {
	if b := s.batchOf(ctx); b != nil {
		return s.readThread(ctx, b.tx, id, false)
	}
	var t *app.Thread
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) (err error) {
		t, err = s.readThread(ctx, tx, id, false)
		return err
	})
	return t, err
}

// UpdateThread implements app.CaseStore: the header row is locked from
// the read to the commit, so updates of one case from several nodes
// follow each other. Messages and notes are append-only.
func (s *Store) UpdateThread(ctx context.Context, id app.ID, w app.Write, fn func(t *app.Thread) error) error {
	return s.write(ctx, "update case "+string(id), func(tx *wtx) error {
		t, err := s.readThread(ctx, tx, id, true)
		if err != nil {
			return clean(err)
		}
		old := t.Case
		nm, nn := len(t.Messages), len(t.Notes)
		was := &app.Thread{Messages: slices.Clone(t.Messages), Notes: slices.Clone(t.Notes)}
		if err := fn(t); err != nil {
			return clean(err)
		}
		if len(t.Messages) < nm || len(t.Notes) < nn {
			return clean(fmt.Errorf("update case %s: messages and notes cannot be removed: %w", id, app.ErrInvalid))
		}
		t.Case.ID, t.Case.ClinicID, t.Case.ResidentID = old.ID, old.ClinicID, old.ResidentID
		if err := storage.ValidCase(&t.Case); err != nil {
			return clean(err)
		}
		if s.feedOn() {
			storage.NextCaseVersion(&old, &t.Case, w)
			s.feedAdd(tx, feedCase, old.ClinicID, id)
			if err := s.markOp(ctx, tx, &t.Case, w); err != nil {
				return err
			}
		}
		c := &t.Case
		data, err := s.seal.Seal("cases", string(id), c)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE cases SET status = $2, assignee_id = $3, activity = $4, data = $5 WHERE id = $1",
			string(id), string(c.Status), string(c.AssigneeID), c.LastActivity.UnixMilli(), data); err != nil {
			return err
		}
		return s.putItems(ctx, tx, t, was)
	})
}

// The list cursor is the list's kind, then its scope (clinic and filter)
// and the last listed position (<ms> <caseID>), as storage writes it: a
// cursor is taken only by the list that made it.
func listScope(q app.CaseQuery) (tag string, scope []byte) {
	switch {
	case q.AssigneeID != "":
		return "idx_case_assignee", []byte(string(q.ClinicID) + "\x00" + string(q.AssigneeID) + "\x00")
	case q.Status != "":
		return "idx_case_status", []byte(string(q.ClinicID) + "\x00" + string(q.Status) + "\x00")
	}
	return "all", []byte(string(q.ClinicID) + "\x00")
}

// ListCases implements app.CaseStore: one index range scan, newest
// activity first, from the cursor's position.
func (s *Store) ListCases(ctx context.Context, q app.CaseQuery) (app.CasePage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	tag, scope := listScope(q)
	var afterMs int64
	var afterID string
	hasAfter := false
	if q.After != "" {
		t, enc, ok := strings.Cut(q.After, ":")
		raw, err := base64.RawURLEncoding.DecodeString(enc)
		if !ok || t != tag || err != nil || !bytes.HasPrefix(raw, scope) || len(raw) < len(scope)+9 {
			return app.CasePage{}, fmt.Errorf("list cases: bad cursor: %w", app.ErrInvalid)
		}
		pos := raw[len(scope):]
		afterMs, afterID, hasAfter = int64(binary.BigEndian.Uint64(pos[:8])), string(pos[8:]), true
	}
	where := []string{"clinic_id = $1"}
	args := []any{string(q.ClinicID)}
	if q.AssigneeID != "" {
		args = append(args, string(q.AssigneeID))
		where = append(where, fmt.Sprintf("assignee_id = $%d", len(args)))
	}
	if q.Status != "" {
		args = append(args, string(q.Status))
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	if hasAfter {
		args = append(args, afterMs, afterID)
		where = append(where, fmt.Sprintf("(activity, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, limit+1)
	sql := fmt.Sprintf("SELECT id, activity, data FROM cases WHERE %s ORDER BY activity DESC, id DESC LIMIT $%d",
		strings.Join(where, " AND "), len(args))
	rows, err := s.read(ctx).Query(ctx, sql, args...)
	if err != nil {
		return app.CasePage{}, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var page app.CasePage
	var lastMs int64
	var lastID string
	for rows.Next() {
		var id string
		var ms int64
		var data []byte
		if err := rows.Scan(&id, &ms, &data); err != nil {
			return app.CasePage{}, err
		}
		if len(page.Cases) == limit {
			pos := binary.BigEndian.AppendUint64(append([]byte(nil), scope...), uint64(lastMs))
			page.Next = tag + ":" + base64.RawURLEncoding.EncodeToString(append(pos, lastID...))
			break
		}
		var c app.Case
		if err := s.seal.Open("cases", id, data, &c); errors.Is(err, storage.ErrCorruptValue) {
			continue // left out here, refused when opened
		} else if err != nil {
			return app.CasePage{}, err
		}
		page.Cases = append(page.Cases, c)
		lastMs, lastID = ms, id
	}
	return page, rows.Err()
}

// CasesOfResident implements app.CaseStore, oldest first.
func (s *Store) CasesOfResident(ctx context.Context, residentID app.ID) ([]app.Case, error) {
	rows, err := s.read(ctx).Query(ctx, "SELECT id, data FROM cases WHERE resident_id = $1 ORDER BY id", string(residentID))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.Case
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		var c app.Case
		if err := s.seal.Open("cases", id, data, &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AttachmentData implements app.CaseStore: the bytes case caseID holds
// under attachment id, never another case's.
func (s *Store) AttachmentData(ctx context.Context, caseID, id app.ID) ([]byte, error) {
	var data []byte
	err := s.read(ctx).QueryRow(ctx, "SELECT data FROM attachments WHERE case_id = $1 AND id = $2", string(caseID), string(id)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("attachment %s of case %s: %w", id, caseID, app.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return s.seal.OpenBytes("attachments", attKey(caseID, id), data)
}

// HasAttachmentData reports whether the bytes of id of case caseID are stored.
func (s *Store) HasAttachmentData(ctx context.Context, caseID, id app.ID) (bool, error) {
	var held bool
	err := s.read(ctx).QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM attachments WHERE case_id = $1 AND id = $2)", string(caseID), string(id)).Scan(&held)
	return held, err
}

// markOp records the op w replays as applied to case c, in the write's
// transaction. Its final result (PutOpResult) replaces the mark.
func (s *Store) markOp(ctx context.Context, tx *wtx, c *app.Case, w app.Write) error {
	if w.Applies == "" || !s.feedOn() {
		return nil
	}
	r := app.OpResult{ID: w.Applies, CaseID: c.ID, Outcome: app.OpApplied, Version: c.Version, At: s.clock.Now()}
	return s.putOpResult(ctx, tx, &r)
}

// ResidentCasesPage implements app.CaseStore: the resident index, newest
// case first, from before.
func (s *Store) ResidentCasesPage(ctx context.Context, residentID, before app.ID, limit int) ([]app.Case, app.ID, error) {
	limit = max(1, min(limit, 500))
	sql := "SELECT id, data FROM cases WHERE resident_id = $1 ORDER BY id DESC LIMIT $2"
	args := []any{string(residentID), limit + 1}
	if before != "" {
		sql = "SELECT id, data FROM cases WHERE resident_id = $1 AND id < $3 ORDER BY id DESC LIMIT $2"
		args = append(args, string(before))
	}
	rows, err := s.read(ctx).Query(ctx, sql, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []app.Case
	var next app.ID
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, "", err
		}
		if len(out) == limit {
			next = out[len(out)-1].ID
			break
		}
		var c app.Case
		if err := s.seal.Open("cases", id, data, &c); errors.Is(err, storage.ErrCorruptValue) {
			continue
		} else if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	return out, next, rows.Err()
}
