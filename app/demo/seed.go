package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"mottagning/app"
)

// Seeder is what Seed needs from a store.
type Seeder interface {
	PutClinic(ctx context.Context, c *app.Clinic) error
	PutStaff(ctx context.Context, s *app.Staff) error
	PutResidents(ctx context.Context, rs []*app.Resident) error
	PutTemplate(ctx context.Context, t *app.MessageTemplate) error
	ImportThreads(ctx context.Context, ts []app.Thread) error
	MarkDemo(ctx context.Context) error
	app.CredentialStore
	PutEService(ctx context.Context, e *app.EService) error
	app.FormStore
}

// PasswordParams is the argon2id cost of the demo passwords: they are
// printed on the sign-in screen, so a high cost would protect nothing and
// only slow every demo seed (and every test that seeds one) down.
var PasswordParams = app.PasswordParams{Time: 1, MemKiB: 8 * 1024, Threads: 1}

// Password is the demo password of a demo staff member; the sign-in screen
// of a demo database lists them.
func Password(username string) string { return username + "-demo" }

// Seed writes the data set into an empty store and marks it as demo data.
func Seed(ctx context.Context, s Seeder, ds *Dataset) error {
	if err := s.MarkDemo(ctx); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	for i := range ds.Clinics {
		if err := s.PutClinic(ctx, &ds.Clinics[i]); err != nil {
			return fmt.Errorf("seed demo clinic: %w", err)
		}
	}
	for i := range ds.Staff {
		if err := s.PutStaff(ctx, &ds.Staff[i]); err != nil {
			return fmt.Errorf("seed demo staff: %w", err)
		}
		if !ds.WithPasswords {
			continue
		}
		if err := app.SetPassword(ctx, s, ds.Staff[i].ID, Password(ds.Staff[i].Username), PasswordParams, ds.Now); err != nil {
			return fmt.Errorf("seed demo password: %w", err)
		}
	}
	if err := s.PutResidents(ctx, ds.Residents); err != nil {
		return fmt.Errorf("seed demo residents: %w", err)
	}
	for i := range ds.Templates {
		if err := s.PutTemplate(ctx, &ds.Templates[i]); err != nil {
			return fmt.Errorf("seed demo template: %w", err)
		}
	}
	for i := range ds.EServices {
		if err := s.PutEService(ctx, &ds.EServices[i]); err != nil {
			return fmt.Errorf("seed demo e-service: %w", err)
		}
	}
	for _, f := range ds.Forms {
		if err := s.PutFormSeries(ctx, f); err != nil {
			return fmt.Errorf("seed demo form: %w", err)
		}
	}
	if err := s.ImportThreads(ctx, ds.Threads); err != nil {
		return fmt.Errorf("seed demo cases: %w", err)
	}
	return nil
}

var subjects = []string{"Förnya recept", "Ont i ryggen", "Fråga om provsvar", "Omboka tid", "Intyg till arbetsgivare",
	"Biverkningar", "Hosta och feber", "Remiss till specialist", "Fråga om vaccination", "Utslag", "Sömnproblem", "Huvudvärk"}

// GenerateThreads makes n synthetic cases over the data set's activated
// residents and case staff, with last activity spread over the year before
// ds was built, every status, and one or two messages each. It calls emit
// with batches of at most batch threads so that 100,000 cases never sit in
// memory at once. seed makes the output repeatable.
func GenerateThreads(ctx context.Context, ds *Dataset, now time.Time, n, batch int, seed uint64, emit func([]app.Thread) error) error {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var residents []*app.Resident
	for _, r := range ds.Residents {
		if r.Account.Activated && !r.Register.Deceased {
			residents = append(residents, r)
		}
	}
	type handler struct{ staff, clinic app.ID }
	var handlers []handler
	for _, s := range ds.Staff {
		for c, roles := range s.Roles {
			for _, r := range roles {
				if r == app.RoleCaseHandler {
					handlers = append(handlers, handler{s.ID, c})
				}
			}
		}
	}
	buf := make([]app.Thread, 0, batch)
	for i := 0; i < n; i++ {
		if i%1000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		r := residents[rnd.IntN(len(residents))]
		h := handlers[rnd.IntN(len(handlers))]
		at := now.Add(-time.Duration(rnd.Int64N(int64(365 * 24 * time.Hour))))
		st := app.AllStatuses[rnd.IntN(len(app.AllStatuses))]
		c := app.Case{ID: app.NewID(now), ClinicID: h.clinic, ResidentID: r.ID, Kind: app.KindEService,
			EServiceID: app.StandardCatalogue[rnd.IntN(len(app.StandardCatalogue))].ID,
			Subject:    subjects[rnd.IntN(len(subjects))], Status: st, StartedBy: app.StartedByResident,
			CreatedAt: at, LastActivity: at, UnreadByStaff: st == app.StatusNew}
		if st != app.StatusNew {
			c.AssigneeID = h.staff
		}
		if st == app.StatusClosed {
			c.ClosedAt = at
		}
		t := app.Thread{Case: c, Messages: []app.Message{{ID: app.NewID(now), CaseID: c.ID, Author: app.AuthorResident, AuthorID: r.ID, At: at,
			Text: "Hej! Jag skulle vilja ha hjälp med det här. Tack på förhand."}}}
		if st != app.StatusNew {
			t.Messages = append(t.Messages, app.Message{ID: app.NewID(now), CaseID: c.ID, Author: app.AuthorStaff, AuthorID: h.staff, At: at,
				Text: "Tack för ditt meddelande. Vi har tittat på ditt ärende och återkommer."})
		}
		buf = append(buf, t)
		if len(buf) == batch {
			if err := emit(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		return emit(buf)
	}
	return nil
}
