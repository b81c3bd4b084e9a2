package server

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	stdsync "sync"
	"time"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/storage"
	msync "mottagning/sync"
	"mottagning/sync/wire"
)

// The sync API of connected desktops (docs/sync.md): push (ops applied
// exactly once through the app services, which re-check the rules and
// write the notifications), pull (the change feed of the caller's
// clinics), events (a long poll that wakes the desktop), the lookup of a
// resident never seen on the desktop, and the verifier a desktop caches
// for offline sign-in.

// VerifierSource is implemented by a StaffAuth that gives a signed-in
// staff member's offline-unlock verifier (server/staffauth).
type VerifierSource interface {
	Verifier(ctx context.Context, c *StaffClaims) (string, error)
}

func (s *Server) syncRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/sync/push", s.withStaff(s.syncPush))
	mux.HandleFunc("GET /api/sync/pull", s.withStaff(s.syncPull))
	mux.HandleFunc("GET /api/sync/events", s.withStaff(s.syncEvents))
	mux.HandleFunc("POST /api/sync/clinics/{clinic}/residents/lookup", s.withClinic(s.syncLookup))
	mux.HandleFunc("POST /api/sync/clinics/{clinic}/access-log", s.withClinic(s.syncAccessLog))
	mux.HandleFunc("GET /api/staff/me/verifier", s.withStaff(s.staffVerifier))
	s.attachmentRoutes(mux) // attachments in chunks (attachments.go)
}

func (s *Server) syncPush(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	var req msync.PushRequest
	if !decodeLimit(w, r, &req, msync.MaxPushBody) {
		return
	}
	if len(req.Ops) == 0 || len(req.Ops) > msync.MaxPushOps {
		s.fail(w, r, invalid("ops"))
		return
	}
	if req.DeviceID != "" && c.DeviceID != "" && app.ID(req.DeviceID) != c.DeviceID {
		writeErr(w, http.StatusForbidden, codeForbidden, "deviceId")
		return
	}
	ctx := r.Context()
	st := staffOf(c)
	// One push per device at a time: the op memory is read before an op
	// is applied, so two copies of the same push (a retry racing the
	// original, a replayed request) must not run side by side.
	key := string(c.DeviceID)
	if key == "" {
		key = "staff:" + string(c.StaffID)
	}
	m, _ := s.pushing.LoadOrStore(key, &stdsync.Mutex{})
	mu := m.(*stdsync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	// On a database several nodes share, the same push may reach another
	// node at once: the device's lock is the database's too.
	if l, ok := s.store.(KeyLocker); ok {
		unlock, err := l.LockKey(ctx, "push:"+key)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer unlock()
	}
	// All ops in one transaction, one fsync for the push. A refused op
	// or any error inside rolls the batch back (storage.ErrBatchFailed),
	// and the ops are applied again one transaction each, as the answer
	// for each op must say exactly what was written.
	var results []app.OpResult
	var cases []app.ID
	err := s.gate.Batch(ctx, func(ctx context.Context) error {
		results, cases = s.applyOps(ctx, c, st, req.Ops, true)
		if len(results) < len(req.Ops) {
			return storage.ErrBatchFailed
		}
		return nil
	})
	if err != nil {
		results, cases = s.applyOps(ctx, c, st, req.Ops, false)
	}
	if len(results) == 0 {
		writeErr(w, http.StatusInternalServerError, codeInternal, "")
		return
	}
	resp := msync.PushResponse{Results: results}
	binary := strings.Contains(r.Header.Get("Accept"), msync.PushMediaType)
	if len(cases) > 0 {
		// The cases' state, and whether the feed after the desktop's
		// cursor holds nothing else for it (then its cursor moves with
		// the answer and the pull that follows finds nothing to bring).
		after, err := storage.ParseCursor(req.Cursor)
		if err != nil || req.Cursor == "" {
			after = 0
		}
		// Only what the caller may see (app.PullScope): a case they may
		// not see is neither sent nor reported gone. What is sent is
		// recorded in the access log first, as a pull's page.
		scope := app.NewPullScope(st, c.DeviceID)
		state, err := s.gate.PushState(ctx, cases, binary, after, scope)
		if err == nil {
			err = s.recordSent(ctx, scope, state.Threads)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		resp.State = state
	}
	if binary {
		writeBinary(w, r, s, &resp, msync.PushMediaType)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// writeBinary answers with v's binary form (the binary pull and push
// answers, sync/pullwire.go).
func writeBinary(w http.ResponseWriter, r *http.Request, s *Server, v encoding.BinaryMarshaler, mediaType string) {
	page, err := v.MarshalBinary()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page)
}

// applyOps applies the ops of a push in order, each exactly once, and
// returns their results and the cases they concern. It stops at the first
// op that cannot be decided (the database failed): that op and the rest
// are pushed again. quiet: inside a batch, whose failure is retried
// without it (nothing to log yet).
func (s *Server) applyOps(ctx context.Context, c *StaffClaims, st *app.Staff, ops []app.SyncOp, quiet bool) ([]app.OpResult, []app.ID) {
	results := make([]app.OpResult, 0, len(ops))
	var cases []app.ID
	seen := map[app.ID]bool{}
	logErr := func(msg string, args ...any) {
		if !quiet {
			s.log.Error(msg, args...)
		}
	}
	for i := range ops {
		op := &ops[i]
		if op.ID == "" || len(op.ID) > 64 {
			// Not storable as an op id: refused, not remembered.
			results = append(results, app.Rejected(op, invalid("id"), s.clock.Now()))
			continue
		}
		res, err := s.gate.AppliedOp(ctx, op.ID)
		if err != nil && !errors.Is(err, app.ErrNotFound) {
			logErr("sync push: op memory", "op", op.ID, "err", err)
			break
		}
		if err != nil {
			r, err := s.cases.ApplyOp(ctx, st, c.DeviceID, op)
			if err != nil {
				// Undecided (the database failed): the desktop pushes it again.
				logErr("sync push: apply", "op", op.ID, "kind", op.Kind, "err", err)
				break
			}
			// The case write that applied the op marked it applied at its
			// version in its own transaction (app.Write.Applies); a result
			// that says no more needs no second write (one fsync less per op).
			if m, err := s.gate.AppliedOp(ctx, op.ID); err != nil || !sameAsMark(m, &r) {
				if err := s.gate.PutOpResult(ctx, &r); err != nil {
					logErr("sync push: store result", "op", op.ID, "err", err)
					break
				}
			}
			res = &r
		}
		results = append(results, *res)
		if op.CaseID != "" && op.Kind != app.OpAccessRecord && !seen[op.CaseID] {
			seen[op.CaseID] = true
			cases = append(cases, op.CaseID)
		}
	}
	return results, cases
}

// sameAsMark: the op's result is a plain "applied at this version", as
// the mark its case write stored.
func sameAsMark(m, r *app.OpResult) bool {
	return r.Outcome == app.OpApplied && m.Outcome == app.OpApplied && m.ID == r.ID && m.CaseID == r.CaseID && m.Version == r.Version &&
		r.Code == "" && r.Reason == "" && len(r.Blocks) == 0 && r.ServerStatus == "" && r.ServerAssignee == "" && len(r.Mine) == 0
}

func (s *Server) syncEvents(w http.ResponseWriter, r *http.Request) {
	after, err := storage.ParseCursor(r.URL.Query().Get("after"))
	if err != nil {
		s.fail(w, r, invalid("after"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), msync.EventsWait*time.Second)
	defer cancel()
	head, _ := s.store.WaitChange(ctx, after)
	writeJSON(w, http.StatusOK, msync.EventsResponse{Head: storage.FormatCursor(head), Changed: head > after})
}

// syncLookup is the lookup of Skicka ärende for a resident the desktop
// has never held: access-logged like the staff API's, and answered with
// the records (redacted for staff) the desktop stores.
func (s *Server) syncLookup(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req msync.LookupRequest
	if !decode(w, r, &req) {
		return
	}
	pnr, err := personnummer.ParseAt(req.Personnummer, s.clock.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.cases.LookupResident(r.Context(), sess, pnr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.gate.Resident(r.Context(), v.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := []app.ID{}
	for _, g := range res.Guardians {
		ids = append(ids, g.GuardianID)
	}
	gs, err := s.gate.ResidentsByID(r.Context(), ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := msync.LookupResponse{ResidentID: string(res.ID), Residents: []app.Resident{*res}}
	for _, id := range ids {
		if g := gs[id]; g != nil {
			out.Residents = append(out.Residents, *g)
		}
	}
	for i := range out.Residents {
		app.RedactForStaff(&out.Residents[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// staffVerifier gives the caller's offline-unlock verifier and staff record.
func (s *Server) staffVerifier(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	vs, ok := s.staff.(VerifierSource)
	if !ok {
		writeErr(w, http.StatusNotFound, codeNotFound, "")
		return
	}
	v, err := vs.Verifier(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.gate.Staff(r.Context(), c.StaffID)
	if err != nil {
		st = staffOf(c)
	}
	writeJSON(w, http.StatusOK, msync.VerifierResponse{Verifier: v, Staff: *st})
}

// decodeLimit is decode with a larger body limit (a push carries up to
// an attachment's bytes).
func decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	if r.ContentLength > limit {
		writeErr(w, http.StatusRequestEntityTooLarge, codeTooLarge, "")
		return false
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeErr(w, http.StatusRequestEntityTooLarge, codeTooLarge, "")
		} else {
			writeErr(w, http.StatusBadRequest, codeInvalidJSON, "")
		}
		return false
	}
	return true
}

// syncAccessLog is the clinic's access log for its granskare on a
// desktop (POST /api/sync/clinics/{clinic}/access-log, a
// wire.AccessLogRequest: the personnummer a review may filter on goes in
// the body, never in a URL that a proxy logs): the server's log, which
// holds every device's entries, not only the desktop's own. The same use
// case and role check as everywhere (app.AuditService.Entries: granskare
// only, a period of at most a year).
func (s *Server) syncAccessLog(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req wire.AccessLogRequest
	if !decode(w, r, &req) {
		return
	}
	q := app.AuditQuery{From: req.From, To: req.To, StaffID: app.ID(req.StaffID)}
	if req.PNR != "" {
		var err error
		if q.PNR, err = personnummer.ParseAt(req.PNR, s.clock.Now()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	rows, err := s.audit.Entries(r.Context(), sess, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.AccessLogResponse{Rows: wire.Map(rows, wire.FromAuditRow)})
}
