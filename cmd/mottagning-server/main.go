// Command mottagning-server is the central server of Mottagning: the system of
// record that connected desktops sync with (see shared/STYLE.md, "Two ways the
// desktop runs").
//
// This file is the server's composition root. For now it is a skeleton: it
// parses its flags, makes sure the data directory exists, serves GET /healthz
// and shuts down cleanly on SIGTERM or SIGINT. Later issues wire the store,
// the sync handlers and the notification dispatcher in here, and nowhere else.
//
// Usage:
//
//	mottagning-server --data DIR [--addr 127.0.0.1:8080]
//
// The server imports no Fyne and builds with CGO_ENABLED=0. It logs JSON lines
// (log/slog) to stderr; a log line never carries personal data, so requests are
// logged by route pattern, status and duration only — no query, no body and no
// client address.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const (
	// defaultAddr is plain HTTP on loopback. TLS (and with it the real default
	// of 127.0.0.1:8443) comes with the issue that adds accounts and sync:
	// until then nothing but the health check is served, so nothing is secret.
	defaultAddr = "127.0.0.1:8080"

	// shutdownTimeout bounds how long in-flight requests may finish after
	// SIGTERM before the server closes their connections.
	shutdownTimeout = 10 * time.Second
)

func main() {
	// SIGTERM is what service managers and `docker stop` send; SIGINT is ^C.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		// --help printed the usage: not a failure.
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		// run already logged what it could; this line is for a failure before
		// the logger existed, and it carries no personal data either.
		fmt.Fprintln(os.Stderr, "mottagning-server:", err)
		os.Exit(1)
	}
}

// errUsage marks a bad command line; main exits with 2 for it, as flag does.
var errUsage = errors.New("usage")

// config is the parsed command line.
type config struct {
	addr    string // listen address, host:port
	dataDir string // directory for the server's database and keys
}

// parseFlags reads args (without the program name). Usage and flag errors go
// to stderr.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("mottagning-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", defaultAddr, "listen `address` (host:port; port 0 picks a free one). Plain HTTP until TLS is added.")
	// No default for --data: a server that silently writes patient data to
	// whatever directory it was started in is worse than one that refuses.
	fs.StringVar(&cfg.dataDir, "data", "", "data `directory` (required), created with mode 0700 if missing")
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
	if cfg.dataDir == "" {
		fmt.Fprintln(stderr, "mottagning-server: --data is required")
		fs.Usage()
		return cfg, fmt.Errorf("%w: --data is required", errUsage)
	}
	return cfg, nil
}

// run is the whole server: it returns when ctx ends (after a graceful
// shutdown, with nil) or when serving fails. main cancels ctx on SIGTERM and
// SIGINT; tests cancel it themselves.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	// 0700: the directory will hold the database with personal data and the
	// server's keys. MkdirAll leaves an existing directory's mode alone.
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		log.Error("data directory", "err", err)
		return fmt.Errorf("create data directory: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		log.Error("listen", "addr", cfg.addr, "err", err)
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           logRequests(log, newHandler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Tests and scripts start the server on port 0 and read the real address
	// from this line: {"msg":"listening","addr":"127.0.0.1:NNNNN"}.
	// The data path stays out of the log: it may contain a user's name.
	log.Info("listening", "addr", ln.Addr().String())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		// Serve never returns nil; anything before Shutdown is a failure.
		log.Error("serve", "err", err)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down", "timeout", shutdownTimeout.String())
	// ctx is already done: the grace period needs a fresh context.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Requests still running after the grace period are cut off.
		_ = srv.Close()
		log.Error("shutdown", "err", err)
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newHandler builds the server's routes. Method-qualified patterns give 405
// (with an Allow header) for a known path with another method, and 404 for
// unknown paths. HEAD is accepted wherever GET is, as net/http does.
func newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", handleHealthz)
	return mux
}

// handleHealthz tells a load balancer or service manager that the process
// serves HTTP. It checks nothing deeper yet; once there is a store it should
// also fail when the database is unusable.
func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "ok\n")
}

// logRequests logs one line per request. It logs the matched route pattern
// rather than the path because later paths and queries will carry ids that
// may identify a resident; unmatched requests log as "unmatched".
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		// ServeMux sets r.Pattern on this same request when it routes it.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

// statusWriter remembers the status code a handler wrote, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
