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

// TestSharedDesktopKeepsTheOrderWithinACase: Anna makes a new case
// offline on the shared desktop, and Björn, signed in after her, notes on
// it. At Björn's sync his note waits behind her case (before, it went
// first and was refused: the server did not know the case yet); at
// Anna's sync her case goes, and at Björn's next sync his note follows.
func TestSharedDesktopKeepsTheOrderWithinACase(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	d := newDesktop(t, ce, "")
	anna, bjorn := ce.staff(demo.StaffReceiver), ce.staff(demo.StaffHandler)
	d.signIn(bjorn, centrum)
	d.mustSync()
	d.signIn(anna, centrum)
	d.mustSync()

	d.f.down.Store(true)
	lars := ce.persona(demo.AdultEmail)
	sent, err := d.cases.SendCase(ctx, d.sess, app.SendRequest{TemplateID: ce.template(centrum, app.KindQuestion), ResidentID: lars.ID,
		Subject: "Provsvar", Text: "Hej! Dina provsvar är klara."})
	if err != nil {
		t.Fatalf("Anna's case offline: %v", err)
	}
	if err := d.cases.Assign(ctx, d.sess, sent.ID, bjorn.ID); err != nil {
		t.Fatalf("Anna hands the case to Björn offline: %v", err)
	}
	d.signIn(bjorn, centrum)
	const note = "Ringde invånaren, inget svar."
	if err := d.cases.AddNote(ctx, d.sess, sent.ID, note); err != nil {
		t.Fatalf("Björn's note offline: %v", err)
	}

	// The server is back; Björn signs in online, so the desktop syncs as him.
	queued, _ := d.store.PendingCount(ctx)
	d.f.down.Store(false)
	d.signIn(bjorn, centrum)
	d.mustSync()
	if n, _ := d.store.PendingCount(ctx); n != queued {
		t.Fatalf("%d of %d ops queued after Björn's sync; want Anna's case, her assignment and Björn's note (and access entry) waiting", n, queued)
	}
	if ps, _ := d.store.SyncProblems(ctx); len(ps) != 0 {
		t.Fatalf("Björn's sync produced problems %+v; his note must wait behind Anna's case", ps)
	}

	d.signIn(anna, centrum)
	d.mustSync()
	if _, err := ce.store.Thread(ctx, sent.ID); err != nil {
		t.Fatalf("Anna's case did not reach the server: %v", err)
	}
	if n, _ := d.store.PendingCount(ctx); n == 0 || n >= queued {
		t.Fatalf("%d of %d ops queued after Anna's sync; want Björn's note still waiting", n, queued)
	}

	d.signIn(bjorn, centrum)
	d.mustSync()
	if n, _ := d.store.PendingCount(ctx); n != 0 {
		t.Fatalf("%d ops queued after Björn's second sync", n)
	}
	if ps, _ := d.store.SyncProblems(ctx); len(ps) != 0 {
		t.Fatalf("problems %+v", ps)
	}
	th, err := ce.store.Thread(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Notes) != 1 || th.Notes[0].Text != note || th.Notes[0].StaffID != bjorn.ID {
		t.Fatalf("server notes %+v, want Björn's note", th.Notes)
	}
}
