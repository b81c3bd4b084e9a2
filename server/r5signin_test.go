package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"mottagning/app/demo"
)

// TestR5_ChildUnder13SignInRefused: a child under 13 cannot sign in with
// their own e-ID (the proxy is the way in, R5): the e-ID collect answers
// child_under_13 with its Swedish message, no session starts and the
// account records no sign-in; the guardian's sign-in and proxy mode work.
func TestR5_ChildUnder13SignInRefused(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{demo.Child12y11m, demo.ChildNotActivated, demo.ChildTurns13} {
		child := e.persona(key)
		stored, err := e.store.Resident(e.ctx, child.ID)
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.c.ResidentSignIn(e.ctx, child.PNR.String(), time.Millisecond)
		ae := wantCode(t, err, "child_under_13")
		if s != nil || ae.Status != http.StatusForbidden || !strings.Contains(ae.Message, "ombudsläge") {
			t.Errorf("sign-in of %s: %+v, %+v; want 403 child_under_13 with the Swedish reason", key, s, ae)
		}
		after, err := e.store.Resident(e.ctx, child.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !after.Account.LastSignIn.Equal(stored.Account.LastSignIn) || after.Account.Activated != stored.Account.Activated {
			t.Errorf("a refused sign-in of %s changed the account: %+v → %+v", key, stored.Account, after.Account)
		}
	}
	ake := e.signIn(demo.GuardianNotified)
	if _, err := e.c.Inbox(e.ctx, ake, string(e.persona(demo.Child12y11m).ID)); err != nil {
		t.Fatalf("the guardian in proxy mode: %v", err)
	}
	// Three days on Hugo is 13 and signs in himself.
	e.clock.Advance(72 * time.Hour)
	if _, err := e.c.ResidentSignIn(e.ctx, e.persona(demo.ChildTurns13).PNR.String(), time.Millisecond); err != nil {
		t.Fatalf("sign-in after the 13th birthday: %v", err)
	}
}
