package sync_test

import (
	"encoding/json"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
	"mottagning/client"
	msync "mottagning/sync"
)

// TestE2E_BuildPublishSubmitCaseOnOtherDesktop is issue 7's end-to-end
// proof: the lokal administratör builds and publishes a local e-service
// on a connected desktop; the engine pushes it (and its form versions) to
// the server; a resident signs in with the test e-ID and submits through
// the resident API, validated by the server with the same form engine;
// another desktop's engine pulls, and the case with its answers is in
// that desktop's Mottagningens ärenden, with the form to show them.
func TestE2E_BuildPublishSubmitCaseOnOtherDesktop(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffLocalAdmin), centrum)
	a.mustSync()
	b := newDesktop(t, ce, "")
	b.signIn(ce.staff(demo.StaffReceiver), centrum)
	b.mustSync()

	// Build and publish on desktop A.
	builder := app.NewEServiceBuilder(a.store, a.store, app.SystemClock{})
	d, err := builder.Create(ctx, a.sess, "Läkemedelsgenomgång")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := d.EService.ID
	if err := builder.SaveDefinition(ctx, a.sess, id, form.Definition{Name: "Läkemedelsgenomgång",
		Description: "Inför ditt besök", AutoReply: "Tack! Vi läser dina svar före besöket."}); err != nil {
		t.Fatalf("definition: %v", err)
	}
	f, err := builder.Draft(ctx, a.sess, id)
	if err != nil {
		t.Fatal(err)
	}
	f.Items = []form.Item{
		{ID: "besvar", Type: form.TypeLongText, Label: "Vad vill du ta upp?", Required: true, MaxLength: 2000},
		{ID: "lakemedel", Type: form.TypeGroup, Label: "Läkemedel du tar", Repeats: true, Items: []form.Item{
			{ID: "namn", Type: form.TypeText, Label: "Namn", Required: true, MaxLength: 100},
			{ID: "dos", Type: form.TypeText, Label: "Dos", MaxLength: 100},
		}},
	}
	if err := builder.SaveDraft(ctx, a.sess, id, f); err != nil {
		t.Fatalf("draft: %v", err)
	}
	if _, err := builder.Publish(ctx, a.sess, id); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if n, _ := a.store.PendingCount(ctx); n == 0 {
		t.Fatal("building on a connected desktop queued nothing")
	}
	a.mustSync()
	if st := a.eng.Status(); st.Pending != 0 || len(st.Rejected)+len(st.Conflicts) != 0 {
		t.Fatalf("status after push = %+v", st)
	}
	srvSeries, err := ce.store.FormSeries(ctx, id)
	if err != nil || len(srvSeries.Published) != 1 || srvSeries.Draft != nil {
		t.Fatalf("server form series = %+v, %v", srvSeries, err)
	}

	// A resident submits through the resident API.
	tok := ce.resident(demo.AdultEmail)
	lars := ce.persona(demo.AdultEmail)
	list, err := ce.c.ClinicEServices(ctx, tok, string(centrum), "")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	listed := false
	for _, e := range list {
		listed = listed || (e.ID == string(id) && e.Available && e.Form != nil)
	}
	if !listed {
		t.Fatalf("the published e-service is not offered: %+v", list)
	}
	answers := form.Answers{
		"besvar": {{Text: "Jag blir trött av tabletterna."}},
		"lakemedel": {
			{Group: form.Answers{"namn": {{Text: "Metformin"}}, "dos": {{Text: "500 mg"}}}},
			{Group: form.Answers{"namn": {{Text: "Alvedon"}}}},
		},
	}
	// Broken answers are refused by the server's engine: nothing reaches B.
	_, err = ce.c.Submit(ctx, tok, string(id), client.SubmissionRequest{ClinicID: string(centrum),
		Answers: form.Answers{"lakemedel": {{Group: form.Answers{"dos": {{Text: "1"}}}}}}})
	if client.Code(err) != "invalid" {
		t.Fatalf("broken answers = %v, want invalid", err)
	}
	c, err := ce.c.Submit(ctx, tok, string(id), client.SubmissionRequest{ClinicID: string(centrum), Answers: answers})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}

	// Desktop B pulls: the e-service, its form and the case.
	b.mustSync()
	series, err := b.store.FormSeries(ctx, id)
	if err != nil || len(series.Published) != 1 {
		t.Fatalf("form series on desktop B = %+v, %v", series, err)
	}
	res, err := b.cases.FindCases(ctx, b.sess, app.CaseFilter{List: app.ClinicList})
	if err != nil {
		t.Fatalf("find cases: %v", err)
	}
	i := res.Index(app.ID(c.ID))
	if i < 0 {
		t.Fatalf("case %s is not in Mottagningens ärenden on desktop B (%d rows)", c.ID, res.Len())
	}
	row := res.Row(i)
	if row.ResidentID != lars.ID || row.EServiceID != id || row.StartedBy != app.StartedByResident || row.Status != app.StatusNew {
		t.Fatalf("row = %+v", row)
	}
	th, err := b.cases.OpenCase(ctx, b.sess, app.ID(c.ID))
	if err != nil {
		t.Fatalf("open on desktop B: %v", err)
	}
	m := th.Messages[0]
	if m.FormVersion != 1 || len(m.Answers["lakemedel"]) != 2 || m.Answers["lakemedel"][0].Group["dos"][0].Text != "500 mg" ||
		m.Answers["besvar"][0].Text != "Jag blir trött av tabletterna." {
		t.Fatalf("answers on desktop B = %+v (version %d)", m.Answers, m.FormVersion)
	}
	fv, err := series.Version(m.FormVersion)
	if err != nil || fv.Items[1].Items[0].Label != "Namn" {
		t.Fatalf("form version on desktop B: %v", err)
	}
}

// TestSync_EServiceOpsRecheckedOnServer: the server applies builder ops
// by its own rules: only the clinic's lokal administratör changes a local
// e-service or its form, a standard e-service is not the clinic's, and a
// series that would change a published version loses as a conflict (the
// server's versions are fed again).
func TestSync_EServiceOpsRecheckedOnServer(t *testing.T) {
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	a := newDesktop(t, ce, "")
	a.signIn(ce.staff(demo.StaffLocalAdmin), centrum)
	a.mustSync()
	b := newDesktop(t, ce, "")
	b.signIn(ce.staff(demo.StaffReceiver), centrum)
	b.mustSync()

	builder := app.NewEServiceBuilder(a.store, a.store, app.SystemClock{})
	d, err := builder.Create(ctx, a.sess, "Återbesök")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := builder.Draft(ctx, a.sess, d.EService.ID)
	f.Items = []form.Item{{ID: "q", Type: form.TypeText, Label: "Fråga", Required: true}}
	if err := builder.SaveDraft(ctx, a.sess, d.EService.ID, f); err != nil {
		t.Fatal(err)
	}
	if _, err := builder.Publish(ctx, a.sess, d.EService.ID); err != nil {
		t.Fatal(err)
	}
	a.mustSync()
	srv, err := ce.store.FormSeries(ctx, d.EService.ID)
	if err != nil || len(srv.Published) != 1 {
		t.Fatalf("server series = %+v, %v", srv, err)
	}

	push := func(dd *desktop, ops ...app.SyncOp) []app.OpResult {
		t.Helper()
		tok, err := dd.tokens.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := dd.c.SyncPush(ctx, tok, &msync.PushRequest{DeviceID: dd.store.SyncDevice(), Ops: ops})
		if err != nil {
			t.Fatalf("push: %v", err)
		}
		return resp.Results
	}
	op := func(kind app.OpKind, v any) app.SyncOp {
		raw, _ := json.Marshal(v)
		return app.SyncOp{ID: app.NewOpID(), Kind: kind, Payload: raw, MadeAt: time.Now()}
	}
	// An ärendemottagare is not the lokal administratör.
	renamed := d.EService
	renamed.Name = "Kapad"
	changed := *srv
	changed.Draft = nil
	for _, r := range push(b, op(app.OpEServicePut, renamed), op(app.OpFormSeriesPut, changed)) {
		if r.Outcome != app.OpRejected || r.Code != "forbidden" {
			t.Errorf("op %s by a receiver = %+v, want rejected forbidden", r.Kind, r)
		}
	}
	// A standard e-service is national.
	std := app.StandardCatalogue[0]
	std.ClinicID, std.Standard = centrum, false
	if r := push(a, op(app.OpEServicePut, std)); r[0].Outcome != app.OpRejected {
		t.Errorf("standard e-service op = %+v, want rejected", r[0])
	}
	// Another version 1 (a second desktop published first): a conflict.
	other := form.Series{FormID: srv.FormID}
	other.StartDraft("Återbesök")
	od := other.StartDraft("")
	od.Items = []form.Item{{ID: "q", Type: form.TypeText, Label: "En annan fråga"}}
	if err := other.SaveDraft(od); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Publish(time.Now(), string(a.sess.Staff.ID)); err != nil {
		t.Fatal(err)
	}
	if r := push(a, op(app.OpFormSeriesPut, other)); r[0].Outcome != app.OpConflict {
		t.Errorf("conflicting series = %+v, want conflict", r[0])
	}
	after, err := ce.store.FormSeries(ctx, d.EService.ID)
	if err != nil || after.Published[0].Digest != srv.Published[0].Digest {
		t.Fatalf("the server's published version changed: %+v, %v", after, err)
	}
	got, err := ce.store.EServices(ctx, centrum)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		if e.Name == "Kapad" || e.ID == std.ID {
			t.Errorf("server e-services = %+v", got)
		}
	}
}
