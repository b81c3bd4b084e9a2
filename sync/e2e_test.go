package sync_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	msync "mottagning/sync"
)

// TestE2E_OfflineSendReplyReadReceiptNotifiedOnce is issue 6's end-to-end
// proof: staff A sends a case while the server cannot be reached; on
// reconnect the op applies once (R1, R10 re-checked on the server); the
// resident reads it and replies through the resident API; staff B's
// desktop pulls the reply and the read receipt; mailpit gets the
// notification exactly once, also after the push is replayed.
func TestE2E_OfflineSendReplyReadReceiptNotifiedOnce(t *testing.T) {
	ce := startCentral(t, centralOpt{mailpit: true})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffReceiver), centrum)
	a.mustSync()
	// B: the ärendemottagare's second desktop (an ärendehanterare would
	// not see Anna's case at all).
	b := newDesktop(t, ce, "")
	b.signIn(ce.staff(demo.StaffReceiver), centrum)
	b.mustSync()

	lars := ce.persona(demo.AdultEmail)
	// Online lookup of a resident this desktop may never have seen.
	if _, err := a.lookup.LookupResident(ctx, a.sess, lars.PNR); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	a.mustSync()

	a.f.down.Store(true)
	sent, err := a.cases.SendCase(ctx, a.sess, app.SendRequest{TemplateID: ce.template(centrum, app.KindQuestion), ResidentID: lars.ID,
		Subject: "Provsvar", Text: "Hej! Dina provsvar är klara. Hur mår du?"})
	if err != nil {
		t.Fatalf("send offline: %v", err)
	}
	if err := a.sync(); err == nil || !msync.Offline(err) {
		t.Fatalf("sync while down = %v, want offline", err)
	}
	if st := a.eng.Status(); st.Online || st.Pending == 0 || st.LastError == "" {
		t.Fatalf("status while down = %+v", st)
	}
	if _, err := ce.store.Case(ctx, sent.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("server has the case before reconnect: %v", err)
	}
	queued, err := a.store.PendingOps(ctx, 0)
	if err != nil || len(queued) == 0 {
		t.Fatalf("pending = %d, %v", len(queued), err)
	}

	a.f.down.Store(false)
	a.mustSync()
	if st := a.eng.Status(); !st.Online || st.Pending != 0 || st.LastSync.IsZero() || len(st.Rejected) != 0 {
		t.Fatalf("status after reconnect = %+v", st)
	}
	srvCase, err := ce.store.Case(ctx, sent.ID)
	if err != nil || srvCase.AssigneeID != a.sess.Staff.ID || srvCase.Status != app.StatusWaiting {
		t.Fatalf("server case = %+v, %v", srvCase, err)
	}
	local, err := a.store.Case(ctx, sent.ID)
	if err != nil || local.Version != srvCase.Version || local.Version == 0 {
		t.Fatalf("desktop version %+v, %v; want the server's %d", local, err, srvCase.Version)
	}
	waitFor(t, "the notification in mailpit", func() bool { return ce.mp.to(t, lars.Settings.Email) >= 1 })

	// The resident reads (read receipt) and replies.
	tok := ce.resident(demo.AdultEmail)
	if _, err := ce.c.ReadCase(ctx, tok, string(sent.ID)); err != nil {
		t.Fatalf("resident read: %v", err)
	}
	if _, err := ce.c.ResidentReply(ctx, tok, string(sent.ID), "Tack, jag mår bra."); err != nil {
		t.Fatalf("resident reply: %v", err)
	}
	b.mustSync()
	th, err := b.store.Thread(ctx, sent.ID)
	if err != nil {
		t.Fatalf("B has no case: %v", err)
	}
	if len(th.Messages) != 2 || th.Messages[0].ReadByResident.IsZero() || th.Messages[1].Author != app.AuthorResident ||
		!th.Case.UnreadByStaff || th.Case.Status != app.StatusOngoing {
		t.Fatalf("B sees %+v", th)
	}

	// A replayed push: the stored results, nothing applied twice.
	access, err := a.tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.c.SyncPush(ctx, access, &msync.PushRequest{DeviceID: a.store.SyncDevice(), Ops: queued})
	if err != nil || len(resp.Results) != len(queued) {
		t.Fatalf("replay = %+v, %v", resp, err)
	}
	for i, r := range resp.Results {
		if r.ID != queued[i].ID || r.Outcome != app.OpApplied {
			t.Fatalf("replay result %d = %+v", i, r)
		}
	}
	th2, _ := ce.store.Thread(ctx, sent.ID)
	ns, _ := ce.store.NotificationsOfCase(ctx, sent.ID)
	if len(th2.Messages) != 2 || len(ns) != 1 {
		t.Fatalf("after replay: %d messages, %d notifications; want 2 and 1", len(th2.Messages), len(ns))
	}
	time.Sleep(300 * time.Millisecond) // the dispatcher polls every 50 ms
	if n := ce.mp.to(t, lars.Settings.Email); n != 1 {
		t.Fatalf("mailpit has %d notifications to the resident, want exactly 1", n)
	}
	// And B's replica carries the notification's state (no address).
	b.mustSync()
	bn, _ := b.store.NotificationsOfCase(ctx, sent.ID)
	if len(bn) != 1 || bn[0].Address != app.Hidden || bn[0].State != app.NotificationSent {
		t.Fatalf("B's notification states = %+v", bn)
	}
}

// TestR10_OfflineSendRejectedWhenLoginLockedMeanwhile: the server
// re-checks reachability when it applies the op; the desktop keeps the
// rejection with its Swedish reason and drops the case it made.
func TestR10_OfflineSendRejectedWhenLoginLockedMeanwhile(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffReceiver), centrum)
	a.mustSync()
	maria := ce.persona(demo.AdultBoth)
	if _, err := a.lookup.LookupResident(ctx, a.sess, maria.PNR); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	a.mustSync()
	a.f.down.Store(true)
	sent, err := a.cases.SendCase(ctx, a.sess, app.SendRequest{TemplateID: ce.template(centrum, app.KindInformation), ResidentID: maria.ID,
		Subject: "Kallelse", Text: "Välkommen på återbesök."})
	if err != nil {
		t.Fatalf("send offline: %v", err)
	}
	tok := ce.resident(demo.AdultBoth)
	if err := ce.c.LockLogin(ctx, tok); err != nil {
		t.Fatalf("lock: %v", err)
	}
	a.f.down.Store(false)
	a.mustSync()
	st := a.eng.Status()
	if len(st.Rejected) != 1 || st.Rejected[0].Result.Code != "unreachable" || !strings.Contains(st.Rejected[0].Result.Reason, "låst") ||
		st.Rejected[0].Op.Kind != app.OpCaseCreate {
		t.Fatalf("rejected = %+v", st.Rejected)
	}
	if _, err := a.store.Case(ctx, sent.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("the rejected case stays on the desktop: %v", err)
	}
	if _, err := ce.store.Case(ctx, sent.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("the server holds the rejected case: %v", err)
	}
	if err := a.eng.Dismiss(ctx, a.sess.Staff.ID, st.Rejected[0].Op.ID); err != nil || len(a.eng.Status().Rejected) != 0 {
		t.Fatalf("dismiss: %v, %+v", err, a.eng.Status().Rejected)
	}
	// Looking up a resident never seen, offline: a clear error.
	a.f.down.Store(true)
	var unseen *app.Resident
	for _, r := range ce.ds.Residents {
		if _, err := a.store.ResidentByPNR(ctx, r.PNR); !r.PNR.IsZero() && errors.Is(err, app.ErrNotFound) {
			unseen = r
			break
		}
	}
	if unseen == nil {
		t.Fatal("every resident is on the desktop: it must hold only those concerned")
	}
	_, err = a.lookup.LookupResident(ctx, a.sess, unseen.PNR)
	if !errors.Is(err, msync.ErrResidentOffline) || !strings.Contains(msync.Message(err), "inte på den här datorn") {
		t.Fatalf("offline lookup = %v (%q)", err, msync.Message(err))
	}
}

// TestConflict_AssigneeDecidedByBaseVersion: two desktops change the
// assignee of the same case; the one on the older base loses, sees the
// server's value, and both replicas end equal to the server.
func TestConflict_AssigneeDecidedByBaseVersion(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	anna, bjorn := ce.staff(demo.StaffReceiver), ce.staff(demo.StaffHandler)
	a := newDesktop(t, ce, "")
	a.signIn(anna, centrum)
	a.mustSync()
	b := newDesktop(t, ce, "")
	b.signIn(anna, centrum)
	b.mustSync()
	var id app.ID
	for _, th := range ce.ds.Threads {
		if th.Case.ClinicID == centrum && th.Case.Status != app.StatusClosed && th.Case.AssigneeID != bjorn.ID && th.Case.AssigneeID != anna.ID {
			id = th.Case.ID
			break
		}
	}
	if id == "" {
		t.Fatal("no open case at centrum")
	}
	a.f.down.Store(true)
	if err := a.cases.Assign(ctx, a.sess, id, bjorn.ID); err != nil {
		t.Fatalf("assign offline: %v", err)
	}
	if err := b.cases.Assign(ctx, b.sess, id, anna.ID); err != nil {
		t.Fatalf("assign: %v", err)
	}
	b.mustSync()
	a.f.down.Store(false)
	a.mustSync()
	st := a.eng.Status()
	if len(st.Conflicts) != 1 || st.Conflicts[0].Result.ServerAssignee != anna.ID {
		t.Fatalf("conflicts = %+v", st.Conflicts)
	}
	b.mustSync()
	srv, _ := ce.store.Case(ctx, id)
	for _, d := range []*desktop{a, b} {
		c, err := d.store.Case(ctx, id)
		if err != nil || c.AssigneeID != anna.ID || c.Version != srv.Version {
			t.Fatalf("replica = %+v, %v; server %+v", c, err, srv)
		}
	}
	// An own earlier change is no conflict: close then reopen offline.
	a.f.down.Store(true)
	if err := a.cases.Close(ctx, a.sess, id); err != nil {
		t.Fatal(err)
	}
	if err := a.cases.Reopen(ctx, a.sess, id); err != nil {
		t.Fatal(err)
	}
	a.f.down.Store(false)
	a.mustSync()
	if st := a.eng.Status(); len(st.Conflicts) != 1 || len(st.Rejected) != 0 {
		t.Fatalf("own changes conflicted: %+v", st)
	}
	if c, _ := ce.store.Case(ctx, id); c.Status != app.StatusOngoing {
		t.Fatalf("server status %s, want reopened", c.Status)
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
