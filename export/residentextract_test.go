package export

import (
	"bytes"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// A resident's own extract (fetched through the e-services) covers every
// clinic: the PDF says so in its introduction and facts, names the clinic
// on each row, and says who made it (the resident, or a guardian in proxy
// mode) instead of a granskare.
func TestLogExtractPDF_ResidentsOwnCoversAllClinics(t *testing.T) {
	pnr, err := personnummer.ParseAt("200001012384", now) // Skatteverket test number
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, time.March, 1, 0, 0, 0, 0, app.Stockholm)
	x := &app.LogExtract{
		ResidentName: "Åsa Öberg", PNR: pnr, ResidentID: "r1", ClinicName: app.TextExtractAllClinics, AllClinics: true,
		From: from, To: from.AddDate(0, 0, 12), MadeAt: now, MadeBy: app.TextExtractByGuardian, Proxy: true,
		Rows: []app.ExtractRow{
			{AccessEntry: app.AccessEntry{ID: "e1", At: from.Add(time.Hour), StaffID: "s1", ClinicID: "k1", ResidentID: "r1", Action: app.AccessOpenCase, CaseID: "c1"},
				ActionLabel: app.AccessOpenCase.Label(), StaffName: "Anna Lindqvist", StaffTitle: "Sjuksköterska", ClinicName: "Vårdcentralen Centrum"},
			{AccessEntry: app.AccessEntry{ID: "e2", At: from.Add(2 * time.Hour), StaffID: "s2", ClinicID: "k2", ResidentID: "r1", Action: app.AccessLookupResident},
				ActionLabel: app.AccessLookupResident.Label(), StaffName: "Cecilia Holm", StaffTitle: "Barnsjuksköterska", ClinicName: "Barnmottagningen"},
		},
	}
	data, err := logExtractPDF(x, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"Utdrag ur åtkomstloggen för alla mottagningar", "(Mottagningar)", app.TextExtractAllClinics, "Vårdcentralen Centrum", "Barnmottagningen",
		"Anna Lindqvist", "Cecilia Holm", "Utdraget är gjort 12 mars 2025 09:30 av " + app.TextExtractByGuardian,
	} {
		if !bytes.Contains(data, cp1252(s)) {
			t.Errorf("the PDF's text lacks %q", s)
		}
	}
	const clinicIntro = "Utdrag ur mottagningens åtkomstlogg" // the start of TextExtractIntro
	if bytes.Contains(data, cp1252(clinicIntro)) {
		t.Error("a resident's extract says it is one clinic's log")
	}
	// A clinic's extract keeps its own wording.
	x.AllClinics, x.ClinicID, x.ClinicName = false, "k1", "Vårdcentralen Centrum"
	if data, err = logExtractPDF(x, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, cp1252(clinicIntro)) || bytes.Contains(data, cp1252("(Mottagningar)")) {
		t.Error("a clinic's extract lost its wording")
	}
}
