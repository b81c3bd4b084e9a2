package app

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// R4: the SMS text is GSM-7 and exactly one segment, so every phone shows
// it as one message and it costs one SMS.
func TestR4_SMSTextIsOneGSM7Segment(t *testing.T) {
	n, ok := GSM7Segments(SMSText)
	if !ok || n != 1 {
		t.Fatalf("GSM7Segments(SMSText) = %d, %v; want 1, true", n, ok)
	}
	septets := 0
	for _, r := range SMSText {
		c, ext, ok := gsm7Code(r)
		if !ok {
			t.Fatalf("SMSText has %q, not in the GSM-7 default alphabet", r)
		}
		if ext {
			septets += 2
		} else {
			septets++
		}
		if gsm7Default[c] != r && !ext {
			t.Fatalf("%q maps to septet %#02x, which is %q", r, c, gsm7Default[c])
		}
	}
	if septets > gsm7Single {
		t.Fatalf("SMSText is %d septets, over %d", septets, gsm7Single)
	}
	t.Logf("SMSText: %d septets of %d", septets, gsm7Single)
}

// The Swedish letters at their positions in 3GPP TS 23.038 table 6.2.1
// (the official table, not a guess from Latin-1): å ä ö Å Ä Ö é É are all in
// the default alphabet and cost one septet each.
func TestGSM7_SwedishLettersAtTheirOfficialPositions(t *testing.T) {
	want := map[rune]byte{
		'å': 0x0F, 'ä': 0x7B, 'ö': 0x7C, 'Å': 0x0E, 'Ä': 0x5B, 'Ö': 0x5C,
		'é': 0x05, 'É': 0x1F, 'ü': 0x7E, 'Ü': 0x5E, 'æ': 0x1D, 'Æ': 0x1C, 'ø': 0x0C, 'Ø': 0x0B,
		'@': 0x00, '$': 0x02, '£': 0x01, '¤': 0x24, '_': 0x11, '¡': 0x40, '¿': 0x60, '§': 0x5F,
		'\n': 0x0A, '\r': 0x0D, ' ': 0x20, '!': 0x21, '.': 0x2E, '0': 0x30, '1': 0x31, '7': 0x37,
		'A': 0x41, 'Z': 0x5A, 'a': 0x61, 'z': 0x7A, 'à': 0x7F, 'Ç': 0x09,
	}
	for r, code := range want {
		c, ext, ok := gsm7Code(r)
		if !ok || ext || c != code {
			t.Errorf("%q: septet %#02x ext=%v ok=%v, want %#02x", r, c, ext, ok, code)
		}
	}
	ext := map[rune]byte{'€': 0x65, '[': 0x3C, ']': 0x3E, '{': 0x28, '}': 0x29, '\\': 0x2F, '^': 0x14, '~': 0x3D, '|': 0x40, '\f': 0x0A}
	for r, code := range ext {
		c, isExt, ok := gsm7Code(r)
		if !ok || !isExt || c != code {
			t.Errorf("%q: septet %#02x ext=%v ok=%v, want extension %#02x", r, c, isExt, ok, code)
		}
	}
	// Not in GSM-7: the gateway would have to send UCS-2.
	for _, r := range []rune{'ç', 'á', 'í', 'ó', 'ú', 'õ', 'ã', '`', '´', '’', '“', '–', '…', '😀', 0x1B, 0x00, '\t', utf8.RuneError} {
		if _, _, ok := gsm7Code(r); ok {
			t.Errorf("%q (%U) should not be in GSM-7", r, r)
		}
	}
	// Every septet but the escape maps back to one distinct rune.
	if len(gsm7Index) != 127 {
		t.Errorf("default alphabet has %d characters, want 127", len(gsm7Index))
	}
}

func TestGSM7Segments(t *testing.T) {
	cases := []struct {
		name string
		text string
		n    int
		ok   bool
	}{
		{"empty", "", 1, true},
		{"160 plain", strings.Repeat("a", 160), 1, true},
		{"161 plain", strings.Repeat("a", 161), 2, true},
		{"306 plain", strings.Repeat("ö", 306), 2, true},
		{"307 plain", strings.Repeat("ö", 307), 3, true},
		{"80 euro = 160 septets", strings.Repeat("€", 80), 1, true},
		{"159 plus euro = 161", strings.Repeat("a", 159) + "€", 2, true},
		// 152 septets then an escape pair: the pair may not be split, so it
		// opens part two, and the rest fills it.
		{"escape not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 151), 2, true},
		{"escape not split, spills", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), 3, true},
		{"R4 text", SMSText, 1, true},
		{"emoji", "Hej 😀", 0, false},
		{"smart quote", "Hej ’du’", 0, false},
		{"invalid utf-8", "Hej \xff", 0, false},
		{"literal U+FFFD", "Hej \uFFFD", 0, false},
	}
	for _, c := range cases {
		n, ok := GSM7Segments(c.text)
		if n != c.n || ok != c.ok {
			t.Errorf("%s: GSM7Segments = %d, %v; want %d, %v", c.name, n, ok, c.n, c.ok)
		}
	}
}

func FuzzGSM7Segments(f *testing.F) {
	f.Add(SMSText)
	f.Add(strings.Repeat("€", 81))
	f.Add("Hej 😀")
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := GSM7Segments(s)
		if !ok {
			if n != 0 {
				t.Fatalf("not GSM-7 but %d segments", n)
			}
			return
		}
		septets := 0
		for _, r := range s {
			_, ext, _ := gsm7Code(r)
			septets++
			if ext {
				septets++
			}
		}
		switch {
		case septets <= gsm7Single && n != 1:
			t.Fatalf("%d septets: %d segments", septets, n)
		case septets > gsm7Single && (n < (septets+gsm7Part-1)/gsm7Part || n > septets/gsm7Part+2):
			t.Fatalf("%d septets: %d segments", septets, n)
		}
	})
}
