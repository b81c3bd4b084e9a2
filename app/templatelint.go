package app

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The template linter. A template is written once and sent to many
// residents, so what is wrong in it is wrong many times over. LintTemplate
// says, per field and in Swedish, what must change (LintError: the
// template cannot be saved) and what deserves a second look (LintWarning:
// it can). It never repeats what it found: a message names the field and
// the kind of problem, never the matched text, so that a personnummer typed
// by mistake does not travel on into a dialog, a log or an error string.
//
// What is forbidden where, and why:
//
//   - A personnummer or samordningsnummer, in any field (Namn too, which
//     only staff see): a template is shared by the whole clinic and must
//     never hold personal data. A number of the right shape whose date
//     exists and whose check digit is right is an error; one whose date
//     exists but whose check digit is wrong is a warning (a typo of a real
//     number is still personal data). Recognised shapes, as shared/DOMAIN.md
//     defines them: ÅÅÅÅMMDDNNNN, ÅÅÅÅMMDD-NNNN, ÅÅMMDDNNNN, ÅÅMMDD-NNNN and
//     '+' for '-'. Not recognised, on purpose: dates (2025-03-12),
//     times, phone numbers written in groups (036-32 40 00, 070-123 45 67),
//     organisation numbers (their "month" is 20 or more), and numbers with a
//     space as separator (a date and a time, "20250312 0930", would look
//     like one). Ten bare digits starting with 0 are a ÅÅMMDDNNNN born in
//     the 2000s (0001012384) or a phone number written without groups
//     (0701234569): when the date exists and the check digit is right it
//     is an error all the same (issue 18: the linter let 0001012384 be
//     saved), with its own message, which asks for a phone number in
//     groups (070-123 45 69), a form the linter never takes for a number.
//
//   - Links. R4 forbids links in notifications; templates never reach a
//     notification (the SMS and e-mail texts are fixed, see texts.go), so
//     R4 does not forbid a link in the text, which the resident reads in
//     the inbox after signing in with e-ID. But residents are taught that
//     1177 does not send links, so a link in a message looks like fraud: a
//     link in Text is a warning, for every kind. Ämne is an error: the
//     subject is what the inbox and every case list show before anything is
//     opened, the closest a template comes to a notification, and it is
//     "about the case" in R4's sense; a link there is never needed. Namn is
//     seen by staff only and is not checked.
//
//   - Name placeholders ({namn}, {{name}}, [NAMN], %förnamn%, <efternamn>,
//     a bare NAMN, and the like for personnummer). The system fills in no
//     placeholders: Skicka ärende and replies send the text as it stands,
//     so the resident (or a guardian reading a child's inbox) would see
//     "Hej {namn}!" — or, filled in by hand, get someone's name into a text
//     the next sender reuses. An error in Ämne and Text. If a later version
//     fills placeholders at send time, that version allows them in Text
//     here; the subject stays free of names either way, since it shows in
//     lists. Other placeholders ({datum}, [tid]) are a warning: they are a
//     normal way to say "fill in before sending", but must not be forgotten.
//
//   - Empty Namn, Text, or Ämne (for Information and Fråga), and the length
//     limits MaxTemplateNameLen, MaxSubjectLen and MaxTextLen: errors.
//     A standardsvar has no subject (it is inserted into a reply in an
//     existing case), so a subject on one is an error too: it would be
//     silently dropped otherwise.

// MaxTemplateNameLen is the longest template name, in characters.
const MaxTemplateNameLen = 100

// Severity says whether a lint issue stops a template from being saved.
type Severity int

// Severities, from mild to blocking.
const (
	// LintWarning: the template can be saved; the author should look again.
	LintWarning Severity = iota + 1
	// LintError: the template cannot be saved until it is fixed.
	LintError
)

// The fields of a template as the form names them; LintIssue.Field is one
// of these.
const (
	FieldName    = "Namn"
	FieldKind    = "Typ"
	FieldSubject = "Ämne"
	FieldText    = "Text"
)

// Lint issue codes: stable, language-neutral names for logs and tests.
const (
	LintEmpty             = "tomt"
	LintTooLong           = "for-langt"
	LintKind              = "typ"
	LintSubjectOnReply    = "amne-pa-standardsvar"
	LintPersonnummer      = "personnummer"
	LintMaybePersonnummer = "mojligt-personnummer"
	// LintBarePersonnummer: ten bare digits from 0 that are a valid
	// personnummer of the 2000s (0001012384) — or a phone number written
	// without groups (0701234569). Either way it cannot be saved: a phone
	// number is written in groups.
	LintBarePersonnummer = "personnummer-utan-sekel"
	LintLink             = "lank"
	LintNamePlaceholder  = "namn-platshallare"
	LintPlaceholder      = "platshallare"
	LintControl          = "styrtecken"
)

// LintIssue is one finding of LintTemplate, shown under its field.
type LintIssue struct {
	// Field is FieldName, FieldKind, FieldSubject or FieldText.
	Field    string
	Severity Severity
	// Code is one of the Lint… codes.
	Code string
	// Message is the Swedish text for the user. It names the field and
	// never contains any of the template's text.
	Message string
}

// HasLintErrors reports whether any issue stops saving.
func HasLintErrors(issues []LintIssue) bool {
	return slices.ContainsFunc(issues, func(i LintIssue) bool { return i.Severity == LintError })
}

// lintMessages are every text LintTemplate can produce, by field and code.
// They are constants so that no input can ever reach them.
var lintMessages = map[string]map[string]string{
	FieldName: {
		LintEmpty:             "Fyll i ett namn på mallen.",
		LintTooLong:           "Namnet får vara högst 100 tecken.",
		LintPersonnummer:      "Namnet innehåller ett personnummer eller samordningsnummer. En mall delas av hela mottagningen och får aldrig innehålla personuppgifter. Ta bort numret.",
		LintMaybePersonnummer: "Namnet innehåller ett nummer som liknar ett personnummer. Kontrollera att det inte är en personuppgift.",
		LintBarePersonnummer:  "Namnet innehåller tio siffror som är ett personnummer (eller ett telefonnummer skrivet utan mellanrum). Ta bort personnumret; skriv ett telefonnummer i grupper, till exempel 070-123 45 67.",
		LintControl:           "Namnet innehåller osynliga styrtecken, till exempel från en kopierad text. Skriv om namnet.",
	},
	FieldKind: {
		LintKind: "Välj typ: Information, Fråga eller Standardsvar.",
	},
	FieldSubject: {
		LintEmpty:             "Fyll i ett ämne. Invånaren ser ämnet i inkorgen.",
		LintTooLong:           "Ämnet får vara högst 200 tecken.",
		LintSubjectOnReply:    "Ett standardsvar har inget ämne, eftersom det infogas i ett svar i ett befintligt ärende. Töm fältet.",
		LintPersonnummer:      "Ämnet innehåller ett personnummer eller samordningsnummer. En mall skickas till många invånare och får aldrig innehålla personuppgifter. Ta bort numret.",
		LintMaybePersonnummer: "Ämnet innehåller ett nummer som liknar ett personnummer. Kontrollera att det inte är en personuppgift.",
		LintBarePersonnummer:  "Ämnet innehåller tio siffror som är ett personnummer (eller ett telefonnummer skrivet utan mellanrum). Ta bort personnumret; skriv ett telefonnummer i grupper, till exempel 070-123 45 67.",
		LintLink:              "Ämnet får inte innehålla en länk. Ämnet syns i inkorgen och i ärendelistorna innan något har öppnats.",
		LintNamePlaceholder:   "Ämnet innehåller en platshållare för namn eller personnummer. Namn fylls aldrig i automatiskt och hör inte hemma i ett ämne. Ta bort platshållaren.",
		LintPlaceholder:       "Ämnet innehåller en platshållare. Den fylls inte i automatiskt, utan måste ändras för hand innan meddelandet skickas.",
		LintControl:           "Ämnet innehåller osynliga styrtecken eller radbrytningar, till exempel från en kopierad text. Skriv om ämnet.",
	},
	FieldText: {
		LintEmpty:             "Skriv en text.",
		LintTooLong:           "Texten får vara högst 20 000 tecken.",
		LintPersonnummer:      "Texten innehåller ett personnummer eller samordningsnummer. En mall skickas till många invånare och får aldrig innehålla personuppgifter. Ta bort numret.",
		LintMaybePersonnummer: "Texten innehåller ett nummer som liknar ett personnummer. Kontrollera att det inte är en personuppgift.",
		LintBarePersonnummer:  "Texten innehåller tio siffror som är ett personnummer (eller ett telefonnummer skrivet utan mellanrum). Ta bort personnumret; skriv ett telefonnummer i grupper, till exempel 070-123 45 67.",
		LintLink:              "Texten innehåller en länk. Invånare lär sig att 1177 inte skickar länkar, så en länk kan se ut som ett bedrägeriförsök. Skriv hellre vad invånaren ska söka efter på 1177.",
		LintNamePlaceholder:   "Texten innehåller en platshållare för namn eller personnummer. Systemet fyller aldrig i namn automatiskt, så invånaren skulle se platshållaren som den står. Skriv till exempel ”Hej!” i stället.",
		LintPlaceholder:       "Texten innehåller en platshållare. Den fylls inte i automatiskt, utan måste ändras för hand innan meddelandet skickas.",
		LintControl:           "Texten innehåller osynliga styrtecken, till exempel från en kopierad text. Skriv om texten eller klistra in den som oformaterad text.",
	},
}

var fieldOrder = map[string]int{FieldName: 0, FieldKind: 1, FieldSubject: 2, FieldText: 3}

// LintTemplate checks a template before it is saved, and as its author
// types. It does not change t. Issues come in form order (Namn, Typ, Ämne,
// Text), errors before warnings, at most one per field and code.
func LintTemplate(t *MessageTemplate) []LintIssue {
	var out []LintIssue
	add := func(field string, sev Severity, code string) {
		for _, i := range out {
			if i.Field == field && i.Code == code {
				return
			}
		}
		out = append(out, LintIssue{Field: field, Severity: sev, Code: code, Message: lintMessages[field][code]})
	}

	// Namn: seen by staff only; personal data is still forbidden.
	switch {
	case strings.TrimSpace(t.Name) == "":
		add(FieldName, LintError, LintEmpty)
	case utf8.RuneCountInString(t.Name) > MaxTemplateNameLen:
		add(FieldName, LintError, LintTooLong)
	}
	lintNumbers(t.Name, func(sev Severity, code string) { add(FieldName, sev, code) })
	if CheckLine(strings.TrimSpace(t.Name)) != nil {
		add(FieldName, LintError, LintControl)
	}

	if !ValidTemplateKind(t.Kind) {
		add(FieldKind, LintError, LintKind)
	}

	// Ämne.
	switch {
	case t.Kind == KindStandardReply:
		if strings.TrimSpace(t.Subject) != "" {
			add(FieldSubject, LintError, LintSubjectOnReply)
		}
	case strings.TrimSpace(t.Subject) == "":
		add(FieldSubject, LintError, LintEmpty)
	case utf8.RuneCountInString(t.Subject) > MaxSubjectLen:
		add(FieldSubject, LintError, LintTooLong)
	}
	if CheckLine(strings.TrimSpace(t.Subject)) != nil {
		add(FieldSubject, LintError, LintControl)
	}
	subj := func(sev Severity, code string) { add(FieldSubject, sev, code) }
	lintNumbers(t.Subject, subj)
	if hasLink(t.Subject) {
		add(FieldSubject, LintError, LintLink)
	}
	lintPlaceholders(t.Subject, subj)

	// Text.
	switch {
	case strings.TrimSpace(t.Body) == "":
		add(FieldText, LintError, LintEmpty)
	case utf8.RuneCountInString(t.Body) > MaxTextLen:
		add(FieldText, LintError, LintTooLong)
	}
	if CheckMultiline(t.Body) != nil {
		add(FieldText, LintError, LintControl)
	}
	text := func(sev Severity, code string) { add(FieldText, sev, code) }
	lintNumbers(t.Body, text)
	if hasLink(t.Body) {
		add(FieldText, LintWarning, LintLink)
	}
	lintPlaceholders(t.Body, text)

	slices.SortStableFunc(out, func(a, b LintIssue) int {
		if d := fieldOrder[a.Field] - fieldOrder[b.Field]; d != 0 {
			return d
		}
		return int(b.Severity) - int(a.Severity)
	})
	return out
}

// severityBare is scanPersonnummer's verdict on ten bare digits from 0
// that are a valid number: above LintError's value, so that it wins over
// the other findings; lintNumbers reports it as a LintError of its own
// code.
const severityBare Severity = LintError + 1

// lintNumbers reports personnummer-like numbers in s.
func lintNumbers(s string, report func(Severity, string)) {
	switch scanPersonnummer(s) {
	case severityBare:
		report(LintError, LintBarePersonnummer)
	case LintError:
		report(LintError, LintPersonnummer)
	case LintWarning:
		report(LintWarning, LintMaybePersonnummer)
	}
}

// scanPersonnummer returns LintError when s holds a number that is a valid
// personnummer or samordningsnummer, LintWarning when it holds only
// numbers of that shape with a real date but a wrong check digit (or a
// valid one that may be a phone number), and 0 otherwise.
func scanPersonnummer(s string) Severity {
	// Runs of ASCII digits, and the byte between a run and the next when
	// the two are one separator apart.
	var runs []digitRun
	for i := 0; i < len(s); {
		if !isASCIIDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isASCIIDigit(s[j]) {
			j++
		}
		runs = append(runs, digitRun{i, j})
		i = j
	}
	worst := Severity(0)
	note := func(sev Severity) {
		if sev > worst {
			worst = sev
		}
	}
	for k, r := range runs {
		n := r.end - r.start
		// A lone run of 10 or 12 digits.
		if n == 10 || n == 12 {
			sev := judgePNR(s[r.start:r.end])
			if n == 10 && s[r.start] == '0' && !joined(s, runs, k) {
				// 0001012384, or 0701234569: a personnummer of the 2000s
				// or a phone number without groups. Valid: refused all
				// the same (bare); a wrong check digit: nothing (phone
				// numbers are mostly that).
				if sev == LintError {
					sev = severityBare
				} else {
					sev = 0
				}
			}
			note(sev)
		}
		// 6 or 8 digits, '-' or '+', 4 digits.
		if (n == 6 || n == 8) && k+1 < len(runs) {
			next := runs[k+1]
			if next.start == r.end+1 && next.end-next.start == 4 && (s[r.end] == '-' || s[r.end] == '+') {
				note(judgePNR(s[r.start:r.end] + s[next.start:next.end]))
			}
		}
		if worst >= LintError {
			break
		}
	}
	return worst
}

// digitRun is s[start:end], a maximal run of ASCII digits.
type digitRun struct{ start, end int }

// joined reports whether run k is glued to a neighbouring run by one
// separator, as in 036-0701234567: then it is not a bare number.
func joined(s string, runs []digitRun, k int) bool {
	sep := func(b byte) bool { return b == '-' || b == '+' }
	if k > 0 && runs[k-1].end == runs[k].start-1 && sep(s[runs[k].start-1]) {
		return true
	}
	return k+1 < len(runs) && runs[k+1].start == runs[k].end+1 && sep(s[runs[k].end])
}

// judgePNR takes 10 or 12 digits: LintError for a real date (day + 60
// allowed) with a right check digit, LintWarning for a real date with a
// wrong one, 0 when the date does not exist.
func judgePNR(d string) Severity {
	year := -1 // unknown century
	if len(d) == 12 {
		year = atoiASCII(d[:4])
		if year < 1870 || year > 2099 {
			return 0
		}
		d = d[2:]
	}
	yy, month, day := atoiASCII(d[0:2]), atoiASCII(d[2:4]), atoiASCII(d[4:6])
	if day > 60 {
		day -= 60 // samordningsnummer
	}
	if month < 1 || month > 12 || day < 1 || day > daysInMonth(year, yy, month) {
		return 0
	}
	if luhnOK(d) {
		return LintError
	}
	return LintWarning
}

func daysInMonth(year, yy, month int) int {
	switch month {
	case 2:
		leap := yy%4 == 0 // either century: 1900 is the only exception, and 2000 was leap
		if year >= 0 {
			leap = year%4 == 0 && (year%100 != 0 || year%400 == 0)
		}
		if leap {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// luhnOK checks the tenth digit of ten against the first nine (the
// personnummer check digit, Luhn with weights 2, 1, 2, …).
func luhnOK(d string) bool {
	sum := 0
	for i := 0; i < 9; i++ {
		v := int(d[i]-'0') * (2 - i%2)
		sum += v/10 + v%10
	}
	return (10-sum%10)%10 == int(d[9]-'0')
}

func isASCIIDigit(b byte) bool { return '0' <= b && b <= '9' }

func atoiASCII(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// Links: a scheme, www., or a bare domain under a common top-level domain
// (1177.se/…, rjl.se). The bare form takes the top-level domain in lower
// case only, so that a missing space after a full stop ("Jönköping.Se
// till att …") is not a link; an e-mail address is not a link either.
var (
	reSchemeLink = regexp.MustCompile(`(?i)\b(?:https?|ftp)://|\bwww\.[\p{L}\p{N}-]`)
	reBareDomain = regexp.MustCompile(`(?:^|[^\p{L}\p{N}@._-])[\p{L}\p{N}][\p{L}\p{N}-]*(?:\.[\p{L}\p{N}-]+)*\.(?:se|nu|com|org|net|eu|info|io|dk|fi|uk)(?:[/:?#]|[^\p{L}\p{N}_-]|$)`)
)

func hasLink(s string) bool { return reSchemeLink.MatchString(s) || reBareDomain.MatchString(s) }

// Placeholders: a short text in {…}, {{…}}, […], %…% or <…>. A name-like
// one is an error (see the top of this file); others are warnings, but
// only in the bracket forms, since "%" and "<" also occur in ordinary
// text ("50 % … 30 %", "a < b och c > d").
var rePlaceholder = regexp.MustCompile(`\{\{([^{}\n]{1,40})\}\}|\{([^{}\n]{1,40})\}|\[([^\[\]\n]{1,40})\]|%([\p{L}_ .-]{1,40})%|<([\p{L}_ .-]{1,40})>`)

func lintPlaceholders(s string, report func(Severity, string)) {
	for _, m := range rePlaceholder.FindAllStringSubmatch(s, -1) {
		inner, generic := "", false
		for g := 1; g < len(m); g++ {
			if m[g] != "" {
				inner, generic = m[g], g <= 3 // {{}}, {}, []
				break
			}
		}
		switch {
		case personalPlaceholder(inner):
			report(LintError, LintNamePlaceholder)
		case generic && plausiblePlaceholder(inner):
			report(LintWarning, LintPlaceholder)
		}
	}
	// A bare NAMN, FÖRNAMN, … in capitals, the oldest placeholder of all.
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		switch w {
		case "NAMN", "FÖRNAMN", "EFTERNAMN", "NAME", "PERSONNUMMER":
			report(LintError, LintNamePlaceholder)
		}
	}
}

// personalPlaceholder reports whether the text inside a placeholder names
// a person's name or personnummer.
func personalPlaceholder(inner string) bool {
	k := placeholderKey(inner)
	if strings.Contains(k, "namn") || strings.Contains(k, "name") {
		return true
	}
	switch k {
	case "patient", "invanare", "mottagare", "barnet", "barn", "vardnadshavare",
		"personnummer", "pnr", "personnr", "samordningsnummer", "ssn":
		return true
	}
	return false
}

// plausiblePlaceholder: letters (and digits, spaces, _ - .) with at least
// one letter, so a footnote [1] or a set {1, 2} is not one.
func plausiblePlaceholder(inner string) bool {
	letter := false
	for _, r := range inner {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r), r == ' ', r == '_', r == '-', r == '.', r == ':':
		default:
			return false
		}
	}
	return letter
}

// placeholderKey folds a placeholder's text for comparison: lower case,
// å ä ö as a a o, no spaces or punctuation.
func placeholderKey(inner string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(inner) {
		switch r {
		case 'å', 'ä', 'á', 'à':
			b.WriteRune('a')
		case 'ö', 'ó':
			b.WriteRune('o')
		case 'é', 'è':
			b.WriteRune('e')
		default:
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}
