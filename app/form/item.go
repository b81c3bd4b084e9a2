package form

import (
	"strconv"
	"strings"
)

// Type is the kind of an item. The string values are stable storage codes.
type Type string

// The item types. Text-like answers (text, long text, date, date-time,
// time, personnummer, phone, e-mail) are carried in Value.Text, numbers in
// Value.Number, yes/no in Value.Bool, a chosen option in Value.Code, a file
// in Value.Attachment and a repeating group's instance in Value.Group.
const (
	TypeText         Type = "text"         // one line of text
	TypeLongText     Type = "longtext"     // several lines of text
	TypeNumber       Type = "number"       // min/max, decimals, unit
	TypeDate         Type = "date"         // ÅÅÅÅ-MM-DD
	TypeDateTime     Type = "datetime"     // ÅÅÅÅ-MM-DDTtt:mm (FHIR dateTime)
	TypeTime         Type = "time"         // tt:mm (FHIR time)
	TypeBoolean      Type = "boolean"      // ja/nej
	TypeChoice       Type = "choice"       // one of the options
	TypeMultiChoice  Type = "multichoice"  // any number of the options
	TypePersonnummer Type = "personnummer" // personnummer or samordningsnummer
	TypePhone        Type = "phone"        // a telephone number
	TypeEmail        Type = "email"        // an e-mail address
	TypeDisplay      Type = "display"      // information text; never answered
	TypeAttachment   Type = "attachment"   // a file the resident attaches
	TypeGroup        Type = "group"        // a group of items; a page when Page is set
)

// Types lists the item types in the order the builder offers them.
var Types = []Type{TypeText, TypeLongText, TypeNumber, TypeDate, TypeDateTime, TypeTime, TypeBoolean,
	TypeChoice, TypeMultiChoice, TypePersonnummer, TypePhone, TypeEmail, TypeDisplay, TypeAttachment, TypeGroup}

// Label is the Swedish name of the type, as the builder shows it.
func (t Type) Label() string {
	switch t {
	case TypeText:
		return "Text"
	case TypeLongText:
		return "Lång text"
	case TypeNumber:
		return "Tal"
	case TypeDate:
		return "Datum"
	case TypeDateTime:
		return "Datum och tid"
	case TypeTime:
		return "Klockslag"
	case TypeBoolean:
		return "Ja/nej"
	case TypeChoice:
		return "Enkelval"
	case TypeMultiChoice:
		return "Flerval"
	case TypePersonnummer:
		return "Personnummer"
	case TypePhone:
		return "Telefonnummer"
	case TypeEmail:
		return "E-postadress"
	case TypeDisplay:
		return "Informationstext"
	case TypeAttachment:
		return "Bilaga"
	case TypeGroup:
		return "Grupp"
	}
	return string(t)
}

func (t Type) valid() bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// answered reports whether items of this type hold answers of their own.
func (t Type) answered() bool { return t != TypeDisplay && t != TypeGroup }

// choice reports whether the type picks among options.
func (t Type) choice() bool { return t == TypeChoice || t == TypeMultiChoice }

// ordered reports whether answers of this type can be compared with > and <.
func (t Type) ordered() bool {
	switch t {
	case TypeNumber, TypeDate, TypeDateTime, TypeTime, TypeText, TypeLongText:
		return true
	}
	return false
}

// Default length limits for text answers when the item sets none: the
// server must not accept an unbounded text into a case.
const (
	DefaultMaxText     = 500
	DefaultMaxLongText = 10000
	// MaxValues caps the answers of one repeating item and the instances
	// of one repeating group.
	MaxValues = 100
)

// Form is one version of an e-service's questions.
type Form struct {
	// ID is the e-service's form id; it stays the same across versions.
	ID string `json:"id"`
	// Version counts from 1; 0 is a form that never was published.
	Version     int    `json:"version"`
	Status      Status `json:"status,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// URL and Name are the FHIR canonical URL and computer name, kept for
	// a round trip; the clinic's own forms leave them empty.
	URL   string   `json:"url,omitempty"`
	Name  string   `json:"name,omitempty"`
	Codes []Coding `json:"codes,omitempty"`
	Items []Item   `json:"items"`
	// ScoreItem is the id of a read-only number item that shows the
	// calculated score (State.Score); empty when the score is not shown.
	ScoreItem string `json:"scoreItem,omitempty"`
}

// Item is one question, information text or group.
type Item struct {
	// ID is stable across versions: submissions and logic refer to it.
	ID       string `json:"id"`
	Type     Type   `json:"type"`
	Label    string `json:"label"`
	Prefix   string `json:"prefix,omitempty"` // e.g. "1."
	Help     string `json:"help,omitempty"`
	Required bool   `json:"required,omitempty"`
	// Repeats: a question takes several answers; a group is a repeating
	// group whose instances are answered as Value.Group.
	Repeats  bool `json:"repeats,omitempty"`
	ReadOnly bool `json:"readOnly,omitempty"`
	// Page marks a top-level group as a page of its own.
	Page bool `json:"page,omitempty"`

	// Text items: 0 means DefaultMaxText / DefaultMaxLongText.
	MaxLength int `json:"maxLength,omitempty"`
	// Number items: bounds, decimals (nil: any; 0: whole numbers) and unit.
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Decimals *int     `json:"decimals,omitempty"`
	Unit     *Coding  `json:"unit,omitempty"`

	// Choice items.
	Options []Option `json:"options,omitempty"`
	// AllowOther accepts a free-text answer besides the options (FHIR
	// open-choice).
	AllowOther bool `json:"allowOther,omitempty"`
	// ValueSet is a FHIR answerValueSet: "#id" for a contained one (its
	// codes are in Options) or a canonical URL that cannot be expanded
	// offline (Options empty; any code is taken).
	ValueSet string `json:"valueSet,omitempty"`

	// Initial answers the form starts with.
	Initial []Value `json:"initial,omitempty"`

	// EnableWhen shows the item only when its conditions hold, combined
	// by EnableBehavior (all = and, any = or). A hidden item is never
	// submitted and hides its children.
	EnableWhen     []Condition `json:"enableWhen,omitempty"`
	EnableBehavior Behavior    `json:"enableBehavior,omitempty"`

	// Codes are terminology codes of the question (e.g. LOINC); Control
	// is a FHIR itemControl hint (drop-down, radio-button, help…).
	Codes   []Coding `json:"codes,omitempty"`
	Control string   `json:"control,omitempty"`

	Items []Item `json:"items,omitempty"`
}

// Coding is a code in a code system (FHIR Coding).
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Text is what a person reads: the display, else the code.
func (c Coding) Text() string {
	if c.Display != "" {
		return c.Display
	}
	return c.Code
}

// OptionKind is how an option is written in FHIR. The zero value is a
// Coding, which is what the builder makes.
type OptionKind string

// Option kinds (FHIR answerOption value[x]).
const (
	OptionCoding  OptionKind = ""
	OptionString  OptionKind = "string"
	OptionInteger OptionKind = "integer"
	OptionDate    OptionKind = "date"
	OptionTime    OptionKind = "time"
)

// Option is one answer of a choice item. Code identifies it within the
// item and is what a Value carries; Label is what the resident reads.
type Option struct {
	Code   string     `json:"code"`
	Label  string     `json:"label,omitempty"`
	System string     `json:"system,omitempty"`
	Kind   OptionKind `json:"kind,omitempty"`
	Prefix string     `json:"prefix,omitempty"`
	// Score is the option's points in a rating scale (FHIR ordinalValue
	// or itemWeight); nil when the option scores nothing.
	Score *float64 `json:"score,omitempty"`
	// Selected: the option is chosen from the start (FHIR initialSelected).
	Selected bool `json:"selected,omitempty"`
}

// Text is what the resident reads for the option.
func (o Option) Text() string {
	if o.Label != "" {
		return o.Label
	}
	return o.Code
}

// Behavior combines an item's conditions.
type Behavior string

// Behaviors (FHIR enableBehavior). The zero value means all.
const (
	All Behavior = "all" // and
	Any Behavior = "any" // or
)

// Operator compares the answer of the referenced item with Condition.Value.
type Operator string

// Operators, as in FHIR enableWhen.operator.
const (
	OpExists    Operator = "exists" // Value.Bool true: answered; false: not answered
	OpEquals    Operator = "="
	OpNotEquals Operator = "!="
	OpGreater   Operator = ">"
	OpLess      Operator = "<"
	OpGreaterEq Operator = ">="
	OpLessEq    Operator = "<="
)

// Operators lists the operators in the order the logic editor offers them.
var Operators = []Operator{OpEquals, OpNotEquals, OpExists, OpGreater, OpLess, OpGreaterEq, OpLessEq}

// Label is the Swedish text of the operator in the logic editor.
func (o Operator) Label() string {
	switch o {
	case OpExists:
		return "är besvarad"
	case OpEquals:
		return "är lika med"
	case OpNotEquals:
		return "är inte lika med"
	case OpGreater:
		return "är större än"
	case OpLess:
		return "är mindre än"
	case OpGreaterEq:
		return "är minst"
	case OpLessEq:
		return "är högst"
	}
	return string(o)
}

func (o Operator) valid() bool {
	for _, x := range Operators {
		if x == o {
			return true
		}
	}
	return false
}

// Condition is one rule of an item's visibility: the answer of Item
// compared by Op with Value.
//
// Semantics, for an item with several answers: = holds when some answer
// equals Value; != holds when the item is answered and no answer equals
// Value (an unanswered question does not show follow-ups meant for "not
// X"); >, <, >=, <= hold when some answer compares so; exists holds when
// the item has an answer (Value.Bool true) or has none (false). The answer
// of a hidden item does not count: a hidden item is unanswered.
type Condition struct {
	Item  string   `json:"item"`
	Op    Operator `json:"op"`
	Value Value    `json:"value"`
}

// Answers are a resident's answers, by item id. Items inside a
// non-repeating group or page are answered at the same level as the group
// (ids are unique in a form); a repeating group's answers are one Value
// per instance, each holding that instance's Answers in Value.Group.
type Answers map[string][]Value

// Value is one answer. Which field counts depends on the item's type (see
// Type); the others stay zero.
type Value struct {
	Text       string      `json:"text,omitempty"`
	Number     float64     `json:"number,omitempty"`
	Bool       bool        `json:"bool,omitempty"`
	Code       string      `json:"code,omitempty"`
	System     string      `json:"system,omitempty"`
	Attachment *Attachment `json:"attachment,omitempty"`
	Group      Answers     `json:"group,omitempty"`
}

// Attachment is a file answer: the file itself is stored apart, by ID.
type Attachment struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// TextValue, NumberValue, BoolValue, CodeValue and GroupValue make Values.
func TextValue(s string) Value { return Value{Text: s} }

// NumberValue is a number answer.
func NumberValue(f float64) Value { return Value{Number: f} }

// BoolValue is a yes/no answer.
func BoolValue(b bool) Value { return Value{Bool: b} }

// CodeValue is a chosen option.
func CodeValue(code string) Value { return Value{Code: code} }

// GroupValue is one instance of a repeating group.
func GroupValue(a Answers) Value { return Value{Group: a} }

// Clone returns a deep copy of the answers.
func (a Answers) Clone() Answers {
	if a == nil {
		return nil
	}
	out := make(Answers, len(a))
	for k, vs := range a {
		c := make([]Value, len(vs))
		for i, v := range vs {
			c[i] = v.clone()
		}
		out[k] = c
	}
	return out
}

func (v Value) clone() Value {
	if v.Attachment != nil {
		a := *v.Attachment
		v.Attachment = &a
	}
	v.Group = v.Group.Clone()
	return v
}

// Clone returns a deep copy of the form: a published version hands out
// copies so nobody can change it in place.
func (f *Form) Clone() *Form {
	if f == nil {
		return nil
	}
	c := *f
	c.Codes = append([]Coding(nil), f.Codes...)
	c.Items = cloneItems(f.Items)
	return &c
}

func cloneItems(items []Item) []Item {
	if items == nil {
		return nil
	}
	out := make([]Item, len(items))
	for i, it := range items {
		c := it
		c.Min, c.Max = clonePtr(it.Min), clonePtr(it.Max)
		c.Decimals = clonePtr(it.Decimals)
		c.Unit = clonePtr(it.Unit)
		if it.Options != nil {
			c.Options = make([]Option, len(it.Options))
			for j, o := range it.Options {
				o.Score = clonePtr(o.Score)
				c.Options[j] = o
			}
		}
		if it.Initial != nil {
			c.Initial = make([]Value, len(it.Initial))
			for j, v := range it.Initial {
				c.Initial[j] = v.clone()
			}
		}
		if it.EnableWhen != nil {
			c.EnableWhen = make([]Condition, len(it.EnableWhen))
			for j, w := range it.EnableWhen {
				w.Value = w.Value.clone()
				c.EnableWhen[j] = w
			}
		}
		c.Codes = append([]Coding(nil), it.Codes...)
		if it.Codes == nil {
			c.Codes = nil
		}
		c.Items = cloneItems(it.Items)
		out[i] = c
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Ptr returns a pointer to v, for Min, Max, Decimals and Score.
func Ptr[T any](v T) *T { return &v }

// Walk calls fn for every item of the form, depth first in document order,
// with the item's parent (nil at the top). It stops when fn returns false.
func (f *Form) Walk(fn func(it, parent *Item) bool) {
	walkItems(f.Items, nil, fn)
}

func walkItems(items []Item, parent *Item, fn func(it, parent *Item) bool) bool {
	for i := range items {
		if !fn(&items[i], parent) {
			return false
		}
		if !walkItems(items[i].Items, &items[i], fn) {
			return false
		}
	}
	return true
}

// Item returns the item with id, or nil.
func (f *Form) Item(id string) *Item {
	var found *Item
	f.Walk(func(it, _ *Item) bool {
		if it.ID == id {
			found = it
			return false
		}
		return true
	})
	return found
}

// name is how messages name an item: its label in Swedish quotes, or its id
// when it has no label.
func (it *Item) name() string {
	l := strings.TrimSpace(it.Label)
	if l == "" {
		l = it.ID
	}
	if len(l) > 80 {
		l = truncate(l, 80)
	}
	return "”" + l + "”"
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// option returns the option with code, or nil.
func (it *Item) option(code string) *Option {
	for i := range it.Options {
		if it.Options[i].Code == code {
			return &it.Options[i]
		}
	}
	return nil
}

// whole reports whether a number item takes whole numbers only.
func (it *Item) whole() bool { return it.Decimals != nil && *it.Decimals == 0 }

// maxLength is the effective length limit of a text item.
func (it *Item) maxLength() int {
	if it.MaxLength > 0 {
		return it.MaxLength
	}
	if it.Type == TypeLongText {
		return DefaultMaxLongText
	}
	return DefaultMaxText
}

// formatNumber writes f the Swedish way: decimal comma, no exponent.
func formatNumber(f float64) string {
	return strings.Replace(strconv.FormatFloat(f, 'f', -1, 64), ".", ",", 1)
}

// ParseNumber reads a number as a resident types it: decimal comma or
// point, spaces as thousands separators, a leading minus.
func ParseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u2212", "-", ",", ".").Replace(s)
	if s == "" || strings.ContainsAny(s, "eEinfINFxXpP_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
