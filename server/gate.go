package server

import (
	"context"
	stdsync "sync"
	"time"

	"mottagning/app"
	"mottagning/app/form"
)

// Gate is the server's store: the Store with every write method behind a
// shared lock that an online backup or a register import takes
// exclusively. While it is held no write transaction of this process is
// open, so a bbolt file on disk is a consistent, committed state (bbolt
// writes pages and then the meta page, with fsync, before Commit returns)
// and can be copied byte for byte; reads go on meanwhile. On PostgreSQL
// the lock is per node and the database's own transactions and backups
// (pg_dump, base backups) give consistency; the gate is harmless there.
//
// A write method added to Store and not overridden here would bypass the
// gate; TestGateCoversEveryWrite fails when that happens.
type Gate struct {
	Store
	mu stdsync.RWMutex
}

// NewGate wraps store.
func NewGate(store Store) *Gate { return &Gate{Store: store} }

var (
	_ app.Store  = (*Gate)(nil)
	_ app.Outbox = (*Gate)(nil)
	_ Store      = (*Gate)(nil)
)

// Exclusive runs fn while no write can start or is in flight.
func (g *Gate) Exclusive(fn func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return fn()
}

// gateHeld marks a context inside Gate.Batch, which holds the shared lock
// for all its writes.
type gateHeld struct{}

// w takes the shared lock for one write; inside a Batch, which holds it
// for all its writes, it takes nothing (a second read lock could wait
// behind a waiting Exclusive forever).
func (g *Gate) w(ctx context.Context) func() {
	if ctx.Value(gateHeld{}) != nil {
		return func() {}
	}
	g.mu.RLock()
	return g.mu.RUnlock
}

// Batch runs fn's writes in one transaction (Store.Batch) under the
// shared lock.
func (g *Gate) Batch(ctx context.Context, fn func(ctx context.Context) error) error {
	defer g.w(ctx)()
	return g.Store.Batch(context.WithValue(ctx, gateHeld{}, true), fn)
}

// PutResident implements app.ResidentStore.
func (g *Gate) PutResident(ctx context.Context, r *app.Resident) error {
	defer g.w(ctx)()
	return g.Store.PutResident(ctx, r)
}

// PutResidents is the batched write of the register import and the demo seed.
func (g *Gate) PutResidents(ctx context.Context, rs []*app.Resident) error {
	defer g.w(ctx)()
	return g.Store.PutResidents(ctx, rs)
}

// UpdateResident implements app.ResidentStore.
func (g *Gate) UpdateResident(ctx context.Context, id app.ID, fn func(r *app.Resident) error) error {
	defer g.w(ctx)()
	return g.Store.UpdateResident(ctx, id, fn)
}

// CreateThread implements app.CaseStore.
func (g *Gate) CreateThread(ctx context.Context, t *app.Thread, w app.Write) error {
	defer g.w(ctx)()
	return g.Store.CreateThread(ctx, t, w)
}

// ImportThreads implements app.CaseStore.
func (g *Gate) ImportThreads(ctx context.Context, ts []app.Thread) error {
	defer g.w(ctx)()
	return g.Store.ImportThreads(ctx, ts)
}

// UpdateThread implements app.CaseStore.
func (g *Gate) UpdateThread(ctx context.Context, id app.ID, w app.Write, fn func(t *app.Thread) error) error {
	defer g.w(ctx)()
	return g.Store.UpdateThread(ctx, id, w, fn)
}

// PutClinic implements app.DirectoryStore.
func (g *Gate) PutClinic(ctx context.Context, c *app.Clinic) error {
	defer g.w(ctx)()
	return g.Store.PutClinic(ctx, c)
}

// PutStaff implements app.DirectoryStore.
func (g *Gate) PutStaff(ctx context.Context, s *app.Staff) error {
	defer g.w(ctx)()
	return g.Store.PutStaff(ctx, s)
}

// PutTemplate implements app.DirectoryStore.
func (g *Gate) PutTemplate(ctx context.Context, t *app.MessageTemplate) error {
	defer g.w(ctx)()
	return g.Store.PutTemplate(ctx, t)
}

// PutEService implements app.DirectoryStore.
func (g *Gate) PutEService(ctx context.Context, e *app.EService) error {
	defer g.w(ctx)()
	return g.Store.PutEService(ctx, e)
}

// Record implements app.AccessLog.
func (g *Gate) Record(ctx context.Context, e app.AccessEntry) error {
	defer g.w(ctx)()
	return g.Store.Record(ctx, e)
}

// PutFormSeries implements app.FormStore (e-service form versions).
func (g *Gate) PutFormSeries(ctx context.Context, fs *form.Series) error {
	defer g.w(ctx)()
	return g.Store.PutFormSeries(ctx, fs)
}

// CheckpointAccessLog signs the access log's head (storage).
func (g *Gate) CheckpointAccessLog(ctx context.Context) (app.Checkpoint, error) {
	defer g.w(ctx)()
	return g.Store.CheckpointAccessLog(ctx)
}

// PruneAccessLog removes access-log entries past the retention time (storage).
func (g *Gate) PruneAccessLog(ctx context.Context, now time.Time) (int, error) {
	defer g.w(ctx)()
	return g.Store.PruneAccessLog(ctx, now)
}

// PutCredential implements app.CredentialStore.
func (g *Gate) PutCredential(ctx context.Context, c *app.Credential) error {
	defer g.w(ctx)()
	return g.Store.PutCredential(ctx, c)
}

// UpdateCredential implements app.CredentialStore.
func (g *Gate) UpdateCredential(ctx context.Context, staffID app.ID, fn func(c *app.Credential) error) error {
	defer g.w(ctx)()
	return g.Store.UpdateCredential(ctx, staffID, fn)
}

// UpdateNotifications implements app.Outbox (the dispatcher's writes).
func (g *Gate) UpdateNotifications(ctx context.Context, ids []app.ID, fn func(n *app.Notification) error) error {
	defer g.w(ctx)()
	return g.Store.UpdateNotifications(ctx, ids, fn)
}

// MarkDemo marks the database as demo data.
func (g *Gate) MarkDemo(ctx context.Context) error {
	defer g.w(ctx)()
	return g.Store.MarkDemo(ctx)
}

// outboxDepthLimit bounds the scan of a metrics scrape.
const outboxDepthLimit = 100000

// outboxDepth counts queued notifications per channel through the due
// index (at most outboxDepthLimit each).
func (g *Gate) outboxDepth(ctx context.Context) (map[app.Channel]int, error) {
	far := time.Now().AddDate(100, 0, 0)
	out := map[app.Channel]int{}
	for _, ch := range []app.Channel{app.ChannelSMS, app.ChannelEmail} {
		ns, err := g.Store.DueNotifications(ctx, ch, far, outboxDepthLimit)
		if err != nil {
			return nil, err
		}
		out[ch] = len(ns)
	}
	return out, nil
}

// SetChangeFeed turns the change feed on (server.New): gated.
func (g *Gate) SetChangeFeed(ctx context.Context) error {
	defer g.w(ctx)()
	return g.Store.SetChangeFeed(ctx)
}

// PutOpResult stores a sync op's result.
func (g *Gate) PutOpResult(ctx context.Context, r *app.OpResult) error {
	defer g.w(ctx)()
	return g.Store.PutOpResult(ctx, r)
}

// PruneAppliedOps forgets old sync op results.
func (g *Gate) PruneAppliedOps(ctx context.Context, before time.Time) (int, error) {
	defer g.w(ctx)()
	return g.Store.PruneAppliedOps(ctx, before)
}

// PruneStagedChunks is gated like PruneAppliedOps.
func (g *Gate) PruneStagedChunks(ctx context.Context, before time.Time) (int, error) {
	defer g.w(ctx)()
	return g.Store.PruneStagedChunks(ctx, before)
}

// OutboxClaimer is an outbox that several dispatchers share (every node
// of a PostgreSQL deployment runs one): notify.Claimer.
type OutboxClaimer interface {
	ClaimNotifications(ctx context.Context, ch app.Channel, now time.Time, lease time.Duration, limit int) ([]app.Notification, error)
}

// ClaimNotifications claims a batch of due notifications for this node's
// dispatcher when the store is shared (notify.Claimer), behind the gate
// like every write; on a store of one node it is DueNotifications.
func (g *Gate) ClaimNotifications(ctx context.Context, ch app.Channel, now time.Time, lease time.Duration, limit int) ([]app.Notification, error) {
	c, ok := g.Store.(OutboxClaimer)
	if !ok {
		return g.Store.DueNotifications(ctx, ch, now, limit)
	}
	defer g.w(ctx)()
	return c.ClaimNotifications(ctx, ch, now, lease, limit)
}
