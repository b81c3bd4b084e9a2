package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"mottagning/app"
	"mottagning/server"
	"mottagning/server/staffauth"
	"mottagning/storage"
)

// A backup archive is one file: an age-encrypted tar (server.WriteBackup)
// of MANIFEST.json, the case database (its values sealed), auth.db, the
// TLS files of the data directory (so a restored server keeps its
// fingerprint and every pinned desktop accepts it) and the server key
// (so the archive and the age identity are all a restore needs). It is
// never written unencrypted. restore rotates the token-signing key:
// tokens signed before the backup, or forged with the key in it, stop.

// serverKeyEntry is the server key's name in an archive.
const serverKeyEntry = "server-key"

// tlsFiles are the TLS files of the data directory a backup carries.
var tlsFiles = []string{selfCertFile, selfKeyFile, nextCertFile, nextKeyFile, prevCertFile, prevKeyFile, nextPinFile}

// restoreNames are the only entries an archive may restore.
var restoreNames = func() map[string]bool {
	m := map[string]bool{storage.FileName: true, authFile: true, serverKeyEntry: true}
	for _, n := range tlsFiles {
		m[n] = true
	}
	return m
}()

// extraBackupFiles are the TLS files present in dir now and the server key.
func extraBackupFiles(dir string, key []byte) []server.BackupFile {
	var out []server.BackupFile
	for _, name := range tlsFiles {
		path := filepath.Join(dir, name)
		if !fileExists(path) {
			continue
		}
		out = append(out, server.BackupFile{Name: name, Write: func(_ context.Context, w io.Writer) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(w, f)
			return err
		}})
	}
	if key != nil {
		k := append([]byte(nil), key...)
		out = append(out, server.BackupFile{Name: serverKeyEntry, Write: func(_ context.Context, w io.Writer) error {
			_, err := w.Write(formatKey(k))
			return err
		}})
	}
	return out
}

// recipientFlags are backup's age recipients.
type recipientFlags struct {
	list []string
	file string
}

func (r *recipientFlags) String() string { return strings.Join(r.list, ",") }
func (r *recipientFlags) Set(v string) error {
	r.list = append(r.list, v)
	return nil
}

// lines returns the recipients of the flags and the file.
func (r *recipientFlags) lines() ([]string, error) {
	out := slices.Clone(r.list)
	if r.file != "" {
		data, err := os.ReadFile(r.file)
		if err != nil {
			return nil, fmt.Errorf("recipients file: %w", err)
		}
		out = append(out, strings.Split(string(data), "\n")...)
	}
	if _, err := server.ParseRecipients(out); err != nil {
		return nil, err
	}
	return out, nil
}

// backup writes a backup archive to --out: through the running server,
// which copies each database consistently while it serves, or from the
// files when it is stopped.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir, out string
	var to recipientFlags
	var key keySource
	fs := flagSet("backup", stderr, &dir)
	fs.StringVar(&out, "out", "", "backup `file` to write (required)")
	fs.Var(&to, "recipient", "age `public key` (age1…) to encrypt the archive to; repeat for more")
	fs.StringVar(&to.file, "recipients-file", "", "`file` of age public keys, one per line")
	key.flags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mottagning-server backup --data DIR --out FILE --recipient age1… [--recipients-file FILE] [--key-file FILE | --key-command CMD]\n"+
			"The archive is encrypted with age to the recipients; restore needs one of their identities. With the server stopped,\n"+
			"--key-file or --key-command gives the server key to put in the archive (the running server has it).")
		fs.PrintDefaults()
	}
	if err := parseSub(fs, args, stderr, 0, "data", "out"); err != nil {
		return err
	}
	recipients, err := to.lines()
	if err != nil {
		fmt.Fprintln(stderr, "mottagning-server:", err)
		return fmt.Errorf("%w: %v", errUsage, err)
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
		body, _ := json.Marshal(map[string]any{"recipients": recipients})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/admin/backup", bytes.NewReader(body))
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			var e struct{ Message string }
			_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
			return fmt.Errorf("backup: the server answered %s: %s", resp.Status, e.Message)
		}
		n, err := io.Copy(tmp, resp.Body)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			return fmt.Errorf("backup: got %d of %d bytes", n, resp.ContentLength)
		}
	} else {
		if err := offlineBackup(ctx, tmp, dir, key, recipients); err != nil {
			return err
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
	fmt.Fprintf(stdout, "backup written to %s (online: %v, encrypted with age)\n", out, online)
	return nil
}

// offlineBackup writes the archive of a stopped server's files.
func offlineBackup(ctx context.Context, w io.Writer, dir string, src keySource, recipients []string) error {
	to, err := server.ParseRecipients(recipients)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(dir, storage.FileName)
	if !fileExists(dbPath) {
		return fmt.Errorf("backup: no %s in %s", storage.FileName, dir)
	}
	var key []byte
	src = src.resolve()
	sealed, err := storage.FileSealed(dbPath)
	switch {
	case err != nil:
		return fmt.Errorf("backup: %w", err)
	case !sealed:
		// A demo run without a server key: nothing to carry.
	case !src.configured():
		return fmt.Errorf("backup: the database is sealed; with the server stopped, give its server key (--key-file or --key-command) so the archive can be restored")
	default:
		if key, _, err = src.load(ctx, dir, false); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := storage.CheckServerKey(dbPath, key); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	files := []server.BackupFile{boltFile(dir, storage.FileName)}
	if fileExists(filepath.Join(dir, authFile)) {
		files = append(files, boltFile(dir, authFile))
	}
	files = append(files, extraBackupFiles(dir, key)...)
	if err := server.WriteBackup(ctx, w, dir, 0, to, files...); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
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

// restore puts a backup archive's files into --data. It refuses while a
// server runs on the directory, and refuses to replace existing files
// without --force (they are then kept as NAME.before-restore-TIME). The
// whole archive is read and each database checked (bbolt's check, and
// the server key opening the case database) before anything is replaced.
// The server key goes to --key-file (or must equal what --key-command
// prints). A restored auth.db gets a new token key
// (staffauth.ResetSessions): every staff session ends, so tokens signed
// with the key in the archive, and devices revoked after the backup was
// taken, cannot come back.
func restore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir, in, identity string
	var force bool
	var key keySource
	fs := flagSet("restore", stderr, &dir)
	fs.StringVar(&in, "in", "", "backup `file` to restore (required)")
	fs.StringVar(&identity, "identity", "", "age identity `file` (AGE-SECRET-KEY-1…) of one of the backup's recipients")
	fs.BoolVar(&force, "force", false, "replace existing files (kept as *.before-restore-TIME)")
	key.flags(fs)
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
		if !fileExists(path) {
			continue
		}
		if name == storage.FileName || name == authFile {
			db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
			if errors.Is(err, bolterrors.ErrTimeout) {
				return fmt.Errorf("restore: %w; stop it first", errRunning)
			}
			if err == nil {
				db.Close()
			}
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
	r, err := openArchive(bufio.NewReader(f), identity, filepath.Base(in))
	if err != nil {
		return err
	}

	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "MANIFEST.json" {
		return fmt.Errorf("restore %s: not a mottagning backup (no MANIFEST.json first)", filepath.Base(in))
	}
	var man server.BackupManifest
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&man); err != nil || (man.Format != server.BackupFormat && man.Format != server.BackupFormatV1) {
		return fmt.Errorf("restore %s: not a mottagning backup (format %q)", filepath.Base(in), man.Format)
	}
	// Staged in a directory of its own inside dir (the same file system:
	// the renames below are atomic), under the real names so that the
	// case database can be opened there.
	stageDir, err := os.MkdirTemp(dir, ".restore-")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stageDir)
	var archiveKey []byte
	staged := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore %s: broken archive: %w", filepath.Base(in), err)
		}
		if !restoreNames[hdr.Name] || hdr.Typeflag != tar.TypeReg || staged[hdr.Name] {
			return fmt.Errorf("restore %s: unexpected entry %q", filepath.Base(in), hdr.Name)
		}
		staged[hdr.Name] = true
		if hdr.Name == serverKeyEntry {
			data, err := io.ReadAll(io.LimitReader(tr, 1<<10))
			if err != nil {
				return fmt.Errorf("restore %s: broken archive: %w", filepath.Base(in), err)
			}
			if archiveKey, err = parseKey(data); err != nil {
				return fmt.Errorf("restore %s: server key: %w", filepath.Base(in), err)
			}
			continue
		}
		path := filepath.Join(stageDir, hdr.Name)
		isDB := hdr.Name == storage.FileName || hdr.Name == authFile
		if err := stage(path, tr, hdr.Size, isDB); err != nil {
			return fmt.Errorf("restore %s: %w", hdr.Name, err)
		}
	}
	if !staged[storage.FileName] {
		return fmt.Errorf("restore %s: the archive has no %s", filepath.Base(in), storage.FileName)
	}

	// The server key: the archive's, checked against the database and put
	// where the server will read it.
	dbStaged := filepath.Join(stageDir, storage.FileName)
	sealed, err := storage.FileSealed(dbStaged)
	if err != nil {
		return fmt.Errorf("restore %s: %w", storage.FileName, err)
	}
	src := key.resolve()
	if sealed {
		if err := placeServerKey(ctx, dbStaged, dir, archiveKey, src); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}

	// Open the staged case database the normal way before it replaces
	// anything: it migrates an older backup now, with the usual copy, and
	// its consistency is checked with the values readable.
	if err := checkStagedStore(ctx, stageDir, src, sealed); err != nil {
		return fmt.Errorf("restore: the restored database does not open: %w", err)
	}

	stamp := time.Now().UTC().Format("20060102T150405Z")
	names, _ := os.ReadDir(stageDir)
	for _, e := range names {
		name := e.Name()
		if !restoreNames[name] {
			continue // a migration's copy of the staged file
		}
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			if err := os.Rename(path, path+".before-restore-"+stamp); err != nil {
				return fmt.Errorf("restore: keep current %s: %w", name, err)
			}
		} else if !errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
		if err := os.Rename(filepath.Join(stageDir, name), path); err != nil {
			return fmt.Errorf("restore %s: %w", name, err)
		}
	}
	_ = syncDirOf(filepath.Join(dir, storage.FileName))
	if fileExists(filepath.Join(dir, authFile)) {
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
	files := slices.DeleteFunc(slices.Clone(man.Files), func(n string) bool { return n == serverKeyEntry })
	fmt.Fprintf(stdout, "restored %s (backup of %s) into the data directory; the token key is new: staff sign in again\n",
		strings.Join(files, ", "), man.Created.Format(time.RFC3339))
	if sealed && src.File != "" {
		fmt.Fprintf(stdout, "server key: %s (start the server with --key-file %s)\n", src.File, src.File)
	}
	return nil
}

// openArchive returns the tar stream of an archive: decrypted with the
// identity file when it is an age file, as is for a format 1 tar.
func openArchive(r *bufio.Reader, identity, name string) (io.Reader, error) {
	head, _ := r.Peek(len("age-encryption.org/"))
	if string(head) != "age-encryption.org/" {
		return r, nil // format 1: a plain tar (its manifest is checked next)
	}
	if identity == "" {
		return nil, fmt.Errorf("restore %s: the archive is encrypted: give --identity FILE (the age identity of one of its recipients)", name)
	}
	idf, err := os.Open(identity)
	if err != nil {
		return nil, fmt.Errorf("restore: identity: %w", err)
	}
	defer idf.Close()
	ids, err := age.ParseIdentities(idf)
	if err != nil {
		return nil, fmt.Errorf("restore: identity file %s: %w", identity, err)
	}
	dec, err := age.Decrypt(r, ids...)
	if err != nil {
		return nil, fmt.Errorf("restore %s: cannot decrypt with %s: %w", name, identity, err)
	}
	return dec, nil
}

// placeServerKey makes sure the server key that opens dbStaged is where
// the restored server will read it: written to src.File when missing, or
// equal to what src gives.
func placeServerKey(ctx context.Context, dbStaged, dir string, archiveKey []byte, src keySource) error {
	if !src.configured() {
		return fmt.Errorf("the database is sealed: give --key-file FILE, where to put its server key (outside the data directory), or --key-command")
	}
	if src.File != "" {
		if err := outsideDataDir(src.File, dir); err != nil {
			return err
		}
	}
	have, _, err := src.load(ctx, dir, false)
	switch {
	case err == nil:
		if archiveKey != nil && !bytes.Equal(have, archiveKey) {
			return fmt.Errorf("%s gives another key than the one in the archive; point --key-file at a new file, or at the key this backup was made with", src)
		}
		return storage.CheckServerKey(dbStaged, have)
	case src.File == "" || fileExists(src.File):
		return err
	case archiveKey == nil:
		return fmt.Errorf("the archive carries no server key (made offline without one?): put the key file this database was sealed with at %s", src.File)
	}
	if err := storage.CheckServerKey(dbStaged, archiveKey); err != nil {
		return err
	}
	return writeKeyFile(src.File, archiveKey)
}

// checkStagedStore opens the staged case database (migrating it), unlocks
// it and checks it.
func checkStagedStore(ctx context.Context, stageDir string, src keySource, sealed bool) error {
	store, err := storage.Open(ctx, stageDir, storage.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	defer store.Close()
	if sealed {
		key, _, err := src.load(ctx, filepath.Dir(stageDir), false)
		if err != nil {
			return err
		}
		if _, err := store.UnlockWithServerKey(ctx, key); err != nil {
			return err
		}
	}
	return store.Check()
}

// stage writes size bytes of r to path and syncs it; a database is
// checked to be a whole bbolt file.
func stage(path string, r io.Reader, size int64, isDB bool) error {
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
	if !isDB {
		return nil
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
