package app_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
)

// publishForm builds and publishes a local e-service of clinic 0 with a
// required yes/no and a number that shows only after "Ja".
func publishForm(t *testing.T, f *fixture, def form.Definition) app.ID {
	t.Helper()
	b := app.NewEServiceBuilder(f.store, f.store, app.ClockFunc(func() time.Time { return f.now }))
	david := f.session(demo.StaffLocalAdmin, 0)
	e, err := b.Create(f.ctx, david, def.Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SaveDefinition(f.ctx, david, e.EService.ID, def); err != nil {
		t.Fatal(err)
	}
	d, _ := b.Draft(f.ctx, david, e.EService.ID)
	d.Items = []form.Item{
		{ID: "rokare", Type: form.TypeBoolean, Label: "Röker du?", Required: true},
		{ID: "antal", Type: form.TypeNumber, Label: "Hur många cigaretter per dag?", Required: true,
			EnableWhen: []form.Condition{{Item: "rokare", Op: form.OpEquals, Value: form.Value{Bool: true}}}},
	}
	if err := b.SaveDraft(f.ctx, david, e.EService.ID, d); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(f.ctx, david, e.EService.ID); err != nil {
		t.Fatal(err)
	}
	return e.EService.ID
}

func (f *fixture) caseCount(resident app.ID) int {
	cs, _ := f.store.CasesOfResident(f.ctx, resident)
	return len(cs)
}

// Issue 7 item 7, R15: a submission is validated by the same engine; a
// valid one becomes a case in the clinic's queue with the cleaned answers
// and the form version; an invalid one, or one answering a hidden item,
// stores nothing.
func TestR15_SubmitThroughPublishedForm(t *testing.T) {
	f := newFixture(t)
	id := publishForm(t, f, form.Definition{Name: "Hälsodeklaration", AutoReply: "Tack, vi återkommer inom en vecka."})
	r := f.resident(demo.AdultSMS)
	clinic := f.ds.Clinics[0].ID
	before := f.caseCount(r.ID)

	_, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: r.ID, Owner: r.ID, ClinicID: clinic, EServiceID: id,
		Answers: form.Answers{"rokare": {{Bool: true}}}})
	var ae *form.AnswersError
	if !errors.As(err, &ae) || !strings.Contains(ae.Fields[0].Text, "Hur många cigaretter per dag?") {
		t.Fatalf("a missing required answer: %v", err)
	}
	_, err = f.res.Submit(f.ctx, f.store, app.Submission{Actor: r.ID, Owner: r.ID, ClinicID: clinic, EServiceID: id,
		Answers: form.Answers{"rokare": {{Bool: false}}, "antal": {{Number: 10}}}})
	if !errors.Is(err, form.ErrHiddenAnswer) {
		t.Fatalf("an answer to a hidden item: %v", err)
	}
	if f.caseCount(r.ID) != before {
		t.Fatal("a rejected submission stored a case")
	}
	c, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: r.ID, Owner: r.ID, ClinicID: clinic, EServiceID: id,
		Answers: form.Answers{"rokare": {{Bool: true}}, "antal": {{Number: 10}}}})
	if err != nil {
		t.Fatal(err)
	}
	th, _ := f.store.Thread(f.ctx, c.ID)
	m := th.Messages[0]
	if c.Status != app.StatusNew || c.EServiceID != id || m.FormVersion != 1 || m.Answers["antal"][0].Number != 10 {
		t.Fatalf("case %+v first message %+v", c, m)
	}
	if !strings.Contains(m.Text, "Röker du?: Ja") || !strings.Contains(m.Text, "Hur många cigaretter per dag?: 10") {
		t.Errorf("summary %q", m.Text)
	}
	if len(th.Messages) != 2 || th.Messages[1].Text != "Tack, vi återkommer inom en vecka." {
		t.Error("the automatic reply is missing")
	}
	// The case is in the clinic's queue.
	res, err := f.cases.FindCases(f.ctx, f.session(demo.StaffReceiver, 0), app.CaseFilter{Status: app.StatusNew})
	if err != nil || res.Index(c.ID) < 0 {
		t.Errorf("the submission is not in Mottagningens ärenden: %v", err)
	}
}

// R5, R7, R8, R10 and availability: who may submit.
func TestR5_SubmitInProxyModeOnlyWhenAllowed(t *testing.T) {
	f := newFixture(t)
	noProxy := publishForm(t, f, form.Definition{Name: "Vuxenformulär"})
	proxyOK := publishForm(t, f, form.Definition{Name: "Barnformulär", Availability: form.Availability{Proxy: true}})
	child := f.resident(demo.Child12y11m)
	var guardian app.ID
	for _, g := range child.Guardians {
		if !g.Blocked {
			guardian = g.GuardianID
		}
	}
	clinic := f.ds.Clinics[0].ID
	answers := form.Answers{"rokare": {{Bool: false}}}
	var na *app.NotAvailableError
	if _, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: guardian, Owner: child.ID, ClinicID: clinic, EServiceID: noProxy, Answers: answers}); !errors.As(err, &na) || na.Reason == "" {
		t.Errorf("proxy on an e-service without proxy: %v", err)
	}
	c, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: guardian, Owner: child.ID, ClinicID: clinic, EServiceID: proxyOK, Answers: answers})
	if err != nil {
		t.Fatal(err)
	}
	if c.StartedBy != app.StartedByGuardian || c.StartedByGuardian != guardian || c.ResidentID != child.ID {
		t.Errorf("R5: started by %s (%s)", c.StartedBy, c.StartedByGuardian)
	}
	// R8: on the 13th birthday the guardian can no longer act.
	f.now = demo.ThirteenthMinus(child, 0)
	if _, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: guardian, Owner: child.ID, ClinicID: clinic, EServiceID: proxyOK, Answers: answers}); !errors.Is(err, app.ErrProxyNotAllowed) {
		t.Errorf("R8: %v", err)
	}
	f.now = seedTime
	// R10: a locked login cannot use e-services.
	locked := f.resident(demo.Locked)
	if _, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: locked.ID, Owner: locked.ID, ClinicID: clinic, EServiceID: noProxy, Answers: answers}); !errors.Is(err, app.ErrLoginLocked) {
		t.Errorf("R10: %v", err)
	}
	// R7: protected identity — no guardian may act.
	pc := f.resident(demo.ChildProtected)
	if len(pc.Guardians) > 0 {
		if _, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: pc.Guardians[0].GuardianID, Owner: pc.ID, ClinicID: clinic, EServiceID: proxyOK, Answers: answers}); !errors.Is(err, app.ErrProxyNotAllowed) {
			t.Errorf("R7: %v", err)
		}
	}
	// A closed e-service says why.
	b := app.NewEServiceBuilder(f.store, f.store, app.ClockFunc(func() time.Time { return f.now }))
	if err := b.SaveDefinition(f.ctx, f.session(demo.StaffLocalAdmin, 0), noProxy, form.Definition{Name: "Vuxenformulär", Closed: true, ClosedMessage: "Stängt över sommaren. Ring mottagningen."}); err != nil {
		t.Fatal(err)
	}
	adult := f.resident(demo.AdultSMS)
	_, err = f.res.Submit(f.ctx, f.store, app.Submission{Actor: adult.ID, Owner: adult.ID, ClinicID: clinic, EServiceID: noProxy, Answers: answers})
	if !errors.As(err, &na) || !strings.Contains(na.Reason, "Stängt över sommaren") {
		t.Errorf("closed: %v", err)
	}
}

// The national forms of the standard e-services exist, pass Check, and a
// resident submits through one without any clinic having stored it.
func TestR15_StandardEServicesHaveNationalForms(t *testing.T) {
	for _, e := range app.StandardCatalogue {
		s := app.StandardForm(e.ID)
		if s == nil || len(s.Published) != 1 {
			t.Fatalf("%s: no national form", e.ID)
		}
		f, err := s.Version(1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Check(); err != nil {
			t.Errorf("%s: %v", e.ID, err)
		}
	}
	f := newFixture(t)
	r := f.resident(demo.AdultSMS)
	c, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: r.ID, Owner: r.ID, ClinicID: f.ds.Clinics[0].ID,
		EServiceID: "std-kontakta-mottagningen", Answers: form.Answers{"amne": {{Text: "Provsvar"}}, "meddelande": {{Text: "Har ni fått svaret?"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "Kontakta mottagningen" {
		t.Errorf("subject %q", c.Subject)
	}
}

// submitAs submits valid answers (not a smoker) to e-service id as the
// adult persona key, in clinic 0, and brings the case into the staff lists.
func (f *fixture) submitAs(t *testing.T, key string, id app.ID) *app.Case {
	t.Helper()
	r := f.resident(key)
	c, err := f.res.Submit(f.ctx, f.store, app.Submission{Actor: r.ID, Owner: r.ID, ClinicID: f.ds.Clinics[0].ID, EServiceID: id,
		Answers: form.Answers{"rokare": {{Bool: false}}}})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	// As the server does after a resident-side change: into the staff lists.
	if err := f.cases.CaseChanged(f.ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

// ongoingLoad counts the Pågående cases of each staff member in clinic 0.
func (f *fixture) ongoingLoad(t *testing.T) map[app.ID]int {
	t.Helper()
	page, err := f.store.ListCases(f.ctx, app.CaseQuery{ClinicID: f.ds.Clinics[0].ID, Status: app.StatusOngoing, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := map[app.ID]int{}
	for _, c := range page.Cases {
		n[c.AssigneeID]++
	}
	return n
}

// inList reports whether case id is in the session's list.
func (f *fixture) inList(t *testing.T, sess app.Session, list app.ListKind, id app.ID) bool {
	t.Helper()
	res, err := f.cases.FindCases(f.ctx, sess, app.CaseFilter{List: list})
	if err != nil {
		t.Fatal(err)
	}
	return res.Index(id) >= 0
}

// Issue 7: a submission lands in the e-service's receiving queue. The case
// model has no queue field; the queues of the staff tool (R16) are
// Mottagningens ärenden and each staff member's Mina ärenden, so the
// receiving role and queue decide the assignee (see app.Route).
func TestR16_SubmissionLandsInReceivingQueue(t *testing.T) {
	f := newFixture(t)
	anna, bjorn := f.ds.StaffBy[demo.StaffReceiver], f.ds.StaffBy[demo.StaffHandler]
	annaSess, bjornSess := f.session(demo.StaffReceiver, 0), f.session(demo.StaffHandler, 0)

	// Ärendemottagare (and no role set): Ny and unassigned, in
	// Mottagningens ärenden, in nobody's Mina ärenden.
	for _, role := range []string{"", string(app.RoleCaseReceiver)} {
		id := publishForm(t, f, form.Definition{Name: "Till mottagarna " + role, ReceivingRole: role})
		c := f.submitAs(t, demo.AdultSMS, id)
		if c.Status != app.StatusNew || c.AssigneeID != "" {
			t.Errorf("role %q: status %s assignee %q, want Ny and unassigned", role, c.Status, c.AssigneeID)
		}
		if !f.inList(t, annaSess, app.ClinicList, c.ID) || f.inList(t, bjornSess, app.MyList, c.ID) {
			t.Errorf("role %q: not in Mottagningens ärenden only", role)
		}
	}

	// A named queue: Björn's Mina ärenden. He can open it; it is Pågående.
	toBjorn := publishForm(t, f, form.Definition{Name: "Till Björn", ReceivingRole: string(app.RoleCaseHandler), Queue: string(bjorn)})
	c := f.submitAs(t, demo.AdultSMS, toBjorn)
	if c.AssigneeID != bjorn || c.Status != app.StatusOngoing {
		t.Fatalf("queue Björn: assignee %q status %s", c.AssigneeID, c.Status)
	}
	if !f.inList(t, bjornSess, app.MyList, c.ID) || !f.inList(t, annaSess, app.ClinicList, c.ID) {
		t.Error("queue Björn: not in his Mina ärenden and in Mottagningens ärenden")
	}
	if _, err := f.cases.OpenCase(f.ctx, bjornSess, c.ID); err != nil {
		t.Errorf("Björn cannot open the case routed to him: %v", err)
	}
	stored, err := f.store.Case(f.ctx, c.ID)
	if err != nil || stored.AssigneeID != bjorn || stored.Status != app.StatusOngoing {
		t.Errorf("stored case %+v, %v", stored, err)
	}

	// Ärendehanterare without a named queue: the handler with the fewest
	// Pågående cases (ties by id); successive cases spread over them.
	toHandlers := publishForm(t, f, form.Definition{Name: "Till handläggarna", ReceivingRole: string(app.RoleCaseHandler)})
	var got []app.ID
	for range 4 {
		load := f.ongoingLoad(t)
		want := anna
		if load[bjorn] < load[anna] || (load[bjorn] == load[anna] && bjorn < anna) {
			want = bjorn
		}
		c := f.submitAs(t, demo.AdultEmail, toHandlers)
		if c.AssigneeID != want || c.Status != app.StatusOngoing {
			t.Fatalf("handlers with load Anna %d, Björn %d: assigned %q (%s), want %q", load[anna], load[bjorn], c.AssigneeID, c.Status, want)
		}
		got = append(got, c.AssigneeID)
	}
	if got[0] == got[1] && got[1] == got[2] {
		t.Errorf("assignments %v: not spread", got)
	}

	// Björn loses the role: his named queue falls back to the role, so
	// the case goes to the remaining handler, Anna (never to him).
	st, err := f.store.Staff(f.ctx, bjorn)
	if err != nil {
		t.Fatal(err)
	}
	st.Roles[f.ds.Clinics[0].ID] = []app.Role{app.RoleAuditor}
	if err := f.store.PutStaff(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	if c := f.submitAs(t, demo.AdultSMS, toBjorn); c.AssigneeID != anna || c.Status != app.StatusOngoing {
		t.Errorf("stale queue: assignee %q status %s, want Anna", c.AssigneeID, c.Status)
	}
	// And with no ärendehanterare left at all the case waits in
	// Mottagningens ärenden for the receivers.
	a, err := f.store.Staff(f.ctx, anna)
	if err != nil {
		t.Fatal(err)
	}
	a.Roles[f.ds.Clinics[0].ID] = []app.Role{app.RoleCaseReceiver}
	if err := f.store.PutStaff(f.ctx, a); err != nil {
		t.Fatal(err)
	}
	if c := f.submitAs(t, demo.AdultSMS, toHandlers); c.AssigneeID != "" || c.Status != app.StatusNew {
		t.Errorf("no handler: assignee %q status %s, want Ny and unassigned", c.AssigneeID, c.Status)
	}
}

// R15: the lokal administratör cannot send an e-service's cases to a role
// that receives no cases, nor to a staff member without the receiving role
// in the clinic; nothing is saved. A queue saved earlier whose staff member
// lost the role does not block an unrelated edit.
func TestR15_DefinitionRefusesAReceiverWhoCannotReceive(t *testing.T) {
	f := newFixture(t)
	david := f.session(demo.StaffLocalAdmin, 0)
	b := app.NewEServiceBuilder(f.store, f.store, app.ClockFunc(func() time.Time { return f.now }))
	bjorn, fredrik := f.ds.StaffBy[demo.StaffHandler], f.ds.StaffBy[demo.StaffAuditor]
	id := publishForm(t, f, form.Definition{Name: "Rådgivning", ReceivingRole: string(app.RoleCaseHandler), Queue: string(bjorn)})
	handler := string(app.RoleCaseHandler)
	for _, tc := range []struct {
		name string
		def  form.Definition
		code string
	}{
		{"granskare as receiving role", form.Definition{Name: "Rådgivning", ReceivingRole: string(app.RoleAuditor)}, "receiving_role"},
		{"unknown role", form.Definition{Name: "Rådgivning", ReceivingRole: "kassa"}, "receiving_role"},
		{"queue of a granskare", form.Definition{Name: "Rådgivning", ReceivingRole: handler, Queue: string(fredrik)}, "queue"},
		{"queue of nobody", form.Definition{Name: "Rådgivning", ReceivingRole: handler, Queue: string(app.NewID(f.now))}, "queue"},
		{"queue of staff of another clinic", form.Definition{Name: "Rådgivning", ReceivingRole: handler, Queue: string(f.ds.StaffBy[demo.StaffChildClinic])}, "queue"},
		{"Björn is no ärendemottagare", form.Definition{Name: "Rådgivning", ReceivingRole: string(app.RoleCaseReceiver), Queue: string(bjorn)}, "queue"},
	} {
		err := b.SaveDefinition(f.ctx, david, id, tc.def)
		var de *form.DefinitionError
		if !errors.As(err, &de) || !errors.Is(err, form.ErrDefinition) || len(de.Problems) != 1 || de.Problems[0].Code != tc.code || de.Problems[0].Text == "" {
			t.Errorf("%s: %v, want problem %q", tc.name, err, tc.code)
		}
	}
	es, err := f.store.EServices(f.ctx, f.ds.Clinics[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.ID == id && (e.Definition.Queue != string(bjorn) || e.Definition.ReceivingRole != handler) {
			t.Errorf("a refused definition was saved: %+v", e.Definition)
		}
	}
	// Björn leaves the role; the description can still be edited.
	st, err := f.store.Staff(f.ctx, bjorn)
	if err != nil {
		t.Fatal(err)
	}
	st.Roles[f.ds.Clinics[0].ID] = nil
	if err := f.store.PutStaff(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveDefinition(f.ctx, david, id, form.Definition{Name: "Rådgivning", Description: "Ny text", ReceivingRole: handler, Queue: string(bjorn)}); err != nil {
		t.Errorf("an unrelated edit with the earlier queue: %v", err)
	}
}

// A free-text case started through one of the clinic's e-services
// (StartCase, POST /api/resident/cases) goes where that e-service's
// definition routes its cases, like a submission; an e-service the clinic
// has no definition of (a standard one) goes to Mottagningens ärenden.
func TestR16_StartedCaseFollowsTheEServiceRouting(t *testing.T) {
	f := newFixture(t)
	bjorn := f.ds.StaffBy[demo.StaffHandler]
	toBjorn := publishForm(t, f, form.Definition{Name: "Fråga Björn", ReceivingRole: string(app.RoleCaseHandler), Queue: string(bjorn)})
	adult := f.ds.Persona[demo.AdultSMS]
	c, err := f.res.StartCase(f.ctx, adult, adult, f.ds.Clinics[0].ID, toBjorn, "Fråga", "Hej, jag undrar en sak.")
	if err != nil {
		t.Fatal(err)
	}
	if c.AssigneeID != bjorn || c.Status != app.StatusOngoing {
		t.Errorf("started through a routed e-service: assignee %q status %s, want Björn and Pågående", c.AssigneeID, c.Status)
	}
	std, err := f.res.StartCase(f.ctx, adult, adult, f.ds.Clinics[0].ID, "std-kontakta-mottagningen", "Fråga", "Hej.")
	if err != nil {
		t.Fatal(err)
	}
	if std.AssigneeID != "" || std.Status != app.StatusNew {
		t.Errorf("standard e-service: assignee %q status %s, want unassigned and Ny", std.AssigneeID, std.Status)
	}
}
