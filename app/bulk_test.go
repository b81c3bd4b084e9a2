package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
)

// unknownNumber is a Skatteverket test number that no demo resident has.
func (f *fixture) unknownNumber() personnummer.Number {
	f.t.Helper()
	used := map[personnummer.Number]bool{}
	for _, r := range f.ds.Residents {
		used[r.PNR] = true
	}
	for _, n := range demo.TestNumbers() {
		if !used[n] && n.AgeOn(f.now) >= 18 {
			return n
		}
	}
	f.t.Fatal("every test number is used")
	return personnummer.Number{}
}

func (f *fixture) pnr(key string) string { return f.resident(key).PNR.String() }

// accessLog returns the clinic's access-log entries written at f.now.
func (f *fixture) accessLog(clinic int) []app.AccessEntry {
	f.t.Helper()
	es, err := f.store.Entries(f.ctx, f.ds.Clinics[clinic].ID, f.now.Add(-1), f.now.Add(1))
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// mixedList is a recipient list with every kind of entry, written the ways
// staff paste them: one per line, comma and semicolon separated, 10 and 12
// digits, blank lines, a reserve number and plain mistakes.
func (f *fixture) mixedList() string {
	sms := f.resident(demo.AdultSMS).PNR
	return strings.Join([]string{
		sms.String(), // 1: adult, SMS
		f.pnr(demo.AdultEmail) + ", " + f.pnr(demo.NeverSignedIn), // 2: adult; never signed in (R1)
		"",                               // 3: blank
		"  " + sms.ShortAt(f.now) + "  ", // 4: Karin again, 10 digits
		f.pnr(demo.Locked) + ";" + f.pnr(demo.Deceased), // 5: locked (R10); deceased
		"20010704-R017",            // 6: reserve number
		"personnummer",             // 7: a header
		"20000101-2385",            // 8: wrong check digit
		f.unknownNumber().String(), // 9: valid, nobody
		f.pnr(demo.Child12y11m),    // 10: child with a guardian who may act
		f.pnr(demo.ChildNotActivated) + "\t" + f.pnr(demo.ChildProtected), // 11: children nobody may act for (R5, R7)
		f.pnr(demo.Protected), // 12: protected identity, reachable (R9)
	}, "\r\n")
}

func TestBulk_CheckRecipientsReportsEveryEntry(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	checks, err := f.cases.CheckRecipients(f.ctx, sess, f.mixedList())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line    int
		status  app.RecipientStatus
		persona string
		err     error
		block   app.BlockReason
	}{
		{1, app.RecipientSendable, demo.AdultSMS, nil, ""},
		{2, app.RecipientSendable, demo.AdultEmail, nil, ""},
		{2, app.RecipientBlocked, demo.NeverSignedIn, nil, app.BlockNeverSignedIn},
		{4, app.RecipientDuplicate, demo.AdultSMS, nil, ""},
		{5, app.RecipientBlocked, demo.Locked, nil, app.BlockLoginLocked},
		{5, app.RecipientBlocked, demo.Deceased, nil, app.BlockDeceased},
		{6, app.RecipientInvalid, "", personnummer.ErrReserve, ""},
		{7, app.RecipientInvalid, "", personnummer.ErrFormat, ""},
		{8, app.RecipientInvalid, "", personnummer.ErrChecksum, ""},
		{9, app.RecipientNotFound, "", app.ErrNotFound, ""},
		{10, app.RecipientSendable, demo.Child12y11m, nil, ""},
		{11, app.RecipientBlocked, demo.ChildNotActivated, nil, app.BlockChildNotActivated},
		{11, app.RecipientBlocked, demo.ChildProtected, nil, app.BlockChildProtected},
		{12, app.RecipientSendable, demo.Protected, nil, ""},
	}
	if len(checks) != len(want) {
		for _, c := range checks {
			t.Logf("line %d: %s %v", c.Line, c.Status, c.Err)
		}
		t.Fatalf("%d entries, want %d", len(checks), len(want))
	}
	for i, w := range want {
		c := checks[i]
		if c.Line != w.line || c.Status != w.status {
			t.Errorf("entry %d: line %d status %s, want line %d status %s", i, c.Line, c.Status, w.line, w.status)
		}
		if w.persona != "" && c.ResidentID != f.ds.Persona[w.persona] {
			t.Errorf("entry %d: resident %s, want %s", i, c.ResidentID, w.persona)
		}
		if w.persona != "" && c.Name != f.resident(w.persona).Register.FullName() {
			t.Errorf("entry %d: name %q", i, c.Name)
		}
		if w.err != nil && !errors.Is(c.Err, w.err) {
			t.Errorf("entry %d: err %v, want %v", i, c.Err, w.err)
		}
		if w.err == nil && c.Err != nil {
			t.Errorf("entry %d: unexpected err %v", i, c.Err)
		}
		if w.block != "" && !hasBlock(c.Reach, w.block) {
			t.Errorf("entry %d: reach %+v, want %s", i, c.Reach, w.block)
		}
		if c.Sendable() != (w.status == app.RecipientSendable) {
			t.Errorf("entry %d: Sendable() = %v", i, c.Sendable())
		}
	}
	if checks[3].DuplicateOf != 1 || checks[3].Input != f.resident(demo.AdultSMS).PNR.ShortAt(f.now) {
		t.Errorf("duplicate: DuplicateOf %d, input %q", checks[3].DuplicateOf, checks[3].Input)
	}
	// R5/R6: the child goes ahead, and the report knows who is notified.
	if c := checks[10]; !hasFact(c.Reach, app.FactChildInbox) || len(c.Reach.NotifiedGuardians) != 1 ||
		c.Reach.NotifiedGuardians[0] != f.ds.Persona[demo.GuardianNotified] {
		t.Errorf("child: reach %+v, want the child's inbox with the notified guardian", c.Reach)
	}
	if !hasFact(checks[13].Reach, app.FactProtectedIdentity) {
		t.Errorf("protected identity: reach %+v", checks[13].Reach)
	}
}

// Every resident found is recorded once; numbers that found nobody, bad
// lines and a repeated person add nothing.
func TestBulk_CheckRecipientsRecordsEachLookupOnce(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	checks, err := f.cases.CheckRecipients(f.ctx, sess, f.mixedList())
	if err != nil {
		t.Fatal(err)
	}
	var want []app.ID
	for _, c := range checks {
		if c.ResidentID != "" && c.Status != app.RecipientDuplicate {
			want = append(want, c.ResidentID)
		}
	}
	log := f.accessLog(0)
	if len(log) != len(want) || len(want) != 9 {
		t.Fatalf("%d access-log entries, want %d (9 distinct residents found)", len(log), len(want))
	}
	for i, e := range log {
		if e.Action != app.AccessLookupResident || e.ResidentID != want[i] || e.StaffID != sess.Staff.ID || e.ClinicID != sess.ClinicID || e.CaseID != "" {
			t.Errorf("entry %d = %+v, want a lookup of %s", i, e, want[i])
		}
	}
}

func TestBulk_SendBulkSendsToReachableOnly(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	checks, err := f.cases.CheckRecipients(f.ctx, sess, f.mixedList())
	if err != nil {
		t.Fatal(err)
	}
	var ids []app.ID
	for _, c := range checks {
		if c.Sendable() {
			ids = append(ids, c.ResidentID)
		}
	}
	// A caller that sends to a blocked resident anyway, and twice to one
	// person: the service re-checks and collapses.
	locked := f.ds.Persona[demo.Locked]
	ids = append(ids, locked, ids[0])
	before := f.casesOfAll()
	tpl := f.template(0, app.KindQuestion)
	res, err := f.cases.SendBulk(f.ctx, sess, app.BulkRequest{TemplateID: tpl.ID, Subject: tpl.Subject, Text: tpl.Body, ResidentIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	wantSent := []string{demo.AdultSMS, demo.AdultEmail, demo.Child12y11m, demo.Protected}
	if len(res) != len(wantSent)+1 {
		t.Fatalf("%d results, want %d", len(res), len(wantSent)+1)
	}
	for i, key := range wantSent {
		r := res[i]
		if r.ResidentID != f.ds.Persona[key] || !r.Sent() {
			t.Fatalf("result %d: %+v, want sent to %s", i, r, key)
		}
		th, err := f.store.Thread(f.ctx, r.Case.ID)
		if err != nil {
			t.Fatalf("%s: case not in the store: %v", key, err)
		}
		c := th.Case
		if c.Kind != app.KindQuestion || c.Status != app.StatusWaiting || c.StartedBy != app.StartedByClinic ||
			c.AssigneeID != sess.Staff.ID || c.TemplateID != tpl.ID || c.ResidentID != r.ResidentID || c.ClinicID != sess.ClinicID {
			t.Errorf("%s: case %+v", key, c)
		}
		if len(th.Messages) != 1 || th.Messages[0].Text != tpl.Body {
			t.Errorf("%s: messages %+v", key, th.Messages)
		}
	}
	last := res[len(res)-1]
	var ue *app.UnreachableError
	if last.ResidentID != locked || last.Sent() || !errors.As(last.Err, &ue) || ue.Reasons[0] != app.BlockLoginLocked {
		t.Fatalf("locked resident: %+v, want refused with %s", last, app.BlockLoginLocked)
	}
	// The store holds exactly the new cases, and nothing for the blocked.
	after := f.casesOfAll()
	if total(after)-total(before) != len(wantSent) {
		t.Errorf("%d new cases, want %d", total(after)-total(before), len(wantSent))
	}
	for _, key := range []string{demo.Locked, demo.NeverSignedIn, demo.Deceased, demo.ChildNotActivated, demo.ChildProtected} {
		if n := len(after[f.ds.Persona[key]]) - len(before[f.ds.Persona[key]]); n != 0 {
			t.Errorf("%s: %d cases created for a blocked resident", key, n)
		}
	}
	// One send entry per case, after the lookups.
	var sends int
	for _, e := range f.accessLog(0) {
		if e.Action == app.AccessSend {
			sends++
			if th, err := f.store.Thread(f.ctx, e.CaseID); err != nil || th.Case.ResidentID != e.ResidentID {
				t.Errorf("send entry %+v names no case of that resident", e)
			}
		}
	}
	if sends != len(wantSent) {
		t.Errorf("%d send entries, want %d", sends, len(wantSent))
	}
}

// casesOfAll returns the case ids of every demo resident.
func (f *fixture) casesOfAll() map[app.ID][]app.ID {
	f.t.Helper()
	out := map[app.ID][]app.ID{}
	for _, r := range f.ds.Residents {
		cs, err := f.store.CasesOfResident(f.ctx, r.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, c := range cs {
			out[r.ID] = append(out[r.ID], c.ID)
		}
	}
	return out
}

func total(m map[app.ID][]app.ID) (n int) {
	for _, v := range m {
		n += len(v)
	}
	return n
}

func TestBulk_InformationIsClosedAtOnce(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffHandler, 0)
	tpl := f.template(0, app.KindInformation)
	res, err := f.cases.SendBulk(f.ctx, sess, app.BulkRequest{TemplateID: tpl.ID, Subject: tpl.Subject, Text: tpl.Body,
		ResidentIDs: []app.ID{f.ds.Persona[demo.AdultBoth], f.ds.Persona[demo.AdultNone]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Sent() || r.Case.Kind != app.KindInformation || r.Case.Status != app.StatusClosed || r.Case.AssigneeID != sess.Staff.ID {
			t.Errorf("result %+v", r)
		}
	}
}

func TestBulk_RolesAreEnforced(t *testing.T) {
	f := newFixture(t)
	tpl := f.template(0, app.KindQuestion)
	list := f.pnr(demo.AdultSMS)
	for _, key := range []string{demo.StaffAuditor, demo.StaffPermAdmin, demo.StaffLocalAdmin} {
		sess := f.session(key, 0)
		if _, err := f.cases.CheckRecipients(f.ctx, sess, list); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s checks recipients: err = %v", key, err)
		}
		_, err := f.cases.SendBulk(f.ctx, sess, app.BulkRequest{TemplateID: tpl.ID, Subject: "Hej", Text: "Hej",
			ResidentIDs: []app.ID{f.ds.Persona[demo.AdultSMS]}})
		if !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s sends in bulk: err = %v", key, err)
		}
	}
	// Staff of the other clinic cannot use this clinic's template.
	_, err := f.cases.SendBulk(f.ctx, f.session(demo.StaffChildClinic, 1), app.BulkRequest{TemplateID: tpl.ID, Subject: "Hej", Text: "Hej",
		ResidentIDs: []app.ID{f.ds.Persona[demo.AdultSMS]}})
	if !errors.Is(err, app.ErrForbidden) {
		t.Errorf("other clinic's template: err = %v", err)
	}
	if n := len(f.accessLog(0)) + len(f.accessLog(1)); n != 0 {
		t.Errorf("refused calls wrote %d access-log entries", n)
	}
}

func TestBulk_RefusedBeforeSendingAnything(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	tpl := f.template(0, app.KindQuestion)
	// A template of another kind (standard replies) does not start a case.
	reply := app.MessageTemplate{ID: app.NewID(f.now), ClinicID: sess.ClinicID, Name: "Standardsvar", Kind: "standardsvar", Subject: "Svar", Body: "Tack."}
	if err := f.store.PutTemplate(f.ctx, &reply); err != nil {
		t.Fatal(err)
	}
	ids := []app.ID{f.ds.Persona[demo.AdultSMS]}
	before := total(f.casesOfAll())
	for _, tc := range []struct {
		name string
		req  app.BulkRequest
	}{
		{"empty subject", app.BulkRequest{TemplateID: tpl.ID, Subject: " ", Text: "Hej", ResidentIDs: ids}},
		{"empty text", app.BulkRequest{TemplateID: tpl.ID, Subject: "Hej", Text: "\n\t", ResidentIDs: ids}},
		{"no recipients", app.BulkRequest{TemplateID: tpl.ID, Subject: "Hej", Text: "Hej", ResidentIDs: []app.ID{""}}},
		{"standard reply template", app.BulkRequest{TemplateID: reply.ID, Subject: "Hej", Text: "Hej", ResidentIDs: ids}},
	} {
		if _, err := f.cases.SendBulk(f.ctx, sess, tc.req); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, err := f.cases.SendBulk(f.ctx, sess, app.BulkRequest{TemplateID: "nope", Subject: "Hej", Text: "Hej", ResidentIDs: ids}); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("unknown template: err = %v", err)
	}
	if total(f.casesOfAll()) != before || len(f.accessLog(0)) != 0 {
		t.Error("a refused bulk send wrote something")
	}
}

func TestBulk_ListTooLong(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	n := f.resident(demo.AdultSMS).PNR.String()
	long := strings.Repeat(n+"\n", app.MaxBulkRecipients) + n
	_, err := f.cases.CheckRecipients(f.ctx, sess, long)
	var tl *app.ListTooLongError
	if !errors.As(err, &tl) || !errors.Is(err, app.ErrInvalid) || tl.Entries != app.MaxBulkRecipients+1 {
		t.Fatalf("%d entries: err = %v", app.MaxBulkRecipients+1, err)
	}
	if _, err := f.cases.CheckRecipients(f.ctx, sess, strings.Repeat(" ", app.MaxBulkInput+1)); !errors.As(err, &tl) {
		t.Fatalf("input over %d bytes: err = %v", app.MaxBulkInput, err)
	}
	if len(f.accessLog(0)) != 0 {
		t.Error("a refused list was looked up")
	}
	// Exactly the limit is accepted (one resident, logged once).
	checks, err := f.cases.CheckRecipients(f.ctx, sess, strings.Repeat(n+",", app.MaxBulkRecipients))
	if err != nil || len(checks) != app.MaxBulkRecipients || len(f.accessLog(0)) != 1 {
		t.Fatalf("at the limit: %d checks, %d log entries, err %v", len(checks), len(f.accessLog(0)), err)
	}
}

func TestBulk_CancelledReportsTheRest(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	tpl := f.template(0, app.KindQuestion)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	ids := []app.ID{f.ds.Persona[demo.AdultSMS], f.ds.Persona[demo.AdultEmail]}
	res, err := f.cases.SendBulk(ctx, sess, app.BulkRequest{TemplateID: tpl.ID, Subject: "Hej", Text: "Hej", ResidentIDs: ids})
	if !errors.Is(err, context.Canceled) || len(res) != 2 {
		t.Fatalf("err = %v, %d results", err, len(res))
	}
	for _, r := range res {
		if r.Sent() || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("result %+v, want not sent with the context's error", r)
		}
	}
}

func TestBulk_ErrorsNeverCarryPersonalData(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	checks, err := f.cases.CheckRecipients(f.ctx, sess, f.mixedList())
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	var ids []app.ID
	for _, c := range checks {
		errs = append(errs, c.Err)
		if c.ResidentID != "" {
			ids = append(ids, c.ResidentID)
		}
	}
	res, err := f.cases.SendBulk(f.ctx, sess, app.BulkRequest{TemplateID: f.template(0, app.KindQuestion).ID, Subject: "Hej", Text: "Hemligt innehåll", ResidentIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		errs = append(errs, r.Err)
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		msg := err.Error()
		for _, r := range f.ds.Residents {
			if strings.Contains(msg, r.Register.GivenName) || strings.Contains(msg, r.Register.FamilyName) ||
				(!r.PNR.IsZero() && strings.Contains(msg, r.PNR.String()[:8])) {
				t.Errorf("error %q carries a name or personnummer", msg)
			}
		}
		if strings.Contains(msg, "Hemligt") || strings.Contains(msg, "R017") || strings.Contains(msg, "2385") {
			t.Errorf("error %q carries input", msg)
		}
	}
}

// FuzzCheckRecipients: any text gives one entry per token, on its line,
// without a panic, and never more than the cap.
func FuzzCheckRecipients(f *testing.F) {
	for _, s := range []string{"", "20000101-2384", "20000101-2384,000101-2384;;\n\n  x", "a\tb\r\nc", "20010704-R017", "\n\n\n", "å,ä;ö"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fx := newFixture(t)
		sess := fx.session(demo.StaffReceiver, 0)
		checks, err := fx.cases.CheckRecipients(fx.ctx, sess, text)
		if err != nil {
			if errors.Is(err, app.ErrInvalid) {
				return
			}
			t.Fatal(err)
		}
		lines := strings.Count(text, "\n") + 1
		prev := 0
		for _, c := range checks {
			if c.Line < prev || c.Line < 1 || c.Line > lines || c.Input == "" || strings.ContainsAny(c.Input, ",; \t\n\r") {
				t.Fatalf("entry %+v of %q", c, text)
			}
			if c.Status == app.RecipientInvalid && !c.PNR.IsZero() {
				t.Fatalf("invalid entry with a number: %+v", c)
			}
			if strings.Contains(fmt.Sprint(c.Err), c.Input) && len(c.Input) >= 6 {
				t.Fatalf("error %v contains the input", c.Err)
			}
			prev = c.Line
		}
	})
}

// The follow-up list of a massutskick (who gets a letter instead) is
// exported only after one access-log entry per resident; other roles are
// refused and log nothing.
func TestBulk_RecipientExportIsLoggedPerResident(t *testing.T) {
	f := newFixture(t)
	ids := []app.ID{f.ds.Persona[demo.Locked], f.ds.Persona[demo.Deceased], f.ds.Persona[demo.Locked], ""}
	if err := f.cases.LogRecipientExport(f.ctx, f.session(demo.StaffAuditor, 0), ids); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("auditor exports: err = %v", err)
	}
	if n := len(f.accessLog(0)); n != 0 {
		t.Fatalf("a refused export logged %d entries", n)
	}
	sess := f.session(demo.StaffReceiver, 0)
	if err := f.cases.LogRecipientExport(f.ctx, sess, ids); err != nil {
		t.Fatal(err)
	}
	log := f.accessLog(0)
	if len(log) != 2 {
		t.Fatalf("%d entries, want one per distinct resident (2)", len(log))
	}
	for i, e := range log {
		if e.Action != app.AccessExport || e.ResidentID != ids[i] || e.CaseID != "" || e.StaffID != sess.Staff.ID {
			t.Errorf("entry %d = %+v", i, e)
		}
	}
}
