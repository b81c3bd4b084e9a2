package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Unsupported is one warning of ImportQuestionnaire, item by item:
// something in the file the form cannot represent, or a value of the wrong
// JSON type, that the import left out or changed (it says which) while
// importing the rest, so that nothing is dropped silently. The fhir-import
// command of the server lists every one with its linkId.
type Unsupported struct {
	// LinkID is the item's linkId; empty for the Questionnaire itself,
	// "(utan linkId)" for an item without a usable one.
	LinkID string `json:"linkId"`
	// What names the element or extension and what the import did, in
	// Swedish. It never holds an answer (a form definition has none).
	What string `json:"what"`
}

func (u Unsupported) String() string {
	if u.LinkID == "" {
		return "(formuläret): " + u.What
	}
	return quoteID(u.LinkID) + ": " + u.What
}

// MaxFHIRSize is the largest file ImportQuestionnaire and ImportResponse
// read; real questionnaires are far smaller.
const MaxFHIRSize = 8 << 20

// maxDepth bounds item nesting: deeper files are refused rather than
// walked recursively without end.
const maxDepth = 40

// ImportQuestionnaire reads a FHIR R4 Questionnaire (JSON) into a draft
// form. It supports items and their types, text, prefix, code, required,
// repeats, readOnly, maxLength, groups (itemControl "page" makes a page),
// answerOption (valueCoding, valueString, valueInteger, valueDate,
// valueTime; ordinalValue/itemWeight as score, optionPrefix,
// initialSelected), answerValueSet pointing at a contained ValueSet ("#id"
// or the contained ValueSet's canonical URL; its codes from
// expansion.contains, nested entries included, or from the concepts of
// compose.include minus compose.exclude, with ordinalValue/itemWeight as
// score), initial, enableWhen with every operator and enableBehavior, and
// the extensions itemControl, questionnaire-unit, minValue, maxValue,
// maxDecimalPlaces and this package's item-format.
//
// Everything else is a warning in the []Unsupported, naming the linkId,
// and the rest is imported (fhir_lenient.go has the rules):
//   - an answerValueSet that points outside the file cannot be fetched
//     offline: the item keeps the URL (Item.ValueSet) and takes any code;
//     the codes a contained ValueSet defines by rules (filter, a whole code
//     system) cannot be enumerated either: the enumerated ones are taken,
//     and with none the item keeps the ValueSet's URL, if it has one;
//   - a choice whose options cannot be known (none listed, a missing
//     contained ValueSet, all options of the wrong type, an
//     answerExpression) becomes a text question, never an empty choice;
//   - a value of the wrong JSON type in an item (a string for a boolean, a
//     number in quotes, an object for a list) costs that entry of
//     enableWhen, initial, answerOption, extension or code, or that element
//     (text, required, repeats…), or the item with its children when its
//     linkId or type is wrong; a condition on a dropped item is dropped;
//   - what Check would refuse although one item alone is at fault is
//     repaired: line breaks in one-line texts, a required display item,
//     duplicate option codes, initial values that are not valid answers,
//     conditions on an item without answers or on an option that is not
//     there;
//   - unknown elements and extensions, FHIRPath expressions.
//
// A Questionnaire without a title takes its name, made readable
// (readableName), or else a placeholder title. A file that is larger than
// MaxFHIRSize, not JSON, not a Questionnaire, nested too deep, has
// elements of the wrong JSON type outside the items, no item that decodes,
// an item without a type or of an unknown type, or whose items contradict
// each other (a linkId used twice, a condition on an item that is not
// there, a cycle) is refused with an error wrapping ErrFHIR (and
// ErrDefinition when Check failed).
func ImportQuestionnaire(data []byte) (*Form, []Unsupported, error) {
	if len(data) > MaxFHIRSize {
		return nil, nil, fmt.Errorf("import questionnaire: file larger than %d bytes: %w", MaxFHIRSize, ErrFHIR)
	}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("import questionnaire: not JSON: %v: %w", err, ErrFHIR)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("import questionnaire: data after the resource: %w", ErrFHIR)
	}
	root, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("import questionnaire: not a JSON object: %w", ErrFHIR)
	}
	if rt, _ := root["resourceType"].(string); rt != "Questionnaire" {
		return nil, nil, fmt.Errorf("import questionnaire: resourceType is %s, not Questionnaire: %w", quoteID(fmt.Sprint(root["resourceType"])), ErrFHIR)
	}
	if depth(raw, 0) > 3*maxDepth {
		return nil, nil, fmt.Errorf("import questionnaire: items nested too deep: %w", ErrFHIR)
	}
	im := &importer{valueSets: map[string]*valueSet{}, vsURL: map[string]string{}, pending: map[string][]pendingCond{}, dropped: map[string]bool{}}
	// A value of the wrong JSON type inside one item costs that item's
	// condition, initial value or option (or the item), with a warning
	// naming its linkId, not the whole file.
	if items, ok := root["item"].([]any); ok {
		root["item"] = im.sanitizeItems(items, "")
		if len(items) > 0 && len(root["item"].([]any)) == 0 {
			return nil, im.out, fmt.Errorf("import questionnaire: no item has values of the right JSON types: %w", ErrFHIR)
		}
		var err error
		if data, err = json.Marshal(root); err != nil {
			return nil, nil, fmt.Errorf("import questionnaire: %v: %w", err, ErrFHIR)
		}
	}
	var q fQuestionnaire
	if err := json.Unmarshal(data, &q); err != nil {
		return nil, nil, fmt.Errorf("import questionnaire: %v: %w", err, ErrFHIR)
	}
	title := im.importedTitle(q.Title, q.Name)
	f := &Form{ID: q.ID, Status: StatusDraft, Title: title, Description: q.Description, URL: q.URL, Name: q.Name}
	im.keys("", root, "resourceType", "id", "url", "version", "name", "title", "status", "description", "code", "item", "contained", "extension")
	if q.Version != "" {
		if n, err := strconv.Atoi(q.Version); err == nil && n > 0 {
			f.Version = n
		} else {
			im.note("", "version %s är inte ett versionsnummer här och tas inte med", quoteID(q.Version))
		}
	}
	if q.Status != "" && q.Status != "draft" {
		im.note("", "status %s tas inte med: en import blir alltid ett utkast", quoteID(q.Status))
	}
	f.Codes = codings(q.Code)
	im.codingKeys("", root["code"])
	for _, e := range q.Extension {
		im.unknownExt("", e)
	}
	im.contained(root["contained"])
	items, err := im.items(q.Item, list(root["item"]), 1, f)
	if err != nil {
		return nil, im.out, fmt.Errorf("import questionnaire: %w", err)
	}
	f.Items = items
	im.conditions(f)
	im.settle(f)
	if err := f.Check(); err != nil {
		return nil, im.out, fmt.Errorf("import questionnaire: %w: %w", ErrFHIR, err)
	}
	return f, im.out, nil
}

type pendingCond struct {
	w       []fEnableWhen
	generic []any
}

type importer struct {
	out []Unsupported
	// valueSets are the contained ValueSets by "#id"; vsURL maps the
	// canonical URL (also with "|version") of one to its "#id".
	valueSets map[string]*valueSet
	vsURL     map[string]string
	pending   map[string][]pendingCond
	// dropped holds the linkIds of the items left out for values of the
	// wrong JSON type (sanitizeItems), children included.
	dropped map[string]bool
}

func (im *importer) note(linkID, format string, args ...any) {
	im.out = append(im.out, Unsupported{LinkID: linkID, What: fmt.Sprintf(format, args...)})
}

// keys notes every element of m not in known.
func (im *importer) keys(linkID string, m any, known ...string) {
	mm, _ := m.(map[string]any)
	var unknown []string
	for k := range mm {
		found := false
		for _, x := range known {
			if k == x {
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		im.note(linkID, "elementet %s stöds inte och tas inte med", quoteID(k))
	}
}

func (im *importer) codingKeys(linkID string, codingList any) {
	for _, c := range list(codingList) {
		im.keys(linkID, c, "system", "code", "display")
	}
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func at(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

func field(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}

func depth(v any, d int) int {
	max := d
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			if n := depth(c, d+1); n > max {
				max = n
			}
			if max > 3*maxDepth {
				return max
			}
		}
	case []any:
		for _, c := range x {
			if n := depth(c, d+1); n > max {
				max = n
			}
			if max > 3*maxDepth {
				return max
			}
		}
	}
	return max
}

func codings(cs []fCoding) []Coding {
	if len(cs) == 0 {
		return nil
	}
	out := make([]Coding, len(cs))
	for i, c := range cs {
		out[i] = Coding(c)
	}
	return out
}

func (im *importer) items(fs []fItem, generic []any, level int, f *Form) ([]Item, error) {
	if level > maxDepth {
		return nil, fmt.Errorf("items nested deeper than %d levels: %w", maxDepth, ErrFHIR)
	}
	var out []Item
	for i, fi := range fs {
		var g any
		if i < len(generic) {
			g = generic[i]
		}
		it, err := im.item(fi, g, level, f)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

func (im *importer) item(fi fItem, g any, level int, f *Form) (Item, error) {
	id := fi.LinkID
	it := Item{ID: id, Label: fi.Text, Prefix: fi.Prefix, Required: fi.Required, Repeats: fi.Repeats, ReadOnly: fi.ReadOnly, Codes: codings(fi.Code)}
	im.keys(id, g, "linkId", "text", "type", "required", "repeats", "readOnly", "maxLength", "prefix", "code", "item",
		"answerOption", "answerValueSet", "initial", "enableWhen", "enableBehavior", "extension")
	im.codingKeys(id, field(g, "code"))
	format := ""
	for _, e := range fi.Extension {
		if e.URL == ExtItemFormat && e.ValueCode != nil {
			format = *e.ValueCode
		}
	}
	switch fi.Type {
	case "group":
		it.Type = TypeGroup
	case "display":
		it.Type = TypeDisplay
	case "boolean":
		it.Type = TypeBoolean
	case "decimal":
		it.Type = TypeNumber
	case "integer":
		it.Type = TypeNumber
		it.Decimals = Ptr(0)
	case "date":
		it.Type = TypeDate
	case "dateTime":
		it.Type = TypeDateTime
	case "time":
		it.Type = TypeTime
	case "string":
		switch format {
		case "personnummer":
			it.Type = TypePersonnummer
		case "phone":
			it.Type = TypePhone
		case "email":
			it.Type = TypeEmail
		default:
			it.Type = TypeText
		}
	case "text":
		it.Type = TypeLongText
	case "choice", "open-choice":
		it.Type = TypeChoice
		if fi.Repeats {
			it.Type = TypeMultiChoice
			it.Repeats = false
		}
		it.AllowOther = fi.Type == "open-choice"
	case "attachment":
		it.Type = TypeAttachment
	case "url", "reference", "quantity":
		it.Type = TypeText
		im.note(id, "typen %s stöds inte; frågan tas med som en textfråga", quoteID(fi.Type))
	case "":
		return it, fmt.Errorf("item %s has no type: %w", quoteID(id), ErrFHIR)
	default:
		return it, fmt.Errorf("item %s has the unknown type %s: %w", quoteID(id), quoteID(fi.Type), ErrFHIR)
	}
	if fi.Repeats && it.Type == TypeDisplay {
		it.Repeats = false
		im.note(id, "repeats på en informationstext saknar betydelse och tas inte med")
	}
	if fi.MaxLength != nil {
		if it.Type == TypeText || it.Type == TypeLongText {
			it.MaxLength = *fi.MaxLength
		} else {
			im.note(id, "maxLength gäller bara textfrågor och tas inte med")
		}
	}
	im.extensions(&it, fi.Extension, list(field(g, "extension")), f)
	// Options: listed here, or from a contained ValueSet.
	for j, o := range fi.AnswerOption {
		opt, ok := im.option(id, o, at(list(field(g, "answerOption")), j))
		if ok {
			it.Options = append(it.Options, opt)
		}
	}
	if len(fi.AnswerOption) > 0 && !it.Type.choice() {
		im.note(id, "svarsalternativ på en fråga av typen %s stöds inte och tas inte med", quoteID(fi.Type))
		it.Options = nil
	}
	if fi.AnswerValueSet != "" {
		if it.Type.choice() {
			im.answerValueSet(&it, fi.AnswerValueSet, len(fi.AnswerOption) > 0)
		} else {
			im.note(id, "answerValueSet på en fråga av typen %s tas inte med", quoteID(fi.Type))
		}
	}
	if it.Type.choice() {
		im.distinctOptions(&it)
	}
	if it.Type.choice() && len(it.Options) == 0 && it.ValueSet == "" {
		// Options the import cannot know (all of the wrong type, computed
		// by an answerExpression, in a missing ValueSet) do not make an
		// empty choice: the question is kept as a text question.
		if it.Type == TypeMultiChoice {
			it.Repeats = true
		}
		it.Type, it.AllowOther = TypeText, false
		im.note(id, "frågan av typen %s har inga svarsalternativ som kan läsas här; den tas med som textfråga", quoteID(fi.Type))
	}
	for j, v := range fi.Initial {
		im.keys(id, at(list(field(g, "initial")), j), "valueBoolean", "valueDecimal", "valueInteger", "valueDate", "valueDateTime", "valueTime", "valueString", "valueUri", "valueCoding")
		val, ok := valueFrom(&it, v)
		if !ok {
			im.note(id, "ett startvärde av fel typ för frågan tas inte med")
			continue
		}
		it.Initial = append(it.Initial, val)
	}
	switch fi.EnableBehavior {
	case "":
	case "all":
		it.EnableBehavior = All
	case "any":
		it.EnableBehavior = Any
	default:
		return it, fmt.Errorf("item %s: unknown enableBehavior %s: %w", quoteID(id), quoteID(fi.EnableBehavior), ErrFHIR)
	}
	if len(fi.EnableWhen) > 0 {
		im.pending[id] = append(im.pending[id], pendingCond{fi.EnableWhen, list(field(g, "enableWhen"))})
	}
	children, err := im.items(fi.Item, list(field(g, "item")), level+1, f)
	if err != nil {
		return it, err
	}
	// The SDC help convention: a display child "<linkId>-help" with
	// itemControl help is the item's help text.
	for j := 0; j < len(children); j++ {
		c := children[j]
		if c.ID == id+"-help" && c.Type == TypeDisplay && c.Control == "help" && len(c.Items) == 0 &&
			len(c.EnableWhen) == 0 && len(c.Codes) == 0 && c.Prefix == "" && it.Help == "" && len(im.pending[c.ID]) == 0 {
			it.Help = c.Label
			children = append(children[:j], children[j+1:]...)
			j--
		}
	}
	it.Items = children
	if it.Type == TypeGroup && len(it.Items) == 0 {
		im.note(id, "gruppen saknar frågor")
	}
	return it, nil
}

func (im *importer) extensions(it *Item, es []fExtension, generic []any, f *Form) {
	id := it.ID
	for _, e := range es {
		switch e.URL {
		case extItemControl:
			code := ""
			if e.ValueCodeableConcept != nil {
				for _, c := range e.ValueCodeableConcept.Coding {
					if c.Code != "" {
						code = c.Code
						break
					}
				}
			}
			switch {
			case code == "":
				im.note(id, "itemControl utan kod tas inte med")
			case code == "page" && it.Type == TypeGroup:
				it.Page = true
			default:
				it.Control = code
			}
		case extUnit:
			if e.ValueCoding != nil && it.Type == TypeNumber {
				u := Coding(*e.ValueCoding)
				it.Unit = &u
			} else {
				im.note(id, "enheten tas inte med (gäller bara talfrågor, som valueCoding)")
			}
		case extMinValue, extMaxValue:
			n := e.ValueDecimal
			if n == nil {
				n = e.ValueInteger
			}
			v, err := number(n)
			if it.Type != TypeNumber || err != nil {
				im.note(id, "%s tas inte med (stöds bara som tal på talfrågor)", lastPart(e.URL))
				continue
			}
			if e.URL == extMinValue {
				it.Min = &v
			} else {
				it.Max = &v
			}
		case extMaxDecimals:
			v, err := number(e.ValueInteger)
			if it.Type != TypeNumber || err != nil || v != float64(int(v)) || it.whole() {
				im.note(id, "maxDecimalPlaces tas inte med (stöds bara som heltal på decimalfrågor)")
				continue
			}
			d := int(v)
			it.Decimals = &d
		case ExtItemFormat:
			if e.ValueCode == nil || (it.Type != TypePersonnummer && it.Type != TypePhone && it.Type != TypeEmail) {
				im.note(id, "item-format gäller bara strängfrågor med personnummer, phone eller email")
			}
		case extCalculated:
			if e.ValueExpression != nil && it.Type == TypeNumber &&
				(e.ValueExpression.Expression == scoreExpression || e.ValueExpression.Expression == scoreExpression2) {
				f.ScoreItem = id
				it.ReadOnly = true
				continue
			}
			im.note(id, "det beräknade värdet (calculatedExpression i FHIRPath) räknas inte ut här; frågan tas med utan beräkning")
		default:
			im.unknownExt(id, e)
		}
	}
}

func (im *importer) unknownExt(id string, e fExtension) {
	if e.ValueExpression != nil && e.ValueExpression.Name != "" {
		im.note(id, "tillägget %s (uttrycket %s) stöds inte och tas inte med", quoteID(lastPart(e.URL)), quoteID(e.ValueExpression.Name))
		return
	}
	im.note(id, "tillägget %s stöds inte och tas inte med", quoteID(e.URL))
}

func lastPart(url string) string {
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		return url[i+1:]
	}
	return url
}

func number(n *json.Number) (float64, error) {
	if n == nil {
		return 0, errors.New("missing")
	}
	return n.Float64()
}

func (im *importer) option(id string, o fOption, g any) (Option, bool) {
	im.keys(id, g, "valueCoding", "valueString", "valueInteger", "valueDate", "valueTime", "initialSelected", "extension")
	opt := Option{Selected: o.InitialSelected}
	switch {
	case o.ValueCoding != nil:
		im.keys(id, field(g, "valueCoding"), "system", "code", "display")
		opt.Code, opt.Label, opt.System = o.ValueCoding.Code, o.ValueCoding.Display, o.ValueCoding.System
		if opt.Code == "" {
			im.note(id, "ett svarsalternativ utan kod (%s) tas inte med", quoteID(opt.Label))
			return opt, false
		}
	case o.ValueString != nil:
		opt.Kind, opt.Code = OptionString, *o.ValueString
	case o.ValueInteger != nil:
		n, err := o.ValueInteger.Int64()
		if err != nil {
			im.note(id, "ett svarsalternativ med ett ogiltigt heltal tas inte med")
			return opt, false
		}
		opt.Kind, opt.Code = OptionInteger, strconv.FormatInt(n, 10)
	case o.ValueDate != nil:
		opt.Kind, opt.Code = OptionDate, *o.ValueDate
	case o.ValueTime != nil:
		opt.Kind, opt.Code = OptionTime, *o.ValueTime
	default:
		im.note(id, "ett svarsalternativ av en typ som inte stöds (till exempel valueReference) tas inte med")
		return opt, false
	}
	for _, e := range o.Extension {
		switch e.URL {
		case extOrdinalValue, extItemWeight:
			n := e.ValueDecimal
			if n == nil {
				n = e.ValueInteger
			}
			v, err := number(n)
			if err != nil {
				im.note(id, "poängen för alternativet %s är inte ett tal och tas inte med", quoteID(opt.Code))
				continue
			}
			opt.Score = &v
		case extOptionPrefix:
			if e.ValueString != nil {
				opt.Prefix = *e.ValueString
			}
		default:
			im.note(id, "tillägget %s på alternativet %s stöds inte och tas inte med", quoteID(e.URL), quoteID(opt.Code))
		}
	}
	return opt, true
}

// valueFrom converts a FHIR value[x] to the Value of item it, or false when
// the value's type does not fit the item.
func valueFrom(it *Item, v fValue) (Value, bool) {
	str := func(p ...*string) (string, bool) {
		for _, s := range p {
			if s != nil {
				return *s, true
			}
		}
		return "", false
	}
	switch it.Type {
	case TypeBoolean:
		if v.ValueBoolean != nil {
			return BoolValue(*v.ValueBoolean), true
		}
	case TypeNumber:
		n := v.ValueDecimal
		if n == nil {
			n = v.ValueInteger
		}
		if f, err := number(n); err == nil {
			return NumberValue(f), true
		}
	case TypeDate:
		if s, ok := str(v.ValueDate); ok {
			return TextValue(s), true
		}
	case TypeDateTime:
		if s, ok := str(v.ValueDateTime); ok {
			return TextValue(s), true
		}
	case TypeTime:
		if s, ok := str(v.ValueTime); ok {
			return TextValue(s), true
		}
	case TypeText, TypeLongText, TypePersonnummer, TypePhone, TypeEmail:
		if s, ok := str(v.ValueString, v.ValueURI); ok {
			return TextValue(s), true
		}
	case TypeChoice, TypeMultiChoice:
		if v.ValueCoding != nil {
			return Value{Code: v.ValueCoding.Code, System: v.ValueCoding.System}, v.ValueCoding.Code != ""
		}
		var s string
		switch {
		case v.ValueInteger != nil:
			n, err := v.ValueInteger.Int64()
			if err != nil {
				return Value{}, false
			}
			s = strconv.FormatInt(n, 10)
		default:
			var ok bool
			if s, ok = str(v.ValueString, v.ValueDate, v.ValueTime); !ok {
				return Value{}, false
			}
		}
		if it.option(s) != nil || !it.AllowOther {
			return CodeValue(s), true
		}
		return TextValue(s), true
	case TypeAttachment:
		if a := v.ValueAttachment; a != nil {
			out := &Attachment{ID: strings.TrimPrefix(a.URL, attachmentURL), Name: a.Title, ContentType: a.ContentType}
			if a.Size != nil {
				out.Size, _ = a.Size.Int64()
			}
			return Value{Attachment: out}, true
		}
	}
	return Value{}, false
}

// conditions converts the enableWhen of every item now that all items are
// known (a condition may point forward).
func (im *importer) conditions(f *Form) {
	x := buildIndex(f)
	f.Walk(func(it, _ *Item) bool {
		pcs := im.pending[it.ID]
		if len(pcs) == 0 {
			return true
		}
		pc := pcs[0]
		im.pending[it.ID] = pcs[1:]
		for j, w := range pc.w {
			var g any
			if j < len(pc.generic) {
				g = pc.generic[j]
			}
			im.keys(it.ID, g, "question", "operator", "answerBoolean", "answerDecimal", "answerInteger", "answerDate",
				"answerDateTime", "answerTime", "answerString", "answerCoding")
			c, ok := im.condition(it, w, x)
			if ok {
				it.EnableWhen = append(it.EnableWhen, c)
			}
		}
		return true
	})
}

func (im *importer) condition(it *Item, w fEnableWhen, x *index) (Condition, bool) {
	c := Condition{Item: w.Question, Op: Operator(w.Operator)}
	if !c.Op.valid() {
		im.note(it.ID, "ett villkor med den okända jämförelsen %s tas inte med; frågan visas utan det villkoret", quoteID(w.Operator))
		return c, false
	}
	ref := x.byID[w.Question]
	if ref == nil && im.dropped[w.Question] {
		im.note(it.ID, "ett villkor på %s, som inte kunde importeras, tas inte med; frågan visas utan det villkoret", quoteID(w.Question))
		return c, false
	}
	if ref == nil {
		// Check reports the missing item and the import fails.
		return c, true
	}
	fail := func() (Condition, bool) {
		im.note(it.ID, "ett villkor på %s har ett svar av en typ som inte passar frågan (eller answerQuantity/answerReference) och tas inte med; frågan visas utan det villkoret", quoteID(w.Question))
		return c, false
	}
	if c.Op == OpExists {
		if w.AnswerBoolean == nil {
			return fail()
		}
		c.Value = BoolValue(*w.AnswerBoolean)
		return c, true
	}
	v := fValue{ValueBoolean: w.AnswerBoolean, ValueDecimal: w.AnswerDecimal, ValueInteger: w.AnswerInteger,
		ValueDate: w.AnswerDate, ValueDateTime: w.AnswerDateTime, ValueTime: w.AnswerTime, ValueString: w.AnswerString, ValueCoding: w.AnswerCoding}
	probe := *ref
	probe.AllowOther = true // a condition may compare with a text answer of an open choice
	val, ok := valueFrom(&probe, v)
	if !ok {
		return fail()
	}
	c.Value = val
	return c, true
}

// ExportQuestionnaire writes the form as a FHIR R4 Questionnaire (JSON).
// Every field ImportQuestionnaire supports is written so that importing
// the result gives the same form.
func ExportQuestionnaire(f *Form) ([]byte, error) {
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("export questionnaire %s: %w", quoteID(f.ID), err)
	}
	q := fQuestionnaire{ResourceType: "Questionnaire", ID: f.ID, URL: f.URL, Name: f.Name, Title: f.Title,
		Description: f.Description, Status: "draft"}
	if f.Status == StatusPublished {
		q.Status = "active"
	}
	if f.Version > 0 {
		q.Version = strconv.Itoa(f.Version)
	}
	for _, c := range f.Codes {
		q.Code = append(q.Code, fCoding(c))
	}
	x := buildIndex(f)
	ex := &exporter{f: f, x: x, contained: map[string]bool{}}
	q.Item = ex.items(f.Items)
	q.Contained = ex.vs
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(q); err != nil {
		return nil, fmt.Errorf("export questionnaire %s: %w", quoteID(f.ID), err)
	}
	return b.Bytes(), nil
}

type exporter struct {
	f         *Form
	x         *index
	vs        []json.RawMessage
	contained map[string]bool
}

func (ex *exporter) items(items []Item) []fItem {
	var out []fItem
	for i := range items {
		out = append(out, ex.item(&items[i]))
	}
	return out
}

func (ex *exporter) item(it *Item) fItem {
	fi := fItem{LinkID: it.ID, Prefix: it.Prefix, Text: it.Label, Required: it.Required, Repeats: it.Repeats, ReadOnly: it.ReadOnly}
	for _, c := range it.Codes {
		fi.Code = append(fi.Code, fCoding(c))
	}
	control := func(code string) {
		fi.Extension = append(fi.Extension, fExtension{URL: extItemControl, ValueCodeableConcept: &fConcept{Coding: []fCoding{{System: itemControlSys, Code: code}}}})
	}
	if it.Page {
		control("page")
	}
	if it.Control != "" {
		control(it.Control)
	}
	switch it.Type {
	case TypeGroup:
		fi.Type = "group"
	case TypeDisplay:
		fi.Type = "display"
	case TypeBoolean:
		fi.Type = "boolean"
	case TypeNumber:
		fi.Type = "decimal"
		if it.whole() {
			fi.Type = "integer"
		} else if it.Decimals != nil {
			fi.Extension = append(fi.Extension, fExtension{URL: extMaxDecimals, ValueInteger: jsonInt(int64(*it.Decimals))})
		}
		if it.Min != nil {
			fi.Extension = append(fi.Extension, numberExt(extMinValue, *it.Min, it.whole()))
		}
		if it.Max != nil {
			fi.Extension = append(fi.Extension, numberExt(extMaxValue, *it.Max, it.whole()))
		}
		if it.Unit != nil {
			u := fCoding(*it.Unit)
			fi.Extension = append(fi.Extension, fExtension{URL: extUnit, ValueCoding: &u})
		}
		if it.ID == ex.f.ScoreItem {
			fi.Extension = append(fi.Extension, fExtension{URL: extCalculated, ValueExpression: &fExpression{
				Description: "poängsumma", Language: "text/fhirpath", Expression: scoreExpression}})
		}
	case TypeDate:
		fi.Type = "date"
	case TypeDateTime:
		fi.Type = "dateTime"
	case TypeTime:
		fi.Type = "time"
	case TypeText:
		fi.Type = "string"
	case TypePersonnummer, TypePhone, TypeEmail:
		fi.Type = "string"
		code := string(it.Type)
		fi.Extension = append(fi.Extension, fExtension{URL: ExtItemFormat, ValueCode: &code})
	case TypeLongText:
		fi.Type = "text"
	case TypeChoice, TypeMultiChoice:
		fi.Type = "choice"
		if it.AllowOther {
			fi.Type = "open-choice"
		}
		fi.Repeats = it.Type == TypeMultiChoice || it.Repeats
	case TypeAttachment:
		fi.Type = "attachment"
	}
	if it.MaxLength > 0 {
		fi.MaxLength = Ptr(it.MaxLength)
	}
	if it.Type.choice() {
		switch {
		case strings.HasPrefix(it.ValueSet, "#") && !hasOptionExtras(it):
			fi.AnswerValueSet = it.ValueSet
			ex.valueSet(it)
		case it.ValueSet != "" && !strings.HasPrefix(it.ValueSet, "#"):
			fi.AnswerValueSet = it.ValueSet
			fi.AnswerOption = ex.options(it)
		default:
			fi.AnswerOption = ex.options(it)
		}
	}
	for _, v := range it.Initial {
		fi.Initial = append(fi.Initial, valueTo(it, v))
	}
	for _, c := range it.EnableWhen {
		fi.EnableWhen = append(fi.EnableWhen, ex.condition(c))
	}
	if it.EnableBehavior != "" && len(it.EnableWhen) > 0 {
		fi.EnableBehavior = string(it.EnableBehavior)
	}
	fi.Item = ex.items(it.Items)
	if it.Help != "" {
		fi.Item = append([]fItem{{LinkID: it.ID + "-help", Text: it.Help, Type: "display",
			Extension: []fExtension{{URL: extItemControl, ValueCodeableConcept: &fConcept{Coding: []fCoding{{System: itemControlSys, Code: "help"}}}}}}}, fi.Item...)
	}
	return fi
}

// hasOptionExtras: options carry what a ValueSet cannot (prefixes,
// initial selection, non-Coding kinds), so they are written as
// answerOption instead. A score can be written: ordinalValue on the
// ValueSet's code, as SDC does.
func hasOptionExtras(it *Item) bool {
	for _, o := range it.Options {
		if o.Prefix != "" || o.Selected || o.Kind != OptionCoding {
			return true
		}
	}
	return false
}

func (ex *exporter) valueSet(it *Item) {
	id := strings.TrimPrefix(it.ValueSet, "#")
	if ex.contained[id] {
		return
	}
	ex.contained[id] = true
	vs := fValueSet{ResourceType: "ValueSet", ID: id, Status: "active"}
	vs.Compose = &struct {
		Include []fInclude `json:"include"`
	}{}
	for _, o := range it.Options {
		inc := &vs.Compose.Include
		if len(*inc) == 0 || (*inc)[len(*inc)-1].System != o.System {
			*inc = append(*inc, fInclude{System: o.System})
		}
		last := &(*inc)[len(*inc)-1]
		c := fVSConcept{Code: o.Code, Display: o.Label}
		if o.Score != nil {
			c.Extension = []fExtension{{URL: extOrdinalValue, ValueDecimal: jsonFloat(*o.Score)}}
		}
		last.Concept = append(last.Concept, c)
	}
	b, _ := json.Marshal(vs)
	ex.vs = append(ex.vs, b)
}

func (ex *exporter) options(it *Item) []fOption {
	var out []fOption
	for _, o := range it.Options {
		fo := fOption{fValue: optionValue(o), InitialSelected: o.Selected}
		if o.Prefix != "" {
			p := o.Prefix
			fo.Extension = append(fo.Extension, fExtension{URL: extOptionPrefix, ValueString: &p})
		}
		if o.Score != nil {
			fo.Extension = append(fo.Extension, fExtension{URL: extOrdinalValue, ValueDecimal: jsonFloat(*o.Score)})
		}
		out = append(out, fo)
	}
	return out
}

func optionValue(o Option) fValue {
	code := o.Code
	switch o.Kind {
	case OptionString:
		return fValue{ValueString: &code}
	case OptionInteger:
		if n, err := strconv.ParseInt(code, 10, 64); err == nil {
			return fValue{ValueInteger: jsonInt(n)}
		}
		return fValue{ValueString: &code}
	case OptionDate:
		return fValue{ValueDate: &code}
	case OptionTime:
		return fValue{ValueTime: &code}
	}
	return fValue{ValueCoding: &fCoding{System: o.System, Code: o.Code, Display: o.Label}}
}

// valueTo writes v, an answer of it, as FHIR value[x].
func valueTo(it *Item, v Value) fValue {
	s := v.Text
	switch it.Type {
	case TypeBoolean:
		return fValue{ValueBoolean: Ptr(v.Bool)}
	case TypeNumber:
		if it.whole() && v.Number == float64(int64(v.Number)) {
			return fValue{ValueInteger: jsonInt(int64(v.Number))}
		}
		return fValue{ValueDecimal: jsonFloat(v.Number)}
	case TypeDate:
		return fValue{ValueDate: &s}
	case TypeDateTime:
		return fValue{ValueDateTime: &s}
	case TypeTime:
		return fValue{ValueTime: &s}
	case TypeChoice, TypeMultiChoice:
		if v.Code == "" {
			return fValue{ValueString: &s}
		}
		if o := it.option(v.Code); o != nil {
			return optionValue(*o)
		}
		return fValue{ValueCoding: &fCoding{System: v.System, Code: v.Code}}
	case TypeAttachment:
		if v.Attachment == nil {
			return fValue{}
		}
		a := &fAttachment{ContentType: v.Attachment.ContentType, URL: attachmentURL + v.Attachment.ID, Title: v.Attachment.Name}
		if v.Attachment.Size > 0 {
			a.Size = jsonInt(v.Attachment.Size)
		}
		return fValue{ValueAttachment: a}
	}
	return fValue{ValueString: &s}
}

func (ex *exporter) condition(c Condition) fEnableWhen {
	w := fEnableWhen{Question: c.Item, Operator: string(c.Op)}
	if c.Op == OpExists {
		w.AnswerBoolean = Ptr(c.Value.Bool)
		return w
	}
	ref := ex.x.byID[c.Item]
	if ref == nil {
		return w
	}
	v := valueTo(ref, c.Value)
	w.AnswerBoolean, w.AnswerDecimal, w.AnswerInteger = v.ValueBoolean, v.ValueDecimal, v.ValueInteger
	w.AnswerDate, w.AnswerDateTime, w.AnswerTime, w.AnswerString = v.ValueDate, v.ValueDateTime, v.ValueTime, v.ValueString
	w.AnswerCoding = v.ValueCoding
	if w.AnswerCoding != nil {
		// The condition's own system (empty: any), not the option's: the
		// two may differ, and the condition compares both.
		w.AnswerCoding = &fCoding{System: c.Value.System, Code: w.AnswerCoding.Code}
	}
	return w
}

func jsonInt(n int64) *json.Number {
	j := json.Number(strconv.FormatInt(n, 10))
	return &j
}

func jsonFloat(f float64) *json.Number {
	j := json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	return &j
}

func numberExt(url string, v float64, whole bool) fExtension {
	if whole && v == float64(int64(v)) {
		return fExtension{URL: url, ValueInteger: jsonInt(int64(v))}
	}
	return fExtension{URL: url, ValueDecimal: jsonFloat(v)}
}
