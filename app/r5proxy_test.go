package app_test

import (
	"errors"
	"fmt"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// TestR5_GuardianCannotActForNotActivatedChild (issue 14, item 6): staff
// see a child whose login no guardian activated as unreachable
// (barn-ej-aktiverat), so a guardian may not read, answer or start cases
// in the child's name either, with the same code as the reason; activating
// the login is the one thing they may do, and after it everything works.
func TestR5_GuardianCannotActForNotActivatedChild(t *testing.T) {
	f := newFixture(t)
	nora := f.resident(demo.ChildNotActivated)
	mikael := f.ds.Persona[demo.GuardianInactive]
	clinic := f.ds.Clinics[0].ID
	// A case of Nora's (as an e-service case arrives), to read and answer.
	c := app.Case{ID: app.NewID(f.now), ClinicID: clinic, ResidentID: nora.ID, Kind: app.KindEService, EServiceID: "std-kontakta-mottagningen",
		Subject: "Fråga", Status: app.StatusOngoing, StartedBy: app.StartedByResident, CreatedAt: f.now, LastActivity: f.now}
	if err := f.store.CreateThread(f.ctx, &app.Thread{Case: c, Messages: []app.Message{{ID: app.NewID(f.now), CaseID: c.ID,
		Author: app.AuthorResident, AuthorID: nora.ID, At: f.now, Text: "Hej"}}}, app.Write{}); err != nil {
		t.Fatal(err)
	}

	// Staff: the child is blocked as not activated, and no guardian may act.
	v, err := f.cases.LookupResident(f.ctx, f.session(demo.StaffChildClinic, 1), nora.PNR)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(v.Reach.Blocking) != fmt.Sprint([]app.BlockReason{app.BlockChildNotActivated}) {
		t.Fatalf("staff see %v, want %s", v.Reach.Blocking, app.BlockChildNotActivated)
	}
	for _, g := range v.Guardians {
		if g.MayAct {
			t.Errorf("staff see guardian %s may act for a child nobody activated", g.ID)
		}
	}
	if string(app.ProxyChildNotActivated) != string(app.BlockChildNotActivated) {
		t.Errorf("the guardian's reason %q and the staff's %q differ", app.ProxyChildNotActivated, app.BlockChildNotActivated)
	}

	calls := map[string]func() error{
		"inbox": func() error { _, err := f.res.Inbox(f.ctx, mikael, nora.ID); return err },
		"read":  func() error { _, err := f.res.ReadCase(f.ctx, mikael, c.ID); return err },
		"reply": func() error { return f.res.Reply(f.ctx, mikael, c.ID, "Hej") },
		"start": func() error {
			_, err := f.res.StartCase(f.ctx, mikael, nora.ID, clinic, "std-kontakta-mottagningen", "Hej", "Hej")
			return err
		},
		"contact": func() error {
			return f.res.SetGuardianContact(f.ctx, mikael, nora.ID, app.GuardianContact{Mobile: "0701740650"})
		},
		"e-services": func() error {
			_, err := f.res.UsableEServices(f.ctx, f.store, mikael, nora.ID, clinic)
			return err
		},
		"submit": func() error {
			_, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: mikael, Owner: nora.ID, ClinicID: clinic, EServiceID: "std-kontakta-mottagningen"})
			return err
		},
		"log extract": func() error {
			_, err := f.res.AccessLogExtract(f.ctx, mikael, nora.ID, f.now.AddDate(0, -1, 0), f.now)
			return err
		},
	}
	for name, call := range calls {
		var pe *app.ProxyError
		if err := call(); !errors.As(err, &pe) || pe.Reason != app.ProxyChildNotActivated || !errors.Is(err, app.ErrProxyNotAllowed) {
			t.Errorf("%s for a child nobody activated: %v, want %s", name, err, app.ProxyChildNotActivated)
		}
	}
	if m := app.ProxyChildNotActivated.Message(); m == string(app.ProxyChildNotActivated) {
		t.Errorf("no Swedish text for %s", app.ProxyChildNotActivated)
	}
	if th, err := f.store.Thread(f.ctx, c.ID); err != nil || len(th.Messages) != 1 || !th.Messages[0].ReadByResident.IsZero() {
		t.Fatalf("refused calls changed the case: %+v, %v", th, err)
	}
	if cs, err := f.store.CasesOfResident(f.ctx, nora.ID); err != nil || len(cs) != 1 {
		t.Fatalf("refused calls started cases: %d, %v", len(cs), err)
	}

	// Someone who is not a guardian still cannot activate; the guardian can.
	if err := f.res.ActivateProxy(f.ctx, f.ds.Persona[demo.AdultBoth], nora.ID); !errors.Is(err, app.ErrProxyNotAllowed) {
		t.Fatalf("non-guardian activates: %v", err)
	}
	if err := f.res.ActivateProxy(f.ctx, mikael, nora.ID); err != nil {
		t.Fatalf("the guardian activates the child's login: %v", err)
	}
	for name, call := range calls {
		err := call()
		var pe *app.ProxyError
		if errors.As(err, &pe) || (err != nil && name != "submit") {
			// Submit with no answers is refused by the form, not the proxy.
			t.Errorf("%s after activation: %v", name, err)
		}
	}
}

// TestR5_DeceasedChildHasOnlyTheDeceasedReason: staff looking up a child
// under 13 who has died see "avliden" alone, not also a made-up "no
// guardian activated the login" (whether the login was activated or not).
func TestR5_DeceasedChildHasOnlyTheDeceasedReason(t *testing.T) {
	f := newFixture(t)
	for _, key := range []string{demo.Child12y11m, demo.ChildNotActivated} {
		if err := f.store.UpdateResident(f.ctx, f.ds.Persona[key], func(r *app.Resident) error {
			r.Register.Deceased = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if r := f.reach(key); fmt.Sprint(r.Blocking) != fmt.Sprint([]app.BlockReason{app.BlockDeceased}) {
			t.Errorf("%s, deceased: blocking %v, want only %s", key, r.Blocking, app.BlockDeceased)
		}
	}
}
