package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mottagning/app"
	"mottagning/server"
	"mottagning/server/staffauth"
)

// authFile is the staff accounts' database in the data directory.
const authFile = "auth.db"

// staffAuth adapts *staffauth.Service to server.StaffAuth: the server
// declares the method set it uses with its own types, so that it builds
// without staffauth, and this is the one place that knows both.
type staffAuth struct{ s *staffauth.Service }

var (
	_ server.StaffAuth       = staffAuth{}
	_ server.RateLimiter     = staffAuth{}
	_ server.AccountUnlocker = staffAuth{}
	_ server.TOTPEnroller    = staffAuth{}
	_ server.VerifierSource  = staffAuth{}
	_ server.DeviceKeys      = staffAuth{}
	_ server.DeviceBinder    = staffAuth{}
	_ server.DeviceAdmin     = staffAuth{}
)

func (a staffAuth) SignIn(ctx context.Context, r server.StaffSignIn) (*server.StaffTokens, error) {
	t, err := a.s.SignIn(ctx, staffauth.SignInRequest{Username: r.Username, Password: r.Password, TOTP: r.TOTP,
		RecoveryCode: r.RecoveryCode, DeviceID: app.ID(r.DeviceID), DeviceName: r.DeviceName,
		DeviceKey: r.DeviceKey, Challenge: r.Challenge, DeviceProof: r.DeviceProof})
	if err != nil {
		return nil, authErr(err)
	}
	return tokens(t), nil
}

func (a staffAuth) Refresh(ctx context.Context, refresh string) (*server.StaffTokens, error) {
	t, err := a.s.Refresh(ctx, refresh)
	if err != nil {
		return nil, authErr(err)
	}
	return tokens(t), nil
}

func (a staffAuth) Authenticate(ctx context.Context, access string) (*server.StaffClaims, error) {
	c, err := a.s.Authenticate(ctx, access)
	if err != nil {
		return nil, authErr(err)
	}
	return &server.StaffClaims{StaffID: c.StaffID, DeviceID: c.DeviceID, Username: c.Username, Roles: c.Roles,
		RegionRoles: c.RegionRoles, Expires: c.Expires, NeedsTOTP: c.NeedsTOTP, Raw: c}, nil
}

// SignOut ends the caller's session; the device stays.
func (a staffAuth) SignOut(ctx context.Context, by *server.StaffClaims) error {
	c, err := rawClaims(by, "sign out")
	if err != nil {
		return err
	}
	return authErr(a.s.EndSession(ctx, c))
}

// Challenge implements server.DeviceBinder.
func (a staffAuth) Challenge(ctx context.Context) (string, time.Time, error) {
	ch, exp := a.s.Challenge()
	return ch, exp, nil
}

// RefreshDevice implements server.DeviceBinder.
func (a staffAuth) RefreshDevice(ctx context.Context, refresh string, adopt *server.StaffKeyProof) (*server.StaffTokens, error) {
	var k *staffauth.KeyProof
	if adopt != nil {
		k = &staffauth.KeyProof{PublicKey: adopt.PublicKey, Challenge: adopt.Challenge, Signature: adopt.Signature}
	}
	t, err := a.s.RefreshDevice(ctx, refresh, k)
	if err != nil {
		return nil, authErr(err)
	}
	return tokens(t), nil
}

// Devices implements server.DeviceAdmin.
func (a staffAuth) Devices(ctx context.Context, by *server.StaffClaims) ([]server.StaffDevice, error) {
	c, err := rawClaims(by, "list devices")
	if err != nil {
		return nil, err
	}
	ds, err := a.s.DevicesFor(ctx, c)
	if err != nil {
		return nil, authErr(err)
	}
	return staffDevices(ds), nil
}

// RevokeDevice implements server.DeviceAdmin.
func (a staffAuth) RevokeDevice(ctx context.Context, by *server.StaffClaims, id app.ID, reason string) error {
	c, err := rawClaims(by, "revoke device")
	if err != nil {
		return err
	}
	return authErr(a.s.RevokeDevice(ctx, c, id, reason))
}

func staffDevices(ds []staffauth.Device) []server.StaffDevice {
	out := make([]server.StaffDevice, 0, len(ds))
	for _, d := range ds {
		out = append(out, server.StaffDevice{ID: d.ID, Name: d.Name, RegisteredAt: d.RegisteredAt, RegisteredBy: d.RegisteredBy,
			LastSeen: d.LastSeen, Staff: d.Staff, Keyed: len(d.Key) > 0, Revoked: d.Revoked, RevokedAt: d.RevokedAt,
			RevokedBy: d.RevokedBy, RevokeReason: d.RevokeReason})
	}
	return out
}

// EnrollTOTP implements server.TOTPEnroller.
func (a staffAuth) EnrollTOTP(ctx context.Context, by *server.StaffClaims) (string, string, error) {
	c, err := rawClaims(by, "enroll totp")
	if err != nil {
		return "", "", err
	}
	secret, url, err := a.s.EnrollTOTP(ctx, c)
	return secret, url, authErr(err)
}

// ConfirmTOTP implements server.TOTPEnroller.
func (a staffAuth) ConfirmTOTP(ctx context.Context, by *server.StaffClaims, code string) ([]string, error) {
	c, err := rawClaims(by, "confirm totp")
	if err != nil {
		return nil, err
	}
	codes, err := a.s.ConfirmTOTP(ctx, c, code)
	return codes, authErr(err)
}

// ResetTOTP implements server.TOTPEnroller.
func (a staffAuth) ResetTOTP(ctx context.Context, by *server.StaffClaims, id app.ID) error {
	c, err := rawClaims(by, "reset totp")
	if err != nil {
		return err
	}
	return authErr(a.s.ResetTOTP(ctx, c, id))
}

// UnlockAccount implements server.AccountUnlocker.
func (a staffAuth) UnlockAccount(ctx context.Context, by *server.StaffClaims, id app.ID) error {
	c, err := rawClaims(by, "unlock account")
	if err != nil {
		return err
	}
	return authErr(a.s.UnlockAccount(ctx, c, id))
}

func (a staffAuth) Blocked(key string) bool { return a.s.Blocked(key) }
func (a staffAuth) Failed(key string)       { a.s.Failed(key) }

// Verifier implements server.VerifierSource: the offline-unlock verifier
// a connected desktop caches at sign-in.
func (a staffAuth) Verifier(ctx context.Context, by *server.StaffClaims) (string, error) {
	c, ok := by.Raw.(*staffauth.Claims)
	if !ok {
		return "", fmt.Errorf("verifier: claims of another issuer: %w", app.ErrForbidden)
	}
	return a.s.Verifier(ctx, c)
}

// rawClaims are the staffauth claims behind the server's.
func rawClaims(by *server.StaffClaims, op string) (*staffauth.Claims, error) {
	c, ok := by.Raw.(*staffauth.Claims)
	if !ok {
		return nil, fmt.Errorf("%s: claims of another issuer: %w", op, app.ErrForbidden)
	}
	return c, nil
}

// The device keys (server.DeviceKeys): the escrow of a desktop's data key
// and its access-log signing key.

func (a staffAuth) PutDeviceEscrow(ctx context.Context, by *server.StaffClaims, id string, key, proof []byte) error {
	c, err := rawClaims(by, "put device escrow")
	if err != nil {
		return err
	}
	return authErr(a.s.PutDeviceEscrow(ctx, c, id, key, proof))
}

func (a staffAuth) AddEscrowHolder(ctx context.Context, by *server.StaffClaims, id string, proof []byte) error {
	c, err := rawClaims(by, "add escrow holder")
	if err != nil {
		return err
	}
	return authErr(a.s.AddEscrowHolder(ctx, c, id, proof))
}

func (a staffAuth) ReleaseDeviceEscrow(ctx context.Context, by *server.StaffClaims) (string, []byte, error) {
	c, err := rawClaims(by, "release device escrow")
	if err != nil {
		return "", nil, err
	}
	id, key, err := a.s.ReleaseDeviceEscrow(ctx, c)
	return id, key, authErr(err)
}

func (a staffAuth) RegisterDeviceLogKey(ctx context.Context, by *server.StaffClaims, pub []byte) error {
	c, err := rawClaims(by, "register log key")
	if err != nil {
		return err
	}
	return authErr(a.s.RegisterDeviceLogKey(ctx, c, pub))
}

func (a staffAuth) PutDeviceCheckpoint(ctx context.Context, by *server.StaffClaims, cp *app.Checkpoint) error {
	c, err := rawClaims(by, "put checkpoint")
	if err != nil {
		return err
	}
	return authErr(a.s.PutDeviceCheckpoint(ctx, c, cp))
}

func tokens(t *staffauth.Tokens) *server.StaffTokens {
	return &server.StaffTokens{Access: t.Access, Refresh: t.Refresh, AccessExpires: t.AccessExpires,
		RefreshExpires: t.RefreshExpires, DeviceID: t.DeviceID, KeyBound: t.KeyBound}
}

// authErr maps staffauth's token and device errors to the server's. A
// revocation the device proved is its own keeps its reason and time.
func authErr(err error) error {
	var re *staffauth.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return fmt.Errorf("%w: %w", &server.DeviceRevokedError{Reason: re.Reason, At: re.At}, err)
	case errors.Is(err, staffauth.ErrDeviceProof):
		return fmt.Errorf("%w: %w", server.ErrDeviceProof, err)
	case errors.Is(err, staffauth.ErrChallenge):
		return fmt.Errorf("%w: %w", server.ErrChallenge, err)
	case errors.Is(err, staffauth.ErrTOTPRequired):
		return fmt.Errorf("%w: %w", server.ErrTOTPRequired, err)
	case errors.Is(err, staffauth.ErrTokenExpired), errors.Is(err, staffauth.ErrTokenInvalid), errors.Is(err, staffauth.ErrDeviceRevoked):
		return fmt.Errorf("%w: %w", server.ErrUnauthenticated, err)
	}
	return err
}

// mirrorStaff copies the accounts (names and roles, no secrets) into the
// case database's directory, where the case services look up an assignee
// and staff names. It runs at start; later changes arrive through
// staffauth.Options.OnChange (serve.go).
func mirrorStaff(ctx context.Context, auth *staffauth.Service, dir interface {
	PutStaff(context.Context, *app.Staff) error
}) error {
	all, err := auth.AllStaff(ctx)
	if err != nil {
		return fmt.Errorf("mirror staff: %w", err)
	}
	for i := range all {
		if err := dir.PutStaff(ctx, &all[i]); err != nil {
			return fmt.Errorf("mirror staff %s: %w", all[i].ID, err)
		}
	}
	return nil
}
