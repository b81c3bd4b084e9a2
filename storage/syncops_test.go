package storage

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

func opKinds(ops []app.SyncOp) []app.OpKind {
	var out []app.OpKind
	for _, op := range ops {
		out = append(out, op.Kind)
	}
	return out
}

// A connected desktop queues one semantic op per local change, in the
// change's own transaction and in order; writes from the server queue
// nothing; a standalone database queues nothing; no outbox rows are
// written when connected (the server notifies).
func TestSyncOps_QueuedWithEachLocalChange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	// Real (non-demo) records: a demo database may not connect.
	ds := demo.Build(testNow)
	for i := range ds.Clinics {
		if err := s.PutClinic(ctx, &ds.Clinics[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutResidents(ctx, ds.Residents); err != nil {
		t.Fatal(err)
	}
	clinic, resident, staff := ds.Clinics[0].ID, ds.Residents[0].ID, ds.Staff[0].ID

	// Standalone: nothing queued.
	th := newThread(clinic, resident, "", app.StatusNew, testNow, "Hej")
	if err := s.CreateThread(ctx, &th); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingCount(ctx); n != 0 {
		t.Fatalf("standalone queued %d ops", n)
	}

	if err := s.Connect(ctx, "device-1"); err != nil {
		t.Fatal(err)
	}
	if s.SyncDevice() != "device-1" {
		t.Fatal("device id not kept")
	}
	th2 := newThread(clinic, resident, "", app.StatusNew, testNow, "Hej igen")
	th2.Outbox = []app.Notification{{ID: app.NotificationID(th2.Messages[0].ID, resident, app.ChannelSMS), CaseID: th2.Case.ID, MessageID: th2.Messages[0].ID, RecipientID: resident, Channel: app.ChannelSMS, Address: "+46701740605", State: app.NotificationQueued}}
	if err := s.CreateThread(ctx, &th2); err != nil {
		t.Fatal(err)
	}
	if ns, _ := s.NotificationsOfCase(ctx, th2.Case.ID); len(ns) != 0 {
		t.Error("a connected desktop wrote outbox rows")
	}
	err := s.UpdateThread(ctx, th2.Case.ID, func(t *app.Thread) error {
		t.Messages = append(t.Messages, app.Message{ID: app.NewID(testNow), Author: app.AuthorStaff, AuthorID: staff, At: testNow, Text: "Svar"})
		t.Notes = append(t.Notes, app.Note{ID: app.NewID(testNow), StaffID: staff, At: testNow, Text: "Anteckning"})
		t.Case.AssigneeID, t.Case.Status, t.Case.UnreadByStaff = staff, app.StatusOngoing, false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failed change queues nothing.
	_ = s.UpdateThread(ctx, th2.Case.ID, func(t *app.Thread) error {
		t.Case.Status = app.StatusClosed
		return errors.New("changed my mind")
	})
	if err := s.Record(ctx, app.AccessEntry{ID: app.NewID(testNow), At: testNow, StaffID: staff, ClinicID: clinic, ResidentID: resident, CaseID: th2.Case.ID, Action: app.AccessOpenCase}); err != nil {
		t.Fatal(err)
	}
	// From the server: nothing queued.
	th3 := newThread(clinic, resident, "", app.StatusNew, testNow, "Från servern")
	if err := s.CreateThread(FromServer(ctx), &th3); err != nil {
		t.Fatal(err)
	}

	ops, err := s.PendingOps(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []app.OpKind{app.OpCaseCreate, app.OpCaseMessage, app.OpCaseNote, app.OpCaseStatus, app.OpCaseAssign, app.OpCaseRead, app.OpAccessRecord}
	if got := opKinds(ops); !slices.Equal(got, want) {
		t.Fatalf("ops %v, want %v", got, want)
	}
	seen := map[string]bool{}
	for i, op := range ops {
		if op.ID == "" || seen[op.ID] || (i > 0 && op.Seq <= ops[i-1].Seq) {
			t.Errorf("op %d: id %q seq %d: ids must be unique, seqs increasing", i, op.ID, op.Seq)
		}
		seen[op.ID] = true
	}
	var st app.StatusChange
	if err := json.Unmarshal(ops[3].Payload, &st); err != nil || st.Status != app.StatusOngoing {
		t.Errorf("status payload %s", ops[3].Payload)
	}
	var created app.Thread
	if err := json.Unmarshal(ops[0].Payload, &created); err != nil || created.Case.ID != th2.Case.ID || len(created.Messages) != 1 || len(created.Outbox) != 0 {
		t.Errorf("create payload: %v", err)
	}
	// Dropping answered ops keeps the rest in order.
	if err := s.DropOps(ctx, []string{ops[0].ID, ops[2].ID}); err != nil {
		t.Fatal(err)
	}
	rest, _ := s.PendingOps(ctx, 0)
	if got := opKinds(rest); !slices.Equal(got, []app.OpKind{app.OpCaseMessage, app.OpCaseStatus, app.OpCaseAssign, app.OpCaseRead, app.OpAccessRecord}) {
		t.Errorf("after drop: %v", got)
	}
	if n, _ := s.PendingCount(ctx); n != 5 {
		t.Errorf("pending count %d", n)
	}
	_ = time.Second
}

func TestSyncOps_DemoDatabaseCannotConnect(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.MarkDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx, "device-1"); !errors.Is(err, ErrDemoNotConnectable) {
		t.Fatalf("connect a demo database: %v", err)
	}
	if s.SyncDevice() != "" {
		t.Error("a demo database was marked connected")
	}
}
