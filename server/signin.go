package server

import (
	"errors"
	"net"
	"net/http"

	"mottagning/app"
	"mottagning/client"
)

// --- sign-in ---

func (s *Server) staffSignIn(w http.ResponseWriter, r *http.Request) {
	var req client.StaffSignInRequest
	if !decode(w, r, &req) {
		return
	}
	if s.staff == nil {
		writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
		return
	}
	if !s.allow(r) {
		writeErr(w, http.StatusTooManyRequests, codeTooManyAttempts, "")
		return
	}
	t, err := s.staff.SignIn(r.Context(), StaffSignIn{Username: req.Username, Password: req.Password, TOTP: req.TOTP,
		RecoveryCode: req.RecoveryCode, DeviceID: req.DeviceID, DeviceName: req.DeviceName})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireTokens(t))
}

func (s *Server) staffRefresh(w http.ResponseWriter, r *http.Request) {
	var req client.RefreshRequest
	if !decode(w, r, &req) {
		return
	}
	if s.staff == nil || req.RefreshToken == "" {
		writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
		return
	}
	if !s.allow(r) {
		writeErr(w, http.StatusTooManyRequests, codeTooManyAttempts, "")
		return
	}
	t, err := s.staff.Refresh(r.Context(), req.RefreshToken)
	if err != nil {
		// A refused refresh token is never the caller's bad input: it is
		// expired, revoked or forged. Only a broken database is internal.
		if app.Code(err) == codeInternal && !errors.Is(err, ErrUnauthenticated) {
			s.log.Error("staff refresh failed", "err", err)
		}
		writeErr(w, http.StatusUnauthorized, codeUnauthenticated, "")
		return
	}
	writeJSON(w, http.StatusOK, wireTokens(t))
}

// allow asks the StaffAuth's rate limiter, keyed by the client's IP address.
func (s *Server) allow(r *http.Request) bool {
	rl, ok := s.staff.(RateLimiter)
	if !ok {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return rl.Allow(host)
}

func wireTokens(t *StaffTokens) client.Tokens {
	return client.Tokens{AccessToken: t.Access, RefreshToken: t.Refresh, AccessExpires: t.AccessExpires,
		RefreshExpires: t.RefreshExpires, DeviceID: string(t.DeviceID)}
}

// staffSignOut revokes the caller's device: its tokens stop working.
func (s *Server) staffSignOut(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	if err := s.staff.RevokeDevice(r.Context(), c); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) staffMe(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	me := client.StaffMe{StaffID: string(c.StaffID), DeviceID: string(c.DeviceID), Username: c.Username, Roles: map[string][]string{}, Expires: c.Expires}
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
