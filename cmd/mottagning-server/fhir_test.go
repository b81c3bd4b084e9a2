package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fhir-import prints the form and lists what it cannot represent (exit 0);
// a broken file is an error (non-zero).
func TestFHIRImportCommand(t *testing.T) {
	var out, errb bytes.Buffer
	gad7 := filepath.Join("..", "..", "app", "form", "testdata", "fhir", "public", "02-gad7.json")
	if _, err := os.Stat(gad7); err != nil {
		t.Skipf("shared FHIR test data not beside the project: %v", err)
	}
	if err := fhirImport([]string{gad7}, &out, &errb); err != nil {
		t.Fatalf("GAD-7: %v", err)
	}
	for _, want := range []string{"Generalized anxiety disorder 7 item", "[Enkelval]", "Varningar (", `"meta"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"string"},{"linkId":"a","type":"string"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := fhirImport([]string{bad}, &out, &errb); err == nil {
		t.Error("a questionnaire with a duplicate linkId was accepted")
	}
	if err := fhirImport([]string{filepath.Join(t.TempDir(), "missing.json")}, &out, &errb); err == nil {
		t.Error("a missing file was accepted")
	}
}

// fhir-import lists every warning of a file with values of the wrong JSON
// type, each line naming its linkId, and imports the rest (exit 0)
// (issue 17).
func TestFHIRImportCommandListsEveryWarningWithItsLinkID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.json")
	q := `{"resourceType":"Questionnaire","name":"Rokvanor","item":[
		{"linkId":"roker","text":"Röker du?","type":"boolean"},
		{"linkId":"antal","text":"Hur många?","type":"integer","enableWhen":[{"question":"roker","operator":"=","answerBoolean":"ja"}]},
		{"linkId":"start","text":"Startår","type":"integer","initial":[{"valueInteger":"1990"}]},
		{"linkId":"sort","text":"Vilken sort?","type":"choice","answerValueSet":"#saknas"},
		{"linkId":"trasig","text":"Trasig","type":7}]}`
	if err := os.WriteFile(path, []byte(q), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := fhirImport([]string{path}, &out, &errb); err != nil {
		t.Fatalf("refused: %v", err)
	}
	got := out.String()
	for _, want := range []string{
		"Formulär: Rokvanor",
		"Varningar (6)",
		`  - (formuläret): titel saknas`,
		`  - "antal": ett villkor (enableWhen) har fel JSON-typ i "answerBoolean"`,
		`  - "start": ett startvärde (initial) har fel JSON-typ i "valueInteger"`,
		`  - "sort": den inbäddade ValueSet "#saknas"`,
		`  - "sort": frågan av typen "choice" har inga svarsalternativ`,
		`  - "trasig": fältet har fel JSON-typ i "type"`,
		"- roker [", "- antal [", "- start [", "- sort [",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "- trasig [") {
		t.Errorf("an item without a usable type was listed:\n%s", got)
	}
}
