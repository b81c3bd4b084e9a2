package ui

import (
	"errors"
	"math"
	"reflect"
	"slices"
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
	textFvRequired   = "formview.fields_marked_required"
	textFvYes        = "formview.yes"
	textFvNo         = "formview.no"
	textFvAddInst    = "formview.add"
	textFvRemoveInst = "common.remove"
	textFvAddAnswer  = "formview.add_answer"
	textFvAttach     = "formview.attach_sample_file"
	textFvAttached   = "formview.attached"
	textFvNoFile     = "formview.no_file_attached"
	textFvDateHint   = "common.yyyy_mm_dd"
	textFvDTHint     = "formview.yyyy_mm_ddthh_mm"
	textFvTimeHint   = "formview.hh_mm"
	textFvPNRHint    = "common.yyyymmdd_nnnn"
	textFvPhoneHint  = "formview.mobile_example"
	textFvEmailHint  = "formview.name_example_com"
	textFvScore      = "formview.score"
	textFvNoScore    = "formview.no_score_yet"
	textFvInstance   = "formview.title_and_number"
	textFvEmpty      = "formview.form_has_no_questions_yet"
	textFvPrev       = "formview.previous"
	textFvNext       = "formview.next"
	textFvPageOf     = "formview.page_of"
	textFvPageErrors = "formview.correct_what_marked_before_you"
)

// previewAttachmentName is the made-up file the preview "attaches": the
// preview never reads or stores a file.
const previewAttachmentName = "exempel.pdf"

// formView renders one version of an e-service's form the way a resident
// sees it, with the live visibility logic and validation of the form
// engine (form.Form.Evaluate) as the answers change. The same view serves
// the builder's Förhandsgranska and the citizen preview; it keeps the
// answers in memory only.
//
// A form with page groups shows one page at a time, with Föregående,
// "Sida N av M" and Nästa; the pages are the engine's (form.State.Pages),
// so a page hidden by logic is skipped and not counted. Nästa checks the
// page on screen with the same engine call as sending (form.Form.Accept)
// and stays when a visible field of the page is missing or wrong. The
// final action (the preview's Skicka) shows on the last visible page
// only. The widgets of every page live as long as the view, and the
// answers are one map, so going back and forth keeps them.
//
// A field's error shows once the field has been answered (a required
// field's "Fyll i …" only after Nästa on its page or an attempt to send),
// so that an empty form does not open in red.
type formView struct {
	f   *form.Form
	now time.Time

	answers form.Answers
	state   form.State
	// shownPage is the page the rows' kept error places belong to.
	shownPage int
	touched   map[string]bool
	showAll   bool         // after Skicka: every error shows
	checked   map[int]bool // pages whose Nästa was refused: their errors show
	loading   bool         // widgets are being filled by code

	// pageOf is the page (of the definition) of each top-level item, by
	// its index in f.Items: a page group is a page, and so is each run of
	// top-level items between page groups, as in form.Form.Evaluate.
	pageOf []int
	npages int
	page   int                   // the page on screen
	objs   [][]fyne.CanvasObject // the rendered items of each page
	build  int                   // the page whose rows are being made

	content  *fyne.Container
	hint     *widget.Label // nil when no field is required
	pageErr  *widget.Label
	prev     *widget.Button
	next     *widget.Button
	pageNo   *widget.Label
	finalBox *fyne.Container
	nav      *fyne.Container
	final    fyne.CanvasObject // nil until setFinal

	rows []*fieldRow
	// repeats are the repeating questions on screen by path, so that a
	// rebuild keeps their blank answer fields.
	repeats map[string]*repeatField

	// onChange runs after every change of the answers.
	onChange func()
	// onPage runs after the page on screen changed.
	onPage func()
}

// fieldRow is one item on screen, at one path.
type fieldRow struct {
	path  string
	item  *form.Item
	page  int
	box   *fyne.Container // the whole row: hidden when the item is
	errs  *widget.Label
	input fyne.CanvasObject // the widget that answers it; nil for groups and texts
	rep   *repeatField      // a repeating question only
	score *widget.Label     // the score item only
	// keep: the row has shown an error on this page; its place stays
	// while the page shows, so that fields do not jump when it clears.
	keep bool
}

// newFormView shows f with its initial answers, evaluated at now (the
// century of a 10-digit personnummer, today's date).
func newFormView(f *form.Form, now time.Time) *formView {
	v := &formView{f: f, now: now, answers: f.InitialAnswers(), touched: map[string]bool{}, checked: map[int]bool{}}
	isPage := func(it *form.Item) bool { return it.Type == form.TypeGroup && it.Page }
	cur := -1
	for i := range f.Items {
		if i == 0 || isPage(&f.Items[i]) || isPage(&f.Items[i-1]) {
			cur++
		}
		v.pageOf = append(v.pageOf, cur)
	}
	v.npages = cur + 1
	v.content = container.NewVBox()
	if v.hasRequired() {
		v.hint = widget.NewLabel(L(textFvRequired))
		v.hint.SizeName = theme.SizeNameCaptionText
	}
	v.pageErr = widget.NewLabel(L(textFvPageErrors))
	v.pageErr.Wrapping = fyne.TextWrapWord
	v.pageErr.Importance = widget.DangerImportance
	v.pageErr.Hide()
	v.finalBox = container.NewHBox()
	if v.paged() {
		v.prev = widget.NewButtonWithIcon(L(textFvPrev), theme.NavigateBackIcon(), v.prevPage)
		v.next = widget.NewButtonWithIcon(L(textFvNext), theme.NavigateNextIcon(), v.nextPage)
		v.next.IconPlacement = widget.ButtonIconTrailingText
		v.next.Importance = widget.HighImportance
		v.pageNo = widget.NewLabel("")
		v.nav = container.NewBorder(nil, nil, v.prev, container.NewHBox(v.next, v.finalBox), container.NewCenter(v.pageNo))
	} else {
		v.nav = v.finalBox
	}
	v.rebuild()
	return v
}

// paged reports whether the form has more than one page.
func (v *formView) paged() bool { return v.npages > 1 }

// setFinal places the form's last action (the preview's Skicka) after the
// form: on the last visible page only when the form has pages.
func (v *formView) setFinal(o fyne.CanvasObject) {
	v.final = o
	v.finalBox.Objects = []fyne.CanvasObject{o}
	v.showNav(v.visiblePages())
	v.finalBox.Refresh()
}

// rebuild makes the widgets anew (a repeating group gained or lost an
// instance) and shows the state.
func (v *formView) rebuild() {
	v.rows = nil
	old := v.repeats
	v.repeats = map[string]*repeatField{}
	v.objs = make([][]fyne.CanvasObject, v.npages)
	v.loading = true
	for i := range v.f.Items {
		v.build = v.pageOf[i]
		v.objs[v.build] = append(v.objs[v.build], v.item(&v.f.Items[i], v.answers, "", true, old))
	}
	v.loading = false
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
func (v *formView) items(items []form.Item, sc form.Answers, prefix string, old map[string]*repeatField) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for i := range items {
		out = append(out, v.item(&items[i], sc, prefix, false, old))
	}
	return out
}

func (v *formView) item(it *form.Item, sc form.Answers, prefix string, top bool, old map[string]*repeatField) fyne.CanvasObject {
	path := prefix + it.ID
	row := &fieldRow{path: path, item: it, page: v.build, errs: widget.NewLabel("")}
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
			parts = append(parts, v.instances(it, sc, path, old))
		} else {
			parts = append(parts, container.NewPadded(container.NewVBox(v.items(it.Items, sc, prefix, old)...)))
		}
		row.box = container.NewVBox(parts...)
		return row.box
	default:
		parts = append(parts, head)
		if it.Help != "" {
			parts = append(parts, helpLabel(it.Help))
		}
		if repeatsQuestion(it) {
			row.rep = v.repeating(it, sc, row, old[path])
			row.input = row.rep.box
		} else {
			row.input = v.input(it, sc, row)
		}
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
func (v *formView) instances(g *form.Item, sc form.Answers, path string, old map[string]*repeatField) fyne.CanvasObject {
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
		box.Add(container.NewPadded(container.NewVBox(append([]fyne.CanvasObject{head}, v.items(g.Items, inst, p, old)...)...)))
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

// repeatsQuestion reports whether it is a question that takes several
// answers, one field each (a multiple choice takes them in its one list
// of boxes; a read-only item shows its answers as they are).
func repeatsQuestion(it *form.Item) bool {
	switch it.Type {
	case form.TypeGroup, form.TypeDisplay, form.TypeMultiChoice:
		return false
	}
	return it.Repeats && !it.ReadOnly
}

// repeatField is a repeating question on screen: one field per answer,
// each with Ta bort, and Lägg till svar. A field left blank is no answer:
// the answers (what the engine sees) hold the filled fields only, in
// order, so a blank number or yes/no field never counts as 0 or Nej.
type repeatField struct {
	it    *form.Item
	sc    form.Answers
	row   *fieldRow
	slots []*answerSlot
	box   *fyne.Container
	add   *widget.Button
}

// answerSlot is one field of a repeating question.
type answerSlot struct {
	val    form.Value
	set    bool // false: the field is blank
	input  fyne.CanvasObject
	remove *widget.Button
}

// repeating renders the repeating question it of the level sc. prev is
// the same question before a rebuild: its blank fields stay when its
// answers are still the same.
func (v *formView) repeating(it *form.Item, sc form.Answers, row *fieldRow, prev *repeatField) *repeatField {
	r := &repeatField{it: it, sc: sc, row: row, box: container.NewVBox()}
	if prev != nil && reflect.DeepEqual(prev.values(), sc[it.ID]) {
		for _, s := range prev.slots {
			r.slots = append(r.slots, &answerSlot{val: s.val, set: s.set})
		}
	} else {
		for _, x := range sc[it.ID] {
			r.slots = append(r.slots, &answerSlot{val: x, set: true})
		}
	}
	if len(r.slots) == 0 {
		r.slots = []*answerSlot{{}}
	}
	v.repeats[row.path] = r
	r.render(v)
	return r
}

// values are the filled fields' answers.
func (r *repeatField) values() []form.Value {
	var out []form.Value
	for _, s := range r.slots {
		if s.set {
			out = append(out, s.val)
		}
	}
	return out
}

// store writes the filled fields into the answers.
func (r *repeatField) store() {
	if vals := r.values(); len(vals) > 0 {
		r.sc[r.it.ID] = vals
	} else {
		delete(r.sc, r.it.ID)
	}
}

// render makes the fields anew (one came or went).
func (r *repeatField) render(v *formView) {
	was := v.loading
	v.loading = true
	defer func() { v.loading = was }()
	objs := make([]fyne.CanvasObject, 0, len(r.slots)+1)
	for _, s := range r.slots {
		s := s
		var cur []form.Value
		if s.set {
			cur = []form.Value{s.val}
		}
		s.input = v.field(r.it, cur, func(vals []form.Value) {
			s.set = len(vals) > 0
			s.val = form.Value{}
			if s.set {
				s.val = vals[0]
			}
			r.store()
			v.touched[r.row.path] = true
			v.changed(false)
		})
		s.remove = widget.NewButtonWithIcon(L(textFvRemoveInst), theme.DeleteIcon(), func() { r.removeSlot(v, s) })
		if len(r.slots) == 1 {
			// The one field is emptied, not removed.
			s.remove.Hide()
		}
		objs = append(objs, container.NewBorder(nil, nil, nil, s.remove, s.input))
	}
	r.add = widget.NewButtonWithIcon(L(textFvAddAnswer), theme.ContentAddIcon(), func() { r.addSlot(v) })
	if len(r.slots) >= form.MaxValues {
		r.add.Disable()
	}
	objs = append(objs, container.NewHBox(r.add))
	r.box.Objects = objs
	r.box.Refresh()
}

// addSlot adds a blank field and puts the cursor in it; the answers do not
// change until it is filled.
func (r *repeatField) addSlot(v *formView) {
	if len(r.slots) >= form.MaxValues {
		return
	}
	s := &answerSlot{}
	r.slots = append(r.slots, s)
	r.render(v)
	v.content.Refresh()
	if c := fyne.CurrentApp().Driver().CanvasForObject(r.box); c != nil {
		if f, ok := s.input.(fyne.Focusable); ok {
			c.Focus(f)
		}
	}
}

// removeSlot removes a field and its answer.
func (r *repeatField) removeSlot(v *formView, s *answerSlot) {
	i := slices.Index(r.slots, s)
	if i < 0 || len(r.slots) == 1 {
		return
	}
	r.slots = slices.Delete(r.slots, i, i+1)
	r.store()
	r.render(v)
	v.touched[r.row.path] = true
	v.changed(false)
}

// input makes the widget that answers it, filled from sc and writing to it.
func (v *formView) input(it *form.Item, sc form.Answers, row *fieldRow) fyne.CanvasObject {
	cur := sc[it.ID]
	if it.ReadOnly {
		if it.ID == v.f.ScoreItem {
			row.score = widget.NewLabel("")
			return row.score
		}
		texts := make([]string, len(cur))
		for i, x := range cur {
			texts[i] = valueText(it, x)
		}
		e := widget.NewEntry()
		e.SetText(strings.Join(texts, ", "))
		e.Disable()
		return e
	}
	return v.field(it, cur, func(vals []form.Value) {
		if len(vals) == 0 {
			delete(sc, it.ID)
		} else {
			sc[it.ID] = vals
		}
		v.touched[row.path] = true
		v.changed(false)
	})
}

// field makes a widget that shows the answers cur of it and hands every
// change to set (nil: no answer). It takes one answer, except a multiple
// choice, which takes all of its item's.
func (v *formView) field(it *form.Item, cur []form.Value, apply func([]form.Value)) fyne.CanvasObject {
	set := func(vals []form.Value) {
		if !v.loading {
			apply(vals)
		}
	}
	first := form.Value{}
	if len(cur) > 0 {
		first = cur[0]
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
	var obj fyne.CanvasObject = e
	switch it.Type {
	case form.TypeLongText:
		ta := newTextArea()
		e, obj = &ta.Entry, ta
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
	return obj
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

// update evaluates the answers and shows what follows: which pages and
// items are visible, the score and the errors.
func (v *formView) update() {
	v.state = v.f.Evaluate(v.answers, v.now)
	vis := v.visiblePages()
	if len(vis) > 0 && !slices.Contains(vis, v.page) {
		// An answer on another page hid the page on screen: show the
		// next visible one (the last, when none follows).
		p := vis[len(vis)-1]
		for _, q := range vis {
			if q > v.page {
				p = q
				break
			}
		}
		v.page = p
	}
	newPage := v.page != v.shownPage
	v.shownPage = v.page
	for _, r := range v.rows {
		r.box.Hidden = !v.state.Shown(r.path)
		var msgs []string
		for _, e := range v.state.ErrorsAt(r.path) {
			if v.showAll || v.checked[r.page] || (v.touched[r.path] && e.Code != form.CodeRequired) {
				msgs = append(msgs, e.Text)
			}
		}
		// An error that clears keeps its (one line of) place while the
		// page shows: the fields below stay under the pointer.
		if newPage || r.box.Hidden {
			r.keep = false
		}
		r.keep = r.keep || len(msgs) > 0
		text := strings.Join(msgs, "\n")
		if text == "" && r.keep {
			text = " "
		}
		r.errs.SetText(text)
		r.errs.Hidden = !r.keep
		if r.score != nil {
			if v.state.Scored > 0 {
				r.score.SetText(Lf(textFvScore, numberText(v.state.Score)))
			} else {
				r.score.SetText(L(textFvNoScore))
			}
		}
	}
	if !v.pageErr.Hidden && len(v.pageErrors(v.state.Errors)) == 0 {
		v.pageErr.Hide()
	}
	var objs []fyne.CanvasObject
	switch {
	case v.npages == 0:
		objs = append(objs, widget.NewLabel(L(textFvEmpty)))
	default:
		if v.hint != nil {
			objs = append(objs, v.hint)
		}
		objs = append(objs, v.objs[v.page]...)
	}
	objs = append(objs, v.pageErr, v.nav)
	v.content.Objects = objs
	v.showNav(vis)
	v.content.Refresh()
}

// visiblePages are the pages (of the definition) the engine shows with
// the answers, in order.
func (v *formView) visiblePages() []int {
	var out []int
	for _, p := range v.state.Pages {
		if i := v.pageIndex(p); i >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// pageIndex finds the engine's page p among the pages of the definition:
// its first visible path is one of its top-level items.
func (v *formView) pageIndex(p form.Page) int {
	if len(p.Items) == 0 {
		return -1
	}
	for i := range v.f.Items {
		if v.f.Items[i].ID == p.Items[0] {
			return v.pageOf[i]
		}
	}
	return -1
}

// showNav shows Föregående, "Sida N av M", Nästa and the final action as
// the page on screen allows.
func (v *formView) showNav(vis []int) {
	last := true
	if v.paged() {
		pos := slices.Index(vis, v.page)
		last = pos < 0 || pos == len(vis)-1
		v.pageNo.SetText(Lf(textFvPageOf, max(pos, 0)+1, max(len(vis), 1)))
		if pos <= 0 {
			v.prev.Disable()
		} else {
			v.prev.Enable()
		}
		v.next.Hidden = last
		v.next.Refresh()
	}
	if v.final != nil {
		if last {
			v.final.Show()
		} else {
			v.final.Hide()
		}
	}
}

// pageErrors are those of errs that belong to visible items of the page
// on screen.
func (v *formView) pageErrors(errs []form.FieldError) []form.FieldError {
	var items []string
	for _, p := range v.state.Pages {
		if v.pageIndex(p) == v.page {
			items = p.Items
		}
	}
	var out []form.FieldError
	for _, e := range errs {
		if slices.Contains(items, e.Path) {
			out = append(out, e)
		}
	}
	return out
}

// nextPage goes to the next visible page, unless the page on screen has
// a visible field that the server would refuse: then its errors show,
// naming the fields. The check is the one sending makes (Accept).
func (v *formView) nextPage() {
	if errs := v.pageErrors(v.refusals()); len(errs) > 0 {
		v.checked[v.page] = true
		v.pageErr.Show()
		v.update()
		return
	}
	vis := v.visiblePages()
	if i := slices.Index(vis, v.page); i >= 0 && i+1 < len(vis) {
		v.goTo(vis[i+1])
	}
}

// prevPage goes back to the previous visible page; going back checks
// nothing.
func (v *formView) prevPage() {
	vis := v.visiblePages()
	if i := slices.Index(vis, v.page); i > 0 {
		v.goTo(vis[i-1])
	}
}

func (v *formView) goTo(p int) {
	v.page = p
	v.pageErr.Hide()
	v.update()
	if v.onPage != nil {
		v.onPage()
	}
}

// refusals are the field errors with which the server would refuse the
// answers now.
func (v *formView) refusals() []form.FieldError {
	_, err := v.f.Accept(v.submission(), v.now)
	var ae *form.AnswersError
	if errors.As(err, &ae) {
		return ae.Fields
	}
	return nil
}

// errorsShown are the error texts on screen, in document order (tests).
func (v *formView) errorsShown() []string {
	var out []string
	for _, r := range v.rows {
		if r.page == v.page && !r.box.Hidden && !r.errs.Hidden && strings.TrimSpace(r.errs.Text) != "" {
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

// shown reports whether the item at path is on screen: on the page shown
// and not hidden by logic.
func (v *formView) shown(path string) bool {
	r := v.row(path)
	return r != nil && r.page == v.page && !r.box.Hidden
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
// it returns the cleaned answers that would be stored, or the refusal. On
// a refusal a form with pages shows the first page with an error (an
// answer on a later page may have shown a required field on an earlier
// one).
func (v *formView) submit() (form.Answers, error) {
	v.showAll = true
	v.update()
	clean, err := v.f.Accept(v.submission(), v.now)
	var ae *form.AnswersError
	if err != nil && v.paged() && errors.As(err, &ae) {
		for _, p := range v.state.Pages {
			if i := v.pageIndex(p); i >= 0 && slices.ContainsFunc(ae.Fields, func(e form.FieldError) bool { return slices.Contains(p.Items, e.Path) }) {
				if i != v.page {
					v.goTo(i)
				}
				break
			}
		}
	}
	return clean, err
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
