package app

import (
	"errors"

	"mottagning/app/form"
)

// Sentinel errors of the domain. Services wrap them with the operation and
// record ids (never personal data); the UI maps each kind to a Swedish text
// with errors.Is (see ui). Errors that cross the network later carry Code.
var (
	// ErrNotFound: the record does not exist. Stores return it instead of
	// (nil, nil).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the actor's roles or relationship do not allow this.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid: the input breaks a validation rule (empty text, bad status…).
	ErrInvalid = errors.New("invalid input")
	// ErrUnreachable: the resident cannot receive messages (see Reachability).
	ErrUnreachable = errors.New("resident cannot be reached")
	// ErrNotAnswerable: a reply to an information case (R16).
	ErrNotAnswerable = errors.New("case cannot be answered by the resident")
	// ErrProxyNotAllowed: the guardian may not act for the child (R5, R7, R8, block).
	ErrProxyNotAllowed = errors.New("proxy not allowed")
	// ErrLoginLocked: the resident has locked their login (R10).
	ErrLoginLocked = errors.New("login locked")
	// ErrConflict: the record changed under the caller (e.g. a case closed meanwhile).
	ErrConflict = errors.New("conflict")
	// ErrTemplateRetired: the template was taken out of use; choose another.
	ErrTemplateRetired = errors.New("template retired")
	// ErrChildSignIn: a child under 13 signs in personally (R5, R8); the
	// way in is a guardian in proxy mode.
	ErrChildSignIn = errors.New("child under 13 cannot sign in personally")
)

// Code returns a stable, language-neutral code for an error kind, for APIs
// and logs. Unknown errors give "internal".
func Code(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	case errors.Is(err, ErrNotAnswerable):
		return "not_answerable"
	case errors.Is(err, ErrProxyNotAllowed):
		return "proxy_not_allowed"
	case errors.Is(err, ErrLoginLocked):
		return "login_locked"
	case errors.Is(err, ErrChildSignIn):
		return "child_under_13"
	case errors.Is(err, ErrConflict), errors.Is(err, form.ErrPublished):
		return "conflict"
	case errors.Is(err, form.ErrDefinition), errors.Is(err, form.ErrAnswers), errors.Is(err, form.ErrFHIR):
		return "invalid"
	case errors.Is(err, ErrBadCredentials):
		return "bad_credentials"
	case errors.Is(err, ErrAccountDisabled):
		return "account_disabled"
	}
	return "internal"
}
