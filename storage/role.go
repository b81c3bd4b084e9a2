package storage

import (
	bolt "go.etcd.io/bbolt"
)

// Role is what a database is to the system, decided once when it is
// opened (shared/STYLE.md, two ways the desktop runs; docs/sync.md):
//
//   - RoleStandalone: a desktop that is the whole system. Its writes
//     queue no ops; it keeps the outbox its own dispatcher sends.
//   - RoleReplica: a connected desktop (meta/sync_device, set by
//     Connect). Every local write queues the ops the app hands it
//     (app.Write.Queue) in the same transaction; it writes no outbox
//     rows (the server notifies).
//   - RoleServer: the central server (meta/changefeed, set by
//     SetChangeFeed). Every write appends to the change feed and counts
//     case versions; a write that replays a desktop's op remembers the
//     op's id as applied in the same transaction (app.Write.Applies).
//
// A database changes role at most once in its life, through Connect or
// SetChangeFeed; nothing reads the role from meta inside a transaction.
type Role int32

// The roles.
const (
	RoleStandalone Role = iota
	RoleReplica
	RoleServer
)

func (r Role) String() string {
	switch r {
	case RoleReplica:
		return "replica"
	case RoleServer:
		return "server"
	}
	return "standalone"
}

// readRole reads the role from meta, once, when the store is opened.
func readRole(tx *bolt.Tx) Role {
	m := tx.Bucket(bMeta)
	switch {
	case m == nil:
		return RoleStandalone
	case m.Get(kChangeFeed) != nil:
		return RoleServer
	case m.Get(kSyncDevice) != nil:
		return RoleReplica
	}
	return RoleStandalone
}

// Role is the database's role (see Role).
func (s *Store) Role() Role { return Role(s.role.Load()) }

// replica: a connected desktop's database.
func (s *Store) replica() bool { return s.Role() == RoleReplica }

// server: the central server's database.
func (s *Store) server() bool { return s.Role() == RoleServer }

// becomes sets the role after the transaction that made it commits.
func (s *Store) becomes(tx *bolt.Tx, r Role) {
	tx.OnCommit(func() { s.role.Store(int32(r)) })
}
