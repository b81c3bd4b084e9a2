package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mottagning/app"
	"mottagning/server"
	"mottagning/server/staffauth"
	"mottagning/storage"
)

// errRunning: the command needs the server stopped (restore, bootstrap),
// or the server holds the files but its admin socket does not answer.
var errRunning = errors.New("the server is running on this data directory")

// adminClient talks to the running server's admin socket; nil when no
// server answers there.
func adminClient(ctx context.Context, dir string) *http.Client {
	path := filepath.Join(dir, adminSocket)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	c := &http.Client{Transport: tr}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin/healthz", nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil
	}
	resp.Body.Close()
	return c
}

// flagSet makes a subcommand's flag set with --data.
func flagSet(name string, stderr io.Writer, data *string) *flag.FlagSet {
	fs := flag.NewFlagSet("mottagning-server "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(data, "data", "", "data `directory` of the server (required)")
	return fs
}

func parseSub(fs *flag.FlagSet, args []string, stderr io.Writer, nargs int, need ...string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	for _, n := range need {
		if fs.Lookup(n).Value.String() == "" {
			fmt.Fprintf(stderr, "mottagning-server: --%s is required\n", n)
			fs.Usage()
			return fmt.Errorf("%w: --%s is required", errUsage, n)
		}
	}
	if fs.NArg() != nargs {
		fmt.Fprintf(stderr, "mottagning-server: want %d argument(s), got %d\n", nargs, fs.NArg())
		fs.Usage()
		return fmt.Errorf("%w: arguments", errUsage)
	}
	return nil
}

// importRegister imports a population-register file (docs/register-format.md):
// through the running server, or straight into the database when it is stopped.
func importRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir string
	var key keySource
	fs := flagSet("import-register", stderr, &dir)
	key.flags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mottagning-server import-register --data DIR [--key-file FILE | --key-command CMD] FILE (CSV or JSON, see docs/register-format.md)\n"+
			"The server key is needed only when the server is stopped (the running server has it).")
		fs.PrintDefaults()
	}
	if err := parseSub(fs, args, stderr, 1, "data"); err != nil {
		return err
	}
	file := fs.Arg(0)
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("import-register: %w", err)
	}
	defer f.Close()

	var res server.ImportResult
	if c := adminClient(ctx, dir); c != nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/admin/import-register", f)
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("import-register: %w", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			var e struct{ Code, Message string }
			_ = json.Unmarshal(body, &e)
			return fmt.Errorf("import-register %s: %s (nothing was imported)", filepath.Base(file), e.Message)
		}
		if err := json.Unmarshal(body, &res); err != nil {
			return fmt.Errorf("import-register: answer: %w", err)
		}
	} else {
		store, err := storage.Open(ctx, dir, storage.Options{Timeout: time.Second})
		if errors.Is(err, storage.ErrAlreadyRunning) {
			return fmt.Errorf("import-register: %w, but its admin socket does not answer", errRunning)
		}
		if err != nil {
			return fmt.Errorf("import-register: %w", err)
		}
		defer store.Close()
		if _, _, err := openSealed(ctx, store, key, dir, false); err != nil {
			return fmt.Errorf("import-register: %w", err)
		}
		now := time.Now()
		persons, err := server.ParseRegister(f, now)
		if err != nil {
			return fmt.Errorf("import-register %s: %w (nothing was imported)", filepath.Base(file), err)
		}
		if res, err = server.ImportRegister(ctx, server.NewGate(store), persons, now); err != nil {
			return fmt.Errorf("import-register %s: %w (nothing was imported)", filepath.Base(file), err)
		}
	}
	// The blocks are reported so that whoever runs the import sees that
	// the register did not lift them: only a lokal administratör does.
	fmt.Fprintf(stdout, "imported %s: %d new, %d updated, %d unchanged; guardian blocks kept: %d (%d of them for guardians the file no longer lists)\n",
		filepath.Base(file), res.Created, res.Updated, res.Unchanged, res.BlocksKept, res.BlocksHeld)
	return nil
}

// bootstrap creates the first staff account (region administrator) on a
// new server. The password is read from the first line of stdin, so it
// stays out of the process list and shell history.
func bootstrap(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var dir, username, name string
	fs := flagSet("bootstrap", stderr, &dir)
	fs.StringVar(&username, "username", "", "user `name` of the first account (required)")
	fs.StringVar(&name, "name", "", "full `name` of the first account (required)")
	if err := parseSub(fs, args, stderr, 0, "data", "username", "name"); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	auth, err := staffauth.Open(filepath.Join(dir, authFile), app.SystemClock{}, staffauth.Options{})
	if err != nil {
		return fmt.Errorf("bootstrap: %w (stop the server first)", err)
	}
	defer auth.Close()
	fmt.Fprintln(stderr, "Lösenord för det första kontot (en rad):")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("bootstrap: no password on stdin")
	}
	pw := strings.TrimRight(line, "\r\n")
	st := app.Staff{ID: app.NewID(time.Now()), Name: name, Username: username}
	if err := auth.Bootstrap(ctx, st, pw); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	fmt.Fprintf(stdout, "created region administrator %s (id %s)\n", username, st.ID)
	return nil
}
