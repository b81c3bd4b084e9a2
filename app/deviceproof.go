package app

import (
	"crypto/ed25519"
	"encoding/binary"
)

// A connected desktop proves it is the device the server registered by a
// signature with its device key (an Ed25519 key it made at its first
// online sign-in) over a fresh challenge of the server, bound to the
// device id and to what the proof is for. The desktop (package sync) and
// the server (server/staffauth) build the signed bytes here, so that the
// two cannot drift apart. docs/sync.md, Devices, has the protocol.

// What a device proof is for; a proof made for one is no proof for another.
const (
	// ProofSignIn: a sign-in that names the device.
	ProofSignIn = "signin"
	// ProofAdopt: a device registered before device keys takes its key,
	// together with its current refresh token.
	ProofAdopt = "adopt"
)

// DeviceProofBytes is what a device proof signs: a fixed label, then
// purpose, device id and challenge, each with its length.
func DeviceProofBytes(purpose string, deviceID ID, challenge string) []byte {
	b := []byte("mottagning device proof v1\x00")
	for _, s := range []string{purpose, string(deviceID), challenge} {
		b = binary.BigEndian.AppendUint16(b, uint16(min(len(s), 0xffff)))
		b = append(b, s...)
	}
	return b
}

// SignDeviceProof signs a device proof with the device's private key.
func SignDeviceProof(key ed25519.PrivateKey, purpose string, deviceID ID, challenge string) []byte {
	return ed25519.Sign(key, DeviceProofBytes(purpose, deviceID, challenge))
}

// VerifyDeviceProof reports whether sig is pub's signature of a proof for
// purpose, deviceID and challenge.
func VerifyDeviceProof(pub ed25519.PublicKey, purpose string, deviceID ID, challenge string, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize &&
		ed25519.Verify(pub, DeviceProofBytes(purpose, deviceID, challenge), sig)
}
