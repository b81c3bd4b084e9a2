package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	msync "mottagning/sync"
)

// settle applies what the window's background work posted until cond
// holds (the status bar follows the engine on a goroutine of its own).
func (f *syncFixture) settle(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.wait(); !cond(); f.wait() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ids(rows []app.CaseRow) []app.ID {
	out := make([]app.ID, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// Finding 9 of issue 13, in the window: while a connected desktop's lists
// are open, a pull brings a colleague's new case, a resident's reply to a
// case of Mina ärenden, and the removal of a case; the lists read
// themselves again (the new case first, with its unread dot; the removed
// one gone; the Mina ärenden count up by one), one content-free
// notification is shown, and none of it counts as user activity (the
// window still locks when idle).
func TestSync_ListsFollowPulledCases(t *testing.T) {
	f := newSyncFixture(t)
	f.server.down.Store(false)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum") // follows the engine live
	if err := f.eng.SyncOnce(f.ctx); err != nil {             // the first sync: nothing new
		t.Fatal(err)
	}
	f.wait()
	anna := f.anna(t)
	centrum := w.clinic.ID
	clinicBefore, mineBefore := ids(w.clinicCases.rowsForTest()), ids(w.myCases.rowsForTest())
	unreadMine := 0
	for _, r := range w.myCases.rowsForTest() {
		if r.UnreadByStaff {
			unreadMine++
		}
	}

	// The server's side: a new case from a resident, a reply to a read
	// case assigned to Anna, and a case gone.
	var replied, gone app.Case
	for _, c := range f.casesOf(centrum, func(c *app.Case) bool { return true }) {
		switch {
		case replied.ID == "" && c.AssigneeID == anna.Staff.ID && !c.UnreadByStaff && c.Status != app.StatusClosed:
			replied = c
		case gone.ID == "" && c.AssigneeID != anna.Staff.ID:
			gone = c
		}
	}
	if replied.ID == "" || gone.ID == "" {
		t.Fatal("the demo set lacks the cases this test needs")
	}
	at := now.Add(time.Minute)
	fresh := app.Thread{Case: app.Case{ID: app.NewID(at), ClinicID: centrum, ResidentID: replied.ResidentID, Kind: app.KindEService,
		EServiceID: "std-kontakta-mottagningen", Subject: "Fråga om vaccination", Status: app.StatusNew,
		StartedBy: app.StartedByResident, CreatedAt: at, LastActivity: at, UnreadByStaff: true, Version: 1}}
	fresh.Messages = []app.Message{{ID: app.NewID(at), CaseID: fresh.Case.ID, Author: app.AuthorResident, AuthorID: replied.ResidentID,
		At: at, Text: "Behöver jag boka en tid?"}}
	th, err := f.store.Thread(f.ctx, replied.ID)
	if err != nil {
		t.Fatal(err)
	}
	at = at.Add(time.Minute)
	th.Messages = append(th.Messages, app.Message{ID: app.NewID(at), CaseID: replied.ID, Author: app.AuthorResident,
		AuthorID: replied.ResidentID, At: at, Text: "Tack, det går bra."})
	th.Case.UnreadByStaff, th.Case.LastActivity, th.Case.Version = true, at, th.Case.Version+1
	f.server.mu.Lock()
	f.server.pages = []*msync.PullResponse{{Changes: app.SyncChanges{
		Threads: []app.PulledThread{{Thread: fresh, Seq: 100}, {Thread: *th, Seq: 101}},
		Gone:    []app.ID{gone.ID},
	}, Cursor: "101", Head: "101"}}
	f.server.mu.Unlock()

	f.ui.idleMu.Lock()
	f.ui.lastActivity = time.Time{}
	f.ui.idleMu.Unlock()
	if err := f.eng.SyncOnce(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.settle(t, "the clinic list to show the pulled cases", func() bool {
		got := ids(w.clinicCases.rowsForTest())
		return len(got) == len(clinicBefore) && got[0] == replied.ID && got[1] == fresh.Case.ID && !slices.Contains(got, gone.ID)
	})
	l := w.clinicCases
	if r := l.row(1); columns[unreadCol].text(l, &r) != "●" || r.Subject != "Fråga om vaccination" {
		t.Errorf("the new case's row: dot %q, subject %q", columns[unreadCol].text(l, &r), r.Subject)
	}
	if got := l.count.Text; got != Lf("%d ärenden", len(clinicBefore)) { // one new, one gone
		t.Errorf("count %q", got)
	}
	f.settle(t, "Mina ärenden to show the reply", func() bool {
		got := w.myCases.rowsForTest()
		return len(got) == len(mineBefore) && got[0].ID == replied.ID && got[0].UnreadByStaff
	})
	if mine := w.tabs.Items[1].Text; mine != Lf("%s (%d)", L(textMyCases), unreadMine+1) {
		t.Errorf("Mina ärenden tab %q, want the count %d", mine, unreadMine+1)
	}
	if len(f.notified) != 1 || strings.Contains(f.notified[0], "Tack") || strings.Contains(f.notified[0], "vaccination") {
		t.Errorf("notifications: %q", f.notified)
	}
	f.ui.idleMu.Lock()
	touched := !f.ui.lastActivity.IsZero()
	f.ui.idleMu.Unlock()
	if touched {
		t.Error("a list read again after a sync counted as user activity")
	}

	// The same state again (a pull that writes nothing): no notification.
	if err := f.eng.SyncOnce(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.wait()
	if len(f.notified) != 1 {
		t.Errorf("notifications after a sync with nothing new: %q", f.notified)
	}

	// A pull that only removes a case (no reply, no alert): the list
	// follows all the same.
	f.server.mu.Lock()
	f.server.pages = []*msync.PullResponse{{Changes: app.SyncChanges{Gone: []app.ID{fresh.Case.ID}}, Cursor: "102", Head: "102"}}
	f.server.mu.Unlock()
	if err := f.eng.SyncOnce(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.settle(t, "the removed case to leave the list", func() bool {
		return !slices.Contains(ids(w.clinicCases.rowsForTest()), fresh.Case.ID)
	})
	if len(f.notified) != 1 {
		t.Errorf("notifications after a removal: %q", f.notified)
	}
}
