package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLangArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--lang", "en"}, "en"},
		{[]string{"-lang=sv", "--demo"}, "sv"},
		{[]string{"--data", "/tmp/lang", "--lang=en"}, "en"},
		{[]string{"--", "--lang", "en"}, ""},
		{[]string{"--language", "en"}, ""},
	} {
		if got := langArg(c.args); got != c.want {
			t.Errorf("langArg(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// On Windows the database lives under Local AppData (issue 17, item 3),
// except where an older installation already keeps it under the roaming
// AppData.
func TestWindowsDataDir(t *testing.T) {
	local, roaming := `C:\Users\anna\AppData\Local`, `C:\Users\anna\AppData\Roaming`
	none := func(string) bool { return false }
	if got := windowsDataDir(local, roaming, none); got != filepath.Join(local, "Mottagning") {
		t.Errorf("new installation: %q", got)
	}
	old := func(p string) bool { return p == filepath.Join(roaming, "Mottagning") }
	if got := windowsDataDir(local, roaming, old); got != filepath.Join(roaming, "Mottagning") {
		t.Errorf("older installation: %q", got)
	}
	both := func(string) bool { return true }
	if got := windowsDataDir(local, roaming, both); got != filepath.Join(local, "Mottagning") {
		t.Errorf("both exist: %q", got)
	}
	if got := windowsDataDir("", "", none); got != "" {
		t.Errorf("no AppData: %q", got)
	}
}

// A start-up failure is shown in a window (issue 17, item 5), in the
// language asked for, and the rotating log file in the user's cache
// directory records that the start failed, without the message's details.
func startupFailureWindow(t *testing.T, bin binaries, dir string) {
	display := startXvfb(t)
	home := filepath.Join(dir, "home")
	cache := filepath.Join(home, ".cache")
	os.MkdirAll(home, 0o700)
	bad := filepath.Join(dir, "notify.toml")
	if err := os.WriteFile(bad, []byte("[smtp]\nhots = \"mail.example\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	desk := exec.Command(bin.desktop, "--data", filepath.Join(dir, "desktop"), "--lang", "en", "--notify-config", bad)
	desk.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+cache, "LANG=sv_SE.UTF-8")
	dp := startProcess(t, "desktop", desk)
	waitWindow(t, display, "Mottagning", 60*time.Second)
	dp.waitLine(t, "the English message", 30*time.Second, func(l string) bool {
		return strings.Contains(l, "The notification settings are wrong")
	})
	if shots := os.Getenv("E2E_SCREENSHOTS"); shots != "" {
		capture(t, display, filepath.Join(shots, "startup-failure.png"))
	}
	logFile := filepath.Join(cache, "Mottagning", "mottagning.log")
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("no log file in the cache directory: %v", err)
	}
	if !strings.Contains(string(raw), `msg="start-up failed" kind=notify-config`) {
		t.Errorf("the log file does not record the failure:\n%s", raw)
	}
	if strings.Contains(string(raw), "mail.example") {
		t.Errorf("the log file holds the setting's value:\n%s", raw)
	}
}
