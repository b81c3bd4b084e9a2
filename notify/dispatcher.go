package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mottagning/app"
)

// Backoff is the retry schedule of a notification after a temporary
// failure: Initial after the first, doubling up to Max, and failed for
// good once GiveUp has passed since the notification was made.
type Backoff struct {
	Initial, Max, GiveUp time.Duration
}

// DefaultBackoff: 1 min doubling to 1 h, give up after 3 days.
var DefaultBackoff = Backoff{Initial: time.Minute, Max: time.Hour, GiveUp: 72 * time.Hour}

// Delay is the wait after the attempts-th failed attempt (1 = first).
func (b Backoff) Delay(attempts int) time.Duration {
	d := b.Initial
	for i := 1; i < attempts && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// MailSender is the e-mail side of the dispatcher: *SMTPClient, whose
// sessions reuse one connection for a batch.
type MailSender interface {
	Dial(ctx context.Context) (*SMTPSession, error)
	From() string
}

// Dispatcher delivers the outbox: e-mail in batches over one SMTP
// connection, SMS one by one through an SMSSender. Each attempt is
// recorded; the results of a batch are written in one transaction after
// the batch (one fsync per batch, not per message).
//
// Delivery is at least once. A notification is marked sent only after the
// server answered 250 to its DATA (or the gateway accepted the SMS), and
// it stays queued until then. So nothing is lost: a crash, a dropped
// connection or a full disk leaves it queued, and it is sent again. A
// duplicate can therefore only arise when the server accepted a message
// and that acceptance never reached our disk: the 250 answer lost on the
// wire (the connection dropped after the final dot: the server has the
// message, we saw an I/O error and retry), or the process stopping between
// the server's answer and the batch's commit (at most one batch). Every
// other failure happens before the server has the message, and a message
// the server refused is not retried or is retried because the server said
// it did not take it (4xx). The Message-ID is the notification id on every
// attempt, so a mailbox can tell the copies apart.
//
// It never logs an address: only notification ids, channels and codes.
type Dispatcher struct {
	Outbox app.Outbox
	// Mail sends e-mail; nil leaves e-mail notifications queued.
	Mail MailSender
	// SMS sends SMS; nil leaves SMS notifications queued.
	SMS   SMSSender
	Clock app.Clock
	Log   *slog.Logger
	// Backoff is the retry schedule (DefaultBackoff when zero).
	Backoff Backoff
	// Poll is how often Serve looks for due notifications when the last
	// round found none (default 2 s).
	Poll time.Duration
	// Batch is how many e-mails go over one connection, and how many
	// attempts one transaction records (default 200).
	Batch int
	// OnFailed, when set, is told how many notifications failed for good
	// in a recorded batch (the server's delivery-failure metric).
	OnFailed func(n int)
	// Lease is how long a batch taken from an outbox that several
	// dispatchers share (a Claimer: every server node runs one) is theirs
	// alone (default 10 min). A dispatcher that dies mid-batch leaves its
	// notifications to the others when the lease ends: the ones it had
	// handed to the server without recording it are sent again, the
	// duplicate the type's comment allows for a lost acknowledgement.
	Lease time.Duration
}

// Claimer is an outbox several dispatchers share (the PostgreSQL store):
// ClaimNotifications takes up to limit due notifications on ch for one
// dispatcher, moving their next attempt to now+lease in the same
// transaction, so that no other dispatcher takes them meanwhile (SELECT …
// FOR UPDATE SKIP LOCKED: dispatchers never wait for each other).
type Claimer interface {
	ClaimNotifications(ctx context.Context, ch app.Channel, now time.Time, lease time.Duration, limit int) ([]app.Notification, error)
}

// due is the next batch on ch: claimed when the outbox is shared.
func (d *Dispatcher) due(ctx context.Context, ch app.Channel, now time.Time) ([]app.Notification, error) {
	if c, ok := d.Outbox.(Claimer); ok {
		return c.ClaimNotifications(ctx, ch, now, d.Lease, d.Batch)
	}
	return d.Outbox.DueNotifications(ctx, ch, now, d.Batch)
}

func (d *Dispatcher) defaults() {
	if d.Backoff == (Backoff{}) {
		d.Backoff = DefaultBackoff
	}
	if d.Poll <= 0 {
		d.Poll = 2 * time.Second
	}
	if d.Batch <= 0 {
		d.Batch = 200
	}
	if d.Lease <= 0 {
		d.Lease = 10 * time.Minute
	}
	if d.Clock == nil {
		d.Clock = app.SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
}

// Serve delivers due notifications until ctx ends. A round that found work
// is followed at once by the next; an idle one waits Poll. When the server
// cannot be reached or refuses our configuration, the notifications stay
// queued untouched, the error is logged, and Serve waits longer (doubling
// up to Backoff.Max) before it tries the server again.
func (d *Dispatcher) Serve(ctx context.Context) error {
	d.defaults()
	if d.Mail == nil && d.SMS == nil {
		d.Log.Info("notify: no SMTP server or SMS gateway configured; notifications stay queued")
	}
	wait := d.Poll
	for {
		n, err := d.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			d.Log.Error("notify: delivery round failed; notifications stay queued", "err", err, "retry_in", wait)
			wait = min(wait*2, d.Backoff.Max)
		case n > 0:
			wait = d.Poll
			continue
		default:
			wait = d.Poll
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// result is the outcome of one attempt.
type result struct {
	err  error
	code string
	wait time.Duration // at least this long before the next attempt (Retry-After)
}

// RunOnce makes one round: one batch of e-mail and one of SMS that are
// due. It returns how many attempts it recorded. A configuration or
// connection error is returned with nothing recorded for the notifications
// that were not tried.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.defaults()
	var errs []error
	total := 0
	if d.Mail != nil {
		n, err := d.mailRound(ctx)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("e-mail: %w", err))
		}
	}
	if d.SMS != nil && ctx.Err() == nil {
		n, err := d.smsRound(ctx)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("sms: %w", err))
		}
	}
	return total, errors.Join(errs...)
}

func (d *Dispatcher) mailRound(ctx context.Context) (int, error) {
	now := d.Clock.Now()
	due, err := d.due(ctx, app.ChannelEmail, now)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	sess, err := d.Mail.Dial(ctx)
	if err != nil {
		// The server, not a recipient: nothing is recorded, all stay due.
		return 0, err
	}
	results := make(map[app.ID]result, len(due))
	for i := range due {
		n := &due[i]
		if ctx.Err() != nil {
			break
		}
		msg, err := BuildMail(Mail{From: d.Mail.From(), To: n.Address, ID: n.ID, Date: d.Clock.Now()})
		if err != nil {
			results[n.ID] = result{err: err, code: "bad-address"}
			continue
		}
		err = sess.Send(n.Address, msg)
		r := result{err: err}
		var se *SendError
		if errors.As(err, &se) {
			r.code = se.Code
		}
		results[n.ID] = r
		if sess.Broken() {
			// The rest of the batch was not tried: it stays due as it
			// is and goes over a new connection in the next round.
			break
		}
	}
	sess.Close()
	return len(results), d.record(ctx, results)
}

func (d *Dispatcher) smsRound(ctx context.Context) (int, error) {
	now := d.Clock.Now()
	due, err := d.due(ctx, app.ChannelSMS, now)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	results := make(map[app.ID]result, len(due))
	for i := range due {
		n := &due[i]
		if ctx.Err() != nil {
			break
		}
		err := d.SMS.SendSMS(ctx, n.Address, app.SMSText)
		r := result{err: err}
		if err != nil {
			r.code = "sms-" + SMSErrorCode(err)
			r.wait, _ = RetryAfter(err)
		}
		results[n.ID] = r
		if r.code == "sms-"+SMSCodeAuth || r.code == "sms-config" {
			// Our credentials or settings, not this number: the ones
			// not tried stay due, and this one is not held against
			// the recipient either.
			delete(results, n.ID)
			if rerr := d.record(ctx, results); rerr != nil {
				return len(results), rerr
			}
			return len(results), fmt.Errorf("SMS gateway refused our settings: %w", err)
		}
	}
	return len(results), d.record(ctx, results)
}

// record writes the attempts of one batch in one transaction.
func (d *Dispatcher) record(ctx context.Context, results map[app.ID]result) error {
	if len(results) == 0 {
		return nil
	}
	ids := make([]app.ID, 0, len(results))
	for id := range results {
		ids = append(ids, id)
	}
	now := d.Clock.Now()
	var sent, retry, failed int
	err := d.Outbox.UpdateNotifications(context.WithoutCancel(ctx), ids, func(n *app.Notification) error {
		r := results[n.ID]
		if n.State != app.NotificationQueued {
			return nil // settled meanwhile (another dispatcher, after this one's lease ended)
		}
		n.Attempts++
		n.LastAttempt = now
		switch {
		case r.err == nil:
			n.State, n.DoneAt, n.LastError = app.NotificationSent, now, ""
			sent++
		case IsTemporary(r.err) && now.Sub(n.CreatedAt) < d.Backoff.GiveUp:
			n.NextAttempt = now.Add(max(d.Backoff.Delay(n.Attempts), r.wait))
			n.LastError = r.code
			retry++
			d.Log.Warn("notify: temporary failure, will retry", "notification", n.ID, "channel", n.Channel, "code", r.code, "attempts", n.Attempts, "next", n.NextAttempt)
		default:
			n.State, n.DoneAt, n.LastError = app.NotificationFailed, now, r.code
			if IsTemporary(r.err) {
				n.LastError = r.code + " gave-up"
			}
			failed++
			d.Log.Warn("notify: failed for good", "notification", n.ID, "channel", n.Channel, "code", n.LastError, "attempts", n.Attempts)
		}
		return nil
	})
	if err != nil {
		// The server has these messages but we could not record it:
		// they stay queued and will be sent again (see Dispatcher).
		return fmt.Errorf("record %d attempts: %w", len(ids), err)
	}
	d.Log.Debug("notify: batch recorded", "sent", sent, "retry", retry, "failed", failed)
	if failed > 0 && d.OnFailed != nil {
		d.OnFailed(failed)
	}
	return nil
}

// TestSender implements app.TestSender ("Skicka testavisering") over the
// configured channels: the fixed text, once, outside the outbox.
type TestSender struct {
	Mail  MailSender // nil: e-mail not configured
	SMS   SMSSender  // nil: SMS not configured
	Clock app.Clock
}

var _ app.TestSender = (*TestSender)(nil)

// SendTest sends the fixed e-mail or SMS to address (already validated by
// app.CheckNotifyAddress). Errors carry codes, never the address.
func (s *TestSender) SendTest(ctx context.Context, ch app.Channel, address string) error {
	now := time.Now()
	if s.Clock != nil {
		now = s.Clock.Now()
	}
	switch ch {
	case app.ChannelEmail:
		if s.Mail == nil {
			return app.ErrNotConfigured
		}
		msg, err := BuildMail(Mail{From: s.Mail.From(), To: address, ID: app.NewID(now) + ".test", Date: now})
		if err != nil {
			return err
		}
		sess, err := s.Mail.Dial(ctx)
		if err != nil {
			return err
		}
		defer sess.Close()
		return sess.Send(address, msg)
	case app.ChannelSMS:
		if s.SMS == nil {
			return app.ErrNotConfigured
		}
		return s.SMS.SendSMS(ctx, address, app.SMSText)
	}
	return fmt.Errorf("channel %q: %w", ch, app.ErrInvalid)
}
