package storage

import (
	"context"
	"slices"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

// connectedTest is a connected desktop store in dir with the demo clinics
// and residents (records only: no demo mark).
func connectedTest(t *testing.T, dir string) (*Store, *demo.Dataset) {
	t.Helper()
	ctx := context.Background()
	s := openTestAt(t, dir, Options{})
	ds := demo.Build(testNow)
	for i := range ds.Clinics {
		if err := s.PutClinic(ctx, &ds.Clinics[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutResidents(ctx, ds.Residents); err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx, "device-1"); err != nil {
		t.Fatal(err)
	}
	return s, ds
}

func pulledPage(ts ...app.Thread) *app.SyncChanges {
	ch := &app.SyncChanges{}
	for i, th := range ts {
		ch.Threads = append(ch.Threads, app.PulledThread{Thread: th, Seq: uint64(i + 1)})
	}
	return ch
}

// listed are the case ids ListCases finds in clinic, by status range.
func listed(t *testing.T, s *Store, clinic app.ID) []app.ID {
	t.Helper()
	page, err := s.ListCases(context.Background(), app.CaseQuery{ClinicID: clinic, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var ids []app.ID
	for _, c := range page.Cases {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// A first sync writes no case index entries per page; FinishPull builds
// them once from what the pages collected. The result is exactly the
// indexes page-by-page writes would have made (Check compares them with
// the headers): with a case pulled twice (its second state counts) and a
// case gone meanwhile.
func TestFirstSync_IndexesBuiltOnceAtTheEnd(t *testing.T) {
	ctx := context.Background()
	s, ds := connectedTest(t, t.TempDir())
	clinic, res := ds.Clinics[0].ID, ds.Residents[0].ID
	var ts []app.Thread
	for i := 0; i < 30; i++ {
		ts = append(ts, newThread(clinic, res, "", app.StatusNew, testNow.Add(time.Duration(i)*time.Minute), "Hej"))
	}
	if err := s.UpdateFromServer(ctx, pulledPage(ts[:10]...), "10"); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, s, clinic); len(got) != 0 {
		t.Fatalf("indexes written during the first sync: %d cases listed", len(got))
	}
	// The second page changes a case of the first (closed and assigned)
	// and says another is gone.
	moved := ts[3]
	moved.Case.Status, moved.Case.AssigneeID, moved.Case.LastActivity = app.StatusClosed, ds.Staff[0].ID, testNow.Add(time.Hour)
	page := pulledPage(append(slices.Clone(ts[10:30]), moved)...)
	page.Gone = []app.ID{ts[5].Case.ID}
	if err := s.UpdateFromServer(ctx, page, "31"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishPull(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatalf("indexes after the first sync: %v", err)
	}
	var want []app.ID
	for i, th := range ts {
		if i != 5 {
			want = append(want, th.Case.ID)
		}
	}
	slices.Sort(want)
	if got := listed(t, s, clinic); !slices.Equal(got, want) {
		t.Fatalf("listed %d cases, want %d", len(got), len(want))
	}
	mine, err := s.ListCases(ctx, app.CaseQuery{ClinicID: clinic, AssigneeID: ds.Staff[0].ID, Limit: 50})
	if err != nil || len(mine.Cases) != 1 || mine.Cases[0].ID != moved.Case.ID || mine.Cases[0].Status != app.StatusClosed {
		t.Fatalf("assignee index: %+v, %v", mine.Cases, err)
	}
	// Later pulls index as they go.
	late := newThread(clinic, res, "", app.StatusNew, testNow.Add(2*time.Hour), "Sen")
	if err := s.UpdateFromServer(ctx, pulledPage(late), "32"); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, s, clinic); len(got) != len(want)+1 {
		t.Fatalf("a pull after the first sync is not indexed: %d listed", len(got))
	}
}

// A desktop stopped in the middle of its first sync (the collected keys
// are gone with the process), or written to locally meanwhile, builds the
// indexes from the stored headers instead.
func TestFirstSync_IndexesRebuiltAfterRestartOrLocalWrite(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"restart", "local write"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			s, ds := connectedTest(t, dir)
			clinic, res := ds.Clinics[0].ID, ds.Residents[0].ID
			a := newThread(clinic, res, "", app.StatusNew, testNow, "Hej")
			b := newThread(clinic, res, "", app.StatusNew, testNow.Add(time.Minute), "Hej")
			if err := s.UpdateFromServer(ctx, pulledPage(a), "1"); err != nil {
				t.Fatal(err)
			}
			switch how {
			case "restart":
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				s = openTestAt(t, dir, Options{})
			case "local write":
				err := s.UpdateThread(ctx, a.Case.ID, app.Write{}, func(th *app.Thread) error {
					th.Case.Status = app.StatusOngoing
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := s.UpdateFromServer(ctx, pulledPage(b), "2"); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishPull(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Check(); err != nil {
				t.Fatalf("indexes: %v", err)
			}
			if got := listed(t, s, clinic); len(got) != 2 {
				t.Fatalf("listed %d cases, want 2", len(got))
			}
		})
	}
}

// A pulled case at the feed position the desktop already holds is not
// written again; a local change drops the position, so the server's
// state is taken again even at the same position (a conflict the
// desktop lost leaves the server's case unchanged).
func TestPull_SameFeedPositionSkipped(t *testing.T) {
	ctx := context.Background()
	s, ds := connectedTest(t, t.TempDir())
	clinic, res := ds.Clinics[0].ID, ds.Residents[0].ID
	first := newThread(clinic, res, "", app.StatusNew, testNow, "Hej")
	// Past the first sync: an empty page sets the cursor.
	if err := s.UpdateFromServer(ctx, &app.SyncChanges{}, "1"); err != nil {
		t.Fatal(err)
	}
	pt := app.PulledThread{Thread: first, Seq: 7}
	if err := s.UpdateFromServer(ctx, &app.SyncChanges{Threads: []app.PulledThread{pt}}, "7"); err != nil {
		t.Fatal(err)
	}
	// The same position with other content: skipped (the server would
	// never send that; it proves the write is skipped).
	other := pt
	other.Case.Subject = "Ändrad"
	if err := s.UpdateFromServer(ctx, &app.SyncChanges{Threads: []app.PulledThread{other}}, "7"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Case(ctx, first.Case.ID); c.Subject != first.Case.Subject {
		t.Fatalf("a case at the held position was written again: %q", c.Subject)
	}
	// A local change, then the server's state at the same position.
	err := s.UpdateThread(ctx, first.Case.ID, app.Write{}, func(th *app.Thread) error {
		th.Case.Status = app.StatusClosed
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := s.PendingOps(ctx, 10)
	var ids []string
	for _, op := range ops {
		ids = append(ids, op.ID)
	}
	res1 := []app.OpResult{}
	for _, id := range ids {
		res1 = append(res1, app.OpResult{ID: id, Outcome: app.OpConflict})
	}
	if err := s.DropAnsweredOps(ctx, res1, &app.SyncChanges{Threads: []app.PulledThread{pt}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Case(ctx, first.Case.ID); c.Status != first.Case.Status {
		t.Fatalf("the server's state at the held position was not taken after a local change: %s", c.Status)
	}
}
