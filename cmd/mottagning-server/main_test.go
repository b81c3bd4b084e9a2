package main

import (
	"mottagning/internal/mailpittest"

	"filippo.io/age"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/internal/servertest"
)

func TestRunRejectsBadCommandLine(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.toml")
	os.WriteFile(badCfg, []byte("addr = \"127.0.0.1:0\"\nadress = \"x\"\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want error
		say  string
	}{
		{name: "missing --data", args: []string{"--addr", "127.0.0.1:0"}, want: errUsage, say: "-data"},
		{name: "empty --data", args: []string{"--data", ""}, want: errUsage, say: "-data"},
		{name: "unknown flag", args: []string{"--data", dir, "--tls"}, want: errUsage, say: "-data"},
		{name: "stray argument", args: []string{"--data", dir, "serve"}, want: errUsage, say: "-data"},
		{name: "cert without key", args: []string{"--data", dir, "--tls-cert", "x.pem"}, want: errUsage, say: "go together"},
		{name: "bad eid", args: []string{"--data", dir, "--eid", "bankid"}, want: errUsage, say: "want none or test"},
		{name: "bad trusted proxy", args: []string{"--data", dir, "--trusted-proxies", "10.0.0.0/8,proxy.example"}, want: errUsage, say: "trusted proxies"},
		{name: "unknown config key named", args: []string{"--data", dir, "--config", badCfg}, want: errUsage, say: "unknown setting adress"},
		{name: "unknown command", args: []string{"frobnicate"}, want: errUsage, say: "unknown command"},
		{name: "backup without --out", args: []string{"backup", "--data", dir}, want: errUsage, say: "--out is required"},
		{name: "help", args: []string{"-h"}, want: flag.ErrHelp, say: "-data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(t.Context(), tt.args, strings.NewReader(""), io.Discard, &stderr)
			if !errors.Is(err, tt.want) {
				t.Fatalf("run(%q) = %v, want %v", tt.args, err, tt.want)
			}
			if !strings.Contains(stderr.String(), tt.say) {
				t.Errorf("run(%q) printed %q, want it to say %q", tt.args, stderr.String(), tt.say)
			}
		})
	}
}

func TestRunFailsOnBadAddress(t *testing.T) {
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"--addr", "127.0.0.1:notaport", "--data", t.TempDir(), "--key-file", keyFile(t)}, nil, io.Discard, &stderr)
	if err == nil || errors.Is(err, errUsage) {
		t.Fatalf("run with a bad address = %v, want a listen error", err)
	}
}

// TestRunServesAndStops runs the server in-process (so -race sees it),
// serves a health check over TLS with the pinned certificate and stops it
// the way main does on a signal: by ending ctx. A second server on the
// same data directory is refused (the database lock).
func TestRunServesAndStops(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "new", "data")
	logs := newLogWatcher()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	key := keyFile(t)

	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runErr = run(ctx, []string{"--addr", "127.0.0.1:0", "--data", dataDir, "--key-file", key}, nil, io.Discard, logs)
	}()
	defer func() { cancel(); <-done }() // never leave the server running

	addr := logs.waitAddr(t, done)
	c := logs.client(t, addr)
	if err := c.Healthz(t.Context()); err != nil {
		t.Fatalf("healthz: %v", err)
	}
	checkDataDir(t, dataDir)
	// A wrong pin is refused.
	bad, _ := client.New("https://"+addr, client.Options{PinSHA256: strings.Repeat("ab", 32)})
	if err := bad.Healthz(t.Context()); err == nil {
		t.Error("a client with another pin connected")
	}
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"--addr", "127.0.0.1:0", "--data", dataDir, "--key-file", key}, nil, io.Discard, &stderr); err == nil {
		t.Error("a second server on the same data directory started")
	}

	cancel()
	select {
	case <-done:
		if runErr != nil {
			t.Fatalf("run after cancel = %v, want nil\nlog:\n%s", runErr, logs)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatalf("run did not return after cancel\nlog:\n%s", logs)
	}
	if !logs.has("stopped") {
		t.Errorf("no \"stopped\" log line\nlog:\n%s", logs)
	}
}

// TestNoFyneInServer keeps the server free of the desktop's GUI stack, which
// would also break CGO_ENABLED=0 builds (see shared/STYLE.md).
func TestNoFyneInServer(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH:", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "fyne.io/") || strings.HasPrefix(pkg, "github.com/go-gl/") {
			t.Errorf("server depends on %s", pkg)
		}
	}
}

// --- the real binary ---

// binary builds the server without cgo once per test run.
func binary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("signals cannot be sent to a process on Windows")
	}
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	return servertest.Binary(t)
}

// proc is a running server process.
type proc struct {
	cmd    *exec.Cmd
	logs   *logWatcher
	exited chan struct{}
	err    error
	addr   string
	c      *client.Client
}

func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := launch(t, args...)
	p.ready(t)
	return p
}

// launch starts the server process without waiting for it to listen.
func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{logs: newLogWatcher(), exited: make(chan struct{})}
	p.cmd = exec.Command(binary(t), args...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	go func() { defer close(p.exited); p.err = p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.exited })
	return p
}

// ready waits for a launched server to listen and makes its client.
func (p *proc) ready(t *testing.T) {
	t.Helper()
	p.addr = p.logs.waitAddr(t, p.exited)
	p.c = p.logs.client(t, p.addr)
}

// stop sends SIGTERM and expects a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("server exit after SIGTERM: %v\nlog:\n%s", p.err, p.logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("server still running 15 s after SIGTERM\nlog:\n%s", p.logs)
	}
	if !p.logs.has("stopped") {
		t.Errorf("no \"stopped\" log line\nlog:\n%s", p.logs)
	}
}

// cli runs a subcommand of the binary and returns its output.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binary(t), args...).CombinedOutput()
	return string(out), err
}

// TestProcessEndToEnd runs the real binary with the demo region and the
// real staff accounts (server/staffauth): a staff member signs in and sends
// a question, the resident signs in with the test e-ID, reads it (staff see
// the read receipt) and replies; the notification reaches mailpit;
// refresh and sign-out work; SIGTERM ends the process cleanly.
func TestProcessEndToEnd(t *testing.T) {
	data := t.TempDir()
	mp := startMailpit(t)
	ncfg := filepath.Join(data, "notify.toml")
	os.WriteFile(ncfg, []byte(fmt.Sprintf("[smtp]\nhost = \"127.0.0.1\"\nport = %d\ntls = \"none\"\nallow_insecure_loopback = true\nfrom = \"1177 <no-reply@example.com>\"\n\n[retry]\ninitial = \"1s\"\n", mp.port)), 0o600)
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--demo", "--notify-config", ncfg, "--key-file", keyFile(t), "--metrics-addr", "127.0.0.1:0")
	ctx, c := t.Context(), p.c
	if err := c.Healthz(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "anna", Password: "fel-lösenord", DeviceName: "test"})
	if client.Code(err) != "bad_credentials" {
		t.Fatalf("wrong password: %v", err)
	}
	tok, err := c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "anna", Password: demo.Password("anna"), DeviceName: "Testdator"})
	if err != nil {
		t.Fatalf("staff sign-in: %v", err)
	}
	me, err := c.StaffMe(ctx, tok.AccessToken)
	if err != nil || me.Username != "anna" || len(me.Roles) != 2 {
		t.Fatalf("me = %+v, %v", me, err)
	}
	var centrum, fraga string
	for clinic, roles := range me.Roles {
		if len(roles) == 2 {
			centrum = clinic
		}
	}
	ts, err := c.Templates(ctx, tok.AccessToken, centrum, "fraga")
	if err != nil || len(ts) == 0 {
		t.Fatalf("templates: %v", err)
	}
	fraga = ts[0].ID

	lars := demo.Build(time.Now()) // the same names and numbers as the seeded set
	var larsPNR string
	for _, r := range lars.Residents {
		if r.ID == lars.Persona[demo.AdultEmail] {
			larsPNR = r.PNR.String()
		}
	}
	v, err := c.LookupResident(ctx, tok.AccessToken, centrum, larsPNR)
	if err != nil || !v.Reach.OK || v.Choice != "e-post" {
		t.Fatalf("lookup = %+v, %v", v, err)
	}
	sent, err := c.SendCase(ctx, tok.AccessToken, centrum, client.SendCaseRequest{TemplateID: fraga, ResidentID: v.ID, Subject: "Hur mår du?", Text: "Hej! Hur mår du?"})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	sess, err := c.ResidentSignIn(ctx, larsPNR, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("resident sign-in: %v", err)
	}
	if _, err := c.ReadCase(ctx, sess.Token, sent.ID); err != nil {
		t.Fatalf("read: %v", err)
	}
	if _, err := c.ResidentReply(ctx, sess.Token, sent.ID, "Bra, tack!"); err != nil {
		t.Fatalf("reply: %v", err)
	}
	th, err := c.OpenCase(ctx, tok.AccessToken, centrum, sent.ID)
	if err != nil || th.Messages[0].ReadByResident.IsZero() || len(th.Messages) != 2 {
		t.Fatalf("staff see %+v, %v", th, err)
	}
	// The notification reaches mailpit, once, with no case data (R4).
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs := mp.messages(t)
		if len(msgs) == 1 {
			if strings.Contains(msgs[0], "Hur mår du") || !strings.Contains(msgs[0], "lars.2@example.com") {
				t.Fatalf("notification = %s", msgs[0])
			}
			break
		}
		if len(msgs) > 1 || time.Now().After(deadline) {
			t.Fatalf("mailpit has %d messages, want 1\nlog:\n%s", len(msgs), p.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ns, err := c.CaseNotifications(ctx, tok.AccessToken, centrum, sent.ID)
	if err != nil || len(ns) != 1 {
		t.Fatalf("notifications = %+v, %v", ns, err)
	}

	nt, err := c.StaffRefresh(ctx, tok.RefreshToken)
	if err != nil || nt.AccessToken == "" {
		t.Fatalf("refresh: %v", err)
	}
	if err := c.StaffSignOut(ctx, nt.AccessToken); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if _, err := c.StaffMe(ctx, nt.AccessToken); client.Code(err) != "unauthenticated" {
		t.Fatalf("after revoking the device: %v", err)
	}
	if m := scrape(t, p); !strings.Contains(m, `mottagning_http_requests_total{code="201",route="POST /api/staff/clinics/{clinic}/cases"} 1`) {
		t.Errorf("metrics:\n%s", m)
	}
	p.stop(t)
	// Logs carry no personal data.
	for _, s := range []string{larsPNR, "Lars", "Andersson", "Hur mår du", "lars.2@example.com"} {
		if strings.Contains(p.logs.String(), s) {
			t.Errorf("the log contains %q", s)
		}
	}
}

// TestProcessKillLosesNoAcknowledgedReply kills the server with SIGKILL
// while a resident sends replies, a few rounds; after each restart every
// reply the server acknowledged is in the case.
func TestProcessKillLosesNoAcknowledgedReply(t *testing.T) {
	data := t.TempDir()
	ds := demo.Build(time.Now())
	var pnr string
	for _, r := range ds.Residents {
		if r.ID == ds.Persona[demo.AdultSMS] {
			pnr = r.PNR.String()
		}
	}
	var caseID string
	acked := map[string]bool{}
	key := keyFile(t)
	for round := 0; round < 3; round++ {
		p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--demo", "--key-file", key)
		ctx := t.Context()
		sess, err := p.c.ResidentSignIn(ctx, pnr, 10*time.Millisecond)
		if err != nil {
			t.Fatalf("round %d: sign in: %v", round, err)
		}
		if caseID == "" {
			cl, err := p.c.Clinics(ctx, sess.Token)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := p.c.StartCase(ctx, sess.Token, client.StartCaseRequest{ClinicID: cl[0].ID, EServiceID: cl[0].EServices[0].ID, Subject: "Test", Text: "Start"})
			if err != nil {
				t.Fatal(err)
			}
			caseID = rc.ID
		}
		// Everything acknowledged before must be there after the restart.
		th, err := p.c.ReadCase(ctx, sess.Token, caseID)
		if err != nil {
			t.Fatalf("round %d: read: %v", round, err)
		}
		have := map[string]bool{}
		for _, m := range th.Messages {
			have[m.Text] = true
		}
		for text := range acked {
			if !have[text] {
				t.Fatalf("round %d: acknowledged reply %q lost", round, text)
			}
		}
		var mu stdsync.Mutex
		var wg stdsync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					text := fmt.Sprintf("svar %d-%d-%d", round, w, i)
					if _, err := p.c.ResidentReply(ctx, sess.Token, caseID, text); err != nil {
						return // the process is gone
					}
					mu.Lock()
					acked[text] = true
					mu.Unlock()
				}
			}()
		}
		time.Sleep(300 * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.exited
		wg.Wait()
		p.c.CloseIdle()
	}
	if len(acked) == 0 {
		t.Fatal("no reply acknowledged")
	}
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--key-file", key)
	p.stop(t)
}

// TestProcessRegisterBackupRestore: import-register and backup go through
// the running server's admin socket; a broken register file imports
// nothing; restore refuses while the server runs and brings the data back
// into a new directory.
func TestProcessRegisterBackupRestore(t *testing.T) {
	data := t.TempDir()
	key := keyFile(t)
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--eid", "test", "--allow-test-eid", "--key-file", key)
	reg := filepath.Join("..", "..", "testdata", "register", "demo-region.csv")
	out, err := cli(t, "import-register", "--data", data, reg)
	if err != nil || !strings.Contains(out, "24 new") {
		t.Fatalf("import-register: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(reg)
	lines := strings.Split(string(raw), "\n")
	firstPNR := strings.Split(lines[3], ",")[0]
	broken := strings.Replace(string(raw), ",Karin,", ",Karina,", 1) + "19121212-1213,X,Y,,,,nej,nej,\n"
	bad := filepath.Join(t.TempDir(), "broken.csv")
	os.WriteFile(bad, []byte(broken), 0o600)
	out, err = cli(t, "import-register", "--data", data, bad)
	if err == nil || !strings.Contains(out, "line 28") || !strings.Contains(out, "personnummer") || strings.Contains(out, "19121212") {
		t.Fatalf("broken import: %v\n%s", err, out)
	}
	sess, err := p.c.ResidentSignIn(t.Context(), firstPNR, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("sign in after import: %v", err)
	}
	me, err := p.c.ResidentMe(t.Context(), sess.Token)
	if err != nil || me.Name != "Karin Johansson" {
		t.Fatalf("me = %+v, %v; the broken file must have changed nothing", me, err)
	}
	if _, err := p.c.UpdateSettings(t.Context(), sess.Token, client.Settings{Mobile: "0701740611", NotifySMS: true}); err != nil {
		t.Fatal(err)
	}

	identity, recipient := ageIdentity(t)
	archive := filepath.Join(t.TempDir(), "backup.age")
	if out, err := cli(t, "backup", "--data", data, "--out", archive); err == nil || !strings.Contains(out, "recipient") {
		t.Fatalf("backup without a recipient: %v\n%s", err, out)
	}
	out, err = cli(t, "backup", "--data", data, "--out", archive, "--recipient", recipient)
	if err != nil || !strings.Contains(out, "online: true") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if out, err := cli(t, "restore", "--data", data, "--in", archive, "--force", "--identity", identity); err == nil || !strings.Contains(out, "running") {
		t.Fatalf("restore while running: %v\n%s", err, out)
	}
	p.stop(t)

	restored, restoredKey := t.TempDir(), filepath.Join(t.TempDir(), "restored-key")
	if out, err := cli(t, "restore", "--data", restored, "--in", archive, "--key-file", restoredKey); err == nil || !strings.Contains(out, "--identity") {
		t.Fatalf("restore without the identity: %v\n%s", err, out)
	}
	if out, err := cli(t, "restore", "--data", restored, "--in", archive, "--identity", identity); err == nil || !strings.Contains(out, "--key-file") {
		t.Fatalf("restore without a place for the server key: %v\n%s", err, out)
	}
	if out, err := cli(t, "restore", "--data", restored, "--in", archive, "--identity", identity, "--key-file", restoredKey); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if a, b := mustRead(t, key), mustRead(t, restoredKey); a != b {
		t.Error("the restored key file differs from the server's")
	}
	if out, err := cli(t, "restore", "--data", restored, "--in", archive, "--identity", identity, "--key-file", restoredKey); err == nil || !strings.Contains(out, "--force") {
		t.Fatalf("restore over data without --force: %v\n%s", err, out)
	}
	offline := filepath.Join(t.TempDir(), "offline.age")
	if out, err := cli(t, "backup", "--data", restored, "--out", offline, "--recipient", recipient); err == nil || !strings.Contains(out, "server key") {
		t.Fatalf("offline backup of a sealed database without its key: %v\n%s", err, out)
	}
	if out, err := cli(t, "backup", "--data", restored, "--out", offline, "--recipient", recipient, "--key-file", restoredKey); err != nil || !strings.Contains(out, "online: false") {
		t.Fatalf("offline backup: %v\n%s", err, out)
	}
	q := start(t, "--addr", "127.0.0.1:0", "--data", restored, "--eid", "test", "--allow-test-eid", "--key-file", restoredKey)
	if q.logs.fp != p.logs.fp || q.logs.fp == "" {
		t.Errorf("restored server's fingerprint %s, the original's %s: pinned desktops would refuse it", q.logs.fp, p.logs.fp)
	}
	sess, err = q.c.ResidentSignIn(t.Context(), firstPNR, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("sign in on the restored server: %v", err)
	}
	me, err = q.c.ResidentMe(t.Context(), sess.Token)
	if err != nil || me.Settings.Mobile != "+46701740611" || !me.Activated {
		t.Fatalf("restored resident = %+v, %v", me, err)
	}
	q.stop(t)
}

// --- helpers ---

// keyFile is a path for a new server key, outside any data directory.
func keyFile(t *testing.T) string { return filepath.Join(t.TempDir(), "data-key") }

// ageIdentity writes a new age identity file and returns it and its recipient.
func ageIdentity(t *testing.T) (file, recipient string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "backup-identity.txt")
	if err := os.WriteFile(file, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, id.Recipient().String()
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkDataDir(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("data directory: %v", err)
	}
	if !fi.IsDir() {
		t.Fatalf("data directory %s is not a directory", dir)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode = %v, want 0700", fi.Mode().Perm())
	}
	if fi, err := os.Stat(filepath.Join(dir, adminSocket)); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket mode = %v, want 0600", fi.Mode().Perm())
	}
}

// logWatcher is the server's stderr in tests: it keeps every line and
// reports the address and the certificate fingerprint. Safe for
// concurrent writes.
type logWatcher struct {
	mu      stdsync.Mutex
	partial []byte
	lines   []string
	addr    chan string // gets the listening address once
	fp      string
}

func newLogWatcher() *logWatcher { return &logWatcher{addr: make(chan string, 1)} }

func (w *logWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.lines = append(w.lines, line)

		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
			FP   string `json:"fingerprint_sha256"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil {
			if rec.Msg == "tls" {
				w.fp = rec.FP
			}
			if rec.Msg == "listening" && rec.Addr != "" {
				select {
				case w.addr <- rec.Addr:
				default:
				}
			}
		}
	}
	return len(p), nil
}

// waitAddr returns the listening address, failing the test if the server
// ends (done is closed) or says nothing within 20 s.
func (w *logWatcher) waitAddr(t *testing.T, done <-chan struct{}) string {
	t.Helper()
	select {
	case addr := <-w.addr:
		if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
			t.Fatalf("listening addr = %q, want 127.0.0.1 with a real port", addr)
		}
		return addr
	case <-done:
		t.Fatalf("server ended before listening\nlog:\n%s", w)
	case <-time.After(20 * time.Second):
		t.Fatalf("no listening log line within 20 s\nlog:\n%s", w)
	}
	return ""
}

// client returns a client pinned to the logged fingerprint.
func (w *logWatcher) client(t *testing.T, addr string) *client.Client {
	t.Helper()
	w.mu.Lock()
	fp := w.fp
	w.mu.Unlock()
	if len(fp) != 64 {
		t.Fatalf("no fingerprint logged before listening\nlog:\n%s", w)
	}
	c, err := client.New("https://"+addr, client.Options{PinSHA256: fp, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	return c
}

// has reports whether some log line has the message msg.
func (w *logWatcher) has(msg string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range w.lines {
		var rec struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
			return true
		}
	}
	return false
}

func (w *logWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n") + string(w.partial)
}

// --- mailpit ---

type mailpit struct {
	port int
	api  string
}

// startMailpit runs mailpit on loopback ports (skips when not installed).
func startMailpit(t *testing.T) *mailpit {
	s := mailpittest.Start(t)
	return &mailpit{port: s.SMTPPort, api: s.API}
}

// messages returns the raw source of every message mailpit holds.
func (mp *mailpit) messages(t *testing.T) []string {
	resp, err := http.Get(mp.api + "/api/v1/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Messages []struct{ ID string } }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range list.Messages {
		r, err := http.Get(mp.api + "/api/v1/message/" + m.ID + "/raw")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		out = append(out, string(b))
	}
	return out
}
