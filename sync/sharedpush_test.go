package sync_test

import (
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// Two staff members share a desktop (a reception computer). Anna answers
// a case offline; before the desktop is online again her colleague Björn
// signs in online there. The sync under Björn's sign-in sends only
// Björn's changes: Anna's reply is neither sent under his name (the
// server would refuse it as not his, and it would land among the refused
// changes) nor lost; it waits, and goes, as hers, when Anna signs in again.
func TestSharedDesktopPushesEachStaffMembersOwnChanges(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	d := newDesktop(t, ce, "")
	anna, bjorn := ce.staff(demo.StaffReceiver), ce.staff(demo.StaffHandler)
	d.signIn(bjorn, centrum) // Björn's first sign-in on the desktop
	d.mustSync()
	d.signIn(anna, centrum)
	d.mustSync()

	// A case Anna may answer.
	var target app.ID
	page, err := d.store.ListCases(ctx, app.CaseQuery{ClinicID: centrum, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Cases {
		if c.AssigneeID == anna.ID && c.Status != app.StatusClosed {
			if reach, err := d.cases.ReplyReach(ctx, d.sess, c.ID); err == nil && reach.OK() {
				target = c.ID
				break
			}
		}
	}
	if target == "" {
		t.Fatal("the demo set has no open, reachable case of Anna's")
	}
	d.f.down.Store(true)
	const text = "Provsvaret är normalt. Ingen ny tid behövs."
	if err := d.cases.Reply(ctx, d.sess, target, text); err != nil {
		t.Fatalf("reply offline: %v", err)
	}

	// Björn signs in online on the same desktop and syncs.
	d.f.down.Store(false)
	d.signIn(bjorn, centrum)
	d.mustSync()
	if n, _ := d.store.PendingCount(ctx); n != 1 {
		t.Fatalf("%d ops queued after Björn's sync; want Anna's reply still waiting", n)
	}
	if ps, _ := d.store.SyncProblems(ctx); len(ps) != 0 {
		t.Fatalf("Björn's sync produced problems %+v; Anna's reply must wait, not be refused", ps)
	}
	th, err := ce.store.Thread(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range th.Messages {
		if m.Text == text {
			t.Fatal("Anna's reply reached the server under Björn's sign-in")
		}
	}

	// Anna signs in again: her reply goes, as hers.
	d.signIn(anna, centrum)
	d.mustSync()
	if n, _ := d.store.PendingCount(ctx); n != 0 {
		t.Fatalf("%d ops queued after Anna's sync", n)
	}
	th, err = ce.store.Thread(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range th.Messages {
		if m.Text == text {
			found = m.AuthorID == anna.ID
		}
	}
	if !found {
		t.Fatal("Anna's reply did not reach the server as hers")
	}
}
