package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/storage"
	msync "mottagning/sync"
)

// One door to patient data (issue 13, finding 1): a sync pull carries to
// each staff member's device exactly what the role table of
// shared/DOMAIN.md lets them see, tells a desktop when a case left its
// staff member's view, and every case's content it sends is recorded in
// the access log before the page leaves the server.

// pullAll pulls every page after cursor as the demo staff member key, in
// pages of limit records, as binary pages (bin) or as JSON, and returns
// the pages merged, the cursor after them and the raw bodies.
func (e *env) pullAll(t *testing.T, key, cursor string, limit int, bin bool) (*app.SyncChanges, string, [][]byte) {
	t.Helper()
	tok := e.staff(key)
	out := &app.SyncChanges{}
	var bodies [][]byte
	for i := 0; ; i++ {
		if i > 500 {
			t.Fatalf("pull as %s does not end", key)
		}
		path := fmt.Sprintf("/api/sync/pull?cursor=%s&limit=%d", url.QueryEscape(cursor), limit)
		var resp msync.PullResponse
		if bin {
			r, err := e.c.SyncPull(e.ctx, tok, cursor, limit)
			if err != nil {
				t.Fatalf("pull as %s: %v", key, err)
			}
			resp = *r
			b, err := resp.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, b)
		} else {
			st, body := e.raw("GET", path, tok, "")
			if st != 200 {
				t.Fatalf("pull as %s: %d %s", key, st, body)
			}
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, body)
		}
		ch := &resp.Changes
		out.Threads = append(out.Threads, ch.Threads...)
		out.Residents = append(out.Residents, ch.Residents...)
		out.Staff = append(out.Staff, ch.Staff...)
		out.Clinics = append(out.Clinics, ch.Clinics...)
		out.Templates = append(out.Templates, ch.Templates...)
		out.EServices = append(out.EServices, ch.EServices...)
		out.FormSeries = append(out.FormSeries, ch.FormSeries...)
		out.Withdrawn = append(out.Withdrawn, ch.Withdrawn...)
		out.Gone = append(out.Gone, ch.Gone...)
		cursor = resp.Cursor
		if !resp.More {
			return out, cursor, bodies
		}
	}
}

// sendAs starts a case with Skicka ärende as staff key at clinic i (a
// question to the adult who gets SMS) and returns it.
func (e *env) sendAs(t *testing.T, key string, i int) app.ID {
	t.Helper()
	c, err := e.c.SendCase(e.ctx, e.staff(key), e.clinic(i), client.SendCaseRequest{TemplateID: e.templateOf(i, app.KindQuestion),
		ResidentID: string(e.persona(demo.AdultSMS).ID), Subject: "Provsvar", Text: "Hej! Dina provsvar är klara."})
	if err != nil {
		t.Fatalf("send case as %s: %v", key, err)
	}
	return app.ID(c.ID)
}

// assignAs gives case id at clinic i to staff member to, as key.
func (e *env) assignAs(t *testing.T, key string, i int, id, to app.ID) {
	t.Helper()
	if _, err := e.c.Assign(e.ctx, e.staff(key), e.clinic(i), string(id), string(to)); err != nil {
		t.Fatalf("assign %s as %s: %v", id, key, err)
	}
}

// serverCases reads the server's current header of every demo case and
// of extra.
func (e *env) serverCases(t *testing.T, extra ...app.ID) map[app.ID]app.Case {
	t.Helper()
	out := map[app.ID]app.Case{}
	ids := slices.Clone(extra)
	for _, th := range e.ds.Threads {
		ids = append(ids, th.Case.ID)
	}
	for _, id := range ids {
		c, err := e.store.Case(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = *c
	}
	return out
}

// roleTable is shared/DOMAIN.md's role table, written out here
// independently of app.PullScope and app.CaseVisible.
type roleTable struct{ ds *demo.Dataset }

func (r roleTable) roles(st, clinic app.ID) map[app.Role]bool {
	out := map[app.Role]bool{}
	for _, s := range r.ds.Staff {
		if s.ID == st {
			for _, x := range s.Roles[clinic] {
				out[x] = true
			}
		}
	}
	return out
}

// sees: an ärendemottagare sees every case of the clinic; an
// ärendehanterare those assigned to them and those they started.
func (r roleTable) sees(st app.ID, c app.Case) bool {
	x := r.roles(st, c.ClinicID)
	return x[app.RoleCaseReceiver] || (x[app.RoleCaseHandler] && (c.AssigneeID == st || c.CreatorID == st))
}

// works: templates, e-services and their forms are the tools of the case
// roles (Skicka ärende, reading an e-service's answers) and of the lokal
// administratör, who designs them.
func (r roleTable) works(st, clinic app.ID) bool {
	x := r.roles(st, clinic)
	return x[app.RoleCaseReceiver] || x[app.RoleCaseHandler] || x[app.RoleLocalAdmin]
}

func (r roleTable) member(st, clinic app.ID) bool { return len(r.roles(st, clinic)) > 0 }

// colleague: st and o share a clinic (any role each).
func (r roleTable) colleague(st app.ID, o app.Staff) bool {
	for c, roles := range o.Roles {
		if len(roles) > 0 && r.member(st, c) {
			return true
		}
	}
	return false
}

// idSet is a set of ids, printed sorted.
type idSet map[app.ID]bool

func (s idSet) String() string {
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, string(id))
	}
	slices.Sort(out)
	return "[" + strings.Join(out, " ") + "]"
}

func diffSets(t *testing.T, what string, got, want idSet) {
	t.Helper()
	extra, missing := idSet{}, idSet{}
	for id := range got {
		if !want[id] {
			extra[id] = true
		}
	}
	for id := range want {
		if !got[id] {
			missing[id] = true
		}
	}
	if len(extra)+len(missing) > 0 {
		t.Errorf("%s: carried but not allowed %v; allowed but missing %v", what, extra, missing)
	}
}

// TestR2_SyncPullMatrix is the access matrix of the pull door: every staff
// role of the demo region (ärendemottagare, ärendehanterare, ärendehanterare
// of the other clinic, lokal administratör, behörighetsadministratör,
// granskare, kontaktcenter) × every case of the region — in their own
// clinic and in another, assigned to them, to someone else, unassigned,
// started by them and given to someone else — × JSON and binary pages.
// Each page carries exactly what the role table allows: case content as
// the role table says, residents only for those cases (a child with the
// guardians), the clinics they work in, colleagues with their roles in
// those clinics only, templates, e-services and forms for the roles that
// use them. Nothing is withdrawn on a first sync.
func TestR2_SyncPullMatrix(t *testing.T) {
	e := newEnv(t)
	ds := e.ds
	anna, bjorn, cecilia := ds.StaffBy[demo.StaffReceiver], ds.StaffBy[demo.StaffHandler], ds.StaffBy[demo.StaffChildClinic]
	// Started with Skicka ärende and given to someone else: Björn's case
	// in centrum (to Anna), and Anna's in the children's clinic, where she
	// is ärendehanterare (to Cecilia).
	bStarted := e.sendAs(t, demo.StaffHandler, 0)
	e.assignAs(t, demo.StaffReceiver, 0, bStarted, anna)
	aStarted := e.sendAs(t, demo.StaffReceiver, 1)
	e.assignAs(t, demo.StaffChildClinic, 1, aStarted, cecilia)
	cases := e.serverCases(t, bStarted, aStarted)
	rt := roleTable{ds}

	// The matrix needs every kind of target.
	kinds := map[string]bool{}
	for _, c := range cases {
		own := c.ClinicID == ds.Clinics[0].ID
		switch {
		case c.ID == bStarted:
			kinds["started by Björn, Anna's"] = c.CreatorID == bjorn && c.AssigneeID == anna
		case c.ID == aStarted:
			kinds["started by Anna, Cecilia's"] = c.CreatorID == anna && c.AssigneeID == cecilia
		case own && c.AssigneeID == bjorn:
			kinds["centrum, Björn's"] = true
		case own && c.AssigneeID == anna:
			kinds["centrum, Anna's"] = true
		case own && c.AssigneeID == "":
			kinds["centrum, unassigned"] = true
		case !own && c.AssigneeID == "":
			kinds["barn, unassigned"] = true
		case !own && c.AssigneeID != "":
			kinds["barn, assigned"] = true
		}
	}
	for _, k := range []string{"started by Björn, Anna's", "started by Anna, Cecilia's", "centrum, Björn's", "centrum, Anna's",
		"centrum, unassigned", "barn, unassigned", "barn, assigned"} {
		if !kinds[k] {
			t.Fatalf("the demo region has no case %q", k)
		}
	}
	residents := map[app.ID]*app.Resident{}
	for _, r := range ds.Residents {
		residents[r.ID] = r
	}
	formClinic := map[app.ID]app.ID{}
	for _, es := range ds.EServices {
		formClinic[es.ID] = es.ClinicID
	}

	for _, key := range []string{demo.StaffReceiver, demo.StaffHandler, demo.StaffChildClinic, demo.StaffLocalAdmin,
		demo.StaffPermAdmin, demo.StaffAuditor, demo.StaffContact} {
		me := ds.StaffBy[key]
		want := map[string]idSet{"cases": {}, "residents": {}, "clinics": {}, "staff": {me: true}, "templates": {}, "e-services": {}, "forms": {}}
		for id, c := range cases {
			if rt.sees(me, c) {
				want["cases"][id] = true
				want["residents"][c.ResidentID] = true
				for _, g := range residents[c.ResidentID].Guardians {
					want["residents"][g.GuardianID] = true
				}
			}
		}
		for _, c := range ds.Clinics {
			if rt.member(me, c.ID) {
				want["clinics"][c.ID] = true
			}
		}
		for _, s := range ds.Staff {
			if rt.colleague(me, s) {
				want["staff"][s.ID] = true
			}
		}
		for _, tp := range ds.Templates {
			if rt.works(me, tp.ClinicID) {
				want["templates"][tp.ID] = true
			}
		}
		for _, es := range ds.EServices {
			if rt.works(me, es.ClinicID) {
				want["e-services"][es.ID] = true
			}
		}
		for _, f := range ds.Forms {
			if rt.works(me, formClinic[app.ID(f.FormID)]) {
				want["forms"][app.ID(f.FormID)] = true
			}
		}
		for _, bin := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s binary=%v", key, bin), func(t *testing.T) {
				got, _, _ := e.pullAll(t, key, "", 7, bin)
				have := map[string]idSet{"cases": {}, "residents": {}, "clinics": {}, "staff": {}, "templates": {}, "e-services": {}, "forms": {}}
				for _, th := range got.Threads {
					have["cases"][th.Case.ID] = true
				}
				for _, r := range got.Residents {
					have["residents"][r.ID] = true
				}
				for _, c := range got.Clinics {
					have["clinics"][c.ID] = true
				}
				for _, s := range got.Staff {
					have["staff"][s.ID] = true
					// A colleague's roles in clinics the caller has no
					// role in are not theirs to know.
					for c := range s.Roles {
						if s.ID != me && !rt.member(me, c) {
							t.Errorf("staff %s: roles in clinic %s, where the caller has none", s.ID, c)
						}
					}
				}
				for _, tp := range got.Templates {
					have["templates"][tp.ID] = true
				}
				for _, es := range got.EServices {
					if es.ClinicID != "" {
						have["e-services"][es.ID] = true
					}
				}
				for _, f := range got.FormSeries {
					have["forms"][app.ID(f.FormID)] = true
				}
				for _, what := range []string{"cases", "residents", "clinics", "staff", "templates", "e-services", "forms"} {
					diffSets(t, what, have[what], want[what])
				}
				if len(got.Withdrawn) > 0 {
					t.Errorf("a first sync withdraws %d cases", len(got.Withdrawn))
				}
			})
		}
	}
}

// TestR2_SyncPullWithdrawsReassignedCase: an ärendehanterare's case given
// to someone else leaves their view. The next incremental pull does not
// send its content, but says that it is no longer theirs: id, clinic,
// assignee, status, version, nothing else. A first sync withdraws
// nothing; the ärendemottagare gets the case itself; roles without case
// content get neither.
func TestR2_SyncPullWithdrawsReassignedCase(t *testing.T) {
	e := newEnv(t)
	anna, bjorn := e.ds.StaffBy[demo.StaffReceiver], e.ds.StaffBy[demo.StaffHandler]
	var target app.Case
	for _, c := range e.serverCases(t) {
		if c.AssigneeID == bjorn && c.CreatorID != bjorn && c.Status != app.StatusClosed {
			target = c
			break
		}
	}
	if target.ID == "" {
		t.Fatal("no case of Björn's in the demo region")
	}
	first, _, _ := e.pullAll(t, demo.StaffHandler, "", 500, true)
	if !slices.ContainsFunc(first.Threads, func(th app.PulledThread) bool { return th.Case.ID == target.ID }) {
		t.Fatal("Björn's first sync lacks his case")
	}
	cursor := storage.FormatCursor(e.store.ChangeHead())
	e.assignAs(t, demo.StaffReceiver, 0, target.ID, anna)
	now, err := e.store.Case(e.ctx, target.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantW := app.WithdrawnCase{CaseID: now.ID, ClinicID: now.ClinicID, AssigneeID: anna, Status: now.Status, Version: now.Version}
	th, err := e.store.Thread(e.ctx, target.ID)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{th.Case.Subject, e.persona(demo.AdultSMS).Register.FamilyName}
	for _, m := range th.Messages {
		secrets = append(secrets, m.Text)
	}
	for _, bin := range []bool{false, true} {
		got, _, bodies := e.pullAll(t, demo.StaffHandler, cursor, 500, bin)
		if len(got.Threads) != 0 {
			t.Errorf("binary=%v: the reassigned case's content is sent: %d threads", bin, len(got.Threads))
		}
		if len(got.Withdrawn) != 1 || got.Withdrawn[0] != wantW {
			t.Errorf("binary=%v: withdrawn %+v, want [%+v]", bin, got.Withdrawn, wantW)
		}
		if len(got.Residents) != 0 {
			t.Errorf("binary=%v: %d residents come with a withdrawal", bin, len(got.Residents))
		}
		for _, b := range bodies {
			for _, s := range secrets {
				if len(s) > 3 && bytes.Contains(b, []byte(s)) {
					t.Errorf("binary=%v: the page carries %q of the withdrawn case", bin, s)
				}
			}
		}
	}
	// A first sync sends what Björn sees and withdraws nothing.
	cold, _, _ := e.pullAll(t, demo.StaffHandler, "", 500, false)
	if len(cold.Withdrawn) != 0 || slices.ContainsFunc(cold.Threads, func(th app.PulledThread) bool { return th.Case.ID == target.ID }) {
		t.Errorf("first sync after the reassignment: %d withdrawn, or the case's content", len(cold.Withdrawn))
	}
	// The ärendemottagare gets the case, not a withdrawal.
	got, _, _ := e.pullAll(t, demo.StaffReceiver, cursor, 500, true)
	if len(got.Withdrawn) != 0 || len(got.Threads) != 1 || got.Threads[0].Case.ID != target.ID {
		t.Errorf("ärendemottagare: %d threads, %d withdrawn; want the case", len(got.Threads), len(got.Withdrawn))
	}
	// Roles that never see case content hear nothing about cases.
	for _, key := range []string{demo.StaffLocalAdmin, demo.StaffPermAdmin, demo.StaffAuditor, demo.StaffContact, demo.StaffChildClinic} {
		got, _, _ := e.pullAll(t, key, cursor, 500, true)
		if len(got.Withdrawn)+len(got.Threads) != 0 {
			t.Errorf("%s: %d threads, %d withdrawn after a reassignment in centrum", key, len(got.Threads), len(got.Withdrawn))
		}
	}
}

// TestR2_SyncPushStateOnlyWhatCallerSees: a push's answer carries the
// state of the cases its ops concerned, but never of a case the caller
// may not see: an ärendehanterare's op on an unassigned case or on a
// colleague's is refused, and the answer neither sends nor reports the
// case (not as Gone either).
func TestR2_SyncPushStateOnlyWhatCallerSees(t *testing.T) {
	d := newDoorEnv(t)
	anna, bjorn := d.ds.StaffBy[demo.StaffReceiver], d.ds.StaffBy[demo.StaffHandler]
	unassigned := d.caseOf(0, func(c *app.Case) bool { return c.AssigneeID == "" && c.Status != app.StatusClosed })
	annas := d.caseOf(0, func(c *app.Case) bool { return c.AssigneeID == anna && c.Status != app.StatusClosed })
	mine := d.caseOf(0, func(c *app.Case) bool { return c.AssigneeID == bjorn && c.Status != app.StatusClosed })
	now := time.Now()
	note := func(c app.Case) app.SyncOp {
		return op(app.OpCaseNote, c.ID, c.Version, &app.Note{ID: app.NewID(now), CaseID: c.ID, StaffID: bjorn, At: now, Text: "Ring upp."})
	}
	for _, bin := range []bool{true, false} {
		req := &msync.PushRequest{Ops: []app.SyncOp{note(unassigned), note(annas), note(mine)}}
		var resp msync.PushResponse
		if bin {
			r, err := d.c.SyncPush(d.ctx, d.staff(demo.StaffHandler), req)
			if err != nil {
				t.Fatal(err)
			}
			resp = *r
		} else {
			body, _ := json.Marshal(req)
			st, b := d.raw("POST", "/api/sync/push", d.staff(demo.StaffHandler), string(body))
			if st != 200 || json.Unmarshal(b, &resp) != nil {
				t.Fatalf("push: %d %s", st, b)
			}
		}
		if len(resp.Results) != 3 || resp.Results[0].Code != "forbidden" || resp.Results[1].Code != "forbidden" || resp.Results[2].Outcome != app.OpApplied {
			t.Fatalf("binary=%v: results %+v", bin, resp.Results)
		}
		if resp.State == nil {
			t.Fatalf("binary=%v: no state for Björn's own case", bin)
		}
		var carried []app.ID
		for _, th := range resp.State.Threads {
			carried = append(carried, th.Case.ID)
		}
		if !slices.Equal(carried, []app.ID{mine.ID}) || len(resp.State.Gone) != 0 {
			t.Errorf("binary=%v: state carries %v, gone %v; want only %s", bin, carried, resp.State.Gone, mine.ID)
		}
	}
}

// pulledEntries are the server's access-log entries of sync pulls by
// staff member st.
func (e *env) pulledEntries(t *testing.T, st app.ID) []app.AccessEntry {
	t.Helper()
	var out []app.AccessEntry
	for _, c := range e.ds.Clinics {
		all, err := e.store.Entries(e.ctx, c.ID, time.Time{}, e.clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range all {
			if x.Action == app.AccessSyncPull && x.StaffID == st {
				out = append(out, x)
			}
		}
	}
	return out
}

// TestPDL_SyncPullRecordedInAccessLog (patientdatalagen 4 kap.): every
// case whose content a pull page carries is recorded in the server's
// access log — clinic, time, staff member, resident, case and the
// receiving device, no message text — once per device, case and case
// version, before the page is sent. The resident's own log extract then
// shows who fetched their cases to a computer.
func TestPDL_SyncPullRecordedInAccessLog(t *testing.T) {
	e := newEnv(t)
	anna, bjorn, david := e.ds.StaffBy[demo.StaffReceiver], e.ds.StaffBy[demo.StaffHandler], e.ds.StaffBy[demo.StaffLocalAdmin]
	karin := e.persona(demo.AdultSMS)
	rt := roleTable{e.ds}
	cases := e.serverCases(t)
	seen := func(st app.ID) map[app.ID]app.Case {
		out := map[app.ID]app.Case{}
		for id, c := range cases {
			if rt.sees(st, c) {
				out[id] = c
			}
		}
		return out
	}
	tok := e.signIn(demo.AdultSMS)
	fetched := func() []client.AccessLogEntry {
		t.Helper()
		x, err := e.c.AccessLog(e.ctx, tok, client.AccessLogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var out []client.AccessLogEntry
		for _, r := range x.Rows {
			if r.Action == string(app.AccessSyncPull) {
				out = append(out, r)
			}
		}
		return out
	}
	if n := len(fetched()); n != 0 {
		t.Fatalf("%d pulls in Karin's extract before any pull", n)
	}

	// Anna's device pulls everything, in pages of 5.
	_, cursor, _ := e.pullAll(t, demo.StaffReceiver, "", 5, true)
	annas := seen(anna)
	got := e.pulledEntries(t, anna)
	if len(got) != len(annas) {
		t.Fatalf("Anna's pull recorded %d entries; %d cases were sent", len(got), len(annas))
	}
	texts := e.secrets()
	for _, x := range got {
		c, ok := annas[x.CaseID]
		if !ok || x.ClinicID != c.ClinicID || x.ResidentID != c.ResidentID || x.Device != "dev-"+anna || x.At.IsZero() {
			t.Errorf("entry %+v does not describe a case sent to Anna's device", x)
		}
		b, _ := json.Marshal(x)
		for _, s := range texts {
			if len(s) > 3 && bytes.Contains(b, []byte(s)) {
				t.Errorf("an access-log entry holds %q", s)
			}
		}
	}
	// Karin's extract shows each of her cases fetched by Anna.
	var karins []app.ID
	for id, c := range annas {
		if c.ResidentID == karin.ID {
			karins = append(karins, id)
		}
	}
	rows := fetched()
	if len(karins) == 0 || len(rows) != len(karins) {
		t.Fatalf("Karin's extract shows %d pulls of her %d cases", len(rows), len(karins))
	}
	for _, r := range rows {
		if r.ActionLabel != "Hämtade till dator" || r.StaffName != "Anna Lindqvist" || r.ClinicName == "" || !slices.Contains(karins, app.ID(r.CaseID)) {
			t.Errorf("extract row %+v", r)
		}
	}

	// The same pages again (a crash and a retry), JSON or binary: nothing
	// more is recorded.
	e.pullAll(t, demo.StaffReceiver, "", 5, true)
	e.pullAll(t, demo.StaffReceiver, "", 2000, false)
	if n := len(e.pulledEntries(t, anna)); n != len(annas) {
		t.Errorf("a repeated pull recorded again: %d entries, want %d", n, len(annas))
	}
	// A changed case is recorded once more, at its new version.
	if _, err := e.c.Reply(e.ctx, e.staff(demo.StaffReceiver), e.clinic(0), string(karins[0]), "Välkommen på tisdag."); err != nil {
		t.Fatal(err)
	}
	e.pullAll(t, demo.StaffReceiver, cursor, 5, true)
	e.pullAll(t, demo.StaffReceiver, cursor, 5, true)
	if n := len(e.pulledEntries(t, anna)); n != len(annas)+1 {
		t.Errorf("after a change: %d entries, want %d", n, len(annas)+1)
	}
	if n := len(fetched()); n != len(karins)+1 {
		t.Errorf("Karin's extract after a change: %d pulls, want %d", n, len(karins)+1)
	}

	// Björn's device: only what he sees. The lokal administratör's pull
	// carries no case and records nothing.
	e.pullAll(t, demo.StaffHandler, "", 500, false)
	if n, want := len(e.pulledEntries(t, bjorn)), len(seen(bjorn)); n != want || want == 0 {
		t.Errorf("Björn's pull recorded %d entries, want %d", n, want)
	}
	e.pullAll(t, demo.StaffLocalAdmin, "", 500, true)
	if n := len(e.pulledEntries(t, david)); n != 0 {
		t.Errorf("the lokal administratör's pull recorded %d entries", n)
	}
	rep, err := e.store.VerifyAccessLog(e.ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("chain after the pulls: %v %+v", err, rep.Break)
	}
}

// TestPDL_SyncPullFailsWhenNotRecorded: no log entry, no page. On a full
// disk the pull's access-log entries cannot be written; the pull fails
// with a stable code and nothing is recorded; once there is room again
// the same pull succeeds and is recorded.
func TestPDL_SyncPullFailsWhenNotRecorded(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	store, err := storage.Open(t.Context(), filepath.Join(dir, "db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpt{store: store})
	err = demo.GenerateThreads(e.ctx, e.ds, e.clock.Now(), 3000, 1000, 1, func(ts []app.Thread) error {
		for i := range ts {
			ts[i].Case.ClinicID = e.ds.Clinics[0].ID
		}
		return e.srv.Gate().ImportThreads(e.ctx, ts)
	})
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			break
		}
	}
	f.Close()
	anna := e.ds.StaffBy[demo.StaffReceiver]
	_, err = e.c.SyncPull(e.ctx, e.staff(demo.StaffReceiver), "", msync.MaxPullLimit)
	wantCode(t, err, "internal")
	if n := len(e.pulledEntries(t, anna)); n != 0 {
		t.Fatalf("a failed pull recorded %d entries", n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	page, err := e.c.SyncPull(e.ctx, e.staff(demo.StaffReceiver), "", msync.MaxPullLimit)
	if err != nil {
		t.Fatalf("pull with room again: %v", err)
	}
	if n := len(e.pulledEntries(t, anna)); n != len(page.Changes.Threads) || n == 0 {
		t.Fatalf("pull with room again recorded %d entries for %d cases", n, len(page.Changes.Threads))
	}
}
