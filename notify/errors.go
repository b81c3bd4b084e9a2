package notify

import (
	"context"
	"errors"
)

// SMSSender sends one SMS of text to a number in E.164 form (+46…).
// Implementations: Kannel (HTTP sendsms) and an HTTP provider API.
type SMSSender interface {
	SendSMS(ctx context.Context, to, text string) error
}

// temporary is implemented by errors that may succeed when retried later
// (4xx from SMTP, 429 or 5xx from a gateway, a dropped connection).
type temporary interface{ Temporary() bool }

// IsTemporary reports whether err (or an error it wraps) says it is
// temporary. Anything else is permanent for that recipient.
func IsTemporary(err error) bool {
	var t temporary
	return errors.As(err, &t) && t.Temporary()
}

// TempError marks an error as temporary.
type TempError struct{ Err error }

func (e *TempError) Error() string   { return e.Err.Error() }
func (e *TempError) Unwrap() error   { return e.Err }
func (e *TempError) Temporary() bool { return true }
