package personnummer

import "errors"

// The errors below are returned by Parse, ParseAt, UnmarshalText and New.
// Compare with errors.Is: some are wrapped to add detail. Their messages are
// meant for users (Swedish, saying what to do) and never contain the input.
var (
	// ErrEmpty means that nothing (or only whitespace) was typed.
	ErrEmpty = errors.New("Inget personnummer ifyllt. Skriv personnumret med 12 siffror (ÅÅÅÅMMDD-NNNN) eller 10 siffror (ÅÅMMDD-NNNN).")

	// ErrFormat means wrong length or characters, or a '+' separator on a
	// 12-digit number for someone who has not yet reached the year they turn
	// 100.
	ErrFormat = errors.New("Personnumret har fel format. Skriv 12 siffror (ÅÅÅÅMMDD-NNNN) eller 10 siffror (ÅÅMMDD-NNNN).")

	// ErrReserve means a reserve or interim number (reservnummer): the shape
	// of a personnummer, but with letters in the last four positions. Such
	// numbers are local to one care provider and cannot identify a resident
	// in 1177, so they get their own error that callers can act on.
	ErrReserve = errors.New("Det här är ett reservnummer (bokstäver bland de fyra sista tecknen). Reservnummer kan inte användas här. Skriv personens personnummer eller samordningsnummer; har personen bara reservnummer kan hen inte få meddelanden här – skicka ett brev eller ring i stället.")

	// ErrDate means that the date part is not a possible birth date: month
	// or day out of range, a coordination day of 60 or above 91, or a birth
	// year before 1840 (see the package documentation).
	ErrDate = errors.New("Datumet i personnumret finns inte. Kontrollera år, månad och dag.")

	// ErrChecksum means that the last digit (the Luhn check digit) does not
	// match the other digits, almost always a typing mistake.
	ErrChecksum = errors.New("Kontrollsiffran (sista siffran) i personnumret stämmer inte. Kontrollera att alla siffror är rätt skrivna.")

	// ErrFuture means that the birth date is after today's date in Sweden.
	ErrFuture = errors.New("Födelsedatumet i personnumret ligger i framtiden. Kontrollera årtalet och skiljetecknet (- eller +).")

	// ErrSerialZero means the serial number (födelsenummer) is 000, which
	// Skatteverket never issues: a typing mistake or an invented number.
	ErrSerialZero = errors.New("Födelsenumret (de tre siffrorna före kontrollsiffran) kan inte vara 000; Skatteverket delar aldrig ut det. Kontrollera numret.")

	// ErrSerial is returned by New for a serial number outside 0–999.
	ErrSerial = errors.New("Födelsenumret (de tre siffrorna före kontrollsiffran) måste vara mellan 000 och 999.")
)

// formatDetail adds an explanation to ErrFormat while errors.Is still
// matches ErrFormat, so callers need to know only the sentinels.
type formatDetail struct{ detail string }

func (e formatDetail) Error() string { return ErrFormat.Error() + " " + e.detail }
func (e formatDetail) Unwrap() error { return ErrFormat }

// errPlus is returned for a '+' on a 12-digit number of someone who does not
// turn 100 this year or earlier. It is a fixed value so callers and tests can
// rely on it, and it carries no part of the input.
var errPlus error = formatDetail{"Plustecken (+) används bara för den som fyller 100 år i år eller tidigare; skriv annars minus (-)."}
