package server

import (
	"errors"
	"net/http"

	"mottagning/app"
	"mottagning/client"
)

// --- sign-in ---

// staffChallenge hands out a device challenge (docs/sync.md, Devices): a
// desktop signs it with its device key to name its device at sign-in, or
// to adopt a key at a refresh. It costs the server an HMAC and no state,
// so it is not rate-limited (the sign-in that uses it is).
func (s *Server) staffChallenge(w http.ResponseWriter, r *http.Request) {
	db, ok := s.staff.(DeviceBinder)
	if !ok {
		writeErr(w, http.StatusNotFound, codeNotFound, "")
		return
	}
	ch, exp, err := db.Challenge(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.Challenge{Challenge: ch, Expires: exp})
}

func (s *Server) staffSignIn(w http.ResponseWriter, r *http.Request) {
	var req client.StaffSignInRequest
	if !decode(w, r, &req) {
		return
	}
	if s.staff == nil {
		writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
		return
	}
	if s.blocked(r) {
		writeErr(w, http.StatusTooManyRequests, codeTooManyAttempts, "")
		return
	}
	t, err := s.staff.SignIn(r.Context(), StaffSignIn{Username: req.Username, Password: req.Password, TOTP: req.TOTP,
		RecoveryCode: req.RecoveryCode, DeviceID: req.DeviceID, DeviceName: req.DeviceName,
		DeviceKey: req.DeviceKey, Challenge: req.Challenge, DeviceProof: req.DeviceProof})
	if err != nil {
		if !errors.Is(err, ErrTOTPRequired) && app.Code(err) != codeInternal {
			s.failed(r) // the password was right when the code is asked for
		}
		s.failAuth(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireTokens(t))
}

// staffRefresh exchanges a refresh token; with a device key and its proof
// it also adopts the key for a device registered before keys.
func (s *Server) staffRefresh(w http.ResponseWriter, r *http.Request) {
	var req client.RefreshRequest
	if !decode(w, r, &req) {
		return
	}
	if s.staff == nil || req.RefreshToken == "" {
		writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
		return
	}
	var t *StaffTokens
	var err error
	if db, ok := s.staff.(DeviceBinder); ok && req.DeviceKey != nil {
		t, err = db.RefreshDevice(r.Context(), req.RefreshToken,
			&StaffKeyProof{PublicKey: req.DeviceKey, Challenge: req.Challenge, Signature: req.DeviceProof})
	} else {
		t, err = s.staff.Refresh(r.Context(), req.RefreshToken)
	}
	var revoked *DeviceRevokedError
	if err != nil {
		s.failed(r)
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, wireTokens(t))
	case errors.As(err, &revoked), errors.Is(err, ErrDeviceProof), errors.Is(err, ErrChallenge):
		// The refresh token was the device's: it is told why.
		s.failAuth(w, r, err)
	default:
		// A refused refresh token is never the caller's bad input: it is
		// expired, revoked or forged. Only a broken database is internal.
		if app.Code(err) == codeInternal && !errors.Is(err, ErrUnauthenticated) {
			s.log.Error("staff refresh failed", "err", err)
		}
		writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
	}
}

// failAuth is fail with the errors of device binding: a revoked device
// is told why, a missing proof and a stale challenge have codes of their
// own. The reason of a revocation is in the answer, never in a log line.
func (s *Server) failAuth(w http.ResponseWriter, r *http.Request, err error) {
	var revoked *DeviceRevokedError
	switch {
	case errors.As(err, &revoked):
		writeRevoked(w, revoked)
	case errors.Is(err, ErrDeviceProof):
		writeErr(w, ErrorCodes[codeDeviceProof].Status, codeDeviceProof, "")
	case errors.Is(err, ErrChallenge):
		writeErr(w, ErrorCodes[codeChallenge].Status, codeChallenge, "")
	default:
		s.fail(w, r, err)
	}
}

// writeRevoked answers a revoked device: 403 "device_revoked" with when and why.
func writeRevoked(w http.ResponseWriter, e *DeviceRevokedError) {
	info := ErrorCodes[codeDeviceRevoked]
	writeJSON(w, info.Status, client.Error{Code: codeDeviceRevoked, Message: info.Message,
		Revocation: &client.Revocation{Reason: e.Reason, RevokedAt: e.At}})
}

// blocked asks the StaffAuth's limiter whether the client's address has
// used up its failed sign-ins; failed counts one.
func (s *Server) blocked(r *http.Request) bool {
	rl, ok := s.staff.(RateLimiter)
	return ok && rl.Blocked(clientAddr(r, s.trusted))
}

func (s *Server) failed(r *http.Request) {
	if rl, ok := s.staff.(RateLimiter); ok {
		rl.Failed(clientAddr(r, s.trusted))
	}
}

func wireTokens(t *StaffTokens) client.Tokens {
	return client.Tokens{AccessToken: t.Access, RefreshToken: t.Refresh, AccessExpires: t.AccessExpires,
		RefreshExpires: t.RefreshExpires, DeviceID: string(t.DeviceID), DeviceKeyBound: t.KeyBound}
}

// staffSignOut ends the caller's session on their device: its tokens stop
// at once. The device is not revoked (that is an administrator's act,
// devices.go): a colleague's session on it and its queued changes stay.
func (s *Server) staffSignOut(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	if err := s.staff.SignOut(r.Context(), c); err != nil {
		s.failAuth(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) staffMe(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	me := client.StaffMe{StaffID: string(c.StaffID), DeviceID: string(c.DeviceID), Username: c.Username, Roles: map[string][]string{}, Expires: c.Expires,
		TOTPEnrollmentRequired: c.NeedsTOTP}
	for clinic, roles := range c.Roles {
		for _, role := range roles {
			me.Roles[string(clinic)] = append(me.Roles[string(clinic)], string(role))
		}
	}
	for _, role := range c.RegionRoles {
		me.RegionRoles = append(me.RegionRoles, string(role))
	}
	writeJSON(w, http.StatusOK, me)
}
