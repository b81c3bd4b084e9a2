package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"mottagning/app"
	"mottagning/server/staffauth"
)

// The operator's device commands (docs/sync.md, Devices):
//
//	mottagning-server devices --data DIR
//	mottagning-server revoke-device --data DIR --reason TEXT DEVICE-ID
//
// Administrators revoke devices through the API (POST
// /api/staff/devices/{id}/revoke); these commands are for the server's
// operator, who holds auth.db anyway (a lost laptop reported at night, a
// region without an administrator account yet). They go through the
// running server's admin socket, or open auth.db when it is stopped. The
// revocation is logged with the device id; its reason is shown to the
// device's users and logged nowhere.

// deviceLine is a device as the operator's list shows it.
type deviceLine struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	RegisteredAt time.Time `json:"registeredAt"`
	LastSeen     time.Time `json:"lastSeen"`
	Staff        int       `json:"staff"`
	Keyed        bool      `json:"keyed"`
	Revoked      bool      `json:"revoked"`
	RevokedAt    time.Time `json:"revokedAt,omitzero"`
	RevokeReason string    `json:"revokeReason,omitempty"`
}

func deviceLines(ds []staffauth.Device) []deviceLine {
	out := make([]deviceLine, 0, len(ds))
	for _, d := range ds {
		out = append(out, deviceLine{ID: string(d.ID), Name: d.Name, RegisteredAt: d.RegisteredAt, LastSeen: d.LastSeen,
			Staff: len(d.Staff), Keyed: len(d.Key) > 0, Revoked: d.Revoked, RevokedAt: d.RevokedAt, RevokeReason: d.RevokeReason})
	}
	return out
}

// adminDevices adds the device routes to the admin socket's handler:
//
//	GET  /admin/devices                  every device (deviceLine)
//	POST /admin/devices/{device}/revoke  {"reason": "..."} → 204
func adminDevices(auth *staffauth.Service, log interface {
	Info(msg string, args ...any)
}, next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/devices", func(w http.ResponseWriter, r *http.Request) {
		ds, err := auth.AllDevices(r.Context())
		if err != nil {
			http.Error(w, "internal", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(deviceLines(ds))
	})
	mux.HandleFunc("POST /admin/devices/{device}/revoke", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Reason string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
			http.Error(w, "invalid", http.StatusBadRequest)
			return
		}
		id := app.ID(r.PathValue("device"))
		err := auth.OperatorRevokeDevice(r.Context(), id, req.Reason)
		switch {
		case errors.Is(err, app.ErrNotFound):
			http.Error(w, "not_found", http.StatusNotFound)
		case errors.Is(err, app.ErrInvalid):
			http.Error(w, "invalid_reason", http.StatusBadRequest)
		case err != nil:
			http.Error(w, "internal", http.StatusInternalServerError)
		default:
			log.Info("device revoked", "device", id, "by", "operator")
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.Handle("/", next)
	return mux
}

// openAuth opens a stopped server's auth.db for a command.
func openAuth(dir, cmd string) (*staffauth.Service, error) {
	auth, err := staffauth.Open(filepath.Join(dir, authFile), app.SystemClock{}, staffauth.Options{})
	if errors.Is(err, staffauth.ErrAlreadyRunning) {
		return nil, fmt.Errorf("%s: %w, but its admin socket does not answer", cmd, errRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return auth, nil
}

// listDevices prints every registered device, most recently seen first.
func listDevices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir string
	fs := flagSet("devices", stderr, &dir)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mottagning-server devices --data DIR (every registered device, most recently seen first)")
		fs.PrintDefaults()
	}
	if err := parseSub(fs, args, stderr, 0, "data"); err != nil {
		return err
	}
	var lines []deviceLine
	if c := adminClient(ctx, dir); c != nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin/admin/devices", nil)
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("devices: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("devices: the server answered %s", resp.Status)
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&lines); err != nil {
			return fmt.Errorf("devices: answer: %w", err)
		}
	} else {
		auth, err := openAuth(dir, "devices")
		if err != nil {
			return err
		}
		defer auth.Close()
		ds, err := auth.AllDevices(ctx)
		if err != nil {
			return fmt.Errorf("devices: %w", err)
		}
		lines = deviceLines(ds)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tLAST SEEN\tSTAFF\tKEY\tSTATE")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format("2006-01-02 15:04")
	}
	for _, l := range lines {
		state := "active"
		if l.Revoked {
			state = "revoked " + day(l.RevokedAt) + ": " + l.RevokeReason
		}
		key := "yes"
		if !l.Keyed {
			key = "no (registered before device keys)"
		}
		name := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' {
				return ' '
			}
			return r
		}, l.Name)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", l.ID, name, day(l.LastSeen), l.Staff, key, state)
	}
	return tw.Flush()
}

// revokeDevice revokes one device with a reason (shown to its users).
func revokeDevice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir, reason string
	fs := flagSet("revoke-device", stderr, &dir)
	fs.StringVar(&reason, "reason", "", "why, in words the device's users are shown (required, at most 200 characters)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mottagning-server revoke-device --data DIR --reason TEXT DEVICE-ID")
		fs.PrintDefaults()
	}
	if err := parseSub(fs, args, stderr, 1, "data", "reason"); err != nil {
		return err
	}
	id := fs.Arg(0)
	if c := adminClient(ctx, dir); c != nil {
		body, _ := json.Marshal(map[string]string{"reason": reason})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/admin/devices/"+url.PathEscape(id)+"/revoke", strings.NewReader(string(body)))
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("revoke-device: %w", err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusNoContent:
		case http.StatusNotFound:
			return fmt.Errorf("revoke-device %s: no such device", id)
		case http.StatusBadRequest:
			return fmt.Errorf("revoke-device %s: --reason must be 1 to %d characters without control characters", id, staffauth.MaxRevokeReasonLen)
		default:
			return fmt.Errorf("revoke-device %s: the server answered %s", id, resp.Status)
		}
	} else {
		auth, err := openAuth(dir, "revoke-device")
		if err != nil {
			return err
		}
		defer auth.Close()
		err = auth.OperatorRevokeDevice(ctx, app.ID(id), reason)
		switch {
		case errors.Is(err, app.ErrNotFound):
			return fmt.Errorf("revoke-device %s: no such device", id)
		case errors.Is(err, app.ErrInvalid):
			return fmt.Errorf("revoke-device %s: --reason must be 1 to %d characters without control characters", id, staffauth.MaxRevokeReasonLen)
		case err != nil:
			return fmt.Errorf("revoke-device: %w", err)
		}
	}
	fmt.Fprintf(stdout, "revoked device %s: its tokens stop now; its unsent changes are exported on the computer at its next sync\n", id)
	return nil
}
