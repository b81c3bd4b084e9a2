package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Secret is a password or token from the configuration. It prints as
// "[dold]" in every format and log, so it cannot leak by accident.
type Secret string

func (Secret) String() string               { return "[dold]" }
func (Secret) GoString() string             { return "[dold]" }
func (Secret) LogValue() slog.Value         { return slog.StringValue("[dold]") }
func (s Secret) Format(f fmt.State, _ rune) { f.Write([]byte("[dold]")) }

// Config is the notification configuration: a TOML file (--notify-config)
// with environment variables on top. Example:
//
//	[smtp]
//	host = "smtp.region.example"
//	port = 587
//	tls = "starttls"            # starttls | tls | none (none: loopback test server only)
//	username = "mottagning"
//	password = "…"              # better: MOTTAGNING_SMTP_PASSWORD
//	from = "1177 e-tjänster <no-reply@region.example>"
//	ca_file = ""                # extra CA certificates (PEM)
//	allow_insecure_loopback = false
//
//	[sms]
//	kind = "kannel"             # kannel | elks
//	url = "http://127.0.0.1:13013/cgi-bin/sendsms"
//	username = "mottagning"
//	password = "…"              # better: MOTTAGNING_SMS_PASSWORD
//	from = "1177"
//
//	[retry]
//	initial = "1m"
//	max = "1h"
//	give_up = "72h"
//
// Every key has an environment variable: MOTTAGNING_ and the key in capitals
// with "_" for ".", e.g. MOTTAGNING_SMTP_HOST, MOTTAGNING_SMS_PASSWORD,
// MOTTAGNING_RETRY_GIVE_UP. The variable wins over the file. An unknown key
// in the file, or an unknown MOTTAGNING_SMTP_/SMS_/RETRY_ variable, is an
// error that names it: a typo must not silently leave notifications off.
type Config struct {
	SMTP  SMTPSection  `toml:"smtp"`
	SMS   SMSSection   `toml:"sms"`
	Retry RetrySection `toml:"retry"`
}

// SMTPSection is [smtp].
type SMTPSection struct {
	Host                  string `toml:"host"`
	Port                  int    `toml:"port"`
	TLS                   string `toml:"tls"`
	Username              string `toml:"username"`
	Password              Secret `toml:"password"`
	Auth                  string `toml:"auth"`
	From                  string `toml:"from"`
	CAFile                string `toml:"ca_file"`
	AllowInsecureLoopback bool   `toml:"allow_insecure_loopback"`
	Timeout               string `toml:"timeout"`
}

// SMSSection is [sms] (keys as in SettingSMS…).
type SMSSection struct {
	Kind     string `toml:"kind"`
	URL      string `toml:"url"`
	Username string `toml:"username"`
	Password Secret `toml:"password"`
	From     string `toml:"from"`
}

// RetrySection is [retry]: durations in Go syntax ("90s", "1h", "72h").
type RetrySection struct {
	Initial string `toml:"initial"`
	Max     string `toml:"max"`
	GiveUp  string `toml:"give_up"`
}

// ConfigError names the setting that is wrong.
type ConfigError struct {
	Setting string // e.g. "smtp.port"
	Source  string // the file, or the environment variable
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("notification setting %s (%s): %s", e.Setting, e.Source, e.Problem)
}

// configEnvPrefix starts every notification environment variable.
const configEnvPrefix = "MOTTAGNING_"

// configKeys lists every setting, as section.key.
var configKeys = []string{
	"smtp.host", "smtp.port", "smtp.tls", "smtp.username", "smtp.password", "smtp.auth", "smtp.from",
	"smtp.ca_file", "smtp.allow_insecure_loopback", "smtp.timeout",
	"sms.kind", "sms.url", "sms.username", "sms.password", "sms.from",
	"retry.initial", "retry.max", "retry.give_up",
}

// quoted is a quoted value in a TOML parser's message.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'`)

// hideValues blanks the values a TOML parser quotes in its message (an
// unquoted password is "found" and repeated there): a configuration
// error names the line and the problem, never a value.
func hideValues(msg string) string { return quoted.ReplaceAllString(msg, `"…"`) }

func settingEnv(key string) string {
	return configEnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// LoadConfig reads the file at path ("" for none) and then the environment
// through getenv (os.LookupEnv in the program). environ lists the
// environment's NAME=value entries, to find unknown variables.
func LoadConfig(path string, environ []string, getenv func(string) (string, bool)) (*Config, error) {
	var c Config
	if path != "" {
		md, err := toml.DecodeFile(path, &c)
		if err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				return nil, &ConfigError{Setting: "(file)", Source: path, Problem: fmt.Sprintf("line %d: %s", pe.Position.Line, hideValues(pe.Message))}
			}
			return nil, &ConfigError{Setting: "(file)", Source: path, Problem: hideValues(strings.ReplaceAll(err.Error(), "\n", " "))}
		}
		if und := md.Undecoded(); len(und) > 0 {
			return nil, &ConfigError{Setting: und[0].String(), Source: path,
				Problem: "unknown setting (known: " + strings.Join(configKeys, ", ") + ")"}
		}
	}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		for _, sec := range []string{"SMTP_", "SMS_", "RETRY_"} {
			if strings.HasPrefix(name, configEnvPrefix+sec) && !slices.ContainsFunc(configKeys, func(k string) bool { return settingEnv(k) == name }) {
				return nil, &ConfigError{Setting: name, Source: "environment", Problem: "unknown variable"}
			}
		}
	}
	str := func(key string, dst *string) {
		if v, ok := getenv(settingEnv(key)); ok {
			*dst = v
		}
	}
	sec := func(key string, dst *Secret) {
		if v, ok := getenv(settingEnv(key)); ok {
			*dst = Secret(v)
		}
	}
	str("smtp.host", &c.SMTP.Host)
	str("smtp.tls", &c.SMTP.TLS)
	str("smtp.username", &c.SMTP.Username)
	sec("smtp.password", &c.SMTP.Password)
	str("smtp.auth", &c.SMTP.Auth)
	str("smtp.from", &c.SMTP.From)
	str("smtp.ca_file", &c.SMTP.CAFile)
	str("smtp.timeout", &c.SMTP.Timeout)
	str("sms.kind", &c.SMS.Kind)
	str("sms.url", &c.SMS.URL)
	str("sms.username", &c.SMS.Username)
	sec("sms.password", &c.SMS.Password)
	str("sms.from", &c.SMS.From)
	str("retry.initial", &c.Retry.Initial)
	str("retry.max", &c.Retry.Max)
	str("retry.give_up", &c.Retry.GiveUp)
	if v, ok := getenv(settingEnv("smtp.port")); ok {
		p, err := strconv.Atoi(v)
		if err != nil {
			return nil, &ConfigError{Setting: "smtp.port", Source: settingEnv("smtp.port"), Problem: "not a number"}
		}
		c.SMTP.Port = p
	}
	if v, ok := getenv(settingEnv("smtp.allow_insecure_loopback")); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, &ConfigError{Setting: "smtp.allow_insecure_loopback", Source: settingEnv("smtp.allow_insecure_loopback"), Problem: "want true or false"}
		}
		c.SMTP.AllowInsecureLoopback = b
	}
	if err := c.check(path); err != nil {
		return nil, err
	}
	return &c, nil
}

// source says where a setting may have come from, for the error.
func source(path, key string) string {
	if path == "" {
		return settingEnv(key)
	}
	return path + " or " + settingEnv(key)
}

func (c *Config) check(path string) error {
	bad := func(key, problem string) error {
		return &ConfigError{Setting: key, Source: source(path, key), Problem: problem}
	}
	if c.SMTP.Host != "" {
		if c.SMTP.Port == 0 {
			c.SMTP.Port = 587
			if c.SMTP.TLS == string(TLSImplicit) {
				c.SMTP.Port = 465
			}
		}
		if c.SMTP.TLS == "" {
			c.SMTP.TLS = string(TLSStartTLS)
		}
		if _, err := c.SMTPConfig(); err != nil {
			key := "smtp"
			for _, k := range configKeys {
				if strings.HasPrefix(k, "smtp.") && strings.Contains(err.Error(), k) {
					key = k
					break
				}
			}
			return bad(key, err.Error())
		}
	} else if c.SMTP != (SMTPSection{}) {
		return bad("smtp.host", "empty, but other smtp settings are set")
	}
	switch c.SMS.Kind {
	case "", "kannel", "elks":
	default:
		return bad("sms.kind", fmt.Sprintf("%q: want kannel or elks", c.SMS.Kind))
	}
	if c.SMS.Kind == "" && c.SMS != (SMSSection{}) {
		return bad("sms.kind", "empty, but other sms settings are set")
	}
	for _, d := range []struct{ key, v string }{
		{"retry.initial", c.Retry.Initial}, {"retry.max", c.Retry.Max}, {"retry.give_up", c.Retry.GiveUp}, {"smtp.timeout", c.SMTP.Timeout},
	} {
		if d.v == "" {
			continue
		}
		if v, err := time.ParseDuration(d.v); err != nil || v <= 0 {
			return bad(d.key, fmt.Sprintf("%q is not a positive duration such as 90s, 1h or 72h", d.v))
		}
	}
	return nil
}

// SMTPConfig is the [smtp] section as the client takes it; ok is false
// when no SMTP server is configured.
func (c *Config) SMTPConfig() (*SMTPConfig, error) {
	if c.SMTP.Host == "" {
		return nil, nil
	}
	s := &SMTPConfig{
		Host: c.SMTP.Host, Port: c.SMTP.Port, TLS: TLSMode(c.SMTP.TLS), Username: c.SMTP.Username,
		Password: c.SMTP.Password, Auth: c.SMTP.Auth, From: c.SMTP.From, CAFile: c.SMTP.CAFile,
		AllowInsecureLoopback: c.SMTP.AllowInsecureLoopback,
	}
	if c.SMTP.Timeout != "" {
		d, _ := time.ParseDuration(c.SMTP.Timeout)
		s.DialTimeout, s.CommandTimeout, s.DataTimeout = d, d, d
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// Backoff is the [retry] section, DefaultBackoff for what is not set.
func (c *Config) Backoff() Backoff {
	b := DefaultBackoff
	for _, d := range []struct {
		v   string
		dst *time.Duration
	}{{c.Retry.Initial, &b.Initial}, {c.Retry.Max, &b.Max}, {c.Retry.GiveUp, &b.GiveUp}} {
		if v, err := time.ParseDuration(d.v); err == nil && v > 0 {
			*d.dst = v
		}
	}
	return b
}

// SMSSender builds the configured gateway client; nil when none is
// configured. Its errors name the setting (*SMSSettingError).
func (c *Config) SMSSender() (SMSSender, error) {
	switch c.SMS.Kind {
	case "kannel":
		return NewKannelSender(c.SMS.URL, c.SMS.Username, string(c.SMS.Password), c.SMS.From)
	case "elks":
		return NewElksSender(c.SMS.URL, c.SMS.Username, string(c.SMS.Password), c.SMS.From)
	}
	return nil, nil
}

// Configured reports whether any channel is configured.
func (c *Config) Configured() bool { return c.SMTP.Host != "" || c.SMS.Kind != "" }

// OnlyLoopback reports whether every configured server is on this machine
// (a demo database may send only there). An SMS gateway without a URL is
// the provider's public API, so not loopback.
func (c *Config) OnlyLoopback() bool {
	if c.SMTP.Host != "" && !smtpLoopback(c.SMTP.Host) {
		return false
	}
	if c.SMS.Kind != "" {
		u, err := url.Parse(c.SMS.URL)
		if c.SMS.URL == "" || err != nil || !smtpLoopback(hostOnly(u.Host)) {
			return false
		}
	}
	return true
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// LogValue describes the configuration for a log line: hosts and modes,
// never a password, a user name or the sender address.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("smtp_host", c.SMTP.Host), slog.Int("smtp_port", c.SMTP.Port), slog.String("smtp_tls", c.SMTP.TLS),
		slog.Bool("smtp_auth", c.SMTP.Username != ""), slog.String("sms_kind", c.SMS.Kind),
	)
}

// Environ is os.Environ, for LoadConfig.
func Environ() ([]string, func(string) (string, bool)) { return os.Environ(), os.LookupEnv }
