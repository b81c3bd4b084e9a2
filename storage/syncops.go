package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// A connected desktop (docs/sync.md) writes, in the same transaction as
// each local change, the semantic operation the central server must apply
// (bucket pending_ops, v6), and writes no outbox rows: the server notifies.
// The app makes each op (app.Write); changes that come from the server (a
// pull, a push's answer) are written by their own methods and queue
// nothing.

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
		if s.server() {
			return fmt.Errorf("connect the central server's database: %w", app.ErrInvalid)
		}
		if err := meta.Put(kSyncDevice, []byte(deviceID)); err != nil {
			return err
		}
		s.becomes(tx, RoleReplica)
		return nil
	})
}

// SyncDevice is the device id of a connected database, "" when standalone.
func (s *Store) SyncDevice() (id string) {
	_ = s.view(func(tx *bolt.Tx) error { id = string(tx.Bucket(bMeta).Get(kSyncDevice)); return nil })
	return id
}

// queue appends ops to the pending queue in tx when the database is a
// connected desktop's; elsewhere it writes nothing (a standalone desktop
// is the whole system, the server applies ops rather than making them).
// The ops are the app's, made explicitly for the change (app.Write):
// storage never derives an op from a difference of records.
func (s *Store) queue(tx *bolt.Tx, ops ...app.SyncOp) error {
	if !s.replica() || len(ops) == 0 {
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
			op.MadeAt = s.clock.Now()
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		if err := s.putBucket(bk, bPendingOps, k[:], &op); err != nil {
			return err
		}
	}
	tx.OnCommit(s.queued)
	return nil
}

func payload(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic("storage: marshal op payload: " + err.Error()) // our own types always marshal
	}
	return data
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

// PendingOpsOf is PendingOps of the ops staff made (app.SyncOp.MadeBy),
// oldest first: a desktop several staff share pushes each one's changes
// only under their own sign-in (the server takes a reply or an access
// entry only from its author), and the others wait for theirs. staff ""
// (not known yet) takes every op.
//
// The order within a case holds across staff: an op on a case behind a
// colleague's waiting change to that case (their new case, reply, note,
// status or assignment: what the later op may build on) waits too, so a
// note on a colleague's case made offline is not refused as unknown
// before the case itself reached the server. A colleague's access entry
// changes nothing the later op needs, and holds nothing back.
func (s *Store) PendingOpsOf(ctx context.Context, staff app.ID, limit int) ([]app.SyncOp, error) {
	var out []app.SyncOp
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		held := map[app.ID]bool{}
		c := tx.Bucket(bPendingOps).Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var op app.SyncOp
			if err := decode(s.c(bPendingOps), bPendingOps, k, v, &op); err != nil {
				return err
			}
			switch {
			case staff == "":
				out = append(out, op)
			case !op.MadeBy(staff):
				if op.CaseID != "" && op.Kind != app.OpAccessRecord {
					held[op.CaseID] = true
				}
			case op.CaseID != "" && held[op.CaseID]:
				// waits behind the colleague's change to the case
			default:
				out = append(out, op)
			}
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
