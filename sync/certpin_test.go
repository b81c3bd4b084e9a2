package sync_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"mottagning/client"
	msync "mottagning/sync"
)

func certWith(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestNextPinSignedByPinnedKeyOnly: an announcement counts only when the
// key of the pinned certificate signed exactly it, and only until it ends.
func TestNextPinSignedByPinnedKeyOnly(t *testing.T) {
	now := time.Now()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	next := strings.Repeat("0f", 32)
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"ecdsa", ec}, {"rsa", rk}, {"ed25519", ed}} {
		der := certWith(t, k.key)
		pin := client.Fingerprint(der)
		sign := func() *msync.NextPin {
			p, err := msync.SignNextPin(k.key, der, strings.ToUpper(next), now.Add(time.Hour))
			if err != nil {
				t.Fatalf("%s: sign: %v", k.name, err)
			}
			return p
		}
		if got, err := msync.VerifyNextPin(sign(), pin, now); err != nil || got != next {
			t.Fatalf("%s: verify = %q, %v; want %q", k.name, got, err, next)
		}
		for _, bad := range []struct {
			name   string
			change func(p *msync.NextPin) (pin string, at time.Time)
		}{
			{"another pin", func(p *msync.NextPin) (string, time.Time) { return strings.Repeat("ee", 32), now }},
			{"next changed", func(p *msync.NextPin) (string, time.Time) { p.Next = strings.Repeat("1f", 32); return pin, now }},
			{"end moved", func(p *msync.NextPin) (string, time.Time) { p.NotAfter = p.NotAfter.Add(time.Hour); return pin, now }},
			{"ended", func(p *msync.NextPin) (string, time.Time) { return pin, now.Add(2 * time.Hour) }},
			{"no signature", func(p *msync.NextPin) (string, time.Time) { p.Signature = nil; return pin, now }},
			{"format", func(p *msync.NextPin) (string, time.Time) { p.Format = "x"; return pin, now }},
			{"next is current", func(p *msync.NextPin) (string, time.Time) { p.Next = pin; return pin, now }},
			{"signed by another key", func(p *msync.NextPin) (string, time.Time) {
				// Whoever has the pinned certificate but not its key.
				q, err := msync.SignNextPin(other, certWith(t, other), next, p.NotAfter)
				if err != nil {
					t.Fatal(err)
				}
				p.Signature = q.Signature
				return pin, now
			}},
		} {
			p := sign()
			pin, at := bad.change(p)
			if _, err := msync.VerifyNextPin(p, pin, at); !errors.Is(err, msync.ErrNextPin) {
				t.Errorf("%s, %s: verify = %v, want ErrNextPin", k.name, bad.name, err)
			}
		}
	}
	if _, err := msync.SignNextPin(other, certWith(t, ec), next, now.Add(time.Hour)); err == nil {
		t.Error("signed with a key that is not the certificate's")
	}
}

// FuzzVerifyNextPin: whatever a server (or someone between) sends as an
// announcement, verifying it never panics and accepts nothing unsigned.
func FuzzVerifyNextPin(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der := certWith(f, key)
	pin := client.Fingerprint(der)
	p, err := msync.SignNextPin(key, der, strings.Repeat("0f", 32), time.Now().Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(p)
	f.Add(good)
	f.Add([]byte(`{"format":"mottagning-next-pin/1","current":"` + pin + `","next":"` + pin + `"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var q msync.NextPin
		if json.Unmarshal(raw, &q) != nil {
			return
		}
		if _, err := msync.VerifyNextPin(&q, pin, time.Now()); err == nil && string(msync.NextPinText(&q)) != string(msync.NextPinText(p)) {
			t.Fatalf("accepted an announcement the key did not sign: %s", raw)
		}
	})
}
