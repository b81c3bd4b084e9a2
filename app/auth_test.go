package app_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

func (f *fixture) auth() *app.LocalAuth {
	return app.NewLocalAuth(f.store, f.store, app.ClockFunc(func() time.Time { return f.now }))
}

func (f *fixture) staff(key string) *app.Staff {
	f.t.Helper()
	st, err := f.store.Staff(f.ctx, f.ds.StaffBy[key])
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// TestSignInWithDemoPassword: the demo seed stores an argon2id verifier per
// staff member; the right password signs in (username case-insensitive),
// a wrong one and an unknown username give the same error.
func TestSignInWithDemoPassword(t *testing.T) {
	f := newFixture(t)
	a := f.auth()
	anna := f.staff(demo.StaffReceiver)
	c, err := f.store.Credential(f.ctx, anna.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Hash, "$argon2id$") || strings.Contains(c.Hash, demo.Password(anna.Username)) {
		t.Fatalf("stored verifier is not an argon2id hash")
	}
	st, err := a.SignIn(f.ctx, " "+strings.ToUpper(anna.Username)+" ", demo.Password(anna.Username))
	if err != nil || st.ID != anna.ID {
		t.Fatalf("SignIn with the demo password: %v, %v", st, err)
	}
	for _, tc := range []struct{ user, pw string }{
		{anna.Username, "fel-lösenord"},
		{"finns-inte", demo.Password(anna.Username)},
		{"", ""},
	} {
		if _, err := a.SignIn(f.ctx, tc.user, tc.pw); !errors.Is(err, app.ErrBadCredentials) {
			t.Errorf("SignIn(%q): %v, want ErrBadCredentials", tc.user, err)
		}
	}
	if msg := app.SignInMessage(app.ErrBadCredentials, f.now); msg != "Fel användarnamn eller lösenord." {
		t.Errorf("message %q", msg)
	}
}

// TestSignInRateLimited: after FreeAttempts wrong passwords the account is
// locked, the right password is refused until the lock ends, each further
// failure doubles the wait, and a success clears it. The state is stored.
func TestSignInRateLimited(t *testing.T) {
	f := newFixture(t)
	a := f.auth()
	bjorn := f.staff(demo.StaffHandler)
	pw := demo.Password(bjorn.Username)
	for i := 1; i < app.FreeAttempts; i++ {
		if _, err := a.SignIn(f.ctx, bjorn.Username, "fel"+pw); !errors.Is(err, app.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err := a.SignIn(f.ctx, bjorn.Username, "fel"+pw)
	var tm *app.TooManyAttemptsError
	if !errors.As(err, &tm) || !tm.Until.Equal(f.now.Add(app.LockBase)) {
		t.Fatalf("attempt %d: %v, want locked for %v", app.FreeAttempts, err, app.LockBase)
	}
	if msg := app.SignInMessage(err, f.now); msg != "För många felaktiga försök. Vänta 30 sekunder och försök igen." {
		t.Errorf("message %q", msg)
	}
	// The right password is refused while locked, and a fresh LocalAuth
	// (a restarted program) sees the same lock.
	if _, err := f.auth().SignIn(f.ctx, bjorn.Username, pw); !errors.As(err, &tm) {
		t.Fatalf("right password while locked: %v", err)
	}
	f.now = f.now.Add(app.LockBase)
	if _, err := a.SignIn(f.ctx, bjorn.Username, "fel"+pw); !errors.As(err, &tm) || !tm.Until.Equal(f.now.Add(2*app.LockBase)) {
		t.Fatalf("next failure: %v, want a doubled lock", err)
	}
	f.now = f.now.Add(2 * app.LockBase)
	if st, err := a.SignIn(f.ctx, bjorn.Username, pw); err != nil || st.ID != bjorn.ID {
		t.Fatalf("after the lock: %v", err)
	}
	c, _ := f.store.Credential(f.ctx, bjorn.ID)
	if c.Failures != 0 || !c.LockedUntil.IsZero() {
		t.Errorf("after success: %d failures, locked until %v", c.Failures, c.LockedUntil)
	}
}

// TestSignInDisabledAndWithoutPassword: a disabled account is refused
// (after the password check, so it cannot be probed); a staff member with
// no verifier on this device cannot sign in.
func TestSignInDisabledAndWithoutPassword(t *testing.T) {
	f := newFixture(t)
	st := f.staff(demo.StaffContact)
	st.Disabled = true
	if err := f.store.PutStaff(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth().SignIn(f.ctx, st.Username, demo.Password(st.Username)); !errors.Is(err, app.ErrAccountDisabled) {
		t.Errorf("disabled: %v", err)
	}
	if _, err := f.auth().SignIn(f.ctx, st.Username, "fel"); !errors.Is(err, app.ErrBadCredentials) {
		t.Errorf("disabled, wrong password: %v", err)
	}
	nopw := app.Staff{ID: app.NewID(f.now), Name: "Ny Medarbetare", Username: "ny", Roles: map[app.ID][]app.Role{f.ds.Clinics[0].ID: {app.RoleCaseHandler}}}
	if err := f.store.PutStaff(f.ctx, &nopw); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth().SignIn(f.ctx, "ny", "vad-som-helst"); !errors.Is(err, app.ErrBadCredentials) {
		t.Errorf("no verifier: %v", err)
	}
	if err := app.SetPassword(f.ctx, f.store, nopw.ID, "kort", demo.PasswordParams, f.now); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("short password: %v", err)
	}
	if err := app.SetPassword(f.ctx, f.store, nopw.ID, "ett-bra-lösenord", demo.PasswordParams, f.now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth().SignIn(f.ctx, "ny", "ett-bra-lösenord"); err != nil {
		t.Errorf("after SetPassword: %v", err)
	}
}

func TestSignInMessage_OneTimeCodeAndDeviceAreNotWrongPasswords(t *testing.T) {
	now := time.Now()
	for _, err := range []error{app.ErrOneTimeCodeRequired, app.ErrDeviceNotRecognised} {
		m := app.SignInMessage(fmt.Errorf("sign in: %w", err), now)
		if m == app.SignInMessage(app.ErrBadCredentials, now) || m == app.SignInMessage(errors.New("x"), now) {
			t.Errorf("%v shows %q", err, m)
		}
	}
}
