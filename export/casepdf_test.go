package export

import (
	"bytes"
	"compress/zlib"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

var now = time.Date(2025, time.March, 12, 9, 30, 0, 0, app.Stockholm)

// pageText returns the uncompressed content of every stream in a PDF, so
// that a test can look for the text fpdf wrote.
func pageText(t *testing.T, pdf []byte) []byte {
	t.Helper()
	var out []byte
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			return out
		}
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("\nendstream"))
		if j < 0 {
			t.Fatal("stream without endstream")
		}
		data := rest[:j]
		rest = rest[j+len("\nendstream"):]
		r, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			out = append(out, data...) // not compressed (fonts are not)
			continue
		}
		plain, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("inflate stream: %v", err)
		}
		out = append(out, plain...)
	}
}

// cp1252 is how a string appears in the page content: fpdf writes core-font
// text in the cp1252 code page.
func cp1252(s string) []byte {
	var b []byte
	for _, r := range s {
		switch {
		case r < 0x80:
			b = append(b, byte(r))
		case r == '–':
			b = append(b, 0x96)
		case r >= 0xA0 && r <= 0xFF:
			b = append(b, byte(r))
		default:
			panic("test string outside cp1252: " + string(r))
		}
	}
	return b
}

// demoThread is a demo case answered by staff, with a note added.
func demoThread(t *testing.T) (*app.Thread, Names) {
	t.Helper()
	ds := demo.Build(now)
	var th *app.Thread
	for i := range ds.Threads {
		c := ds.Threads[i].Case
		if c.StartedBy == app.StartedByResident && len(ds.Threads[i].Messages) == 2 && c.Status == app.StatusClosed {
			th = &ds.Threads[i]
			break
		}
	}
	if th == nil {
		t.Fatal("the demo set has no closed, answered resident case")
	}
	staff := map[app.ID]string{}
	for _, s := range ds.Staff {
		staff[s.ID] = s.Name
	}
	th.Notes = append(th.Notes, app.Note{ID: "n1", CaseID: th.Case.ID, StaffID: th.Case.AssigneeID,
		At: th.Messages[0].At.Add(time.Hour), Text: "Ringt upp – patienten mår bättre, åter vid behov. Överenskommet."})
	return th, Names{Clinic: "Vårdcentralen Centrum", Resident: "Åsa Öberg", PNR: "20001231-0000",
		Kind: "Kontakta mottagningen", Staff: staff, PrintedAt: now}
}

func TestCasePDF_ContainsThreadAndFooter(t *testing.T) {
	th, names := demoThread(t)
	pdf, err := CasePDF(th, names)
	if err != nil {
		t.Fatalf("CasePDF: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("output does not start with %%PDF: %q", pdf[:min(len(pdf), 16)])
	}
	text := pageText(t, pdf)
	for _, want := range []string{
		th.Case.Subject,
		"Intern anteckning – syns inte för invånaren",
		"Ringt upp – patienten mår bättre, åter vid behov. Överenskommet.",
		"Åsa Öberg, 20001231-0000",
		"Vårdcentralen Centrum",
		"Invånaren",                     // author of the first message
		names.Staff[th.Case.AssigneeID], // author of the reply
		DateTime(th.Messages[0].At),
		"Läst av invånaren",
		"Avslutad",
		"Kontakta mottagningen – Invånaren kan svara",
		"Utskrivet 12 mars 2025 09:30 ur Mottagning – kopiera in det som behövs i journalen",
	} {
		if !bytes.Contains(text, cp1252(want)) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	// åäö must arrive as single cp1252 bytes, not as UTF-8 pairs.
	if bytes.Contains(text, []byte("å")) || bytes.Contains(text, []byte("ö")) {
		t.Error("PDF text holds UTF-8 å/ö: the cp1252 translation was not applied")
	}
	for _, b := range []byte{0xE5, 0xE4, 0xF6, 0xC5, 0xD6} { // å ä ö Å Ö
		if !bytes.Contains(text, []byte{b}) {
			t.Errorf("PDF text lacks cp1252 byte %#x", b)
		}
	}
}

// R16: the document says whether the resident can answer.
func TestR16_CasePDF_InformationCannotBeAnswered(t *testing.T) {
	th, names := demoThread(t)
	th.Case.Kind = app.KindInformation
	names.Kind = ""
	pdf, err := CasePDF(th, names)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pageText(t, pdf), cp1252("Information – Invånaren kan inte svara")) {
		t.Error("an information case should say that the resident cannot answer")
	}
}

func TestCasePDF_ProxyAuthorAndUnknownStaff(t *testing.T) {
	th := &app.Thread{
		Case: app.Case{ID: "c1", Subject: "Utslag", Kind: app.KindQuestion, Status: app.StatusWaiting,
			StartedBy: app.StartedByGuardian, AssigneeID: "gone", CreatedAt: now},
		Messages: []app.Message{
			{ID: "m1", Author: app.AuthorGuardian, AuthorID: "g", At: now, Text: "Hej"},
			{ID: "m2", Author: app.AuthorStaff, AuthorID: "gone", At: now.Add(time.Hour), Text: "Svar"},
		},
	}
	pdf, err := CasePDF(th, Names{Guardians: map[app.ID]string{"g": "Åke Lindberg"}})
	if err != nil {
		t.Fatal(err)
	}
	text := pageText(t, pdf)
	// Issue 18, item 4: which guardian wrote.
	for _, want := range []string{"Vårdnadshavare i ombudsläge: Åke Lindberg", "Okänd medarbetare", TextUnread} {
		if !bytes.Contains(text, cp1252(want)) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

// A long thread flows over several pages, each with the footer.
func TestCasePDF_LongThreadPaginates(t *testing.T) {
	th, names := demoThread(t)
	for i := range 60 {
		th.Messages = append(th.Messages, app.Message{ID: app.ID(rune('a' + i%26)), Author: app.AuthorResident,
			At: now.Add(time.Duration(i) * time.Minute), Text: strings.Repeat("Långt meddelande om besvär. ", 12)})
	}
	pdf, err := CasePDF(th, names)
	if err != nil {
		t.Fatal(err)
	}
	text := pageText(t, pdf)
	if n := bytes.Count(text, cp1252("Utskrivet ")); n < 3 {
		t.Errorf("footer printed %d times, want one per page on at least 3 pages", n)
	}
	if !bytes.Contains(text, []byte("Sida 1 av ")) {
		t.Error("footer lacks the page number")
	}
}

func TestCasePDF_ErrorsCarryNoPersonalData(t *testing.T) {
	_, err := CasePDF(nil, Names{Resident: "Åsa Öberg", PNR: "20001231-0000"})
	if err == nil {
		t.Fatal("a nil thread should fail")
	}
	if strings.Contains(err.Error(), "Åsa") || strings.Contains(err.Error(), "20001231") {
		t.Errorf("error %q carries personal data", err)
	}
}

func TestDateTime_SwedishStockholm(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{now, "12 mars 2025 09:30"},
		{time.Date(2025, 7, 1, 12, 5, 0, 0, time.UTC), "1 juli 2025 14:05"},       // summer time, UTC+2
		{time.Date(2024, 12, 31, 23, 30, 0, 0, time.UTC), "1 januari 2025 00:30"}, // the Stockholm date counts
	} {
		if got := DateTime(tc.in); got != tc.want {
			t.Errorf("DateTime(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := DayTime(now.Add(11*time.Minute), now); got != "12 mars 09:41" {
		t.Errorf("DayTime same year = %q", got)
	}
	if got := DayTime(now, now.AddDate(1, 0, 0)); got != "12 mars 2025 09:30" {
		t.Errorf("DayTime other year = %q", got)
	}
}

func TestEntries_OldestFirstMessagesBeforeNotes(t *testing.T) {
	th := &app.Thread{
		Messages: []app.Message{{ID: "m1", At: now}, {ID: "m2", At: now.Add(2 * time.Hour)}},
		Notes:    []app.Note{{ID: "n1", At: now.Add(time.Hour)}, {ID: "n0", At: now}},
	}
	var got []app.ID
	for _, e := range Entries(th) {
		if e.Message != nil {
			got = append(got, e.Message.ID)
		} else {
			got = append(got, e.Note.ID)
		}
	}
	if want := []app.ID{"m1", "n0", "n1", "m2"}; strings.Join(ids(got), ",") != strings.Join(ids(want), ",") {
		t.Errorf("order %v, want %v", got, want)
	}
}

func ids(x []app.ID) []string {
	out := make([]string, len(x))
	for i, v := range x {
		out[i] = string(v)
	}
	return out
}

// The export package runs beside the domain: no Fyne, so that a server or
// a command-line tool can print a case too (shared/STYLE.md, dependencies).
func TestExportDoesNotImportFyne(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", "mottagning/export").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "fyne.io/") || strings.HasPrefix(dep, "go.etcd.io/bbolt") {
			t.Errorf("export depends on %s", dep)
		}
	}
}
