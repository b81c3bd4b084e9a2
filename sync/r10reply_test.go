package sync_test

import (
	"fmt"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// TestR10_OfflineReplyRejectedWhenLoginLockedMeanwhile (issue 14, item
// 6): a reply written on a desktop that did not yet know that the
// resident locked their login is refused by the server as a new case is
// (R10: the op is rejected with unreachable and the lock's reason), and
// the desktop lists it as a rejected change with that Swedish reason;
// the server's case gets no message and nobody is notified. Once the
// lock has reached the desktop, its case view is told before typing and
// the desktop refuses the reply itself.
func TestR10_OfflineReplyRejectedWhenLoginLockedMeanwhile(t *testing.T) {
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
	sent, err := a.cases.SendCase(ctx, a.sess, app.SendRequest{TemplateID: ce.template(centrum, app.KindQuestion), ResidentID: maria.ID,
		Subject: "Fråga", Text: "Hur mår du?"})
	if err != nil {
		t.Fatal(err)
	}
	a.mustSync()
	before, err := ce.store.Thread(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	notified, err := ce.store.NotificationsOfCase(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}

	a.f.down.Store(true)
	if err := a.cases.Reply(ctx, a.sess, sent.ID, "Ett svar skrivet offline."); err != nil {
		t.Fatalf("reply offline (the desktop does not know of the lock): %v", err)
	}
	if err := ce.c.LockLogin(ctx, ce.resident(demo.AdultBoth)); err != nil {
		t.Fatalf("lock: %v", err)
	}
	a.f.down.Store(false)
	a.mustSync()

	st := a.eng.Status()
	want := fmt.Sprint([]app.BlockReason{app.BlockLoginLocked})
	if len(st.Rejected) != 1 || st.Rejected[0].Op.Kind != app.OpCaseMessage || st.Rejected[0].Result.Code != "unreachable" ||
		fmt.Sprint(st.Rejected[0].Result.Blocks) != want || !strings.Contains(st.Rejected[0].Result.Reason, "låst") {
		t.Fatalf("rejected = %+v; want the reply, unreachable %s", st.Rejected, want)
	}
	after, err := ce.store.Thread(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Messages) != len(before.Messages) {
		t.Fatalf("the server holds the refused reply: %d → %d messages", len(before.Messages), len(after.Messages))
	}
	if ns, err := ce.store.NotificationsOfCase(ctx, sent.ID); err != nil || len(ns) != len(notified) {
		t.Fatalf("notifications %d → %d (%v); want none for the refused reply", len(notified), len(ns), err)
	}

	// The lock has reached the desktop with the pull.
	r, err := a.cases.ReplyReach(ctx, a.sess, sent.ID)
	if err != nil || fmt.Sprint(r.Blocking) != want {
		t.Fatalf("desktop ReplyReach = %+v, %v; want %s", r, err, want)
	}
	if err := a.cases.Reply(ctx, a.sess, sent.ID, "Ett svar till."); err == nil {
		t.Fatal("the desktop took a reply to a locked resident")
	}
}
