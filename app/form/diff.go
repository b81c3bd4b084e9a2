package form

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChangeKind is the kind of one difference between two versions.
type ChangeKind string

// Change kinds, as the publish dialog groups them.
const (
	ChangeTitle         ChangeKind = "title"
	ChangeAdded         ChangeKind = "added"
	ChangeRemoved       ChangeKind = "removed"
	ChangeRenamed       ChangeKind = "renamed" // the label changed; the id stays
	ChangeMoved         ChangeKind = "moved"   // another parent group
	ChangeType          ChangeKind = "type"
	ChangeRequired      ChangeKind = "required"
	ChangeRepeats       ChangeKind = "repeats"
	ChangeReadOnly      ChangeKind = "readonly"
	ChangeValidation    ChangeKind = "validation" // min, max, decimals, unit, max length
	ChangeText          ChangeKind = "text"       // help or prefix
	ChangeOptionAdded   ChangeKind = "option_added"
	ChangeOptionRemoved ChangeKind = "option_removed"
	ChangeOptionRenamed ChangeKind = "option_renamed"
	ChangeOptionScore   ChangeKind = "option_score"
	ChangeOptionOrder   ChangeKind = "option_order"
	ChangeLogic         ChangeKind = "logic"
	ChangeScoreItem     ChangeKind = "score_item"
	ChangeInitial       ChangeKind = "initial"
)

// Change is one difference, with a Swedish sentence for the publish dialog.
type Change struct {
	Kind   ChangeKind `json:"kind"`
	ItemID string     `json:"itemId,omitempty"`
	Option string     `json:"option,omitempty"` // the option's code for option changes
	Text   string     `json:"text"`
}

// Diff is what changes from one version to the next, in the new version's
// document order (removed items last).
type Diff struct {
	Changes []Change `json:"changes"`
}

// Empty reports whether the versions ask the same questions the same way.
func (d Diff) Empty() bool { return len(d.Changes) == 0 }

// Of returns the changes of one kind.
func (d Diff) Of(k ChangeKind) []Change {
	var out []Change
	for _, c := range d.Changes {
		if c.Kind == k {
			out = append(out, c)
		}
	}
	return out
}

// Compare returns the differences between old and new, matched by item id
// (ids are stable across versions, so a changed label is a rename, not a
// removal and an addition).
func Compare(old, new *Form) Diff {
	var d Diff
	add := func(k ChangeKind, id, opt, format string, args ...any) {
		d.Changes = append(d.Changes, Change{Kind: k, ItemID: id, Option: opt, Text: fmt.Sprintf(format, args...)})
	}
	if old.Title != new.Title {
		add(ChangeTitle, "", "", "Rubriken ändras från ”%s” till ”%s”.", old.Title, new.Title)
	}
	if old.ScoreItem != new.ScoreItem {
		add(ChangeScoreItem, new.ScoreItem, "", "Poängsumman visas i ett annat fält.")
	}
	ox, nx := buildIndex(old), buildIndex(new)
	new.Walk(func(n, parent *Item) bool {
		if nx.byID[n.ID] != n {
			return true
		}
		o := ox.byID[n.ID]
		if o == nil {
			where := ""
			if parent != nil {
				where = " i " + parent.name()
			}
			add(ChangeAdded, n.ID, "", "%s %s läggs till%s.", n.Type.Label(), n.name(), where)
			return true
		}
		diffItem(o, n, ox, nx, add)
		return true
	})
	old.Walk(func(o, _ *Item) bool {
		if ox.byID[o.ID] == o && nx.byID[o.ID] == nil {
			add(ChangeRemoved, o.ID, "", "%s tas bort.", o.name())
		}
		return true
	})
	return d
}

func diffItem(o, n *Item, ox, nx *index, add func(ChangeKind, string, string, string, ...any)) {
	id := n.ID
	if o.Label != n.Label {
		add(ChangeRenamed, id, "", "%s byter namn till %s.", o.name(), n.name())
	}
	op, np := ox.parent[id], nx.parent[id]
	if (op == nil) != (np == nil) || (op != nil && op.ID != np.ID) {
		add(ChangeMoved, id, "", "%s flyttas till %s.", n.name(), placeName(np))
	}
	if o.Type != n.Type {
		add(ChangeType, id, "", "%s ändras från %s till %s.", n.name(), lower(o.Type.Label()), lower(n.Type.Label()))
	}
	if o.Required != n.Required {
		if n.Required {
			add(ChangeRequired, id, "", "%s blir obligatoriskt.", n.name())
		} else {
			add(ChangeRequired, id, "", "%s blir frivilligt.", n.name())
		}
	}
	if o.Repeats != n.Repeats {
		add(ChangeRepeats, id, "", "%s %s.", n.name(), map[bool]string{true: "kan nu fyllas i flera gånger", false: "kan nu bara fyllas i en gång"}[n.Repeats])
	}
	if o.ReadOnly != n.ReadOnly {
		add(ChangeReadOnly, id, "", "%s %s.", n.name(), map[bool]string{true: "blir skrivskyddat", false: "kan nu besvaras"}[n.ReadOnly])
	}
	// Every rule of a valid answer, old → new (issue 18: "365 → 180").
	if o.MaxLength != n.MaxLength {
		add(ChangeValidation, id, "", "Högsta antal tecken i %s ändras från %s till %s.", n.name(), lengthText(o), lengthText(n))
	}
	if !reflect.DeepEqual(o.Min, n.Min) {
		add(ChangeValidation, id, "", "Lägsta tillåtna värde i %s ändras från %s till %s.", n.name(), numberOr(o.Min, "inget"), numberOr(n.Min, "inget"))
	}
	if !reflect.DeepEqual(o.Max, n.Max) {
		add(ChangeValidation, id, "", "Högsta tillåtna värde i %s ändras från %s till %s.", n.name(), numberOr(o.Max, "inget"), numberOr(n.Max, "inget"))
	}
	if !reflect.DeepEqual(o.Decimals, n.Decimals) {
		add(ChangeValidation, id, "", "Antal decimaler i %s ändras från %s till %s.", n.name(), decimalsText(o.Decimals), decimalsText(n.Decimals))
	}
	if !reflect.DeepEqual(o.Unit, n.Unit) {
		add(ChangeValidation, id, "", "Enheten för %s ändras från %s till %s.", n.name(), unitText(o.Unit), unitText(n.Unit))
	}
	if o.AllowOther != n.AllowOther {
		add(ChangeValidation, id, "", "%s %s.", n.name(), map[bool]string{true: "tillåter nu ett eget svar utöver alternativen", false: "tillåter inte längre ett eget svar"}[n.AllowOther])
	}
	if o.ValueSet != n.ValueSet {
		add(ChangeValidation, id, "", "Värdelistan för %s ändras från %s till %s.", n.name(), quotedOr(o.ValueSet, "ingen"), quotedOr(n.ValueSet, "ingen"))
	}
	if o.Help != n.Help {
		add(ChangeText, id, "", "Hjälptexten för %s ändras från %s till %s.", n.name(), quotedOr(o.Help, "ingen"), quotedOr(n.Help, "ingen"))
	}
	if o.Prefix != n.Prefix {
		add(ChangeText, id, "", "Numreringen för %s ändras från %s till %s.", n.name(), quotedOr(o.Prefix, "ingen"), quotedOr(n.Prefix, "ingen"))
	}
	if !reflect.DeepEqual(o.Initial, n.Initial) {
		add(ChangeInitial, id, "", "Startvärdet för %s ändras från %s till %s.", n.name(), valuesText(o, o.Initial), valuesText(n, n.Initial))
	}
	diffOptions(o, n, add)
	if !reflect.DeepEqual(o.EnableWhen, n.EnableWhen) || behavior(o) != behavior(n) {
		add(ChangeLogic, id, "", "Villkoren för när %s visas ändras från %s till %s.", n.name(), logicText(o, ox), logicText(n, nx))
	}
}

// lengthText is an item's longest answer: its own limit or the default.
func lengthText(it *Item) string {
	if it.MaxLength > 0 {
		return strconv.Itoa(it.MaxLength)
	}
	switch it.Type {
	case TypeText:
		return strconv.Itoa(DefaultMaxText) + " (standard)"
	case TypeLongText:
		return strconv.Itoa(DefaultMaxLongText) + " (standard)"
	}
	return "ingen gräns"
}

func numberOr(f *float64, none string) string {
	if f == nil {
		return none
	}
	return formatNumber(*f)
}

func decimalsText(d *int) string {
	if d == nil {
		return "valfritt"
	}
	return strconv.Itoa(*d)
}

func unitText(u *Coding) string {
	if u == nil {
		return "ingen"
	}
	return "”" + u.Text() + "”"
}

func quotedOr(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return "”" + truncate(strings.TrimSpace(s), 80) + "”"
}

// valueText is one value of it as the builder shows it.
func valueText(it *Item, v Value) string {
	switch {
	case it == nil:
		return "”" + v.Text + "”"
	case it.Type == TypeBoolean:
		return map[bool]string{true: "Ja", false: "Nej"}[v.Bool]
	case it.Type == TypeNumber:
		return formatNumber(v.Number)
	case it.Type.choice():
		if o := it.option(v.Code); o != nil {
			return "”" + o.Text() + "”"
		}
		if v.Code != "" {
			return "”" + v.Code + "”"
		}
	}
	return "”" + truncate(v.Text, 80) + "”"
}

func valuesText(it *Item, vs []Value) string {
	if len(vs) == 0 {
		return "inget"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = valueText(it, v)
	}
	return strings.Join(out, ", ")
}

// logicText is an item's conditions in words: "visas alltid", or each
// condition ("”Röker du?” är lika med Ja") joined by och / eller.
func logicText(it *Item, x *index) string {
	if len(it.EnableWhen) == 0 {
		return "att frågan alltid visas"
	}
	parts := make([]string, len(it.EnableWhen))
	for i, c := range it.EnableWhen {
		ref := x.byID[c.Item]
		name := "”" + c.Item + "”"
		if ref != nil {
			name = ref.name()
		}
		if c.Op == OpExists {
			parts[i] = name + " " + map[bool]string{true: "är besvarad", false: "inte är besvarad"}[c.Value.Bool]
			continue
		}
		parts[i] = name + " " + c.Op.Label() + " " + valueText(ref, c.Value)
	}
	join := " och "
	if behavior(it) == Any {
		join = " eller "
	}
	return "att " + strings.Join(parts, join)
}

func placeName(p *Item) string {
	if p == nil {
		return "formulärets översta nivå"
	}
	return p.name()
}

func behavior(it *Item) Behavior {
	if it.EnableBehavior == "" {
		return All
	}
	return it.EnableBehavior
}

func diffOptions(o, n *Item, add func(ChangeKind, string, string, string, ...any)) {
	var oldCodes, newCodes []string
	for _, x := range o.Options {
		oldCodes = append(oldCodes, x.Code)
	}
	for _, y := range n.Options {
		newCodes = append(newCodes, y.Code)
		x := o.option(y.Code)
		switch {
		case x == nil:
			add(ChangeOptionAdded, n.ID, y.Code, "Alternativet ”%s” läggs till i %s.", y.Text(), n.name())
			continue
		case x.Label != y.Label:
			add(ChangeOptionRenamed, n.ID, y.Code, "Alternativet ”%s” i %s heter nu ”%s”.", x.Text(), n.name(), y.Text())
		}
		if !reflect.DeepEqual(x.Score, y.Score) {
			add(ChangeOptionScore, n.ID, y.Code, "Poängen för ”%s” i %s ändras från %s till %s.", y.Text(), n.name(), scoreText(x.Score), scoreText(y.Score))
		}
	}
	for _, x := range o.Options {
		if n.option(x.Code) == nil {
			add(ChangeOptionRemoved, n.ID, x.Code, "Alternativet ”%s” tas bort från %s.", x.Text(), n.name())
		}
	}
	common := func(codes []string, other *Item) []string {
		var out []string
		for _, c := range codes {
			if other.option(c) != nil {
				out = append(out, c)
			}
		}
		return out
	}
	if !slices.Equal(common(oldCodes, n), common(newCodes, o)) {
		add(ChangeOptionOrder, n.ID, "", "Alternativen i %s kommer i en annan ordning.", n.name())
	}
}

func scoreText(s *float64) string {
	if s == nil {
		return "ingen"
	}
	return formatNumber(*s)
}

// AnswerImpact is what happens to one answer of a submission in progress
// when it moves to the new version.
type AnswerImpact struct {
	Path   string `json:"path"`
	ItemID string `json:"itemId"`
	Code   string `json:"code"` // removed, moved, hidden, or a FieldError code
	Text   string `json:"text"`
}

// SubmissionImpact is the effect of the new version on one submission in
// progress: answers that would be dropped and answers (or missing ones)
// that would not pass validation.
type SubmissionImpact struct {
	ID      string         `json:"id"`
	Dropped []AnswerImpact `json:"dropped,omitempty"`
	Invalid []AnswerImpact `json:"invalid,omitempty"`
}

// ImpactReport covers all submissions in progress.
type ImpactReport struct {
	Submissions int                `json:"submissions"` // how many were looked at
	Affected    []SubmissionImpact `json:"affected,omitempty"`
}

// Impact tells, before publishing new, what happens to submissions in
// progress under old (by submission id): which answers would be dropped
// (the item is removed, moved to or from a repeating group, or hidden by
// the new logic) and which would become invalid (new bounds, removed
// options, new required items). Submissions nothing happens to are left
// out.
func Impact(old, new *Form, inProgress map[string]Answers, now time.Time) ImpactReport {
	r := ImpactReport{Submissions: len(inProgress)}
	ids := make([]string, 0, len(inProgress))
	for id := range inProgress {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ox, nx := buildIndex(old), buildIndex(new)
	for _, id := range ids {
		a := inProgress[id]
		os, ns := old.Evaluate(a, now), new.Evaluate(a, now)
		si := SubmissionImpact{ID: id}
		for _, p := range answeredPaths(ox, a, nil, "") {
			if !os.Visible[p.path] {
				continue // already not submitted under old
			}
			o := ox.byID[p.id]
			n := nx.byID[p.id]
			switch {
			case n == nil:
				si.Dropped = append(si.Dropped, AnswerImpact{p.path, p.id, "removed", fmt.Sprintf("Svaret på %s försvinner: fältet tas bort.", o.name())})
			case !sameRep(ox, nx, p.id):
				si.Dropped = append(si.Dropped, AnswerImpact{p.path, p.id, "moved", fmt.Sprintf("Svaret på %s försvinner: fältet flyttas in i eller ut ur en upprepad grupp.", o.name())})
			case !ns.Visible[p.path]:
				si.Dropped = append(si.Dropped, AnswerImpact{p.path, p.id, "hidden", fmt.Sprintf("Svaret på %s försvinner: fältet visas inte längre med de svar som getts.", n.name())})
			}
		}
		oldErr := map[string]bool{}
		for _, e := range os.Errors {
			oldErr[e.Path+"\x00"+e.Code] = true
		}
		for _, e := range ns.Errors {
			if !oldErr[e.Path+"\x00"+e.Code] {
				si.Invalid = append(si.Invalid, AnswerImpact{e.Path, e.ItemID, e.Code, e.Text})
			}
		}
		if len(si.Dropped)+len(si.Invalid) > 0 {
			r.Affected = append(r.Affected, si)
		}
	}
	return r
}

func sameRep(ox, nx *index, id string) bool {
	o, n := ox.rep[id], nx.rep[id]
	if o == nil || n == nil {
		return o == nil && n == nil
	}
	return o.ID == n.ID
}

type answered struct{ path, id string }

// answeredPaths lists the paths of present answers in a, as laid out by
// the form of x (group is the repeating group of this level).
func answeredPaths(x *index, a Answers, group *Item, prefix string) []answered {
	ids := make([]string, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []answered
	for _, id := range ids {
		it := x.byID[id]
		if it == nil || x.rep[id] != group {
			continue
		}
		if it.Type == TypeGroup && it.Repeats {
			for k, v := range a[id] {
				out = append(out, answeredPaths(x, v.Group, it, prefix+id+"["+strconv.Itoa(k)+"]/")...)
			}
			continue
		}
		if it.Type.answered() && len(presentValues(it, a[id])) > 0 {
			out = append(out, answered{prefix + id, id})
		}
	}
	return out
}
