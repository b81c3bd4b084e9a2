package staffauth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"mottagning/app"
)

// signInOn signs a new staff member with roles in on dev (a shared clinic
// computer; a new one when nil).
func (f *fixture) signInOn(username string, roles map[app.ID][]app.Role, dev *device) *Claims {
	f.t.Helper()
	st := app.Staff{ID: app.NewID(f.clock.Now()), Name: "Namn " + username, Username: username, Roles: roles}
	if err := f.s.PutStaff(f.ctx, f.root, st); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.SetPassword(f.ctx, f.root, st.ID, staffPass); err != nil {
		f.t.Fatal(err)
	}
	if dev == nil {
		dev = newDevice(f.t)
	}
	tok, err := f.signInOnDevice(dev, SignInRequest{Username: username, Password: staffPass})
	if err != nil {
		f.t.Fatalf("sign in %s: %v", username, err)
	}
	return f.claims(tok)
}

func random32(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// The escrow goes back only to a fresh sign-in on the same, unrevoked
// device, of a staff member with a role in a clinic the device serves.
func TestDeviceEscrow_ReleasedOnlyToFreshSignInOfServedClinic(t *testing.T) {
	f := newFixture(t)
	dev := newDevice(t)
	anna := f.signInOn("anna", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, dev)
	key, proof := random32(t), random32(t)
	if err := f.s.PutDeviceEscrow(f.ctx, anna, "esc-1", key, proof); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		id         string
		key, proof []byte
	}{{"", key, proof}, {"esc 1", key, proof}, {"esc-1", key[:16], proof}, {"esc-1", key, nil}} {
		f.want(f.s.PutDeviceEscrow(f.ctx, anna, bad.id, bad.key, bad.proof), app.ErrInvalid, "malformed deposit")
	}

	// A colleague in the same clinic, first time on the device.
	bo := f.signInOn("bo", map[app.ID][]app.Role{clinicA: {app.RoleCaseReceiver}}, dev)
	id, got, err := f.s.ReleaseDeviceEscrow(f.ctx, bo)
	if err != nil || id != "esc-1" || !bytes.Equal(got, key) {
		t.Fatalf("release to a colleague: %q %v", id, err)
	}

	// Staff of another clinic only: not served.
	cia := f.signInOn("cia", map[app.ID][]app.Role{clinicB: {app.RoleCaseHandler}}, dev)
	_, _, err = f.s.ReleaseDeviceEscrow(f.ctx, cia)
	f.want(err, ErrNotServed, "release to staff of another clinic")
	f.want(err, app.ErrForbidden, "release to staff of another clinic (code)")
	// Claiming to hold a key takes the holder proof.
	f.want(f.s.AddEscrowHolder(f.ctx, cia, "esc-1", random32(t)), app.ErrForbidden, "holder without the proof")
	f.want(f.s.AddEscrowHolder(f.ctx, cia, "esc-0", proof), app.ErrNotFound, "holder of another escrow")
	if _, _, err := f.s.ReleaseDeviceEscrow(f.ctx, cia); !errors.Is(err, ErrNotServed) {
		t.Errorf("a failed holder claim served the clinic: %v", err)
	}
	// A staff member with the proof (signed in while the device was
	// unlocked) makes their clinics served.
	dan := f.signInOn("dan", map[app.ID][]app.Role{clinicB: {app.RoleCaseReceiver}}, dev)
	if err := f.s.AddEscrowHolder(f.ctx, dan, "esc-1", proof); err != nil {
		t.Fatal(err)
	}
	cia = f.claims(f.signInTok("cia", dev))
	if _, _, err := f.s.ReleaseDeviceEscrow(f.ctx, cia); err != nil {
		t.Errorf("release after a holder of clinic B: %v", err)
	}

	// A token alone is not enough: the sign-in must be recent, and a
	// refreshed token keeps its sign-in's time.
	erik := f.signInTok("bo", dev)
	f.clock.Add(6 * time.Minute)
	fresh, err := f.s.Refresh(f.ctx, erik.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.s.ReleaseDeviceEscrow(f.ctx, f.claims(fresh))
	f.want(err, ErrSignInTooOld, "release to a refreshed token")
	f.want(f.s.PutDeviceEscrow(f.ctx, f.claims(fresh), "esc-2", key, proof), ErrSignInTooOld, "deposit with a refreshed token")

	// Another device has no escrow.
	other := f.signInOn("eva", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	_, _, err = f.s.ReleaseDeviceEscrow(f.ctx, other)
	f.want(err, app.ErrNotFound, "release on a device without escrow")
	noLeak(t, f.errs, hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), "anna", "cia")
}

// A revoked device gets nothing: the escrow is deleted with the
// revocation, and no token of the device works any more.
func TestDeviceEscrow_RevokedDeviceGetsNothing(t *testing.T) {
	f := newFixture(t)
	dev := newDevice(t)
	anna := f.signInOn("anna", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, dev)
	key := random32(t)
	if err := f.s.PutDeviceEscrow(f.ctx, anna, "esc-1", key, random32(t)); err != nil {
		t.Fatal(err)
	}
	bo := f.signInOn("bo", map[app.ID][]app.Role{clinicA: {app.RoleCaseReceiver}}, dev)
	if err := f.s.RevokeDevice(f.ctx, f.adminA, anna.DeviceID, "Borttappad"); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.HasDeviceEscrow(f.ctx, anna.DeviceID); ok || err != nil {
		t.Errorf("escrow of a revoked device kept: %v %v", ok, err)
	}
	_, _, err := f.s.ReleaseDeviceEscrow(f.ctx, bo)
	f.want(err, ErrDeviceRevoked, "release on a revoked device (claims from before)")
	_, err = f.signInOnDevice(dev, SignInRequest{Username: "bo", Password: staffPass})
	f.want(err, ErrDeviceRevoked, "sign-in on a revoked device")
	f.want(f.s.PutDeviceEscrow(f.ctx, bo, "esc-2", key, random32(t)), ErrDeviceRevoked, "deposit on a revoked device")
	noLeak(t, f.errs, base64.StdEncoding.EncodeToString(key))
}

// The access-log key is registered once; checkpoints are verified against
// it, and one signed by another key, or contradicting a held one, is
// refused with its own code and a Swedish text.
func TestDeviceLogKey_CheckpointSignedByOtherKeyRefused(t *testing.T) {
	f := newFixture(t)
	anna := f.signInOn("anna", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}}, nil)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	cp := func(seq uint64, key ed25519.PrivateKey, content string) *app.Checkpoint {
		h := sha256.Sum256([]byte(content))
		c := &app.Checkpoint{Seq: seq, Hash: h[:], At: f.clock.Now()}
		c.Sign(key)
		return c
	}
	f.want(f.s.PutDeviceCheckpoint(f.ctx, anna, cp(1, priv, "a")), ErrNoLogKey, "checkpoint before the key")
	if err := f.s.RegisterDeviceLogKey(f.ctx, anna, pub); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RegisterDeviceLogKey(f.ctx, anna, pub); err != nil {
		t.Errorf("same key again: %v", err)
	}
	f.want(f.s.RegisterDeviceLogKey(f.ctx, anna, otherPub), ErrLogKeyMismatch, "another key")
	f.want(f.s.RegisterDeviceLogKey(f.ctx, anna, pub[:10]), app.ErrInvalid, "short key")
	if got, err := f.s.DeviceLogKey(f.ctx, anna.DeviceID); err != nil || !bytes.Equal(got, pub) {
		t.Errorf("DeviceLogKey: %v", err)
	}

	good := cp(1000, priv, "head")
	if err := f.s.PutDeviceCheckpoint(f.ctx, anna, good); err != nil {
		t.Fatal(err)
	}
	if err := f.s.PutDeviceCheckpoint(f.ctx, anna, good); err != nil {
		t.Errorf("same checkpoint again: %v", err)
	}
	forged := cp(2000, otherPriv, "rewritten")
	err := f.s.PutDeviceCheckpoint(f.ctx, anna, forged)
	f.want(err, ErrCheckpointSignature, "checkpoint signed by another key")
	if Code(err) != "invalid" {
		t.Errorf("code %q", Code(err))
	}
	var fe *app.FieldError
	if !errors.As(err, &fe) || fe.Code != "checkpoint_signature" || fe.Text == "" {
		t.Errorf("no coded reason with a text: %v", err)
	}
	f.want(f.s.VerifyDeviceCheckpoint(f.ctx, anna.DeviceID, forged), ErrCheckpointSignature, "verify a forged checkpoint")
	if err := f.s.VerifyDeviceCheckpoint(f.ctx, anna.DeviceID, good); err != nil {
		t.Errorf("verify: %v", err)
	}
	edited := *good
	edited.At = edited.At.Add(time.Second)
	f.want(f.s.PutDeviceCheckpoint(f.ctx, anna, &edited), ErrCheckpointSignature, "checkpoint edited after signing")
	f.want(f.s.PutDeviceCheckpoint(f.ctx, anna, cp(1000, priv, "rewritten")), ErrCheckpointFork, "another hash at a held position")
	cps, err := f.s.DeviceCheckpoints(f.ctx, anna.DeviceID)
	if err != nil || len(cps) != 1 || cps[0].Seq != 1000 || !cps[0].Valid(pub) {
		t.Errorf("held checkpoints %+v, %v", cps, err)
	}
	// A revoked device's checkpoints stay verifiable; it sends no more.
	if err := f.s.RevokeDevice(f.ctx, f.adminA, anna.DeviceID, "Utbytt"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.VerifyDeviceCheckpoint(f.ctx, anna.DeviceID, good); err != nil {
		t.Errorf("verify after revoke: %v", err)
	}
	f.want(f.s.PutDeviceCheckpoint(f.ctx, anna, cp(3000, priv, "later")), ErrDeviceRevoked, "checkpoint of a revoked device")
}

func (f *fixture) signInTok(username string, dev *device) *Tokens {
	f.t.Helper()
	tok, err := f.signInOnDevice(dev, SignInRequest{Username: username, Password: staffPass})
	if err != nil {
		f.t.Fatalf("sign in %s: %v", username, err)
	}
	return tok
}
