package export

import (
	"bytes"
	"fmt"
	"time"

	"github.com/go-pdf/fpdf"

	"mottagning/app"
)

// The log extract (loggutdrag): what a resident may ask for under
// patientdatalagen 8 kap. 1 § — every access to their data from the
// clinic in a period — as a printable A4 PDF. The text is Swedish (it goes
// to the resident) and is not translated with the window.

// Texts of the log extract.
const (
	TextExtractTitle = "Loggutdrag"
	TextExtractIntro = "Utdrag ur mottagningens åtkomstlogg: varje gång någon i personalen har öppnat, slagit upp, läst, skickat, exporterat eller skrivit ut uppgifter om dig under perioden."
	// TextExtractIntroAll is the introduction of a resident's own extract,
	// which covers every clinic (app.LogExtract.AllClinics).
	TextExtractIntroAll = "Utdrag ur åtkomstloggen för alla mottagningar i e-tjänsterna: varje gång någon i personalen har öppnat, slagit upp, läst, skickat, exporterat eller skrivit ut uppgifter om dig under perioden."
	TextExtractNone     = "Ingen i personalen har tagit del av dina uppgifter under perioden."
	TextExtractDocName  = "Loggutdrag ur Mottagning" // the PDF's title property: no personal data
)

// extractColumns are the table's columns: title and width in millimetres
// (together the A4 text width, 170 mm).
var extractColumns = [...]struct {
	title string
	width float64
}{
	{"Tid", 28},
	{"Vem", 40},
	{"Mottagning", 32},
	{"Vad", 30},
	{"Ärende", 40},
}

// Period formats [from, to) as the days it covers: "1 mars 2025 – 12 mars
// 2025", or one day alone. A To at midnight Stockholm time is the end of
// the day before.
func Period(from, to time.Time) string {
	first := from.In(app.Stockholm)
	last := to.In(app.Stockholm)
	if app.DateIn(last).Equal(last) && last.After(first) {
		last = last.AddDate(0, 0, -1)
	}
	day := func(t time.Time) string { return fmt.Sprintf("%d %s %d", t.Day(), months[t.Month()-1], t.Year()) }
	if day(first) == day(last) {
		return day(first)
	}
	return day(first) + " – " + day(last)
}

// LogExtractPDF returns the extract as an A4 PDF: title, the resident's
// name and personnummer, the period and the clinic, one table row per
// access (time in Stockholm, who with title, which clinic, what, which
// case), and on every page a footer with when and by whom the extract was
// made and the page number. The document's title property is generic.
func LogExtractPDF(x *app.LogExtract) ([]byte, error) { return logExtractPDF(x, true) }

func logExtractPDF(x *app.LogExtract, compress bool) ([]byte, error) {
	if x == nil {
		return nil, fmt.Errorf("export log extract: no extract")
	}
	made := x.MadeAt
	if made.IsZero() {
		made = time.Now()
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(compress)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(false, margin+5) // rows break pages themselves
	pdf.SetCreationDate(made)
	pdf.SetModificationDate(made)
	// Generic: a file manager or print queue shows the title; no name, no
	// personnummer, no author in the document properties.
	pdf.SetTitle(TextExtractDocName, true)
	pdf.SetCreator("Mottagning", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: å ä ö with a core font
	pageW, pageH := pdf.GetPageSize()
	width := pageW - 2*margin

	by := x.MadeBy
	if x.MadeByTitle != "" {
		by += ", " + x.MadeByTitle
	}
	footer := "Utdraget är gjort " + DateTime(made) + " av " + by
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin)
		pdf.SetFont("Helvetica", "I", smallPt)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(width-25, 4, tr(footer), "T", 0, "L", false, 0, "")
		pdf.CellFormat(25, 4, tr(fmt.Sprintf("Sida %d av {nb}", pdf.PageNo())), "T", 0, "R", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(width, 8, tr(TextExtractTitle), "", "L", false)
	pdf.Ln(2)

	pnr := ""
	if !x.PNR.IsZero() {
		pnr = x.PNR.String()
	}
	clinicLabel, intro := "Mottagning", TextExtractIntro
	if x.AllClinics {
		clinicLabel, intro = "Mottagningar", TextExtractIntroAll
	}
	facts := [][2]string{
		{"Invånare", x.ResidentName},
		{"Personnummer", pnr},
		{"Period", Period(x.From, x.To)},
		{clinicLabel, x.ClinicName},
		{"Antal åtkomster", fmt.Sprint(len(x.Rows))},
	}
	const labelW = 36.0
	for _, f := range facts {
		pdf.SetTextColor(70, 70, 70)
		pdf.SetFont("Helvetica", "", bodyPt)
		pdf.CellFormat(labelW, lineH+0.5, tr(f[0]), "", 0, "L", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFont("Helvetica", "B", bodyPt)
		pdf.MultiCell(width-labelW, lineH+0.5, tr(f[1]), "", "L", false)
	}
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "", smallPt+0.5)
	pdf.SetTextColor(70, 70, 70)
	pdf.MultiCell(width, lineH-0.5, tr(intro), "", "L", false)
	pdf.Ln(3)

	bottom := pageH - margin - 5
	pdf.SetCellMargin(0.8)
	header := func() {
		pdf.SetFont("Helvetica", "B", smallPt)
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFillColor(232, 232, 232)
		for _, c := range extractColumns {
			pdf.CellFormat(c.width, lineH+1, tr(c.title), "B", 0, "L", true, 0, "")
		}
		pdf.Ln(-1)
	}
	if len(x.Rows) == 0 {
		pdf.SetFont("Helvetica", "I", bodyPt)
		pdf.SetTextColor(0, 0, 0)
		pdf.MultiCell(width, lineH, tr(TextExtractNone), "", "L", false)
	} else {
		header()
	}
	const cellPad, rowLine = 0.6, 3.8
	for i := range x.Rows {
		r := &x.Rows[i]
		who := r.StaffName
		if who == "" {
			who = "Okänd medarbetare"
		}
		if r.StaffTitle != "" {
			who += "\n" + r.StaffTitle // the title on a line of its own
		}
		// The case by its subject, which the reader recognises; the id
		// only when the case is gone.
		caseID := r.CaseSubject
		if caseID == "" {
			caseID = string(r.CaseID)
		}
		if caseID == "" {
			caseID = "–"
		}
		clinic := r.ClinicName
		if clinic == "" {
			clinic = string(r.ClinicID)
		}
		cells := [len(extractColumns)]string{
			r.At.In(app.Stockholm).Format("2006-01-02 15:04"), who, clinic, r.ActionLabel, caseID,
		}
		// The case id is a code to compare: monospace, small enough for one line.
		font := func(col int) {
			if col == len(cells)-1 {
				pdf.SetFont("Courier", "", 6.5)
			} else {
				pdf.SetFont("Helvetica", "", 8)
			}
		}
		var lines [len(cells)][]string
		n := 1
		for c, text := range cells {
			font(c)
			// SplitLines counts bytes: right for the cp1252 text (SplitText
			// would read it as UTF-8).
			for _, l := range pdf.SplitLines([]byte(tr(text)), extractColumns[c].width-2*cellPad) {
				lines[c] = append(lines[c], string(l))
			}
			n = max(n, len(lines[c]))
		}
		h := float64(n)*rowLine + 2*cellPad
		if pdf.GetY()+h > bottom {
			pdf.AddPage()
			header()
		}
		y := pdf.GetY()
		if i%2 == 1 {
			pdf.SetFillColor(246, 246, 246)
			pdf.Rect(margin, y, width, h, "F")
		}
		pdf.SetTextColor(0, 0, 0)
		xPos := margin
		for c := range cells {
			font(c)
			for j, l := range lines[c] {
				pdf.SetXY(xPos+cellPad, y+cellPad+float64(j)*rowLine)
				pdf.CellFormat(extractColumns[c].width-2*cellPad, rowLine, l, "", 0, "L", false, 0, "")
			}
			xPos += extractColumns[c].width
		}
		pdf.SetDrawColor(225, 225, 225)
		pdf.Line(margin, y+h, margin+width, y+h)
		pdf.SetXY(margin, y+h)
	}

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		// fpdf's errors are about layout and fonts, never the text itself.
		if x.AllClinics {
			return nil, fmt.Errorf("export log extract of resident %s: pdf: %w", x.ResidentID, err)
		}
		return nil, fmt.Errorf("export log extract of clinic %s: pdf: %w", x.ClinicID, err)
	}
	return buf.Bytes(), nil
}
