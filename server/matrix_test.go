package server

import (
	"fmt"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// TestRoleMatrix is the access-control matrix of the staff API (issue 8,
// item 2): every staff endpoint × every role of shared/DOMAIN.md's role
// table, in the staff member's own clinic, and each cell must come out
// exactly as the table says — allowed cells succeed (2xx), the others are
// refused with a stable code. TestAccessMatrix adds the other
// relationships (other clinic, no/forged/expired/revoked token, residents).
// Each cell gets a fresh server, so that one cell's write (closing the
// case, say) cannot change the next cell's answer.
func TestRoleMatrix(t *testing.T) {
	if testing.Short() {
		// make test runs it once, without -race; the -race run is -short.
		t.Skip("the role matrix starts a server per cell")
	}
	roles := []struct {
		key  string
		name string
	}{
		{demo.StaffReceiver, "ärendemottagare+ärendehanterare"},
		{demo.StaffHandler, "ärendehanterare"},
		{demo.StaffLocalAdmin, "lokal administratör"},
		{demo.StaffPermAdmin, "behörighetsadministratör"},
		{demo.StaffAuditor, "granskare"},
		{demo.StaffContact, "kontaktcenter (region)"},
	}
	// allowed[endpoint index] lists the roles that may use it. The case is
	// one assigned to the ärendehanterare, so that both case roles may work
	// on it; the lokal administratör blocks guardians and sends the test
	// notification; kontaktcenter locks and seals logins.
	recv, hand, local, contact := demo.StaffReceiver, demo.StaffHandler, demo.StaffLocalAdmin, demo.StaffContact
	allowed := map[string][]string{
		"GET /api/staff/clinics/{clinic}/cases":                                        {recv},
		"GET /api/staff/clinics/{clinic}/cases?list=mine":                              {recv, hand},
		"POST /api/staff/clinics/{clinic}/cases/search":                                {recv},
		"POST /api/staff/clinics/{clinic}/cases":                                       {recv, hand},
		"GET /api/staff/clinics/{clinic}/cases/{case}":                                 {recv, hand},
		"POST /api/staff/clinics/{clinic}/cases/{case}/replies":                        {recv, hand},
		"POST /api/staff/clinics/{clinic}/cases/{case}/notes":                          {recv, hand},
		"POST /api/staff/clinics/{clinic}/cases/{case}/assign":                         {recv},
		"POST /api/staff/clinics/{clinic}/cases/{case}/close":                          {recv, hand},
		"POST /api/staff/clinics/{clinic}/cases/{case}/reopen":                         {},
		"GET /api/staff/clinics/{clinic}/cases/{case}/notifications":                   {recv, hand},
		"POST /api/staff/clinics/{clinic}/residents/lookup":                            {recv, hand},
		"GET /api/staff/clinics/{clinic}/templates":                                    {recv, hand, local},
		"POST /api/staff/clinics/{clinic}/children/{child}/guardians/{guardian}/block": {local},
		"POST /api/staff/clinics/{clinic}/notifications/test":                          {local},
		"POST /api/staff/region/residents/find":                                        {contact},
		"POST /api/staff/region/residents/lock":                                        {contact},
		"POST /api/staff/region/residents/seal":                                        {contact},
	}
	for _, ep := range staffEndpoints {
		key := ep.method + " " + ep.path
		who, ok := allowed[key]
		if !ok {
			t.Errorf("%s: not in the matrix; add its row", key)
			continue
		}
		for _, r := range roles {
			may := false
			for _, w := range who {
				may = may || w == r.key
			}
			t.Run(fmt.Sprintf("%s as %s", key, r.name), func(t *testing.T) {
				e := newEnv(t)
				centrum := e.ds.Clinics[0]
				bjorn := e.ds.StaffBy[demo.StaffHandler]
				var caseID app.ID
				for _, th := range e.ds.Threads {
					c := th.Case
					if c.ClinicID == centrum.ID && c.AssigneeID == bjorn && c.Status != app.StatusClosed && c.Answerable() {
						caseID = c.ID
						break
					}
				}
				karin := e.persona(demo.AdultSMS)
				elsa := e.persona(demo.Child12y11m)
				tg := target{clinic: string(centrum.ID), caseID: string(caseID), template: e.templateOf(0, app.KindQuestion),
					resident: string(karin.ID), child: string(elsa.ID), guardian: string(e.persona(demo.GuardianNotified).ID),
					staff: string(bjorn), pnr: karin.PNR.String()}
				st, body := e.raw(ep.method, tg.fill(ep.path), e.staff(r.key), tg.fill(ep.body))
				switch {
				case may && (st < 200 || st > 299):
					// A test notification without a configured channel is
					// refused for the configuration, not the role.
					if ep.path == "/api/staff/clinics/{clinic}/notifications/test" && st == 400 {
						return
					}
					t.Errorf("allowed cell refused: %d %s", st, body)
				case !may && st < 400:
					t.Errorf("refused cell allowed: %d %s", st, body)
				case !may:
					e.refused(t, key, st, body, "forbidden", "invalid", "conflict", "not_found")
				}
			})
		}
	}
}
