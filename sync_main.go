package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"mottagning/app"
	"mottagning/client"
	"mottagning/client/connect"
	"mottagning/storage"
	msync "mottagning/sync"
	"mottagning/ui"
)

// connectServer prepares connected mode (client/connect.Connect): the
// server's address and the trust in its certificate, stored in the
// database; errors are Swedish messages. repin is --repin: the given pin
// replaces the stored one, keeping the data and the queued changes.
func connectServer(ctx context.Context, store *storage.Store, url, pinFlag string) (*client.Client, error) {
	return connectServerRepin(ctx, store, url, pinFlag, false)
}

// connectChosen is the start screen's server choice on a new computer:
// the fingerprint typed, or none for a certificate the system's CAs
// vouch for (never trust on first use: nobody reads a printed
// fingerprint there).
func connectChosen(ctx context.Context, store *storage.Store, url, pin string) (*client.Client, error) {
	return connect.Connect(ctx, store, connect.Config{URL: url, Pin: pin, CAOnly: true})
}

func connectServerRepin(ctx context.Context, store *storage.Store, url, pinFlag string, repin bool) (*client.Client, error) {
	return connect.Connect(ctx, store, connect.Config{URL: url, Pin: pinFlag, Repin: repin, Out: os.Stderr})
}

// connected is what a connected desktop adds to the window: the sign-in,
// the engine (status bar, Ändringar) and the resident lookup that asks the
// server for a resident never seen on this device.
type connected struct {
	auth   app.Authenticator
	engine *msync.Engine
	lookup *msync.Lookup
	// audit reads the clinic's access log on the server (granskare).
	audit *msync.AuditLog
	// second enrols the staff member's authenticator app on the server.
	second secondFactor
	// contact is the kontaktcenter's lock and unlock, on the server.
	contact remoteContact
}

// remoteContact is ui.ContactCenter over the server's region routes: a
// lock must take effect for the resident at once, so it is never queued;
// without the server nothing changes (ui.ErrServerUnreachable). The
// server's refusals become app's errors, which the screen words.
type remoteContact struct {
	c      *client.Client
	tokens *msync.Tokens
}

func (r remoteContact) FindResident(ctx context.Context, st *app.Staff, pnr string) (*app.ContactView, error) {
	tok, err := r.tokens.Token(ctx)
	if err != nil {
		return nil, contactError(err)
	}
	v, err := r.c.RegionFind(ctx, tok, pnr)
	if err != nil {
		return nil, contactError(err)
	}
	return v.App()
}

func (r remoteContact) SetLoginLock(ctx context.Context, st *app.Staff, req app.LockRequest) (*app.ContactView, error) {
	tok, err := r.tokens.Token(ctx)
	if err != nil {
		return nil, contactError(err)
	}
	v, err := r.c.RegionLock(ctx, tok, client.RegionResidentRequest{Personnummer: req.PNR, On: req.Locked,
		IdentityCheck: string(req.Check), Reason: string(req.Reason)})
	if err != nil {
		return nil, contactError(err)
	}
	return v.App()
}

func contactError(err error) error {
	if msync.Offline(err) || errors.Is(err, msync.ErrSignInNeeded) {
		return fmt.Errorf("%w: %w", ui.ErrServerUnreachable, err)
	}
	for code, kind := range map[string]error{"forbidden": app.ErrForbidden, "invalid": app.ErrInvalid,
		"not_found": app.ErrNotFound, "conflict": app.ErrConflict} {
		if client.Code(err) == code {
			return fmt.Errorf("%w: %w", kind, err)
		}
	}
	return err
}

// secondFactor is ui.SecondFactor over the server's enrolment endpoints,
// with the signed-in staff member's token; the server's refusals become
// app's errors, which the dialog words.
type secondFactor struct {
	c      *client.Client
	tokens *msync.Tokens
}

func (s secondFactor) EnrollTOTP(ctx context.Context) (string, []byte, error) {
	tok, err := s.tokens.Token(ctx)
	if err != nil {
		return "", nil, err
	}
	en, err := s.c.EnrollTOTP(ctx, tok)
	if err != nil {
		return "", nil, totpError(err)
	}
	return en.Secret, en.QRPNG, nil
}

func (s secondFactor) ConfirmTOTP(ctx context.Context, code string) ([]string, error) {
	tok, err := s.tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := s.c.ConfirmTOTP(ctx, tok, code)
	return codes, totpError(err)
}

func totpError(err error) error {
	switch client.Code(err) {
	case "":
		return err
	case "conflict":
		return fmt.Errorf("%w: %w", app.ErrConflict, err)
	case "bad_credentials":
		return fmt.Errorf("%w: %w", app.ErrBadCredentials, err)
	}
	return err
}

// startSync builds the connected desktop's sign-in (online at the first
// sign-in on this device, offline against the cached verifier later; a
// staff member new to the device gets the data key through the device
// escrow, and the device's keys are registered with the server) and
// starts the sync engine. The returned stop ends it and waits.
//
// What the engine writes reaches the case lists through
// cases.ServerChanged, which also decides when a new reply raises the
// desktop alert (the one path: the window sets it with SetReplyAlert).
func startSync(ctx context.Context, store *storage.Store, c *client.Client, cases *app.CaseService, clock app.Clock,
	ring app.Keyring, keyringError func(error)) (connected, func()) {
	tokens := &msync.Tokens{Remote: c, Store: store, Clock: clock}
	host, _ := os.Hostname()
	eng := msync.New(msync.Options{Replica: store, Remote: c, Tokens: tokens, DeviceID: store.SyncDevice(), Clock: clock,
		OnChange: cases.ServerChanged, Pins: &connect.Pins{Store: store, Client: c, Clock: clock}})
	store.OnQueued(eng.Kick)
	remote := &msync.RemoteAuth{Remote: c, Local: app.NewLocalAuth(store, store, clock), Store: store, Tokens: tokens, DeviceName: host, Clock: clock,
		Keys: &msync.DeviceKeys{Server: c, Store: store}}
	auth := kickingAuth{Authenticator: app.UnlockingAuth{Auth: remote, Store: store, Keyring: ring, KeyringError: keyringError}, kick: eng.Kick}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := eng.Serve(sctx); err != nil && !errors.Is(err, context.Canceled) {
			slog.Error("sync stopped", "err", err)
		}
	}()
	lookup := &msync.Lookup{Cases: cases, Remote: c, Tokens: tokens, Store: store}
	audit := &msync.AuditLog{AuditService: app.NewAuditService(store, clock), Remote: c, Tokens: tokens, Log: slog.Default()}
	return connected{auth: auth, engine: eng, lookup: lookup, audit: audit, second: secondFactor{c: c, tokens: tokens},
			contact: remoteContact{c: c, tokens: tokens}},
		func() { cancel(); <-done }
}

// kickingAuth wakes the sync engine after a sign-in: the store is
// unlocked and a token may be there now.
type kickingAuth struct {
	app.Authenticator
	kick func()
}

func (a kickingAuth) SignIn(ctx context.Context, username, password string) (*app.Staff, error) {
	st, err := a.Authenticator.SignIn(ctx, username, password)
	if err == nil {
		a.kick()
	}
	return st, err
}
