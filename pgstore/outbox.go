package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"mottagning/app"
	"mottagning/storage"
)

var _ app.Outbox = (*Store)(nil)

// putOutbox queues the inserts of the thread's new notifications on b.
// A notification whose id exists is left as it is (a retried write makes
// no second one and does not reset one already sent).
func (s *Store) putOutbox(t *app.Thread, b *pgx.Batch) error {
	if len(t.Outbox) == 0 {
		return nil
	}
	msgs := make(map[app.ID]bool, len(t.Messages))
	for _, m := range t.Messages {
		msgs[m.ID] = true
	}
	for i := range t.Outbox {
		n := &t.Outbox[i]
		n.CaseID = t.Case.ID
		if err := storage.ValidNotification(n); err != nil {
			return fmt.Errorf("case %s: %w", t.Case.ID, err)
		}
		if !msgs[n.MessageID] {
			return fmt.Errorf("case %s: notification %s for no message of the case: %w", t.Case.ID, n.ID, app.ErrInvalid)
		}
		data, err := s.seal.Seal("notifications", string(n.ID), n)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO notifications (id, case_id, channel, queued, next_attempt, data) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO NOTHING`, string(n.ID), string(n.CaseID), string(n.Channel), n.State == app.NotificationQueued, n.NextAttempt.UnixMilli(), data)
	}
	return nil
}

// DueNotifications implements app.Outbox through the due index.
func (s *Store) DueNotifications(ctx context.Context, ch app.Channel, now time.Time, limit int) ([]app.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := s.notifications(ctx, s.read(ctx), `SELECT id, data FROM notifications WHERE queued AND channel = $1 AND next_attempt <= $2
		ORDER BY next_attempt, id LIMIT $3`, string(ch), now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("due notifications on %s: %w", ch, err)
	}
	return out, nil
}

func (s *Store) notifications(ctx context.Context, q querier, sql string, args ...any) ([]app.Notification, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.Notification
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		var n app.Notification
		if err := s.seal.Open("notifications", id, data, &n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// UpdateNotifications implements app.Outbox, the rows locked in id order
// (no deadlock between two nodes updating overlapping sets). Identity
// fields cannot be changed by fn.
func (s *Store) UpdateNotifications(ctx context.Context, ids []app.ID, fn func(n *app.Notification) error) error {
	return s.write(ctx, "update notifications", func(tx *wtx) error {
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = string(id)
		}
		got, err := s.notifications(ctx, tx, "SELECT id, data FROM notifications WHERE id = ANY($1) ORDER BY id FOR UPDATE", keys)
		if err != nil {
			return err
		}
		byID := map[app.ID]app.Notification{}
		for _, n := range got {
			byID[n.ID] = n
		}
		b := &pgx.Batch{}
		for _, id := range ids {
			n, ok := byID[id]
			if !ok {
				return fmt.Errorf("notifications %s: %w", id, app.ErrNotFound)
			}
			old := n
			if err := fn(&n); err != nil {
				return clean(fmt.Errorf("notification %s: %w", id, err))
			}
			n.ID, n.CaseID, n.MessageID, n.ClinicID, n.ResidentID = old.ID, old.CaseID, old.MessageID, old.ClinicID, old.ResidentID
			n.RecipientID, n.Guardian, n.Channel, n.Address = old.RecipientID, old.Guardian, old.Channel, old.Address
			if err := storage.ValidNotification(&n); err != nil {
				return err
			}
			data, err := s.seal.Seal("notifications", string(id), &n)
			if err != nil {
				return err
			}
			b.Queue("UPDATE notifications SET queued = $2, next_attempt = $3, data = $4 WHERE id = $1",
				string(id), n.State == app.NotificationQueued, n.NextAttempt.UnixMilli(), data)
			byID[id] = n
			// The notification's state shows in its case (pull).
			s.feedAdd(tx, feedCase, n.ClinicID, n.CaseID)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// NotificationsOfCase implements app.Outbox, oldest first.
func (s *Store) NotificationsOfCase(ctx context.Context, caseID app.ID) ([]app.Notification, error) {
	out, err := s.notifications(ctx, s.read(ctx), "SELECT id, data FROM notifications WHERE case_id = $1 ORDER BY id", string(caseID))
	if err != nil {
		return nil, fmt.Errorf("notifications of case %s: %w", caseID, err)
	}
	return out, nil
}

// ClaimNotifications implements notify.Claimer: up to limit due
// notifications on ch, locked with SKIP LOCKED (a batch another node is
// claiming is passed over, not waited for) and moved to now+lease in the
// same transaction, so that no other node's dispatcher takes them until
// this one has recorded its attempts or the lease has run out.
func (s *Store) ClaimNotifications(ctx context.Context, ch app.Channel, now time.Time, lease time.Duration, limit int) ([]app.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []app.Notification
	err := s.write(ctx, "claim notifications", func(tx *wtx) error {
		got, err := s.notifications(ctx, tx, `SELECT id, data FROM notifications WHERE queued AND channel = $1 AND next_attempt <= $2
			ORDER BY next_attempt, id LIMIT $3 FOR UPDATE SKIP LOCKED`, string(ch), now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		out = got
		until := now.Add(lease)
		b := &pgx.Batch{}
		for i := range got {
			claimed := got[i]
			claimed.NextAttempt = until
			data, err := s.seal.Seal("notifications", string(claimed.ID), &claimed)
			if err != nil {
				return err
			}
			b.Queue("UPDATE notifications SET next_attempt = $2, data = $3 WHERE id = $1", string(claimed.ID), until.UnixMilli(), data)
		}
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("claim notifications on %s: %w", ch, err)
	}
	return out, nil
}
