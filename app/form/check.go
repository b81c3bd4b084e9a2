package form

import (
	"fmt"
	"math"
	"mottagning/app/textcheck"
	"strings"
	"time"
)

// index is the form's items by id with their place in the tree. It is
// built per call: a Form is plain data that the builder edits in place, so
// a cached index could go stale.
type index struct {
	byID   map[string]*Item
	parent map[string]*Item // nil at the top
	// rep is the nearest repeating group strictly above the item (nil: the
	// form's top level). Answers of the item live in that group's
	// instances.
	rep   map[string]*Item
	dups  []*Item
	depth int
}

func buildIndex(f *Form) *index {
	n := 0
	f.Walk(func(*Item, *Item) bool { n++; return true })
	x := &index{byID: make(map[string]*Item, n), parent: make(map[string]*Item, n), rep: make(map[string]*Item, n)}
	var walk func(items []Item, parent, rep *Item, depth int)
	walk = func(items []Item, parent, rep *Item, depth int) {
		if depth > x.depth {
			x.depth = depth
		}
		for i := range items {
			it := &items[i]
			if _, dup := x.byID[it.ID]; dup {
				x.dups = append(x.dups, it)
			} else {
				x.byID[it.ID] = it
				x.parent[it.ID] = parent
				x.rep[it.ID] = rep
			}
			childRep := rep
			if it.Type == TypeGroup && it.Repeats {
				childRep = it
			}
			walk(it.Items, it, childRep, depth+1)
		}
	}
	walk(f.Items, nil, nil, 1)
	return x
}

// inScope reports whether an item whose answers live in scope group `from`
// can see the answers of `ref`: ref's repeating group must be from itself
// or one of from's enclosing repeating groups (the instance chain).
func (x *index) inScope(from, ref *Item) bool {
	target := x.rep[ref.ID]
	for g := x.rep[from.ID]; ; g = x.rep[g.ID] {
		if g == target {
			return true
		}
		if g == nil {
			return false
		}
	}
}

// Check reports what is wrong with the form as a definition: empty or
// duplicate ids, unknown types, choices without options, bad bounds, logic
// that refers to a missing item, to an item without answers or to one out
// of reach inside a repeating group, operators that do not fit the item,
// and cycles in the logic. It collects every problem, each naming the
// item, in a *DefinitionError; nil means the form can be published.
func (f *Form) Check() error {
	var ps []Problem
	add := func(it *Item, code, format string, args ...any) {
		id := ""
		if it != nil {
			id = it.ID
		}
		ps = append(ps, Problem{ItemID: id, Code: code, Text: fmt.Sprintf(format, args...)})
	}
	x := buildIndex(f)
	if strings.TrimSpace(f.Title) == "" {
		add(nil, "empty_title", "Formuläret saknar rubrik.")
	}
	if !textcheck.Line(strings.TrimSpace(f.Title)) || !textcheck.Multiline(f.Description) {
		add(nil, "control_chars", "Formulärets rubrik eller beskrivning innehåller osynliga styrtecken, till exempel från en kopierad text. Skriv om texten.")
	}
	for _, d := range x.dups {
		add(d, "duplicate_id", "Id %s används av flera fält: %s och %s.", quoteID(d.ID), x.byID[d.ID].name(), d.name())
	}
	f.Walk(func(it, parent *Item) bool {
		checkItem(f, x, it, parent, add)
		return true
	})
	if f.ScoreItem != "" {
		it := x.byID[f.ScoreItem]
		switch {
		case it == nil:
			add(nil, "missing_score_item", "Fältet för poängsumman (id %s) finns inte.", quoteID(f.ScoreItem))
		case it.Type != TypeNumber:
			add(it, "score_item_type", "Poängsumman visas i %s, som inte är ett talfält.", it.name())
		case x.rep[it.ID] != nil:
			add(it, "score_item_repeats", "Poängsumman kan inte visas i %s, som ligger i en upprepad grupp.", it.name())
		}
	}
	for _, cyc := range findCycles(f, x) {
		names := make([]string, len(cyc))
		for i, it := range cyc {
			names[i] = it.name()
		}
		add(cyc[0], "cycle", "Villkoren bildar en slinga: %s.", strings.Join(names, " → "))
	}
	if len(ps) == 0 {
		return nil
	}
	return &DefinitionError{Problems: ps}
}

func checkItem(f *Form, x *index, it, parent *Item, add func(*Item, string, string, ...any)) {
	if strings.TrimSpace(it.ID) == "" {
		add(it, "empty_id", "Fältet %s saknar id.", it.name())
	}
	if !itemTextOK(it) {
		add(it, "control_chars", "Texten i fältet %s innehåller osynliga styrtecken, till exempel från en kopierad text. Skriv om texten.", it.name())
	}
	if !it.Type.valid() {
		add(it, "type", "Fältet %s har en okänd typ.", it.name())
		return
	}
	if it.Page && (it.Type != TypeGroup || parent != nil || it.Repeats) {
		add(it, "page", "Bara en grupp på översta nivån som inte upprepas kan vara en sida: %s.", it.name())
	}
	if !it.Type.answered() && it.Required && it.Type == TypeDisplay {
		add(it, "required_display", "Informationstexten %s kan inte vara obligatorisk.", it.name())
	}
	if it.MaxLength < 0 {
		add(it, "max_length", "Maxlängden för %s kan inte vara negativ.", it.name())
	}
	if it.Type == TypeNumber {
		if it.Min != nil && it.Max != nil && *it.Min > *it.Max {
			add(it, "min_max", "Minsta värdet för %s är större än största värdet.", it.name())
		}
		if (it.Min != nil && !finite(*it.Min)) || (it.Max != nil && !finite(*it.Max)) {
			add(it, "bound", "Gränserna för %s måste vara tal.", it.name())
		}
		if it.Decimals != nil && (*it.Decimals < 0 || *it.Decimals > 10) {
			add(it, "decimals", "Antalet decimaler för %s måste vara mellan 0 och 10.", it.name())
		}
	}
	if it.Type.choice() {
		if len(it.Options) == 0 && it.ValueSet == "" {
			add(it, "no_options", "Flervalsfrågan %s har inga svarsalternativ.", it.name())
		}
		seen := make(map[string]bool, len(it.Options))
		for _, o := range it.Options {
			if o.Score != nil && !finite(*o.Score) {
				add(it, "score", "Poängen för ett svarsalternativ i %s måste vara ett tal.", it.name())
			}
			if o.Code == "" {
				add(it, "empty_option", "Ett svarsalternativ i %s saknar kod.", it.name())
			} else if seen[o.Code] {
				add(it, "duplicate_option", "Svarsalternativet %s finns två gånger i %s.", quoteID(o.Code), it.name())
			}
			seen[o.Code] = true
		}
	}
	if it.Type.answered() {
		for _, v := range it.Initial {
			if code, _ := checkValue(it, v, time.Time{}, true); code != "" {
				add(it, "initial", "Startvärdet för %s är inte ett giltigt svar.", it.name())
				break
			}
		}
		if len(it.Initial) > 1 && !it.Repeats && it.Type != TypeMultiChoice {
			add(it, "initial", "%s tar bara ett svar men har flera startvärden.", it.name())
		}
	}
	switch it.EnableBehavior {
	case "", All, Any:
	default:
		add(it, "behavior", "Villkoren för %s kombineras på ett okänt sätt.", it.name())
	}
	for _, c := range it.EnableWhen {
		conditionProblems(x, it, c, func(code, format string, args ...any) { add(it, code, format, args...) })
	}
}

// conditionProblems reports, by add, what is wrong with condition c of
// item it: a missing item, one without answers or out of reach in a
// repeating group, an operator that does not fit, an option that is not
// there. Check refuses a form with any of them; the FHIR import drops such
// a condition with a warning (all but the missing item).
func conditionProblems(x *index, it *Item, c Condition, add func(code, format string, args ...any)) {
	ref := x.byID[c.Item]
	switch {
	case ref == nil:
		add("missing_reference", "Villkoret för %s hänvisar till ett fält som inte finns (id %s).", it.name(), quoteID(c.Item))
		return
	case !ref.Type.answered():
		add("reference_not_answerable", "Villkoret för %s hänvisar till %s, som inte besvaras.", it.name(), ref.name())
		return
	case !x.inScope(it, ref):
		add("reference_scope", "Villkoret för %s hänvisar till %s i en upprepad grupp som %s inte ingår i.", it.name(), ref.name(), it.name())
	}
	switch {
	case !c.Op.valid():
		add("operator", "Villkoret för %s har en okänd jämförelse.", it.name())
	case c.Op == OpExists:
	case (c.Op == OpEquals || c.Op == OpNotEquals) && ref.Type == TypeAttachment:
		add("operator_type", "Villkoret för %s kan bara fråga om en bilaga finns.", it.name())
	case c.Op != OpEquals && c.Op != OpNotEquals && !ref.Type.ordered():
		add("operator_type", "Villkoret för %s jämför %s med ”%s”, vilket inte går för typen %s.", it.name(), ref.name(), c.Op.Label(), strings.ToLower(ref.Type.Label()))
	case ref.Type.choice() && len(ref.Options) > 0 && ref.option(c.Value.Code) == nil && !ref.AllowOther:
		add("missing_option", "Villkoret för %s hänvisar till ett svarsalternativ som inte finns i %s.", it.name(), ref.name())
	}
}

// findCycles finds the cycles of the "depends on" graph: an item depends
// on the items its conditions refer to and on its parent (a hidden group
// hides its children). Each cycle is reported once, from the item that
// comes first in the form.
func findCycles(f *Form, x *index) [][]*Item {
	const (
		white = iota
		grey
		black
	)
	color := make(map[*Item]int, len(x.byID))
	var stack []*Item
	var out [][]*Item
	var visit func(it *Item)
	visit = func(it *Item) {
		color[it] = grey
		stack = append(stack, it)
		deps := make([]*Item, 0, len(it.EnableWhen)+1)
		if p := x.parent[it.ID]; p != nil {
			deps = append(deps, p)
		}
		for _, c := range it.EnableWhen {
			if ref := x.byID[c.Item]; ref != nil {
				deps = append(deps, ref)
			}
		}
		for _, d := range deps {
			switch color[d] {
			case white:
				visit(d)
			case grey:
				var cyc []*Item
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == d {
						cyc = append(cyc, stack[i:]...)
						break
					}
				}
				cyc = append(cyc, d)
				out = append(out, cyc)
			}
		}
		stack = stack[:len(stack)-1]
		color[it] = black
	}
	f.Walk(func(it, _ *Item) bool {
		if x.byID[it.ID] == it && color[it] == white {
			visit(it)
		}
		return true
	})
	return out
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// itemTextOK: the texts of an item a resident reads hold no control
// characters or direction overrides (textcheck, the rule of every text).
func itemTextOK(it *Item) bool {
	if !textcheck.Line(it.ID) || !textcheck.Line(strings.TrimSpace(it.Label)) || !textcheck.Line(it.Prefix) || !textcheck.Multiline(it.Help) {
		return false
	}
	for _, o := range it.Options {
		if !textcheck.Line(o.Code) || !textcheck.Line(o.Label) || !textcheck.Line(o.Prefix) {
			return false
		}
	}
	return true
}
