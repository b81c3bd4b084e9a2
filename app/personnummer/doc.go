// Package personnummer parses, validates and formats Swedish personal identity
// numbers (personnummer) and coordination numbers (samordningsnummer).
//
// # Accepted input
//
// Surrounding whitespace is ignored. A number is written either with 12 digits,
// ÅÅÅÅMMDDNNNN, or with 10 digits, ÅÅMMDDNNNN, in both cases optionally with a
// separator '-' or '+' in front of the last four digits. The last four digits
// are a three-digit serial number and a Luhn check digit computed over the
// 10-digit form ÅÅMMDDNNN. A samordningsnummer is written like a personnummer
// but with 60 added to the day of birth, so its day is 61–91.
//
// # Century
//
// The 10-digit form omits the century, and Skatteverket encodes it in the
// separator: '-' for someone under 100 and '+' from the calendar year the
// person turns 100 (not from the birthday itself). So, with "now" in year Y
// on the Europe/Stockholm calendar:
//
//   - '-' or no separator: the birth year is the one in [Y-99, Y] that ends in
//     the two given digits;
//   - '+': the birth year is the latest year <= Y-100 that ends in the two
//     given digits.
//
// The 12-digit form carries the century itself. A '-' there is always
// accepted, also for someone aged 100 or more, because many systems always
// write '-'. A '+' on a 12-digit number for someone who does not turn 100 in
// year Y or earlier contradicts the digits and is reported as ErrFormat: it is
// most likely a typing mistake, and silently ignoring it would hide it.
//
// Personnummer were introduced in 1947, when nobody alive had been born before
// 1840, so birth years before 1840 (and after 9999) are reported as ErrDate.
// The '+' form expresses ages 100–199 only, so with this floor the 10-digit
// form (ShortAt) can write every accepted number until the year 2039.
//
// # Dates and time zones
//
// All calendar dates — "today" for the century and future checks, birthdays
// and ages — are taken on the Europe/Stockholm calendar, whatever location
// the given time.Time carries. A clinic computer whose clock runs in UTC must
// still see New Year at Swedish midnight. The time zone database is embedded
// (time/tzdata) so this also works on Windows machines without one.
//
// # Leap-day birthdays
//
// A person born on 29 February has their birthday on 28 February in years that
// are not leap years. This follows lag (1930:173) om beräkning av lagstadgad
// tid, 2 §: a period counted in years that ends in a month lacking the
// corresponding day ends on the last day of that month. Birthdays, ages and
// thereby rules such as "the child turns 13" all use this rule (see
// Number.BirthdayIn).
//
// # Order of checks
//
// Parse reports the first problem found, in this order:
//
//  1. ErrEmpty: nothing but whitespace was given;
//  2. ErrFormat / ErrReserve: wrong length or characters; a reserve or
//     interim number (letters in the last four positions) is ErrReserve;
//  3. ErrDate: the date does not exist (month 13, day 0, 30 February,
//     coordination day 60 or above 91, year before 1840);
//  4. ErrChecksum: the Luhn check digit is wrong;
//  5. ErrFuture: the birth date is after today.
//
// Shape comes first because nothing else can be read from a malformed string;
// the date comes before the check digit because a wrong date tells the user
// more precisely which part to re-read; the future check is last because it
// is the only one that depends on the clock.
//
// Error values are plain sentinels to be tested with errors.Is. Their Swedish
// messages can be shown to users as they are: they say what to do, and they
// never contain the input, so they are safe to log.
//
// # Protecting the number
//
// A personnummer is personal data. Number implements slog.LogValuer and
// fmt.GoStringer with a fully masked form (see Masked), so a number that
// reaches a log or a %#v debug print by mistake is not exposed. String (and
// thus %v and %s) deliberately returns the full number, because that is what
// the user interface must show.
package personnummer
