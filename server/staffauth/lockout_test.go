package staffauth

import (
	"errors"
	"testing"
	"time"

	"mottagning/app"
)

// Issue 15, finding 3: five wrong passwords locked an account so that
// anyone could keep a colleague locked out. Failures from anywhere but the
// staff member's own registered computers count on the account; those
// from a computer that proved itself count on that computer. So a
// stranger guessing from elsewhere locks only the door they use, with a
// progressive delay; the staff member signs in on their own computer all
// along, and a behörighetsadministratör can lift the account's lock.
func TestLockout_AStrangerCannotLockAColleagueOutOfTheirComputer(t *testing.T) {
	f := newFixture(t)
	dev := newDevice(t)
	anna := f.signInOn("anna", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, dev)

	// A stranger guesses from elsewhere (no device proof): the account's
	// lock grows, each lock longer than the last, up to app.LockMax.
	var lastLock time.Duration
	for i := 0; i < 12; i++ {
		_, err := f.s.SignIn(f.ctx, SignInRequest{Username: "anna", Password: "fel lösenord", DeviceName: "Okänd"})
		var tm *TooManyAttemptsError
		if errors.As(err, &tm) {
			lock := tm.Until.Sub(f.clock.Now())
			if lock < lastLock {
				t.Fatalf("attempt %d: lock %v shorter than the one before (%v)", i, lock, lastLock)
			}
			lastLock = lock
			f.clock.Add(lock) // the stranger waits it out and tries again
		} else if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if lastLock != app.LockMax {
		t.Errorf("after 12 guesses the lock is %v, want the maximum %v", lastLock, app.LockMax)
	}
	// Locked now (one more guess renews it) ...
	_, err := f.s.SignIn(f.ctx, SignInRequest{Username: "anna", Password: "fel igen", DeviceName: "Okänd"})
	wantLocked(t, err, "a guess during the lock")
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "anna", Password: staffPass, DeviceName: "Okänd"})
	wantLocked(t, err, "the right password from an unknown computer during the lock")

	// ... but Anna on her own computer signs in.
	if _, err := f.signInOnDevice(dev, SignInRequest{Username: "anna", Password: staffPass}); err != nil {
		t.Fatalf("Anna on her own computer while a stranger keeps the account locked: %v", err)
	}
	// Her own typos lock only her computer's door, after the free attempts.
	for i := 0; i < app.FreeAttempts-1; i++ {
		_, err := f.signInOnDevice(dev, SignInRequest{Username: "anna", Password: "stavfel"})
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("typo %d at %v: %v", i, f.clock.Now(), err)
		}
	}
	_, err = f.signInOnDevice(dev, SignInRequest{Username: "anna", Password: "stavfel"})
	wantLocked(t, err, "too many typos on her computer")

	// A colleague on another computer of hers? Not hers: the proof of
	// another device does not open Anna's device lock either.
	other := newDevice(t)
	f.signInOn("bo", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, other)
	ch, _ := f.s.Challenge()
	_, err = f.s.SignIn(f.ctx, SignInRequest{Username: "anna", Password: staffPass, DeviceID: other.id, Challenge: ch,
		DeviceProof: app.SignDeviceProof(other.key, app.ProofSignIn, other.id, ch)})
	wantLocked(t, err, "Anna's password on Bo's computer (the account's lock)")

	// The behörighetsadministratör lifts the locks; nobody else may, and
	// not on their own account.
	f.want(f.s.UnlockAccount(f.ctx, f.adminB, anna.StaffID), app.ErrForbidden, "an administrator of another clinic")
	f.want(f.s.UnlockAccount(f.ctx, anna, anna.StaffID), app.ErrForbidden, "Anna herself")
	if err := f.s.UnlockAccount(f.ctx, f.adminA, anna.StaffID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SignIn(f.ctx, SignInRequest{Username: "anna", Password: staffPass, DeviceName: "Lånedator"}); err != nil {
		t.Fatalf("after the unlock, from another computer: %v", err)
	}
	if _, err := f.signInOnDevice(dev, SignInRequest{Username: "anna", Password: staffPass}); err != nil {
		t.Fatalf("after the unlock, on her computer: %v", err)
	}
}

func wantLocked(t *testing.T, err error, what string) {
	t.Helper()
	var tm *TooManyAttemptsError
	if !errors.As(err, &tm) {
		t.Fatalf("%s: %v, want a lock (TooManyAttemptsError)", what, err)
	}
}
