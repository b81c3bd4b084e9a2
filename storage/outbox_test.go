package storage

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// outboxStore is what an implementation of the outbox contract offers: the
// case store writes the rows with their thread, the outbox reads and
// updates them.
type outboxStore interface {
	app.CaseStore
	app.Outbox
}

// TestBoltOutboxContract runs the outbox behaviour suite against the bbolt
// Store. A server store must pass the same suite.
func TestBoltOutboxContract(t *testing.T) {
	outboxContract(t, func(t *testing.T) outboxStore { return openTest(t) })
}

// testNotification is a queued notification of th's last message to its
// resident on ch, due at at.
func testNotification(th *app.Thread, ch app.Channel, at time.Time) app.Notification {
	m := th.Messages[len(th.Messages)-1]
	addr := "mottagare@example.com"
	if ch == app.ChannelSMS {
		addr = "+46701740605"
	}
	return app.Notification{
		ID: app.NotificationID(m.ID, th.Case.ResidentID, ch), CaseID: th.Case.ID, MessageID: m.ID,
		ClinicID: th.Case.ClinicID, ResidentID: th.Case.ResidentID, RecipientID: th.Case.ResidentID,
		Channel: ch, Address: addr, State: app.NotificationQueued, CreatedAt: at, NextAttempt: at,
	}
}

func ids(ns []app.Notification) []app.ID {
	out := make([]app.ID, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func outboxContract(t *testing.T, open func(t *testing.T) outboxStore) {
	ctx := context.Background()
	clinic, resident, staff := app.ID("K1"), app.ID("R1"), app.ID("S1")

	t.Run("WrittenWithThread", func(t *testing.T) {
		s := open(t)
		th := newThread(clinic, resident, staff, app.StatusWaiting, testNow, "Hej")
		th.Outbox = []app.Notification{testNotification(&th, app.ChannelSMS, testNow), testNotification(&th, app.ChannelEmail, testNow)}
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		got, err := s.NotificationsOfCase(ctx, th.Case.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(th.Outbox)
		slices.SortFunc(want, func(a, b app.Notification) int { return cmpID(a.ID, b.ID) })
		if d := cmp.Diff(want, got, cmpOpts); d != "" {
			t.Errorf("NotificationsOfCase (-written +read):\n%s", d)
		}
		// Each channel has its own due range.
		for _, ch := range []app.Channel{app.ChannelSMS, app.ChannelEmail} {
			due, err := s.DueNotifications(ctx, ch, testNow, 10)
			if err != nil || len(due) != 1 || due[0].Channel != ch {
				t.Errorf("DueNotifications(%s) = %v (err %v), want one on that channel", ch, ids(due), err)
			}
		}
	})

	t.Run("AbortedThreadWritesNoNotification", func(t *testing.T) {
		s := open(t)
		th := newThread(clinic, resident, staff, app.StatusWaiting, testNow, "Hej")
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := s.UpdateThread(ctx, th.Case.ID, app.Write{}, func(u *app.Thread) error {
			u.Messages = append(u.Messages, app.Message{ID: app.NewID(testNow), Author: app.AuthorStaff, At: testNow, Text: "Svar"})
			u.Outbox = []app.Notification{testNotification(u, app.ChannelEmail, testNow)}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("UpdateThread = %v, want boom", err)
		}
		if due, _ := s.DueNotifications(ctx, app.ChannelEmail, testNow.Add(time.Hour), 10); len(due) != 0 {
			t.Errorf("an aborted reply left notifications %v", ids(due))
		}
	})

	t.Run("NotificationForNoMessageRefused", func(t *testing.T) {
		s := open(t)
		th := newThread(clinic, resident, staff, app.StatusWaiting, testNow, "Hej")
		n := testNotification(&th, app.ChannelEmail, testNow)
		n.MessageID = app.NewID(testNow)
		th.Outbox = []app.Notification{n}
		if err := s.CreateThread(ctx, &th, app.Write{}); !errors.Is(err, app.ErrInvalid) {
			t.Fatalf("CreateThread with a notification of no message = %v, want ErrInvalid", err)
		}
		if _, err := s.Case(ctx, th.Case.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("the case was written without its notification: %v", err)
		}
	})

	// Idempotency: the same message written again (a retried write after a
	// lost answer, a replayed sync operation) makes no second notification
	// and does not put a sent one back in the queue.
	t.Run("SameMessageTwiceOneNotification", func(t *testing.T) {
		s := open(t)
		th := newThread(clinic, resident, staff, app.StatusWaiting, testNow, "Hej")
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		reply := app.Message{ID: app.NewID(testNow), Author: app.AuthorStaff, AuthorID: staff, At: testNow, Text: "Svar"}
		write := func() {
			t.Helper()
			err := s.UpdateThread(ctx, th.Case.ID, app.Write{}, func(u *app.Thread) error {
				if !slices.ContainsFunc(u.Messages, func(m app.Message) bool { return m.ID == reply.ID }) {
					u.Messages = append(u.Messages, reply)
				}
				u.Outbox = []app.Notification{testNotification(&app.Thread{Case: u.Case, Messages: []app.Message{reply}}, app.ChannelSMS, testNow)}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		write()
		due, err := s.DueNotifications(ctx, app.ChannelSMS, testNow, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due after first write: %v (err %v)", ids(due), err)
		}
		if err := app.UpdateNotification(ctx, s, due[0].ID, func(n *app.Notification) error {
			n.State, n.Attempts, n.DoneAt = app.NotificationSent, 1, testNow
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		write()
		all, err := s.NotificationsOfCase(ctx, th.Case.ID)
		if err != nil || len(all) != 1 || all[0].State != app.NotificationSent {
			t.Errorf("after the same write twice: %+v (err %v), want one sent notification", all, err)
		}
		if due, _ := s.DueNotifications(ctx, app.ChannelSMS, testNow.Add(time.Hour), 10); len(due) != 0 {
			t.Errorf("the second write queued %v again", ids(due))
		}
	})

	t.Run("DueOrderLimitAndUpdate", func(t *testing.T) {
		s := open(t)
		var all []app.Notification
		for i := range 5 {
			at := testNow.Add(time.Duration(i) * time.Minute)
			th := newThread(clinic, resident, staff, app.StatusWaiting, at, "Hej")
			n := testNotification(&th, app.ChannelEmail, at)
			th.Outbox = []app.Notification{n}
			if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
				t.Fatal(err)
			}
			all = append(all, n)
		}
		due, err := s.DueNotifications(ctx, app.ChannelEmail, testNow.Add(2*time.Minute), 10)
		if err != nil || !slices.Equal(ids(due), ids(all[:3])) {
			t.Fatalf("due at +2 min = %v (err %v), want the first three", ids(due), err)
		}
		if due, _ := s.DueNotifications(ctx, app.ChannelEmail, testNow.Add(time.Hour), 2); !slices.Equal(ids(due), ids(all[:2])) {
			t.Errorf("limit 2 = %v, want the two longest waiting", ids(due))
		}
		if due, _ := s.DueNotifications(ctx, app.ChannelSMS, testNow.Add(time.Hour), 10); len(due) != 0 {
			t.Errorf("SMS range holds e-mail notifications %v", ids(due))
		}
		// A retry later moves the first one behind the others; a failure
		// and a success take two out of the queue.
		later := testNow.Add(time.Hour)
		err = s.UpdateNotifications(ctx, ids(all[:3]), func(n *app.Notification) error {
			n.Attempts++
			n.LastAttempt = testNow
			switch n.ID {
			case all[0].ID:
				n.NextAttempt, n.LastError = later, "smtp-451"
			case all[1].ID:
				n.State, n.DoneAt, n.LastError = app.NotificationFailed, testNow, "smtp-554"
			default:
				n.State, n.DoneAt = app.NotificationSent, testNow
			}
			n.Address = "changed@example.com" // identity: ignored
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		due, _ = s.DueNotifications(ctx, app.ChannelEmail, later, 10)
		if want := []app.ID{all[3].ID, all[4].ID, all[0].ID}; !slices.Equal(ids(due), want) {
			t.Errorf("due after the attempts = %v, want %v", ids(due), want)
		}
		if due[2].Attempts != 1 || due[2].LastError != "smtp-451" || due[2].Address != all[0].Address {
			t.Errorf("retried row %+v: want attempts 1, code smtp-451, address unchanged", due[2])
		}
	})

	t.Run("UpdateMissingOrBad", func(t *testing.T) {
		s := open(t)
		th := newThread(clinic, resident, staff, app.StatusWaiting, testNow, "Hej")
		n := testNotification(&th, app.ChannelEmail, testNow)
		th.Outbox = []app.Notification{n}
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		if err := app.UpdateNotification(ctx, s, "nope", func(*app.Notification) error { return nil }); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("update of a missing notification = %v, want ErrNotFound", err)
		}
		err := app.UpdateNotification(ctx, s, n.ID, func(n *app.Notification) error { n.State = "okänd"; return nil })
		if !errors.Is(err, app.ErrInvalid) {
			t.Errorf("update to an unknown state = %v, want ErrInvalid", err)
		}
		// All or nothing: one bad id aborts the whole batch.
		err = s.UpdateNotifications(ctx, []app.ID{n.ID, "nope"}, func(n *app.Notification) error { n.State = app.NotificationSent; return nil })
		if !errors.Is(err, app.ErrNotFound) {
			t.Errorf("batch with a missing id = %v, want ErrNotFound", err)
		}
		if due, _ := s.DueNotifications(ctx, app.ChannelEmail, testNow, 10); len(due) != 1 || due[0].State != app.NotificationQueued {
			t.Errorf("aborted batch changed the row: %+v", due)
		}
	})

	t.Run("NoAddressInAnyKey", func(t *testing.T) {
		s := open(t)
		bs, ok := s.(*Store)
		if !ok {
			t.Skip("bbolt only")
		}
		th := newThread(clinic, resident, staff, app.StatusWaiting, testNow, "Hej")
		th.Outbox = []app.Notification{testNotification(&th, app.ChannelEmail, testNow), testNotification(&th, app.ChannelSMS, testNow)}
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{bOutbox, bIdxOutboxDue, bIdxOutboxCase} {
			for _, k := range bucketKeys(t, bs, b) {
				for _, n := range th.Outbox {
					if containsFold(k, n.Address) {
						t.Errorf("bucket %s: key holds an address", b)
					}
				}
			}
		}
	})
}

// bucketKeys copies every key of bucket b.
func bucketKeys(t *testing.T, s *Store, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(b).ForEach(func(k, _ []byte) error {
			out = append(out, append([]byte(nil), k...))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func containsFold(k []byte, s string) bool {
	return bytes.Contains(bytes.ToLower(k), bytes.ToLower([]byte(s)))
}

func cmpID(a, b app.ID) int { return strings.Compare(string(a), string(b)) }
