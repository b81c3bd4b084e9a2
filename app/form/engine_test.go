package form

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func one(it Item) *Form { return &Form{ID: "f", Title: "Test", Items: []Item{it}} }

// TestItemTypes_ValidationNamesTheField: every item type takes its good
// answers and refuses bad ones with a Swedish message naming the field by
// its label (and never repeating the value).
func TestItemTypes_ValidationNamesTheField(t *testing.T) {
	choice := []Option{{Code: "a", Label: "Alfa"}, {Code: "b", Label: "Beta"}}
	tests := []struct {
		name     string
		item     Item
		vals     []Value
		wantCode string // "" = accepted
	}{
		{"text accepted", Item{Type: TypeText}, []Value{TextValue("hej")}, ""},
		{"text over max length", Item{Type: TypeText, MaxLength: 3}, []Value{TextValue("hejsan")}, CodeTooLong},
		{"text default max length", Item{Type: TypeText}, []Value{TextValue(strings.Repeat("x", DefaultMaxText+1))}, CodeTooLong},
		{"text counts characters not bytes", Item{Type: TypeText, MaxLength: 3}, []Value{TextValue("åäö")}, ""},
		{"text invalid UTF-8", Item{Type: TypeText}, []Value{TextValue("\xff")}, CodeText},
		{"long text accepted", Item{Type: TypeLongText}, []Value{TextValue(strings.Repeat("rad\n", 1000))}, ""},
		{"long text over default", Item{Type: TypeLongText}, []Value{TextValue(strings.Repeat("x", DefaultMaxLongText+1))}, CodeTooLong},
		{"number accepted", Item{Type: TypeNumber, Min: Ptr(0.0), Max: Ptr(10.0)}, []Value{NumberValue(5)}, ""},
		{"number below min", Item{Type: TypeNumber, Min: Ptr(1.5), Unit: &Coding{Display: "kg"}}, []Value{NumberValue(1)}, CodeMin},
		{"number above max", Item{Type: TypeNumber, Max: Ptr(10.0)}, []Value{NumberValue(11)}, CodeMax},
		{"number whole only", Item{Type: TypeNumber, Decimals: Ptr(0)}, []Value{NumberValue(1.5)}, CodeDecimals},
		{"number one decimal", Item{Type: TypeNumber, Decimals: Ptr(1)}, []Value{NumberValue(1.25)}, CodeDecimals},
		{"number one decimal ok", Item{Type: TypeNumber, Decimals: Ptr(1)}, []Value{NumberValue(1.2)}, ""},
		{"date accepted", Item{Type: TypeDate}, []Value{TextValue("2024-02-29")}, ""},
		{"date impossible", Item{Type: TypeDate}, []Value{TextValue("2023-02-29")}, CodeDate},
		{"date wrong form", Item{Type: TypeDate}, []Value{TextValue("29/2 2024")}, CodeDate},
		{"datetime accepted", Item{Type: TypeDateTime}, []Value{TextValue("2024-02-29T13:30")}, ""},
		{"datetime refused", Item{Type: TypeDateTime}, []Value{TextValue("i morgon")}, CodeDateTime},
		{"time accepted", Item{Type: TypeTime}, []Value{TextValue("08:15")}, ""},
		{"time refused", Item{Type: TypeTime}, []Value{TextValue("25:00")}, CodeTime},
		{"yes/no accepted", Item{Type: TypeBoolean}, []Value{BoolValue(false)}, ""},
		{"yes/no one answer", Item{Type: TypeBoolean}, []Value{BoolValue(false), BoolValue(true)}, CodeSingle},
		{"single choice accepted", Item{Type: TypeChoice, Options: choice}, []Value{CodeValue("a")}, ""},
		{"single choice unknown option", Item{Type: TypeChoice, Options: choice}, []Value{CodeValue("z")}, CodeOption},
		{"single choice one answer", Item{Type: TypeChoice, Options: choice}, []Value{CodeValue("a"), CodeValue("b")}, CodeSingle},
		{"single choice free text refused", Item{Type: TypeChoice, Options: choice}, []Value{TextValue("annat")}, CodeOption},
		{"open choice free text", Item{Type: TypeChoice, Options: choice, AllowOther: true}, []Value{TextValue("annat")}, ""},
		{"external value set takes any code", Item{Type: TypeChoice, ValueSet: "http://x/vs"}, []Value{CodeValue("q")}, ""},
		{"multiple choice accepted", Item{Type: TypeMultiChoice, Options: choice}, []Value{CodeValue("a"), CodeValue("b")}, ""},
		{"multiple choice twice the same", Item{Type: TypeMultiChoice, Options: choice}, []Value{CodeValue("a"), CodeValue("a")}, CodeDuplicate},
		{"multiple choice unknown", Item{Type: TypeMultiChoice, Options: choice}, []Value{CodeValue("a"), CodeValue("x")}, CodeOption},
		{"personnummer accepted", Item{Type: TypePersonnummer}, []Value{TextValue("200001012384")}, ""},
		{"personnummer 10 digits", Item{Type: TypePersonnummer}, []Value{TextValue("000101-2384")}, ""},
		{"personnummer check digit", Item{Type: TypePersonnummer}, []Value{TextValue("200001012385")}, CodePersonnummer},
		{"personnummer future", Item{Type: TypePersonnummer}, []Value{TextValue("20300101-2380")}, CodePersonnummer},
		{"phone landline accepted", Item{Type: TypePhone}, []Value{TextValue("036-123 45 67")}, ""},
		{"phone international", Item{Type: TypePhone}, []Value{TextValue("+47 22 12 34 56")}, ""},
		{"phone letters", Item{Type: TypePhone}, []Value{TextValue("036-ABC")}, CodePhone},
		{"phone too short", Item{Type: TypePhone}, []Value{TextValue("0361")}, CodePhone},
		{"e-mail accepted", Item{Type: TypeEmail}, []Value{TextValue("karin@exempel.se")}, ""},
		{"e-mail with name refused", Item{Type: TypeEmail}, []Value{TextValue("Karin <karin@exempel.se>")}, CodeEmail},
		{"e-mail without domain dot", Item{Type: TypeEmail}, []Value{TextValue("karin@exempel")}, CodeEmail},
		{"attachment accepted", Item{Type: TypeAttachment}, []Value{{Attachment: &Attachment{ID: "a1"}}}, ""},
		{"attachment without id", Item{Type: TypeAttachment}, []Value{{Attachment: &Attachment{Name: "x.pdf"}}}, CodeAttachment},
		{"repeating text takes several", Item{Type: TypeText, Repeats: true}, []Value{TextValue("a"), TextValue("b")}, ""},
		{"repeating text capped", Item{Type: TypeText, Repeats: true}, make([]Value, MaxValues+1), ""},
	}
	for i := range tests[len(tests)-1].vals {
		tests[len(tests)-1].vals[i] = TextValue("x")
	}
	tests[len(tests)-1].wantCode = CodeTooMany
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := tt.item
			it.ID, it.Label = "q", "Fältets namn"
			f := one(it)
			if err := f.Check(); err != nil {
				t.Fatalf("definition: %v", err)
			}
			errs := f.Validate(Answers{"q": tt.vals}, testNow)
			if tt.wantCode == "" {
				if len(errs) > 0 {
					t.Fatalf("refused: %+v", errs)
				}
				return
			}
			if len(errs) == 0 || errs[0].Code != tt.wantCode {
				t.Fatalf("got %+v, want code %s", errs, tt.wantCode)
			}
			e := errs[0]
			if !strings.Contains(e.Text, "”Fältets namn”") || e.Path != "q" || e.ItemID != "q" {
				t.Errorf("message does not name the field: %+v", e)
			}
			for _, v := range tt.vals {
				if len(v.Text) > 3 && strings.Contains(e.Text, v.Text) {
					t.Errorf("message repeats the value: %q", e.Text)
				}
			}
		})
	}
}

// TestRequired_EveryTypeSaysWhatToDo: an unanswered required item gives a
// Swedish message naming the field; an empty text counts as unanswered;
// display items and read-only items are never required errors.
func TestRequired_EveryTypeSaysWhatToDo(t *testing.T) {
	tests := []struct {
		typ  Type
		want string
	}{
		{TypeText, "Fyll i ”Namn”."}, {TypeLongText, "Fyll i ”Namn”."}, {TypeNumber, "Fyll i ”Namn”."},
		{TypeDate, "Fyll i ”Namn”."}, {TypePersonnummer, "Fyll i ”Namn”."}, {TypePhone, "Fyll i ”Namn”."},
		{TypeEmail, "Fyll i ”Namn”."}, {TypeBoolean, "Svara ja eller nej på ”Namn”."},
		{TypeChoice, "Välj ett alternativ i ”Namn”."}, {TypeMultiChoice, "Välj minst ett alternativ i ”Namn”."},
		{TypeAttachment, "Bifoga en fil i ”Namn”."},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			it := Item{ID: "q", Label: "Namn", Type: tt.typ, Required: true}
			if tt.typ.choice() {
				it.Options = []Option{{Code: "a"}}
			}
			f := one(it)
			for _, a := range []Answers{nil, {"q": {}}, {"q": {TextValue("  ")}}} {
				errs := f.Validate(a, testNow)
				if tt.typ == TypeNumber || tt.typ == TypeBoolean {
					if len(a["q"]) > 0 {
						continue // a zero number or "nej" is an answer
					}
				}
				if len(errs) != 1 || errs[0].Code != CodeRequired || errs[0].Text != tt.want {
					t.Errorf("answers %v: got %+v, want %q", a, errs, tt.want)
				}
			}
		})
	}
	ro := one(Item{ID: "q", Label: "Namn", Type: TypeText, Required: true, ReadOnly: true})
	if errs := ro.Validate(nil, testNow); len(errs) != 0 {
		t.Errorf("read-only item gave %+v", errs)
	}
}

// logicForm has one question of each comparable type and a follow-up "x"
// whose condition the test sets.
func logicForm(c ...Condition) *Form {
	return &Form{ID: "f", Title: "Logik", Items: []Item{
		{ID: "num", Label: "Tal", Type: TypeNumber},
		{ID: "txt", Label: "Text", Type: TypeText},
		{ID: "date", Label: "Datum", Type: TypeDate},
		{ID: "yes", Label: "Ja/nej", Type: TypeBoolean},
		{ID: "one", Label: "Val", Type: TypeChoice, Options: []Option{{Code: "a"}, {Code: "b"}}},
		{ID: "many", Label: "Flerval", Type: TypeMultiChoice, Options: []Option{{Code: "a"}, {Code: "b"}}},
		{ID: "file", Label: "Fil", Type: TypeAttachment},
		{ID: "x", Label: "Följdfråga", Type: TypeText, EnableWhen: c},
	}}
}

// TestLogic_EveryOperator: each operator on each kind of answer, including
// the unanswered case.
func TestLogic_EveryOperator(t *testing.T) {
	type row struct {
		name string
		cond Condition
		ans  Answers
		want bool
	}
	n := func(f float64) Answers { return Answers{"num": {NumberValue(f)}} }
	tests := []row{
		{"equals number true", Condition{"num", OpEquals, NumberValue(3)}, n(3), true},
		{"equals number false", Condition{"num", OpEquals, NumberValue(3)}, n(4), false},
		{"equals unanswered", Condition{"num", OpEquals, NumberValue(0)}, nil, false},
		{"not equals true", Condition{"num", OpNotEquals, NumberValue(3)}, n(4), true},
		{"not equals false", Condition{"num", OpNotEquals, NumberValue(3)}, n(3), false},
		{"not equals unanswered is false", Condition{"num", OpNotEquals, NumberValue(3)}, nil, false},
		{"greater true", Condition{"num", OpGreater, NumberValue(3)}, n(3.5), true},
		{"greater equal is false", Condition{"num", OpGreater, NumberValue(3)}, n(3), false},
		{"less true", Condition{"num", OpLess, NumberValue(3)}, n(-1), true},
		{"less false", Condition{"num", OpLess, NumberValue(3)}, n(3), false},
		{"greater or equal at bound", Condition{"num", OpGreaterEq, NumberValue(3)}, n(3), true},
		{"greater or equal below", Condition{"num", OpGreaterEq, NumberValue(3)}, n(2), false},
		{"less or equal at bound", Condition{"num", OpLessEq, NumberValue(3)}, n(3), true},
		{"less or equal above", Condition{"num", OpLessEq, NumberValue(3)}, n(4), false},
		{"less unanswered", Condition{"num", OpLess, NumberValue(3)}, nil, false},
		{"exists true answered", Condition{"txt", OpExists, BoolValue(true)}, Answers{"txt": {TextValue("x")}}, true},
		{"exists true blank text", Condition{"txt", OpExists, BoolValue(true)}, Answers{"txt": {TextValue(" ")}}, false},
		{"exists false unanswered", Condition{"txt", OpExists, BoolValue(false)}, nil, true},
		{"exists false answered", Condition{"txt", OpExists, BoolValue(false)}, Answers{"txt": {TextValue("x")}}, false},
		{"exists attachment", Condition{"file", OpExists, BoolValue(true)}, Answers{"file": {{Attachment: &Attachment{ID: "1"}}}}, true},
		{"equals text trims", Condition{"txt", OpEquals, TextValue("ja")}, Answers{"txt": {TextValue(" ja ")}}, true},
		{"greater text", Condition{"txt", OpGreater, TextValue("b")}, Answers{"txt": {TextValue("c")}}, true},
		{"date greater or equal", Condition{"date", OpGreaterEq, TextValue("2024-01-01")}, Answers{"date": {TextValue("2024-03-01")}}, true},
		{"date less", Condition{"date", OpLess, TextValue("2024-01-01")}, Answers{"date": {TextValue("2024-03-01")}}, false},
		{"yes equals true", Condition{"yes", OpEquals, BoolValue(true)}, Answers{"yes": {BoolValue(true)}}, true},
		{"yes equals true on no", Condition{"yes", OpEquals, BoolValue(true)}, Answers{"yes": {BoolValue(false)}}, false},
		{"no not equals true", Condition{"yes", OpNotEquals, BoolValue(true)}, Answers{"yes": {BoolValue(false)}}, true},
		{"choice equals", Condition{"one", OpEquals, CodeValue("a")}, Answers{"one": {CodeValue("a")}}, true},
		{"choice equals other", Condition{"one", OpEquals, CodeValue("a")}, Answers{"one": {CodeValue("b")}}, false},
		{"choice system mismatch", Condition{"one", OpEquals, Value{Code: "a", System: "s1"}}, Answers{"one": {{Code: "a", System: "s2"}}}, false},
		{"multi equals any answer", Condition{"many", OpEquals, CodeValue("b")}, Answers{"many": {CodeValue("a"), CodeValue("b")}}, true},
		{"multi not equals when one matches", Condition{"many", OpNotEquals, CodeValue("b")}, Answers{"many": {CodeValue("a"), CodeValue("b")}}, false},
		{"multi not equals none match", Condition{"many", OpNotEquals, CodeValue("b")}, Answers{"many": {CodeValue("a")}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := logicForm(tt.cond)
			if err := f.Check(); err != nil {
				t.Fatalf("definition: %v", err)
			}
			if got := f.Evaluate(tt.ans, testNow).Shown("x"); got != tt.want {
				t.Errorf("visible = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLogic_AllAndAny: conditions combined with and (all, the default) and
// or (any).
func TestLogic_AllAndAny(t *testing.T) {
	c := []Condition{{"num", OpGreater, NumberValue(10)}, {"yes", OpEquals, BoolValue(true)}}
	tests := []struct {
		name string
		b    Behavior
		ans  Answers
		want bool
	}{
		{"and both", "", Answers{"num": {NumberValue(11)}, "yes": {BoolValue(true)}}, true},
		{"and one", All, Answers{"num": {NumberValue(11)}, "yes": {BoolValue(false)}}, false},
		{"and none", All, nil, false},
		{"or one", Any, Answers{"num": {NumberValue(1)}, "yes": {BoolValue(true)}}, true},
		{"or both", Any, Answers{"num": {NumberValue(11)}, "yes": {BoolValue(true)}}, true},
		{"or none", Any, Answers{"num": {NumberValue(1)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := logicForm(c...)
			f.Item("x").EnableBehavior = tt.b
			if got := f.Evaluate(tt.ans, testNow).Shown("x"); got != tt.want {
				t.Errorf("visible = %v, want %v", got, tt.want)
			}
		})
	}
}

// hiddenForm: "smoking" yes shows "howMuch" (required, 1–100) and a
// group "details" whose "since" shows a further question "quit".
func hiddenForm() *Form {
	return &Form{ID: "rok", Title: "Rökning", Items: []Item{
		{ID: "smoking", Label: "Röker du?", Type: TypeBoolean, Required: true},
		{ID: "howMuch", Label: "Hur många cigaretter per dag?", Type: TypeNumber, Required: true, Min: Ptr(1.0), Max: Ptr(100.0),
			EnableWhen: []Condition{{"smoking", OpEquals, BoolValue(true)}}},
		{ID: "details", Label: "Om rökningen", Type: TypeGroup, EnableWhen: []Condition{{"smoking", OpEquals, BoolValue(true)}}, Items: []Item{
			{ID: "since", Label: "Sedan vilket år?", Type: TypeNumber, Decimals: Ptr(0)},
		}},
		{ID: "quit", Label: "Vill du sluta?", Type: TypeBoolean, EnableWhen: []Condition{{"since", OpExists, BoolValue(true)}}},
	}}
}

// TestHidden_NeverSubmitted: Clean drops the answers of hidden items (also
// children of a hidden group, and items whose condition rests on a hidden
// answer) and validation ignores them; Accept refuses them naming the
// item.
func TestHidden_NeverSubmitted(t *testing.T) {
	f := hiddenForm()
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	a := Answers{
		"smoking": {BoolValue(false)},
		"howMuch": {NumberValue(500)}, // hidden, and would break max
		"since":   {NumberValue(1990)},
		"quit":    {BoolValue(true)},
	}
	st := f.Evaluate(a, testNow)
	for _, id := range []string{"howMuch", "details", "since", "quit"} {
		if st.Shown(id) {
			t.Errorf("%s visible", id)
		}
	}
	if len(st.Errors) != 0 {
		t.Errorf("hidden items validated: %+v", st.Errors)
	}
	got, err := f.Clean(a, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Answers{"smoking": {BoolValue(false)}}, got); d != "" {
		t.Errorf("Clean kept hidden answers:\n%s", d)
	}
	_, err = f.Accept(a, testNow)
	var ae *AnswersError
	if !errors.As(err, &ae) || !errors.Is(err, ErrHiddenAnswer) || !errors.Is(err, ErrAnswers) {
		t.Fatalf("Accept: %v", err)
	}
	named := map[string]bool{}
	for _, fe := range ae.Fields {
		if fe.Code != CodeHidden {
			t.Errorf("unexpected %+v", fe)
		}
		named[fe.ItemID] = strings.Contains(fe.Text, f.Item(fe.ItemID).Label)
	}
	if d := cmp.Diff(map[string]bool{"howMuch": true, "since": true, "quit": true}, named); d != "" {
		t.Errorf("Accept errors should name each hidden item:\n%s", d)
	}
	// Shown, the same answers are validated and kept.
	a["smoking"] = []Value{BoolValue(true)}
	_, err = f.Accept(a, testNow)
	if !errors.As(err, &ae) || len(ae.Fields) != 1 || ae.Fields[0].Code != CodeMax || !strings.Contains(ae.Fields[0].Text, "”Hur många cigaretter per dag?” får vara högst 100.") {
		t.Errorf("visible answer not validated: %v", err)
	}
	a["howMuch"] = []Value{NumberValue(10)}
	got, err = f.Accept(a, testNow)
	if err != nil || len(got) != 4 {
		t.Errorf("Accept: %v %v", got, err)
	}
}

// TestAccept_RefusesWhatNoResidentCouldAnswer: unknown ids, information
// texts, plain groups, read-only items and answers in the wrong repeating
// group are refused naming the item.
func TestAccept_RefusesWhatNoResidentCouldAnswer(t *testing.T) {
	f := &Form{ID: "f", Title: "T", Items: []Item{
		{ID: "info", Label: "Läs detta", Type: TypeDisplay},
		{ID: "grp", Label: "Grupp", Type: TypeGroup, Items: []Item{{ID: "in", Label: "Inne", Type: TypeText}}},
		{ID: "ro", Label: "Fast värde", Type: TypeText, ReadOnly: true, Initial: []Value{TextValue("A")}},
		{ID: "rep", Label: "Upprepad", Type: TypeGroup, Repeats: true, Items: []Item{{ID: "r1", Label: "Rad", Type: TypeText}}},
	}}
	tests := []struct {
		name, code string
		a          Answers
	}{
		{"unknown id", CodeUnknown, Answers{"nope": {TextValue("x")}}},
		{"information text", CodeNotAnswerable, Answers{"info": {TextValue("x")}}},
		{"plain group", CodeNotAnswerable, Answers{"grp": {TextValue("x")}}},
		{"read-only changed", CodeNotAnswerable, Answers{"ro": {TextValue("B")}}},
		{"repeating item at top", CodeUnknown, Answers{"r1": {TextValue("x")}}},
		{"top item in an instance", CodeUnknown, Answers{"rep": {GroupValue(Answers{"in": {TextValue("x")}})}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Accept(tt.a, testNow)
			var ae *AnswersError
			if !errors.As(err, &ae) || ae.Fields[0].Code != tt.code || !errors.Is(err, ErrHiddenAnswer) {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
		})
	}
	got, err := f.Accept(Answers{"ro": {TextValue("A")}, "in": {TextValue(" x ")}, "rep": {GroupValue(Answers{"r1": {TextValue("y")}})}}, testNow)
	want := Answers{"ro": {TextValue("A")}, "in": {TextValue("x")}, "rep": {GroupValue(Answers{"r1": {TextValue("y")}})}}
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("good answers: %v %s", err, cmp.Diff(want, got))
	}
}

// TestClean_Normalizes: submitted values are stored in one form.
func TestClean_Normalizes(t *testing.T) {
	f := &Form{ID: "f", Title: "T", Items: []Item{
		{ID: "pnr", Label: "Personnummer", Type: TypePersonnummer},
		{ID: "tel", Label: "Telefon", Type: TypePhone},
		{ID: "mail", Label: "E-post", Type: TypeEmail},
		{ID: "c", Label: "Val", Type: TypeChoice, Options: []Option{{Code: "a", System: "urn:s"}}},
	}}
	got, err := f.Clean(Answers{"pnr": {TextValue("000101-2384")}, "tel": {TextValue("036-12 34 56")},
		"mail": {TextValue("Karin@Exempel.SE")}, "c": {CodeValue("a")}}, testNow)
	want := Answers{"pnr": {TextValue("20000101-2384")}, "tel": {TextValue("+4636123456")},
		"mail": {TextValue("Karin@exempel.se")}, "c": {{Code: "a", System: "urn:s"}}}
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("%v %s", err, cmp.Diff(want, got))
	}
}

// repeatForm: a repeating group of medicines, each with a dose whose
// follow-up depends on the dose in the same instance and on a top-level
// question.
func repeatForm() *Form {
	return &Form{ID: "lm", Title: "Läkemedel", Items: []Item{
		{ID: "takes", Label: "Tar du läkemedel?", Type: TypeBoolean},
		{ID: "meds", Label: "Läkemedel", Type: TypeGroup, Repeats: true, Required: true,
			EnableWhen: []Condition{{"takes", OpEquals, BoolValue(true)}}, Items: []Item{
				{ID: "name", Label: "Namn", Type: TypeText, Required: true},
				{ID: "dose", Label: "Dos", Type: TypeNumber},
				{ID: "why", Label: "Varför hög dos?", Type: TypeText, Required: true, EnableBehavior: All, EnableWhen: []Condition{
					{"dose", OpGreater, NumberValue(2)}, {"takes", OpEquals, BoolValue(true)}}},
			}},
	}}
}

// TestRepeatingGroups_EachInstanceHasItsOwnLogicAndErrors.
func TestRepeatingGroups_EachInstanceHasItsOwnLogicAndErrors(t *testing.T) {
	f := repeatForm()
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	a := Answers{"takes": {BoolValue(true)}, "meds": {
		GroupValue(Answers{"name": {TextValue("Alvedon")}, "dose": {NumberValue(3)}}),
		GroupValue(Answers{"dose": {NumberValue(1)}, "why": {TextValue("dold")}}),
	}}
	st := f.Evaluate(a, testNow)
	if !st.Shown("meds[0]/why") || st.Shown("meds[1]/why") {
		t.Errorf("per-instance visibility: %v", st.Visible)
	}
	var paths []string
	for _, e := range st.Errors {
		paths = append(paths, e.Path+" "+e.Code)
	}
	if d := cmp.Diff([]string{"meds[0]/why required", "meds[1]/name required"}, paths); d != "" {
		t.Errorf("errors:\n%s", d)
	}
	if errs := f.Validate(Answers{"takes": {BoolValue(true)}}, testNow); len(errs) != 1 || errs[0].Text != "Fyll i ”Läkemedel” minst en gång." {
		t.Errorf("required repeating group: %+v", errs)
	}
	a["meds"][0].Group["why"] = []Value{TextValue("ont")}
	a["meds"][1].Group["name"] = []Value{TextValue("Ipren")}
	got, err := f.Clean(a, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["meds"][1].Group["why"]; ok {
		t.Error("hidden answer inside an instance kept")
	}
	if _, err := f.Accept(a, testNow); !errors.Is(err, ErrHiddenAnswer) {
		t.Errorf("Accept should refuse meds[1]/why: %v", err)
	}
}

// TestPages_GroupsAndLooseItems: page groups are pages; loose top-level
// items between them form pages; a hidden page disappears.
func TestPages_GroupsAndLooseItems(t *testing.T) {
	f := &Form{ID: "p", Title: "Sidor", Items: []Item{
		{ID: "intro", Label: "Välkommen", Type: TypeDisplay},
		{ID: "p1", Label: "Sida 1", Type: TypeGroup, Page: true, Items: []Item{{ID: "child", Label: "Barn?", Type: TypeBoolean}}},
		{ID: "p2", Label: "Om barnet", Type: TypeGroup, Page: true, EnableWhen: []Condition{{"child", OpEquals, BoolValue(true)}},
			Items: []Item{{ID: "age", Label: "Ålder", Type: TypeNumber}}},
		{ID: "end", Label: "Tack", Type: TypeDisplay},
	}}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	titles := func(a Answers) []string {
		var out []string
		for _, p := range f.Evaluate(a, testNow).Pages {
			out = append(out, p.ID+":"+strings.Join(p.Items, ","))
		}
		return out
	}
	if d := cmp.Diff([]string{":intro", "p1:p1,child", ":end"}, titles(nil)); d != "" {
		t.Error(d)
	}
	if d := cmp.Diff([]string{":intro", "p1:p1,child", "p2:p2,age", ":end"}, titles(Answers{"child": {BoolValue(true)}})); d != "" {
		t.Error(d)
	}
}

// TestScore_GAD7: the GAD-7 total is the sum of the chosen options'
// ordinal values (0–21); items left out add nothing.
func TestScore_GAD7(t *testing.T) {
	f, _ := mustImport(t, "testdata/fhir/public/02-gad7.json")
	a := Answers{}
	var choices []*Item
	f.Walk(func(it, _ *Item) bool {
		if it.Type == TypeChoice {
			choices = append(choices, it)
		}
		return true
	})
	if len(choices) != 7 {
		t.Fatalf("%d choice items", len(choices))
	}
	for _, it := range choices {
		a[it.ID] = []Value{CodeValue(it.Options[3].Code)} // "Nearly every day" = 3
	}
	if st := f.Evaluate(a, testNow); st.Score != 21 || st.Scored != 7 || len(st.Errors) != 0 {
		t.Errorf("score %v (%d answers), errors %v", st.Score, st.Scored, st.Errors)
	}
	a[choices[0].ID] = []Value{CodeValue(choices[0].Options[1].Code)}
	delete(a, choices[1].ID)
	if st := f.Evaluate(a, testNow); st.Score != 16 || st.Scored != 6 {
		t.Errorf("score %v (%d)", st.Score, st.Scored)
	}
}

// TestScore_ScoreItemIsFilledOnClean: the score item is read-only and gets
// the calculated sum; a submitted different value is refused.
func TestScore_ScoreItemIsFilledOnClean(t *testing.T) {
	opts := []Option{{Code: "0", Score: Ptr(0.0)}, {Code: "1", Score: Ptr(1.0)}, {Code: "2", Score: Ptr(2.0)}}
	f := &Form{ID: "s", Title: "Skala", ScoreItem: "sum", Items: []Item{
		{ID: "q1", Label: "Fråga 1", Type: TypeChoice, Options: opts},
		{ID: "q2", Label: "Fråga 2", Type: TypeChoice, Options: opts},
		{ID: "sum", Label: "Summa", Type: TypeNumber, ReadOnly: true},
	}}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	got, err := f.Clean(Answers{"q1": {CodeValue("2")}, "q2": {CodeValue("1")}}, testNow)
	if err != nil || got["sum"][0].Number != 3 {
		t.Errorf("%v %v", got, err)
	}
	if _, err := f.Accept(Answers{"q1": {CodeValue("2")}, "sum": {NumberValue(99)}}, testNow); !errors.Is(err, ErrHiddenAnswer) {
		t.Errorf("a forged score should be refused: %v", err)
	}
	if _, err := f.Accept(Answers{"q1": {CodeValue("2")}, "sum": {NumberValue(2)}}, testNow); err != nil {
		t.Errorf("the right score is fine: %v", err)
	}
}

// TestInitialAnswers: initial values and initially selected options.
func TestInitialAnswers(t *testing.T) {
	f, _ := mustImport(t, "testdata/fhir/all-features.json")
	a := f.InitialAnswers()
	want := Answers{"namn": {TextValue("Fråga")}, "ja": {BoolValue(false)}, "kontakt": {CodeValue("Telefon")}}
	if d := cmp.Diff(want, a); d != "" {
		t.Error(d)
	}
	if inst := f.NewInstance("lakemedel"); len(inst.Group) != 0 {
		t.Errorf("instance: %v", inst)
	}
}

// FuzzEvaluate: any answers (as JSON) evaluate without panic; what Clean
// returns contains only visible items and passes Accept unchanged.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(`{"takes":[{"bool":true}],"meds":[{"group":{"name":[{"text":"x"}],"dose":[{"number":3}],"why":[{"text":"y"}]}}]}`))
	f.Add([]byte(`{"smoking":[{"bool":true}],"howMuch":[{"number":5}],"since":[{"number":1990}],"quit":[{"bool":false}]}`))
	f.Add([]byte(`{"vikt":[{"number":101}],"besvar":[{"code":"feber"}],"lakemedel":[{"group":{"lm-dos":[{"number":9}]}}]}`))
	af, _ := mustImport(f, "testdata/fhir/all-features.json")
	forms := []*Form{repeatForm(), hiddenForm(), af, logicForm(Condition{"num", OpGreater, NumberValue(1)})}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Answers
		if err := jsonUnmarshal(data, &a); err != nil {
			return
		}
		for _, form := range forms {
			st := form.Evaluate(a, testNow)
			clean, err := form.Clean(a, testNow)
			if err != nil {
				if len(st.Errors) == 0 {
					t.Fatalf("Clean failed without Evaluate errors: %v", err)
				}
				continue
			}
			again, err := form.Accept(clean, testNow)
			if err != nil {
				t.Fatalf("Accept(Clean(a)) refused: %v\nclean: %v", err, clean)
			}
			if !cmp.Equal(clean, again) {
				t.Fatalf("Accept changed clean answers:\n%s", cmp.Diff(clean, again))
			}
		}
	})
}
