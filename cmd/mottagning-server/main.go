// Command mottagning-server is the central server of Mottagning: the system
// of record of a region. It serves the staff API the desktop uses and the
// resident API (e-ID sign-in, inbox, proxy mode, settings, lock) over TLS,
// keeps its data in bbolt files in the data directory, and sends the
// notifications of the outbox. This file and its siblings are the server's
// composition root: they parse the command line and wire the store,
// package server, server/staffauth and notify together, and nothing else.
//
// Usage:
//
//	mottagning-server [serve] --data DIR [--db postgres://…] [--addr 127.0.0.1:8443] [--config FILE]
//	                          [--tls-cert FILE --tls-key FILE] [--eid none|test] [--demo]
//	                          [--key-file FILE | --key-command CMD] [--metrics-addr ADDR]
//	mottagning-server import-register --data DIR [--key-file FILE] FILE
//	mottagning-server backup --data DIR --out FILE --recipient age1… [--key-file FILE]
//	mottagning-server restore --data DIR --in FILE --identity FILE --key-file FILE [--force]
//	mottagning-server keygen --out FILE
//	mottagning-server rekey --data DIR --key-file OLD --new-key-file NEW
//	mottagning-server migrate --data DIR --to postgres://… [--key-file FILE]
//	                          (a stopped bbolt server's data into an empty PostgreSQL database)
//	mottagning-server bootstrap --data DIR --username NAME --name "Full Name"
//	mottagning-server devices --data DIR
//	mottagning-server revoke-device --data DIR --reason TEXT DEVICE-ID
//	mottagning-server rotate-cert --data DIR [--days N] | --switch
//	mottagning-server version (or --version)
//
// Without --tls-cert/--tls-key a self-signed ECDSA certificate is made on
// first start and kept in the data directory; its SHA-256 fingerprint is
// logged at every start ({"msg":"tls","fingerprint_sha256":…}) so a desktop
// can pin it (client.Options.PinSHA256). rotate-cert changes it without
// stopping the pinned desktops: it prepares the next certificate and
// announces its fingerprint signed with the current key (served at
// GET /api/sync/next-pin); --switch, with the server stopped, makes it the
// current one (docs/sync.md, Operations). A certificate given with
// --tls-cert that a CA issued is trusted by desktops through the CA.
//
// While serving, the process holds the databases' locks. It also listens
// on a Unix socket, DIR/admin.sock (mode 0600): backup and import-register
// go through it when the server runs, and open the files directly when it
// does not. restore refuses while the server runs.
//
// The server imports no Fyne and builds with CGO_ENABLED=0. It logs JSON
// lines (log/slog) to stderr; a log line never carries personal data, so
// requests are logged by route pattern, status and duration only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const (
	// defaultAddr is loopback: exposing the server is a deliberate choice
	// (a reverse proxy, or --addr).
	defaultAddr = "127.0.0.1:8443"

	// shutdownTimeout bounds how long in-flight requests may finish after
	// SIGTERM before the server closes their connections.
	shutdownTimeout = 10 * time.Second
)

func main() {
	// SIGTERM is what service managers and `docker stop` send; SIGINT is ^C.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		// --help printed the usage: not a failure.
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		// Errors carry no personal data (ids and file names only).
		fmt.Fprintln(os.Stderr, "mottagning-server:", err)
		os.Exit(1)
	}
}

// errUsage marks a bad command line; main exits with 2 for it, as flag does.
var errUsage = errors.New("usage")

// run dispatches on the subcommand (serve when the first argument is a flag
// or there is none). It returns when the command is done; serve returns
// when ctx ends, after a graceful shutdown.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		printVersion(stdout)
		return nil
	}
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "import-register":
		return importRegister(ctx, args, stdout, stderr)
	case "backup":
		return backup(ctx, args, stdout, stderr)
	case "restore":
		return restore(ctx, args, stdout, stderr)
	case "bootstrap":
		return bootstrap(ctx, args, stdin, stdout, stderr)
	case "fhir-import":
		return fhirImport(args, stdout, stderr)
	case "devices":
		return listDevices(ctx, args, stdout, stderr)
	case "revoke-device":
		return revokeDevice(ctx, args, stdout, stderr)
	case "rotate-cert":
		return rotateCert(ctx, args, stdout, stderr)
	case "keygen":
		return keygen(args, stdout, stderr)
	case "rekey":
		return rekey(ctx, args, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, stdout, stderr)
	case "version":
		printVersion(stdout)
		return nil
	case "help":
		fmt.Fprintln(stderr, "usage: mottagning-server [serve|import-register|backup|restore|bootstrap|fhir-import|devices|revoke-device|rotate-cert|keygen|rekey|migrate|version] [flags]; mottagning-server COMMAND -h for its flags")
		return flag.ErrHelp
	}
	fmt.Fprintf(stderr, "mottagning-server: unknown command %q (serve, import-register, backup, restore, bootstrap, fhir-import, devices, revoke-device, rotate-cert, keygen, rekey, migrate, version)\n", cmd)
	return fmt.Errorf("%w: unknown command", errUsage)
}
