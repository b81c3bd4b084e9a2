package sync_test

import (
	"fmt"
	stdsync "sync"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	msync "mottagning/sync"
)

// The same push reaching the server twice at once (a retransmission
// racing the original, or an old push the network held back arriving
// with the desktop's retry): each op is applied once and both copies get
// the same answer (docs/sync.md, Push: exactly once). The convergence
// test meets this at random; these make it happen many times in a row.

// pushTwice sends req n times at the same time and returns the answers.
func pushTwice(t *testing.T, d *desktop, req *msync.PushRequest, n int) []*msync.PushResponse {
	t.Helper()
	tok, err := d.tokens.Token(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*msync.PushResponse, n)
	errs := make([]error, n)
	var wg stdsync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); out[i], errs[i] = d.c.SyncPush(d.ctx, tok, req) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestPush_CaseCreateTwiceAtOnceAppliedOnce: Skicka ärende made offline,
// its push arriving twice at once. The case is created once; neither
// copy may answer "rejected" (the desktop would show a case the server
// holds, and whose notification went out, as not sent), and the server's
// op memory must keep "applied" for a later retry.
func TestPush_CaseCreateTwiceAtOnceAppliedOnce(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	clinic := ce.ds.Clinics[0].ID
	d := newDesktop(t, ce, "")
	d.signIn(ce.staff(demo.StaffReceiver), clinic)
	d.mustSync()
	var residents []app.ID
	for _, th := range ce.ds.Threads {
		if th.Case.ClinicID == clinic {
			residents = append(residents, th.Case.ResidentID)
		}
	}
	made := 0
	for i := 0; i < 40 && made < 20; i++ {
		d.f.down.Store(true)
		id, err := sendCase(d.ctx, d.store, d.cases, d.sess, residents[i%len(residents)], fmt.Sprint("Dubbel ", i))
		d.f.down.Store(false)
		if err != nil {
			continue // a resident who cannot be reached: refused locally
		}
		made++
		ops, err := d.store.PendingOps(d.ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var create string
		for _, op := range ops {
			if op.Kind == app.OpCaseCreate {
				create = op.ID
			}
		}
		for k, resp := range pushTwice(t, d, &msync.PushRequest{DeviceID: d.store.SyncDevice(), Ops: ops}, 2) {
			for _, r := range resp.Results {
				if r.ID == create && r.Outcome != app.OpApplied {
					t.Errorf("case %s: copy %d of the push answers the create %s: %s", id, k, r.Outcome, r.Reason)
				}
			}
		}
		if r, err := ce.store.AppliedOp(d.ctx, create); err != nil || r.Outcome != app.OpApplied {
			t.Errorf("case %s: the server remembers the create as %+v (%v), want applied", id, r, err)
		}
		d.mustSync()
		if st := d.eng.Status(); len(st.Rejected) > 0 {
			t.Fatalf("case %s: the desktop shows %d rejections, first %+v", id, len(st.Rejected), st.Rejected[0].Result)
		}
	}
	if made == 0 {
		t.Fatal("no case sent")
	}
}

// TestPush_OldPushRacingNewerAppliedOnce: staff close a case and reopen
// it offline; the push of the close alone (held back by the network)
// arrives at the same time as the desktop's retry with both ops. The
// close is applied once, before the reopen: the case ends open.
func TestPush_OldPushRacingNewerAppliedOnce(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	clinic := ce.ds.Clinics[0].ID
	d := newDesktop(t, ce, "")
	d.signIn(ce.staff(demo.StaffReceiver), clinic)
	d.mustSync()
	var id app.ID
	for _, th := range ce.ds.Threads {
		if th.Case.ClinicID == clinic && th.Case.Status != app.StatusClosed {
			id = th.Case.ID
			break
		}
	}
	for i := 0; i < 60; i++ {
		if err := d.cases.Close(d.ctx, d.sess, id); err != nil {
			t.Fatal(err)
		}
		if err := d.cases.Reopen(d.ctx, d.sess, id); err != nil {
			t.Fatal(err)
		}
		ops, err := d.store.PendingOps(d.ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 2 {
			t.Fatalf("round %d: %d ops queued, want close and reopen", i, len(ops))
		}
		tok, err := d.tokens.Token(d.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var wg stdsync.WaitGroup
		for k, batch := range [][]app.SyncOp{ops[:1], ops, ops[:1]} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.c.SyncPush(d.ctx, tok, &msync.PushRequest{DeviceID: d.store.SyncDevice(), Ops: batch}); err != nil {
					t.Errorf("round %d: push %d: %v", i, k, err)
				}
			}()
		}
		wg.Wait()
		c, err := ce.store.Case(d.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == app.StatusClosed {
			t.Fatalf("round %d: the case is closed on the server: the close was applied again after the reopen", i)
		}
		d.mustSync()
	}
}
