package personnummer

import (
	"log/slog"
	"strings"
	"time"

	// Embedded zone data: Windows clinic machines may lack a zone database,
	// and all calendar arithmetic here must use Europe/Stockholm.
	_ "time/tzdata"
)

// Masked is what LogValue and GoString return for a non-zero Number: it keeps
// the shape of a personnummer, so a log reader sees that one was there, but
// no digit of it.
const Masked = "********-****"

// minYear is the earliest accepted birth year. Personnummer were introduced
// in 1947; nobody alive then was born before 1840. The floor also keeps the
// '+' form of the 10-digit number unambiguous (it covers ages 100–199).
const minYear = 1840

// stockholm is the calendar on which every date in this package is taken.
var stockholm = mustLoadStockholm()

func mustLoadStockholm() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		// Cannot happen: time/tzdata is embedded above. Falling back to
		// UTC or a fixed offset would silently give wrong ages around
		// midnight and DST, so fail loudly instead.
		panic("personnummer: cannot load Europe/Stockholm: " + err.Error())
	}
	return loc
}

// Number is a validated personnummer or samordningsnummer.
//
// It is an immutable, comparable value: two Numbers are == exactly when they
// denote the same number, so it can be used as a map key. The zero value
// means "no number" (see IsZero). Only Parse, ParseAt, New and UnmarshalText
// produce non-zero values, so a non-zero Number is always well-formed.
type Number struct {
	year   uint16 // four-digit birth year
	month  uint8  // 1–12
	day    uint8  // day as written: 1–31, or 61–91 for a samordningsnummer
	serial uint16 // 0–999; the check digit is derived, not stored
}

// Parse parses s as of the current time; see ParseAt.
func Parse(s string) (Number, error) {
	return ParseAt(s, time.Now())
}

// ParseAt parses a personnummer or samordningsnummer typed by a user, with
// now deciding the century of 10-digit numbers and what counts as a future
// birth date. Only now's Europe/Stockholm calendar date is used.
//
// The accepted forms, the century rules and the order in which errors are
// reported are described in the package documentation. Errors are the
// package's sentinel values (test with errors.Is).
func ParseAt(s string, now time.Time) (Number, error) {
	return parse(s, now, false)
}

// parse implements ParseAt and UnmarshalText. For stored data (stored ==
// true) only the 12-digit form without '+' is accepted and there is no
// future check, so that reloading never depends on the clock.
func parse(s string, now time.Time, stored bool) (Number, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Number{}, ErrEmpty
	}
	f, err := split(s)
	if err != nil {
		return Number{}, err
	}
	if stored && (len(f.date) != 8 || f.sep == '+') {
		return Number{}, ErrFormat
	}

	ty, tm, td := civil(now)
	var year int
	if len(f.date) == 8 {
		year = atoi(f.date[:4])
		if f.sep == '+' && year+100 > ty {
			return Number{}, errPlus
		}
	} else {
		// The latest year <= latest that ends in the two given digits.
		latest := ty
		if f.sep == '+' {
			latest = ty - 100
		}
		yy := atoi(f.date[:2])
		year = latest - mod(latest-yy, 100)
	}
	rest := f.date[len(f.date)-4:]
	month, day := atoi(rest[:2]), atoi(rest[2:])
	if !validDate(year, month, day) {
		return Number{}, ErrDate
	}
	n := Number{year: uint16(year), month: uint8(month), day: uint8(day), serial: uint16(atoi(f.tail[:3]))}
	if int(f.tail[3]-'0') != n.checkDigit() {
		return Number{}, ErrChecksum
	}
	// Serial 000 is never issued (issue 17). Stored numbers load as they
	// were written.
	if !stored && n.serial == 0 {
		return Number{}, ErrSerialZero
	}
	if !stored && dateAfter(year, month, realDay(day), ty, int(tm), td) {
		return Number{}, ErrFuture
	}
	return n, nil
}

// fields is the shape of an input: date digits, optional separator and the
// last four characters, before any interpretation.
type fields struct {
	date string // 6 or 8 digits
	sep  byte   // 0, '-' or '+'
	tail string // 3-digit serial and check digit
}

// split checks the shape of s. The length alone decides the form, so there
// is never a guess about where the parts are.
func split(s string) (fields, error) {
	var f fields
	switch len(s) {
	case 10:
		f.date, f.tail = s[:6], s[6:]
	case 11:
		f.date, f.sep, f.tail = s[:6], s[6], s[7:]
	case 12:
		f.date, f.tail = s[:8], s[8:]
	case 13:
		f.date, f.sep, f.tail = s[:8], s[8], s[9:]
	default:
		return fields{}, ErrFormat
	}
	if len(s) == 11 || len(s) == 13 {
		if f.sep != '-' && f.sep != '+' {
			return fields{}, ErrFormat
		}
	}
	for i := 0; i < len(f.date); i++ {
		if !isDigit(f.date[i]) {
			return fields{}, ErrFormat
		}
	}
	// Letters are looked for only after every other character has been
	// checked, so that "reserve number" is said only about a string that
	// has exactly that shape.
	letters := false
	for i := 0; i < len(f.tail); i++ {
		switch c := f.tail[i]; {
		case isDigit(c):
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
			letters = true
		default:
			return fields{}, ErrFormat
		}
	}
	if letters {
		return fields{}, ErrReserve
	}
	return f, nil
}

// New builds a Number from a birth date and a serial number 0–999, computing
// the check digit. It exists for demo data (children under 13 and
// samordningsnummer, for which no published test numbers exist); adults in
// demo data must use Skatteverket's test numbers instead.
//
// The birth date is birth's Europe/Stockholm calendar date, consistent with
// Birthdate. With coordination set, the result is a samordningsnummer (day +
// 60). New does not reject a future birth date, since it has no clock; a
// year outside 1840–9999 gives ErrDate and a bad serial ErrSerial.
func New(birth time.Time, serial int, coordination bool) (Number, error) {
	if serial < 0 || serial > 999 {
		return Number{}, ErrSerial
	}
	y, m, d := birth.In(stockholm).Date()
	if y < minYear || y > 9999 {
		return Number{}, ErrDate
	}
	if coordination {
		d += 60
	}
	return Number{year: uint16(y), month: uint8(m), day: uint8(d), serial: uint16(serial)}, nil
}

// IsZero reports whether n is the zero value, i.e. no number.
func (n Number) IsZero() bool { return n == Number{} }

// IsCoordination reports whether n is a samordningsnummer (day + 60).
func (n Number) IsCoordination() bool { return n.day > 60 }

// String returns the 12-digit form ÅÅÅÅMMDD-NNNN, which is unambiguous on any
// clock; for a samordningsnummer the day is written as in the number (+60).
// The zero Number gives "". String returns the full number on purpose, for
// display; logs get the masked form through LogValue.
func (n Number) String() string {
	if n.IsZero() {
		return ""
	}
	b := make([]byte, 0, 13)
	b = append4(b, int(n.year))
	b = n.appendRest(b, '-')
	return string(b)
}

// Short returns the 10-digit form as of the current time; see ShortAt.
func (n Number) Short() string { return n.ShortAt(time.Now()) }

// ShortAt returns the 10-digit form ÅÅMMDD-NNNN as of now, with '+' instead
// of '-' from the calendar year (Europe/Stockholm) in which the person turns
// 100, as Skatteverket writes it. ParseAt with the same now reads it back to
// the same Number, for anyone under 200 (the most the 10-digit form can
// express). The zero Number gives "".
func (n Number) ShortAt(now time.Time) string {
	if n.IsZero() {
		return ""
	}
	sep := byte('-')
	if y, _, _ := civil(now); int(n.year)+100 <= y {
		sep = '+'
	}
	b := make([]byte, 0, 11)
	b = append2(b, int(n.year)%100)
	b = n.appendRest(b, sep)
	return string(b)
}

// Birthdate returns the real date of birth (for a samordningsnummer, the
// written day minus 60) at midnight in Europe/Stockholm. The zero Number
// gives the zero time.
func (n Number) Birthdate() time.Time {
	if n.IsZero() {
		return time.Time{}
	}
	return time.Date(int(n.year), time.Month(n.month), realDay(int(n.day)), 0, 0, 0, 0, stockholm)
}

// BirthdayIn returns the person's birthday in the given year, at midnight in
// Europe/Stockholm. Someone born on 29 February has their birthday on 28
// February in years that are not leap years, following lag (1930:173) om
// beräkning av lagstadgad tid, 2 §: a period counted in years that ends in a
// month without the corresponding day ends on that month's last day. This is
// what makes the age (and rules like "turns 13") change on 28 February. The
// zero Number gives the zero time.
func (n Number) BirthdayIn(year int) time.Time {
	if n.IsZero() {
		return time.Time{}
	}
	m, d := n.birthdayIn(year)
	return time.Date(year, time.Month(m), d, 0, 0, 0, 0, stockholm)
}

// birthdayIn is BirthdayIn as a month and day, for comparisons that must not
// go through instants (and so cannot be disturbed by time zones or DST).
func (n Number) birthdayIn(year int) (month, day int) {
	month, day = int(n.month), realDay(int(n.day))
	if month == 2 && day == 29 && !isLeap(year) {
		day = 28
	}
	return month, day
}

// AgeOn returns the person's age in completed years on t's Europe/Stockholm
// calendar date. The age increases on the birthday as given by BirthdayIn.
// Before the birth date, and for the zero Number, it returns 0.
func (n Number) AgeOn(t time.Time) int {
	if n.IsZero() {
		return 0
	}
	y, m, d := civil(t)
	age := y - int(n.year)
	if bm, bd := n.birthdayIn(y); dateAfter(y, bm, bd, y, int(m), d) {
		age--
	}
	return max(age, 0)
}

// LogValue implements slog.LogValuer: a Number logged by mistake shows up as
// Masked, never as digits. The zero Number logs as "".
func (n Number) LogValue() slog.Value {
	if n.IsZero() {
		return slog.StringValue("")
	}
	return slog.StringValue(Masked)
}

// GoString implements fmt.GoStringer so that %#v (typical in debug prints
// and test failure messages) shows Masked instead of the digits.
func (n Number) GoString() string {
	if n.IsZero() {
		return "personnummer.Number{}"
	}
	return Masked
}

// MarshalText implements encoding.TextMarshaler with the 12-digit String
// form, which does not depend on the clock. The zero Number marshals to
// empty text.
func (n Number) MarshalText() ([]byte, error) {
	return []byte(n.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It accepts the 12-digit
// form written by MarshalText (ÅÅÅÅMMDD-NNNN, or the same without '-') and
// empty text, which gives the zero Number. It validates format, date and
// check digit but deliberately not that the birth date is in the past:
// stored data must load whatever the machine's clock says. The 10-digit
// form is rejected because its century depends on the clock.
func (n *Number) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*n = Number{}
		return nil
	}
	v, err := parse(string(text), time.Time{}, true)
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// appendRest appends MMDD, the separator and NNNN (with check digit).
func (n Number) appendRest(b []byte, sep byte) []byte {
	b = append2(b, int(n.month))
	b = append2(b, int(n.day))
	b = append(b, sep)
	b = append(b, byte('0'+n.serial/100), byte('0'+n.serial/10%10), byte('0'+n.serial%10))
	return append(b, byte('0'+n.checkDigit()))
}

// checkDigit computes the Luhn check digit over the 10-digit form ÅÅMMDDNNN
// (the day as written, so +60 for a samordningsnummer).
func (n Number) checkDigit() int {
	digits := [9]int{
		int(n.year) / 10 % 10, int(n.year) % 10,
		int(n.month) / 10, int(n.month) % 10,
		int(n.day) / 10, int(n.day) % 10,
		int(n.serial) / 100, int(n.serial) / 10 % 10, int(n.serial) % 10,
	}
	sum := 0
	for i, d := range digits {
		if i%2 == 0 { // weights 2,1,2,1,... from the left
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

// validDate reports whether year, month and the written day form a possible
// birth date of a personnummer or samordningsnummer.
func validDate(year, month, day int) bool {
	if year < minYear || year > 9999 || month < 1 || month > 12 {
		return false
	}
	d := realDay(day)
	return d >= 1 && d <= daysIn(year, month)
}

// realDay turns a written day into the day of birth (coordination: -60).
// Day 60 maps to 0 so that validDate rejects it.
func realDay(day int) int {
	if day >= 60 {
		return day - 60
	}
	return day
}

// civil returns t's calendar date in Europe/Stockholm.
func civil(t time.Time) (int, time.Month, int) { return t.In(stockholm).Date() }

// dateAfter reports whether date a is after date b.
func dateAfter(ay, am, ad, by, bm, bd int) bool {
	if ay != by {
		return ay > by
	}
	if am != bm {
		return am > bm
	}
	return ad > bd
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoi converts a string of ASCII digits, already checked by split.
func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// mod is the non-negative remainder, so century arithmetic also works for
// clocks set before year 100.
func mod(a, m int) int { return (a%m + m) % m }

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
