package ui

import (
	"math"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app/form"
)

// Texts of the form as a resident fills it in.
const (
	textFvRequired   = "Fält markerade med * måste fyllas i."
	textFvYes        = "Ja"
	textFvNo         = "Nej"
	textFvAddInst    = "Lägg till"
	textFvRemoveInst = "Ta bort"
	textFvAttach     = "Bifoga exempelfil"
	textFvAttached   = "Bifogad: %s"
	textFvNoFile     = "Ingen fil bifogad."
	textFvDateHint   = "ÅÅÅÅ-MM-DD"
	textFvDTHint     = "ÅÅÅÅ-MM-DDTtt:mm"
	textFvTimeHint   = "tt:mm"
	textFvPNRHint    = "ÅÅÅÅMMDD-NNNN"
	textFvPhoneHint  = "070-123 45 67"
	textFvEmailHint  = "namn@exempel.se"
	textFvScore      = "Poäng: %s"
	textFvNoScore    = "Ingen poäng ännu."
	textFvInstance   = "%s %d"
	textFvEmpty      = "Formuläret har inga frågor ännu."
)

// previewAttachmentName is the made-up file the preview "attaches": the
// preview never reads or stores a file.
const previewAttachmentName = "exempel.pdf"

// formView renders one version of an e-service's form the way a resident
// sees it: the items of every page in order, with the live visibility
// logic and validation of the form engine (form.Form.Evaluate) as the
// answers change. The same view serves the builder's Förhandsgranska and
// the citizen preview; it keeps the answers in memory only.
//
// A field's error shows once the field has been answered (a required
// field's "Fyll i …" only after an attempt to send), so that an empty form
// does not open in red.
type formView struct {
	f   *form.Form
	now time.Time

	answers form.Answers
	state   form.State
	touched map[string]bool
	showAll bool // after Skicka: every error shows
	loading bool // widgets are being filled by code

	content *fyne.Container
	rows    []*fieldRow
	// onChange runs after every change of the answers.
	onChange func()
}

// fieldRow is one item on screen, at one path.
type fieldRow struct {
	path  string
	item  *form.Item
	box   *fyne.Container // the whole row: hidden when the item is
	errs  *widget.Label
	input fyne.CanvasObject // the widget that answers it; nil for groups and texts
	score *widget.Label     // the score item only
}

// newFormView shows f with its initial answers, evaluated at now (the
// century of a 10-digit personnummer, today's date).
func newFormView(f *form.Form, now time.Time) *formView {
	v := &formView{f: f, now: now, answers: f.InitialAnswers(), touched: map[string]bool{}}
	v.content = container.NewVBox()
	v.rebuild()
	return v
}

// rebuild makes the widgets anew (a repeating group gained or lost an
// instance) and shows the state.
func (v *formView) rebuild() {
	v.rows = nil
	v.loading = true
	objs := v.items(v.f.Items, v.answers, "", true)
	v.loading = false
	if len(objs) == 0 {
		objs = []fyne.CanvasObject{widget.NewLabel(L(textFvEmpty))}
	} else if v.hasRequired() {
		hint := widget.NewLabel(L(textFvRequired))
		hint.SizeName = theme.SizeNameCaptionText
		objs = append([]fyne.CanvasObject{hint}, objs...)
	}
	v.content.Objects = objs
	v.update()
}

func (v *formView) hasRequired() bool {
	req := false
	v.f.Walk(func(it, _ *form.Item) bool {
		req = req || it.Required
		return !req
	})
	return req
}

// items renders a level of the form: sc is the answers of that level (the
// top, or one instance of a repeating group).
func (v *formView) items(items []form.Item, sc form.Answers, prefix string, top bool) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for i := range items {
		it := &items[i]
		out = append(out, v.item(it, sc, prefix, top))
	}
	return out
}

func (v *formView) item(it *form.Item, sc form.Answers, prefix string, top bool) fyne.CanvasObject {
	path := prefix + it.ID
	row := &fieldRow{path: path, item: it, errs: widget.NewLabel("")}
	row.errs.Wrapping = fyne.TextWrapWord
	row.errs.Importance = widget.DangerImportance
	row.errs.Hide()
	v.rows = append(v.rows, row)

	title := strings.TrimSpace(it.Prefix + " " + it.Label)
	if it.Required {
		title += " *"
	}
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	var parts []fyne.CanvasObject
	switch {
	case it.Type == form.TypeDisplay:
		l := widget.NewLabel(strings.TrimSpace(it.Prefix + " " + it.Label))
		l.Wrapping = fyne.TextWrapWord
		parts = append(parts, l)
	case it.Type == form.TypeGroup:
		if it.Page && top {
			head.SizeName = theme.SizeNameSubHeadingText
			parts = append(parts, widget.NewSeparator())
		}
		parts = append(parts, head)
		if it.Help != "" {
			parts = append(parts, helpLabel(it.Help))
		}
		parts = append(parts, row.errs)
		if it.Repeats {
			parts = append(parts, v.instances(it, sc, path))
		} else {
			parts = append(parts, container.NewPadded(container.NewVBox(v.items(it.Items, sc, prefix, false)...)))
		}
		row.box = container.NewVBox(parts...)
		return row.box
	default:
		parts = append(parts, head)
		if it.Help != "" {
			parts = append(parts, helpLabel(it.Help))
		}
		row.input = v.input(it, sc, row)
		parts = append(parts, row.input)
	}
	parts = append(parts, row.errs)
	row.box = container.NewVBox(parts...)
	return row.box
}

func helpLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// instances renders a repeating group: each instance with its items and
// Ta bort, then Lägg till.
func (v *formView) instances(g *form.Item, sc form.Answers, path string) fyne.CanvasObject {
	box := container.NewVBox()
	for k := range sc[g.ID] {
		if sc[g.ID][k].Group == nil {
			sc[g.ID][k].Group = form.Answers{}
		}
		inst := sc[g.ID][k].Group
		k := k
		name := g.Label
		if name == "" {
			name = g.ID
		}
		remove := widget.NewButtonWithIcon(L(textFvRemoveInst), theme.DeleteIcon(), func() {
			vals := sc[g.ID]
			if k < len(vals) {
				sc[g.ID] = append(vals[:k:k], vals[k+1:]...)
				if len(sc[g.ID]) == 0 {
					delete(sc, g.ID)
				}
			}
			v.touched[path] = true
			v.changed(true)
		})
		head := container.NewBorder(nil, nil, nil, remove,
			widget.NewLabelWithStyle(Lf(textFvInstance, name, k+1), fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
		p := path + "[" + strconv.Itoa(k) + "]/"
		box.Add(container.NewPadded(container.NewVBox(append([]fyne.CanvasObject{head}, v.items(g.Items, inst, p, false)...)...)))
	}
	add := widget.NewButtonWithIcon(L(textFvAddInst), theme.ContentAddIcon(), func() {
		if len(sc[g.ID]) >= form.MaxValues {
			return
		}
		sc[g.ID] = append(sc[g.ID], v.f.NewInstance(g.ID))
		v.touched[path] = true
		v.changed(true)
	})
	box.Add(container.NewHBox(add))
	return box
}

// input makes the widget that answers it, filled from sc and writing to it.
func (v *formView) input(it *form.Item, sc form.Answers, row *fieldRow) fyne.CanvasObject {
	set := func(vals []form.Value) {
		if v.loading {
			return
		}
		if len(vals) == 0 {
			delete(sc, it.ID)
		} else {
			sc[it.ID] = vals
		}
		v.touched[row.path] = true
		v.changed(false)
	}
	cur := sc[it.ID]
	first := form.Value{}
	if len(cur) > 0 {
		first = cur[0]
	}
	if it.ReadOnly {
		if it.ID == v.f.ScoreItem {
			row.score = widget.NewLabel("")
			return row.score
		}
		e := widget.NewEntry()
		e.SetText(valueText(it, first))
		e.Disable()
		return e
	}
	switch it.Type {
	case form.TypeBoolean:
		r := widget.NewRadioGroup([]string{L(textFvYes), L(textFvNo)}, nil)
		r.Horizontal = true
		if len(cur) > 0 {
			r.Selected = L(textFvNo)
			if first.Bool {
				r.Selected = L(textFvYes)
			}
		}
		r.OnChanged = func(s string) {
			switch s {
			case L(textFvYes):
				set([]form.Value{form.BoolValue(true)})
			case L(textFvNo):
				set([]form.Value{form.BoolValue(false)})
			default:
				set(nil)
			}
		}
		return r
	case form.TypeChoice:
		labels := optionLabels(it)
		r := widget.NewRadioGroup(labels, nil)
		for i, o := range it.Options {
			if len(cur) > 0 && o.Code == first.Code {
				r.Selected = labels[i]
			}
		}
		r.OnChanged = func(s string) {
			for i, l := range labels {
				if l == s {
					set([]form.Value{{Code: it.Options[i].Code, System: it.Options[i].System}})
					return
				}
			}
			set(nil)
		}
		return r
	case form.TypeMultiChoice:
		labels := optionLabels(it)
		c := widget.NewCheckGroup(labels, nil)
		for i, o := range it.Options {
			for _, x := range cur {
				if x.Code == o.Code {
					c.Selected = append(c.Selected, labels[i])
				}
			}
		}
		c.OnChanged = func(sel []string) {
			var vals []form.Value
			for i, l := range labels {
				for _, s := range sel {
					if s == l {
						vals = append(vals, form.Value{Code: it.Options[i].Code, System: it.Options[i].System})
					}
				}
			}
			set(vals)
		}
		return c
	case form.TypeAttachment:
		status := widget.NewLabel(L(textFvNoFile))
		if first.Attachment != nil {
			status.SetText(Lf(textFvAttached, first.Attachment.Name))
		}
		var btn *widget.Button
		btn = widget.NewButtonWithIcon(L(textFvAttach), theme.FileIcon(), func() {
			// A made-up attachment: the preview never reads a file.
			status.SetText(Lf(textFvAttached, previewAttachmentName))
			set([]form.Value{{Attachment: &form.Attachment{ID: "forhandsgranskning", Name: previewAttachmentName, ContentType: "application/pdf", Size: 1024}}})
		})
		return container.NewHBox(btn, status)
	case form.TypeNumber:
		e := widget.NewEntry()
		if len(cur) > 0 {
			e.SetText(numberText(first.Number))
		}
		e.OnChanged = func(s string) {
			if strings.TrimSpace(s) == "" {
				set(nil)
				return
			}
			f, ok := form.ParseNumber(s)
			if !ok {
				f = math.NaN() // the engine says "… måste vara ett tal."
			}
			set([]form.Value{form.NumberValue(f)})
		}
		if it.Unit != nil && it.Unit.Text() != "" {
			return container.NewBorder(nil, nil, nil, widget.NewLabel(it.Unit.Text()), e)
		}
		return e
	}
	// Text-like answers.
	e := widget.NewEntry()
	switch it.Type {
	case form.TypeLongText:
		e = widget.NewMultiLineEntry()
		e.Wrapping = fyne.TextWrapWord
		e.SetMinRowsVisible(3)
	case form.TypeDate:
		e.PlaceHolder = L(textFvDateHint)
	case form.TypeDateTime:
		e.PlaceHolder = L(textFvDTHint)
	case form.TypeTime:
		e.PlaceHolder = L(textFvTimeHint)
	case form.TypePersonnummer:
		e.PlaceHolder = L(textFvPNRHint)
	case form.TypePhone:
		e.PlaceHolder = L(textFvPhoneHint)
	case form.TypeEmail:
		e.PlaceHolder = L(textFvEmailHint)
	}
	e.SetText(first.Text)
	e.OnChanged = func(s string) {
		if strings.TrimSpace(s) == "" {
			set(nil)
			return
		}
		set([]form.Value{form.TextValue(s)})
	}
	return e
}

func optionLabels(it *form.Item) []string {
	out := make([]string, len(it.Options))
	seen := map[string]int{}
	for i, o := range it.Options {
		l := strings.TrimSpace(o.Prefix + " " + o.Text())
		// RadioGroup tells options apart by their text.
		if n := seen[l]; n > 0 {
			l += " (" + strconv.Itoa(n+1) + ")"
		}
		seen[strings.TrimSpace(o.Prefix+" "+o.Text())]++
		out[i] = l
	}
	return out
}

// changed applies a change of the answers: rebuild when instances came or
// went, otherwise only visibility and errors.
func (v *formView) changed(structure bool) {
	if structure {
		v.rebuild()
	} else {
		v.update()
	}
	if v.onChange != nil {
		v.onChange()
	}
}

// update evaluates the answers and shows what follows: which items are
// visible, the score and the errors.
func (v *formView) update() {
	v.state = v.f.Evaluate(v.answers, v.now)
	for _, r := range v.rows {
		r.box.Hidden = !v.state.Shown(r.path)
		var msgs []string
		for _, e := range v.state.ErrorsAt(r.path) {
			if v.showAll || (v.touched[r.path] && e.Code != form.CodeRequired) {
				msgs = append(msgs, e.Text)
			}
		}
		r.errs.SetText(strings.Join(msgs, "\n"))
		r.errs.Hidden = len(msgs) == 0
		if r.score != nil {
			if v.state.Scored > 0 {
				r.score.SetText(Lf(textFvScore, numberText(v.state.Score)))
			} else {
				r.score.SetText(L(textFvNoScore))
			}
		}
	}
	v.content.Refresh()
}

// errorsShown are the error texts on screen, in document order (tests).
func (v *formView) errorsShown() []string {
	var out []string
	for _, r := range v.rows {
		if !r.box.Hidden && !r.errs.Hidden {
			out = append(out, strings.Split(r.errs.Text, "\n")...)
		}
	}
	return out
}

// row returns the row at path, or nil.
func (v *formView) row(path string) *fieldRow {
	for _, r := range v.rows {
		if r.path == path {
			return r
		}
	}
	return nil
}

// shown reports whether the item at path is on screen.
func (v *formView) shown(path string) bool {
	r := v.row(path)
	return r != nil && !r.box.Hidden
}

// submission is what the resident's app would send: the answers of the
// visible items only (a resident cannot answer what they do not see), for
// form.Form.Accept to check as the server does.
func (v *formView) submission() form.Answers {
	return v.prune(v.answers, "")
}

func (v *formView) prune(a form.Answers, prefix string) form.Answers {
	out := form.Answers{}
	for id, vals := range a {
		path := prefix + id
		if !v.state.Shown(path) {
			continue
		}
		it := v.f.Item(id)
		if it != nil && it.Type == form.TypeGroup && it.Repeats {
			var insts []form.Value
			for k, inst := range vals {
				insts = append(insts, form.GroupValue(v.prune(inst.Group, path+"["+strconv.Itoa(k)+"]/")))
			}
			out[id] = insts
			continue
		}
		out[id] = append([]form.Value(nil), vals...)
	}
	return out
}

// submit shows every error and checks the submission as the server would;
// it returns the cleaned answers that would be stored, or the refusal.
func (v *formView) submit() (form.Answers, error) {
	v.showAll = true
	v.update()
	return v.f.Accept(v.submission(), v.now)
}

// describe writes answers as "Fråga: svar" lines in the form's order, for
// showing what would be submitted.
func describe(f *form.Form, a form.Answers) []string {
	var out []string
	var walk func(items []form.Item, sc form.Answers, indent string)
	walk = func(items []form.Item, sc form.Answers, indent string) {
		for i := range items {
			it := &items[i]
			vals, ok := sc[it.ID]
			name := it.Label
			if name == "" {
				name = it.ID
			}
			switch {
			case it.Type == form.TypeGroup && it.Repeats:
				for k, inst := range vals {
					out = append(out, indent+Lf(textFvInstance, name, k+1))
					walk(it.Items, inst.Group, indent+"    ")
				}
				continue
			case it.Type == form.TypeGroup:
				walk(it.Items, sc, indent)
				continue
			case !ok:
				continue
			}
			texts := make([]string, len(vals))
			for j, x := range vals {
				texts[j] = valueText(it, x)
			}
			out = append(out, indent+name+": "+strings.Join(texts, ", "))
		}
	}
	walk(f.Items, a, "")
	return out
}

// valueText is how an answer reads.
func valueText(it *form.Item, x form.Value) string {
	switch it.Type {
	case form.TypeNumber:
		s := numberText(x.Number)
		if it.Unit != nil && it.Unit.Text() != "" {
			s += " " + it.Unit.Text()
		}
		return s
	case form.TypeBoolean:
		if x.Bool {
			return L(textFvYes)
		}
		return L(textFvNo)
	case form.TypeChoice, form.TypeMultiChoice:
		for _, o := range it.Options {
			if o.Code == x.Code && x.Code != "" {
				return o.Text()
			}
		}
		if x.Code != "" {
			return x.Code
		}
		return x.Text
	case form.TypeAttachment:
		if x.Attachment != nil {
			return x.Attachment.Name
		}
		return ""
	}
	return x.Text
}

// numberText writes a number the Swedish way, with a decimal comma.
func numberText(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strings.Replace(strconv.FormatFloat(f, 'f', -1, 64), ".", ",", 1)
}
