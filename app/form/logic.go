package form

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State is what the resident sees for a set of answers: the visible pages
// and items, the score and every field's errors. Paths are item ids,
// prefixed by "group[i]/" inside the i:th instance of a repeating group.
type State struct {
	Pages []Page
	// Visible holds the path of every visible item (hidden ones are
	// absent).
	Visible map[string]bool
	// Score is the sum of the scores of the chosen options of visible
	// items; Scored counts the answers that carried a score.
	Score  float64
	Scored int
	// Errors are the validation errors of visible items, in document
	// order. The UI decides when to show them (typically after "Nästa" or
	// "Skicka").
	Errors []FieldError
}

// Page is one page of the form with the paths of its visible items, in
// document order (groups before their children). A form without page
// groups is one page; top-level items between page groups form pages of
// their own, with an empty ID.
type Page struct {
	ID    string
	Title string
	Items []string
}

// Shown reports whether the item at path is visible.
func (s State) Shown(path string) bool { return s.Visible[path] }

// ErrorsAt returns the errors of the item at path.
func (s State) ErrorsAt(path string) []FieldError {
	var out []FieldError
	for _, e := range s.Errors {
		if e.Path == path {
			out = append(out, e)
		}
	}
	return out
}

// scope is the answers of one level: the top level, or one instance of a
// repeating group.
type scope struct {
	ans    Answers
	parent *scope
	group  *Item // the repeating group of this instance; nil at the top
	prefix string
}

type visKey struct {
	sc *scope
	it *Item
}

type evaluator struct {
	f     *Form
	x     *index
	now   time.Time
	memo  map[visKey]int8 // 1 visible, 2 hidden, 3 being computed
	st    *State
	clean Answers // built when cleaning: visible, normalized answers
}

// Evaluate returns the state of the form for the answers: which pages and
// items are visible, the score, and the errors of visible items. now
// decides the century of a 10-digit personnummer and that a birth date is
// not in the future. Evaluate never fails: an answer to an unknown or
// hidden item is ignored here (Accept refuses it), and on a definition
// that does not pass Check an item in a logic cycle counts as hidden.
func (f *Form) Evaluate(a Answers, now time.Time) State {
	e := newEvaluator(f, now)
	e.run(a, false)
	return *e.st
}

// Validate returns the errors of the answers (those of Evaluate).
func (f *Form) Validate(a Answers, now time.Time) []FieldError {
	return f.Evaluate(a, now).Errors
}

func newEvaluator(f *Form, now time.Time) *evaluator {
	x := buildIndex(f)
	return &evaluator{f: f, x: x, now: now, memo: make(map[visKey]int8, len(x.byID)),
		st: &State{Visible: make(map[string]bool, len(x.byID))}}
}

func (e *evaluator) run(a Answers, clean bool) {
	root := &scope{ans: a}
	if clean {
		e.clean = Answers{}
	}
	var cur *Page
	for i := range e.f.Items {
		it := &e.f.Items[i]
		if it.Type == TypeGroup && it.Page {
			pg := Page{ID: it.ID, Title: it.Label}
			e.walk(it, root, &pg, e.clean)
			if len(pg.Items) > 0 {
				e.st.Pages = append(e.st.Pages, pg)
			}
			cur = nil
			continue
		}
		if cur == nil {
			e.st.Pages = append(e.st.Pages, Page{})
			cur = &e.st.Pages[len(e.st.Pages)-1]
		}
		e.walk(it, root, cur, e.clean)
	}
	pages := e.st.Pages[:0]
	for _, p := range e.st.Pages {
		if len(p.Items) > 0 {
			pages = append(pages, p)
		}
	}
	e.st.Pages = pages
	if clean && e.f.ScoreItem != "" && e.st.Scored > 0 && e.st.Visible[e.f.ScoreItem] {
		e.clean[e.f.ScoreItem] = []Value{NumberValue(e.st.Score)}
	}
}

// walk evaluates it (living in scope sc) and its children. out, when not
// nil, receives the cleaned answers of sc's level.
func (e *evaluator) walk(it *Item, sc *scope, pg *Page, out Answers) {
	if !e.visible(it, sc) {
		return
	}
	path := sc.prefix + it.ID
	e.st.Visible[path] = true
	pg.Items = append(pg.Items, path)
	switch {
	case it.Type == TypeGroup && it.Repeats:
		insts := sc.ans[it.ID]
		if len(insts) > MaxValues {
			e.fieldErr(path, it, CodeTooMany, fmt.Sprintf("%s kan fyllas i högst %d gånger.", it.name(), MaxValues))
			insts = insts[:MaxValues]
		}
		if it.Required && len(insts) == 0 {
			e.fieldErr(path, it, CodeRequired, requiredText(it))
		}
		var cleaned []Value
		for k := range insts {
			child := &scope{ans: insts[k].Group, parent: sc, group: it, prefix: path + "[" + strconv.Itoa(k) + "]/"}
			var childOut Answers
			if out != nil {
				childOut = Answers{}
			}
			for j := range it.Items {
				e.walk(&it.Items[j], child, pg, childOut)
			}
			if out != nil {
				cleaned = append(cleaned, GroupValue(childOut))
			}
		}
		if len(cleaned) > 0 {
			out[it.ID] = cleaned
		}
		return
	case it.Type == TypeGroup:
		if it.Required && !e.anyAnswered(it.Items, sc) {
			e.fieldErr(path, it, CodeRequired, requiredText(it))
		}
	case it.Type == TypeDisplay:
	case it.ReadOnly:
		if out != nil && len(it.Initial) > 0 && it.ID != e.f.ScoreItem {
			out[it.ID] = append([]Value(nil), it.Initial...)
		}
	default:
		e.question(it, sc, path, out)
	}
	for j := range it.Items {
		e.walk(&it.Items[j], sc, pg, out)
	}
}

func (e *evaluator) question(it *Item, sc *scope, path string, out Answers) {
	vals := presentValues(it, sc.ans[it.ID])
	if len(vals) == 0 {
		if it.Required {
			e.fieldErr(path, it, CodeRequired, requiredText(it))
		}
		return
	}
	multi := it.Repeats || it.Type == TypeMultiChoice
	if !multi && len(vals) > 1 {
		e.fieldErr(path, it, CodeSingle, fmt.Sprintf("%s tar bara ett svar.", it.name()))
		vals = vals[:1]
	}
	if len(vals) > MaxValues {
		e.fieldErr(path, it, CodeTooMany, fmt.Sprintf("%s har för många svar (högst %d).", it.name(), MaxValues))
		vals = vals[:MaxValues]
	}
	bad := false
	for i, v := range vals {
		if code, text := checkValue(it, v, e.now, false); code != "" {
			e.fieldErr(path, it, code, text)
			bad = true
			continue
		}
		if it.Type == TypeMultiChoice && v.Code != "" {
			for _, w := range vals[:i] {
				if w.Code == v.Code {
					e.fieldErr(path, it, CodeDuplicate, fmt.Sprintf("Samma alternativ är valt två gånger i %s.", it.name()))
					bad = true
				}
			}
		}
		if it.Type.choice() && v.Code != "" {
			if o := it.option(v.Code); o != nil && o.Score != nil {
				e.st.Score += *o.Score
				e.st.Scored++
			}
		}
	}
	if out != nil && !bad {
		c := make([]Value, len(vals))
		for i, v := range vals {
			c[i] = normalizeValue(it, v, e.now)
		}
		out[it.ID] = c
	}
}

func (e *evaluator) fieldErr(path string, it *Item, code, text string) {
	e.st.Errors = append(e.st.Errors, FieldError{Path: path, ItemID: it.ID, Code: code, Text: text})
}

// anyAnswered reports whether some visible question among items (in the
// same scope, descending into non-repeating groups) has an answer.
func (e *evaluator) anyAnswered(items []Item, sc *scope) bool {
	for i := range items {
		it := &items[i]
		if !e.visible(it, sc) {
			continue
		}
		if it.Type == TypeGroup && it.Repeats {
			if len(sc.ans[it.ID]) > 0 {
				return true
			}
			continue
		}
		if it.Type.answered() && len(presentValues(it, sc.ans[it.ID])) > 0 {
			return true
		}
		if e.anyAnswered(it.Items, sc) {
			return true
		}
	}
	return false
}

// visible decides whether it, living in scope sc, is shown: its parent is
// shown and its conditions hold. Memoized per scope; an item met again
// while being decided (a cycle, which Check refuses) is hidden.
func (e *evaluator) visible(it *Item, sc *scope) bool {
	k := visKey{sc, it}
	switch e.memo[k] {
	case 1:
		return true
	case 2, 3:
		return false
	}
	e.memo[k] = 3
	vis := true
	if p := e.x.parent[it.ID]; p != nil && e.x.byID[it.ID] == it {
		psc := sc
		if p == sc.group {
			psc = sc.parent
		}
		vis = psc != nil && e.visible(p, psc)
	}
	if vis && len(it.EnableWhen) > 0 {
		vis = e.conditions(it, sc)
	}
	if vis {
		e.memo[k] = 1
	} else {
		e.memo[k] = 2
	}
	return vis
}

func (e *evaluator) conditions(it *Item, sc *scope) bool {
	anyMode := it.EnableBehavior == Any
	for _, c := range it.EnableWhen {
		ok := e.condition(c, sc)
		if anyMode && ok {
			return true
		}
		if !anyMode && !ok {
			return false
		}
	}
	return !anyMode
}

func (e *evaluator) condition(c Condition, sc *scope) bool {
	ref := e.x.byID[c.Item]
	var vals []Value
	if ref != nil && ref.Type.answered() {
		vals = e.answersOf(ref, sc)
	}
	switch c.Op {
	case OpExists:
		return (len(vals) > 0) == c.Value.Bool
	case OpEquals:
		for _, v := range vals {
			if equalValue(ref, v, c.Value) {
				return true
			}
		}
		return false
	case OpNotEquals:
		for _, v := range vals {
			if equalValue(ref, v, c.Value) {
				return false
			}
		}
		return len(vals) > 0
	}
	for _, v := range vals {
		cmp, ok := compareValue(ref, v, c.Value)
		if !ok {
			continue
		}
		switch {
		case c.Op == OpGreater && cmp > 0,
			c.Op == OpLess && cmp < 0,
			c.Op == OpGreaterEq && cmp >= 0,
			c.Op == OpLessEq && cmp <= 0:
			return true
		}
	}
	return false
}

// answersOf returns the present answers of ref as seen from scope sc: from
// the instance of ref's repeating group in sc's chain, none when ref is
// hidden there or out of reach.
func (e *evaluator) answersOf(ref *Item, sc *scope) []Value {
	target := e.x.rep[ref.ID]
	for s := sc; s != nil; s = s.parent {
		if s.group == target {
			if !e.visible(ref, s) {
				return nil
			}
			return presentValues(ref, s.ans[ref.ID])
		}
	}
	return nil
}

func equalValue(it *Item, a, b Value) bool {
	switch it.Type {
	case TypeNumber:
		return a.Number == b.Number
	case TypeBoolean:
		return a.Bool == b.Bool
	case TypeChoice, TypeMultiChoice:
		if a.Code == "" || b.Code == "" {
			return a.Code == b.Code && strings.TrimSpace(a.Text) == strings.TrimSpace(b.Text)
		}
		return a.Code == b.Code && (a.System == "" || b.System == "" || a.System == b.System)
	case TypeAttachment:
		return false
	}
	return strings.TrimSpace(a.Text) == strings.TrimSpace(b.Text)
}

func compareValue(it *Item, a, b Value) (int, bool) {
	switch it.Type {
	case TypeNumber:
		switch {
		case a.Number < b.Number:
			return -1, true
		case a.Number > b.Number:
			return 1, true
		case a.Number == b.Number:
			return 0, true
		}
		return 0, false // NaN
	case TypeDate, TypeDateTime, TypeTime, TypeText, TypeLongText:
		return strings.Compare(strings.TrimSpace(a.Text), strings.TrimSpace(b.Text)), true
	}
	return 0, false
}

// Clean returns what is submitted for the answers: only the answers of
// visible questions (hidden items, information texts and unknown ids are
// dropped), normalized (12-digit personnummer, E.164 phone numbers,
// trimmed text), read-only items at their initial value and the score item
// at the calculated score. If some answer breaks validation it returns the
// cleaned answers so far and an *AnswersError listing every field.
func (f *Form) Clean(a Answers, now time.Time) (Answers, error) {
	e := newEvaluator(f, now)
	e.run(a, true)
	if len(e.st.Errors) > 0 {
		return e.clean, &AnswersError{Fields: e.st.Errors}
	}
	return e.clean, nil
}

// Accept is the server's check of a submission: unlike Clean, an answer to
// a hidden item, an information text, a non-repeating group, a read-only
// item or an id not in the form (or in the wrong repeating group) is
// refused, naming the item, so that nothing a resident could not see is
// ever stored. Otherwise it returns what Clean returns.
func (f *Form) Accept(a Answers, now time.Time) (Answers, error) {
	e := newEvaluator(f, now)
	e.run(a, true)
	var errs []FieldError
	e.strict(a, &scope{}, "", &errs)
	errs = append(errs, e.st.Errors...)
	if len(errs) > 0 {
		return nil, &AnswersError{Fields: errs}
	}
	return e.clean, nil
}

// strict lists the answers in a (the level of repeating group g) that no
// resident could have given.
func (e *evaluator) strict(a Answers, sc *scope, prefix string, errs *[]FieldError) {
	ids := make([]string, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		vals := a[id]
		it := e.x.byID[id]
		path := prefix + id
		add := func(code, text string) {
			*errs = append(*errs, FieldError{Path: path, ItemID: id, Code: code, Text: text})
		}
		if it == nil || e.x.rep[id] != sc.group {
			if it == nil {
				add(CodeUnknown, fmt.Sprintf("Svaret med id %s hör inte till formuläret.", quoteID(id)))
			} else {
				add(CodeUnknown, fmt.Sprintf("Svaret på %s ligger på fel plats i formuläret.", it.name()))
			}
			continue
		}
		if it.Type == TypeGroup && it.Repeats {
			if len(vals) > 0 && !e.st.Visible[path] {
				add(CodeHidden, fmt.Sprintf("%s visas inte med de svar som getts och får inte skickas in.", it.name()))
				continue
			}
			for k, v := range vals {
				if k >= MaxValues {
					break
				}
				e.strict(v.Group, &scope{group: it}, path+"["+strconv.Itoa(k)+"]/", errs)
			}
			continue
		}
		if !it.Type.answered() {
			add(CodeNotAnswerable, fmt.Sprintf("%s kan inte besvaras.", it.name()))
			continue
		}
		vals = presentValues(it, vals)
		if len(vals) == 0 {
			continue
		}
		if !e.st.Visible[path] {
			add(CodeHidden, fmt.Sprintf("%s visas inte med de svar som getts och får inte skickas in.", it.name()))
			continue
		}
		if it.ReadOnly {
			want := it.Initial
			if id == e.f.ScoreItem {
				want = []Value{NumberValue(e.st.Score)}
			}
			if !sameValues(it, vals, want) {
				add(CodeNotAnswerable, fmt.Sprintf("%s kan inte ändras.", it.name()))
			}
		}
	}
}

func sameValues(it *Item, a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalValue(it, a[i], b[i]) {
			return false
		}
	}
	return true
}

// InitialAnswers returns the answers the form starts with: initial values
// and initially selected options of the top level (a repeating group
// starts with no instances; NewInstance makes one).
func (f *Form) InitialAnswers() Answers {
	a := Answers{}
	initialInto(a, f.Items)
	return a
}

// NewInstance returns a new instance of the repeating group id, with its
// items' initial values.
func (f *Form) NewInstance(id string) Value {
	a := Answers{}
	if g := f.Item(id); g != nil {
		initialInto(a, g.Items)
	}
	return GroupValue(a)
}

func initialInto(a Answers, items []Item) {
	for i := range items {
		it := &items[i]
		if it.Type == TypeGroup && it.Repeats {
			continue
		}
		if len(it.Initial) > 0 {
			a[it.ID] = append([]Value(nil), it.Initial...)
		} else if it.Type.choice() {
			for _, o := range it.Options {
				if o.Selected {
					a[it.ID] = append(a[it.ID], Value{Code: o.Code, System: o.System})
				}
			}
		}
		initialInto(a, it.Items)
	}
}
