package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"mottagning/client"
	msync "mottagning/sync"
)

// The rotation of the server's certificate (docs/sync.md, Operations):
// desktops pin the certificate's SHA-256, so a new certificate is
// announced first. `rotate-cert` makes the next certificate beside the
// current one and writes the announcement (msync.NextPin: the next
// fingerprint signed with the current key), which the server serves at
// GET /api/sync/next-pin from then on, running or not; desktops keep it
// at their next sync. `rotate-cert --switch`, with the server stopped,
// makes the next certificate the current one; the server keeps serving
// the announcement until it ends, so desktops that were offline follow
// too. Desktops that miss it are re-pinned by an administrator
// (mottagning --server-pin FP --repin).
const (
	nextCertFile = "tls-next-cert.pem"
	nextKeyFile  = "tls-next-key.pem"
	prevCertFile = "tls-prev-cert.pem"
	prevKeyFile  = "tls-prev-key.pem"
	nextPinFile  = "tls-next-pin.json"

	// defaultAnnounce is how long an announcement holds: long enough for
	// every desktop to sync once (holidays), short enough that an old
	// announcement does not linger.
	defaultAnnounce = 60 * 24 * time.Hour
)

// rotateCert prepares the next certificate (and announces it), or with
// --switch makes it the current one.
func rotateCert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir string
	var doSwitch bool
	var days int
	flags := flagSet("rotate-cert", stderr, &dir)
	flags.BoolVar(&doSwitch, "switch", false, "make the prepared next certificate the current one (the server must be stopped; start it afterwards)")
	flags.IntVar(&days, "days", int(defaultAnnounce/(24*time.Hour)), "how many `days` desktops may switch to the next certificate")
	flags.Usage = func() {
		fmt.Fprint(stderr, `usage: mottagning-server rotate-cert --data DIR [--days N]
       mottagning-server rotate-cert --data DIR --switch

Rotates the server's self-signed certificate without stopping pinned desktops:
  1. rotate-cert makes the next certificate (tls-next-cert.pem) beside the
     current one and announces its fingerprint, signed with the current key
     (tls-next-pin.json, served at GET /api/sync/next-pin). The server may run.
  2. Wait until every desktop has synced once (the desktops keep the
     announcement; the days are how long it holds).
  3. Stop the server, run rotate-cert --switch, start the server. Desktops
     that kept the announcement, or fetch it now, switch by themselves.
A desktop that missed it refuses the new certificate; an administrator
re-pins it: mottagning --server-pin NEW-FINGERPRINT --repin (its data and
queued changes stay).

`)
		flags.PrintDefaults()
	}
	if err := parseSub(flags, args, stderr, 0, "data"); err != nil {
		return err
	}
	if days < 1 {
		fmt.Fprintln(stderr, "rotate-cert: --days must be at least 1")
		return fmt.Errorf("%w: --days", errUsage)
	}
	cur, key := filepath.Join(dir, selfCertFile), filepath.Join(dir, selfKeyFile)
	next, nextKey := filepath.Join(dir, nextCertFile), filepath.Join(dir, nextKeyFile)
	if doSwitch {
		if adminClient(ctx, dir) != nil {
			return fmt.Errorf("rotate-cert --switch: %w; stop it first", errRunning)
		}
		fp, err := switchCert(dir, time.Now())
		if err != nil {
			return fmt.Errorf("rotate-cert --switch: %w", err)
		}
		fmt.Fprintf(stdout, "The next certificate is now the current one; start the server. Its fingerprint:\n  %s\n"+
			"The previous one is kept as %s. The announcement stays served until it ends.\n", fp, prevCertFile)
		return nil
	}
	current, err := tls.LoadX509KeyPair(cur, key)
	if err != nil {
		return fmt.Errorf("rotate-cert: the server's self-signed certificate in the data directory: %w "+
			"(a certificate given with --tls-cert is renewed by its issuer; desktops trust it through the CA)", err)
	}
	signer, ok := current.PrivateKey.(crypto.Signer)
	if !ok {
		return errors.New("rotate-cert: the current key cannot sign")
	}
	if _, err := os.Stat(next); errors.Is(err, fs.ErrNotExist) {
		if err := makeSelfSigned(next, nextKey); err != nil {
			return fmt.Errorf("rotate-cert: %w", err)
		}
	}
	nc, err := tls.LoadX509KeyPair(next, nextKey)
	if err != nil {
		return fmt.Errorf("rotate-cert: next certificate: %w", err)
	}
	nextFP := client.Fingerprint(nc.Certificate[0])
	until := time.Now().Add(time.Duration(days) * 24 * time.Hour)
	np, err := msync.SignNextPin(signer, current.Certificate[0], nextFP, until)
	if err != nil {
		return fmt.Errorf("rotate-cert: %w", err)
	}
	raw, err := json.MarshalIndent(np, "", "  ")
	if err != nil {
		return fmt.Errorf("rotate-cert: %w", err)
	}
	if err := writeFileSynced(filepath.Join(dir, nextPinFile), append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("rotate-cert: %w", err)
	}
	fmt.Fprintf(stdout, "Next certificate prepared and announced until %s. Its fingerprint:\n  %s\n"+
		"When every desktop has synced, stop the server, run rotate-cert --switch and start it again.\n",
		until.UTC().Format("2006-01-02"), nextFP)
	return nil
}

// switchCert makes the prepared next certificate the current one, and
// only when the announcement of it holds (signed by the current key, not
// ended): a switch nobody was told of would stop every pinned desktop.
// The previous pair is first copied aside (tls-prev-*.pem); then the key
// and the certificate are moved in, each rename synced. A switch cut off
// between the two renames (the new key beside the old certificate) is
// finished by running it again.
func switchCert(dir string, now time.Time) (string, error) {
	cur, key := filepath.Join(dir, selfCertFile), filepath.Join(dir, selfKeyFile)
	next, nextKey := filepath.Join(dir, nextCertFile), filepath.Join(dir, nextKeyFile)
	if _, err := tls.LoadX509KeyPair(next, key); err == nil {
		// Cut off after the key moved: finish with the certificate.
		if err := renameSynced(next, cur); err != nil {
			return "", err
		}
		return currentFingerprint(cur, key)
	}
	nc, err := tls.LoadX509KeyPair(next, nextKey)
	if err != nil {
		return "", fmt.Errorf("no next certificate prepared (run rotate-cert first): %w", err)
	}
	current, err := tls.LoadX509KeyPair(cur, key)
	if err != nil {
		return "", fmt.Errorf("the current certificate: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, nextPinFile))
	if err != nil {
		return "", fmt.Errorf("no announcement of the next certificate (%s): run rotate-cert again and wait until every desktop has synced: %w", nextPinFile, err)
	}
	var np msync.NextPin
	if err := json.Unmarshal(raw, &np); err != nil {
		return "", fmt.Errorf("the announcement %s cannot be read: run rotate-cert again: %w", nextPinFile, err)
	}
	announced, err := msync.VerifyNextPin(&np, client.Fingerprint(current.Certificate[0]), now)
	if err != nil {
		return "", fmt.Errorf("the announcement %s does not hold (%v): run rotate-cert again (it announces the prepared certificate anew) and wait until every desktop has synced", nextPinFile, err)
	}
	if want := client.Fingerprint(nc.Certificate[0]); announced != want {
		return "", fmt.Errorf("the announcement names %s, but the prepared certificate is %s: run rotate-cert again and wait until every desktop has synced", announced, want)
	}
	for _, cp := range [][2]string{{cur, prevCertFile}, {key, prevKeyFile}} {
		b, err := os.ReadFile(cp[0])
		if err != nil {
			return "", err
		}
		if err := writeFileSynced(filepath.Join(dir, cp[1]), b, 0o600); err != nil {
			return "", err
		}
	}
	if err := renameSynced(nextKey, key); err != nil {
		return "", err
	}
	if err := renameSynced(next, cur); err != nil {
		return "", err
	}
	return currentFingerprint(cur, key)
}

func currentFingerprint(cur, key string) (string, error) {
	c, err := tls.LoadX509KeyPair(cur, key)
	if err != nil {
		return "", err
	}
	return client.Fingerprint(c.Certificate[0]), nil
}

// renameSynced renames and syncs the directory, so that the rename
// survives a power cut.
func renameSynced(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(to))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// nextPinSource reads the announcement of the data directory at every
// request (a rotation prepared while the server runs is served at once)
// and gives it while it is about the certificate served (fp: as the
// current one before the switch, as the next one after) and has not ended.
func nextPinSource(dir, fp string, now func() time.Time) func() *msync.NextPin {
	return func() *msync.NextPin {
		raw, err := os.ReadFile(filepath.Join(dir, nextPinFile))
		if err != nil {
			return nil
		}
		var np msync.NextPin
		if json.Unmarshal(raw, &np) != nil || (np.Current != fp && np.Next != fp) || !now().Before(np.NotAfter) {
			return nil
		}
		return &np
	}
}

// withNextPin serves GET /api/sync/next-pin beside the server's API.
func withNextPin(h http.Handler, src func() *msync.NextPin) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+msync.NextPinPath, msync.NextPinHandler(src))
	mux.Handle("/", h)
	return mux
}
