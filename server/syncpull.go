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
	// No log entry, no page (patientdatalagen 4 kap.): the page comes
	// back only once its cases are recorded as sent to this device.
	scope := app.NewPullScope(staffOf(c), c.DeviceID)
	page := func(ch *app.SyncChanges, next uint64, more bool) msync.PullResponse {
		return msync.PullResponse{After: q.Get("cursor"), Cursor: storage.FormatCursor(next), More: more,
			Head: storage.FormatCursor(max(head, next)), Changes: *ch}
	}
	if !binary {
		ch, next, more, err := s.gate.RecordChangesSince(r.Context(), after, limit, scope, false, nil)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page(ch, next, more))
		return
	}
	// The binary page is encoded while its record commits.
	var frames []byte
	_, _, _, err = s.gate.RecordChangesSince(r.Context(), after, limit, scope, true, func(ch *app.SyncChanges, next uint64, more bool) error {
		p := page(ch, next, more)
		var err error
		frames, err = p.MarshalBinary()
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", msync.PullMediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(frames)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(frames)
}

// recordSent records in the access log, in one transaction, the cases
// whose content threads carry to the scope's device (a push's answer; a
// pull page is recorded as it is read, RecordChangesSince): once per
// device, case and case version, so an answer sent again records nothing
// new. When it fails, the answer must not be sent.
func (s *Server) recordSent(ctx context.Context, scope *app.PullScope, threads []app.PulledThread) error {
	if len(threads) == 0 {
		return nil
	}
	_, err := s.gate.RecordPulled(ctx, scope.Holder(), scope.PullAccesses(s.clock.Now(), threads))
	return err
}

// RecordChangesSince is storage.Store.RecordChangesSince behind the gate:
// reading a pull page writes its access log.
func (g *Gate) RecordChangesSince(ctx context.Context, after uint64, limit int, scope *app.PullScope, raw bool,
	prepare func(page *app.SyncChanges, next uint64, more bool) error) (*app.SyncChanges, uint64, bool, error) {
	defer g.w(ctx)()
	return g.Store.RecordChangesSince(ctx, after, limit, scope, raw, prepare)
}

// RecordPulled implements the access-log write of a push's answer behind
// the gate (storage.Store.RecordPulled).
func (g *Gate) RecordPulled(ctx context.Context, holder app.ID, pulls []app.PullAccess) (int, error) {
	defer g.w(ctx)()
	return g.Store.RecordPulled(ctx, holder, pulls)
}
