// Package storetest is the contract suite of app.Store: the behaviour
// every implementation must show, run on the bbolt store (storage) and on
// the PostgreSQL store (pgstore) alike. It is imported by tests only.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
)

// testNow is the suite's fixed clock: the demo data set and every
// timestamp it writes derive from it.
var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, app.Stockholm)

// Now is the suite's clock, for the stores a caller opens.
func Now() time.Time { return testNow }

// cmpOpts compare records as they come back from a store: times lose
// their location and monotonic reading in JSON (compare instants), a
// personnummer has unexported fields (compare values), and an empty slice
// may come back nil.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b personnummer.Number) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

// NewThread builds a case of clinic for resident with one message per
// text, the first from the resident, the rest from staff, a minute apart
// from at. Ids are fresh app.NewID values, as the services make them.
func NewThread(clinic, resident, assignee app.ID, st app.Status, at time.Time, texts ...string) app.Thread {
	c := app.Case{ID: app.NewID(at), ClinicID: clinic, ResidentID: resident, Kind: app.KindEService,
		EServiceID: "std-kontakta-mottagningen", Subject: "Fråga om provsvar", Status: st, AssigneeID: assignee,
		StartedBy: app.StartedByResident, CreatedAt: at, LastActivity: at, UnreadByStaff: st == app.StatusNew}
	t := app.Thread{Case: c}
	for i, text := range texts {
		m := app.Message{ID: app.NewID(at), CaseID: c.ID, Author: app.AuthorResident, AuthorID: resident,
			At: at.Add(time.Duration(i) * time.Minute), Text: text}
		if i > 0 {
			m.Author, m.AuthorID = app.AuthorStaff, assignee
		}
		t.Messages = append(t.Messages, m)
		t.Case.LastActivity = m.At
	}
	return t
}

// Run runs the behaviour every app.Store must show. open returns a
// new, empty store that lives until the end of the (sub)test.
func Run(t *testing.T, open func(t *testing.T) app.Store) {
	ctx := context.Background()

	t.Run("ResidentRoundTrip", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		for _, r := range ds.Residents {
			got, err := s.Resident(ctx, r.ID)
			if err != nil {
				t.Fatalf("Resident(%s): %v", r.ID, err)
			}
			if d := cmp.Diff(r, got, cmpOpts); d != "" {
				t.Errorf("Resident(%s) (-put +got):\n%s", r.ID, d)
			}
			if r.PNR.IsZero() {
				continue
			}
			got, err = s.ResidentByPNR(ctx, r.PNR)
			if err != nil {
				t.Fatalf("ResidentByPNR(resident %s): %v", r.ID, err)
			}
			if d := cmp.Diff(r, got, cmpOpts); d != "" {
				t.Errorf("ResidentByPNR(resident %s) (-put +got):\n%s", r.ID, d)
			}
		}
		wantNotFound(t, "ResidentByPNR(number nobody has)", func() (any, error) { return s.ResidentByPNR(ctx, UnusedNumbers(ds)[0]) })
		// A resident known only by a reserve number has no index entry.
		wantNotFound(t, "ResidentByPNR(zero number)", func() (any, error) { return s.ResidentByPNR(ctx, personnummer.Number{}) })
	})

	t.Run("PNRChangeMovesIndex", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		a := ds.Residents[0]
		free := UnusedNumbers(ds)

		moved := *a
		moved.PNR = free[0]
		if err := s.PutResident(ctx, &moved); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, "old number after PutResident", func() (any, error) { return s.ResidentByPNR(ctx, a.PNR) })
		wantResidentByPNR(t, s, free[0], a.ID)

		if err := s.UpdateResident(ctx, a.ID, func(r *app.Resident) error { r.PNR = free[1]; return nil }); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, "old number after UpdateResident", func() (any, error) { return s.ResidentByPNR(ctx, free[0]) })
		wantResidentByPNR(t, s, free[1], a.ID)
	})

	t.Run("PNROfAnotherResidentConflicts", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		a, b := ds.Residents[0], ds.Residents[1]
		steal := *a
		steal.PNR = b.PNR
		steal.Register.GivenName = "Ändrad"
		if err := s.PutResident(ctx, &steal); !errors.Is(err, app.ErrConflict) {
			t.Errorf("PutResident with another resident's number: got %v, want ErrConflict", err)
		}
		err := s.UpdateResident(ctx, a.ID, func(r *app.Resident) error { r.PNR = b.PNR; r.Register.GivenName = "Ändrad"; return nil })
		if !errors.Is(err, app.ErrConflict) {
			t.Errorf("UpdateResident to another resident's number: got %v, want ErrConflict", err)
		}
		// Nothing changed: both numbers still find their own resident.
		wantResidentByPNR(t, s, a.PNR, a.ID)
		wantResidentByPNR(t, s, b.PNR, b.ID)
		got, err := s.Resident(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(a, got, cmpOpts); d != "" {
			t.Errorf("resident changed by a refused write (-before +after):\n%s", d)
		}
	})

	t.Run("ResidentsByIDSkipsMissing", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		a, b := ds.Residents[0], ds.Residents[3]
		got, err := s.ResidentsByID(ctx, []app.ID{a.ID, app.NewID(testNow), b.ID, a.ID, ""})
		if err != nil {
			t.Fatal(err)
		}
		want := map[app.ID]*app.Resident{a.ID: a, b.ID: b}
		if d := cmp.Diff(want, got, cmpOpts); d != "" {
			t.Errorf("ResidentsByID (-want +got):\n%s", d)
		}
		got, err = s.ResidentsByID(ctx, nil)
		if err != nil || len(got) != 0 {
			t.Errorf("ResidentsByID(nil) = %v, %v; want empty, nil", got, err)
		}
	})

	t.Run("UpdateResident", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		r := ds.Residents[0]
		errBoom := errors.New("boom")
		err := s.UpdateResident(ctx, r.ID, func(x *app.Resident) error {
			x.Settings.Email = "andrad@example.com"
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("UpdateResident with failing fn: got %v, want its error", err)
		}
		wantResident(t, s, r)

		want := *r
		want.Settings.Email, want.Settings.NotifyEmail = "andrad@example.com", true
		err = s.UpdateResident(ctx, r.ID, func(x *app.Resident) error {
			x.Settings.Email, x.Settings.NotifyEmail = want.Settings.Email, true
			x.ID = "ignored" // the id is the key: fn cannot move a resident
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantResident(t, s, &want)

		called := false
		err = s.UpdateResident(ctx, app.NewID(testNow), func(*app.Resident) error { called = true; return nil })
		if !errors.Is(err, app.ErrNotFound) || called {
			t.Errorf("UpdateResident(missing): err %v, fn called %v; want ErrNotFound, not called", err, called)
		}
	})

	t.Run("MissingIsNotFound", func(t *testing.T) {
		s := open(t)
		fill(t, s)
		id := app.NewID(testNow)
		for name, get := range map[string]func() (any, error){
			"Resident": func() (any, error) { return s.Resident(ctx, id) },
			"Case":     func() (any, error) { return s.Case(ctx, id) },
			"Thread":   func() (any, error) { return s.Thread(ctx, id) },
			"Clinic":   func() (any, error) { return s.Clinic(ctx, id) },
			"Staff":    func() (any, error) { return s.Staff(ctx, id) },
			"Template": func() (any, error) { return s.Template(ctx, id) },
			"Empty id": func() (any, error) { return s.Case(ctx, "") },
			"UpdateThread": func() (any, error) {
				return nil, s.UpdateThread(ctx, id, app.Write{}, func(*app.Thread) error { return nil })
			},
		} {
			wantNotFound(t, name, get)
		}
	})

	t.Run("ThreadRoundTrip", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		clinic, r, staff := ds.Clinics[0].ID, ds.Residents[0].ID, ds.StaffBy[demo.StaffHandler]
		th := NewThread(clinic, r, staff, app.StatusOngoing, testNow.Add(-2*time.Hour), "Första", "Andra", "Tredje")
		for i := range 2 {
			th.Notes = append(th.Notes, app.Note{ID: app.NewID(testNow), StaffID: staff, At: testNow.Add(time.Duration(i-60) * time.Minute), Text: fmt.Sprintf("Anteckning %d", i+1)})
		}
		th.Messages[1].ReadByResident = testNow.Add(-time.Hour)
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		for i := range th.Notes {
			th.Notes[i].CaseID = th.Case.ID
		}
		wantThread(t, s, &th)
		c, err := s.Case(ctx, th.Case.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(&th.Case, c, cmpOpts); d != "" {
			t.Errorf("Case (-created +got):\n%s", d)
		}
		// Every demo thread comes back as it was imported.
		for i := range ds.Threads {
			wantThread(t, s, &ds.Threads[i])
		}
	})

	t.Run("CreateDuplicateConflicts", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		orig := ds.Threads[0]
		dup := NewThread(orig.Case.ClinicID, orig.Case.ResidentID, "", app.StatusNew, testNow, "Dubblett")
		dup.Case.ID = orig.Case.ID
		if err := s.CreateThread(ctx, &dup, app.Write{}); !errors.Is(err, app.ErrConflict) {
			t.Errorf("CreateThread with an existing id: got %v, want ErrConflict", err)
		}
		if err := s.ImportThreads(ctx, []app.Thread{dup}); !errors.Is(err, app.ErrConflict) {
			t.Errorf("ImportThreads with an existing id: got %v, want ErrConflict", err)
		}
		wantThread(t, s, &orig)
	})

	t.Run("CreateInvalidRefused", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		for name, change := range map[string]func(*app.Case){
			"no clinic":      func(c *app.Case) { c.ClinicID = "" },
			"no resident":    func(c *app.Case) { c.ResidentID = "" },
			"no id":          func(c *app.Case) { c.ID = "" },
			"unknown status": func(c *app.Case) { c.Status = "oklar" },
		} {
			th := NewThread(ds.Clinics[0].ID, ds.Residents[0].ID, "", app.StatusNew, testNow, "Hej")
			change(&th.Case)
			if err := s.CreateThread(ctx, &th, app.Write{}); !errors.Is(err, app.ErrInvalid) {
				t.Errorf("CreateThread with %s: got %v, want ErrInvalid", name, err)
			}
		}
	})

	t.Run("UpdateThread", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		clinic, staff := ds.Clinics[0].ID, ds.StaffBy[demo.StaffHandler]
		th := NewThread(clinic, ds.Residents[0].ID, "", app.StatusNew, testNow.Add(-400*24*time.Hour), "Hej, jag har en fråga.")
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		want := th
		// Later than any demo case, so the case must come first in its lists.
		now := testNow.Add(time.Minute)
		reply := app.Message{ID: app.NewID(now), CaseID: th.Case.ID, Author: app.AuthorStaff, AuthorID: staff, At: now, Text: "Svar från mottagningen."}
		note := app.Note{ID: app.NewID(now), CaseID: th.Case.ID, StaffID: staff, At: now, Text: "Ringde upp."}
		want.Messages = append(slices.Clone(th.Messages), reply)
		want.Messages[0].ReadByResident = testNow.Add(-time.Minute)
		want.Notes = []app.Note{note}
		want.Case.Status, want.Case.AssigneeID, want.Case.LastActivity, want.Case.UnreadByStaff = app.StatusOngoing, staff, now, false
		err := s.UpdateThread(ctx, th.Case.ID, app.Write{}, func(u *app.Thread) error {
			u.Messages = append(u.Messages, reply)
			u.Messages[0].ReadByResident = want.Messages[0].ReadByResident
			u.Notes = append(u.Notes, note)
			u.Case.Status, u.Case.AssigneeID, u.Case.LastActivity, u.Case.UnreadByStaff = app.StatusOngoing, staff, now, false
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantThread(t, s, &want)
		// The indexes moved with the header: the case is now the newest of
		// the clinic, of its new status and of its assignee, and no longer new.
		for _, q := range []app.CaseQuery{
			{ClinicID: clinic},
			{ClinicID: clinic, Status: app.StatusOngoing},
			{ClinicID: clinic, AssigneeID: staff},
			{ClinicID: clinic, AssigneeID: staff, Status: app.StatusOngoing},
		} {
			page, err := s.ListCases(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Cases) == 0 || page.Cases[0].ID != th.Case.ID {
				t.Errorf("ListCases(%+v): updated case is not first", q)
			}
		}
		if ids := ListAll(t, s, app.CaseQuery{ClinicID: clinic, Status: app.StatusNew}, 500); slices.Contains(ids, th.Case.ID) {
			t.Errorf("case still listed under its old status")
		}
	})

	t.Run("UpdateThreadRefusedChangesNothing", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		i := slices.IndexFunc(ds.Threads, func(th app.Thread) bool { return len(th.Messages) > 1 && th.Case.AssigneeID != "" })
		if i < 0 {
			t.Fatal("no assigned demo thread with a reply")
		}
		orig := ds.Threads[i]
		errBoom := errors.New("boom")
		for name, tc := range map[string]struct {
			fn   func(u *app.Thread) error
			want error
		}{
			"remove a message": {func(u *app.Thread) error {
				u.Case.Subject = "Ändrad"
				u.Messages = u.Messages[:len(u.Messages)-1]
				return nil
			}, app.ErrInvalid},
			"remove all messages": {func(u *app.Thread) error { u.Messages = nil; u.Case.Status = app.StatusClosed; return nil }, app.ErrInvalid},
			"unknown status": {func(u *app.Thread) error {
				u.Messages = append(u.Messages, app.Message{ID: app.NewID(testNow), Text: "Ny"})
				u.Case.Status = "oklar"
				return nil
			}, app.ErrInvalid},
			"fn fails": {func(u *app.Thread) error {
				u.Messages = append(u.Messages, app.Message{ID: app.NewID(testNow), Text: "Ny"})
				u.Case.AssigneeID = ""
				return errBoom
			}, errBoom},
		} {
			if err := s.UpdateThread(ctx, orig.Case.ID, app.Write{}, tc.fn); !errors.Is(err, tc.want) {
				t.Errorf("UpdateThread that would %s: got %v, want %v", name, err, tc.want)
			}
			wantThread(t, s, &orig)
		}
	})

	t.Run("ListCases", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		all := addListCases(t, s, ds)
		var queries []app.CaseQuery
		for _, c := range ds.Clinics {
			queries = append(queries, app.CaseQuery{ClinicID: c.ID})
			for _, st := range app.AllStatuses {
				queries = append(queries, app.CaseQuery{ClinicID: c.ID, Status: st})
			}
			for _, st := range ds.Staff {
				queries = append(queries, app.CaseQuery{ClinicID: c.ID, AssigneeID: st.ID})
				for _, status := range app.AllStatuses {
					queries = append(queries, app.CaseQuery{ClinicID: c.ID, AssigneeID: st.ID, Status: status})
				}
			}
		}
		queries = append(queries, app.CaseQuery{ClinicID: app.NewID(testNow)}) // a clinic with no cases
		nonEmpty := 0
		for _, q := range queries {
			want := WantList(all, q)
			if len(want) > 0 {
				nonEmpty++
			}
			for _, limit := range []int{500, 7, 1} {
				if got := ListAll(t, s, q, limit); !slices.Equal(got, want) {
					t.Errorf("ListCases(%s) in pages of %d:\n got %v\nwant %v", describe(ds, q), limit, got, want)
				}
			}
		}
		if nonEmpty < len(queries)/3 {
			t.Errorf("only %d of %d queries have cases: the data does not exercise the filters", nonEmpty, len(queries))
		}

		// A page holds the case headers as stored; the default page is 50.
		q := app.CaseQuery{ClinicID: ds.Clinics[0].ID}
		page, err := s.ListCases(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(50, len(WantList(all, q))); len(page.Cases) != want || want < 50 {
			t.Errorf("default page: %d cases, want %d (and the clinic needs more than 50)", len(page.Cases), want)
		}
		byID := map[app.ID]app.Case{}
		for _, c := range all {
			byID[c.ID] = c
		}
		for _, got := range page.Cases {
			if d := cmp.Diff(byID[got.ID], got, cmpOpts); d != "" {
				t.Errorf("listed case %s (-stored +listed):\n%s", got.ID, d)
			}
		}
	})

	t.Run("ListCasesBadCursor", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		a, b := ds.Clinics[0].ID, ds.Clinics[1].ID
		page, err := s.ListCases(ctx, app.CaseQuery{ClinicID: a, Limit: 2})
		if err != nil || page.Next == "" {
			t.Fatalf("first page: next %q, err %v; want a cursor", page.Next, err)
		}
		filtered, err := s.ListCases(ctx, app.CaseQuery{ClinicID: a, Status: app.StatusNew, Limit: 1})
		if err != nil || filtered.Next == "" {
			t.Fatalf("filtered first page: next %q, err %v; want a cursor", filtered.Next, err)
		}
		for name, q := range map[string]app.CaseQuery{
			"filtered page, unfiltered list": {ClinicID: a, After: filtered.Next},
			"not base64":                     {ClinicID: a, After: "inte en markör!"},
			"not a key":                      {ClinicID: a, After: "AAAA"},
			"other clinic's page":            {ClinicID: b, After: page.Next},
			"other filter's page":            {ClinicID: a, Status: app.StatusNew, After: page.Next},
		} {
			if _, err := s.ListCases(ctx, q); !errors.Is(err, app.ErrInvalid) {
				t.Errorf("ListCases with cursor %s: got %v, want ErrInvalid", name, err)
			}
		}
	})

	t.Run("CasesOfResident", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		byResident := map[app.ID][]app.Case{}
		for _, th := range ds.Threads {
			byResident[th.Case.ResidentID] = append(byResident[th.Case.ResidentID], th.Case)
		}
		several := 0
		for _, r := range ds.Residents {
			want := byResident[r.ID]
			slices.SortFunc(want, func(a, b app.Case) int { return cmpID(a.ID, b.ID) }) // oldest first
			if len(want) > 1 {
				several++
			}
			got, err := s.CasesOfResident(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got, cmpOpts); d != "" {
				t.Errorf("CasesOfResident(%s) (-want +got):\n%s", r.ID, d)
			}
		}
		if several == 0 {
			t.Error("no demo resident has several cases: the order is not tested")
		}
		got, err := s.CasesOfResident(ctx, app.NewID(testNow))
		if err != nil || len(got) != 0 {
			t.Errorf("CasesOfResident(unknown) = %v, %v; want none, nil", got, err)
		}
	})

	t.Run("ResidentCasesPage", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		for i := range 5 {
			th := NewThread(ds.Clinics[i%2].ID, ds.Residents[0].ID, "", app.StatusNew, testNow.Add(time.Duration(i-10)*time.Minute), "Mer")
			if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
				t.Fatal(err)
			}
		}
		counted := 0
		for _, r := range ds.Residents {
			all, err := s.CasesOfResident(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := []app.ID{}
			for i := len(all) - 1; i >= 0; i-- {
				want = append(want, all[i].ID) // newest first
			}
			if len(want) > 2 {
				counted++
			}
			for _, limit := range []int{1, 2, 500} {
				got := []app.ID{}
				before := app.ID("")
				for pages := 0; ; pages++ {
					page, next, err := s.ResidentCasesPage(ctx, r.ID, before, limit)
					if err != nil {
						t.Fatal(err)
					}
					if len(page) > limit || pages > len(want)+1 {
						t.Fatalf("page of %d cases with limit %d (page %d)", len(page), limit, pages)
					}
					for _, c := range page {
						got = append(got, c.ID)
					}
					if next == "" {
						break
					}
					before = next
				}
				if !slices.Equal(got, want) {
					t.Errorf("resident %s in pages of %d:\n got %v\nwant %v", r.ID, limit, got, want)
				}
			}
		}
		if counted == 0 {
			t.Fatal("no resident has more than two cases: paging is not tested")
		}
		// A cursor stays valid while new cases arrive: the next page is
		// the same older cases.
		r := ds.Residents[0]
		var who app.ID
		for _, x := range ds.Residents {
			if cs, _ := s.CasesOfResident(ctx, x.ID); len(cs) > 2 {
				who = x.ID
			}
		}
		if who == "" {
			who = r.ID
		}
		first, next, err := s.ResidentCasesPage(ctx, who, "", 1)
		if err != nil || next == "" || len(first) != 1 {
			t.Fatalf("first page: %d cases, next %q, %v", len(first), next, err)
		}
		rest, _, err := s.ResidentCasesPage(ctx, who, next, 500)
		if err != nil {
			t.Fatal(err)
		}
		th := NewThread(ds.Clinics[0].ID, who, "", app.StatusNew, testNow.Add(time.Hour), "Ny")
		if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
			t.Fatal(err)
		}
		again, _, err := s.ResidentCasesPage(ctx, who, next, 500)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(rest, again, cmpOpts); d != "" {
			t.Errorf("the page after a cursor changed when a new case came (-before +after):\n%s", d)
		}
		if got, _, _ := s.ResidentCasesPage(ctx, who, "", 1); len(got) != 1 || got[0].ID != th.Case.ID {
			t.Errorf("the first page does not start with the new case")
		}
	})

	t.Run("Directory", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		clinics, err := s.Clinics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantClinics := slices.SortedFunc(slices.Values(ds.Clinics), func(a, b app.Clinic) int { return strings.Compare(a.Name, b.Name) })
		if d := cmp.Diff(wantClinics, clinics, cmpOpts); d != "" {
			t.Errorf("Clinics (-want +got):\n%s", d)
		}
		staff, err := s.AllStaff(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantStaff := slices.SortedFunc(slices.Values(ds.Staff), func(a, b app.Staff) int { return strings.Compare(a.Name, b.Name) })
		if d := cmp.Diff(wantStaff, staff, cmpOpts); d != "" {
			t.Errorf("AllStaff (-want +got):\n%s", d)
		}
		for _, st := range ds.Staff {
			got, err := s.Staff(ctx, st.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&st, got, cmpOpts); d != "" {
				t.Errorf("Staff(%s) (-want +got):\n%s", st.ID, d)
			}
		}
	})

	t.Run("TemplatesAndEServicesByClinic", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		local := map[app.ID][]app.EService{}
		for i, name := range []string{"Resevaccination", "Anmälan till diabetesskola", "Hörselkontroll"} {
			c := ds.Clinics[i%2].ID
			e := app.EService{ID: app.NewID(testNow), ClinicID: c, Name: name, Description: "Lokal e-tjänst."}
			if err := s.PutEService(ctx, &e); err != nil {
				t.Fatal(err)
			}
			local[c] = append(local[c], e)
		}
		for _, c := range ds.Clinics {
			var want []app.MessageTemplate
			for _, tpl := range ds.Templates {
				if tpl.ClinicID == c.ID {
					want = append(want, tpl)
				}
			}
			slices.SortFunc(want, func(a, b app.MessageTemplate) int { return strings.Compare(a.Name, b.Name) })
			got, err := s.Templates(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatalf("demo clinic %s has no templates", c.ID)
			}
			if d := cmp.Diff(want, got, cmpOpts); d != "" {
				t.Errorf("Templates(%s) (-want +got):\n%s", c.ID, d)
			}
			for _, tpl := range want {
				got, err := s.Template(ctx, tpl.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(&tpl, got, cmpOpts); d != "" {
					t.Errorf("Template(%s) (-want +got):\n%s", tpl.ID, d)
				}
			}
			wantES := slices.SortedFunc(slices.Values(local[c.ID]), func(a, b app.EService) int { return strings.Compare(a.Name, b.Name) })
			gotES, err := s.EServices(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(wantES, gotES, cmpOpts); d != "" {
				t.Errorf("EServices(%s) (-want +got):\n%s", c.ID, d)
			}
		}
		if got, err := s.Templates(ctx, app.NewID(testNow)); err != nil || len(got) != 0 {
			t.Errorf("Templates(unknown clinic) = %v, %v; want none, nil", got, err)
		}
	})

	t.Run("AccessLogByClinicAndPeriod", func(t *testing.T) {
		s := open(t)
		ds := fill(t, s)
		a, b := ds.Clinics[0].ID, ds.Clinics[1].ID
		staff, r := ds.StaffBy[demo.StaffReceiver], ds.Residents[0].ID
		var entries []app.AccessEntry
		for i, e := range []struct {
			clinic app.ID
			ago    time.Duration
			action app.AccessAction
		}{
			{a, 3 * time.Hour, app.AccessLookupResident},
			{a, 2 * time.Hour, app.AccessOpenCase}, // exactly at from: in
			{b, 2 * time.Hour, app.AccessOpenCase},
			{a, 90 * time.Minute, app.AccessSend},
			{a, time.Hour, app.AccessPrint}, // exactly at to: out
			{a, 0, app.AccessExport},
		} {
			at := testNow.Add(-e.ago)
			entry := app.AccessEntry{ID: app.NewID(at), At: at, StaffID: staff, ClinicID: e.clinic, ResidentID: r,
				CaseID: ds.Threads[i].Case.ID, Action: e.action}
			if err := s.Record(ctx, entry); err != nil {
				t.Fatal(err)
			}
			entries = append(entries, entry)
		}
		for _, tc := range []struct {
			clinic   app.ID
			from, to time.Time
			want     []app.AccessEntry
		}{
			{a, testNow.Add(-2 * time.Hour), testNow.Add(-time.Hour), []app.AccessEntry{entries[1], entries[3]}},
			{a, time.Time{}, testNow.Add(time.Hour), []app.AccessEntry{entries[0], entries[1], entries[3], entries[4], entries[5]}},
			{b, time.Time{}, testNow.Add(time.Hour), []app.AccessEntry{entries[2]}},
			{b, testNow.Add(-time.Hour), testNow.Add(time.Hour), nil},
			{app.NewID(testNow), time.Time{}, testNow.Add(time.Hour), nil},
		} {
			got, err := s.Entries(ctx, tc.clinic, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmpOpts); d != "" {
				t.Errorf("Entries(%s, %v, %v) (-want +got):\n%s", tc.clinic, tc.from, tc.to, d)
			}
		}
	})
}

// fill writes the demo data set through the app.Store interface only (the
// suite must not need more than the port).
func fill(t *testing.T, s app.Store) *demo.Dataset {
	t.Helper()
	ctx := context.Background()
	ds := demo.Build(testNow)
	for i := range ds.Clinics {
		if err := s.PutClinic(ctx, &ds.Clinics[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range ds.Staff {
		if err := s.PutStaff(ctx, &ds.Staff[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range ds.Residents {
		if err := s.PutResident(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range ds.Templates {
		if err := s.PutTemplate(ctx, &ds.Templates[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ImportThreads(ctx, ds.Threads); err != nil {
		t.Fatal(err)
	}
	return ds
}

// addListCases adds cases to the demo set so that every list filter has
// several pages: seeded random statuses, assignees and activity times,
// including cases with the same last activity (ties break on the id). It
// returns the headers of every case in the store.
func addListCases(t *testing.T, s app.Store, ds *demo.Dataset) []app.Case {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	handlers := []app.ID{ds.StaffBy[demo.StaffReceiver], ds.StaffBy[demo.StaffHandler], ds.StaffBy[demo.StaffChildClinic]}
	var ts []app.Thread
	for i := range 90 {
		st := app.AllStatuses[rnd.IntN(len(app.AllStatuses))]
		assignee := handlers[rnd.IntN(len(handlers))]
		if st == app.StatusNew && rnd.IntN(2) == 0 {
			assignee = ""
		}
		at := testNow.Add(-time.Duration(rnd.IntN(60*24*60)) * time.Minute)
		if i%10 == 9 {
			at = ts[i-1].Case.LastActivity // a tie
		}
		r := ds.Residents[rnd.IntN(len(ds.Residents))].ID
		ts = append(ts, NewThread(ds.Clinics[i%3%2].ID, r, assignee, st, at, "Hej"))
		ts[i].Messages[0].At, ts[i].Case.LastActivity = at, at
	}
	if err := s.ImportThreads(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	var all []app.Case
	for _, th := range append(ds.Threads, ts...) {
		all = append(all, th.Case)
	}
	return all
}

// WantList is the model of ListCases: the clinic's cases that match the
// filters, newest activity (to the millisecond) first, ties by id descending.
func WantList(all []app.Case, q app.CaseQuery) []app.ID {
	var cs []app.Case
	for _, c := range all {
		if c.ClinicID == q.ClinicID && (q.Status == "" || c.Status == q.Status) && (q.AssigneeID == "" || c.AssigneeID == q.AssigneeID) {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b app.Case) int {
		if a, b := a.LastActivity.UnixMilli(), b.LastActivity.UnixMilli(); a != b {
			return cmpInt(b, a)
		}
		return cmpID(b.ID, a.ID)
	})
	ids := []app.ID{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

// ListAll reads every page of q with the given page size, following Next,
// and checks that no page is larger than asked and no case comes twice.
func ListAll(t *testing.T, s app.CaseStore, q app.CaseQuery, limit int) []app.ID {
	t.Helper()
	q.Limit = limit
	ids := []app.ID{}
	seen := map[app.ID]bool{}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("ListCases: more than 1000 pages; the cursor does not advance")
		}
		page, err := s.ListCases(context.Background(), q)
		if err != nil {
			t.Fatalf("ListCases(%+v): %v", q, err)
		}
		if len(page.Cases) > limit {
			t.Errorf("page of %d cases, limit %d", len(page.Cases), limit)
		}
		for _, c := range page.Cases {
			if seen[c.ID] {
				t.Errorf("case %s listed twice", c.ID)
			}
			seen[c.ID] = true
			ids = append(ids, c.ID)
		}
		if page.Next == "" {
			return ids
		}
		if len(page.Cases) == 0 && q.Status == "" {
			t.Errorf("ListCases(%+v): empty page with a next cursor", q)
		}
		q.After = page.Next
	}
}

func describe(ds *demo.Dataset, q app.CaseQuery) string {
	clinic := string(q.ClinicID)
	for i, c := range ds.Clinics {
		if c.ID == q.ClinicID {
			clinic = fmt.Sprintf("clinic %d", i)
		}
	}
	return fmt.Sprintf("%s status %q assignee %q", clinic, q.Status, q.AssigneeID)
}

// UnusedNumbers are Skatteverket test numbers no demo resident has.
func UnusedNumbers(ds *demo.Dataset) []personnummer.Number {
	used := map[personnummer.Number]bool{}
	for _, r := range ds.Residents {
		used[r.PNR] = true
	}
	var out []personnummer.Number
	for _, n := range demo.TestNumbers() {
		if !used[n] {
			out = append(out, n)
		}
	}
	return out
}

func wantNotFound(t *testing.T, what string, get func() (any, error)) {
	t.Helper()
	got, err := get()
	if !errors.Is(err, app.ErrNotFound) {
		t.Errorf("%s: got error %v, want ErrNotFound", what, err)
	}
	if got != nil && !isNilPointer(got) {
		t.Errorf("%s: got a record %v with the error", what, got)
	}
}

func isNilPointer(v any) bool {
	switch p := v.(type) {
	case *app.Resident:
		return p == nil
	case *app.Case:
		return p == nil
	case *app.Thread:
		return p == nil
	case *app.Clinic:
		return p == nil
	case *app.Staff:
		return p == nil
	case *app.MessageTemplate:
		return p == nil
	}
	return false
}

func wantResidentByPNR(t *testing.T, s app.ResidentStore, n personnummer.Number, want app.ID) {
	t.Helper()
	r, err := s.ResidentByPNR(context.Background(), n)
	if err != nil {
		t.Fatalf("ResidentByPNR: %v", err)
	}
	if r.ID != want {
		t.Errorf("ResidentByPNR found resident %s, want %s", r.ID, want)
	}
}

func wantResident(t *testing.T, s app.ResidentStore, want *app.Resident) {
	t.Helper()
	got, err := s.Resident(context.Background(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Errorf("Resident(%s) (-want +got):\n%s", want.ID, d)
	}
}

func wantThread(t *testing.T, s app.CaseStore, want *app.Thread) {
	t.Helper()
	got, err := s.Thread(context.Background(), want.Case.ID)
	if err != nil {
		t.Fatalf("Thread(%s): %v", want.Case.ID, err)
	}
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Errorf("Thread(%s) (-want +got):\n%s", want.Case.ID, d)
	}
}

func cmpID(a, b app.ID) int { return strings.Compare(string(a), string(b)) }

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
