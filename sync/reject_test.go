package sync_test

import (
	"errors"
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
	state, err := ce.store.(pulledThreader).PulledThreads(ctx, []app.ID{sent.ID})
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

// TestRejectedCreateKeepsItsTextForItsMaker: a new case made offline that
// the server refuses (R10: the resident locked their login meanwhile)
// leaves the desktop's case lists, but its op stays in the list of
// rejected changes (stored in bbolt) with the staff member who made it
// and the whole text. Only its maker is told the text and
// may dismiss it; a colleague signed in on the same desktop may not.
func TestRejectedCreateKeepsItsTextForItsMaker(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	anna := ce.staff(demo.StaffReceiver)
	a.signIn(anna, centrum)
	a.mustSync()
	maria := ce.persona(demo.AdultBoth)
	if _, err := a.lookup.LookupResident(ctx, a.sess, maria.PNR); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	a.mustSync()
	a.f.down.Store(true)
	const text = "Välkommen på återbesök den 3 april kl. 10.15. Ta med dina glasögon."
	sent, err := a.cases.SendCase(ctx, a.sess, app.SendRequest{TemplateID: ce.template(centrum, app.KindInformation), ResidentID: maria.ID,
		Subject: "Kallelse till återbesök", Text: text})
	if err != nil {
		t.Fatalf("send offline: %v", err)
	}
	if err := ce.c.LockLogin(ctx, ce.resident(demo.AdultBoth)); err != nil {
		t.Fatalf("lock: %v", err)
	}
	a.f.down.Store(false)
	a.mustSync()
	if _, err := a.store.Case(ctx, sent.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("the rejected case stays on the desktop: %v", err)
	}
	ps, err := a.store.SyncProblems(ctx)
	if err != nil || len(ps) != 1 || ps[0].Op.Kind != app.OpCaseCreate || ps[0].Op.By != anna.ID {
		t.Fatalf("sync problems = %+v, %v; want the create, made by %s", ps, err, anna.ID)
	}

	// The text is kept, for its maker only.
	bjorn := ce.staff(demo.StaffHandler)
	colleague := app.Session{Staff: bjorn, ClinicID: centrum}
	mine, err := a.cases.OpCases(ctx, a.sess, []app.SyncOp{ps[0].Op})
	if err != nil {
		t.Fatal(err)
	}
	if o := mine[0]; o.Text != text || !o.Named || o.Exists || o.Row.Subject != "Kallelse till återbesök" ||
		o.Row.ResidentName != maria.Register.FullName() || o.Row.PNR != maria.PNR {
		t.Fatalf("the maker's view of the rejected case = %+v", o)
	}
	theirs, err := a.cases.OpCases(ctx, colleague, []app.SyncOp{ps[0].Op})
	if err != nil {
		t.Fatal(err)
	}
	if o := theirs[0]; o.Text != "" || o.Named || o.Row.ResidentName != "" {
		t.Fatalf("a colleague's view of the rejected case = %+v", o)
	}
	if ps[0].Op.MadeBy(bjorn.ID) {
		t.Fatal("the rejected case counts as the colleague's")
	}
	if err := a.eng.Dismiss(ctx, bjorn.ID, ps[0].Op.ID); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("a colleague dismissed the rejection: %v", err)
	}

	if err := a.eng.Dismiss(ctx, anna.ID, ps[0].Op.ID); err != nil {
		t.Fatalf("the maker dismisses: %v", err)
	}
	if ps, _ := a.store.SyncProblems(ctx); len(ps) != 0 {
		t.Fatalf("dismissed, still %d problems", len(ps))
	}
}
