package sync_test

import (
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

// TestRejectedReplyLeavesNoLocalCopy: a reply made offline that the
// server rejects (the resident locked their login meanwhile, R10) is
// kept in the list of rejected changes and removed from the desktop's
// case, which then equals the server's (found by the crash test: the
// server's state of a case used to be laid over the local copy, so a
// rejected message stayed on the desktop for good).
func TestRejectedReplyLeavesNoLocalCopy(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffReceiver), centrum)
	a.mustSync()
	maria := ce.persona(demo.AdultEmail)
	if _, err := a.lookup.LookupResident(ctx, a.sess, maria.PNR); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	sent, err := a.cases.SendCase(ctx, a.sess, app.SendRequest{TemplateID: ce.template(centrum, app.KindQuestion), ResidentID: maria.ID,
		Subject: "Fråga", Text: "Hur mår du?"})
	if err != nil {
		t.Fatal(err)
	}
	a.mustSync()
	a.f.down.Store(true)
	if err := a.cases.Reply(ctx, a.sess, sent.ID, "Ett svar som inte når fram"); err != nil {
		t.Fatalf("reply offline: %v", err)
	}
	ops, err := a.store.PendingOps(ctx, 0)
	if err != nil || len(ops) != 1 || ops[0].Kind != app.OpCaseMessage {
		t.Fatalf("pending = %+v, %v", ops, err)
	}
	// The server's answer: rejected by a rule, with its state of the case.
	state, err := ce.store.PulledThreads(ctx, []app.ID{sent.ID})
	if err != nil {
		t.Fatal(err)
	}
	res := app.Rejected(&ops[0], app.ErrForbidden, time.Now())
	if err := a.store.DropAnsweredOps(ctx, []app.OpResult{res}, state); err != nil {
		t.Fatal(err)
	}
	a.f.down.Store(false)
	a.mustSync()
	if st := a.eng.Status(); len(st.Rejected) != 1 || st.Rejected[0].Op.Kind != app.OpCaseMessage {
		t.Fatalf("rejected = %+v", st.Rejected)
	}
	got, err := a.store.Thread(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ce.store.Thread(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Messages) != 1 || js(got) != js(want) {
		t.Fatalf("desktop's case differs from the server's:\n got %s\nwant %s", js(got), js(want))
	}
}
