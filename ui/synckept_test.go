package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mottagning/app"
	"mottagning/app/demo"
)

// No lost work (issue 14, item 3). Offline, Skicka ärende and a reply
// say they are queued, not sent. The server then refuses the new case
// and the reply (R10: the resident locked their login meanwhile) and a
// colleague's note. The new case leaves the lists with a note in the
// status bar; Ändringar keeps both texts with the resident, the subject
// and the reason, and offers to copy the text, send it as a new case
// (Skicka ärende filled in) and save it as a letter; the reply's row
// opens its case. The colleague's rejection is not shown, and a kept
// text is deleted only after Ja, ta bort.
func TestR10_RejectedCaseKeepsItsTextForItsMaker(t *testing.T) {
	f := newSyncFixture(t)
	f.win.Resize(fyne.NewSize(1200, 900))
	w := f.openStill(t)
	anna := f.anna(t)
	bjorn := staffByKey(f.fixture, t, demo.StaffHandler)
	karin := personaResident(f.fixture, t, demo.AdultSMS)
	centrum := f.clinic("Vårdcentralen Centrum").ID

	// Skicka ärende, offline: queued.
	test.Tap(w.send)
	f.wait()
	s := w.sendScr
	i := slices.IndexFunc(s.tpls, func(tp app.MessageTemplate) bool { return tp.Name == "Fråga om hur det går" })
	if i < 0 {
		t.Fatal("no template Fråga om hur det går")
	}
	s.template.SetSelectedIndex(i)
	test.Type(s.pnr, karin.PNR.String())
	f.wait()
	const subject = "Provsvar från i tisdags"
	const text = "Hej Karin! Dina prover från i tisdags är bra. Vi hörs vid nästa kontroll i maj."
	s.subject.SetText(subject)
	s.text.SetText(text)
	if s.send.Disabled() {
		t.Fatalf("Skicka disabled offline: %q", s.pnrMsg.Text)
	}
	test.Tap(s.send)
	f.wait()
	if w.sendScr != nil || !w.notice.Visible() || w.notice.Text != L(textQueued) {
		t.Fatalf("after sending offline: notice %q (visible %v), want %q", w.notice.Text, w.notice.Visible(), L(textQueued))
	}
	ops, err := f.store.PendingOps(f.ctx, 0)
	i = slices.IndexFunc(ops, func(op app.SyncOp) bool { return op.Kind == app.OpCaseCreate })
	if err != nil || i < 0 || ops[i].By != anna.Staff.ID {
		t.Fatalf("queued %d ops, %v; want the new case, made by Anna", len(ops), err)
	}
	created, err := f.store.Case(f.ctx, ops[i].CaseID)
	if err != nil || created.Subject != subject {
		t.Fatalf("the new case on the desktop: %v", err)
	}

	// A reply, offline, in the case view: queued.
	replied := f.casesOf(centrum, func(c *app.Case) bool {
		return c.Status == app.StatusOngoing && c.AssigneeID != bjorn.ID && c.ID != created.ID
	})[0]
	page, err := f.svc.ClinicCases(f.ctx, anna, app.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var row app.CaseRow
	for _, r := range page.Rows {
		if r.ID == replied.ID {
			row = r
		}
	}
	if row.ID == "" {
		t.Fatal("the case to reply to is not in the first page of the list")
	}
	w.openCase(row)
	f.wait()
	const reply = "Vi har bokat om din tid till torsdag kl. 14."
	w.open.reply.SetText(reply)
	test.Tap(w.open.send)
	f.wait()
	if !w.open.banner.Visible() || w.open.banner.Text != L(cvReplyQueued) {
		t.Errorf("after replying offline: banner %q (visible %v), want %q", w.open.banner.Text, w.open.banner.Visible(), L(cvReplyQueued))
	}
	w.closeScreen()

	// A colleague's note on this desktop, refused too.
	mine := f.casesOf(centrum, func(c *app.Case) bool { return c.AssigneeID == bjorn.ID })
	if len(mine) == 0 {
		t.Fatal("Björn has no case in Centrum")
	}
	if err := f.svc.AddNote(f.ctx, app.Session{Staff: &bjorn, ClinicID: centrum}, mine[0].ID, "Björns anteckning."); err != nil {
		t.Fatal(err)
	}
	_ = f.syncNow(t, w) // offline
	pending := strings.Join(labels(w.syncScr.pendingBox), "\n")
	if !strings.Contains(pending, fmt.Sprintf("%s · %s", subject, "Karin Johansson")) {
		t.Errorf("the queued new case does not name its case:\n%s", pending)
	}
	if strings.Contains(pending, text) || strings.Contains(pending, reply) {
		t.Error("the queued changes show their text")
	}

	// The server refuses them.
	f.server.down.Store(false)
	f.server.answer = func(op app.SyncOp) app.OpResult {
		switch op.Kind {
		case app.OpCaseCreate, app.OpCaseMessage:
			return app.Rejected(&op, &app.UnreachableError{Reasons: []app.BlockReason{app.BlockLoginLocked}}, now)
		case app.OpCaseNote:
			return app.Rejected(&op, app.ErrForbidden, now)
		}
		return app.OpResult{}
	}
	if err := f.syncNow(t, w); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Case(f.ctx, created.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("the refused case is still on the desktop: %v", err)
	}
	f.wait()
	for _, l := range []*caseList{w.clinicCases, w.myCases} {
		for i := 0; l != nil && i < l.len(); i++ {
			if l.row(i).ID == created.ID {
				t.Error("the refused case is still in a list")
			}
		}
	}
	sy := w.syncScr
	if !sy.gone.Visible() || !strings.Contains(sy.gone.Text, subject) || !strings.Contains(sy.gone.Text, "Karin Johansson") {
		t.Errorf("no note that the refused case left the lists: %q (visible %v)", sy.gone.Text, sy.gone.Visible())
	}
	if sy.problems.Text != "2 avvisade" {
		t.Errorf("bar problems %q: the colleague's rejection counts", sy.problems.Text)
	}
	test.Tap(sy.showBtn)
	got := labels(sy.rejectedBox)
	all := strings.Join(got, "\n")
	for _, want := range []string{"Nytt ärende", subject + " · Karin Johansson", text, L(textCaseGone),
		"Svar i ärende", replied.Subject + " · " + row.ResidentName, reply, "[" + L(textOpenCase) + "]",
		"[" + L(textCopyText) + "]", "[" + L(textSendAsNew) + "]", "[" + L(textSaveLetter) + "]", "[" + L(textDismiss) + "]"} {
		if !strings.Contains(all, want) {
			t.Errorf("Ändringar lacks %q:\n%s", want, all)
		}
	}
	if !strings.Contains(all, "inloggning") && !strings.Contains(all, "låst") {
		t.Errorf("Ändringar lacks the reason (locked login):\n%s", all)
	}
	if strings.Contains(all, "Anteckning") || strings.Contains(all, "Björns anteckning") {
		t.Errorf("Anna sees Björn's rejected note:\n%s", all)
	}
	golden(t, "sync_rejected_kept.xml", f.win)
	capture(t, f.win, "sync_rejected_kept")

	// Kopiera texten.
	rows := sy.rejectedBox.Objects
	test.Tap(findButton(t, rows[0], L(textCopyText)))
	if got := fyne.CurrentApp().Clipboard().Content(); got != text {
		t.Errorf("clipboard %q, want the kept text", got)
	}
	// Spara som brev: the resident's name and address, the subject, the text.
	var letterName, letter string
	sy.save = func(name string, data []byte) { letterName, letter = name, string(data) }
	test.Tap(findButton(t, rows[0], L(textSaveLetter)))
	for _, want := range []string{"Vårdcentralen Centrum", "Karin Johansson", karin.Register.Address.Street, karin.Register.Address.City,
		"Ärende: " + subject, text} {
		if !strings.Contains(letter, want) {
			t.Errorf("letter %q lacks %q", letter, want)
		}
	}
	if strings.Contains(letterName, "Karin") || !strings.HasSuffix(letterName, ".txt") {
		t.Errorf("letter file name %q", letterName)
	}
	// Öppna ärendet on the reply: the case, without the refused reply.
	test.Tap(findButton(t, rows[2], L(textOpenCase)))
	f.wait()
	if w.open == nil || w.open.id != replied.ID {
		t.Fatal("Öppna ärendet did not open the reply's case")
	}
	w.closeScreen()
	// Skicka som nytt ärende: Skicka ärende filled in, the resident looked up.
	test.Tap(findButton(t, sy.rejectedBox.Objects[0], L(textSendAsNew)))
	f.wait()
	s = w.sendScr
	if s == nil {
		t.Fatal("Skicka som nytt ärende did not open Skicka ärende")
	}
	if s.subject.Text != subject || s.text.Text != text || s.pnr.Text != karin.PNR.String() ||
		s.resident == nil || s.resident.ID != karin.ID || s.tpl == nil || s.tpl.ID != created.TemplateID {
		t.Errorf("Skicka ärende not filled in: subject %q, text %q, pnr %q, resident %v, template %v",
			s.subject.Text, s.text.Text, s.pnr.Text, s.resident != nil, s.tpl != nil)
	}
	capture(t, f.win, "sync_send_again")
	test.Tap(s.cancel)
	f.wait()

	// Ta bort ur listan asks first; Behåll keeps the text.
	w.showChanges()
	test.Tap(findButton(t, sy.rejectedBox.Objects[0], L(textDismiss)))
	f.wait()
	if ps, _ := f.store.SyncProblems(f.ctx); len(ps) != 3 {
		t.Fatalf("Ta bort ur listan deleted before confirming: %d problems", len(ps))
	}
	if !strings.Contains(strings.Join(labels(sy.rejectedBox), "\n"), L(textConfirmDelete)) {
		t.Fatal("no confirmation before deleting a kept text")
	}
	capture(t, f.win, "sync_rejected_confirm")
	test.Tap(findButton(t, sy.rejectedBox.Objects[0], L(textKeep)))
	f.wait()
	if ps, _ := f.store.SyncProblems(f.ctx); len(ps) != 3 {
		t.Fatalf("Behåll deleted: %d problems", len(ps))
	}
	test.Tap(findButton(t, sy.rejectedBox.Objects[0], L(textDismiss)))
	test.Tap(findButton(t, sy.rejectedBox.Objects[0], L(textYesDelete)))
	f.wait()
	ps, _ := f.store.SyncProblems(f.ctx)
	if len(ps) != 2 || slices.ContainsFunc(ps, func(p app.SyncProblem) bool { return p.Op.Kind == app.OpCaseCreate }) {
		t.Fatalf("after Ja, ta bort: %d problems", len(ps))
	}
	if sy.gone.Visible() {
		t.Error("the note about the refused case stays after it was removed")
	}
	// Björn's stays his: Anna cannot remove it.
	for _, p := range ps {
		if p.Op.Kind == app.OpCaseNote {
			if err := f.eng.Dismiss(f.ctx, anna.Staff.ID, p.Op.ID); !errors.Is(err, app.ErrForbidden) {
				t.Errorf("Anna dismissed Björn's rejection: %v", err)
			}
		}
	}

	// Björn, signed in on the same desktop, sees his and not Anna's.
	test.Tap(w.signOut)
	f.wait()
	wb := f.open(t, "Björn Ekström", "Vårdcentralen Centrum")
	wb.syncScr.leave()
	wb.syncScr.refresh()
	f.wait()
	theirs := strings.Join(labels(wb.syncScr.rejectedBox), "\n")
	if !strings.Contains(theirs, "Anteckning") || strings.Contains(theirs, reply) || strings.Contains(theirs, "Svar i ärende") {
		t.Errorf("Björn's Ändringar:\n%s", theirs)
	}
}
