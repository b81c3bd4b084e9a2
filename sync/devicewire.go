package sync

// The wire types of a desktop's device keys (server/staffauth,
// devicekeys.go): the escrow of its data key and its access-log signing
// key. Every call is bound to the device of the access token; none takes a
// device id. The access token's device is proven: a sign-in that names a
// device carries a signature by that device's key (docs/sync.md, Devices).
const (
	// PathEscrow is PUT: deposit the device-wrap key (EscrowDeposit), 204.
	PathEscrow = "/api/staff/device/escrow"
	// PathEscrowHolder is POST: the caller holds the data key (EscrowHolder), 204.
	PathEscrowHolder = "/api/staff/device/escrow/holder"
	// PathEscrowRelease is POST without a body: the device-wrap key back
	// (EscrowRelease), right after a password sign-in only.
	PathEscrowRelease = "/api/staff/device/escrow/release"
	// PathLogKey is PUT: register the access-log public key (LogKeyRequest), 204.
	PathLogKey = "/api/staff/device/log-key"
	// PathCheckpoints is POST: a signed access-log checkpoint
	// (app.Checkpoint), 204; refused with a coded reason when the
	// registered key did not sign it.
	PathCheckpoints = "/api/staff/device/checkpoints"
	// PathChallenge is POST without a body: a device challenge
	// (client.Challenge), single-use, for a minute or two; the device key
	// signs it to name the device at a sign-in (app.ProofSignIn) or to
	// adopt a key at a refresh (app.ProofAdopt).
	PathChallenge = "/api/staff/auth/challenge"
)

// EscrowDeposit is the body of PUT PathEscrow. Key is the random
// device-wrap key (never the data key); Proof is the holder proof, an HMAC
// of ID under the data key (the server keeps its hash).
type EscrowDeposit struct {
	ID    string `json:"id"`
	Key   []byte `json:"key"`
	Proof []byte `json:"proof"`
}

// EscrowHolder is the body of POST PathEscrowHolder.
type EscrowHolder struct {
	ID    string `json:"id"`
	Proof []byte `json:"proof"`
}

// EscrowRelease is the answer of POST PathEscrowRelease.
type EscrowRelease struct {
	ID  string `json:"id"`
	Key []byte `json:"key"`
}

// LogKeyRequest is the body of PUT PathLogKey: an Ed25519 public key.
type LogKeyRequest struct {
	PublicKey []byte `json:"publicKey"`
}
