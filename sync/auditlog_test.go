package sync_test

import (
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	msync "mottagning/sync"
)

// The granskare on a connected desktop reads the clinic's access log as
// the server holds it: what staff did on other desktops (sent with their
// access.record ops) and what the server recorded (the pulls that took
// case content to a device), through the server's role check; offline,
// this desktop's own log.
func TestAuditLog_GranskareReadsTheServersLog(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	anna, fredrik := ce.staff(demo.StaffReceiver), ce.staff(demo.StaffAuditor)
	a := newDesktop(t, ce, "")
	a.signIn(anna, centrum)
	a.mustSync()
	caseID := openCase(t, ce, centrum)
	if _, err := a.cases.OpenCase(ctx, a.sess, caseID); err != nil {
		t.Fatal(err)
	}
	a.mustSync() // the entry goes up with its access.record op

	g := newDesktop(t, ce, "")
	g.signIn(fredrik, centrum)
	g.mustSync()
	audit := &msync.AuditLog{AuditService: app.NewAuditService(g.store, app.SystemClock{}), Remote: g.c, Tokens: g.tokens}
	q := app.AuditQuery{From: time.Now().Add(-24 * time.Hour), To: time.Now().Add(time.Hour)}
	rows, err := audit.Entries(ctx, g.sess, q)
	if err != nil {
		t.Fatal(err)
	}
	var opened, pulled bool
	for _, r := range rows {
		if r.CaseID == caseID && r.StaffID == anna.ID {
			opened = opened || r.Action == app.AccessOpenCase
			pulled = pulled || r.Action == app.AccessSyncPull
		}
	}
	if !opened || !pulled {
		t.Fatalf("the granskare's log lacks Anna's opening (%v) or the pull to her desktop (%v) among %d rows", opened, pulled, len(rows))
	}
	// The desktop's own log holds none of that.
	local, err := audit.AuditService.Entries(ctx, g.sess, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range local {
		if r.StaffID == anna.ID {
			t.Fatal("the granskare's desktop holds Anna's entries locally")
		}
	}
	// Anna is no granskare: refused, on the server as here.
	aa := &msync.AuditLog{AuditService: app.NewAuditService(a.store, app.SystemClock{}), Remote: a.c, Tokens: a.tokens}
	if _, err := aa.Entries(ctx, a.sess, q); err == nil {
		t.Fatal("an ärendemottagare read the access log")
	}
}
