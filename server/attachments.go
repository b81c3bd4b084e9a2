package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"mottagning/app"
	msync "mottagning/sync"
)

// The chunk API of attachments in sync (docs/sync.md, Attachments). A
// desktop uploads an attachment's bytes in chunks of
// app.AttachmentChunkSize before it pushes the attachment.put op, which
// then carries no bytes; other desktops download them the same way. The
// size and digest of the whole file are those on the case's message,
// which the server must hold already (ops are pushed in queue order, the
// message first), so every call names the case (?case=). Each chunk
// travels with its SHA-256 in msync.ChunkDigestHeader.
//
//	GET /api/sync/attachments/{id}/chunks?case=C      which chunks the server has
//	PUT /api/sync/attachments/{id}/chunks/{n}?case=C  upload chunk n (staged in bbolt)
//	GET /api/sync/attachments/{id}/chunks/{n}?case=C  download chunk n of stored bytes
//
// Uploading needs the right to handle the case (as the op that follows
// does); downloading, and asking which chunks are there, a role in the
// case's clinic (as pulling the case does). A refused chunk stores nothing and may be sent again.

func (s *Server) attachmentRoutes(mux *http.ServeMux) {
	const p = "/api/sync/attachments/{id}/chunks"
	mux.HandleFunc("GET "+p, s.withStaff(s.attachmentChunks))
	mux.HandleFunc("PUT "+p+"/{n}", s.withStaff(s.putAttachmentChunk))
	mux.HandleFunc("GET "+p+"/{n}", s.withStaff(s.getAttachmentChunk))
}

// Refusals of the chunk API: code "invalid" with the field and a reason.
var (
	errChunkRange   = &app.FieldError{Field: "chunk", Code: "chunk_range", Text: "Delen finns inte i bilagan."}
	errChunkLength  = &app.FieldError{Field: "chunk", Code: "chunk_length", Text: "Delen har fel längd."}
	errChunkDigest  = &app.FieldError{Field: "sha256", Code: "chunk_digest", Text: "Delens kontrollsumma stämmer inte. Skicka delen igen."}
	errWholeDigest  = &app.FieldError{Field: "sha256", Code: "digest_mismatch", Text: "Delarna blir inte filen som meddelandet beskriver. Skicka bilagan igen."}
	errNoDigest     = &app.FieldError{Field: "sha256", Code: "chunk_digest_missing", Text: "Delens kontrollsumma saknas."}
	errBadDescribed = &app.FieldError{Field: "attachment", Code: "attachment_description", Text: "Bilagans beskrivning i meddelandet är inte giltig."}
)

// syncAttachment is the attachment of the request as its case's message
// describes it, checked against the caller's rights and against the size
// and digest the request may carry (?size=, ?sha256=). On failure it has
// answered.
func (s *Server) syncAttachment(w http.ResponseWriter, r *http.Request, upload bool) (app.ID, app.Attachment, bool) {
	q := r.URL.Query()
	caseID, id := q.Get("case"), r.PathValue("id")
	if caseID == "" || len(caseID) > 64 {
		s.fail(w, r, invalid("case"))
		return "", app.Attachment{}, false
	}
	if id == "" || len(id) > 64 {
		s.fail(w, r, fmt.Errorf("attachment: %w", app.ErrNotFound))
		return "", app.Attachment{}, false
	}
	a, err := s.cases.SyncAttachment(r.Context(), staffOf(claimsOf(r)), app.ID(caseID), app.ID(id), upload)
	if err != nil {
		s.fail(w, r, err)
		return "", app.Attachment{}, false
	}
	if a.Size <= 0 || a.Size > app.MaxAttachmentSize || !isDigest(a.SHA256) {
		s.fail(w, r, errBadDescribed)
		return "", app.Attachment{}, false
	}
	if v := q.Get("size"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n != a.Size {
			s.fail(w, r, invalid("size"))
			return "", app.Attachment{}, false
		}
	}
	if v := q.Get("sha256"); v != "" && !strings.EqualFold(v, a.SHA256) {
		s.fail(w, r, invalid("sha256"))
		return "", app.Attachment{}, false
	}
	return app.ID(caseID), a, true
}

func isDigest(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// chunkIndex is the chunk number of the path, refused beyond the file's end.
func (s *Server) chunkIndex(w http.ResponseWriter, r *http.Request, a app.Attachment) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= app.AttachmentChunks(a.Size) {
		s.fail(w, r, errChunkRange)
		return 0, false
	}
	return n, true
}

// chunkStatus says which chunks of a the server has: all when it holds
// the bytes (the op was applied), otherwise the staged ones.
func (s *Server) chunkStatus(ctx context.Context, caseID app.ID, a app.Attachment, staged []int) (*msync.ChunkStatus, error) {
	st := &msync.ChunkStatus{ID: a.ID, Size: a.Size, SHA256: a.SHA256, ChunkSize: app.AttachmentChunkSize,
		Chunks: app.AttachmentChunks(a.Size), Have: []int{}}
	held, err := s.gate.HasAttachmentData(ctx, caseID, a.ID)
	if err != nil {
		return nil, err
	}
	if held {
		st.Stored = true
		for n := range st.Chunks {
			st.Have = append(st.Have, n)
		}
		return st, nil
	}
	if staged == nil {
		if staged, err = s.gate.StagedChunks(ctx, caseID, a.ID); err != nil {
			return nil, err
		}
	}
	st.Have = append(st.Have, staged...)
	return st, nil
}

func (s *Server) attachmentChunks(w http.ResponseWriter, r *http.Request) {
	// Asked before an upload and before a download: a role in the
	// clinic is enough to know which chunks are there.
	caseID, a, ok := s.syncAttachment(w, r, false)
	if !ok {
		return
	}
	st, err := s.chunkStatus(r.Context(), caseID, a, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) putAttachmentChunk(w http.ResponseWriter, r *http.Request) {
	caseID, a, ok := s.syncAttachment(w, r, true)
	if !ok {
		return
	}
	n, ok := s.chunkIndex(w, r, a)
	if !ok {
		return
	}
	if r.ContentLength > app.AttachmentChunkSize {
		writeErr(w, http.StatusRequestEntityTooLarge, codeTooLarge, "chunk")
		return
	}
	sum := strings.ToLower(r.Header.Get(msync.ChunkDigestHeader))
	if !isDigest(sum) {
		s.fail(w, r, errNoDigest)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, app.AttachmentChunkSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeErr(w, http.StatusRequestEntityTooLarge, codeTooLarge, "chunk")
		} else {
			// Cut off on the way: nothing is kept; the desktop sends it again.
			s.fail(w, r, errChunkLength)
		}
		return
	}
	if len(data) != app.AttachmentChunkLen(a.Size, n) {
		s.fail(w, r, errChunkLength)
		return
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		s.fail(w, r, errChunkDigest)
		return
	}
	// Once the op was applied (the bytes are stored) nothing is staged.
	ctx := r.Context()
	staged, err := s.gate.StageChunk(ctx, caseID, a.ID, n, data, a.Size, a.SHA256)
	switch {
	case errors.Is(err, app.ErrAttachmentCorrupt):
		// Every chunk came intact, yet together they are not the file:
		// all of them were dropped, the upload starts over.
		s.fail(w, r, errWholeDigest)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	st, err := s.chunkStatus(ctx, caseID, a, staged)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) getAttachmentChunk(w http.ResponseWriter, r *http.Request) {
	caseID, a, ok := s.syncAttachment(w, r, false)
	if !ok {
		return
	}
	n, ok := s.chunkIndex(w, r, a)
	if !ok {
		return
	}
	if n == 0 {
		// Downloading a case's file is taking its content to this
		// device, as a pull is: recorded the same way (once per device,
		// case and version; mostly the pull that named the file did).
		c := claimsOf(r)
		cs, err := s.gate.Case(r.Context(), caseID)
		if err == nil {
			err = s.recordSent(r.Context(), app.NewPullScope(staffOf(c), c.DeviceID), []app.PulledThread{{Thread: app.Thread{Case: *cs}}})
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	// Not found while the server does not hold the whole file (its
	// upload is under way): GET .../chunks says so with stored false.
	data, err := s.gate.AttachmentChunk(r.Context(), caseID, a.ID, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sum := sha256.Sum256(data)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set(msync.ChunkDigestHeader, hex.EncodeToString(sum[:]))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// The writes of chunks go through the gate like every other write (an
// online backup must see none in flight).

// StageChunk is gated (an upload's chunk).
func (g *Gate) StageChunk(ctx context.Context, caseID, id app.ID, n int, data []byte, size int64, sum string) ([]int, error) {
	defer g.w(ctx)()
	return g.Store.StageChunk(ctx, caseID, id, n, data, size, sum)
}

// DiscardStagedChunks is gated (applying an attachment.put op).
func (g *Gate) DiscardStagedChunks(ctx context.Context, caseID, id app.ID) error {
	defer g.w(ctx)()
	return g.Store.DiscardStagedChunks(ctx, caseID, id)
}
