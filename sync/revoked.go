package sync

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"mottagning/app"
)

// A revoked desktop (docs/sync.md, Devices). An administrator revoked the
// device; the server answers it "device_revoked" with the reason.

// RevokedError is the server's answer to a revoked device: when, why (the
// administrator's words) and, once the engine exported the queued changes,
// the file. It is app.ErrDeviceRevoked. Error() holds no reason.
type RevokedError struct {
	Reason string
	At     time.Time
	// Export is the file the unpushed changes were written to, "" before.
	Export string
	err    error
}

func (e *RevokedError) Error() string {
	if e.err != nil {
		return "sync: this device is revoked on the server: " + e.err.Error()
	}
	return "sync: this device is revoked on the server"
}

// Unwrap returns the server's answer.
func (e *RevokedError) Unwrap() error { return e.err }

// Is makes a RevokedError app.ErrDeviceRevoked.
func (e *RevokedError) Is(target error) bool { return target == app.ErrDeviceRevoked }

// revocation is a server answer that may say the device is revoked
// (client.Error).
type revocation interface {
	Revoked() (reason string, at time.Time, ok bool)
}

// revokedOf returns the revocation err carries, or nil.
func revokedOf(err error) *RevokedError {
	var re *RevokedError
	if errors.As(err, &re) {
		return re
	}
	var rv revocation
	if errors.As(err, &rv) {
		if reason, at, ok := rv.Revoked(); ok {
			return &RevokedError{Reason: reason, At: at, err: err}
		}
	}
	return nil
}

// message is the Swedish text of a revocation (Message).
func (e *RevokedError) message() string {
	var b strings.Builder
	b.WriteString("Den här datorn är spärrad i servern")
	if r := strings.TrimRight(strings.TrimSpace(e.Reason), "."); r != "" {
		fmt.Fprintf(&b, " (orsak: %s)", r)
	}
	b.WriteString(", så den kan inte längre skicka eller hämta ändringar. ")
	if e.Export != "" {
		fmt.Fprintf(&b, "Ändringar som inte hann skickas till servern har sparats i filen %s. "+
			"Lämna filen till IT-supporten eller behörighetsadministratören, så att ändringarna kan göras på en annan dator. ", e.Export)
	} else {
		b.WriteString("Ändringar som inte hann skickas finns kvar på datorn. ")
	}
	b.WriteString("Kontakta IT-supporten eller behörighetsadministratören.")
	return b.String()
}
