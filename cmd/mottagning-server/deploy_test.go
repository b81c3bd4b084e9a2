package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The files in deploy/ (issue 15, item 5) are kept true to the binary:
// the systemd unit's ExecStart and the container's command parse as serve's
// flags with the shipped configuration, the unit carries its hardening,
// and systemd itself accepts the unit and rates its exposure.

const deployDir = "../../deploy"

func TestDeployUnitStartsTheServerHardened(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(deployDir, "mottagning-server.service"))
	if err != nil {
		t.Fatal(err)
	}
	exec1 := regexp.MustCompile(`(?m)^ExecStart=(\S+) (.*)$`).FindStringSubmatch(string(unit))
	if exec1 == nil || exec1[1] != "/usr/bin/mottagning-server" {
		t.Fatalf("no ExecStart of /usr/bin/mottagning-server in the unit")
	}
	args := strings.Fields(exec1[2])
	if args[0] != "serve" {
		t.Fatalf("ExecStart runs %q, want serve", args[0])
	}
	for i, a := range args {
		if a == "/etc/mottagning/server.toml" {
			args[i] = filepath.Join(deployDir, "server.toml")
		}
	}
	cfg, err := parseServe(args[1:], io.Discard)
	if err != nil {
		t.Fatalf("the unit's flags with deploy/server.toml: %v", err)
	}
	if cfg.DataDir != "/var/lib/mottagning" || cfg.MetricsAddr != "127.0.0.1:9464" || cfg.EID != "none" {
		t.Errorf("config %+v", cfg)
	}
	for _, d := range []string{"User=mottagning", "StateDirectory=mottagning", "StateDirectoryMode=0700",
		"LoadCredential=" + credentialName + ":", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
		"PrivateTmp=yes", "CapabilityBoundingSet=\n", "MemoryDenyWriteExecute=yes", "SystemCallFilter=@system-service", "UMask=0077"} {
		if !strings.Contains(string(unit), d) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(d))
		}
	}

	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: the unit's syntax is not checked by systemd here")
		return
	}
	dir := t.TempDir()
	local := strings.ReplaceAll(string(unit), "/usr/bin/mottagning-server", binary(t))
	path := filepath.Join(dir, "mottagning-server.service")
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "verify", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(tool, "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if lvl, _ := strconv.ParseFloat(m[1], 64); lvl > 2.0 {
		t.Errorf("exposure level %s, want at most 2.0 (\"OK\"):\n%s", m[1], out)
	}
	t.Logf("systemd exposure level %s", m[1])
}

func TestDeployContainerRunsTheServerAsNobody(t *testing.T) {
	cf, err := os.ReadFile(filepath.Join(deployDir, "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(cf)
	m := regexp.MustCompile(`(?m)^CMD (\[.*\])$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("no CMD in the Containerfile")
	}
	var cmd []string
	if err := json.Unmarshal([]byte(m[1]), &cmd); err != nil || cmd[0] != "serve" {
		t.Fatalf("CMD %s: %v", m[1], err)
	}
	cfg, err := parseServe(cmd[1:], io.Discard)
	if err != nil {
		t.Fatalf("the container's flags: %v", err)
	}
	if cfg.DataDir != "/data" || cfg.KeyFile == "" || strings.HasPrefix(cfg.KeyFile, "/data") {
		t.Errorf("the container keeps its data in %q and its key in %q; want /data and a secret outside it", cfg.DataDir, cfg.KeyFile)
	}
	for _, want := range []string{"USER 65532:65532", "CGO_ENABLED=0", "VOLUME /data", "--read-only"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Containerfile lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^USER (root|0)\b`).MatchString(text) {
		t.Error("the image runs as root")
	}
}
