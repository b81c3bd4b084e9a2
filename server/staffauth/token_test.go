package staffauth

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	stdsync "sync"
	"testing"
	"time"

	"mottagning/app"
)

// RFC 6238 Appendix B, the SHA-1 rows (seed "12345678901234567890"). The
// RFC prints 8 digits; a 6-digit code is the last six of them.
func TestTOTP_RFC6238Vectors(t *testing.T) {
	seed := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		at := time.Unix(tc.unix, 0)
		if got := hotp(seed, uint64(totpStep(at)), 8); got != tc.want {
			t.Errorf("T=%d: %s, want %s", tc.unix, got, tc.want)
		}
		six := tc.want[2:]
		if got := hotp(seed, uint64(totpStep(at)), 6); got != six {
			t.Errorf("T=%d six digits: %s, want %s", tc.unix, got, six)
		}
		secret := b32.EncodeToString(seed)
		if step, ok := verifyTOTP(secret, six, at, 0); !ok || step != totpStep(at) {
			t.Errorf("T=%d: verify %v %d", tc.unix, ok, step)
		}
		// ±1 step is accepted, ±2 is not; a used step is not.
		if _, ok := verifyTOTP(secret, six, at.Add(totpPeriod*time.Second), 0); !ok {
			t.Errorf("T=%d: code refused one step later", tc.unix)
		}
		if _, ok := verifyTOTP(secret, six, at.Add(2*totpPeriod*time.Second), 0); ok {
			t.Errorf("T=%d: code accepted two steps later", tc.unix)
		}
		if _, ok := verifyTOTP(secret, six, at, totpStep(at)); ok {
			t.Errorf("T=%d: code accepted again", tc.unix)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "12 34 5"} {
		if _, ok := verifyTOTP(b32.EncodeToString(seed), bad, time.Unix(59, 0), 0); ok {
			t.Errorf("code %q accepted", bad)
		}
	}
}

func TestRecoveryCodeShape(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		c := newRecoveryCode()
		if len(c) != 19 || c[4] != '-' || c[9] != '-' || c[14] != '-' || seen[c] {
			t.Fatalf("recovery code %q", c)
		}
		seen[c] = true
		if hashRecovery(c) != hashRecovery(" "+normalizeRecovery(c)+" ") {
			t.Fatalf("normalisation of %q", c)
		}
	}
}

// Parallel wrong guesses must not get past the lock: at most
// app.FreeAttempts of them are checked before the account locks.
func TestParallelGuessesHitTheLock(t *testing.T) {
	f := newFixture(t)
	f.signInNew(t, "lisa", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	var wg stdsync.WaitGroup
	var mu stdsync.Mutex
	var bad, locked int
	for i := range 40 {
		wg.Go(func() {
			_, err := f.s.SignIn(f.ctx, SignInRequest{Username: "lisa", Password: fmt.Sprintf("guess-%03d", i)})
			mu.Lock()
			defer mu.Unlock()
			var tm *TooManyAttemptsError
			switch {
			case errors.As(err, &tm):
				locked++
			case errors.Is(err, ErrBadCredentials):
				bad++
			default:
				t.Errorf("guess: %v", err)
			}
		})
	}
	wg.Wait()
	if bad != app.FreeAttempts-1 || locked != 40-bad {
		t.Errorf("%d bad, %d locked", bad, locked)
	}
}

// Authenticate racing with revocation and refreshes (run with -race).
func TestConcurrentAuthenticateAndRevoke(t *testing.T) {
	f := newFixture(t)
	tok := f.signInNew(t, "max", map[app.ID][]app.Role{clinicA: {app.RoleCaseHandler}})
	var wg stdsync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := f.s.Authenticate(f.ctx, tok.Access)
				if err != nil && !errors.Is(err, ErrDeviceRevoked) {
					t.Errorf("authenticate: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	f.claims(tok)
	if err := f.s.RevokeDevice(f.ctx, f.adminA, tok.DeviceID, "Test"); err != nil {
		t.Fatal(err)
	}
	// From the moment RevokeDevice returned, no call may succeed.
	for range 100 {
		if _, err := f.s.Authenticate(f.ctx, tok.Access); !errors.Is(err, ErrDeviceRevoked) {
			t.Fatalf("after revoke: %v", err)
		}
	}
	close(stop)
	wg.Wait()
}

// FuzzParseAccess: the parser never panics, accepts only what the key
// signed, and returns ErrTokenInvalid for everything else.
func FuzzParseAccess(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	good := signAccess(key, &accessPayload{Staff: "S", Device: "D", Username: "u",
		Roles: map[app.ID][]app.Role{"C": {app.RoleCaseHandler}}, Epoch: 1, Issued: 1, Expires: 2})
	for _, s := range []string{good, good[:len(good)-1], good + "A", "", ".", "v1.", "v1..", "v1.e30.",
		"v1.eyJzaWQiOiJTIn0.AAAA", good[:len(good)/2]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := parseAccess(key, tok)
		if err != nil {
			if !errors.Is(err, ErrTokenInvalid) || err.Error() != ErrTokenInvalid.Error() {
				t.Fatalf("error %v", err)
			}
			return
		}
		// Accepted: it must be exactly what signing the payload gives back
		// for a canonical encoding, or at least carry a valid signature.
		if p.Staff == "" || p.Device == "" || p.Expires <= 0 {
			t.Fatalf("accepted an incomplete payload %+v", p)
		}
		if tok != good {
			again := signAccess(key, p)
			if _, err := parseAccess(key, again); err != nil {
				t.Fatalf("re-signed payload refused: %v", err)
			}
		}
	})
}

// hsaAuth stands in for a SITHS/HSA-id login: it vouches for a staff id.
type hsaAuth struct{ id app.ID }

func (h hsaAuth) Authenticate(ctx context.Context, req SignInRequest) (*app.Staff, error) {
	if req.Username != "card-present" {
		return nil, ErrBadCredentials
	}
	return &app.Staff{ID: h.id}, nil
}

func TestPluggableAuthenticator(t *testing.T) {
	clock := &testClock{t: time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)}
	auth := &hsaAuth{}
	s, err := Open(filepath.Join(t.TempDir(), FileName), clock, Options{Params: cheap, Authenticator: auth})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	id := app.NewID(clock.Now())
	if err := s.Bootstrap(ctx, app.Staff{ID: id, Name: "Kort Användare", Username: "kort"}, "unused-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignIn(ctx, SignInRequest{Username: "kort", Password: "unused-password"}); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("password sign-in with a replaced authenticator: %v", err)
	}
	auth.id = id
	tok, err := s.SignIn(ctx, SignInRequest{Username: "card-present"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Authenticate(ctx, tok.Access); err != nil || c.StaffID != id {
		t.Errorf("claims %+v, %v", c, err)
	}
	auth.id = "UNKNOWN"
	if _, err := s.SignIn(ctx, SignInRequest{Username: "card-present"}); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("authenticator vouching for an unknown account: %v", err)
	}
}
