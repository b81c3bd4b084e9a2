package notify_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mottagning/notify"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "avisering.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(kv ...string) ([]string, func(string) (string, bool)) {
	m := map[string]string{}
	for _, x := range kv {
		k, v, _ := strings.Cut(x, "=")
		m[k] = v
	}
	return kv, func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const goodConfig = `
[smtp]
host = "smtp.region.example"
port = 587
tls = "starttls"
username = "mottagning"
password = "hemligt-lösen"
from = "1177 e-tjänster <no-reply@region.example>"

[sms]
kind = "kannel"
url = "http://127.0.0.1:13013/cgi-bin/sendsms"
username = "mottagning"
password = "sms-hemlis"
from = "1177"

[retry]
initial = "30s"
max = "2h"
give_up = "48h"
`

// TestConfig_FileEnvironmentAndSecrets: the file is read, environment
// variables win, and no secret shows in any print or log of the config.
func TestConfig_FileEnvironmentAndSecrets(t *testing.T) {
	env, get := envOf("MOTTAGNING_SMTP_PORT=2525", "MOTTAGNING_SMTP_PASSWORD=från-miljön", "PATH=/bin")
	c, err := notify.LoadConfig(writeConfig(t, goodConfig), env, get)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Port != 2525 || c.SMTP.Password != "från-miljön" || c.SMTP.Host != "smtp.region.example" {
		t.Errorf("got %+v", c.SMTP)
	}
	if b := c.Backoff(); b != (notify.Backoff{Initial: 30 * time.Second, Max: 2 * time.Hour, GiveUp: 48 * time.Hour}) {
		t.Errorf("backoff %+v", b)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", c, "pw", c.SMTP.Password)
	shown := fmt.Sprintf("%v %+v %#v %s", c, c, c, c.SMTP.Password) + logged.String()
	for _, secret := range []string{"från-miljön", "sms-hemlis", "hemligt-lösen"} {
		if strings.Contains(shown, secret) {
			t.Errorf("a secret shows: %s", shown)
		}
	}
	if c.OnlyLoopback() {
		t.Error("smtp.region.example is not loopback")
	}
	if _, err := c.SMSSender(); err != nil {
		t.Errorf("SMS sender: %v", err)
	}
}

// TestConfig_TyposNameTheSetting: an unknown key or variable, or a bad
// value, is an error that names the setting.
func TestConfig_TyposNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        []string
		want       string
	}{
		{"typo in key", "[smtp]\nhots = \"x\"\n", nil, "smtp.hots"},
		{"unknown section", "[smpt]\nhost = \"x\"\n", nil, "smpt"},
		{"unknown variable", "", []string{"MOTTAGNING_SMTP_HOTS=x"}, "MOTTAGNING_SMTP_HOTS"},
		{"port not a number", "", []string{"MOTTAGNING_SMTP_HOST=x.example", "MOTTAGNING_SMTP_PORT=femtio", "MOTTAGNING_SMTP_FROM=a@example.com"}, "smtp.port"},
		{"bad tls", "[smtp]\nhost = \"x.example\"\ntls = \"ssl\"\nfrom = \"a@example.com\"\n", nil, "smtp.tls"},
		{"plain text remote", "[smtp]\nhost = \"x.example\"\ntls = \"none\"\nallow_insecure_loopback = true\nfrom = \"a@example.com\"\n", nil, "smtp.tls"},
		{"bad from", "[smtp]\nhost = \"x.example\"\nfrom = \"ingen\"\n", nil, "smtp.from"},
		{"user without password", "[smtp]\nhost = \"x.example\"\nfrom = \"a@example.com\"\nusername = \"u\"\n", nil, "smtp.username"},
		{"bad sms kind", "[sms]\nkind = \"smpp\"\n", nil, "sms.kind"},
		{"bad duration", "[retry]\ninitial = \"en minut\"\n", nil, "retry.initial"},
		{"syntax", "[smtp\n", nil, "line "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeConfig(t, tc.file)
			}
			env, get := envOf(tc.env...)
			_, err := notify.LoadConfig(path, env, get)
			var ce *notify.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a ConfigError naming %s", err, tc.want)
			}
		})
	}
}

// TestConfig_NothingConfigured: no file and no variables is valid and
// configures nothing; a loopback SMTP server counts as loopback.
func TestConfig_NothingConfigured(t *testing.T) {
	env, get := envOf()
	c, err := notify.LoadConfig("", env, get)
	if err != nil || c.Configured() {
		t.Fatalf("empty config: %+v %v", c, err)
	}
	env, get = envOf("MOTTAGNING_SMTP_HOST=127.0.0.1", "MOTTAGNING_SMTP_PORT=1025", "MOTTAGNING_SMTP_TLS=none",
		"MOTTAGNING_SMTP_ALLOW_INSECURE_LOOPBACK=true", "MOTTAGNING_SMTP_FROM=demo@example.com")
	c, err = notify.LoadConfig("", env, get)
	if err != nil || !c.Configured() || !c.OnlyLoopback() {
		t.Fatalf("loopback config: %+v %v", c, err)
	}
	if sc, err := c.SMTPConfig(); err != nil || sc.Port != 1025 {
		t.Errorf("SMTPConfig: %+v %v", sc, err)
	}
}
