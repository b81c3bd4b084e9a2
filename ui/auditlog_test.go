package ui

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
)

// The staff-tool screens (access log, roles, blocked guardian) are built
// directly with their deps on the real seeded store and shown alone in the
// fixture's window.

// staffByKey returns a demo staff member as the store has them.
func (f *fixture) staffByKey(t *testing.T, key string) app.Staff {
	t.Helper()
	st, err := f.store.Staff(context.Background(), f.ds.StaffBy[key])
	if err != nil {
		t.Fatalf("staff %q: %v", key, err)
	}
	return *st
}

func (f *fixture) sessionOf(t *testing.T, key, clinic string) app.Session {
	t.Helper()
	st := f.staffByKey(t, key)
	return app.Session{Staff: &st, ClinicID: f.clinic(clinic).ID}
}

// residentByKey returns a demo persona.
func (f *fixture) residentByKey(t *testing.T, key string) *app.Resident {
	t.Helper()
	for _, r := range f.ds.Residents {
		if r.ID == f.ds.Persona[key] {
			return r
		}
	}
	t.Fatalf("no persona %q", key)
	return nil
}

// staffToolPNG writes the window as a PNG in /tmp with the light theme
// when STAFFTOOL_PNG is set, to look at the screen as users will.
func staffToolPNG(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	if os.Getenv("STAFFTOOL_PNG") == "" {
		return
	}
	test.ApplyTheme(t, theme.LightTheme())
	out, err := os.Create("/tmp/" + name + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := png.Encode(out, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

type auditRun struct {
	f      *fixture
	s      *auditScreen
	opened app.CaseRow
	sent   *app.Case
	// saves are the files the screen handed to save.
	saves []auditSave
}

type auditSave struct {
	name string
	data []byte
}

// openAudit makes three logged accesses in Vårdcentralen Centrum with the
// real CaseService (Anna opens a case and looks up Maria Karlsson, Björn
// sends a question to Lars Andersson), then shows the access log as the
// staff member key sees it.
func openAudit(t *testing.T, key string) *auditRun { return openAuditWith(t, key, nil) }

// openAuditWith is openAudit with the service wrapped by wrap (nil: as it is).
func openAuditWith(t *testing.T, key string, wrap func(*app.AuditService) AuditReader) *auditRun {
	t.Helper()
	f := newFixture(t, false, nil)
	ctx := context.Background()
	cases := app.NewCaseService(f.store, app.FixedClock(now))
	anna := f.sessionOf(t, demo.StaffReceiver, "Vårdcentralen Centrum")
	page, err := cases.ClinicCases(ctx, anna, app.CaseQuery{Limit: 1})
	if err != nil || len(page.Rows) == 0 {
		t.Fatalf("clinic cases: %v", err)
	}
	r := &auditRun{f: f, opened: page.Rows[0]}
	if _, err := cases.OpenCase(ctx, anna, r.opened.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cases.LookupResident(ctx, anna, f.residentByKey(t, demo.AdultBoth).PNR); err != nil {
		t.Fatal(err)
	}
	var tpl app.MessageTemplate
	for _, m := range f.ds.Templates {
		if m.ClinicID == anna.ClinicID && m.Kind == app.KindQuestion {
			tpl = m
		}
	}
	bjorn := f.sessionOf(t, demo.StaffHandler, "Vårdcentralen Centrum")
	r.sent, err = cases.SendCase(ctx, bjorn, app.SendRequest{TemplateID: tpl.ID, ResidentID: f.ds.Persona[demo.AdultEmail], Subject: tpl.Subject, Text: tpl.Body})
	if err != nil {
		t.Fatal(err)
	}
	var svc AuditReader = app.NewAuditService(f.store, app.FixedClock(now))
	if wrap != nil {
		svc = wrap(svc.(*app.AuditService))
	}
	r.s = newAuditScreen(auditDeps{
		ctx: ctx, tasks: &f.ui.tasks, svc: svc, dir: f.store,
		sess: f.sessionOf(t, key, "Vårdcentralen Centrum"), clinic: f.clinic("Vårdcentralen Centrum"), clock: app.FixedClock(now),
		save: func(name string, data []byte) { r.saves = append(r.saves, auditSave{name, data}) },
	})
	f.win.SetContent(r.s.content)
	f.wait()
	return r
}

func (r *auditRun) cell(row, col int) string { return auditColumns[col].text(&r.s.rows[row]) }

func TestAuditLog_GranskareSeesTheLastSevenDays(t *testing.T) {
	r := openAudit(t, demo.StaffAuditor)
	s := r.s
	if s.from.Text != "2025-03-06" || s.to.Text != "2025-03-12" {
		t.Errorf("default period %s – %s, want the last 7 days 2025-03-06 – 2025-03-12", s.from.Text, s.to.Text)
	}
	if rows, _ := s.table.Length(); rows != 3 || len(s.rows) != 3 {
		t.Fatalf("table has %d rows, want the 3 accesses", rows)
	}
	lars := r.f.residentByKey(t, demo.AdultEmail)
	want := [][]string{
		// Issue 18, item 4: the case by its subject, not its id.
		{"2025-03-12 09:30:00", "Björn Ekström", "Skickade", "Lars Andersson", lars.PNR.String(), r.sent.Subject},
		{"2025-03-12 09:30:00", "Anna Lindqvist", "Slog upp invånare", "Maria Karlsson", r.f.residentByKey(t, demo.AdultBoth).PNR.String(), L(textAudNoCase)},
		{"2025-03-12 09:30:00", "Anna Lindqvist", "Öppnade ärende", r.opened.ResidentName, r.opened.PNR.String(), r.opened.Subject},
	}
	for i, w := range want {
		for c := range auditColumns {
			if got := r.cell(i, c); got != w[c] {
				t.Errorf("row %d, %s = %q, want %q", i, auditColumns[c].title, got, w[c])
			}
		}
	}
	if s.count.Text != "3 loggposter, senaste först" || s.empty.Visible() || s.errText.Visible() {
		t.Errorf("count %q, empty shown %v, error %q", s.count.Text, s.empty.Visible(), s.errText.Text)
	}
	// The staff choice holds the clinic's staff, by name.
	wantStaff := []string{L(textAudAllStaff), "Anna Lindqvist", "Björn Ekström", "David Sundberg", "Eva Bergström", "Fredrik Nordin"}
	if !slices.Equal(s.staff.Options, wantStaff) {
		t.Errorf("staff choice %q, want %q", s.staff.Options, wantStaff)
	}
	// Case ids are random; the golden shows fixed ones in their place.
	for i := range s.rows {
		if s.rows[i].CaseID != "" {
			s.rows[i].CaseID = app.ID(fmt.Sprintf("01JP4QK3T0000000000000000%d", i))
		}
	}
	s.table.Refresh()
	assertMarkup(t, "audit_list.xml", r.f.win.Canvas())
	staffToolPNG(t, r.f.win, "audit_list")
}

func TestAuditLog_FiltersByStaffAndPersonnummer(t *testing.T) {
	r := openAudit(t, demo.StaffAuditor)
	s := r.s
	s.staff.SetSelected("Björn Ekström")
	test.Tap(s.show)
	r.f.wait()
	if len(s.rows) != 1 || s.rows[0].StaffName != "Björn Ekström" || s.count.Text != "1 loggpost" {
		t.Fatalf("Björn's entries: %+v (%q)", s.rows, s.count.Text)
	}
	s.staff.SetSelected(L(textAudAllStaff))
	test.Type(s.pnr, r.f.residentByKey(t, demo.AdultBoth).PNR.String())
	test.Tap(s.show)
	r.f.wait()
	if len(s.rows) != 1 || s.rows[0].ResidentName != "Maria Karlsson" {
		t.Fatalf("Maria's entries: %+v", s.rows)
	}
	// Nobody touched this resident's data: the empty text, no error.
	untouched := r.f.residentByKey(t, demo.AdultSMS)
	if untouched.ID == r.opened.ResidentID {
		untouched = r.f.residentByKey(t, demo.AdultNone)
	}
	s.pnr.SetText(untouched.PNR.String())
	s.pnr.OnSubmitted(s.pnr.Text) // Enter in the field
	r.f.wait()
	if len(s.rows) != 0 || !s.empty.Visible() || s.empty.Text != "Inga loggposter för urvalet." || s.errText.Visible() {
		t.Errorf("no entries: %d rows, empty text shown %v, error %q", len(s.rows), s.empty.Visible(), s.errText.Text)
	}
}

func TestAuditLog_BadInputIsShownAtTheField(t *testing.T) {
	r := openAudit(t, demo.StaffAuditor)
	s := r.s
	s.from.SetText("2025-13-01")
	test.Tap(s.show)
	r.f.wait()
	if !s.fromMsg.Visible() || s.fromMsg.Text != L(textAudBadDate) || s.toMsg.Visible() {
		t.Errorf("bad Från: message %q (visible %v)", s.fromMsg.Text, s.fromMsg.Visible())
	}
	if len(s.rows) != 0 || s.errText.Text != L(textAudFixFields) {
		t.Errorf("a bad filter must show no rows (%d) and say so (%q)", len(s.rows), s.errText.Text)
	}
	staffToolPNG(t, r.f.win, "audit_bad_date")
	test.Type(s.from, "x") // editing the field takes its message away
	if s.fromMsg.Visible() {
		t.Error("the message should go when the field is edited")
	}
	for _, c := range []struct{ from, to, want string }{
		{"2025-03-12", "2025-03-01", L(textAudBackwards)},
		{"2024-03-01", "2025-03-12", L(textAudTooLong)},
	} {
		s.from.SetText(c.from)
		s.to.SetText(c.to)
		test.Tap(s.show)
		r.f.wait()
		if s.toMsg.Text != c.want || !s.toMsg.Visible() || s.fromMsg.Visible() {
			t.Errorf("%s – %s: Till says %q, want %q", c.from, c.to, s.toMsg.Text, c.want)
		}
	}
	// Exactly a year is allowed.
	s.from.SetText("2024-03-13")
	s.to.SetText("2025-03-12")
	test.Tap(s.show)
	r.f.wait()
	if s.toMsg.Visible() || len(s.rows) != 3 {
		t.Errorf("one year: Till says %q, %d rows", s.toMsg.Text, len(s.rows))
	}
	// A wrong personnummer: the package's Swedish message, without the number.
	s.pnr.SetText("20000101-2385")
	test.Tap(s.show)
	r.f.wait()
	if !s.pnrMsg.Visible() || !strings.Contains(s.pnrMsg.Text, "Kontrollsiffran") || strings.Contains(s.pnrMsg.Text, "2385") {
		t.Errorf("bad personnummer: %q", s.pnrMsg.Text)
	}
}

func TestAuditLog_OtherRolesAreRefused(t *testing.T) {
	r := openAudit(t, demo.StaffLocalAdmin)
	s := r.s
	if len(s.rows) != 0 || !s.errText.Visible() || s.errText.Text != L(textForbidden) {
		t.Errorf("lokal administratör: %d rows, error %q", len(s.rows), s.errText.Text)
	}
	if s.empty.Visible() {
		t.Error("a refusal is not an empty log")
	}
}

// fixCaseIDs puts fixed case ids in place of the random ones, for a golden.
func (r *auditRun) fixCaseIDs() {
	for i := range r.s.rows {
		if r.s.rows[i].CaseID != "" {
			r.s.rows[i].CaseID = app.ID(fmt.Sprintf("01JP4QK3T0000000000000000%d", i))
		}
	}
	r.s.table.Refresh()
}

func TestAuditLog_GranskareMakesALogExtract(t *testing.T) {
	r := openAudit(t, demo.StaffAuditor)
	s := r.s
	if s.extractBtn == nil || s.verifyBtn == nil {
		t.Fatal("app.AuditService should give the extract and the chain check")
	}
	// Without a personnummer: said at the field, nothing made.
	test.Tap(s.extractBtn)
	r.f.wait()
	if !s.pnrMsg.Visible() || s.pnrMsg.Text != L(textAudExtractNeedsPNR) || len(r.saves) != 0 {
		t.Fatalf("extract without a personnummer: field says %q, %d files", s.pnrMsg.Text, len(r.saves))
	}
	maria := r.f.residentByKey(t, demo.AdultBoth)
	test.Type(s.pnr, maria.PNR.String())
	test.Tap(s.extractBtn)
	r.f.wait()
	if len(r.saves) != 1 {
		t.Fatalf("%d files saved, want the extract (message %q)", len(r.saves), s.extractMsg.Text)
	}
	got := r.saves[0]
	if got.name != "loggutdrag-2025-03-12.pdf" || !strings.HasPrefix(string(got.data), "%PDF") {
		t.Errorf("saved %q (%.8q), want loggutdrag-2025-03-12.pdf, a PDF", got.name, got.data)
	}
	for _, secret := range []string{maria.PNR.String(), "Maria", "Karlsson"} {
		if strings.Contains(got.name, secret) || strings.Contains(string(got.data), secret) {
			t.Errorf("the file name or the PDF outside its compressed pages holds %q", secret)
		}
	}
	if s.extractMsg.Text != L(textAudExtractOne) || s.extractMsg.Importance != widget.SuccessImportance || s.errText.Visible() {
		t.Errorf("extract message %q (error %q)", s.extractMsg.Text, s.errText.Text)
	}
	r.fixCaseIDs()
	assertMarkup(t, "audit_extract.xml", r.f.win.Canvas())
	staffToolPNG(t, r.f.win, "audit_extract")
	// The extract is in the log: the granskare exported Maria's data.
	test.Tap(s.show)
	r.f.wait()
	if len(s.rows) != 2 || s.rows[0].Action != app.AccessExport || s.rows[0].StaffName != "Fredrik Nordin" || s.rows[0].ResidentName != "Maria Karlsson" {
		t.Errorf("Maria's log after the extract: %+v", s.rows)
	}
	// Nobody with the number: said, nothing saved.
	s.pnr.SetText(unknownPNR(t, r.f))
	test.Tap(s.extractBtn)
	r.f.wait()
	if len(r.saves) != 1 || s.extractMsg.Text != L(textAudExtractNoOne) || s.extractMsg.Importance != widget.DangerImportance {
		t.Errorf("unknown resident: %d files, message %q", len(r.saves), s.extractMsg.Text)
	}
}

// unknownPNR is a valid personnummer of nobody in the demo register.
func unknownPNR(t *testing.T, f *fixture) string {
	t.Helper()
	for _, in := range []string{"19121212-1212", "19800101-0019", "19900101-0017"} {
		n, err := personnummer.ParseAt(in, now)
		if err != nil {
			continue
		}
		if _, err := f.store.ResidentByPNR(context.Background(), n); errors.Is(err, app.ErrNotFound) {
			return in
		}
	}
	t.Fatal("no unused personnummer")
	return ""
}

func TestAuditLog_GranskareChecksTheChain(t *testing.T) {
	r := openAudit(t, demo.StaffAuditor)
	s := r.s
	rep, err := r.f.store.VerifyAccessLog(context.Background())
	if err != nil || !rep.OK() || rep.Entries < 3 {
		t.Fatalf("the store's own check: %+v %v", rep, err)
	}
	test.Tap(s.verifyBtn)
	r.f.wait()
	want := fmt.Sprintf("Loggen är hel: %d poster, kontrollerad från första posten.", rep.Entries)
	if s.chainMsg.Text != want || !s.chainMsg.Visible() || s.chainMsg.Importance != widget.SuccessImportance {
		t.Errorf("chain message %q, want %q", s.chainMsg.Text, want)
	}
	r.fixCaseIDs()
	assertMarkup(t, "audit_chain.xml", r.f.win.Canvas())
	staffToolPNG(t, r.f.win, "audit_chain")
}

// brokenChain is the audit service with a chain broken at entry 2.
type brokenChain struct{ *app.AuditService }

func (brokenChain) Verify(context.Context, app.Session) (app.ChainReport, error) {
	return app.ChainReport{Entries: 2, First: 1, Last: 2, Break: &app.ChainBreak{Seq: 2, EntryID: "01JP4QK3T00000000000000002",
		Kind: app.BreakEdited, Detail: "the entry no longer matches the hash entry 3 recorded for it"}}, nil
}

func TestAuditLog_ABrokenChainNamesTheFirstBrokenLink(t *testing.T) {
	r := openAuditWith(t, demo.StaffAuditor, func(a *app.AuditService) AuditReader { return brokenChain{a} })
	s := r.s
	test.Tap(s.verifyBtn)
	r.f.wait()
	want := "Loggen är inte hel: post 2 har ändrats. " + L(textAudChainFirst) +
		"\nTeknisk uppgift: seq 2 (entry 01JP4QK3T00000000000000002): edited: the entry no longer matches the hash entry 3 recorded for it"
	if s.chainMsg.Text != want || s.chainMsg.Importance != widget.DangerImportance {
		t.Errorf("chain message %q, want %q", s.chainMsg.Text, want)
	}
	r.fixCaseIDs()
	assertMarkup(t, "audit_chain_broken.xml", r.f.win.Canvas())
	staffToolPNG(t, r.f.win, "audit_chain_broken")
}

func TestAuditLog_ChainTexts(t *testing.T) {
	brk := func(seq uint64, k app.BreakKind) app.ChainReport {
		return app.ChainReport{Break: &app.ChainBreak{Seq: seq, Kind: k, Detail: "d"}}
	}
	for _, c := range []struct {
		rep  app.ChainReport
		want string
	}{
		{app.ChainReport{}, L(textAudChainEmpty)},
		{app.ChainReport{Entries: 1200, First: 1, Last: 1200}, "Loggen är hel: 1200 poster, kontrollerad från första posten."},
		{app.ChainReport{Entries: 200, First: 1001, Last: 1200, Anchor: 1000},
			"Loggen är hel: 200 poster, kontrollerad från den signerade kontrollpunkten vid post 1000 (äldre poster är gallrade)."},
		{brk(7, app.BreakRemoved), "Loggen är inte hel: poster saknas från och med post 7."},
		{brk(7, app.BreakReordered), "Loggen är inte hel: post 7 ligger på en annan posts plats."},
		{brk(7, app.BreakCheckpoint), "Loggen är inte hel: kontrollpunkten vid post 7 har ingen giltig signatur."},
		{brk(0, app.BreakCheckpoint), L(textAudChainNoKey)},
	} {
		got := chainText(c.rep)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: %q, want it to start %q", c.rep, got, c.want)
		}
		if c.rep.Break != nil && !strings.Contains(got, L(textAudChainFirst)) {
			t.Errorf("%+v: %q does not say it is the first broken link", c.rep, got)
		}
	}
}

func TestAuditLog_OthersGetNoExtract(t *testing.T) {
	r := openAudit(t, demo.StaffLocalAdmin)
	s := r.s
	test.Type(s.pnr, r.f.residentByKey(t, demo.AdultBoth).PNR.String())
	test.Tap(s.extractBtn)
	test.Tap(s.verifyBtn)
	r.f.wait()
	if len(r.saves) != 0 || s.extractMsg.Text != L(textForbidden) || s.chainMsg.Text != L(textForbidden) {
		t.Errorf("lokal administratör: %d files, extract %q, chain %q", len(r.saves), s.extractMsg.Text, s.chainMsg.Text)
	}
}
