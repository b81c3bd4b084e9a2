package storage

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"mottagning/app"
)

// The pull cursor belongs to the staff member the desktop syncs as (the
// owner of the refresh token): a second staff member pulls their own
// scope from their own cursor, the first one's cursor waits for their
// next session, and a page pulled for someone else is not applied.
func TestSyncCursor_PerStaffMember(t *testing.T) {
	ctx := context.Background()
	s, ds := connectedTest(t, t.TempDir())
	clinic, res := ds.Clinics[0].ID, ds.Residents[0].ID
	anna, bjorn := ds.Staff[0].ID, ds.Staff[1].ID
	at := func(i int) time.Time { return testNow.Add(time.Duration(i) * time.Minute) }

	// A database of an earlier version: no owner, the old cursor.
	legacy := newThread(clinic, res, "", app.StatusNew, at(0), "Hej")
	if err := s.UpdateFromServer(ctx, pulledPage(legacy), "3"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishPull(ctx); err != nil {
		t.Fatal(err)
	}
	if st, c := s.SyncPosition(); st != "" || c != "3" || s.SyncCursor() != "3" {
		t.Fatalf("position without an owner = %q, %q", st, c)
	}

	// Anna's session: her own cursor, empty at first. The replica holds
	// cases, so her first page writes its indexes at once (no deferral).
	if err := s.SaveSyncToken(ctx, anna, "refresh-anna"); err != nil {
		t.Fatal(err)
	}
	if st, c := s.SyncPosition(); st != anna || c != "" {
		t.Fatalf("Anna's position = %q, %q", st, c)
	}
	if tok, err := s.SyncToken(ctx); err != nil || tok != "refresh-anna" {
		t.Fatalf("token = %q, %v", tok, err)
	}
	a1 := newThread(clinic, res, "", app.StatusNew, at(1), "Hej")
	ch, err := s.ApplyPulledPage(ctx, anna, &app.SyncChanges{Threads: []app.PulledThread{{Thread: a1, Seq: 10}}}, "10")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Deferred || !slices.Equal(ch.Cases, []app.ID{a1.Case.ID}) {
		t.Fatalf("Anna's first page reported %+v", ch)
	}
	if got := listed(t, s, clinic); !slices.Contains(got, a1.Case.ID) {
		t.Fatal("Anna's first page on a replica with cases is not listed at once")
	}
	// A refreshed token keeps the owner.
	if err := s.SetSyncToken(ctx, "refresh-anna-2"); err != nil {
		t.Fatal(err)
	}
	if st, c := s.SyncPosition(); st != anna || c != "10" {
		t.Fatalf("after a refresh = %q, %q", st, c)
	}

	// Björn signs in on the same desktop: his cursor, from the start.
	if err := s.SaveSyncToken(ctx, bjorn, "refresh-bjorn"); err != nil {
		t.Fatal(err)
	}
	if st, c := s.SyncPosition(); st != bjorn || c != "" {
		t.Fatalf("Björn's position = %q, %q", st, c)
	}
	// A page Anna's pull fetched before: not applied.
	late := newThread(clinic, res, "", app.StatusNew, at(2), "Hej")
	if _, err := s.ApplyPulledPage(ctx, anna, &app.SyncChanges{Threads: []app.PulledThread{{Thread: late, Seq: 11}}}, "11"); !errors.Is(err, ErrSyncStaffChanged) {
		t.Fatalf("Anna's page after Björn's sign-in = %v", err)
	}
	if _, err := s.Case(ctx, late.Case.ID); !app.IsNotFound(err) {
		t.Fatalf("Anna's late page was applied: %v", err)
	}
	if _, err := s.ApplyPulledPage(ctx, bjorn, &app.SyncChanges{}, "4"); err != nil {
		t.Fatal(err)
	}
	// An answer to a push of Anna's session is stored, but moves no
	// cursor: the feed between was read in Anna's scope.
	if _, err := s.ApplyAnswers(ctx, anna, nil, &app.SyncChanges{From: "4", To: "9"}); err != nil {
		t.Fatal(err)
	}
	if _, c := s.SyncPosition(); c != "4" {
		t.Fatalf("Björn's cursor moved by Anna's push answer to %q", c)
	}
	if _, err := s.ApplyAnswers(ctx, bjorn, nil, &app.SyncChanges{From: "4", To: "9"}); err != nil {
		t.Fatal(err)
	}
	if _, c := s.SyncPosition(); c != "9" {
		t.Fatalf("Björn's push answer left his cursor at %q", c)
	}

	// Anna again: her cursor waited for her.
	if err := s.SaveSyncToken(ctx, anna, "refresh-anna-3"); err != nil {
		t.Fatal(err)
	}
	if st, c := s.SyncPosition(); st != anna || c != "10" {
		t.Fatalf("Anna's position again = %q, %q", st, c)
	}
	// Signing out of the server (no token) keeps the owner and the cursor.
	if err := s.SetSyncToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if st, c := s.SyncPosition(); st != anna || c != "10" {
		t.Fatalf("without a token = %q, %q", st, c)
	}
}

// The store reports the cases a committed page or push answer wrote or
// removed, and only those: not a case at the feed position it holds, not
// a case with ops pending, not a gone case it never held, nothing of a
// failed transaction; a first sync's pages say Deferred instead of
// listing every case.
func TestServerChange_ReportsWrittenCases(t *testing.T) {
	ctx := context.Background()
	s, ds := connectedTest(t, t.TempDir())
	clinic, res := ds.Clinics[0].ID, ds.Residents[0].ID
	at := func(i int) time.Time { return testNow.Add(time.Duration(i) * time.Minute) }
	one, two := newThread(clinic, res, "", app.StatusNew, at(0), "Hej"), newThread(clinic, res, "", app.StatusNew, at(1), "Hej")

	ch, err := s.ApplyPulledPage(ctx, "", &app.SyncChanges{Threads: []app.PulledThread{{Thread: one, Seq: 1}, {Thread: two, Seq: 2}}}, "2")
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Deferred || len(ch.Cases) != 0 {
		t.Fatalf("first sync page reported %+v; want Deferred and no cases", ch)
	}
	if ch, err = s.ApplyPulledPage(ctx, "", &app.SyncChanges{}, "2"); err != nil || !ch.Deferred {
		t.Fatalf("an empty page before FinishPull = %+v, %v; want Deferred", ch, err)
	}
	if err := s.FinishPull(ctx); err != nil {
		t.Fatal(err)
	}

	// A first sync keeps no feed positions: the cases again are written
	// (and reported) once; at the positions held then, nothing is.
	again := &app.SyncChanges{Threads: []app.PulledThread{{Thread: one, Seq: 1}, {Thread: two, Seq: 2}}}
	if ch, err = s.ApplyPulledPage(ctx, "", again, "2"); err != nil || ch.Deferred || len(ch.Cases) != 2 {
		t.Fatalf("after the first sync = %+v, %v", ch, err)
	}
	if ch, err = s.ApplyPulledPage(ctx, "", again, "2"); err != nil {
		t.Fatal(err)
	}
	if ch.Deferred || len(ch.Cases) != 0 {
		t.Fatalf("unchanged cases reported: %+v", ch)
	}
	// two changes on the server; one has a local change pending.
	statusOp := app.SyncOp{Kind: app.OpCaseStatus, CaseID: one.Case.ID, Payload: json.RawMessage(`{"Status":"pagaende"}`)}
	if err := s.UpdateThread(ctx, one.Case.ID, app.Local(statusOp), func(th *app.Thread) error { th.Case.Status = app.StatusOngoing; return nil }); err != nil {
		t.Fatal(err)
	}
	two.Case.UnreadByStaff, two.Case.LastActivity = true, at(5)
	gone := app.NewID(at(6))
	page := &app.SyncChanges{Threads: []app.PulledThread{{Thread: one, Seq: 3}, {Thread: two, Seq: 4}}, Gone: []app.ID{gone}}
	if ch, err = s.ApplyPulledPage(ctx, "", page, "4"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Cases, []app.ID{two.Case.ID}) {
		t.Fatalf("reported %v, want only the written case", ch.Cases)
	}
	// The answer to one's op: its state written, and a rejected case gone.
	ops, err := s.PendingOps(ctx, 10)
	if err != nil || len(ops) == 0 {
		t.Fatalf("pending = %d, %v", len(ops), err)
	}
	var rs []app.OpResult
	for _, op := range ops {
		rs = append(rs, app.OpResult{ID: op.ID, Outcome: app.OpApplied})
	}
	one.Case.Status = app.StatusOngoing
	if ch, err = s.ApplyAnswers(ctx, "", rs, &app.SyncChanges{Threads: []app.PulledThread{{Thread: one, Seq: 5}}, Gone: []app.ID{two.Case.ID}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Cases, []app.ID{one.Case.ID, two.Case.ID}) {
		t.Fatalf("answer reported %v", ch.Cases)
	}
	// A page that fails (a case of no valid header) reports nothing and
	// writes nothing.
	bad := newThread(clinic, res, "", app.StatusNew, at(7), "Hej")
	bad.Case.ClinicID = ""
	three := newThread(clinic, res, "", app.StatusNew, at(8), "Hej")
	ch, err = s.ApplyPulledPage(ctx, "", &app.SyncChanges{Threads: []app.PulledThread{{Thread: three, Seq: 6}, {Thread: bad, Seq: 7}}}, "7")
	if err == nil || len(ch.Cases) != 0 {
		t.Fatalf("a failed page = %+v, %v", ch, err)
	}
	if _, err := s.Case(ctx, three.Case.ID); !app.IsNotFound(err) {
		t.Fatalf("a failed page wrote a case: %v", err)
	}
}
