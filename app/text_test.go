package app

import (
	"errors"
	"testing"
)

func TestCheckText_ControlAndDirectionCharacters(t *testing.T) {
	for _, tc := range []struct {
		in         string
		line, body bool // allowed as one line, as a text of lines
	}{
		{"Provsvar", true, true},
		{"Åsa Öberg-Ärlig", true, true},
		{"Hej!\n\nMvh\tMottagningen\r\n", false, true},
		{"mottag\u00adningen", true, true}, // soft hyphen
		{"👩\u200d⚕️", true, true},          // ZWJ sequence
		{"\u200fשלום\u200e", true, true},   // RLM, LRM: marks, not overrides
		{"Hej\x00då", false, false},        // NUL
		{"Faktura \u202Efdp.exe", false, false},
		{"a\u202Ab", false, false},
		{"a\u2066b\u2069", false, false},
		{"\x1b[31mröd", false, false}, // ESC
		{"a\u0085b", false, false},    // C1 control (NEL)
		{"a\x7fb", false, false},      // DEL
		{string([]byte{0xff, 0xfe}), false, false},
	} {
		if got := CheckLine(tc.in) == nil; got != tc.line {
			t.Errorf("CheckLine(%q) allowed = %v, want %v", tc.in, got, tc.line)
		}
		err := CheckMultiline(tc.in)
		if got := err == nil; got != tc.body {
			t.Errorf("CheckMultiline(%q) allowed = %v, want %v", tc.in, got, tc.body)
		}
		if err != nil && (!errors.Is(err, ErrTextControl) || !errors.Is(err, ErrInvalid)) {
			t.Errorf("CheckMultiline(%q) = %v, want ErrTextControl (ErrInvalid)", tc.in, err)
		}
	}
}

func TestLintTemplate_ControlCharacters(t *testing.T) {
	tpl := MessageTemplate{Name: "Prov\u202Esvar", Kind: KindQuestion, Subject: "Två\nrader", Body: "Hej\x00"}
	issues := LintTemplate(&tpl)
	if !HasLintErrors(issues) {
		t.Fatal("a template with control characters can be saved")
	}
	got := map[string]bool{}
	for _, i := range issues {
		if i.Code == LintControl {
			got[i.Field] = true
		}
	}
	for _, f := range []string{FieldName, FieldSubject, FieldText} {
		if !got[f] {
			t.Errorf("no %s issue on field %s: %+v", LintControl, f, issues)
		}
	}
}
