package ui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
)

// The citizen preview over the real seeded store: its personas are the
// demo data set's residents.

type pvRun struct {
	f     *fixture
	forms app.FormStore
	svc   *app.EServiceBuilder
	sess  app.Session
	p     *previewScreen
}

// smokingForm is an e-service's form with a conditional and a required item.
func smokingForm(id string) *form.Form {
	return &form.Form{ID: id, Version: 1, Status: form.StatusDraft, Title: "Rökvanor inför operation",
		Description: "Svara innan du kommer till mottagningen.",
		Items: []form.Item{
			{ID: "rokare", Type: form.TypeBoolean, Label: "Röker du?", Required: true},
			{ID: "antal", Type: form.TypeNumber, Label: "Hur många cigaretter per dag?", Required: true,
				Min: form.Ptr(1.0), Max: form.Ptr(100.0), Decimals: form.Ptr(0),
				EnableWhen: []form.Condition{{Item: "rokare", Op: form.OpEquals, Value: form.BoolValue(true)}}},
			{ID: "vc", Type: form.TypeText, Label: "Vilken vårdcentral går du till?", Required: true},
		}}
}

// openPreview publishes the smoking form as a local e-service of
// Vårdcentralen Centrum (proxy allowed or not) and shows the preview as
// a staff member without the lokal administratör's role.
func openPreview(t *testing.T, proxy bool) *pvRun {
	t.Helper()
	return openPreviewOf(t, proxy, "Rökvanor inför operation", smokingForm)
}

// openPreviewOf publishes the form mk makes as the local e-service name
// and shows its preview, as openPreview does.
func openPreviewOf(t *testing.T, proxy bool, name string, mk func(id string) *form.Form) *pvRun {
	t.Helper()
	f := newFixture(t, false, nil)
	ctx := context.Background()
	admin := staffByKey(f, t, demo.StaffLocalAdmin)
	c := f.clinic("Vårdcentralen Centrum")
	r := &pvRun{f: f, forms: f.store}
	r.svc = app.NewEServiceBuilder(f.store, r.forms, app.FixedClock(now))
	as := app.Session{Staff: &admin, ClinicID: c.ID}
	e, err := r.svc.Create(ctx, as, name)
	if err != nil {
		t.Fatal(err)
	}
	id := e.EService.ID
	if err := r.svc.SaveDefinition(ctx, as, id, form.Definition{Name: e.EService.Name, Availability: form.Availability{Proxy: proxy}}); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.SaveDraft(ctx, as, id, mk(string(id))); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Publish(ctx, as, id); err != nil {
		t.Fatal(err)
	}
	anna := staffByKey(f, t, demo.StaffReceiver)
	r.sess = app.Session{Staff: &anna, ClinicID: c.ID}
	r.p = newPreviewScreen(previewDeps{ctx: ctx, tasks: &f.ui.tasks, svc: r.svc, dir: f.store, residents: f.store,
		sess: r.sess, clock: app.FixedClock(now)})
	f.win.SetContent(r.p.content)
	f.wait()
	r.p.selectSource(name + " – publicerad version 1")
	if r.p.current() == nil {
		t.Fatalf("no published version to preview among %q", r.p.service.Options)
	}
	return r
}

func (r *pvRun) as(t *testing.T, k personaKind) {
	t.Helper()
	r.p.selectPersona(k)
	if r.p.currentPersona().kind != k {
		t.Fatalf("persona %d not chosen", k)
	}
}

func (r *pvRun) lines() []string {
	var out []string
	for _, v := range r.p.decision.lines {
		out = append(out, v.text)
	}
	return out
}

func (r *pvRun) demoID(key string) app.ID { return r.f.ds.Persona[key] }

func TestPreview_Adult_LiveLogicAndValidation(t *testing.T) {
	r := openPreview(t, false)
	r.as(t, personaAdult)
	p := r.p
	per := p.currentPersona()
	if !per.demo || per.who.ID != r.demoID(demo.AdultSMS) && per.who.PNR.AgeOn(now) < 18 {
		t.Errorf("the adult persona should be an adult of the demo data set, got %q", describePersona(per))
	}
	if !p.decision.allowed || p.view == nil || !slices.Contains(r.lines(), L(textPvAvailable)) {
		t.Fatalf("an adult may use the e-service: %q", r.lines())
	}
	v := p.view
	if v.shown("antal") {
		t.Error("the follow-up is hidden until Röker du? is Ja")
	}
	v.row("rokare").input.(*widget.RadioGroup).SetSelected(L(textFvYes))
	if !v.shown("antal") {
		t.Fatal("the follow-up should appear when its condition holds")
	}
	// Validation as one types, naming the field.
	test.Type(v.row("antal").input.(*widget.Entry), "2,5")
	if got := v.errorsShown(); !slices.Equal(got, []string{"”Hur många cigaretter per dag?” ska vara ett heltal."}) {
		t.Errorf("errors while typing: %q", got)
	}
	below := v.row("vc").box
	yWithError := below.Position().Y
	retype(v.row("antal").input.(*widget.Entry), "10")
	if got := v.errorsShown(); len(got) != 0 {
		t.Errorf("a good answer shows %q", got)
	}
	// Issue 18, item 5: the field below does not jump when the error clears.
	r.f.win.Canvas().Refresh(r.f.win.Content())
	if y := below.Position().Y; y != yWithError {
		t.Errorf("the next field moved from y=%v to y=%v when the error cleared", yWithError, y)
	}
	// Skicka without the required question: refused, the error names it.
	test.Tap(p.submit)
	if got := v.errorsShown(); !slices.Equal(got, []string{"Fyll i ”Vilken vårdcentral går du till?”."}) {
		t.Errorf("errors after Skicka: %q", got)
	}
	if p.result.Text != L(textPvRefused) || !p.result.Visible() {
		t.Errorf("result %q", p.result.Text)
	}
	assertMarkup(t, "preview_adult_required.xml", r.f.win.Canvas())
	shot(t, r.f.win, "preview.png")

	before, err := r.f.store.CasesOfResident(context.Background(), per.who.ID)
	if err != nil {
		t.Fatal(err)
	}
	test.Type(v.row("vc").input.(*widget.Entry), "Vårdcentralen Centrum")
	// Answer Nej: the follow-up hides and its answer is not submitted.
	v.row("rokare").input.(*widget.RadioGroup).SetSelected(L(textFvNo))
	if v.shown("antal") {
		t.Error("Nej hides the follow-up again")
	}
	test.Tap(p.submit)
	want := L(textPvWouldSend) + "\nRöker du?: Nej\nVilken vårdcentral går du till?: Vårdcentralen Centrum"
	if p.result.Text != want {
		t.Errorf("what would be submitted:\n%s\nwant\n%s", p.result.Text, want)
	}
	// Nothing is stored.
	after, err := r.f.store.CasesOfResident(context.Background(), per.who.ID)
	if err != nil || len(after) != len(before) {
		t.Errorf("the preview stored a case: %d cases before, %d after (%v)", len(before), len(after), err)
	}
}

// R5: a guardian of a child of 12 years 11 months may use the e-service in
// proxy mode when it allows proxies, and is refused when it does not.
func TestR5_PreviewGuardianOf12y11m(t *testing.T) {
	for _, proxy := range []bool{true, false} {
		r := openPreview(t, proxy)
		r.as(t, personaProxy)
		per := r.p.currentPersona()
		if per.child.ID != r.demoID(demo.Child12y11m) || per.who.ID != r.demoID(demo.GuardianNotified) {
			t.Errorf("the proxy persona should be Elsa (12 år 11 mån) and her guardian who is not blocked: %q", describePersona(per))
		}
		if !strings.Contains(describePersona(per), "12 år (demodata)") {
			t.Errorf("persona %q", describePersona(per))
		}
		if !slices.Contains(r.lines(), L(textPvProxyOK)) {
			t.Errorf("proxy %v: the guardian may act for the child: %q", proxy, r.lines())
		}
		if r.p.decision.allowed != proxy || (r.p.view != nil) != proxy {
			t.Errorf("proxy allowed by the e-service %v: allowed %v, form shown %v (%q)", proxy, r.p.decision.allowed, r.p.view != nil, r.lines())
		}
		if !proxy && !slices.Contains(r.lines(), "E-tjänsten är inte tillgänglig: E-tjänsten kan inte användas i ombudsläge. Kontakta mottagningen på annat sätt.") {
			t.Errorf("refusal %q", r.lines())
		}
		if proxy {
			assertMarkup(t, "preview_proxy.xml", r.f.win.Canvas())
		}
	}
}

// R8: on the 13th birthday the guardian can no longer act as proxy; the
// preview shows the child's own view instead.
func TestR8_PreviewSameChildOn13thBirthday(t *testing.T) {
	r := openPreview(t, true)
	r.as(t, personaTurned13)
	per := r.p.currentPersona()
	if per.child.ID != r.demoID(demo.Child12y11m) || per.child.PNR.AgeOn(per.at) != 13 {
		t.Fatalf("persona %q", describePersona(per))
	}
	want := "Ombudsläge nekas: " + app.ProxyChildTooOld.Message()
	if l := r.lines(); !slices.Contains(l, want) || !slices.Contains(l, L(textPvOwnView)) {
		t.Errorf("lines %q, want %q and the child's own view", l, want)
	}
	if !r.p.decision.allowed || r.p.view == nil {
		t.Error("the 13-year-old uses the e-service personally")
	}
	if r.p.view.now != per.at {
		t.Error("the child's form is evaluated on the birthday")
	}
}

// R7: a guardian or child with protected identity cannot use proxy mode.
func TestR7_PreviewProtectedIdentityRefusesProxy(t *testing.T) {
	r := openPreview(t, true)
	r.as(t, personaProtected)
	per := r.p.currentPersona()
	if !per.who.Register.ProtectedIdentity && !per.child.Register.ProtectedIdentity {
		t.Fatalf("persona %q has no protected identity", describePersona(per))
	}
	want := "Ombudsläge nekas: " + app.ProxyProtectedIdentity.Message()
	if l := r.lines(); !slices.Contains(l, want) || r.p.decision.allowed || r.p.view != nil || r.p.submit.Visible() {
		t.Errorf("lines %q, want %q and no form", l, want)
	}
}

// R10: a resident with a locked login cannot use e-services.
func TestR10_PreviewLockedLogin(t *testing.T) {
	r := openPreview(t, true)
	r.as(t, personaLocked)
	if r.p.currentPersona().who.ID != r.demoID(demo.Locked) {
		t.Errorf("the locked persona should be the demo data set's locked resident")
	}
	if l := r.lines(); !slices.Equal(l, []string{L(textPvLocked)}) || r.p.decision.allowed || r.p.view != nil {
		t.Errorf("lines %q, want only %q and no form", l, L(textPvLocked))
	}
	assertMarkup(t, "preview_locked.xml", r.f.win.Canvas())
}

// R4: the notification texts shown are exactly the ones sent, and the
// inbox shows a template's subject and text.
func TestR4_PreviewMessageAndNotificationTexts(t *testing.T) {
	r := openPreview(t, true)
	p := r.p
	if p.sms.Text != app.SMSText {
		t.Errorf("SMS %q, want %q", p.sms.Text, app.SMSText)
	}
	if p.emailSubj.Text != "Ämne: "+app.EmailSubject {
		t.Errorf("e-mail subject %q", p.emailSubj.Text)
	}
	if strings.ReplaceAll(app.EmailBody, "\r\n", "\n") != p.emailBody.Text {
		t.Errorf("e-mail body %q", p.emailBody.Text)
	}
	var first app.MessageTemplate
	tpls, _ := r.f.store.Templates(context.Background(), r.sess.ClinicID)
	for _, tp := range tpls {
		if tp.Kind != app.KindStandardReply {
			first = tp
			break
		}
	}
	if p.inboxSubj.Text != first.Subject || p.inboxBody.Text != first.Body {
		t.Errorf("inbox %q / %q, want template %q", p.inboxSubj.Text, p.inboxBody.Text, first.Name)
	}
	for _, tp := range tpls {
		if tp.Kind == app.KindStandardReply && slices.Contains(p.tplPick.Options, tp.Name) {
			t.Errorf("standard reply %q offered: it never starts a case", tp.Name)
		}
	}
	p.tabs.SelectIndex(1)
	assertMarkup(t, "preview_message.xml", r.f.win.Canvas())
	shot(t, r.f.win, "preview-message.png")
}

// Without a demo database the personas are made up with the preview's own
// fixed ages; adults carry Skatteverket's published test numbers.
func TestPreview_MadeUpPersonas(t *testing.T) {
	ps := personas(nil, now)
	numbers := demo.TestNumbers()
	for _, p := range ps {
		if p.demo {
			t.Errorf("persona %d claims to be from the demo database", p.kind)
		}
		found := false
		for _, n := range numbers {
			if n.String() == p.who.PNR.String() {
				found = true
			}
		}
		if !found {
			t.Errorf("persona %d: the adult's personnummer is not a published test number", p.kind)
		}
		if p.who.PNR.AgeOn(p.at) < 18 {
			t.Errorf("persona %d: the resident signing in is %d", p.kind, p.who.PNR.AgeOn(p.at))
		}
	}
	c := ps[personaProxy].child
	if age := c.PNR.AgeOn(now); age != 12 || app.ThirteenthBirthday(c).Sub(now) > 31*24*time.Hour {
		t.Errorf("the child is %d, 13 on %v", age, app.ThirteenthBirthday(c))
	}
	def := &form.Definition{Name: "X", Availability: form.Availability{Proxy: true}}
	for k, want := range map[personaKind]bool{personaAdult: true, personaProxy: true, personaTurned13: true, personaProtected: false, personaLocked: false} {
		if got := decide(ps[k], def).allowed; got != want {
			t.Errorf("made-up persona %d: allowed %v, want %v (%v)", k, got, want, decide(ps[k], def).lines)
		}
	}
}

// Preselect "preview:NAME" (screenshots): the preview opens on the first
// e-service whose name starts with NAME, once the list is loaded.
func TestPreview_InitialEService(t *testing.T) {
	r := openPreview(t, false)
	p := newPreviewScreen(previewDeps{ctx: context.Background(), tasks: &r.f.ui.tasks, svc: r.svc, dir: r.f.store,
		residents: r.f.store, sess: r.sess, clock: app.FixedClock(now), initial: "Rökvanor"})
	r.f.win.SetContent(p.content)
	r.f.wait()
	if p.service.Selected != "Rökvanor inför operation – publicerad version 1" || p.current() == nil {
		t.Fatalf("preview opened on %q", p.service.Selected)
	}
}
