package sync_test

import (
	"context"
	"errors"
	stdsync "sync"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	msync "mottagning/sync"
)

// listing records the reply alerts of a desktop (its engine reports to
// its case lists as the desktop program wires it: signIn).
func (d *desktop) listing() *alerts {
	al := &alerts{}
	d.cases.SetReplyAlert(al.add)
	return al
}

type alerts struct {
	mu    stdsync.Mutex
	cases []app.ID
}

func (a *alerts) add(c app.Case) { a.mu.Lock(); a.cases = append(a.cases, c.ID); a.mu.Unlock() }

func (a *alerts) take() []app.ID {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.cases
	a.cases = nil
	return out
}

func (d *desktop) find(f app.CaseFilter) *app.CaseResult {
	d.t.Helper()
	res, err := d.cases.FindCases(d.ctx, d.sess, f)
	if err != nil {
		d.t.Fatalf("find cases: %v", err)
	}
	return res
}

// TestServerChangesReachTheLists is finding 9 of issue 13: on a connected
// desktop whose case lists are built (the in-memory index of FindCases),
// the cases and replies its pulls bring show in every filter, search and
// sort without a restart; a new reply raises one alert; a case whose
// creation the server rejected leaves the list.
func TestServerChangesReachTheLists(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffHandler), centrum)
	aAlerts := a.listing()
	a.mustSync()
	b := newDesktop(t, ce, "")
	b.signIn(ce.staff(demo.StaffReceiver), centrum)
	bAlerts := b.listing()
	b.mustSync()
	if got := bAlerts.take(); len(got) != 0 {
		t.Fatalf("the first sync raised %d reply alerts", len(got))
	}

	all := app.CaseFilter{List: app.ClinicList}
	before := b.find(all) // builds B's index
	a.find(app.CaseFilter{List: app.MyList})

	// A sends a case; both sync; B's lists show it.
	lars := ce.persona(demo.AdultEmail)
	if _, err := a.lookup.LookupResident(ctx, a.sess, lars.PNR); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	sent, err := a.cases.SendCase(ctx, a.sess, app.SendRequest{TemplateID: ce.template(centrum, app.KindQuestion), ResidentID: lars.ID,
		Subject: "Provsvar klara", Text: "Hej! Dina provsvar är klara."})
	if err != nil {
		t.Fatal(err)
	}
	a.mustSync()
	b.mustSync()
	if _, err := b.store.Case(ctx, sent.ID); err != nil {
		t.Fatalf("B's store lacks the case: %v", err)
	}
	after := b.find(all)
	if after.Index(sent.ID) != 0 || after.Total != before.Total+1 {
		t.Fatalf("B's list: the case at %d of %d (before %d); want it first", after.Index(sent.ID), after.Total, before.Total)
	}
	for _, f := range []app.CaseFilter{
		{List: app.ClinicList, Search: "provsvar klara"},
		{List: app.ClinicList, Search: lars.PNR.String()[:8]},
		{List: app.ClinicList, Status: app.StatusWaiting},
		{List: app.ClinicList, AssigneeID: a.sess.Staff.ID},
		{List: app.ClinicList, Type: string(app.KindQuestion), Sort: app.SortSubject, Reverse: true},
		{List: app.ClinicList, Sort: app.SortResident},
	} {
		if res := b.find(f); res.Index(sent.ID) < 0 {
			t.Errorf("filter %+v: the pulled case is missing", f)
		}
	}
	if got := bAlerts.take(); len(got) != 0 {
		t.Fatalf("a case sent by staff raised reply alerts: %v", got)
	}

	// The resident replies: B's unread list has it, one alert; syncing
	// again (nothing new) raises none.
	unread := b.find(app.CaseFilter{List: app.ClinicList, UnreadOnly: true})
	tok := ce.resident(demo.AdultEmail)
	if _, err := ce.c.ResidentReply(ctx, tok, string(sent.ID), "Tack, jag mår bra."); err != nil {
		t.Fatalf("resident reply: %v", err)
	}
	b.mustSync()
	now := b.find(app.CaseFilter{List: app.ClinicList, UnreadOnly: true})
	if now.Index(sent.ID) < 0 || now.Unread != unread.Unread+1 {
		t.Fatalf("unread after the reply: %d (was %d), case at %d", now.Unread, unread.Unread, now.Index(sent.ID))
	}
	if row := now.Row(now.Index(sent.ID)); !row.UnreadByStaff || row.Status != app.StatusOngoing {
		t.Fatalf("B's row after the reply: %+v", row.Case)
	}
	if got := bAlerts.take(); len(got) != 1 || got[0] != sent.ID {
		t.Fatalf("alerts after one reply: %v", got)
	}
	b.mustSync()
	if got := bAlerts.take(); len(got) != 0 {
		t.Fatalf("a sync with nothing new raised alerts: %v", got)
	}
	// A (the assignee) sees the reply in Mina ärenden too.
	a.mustSync()
	mine := a.find(app.CaseFilter{List: app.MyList, UnreadOnly: true})
	if mine.Index(sent.ID) < 0 {
		t.Fatal("A's Mina ärenden lacks the reply")
	}
	if got := aAlerts.take(); len(got) != 1 {
		t.Fatalf("A's alerts: %v", got)
	}

	// A case whose creation the server rejects leaves A's list.
	maria := ce.persona(demo.AdultBoth)
	if _, err := a.lookup.LookupResident(ctx, a.sess, maria.PNR); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	a.f.down.Store(true)
	doomed, err := a.cases.SendCase(ctx, a.sess, app.SendRequest{TemplateID: ce.template(centrum, app.KindInformation), ResidentID: maria.ID,
		Subject: "Kallelse", Text: "Välkommen på återbesök."})
	if err != nil {
		t.Fatal(err)
	}
	if res := a.find(app.CaseFilter{List: app.MyList}); res.Index(doomed.ID) < 0 {
		t.Fatal("the case sent offline is not in A's list")
	}
	if err := ce.c.LockLogin(ctx, ce.resident(demo.AdultBoth)); err != nil {
		t.Fatalf("lock: %v", err)
	}
	a.f.down.Store(false)
	a.mustSync()
	if _, err := a.store.Case(ctx, doomed.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("the rejected case stays in A's store: %v", err)
	}
	if res := a.find(app.CaseFilter{List: app.MyList}); res.Index(doomed.ID) >= 0 {
		t.Fatal("the rejected case stays in A's list")
	}
	if st := a.eng.Status(); st.Changes == 0 || len(st.Rejected) != 1 {
		t.Fatalf("A's status: %d changes, %d rejected", st.Changes, len(st.Rejected))
	}
}

// TestFirstSyncListsBuiltOnce: a first sync lists no case one by one (its
// indexes are built at its end) and then tells the lists to read
// everything anew: a list opened during the first sync shows every case
// after it.
func TestFirstSyncListsBuiltOnce(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	centrum := ce.ds.Clinics[0].ID
	b := newDesktop(t, ce, "")
	b.signIn(ce.staff(demo.StaffReceiver), centrum)
	var got []app.ServerChange
	b.eng = msync.New(msync.Options{Replica: b.store, Remote: b.c, Tokens: b.tokens, DeviceID: b.store.SyncDevice(), Log: quiet,
		NoEvents: true, OnChange: func(ctx context.Context, ch app.ServerChange) error {
			got = append(got, ch)
			return b.cases.ServerChanged(ctx, ch)
		}})
	empty := b.find(app.CaseFilter{List: app.ClinicList}) // opened before the first sync
	if empty.Total != 0 {
		t.Fatalf("%d cases before the first sync", empty.Total)
	}
	b.mustSync()
	if len(got) != 1 || !got[0].All || len(got[0].Cases) != 0 {
		t.Fatalf("the first sync reported %+v; want one All", got)
	}
	want := 0
	for _, th := range ce.ds.Threads {
		if th.Case.ClinicID == centrum {
			want++
		}
	}
	if res := b.find(app.CaseFilter{List: app.ClinicList}); res.Total != want {
		t.Fatalf("after the first sync the list holds %d cases, want %d", res.Total, want)
	}
}
