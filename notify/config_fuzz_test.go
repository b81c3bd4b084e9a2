package notify

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// FuzzNotifyConfig fuzzes the notification configuration (config.go): a
// TOML file and environment variables on top. Whatever they hold: no
// panic; a refusal is a *ConfigError that names a setting and never
// shows a password given in the environment; an accepted configuration
// checks again unchanged, gives an SMTP configuration, a backoff and an
// SMS sender (or an *SMSSettingError), and written back as TOML loads to
// the same configuration.

// fzEnv splits env into NAME=value entries (one a line) and a getenv over
// them (the last entry of a name wins).
func fzEnv(env string) ([]string, func(string) (string, bool)) {
	var environ []string
	m := map[string]string{}
	for _, line := range strings.Split(env, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		environ = append(environ, line)
		m[k] = v
	}
	return environ, func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// fzWithout replaces the value of variable name in env.
func fzWithout(env, name, value string) string {
	lines := strings.Split(env, "\n")
	for i, line := range lines {
		if k, _, ok := strings.Cut(line, "="); ok && k == name {
			lines[i] = k + "=" + value
		}
	}
	return strings.Join(lines, "\n")
}

func FuzzNotifyConfig(f *testing.F) {
	const good = `
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
	for _, s := range [][2]string{
		{good, ""},
		{good, "MOTTAGNING_SMTP_PORT=2525\nMOTTAGNING_SMTP_PASSWORD=från-miljön\nPATH=/bin"},
		{"", ""},
		{"", "MOTTAGNING_SMTP_HOST=127.0.0.1\nMOTTAGNING_SMTP_PORT=1025\nMOTTAGNING_SMTP_TLS=none\nMOTTAGNING_SMTP_ALLOW_INSECURE_LOOPBACK=true\nMOTTAGNING_SMTP_FROM=demo@example.com"},
		{"[sms]\nkind = \"elks\"\nusername = \"u0123\"\npassword = \"p\"\nfrom = \"Region\"\n", "MOTTAGNING_SMS_URL=https://api.46elks.com"},
		{"[smtp]\nhost = \"smtp.example\"\ntls = \"tls\"\nfrom = \"a@example.com\"\ntimeout = \"20s\"\nauth = \"login\"\nusername = \"u\"\npassword = \"p\"\nca_file = \"/etc/ssl/ca.pem\"\n", ""},
		{"[smtp]\nhots = \"x\"\n", ""},
		{"[smpt]\nhost = \"x\"\n", ""},
		{"", "MOTTAGNING_SMTP_HOTS=x"},
		{"", "MOTTAGNING_SMTP_HOST=x.example\nMOTTAGNING_SMTP_PORT=femtio\nMOTTAGNING_SMTP_FROM=a@example.com"},
		{"", "MOTTAGNING_SMTP_HOST=x.example\nMOTTAGNING_SMTP_PORT=99999\nMOTTAGNING_SMTP_FROM=a@example.com\nMOTTAGNING_SMTP_PASSWORD=Hemligt-Lösen-77"},
		{"[smtp]\nhost = \"x.example\"\ntls = \"none\"\nallow_insecure_loopback = true\nfrom = \"a@example.com\"\n", ""},
		{"[smtp]\nhost = \"x.example\"\nfrom = \"ingen\"\n", "MOTTAGNING_SMTP_PASSWORD=Hemligt-Lösen-77\nMOTTAGNING_SMTP_USERNAME=u"},
		{"[smtp]\nhost = \"x.example\"\nfrom = \"a@example.com\"\nusername = \"u\"\n", ""},
		{"[sms]\nkind = \"smpp\"\n", "MOTTAGNING_SMS_PASSWORD=Sms-Hemlis-99"},
		{"[sms]\nurl = \"http://127.0.0.1/\"\n", ""},
		{"[retry]\ninitial = \"en minut\"\nmax = \"-1h\"\n", ""},
		{"[smtp\n", ""},
		{"[smtp]\nport = \"587\"\n", ""},
		{"[smtp]\nhost = 5\n", ""},
		{"[smtp]\npassword = \"unterminated\n", ""},
		{"smtp.host = \"a\"\nsmtp.from = \"a@example.com\"\n[sms]\nkind=\"kannel\"\n", "MOTTAGNING_SMS_URL=ftp://x\nMOTTAGNING_RETRY_GIVE_UP=72h"},
		{"[[smtp]]\n", ""},
		{"x = 1\n", ""},
		{"[smtp]\nhost = \"127.0.0.1\"\nport = 0\ntls = \"\"\nfrom = \"\\\"Q\\\" <q@example.com>\"\n", ""},
	} {
		f.Add(s[0], s[1])
	}
	path := filepath.Join(f.TempDir(), "avisering.toml")
	again := filepath.Join(f.TempDir(), "igen.toml")
	f.Fuzz(func(t *testing.T, file, env string) {
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, ""} {
			environ, getenv := fzEnv(env)
			c, err := LoadConfig(p, environ, getenv)
			if err != nil {
				fzCheckRefusal(t, p, file, env, err)
				continue
			}
			fzCheckAccepted(t, c, again, file, env)
		}
	})
}

// fzCheckRefusal: the error is a *ConfigError naming a setting, and a
// password from the environment shows in it only if it shows as well with
// another password (it is then part of some other value).
func fzCheckRefusal(t *testing.T, path, file, env string, err error) {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Setting == "" || ce.Problem == "" || ce.Source == "" {
		t.Fatalf("refusal %v (%T) is not a ConfigError naming a setting\nfile %q\nenv %q", err, err, file, env)
	}
	_, getenv := fzEnv(env)
	for _, key := range []string{"smtp.password", "sms.password"} {
		name := settingEnv(key)
		v, ok := getenv(name)
		if !ok || v == "" || !strings.Contains(err.Error(), v) {
			continue
		}
		other := fzWithout(env, name, "\x00annat\x00")
		environ, getenv2 := fzEnv(other)
		_, err2 := LoadConfig(path, environ, getenv2)
		if err2 == nil || !strings.Contains(err2.Error(), v) {
			t.Fatalf("refusal %q shows %s\nfile %q\nenv %q", err, name, file, env)
		}
	}
}

func fzCheckAccepted(t *testing.T, c *Config, again, file, env string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nfile %q\nenv %q", append(args, file, env)...)
	}
	cc := *c
	if err := cc.check(""); err != nil || cc != *c {
		fail("an accepted configuration does not check again unchanged: %v\n%+v\n%+v", err, *c, cc)
	}
	sc, err := c.SMTPConfig()
	switch {
	case err != nil:
		fail("accepted, but SMTPConfig: %v", err)
	case (sc != nil) != (c.SMTP.Host != ""):
		fail("SMTPConfig %+v for host %q", sc, c.SMTP.Host)
	case sc != nil && (sc.Port < 1 || sc.Port > 65535):
		fail("accepted SMTP port %d", sc.Port)
	}
	if c.Configured() != (c.SMTP.Host != "" || c.SMS.Kind != "") {
		fail("Configured %v for %+v", c.Configured(), *c)
	}
	if b := c.Backoff(); b.Initial <= 0 || b.Max <= 0 || b.GiveUp <= 0 {
		fail("backoff %+v", b)
	}
	if s, err := c.SMSSender(); err != nil {
		var se *SMSSettingError
		if !errors.As(err, &se) {
			fail("SMS sender error %v (%T), not an SMSSettingError", err, err)
		}
	} else if (s != nil) != (c.SMS.Kind != "") {
		fail("SMS sender %v for kind %q", s, c.SMS.Kind)
	}
	_ = c.OnlyLoopback()

	// Written back as TOML, it loads to the same configuration (strings
	// that are not UTF-8, which only the environment can give, have no
	// TOML form).
	v := reflect.ValueOf(*c)
	for i := 0; i < v.NumField(); i++ {
		sec := v.Field(i)
		for j := 0; j < sec.NumField(); j++ {
			if fv := sec.Field(j); fv.Kind() == reflect.String && !utf8.ValidString(fv.String()) {
				return
			}
		}
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		fail("encode accepted configuration: %v", err)
	}
	if err := os.WriteFile(again, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := LoadConfig(again, nil, func(string) (string, bool) { return "", false })
	if err != nil {
		fail("accepted configuration written back does not load: %v\n%s", err, buf.String())
	}
	if *back != *c {
		fail("written back and loaded: %+v, was %+v", *back, *c)
	}
}

// Found by review of the fuzz target: an unquoted password made the TOML
// parser repeat it in the configuration error.
func TestConfigErrorHidesValues(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/notify.toml"
	if err := os.WriteFile(path, []byte("[smtp]\npassword = hemligtlosen\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path, nil, func(string) (string, bool) { return "", false })
	if err == nil || strings.Contains(err.Error(), "hemligtlosen") {
		t.Fatalf("config error %v: want an error without the value", err)
	}
}
