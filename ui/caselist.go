package ui

import (
	"context"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
)

// pageSize is how many rows one read fetches; "Visa fler" reads the next page.
const pageSize = 100

// Texts of the case lists.
const (
	textAll      = "caselist.all_statuses"
	textMore     = "caselist.show_more"
	textNoCases  = "caselist.no_cases_show"
	textLoadingC = "caselist.loading_cases"
	dateLayout   = "2006-01-02 15:04"
)

type listKind int

const (
	clinicList listKind = iota // Mottagningens ärenden (ärendemottagare)
	myList                     // Mina ärenden (assigned to the staff member)
)

type caseListDeps struct {
	ctx   context.Context
	tasks *tasks
	dir   Directory
	cases CaseLists
	sess  app.Session
	// onOpen opens a case (the case view); nil leaves rows unselectable.
	onOpen func(r app.CaseRow)
	// onUnread reports the list's unread count, for the tab badge.
	onUnread func(n int)
}

// caseList is one case list: filters, search, a sortable table.
//
// Two sources fill it. The first paint reads one page through bbolt's
// indexes (a millisecond, however many cases there are) while the clinic's
// in-memory index builds in the background (app.CaseService.FindCases);
// from then on every filter, search and sort runs on the index and the
// table holds every matching case (it draws only the visible rows). While
// the list shows a page, "Visa fler" reads the next one.
type caseList struct {
	caseListDeps
	kind listKind
	// cols are the list's columns and sorts the sort each offers.
	cols  []column
	sorts []app.CaseSort
	// staffNames are the clinic's case staff by id (Handläggare).
	staffNames map[app.ID]string

	page  []app.CaseRow     // page mode: the rows read so far
	res   *app.CaseResult   // index mode: every matching case; nil in page mode
	next  string            // page mode: cursor of the next page; "" at the end
	gen   int               // bumped by every reload; late results of an older query are dropped
	names map[app.ID]string // e-service names by id, read with the first page
	staff []app.Staff       // the clinic's case staff, for the assignee filter
	sort  app.CaseSort
	rev   bool
	// autoOpen opens the first row when the index answers (screenshots).
	autoOpen bool
	// cached is the last row materialised for the table's cells: a row's
	// eight cells are filled one after the other.
	cachedIdx int
	cachedRes *app.CaseResult
	cached    app.CaseRow

	natural  []float32 // per column: fits the title and the usual texts on one line
	narrow   []float32 // per column: width when wrapped onto two lines; 0 when it never wraps
	wrap     bool      // the window is narrow: wrappable columns use two lines where needed
	subjectW float32   // the subject column's width as last laid out

	content  *fyne.Container
	status   *widget.Select
	typ      *widget.Select
	assignee *widget.Select // nil in Mina ärenden
	unread   *widget.Check
	search   *widget.Entry
	count    *widget.Label
	errText  *widget.Label // what went wrong, above the table
	empty    *widget.Label // "Inga ärenden att visa." over the empty table
	table    *widget.Table
	more     *widget.Button
}

// column is one column of the case table. Its width is computed from the
// title and the longest texts the column normally holds (samples); the
// subject column takes what is left of the window. A column with lines
// wraps its longer texts onto two lines when the window is too narrow for
// every column on one line: lines are the widest lines it must then hold.
// The title is Swedish (the key); samples and lines give the texts in the
// window's language, since the table is sized once the language is chosen.
type column struct {
	title   string
	samples func() []string
	lines   func() []string
	text    func(l *caseList, r *app.CaseRow) string
}

func fixed(s ...string) func() []string { return func() []string { return s } }

const subjectCol = 1

var columns = []column{
	{title: K("common.status"), samples: statusLabels, text: func(_ *caseList, r *app.CaseRow) string { return L(r.Status.Label()) }},
	{title: K("common.subject"), text: func(_ *caseList, r *app.CaseRow) string { return r.Subject }},
	{title: K("common.case_type"), samples: kindSamples, lines: func() []string { return []string{L("caselist.contact_the"), L("caselist.clinic")} }, text: (*caseList).kindText},
	{title: K("common.resident"), samples: fixed("Rasmus Gustafsson"), text: func(_ *caseList, r *app.CaseRow) string { return r.ResidentName }},
	{title: K("common.personnummer"), samples: fixed("20001231-0000"), text: func(_ *caseList, r *app.CaseRow) string {
		if r.PNR.IsZero() {
			return r.ReserveNumber
		}
		return r.PNR.String()
	}},
	// "Vårdnadshavare i ombudsläge" is the widest text of the table; in a
	// narrow window it takes two lines rather than squeezing the subject.
	// The lines are where it breaks (in English: "Guardian acting" and "as
	// proxy").
	{title: K("common.started_by"), samples: startedByLabels, lines: func() []string {
		return []string{L("caselist.guardian_acting"), L("caselist.as_proxy"), L(app.StartedByClinic.Label())}
	}, text: func(_ *caseList, r *app.CaseRow) string { return L(r.StartedBy.Label()) }},
	{title: K("caselist.last_activity"), samples: fixed(dateLayout), text: func(_ *caseList, r *app.CaseRow) string {
		return r.LastActivity.In(app.Stockholm).Format(dateLayout)
	}},
	{title: K("caselist.unread"), text: func(_ *caseList, r *app.CaseRow) string {
		if r.UnreadByStaff {
			return "●"
		}
		return ""
	}},
}

const unreadCol = 7

// statusLabels are the statuses as the window shows them.
func statusLabels() []string {
	var out []string
	for _, s := range app.AllStatuses {
		out = append(out, L(s.Label()))
	}
	return out
}

func startedByLabels() []string {
	return []string{L(app.StartedByResident.Label()), L(app.StartedByGuardian.Label()), L(app.StartedByClinic.Label())}
}

func kindSamples() []string {
	out := []string{L(app.KindInformation.Label()), L(app.KindQuestion.Label())}
	for _, e := range app.StandardCatalogue {
		out = append(out, L(e.Name))
	}
	return out
}

// Texts of the filters.
const (
	textSearch       = "caselist.search_personnummer_name_or_subject"
	textUnreadOnly   = "caselist.unread_only"
	textUnassigned   = "caselist.unassigned_plural"
	textAllTypes     = "common.all_types"
	textAllAssignees = "caselist.all_handlers"

	// filterMaxWidth is the widest a filter of the list grows.
	filterMaxWidth = 240
	textSearching  = "caselist.searching"
)

// sortOf maps a column of columns to the sort it offers.
var sortOf = []app.CaseSort{app.SortStatus, app.SortSubject, app.SortType, app.SortResident, app.SortPNR, app.SortStartedBy, app.SortActivity, app.SortUnread}

// assigneeColumn is Handläggare, in Mottagningens ärenden only (in Mina
// ärenden it would always be oneself), before Senaste aktivitet.
var assigneeColumn = column{title: K("caselist.assignee"), samples: fixed("Anna Lindqvist"), lines: func() []string {
	return []string{"Lindqvist", L(textNobodyYet)}
}, text: func(l *caseList, r *app.CaseRow) string {
	if r.AssigneeID == "" {
		return L(textNobodyYet)
	}
	if n, ok := l.staffNames[r.AssigneeID]; ok {
		return n
	}
	return L(cvUnknownStaff)
}}

const textNobodyYet = "caselist.unassigned_singular"

// listColumns are the columns of a list and the sort each offers.
func listColumns(kind listKind) ([]column, []app.CaseSort) {
	if kind != clinicList {
		return columns, sortOf
	}
	at := 6 // before Senaste aktivitet
	cols := slices.Concat(columns[:at], []column{assigneeColumn}, columns[at:])
	sorts := slices.Concat(sortOf[:at], []app.CaseSort{app.SortAssignee}, sortOf[at:])
	return cols, sorts
}

func newCaseList(d caseListDeps, kind listKind) *caseList {
	l := &caseList{caseListDeps: d, kind: kind}
	l.cols, l.sorts = listColumns(kind)

	l.status = newSelect(append([]string{L(textAll)}, statusLabels()...), func(string) { l.reload() })
	l.status.Selected = L(textAll)
	l.typ = newSelect([]string{L(textAllTypes)}, func(string) { l.reload() })
	l.typ.Selected = L(textAllTypes)
	if kind == clinicList {
		l.assignee = newSelect([]string{L(textAllAssignees), L(textUnassigned)}, func(string) { l.reload() })
		l.assignee.Selected = L(textAllAssignees)
	}
	l.unread = widget.NewCheck(L(textUnreadOnly), func(bool) { l.reload() })
	l.search = widget.NewEntry()
	l.search.SetPlaceHolder(L(textSearch))
	l.search.OnChanged = func(string) { l.reload() }
	l.count = widget.NewLabel("")
	l.errText = widget.NewLabel("")
	l.errText.Wrapping = fyne.TextWrapWord
	l.errText.Importance = widget.DangerImportance
	l.errText.Hide()
	l.empty = widget.NewLabel(L(textNoCases))
	l.empty.Hide()
	l.more = widget.NewButtonWithIcon(L(textMore), theme.MoveDownIcon(), l.loadMore)
	l.more.Hide()

	l.table = widget.NewTableWithHeaders(
		func() (int, int) { return l.len(), len(l.cols) },
		func() fyne.CanvasObject {
			// The template sets the row height: two lines while the
			// window is narrow (fitRows).
			lbl := widget.NewLabel("")
			if l.wrap {
				lbl.SetText("\n")
			}
			lbl.Truncation = fyne.TextTruncateEllipsis
			return lbl
		},
		l.updateCell,
	)
	l.table.ShowHeaderColumn = false
	// Column titles are buttons: a tap sorts by the column, a second tap
	// turns the order around.
	l.table.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Alignment = widget.ButtonAlignLeading
		b.Importance = widget.LowImportance
		return b
	}
	l.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		title := L(l.cols[id.Col].title)
		col := id.Col
		if l.sorts[col] == l.sort {
			if l.rev {
				title += " ▲"
			} else {
				title += " ▼"
			}
		}
		b.SetText(title)
		b.OnTapped = func() { l.sortBy(col) }
	}
	l.table.OnSelected = func(id widget.TableCellID) {
		l.table.Unselect(id)
		if id.Row >= 0 && id.Row < l.len() && l.onOpen != nil {
			l.onOpen(l.row(id.Row))
		}
	}
	l.sizeColumns()

	// Each filter as wide as its longest choice (a long e-service name
	// is cut at filterMaxWidth).
	filters := container.NewHBox(wideSelect(l.status, filterMaxWidth), wideSelect(l.typ, filterMaxWidth))
	if l.assignee != nil {
		filters.Add(wideSelect(l.assignee, filterMaxWidth))
	}
	filters.Add(l.unread)
	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, l.count, l.search),
		container.NewBorder(nil, nil, filters, nil),
		l.errText)
	bottom := container.NewHBox(layout.NewSpacer(), l.more, layout.NewSpacer())
	table := container.New(fillSubject{l}, l.table)
	l.content = container.NewBorder(top, bottom, nil, nil,
		container.NewStack(table, container.NewCenter(l.empty)))
	l.reload()
	return l
}

// len is the number of rows the table holds.
func (l *caseList) len() int {
	if l.res != nil {
		return l.res.Len()
	}
	return len(l.page)
}

// row returns row i.
func (l *caseList) row(i int) app.CaseRow {
	if l.res != nil {
		if l.cachedRes == l.res && l.cachedIdx == i {
			return l.cached
		}
		l.cachedRes, l.cachedIdx, l.cached = l.res, i, l.res.Row(i)
		return l.cached
	}
	return l.page[i]
}

// sortBy sorts by a column's sort, or turns the order around.
func (l *caseList) sortBy(col int) {
	by := l.sorts[col]
	if by == l.sort {
		l.rev = !l.rev
	} else {
		l.sort, l.rev = by, false
	}
	l.reload()
}

// sizeColumns measures the columns with the table's theme, as labels, so
// that a text of the samples is never cut short.
func (l *caseList) sizeColumns() {
	// A little slack: a label truncates when its text is a fraction of a
	// pixel wider than the cell.
	slack := l.table.Theme().Size(theme.SizeNamePadding)
	width := func(text string, bold bool) float32 {
		return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: bold}).MinSize().Width + slack
	}
	l.natural = make([]float32, len(l.cols))
	l.narrow = make([]float32, len(l.cols))
	for i, c := range l.cols {
		title := width(L(c.title), true)
		l.natural[i] = title
		if c.samples != nil {
			for _, s := range c.samples() {
				l.natural[i] = max(l.natural[i], width(s, false))
			}
		}
		if c.lines != nil {
			l.narrow[i] = title
			for _, s := range c.lines() {
				l.narrow[i] = max(l.narrow[i], width(s, false))
			}
		}
		if i != subjectCol {
			l.table.SetColumnWidth(i, l.natural[i])
		}
	}
}

// Widths of the subject column: below comfortSubject the wrappable columns
// go to two lines; below minSubject the table scrolls sideways.
const (
	comfortSubject = 240
	minSubject     = 170
)

// fillSubject lays the table out over its whole space and gives the subject
// column what the other columns leave, so the table fills the window.
type fillSubject struct{ list *caseList }

func (f fillSubject) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	f.list.fit(size.Width)
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (f fillSubject) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// fit sets the column widths for a table width.
func (l *caseList) fit(width float32) {
	pad := l.table.Theme().Size(theme.SizeNamePadding)
	avail := width - pad*float32(len(l.cols)-1)
	others := func(wrap bool) (sum float32) {
		for i := range l.cols {
			switch {
			case i == subjectCol:
			case wrap && l.narrow[i] > 0:
				sum += l.narrow[i]
			default:
				sum += l.natural[i]
			}
		}
		return sum
	}
	wrap := avail-others(false) < comfortSubject
	subject := max(avail-others(wrap), minSubject)
	if wrap != l.wrap {
		l.wrap = wrap
		for i, w := range l.narrow {
			switch {
			case w == 0:
			case wrap:
				l.table.SetColumnWidth(i, w)
			default:
				l.table.SetColumnWidth(i, l.natural[i])
			}
		}
		l.fitRows(0)
	}
	if subject != l.subjectW {
		l.subjectW = subject
		l.table.SetColumnWidth(subjectCol, subject)
	}
}

// fitRows makes every row two lines tall in a narrow window, where the
// wrappable columns wrap, and one line otherwise. Rows of their own
// heights (one Table.SetRowHeight per two-line row) refreshed the table at
// each call: with 100,000 cases that was half a minute of full CPU after
// every list change (issue 18, item 9). The row height now follows the
// cell template (CreateCell), which the table measures at each refresh:
// one refresh, whatever the number of rows. from is kept for callers.
func (l *caseList) fitRows(from int) {
	_ = from
	l.table.Refresh()
}

func (l *caseList) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	lbl := o.(*widget.Label)
	if id.Row < 0 || id.Row >= l.len() {
		lbl.SetText("")
		return
	}
	r := l.row(id.Row)
	// Fyne's own ellipsis shapes the text anew on every refresh (a new
	// HarfBuzz shaper per label, about a millisecond each), which made
	// scrolling 100,000 rows stutter; fitText shortens with the cached
	// text measurer instead.
	lbl.Wrapping, lbl.Truncation = fyne.TextWrapOff, fyne.TextTruncateOff
	wrap := l.wrap && l.narrow[id.Col] > 0
	if wrap {
		lbl.Wrapping = fyne.TextWrapWord
	}
	lbl.Alignment = fyne.TextAlignLeading
	lbl.Importance = widget.MediumImportance
	// An unread case stands out by its subject in bold and the dot.
	lbl.TextStyle.Bold = id.Col == subjectCol && r.UnreadByStaff
	if id.Col == len(l.cols)-1 { // Oläst
		lbl.Alignment = fyne.TextAlignCenter
		lbl.Importance = widget.HighImportance
	}
	text := l.cols[id.Col].text(l, &r)
	if !wrap {
		text = l.fitText(text, l.colWidth(id.Col), lbl.TextStyle)
	}
	lbl.SetText(text)
}

// colWidth is the width of a column as last set.
func (l *caseList) colWidth(col int) float32 {
	if col == subjectCol {
		return l.subjectW
	}
	if l.wrap && l.narrow[col] > 0 {
		return l.narrow[col]
	}
	return l.natural[col]
}

// fitText shortens text with an ellipsis to fit a cell of width w.
func (l *caseList) fitText(text string, w float32, style fyne.TextStyle) string {
	th := l.table.Theme()
	size := th.Size(theme.SizeNameText)
	avail := w - 2*th.Size(theme.SizeNameInnerPadding) - th.Size(theme.SizeNamePadding)
	if text == "" || avail <= 0 {
		return text
	}
	full := fyne.MeasureText(text, size, style).Width
	if full <= avail {
		return text
	}
	runes := []rune(text)
	// Start from the proportional estimate and step down: one or two
	// measurements instead of a search.
	n := min(len(runes)-1, int(float32(len(runes))*avail/full))
	for ; n > 0; n-- {
		s := strings.TrimRight(string(runes[:n]), " ") + "…"
		if fyne.MeasureText(s, size, style).Width <= avail {
			return s
		}
	}
	return "…"
}

// kindText is the e-service's name for an e-service case, otherwise the
// kind (Information or Fråga).
func (l *caseList) kindText(r *app.CaseRow) string {
	if r.Kind == app.KindEService {
		if n, ok := l.names[r.EServiceID]; ok {
			return n
		}
	}
	return L(r.Kind.Label())
}

// filter is the list's filter as the app's index takes it.
func (l *caseList) filter() app.CaseFilter {
	f := app.CaseFilter{List: app.ClinicList, Sort: l.sort, Reverse: l.rev, UnreadOnly: l.unread.Checked, Search: l.search.Text}
	if l.kind == myList {
		f.List = app.MyList
	}
	for _, s := range app.AllStatuses {
		if L(s.Label()) == l.status.Selected {
			f.Status = s
		}
	}
	if l.typ.Selected != L(textAllTypes) {
		for _, k := range []app.CaseKind{app.KindInformation, app.KindQuestion} {
			if L(k.Label()) == l.typ.Selected {
				f.Type = string(k)
			}
		}
		for id, n := range l.names {
			if n == l.typ.Selected {
				f.Type = string(id)
			}
		}
	}
	if l.assignee != nil {
		switch l.assignee.Selected {
		case L(textAllAssignees):
		case L(textUnassigned):
			f.Unassigned = true
		default:
			for _, st := range l.staff {
				if st.Name == l.assignee.Selected {
					f.AssigneeID = st.ID
				}
			}
		}
	}
	return f
}

// pageable reports whether bbolt's indexes alone can answer the filter
// (status, newest first): then the first paint needs no in-memory index.
func pageable(f app.CaseFilter) bool {
	return f.Type == "" && f.AssigneeID == "" && !f.Unassigned && !f.UnreadOnly &&
		strings.TrimSpace(f.Search) == "" && f.Sort == app.SortActivity && !f.Reverse
}

// reload shows the list for the current filter. Before the index is
// ready, a filter bbolt can answer shows its first page at once; the
// index result replaces it when it comes.
func (l *caseList) reload() {
	l.gen++
	f := l.filter()
	l.errText.Hide()
	l.empty.Hide()
	l.more.Hide()
	if l.res == nil && pageable(f) {
		l.page, l.next = nil, ""
		l.fitRows(0)
		l.table.ScrollToTop()
		l.count.SetText(L(textLoadingC))
		l.content.Refresh()
		q := app.CaseQuery{Limit: pageSize, Status: f.Status}
		l.fetch(q)
	} else {
		l.count.SetText(L(textSearching))
	}
	l.find(f, false)
}

// loadMore reads the page after the rows shown (page mode only).
func (l *caseList) loadMore() {
	if l.next == "" || l.res != nil {
		return
	}
	l.more.Disable()
	l.errText.Hide()
	l.content.Refresh()
	q := app.CaseQuery{Limit: pageSize, After: l.next, Status: l.filter().Status}
	l.fetch(q)
}

// loadNames reads the e-service names and the clinic's case staff once.
func (l *caseList) loadNames() (map[app.ID]string, []app.Staff) {
	names := eserviceNames(l.ctx, l.dir, l.sess.ClinicID)
	all, err := l.dir.AllStaff(l.ctx)
	if err != nil {
		logError("list staff", err, "clinic", l.sess.ClinicID)
	}
	var staff []app.Staff
	for _, st := range all {
		if st.Has(l.sess.ClinicID, app.RoleCaseHandler) || st.Has(l.sess.ClinicID, app.RoleCaseReceiver) {
			staff = append(staff, st)
		}
	}
	return names, staff
}

// setNames fills the type and assignee filters.
func (l *caseList) setNames(names map[app.ID]string, staff []app.Staff) {
	if l.names != nil {
		return
	}
	l.names, l.staff = names, staff
	l.staffNames = make(map[app.ID]string, len(staff))
	for _, st := range staff {
		l.staffNames[st.ID] = st.Name
	}
	types := []string{L(textAllTypes), L(app.KindInformation.Label()), L(app.KindQuestion.Label())}
	var es []string
	for _, n := range names {
		es = append(es, n)
	}
	slices.Sort(es)
	l.typ.Options = append(types, es...)
	l.typ.Refresh()
	if l.assignee != nil {
		opts := []string{L(textAllAssignees), L(textUnassigned)}
		for _, st := range staff {
			opts = append(opts, st.Name)
		}
		l.assignee.Options = opts
		l.assignee.Refresh()
	}
}

// fetch reads one page through bbolt's indexes.
func (l *caseList) fetch(q app.CaseQuery) {
	gen, needNames := l.gen, l.names == nil
	l.tasks.run(func() func() {
		var names map[app.ID]string
		var staff []app.Staff
		if needNames {
			names, staff = l.loadNames()
		}
		var page app.RowPage
		var err error
		if l.kind == clinicList {
			page, err = l.cases.ClinicCases(l.ctx, l.sess, q)
		} else {
			page, err = l.cases.MyCases(l.ctx, l.sess, q)
		}
		return func() {
			if needNames {
				l.setNames(names, staff)
			}
			if gen != l.gen || l.res != nil {
				return // the filter changed, or the index answered first
			}
			l.showPage(page, q.After != "", err)
		}
	})
}

// find asks the in-memory index; the first call waits for it to build.
// again: the same filter read again after a change (refresh), in the
// background and keeping the scroll position.
func (l *caseList) find(f app.CaseFilter, again bool) {
	gen, needNames := l.gen, l.names == nil
	run := l.tasks.run
	if again {
		run = l.tasks.background
	}
	run(func() func() {
		var names map[app.ID]string
		var staff []app.Staff
		if needNames {
			names, staff = l.loadNames()
		}
		res, err := l.cases.FindCases(l.ctx, l.sess, f)
		return func() {
			if needNames {
				l.setNames(names, staff)
			}
			if gen != l.gen {
				return
			}
			l.showResult(res, err, again)
		}
	})
}

func (l *caseList) showError(err error) {
	logError("list cases", err, "list", l.kind.String(), "clinic", l.sess.ClinicID, "staff", l.sess.Staff.ID)
	if l.len() == 0 {
		l.count.SetText("")
	}
	l.errText.SetText(caseListError(err))
	l.errText.Show()
	l.content.Refresh()
}

func (l *caseList) showPage(page app.RowPage, appended bool, err error) {
	l.more.Enable()
	if err != nil {
		l.showError(err)
		return
	}
	if !appended {
		l.page = l.page[:0]
	}
	from := len(l.page)
	l.page = append(l.page, page.Rows...)
	l.next = page.Next
	l.fitRows(from)
	l.more.Hidden = l.next == ""
	defer l.content.Refresh()
	switch n := len(l.page); {
	case n == 0:
		l.count.SetText("")
		l.empty.Show()
	case n == 1:
		l.count.SetText(L("caselist.showing_1_case"))
	case l.next != "":
		l.count.SetText(Lf("caselist.showing_most_recent_cases_there", n))
	default:
		l.count.SetText(Lf("caselist.showing_cases", n))
	}
}

func (l *caseList) showResult(res *app.CaseResult, err error, again bool) {
	if err != nil {
		l.showError(err)
		return
	}
	l.res, l.page, l.next = res, nil, ""
	l.more.Hide()
	l.errText.Hide()
	l.fitRows(0)
	if !again {
		l.table.ScrollToTop()
	}
	l.table.Refresh()
	if l.onUnread != nil {
		l.onUnread(res.Unread)
	}
	if l.autoOpen && res.Len() > 0 && l.onOpen != nil {
		l.autoOpen = false
		defer l.onOpen(l.row(0))
	}
	defer l.content.Refresh()
	n := res.Len()
	l.empty.Hidden = n != 0
	switch {
	case n == res.Total && n == 1:
		l.count.SetText(L("caselist.1_case"))
	case n == res.Total:
		l.count.SetText(Lf("caselist.cases", n))
	default:
		l.count.SetText(Lf("caselist.of_cases", n, res.Total))
	}
}

// refresh reads the list again for the current filter, keeping the
// scroll position where it can (after a change to a case, here or by
// sync). It is no user activity: a sync in the background does not keep
// the window from locking.
func (l *caseList) refresh() { l.gen++; l.find(l.filter(), true) }

func (k listKind) String() string {
	if k == clinicList {
		return "clinic"
	}
	return "mine"
}

// eserviceNames maps e-service ids to names: the national catalogue and the
// clinic's local e-services. A failed read only costs the local names (the
// column then says "E-tjänst"), so it is logged and not shown.
func eserviceNames(ctx context.Context, dir Directory, clinic app.ID) map[app.ID]string {
	names := make(map[app.ID]string, len(app.StandardCatalogue))
	for _, e := range app.StandardCatalogue {
		names[e.ID] = L(e.Name) // the national catalogue's names are translated; a clinic's own are not
	}
	local, err := dir.EServices(ctx, clinic)
	if err != nil {
		logError("list e-services", err, "clinic", clinic)
	}
	for _, e := range local {
		names[e.ID] = e.Name
	}
	return names
}
