package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Staff sign-in. The desktop signs staff in through the Authenticator
// interface: in standalone mode LocalAuth checks an argon2id verifier kept
// in the local store; once the central server exists it owns the accounts
// (shared/STYLE.md) and another Authenticator asks it, and a SITHS/HSA-id
// login can replace the password later without touching the screens.

// Authenticator signs a staff member in.
type Authenticator interface {
	// SignIn returns the staff member for username and password, or
	// ErrBadCredentials, *TooManyAttemptsError or ErrAccountDisabled.
	SignIn(ctx context.Context, username, password string) (*Staff, error)
}

// Credential is a staff member's local password verifier and the state of
// the rate limit on wrong passwords. It is keyed by staff id (usernames
// contain names and never become bbolt keys).
type Credential struct {
	StaffID ID
	// Hash is an argon2id PHC string (HashPassword).
	Hash string
	// Failures counts wrong passwords since the last successful sign-in.
	Failures int
	// LockedUntil is when the next attempt is allowed after too many failures.
	LockedUntil time.Time
	ChangedAt   time.Time
}

// CredentialStore holds credentials. storage implements it on bbolt.
type CredentialStore interface {
	PutCredential(ctx context.Context, c *Credential) error
	Credential(ctx context.Context, staffID ID) (*Credential, error)
	// UpdateCredential loads, changes and writes one credential in one transaction.
	UpdateCredential(ctx context.Context, staffID ID, fn func(c *Credential) error) error
}

// Sign-in errors. Their texts are for logs; the UI shows its own Swedish
// texts (SignInMessage).
var (
	// ErrBadCredentials: unknown username or wrong password. The two are
	// never told apart, so a username cannot be probed.
	ErrBadCredentials = errors.New("wrong username or password")
	// ErrAccountDisabled: the staff account is disabled.
	ErrAccountDisabled = errors.New("account disabled")
	// ErrOneTimeCodeRequired: the password was right and the account asks
	// for a one-time code (TOTP) that this sign-in cannot send. Not a
	// wrong password: trying again would only lock the account.
	ErrOneTimeCodeRequired = errors.New("one-time code required")
	// ErrDeviceNotRecognised: the server did not accept this computer's
	// proof that it is the device registered at its first sign-in (a
	// copied or damaged data directory).
	ErrDeviceNotRecognised = errors.New("device key not accepted")
)

// TooManyAttemptsError is returned while an account is locked after too
// many wrong passwords. It matches ErrForbidden.
type TooManyAttemptsError struct {
	Until time.Time
}

func (e *TooManyAttemptsError) Error() string {
	return "too many wrong passwords; locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *TooManyAttemptsError) Is(target error) bool { return target == ErrForbidden }

// Rate limit on wrong passwords: FreeAttempts wrong passwords in a row are
// allowed; each further one locks the account for LockBase doubled per
// extra failure, at most LockMax. The state is stored, so restarting the
// program does not reset it.
const (
	FreeAttempts = 5
	LockBase     = 30 * time.Second
	LockMax      = 15 * time.Minute
)

func lockFor(failures int) time.Duration {
	if failures < FreeAttempts {
		return 0
	}
	d := LockBase
	for i := FreeAttempts; i < failures && d < LockMax; i++ {
		d *= 2
	}
	return min(d, LockMax)
}

// LocalAuth is the standalone Authenticator over the local store.
type LocalAuth struct {
	creds CredentialStore
	dir   DirectoryStore
	clock Clock
	// dummy is verified for unknown usernames so that they take as long as
	// a wrong password for a known one.
	dummyOnce sync.Once
	dummy     string
}

// NewLocalAuth returns a LocalAuth.
func NewLocalAuth(creds CredentialStore, dir DirectoryStore, clock Clock) *LocalAuth {
	return &LocalAuth{creds: creds, dir: dir, clock: clock}
}

// staffByUsername finds a staff member by username, case-insensitively.
// Staff lists are small (hundreds), so a scan is fine and keeps usernames
// out of bbolt keys.
func (a *LocalAuth) staffByUsername(ctx context.Context, username string) (*Staff, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return nil, ErrBadCredentials
	}
	all, err := a.dir.AllStaff(ctx)
	if err != nil {
		return nil, fmt.Errorf("sign in: staff: %w", err)
	}
	for i := range all {
		if strings.EqualFold(all[i].Username, username) {
			return &all[i], nil
		}
	}
	return nil, ErrBadCredentials
}

func (a *LocalAuth) burn(password string) {
	a.dummyOnce.Do(func() { a.dummy, _ = HashPassword("dummy", DefaultPasswordParams) })
	_, _ = VerifyPassword(a.dummy, password)
}

// SignIn implements Authenticator.
func (a *LocalAuth) SignIn(ctx context.Context, username, password string) (*Staff, error) {
	st, err := a.staffByUsername(ctx, username)
	if errors.Is(err, ErrBadCredentials) {
		a.burn(password)
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	var out error
	err = a.creds.UpdateCredential(ctx, st.ID, func(c *Credential) error {
		now := a.clock.Now()
		if now.Before(c.LockedUntil) {
			out = &TooManyAttemptsError{Until: c.LockedUntil}
			return nil
		}
		ok, err := VerifyPassword(c.Hash, password)
		if err != nil {
			return fmt.Errorf("credential of staff %s: %w", st.ID, err)
		}
		if !ok {
			c.Failures++
			if d := lockFor(c.Failures); d > 0 {
				c.LockedUntil = now.Add(d)
				out = &TooManyAttemptsError{Until: c.LockedUntil}
			} else {
				out = ErrBadCredentials
			}
			return nil
		}
		c.Failures, c.LockedUntil = 0, time.Time{}
		return nil
	})
	switch {
	case errors.Is(err, ErrNotFound):
		// A staff member without a password cannot sign in on this device.
		a.burn(password)
		return nil, ErrBadCredentials
	case err != nil:
		return nil, fmt.Errorf("sign in staff %s: %w", st.ID, err)
	case out != nil:
		return nil, out
	case st.Disabled:
		return nil, ErrAccountDisabled
	}
	return st, nil
}

// SetPassword stores a new password for a staff member (first set-up, a
// reset by a behörighetsadministratör, or the demo seed) and clears the
// rate limit.
func SetPassword(ctx context.Context, creds CredentialStore, staffID ID, password string, p PasswordParams, now time.Time) error {
	if err := CheckNewPassword(password); err != nil {
		return err
	}
	h, err := HashPassword(password, p)
	if err != nil {
		return err
	}
	return creds.PutCredential(ctx, &Credential{StaffID: staffID, Hash: h, ChangedAt: now})
}

// MinPasswordLen is the shortest password accepted for a staff account.
const MinPasswordLen = 8

// CheckNewPassword validates a new password.
func CheckNewPassword(p string) error {
	if len([]rune(p)) < MinPasswordLen {
		return fmt.Errorf("password shorter than %d characters: %w", MinPasswordLen, ErrInvalid)
	}
	return nil
}

// SignInMessage is the Swedish text the sign-in screen shows for err.
func SignInMessage(err error, now time.Time) string {
	if m := KeyMessage(err); m != "" {
		return m
	}
	var tm *TooManyAttemptsError
	switch {
	case errors.As(err, &tm):
		wait := tm.Until.Sub(now).Round(time.Second)
		if wait < time.Second {
			wait = time.Second
		}
		return fmt.Sprintf("För många felaktiga försök. Vänta %s och försök igen.", swedishDuration(wait))
	case errors.Is(err, ErrBadCredentials):
		return "Fel användarnamn eller lösenord."
	case errors.Is(err, ErrAccountDisabled):
		return "Kontot är avstängt. Kontakta behörighetsadministratören."
	case errors.Is(err, ErrOneTimeCodeRequired):
		return "Lösenordet är rätt. Kontot kräver också en engångskod: skriv de sex siffrorna från din autentiseringsapp, eller en av dina återställningskoder om du inte har telefonen."
	case errors.Is(err, ErrDeviceNotRecognised):
		return "Servern känner inte igen den här datorn. Datakatalogen kan ha kopierats eller skadats. Kontakta IT-supporten; försök inte igen."
	}
	return "Inloggningen misslyckades. Försök igen."
}

func swedishDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d sekunder", int(d.Seconds()))
	}
	m := int((d + 59*time.Second) / time.Minute)
	if m == 1 {
		return "1 minut"
	}
	return fmt.Sprintf("%d minuter", m)
}

type oneTimeCodeKey struct{}

// WithOneTimeCode carries the one-time code a staff member typed (six
// digits from the authenticator app, or a recovery code) to the sign-in
// that asked for it (ErrOneTimeCodeRequired): Authenticator.SignIn keeps
// its signature, and a sign-in that needs no code ignores it.
func WithOneTimeCode(ctx context.Context, code string) context.Context {
	return context.WithValue(ctx, oneTimeCodeKey{}, code)
}

// OneTimeCode is the code WithOneTimeCode put in ctx ("" when none).
func OneTimeCode(ctx context.Context) string {
	code, _ := ctx.Value(oneTimeCodeKey{}).(string)
	return code
}

// IsAuthenticatorCode tells an authenticator app's code (six digits,
// spaces allowed) from a recovery code.
func IsAuthenticatorCode(code string) bool {
	n := 0
	for _, r := range code {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == ' ':
		default:
			return false
		}
	}
	return n == 6
}
