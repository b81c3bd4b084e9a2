package server

import (
	"context"
	"net/http"
	"time"

	"mottagning/app"
	"mottagning/client"
)

// Device administration (docs/sync.md, Devices). Revoking a device is an
// administrator's act: a region administrator, or a behörighetsadministratör
// of a clinic where someone who used the device has a role (the StaffAuth
// decides, from its own records). Signing out never revokes.
//
//	GET  /api/staff/devices                the devices the caller may revoke
//	POST /api/staff/devices/{device}/revoke  {"reason": "..."} → 204

// StaffDevice is a registered device as an administrator sees it.
type StaffDevice struct {
	ID           app.ID
	Name         string
	RegisteredAt time.Time
	RegisteredBy app.ID
	LastSeen     time.Time
	Staff        []app.ID
	// Keyed: the device proves itself with a key (registered before keys
	// otherwise; its id then names nothing).
	Keyed        bool
	Revoked      bool
	RevokedAt    time.Time
	RevokedBy    app.ID
	RevokeReason string
}

// DeviceAdmin is implemented by a StaffAuth that lets administrators list
// and revoke devices.
type DeviceAdmin interface {
	// Devices lists the devices the caller may revoke.
	Devices(ctx context.Context, by *StaffClaims) ([]StaffDevice, error)
	// RevokeDevice revokes a device with a reason its users are shown:
	// app.ErrForbidden for a caller who may not, app.ErrInvalid (a
	// FieldError) without a reason.
	RevokeDevice(ctx context.Context, by *StaffClaims, id app.ID, reason string) error
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request, da DeviceAdmin, c *StaffClaims) {
	ds, err := da.Devices(r.Context(), c)
	if err != nil {
		s.failAuth(w, r, err)
		return
	}
	out := make([]client.Device, 0, len(ds))
	for i := range ds {
		d := &ds[i]
		cd := client.Device{ID: string(d.ID), Name: d.Name, RegisteredAt: d.RegisteredAt, RegisteredBy: string(d.RegisteredBy),
			LastSeen: d.LastSeen, Keyed: d.Keyed, Revoked: d.Revoked, RevokedAt: d.RevokedAt, RevokedBy: string(d.RevokedBy),
			RevokeReason: d.RevokeReason, Staff: make([]string, 0, len(d.Staff))}
		for _, st := range d.Staff {
			cd.Staff = append(cd.Staff, string(st))
		}
		out = append(out, cd)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeDevice(w http.ResponseWriter, r *http.Request, da DeviceAdmin, c *StaffClaims) {
	var req client.RevokeDeviceRequest
	if !decode(w, r, &req) {
		return
	}
	id := app.ID(r.PathValue("device"))
	if err := da.RevokeDevice(r.Context(), c, id, req.Reason); err != nil {
		s.failAuth(w, r, err)
		return
	}
	// Ids only: the reason is an administrator's free text.
	s.log.Info("device revoked", "device", id, "by", c.StaffID)
	w.WriteHeader(http.StatusNoContent)
}
