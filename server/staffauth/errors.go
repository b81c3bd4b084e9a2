package staffauth

import (
	"errors"

	"mottagning/app"
)

// Errors of sign-in and token checks. None ever holds a username, a
// password, a code or a token; callers wrap them with ids only.
var (
	// ErrBadCredentials: unknown username, wrong password, wrong TOTP or
	// recovery code. The cases are never told apart.
	ErrBadCredentials = app.ErrBadCredentials
	// ErrAccountDisabled: the staff account is disabled.
	ErrAccountDisabled = app.ErrAccountDisabled
	// ErrTOTPRequired: the password was right and the account has TOTP;
	// send the request again with TOTP or RecoveryCode.
	ErrTOTPRequired = errors.New("second factor required")
	// ErrTokenExpired: the token is past its expiry, or the account changed
	// since it was issued (roles, password); refresh or sign in again.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenInvalid: the token is malformed, forged or unknown.
	ErrTokenInvalid = errors.New("token invalid")
	// ErrDeviceRevoked: the device was revoked by an administrator (or by
	// the server, after a refresh token was used twice). A *RevokedError
	// says why to the device itself.
	ErrDeviceRevoked = errors.New("device revoked")
	// ErrAlreadyBootstrapped: Bootstrap after the first account exists.
	// It matches app.ErrForbidden.
	ErrAlreadyBootstrapped = forbidden("bootstrap: accounts exist already")
	// ErrAlreadyRunning: another process holds auth.db open.
	ErrAlreadyRunning = errors.New("auth database is already open in another process")
	// ErrTooNew: auth.db was written by a newer version of the server.
	ErrTooNew = errors.New("auth database was written by a newer version")
)

// TooManyAttemptsError is returned while an account is locked after too
// many failures; Until is when the next attempt is allowed. It matches
// app.ErrForbidden, and app.SignInMessage knows it.
type TooManyAttemptsError = app.TooManyAttemptsError

type forbiddenError string

func forbidden(s string) error                { return forbiddenError(s) }
func (e forbiddenError) Error() string        { return string(e) }
func (e forbiddenError) Is(target error) bool { return target == app.ErrForbidden }

// Code returns the stable code of err for an API response: the codes of
// app.Code plus "too_many_attempts", "totp_required", "token_expired",
// "token_invalid", "device_revoked", "device_proof" and
// "challenge_invalid". Suggested HTTP statuses: 401 for bad_credentials,
// totp_required, the token codes and challenge_invalid; 403 for
// device_revoked, device_proof, account_disabled and forbidden; 429 for
// too_many_attempts.
func Code(err error) string {
	var tm *TooManyAttemptsError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &tm):
		return "too_many_attempts"
	case errors.Is(err, ErrTOTPRequired):
		return "totp_required"
	case errors.Is(err, ErrTokenExpired):
		return "token_expired"
	case errors.Is(err, ErrTokenInvalid):
		return "token_invalid"
	case errors.Is(err, ErrDeviceRevoked):
		return "device_revoked"
	case errors.Is(err, ErrDeviceProof):
		return "device_proof"
	case errors.Is(err, ErrChallenge):
		return "challenge_invalid"
	}
	return app.Code(err)
}
