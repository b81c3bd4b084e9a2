package personnummer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

// Adults in these tests are Skatteverket's published test numbers (see
// testdata/). Children and samordningsnummer are built with withCheck.

// sthlm returns a wall-clock time in Stockholm.
func sthlm(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, stockholm)
}

var (
	now2026 = sthlm(2026, 11, 25, 12, 0)
	// 23:30 UTC on 31 December is already 00:30 on 1 January in Stockholm.
	utcNewYear2026 = time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	// 22:30 UTC on 31 December is still 31 December (23:30) in Stockholm.
	utcBeforeNewYear2026 = time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC)
	// The people born 2000–2009 in Skatteverket's file turn 100 in
	// 2100–2109; clocks there test the '+' rules on official numbers.
	now2104 = sthlm(2104, 6, 15, 12, 0)
	now2105 = sthlm(2105, 6, 15, 12, 0)
	now2109 = sthlm(2109, 6, 1, 12, 0)
	// Last minute of 2104 and first of 2105 in Stockholm, and the UTC
	// instant that is already 2105 in Stockholm.
	end2104      = sthlm(2104, 12, 31, 23, 59)
	start2105    = sthlm(2105, 1, 1, 0, 0)
	utcStart2105 = time.Date(2104, 12, 31, 23, 30, 0, 0, time.UTC)
)

// withCheck appends the Luhn check digit to a number written without it,
// e.g. "20150615-123". It is independent of the package's own code: plain
// Luhn over the last nine digits, weights 2,1,2,... from the left.
func withCheck(s string) string {
	var digits []int
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits = append(digits, int(c-'0'))
		}
	}
	if len(digits) != 9 && len(digits) != 11 {
		panic("withCheck: need 9 or 11 digits: " + s)
	}
	digits = digits[len(digits)-9:]
	sum := 0
	for i, d := range digits {
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return fmt.Sprintf("%s%d", s, (10-sum%10)%10)
}

// wrongCheck replaces the last digit of s with a different one.
func wrongCheck(s string) string {
	last := s[len(s)-1] - '0'
	return s[:len(s)-1] + string(rune('0'+(last+1)%10))
}

// readTestNumbers reads the package's copy of Skatteverket's test numbers.
func readTestNumbers(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/skatteverket-test-personnummer.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type acceptCase struct {
	name      string
	in        string
	now       time.Time
	want      string // String()
	coord     bool
	birthdate time.Time
}

func acceptCases() []acceptCase {
	child := withCheck("20200615-321")
	coord := withCheck("20100163-123")
	coord91 := withCheck("20150391-456")
	coordLeap := withCheck("20120289-789")
	today := withCheck("20261125-111")
	newYear := withCheck("20270101-222")
	return []acceptCase{
		{"12 digits", "200001012384", now2026, "20000101-2384", false, sthlm(2000, 1, 1, 0, 0)},
		{"12 digits with -", "20000101-2384", now2026, "20000101-2384", false, sthlm(2000, 1, 1, 0, 0)},
		{"surrounding whitespace", " \t20000101-2384\r\n", now2026, "20000101-2384", false, sthlm(2000, 1, 1, 0, 0)},
		{"10 digits", "0001012384", now2026, "20000101-2384", false, sthlm(2000, 1, 1, 0, 0)},
		{"10 digits with -", "000101-2384", now2026, "20000101-2384", false, sthlm(2000, 1, 1, 0, 0)},
		{"10 digits leap day", "000229-2381", now2026, "20000229-2381", false, sthlm(2000, 2, 29, 0, 0)},
		{"last of 2009", "081231-2387", now2026, "20081231-2387", false, sthlm(2008, 12, 31, 0, 0)},
		{"child 12 digits", child, now2026, child, false, sthlm(2020, 6, 15, 0, 0)},
		{"child 10 digits", child[2:], now2026, child, false, sthlm(2020, 6, 15, 0, 0)},
		{"born today", today, now2026, today, false, sthlm(2026, 11, 25, 0, 0)},
		{"born today 10 digits", today[2:], now2026, today, false, sthlm(2026, 11, 25, 0, 0)},
		{"samordningsnummer 12 digits", coord, now2026, coord, true, sthlm(2010, 1, 3, 0, 0)},
		{"samordningsnummer 12 digits no separator", strings.Replace(coord, "-", "", 1), now2026, coord, true, sthlm(2010, 1, 3, 0, 0)},
		{"samordningsnummer 10 digits", coord[2:], now2026, coord, true, sthlm(2010, 1, 3, 0, 0)},
		{"samordningsnummer day 91", coord91, now2026, coord91, true, sthlm(2015, 3, 31, 0, 0)},
		{"samordningsnummer leap day", coordLeap, now2026, coordLeap, true, sthlm(2012, 2, 29, 0, 0)},
		// Stockholm is already in 2027 although UTC is not.
		{"Stockholm New Year, 12 digits", newYear, utcNewYear2026, newYear, false, sthlm(2027, 1, 1, 0, 0)},
		{"Stockholm New Year, 10 digits", newYear[2:], utcNewYear2026, newYear, false, sthlm(2027, 1, 1, 0, 0)},
		// The 100th year: '-' up to the year before, '+' from the year
		// the person turns 100; a 12-digit '-' is accepted at any age.
		{"99 this year, 10 digits -", "050101-2397", now2104, "20050101-2397", false, sthlm(2005, 1, 1, 0, 0)},
		{"100 this year, 10 digits +", "050101+2397", now2105, "20050101-2397", false, sthlm(2005, 1, 1, 0, 0)},
		{"100 this year, 12 digits +", "20050101+2397", now2105, "20050101-2397", false, sthlm(2005, 1, 1, 0, 0)},
		{"100 this year, 12 digits -", "20050101-2397", now2105, "20050101-2397", false, sthlm(2005, 1, 1, 0, 0)},
		{"100 this year, 12 digits no separator", "200501012397", now2105, "20050101-2397", false, sthlm(2005, 1, 1, 0, 0)},
		{"100 this year before birthday, 10 digits +", "051231+2380", end2104.AddDate(0, 6, 0), "20051231-2380", false, sthlm(2005, 12, 31, 0, 0)},
		{"Stockholm New Year 2105, 10 digits +", "051231+2380", utcStart2105, "20051231-2380", false, sthlm(2005, 12, 31, 0, 0)},
		{"Stockholm New Year 2105, 12 digits +", "20051231+2380", utcStart2105, "20051231-2380", false, sthlm(2005, 12, 31, 0, 0)},
		{"last minute of 2104, 10 digits -", "051231-2380", end2104, "20051231-2380", false, sthlm(2005, 12, 31, 0, 0)},
		// '+': the latest year <= now-100 with the given two digits.
		{"+ 2109, 00", "000101+2384", now2109, "20000101-2384", false, sthlm(2000, 1, 1, 0, 0)},
		{"+ 2109, 09", "090101+2393", now2109, "20090101-2393", false, sthlm(2009, 1, 1, 0, 0)},
		// '-': the year in [now-99, now]: a baby born this year.
		{"- 2109, 09", "090101-2393", now2109, "21090101-2393", false, sthlm(2109, 1, 1, 0, 0)},
		{"- 2105, 05", "050101-2397", now2105, "21050101-2397", false, sthlm(2105, 1, 1, 0, 0)},
	}
}

func TestParseAtAccepted(t *testing.T) {
	for _, tc := range acceptCases() {
		t.Run(tc.name, func(t *testing.T) {
			n, err := ParseAt(tc.in, tc.now)
			if err != nil {
				t.Fatalf("ParseAt(%q) error: %v", tc.in, err)
			}
			if got := n.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if got := n.IsCoordination(); got != tc.coord {
				t.Errorf("IsCoordination() = %v, want %v", got, tc.coord)
			}
			if got := n.Birthdate(); !got.Equal(tc.birthdate) || got.Location() != stockholm {
				t.Errorf("Birthdate() = %v, want %v", got, tc.birthdate)
			}
			if n.IsZero() {
				t.Error("IsZero() = true for a parsed number")
			}
		})
	}
}

type errorCase struct {
	name string
	in   string
	now  time.Time
	want error
}

func errorCases() []errorCase {
	tomorrow := withCheck("20261126-123")
	newYear := withCheck("20270101-222")
	return []errorCase{
		{"empty", "", now2026, ErrEmpty},
		{"spaces", "   ", now2026, ErrEmpty},
		{"whitespace", "\t\r\n ", now2026, ErrEmpty},

		{"serial 000", "19900505-0001", now2026, ErrSerialZero},
		{"serial 000, 10 digits", "9005050001", now2026, ErrSerialZero},
		{"one digit", "1", now2026, ErrFormat},
		{"9 digits", "000101238", now2026, ErrFormat},
		{"11 digits", "20000101238", now2026, ErrFormat},
		{"13 digits", "2000010123845", now2026, ErrFormat},
		{"14 characters", "20000101--2384", now2026, ErrFormat},
		{"space separator", "20000101 2384", now2026, ErrFormat},
		{"slash separator", "20000101/2384", now2026, ErrFormat},
		{"separator in the date", "2000-0101-2384", now2026, ErrFormat},
		{"separator misplaced", "0001-012384", now2026, ErrFormat},
		{"letter in the date", "2000A1012384", now2026, ErrFormat},
		{"letter O for zero in the date", "00O101-2384", now2026, ErrFormat},
		{"trailing letter", "200001012384x", now2026, ErrFormat},
		{"punctuation in serial", "000101-238!", now2026, ErrFormat},
		{"full-width digits", "２００００１０１２３８４", now2026, ErrFormat},
		{"12 digits + under 100", "20000101+2384", now2026, ErrFormat},
		{"12 digits + in the year before the 100th", "20051231+2380", end2104, ErrFormat},
		{"12 digits + UTC still 2104 in Stockholm", "20051231+2380", time.Date(2104, 12, 31, 22, 30, 0, 0, time.UTC), ErrFormat},

		{"reserve T, 12 digits", "20000101-T123", now2026, ErrReserve},
		{"reserve R, 10 digits", "000101-R123", now2026, ErrReserve},
		{"reserve no separator", "200001011A23", now2026, ErrReserve},
		{"reserve lower case, 10 characters", "0001011a23", now2026, ErrReserve},
		{"reserve letter check digit", "20000101-123X", now2026, ErrReserve},
		{"reserve before date", "20230230-T123", now2026, ErrReserve},

		{"30 February", "20230230-1234", now2026, ErrDate},
		{"29 February non-leap", "20230229-1234", now2026, ErrDate},
		{"29 February 1900 (not a leap year)", "19000229+1234", now2026, ErrDate},
		{"month 13", "20001301-1234", now2026, ErrDate},
		{"month 0", "20000001-1234", now2026, ErrDate},
		{"day 0", "20000100-1234", now2026, ErrDate},
		{"day 32", "20000132-1234", now2026, ErrDate},
		{"day 45", "20000145-1234", now2026, ErrDate},
		{"coordination day 60", "20000160-1234", now2026, ErrDate},
		{"coordination day 92", "20000192-1234", now2026, ErrDate},
		{"coordination 31 April", "20000491-1234", now2026, ErrDate},
		{"coordination 29 February non-leap", "20230289-1234", now2026, ErrDate},
		{"10 digits 31 June", "000631-1234", now2026, ErrDate},
		{"before 1840", "18391231-1234", now2026, ErrDate},
		{"year 0", "00000101-1234", now2026, ErrDate},
		{"date before check digit", "20230230-0000", now2026, ErrDate},
		{"date before future", "20261131-0000", now2026, ErrDate},

		{"check digit, 12 digits", "200001012385", now2026, ErrChecksum},
		{"check digit, 10 digits", "000101-2385", now2026, ErrChecksum},
		{"transposed digits", "200001012834", now2026, ErrChecksum},
		{"check digit, samordningsnummer", wrongCheck(withCheck("20100163-123")), now2026, ErrChecksum},
		{"check digit before future", "20261126-0000", now2026, ErrChecksum},

		{"tomorrow, 12 digits", tomorrow, now2026, ErrFuture},
		{"tomorrow, 10 digits", tomorrow[2:], now2026, ErrFuture},
		{"later this year, 10 digits -", "051231-2380", now2105, ErrFuture},
		{"still 31 December in Stockholm", newYear, utcBeforeNewYear2026, ErrFuture},
	}
}

func TestParseAtErrors(t *testing.T) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			n, err := ParseAt(tc.in, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseAt(%q) error = %v, want %v", tc.in, err, tc.want)
			}
			if !n.IsZero() {
				t.Errorf("ParseAt(%q) returned a non-zero Number with an error", tc.in)
			}
		})
	}
}

// TestErrorsAreDistinct makes sure no error matches another sentinel, so a
// caller's errors.Is switch picks exactly one branch.
func TestErrorsAreDistinct(t *testing.T) {
	all := []error{ErrEmpty, ErrFormat, ErrReserve, ErrDate, ErrChecksum, ErrFuture, ErrSerial, ErrSerialZero}
	for _, tc := range errorCases() {
		_, err := ParseAt(tc.in, tc.now)
		for _, e := range all {
			if e != tc.want && errors.Is(err, e) {
				t.Errorf("ParseAt(%q) error %v also matches %v", tc.in, err, e)
			}
		}
	}
}

func TestPlusOn12DigitsExplains(t *testing.T) {
	_, err := ParseAt("20000101+2384", now2026)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "Plustecken") {
		t.Errorf("error = %v, want ErrFormat explaining the plus sign", err)
	}
}

func TestErrorMessagesNeverContainInput(t *testing.T) {
	for _, tc := range errorCases() {
		_, err := ParseAt(tc.in, tc.now)
		if err == nil {
			t.Fatalf("ParseAt(%q): no error", tc.in)
		}
		msg := err.Error()
		// Inputs shorter than six characters ("1") cannot be told
		// apart from the digits a message may legitimately contain.
		in := strings.TrimSpace(tc.in)
		if len(in) >= 6 && strings.Contains(msg, in) {
			t.Errorf("message for %q contains the input: %s", tc.in, msg)
		}
		// Neither the digits of the number in any grouping.
		if len(in) >= 6 && strings.Contains(msg, in[len(in)-4:]) {
			t.Errorf("message for %q contains its last four characters: %s", tc.in, msg)
		}
	}
	for _, e := range []error{ErrEmpty, ErrFormat, ErrReserve, ErrDate, ErrChecksum, ErrFuture, ErrSerial, ErrSerialZero, errPlus} {
		if msg := e.Error(); len(msg) < 30 || !strings.HasSuffix(msg, ".") {
			t.Errorf("message %q: want a full Swedish sentence", msg)
		}
	}
}

func TestSkatteverketTestNumbers(t *testing.T) {
	lines := readTestNumbers(t)
	if len(lines) != 3662 {
		t.Fatalf("read %d numbers, want 3662", len(lines))
	}
	seen := make(map[Number]bool, len(lines))
	for _, line := range lines {
		n, err := ParseAt(line, now2026)
		if err != nil {
			t.Errorf("ParseAt(%q): %v", line, err)
			continue
		}
		long := line[:8] + "-" + line[8:]
		short := line[2:8] + "-" + line[8:]
		if got := n.String(); got != long {
			t.Errorf("String() = %q, want %q", got, long)
		}
		if got := n.ShortAt(now2026); got != short {
			t.Errorf("ShortAt() = %q, want %q", got, short)
		}
		if got := n.Short(); got != short { // under 100 until 2100
			t.Errorf("Short() = %q, want %q", got, short)
		}
		for _, s := range []string{long, short} {
			if m, err := ParseAt(s, now2026); err != nil || m != n {
				t.Errorf("ParseAt(%q) = %v, %v; want the same number", s, m, err)
			}
		}
		text, err := n.MarshalText()
		if err != nil || string(text) != long {
			t.Errorf("MarshalText() = %q, %v; want %q", text, err, long)
		}
		var m Number
		if err := m.UnmarshalText(text); err != nil || m != n {
			t.Errorf("UnmarshalText(%q) = %v; got a different number", text, err)
		}
		if n.IsCoordination() {
			t.Errorf("%s: IsCoordination() = true", long)
		}
		if y := n.Birthdate().Year(); y < 2000 || y > 2009 {
			t.Errorf("%s: birth year %d", long, y)
		}
		// New computes the same check digit as Skatteverket.
		serial := int(line[8]-'0')*100 + int(line[9]-'0')*10 + int(line[10]-'0')
		if b, err := New(n.Birthdate(), serial, false); err != nil || b != n {
			t.Errorf("New(%v, %d) = %v, %v; want %s", n.Birthdate(), serial, b.String(), err, long)
		}
		if seen[n] {
			t.Errorf("%s: duplicate", long)
		}
		seen[n] = true
	}
}

// TestCenturyBoundary: the 10-digit separator turns '+' on 1 January of the
// year the person turns 100, on the Stockholm calendar.
func TestCenturyBoundary(t *testing.T) {
	n, err := ParseAt("20051231-2380", now2026)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"2026", now2026, "051231-2380"},
		{"last minute of 2104", end2104, "051231-2380"},
		{"UTC 22:30 on 31 December 2104", time.Date(2104, 12, 31, 22, 30, 0, 0, time.UTC), "051231-2380"},
		{"first minute of 2105", start2105, "051231+2380"},
		{"UTC 23:30 on 31 December 2104", utcStart2105, "051231+2380"},
		{"2105, before the 100th birthday", now2105, "051231+2380"},
		{"2204", sthlm(2204, 6, 1, 0, 0), "051231+2380"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := n.ShortAt(tc.now)
			if got != tc.want {
				t.Fatalf("ShortAt = %q, want %q", got, tc.want)
			}
			if m, err := ParseAt(got, tc.now); err != nil || m != n {
				t.Errorf("ParseAt(%q) = %v, %v; want the same number", got, m, err)
			}
		})
	}
}

func TestLeapDayBirthday(t *testing.T) {
	for _, coordination := range []bool{false, true} {
		n, err := New(sthlm(2012, 2, 29, 0, 0), 123, coordination)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			on   time.Time
			want int
		}{
			{sthlm(2025, 2, 27, 23, 59), 12},
			{sthlm(2025, 2, 28, 0, 0), 13},
			{sthlm(2025, 3, 1, 0, 0), 13},
			{sthlm(2024, 2, 28, 12, 0), 11},
			{sthlm(2024, 2, 29, 0, 0), 12},
			// 23:30 UTC on 27 February is 28 February in Stockholm.
			{time.Date(2025, 2, 27, 23, 30, 0, 0, time.UTC), 13},
			// 2100 is not a leap year.
			{sthlm(2100, 2, 27, 0, 0), 87},
			{sthlm(2100, 2, 28, 0, 0), 88},
		} {
			if got := n.AgeOn(tc.on); got != tc.want {
				t.Errorf("coordination=%v: AgeOn(%v) = %d, want %d", coordination, tc.on, got, tc.want)
			}
		}
		if got, want := n.BirthdayIn(2025), sthlm(2025, 2, 28, 0, 0); !got.Equal(want) {
			t.Errorf("BirthdayIn(2025) = %v, want %v", got, want)
		}
		if got, want := n.BirthdayIn(2024), sthlm(2024, 2, 29, 0, 0); !got.Equal(want) {
			t.Errorf("BirthdayIn(2024) = %v, want %v", got, want)
		}
	}
}

func TestAgeOn(t *testing.T) {
	n, err := ParseAt("20000101-2384", now2026)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		on   time.Time
		want int
	}{
		{"before birth", sthlm(1999, 12, 31, 12, 0), 0},
		{"birth date", sthlm(2000, 1, 1, 0, 0), 0},
		{"day before 26th birthday", sthlm(2025, 12, 31, 23, 59), 25},
		{"26th birthday", sthlm(2026, 1, 1, 0, 0), 26},
		{"UTC still 31 December in Stockholm", utcBeforeNewYear2026, 26},
		{"UTC 31 December, Stockholm 1 January", utcNewYear2026, 27},
		{"now", now2026, 26},
	} {
		if got := n.AgeOn(tc.on); got != tc.want {
			t.Errorf("%s: AgeOn(%v) = %d, want %d", tc.name, tc.on, got, tc.want)
		}
	}
	if got, want := n.BirthdayIn(2030), sthlm(2030, 1, 1, 0, 0); !got.Equal(want) || got.Location() != stockholm {
		t.Errorf("BirthdayIn(2030) = %v, want %v", got, want)
	}
}

func TestNew(t *testing.T) {
	n, err := New(sthlm(2010, 1, 3, 0, 0), 123, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n.String(), withCheck("20100163-123"); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !n.IsCoordination() || !n.Birthdate().Equal(sthlm(2010, 1, 3, 0, 0)) {
		t.Errorf("coordination %v, birth date %v", n.IsCoordination(), n.Birthdate())
	}
	// The Stockholm calendar date counts: 23:00 UTC on 14 June is
	// 01:00 on 15 June in Stockholm (summer time).
	n, err = New(time.Date(2015, 6, 14, 23, 0, 0, 0, time.UTC), 7, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n.String(), withCheck("20150615-007"); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := n.ShortAt(now2026), withCheck("20150615-007")[2:]; got != want {
		t.Errorf("ShortAt() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name   string
		birth  time.Time
		serial int
		want   error
	}{
		{"serial -1", sthlm(2015, 6, 15, 0, 0), -1, ErrSerial},
		{"serial 1000", sthlm(2015, 6, 15, 0, 0), 1000, ErrSerial},
		{"year 1839", sthlm(1839, 12, 31, 0, 0), 1, ErrDate},
		{"year 10000", sthlm(10000, 1, 1, 0, 0), 1, ErrDate},
		{"zero time", time.Time{}, 1, ErrDate},
	} {
		if _, err := New(tc.birth, tc.serial, false); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, serial := range []int{0, 999} {
		if _, err := New(sthlm(2015, 6, 15, 0, 0), serial, false); err != nil {
			t.Errorf("serial %d: %v", serial, err)
		}
	}
}

func TestZeroValue(t *testing.T) {
	var n Number
	if !n.IsZero() || n.IsCoordination() {
		t.Error("zero Number: IsZero false or IsCoordination true")
	}
	if n.String() != "" || n.Short() != "" || n.ShortAt(now2026) != "" {
		t.Error("zero Number: non-empty String or Short")
	}
	if !n.Birthdate().IsZero() || !n.BirthdayIn(2026).IsZero() || n.AgeOn(now2026) != 0 {
		t.Error("zero Number: non-zero birth date, birthday or age")
	}
	if text, err := n.MarshalText(); err != nil || len(text) != 0 {
		t.Errorf("zero Number: MarshalText = %q, %v", text, err)
	}
	m, _ := ParseAt("20000101-2384", now2026)
	if err := m.UnmarshalText(nil); err != nil || !m.IsZero() {
		t.Errorf("UnmarshalText(empty) = %v, zero %v", err, m.IsZero())
	}
}

func TestUnmarshalText(t *testing.T) {
	want, _ := ParseAt("20000101-2384", now2026)
	for _, in := range []string{"20000101-2384", "200001012384"} {
		var n Number
		if err := n.UnmarshalText([]byte(in)); err != nil || n != want {
			t.Errorf("UnmarshalText(%q) = %v, %v", in, n.String(), err)
		}
	}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"000101-2384", ErrFormat},   // century would depend on the clock
		{"0001012384", ErrFormat},    // same
		{"20000101+2384", ErrFormat}, // never written by MarshalText
		{"20000101-T123", ErrReserve},
		{"20230230-1234", ErrDate},
		{"20000101-2385", ErrChecksum},
	} {
		n := want
		if err := n.UnmarshalText([]byte(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("UnmarshalText(%q) error = %v, want %v", tc.in, err, tc.want)
		}
		if n != want {
			t.Errorf("UnmarshalText(%q) changed the receiver on error", tc.in)
		}
	}
	// No future check: a number born after the machine's clock (a demo
	// child dated far ahead, or a clock set wrong) still loads.
	future, err := New(sthlm(2099, 5, 5, 0, 0), 42, false)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := future.MarshalText()
	var n Number
	if err := n.UnmarshalText(text); err != nil || n != future {
		t.Errorf("UnmarshalText(future) = %v, %v", n.String(), err)
	}
	if _, err := Parse(string(text)); !errors.Is(err, ErrFuture) {
		t.Errorf("Parse(future) error = %v, want ErrFuture", err)
	}
}

func TestJSON(t *testing.T) {
	type record struct {
		P Number
		Q Number `json:",omitzero"`
	}
	n, _ := ParseAt("20000101-2384", now2026)
	b, err := json.Marshal(record{P: n})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"P":"20000101-2384"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil || r.P != n || !r.Q.IsZero() {
		t.Errorf("json round trip = %#v, %v", r, err)
	}
	if err := json.Unmarshal([]byte(`{"P":"20000101-2385"}`), &r); !errors.Is(err, ErrChecksum) {
		t.Errorf("json with bad check digit: error = %v, want ErrChecksum", err)
	}
}

func TestLogValueAndGoStringMask(t *testing.T) {
	n, err := ParseAt("20000101-2384", now2026)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		// Drop the timestamp so that any digit in the output would
		// come from the number.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("opened", "pnr", n)
	logger.Info("opened", slog.Any("pnr", n), slog.Group("patient", "pnr", n))
	logger.With("pnr", n).Info("opened")
	out := buf.String()
	if strings.ContainsAny(out, "0123456789") {
		t.Errorf("log output contains digits:\n%s", out)
	}
	for _, s := range []string{n.String(), n.Short(), "2384"} {
		if strings.Contains(out, s) {
			t.Errorf("log output contains %q:\n%s", s, out)
		}
	}
	if got := strings.Count(out, "pnr="+Masked); got != 4 {
		t.Errorf("log output has %d masked numbers, want 4:\n%s", got, out)
	}

	if got := fmt.Sprintf("%v", n); got != "20000101-2384" {
		t.Errorf("%%v = %q, want the full number", got)
	}
	if got := fmt.Sprintf("%s", n); got != "20000101-2384" {
		t.Errorf("%%s = %q, want the full number", got)
	}
	if got := fmt.Sprintf("%#v", n); got != Masked {
		t.Errorf("%%#v = %q, want %q", got, Masked)
	}
	wrapped := struct{ P Number }{n}
	if got := fmt.Sprintf("%#v", wrapped); strings.Contains(got, "2384") {
		t.Errorf("%%#v of a struct = %q, leaks the number", got)
	}
	if got := fmt.Sprintf("%#v", Number{}); got != "personnummer.Number{}" {
		t.Errorf("%%#v of zero = %q", got)
	}
}
