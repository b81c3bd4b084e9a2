package server

import (
	"net/http"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
)

// TestR10_StaffReplyToLockedResidentRefusedOnEveryDoor: a resident who
// locked their login after a case was sent gets no reply, on either door
// that writes one: the staff API answers unreachable with the reason
// Skicka ärende gives (last-inloggning, in the same Swedish), and a
// desktop's pushed case.message op is rejected with that code and reason,
// so that the desktop lists it as a rejected change. Nothing is written,
// nobody is notified; internal notes stay allowed on both doors.
func TestR10_StaffReplyToLockedResidentRefusedOnEveryDoor(t *testing.T) {
	d := newDoorEnv(t)
	ctx, c := d.ctx, d.c
	anna := d.staff(demo.StaffReceiver)
	centrum := d.clinic(0)
	karin := d.persona(demo.AdultSMS)
	sent, err := c.SendCase(ctx, anna, centrum, client.SendCaseRequest{TemplateID: d.templateOf(0, app.KindQuestion),
		ResidentID: string(karin.ID), Subject: "Fråga", Text: "Hur mår du?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reply(ctx, anna, centrum, sent.ID, "Svar före låsningen."); err != nil {
		t.Fatalf("reply before the lock: %v", err)
	}
	tok := d.signIn(demo.AdultSMS)
	if err := c.LockLogin(ctx, tok); err != nil {
		t.Fatalf("the resident locks the login: %v", err)
	}
	before, err := d.store.Thread(ctx, app.ID(sent.ID))
	if err != nil {
		t.Fatal(err)
	}
	nsBefore, err := c.CaseNotifications(ctx, anna, centrum, sent.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Skicka ärende's refusal, to compare with.
	_, err = c.SendCase(ctx, anna, centrum, client.SendCaseRequest{TemplateID: d.templateOf(0, app.KindQuestion),
		ResidentID: string(karin.ID), Subject: "Fråga", Text: "Hur mår du?"})
	sendErr := wantCode(t, err, "unreachable")

	// The staff API.
	_, err = c.Reply(ctx, anna, centrum, sent.ID, "Svar efter låsningen.")
	ae := wantCode(t, err, "unreachable")
	if ae.Status != http.StatusConflict || len(ae.Reasons) != 1 || ae.Reasons[0].Code != string(app.BlockLoginLocked) ||
		len(sendErr.Reasons) != 1 || ae.Reasons[0] != sendErr.Reasons[0] || ae.Message != sendErr.Message {
		t.Fatalf("staff API reply = %+v; want %+v as Skicka ärende", ae, sendErr)
	}
	if strings.Contains(ae.Error(), "Svar efter") {
		t.Errorf("the refusal carries the message text: %v", ae)
	}

	// The sync push of a desktop that did not know yet.
	hdr, err := d.store.Case(ctx, app.ID(sent.ID))
	if err != nil {
		t.Fatal(err)
	}
	st := d.ds.StaffBy[demo.StaffReceiver]
	now := d.clock.Now()
	msg := app.Message{ID: app.NewID(now), CaseID: hdr.ID, Author: app.AuthorStaff, AuthorID: st, At: now, Text: "Skrivet offline."}
	res := d.push(demo.StaffReceiver, op(app.OpCaseMessage, hdr.ID, hdr.Version, &msg))[0]
	if res.Outcome != app.OpRejected || res.Code != "unreachable" || len(res.Blocks) != 1 || res.Blocks[0] != app.BlockLoginLocked ||
		!strings.Contains(res.Reason, app.BlockLoginLocked.Message()) {
		t.Fatalf("pushed reply = %+v; want rejected unreachable %s with its Swedish reason", res, app.BlockLoginLocked)
	}

	after, err := d.store.Thread(ctx, app.ID(sent.ID))
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Messages) != len(before.Messages) || after.Case.Version != before.Case.Version {
		t.Fatalf("refused replies were written: messages %d → %d, version %d → %d",
			len(before.Messages), len(after.Messages), before.Case.Version, after.Case.Version)
	}
	if ns, err := c.CaseNotifications(ctx, anna, centrum, sent.ID); err != nil || len(ns) != len(nsBefore) {
		t.Fatalf("notifications %d → %d (%v); want none added", len(nsBefore), len(ns), err)
	}

	// Notes never reach the resident: allowed through both doors.
	if _, err := c.AddNote(ctx, anna, centrum, sent.ID, "Ringde i stället."); err != nil {
		t.Fatalf("note through the staff API: %v", err)
	}
	hdr, _ = d.store.Case(ctx, app.ID(sent.ID))
	note := app.Note{ID: app.NewID(now), CaseID: hdr.ID, StaffID: st, At: now, Text: "Brev skickat."}
	if res := d.push(demo.StaffReceiver, op(app.OpCaseNote, hdr.ID, hdr.Version, &note))[0]; res.Outcome != app.OpApplied {
		t.Fatalf("pushed note: %+v", res)
	}
}
