package main

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

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
	fs := flagSet("import-register", stderr, &dir)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mottagning-server import-register --data DIR FILE (CSV or JSON, see docs/register-format.md)")
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

// backup writes a backup archive (tar: MANIFEST.json, mottagning.db,
// auth.db) to --out: through the running server, which copies each
// database consistently while it serves, or from the files when it is
// stopped. The archive holds patient data and the staff accounts' secrets:
// keep it encrypted.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir, out string
	fs := flagSet("backup", stderr, &dir)
	fs.StringVar(&out, "out", "", "backup `file` to write (required)")
	if err := parseSub(fs, args, stderr, 0, "data", "out"); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	online := false
	if c := adminClient(ctx, dir); c != nil {
		online = true
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin/admin/backup", nil)
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("backup: the server answered %s", resp.Status)
		}
		n, err := io.Copy(tmp, resp.Body)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			return fmt.Errorf("backup: got %d of %d bytes", n, resp.ContentLength)
		}
	} else {
		files := []server.BackupFile{boltFile(dir, storage.FileName)}
		if _, err := os.Stat(filepath.Join(dir, authFile)); err == nil {
			files = append(files, boltFile(dir, authFile))
		}
		if err := server.WriteBackup(ctx, tmp, dir, 0, files...); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s (online: %v)\n", out, online)
	return nil
}

// boltFile copies a stopped server's database through a read-only bbolt
// transaction (the shared lock keeps a server from starting meanwhile).
func boltFile(dir, name string) server.BackupFile {
	return server.BackupFile{Name: name, Write: func(ctx context.Context, w io.Writer) error {
		path := filepath.Join(dir, name)
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return fmt.Errorf("%s: %w, but its admin socket does not answer", name, errRunning)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(w); return err })
	}}
}

// restoreNames are the only files an archive may restore.
var restoreNames = map[string]bool{storage.FileName: true, authFile: true}

// restore puts a backup archive's databases into --data. It refuses while
// a server runs on the directory, and refuses to replace existing files
// without --force (they are then kept as NAME.before-restore-TIME). Each
// database is checked before anything is replaced. A restored auth.db gets
// a new token key (staffauth.ResetSessions): every staff session ends, so
// devices revoked after the backup was taken cannot come back with old tokens.
func restore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir, in string
	var force bool
	fs := flagSet("restore", stderr, &dir)
	fs.StringVar(&in, "in", "", "backup `file` to restore (required)")
	fs.BoolVar(&force, "force", false, "replace existing databases (kept as *.before-restore-TIME)")
	if err := parseSub(fs, args, stderr, 0, "data", "in"); err != nil {
		return err
	}
	if adminClient(ctx, dir) != nil {
		return fmt.Errorf("restore: %w; stop it first", errRunning)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The lock proves it: a running server holds every database's lock.
	for name := range restoreNames {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return fmt.Errorf("restore: %w; stop it first", errRunning)
		}
		if err == nil {
			db.Close()
		}
		if !force {
			return fmt.Errorf("restore: %s already exists in the data directory; use --force to replace it (the current file is kept)", name)
		}
	}
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()

	tr := tar.NewReader(bufio.NewReader(f))
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "MANIFEST.json" {
		return fmt.Errorf("restore %s: not a mottagning backup (no MANIFEST.json first)", filepath.Base(in))
	}
	var man server.BackupManifest
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&man); err != nil || man.Format != server.BackupFormat {
		return fmt.Errorf("restore %s: not a mottagning backup (format %q)", filepath.Base(in), man.Format)
	}
	staged := map[string]string{}
	defer func() {
		for _, tmp := range staged {
			os.Remove(tmp)
		}
	}()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore %s: broken archive: %w", filepath.Base(in), err)
		}
		if !restoreNames[hdr.Name] || hdr.Typeflag != tar.TypeReg || staged[hdr.Name] != "" {
			return fmt.Errorf("restore %s: unexpected entry %q", filepath.Base(in), hdr.Name)
		}
		tmp := filepath.Join(dir, "."+hdr.Name+".restore.tmp")
		staged[hdr.Name] = tmp
		if err := stage(tmp, tr, hdr.Size); err != nil {
			return fmt.Errorf("restore %s: %w", hdr.Name, err)
		}
	}
	if staged[storage.FileName] == "" {
		return fmt.Errorf("restore %s: the archive has no %s", filepath.Base(in), storage.FileName)
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	for name, tmp := range staged {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			if err := os.Rename(path, path+".before-restore-"+stamp); err != nil {
				return fmt.Errorf("restore: keep current %s: %w", name, err)
			}
		} else if !errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("restore %s: %w", name, err)
		}
		delete(staged, name)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	// Open the case database once the normal way: it migrates an older
	// backup now, with the usual copy, rather than at the next start.
	store, err := storage.Open(ctx, dir, storage.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("restore: the restored database does not open: %w", err)
	}
	store.Close()
	if _, err := os.Stat(filepath.Join(dir, authFile)); err == nil {
		auth, err := staffauth.Open(filepath.Join(dir, authFile), app.SystemClock{}, staffauth.Options{})
		if err != nil {
			return fmt.Errorf("restore: the restored staff accounts do not open: %w", err)
		}
		err = auth.ResetSessions(ctx)
		auth.Close()
		if err != nil {
			return fmt.Errorf("restore: end staff sessions: %w", err)
		}
	}
	fmt.Fprintf(stdout, "restored %s (backup of %s) into the data directory\n", strings.Join(man.Files, ", "), man.Created.Format(time.RFC3339))
	return nil
}

// stage writes size bytes of r to path, syncs it and checks that it is a
// whole bbolt database.
func stage(path string, r io.Reader, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return fmt.Errorf("archive entry cut short: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("not a database: %w", err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("damaged database: %w", err)
		}
		return nil
	})
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
