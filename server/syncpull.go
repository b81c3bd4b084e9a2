package server

import (
	"net/http"
	"strconv"
	"strings"

	"mottagning/storage"
	msync "mottagning/sync"
)

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
	ch, next, more, err := changes(r.Context(), after, limit, clinicsOf(c))
	if err != nil {
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
