package server

import (
	"context"
	"crypto/ed25519"
	"time"

	"mottagning/app"
)

// Store is everything the central server keeps, named for what it does.
// It has two implementations: storage.Store, the embedded bbolt file in
// --data (the default, one node), and pgstore.Store on PostgreSQL
// (--db postgres://…, several nodes on one database). The contract suite
// in storage/storetest runs on both. The server reaches it only through
// Gate, so that an online backup of a bbolt file sees no write in flight.
type Store interface {
	// The desktop's ports: residents, cases, directory, access log and
	// credentials (app.Store), the notification outbox, e-service forms.
	app.Store
	app.Outbox
	app.FormStore
	app.AccessLogAdmin
	ChangeFeed
	OpMemory
	ChunkStore
	ResidentDirectory

	// Batch runs fn's writes in one transaction: all of them or none.
	Batch(ctx context.Context, fn func(ctx context.Context) error) error
	// PutResidents writes many residents in few transactions (register
	// import, demo seed).
	PutResidents(ctx context.Context, rs []*app.Resident) error
	// MarkDemo marks the data as demo data; IsDemo reads the mark.
	MarkDemo(ctx context.Context) error
	IsDemo() bool
	// AccessLogPublicKey verifies the access log's signed checkpoints.
	AccessLogPublicKey() ed25519.PublicKey
	Close() error
}

// ChangeFeed is the server's log of changes that connected desktops pull
// (sync). Positions are in commit order: a reader that has seen position
// n has seen every change committed before it.
type ChangeFeed interface {
	// SetChangeFeed turns the feed on: from now on every write appends
	// its change in its own transaction.
	SetChangeFeed(ctx context.Context) error
	// ChangeHead is the position of the newest change.
	ChangeHead() uint64
	// WaitChange blocks until the head passes after or ctx ends, and
	// returns the head.
	WaitChange(ctx context.Context, after uint64) (uint64, error)
	// RecordChangesSince reads one page of changes after a position within
	// scope and writes the page's access-log entries in the same
	// transaction; prepare sees the page before the write commits and may
	// refuse it.
	RecordChangesSince(ctx context.Context, after uint64, limit int, scope *app.PullScope, raw bool,
		prepare func(page *app.SyncChanges, next uint64, more bool) error) (*app.SyncChanges, uint64, bool, error)
	// PushState is the current state of the threads a push touched, as a
	// pull page would carry it.
	PushState(ctx context.Context, ids []app.ID, raw bool, after uint64, scope *app.PullScope) (*app.SyncChanges, error)
	// RecordPulled writes the access-log entries of threads a desktop
	// received outside a pull page (a push's answer).
	RecordPulled(ctx context.Context, holder app.ID, pulls []app.PullAccess) (int, error)
}

// OpMemory remembers the result of every sync op applied, so that a
// retried op is answered, not applied twice.
type OpMemory interface {
	AppliedOp(ctx context.Context, id string) (*app.OpResult, error)
	PutOpResult(ctx context.Context, r *app.OpResult) error
	PruneAppliedOps(ctx context.Context, before time.Time) (int, error)
}

// ChunkStore stages the chunks of attachments desktops upload ahead of
// their attachment.put op, and serves stored attachments in chunks.
type ChunkStore interface {
	app.ChunkStaging
	StageChunk(ctx context.Context, caseID, id app.ID, n int, data []byte, size int64, sum string) ([]int, error)
	StagedChunks(ctx context.Context, caseID, id app.ID) ([]int, error)
	AttachmentChunk(ctx context.Context, caseID, id app.ID, n int) ([]byte, error)
	PruneStagedChunks(ctx context.Context, before time.Time) (int, error)
}

// ResidentDirectory reads the whole resident register, for the indexes
// the server builds over it (guardians and their children).
type ResidentDirectory interface {
	// ReadableResidents lists every resident it can read, and the ids of
	// records it cannot (damaged), which it leaves out.
	ReadableResidents(ctx context.Context) (out []app.Resident, damaged []app.ID, err error)
}
