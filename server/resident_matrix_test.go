package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
)

// residentRoute is one resident endpoint. {owner} is whose data the call is
// about (the caller, or the child in proxy mode), {case} an open e-service
// case of the owner at Vårdcentralen Centrum, {clinic} Centrum and
// {eservice} a local e-service of Centrum open to proxy mode. ok is the
// status of an allowed call.
type residentRoute struct {
	method, path, body string
	ok                 int
}

func (r residentRoute) key() string { return r.method + " " + r.path }

// residentRoutes are every resident endpoint that needs a session
// (sign-in itself is checked apart). Sign-out and lock come last: they end
// sessions.
var residentRoutes = []residentRoute{
	{"GET", "/api/resident/me", "", 200},
	{"GET", "/api/resident/clinics", "", 200},
	{"GET", "/api/resident/children", "", 200},
	{"PUT", "/api/resident/settings", `{"mobile":"","email":"","notifySms":false,"notifyEmail":false,"shareWithCare":false}`, 200},
	{"PUT", "/api/resident/journal-seal", `{"sealed":false}`, 204},
	{"GET", "/api/resident/cases?for={owner}", "", 200},
	{"POST", "/api/resident/cases", `{"for":"{owner}","clinicId":"{clinic}","eserviceId":"std-kontakta-mottagningen","subject":"Hej","text":"Hej"}`, 201},
	{"GET", "/api/resident/cases/{case}", "", 200},
	{"POST", "/api/resident/cases/{case}/replies", `{"text":"Hej"}`, 200},
	{"POST", "/api/resident/children/{owner}/activate", "", 204},
	{"PUT", "/api/resident/children/{owner}/contact", `{"mobile":"0701740650","email":""}`, 200},
	{"GET", "/api/resident/clinics/{clinic}/eservices?for={owner}", "", 200},
	{"GET", "/api/resident/eservices/{eservice}/form", "", 200},
	{"POST", "/api/resident/eservices/{eservice}/submissions", `{"clinicId":"{clinic}","for":"{owner}","answers":{"symtom":[{"text":"Hosta"}]}}`, 201},
	{"GET", "/api/resident/access-log?for={owner}", "", 200},
	{"GET", "/api/resident/access-log/pdf?for={owner}", "", 200},
	{"POST", "/api/resident/auth/signout", "", 204},
	{"POST", "/api/resident/lock", "", 204},
}

// The relationships of the resident matrix.
const (
	relSelf            = "self, adult"
	relSelfProtected   = "self, protected identity (R9)"
	relProxyUnder13    = "guardian of a child of 12 years 11 months, proxy (R5)"
	relProxyTurned13   = "guardian of a child who turned 13 (R8)"
	relGuardianProt    = "guardian with protected identity (R7)"
	relChildProt       = "guardian of a child with protected identity (R7)"
	relBlocked         = "blocked guardian"
	relChildLocked     = "guardian of a child whose login is locked (R10)"
	relOther           = "another resident's data (R2)"
	relLockedSession   = "session open when the login was locked (R10)"
	relLockedByContact = "locked by kontaktcenter, sessions ended (R10)"
	relNoToken         = "no token"
	relExpired         = "expired token"
	relForged          = "forged token"
	relStaffToken      = "staff token"
)

// TestR2_ResidentAccessMatrix is the access-control matrix of the resident
// API (issue 8, item 2): every resident endpoint × every relationship of a
// resident to the data, and exactly the allowed cells succeed (with the
// endpoint's status); every other cell is refused with the relationship's
// stable code and leaks nothing. TestRoleMatrix is the staff side.
//
// The allowed cells: endpoints about the caller only (me, clinics,
// children, settings, journal seal, a published form, sign-out, lock) for
// any usable session; endpoints about an owner (inbox, starting and
// reading and answering cases, e-services, submissions, the log extract)
// for oneself and for a child under 13 one may act for; activating and
// contact details under a child's settings only for such a child (not
// for one whose own login is locked, R10). A
// locked login is refused everywhere but sign-out, even with a session
// opened before the lock; an ended, expired, forged or staff token is
// unauthenticated. Each relationship runs on its own server (in parallel),
// so one row's writes (a lock, a sign-out) cannot change another's cells.
func TestR2_ResidentAccessMatrix(t *testing.T) {
	selfRoutes := []string{
		"GET /api/resident/me", "GET /api/resident/clinics", "GET /api/resident/children", "PUT /api/resident/settings",
		"PUT /api/resident/journal-seal", "GET /api/resident/eservices/{eservice}/form", "POST /api/resident/lock",
	}
	ownerRoutes := []string{
		"GET /api/resident/cases?for={owner}", "POST /api/resident/cases", "GET /api/resident/cases/{case}",
		"POST /api/resident/cases/{case}/replies", "GET /api/resident/clinics/{clinic}/eservices?for={owner}",
		"POST /api/resident/eservices/{eservice}/submissions", "GET /api/resident/access-log?for={owner}",
		"GET /api/resident/access-log/pdf?for={owner}",
	}
	usable := []string{relSelf, relSelfProtected, relProxyUnder13, relProxyTurned13, relGuardianProt, relChildProt, relBlocked, relChildLocked, relOther}
	mayAct := []string{relSelf, relSelfProtected, relProxyUnder13}
	allowed := map[string][]string{
		"POST /api/resident/auth/signout":                     {relSelf, relSelfProtected, relProxyUnder13, relProxyTurned13, relGuardianProt, relChildProt, relBlocked, relChildLocked, relOther, relLockedSession},
		"POST /api/resident/children/{owner}/activate":        {relProxyUnder13},
		"PUT /api/resident/children/{owner}/contact":          {relProxyUnder13},
		"GET /api/resident/eservices/{eservice}/form":         usable,
		"GET /api/resident/access-log/pdf?for={owner}":        mayAct,
		"GET /api/resident/access-log?for={owner}":            mayAct,
		"POST /api/resident/eservices/{eservice}/submissions": mayAct,
	}
	for _, k := range selfRoutes {
		allowed[k] = usable
	}
	for _, k := range ownerRoutes {
		allowed[k] = mayAct
	}
	for _, r := range residentRoutes {
		if _, ok := allowed[r.key()]; !ok {
			t.Fatalf("%s: not in the matrix; add its row", r.key())
		}
	}

	// Each relationship: the caller (two sessions: one for every call and
	// sign-out, one for the lock), whose data, and the code of a refusal.
	type relation struct {
		name    string
		refusal string
		setup   func(e *env) (tokA, tokB string, owner *app.Resident)
	}
	signIn2 := func(e *env, key string) (string, string) { return e.signIn(key), e.signIn(key) }
	persona := func(actor, owner string) func(e *env) (string, string, *app.Resident) {
		return func(e *env) (string, string, *app.Resident) {
			a, b := signIn2(e, actor)
			return a, b, e.persona(owner)
		}
	}
	relations := []relation{
		{relSelf, "forbidden", persona(demo.AdultEmail, demo.AdultEmail)},
		{relSelfProtected, "forbidden", persona(demo.Protected, demo.Protected)},
		{relProxyUnder13, "", persona(demo.GuardianNotified, demo.Child12y11m)},
		{relProxyTurned13, "proxy_not_allowed", func(e *env) (string, string, *app.Resident) {
			e.clock.Advance(72 * time.Hour) // Hugo turns 13 tomorrow; three days on
			a, b := signIn2(e, demo.GuardianOf13)
			return a, b, e.persona(demo.ChildTurns13)
		}},
		{relGuardianProt, "proxy_not_allowed", persona(demo.GuardianProtected, demo.ChildProtectedGuard)},
		{relChildProt, "proxy_not_allowed", persona(demo.GuardianOfProtected, demo.ChildProtected)},
		{relBlocked, "proxy_not_allowed", persona(demo.GuardianBlocked, demo.Child12y11m)},
		{relChildLocked, "proxy_not_allowed", func(e *env) (string, string, *app.Resident) {
			// Åke may act for Elsa until kontaktcenter locks her login
			// on request (R10): then he is refused as she would be.
			a, b := signIn2(e, demo.GuardianNotified)
			elsa := e.persona(demo.Child12y11m)
			if err := regionLock(e.ctx, e.c, e.staff(demo.StaffContact), elsa.PNR.String(), true); err != nil {
				e.t.Fatal(err)
			}
			return a, b, elsa
		}},
		{relOther, "proxy_not_allowed", persona(demo.AdultEmail, demo.AdultSMS)},
		{relLockedSession, "login_locked", func(e *env) (string, string, *app.Resident) {
			a, b := signIn2(e, demo.AdultSMS)
			karin := e.persona(demo.AdultSMS)
			// Locked behind the server's back (not through its lock
			// endpoints, which end the sessions): the sessions live on.
			if err := e.srv.Gate().UpdateResident(e.ctx, karin.ID, func(r *app.Resident) error { r.Account.LoginLocked = true; return nil }); err != nil {
				e.t.Fatal(err)
			}
			return a, b, karin
		}},
		{relLockedByContact, "unauthenticated", func(e *env) (string, string, *app.Resident) {
			a, b := signIn2(e, demo.AdultSMS)
			karin := e.persona(demo.AdultSMS)
			if err := regionLock(e.ctx, e.c, e.staff(demo.StaffContact), karin.PNR.String(), true); err != nil {
				e.t.Fatal(err)
			}
			return a, b, karin
		}},
		{relNoToken, "unauthenticated", func(e *env) (string, string, *app.Resident) { return "", "", e.persona(demo.AdultEmail) }},
		{relExpired, "unauthenticated", func(e *env) (string, string, *app.Resident) {
			a, b := signIn2(e, demo.AdultEmail)
			e.clock.Advance(31 * time.Minute) // sessions last 30 minutes
			return a, b, e.persona(demo.AdultEmail)
		}},
		{relForged, "unauthenticated", func(e *env) (string, string, *app.Resident) {
			return "r1." + strings.Repeat("A", 43), "r1.forged", e.persona(demo.AdultEmail)
		}},
		{relStaffToken, "unauthenticated", func(e *env) (string, string, *app.Resident) {
			tok := e.staff(demo.StaffReceiver)
			return tok, tok, e.persona(demo.AdultEmail)
		}},
	}

	for _, rel := range relations {
		t.Run(rel.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			es := e.publishLocal("Matris", form.Definition{Availability: form.Availability{Proxy: true}})
			tokA, tokB, owner := rel.setup(e)
			caseID := e.openCaseOf(owner)
			fill := strings.NewReplacer("{owner}", string(owner.ID), "{case}", string(caseID), "{clinic}", e.clinic(0), "{eservice}", string(es)).Replace
			for _, r := range residentRoutes {
				tok := tokA
				if r.key() == "POST /api/resident/lock" {
					tok = tokB // tokA was signed out just before
				}
				status, body := e.raw(r.method, fill(r.path), tok, fill(r.body))
				what := fmt.Sprintf("%s as %s", r.key(), rel.name)
				if slices.Contains(allowed[r.key()], rel.name) {
					if status != r.ok {
						t.Errorf("%s: status %d, want %d (allowed): %.200s", what, status, r.ok, body)
					}
					continue
				}
				want := ErrorCodes[rel.refusal].Status
				if status != want {
					t.Errorf("%s: status %d, want %d %s: %.200s", what, status, want, rel.refusal, body)
				}
				e.refused(t, what, status, body, rel.refusal)
			}
		})
	}

	// Sign-in (no session yet): refused for a locked login (R10), the
	// deceased and a child under 13 (R5: the proxy is the way in); the
	// first sign-in of one who never signed in activates.
	t.Run("sign-in", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		for _, c := range []struct {
			key, code string
		}{
			{demo.AdultEmail, ""}, {demo.Protected, ""}, {demo.GuardianNotified, ""}, {demo.NeverSignedIn, ""},
			{demo.Locked, "login_locked"}, {demo.Deceased, "forbidden"}, {demo.Child12y11m, "child_under_13"},
		} {
			s, err := e.c.ResidentSignIn(e.ctx, e.persona(c.key).PNR.String(), time.Millisecond)
			if c.code == "" {
				if err != nil || s.Token == "" {
					t.Errorf("sign-in of %s: %v", c.key, err)
				}
				continue
			}
			if ae := wantCode(t, err, c.code); ae.Status != http.StatusForbidden {
				t.Errorf("sign-in of %s: status %d", c.key, ae.Status)
			}
		}
	})
}

// openCaseOf creates an open e-service case of owner at Centrum (as if the
// owner had started it) and returns its id.
func (e *env) openCaseOf(owner *app.Resident) app.ID {
	e.t.Helper()
	now := e.clock.Now()
	c := app.Case{ID: app.NewID(now), ClinicID: e.ds.Clinics[0].ID, ResidentID: owner.ID, Kind: app.KindEService,
		EServiceID: "std-kontakta-mottagningen", Subject: "Matris", Status: app.StatusNew, StartedBy: app.StartedByResident,
		CreatedAt: now, LastActivity: now, UnreadByStaff: true}
	th := &app.Thread{Case: c, Messages: []app.Message{{ID: app.NewID(now), CaseID: c.ID, Author: app.AuthorResident,
		AuthorID: owner.ID, At: now, Text: "Fråga"}}}
	if err := e.srv.Gate().CreateThread(e.ctx, th, app.Write{}); err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}
