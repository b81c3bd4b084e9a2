package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// A connected desktop (docs/sync.md) writes, in the same transaction as
// each local change, the semantic operation the central server must apply
// (bucket pending_ops, v6), and writes no outbox rows: the server notifies.
// Changes that come from the server (a pull) are written with a context
// made by FromServer, and queue nothing.

var (
	bPendingOps = []byte("pending_ops")
	kSyncDevice = []byte("sync_device")
)

// ErrDemoNotConnectable: a demo database can never be connected to a server.
var ErrDemoNotConnectable = errors.New("a demo database cannot be connected to a server")

func migrate6(tx *bolt.Tx, _ Codec) error {
	if _, err := tx.CreateBucketIfNotExists(bPendingOps); err != nil {
		return fmt.Errorf("create bucket %s: %w", bPendingOps, err)
	}
	return nil
}

type fromServerKey struct{}

// FromServer marks ctx as applying changes from the central server: a
// write with it queues no op.
func FromServer(ctx context.Context) context.Context {
	return context.WithValue(ctx, fromServerKey{}, true)
}

func fromServer(ctx context.Context) bool {
	v, _ := ctx.Value(fromServerKey{}).(bool)
	return v
}

// Connect turns the database into a connected desktop's replica for the
// device id the server gave at the first sign-in. A demo database is
// refused.
func (s *Store) Connect(ctx context.Context, deviceID string) error {
	if deviceID == "" {
		return fmt.Errorf("connect: no device id: %w", app.ErrInvalid)
	}
	return s.updateC(ctx, "connect", func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if string(meta.Get(kDemo)) == "1" {
			return ErrDemoNotConnectable
		}
		return meta.Put(kSyncDevice, []byte(deviceID))
	})
}

// SyncDevice is the device id of a connected database, "" when standalone.
func (s *Store) SyncDevice() (id string) {
	_ = s.view(func(tx *bolt.Tx) error { id = string(tx.Bucket(bMeta).Get(kSyncDevice)); return nil })
	return id
}

func connected(tx *bolt.Tx) bool { return tx.Bucket(bMeta).Get(kSyncDevice) != nil }

// queueOps appends ops to the pending queue in tx when the database is
// connected and the change is local.
func (s *Store) queueOps(ctx context.Context, tx *bolt.Tx, ops ...app.SyncOp) error {
	if !connected(tx) || fromServer(ctx) {
		return nil
	}
	bk := tx.Bucket(bPendingOps)
	for _, op := range ops {
		seq, err := bk.NextSequence()
		if err != nil {
			return err
		}
		op.Seq = seq
		if op.ID == "" {
			op.ID = app.NewOpID()
		}
		if op.MadeAt.IsZero() {
			op.MadeAt = time.Now()
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		if err := s.putBucket(bk, bPendingOps, k[:], &op); err != nil {
			return err
		}
	}
	if len(ops) > 0 {
		tx.OnCommit(s.queued)
	}
	return nil
}

func payload(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic("storage: marshal op payload: " + err.Error()) // our own types always marshal
	}
	return data
}

// createOps is the op of a new thread, plus one per attachment.
func createOps(t *app.Thread) []app.SyncOp {
	ops := []app.SyncOp{{Kind: app.OpCaseCreate, CaseID: t.Case.ID, Payload: payload(t)}}
	return append(ops, attachmentOps(t, t.Messages)...)
}

func attachmentOps(t *app.Thread, msgs []app.Message) []app.SyncOp {
	var ops []app.SyncOp
	for _, m := range msgs {
		for _, a := range m.Attachments {
			if _, ok := t.Blobs[a.ID]; ok {
				ops = append(ops, app.SyncOp{Kind: app.OpAttachmentPut, CaseID: t.Case.ID, Payload: payload(a)})
			}
		}
	}
	return ops
}

// updateOps are the ops of a change of a thread from old (nm messages,
// nn notes before) to t: appended messages and notes, and the header
// fields staff change. Each carries the server version it was made on.
func updateOps(old app.Case, nm, nn int, t *app.Thread) []app.SyncOp {
	base := old.Version
	var ops []app.SyncOp
	for _, m := range t.Messages[nm:] {
		ops = append(ops, app.SyncOp{Kind: app.OpCaseMessage, CaseID: old.ID, Base: base, Payload: payload(m)})
	}
	ops = append(ops, attachmentOps(t, t.Messages[nm:])...)
	for _, n := range t.Notes[nn:] {
		ops = append(ops, app.SyncOp{Kind: app.OpCaseNote, CaseID: old.ID, Base: base, Payload: payload(n)})
	}
	c := &t.Case
	if c.Status != old.Status || !c.ClosedAt.Equal(old.ClosedAt) {
		ops = append(ops, app.SyncOp{Kind: app.OpCaseStatus, CaseID: old.ID, Base: base, Payload: payload(app.StatusChange{Status: c.Status, ClosedAt: c.ClosedAt})})
	}
	if c.AssigneeID != old.AssigneeID {
		ops = append(ops, app.SyncOp{Kind: app.OpCaseAssign, CaseID: old.ID, Base: base, Payload: payload(app.AssignChange{AssigneeID: c.AssigneeID})})
	}
	if old.UnreadByStaff && !c.UnreadByStaff {
		ops = append(ops, app.SyncOp{Kind: app.OpCaseRead, CaseID: old.ID, Base: base})
	}
	return ops
}

// PendingOps implements app.SyncQueue.
func (s *Store) PendingOps(ctx context.Context, limit int) ([]app.SyncOp, error) {
	var out []app.SyncOp
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bPendingOps).Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var op app.SyncOp
			if err := decode(s.c(bPendingOps), bPendingOps, k, v, &op); err != nil {
				return err
			}
			out = append(out, op)
		}
		return nil
	})
	return out, err
}

// PendingCount implements app.SyncQueue.
func (s *Store) PendingCount(ctx context.Context) (n int, err error) {
	err = s.viewC(ctx, func(tx *bolt.Tx) error { n = tx.Bucket(bPendingOps).Stats().KeyN; return nil })
	return n, err
}

// DropOps implements app.SyncQueue.
func (s *Store) DropOps(ctx context.Context, ids []string) error {
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	return s.updateC(ctx, "drop sync ops", func(tx *bolt.Tx) error {
		bk := tx.Bucket(bPendingOps)
		var keys [][]byte
		err := bk.ForEach(func(k, v []byte) error {
			var op app.SyncOp
			if err := decode(s.c(bPendingOps), bPendingOps, k, v, &op); err != nil {
				return err
			}
			if drop[op.ID] {
				keys = append(keys, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
