package demo

import (
	"time"

	"mottagning/app"
	"mottagning/app/form"
)

// demoEService is a local e-service of Vårdcentralen Centrum with a
// published form that uses logic, a rating scale and a repeating group, so
// the builder and the citizen preview have something real to show.
func (b *builder) demoEService(clinic app.ID) {
	f64 := func(v float64) *float64 { return &v }
	zero := 0
	e := app.EService{ID: b.id(), ClinicID: clinic, Name: "Hälsodeklaration inför hälsosamtal",
		Description: "Fyll i före ditt hälsosamtal, så kan vi använda tiden väl."}
	min, max := 18, 120
	e.Definition = &form.Definition{Name: e.Name, Description: e.Description,
		Availability: form.Availability{MinAge: &min, MaxAge: &max}, ReceivingRole: string(app.RoleCaseReceiver),
		AutoReply: "Tack! Vi har fått din hälsodeklaration och går igenom den före samtalet."}
	s := &form.Series{FormID: string(e.ID)}
	d := s.StartDraft(e.Name)
	score := func(v float64) *float64 { return &v }
	freq := []form.Option{
		{Code: "0", Label: "Inte alls", Score: score(0)}, {Code: "1", Label: "Flera dagar", Score: score(1)},
		{Code: "2", Label: "Mer än hälften av dagarna", Score: score(2)}, {Code: "3", Label: "Nästan varje dag", Score: score(3)},
	}
	d.Description = e.Description
	d.Items = []form.Item{
		{ID: "rokare", Type: form.TypeBoolean, Label: "Röker du?", Required: true},
		{ID: "cigaretter", Type: form.TypeNumber, Label: "Hur många cigaretter per dag?", Required: true,
			Min: f64(0), Max: f64(100), Decimals: &zero,
			EnableWhen: []form.Condition{{Item: "rokare", Op: form.OpEquals, Value: form.Value{Bool: true}}}},
		{ID: "motion", Type: form.TypeChoice, Label: "Hur ofta rör du dig minst 30 minuter?", Required: true, Options: []form.Option{
			{Code: "sallan", Label: "Sällan eller aldrig"}, {Code: "ibland", Label: "1–2 dagar i veckan"}, {Code: "ofta", Label: "3 dagar i veckan eller mer"}}},
		{ID: "nedstamd", Type: form.TypeChoice, Label: "Hur ofta har du känt dig nedstämd de senaste två veckorna?", Options: freq},
		{ID: "oro", Type: form.TypeChoice, Label: "Hur ofta har du känt dig orolig de senaste två veckorna?", Options: freq},
		{ID: "poang", Type: form.TypeNumber, Label: "Summa", ReadOnly: true},
		{ID: "lakemedel", Type: form.TypeGroup, Label: "Läkemedel du tar", Repeats: true, Items: []form.Item{
			{ID: "namn", Type: form.TypeText, Label: "Läkemedel", Required: true, MaxLength: 200},
			{ID: "dos", Type: form.TypeText, Label: "Dos", MaxLength: 100},
		}},
		{ID: "ovrigt", Type: form.TypeLongText, Label: "Något du vill ta upp på samtalet?", MaxLength: 2000},
	}
	d.ScoreItem = "poang"
	if err := s.SaveDraft(d); err != nil {
		panic("demo: e-service form: " + err.Error())
	}
	if _, err := s.Publish(b.now.Add(-30*24*time.Hour), ""); err != nil {
		panic("demo: e-service form: " + err.Error())
	}
	b.ds.EServices = append(b.ds.EServices, e)
	b.ds.Forms = append(b.ds.Forms, s)
}
