package app

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError is a refused value of one input field (a resident's mobile
// number or e-mail address). Text is the Swedish sentence the UI shows next
// to the field; Code is stable for APIs and logs. Neither ever contains the
// value that was typed: it is personal data (STYLE.md, Habits).
//
// errors.Is(err, ErrInvalid) holds for every FieldError, so app.Code gives
// "invalid"; errors.Is(err, ErrPhoneNotMobile) and so on tell the kinds
// apart, and errors.As(err, &fe) gives the UI fe.Text.
type FieldError struct {
	Field string // "mobile" or "email"
	Code  string // e.g. "phone_not_mobile"
	Text  string // Swedish, for the UI
}

func (e *FieldError) Error() string { return e.Field + " refused: " + e.Code }

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// The reasons NormalizePhone refuses a number. The texts say what to do,
// not only what is wrong.
var (
	ErrPhoneEmpty = &FieldError{"mobile", "phone_empty",
		"Fyll i ditt mobilnummer."}
	ErrPhoneCharacters = &FieldError{"mobile", "phone_characters",
		"Mobilnumret får bara innehålla siffror, mellanslag och bindestreck, och + först om du skriver landsnummer."}
	ErrPhoneFormat = &FieldError{"mobile", "phone_format",
		"Skriv mobilnumret med 0 först, till exempel 070-123 45 67, eller med landsnummer, till exempel +46 70 123 45 67."}
	ErrPhoneTooShort = &FieldError{"mobile", "phone_too_short",
		"Mobilnumret har för få siffror."}
	ErrPhoneTooLong = &FieldError{"mobile", "phone_too_long",
		"Mobilnumret har för många siffror."}
	ErrPhoneNotMobile = &FieldError{"mobile", "phone_not_mobile",
		"Numret är inte ett mobilnummer. Aviseringen skickas som sms, så fyll i ett mobilnummer (svenska mobilnummer börjar med 070, 072, 073, 076 eller 079)."}
)

// The reasons NormalizeEmail refuses an address.
var (
	ErrEmailInvalid = &FieldError{"email", "email_invalid",
		"E-postadressen ser inte ut att stämma. Skriv den som namn@exempel.se."}
	ErrEmailDisplayName = &FieldError{"email", "email_display_name",
		"Skriv bara själva e-postadressen, utan namn, citattecken eller <>."}
	ErrEmailTooLong = &FieldError{"email", "email_too_long",
		"E-postadressen är för lång."}
)

// swedishMobileNDC are the national destination codes PTS reserves for
// mobile telephony in the Swedish telephone numbering plan (E.164 plan for
// +46): 70, 72, 73, 76 and 79, each followed by a 7-digit subscriber
// number, so 9 digits after +46. Source: PTS, "The Swedish numbering plan
// for telephony according to ITU-T Recommendation E.164" ("... the
// 070/072/073/076/079 series for mobile telephony services", closed
// dialling, complete number always dialled) and pts.se "Telefonnummer och
// adressering". 071 is for machine-to-machine subscriptions (longer numbers,
// not for people) and is refused like fixed-line numbers: an SMS
// notification needs a phone a person reads. PTS's numbers reserved for
// fiction, 070-174 06 05 … 070-174 06 99, are ordinary 070 numbers here and
// are what tests and demo data use.
var swedishMobileNDC = [...]string{"70", "72", "73", "76", "79"}

const (
	swedishNSNLen = 9  // digits after +46 for a mobile number
	e164MaxDigits = 15 // ITU-T E.164: country code + national number
	// e164MinDigits is the shortest foreign number we take. E.164 sets no
	// minimum; real mobile numbers have at least 8 digits with the country
	// code (e.g. +298 Faroe Islands: 3 + 6), and fewer is almost always a
	// typing error.
	e164MinDigits = 8
)

// NormalizePhone turns a mobile number as a resident types it into E.164
// (+46701234567). Swedish mobiles are accepted written nationally
// (070-123 45 67, 0701234567) or internationally (+46 70 123 45 67,
// 0046701234567, 46701234567, +46 (0)70-123 45 67); other countries'
// numbers only with + or 00 and 8–15 digits, since without them the country
// is a guess. A Swedish number that is not a mobile is refused: the number
// is used for SMS. Spaces, hyphens, dots, slashes and brackets are
// separators; anything else (letters, *, #) is refused.
//
// The error is one of the ErrPhone… FieldErrors and never contains s.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrPhoneEmpty
	}
	if len(s) > 64 {
		// Far longer than any number with separators; refuse before
		// looking further so a pasted text costs nothing.
		return "", ErrPhoneTooLong
	}
	plus := false
	digits := make([]byte, 0, 16)
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '\u00a0' || r == '\u202f' || r == '-' || r == '\u2010' || r == '\u2013' ||
			r == '.' || r == '/' || r == '(' || r == ')':
			// separator
		default:
			return "", ErrPhoneCharacters
		}
	}
	if len(digits) == 0 {
		return "", ErrPhoneEmpty
	}
	d := string(digits)
	var intl string // country code + national number, no prefix
	switch {
	case plus:
		intl = d
	case strings.HasPrefix(d, "00"):
		intl = d[2:]
	case strings.HasPrefix(d, "0"):
		intl = "46" + d[1:]
	case strings.HasPrefix(d, "46") && len(d) > 2:
		// 46701234567: a Swedish number with the country code but no +.
		// Only Swedish: for other countries the digits alone are ambiguous.
		return normalizeSwedish(d[2:])
	default:
		return "", ErrPhoneFormat
	}
	if intl == "" {
		return "", ErrPhoneTooShort
	}
	if intl[0] == '0' {
		return "", ErrPhoneFormat // no country code starts with 0
	}
	if strings.HasPrefix(intl, "46") {
		return normalizeSwedish(intl[2:])
	}
	if len(intl) < e164MinDigits {
		return "", ErrPhoneTooShort
	}
	if len(intl) > e164MaxDigits {
		return "", ErrPhoneTooLong
	}
	return "+" + intl, nil
}

// normalizeSwedish checks the national significant number after +46.
func normalizeSwedish(nsn string) (string, error) {
	// "+46 (0)70…" and "+46070…" are common ways of writing; a Swedish
	// national number never starts with 0, so one 0 here is the trunk prefix.
	nsn = strings.TrimPrefix(nsn, "0")
	if len(nsn) < 2 {
		return "", ErrPhoneTooShort
	}
	mobile := false
	for _, ndc := range swedishMobileNDC {
		if strings.HasPrefix(nsn, ndc) {
			mobile = true
			break
		}
	}
	switch {
	case !mobile:
		return "", ErrPhoneNotMobile
	case len(nsn) < swedishNSNLen:
		return "", ErrPhoneTooShort
	case len(nsn) > swedishNSNLen:
		return "", ErrPhoneTooLong
	}
	return "+46" + nsn, nil
}

// NormalizeEmail checks an e-mail address a resident types for
// notifications and returns it trimmed, with the domain in lower case (the
// local part is left alone: it may be case-sensitive). It takes a bare
// address only: net/mail.ParseAddress would also take "Karin <k@x.se>" and
// comments, which have no place in a settings field, so the parsed address
// must equal the input. On top of RFC 5322 syntax it asks for what a
// deliverable Internet address has: a domain with a dot and sane labels, no
// IP literal, no quoted local part, lengths within RFC 5321.
//
// The error is one of the ErrEmail… FieldErrors and never contains s.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrEmailInvalid
	}
	if len(s) > 254 { // RFC 5321 path limit minus the angle brackets
		return "", ErrEmailTooLong
	}
	if !utf8.ValidString(s) || strings.ContainsAny(s, "<>\"()") {
		return "", ErrEmailDisplayName
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", ErrEmailInvalid
	}
	if a.Name != "" || a.Address != s {
		return "", ErrEmailDisplayName
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if local == "" || len(local) > 64 || strings.ContainsAny(local, " \\") || strings.Count(s, "@") != 1 {
		return "", ErrEmailInvalid
	}
	domain = strings.ToLower(domain)
	if !plausibleDomain(domain) {
		return "", ErrEmailInvalid
	}
	return local + "@" + domain, nil
}

// plausibleDomain: dot-separated labels of letters (any script, for
// internationalised domains), digits and inner hyphens, at least two labels,
// and a top-level label that is not all digits (that would be an IP address).
func plausibleDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 0x7f && unicode.IsLetter(r)) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && strings.Trim(tld, "0123456789") != ""
}
