package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mottagning/client"
	msync "mottagning/sync"
)

var fpLine = regexp.MustCompile(`(?m)^  ([0-9a-f]{64})$`)

// TestProcessRotateCert runs the rotation on the real binary: rotate-cert
// while the server runs announces the next certificate, signed with the
// current key, at GET /api/sync/next-pin; --switch is refused while the
// server runs; after a stop, --switch and a start the server presents the
// announced certificate and still serves the announcement, which a
// desktop pinned to the old certificate verifies.
func TestProcessRotateCert(t *testing.T) {
	data, key := t.TempDir(), keyFile(t)
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--key-file", key)
	ctx := t.Context()
	p.logs.mu.Lock()
	oldFP := p.logs.fp
	p.logs.mu.Unlock()
	if np, err := p.c.NextPin(ctx); err != nil || np != nil {
		t.Fatalf("next pin before a rotation = %+v, %v; want none", np, err)
	}
	out, err := cli(t, "rotate-cert", "--data", data, "--days", "10")
	if err != nil {
		t.Fatalf("rotate-cert: %v\n%s", err, out)
	}
	m := fpLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rotate-cert printed no fingerprint:\n%s", out)
	}
	nextFP := m[1]
	np, err := p.c.NextPin(ctx)
	if err != nil || np == nil {
		t.Fatalf("next pin after rotate-cert = %+v, %v", np, err)
	}
	if got, err := msync.VerifyNextPin(np, oldFP, time.Now()); err != nil || got != nextFP {
		t.Fatalf("announcement verifies to %q, %v; want %s", got, err, nextFP)
	}
	if np.NotAfter.Before(time.Now().Add(9*24*time.Hour)) || np.NotAfter.After(time.Now().Add(11*24*time.Hour)) {
		t.Errorf("announcement ends %v, want in 10 days", np.NotAfter)
	}
	if out, err := cli(t, "rotate-cert", "--data", data, "--switch"); err == nil {
		t.Fatalf("--switch while the server runs was done:\n%s", out)
	}
	p.stop(t)
	if out, err := cli(t, "rotate-cert", "--data", data, "--switch"); err != nil {
		t.Fatalf("rotate-cert --switch: %v\n%s", err, out)
	}
	q := start(t, "--addr", "127.0.0.1:0", "--data", data, "--key-file", key)
	q.logs.mu.Lock()
	nowFP := q.logs.fp
	q.logs.mu.Unlock()
	if nowFP != nextFP {
		t.Fatalf("after the switch the server presents %s, want the announced %s", nowFP, nextFP)
	}
	if !q.logs.has("tls rotation announced") {
		t.Errorf("no log line for the announcement\n%s", q.logs)
	}
	// A desktop still pinned to the old certificate.
	old, err := client.New("https://"+q.addr, client.Options{PinSHA256: oldFP})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Healthz(ctx); !errors.Is(err, client.ErrPinMismatch) {
		t.Fatalf("old pin against the new certificate = %v, want a mismatch", err)
	}
	presented, served, err := client.PresentedNextPin(ctx, "https://"+q.addr)
	if err != nil || presented != nextFP || served == nil {
		t.Fatalf("presented %s, served %+v, %v", presented, served, err)
	}
	if got, err := msync.VerifyNextPin(served, oldFP, time.Now()); err != nil || got != presented {
		t.Fatalf("served announcement verifies to %q, %v", got, err)
	}
	q.stop(t)
}

// TestRotateCertSwitchOnlyAnnouncedAndResumable: --switch refuses a
// certificate whose announcement is missing or has ended (it would stop
// every pinned desktop), leaving the files as they were; a switch cut
// off after the key moved is finished by running it again.
func TestRotateCertSwitchOnlyAnnouncedAndResumable(t *testing.T) {
	dir := t.TempDir()
	cur, key := filepath.Join(dir, selfCertFile), filepath.Join(dir, selfKeyFile)
	if err := makeSelfSigned(cur, key); err != nil {
		t.Fatal(err)
	}
	oldFP, err := currentFingerprint(cur, key)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := rotateCert(t.Context(), []string{"--data", dir, "--days", "5"}, &out, &errOut); err != nil {
		t.Fatalf("rotate-cert: %v\n%s", err, errOut.String())
	}
	nc, err := tls.LoadX509KeyPair(filepath.Join(dir, nextCertFile), filepath.Join(dir, nextKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	nextFP := client.Fingerprint(nc.Certificate[0])
	unchanged := func(when string) {
		t.Helper()
		if fp, err := currentFingerprint(cur, key); err != nil || fp != oldFP {
			t.Fatalf("%s: the current certificate is %s, %v; want it unchanged", when, fp, err)
		}
	}

	// The announcement has ended (six days on).
	if _, err := switchCert(dir, time.Now().Add(6*24*time.Hour)); err == nil || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("switch after the announcement ended = %v, want a refusal", err)
	}
	unchanged("after an ended announcement")
	// No announcement at all.
	pin := filepath.Join(dir, nextPinFile)
	raw, err := os.ReadFile(pin)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(pin)
	if _, err := switchCert(dir, time.Now()); err == nil || !strings.Contains(err.Error(), "no announcement") {
		t.Fatalf("switch without an announcement = %v, want a refusal", err)
	}
	unchanged("without an announcement")
	if err := os.WriteFile(pin, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	// Cut off after the key moved: the old certificate beside the new key.
	if err := os.Rename(filepath.Join(dir, nextKeyFile), key); err != nil {
		t.Fatal(err)
	}
	fp, err := switchCert(dir, time.Now())
	if err != nil || fp != nextFP {
		t.Fatalf("resumed switch = %s, %v; want %s", fp, err, nextFP)
	}
	if fp, err := currentFingerprint(cur, key); err != nil || fp != nextFP {
		t.Fatalf("after the resumed switch the pair is %s, %v", fp, err)
	}
}
