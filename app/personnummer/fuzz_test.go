package personnummer

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse checks that ParseAt never panics, that every error is one of the
// sentinels, and that every accepted number reads back unchanged from its
// 12-digit, 10-digit and stored forms. now is fuzzed over 2000–2039 (any
// time of day, so also Stockholm/UTC New Year mismatches); within that span
// the 10-digit form can express everyone the package accepts.
func FuzzParse(f *testing.F) {
	for _, tc := range acceptCases() {
		f.Add(tc.in, now2026.Unix())
	}
	for _, tc := range errorCases() {
		f.Add(tc.in, now2026.Unix())
	}
	f.Add("20000101-2384", utcNewYear2026.Unix())
	const from, to = 946684800, 2208988800 // 2000-01-01 and 2040-01-01 UTC
	f.Fuzz(func(t *testing.T, s string, unix int64) {
		now := time.Unix(from+mod64(unix, to-from), 0)
		n, err := ParseAt(s, now)
		if err != nil {
			if !n.IsZero() {
				t.Fatalf("ParseAt(%q): non-zero Number with error %v", s, err)
			}
			for _, e := range []error{ErrEmpty, ErrFormat, ErrReserve, ErrDate, ErrChecksum, ErrFuture, ErrSerialZero} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("ParseAt(%q): error %v is not a sentinel", s, err)
		}
		if n.IsZero() {
			t.Fatalf("ParseAt(%q): zero Number without error", s)
		}
		for _, form := range []string{n.String(), n.ShortAt(now)} {
			m, err := ParseAt(form, now)
			if err != nil || m != n {
				t.Fatalf("ParseAt(%q) at %v = %q; ParseAt(%q) = %q, %v", s, now, n.String(), form, m.String(), err)
			}
		}
		text, err := n.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var m Number
		if err := m.UnmarshalText(text); err != nil || m != n {
			t.Fatalf("UnmarshalText(%q) = %q, %v", text, m.String(), err)
		}
		if n.Birthdate().After(now) {
			t.Fatalf("ParseAt(%q) at %v: birth date %v in the future", s, now, n.Birthdate())
		}
		if age := n.AgeOn(now); age < 0 || age > 199 {
			t.Fatalf("ParseAt(%q) at %v: age %d", s, now, age)
		}
	})
}

func mod64(a, m int64) int64 { return (a%m + m) % m }
