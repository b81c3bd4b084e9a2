package storage

import (
	"context"
	"errors"
	"testing"

	"mottagning/app"
	"mottagning/app/form"
)

// A series round-trips; a published version can be neither changed nor
// dropped (form.ErrPublished, nothing written); a draft can.
func TestFormSeries_PublishedVersionsNeverChange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.FormSeries(ctx, "e1"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("missing series: %v", err)
	}
	fs := &form.Series{FormID: "e1"}
	d := fs.StartDraft("Förnya recept")
	d.Items = []form.Item{{ID: "lakemedel", Type: form.TypeText, Label: "Läkemedel", Required: true}}
	if err := fs.SaveDraft(d); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Publish(testNow, "staff-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFormSeries(ctx, fs); err != nil {
		t.Fatal(err)
	}
	got, err := s.FormSeries(ctx, "e1")
	if err != nil || len(got.Published) != 1 || got.Published[0].Form.Items[0].Label != "Läkemedel" {
		t.Fatalf("read back: %v %+v", err, got)
	}
	// A tampered published version is refused.
	bad, _ := s.FormSeries(ctx, "e1")
	bad.Published[0].Form.Items[0].Label = "Något annat"
	if err := s.PutFormSeries(ctx, bad); !errors.Is(err, form.ErrPublished) {
		t.Errorf("changed published version: %v", err)
	}
	bad.Published[0].Digest = bad.Published[0].Form.Digest()
	if err := s.PutFormSeries(ctx, bad); !errors.Is(err, form.ErrPublished) {
		t.Errorf("changed published version with a matching digest: %v", err)
	}
	drop := &form.Series{FormID: "e1"}
	if err := s.PutFormSeries(ctx, drop); !errors.Is(err, form.ErrPublished) {
		t.Errorf("dropped published version: %v", err)
	}
	// A new draft is fine.
	ok, _ := s.FormSeries(ctx, "e1")
	d2 := ok.StartDraft("")
	d2.Items = append(d2.Items, form.Item{ID: "dos", Type: form.TypeText, Label: "Dos"})
	if err := ok.SaveDraft(d2); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFormSeries(ctx, ok); err != nil {
		t.Fatalf("saving a draft: %v", err)
	}
	final, _ := s.FormSeries(ctx, "e1")
	if final.Draft == nil || final.Published[0].Form.Items[0].Label != "Läkemedel" {
		t.Error("the stored series is not the last good one")
	}
}

// A form series stored before the change feed was turned on (a server
// upgraded to the feed) gets a feed entry like every other record, so a
// desktop of its clinic pulls it.
func TestFormSeries_FedWhenTheFeedStarts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	e := app.EService{ID: "e-lokal", ClinicID: "k1", Name: "Hälsodeklaration"}
	if err := s.PutEService(ctx, &e); err != nil {
		t.Fatal(err)
	}
	fs := &form.Series{FormID: "e-lokal"}
	d := fs.StartDraft("Hälsodeklaration")
	d.Items = []form.Item{{ID: "vikt", Type: form.TypeText, Label: "Vikt"}}
	if err := fs.SaveDraft(d); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Publish(testNow, "staff-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFormSeries(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChangeFeed(ctx); err != nil {
		t.Fatal(err)
	}
	admin := func(clinic app.ID) *app.PullScope {
		return app.NewPullScope(&app.Staff{ID: "s-admin", Roles: map[app.ID][]app.Role{clinic: {app.RoleLocalAdmin}}}, "d1")
	}
	mine, _, _, err := s.ChangesSince(ctx, 0, 100, admin("k1"))
	if err != nil || len(mine.FormSeries) != 1 || mine.FormSeries[0].FormID != "e-lokal" {
		t.Fatalf("the series is not in the feed for its clinic: %v %+v", err, mine.FormSeries)
	}
	other, _, _, err := s.ChangesSince(ctx, 0, 100, admin("k2"))
	if err != nil || len(other.FormSeries) != 0 {
		t.Fatalf("another clinic got the series: %v %d", err, len(other.FormSeries))
	}
}
