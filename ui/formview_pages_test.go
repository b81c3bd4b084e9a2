package ui

import (
	"context"
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mottagning/app/form"
)

// Pages and repeating questions in the citizen preview (issue 7): the
// e-services are published through the real app.EServiceBuilder into the
// seeded bbolt store, as in preview_test.go.

// healthForm has three pages; the second shows only when the resident
// has allergies, and the third asks a repeating question.
func healthForm(id string) *form.Form {
	return &form.Form{ID: id, Version: 1, Status: form.StatusDraft, Title: "Hälsodeklaration inför besök",
		Items: []form.Item{
			{ID: "om", Type: form.TypeGroup, Page: true, Label: "Om dig", Items: []form.Item{
				{ID: "vc", Type: form.TypeText, Label: "Vilken vårdcentral går du till?", Required: true},
				{ID: "epost", Type: form.TypeEmail, Label: "E-postadress"},
				{ID: "allergi", Type: form.TypeBoolean, Label: "Har du några allergier?", Required: true},
			}},
			{ID: "allergier", Type: form.TypeGroup, Page: true, Label: "Allergier",
				EnableWhen: []form.Condition{{Item: "allergi", Op: form.OpEquals, Value: form.BoolValue(true)}},
				Items: []form.Item{
					{ID: "vilka", Type: form.TypeText, Label: "Vad är du allergisk mot?", Required: true},
				}},
			{ID: "lakemedel", Type: form.TypeGroup, Page: true, Label: "Läkemedel", Items: []form.Item{
				{ID: "mediciner", Type: form.TypeText, Label: "Vilka läkemedel tar du?", Required: true, Repeats: true,
					Help: "Ett läkemedel per rad. Tryck på Lägg till svar för nästa."},
				{ID: "ovrigt", Type: form.TypeLongText, Label: "Något annat vi bör veta?"},
			}},
		}}
}

// medsForm asks repeating questions without pages: a text and a number.
func medsForm(id string) *form.Form {
	return &form.Form{ID: id, Version: 1, Status: form.StatusDraft, Title: "Läkemedelslista",
		Items: []form.Item{
			{ID: "mediciner", Type: form.TypeText, Label: "Vilka läkemedel tar du?", Required: true, Repeats: true},
			{ID: "tider", Type: form.TypeNumber, Label: "Vilka klockslag tar du dem (hel timme)?", Repeats: true,
				Min: form.Ptr(0.0), Max: form.Ptr(23.0), Decimals: form.Ptr(0)},
		}}
}

// pageNav is the state of the preview's page navigation, for messages.
type pageNav struct {
	page    int
	label   string
	next    bool // Nästa shown
	prev    bool // Föregående enabled
	submits bool // Skicka shown
}

func navOf(p *previewScreen) pageNav {
	v := p.view
	return pageNav{page: v.page, label: v.pageNo.Text, next: v.next.Visible(), prev: !v.prev.Disabled(), submits: p.submit.Visible()}
}

func entryAt(t *testing.T, v *formView, path string) *widget.Entry {
	t.Helper()
	r := v.row(path)
	if r == nil {
		t.Fatalf("no field %s", path)
	}
	e, ok := r.input.(*widget.Entry)
	if !ok {
		t.Fatalf("field %s is a %T, not an entry", path, r.input)
	}
	return e
}

// slotEntry is the i:th answer field of a repeating question.
func slotEntry(t *testing.T, v *formView, path string, i int) *widget.Entry {
	t.Helper()
	r := v.row(path)
	if r == nil || r.rep == nil || i >= len(r.rep.slots) {
		t.Fatalf("no answer field %d of the repeating question %s", i, path)
	}
	return r.rep.slots[i].input.(*widget.Entry)
}

func TestPreview_Pages_NextChecksThePageAndSkipsHiddenPages(t *testing.T) {
	r := openPreviewOf(t, false, "Hälsodeklaration", healthForm)
	r.as(t, personaAdult)
	p := r.p
	v := p.view
	if v == nil || !v.paged() {
		t.Fatal("the form has pages")
	}
	// Allergier is hidden until Ja: two pages to go through.
	if got, want := navOf(p), (pageNav{page: 0, label: "Sida 1 av 2", next: true}); got != want {
		t.Fatalf("first page: %+v, want %+v", got, want)
	}
	if v.shown("mediciner") || !v.shown("vc") {
		t.Error("only the first page is on screen")
	}

	// Nästa with the required fields empty stays, naming them.
	test.Tap(v.next)
	want := []string{"Fyll i ”Vilken vårdcentral går du till?”.", "Svara ja eller nej på ”Har du några allergier?”."}
	if got := v.errorsShown(); !slices.Equal(got, want) || v.page != 0 || !v.pageErr.Visible() {
		t.Errorf("Nästa on an empty page: page %d, errors %q, want %q", v.page, got, want)
	}
	assertMarkup(t, "preview_pages_refused.xml", r.f.win.Canvas())

	// A wrong answer that is not required stops Nästa as well.
	test.Type(entryAt(t, v, "vc"), "Vårdcentralen Centrum")
	v.row("allergi").input.(*widget.RadioGroup).SetSelected(L(textFvYes))
	test.Type(entryAt(t, v, "epost"), "fel")
	test.Tap(v.next)
	if got := v.errorsShown(); v.page != 0 || !slices.Equal(got, []string{"”E-postadress” är inte en giltig e-postadress. Skriv den som namn@exempel.se."}) {
		t.Errorf("Nästa with a wrong e-mail address: page %d, errors %q", v.page, got)
	}
	retype(entryAt(t, v, "epost"), "namn@exempel.se")
	if v.pageErr.Visible() || len(v.errorsShown()) != 0 {
		t.Errorf("a corrected page still shows %q", v.errorsShown())
	}

	// Ja shows the allergy page, which is then the second of three.
	if got := navOf(p).label; got != "Sida 1 av 3" {
		t.Errorf("with allergies: %q", got)
	}
	test.Tap(v.next)
	if got, want := navOf(p), (pageNav{page: 1, label: "Sida 2 av 3", next: true, prev: true}); got != want {
		t.Fatalf("second page: %+v, want %+v", got, want)
	}
	if len(v.errorsShown()) != 0 {
		t.Errorf("a new page opens without errors: %q", v.errorsShown())
	}
	test.Tap(v.next)
	if got := v.errorsShown(); v.page != 1 || !slices.Equal(got, []string{"Fyll i ”Vad är du allergisk mot?”."}) {
		t.Errorf("Nästa on the allergy page: page %d, errors %q", v.page, got)
	}
	test.Type(entryAt(t, v, "vilka"), "Pollen")
	test.Tap(v.next)
	// The last page: Skicka instead of Nästa.
	if got, want := navOf(p), (pageNav{page: 2, label: "Sida 3 av 3", prev: true, submits: true}); got != want {
		t.Fatalf("last page: %+v, want %+v", got, want)
	}

	// Back keeps the answers.
	test.Tap(v.prev)
	if e := entryAt(t, v, "vilka"); v.page != 1 || e.Text != "Pollen" || p.submit.Visible() {
		t.Errorf("back to page %d: %q, Skicka shown %v", v.page, e.Text, p.submit.Visible())
	}
	test.Tap(v.prev)
	if v.page != 0 || entryAt(t, v, "vc").Text != "Vårdcentralen Centrum" || entryAt(t, v, "epost").Text != "namn@exempel.se" ||
		v.row("allergi").input.(*widget.RadioGroup).Selected != L(textFvYes) {
		t.Errorf("back on the first page, the answers are gone")
	}

	// Nej hides the allergy page: Nästa and Föregående skip it.
	v.row("allergi").input.(*widget.RadioGroup).SetSelected(L(textFvNo))
	test.Tap(v.next)
	if got, want := navOf(p), (pageNav{page: 2, label: "Sida 2 av 2", prev: true, submits: true}); got != want {
		t.Fatalf("without allergies: %+v, want %+v", got, want)
	}
	test.Tap(v.prev)
	if v.page != 0 {
		t.Fatalf("Föregående from the last page goes to page %d, want the first", v.page)
	}
	test.Tap(v.next)

	test.Type(slotEntry(t, v, "mediciner", 0), "Alvedon")
	test.Tap(p.submit)
	// The hidden page's answer is not submitted.
	wantSent := L(textPvWouldSend) + "\nVilken vårdcentral går du till?: Vårdcentralen Centrum\nE-postadress: namn@exempel.se\nHar du några allergier?: Nej\nVilka läkemedel tar du?: Alvedon"
	if p.result.Text != wantSent {
		t.Errorf("submitted:\n%s\nwant\n%s", p.result.Text, wantSent)
	}
	assertMarkup(t, "preview_pages_last.xml", r.f.win.Canvas())
	shot(t, r.f.win, "preview-pages.png")
}

// A later page can show a required field on an earlier one: Skicka then
// goes back to the first page with an error.
func TestPreview_Pages_SubmitGoesToThePageWithTheError(t *testing.T) {
	r := openPreviewOf(t, false, "Tolkbehov", func(id string) *form.Form {
		return &form.Form{ID: id, Version: 1, Status: form.StatusDraft, Title: "Tolkbehov", Items: []form.Item{
			{ID: "p1", Type: form.TypeGroup, Page: true, Label: "Välkommen", Items: []form.Item{
				{ID: "info", Type: form.TypeDisplay, Label: "Svara på frågorna om ditt besök."},
				{ID: "tolk", Type: form.TypeText, Label: "Vilket språk ska tolken tala?", Required: true,
					EnableWhen: []form.Condition{{Item: "behov", Op: form.OpEquals, Value: form.BoolValue(true)}}},
			}},
			{ID: "p2", Type: form.TypeGroup, Page: true, Label: "Besöket", Items: []form.Item{
				{ID: "behov", Type: form.TypeBoolean, Label: "Behöver du tolk?", Required: true},
			}},
		}}
	})
	r.as(t, personaAdult)
	p, v := r.p, r.p.view
	test.Tap(v.next)
	if v.page != 1 {
		t.Fatalf("nothing to fill in on the first page, yet Nästa stays on page %d", v.page)
	}
	v.row("behov").input.(*widget.RadioGroup).SetSelected(L(textFvYes))
	test.Tap(p.submit)
	if p.result.Text != L(textPvRefused) || v.page != 0 || !slices.Equal(v.errorsShown(), []string{"Fyll i ”Vilket språk ska tolken tala?”."}) {
		t.Errorf("Skicka: result %q, page %d, errors %q", p.result.Text, v.page, v.errorsShown())
	}
	if p.submit.Visible() {
		t.Error("Skicka shows on the last page only")
	}
}

// A repeating question (not a group) takes several answers: the engine
// gets the filled fields, in order, and nothing for a blank one.
func TestPreview_RepeatingQuestion_AddAndRemoveAnswers(t *testing.T) {
	r := openPreviewOf(t, false, "Läkemedelslista", medsForm)
	r.as(t, personaAdult)
	p, v := r.p, r.p.view
	if v.paged() || v.pageNo != nil {
		t.Error("a form without pages has no page navigation")
	}
	rep := v.row("mediciner").rep
	if rep == nil || len(rep.slots) != 1 || rep.slots[0].remove.Visible() {
		t.Fatal("a repeating question starts with one field and no Ta bort")
	}
	for i, name := range []string{"Alvedon", "Ipren", "Waran"} {
		if i > 0 {
			test.Tap(rep.add)
		}
		test.Type(slotEntry(t, v, "mediciner", i), name)
	}
	if got := v.answers["mediciner"]; len(got) != 3 {
		t.Fatalf("three answers given, the answers hold %d", len(got))
	}
	// A blank number field is no answer (not 0).
	test.Tap(v.row("tider").rep.add)
	test.Type(slotEntry(t, v, "tider", 0), "8")
	if got := v.answers["tider"]; len(got) != 1 || got[0].Number != 8 {
		t.Errorf("one time filled in and one blank: %+v", got)
	}
	assertMarkup(t, "preview_repeats.xml", r.f.win.Canvas())

	test.Tap(rep.slots[1].remove)
	if len(rep.slots) != 2 || slotEntry(t, v, "mediciner", 1).Text != "Waran" {
		t.Fatalf("after Ta bort on Ipren: %d fields", len(rep.slots))
	}
	clean, err := v.f.Accept(v.submission(), v.now)
	if err != nil {
		t.Fatal(err)
	}
	if got := clean["mediciner"]; len(got) != 2 || got[0].Text != "Alvedon" || got[1].Text != "Waran" {
		t.Errorf("the engine got %+v, want Alvedon and Waran", got)
	}
	test.Tap(p.submit)
	want := L(textPvWouldSend) + "\nVilka läkemedel tar du?: Alvedon, Waran\nVilka klockslag tar du dem (hel timme)?: 8"
	if p.result.Text != want {
		t.Errorf("submitted:\n%s\nwant\n%s", p.result.Text, want)
	}

	// Each answer is checked, and the error names the question.
	test.Type(slotEntry(t, v, "tider", 1), "25")
	if got := v.errorsShown(); !slices.Equal(got, []string{"”Vilka klockslag tar du dem (hel timme)?” får vara högst 23."}) {
		t.Errorf("a wrong second answer: %q", got)
	}
	// Emptying every field leaves the required question unanswered.
	test.Tap(rep.slots[1].remove)
	slotEntry(t, v, "mediciner", 0).SetText("")
	if _, ok := v.answers["mediciner"]; ok {
		t.Errorf("blank fields reached the answers: %+v", v.answers["mediciner"])
	}
	test.Tap(p.submit)
	if got := v.errorsShown(); !slices.Contains(got, "Fyll i ”Vilka läkemedel tar du?”.") {
		t.Errorf("errors %q", got)
	}
}

// The builder's Förhandsgranska shows the draft's pages and repeating
// questions the same way.
func TestBuilderPreview_PagesAndRepeatingQuestion(t *testing.T) {
	r := openBuilder(t)
	ctx := context.Background()
	e, err := r.svc.Create(ctx, r.sess, "Hälsodeklaration")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.SaveDraft(ctx, r.sess, e.EService.ID, healthForm(string(e.EService.ID))); err != nil {
		t.Fatal(err)
	}
	s := r.s
	s.load(e.EService.ID)
	r.f.wait()
	if s.cur == nil || s.cur.EService.ID != e.EService.ID {
		t.Fatal("the draft is not in the editor")
	}
	test.Tap(s.prevBtn)
	r.f.wait()
	if s.preview == nil || s.preview.view == nil {
		t.Fatal("Förhandsgranska shows no form")
	}
	p, v := s.preview, s.preview.view
	if got, want := navOf(p), (pageNav{page: 0, label: "Sida 1 av 2", next: true}); got != want {
		t.Fatalf("first page: %+v, want %+v", got, want)
	}
	test.Tap(v.next)
	if v.page != 0 || len(v.errorsShown()) != 2 {
		t.Errorf("Nästa on an empty page: page %d, errors %q", v.page, v.errorsShown())
	}
	test.Type(entryAt(t, v, "vc"), "Vårdcentralen Centrum")
	v.row("allergi").input.(*widget.RadioGroup).SetSelected(L(textFvNo))
	test.Tap(v.next)
	if got, want := navOf(p), (pageNav{page: 2, label: "Sida 2 av 2", prev: true, submits: true}); got != want {
		t.Fatalf("last page: %+v, want %+v", got, want)
	}
	rep := v.row("mediciner").rep
	test.Type(slotEntry(t, v, "mediciner", 0), "Alvedon")
	test.Tap(rep.add)
	test.Type(slotEntry(t, v, "mediciner", 1), "Ipren")
	if got := v.submission()["mediciner"]; len(got) != 2 {
		t.Errorf("two answers given, %d submitted", len(got))
	}
	s.prevPop.Hide()
}
