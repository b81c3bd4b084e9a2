package sync

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"mottagning/sync/wire"
)

// The rotation of the server's certificate (docs/sync.md, Operations).
// A desktop pins the SHA-256 of the server's certificate. Before the
// server switches to a new certificate it serves, for a while, a NextPin:
// the new fingerprint signed with the key of the certificate the desktops
// pinned. A desktop stores it, and when the server presents exactly that
// new certificate it moves its pin and goes on; any other change of
// certificate is refused as before.

// NextPin is the server's signed announcement of its next certificate.
type NextPin = wire.NextPin

// NextPinFormat is the layout of the signed text (NextPinText).
const NextPinFormat = "mottagning-next-pin/1"

// NextPinPath is where the server serves its NextPin (404 when none).
const NextPinPath = "/api/sync/next-pin"

// ErrNextPin: an announcement that is not signed by the pinned
// certificate's key, has expired, or is malformed.
var ErrNextPin = errors.New("sync: the announced next certificate is not valid")

// NextPinText is the text the signature covers: the format, both
// fingerprints and the end, one per line. Only this text is signed, so
// JSON's freedom of layout cannot change what was signed.
func NextPinText(p *NextPin) []byte {
	return fmt.Appendf(nil, "%s\ncurrent=%s\nnext=%s\nnot-after=%d\n", p.Format, p.Current, p.Next, p.NotAfter.Unix())
}

// SignNextPin announces next (a fingerprint) as the certificate to come
// after certDER, until notAfter, signed with key, the private key of
// certDER (ECDSA, RSA or Ed25519; a crypto.Signer, so a key in hardware
// does as well).
func SignNextPin(key crypto.Signer, certDER []byte, next string, notAfter time.Time) (*NextPin, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("sign next pin: certificate: %w", err)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("sign next pin: the key is not the certificate's")
	}
	next, err = normalFingerprint(next)
	if err != nil {
		return nil, fmt.Errorf("sign next pin: next: %w", err)
	}
	cur := fingerprint(certDER)
	if next == cur {
		return nil, errors.New("sign next pin: the next certificate is the current one")
	}
	p := &NextPin{Format: NextPinFormat, Current: cur, Next: next, NotAfter: notAfter.UTC().Truncate(time.Second), Cert: certDER}
	text := NextPinText(p)
	var sig []byte
	switch cert.PublicKey.(type) {
	case ed25519.PublicKey:
		sig, err = key.Sign(rand.Reader, text, crypto.Hash(0))
	case *ecdsa.PublicKey, *rsa.PublicKey:
		sum := sha256.Sum256(text)
		sig, err = key.Sign(rand.Reader, sum[:], crypto.SHA256) // PKCS #1 v1.5 for RSA
	default:
		return nil, fmt.Errorf("sign next pin: unsupported key %T", cert.PublicKey)
	}
	if err != nil {
		return nil, fmt.Errorf("sign next pin: %w", err)
	}
	p.Signature = sig
	return p, nil
}

// VerifyNextPin checks p against the pinned fingerprint pin at now: the
// certificate it carries is the pinned one, the signature over its text
// is that certificate's key's, and it has not ended. It returns the next
// fingerprint.
func VerifyNextPin(p *NextPin, pin string, now time.Time) (string, error) {
	if p == nil || p.Format != NextPinFormat {
		return "", fmt.Errorf("%w: format", ErrNextPin)
	}
	pin, err := normalFingerprint(pin)
	if err != nil {
		return "", fmt.Errorf("%w: pin: %v", ErrNextPin, err)
	}
	if fingerprint(p.Cert) != pin || p.Current != pin {
		return "", fmt.Errorf("%w: not signed by the pinned certificate", ErrNextPin)
	}
	next, err := normalFingerprint(p.Next)
	if err != nil || next != p.Next || next == pin {
		return "", fmt.Errorf("%w: next fingerprint", ErrNextPin)
	}
	if !now.Before(p.NotAfter) {
		return "", fmt.Errorf("%w: ended %s", ErrNextPin, p.NotAfter.Format(time.RFC3339))
	}
	cert, err := x509.ParseCertificate(p.Cert)
	if err != nil {
		return "", fmt.Errorf("%w: certificate: %v", ErrNextPin, err)
	}
	var alg x509.SignatureAlgorithm
	switch cert.PublicKey.(type) {
	case ed25519.PublicKey:
		alg = x509.PureEd25519
	case *ecdsa.PublicKey:
		alg = x509.ECDSAWithSHA256
	case *rsa.PublicKey:
		alg = x509.SHA256WithRSA
	default:
		return "", fmt.Errorf("%w: key %T", ErrNextPin, cert.PublicKey)
	}
	if err := cert.CheckSignature(alg, NextPinText(p), p.Signature); err != nil {
		return "", fmt.Errorf("%w: signature: %v", ErrNextPin, err)
	}
	return next, nil
}

// NextPinHandler serves GET NextPinPath: what current returns (read
// anew on every request, so that a rotation prepared while the server
// runs is served at once), or 404 not_found when it returns nil.
func NextPinHandler(current func() *NextPin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		p := current()
		if p == nil {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":"not_found","message":"Ingen växling av serverns certifikat är förberedd."}` + "\n"))
			return
		}
		_ = json.NewEncoder(w).Encode(p)
	})
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// normalFingerprint is a fingerprint in lower-case hex without colons.
func normalFingerprint(s string) (string, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if err != nil || len(b) != sha256.Size {
		return "", errors.New("want 64 hex digits (SHA-256)")
	}
	return hex.EncodeToString(b), nil
}
