package export

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// testExtract is an extract of n accesses a quarter apart, from now.
func testExtract(t *testing.T, n int) *app.LogExtract {
	t.Helper()
	pnr, err := personnummer.ParseAt("19121212-1212", now)
	if err != nil {
		t.Fatal(err)
	}
	x := &app.LogExtract{
		ResidentName: "Åsa Öberg-Ängström", PNR: pnr,
		ClinicID: "k1", ClinicName: "Vårdcentralen Centrum",
		From: time.Date(2025, time.March, 1, 0, 0, 0, 0, app.Stockholm), To: time.Date(2025, time.March, 13, 0, 0, 0, 0, app.Stockholm),
		MadeAt: now, MadeBy: "Fredrik Nordin", MadeByTitle: "Informationssäkerhet",
	}
	actions := []app.AccessAction{app.AccessOpenCase, app.AccessLookupResident, app.AccessReadMessage, app.AccessSend, app.AccessExport, app.AccessPrint}
	for i := range n {
		a := actions[i%len(actions)]
		caseID := app.ID(fmt.Sprintf("01JP4QK3T00000000000000%03d", i))
		if a == app.AccessLookupResident {
			caseID = ""
		}
		x.Rows = append(x.Rows, app.ExtractRow{
			AccessEntry: app.AccessEntry{ID: app.ID(fmt.Sprint("e", i)), At: x.From.Add(time.Duration(i) * 15 * time.Minute),
				StaffID: "s1", ClinicID: "k1", ResidentID: "r1", CaseID: caseID, Action: a},
			ActionLabel: a.Label(), StaffName: "Anna Lindqvist", StaffTitle: "Sjuksköterska", ClinicName: "Vårdcentralen Centrum",
		})
	}
	return x
}

func TestLogExtractPDF_HoldsTheAccesses(t *testing.T) {
	x := testExtract(t, 6)
	data, err := logExtractPDF(x, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF")) {
		t.Fatalf("not a PDF: %q", data[:min(len(data), 16)])
	}
	for _, s := range []string{
		TextExtractTitle, "Åsa Öberg-Ängström", x.PNR.String(), "Vårdcentralen Centrum",
		"1 mars 2025 – 12 mars 2025", // To is exclusive: the extract ends on the 12th
		"(Anna Lindqvist)", "(Sjuksköterska)",
		"Öppnade ärende", "Slog upp invånare", "Läste meddelande", "Skickade", "Exporterade", "Skrev ut",
		"2025-03-01 00:15", string(x.Rows[0].CaseID),
		"Utdraget är gjort 12 mars 2025 09:30 av Fredrik Nordin, Informationssäkerhet", "Sida 1 av",
	} {
		if !bytes.Contains(data, cp1252(s)) {
			t.Errorf("the PDF's text lacks %q (as cp1252)", s)
		}
	}
	// å ä ö are single cp1252 bytes, never UTF-8.
	if bytes.Contains(data, []byte("Öppnade")) || !bytes.Contains(data, []byte{0xD6, 'p', 'p'}) {
		t.Error("Ö is not written as cp1252")
	}
}

func TestLogExtractPDF_MetadataIsGeneric(t *testing.T) {
	x := testExtract(t, 3)
	data, err := LogExtractPDF(x)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF")) {
		t.Fatal("not a PDF")
	}
	// Compressed: what stays readable outside the page streams is the
	// document's dictionary. It names no one.
	for _, s := range []string{"Berg", "1212", "Anna", "Fredrik", "Lindqvist"} {
		if bytes.Contains(data, []byte(s)) || bytes.Contains(data, utf16(s)) {
			t.Errorf("the PDF outside its page streams contains %q", s)
		}
	}
	if !bytes.Contains(data, []byte("/Title")) || !bytes.Contains(data, utf16(TextExtractDocName)) {
		t.Error("no generic /Title")
	}
	if bytes.Contains(data, []byte("/Author")) || bytes.Contains(data, []byte("/Subject")) || bytes.Contains(data, []byte("/Keywords")) {
		t.Error("the PDF has an author, subject or keywords")
	}
	// The page text still holds it all.
	if text := pageText(t, data); !bytes.Contains(text, cp1252("Åsa Öberg-Ängström")) || !bytes.Contains(text, cp1252("Öppnade ärende")) {
		t.Error("the page text lacks the name or an action")
	}
}

// utf16 is s as fpdf writes a UTF-8 document property: UTF-16BE, no BOM
// matters for a substring.
func utf16(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}

func TestLogExtractPDF_ManyRowsAndNone(t *testing.T) {
	data, err := logExtractPDF(testExtract(t, 120), false)
	if err != nil {
		t.Fatal(err)
	}
	pages := bytes.Count(data, []byte("/Type /Page\n")) + bytes.Count(data, []byte("/Type /Page\r")) + bytes.Count(data, []byte("/Type /Page "))
	if n := bytes.Count(data, cp1252("Sida ")); n < 3 {
		t.Errorf("120 rows on %d pages (%d page objects), want several pages", n, pages)
	}
	// The table header comes again on every page.
	if h, n := bytes.Count(data, cp1252("(Mottagning)")), bytes.Count(data, cp1252("Sida ")); h < n {
		t.Errorf("table header %d times on %d pages", h, n)
	}
	empty := testExtract(t, 0)
	data, err = logExtractPDF(empty, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, cp1252(TextExtractNone)) || bytes.Contains(data, cp1252("(Ärende)")) {
		t.Error("an empty extract should say so, without a table")
	}
	// An extract of one day.
	one := testExtract(t, 1)
	one.To = one.From.AddDate(0, 0, 1)
	if data, err = logExtractPDF(one, false); err != nil || !bytes.Contains(data, cp1252("Period")) || !bytes.Contains(data, cp1252("(1 mars 2025)")) {
		t.Errorf("one-day period: %v", err)
	}
	if _, err := LogExtractPDF(nil); err == nil {
		t.Error("a nil extract should be an error")
	}
}

// TestLogExtractPDF_Renders writes the PDF to /tmp and converts it with
// pdftotext when LOGEXTRACT_PDF is set, to look at it.
func TestLogExtractPDF_Renders(t *testing.T) {
	if os.Getenv("LOGEXTRACT_PDF") == "" {
		t.Skip("set LOGEXTRACT_PDF=1 to write /tmp/loggutdrag.pdf")
	}
	data, err := LogExtractPDF(testExtract(t, 80))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "loggutdrag.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		t.Log(strings.Join(strings.Split(string(out), "\n")[:40], "\n"))
	}
}
