package staffauth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

// cheap argon2id parameters: tests check behaviour, not cost.
var cheap = app.PasswordParams{Time: 1, MemKiB: 64, Threads: 1}

type testClock struct {
	mu stdsync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	clinicA app.ID = "CLINICA"
	clinicB app.ID = "CLINICB"

	rootPass  = "root-lösenord-1"
	adminPass = "admin-lösenord-A"
	staffPass = "hemligt-lösen-9"
)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	s     *Service
	clock *testClock
	path  string

	root   *Claims // region administrator (Bootstrap)
	adminA *Claims // behörighetsadministratör in clinic A
	adminB *Claims // behörighetsadministratör in clinic B
	// errs collects every error the test saw, for TestErrorsLeakNothing-style checks.
	errs []error
}

func openTest(t *testing.T, clock *testClock) (*Service, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", FileName)
	s, err := Open(path, clock, Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkConsistent(t, s.db)
		s.Close()
	})
	return s, path
}

func checkConsistent(t *testing.T, kv KV) {
	t.Helper()
	db, ok := kv.(boltKV)
	if !ok {
		return
	}
	err := db.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil && !errors.Is(err, bolt.ErrDatabaseNotOpen) {
		t.Errorf("consistency check: %v", err)
	}
}

// newFixture opens auth.db, bootstraps root and creates and signs in one
// behörighetsadministratör per clinic.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := &testClock{t: time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)}
	s, path := openTest(t, clock)
	f := &fixture{t: t, ctx: context.Background(), s: s, clock: clock, path: path}
	if err := s.Bootstrap(f.ctx, app.Staff{Name: "Region Admin", Username: "root"}, rootPass); err != nil {
		t.Fatal(err)
	}
	f.root = f.claims(f.signIn("root", rootPass))
	f.adminA = f.newStaff("admin.a", adminPass, map[app.ID][]app.Role{clinicA: {app.RolePermissionAdmin}}, nil)
	f.adminB = f.newStaff("admin.b", adminPass, map[app.ID][]app.Role{clinicB: {app.RolePermissionAdmin}}, nil)
	return f
}

// newStaff creates an account as root, sets its password and signs it in.
func (f *fixture) newStaff(username, password string, roles map[app.ID][]app.Role, region []app.Role) *Claims {
	f.t.Helper()
	return f.claims(f.newStaffTokens(username, password, roles, region))
}

func (f *fixture) newStaffTokens(username, password string, roles map[app.ID][]app.Role, region []app.Role) *Tokens {
	f.t.Helper()
	st := app.Staff{ID: app.NewID(f.clock.Now()), Name: "Namn " + username, Username: username, Roles: roles, RegionRoles: region}
	if err := f.s.PutStaff(f.ctx, f.root, st); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.SetPassword(f.ctx, f.root, st.ID, password); err != nil {
		f.t.Fatal(err)
	}
	return f.signIn(username, password)
}

func (f *fixture) signIn(username, password string) *Tokens {
	f.t.Helper()
	tok, err := f.s.SignIn(f.ctx, SignInRequest{Username: username, Password: password, DeviceName: "Test"})
	if err != nil {
		f.t.Fatalf("sign in: %v", err)
	}
	return tok
}

func (f *fixture) claims(t *Tokens) *Claims {
	f.t.Helper()
	c, err := f.s.Authenticate(f.ctx, t.Access)
	if err != nil {
		f.t.Fatalf("authenticate: %v", err)
	}
	return c
}

// device is a desktop of the tests: its device key, and its id once a
// sign-in registered it.
type device struct {
	id  app.ID
	key ed25519.PrivateKey
}

func newDevice(t *testing.T) *device {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &device{key: key}
}

func (d *device) pub() []byte { return d.key.Public().(ed25519.PublicKey) }

// signInOnDevice signs req in as the desktop dev does: naming its device
// with a proof once it has one, registering it with its key before. It
// remembers the device's id.
func (f *fixture) signInOnDevice(dev *device, req SignInRequest) (*Tokens, error) {
	f.t.Helper()
	req.DeviceKey = dev.pub()
	if dev.id != "" {
		ch, _ := f.s.Challenge()
		req.DeviceID, req.Challenge = dev.id, ch
		req.DeviceProof = app.SignDeviceProof(dev.key, app.ProofSignIn, dev.id, ch)
	}
	tok, err := f.s.SignIn(f.ctx, req)
	if err == nil {
		if dev.id != "" && tok.DeviceID != dev.id {
			f.t.Fatalf("sign-in with the device's proof: device %s, want %s", tok.DeviceID, dev.id)
		}
		if !tok.KeyBound {
			f.t.Fatalf("sign-in with a device key: not bound to it")
		}
		dev.id = tok.DeviceID
	}
	return tok, err
}

// want fails unless errors.Is(err, target); it records err.
func (f *fixture) want(err, target error, what string) {
	f.t.Helper()
	f.errs = append(f.errs, err)
	if !errors.Is(err, target) {
		f.t.Errorf("%s: got %v, want %v", what, err, target)
	}
}

// noLeak fails when an error text contains one of the secrets.
func noLeak(t *testing.T, errs []error, secrets ...string) {
	t.Helper()
	for _, err := range errs {
		if err == nil {
			continue
		}
		msg := err.Error()
		for _, s := range secrets {
			if s != "" && strings.Contains(strings.ToLower(msg), strings.ToLower(s)) {
				t.Errorf("error %q contains a secret or username (%d chars)", msg, len(s))
			}
		}
	}
}

// code returns the TOTP code of secret at t.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	raw, err := b32.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return hotp(raw, uint64(totpStep(at)), totpDigits)
}
