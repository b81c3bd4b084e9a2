package form

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// The lenient half of ImportQuestionnaire (issue 17): what real published
// questionnaires get wrong or leave out costs the item, or the element of
// the item, that is wrong, with a warning naming its linkId, never the
// whole file. A file that is not a Questionnaire, is not JSON, is too big
// or too deep, or whose items contradict each other (a linkId used twice,
// a condition on an item that is not there, a cycle) is still refused.

// itemLists are the list elements of an item whose entries are checked
// one by one against the typed model: an entry with a value of the wrong
// JSON type is dropped, the item and its other entries are kept.
var itemLists = []struct {
	key    string
	check  func(v any, quoted bool) (key, kind string)
	what   string // Swedish: the entry, for the warning
	effect string // Swedish: what the item does without it
}{
	{"enableWhen", wrongType[fEnableWhen], "ett villkor (enableWhen)", "; frågan visas utan det villkoret"},
	{"initial", wrongType[fValue], "ett startvärde (initial)", ""},
	{"answerOption", wrongType[fOption], "ett svarsalternativ (answerOption)", ""},
	{"extension", wrongType[fExtension], "ett tillägg (extension)", ""},
	{"code", wrongType[fCoding], "en kod (code)", ""},
}

// itemScalars are the elements of an item it can stand without: one of
// the wrong JSON type is dropped with a warning that says what the item
// becomes. An item whose linkId or type is of the wrong type is dropped:
// without them it is not a question.
var itemScalars = []struct{ key, what, effect string }{
	{"text", "frågetexten (text)", ""},
	{"prefix", "prefixet (prefix)", ""},
	{"required", "required", ": frågan blir inte obligatorisk"},
	{"repeats", "repeats", ": frågan (eller gruppen) upprepas inte"},
	{"readOnly", "readOnly", ""},
	{"maxLength", "maxLength", ""},
	{"enableBehavior", "enableBehavior", ": villkoren kombineras med och"},
	{"answerValueSet", "answerValueSet", ""},
}

// numberKeys hold a FHIR integer or decimal. encoding/json reads a string
// such as "3" into a json.Number without complaint; in FHIR JSON a number
// in quotes is a value of the wrong type like any other.
var numberKeys = map[string]bool{"answerInteger": true, "answerDecimal": true, "valueInteger": true, "valueDecimal": true}

func decodes[T any](b []byte) bool {
	var v T
	return json.Unmarshal(b, &v) == nil
}

// sanitizeItems checks each item against the typed model before the
// typed decode, so that one value of the wrong JSON type costs only what
// it belongs to: the entry of enableWhen, initial, answerOption, extension
// or code; the scalar element (itemScalars); or, when the item cannot
// stand without it (linkId, type), the item with its children, whose
// linkIds go to im.dropped. parent is the linkId of the enclosing item
// ("" at the top). Children are checked the same way.
func (im *importer) sanitizeItems(items []any, parent string) []any {
	out := make([]any, 0, len(items))
	for _, x := range items {
		m, ok := x.(map[string]any)
		if !ok {
			im.note(parent, "ett underfält (item) är %s, inte ett JSON-objekt, och tas inte med", jsonKind(x))
			continue
		}
		id, _ := m["linkId"].(string)
		for _, l := range itemLists {
			v, has := m[l.key]
			if !has || v == nil {
				continue
			}
			entries, isList := v.([]any)
			if !isList {
				delete(m, l.key)
				im.note(quoteLinkID(id), "%s är %s, inte en lista, och tas inte med%s", l.key, jsonKind(v), l.effect)
				continue
			}
			kept := entries[:0:0]
			for _, e := range entries {
				if key, kind := l.check(e, true); key != "" {
					im.note(quoteLinkID(id), "%s har fel JSON-typ i %s (%s) och tas inte med%s", l.what, quoteID(key), kind, l.effect)
					continue
				}
				kept = append(kept, e)
			}
			m[l.key] = kept
		}
		for _, s := range itemScalars {
			v, has := m[s.key]
			if !has || decodes[fItem](marshal(map[string]any{s.key: v})) {
				continue
			}
			delete(m, s.key)
			im.note(quoteLinkID(id), "%s har fel JSON-typ (%s) och tas inte med%s", s.what, jsonKind(v), s.effect)
		}
		if c, has := m["item"]; has && c != nil {
			if _, isList := c.([]any); !isList {
				delete(m, "item")
				im.note(quoteLinkID(id), "underfälten (item) är %s, inte en lista, och tas inte med", jsonKind(c))
			}
		}
		own := make(map[string]any, len(m))
		for k, v := range m {
			if k != "item" {
				own[k] = v
			}
		}
		if key, kind := wrongType[fItem](own, false); key != "" {
			im.note(quoteLinkID(id), "fältet har fel JSON-typ i %s (%s) och tas inte med, med eventuella underfält", quoteID(key), kind)
			im.drop(m)
			continue
		}
		if children, ok := m["item"].([]any); ok {
			m["item"] = im.sanitizeItems(children, id)
		}
		out = append(out, m)
	}
	return out
}

// drop records the linkIds of a dropped item and of its children, so that
// a condition on one of them is dropped with a warning instead of making
// the file fail as a condition on an item that is not there.
func (im *importer) drop(m any) {
	if id, ok := field(m, "linkId").(string); ok && id != "" {
		im.dropped[id] = true
	}
	for _, c := range list(field(m, "item")) {
		im.drop(c)
	}
}

// wrongType reports where v does not decode as a T (the path the
// decoder names, such as "valueCoding.code") and the JSON kind found
// there; "" when v fits. With quoted, a number in quotes in a FHIR integer
// or decimal (numberKeys, on v itself or in its extensions) is wrong too.
func wrongType[T any](v any, quoted bool) (key, kind string) {
	if m, ok := v.(map[string]any); ok && quoted {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if _, isString := m[k].(string); isString && numberKeys[k] {
				return k, jsonKind(m[k])
			}
		}
		if k, kind := quotedNumber(m); k != "" {
			return k, kind
		}
	}
	var t T
	err := json.Unmarshal(marshal(v), &t)
	if err == nil {
		return "", ""
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// The path runs through embedded structs by their Go names.
		key = strings.TrimPrefix(te.Field, "fValue.")
		if key == "" {
			key = "(hela värdet)"
		}
		return key, decoderKind(te.Value)
	}
	return "(hela värdet)", jsonKind(v)
}

// decoderKind is the JSON kind encoding/json names in an
// UnmarshalTypeError, in Swedish.
func decoderKind(v string) string {
	switch {
	case v == "string":
		return "en sträng"
	case v == "number" || strings.HasPrefix(v, "number "):
		return "ett tal"
	case v == "bool":
		return "true/false"
	case v == "object":
		return "ett objekt"
	case v == "array":
		return "en lista"
	}
	return v
}

// quotedNumber finds a number in quotes in the extensions inside v (an
// extension's extension); other unknown elements are not read, so they
// are not checked either.
func quotedNumber(v any) (key, kind string) {
	for i, e := range list(field(v, "extension")) {
		m, _ := e.(map[string]any)
		for k := range numberKeys {
			if _, quoted := m[k].(string); quoted {
				return fmt.Sprintf("extension[%d].%s", i, k), jsonKind(m[k])
			}
		}
		if k, kind := quotedNumber(e); k != "" {
			return fmt.Sprintf("extension[%d].%s", i, k), kind
		}
	}
	return "", ""
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("!") // never decodes
	}
	return b
}

// jsonKind names the JSON type of v for a warning.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "en sträng"
	case json.Number, float64:
		return "ett tal"
	case bool:
		return "true/false"
	case map[string]any:
		return "ett objekt"
	case []any:
		return "en lista"
	}
	return "okänd typ"
}

// quoteLinkID is the linkId of a warning; a missing or non-string one is
// named as such.
func quoteLinkID(id string) string {
	if id == "" {
		return "(utan linkId)"
	}
	return id
}

// importedTitle is the form's title: the Questionnaire's title; else its
// name, made readable (published questionnaires often have only the
// computer-friendly name: PHQ9Questionnaire, hunger_vital_sign); else a
// placeholder, so that a questionnaire without either still imports as a
// draft whose title the author then writes.
func (im *importer) importedTitle(title, name string) string {
	switch {
	case strings.TrimSpace(title) != "":
		return title
	case strings.TrimSpace(name) != "":
		t := readableName(name)
		im.note("", "titel saknas: namnet %s används som rubrik (%s)", quoteID(name), quoteID(t))
		return t
	}
	im.note("", "formuläret saknar både titel och namn: rubriken blir %s; skriv en rubrik innan formuläret publiceras", quoteID(untitled))
	return untitled
}

// untitled is the title of an imported questionnaire with neither title
// nor name.
const untitled = "Importerat formulär"

// readableName makes a FHIR name into a title. A name with a space is
// already text and is kept. A computer-friendly one (FHIR asks for
// [A-Z][A-Za-z0-9_]*) is split into words: underscores and hyphens become
// spaces and a word starts at an upper-case letter after a lower-case
// letter or a digit: "PHQ9Questionnaire" → "PHQ9 Questionnaire",
// "hunger_vital_sign" → "hunger vital sign". Nothing cleverer: the author
// edits the draft's title anyway.
func readableName(name string) string {
	name = strings.TrimSpace(name)
	if strings.ContainsRune(name, ' ') {
		return strings.Join(strings.Fields(name), " ")
	}
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-':
			b.WriteRune(' ')
			continue
		case i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])):
			b.WriteRune(' ')
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// valueSet is a contained ValueSet as far as the import can enumerate it.
type valueSet struct {
	id, url string
	opts    []Option
	// partial names, in Swedish, what the ValueSet defines by rules that
	// cannot be enumerated offline (filters, whole code systems, other
	// ValueSets); empty when opts is the whole ValueSet.
	partial []string
	// bad counts codes dropped for values of the wrong JSON type.
	bad int
}

// contained reads the contained ValueSets from the generic JSON, leniently:
// a code with a value of the wrong type is counted and left out. Their
// problems are reported at each item that uses them (answerValueSet).
// Other contained resources are reported and not imported.
func (im *importer) contained(generic any) {
	for _, c := range list(generic) {
		rt, _ := field(c, "resourceType").(string)
		id, _ := field(c, "id").(string)
		if rt != "ValueSet" || id == "" {
			im.note("", "den inbäddade resursen %s (%s) stöds inte och tas inte med", quoteID(fmt.Sprint(field(c, "id"))), quoteID(fmt.Sprint(field(c, "resourceType"))))
			continue
		}
		vs := &valueSet{id: id}
		vs.url, _ = field(c, "url").(string)
		if contains := list(field(field(c, "expansion"), "contains")); len(contains) > 0 {
			vs.expansion(contains, 0)
		} else {
			vs.compose(field(c, "compose"))
		}
		im.valueSets["#"+id] = vs
		if vs.url != "" {
			im.vsURL[vs.url] = "#" + id
			if v, _ := field(c, "version").(string); v != "" {
				im.vsURL[vs.url+"|"+v] = "#" + id
			}
		}
	}
}

// expansion reads expansion.contains, nested entries included; an abstract
// entry (a heading, not selectable) gives no option.
func (vs *valueSet) expansion(contains []any, depth int) {
	if depth > maxDepth {
		vs.partial = append(vs.partial, "för djupt nästlade koder")
		return
	}
	for _, e := range contains {
		if field(e, "abstract") != true && (field(e, "code") != nil || field(e, "contains") == nil) {
			system, ok := optString(field(e, "system"))
			if o, okc := vs.concept(e, system); okc && ok {
				vs.opts = append(vs.opts, o)
			} else {
				vs.bad++
			}
		}
		if nested := list(field(e, "contains")); len(nested) > 0 {
			vs.expansion(nested, depth+1)
		}
	}
}

// compose reads compose.include (enumerated concepts, with the include's
// system) minus compose.exclude (enumerated concepts).
func (vs *valueSet) compose(compose any) {
	rules := func(inc any) {
		if field(inc, "filter") != nil {
			vs.partial = append(vs.partial, "filter")
		}
		if field(inc, "valueSet") != nil {
			vs.partial = append(vs.partial, "andra ValueSets")
		}
		if field(inc, "concept") == nil && field(inc, "filter") == nil && field(inc, "valueSet") == nil {
			vs.partial = append(vs.partial, "hela kodsystem")
		}
	}
	for _, inc := range list(field(compose, "include")) {
		rules(inc)
		system, ok := optString(field(inc, "system"))
		for _, c := range list(field(inc, "concept")) {
			if o, okc := vs.concept(c, system); okc && ok {
				vs.opts = append(vs.opts, o)
			} else {
				vs.bad++
			}
		}
	}
	for _, exc := range list(field(compose, "exclude")) {
		if field(exc, "concept") == nil {
			vs.partial = append(vs.partial, "undantag med regler")
			continue
		}
		system, _ := field(exc, "system").(string)
		for _, c := range list(field(exc, "concept")) {
			code, _ := field(c, "code").(string)
			vs.opts = slices.DeleteFunc(vs.opts, func(o Option) bool { return o.Code == code && o.System == system })
		}
	}
	slices.Sort(vs.partial)
	vs.partial = slices.Compact(vs.partial)
}

// concept reads one code (of compose or expansion) with its score
// (ordinalValue or itemWeight), or false when a value has the wrong type
// or the code is missing.
func (vs *valueSet) concept(c any, system string) (Option, bool) {
	code, ok1 := field(c, "code").(string)
	display, ok2 := optString(field(c, "display"))
	if !ok1 || code == "" || !ok2 {
		return Option{}, false
	}
	o := Option{Code: code, Label: display, System: system}
	for _, e := range list(field(c, "extension")) {
		url, _ := field(e, "url").(string)
		if url != extOrdinalValue && url != extItemWeight {
			continue
		}
		n := field(e, "valueDecimal")
		if n == nil {
			n = field(e, "valueInteger")
		}
		num, ok := n.(json.Number)
		if !ok {
			return Option{}, false
		}
		f, err := num.Float64()
		if err != nil {
			return Option{}, false
		}
		o.Score = &f
	}
	return o, true
}

// optString is v as a string; a missing value is "", another type false.
func optString(v any) (string, bool) {
	if v == nil {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

// answerValueSet takes the options of choice item it from the ValueSet
// ref: a contained one ("#id", or the canonical URL of a contained one)
// gives its codes; an external one is kept as a reference (the form takes
// any code; the import says so). listed: the item also has answerOption
// (FHIR allows only one of the two), whose options win.
func (im *importer) answerValueSet(it *Item, ref string, listed bool) {
	id := it.ID
	key := ref
	if !strings.HasPrefix(ref, "#") {
		if k, ok := im.vsURL[ref]; ok {
			key = k
		}
	}
	vs := im.valueSets[key]
	switch {
	case listed && vs != nil:
		im.note(id, "frågan har både answerOption och answerValueSet %s; svarsalternativen i answerOption används", quoteID(ref))
	case listed && strings.HasPrefix(ref, "#"):
		im.note(id, "den inbäddade ValueSet %s finns inte i filen; svarsalternativen i answerOption används", quoteID(ref))
	case listed:
		it.ValueSet = ref
		im.note(id, "ValueSet %s kan inte hämtas utan nätverk; svarsalternativen i answerOption används", quoteID(ref))
	case vs == nil && strings.HasPrefix(ref, "#"):
		im.note(id, "den inbäddade ValueSet %s, som svarsalternativen ska komma från, finns inte i filen", quoteID(ref))
	case vs == nil:
		it.ValueSet = ref
		im.note(id, "svarsalternativen finns i ValueSet %s, som inte kan hämtas utan nätverk; frågan tar emot vilken kod som helst tills alternativen läggs in", quoteID(ref))
	default:
		if vs.bad > 0 {
			im.note(id, "ValueSet %s: %d koder har värden av fel typ och tas inte med", quoteID(vs.id), vs.bad)
		}
		switch {
		case len(vs.opts) > 0:
			it.ValueSet = "#" + vs.id
			it.Options = append([]Option(nil), vs.opts...)
			if len(vs.partial) > 0 {
				im.note(id, "ValueSet %s anger koder med regler (%s) som inte kan räknas upp här; bara de uppräknade koderna tas med", quoteID(vs.id), strings.Join(vs.partial, ", "))
			}
		case vs.url != "":
			it.ValueSet = vs.url
			im.note(id, "ValueSet %s anger inga koder som kan räknas upp här (%s); frågan tar emot vilken kod som helst ur %s, som inte kan hämtas utan nätverk", quoteID(vs.id), strings.Join(vs.partial, ", "), quoteID(vs.url))
		default:
			im.note(id, "ValueSet %s anger inga koder som kan räknas upp här", quoteID(vs.id))
		}
	}
}

// settle repairs, item by item with a warning, what would make Check
// refuse a form built from a published questionnaire although the item
// alone is at fault: line breaks in one-line texts, a required display
// item, duplicate option codes, initial values that are not valid
// answers, and conditions Check would refuse (on an item without
// answers, out of reach in a repeating group, an operator that does not
// fit, an option that is not there). What is left (a linkId used twice, a
// condition on a missing item, a cycle) is an inconsistent file and Check
// refuses it.
func (im *importer) settle(f *Form) {
	f.Title = im.oneLine("", "rubriken", f.Title)
	x := buildIndex(f)
	f.Walk(func(it, _ *Item) bool {
		it.Label = im.oneLine(it.ID, "frågetexten", it.Label)
		it.Prefix = im.oneLine(it.ID, "prefixet", it.Prefix)
		for i := range it.Options {
			it.Options[i].Label = im.oneLine(it.ID, "texten för ett svarsalternativ", it.Options[i].Label)
			it.Options[i].Prefix = im.oneLine(it.ID, "prefixet för ett svarsalternativ", it.Options[i].Prefix)
		}
		if it.Type == TypeDisplay && it.Required {
			it.Required = false
			im.note(it.ID, "en informationstext kan inte vara obligatorisk: required tas inte med")
		}
		if it.Type.answered() && len(it.Initial) > 0 {
			var keep []Value
			for _, v := range it.Initial {
				if code, _ := checkValue(it, v, time.Time{}, true); code != "" {
					im.note(it.ID, "ett startvärde är inte ett giltigt svar på frågan (till exempel ett alternativ som inte finns) och tas inte med")
					continue
				}
				keep = append(keep, v)
			}
			if len(keep) > 1 && !it.Repeats && it.Type != TypeMultiChoice {
				im.note(it.ID, "frågan tar ett svar men har %d startvärden: bara det första tas med", len(keep))
				keep = keep[:1]
			}
			it.Initial = keep
		}
		var keep []Condition
		for _, c := range it.EnableWhen {
			var why []string
			conditionProblems(x, it, c, func(code, format string, args ...any) {
				if code != "missing_reference" {
					why = append(why, fmt.Sprintf(format, args...))
				}
			})
			if len(why) > 0 {
				im.note(it.ID, "%s Villkoret tas inte med; frågan visas utan det.", strings.Join(why, " "))
				continue
			}
			keep = append(keep, c)
		}
		it.EnableWhen = keep
		if len(keep) == 0 {
			it.EnableBehavior = ""
		}
		return true
	})
}

// oneLine replaces the line breaks and tabs of a one-line text by spaces,
// with a warning. Other control characters are left for Check to refuse:
// they are not layout.
func (im *importer) oneLine(id, what, s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	im.note(id, "%s har radbrytningar, som blir mellanslag", what)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' || r == '\t' || r == ' ' }), " ")
}

// distinctOptions keeps the first option of each code: the form tells
// options apart by code alone, and published ValueSets do list one code
// twice (in two code systems, or by mistake).
func (im *importer) distinctOptions(it *Item) {
	seen := make(map[string]bool, len(it.Options))
	keep := it.Options[:0]
	for _, o := range it.Options {
		if seen[o.Code] {
			im.note(it.ID, "svarsalternativet %s finns flera gånger (till exempel i två kodsystem): bara det första tas med", quoteID(o.Code))
			continue
		}
		seen[o.Code] = true
		keep = append(keep, o)
	}
	it.Options = keep
}
