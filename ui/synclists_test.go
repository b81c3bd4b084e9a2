package ui

import (
	"fmt"
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
	if got := l.count.Text; got != Lf("caselist.cases", len(clinicBefore)) { // one new, one gone
		t.Errorf("count %q", got)
	}
	f.settle(t, "Mina ärenden to show the reply", func() bool {
		got := w.myCases.rowsForTest()
		return len(got) == len(mineBefore) && got[0].ID == replied.ID && got[0].UnreadByStaff
	})
	if mine := w.tabs.Items[1].Text; mine != fmt.Sprintf("%s (%d)", L(textMyCases), unreadMine+1) {
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

// Item 2 of issue 14: a case open in the case view while a pull brings a
// resident's reply to it. The view reads the case again by itself (the
// new message shows), the reply the staff member is half-way through
// writing stays as typed, and a pull that changes only other cases leaves
// the view alone.
func TestSync_OpenCaseFollowsPulledReply(t *testing.T) {
	f := newSyncFixture(t)
	f.server.down.Store(false)
	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	if err := f.eng.SyncOnce(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.wait()
	anna := f.anna(t)
	var open, other app.Case
	for _, c := range f.casesOf(w.clinic.ID, func(c *app.Case) bool { return c.Status != app.StatusClosed }) {
		switch {
		case open.ID == "" && c.AssigneeID == anna.Staff.ID:
			open = c
		case other.ID == "" && c.ID != open.ID:
			other = c
		}
	}
	if open.ID == "" || other.ID == "" {
		t.Fatal("the demo set lacks the cases this test needs")
	}
	w.openCase(app.CaseRow{Case: open})
	f.wait()
	v := w.open
	if v == nil || v.thread == nil {
		t.Fatal("the case view did not open")
	}
	before := len(v.thread.Messages)
	draft := "Hej! Jag har tittat på ditt provsvar och"
	v.reply.SetText(draft)

	pull := func(seq int, ths ...app.Thread) {
		t.Helper()
		var pulled []app.PulledThread
		for i, th := range ths {
			pulled = append(pulled, app.PulledThread{Thread: th, Seq: uint64(seq + i)})
		}
		cur := fmt.Sprint(seq + len(ths))
		f.server.mu.Lock()
		f.server.pages = []*msync.PullResponse{{Changes: app.SyncChanges{Threads: pulled}, Cursor: cur, Head: cur}}
		f.server.mu.Unlock()
		if err := f.eng.SyncOnce(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	withReply := func(id app.ID, text string, at time.Time) app.Thread {
		th, err := f.store.Thread(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		th.Messages = append(th.Messages, app.Message{ID: app.NewID(at), CaseID: id, Author: app.AuthorResident,
			AuthorID: th.Case.ResidentID, At: at, Text: text})
		th.Case.UnreadByStaff, th.Case.LastActivity, th.Case.Version = true, at, th.Case.Version+1
		return *th
	}

	// Another case changes: the open view is not read again.
	shown := v.thread
	pull(200, withReply(other.ID, "Tack för svaret.", now.Add(time.Minute)))
	f.settle(t, "the lists to follow", func() bool { return w.clinicCases.rowsForTest()[0].ID == other.ID })
	if v.thread != shown {
		t.Error("a pull of another case read the open case again")
	}

	// The open case gets a reply: it shows, the draft stays.
	pull(300, withReply(open.ID, "Jag skickar en bild också.", now.Add(2*time.Minute)))
	f.settle(t, "the open case to show the reply", func() bool { return len(v.thread.Messages) == before+1 })
	if got := v.thread.Messages[before].Text; got != "Jag skickar en bild också." {
		t.Errorf("the newest message shown is %q", got)
	}
	if v.reply.Text != draft {
		t.Errorf("the half-written reply is %q, want %q", v.reply.Text, draft)
	}
	if w.open != v {
		t.Error("the case view was replaced")
	}

	// A write begins while a sync's reload of the view is under way: the
	// reload gives way, and Skicka stays off until the write is done
	// (before, the reload ended the busy state: a second tap sent twice).
	v.reloadInPlace()
	v.setBusy(true) // what write does at a tap on Skicka svar
	f.wait()
	if !v.busy || !v.send.Disabled() {
		t.Errorf("a reload under way ended a write's busy state: busy %v, Skicka disabled %v", v.busy, v.send.Disabled())
	}
	v.setBusy(false)

	// The case leaves this staff member (removed on the server): the
	// thread and the half-written text stay, with the reason, and
	// nothing can be sent (before, the view hid everything, the draft too).
	cur := "400"
	f.server.mu.Lock()
	f.server.pages = []*msync.PullResponse{{Changes: app.SyncChanges{Gone: []app.ID{open.ID}}, Cursor: cur, Head: cur}}
	f.server.mu.Unlock()
	if err := f.eng.SyncOnce(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.settle(t, "the open case to say it is gone", func() bool { return v.banner.Visible() })
	if !v.body.Visible() || v.reply.Text != draft || !v.send.Disabled() || !v.note.Disabled() {
		t.Errorf("gone case: body shown %v, draft %q, Skicka disabled %v, Anteckning disabled %v",
			v.body.Visible(), v.reply.Text, v.send.Disabled(), v.note.Disabled())
	}
	capture(t, f.win, "case_gone_keeps_draft")
	if !strings.Contains(v.banner.Text, L(cvNotFound)) || !strings.Contains(v.banner.Text, L(cvDraftKept)) {
		t.Errorf("banner %q", v.banner.Text)
	}
}
