package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mottagning/app"
	"mottagning/notify"
	"mottagning/storage"
)

// benchNotifications is how many notifications BenchmarkOutboxToMailpit sends.
const benchNotifications = 10000

// BenchmarkOutboxToMailpit sends 10,000 e-mail notifications through the
// durable outbox to mailpit — due-index reads, one connection per batch,
// each batch's attempts committed with fsync — and, in the same run, the
// same 10,000 messages with raw go-smtp over one connection to the same
// mailpit. It reports both rates and their ratio (goal ≥ 0.5).
//
//	go test ./notify -run '^$' -bench OutboxToMailpit -benchtime 1x
func BenchmarkOutboxToMailpit(b *testing.B) {
	mp := startMailpit(b, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// A durable store (fsync on) with 10,000 due notifications,
		// written with their cases as SendCase writes them.
		s, err := storage.Open(ctx, b.TempDir(), storage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		threads := make([]app.Thread, benchNotifications)
		msgs := make([][]byte, benchNotifications)
		addrs := make([]string, benchNotifications)
		for j := range threads {
			c := app.Case{ID: app.NewID(seedTime), ClinicID: "K", ResidentID: app.ID(fmt.Sprintf("R%05d", j)), Kind: app.KindInformation,
				Subject: "x", Status: app.StatusClosed, StartedBy: app.StartedByClinic, CreatedAt: seedTime, LastActivity: seedTime}
			m := app.Message{ID: app.NewID(seedTime), CaseID: c.ID, Author: app.AuthorStaff, At: seedTime, Text: "x"}
			addrs[j] = fmt.Sprintf("bench.%05d@example.com", j)
			n := app.Notification{ID: app.NotificationID(m.ID, c.ResidentID, app.ChannelEmail), CaseID: c.ID, MessageID: m.ID, ClinicID: c.ClinicID,
				ResidentID: c.ResidentID, RecipientID: c.ResidentID, Channel: app.ChannelEmail, Address: addrs[j],
				State: app.NotificationQueued, CreatedAt: seedTime, NextAttempt: seedTime}
			threads[j] = app.Thread{Case: c, Messages: []app.Message{m}, Outbox: []app.Notification{n}}
			msgs[j], err = notify.BuildMail(notify.Mail{From: testFrom, To: addrs[j], ID: n.ID, Date: seedTime})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := s.ImportThreads(ctx, threads); err != nil {
			b.Fatal(err)
		}
		cl := plainClient(b, mp.SMTPPort)
		d := &notify.Dispatcher{Outbox: s, Mail: cl, Clock: app.FixedClock(seedTime), Batch: 200}
		b.StartTimer()

		start := time.Now()
		sent := 0
		for {
			n, err := d.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			sent += n
		}
		outboxTime := time.Since(start)
		conns := (benchNotifications + 199) / 200

		// Raw go-smtp: the same messages over the same number of
		// connections, nothing recorded.
		start = time.Now()
		for c := 0; c < conns; c++ {
			rc, err := smtp.Dial(fmt.Sprintf("127.0.0.1:%d", mp.SMTPPort))
			if err != nil {
				b.Fatal(err)
			}
			for j := c * 200; j < min((c+1)*200, benchNotifications); j++ {
				if err := rc.SendMail("no-reply@region.example", []string{addrs[j]}, bytesReader(msgs[j])); err != nil {
					b.Fatal(err)
				}
			}
			rc.Quit()
		}
		rawTime := time.Since(start)
		b.StopTimer()

		if sent != benchNotifications {
			b.Fatalf("outbox sent %d, want %d", sent, benchNotifications)
		}
		if due, _ := s.DueNotifications(ctx, app.ChannelEmail, seedTime.Add(time.Hour), 10); len(due) != 0 {
			b.Fatalf("%d notifications still due", len(due))
		}
		if err := s.Check(); err != nil {
			b.Fatal(err)
		}
		s.Close()
		outboxRate := float64(benchNotifications) / outboxTime.Seconds()
		rawRate := float64(benchNotifications) / rawTime.Seconds()
		b.ReportMetric(outboxRate, "outbox-msg/s")
		b.ReportMetric(rawRate, "raw-msg/s")
		b.ReportMetric(outboxRate/rawRate, "ratio")
		b.Logf("%d notifications over %d connections: outbox %.0f msg/s (%v), raw go-smtp %.0f msg/s (%v), ratio %.2f",
			benchNotifications, conns, outboxRate, outboxTime.Round(time.Millisecond), rawRate, rawTime.Round(time.Millisecond), outboxRate/rawRate)
		b.StartTimer()
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
