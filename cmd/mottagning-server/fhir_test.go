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
	for _, want := range []string{"Generalized anxiety disorder 7 item", "[Enkelval]", "Kan inte representeras", `"meta"`} {
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
