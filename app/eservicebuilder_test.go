package app_test

import (
	"errors"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
)

// R15: the lokal administratör creates a local e-service, drafts its form,
// sees the problems and the diff before publishing, and publishes; nothing
// is published while a problem remains; others may read but not change.
func TestR15_BuildAndPublishLocalEService(t *testing.T) {
	f := newFixture(t)
	b := app.NewEServiceBuilder(f.store, f.store, app.ClockFunc(func() time.Time { return f.now }))
	david := f.session(demo.StaffLocalAdmin, 0)
	anna := f.session(demo.StaffReceiver, 0)
	if _, err := b.Create(f.ctx, anna, "Hälsodeklaration"); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("a case handler created an e-service: %v", err)
	}
	e, err := b.Create(f.ctx, david, "Hälsodeklaration")
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.Draft(f.ctx, david, e.EService.ID)
	if err != nil {
		t.Fatal(err)
	}
	d.Items = []form.Item{
		{ID: "rokare", Type: form.TypeBoolean, Label: "Röker du?", Required: true},
		{ID: "antal", Type: form.TypeNumber, Label: "Hur många cigaretter per dag?",
			EnableWhen: []form.Condition{{Item: "finns-inte", Op: form.OpEquals, Value: form.Value{Bool: true}}}},
	}
	if err := b.SaveDraft(f.ctx, david, e.EService.ID, d); err != nil {
		t.Fatal(err)
	}
	p, err := b.Preview(f.ctx, anna, e.EService.ID)
	if err != nil || len(p.Problems) == 0 {
		t.Fatalf("a reference to a missing item: problems %v, %v", p, err)
	}
	if _, err := b.Publish(f.ctx, david, e.EService.ID); !errors.Is(err, form.ErrDefinition) {
		t.Fatalf("publishing with a problem: %v", err)
	}
	if s, _ := f.store.FormSeries(f.ctx, e.EService.ID); len(s.Published) != 0 {
		t.Fatal("a refused publish stored a version")
	}
	d.Items[1].EnableWhen[0].Item = "rokare"
	if err := b.SaveDraft(f.ctx, david, e.EService.ID, d); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(f.ctx, anna, e.EService.ID); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("a case handler published: %v", err)
	}
	v1, err := b.Publish(f.ctx, david, e.EService.ID)
	if err != nil || v1.Version != 1 {
		t.Fatalf("publish: %v %v", v1, err)
	}
	list, err := b.List(f.ctx, anna)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range list {
		if x.EService.ID == e.EService.ID && len(x.Series.Published) == 1 {
			found = true
		}
	}
	if !found {
		t.Error("the published e-service is not in the clinic's list")
	}
	// Standard e-services are not the clinic's to change.
	if err := b.SaveDraft(f.ctx, david, "std-fornya-recept", d); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("a standard e-service was changed: %v", err)
	}
}
