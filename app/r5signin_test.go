package app_test

import (
	"errors"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// TestR5_ChildUnder13CannotSignInPersonally (issue 14, item 6): a child
// under 13 does not sign in with their own e-ID; a guardian uses the
// child's e-services in proxy mode (R5). The sign-in is refused with its
// own code and changes nothing, and the child cannot save settings that
// nobody would read (a child's guardians are notified, R6). From the 13th
// birthday both work (R8).
func TestR5_ChildUnder13CannotSignInPersonally(t *testing.T) {
	f := newFixture(t)
	hugo := f.resident(demo.ChildTurns13) // 13 tomorrow
	err := f.res.SignIn(f.ctx, hugo.ID)
	if !errors.Is(err, app.ErrChildSignIn) || app.Code(err) != "child_under_13" {
		t.Fatalf("sign-in of a child of 12 = %v (code %s), want ErrChildSignIn", err, app.Code(err))
	}
	if after := f.resident(demo.ChildTurns13); !after.Account.LastSignIn.Equal(hugo.Account.LastSignIn) {
		t.Errorf("a refused sign-in recorded a sign-in: %v → %v", hugo.Account.LastSignIn, after.Account.LastSignIn)
	}
	if err := app.CanSignInPersonally(hugo, f.now); !errors.Is(err, app.ErrChildSignIn) {
		t.Errorf("CanSignInPersonally(child) = %v", err)
	}
	// The lock is the reason a locked child hears, not the age.
	locked := *hugo
	locked.Account.LoginLocked = true
	if err := app.CanSignInPersonally(&locked, f.now); !errors.Is(err, app.ErrLoginLocked) {
		t.Errorf("CanSignInPersonally(locked child) = %v, want login locked", err)
	}

	set := app.Settings{Mobile: "+46701740690", NotifySMS: true}
	if err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: hugo.ID}, hugo.ID, set); !errors.Is(err, app.ErrChildSignIn) {
		t.Fatalf("settings of a child of 12 = %v, want ErrChildSignIn", err)
	}
	if s := f.resident(demo.ChildTurns13).Settings; s.Mobile != "" || s.NotifySMS {
		t.Errorf("a refused save stored %+v", s)
	}

	// On the 13th birthday the child signs in personally and fills in settings.
	f.now = app.DateIn(seedTime).AddDate(0, 0, 1)
	if !app.IsChild(hugo, f.now.Add(-1)) || app.IsChild(hugo, f.now) {
		t.Fatal("fixture: Hugo turns 13 tomorrow")
	}
	if err := f.res.SignIn(f.ctx, hugo.ID); err != nil {
		t.Fatalf("sign-in on the 13th birthday: %v", err)
	}
	if err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: hugo.ID}, hugo.ID, set); err != nil {
		t.Fatalf("settings on the 13th birthday: %v", err)
	}
}
