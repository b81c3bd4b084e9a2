package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
)

// templateOf returns the id of a template of the clinic by kind.
func (e *env) templateOf(clinic int, kind app.CaseKind) string {
	for _, t := range e.ds.Templates {
		if t.ClinicID == e.ds.Clinics[clinic].ID && t.Kind == kind {
			return string(t.ID)
		}
	}
	e.t.Fatalf("no template of kind %s", kind)
	return ""
}

// TestR1_StaffSendsResidentSignsInReadsAndReplies is the vertical slice: a
// never-signed-in resident cannot be sent to (R1); the first e-ID sign-in
// activates the account; a question reaches the inbox; reading it sets the
// read receipt staff see; the reply reaches staff as unread.
func TestR1_StaffSendsResidentSignsInReadsAndReplies(t *testing.T) {
	e := newEnv(t)
	ctx, c := e.ctx, e.c
	anna, centrum := e.staff(demo.StaffReceiver), e.clinic(0)
	olof := e.persona(demo.NeverSignedIn)

	v, err := c.LookupResident(ctx, anna, centrum, olof.PNR.String())
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if v.Reach.OK || len(v.Reach.Blocking) == 0 || v.Reach.Blocking[0].Code != string(app.BlockNeverSignedIn) {
		t.Fatalf("reach before sign-in = %+v, want blocked %s", v.Reach, app.BlockNeverSignedIn)
	}
	fraga := e.templateOf(0, app.KindQuestion)
	_, err = c.SendCase(ctx, anna, centrum, client.SendCaseRequest{TemplateID: fraga, ResidentID: v.ID, Subject: "Hur mår du?", Text: "Hej! Hur mår du efter besöket?"})
	if ae := wantCode(t, err, "unreachable"); len(ae.Reasons) == 0 || ae.Reasons[0].Code != string(app.BlockNeverSignedIn) {
		t.Fatalf("send before sign-in: reasons %+v", ae.Reasons)
	}

	// The e-ID order is pending at first, then completes (BankID shape).
	ref, err := c.EIDStart(ctx, olof.PNR.String())
	if err != nil {
		t.Fatalf("eid start: %v", err)
	}
	col, err := c.EIDCollect(ctx, ref)
	if err != nil || col.Status != "pending" || col.Session != nil {
		t.Fatalf("first collect = %+v, %v; want pending", col, err)
	}
	col, err = c.EIDCollect(ctx, ref)
	if err != nil || col.Status != "complete" || col.Session == nil || !col.Session.FirstSignIn {
		t.Fatalf("second collect = %+v, %v; want complete, first sign-in", col, err)
	}
	if _, err := c.EIDCollect(ctx, ref); err == nil {
		t.Fatal("a completed order gave a second session")
	}
	res := col.Session.Token
	me, err := c.ResidentMe(ctx, res)
	if err != nil || !me.Activated || me.ID != string(olof.ID) {
		t.Fatalf("me = %+v, %v; want activated %s", me, err, olof.ID)
	}

	v, err = c.LookupResident(ctx, anna, centrum, olof.PNR.String())
	if err != nil || !v.Reach.OK {
		t.Fatalf("reach after sign-in = %+v, %v; want OK", v.Reach, err)
	}
	sent, err := c.SendCase(ctx, anna, centrum, client.SendCaseRequest{TemplateID: fraga, ResidentID: v.ID, Subject: "Hur mår du?", Text: "Hej! Hur mår du efter besöket?"})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if sent.Status != string(app.StatusWaiting) || sent.AssigneeID != string(e.ds.StaffBy[demo.StaffReceiver]) {
		t.Fatalf("sent case = %+v", sent)
	}

	inbox, err := c.Inbox(ctx, res, "")
	if err != nil || !slices.ContainsFunc(inbox, func(rc client.ResidentCase) bool { return rc.ID == sent.ID && rc.Answerable }) {
		t.Fatalf("inbox = %+v, %v; want the question", inbox, err)
	}
	th, err := c.OpenCase(ctx, anna, centrum, sent.ID)
	if err != nil || !th.Messages[0].ReadByResident.IsZero() {
		t.Fatalf("before reading: %+v, %v; want unread", th, err)
	}
	rt, err := c.ReadCase(ctx, res, sent.ID)
	if err != nil || len(rt.Messages) != 1 || rt.Messages[0].Text != "Hej! Hur mår du efter besöket?" {
		t.Fatalf("read = %+v, %v", rt, err)
	}
	th, err = c.OpenCase(ctx, anna, centrum, sent.ID)
	if err != nil || th.Messages[0].ReadByResident.IsZero() {
		t.Fatalf("staff see no read receipt: %+v, %v", th, err)
	}

	rc, err := c.ResidentReply(ctx, res, sent.ID, "Tack, mycket bättre!")
	if err != nil || rc.Status != string(app.StatusOngoing) {
		t.Fatalf("reply = %+v, %v", rc, err)
	}
	// The reply shows in the staff lists as unread, through the index.
	page, err := c.SearchCases(ctx, anna, centrum, client.CaseSearch{List: "clinic", UnreadOnly: true})
	if err != nil || !slices.ContainsFunc(page.Rows, func(r client.CaseRow) bool { return r.ID == sent.ID }) {
		t.Fatalf("unread list = %+v, %v; want the answered case", page, err)
	}
	th, err = c.OpenCase(ctx, anna, centrum, sent.ID)
	if err != nil || len(th.Messages) != 2 || th.Messages[1].Author != string(app.AuthorResident) || th.Case.UnreadByStaff {
		t.Fatalf("after reply: %+v, %v", th, err)
	}
	// Staff answer, note, close and reopen.
	if _, err := c.Reply(ctx, anna, centrum, sent.ID, "Skönt att höra!"); err != nil {
		t.Fatalf("staff reply: %v", err)
	}
	if _, err := c.AddNote(ctx, anna, centrum, sent.ID, "Intern anteckning"); err != nil {
		t.Fatalf("note: %v", err)
	}
	if cs, err := c.Close(ctx, anna, centrum, sent.ID); err != nil || cs.Status != string(app.StatusClosed) {
		t.Fatalf("close = %+v, %v", cs, err)
	}
	_, err = c.ResidentReply(ctx, res, sent.ID, "En sak till")
	wantCode(t, err, "conflict")
	if cs, err := c.Reopen(ctx, anna, centrum, sent.ID); err != nil || cs.Status != string(app.StatusOngoing) {
		t.Fatalf("reopen = %+v, %v", cs, err)
	}
	rt, err = c.ReadCase(ctx, res, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rt.Messages {
		if m.Text == "Intern anteckning" {
			t.Fatal("the resident sees an internal note")
		}
	}
	// The access log has the opening, the lookup and the send.
	entries, err := e.store.Entries(ctx, e.ds.Clinics[0].ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var actions []app.AccessAction
	for _, en := range entries {
		if en.ResidentID == olof.ID {
			actions = append(actions, en.Action)
		}
	}
	for _, want := range []app.AccessAction{app.AccessLookupResident, app.AccessSend, app.AccessOpenCase} {
		if !slices.Contains(actions, want) {
			t.Errorf("access log lacks %s: %v", want, actions)
		}
	}
}

// TestR16_InformationCannotBeAnswered: a reply to an information case is
// refused with not_answerable and nothing is stored.
func TestR16_InformationCannotBeAnswered(t *testing.T) {
	e := newEnv(t)
	anna, centrum := e.staff(demo.StaffReceiver), e.clinic(0)
	karin := e.persona(demo.AdultSMS)
	sent, err := e.c.SendCase(e.ctx, anna, centrum, client.SendCaseRequest{TemplateID: e.templateOf(0, app.KindInformation),
		ResidentID: string(karin.ID), Subject: "Ditt provsvar", Text: "Allt ser bra ut."})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	tok := e.signIn(demo.AdultSMS)
	_, err = e.c.ResidentReply(e.ctx, tok, sent.ID, "Tack!")
	wantCode(t, err, "not_answerable")
	th, err := e.c.ReadCase(e.ctx, tok, sent.ID)
	if err != nil || len(th.Messages) != 1 || th.Case.Answerable {
		t.Fatalf("after refused reply: %+v, %v", th, err)
	}
	// The notification was queued in the message's transaction (R3).
	ns, err := e.c.CaseNotifications(e.ctx, anna, centrum, sent.ID)
	if err != nil || len(ns) != 1 || ns[0].Channel != string(app.ChannelSMS) || ns[0].State != string(app.NotificationQueued) {
		t.Fatalf("notifications = %+v, %v; want one queued SMS", ns, err)
	}
}

// TestR5_GuardianActsForChildUnder13 and is refused from the 13th birthday (R8).
func TestR5_GuardianActsForChildUnder13(t *testing.T) {
	e := newEnv(t)
	ctx, c := e.ctx, e.c
	ake := e.signIn(demo.GuardianNotified)
	elsa := e.persona(demo.Child12y11m)
	kids, err := c.Children(ctx, ake)
	if err != nil || len(kids) != 1 || kids[0].ID != string(elsa.ID) || !kids[0].MayAct || kids[0].Age != 12 {
		t.Fatalf("children = %+v, %v", kids, err)
	}
	inbox, err := c.Inbox(ctx, ake, string(elsa.ID))
	if err != nil || len(inbox) == 0 {
		t.Fatalf("child's inbox = %+v, %v", inbox, err)
	}
	if _, err := c.ReadCase(ctx, ake, inbox[0].ID); err != nil {
		t.Fatalf("read child's case: %v", err)
	}
	barn := e.ds.Clinics[1]
	started, err := c.StartCase(ctx, ake, client.StartCaseRequest{For: string(elsa.ID), ClinicID: string(barn.ID),
		EServiceID: "std-kontakta-mottagningen", Subject: "Feber", Text: "Elsa har haft feber i tre dagar."})
	if err != nil || started.StartedBy != string(app.StartedByGuardian) {
		t.Fatalf("start for child = %+v, %v", started, err)
	}
	cecilia := e.staff(demo.StaffChildClinic)
	th, err := c.OpenCase(ctx, cecilia, string(barn.ID), started.ID)
	if err != nil || th.Case.StartedBy != string(app.StartedByGuardian) || th.Case.StartedByGuardian != string(e.persona(demo.GuardianNotified).ID) {
		t.Fatalf("staff see %+v, %v; want started by the guardian in proxy mode", th.Case, err)
	}
	if gc, err := c.SetGuardianContact(ctx, ake, string(elsa.ID), client.GuardianContact{Mobile: "070-174 06 50"}); err != nil || gc.Mobile != "+46701740650" {
		t.Fatalf("guardian contact = %+v, %v; want the number normalised", gc, err)
	}
	_, err = c.SetGuardianContact(ctx, ake, string(elsa.ID), client.GuardianContact{Mobile: "08-123 456"})
	if ae := wantCode(t, err, "invalid"); ae.Field != "mobile" {
		t.Fatalf("invalid mobile: field %q", ae.Field)
	}
	// An e-service the clinic does not offer is refused.
	_, err = c.StartCase(ctx, ake, client.StartCaseRequest{For: string(elsa.ID), ClinicID: string(barn.ID),
		EServiceID: "std-fornya-recept", Subject: "Recept", Text: "Förnya receptet."})
	wantCode(t, err, "invalid")

	// Hugo turns 13 tomorrow: today his guardian may act, from his birthday not.
	ingrid := e.signIn(demo.GuardianOf13)
	hugo := e.persona(demo.ChildTurns13)
	if _, err := c.Inbox(ctx, ingrid, string(hugo.ID)); err != nil {
		t.Fatalf("guardian of a 12-year-old: %v", err)
	}
	e.clock.Advance(72 * time.Hour)
	ingrid = e.signIn(demo.GuardianOf13) // the session of three days ago has expired
	_, err = c.Inbox(ctx, ingrid, string(hugo.ID))
	if ae := wantCode(t, err, "proxy_not_allowed"); len(ae.Reasons) != 1 || ae.Reasons[0].Code != string(app.ProxyChildTooOld) {
		t.Fatalf("reasons = %+v, want %s", ae.Reasons, app.ProxyChildTooOld)
	}
	kids, err = c.Children(ctx, ingrid)
	if err != nil || len(kids) != 1 || kids[0].MayAct || kids[0].Reason == nil || kids[0].Reason.Code != string(app.ProxyChildTooOld) {
		t.Fatalf("children after the 13th birthday = %+v, %v", kids, err)
	}
}

// TestR7_ProxyRefusedWithProtectedIdentity: neither a guardian with
// protected identity nor the guardian of a protected child may act; nor a
// blocked guardian.
func TestR7_ProxyRefusedWithProtectedIdentity(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		guardian, child string
		reason          app.ProxyReason
	}{
		{demo.GuardianProtected, demo.ChildProtectedGuard, app.ProxyProtectedIdentity},
		{demo.GuardianOfProtected, demo.ChildProtected, app.ProxyProtectedIdentity},
		{demo.GuardianBlocked, demo.Child12y11m, app.ProxyBlocked},
	} {
		t.Run(tc.guardian, func(t *testing.T) {
			tok := e.signIn(tc.guardian)
			child := string(e.persona(tc.child).ID)
			_, err := e.c.Inbox(e.ctx, tok, child)
			if ae := wantCode(t, err, "proxy_not_allowed"); len(ae.Reasons) != 1 || ae.Reasons[0].Code != string(tc.reason) {
				t.Fatalf("reasons = %+v, want %s", ae.Reasons, tc.reason)
			}
			wantCode(t, e.c.ActivateProxy(e.ctx, tok, child), "proxy_not_allowed")
			kids, err := e.c.Children(e.ctx, tok)
			if err != nil || len(kids) != 1 || kids[0].MayAct || kids[0].Reason.Code != string(tc.reason) {
				t.Fatalf("children = %+v, %v", kids, err)
			}
		})
	}
}

// TestR10_LockedResidentCannotSignIn: a locked login is refused; a resident
// who locks their login loses the session; kontaktcenter unlocks.
func TestR10_LockedResidentCannotSignIn(t *testing.T) {
	e := newEnv(t)
	ctx, c := e.ctx, e.c
	_, err := c.ResidentSignIn(ctx, e.persona(demo.Locked).PNR.String(), time.Millisecond)
	wantCode(t, err, "login_locked")

	karin := e.persona(demo.AdultSMS)
	tok := e.signIn(demo.AdultSMS)
	if err := c.LockLogin(ctx, tok); err != nil {
		t.Fatalf("lock: %v", err)
	}
	_, err = c.Inbox(ctx, tok, "")
	wantCode(t, err, "unauthenticated")
	_, err = c.ResidentSignIn(ctx, karin.PNR.String(), time.Millisecond)
	wantCode(t, err, "login_locked")
	v, err := c.LookupResident(ctx, e.staff(demo.StaffReceiver), e.clinic(0), karin.PNR.String())
	if err != nil || v.Reach.OK || !v.LoginLocked {
		t.Fatalf("staff see %+v, %v; want locked and unreachable", v, err)
	}

	// Only kontaktcenter unlocks; a case handler is refused.
	wantCode(t, regionLock(ctx, c, e.staff(demo.StaffReceiver), karin.PNR.String(), false), "forbidden")
	if err := regionLock(ctx, c, e.staff(demo.StaffContact), karin.PNR.String(), false); err != nil {
		t.Fatalf("kontaktcenter unlock: %v", err)
	}
	tok = e.signIn(demo.AdultSMS)
	// R11: sealing is separate from locking.
	if err := c.SealJournal(ctx, tok, true); err != nil {
		t.Fatalf("seal: %v", err)
	}
	me, err := c.ResidentMe(ctx, tok)
	if err != nil || !me.JournalSealed {
		t.Fatalf("me = %+v, %v; want sealed", me, err)
	}
	if err := c.RegionSeal(ctx, e.staff(demo.StaffContact), karin.PNR.String(), false); err != nil {
		t.Fatalf("kontaktcenter unseal: %v", err)
	}
	wantCode(t, regionLock(ctx, c, e.staff(demo.StaffContact), "19000101-0000", true), "invalid")
}

// TestR3_SettingsNormalisedAndOnlyOwn: settings are the resident's own;
// the phone number is normalised, an invalid one refused with its field.
func TestR3_SettingsNormalisedAndOnlyOwn(t *testing.T) {
	e := newEnv(t)
	tok := e.signIn(demo.AdultNone)
	s, err := e.c.UpdateSettings(e.ctx, tok, client.Settings{Mobile: "070-174 06 77", NotifySMS: true, ShareWithCare: true})
	if err != nil || s.Mobile != "+46701740677" || !s.NotifySMS {
		t.Fatalf("settings = %+v, %v", s, err)
	}
	_, err = e.c.UpdateSettings(e.ctx, tok, client.Settings{Mobile: "12", NotifySMS: true})
	if ae := wantCode(t, err, "invalid"); ae.Field != "mobile" {
		t.Fatalf("field = %q, want mobile", ae.Field)
	}
	_, err = e.c.UpdateSettings(e.ctx, tok, client.Settings{NotifyEmail: true})
	wantCode(t, err, "invalid")
	me, err := e.c.ResidentMe(e.ctx, tok)
	if err != nil || me.Settings.Mobile != "+46701740677" {
		t.Fatalf("me = %+v, %v; want the first settings kept", me, err)
	}
	v, err := e.c.LookupResident(e.ctx, e.staff(demo.StaffReceiver), e.clinic(0), e.persona(demo.AdultNone).PNR.String())
	if err != nil || v.Choice != string(app.NotifySMS) || v.Mobile != "+46701740677" {
		t.Fatalf("staff see %+v, %v; want sms and the shared number", v, err)
	}
}

// TestStaffListsAndAssign: the two lists, paging, assignment, templates.
func TestStaffListsAndAssign(t *testing.T) {
	e := newEnv(t)
	ctx, c := e.ctx, e.c
	anna, bjorn, centrum := e.staff(demo.StaffReceiver), e.staff(demo.StaffHandler), e.clinic(0)
	page, err := c.Cases(ctx, anna, centrum, client.CaseListQuery{List: "clinic", Limit: 3})
	if err != nil || len(page.Rows) != 3 || page.Next == "" {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	next, err := c.Cases(ctx, anna, centrum, client.CaseListQuery{List: "clinic", Limit: 3, After: page.Next})
	if err != nil || len(next.Rows) == 0 || next.Rows[0].ID == page.Rows[0].ID {
		t.Fatalf("second page = %+v, %v", next, err)
	}
	newCases, err := c.Cases(ctx, anna, centrum, client.CaseListQuery{Status: "ny"})
	if err != nil || len(newCases.Rows) == 0 {
		t.Fatalf("new cases = %+v, %v", newCases, err)
	}
	id := newCases.Rows[0].ID
	// Björn (ärendehanterare) cannot see the clinic list nor an unassigned case.
	_, err = c.Cases(ctx, bjorn, centrum, client.CaseListQuery{List: "clinic"})
	wantCode(t, err, "forbidden")
	_, err = c.OpenCase(ctx, bjorn, centrum, id)
	wantCode(t, err, "forbidden")
	cs, err := c.Assign(ctx, anna, centrum, id, string(e.ds.StaffBy[demo.StaffHandler]))
	if err != nil || cs.Status != string(app.StatusOngoing) {
		t.Fatalf("assign = %+v, %v", cs, err)
	}
	mine, err := c.Cases(ctx, bjorn, centrum, client.CaseListQuery{List: "mine"})
	if err != nil || !slices.ContainsFunc(mine.Rows, func(r client.CaseRow) bool { return r.ID == id }) {
		t.Fatalf("Björn's list = %+v, %v", mine, err)
	}
	if _, err := c.OpenCase(ctx, bjorn, centrum, id); err != nil {
		t.Fatalf("assignee opens: %v", err)
	}
	_, err = c.Assign(ctx, anna, centrum, id, string(e.ds.StaffBy[demo.StaffAuditor]))
	wantCode(t, err, "invalid")
	ts, err := c.Templates(ctx, bjorn, centrum, "fraga")
	if err != nil || len(ts) != 2 {
		t.Fatalf("templates = %+v, %v", ts, err)
	}
	me, err := c.StaffMe(ctx, anna)
	if err != nil || me.StaffID != string(e.ds.StaffBy[demo.StaffReceiver]) || len(me.Roles[centrum]) != 2 {
		t.Fatalf("me = %+v, %v", me, err)
	}
	// Search by a whole personnummer is a lookup (access-logged).
	karin := e.persona(demo.AdultSMS)
	found, err := c.SearchCases(ctx, anna, centrum, client.CaseSearch{Search: karin.PNR.String()})
	if err != nil || len(found.Rows) == 0 || found.Rows[0].ResidentID != string(karin.ID) {
		t.Fatalf("search = %+v, %v", found, err)
	}
	// Sign-out revokes the device.
	if err := c.StaffSignOut(ctx, anna); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	_, err = c.StaffMe(ctx, anna)
	wantCode(t, err, "unauthenticated")
}

// regionLock is the kontaktcenter's lock (on) or unlock through the REST
// door, with an identity check and a reason that fits.
func regionLock(ctx context.Context, c *client.Client, tok, pnr string, on bool) error {
	reason := app.ReasonResolved
	if on {
		reason = app.ReasonLostEID
	}
	_, err := c.RegionLock(ctx, tok, client.RegionResidentRequest{Personnummer: pnr, On: on,
		IdentityCheck: string(app.CheckBankID), Reason: string(reason)})
	return err
}

// TestR10_KontaktcenterDoorOverHTTP (issue 18, item 3): the connected
// desktop's kontaktcenter goes through the server's region routes, which
// reach app.ContactCenterService: the lookup and the lock are in the
// server's access log (no clinic), the lock needs the identity check and
// a reason, and it takes effect for the resident at once (their session
// ends; a new sign-in is refused).
func TestR10_KontaktcenterDoorOverHTTP(t *testing.T) {
	e := newEnv(t)
	c, ctx := e.c, e.ctx
	karin := e.persona(demo.AdultSMS)
	tok := e.signIn(demo.AdultSMS)
	greta := e.staff(demo.StaffContact)

	_, err := c.RegionFind(ctx, e.staff(demo.StaffReceiver), karin.PNR.String())
	wantCode(t, err, "forbidden")
	v, err := c.RegionFind(ctx, greta, karin.PNR.String())
	if err != nil || v.Name != karin.Register.FullName() || v.LoginLocked {
		t.Fatalf("find: %+v, %v", v, err)
	}
	_, err = c.RegionLock(ctx, greta, client.RegionResidentRequest{Personnummer: karin.PNR.String(), On: true})
	wantCode(t, err, "invalid") // no identity check, no reason
	v, err = c.RegionLock(ctx, greta, client.RegionResidentRequest{Personnummer: karin.PNR.String(), On: true,
		IdentityCheck: string(app.CheckBankID), Reason: string(app.ReasonSuspectedUse)})
	if err != nil || !v.LoginLocked || v.Last == nil || v.Last.Reason != string(app.ReasonSuspectedUse) {
		t.Fatalf("lock: %+v, %v", v, err)
	}
	_, err = c.Inbox(ctx, tok, "")
	wantCode(t, err, "unauthenticated")
	_, err = c.ResidentSignIn(ctx, karin.PNR.String(), time.Millisecond)
	wantCode(t, err, "login_locked")
	_, err = c.RegionLock(ctx, greta, client.RegionResidentRequest{Personnummer: karin.PNR.String(), On: true,
		IdentityCheck: string(app.CheckBankID), Reason: string(app.ReasonLostEID)})
	wantCode(t, err, "conflict")

	es, err := e.store.Entries(ctx, "", e.clock.Now().Add(-time.Hour), e.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []app.AccessAction
	for _, x := range es {
		if x.ResidentID == karin.ID && x.StaffID == e.ds.StaffBy[demo.StaffContact] {
			got = append(got, x.Action)
		}
	}
	if want := []app.AccessAction{app.AccessLookupResident, app.AccessLoginLock}; !slices.Equal(got, want) {
		t.Errorf("server access log %v, want %v", got, want)
	}
}
