package sync

import (
	"context"
	"errors"
	"log/slog"

	"mottagning/app"
	"mottagning/sync/wire"
)

// AuditRemote reads a clinic's access log on the server (client.Client).
type AuditRemote interface {
	SyncAccessLog(ctx context.Context, token string, clinic app.ID, req wire.AccessLogRequest) (*wire.AccessLogResponse, error)
}

// AuditLog is the granskare's access log on a connected desktop: the
// server's log of the clinic, which holds every device's entries (and
// what the server itself recorded: pulls, lookups, residents' extracts),
// read through the server's one door (app.AuditService with its role
// check). Offline it falls back to this desktop's own log, which holds
// only what happened here. The extract and the chain check stay local
// (the embedded service).
type AuditLog struct {
	*app.AuditService
	Remote AuditRemote
	Tokens TokenSource
	Log    *slog.Logger
}

// Entries implements the audit screen's reader.
func (a *AuditLog) Entries(ctx context.Context, sess app.Session, q app.AuditQuery) ([]app.AuditRow, error) {
	if !sess.Staff.Has(sess.ClinicID, app.RoleAuditor) {
		// The same refusal as the service, without asking the server.
		return a.AuditService.Entries(ctx, sess, q)
	}
	tok, err := a.Tokens.Token(ctx)
	if err == nil {
		req := wire.AccessLogRequest{From: q.From, To: q.To, StaffID: string(q.StaffID)}
		if !q.PNR.IsZero() {
			req.PNR = q.PNR.String()
		}
		var resp *wire.AccessLogResponse
		resp, err = a.Remote.SyncAccessLog(ctx, tok, sess.ClinicID, req)
		if err == nil {
			return wire.Map(resp.Rows, wire.AuditRow.App), nil
		}
		if !Offline(err) {
			return nil, answerError(err)
		}
	}
	if !Offline(err) && !errors.Is(err, ErrSignInNeeded) {
		return nil, err
	}
	if a.Log != nil {
		a.Log.Info("access log read from this desktop only: the server cannot be reached", "clinic", sess.ClinicID)
	}
	return a.AuditService.Entries(ctx, sess, q)
}

// answerError turns an API refusal into the app's error kind.
func answerError(err error) error {
	switch codeOf(err) {
	case "forbidden":
		return errors.Join(app.ErrForbidden, err)
	case "invalid":
		return errors.Join(app.ErrInvalid, err)
	case "not_found":
		return errors.Join(app.ErrNotFound, err)
	}
	return err
}
