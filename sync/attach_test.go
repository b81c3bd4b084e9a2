package sync_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	msync "mottagning/sync"
)

// Attachments in chunks between real desktops and the real server over
// TLS on 127.0.0.1 (docs/sync.md, Attachments). The connection of a
// desktop runs through a link that is cut after a number of bytes (both
// ways, TLS included), as a network that drops mid-transfer; the server
// is reached through a listener that records every chunk request it
// receives, so that a resumed transfer is seen to send only what is
// missing.

// link is a desktop's network: cut after a budget of bytes, then down
// (every connection closed, no new one) until restored.
type link struct {
	mu     stdsync.Mutex
	budget int64 // bytes left; < 0: no cut armed
	down   bool
	conns  map[net.Conn]bool
}

var errCut = errors.New("connection cut (test)")

func newLink() *link { return &link{budget: -1, conns: map[net.Conn]bool{}} }

func (l *link) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	down := l.down
	l.mu.Unlock()
	if down {
		return nil, errCut
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.conns[c] = true
	l.mu.Unlock()
	return &cutConn{Conn: c, l: l}, nil
}

// spend counts n bytes and reports whether the link is cut now.
func (l *link) spend(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return true
	}
	if l.budget < 0 {
		return false
	}
	if l.budget -= int64(n); l.budget > 0 {
		return false
	}
	l.down = true
	for c := range l.conns {
		c.Close()
	}
	clear(l.conns)
	return true
}

// cutAfter arms a cut after n more bytes.
func (l *link) cutAfter(n int64) {
	l.mu.Lock()
	l.budget, l.down = n, false
	l.mu.Unlock()
}

func (l *link) restore() {
	l.mu.Lock()
	l.budget, l.down = -1, false
	l.mu.Unlock()
}

type cutConn struct {
	net.Conn
	l *link
}

func (c *cutConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.l.spend(n) {
		return 0, errCut
	}
	return n, err
}

func (c *cutConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.l.spend(n) {
		return 0, errCut
	}
	return n, err
}

// chunkReq is a chunk request as the server received it.
type chunkReq struct {
	method string
	chunk  int // -1: the list of chunks (GET .../chunks)
	status int
}

// chunkLog records the chunk requests the server answers.
type chunkLog struct {
	mu       stdsync.Mutex
	reqs     []chunkReq
	inFlight atomic.Int64
}

func (cl *chunkLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/api/sync/attachments/")
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		cl.inFlight.Add(1)
		defer cl.inFlight.Add(-1)
		n := -1
		if i := strings.Index(rest, "/chunks/"); i >= 0 {
			n, _ = strconv.Atoi(rest[i+len("/chunks/"):])
		}
		sw := &statusOf{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		cl.mu.Lock()
		cl.reqs = append(cl.reqs, chunkReq{r.Method, n, sw.status})
		cl.mu.Unlock()
	})
}

type statusOf struct {
	http.ResponseWriter
	status int
}

func (s *statusOf) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// settle waits until no chunk request is being handled for a while (a
// request cut off mid-body ends on the server a moment after the
// desktop saw the cut), then forgets what was recorded.
func (cl *chunkLog) settle(t *testing.T) {
	t.Helper()
	quietSince := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for time.Since(quietSince) < 200*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatal("chunk requests still running on the server")
		}
		if cl.inFlight.Load() != 0 {
			quietSince = time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	cl.mu.Lock()
	cl.reqs = nil
	cl.mu.Unlock()
}

// done returns the chunk numbers of the requests with method answered 200.
func (cl *chunkLog) done(method string) []int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var out []int
	for _, r := range cl.reqs {
		if r.method == method && r.chunk >= 0 && r.status == http.StatusOK {
			out = append(out, r.chunk)
		}
	}
	slices.Sort(out)
	return out
}

// serveCounted serves ce's server on a second TLS listener through a
// chunkLog, and returns its URL and certificate pin.
func serveCounted(t *testing.T, ce *central) (string, string, *chunkLog) {
	cl := &chunkLog{}
	cert, fp := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: cl.wrap(ce.srv.Handler()), ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  slog.NewLogLogger(quiet.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = hs.Close(); <-done })
	return "https://" + ln.Addr().String(), fp, cl
}

func digest(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// pdf is a file of n random bytes that passes as a PDF.
func pdf(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	copy(b, "%PDF-1.7\n")
	return b
}

// openCase is an open case of the clinic in the demo data.
func openCase(t *testing.T, ce *central, clinic app.ID) app.ID {
	for _, th := range ce.ds.Threads {
		if th.Case.ClinicID == clinic && th.Case.Status != app.StatusClosed {
			return th.Case.ID
		}
	}
	t.Fatal("no open case")
	return ""
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func without(xs, drop []int) []int {
	var out []int
	for _, x := range xs {
		if !slices.Contains(drop, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestAttachment_UploadAndDownloadResumeAfterCut: a 1.5 MiB attachment
// on a reply made on desktop A goes up in six chunks; the connection is
// cut after some of them, and the next sync sends only the chunks the
// server lacks. The attachment.put op applies exactly once (a replayed
// push changes nothing). Desktop B, which pulled the message before the
// bytes were whole, says so in Swedish when the attachment is opened;
// its download is cut too, resumes with only the missing chunks, and
// ends with the same bytes (digest).
func TestAttachment_UploadAndDownloadResumeAfterCut(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	url, pin, cl := serveCounted(t, ce)
	la, lb := newLink(), newLink()
	a := newDesktopAt(t, url, pin, "", la.dial)
	a.signIn(ce.staff(demo.StaffReceiver), centrum)
	a.mustSync()
	b := newDesktopAt(t, url, pin, "", lb.dial)
	b.signIn(ce.staff(demo.StaffReceiver), centrum)
	b.mustSync()

	caseID := openCase(t, ce, centrum)
	data := pdf(t, 3<<19) // 1.5 MiB: six chunks of 256 KiB
	if err := a.cases.ReplyWithFiles(ctx, a.sess, caseID, "Här kommer remissen.", []app.File{{Name: "remiss.pdf", Data: data}}); err != nil {
		t.Fatalf("reply with file: %v", err)
	}
	th, err := a.store.Thread(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	att := th.Messages[len(th.Messages)-1].Attachments[0]
	if att.Size != int64(len(data)) || app.AttachmentChunks(att.Size) != 6 {
		t.Fatalf("attachment %+v, want 1.5 MiB in 6 chunks", att)
	}
	pending, _ := a.store.PendingOps(ctx, 0)
	var attachOp app.SyncOp
	for _, op := range pending {
		if op.Kind == app.OpAttachmentPut {
			attachOp = op
		}
	}
	if attachOp.ID == "" || bytes.Contains(attachOp.Payload, []byte(`"Data"`)) {
		t.Fatalf("queued attachment op %+v: want one, without bytes", attachOp)
	}

	// Up, cut after about two and a half chunks.
	la.cutAfter(700 << 10)
	if err := a.sync(); err == nil || !msync.Offline(err) {
		t.Fatalf("sync cut mid-upload = %v, want offline", err)
	}
	cl.settle(t)
	staged, err := ce.store.StagedChunks(ctx, caseID, att.ID)
	if err != nil || len(staged) == 0 || len(staged) >= 6 {
		t.Fatalf("staged on the server after the cut: %v %v, want some of the 6", staged, err)
	}
	if held, _ := ce.store.HasAttachmentData(ctx, caseID, att.ID); held {
		t.Fatal("server holds the bytes after a cut upload")
	}
	if srv, _ := ce.store.Thread(ctx, caseID); len(srv.Messages) != len(th.Messages) {
		t.Fatalf("server has %d messages, want the reply (pushed before the chunks)", len(srv.Messages))
	}
	if _, err := ce.store.AppliedOp(ctx, attachOp.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("attachment op decided before its chunks: %v", err)
	}

	// B pulls the message now: the bytes are not there to fetch yet.
	b.mustSync()
	_, _, err = b.cases.AttachmentData(ctx, b.sess, caseID, att.ID)
	if !errors.Is(err, app.ErrAttachmentNotDownloaded) ||
		app.AttachmentMessage(err) != "Bilagan har inte hämtats till den här datorn ännu. Den hämtas när datorn är ansluten." {
		t.Fatalf("opening an attachment not fetched yet = %v (%q)", err, app.AttachmentMessage(err))
	}

	// The upload resumes: only the missing chunks cross the wire.
	la.restore()
	a.mustSync()
	sent := cl.done(http.MethodPut)
	t.Logf("upload: the server had chunks %v after the cut; the resumed upload sent %v", staged, sent)
	if !slices.Equal(sent, without(all(6), staged)) {
		t.Fatalf("chunks uploaded on resume %v; the server had %v, want exactly the others", sent, staged)
	}
	res, err := ce.store.AppliedOp(ctx, attachOp.ID)
	if err != nil || res.Outcome != app.OpApplied {
		t.Fatalf("attachment op on the server: %+v %v", res, err)
	}
	got, err := ce.store.AttachmentData(ctx, caseID, att.ID)
	if err != nil || digest(got) != digest(data) {
		t.Fatalf("server bytes: %v", err)
	}
	if left, _ := ce.store.StagedChunks(ctx, caseID, att.ID); len(left) != 0 {
		t.Errorf("chunks left staged on the server: %v", left)
	}
	if st := a.eng.Status(); st.Pending != 0 || len(st.Rejected) != 0 {
		t.Fatalf("A after resume: %+v", st)
	}

	// Exactly once: the op pushed again is answered from memory.
	version := func() uint64 { c, _ := ce.store.Case(ctx, caseID); return c.Version }
	before := version()
	tok, err := a.tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.c.SyncPush(ctx, tok, &msync.PushRequest{DeviceID: a.store.SyncDevice(), Ops: []app.SyncOp{attachOp}})
	if err != nil || len(resp.Results) != 1 || resp.Results[0].Outcome != app.OpApplied {
		t.Fatalf("replayed attachment op = %+v %v", resp, err)
	}
	if v := version(); v != before {
		t.Fatalf("replay wrote the case again: version %d → %d", before, v)
	}

	// Down, cut after about two chunks.
	cl.settle(t)
	lb.cutAfter(600 << 10)
	_ = b.sync() // the pull itself is done before the cut; a cut download is no failed sync
	cl.settle(t)
	fetched, err := b.store.StagedChunks(ctx, caseID, att.ID)
	if err != nil || len(fetched) == 0 || len(fetched) >= 6 {
		t.Fatalf("chunks staged on B after the cut: %v %v, want some of the 6", fetched, err)
	}
	if held, _ := b.store.HasAttachmentData(ctx, caseID, att.ID); held {
		t.Fatal("B stored bytes of a cut download")
	}
	lb.restore()
	b.mustSync()
	down := cl.done(http.MethodGet)
	t.Logf("download: B had chunks %v after the cut; the resumed download fetched %v", fetched, down)
	if !slices.Equal(down, without(all(6), fetched)) {
		t.Fatalf("chunks downloaded on resume %v; B had %v, want exactly the others", down, fetched)
	}
	_, mine, err := b.cases.AttachmentData(ctx, b.sess, caseID, att.ID)
	if err != nil || digest(mine) != digest(data) {
		t.Fatalf("B opens the attachment: %v", err)
	}
	if left, _ := b.store.StagedChunks(ctx, caseID, att.ID); len(left) != 0 {
		t.Errorf("chunks left staged on B: %v", left)
	}
	if w, _ := b.store.WantedAttachments(ctx, 0); len(w) != 0 {
		t.Errorf("B still wants %+v", w)
	}
	// A later sync fetches nothing again.
	cl.settle(t)
	b.mustSync()
	if got := cl.done(http.MethodGet); len(got) != 0 {
		t.Errorf("a sync after the download fetched chunks %v again", got)
	}
}

// TestAttachment_DownloadWaitsForWholeUpload: a desktop that pulls a
// message whose attachment is still being uploaded keeps it listed and
// fetches it at a later sync, once the server holds it whole; nothing
// half is ever stored.
func TestAttachment_DownloadWaitsForWholeUpload(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffReceiver), centrum)
	a.mustSync()
	b := newDesktop(t, ce, "")
	b.signIn(ce.staff(demo.StaffHandler), centrum)
	b.mustSync()

	caseID := openCase(t, ce, centrum)
	data := pdf(t, app.AttachmentChunkSize+100)
	if err := a.cases.ReplyWithFiles(ctx, a.sess, caseID, "Bifogar intyget.", []app.File{{Name: "intyg.pdf", Data: data}}); err != nil {
		t.Fatal(err)
	}
	th, _ := a.store.Thread(ctx, caseID)
	att := th.Messages[len(th.Messages)-1].Attachments[0]
	// Only the message reaches the server: the chunk calls fail.
	a.f.inner = &refuseChunks{inner: a.f.inner}
	if err := a.sync(); err == nil {
		t.Fatal("sync with the chunk calls failing succeeded")
	}
	b.mustSync()
	if w, _ := b.store.WantedAttachments(ctx, 0); len(w) != 1 || w[0].ID != att.ID || w[0].CaseID != caseID {
		t.Fatalf("B wants %+v, want the attachment", w)
	}
	if held, _ := b.store.HasAttachmentData(ctx, caseID, att.ID); held {
		t.Fatal("B holds bytes the server does not have")
	}
	a.f.inner = a.f.inner.(*refuseChunks).inner
	a.mustSync()
	b.mustSync()
	if got, err := b.store.AttachmentData(ctx, caseID, att.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("B's bytes after the upload: %v", err)
	}
}

// refuseChunks fails every chunk call, as a network that drops them.
type refuseChunks struct{ inner http.RoundTripper }

func (r *refuseChunks) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/api/sync/attachments/") {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errDown
	}
	return r.inner.RoundTrip(req)
}

// TestAttachment_BadChunksRefused is the chunk API's bad input over the
// network, through the client a desktop uses: each refusal is a 4xx with
// its stable code, nothing is staged, and the upload afterwards succeeds.
func TestAttachment_BadChunksRefused(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffReceiver), centrum)
	a.mustSync()
	caseID := openCase(t, ce, centrum)
	data := pdf(t, 2*app.AttachmentChunkSize+10) // 3 chunks
	if err := a.cases.ReplyWithFiles(ctx, a.sess, caseID, "Bilaga.", []app.File{{Name: "a.pdf", Data: data}}); err != nil {
		t.Fatal(err)
	}
	th, _ := a.store.Thread(ctx, caseID)
	att := th.Messages[len(th.Messages)-1].Attachments[0]
	// The message goes up, the attachment's chunks do not.
	a.f.inner = &refuseChunks{inner: a.f.inner}
	_ = a.sync()
	a.f.inner = a.f.inner.(*refuseChunks).inner

	tok, err := a.tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := newDesktop(t, ce, "")
	other.signIn(ce.staff(demo.StaffChildClinic), ce.ds.Clinics[1].ID)
	otherTok, err := other.tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chunkN := func(n int) []byte {
		off := n * app.AttachmentChunkSize
		return data[off:min(off+app.AttachmentChunkSize, len(data))]
	}
	put := func(tok string, id app.ID, n string, body []byte, sum string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, ce.url+"/api/sync/attachments/"+string(id)+"/chunks/"+n+"?case="+string(caseID), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set(msync.ChunkDigestHeader, sum)
		resp, err := ce.c.HTTP().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode < 300 {
			return nil
		}
		e := &client.Error{Status: resp.StatusCode}
		if err := json.Unmarshal(raw, e); err != nil {
			t.Fatalf("error body %q is not the error shape", raw)
		}
		return e
	}
	big := pdf(t, app.AttachmentChunkSize+1)
	wrong := append([]byte(nil), chunkN(2)...)
	wrong[5] ^= 1
	for _, tc := range []struct {
		name   string
		err    func() error
		status int
		code   string
	}{
		{"chunk over 256 KiB", func() error { return put(tok, att.ID, "0", big, digest(big)) }, 413, "too_large"},
		{"wrong chunk checksum", func() error { return put(tok, att.ID, "0", chunkN(0), digest(chunkN(1))) }, 400, "invalid"},
		{"chunk index beyond the size", func() error { return put(tok, att.ID, "3", chunkN(2), digest(chunkN(2))) }, 400, "invalid"},
		{"unknown attachment", func() error { return put(tok, "01OKAND", "0", chunkN(0), digest(chunkN(0))) }, 404, "not_found"},
		{"attachment of another clinic", func() error { return put(otherTok, att.ID, "0", chunkN(0), digest(chunkN(0))) }, 403, "forbidden"},
		{"download by another clinic", func() error {
			_, _, err := ce.c.AttachmentChunk(ctx, otherTok, caseID, att.ID, 0)
			return err
		}, 403, "forbidden"},
	} {
		err := tc.err()
		var e *client.Error
		if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code {
			t.Errorf("%s: %v, want %d %s", tc.name, err, tc.status, tc.code)
		}
		if have, _ := ce.store.StagedChunks(ctx, caseID, att.ID); len(have) != 0 {
			t.Errorf("%s: staged %v", tc.name, have)
		}
	}
	// Whole digest: two intact chunks and a third of another file.
	for n := range 2 {
		if _, err := ce.c.PutAttachmentChunk(ctx, tok, caseID, att.ID, n, chunkN(n)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = ce.c.PutAttachmentChunk(ctx, tok, caseID, att.ID, 2, wrong)
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 400 || len(e.Reasons) != 1 || e.Reasons[0].Code != "digest_mismatch" {
		t.Fatalf("whole digest mismatch = %v", err)
	}
	if have, _ := ce.store.StagedChunks(ctx, caseID, att.ID); len(have) != 0 {
		t.Fatalf("staged after a whole-digest mismatch: %v", have)
	}
	// Safe to retry: the engine uploads it whole and the op applies.
	a.mustSync()
	if got, err := ce.store.AttachmentData(ctx, caseID, att.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("server bytes after the retry: %v", err)
	}
	if st := a.eng.Status(); st.Pending != 0 || len(st.Rejected) != 0 {
		t.Fatalf("A after the retry: %+v", st)
	}
}

// loseAttachPushAnswer lets the first push that carries an attachment.put
// op reach the server and loses its answer; it counts the chunk uploads.
type loseAttachPushAnswer struct {
	inner http.RoundTripper
	lost  atomic.Bool
	puts  atomic.Int64
}

func (l *loseAttachPushAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.HasPrefix(req.URL.Path, "/api/sync/attachments/") {
		l.puts.Add(1)
	}
	if req.URL.Path != "/api/sync/push" || l.lost.Load() {
		return l.inner.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := l.inner.RoundTrip(req)
	if err == nil && bytes.Contains(body, []byte(app.OpAttachmentPut)) {
		l.lost.Store(true)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("connection reset (test: answer lost)")
	}
	return resp, err
}

// TestAttachment_PushAnswerLostAppliedOnce: the server applies the
// attachment.put op but its answer is lost; the desktop's retry finds the
// bytes stored (no chunk goes up again) and gets the remembered answer;
// the case is written once.
func TestAttachment_PushAnswerLostAppliedOnce(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffReceiver), centrum)
	a.mustSync()
	caseID := openCase(t, ce, centrum)
	data := pdf(t, 2*app.AttachmentChunkSize)
	if err := a.cases.ReplyWithFiles(ctx, a.sess, caseID, "Bilaga.", []app.File{{Name: "a.pdf", Data: data}}); err != nil {
		t.Fatal(err)
	}
	th, _ := a.store.Thread(ctx, caseID)
	att := th.Messages[len(th.Messages)-1].Attachments[0]
	lose := &loseAttachPushAnswer{inner: a.f.inner}
	a.f.inner = lose
	if err := a.sync(); err == nil {
		t.Fatal("sync with the answer lost succeeded")
	}
	if held, _ := ce.store.HasAttachmentData(ctx, caseID, att.ID); !held || lose.puts.Load() != 2 {
		t.Fatalf("after the lost answer: server holds the bytes %v, %d chunks sent; want true and 2", held, lose.puts.Load())
	}
	version, _ := ce.store.Case(ctx, caseID)
	a.mustSync()
	if n := lose.puts.Load(); n != 2 {
		t.Errorf("the retry sent chunks again: %d uploads in all, want 2", n)
	}
	if c, _ := ce.store.Case(ctx, caseID); c.Version != version.Version {
		t.Errorf("the retry wrote the case again: version %d → %d", version.Version, c.Version)
	}
	if st := a.eng.Status(); st.Pending != 0 || len(st.Rejected) != 0 {
		t.Fatalf("A after the retry: %+v", st)
	}
	if got, _ := ce.store.AttachmentData(ctx, caseID, att.ID); !bytes.Equal(got, data) {
		t.Fatal("server bytes differ")
	}
}

// TestAttachment_OtherClinicNamingAnIDGetsNothing is finding 3 of issue
// 13 end to end: a desktop of Barnmottagningen, altered to push a
// case.message op on its own case that names the id of an attachment of
// Vårdcentralen Centrum (with its size, digest and name), syncs and tries
// to open it: it gets nothing of Centrum's file, neither through the
// chunk API nor through its fetch. A second desktop of Centrum fetches
// and opens the file as before.
func TestAttachment_OtherClinicNamingAnIDGetsNothing(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum, barn := ce.ds.Clinics[0].ID, ce.ds.Clinics[1].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffReceiver), centrum)
	a.mustSync()
	caseA := openCase(t, ce, centrum)
	data := pdf(t, app.AttachmentChunkSize+300)
	if err := a.cases.ReplyWithFiles(ctx, a.sess, caseA, "Här kommer remissen.", []app.File{{Name: "remiss.pdf", Data: data}}); err != nil {
		t.Fatal(err)
	}
	a.mustSync()
	th, _ := a.store.Thread(ctx, caseA)
	att := th.Messages[len(th.Messages)-1].Attachments[0]
	if held, _ := ce.store.HasAttachmentData(ctx, caseA, att.ID); !held {
		t.Fatal("the server does not hold Centrum's attachment")
	}

	b := newDesktop(t, ce, "")
	b.signIn(ce.staff(demo.StaffChildClinic), barn)
	b.mustSync()
	caseB := openCase(t, ce, barn)
	cB, err := b.store.Case(ctx, caseB)
	if err != nil {
		t.Fatal(err)
	}
	m := app.Message{ID: app.NewID(time.Now()), CaseID: caseB, Author: app.AuthorStaff, AuthorID: b.sess.Staff.ID, At: time.Now(),
		Text: "Se bilagan.", Attachments: []app.Attachment{att}}
	p, _ := json.Marshal(m)
	tok, err := b.tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.c.SyncPush(ctx, tok, &msync.PushRequest{DeviceID: b.store.SyncDevice(),
		Ops: []app.SyncOp{{ID: app.NewOpID(), Kind: app.OpCaseMessage, CaseID: caseB, Base: cB.Version, Payload: p}}})
	if err != nil || len(resp.Results) != 1 {
		t.Fatalf("forged push: %+v %v", resp, err)
	}
	if r := resp.Results[0]; r.Outcome != app.OpRejected || r.Code != "invalid" || r.Detail != "attachment_id" {
		t.Errorf("forged message = %+v, want rejected invalid attachment_id", r)
	}
	if got, _, err := b.c.AttachmentChunk(ctx, tok, caseB, att.ID, 0); err == nil || bytes.Contains(data, got[:min(len(got), 64)]) && len(got) > 0 {
		t.Errorf("chunk through the other clinic's case: %d bytes, %v; want refused", len(got), err)
	}
	b.mustSync() // pulls its case and fetches what its messages describe
	if _, got, err := b.cases.AttachmentData(ctx, b.sess, caseB, att.ID); err == nil || bytes.Equal(got, data) {
		t.Fatalf("Barnmottagningen opens Centrum's attachment through its own case: %d bytes, %v", len(got), err)
	}

	a2 := newDesktop(t, ce, "")
	a2.signIn(ce.staff(demo.StaffReceiver), centrum)
	a2.mustSync()
	if _, got, err := a2.cases.AttachmentData(ctx, a2.sess, caseA, att.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Centrum's second desktop opens its attachment: %v", err)
	}
}
