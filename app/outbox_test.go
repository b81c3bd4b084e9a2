package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

// row is an outbox row as the rule tests compare it: who (persona key)
// on which channel.
type row struct {
	Recipient string
	Guardian  bool
	Channel   app.Channel
}

// personaOf names a resident id by persona key ("" for a resident without one).
func (f *fixture) personaOf(id app.ID) string {
	for k, v := range f.ds.Persona {
		if v == id {
			return k
		}
	}
	return string(id)
}

// sendTo sends a question from staff member staffKey in clinic to persona
// key and returns the outbox rows written for it (nil when refused, with
// the error).
func (f *fixture) sendTo(staffKey string, clinic int, key string) (*app.Case, []row, error) {
	f.t.Helper()
	sess := f.session(staffKey, clinic)
	tpl := f.template(clinic, app.KindQuestion)
	c, err := f.cases.SendCase(f.ctx, sess, app.SendRequest{TemplateID: tpl.ID, ResidentID: f.ds.Persona[key], Subject: tpl.Subject, Text: tpl.Body})
	if err != nil {
		return nil, nil, err
	}
	return c, f.rows(c.ID, ""), nil
}

// rows lists the outbox rows of a case (of one message when msg is set),
// sorted, checking each against the message it announces.
func (f *fixture) rows(caseID, msg app.ID) []row {
	f.t.Helper()
	ns, err := f.store.NotificationsOfCase(f.ctx, caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []row
	for _, n := range ns {
		if msg != "" && n.MessageID != msg {
			continue
		}
		if n.State != app.NotificationQueued || n.Attempts != 0 || !n.NextAttempt.Equal(f.now) || n.CaseID != caseID {
			f.t.Errorf("new notification %s: state %s, attempts %d, next %v; want queued, 0, due now", n.ID, n.State, n.Attempts, n.NextAttempt)
		}
		out = append(out, row{Recipient: f.personaOf(n.RecipientID), Guardian: n.Guardian, Channel: n.Channel})
	}
	slices.SortFunc(out, func(a, b row) int {
		return strings.Compare(a.Recipient+string(a.Channel), b.Recipient+string(b.Channel))
	})
	return out
}

func wantRows(t *testing.T, who string, got, want []row) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: outbox rows %v, want %v", who, got, want)
	}
}

// TestR3_OutboxRowsPerChosenChannel: an adult is notified exactly through
// the channels they chose; "ingen" still gets the message, with no row.
func TestR3_OutboxRowsPerChosenChannel(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		key  string
		want []row
	}{
		{demo.AdultSMS, []row{{demo.AdultSMS, false, app.ChannelSMS}}},
		{demo.AdultEmail, []row{{demo.AdultEmail, false, app.ChannelEmail}}},
		{demo.AdultBoth, []row{{demo.AdultBoth, false, app.ChannelEmail}, {demo.AdultBoth, false, app.ChannelSMS}}},
		{demo.AdultNone, nil},
		{demo.Sealed, []row{{demo.Sealed, false, app.ChannelEmail}}},             // R11: sealing is not locking
		{demo.Protected, []row{{demo.Protected, false, app.ChannelSMS}}},         // R9: like anyone else
		{demo.Coordination, []row{{demo.Coordination, false, app.ChannelEmail}}}, // samordningsnummer
	} {
		_, got, err := f.sendTo(demo.StaffReceiver, 0, tc.key)
		if err != nil {
			t.Fatalf("send to %s: %v", tc.key, err)
		}
		wantRows(t, tc.key, got, tc.want)
	}
}

// TestR1_NeverSignedInGetsNoOutboxRow: the send is refused before anything
// is written, so no notification exists.
func TestR1_NeverSignedInGetsNoOutboxRow(t *testing.T) {
	f := newFixture(t)
	_, _, err := f.sendTo(demo.StaffReceiver, 0, demo.NeverSignedIn)
	if !errors.Is(err, app.ErrUnreachable) {
		t.Fatalf("send to never signed in = %v, want ErrUnreachable", err)
	}
	f.noRowsFor(demo.NeverSignedIn)
}

// noRowsFor checks that no case of the persona has a notification.
func (f *fixture) noRowsFor(key string) {
	f.t.Helper()
	cs, err := f.store.CasesOfResident(f.ctx, f.ds.Persona[key])
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range cs {
		if got := f.rows(c.ID, ""); len(got) != 0 {
			f.t.Errorf("%s: case %s has outbox rows %v", key, c.ID, got)
		}
	}
}

// TestR6_OnlyGuardianWithContactUnderChildIsNotified: a message to a child
// under 13 notifies the guardian who filled in contact details under the
// child's settings, on both channels there; the blocked guardian, who also
// filled in an e-mail address, gets nothing; the child gets nothing.
func TestR6_OnlyGuardianWithContactUnderChildIsNotified(t *testing.T) {
	f := newFixture(t)
	_, got, err := f.sendTo(demo.StaffChildClinic, 1, demo.Child12y11m)
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, demo.Child12y11m, got, []row{
		{demo.GuardianNotified, true, app.ChannelEmail}, {demo.GuardianNotified, true, app.ChannelSMS},
	})
	// The guardian's own settings (SMS only) do not count: the child's do.
	ns, _ := f.store.NotificationsOfCase(f.ctx, f.mustCaseOf(demo.Child12y11m))
	child := f.resident(demo.Child12y11m)
	for _, n := range ns {
		g, _ := child.Guardianship(n.RecipientID)
		if n.ResidentID != child.ID || (n.Address != g.Contact.Mobile && n.Address != g.Contact.Email) {
			t.Errorf("notification %s is not to the contact under the child's settings", n.ID)
		}
	}
}

func (f *fixture) mustCaseOf(key string) app.ID {
	f.t.Helper()
	cs, err := f.store.CasesOfResident(f.ctx, f.ds.Persona[key])
	if err != nil || len(cs) == 0 {
		f.t.Fatalf("no case of %s (err %v)", key, err)
	}
	return cs[len(cs)-1].ID
}

// TestR7_ProtectedIdentityNoGuardianNotified: when the child or the only
// guardian has protected identity, no guardian may act, the send is
// refused and nobody is notified.
func TestR7_ProtectedIdentityNoGuardianNotified(t *testing.T) {
	f := newFixture(t)
	for _, key := range []string{demo.ChildProtectedGuard, demo.ChildProtected} {
		before, _ := f.store.CasesOfResident(f.ctx, f.ds.Persona[key])
		_, _, err := f.sendTo(demo.StaffChildClinic, 1, key)
		if !errors.Is(err, app.ErrUnreachable) {
			t.Errorf("send to %s = %v, want ErrUnreachable", key, err)
		}
		after, _ := f.store.CasesOfResident(f.ctx, f.ds.Persona[key])
		if len(after) != len(before) {
			t.Errorf("%s: a case was written", key)
		}
		f.noRowsFor(key)
	}
	// The rule itself: a guardian with contact details under the child's
	// settings is still not notified when R7 applies.
	r := f.resident(demo.ChildProtectedGuard)
	if got := app.NotifyTargets(r, f.guardians(r), f.now); len(got) != 0 {
		t.Errorf("NotifyTargets for a child with a protected guardian = %v, want none", got)
	}
}

// TestR8_ThirteenthBirthdayEndsGuardianNotifications: the day before the
// 13th birthday the guardian is notified; from the birthday nobody, also
// for a reply in the case sent the day before, until the child saves new
// settings; a teenager whose settings predate the birthday gets nothing.
func TestR8_ThirteenthBirthdayEndsGuardianNotifications(t *testing.T) {
	f := newFixture(t)
	c, got, err := f.sendTo(demo.StaffChildClinic, 1, demo.ChildTurns13)
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "the day before", got, []row{{demo.GuardianOf13, true, app.ChannelSMS}})

	child := f.resident(demo.ChildTurns13)
	f.now = app.ThirteenthBirthday(child).Add(9 * time.Hour)
	sess := f.session(demo.StaffChildClinic, 1)
	if err := f.cases.Reply(f.ctx, sess, c.ID, "Påminnelse: svara gärna på frågan."); err != nil {
		t.Fatal(err)
	}
	th, _ := f.store.Thread(f.ctx, c.ID)
	wantRows(t, "reply on the birthday", f.rows(c.ID, th.Messages[len(th.Messages)-1].ID), nil)

	// The child signs in and fills in settings: from then on, the child.
	err = f.store.UpdateResident(f.ctx, child.ID, func(r *app.Resident) error {
		r.Settings = app.Settings{Email: "hugo.ny@example.com", NotifyEmail: true, SavedAt: f.now}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	if err := f.cases.Reply(f.ctx, sess, c.ID, "Ny påminnelse."); err != nil {
		t.Fatal(err)
	}
	th, _ = f.store.Thread(f.ctx, c.ID)
	wantRows(t, "reply after new settings", f.rows(c.ID, th.Messages[len(th.Messages)-1].ID), []row{{demo.ChildTurns13, false, app.ChannelEmail}})

	f.now = seedTime
	_, got, err = f.sendTo(demo.StaffReceiver, 0, demo.TeenCleared)
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, demo.TeenCleared, got, nil)
}

// TestR10_LockedGetsNoOutboxRow: a locked resident is refused; a resident
// who locks the login after a case was sent gets no reply either (refused
// with the lock's reason, as a new case is: issue 14) and so no
// notification.
func TestR10_LockedGetsNoOutboxRow(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.sendTo(demo.StaffReceiver, 0, demo.Locked); !errors.Is(err, app.ErrUnreachable) {
		t.Fatalf("send to locked = %v, want ErrUnreachable", err)
	}
	f.noRowsFor(demo.Locked)

	c, got, err := f.sendTo(demo.StaffReceiver, 0, demo.AdultSMS)
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "before locking", got, []row{{demo.AdultSMS, false, app.ChannelSMS}})
	if err := f.store.UpdateResident(f.ctx, f.ds.Persona[demo.AdultSMS], func(r *app.Resident) error {
		r.Account.LoginLocked = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var ue *app.UnreachableError
	if err := f.cases.Reply(f.ctx, f.session(demo.StaffReceiver, 0), c.ID, "Ett svar till."); !errors.As(err, &ue) ||
		len(ue.Reasons) != 1 || ue.Reasons[0] != app.BlockLoginLocked {
		t.Fatalf("reply after locking = %v, want unreachable %s", err, app.BlockLoginLocked)
	}
	if got := f.rows(c.ID, ""); len(got) != 1 {
		t.Errorf("after locking, the reply added rows: %v", got)
	}
}

// TestReplyNotifiesInSameTransaction: a staff reply gets its own
// notifications, written with it; a note (residents never see notes) and a
// refused reply (closed case) get none.
func TestReplyNotifiesInSameTransaction(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.sendTo(demo.StaffReceiver, 0, demo.AdultBoth)
	if err != nil {
		t.Fatal(err)
	}
	sess := f.session(demo.StaffReceiver, 0)
	f.now = f.now.Add(time.Minute)
	if err := f.cases.Reply(f.ctx, sess, c.ID, "Svar"); err != nil {
		t.Fatal(err)
	}
	if err := f.cases.AddNote(f.ctx, sess, c.ID, "Intern anteckning"); err != nil {
		t.Fatal(err)
	}
	th, _ := f.store.Thread(f.ctx, c.ID)
	if got := f.rows(c.ID, th.Messages[1].ID); len(got) != 2 {
		t.Errorf("reply: rows %v, want SMS and e-mail", got)
	}
	if err := f.cases.Close(f.ctx, sess, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.cases.Reply(f.ctx, sess, c.ID, "Svar"); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("reply to closed = %v", err)
	}
	ns, _ := f.store.NotificationsOfCase(f.ctx, c.ID)
	if len(ns) != 4 {
		t.Errorf("%d notifications, want 4 (two messages × two channels)", len(ns))
	}
	// Staff of another clinic cannot reply, and nothing is queued.
	if err := f.cases.Reply(f.ctx, f.session(demo.StaffChildClinic, 1), c.ID, "Svar"); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("reply from another clinic = %v, want ErrForbidden", err)
	}
}

// TestBulkSendQueuesPerRecipient: massutskick goes through SendCase, so
// each recipient gets the notifications of their own choice.
func TestBulkSendQueuesPerRecipient(t *testing.T) {
	f := newFixture(t)
	tpl := f.template(0, app.KindInformation)
	keys := []string{demo.AdultSMS, demo.AdultEmail, demo.AdultNone, demo.Locked}
	var ids []app.ID
	for _, k := range keys {
		ids = append(ids, f.ds.Persona[k])
	}
	res, err := f.cases.SendBulk(f.ctx, f.session(demo.StaffReceiver, 0), app.BulkRequest{TemplateID: tpl.ID, Subject: tpl.Subject, Text: tpl.Body, ResidentIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{demo.AdultSMS: 1, demo.AdultEmail: 1, demo.AdultNone: 0}
	for i, r := range res {
		if !r.Sent() {
			if keys[i] != demo.Locked {
				t.Errorf("%s not sent: %v", keys[i], r.Err)
			}
			continue
		}
		if got := len(f.rows(r.Case.ID, "")); got != want[keys[i]] {
			t.Errorf("%s: %d rows, want %d", keys[i], got, want[keys[i]])
		}
	}
}

// TestStaffSeeNotificationStateNeverAddress: the staff view of a case's
// notifications has state, channel and recipient kind, no address, and
// only for staff who may handle the case.
func TestStaffSeeNotificationStateNeverAddress(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.sendTo(demo.StaffChildClinic, 1, demo.Child12y11m)
	if err != nil {
		t.Fatal(err)
	}
	sess := f.session(demo.StaffChildClinic, 1)
	st, err := f.cases.Notifications(f.ctx, sess, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 {
		t.Fatalf("%d statuses, want 2", len(st))
	}
	child := f.resident(demo.Child12y11m)
	shown := fmt.Sprintf("%+v %#v", st, st)
	for _, g := range child.Guardians {
		for _, a := range []string{g.Contact.Mobile, g.Contact.Email} {
			if a != "" && strings.Contains(shown, a) {
				t.Errorf("staff view holds an address")
			}
		}
	}
	for _, s := range st {
		if s.Recipient != app.RecipientGuardian || s.State != app.NotificationQueued || s.Recipient.Label() != "Vårdnadshavare" {
			t.Errorf("status %+v: want a queued notification to a guardian", s)
		}
	}
	// Sent later: the view follows the outbox.
	if err := app.UpdateNotification(f.ctx, f.store, st[0].ID, func(n *app.Notification) error {
		n.State, n.Attempts, n.DoneAt = app.NotificationSent, 1, f.now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st, _ = f.cases.Notifications(f.ctx, sess, c.ID)
	if st[0].State != app.NotificationSent || !st[0].NextAttempt.IsZero() || st[0].State.Label() != "Skickad" {
		t.Errorf("after sending: %+v", st[0])
	}
	for _, other := range []app.Session{f.session(demo.StaffHandler, 0), f.session(demo.StaffAuditor, 0)} {
		if _, err := f.cases.Notifications(f.ctx, other, c.ID); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s: Notifications = %v, want ErrForbidden", other.Staff.Username, err)
		}
	}
}

// fakeTestSender records test notifications.
type fakeTestSender struct{ calls []string }

func (s *fakeTestSender) SendTest(_ context.Context, ch app.Channel, addr string) error {
	s.calls = append(s.calls, string(ch)+" "+addr)
	return nil
}

// TestTestNotificationValidatesAndNeedsLocalAdmin: Skicka testavisering
// is for a lokal administratör; the typed address is validated and
// normalised before anything is sent.
func TestTestNotificationValidatesAndNeedsLocalAdmin(t *testing.T) {
	f := newFixture(t)
	snd := &fakeTestSender{}
	adm := app.NewNotificationAdmin(snd)
	admin := f.session(demo.StaffLocalAdmin, 0)
	for _, tc := range []struct {
		ch      app.Channel
		in, out string
	}{
		{app.ChannelEmail, "test@example.com", "test@example.com"},
		{app.ChannelSMS, "070-174 06 05", "+46701740605"},
		{app.ChannelSMS, "+46701740606", "+46701740606"},
	} {
		if err := adm.TestNotification(f.ctx, admin, tc.ch, tc.in); err != nil {
			t.Errorf("%s %q: %v", tc.ch, tc.in, err)
		}
		if len(snd.calls) == 0 || snd.calls[len(snd.calls)-1] != string(tc.ch)+" "+tc.out {
			t.Errorf("%s %q: sent %v, want to %s", tc.ch, tc.in, snd.calls, tc.out)
		}
	}
	n := len(snd.calls)
	for _, tc := range []struct {
		ch app.Channel
		in string
	}{
		{app.ChannelEmail, "inte en adress"}, {app.ChannelEmail, "Namn <a@example.com>"},
		{app.ChannelEmail, "a@example.com\r\nBcc: b@example.com"}, {app.ChannelSMS, "12"},
		{app.ChannelSMS, "+46 70 abc"}, {app.ChannelSMS, ""}, {"fax", "123"},
	} {
		if err := adm.TestNotification(f.ctx, admin, tc.ch, tc.in); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("%s %q = %v, want ErrInvalid", tc.ch, tc.in, err)
		}
	}
	if err := adm.TestNotification(f.ctx, f.session(demo.StaffReceiver, 0), app.ChannelEmail, "test@example.com"); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("ärendemottagare = %v, want ErrForbidden", err)
	}
	if len(snd.calls) != n {
		t.Errorf("refused tests sent %v", snd.calls[n:])
	}
	if err := app.NewNotificationAdmin(nil).TestNotification(f.ctx, admin, app.ChannelSMS, "+46701740605"); !errors.Is(err, app.ErrNotConfigured) {
		t.Errorf("without a sender = %v, want ErrNotConfigured", err)
	}
}
