package app_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mottagning/app"
	"mottagning/app/demo"
)

// skatteverketTestPNR is a number from Skatteverket's published list of
// test personnummer (never issued to anyone).
const skatteverketTestPNR = "20000101-2384"

func (f *fixture) templates() *app.TemplateService {
	return app.NewTemplateService(f.store, app.ClockFunc(func() time.Time { return f.now }))
}

func (f *fixture) stored(id app.ID) *app.MessageTemplate {
	f.t.Helper()
	t, err := f.store.Template(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

func TestTemplates_LocalAdminCreatesStandardReply(t *testing.T) {
	f := newFixture(t)
	f.now = seedTime.Add(time.Hour)
	admin := f.session(demo.StaffLocalAdmin, 0)
	in := &app.MessageTemplate{Name: "  Recept förnyat  ", Kind: app.KindStandardReply,
		Body: "Hej!\n\nDitt recept är förnyat och finns på apoteket.\n\nVänliga hälsningar"}
	saved, warnings, err := f.templates().Save(f.ctx, admin, in)
	if err != nil {
		t.Fatalf("save: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %v, want none", warnings)
	}
	if saved.ID.IsZero() || !saved.UpdatedAt.Equal(f.now) || saved.ClinicID != admin.ClinicID || saved.Name != "Recept förnyat" {
		t.Errorf("saved = %+v: want a new id, UpdatedAt from the clock, the session's clinic and a trimmed name", saved)
	}
	if !in.ID.IsZero() || in.Name != "  Recept förnyat  " {
		t.Error("Save changed its argument")
	}
	if d := cmp.Diff(saved, f.stored(saved.ID)); d != "" {
		t.Errorf("store (-returned +stored):\n%s", d)
	}
	replies, err := f.templates().List(f.ctx, admin, app.KindStandardReply)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(replies, func(m app.MessageTemplate) bool { return m.ID == saved.ID }) {
		t.Error("the new standard reply is not listed")
	}
	for _, m := range replies {
		if m.Kind != app.KindStandardReply || m.ClinicID != admin.ClinicID {
			t.Errorf("List(standardsvar) returned a %s template of clinic %s", m.Kind, m.ClinicID)
		}
	}
}

func TestTemplates_LocalAdminEditsTemplate(t *testing.T) {
	f := newFixture(t)
	admin := f.session(demo.StaffLocalAdmin, 0)
	tpl := f.template(0, app.KindQuestion)
	f.now = seedTime.Add(2 * time.Hour)
	tpl.Body = "Hej!\n\nHur mår du nu? Svara gärna här.\n\nVänliga hälsningar"
	saved, _, err := f.templates().Save(f.ctx, admin, &tpl)
	if err != nil {
		t.Fatalf("save: %v", err)
	}
	got := f.stored(tpl.ID)
	if saved.ID != tpl.ID || got.Body != tpl.Body || !got.UpdatedAt.Equal(f.now) {
		t.Errorf("stored %+v, want the new text under the same id, updated now", got)
	}
}

// A template with forbidden content: nothing half-written, nothing lost.
func TestTemplates_RefusedSaveLeavesStoredTemplateUnchanged(t *testing.T) {
	f := newFixture(t)
	admin := f.session(demo.StaffLocalAdmin, 0)
	tpl := f.template(0, app.KindInformation)
	before := f.stored(tpl.ID)
	edit := tpl
	edit.Subject = "Nytt ämne"
	edit.Body = "Hej {namn}!\n\nGäller " + skatteverketTestPNR + ".\n\nLäs mer på www.1177.se."
	saved, _, err := f.templates().Save(f.ctx, admin, &edit)
	if !errors.Is(err, app.ErrInvalid) || saved != nil {
		t.Fatalf("save = %v, %v; want ErrInvalid and nothing", saved, err)
	}
	var lint *app.TemplateLintError
	if !errors.As(err, &lint) {
		t.Fatalf("error %T does not carry the lint issues", err)
	}
	codes := map[string]app.Severity{}
	for _, i := range lint.Issues {
		if i.Field != app.FieldText {
			t.Errorf("issue at %s, want only Text", i.Field)
		}
		codes[i.Code] = i.Severity
	}
	if codes[app.LintPersonnummer] != app.LintError || codes[app.LintNamePlaceholder] != app.LintError || codes[app.LintLink] != app.LintWarning {
		t.Errorf("issues %v: want personnummer and name placeholder as errors, the link as a warning", codes)
	}
	if strings.Contains(err.Error(), "2384") || strings.Contains(err.Error(), "namn}") || strings.Contains(err.Error(), "Nytt") {
		t.Errorf("error %q repeats the template's text", err)
	}
	if d := cmp.Diff(before, f.stored(tpl.ID)); d != "" {
		t.Errorf("a refused save changed the stored template (-before +after):\n%s", d)
	}
	if app.Code(err) != "invalid" {
		t.Errorf("code %q, want invalid", app.Code(err))
	}
}

func TestTemplates_WarningsComeWithSuccess(t *testing.T) {
	f := newFixture(t)
	admin := f.session(demo.StaffLocalAdmin, 1)
	in := &app.MessageTemplate{Name: "Tid bokad", Kind: app.KindInformation, Subject: "Din tid",
		Body: "Hej!\n\nDin tid är {datum}. Läs om förberedelser på 1177.se."}
	saved, warnings, err := f.templates().Save(f.ctx, admin, in)
	if err != nil {
		t.Fatalf("save: %v", err)
	}
	var codes []string
	for _, w := range warnings {
		if w.Severity != app.LintWarning {
			t.Errorf("%s returned with success as an error", w.Code)
		}
		codes = append(codes, w.Code)
	}
	if !slices.Equal(codes, []string{app.LintLink, app.LintPlaceholder}) {
		t.Errorf("warnings %q, want link and placeholder", codes)
	}
	if f.stored(saved.ID).Body != in.Body {
		t.Error("the text was not stored as written")
	}
}

// Role table: only the lokal administratör changes templates; staff who
// handle cases read them; others see nothing.
func TestRoles_OnlyLocalAdminSavesTemplates(t *testing.T) {
	f := newFixture(t)
	svc := f.templates()
	tpl := f.template(0, app.KindInformation)
	for _, key := range []string{demo.StaffReceiver, demo.StaffHandler, demo.StaffPermAdmin, demo.StaffAuditor} {
		edit := tpl
		edit.Body = "Ändrad av " + key
		if _, _, err := svc.Save(f.ctx, f.session(key, 0), &edit); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s: save = %v, want ErrForbidden", key, err)
		}
	}
	if f.stored(tpl.ID).Body != tpl.Body {
		t.Error("a refused save changed the template")
	}
	for key, may := range map[string]bool{demo.StaffLocalAdmin: true, demo.StaffReceiver: true, demo.StaffHandler: true, demo.StaffPermAdmin: false, demo.StaffAuditor: false} {
		list, err := svc.List(f.ctx, f.session(key, 0), "")
		switch {
		case may && (err != nil || len(list) == 0):
			t.Errorf("%s: list = %d, %v; want the clinic's templates", key, len(list), err)
		case !may && !errors.Is(err, app.ErrForbidden):
			t.Errorf("%s: list = %v, want ErrForbidden", key, err)
		}
		_, err = svc.Get(f.ctx, f.session(key, 0), tpl.ID)
		if may != (err == nil) || (!may && !errors.Is(err, app.ErrForbidden)) {
			t.Errorf("%s: get = %v, may read %v", key, err, may)
		}
	}
}

// Nobody sees anything of a clinic they have no role in, and a template is
// saved only into the session's clinic — also by an administrator of both.
func TestTemplates_OnlyTheSessionsClinic(t *testing.T) {
	f := newFixture(t)
	svc := f.templates()
	centrum := f.session(demo.StaffLocalAdmin, 0)
	barnTpl := f.template(1, app.KindInformation)

	if _, err := svc.Get(f.ctx, centrum, barnTpl.ID); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("get another clinic's template = %v, want ErrForbidden", err)
	}
	edit := barnTpl
	edit.Body = "Ändrad"
	if _, _, err := svc.Save(f.ctx, centrum, &edit); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("save over another clinic's template = %v, want ErrForbidden", err)
	}
	moved := barnTpl
	moved.ClinicID = centrum.ClinicID
	if _, _, err := svc.Save(f.ctx, centrum, &moved); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("moving another clinic's template = %v, want ErrForbidden", err)
	}
	newForBarn := &app.MessageTemplate{ClinicID: barnTpl.ClinicID, Name: "Ny", Kind: app.KindStandardReply, Body: "Tack!"}
	if _, _, err := svc.Save(f.ctx, centrum, newForBarn); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("new template into another clinic = %v, want ErrForbidden", err)
	}
	if d := cmp.Diff(&barnTpl, f.stored(barnTpl.ID)); d != "" {
		t.Errorf("the other clinic's template changed:\n%s", d)
	}
	list, err := svc.List(f.ctx, centrum, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.ClinicID != centrum.ClinicID {
			t.Errorf("List shows template %s of clinic %s", m.ID, m.ClinicID)
		}
	}
	// Björn works in Vårdcentralen Centrum only.
	bjorn := f.session(demo.StaffHandler, 1)
	if _, err := svc.List(f.ctx, bjorn, ""); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("list in a clinic without a role = %v, want ErrForbidden", err)
	}
}

// An edit made from an old copy does not undo a newer save.
func TestTemplates_StaleSaveIsConflict(t *testing.T) {
	f := newFixture(t)
	svc := f.templates()
	admin := f.session(demo.StaffLocalAdmin, 0)
	tpl := f.template(0, app.KindQuestion)
	first, second := tpl, tpl
	first.Body = "Första ändringen."
	f.now = seedTime.Add(time.Minute)
	if _, _, err := svc.Save(f.ctx, admin, &first); err != nil {
		t.Fatal(err)
	}
	second.Body = "Andra ändringen, från en gammal kopia."
	f.now = seedTime.Add(2 * time.Minute)
	if _, _, err := svc.Save(f.ctx, admin, &second); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("stale save = %v, want ErrConflict", err)
	}
	if got := f.stored(tpl.ID).Body; got != first.Body {
		t.Error("the stale save overwrote the newer text")
	}
}

func TestTemplates_UnknownTemplateIsNotFound(t *testing.T) {
	f := newFixture(t)
	admin := f.session(demo.StaffLocalAdmin, 0)
	id := app.NewID(f.now)
	if _, err := f.templates().Get(f.ctx, admin, id); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("get = %v, want ErrNotFound", err)
	}
	x := &app.MessageTemplate{ID: id, Name: "X", Kind: app.KindStandardReply, Body: "Tack!"}
	if _, _, err := f.templates().Save(f.ctx, admin, x); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("save with an unknown id = %v, want ErrNotFound", err)
	}
}

func TestTemplateKinds_Labels(t *testing.T) {
	want := []string{"Information", "Fråga", "Standardsvar"}
	for i, k := range app.TemplateKinds {
		if got := app.TemplateKindLabel(k); got != want[i] {
			t.Errorf("TemplateKindLabel(%s) = %q, want %q", k, got, want[i])
		}
	}
	if app.ValidTemplateKind(app.KindEService) {
		t.Error("an e-service is not a template kind")
	}
}

// The demo data set has standard replies in every clinic, and every demo
// template passes the linter.
func TestTemplates_DemoTemplatesPassTheLinter(t *testing.T) {
	f := newFixture(t)
	replies := map[app.ID]int{}
	for _, tpl := range f.ds.Templates {
		if app.HasLintErrors(app.LintTemplate(&tpl)) {
			t.Errorf("demo template %q has lint errors: %v", tpl.Name, app.LintTemplate(&tpl))
		}
		if tpl.Kind == app.KindStandardReply {
			replies[tpl.ClinicID]++
		}
	}
	for _, c := range f.ds.Clinics {
		if replies[c.ID] < 2 {
			t.Errorf("clinic %s has %d standard replies, want a few", c.Name, replies[c.ID])
		}
	}
}

// Issue 18, item 7: a template can be taken out of use (never deleted:
// old cases name it). Only the lokal administratör may, over the version
// they read; Skicka ärende from here refuses a retired template, an edit
// keeps it retired, and it can be taken into use again.
func TestTemplates_RetiredTemplateIsKeptAndRefusedForSending(t *testing.T) {
	f := newFixture(t)
	admin := f.session(demo.StaffLocalAdmin, 0)
	handler := f.session(demo.StaffHandler, 0)
	tpl := f.template(0, app.KindQuestion)
	svc := f.templates()
	if _, err := svc.SetRetired(f.ctx, handler, tpl.ID, tpl.UpdatedAt, true); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("a handler retired a template: %v", err)
	}
	if _, err := svc.SetRetired(f.ctx, admin, tpl.ID, tpl.UpdatedAt.Add(-time.Minute), true); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("retiring a version other than the one read: %v, want ErrConflict", err)
	}
	f.now = seedTime.Add(time.Hour)
	retired, err := svc.SetRetired(f.ctx, admin, tpl.ID, tpl.UpdatedAt, true)
	if err != nil || !retired.Retired || !f.stored(tpl.ID).Retired {
		t.Fatalf("retire: %+v, %v", retired, err)
	}
	list, err := svc.List(f.ctx, admin, "")
	if err != nil || !slices.ContainsFunc(list, func(x app.MessageTemplate) bool { return x.ID == tpl.ID && x.Retired }) {
		t.Fatalf("the retired template is not kept in the clinic's list: %v", err)
	}
	sess := f.session(demo.StaffReceiver, 0)
	_, err = f.cases.SendCase(f.ctx, sess, app.SendRequest{TemplateID: tpl.ID, ResidentID: f.ds.Persona[demo.AdultEmail], Subject: tpl.Subject, Text: tpl.Body})
	if !errors.Is(err, app.ErrTemplateRetired) {
		t.Fatalf("send with a retired template: %v, want ErrTemplateRetired", err)
	}
	// An edit of the retired template keeps it retired.
	edit := *retired
	edit.Body += "\n\nUppdaterad."
	saved, _, err := svc.Save(f.ctx, admin, &edit)
	if err != nil || !saved.Retired {
		t.Fatalf("edit of a retired template: retired %v, %v", saved != nil && saved.Retired, err)
	}
	back, err := svc.SetRetired(f.ctx, admin, tpl.ID, saved.UpdatedAt, false)
	if err != nil || back.Retired {
		t.Fatalf("into use again: %+v, %v", back, err)
	}
	if _, err := f.cases.SendCase(f.ctx, sess, app.SendRequest{TemplateID: tpl.ID, ResidentID: f.ds.Persona[demo.AdultEmail], Subject: tpl.Subject, Text: tpl.Body}); err != nil {
		t.Fatalf("send with the template in use again: %v", err)
	}
}
