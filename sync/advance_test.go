package sync_test

import (
	"context"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	msync "mottagning/sync"
)

// pullCounter counts the cases pulled pages bring.
type pullCounter struct {
	msync.Remote
	cases []app.ID
}

func (p *pullCounter) SyncPull(ctx context.Context, tok, cursor string, limit int) (*msync.PullResponse, error) {
	resp, err := p.Remote.SyncPull(ctx, tok, cursor, limit)
	if err == nil {
		for _, th := range resp.Changes.Threads {
			p.cases = append(p.cases, th.Case.ID)
		}
	}
	return resp, err
}

// A push's answer moves the desktop's cursor past the feed entries of its
// own changes when the feed holds nothing else for it (docs/sync.md,
// Push), so the pull that follows brings nothing; when something else
// changed meanwhile (a resident's reply on another case), the cursor stays
// and the pull brings that case.
func TestPush_AnswerMovesCursorPastOwnChanges(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	d := newDesktop(t, ce, "")
	d.signIn(ce.staff(demo.StaffReceiver), ce.ds.Clinics[0].ID)
	count := &pullCounter{Remote: d.c}
	d.eng = msync.New(msync.Options{Replica: d.store, Remote: count, Tokens: d.tokens, DeviceID: d.store.SyncDevice(), Log: quiet, NoEvents: true})
	d.mustSync()
	page, err := d.store.ListCases(d.ctx, app.CaseQuery{ClinicID: d.sess.ClinicID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var open []app.Case
	for _, c := range page.Cases {
		if c.Status != app.StatusClosed && c.Kind != app.KindInformation {
			open = append(open, c)
		}
	}
	if len(open) < 2 {
		t.Fatalf("want two open cases, have %d", len(open))
	}

	// Only this desktop's change: no case comes back in the pull.
	if err := d.cases.Reply(d.ctx, d.sess, open[0].ID, "Vi ringer dig i morgon."); err != nil {
		t.Fatal(err)
	}
	count.cases = nil
	d.mustSync()
	if len(count.cases) != 0 {
		t.Fatalf("the pull after a push brought %d cases back: the cursor did not move with the answer", len(count.cases))
	}
	if srv, _ := ce.store.Case(d.ctx, open[0].ID); srv == nil || func() bool { l, _ := d.store.Case(d.ctx, open[0].ID); return l.Version != srv.Version }() {
		t.Fatal("the desktop's copy is not the server's after the push")
	}

	// A resident replies on another case of the clinic (resident API);
	// then this desktop pushes again: the cursor must not skip that reply.
	other := open[1]
	var who string
	for key, id := range ce.ds.Persona {
		if id == other.ResidentID {
			who = key
		}
	}
	if who == "" {
		t.Skip("the other open case's resident is no persona")
	}
	tok := ce.resident(who)
	if _, err := ce.c.ResidentReply(d.ctx, tok, string(other.ID), "Tack, det går bra."); err != nil {
		t.Skipf("the resident cannot reply on this case: %v", err)
	}
	if err := d.cases.Reply(d.ctx, d.sess, open[0].ID, "En sak till."); err != nil {
		t.Fatal(err)
	}
	count.cases = nil
	d.mustSync()
	found := false
	for _, id := range count.cases {
		found = found || id == other.ID
	}
	if !found {
		t.Fatalf("the resident's reply on another case was not pulled (pulled %v)", count.cases)
	}
	th, err := d.store.Thread(d.ctx, other.ID)
	if err != nil || th.Messages[len(th.Messages)-1].Text != "Tack, det går bra." {
		t.Fatalf("the desktop lacks the resident's reply: %v", err)
	}
}
