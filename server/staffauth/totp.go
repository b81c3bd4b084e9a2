package staffauth

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP parameters (RFC 6238 defaults, which every authenticator app
// understands): HMAC-SHA-1, 30-second steps, 6 digits; codes of the step
// before and after are accepted too, for clocks a little off.
const (
	totpPeriod = 30
	totpDigits = 6
	totpSkew   = 1
	// totpSecretLen is 160 bits, the HMAC-SHA-1 block output RFC 4226 recommends.
	totpSecretLen = 20
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// hotp is RFC 4226's HOTP value of counter under secret, digits long.
func hotp(secret []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	h := m.Sum(nil)
	off := h[len(h)-1] & 0x0f
	bin := binary.BigEndian.Uint32(h[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// verifyTOTP checks code against the base32 secret at now, accepting only
// steps after lastStep (no replay). It returns the step that matched.
func verifyTOTP(secretB32, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits {
		return 0, false
	}
	secret, err := b32.DecodeString(secretB32)
	if err != nil || len(secret) == 0 {
		return 0, false
	}
	cur := totpStep(now)
	var found int64
	ok := 0
	for st := cur - totpSkew; st <= cur+totpSkew; st++ {
		if st < 0 {
			continue
		}
		// Look at every candidate step, so the time taken does not say which matched.
		if subtle.ConstantTimeCompare([]byte(hotp(secret, uint64(st), totpDigits)), []byte(code)) == 1 && st > lastStep && ok == 0 {
			found, ok = st, 1
		}
	}
	return found, ok == 1
}

func otpauthURL(issuer, username, secret string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(username)
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// Recovery codes: RecoveryCodes codes of 16 Crockford base32 symbols (80
// bits) shown as XXXX-XXXX-XXXX-XXXX. With 80 random bits a plain SHA-256
// is enough to store them; case, dashes and spaces do not matter on entry.
const RecoveryCodes = 10

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func newRecoveryCode() string {
	raw := randomBytes(10) // 80 bits
	var sb strings.Builder
	var acc uint32
	bits := 0
	n := 0
	for _, b := range raw {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			if n > 0 && n%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(crockford[(acc>>bits)&31])
			n++
		}
	}
	return sb.String()
}

func normalizeRecovery(code string) string {
	var sb strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == '-' || r == ' ':
		case r == 'O':
			sb.WriteByte('0')
		case r == 'I' || r == 'L':
			sb.WriteByte('1')
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func hashRecovery(code string) string {
	h := sha256.Sum256([]byte(normalizeRecovery(code)))
	return hex.EncodeToString(h[:])
}
