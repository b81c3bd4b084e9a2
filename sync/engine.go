package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	stdsync "sync"
	"time"

	"mottagning/app"
)

// Replica is the connected desktop's store as the engine uses it
// (storage.Store implements it).
type Replica interface {
	PendingOps(ctx context.Context, limit int) ([]app.SyncOp, error)
	// PendingOpsOf is PendingOps of the ops staff made ("" : all); a push
	// sends only those of the staff member it signs in as.
	PendingOpsOf(ctx context.Context, staff app.ID, limit int) ([]app.SyncOp, error)
	PendingCount(ctx context.Context) (int, error)
	// SyncPosition is the staff member the desktop syncs as (the owner
	// of the refresh token; "" while unknown) and their pull cursor.
	SyncPosition() (staff app.ID, cursor string)
	// ApplyAnswers stores the answers with the server's state of their
	// cases and drops the answered ops, in one transaction; staff's
	// cursor moves with them only while the desktop still syncs as staff.
	// It reports the cases it wrote or removed, once committed.
	ApplyAnswers(ctx context.Context, staff app.ID, results []app.OpResult, state *app.SyncChanges) (app.ServerChange, error)
	// ApplyPulledPage applies a page staff pulled and their cursor in one
	// transaction (nothing when the desktop syncs as someone else by
	// now), and reports the cases it wrote or removed, once committed.
	ApplyPulledPage(ctx context.Context, staff app.ID, ch *app.SyncChanges, cursor string) (app.ServerChange, error)
	// FinishPull ends a complete pull (after a first sync: builds the
	// case indexes its pages left out).
	FinishPull(ctx context.Context) error
	SyncProblems(ctx context.Context) ([]app.SyncProblem, error)
	// DeleteSyncProblem removes a problem its maker dismissed (another
	// staff member's is app.ErrForbidden).
	DeleteSyncProblem(ctx context.Context, staff app.ID, opID string) error
	AttachmentData(ctx context.Context, caseID, id app.ID) ([]byte, error)
}

// Remote is the server's sync API (client.Client implements it). An
// error that is an API answer has a StatusCode method; any other error
// means the server was not reached.
type Remote interface {
	SyncPush(ctx context.Context, token string, req *PushRequest) (*PushResponse, error)
	SyncPull(ctx context.Context, token, cursor string, limit int) (*PullResponse, error)
	SyncEvents(ctx context.Context, token, after string) (*EventsResponse, error)
}

// TokenSource gives the access token to call the server with.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	// Invalidate drops a token the server refused (401).
	Invalidate(token string)
}

// Options configure an Engine.
type Options struct {
	Replica  Replica
	Remote   Remote
	Tokens   TokenSource
	DeviceID string
	Clock    app.Clock
	Log      *slog.Logger
	// PullLimit is the records per pulled page (default DefaultPullLimit).
	PullLimit int
	// PushOps is the most ops per push (default MaxPushOps).
	PushOps int
	// Poll is how often the engine syncs without being woken (default 30 s).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed sync
	// (defaults DefaultMinBackoff and DefaultMaxBackoff); it doubles per
	// failure, with jitter, and never exceeds MaxBackoff: the first try
	// after the server is back comes within MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// AnsweredMaxBackoff bounds the wait instead when the failure is not
	// the server being out of reach but an answer that trying again soon
	// will not change (a refusal, a sign-in needed, a server error, a
	// certificate that is not the pinned one): default
	// DefaultAnsweredMaxBackoff. A local change or a sign-in still wakes
	// the engine at once.
	AnsweredMaxBackoff time.Duration
	// NetPoll is how often the engine looks at the machine's network
	// addresses; a change (a cable in, Wi-Fi back, a VPN up) wakes it at
	// once. Default DefaultNetPoll; negative turns it off.
	NetPoll time.Duration
	// NetAddrs replaces the look at the network addresses (tests).
	NetAddrs func() ([]string, error)
	// Pins keeps the pinned certificate current across a rotation the
	// server announced (nil: a changed certificate only stops the sync).
	Pins CertPins
	// NoEvents turns the server's wake-ups off (tests that drive SyncOnce).
	NoEvents bool
	// OnChange is told, after each committed page or push answer, which
	// cases it wrote or removed (app.CaseService.ServerChanged: the case
	// lists follow, and it decides whether a new reply raises the desktop
	// alert). It runs before the status moves (Status.Changes), so a list
	// read on that notification sees the change.
	OnChange func(ctx context.Context, ch app.ServerChange) error
}

// CertPins keeps a pinned desktop's pin current across a rotation of the
// server's certificate (docs/sync.md, Operations; client/connect.Pins).
type CertPins interface {
	// Check asks the server for the announcement of its next certificate
	// and keeps a valid one. It is called after every successful sync and
	// decides itself how often to ask.
	Check(ctx context.Context)
	// Repin is called when the server presented another certificate than
	// the pinned one (ErrPinMismatch). It moves the pin when that
	// certificate is the one announced and signed by the pinned
	// certificate's key, and reports whether it did.
	Repin(ctx context.Context) (bool, error)
}

// Status is what the status bar, the first-sync progress bar and the list
// of pending and rejected changes show.
type Status struct {
	// Online: the last attempt reached the server.
	Online bool
	// Syncing: a push or pull is running now.
	Syncing bool
	// FirstSync: the desktop has never finished a pull; Progress is 0..1.
	FirstSync bool
	Progress  float64
	// FirstCases is the number of cases the first pull has brought so far,
	// and FirstStarted when it began (zero before): the first-run screen
	// and the status bar show the count and the time left.
	FirstCases   int
	FirstStarted time.Time
	// Pending is the number of local changes not yet answered by the server.
	Pending int
	// LastSync is the end of the last complete sync (zero: never).
	LastSync time.Time
	// LastError is a Swedish text for the last failure, "" when none.
	LastError string
	// SignInNeeded: the server wants a new online sign-in (the refresh
	// token is gone or expired); changes stay queued meanwhile.
	SignInNeeded bool
	// Rejected and Conflicts are the ops the server did not apply as made,
	// with the reason or the server's values, until dismissed (Dismiss):
	// every staff member's; each sees their own (app.SyncOp.MadeBy).
	Rejected  []app.SyncProblem
	Conflicts []app.SyncProblem
	// Changes counts the sync writes that changed cases on this desktop;
	// the case lists read themselves again when it moves.
	Changes uint64
	// ExportPath: the server revoked this device, and its unpushed
	// changes were exported to this file (revoked.go).
	ExportPath string
}

// The engine's waits after a failed sync, and its look at the network.
// Issue 14: staff expect their queued work to go within seconds of the
// server being back, and a wait of up to a minute read as "lost". Five
// seconds between tries of one desktop costs the server little: a refused
// connection or a health answer, and the jitter spreads desktops coming
// back together.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 4 * time.Second
	// DefaultAnsweredMaxBackoff: a desktop whose server refuses it (or
	// whose certificate check fails, each try a re-pin handshake) asks
	// once a minute, not every four seconds.
	DefaultAnsweredMaxBackoff = time.Minute
	DefaultNetPoll            = 3 * time.Second
)

// Engine is a connected desktop's background sync: it pushes the queued
// ops, pulls the changes of its clinics, and waits for the next change,
// local or on the server, with backoff while the server cannot be reached.
type Engine struct {
	opt  Options
	kick chan struct{}
	// cycle keeps one push/pull at a time (Serve and SyncOnce callers).
	cycle stdsync.Mutex

	mu   stdsync.Mutex
	st   Status
	head string
	subs map[chan struct{}]struct{}
	// changedAt is the Status.Changes of the last sync write of each case
	// (CaseChanged); allAt that of the last write that may have changed
	// every case.
	changedAt map[app.ID]uint64
	allAt     uint64
}

// New returns an engine; start it with Serve.
func New(opt Options) *Engine {
	if opt.Clock == nil {
		opt.Clock = app.SystemClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.PullLimit <= 0 {
		opt.PullLimit = DefaultPullLimit
	}
	if opt.PushOps <= 0 || opt.PushOps > MaxPushOps {
		opt.PushOps = MaxPushOps
	}
	if opt.Poll <= 0 {
		opt.Poll = 30 * time.Second
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = DefaultMinBackoff
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = DefaultMaxBackoff
	}
	opt.MinBackoff = min(opt.MinBackoff, opt.MaxBackoff)
	if opt.AnsweredMaxBackoff <= 0 {
		opt.AnsweredMaxBackoff = DefaultAnsweredMaxBackoff
	}
	opt.AnsweredMaxBackoff = max(opt.AnsweredMaxBackoff, opt.MaxBackoff)
	if opt.NetPoll == 0 {
		opt.NetPoll = DefaultNetPoll
	}
	if opt.NetAddrs == nil {
		opt.NetAddrs = netAddrs
	}
	e := &Engine{opt: opt, kick: make(chan struct{}, 1), subs: map[chan struct{}]struct{}{}}
	_, cursor := opt.Replica.SyncPosition()
	e.st.FirstSync = cursor == ""
	return e
}

// Kick wakes the engine: a local change was queued (storage.Store.OnQueued).
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Status returns the current status.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.st
	st.Rejected = append([]app.SyncProblem(nil), st.Rejected...)
	st.Conflicts = append([]app.SyncProblem(nil), st.Conflicts...)
	return st
}

// Subscribe returns a channel that receives (coalesced) whenever the status
// or the replica's data changed, and a function that ends the subscription.
// The UI re-reads Status and its lists on each receive (through fyne.Do).
func (e *Engine) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	e.mu.Lock()
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		delete(e.subs, ch)
		e.mu.Unlock()
	}
}

// Pending lists the queued ops, oldest first (the visible outbox).
func (e *Engine) Pending(ctx context.Context, limit int) ([]app.SyncOp, error) {
	return e.opt.Replica.PendingOps(ctx, limit)
}

// Dismiss removes a rejected or conflicting op, with any text it kept,
// from the list, for the staff member who made it (app.SyncOp.MadeBy);
// another's is refused with app.ErrForbidden.
func (e *Engine) Dismiss(ctx context.Context, staff app.ID, opID string) error {
	if err := e.opt.Replica.DeleteSyncProblem(ctx, staff, opID); err != nil {
		return err
	}
	e.refresh(ctx)
	return nil
}

func (e *Engine) changed() {
	for ch := range e.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (e *Engine) set(fn func(st *Status)) {
	e.mu.Lock()
	fn(&e.st)
	e.changed()
	e.mu.Unlock()
}

// refresh reads the pending count and the problems into the status.
func (e *Engine) refresh(ctx context.Context) {
	n, err := e.opt.Replica.PendingCount(ctx)
	if err != nil {
		return
	}
	ps, err := e.opt.Replica.SyncProblems(ctx)
	if err != nil {
		return
	}
	var rej, con []app.SyncProblem
	for _, p := range ps {
		if p.Result.Outcome == app.OpConflict {
			con = append(con, p)
		} else {
			rej = append(rej, p)
		}
	}
	e.set(func(st *Status) { st.Pending, st.Rejected, st.Conflicts = n, rej, con })
}

// Serve syncs until ctx ends: at start, when woken (a local change, a
// change on the server) and every Poll; after a failure it waits with
// backoff. It returns ctx's error.
func (e *Engine) Serve(ctx context.Context) error {
	e.refresh(ctx)
	if !e.opt.NoEvents {
		ectx, cancel := context.WithCancel(ctx)
		defer cancel()
		go e.events(ectx)
	}
	if e.opt.NetPoll > 0 {
		nctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go watchNetwork(nctx, e.opt.NetPoll, e.opt.NetAddrs, e.Kick)
	}
	failures := 0
	for {
		err := e.SyncOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := e.opt.Poll
		if err != nil {
			failures++
			wait = e.backoffAfter(failures, err)
			e.opt.Log.Info("sync failed; retrying", "in", wait.Round(time.Millisecond).String(), "err", err)
		} else {
			failures = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-e.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// backoff is the wait after n failures in a row: doubling from MinBackoff
// up to MaxBackoff, less up to 25 % jitter so that many desktops coming
// back after an outage do not all call at once. The jitter only shortens
// the wait: MaxBackoff is the longest the engine stays away from a server
// that is back.
func (e *Engine) backoff(n int) time.Duration {
	return backoffUpTo(e.opt.MinBackoff, e.opt.MaxBackoff, n)
}

// backoffAfter is backoff after n failures, the last one err: up to
// MaxBackoff while the server is out of reach (or a proxy says its
// backend is: 502, 503, 504), up to AnsweredMaxBackoff when it answered
// with something a quick retry does not change.
func (e *Engine) backoffAfter(n int, err error) time.Duration {
	if retrySoon(err) {
		return e.backoff(n)
	}
	return backoffUpTo(e.opt.MinBackoff, e.opt.AnsweredMaxBackoff, n)
}

// retrySoon: err means the server is not reachable now, which may end
// any second.
func retrySoon(err error) bool {
	switch statusOf(err) {
	case 502, 503, 504:
		return true
	}
	return Offline(err) && !errors.Is(err, ErrPinMismatch)
}

func backoffUpTo(minWait, maxWait time.Duration, n int) time.Duration {
	d := minWait
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	j := time.Duration(rand.Int64N(int64(d)/4 + 1))
	return max(d-j, time.Millisecond)
}

// events long-polls the server's change head and wakes the engine when it
// moves; it backs off on failure (Serve's own attempts decide Online).
func (e *Engine) events(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		e.mu.Lock()
		after := e.head
		e.mu.Unlock()
		var resp *EventsResponse
		err := e.call(ctx, func(tok string) (err error) {
			resp, err = e.opt.Remote.SyncEvents(ctx, tok, after)
			return err
		})
		if err != nil {
			failures++
			t := time.NewTimer(e.backoffAfter(failures, err))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		failures = 0
		if resp.Changed {
			e.mu.Lock()
			e.head = resp.Head
			e.mu.Unlock()
			e.Kick()
		}
	}
}

// apiError is an answer of the server (client.Error).
type apiError interface{ StatusCode() int }

// Offline reports whether err means the server was not reached (as
// opposed to an answer from it).
func Offline(err error) bool {
	var ae apiError
	return err != nil && !errors.As(err, &ae) && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrSignInNeeded)
}

func statusOf(err error) int {
	var ae apiError
	if errors.As(err, &ae) {
		return ae.StatusCode()
	}
	return 0
}

// call runs fn with a token, once more with a fresh one after a 401.
func (e *Engine) call(ctx context.Context, fn func(tok string) error) error {
	for try := 0; ; try++ {
		tok, err := e.opt.Tokens.Token(ctx)
		if err != nil {
			return err
		}
		err = fn(tok)
		if statusOf(err) == 401 && try == 0 {
			e.opt.Tokens.Invalidate(tok)
			continue
		}
		return err
	}
}

// SyncOnce pushes every queued op and then pulls every change, and
// records the outcome in the status.
func (e *Engine) SyncOnce(ctx context.Context) error {
	e.cycle.Lock()
	defer e.cycle.Unlock()
	e.set(func(st *Status) { st.Syncing = true })
	err := e.exchange(ctx)
	if errors.Is(err, ErrPinMismatch) && e.opt.Pins != nil {
		// The server may have switched to the certificate it announced.
		ok, rerr := e.opt.Pins.Repin(ctx)
		if rerr != nil {
			e.opt.Log.Warn("sync: server certificate changed; no rotation applies", "err", rerr)
		}
		if ok {
			err = e.exchange(ctx)
		}
	}
	if err == nil && e.opt.Pins != nil {
		e.opt.Pins.Check(ctx)
	}
	err = e.revoked(ctx, err) // a revoked device exports its queue (revoked.go)
	e.refresh(ctx)
	now := e.opt.Clock.Now()
	if err == nil {
		// The end of a first sync is worth a line (counts, never content).
		e.mu.Lock()
		first, n, began := e.st.FirstSync, e.st.FirstCases, e.st.FirstStarted
		e.mu.Unlock()
		if first {
			e.opt.Log.Info("sync: first sync done", "cases", n, "seconds", now.Sub(began).Round(time.Millisecond).Seconds())
		}
	}
	e.set(func(st *Status) {
		st.Syncing = false
		st.SignInNeeded = errors.Is(err, ErrSignInNeeded)
		st.Online = err == nil || !Offline(err)
		st.LastError = Message(err)
		if err == nil {
			st.LastSync, st.FirstSync, st.Progress = now, false, 1
		}
	})
	return err
}

// exchange is one push and pull with a token.
func (e *Engine) exchange(ctx context.Context) error {
	// A token first: a new online sign-in's owner is stored with it, and
	// push and pull then read whose cursor they work on (SyncPosition).
	_, err := e.opt.Tokens.Token(ctx)
	if err == nil {
		err = e.push(ctx)
	}
	if err == nil {
		err = e.pull(ctx)
	}
	return err
}

// push sends the queued ops in batches, in queue order, and stores each
// answer before the next batch. Only the ops of the staff member the
// desktop syncs as go (a colleague's wait for their own sign-in: the
// server takes a reply, a note or an access entry only from its maker).
func (e *Engine) push(ctx context.Context) error {
	for {
		owner, _ := e.opt.Replica.SyncPosition()
		ops, err := e.opt.Replica.PendingOpsOf(ctx, owner, e.opt.PushOps)
		if err != nil {
			return fmt.Errorf("sync push: read queue: %w", err)
		}
		if len(ops) == 0 {
			return nil
		}
		batch, size := make([]app.SyncOp, 0, len(ops)), 0
		for _, op := range ops {
			if op.Kind == app.OpAttachmentPut {
				// Its chunks go up first (attach), which needs its
				// message on the server: the ops before it go first.
				if len(batch) > 0 {
					break
				}
				var err error
				if op, err = e.attach(ctx, op); err != nil {
					return err
				}
			}
			if len(batch) > 0 && size+len(op.Payload) > PushBudget {
				break
			}
			batch, size = append(batch, op), size+len(op.Payload)
		}
		staff, cursor := e.opt.Replica.SyncPosition()
		var resp *PushResponse
		err = e.call(ctx, func(tok string) (err error) {
			// No device id: the token names the device (a desktop that
			// registered anew since it started would name a stale one).
			resp, err = e.opt.Remote.SyncPush(ctx, tok, &PushRequest{Ops: batch, Cursor: cursor})
			return err
		})
		if err != nil {
			return fmt.Errorf("sync push of %d ops: %w", len(batch), err)
		}
		if len(resp.Results) == 0 {
			return fmt.Errorf("sync push: the server answered no op")
		}
		changed, err := e.opt.Replica.ApplyAnswers(ctx, staff, resp.Results, resp.State)
		if err != nil {
			return fmt.Errorf("sync push: store answers: %w", err)
		}
		if len(changed.Cases) > 0 {
			e.report(ctx, changed)
		}
		e.refresh(ctx)
		if len(resp.Results) < len(batch) {
			return fmt.Errorf("sync push: the server answered %d of %d ops", len(resp.Results), len(batch))
		}
	}
}

// pull applies pages until the server has no more. Fetching and
// decoding the next page runs while the current one is applied (one page
// ahead, so at most two pages are in memory); the pages are still applied
// in order, each with its cursor in one transaction.
func (e *Engine) pull(ctx context.Context) error {
	// The pull is the staff member's the desktop syncs as now, from their
	// cursor; a page is applied only while it still syncs as them.
	staff, cursor := e.opt.Replica.SyncPosition()
	// A first pull brings every case: none of them is a new reply.
	first := cursor == ""
	// deferred: a first sync's pages went to deferred case indexes; the
	// lists are read anew once FinishPull has built them.
	deferred := false
	{
		now := e.opt.Clock.Now()
		e.set(func(st *Status) {
			if st.FirstSync && st.FirstStarted.IsZero() {
				st.FirstStarted = now
			}
		})
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type page struct {
		resp  *PullResponse
		after string
		err   error
	}
	pages := make(chan page)
	go func() {
		defer close(pages)
		after := cursor
		for {
			var resp *PullResponse
			err := e.call(pctx, func(tok string) (err error) {
				resp, err = e.opt.Remote.SyncPull(pctx, tok, after, e.opt.PullLimit)
				return err
			})
			select {
			case pages <- page{resp, after, err}:
			case <-pctx.Done():
				return
			}
			if err != nil || !resp.More {
				return
			}
			after = resp.Cursor
		}
	}()
	for p := range pages {
		if p.err != nil {
			return fmt.Errorf("sync pull after %q: %w", p.after, p.err)
		}
		resp := p.resp
		if resp.After != p.after && (resp.After != "" || p.after != "") {
			// An answer to another request (a proxy's mix-up): applying it
			// could skip changes. Nothing is applied; the next sync asks again.
			return fmt.Errorf("sync pull after %q: the page answers cursor %q", p.after, resp.After)
		}
		if err := e.wantAttachments(ctx, resp.Changes.Threads); err != nil {
			return err
		}
		changed, err := e.opt.Replica.ApplyPulledPage(ctx, staff, &resp.Changes, resp.Cursor)
		if err != nil {
			return fmt.Errorf("sync pull: apply page: %w", err)
		}
		if changed.Deferred {
			deferred = true
		} else if len(changed.Cases) > 0 {
			changed.First = first
			e.report(ctx, changed)
		}
		c, _ := strconv.ParseFloat(resp.Cursor, 64)
		h, _ := strconv.ParseFloat(resp.Head, 64)
		e.mu.Lock()
		if e.head == "" || h > mustFloat(e.head) {
			e.head = resp.Head
		}
		e.mu.Unlock()
		e.set(func(st *Status) {
			if h > 0 {
				st.Progress = min(c/h, 1)
			}
			if st.FirstSync {
				st.FirstCases += len(resp.Changes.Threads)
			}
		})
	}
	if err := e.opt.Replica.FinishPull(ctx); err != nil {
		return fmt.Errorf("sync pull: build indexes: %w", err)
	}
	if deferred {
		e.report(ctx, app.ServerChange{All: true, First: true})
	}
	e.fetchAttachments(ctx)
	return nil
}

// report passes what a committed sync write changed among the cases to
// OnChange (the case lists, the reply alert), then moves Status.Changes.
// A failure there leaves the lists behind until the next change, but the
// data is committed: it is logged, and the sync goes on.
func (e *Engine) report(ctx context.Context, ch app.ServerChange) {
	if e.opt.OnChange != nil {
		if err := e.opt.OnChange(ctx, ch); err != nil {
			e.opt.Log.Warn("sync: case lists not brought up to date", "cases", len(ch.Cases), "err", err)
		}
	}
	e.mu.Lock()
	e.st.Changes++
	n := e.st.Changes
	if e.changedAt == nil {
		e.changedAt = map[app.ID]uint64{}
	}
	if ch.All || len(e.changedAt)+len(ch.Cases) > maxChangedCases {
		e.allAt = n
		clear(e.changedAt)
	} else {
		for _, id := range ch.Cases {
			e.changedAt[id] = n
		}
	}
	e.changed()
	e.mu.Unlock()
}

// maxChangedCases bounds the memory of CaseChanged; beyond it every case
// counts as changed (the open case view reads its case once more).
const maxChangedCases = 10000

// CaseChanged reports whether a sync write changed case id after the
// write that moved Status.Changes to since: an open case view reads its
// case again then, and only then.
func (e *Engine) CaseChanged(id app.ID, since uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.allAt > since || e.changedAt[id] > since
}

func mustFloat(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
