package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"mottagning/storage"
)

// The server key seals the case database at rest (storage/serverkey.go).
// It never lives in the data directory: a copy of the directory (a stolen
// disk, a careless tar) must not carry its own key. Where it comes from,
// first match wins:
//
//	--key-command CMD / key_command   a command (run by /bin/sh) that prints
//	                                  the key in hex: a KMS or vault client
//	--key-file FILE / key_file        a file holding the key in hex (mode
//	                                  0600 or stricter); made with a new
//	                                  random key on the first start if missing
//	$CREDENTIALS_DIRECTORY/data-key   a systemd credential (LoadCredential=
//	                                  or LoadCredentialEncrypted=data-key:…)
//
// Without any of them the server runs only a demo (a sandbox of printed
// test data): a real database is refused, and a sealed one cannot open.

// keySource says where the server key comes from.
type keySource struct {
	File    string
	Command string
}

// credentialName is the systemd credential the unit in deploy/ loads.
const credentialName = "data-key"

// keyCommandTimeout bounds a key command (a KMS call).
const keyCommandTimeout = 30 * time.Second

func (k *keySource) flags(fs *flag.FlagSet) {
	fs.StringVar(&k.File, "key-file", "", "server key `file` (hex; outside the data directory), made on the first start if missing")
	fs.StringVar(&k.Command, "key-command", "", "`command` that prints the server key in hex (a KMS client), run by /bin/sh")
}

// resolve fills in the systemd credential when nothing else is given.
func (k keySource) resolve() keySource {
	if k.File == "" && k.Command == "" {
		if d := os.Getenv("CREDENTIALS_DIRECTORY"); d != "" {
			if p := filepath.Join(d, credentialName); fileExists(p) {
				k.File = p
			}
		}
	}
	return k
}

func (k keySource) configured() bool { return k.File != "" || k.Command != "" }

func (k keySource) String() string {
	switch {
	case k.Command != "":
		return "key command"
	case k.File != "":
		return "key file " + k.File
	}
	return "no server key"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// errNoKey: no server key is configured.
var errNoKey = errors.New("no server key: give --key-file FILE (made on the first start if missing; keep it outside the data directory " +
	"and back it up apart from it), --key-command CMD, or key_file / key_command in the configuration (docs/operations.md, Keys)")

// load reads the server key. A missing key file is made when create is
// set (a new or not yet sealed database); made reports it.
func (k keySource) load(ctx context.Context, dataDir string, create bool) (key []byte, made bool, err error) {
	switch {
	case k.Command != "":
		key, err = runKeyCommand(ctx, k.Command)
		return key, false, err
	case k.File == "":
		return nil, false, errNoKey
	}
	if err := outsideDataDir(k.File, dataDir); err != nil {
		return nil, false, err
	}
	data, err := os.ReadFile(k.File)
	if errors.Is(err, iofs.ErrNotExist) && create {
		key, err = makeKeyFile(k.File)
		return key, err == nil, err
	}
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, false, fmt.Errorf("key file %s does not exist, and the database is sealed: put back the key file this database was sealed with (from where you keep it apart from the backups)", k.File)
	}
	if err != nil {
		return nil, false, fmt.Errorf("key file: %w", err)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(k.File); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("key file %s has mode %v: others may read it; chmod 600 it (or 400)", k.File, fi.Mode().Perm())
		}
	}
	key, err = parseKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", k.File, err)
	}
	return key, false, nil
}

// parseKey reads a hex server key, surrounding white space allowed.
func parseKey(data []byte) ([]byte, error) {
	key, err := hex.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil || len(key) != storage.ServerKeySize {
		return nil, fmt.Errorf("not a server key (want %d hex digits)", 2*storage.ServerKeySize)
	}
	return key, nil
}

func formatKey(key []byte) []byte { return []byte(hex.EncodeToString(key) + "\n") }

// makeKeyFile writes a new random key to path (mode 0600, not replacing a file).
func makeKeyFile(path string) ([]byte, error) {
	key := make([]byte, storage.ServerKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := writeKeyFile(path, key); err != nil {
		return nil, err
	}
	return key, nil
}

// writeKeyFile writes key to a new file at path (mode 0600) and syncs it.
func writeKeyFile(path string, key []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	_, err = f.Write(formatKey(key))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("key file %s: %w", path, err)
	}
	return syncDirOf(path)
}

func syncDirOf(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

// outsideDataDir refuses a key file inside the data directory.
func outsideDataDir(file, dataDir string) error {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		if r, err := filepath.EvalSymlinks(a); err == nil {
			return r
		}
		// The file may not exist yet: resolve its directory.
		if r, err := filepath.EvalSymlinks(filepath.Dir(a)); err == nil {
			return filepath.Join(r, filepath.Base(a))
		}
		return a
	}
	f, d := abs(file), abs(dataDir)
	if rel, err := filepath.Rel(d, f); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("key file %s is inside the data directory: keep it elsewhere (a copy of the directory must not carry its own key)", file)
	}
	return nil
}

// runKeyCommand runs cmd with /bin/sh and reads the key from its output.
func runKeyCommand(ctx context.Context, cmd string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, keyCommandTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return nil, fmt.Errorf("key command failed: %v %s", err, msg)
	}
	key, err := parseKey(out)
	if err != nil {
		return nil, fmt.Errorf("key command: %w", err)
	}
	return key, nil
}

// openSealed unlocks store with the server key of src: a plain database
// is sealed now (migration), a sealed one opened. Without a key, only a
// demo runs unsealed. It returns the key (nil for an unsealed demo; the
// backup carries it) and what to log.
func openSealed(ctx context.Context, store interface {
	Encrypted() bool
	IsDemo() bool
	UnlockWithServerKey(context.Context, []byte) (bool, error)
}, src keySource, dataDir string, demo bool) ([]byte, string, error) {
	src = src.resolve()
	if !src.configured() {
		switch {
		case store.Encrypted():
			return nil, "", fmt.Errorf("the database is sealed: %w", errNoKey)
		case demo || store.IsDemo():
			return nil, "demo database not sealed (no server key): it holds only test data", nil
		}
		return nil, "", errNoKey
	}
	key, made, err := src.load(ctx, dataDir, !store.Encrypted())
	if err != nil {
		return nil, "", err
	}
	sealedNow, err := store.UnlockWithServerKey(ctx, key)
	if err != nil {
		return nil, "", err
	}
	msg := "database sealed with the " + src.String()
	if made {
		msg = "new server key written to " + src.File + ": back it up apart from the data directory; " + msg
	}
	if sealedNow {
		msg += " (it was plain until now: every value was sealed and the plain file erased)"
	}
	return key, msg, nil
}

// keygen writes a new server key to --out (mode 0600; never over an
// existing file).
func keygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mottagning-server keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "`file` to write the new server key to (required; outside the data directory)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: mottagning-server keygen --out FILE")
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if _, err := makeKeyFile(*out); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stdout, "new server key written to %s (mode 0600): keep a copy apart from the backups\n", *out)
	return nil
}

// rekey wraps the data key of a stopped server's database under a new
// server key (--new-key-file, made if missing): the values are not
// rewritten, only the wrap; the old key opens nothing afterwards.
func rekey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir, newFile string
	var old keySource
	fs := flagSet("rekey", stderr, &dir)
	old.flags(fs)
	fs.StringVar(&newFile, "new-key-file", "", "`file` of the new server key (made if missing; outside the data directory)")
	if err := parseSub(fs, args, stderr, 0, "data", "new-key-file"); err != nil {
		return err
	}
	if err := outsideDataDir(newFile, dir); err != nil {
		return fmt.Errorf("rekey: %w", err)
	}
	store, err := storage.Open(ctx, dir, storage.Options{Timeout: time.Second})
	if errors.Is(err, storage.ErrAlreadyRunning) {
		return fmt.Errorf("rekey: %w; stop it first", errRunning)
	}
	if err != nil {
		return fmt.Errorf("rekey: %w", err)
	}
	defer store.Close()
	if !store.Encrypted() {
		return fmt.Errorf("rekey: the database is not sealed yet: start the server once with its key")
	}
	if _, _, err := openSealed(ctx, store, old, dir, false); err != nil {
		return fmt.Errorf("rekey: %w", err)
	}
	newSrc := keySource{File: newFile}
	key, made, err := newSrc.load(ctx, dir, true)
	if err != nil {
		return fmt.Errorf("rekey: %w", err)
	}
	if err := store.RewrapServerKey(ctx, key); err != nil {
		return fmt.Errorf("rekey: %w", err)
	}
	note := ""
	if made {
		note = " (new key file made)"
	}
	fmt.Fprintf(stdout, "the database now opens with %s%s; the old key opens nothing: start the server with the new key\n", newFile, note)
	return nil
}
