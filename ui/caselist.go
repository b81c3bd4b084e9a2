package ui

import (
	"context"
	"fmt"

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
	textAll      = "Alla"
	textMore     = "Visa fler"
	textNoCases  = "Inga ärenden att visa."
	textLoadingC = "Hämtar ärenden …"
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
}

// caseList is one case list with its status filter, a table of the rows
// read so far and "Visa fler" for the next page.
type caseList struct {
	caseListDeps
	kind listKind

	rows  []app.CaseRow
	next  string            // cursor of the next page; "" at the end
	gen   int               // bumped by every reload; late pages of an older query are dropped
	names map[app.ID]string // e-service names by id, read with the first page

	natural  []float32    // per column: fits the title and the usual texts on one line
	narrow   []float32    // per column: width when wrapped onto two lines; 0 when it never wraps
	wrap     bool         // the window is narrow: wrappable columns use two lines where needed
	subjectW float32      // the subject column's width as last laid out
	lineH    float32      // height of a one-line row
	tallH    float32      // height of a two-line row
	tall     map[int]bool // rows set to tallH

	content *fyne.Container
	status  *widget.Select
	count   *widget.Label
	errText *widget.Label // what went wrong, above the table
	empty   *widget.Label // "Inga ärenden att visa." over the empty table
	table   *widget.Table
	more    *widget.Button
}

// column is one column of the case table. Its width is computed from the
// title and the longest texts the column normally holds (samples); the
// subject column takes what is left of the window. A column with lines
// wraps its longer texts onto two lines when the window is too narrow for
// every column on one line: lines are the widest lines it must then hold.
type column struct {
	title   string
	samples []string
	lines   []string
	text    func(l *caseList, r *app.CaseRow) string
}

const subjectCol = 1

var columns = []column{
	{title: "Status", samples: statusLabels(), text: func(_ *caseList, r *app.CaseRow) string { return r.Status.Label() }},
	{title: "Ämne", text: func(_ *caseList, r *app.CaseRow) string { return r.Subject }},
	{title: "Ärendetyp", samples: kindSamples(), text: (*caseList).kindText},
	{title: "Invånare", samples: []string{"Rasmus Gustafsson"}, text: func(_ *caseList, r *app.CaseRow) string { return r.ResidentName }},
	{title: "Personnummer", samples: []string{"20001231-0000"}, text: func(_ *caseList, r *app.CaseRow) string {
		if r.PNR.IsZero() {
			return r.ReserveNumber
		}
		return r.PNR.String()
	}},
	// "Vårdnadshavare i ombudsläge" is the widest text of the table; in a
	// narrow window it takes two lines rather than squeezing the subject.
	{title: "Startad av", samples: startedByLabels(), lines: []string{"Vårdnadshavare i", "ombudsläge", app.StartedByClinic.Label()}, text: func(_ *caseList, r *app.CaseRow) string { return r.StartedBy.Label() }},
	{title: "Senaste aktivitet", samples: []string{dateLayout}, text: func(_ *caseList, r *app.CaseRow) string {
		return r.LastActivity.In(app.Stockholm).Format(dateLayout)
	}},
	{title: "Oläst", text: func(_ *caseList, r *app.CaseRow) string {
		if r.UnreadByStaff {
			return "●"
		}
		return ""
	}},
}

const unreadCol = 7

func statusLabels() []string {
	var out []string
	for _, s := range app.AllStatuses {
		out = append(out, s.Label())
	}
	return out
}

func startedByLabels() []string {
	return []string{app.StartedByResident.Label(), app.StartedByGuardian.Label(), app.StartedByClinic.Label()}
}

func kindSamples() []string {
	out := []string{app.KindInformation.Label(), app.KindQuestion.Label()}
	for _, e := range app.StandardCatalogue {
		out = append(out, e.Name)
	}
	return out
}

func newCaseList(d caseListDeps, kind listKind) *caseList {
	l := &caseList{caseListDeps: d, kind: kind}

	l.status = widget.NewSelect(append([]string{textAll}, statusLabels()...), func(string) { l.reload() })
	l.status.Selected = textAll
	l.count = widget.NewLabel("")
	l.errText = widget.NewLabel("")
	l.errText.Wrapping = fyne.TextWrapWord
	l.errText.Importance = widget.DangerImportance
	l.errText.Hide()
	l.empty = widget.NewLabel(textNoCases)
	l.empty.Hide()
	l.more = widget.NewButtonWithIcon(textMore, theme.MoveDownIcon(), l.loadMore)
	l.more.Hide()

	l.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(l.rows), len(columns) },
		func() fyne.CanvasObject {
			lbl := widget.NewLabel("")
			lbl.Truncation = fyne.TextTruncateEllipsis
			return lbl
		},
		l.updateCell,
	)
	l.table.ShowHeaderColumn = false
	l.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	l.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		lbl := o.(*widget.Label)
		lbl.SetText(columns[id.Col].title)
	}
	// Opening a case comes with the staff tool; until then a selected cell
	// would suggest an action that does not exist.
	l.table.OnSelected = func(id widget.TableCellID) { l.table.Unselect(id) }
	l.sizeColumns()

	filter := container.NewHBox(widget.NewLabel("Status:"), l.status, layout.NewSpacer())
	top := container.NewVBox(container.NewBorder(nil, nil, filter, l.count), l.errText)
	bottom := container.NewHBox(layout.NewSpacer(), l.more, layout.NewSpacer())
	table := container.New(fillSubject{l}, l.table)
	l.content = container.NewBorder(top, bottom, nil, nil,
		container.NewStack(table, container.NewCenter(l.empty)))
	l.reload()
	return l
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
	l.natural = make([]float32, len(columns))
	l.narrow = make([]float32, len(columns))
	for i, c := range columns {
		title := width(c.title, true)
		l.natural[i] = title
		for _, s := range c.samples {
			l.natural[i] = max(l.natural[i], width(s, false))
		}
		if len(c.lines) > 0 {
			l.narrow[i] = title
			for _, s := range c.lines {
				l.narrow[i] = max(l.narrow[i], width(s, false))
			}
		}
		if i != subjectCol {
			l.table.SetColumnWidth(i, l.natural[i])
		}
	}
	l.lineH = widget.NewLabel("Ag").MinSize().Height
	two := widget.NewLabel("Ag\nAg")
	l.tallH = two.MinSize().Height
}

// Widths of the subject column: below comfortSubject the wrappable columns
// go to two lines; below minSubject the table scrolls sideways.
const (
	comfortSubject = 300
	minSubject     = 200
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
	avail := width - pad*float32(len(columns)-1)
	others := func(wrap bool) (sum float32) {
		for i := range columns {
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

// fitRows gives two lines to the rows from index from on whose wrappable
// texts do not fit their narrow column, and one line to every other row
// that had two.
func (l *caseList) fitRows(from int) {
	if l.tall == nil {
		l.tall = map[int]bool{}
	}
	need := map[int]bool{}
	if l.wrap {
		for i := from; i < len(l.rows); i++ {
			for c, w := range l.narrow {
				if w > 0 && widget.NewLabel(columns[c].text(l, &l.rows[i])).MinSize().Width > w {
					need[i] = true
				}
			}
		}
	}
	for i := range l.tall {
		if i >= from && !need[i] {
			delete(l.tall, i)
			l.table.SetRowHeight(i, l.lineH)
		}
	}
	for i := range need {
		if !l.tall[i] {
			l.tall[i] = true
			l.table.SetRowHeight(i, l.tallH)
		}
	}
}

func (l *caseList) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	lbl := o.(*widget.Label)
	if id.Row < 0 || id.Row >= len(l.rows) {
		lbl.SetText("")
		return
	}
	r := &l.rows[id.Row]
	lbl.Wrapping, lbl.Truncation = fyne.TextWrapOff, fyne.TextTruncateEllipsis
	if l.wrap && l.narrow[id.Col] > 0 {
		lbl.Wrapping, lbl.Truncation = fyne.TextWrapWord, fyne.TextTruncateOff
	}
	lbl.Alignment = fyne.TextAlignLeading
	lbl.Importance = widget.MediumImportance
	// An unread case stands out by its subject in bold and the dot.
	lbl.TextStyle.Bold = id.Col == subjectCol && r.UnreadByStaff
	if id.Col == unreadCol {
		lbl.Alignment = fyne.TextAlignCenter
		lbl.Importance = widget.HighImportance
	}
	lbl.SetText(columns[id.Col].text(l, r))
}

// kindText is the e-service's name for an e-service case, otherwise the
// kind (Information or Fråga).
func (l *caseList) kindText(r *app.CaseRow) string {
	if r.Kind == app.KindEService {
		if n, ok := l.names[r.EServiceID]; ok {
			return n
		}
	}
	return r.Kind.Label()
}

func (l *caseList) query(after string) app.CaseQuery {
	q := app.CaseQuery{Limit: pageSize, After: after}
	for _, s := range app.AllStatuses {
		if s.Label() == l.status.Selected {
			q.Status = s
		}
	}
	return q
}

// reload reads the first page again, for the current filter.
func (l *caseList) reload() {
	l.gen++
	l.rows, l.next = nil, ""
	l.fitRows(0)
	l.table.ScrollToTop()
	l.more.Hide()
	l.errText.Hide()
	l.empty.Hide()
	l.count.SetText(textLoadingC)
	l.content.Refresh() // lay out again what was shown or hidden
	l.fetch(l.query(""))
}

// loadMore reads the page after the rows shown.
func (l *caseList) loadMore() {
	if l.next == "" {
		return
	}
	l.more.Disable()
	l.errText.Hide()
	l.content.Refresh()
	l.fetch(l.query(l.next))
}

func (l *caseList) fetch(q app.CaseQuery) {
	gen, names := l.gen, l.names
	l.tasks.run(func() func() {
		if names == nil {
			names = eserviceNames(l.ctx, l.dir, l.sess.ClinicID)
		}
		var page app.RowPage
		var err error
		if l.kind == clinicList {
			page, err = l.cases.ClinicCases(l.ctx, l.sess, q)
		} else {
			page, err = l.cases.MyCases(l.ctx, l.sess, q)
		}
		return func() {
			if gen != l.gen {
				return // the filter changed meanwhile
			}
			l.names = names
			l.show(page, q.After != "", err)
		}
	})
}

func (l *caseList) show(page app.RowPage, appended bool, err error) {
	l.more.Enable()
	if err != nil {
		logError("list cases", err, "list", l.kind.String(), "clinic", l.sess.ClinicID, "staff", l.sess.Staff.ID)
		if len(l.rows) == 0 {
			l.count.SetText("")
		}
		l.errText.SetText(caseListError(err))
		l.errText.Show()
		l.content.Refresh()
		return
	}
	if !appended {
		l.rows = l.rows[:0]
	}
	from := len(l.rows)
	l.rows = append(l.rows, page.Rows...)
	l.next = page.Next
	l.fitRows(from)
	l.more.Hidden = l.next == ""
	defer l.content.Refresh() // the table, and what was shown or hidden
	switch n := len(l.rows); {
	case n == 0:
		l.count.SetText("")
		l.empty.Show()
	case n == 1:
		l.count.SetText("Visar 1 ärende")
	case l.next != "":
		l.count.SetText(fmt.Sprintf("Visar de %d senaste ärendena – det finns fler", n))
	default:
		l.count.SetText(fmt.Sprintf("Visar %d ärenden", n))
	}
}

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
		names[e.ID] = e.Name
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
