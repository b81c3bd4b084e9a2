package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"mottagning/app"
	"mottagning/server/staffauth"

	"mottagning/server"
)

// config is the server's configuration: a TOML file (--config) with the
// command-line flags on top. Example:
//
//	addr = "0.0.0.0:8443"
//	data = "/var/lib/mottagning"
//	tls_cert = "/etc/mottagning/cert.pem"   # both, or neither (self-signed)
//	tls_key = "/etc/mottagning/key.pem"
//	eid = "none"                            # none | test (anyone can sign in as anyone!)
//	resident_session_ttl = "30m"
//	notify_config = "/etc/mottagning/notify.toml"   # notify.LoadConfig format
//	log_level = "info"                      # debug | info | warn | error
//	trusted_proxies = ["10.0.0.0/8"]        # whose X-Forwarded-For the limits believe
//	signin_failures_per_minute = 10         # failed staff sign-ins per client address
//	metrics_addr = "127.0.0.1:9464"         # Prometheus /metrics, plain HTTP; "off" for none
//	totp_required_roles = ["behorighetsadministrator"]   # roles that must have a second factor
//	key_file = "/etc/mottagning/data-key"   # the server key (datakey.go); or
//	key_command = "vault kv get -field=key secret/mottagning"
//	db = "postgres://mottagning@db.region.example/mottagning?sslmode=verify-full"
//	                                        # PostgreSQL instead of bbolt in data
//	                                        # (or $MOTTAGNING_DB: a password stays out of ps)
//
// An unknown key is an error that names it: a typo must not silently
// leave a setting at its default.
type config struct {
	Addr         string `toml:"addr"`
	DataDir      string `toml:"data"`
	TLSCert      string `toml:"tls_cert"`
	TLSKey       string `toml:"tls_key"`
	EID          string `toml:"eid"`
	ResidentTTL  string `toml:"resident_session_ttl"`
	NotifyConfig string `toml:"notify_config"`
	LogLevel     string `toml:"log_level"`
	// TrustedProxies are the reverse proxies whose X-Forwarded-For the
	// limits believe (addresses or CIDR prefixes).
	TrustedProxies []string `toml:"trusted_proxies"`
	// TOTPRequiredRoles are the roles (app.Role codes, clinic or region)
	// whose holders must enrol a second factor before anything else.
	TOTPRequiredRoles []string `toml:"totp_required_roles"`
	// MetricsAddr is the listen address of GET /metrics (default
	// 127.0.0.1:9464, loopback; "off": none).
	MetricsAddr string `toml:"metrics_addr"`
	// SignInFailures is how many failed staff sign-ins (and refused
	// refreshes) a client address may make at once and per minute after
	// that (default 10). Valid ones never count.
	SignInFailures int `toml:"signin_failures_per_minute"`
	// KeyFile and KeyCommand give the server key (datakey.go).
	KeyFile    string `toml:"key_file"`
	KeyCommand string `toml:"key_command"`
	// DB is a PostgreSQL URL: the data goes there instead of the bbolt
	// file in DataDir, and several server nodes may share it.
	DB string `toml:"db"`

	demo bool
	// metricsDefault: MetricsAddr was not set (a busy default port is
	// then a warning, not a refusal to start).
	metricsDefault bool
	// allowTestEID: --allow-test-eid, the test e-ID provider on a
	// database that is not a demo one (a test region's staging server).
	allowTestEID bool
	trusted      []netip.Prefix
	configFile   string
	residentTTL  time.Duration
}

var configKeys = []string{"addr", "data", "tls_cert", "tls_key", "eid", "resident_session_ttl", "notify_config", "log_level", "trusted_proxies", "signin_failures_per_minute", "totp_required_roles", "metrics_addr", "key_file", "key_command", "db"}

// defaultMetricsAddr is where the metrics listen unless told otherwise.
const defaultMetricsAddr = "127.0.0.1:9464"

// loadConfigFile reads path into cfg.
func loadConfigFile(path string, cfg *config) error {
	md, err := toml.DecodeFile(path, cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("config %s, line %d: %s", path, pe.Position.Line, pe.Message)
		}
		return fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		names := make([]string, len(und))
		for i, k := range und {
			names[i] = k.String()
		}
		return fmt.Errorf("config %s: unknown setting %s (known: %s)", path, strings.Join(names, ", "), strings.Join(configKeys, ", "))
	}
	return nil
}

// parseServe reads serve's flags (and the config file they name).
func parseServe(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var flags config
	fs := flag.NewFlagSet("mottagning-server serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&flags.Addr, "addr", defaultAddr, "listen `address` (host:port; port 0 picks a free one), HTTPS")
	// No default for --data: a server that silently writes patient data to
	// whatever directory it was started in is worse than one that refuses.
	fs.StringVar(&flags.DataDir, "data", "", "data `directory` (required), created with mode 0700 if missing")
	fs.StringVar(&flags.configFile, "config", "", "configuration `file` (TOML); flags win over it")
	fs.StringVar(&flags.TLSCert, "tls-cert", "", "TLS certificate `file` (PEM); without it a self-signed one is made in the data directory")
	fs.StringVar(&flags.TLSKey, "tls-key", "", "TLS private key `file` (PEM)")
	fs.StringVar(&flags.EID, "eid", "", "e-ID provider for residents: none, or test (a test provider that signs anyone in; default test with --demo)")
	fs.StringVar(&flags.MetricsAddr, "metrics-addr", "", "listen `address` of the Prometheus metrics, plain HTTP (default 127.0.0.1:9464; off for none)")
	fs.StringVar(&flags.NotifyConfig, "notify-config", "", "notification configuration `file` (SMTP, SMS; see notify.Config)")
	var proxies string
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated `addresses or CIDR prefixes` of reverse proxies whose X-Forwarded-For the sign-in limits believe")
	var key keySource
	key.flags(fs)
	fs.StringVar(&flags.DB, "db", "", "PostgreSQL `URL` (postgres://…) to keep the data in instead of the data directory's bbolt file; several nodes may share it (also $MOTTAGNING_DB)")
	fs.BoolVar(&flags.allowTestEID, "allow-test-eid", false, "allow --eid test on a database that is not a demo one (staging with test personnummer only)")
	fs.BoolVar(&flags.demo, "demo", false, "seed the demo region on an empty data directory (a sandbox: never real data)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mottagning-server: unexpected arguments: %q\n", fs.Args())
		fs.Usage()
		return cfg, fmt.Errorf("%w: unexpected arguments", errUsage)
	}
	cfg.Addr = defaultAddr
	if flags.configFile != "" {
		if err := loadConfigFile(flags.configFile, &cfg); err != nil {
			fmt.Fprintln(stderr, "mottagning-server:", err)
			return cfg, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	over := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	over("addr", &cfg.Addr, flags.Addr)
	over("data", &cfg.DataDir, flags.DataDir)
	over("tls-cert", &cfg.TLSCert, flags.TLSCert)
	over("tls-key", &cfg.TLSKey, flags.TLSKey)
	over("eid", &cfg.EID, flags.EID)
	over("notify-config", &cfg.NotifyConfig, flags.NotifyConfig)
	over("metrics-addr", &cfg.MetricsAddr, flags.MetricsAddr)
	over("key-file", &cfg.KeyFile, key.File)
	over("key-command", &cfg.KeyCommand, key.Command)
	if env := envDB(); env != "" && !set["db"] {
		cfg.DB = env
	}
	over("db", &cfg.DB, flags.DB)
	if set["trusted-proxies"] {
		cfg.TrustedProxies = strings.Split(proxies, ",")
	}
	cfg.demo, cfg.configFile, cfg.allowTestEID = flags.demo, flags.configFile, flags.allowTestEID

	bad := func(msg string) (config, error) {
		fmt.Fprintln(stderr, "mottagning-server:", msg)
		fs.Usage()
		return cfg, fmt.Errorf("%w: %s", errUsage, msg)
	}
	if cfg.DataDir == "" {
		return bad("--data is required")
	}
	trusted, perr := server.ParseTrustedProxies(cfg.TrustedProxies)
	if perr != nil {
		err := perr
		return bad(fmt.Sprintf("trusted proxies: %v (want addresses or CIDR prefixes)", err))
	}
	cfg.trusted = trusted
	for _, r := range cfg.TOTPRequiredRoles {
		if !knownRole(app.Role(r)) {
			return bad(fmt.Sprintf("totp_required_roles: unknown role %q", r))
		}
	}
	if cfg.MetricsAddr == "" {
		cfg.MetricsAddr, cfg.metricsDefault = defaultMetricsAddr, true
	}
	switch {
	case cfg.SignInFailures == 0:
		cfg.SignInFailures = 10
	case cfg.SignInFailures < 1 || cfg.SignInFailures > 10000:
		return bad("signin_failures_per_minute: want 1 to 10000")
	}
	if cfg.DB != "" && !strings.HasPrefix(cfg.DB, "postgres://") && !strings.HasPrefix(cfg.DB, "postgresql://") {
		return bad("--db: want a PostgreSQL URL, postgres://user@host/database?sslmode=…")
	}
	if cfg.KeyFile != "" && cfg.KeyCommand != "" {
		return bad("key_file and key_command: give one of them")
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return bad("--tls-cert and --tls-key go together")
	}
	switch cfg.EID {
	case "":
		cfg.EID = "none"
		if cfg.demo {
			cfg.EID = "test"
		}
	case "none", "test":
	default:
		return bad(fmt.Sprintf("--eid %q: want none or test", cfg.EID))
	}
	cfg.residentTTL = 30 * time.Minute
	if cfg.ResidentTTL != "" {
		d, err := time.ParseDuration(cfg.ResidentTTL)
		if err != nil || d <= 0 || d > 24*time.Hour {
			return bad("resident_session_ttl: want a duration such as 30m (at most 24h)")
		}
		cfg.residentTTL = d
	}
	switch cfg.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return bad(fmt.Sprintf("log_level %q: want debug, info, warn or error", cfg.LogLevel))
	}
	return cfg, nil
}

// knownRole reports whether r is a clinic or region role.
func knownRole(r app.Role) bool {
	return slices.Contains(app.AllClinicRoles, r) || r == app.RoleContactCenter || r == staffauth.RoleRegionPermissionAdmin
}

// totpRequired is staffauth.Options.TOTPRequired for roles.
func totpRequired(roles []string) func(app.Staff) bool {
	if len(roles) == 0 {
		return nil
	}
	return func(st app.Staff) bool {
		for _, r := range roles {
			if slices.Contains(st.RegionRoles, app.Role(r)) {
				return true
			}
			for _, rs := range st.Roles {
				if slices.Contains(rs, app.Role(r)) {
					return true
				}
			}
		}
		return false
	}
}

// envDB is $MOTTAGNING_DB, the database URL outside the command line.
func envDB() string { return os.Getenv("MOTTAGNING_DB") }
