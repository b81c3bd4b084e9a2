package main

import (
	"context"
	"testing"
	"time"

	"mottagning/app/demo"
	"mottagning/client"
)

// TestProcessShutdownEndsLongPolls: desktops wait on GET /api/sync/events
// (held open up to msync.EventsWait seconds); a SIGTERM ends those waits
// at once, so the graceful shutdown finishes well within its grace period
// and the process exits 0 (issue 14: it ran into the deadline and exited 1).
func TestProcessShutdownEndsLongPolls(t *testing.T) {
	p := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo")
	ctx := t.Context()
	tok, err := p.c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "anna", Password: demo.Password("anna"), DeviceName: "Testdator"})
	if err != nil {
		t.Fatalf("staff sign-in: %v", err)
	}
	first, err := p.c.SyncEvents(ctx, tok.AccessToken, "")
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	// A desktop waits longer than the server holds a poll open.
	p.logs.mu.Lock()
	fp := p.logs.fp
	p.logs.mu.Unlock()
	patient, err := client.New("https://"+p.addr, client.Options{PinSHA256: fp, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer patient.CloseIdle()
	const polls = 4
	type answer struct {
		err error
		at  time.Time
	}
	answers := make(chan answer, polls)
	for range polls {
		go func() {
			// Up to date: the server holds the request open.
			_, err := patient.SyncEvents(context.WithoutCancel(ctx), tok.AccessToken, first.Head)
			answers <- answer{err, time.Now()}
		}()
	}
	time.Sleep(500 * time.Millisecond) // the polls reach the server and wait
	select {
	case a := <-answers:
		t.Fatalf("a long poll ended before the shutdown: %v", a.err)
	default:
	}
	sent := time.Now()
	p.stop(t) // SIGTERM, exit status 0, "stopped"
	if d := time.Since(sent); d > 3*time.Second {
		t.Errorf("the server took %v to stop with %d long polls open, want under 3 s", d.Round(time.Millisecond), polls)
	}
	for range polls {
		select {
		case a := <-answers:
			if d := a.at.Sub(sent); d > 3*time.Second {
				t.Errorf("a long poll ended %v after SIGTERM (err %v)", d.Round(time.Millisecond), a.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a long poll still open 5 s after the server stopped")
		}
	}
}
