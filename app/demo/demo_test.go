package demo_test

import (
	"context"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

var seedTime = time.Date(2026, 11, 25, 10, 0, 0, 0, app.Stockholm)

func TestDemoAdultsUseSkatteverketTestNumbers(t *testing.T) {
	official := map[string]bool{}
	for _, n := range demo.TestNumbers() {
		official[n.String()] = true
	}
	if len(official) != 3662 {
		t.Fatalf("%d official test numbers embedded, want 3662", len(official))
	}
	ds := demo.Build(seedTime)
	if n := len(ds.Residents); n < 28 || n > 40 {
		t.Fatalf("%d residents, want about 30", n)
	}
	seen := map[string]bool{}
	for _, r := range ds.Residents {
		if r.PNR.IsZero() {
			if r.ReserveNumber == "" {
				t.Fatalf("resident %s has neither personnummer nor reserve number", r.ID)
			}
			continue
		}
		if seen[r.PNR.String()] {
			t.Fatalf("personnummer used twice")
		}
		seen[r.PNR.String()] = true
		built := r.PNR.AgeOn(seedTime) < 13 || r.PNR.IsCoordination()
		if built != r.Demo {
			t.Fatalf("resident %s: Demo = %v, want %v (only children under 13 and samordningsnummer are built)", r.ID, r.Demo, built)
		}
		if !built && !official[r.PNR.String()] {
			t.Fatalf("adult resident %s does not use a Skatteverket test number", r.ID)
		}
	}
}

func TestDemoCoversEveryRuleState(t *testing.T) {
	ds := demo.Build(seedTime)
	byID := map[app.ID]*app.Resident{}
	for _, r := range ds.Residents {
		byID[r.ID] = r
	}
	get := func(key string) *app.Resident {
		r := byID[ds.Persona[key]]
		if r == nil {
			t.Fatalf("persona %s missing", key)
		}
		return r
	}
	reach := func(key string) app.Reachability {
		r := get(key)
		return app.Reach(r, byID, seedTime)
	}
	blocked := map[string]app.BlockReason{
		demo.NeverSignedIn: app.BlockNeverSignedIn, demo.Locked: app.BlockLoginLocked, demo.Deceased: app.BlockDeceased,
		demo.ReserveNumber: app.BlockReserveNumber, demo.ChildProtected: app.BlockChildProtected,
		demo.ChildProtectedGuard: app.BlockChildProtected, demo.ChildNotActivated: app.BlockChildNotActivated,
	}
	for key, want := range blocked {
		r := reach(key)
		if len(r.Blocking) == 0 || r.Blocking[0] != want {
			t.Errorf("%s: blocking %v, want %s first", key, r.Blocking, want)
		}
	}
	for key, want := range map[string]app.NotifyChoice{demo.AdultSMS: app.NotifySMS, demo.AdultEmail: app.NotifyEmail, demo.AdultBoth: app.NotifyBoth, demo.AdultNone: app.NotifyNone} {
		if r := reach(key); !r.OK() || r.Choice != want {
			t.Errorf("%s: %+v, want reachable with %s", key, r, want)
		}
	}
	if !get(demo.Sealed).Account.JournalSealed || !get(demo.Protected).Register.ProtectedIdentity || !get(demo.Coordination).PNR.IsCoordination() {
		t.Error("sealed, protected or samordningsnummer persona wrong")
	}
	// The child of 12 years 11 months: two guardians, one blocked, one notified.
	child := get(demo.Child12y11m)
	b := child.PNR.Birthdate()
	if y, m := yearsMonths(b, seedTime); y != 12 || m != 11 {
		t.Errorf("child is %d years %d months, want 12 years 11 months", y, m)
	}
	if len(child.Guardians) != 2 || !child.Guardians[0].Blocked || child.Guardians[1].Contact.IsEmpty() {
		t.Errorf("child's guardians = %+v", child.Guardians)
	}
	// The child who turns 13 tomorrow — relative to the day of seeding.
	for _, day := range []time.Time{seedTime, time.Date(2027, 3, 1, 8, 0, 0, 0, app.Stockholm), time.Date(2028, 2, 28, 23, 30, 0, 0, app.Stockholm)} {
		d := demo.Build(day)
		var c13 *app.Resident
		for _, r := range d.Residents {
			if r.ID == d.Persona[demo.ChildTurns13] {
				c13 = r
			}
		}
		next := app.DateIn(day).AddDate(0, 0, 1)
		if next.Month() == time.February && next.Day() == 29 {
			// Nobody born 13 years before a 29 February exists: the
			// nearest is 1 March, the day after tomorrow.
			next = next.AddDate(0, 0, 1)
		}
		if c13.PNR.AgeOn(day) != 12 || c13.PNR.AgeOn(next) != 13 {
			t.Errorf("built on %s: the child does not turn 13 the next day", day.Format("2006-01-02"))
		}
	}
	// Cases in every status, started by every kind of starter, in both clinics.
	statuses, starters, clinics := map[app.Status]int{}, map[app.StartedBy]int{}, map[app.ID]int{}
	for _, th := range ds.Threads {
		statuses[th.Case.Status]++
		starters[th.Case.StartedBy]++
		clinics[th.Case.ClinicID]++
		if len(th.Messages) == 0 {
			t.Errorf("case %s has no messages", th.Case.ID)
		}
	}
	if len(statuses) != 4 || len(starters) != 3 || len(clinics) != 2 {
		t.Errorf("statuses %v, starters %v, clinics %d", statuses, starters, len(clinics))
	}
	kinds := map[app.CaseKind]bool{}
	for _, tpl := range ds.Templates {
		kinds[tpl.Kind] = true
	}
	if !kinds[app.KindInformation] || !kinds[app.KindQuestion] {
		t.Error("templates of both kinds missing")
	}
	replies := map[app.ID]int{}
	for _, tpl := range ds.Templates {
		if tpl.Kind == app.KindStandardReply {
			replies[tpl.ClinicID]++
			if tpl.Subject != "" {
				t.Errorf("standard reply %q has a subject", tpl.Name)
			}
		}
		if issues := app.LintTemplate(&tpl); app.HasLintErrors(issues) {
			t.Errorf("demo template %q fails the linter: %v", tpl.Name, issues)
		}
	}
	for _, c := range ds.Clinics {
		if replies[c.ID] == 0 {
			t.Errorf("clinic %s has no standard replies", c.Name)
		}
	}
	roles := map[app.Role]bool{}
	for _, s := range ds.Staff {
		for _, rs := range s.Roles {
			for _, r := range rs {
				roles[r] = true
			}
		}
		for _, r := range s.RegionRoles {
			roles[r] = true
		}
	}
	for _, r := range append(app.AllClinicRoles, app.RoleContactCenter) {
		if !roles[r] {
			t.Errorf("no demo staff member with role %s", r)
		}
	}
}

func yearsMonths(birth, now time.Time) (int, int) {
	now = app.DateIn(now)
	months := (now.Year()-birth.Year())*12 + int(now.Month()-birth.Month())
	if now.Day() < birth.Day() {
		months--
	}
	return months / 12, months % 12
}

func TestGenerateThreadsIsRepeatableAndBatched(t *testing.T) {
	ds := demo.Build(seedTime)
	var batches []int
	var subjects []string
	err := demo.GenerateThreads(context.Background(), ds, seedTime, 2500, 1000, 7, func(ts []app.Thread) error {
		batches = append(batches, len(ts))
		for _, th := range ts {
			subjects = append(subjects, th.Case.Subject+string(th.Case.Status))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 3 || batches[0] != 1000 || batches[2] != 500 {
		t.Fatalf("batches = %v", batches)
	}
	var again []string
	_ = demo.GenerateThreads(context.Background(), ds, seedTime, 2500, 1000, 7, func(ts []app.Thread) error {
		for _, th := range ts {
			again = append(again, th.Case.Subject+string(th.Case.Status))
		}
		return nil
	})
	for i := range subjects {
		if subjects[i] != again[i] {
			t.Fatal("same seed, different output")
		}
	}
}
