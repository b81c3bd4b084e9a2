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
	"time"

	"mottagning/app"
	"mottagning/storage"
)

// The admin API is served only on a Unix socket in the data directory
// (mode 0600, see cmd/mottagning-server): whoever can open it can already
// read the database file, so it needs no token. It exists because the
// running server holds the database's lock: a backup or a register import
// while serving must go through the process that holds it.
//
//	GET  /admin/backup            a backup archive (tar, see Backup)
//	POST /admin/import-register   a register file (CSV or JSON) → ImportResult

// BackupFile is a database file in a backup archive and how to write a
// consistent copy of it while the server runs.
type BackupFile struct {
	Name  string // file name in the archive and in the data directory
	Write func(ctx context.Context, w io.Writer) error
}

// BackupManifest is the first entry of a backup archive (MANIFEST.json).
type BackupManifest struct {
	Format  string    `json:"format"` // mottagning-backup/1
	Created time.Time `json:"created"`
	Schema  uint64    `json:"schema"`
	Files   []string  `json:"files"`
}

// BackupFormat is the manifest's format tag.
const BackupFormat = "mottagning-backup/1"

// MainBackup is the backup of the main database: a byte copy of the file
// taken while the gate holds every write back.
func (s *Server) MainBackup() BackupFile {
	return BackupFile{Name: storage.FileName, Write: func(ctx context.Context, w io.Writer) error {
		return s.gate.Exclusive(func() error {
			f, err := os.Open(s.store.Path())
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(w, f)
			return err
		})
	}}
}

// WriteBackup writes a tar archive of MANIFEST.json and each file. Each
// copy goes to a temporary file in tmpDir first (a tar entry needs its
// size up front), so the gate is held only for the copy of the main
// database, not while the archive travels to the caller.
func WriteBackup(ctx context.Context, w io.Writer, tmpDir string, schema uint64, files ...BackupFile) error {
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
	tw := tar.NewWriter(w)
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
	return tw.Close()
}

// AdminHandler serves the admin API. extra are further files to back up
// (the staff accounts' auth.db).
func (s *Server) AdminHandler(extra ...BackupFile) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /admin/backup", func(w http.ResponseWriter, r *http.Request) {
		files := append([]BackupFile{s.MainBackup()}, extra...)
		tmp := filepath.Dir(s.store.Path())
		// Write to a temporary file first so that a failure is an error
		// status, not a truncated archive with 200.
		f, err := os.CreateTemp(tmp, ".backup-archive-*.tmp")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer func() { f.Close(); os.Remove(f.Name()) }()
		if err := WriteBackup(r.Context(), f, tmp, s.store.Version(), files...); err != nil {
			s.fail(w, r, err)
			return
		}
		size, _ := f.Seek(0, io.SeekCurrent)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/x-tar")
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
