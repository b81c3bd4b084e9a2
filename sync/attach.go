package sync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mottagning/app"
)

// Attachments in chunks (docs/sync.md, Attachments). An attachment's bytes
// travel apart from its attachment.put op, in chunks of
// app.AttachmentChunkSize, each with its SHA-256 in ChunkDigestHeader; the
// digest on the message checks the whole file.
//
// Up: before pushing an attachment.put op the engine asks the server which
// chunks it has and uploads the others, then pushes the op without bytes.
// The chunks need the op's message on the server (its description gives
// the size and digest), so an attachment.put op always starts a push of
// its own, after the ops before it are answered. An upload cut off
// resumes at the chunks the server lacks.
//
// Down: a pulled page's messages name their attachments; those whose bytes
// the desktop lacks are listed in its store before the page is applied
// (so a crash forgets none), and after the pull the engine fetches them,
// chunk by chunk, each checked against its digest and staged, so a
// download cut off resumes where it stopped. The bytes reach the
// attachments bucket only whole and verified.

// ChunkDigestHeader carries the SHA-256 (hex) of a chunk in a PUT of it and
// in the answer to a GET of it.
const ChunkDigestHeader = "X-Chunk-SHA256"

// ChunkStatus is GET /api/sync/attachments/{id}/chunks?case= (and the
// answer to a PUT of a chunk): the attachment as its message describes it,
// and which chunks the server has. Stored: the server holds the whole
// attachment (its op was applied); Have then lists every chunk.
type ChunkStatus struct {
	ID        app.ID `json:"id"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	ChunkSize int    `json:"chunkSize"`
	Chunks    int    `json:"chunks"`
	Have      []int  `json:"have"`
	Stored    bool   `json:"stored"`
}

// AttachmentRemote is the server's chunk API (client.Client implements
// it). An engine whose Remote lacks it pushes attachment bytes inside
// their op, as desktops did before chunks, and fetches none.
type AttachmentRemote interface {
	AttachmentChunks(ctx context.Context, token string, caseID, attID app.ID) (*ChunkStatus, error)
	PutAttachmentChunk(ctx context.Context, token string, caseID, attID app.ID, n int, data []byte) (*ChunkStatus, error)
	// AttachmentChunk returns chunk n and the digest the server sent with it.
	AttachmentChunk(ctx context.Context, token string, caseID, attID app.ID, n int) (data []byte, sha256 string, err error)
}

// AttachmentReplica is the desktop store's side of fetching attachments
// (storage.Store implements it).
type AttachmentReplica interface {
	WantAttachments(ctx context.Context, refs []app.AttachmentRef) error
	WantedAttachments(ctx context.Context, limit int) ([]app.AttachmentRef, error)
	StagedChunks(ctx context.Context, caseID, id app.ID) ([]int, error)
	StageFetchedChunk(ctx context.Context, caseID, id app.ID, n int, data []byte) (done bool, err error)
	ForgetWantedAttachment(ctx context.Context, caseID, id app.ID) error
}

// FetchBudget bounds the time one sync spends fetching attachments, so
// that local changes do not wait long behind large downloads; the rest
// follow at the next sync.
var FetchBudget = 30 * time.Second

// fetchBatch is the most attachments one sync looks at.
const fetchBatch = 100

// attachmentPayload is an attachment.put op's payload as pushed by desktops
// before chunks: the description and the bytes (the server still takes
// it; an engine without AttachmentRemote sends it).
type attachmentPayload struct {
	app.Attachment
	Data []byte
}

func withData(op app.SyncOp, data []byte) (app.SyncOp, error) {
	var a app.Attachment
	if err := json.Unmarshal(op.Payload, &a); err != nil {
		return op, err
	}
	p, err := json.Marshal(attachmentPayload{Attachment: a, Data: data})
	if err != nil {
		return op, err
	}
	op.Payload = p
	return op, nil
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// attach readies an attachment.put op for its push: the chunks the server
// lacks go up first, and the op goes as queued (the description only).
func (e *Engine) attach(ctx context.Context, op app.SyncOp) (app.SyncOp, error) {
	var a app.Attachment
	if err := jsonUnmarshal(op.Payload, &a); err != nil {
		return op, fmt.Errorf("sync push: attachment op %s: %w", op.ID, err)
	}
	data, err := e.opt.Replica.AttachmentData(ctx, op.CaseID, a.ID)
	if err != nil {
		return op, fmt.Errorf("sync push: attachment %s: %w", a.ID, err)
	}
	ar, ok := e.opt.Remote.(AttachmentRemote)
	if !ok || int64(len(data)) != a.Size || digestOf(data) != a.SHA256 {
		// No chunk API, or bytes that are not the described file (a
		// damaged store): inline, the server checks them against the
		// message and refuses them with a reason staff see.
		return withData(op, data)
	}
	err = e.upload(ctx, ar, op.CaseID, a, data)
	switch s := statusOf(err); {
	case err == nil:
	case s == 403 || s == 404:
		// The server takes no bytes for it (its message was refused, or
		// the case is no longer this staff member's): the op goes up
		// without them and comes back rejected with the reason.
		e.opt.Log.Info("sync push: attachment not accepted; pushing its op for the reason", "attachment", a.ID, "status", s)
	default:
		return op, fmt.Errorf("sync push: upload attachment %s: %w", a.ID, err)
	}
	return op, nil
}

// upload sends the chunks of data the server lacks, in order.
func (e *Engine) upload(ctx context.Context, ar AttachmentRemote, caseID app.ID, a app.Attachment, data []byte) error {
	var st *ChunkStatus
	err := e.call(ctx, func(tok string) (err error) {
		st, err = ar.AttachmentChunks(ctx, tok, caseID, a.ID)
		return err
	})
	if err != nil || st.Stored {
		return err
	}
	have := make(map[int]bool, len(st.Have))
	for _, n := range st.Have {
		have[n] = true
	}
	for n := range app.AttachmentChunks(a.Size) {
		if have[n] {
			continue
		}
		off := n * app.AttachmentChunkSize
		chunk := data[off : off+app.AttachmentChunkLen(a.Size, n)]
		err := e.call(ctx, func(tok string) error {
			_, err := ar.PutAttachmentChunk(ctx, tok, caseID, a.ID, n, chunk)
			return err
		})
		if err != nil {
			return fmt.Errorf("chunk %d: %w", n, err)
		}
	}
	return nil
}

// attachmentsField is how a stored message's JSON names its attachments
// (omitted when it has none): a cheap test before decoding one.
var attachmentsField = []byte(`"Attachments":`)

// wantAttachments lists in the replica the attachments described on the
// messages of a pulled page whose bytes it lacks. It runs before the page
// is applied, so a crash in between forgets none (the page comes again).
func (e *Engine) wantAttachments(ctx context.Context, ts []app.PulledThread) error {
	rr, ok := e.opt.Replica.(AttachmentReplica)
	if _, remote := e.opt.Remote.(AttachmentRemote); !ok || !remote {
		return nil
	}
	var refs []app.AttachmentRef
	for i := range ts {
		t := &ts[i]
		for _, m := range t.Messages {
			for _, a := range m.Attachments {
				refs = append(refs, app.AttachmentRef{CaseID: t.Case.ID, Attachment: a})
			}
		}
		for _, it := range t.RawItems {
			if len(it.Key) == 0 || it.Key[0] != 'm' || !bytes.Contains(it.JSON, attachmentsField) {
				continue
			}
			var m struct{ Attachments []app.Attachment }
			if err := json.Unmarshal(it.JSON, &m); err != nil {
				return fmt.Errorf("sync pull: message of case %s: %w", t.Case.ID, ErrBadPage)
			}
			for _, a := range m.Attachments {
				refs = append(refs, app.AttachmentRef{CaseID: t.Case.ID, Attachment: a})
			}
		}
	}
	if len(refs) == 0 {
		return nil
	}
	if err := rr.WantAttachments(ctx, refs); err != nil {
		return fmt.Errorf("sync pull: list attachments to fetch: %w", err)
	}
	return nil
}

// fetchAttachments downloads the attachments the replica lacks (after a
// pull), for at most FetchBudget. A failure is no failure of the sync:
// what is staged stays, and the next sync goes on from there.
func (e *Engine) fetchAttachments(ctx context.Context) {
	rr, ok := e.opt.Replica.(AttachmentReplica)
	ar, remote := e.opt.Remote.(AttachmentRemote)
	if !ok || !remote {
		return
	}
	refs, err := rr.WantedAttachments(ctx, fetchBatch)
	if err != nil {
		e.opt.Log.Error("sync: attachments to fetch", "err", err)
		return
	}
	deadline := time.Now().Add(FetchBudget)
	fetched := 0
	defer func() {
		if fetched > 0 {
			e.set(func(*Status) {}) // the case view can open them now
		}
	}()
	for _, ref := range refs {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return
		}
		done, err := e.fetch(ctx, ar, rr, ref)
		if done {
			fetched++
		}
		switch s := statusOf(err); {
		case err == nil:
		case s == 403 || s == 404 || errors.Is(err, errOtherFile):
			// Refused for good (the case left this staff member's
			// clinics): forget it; a later pull of the case lists it again.
			e.opt.Log.Info("sync: attachment not fetched", "attachment", ref.ID, "case", ref.CaseID, "status", s)
			if err := rr.ForgetWantedAttachment(ctx, ref.CaseID, ref.ID); err != nil {
				e.opt.Log.Error("sync: forget attachment", "attachment", ref.ID, "err", err)
			}
		case s == 0 && !errors.Is(err, app.ErrAttachmentCorrupt) && !errors.Is(err, errBadChunk):
			// Not reached (or no token): the rest waits for the next sync.
			e.opt.Log.Info("sync: fetching attachments stopped", "attachment", ref.ID, "err", err)
			return
		default:
			e.opt.Log.Warn("sync: fetch attachment", "attachment", ref.ID, "err", err)
		}
	}
}

var (
	// errBadChunk: a chunk that does not match the digest sent with it
	// (or its length); nothing of it is kept.
	errBadChunk = errors.New("sync: chunk does not match its digest")
	// errOtherFile: the server describes the attachment otherwise than
	// the pulled message did.
	errOtherFile = errors.New("sync: the server's attachment is not the described file")
)

// fetch downloads the chunks of ref not staged yet and reports whether
// the attachment is now stored. An attachment the server does not hold
// whole yet (its upload is under way) waits for a later sync.
func (e *Engine) fetch(ctx context.Context, ar AttachmentRemote, rr AttachmentReplica, ref app.AttachmentRef) (bool, error) {
	var st *ChunkStatus
	err := e.call(ctx, func(tok string) (err error) {
		st, err = ar.AttachmentChunks(ctx, tok, ref.CaseID, ref.ID)
		return err
	})
	if err != nil {
		return false, err
	}
	if !st.Stored {
		return false, nil
	}
	if st.Size != ref.Size || st.SHA256 != ref.SHA256 {
		return false, errOtherFile
	}
	staged, err := rr.StagedChunks(ctx, ref.CaseID, ref.ID)
	if err != nil {
		return false, err
	}
	have := make(map[int]bool, len(staged))
	for _, n := range staged {
		have[n] = true
	}
	for n := range app.AttachmentChunks(ref.Size) {
		if have[n] {
			continue
		}
		var data []byte
		var sum string
		err := e.call(ctx, func(tok string) (err error) {
			data, sum, err = ar.AttachmentChunk(ctx, tok, ref.CaseID, ref.ID, n)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("chunk %d: %w", n, err)
		}
		if len(data) != app.AttachmentChunkLen(ref.Size, n) || digestOf(data) != sum {
			return false, fmt.Errorf("attachment %s chunk %d: %w", ref.ID, n, errBadChunk)
		}
		done, err := rr.StageFetchedChunk(ctx, ref.CaseID, ref.ID, n, data)
		if err != nil || done {
			return done, err
		}
	}
	return false, nil
}
