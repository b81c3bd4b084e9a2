package server

import (
	"context"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
	"mottagning/client"
)

// publishLocal builds and publishes a local e-service of centrum on the
// server's store with the builder (as a synced desktop would have), with
// def as its definition.
func (e *env) publishLocal(name string, def form.Definition) app.ID {
	e.t.Helper()
	ctx := context.Background()
	var admin app.Staff
	for _, s := range e.ds.Staff {
		if s.ID == e.ds.StaffBy[demo.StaffLocalAdmin] {
			admin = s
		}
	}
	sess := app.Session{Staff: &admin, ClinicID: app.ID(e.clinic(0))}
	b := app.NewEServiceBuilder(e.srv.Gate(), e.srv.Gate(), e.clock)
	d, err := b.Create(ctx, sess, name)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	def.Name = name
	if err := b.SaveDefinition(ctx, sess, d.EService.ID, def); err != nil {
		e.t.Fatalf("definition: %v", err)
	}
	f, err := b.Draft(ctx, sess, d.EService.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	f.Items = symptomItems()
	if err := b.SaveDraft(ctx, sess, d.EService.ID, f); err != nil {
		e.t.Fatalf("draft: %v", err)
	}
	if _, err := b.Publish(ctx, sess, d.EService.ID); err != nil {
		e.t.Fatalf("publish: %v", err)
	}
	return d.EService.ID
}

func symptomItems() []form.Item {
	return []form.Item{
		{ID: "symtom", Type: form.TypeText, Label: "Vilka symtom har du?", Required: true, MaxLength: 200},
		{ID: "feber", Type: form.TypeBoolean, Label: "Har du feber?"},
		{ID: "temp", Type: form.TypeNumber, Label: "Hur hög är febern?",
			EnableWhen: []form.Condition{{Item: "feber", Op: form.OpEquals, Value: form.Value{Bool: true}}}},
	}
}

func validAnswers() form.Answers {
	return form.Answers{"symtom": {{Text: "Hosta"}}, "feber": {{Bool: true}}, "temp": {{Number: 38.5}}}
}

func (e *env) caseCount(id app.ID) int {
	e.t.Helper()
	cs, err := e.store.CasesOfResident(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(cs)
}

func TestSubmit_ValidCreatesCaseWithAnswers(t *testing.T) {
	e := newEnv(t)
	id := e.publishLocal("Förkylning", form.Definition{Availability: form.Availability{Proxy: true}, AutoReply: "Tack, vi hör av oss."})
	tok := e.signIn(demo.AdultEmail)

	list, err := e.c.ClinicEServices(e.ctx, tok, e.clinic(0), "")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var found *client.EServiceForm
	for i := range list {
		if list[i].ID == string(id) {
			found = &list[i]
		}
	}
	if found == nil || !found.Available || found.Version != 1 || found.Form == nil || len(found.Form.Items) != 3 {
		t.Fatalf("list = %+v, want the local e-service available with its form", list)
	}
	pf, err := e.c.EServiceForm(e.ctx, tok, string(id))
	if err != nil || pf.Version != 1 || pf.Form.Items[0].Label != "Vilka symtom har du?" {
		t.Fatalf("form = %+v, %v", pf, err)
	}

	c, err := e.c.Submit(e.ctx, tok, string(id), client.SubmissionRequest{ClinicID: e.clinic(0), Answers: validAnswers()})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if c.ID == "" || c.EServiceID != string(id) || c.StartedBy != string(app.StartedByResident) {
		t.Fatalf("case = %+v", c)
	}
	th, err := e.store.Thread(e.ctx, app.ID(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	m := th.Messages[0]
	if m.FormVersion != 1 || m.Answers["temp"][0].Number != 38.5 || !strings.Contains(m.Text, "Vilka symtom har du?: Hosta") {
		t.Fatalf("first message = %+v", m)
	}
	if len(th.Messages) != 2 || th.Case.Status != app.StatusNew || !th.Case.UnreadByStaff {
		t.Fatalf("thread = %+v", th.Case)
	}
	// In the clinic's queue on the server.
	page, err := e.c.Cases(e.ctx, e.staff(demo.StaffReceiver), e.clinic(0), client.CaseListQuery{List: "clinic", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	inQueue := false
	for _, x := range page.Rows {
		inQueue = inQueue || x.ID == c.ID
	}
	if !inQueue {
		t.Fatalf("case %s not in the clinic's list", c.ID)
	}
}

func TestSubmit_RefusedAnswersStoreNothing(t *testing.T) {
	e := newEnv(t)
	id := e.publishLocal("Förkylning", form.Definition{})
	tok := e.signIn(demo.AdultEmail)
	me := e.persona(demo.AdultEmail).ID
	before := e.caseCount(me)

	// A required question left out: the Swedish sentence names it.
	_, err := e.c.Submit(e.ctx, tok, string(id), client.SubmissionRequest{ClinicID: e.clinic(0), Answers: form.Answers{"feber": {{Bool: false}}}})
	ae := wantCode(t, err, "invalid")
	if ae.Status != 400 || ae.Field != "symtom" || len(ae.Reasons) != 1 || ae.Reasons[0].Code != form.CodeRequired ||
		!strings.Contains(ae.Reasons[0].Message, "Vilka symtom har du?") {
		t.Fatalf("missing required = %+v", ae)
	}
	// An answer to a question hidden by the logic.
	a := validAnswers()
	a["feber"] = []form.Value{{Bool: false}}
	_, err = e.c.Submit(e.ctx, tok, string(id), client.SubmissionRequest{ClinicID: e.clinic(0), Answers: a})
	ae = wantCode(t, err, "invalid")
	if ae.Status != 400 || ae.Field != "temp" || ae.Reasons[0].Code != form.CodeHidden {
		t.Fatalf("hidden answer = %+v", ae)
	}
	// An item not in the form.
	a = validAnswers()
	a["okand"] = []form.Value{{Text: "x"}}
	_, err = e.c.Submit(e.ctx, tok, string(id), client.SubmissionRequest{ClinicID: e.clinic(0), Answers: a})
	wantCode(t, err, "invalid")
	// An e-service the clinic does not offer.
	_, err = e.c.Submit(e.ctx, tok, string(id), client.SubmissionRequest{ClinicID: e.clinic(1), Answers: validAnswers()})
	wantCode(t, err, "not_found")
	if n := e.caseCount(me); n != before {
		t.Fatalf("cases %d → %d: a refused submission stored something", before, n)
	}
}

func TestSubmit_NotAvailableGivesSwedishReason(t *testing.T) {
	e := newEnv(t)
	closed := e.publishLocal("Sommarstängt", form.Definition{Closed: true, ClosedMessage: "Stängt i juli. Ring mottagningen."})
	kids := 12
	childrenOnly := e.publishLocal("Barn", form.Definition{Availability: form.Availability{MaxAge: &kids}})
	noProxy := e.publishLocal("Utan ombud", form.Definition{})
	guardian := e.signIn(demo.GuardianNotified)
	child := e.persona(demo.Child12y11m).ID
	adult := e.signIn(demo.AdultEmail)
	before := e.caseCount(child)

	for _, tc := range []struct {
		name, tok, forID string
		id               app.ID
		reason           string
	}{
		{"closed", adult, "", closed, "Stängt i juli. Ring mottagningen."},
		{"age", adult, "", childrenOnly, "till och med 12 år och kan inte användas för dig"},
		{"proxy not allowed", guardian, string(child), noProxy, "kan inte användas i ombudsläge"},
	} {
		_, err := e.c.Submit(e.ctx, tc.tok, string(tc.id), client.SubmissionRequest{ClinicID: e.clinic(0), For: tc.forID, Answers: validAnswers()})
		ae := wantCode(t, err, "forbidden")
		if ae.Status != 403 || len(ae.Reasons) != 1 || ae.Reasons[0].Code != "not_available" || !strings.Contains(ae.Reasons[0].Message, tc.reason) {
			t.Errorf("%s: %+v, want the reason %q", tc.name, ae, tc.reason)
		}
	}
	// The list says the same before the resident fills anything in.
	list, err := e.c.ClinicEServices(e.ctx, guardian, e.clinic(0), string(child))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.ID == string(noProxy) && (x.Available || !strings.Contains(x.Reason, "ombudsläge")) {
			t.Errorf("list entry %+v, want unavailable in proxy mode", x)
		}
	}
	if n := e.caseCount(child); n != before {
		t.Fatalf("cases of the child %d → %d", before, n)
	}
}

func TestR5_Submit_GuardianOf12YearOldStartsAsGuardian(t *testing.T) {
	e := newEnv(t)
	id := e.publishLocal("Barnets förkylning", form.Definition{Availability: form.Availability{Proxy: true}})
	g := e.persona(demo.GuardianNotified)
	child := e.persona(demo.Child12y11m)
	tok := e.signIn(demo.GuardianNotified)
	c, err := e.c.Submit(e.ctx, tok, string(id), client.SubmissionRequest{ClinicID: e.clinic(0), For: string(child.ID), Answers: validAnswers()})
	if err != nil {
		t.Fatalf("submit in proxy mode: %v", err)
	}
	got, err := e.store.Case(e.ctx, app.ID(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	if got.StartedBy != app.StartedByGuardian || got.StartedByGuardian != g.ID || got.ResidentID != child.ID {
		t.Fatalf("case = %+v, want started by the guardian about the child", got)
	}
	// The blocked guardian of the same child is refused (R5 with a block).
	blocked := e.signIn(demo.GuardianBlocked)
	_, err = e.c.Submit(e.ctx, blocked, string(id), client.SubmissionRequest{ClinicID: e.clinic(0), For: string(child.ID), Answers: validAnswers()})
	wantCode(t, err, "proxy_not_allowed", "forbidden")
}

func TestR10_Submit_LockedResidentIsRefused(t *testing.T) {
	e := newEnv(t)
	id := e.publishLocal("Förkylning", form.Definition{})
	tok := e.signIn(demo.AdultSMS)
	me := e.persona(demo.AdultSMS).ID
	// Locked after signing in (another session locked it): the session
	// still exists, the submission is refused all the same.
	if err := e.store.UpdateResident(e.ctx, me, func(r *app.Resident) error { r.Account.LoginLocked = true; return nil }); err != nil {
		t.Fatal(err)
	}
	before := e.caseCount(me)
	_, err := e.c.Submit(e.ctx, tok, string(id), client.SubmissionRequest{ClinicID: e.clinic(0), Answers: validAnswers()})
	wantCode(t, err, "login_locked")
	if _, err := e.c.ClinicEServices(e.ctx, tok, e.clinic(0), ""); err == nil {
		t.Fatal("a locked login lists e-services")
	}
	if n := e.caseCount(me); n != before {
		t.Fatalf("cases %d → %d", before, n)
	}
}

// rowOf returns the row of case id in a staff list, or nil.
func rowOf(p *client.CasePage, id string) *client.CaseRow {
	for i := range p.Rows {
		if p.Rows[i].ID == id {
			return &p.Rows[i]
		}
	}
	return nil
}

// Issue 7: a submission through the resident API lands in the e-service's
// receiving queue (app.Route): with Björn's queue it is assigned to him —
// Pågående in his Mina ärenden, which he can open — and without a queue
// it is Ny in Mottagningens ärenden, which he (ärendehanterare only) does
// not see.
func TestR16_Submit_LandsInReceivingQueue(t *testing.T) {
	e := newEnv(t)
	bjorn := e.ds.StaffBy[demo.StaffHandler]
	toBjorn := e.publishLocal("Till Björn", form.Definition{ReceivingRole: string(app.RoleCaseHandler), Queue: string(bjorn)})
	general := e.publishLocal("Till mottagarna", form.Definition{ReceivingRole: string(app.RoleCaseReceiver)})
	tok := e.signIn(demo.AdultEmail)
	c1, err := e.c.Submit(e.ctx, tok, string(toBjorn), client.SubmissionRequest{ClinicID: e.clinic(0), Answers: validAnswers()})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	c2, err := e.c.Submit(e.ctx, tok, string(general), client.SubmissionRequest{ClinicID: e.clinic(0), Answers: validAnswers()})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if c1.Status != string(app.StatusOngoing) || c2.Status != string(app.StatusNew) {
		t.Errorf("statuses %s, %s; want pagaende (assigned) and ny", c1.Status, c2.Status)
	}
	bjornTok, annaTok := e.staff(demo.StaffHandler), e.staff(demo.StaffReceiver)
	mine, err := e.c.Cases(e.ctx, bjornTok, e.clinic(0), client.CaseListQuery{List: "mine", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if r := rowOf(mine, c1.ID); r == nil || r.AssigneeID != string(bjorn) || r.Status != string(app.StatusOngoing) || r.EServiceID != string(toBjorn) {
		t.Errorf("Björn's Mina ärenden row %+v, want the case assigned to him", r)
	}
	if rowOf(mine, c2.ID) != nil {
		t.Error("the receivers' case is in Björn's Mina ärenden")
	}
	all, err := e.c.Cases(e.ctx, annaTok, e.clinic(0), client.CaseListQuery{List: "clinic", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if r := rowOf(all, c2.ID); r == nil || r.AssigneeID != "" || r.Status != string(app.StatusNew) || rowOf(all, c1.ID) == nil {
		t.Errorf("Mottagningens ärenden: %+v, want both, the receivers' one Ny and unassigned", r)
	}
	if _, err := e.c.OpenCase(e.ctx, bjornTok, e.clinic(0), c1.ID); err != nil {
		t.Errorf("Björn opens the case routed to him: %v", err)
	}
	_, err = e.c.OpenCase(e.ctx, bjornTok, e.clinic(0), c2.ID)
	wantCode(t, err, "forbidden")
}
