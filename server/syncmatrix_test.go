package server

import (
	"fmt"
	"sort"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
)

// TestR2_SyncPushMatrix is the access matrix of the sync push door: every
// op kind × every staff role of the demo region × cases of the caller's
// own and another clinic, assigned to them, to someone else, unassigned,
// and started by them but assigned to someone else. The expected cells
// come from the role table of shared/DOMAIN.md, written out here
// independently of app.CaseVisible, and must hold exactly: an allowed op
// is applied (or refused for a reason that is not the caller's rights),
// a refused one is "forbidden" and changes nothing.
func TestR2_SyncPushMatrix(t *testing.T) {
	d := newDoorEnv(t)
	ds := d.ds
	centrum, barn := ds.Clinics[0].ID, ds.Clinics[1].ID
	anna, bjorn, cecilia := ds.StaffBy[demo.StaffReceiver], ds.StaffBy[demo.StaffHandler], ds.StaffBy[demo.StaffChildClinic]

	// The targets.
	assignedTo := func(clinic, staff app.ID) app.Case {
		return d.caseOf(clinicIndex(ds, clinic), func(c *app.Case) bool { return c.AssigneeID == staff && c.Status != app.StatusClosed })
	}
	unassigned := d.caseOf(0, func(c *app.Case) bool { return c.AssigneeID == "" })
	mineBjorn := assignedTo(centrum, bjorn)
	annas := assignedTo(centrum, anna)
	barnCase := assignedTo(barn, cecilia)
	// A case Björn started, then given to Anna by the ärendemottagare.
	started := d.startCase(demo.StaffHandler, 0)
	if r := d.push(demo.StaffReceiver, op(app.OpCaseAssign, started.ID, started.Version, app.AssignChange{AssigneeID: anna})); r[0].Outcome != app.OpApplied {
		t.Fatalf("set up: %+v", r[0])
	}
	targets := []struct {
		name string
		c    app.Case
	}{
		{"Björns", mineBjorn}, {"Annas", annas}, {"ej tilldelat", unassigned}, {"startat av Björn, Annas", d.reload(started.ID)},
		{"barnmottagningens", barnCase},
	}

	// The role table, independently: who may see (and so touch) a case.
	roles := func(st app.ID, clinic app.ID) map[app.Role]bool {
		out := map[app.Role]bool{}
		for _, s := range ds.Staff {
			if s.ID == st {
				for _, r := range s.Roles[clinic] {
					out[r] = true
				}
			}
		}
		return out
	}
	sees := func(st app.ID, c app.Case) bool {
		r := roles(st, c.ClinicID)
		return r[app.RoleCaseReceiver] || (r[app.RoleCaseHandler] && (c.AssigneeID == st || c.CreatorID == st))
	}
	keys := []string{demo.StaffReceiver, demo.StaffHandler, demo.StaffChildClinic, demo.StaffLocalAdmin,
		demo.StaffPermAdmin, demo.StaffAuditor, demo.StaffContact}

	type cell struct{ op, who, what string }
	allowed := map[cell]bool{}
	got := map[cell]bool{}
	check := func(c cell, res app.OpResult, want bool) {
		t.Helper()
		allowed[c] = want
		got[c] = res.Code != "forbidden"
		if want && res.Outcome == app.OpRejected && res.Code == "forbidden" {
			t.Errorf("%s by %s on %s: refused, want allowed", c.op, c.who, c.what)
		}
		if !want && (res.Outcome != app.OpRejected || res.Code != "forbidden") {
			t.Errorf("%s by %s on %s: %s %s, want rejected forbidden", c.op, c.who, c.what, res.Outcome, res.Code)
		}
	}
	now := d.clock.Now()
	for _, key := range keys {
		st := ds.StaffBy[key]
		for _, tg := range targets {
			c := d.reload(tg.c.ID)
			mayAssign := roles(st, c.ClinicID)[app.RoleCaseReceiver]
			assignee := bjorn
			if c.ClinicID == barn {
				assignee = cecilia
			}
			msg := app.Message{ID: app.NewID(now), CaseID: c.ID, Author: app.AuthorStaff, AuthorID: st, At: now, Text: "Hej"}
			note := app.Note{ID: app.NewID(now), CaseID: c.ID, StaffID: st, At: now, Text: "Anteckning"}
			att := app.Attachment{ID: app.NewID(now), Name: "a.pdf", MIME: app.MIMEPDF, Size: 10, SHA256: sha([]byte("0123456789"))}
			ops := []struct {
				o     app.SyncOp
				allow bool
			}{
				{op(app.OpCaseMessage, c.ID, c.Version, &msg), sees(st, c)},
				{op(app.OpCaseNote, c.ID, c.Version, &note), sees(st, c)},
				{op(app.OpCaseRead, c.ID, c.Version, nil), sees(st, c)},
				{op(app.OpCaseStatus, c.ID, c.Version, app.StatusChange{Status: app.StatusOngoing}), sees(st, c)},
				{op(app.OpCaseAssign, c.ID, c.Version, app.AssignChange{AssigneeID: assignee}), mayAssign},
				{op(app.OpAttachmentPut, c.ID, c.Version, att), sees(st, c)},
			}
			before := d.reload(c.ID)
			changed := false
			for _, o := range ops {
				res := d.push(key, o.o)
				check(cell{string(o.o.Kind), key, tg.name}, res[0], o.allow)
				changed = changed || o.allow
			}
			if after := d.reload(c.ID); !changed && after.Version != before.Version {
				t.Errorf("refused ops by %s changed case %s: version %d → %d", key, tg.name, before.Version, after.Version)
			}
		}
		// Ops on no existing case: per clinic.
		for i, clinic := range []app.ID{centrum, barn} {
			r := roles(st, clinic)
			name := ds.Clinics[i].Name
			res := d.push(key, d.createOp(st, i))
			check(cell{string(app.OpCaseCreate), key, name}, res[0], r[app.RoleCaseHandler] || r[app.RoleCaseReceiver])
			res = d.push(key, d.accessOp(st, i))
			check(cell{string(app.OpAccessRecord), key, name}, res[0], len(r) > 0)
			tpl := d.template(i)
			tpl.Name += " (ändrad " + key + ")"
			tpl.UpdatedAt = now
			res = d.push(key, op(app.OpTemplatePut, "", 0, &tpl))
			check(cell{string(app.OpTemplatePut), key, name}, res[0], r[app.RoleLocalAdmin])
			e := d.localEService(i)
			res = d.push(key, op(app.OpEServicePut, "", 0, &e))
			check(cell{string(app.OpEServicePut), key, name}, res[0], r[app.RoleLocalAdmin])
			if fs := d.formSeries(e); fs != nil {
				res = d.push(key, op(app.OpFormSeriesPut, "", 0, fs))
				check(cell{string(app.OpFormSeriesPut), key, name}, res[0], r[app.RoleLocalAdmin])
			}
		}
	}
	// The table, for the reader of a failure.
	if t.Failed() {
		var lines []string
		for c, want := range allowed {
			lines = append(lines, fmt.Sprintf("%-15s %-16s %-28s want %-5v got %v", c.op, c.who, c.what, want, got[c]))
		}
		sort.Strings(lines)
		for _, l := range lines {
			t.Log(l)
		}
	}
	if len(allowed) < 7*5*6+7*2*4 {
		t.Fatalf("only %d cells", len(allowed))
	}
}

func clinicIndex(ds *demo.Dataset, id app.ID) int {
	for i, c := range ds.Clinics {
		if c.ID == id {
			return i
		}
	}
	return -1
}

func (d *doorEnv) reload(id app.ID) app.Case {
	d.t.Helper()
	c, err := d.store.Case(d.ctx, id)
	if err != nil {
		d.t.Fatal(err)
	}
	return *c
}

// createOp is Skicka ärende made offline by st in clinic i.
func (d *doorEnv) createOp(st app.ID, i int) app.SyncOp {
	now := d.clock.Now()
	tpl := d.templateOf(i, app.KindQuestion)
	r := d.persona(demo.AdultSMS)
	id := app.NewID(now)
	th := app.Thread{Case: app.Case{ID: id, ClinicID: d.ds.Clinics[i].ID, ResidentID: r.ID, Kind: app.KindQuestion,
		TemplateID: app.ID(tpl), Subject: "Provsvar", StartedBy: app.StartedByClinic, CreatedAt: now, LastActivity: now, Status: app.StatusWaiting},
		Messages: []app.Message{{ID: app.NewID(now), CaseID: id, Author: app.AuthorStaff, AuthorID: st, At: now, Text: "Hej"}}}
	return op(app.OpCaseCreate, id, 0, &th)
}

// startCase sends a case as staff key in clinic i, through sync.
func (d *doorEnv) startCase(key string, i int) app.Case {
	d.t.Helper()
	o := d.createOp(d.ds.StaffBy[key], i)
	if r := d.push(key, o); r[0].Outcome != app.OpApplied {
		d.t.Fatalf("start case: %+v", r[0])
	}
	return d.reload(o.CaseID)
}

// accessOp is st's own access-log entry of a lookup in clinic i.
func (d *doorEnv) accessOp(st app.ID, i int) app.SyncOp {
	now := d.clock.Now()
	e := app.AccessEntry{ID: app.NewID(now), At: now, StaffID: st, ClinicID: d.ds.Clinics[i].ID,
		ResidentID: d.persona(demo.AdultSMS).ID, Action: app.AccessLookupResident}
	return op(app.OpAccessRecord, "", 0, &e)
}

func (d *doorEnv) template(i int) app.MessageTemplate {
	for _, t := range d.ds.Templates {
		if t.ClinicID == d.ds.Clinics[i].ID {
			cur, err := d.store.Template(d.ctx, t.ID)
			if err != nil {
				d.t.Fatal(err)
			}
			return *cur
		}
	}
	d.t.Fatal("no template")
	return app.MessageTemplate{}
}

// localEService is a local e-service of clinic i, or a new one.
func (d *doorEnv) localEService(i int) app.EService {
	es, err := d.store.EServices(d.ctx, d.ds.Clinics[i].ID)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, e := range es {
		if !e.Standard && e.ClinicID == d.ds.Clinics[i].ID {
			return e
		}
	}
	return app.EService{ID: app.NewID(d.clock.Now()), ClinicID: d.ds.Clinics[i].ID, Name: "Lokal e-tjänst"}
}

func (d *doorEnv) formSeries(e app.EService) *form.Series {
	fs, err := d.store.FormSeries(d.ctx, e.ID)
	if err != nil {
		return nil
	}
	return fs
}
