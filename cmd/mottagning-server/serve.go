package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	stdsync "sync"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/notify"
	"mottagning/server"
	"mottagning/server/staffauth"
	"mottagning/storage"
)

// adminSocket is the admin API's Unix socket in the data directory.
const adminSocket = "admin.sock"

// serve runs the server until ctx ends.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	// 0700: the directory holds the databases with personal data and the
	// server's keys. MkdirAll leaves an existing directory's mode alone.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		log.Error("data directory", "err", err)
		return fmt.Errorf("create data directory: %w", err)
	}
	clock := app.SystemClock{}

	be, err := openBackend(ctx, cfg, clock, log)
	if err != nil {
		log.Error("open database", "err", err)
		return err
	}
	defer be.close()
	store := be.store
	serverKey := be.serverKey
	if be.sealed {
		log.Info(be.keyMsg)
	} else {
		log.Warn(be.keyMsg)
	}
	if be.note != "" {
		log.Info(be.note)
	}
	// Staff changes reach the case database's directory (assignees,
	// names) at once, through the server's write gate once it exists.
	var mirror func(ctx context.Context, st *app.Staff) error = store.PutStaff
	authOpts := staffauth.Options{SourcePerMinute: float64(cfg.SignInFailures), SourceBurst: cfg.SignInFailures,
		TOTPRequired: totpRequired(cfg.TOTPRequiredRoles), OnChange: func(ctx context.Context, st app.Staff) {
			if err := mirror(ctx, &st); err != nil {
				log.Error("mirror staff change", "staff", st.ID, "err", err)
			}
		}}
	if cfg.demo || store.IsDemo() {
		// Demo passwords are printed in the docs: a high cost protects nothing.
		authOpts.Params = demo.PasswordParams
	}
	auth, err := be.newAuth(authOpts)
	if err != nil {
		log.Error("open staff accounts", "err", err)
		return fmt.Errorf("open staff accounts: %w", err)
	}
	defer auth.Close()

	if cfg.demo {
		if err := be.seeding(ctx, func() error { return seedDemo(ctx, be, auth, clock.Now(), log) }); err != nil {
			log.Error("demo data", "err", err)
			return err
		}
	}
	if err := mirrorStaff(ctx, auth, store); err != nil {
		log.Error("staff directory", "err", err)
		return err
	}

	var eid server.EIDProvider
	if cfg.EID == "test" && !cfg.demo && !store.IsDemo() && !cfg.allowTestEID {
		// Anyone could sign in as any resident of a real database.
		log.Error("test e-ID refused on a database that is not a demo one")
		return errors.New("--eid test signs anyone in as any resident: it runs only on a demo database (--demo), " +
			"or on a staging database with test personnummer when --allow-test-eid is given as well")
	}
	if cfg.EID == "test" {
		eid = &server.TestEID{Clock: clock}
		log.Warn("test e-ID enabled: anyone can sign in as any resident; never use it with real data")
	}

	ncfg, err := loadNotify(cfg)
	if err != nil {
		log.Error("notification settings", "err", err)
		return err
	}
	if store.IsDemo() && ncfg.Configured() && !ncfg.OnlyLoopback() {
		log.Error("notification settings: a demo database may send only to servers on this machine")
		return errors.New("notification settings: a demo database may send only to servers on this machine (127.0.0.1)")
	}
	mail, sms, err := notifySenders(ncfg)
	if err != nil {
		log.Error("notification settings", "err", err)
		return err
	}
	var testSender app.TestSender
	if mail != nil || sms != nil {
		ts := &notify.TestSender{Clock: clock}
		if mail != nil {
			ts.Mail = mail
		}
		if sms != nil {
			ts.SMS = sms
		}
		testSender = ts
	}

	srv, err := server.New(ctx, server.Deps{Store: store, Staff: staffAuth{auth}, EID: eid, Clock: clock, Logger: log,
		Metrics:    server.NewMetrics(versionString()),
		TestSender: testSender, ResidentTTL: cfg.residentTTL, TrustedProxies: cfg.trusted})
	if err != nil {
		log.Error("server", "err", err)
		return err
	}
	mirror = srv.Gate().PutStaff // before serving: hooks run from requests
	// The server's own access-log chain: entries past the retention time
	// go (verification still starts from the oldest kept checkpoint), and
	// the head is signed when the server stops.
	if n, err := srv.Gate().PruneAccessLog(ctx, clock.Now()); err != nil {
		log.Error("prune access log", "err", err)
	} else if n > 0 {
		log.Info("pruned access log", "entries", n)
	}
	// Sync op ids are remembered for AppliedOpsRetention (docs/sync.md: at
	// least 30 days); older ones go.
	if n, err := srv.Gate().PruneAppliedOps(ctx, clock.Now().Add(-storage.AppliedOpsRetention)); err != nil {
		log.Error("prune applied sync ops", "err", err)
	} else if n > 0 {
		log.Info("pruned applied sync ops", "ops", n)
	}
	// Chunks of an upload whose attachment.put op never came go after
	// StagedChunksRetention.
	if n, err := srv.Gate().PruneStagedChunks(ctx, clock.Now().Add(-storage.StagedChunksRetention)); err != nil {
		log.Error("prune staged attachment chunks", "err", err)
	} else if n > 0 {
		log.Info("pruned staged attachment chunks", "attachments", n)
	}
	defer func() {
		// An empty access log (a server nobody used) has nothing to sign.
		if _, err := srv.Gate().CheckpointAccessLog(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, app.ErrNotFound) {
			log.Error("checkpoint access log", "err", err)
		}
	}()

	cert, fp, err := loadCertificate(cfg)
	if err != nil {
		log.Error("tls", "err", err)
		return err
	}
	// Tests, scripts and desktops read the pin from this line.
	log.Info("tls", "fingerprint_sha256", fp)
	if np := nextPinSource(cfg.DataDir, fp, time.Now)(); np != nil {
		log.Info("tls rotation announced", "current_sha256", np.Current, "next_sha256", np.Next, "until", np.NotAfter)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		log.Error("listen", "addr", cfg.Addr, "err", err)
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	adminLn, err := listenAdmin(cfg.DataDir)
	if err != nil {
		ln.Close()
		log.Error("admin socket", "err", err)
		return err
	}
	defer os.Remove(filepath.Join(cfg.DataDir, adminSocket))
	// The metrics listener: plain HTTP, loopback by default (a Prometheus
	// on the same machine, or a node exporter's proxy); "off" has none.
	var metricsLn net.Listener
	if cfg.MetricsAddr != "off" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil && cfg.metricsDefault {
			// Another server on this machine has the default port.
			log.Warn("metrics not served: the default address is taken; set metrics_addr", "addr", cfg.MetricsAddr, "err", err)
			metricsLn = nil
		} else if err != nil {
			ln.Close()
			adminLn.Close()
			log.Error("metrics listen", "addr", cfg.MetricsAddr, "err", err)
			return fmt.Errorf("listen for metrics on %s: %w", cfg.MetricsAddr, err)
		}
	}

	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	// polls ends when the shutdown begins: the long polls of desktops
	// (GET /api/sync/events, held open up to msync.EventsWait seconds)
	// answer at once then, so that the grace period is left to the
	// requests that do work.
	polls, endPolls := context.WithCancel(context.WithoutCancel(ctx))
	defer endPolls()
	hs := &http.Server{
		Handler:           endOnShutdown(withNextPin(srv.Handler(), nextPinSource(cfg.DataDir, fp, time.Now)), polls),
		TLSConfig:         serverTLS(cert),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
	}
	hs.RegisterOnShutdown(endPolls)
	as := &http.Server{
		Handler: adminDevices(auth, log, // devices.go
			srv.AdminHandler(func() []server.BackupFile {
				files := []server.BackupFile{{Name: authFile, Write: func(ctx context.Context, w io.Writer) error { _, err := auth.Backup(ctx, w); return err }}}
				return append(files, extraBackupFiles(cfg.DataDir, serverKey)...)
			})),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          errLog,
	}

	// The dispatcher shares the server's gate, so a backup sees none of its
	// writes in flight either.
	dctx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	var wg stdsync.WaitGroup
	disp := &notify.Dispatcher{Outbox: srv.Gate(), Clock: clock, Log: log, Backoff: ncfg.Backoff(),
		OnFailed: srv.Metrics().AddDeliveryFailures}
	if mail != nil {
		disp.Mail = mail
	}
	if sms != nil {
		disp.SMS = sms
	}
	// On a database other nodes write too, this node's case lists follow
	// their changes (nothing to follow on bbolt).
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv.FollowFeed(dctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := disp.Serve(dctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("notification dispatcher stopped", "err", err)
		}
	}()

	// Tests and scripts start the server on port 0 and read the real address
	// from this line: {"msg":"listening","addr":"127.0.0.1:NNNNN"}.
	// The data path stays out of the log: it may contain a user's name.
	log.Info("listening", "addr", ln.Addr().String(), "version", versionString(), "eid", cfg.EID, "demo", store.IsDemo(),
		"store", map[bool]string{true: "postgres", false: "bbolt"}[cfg.DB != ""])

	servers := []*http.Server{hs, as}
	serveErr := make(chan error, 3)
	go func() { serveErr <- hs.ServeTLS(ln, "", "") }()
	go func() { serveErr <- as.Serve(adminLn) }()
	if metricsLn != nil {
		ms := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
		servers = append(servers, ms)
		log.Info("metrics listening", "addr", metricsLn.Addr().String())
		go func() { serveErr <- ms.Serve(metricsLn) }()
	}

	var failed error
	select {
	case err := <-serveErr:
		log.Error("serve", "err", err)
		failed = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down", "timeout", shutdownTimeout.String())
	// ctx is already done: the grace period needs a fresh context.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			// Requests still running after the grace period are cut off.
			_ = s.Close()
			log.Error("shutdown", "err", err)
			if failed == nil {
				failed = fmt.Errorf("shutdown: %w", err)
			}
		}
	}
	stopDispatch()
	wg.Wait()
	if failed != nil {
		return failed
	}
	log.Info("stopped")
	return nil
}

// longPollPath is the one endpoint that waits for something to happen
// instead of doing work.
const longPollPath = "/api/sync/events"

// endOnShutdown gives the long polls of h a context that also ends with
// stop, so a shutdown does not wait for them (http.Server.Shutdown waits
// for every active request and would run into its deadline). A poll ended
// so answers "nothing changed", as at its timeout, and the desktop polls
// again once the server is back. Other requests keep their own context:
// a push under way finishes within the grace period.
func endOnShutdown(h http.Handler, stop context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != longPollPath {
			h.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		unhook := context.AfterFunc(stop, cancel)
		defer unhook()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// listenAdmin listens on the admin socket, mode 0600. A socket file left by
// a killed server is removed: the database lock, taken before, proves no
// other server runs on this directory.
func listenAdmin(dir string) (net.Listener, error) {
	path := filepath.Join(dir, adminSocket)
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return ln, nil
}

// loadNotify reads the notification settings: the file named by the
// config, then MOTTAGNING_SMTP_*, _SMS_*, _RETRY_* from the environment.
func loadNotify(cfg config) (*notify.Config, error) {
	environ, getenv := notify.Environ()
	c, err := notify.LoadConfig(cfg.NotifyConfig, environ, getenv)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// notifySenders builds the configured e-mail and SMS senders (nil when not
// configured).
func notifySenders(c *notify.Config) (*notify.SMTPClient, notify.SMSSender, error) {
	var mail *notify.SMTPClient
	sc, err := c.SMTPConfig()
	if err != nil {
		return nil, nil, err
	}
	if sc != nil {
		if mail, err = notify.NewSMTPClient(*sc); err != nil {
			return nil, nil, err
		}
	}
	sms, err := c.SMSSender()
	if err != nil {
		return nil, nil, err
	}
	return mail, sms, nil
}

// seedDemo writes the demo region into an empty data directory: the data
// set into the case database, and the demo staff with their demo passwords
// (demo.Password) into auth.db, under a region administrator "regionadmin"
// (password demo.Password("regionadmin")). A directory with data is left
// alone.
func seedDemo(ctx context.Context, be *backend, auth *staffauth.Service, now time.Time, log *slog.Logger) error {
	store := be.store
	empty, err := be.empty(ctx)
	if err != nil {
		return fmt.Errorf("--demo: %w", err)
	}
	if !empty {
		if !store.IsDemo() {
			return errors.New("--demo: the data directory holds real data; demo data is only seeded into an empty one")
		}
		return nil
	}
	ds := demo.Build(now)
	ds.WithPasswords = false // passwords live in auth.db on the server
	if err := demo.Seed(ctx, store, ds); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	admin := app.Staff{ID: app.NewID(now), Name: "Regionadministratör (demo)", Username: "regionadmin", Title: "Administratör"}
	if err := auth.Bootstrap(ctx, admin, demo.Password(admin.Username)); err != nil && !errors.Is(err, staffauth.ErrAlreadyBootstrapped) {
		return fmt.Errorf("seed demo staff: %w", err)
	}
	by := &staffauth.Claims{StaffID: admin.ID}
	for _, st := range ds.Staff {
		if err := auth.PutStaff(ctx, by, st); err != nil {
			return fmt.Errorf("seed demo staff %s: %w", st.ID, err)
		}
		if err := auth.SetPassword(ctx, by, st.ID, demo.Password(st.Username)); err != nil {
			return fmt.Errorf("seed demo staff %s: %w", st.ID, err)
		}
	}
	log.Info("demo region seeded", "clinics", len(ds.Clinics), "staff", len(ds.Staff), "residents", len(ds.Residents), "cases", len(ds.Threads))
	return nil
}

// aeadSuites are the TLS 1.2 cipher suites the server offers: ECDHE with
// an AEAD only (no CBC, no RSA key exchange). TLS 1.3's suites are all
// AEAD and not configurable.
var aeadSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// serverTLS is the server's TLS configuration: TLS 1.2 or later, and on
// 1.2 the AEAD suites only.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: aeadSuites, Certificates: []tls.Certificate{cert}}
}
