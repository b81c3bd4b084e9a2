package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type fakeAuth struct{ st *Staff }

func (f fakeAuth) SignIn(_ context.Context, username, password string) (*Staff, error) {
	if password != "rätt-lösenord" {
		return nil, ErrBadCredentials
	}
	return f.st, nil
}

type fakeKeys struct {
	unlocked map[ID]string
	err      error
}

func (f *fakeKeys) Unlock(_ context.Context, id ID, password string) error {
	if f.err != nil {
		return f.err
	}
	f.unlocked[id] = password
	return nil
}

func TestUnlockingAuth(t *testing.T) {
	ctx := context.Background()
	st := &Staff{ID: "s1", Username: "anna"}
	keys := &fakeKeys{unlocked: map[ID]string{}}
	a := UnlockingAuth{Auth: fakeAuth{st}, Store: keys}
	if _, err := a.SignIn(ctx, "anna", "fel"); !errors.Is(err, ErrBadCredentials) || len(keys.unlocked) != 0 {
		t.Errorf("wrong password: %v, unlocked %v; want ErrBadCredentials and no unlock", err, keys.unlocked)
	}
	if got, err := a.SignIn(ctx, "anna", "rätt-lösenord"); err != nil || got != st || keys.unlocked["s1"] != "rätt-lösenord" {
		t.Errorf("right password: %v %v, unlocked %v", got, err, keys.unlocked)
	}
	keys.err = ErrLocked
	if _, err := a.SignIn(ctx, "anna", "rätt-lösenord"); !errors.Is(err, ErrLocked) || KeyMessage(err) == "" {
		t.Errorf("no key on the device: %v", err)
	}
	if KeyMessage(ErrBadCredentials) != "" {
		t.Error("KeyMessage speaks for a sign-in error")
	}
}

// recoveringAuth is fakeAuth with a KeyRecovery (a connected desktop's
// device escrow).
type recoveringAuth struct {
	fakeAuth
	recover   func(cause error) error
	recovered []ID
	unlocked  []ID
}

func (r *recoveringAuth) RecoverKey(_ context.Context, st *Staff, _ string, cause error) error {
	r.recovered = append(r.recovered, st.ID)
	return r.recover(cause)
}

func (r *recoveringAuth) KeyUnlocked(_ context.Context, st *Staff) {
	r.unlocked = append(r.unlocked, st.ID)
}

// The KeyRecovery is asked only when the store refuses a password the
// Authenticator accepted, and told of every unlock; its error is the
// sign-in's (ErrDeviceRevoked with its own message).
func TestUnlockingAuth_KeyRecovery(t *testing.T) {
	ctx := context.Background()
	st := &Staff{ID: "s1", Username: "anna"}
	keys := &fakeKeys{unlocked: map[ID]string{}, err: ErrLocked}
	ra := &recoveringAuth{fakeAuth: fakeAuth{st}, recover: func(error) error { return nil }}
	a := UnlockingAuth{Auth: ra, Store: keys}
	if _, err := a.SignIn(ctx, "anna", "fel"); !errors.Is(err, ErrBadCredentials) || len(ra.recovered) != 0 {
		t.Errorf("wrong password: %v, recovered %v", err, ra.recovered)
	}
	if _, err := a.SignIn(ctx, "anna", "rätt-lösenord"); err != nil || len(ra.recovered) != 1 || len(ra.unlocked) != 1 {
		t.Errorf("recovered: %v, %v %v", err, ra.recovered, ra.unlocked)
	}
	ra.recover = func(cause error) error { return cause }
	if _, err := a.SignIn(ctx, "anna", "rätt-lösenord"); !errors.Is(err, ErrLocked) || len(ra.unlocked) != 1 {
		t.Errorf("nothing better than the cause: %v, unlocked %v", err, ra.unlocked)
	}
	ra.recover = func(error) error { return ErrDeviceRevoked }
	_, err := a.SignIn(ctx, "anna", "rätt-lösenord")
	if !errors.Is(err, ErrDeviceRevoked) || !strings.Contains(KeyMessage(err), "spärrad") || KeyMessage(err) != SignInMessage(err, time.Now()) {
		t.Errorf("revoked device: %v, %q", err, KeyMessage(err))
	}
	keys.err = errors.New("disk on fire")
	ra.recovered = nil
	if _, err := a.SignIn(ctx, "anna", "rätt-lösenord"); err == nil || len(ra.recovered) != 0 {
		t.Errorf("another store error goes to the recovery: %v", err)
	}
}

// fakeSecrets is a SecretKeyStore whose password wrap is under "gammalt".
type fakeSecrets struct {
	unlocked bool
	wraps    map[ID][]byte
}

func (f *fakeSecrets) Unlock(_ context.Context, id ID, password string) error {
	if password != "gammalt" && !f.unlocked {
		return ErrWrongKey
	}
	f.unlocked = true
	return nil
}

func (f *fakeSecrets) KeyringAccount(_ context.Context, id ID) (string, error) {
	return "db1/" + string(id), nil
}

func (f *fakeSecrets) WrapForSecret(_ context.Context, id ID, secret []byte) error {
	if !f.unlocked {
		return ErrLocked
	}
	f.wraps[id] = append([]byte(nil), secret...)
	return nil
}

func (f *fakeSecrets) OpensWithSecret(id ID, secret []byte) bool {
	return f.wraps[id] != nil && string(f.wraps[id]) == string(secret)
}

func (f *fakeSecrets) UnlockWithSecret(_ context.Context, id ID, _ string, secret []byte) error {
	if !f.OpensWithSecret(id, secret) {
		return ErrWrongKey
	}
	f.unlocked = true
	return nil
}

type fakeRing struct {
	m   map[string][]byte
	err error
}

func (r *fakeRing) Get(_ context.Context, account string) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	v, ok := r.m[account]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

func (r *fakeRing) Set(_ context.Context, account string, secret []byte) error {
	if r.err != nil {
		return r.err
	}
	r.m[account] = append([]byte(nil), secret...)
	return nil
}

type anyPassword struct{ st *Staff }

func (a anyPassword) SignIn(context.Context, string, string) (*Staff, error) { return a.st, nil }

// The key store: filled after an unlock, used only when the verified
// password no longer opens the store, and a broken one changes nothing.
func TestUnlockingAuth_Keyring(t *testing.T) {
	ctx := context.Background()
	st := &Staff{ID: "s1", Username: "anna"}
	store := &fakeSecrets{wraps: map[ID][]byte{}}
	ring := &fakeRing{m: map[string][]byte{}}
	var ringErrs []error
	a := UnlockingAuth{Auth: anyPassword{st}, Store: store, Keyring: ring, KeyringError: func(err error) { ringErrs = append(ringErrs, err) }}
	if _, err := a.SignIn(ctx, "anna", "gammalt"); err != nil {
		t.Fatal(err)
	}
	secret := ring.m["db1/s1"]
	if len(secret) != 32 || !store.OpensWithSecret("s1", secret) {
		t.Fatalf("no secret kept after the sign-in: %v", ringErrs)
	}
	// The password changed since: the key store opens, silently.
	store.unlocked = false
	if _, err := a.SignIn(ctx, "anna", "nytt"); err != nil || !store.unlocked {
		t.Fatalf("changed password with the key store: %v", err)
	}
	if string(ring.m["db1/s1"]) != string(secret) {
		t.Error("the secret was replaced")
	}
	// A broken key store: the password decides, as without one.
	store.unlocked = false
	ring.err = errors.New("the key store is locked")
	if _, err := a.SignIn(ctx, "anna", "nytt"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("changed password, key store locked: %v, want ErrWrongKey", err)
	}
	if _, err := a.SignIn(ctx, "anna", "gammalt"); err != nil {
		t.Errorf("password with the key store locked: %v", err)
	}
	if len(ringErrs) == 0 {
		t.Error("the key store's errors were not reported")
	}
	// A store that is no SecretKeyStore leaves the key store alone.
	plain := &fakeKeys{unlocked: map[ID]string{}}
	ring.err, ring.m = nil, map[string][]byte{}
	if _, err := (UnlockingAuth{Auth: anyPassword{st}, Store: plain, Keyring: ring}).SignIn(ctx, "anna", "x"); err != nil || len(ring.m) != 0 {
		t.Errorf("plain store: %v, key store %v", err, ring.m)
	}
}
