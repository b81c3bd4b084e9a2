package sync_test

import (
	"context"
	"strings"
	stdsync "sync"
	"testing"

	"mottagning/app/demo"
	msync "mottagning/sync"
)

// staleRemote answers every pull after the first with the first page it
// got (a cache or proxy serving an old answer); everything else goes to
// the real server.
type staleRemote struct {
	msync.Remote
	mu    stdsync.Mutex
	first *msync.PullResponse
}

func (r *staleRemote) SyncPull(ctx context.Context, tok, cursor string, limit int) (*msync.PullResponse, error) {
	r.mu.Lock()
	first := r.first
	r.mu.Unlock()
	if first != nil {
		return first, nil
	}
	resp, err := r.Remote.SyncPull(ctx, tok, cursor, limit)
	if err == nil && resp.More {
		r.mu.Lock()
		r.first = resp
		r.mu.Unlock()
	}
	return resp, err
}

// A pull answer names the cursor it answers (docs/sync.md, Pull); a page
// meant for another request is refused and nothing of it is applied: the
// cursor stays where the last page it belongs to left it.
func TestPull_PageForAnotherCursorRefused(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	d := newDesktop(t, ce, "")
	d.signIn(ce.staff(demo.StaffReceiver), ce.ds.Clinics[0].ID)
	stale := &staleRemote{Remote: d.c}
	d.eng = msync.New(msync.Options{Replica: d.store, Remote: stale, Tokens: d.tokens, DeviceID: d.store.SyncDevice(),
		Log: quiet, NoEvents: true, PullLimit: 3})
	err := d.eng.SyncOnce(d.ctx)
	if err == nil || !strings.Contains(err.Error(), "the page answers cursor") {
		t.Fatalf("a page for another cursor: %v", err)
	}
	stale.mu.Lock()
	want := stale.first.Cursor
	stale.mu.Unlock()
	if got := d.store.SyncCursor(); got != want {
		t.Fatalf("cursor %q after the refused page, want %q (the first page's)", got, want)
	}
	// The real server again (a new engine; the refused one's prefetch may
	// still be ending): the sync completes.
	d.eng = msync.New(msync.Options{Replica: d.store, Remote: d.c, Tokens: d.tokens, DeviceID: d.store.SyncDevice(), Log: quiet, NoEvents: true})
	d.mustSync()
}
