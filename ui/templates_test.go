package ui

import (
	"context"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
)

// The template screen on the real seeded store and the real
// TemplateService. The window shows the screen alone.

// tplSkatteverketPNR is from Skatteverket's published test personnummer.
const tplSkatteverketPNR = "20000101-2384"

type tplRun struct {
	f    *fixture
	s    *templatesScreen
	sess app.Session
	svc  *app.TemplateService
}

func openTemplates(t *testing.T, staffKey, clinic string) *tplRun {
	t.Helper()
	f := newFixture(t, false, nil)
	var st app.Staff
	for _, x := range f.ds.Staff {
		if x.ID == f.ds.StaffBy[staffKey] {
			st = x
		}
	}
	if st.ID == "" {
		t.Fatalf("no demo staff %q", staffKey)
	}
	c := f.clinic(clinic)
	r := &tplRun{f: f, sess: app.Session{Staff: &st, ClinicID: c.ID}, svc: app.NewTemplateService(f.store, app.FixedClock(now))}
	r.s = newTemplatesScreen(templatesDeps{ctx: context.Background(), tasks: &f.ui.tasks, svc: r.svc, sess: r.sess, clinic: c})
	f.win.SetContent(r.s.content)
	f.wait()
	return r
}

// choose selects the template named name in the list, as a click would.
func (r *tplRun) choose(t *testing.T, name string) {
	t.Helper()
	for row, i := range r.s.shown {
		if r.s.all[i].Name == name {
			r.s.list.Select(row)
			r.f.wait()
			return
		}
	}
	t.Fatalf("template %q not in the list", name)
}

func (r *tplRun) stored(t *testing.T, name string) app.MessageTemplate {
	t.Helper()
	all, err := r.f.store.Templates(context.Background(), r.sess.ClinicID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no stored template %q", name)
	return app.MessageTemplate{}
}

// tplCapture writes the window as a PNG to /tmp when TPL_PNG is set, to
// look at the screen with a real theme.
func tplCapture(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	if os.Getenv("TPL_PNG") == "" {
		return
	}
	test.ApplyTheme(t, theme.LightTheme())
	f, err := os.Create("/tmp/" + name + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

func TestTemplates_ListsTheClinicsTemplatesOfEveryKind(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	var want []string
	for _, m := range r.f.ds.Templates {
		if m.ClinicID == r.sess.ClinicID {
			want = append(want, m.Name)
		}
	}
	slices.Sort(want)
	var got []string
	kinds := map[app.TemplateKind]bool{}
	for _, i := range r.s.shown {
		got = append(got, r.s.all[i].Name)
		kinds[r.s.all[i].Kind] = true
	}
	if !slices.Equal(got, want) {
		t.Errorf("list = %q, want the clinic's templates by name %q", got, want)
	}
	if len(kinds) != 3 {
		t.Errorf("kinds listed: %v, want Information, Fråga and Standardsvar", kinds)
	}
	if r.s.form.Visible() || !r.s.pick.Visible() {
		t.Error("before a choice the form should rest and say how to begin")
	}
	assertMarkup(t, "templates_list.xml", r.f.win.Canvas())
	tplCapture(t, r.f.win, "templates_list")

	r.s.filter.SetSelected(app.TemplateKindLabel(app.KindStandardReply))
	r.f.wait()
	if len(r.s.shown) == 0 {
		t.Fatal("the Standardsvar filter shows nothing")
	}
	for _, i := range r.s.shown {
		if r.s.all[i].Kind != app.KindStandardReply {
			t.Errorf("the Standardsvar filter shows a %s template", r.s.all[i].Kind)
		}
	}
}

// Bad input: a personnummer in a template gives a clear Swedish message
// at the field, Spara is disabled, nothing is written; fixed, it saves.
func TestTemplates_PersonnummerIsRefusedAtTheFieldThenFixedAndSaved(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	const name = "Provsvar utan anmärkning"
	before := r.stored(t, name)
	r.choose(t, name)
	if !s.form.Visible() || s.name.Text != name || s.body.Text != before.Body {
		t.Fatalf("choosing %q did not show it in the form", name)
	}
	if !s.save.Disabled() {
		t.Error("Spara should be disabled before any change")
	}

	test.Type(s.body, "Gäller "+tplSkatteverketPNR+". ")
	msg := s.fieldIssueText(app.FieldText)
	if !strings.Contains(msg, "personnummer") || strings.Contains(msg, "2384") {
		t.Errorf("message at Text = %q: want the personnummer error, without the number", msg)
	}
	if len(s.fieldIssues[app.FieldText].Objects) == 0 || len(s.fieldIssues[app.FieldName].Objects) != 0 {
		t.Error("the error should show under Text and nowhere else")
	}
	if !s.save.Disabled() {
		t.Error("Spara must be disabled while there is an error")
	}
	if s.status.Text != L(textTplFixErrors) {
		t.Errorf("status = %q, want %q", s.status.Text, L(textTplFixErrors))
	}
	test.Tap(s.save) // disabled: nothing happens
	r.f.wait()
	if got := r.stored(t, name); got.Body != before.Body {
		t.Fatal("a template with a personnummer was written")
	}
	assertMarkup(t, "templates_error.xml", r.f.win.Canvas())
	tplCapture(t, r.f.win, "templates_error")

	fixed := before.Body + "\nProvsvaren finns också i journalen."
	s.body.SetText(fixed)
	if s.fieldIssueText(app.FieldText) != "" || s.save.Disabled() {
		t.Fatalf("after the fix: message %q, Spara disabled %v", s.fieldIssueText(app.FieldText), s.save.Disabled())
	}
	if s.status.Text != L(textTplUnsaved) {
		t.Errorf("status = %q, want %q", s.status.Text, L(textTplUnsaved))
	}
	test.Tap(s.save)
	r.f.wait()
	got := r.stored(t, name)
	if got.Body != fixed || got.ID != before.ID || !got.UpdatedAt.Equal(now) {
		t.Errorf("stored %+v: want the fixed text under the same id, changed now", got)
	}
	if s.status.Text != L(textTplSaved) || !s.save.Disabled() || s.dirty() {
		t.Errorf("after saving: status %q, Spara disabled %v, dirty %v", s.status.Text, s.save.Disabled(), s.dirty())
	}
}

func TestTemplates_LocalAdminCreatesStandardReply(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Barn- och ungdomsmottagningen Huskvarna")
	s := r.s
	r.s.filter.SetSelected(app.TemplateKindLabel(app.KindStandardReply))
	test.Tap(s.newBtn)
	r.f.wait()
	if !s.form.Visible() || s.kind.Selected != "Standardsvar" || s.name.Text != "" {
		t.Fatalf("Ny mall under the Standardsvar filter: form visible %v, kind %q", s.form.Visible(), s.kind.Selected)
	}
	if !s.subject.Disabled() {
		t.Error("a standard reply has no subject: the field should rest")
	}
	if len(s.issues) != 0 {
		t.Errorf("a fresh form nags about empty fields: %v", s.issues)
	}
	if !s.save.Disabled() {
		t.Error("Spara should wait for a name and a text")
	}
	assertMarkup(t, "templates_new.xml", r.f.win.Canvas())
	tplCapture(t, r.f.win, "templates_new")

	test.Type(s.name, "Remiss skickad")
	if !s.save.Disabled() {
		t.Error("Spara enabled without a text")
	}
	test.Type(s.body, "Hej!\n\nVi har skickat remissen. Du blir kallad av mottagningen.")
	if s.save.Disabled() {
		t.Fatalf("Spara disabled for a complete standard reply: %v", s.issues)
	}
	test.Tap(s.save)
	r.f.wait()
	got := r.stored(t, "Remiss skickad")
	if got.Kind != app.KindStandardReply || got.Subject != "" || got.ClinicID != r.sess.ClinicID || !strings.Contains(got.Body, "remissen") {
		t.Errorf("stored %+v, want a standard reply of the clinic", got)
	}
	if s.base.ID != got.ID {
		t.Error("after saving, the form should edit the saved template")
	}
	sel := -1
	for row, i := range s.shown {
		if s.all[i].ID == got.ID {
			sel = row
		}
	}
	if sel < 0 {
		t.Error("the new standard reply is not in the list")
	}
}

// Switching template with unsaved edits asks first; staying keeps them,
// leaving drops them and writes nothing.
func TestTemplates_UnsavedChangesAskBeforeSwitching(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	r.choose(t, "Kallelse till årskontroll")
	before := r.stored(t, "Kallelse till årskontroll")
	test.Type(s.subject, "Ny ")
	edited := s.subject.Text

	r.choose(t, "Fråga om hur det går")
	if s.ask == nil || !s.ask.Visible() {
		t.Fatal("switching with unsaved edits should ask first")
	}
	if s.name.Text != "Kallelse till årskontroll" || s.subject.Text != edited {
		t.Error("the form changed before the question was answered")
	}
	assertMarkup(t, "templates_unsaved.xml", r.f.win.Canvas())
	tplCapture(t, r.f.win, "templates_unsaved")

	test.Tap(s.stayBtn)
	if s.ask.Visible() || s.subject.Text != edited || s.base.Name != "Kallelse till årskontroll" {
		t.Error("Fortsätt redigera should keep the edits")
	}
	if sel := s.all[s.shown[selectedRow(t, s)]].Name; sel != "Kallelse till årskontroll" {
		t.Errorf("the list selects %q, want the template in the form", sel)
	}

	test.Tap(s.newBtn)
	if !s.ask.Visible() {
		t.Fatal("Ny mall with unsaved edits should ask first")
	}
	test.Tap(s.leaveBtn)
	if s.ask.Visible() || !s.base.ID.IsZero() || s.name.Text != "" {
		t.Error("Lämna utan att spara should go on to the new template")
	}
	if got := r.stored(t, "Kallelse till årskontroll"); got != before {
		t.Error("leaving unsaved edits wrote something")
	}
}

func selectedRow(t *testing.T, s *templatesScreen) int {
	t.Helper()
	for row, i := range s.shown {
		if s.all[i].ID == s.base.ID {
			return row
		}
	}
	t.Fatal("the edited template is not in the list")
	return -1
}

// Nothing lost: a save refused because someone else changed the template
// meanwhile keeps the edits in the form and the other version in the store.
func TestTemplates_ConflictKeepsEditsAndTheOtherVersion(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	r.choose(t, "Komplettering behövs")
	other := r.stored(t, "Komplettering behövs")
	other.Body = "Ändrad någon annanstans."
	later := app.NewTemplateService(r.f.store, app.FixedClock(now.Add(time.Minute)))
	if _, _, err := later.Save(context.Background(), r.sess, &other); err != nil {
		t.Fatal(err)
	}
	test.Type(s.body, "Min ändring. ")
	mine := s.body.Text
	test.Tap(s.save)
	r.f.wait()
	if s.status.Text != L(textTplConflict) || s.status.Importance != widget.DangerImportance {
		t.Errorf("status = %q, want %q", s.status.Text, L(textTplConflict))
	}
	if s.body.Text != mine || !s.dirty() {
		t.Error("the edits should stay in the form")
	}
	if got := r.stored(t, "Komplettering behövs"); got.Body != other.Body {
		t.Error("the stale save overwrote the other version")
	}
}

// The role table: a granskare has nothing to do with templates.
func TestRoles_AuditorGetsForbiddenText(t *testing.T) {
	r := openTemplates(t, demo.StaffAuditor, "Vårdcentralen Centrum")
	s := r.s
	if s.listMsg.Text != L(textForbidden) || !s.listMsg.Visible() {
		t.Errorf("list message = %q (visible %v), want %q", s.listMsg.Text, s.listMsg.Visible(), L(textForbidden))
	}
	if len(s.shown) != 0 || s.newBtn.Visible() || s.form.Visible() {
		t.Error("a refused list shows no templates, no Ny mall and no form")
	}
	assertMarkup(t, "templates_forbidden.xml", r.f.win.Canvas())
}

// Staff who handle cases read templates (they use them) but cannot change them.
func TestRoles_CaseHandlerReadsTemplatesOnly(t *testing.T) {
	r := openTemplates(t, demo.StaffHandler, "Vårdcentralen Centrum")
	s := r.s
	if len(s.shown) == 0 {
		t.Fatal("an ärendehanterare should see the clinic's templates")
	}
	r.choose(t, "Provsvar utan anmärkning")
	if !s.name.Disabled() || !s.body.Disabled() || !s.kind.Disabled() || s.save.Visible() || s.newBtn.Visible() {
		t.Error("an ärendehanterare's form should be read-only, without Spara or Ny mall")
	}
	if !s.readOnly.Visible() {
		t.Error("the read-only form should say why")
	}
	r.choose(t, "Fråga om hur det går")
	if s.ask != nil && s.ask.Visible() {
		t.Error("a read-only form has nothing unsaved to ask about")
	}
}

// Turning a template into a standard reply: its subject is not silently
// dropped; the field says it must be emptied, and Spara waits for that.
func TestTemplates_StandardReplyWithSubjectMustBeEmptiedAtTheField(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	r.choose(t, "Komplettering behövs")
	s.kind.SetSelected(app.TemplateKindLabel(app.KindStandardReply))
	if msg := s.fieldIssueText(app.FieldSubject); !strings.Contains(msg, "standardsvar har inget ämne") {
		t.Errorf("message at Ämne = %q, want that a standard reply has no subject", msg)
	}
	if s.subject.Disabled() || !s.save.Disabled() {
		t.Fatalf("the subject must stay editable and Spara disabled: disabled %v, Spara disabled %v", s.subject.Disabled(), s.save.Disabled())
	}
	s.subject.SetText("")
	if s.subject.Disabled() {
		t.Error("emptying the subject should not take the field away while typing")
	}
	if s.fieldIssueText(app.FieldSubject) != "" || s.save.Disabled() {
		t.Fatalf("after emptying: message %q, Spara disabled %v", s.fieldIssueText(app.FieldSubject), s.save.Disabled())
	}
	test.Tap(s.save)
	r.f.wait()
	if got := r.stored(t, "Komplettering behövs"); got.Kind != app.KindStandardReply || got.Subject != "" {
		t.Errorf("stored kind %s, subject empty %v; want a standard reply without subject", got.Kind, got.Subject == "")
	}
}

// A link in the text is a warning: shown at the field, and saving is allowed.
func TestTemplates_LinkInTextWarnsButSaves(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	r.choose(t, "Tid bokad")
	test.Type(s.body, "Läs mer på 1177.se. ")
	if !strings.Contains(s.fieldIssueText(app.FieldText), "länk") || s.save.Disabled() {
		t.Fatalf("message %q, Spara disabled %v; want a warning and Spara enabled", s.fieldIssueText(app.FieldText), s.save.Disabled())
	}
	test.Tap(s.save)
	r.f.wait()
	if s.status.Text != L(textTplSavedWarn) {
		t.Errorf("status = %q, want %q", s.status.Text, L(textTplSavedWarn))
	}
	if got := r.stored(t, "Tid bokad"); !strings.HasPrefix(got.Body, "Läs mer") {
		t.Error("the text with the link was not stored")
	}
	tplCapture(t, r.f.win, "templates_warning")
}

// Issue 18: a personnummer without dash or century (0001012384, the same
// test number) was only a warning and could be saved. It is an error at
// the field now, with a message that also tells how to write a phone
// number, and Spara stays disabled; nothing is written.
func TestTemplates_BarePersonnummerWithoutCenturyIsRefused(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	const name = "Provsvar utan anmärkning"
	before := r.stored(t, name)
	r.choose(t, name)
	test.Type(s.body, "Gäller 0001012384. ")
	msg := s.fieldIssueText(app.FieldText)
	if !strings.Contains(msg, "personnummer") || !strings.Contains(msg, "070-123 45 67") || strings.Contains(msg, "2384") {
		t.Errorf("message at Text = %q: want the personnummer error with the phone-number advice, without the number", msg)
	}
	if !s.save.Disabled() || s.status.Text != L(textTplFixErrors) {
		t.Errorf("Spara disabled %v, status %q: a bare personnummer must stop saving", s.save.Disabled(), s.status.Text)
	}
	test.Tap(s.save)
	r.f.wait()
	if got := r.stored(t, name); got.Body != before.Body {
		t.Fatal("a template with a personnummer was written")
	}
}

// Issue 18, item 7: templates could not be deleted or retired. The lokal
// administratör takes one out of use: it stays in the store (old cases
// name it), the list marks it "ur bruk", the form says what that means,
// and Skicka ärende and massutskick no longer offer it; taken into use
// again, it is offered again. An edit in progress disables the button.
func TestTemplates_RetireKeepsTheTemplateButOffersItNowhere(t *testing.T) {
	r := openTemplates(t, demo.StaffLocalAdmin, "Vårdcentralen Centrum")
	s := r.s
	var name string
	for _, tp := range s.all {
		if tp.Kind == app.KindQuestion {
			name = tp.Name
		}
	}
	if name == "" {
		t.Fatal("no Fråga template in the demo clinic")
	}
	r.choose(t, name)
	if s.retire.Hidden || s.retire.Disabled() || s.retire.Text != L(textTplRetire) || !s.retiredNote.Hidden {
		t.Fatalf("retire button: hidden %v disabled %v text %q; note hidden %v", s.retire.Hidden, s.retire.Disabled(), s.retire.Text, s.retiredNote.Hidden)
	}
	test.Type(s.body, " Mer.")
	if !s.retire.Disabled() {
		t.Error("the retire button must wait while there are unsaved edits")
	}
	s.doRevert()
	r.f.wait()
	test.Tap(s.retire)
	r.f.wait()
	got := r.stored(t, name)
	if !got.Retired {
		t.Fatal("the template was not taken out of use")
	}
	if s.status.Text != L(textTplRetiredDone) || s.retiredNote.Hidden || s.retire.Text != L(textTplReinstate) {
		t.Errorf("after retiring: status %q, note hidden %v, button %q", s.status.Text, s.retiredNote.Hidden, s.retire.Text)
	}
	row := slices.IndexFunc(s.shown, func(i int) bool { return s.all[i].Name == name })
	if row < 0 || !strings.Contains(tplSubtitle(&s.all[s.shown[row]]), L(textTplRetiredTag)) {
		t.Errorf("the list does not mark the template %q", L(textTplRetiredTag))
	}
	all, err := r.f.store.Templates(context.Background(), r.sess.ClinicID)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(offeredTemplates(all), func(tp app.MessageTemplate) bool { return tp.Name == name }) {
		t.Error("Skicka ärende and massutskick still offer a retired template")
	}
	tplCapture(t, r.f.win, "templates_retired")

	test.Tap(s.retire)
	r.f.wait()
	if got := r.stored(t, name); got.Retired || s.status.Text != L(textTplInUseDone) {
		t.Errorf("taken into use again: retired %v, status %q", got.Retired, s.status.Text)
	}
	all, _ = r.f.store.Templates(context.Background(), r.sess.ClinicID)
	if !slices.ContainsFunc(offeredTemplates(all), func(tp app.MessageTemplate) bool { return tp.Name == name }) {
		t.Error("a template in use again is not offered")
	}
}
