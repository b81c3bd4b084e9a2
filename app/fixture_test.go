package app_test

import (
	"context"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage"
)

// fixture is the demo data set in a real bbolt store on a settable clock.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	now   time.Time
	store *storage.Store
	ds    *demo.Dataset
	cases *app.CaseService
	res   *app.ResidentService
	es    *app.EServiceService
}

// seedTime is the fixed "now" the demo set is built on: 25 November 2026,
// 10:00 in Stockholm.
var seedTime = time.Date(2026, 11, 25, 10, 0, 0, 0, app.Stockholm)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), now: seedTime}
	s, err := storage.Open(f.ctx, t.TempDir(), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		s.Close()
	})
	f.store = s
	f.ds = demo.Build(seedTime)
	if err := demo.Seed(f.ctx, s, f.ds); err != nil {
		t.Fatal(err)
	}
	clock := app.ClockFunc(func() time.Time { return f.now })
	f.cases = app.NewCaseService(s, clock)
	f.res = app.NewResidentService(s, clock)
	f.es = app.NewEServiceService(s, clock)
	return f
}

func (f *fixture) resident(key string) *app.Resident {
	f.t.Helper()
	id, ok := f.ds.Persona[key]
	if !ok {
		f.t.Fatalf("no persona %q", key)
	}
	r, err := f.store.Resident(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) guardians(r *app.Resident) map[app.ID]*app.Resident {
	f.t.Helper()
	var ids []app.ID
	for _, g := range r.Guardians {
		ids = append(ids, g.GuardianID)
	}
	gs, err := f.store.ResidentsByID(f.ctx, ids)
	if err != nil {
		f.t.Fatal(err)
	}
	return gs
}

func (f *fixture) reach(key string) app.Reachability {
	r := f.resident(key)
	return app.Reach(r, f.guardians(r), f.now)
}

func (f *fixture) session(staffKey string, clinic int) app.Session {
	f.t.Helper()
	s, err := f.store.Staff(f.ctx, f.ds.StaffBy[staffKey])
	if err != nil {
		f.t.Fatal(err)
	}
	return app.Session{Staff: s, ClinicID: f.ds.Clinics[clinic].ID}
}

// template returns the first template of the clinic with the given kind.
func (f *fixture) template(clinic int, kind app.CaseKind) app.MessageTemplate {
	f.t.Helper()
	for _, t := range f.ds.Templates {
		if t.ClinicID == f.ds.Clinics[clinic].ID && t.Kind == kind {
			return t
		}
	}
	f.t.Fatalf("no %s template", kind)
	return app.MessageTemplate{}
}

func (f *fixture) send(sess app.Session, key string, kind app.CaseKind) (*app.Case, error) {
	tpl := f.template(0, kind)
	return f.cases.SendCase(f.ctx, sess, app.SendRequest{TemplateID: tpl.ID, ResidentID: f.ds.Persona[key], Subject: tpl.Subject, Text: tpl.Body})
}

func hasBlock(r app.Reachability, b app.BlockReason) bool {
	for _, x := range r.Blocking {
		if x == b {
			return true
		}
	}
	return false
}

func hasFact(r app.Reachability, k app.FactKind) bool {
	for _, x := range r.Facts {
		if x == k {
			return true
		}
	}
	return false
}
