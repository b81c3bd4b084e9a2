package server

import (
	"context"
	stdsync "sync"
	"time"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/storage"
)

// Gate is the server's store: the bbolt store with every write method
// behind a shared lock that an online backup or a register import takes
// exclusively. While it is held no write transaction is open, so the
// database file on disk is a consistent, committed state (bbolt writes
// pages and then the meta page, with fsync, before Commit returns) and can
// be copied byte for byte; reads go on meanwhile.
//
// Why not bbolt's Tx.WriteTo: storage.Store does not expose its *bolt.DB,
// and this package may not change storage (see the report: a
// Store.WriteBackup method would make the gate unnecessary for backups).
// A write method added to storage later and not listed here would bypass
// the gate; TestGateCoversEveryWrite fails when that happens.
type Gate struct {
	*storage.Store
	mu stdsync.RWMutex
}

// NewGate wraps store.
func NewGate(store *storage.Store) *Gate { return &Gate{Store: store} }

var (
	_ app.Store  = (*Gate)(nil)
	_ app.Outbox = (*Gate)(nil)
)

// Exclusive runs fn while no write can start or is in flight.
func (g *Gate) Exclusive(fn func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return fn()
}

// w takes the shared lock for one write; inside a Batch, which holds it
// for all its writes, it takes nothing (a second read lock could wait
// behind a waiting Exclusive forever).
func (g *Gate) w(ctx context.Context) func() {
	if storage.InBatch(ctx) {
		return func() {}
	}
	g.mu.RLock()
	return g.mu.RUnlock
}

// Batch runs fn's writes in one transaction (storage.Store.Batch) under
// the shared lock.
func (g *Gate) Batch(ctx context.Context, fn func(ctx context.Context) error) error {
	defer g.w(ctx)()
	return g.Store.Batch(ctx, fn)
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

// Connect and DropOps belong to a connected desktop, never the server;
// gated all the same so that no write can slip past a backup.
func (g *Gate) Connect(ctx context.Context, deviceID string) error {
	defer g.w(ctx)()
	return g.Store.Connect(ctx, deviceID)
}

// DropOps is gated like Connect.
func (g *Gate) DropOps(ctx context.Context, ids []string) error {
	defer g.w(ctx)()
	return g.Store.DropOps(ctx, ids)
}

// Unlock may rewrite the file (sealing a plain database): gated.
func (g *Gate) Unlock(ctx context.Context, staffID app.ID, password string) error {
	defer g.w(ctx)()
	return g.Store.Unlock(ctx, staffID, password)
}

// UnlockWithServerKey may rewrite the file (sealing a plain database): gated.
func (g *Gate) UnlockWithServerKey(ctx context.Context, key []byte) (bool, error) {
	defer g.w(ctx)()
	return g.Store.UnlockWithServerKey(ctx, key)
}

// RewrapServerKey is gated like Unlock.
func (g *Gate) RewrapServerKey(ctx context.Context, key []byte) error {
	defer g.w(ctx)()
	return g.Store.RewrapServerKey(ctx, key)
}

// RemoveKeyHolder is gated like Unlock.
func (g *Gate) RemoveKeyHolder(ctx context.Context, staffID app.ID) error {
	defer g.w(ctx)()
	return g.Store.RemoveKeyHolder(ctx, staffID)
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

// The writes of a connected desktop, never the server's; gated like
// Connect so that no write can slip past a backup.

// UpdateFromServer is gated like Connect.
func (g *Gate) UpdateFromServer(ctx context.Context, ch *app.SyncChanges, cursor string) error {
	defer g.w(ctx)()
	return g.Store.UpdateFromServer(ctx, ch, cursor)
}

// FinishPull is gated like UpdateFromServer.
func (g *Gate) FinishPull(ctx context.Context) error {
	defer g.w(ctx)()
	return g.Store.FinishPull(ctx)
}

// DropAnsweredOps is gated like Connect.
func (g *Gate) DropAnsweredOps(ctx context.Context, rs []app.OpResult, ch *app.SyncChanges) error {
	defer g.w(ctx)()
	return g.Store.DropAnsweredOps(ctx, rs, ch)
}

// DeleteSyncProblem is gated like Connect.
func (g *Gate) DeleteSyncProblem(ctx context.Context, staff app.ID, opID string) error {
	defer g.w(ctx)()
	return g.Store.DeleteSyncProblem(ctx, staff, opID)
}

// SetSyncServer is gated like Connect.
func (g *Gate) SetSyncServer(ctx context.Context, url, pin string) error {
	defer g.w(ctx)()
	return g.Store.SetSyncServer(ctx, url, pin)
}

// SetSyncPin is gated like Connect (a desktop's; listed so that every
// write of the store is).
func (g *Gate) SetSyncPin(ctx context.Context, pin string) error {
	defer g.w(ctx)()
	return g.Store.SetSyncPin(ctx, pin)
}

// SetSyncNextPin is gated like Connect.
func (g *Gate) SetSyncNextPin(ctx context.Context, raw []byte) error {
	defer g.w(ctx)()
	return g.Store.SetSyncNextPin(ctx, raw)
}

// SetSyncToken is gated like Connect.
func (g *Gate) SetSyncToken(ctx context.Context, tok string) error {
	defer g.w(ctx)()
	return g.Store.SetSyncToken(ctx, tok)
}

// PutResidentsFromServer is gated like Connect.
func (g *Gate) PutResidentsFromServer(ctx context.Context, rs []app.Resident) error {
	defer g.w(ctx)()
	return g.Store.PutResidentsFromServer(ctx, rs)
}

// The data key's other wraps (storage/keys.go) are desktop-only writes,
// gated like Unlock.

// NewDeviceEscrow is gated like Unlock.
func (g *Gate) NewDeviceEscrow(ctx context.Context) (string, []byte, []byte, error) {
	defer g.w(ctx)()
	return g.Store.NewDeviceEscrow(ctx)
}

// ConfirmDeviceEscrow is gated like Unlock.
func (g *Gate) ConfirmDeviceEscrow(ctx context.Context, id string) error {
	defer g.w(ctx)()
	return g.Store.ConfirmDeviceEscrow(ctx, id)
}

// UnlockWithDeviceEscrow is gated like Unlock.
func (g *Gate) UnlockWithDeviceEscrow(ctx context.Context, staffID app.ID, password, id string, key []byte) error {
	defer g.w(ctx)()
	return g.Store.UnlockWithDeviceEscrow(ctx, staffID, password, id, key)
}

// KeyringAccount is gated like Unlock (it may write the account's id).
func (g *Gate) KeyringAccount(ctx context.Context, staffID app.ID) (string, error) {
	defer g.w(ctx)()
	return g.Store.KeyringAccount(ctx, staffID)
}

// WrapForSecret is gated like Unlock.
func (g *Gate) WrapForSecret(ctx context.Context, staffID app.ID, secret []byte) error {
	defer g.w(ctx)()
	return g.Store.WrapForSecret(ctx, staffID, secret)
}

// UnlockWithSecret is gated like Unlock.
func (g *Gate) UnlockWithSecret(ctx context.Context, staffID app.ID, password string, secret []byte) error {
	defer g.w(ctx)()
	return g.Store.UnlockWithSecret(ctx, staffID, password, secret)
}

// PruneStagedChunks is gated like PruneAppliedOps.
func (g *Gate) PruneStagedChunks(ctx context.Context, before time.Time) (int, error) {
	defer g.w(ctx)()
	return g.Store.PruneStagedChunks(ctx, before)
}
