package sync_test

import (
	"errors"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// A case given to someone else leaves the ärendehanterare's desktop view
// at the next sync: the pull withdraws it (no content comes), the copy
// takes the server's assignee, and the lists and the staff tool's rules
// hide it at once; nothing else of the case changes on that desktop.
func TestPull_WithdrawnCaseLeavesTheHandlersView(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	bjorn, anna := ce.staff(demo.StaffHandler), ce.staff(demo.StaffReceiver)
	var mine app.ID
	for _, th := range ce.ds.Threads {
		if th.Case.ClinicID == centrum && th.Case.AssigneeID == bjorn.ID && th.Case.Status != app.StatusClosed {
			mine = th.Case.ID
			break
		}
	}
	if mine == "" {
		t.Fatal("no case of Björn's")
	}
	b := newDesktop(t, ce, "")
	b.signIn(bjorn, centrum)
	b.mustSync()
	myList := app.CaseFilter{List: app.MyList}
	if res, _ := b.cases.FindCases(ctx, b.sess, myList); res.Index(mine) < 0 {
		t.Fatal("Björn's case is not in Mina ärenden")
	}
	before, err := b.store.Thread(ctx, mine)
	if err != nil {
		t.Fatal(err)
	}

	a := newDesktop(t, ce, "")
	a.signIn(anna, centrum)
	a.mustSync()
	if err := a.cases.Assign(ctx, a.sess, mine, anna.ID); err != nil {
		t.Fatal(err)
	}
	a.mustSync()

	b.mustSync()
	res, err := b.cases.FindCases(ctx, b.sess, myList)
	if err != nil {
		t.Fatal(err)
	}
	if res.Index(mine) >= 0 {
		t.Fatal("the case given to Anna is still in Björn's Mina ärenden")
	}
	if _, err := b.cases.OpenCase(ctx, b.sess, mine); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("Björn opens the withdrawn case: %v, want forbidden", err)
	}
	after, err := b.store.Thread(ctx, mine)
	if err != nil {
		t.Fatal(err)
	}
	if after.Case.AssigneeID != anna.ID || len(after.Messages) != len(before.Messages) || after.Case.Subject != before.Case.Subject {
		t.Fatalf("withdrawn copy: assignee %s, %d messages (before %d)", after.Case.AssigneeID, len(after.Messages), len(before.Messages))
	}
}
