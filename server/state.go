package server

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"time"

	"mottagning/app"
)

// The state a node keeps beside its data: resident sessions, the
// per-address limits and the guardian → children index. On the bbolt
// store (one node) it lives in process memory, as it always has: a
// restart signs residents out. A store that implements the interfaces
// below (pgstore) keeps it in the database instead, so that every node
// behind a load balancer serves every request: a resident signed in
// through one node reads the inbox through another, and an address's
// limit counts its requests to all of them.

// ResidentSessionStore keeps resident sessions by the SHA-256 of their
// token (the token itself is never stored).
type ResidentSessionStore interface {
	PutResidentSession(ctx context.Context, key []byte, resident app.ID, expires time.Time) error
	// ResidentSession is the resident of a session that has not expired
	// at now; ok is false for none.
	ResidentSession(ctx context.Context, key []byte, now time.Time) (resident app.ID, ok bool, err error)
	DeleteResidentSession(ctx context.Context, key []byte) error
	DeleteResidentSessions(ctx context.Context, resident app.ID) error
	CountResidentSessions(ctx context.Context, now time.Time) (int, error)
}

// SessionResidentStore reads a session's resident with the session, in
// one query: a resident request then costs one lookup, not two.
type SessionResidentStore interface {
	SessionResident(ctx context.Context, key []byte, now time.Time) (*app.Resident, bool, error)
}

// RateLimitStore keeps token buckets: scope names the limit, key the
// client address.
type RateLimitStore interface {
	AllowRate(ctx context.Context, scope, key string, perMinute float64, burst int, now time.Time) (bool, error)
}

// KeyLocker holds a lock by name across every node of a shared database
// until unlock (a push of one device at a time: sync.go).
type KeyLocker interface {
	LockKey(ctx context.Context, key string) (unlock func(), err error)
}

// GuardianIndex finds the children whose guardian the register names.
type GuardianIndex interface {
	ChildrenOf(ctx context.Context, guardian app.ID) ([]app.ID, error)
}

// sessionKeeper is where the server keeps resident sessions.
type sessionKeeper interface {
	create(ctx context.Context, resident app.ID) (string, time.Time, error)
	lookup(ctx context.Context, tok string) (app.ID, bool, error)
	// lookupResident is lookup with the resident's record when the
	// keeper reads it in the same query (nil otherwise).
	lookupResident(ctx context.Context, tok string) (app.ID, *app.Resident, bool, error)
	end(ctx context.Context, tok string) error
	endAll(ctx context.Context, resident app.ID) error
	count() int
}

// dbSessions keeps resident sessions in a ResidentSessionStore.
type dbSessions struct {
	st    ResidentSessionStore
	clock app.Clock
	ttl   time.Duration
	log   *slog.Logger
}

func (d *dbSessions) create(ctx context.Context, resident app.ID) (string, time.Time, error) {
	tok := "r1." + randomToken(32)
	exp := d.clock.Now().Add(d.ttl)
	k := sha256.Sum256([]byte(tok))
	if err := d.st.PutResidentSession(ctx, k[:], resident, exp); err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

func (d *dbSessions) lookup(ctx context.Context, tok string) (app.ID, bool, error) {
	k := sha256.Sum256([]byte(tok))
	return d.st.ResidentSession(ctx, k[:], d.clock.Now())
}

func (d *dbSessions) lookupResident(ctx context.Context, tok string) (app.ID, *app.Resident, bool, error) {
	sr, ok := d.st.(SessionResidentStore)
	if !ok {
		id, found, err := d.lookup(ctx, tok)
		return id, nil, found, err
	}
	k := sha256.Sum256([]byte(tok))
	r, found, err := sr.SessionResident(ctx, k[:], d.clock.Now())
	if err != nil || !found {
		return "", nil, false, err
	}
	return r.ID, r, true, nil
}

func (d *dbSessions) end(ctx context.Context, tok string) error {
	k := sha256.Sum256([]byte(tok))
	return d.st.DeleteResidentSession(ctx, k[:])
}

func (d *dbSessions) endAll(ctx context.Context, resident app.ID) error {
	return d.st.DeleteResidentSessions(ctx, resident)
}

func (d *dbSessions) count() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := d.st.CountResidentSessions(ctx, d.clock.Now())
	if err != nil {
		d.log.Warn("resident sessions: count failed", "err", err)
		return 0
	}
	return n
}

// limiter is a per-address limit.
type limiter interface {
	allow(ctx context.Context, key string) bool
}

// dbLimits is a limit kept in a RateLimitStore; a failure to read it
// refuses the request (the database is down: so is everything else).
type dbLimits struct {
	st        RateLimitStore
	scope     string
	clock     app.Clock
	perMinute float64
	burst     int
	log       *slog.Logger
}

func (l *dbLimits) allow(ctx context.Context, key string) bool {
	ok, err := l.st.AllowRate(ctx, l.scope, key, l.perMinute, l.burst, l.clock.Now())
	if err != nil {
		l.log.Warn("rate limit: the database did not answer; refused", "limit", l.scope, "err", err)
		return false
	}
	return ok
}

// children is where the guardian → children index is.
type children interface {
	of(ctx context.Context, guardian app.ID) ([]app.ID, error)
	// reload rebuilds a memory index after a register import.
	reload(ctx context.Context) error
}

// dbChildren asks the store's GuardianIndex, which the store keeps with
// every resident it writes.
type dbChildren struct{ st GuardianIndex }

func (d dbChildren) of(ctx context.Context, g app.ID) ([]app.ID, error) {
	return d.st.ChildrenOf(ctx, g)
}
func (d dbChildren) reload(context.Context) error { return nil }

// memChildren is the memory index over a ResidentDirectory.
type memChildren struct {
	x   *childIndex
	st  ResidentDirectory
	log *slog.Logger
}

func (m memChildren) of(_ context.Context, g app.ID) ([]app.ID, error) { return m.x.of(g), nil }
func (m memChildren) reload(ctx context.Context) error                 { return m.x.load(ctx, m.st, m.log) }

// useState puts the node's state where the store says: in the database
// when the store keeps it, else in memory.
func (s *Server) useState(deps Deps) {
	if st, ok := deps.Store.(ResidentSessionStore); ok {
		s.sessions = &dbSessions{st: st, clock: deps.Clock, ttl: deps.ResidentTTL, log: deps.Logger}
	} else {
		s.sessions = newResidentSessions(deps.Clock, deps.ResidentTTL)
	}
	if st, ok := deps.Store.(RateLimitStore); ok {
		s.startLim = &dbLimits{st: st, scope: "resident_start", clock: deps.Clock, perMinute: float64(deps.ResidentStartPerMinute), burst: deps.ResidentStartPerMinute, log: deps.Logger}
		s.testLim = &dbLimits{st: st, scope: "test_notification", clock: deps.Clock, perMinute: float64(deps.TestNotifyPerMinute), burst: deps.TestNotifyPerMinute, log: deps.Logger}
	} else {
		s.startLim = newAddrLimits(deps.Clock, float64(deps.ResidentStartPerMinute), deps.ResidentStartPerMinute)
		s.testLim = newAddrLimits(deps.Clock, float64(deps.TestNotifyPerMinute), deps.TestNotifyPerMinute)
	}
	if st, ok := deps.Store.(GuardianIndex); ok {
		s.children = dbChildren{st: st}
	} else {
		s.children = memChildren{x: newChildIndex(), st: deps.Store, log: deps.Logger}
	}
}

// CaseFeed is a change feed other nodes write too (PostgreSQL): a node
// follows it to keep its in-memory case lists current (FollowFeed).
type CaseFeed interface {
	// ChangedCases lists the cases whose latest change lies after a feed
	// position, at most limit, and the position after them.
	ChangedCases(ctx context.Context, after uint64, limit int) ([]app.ID, uint64, error)
}

// FollowFeed brings the cases that other nodes change into this node's
// case lists (the index FindCases searches) until ctx ends: it waits on
// the feed's head (LISTEN/NOTIFY) and hands each batch of changed cases
// to the case service, as a desktop's sync does. A store of one node has
// no other writer: then it returns at once.
func (s *Server) FollowFeed(ctx context.Context) {
	cf, ok := s.store.(CaseFeed)
	if !ok {
		return
	}
	after := s.store.ChangeHead()
	for {
		head, err := s.store.WaitChange(ctx, after)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("case lists: the change feed did not answer", "err", err)
			continue
		}
		for after < head {
			ids, next, err := cf.ChangedCases(ctx, after, 1000)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("case lists: reading the change feed failed; retrying", "err", err)
					select {
					case <-time.After(time.Second):
					case <-ctx.Done():
						return
					}
				}
				break
			}
			if len(ids) > 0 {
				if err := s.cases.ServerChanged(ctx, app.ServerChange{Cases: ids}); err != nil {
					s.log.Warn("case lists: a change could not be read", "err", err)
				}
			}
			if next <= after {
				break
			}
			after = next
		}
	}
}
