package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fhirFiles are the public questionnaires of the shared testdata plus this
// package's own file that uses every supported element.
func fhirFiles(t testing.TB) []string {
	t.Helper()
	shared, _ := filepath.Glob("testdata/fhir/public/*.json")
	own, _ := filepath.Glob("testdata/fhir/*.json")
	if len(shared) < 4 {
		t.Fatalf("expected the 4 public questionnaires in testdata/fhir/public (copied from ../shared/testdata/fhir), found %d", len(shared))
	}
	return append(shared, own...)
}

func mustImport(t testing.TB, path string) (*Form, []Unsupported) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, u, err := ImportQuestionnaire(b)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return f, u
}

// TestFHIR_RoundTripKeepsEverySupportedField: export(import(q)) has every
// supported element of q with the same meaning (compared on a normalised
// view of both JSON files), and importing the export again gives the same
// form with nothing new reported.
func TestFHIR_RoundTripKeepsEverySupportedField(t *testing.T) {
	for _, path := range fhirFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			orig, _ := os.ReadFile(path)
			f, unsup := mustImport(t, path)
			out, err := ExportQuestionnaire(f)
			if err != nil {
				t.Fatalf("export: %v", err)
			}
			if d := cmp.Diff(supportedView(t, orig), supportedView(t, out)); d != "" {
				t.Errorf("supported fields changed in the round trip (-original +export):\n%s", d)
			}
			g, unsup2, err := ImportQuestionnaire(out)
			if err != nil {
				t.Fatalf("re-import of the export: %v\n%s", err, out)
			}
			f.Status, g.Status = "", ""
			if d := cmp.Diff(f, g); d != "" {
				t.Errorf("import(export(f)) != f (-first +second):\n%s", d)
			}
			for _, u := range unsup2 {
				if !strings.Contains(u.What, "utan nätverk") {
					t.Errorf("the export holds something its own import does not support: %s", u)
				}
			}
			t.Logf("%d unsupported in the original", len(unsup))
		})
	}
}

// supportedView keeps the elements the import supports, with defaults
// filled in and contained ValueSets expanded into the items, so two files
// that mean the same compare equal.
func supportedView(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var q map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&q); err != nil {
		t.Fatal(err)
	}
	vs := map[string][]any{}
	for _, c := range list(q["contained"]) {
		id, _ := field(c, "id").(string)
		var opts []any
		concept := func(system, e any) {
			o := map[string]any{"value": "coding:" + str(system) + "|" + str(field(e, "code")), "display": str(field(e, "display")), "selected": false}
			for _, x := range list(field(e, "extension")) {
				if u := str(field(x, "url")); u == extOrdinalValue || u == extItemWeight {
					o["score"] = strings.Replace(valueView(x, "value"), "integer:", "decimal:", 1) // the export writes decimals
				}
			}
			opts = append(opts, o)
		}
		var expand func(cs []any)
		expand = func(cs []any) {
			for _, e := range cs {
				if field(e, "abstract") != true {
					concept(field(e, "system"), e)
				}
				expand(list(field(e, "contains")))
			}
		}
		expand(list(field(field(c, "expansion"), "contains")))
		if len(opts) == 0 {
			for _, inc := range list(field(field(c, "compose"), "include")) {
				for _, e := range list(field(inc, "concept")) {
					concept(field(inc, "system"), e)
				}
			}
			for _, exc := range list(field(field(c, "compose"), "exclude")) {
				for _, e := range list(field(exc, "concept")) {
					gone := "coding:" + str(field(exc, "system")) + "|" + str(field(e, "code"))
					opts = slices.DeleteFunc(opts, func(o any) bool { return field(o, "value") == gone })
				}
			}
		}
		vs["#"+id] = opts
		if url, _ := field(c, "url").(string); url != "" {
			vs[url] = opts
		}
	}
	v := map[string]any{}
	for _, k := range []string{"id", "url", "name", "title", "description", "version"} {
		v[k] = str(q[k])
	}
	if v["title"] == "" {
		v["title"] = readableName(str(q["name"])) // the import's title
	}
	v["code"] = codingView(q["code"])
	v["item"] = itemsView(list(q["item"]), vs)
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func codingView(v any) []string {
	var out []string
	for _, c := range list(v) {
		out = append(out, str(field(c, "system"))+"|"+str(field(c, "code"))+"|"+str(field(c, "display")))
	}
	return out
}

func num(v any) string {
	n, ok := v.(json.Number)
	if !ok {
		return str(v)
	}
	f, _ := n.Float64()
	return fmt.Sprint(f)
}

func valueView(m any, prefix string) string {
	mm, _ := m.(map[string]any)
	for k, x := range mm {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		kind := strings.TrimPrefix(k, prefix)
		switch kind {
		case "Coding":
			return "coding:" + str(field(x, "system")) + "|" + str(field(x, "code"))
		case "Decimal", "Integer":
			return strings.ToLower(kind) + ":" + num(x)
		}
		return strings.ToLower(kind) + ":" + str(x)
	}
	return ""
}

func itemsView(items []any, vs map[string][]any) []any {
	var out []any
	for _, it := range items {
		v := map[string]any{}
		for _, k := range []string{"linkId", "text", "type", "prefix", "answerValueSet", "enableBehavior"} {
			v[k] = str(field(it, k))
		}
		for _, k := range []string{"required", "repeats", "readOnly"} {
			v[k] = field(it, k) == true
		}
		v["maxLength"] = num(field(it, "maxLength"))
		v["code"] = codingView(field(it, "code"))
		ext := map[string]string{}
		for _, e := range list(field(it, "extension")) {
			switch url := str(field(e, "url")); url {
			case extItemControl:
				ext["control"] = str(field(at(list(field(field(e, "valueCodeableConcept"), "coding")), 0), "code"))
			case extUnit:
				ext["unit"] = codingView([]any{field(e, "valueCoding")})[0]
			case extMinValue, extMaxValue, extMaxDecimals:
				ext[lastPart(url)] = valueView(e, "value")
			case ExtItemFormat:
				ext["format"] = str(field(e, "valueCode"))
			case extCalculated:
				if x := str(field(field(e, "valueExpression"), "expression")); x == scoreExpression || x == scoreExpression2 {
					ext["score"] = "sum"
				}
			}
		}
		v["ext"] = ext
		var opts []any
		for _, o := range list(field(it, "answerOption")) {
			ov := map[string]any{"value": valueView(o, "value"), "display": str(field(field(o, "valueCoding"), "display")),
				"selected": field(o, "initialSelected") == true}
			for _, e := range list(field(o, "extension")) {
				switch str(field(e, "url")) {
				case extOrdinalValue, extItemWeight:
					ov["score"] = valueView(e, "value")
				case extOptionPrefix:
					ov["prefix"] = str(field(e, "valueString"))
				}
			}
			opts = append(opts, ov)
		}
		if ref := str(field(it, "answerValueSet")); vs[ref] != nil {
			opts = vs[ref] // "#id" or the canonical URL of a contained ValueSet
			v["answerValueSet"] = "(contained)"
		}
		v["options"] = opts
		var initial []string
		for _, i := range list(field(it, "initial")) {
			initial = append(initial, valueView(i, "value"))
		}
		v["initial"] = initial
		var when []string
		for _, w := range list(field(it, "enableWhen")) {
			when = append(when, str(field(w, "question"))+" "+str(field(w, "operator"))+" "+valueView(w, "answer"))
		}
		v["enableWhen"] = when
		if len(when) < 2 && v["enableBehavior"] == "all" {
			v["enableBehavior"] = "" // all is the default
		}
		v["item"] = itemsView(list(field(it, "item")), vs)
		out = append(out, v)
	}
	return out
}

// TestFHIR_ImportReportsWhatItCannotRepresent: the external ValueSets of
// the SDC test forms, FHIRPath variables and calculated expressions, and
// unknown elements are listed item by item; the import does not fail.
func TestFHIR_ImportReportsWhatItCannotRepresent(t *testing.T) {
	tests := []struct {
		file  string
		want  []string // "linkId: part of What"
		items int
	}{
		{"02-gad7.json", []string{`: elementet "meta"`, `: status "active"`}, 8},
		{"04-hunger-vital-sign.json", []string{`: elementet "subjectType"`, `: tillägget "variable" (uttrycket "worriedAnsCode")`, `/88124-3: det beräknade värdet`}, 3},
		{"09-sdc-all-data-types.json", []string{
			`id-choice: svarsalternativen finns i ValueSet "http://sqlonfhir-r4.azurewebsites.net/fhir/ValueSet/866d7924e20711d48c540020182939f7"`,
			`EF8E3936-3246-4B3E-A46C-9FDAA5ACB635: svarsalternativen finns i ValueSet`,
			`1acf93a7-0890-44cd-be48-542defb35248: elementet "definition"`,
			`9acf93a7-0890-44cd-be48-542defb35223: elementet "_text"`}, 16},
		{"10-sdc-repeatable-nested-groups.json", []string{`34b78239-1df2-49c5-a1ab-8f5691c7ede0: svarsalternativen finns i ValueSet`}, 7},
		{"all-features.json", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata/fhir/public", tt.file)
			if _, err := os.Stat(path); err != nil {
				path = filepath.Join("testdata/fhir", tt.file)
			}
			f, unsup := mustImport(t, path)
			var got []string
			for _, u := range unsup {
				got = append(got, u.LinkID+": "+u.What)
			}
			joined := strings.Join(got, "\n")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("unsupported list lacks %q; got:\n%s", w, joined)
				}
			}
			if tt.want == nil && len(got) > 0 {
				t.Errorf("nothing should be unsupported, got:\n%s", joined)
			}
			if tt.items > 0 {
				n := 0
				f.Walk(func(*Item, *Item) bool { n++; return true })
				if n != tt.items {
					t.Errorf("%d items imported, want %d", n, tt.items)
				}
			}
		})
	}
}

// TestFHIR_ImportMapsTypesAndRules checks the model the import builds from
// the all-features file: types, bounds, units, options from a contained
// ValueSet, help text, pages, repeating groups, score item and the
// conditions with every operator.
func TestFHIR_ImportMapsTypesAndRules(t *testing.T) {
	f, _ := mustImport(t, "testdata/fhir/all-features.json")
	if f.Version != 3 || f.ScoreItem != "summa" {
		t.Errorf("version %d score item %q", f.Version, f.ScoreItem)
	}
	types := map[string]Type{"pnr": TypePersonnummer, "tel": TypePhone, "epost": TypeEmail, "namn": TypeText,
		"beskrivning": TypeLongText, "vikt": TypeNumber, "alder": TypeNumber, "datum": TypeDate, "tid": TypeTime,
		"nar": TypeDateTime, "bilaga": TypeAttachment, "ja": TypeBoolean, "besvar": TypeMultiChoice,
		"kontakt": TypeChoice, "info": TypeDisplay, "lakemedel": TypeGroup, "sida1": TypeGroup}
	for id, want := range types {
		if it := f.Item(id); it == nil || it.Type != want {
			t.Errorf("item %s: got %+v, want type %s", id, it, want)
		}
	}
	vikt := f.Item("vikt")
	if *vikt.Min != 0.5 || *vikt.Max != 300 || *vikt.Decimals != 1 || vikt.Unit.Code != "kg" {
		t.Errorf("vikt: %+v", vikt)
	}
	if !f.Item("alder").whole() {
		t.Error("integer should become a whole number item")
	}
	if b := f.Item("besvar"); len(b.Options) != 3 || b.Options[1].Label != "Feber" || b.ValueSet != "#besvar" {
		t.Errorf("besvar options from contained ValueSet: %+v", b)
	}
	if k := f.Item("kontakt"); !k.AllowOther || !k.Options[0].Selected || k.Control != "radio-button" {
		t.Errorf("kontakt: %+v", k)
	}
	if n := f.Item("namn"); n.Help != "Skriv kort." || n.MaxLength != 80 || n.Prefix != "1." || len(n.Items) != 0 {
		t.Errorf("namn: %+v", n)
	}
	if !f.Item("sida1").Page || !f.Item("lakemedel").Repeats {
		t.Error("page or repeating group lost")
	}
	if s := f.Item("skala"); *s.Options[1].Score != 2.5 {
		t.Errorf("itemWeight score: %+v", s.Options[1])
	}
	ops := map[string]Operator{"eq": OpEquals, "ne": OpNotEquals, "gt": OpGreater, "lt": OpLess, "ge": OpGreaterEq, "le": OpLessEq, "ex": OpExists}
	for id, op := range ops {
		if it := f.Item(id); len(it.EnableWhen) != 1 || it.EnableWhen[0].Op != op {
			t.Errorf("%s: %+v", id, it.EnableWhen)
		}
	}
	if f.Item("any").EnableBehavior != Any || f.Item("all").EnableBehavior != All {
		t.Error("enableBehavior lost")
	}
}

// TestFHIR_BrokenFilesAreErrors: a broken file is refused with ErrFHIR,
// never half-imported.
func TestFHIR_BrokenFilesAreErrors(t *testing.T) {
	tests := []struct{ name, data string }{
		{"not JSON", `{"resourceType": "Questionnaire", `},
		{"not an object", `[1,2]`},
		{"another resource", `{"resourceType": "Patient"}`},
		{"the only item has a numeric linkId", `{"resourceType":"Questionnaire","title":"x","item":[{"linkId":5,"type":"string"}]}`},
		{"item is an object", `{"resourceType":"Questionnaire","title":"x","item":{"linkId":"a","type":"string"}}`},
		{"contained is an object", `{"resourceType":"Questionnaire","title":"x","contained":{},"item":[{"linkId":"a","type":"string"}]}`},
		{"title is a number", `{"resourceType":"Questionnaire","title":5,"item":[{"linkId":"a","type":"string"}]}`},
		{"control characters in a text", "{\"resourceType\":\"Questionnaire\",\"title\":\"x\",\"item\":[{\"linkId\":\"a\",\"text\":\"a\\u202eb\",\"type\":\"string\"}]}"},
		{"item without type", `{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a"}]}`},
		{"unknown type", `{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a","type":"question"}]}`},
		{"duplicate linkId", `{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a","type":"string"},{"linkId":"a","type":"boolean"}]}`},
		{"enableWhen to a missing item", `{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a","type":"string","enableWhen":[{"question":"zz","operator":"exists","answerBoolean":true}]}]}`},
		{"cycle", `{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a","type":"boolean","enableWhen":[{"question":"b","operator":"exists","answerBoolean":true}]},{"linkId":"b","type":"boolean","enableWhen":[{"question":"a","operator":"exists","answerBoolean":true}]}]}`},
		{"bad enableBehavior", `{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a","type":"string","enableBehavior":"some"}]}`},
		{"trailing data", `{"resourceType":"Questionnaire","title":"x"} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := ImportQuestionnaire([]byte(tt.data))
			if !errors.Is(err, ErrFHIR) || f != nil {
				t.Fatalf("got form %v, err %v; want ErrFHIR", f != nil, err)
			}
		})
	}
	_, _, err := ImportQuestionnaire([]byte(`{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a","type":"boolean","enableWhen":[{"question":"b","operator":"exists","answerBoolean":true}]},{"linkId":"b","type":"boolean","enableWhen":[{"question":"a","operator":"exists","answerBoolean":true}]}]}`))
	var de *DefinitionError
	if !errors.As(err, &de) || de.Problems[0].Code != "cycle" || !errors.Is(err, ErrDefinition) {
		t.Errorf("a cycle should be a definition error naming the item: %v", err)
	}
}

// TestFHIR_ResponseRoundTrip: a QuestionnaireResponse written from answers
// reads back to the same answers, nested groups and repeating groups
// included; hidden answers are not written.
func TestFHIR_ResponseRoundTrip(t *testing.T) {
	f, _ := mustImport(t, "testdata/fhir/all-features.json")
	a := Answers{
		"pnr":     {TextValue("20000101-2384")},
		"namn":    {TextValue("Fråga om recept")},
		"vikt":    {NumberValue(101.5)},
		"alder":   {NumberValue(12)},
		"datum":   {TextValue("2024-02-03")},
		"tid":     {TextValue("08:30:00")},
		"nar":     {TextValue("2024-02-03T08:30:00+01:00")},
		"ja":      {BoolValue(true)},
		"bilaga":  {{Attachment: &Attachment{ID: "att1", Name: "foto.jpg", ContentType: "image/jpeg", Size: 1234}}},
		"besvar":  {{Code: "feber", System: "urn:mottagning:besvar"}, {Code: "hosta", System: "urn:mottagning:besvar"}},
		"kontakt": {TextValue("Brevduva")},
		"antal":   {CodeValue("3")},
		"skala":   {CodeValue("dåligt")},
		"eq":      {TextValue("feber sedan i går")},
		"gt":      {TextValue("tung")},
		"lakemedel": {GroupValue(Answers{"lm-namn": {TextValue("Alvedon")}, "lm-dos": {NumberValue(3)}, "lm-mer": {TextValue("morgon och kväll")}}),
			GroupValue(Answers{"lm-namn": {TextValue("Ipren")}, "lm-dos": {NumberValue(1)}, "lm-mer": {TextValue("dold")}})},
	}
	b, err := ExportResponse(f, a)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("dold")) {
		t.Errorf("a hidden answer was exported:\n%s", b)
	}
	got, err := ImportResponse(f, b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	want := a.Clone()
	want["lakemedel"][1].Group = Answers{"lm-namn": {TextValue("Ipren")}, "lm-dos": {NumberValue(1)}}
	want["summa"] = []Value{NumberValue(2.5)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("response round trip (-want +got):\n%s\n%s", d, b)
	}
	if _, err := f.Accept(got, testNow); err != nil {
		t.Errorf("imported response not accepted: %v", err)
	}
	// A response with an item the form does not have is refused.
	bad := bytes.Replace(b, []byte(`"linkId": "namn"`), []byte(`"linkId": "okänd"`), 1)
	if _, err := ImportResponse(f, bad); !errors.Is(err, ErrFHIR) {
		t.Errorf("unknown linkId: %v", err)
	}
}

// FuzzImportQuestionnaire: any input either fails with ErrFHIR or gives a
// form that passes Check, exports, and imports back to the same form.
func FuzzImportQuestionnaire(f *testing.F) {
	for _, p := range fhirFiles(f) {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(`{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a","type":"integer"},{"linkId":"b","type":"string","enableWhen":[{"question":"a","operator":">","answerInteger":3}]}]}`))
	// Values of the wrong JSON type and ValueSets (issue 17).
	f.Add([]byte(`{"resourceType":"Questionnaire","name":"X","item":[{"linkId":"a","type":"integer","initial":[{"valueInteger":"3"}]},{"linkId":"b","type":"string","required":"ja","enableWhen":[{"question":"a","operator":">","answerInteger":"3"}]},{"linkId":"c","type":7,"item":[{"linkId":"d","type":"string"}]},{"linkId":"e","type":"string","enableWhen":[{"question":"d","operator":"exists","answerBoolean":true}]}]}`))
	f.Add([]byte(`{"resourceType":"Questionnaire","title":"x","contained":[{"resourceType":"ValueSet","id":"v","url":"u","compose":{"include":[{"system":"s","concept":[{"code":"a","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/ordinalValue","valueDecimal":1}]},{"code":"b"}]},{"system":"t","filter":[{}]}],"exclude":[{"system":"s","concept":[{"code":"b"}]}]}},{"resourceType":"ValueSet","id":"w","expansion":{"contains":[{"abstract":true,"contains":[{"code":"x"}]}]}}],"item":[{"linkId":"a","type":"choice","answerValueSet":"u"},{"linkId":"b","type":"choice","repeats":true,"answerValueSet":"#w"},{"linkId":"c","type":"open-choice","answerValueSet":"#saknas"},{"linkId":"d","type":"choice","answerValueSet":"http://example.org/vs"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		form, _, err := ImportQuestionnaire(data)
		if err != nil {
			if !errors.Is(err, ErrFHIR) {
				t.Fatalf("error without ErrFHIR: %v", err)
			}
			return
		}
		if err := form.Check(); err != nil {
			t.Fatalf("imported form fails Check: %v", err)
		}
		out, err := ExportQuestionnaire(form)
		if err != nil {
			return // e.g. a number that JSON cannot hold
		}
		again, _, err := ImportQuestionnaire(out)
		if err != nil {
			t.Fatalf("export does not import: %v\n%s", err, out)
		}
		form.Status, again.Status = "", ""
		if d := cmp.Diff(form, again); d != "" {
			t.Fatalf("import(export(f)) != f:\n%s", d)
		}
		_ = form.Evaluate(form.InitialAnswers(), testNow)
	})
}
