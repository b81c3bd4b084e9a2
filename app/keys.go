package app

import (
	"context"
	"errors"
)

// The encrypted local store (shared/STYLE.md, "Accounts and keys"): the
// desktop's database is sealed under a random data key, wrapped once per
// staff member who has signed in on the device with a key derived from
// their password. Sign-in therefore does two things: check the password
// (an Authenticator) and open the data key with it (a KeyStore). The
// directory — clinics, staff, credentials — stays readable before that, so
// that the sign-in screen and LocalAuth work; everything else reads as
// ErrLocked until then.

// Errors of a KeyStore. storage returns these same values.
var (
	// ErrLocked: the store is encrypted and not unlocked, or the staff
	// member has no key on this device (has never signed in on it while
	// it was unlocked).
	ErrLocked = errors.New("the database is locked")
	// ErrWrongKey: the password does not open the staff member's key, or
	// the key does not open this database.
	ErrWrongKey = errors.New("wrong key for the database")
)

// KeyStore is a store whose data is opened with a staff member's password.
type KeyStore interface {
	// Unlock opens the data with staffID's password and makes sure staffID
	// can open it next time. Call it only with a verified password.
	Unlock(ctx context.Context, staffID ID, password string) error
}

// UnlockingAuth signs staff in with another Authenticator and then
// unlocks the store with the same password: the desktop's Authenticator
// over an encrypted store.
type UnlockingAuth struct {
	Auth  Authenticator
	Store KeyStore
}

// SignIn implements Authenticator. A password the Authenticator accepts
// but the store refuses (the staff member has no key on this device, or
// the key was wrapped under another password) fails the sign-in with
// ErrLocked or ErrWrongKey.
func (a UnlockingAuth) SignIn(ctx context.Context, username, password string) (*Staff, error) {
	st, err := a.Auth.SignIn(ctx, username, password)
	if err != nil {
		return nil, err
	}
	if err := a.Store.Unlock(ctx, st.ID, password); err != nil {
		return nil, err
	}
	return st, nil
}

// KeyMessage is the Swedish text the sign-in screen shows for ErrLocked
// and ErrWrongKey; "" for any other error (SignInMessage's cases).
func KeyMessage(err error) string {
	switch {
	case errors.Is(err, ErrLocked):
		return "Du har inte loggat in på den här datorn tidigare, så databasen kan inte låsas upp med ditt lösenord. " +
			"Logga in som en medarbetare som har använt datorn."
	case errors.Is(err, ErrWrongKey):
		return "Databasen på den här datorn kunde inte låsas upp med lösenordet. " +
			"Om du nyligen bytt lösenord: logga in med det gamla, eller be en kollega som har använt datorn att logga in först."
	}
	return ""
}
