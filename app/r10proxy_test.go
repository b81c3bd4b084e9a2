package app_test

import (
	"errors"
	"fmt"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// childLocked is the reason code of a locked child, written out: it is a
// stable code on the wire.
const childLocked = app.ProxyReason("barnet-last")

// TestR10_GuardianMayNotActForLockedChild: a locked resident cannot sign
// in or receive digital messages (R10), so a guardian acting in the
// child's name is refused the same way: every proxy use case of the
// resident service says barnet-last, staff see that no guardian may act
// and the lock as the one blocking reason, the lokal administratör sees
// the reason per guardian, and no guardian is to be notified.
func TestR10_GuardianMayNotActForLockedChild(t *testing.T) {
	f := newFixture(t)
	contact, err := f.store.Staff(f.ctx, f.ds.StaffBy[demo.StaffContact])
	if err != nil {
		t.Fatal(err)
	}
	elsa := f.resident(demo.Child12y11m)
	ake := f.ds.Persona[demo.GuardianNotified]
	inbox, err := f.res.Inbox(f.ctx, ake, elsa.ID)
	if err != nil || len(inbox) == 0 {
		t.Fatalf("before the lock: inbox %d, %v", len(inbox), err)
	}
	caseID := inbox[0].ID
	if _, err := app.NewContactCenterService(f.store, app.FixedClock(f.now)).SetLoginLock(f.ctx, contact,
		app.LockRequest{PNR: elsa.PNR.String(), Locked: true, Check: app.CheckBankID, Reason: app.ReasonSuspectedUse}); err != nil {
		t.Fatal(err)
	}
	elsa = f.resident(demo.Child12y11m)
	gs := f.guardians(elsa)

	err = app.MayActAsProxy(gs[ake], elsa, f.now)
	var pe *app.ProxyError
	if !errors.As(err, &pe) || pe.Reason != childLocked || !errors.Is(err, app.ErrProxyNotAllowed) {
		t.Fatalf("MayActAsProxy = %v, want %s", err, childLocked)
	}
	if m := pe.Reason.Message(); m == string(childLocked) {
		t.Errorf("no Swedish text for %s", childLocked)
	}

	clinic := f.ds.Clinics[0].ID
	calls := map[string]func() error{
		"inbox": func() error { _, err := f.res.Inbox(f.ctx, ake, elsa.ID); return err },
		"read":  func() error { _, err := f.res.ReadCase(f.ctx, ake, caseID); return err },
		"reply": func() error { return f.res.Reply(f.ctx, ake, caseID, "Hej") },
		"start": func() error {
			_, err := f.res.StartCase(f.ctx, ake, elsa.ID, clinic, "std-kontakta-mottagningen", "Hej", "Hej")
			return err
		},
		"activate": func() error { return f.res.ActivateProxy(f.ctx, ake, elsa.ID) },
		"contact": func() error {
			return f.res.SetGuardianContact(f.ctx, ake, elsa.ID, app.GuardianContact{Mobile: "0701740650"})
		},
		"e-services": func() error {
			_, err := f.res.UsableEServices(f.ctx, f.store, ake, elsa.ID, clinic)
			return err
		},
		"submit": func() error {
			_, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: ake, Owner: elsa.ID, ClinicID: clinic, EServiceID: "std-kontakta-mottagningen"})
			return err
		},
		"log extract": func() error {
			_, err := f.res.AccessLogExtract(f.ctx, ake, elsa.ID, f.now.AddDate(0, -1, 0), f.now)
			return err
		},
	}
	for name, call := range calls {
		var pe *app.ProxyError
		if err := call(); !errors.As(err, &pe) || pe.Reason != childLocked {
			t.Errorf("%s for a locked child: %v, want %s", name, err, childLocked)
		}
	}

	// Staff: the lock is the one blocking reason, no guardian may act and
	// none would be notified.
	r := app.Reach(elsa, gs, f.now)
	if fmt.Sprint(r.Blocking) != fmt.Sprint([]app.BlockReason{app.BlockLoginLocked}) || len(r.Notify) != 0 || len(r.NotifiedGuardians) != 0 {
		t.Errorf("reach = %+v; want blocked by %s only, nobody notified", r, app.BlockLoginLocked)
	}
	if n := app.NotifyTargets(elsa, gs, f.now); len(n) != 0 {
		t.Errorf("notifications for a locked child: %+v", n)
	}
	v, err := f.cases.LookupResident(f.ctx, f.session(demo.StaffReceiver, 0), elsa.PNR)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range v.Guardians {
		if g.MayAct || g.Notified {
			t.Errorf("staff see guardian %s may act %v, notified %v", g.ID, g.MayAct, g.Notified)
		}
	}
	cv, err := f.guardianSvc().ChildGuardians(f.ctx, f.session(demo.StaffLocalAdmin, 1), elsa.PNR)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range cv.Guardians {
		// Ylva's block is the more particular reason and stays hers.
		want := childLocked
		if g.Blocked {
			want = app.ProxyBlocked
		}
		if g.MayAct || g.Reason != want {
			t.Errorf("lokal administratör sees %s: may act %v, reason %q, want %s", g.Name, g.MayAct, g.Reason, want)
		}
	}
}
