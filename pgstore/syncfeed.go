package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/storage"
)

// The server's side of sync on PostgreSQL, as storage/syncfeed.go has it
// on bbolt: a pull page is read in one repeatable-read snapshot, then
// its access-log entries are written (RecordPulled) before it may go out.

// RecordChangesSince reads one page of the feed after a position for the
// scope's staff member and device, records its cases in the access log
// as sent to the device, and only then returns it (prepare sees it
// first; its error fails the call and nothing is sent).
func (s *Store) RecordChangesSince(ctx context.Context, after uint64, limit int, scope *app.PullScope, raw bool,
	prepare func(page *app.SyncChanges, next uint64, more bool) error) (*app.SyncChanges, uint64, bool, error) {
	holder := scope.Holder()
	if holder == "" {
		return nil, after, false, fmt.Errorf("record pull: no device: %w", app.ErrInvalid)
	}
	out, next, more, err := s.ChangesSince(ctx, after, limit, scope, raw)
	if err == nil {
		_, err = s.RecordPulled(ctx, holder, scope.PullAccesses(s.clock.Now(), out.Threads))
	}
	if err == nil && prepare != nil {
		err = prepare(out, next, more)
	}
	if err != nil {
		return nil, after, false, err
	}
	return out, next, more, nil
}

// snapshot runs fn in a read-only repeatable-read transaction (one
// snapshot for all its queries), or in ctx's batch.
func (s *Store) snapshot(ctx context.Context, fn func(q querier) error) error {
	if b := s.batchOf(ctx); b != nil {
		return fn(b.tx)
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(tx) })
}

// ChangesSince reads one page of the feed after the cursor for the staff
// member of scope: at most limit records, scanning at most 20×limit
// entries. A page after a cursor also withdraws the changed cases the
// staff member may no longer see whose content was sent to the device.
func (s *Store) ChangesSince(ctx context.Context, after uint64, limit int, scope *app.PullScope, raw bool) (*app.SyncChanges, uint64, bool, error) {
	if limit <= 0 {
		limit = 500
	}
	out := &app.SyncChanges{}
	next, more := after, false
	err := s.snapshot(ctx, func(q querier) error {
		out, next, more = &app.SyncChanges{}, after, false
		p := pager{s: s, ctx: ctx, q: q, out: out, scope: scope, residents: map[app.ID]bool{}, raw: raw, withdraw: after > 0}
		rows, err := q.Query(ctx, "SELECT seq, kind, clinic_id, id FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2", int64(after), 20*limit+1)
		if err != nil {
			return err
		}
		type entry struct {
			seq              int64
			kind, clinic, id string
		}
		var es []entry
		for rows.Next() {
			var e entry
			if err := rows.Scan(&e.seq, &e.kind, &e.clinic, &e.id); err != nil {
				rows.Close()
				return err
			}
			es = append(es, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, e := range es {
			if p.n >= limit || i >= 20*limit {
				more = true
				return nil
			}
			next = uint64(e.seq)
			if err := p.add(e.kind, app.ID(e.clinic), app.ID(e.id), uint64(e.seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, after, false, fmt.Errorf("changes since %d: %w", after, err)
	}
	return out, next, more, nil
}

// pager collects the records of one page, each resident once.
type pager struct {
	s         *Store
	ctx       context.Context
	q         querier
	out       *app.SyncChanges
	scope     *app.PullScope
	residents map[app.ID]bool
	n         int
	raw       bool
	withdraw  bool
}

func (p *pager) add(kind string, clinic, id app.ID, seq uint64) error {
	ctx, s := p.ctx, p.s
	switch kind {
	case feedCase:
		return p.addCase(clinic, id, seq)
	case feedResident:
		return p.resident(id, false)
	case feedStaff:
		var st app.Staff
		if err := s.get(ctx, p.q, "staff", "id", string(id), &st); err != nil {
			return err
		}
		rec, ok := p.scope.StaffRecord(&st)
		if !ok {
			return nil
		}
		p.out.Staff = append(p.out.Staff, rec)
	case feedClinic:
		if !p.scope.Clinic(id) {
			return nil
		}
		var c app.Clinic
		if err := s.get(ctx, p.q, "clinics", "id", string(id), &c); err != nil {
			return err
		}
		p.out.Clinics = append(p.out.Clinics, c)
	case feedTemplate:
		if !p.scope.Template(clinic) {
			return nil
		}
		var t app.MessageTemplate
		if err := s.get(ctx, p.q, "templates", "id", string(id), &t); err != nil {
			return err
		}
		p.out.Templates = append(p.out.Templates, t)
	case feedEService:
		if !p.scope.EService(clinic) {
			return nil
		}
		var e app.EService
		if err := s.get(ctx, p.q, "eservices", "id", string(id), &e); err != nil {
			return err
		}
		p.out.EServices = append(p.out.EServices, e)
	case feedForm:
		// The series goes with its e-service: the clinic it has now.
		var c string
		if err := p.q.QueryRow(ctx, "SELECT clinic_id FROM eservices WHERE id = $1", string(id)).Scan(&c); err == nil && c != "" {
			clinic = app.ID(c)
		}
		if !p.scope.EService(clinic) {
			return nil
		}
		var fs form.Series
		if err := s.get(ctx, p.q, "form_series", "form_id", string(id), &fs); err != nil {
			if errors.Is(err, app.ErrNotFound) {
				return nil
			}
			return err
		}
		p.out.FormSeries = append(p.out.FormSeries, fs)
	default:
		return nil
	}
	p.n++
	return nil
}

// addCase adds a case the scope lets the staff member see, with its
// resident; of a case they may not see, an incremental page carries its
// withdrawal when its content was sent to this device before.
func (p *pager) addCase(clinic, id app.ID, seq uint64) error {
	if !p.scope.CaseClinic(clinic) {
		return nil
	}
	hdr, c, err := p.s.caseKeys(p.ctx, p.q, id)
	if err != nil {
		return err
	}
	if !p.scope.Case(&c) {
		if p.withdraw && p.scope.Withdraw(&c) {
			sent, err := p.wasSent(c.ID)
			if err != nil {
				return err
			}
			if sent {
				p.out.Withdrawn = append(p.out.Withdrawn, app.Withdrawn(&c))
				p.n++
			}
		}
		return nil
	}
	pt, err := p.s.pulledThread(p.ctx, p.q, hdr, &c, seq, p.raw)
	if err != nil {
		return err
	}
	p.out.Threads = append(p.out.Threads, *pt)
	p.n++
	return p.resident(pt.Case.ResidentID, true)
}

func (p *pager) wasSent(id app.ID) (bool, error) {
	var sent bool
	err := p.q.QueryRow(p.ctx, "SELECT EXISTS (SELECT 1 FROM pull_logged WHERE holder = $1 AND case_id = $2)", string(p.scope.Holder()), string(id)).Scan(&sent)
	return sent, err
}

// resident adds a resident (and a child's guardians) once per page:
// always when a case of the page needs it, otherwise only when the
// resident has a case the staff member may see.
func (p *pager) resident(id app.ID, needed bool) error {
	if p.residents[id] {
		return nil
	}
	if !needed {
		here, err := p.hasCaseHere(id)
		if err != nil || !here {
			return err
		}
	}
	var r app.Resident
	if err := p.s.get(p.ctx, p.q, "residents", "id", string(id), &r); err != nil {
		return err
	}
	p.residents[id] = true
	for _, g := range r.Guardians {
		if err := p.resident(g.GuardianID, true); err != nil && !errors.Is(err, app.ErrNotFound) {
			return err
		}
	}
	app.RedactForStaff(&r)
	p.out.Residents = append(p.out.Residents, r)
	p.n++
	return nil
}

func (p *pager) hasCaseHere(resident app.ID) (bool, error) {
	if !p.scope.CaseRoles() {
		return false, nil
	}
	rows, err := p.q.Query(p.ctx, "SELECT id, data FROM cases WHERE resident_id = $1 ORDER BY id", string(resident))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return false, err
		}
		hdr, err := p.s.seal.OpenJSON("cases", id, data)
		if err != nil {
			continue
		}
		var c app.Case
		if app.DecodeCaseKeys(hdr, &c) == nil && p.scope.Case(&c) {
			return true, nil
		}
	}
	return false, rows.Err()
}

// caseKeys reads case id's header as stored (its JSON) and its key
// fields, not the rest.
func (s *Store) caseKeys(ctx context.Context, q querier, id app.ID) ([]byte, app.Case, error) {
	var c app.Case
	var data []byte
	err := q.QueryRow(ctx, "SELECT data FROM cases WHERE id = $1", string(id)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, c, fmt.Errorf("case %s: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return nil, c, err
	}
	hdr, err := s.seal.OpenJSON("cases", string(id), data)
	if err != nil {
		return nil, c, err
	}
	if err := app.DecodeCaseKeys(hdr, &c); err != nil {
		return nil, c, fmt.Errorf("case %s: %w: %w", id, storage.ErrCorruptValue, err)
	}
	return hdr, c, nil
}

// pulledThread reads the thread of a header read by caseKeys, with its
// notifications (addresses left out); raw keeps the header and items as
// stored. seq is the case's feed position (0: look it up).
func (s *Store) pulledThread(ctx context.Context, q querier, hdr []byte, c *app.Case, seq uint64, raw bool) (*app.PulledThread, error) {
	id := c.ID
	if seq == 0 {
		var v int64
		if err := q.QueryRow(ctx, "SELECT seq FROM changes WHERE kind = $1 AND id = $2", feedCase, string(id)).Scan(&v); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		seq = uint64(v)
	}
	pt := &app.PulledThread{Seq: seq}
	if raw {
		pt.RawHeader, pt.Case = hdr, *c
		rows, err := q.Query(ctx, "SELECT kind, id, data FROM case_items WHERE case_id = $1 ORDER BY kind, id", string(id))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var kind, iid string
			var data []byte
			if err := rows.Scan(&kind, &iid, &data); err != nil {
				rows.Close()
				return nil, err
			}
			j, err := s.seal.OpenJSON("case_items", itemKey(id, kind, app.ID(iid)), data)
			if err != nil {
				rows.Close()
				return nil, err
			}
			pt.RawItems = append(pt.RawItems, app.RawItem{Key: []byte(kind + iid), JSON: j})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	} else {
		t, err := s.readThread(ctx, q, id, false)
		if err != nil {
			return nil, err
		}
		pt.Thread = *t
	}
	ns, err := s.notifications(ctx, q, "SELECT id, data FROM notifications WHERE case_id = $1 ORDER BY id", string(id))
	if err != nil {
		return nil, err
	}
	for i := range ns {
		ns[i].Address = app.Hidden
	}
	pt.Notifications = ns
	return pt, nil
}

// PushState reads the current state of the cases a push's ops concerned
// that the scope's staff member may see (Gone for those the server does
// not hold), and, after a cursor, whether the desktop may move its
// cursor past the feed entries that are only these cases (From, To), as
// storage's PushState.
func (s *Store) PushState(ctx context.Context, ids []app.ID, raw bool, after uint64, scope *app.PullScope) (*app.SyncChanges, error) {
	var out *app.SyncChanges
	err := s.snapshot(ctx, func(q querier) error {
		out = &app.SyncChanges{}
		want := make(map[string]bool, len(ids))
		for _, id := range ids {
			hdr, c, err := s.caseKeys(ctx, q, id)
			if errors.Is(err, app.ErrNotFound) {
				out.Gone = append(out.Gone, id)
				continue
			}
			if err != nil {
				return err
			}
			if !scope.Case(&c) {
				continue
			}
			pt, err := s.pulledThread(ctx, q, hdr, &c, 0, raw)
			if err != nil {
				return err
			}
			out.Threads = append(out.Threads, *pt)
			want[string(id)] = true
		}
		if after == 0 {
			return nil
		}
		rows, err := q.Query(ctx, "SELECT seq, kind, clinic_id, id FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2", int64(after), 4*len(ids)+17)
		if err != nil {
			return err
		}
		defer rows.Close()
		last, n := after, 0
		for rows.Next() {
			var seq int64
			var kind, clinic, id string
			if err := rows.Scan(&seq, &kind, &clinic, &id); err != nil {
				return err
			}
			if n++; n > 4*len(ids)+16 {
				return nil
			}
			if kind != feedCase || (scope.CaseClinic(app.ID(clinic)) && !want[id]) {
				return nil
			}
			last = uint64(seq)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if last > after {
			out.From, out.To = strconv.FormatUint(after, 10), strconv.FormatUint(last, 10)
		}
		return nil
	})
	return out, err
}

// Snapshot reads every case thread and resident (small databases:
// tests), as storage.Store.Snapshot.
func (s *Store) Snapshot(ctx context.Context) (*storage.SyncSnapshot, error) {
	out := &storage.SyncSnapshot{Threads: map[app.ID]app.Thread{}, Residents: map[app.ID]app.Resident{}}
	err := s.snapshot(ctx, func(q querier) error {
		rows, err := q.Query(ctx, "SELECT id FROM cases ORDER BY id")
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, id := range ids {
			t, err := s.readThread(ctx, q, app.ID(id), false)
			if err != nil {
				return err
			}
			out.Threads[t.Case.ID] = *t
		}
		rs, err := all[app.Resident](ctx, s, "residents", "id", "")
		for _, r := range rs {
			out.Residents[r.ID] = r
		}
		return err
	})
	return out, err
}

// PulledThreads reads the current state of cases for a push's answer;
// ids the server does not hold come back in Gone.
func (s *Store) PulledThreads(ctx context.Context, ids []app.ID) (*app.SyncChanges, error) {
	out := &app.SyncChanges{}
	err := s.snapshot(ctx, func(q querier) error {
		for _, id := range ids {
			hdr, c, err := s.caseKeys(ctx, q, id)
			if errors.Is(err, app.ErrNotFound) {
				out.Gone = append(out.Gone, id)
				continue
			}
			if err != nil {
				return err
			}
			pt, err := s.pulledThread(ctx, q, hdr, &c, 0, false)
			if err != nil {
				return err
			}
			out.Threads = append(out.Threads, *pt)
		}
		return nil
	})
	return out, err
}
