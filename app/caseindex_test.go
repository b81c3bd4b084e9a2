package app_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage"
)

// expect is the brute-force answer over the demo data set: the cases of
// clinic 0 that keep accepts, newest activity first.
func (f *fixture) expect(keep func(c *app.Case, r *app.Resident) bool) []app.ID {
	res := map[app.ID]*app.Resident{}
	for _, r := range f.ds.Residents {
		res[r.ID] = r
	}
	var cs []app.Case
	for _, th := range f.ds.Threads {
		if th.Case.ClinicID == f.ds.Clinics[0].ID && keep(&th.Case, res[th.Case.ResidentID]) {
			cs = append(cs, th.Case)
		}
	}
	slices.SortFunc(cs, func(a, b app.Case) int {
		if c := b.LastActivity.Compare(a.LastActivity); c != 0 {
			return c
		}
		return strings.Compare(string(b.ID), string(a.ID))
	})
	ids := make([]app.ID, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func resultIDs(r *app.CaseResult) []app.ID {
	ids := make([]app.ID, r.Len())
	for i := range ids {
		ids[i] = r.Row(i).ID
	}
	return ids
}

func TestFindCases_FiltersMatchBruteForce(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	bjorn := f.ds.StaffBy[demo.StaffHandler]
	someone := f.ds.Threads[0]
	var anyResidentName string
	for _, r := range f.ds.Residents {
		if r.ID == someone.Case.ResidentID {
			anyResidentName = r.Register.FullName()
		}
	}
	word := strings.ToUpper(strings.Fields(someone.Case.Subject)[0][:3])
	for _, tc := range []struct {
		name string
		f    app.CaseFilter
		keep func(c *app.Case, r *app.Resident) bool
	}{
		{"all", app.CaseFilter{}, func(*app.Case, *app.Resident) bool { return true }},
		{"status Ny", app.CaseFilter{Status: app.StatusNew}, func(c *app.Case, _ *app.Resident) bool { return c.Status == app.StatusNew }},
		{"type Fråga", app.CaseFilter{Type: string(app.KindQuestion)}, func(c *app.Case, _ *app.Resident) bool {
			return c.Kind == app.KindQuestion
		}},
		{"type e-service", app.CaseFilter{Type: "std-fornya-recept"}, func(c *app.Case, _ *app.Resident) bool { return c.EServiceID == "std-fornya-recept" }},
		{"assignee Björn", app.CaseFilter{AssigneeID: bjorn}, func(c *app.Case, _ *app.Resident) bool { return c.AssigneeID == bjorn }},
		{"unassigned", app.CaseFilter{Unassigned: true}, func(c *app.Case, _ *app.Resident) bool { return c.AssigneeID == "" }},
		{"unread", app.CaseFilter{UnreadOnly: true}, func(c *app.Case, _ *app.Resident) bool { return c.UnreadByStaff }},
		{"subject text, any case", app.CaseFilter{Search: word}, func(c *app.Case, r *app.Resident) bool {
			w := strings.ToLower(word)
			return strings.Contains(strings.ToLower(c.Subject), w) || strings.Contains(strings.ToLower(r.Register.FullName()), w)
		}},
		{"resident name", app.CaseFilter{Search: anyResidentName}, func(c *app.Case, r *app.Resident) bool {
			return strings.Contains(strings.ToLower(r.Register.FullName()), strings.ToLower(anyResidentName)) ||
				strings.Contains(strings.ToLower(c.Subject), strings.ToLower(anyResidentName))
		}},
		{"status and unread", app.CaseFilter{Status: app.StatusOngoing, UnreadOnly: true}, func(c *app.Case, _ *app.Resident) bool {
			return c.Status == app.StatusOngoing && c.UnreadByStaff
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.cases.FindCases(f.ctx, sess, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			want := f.expect(tc.keep)
			if got := resultIDs(res); !slices.Equal(got, want) {
				t.Errorf("got %d cases, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
			}
			if tc.name != "all" && len(want) == len(f.expect(func(*app.Case, *app.Resident) bool { return true })) {
				t.Errorf("filter %s keeps every case: the demo set does not test it", tc.name)
			}
		})
	}
}

// Searching by a whole personnummer finds that resident's cases and is
// recorded as a lookup; digits typed so far match too, without a lookup.
func TestFindCases_SearchByPersonnummer(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	r := f.resident(demo.AdultSMS)
	want := f.expect(func(c *app.Case, _ *app.Resident) bool { return c.ResidentID == r.ID })
	if len(want) == 0 {
		t.Fatal("the persona has no case in clinic 0")
	}
	before, _ := f.store.Entries(f.ctx, sess.ClinicID, f.now.Add(-time.Hour), f.now.Add(time.Hour))
	for _, q := range []string{r.PNR.String(), r.PNR.Short(), digitsOnly(r.PNR.String())} {
		res, err := f.cases.FindCases(f.ctx, sess, app.CaseFilter{Search: q})
		if err != nil {
			t.Fatal(err)
		}
		if got := resultIDs(res); !slices.Equal(got, want) {
			t.Errorf("search %s: got %v, want %v", "pnr", got, want)
		}
	}
	after, _ := f.store.Entries(f.ctx, sess.ClinicID, f.now.Add(-time.Hour), f.now.Add(time.Hour))
	if len(after) != len(before)+3 || after[len(after)-1].Action != app.AccessLookupResident || after[len(after)-1].ResidentID != r.ID {
		t.Errorf("a whole-personnummer search must be logged as a lookup: %d new entries", len(after)-len(before))
	}
	// The first eight digits (the birth date) match while typing.
	res, err := f.cases.FindCases(f.ctx, sess, app.CaseFilter{Search: digitsOnly(r.PNR.String())[:8]})
	if err != nil || !containsAll(resultIDs(res), want) {
		t.Errorf("partial personnummer: %v", err)
	}
	// A valid personnummer of nobody in the database gives no cases.
	res, err = f.cases.FindCases(f.ctx, sess, app.CaseFilter{Search: unusedTestNumber(t, f).String()})
	if err != nil || res.Len() != 0 {
		t.Errorf("unknown resident: %d cases, %v", res.Len(), err)
	}
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func containsAll(got, want []app.ID) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func unusedTestNumber(t *testing.T, f *fixture) interface{ String() string } {
	used := map[string]bool{}
	for _, r := range f.ds.Residents {
		used[r.PNR.String()] = true
	}
	for _, n := range demo.TestNumbers() {
		if !used[n.String()] {
			return n
		}
	}
	t.Fatal("every test number is used")
	return nil
}

func TestFindCases_SortsEveryColumnBothWays(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	surname := map[app.ID]string{}
	for _, r := range f.ds.Residents {
		surname[r.ID] = strings.ToLower(r.Register.FamilyName + " " + r.Register.GivenName)
	}
	staffName := map[app.ID]string{}
	for _, st := range f.ds.Staff {
		staffName[st.ID] = strings.ToLower(st.Name)
	}
	for _, by := range []app.CaseSort{app.SortActivity, app.SortStatus, app.SortSubject, app.SortType, app.SortResident, app.SortStartedBy,
		app.SortPNR, app.SortUnread, app.SortAssignee} {
		fwd, err := f.cases.FindCases(f.ctx, sess, app.CaseFilter{Sort: by})
		if err != nil {
			t.Fatal(err)
		}
		rev, _ := f.cases.FindCases(f.ctx, sess, app.CaseFilter{Sort: by, Reverse: true})
		for i := 1; i < fwd.Len(); i++ {
			a, b := fwd.Row(i-1), fwd.Row(i)
			var bad bool
			switch by {
			case app.SortActivity:
				bad = a.LastActivity.Before(b.LastActivity)
			case app.SortStatus:
				bad = slices.Index(app.AllStatuses, a.Status) > slices.Index(app.AllStatuses, b.Status)
			case app.SortResident: // surname first (issue 18, item 4)
				bad = swedishLess(surname[b.ResidentID], surname[a.ResidentID])
			case app.SortPNR: // birth date order, reserve numbers last
				bad = (a.PNR.IsZero() && !b.PNR.IsZero()) || (!b.PNR.IsZero() && b.PNR.String() < a.PNR.String())
			case app.SortUnread:
				bad = !a.UnreadByStaff && b.UnreadByStaff
			case app.SortAssignee: // by name, unassigned last
				bad = (a.AssigneeID == "" && b.AssigneeID != "") ||
					(b.AssigneeID != "" && swedishLess(staffName[b.AssigneeID], staffName[a.AssigneeID]))
			case app.SortSubject:
				bad = swedishLess(strings.ToLower(b.Subject), strings.ToLower(a.Subject))
			}
			if bad {
				t.Errorf("sort %d: row %d before row %d out of order", by, i-1, i)
			}
		}
		if fwd.Len() != rev.Len() || (fwd.Len() > 1 && fwd.Row(0).ID == rev.Row(0).ID && by == app.SortActivity) {
			t.Errorf("sort %d reversed: %d rows, first %s", by, rev.Len(), rev.Row(0).ID)
		}
	}
	// Swedish order of names: Å before Ä before Ö, all after Z.
	if !swedishLess("zorn", "åberg") || !swedishLess("åberg", "ängel") || !swedishLess("ängel", "öberg") {
		t.Error("swedishLess helper is wrong")
	}
}

// swedishLess is the test's own Swedish order, written independently.
func swedishLess(a, b string) bool {
	const order = "0123456789abcdefghijklmnopqrstuvwxyzåäö"
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] != rb[i] {
			ia, ib := strings.IndexRune(order, ra[i]), strings.IndexRune(order, rb[i])
			if ia < 0 || ib < 0 {
				return ra[i] < rb[i]
			}
			return ia < ib
		}
	}
	return len(ra) < len(rb)
}

// The index follows the service's own writes: a sent case appears, an
// assignment moves a case into Mina ärenden, a close changes its status.
// A result already handed out does not change under its reader.
func TestFindCases_FollowsWrites(t *testing.T) {
	f := newFixture(t)
	anna := f.session(demo.StaffReceiver, 0)
	before, err := f.cases.FindCases(f.ctx, anna, app.CaseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.send(anna, demo.AdultSMS, app.KindQuestion)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := f.cases.FindCases(f.ctx, anna, app.CaseFilter{})
	if after.Len() != before.Len()+1 || after.Row(0).ID != c.ID {
		t.Fatalf("sent case not first in the list: %d → %d rows", before.Len(), after.Len())
	}
	bjornSess := f.session(demo.StaffHandler, 0)
	mine, _ := f.cases.FindCases(f.ctx, bjornSess, app.CaseFilter{List: app.MyList})
	if mine.Index(c.ID) >= 0 {
		t.Fatal("case in Björn's list before it is assigned to him")
	}
	if err := f.cases.Assign(f.ctx, anna, c.ID, bjornSess.Staff.ID); err != nil {
		t.Fatal(err)
	}
	mine2, _ := f.cases.FindCases(f.ctx, bjornSess, app.CaseFilter{List: app.MyList})
	if mine2.Index(c.ID) < 0 || mine.Index(c.ID) >= 0 {
		t.Error("assignment not reflected, or an old result changed")
	}
	if err := f.cases.Close(f.ctx, anna, c.ID); err != nil {
		t.Fatal(err)
	}
	closed, _ := f.cases.FindCases(f.ctx, anna, app.CaseFilter{Status: app.StatusClosed})
	if closed.Index(c.ID) < 0 {
		t.Error("closed case not under Avslutad")
	}
	if row := after.Row(after.Index(c.ID)); row.Status != app.StatusWaiting {
		t.Errorf("an earlier result changed under its reader: status %s", row.Status)
	}
}

func TestFindCases_Roles(t *testing.T) {
	f := newFixture(t)
	bjorn := f.session(demo.StaffHandler, 0)
	if _, err := f.cases.FindCases(f.ctx, bjorn, app.CaseFilter{List: app.ClinicList}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("ärendehanterare on Mottagningens ärenden: %v", err)
	}
	// Mina ärenden ignores an assignee asked for: it is always one's own.
	other := f.ds.StaffBy[demo.StaffReceiver]
	res, err := f.cases.FindCases(f.ctx, bjorn, app.CaseFilter{List: app.MyList, AssigneeID: other})
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Len() {
		if res.Row(i).AssigneeID != bjorn.Staff.ID {
			t.Fatal("Mina ärenden shows someone else's case")
		}
	}
	auditor := f.session(demo.StaffAuditor, 0)
	if _, err := f.cases.FindCases(f.ctx, auditor, app.CaseFilter{List: app.MyList}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("granskare: %v", err)
	}
}

// BenchmarkFindCases100k: 100,000 generated cases in one clinic's index.
// Reports the heap the index adds, and the time of a status filter, a
// personnummer search and a text search with the default sort.
//
//	go test -run '^$' -bench FindCases -benchtime 20x ./app/
func BenchmarkFindCases100k(b *testing.B) {
	ctx := context.Background()
	st, err := storage.Open(ctx, b.TempDir(), storage.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, app.Stockholm)
	ds := demo.Build(now)
	ds.WithPasswords = false
	if err := demo.Seed(ctx, st, ds); err != nil {
		b.Fatal(err)
	}
	err = demo.GenerateThreads(ctx, ds, now, 100_000, 1000, 42, func(ts []app.Thread) error {
		for i := range ts {
			ts[i].Case.ClinicID = ds.Clinics[0].ID
		}
		return st.ImportThreads(ctx, ts)
	})
	if err != nil {
		b.Fatal(err)
	}
	svc := app.NewCaseService(st, app.FixedClock(now))
	anna, _ := st.Staff(ctx, ds.StaffBy[demo.StaffReceiver])
	sess := app.Session{Staff: anna, ClinicID: ds.Clinics[0].ID}
	var r *app.Resident
	for _, x := range ds.Residents {
		if x.ID == ds.Persona[demo.AdultSMS] {
			r = x
		}
	}

	// build: a new service's first FindCases reads every case into the
	// index; index-MB is the heap it keeps (after GC) with the service alive.
	b.Run("build", func(b *testing.B) {
		var grew uint64
		for b.Loop() {
			b.StopTimer()
			heap0 := heapInUse()
			fresh := app.NewCaseService(st, app.FixedClock(now))
			b.StartTimer()
			all, err := fresh.FindCases(ctx, sess, app.CaseFilter{})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if all.Len() < 100_000 {
				b.Fatalf("index holds %d cases", all.Len())
			}
			all = nil
			grew = heapInUse() - heap0
			runtime.KeepAlive(fresh)
			b.StartTimer()
		}
		b.ReportMetric(float64(grew)/(1<<20), "index-MB")
	})
	if _, err := svc.FindCases(ctx, sess, app.CaseFilter{}); err != nil {
		b.Fatal(err)
	}

	for _, q := range []struct {
		name string
		f    app.CaseFilter
	}{
		{"status", app.CaseFilter{Status: app.StatusWaiting}},
		{"pnr", app.CaseFilter{Search: r.PNR.String()}},
		{"text", app.CaseFilter{Search: "recept"}},
		{"unread+sort-resident", app.CaseFilter{UnreadOnly: true, Sort: app.SortResident}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.FindCases(ctx, sess, q.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Item 8 of the staff tool: a resident's reply raises the injected alert
// once, with the header only, and the list's unread count follows; the
// alert text carries no name, subject or message text.
func TestReplyAlert_RaisedOncePerReply(t *testing.T) {
	f := newFixture(t)
	anna := f.session(demo.StaffReceiver, 0)
	c, err := f.send(anna, demo.AdultSMS, app.KindQuestion)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.cases.FindCases(f.ctx, anna, app.CaseFilter{})
	var alerts []app.Case
	f.cases.SetReplyAlert(func(c app.Case) { alerts = append(alerts, c) })
	f.now = f.now.Add(time.Minute)
	if err := f.res.Reply(f.ctx, c.ResidentID, c.ID, "Tack, jag kommer på tisdag."); err != nil {
		t.Fatal(err)
	}
	if err := f.cases.CaseChanged(f.ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].ID != c.ID {
		t.Fatalf("alerts after one reply: %d", len(alerts))
	}
	// The same change reported again (a repeated sync page) is not a new reply.
	if err := f.cases.CaseChanged(f.ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 {
		t.Errorf("a repeated change raised %d alerts", len(alerts))
	}
	after, _ := f.cases.FindCases(f.ctx, anna, app.CaseFilter{})
	if after.Unread != before.Unread+1 || after.Row(0).ID != c.ID || !after.Row(0).UnreadByStaff {
		t.Errorf("unread %d → %d; first row %s", before.Unread, after.Unread, after.Row(0).ID)
	}
	title, body := app.ReplyAlertText(f.ds.Clinics[0].Name)
	r := f.resident(demo.AdultSMS)
	for _, s := range []string{r.Register.FullName(), r.Register.GivenName, r.PNR.String(), c.Subject, "tisdag"} {
		if s != "" && (strings.Contains(title, s) || strings.Contains(body, s)) {
			t.Errorf("alert text carries %q", s)
		}
	}
	// Opening the case clears the marker in the list.
	if _, err := f.cases.OpenCase(f.ctx, anna, c.ID); err != nil {
		t.Fatal(err)
	}
	opened, _ := f.cases.FindCases(f.ctx, anna, app.CaseFilter{})
	if opened.Unread != before.Unread {
		t.Errorf("unread after opening: %d, want %d", opened.Unread, before.Unread)
	}
}

// Issue 18, item 4: a search without accents finds a name with them, in
// either direction; å, ä and ö stay letters of their own.
func TestFindCases_SearchIgnoresForeignAccents(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	var id app.ID
	for _, th := range f.ds.Threads {
		if th.Case.ClinicID == f.ds.Clinics[0].ID {
			id = th.Case.ResidentID
			break
		}
	}
	if err := f.store.UpdateResident(f.ctx, id, func(r *app.Resident) error {
		r.Register.GivenName, r.Register.FamilyName = "Zoë", "Dvořák-Müller"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := f.expect(func(c *app.Case, _ *app.Resident) bool { return c.ResidentID == id })
	for _, q := range []string{"dvorak", "DVOŘÁK", "dvořák-müller", "Zoe Dvorak", "muller"} {
		res, err := f.cases.FindCases(f.ctx, sess, app.CaseFilter{Search: q})
		if err != nil {
			t.Fatal(err)
		}
		if got := resultIDs(res); !slices.Equal(got, want) {
			t.Errorf("search %q: %v, want %v", q, got, want)
		}
	}
	// A different letter still differs.
	res, err := f.cases.FindCases(f.ctx, sess, app.CaseFilter{Search: "dvorak-mxller"})
	if err != nil || res.Len() != 0 {
		t.Errorf("a different name matched: %d", res.Len())
	}
	// The demo's Ulrika Wójcik, as the issue found her.
	wojcik := f.expect(func(c *app.Case, r *app.Resident) bool { return r.Register.FamilyName == "Wójcik" })
	if res, err = f.cases.FindCases(f.ctx, sess, app.CaseFilter{Search: "wojcik"}); err != nil || len(wojcik) == 0 || !slices.Equal(resultIDs(res), wojcik) {
		t.Errorf("wojcik: %d cases, want %d", res.Len(), len(wojcik))
	}
}
