package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// messageOp is a desktop's case.message op, as a connected desktop queues
// a reply.
func messageOp(t *testing.T, c *app.Case, staff app.ID, m *app.Message) *app.SyncOp {
	t.Helper()
	p, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return &app.SyncOp{ID: app.NewOpID(), Kind: app.OpCaseMessage, CaseID: c.ID, Base: c.Version, Payload: p, MadeAt: m.At}
}

// TestR10_ReplyToLockedResidentRefusedWithSendReason (issue 14, item 6): a
// resident who locked their login after a case was sent cannot receive a
// reply any more than a new case (R10). The reply is refused with the
// reason Skicka ärende gives (last-inloggning), on the staff tool's use
// case and on the server's replay of a desktop's op; nothing is written,
// nobody is notified; ReplyReach tells the case view the same reason
// before anyone types; an internal note stays allowed; a replayed reply
// applied before the lock is still answered as applied.
func TestR10_ReplyToLockedResidentRefusedWithSendReason(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	c, err := f.send(sess, demo.AdultSMS, app.KindQuestion)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := f.cases.ReplyReach(f.ctx, sess, c.ID); err != nil || !r.OK() {
		t.Fatalf("reach before the lock = %+v, %v; want reachable", r, err)
	}
	// A reply a desktop made before the lock and pushed once.
	st := sess.Staff
	early := app.Message{ID: app.NewID(f.now), CaseID: c.ID, Author: app.AuthorStaff, AuthorID: st.ID, At: f.now, Text: "Svar före låsningen."}
	earlyOp := messageOp(t, c, st.ID, &early)
	if res, err := f.cases.ApplyOp(f.ctx, st, "dator-1", earlyOp); err != nil || res.Outcome != app.OpApplied {
		t.Fatalf("reply before the lock: %+v, %v", res, err)
	}

	if err := f.store.UpdateResident(f.ctx, c.ResidentID, func(r *app.Resident) error {
		r.Account.LoginLocked = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, err := f.store.Thread(f.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]app.BlockReason{app.BlockLoginLocked})

	// Skicka ärende's reason, as staff see it before sending.
	_, sendErr := f.send(sess, demo.AdultSMS, app.KindQuestion)
	var sendUE *app.UnreachableError
	if !errors.As(sendErr, &sendUE) || fmt.Sprint(sendUE.Reasons) != want {
		t.Fatalf("Skicka ärende to a locked resident = %v, want %s", sendErr, want)
	}

	// The case view asks before the staff member types.
	r, err := f.cases.ReplyReach(f.ctx, sess, c.ID)
	if err != nil || fmt.Sprint(r.Blocking) != want {
		t.Fatalf("ReplyReach = %+v, %v; want blocked by %s", r, err, want)
	}
	if _, err := f.cases.ReplyReach(f.ctx, f.session(demo.StaffLocalAdmin, 0), c.ID); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("ReplyReach by a lokal administratör (no case role) = %v, want forbidden", err)
	}

	// The staff tool's use case, with and without files.
	err = f.cases.Reply(f.ctx, sess, c.ID, "Ett svar som inte kan nå fram.")
	var ue *app.UnreachableError
	if !errors.As(err, &ue) || fmt.Sprint(ue.Reasons) != fmt.Sprint(sendUE.Reasons) || !errors.Is(err, app.ErrUnreachable) {
		t.Fatalf("Reply to a locked resident = %v, want unreachable %s as Skicka ärende", err, want)
	}
	if strings.Contains(err.Error(), "Ett svar") {
		t.Errorf("the error carries the message text: %v", err)
	}
	pdf := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	if err := f.cases.ReplyWithFiles(f.ctx, sess, c.ID, "Med bilaga.", []app.File{{Name: "a.pdf", Data: pdf}}); !errors.Is(err, app.ErrUnreachable) {
		t.Fatalf("ReplyWithFiles to a locked resident = %v, want unreachable", err)
	}

	// The server's replay of a reply a desktop wrote before it knew.
	late := app.Message{ID: app.NewID(f.now), CaseID: c.ID, Author: app.AuthorStaff, AuthorID: st.ID, At: f.now, Text: "Skrivet offline."}
	res, err := f.cases.ApplyOp(f.ctx, st, "dator-1", messageOp(t, c, st.ID, &late))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != app.OpRejected || res.Code != "unreachable" || fmt.Sprint(res.Blocks) != want ||
		!strings.Contains(res.Reason, app.BlockLoginLocked.Message()) {
		t.Fatalf("replayed reply to a locked resident = %+v; want rejected unreachable %s with its reason", res, want)
	}
	// The op applied before the lock, sent again (its answer was lost).
	if res, err := f.cases.ApplyOp(f.ctx, st, "dator-1", earlyOp); err != nil || res.Outcome != app.OpApplied {
		t.Fatalf("the early reply again: %+v, %v; want applied", res, err)
	}

	after, err := f.store.Thread(f.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Messages) != len(before.Messages) || after.Case.Version != before.Case.Version {
		t.Fatalf("refused replies wrote: messages %d → %d, version %d → %d",
			len(before.Messages), len(after.Messages), before.Case.Version, after.Case.Version)
	}
	if got := f.rows(c.ID, ""); len(got) != 2 {
		t.Errorf("notifications = %v; want only the two from before the lock", got)
	}

	// A note never reaches the resident: allowed.
	if err := f.cases.AddNote(f.ctx, sess, c.ID, "Ringde invånaren i stället."); err != nil {
		t.Fatalf("note on a locked resident's case: %v", err)
	}
}
