// Package connect prepares a connected desktop's link to its central
// server (docs/sync.md, Operations): the server's address, how its
// certificate is trusted (a pinned SHA-256 fingerprint, or the system's
// trusted CAs for a CA-issued certificate), an administrator's re-pin
// after the server's certificate was replaced, and the rotation the
// server announces (Pins). The desktop's main only calls it, so that all
// of it is tested without cgo.
package connect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	neturl "net/url"
	"strings"
	stdsync "sync"
	"time"

	"mottagning/app"
	"mottagning/client"
	"mottagning/storage"
	msync "mottagning/sync"
)

// Store is what connecting needs of the desktop's database
// (storage.Store).
type Store interface {
	IsDemo() bool
	SyncServer() (url, pin string)
	SetSyncServer(ctx context.Context, url, pin string) error
	SetSyncPin(ctx context.Context, pin string) error
	SyncNextPin() []byte
	SetSyncNextPin(ctx context.Context, raw []byte) error
}

// Config is what the command line says.
type Config struct {
	// URL is --server ("" : the stored one).
	URL string
	// Pin is --server-pin ("" : the stored one, or trust at the first
	// connect).
	Pin string
	// Repin is --repin: Pin replaces the stored pin (the server's
	// certificate was replaced); the data and the queue stay.
	Repin bool
	// RootCAs verifies a CA-issued certificate (nil: the system's).
	RootCAs *x509.CertPool
	// CAOnly: without a pin, only a certificate the CAs vouch for is
	// taken, never the one presented now (the start screen's server
	// choice, where nobody reads a printed fingerprint).
	CAOnly bool
	// Out receives the fingerprint of a first connect (stderr).
	Out io.Writer
	Log *slog.Logger
}

// Connect checks and stores the server's address and the trust in its
// certificate, and returns a client for it. Errors are Swedish messages
// for the user. A server that cannot be reached now is no error (the
// desktop works offline), except at the very first connect.
//
// How the certificate is trusted:
//   - a stored or given pin: exactly that certificate;
//   - at the first connect without a pin: the system's trusted CAs when
//     the certificate verifies against them for the address's host
//     (stored as no pin), otherwise the certificate presented now
//     (trust on first use, its fingerprint printed for comparison);
//   - a changed certificate is refused, unless it is the one the server
//     announced, signed with the pinned certificate's key (Pins), or an
//     administrator re-pins with --repin.
func Connect(ctx context.Context, store Store, cfg Config) (*client.Client, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if store.IsDemo() {
		return nil, errors.New("Det här är en demodatabas, och en demodatabas kan aldrig anslutas till en server. Välj en annan datakatalog med --data.")
	}
	storedURL, storedPin := store.SyncServer()
	url, err := ServerURL(cfg.URL, storedURL)
	if err != nil {
		return nil, err
	}
	if cfg.Repin && cfg.Pin == "" {
		return nil, errors.New("--repin kräver --server-pin med serverns nya fingeravtryck (64 hexadecimala tecken).")
	}
	pin := storedPin
	if cfg.Pin != "" {
		p, err := client.ParseFingerprint(cfg.Pin)
		if err != nil {
			return nil, errors.New("--server-pin ska vara serverns SHA-256-fingeravtryck (64 hexadecimala tecken).")
		}
		flagPin := fmt.Sprintf("%x", p)
		if storedPin != "" && flagPin != storedPin && !cfg.Repin {
			return nil, errors.New(msync.Message(msync.ErrPinMismatch) +
				" Om serverns certifikat har bytts ut avsiktligt kan IT-supporten starta programmet med --server-pin NYTT-FINGERAVTRYCK --repin; inget på datorn går förlorat.")
		}
		pin = flagPin
	}
	if cfg.Repin && storedURL != "" && pin != storedPin {
		return repin(ctx, store, url, storedPin, pin, cfg)
	}
	if storedURL == "" && pin == "" {
		return first(ctx, store, url, cfg)
	}
	if storedURL == "" {
		return firstPinned(ctx, store, url, pin, cfg)
	}
	if url != storedURL || pin != storedPin {
		if err := save(ctx, store, url, pin); err != nil {
			return nil, err
		}
	}
	c, err := client.New(url, client.Options{PinSHA256: pin, RootCAs: cfg.RootCAs})
	if err != nil {
		return nil, fmt.Errorf("Serverns adress %s är inte giltig: ange https://värd:port.", url)
	}
	err = c.Healthz(ctx)
	if errors.Is(err, client.ErrPinMismatch) {
		// The server may have switched to the certificate it announced.
		p := &Pins{Store: store, Client: c, Log: cfg.Log}
		if ok, rerr := p.Repin(ctx); ok {
			return c, nil
		} else if rerr != nil {
			cfg.Log.Warn("server certificate changed; no rotation applies", "err", rerr)
		}
		cfg.Log.Error("server certificate changed", "server", url)
		return nil, errors.New(msync.Message(err) +
			" Om serverns certifikat har bytts ut avsiktligt kan IT-supporten starta programmet med --server-pin NYTT-FINGERAVTRYCK --repin; inget på datorn går förlorat.")
	}
	if pin == "" && verifyFailed(err) {
		cfg.Log.Error("server certificate not trusted", "server", url, "err", err)
		return nil, fmt.Errorf("Serverns certifikat kan inte verifieras mot datorns betrodda certifikatutfärdare (%s). "+
			"Kontakta IT-supporten: med --server-pin FINGERAVTRYCK litar datorn i stället på just serverns certifikat.", url)
	}
	if err != nil {
		cfg.Log.Info("server not reachable now; working offline", "server", url)
	}
	return c, nil
}

// first is the first connect: the system's CAs if they vouch for the
// server, otherwise trust on first use.
func first(ctx context.Context, store Store, url string, cfg Config) (*client.Client, error) {
	ca, err := client.New(url, client.Options{RootCAs: cfg.RootCAs})
	if err != nil {
		return nil, fmt.Errorf("Serverns adress %s är inte giltig: ange https://värd:port.", url)
	}
	err = ca.Healthz(ctx)
	if err == nil {
		fmt.Fprintf(cfg.Out, "Ansluter till %s. Serverns certifikat är utfärdat av en certifikatutfärdare som datorn litar på och kontrolleras så vid varje anslutning.\n", url)
		if err := save(ctx, store, url, ""); err != nil {
			return nil, err
		}
		return ca, nil
	}
	ca.CloseIdle()
	if !verifyFailed(err) {
		cfg.Log.Error("first connect", "err", err)
		return nil, fmt.Errorf("Servern %s kan inte nås. Första anslutningen kräver kontakt med servern; försök igen när datorn är ansluten.", url)
	}
	if cfg.CAOnly {
		cfg.Log.Info("first connect: certificate not issued by a trusted CA; a fingerprint is needed", "server", url)
		return nil, fmt.Errorf("Serverns certifikat är inte utfärdat av en certifikatutfärdare som datorn litar på (%s). "+
			"Skriv certifikatets fingeravtryck, så som IT har gett dig det.", url)
	}
	fp, err := client.FetchFingerprint(ctx, url)
	if err != nil {
		cfg.Log.Error("first connect", "err", err)
		return nil, fmt.Errorf("Servern %s kan inte nås. Första anslutningen kräver kontakt med servern; försök igen när datorn är ansluten.", url)
	}
	fmt.Fprintf(cfg.Out, "Ansluter till %s. Serverns certifikat har fingeravtrycket\n  %s\n"+
		"Jämför det med fingeravtrycket som servern skrev ut när den startade. Certifikatet sparas och kontrolleras vid varje anslutning.\n", url, fp)
	if err := save(ctx, store, url, fp); err != nil {
		return nil, err
	}
	c, err := client.New(url, client.Options{PinSHA256: fp})
	if err != nil {
		return nil, fmt.Errorf("Serverns adress %s är inte giltig: ange https://värd:port.", url)
	}
	return c, nil
}

// firstPinned is the first connect with a fingerprint given: nothing is
// stored until the server at that address presents exactly that
// certificate, so a mistyped address or fingerprint is corrected by
// simply trying again (nothing on the computer is bound to it yet).
func firstPinned(ctx context.Context, store Store, url, pin string, cfg Config) (*client.Client, error) {
	c, err := client.New(url, client.Options{PinSHA256: pin, RootCAs: cfg.RootCAs})
	if err != nil {
		return nil, fmt.Errorf("Serverns adress %s är inte giltig: ange https://värd:port.", url)
	}
	err = c.Healthz(ctx)
	if errors.Is(err, client.ErrPinMismatch) {
		c.CloseIdle()
		cfg.Log.Warn("first connect: the server presents another certificate than the fingerprint given", "server", url)
		return nil, fmt.Errorf("Servern %s visar ett annat certifikat än fingeravtrycket du angav. "+
			"Kontrollera fingeravtrycket (och adressen) med IT och försök igen; inget har sparats på datorn.", url)
	}
	if err != nil {
		c.CloseIdle()
		cfg.Log.Error("first connect", "server", url, "err", err)
		return nil, fmt.Errorf("Servern %s kan inte nås. Första anslutningen kräver kontakt med servern; "+
			"kontrollera adressen och försök igen när datorn är ansluten. Inget har sparats på datorn.", url)
	}
	if err := save(ctx, store, url, pin); err != nil {
		c.CloseIdle()
		return nil, err
	}
	return c, nil
}

// repin is an administrator's --repin: the new pin replaces the stored
// one when the server presents it (or cannot be reached now: the
// administrator compared it with the server's); the database, its token
// and its queued changes stay, and are pushed at the next sync.
func repin(ctx context.Context, store Store, url, old, pin string, cfg Config) (*client.Client, error) {
	c, err := client.New(url, client.Options{PinSHA256: pin})
	if err != nil {
		return nil, fmt.Errorf("Serverns adress %s är inte giltig: ange https://värd:port.", url)
	}
	err = c.Healthz(ctx)
	if errors.Is(err, client.ErrPinMismatch) {
		c.CloseIdle()
		return nil, fmt.Errorf("Servern %s visar inte certifikatet med fingeravtrycket %s. Kontrollera fingeravtrycket som servern skrev ut när den startade; inget ändrades på datorn.", url, pin)
	}
	if err := store.SetSyncPin(ctx, pin); err != nil {
		return nil, fmt.Errorf("Det nya fingeravtrycket kunde inte sparas (%v).", err)
	}
	cfg.Log.Info("server certificate re-pinned by an administrator", "server", url, "old", old, "new", pin, "reachable", err == nil)
	fmt.Fprintf(cfg.Out, "Serverns certifikat med fingeravtrycket\n  %s\nanvänds från och med nu. Ändringar som väntar skickas vid nästa synkronisering.\n", pin)
	return c, nil
}

func save(ctx context.Context, store Store, url, pin string) error {
	if err := store.SetSyncServer(ctx, url, pin); err != nil {
		if errors.Is(err, storage.ErrDemoNotConnectable) {
			return errors.New("En demodatabas kan aldrig anslutas till en server.")
		}
		return fmt.Errorf("Serverns adress kunde inte sparas (%v).", err)
	}
	return nil
}

// verifyFailed: the server answered with a certificate the system's CAs
// do not vouch for (unknown issuer, wrong host name, expired).
func verifyFailed(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// Pins keeps a pinned desktop's pin current across a rotation of the
// server's certificate (msync.CertPins): it fetches and keeps the
// server's signed announcement of its next certificate, and moves the
// pin when the server presents exactly that certificate.
type Pins struct {
	Store  Store
	Client *client.Client
	Clock  app.Clock
	Log    *slog.Logger
	// Every is how often Check asks the server (default 1 h): a rotation
	// is announced days ahead.
	Every time.Duration

	mu    stdsync.Mutex
	asked time.Time
}

var _ msync.CertPins = (*Pins)(nil)

func (p *Pins) now() time.Time {
	if p.Clock == nil {
		return time.Now()
	}
	return p.Clock.Now()
}

func (p *Pins) log() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

// Check asks the server for its announcement (at most every Every) and
// stores it when it is signed by the pinned certificate's key.
func (p *Pins) Check(ctx context.Context) {
	_, pin := p.Store.SyncServer()
	if pin == "" {
		return // a CA-issued certificate: renewals need nothing
	}
	every := p.Every
	if every <= 0 {
		every = time.Hour
	}
	p.mu.Lock()
	if !p.asked.IsZero() && p.now().Sub(p.asked) < every {
		p.mu.Unlock()
		return
	}
	p.asked = p.now()
	p.mu.Unlock()
	np, err := p.Client.NextPin(ctx)
	if err != nil || np == nil {
		return
	}
	next, err := msync.VerifyNextPin(np, pin, p.now())
	if err != nil {
		p.log().Warn("server announces a next certificate that is not valid", "err", err)
		return
	}
	raw, _ := json.Marshal(np)
	if string(raw) == string(p.Store.SyncNextPin()) {
		return
	}
	if err := p.Store.SetSyncNextPin(ctx, raw); err != nil {
		p.log().Error("store the server's next certificate", "err", err)
		return
	}
	p.log().Info("server announces its next certificate", "next", next, "until", np.NotAfter)
}

// Repin moves the pin to the certificate the server presents now when
// an announcement signed by the pinned certificate's key names it: the
// stored one, or one the server serves (a desktop offline while the
// rotation was announced). It reports whether it moved the pin.
func (p *Pins) Repin(ctx context.Context) (bool, error) {
	url, pin := p.Store.SyncServer()
	if pin == "" || url == "" {
		return false, nil
	}
	presented, served, err := client.PresentedNextPin(ctx, url)
	if err != nil {
		return false, err
	}
	if presented == pin {
		return false, nil // not a change of certificate after all
	}
	var candidates []*msync.NextPin
	if raw := p.Store.SyncNextPin(); raw != nil {
		var np msync.NextPin
		if json.Unmarshal(raw, &np) == nil {
			candidates = append(candidates, &np)
		}
	}
	if served != nil {
		candidates = append(candidates, served)
	}
	var why error = errors.New("no announcement of the presented certificate")
	for _, np := range candidates {
		next, err := msync.VerifyNextPin(np, pin, p.now())
		if err != nil {
			why = err
			continue
		}
		if next != presented {
			why = fmt.Errorf("the server presents %s, the announcement names %s", presented, next)
			continue
		}
		if err := p.Store.SetSyncPin(ctx, next); err != nil {
			return false, fmt.Errorf("store the new pin: %w", err)
		}
		if err := p.Client.SetPin(next); err != nil {
			return false, err
		}
		p.log().Info("server certificate rotated as announced", "old", pin, "new", next)
		return true, nil
	}
	return false, why
}

// ServerURL is the address to connect to: the --server flag, or without
// it the one stored at the first connect. Both are checked
// (client.CheckServerURL): a desktop never talks to its server without
// https, not even at an address an earlier version stored. Such a stored
// address gives way to an https one of the same host given with --server
// (the pinned certificate is still checked at every connection); any other
// server than the stored one is refused, as before. Errors are Swedish
// messages; they never show a password an address may hold.
func ServerURL(flag, stored string) (string, error) {
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
