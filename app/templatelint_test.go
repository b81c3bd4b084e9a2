package app

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"mottagning/app/personnummer"
)

// Test numbers: adults from Skatteverket's published list
// (testdata/skatteverket-test-personnummer.txt); the samordningsnummer is
// built with a valid check digit, as shared/DOMAIN.md allows for those.
const (
	testPNR12     = "200001012384"  // Skatteverket test number, 12 digits
	testPNR12Dash = "20020916-2387" // Skatteverket test number with separator
	testPNR10Dash = "080310-2383"   // 200803102383 in the 10-digit form
	testPNRBadSum = "20000101-2385" // a real date, wrong check digit
)

func testCoordination(t testing.TB) string {
	n, err := personnummer.New(time.Date(1990, 5, 17, 12, 0, 0, 0, Stockholm), 123, true)
	if err != nil {
		t.Fatal(err)
	}
	return n.String()
}

// okTemplate is a clean template of kind k that each case changes one field of.
func okTemplate(k TemplateKind) MessageTemplate {
	t := MessageTemplate{Name: "Provsvar", Kind: k, Subject: "Ditt provsvar", Body: "Hej!\n\nDina provsvar är klara.\n\nVänliga hälsningar\nVårdcentralen"}
	if k == KindStandardReply {
		t.Subject = ""
	}
	return t
}

type lintCase struct {
	name    string
	tpl     MessageTemplate
	want    []string // "Field:code:E" or "Field:code:W"; empty: no issue
	comment string
}

func lintTable(t testing.TB) []lintCase {
	with := func(k TemplateKind, fn func(*MessageTemplate)) MessageTemplate {
		x := okTemplate(k)
		fn(&x)
		return x
	}
	body := func(s string) MessageTemplate {
		return with(KindInformation, func(x *MessageTemplate) { x.Body = "Hej!\n\n" + s + "\n\nVänliga hälsningar" })
	}
	subject := func(s string) MessageTemplate {
		return with(KindQuestion, func(x *MessageTemplate) { x.Subject = s })
	}
	coord := testCoordination(t)
	return []lintCase{
		{name: "CleanInformation", tpl: okTemplate(KindInformation)},
		{name: "CleanQuestion", tpl: okTemplate(KindQuestion)},
		{name: "CleanStandardReply", tpl: okTemplate(KindStandardReply)},

		// Personal data: a template is shared by the whole clinic.
		{name: "Personnummer12InText", tpl: body("Gäller " + testPNR12 + "."), want: []string{"Text:personnummer:E"}},
		{name: "Personnummer12DashInText", tpl: body("Gäller " + testPNR12Dash), want: []string{"Text:personnummer:E"}},
		{name: "Personnummer10DashInText", tpl: body("Pnr: " + testPNR10Dash), want: []string{"Text:personnummer:E"}},
		{name: "Personnummer10PlusInText", tpl: body("Pnr " + strings.Replace(testPNR10Dash, "-", "+", 1)), want: []string{"Text:personnummer:E"}},
		{name: "Samordningsnummer", tpl: body("Samordningsnummer " + coord), want: []string{"Text:personnummer:E"}},
		{name: "PersonnummerInSubject", tpl: subject("Angående " + testPNR12Dash), want: []string{"Ämne:personnummer:E"}},
		{name: "PersonnummerInName", tpl: with(KindInformation, func(x *MessageTemplate) { x.Name = "Till " + testPNR12 }), want: []string{"Namn:personnummer:E"}},
		{name: "WrongCheckDigitWarns", tpl: body("Gäller " + testPNRBadSum), want: []string{"Text:mojligt-personnummer:W"}},
		{name: "ValidAndInvalidGivesError", tpl: body(testPNRBadSum + " och " + testPNR12), want: []string{"Text:personnummer:E"}},

		// Numbers that are not personnummer.
		{name: "DateIsNotPersonnummer", tpl: body("Din tid är 2025-03-12 kl. 09:30."), comment: "dates"},
		{name: "CompactDateAndTime", tpl: body("Provet togs 20250312 0930."), comment: "space is not a separator"},
		{name: "PhoneInGroups", tpl: body("Ring 036-32 40 00 eller 070-123 45 67.")},
		{name: "PhoneBareLuhnInvalid", tpl: body("Ring 0701234567.")},
		{name: "PhoneBareLuhnValidRefused", tpl: body("Ring 0701234569."), want: []string{"Text:personnummer-utan-sekel:E"}},
		// Issue 18: a personnummer without dash or century was only a warning.
		{name: "PNRBareNoCenturyRefused", tpl: body("Gäller 0001012384."), want: []string{"Text:personnummer-utan-sekel:E"}},
		{name: "OrganisationsnummerIsNot", tpl: body("Region Jönköpings län, org.nr 232100-0057.")},
		{name: "LongReferenceNumber", tpl: body("Referens 123456789012345.")},
		{name: "TwelveDigitsBadYear", tpl: body("Referens 123456789012.")},
		{name: "InternationalPhone", tpl: body("Ring +46701234567.")},
		{name: "ImpossibleDate", tpl: body("Kod 991332-1234.")},

		// Links (R4 and the subject).
		{name: "R4_LinkInTextWarns", tpl: body("Läs mer på https://www.1177.se/barn."), want: []string{"Text:lank:W"}},
		{name: "R4_WwwInTextWarns", tpl: body("Se www.rjl.se."), want: []string{"Text:lank:W"}},
		{name: "R4_BareDomainInTextWarns", tpl: body("Se 1177.se/Jonkopings-lan/ för mer."), want: []string{"Text:lank:W"}},
		{name: "R4_LinkInSubjectIsError", tpl: subject("Se 1177.se"), want: []string{"Ämne:lank:E"}},
		{name: "LinkInNameIsFine", tpl: with(KindInformation, func(x *MessageTemplate) { x.Name = "Hänvisning till 1177.se" })},
		{name: "EmailAddressIsNotLink", tpl: body("Frågor om fakturan: ekonomi@rjl.se.")},
		{name: "AbbreviationsAreNotLinks", tpl: body("Ta med t.ex. recept, bl.a. för blodtryck. Ring p.g.a. frågor.")},
		{name: "MissingSpaceIsNotLink", tpl: body("Välkommen till Jönköping.Se till att fasta.")},

		// Placeholders.
		{name: "NamePlaceholderBraces", tpl: body("Hej {namn}!"), want: []string{"Text:namn-platshallare:E"}},
		{name: "NamePlaceholderDoubleBraces", tpl: body("Hej {{ name }}!"), want: []string{"Text:namn-platshallare:E"}},
		{name: "NamePlaceholderBrackets", tpl: body("Hej [NAMN]!"), want: []string{"Text:namn-platshallare:E"}},
		{name: "NamePlaceholderPercent", tpl: body("Hej %förnamn%!"), want: []string{"Text:namn-platshallare:E"}},
		{name: "NamePlaceholderAngle", tpl: body("Hej <Efternamn>!"), want: []string{"Text:namn-platshallare:E"}},
		{name: "NamePlaceholderBareCaps", tpl: body("Hej FÖRNAMN!"), want: []string{"Text:namn-platshallare:E"}},
		{name: "PersonnummerPlaceholder", tpl: body("Gäller {personnummer}."), want: []string{"Text:namn-platshallare:E"}},
		{name: "PatientPlaceholder", tpl: body("Hej [Patient]!"), want: []string{"Text:namn-platshallare:E"}},
		{name: "NamePlaceholderInSubject", tpl: subject("Till {namn}"), want: []string{"Ämne:namn-platshallare:E"}},
		{name: "NamePlaceholderInNameIsFine", tpl: with(KindInformation, func(x *MessageTemplate) { x.Name = "Svar till {namn}" })},
		{name: "OtherPlaceholderWarns", tpl: body("Din tid är {datum} kl. [tid]."), want: []string{"Text:platshallare:W"}},
		{name: "FootnoteIsNoPlaceholder", tpl: body("Se punkt [1] och {1, 2}.")},
		{name: "PercentAndComparisonsAreText", tpl: body("50 % av alla, 30 % av barnen. Om a < b och c > d.")},

		// Empty, kind and length.
		{name: "EmptyName", tpl: with(KindInformation, func(x *MessageTemplate) { x.Name = "  " }), want: []string{"Namn:tomt:E"}},
		{name: "EmptySubject", tpl: subject(" \n"), want: []string{"Ämne:tomt:E"}},
		{name: "EmptyText", tpl: with(KindQuestion, func(x *MessageTemplate) { x.Body = "\n\t" }), want: []string{"Text:tomt:E"}},
		{name: "StandardReplyNeedsNoSubject", tpl: okTemplate(KindStandardReply)},
		{name: "StandardReplyWithSubject", tpl: with(KindStandardReply, func(x *MessageTemplate) { x.Subject = "Svar" }), want: []string{"Ämne:amne-pa-standardsvar:E"}},
		{name: "EServiceIsNoTemplateKind", tpl: with(KindEService, func(x *MessageTemplate) {}), want: []string{"Typ:typ:E"}},
		{name: "EmptyKind", tpl: with("", func(x *MessageTemplate) { x.Subject = "Ämne" }), want: []string{"Typ:typ:E"}},
		{name: "NameTooLong", tpl: with(KindInformation, func(x *MessageTemplate) { x.Name = strings.Repeat("å", MaxTemplateNameLen+1) }), want: []string{"Namn:for-langt:E"}},
		{name: "NameAtLimit", tpl: with(KindInformation, func(x *MessageTemplate) { x.Name = strings.Repeat("å", MaxTemplateNameLen) })},
		{name: "SubjectTooLong", tpl: subject(strings.Repeat("ä", MaxSubjectLen+1)), want: []string{"Ämne:for-langt:E"}},
		{name: "TextTooLong", tpl: with(KindQuestion, func(x *MessageTemplate) { x.Body = strings.Repeat("ö", MaxTextLen+1) }), want: []string{"Text:for-langt:E"}},
		{name: "EverythingWrongInFormOrder", tpl: MessageTemplate{Kind: "x", Subject: "Se www.x.se " + testPNR12, Body: "Hej {namn}, se 1177.se"},
			want: []string{"Namn:tomt:E", "Typ:typ:E", "Ämne:personnummer:E", "Ämne:lank:E", "Text:namn-platshallare:E", "Text:lank:W"}},
	}
}

func issueKeys(is []LintIssue) []string {
	var out []string
	for _, i := range is {
		sev := "W"
		if i.Severity == LintError {
			sev = "E"
		}
		out = append(out, i.Field+":"+i.Code+":"+sev)
	}
	return out
}

func TestLintTemplate(t *testing.T) {
	for _, tc := range lintTable(t) {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.tpl
			got := LintTemplate(&tc.tpl)
			if !slices.Equal(issueKeys(got), tc.want) {
				t.Errorf("issues = %q, want %q", issueKeys(got), tc.want)
			}
			if tc.tpl != before {
				t.Error("LintTemplate changed the template")
			}
			if HasLintErrors(got) != slices.ContainsFunc(tc.want, func(s string) bool { return strings.HasSuffix(s, ":E") }) {
				t.Error("HasLintErrors disagrees with the issues")
			}
			checkMessages(t, &tc.tpl, got)
		})
	}
}

// checkMessages: every message is one of the fixed texts of its field
// and code, names its field, and repeats nothing of the template.
func checkMessages(t *testing.T, tpl *MessageTemplate, issues []LintIssue) {
	t.Helper()
	fieldWord := map[string]string{FieldName: "amn", FieldKind: "typ", FieldSubject: "Ämne", FieldText: "ext"}
	for _, i := range issues {
		want, ok := lintMessages[i.Field][i.Code]
		if !ok || i.Message != want || want == "" {
			t.Fatalf("issue %s:%s has a message that is not one of the fixed texts", i.Field, i.Code)
		}
		if !strings.Contains(i.Message, fieldWord[i.Field]) && !strings.Contains(i.Message, strings.ToLower(fieldWord[i.Field])) {
			t.Errorf("message for %s:%s does not name its field", i.Field, i.Code)
		}
		if digitRun6(i.Message) {
			t.Errorf("message for %s:%s contains a long number", i.Field, i.Code)
		}
		for _, v := range []string{tpl.Name, tpl.Subject, tpl.Body} {
			v = strings.TrimSpace(v)
			if len(v) >= 6 && !inAnyMessage(v) && strings.Contains(i.Message, v) {
				t.Errorf("message for %s:%s repeats the template's text", i.Field, i.Code)
			}
		}
	}
}

func digitRun6(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
			if n >= 6 {
				return true
			}
		} else {
			n = 0
		}
	}
	return false
}

// inAnyMessage: a text our own messages contain cannot be told apart from
// an echo of it, so the echo check skips it.
func inAnyMessage(v string) bool {
	for _, byCode := range lintMessages {
		for _, m := range byCode {
			if strings.Contains(m, v) {
				return true
			}
		}
	}
	return false
}

// The messages name what is wrong in the field where it is wrong.
func TestLintMessagesNameTheirField(t *testing.T) {
	for field, byCode := range lintMessages {
		for code, m := range byCode {
			if m == "" || !strings.HasSuffix(m, ".") {
				t.Errorf("%s:%s: message should be a full Swedish sentence", field, code)
			}
		}
	}
}

func FuzzLintTemplate(f *testing.F) {
	for _, tc := range lintTable(f) {
		f.Add(tc.tpl.Name, string(tc.tpl.Kind), tc.tpl.Subject, tc.tpl.Body)
	}
	f.Fuzz(func(t *testing.T, name, kind, subject, body string) {
		tpl := MessageTemplate{Name: name, Kind: TemplateKind(kind), Subject: subject, Body: body}
		before := tpl
		got := LintTemplate(&tpl)
		if tpl != before {
			t.Fatal("LintTemplate changed the template")
		}
		checkMessages(t, &tpl, got)
		for _, i := range got {
			if _, ok := fieldOrder[i.Field]; !ok || (i.Severity != LintError && i.Severity != LintWarning) {
				t.Fatalf("issue with field %q severity %d", i.Field, i.Severity)
			}
		}
		if again := LintTemplate(&tpl); !slices.Equal(again, got) {
			t.Fatal("LintTemplate is not deterministic")
		}
		// The empty checks agree with what SendCase would refuse.
		if strings.TrimSpace(body) == "" && !slices.Contains(issueKeys(got), "Text:tomt:E") {
			t.Fatal("an empty text passed")
		}
	})
}
