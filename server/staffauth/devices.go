package staffauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"mottagning/app"
)

// Revoking devices, and listing them for those who may.
//
// Revocation is an administrator's act, never a side effect of signing out:
// a revoked device's tokens stop, its escrow is deleted, and the changes it
// queued offline can no longer be pushed (the desktop exports them to a
// file, sync/revoked.go). Who may revoke a device (mayRevoke):
//
//   - a region administrator (RoleRegionPermissionAdmin), any device;
//   - a behörighetsadministratör (app.RolePermissionAdmin) of a clinic in
//     which one of the staff who have signed in on the device has a role
//     now (roles as auth.db holds them, not as the caller's token says).
//
// Nobody else: not the staff who used the device (a lost laptop is
// reported to an administrator), and never through a device id alone. The
// server itself revokes a device whose refresh token was used twice, and
// the server's operator (mottagning-server revoke-device, who holds
// auth.db anyway) may revoke any device; both leave RevokedBy empty.

// MaxRevokeReasonLen bounds a revocation's reason, in characters.
const MaxRevokeReasonLen = 200

// ErrRevokeReason: a revocation needs a reason, of at most
// MaxRevokeReasonLen characters, without control characters.
var ErrRevokeReason = &app.FieldError{Field: "reason", Code: "invalid_reason",
	Text: "Ange varför datorn spärras (högst 200 tecken). Orsaken visas för den som använder datorn."}

func cleanReason(r string) (string, error) {
	r = strings.TrimSpace(r)
	if r == "" || len([]rune(r)) > MaxRevokeReasonLen || strings.IndexFunc(r, unicode.IsControl) >= 0 {
		return "", ErrRevokeReason
	}
	return r, nil
}

// revokeDevice marks d revoked and deletes its escrow: a revoked (lost)
// laptop's database stays closed to everyone but the staff who already
// hold a key on it. Its tokens stop at once (Authenticate and Refresh
// check the device); its sessions are kept so that each desktop session
// is told why at its next refresh, which ends it.
func (s *Service) revokeDevice(tx Tx, d *Device, by app.ID, reason string, now time.Time) error {
	d.Revoked, d.RevokedAt, d.RevokedBy, d.RevokeReason = true, now, by, reason
	if err := putDevice(tx, d); err != nil {
		return err
	}
	return deleteEscrow(tx, d.ID)
}

// mayRevoke reports whether admin may revoke d (see the top of the file).
func mayRevoke(tx Tx, admin *app.Staff, d *Device) (bool, error) {
	if isRegionAdmin(admin) {
		return true, nil
	}
	for _, id := range d.Staff {
		a, err := getAccount(tx, id)
		if errors.Is(err, app.ErrNotFound) {
			continue
		} else if err != nil {
			return false, err
		}
		for c, roles := range a.Staff.Roles {
			if len(roles) > 0 && admin.Has(c, app.RolePermissionAdmin) {
				return true, nil
			}
		}
	}
	return false, nil
}

// RevokeDevice revokes a device, giving the reason its users are shown:
// its tokens stop at once, for everyone who signed in on it, its escrow is
// deleted, and it can no longer sign in. Allowed to a region administrator
// and to a behörighetsadministratör of a clinic where someone who signed
// in on it has a role (see the top of the file); others get
// app.ErrForbidden. A missing or too long reason is ErrRevokeReason.
// Revoking a revoked device is fine and keeps the first reason.
func (s *Service) RevokeDevice(ctx context.Context, by *Claims, deviceID app.ID, reason string) error {
	reason, err := cleanReason(reason)
	if err != nil {
		return fmt.Errorf("revoke device %s: %w", deviceID, err)
	}
	now := s.clock.Now()
	err = s.db.Update(func(tx Tx) error {
		admin, err := actingAdmin(tx, by, "revoke device")
		if err != nil {
			return err
		}
		d, err := getDevice(tx, deviceID)
		if err != nil {
			return err
		}
		ok, err := mayRevoke(tx, admin, d)
		if err != nil {
			return err
		}
		if !ok {
			return forbidden("device of staff outside the caller's clinics")
		}
		if d.Revoked {
			return nil
		}
		return s.revokeDevice(tx, d, admin.ID, reason, now)
	})
	if err != nil {
		return fmt.Errorf("revoke device %s: %w", deviceID, err)
	}
	s.forget(nil, []app.ID{deviceID})
	return nil
}

// OperatorRevokeDevice is RevokeDevice by the server's operator (the
// mottagning-server command, on the machine that holds auth.db), who
// needs no staff account: RevokedBy stays empty.
func (s *Service) OperatorRevokeDevice(ctx context.Context, deviceID app.ID, reason string) error {
	reason, err := cleanReason(reason)
	if err != nil {
		return fmt.Errorf("revoke device %s: %w", deviceID, err)
	}
	now := s.clock.Now()
	err = s.db.Update(func(tx Tx) error {
		d, err := getDevice(tx, deviceID)
		if err != nil || d.Revoked {
			return err
		}
		return s.revokeDevice(tx, d, "", reason, now)
	})
	if err != nil {
		return fmt.Errorf("revoke device %s: %w", deviceID, err)
	}
	s.forget(nil, []app.ID{deviceID})
	return nil
}

// Devices returns the devices staffID has signed in on, oldest first,
// revoked ones included.
func (s *Service) Devices(ctx context.Context, staffID app.ID) ([]Device, error) {
	var out []Device
	err := s.db.View(func(tx Tx) error {
		prefix := staffDeviceKey(staffID, "")
		c := tx.Bucket(bIdxDevice).Cursor()
		for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
			d, err := getDevice(tx, app.ID(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, *d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("devices of staff %s: %w", staffID, err)
	}
	return out, nil
}

// DevicesFor returns the devices the caller may revoke (RevokeDevice),
// revoked ones included, most recently seen first. Anyone else gets an
// empty list: the list itself is for administrators.
func (s *Service) DevicesFor(ctx context.Context, by *Claims) ([]Device, error) {
	var out []Device
	err := s.db.View(func(tx Tx) error {
		admin, err := actingAdmin(tx, by, "list devices")
		if err != nil {
			return err
		}
		return forEachDevice(tx, func(d *Device) error {
			ok, err := mayRevoke(tx, admin, d)
			if ok {
				out = append(out, *d)
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	sortDevices(out)
	return out, nil
}

// AllDevices returns every device, most recently seen first (the
// operator's list).
func (s *Service) AllDevices(ctx context.Context) ([]Device, error) {
	var out []Device
	err := s.db.View(func(tx Tx) error {
		return forEachDevice(tx, func(d *Device) error { out = append(out, *d); return nil })
	})
	if err != nil {
		return nil, fmt.Errorf("all devices: %w", err)
	}
	sortDevices(out)
	return out, nil
}

func forEachDevice(tx Tx, fn func(d *Device) error) error {
	b := tx.Bucket(bDevices)
	return b.ForEach(func(k, _ []byte) error {
		var d Device
		if err := getJSON(b, k, &d); err != nil {
			return err
		}
		return fn(&d)
	})
}

func sortDevices(ds []Device) {
	slices.SortStableFunc(ds, func(a, b Device) int { return b.LastSeen.Compare(a.LastSeen) })
}
