package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	msync "mottagning/sync"
)

// chunkEnv is a server with one staff message on an open case of
// Vårdcentralen Centrum describing an attachment whose bytes are not on
// the server yet (the message op pushed, its attachment.put op not).
type chunkEnv struct {
	*env
	tb   testing.TB
	tok  string // ärendemottagare of Centrum
	cs   app.ID
	a    app.Attachment
	data []byte
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func chunk(data []byte, n int) []byte {
	off := n * app.AttachmentChunkSize
	return data[off:min(off+app.AttachmentChunkSize, len(data))]
}

func newChunkEnv(t testing.TB, size int) *chunkEnv {
	e := newEnv(t)
	ce := &chunkEnv{env: e, tb: t, tok: e.staff(demo.StaffReceiver)}
	for _, th := range e.ds.Threads {
		if th.Case.ClinicID == e.ds.Clinics[0].ID && th.Case.Status != app.StatusClosed {
			ce.cs = th.Case.ID
			break
		}
	}
	ce.data = make([]byte, size)
	if _, err := rand.Read(ce.data); err != nil {
		t.Fatal(err)
	}
	copy(ce.data, "%PDF-1.7\n")
	a, err := app.NewAttachment("remiss.pdf", ce.data)
	if err != nil {
		t.Fatal(err)
	}
	a.ID = app.NewID(e.clock.Now())
	ce.a = a
	ce.describe(a)
	return ce
}

// describe pushes a staff message on the case with attachment a.
func (ce *chunkEnv) describe(a app.Attachment) {
	ce.tb.Helper()
	st := ce.ds.StaffBy[demo.StaffReceiver]
	m := app.Message{ID: app.NewID(ce.clock.Now()), CaseID: ce.cs, Author: app.AuthorStaff, AuthorID: st, At: ce.clock.Now(),
		Text: "Här kommer remissen.", Attachments: []app.Attachment{a}}
	p, _ := json.Marshal(m)
	res := ce.push(app.SyncOp{ID: app.NewOpID(), Kind: app.OpCaseMessage, CaseID: ce.cs, Payload: p})
	if len(res) != 1 || res[0].Outcome != app.OpApplied {
		ce.tb.Fatalf("message op = %+v", res)
	}
}

func (ce *chunkEnv) push(ops ...app.SyncOp) []app.OpResult {
	ce.tb.Helper()
	resp, err := ce.c.SyncPush(ce.ctx, ce.tok, &msync.PushRequest{Ops: ops})
	if err != nil {
		ce.tb.Fatalf("push: %v", err)
	}
	return resp.Results
}

// attachOp is the attachment.put op as a desktop queues it (no bytes).
func (ce *chunkEnv) attachOp(a app.Attachment) app.SyncOp {
	p, _ := json.Marshal(a)
	return app.SyncOp{ID: app.NewOpID(), Kind: app.OpAttachmentPut, CaseID: ce.cs, Payload: p}
}

func (ce *chunkEnv) path(id app.ID, n string) string {
	p := "/api/sync/attachments/" + string(id) + "/chunks"
	if n != "" {
		p += "/" + n
	}
	return p + "?case=" + string(ce.cs)
}

// raw sends a request over the pinned client and returns the status and
// the error body (when there is one).
func (ce *chunkEnv) raw(method, path, tok string, body []byte, hdr map[string]string) (int, *client.Error, []byte, http.Header) {
	ce.tb.Helper()
	req, err := http.NewRequestWithContext(ce.ctx, method, ce.url+path, bytes.NewReader(body))
	if err != nil {
		ce.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := ce.c.HTTP().Do(req)
	if err != nil {
		ce.tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 300 {
		return resp.StatusCode, nil, out, resp.Header
	}
	var e client.Error
	if err := json.Unmarshal(out, &e); err != nil || e.Code == "" || e.Message == "" {
		ce.tb.Fatalf("%s %s: %d with a body that is not the error shape: %q", method, path, resp.StatusCode, out)
	}
	return resp.StatusCode, &e, out, resp.Header
}

func (ce *chunkEnv) staged() []int {
	ce.tb.Helper()
	have, err := ce.store.StagedChunks(ce.ctx, ce.cs, ce.a.ID)
	if err != nil {
		ce.tb.Fatal(err)
	}
	return have
}

// TestSyncAttachmentChunksBadInput is the chunk API's table of refusals:
// each a clear 4xx in the error shape, nothing staged, and the upload
// afterwards still succeeds.
func TestSyncAttachmentChunksBadInput(t *testing.T) {
	ce := newChunkEnv(t, 2*app.AttachmentChunkSize+300) // 3 chunks, the last short
	other := ce.staff(demo.StaffChildClinic)            // no role at Centrum
	auditor := ce.staff(demo.StaffAuditor)              // a role at Centrum, handles no case
	c0 := chunk(ce.data, 0)
	okHdr := map[string]string{msync.ChunkDigestHeader: sha(c0)}
	// Chunk 0 staged first: refusals must leave it as it is.
	if st, _, _, _ := ce.raw(http.MethodPut, ce.path(ce.a.ID, "0"), ce.tok, c0, okHdr); st != http.StatusOK {
		t.Fatalf("good chunk 0: %d", st)
	}
	big := make([]byte, app.AttachmentChunkSize+1)
	for _, tc := range []struct {
		name         string
		method, path string
		tok          string
		body         []byte
		hdr          map[string]string
		status       int
		code, field  string
	}{
		{"chunk over 256 KiB", "PUT", ce.path(ce.a.ID, "1"), ce.tok, big, map[string]string{msync.ChunkDigestHeader: sha(big)}, 413, "too_large", "chunk"},
		{"wrong chunk checksum", "PUT", ce.path(ce.a.ID, "1"), ce.tok, chunk(ce.data, 1), okHdr, 400, "invalid", "sha256"},
		{"no chunk checksum", "PUT", ce.path(ce.a.ID, "1"), ce.tok, chunk(ce.data, 1), nil, 400, "invalid", "sha256"},
		{"chunk index beyond the size", "PUT", ce.path(ce.a.ID, "3"), ce.tok, chunk(ce.data, 2), map[string]string{msync.ChunkDigestHeader: sha(chunk(ce.data, 2))}, 400, "invalid", "chunk"},
		{"negative chunk index", "PUT", ce.path(ce.a.ID, "-1"), ce.tok, c0, okHdr, 400, "invalid", "chunk"},
		{"chunk index not a number", "GET", ce.path(ce.a.ID, "x"), ce.tok, nil, nil, 400, "invalid", "chunk"},
		{"short chunk", "PUT", ce.path(ce.a.ID, "1"), ce.tok, c0[:1000], map[string]string{msync.ChunkDigestHeader: sha(c0[:1000])}, 400, "invalid", "chunk"},
		{"unknown attachment", "PUT", ce.path("01OKAND", "0"), ce.tok, c0, okHdr, 404, "not_found", ""},
		{"unknown attachment status", "GET", ce.path("01OKAND", ""), ce.tok, nil, nil, 404, "not_found", ""},
		{"no case", "GET", "/api/sync/attachments/" + string(ce.a.ID) + "/chunks", ce.tok, nil, nil, 400, "invalid", "case"},
		{"size other than described", "GET", ce.path(ce.a.ID, "") + "&size=5", ce.tok, nil, nil, 400, "invalid", "size"},
		{"digest other than described", "GET", ce.path(ce.a.ID, "") + "&sha256=" + sha(nil), ce.tok, nil, nil, 400, "invalid", "sha256"},
		{"another clinic uploads", "PUT", ce.path(ce.a.ID, "1"), other, chunk(ce.data, 1), map[string]string{msync.ChunkDigestHeader: sha(chunk(ce.data, 1))}, 403, "forbidden", ""},
		{"another clinic asks", "GET", ce.path(ce.a.ID, ""), other, nil, nil, 403, "forbidden", ""},
		{"another clinic downloads", "GET", ce.path(ce.a.ID, "0"), other, nil, nil, 403, "forbidden", ""},
		{"a role that handles no case uploads", "PUT", ce.path(ce.a.ID, "1"), auditor, chunk(ce.data, 1), map[string]string{msync.ChunkDigestHeader: sha(chunk(ce.data, 1))}, 403, "forbidden", ""},
		{"no token", "PUT", ce.path(ce.a.ID, "1"), "", chunk(ce.data, 1), nil, 401, "unauthenticated", ""},
		{"download before the bytes are whole", "GET", ce.path(ce.a.ID, "0"), ce.tok, nil, nil, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, e, _, _ := ce.raw(tc.method, tc.path, tc.tok, tc.body, tc.hdr)
			if st != tc.status || e == nil || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("%d %+v, want %d %s field %q", st, e, tc.status, tc.code, tc.field)
			}
			if _, known := ErrorCodes[e.Code]; !known {
				t.Errorf("code %q is not in ErrorCodes", e.Code)
			}
			if have := ce.staged(); !slices.Equal(have, []int{0}) {
				t.Errorf("staged after the refusal: %v, want [0]", have)
			}
		})
	}
	// The auditor does not see the case's content, so not which chunks
	// there are either (TestSyncAttachmentDownloadNeedsTheCase).
	if st, e, _, _ := ce.raw(http.MethodGet, ce.path(ce.a.ID, ""), auditor, nil, nil); st != http.StatusForbidden {
		t.Errorf("auditor asks for the chunks: %d %+v", st, e)
	}
	// Safe to retry: the rest of the upload goes through.
	for n := 1; n < 3; n++ {
		c := chunk(ce.data, n)
		if _, err := ce.c.PutAttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, n, c); err != nil {
			t.Fatalf("chunk %d: %v", n, err)
		}
	}
	if have := ce.staged(); !slices.Equal(have, []int{0, 1, 2}) {
		t.Fatalf("staged = %v", have)
	}
}

// TestSyncAttachmentWholeDigestMismatch: chunks that each match their
// checksum but do not make the described file are refused when the last
// one arrives, and every staged chunk is dropped.
func TestSyncAttachmentWholeDigestMismatch(t *testing.T) {
	ce := newChunkEnv(t, 2*app.AttachmentChunkSize)
	if _, err := ce.c.PutAttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, 0, chunk(ce.data, 0)); err != nil {
		t.Fatal(err)
	}
	wrong := append([]byte(nil), chunk(ce.data, 1)...)
	wrong[10] ^= 0xff
	_, err := ce.c.PutAttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, 1, wrong)
	e := wantCode(t, err, "invalid")
	if e.Status != http.StatusBadRequest || e.Field != "sha256" || len(e.Reasons) != 1 || e.Reasons[0].Code != "digest_mismatch" {
		t.Fatalf("whole-digest mismatch = %+v", e)
	}
	if have := ce.staged(); len(have) != 0 {
		t.Fatalf("staged after the mismatch: %v, want none", have)
	}
	if held, _ := ce.store.HasAttachmentData(ce.ctx, ce.cs, ce.a.ID); held {
		t.Fatal("bytes stored after a mismatch")
	}
}

// TestSyncAttachmentOpAppliesOnceAfterChunks: an attachment.put op
// before its chunks is not applied and not remembered (the desktop pushes
// it again); after the chunks it is applied once, the bytes stored with
// the case and the chunks dropped; a repeated push changes nothing; the
// bytes then download chunk by chunk with their checksums; the old inline
// form is still taken.
func TestSyncAttachmentOpAppliesOnceAfterChunks(t *testing.T) {
	ce := newChunkEnv(t, 3*app.AttachmentChunkSize+1) // 4 chunks, the last one byte
	op := ce.attachOp(ce.a)

	_, err := ce.c.SyncPush(ce.ctx, ce.tok, &msync.PushRequest{Ops: []app.SyncOp{op}})
	if e := wantCode(t, err, "internal"); e.Status != http.StatusInternalServerError {
		t.Fatalf("op before its chunks = %+v", e)
	}
	if _, err := ce.store.AppliedOp(ce.ctx, op.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("op before its chunks remembered: %v", err)
	}

	st, err := ce.c.AttachmentChunks(ce.ctx, ce.tok, ce.cs, ce.a.ID)
	if err != nil || st.Stored || len(st.Have) != 0 || st.Chunks != 4 || st.Size != ce.a.Size || st.SHA256 != ce.a.SHA256 || st.ChunkSize != app.AttachmentChunkSize {
		t.Fatalf("status before upload = %+v, %v", st, err)
	}
	for _, n := range []int{3, 1, 0, 1, 2} {
		if st, err = ce.c.PutAttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, n, chunk(ce.data, n)); err != nil {
			t.Fatalf("chunk %d: %v", n, err)
		}
	}
	if st.Stored || !slices.Equal(st.Have, []int{0, 1, 2, 3}) {
		t.Fatalf("status after upload = %+v", st)
	}
	before, _ := ce.store.Case(ce.ctx, ce.cs)

	res := ce.push(op)
	if len(res) != 1 || res[0].Outcome != app.OpApplied || res[0].ID != op.ID {
		t.Fatalf("op after its chunks = %+v", res)
	}
	got, err := ce.store.AttachmentData(ce.ctx, ce.cs, ce.a.ID)
	if err != nil || !bytes.Equal(got, ce.data) {
		t.Fatalf("stored bytes: %v", err)
	}
	if have := ce.staged(); len(have) != 0 {
		t.Errorf("chunks left after the op: %v", have)
	}
	after, _ := ce.store.Case(ce.ctx, ce.cs)
	if after.Version != before.Version+1 {
		t.Errorf("case version %d → %d, want one write", before.Version, after.Version)
	}

	// Exactly once: the repeat is answered from memory.
	if again := ce.push(op); len(again) != 1 || again[0].Outcome != app.OpApplied {
		t.Fatalf("repeat = %+v", again)
	}
	if c, _ := ce.store.Case(ce.ctx, ce.cs); c.Version != after.Version {
		t.Errorf("repeat wrote the case again: version %d → %d", after.Version, c.Version)
	}
	// A chunk sent after the op was applied stores nothing.
	if st, err = ce.c.PutAttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, 0, chunk(ce.data, 0)); err != nil || !st.Stored || len(st.Have) != 4 {
		t.Fatalf("chunk after the op: %+v %v", st, err)
	}
	if have := ce.staged(); len(have) != 0 {
		t.Errorf("chunk staged after the op: %v", have)
	}

	// Download, as another desktop of the clinic does.
	var whole []byte
	for n := range 4 {
		data, sum, err := ce.c.AttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, n)
		if err != nil || sha(data) != sum {
			t.Fatalf("download chunk %d: %v (digest %s)", n, err, sum)
		}
		whole = append(whole, data...)
	}
	if !bytes.Equal(whole, ce.data) {
		t.Fatal("downloaded chunks are not the file")
	}
	if code, _, _, h := ce.raw(http.MethodGet, ce.path(ce.a.ID, "3"), ce.tok, nil, nil); code != 200 || h.Get("Content-Length") != "1" || h.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("last chunk answer: %d %v", code, h)
	}

	// The inline form of desktops before chunks.
	data := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 5000)...)
	b, _ := app.NewAttachment("gammal.pdf", data)
	b.ID = app.NewID(ce.clock.Now())
	ce.describe(b)
	inline, _ := json.Marshal(struct {
		app.Attachment
		Data []byte
	}{b, data})
	old := app.SyncOp{ID: app.NewOpID(), Kind: app.OpAttachmentPut, CaseID: ce.cs, Payload: inline}
	if r := ce.push(old); len(r) != 1 || r[0].Outcome != app.OpApplied {
		t.Fatalf("inline op = %+v", r)
	}
	if got, err := ce.store.AttachmentData(ce.ctx, ce.cs, b.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("inline bytes: %v", err)
	}
}

// TestSyncAttachmentOpForUnknownAttachmentRejected: an attachment.put op
// whose message the server does not hold (it was refused) is rejected for
// good, with the reason, rather than waiting for chunks forever.
func TestSyncAttachmentOpForUnknownAttachmentRejected(t *testing.T) {
	ce := newChunkEnv(t, 1000)
	a := ce.a
	a.ID = app.NewID(ce.clock.Now())
	res := ce.push(ce.attachOp(a))
	if len(res) != 1 || res[0].Outcome != app.OpRejected || res[0].Code != "not_found" || res[0].Reason == "" {
		t.Fatalf("op of an undescribed attachment = %+v", res)
	}
}

// FuzzAttachmentChunkPut: whatever chunk number, checksum header and body
// a PUT carries, the answer is below 500, and the staged chunks are only
// ever intact chunks of the described file.
func FuzzAttachmentChunkPut(f *testing.F) {
	ce := newChunkEnv(f, 2*app.AttachmentChunkSize+7)
	for n := range 3 {
		c := chunk(ce.data, n)
		f.Add(strconv.Itoa(n), sha(c), c)
		f.Add(strconv.Itoa(n), sha(c[:len(c)-1]), c[:len(c)-1])
		f.Add(strconv.Itoa(n+1), sha(c), c)
	}
	f.Add("-1", "", []byte("%PDF"))
	f.Add("x", "zz", []byte{})
	f.Add("0/../1", sha(nil), []byte(nil))
	f.Add("99999999999999999999", sha(nil), []byte("x"))
	h := ce.srv.Handler()
	f.Fuzz(func(t *testing.T, n, sum string, body []byte) {
		req := httptest.NewRequest(http.MethodPut,
			"/api/sync/attachments/"+string(ce.a.ID)+"/chunks/"+url.PathEscape(n)+"?case="+string(ce.cs), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ce.tok)
		req.Header.Set(msync.ChunkDigestHeader, sum)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("PUT chunk %q, %d bytes: %d", n, len(body), rec.Code)
		}
		have, err := ce.store.StagedChunks(ce.ctx, ce.cs, ce.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range have {
			if h < 0 || h >= 3 {
				t.Fatalf("staged chunk %d of a 3-chunk file", h)
			}
		}
		if len(have) == 3 {
			if got, err := ce.store.StagedAttachment(ce.ctx, ce.cs, ce.a.ID, ce.a.Size); err != nil || !bytes.Equal(got, ce.data) {
				t.Fatalf("staged chunks are not the file: %v", err)
			}
		}
	})
}

// A case.message op whose attachment description no real file could have
// (too large, another type, no digest) is rejected as invalid, before any
// chunk is taken for it.
func TestSyncMessageWithBadAttachmentDescriptionRejected(t *testing.T) {
	ce := newChunkEnv(t, 1000)
	st := ce.ds.StaffBy[demo.StaffReceiver]
	for name, mut := range map[string]func(a *app.Attachment){
		"too large":  func(a *app.Attachment) { a.Size = app.MaxAttachmentSize + 1 },
		"empty":      func(a *app.Attachment) { a.Size = 0 },
		"type":       func(a *app.Attachment) { a.MIME = "text/html" },
		"digest":     func(a *app.Attachment) { a.SHA256 = "not hex" },
		"no id":      func(a *app.Attachment) { a.ID = "" },
		"empty name": func(a *app.Attachment) { a.Name = "" },
	} {
		a := ce.a
		a.ID = app.NewID(ce.clock.Now())
		mut(&a)
		m := app.Message{ID: app.NewID(ce.clock.Now()), CaseID: ce.cs, Author: app.AuthorStaff, AuthorID: st, At: ce.clock.Now(),
			Text: "Bilaga.", Attachments: []app.Attachment{a}}
		p, _ := json.Marshal(m)
		res := ce.push(app.SyncOp{ID: app.NewOpID(), Kind: app.OpCaseMessage, CaseID: ce.cs, Payload: p})
		if len(res) != 1 || res[0].Outcome != app.OpRejected || res[0].Code != "invalid" {
			t.Errorf("%s: %+v", name, res)
		}
	}
}

// openCaseOf is an open case of demo clinic i.
func (ce *chunkEnv) openCaseOf(i int) app.ID {
	ce.tb.Helper()
	for _, th := range ce.ds.Threads {
		if th.Case.ClinicID == ce.ds.Clinics[i].ID && th.Case.Status != app.StatusClosed {
			return th.Case.ID
		}
	}
	ce.tb.Fatalf("no open case in clinic %d", i)
	return ""
}

// uploadAndApply uploads every chunk of ce's attachment and applies its op.
func (ce *chunkEnv) uploadAndApply() {
	ce.tb.Helper()
	for n := range app.AttachmentChunks(ce.a.Size) {
		if _, err := ce.c.PutAttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, n, chunk(ce.data, n)); err != nil {
			ce.tb.Fatalf("chunk %d: %v", n, err)
		}
	}
	if res := ce.push(ce.attachOp(ce.a)); len(res) != 1 || res[0].Outcome != app.OpApplied {
		ce.tb.Fatalf("attachment op = %+v", res)
	}
}

// TestSyncAttachmentOtherClinicsIDReachesNothing is finding 3 of issue 13:
// staff of Barnmottagningen name, on a message of their own case, the id
// (and size, digest and name) of an attachment of Vårdcentralen Centrum.
// Nothing of Centrum's file is reachable through their case: not its
// bytes, not which chunks are there; Centrum still downloads its own.
func TestSyncAttachmentOtherClinicsIDReachesNothing(t *testing.T) {
	ce := newChunkEnv(t, 2*app.AttachmentChunkSize+5)
	ce.uploadAndApply()
	bTok := ce.staff(demo.StaffChildClinic)
	bCase := ce.openCaseOf(1)
	bStaff := ce.ds.StaffBy[demo.StaffChildClinic]
	m := app.Message{ID: app.NewID(ce.clock.Now()), CaseID: bCase, Author: app.AuthorStaff, AuthorID: bStaff, At: ce.clock.Now(),
		Text: "Se bilagan.", Attachments: []app.Attachment{ce.a}}
	p, _ := json.Marshal(m)
	resp, err := ce.c.SyncPush(ce.ctx, bTok, &msync.PushRequest{Ops: []app.SyncOp{{ID: app.NewOpID(), Kind: app.OpCaseMessage, CaseID: bCase, Payload: p}}})
	if err != nil || len(resp.Results) != 1 {
		t.Fatalf("push: %+v %v", resp, err)
	}
	// The id is Centrum's case's: the message is refused with the reason,
	// and stores nothing.
	if r := resp.Results[0]; r.Outcome != app.OpRejected || r.Code != "invalid" || r.Detail != "attachment_id" || r.Reason != "Ändringen gjordes inte: "+app.ErrAttachmentTaken.Text {
		t.Errorf("message naming another case's attachment = %+v, want rejected invalid attachment_id", r)
	}
	if th, _ := ce.store.Thread(ce.ctx, bCase); th.Messages[len(th.Messages)-1].ID == m.ID {
		t.Error("the refused message was stored")
	}
	bPath := func(n string) string {
		p := "/api/sync/attachments/" + string(ce.a.ID) + "/chunks"
		if n != "" {
			p += "/" + n
		}
		return p + "?case=" + string(bCase)
	}
	for _, tc := range []struct{ name, method, path string }{
		{"download", http.MethodGet, bPath("0")},
		{"last chunk", http.MethodGet, bPath("2")},
		{"which chunks", http.MethodGet, bPath("")},
	} {
		st, e, body, _ := ce.raw(tc.method, tc.path, bTok, nil, nil)
		if st == http.StatusOK || e == nil || e.Code != "not_found" {
			t.Errorf("%s through the other clinic's case: %d %+v (%d bytes), want 404 not_found", tc.name, st, e, len(body))
		}
	}
	// Uploading under the id through the other case stages nothing and
	// takes nothing from Centrum's file.
	if st, e, _, _ := ce.raw(http.MethodPut, bPath("0"), bTok, chunk(ce.data, 0), map[string]string{msync.ChunkDigestHeader: sha(chunk(ce.data, 0))}); st == http.StatusOK || e == nil {
		t.Errorf("upload through the other clinic's case: %d %+v", st, e)
	}
	var whole []byte
	for n := range 3 {
		data, sum, err := ce.c.AttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, n)
		if err != nil || sha(data) != sum {
			t.Fatalf("Centrum downloads chunk %d: %v", n, err)
		}
		whole = append(whole, data...)
	}
	if !bytes.Equal(whole, ce.data) {
		t.Fatal("Centrum's download is not its file")
	}
}

// elf is the start of a Linux executable, padded to n bytes.
func elf(n int) []byte {
	b := bytes.Repeat([]byte{0x90}, n)
	copy(b, "\x7fELF\x02\x01\x01\x00")
	return b
}

// TestSyncAttachmentCheckedOnEveryDoor is finding 4 of issue 13: what the
// staff tool refuses (app.NewAttachment) the sync doors refuse too — a
// file name with a path, a NUL byte or a direction override on a
// case.message op, and bytes that are not of the declared type, whether
// they come in chunks or inside the op. Nothing of a refused file is
// stored, and its chunks are dropped.
func TestSyncAttachmentCheckedOnEveryDoor(t *testing.T) {
	ce := newChunkEnv(t, 1000)
	st := ce.ds.StaffBy[demo.StaffReceiver]
	message := func(a app.Attachment) []app.OpResult {
		m := app.Message{ID: app.NewID(ce.clock.Now()), CaseID: ce.cs, Author: app.AuthorStaff, AuthorID: st, At: ce.clock.Now(),
			Text: "Bilaga.", Attachments: []app.Attachment{a}}
		p, _ := json.Marshal(m)
		return ce.push(app.SyncOp{ID: app.NewOpID(), Kind: app.OpCaseMessage, CaseID: ce.cs, Payload: p})
	}
	messages := func() int {
		th, err := ce.store.Thread(ce.ctx, ce.cs)
		if err != nil {
			t.Fatal(err)
		}
		return len(th.Messages)
	}
	for _, tc := range []struct{ name, file string }{
		{"path and NUL", "../../../../root/.bashrc\x00evil.pdf"},
		{"NUL", "evil.pdf\x00.pdf"},
		{"path", "../../x.pdf"},
		{"windows path", `C:\Users\x.pdf`},
		{"direction override", "faktura\u202Efdp.exe"},
		{"control character", "a\x07b.pdf"},
		{"extension of another type", "remiss.exe"},
		{"too long", strings.Repeat("a", 200) + ".pdf"},
	} {
		t.Run("name "+tc.name, func(t *testing.T) {
			a := ce.a
			a.ID, a.Name = app.NewID(ce.clock.Now()), tc.file
			before := messages()
			res := message(a)
			if len(res) != 1 || res[0].Outcome != app.OpRejected || res[0].Code != "invalid" || res[0].Detail != "attachment_name" {
				t.Fatalf("message with attachment name %q = %+v, want rejected invalid attachment_name", tc.file, res)
			}
			if n := messages(); n != before {
				t.Errorf("messages %d → %d after a refused one", before, n)
			}
		})
	}

	// Bytes of another type than declared.
	for _, tc := range []struct {
		name   string
		data   []byte
		inline bool
	}{
		{"ELF as PDF in chunks", elf(app.AttachmentChunkSize + 10), false},
		{"ELF as PDF inside the op", elf(3000), true},
		{"PNG as PDF in chunks", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := app.Attachment{ID: app.NewID(ce.clock.Now()), Name: "remiss.pdf", MIME: app.MIMEPDF, Size: int64(len(tc.data)), SHA256: sha(tc.data)}
			if res := message(a); len(res) != 1 || res[0].Outcome != app.OpApplied {
				t.Fatalf("message describing the file = %+v (its description is clean)", res)
			}
			op := ce.attachOp(a)
			if tc.inline {
				p, _ := json.Marshal(struct {
					app.Attachment
					Data []byte
				}{a, tc.data})
				op.Payload = p
			} else {
				for n := range app.AttachmentChunks(a.Size) {
					if _, err := ce.c.PutAttachmentChunk(ce.ctx, ce.tok, ce.cs, a.ID, n, chunk(tc.data, n)); err != nil {
						t.Fatalf("chunk %d: %v", n, err)
					}
				}
			}
			res := ce.push(op)
			if len(res) != 1 || res[0].Outcome != app.OpRejected || res[0].Code != "invalid" || res[0].Detail != "attachment_type" ||
				res[0].Reason != "Ändringen gjordes inte: "+app.ErrAttachmentType.Text {
				t.Fatalf("attachment op = %+v, want rejected invalid attachment_type", res)
			}
			if held, err := ce.store.HasAttachmentData(ce.ctx, ce.cs, a.ID); err != nil || held {
				t.Errorf("bytes stored: %v %v", held, err)
			}
			if have, _ := ce.store.StagedChunks(ce.ctx, ce.cs, a.ID); len(have) != 0 {
				t.Errorf("chunks left staged: %v", have)
			}
		})
	}
}

// The attachment door uses the one rule of who sees a case's content: a
// granskare, a lokal administratör or an ärendehanterare the case is not
// assigned to may not download its attachments (any role in the clinic
// could, before), nor ask which chunks there are; the ärendemottagare may.
func TestSyncAttachmentDownloadNeedsTheCase(t *testing.T) {
	ce := newChunkEnv(t, app.AttachmentChunkSize+5)
	ce.uploadAndApply()
	c, err := ce.store.Case(ce.ctx, ce.cs)
	if err != nil {
		t.Fatal(err)
	}
	if c.AssigneeID == ce.ds.StaffBy[demo.StaffHandler] || c.CreatorID == ce.ds.StaffBy[demo.StaffHandler] {
		t.Fatal("test case is the ärendehanterare's")
	}
	for _, key := range []string{demo.StaffAuditor, demo.StaffLocalAdmin, demo.StaffPermAdmin, demo.StaffHandler} {
		for _, p := range []string{ce.path(ce.a.ID, "0"), ce.path(ce.a.ID, "")} {
			st, e, body, _ := ce.raw(http.MethodGet, p, ce.staff(key), nil, nil)
			if st != http.StatusForbidden || e == nil || e.Code != "forbidden" {
				t.Errorf("%s GET %s: %d %+v (%d bytes), want 403 forbidden", key, p, st, e, len(body))
			}
		}
	}
	if _, _, err := ce.c.AttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, 0); err != nil {
		t.Fatalf("the ärendemottagare downloads: %v", err)
	}
	// Taking the file to the device is recorded as a pull of the case is
	// (here the push answers that carried the case recorded it already).
	es, err := ce.store.Entries(ce.ctx, c.ClinicID, time.Time{}, ce.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	logged := 0
	for _, e := range es {
		if e.Action == app.AccessSyncPull && e.CaseID == ce.cs && e.StaffID == ce.ds.StaffBy[demo.StaffReceiver] && e.ResidentID == c.ResidentID {
			logged++
		}
	}
	if logged == 0 {
		t.Error("taking the case's content to the device is not in the access log")
	}
	// Again: the same version is not recorded twice.
	if _, _, err := ce.c.AttachmentChunk(ce.ctx, ce.tok, ce.cs, ce.a.ID, 0); err != nil {
		t.Fatal(err)
	}
	if es2, _ := ce.store.Entries(ce.ctx, c.ClinicID, time.Time{}, ce.clock.Now().Add(time.Hour)); len(es2) != len(es) {
		t.Errorf("a second download of the same version logged again: %d → %d", len(es), len(es2))
	}
}
