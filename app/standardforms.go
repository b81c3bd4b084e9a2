package app

import (
	"context"
	"time"

	"mottagning/app/form"
)

// standardForms are the forms of the national catalogue's standard
// e-services (StandardCatalogue): version 1 of each, the same in every
// database. A clinic activates a standard e-service; it does not edit its
// form (R15).
var standardForms = func() map[ID]*form.Series {
	f64 := func(v float64) *float64 { return &v }
	zero := 0
	published := time.Date(2026, 1, 1, 0, 0, 0, 0, Stockholm)
	forms := map[ID][]form.Item{
		"std-av-omboka-tid": {
			{ID: "atgard", Type: form.TypeChoice, Label: "Vad vill du göra?", Required: true, Options: []form.Option{
				{Code: "avboka", Label: "Avboka tiden"}, {Code: "omboka", Label: "Boka om tiden"}}},
			{ID: "tid", Type: form.TypeDate, Label: "Vilket datum gäller den bokade tiden?", Required: true},
			{ID: "onskemal", Type: form.TypeLongText, Label: "Vilka dagar och tider passar dig?", MaxLength: 1000,
				EnableWhen: []form.Condition{{Item: "atgard", Op: form.OpEquals, Value: form.Value{Code: "omboka"}}}},
		},
		"std-fornya-recept": {
			{ID: "lakemedel", Type: form.TypeText, Label: "Vilket läkemedel vill du förnya?", Required: true, MaxLength: 200},
			{ID: "styrka", Type: form.TypeText, Label: "Styrka, till exempel 5 mg", MaxLength: 100},
			{ID: "kvar", Type: form.TypeNumber, Label: "Hur många dagar räcker det du har kvar?", Min: f64(0), Max: f64(365), Decimals: &zero},
			{ID: "ovrigt", Type: form.TypeLongText, Label: "Något mer mottagningen behöver veta?", MaxLength: 2000},
		},
		"std-kontakta-mottagningen": {
			{ID: "amne", Type: form.TypeText, Label: "Vad gäller det?", Required: true, MaxLength: 200},
			{ID: "meddelande", Type: form.TypeLongText, Label: "Ditt meddelande", Required: true, MaxLength: 5000,
				Help: "Skriv inte om något brådskande här. Ring 1177 eller 112 vid akuta besvär."},
		},
		"std-bestall-intyg": {
			{ID: "intyg", Type: form.TypeChoice, Label: "Vilket intyg behöver du?", Required: true, Options: []form.Option{
				{Code: "arbetsgivare", Label: "Intyg till arbetsgivare"}, {Code: "forsakringskassan", Label: "Läkarintyg till Försäkringskassan"},
				{Code: "annat", Label: "Annat intyg"}}},
			{ID: "vilket", Type: form.TypeText, Label: "Vilket annat intyg?", Required: true, MaxLength: 200,
				EnableWhen: []form.Condition{{Item: "intyg", Op: form.OpEquals, Value: form.Value{Code: "annat"}}}},
			{ID: "period", Type: form.TypeText, Label: "Vilken period ska intyget gälla?", MaxLength: 200},
		},
		"std-egen-vardbegaran": {
			{ID: "besvar", Type: form.TypeLongText, Label: "Beskriv dina besvär", Required: true, MaxLength: 5000},
			{ID: "sedan", Type: form.TypeDate, Label: "Sedan när har du haft besvären?"},
			{ID: "remiss", Type: form.TypeBoolean, Label: "Vill du ha en remiss till en specialist?"},
			{ID: "vart", Type: form.TypeText, Label: "Till vilken mottagning?", MaxLength: 200,
				EnableWhen: []form.Condition{{Item: "remiss", Op: form.OpEquals, Value: form.Value{Bool: true}}}},
		},
	}
	out := map[ID]*form.Series{}
	for _, e := range StandardCatalogue {
		items, ok := forms[e.ID]
		if !ok {
			continue
		}
		s := &form.Series{FormID: string(e.ID)}
		d := s.StartDraft(e.Name)
		d.Description, d.Items = e.Description, items
		if err := s.SaveDraft(d); err != nil {
			panic("app: standard form " + string(e.ID) + ": " + err.Error())
		}
		if _, err := s.Publish(published, ""); err != nil {
			panic("app: standard form " + string(e.ID) + ": " + err.Error())
		}
		out[e.ID] = s
	}
	return out
}()

// StandardForm returns a copy of the national form of a standard
// e-service, or nil for another id.
func StandardForm(id ID) *form.Series {
	s, ok := standardForms[id]
	if !ok {
		return nil
	}
	c := &form.Series{FormID: s.FormID}
	for _, p := range s.Published {
		p.Form = p.Form.Clone()
		c.Published = append(c.Published, p)
	}
	return c
}

// formsWithStandard is a FormStore that answers the national forms of the
// standard e-services, which no store holds.
type formsWithStandard struct{ FormStore }

func (f formsWithStandard) FormSeries(ctx context.Context, id ID) (*form.Series, error) {
	if s := StandardForm(id); s != nil {
		return s, nil
	}
	return f.FormStore.FormSeries(ctx, id)
}
