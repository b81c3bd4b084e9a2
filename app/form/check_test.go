package form

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCheck_DefinitionErrorsNameTheItem: every kind of broken definition
// is reported with the item's id and its label in the Swedish text.
func TestCheck_DefinitionErrorsNameTheItem(t *testing.T) {
	q := func(id, label string, typ Type, c ...Condition) Item {
		return Item{ID: id, Label: label, Type: typ, EnableWhen: c}
	}
	tests := []struct {
		name     string
		items    []Item
		code     string
		itemID   string
		inText   string
		moreText string
	}{
		{"duplicate id", []Item{q("a", "Första", TypeText), q("a", "Andra", TypeText)}, "duplicate_id", "a", "”Första”", "”Andra”"},
		{"empty id", []Item{q("", "Utan id", TypeText)}, "empty_id", "", "”Utan id”", ""},
		{"unknown type", []Item{q("a", "Konstig", "slider")}, "type", "a", "”Konstig”", ""},
		{"missing reference", []Item{q("a", "Följdfråga", TypeText, Condition{"finnsej", OpExists, BoolValue(true)})}, "missing_reference", "a", "”Följdfråga”", `"finnsej"`},
		{"reference to information text", []Item{q("i", "Info", TypeDisplay), q("a", "Fråga", TypeText, Condition{"i", OpExists, BoolValue(true)})}, "reference_not_answerable", "a", "”Info”", ""},
		{"self reference is a cycle", []Item{q("a", "Själv", TypeText, Condition{"a", OpExists, BoolValue(true)})}, "cycle", "a", "”Själv” → ”Själv”", ""},
		{"two-item cycle", []Item{
			q("a", "Ett", TypeBoolean, Condition{"b", OpEquals, BoolValue(true)}),
			q("b", "Två", TypeBoolean, Condition{"a", OpEquals, BoolValue(true)})}, "cycle", "a", "”Ett” → ”Två” → ”Ett”", ""},
		{"group depends on its child", []Item{{ID: "g", Label: "Grupp", Type: TypeGroup,
			EnableWhen: []Condition{{"c", OpExists, BoolValue(true)}}, Items: []Item{q("c", "Barn", TypeText)}}}, "cycle", "g", "”Grupp”", "”Barn”"},
		{"greater on a choice", []Item{{ID: "c", Label: "Val", Type: TypeChoice, Options: []Option{{Code: "x"}}},
			q("a", "Fråga", TypeText, Condition{"c", OpGreater, CodeValue("x")})}, "operator_type", "a", "”Fråga”", "”Val”"},
		{"unknown operator", []Item{q("n", "Tal", TypeNumber), q("a", "Fråga", TypeText, Condition{"n", "~", NumberValue(1)})}, "operator", "a", "”Fråga”", ""},
		{"condition on a missing option", []Item{{ID: "c", Label: "Val", Type: TypeChoice, Options: []Option{{Code: "x"}}},
			q("a", "Fråga", TypeText, Condition{"c", OpEquals, CodeValue("y")})}, "missing_option", "a", "”Fråga”", "”Val”"},
		{"choice without options", []Item{q("c", "Tomt val", TypeChoice)}, "no_options", "c", "”Tomt val”", ""},
		{"duplicate option", []Item{{ID: "c", Label: "Val", Type: TypeChoice, Options: []Option{{Code: "x"}, {Code: "x"}}}}, "duplicate_option", "c", "”Val”", ""},
		{"min above max", []Item{{ID: "n", Label: "Vikt", Type: TypeNumber, Min: Ptr(5.0), Max: Ptr(1.0)}}, "min_max", "n", "”Vikt”", ""},
		{"page inside a group", []Item{{ID: "g", Label: "G", Type: TypeGroup, Items: []Item{{ID: "p", Label: "Sida", Type: TypeGroup, Page: true}}}}, "page", "p", "”Sida”", ""},
		{"reference into another repeating group", []Item{
			{ID: "r", Label: "Rader", Type: TypeGroup, Repeats: true, Items: []Item{q("in", "Inne", TypeText)}},
			q("a", "Ute", TypeText, Condition{"in", OpExists, BoolValue(true)})}, "reference_scope", "a", "”Ute”", "”Inne”"},
		{"bad initial value", []Item{{ID: "n", Label: "Tal", Type: TypeNumber, Max: Ptr(1.0), Initial: []Value{NumberValue(5)}}}, "initial", "n", "”Tal”", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Form{ID: "f", Title: "T", Items: tt.items}
			err := f.Check()
			var de *DefinitionError
			if !errors.As(err, &de) || !errors.Is(err, ErrDefinition) {
				t.Fatalf("got %v", err)
			}
			for _, p := range de.Problems {
				if p.Code == tt.code {
					if p.ItemID != tt.itemID || !strings.Contains(p.Text, tt.inText) || !strings.Contains(p.Text, tt.moreText) {
						t.Errorf("problem %+v; want item %q and text with %q, %q", p, tt.itemID, tt.inText, tt.moreText)
					}
					return
				}
			}
			t.Errorf("no %s problem in %+v", tt.code, de.Problems)
		})
	}
}

// TestCheck_CollectsAllProblems: the builder sees every problem at once.
func TestCheck_CollectsAllProblems(t *testing.T) {
	f := &Form{ID: "f", Items: []Item{
		{ID: "a", Label: "A", Type: TypeText},
		{ID: "a", Label: "A2", Type: TypeText},
		{ID: "b", Label: "B", Type: TypeText, EnableWhen: []Condition{{"x", OpExists, BoolValue(true)}}},
		{ID: "c", Label: "C", Type: TypeChoice},
	}}
	var de *DefinitionError
	if !errors.As(f.Check(), &de) || len(de.Problems) != 4 {
		t.Fatalf("got %+v", de)
	}
}

// TestEvaluate_CycleIsHiddenNotAHang: Evaluate on an unchecked form with a
// cycle terminates and hides the items of the cycle.
func TestEvaluate_CycleIsHiddenNotAHang(t *testing.T) {
	f := &Form{ID: "f", Title: "T", Items: []Item{
		{ID: "a", Label: "A", Type: TypeBoolean, EnableWhen: []Condition{{"b", OpExists, BoolValue(false)}}},
		{ID: "b", Label: "B", Type: TypeBoolean, EnableWhen: []Condition{{"a", OpExists, BoolValue(false)}}},
	}}
	done := make(chan State, 1)
	go func() { done <- f.Evaluate(Answers{"a": {BoolValue(true)}}, testNow) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Evaluate hangs on a cycle")
	}
}

func TestCheck_ControlCharactersInTexts(t *testing.T) {
	for name, mod := range map[string]func(f *Form){
		"title":       func(f *Form) { f.Title = "Hälso\u202Edeklaration" },
		"description": func(f *Form) { f.Description = "Fyll i\x00" },
		"label":       func(f *Form) { f.Items[0].Label = "Namn\x1b" },
		"help":        func(f *Form) { f.Items[0].Help = "a\u2066b" },
		"option label": func(f *Form) {
			f.Items = append(f.Items, Item{ID: "val", Type: TypeChoice, Label: "Val", Options: []Option{{Code: "a", Label: "A\u202E"}}})
		},
	} {
		f := &Form{ID: "f", Title: "Formulär", Items: []Item{{ID: "q", Type: TypeText, Label: "Fråga", Help: "Rad ett\nRad två"}}}
		if err := f.Check(); err != nil {
			t.Fatalf("clean form: %v", err)
		}
		mod(f)
		var de *DefinitionError
		if err := f.Check(); !errors.As(err, &de) || !slices.ContainsFunc(de.Problems, func(p Problem) bool { return p.Code == "control_chars" }) {
			t.Errorf("%s: %v, want a control_chars problem", name, err)
		}
	}
	d := Definition{Name: "Vaccination", Description: "Boka\u202E"}
	var de *DefinitionError
	if err := d.Check(); !errors.As(err, &de) || de.Problems[0].Code != "control_chars" {
		t.Errorf("definition: %v", err)
	}
}
