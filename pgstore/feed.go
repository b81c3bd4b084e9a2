package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"mottagning/app"
)

// The change feed on PostgreSQL. Positions must be in commit order: a
// desktop that has pulled up to n must never later meet a change
// committed with a position below n. A sequence is not (a transaction
// that took 7 may commit after one that took 8). So positions come from
// the one row of feed_head, locked by the transaction that takes them
// just before its commit (appendFeed): the next transaction to take
// positions waits for that commit and continues from its last. The lock
// is held only from the append to the commit, one round trip.
// Every commit that appended notifies channel mottagning_changes with its
// head; each node listens (listen) and wakes its long polls (WaitChange).

// Kinds of feed entries, as storage's.
const (
	feedCase     = "c"
	feedResident = "r"
	feedStaff    = "s"
	feedClinic   = "k"
	feedTemplate = "t"
	feedEService = "e"
	feedForm     = "f"
)

const notifyChannel = "mottagning_changes"

// feedOn reports whether writes feed the change feed (SetChangeFeed).
func (s *Store) feedOn() bool { return s.feed.Load() }

// feedAdd notes the change of one record for the feed of tx's
// transaction (appended at its commit).
func (s *Store) feedAdd(tx *wtx, kind string, clinic, id app.ID) {
	if !s.feedOn() {
		return
	}
	tx.st.feed = append(tx.st.feed, feedItem{kind: kind, clinic: clinic, id: id})
}

// appendFeed takes positions for items from feed_head, moves each
// record's entry there, and notifies the listeners at commit. It returns
// the new head (0: nothing appended).
func (s *Store) appendFeed(ctx context.Context, tx *wtx, items []feedItem) (uint64, error) {
	if len(items) == 0 {
		return 0, nil
	}
	var head int64
	if err := tx.QueryRow(ctx, "SELECT seq FROM feed_head FOR UPDATE").Scan(&head); err != nil {
		return 0, fmt.Errorf("change feed head: %w", err)
	}
	seen := map[feedItem]bool{}
	b := &pgx.Batch{}
	for _, it := range items {
		if seen[it] {
			continue
		}
		seen[it] = true
		head++
		b.Queue("DELETE FROM changes WHERE kind = $1 AND id = $2", it.kind, string(it.id))
		b.Queue("INSERT INTO changes (seq, kind, clinic_id, id) VALUES ($1, $2, $3, $4)", head, it.kind, string(it.clinic), string(it.id))
	}
	b.Queue("UPDATE feed_head SET seq = $1", head)
	b.Queue("SELECT pg_notify($1, $2)", notifyChannel, strconv.FormatInt(head, 10))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("change feed: %w", err)
	}
	return uint64(head), nil
}

// SetChangeFeed makes this database the central server's: from now on
// every write appends to the change feed. Kept in meta: a restart feeds.
func (s *Store) SetChangeFeed(ctx context.Context) error {
	if !s.feedOn() {
		err := s.write(ctx, "set change feed", func(tx *wtx) error {
			var on bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM meta WHERE key = $1)", kFeed).Scan(&on); err != nil || on {
				return err // another node turned it on
			}
			if err := putMeta(ctx, tx, kFeed, []byte{1}); err != nil {
				return err
			}
			return backfillFeed(ctx, tx)
		})
		if err != nil {
			return err
		}
		s.feed.Store(true)
	}
	return s.startListener(ctx)
}

// ChangeHead is the position of the newest change this node knows of:
// its own commits and every other node's notification.
func (s *Store) ChangeHead() uint64 { return s.head.Load() }

// advance moves the known head forward to seq and wakes the waiters.
func (s *Store) advance(seq uint64) {
	for {
		old := s.head.Load()
		if seq <= old {
			return
		}
		if s.head.CompareAndSwap(old, seq) {
			s.changed.Signal()
			return
		}
	}
}

// readHead reads the committed head.
func (s *Store) readHead(ctx context.Context) (uint64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, "SELECT seq FROM feed_head").Scan(&seq)
	return uint64(seq), err
}

// WaitChange returns the head once it is past after, or when ctx ends
// (then with the head as it is and ctx's error).
func (s *Store) WaitChange(ctx context.Context, after uint64) (uint64, error) {
	for {
		ch := s.changed.Wait()
		if h := s.head.Load(); h > after {
			return h, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s.head.Load(), ctx.Err()
		}
	}
}

// startListener reads the head and starts the goroutine that LISTENs on
// its own connection (once). A lost connection is reopened; on each
// (re)connect the head is read again, so no notification missed while
// away leaves a long poll asleep.
func (s *Store) startListener(ctx context.Context) error {
	h, err := s.readHead(ctx)
	if err != nil {
		return fmt.Errorf("change feed head: %w", err)
	}
	s.advance(h)
	s.listenOnce.Do(func() {
		s.wg.Add(1)
		go s.listen()
	})
	return nil
}

func (s *Store) listen() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.closed
		cancel()
	}()
	for ctx.Err() == nil {
		err := s.listenConn(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("change feed listener lost its connection; reconnecting", "err", err)
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

func (s *Store) listenConn(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection is LISTENing: it never goes back to the pool.
	defer func() { conn.Conn().Close(context.Background()); conn.Release() }()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	if h, err := s.readHead(ctx); err == nil {
		s.advance(h)
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if seq, err := strconv.ParseUint(n.Payload, 10, 64); err == nil {
			s.advance(seq)
		}
	}
}

// backfillFeed gives every record a feed entry when the feed is turned on
// over existing data (a database seeded or migrated before the server
// first ran on it), in the order a desktop needs them: clinics, staff,
// residents, templates, e-services, form series after their e-services,
// cases.
func backfillFeed(ctx context.Context, tx *wtx) error {
	var head int64
	if err := tx.QueryRow(ctx, "SELECT seq FROM feed_head FOR UPDATE").Scan(&head); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO changes (seq, kind, clinic_id, id)
		SELECT $1 + row_number() OVER (ORDER BY o, id), kind, clinic, id FROM (
			SELECT 1 AS o, 'k' AS kind, id AS clinic, id FROM clinics
			UNION ALL SELECT 2, 's', '', id FROM staff
			UNION ALL SELECT 3, 'r', '', id FROM residents
			UNION ALL SELECT 4, 't', clinic_id, id FROM templates
			UNION ALL SELECT 5, 'e', clinic_id, id FROM eservices
			UNION ALL SELECT 6, 'f', coalesce(e.clinic_id, ''), f.form_id FROM form_series f LEFT JOIN eservices e ON e.id = f.form_id
			UNION ALL SELECT 7, 'c', clinic_id, id FROM cases
		) x
		ON CONFLICT (kind, id) DO NOTHING`, head)
	if err != nil {
		return fmt.Errorf("backfill change feed: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, "UPDATE feed_head SET seq = (SELECT max(seq) FROM changes)")
	return err
}

// ChangedCases lists the cases whose latest change lies after a feed
// position (at most limit) and the position of the last entry read
// (server.CaseFeed).
func (s *Store) ChangedCases(ctx context.Context, after uint64, limit int) ([]app.ID, uint64, error) {
	rows, err := s.pool.Query(ctx, "SELECT seq, kind, id FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2", int64(after), limit)
	if err != nil {
		return nil, after, err
	}
	defer rows.Close()
	var ids []app.ID
	next := after
	for rows.Next() {
		var seq int64
		var kind, id string
		if err := rows.Scan(&seq, &kind, &id); err != nil {
			return nil, after, err
		}
		next = uint64(seq)
		if kind == feedCase {
			ids = append(ids, app.ID(id))
		}
	}
	return ids, next, rows.Err()
}
