package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestVersion: `version` and `--version` print the version set at build
// time (make build sets it from git describe); issue 15 found none.
func TestVersion(t *testing.T) {
	old := version
	defer func() { version = old }()
	version = "v1.4.0-3-gabc1234"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, nil, &out, &errOut); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.HasPrefix(out.String(), "mottagning-server v1.4.0-3-gabc1234 (go") {
			t.Errorf("%v printed %q", args, out.String())
		}
	}
}

// TestProcessVersion: the real binary, built as the tests build it
// (without -X), names the commit it was built from.
func TestProcessVersion(t *testing.T) {
	out, err := exec.Command(binary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`^mottagning-server (dev|dev-[0-9a-f]{12}(-dirty)?|v\S+) \(go`).Match(out) {
		t.Errorf("version printed %q", out)
	}
}

// TestProcessCleanStopLogsNoError: an idle server on an empty data
// directory, stopped with SIGTERM, logs no ERROR (it logged one for the
// empty access log's checkpoint at every clean stop; issue 15).
func TestProcessCleanStopLogsNoError(t *testing.T) {
	p := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--key-file", keyFile(t))
	p.stop(t)
	if log := p.logs.String(); strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("a clean stop logged an ERROR:\n%s", log)
	}
}

// TestProcessTestEIDOnlyOnDemo: the test e-ID provider (anyone signs in
// as any resident) is refused on a database that is not a demo one, with
// a message naming the way out, unless --allow-test-eid is given; issue
// 15 found it started with a warning only.
func TestProcessTestEIDOnlyOnDemo(t *testing.T) {
	data, key := t.TempDir(), keyFile(t)
	out, err := exec.Command(binary(t), "--addr", "127.0.0.1:0", "--data", data, "--eid", "test", "--key-file", key).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--allow-test-eid") {
		t.Fatalf("--eid test on a new, non-demo database: %v\n%s", err, out)
	}
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--eid", "test", "--allow-test-eid", "--key-file", key)
	if !strings.Contains(p.logs.String(), "test e-ID enabled") {
		t.Errorf("no warning for the allowed test e-ID\n%s", p.logs)
	}
	p.stop(t)
	q := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo")
	if !strings.Contains(q.logs.String(), "test e-ID enabled") {
		t.Errorf("the demo server has no test e-ID\n%s", q.logs)
	}
	q.stop(t)
}

// TestParseServeTrustedProxies: the trusted proxies come from the config
// file's trusted_proxies or --trusted-proxies (which wins).
func TestParseServeTrustedProxies(t *testing.T) {
	dir := t.TempDir()
	cfgFile := dir + "/server.toml"
	if err := os.WriteFile(cfgFile, []byte("trusted_proxies = [\"10.0.0.0/8\", \"192.168.1.5\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cfg, err := parseServe([]string{"--data", dir, "--config", cfgFile}, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if len(cfg.trusted) != 2 || cfg.trusted[0].String() != "10.0.0.0/8" || cfg.trusted[1].String() != "192.168.1.5/32" {
		t.Fatalf("from the file: %v", cfg.trusted)
	}
	cfg, err = parseServe([]string{"--data", dir, "--config", cfgFile, "--trusted-proxies", "127.0.0.1"}, &stderr)
	if err != nil || len(cfg.trusted) != 1 || cfg.trusted[0].String() != "127.0.0.1/32" {
		t.Fatalf("the flag: %v, %v", cfg.trusted, err)
	}
}

// TestProcessMetricsOnTheirOwnListener: /metrics is served by the
// Prometheus Go client on the metrics address (loopback by default),
// with the build's version, request histograms and the Go and process
// collectors; the public HTTPS API has no /metrics (issue 15, item 5).
func TestProcessMetricsOnTheirOwnListener(t *testing.T) {
	p := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--key-file", keyFile(t), "--metrics-addr", "127.0.0.1:0")
	if err := p.c.Healthz(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m, err := p.c.Metrics(t.Context()); err != nil || strings.Contains(m, "mottagning_") {
		t.Fatalf("the public API serves metrics: %v %q", err, m)
	}
	body := scrape(t, p)
	for _, want := range []string{`mottagning_build_info{version="`, `mottagning_http_request_duration_seconds_bucket{route="GET /healthz"`,
		"go_goroutines", "process_resident_memory_bytes", "go_build_info"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	p.stop(t)
}

// scrape reads the metrics of p from the address its log names.
func scrape(t *testing.T, p *proc) string {
	t.Helper()
	var addr string
	for _, line := range strings.Split(p.logs.String(), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "metrics listening" {
			addr = rec.Addr
		}
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("metrics address %q; log:\n%s", addr, p.logs)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
