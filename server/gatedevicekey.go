package server

import (
	"context"
	"crypto/ed25519"
)

// The device key of a connected desktop (storage/devicekey.go) is a
// desktop-only write, gated like Connect so that no write can slip past a
// backup.

// DeviceKey is gated like Connect (it makes the key the first time).
func (g *Gate) DeviceKey(ctx context.Context) (ed25519.PrivateKey, error) {
	defer g.w(ctx)()
	return g.Store.DeviceKey(ctx)
}

// SetDeviceKeyBound is gated like Connect.
func (g *Gate) SetDeviceKeyBound(ctx context.Context, deviceID string) error {
	defer g.w(ctx)()
	return g.Store.SetDeviceKeyBound(ctx, deviceID)
}
