package app_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// Numbers are from PTS's range reserved for fiction (070-174 06 05 …
// 070-174 06 99) or are not mobiles; foreign examples are the ITU/Ofcom
// drama ranges or clearly made up. No real subscriber appears here.
var phoneCases = []struct {
	in   string
	want string
	err  error
}{
	// R13: Swedish mobiles in every way people write them.
	{"070-174 06 05", "+46701740605", nil},
	{"0701740605", "+46701740605", nil},
	{"070 174 06 05", "+46701740605", nil},
	{"070-1740605", "+46701740605", nil},
	{"+46 70 174 06 05", "+46701740605", nil},
	{"+46701740605", "+46701740605", nil},
	{"0046701740605", "+46701740605", nil},
	{"46701740605", "+46701740605", nil},
	{"+46 (0)70-174 06 05", "+46701740605", nil},
	{"+460701740605", "+46701740605", nil},
	{"  070.174.06.05  ", "+46701740605", nil},
	{"070\u00a0174\u00a006\u00a005", "+46701740605", nil},
	{"(070) 174 06 05", "+46701740605", nil},
	{"0721740606", "+46721740606", nil},
	{"0731740607", "+46731740607", nil},
	{"0761740608", "+46761740608", nil},
	{"0791740609", "+46791740609", nil},
	// Other countries: only with + or 00.
	{"+44 7700 900123", "+447700900123", nil}, // Ofcom drama range
	{"0047 412 34 567", "+4741234567", nil},
	{"+358 40 1234567", "+358401234567", nil},
	{"+298 212345", "+298212345", nil},
	{"+123456789012345", "+123456789012345", nil}, // 15 digits: E.164 maximum
	// Refused.
	{"", "", app.ErrPhoneEmpty},
	{"   ", "", app.ErrPhoneEmpty},
	{"- -", "", app.ErrPhoneEmpty},
	{"070-ABC 45 67", "", app.ErrPhoneCharacters},
	{"070 174 06 05 ring efter 17", "", app.ErrPhoneCharacters},
	{"070+1740605", "", app.ErrPhoneCharacters},
	{"++46701740605", "", app.ErrPhoneCharacters},
	{"*31#0701740605", "", app.ErrPhoneCharacters},
	{"070１740605", "", app.ErrPhoneCharacters}, // full-width digit
	{"701740605", "", app.ErrPhoneFormat},      // no trunk 0, no country code
	{"4477009001", "", app.ErrPhoneFormat},     // foreign without + or 00
	{"+0701740605", "", app.ErrPhoneFormat},
	{"000701740605", "", app.ErrPhoneFormat},
	{"070174060", "", app.ErrPhoneTooShort},
	{"+4670", "", app.ErrPhoneTooShort},
	{"+46", "", app.ErrPhoneTooShort},
	{"+", "", app.ErrPhoneEmpty},
	{"00", "", app.ErrPhoneTooShort},
	{"+4412345", "", app.ErrPhoneTooShort},
	{"07017406050", "", app.ErrPhoneTooLong},
	{"+1234567890123456", "", app.ErrPhoneTooLong}, // 16 digits
	{strings.Repeat("0", 80), "", app.ErrPhoneTooLong},
	{"08-123 456 78", "", app.ErrPhoneNotMobile}, // Stockholm fixed line
	{"036-10 50 00", "", app.ErrPhoneNotMobile},  // Jönköping fixed line
	{"020-123 456", "", app.ErrPhoneNotMobile},   // freephone
	{"0900-123 45 67", "", app.ErrPhoneNotMobile},
	{"071-123 456 789 0", "", app.ErrPhoneNotMobile}, // M2M
	{"0741234567", "", app.ErrPhoneNotMobile},
	{"0771-123 456", "", app.ErrPhoneNotMobile},
	{"+46 8 123 456 78", "", app.ErrPhoneNotMobile},
	{"112", "", app.ErrPhoneFormat},
}

func TestR13_NormalizePhone(t *testing.T) {
	for _, c := range phoneCases {
		got, err := app.NormalizePhone(c.in)
		if c.err == nil {
			if err != nil || got != c.want {
				t.Errorf("NormalizePhone(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		if !errors.Is(err, c.err) || got != "" {
			t.Errorf("NormalizePhone(%q) = %q, %v; want error %v", c.in, got, err, c.err)
		}
	}
}

// Every refusal is an ErrInvalid with a Swedish text, and neither the
// error string nor the text repeats what was typed.
func TestR13_PhoneErrorsAreInvalidSwedishAndNeverEchoInput(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range phoneCases {
		_, err := app.NormalizePhone(c.in)
		if err == nil {
			continue
		}
		if !errors.Is(err, app.ErrInvalid) || app.Code(err) != "invalid" {
			t.Errorf("NormalizePhone(%q): %v is not ErrInvalid", c.in, err)
		}
		var fe *app.FieldError
		if !errors.As(err, &fe) || fe.Field != "mobile" || fe.Text == "" || fe.Code == "" {
			t.Fatalf("NormalizePhone(%q): %v is not a mobile FieldError", c.in, err)
		}
		seen[fe.Code] = true
		assertNoDigitsOf(t, c.in, err.Error(), fe.Text)
	}
	if len(seen) != 6 {
		t.Errorf("distinct phone error codes seen = %v, want all 6", seen)
	}
}

// assertNoDigitsOf fails when the digits of input (6 or more of them) show
// up in the texts, ignoring spaces and hyphens. Shorter inputs are skipped:
// the fixed Swedish advice itself contains "070-123 45 67".
func assertNoDigitsOf(t *testing.T, input string, texts ...string) {
	t.Helper()
	digits := regexp.MustCompile(`\d`).FindAllString(input, -1)
	d := strings.Join(digits, "")
	if len(d) < 6 {
		return
	}
	for _, s := range texts {
		if strings.Contains(strings.NewReplacer(" ", "", "-", "").Replace(s), d) {
			t.Errorf("error text %q contains the number typed", s)
		}
	}
}

func isPhoneSentinel(err error) bool {
	for _, e := range []error{app.ErrPhoneEmpty, app.ErrPhoneCharacters, app.ErrPhoneFormat, app.ErrPhoneTooShort, app.ErrPhoneTooLong, app.ErrPhoneNotMobile} {
		if err == e {
			return true
		}
	}
	return false
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, c := range phoneCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := app.NormalizePhone(s)
		if err != nil {
			var fe *app.FieldError
			if got != "" || !errors.As(err, &fe) || !errors.Is(err, app.ErrInvalid) {
				t.Fatalf("NormalizePhone(%q) = %q, %v", s, got, err)
			}
			// The error is one of the fixed values itself, not a wrapper:
			// so it cannot carry anything of the input.
			if !isPhoneSentinel(err) {
				t.Fatalf("NormalizePhone(%q): %v is not one of the ErrPhone… values", s, err)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", s, got)
		}
		if strings.HasPrefix(got, "+46") && !regexp.MustCompile(`^\+467[02369][0-9]{7}$`).MatchString(got) {
			t.Fatalf("NormalizePhone(%q) = %q: a Swedish number that is not a mobile", s, got)
		}
		again, err := app.NormalizePhone(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

func TestR13_NormalizeEmail(t *testing.T) {
	cases := []struct {
		in, want string
		err      error
	}{
		{"karin@example.com", "karin@example.com", nil},
		{"  Karin.Berg+1177@Example.COM ", "Karin.Berg+1177@example.com", nil},
		{"k@sub.example.se", "k@sub.example.se", nil},
		{"åsa@exempel.se", "åsa@exempel.se", nil},
		{"a@xn--rksmrgs-5wao1o.se", "a@xn--rksmrgs-5wao1o.se", nil},
		{"", "", app.ErrEmailInvalid},
		{"karin", "", app.ErrEmailInvalid},
		{"karin@", "", app.ErrEmailInvalid},
		{"@example.com", "", app.ErrEmailInvalid},
		{"karin@localhost", "", app.ErrEmailInvalid},
		{"karin@example", "", app.ErrEmailInvalid},
		{"karin@example..com", "", app.ErrEmailInvalid},
		{"karin@-example.com", "", app.ErrEmailInvalid},
		{"karin@example.c", "", app.ErrEmailInvalid},
		{"karin@127.0.0.1", "", app.ErrEmailInvalid},
		{"karin@[127.0.0.1]", "", app.ErrEmailInvalid},
		{"karin@exa_mple.com", "", app.ErrEmailInvalid},
		{"kar in@example.com", "", app.ErrEmailInvalid},
		{"a@b@example.com", "", app.ErrEmailInvalid},
		{"karin@example.com, lars@example.com", "", app.ErrEmailInvalid},
		{"Karin Berg <karin@example.com>", "", app.ErrEmailDisplayName},
		{"<karin@example.com>", "", app.ErrEmailDisplayName},
		{`"Karin" <karin@example.com>`, "", app.ErrEmailDisplayName},
		{"karin@example.com (Karin)", "", app.ErrEmailDisplayName},
		{`"k b"@example.com`, "", app.ErrEmailDisplayName},
		{strings.Repeat("a", 65) + "@example.com", "", app.ErrEmailInvalid},
		{"a@" + strings.Repeat("b", 250) + ".se", "", app.ErrEmailTooLong},
	}
	for _, c := range cases {
		got, err := app.NormalizeEmail(c.in)
		if c.err == nil {
			if err != nil || got != c.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		if !errors.Is(err, c.err) || !errors.Is(err, app.ErrInvalid) || got != "" {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %v", c.in, got, err, c.err)
		}
		if c.in != "" && strings.Contains(err.Error(), c.in) {
			t.Errorf("NormalizeEmail(%q): error %v echoes the input", c.in, err)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"karin@example.com", "Karin <k@example.com>", "a@b", "åsa@exempel.se", `"x"@y.se`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := app.NormalizeEmail(s)
		if err != nil {
			if got != "" || !errors.Is(err, app.ErrInvalid) {
				t.Fatalf("NormalizeEmail(%q) = %q, %v", s, got, err)
			}
			return
		}
		again, err := app.NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
		if strings.ContainsAny(got, "<> \"") {
			t.Fatalf("NormalizeEmail(%q) = %q", s, got)
		}
	})
}

// R13, R14: UpdateSettings stores the mobile in E.164 and refuses a
// number that is not a mobile, or a bad e-mail address, with ErrInvalid
// and the field's Swedish text; nothing is saved then.
func TestR13_UpdateSettingsNormalizesAndRefuses(t *testing.T) {
	f := newFixture(t)
	karin := f.ds.Persona[demo.AdultSMS]
	ok := app.Settings{Mobile: "070-174 06 42", Email: " Karin@Example.COM ", NotifySMS: true, NotifyEmail: true}
	if err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: karin}, karin, ok); err != nil {
		t.Fatalf("UpdateSettings: %v", err)
	}
	r, err := f.store.Resident(f.ctx, karin)
	if err != nil {
		t.Fatal(err)
	}
	if r.Settings.Mobile != "+46701740642" || r.Settings.Email != "Karin@example.com" {
		t.Fatalf("saved mobile %q, e-mail %q; want +46701740642, Karin@example.com", r.Settings.Mobile, r.Settings.Email)
	}
	for _, c := range []struct {
		set  app.Settings
		want error
	}{
		{app.Settings{Mobile: "08-123 456 78", NotifySMS: true}, app.ErrPhoneNotMobile},
		{app.Settings{Mobile: "070-ABC", NotifySMS: true}, app.ErrPhoneCharacters},
		{app.Settings{Mobile: "0701740643", Email: "Karin <karin@example.com>", NotifyEmail: true}, app.ErrEmailDisplayName},
		{app.Settings{Email: "karin@example", NotifyEmail: true}, app.ErrEmailInvalid},
		// A bad number is refused even when SMS is off: it would be shared
		// with care providers (R13).
		{app.Settings{Mobile: "12345", ShareWithCare: true}, app.ErrPhoneFormat},
	} {
		err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: karin}, karin, c.set)
		var fe *app.FieldError
		if !errors.Is(err, c.want) || !errors.Is(err, app.ErrInvalid) || !errors.As(err, &fe) || fe.Text == "" {
			t.Errorf("UpdateSettings(%+v) = %v, want %v", c.set, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), c.set.Mobile) && c.set.Mobile != "" || c.set.Email != "" && strings.Contains(err.Error(), c.set.Email)) {
			t.Errorf("error %q echoes the input", err)
		}
	}
	r, err = f.store.Resident(f.ctx, karin)
	if err != nil {
		t.Fatal(err)
	}
	if r.Settings.Mobile != "+46701740642" {
		t.Fatalf("a refused save changed the mobile to %q", r.Settings.Mobile)
	}
	// Clearing both is allowed (notification "ingen").
	if err := f.res.UpdateSettings(f.ctx, app.Actor{ResidentID: karin}, karin, app.Settings{Mobile: "  ", Email: ""}); err != nil {
		t.Fatalf("clearing settings: %v", err)
	}
}

// R6, R13: a guardian's contact details under a child's settings are
// normalised and checked like the resident's own; a bad number is refused
// and nothing already stored changes.
func TestR6_GuardianContactIsNormalisedAndChecked(t *testing.T) {
	f := newFixture(t)
	child := f.resident(demo.Child12y11m)
	var guardian app.ID
	for _, g := range child.Guardians {
		if !g.Blocked {
			guardian = g.GuardianID
		}
	}
	before, _ := f.store.Resident(f.ctx, child.ID)
	err := f.res.SetGuardianContact(f.ctx, guardian, child.ID, app.GuardianContact{Mobile: "08-123 456 78"})
	if !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("a landline: %v", err)
	}
	after, _ := f.store.Resident(f.ctx, child.ID)
	if g1, _ := before.Guardianship(guardian); true {
		if g2, _ := after.Guardianship(guardian); g1.Contact != g2.Contact {
			t.Error("a refused contact changed what was stored")
		}
	}
	if err := f.res.SetGuardianContact(f.ctx, guardian, child.ID, app.GuardianContact{Mobile: "070-174 06 10", Email: "Forälder@Example.COM"}); err != nil {
		t.Fatal(err)
	}
	after, _ = f.store.Resident(f.ctx, child.ID)
	g, _ := after.Guardianship(guardian)
	if g.Contact.Mobile != "+46701740610" {
		t.Errorf("mobile stored as %q", g.Contact.Mobile)
	}
}
