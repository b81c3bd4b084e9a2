package app_test

import (
	"errors"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
)

// regionLog is the access log of region actions (no clinic) at f.now.
func (f *fixture) regionLog() []app.AccessEntry {
	f.t.Helper()
	es, err := f.store.Entries(f.ctx, "", f.now.Add(-1), f.now.Add(1))
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// TestR10_ContactCenterLocksAndUnlocksWithIdentityCheck: the kontaktcenter
// finds a resident, locks the login with the identity check and a reason,
// and unlocks it later; every step is in the access log (no clinic), the
// account keeps who, how and why, and the lock takes effect (sign-in and
// sending refused) at once.
func TestR10_ContactCenterLocksAndUnlocksWithIdentityCheck(t *testing.T) {
	f := newFixture(t)
	cc := app.NewContactCenterService(f.store, app.FixedClock(f.now))
	contact, err := f.store.Staff(f.ctx, f.ds.StaffBy[demo.StaffContact])
	if err != nil {
		t.Fatal(err)
	}
	karin := f.resident(demo.AdultSMS)
	v, err := cc.FindResident(f.ctx, contact, karin.PNR.String())
	if err != nil {
		t.Fatal(err)
	}
	if v.ResidentID != karin.ID || v.Name != karin.Register.FullName() || v.LoginLocked || v.Last != nil {
		t.Fatalf("view = %+v", v)
	}
	lock := app.LockRequest{PNR: karin.PNR.String(), Locked: true, Check: app.CheckBankID, Reason: app.ReasonLostEID}
	v, err = cc.SetLoginLock(f.ctx, contact, lock)
	if err != nil {
		t.Fatal(err)
	}
	if !v.LoginLocked || v.Last == nil || v.Last.By != contact.ID || v.Last.Check != app.CheckBankID || v.Last.Reason != app.ReasonLostEID || !v.Last.Locked {
		t.Fatalf("after lock: %+v (last %+v)", v, v.Last)
	}
	if err := f.res.SignIn(f.ctx, karin.ID); !errors.Is(err, app.ErrLoginLocked) {
		t.Fatalf("sign-in after the lock: %v", err)
	}
	if _, err := f.send(f.session(demo.StaffReceiver, 0), demo.AdultSMS, app.KindInformation); !errors.Is(err, app.ErrUnreachable) {
		t.Fatalf("send after the lock: %v", err)
	}
	if _, err := cc.SetLoginLock(f.ctx, contact, lock); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("locking a locked login: %v", err)
	}
	unlock := app.LockRequest{PNR: karin.PNR.String(), Check: app.CheckIDDocument, Reason: app.ReasonResolved}
	if v, err = cc.SetLoginLock(f.ctx, contact, unlock); err != nil || v.LoginLocked {
		t.Fatalf("unlock: %+v, %v", v, err)
	}
	if err := f.res.SignIn(f.ctx, karin.ID); err != nil {
		t.Fatalf("sign-in after the unlock: %v", err)
	}
	got := f.resident(demo.AdultSMS).Account.LockEvents
	if len(got) != 2 || !got[0].Locked || got[1].Locked || got[1].Check != app.CheckIDDocument {
		t.Fatalf("lock events %+v", got)
	}
	log := f.regionLog()
	want := []app.AccessAction{app.AccessLookupResident, app.AccessLoginLock, app.AccessLoginLock}
	if len(log) != len(want) {
		t.Fatalf("%d region access entries, want %d", len(log), len(want))
	}
	for i, e := range log {
		if e.Action != want[i] || e.ResidentID != karin.ID || e.StaffID != contact.ID || e.ClinicID != "" || e.CaseID != "" {
			t.Errorf("entry %d = %+v, want %s", i, e, want[i])
		}
	}
}

// Bad input and other roles change nothing and log nothing.
func TestR10_ContactCenterRefusals(t *testing.T) {
	f := newFixture(t)
	cc := app.NewContactCenterService(f.store, app.FixedClock(f.now))
	contact, _ := f.store.Staff(f.ctx, f.ds.StaffBy[demo.StaffContact])
	karin := f.resident(demo.AdultSMS)
	for _, key := range []string{demo.StaffReceiver, demo.StaffHandler, demo.StaffAuditor, demo.StaffPermAdmin} {
		st := f.session(key, 0).Staff
		if _, err := cc.FindResident(f.ctx, st, karin.PNR.String()); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s finds: %v", key, err)
		}
		if _, err := cc.SetLoginLock(f.ctx, st, app.LockRequest{PNR: karin.PNR.String(), Locked: true, Check: app.CheckBankID, Reason: app.ReasonLostEID}); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s locks: %v", key, err)
		}
	}
	for name, req := range map[string]app.LockRequest{
		"no identity check":    {PNR: karin.PNR.String(), Locked: true, Reason: app.ReasonLostEID},
		"own e-ID check":       {PNR: karin.PNR.String(), Locked: true, Check: app.CheckOwnEID, Reason: app.ReasonLostEID},
		"no reason":            {PNR: karin.PNR.String(), Locked: true, Check: app.CheckBankID},
		"unlock reason a lock": {PNR: karin.PNR.String(), Locked: true, Check: app.CheckBankID, Reason: app.ReasonResolved},
	} {
		if _, err := cc.SetLoginLock(f.ctx, contact, req); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := cc.FindResident(f.ctx, contact, "20000101-2385"); !errors.Is(err, personnummer.ErrChecksum) {
		t.Errorf("wrong check digit: %v", err)
	}
	if _, err := cc.FindResident(f.ctx, contact, f.unknownNumber().String()); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("nobody: %v", err)
	}
	if f.resident(demo.AdultSMS).Account.LoginLocked {
		t.Error("a refused request locked the login")
	}
	if n := len(f.regionLog()); n != 0 {
		t.Errorf("refusals wrote %d access entries", n)
	}
}
