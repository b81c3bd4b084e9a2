package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"os"
	"strings"

	"mottagning/app"
	"mottagning/client"
	"mottagning/storage"
	msync "mottagning/sync"
)

// connectServer prepares connected mode: the server's URL and the pinned
// fingerprint of its certificate (trusted on first connect, or given with
// --server-pin), stored in the database. A demo database, an address that
// is not https (given or stored: serverURL), a server other than the stored
// one, and a changed certificate are refused with a Swedish message. A server that cannot be reached now is no error: the
// desktop works offline (only the very first connect needs it).
func connectServer(ctx context.Context, store *storage.Store, url, pinFlag string) (*client.Client, error) {
	if store.IsDemo() {
		return nil, errors.New("Det här är en demodatabas, och en demodatabas kan aldrig anslutas till en server. Välj en annan datakatalog med --data.")
	}
	storedURL, storedPin := store.SyncServer()
	url, err := serverURL(url, storedURL)
	if err != nil {
		return nil, err
	}
	pin := storedPin
	if pinFlag != "" {
		p, err := client.ParseFingerprint(pinFlag)
		if err != nil {
			return nil, errors.New("--server-pin ska vara serverns SHA-256-fingeravtryck (64 hexadecimala tecken).")
		}
		flagPin := fmt.Sprintf("%x", p)
		if storedPin != "" && flagPin != storedPin {
			return nil, errors.New(msync.Message(msync.ErrPinMismatch))
		}
		pin = flagPin
	}
	if pin == "" {
		fp, err := client.FetchFingerprint(ctx, url)
		if err != nil {
			slog.Error("first connect", "err", err)
			return nil, fmt.Errorf("Servern %s kan inte nås. Första anslutningen kräver kontakt med servern; försök igen när datorn är ansluten.", url)
		}
		fmt.Fprintf(os.Stderr, "Ansluter till %s. Serverns certifikat har fingeravtrycket\n  %s\n"+
			"Jämför det med fingeravtrycket som servern skrev ut när den startade. Certifikatet sparas och kontrolleras vid varje anslutning.\n", url, fp)
		pin = fp
	}
	if url != storedURL || pin != storedPin {
		if err := store.SetSyncServer(ctx, url, pin); err != nil {
			if errors.Is(err, storage.ErrDemoNotConnectable) {
				return nil, errors.New("En demodatabas kan aldrig anslutas till en server.")
			}
			return nil, fmt.Errorf("Serverns adress kunde inte sparas (%v).", err)
		}
	}
	c, err := client.New(url, client.Options{PinSHA256: pin})
	if err != nil {
		return nil, fmt.Errorf("Serverns adress %s är inte giltig: ange https://värd:port.", url)
	}
	if err := c.Healthz(ctx); errors.Is(err, client.ErrPinMismatch) {
		slog.Error("server certificate changed", "server", url)
		return nil, errors.New(msync.Message(err))
	} else if err != nil {
		slog.Info("server not reachable now; working offline", "server", url)
	}
	return c, nil
}

// serverURL is the address to connect to: the --server flag, or without
// it the one stored at the first connect. Both are checked
// (client.CheckServerURL): a desktop never talks to its server without
// https, not even at an address an earlier version stored. Such a stored
// address gives way to an https one of the same host given with --server
// (the pinned certificate is still checked at every connection); any other
// server than the stored one is refused, as before. Errors are Swedish
// messages; they never show a password an address may hold.
func serverURL(flag, stored string) (string, error) {
	want := ""
	if strings.TrimSpace(flag) != "" {
		u, err := client.CheckServerURL(flag)
		if err != nil {
			return "", errors.New(client.ServerURLMessage(err))
		}
		want = u
	}
	if stored == "" {
		return want, nil
	}
	old, err := client.CheckServerURL(stored)
	switch {
	case err == nil && (want == "" || want == old):
		return old, nil
	case err == nil:
		return "", fmt.Errorf("Databasen är ansluten till servern %s, inte %s. Välj en annan datakatalog med --data för att ansluta till en annan server.", old, want)
	case want != "" && hostOf(stored) == hostOf(want):
		slog.Info("stored server address replaced by its https form", "server", want)
		return want, nil
	}
	shown := ""
	if u, perr := neturl.Parse(strings.TrimSpace(stored)); perr == nil && u.Host != "" {
		u.User = nil
		shown = " (" + u.String() + ")"
	}
	return "", fmt.Errorf("Databasen är ansluten till en serveradress som inte använder https%s, och den används inte: "+
		"lösenord och ärenden skulle skickas okrypterade. Starta med --server https://värd:port för samma server.", shown)
}

// hostOf is the host:port of an address in lower case ("" when none).
func hostOf(raw string) string {
	u, err := neturl.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
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
		OnChange: cases.ServerChanged})
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
	return connected{auth: auth, engine: eng, lookup: lookup, audit: audit}, func() { cancel(); <-done }
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
