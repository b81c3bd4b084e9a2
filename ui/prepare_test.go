package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage"
)

// Issue 18, item 9: a new demo database is seeded with a progress bar in
// the window (a real seed of the demo set and 3,000 generated cases into
// a real bbolt file), then the start screen shows with the demo accounts.
func TestPrepare_DemoSeedShowsProgressThenSignIn(t *testing.T) {
	test.NewTempApp(t)
	ctx := context.Background()
	st, err := storage.Open(ctx, t.TempDir(), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var seen []float64
	var total int
	win := test.NewTempWindow(t, nil)
	win.Resize(fyne.NewSize(1200, 760))
	u := New(ctx, win, Deps{
		Directory: st, Cases: app.NewCaseService(st, app.FixedClock(now)), Auth: app.NewLocalAuth(st, st, app.FixedClock(now)),
		Clock: app.FixedClock(now), IdleLock: -1, Demo: true, DemoPassword: demo.Password,
		Prepare: func(ctx context.Context, progress func(done, total int)) error {
			ds := demo.Build(now)
			total = len(ds.Threads) + 3000
			progress(0, total)
			if err := demo.Seed(ctx, st, ds); err != nil {
				return err
			}
			done := len(ds.Threads)
			progress(done, total)
			return demo.GenerateThreads(ctx, ds, now, 3000, 500, 1, func(ts []app.Thread) error {
				if err := st.ImportThreads(ctx, ts); err != nil {
					return err
				}
				done += len(ts)
				progress(done, total)
				return nil
			})
		},
	})
	p := u.prepare
	if p == nil || win.Content() != p.content || u.start != nil {
		t.Fatal("the window should show the preparation first")
	}
	if !strings.Contains(test.RenderToMarkup(win.Canvas()), L(textPrepTitle)) {
		t.Error("the preparation screen does not say what it does")
	}
	// Apply the progress one step at a time, as the window would.
	for {
		u.tasks.wg.Wait()
		u.tasks.mu.Lock()
		held := u.tasks.held
		u.tasks.held = nil
		u.tasks.mu.Unlock()
		if len(held) == 0 {
			break
		}
		for _, apply := range held {
			apply()
			if u.prepare != nil {
				seen = append(seen, p.bar.Value)
			}
		}
	}
	if len(seen) < 4 || seen[len(seen)-1] != 1 {
		t.Errorf("progress values %v: want several steps, ending at 1", seen)
	}
	if want := Lf(textPrepCount, thousands(total), thousands(total)); p.count.Text != want {
		t.Errorf("count %q, want %q", p.count.Text, want)
	}
	if u.start == nil || win.Content() != u.start.content || u.prepare != nil {
		t.Fatal("after the seed the sign-in screen should show")
	}
	if staff, err := st.AllStaff(ctx); err != nil || len(staff) == 0 {
		t.Errorf("the seeded database has %d staff (%v)", len(staff), err)
	}
}

// A failed preparation says why and stays; nothing else opens.
func TestPrepare_FailureIsShown(t *testing.T) {
	test.NewTempApp(t)
	win := test.NewTempWindow(t, nil)
	u := New(context.Background(), win, Deps{
		Clock: app.FixedClock(now), IdleLock: -1,
		Prepare: func(context.Context, func(int, int)) error {
			return errors.New("Disken är full. Frigör utrymme och försök igen.")
		},
	})
	u.tasks.wait()
	if u.start != nil || u.prepare == nil || !u.prepare.errText.Visible() ||
		!strings.Contains(u.prepare.errText.Text, "Disken är full") || !strings.HasPrefix(u.prepare.errText.Text, L(textPrepFailed)) {
		t.Errorf("failure: start %v, message %q", u.start != nil, u.prepare.errText.Text)
	}
}
