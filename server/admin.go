package server

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"mottagning/app"
	"mottagning/storage"
)

// The admin API is served only on a Unix socket in the data directory
// (mode 0600, see cmd/mottagning-server): whoever can open it can already
// read the database file, so it needs no token. It exists because the
// running server holds the database's lock: a backup or a register import
// while serving must go through the process that holds it.
//
//	POST /admin/backup            {"recipients": ["age1…"]} → an age-encrypted
//	                              backup archive (tar, see WriteBackup)
//	POST /admin/import-register   a register file (CSV or JSON) → ImportResult

// BackupFile is a database file in a backup archive and how to write a
// consistent copy of it while the server runs.
type BackupFile struct {
	Name  string // file name in the archive and in the data directory
	Write func(ctx context.Context, w io.Writer) error
}

// BackupManifest is the first entry of a backup archive (MANIFEST.json).
type BackupManifest struct {
	Format  string    `json:"format"` // mottagning-backup/2 (1: before age and the TLS files)
	Created time.Time `json:"created"`
	Schema  uint64    `json:"schema"`
	Files   []string  `json:"files"`
}

// BackupFormat is the manifest's format tag. Format 1 (a plain tar of
// the two databases) is still restored.
const (
	BackupFormat   = "mottagning-backup/2"
	BackupFormatV1 = "mottagning-backup/1"
)

// FileStore is a Store kept in one file (the bbolt store): its backup is
// a byte copy of that file taken behind the gate.
type FileStore interface {
	Path() string
	Version() uint64
}

// ErrNotFileBackup: the store is a database server's (PostgreSQL), which
// is backed up with its own tools, not through mottagning-server backup.
var ErrNotFileBackup = errors.New("backup: this server keeps its data in PostgreSQL: back the database up with pg_dump or a base backup (docs/operations.md), and auth is in the same database")

// fileStore is s's store as a FileStore, or ErrNotFileBackup.
func (s *Server) fileStore() (FileStore, error) {
	fs, ok := s.store.(FileStore)
	if !ok {
		return nil, ErrNotFileBackup
	}
	return fs, nil
}

// MainBackup is the backup of the main database: a byte copy of the file
// taken while the gate holds every write back. The values in it are
// sealed (storage/serverkey.go).
func (s *Server) MainBackup() BackupFile {
	return BackupFile{Name: storage.FileName, Write: func(ctx context.Context, w io.Writer) error {
		fs, err := s.fileStore()
		if err != nil {
			return err
		}
		return s.gate.Exclusive(func() error {
			f, err := os.Open(fs.Path())
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(w, f)
			return err
		})
	}}
}

// ErrNoRecipient: a backup needs at least one age recipient. The archive
// holds the server key, the TLS key and every account's secrets: it is
// never written unencrypted.
var ErrNoRecipient = errors.New("backup: no age recipient: give --recipient age1… or --recipients-file FILE; the archive is never written unencrypted")

// ParseRecipients reads age recipients, one per line or element, in
// age's recipients-file format (comments and blank lines allowed).
func ParseRecipients(lines []string) ([]age.Recipient, error) {
	var keep []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return nil, ErrNoRecipient
	}
	rs, err := age.ParseRecipients(strings.NewReader(strings.Join(keep, "\n")))
	if err != nil {
		return nil, fmt.Errorf("backup: recipients: %w (want age public keys, age1…)", err)
	}
	return rs, nil
}

// WriteBackup writes an age-encrypted tar archive of MANIFEST.json and
// each file to w. Each copy goes to a temporary file in tmpDir first (a
// tar entry needs its size up front), so the gate is held only for the
// copy of the main database, not while the archive travels to the caller.
func WriteBackup(ctx context.Context, w io.Writer, tmpDir string, schema uint64, to []age.Recipient, files ...BackupFile) error {
	if len(to) == 0 {
		return ErrNoRecipient
	}
	man := BackupManifest{Format: BackupFormat, Created: time.Now().UTC(), Schema: schema}
	type done struct {
		name string
		f    *os.File
		size int64
	}
	var copies []done
	defer func() {
		for _, c := range copies {
			c.f.Close()
			os.Remove(c.f.Name())
		}
	}()
	for _, bf := range files {
		f, err := os.CreateTemp(tmpDir, ".backup-*.tmp")
		if err != nil {
			return fmt.Errorf("backup %s: %w", bf.Name, err)
		}
		copies = append(copies, done{name: bf.Name, f: f})
		if err := bf.Write(ctx, f); err != nil {
			return fmt.Errorf("backup %s: %w", bf.Name, err)
		}
		size, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return fmt.Errorf("backup %s: %w", bf.Name, err)
		}
		copies[len(copies)-1].size = size
		man.Files = append(man.Files, bf.Name)
	}
	enc, err := age.Encrypt(w, to...)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tw := tar.NewWriter(enc)
	mb, _ := json.MarshalIndent(man, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: "MANIFEST.json", Mode: 0o600, Size: int64(len(mb)), ModTime: man.Created}); err != nil {
		return err
	}
	if _, err := tw.Write(mb); err != nil {
		return err
	}
	for _, c := range copies {
		if _, err := c.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: c.name, Mode: 0o600, Size: c.size, ModTime: man.Created}); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, c.f, c.size); err != nil {
			return fmt.Errorf("backup %s: %w", c.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return enc.Close()
}

// AdminHandler serves the admin API. extra lists the further files to
// back up at the time of a backup (the staff accounts' auth.db, the TLS
// files, the server key).
func (s *Server) AdminHandler(extra func() []BackupFile) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("POST /admin/backup", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Recipients []string `json:"recipients"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": "invalid", "message": "backup: want {\"recipients\": [\"age1…\"]}"})
			return
		}
		to, err := ParseRecipients(req.Recipients)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": "invalid", "message": err.Error()})
			return
		}
		fs, err := s.fileStore()
		if err != nil {
			writeJSON(w, http.StatusConflict, map[string]any{"code": "not_file_backup", "message": err.Error()})
			return
		}
		files := []BackupFile{s.MainBackup()}
		if extra != nil {
			files = append(files, extra()...)
		}
		tmp := filepath.Dir(fs.Path())
		// Write to a temporary file first so that a failure is an error
		// status, not a truncated archive with 200.
		f, err := os.CreateTemp(tmp, ".backup-archive-*.tmp")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer func() { f.Close(); os.Remove(f.Name()) }()
		if err := WriteBackup(r.Context(), f, tmp, fs.Version(), to, files...); err != nil {
			s.fail(w, r, err)
			return
		}
		size, _ := f.Seek(0, io.SeekCurrent)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream") // age
		w.Header().Set("Content-Length", fmt.Sprint(size))
		_, _ = io.Copy(w, f)
		s.log.Info("backup written", "bytes", size)
	})
	mux.HandleFunc("POST /admin/import-register", func(w http.ResponseWriter, r *http.Request) {
		body := http.MaxBytesReader(w, r.Body, MaxRegisterFile)
		res, err := s.ImportRegister(r.Context(), body)
		if err != nil {
			var re *RegisterError
			if errors.As(err, &re) {
				// The line and field are safe to show: never a value.
				writeJSON(w, http.StatusBadRequest, map[string]any{"code": "invalid", "message": re.Error(), "line": re.Line, "field": re.Field})
				return
			}
			s.fail(w, r, err)
			return
		}
		s.log.Info("register imported", "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged,
			"blocks_kept", res.BlocksKept, "blocks_held", res.BlocksHeld)
		writeJSON(w, http.StatusOK, res)
	})
	return s.middleware(mux)
}

var _ = app.ErrInvalid
