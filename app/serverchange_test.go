package app_test

import (
	"slices"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

// behind is a second CaseService on the fixture's store: what it writes
// reaches the store behind the fixture's service, as a sync pull does.
func (f *fixture) behind() *app.CaseService {
	return app.NewCaseService(f.store, app.ClockFunc(func() time.Time { return f.now }))
}

// sameLists checks that the fixture's index, kept up to date by
// ServerChanged, answers every filter as an index built from the store
// now would.
func (f *fixture) sameLists(sess app.Session) {
	f.t.Helper()
	fresh := f.behind()
	for _, flt := range []app.CaseFilter{
		{},
		{List: app.MyList},
		{UnreadOnly: true},
		{Status: app.StatusWaiting},
		{Type: string(app.KindQuestion)},
		{Search: "prov"},
		{Sort: app.SortSubject},
		{Sort: app.SortResident, Reverse: true},
		{Sort: app.SortStatus},
	} {
		got, err := f.cases.FindCases(f.ctx, sess, flt)
		if err != nil {
			f.t.Fatal(err)
		}
		want, err := fresh.FindCases(f.ctx, sess, flt)
		if err != nil {
			f.t.Fatal(err)
		}
		if !slices.Equal(resultIDs(got), resultIDs(want)) || got.Total != want.Total || got.Unread != want.Unread {
			f.t.Fatalf("filter %+v: %d rows (total %d, unread %d), a fresh index %d (%d, %d)", flt,
				got.Len(), got.Total, got.Unread, want.Len(), want.Total, want.Unread)
		}
	}
}

// Finding 9 of issue 13: cases written behind the service (a sync pull)
// reach the built index through ServerChanged, in every filter, search
// and sort, one by one or many at once.
func TestServerChanged_ListsFollowTheStore(t *testing.T) {
	f := newFixture(t)
	anna := f.session(demo.StaffReceiver, 0)
	before, err := f.cases.FindCases(f.ctx, anna, app.CaseFilter{}) // builds the index
	if err != nil {
		t.Fatal(err)
	}
	other := f.behind()
	tpl := f.template(0, app.KindQuestion)
	people := []string{demo.AdultSMS, demo.AdultEmail, demo.AdultBoth}
	send := func(n int) []app.ID {
		t.Helper()
		var ids []app.ID
		for i := range n {
			f.now = f.now.Add(time.Minute)
			c, err := other.SendCase(f.ctx, anna, app.SendRequest{TemplateID: tpl.ID, ResidentID: f.ds.Persona[people[i%3]],
				Subject: "Provsvar " + string(rune('A'+i)), Text: tpl.Body})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		return ids
	}
	// A few, one by one.
	ids := send(3)
	stale, _ := f.cases.FindCases(f.ctx, anna, app.CaseFilter{})
	if stale.Total != before.Total {
		t.Fatalf("the index changed without a report: %d → %d", before.Total, stale.Total)
	}
	if err := f.cases.ServerChanged(f.ctx, app.ServerChange{Cases: ids}); err != nil {
		t.Fatal(err)
	}
	f.sameLists(anna)
	// Many in one merge, one of them twice; an id the store does not
	// hold has no row and stays out.
	more := send(21)
	ids = append(ids, more...)
	if err := f.cases.ServerChanged(f.ctx, app.ServerChange{Cases: append(slices.Clone(more), more[2], app.NewID(f.now))}); err != nil {
		t.Fatal(err)
	}
	f.sameLists(anna)
	after, _ := f.cases.FindCases(f.ctx, anna, app.CaseFilter{})
	if after.Total != before.Total+len(ids) || after.Row(0).ID != ids[len(ids)-1] {
		t.Fatalf("after the reports: %d cases (want %d), first %s", after.Total, before.Total+len(ids), after.Row(0).ID)
	}
	// Changed cases move: closed behind the service.
	f.now = f.now.Add(time.Minute)
	var closed []app.ID
	for _, id := range ids[:20] {
		if err := other.Close(f.ctx, anna, id); err != nil {
			t.Fatal(err)
		}
		closed = append(closed, id)
	}
	if err := f.cases.ServerChanged(f.ctx, app.ServerChange{Cases: closed}); err != nil {
		t.Fatal(err)
	}
	f.sameLists(anna)
	// All: every index goes and is built again.
	if err := f.cases.ServerChanged(f.ctx, app.ServerChange{All: true}); err != nil {
		t.Fatal(err)
	}
	f.sameLists(anna)
}

// The one path of the reply alert: a case unread by staff and newer than
// its row raises it once; the same report again, a first pull, and a
// clinic whose list is not open raise none; many replies in one report
// raise one alert, with the newest.
func TestServerChanged_ReplyAlert(t *testing.T) {
	f := newFixture(t)
	anna := f.session(demo.StaffReceiver, 0)
	var c1, c2 *app.Case
	var err error
	if c1, err = f.send(anna, demo.AdultSMS, app.KindQuestion); err != nil {
		t.Fatal(err)
	}
	if c2, err = f.send(anna, demo.AdultEmail, app.KindQuestion); err != nil {
		t.Fatal(err)
	}
	var alerts []app.ID
	f.cases.SetReplyAlert(func(c app.Case) { alerts = append(alerts, c.ID) })
	reply := func(c *app.Case) {
		t.Helper()
		f.now = f.now.Add(time.Minute)
		if err := f.res.Reply(f.ctx, c.ResidentID, c.ID, "Tack."); err != nil {
			t.Fatal(err)
		}
	}
	report := func(ch app.ServerChange) []app.ID {
		t.Helper()
		alerts = nil
		if err := f.cases.ServerChanged(f.ctx, ch); err != nil {
			t.Fatal(err)
		}
		return alerts
	}

	// No list open yet: nothing to compare with, no alert.
	reply(c1)
	if got := report(app.ServerChange{Cases: []app.ID{c1.ID}}); len(got) != 0 {
		t.Fatalf("alerts without an open list: %v", got)
	}
	if _, err := f.cases.FindCases(f.ctx, anna, app.CaseFilter{}); err != nil {
		t.Fatal(err)
	}
	// Already unread in the list (it was built after the reply): no alert.
	if got := report(app.ServerChange{Cases: []app.ID{c1.ID}}); len(got) != 0 {
		t.Fatalf("alerts for a reply the list showed: %v", got)
	}
	// A second reply to the unread case is newer: one alert.
	reply(c1)
	if got := report(app.ServerChange{Cases: []app.ID{c1.ID}}); !slices.Equal(got, []app.ID{c1.ID}) {
		t.Fatalf("alerts after a new reply: %v", got)
	}
	if got := report(app.ServerChange{Cases: []app.ID{c1.ID}}); len(got) != 0 {
		t.Fatalf("alerts for the same change reported again: %v", got)
	}
	// Two replies in one report: one alert, the newest.
	reply(c1)
	reply(c2)
	if got := report(app.ServerChange{Cases: []app.ID{c2.ID, c1.ID}}); !slices.Equal(got, []app.ID{c2.ID}) {
		t.Fatalf("alerts for two replies: %v", got)
	}
	// A first pull counts none.
	reply(c1)
	if got := report(app.ServerChange{Cases: []app.ID{c1.ID}, First: true}); len(got) != 0 {
		t.Fatalf("alerts in a first pull: %v", got)
	}
	res, _ := f.cases.FindCases(f.ctx, anna, app.CaseFilter{UnreadOnly: true})
	if res.Index(c1.ID) < 0 || res.Index(c2.ID) < 0 {
		t.Fatal("the replied cases are not in the unread list")
	}
}
