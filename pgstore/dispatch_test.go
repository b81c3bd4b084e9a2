package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/internal/mailpittest"
	"mottagning/notify"
)

// queueMail writes n cases of one message each with an e-mail
// notification due now, through store s.
func queueMail(t *testing.T, s *Store, n int) []app.ID {
	t.Helper()
	ctx := context.Background()
	ds := demo.Build(time.Now())
	if err := demo.Seed(ctx, s, ds); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ids []app.ID
	var ts []app.Thread
	for i := range n {
		r := ds.Residents[i%len(ds.Residents)]
		c := app.Case{ID: app.NewID(now), ClinicID: ds.Clinics[0].ID, ResidentID: r.ID, Kind: app.KindInformation,
			Subject: "Information", Status: app.StatusClosed, CreatedAt: now, LastActivity: now}
		m := app.Message{ID: app.NewID(now), CaseID: c.ID, Author: app.AuthorStaff, At: now, Text: "Hej"}
		nt := app.Notification{ID: app.NotificationID(m.ID, r.ID, app.ChannelEmail), CaseID: c.ID, MessageID: m.ID,
			ClinicID: c.ClinicID, ResidentID: r.ID, RecipientID: r.ID, Channel: app.ChannelEmail,
			Address: fmt.Sprintf("mottagare%d@example.com", i), State: app.NotificationQueued, CreatedAt: now, NextAttempt: now}
		ts = append(ts, app.Thread{Case: c, Messages: []app.Message{m}, Outbox: []app.Notification{nt}})
		ids = append(ids, nt.ID)
	}
	if err := s.ImportThreads(ctx, ts); err != nil {
		t.Fatal(err)
	}
	return ids
}

func mailClient(t *testing.T, mp *mailpittest.Server) *notify.SMTPClient {
	t.Helper()
	c, err := notify.NewSMTPClient(notify.SMTPConfig{Host: "127.0.0.1", Port: mp.SMTPPort, TLS: notify.TLSNone,
		From: "1177 <no-reply@region.example>", AllowInsecureLoopback: true, CommandTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mailpitIDs lists the Message-IDs mailpit holds, with how often each came.
func mailpitIDs(t *testing.T, mp *mailpittest.Server) map[string]int {
	t.Helper()
	resp, err := http.Get(mp.API + "/api/v1/messages?limit=100000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Messages []struct{ MessageID string } }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range list.Messages {
		out[m.MessageID]++
	}
	return out
}

// TestDispatchersOnTwoNodesSendOnce: two nodes' dispatchers deliver one
// outbox at the same time through a real SMTP server (mailpit): every
// notification arrives exactly once. Then a node that claimed a batch
// and died before sending it: when its lease ends the other node sends
// the batch, once.
func TestDispatchersOnTwoNodesSendOnce(t *testing.T) {
	mp := mailpittest.Start(t)
	url := shared(t).NewDatabase(t)
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, url, Options{ServerKey: testServerKey})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	const n = 240
	ids := queueMail(t, a, n)

	var wg sync.WaitGroup
	for _, st := range []*Store{a, b} {
		d := &notify.Dispatcher{Outbox: st, Mail: mailClient(t, mp), Batch: 15}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := d.RunOnce(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if got == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	sent := mailpitIDs(t, mp)
	if len(sent) != n {
		t.Errorf("mailpit holds %d distinct notifications, want %d", len(sent), n)
	}
	for id, times := range sent {
		if times != 1 {
			t.Errorf("notification %s arrived %d times", id, times)
		}
	}
	for _, st := range []*Store{a, b} {
		due, err := st.DueNotifications(ctx, app.ChannelEmail, time.Now().Add(time.Hour), 1000)
		if err != nil || len(due) != 0 {
			t.Fatalf("still due after both dispatchers: %d, %v", len(due), err)
		}
	}
	if len(ids) != n {
		t.Fatalf("queued %d", len(ids))
	}

	// A node claims a batch and dies before it sends anything.
	more := queueMail2(t, a, 30)
	claimed, err := b.ClaimNotifications(ctx, app.ChannelEmail, time.Now(), 300*time.Millisecond, 1000)
	if err != nil || len(claimed) != len(more) {
		t.Fatalf("claimed %d, %v; want %d", len(claimed), err, len(more))
	}
	d := &notify.Dispatcher{Outbox: a, Mail: mailClient(t, mp), Batch: 100}
	if got, err := d.RunOnce(ctx); err != nil || got != 0 {
		t.Fatalf("node a sent %d of node b's claimed batch before its lease ended (%v)", got, err)
	}
	time.Sleep(400 * time.Millisecond)
	if got, err := d.RunOnce(ctx); err != nil || got != len(more) {
		t.Fatalf("after the lease node a sent %d, %v; want %d", got, err, len(more))
	}
	sent = mailpitIDs(t, mp)
	if len(sent) != n+len(more) {
		t.Errorf("mailpit holds %d distinct notifications, want %d", len(sent), n+len(more))
	}
	for id, times := range sent {
		if times != 1 {
			t.Errorf("notification %s arrived %d times", id, times)
		}
	}
}

// queueMail2 queues n more notifications on cases of the data already seeded.
func queueMail2(t *testing.T, s *Store, n int) []app.ID {
	t.Helper()
	ctx := context.Background()
	clinics, err := s.Clinics(ctx)
	if err != nil || len(clinics) == 0 {
		t.Fatal(err)
	}
	rs, _, err := s.ReadableResidents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ids []app.ID
	var ts []app.Thread
	for i := range n {
		r := rs[i%len(rs)]
		c := app.Case{ID: app.NewID(now), ClinicID: clinics[0].ID, ResidentID: r.ID, Kind: app.KindInformation,
			Subject: "Information", Status: app.StatusClosed, CreatedAt: now, LastActivity: now}
		m := app.Message{ID: app.NewID(now), CaseID: c.ID, Author: app.AuthorStaff, At: now, Text: "Hej"}
		nt := app.Notification{ID: app.NotificationID(m.ID, r.ID, app.ChannelEmail), CaseID: c.ID, MessageID: m.ID,
			ClinicID: c.ClinicID, ResidentID: r.ID, RecipientID: r.ID, Channel: app.ChannelEmail,
			Address: fmt.Sprintf("fler%d@example.com", i), State: app.NotificationQueued, CreatedAt: now, NextAttempt: now}
		ts = append(ts, app.Thread{Case: c, Messages: []app.Message{m}, Outbox: []app.Notification{nt}})
		ids = append(ids, nt.ID)
	}
	if err := s.ImportThreads(ctx, ts); err != nil {
		t.Fatal(err)
	}
	return ids
}
