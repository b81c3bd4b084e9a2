package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestHandlerRoutes(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		target   string
		status   int
		body     string // checked when not empty
		allowGET bool   // the Allow header must list GET
	}{
		{name: "healthz GET answers ok", method: http.MethodGet, target: "/healthz", status: http.StatusOK, body: "ok\n"},
		{name: "healthz ignores the query", method: http.MethodGet, target: "/healthz?x=1", status: http.StatusOK, body: "ok\n"},
		{name: "healthz HEAD follows GET", method: http.MethodHead, target: "/healthz", status: http.StatusOK},
		{name: "healthz POST is 405", method: http.MethodPost, target: "/healthz", status: http.StatusMethodNotAllowed, allowGET: true},
		{name: "healthz PUT is 405", method: http.MethodPut, target: "/healthz", status: http.StatusMethodNotAllowed, allowGET: true},
		{name: "healthz DELETE is 405", method: http.MethodDelete, target: "/healthz", status: http.StatusMethodNotAllowed, allowGET: true},
		{name: "root is 404", method: http.MethodGet, target: "/", status: http.StatusNotFound},
		{name: "unknown path is 404", method: http.MethodGet, target: "/api/cases", status: http.StatusNotFound},
		{name: "below healthz is 404", method: http.MethodGet, target: "/healthz/deep", status: http.StatusNotFound},
		{name: "prefix of healthz is 404", method: http.MethodGet, target: "/health", status: http.StatusNotFound},
		{name: "unknown path POST is 404", method: http.MethodPost, target: "/nope", status: http.StatusNotFound},
	}
	h := newHandler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.status {
				t.Fatalf("%s %s: status %d, want %d", tt.method, tt.target, rec.Code, tt.status)
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Errorf("%s %s: body %q, want %q", tt.method, tt.target, rec.Body.String(), tt.body)
			}
			if tt.allowGET && !strings.Contains(rec.Header().Get("Allow"), http.MethodGet) {
				t.Errorf("%s %s: Allow = %q, want it to list GET", tt.method, tt.target, rec.Header().Get("Allow"))
			}
		})
	}
}

// The request log must name the route, never the path or query: later paths
// carry ids and queries may carry a personnummer.
func TestRequestLogHasNoPathOrQuery(t *testing.T) {
	const secret = "191212121212"
	tests := []struct {
		target string
		route  string
		status int
	}{
		{target: "/healthz?pnr=" + secret, route: "GET /healthz", status: http.StatusOK},
		{target: "/residents/" + secret, route: "unmatched", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		h := logRequests(slog.New(slog.NewJSONHandler(&buf, nil)), newHandler())
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tt.target, nil))

		line := buf.String()
		if strings.Contains(line, secret) {
			t.Errorf("log line for %q leaks the path or query: %s", tt.route, line)
		}
		var rec struct {
			Msg    string `json:"msg"`
			Method string `json:"method"`
			Route  string `json:"route"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not one JSON object: %v: %s", err, line)
		}
		if rec.Msg != "request" || rec.Method != http.MethodGet || rec.Route != tt.route || rec.Status != tt.status {
			t.Errorf("log line = %+v, want msg=request method=GET route=%q status=%d", rec, tt.route, tt.status)
		}
	}
}

func TestRunRejectsBadCommandLine(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want error
	}{
		{name: "missing --data", args: []string{"--addr", "127.0.0.1:0"}, want: errUsage},
		{name: "empty --data", args: []string{"--data", ""}, want: errUsage},
		{name: "unknown flag", args: []string{"--data", dir, "--tls"}, want: errUsage},
		{name: "stray argument", args: []string{"--data", dir, "serve"}, want: errUsage},
		{name: "help", args: []string{"-h"}, want: flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stderr)
			if !errors.Is(err, tt.want) {
				t.Fatalf("run(%q) = %v, want %v", tt.args, err, tt.want)
			}
			if !strings.Contains(stderr.String(), "-data") {
				t.Errorf("run(%q) printed no usage: %q", tt.args, stderr.String())
			}
		})
	}
}

func TestRunFailsOnBadAddress(t *testing.T) {
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"--addr", "127.0.0.1:notaport", "--data", t.TempDir()}, &stderr)
	if err == nil || errors.Is(err, errUsage) {
		t.Fatalf("run with a bad address = %v, want a listen error", err)
	}
}

// TestRunServesAndStops runs the server in-process (so -race sees it), serves
// one health check and stops it the way main does on a signal: by ending ctx.
func TestRunServesAndStops(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "new", "data")
	logs := newLogWatcher()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runErr = run(ctx, []string{"--addr", "127.0.0.1:0", "--data", dataDir}, logs)
	}()
	defer func() { cancel(); <-done }() // never leave the server running

	addr := logs.waitAddr(t, done)
	checkHealthz(t, addr)
	checkDataDir(t, dataDir)

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

// TestProcessHealthzAndSIGTERM builds the real binary without cgo, runs it,
// checks /healthz and expects a clean exit (code 0) on SIGTERM.
func TestProcessHealthzAndSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM cannot be sent to a process on Windows")
	}
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH:", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "mottagning-server")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build with CGO_ENABLED=0: %v\n%s", err, out)
	}

	dataDir := filepath.Join(tmp, "data")
	logs := newLogWatcher()
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data", dataDir)
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		waitErr = cmd.Wait()
	}()
	defer func() {
		// Kill is a no-op error once the process is gone; after a failed check
		// it stops the server so the test does not leak it.
		_ = cmd.Process.Kill()
		<-exited
	}()

	addr := logs.waitAddr(t, exited)
	checkHealthz(t, addr)
	checkDataDir(t, dataDir)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("server exit after SIGTERM: %v, want exit code 0\nlog:\n%s", waitErr, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("server still running 10 s after SIGTERM\nlog:\n%s", logs)
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

func checkHealthz(t *testing.T, addr string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read /healthz body: %v", err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Fatalf("GET /healthz = %d %q, want 200 %q", resp.StatusCode, body, "ok\n")
	}
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
}

// logWatcher is the server's stderr in tests: it keeps every line and reports
// the address from the {"msg":"listening"} line. Safe for concurrent writes.
type logWatcher struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	addr    chan string // gets the listening address once
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
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
			select {
			case w.addr <- rec.Addr:
			default:
			}
		}
	}
	return len(p), nil
}

// waitAddr returns the listening address, failing the test if the server
// ends (done is closed) or says nothing within 10 s.
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
	case <-time.After(10 * time.Second):
		t.Fatalf("no listening log line within 10 s\nlog:\n%s", w)
	}
	return ""
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
