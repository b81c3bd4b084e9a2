package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mottagning/app"
)

// A revoked desktop (docs/sync.md, Devices). An administrator revoked the
// device; the server answers it "device_revoked" with the reason. Its
// queued changes can no longer be pushed, so the engine writes them, once
// per run, to a file in the data directory that the staff can hand over
// (ExportPending), and the status says what happened and where the file
// is. The queue itself is kept: nothing is dropped.

// RevokedError is the server's answer to a revoked device: when, why (the
// administrator's words) and, once the engine exported the queued changes,
// the file. It is app.ErrDeviceRevoked. Error() holds no reason.
type RevokedError struct {
	Reason string
	At     time.Time
	// Export is the file the unpushed changes were written to, "" before.
	Export string
	err    error
}

func (e *RevokedError) Error() string {
	if e.err != nil {
		return "sync: this device is revoked on the server: " + e.err.Error()
	}
	return "sync: this device is revoked on the server"
}

// Unwrap returns the server's answer.
func (e *RevokedError) Unwrap() error { return e.err }

// Is makes a RevokedError app.ErrDeviceRevoked.
func (e *RevokedError) Is(target error) bool { return target == app.ErrDeviceRevoked }

// revocation is a server answer that may say the device is revoked
// (client.Error).
type revocation interface {
	Revoked() (reason string, at time.Time, ok bool)
}

// revokedOf returns the revocation err carries, or nil.
func revokedOf(err error) *RevokedError {
	var re *RevokedError
	if errors.As(err, &re) {
		return re
	}
	var rv revocation
	if errors.As(err, &rv) {
		if reason, at, ok := rv.Revoked(); ok {
			return &RevokedError{Reason: reason, At: at, err: err}
		}
	}
	return nil
}

// message is the Swedish text of a revocation (Message).
func (e *RevokedError) message() string {
	var b strings.Builder
	b.WriteString("Den här datorn är spärrad i servern")
	if r := strings.TrimRight(strings.TrimSpace(e.Reason), "."); r != "" {
		fmt.Fprintf(&b, " (orsak: %s)", r)
	}
	b.WriteString(", så den kan inte längre skicka eller hämta ändringar. ")
	if e.Export != "" {
		fmt.Fprintf(&b, "Ändringar som inte hann skickas till servern har sparats i filen %s. "+
			"Lämna filen till IT-supporten eller behörighetsadministratören, så att ändringarna kan göras på en annan dator. ", e.Export)
	} else {
		b.WriteString("Ändringar som inte hann skickas finns kvar på datorn. ")
	}
	b.WriteString("Kontakta IT-supporten eller behörighetsadministratören.")
	return b.String()
}

// ExportFileName is the name of the export of a revoked desktop's
// unpushed changes in its data directory.
const ExportFileName = "ej-skickade-andringar.json"

// ExportFormat names the export's format.
const ExportFormat = "mottagning-unsent-changes/1"

// exportREADME is the line at the top of an export, for whoever opens it.
const exportREADME = "Ändringar som gjordes på den här datorn men aldrig nådde servern, eftersom datorn spärrades. " +
	"Filen innehåller patientuppgifter. Lämna den till IT-supporten eller behörighetsadministratören på ett säkert sätt " +
	"(inte med e-post), så att ändringarna kan göras på en annan dator, och radera den sedan från den här datorn."

// RevokedExport is the file ExportPending writes.
type RevokedExport struct {
	README     string        `json:"README"`
	Format     string        `json:"format"`
	DeviceID   string        `json:"deviceId"`
	ExportedAt time.Time     `json:"exportedAt"`
	Ops        []ExportedOp  `json:"ops"`
	Problems   []ExportError `json:"problems,omitempty"`
}

// ExportedOp is one queued change: what the server would have applied.
type ExportedOp struct {
	ID      string          `json:"id"`
	Kind    app.OpKind      `json:"kind"`
	CaseID  app.ID          `json:"caseId,omitempty"`
	Base    uint64          `json:"base,omitempty"`
	MadeAt  time.Time       `json:"madeAt"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// AttachmentData is the file of an attachment.put op (its payload
	// describes it; the bytes are not in the queue).
	AttachmentData []byte `json:"attachmentData,omitempty"`
}

// ExportError says which op's attachment could not be read (the op is
// still exported).
type ExportError struct {
	OpID string `json:"opId"`
	What string `json:"what"`
}

// ExportReplica is what ExportPending reads (storage.Store).
type ExportReplica interface {
	PendingOps(ctx context.Context, limit int) ([]app.SyncOp, error)
	AttachmentData(ctx context.Context, caseID, id app.ID) ([]byte, error)
}

// ExportPending writes every queued op of r to ExportFileName in dir
// (mode 0600, JSON with a Swedish README line), replacing an earlier
// export (the queue only grows until it is pushed, so the new file holds
// the old one's ops), and returns its path. It reads the sealed queue, so
// the store must be unlocked. The queue is left as it is.
func ExportPending(ctx context.Context, r ExportReplica, dir, deviceID string, now time.Time) (string, error) {
	ops, err := r.PendingOps(ctx, 0)
	if err != nil {
		return "", fmt.Errorf("export unsent changes: %w", err)
	}
	exp := RevokedExport{README: exportREADME, Format: ExportFormat, DeviceID: deviceID, ExportedAt: now.UTC(),
		Ops: make([]ExportedOp, 0, len(ops))}
	for _, op := range ops {
		e := ExportedOp{ID: op.ID, Kind: op.Kind, CaseID: op.CaseID, Base: op.Base, MadeAt: op.MadeAt, Payload: op.Payload}
		if op.Kind == app.OpAttachmentPut {
			var a app.Attachment
			err := json.Unmarshal(op.Payload, &a)
			if err == nil {
				e.AttachmentData, err = r.AttachmentData(ctx, op.CaseID, a.ID)
			}
			if err != nil {
				exp.Problems = append(exp.Problems, ExportError{OpID: op.ID, What: "bilagans fil kunde inte läsas"})
			}
		}
		exp.Ops = append(exp.Ops, e)
	}
	data, err := json.MarshalIndent(&exp, "", "  ")
	if err != nil {
		return "", fmt.Errorf("export unsent changes: %w", err)
	}
	path := filepath.Join(dir, ExportFileName)
	if err := writeFile0600(path, data); err != nil {
		return "", fmt.Errorf("export unsent changes: %w", err)
	}
	return path, nil
}

// writeFile0600 writes data to path through a temporary file in the same
// directory, synced and renamed, so that a crash leaves the old file or
// the new one, never half of one.
func writeFile0600(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// revoked is SyncOnce's hook: when err says the device is revoked, the
// queued changes are exported (once per run: Status.ExportPath keeps the
// file) and the error returned carries the file, for Message. Another
// error is returned as it is. The data directory is the replica's
// (storage.Store.Path); a replica without one is not exported, and the
// text says the changes are still on the computer.
func (e *Engine) revoked(ctx context.Context, err error) error {
	re := revokedOf(err)
	if re == nil {
		return err
	}
	out := &RevokedError{Reason: re.Reason, At: re.At, err: err}
	if out.Export = e.Status().ExportPath; out.Export != "" {
		return out
	}
	p, ok := e.opt.Replica.(interface{ Path() string })
	if !ok {
		return out
	}
	device := e.opt.DeviceID
	if d, ok := e.opt.Replica.(interface{ SyncDevice() string }); ok {
		device = d.SyncDevice()
	}
	path, xerr := ExportPending(ctx, e.opt.Replica, filepath.Dir(p.Path()), device, e.opt.Clock.Now())
	if xerr != nil {
		// A locked store: the next sync tries again.
		e.opt.Log.Warn("revoked device: unsent changes not exported", "err", xerr)
		return out
	}
	// Not the path: it may hold the name of the computer's user.
	e.opt.Log.Info("revoked device: unsent changes exported to the data directory")
	out.Export = path
	e.set(func(st *Status) { st.ExportPath = path })
	return out
}
