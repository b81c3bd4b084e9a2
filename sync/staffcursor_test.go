package sync_test

import (
	"context"
	"errors"
	stdsync "sync"
	"testing"

	"mottagning/app/demo"
	"mottagning/storage"
	msync "mottagning/sync"
)

// switchingRemote makes the desktop sync as another staff member while a
// pull's first page is on its way (a sign-in in between), as
// storage.SaveSyncToken does when sync.Tokens stores a new session.
type switchingRemote struct {
	msync.Remote
	switchTo func()
	once     stdsync.Once
}

func (r *switchingRemote) SyncPull(ctx context.Context, tok, cursor string, limit int) (*msync.PullResponse, error) {
	resp, err := r.Remote.SyncPull(ctx, tok, cursor, limit)
	r.once.Do(r.switchTo)
	return resp, err
}

// The pull cursor belongs to the staff member the desktop syncs as (the
// owner of its refresh token): one's first pull on a replica a colleague
// filled starts from their own cursor, writes its lists at once and
// raises no reply alert; a page pulled for one staff member is not
// applied once the desktop syncs as another; each cursor waits for its
// owner.
func TestPull_CursorPerStaffMember(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	anna, bjorn := ce.staff(demo.StaffReceiver), ce.staff(demo.StaffHandler)
	d := newDesktop(t, ce, "")
	d.signIn(anna, centrum)
	d.mustSync()
	// The sign-in stored the owner with the token (sync.Tokens): the
	// first sync went to Anna's own cursor.
	st, annas := d.store.SyncPosition()
	if st != anna.ID || annas == "" {
		t.Fatalf("after Anna's first pull: %q, %q", st, annas)
	}

	// Björn signs in while a pull of Anna's is under way: her page is
	// not applied; the next sync is Björn's, from his own cursor.
	tok, _ := d.store.SyncToken(ctx)
	sw := &switchingRemote{Remote: d.c, switchTo: func() {
		if err := d.store.SaveSyncToken(ctx, bjorn.ID, tok); err != nil {
			t.Error(err)
		}
	}}
	d.eng = msync.New(msync.Options{Replica: d.store, Remote: sw, Tokens: d.tokens, DeviceID: d.store.SyncDevice(),
		Log: quiet, NoEvents: true, OnChange: d.cases.ServerChanged})
	if err := d.eng.SyncOnce(ctx); !errors.Is(err, storage.ErrSyncStaffChanged) {
		t.Fatalf("Anna's pull after Björn's sign-in = %v", err)
	}
	if st, c := d.store.SyncPosition(); st != bjorn.ID || c != "" {
		t.Fatalf("Björn's position = %q, %q", st, c)
	}
	d.mustSync()
	if _, c := d.store.SyncPosition(); c == "" {
		t.Fatal("Björn's pull left his cursor empty")
	}
	// Anna again: her cursor waited for her.
	if err := d.store.SaveSyncToken(ctx, anna.ID, tok); err != nil {
		t.Fatal(err)
	}
	if _, c := d.store.SyncPosition(); c != annas {
		t.Fatalf("Anna's cursor %q, want %q", c, annas)
	}
	d.mustSync()
}
