package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// pdfBytes is a file of n bytes that passes as a PDF, with a marker that
// the raw-file checks look for.
func pdfBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	copy(b, "%PDF-1.7 BILAGA-KLARTEXT")
	return b
}

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func chunkOf(data []byte, n int) []byte {
	off := n * app.AttachmentChunkSize
	return data[off:min(off+app.AttachmentChunkSize, len(data))]
}

// TestStagedChunksAssembleOnlyWhole: chunks arrive in any order and
// again; the file assembles only when every one is there; a chunk that
// is not chunk n of the file is refused and stores nothing.
func TestStagedChunksAssembleOnlyWhole(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	data := pdfBytes(t, 3*app.AttachmentChunkSize+1000) // 4 chunks, the last short
	id, size, sum := app.ID("01BILAGA"), int64(len(data)), sumOf(data)
	cs := app.ID("01CASE")

	for _, n := range []int{2, 0, 2} {
		if _, err := s.StageChunk(ctx, cs, id, n, chunkOf(data, n), size, sum); err != nil {
			t.Fatalf("stage %d: %v", n, err)
		}
	}
	if have, err := s.StagedChunks(ctx, cs, id); err != nil || !slices.Equal(have, []int{0, 2}) {
		t.Fatalf("staged = %v, %v; want [0 2]", have, err)
	}
	if _, err := s.StagedAttachment(ctx, cs, id, size); !errors.Is(err, app.ErrAttachmentIncomplete) {
		t.Fatalf("assemble with chunks missing = %v, want ErrAttachmentIncomplete", err)
	}

	for _, bad := range []struct {
		name string
		n    int
		data []byte
		size int64
	}{
		{"beyond the end", 4, chunkOf(data, 3), size},
		{"negative", -1, chunkOf(data, 0), size},
		{"short", 1, chunkOf(data, 1)[:100], size},
		{"too long for the last", 3, chunkOf(data, 2), size},
		{"file over the limit", 0, chunkOf(data, 0), app.MaxAttachmentSize + 1},
	} {
		if _, err := s.StageChunk(ctx, cs, id, bad.n, bad.data, bad.size, sum); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", bad.name, err)
		}
	}
	if have, _ := s.StagedChunks(ctx, cs, id); !slices.Equal(have, []int{0, 2}) {
		t.Fatalf("refused chunks changed the staging: %v", have)
	}

	for _, n := range []int{3, 1} {
		if _, err := s.StageChunk(ctx, cs, id, n, chunkOf(data, n), size, sum); err != nil {
			t.Fatalf("stage %d: %v", n, err)
		}
	}
	got, err := s.StagedAttachment(ctx, cs, id, size)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("assembled %d bytes (%v), want the file", len(got), err)
	}
	if err := s.DiscardStagedChunks(ctx, cs, id); err != nil {
		t.Fatal(err)
	}
	if have, _ := s.StagedChunks(ctx, cs, id); len(have) != 0 {
		t.Fatalf("after discard: %v", have)
	}
}

// TestStagedChunksWrongWholeDigestDropped: chunks that each arrive intact
// but do not make the file the message describes are all dropped when
// the last one comes (which one is wrong cannot be told).
func TestStagedChunksWrongWholeDigestDropped(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	data := pdfBytes(t, 2*app.AttachmentChunkSize)
	other := pdfBytes(t, len(data))
	id, size, sum := app.ID("01BILAGA"), int64(len(data)), sumOf(data)
	cs := app.ID("01CASE")
	if _, err := s.StageChunk(ctx, cs, id, 0, chunkOf(data, 0), size, sum); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StageChunk(ctx, cs, id, 1, chunkOf(other, 1), size, sum); !errors.Is(err, app.ErrAttachmentCorrupt) {
		t.Fatalf("last chunk of another file = %v, want ErrAttachmentCorrupt", err)
	}
	if have, _ := s.StagedChunks(ctx, cs, id); len(have) != 0 {
		t.Fatalf("staged after a whole-digest mismatch: %v, want none", have)
	}
	// Safe to retry: the right chunks make the file.
	for n := range 2 {
		if _, err := s.StageChunk(ctx, cs, id, n, chunkOf(data, n), size, sum); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.StagedAttachment(ctx, cs, id, size); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after retry: %v", err)
	}
}

// TestAttachmentChunkOfStoredBytes: the chunks of stored bytes, plain and
// sealed, put together are the file.
func TestAttachmentChunkOfStoredBytes(t *testing.T) {
	ctx := context.Background()
	for _, sealed := range []bool{false, true} {
		dir := t.TempDir()
		var s *Store
		if sealed {
			s = openSealed(t, dir)
			if err := s.Unlock(ctx, staffA, passA); err != nil {
				t.Fatal(err)
			}
		} else {
			s = openTestAt(t, dir, Options{})
		}
		ds := seedDemo(t, s)
		data := pdfBytes(t, app.AttachmentChunkSize+5)
		a, err := app.NewAttachment("remiss.pdf", data)
		if err != nil {
			t.Fatal(err)
		}
		a.ID = app.NewID(testNow)
		th := newThread(ds.Clinics[0].ID, ds.Residents[0].ID, "", app.StatusNew, testNow, "Här kommer remissen.")
		th.Messages[0].Attachments = []app.Attachment{a}
		th.Blobs = map[app.ID][]byte{a.ID: data}
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		if held, err := s.HasAttachmentData(ctx, th.Case.ID, a.ID); err != nil || !held {
			t.Fatalf("sealed %v: held %v, %v", sealed, held, err)
		}
		var got []byte
		for n := range app.AttachmentChunks(a.Size) {
			c, err := s.AttachmentChunk(ctx, th.Case.ID, a.ID, n)
			if err != nil {
				t.Fatalf("sealed %v: chunk %d: %v", sealed, n, err)
			}
			got = append(got, c...)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("sealed %v: chunks make %d bytes, not the file", sealed, len(got))
		}
		if _, err := s.AttachmentChunk(ctx, th.Case.ID, a.ID, 2); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("sealed %v: chunk beyond the end = %v, want ErrInvalid", sealed, err)
		}
		// A chunk arriving after the bytes are stored is not staged.
		if have, err := s.StageChunk(ctx, th.Case.ID, a.ID, 0, chunkOf(data, 0), a.Size, a.SHA256); err != nil || have != nil {
			t.Errorf("sealed %v: chunk after the bytes = %v %v, want nothing staged", sealed, have, err)
		}
		if have, _ := s.StagedChunks(ctx, th.Case.ID, a.ID); len(have) != 0 {
			t.Errorf("sealed %v: staged %v after the bytes", sealed, have)
		}
		if _, err := s.AttachmentChunk(ctx, th.Case.ID, "okand", 0); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("sealed %v: unknown attachment = %v, want ErrNotFound", sealed, err)
		}
	}
}

// TestFetchedChunksResumeAfterReopenAndLandWhole is a desktop's download:
// the wanted attachment's chunks survive a restart (a sealed database,
// locked until sign-in), and the bytes reach the attachments bucket only
// whole and verified, with the chunks and the entry gone in the same
// transaction. The file on disk never holds a chunk in the clear.
func TestFetchedChunksResumeAfterReopenAndLandWhole(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSealed(t, dir)
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	data := pdfBytes(t, 3*app.AttachmentChunkSize)
	ref := app.AttachmentRef{CaseID: "01CASE", Attachment: app.Attachment{ID: "01BILAGA", Name: "remiss.pdf", MIME: app.MIMEPDF, Size: int64(len(data)), SHA256: sumOf(data)}}
	held := app.AttachmentRef{CaseID: "01CASE", Attachment: app.Attachment{ID: "01HELD", Size: 1, SHA256: sumOf([]byte("x"))}}
	if err := s.WantAttachments(ctx, []app.AttachmentRef{ref, ref}); err != nil {
		t.Fatal(err)
	}
	if w, err := s.WantedAttachments(ctx, 0); err != nil || len(w) != 1 || w[0] != ref {
		t.Fatalf("wanted = %+v, %v", w, err)
	}
	if _, err := s.StageFetchedChunk(ctx, held.CaseID, held.ID, 0, []byte("x")); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("chunk of an attachment nobody wants = %v, want ErrNotFound", err)
	}
	if done, err := s.StageFetchedChunk(ctx, ref.CaseID, ref.ID, 1, chunkOf(data, 1)); err != nil || done {
		t.Fatalf("stage 1: %v %v", done, err)
	}
	checkClose(t, s)
	raw := dirBytes(t, dir)[FileName]
	if bytes.Contains(raw, []byte("BILAGA-KLARTEXT")) || bytes.Contains(raw, chunkOf(data, 1)[:64]) || bytes.Contains(raw, []byte("remiss.pdf")) {
		t.Error("the sealed file holds a staged chunk or the file name in the clear")
	}

	s = openSealed(t, dir)
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatal(err)
	}
	if have, err := s.StagedChunks(ctx, ref.CaseID, ref.ID); err != nil || !slices.Equal(have, []int{1}) {
		t.Fatalf("after reopen staged = %v, %v; want [1]", have, err)
	}
	if _, err := s.AttachmentData(ctx, ref.CaseID, ref.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("bytes before the last chunk: %v", err)
	}
	if done, err := s.StageFetchedChunk(ctx, ref.CaseID, ref.ID, 0, chunkOf(data, 0)); err != nil || done {
		t.Fatalf("stage 0: %v %v", done, err)
	}
	if done, err := s.StageFetchedChunk(ctx, ref.CaseID, ref.ID, 2, chunkOf(data, 2)); err != nil || !done {
		t.Fatalf("stage 2 (last): %v %v", done, err)
	}
	if got, err := s.AttachmentData(ctx, ref.CaseID, ref.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored bytes: %v", err)
	}
	if have, _ := s.StagedChunks(ctx, ref.CaseID, ref.ID); len(have) != 0 {
		t.Errorf("chunks left: %v", have)
	}
	if w, _ := s.WantedAttachments(ctx, 0); len(w) != 0 {
		t.Errorf("still wanted: %+v", w)
	}
	// Held now: wanting it again writes nothing.
	if err := s.WantAttachments(ctx, []app.AttachmentRef{ref}); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.WantedAttachments(ctx, 0); len(w) != 0 {
		t.Errorf("a held attachment is wanted: %+v", w)
	}
}

// TestFetchedChunksWrongWholeStartOver: downloaded chunks that do not make
// the described file are dropped; nothing reaches the attachments bucket
// and the attachment stays wanted.
func TestFetchedChunksWrongWholeStartOver(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	data := pdfBytes(t, app.AttachmentChunkSize+10)
	ref := app.AttachmentRef{CaseID: "01CASE", Attachment: app.Attachment{ID: "01BILAGA", Size: int64(len(data)), SHA256: sumOf(data)}}
	if err := s.WantAttachments(ctx, []app.AttachmentRef{ref}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StageFetchedChunk(ctx, ref.CaseID, ref.ID, 0, chunkOf(data, 0)); err != nil {
		t.Fatal(err)
	}
	wrong := append([]byte(nil), chunkOf(data, 1)...)
	wrong[0] ^= 1
	if done, err := s.StageFetchedChunk(ctx, ref.CaseID, ref.ID, 1, wrong); !errors.Is(err, app.ErrAttachmentCorrupt) || done {
		t.Fatalf("wrong last chunk = %v %v, want ErrAttachmentCorrupt", done, err)
	}
	if held, _ := s.HasAttachmentData(ctx, ref.CaseID, ref.ID); held {
		t.Fatal("wrong bytes stored")
	}
	if have, _ := s.StagedChunks(ctx, ref.CaseID, ref.ID); len(have) != 0 {
		t.Errorf("chunks left after a mismatch: %v", have)
	}
	if w, _ := s.WantedAttachments(ctx, 0); len(w) != 1 {
		t.Errorf("wanted after a mismatch: %+v, want still wanted", w)
	}
	if err := s.ForgetWantedAttachment(ctx, ref.CaseID, ref.ID); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.WantedAttachments(ctx, 0); len(w) != 0 {
		t.Errorf("wanted after forget: %+v", w)
	}
}

// TestEncryptKeepsStagedChunks: a plain desktop database with chunks
// staged is sealed at the first sign-in like every other bucket.
func TestEncryptKeepsStagedChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := openTestAt(t, dir, Options{})
	data := pdfBytes(t, 2*app.AttachmentChunkSize)
	ref := app.AttachmentRef{CaseID: "01CASE", Attachment: app.Attachment{ID: "01BILAGA", Size: int64(len(data)), SHA256: sumOf(data)}}
	if err := plain.WantAttachments(ctx, []app.AttachmentRef{ref}); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.StageFetchedChunk(ctx, ref.CaseID, ref.ID, 0, chunkOf(data, 0)); err != nil {
		t.Fatal(err)
	}
	checkClose(t, plain)
	s := openSealed(t, dir)
	if err := s.Unlock(ctx, staffA, passA); err != nil {
		t.Fatalf("seal a database with staged chunks: %v", err)
	}
	if done, err := s.StageFetchedChunk(ctx, ref.CaseID, ref.ID, 1, chunkOf(data, 1)); err != nil || !done {
		t.Fatalf("finish after sealing: %v %v", done, err)
	}
	if got, err := s.AttachmentData(ctx, ref.CaseID, ref.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("bytes after sealing: %v", err)
	}
}

// Chunks of an upload whose op never came are dropped after
// StagedChunksRetention (PruneStagedChunks, run at server start); a
// younger upload keeps its chunks, and an upload that completes leaves no
// mark behind.
func TestStagedChunksPrunedAfterRetention(t *testing.T) {
	ctx := context.Background()
	now := testNow
	clock := app.ClockFunc(func() time.Time { return now })
	s := openTestAt(t, t.TempDir(), Options{Clock: clock})
	data := pdfBytes(t, 2*app.AttachmentChunkSize+10)
	size, sum := int64(len(data)), sumOf(data)
	old, young := app.ID("01GAMMAL"), app.ID("01NY")
	cs := app.ID("01CASE")
	if _, err := s.StageChunk(ctx, cs, old, 0, chunkOf(data, 0), size, sum); err != nil {
		t.Fatal(err)
	}
	now = now.Add(8 * 24 * time.Hour)
	if _, err := s.StageChunk(ctx, cs, young, 1, chunkOf(data, 1), size, sum); err != nil {
		t.Fatal(err)
	}
	// A later chunk of the old upload does not make it young again.
	if _, err := s.StageChunk(ctx, cs, old, 1, chunkOf(data, 1), size, sum); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneStagedChunks(ctx, now.Add(-StagedChunksRetention))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want the old upload", n, err)
	}
	if have, _ := s.StagedChunks(ctx, cs, old); len(have) != 0 {
		t.Fatalf("old upload still has chunks %v", have)
	}
	if have, _ := s.StagedChunks(ctx, cs, young); !slices.Equal(have, []int{1}) {
		t.Fatalf("young upload has %v, want [1]", have)
	}
	// Dropping chunks drops the mark: nothing is left in the bucket.
	if err := s.DiscardStagedChunks(ctx, cs, young); err != nil {
		t.Fatal(err)
	}
	left := 0
	_ = s.view(func(tx *bolt.Tx) error { left = tx.Bucket(bAttachChunks).Stats().KeyN; return nil })
	if left != 0 {
		t.Fatalf("%d keys left in attachment_chunks", left)
	}
}
