package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"mottagning/app"
	"mottagning/storage"
	msync "mottagning/sync"
)

// The pull door (docs/sync.md, Pull): a page carries to the caller's
// device what app.PullScope lets the caller see, and every case whose
// content it carries is recorded in the access log before it is sent.

func (s *Server) syncPull(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	q := r.URL.Query()
	after, err := storage.ParseCursor(q.Get("cursor"))
	if err != nil {
		s.fail(w, r, invalid("cursor"))
		return
	}
	limit := msync.DefaultPullLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > msync.MaxPullLimit {
			s.fail(w, r, invalid("limit"))
			return
		}
		limit = n
	}
	head := s.store.ChangeHead()
	if after > head {
		// A cursor the server never gave (it was restored from an older
		// backup): start over; pages are whole records, so nothing breaks.
		after = 0
	}
	binary := strings.Contains(r.Header.Get("Accept"), msync.PullMediaType)
	changes := s.store.ChangesSince
	if binary {
		changes = s.store.ChangesSinceRaw
	}
	scope := app.NewPullScope(staffOf(c), c.DeviceID)
	ch, next, more, err := changes(r.Context(), after, limit, scope)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// No log entry, no page (patientdatalagen 4 kap.).
	if err := s.recordSent(r.Context(), scope, ch.Threads); err != nil {
		s.fail(w, r, err)
		return
	}
	resp := msync.PullResponse{After: q.Get("cursor"), Cursor: storage.FormatCursor(next), More: more,
		Head: storage.FormatCursor(max(head, next)), Changes: *ch}
	if !binary {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	writeBinary(w, r, s, &resp, msync.PullMediaType)
}

// recordSent records in the access log, in one transaction, the cases
// whose content threads carry to the scope's device (a pull page or a
// push's answer): once per device, case and case version, so a page sent
// again records nothing new. When it fails, the answer must not be sent.
func (s *Server) recordSent(ctx context.Context, scope *app.PullScope, threads []app.PulledThread) error {
	if len(threads) == 0 {
		return nil
	}
	_, err := s.gate.RecordPulled(ctx, scope.Holder(), scope.PullAccesses(s.clock.Now(), threads))
	return err
}

// RecordPulled implements the access-log write of a pull behind the gate
// (storage.Store.RecordPulled).
func (g *Gate) RecordPulled(ctx context.Context, holder app.ID, pulls []app.PullAccess) (int, error) {
	defer g.w(ctx)()
	return g.Store.RecordPulled(ctx, holder, pulls)
}
