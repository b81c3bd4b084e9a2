package form

import (
	"bytes"
	"strings"
	"testing"
)

// importWarned imports a Questionnaire that must import, and returns its
// warnings joined per linkId.
func importWarned(t *testing.T, data string) (*Form, map[string]string) {
	t.Helper()
	f, warnings, err := ImportQuestionnaire([]byte(data))
	if err != nil {
		t.Fatalf("refused the whole file: %v", err)
	}
	warned := map[string]string{}
	for _, w := range warnings {
		warned[w.LinkID] += w.What + "\n"
	}
	return f, warned
}

// wantWarning fails unless the warnings of linkId hold every part.
func wantWarning(t *testing.T, warned map[string]string, linkID string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(warned[linkID], p) {
			t.Errorf("no warning for %q containing %q; warnings: %q", linkID, p, warned)
		}
	}
}

// A value of the wrong JSON type in one item is a warning naming its
// linkId and the element: that condition, initial value, option or element
// is dropped, or the item (with its children) when its linkId or type is
// wrong, and a condition on a dropped item goes with it; the rest is
// imported (issue 17, item 1).
func TestFHIR_WrongTypeInOneItemIsAWarning(t *testing.T) {
	data := `{"resourceType":"Questionnaire","title":"Rökvanor","item":[
		{"linkId":"roker","text":"Röker du?","type":"boolean"},
		{"linkId":"antal","text":"Hur många per dag?","type":"integer",
		 "enableWhen":[{"question":"roker","operator":"=","answerBoolean":"true"},
		               {"question":"roker","operator":"exists","answerBoolean":true}],
		 "enableBehavior":"any"},
		{"linkId":"ar","text":"Hur många år?","type":"integer",
		 "enableWhen":[{"question":"antal","operator":">","answerInteger":"3"}]},
		{"linkId":"start","text":"Startår","type":"integer","initial":[{"valueInteger":true}],"maxLength":"10"},
		{"linkId":"trasig","text":"Trasig","type":"string","required":"ja","repeats":1},
		{"linkId":"sort","text":"Vilken sort?","type":"choice","answerOption":[
			{"valueCoding":{"code":"cigg","display":"Cigaretter"}},
			{"valueCoding":{"code":2,"display":"Pipa"}},
			{"valueInteger":"3"},
			{"valueCoding":{"code":"cigarr","display":"Cigarr"},"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/ordinalValue","valueDecimal":"1"}]}]},
		{"linkId":"grupp","type":"group","item":[
			{"linkId":"snus","text":"Snusar du?","type":"choice","answerOption":[{"valueCoding":{"code":1}}]},
			{"linkId":"dosor","text":"Dosor per vecka","type":"integer","text":["inte","text"]},
			{"linkId":"utan-typ","text":"Utan typ","type":{"code":"string"},"item":[{"linkId":"barn","type":"string"}]},
			{"linkId":"fel-barn","text":"Fel barn","type":"group","item":{"linkId":"x"}},
			"inte ett item"]},
		{"linkId":"villkor-pa-borttagen","text":"Villkor på en borttagen fråga","type":"string",
		 "enableWhen":[{"question":"barn","operator":"exists","answerBoolean":true}]}]}`
	f, warned := importWarned(t, data)
	wantWarning(t, warned, "antal", `enableWhen`, `"answerBoolean" (en sträng)`, "frågan visas utan det villkoret")
	wantWarning(t, warned, "ar", `enableWhen`, `"answerInteger" (en sträng)`)
	wantWarning(t, warned, "start", `initial`, `"valueInteger" (true/false)`, `maxLength har fel JSON-typ (en sträng)`)
	wantWarning(t, warned, "trasig", `required har fel JSON-typ (en sträng)`, "inte obligatorisk", `repeats har fel JSON-typ (ett tal)`)
	wantWarning(t, warned, "sort", `"valueCoding.code" (ett tal)`, `"valueInteger" (en sträng)`, `"extension[0].valueDecimal" (en sträng)`)
	wantWarning(t, warned, "snus", `"valueCoding.code" (ett tal)`, "tas med som textfråga")
	wantWarning(t, warned, "dosor", `frågetexten (text) har fel JSON-typ (en lista)`)
	wantWarning(t, warned, "utan-typ", `fältet har fel JSON-typ i "type" (ett objekt)`, "underfält")
	wantWarning(t, warned, "fel-barn", `underfälten (item) är ett objekt`)
	wantWarning(t, warned, "grupp", `är en sträng, inte ett JSON-objekt`)
	wantWarning(t, warned, "villkor-pa-borttagen", `ett villkor på "barn", som inte kunde importeras`)

	if it := f.Item("antal"); it == nil || len(it.EnableWhen) != 1 || it.EnableWhen[0].Op != OpExists {
		t.Errorf("antal: %+v; want it kept with its good condition only", it)
	}
	if it := f.Item("ar"); it == nil || len(it.EnableWhen) != 0 {
		t.Errorf("ar: %+v; want it kept without its condition", it)
	}
	if it := f.Item("start"); it == nil || it.Initial != nil {
		t.Errorf("start: %+v; want it kept without its initial value", it)
	}
	if it := f.Item("trasig"); it == nil || it.Required || it.Repeats {
		t.Errorf("trasig: %+v; want it kept, neither required nor repeating", it)
	}
	if it := f.Item("sort"); it == nil || len(it.Options) != 1 || it.Options[0].Code != "cigg" {
		t.Errorf("sort: %+v; want only the good option", it)
	}
	if it := f.Item("snus"); it == nil || it.Type != TypeText {
		t.Errorf("snus: %+v; want a text question (no option could be read)", it)
	}
	if it := f.Item("dosor"); it == nil || it.Label != "" || it.Type != TypeNumber {
		t.Errorf("dosor: %+v; want it kept without its text", it)
	}
	if f.Item("utan-typ") != nil || f.Item("barn") != nil {
		t.Error("an item whose type has the wrong JSON type, or its child, was kept")
	}
	if it := f.Item("fel-barn"); it == nil || len(it.Items) != 0 {
		t.Errorf("fel-barn: %+v", it)
	}
	if it := f.Item("villkor-pa-borttagen"); it == nil || len(it.EnableWhen) != 0 {
		t.Errorf("villkor-pa-borttagen: %+v", it)
	}
	if f.Item("roker") == nil {
		t.Error("an item with good values was lost")
	}
	for id, w := range warned {
		if id == "" {
			t.Errorf("a warning about an item names no item: %q", w)
		}
	}
}

// A Questionnaire with a name and no title gets its name, made readable,
// as the title; with neither it gets a placeholder; the import says so.
func TestFHIR_NameIsTheTitleWhenTitleIsMissing(t *testing.T) {
	tests := []struct{ title, name, want string }{
		{"", "PHQ9Questionnaire_short", "PHQ9 Questionnaire short"},
		{"", "QuestionnaireSdcProfileExampleHungerVitalSigns", "Questionnaire Sdc Profile Example Hunger Vital Signs"},
		{"", "hunger-vital_sign", "hunger vital sign"},
		{"", "SDCPHQ9", "SDCPHQ9"},
		{"", "Questionnaire for testing initial[x]", "Questionnaire for testing initial[x]"},
		{" ", "  Ett  namn ", "Ett namn"},
		{"", "", untitled},
		{"Titeln", "NamnetFinns", "Titeln"},
	}
	for _, tt := range tests {
		q := `{"resourceType":"Questionnaire","title":` + jsonString(tt.title) + `,"name":` + jsonString(tt.name) +
			`,"item":[{"linkId":"a","text":"Fråga","type":"string"}]}`
		f, warned := importWarned(t, q)
		if f.Title != tt.want || f.Name != tt.name {
			t.Errorf("title %q name %q: got title %q, name %q; want title %q", tt.title, tt.name, f.Title, f.Name, tt.want)
		}
		switch {
		case tt.title == "Titeln":
			if warned[""] != "" {
				t.Errorf("a title was there, yet: %q", warned[""])
			}
		case tt.name == "":
			wantWarning(t, warned, "", "saknar både titel och namn", untitled)
		default:
			wantWarning(t, warned, "", "titel saknas", tt.name)
		}
	}
}

func jsonString(s string) string {
	b := marshal(s)
	return string(b)
}

// answerValueSet: a contained ValueSet gives the options (by "#id" or by
// its canonical URL; expansion, nested and abstract entries included, or
// compose minus exclude, with scores); what the import cannot enumerate is
// a warning naming the linkId and the ValueSet, and an item whose options
// it cannot know is never an empty choice (issue 17, item 1).
func TestFHIR_AnswerValueSet(t *testing.T) {
	const ord = `"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/ordinalValue","valueDecimal":2}]`
	tests := []struct {
		name      string
		contained string
		item      string // the item "q", of type choice unless it says otherwise
		valueSet  string // wanted Item.ValueSet
		codes     string // wanted option codes (system|code), space separated
		typ       Type
		warn      []string
	}{
		{name: "expansion with nested and abstract entries",
			contained: `{"resourceType":"ValueSet","id":"vs","expansion":{"contains":[
				{"abstract":true,"display":"Rubrik","contains":[{"system":"s1","code":"a","display":"A"},{"system":"s1","code":"b"}]},
				{"system":"s2","code":"c","display":"C","contains":[{"system":"s2","code":"d"}]}]}}`,
			item: `"answerValueSet":"#vs"`, valueSet: "#vs", codes: "s1|a s1|b s2|c s2|d", typ: TypeChoice},
		{name: "compose with a system per include, minus exclude, with scores",
			contained: `{"resourceType":"ValueSet","id":"vs","compose":{
				"include":[{"system":"s1","concept":[{"code":"a","display":"A"},{"code":"b",` + ord + `}]},{"system":"s2","concept":[{"code":"c"}]}],
				"exclude":[{"system":"s1","concept":[{"code":"a"}]}]}}`,
			item: `"answerValueSet":"#vs","repeats":true`, valueSet: "#vs", codes: "s1|b s2|c", typ: TypeMultiChoice},
		{name: "expansion wins over compose",
			contained: `{"resourceType":"ValueSet","id":"vs","compose":{"include":[{"system":"s1","concept":[{"code":"a"}]}]},
				"expansion":{"contains":[{"system":"s1","code":"b"}]}}`,
			item: `"answerValueSet":"#vs"`, valueSet: "#vs", codes: "s1|b", typ: TypeChoice},
		{name: "the canonical URL of a contained ValueSet",
			contained: `{"resourceType":"ValueSet","id":"vs","url":"http://example.org/vs","version":"2","compose":{"include":[{"system":"s1","concept":[{"code":"a"}]}]}}`,
			item:      `"answerValueSet":"http://example.org/vs|2"`, valueSet: "#vs", codes: "s1|a", typ: TypeChoice},
		{name: "rules that cannot be enumerated beside codes that can",
			contained: `{"resourceType":"ValueSet","id":"vs","compose":{"include":[{"system":"s1","concept":[{"code":"a"}]},
				{"system":"http://snomed.info/sct","filter":[{"property":"concept","op":"is-a","value":"404684003"}]}]}}`,
			item: `"answerValueSet":"#vs"`, valueSet: "#vs", codes: "s1|a", typ: TypeChoice,
			warn: []string{`ValueSet "vs" anger koder med regler (filter)`, "bara de uppräknade koderna"}},
		{name: "only rules, with a canonical URL: kept as a reference",
			contained: `{"resourceType":"ValueSet","id":"vs","url":"http://example.org/vs","compose":{"include":[{"system":"http://loinc.org"}]}}`,
			item:      `"answerValueSet":"#vs"`, valueSet: "http://example.org/vs", typ: TypeChoice,
			warn: []string{`ValueSet "vs" anger inga koder som kan räknas upp här (hela kodsystem)`, `"http://example.org/vs"`, "vilken kod som helst"}},
		{name: "only rules, no URL: a text question",
			contained: `{"resourceType":"ValueSet","id":"vs","compose":{"include":[{"valueSet":["http://example.org/other"]}]}}`,
			item:      `"answerValueSet":"#vs"`, typ: TypeText,
			warn: []string{`ValueSet "vs" anger inga koder`, "tas med som textfråga"}},
		{name: "a missing contained ValueSet",
			item: `"answerValueSet":"#finns-inte"`, typ: TypeText,
			warn: []string{`den inbäddade ValueSet "#finns-inte"`, "finns inte i filen", "tas med som textfråga"}},
		{name: "an external ValueSet: the reference is kept",
			item: `"answerValueSet":"http://hl7.org/fhir/ValueSet/administrative-gender"`, valueSet: "http://hl7.org/fhir/ValueSet/administrative-gender", typ: TypeChoice,
			warn: []string{`"http://hl7.org/fhir/ValueSet/administrative-gender"`, "inte kan hämtas utan nätverk", "vilken kod som helst"}},
		{name: "an external ValueSet beside answerOption",
			item:     `"answerValueSet":"http://example.org/vs","answerOption":[{"valueCoding":{"system":"s1","code":"a"}}]`,
			valueSet: "http://example.org/vs", codes: "s1|a", typ: TypeChoice,
			warn: []string{`"http://example.org/vs" kan inte hämtas utan nätverk; svarsalternativen i answerOption används`}},
		{name: "a contained ValueSet beside answerOption: answerOption wins",
			contained: `{"resourceType":"ValueSet","id":"vs","compose":{"include":[{"system":"s1","concept":[{"code":"b"}]}]}}`,
			item:      `"answerValueSet":"#vs","answerOption":[{"valueCoding":{"system":"s1","code":"a"}}]`, codes: "s1|a", typ: TypeChoice,
			warn: []string{`både answerOption och answerValueSet "#vs"`}},
		{name: "codes of the wrong type are left out",
			contained: `{"resourceType":"ValueSet","id":"vs","compose":{"include":[{"system":"s1","concept":[{"code":"a"},{"code":7},{"code":"c","display":false},
				{"code":"d","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/ordinalValue","valueDecimal":"x"}]}]}]}}`,
			item: `"answerValueSet":"#vs"`, valueSet: "#vs", codes: "s1|a", typ: TypeChoice,
			warn: []string{`ValueSet "vs": 3 koder har värden av fel typ`}},
		{name: "one code in two systems: the first is kept",
			contained: `{"resourceType":"ValueSet","id":"vs","compose":{"include":[{"system":"s1","concept":[{"code":"a"}]},{"system":"s2","concept":[{"code":"a"},{"code":"b"}]}]}}`,
			item:      `"answerValueSet":"#vs"`, valueSet: "#vs", codes: "s1|a s2|b", typ: TypeChoice,
			warn: []string{`svarsalternativet "a" finns flera gånger`}},
		{name: "a ValueSet on a question that is not a choice",
			contained: `{"resourceType":"ValueSet","id":"vs","compose":{"include":[{"system":"s1","concept":[{"code":"a"}]}]}}`,
			item:      `"answerValueSet":"#vs","type":"string"`, typ: TypeText,
			warn: []string{`answerValueSet på en fråga av typen "string"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := `{"linkId":"q","text":"Fråga","type":"choice",` + tt.item + `}`
			if strings.Contains(tt.item, `"type"`) {
				item = `{"linkId":"q","text":"Fråga",` + tt.item + `}`
			}
			q := `{"resourceType":"Questionnaire","title":"T","contained":[` + tt.contained + `],"item":[` + item + `]}`
			if tt.contained == "" {
				q = `{"resourceType":"Questionnaire","title":"T","item":[` + item + `]}`
			}
			f, warned := importWarned(t, q)
			it := f.Item("q")
			var codes []string
			for _, o := range it.Options {
				codes = append(codes, o.System+"|"+o.Code)
			}
			if got := strings.Join(codes, " "); got != tt.codes || it.ValueSet != tt.valueSet || it.Type != tt.typ {
				t.Errorf("got type %s, value set %q, options %q; want %s, %q, %q", it.Type, it.ValueSet, got, tt.typ, tt.valueSet, tt.codes)
			}
			wantWarning(t, warned, "q", tt.warn...)
			if tt.warn == nil && warned["q"] != "" {
				t.Errorf("unexpected warnings: %q", warned["q"])
			}
			if strings.Contains(tt.name, "scores") && (it.Options[0].Score == nil || *it.Options[0].Score != 2) {
				t.Errorf("the score of a ValueSet code was lost: %+v", it.Options[0])
			}
			// Whatever the import made of it exports and imports back the same.
			out, err := ExportQuestionnaire(f)
			if err != nil {
				t.Fatal(err)
			}
			g, _, err := ImportQuestionnaire(out)
			if err != nil {
				t.Fatalf("re-import: %v\n%s", err, out)
			}
			if gi := g.Item("q"); gi.ValueSet != it.ValueSet || len(gi.Options) != len(it.Options) || gi.Type != it.Type {
				t.Errorf("round trip changed the item: %+v → %+v", it, gi)
			}
		})
	}
}

// The export writes the options of a contained ValueSet back as one,
// scores as ordinalValue on its codes, so a scored instrument stays a
// ValueSet (and the import of that reads the same scores).
func TestFHIR_ExportWritesScoresInTheContainedValueSet(t *testing.T) {
	f, _ := mustImport(t, "testdata/fhir/valuesets.json")
	if o := f.Item("oro").Options[3]; o.Score == nil || *o.Score != 3 || f.Item("oro").ValueSet != "#skala" {
		t.Fatalf("oro: %+v", f.Item("oro"))
	}
	out, err := ExportQuestionnaire(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"answerValueSet": "#skala"`)) || !bytes.Contains(out, []byte(extOrdinalValue)) || bytes.Contains(out, []byte(`"answerOption"`)) {
		t.Errorf("the scored ValueSet was not written as one:\n%s", out)
	}
	if bytes.Count(out, []byte(`"id": "skala"`)) != 1 {
		t.Errorf("the ValueSet two items share was not written once:\n%s", out)
	}
}

// What Check would refuse although one item alone is at fault is repaired
// with a warning naming the item; the file imports.
func TestFHIR_ImportRepairsWhatOneItemGetsWrong(t *testing.T) {
	data := `{"resourceType":"Questionnaire","title":"Två\nrader","item":[
		{"linkId":"val","text":"Välj\r\nett","type":"choice","answerOption":[
			{"valueCoding":{"code":"a","display":"A\tA"}},{"valueCoding":{"code":"b"}},{"valueCoding":{"system":"annat","code":"a"}}],
		 "initial":[{"valueCoding":{"code":"zz"}},{"valueCoding":{"code":"b"}}]},
		{"linkId":"info","text":"Läs detta","type":"display","required":true},
		{"linkId":"tal","text":"Tal","type":"integer","initial":[{"valueInteger":1},{"valueInteger":2}]},
		{"linkId":"grupp","text":"Grupp","type":"group","item":[{"linkId":"inne","text":"Inne","type":"string"}]},
		{"linkId":"villkor","text":"Villkor","type":"string","enableBehavior":"all","enableWhen":[
			{"question":"val","operator":"=","answerCoding":{"code":"finns-inte"}},
			{"question":"grupp","operator":"exists","answerBoolean":true},
			{"question":"val","operator":">","answerCoding":{"code":"a"}}]},
		{"linkId":"kvar","text":"Kvar","type":"string","enableWhen":[
			{"question":"val","operator":"=","answerCoding":{"code":"b"}},
			{"question":"val","operator":"=","answerCoding":{"code":"finns-inte"}}],"enableBehavior":"any"}]}`
	f, warned := importWarned(t, data)
	wantWarning(t, warned, "", "rubriken har radbrytningar")
	wantWarning(t, warned, "val", "frågetexten har radbrytningar", "texten för ett svarsalternativ har radbrytningar",
		`svarsalternativet "a" finns flera gånger`, "ett startvärde är inte ett giltigt svar")
	wantWarning(t, warned, "info", "kan inte vara obligatorisk")
	wantWarning(t, warned, "tal", "har 2 startvärden: bara det första")
	wantWarning(t, warned, "villkor", "svarsalternativ som inte finns", "som inte besvaras", "Villkoret tas inte med")
	wantWarning(t, warned, "kvar", "svarsalternativ som inte finns")
	if f.Title != "Två rader" {
		t.Errorf("title %q", f.Title)
	}
	v := f.Item("val")
	if v.Label != "Välj ett" || v.Options[0].Label != "A A" || len(v.Options) != 2 || len(v.Initial) != 1 || v.Initial[0].Code != "b" {
		t.Errorf("val: %+v", v)
	}
	if f.Item("info").Required || len(f.Item("tal").Initial) != 1 {
		t.Error("a required display item or a second initial value was kept")
	}
	if it := f.Item("villkor"); len(it.EnableWhen) != 0 || it.EnableBehavior != "" {
		t.Errorf("villkor: %+v", it)
	}
	if it := f.Item("kvar"); len(it.EnableWhen) != 1 || it.EnableWhen[0].Value.Code != "b" || it.EnableBehavior != Any {
		t.Errorf("kvar: %+v", it)
	}
}

// The PHQ-9 written in the shape NLM publishes it (testdata/fhir/written,
// sources in its SOURCES.md): a name and no title, the answers of nine
// questions from one contained ValueSet with LOINC codes and ordinalValue
// scores, the difficulty question's from a contained expansion, and its
// condition on the total with an answerInteger in quotes. It imports whole,
// with a warning for the condition naming the linkId, and the export keeps
// the shared ValueSet and the scores (issue 17, item 1).
func TestFHIR_PHQ9AsPublished(t *testing.T) {
	f, warnings := mustImport(t, "testdata/fhir/written/phq9.json")
	warned := map[string]string{}
	for _, w := range warnings {
		warned[w.LinkID] += w.What + "\n"
	}
	wantWarning(t, warned, "/44249-1/69722-7", "enableWhen", `"answerInteger" (en sträng)`, "visas utan det villkoret")
	wantWarning(t, warned, "", `namnet "PHQ9" används som rubrik`)
	wantWarning(t, warned, "/44249-1/44261-6", "calculatedExpression")
	if f.Title != "PHQ9" {
		t.Errorf("title %q", f.Title)
	}
	codes := []string{"44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"}
	for _, c := range codes {
		it := f.Item("/44249-1/" + c)
		if it == nil || it.Type != TypeChoice || !it.Required || it.ValueSet != "#phq-frequency" || len(it.Options) != 4 {
			t.Fatalf("%s: %+v", c, it)
		}
		for i, o := range it.Options {
			if o.Score == nil || *o.Score != float64(i) {
				t.Errorf("%s option %s: score %v, want %d", c, o.Code, o.Score, i)
			}
		}
		if it.Options[0].Code != "LA6568-5" || it.Options[3].Label != "Nearly every day" {
			t.Errorf("%s options: %+v", c, it.Options)
		}
	}
	d := f.Item("/44249-1/69722-7")
	if d == nil || len(d.Options) != 4 || d.Options[2].Code != "LA6575-0" || len(d.EnableWhen) != 0 {
		t.Fatalf("difficulty: %+v", d)
	}
	out, err := ExportQuestionnaire(f)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out, []byte(`"id": "phq-frequency"`)); n != 1 {
		t.Errorf("the ValueSet nine questions share is written %d times:\n%s", n, out)
	}
	g, _, err := ImportQuestionnaire(out)
	if err != nil {
		t.Fatalf("re-import: %v", err)
	}
	for _, c := range append(codes, "69722-7") {
		a, b := f.Item("/44249-1/"+c), g.Item("/44249-1/"+c)
		if b == nil || a.Label != b.Label || a.ValueSet != b.ValueSet || len(a.Options) != len(b.Options) {
			t.Errorf("round trip changed %s: %+v → %+v", c, a, b)
			continue
		}
		for i := range a.Options {
			if a.Options[i].Code != b.Options[i].Code || (a.Options[i].Score == nil) != (b.Options[i].Score == nil) ||
				a.Options[i].Score != nil && *a.Options[i].Score != *b.Options[i].Score {
				t.Errorf("round trip changed option %d of %s: %+v → %+v", i, c, a.Options[i], b.Options[i])
			}
		}
	}
}
