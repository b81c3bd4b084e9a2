package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
	"mottagning/client"
)

// reasonChildLocked is the wire code of app.ProxyChildLocked, written out:
// it is a stable code clients match on.
const reasonChildLocked = "barnet-last"

// proxyRoutes are the resident routes that take a child: {owner} in the
// path or body, or {case} (a case of the child). Taken from
// residentRoutes, so a new route about an owner is covered here too.
func proxyRoutes(t *testing.T) []residentRoute {
	t.Helper()
	var out []residentRoute
	for _, r := range residentRoutes {
		if strings.Contains(r.path+r.body, "{owner}") || strings.Contains(r.path, "{case}") {
			out = append(out, r)
		}
	}
	if len(out) != 10 {
		t.Fatalf("%d resident routes take a child, want 10 (inbox, start, read, reply, activate, contact, e-services, submission, log JSON, log PDF): %v", len(out), out)
	}
	return out
}

// storedState is what a refused call must not change: the child's
// resident record, the child's cases with their messages and read
// receipts, and the extracts recorded for the child.
func (e *env) storedState(child app.ID) string {
	e.t.Helper()
	r, err := e.store.Resident(e.ctx, child)
	if err != nil {
		e.t.Fatal(err)
	}
	cs, err := e.store.CasesOfResident(e.ctx, child)
	if err != nil {
		e.t.Fatal(err)
	}
	var threads []*app.Thread
	for _, c := range cs {
		th, err := e.store.Thread(e.ctx, c.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		threads = append(threads, th)
	}
	b, err := json.Marshal(struct {
		R       *app.Resident
		T       []*app.Thread
		Exports int
	}{r, threads, e.residentExports(child)})
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// TestR10_GuardianOfLockedChildRefusedOnEveryProxyRoute: when a child's
// login is locked (here by kontaktcenter on request, R10), a guardian who
// could act for the child a moment ago is refused on every resident route
// that takes the child — the inbox, reading, answering and starting cases,
// the e-service listing and submission, activating, the contact details
// under the child's settings and the log extract as JSON and PDF — with
// the stable code proxy_not_allowed and the reason barnet-last in Swedish,
// and nothing stored changes. The guardian's own session stays usable;
// the child list says why; kontaktcenter's unlock gives proxy mode back.
func TestR10_GuardianOfLockedChildRefusedOnEveryProxyRoute(t *testing.T) {
	e := newEnv(t)
	es := e.publishLocal("Låst barn", form.Definition{Availability: form.Availability{Proxy: true}})
	elsa := e.persona(demo.Child12y11m)
	caseID := e.openCaseOf(elsa)
	ake := e.signIn(demo.GuardianNotified)
	fill := strings.NewReplacer("{owner}", string(elsa.ID), "{case}", string(caseID), "{clinic}", e.clinic(0), "{eservice}", string(es)).Replace

	// Before the lock Åke acts for Elsa: the refusals below are the lock's.
	if _, err := e.c.Inbox(e.ctx, ake, string(elsa.ID)); err != nil {
		t.Fatalf("inbox of the child before the lock: %v", err)
	}
	if err := regionLock(e.ctx, e.c, e.staff(demo.StaffContact), elsa.PNR.String(), true); err != nil {
		t.Fatalf("kontaktcenter locks the child's login: %v", err)
	}
	before := e.storedState(elsa.ID)
	wantMsg := app.ProxyReason(reasonChildLocked).Message()
	if wantMsg == reasonChildLocked || !strings.Contains(wantMsg, "låst") {
		t.Errorf("reason %s has no Swedish text: %q", reasonChildLocked, wantMsg)
	}
	for _, r := range proxyRoutes(t) {
		what := r.key() + " as guardian of a locked child"
		status, body := e.raw(r.method, fill(r.path), ake, fill(r.body))
		if status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403: %.120q", what, status, body)
			continue
		}
		e.refused(t, what, status, body, "proxy_not_allowed")
		var eb client.Error
		_ = json.Unmarshal(body, &eb)
		if len(eb.Reasons) != 1 || eb.Reasons[0].Code != reasonChildLocked || eb.Reasons[0].Message != wantMsg {
			t.Errorf("%s: reasons %+v, want exactly [%s %q]", what, eb.Reasons, reasonChildLocked, wantMsg)
		}
	}
	if after := e.storedState(elsa.ID); after != before {
		t.Errorf("refused calls changed stored data:\nbefore %s\nafter  %s", before, after)
	}

	// The guardian's own routes still work, and the list of children says
	// why proxy mode is off, without the contact details.
	kids, err := e.c.Children(e.ctx, ake)
	if err != nil || len(kids) != 1 || kids[0].ID != string(elsa.ID) || kids[0].MayAct || kids[0].Reason == nil ||
		kids[0].Reason.Code != reasonChildLocked || kids[0].Reason.Message != wantMsg || kids[0].Contact != (client.GuardianContact{}) {
		t.Fatalf("children = %+v, %v; want Elsa, may not act, reason %s", kids, err, reasonChildLocked)
	}
	if _, err := e.c.EServiceForm(e.ctx, ake, string(es)); err != nil {
		t.Fatalf("a published form (about nobody) for the guardian: %v", err)
	}
	if _, err := e.c.Inbox(e.ctx, ake, ""); err != nil {
		t.Fatalf("the guardian's own inbox: %v", err)
	}

	// Kontaktcenter unlocks on request: proxy mode is back.
	if err := regionLock(e.ctx, e.c, e.staff(demo.StaffContact), elsa.PNR.String(), false); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if _, err := e.c.Inbox(e.ctx, ake, string(elsa.ID)); err != nil {
		t.Fatalf("inbox of the child after the unlock: %v", err)
	}
}

// TestR10_StaffSeeLockedChildUnreachable: staff looking up a child whose
// login is locked see the lock as the one blocking reason (not a made-up
// "no guardian activated"), no guardian may act and nobody would be
// notified; Skicka ärende is refused with that reason; and a staff reply
// on the child's existing case is refused with it too (issue 14: it used
// to land in the locked inbox) and notifies no guardian (R6 stops at
// R10), although the same reply before the lock did.
func TestR10_StaffSeeLockedChildUnreachable(t *testing.T) {
	e := newEnv(t)
	ctx, c := e.ctx, e.c
	elsa := e.persona(demo.Child12y11m)
	anna := e.staff(demo.StaffReceiver)
	centrum := e.clinic(0)
	caseID := string(e.openCaseOf(elsa))

	// Before the lock: Åke filled in contact details under Elsa's
	// settings, so a reply notifies him.
	if _, err := c.Reply(ctx, anna, centrum, caseID, "Svar före låsningen."); err != nil {
		t.Fatalf("reply before the lock: %v", err)
	}
	ns, err := c.CaseNotifications(ctx, anna, centrum, caseID)
	if err != nil || len(ns) == 0 {
		t.Fatalf("notifications before the lock = %+v, %v; want the guardian's", ns, err)
	}
	notifiedBefore := len(ns)

	if err := regionLock(ctx, c, e.staff(demo.StaffContact), elsa.PNR.String(), true); err != nil {
		t.Fatal(err)
	}
	v, err := c.LookupResident(ctx, anna, centrum, elsa.PNR.String())
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, b := range v.Reach.Blocking {
		codes = append(codes, b.Code)
	}
	if !v.LoginLocked || v.Reach.OK || fmt.Sprint(codes) != fmt.Sprint([]string{string(app.BlockLoginLocked)}) ||
		v.Reach.NotifyCount != 0 || len(v.Reach.NotifiedGuardians) != 0 {
		t.Fatalf("staff see %+v (blocking %v); want locked, blocked only by %s, nobody notified", v, codes, app.BlockLoginLocked)
	}
	if len(v.Guardians) != 2 {
		t.Fatalf("guardians = %+v", v.Guardians)
	}
	for _, g := range v.Guardians {
		if g.MayAct || g.Notified {
			t.Errorf("guardian %s of a locked child: may act %v, notified %v; want neither", g.ID, g.MayAct, g.Notified)
		}
	}

	_, err = c.SendCase(ctx, anna, centrum, client.SendCaseRequest{TemplateID: e.templateOf(0, app.KindQuestion),
		ResidentID: string(elsa.ID), Subject: "Fråga", Text: "Hur mår Elsa?"})
	if ae := wantCode(t, err, "unreachable"); len(ae.Reasons) != 1 || ae.Reasons[0].Code != string(app.BlockLoginLocked) {
		t.Fatalf("send to a locked child: reasons %+v, want only %s", ae.Reasons, app.BlockLoginLocked)
	}

	_, err = c.Reply(ctx, anna, centrum, caseID, "Svar efter låsningen.")
	if ae := wantCode(t, err, "unreachable"); len(ae.Reasons) != 1 || ae.Reasons[0].Code != string(app.BlockLoginLocked) {
		t.Fatalf("reply to a locked child: reasons %+v, want only %s", ae.Reasons, app.BlockLoginLocked)
	}
	ns, err = c.CaseNotifications(ctx, anna, centrum, caseID)
	if err != nil || len(ns) != notifiedBefore {
		t.Fatalf("notifications after the lock = %d, %v; want still %d (none for a locked child)", len(ns), err, notifiedBefore)
	}
}
