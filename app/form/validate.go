package form

import (
	"fmt"
	"math"
	"mottagning/app/textcheck"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"mottagning/app/personnummer"
)

// present reports whether v counts as an answer of it: an empty text or
// an empty choice is no answer (the field was left blank).
func present(it *Item, v Value) bool {
	switch it.Type {
	case TypeNumber, TypeBoolean:
		return true
	case TypeChoice, TypeMultiChoice:
		return v.Code != "" || strings.TrimSpace(v.Text) != ""
	case TypeAttachment:
		return v.Attachment != nil
	case TypeGroup:
		return true
	}
	return strings.TrimSpace(v.Text) != ""
}

// presentValues returns the values of vs that count as answers, without
// allocating when all do.
func presentValues(it *Item, vs []Value) []Value {
	for i, v := range vs {
		if !present(it, v) {
			out := append([]Value(nil), vs[:i]...)
			for _, w := range vs[i+1:] {
				if present(it, w) {
					out = append(out, w)
				}
			}
			return out
		}
	}
	return vs
}

// farFuture stands in for "now" where none is given (an initial value in
// a definition): only the future-birth check of a personnummer uses it.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// checkValue validates one present answer of a question. It returns the
// error code and the Swedish text naming the field, or "" when the value
// is good.
func checkValue(it *Item, v Value, now time.Time, _ bool) (code, text string) {
	if now.IsZero() {
		now = farFuture
	}
	n := it.name()
	switch it.Type {
	case TypeText, TypeLongText:
		if !utf8.ValidString(v.Text) || !textcheck.Multiline(v.Text) {
			return CodeText, fmt.Sprintf("%s innehåller tecken som inte kan läsas.", n)
		}
		if max := it.maxLength(); utf8.RuneCountInString(v.Text) > max {
			return CodeTooLong, fmt.Sprintf("%s får vara högst %d tecken.", n, max)
		}
	case TypeNumber:
		f := v.Number
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return CodeNumber, fmt.Sprintf("%s måste vara ett tal.", n)
		}
		unit := ""
		if it.Unit != nil && it.Unit.Text() != "" {
			unit = " " + it.Unit.Text()
		}
		if it.Min != nil && f < *it.Min {
			return CodeMin, fmt.Sprintf("%s måste vara minst %s%s.", n, formatNumber(*it.Min), unit)
		}
		if it.Max != nil && f > *it.Max {
			return CodeMax, fmt.Sprintf("%s får vara högst %s%s.", n, formatNumber(*it.Max), unit)
		}
		if it.Decimals != nil && decimals(f) > *it.Decimals {
			if *it.Decimals == 0 {
				return CodeDecimals, fmt.Sprintf("%s ska vara ett heltal.", n)
			}
			word := "decimaler"
			if *it.Decimals == 1 {
				word = "decimal"
			}
			return CodeDecimals, fmt.Sprintf("%s får ha högst %d %s.", n, *it.Decimals, word)
		}
	case TypeDate:
		if !isDate(v.Text) {
			return CodeDate, fmt.Sprintf("%s ska vara ett datum, till exempel 2025-03-14.", n)
		}
	case TypeDateTime:
		if !isDateTime(v.Text) {
			return CodeDateTime, fmt.Sprintf("%s ska vara datum och tid, till exempel 2025-03-14T13:30.", n)
		}
	case TypeTime:
		if !isTime(v.Text) {
			return CodeTime, fmt.Sprintf("%s ska vara ett klockslag, till exempel 13:30.", n)
		}
	case TypeChoice, TypeMultiChoice:
		if v.Code == "" {
			if !it.AllowOther {
				return CodeOption, fmt.Sprintf("Välj ett av alternativen i %s.", n)
			}
			if utf8.RuneCountInString(v.Text) > DefaultMaxText || !utf8.ValidString(v.Text) {
				return CodeTooLong, fmt.Sprintf("Svaret i %s får vara högst %d tecken.", n, DefaultMaxText)
			}
			return "", ""
		}
		if len(it.Options) == 0 && it.ValueSet != "" {
			// An external value set: the codes cannot be checked offline
			// (the import reported it).
			return "", ""
		}
		if it.option(v.Code) == nil {
			return CodeOption, fmt.Sprintf("Välj ett av alternativen i %s.", n)
		}
	case TypePersonnummer:
		if _, err := personnummer.ParseAt(v.Text, now); err != nil {
			return CodePersonnummer, fmt.Sprintf("%s: %s", n, err.Error())
		}
	case TypePhone:
		if _, ok := normalizePhone(v.Text); !ok {
			return CodePhone, fmt.Sprintf("%s är inte ett giltigt telefonnummer. Skriv till exempel 036-123 45 67 eller +46 36 123 45 67.", n)
		}
	case TypeEmail:
		if _, ok := normalizeEmail(v.Text); !ok {
			return CodeEmail, fmt.Sprintf("%s är inte en giltig e-postadress. Skriv den som namn@exempel.se.", n)
		}
	case TypeAttachment:
		if v.Attachment == nil || strings.TrimSpace(v.Attachment.ID) == "" {
			return CodeAttachment, fmt.Sprintf("Bilagan i %s saknas. Bifoga filen igen.", n)
		}
	}
	return "", ""
}

// requiredText is the message for an unanswered required item.
func requiredText(it *Item) string {
	n := it.name()
	switch it.Type {
	case TypeChoice:
		return fmt.Sprintf("Välj ett alternativ i %s.", n)
	case TypeMultiChoice:
		return fmt.Sprintf("Välj minst ett alternativ i %s.", n)
	case TypeBoolean:
		return fmt.Sprintf("Svara ja eller nej på %s.", n)
	case TypeAttachment:
		return fmt.Sprintf("Bifoga en fil i %s.", n)
	case TypeGroup:
		if it.Repeats {
			return fmt.Sprintf("Fyll i %s minst en gång.", n)
		}
		return fmt.Sprintf("Fyll i minst ett fält i %s.", n)
	}
	return fmt.Sprintf("Fyll i %s.", n)
}

// normalizeValue is the form a good answer is stored in: trimmed text,
// a personnummer in its 12-digit form, a phone number in E.164, an e-mail
// address with a lower-case domain.
func normalizeValue(it *Item, v Value, now time.Time) Value {
	switch it.Type {
	case TypeText, TypeLongText, TypeDate, TypeDateTime, TypeTime:
		v.Text = strings.TrimSpace(v.Text)
	case TypePersonnummer:
		if n, err := personnummer.ParseAt(v.Text, now); err == nil {
			v.Text = n.String()
		}
	case TypePhone:
		if p, ok := normalizePhone(v.Text); ok {
			v.Text = p
		}
	case TypeEmail:
		if e, ok := normalizeEmail(v.Text); ok {
			v.Text = e
		}
	case TypeChoice, TypeMultiChoice:
		if v.Code != "" {
			v.Text = ""
			if o := it.option(v.Code); o != nil {
				v.System = o.System
			}
		} else {
			v.Text = strings.TrimSpace(v.Text)
		}
	}
	return v
}

// decimals counts the decimals f needs (up to 15).
func decimals(f float64) int {
	s := fmt.Sprintf("%.15g", math.Abs(f))
	if strings.ContainsAny(s, "e") {
		// Very large or very small: compare the rounded value instead.
		for d := 0; d <= 15; d++ {
			p := math.Pow10(d)
			if math.Abs(math.Round(f*p)-f*p) < 1e-9 {
				return d
			}
		}
		return 16
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

func isDate(s string) bool {
	s = strings.TrimSpace(s)
	_, err := time.Parse("2006-01-02", s)
	return err == nil && len(s) == 10
}

func isTime(s string) bool {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"15:04", "15:04:05"} {
		if _, err := time.Parse(layout, s); err == nil && len(s) == len(layout) {
			return true
		}
	}
	return false
}

func isDateTime(s string) bool {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// normalizePhone takes any telephone number a resident types (a form's
// phone item may be a landline, unlike app.NormalizePhone which is for SMS
// and takes mobiles only) and returns it in E.164. A national number starts
// with 0 and is Swedish; others need + or 00. 8–15 digits with the country
// code (ITU-T E.164).
func normalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return "", false
	}
	var digits []byte
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && i == 0:
			plus = true
		case c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || c == '/':
		default:
			return "", false
		}
	}
	d := string(digits)
	switch {
	case plus:
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case strings.HasPrefix(d, "0"):
		d = "46" + d[1:]
	default:
		return "", false
	}
	// "+46 (0)36…": the trunk zero after the country code is dropped.
	if strings.HasPrefix(d, "460") {
		d = "46" + d[3:]
	}
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	return "+" + d, true
}

// normalizeEmail takes a bare address (no display name) with a domain that
// has a dot; the domain is lower-cased.
func normalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || !utf8.ValidString(s) || strings.ContainsAny(s, "<>\"() \\") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.Count(s, "@") != 1 {
		return "", false
	}
	at := strings.IndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if local == "" || len(local) > 64 || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") ||
		strings.HasPrefix(domain, "[") {
		return "", false
	}
	return local + "@" + domain, true
}
