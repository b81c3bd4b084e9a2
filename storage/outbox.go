package storage

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// The durable outbox (schema v5): notifications written with the message
// they announce (putOutbox, called from putItems in the thread's
// transaction), read and updated by the dispatcher through app.Outbox.

var _ app.Outbox = (*Store)(nil)

func dueKey(n *app.Notification) []byte {
	return append(join(string(n.Channel), tsBytes(n.NextAttempt)), n.ID...)
}

func outboxCaseKey(n *app.Notification) []byte {
	return append(join(string(n.CaseID), ""), n.ID...)
}

// ValidNotification refuses a notification a store must not keep (here
// and in pgstore).
func ValidNotification(n *app.Notification) error {
	switch {
	case n.ID == "" || n.CaseID == "" || n.MessageID == "" || n.RecipientID == "":
		return fmt.Errorf("notification %s: missing id, case, message or recipient: %w", n.ID, app.ErrInvalid)
	case n.Channel != app.ChannelEmail && n.Channel != app.ChannelSMS:
		return fmt.Errorf("notification %s: unknown channel: %w", n.ID, app.ErrInvalid)
	case !n.State.Valid():
		return fmt.Errorf("notification %s: unknown state: %w", n.ID, app.ErrInvalid)
	case n.Address == "":
		return fmt.Errorf("notification %s: no address: %w", n.ID, app.ErrInvalid)
	}
	return nil
}

// putOutbox writes the thread's new notifications. Each must announce a
// message of the thread. A notification whose id exists is left as it is:
// the same message written again (a retried write) makes no second
// notification and does not reset one already sent.
func (s *Store) putOutbox(tx *bolt.Tx, t *app.Thread) error {
	if len(t.Outbox) == 0 {
		return nil
	}
	msgs := make(map[app.ID]bool, len(t.Messages))
	for _, m := range t.Messages {
		msgs[m.ID] = true
	}
	ob, due, byCase := tx.Bucket(bOutbox), tx.Bucket(bIdxOutboxDue), tx.Bucket(bIdxOutboxCase)
	ob.FillPercent, byCase.FillPercent = appendFill, appendFill
	for i := range t.Outbox {
		n := &t.Outbox[i]
		n.CaseID = t.Case.ID
		if err := ValidNotification(n); err != nil {
			return fmt.Errorf("case %s: %w", t.Case.ID, err)
		}
		if !msgs[n.MessageID] {
			return fmt.Errorf("case %s: notification %s for no message of the case: %w", t.Case.ID, n.ID, app.ErrInvalid)
		}
		if ob.Get([]byte(n.ID)) != nil {
			continue
		}
		if err := s.putBucket(ob, bOutbox, []byte(n.ID), n); err != nil {
			return err
		}
		if n.State == app.NotificationQueued {
			if err := due.Put(dueKey(n), nil); err != nil {
				return err
			}
		}
		if err := byCase.Put(outboxCaseKey(n), nil); err != nil {
			return err
		}
	}
	return nil
}

// DueNotifications implements app.Outbox: one forward walk over the
// channel's range of idx_outbox_due, stopping at the first row not yet due.
func (s *Store) DueNotifications(ctx context.Context, ch app.Channel, now time.Time, limit int) ([]app.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	prefix := join(string(ch), "")
	until := []byte(tsBytes(now))
	var out []app.Notification
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bIdxOutboxDue).Cursor()
		ob := tx.Bucket(bOutbox)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
			rest := k[len(prefix):]
			if len(rest) < 9 {
				return fmt.Errorf("outbox due index: short key: %w", ErrCorruptValue)
			}
			if bytes.Compare(rest[:8], until) > 0 {
				return nil
			}
			id := rest[8:]
			v := ob.Get(id)
			if v == nil {
				return fmt.Errorf("outbox due index: notification %s missing: %w", id, ErrCorruptValue)
			}
			var n app.Notification
			if err := decode(s.c(bOutbox), bOutbox, id, v, &n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due notifications on %s: %w", ch, err)
	}
	return out, nil
}

// UpdateNotifications implements app.Outbox. Identity fields (id, case,
// message, recipient, channel, address) cannot be changed by fn.
func (s *Store) UpdateNotifications(ctx context.Context, ids []app.ID, fn func(n *app.Notification) error) error {
	return s.updateC(ctx, "update notifications", func(tx *bolt.Tx) error {
		ob, due := tx.Bucket(bOutbox), tx.Bucket(bIdxOutboxDue)
		for _, id := range ids {
			var n app.Notification
			if err := s.get(tx, bOutbox, string(id), &n); err != nil {
				return err
			}
			old := n
			if err := fn(&n); err != nil {
				return fmt.Errorf("notification %s: %w", id, err)
			}
			n.ID, n.CaseID, n.MessageID, n.ClinicID, n.ResidentID = old.ID, old.CaseID, old.MessageID, old.ClinicID, old.ResidentID
			n.RecipientID, n.Guardian, n.Channel, n.Address = old.RecipientID, old.Guardian, old.Channel, old.Address
			if err := ValidNotification(&n); err != nil {
				return err
			}
			if old.State == app.NotificationQueued {
				if err := due.Delete(dueKey(&old)); err != nil {
					return err
				}
			}
			if n.State == app.NotificationQueued {
				if err := due.Put(dueKey(&n), nil); err != nil {
					return err
				}
			}
			if err := s.putBucket(ob, bOutbox, []byte(id), &n); err != nil {
				return err
			}
			// The notification's state shows in its case (pull).
			if err := s.feed(tx, feedCase, n.ClinicID, n.CaseID); err != nil {
				return err
			}
		}
		return nil
	})
}

// NotificationsOfCase implements app.Outbox, oldest first (ids begin with
// the time-ordered message id).
func (s *Store) NotificationsOfCase(ctx context.Context, caseID app.ID) ([]app.Notification, error) {
	prefix := join(string(caseID), "")
	var out []app.Notification
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bIdxOutboxCase).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var n app.Notification
			if err := s.get(tx, bOutbox, string(k[len(prefix):]), &n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("notifications of case %s: %w", caseID, err)
	}
	return out, nil
}

// checkOutbox verifies that every queued notification has exactly its due
// entry, every notification its case entry, and no entry is left over.
func (s *Store) checkOutbox(tx *bolt.Tx) error {
	if tx.Bucket(bOutbox) == nil {
		return nil // a database held at an older version (tests of migrations)
	}
	wantDue, wantCase := map[string]bool{}, map[string]bool{}
	err := tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
		var n app.Notification
		if err := decode(s.c(bOutbox), bOutbox, k, v, &n); err != nil {
			return err
		}
		if string(k) != string(n.ID) {
			return fmt.Errorf("outbox: key %s holds notification %s", k, n.ID)
		}
		if n.State == app.NotificationQueued {
			wantDue[string(dueKey(&n))] = true
		}
		wantCase[string(outboxCaseKey(&n))] = true
		return nil
	})
	if err != nil {
		return err
	}
	for _, idx := range []struct {
		name []byte
		want map[string]bool
	}{{bIdxOutboxDue, wantDue}, {bIdxOutboxCase, wantCase}} {
		n := 0
		err := tx.Bucket(idx.name).ForEach(func(k, _ []byte) error {
			if !idx.want[string(k)] {
				return fmt.Errorf("index %s: entry without its notification", idx.name)
			}
			n++
			return nil
		})
		if err != nil {
			return err
		}
		// A connected desktop holds queued notifications the server
		// sends (pulled states): they are not due here.
		if n != len(idx.want) && !(s.replica() && bytes.Equal(idx.name, bIdxOutboxDue)) {
			return fmt.Errorf("index %s: %d entries, want %d", idx.name, n, len(idx.want))
		}
	}
	return nil
}
