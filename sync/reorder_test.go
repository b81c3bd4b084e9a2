package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"

	msync "mottagning/sync"
)

// reorderNet is the network of the convergence test between the desktops
// and the server (one per run, shared by every desktop), below faults
// (down, dropped requests and answers). It changes the order in which
// requests reach the server and answers reach a desktop:
//
//   - hold: a push is kept back and the desktop sees a broken connection;
//     the network delivers the push later, after newer ones (the desktop
//     has pushed the same ops again meanwhile, and more), in any order
//     among the held ones, and its answer goes nowhere;
//   - dup: a push reaches the server and the desktop gets its answer, and
//     a copy reaches the server again later (an old push replayed);
//   - twin: a push reaches the server twice at the same time (a
//     retransmission racing the original);
//   - release: before a request, held pushes are delivered, one of them
//     at the same time as the request;
//   - late: a pull is answered by the server, and the answer is held
//     while other things happen (other desktops sync, the resident
//     replies, held pushes arrive, staff change things on this desktop),
//     so the page and its cursor are stale when they land;
//   - stale: a pull is answered, without reaching the server, with a page
//     this desktop was given earlier for the same or an older cursor (as a
//     cache or a proxy holding an old answer would: more than TLS lets a
//     network do; the protocol survives it, see reorderLink.recorded).
//
// Only push and pull requests are touched; sign-in, refresh and the rest
// pass straight through. Goroutines never draw from rnd except under mu,
// so that a seed gives the same choices when the timing allows it.
type reorderNet struct {
	mu   stdsync.Mutex
	rnd  *rand.Rand
	held []*heldReq
	calm bool // no new faults (healing); what is held waits for flush
	st   reorderStats

	pHold, pDup, pTwin, pRelease, pConcurrent, pLate, pStale float64

	// meanwhile runs while the answer of desktop desk's pull is held
	// (late); one at a time, never nested.
	meanwhile func(desk int)
	busy      atomic.Bool

	// trace is what the network did, in order, for the report of a
	// failing seed.
	trace []string
}

// reorderStats count what the network did in a run.
type reorderStats struct {
	Held, Dups, Twins, Delivered, Concurrent, Late, Stale int
}

func newReorderNet(seed uint64) *reorderNet {
	return &reorderNet{rnd: rand.New(rand.NewPCG(seed, 7)),
		pHold: 0.15, pDup: 0.2, pTwin: 0.08, pRelease: 0.3, pConcurrent: 0.2, pLate: 0.2, pStale: 0.08}
}

// link puts the network between desktop desk and the server: inner is
// the desktop's pinned transport (faults.inner).
func (n *reorderNet) link(desk int, inner http.RoundTripper) *reorderLink {
	return &reorderLink{net: n, desk: desk, inner: inner}
}

func (n *reorderNet) stats() reorderStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.st
}

// logf adds a line to the trace; mu is held.
func (n *reorderNet) logf(format string, args ...any) {
	if len(n.trace) < 2000 {
		n.trace = append(n.trace, fmt.Sprintf(format, args...))
	}
}

// note adds a line of the test's own to the trace.
func (n *reorderNet) note(format string, args ...any) {
	n.mu.Lock()
	n.logf(format, args...)
	n.mu.Unlock()
}

// Trace is what the network did, one line per event.
func (n *reorderNet) Trace() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.trace, "\n")
}

// describe names a request in the trace: a push by its ops.
func describe(desk int, method, url string, body []byte) string {
	var req msync.PushRequest
	if method != http.MethodPost || json.Unmarshal(body, &req) != nil {
		return fmt.Sprintf("desktop %d %s %s", desk, method, url[strings.Index(url, "/api/"):])
	}
	ops := make([]string, len(req.Ops))
	for i, op := range req.Ops {
		ops[i] = fmt.Sprintf("%s %s on %s", op.ID[:8], op.Kind, op.CaseID)
	}
	return fmt.Sprintf("desktop %d push [%s]", desk, strings.Join(ops, ", "))
}

func (n *reorderNet) setCalm(calm bool) {
	n.mu.Lock()
	n.calm = calm
	n.mu.Unlock()
}

// heldReq is a request the network holds, to deliver later.
type heldReq struct {
	name   string // in the trace
	link   *reorderLink
	method string
	url    string
	header http.Header
	body   []byte
}

// plan is what the network does with one request.
type plan struct {
	hold, dup, twin, late bool
	stale                 *recorded
	release               []*heldReq // delivered before the request
	together              *heldReq   // delivered at the same time as the request
}

type reqKind int

const (
	kindOther reqKind = iota
	kindPush
	kindPull
)

func kindOf(r *http.Request) reqKind {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/sync/push":
		return kindPush
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/sync/pull"):
		return kindPull
	}
	return kindOther
}

func (n *reorderNet) plan(l *reorderLink, kind reqKind, name string, after uint64) plan {
	n.mu.Lock()
	defer n.mu.Unlock()
	var p plan
	what := "sent"
	defer func() { n.logf("%s: %s", what, name) }()
	if n.calm {
		return p
	}
	if len(n.held) > 0 && n.rnd.Float64() < n.pRelease {
		p.release = append(p.release, n.take())
		n.logf("deliver held before the next: %s", p.release[0].name)
	}
	if len(n.held) > 0 && n.rnd.Float64() < n.pConcurrent {
		p.together = n.take()
		n.st.Concurrent++
		n.logf("deliver held at the same time as the next: %s", p.together.name)
	}
	switch kind {
	case kindPush:
		switch x := n.rnd.Float64(); {
		case x < n.pHold:
			p.hold, what = true, "held back"
			n.st.Held++
		case x < n.pHold+n.pDup:
			p.dup, what = true, "sent, copy kept for a replay"
			n.st.Dups++
		case x < n.pHold+n.pDup+n.pTwin:
			p.twin, what = true, "sent twice at once"
			n.st.Twins++
		}
	case kindPull:
		switch x := n.rnd.Float64(); {
		case x < n.pLate:
			p.late, what = true, "sent, answer held (late)"
			n.st.Late++
		case x < n.pLate+n.pStale:
			if pages := l.recorded(after); len(pages) > 0 {
				p.stale = pages[n.rnd.IntN(len(pages))]
				what = "answered with the page of an earlier request"
				n.st.Stale++
			}
		}
	}
	return p
}

// take removes a random held request; mu is held.
func (n *reorderNet) take() *heldReq {
	i := n.rnd.IntN(len(n.held))
	h := n.held[i]
	n.held = append(n.held[:i], n.held[i+1:]...)
	return h
}

func (n *reorderNet) keep(h *heldReq) {
	n.mu.Lock()
	n.held = append(n.held, h)
	n.mu.Unlock()
}

// releaseOne delivers one held request, if any.
func (n *reorderNet) releaseOne() {
	n.mu.Lock()
	var h *heldReq
	if len(n.held) > 0 {
		h = n.take()
	}
	n.mu.Unlock()
	if h != nil {
		n.mu.Lock()
		n.logf("deliver held: %s", h.name)
		n.mu.Unlock()
		n.deliver(h)
	}
}

// flush delivers every held request, in random order, two at a time.
func (n *reorderNet) flush() {
	for {
		n.mu.Lock()
		var hs []*heldReq
		for i := 0; i < 2 && len(n.held) > 0; i++ {
			hs = append(hs, n.take())
			n.logf("flush: deliver held: %s", hs[i].name)
		}
		n.mu.Unlock()
		if len(hs) == 0 {
			return
		}
		var wg stdsync.WaitGroup
		for _, h := range hs {
			wg.Add(1)
			go func() { defer wg.Done(); n.deliver(h) }()
		}
		wg.Wait()
	}
}

// deliver sends a held request to the server; nobody waits for the answer.
func (n *reorderNet) deliver(h *heldReq) {
	req, err := http.NewRequestWithContext(context.Background(), h.method, h.url, bytes.NewReader(h.body))
	if err != nil {
		panic(err) // made from a request that was valid
	}
	req.Header = h.header.Clone()
	if resp, err := h.link.inner.RoundTrip(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	n.mu.Lock()
	n.st.Delivered++
	n.mu.Unlock()
}

// late runs meanwhile for desktop desk, unless another one runs.
func (n *reorderNet) late(desk int) {
	if n.meanwhile == nil || !n.busy.CompareAndSwap(false, true) {
		return
	}
	defer n.busy.Store(false)
	n.meanwhile(desk)
}

// reorderLink is one desktop's way through the network.
type reorderLink struct {
	net   *reorderNet
	desk  int
	inner http.RoundTripper

	mu    stdsync.Mutex
	pages []*recorded // the last pull answers this desktop was given
}

// recorded is an answer as it came from the server; after is the
// cursor a pull asked with.
type recorded struct {
	after  uint64
	status int
	header http.Header
	body   []byte
}

// pullAfter is the cursor a pull asks with (the server's change
// sequence; "" is the start).
func pullAfter(r *http.Request) uint64 {
	n, _ := strconv.ParseUint(r.URL.Query().Get("cursor"), 10, 64)
	return n
}

func (rec *recorded) response(r *http.Request) *http.Response {
	return &http.Response{Status: http.StatusText(rec.status), StatusCode: rec.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header.Clone(), Body: io.NopCloser(bytes.NewReader(rec.body)), ContentLength: int64(len(rec.body)), Request: r}
}

// recorded returns the pages this desktop was given for a cursor no
// later than after. Never one for a later cursor: that page would skip
// the changes between the two cursors, which no client can notice (an
// answer does not say what it answers) and no network over TLS can do.
// A page for an earlier cursor only takes the desktop back: every record
// changed since has a later position and comes again.
func (l *reorderLink) recorded(after uint64) []*recorded {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*recorded
	for _, p := range l.pages {
		if p.after <= after {
			out = append(out, p)
		}
	}
	return out
}

func (l *reorderLink) remember(rec *recorded) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pages = append(l.pages, rec)
	if len(l.pages) > 12 {
		l.pages = l.pages[1:]
	}
}

func (l *reorderLink) RoundTrip(r *http.Request) (*http.Response, error) {
	kind := kindOf(r)
	if kind == kindOther {
		return l.inner.RoundTrip(r)
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	n := l.net
	name := describe(l.desk, r.Method, r.URL.String(), body)
	after := pullAfter(r)
	p := n.plan(l, kind, name, after)
	for _, h := range p.release {
		n.deliver(h)
	}
	var bg stdsync.WaitGroup
	defer bg.Wait()
	if p.together != nil {
		bg.Add(1)
		go func() { defer bg.Done(); n.deliver(p.together) }()
	}
	h := &heldReq{name: name, link: l, method: r.Method, url: r.URL.String(), header: r.Header.Clone(), body: body}
	switch {
	case p.hold:
		n.keep(h)
		return nil, errors.New("connection reset (test: request held back in the network)")
	case p.stale != nil:
		return p.stale.response(r), nil
	case p.twin:
		bg.Add(1)
		go func() { defer bg.Done(); n.deliver(h) }()
	}
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := l.inner.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	rec := &recorded{after: after, status: resp.StatusCode, header: resp.Header.Clone(), body: data}
	if p.dup {
		n.keep(h)
	}
	if kind == kindPull && rec.status == http.StatusOK {
		l.remember(rec)
	}
	if p.late {
		n.late(l.desk)
	}
	return rec.response(r), nil
}
