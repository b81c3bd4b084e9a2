package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/sync/wire"
)

func opKinds(ops []app.SyncOp) []app.OpKind {
	var out []app.OpKind
	for _, op := range ops {
		out = append(out, op.Kind)
	}
	return out
}

// A connected desktop queues exactly the ops the app hands a write
// (app.Write), in the write's own transaction and in order, and derives
// none from the change itself; a write with no ops (from the server)
// queues nothing; a standalone database queues nothing; no outbox rows
// are written when connected (the server notifies).
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
	op := func(kind app.OpKind, caseID app.ID, payload any) app.SyncOp {
		data, _ := json.Marshal(payload)
		return app.SyncOp{ID: app.NewOpID(), Kind: kind, CaseID: caseID, Payload: data}
	}

	// Standalone: nothing queued, even when handed ops.
	th := newThread(clinic, resident, "", app.StatusNew, testNow, "Hej")
	if err := s.CreateThread(ctx, &th, app.Local(op(app.OpCaseCreate, th.Case.ID, &th))); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingCount(ctx); n != 0 {
		t.Fatalf("standalone queued %d ops", n)
	}
	if s.Role() != RoleStandalone {
		t.Fatalf("role %v", s.Role())
	}

	if err := s.Connect(ctx, "device-1"); err != nil {
		t.Fatal(err)
	}
	if s.SyncDevice() != "device-1" || s.Role() != RoleReplica {
		t.Fatalf("device id %q, role %v", s.SyncDevice(), s.Role())
	}
	th2 := newThread(clinic, resident, "", app.StatusNew, testNow, "Hej igen")
	th2.Outbox = []app.Notification{{ID: app.NotificationID(th2.Messages[0].ID, resident, app.ChannelSMS), CaseID: th2.Case.ID, MessageID: th2.Messages[0].ID, RecipientID: resident, Channel: app.ChannelSMS, Address: "+46701740605", State: app.NotificationQueued}}
	if err := s.CreateThread(ctx, &th2, app.Local(op(app.OpCaseCreate, th2.Case.ID, &th2))); err != nil {
		t.Fatal(err)
	}
	if ns, _ := s.NotificationsOfCase(ctx, th2.Case.ID); len(ns) != 0 {
		t.Error("a connected desktop wrote outbox rows")
	}
	// A change that adds a message, a note and changes three header
	// fields queues only what the app says it is: one message op.
	msg := app.Message{ID: app.NewID(testNow), Author: app.AuthorStaff, AuthorID: staff, At: testNow, Text: "Svar"}
	err := s.UpdateThread(ctx, th2.Case.ID, app.Local(op(app.OpCaseMessage, th2.Case.ID, &msg)), func(t *app.Thread) error {
		t.Messages = append(t.Messages, msg)
		t.Notes = append(t.Notes, app.Note{ID: app.NewID(testNow), StaffID: staff, At: testNow, Text: "Anteckning"})
		t.Case.AssigneeID, t.Case.Status, t.Case.UnreadByStaff = staff, app.StatusOngoing, false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failed change queues nothing.
	_ = s.UpdateThread(ctx, th2.Case.ID, app.Local(op(app.OpCaseStatus, th2.Case.ID, app.StatusChange{Status: app.StatusClosed})), func(t *app.Thread) error {
		t.Case.Status = app.StatusClosed
		return errors.New("changed my mind")
	})
	// Several ops of one change, in order.
	err = s.UpdateThread(ctx, th2.Case.ID, app.Local(op(app.OpCaseStatus, th2.Case.ID, app.StatusChange{Status: app.StatusClosed}),
		op(app.OpCaseNote, th2.Case.ID, app.Note{})), func(t *app.Thread) error {
		t.Case.Status = app.StatusClosed
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, app.AccessEntry{ID: app.NewID(testNow), At: testNow, StaffID: staff, ClinicID: clinic, ResidentID: resident, CaseID: th2.Case.ID, Action: app.AccessOpenCase}); err != nil {
		t.Fatal(err)
	}
	// No ops (a write from the server): nothing queued.
	th3 := newThread(clinic, resident, "", app.StatusNew, testNow, "Från servern")
	if err := s.CreateThread(ctx, &th3, app.Write{}); err != nil {
		t.Fatal(err)
	}

	ops, err := s.PendingOps(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []app.OpKind{app.OpCaseCreate, app.OpCaseMessage, app.OpCaseStatus, app.OpCaseNote, app.OpAccessRecord}
	if got := opKinds(ops); !slices.Equal(got, want) {
		t.Fatalf("ops %v, want %v", got, want)
	}
	seen := map[string]bool{}
	for i, op := range ops {
		if op.ID == "" || seen[op.ID] || (i > 0 && op.Seq <= ops[i-1].Seq) || op.MadeAt.IsZero() {
			t.Errorf("op %d: id %q seq %d made %v: ids must be unique, seqs increasing, times set", i, op.ID, op.Seq, op.MadeAt)
		}
		seen[op.ID] = true
	}
	var got app.Message
	if err := json.Unmarshal(ops[1].Payload, &got); err != nil || got.ID != msg.ID || got.Text != "Svar" {
		t.Errorf("message payload %s", ops[1].Payload)
	}
	// Dropping answered ops keeps the rest in order.
	if err := s.DropOps(ctx, []string{ops[0].ID, ops[2].ID}); err != nil {
		t.Fatal(err)
	}
	rest, _ := s.PendingOps(ctx, 0)
	if got := opKinds(rest); !slices.Equal(got, []app.OpKind{app.OpCaseMessage, app.OpCaseNote, app.OpAccessRecord}) {
		t.Errorf("after drop: %v", got)
	}
	if n, _ := s.PendingCount(ctx); n != 3 {
		t.Errorf("pending count %d", n)
	}
}

// The role is read once when the store opens and kept across a restart.
func TestStoreRole_ReadOnceAtOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetChangeFeed(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Role() != RoleServer {
		t.Fatalf("after SetChangeFeed: %v", s.Role())
	}
	// A server's database never becomes a desktop's replica.
	if err := s.Connect(ctx, "device-1"); !errors.Is(err, app.ErrInvalid) || s.Role() != RoleServer {
		t.Fatalf("connect on a server store: %v, role %v", err, s.Role())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Role() != RoleServer {
		t.Fatalf("reopened: %v", s.Role())
	}
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

// A refused op keeps who made it and its payload (the new case's text)
// on disk, across a restart, and only its maker may dismiss it; an op
// stored before makers were recorded (By absent) decodes with By empty
// and counts as everyone's.
func TestSyncOps_RejectedCreateKeepsTextAndMakerPerStaff(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
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
	clinic, resident := ds.Clinics[0].ID, ds.Residents[0].ID
	anna, bjorn := ds.Staff[0].ID, ds.Staff[1].ID
	const text = "Texten som inte får försvinna."
	th := newThread(clinic, resident, anna, app.StatusWaiting, testNow, text)
	th.Case.StartedBy, th.Case.CreatorID = app.StartedByClinic, anna // Skicka ärende
	data, _ := json.Marshal(&th)
	create := app.SyncOp{ID: app.NewOpID(), Kind: app.OpCaseCreate, CaseID: th.Case.ID, Payload: data, By: anna}
	if err := s.CreateThread(ctx, &th, app.Local(create)); err != nil {
		t.Fatal(err)
	}
	checkClose(t, s)
	s = openTestAt(t, dir, Options{})
	ops, err := s.PendingOps(ctx, 0)
	if err != nil || len(ops) != 1 || ops[0].By != anna {
		t.Fatalf("after reopen the queue is %+v, %v", ops, err)
	}
	res := app.Rejected(&ops[0], fmt.Errorf("send: %w", app.ErrForbidden), testNow)
	if _, err := s.ApplyAnswers(ctx, anna, []app.OpResult{res}, &app.SyncChanges{Gone: []app.ID{th.Case.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Case(ctx, th.Case.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("the refused case is still held: %v", err)
	}
	checkClose(t, s)
	s = openTestAt(t, dir, Options{})
	ps, err := s.SyncProblems(ctx)
	if err != nil || len(ps) != 1 || ps[0].Op.By != anna {
		t.Fatalf("problems %+v, %v", ps, err)
	}
	var kept app.Thread
	if err := json.Unmarshal(ps[0].Op.Payload, &kept); err != nil || len(kept.Messages) != 1 || kept.Messages[0].Text != text {
		t.Fatalf("the kept case %+v, %v", kept, err)
	}
	if err := s.DeleteSyncProblem(ctx, bjorn, ps[0].Op.ID); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("a colleague dismissed it: %v", err)
	}
	if err := s.DeleteSyncProblem(ctx, anna, ps[0].Op.ID); err != nil {
		t.Fatalf("the maker dismisses: %v", err)
	}

	// A problem as stored before By: the op's wire form alone. Its maker
	// is read from the payload (the case's creator); a status op's is
	// unknown, and everyone's.
	legacy := ps[0]
	legacy.Op.ID = app.NewOpID()
	status := app.SyncOp{ID: app.NewOpID(), Kind: app.OpCaseStatus, CaseID: th.Case.ID, Payload: json.RawMessage(`{"Status":"avslutad"}`)}
	err = s.updateC(ctx, "put legacy problems", func(tx *bolt.Tx) error {
		for _, op := range []app.SyncOp{legacy.Op, status} {
			old := struct {
				Op     wire.Op     `json:"Op"`
				Result wire.Result `json:"Result"`
			}{wire.FromOp(op), wire.FromResult(res)}
			if err := s.put(tx, bSyncResult, op.ID, &old); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, err = s.SyncProblems(ctx)
	if err != nil || len(ps) != 2 {
		t.Fatalf("legacy problems %+v, %v", ps, err)
	}
	for _, p := range ps {
		if p.Op.By != "" {
			t.Errorf("legacy op %s decodes with By %q", p.Op.Kind, p.Op.By)
		}
		switch p.Op.Kind {
		case app.OpCaseCreate:
			if p.Op.Maker() != anna || p.Op.MadeBy(bjorn) {
				t.Errorf("legacy create: maker %q", p.Op.Maker())
			}
		case app.OpCaseStatus:
			if !p.Op.MadeBy(bjorn) || !p.Op.MadeBy(anna) {
				t.Error("a legacy status op of unknown maker must be everyone's")
			}
		}
	}
	if err := s.DeleteSyncProblem(ctx, bjorn, legacy.Op.ID); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("a colleague dismissed a legacy create: %v", err)
	}
}
