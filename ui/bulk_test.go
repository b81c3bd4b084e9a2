package ui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
)

type bulkRun struct {
	f     *fixture
	s     *bulkScreen
	sess  app.Session
	done  [][]app.BulkResult
	saved []savedFile
}

func newBulk(t *testing.T, f *fixture, staffKey, clinic string) *bulkRun {
	t.Helper()
	st := staffByKey(f, t, staffKey)
	c := f.clinic(clinic)
	r := &bulkRun{f: f, sess: app.Session{Staff: &st, ClinicID: c.ID}}
	r.s = newBulkScreen(bulkDeps{
		ctx: context.Background(), tasks: &f.ui.tasks, cases: app.NewCaseService(f.store, app.FixedClock(now)),
		templates: f.store, sess: r.sess, clinic: c, win: f.win,
		onDone: func(res []app.BulkResult) { r.done = append(r.done, res) },
		save:   func(name string, data []byte) { r.saved = append(r.saved, savedFile{name, data}) },
		now:    func() time.Time { return now },
	})
	f.win.SetContent(r.s.content)
	f.wait()
	return r
}

func (r *bulkRun) chooseTemplate(t *testing.T, name string) {
	t.Helper()
	i := slices.IndexFunc(r.s.tpls, func(tp app.MessageTemplate) bool { return tp.Name == name })
	if i < 0 {
		t.Fatalf("template %q not offered", name)
	}
	r.s.template.SetSelectedIndex(i)
}

// cellTexts returns one row of the table as shown.
func (r *bulkRun) row(i int) []string {
	_, cols := r.s.tableSize()
	var out []string
	for c := 0; c < cols; c++ {
		text, _ := r.s.cellText(i, c)
		out = append(out, text)
	}
	return out
}

// mixedBulkList is a pasted list: reachable adults, a child whose guardian
// is notified, blocked residents, a duplicate, a typo and a stranger.
func mixedBulkList(t *testing.T, f *fixture) string {
	p := func(key string) string { return personaResident(f, t, key).PNR.String() }
	return strings.Join([]string{
		p(demo.AdultSMS),
		p(demo.NeverSignedIn) + ", " + p(demo.AdultBoth),
		"",
		personaResident(f, t, demo.AdultSMS).PNR.ShortAt(now), // Karin again
		p(demo.Locked) + "; " + p(demo.Deceased),
		"12345",
		p(demo.Child12y11m),
		p(demo.ChildProtected),
		"20010704-R017",
	}, "\n")
}

// Massutskick: a mixed list → a report per recipient → send → a result per
// recipient, and the store holds exactly the reachable recipients' cases.
func TestBulk_MixedListReportSendResults(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newBulk(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	s := r.s
	r.chooseTemplate(t, "Kallelse till årskontroll")
	if !s.check.Disabled() {
		t.Error("Kontrollera mottagare should wait for a list")
	}
	s.list.SetText(mixedBulkList(t, f))
	test.Tap(s.check)
	f.wait()

	want := [][]string{
		{"1", personaResident(f, t, demo.AdultSMS).PNR.String(), "Karin Johansson", L(textWillSend), ""},
		{"2", personaResident(f, t, demo.NeverSignedIn).PNR.String(), "Olof Persson", L(textWillNotSend), "Har aldrig loggat in"},
		{"2", personaResident(f, t, demo.AdultBoth).PNR.String(), "Maria Karlsson", L(textWillSend), ""},
		{"4", personaResident(f, t, demo.AdultSMS).PNR.String(), "Karin Johansson", L(textWillNotSend), "Dubblett av rad 1"},
		{"5", personaResident(f, t, demo.Locked).PNR.String(), "Petra Svensson", L(textWillNotSend), "Låst inloggning"},
		{"5", personaResident(f, t, demo.Deceased).PNR.String(), "Tore Jonsson", L(textWillNotSend), "Avliden"},
		{"6", "12345", "", L(textWillNotSend), "Ogiltigt personnummer"},
		{"7", personaResident(f, t, demo.Child12y11m).PNR.String(), "Elsa Lindberg", L(textWillSend), "Barn: 1 vårdnadshavare aviseras"},
		{"8", personaResident(f, t, demo.ChildProtected).PNR.String(), "Liam Falk", L(textWillNotSend), "Barn: skyddade personuppgifter"},
		{"9", "20010704-R017", "", L(textWillNotSend), L(textReserveShort)},
	}
	if rows, _ := s.tableSize(); rows != len(want) || !s.table.Visible() {
		t.Fatalf("report has %d rows (visible %v), want %d", rows, s.table.Visible(), len(want))
	}
	for i, w := range want {
		if got := r.row(i); !slices.Equal(got, w) {
			t.Errorf("row %d = %q, want %q", i, got, w)
		}
	}
	if s.send.Text != "Skicka till 3 mottagare" || s.send.Disabled() {
		t.Errorf("send button %q (disabled %v)", s.send.Text, s.send.Disabled())
	}
	if !strings.HasPrefix(s.summary.Text, "10 personnummer i listan: 3 skickas, 7 skickas inte.") {
		t.Errorf("summary %q", s.summary.Text)
	}
	// The full reason of a row shows when it is selected.
	s.table.Select(widget.TableCellID{Row: 1, Col: 1})
	if s.detail.Text != app.BlockNeverSignedIn.Message() || !s.detail.Visible() {
		t.Errorf("detail %q", s.detail.Text)
	}
	s.table.Select(widget.TableCellID{Row: 9, Col: 1})
	if s.detail.Text != L(textReserveLong) {
		t.Errorf("detail of the reserve number %q", s.detail.Text)
	}
	assertMarkup(t, "bulk_report.xml", f.win.Canvas())
	capturePNG(t, f.win, "bulk_report")

	before := casesPerResident(f, t)
	test.Tap(s.send)
	f.wait()
	// Issue 18, item 2: nothing goes before a question with the count,
	// the template, the subject and a sample of text and recipients.
	if !s.asked.shown() || totalCases(casesPerResident(f, t)) != totalCases(before) {
		t.Fatal("Skicka should ask first and send nothing yet")
	}
	for _, want := range []string{"3 mottagare", "Kallelse till årskontroll", s.subject.Text, "Karin Johansson, Maria Karlsson, Elsa Lindberg", L(textAskBulkFinal)} {
		if !strings.Contains(s.asked.text.Text, want) {
			t.Errorf("the question %q lacks %q", s.asked.text.Text, want)
		}
	}
	assertMarkup(t, "bulk_confirm.xml", f.win.Canvas())
	capturePNG(t, f.win, "bulk_confirm")
	test.Tap(s.asked.no)
	f.wait()
	if s.results != nil || totalCases(casesPerResident(f, t)) != totalCases(before) {
		t.Fatal("Avbryt in the question sent something")
	}
	test.Tap(s.send)
	test.Tap(s.asked.yes)
	f.wait()
	wantSent := []string{demo.AdultSMS, demo.AdultBoth, demo.Child12y11m}
	if len(s.results) != len(wantSent) {
		t.Fatalf("%d results, want %d; error %q", len(s.results), len(wantSent), s.errText.Text)
	}
	for i, key := range wantSent {
		res := s.results[i]
		if res.ResidentID != f.ds.Persona[key] || !res.Sent() {
			t.Errorf("result %d: %+v, want sent to %s", i, res, key)
		}
	}
	// The result lists every person of the list (the duplicate once):
	// the sent, and those who need a letter or a call, with the reason.
	wantRows := [][]string{
		{"1", personaResident(f, t, demo.AdultSMS).PNR.String(), "Karin Johansson", L(textWasSent), ""},
		{"2", personaResident(f, t, demo.NeverSignedIn).PNR.String(), "Olof Persson", L(textWasNotSent), "Har aldrig loggat in"},
		{"2", personaResident(f, t, demo.AdultBoth).PNR.String(), "Maria Karlsson", L(textWasSent), ""},
		{"5", personaResident(f, t, demo.Locked).PNR.String(), "Petra Svensson", L(textWasNotSent), "Låst inloggning"},
		{"5", personaResident(f, t, demo.Deceased).PNR.String(), "Tore Jonsson", L(textWasNotSent), "Avliden"},
		{"6", "12345", "", L(textWasNotSent), "Ogiltigt personnummer"},
		{"7", personaResident(f, t, demo.Child12y11m).PNR.String(), "Elsa Lindberg", L(textWasSent), ""},
		{"8", personaResident(f, t, demo.ChildProtected).PNR.String(), "Liam Falk", L(textWasNotSent), "Barn: skyddade personuppgifter"},
		{"9", "20010704-R017", "", L(textWasNotSent), L(textReserveShort)},
	}
	if rows, _ := s.tableSize(); rows != len(wantRows) {
		t.Fatalf("result has %d rows, want %d", rows, len(wantRows))
	}
	for i, w := range wantRows {
		if got := r.row(i); !slices.Equal(got, w) {
			t.Errorf("result row %d = %q, want %q", i, got, w)
		}
	}
	if !strings.HasPrefix(s.summary.Text, "Skickat till 3 av 9 personer i listan. 6 har inte fått meddelandet") || !s.done.Visible() || s.send.Visible() {
		t.Errorf("summary %q, Klar visible %v", s.summary.Text, s.done.Visible())
	}
	// The follow-up list for letters: CSV, logged per resident found.
	if !s.export.Visible() {
		t.Fatal("the export of those not sent to should show")
	}
	logBefore := len(accessEntries(t, f, app.AccessExport))
	test.Tap(s.export)
	f.wait()
	if len(r.saved) != 1 || r.saved[0].name != "massutskick-ej-skickade-2025-03-12.csv" {
		t.Fatalf("saved %v", r.saved)
	}
	csvText := string(r.saved[0].data)
	if !strings.HasPrefix(csvText, "\ufeffRad;Personnummer;Namn;Orsak;Att göra\r\n") {
		t.Errorf("CSV header: %q", csvText[:min(60, len(csvText))])
	}
	lines := strings.Split(strings.TrimSpace(csvText), "\r\n")
	if len(lines) != 1+6 {
		t.Errorf("CSV has %d lines, want a header and 6 people", len(lines))
	}
	for _, want := range []string{"Petra Svensson;Låst inloggning;" + app.BlockLoginLocked.Message(), "20010704-R017;;Reservnummer", "12345;;Ogiltigt personnummer"} {
		if !strings.Contains(csvText, want) {
			t.Errorf("CSV lacks %q", want)
		}
	}
	if strings.Contains(csvText, "Karin Johansson") {
		t.Error("the CSV lists someone who was sent to")
	}
	if got := len(accessEntries(t, f, app.AccessExport)) - logBefore; got != 4 {
		t.Errorf("%d export entries in the access log, want 4 (the residents found among those not sent to)", got)
	}
	after := casesPerResident(f, t)
	if totalCases(after) != totalCases(before)+len(wantSent) {
		t.Errorf("%d cases, want %d", totalCases(after), totalCases(before)+len(wantSent))
	}
	for _, res := range f.ds.Residents {
		grew := len(after[res.ID]) - len(before[res.ID])
		sent := slices.ContainsFunc(wantSent, func(k string) bool { return f.ds.Persona[k] == res.ID })
		if (grew == 1) != sent || grew > 1 {
			t.Errorf("resident %s: %d new cases (sent to: %v)", res.ID, grew, sent)
		}
	}
	for _, key := range wantSent {
		for _, c := range after[f.ds.Persona[key]] {
			if c.TemplateID != "" && c.CreatedAt.Equal(now) && (c.Kind != app.KindInformation || c.Status != app.StatusClosed) {
				t.Errorf("%s: case %+v, want a closed information case", key, c)
			}
		}
	}
	assertMarkup(t, "bulk_results.xml", f.win.Canvas())
	capturePNG(t, f.win, "bulk_results")
	test.Tap(s.done)
	if len(r.done) != 1 || len(r.done[0]) != len(wantSent) {
		t.Errorf("Klar: onDone got %v", r.done)
	}
}

// The report belongs to the list it was made from: editing the list takes
// it away, so what is sent is always what was checked.
func TestBulk_EditedListNeedsANewCheck(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newBulk(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Fråga om hur det går")
	r.s.list.SetText(personaResident(f, t, demo.AdultSMS).PNR.String())
	test.Tap(r.s.check)
	f.wait()
	if r.s.send.Disabled() {
		t.Fatal("Skicka should be enabled after the check")
	}
	r.s.list.SetText(r.s.list.Text + "\n" + personaResident(f, t, demo.AdultEmail).PNR.String())
	if !r.s.send.Disabled() || r.s.table.Visible() || r.s.summary.Text != L(textListChanged) {
		t.Errorf("after an edit: send disabled %v, table %v, summary %q", r.s.send.Disabled(), r.s.table.Visible(), r.s.summary.Text)
	}
	r.s.doSend()
	f.wait()
	if r.s.results != nil {
		t.Fatal("sent an unchecked list")
	}
}

func TestBulk_EmptySubjectIsRefusedAtTheField(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newBulk(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	r.chooseTemplate(t, "Fråga om hur det går")
	r.s.list.SetText(personaResident(f, t, demo.AdultSMS).PNR.String())
	test.Tap(r.s.check)
	f.wait()
	r.s.subject.SetText("")
	before := totalCases(casesPerResident(f, t))
	test.Tap(r.s.send)
	f.wait()
	if r.s.subjectMsg.Text != L(textSubjectEmpty) || r.s.results != nil || totalCases(casesPerResident(f, t)) != before {
		t.Errorf("subject message %q, results %v", r.s.subjectMsg.Text, r.s.results)
	}
}

func TestBulk_TooLongListIsRefused(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newBulk(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	n := personaResident(f, t, demo.AdultSMS).PNR.String()
	r.s.list.SetText(strings.Repeat(n+"\n", app.MaxBulkRecipients+1))
	test.Tap(r.s.check)
	f.wait()
	if !strings.Contains(r.s.listMsg.Text, "Listan har 5\u00a0001 personnummer. Högst 5\u00a0000") || r.s.table.Visible() {
		t.Errorf("list message %q", r.s.listMsg.Text)
	}
	if log := accessLogNow(f, t, r.sess.ClinicID); len(log) != 0 {
		t.Errorf("a refused list was looked up: %d entries", len(log))
	}
}

// "Läs in fil …" puts the file's text in the list, as it is; parsing is
// app's, at Kontrollera mottagare.
func TestBulk_ReadListFromFile(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newBulk(t, f, demo.StaffReceiver, "Vårdcentralen Centrum")
	path := filepath.Join(t.TempDir(), "lista.csv")
	content := "\ufeffpersonnummer;namn\r\n" + personaResident(f, t, demo.AdultSMS).PNR.String() + ";Karin\r\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r.s.readList(fh)
	f.wait()
	if r.s.list.Text != strings.TrimPrefix(content, "\ufeff") || r.s.check.Disabled() {
		t.Fatalf("list %q", r.s.list.Text)
	}
	test.Tap(r.s.check)
	f.wait()
	if rows, _ := r.s.tableSize(); rows != 4 || !r.s.checks[2].Sendable() {
		t.Errorf("report of the file: %d rows", rows)
	}
	// A file that is too large is not read into the list.
	big := filepath.Join(t.TempDir(), "stor.txt")
	if err := os.WriteFile(big, make([]byte, app.MaxBulkInput+1), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, _ = os.Open(big)
	r.s.readList(fh)
	f.wait()
	if !strings.HasPrefix(r.s.listMsg.Text, "Filen är för stor") || r.s.list.Text != strings.TrimPrefix(content, "\ufeff") {
		t.Errorf("large file: message %q", r.s.listMsg.Text)
	}
}

func TestBulk_ForbiddenForAuditor(t *testing.T) {
	f := newFixture(t, false, nil)
	r := newBulk(t, f, demo.StaffAuditor, "Vårdcentralen Centrum")
	r.s.list.SetText(personaResident(f, t, demo.AdultSMS).PNR.String())
	test.Tap(r.s.check)
	f.wait()
	if r.s.errText.Text != L(textForbidden) || r.s.table.Visible() {
		t.Errorf("auditor: error %q", r.s.errText.Text)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1\u00a0000", 5000: "5\u00a0000", 1234567: "1\u00a0234\u00a0567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// accessEntries are the access-log entries of every clinic with action,
// written around the demo's now.
func accessEntries(t *testing.T, f *fixture, action app.AccessAction) []app.AccessEntry {
	t.Helper()
	var out []app.AccessEntry
	for _, c := range f.ds.Clinics {
		all, err := f.store.Entries(context.Background(), c.ID, now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatalf("access log: %v", err)
		}
		for _, e := range all {
			if e.Action == action {
				out = append(out, e)
			}
		}
	}
	return out
}
