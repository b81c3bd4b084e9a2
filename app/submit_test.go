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
