package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage"
	"mottagning/ui"
)

// contactCenterConnected is issue 18, item 3 on a connected desktop, the
// way main wires it (startSync's remoteContact): the kontaktcenter's
// Greta signs in against the real server binary, finds a resident by
// personnummer and locks the login with the identity check and the reason.
// The lock is on the server at once (the next lookup shows it) and was
// never queued. It returns the check that runs after the server is
// stopped: then nothing can be locked, and the screen is told the server
// cannot be reached (ui.ErrServerUnreachable), not that it refused.
// The desktop lives until parent ends.
func contactCenterConnected(t, parent *testing.T, addr, fp string) (offline func(t *testing.T)) {
	ctx, cancel := context.WithCancel(context.Background())
	parent.Cleanup(cancel)
	store, err := storage.Open(ctx, parent.TempDir(), storage.Options{NoSync: true, Encrypt: true, KeyParams: demo.PasswordParams})
	if err != nil {
		t.Fatal(err)
	}
	parent.Cleanup(func() { store.Close() })
	c, err := connectServerRepin(ctx, store, "https://"+addr, fp, false)
	if err != nil {
		t.Fatal(err)
	}
	clock := app.SystemClock{}
	conn, stop := startSync(ctx, store, c, app.NewCaseService(store, clock), clock, nil, func(error) {})
	parent.Cleanup(stop)
	greta, err := conn.auth.SignIn(ctx, "greta", demo.Password("greta"))
	if err != nil {
		t.Fatalf("Greta's sign-in: %v", err)
	}
	if !greta.HasRegion(app.RoleContactCenter) {
		t.Fatal("Greta has no kontaktcenter role")
	}
	ds := demo.Build(time.Now())
	pnr := ""
	for _, r := range ds.Residents {
		if r.ID == ds.Persona[demo.AdultSMS] {
			pnr = r.PNR.String()
		}
	}
	found, err := conn.contact.FindResident(ctx, greta, pnr)
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	if found.LoginLocked {
		t.Fatal("the demo resident is locked already")
	}
	req := app.LockRequest{PNR: pnr, Locked: true, Check: app.CheckIDDocument, Reason: app.ReasonLostEID}
	locked, err := conn.contact.SetLoginLock(ctx, greta, req)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	if !locked.LoginLocked || locked.Last == nil || locked.Last.Reason != app.ReasonLostEID {
		t.Fatalf("after the lock: %+v", locked)
	}
	again, err := conn.contact.FindResident(ctx, greta, pnr)
	if err != nil || !again.LoginLocked {
		t.Fatalf("the server does not hold the lock: %+v, %v", again, err)
	}
	if n, err := store.PendingCount(ctx); err != nil || n > 0 {
		t.Errorf("%d operations queued (%v): a lock must never wait in the queue", n, err)
	}
	// Without the identity check the server refuses, as an app error.
	if _, err := conn.contact.SetLoginLock(ctx, greta, app.LockRequest{PNR: pnr, Locked: false, Reason: app.ReasonResolved}); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("unlock without an identity check: %v, want app.ErrInvalid", err)
	}
	return func(t *testing.T) {
		_, err := conn.contact.SetLoginLock(ctx, greta, app.LockRequest{PNR: pnr, Locked: false, Check: app.CheckIDDocument, Reason: app.ReasonResolved})
		if !errors.Is(err, ui.ErrServerUnreachable) {
			t.Errorf("with the server stopped: %v, want ui.ErrServerUnreachable", err)
		}
	}
}
