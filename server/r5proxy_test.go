package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
	"mottagning/client"
)

// TestR5_GuardianOfNotActivatedChildRefusedOnEveryProxyRoute: staff see a
// child whose login no guardian activated as unreachable
// (barn-ej-aktiverat); a guardian is refused on every resident route that
// takes the child — but activating — with proxy_not_allowed and that same
// code as the reason, in Swedish, and nothing stored changes. The child
// list says why; activating gives proxy mode.
func TestR5_GuardianOfNotActivatedChildRefusedOnEveryProxyRoute(t *testing.T) {
	e := newEnv(t)
	es := e.publishLocal("Ej aktiverat barn", form.Definition{Availability: form.Availability{Proxy: true}})
	nora := e.persona(demo.ChildNotActivated)
	caseID := e.openCaseOf(nora)
	mikael := e.signIn(demo.GuardianInactive)
	fill := strings.NewReplacer("{owner}", string(nora.ID), "{case}", string(caseID), "{clinic}", e.clinic(0), "{eservice}", string(es)).Replace
	const code = string(app.BlockChildNotActivated) // what staff see, written out: a stable code

	v, err := e.c.LookupResident(e.ctx, e.staff(demo.StaffReceiver), e.clinic(0), nora.PNR.String())
	if err != nil || v.Reach.OK || len(v.Reach.Blocking) != 1 || v.Reach.Blocking[0].Code != code {
		t.Fatalf("staff see %+v, %v; want blocked by %s", v, err, code)
	}
	before := e.storedState(nora.ID)
	wantMsg := app.ProxyReason(code).Message()
	if wantMsg == code || !strings.Contains(wantMsg, "aktiverad") {
		t.Errorf("reason %s has no Swedish text: %q", code, wantMsg)
	}
	const activate = "POST /api/resident/children/{owner}/activate"
	for _, r := range proxyRoutes(t) {
		if r.key() == activate {
			continue
		}
		what := r.key() + " as guardian of a child nobody activated"
		status, body := e.raw(r.method, fill(r.path), mikael, fill(r.body))
		if status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403: %.120q", what, status, body)
			continue
		}
		e.refused(t, what, status, body, "proxy_not_allowed")
		var eb client.Error
		_ = json.Unmarshal(body, &eb)
		if len(eb.Reasons) != 1 || eb.Reasons[0].Code != code || eb.Reasons[0].Message != wantMsg {
			t.Errorf("%s: reasons %+v, want exactly [%s %q]", what, eb.Reasons, code, wantMsg)
		}
	}
	if after := e.storedState(nora.ID); after != before {
		t.Errorf("refused calls changed stored data:\nbefore %s\nafter  %s", before, after)
	}
	kids, err := e.c.Children(e.ctx, mikael)
	if err != nil || len(kids) != 1 || kids[0].MayAct || kids[0].ProxyActivated || kids[0].Reason == nil || kids[0].Reason.Code != code {
		t.Fatalf("children = %+v, %v; want Nora, not activated, may not act, reason %s", kids, err, code)
	}

	// Activating is the way in; then proxy mode works and staff may send.
	if status, body := e.raw("POST", fill("/api/resident/children/{owner}/activate"), mikael, ""); status != http.StatusNoContent {
		t.Fatalf("activate: %d %s", status, body)
	}
	if _, err := e.c.Inbox(e.ctx, mikael, string(nora.ID)); err != nil {
		t.Fatalf("inbox of the child after activation: %v", err)
	}
	if kids, err := e.c.Children(e.ctx, mikael); err != nil || len(kids) != 1 || !kids[0].MayAct || !kids[0].ProxyActivated {
		t.Fatalf("children after activation = %+v, %v", kids, err)
	}
	if v, err := e.c.LookupResident(e.ctx, e.staff(demo.StaffReceiver), e.clinic(0), nora.PNR.String()); err != nil || !v.Reach.OK {
		t.Fatalf("staff after activation see %+v, %v; want reachable", v, err)
	}
}
