package app

// gsm7Default is the GSM 7-bit default alphabet of 3GPP TS 23.038 (formerly
// GSM 03.38), section 6.2.1, indexed by septet value. Position 0x1B is the
// escape to the extension table and is not a character. 0x09 is capital C
// with cedilla as in the ETSI table (some phones show ç). Checked entry by
// entry against Perl's Encode::GSM0338 2.10, which follows TS 23.038
// v16.0.0 (the test pins the letters Swedish needs to their positions).
var gsm7Default = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 0x1B, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsm7Extension is the default extension table (TS 23.038 section 6.2.1.1):
// each of these is sent as escape 0x1B plus the septet given, so it costs
// two septets.
var gsm7Extension = map[rune]byte{
	'\f': 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F,
	'[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, '€': 0x65,
}

// gsm7Index maps a rune of the default alphabet to its septet.
var gsm7Index = func() map[rune]byte {
	m := make(map[rune]byte, len(gsm7Default))
	for i, r := range gsm7Default {
		if i != 0x1B {
			m[r] = byte(i)
		}
	}
	return m
}()

// gsm7Code returns the septet of r and whether it needs the escape to the
// extension table; ok is false when r cannot be written in GSM-7 at all.
func gsm7Code(r rune) (septet byte, ext, ok bool) {
	if c, found := gsm7Index[r]; found {
		return c, false, true
	}
	if c, found := gsm7Extension[r]; found {
		return c, true, true
	}
	return 0, false, false
}

// Segment sizes in septets (3GPP TS 23.040): 140 octets hold 160 septets;
// a part of a concatenated message loses 6 octets to its user data header,
// leaving 153 septets.
const (
	gsm7Single = 160
	gsm7Part   = 153
)

// GSM7Segments reports how many SMS parts text takes in the GSM 7-bit
// default alphabet with its extension table, and ok = false when some
// character is outside both (the gateway would then send UCS-2, 70
// characters a part). An extension character costs two septets and, as
// senders do, is never split across two parts. Empty text is one (empty)
// SMS. app.SMSText must be one segment (R4, issue 4).
func GSM7Segments(text string) (segments int, ok bool) {
	total, parts, fill := 0, 1, 0
	for _, r := range text {
		// Invalid UTF-8 comes as utf8.RuneError, which is not in the tables.
		_, ext, found := gsm7Code(r)
		if !found {
			return 0, false
		}
		n := 1
		if ext {
			n = 2
		}
		total += n
		// Parts as they would be cut if the message needs more than one.
		if fill+n > gsm7Part {
			parts, fill = parts+1, 0
		}
		fill += n
	}
	if total <= gsm7Single {
		return 1, true
	}
	return parts, true
}
