package pgstore

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"mottagning/app"
	"mottagning/server/staffauth"
	"mottagning/storage/storetest"
)

// twoNodes opens two stores and two staff services on one database, as
// two server processes behind a load balancer would.
func twoNodes(t *testing.T) (a, b *staffauth.Service, sa, sb *Store) {
	t.Helper()
	url := shared(t).NewDatabase(t)
	ctx := context.Background()
	open := func() (*Store, *staffauth.Service) {
		st, err := Open(ctx, url, Options{ServerKey: testServerKey, Clock: app.FixedClock(storetest.Now())})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc, err := staffauth.New(st.AuthKV(), app.SystemClock{}, staffauth.Options{Params: cheapParams,
			Failures: st.FailureLimit(10, 3)})
		if err != nil {
			t.Fatal(err)
		}
		return st, svc
	}
	sa, a = open()
	sb, b = open()
	return a, b, sa, sb
}

var cheapParams = app.PasswordParams{Time: 1, MemKiB: 8, Threads: 1}

// TestAuthOnTwoNodes: an account made through one node signs in through
// the other; a token issued by one is accepted by the other and refreshed
// there; a sign-out at one ends it at both; the sign-in failures of one
// address count at both; a device challenge issued by one is spent once.
func TestAuthOnTwoNodes(t *testing.T) {
	a, b, _, _ := twoNodes(t)
	ctx := context.Background()
	const pass = "Ett långt lösenord 2026"
	if err := a.Bootstrap(ctx, app.Staff{Name: "Region Admin", Username: "root"}, pass); err != nil {
		t.Fatal(err)
	}
	if err := b.Bootstrap(ctx, app.Staff{Name: "Another", Username: "root2"}, pass); !errors.Is(err, staffauth.ErrAlreadyBootstrapped) {
		t.Fatalf("second bootstrap through node b: %v, want ErrAlreadyBootstrapped", err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	toks, err := b.SignIn(ctx, staffauth.SignInRequest{Username: "root", Password: pass, DeviceName: "Reception", DeviceKey: pub})
	if err != nil {
		t.Fatalf("sign in through node b: %v", err)
	}
	if _, err := a.Authenticate(ctx, toks.Access); err != nil {
		t.Fatalf("node a refuses node b's token: %v", err)
	}
	toks2, err := a.Refresh(ctx, toks.Refresh)
	if err != nil {
		t.Fatalf("refresh through node a: %v", err)
	}
	if _, err := b.Authenticate(ctx, toks2.Access); err != nil {
		t.Fatalf("node b refuses node a's refreshed token: %v", err)
	}

	// A device challenge from node a, proved at node b, cannot be used again at a.
	ch, _ := a.Challenge()
	sig := app.SignDeviceProof(priv, app.ProofSignIn, toks.DeviceID, ch)
	if _, err := b.SignIn(ctx, staffauth.SignInRequest{Username: "root", Password: pass, DeviceID: toks.DeviceID,
		Challenge: ch, DeviceProof: sig}); err != nil {
		t.Fatalf("sign in at node b with node a's challenge: %v", err)
	}
	if _, err := a.SignIn(ctx, staffauth.SignInRequest{Username: "root", Password: pass, DeviceID: toks.DeviceID,
		Challenge: ch, DeviceProof: sig}); err == nil {
		t.Error("a device challenge was used twice, at two nodes")
	}

	// Sign-out at a ends the session at b.
	if err := a.SignOut(ctx, toks2.Refresh); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, toks2.Access); err == nil {
		t.Error("node b accepts a token of a session ended at node a")
	}

	// A refresh token two rotations old (a's, then b's) is a copy in other
	// hands at either node: refused, and the device is revoked.
	toks3, err := a.SignIn(ctx, staffauth.SignInRequest{Username: "root", Password: pass, DeviceName: "Mottagning 2"})
	if err != nil {
		t.Fatal(err)
	}
	toks4, err := b.Refresh(ctx, toks3.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, toks4.Refresh); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Refresh(ctx, toks3.Refresh); err == nil {
		t.Error("node b took a refresh token rotated twice, once at each node")
	}

	// Failures from one address count at both nodes (burst 3).
	for range 2 {
		a.Failed("192.0.2.7")
	}
	if b.Blocked("192.0.2.7") {
		t.Fatal("blocked after 2 of 3 failures")
	}
	b.Failed("192.0.2.7")
	if !a.Blocked("192.0.2.7") {
		t.Error("3 failures at two nodes do not block at node a")
	}
}
