package sync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"mottagning/app"
)

// DeviceKeys is what a connected desktop registers about itself with the
// server after an online sign-in (server/staffauth, devicekeys.go), and
// the way a staff member without a key on the device gets one:
//
//   - the device escrow: while the store is unlocked, its data key is
//     wrapped under a random device-wrap key that only the server keeps
//     (storage.NewDeviceEscrow; the desktop forgets it after the deposit).
//     A staff member who signs in online for the first time while the
//     store is locked gets the device-wrap key back (Recover), opens the
//     data key, wraps it for their password and forgets the device-wrap
//     key. A staff member who signs in while it is unlocked shows the
//     server they hold the data key (a holder proof), so that their
//     clinics count as the device's;
//   - the access-log signing key: its public half is registered once, and
//     a checkpoint of the chain's head is sent at every online sign-in, so
//     that the server holds signed positions of this device's chain.
//
// Nothing here is ever logged but ids and error codes.
type DeviceKeys struct {
	Server DeviceServer
	Store  DeviceKeyStore
	// Log gets one line per failed registration; nil: slog.Default.
	Log *slog.Logger
}

// DeviceServer sends one API request (client.Client.Do).
type DeviceServer interface {
	Do(ctx context.Context, method, path, token string, body, out any) error
}

// DeviceKeyStore is the desktop's side of the device keys (storage.Store).
type DeviceKeyStore interface {
	Encrypted() bool
	Locked() bool
	NewDeviceEscrow(ctx context.Context) (id string, key, proof []byte, err error)
	ConfirmDeviceEscrow(ctx context.Context, id string) error
	DeviceEscrow() (id string, proof []byte, err error)
	UnlockWithDeviceEscrow(ctx context.Context, staffID app.ID, password, id string, key []byte) error
	AccessLogPublicKey() ed25519.PublicKey
	CheckpointAccessLog(ctx context.Context) (app.Checkpoint, error)
}

func (k *DeviceKeys) log() *slog.Logger {
	if k.Log == nil {
		return slog.Default()
	}
	return k.Log
}

// Recover opens the store through the device escrow for staffID, whose
// password the server accepted at the sign-in that issued access (a few
// seconds ago: the server refuses an older one). app.ErrDeviceRevoked
// when the server refuses the device's token (revoked since the sign-in);
// otherwise an error that says why (the caller keeps its own message).
func (k *DeviceKeys) Recover(ctx context.Context, access string, staffID app.ID, password string) error {
	var rel EscrowRelease
	err := k.Server.Do(ctx, http.MethodPost, PathEscrowRelease, access, nil, &rel)
	defer clear(rel.Key)
	if re := revokedOf(err); re != nil {
		return fmt.Errorf("device escrow: %w", re)
	}
	if statusOf(err) == http.StatusUnauthorized {
		// A token issued seconds ago refused: the device was revoked.
		return fmt.Errorf("device escrow: %w: %w", app.ErrDeviceRevoked, err)
	}
	if err != nil {
		return fmt.Errorf("device escrow: release: %w", err)
	}
	if err := k.Store.UnlockWithDeviceEscrow(ctx, staffID, password, rel.ID, rel.Key); err != nil {
		return fmt.Errorf("device escrow: %w", err)
	}
	return nil
}

// Register registers the device's keys after an online sign-in of a staff
// member with the store unlocked: the access-log key, the escrow (a new
// deposit, or the caller as a holder of the one the server has) and a
// checkpoint of the access log. Every step is tried; the errors are
// joined (they hold ids and codes only).
func (k *DeviceKeys) Register(ctx context.Context, access string) error {
	var errs []error
	if pub := k.Store.AccessLogPublicKey(); len(pub) == ed25519.PublicKeySize {
		if err := k.Server.Do(ctx, http.MethodPut, PathLogKey, access, &LogKeyRequest{PublicKey: pub}, nil); err != nil {
			errs = append(errs, fmt.Errorf("register access-log key: %w", err))
		}
	}
	if k.Store.Encrypted() && !k.Store.Locked() {
		if err := k.escrow(ctx, access); err != nil {
			errs = append(errs, err)
		}
	}
	if err := k.Checkpoint(ctx, access); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// escrow makes sure the server holds this device's escrow and counts the
// caller as a holder.
func (k *DeviceKeys) escrow(ctx context.Context, access string) error {
	id, proof, err := k.Store.DeviceEscrow()
	if err != nil {
		return fmt.Errorf("device escrow: %w", err)
	}
	if id != "" {
		err := k.Server.Do(ctx, http.MethodPost, PathEscrowHolder, access, &EscrowHolder{ID: id, Proof: proof}, nil)
		if statusOf(err) != http.StatusNotFound {
			if err != nil {
				return fmt.Errorf("device escrow %s: holder: %w", id, err)
			}
			return nil
		}
		// The server no longer knows it (auth.db restored, a new device
		// id): deposit a new one.
	}
	id, key, proof, err := k.Store.NewDeviceEscrow(ctx)
	if err != nil {
		return fmt.Errorf("device escrow: %w", err)
	}
	err = k.Server.Do(ctx, http.MethodPut, PathEscrow, access, &EscrowDeposit{ID: id, Key: key, Proof: proof}, nil)
	clear(key)
	if err != nil {
		return fmt.Errorf("device escrow %s: deposit: %w", id, err)
	}
	if err := k.Store.ConfirmDeviceEscrow(ctx, id); err != nil {
		return fmt.Errorf("device escrow %s: %w", id, err)
	}
	return nil
}

// Checkpoint signs the access log's head (or takes the checkpoint there)
// and sends it to the server, which verifies it against the registered key.
func (k *DeviceKeys) Checkpoint(ctx context.Context, access string) error {
	cp, err := k.Store.CheckpointAccessLog(ctx)
	if errors.Is(err, app.ErrNotFound) {
		return nil // an empty log has nothing to sign
	} else if err != nil {
		return fmt.Errorf("access-log checkpoint: %w", err)
	}
	if err := k.Server.Do(ctx, http.MethodPost, PathCheckpoints, access, &cp, nil); err != nil {
		return fmt.Errorf("access-log checkpoint %d: %w", cp.Seq, err)
	}
	return nil
}
