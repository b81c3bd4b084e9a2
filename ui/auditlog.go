package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/export"
)

// AuditReader is the part of app.AuditService the access-log view uses.
// app.AuditService satisfies it.
type AuditReader interface {
	Entries(ctx context.Context, sess app.Session, q app.AuditQuery) ([]app.AuditRow, error)
}

// AuditExtractor makes the log extract for one resident (what a resident
// may ask for). app.AuditService satisfies it; the screen finds it on its
// AuditReader by assertion and hides the button when it is not there.
type AuditExtractor interface {
	Extract(ctx context.Context, sess app.Session, pnr personnummer.Number, from, to time.Time) (*app.LogExtract, error)
}

// ChainChecker verifies the access log's hash chain. app.AuditService
// satisfies it; found by assertion like AuditExtractor.
type ChainChecker interface {
	Verify(ctx context.Context, sess app.Session) (app.ChainReport, error)
}

// Texts of the access-log view.
const (
	textAudTitle     = "common.access_log"
	textAudIntro     = "auditlog.who_opened_which_case_or"
	textAudFrom      = "auditlog.from"
	textAudTo        = "auditlog.including"
	textAudStaff     = "auditlog.staff_member"
	textAudAllStaff  = "auditlog.all_staff"
	textAudPNR       = "auditlog.resident_personnummer"
	textAudPNRHint   = "auditlog.all_residents"
	textAudShow      = "auditlog.show"
	textAudEmpty     = "auditlog.no_log_entries_selection"
	textAudLoading   = "auditlog.loading_log_entries"
	textAudBadDate   = "auditlog.enter_valid_date_yyyy_mm"
	textAudBackwards = "auditlog.date_before_from_date"
	textAudTooLong   = "auditlog.period_may_at_most_one"
	textAudFixFields = "auditlog.correct_what_marked_red"
	textAudInvalid   = "auditlog.selection_could_not_used_check"
	textAudFailed    = "auditlog.something_went_wrong_while_loading"
	textAudNoCase    = "auditlog.no_value_dash"

	textAudExtract         = "auditlog.log_extract_resident_pdf"
	textAudExtractNeedsPNR = "auditlog.enter_resident_personal_identity_number"
	textAudExtracting      = "auditlog.making_log_extract"
	textAudExtractNone     = "auditlog.log_extract_made_no_accesses"
	textAudExtractOne      = "auditlog.log_extract_made_1_access"
	textAudExtractMany     = "auditlog.log_extract_made_accesses_period"
	textAudExtractNoOne    = "common.there_no_resident_personal_identity"
	textAudExtractFailed   = "auditlog.log_extract_could_not_made"
	textAudSaveFailed      = "common.file_could_not_saved_choose"
	textAudVerify          = "auditlog.check_log_chain"
	textAudVerifying       = "auditlog.checking_log_chain"
	textAudChainEmpty      = "auditlog.log_empty_there_no_log"
	textAudChainWhole      = "auditlog.log_intact_from_first"
	textAudChainWholeFrom  = "auditlog.log_intact_from_checkpoint"
	textAudChainEdited     = "auditlog.log_not_intact_entry_has"
	textAudChainRemoved    = "auditlog.log_not_intact_entries_missing"
	textAudChainReordered  = "auditlog.log_not_intact_entry_stored"
	textAudChainBadCp      = "auditlog.log_not_intact_checkpoint_at"
	textAudChainNoKey      = "auditlog.log_cannot_checked_database_lacks"
	textAudChainOther      = "auditlog.log_not_intact_at_entry"
	textAudChainFirst      = "auditlog.first_broken_link_change_nothing"
	textAudChainDetail     = "auditlog.technical_detail"
	textAudVerifyFailed    = "auditlog.log_chain_could_not_checked"
	audExtractName         = "loggutdrag-%s.pdf"
	audDateLayout          = "2006-01-02"
	audTimeLayout          = "2006-01-02 15:04:05"
	audDefaultDays         = 7
	audFieldDateWidth      = 150
)

type auditDeps struct {
	ctx    context.Context
	tasks  *tasks
	svc    AuditReader
	dir    Directory
	sess   app.Session
	clinic app.Clinic
	// clock gives today's date for the default period and the century of
	// ten-digit personnummer; nil means app.SystemClock.
	clock app.Clock
	// save hands the log extract's PDF to the user (tests capture). nil: a
	// file-save dialog on the window that shows the screen. It runs on the
	// UI goroutine.
	save func(name string, data []byte)
}

// auditScreen is the granskare's view of the clinic's access log: a
// period, optionally one staff member or one resident, and the entries
// newest first. It only reads; the service decides who may.
type auditScreen struct {
	auditDeps
	content fyne.CanvasObject

	from, to *widget.Entry
	staff    *widget.Select
	pnr      *widget.Entry
	show     *widget.Button
	fromMsg  *widget.Label
	toMsg    *widget.Label
	pnrMsg   *widget.Label
	count    *widget.Label
	errText  *widget.Label
	empty    *widget.Label
	table    *widget.Table

	// The log extract and the chain check; nil buttons when svc lacks
	// AuditExtractor or ChainChecker.
	extractor  AuditExtractor
	checker    ChainChecker
	extractBtn *widget.Button
	verifyBtn  *widget.Button
	extractMsg *widget.Label
	chainMsg   *widget.Label

	staffIDs map[string]app.ID // staff select option → id
	rows     []app.AuditRow
	gen      int
}

// auditColumn is one column of the log table.
type auditColumn struct {
	title  string
	sample string
	text   func(r *app.AuditRow) string
}

var auditColumns = []auditColumn{
	{K("auditlog.time"), "2025-12-31 23:59:59", func(r *app.AuditRow) string { return r.At.In(app.Stockholm).Format(audTimeLayout) }},
	{K("auditlog.staff_member"), "Fredrik Nordin", func(r *app.AuditRow) string { return r.StaffName }},
	{K("auditlog.action"), app.AccessLookupResident.Label(), func(r *app.AuditRow) string { return L(r.ActionLabel) }},
	{K("common.resident"), "Rasmus Gustafsson", func(r *app.AuditRow) string { return r.ResidentName }},
	{K("common.personnummer"), "20001231-0000", func(r *app.AuditRow) string {
		if r.PNR.IsZero() {
			return r.ReserveNumber
		}
		return r.PNR.String()
	}},
	{K("auditlog.case"), "", func(r *app.AuditRow) string { // takes what is left
		switch {
		case r.CaseID == "":
			return L(textAudNoCase)
		case r.CaseSubject == "":
			return string(r.CaseID) // the case is gone: its id, to compare
		}
		return r.CaseSubject
	}},
}

const (
	auditFillCol = 5 // Ärende takes what the other columns leave
	auditCaseCol = 5
)

func newAuditScreen(d auditDeps) *auditScreen {
	if d.clock == nil {
		d.clock = app.SystemClock{}
	}
	s := &auditScreen{auditDeps: d}
	today := app.DateIn(d.clock.Now())

	s.from = widget.NewEntry()
	s.from.SetText(today.AddDate(0, 0, -(audDefaultDays - 1)).Format(audDateLayout))
	s.from.PlaceHolder = L("common.yyyy_mm_dd")
	s.to = widget.NewEntry()
	s.to.SetText(today.Format(audDateLayout))
	s.to.PlaceHolder = L("common.yyyy_mm_dd")
	s.staff = newSelect([]string{L(textAudAllStaff)}, nil)
	s.staff.Selected = L(textAudAllStaff)
	s.pnr = widget.NewEntry()
	s.pnr.PlaceHolder = L(textAudPNRHint)
	s.fromMsg, s.toMsg, s.pnrMsg = newFieldMessage(), newFieldMessage(), newFieldMessage()
	// A field's error goes as soon as it is edited; Visa checks again.
	s.from.OnChanged = func(string) { fieldMessage(s.fromMsg, "", false) }
	s.to.OnChanged = func(string) { fieldMessage(s.toMsg, "", false) }
	s.pnr.OnChanged = func(string) { fieldMessage(s.pnrMsg, "", false) }
	for _, e := range []*widget.Entry{s.from, s.to, s.pnr} {
		e.OnSubmitted = func(string) { s.load() }
	}
	s.show = widget.NewButtonWithIcon(L(textAudShow), theme.SearchIcon(), s.load)
	s.show.Importance = widget.HighImportance

	s.count = widget.NewLabel("")
	s.errText = newFieldMessage()
	s.empty = widget.NewLabel(L(textAudEmpty))
	s.empty.Hide()

	s.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(s.rows), len(auditColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row < 0 || id.Row >= len(s.rows) {
				l.SetText("")
				return
			}
			// A case id (of a case that is gone) is a code to compare,
			// not to read: monospace.
			r := &s.rows[id.Row]
			l.TextStyle.Monospace = id.Col == auditCaseCol && r.CaseID != "" && r.CaseSubject == ""
			l.SetText(auditColumns[id.Col].text(&s.rows[id.Row]))
		},
	)
	s.table.ShowHeaderColumn = false
	s.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Col >= 0 && id.Col < len(auditColumns) {
			l.SetText(L(auditColumns[id.Col].title))
		}
	}
	widths := s.sizeColumns()

	field := func(label string, o fyne.CanvasObject, msg *widget.Label) fyne.CanvasObject {
		return container.NewVBox(widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), o, msg)
	}
	filters := container.New(&fixedColumns{widths: []float32{audFieldDateWidth, audFieldDateWidth, 240, 300, 0}},
		field(L(textAudFrom), s.from, s.fromMsg),
		field(L(textAudTo), s.to, s.toMsg),
		field(L(textAudStaff), s.staff, newFieldMessage()),
		field(L(textAudPNR), s.pnr, s.pnrMsg),
		container.NewVBox(widget.NewLabel(" "), s.show),
	)
	title := widget.NewLabelWithStyle(L(textAudTitle)+" – "+d.clinic.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	intro := widget.NewLabel(L(textAudIntro))
	intro.Wrapping = fyne.TextWrapWord
	s.extractMsg, s.chainMsg = newFieldMessage(), newFieldMessage()
	tools := container.NewHBox(s.count, layout.NewSpacer())
	if x, ok := d.svc.(AuditExtractor); ok {
		s.extractor = x
		s.extractBtn = widget.NewButtonWithIcon(L(textAudExtract), theme.DocumentSaveIcon(), s.extract)
		tools.Add(s.extractBtn)
	}
	if c, ok := d.svc.(ChainChecker); ok {
		s.checker = c
		s.verifyBtn = widget.NewButtonWithIcon(L(textAudVerify), theme.ConfirmIcon(), s.verify)
		tools.Add(s.verifyBtn)
	}
	top := container.NewVBox(title, intro, widget.NewSeparator(), filters, s.errText, tools, s.extractMsg, s.chainMsg)
	table := container.New(&fillColumn{table: s.table, widths: widths, fill: auditFillCol}, s.table)
	s.content = container.NewBorder(top, nil, nil, nil, container.NewStack(table, container.NewCenter(s.empty)))

	s.loadStaff()
	s.load()
	return s
}

// sizeColumns measures each column's title and sample as the table draws them.
func (s *auditScreen) sizeColumns() []float32 {
	slack := s.table.Theme().Size(theme.SizeNamePadding)
	w := make([]float32, len(auditColumns))
	for i, c := range auditColumns {
		w[i] = widget.NewLabelWithStyle(L(c.title), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}).MinSize().Width + slack
		if c.sample != "" {
			l := widget.NewLabel(L(c.sample)) // a sample action label is Swedish; other samples stay as they are
			l.TextStyle.Monospace = i == auditCaseCol
			w[i] = max(w[i], l.MinSize().Width+slack)
		}
		s.table.SetColumnWidth(i, w[i])
	}
	return w
}

// loadStaff fills the staff choice with the clinic's staff, by name.
func (s *auditScreen) loadStaff() {
	s.tasks.run(func() func() {
		all, err := s.dir.AllStaff(s.ctx)
		return func() {
			if err != nil {
				// Only the filter is lost: the log still shows everyone.
				logError("list staff", err, "clinic", s.sess.ClinicID)
				return
			}
			slices.SortStableFunc(all, func(a, b app.Staff) int { return strings.Compare(a.Name, b.Name) })
			s.staffIDs = map[string]app.ID{}
			opts := []string{L(textAudAllStaff)}
			for _, st := range all {
				if len(st.Roles[s.sess.ClinicID]) == 0 {
					continue
				}
				name := st.Name
				if _, dup := s.staffIDs[name]; dup {
					name += " (" + st.Username + ")"
				}
				s.staffIDs[name] = st.ID
				opts = append(opts, name)
			}
			s.staff.Options = opts
			s.staff.Refresh()
		}
	})
}

// query reads the filter; ok is false when a field is wrong (its message
// then says what to do).
func (s *auditScreen) query() (q app.AuditQuery, ok bool) {
	ok = true
	from, err := time.ParseInLocation(audDateLayout, strings.TrimSpace(s.from.Text), app.Stockholm)
	if err != nil {
		fieldMessage(s.fromMsg, L(textAudBadDate), true)
		ok = false
	}
	to, err := time.ParseInLocation(audDateLayout, strings.TrimSpace(s.to.Text), app.Stockholm)
	if err != nil {
		fieldMessage(s.toMsg, L(textAudBadDate), true)
		ok = false
	}
	// "Till och med" the day: the period ends at the next midnight.
	q.From, q.To = from, to.AddDate(0, 0, 1)
	if ok {
		switch {
		case !q.To.After(q.From):
			fieldMessage(s.toMsg, L(textAudBackwards), true)
			ok = false
		case q.To.After(q.From.AddDate(1, 0, 0)):
			fieldMessage(s.toMsg, L(textAudTooLong), true)
			ok = false
		}
	}
	if in := strings.TrimSpace(s.pnr.Text); in != "" {
		n, err := personnummer.ParseAt(in, s.clock.Now())
		if err != nil {
			// Swedish, says what to do, never contains the input.
			fieldMessage(s.pnrMsg, errorText(err), true)
			ok = false
		}
		q.PNR = n
	}
	if id, found := s.staffIDs[s.staff.Selected]; found {
		q.StaffID = id
	}
	return q, ok
}

// load reads the log for the filter.
func (s *auditScreen) load() {
	s.gen++
	for _, l := range []*widget.Label{s.fromMsg, s.toMsg, s.pnrMsg, s.errText} {
		fieldMessage(l, "", false)
	}
	q, ok := s.query()
	if !ok {
		s.rows = nil
		s.empty.Hide()
		s.count.SetText("")
		fieldMessage(s.errText, L(textAudFixFields), true)
		s.table.Refresh()
		s.content.Refresh()
		return
	}
	s.count.SetText(L(textAudLoading))
	s.empty.Hide()
	gen := s.gen
	s.tasks.run(func() func() {
		rows, err := s.svc.Entries(s.ctx, s.sess, q)
		return func() {
			if gen == s.gen {
				s.showRows(rows, err)
			}
		}
	})
}

func (s *auditScreen) showRows(rows []app.AuditRow, err error) {
	defer s.content.Refresh()
	if err != nil {
		logError("read access log", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
		s.rows = nil
		s.table.Refresh()
		s.count.SetText("")
		fieldMessage(s.errText, auditError(err), true)
		return
	}
	s.rows = rows
	s.table.ScrollToTop()
	s.table.Refresh()
	s.empty.Hidden = len(rows) != 0
	switch len(rows) {
	case 0:
		s.count.SetText("")
	case 1:
		s.count.SetText(L("auditlog.1_log_entry"))
	default:
		s.count.SetText(Lf("auditlog.log_entries_most_recent_first", len(rows)))
	}
}

// auditError maps an error from the access log to the text the user sees.
func auditError(err error) string {
	switch {
	case errors.Is(err, app.ErrForbidden):
		return L(textForbidden)
	case errors.Is(err, app.ErrInvalid):
		return L(textAudInvalid)
	}
	return L(textAudFailed)
}

// fixedColumns lays its objects out side by side, each as wide as its
// entry in widths (0: its own minimum width), and as tall as the tallest.
// Unlike an HBox it lets a field's wrapped message use the field's width.
type fixedColumns struct{ widths []float32 }

func (f *fixedColumns) width(i int, o fyne.CanvasObject) float32 {
	if i < len(f.widths) && f.widths[i] > 0 {
		return f.widths[i]
	}
	return o.MinSize().Width
}

func (f *fixedColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	x := float32(0)
	for i, o := range objs {
		w := f.width(i, o)
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w + pad*2
	}
}

func (f *fixedColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	pad := theme.Padding()
	var s fyne.Size
	for i, o := range objs {
		if i > 0 {
			s.Width += pad * 2
		}
		s.Width += f.width(i, o)
		s.Height = max(s.Height, o.MinSize().Height)
	}
	return s
}

// fillColumn lays a table over its whole space and gives one column what
// the others leave, so the table fills the window.
type fillColumn struct {
	table  *widget.Table
	widths []float32
	fill   int
	last   float32
}

func (f *fillColumn) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := f.table.Theme().Size(theme.SizeNamePadding)
	rest := size.Width - pad*float32(len(f.widths)-1)
	for i, w := range f.widths {
		if i != f.fill {
			rest -= w
		}
	}
	if w := max(rest, f.widths[f.fill], 160); w != f.last {
		f.last = w
		f.table.SetColumnWidth(f.fill, w)
	}
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (f *fillColumn) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// extract is "Loggutdrag för invånare (PDF)": the personnummer and the
// period of the filter (the staff choice does not apply: a resident is
// told about every access), the service makes the extract and logs it,
// and the PDF goes to save.
func (s *auditScreen) extract() {
	if s.extractor == nil || s.extractBtn.Disabled() {
		return
	}
	for _, l := range []*widget.Label{s.fromMsg, s.toMsg, s.pnrMsg, s.errText, s.extractMsg} {
		fieldMessage(l, "", false)
	}
	q, ok := s.query()
	if ok && q.PNR.IsZero() {
		fieldMessage(s.pnrMsg, L(textAudExtractNeedsPNR), true)
		ok = false
	}
	if !ok {
		fieldMessage(s.errText, L(textAudFixFields), true)
		s.content.Refresh()
		return
	}
	s.extractBtn.Disable()
	fieldMessage(s.extractMsg, L(textAudExtracting), false)
	s.tasks.run(func() func() {
		x, err := s.extractor.Extract(s.ctx, s.sess, q.PNR, q.From, q.To)
		var data []byte
		if err == nil {
			data, err = export.LogExtractPDF(x)
		}
		return func() {
			s.extractBtn.Enable()
			defer s.content.Refresh()
			if err != nil {
				logError("make log extract", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
				fieldMessage(s.extractMsg, extractError(err), true)
				return
			}
			switch len(x.Rows) {
			case 0:
				fieldMessage(s.extractMsg, L(textAudExtractNone), false)
			case 1:
				fieldMessage(s.extractMsg, L(textAudExtractOne), false)
			default:
				fieldMessage(s.extractMsg, Lf(textAudExtractMany, len(x.Rows)), false)
			}
			s.extractMsg.Importance = widget.SuccessImportance
			s.extractMsg.Refresh()
			// The file name holds no personal data: a date only.
			s.saveFile(fmt.Sprintf(audExtractName, x.MadeAt.In(app.Stockholm).Format(audDateLayout)), data)
		}
	})
}

// extractError maps an error from Extract to the text the user sees.
func extractError(err error) string {
	switch {
	case errors.Is(err, app.ErrForbidden):
		return L(textForbidden)
	case errors.Is(err, app.ErrNotFound):
		return L(textAudExtractNoOne)
	case errors.Is(err, app.ErrInvalid):
		return L(textAudInvalid)
	}
	return L(textAudExtractFailed)
}

// saveFile is d.save, or a file-save dialog on the screen's window.
func (s *auditScreen) saveFile(name string, data []byte) {
	if s.save != nil {
		s.save(name, data)
		return
	}
	var win fyne.Window
	if a := fyne.CurrentApp(); a != nil {
		c := a.Driver().CanvasForObject(s.content)
		for _, w := range a.Driver().AllWindows() {
			if c != nil && w.Canvas() == c {
				win = w
			}
		}
	}
	if win == nil {
		logError("save log extract", errors.New("no window shows the access log"))
		fieldMessage(s.extractMsg, L(textAudSaveFailed), true)
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return // cancelled
		}
		_, werr := w.Write(data)
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			logError("save log extract", werr)
			fieldMessage(s.extractMsg, L(textAudSaveFailed), true)
		}
	}, win)
	d.SetFileName(name)
	d.Resize(fileDialogSize(win))
	d.Show()
}

// verify is "Kontrollera loggkedjan": the whole chain of this database,
// and the first broken link in words.
func (s *auditScreen) verify() {
	if s.checker == nil || s.verifyBtn.Disabled() {
		return
	}
	s.verifyBtn.Disable()
	fieldMessage(s.chainMsg, L(textAudVerifying), false)
	s.tasks.run(func() func() {
		rep, err := s.checker.Verify(s.ctx, s.sess)
		return func() {
			s.verifyBtn.Enable()
			defer s.content.Refresh()
			switch {
			case errors.Is(err, app.ErrForbidden):
				fieldMessage(s.chainMsg, L(textForbidden), true)
			case err != nil:
				logError("verify access log", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
				fieldMessage(s.chainMsg, L(textAudVerifyFailed), true)
			case rep.OK():
				fieldMessage(s.chainMsg, chainText(rep), false)
				s.chainMsg.Importance = widget.SuccessImportance
				s.chainMsg.Refresh()
			default:
				logError("verify access log", errors.New(rep.Break.String()), "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
				fieldMessage(s.chainMsg, chainText(rep), true)
			}
		}
	})
}

// chainText says a chain report in words: whole, with how many entries and
// from where, or the first broken link, what to do, and the technical
// detail (ids and numbers only) for the system administrators.
func chainText(rep app.ChainReport) string {
	b := rep.Break
	switch {
	case b == nil && rep.Entries == 0:
		return L(textAudChainEmpty)
	case b == nil && rep.Anchor > 0:
		return Lf(textAudChainWholeFrom, rep.Entries, rep.Anchor)
	case b == nil:
		return Lf(textAudChainWhole, rep.Entries)
	}
	var first string
	switch {
	case b.Kind == app.BreakCheckpoint && b.Seq == 0:
		first = L(textAudChainNoKey)
	case b.Kind == app.BreakEdited:
		first = Lf(textAudChainEdited, b.Seq)
	case b.Kind == app.BreakRemoved:
		first = Lf(textAudChainRemoved, b.Seq)
	case b.Kind == app.BreakReordered:
		first = Lf(textAudChainReordered, b.Seq)
	case b.Kind == app.BreakCheckpoint:
		first = Lf(textAudChainBadCp, b.Seq)
	default:
		first = Lf(textAudChainOther, b.Seq)
	}
	return first + " " + L(textAudChainFirst) + "\n" + Lf(textAudChainDetail, b.String())
}
