package ui

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
)

// The builder and the preview run over the real bbolt store of newFixture
// (its form versions too) and the real app.EServiceBuilder.

// shotsDirEnv names a directory for PNGs of the builder and the preview,
// with Fyne's real theme (to look at them); unset, none are written.
const shotsDirEnv = "MOTTAGNING_SHOTS"

func shot(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	dir := os.Getenv(shotsDirEnv)
	if dir == "" {
		return
	}
	test.ApplyTheme(t, theme.DefaultTheme())
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
	test.ApplyTheme(t, test.Theme())
}

type esRun struct {
	f     *fixture
	forms app.FormStore
	svc   *app.EServiceBuilder
	sess  app.Session
	s     *eservicesScreen
}

// openBuilder shows the builder alone in the window, as the lokal
// administratör of Vårdcentralen Centrum.
func openBuilder(t *testing.T) *esRun {
	t.Helper()
	f := newFixture(t, false, nil)
	st := staffByKey(f, t, demo.StaffLocalAdmin)
	c := f.clinic("Vårdcentralen Centrum")
	r := &esRun{f: f, forms: f.store, sess: app.Session{Staff: &st, ClinicID: c.ID}}
	r.svc = app.NewEServiceBuilder(f.store, r.forms, app.FixedClock(now))
	r.s = newEServicesScreen(eservicesDeps{ctx: context.Background(), tasks: &f.ui.tasks, svc: r.svc, dir: f.store,
		residents: f.store, sess: r.sess, clinic: c, clock: app.FixedClock(now)})
	f.win.SetContent(r.s.content)
	f.wait()
	return r
}

// retype replaces an entry's text as typing would.
func retype(e *widget.Entry, text string) {
	e.SetText("")
	test.Type(e, text)
}

func (r *esRun) add(t *testing.T, typ form.Type, label string, required bool) string {
	t.Helper()
	r.s.addType.SetSelected(typeLabel(typ))
	test.Tap(r.s.addBtn)
	id := r.s.selected
	if it := r.s.f.Item(id); it == nil || it.Type != typ {
		t.Fatalf("Lägg till fält %s did not add and select an item of that type", typ)
	}
	retype(&r.s.itemLabel.Entry, label)
	if required {
		test.Tap(r.s.itemRequired)
	}
	return id
}

// publishDialog taps Publicera … and waits for the dialog.
func (r *esRun) publishDialog(t *testing.T) {
	t.Helper()
	test.Tap(r.s.pubBtn)
	r.f.wait()
	if r.s.pubPop == nil || !r.s.pubPop.Visible() {
		t.Fatalf("Publicera … showed no dialog (status %q)", r.s.status.Text)
	}
}

func TestEServices_BuildConditionalAndRequired_FixBrokenReference_PublishVersion1(t *testing.T) {
	r := openBuilder(t)
	s := r.s
	if !slices.ContainsFunc(s.all, func(e app.EServiceDraft) bool { return e.EService.Name == "Förnya recept" && e.EService.Standard }) {
		t.Fatal("the activated standard e-services should be listed")
	}
	// A standard e-service is read-only.
	s.selectByName("Förnya recept")
	if s.editable() || s.saveBtn.Visible() || !s.stdNote.Visible() {
		t.Error("a standard e-service must be read-only, with the note saying so")
	}

	// Ny e-tjänst.
	test.Tap(s.newBtn)
	if s.newPop == nil || !s.newPop.Visible() || !s.newOK.Disabled() {
		t.Fatal("Ny e-tjänst should ask for a name, Skapa disabled while it is empty")
	}
	test.Type(s.newName, "Rökvanor inför operation")
	test.Tap(s.newOK)
	r.f.wait()
	if s.cur == nil || s.cur.EService.Name != "Rökvanor inför operation" || !s.editable() {
		t.Fatalf("the new e-service should open in the editor, got %v", s.cur)
	}

	// A yes/no question, a conditional follow-up, a required question.
	smoke := r.add(t, form.TypeBoolean, "Röker du?", false)
	perDay := r.add(t, form.TypeNumber, "Hur många cigaretter per dag?", false)
	test.Tap(s.addCond)
	if len(s.conds) != 1 || s.f.Item(perDay).EnableWhen[0].Item != smoke {
		t.Fatalf("Lägg till villkor should refer to the question above, got %+v", s.f.Item(perDay).EnableWhen)
	}
	s.conds[0].value.(*widget.Select).SetSelected(L(textFvYes))
	if c := s.f.Item(perDay).EnableWhen[0]; c.Op != form.OpEquals || !c.Value.Bool {
		t.Fatalf("condition %+v, want Röker du? = Ja", c)
	}
	clinicQ := r.add(t, form.TypeText, "Vilken vårdcentral går du till?", true)
	if len(s.problems) != 0 {
		t.Fatalf("problems %+v, want none", s.problems)
	}
	if !s.dirty() || s.status.Text != L(textEsUnsaved) {
		t.Errorf("unsaved edits: status %q", s.status.Text)
	}

	// Removing the question the condition refers to: the problem shows at
	// the follow-up, in Swedish, and publishing is refused.
	s.removeItem(smoke)
	s.selectItem(perDay)
	want := `Villkoret för ”Hur många cigaretter per dag?” hänvisar till ett fält som inte finns (id "` + smoke + `").`
	if s.itemProblems.Text != want || !s.itemProblems.Visible() {
		t.Errorf("problem at the item: %q, want %q", s.itemProblems.Text, want)
	}
	if s.conds[0].item.PlaceHolder != fmt.Sprintf(L(textEsMissingRef), smoke) {
		t.Errorf("the logic editor should name the missing item, shows %q", s.conds[0].item.PlaceHolder)
	}
	if s.status.Text != fmt.Sprintf(L(textEsProblems), 1) {
		t.Errorf("status %q", s.status.Text)
	}
	assertMarkup(t, "eservices_problem.xml", r.f.win.Canvas())
	r.publishDialog(t)
	if !s.pubConfirm.Disabled() || !strings.Contains(s.pubText.Text, want) || !strings.Contains(s.pubText.Text, L(textEsPubProbs)) {
		t.Errorf("publish dialog with a problem: confirm disabled %v, text %q", s.pubConfirm.Disabled(), s.pubText.Text)
	}
	if ser, _ := r.forms.FormSeries(context.Background(), s.cur.EService.ID); ser == nil || len(ser.Published) != 0 || ser.Draft == nil {
		t.Fatal("Publicera … should have saved the draft and published nothing")
	}
	s.pubPop.Hide()

	// Fix: a new yes/no question, and the condition points at it.
	smoke2 := r.add(t, form.TypeBoolean, "Röker du?", true)
	s.selectItem(perDay)
	refs := s.conds[0].item.Options
	k := slices.Index(refs, "Röker du? ("+smoke2+")")
	if k < 0 {
		t.Fatalf("the condition's choices %q lack the new question", refs)
	}
	s.conds[0].item.SetSelectedIndex(k)
	s.conds[0].value.(*widget.Select).SetSelected(L(textFvYes))
	if len(s.problems) != 0 || s.itemProblems.Visible() {
		t.Fatalf("after the fix: problems %+v", s.problems)
	}
	// Move the new question first, above its follow-up.
	s.move(smoke2, -1)
	s.move(smoke2, -1)
	if ids := itemIDs(s.f); !slices.Equal(ids, []string{smoke2, perDay, clinicQ}) {
		t.Errorf("order %q after moving up", ids)
	}

	r.publishDialog(t)
	if s.pubConfirm.Disabled() || !strings.HasPrefix(s.pubText.Text, L(textEsPubFirst)) {
		t.Fatalf("publish dialog: confirm disabled %v, text %q", s.pubConfirm.Disabled(), s.pubText.Text)
	}
	test.Tap(s.pubConfirm)
	r.f.wait()
	if s.version.Text != "Publicerad version: 1" || s.status.Text != "Version 1 är publicerad." {
		t.Errorf("after publishing: %q, %q", s.version.Text, s.status.Text)
	}
	ser, err := r.forms.FormSeries(context.Background(), s.cur.EService.ID)
	if err != nil || len(ser.Published) != 1 || ser.Draft != nil {
		t.Fatalf("stored series: %+v, %v", ser, err)
	}
	if got := ser.Published[0].Form.Item(perDay).EnableWhen; len(got) != 1 || got[0].Item != smoke2 {
		t.Errorf("published logic %+v", got)
	}
	if s.dirty() {
		t.Error("nothing is unsaved after publishing")
	}
	s.selectItem(perDay)
	assertMarkup(t, "eservices_published.xml", r.f.win.Canvas())
	shot(t, r.f.win, "eservices.png")

	// Förhandsgranska shows the form as it is being edited, live.
	test.Tap(s.prevBtn)
	r.f.wait()
	if s.prevPop == nil || !s.prevPop.Visible() || s.preview.view == nil {
		t.Fatal("Förhandsgranska should show the form as an adult resident sees it")
	}
	pv := s.preview.view
	if pv.shown(perDay) {
		t.Error("the follow-up is hidden until Röker du? is Ja")
	}
	pv.row(smoke2).input.(*widget.RadioGroup).SetSelected(L(textFvYes))
	if !pv.shown(perDay) {
		t.Error("the follow-up shows when Röker du? is Ja")
	}
	shot(t, r.f.win, "eservices-preview.png")
	s.prevPop.Hide()

	// A second version: the dialog shows the diff's sentences.
	s.selectItem(clinicQ)
	retype(&s.itemLabel.Entry, "Vilken vårdcentral är du listad på?")
	r.publishDialog(t)
	if !strings.Contains(s.pubText.Text, "”Vilken vårdcentral går du till?”") || !strings.Contains(s.pubText.Text, L(textEsPubChanges)) {
		t.Errorf("the diff should name the renamed question: %q", s.pubText.Text)
	}
	s.pubPop.Hide()
}

func itemIDs(f *form.Form) []string {
	var out []string
	f.Walk(func(it, _ *form.Item) bool {
		out = append(out, it.ID)
		return true
	})
	return out
}

// Leaving unsaved edits asks first; "Fortsätt redigera" keeps them.
func TestEServices_UnsavedChangesAsk(t *testing.T) {
	r := openBuilder(t)
	s := r.s
	test.Tap(s.newBtn)
	test.Type(s.newName, "Uppföljning")
	test.Tap(s.newOK)
	r.f.wait()
	r.add(t, form.TypeText, "Hur mår du?", false)
	s.selectByName("Förnya recept")
	if s.ask == nil || !s.ask.Visible() || s.cur.EService.Name != "Uppföljning" {
		t.Fatal("choosing another e-service with unsaved edits should ask first")
	}
	s.pending = nil
	s.ask.Hide()
	test.Tap(s.saveBtn)
	r.f.wait()
	if s.dirty() || s.status.Text != L(textEsSaved) {
		t.Errorf("after Spara utkast: dirty %v, status %q", s.dirty(), s.status.Text)
	}
	s.selectByName("Förnya recept")
	if s.cur.EService.Name != "Förnya recept" {
		t.Error("with nothing unsaved the other e-service opens at once")
	}
}

// The settings refuse a bad definition at the field, in Swedish.
func TestEServices_DefinitionProblems(t *testing.T) {
	r := openBuilder(t)
	s := r.s
	test.Tap(s.newBtn)
	test.Type(s.newName, "Sommarstängt")
	test.Tap(s.newOK)
	r.f.wait()
	s.def.Closed = true
	s.fillSettings()
	s.edited()
	if !s.defErrs.Visible() || s.defErrs.Text != "Skriv ett meddelande som visas när e-tjänsten är stängd." {
		t.Errorf("definition problem %q", s.defErrs.Text)
	}
}

// Each role's tabs with the builder wired: the lokal administratör gets
// E-tjänster, everybody Förhandsgranska.
func TestEServices_Tabs(t *testing.T) {
	for _, tc := range []struct {
		staff string
		want  []string
	}{
		{"David Sundberg", []string{L(textTemplates), L(textGuardiansTab), L(textNotifyTab), L(textEsTab), L(textPvTab)}},
		{"Anna Lindqvist", []string{L(textClinicCases), L(textMyCases), L(textPvTab)}},
		// Issue 18, item 4: the granskare lands on Åtkomstlogg, not on
		// everyone's Förhandsgranska.
		{"Fredrik Nordin", []string{L(textAuditTab), L(textPvTab)}},
		{"Eva Bergström", []string{L(textStaffTab), L(textPvTab)}},
	} {
		t.Run(tc.staff, func(t *testing.T) {
			f := newFixture(t, false, nil)
			f.ui.deps.EServices = app.NewEServiceBuilder(f.store, f.store, app.FixedClock(now))
			w := f.open(t, tc.staff, "Vårdcentralen Centrum")
			var got []string
			for _, it := range w.tabs.Items {
				got = append(got, strings.SplitN(it.Text, " (", 2)[0])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("tabs %q, want %q", got, tc.want)
			}
			if w.tabs.SelectedIndex() != 0 {
				t.Errorf("opens on tab %d, want the first, the role's own", w.tabs.SelectedIndex())
			}
		})
	}
}

// Where the cases go: the receiving role and, within it, everyone with
// the role or one staff member who holds it in the clinic (app.Route).
// The queue lists only holders of the chosen role; changing the role
// drops a queue whose staff member does not hold the new one; the choice
// is saved with the definition.
func TestEServices_ReceivingQueue(t *testing.T) {
	r := openBuilder(t)
	s := r.s
	test.Tap(s.newBtn)
	test.Type(s.newName, "Fråga sjuksköterskan")
	test.Tap(s.newOK)
	r.f.wait()
	s.roleSel.SetSelected(L(app.RoleCaseHandler.Label()))
	all, err := r.f.store.AllStaff(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var handlers []string
	var pick app.Staff
	for _, st := range all {
		if st.Has(r.sess.ClinicID, app.RoleCaseHandler) {
			handlers = append(handlers, st.Name)
			if pick.ID == "" && !st.Has(r.sess.ClinicID, app.RoleCaseReceiver) {
				pick = st
			}
		}
	}
	slices.Sort(handlers)
	if want := append([]string{L(textEsQueueAll)}, handlers...); !slices.Equal(s.queueSel.Options, want) {
		t.Fatalf("queue options %q, want %q", s.queueSel.Options, want)
	}
	if pick.ID == "" {
		t.Fatal("the demo clinic has no ärendehanterare who is not also ärendemottagare")
	}
	s.queueSel.SetSelected(pick.Name)
	if s.def.Queue != string(pick.ID) {
		t.Fatalf("queue %q, want %s", s.def.Queue, pick.ID)
	}
	s.tabs.SelectIndex(1)
	r.f.win.Resize(fyne.NewSize(1200, 800))
	shot(t, r.f.win, "eservice-settings.png")
	test.Tap(s.saveBtn)
	r.f.wait()
	es, err := r.f.store.EServices(context.Background(), r.sess.ClinicID)
	if err != nil {
		t.Fatal(err)
	}
	var saved *form.Definition
	for _, e := range es {
		if e.Name == "Fråga sjuksköterskan" {
			saved = e.Definition
		}
	}
	if saved == nil || saved.ReceivingRole != string(app.RoleCaseHandler) || saved.Queue != string(pick.ID) {
		t.Fatalf("saved definition %+v", saved)
	}
	// Ärendemottagare: the handler is not one, so the queue goes.
	s.roleSel.SetSelected(L(app.RoleCaseReceiver.Label()))
	if s.def.Queue != "" || s.queueSel.Selected != L(textEsQueueAll) {
		t.Fatalf("after changing the role: queue %q, shown %q", s.def.Queue, s.queueSel.Selected)
	}
	for _, o := range s.queueSel.Options {
		if o == pick.Name {
			t.Fatalf("%s is offered for a role they do not hold", pick.Name)
		}
	}
}
