package app

import (
	"context"
	"crypto/rand"
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

// ErrDeviceRevoked: the central server has revoked this device (a lost or
// stolen laptop): nobody can sign in on it online, and the server hands
// it no key.
var ErrDeviceRevoked = errors.New("this device is revoked on the server")

// KeyStore is a store whose data is opened with a staff member's password.
type KeyStore interface {
	// Unlock opens the data with staffID's password and makes sure staffID
	// can open it next time. Call it only with a verified password.
	Unlock(ctx context.Context, staffID ID, password string) error
}

// Keyring is the operating system's key store (Secret Service, Keychain,
// Credential Manager). storage.OSKeyring implements it.
type Keyring interface {
	// Get returns the secret of account, or ErrNotFound.
	Get(ctx context.Context, account string) ([]byte, error)
	// Set stores secret under account, replacing an earlier one.
	Set(ctx context.Context, account string, secret []byte) error
}

// SecretKeyStore is a KeyStore whose data key can also be wrapped under a
// random secret kept in a Keyring, per staff member. storage implements it.
type SecretKeyStore interface {
	KeyStore
	// KeyringAccount names staffID's entry in the Keyring (ids only);
	// an error when the store has no data key to wrap (not encrypted).
	KeyringAccount(ctx context.Context, staffID ID) (string, error)
	// WrapForSecret wraps the unlocked data key for staffID under secret.
	WrapForSecret(ctx context.Context, staffID ID, secret []byte) error
	// OpensWithSecret reports whether staffID's wrap opens with secret.
	OpensWithSecret(staffID ID, secret []byte) bool
	// UnlockWithSecret unlocks with staffID's wrap under secret and wraps
	// the data key for password anew. Only with a verified password.
	UnlockWithSecret(ctx context.Context, staffID ID, password string, secret []byte) error
}

// KeyRecovery is implemented by an Authenticator that can open the store
// another way once it has checked a password with the central server: a
// connected desktop's device escrow (package sync). UnlockingAuth calls it.
type KeyRecovery interface {
	// RecoverKey is called when the store refused the password of st, whom
	// SignIn has just accepted, with cause (ErrLocked or ErrWrongKey). It
	// unlocks the store and wraps the data key for password, or returns
	// the error to show: cause when it has nothing better.
	RecoverKey(ctx context.Context, st *Staff, password string, cause error) error
	// KeyUnlocked is called after every sign-in that unlocked the store
	// (the device's keys can be registered now). It must not fail the
	// sign-in.
	KeyUnlocked(ctx context.Context, st *Staff)
}

// UnlockingAuth signs staff in with another Authenticator and then
// unlocks the store with the same password: the desktop's Authenticator
// over an encrypted store.
//
// The password is the primary way in, always. Two other ways are tried
// only after the Authenticator has accepted the password, and only when
// the store refuses it:
//   - the OS key store (Keyring), when the password no longer opens the
//     staff member's wrap (ErrWrongKey: the password was changed or reset
//     since); the data key is then wrapped for the new password;
//   - the Authenticator's KeyRecovery (a connected desktop's device escrow,
//     after an online sign-in), for a first sign-in on the device too.
//
// After every successful unlock the staff member's secret is put in the
// Keyring (where available) and the data key wrapped under it. A missing,
// locked or slow key store changes nothing: the sign-in goes on, and its
// error goes to KeyringError only. The Keyring never holds the data key,
// only a random secret that opens one wrap of it; that wrap never replaces
// the password check.
type UnlockingAuth struct {
	Auth  Authenticator
	Store KeyStore
	// Keyring is the OS key store; nil, or a Store that is not a
	// SecretKeyStore, leaves it out.
	Keyring Keyring
	// KeyringError, when set, is told why the key store was not used (for
	// a log line: the errors hold ids, never a secret).
	KeyringError func(err error)
}

// SignIn implements Authenticator. A password the Authenticator accepts
// but the store refuses (the staff member has no key on this device, or
// the key was wrapped under another password) and that neither the key
// store nor the Authenticator's KeyRecovery can make good fails the
// sign-in with ErrLocked, ErrWrongKey or ErrDeviceRevoked.
func (a UnlockingAuth) SignIn(ctx context.Context, username, password string) (*Staff, error) {
	st, err := a.Auth.SignIn(ctx, username, password)
	if err != nil {
		return nil, err
	}
	err = a.Store.Unlock(ctx, st.ID, password)
	if errors.Is(err, ErrWrongKey) && a.unlockFromKeyring(ctx, st.ID, password) {
		err = nil
	}
	kr, recovers := a.Auth.(KeyRecovery)
	if recovers && (errors.Is(err, ErrLocked) || errors.Is(err, ErrWrongKey)) {
		err = kr.RecoverKey(ctx, st, password, err)
	}
	if err != nil {
		return nil, err
	}
	a.keepInKeyring(ctx, st.ID)
	if recovers {
		kr.KeyUnlocked(ctx, st)
	}
	return st, nil
}

func (a UnlockingAuth) keyring() (SecretKeyStore, bool) {
	if a.Keyring == nil {
		return nil, false
	}
	ss, ok := a.Store.(SecretKeyStore)
	return ss, ok
}

func (a UnlockingAuth) keyringError(err error) {
	if a.KeyringError != nil && err != nil {
		a.KeyringError(err)
	}
}

// unlockFromKeyring tries the key store's wrap of staffID (password
// verified); false, silently, when there is none or it does not open.
func (a UnlockingAuth) unlockFromKeyring(ctx context.Context, staffID ID, password string) bool {
	ss, ok := a.keyring()
	if !ok {
		return false
	}
	account, err := ss.KeyringAccount(ctx, staffID)
	if err != nil {
		return false
	}
	secret, err := a.Keyring.Get(ctx, account)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			a.keyringError(err)
		}
		return false
	}
	defer clear(secret)
	if err := ss.UnlockWithSecret(ctx, staffID, password, secret); err != nil {
		a.keyringError(err)
		return false
	}
	return true
}

// keepInKeyring makes sure the key store holds a secret that opens a wrap
// of the (unlocked) data key for staffID. Best effort, silent.
func (a UnlockingAuth) keepInKeyring(ctx context.Context, staffID ID) {
	ss, ok := a.keyring()
	if !ok {
		return
	}
	account, err := ss.KeyringAccount(ctx, staffID)
	if err != nil {
		return // a plain database: nothing to wrap
	}
	if secret, err := a.Keyring.Get(ctx, account); err == nil {
		opens := ss.OpensWithSecret(staffID, secret)
		clear(secret)
		if opens {
			return
		}
	} else if !errors.Is(err, ErrNotFound) {
		a.keyringError(err)
		return
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		a.keyringError(err)
		return
	}
	defer clear(secret)
	// The key store first: a wrap whose secret is nowhere is of no use,
	// a secret without a wrap is replaced next time.
	if err := a.Keyring.Set(ctx, account, secret); err != nil {
		a.keyringError(err)
		return
	}
	a.keyringError(ss.WrapForSecret(ctx, staffID, secret))
}

// KeyMessage is the Swedish text the sign-in screen shows for ErrLocked,
// ErrWrongKey and ErrDeviceRevoked; "" for any other error
// (SignInMessage's cases).
func KeyMessage(err error) string {
	switch {
	case errors.Is(err, ErrDeviceRevoked):
		return "Den här datorn är spärrad i servern, till exempel efter att den har tappats bort, " +
			"så det går inte att logga in på den med anslutning. Kontakta IT-supporten eller behörighetsadministratören."
	case errors.Is(err, ErrLocked):
		return "Du har inte loggat in på den här datorn tidigare, så databasen kan inte låsas upp med ditt lösenord. " +
			"Logga in som en medarbetare som har använt datorn."
	case errors.Is(err, ErrWrongKey):
		return "Databasen på den här datorn kunde inte låsas upp med lösenordet. " +
			"Om du nyligen bytt lösenord: logga in med det gamla, eller be en kollega som har använt datorn att logga in först."
	}
	return ""
}
