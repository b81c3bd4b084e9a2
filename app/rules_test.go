package app_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
)

func TestR1_NeverSignedInCannotReceiveMessages(t *testing.T) {
	f := newFixture(t)
	r := f.reach(demo.NeverSignedIn)
	if r.OK() || !hasBlock(r, app.BlockNeverSignedIn) {
		t.Fatalf("never signed in: reach = %+v, want blocked by %s", r, app.BlockNeverSignedIn)
	}
	if _, err := f.send(f.session(demo.StaffReceiver, 0), demo.NeverSignedIn, app.KindQuestion); !errors.Is(err, app.ErrUnreachable) {
		t.Fatalf("send to never signed in: err = %v, want ErrUnreachable", err)
	}
	cs, _ := f.store.CasesOfResident(f.ctx, f.ds.Persona[demo.NeverSignedIn])
	if len(cs) != 0 {
		t.Fatalf("a refused send wrote %d cases", len(cs))
	}
	// The first e-ID sign-in activates the account: now reachable.
	if err := f.res.SignIn(f.ctx, f.ds.Persona[demo.NeverSignedIn]); err != nil {
		t.Fatal(err)
	}
	if r := f.reach(demo.NeverSignedIn); !r.OK() {
		t.Fatalf("after first sign-in: still blocked: %v", r.Blocking)
	}
	if got := f.resident(demo.NeverSignedIn); !got.Account.Activated || !got.Account.ActivatedAt.Equal(f.now) {
		t.Fatalf("account after sign-in = %+v", got.Account)
	}
}

func TestR2_ResidentSeesOnlyOwnCases(t *testing.T) {
	f := newFixture(t)
	karin, lars := f.ds.Persona[demo.AdultSMS], f.ds.Persona[demo.AdultEmail]
	own, err := f.res.Inbox(f.ctx, karin, karin)
	if err != nil || len(own) == 0 {
		t.Fatalf("own inbox: %d cases, err %v", len(own), err)
	}
	for _, c := range own {
		if c.ResidentID != karin {
			t.Fatalf("own inbox holds case of another resident")
		}
	}
	if _, err := f.res.Inbox(f.ctx, karin, lars); !errors.Is(err, app.ErrProxyNotAllowed) {
		t.Fatalf("another adult's inbox: err = %v, want refused", err)
	}
	larsCases, _ := f.store.CasesOfResident(f.ctx, lars)
	if _, err := f.res.ReadCase(f.ctx, karin, larsCases[0].ID); err == nil {
		t.Fatal("read another resident's case: allowed")
	}
	if err := f.res.Reply(f.ctx, karin, larsCases[0].ID, "hej"); err == nil {
		t.Fatal("reply in another resident's case: allowed")
	}
}

func TestR3_NotifiedThroughChosenChannels(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		key    string
		choice app.NotifyChoice
		want   []app.Channel
	}{
		{demo.AdultSMS, app.NotifySMS, []app.Channel{app.ChannelSMS}},
		{demo.AdultEmail, app.NotifyEmail, []app.Channel{app.ChannelEmail}},
		{demo.AdultBoth, app.NotifyBoth, []app.Channel{app.ChannelSMS, app.ChannelEmail}},
		{demo.AdultNone, app.NotifyNone, nil},
	} {
		t.Run(tc.key, func(t *testing.T) {
			r := f.reach(tc.key)
			if !r.OK() || r.Choice != tc.choice {
				t.Fatalf("reach = %+v, want OK with choice %s", r, tc.choice)
			}
			var got []app.Channel
			for _, n := range r.Notify {
				got = append(got, n.Channel)
				if n.RecipientID != f.ds.Persona[tc.key] || n.Guardian {
					t.Fatalf("notification to someone else: %+v", n)
				}
			}
			if strings.Join(chans(got), ",") != strings.Join(chans(tc.want), ",") {
				t.Fatalf("channels = %v, want %v", got, tc.want)
			}
			if (len(tc.want) == 0) != hasFact(r, app.FactNoNotification) {
				t.Fatalf("fact 'ingen avisering' = %v with %d channels", hasFact(r, app.FactNoNotification), len(tc.want))
			}
		})
	}
	// A channel switched on without an address is refused when saved.
	karin := f.ds.Persona[demo.AdultSMS]
	err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: karin}, karin, app.Settings{NotifyEmail: true})
	if !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("e-mail notification without address: err = %v", err)
	}
}

func chans(cs []app.Channel) []string {
	var s []string
	for _, c := range cs {
		s = append(s, string(c))
	}
	return s
}

// gsm7 is the GSM 03.38 basic character set (without the escape table).
const gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

func TestR4_NotificationTextsCarryNothingAboutTheCase(t *testing.T) {
	want := "Du har ett meddelande i e-tjänsterna på 1177. Meddelandet finns i inkorgen när du loggat in på 1177. Obs! Du kan inte svara på detta sms."
	if app.SMSText != want {
		t.Fatalf("SMS text = %q, want exactly R4's", app.SMSText)
	}
	if n := len([]rune(app.SMSText)); n > 160 {
		t.Fatalf("SMS text is %d characters, more than one GSM-7 segment", n)
	}
	for _, r := range app.SMSText {
		if !strings.ContainsRune(gsm7, r) {
			t.Fatalf("SMS text has %q, not in the GSM-7 basic set", r)
		}
	}
	f := newFixture(t)
	for _, text := range []string{app.SMSText, app.EmailSubject, app.EmailBody} {
		low := strings.ToLower(text)
		for _, bad := range []string{"http", "www.", "://", ".se", "@"} {
			if strings.Contains(low, bad) {
				t.Errorf("notification text contains %q", bad)
			}
		}
		for _, r := range f.ds.Residents {
			if strings.Contains(text, r.Register.GivenName) || strings.Contains(text, r.Register.FamilyName) ||
				(!r.PNR.IsZero() && strings.Contains(text, r.PNR.String()[2:8])) {
				t.Errorf("notification text contains a resident's name or number")
			}
		}
		for _, th := range f.ds.Threads {
			if strings.Contains(text, th.Case.Subject) {
				t.Errorf("notification text contains a case subject")
			}
		}
	}
}

func TestR5_GuardianActsForChildUnder13(t *testing.T) {
	f := newFixture(t)
	child, guardian := f.ds.Persona[demo.Child12y11m], f.ds.Persona[demo.GuardianNotified]
	if _, err := f.res.Inbox(f.ctx, guardian, child); err != nil {
		t.Fatalf("guardian opens child's inbox: %v", err)
	}
	c, err := f.res.StartCase(f.ctx, guardian, child, f.ds.Clinics[1].ID, "std-kontakta-mottagningen", "Feber", "Elsa har haft feber i tre dagar.")
	if err != nil {
		t.Fatal(err)
	}
	if c.ResidentID != child || c.StartedBy != app.StartedByGuardian || c.StartedByGuardian != guardian {
		t.Fatalf("case started in proxy mode = %+v", c)
	}
	// Staff see who started it.
	page, err := f.cases.ClinicCases(f.ctx, f.session(demo.StaffChildClinic, 1), app.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Rows[0].ID != c.ID || page.Rows[0].StartedBy.Label() != "Vårdnadshavare i ombudsläge" {
		t.Fatalf("newest row = %+v, want the proxy case started by 'Vårdnadshavare i ombudsläge'", page.Rows[0].Case)
	}
	// A child started by the resident herself is "Invånaren".
	own, _ := f.res.StartCase(f.ctx, f.ds.Persona[demo.AdultSMS], f.ds.Persona[demo.AdultSMS], f.ds.Clinics[0].ID, "std-fornya-recept", "Recept", "Förnya, tack.")
	if own.StartedBy != app.StartedByResident {
		t.Fatalf("own case started by %s", own.StartedBy)
	}
	// The guardian answers in the child's name.
	q, err := f.send(f.session(demo.StaffReceiver, 0), demo.Child12y11m, app.KindQuestion)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.res.Reply(f.ctx, guardian, q.ID, "Hon mår bra nu."); err != nil {
		t.Fatal(err)
	}
	th, _ := f.store.Thread(f.ctx, q.ID)
	last := th.Messages[len(th.Messages)-1]
	if last.Author != app.AuthorGuardian || last.AuthorID != guardian || th.Case.ResidentID != child {
		t.Fatalf("proxy reply = %+v", last)
	}
	// Activating the login in proxy mode is possible as soon as the child
	// is registered; it makes the child reachable.
	ch := f.ds.Persona[demo.ChildNotActivated]
	if r := f.reach(demo.ChildNotActivated); !hasBlock(r, app.BlockChildNotActivated) {
		t.Fatalf("not activated child: %+v", r)
	}
	if err := f.res.ActivateProxy(f.ctx, f.ds.Persona[demo.GuardianInactive], ch); err != nil {
		t.Fatal(err)
	}
	if r := f.reach(demo.ChildNotActivated); !r.OK() {
		t.Fatalf("after proxy activation: %v", r.Blocking)
	}
	// Someone who is not a guardian cannot.
	if err := f.res.ActivateProxy(f.ctx, f.ds.Persona[demo.AdultBoth], child); !errors.Is(err, app.ErrProxyNotAllowed) {
		t.Fatalf("non-guardian activates proxy: err = %v", err)
	}
}

func TestR6_GuardianNotifiedOnlyWithContactUnderChildSettings(t *testing.T) {
	f := newFixture(t)
	r := f.reach(demo.Child12y11m)
	gNotified, gBlocked := f.ds.Persona[demo.GuardianNotified], f.ds.Persona[demo.GuardianBlocked]
	if !r.OK() || !hasFact(r, app.FactChildInbox) {
		t.Fatalf("child 12y11m: %+v", r)
	}
	if len(r.NotifiedGuardians) != 1 || r.NotifiedGuardians[0] != gNotified {
		t.Fatalf("notified guardians = %v, want only the one with contact details (the other is blocked)", r.NotifiedGuardians)
	}
	for _, n := range r.Notify {
		if !n.Guardian || n.ForResident != f.ds.Persona[demo.Child12y11m] {
			t.Fatalf("target %+v", n)
		}
	}
	// The guardian's own settings do not count for the child: clear the
	// contact under the child's settings and nobody is notified, although
	// the guardian still has SMS on for their own inbox.
	child := f.ds.Persona[demo.Child12y11m]
	if err := f.res.SetGuardianContact(f.ctx, gNotified, child, app.GuardianContact{}); err != nil {
		t.Fatal(err)
	}
	if r := f.reach(demo.Child12y11m); len(r.Notify) != 0 || !hasFact(r, app.FactNoNotification) {
		t.Fatalf("after clearing child's settings: notify = %+v", r.Notify)
	}
	if own := f.reach(demo.GuardianNotified); len(own.Notify) != 1 {
		t.Fatalf("guardian's own notification changed: %+v", own.Notify)
	}
	// Each child has separate settings: filling in under one child does not
	// notify about another.
	if err := f.res.SetGuardianContact(f.ctx, gNotified, child, app.GuardianContact{Email: "ake@example.com"}); err != nil {
		t.Fatal(err)
	}
	if r := f.reach(demo.Child12y11m); len(r.Notify) != 1 || r.Notify[0].Channel != app.ChannelEmail {
		t.Fatalf("after e-mail only: %+v", r.Notify)
	}
	if other := f.reach(demo.ChildTurns13); len(other.Notify) != 1 || other.Notify[0].RecipientID == gNotified {
		t.Fatalf("another child's notifications: %+v", other.Notify)
	}
	// A blocked guardian cannot fill in contact details for the child.
	if err := f.res.SetGuardianContact(f.ctx, gBlocked, child, app.GuardianContact{Mobile: "+46701740699"}); !errors.Is(err, app.ErrProxyNotAllowed) {
		t.Fatalf("blocked guardian sets contact: err = %v", err)
	}
}

func TestR7_ProxyBlockedByProtectedIdentity(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ child, guardian string }{
		{demo.ChildProtectedGuard, demo.GuardianProtected}, // the guardian has protected identity
		{demo.ChildProtected, demo.GuardianOfProtected},    // the child has
	} {
		t.Run(tc.child, func(t *testing.T) {
			child, guardian := f.resident(tc.child), f.resident(tc.guardian)
			var pe *app.ProxyError
			if err := app.MayActAsProxy(guardian, child, f.now); !errors.As(err, &pe) || pe.Reason != app.ProxyProtectedIdentity {
				t.Fatalf("MayActAsProxy = %v, want protected identity", err)
			}
			r := f.reach(tc.child)
			if !hasBlock(r, app.BlockChildProtected) || len(r.Notify) != 0 {
				t.Fatalf("reach = %+v, want blocked (R7) and nobody notified", r)
			}
			if _, err := f.res.Inbox(f.ctx, guardian.ID, child.ID); !errors.Is(err, app.ErrProxyNotAllowed) {
				t.Fatalf("guardian opens inbox: %v", err)
			}
			if !strings.Contains(app.BlockChildProtected.Message(), "brev eller telefon") {
				t.Fatal("the block message must say what to do instead")
			}
		})
	}
}

func TestR8_ThirteenthBirthdayClearsSettingsAndEndsProxy(t *testing.T) {
	f := newFixture(t)
	child, guardian := f.ds.Persona[demo.ChildTurns13], f.ds.Persona[demo.GuardianOf13]
	// Today, the day before the 13th birthday: the guardian acts and is notified.
	r := f.reach(demo.ChildTurns13)
	if !r.OK() || len(r.NotifiedGuardians) != 1 || r.NotifiedGuardians[0] != guardian {
		t.Fatalf("day before birthday: %+v", r)
	}
	if _, err := f.res.Inbox(f.ctx, guardian, child); err != nil {
		t.Fatalf("day before birthday: guardian refused: %v", err)
	}
	// Tomorrow at 00:00 Stockholm time: no proxy, nobody notified, settings
	// to be filled in anew. No job runs; the rule reads the date.
	f.now = app.DateIn(seedTime).AddDate(0, 0, 1)
	var pe *app.ProxyError
	if _, err := f.res.Inbox(f.ctx, guardian, child); !errors.As(err, &pe) || pe.Reason != app.ProxyChildTooOld {
		t.Fatalf("on the birthday: guardian inbox err = %v, want child too old", err)
	}
	r = f.reach(demo.ChildTurns13)
	if !r.OK() || len(r.Notify) != 0 || !hasFact(r, app.FactNoNotification) || hasFact(r, app.FactChildInbox) {
		t.Fatalf("on the birthday: %+v, want reachable, nobody notified", r)
	}
	c := f.resident(demo.ChildTurns13)
	if !app.NeedsSettingsPrompt(c, f.now) {
		t.Fatal("on the birthday the child must be asked to fill in settings")
	}
	// A minute before midnight it was still the day before.
	if app.NeedsSettingsPrompt(c, app.DateIn(seedTime).AddDate(0, 0, 1).Add(-time.Minute)) {
		t.Fatal("prompt before the birthday")
	}
	// The child signs in personally and saves settings: they count.
	if err := f.res.SignIn(f.ctx, child); err != nil {
		t.Fatal(err)
	}
	if err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: child}, child, app.Settings{Mobile: "+46701740690", NotifySMS: true}); err != nil {
		t.Fatal(err)
	}
	if r := f.reach(demo.ChildTurns13); len(r.Notify) != 1 || r.Notify[0].RecipientID != child {
		t.Fatalf("after the child's own settings: %+v", r.Notify)
	}
	// The teenager whose settings were saved before 13 is not notified.
	teen := f.resident(demo.TeenCleared)
	if teen.Settings.Choice() == app.NotifyNone {
		t.Fatal("fixture: teen should have stored settings")
	}
	if s := app.EffectiveSettings(teen, f.now); s.Choice() != app.NotifyNone {
		t.Fatalf("settings saved before the 13th birthday still count: %v", s.Choice())
	}
}

func TestR8_LeapDayChildTurns13On28February(t *testing.T) {
	n, err := personnummer.New(time.Date(2012, 2, 29, 0, 0, 0, 0, app.Stockholm), 905, false)
	if err != nil {
		t.Fatal(err)
	}
	child := &app.Resident{ID: "c", PNR: n, Account: app.Account{Activated: true},
		Guardians: []app.Guardianship{{GuardianID: "g", ProxyActivated: true, Contact: app.GuardianContact{Mobile: "+46701740605"}}}}
	g := &app.Resident{ID: "g", PNR: demo.TestNumbers()[0], Account: app.Account{Activated: true}}
	feb27 := time.Date(2025, 2, 27, 23, 59, 0, 0, app.Stockholm)
	feb28 := time.Date(2025, 2, 28, 0, 0, 0, 0, app.Stockholm)
	if err := app.MayActAsProxy(g, child, feb27); err != nil {
		t.Fatalf("27 February 2025: %v", err)
	}
	if err := app.MayActAsProxy(g, child, feb28); !errors.Is(err, app.ErrProxyNotAllowed) {
		t.Fatalf("28 February 2025 (13th birthday of a leap-day child): proxy still allowed")
	}
	if got := app.ThirteenthBirthday(child); !got.Equal(feb28) {
		t.Fatalf("13th birthday = %v, want %v", got, feb28)
	}
}

func TestR9_ProtectedIdentityAddressNeverShownToStaff(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	prot, err := f.cases.LookupResident(f.ctx, sess, f.resident(demo.Protected).PNR)
	if err != nil {
		t.Fatal(err)
	}
	if prot.Address != nil || !prot.ProtectedIdentity || !hasFact(prot.Reach, app.FactProtectedIdentity) {
		t.Fatalf("protected view = %+v, want no address and the protected fact", prot)
	}
	// Otherwise like anyone else: reachable, notified as chosen.
	if !prot.Reach.OK() || len(prot.Reach.Notify) != 1 {
		t.Fatalf("protected identity must not stop messages: %+v", prot.Reach)
	}
	plain, err := f.cases.LookupResident(f.ctx, sess, f.resident(demo.AdultSMS).PNR)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Address == nil || plain.Address.Street == "" {
		t.Fatal("unprotected resident: address missing")
	}
	// Even if the register record held an address, staff do not see it.
	if err := f.store.UpdateResident(f.ctx, prot.ID, func(r *app.Resident) error {
		r.Register.Address = app.Address{Street: "Hemliga vägen 1", City: "Jönköping"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	again, _ := f.cases.LookupResident(f.ctx, sess, prot.PNR)
	if again.Address != nil {
		t.Fatal("address of a protected person shown to staff")
	}
}

func TestR10_LockedLoginCannotSignInOrReceive(t *testing.T) {
	f := newFixture(t)
	locked := f.ds.Persona[demo.Locked]
	if err := f.res.SignIn(f.ctx, locked); !errors.Is(err, app.ErrLoginLocked) {
		t.Fatalf("locked sign-in: err = %v", err)
	}
	r := f.reach(demo.Locked)
	if !hasBlock(r, app.BlockLoginLocked) || len(r.Notify) != 0 {
		t.Fatalf("locked: %+v", r)
	}
	if app.CanSeeBookedTimes(f.resident(demo.Locked)) {
		t.Fatal("a locked resident sees booked times")
	}
	if _, err := f.send(f.session(demo.StaffReceiver, 0), demo.Locked, app.KindInformation); !errors.Is(err, app.ErrUnreachable) {
		t.Fatalf("send to locked: err = %v", err)
	}
	// A resident locks their own login; only the contact centre unlocks.
	karin := f.ds.Persona[demo.AdultSMS]
	if err := f.res.SetLoginLocked(f.ctx, app.Actor{ResidentID: karin}, karin, true); err != nil {
		t.Fatal(err)
	}
	if err := f.res.SignIn(f.ctx, karin); !errors.Is(err, app.ErrLoginLocked) {
		t.Fatalf("after locking: sign-in err = %v", err)
	}
	if err := f.res.SetLoginLocked(f.ctx, app.Actor{ResidentID: karin}, karin, false); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("resident unlocks: err = %v", err)
	}
	handler := f.session(demo.StaffHandler, 0).Staff
	cc := app.NewContactCenterService(f.store, app.FixedClock(f.now))
	unlock := app.LockRequest{PNR: f.pnr(demo.AdultSMS), Check: app.CheckIDDocument, Reason: app.ReasonResolved}
	if _, err := cc.SetLoginLock(f.ctx, handler, unlock); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("ärendehanterare unlocks: err = %v", err)
	}
	if err := f.res.SetLoginLocked(f.ctx, app.Actor{Staff: handler}, karin, true); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("staff through the resident's door: err = %v", err)
	}
	contact, _ := f.store.Staff(f.ctx, f.ds.StaffBy[demo.StaffContact])
	if _, err := cc.SetLoginLock(f.ctx, contact, unlock); err != nil {
		t.Fatalf("kontaktcenter unlocks: %v", err)
	}
	if err := f.res.SignIn(f.ctx, karin); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestR11_SealingIsSeparateFromLocking(t *testing.T) {
	f := newFixture(t)
	locked, sealed := f.resident(demo.Locked), f.resident(demo.Sealed)
	if !app.JournalReachableByLink(locked) {
		t.Fatal("a locked, unsealed resident must still reach the record by direct link")
	}
	if app.JournalReachableByLink(sealed) {
		t.Fatal("a sealed record reachable by link")
	}
	if err := app.CanSignIn(sealed); err != nil || !f.reach(demo.Sealed).OK() {
		t.Fatal("sealing the record must not lock the login")
	}
	// Locking does not seal, sealing does not lock.
	contact, _ := f.store.Staff(f.ctx, f.ds.StaffBy[demo.StaffContact])
	if err := f.res.SetJournalSealed(f.ctx, app.Actor{Staff: contact}, locked.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := f.resident(demo.Locked); !got.Account.LoginLocked || !got.Account.JournalSealed || app.JournalReachableByLink(got) {
		t.Fatalf("locked and sealed: %+v", got.Account)
	}
}

func TestR12_RegisterDataChangesOnlyThroughRegister(t *testing.T) {
	f := newFixture(t)
	karin := f.resident(demo.AdultSMS)
	before := karin.Register
	// Saving settings cannot touch name or address.
	if err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: karin.ID}, karin.ID, app.Settings{Email: "karin@example.com", NotifyEmail: true}); err != nil {
		t.Fatal(err)
	}
	if got := f.resident(demo.AdultSMS).Register; got != before {
		t.Fatalf("register changed by settings: %+v", got)
	}
	// A register import changes name and address, and keeps account,
	// settings and guardians' contact details.
	child := f.resident(demo.Child12y11m)
	contact := child.Guardians[1].Contact
	reg := child.Register
	reg.FamilyName, reg.Address.Street = "Lindberg Ek", "Nya gatan 2"
	app.ApplyRegister(child, reg, []app.ID{child.Guardians[0].GuardianID, child.Guardians[1].GuardianID})
	if child.Register.FamilyName != "Lindberg Ek" || child.Guardians[1].Contact != contact || !child.Guardians[0].Blocked || !child.Account.Activated {
		t.Fatalf("after register import: %+v", child)
	}
}

func TestR13_ContactDetailsShownOnlyWhenShared(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	shared, _ := f.cases.LookupResident(f.ctx, sess, f.resident(demo.AdultSMS).PNR)
	if shared.Mobile == "" {
		t.Fatal("shared mobile not shown")
	}
	notShared, _ := f.cases.LookupResident(f.ctx, sess, f.resident(demo.AdultEmail).PNR)
	if notShared.Email != "" || notShared.Mobile != "" {
		t.Fatal("contact details shown although not shared")
	}
	if notShared.Choice != app.NotifyEmail {
		t.Fatalf("the notification choice is shown regardless of sharing: %s", notShared.Choice)
	}
}

func TestR14_OnlyTheResidentEditsSettings(t *testing.T) {
	f := newFixture(t)
	karin := f.ds.Persona[demo.AdultSMS]
	before := f.resident(demo.AdultSMS).Settings
	for _, key := range []string{demo.StaffReceiver, demo.StaffLocalAdmin, demo.StaffContact} {
		st, _ := f.store.Staff(f.ctx, f.ds.StaffBy[key])
		if err := f.res.UpdateSettings(f.ctx, app.Actor{Staff: st}, karin, app.Settings{}); !errors.Is(err, app.ErrForbidden) {
			t.Fatalf("%s edits settings: err = %v", key, err)
		}
	}
	if err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: f.ds.Persona[demo.AdultEmail]}, karin, app.Settings{}); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("another resident edits settings: err = %v", err)
	}
	if got := f.resident(demo.AdultSMS).Settings; got != before {
		t.Fatal("settings changed by a refused edit")
	}
	// Staff see the choice exactly as set, read-only.
	v, _ := f.cases.LookupResident(f.ctx, f.session(demo.StaffReceiver, 0), f.resident(demo.AdultBoth).PNR)
	if v.Choice != app.NotifyBoth || v.Choice.Label() != "SMS och e-post" {
		t.Fatalf("choice = %s", v.Choice)
	}
}

func TestR15_ClinicOffersStandardAndLocalEServices(t *testing.T) {
	f := newFixture(t)
	names := map[string]bool{}
	for _, e := range app.StandardCatalogue {
		names[e.Name] = true
	}
	for _, n := range []string{"Av- och omboka tid", "Förnya recept", "Kontakta mottagningen", "Beställ intyg", "Egen vårdbegäran"} {
		if !names[n] {
			t.Fatalf("catalogue lacks %q", n)
		}
	}
	admin := f.session(demo.StaffLocalAdmin, 1)
	if _, err := f.es.CreateLocal(f.ctx, admin, "Anmälan till astmaskola", "Lokal e-tjänst"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.es.CreateLocal(f.ctx, f.session(demo.StaffChildClinic, 1), "Inte tillåten", ""); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("ärendemottagare creates e-service: err = %v", err)
	}
	offered, err := f.es.Offered(f.ctx, f.ds.Clinics[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range offered {
		got = append(got, e.Name)
	}
	want := "Av- och omboka tid,Kontakta mottagningen,Beställ intyg,Anmälan till astmaskola"
	if strings.Join(got, ",") != want {
		t.Fatalf("offered = %v, want %s", got, want)
	}
	// The other clinic does not offer it.
	other, _ := f.es.Offered(f.ctx, f.ds.Clinics[0].ID)
	for _, e := range other {
		if e.Name == "Anmälan till astmaskola" {
			t.Fatal("local e-service leaked to another clinic")
		}
	}
}

func TestR16_StaffSendInformationAndQuestions(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffHandler, 0) // ärendehanterare: becomes the assignee
	info, err := f.send(sess, demo.AdultSMS, app.KindInformation)
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.send(sess, demo.AdultSMS, app.KindQuestion)
	if err != nil {
		t.Fatal(err)
	}
	if q.AssigneeID != sess.Staff.ID || q.Status != app.StatusWaiting || q.StartedBy != app.StartedByClinic {
		t.Fatalf("question case = %+v", q)
	}
	karin := f.ds.Persona[demo.AdultSMS]
	if err := f.res.Reply(f.ctx, karin, info.ID, "Tack!"); !errors.Is(err, app.ErrNotAnswerable) {
		t.Fatalf("reply to information: err = %v", err)
	}
	th, _ := f.store.Thread(f.ctx, info.ID)
	if len(th.Messages) != 1 {
		t.Fatal("a refused reply was stored")
	}
	if err := f.res.Reply(f.ctx, karin, q.ID, "Det går bra, tack."); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.Case(f.ctx, q.ID)
	if got.Status != app.StatusOngoing || !got.UnreadByStaff {
		t.Fatalf("after the resident's answer: %+v", got)
	}
	// Both lists show it; Mina ärenden is the sender's.
	mine, err := f.cases.MyCases(f.ctx, sess, app.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if mine.Rows[0].ID != q.ID {
		t.Fatal("Mina ärenden: newest case is not the answered question")
	}
	all, _ := f.cases.ClinicCases(f.ctx, f.session(demo.StaffReceiver, 0), app.CaseQuery{})
	if all.Rows[0].ID != q.ID {
		t.Fatal("Mottagningens ärenden: newest case is not the answered question")
	}
}
