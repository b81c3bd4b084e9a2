// Package export turns a case thread into a PDF for printing or for saving,
// so that staff can copy what the journal needs into the journal system.
//
// It depends on app only (no Fyne): the desktop UI calls it after
// app.CaseService.ExportCase has logged the access. The thread carries ids
// only, so the caller supplies the display names (Names).
//
// The PDF uses a core font (Helvetica) with the cp1252 code page, which
// covers å, ä, ö, é and the en dash; characters outside cp1252 print as
// "?"-like substitutes rather than failing the export. No font file is
// embedded, which keeps the files small and the package free of assets.
//
// Errors name the operation and the case id, never a name, a personnummer
// or message text.
package export

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"mottagning/app"
)

// Names gives the display names a thread does not carry.
type Names struct {
	// Clinic is the clinic's name, printed under the title.
	Clinic string
	// Resident is the resident's name as in the case list.
	Resident string
	// PNR is the personnummer, samordningsnummer or reservnummer as shown
	// to staff; empty when unknown.
	PNR string
	// Kind is the case type as the UI shows it (an e-service's name);
	// empty: the kind's own label.
	Kind string
	// Staff maps staff ids to names, for authors, notes and the assignee.
	Staff map[app.ID]string
	// Guardians maps the resident ids of guardians who wrote in proxy
	// mode to their names (app.CaseService.GuardianAuthors).
	Guardians map[app.ID]string
	// PrintedAt is the time printed in the footer; zero: now.
	PrintedAt time.Time
}

func (n Names) staff(id app.ID) string {
	if s, ok := n.Staff[id]; ok && s != "" {
		return s
	}
	if id == "" {
		return "Ingen ännu"
	}
	return "Okänd medarbetare"
}

// Author is the Swedish text for who wrote a message: "Invånaren",
// "Vårdnadshavare i ombudsläge" or the staff member's name.
func Author(m *app.Message, staff func(app.ID) string) string {
	switch m.Author {
	case app.AuthorResident:
		return "Invånaren"
	case app.AuthorGuardian:
		return "Vårdnadshavare i ombudsläge"
	}
	return staff(m.AuthorID)
}

// GuardianAuthor is Author with the writing guardian's name when known:
// "Vårdnadshavare i ombudsläge: Åke Lindberg".
func GuardianAuthor(m *app.Message, guardians map[app.ID]string, staff func(app.ID) string) string {
	if n := guardians[m.AuthorID]; m.Author == app.AuthorGuardian && n != "" {
		return Author(m, staff) + ": " + n
	}
	return Author(m, staff)
}

// Texts of the document, shared with the case view where they match.
const (
	TextNote      = "Intern anteckning – syns inte för invånaren"
	TextUnread    = "Inte läst ännu"
	TextCanAnswer = "Invånaren kan svara"
	TextNoAnswer  = "Invånaren kan inte svara"
)

// AnswerText is R16 in words: whether the resident can answer the case.
func AnswerText(c *app.Case) string {
	if c.Answerable() {
		return TextCanAnswer
	}
	return TextNoAnswer
}

// ReadText is "Läst av invånaren 12 mars 09:41" or "Inte läst ännu".
func ReadText(m *app.Message) string {
	if m.ReadByResident.IsZero() {
		return TextUnread
	}
	return "Läst av invånaren " + DayTime(m.ReadByResident, m.At)
}

var months = [...]string{"januari", "februari", "mars", "april", "maj", "juni", "juli",
	"augusti", "september", "oktober", "november", "december"}

// DateTime formats t in Stockholm time, Swedish style: "12 mars 2025 09:30".
func DateTime(t time.Time) string {
	t = t.In(app.Stockholm)
	return fmt.Sprintf("%d %s %d %02d:%02d", t.Day(), months[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// DayTime is DateTime without the year when t is in the same Stockholm
// year as ref: "12 mars 09:41".
func DayTime(t, ref time.Time) string {
	t = t.In(app.Stockholm)
	if t.Year() != ref.In(app.Stockholm).Year() {
		return DateTime(t)
	}
	return fmt.Sprintf("%d %s %02d:%02d", t.Day(), months[t.Month()-1], t.Hour(), t.Minute())
}

// Entry is one item of a thread in time order: a message or a note.
type Entry struct {
	At      time.Time
	Message *app.Message // nil for a note
	Note    *app.Note    // nil for a message
}

// Entries merges messages and notes oldest first; at equal times a message
// comes before a note written about it.
func Entries(t *app.Thread) []Entry {
	out := make([]Entry, 0, len(t.Messages)+len(t.Notes))
	for i := range t.Messages {
		out = append(out, Entry{At: t.Messages[i].At, Message: &t.Messages[i]})
	}
	for i := range t.Notes {
		out = append(out, Entry{At: t.Notes[i].At, Note: &t.Notes[i]})
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return a.At.Compare(b.At) })
	return out
}

// Page geometry in millimetres.
const (
	margin  = 20.0
	lineH   = 5.0
	bodyPt  = 10.0
	smallPt = 8.5
)

// CasePDF returns the thread as an A4 PDF: title, case facts, every
// message and note in time order with author and time, notes marked as
// internal, and a footer saying when it was printed and what it is for.
func CasePDF(t *app.Thread, names Names) ([]byte, error) {
	if t == nil {
		return nil, fmt.Errorf("export case: no thread")
	}
	c := &t.Case
	printed := names.PrintedAt
	if printed.IsZero() {
		printed = time.Now()
	}

	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin+5)
	pdf.SetCreationDate(printed)
	pdf.SetModificationDate(printed)
	// The title in the document properties is generic: a file manager or
	// print queue shows it, and the subject may be personal.
	pdf.SetTitle("Ärende ur Mottagning", true)
	pdf.SetCreator("Mottagning", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: å ä ö with a core font
	pageW, _ := pdf.GetPageSize()
	width := pageW - 2*margin

	pdf.AliasNbPages("{nb}")
	footer := "Utskrivet " + DateTime(printed) + " ur Mottagning – kopiera in det som behövs i journalen"
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin)
		pdf.SetFont("Helvetica", "I", smallPt)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(width-25, 4, tr(footer), "T", 0, "L", false, 0, "")
		pdf.CellFormat(25, 4, tr(fmt.Sprintf("Sida %d av {nb}", pdf.PageNo())), "T", 0, "R", false, 0, "")
	})
	pdf.AddPage()

	// Title and clinic.
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(width, 7, tr(c.Subject), "", "L", false)
	if names.Clinic != "" {
		pdf.SetFont("Helvetica", "", 11)
		pdf.SetTextColor(70, 70, 70)
		pdf.MultiCell(width, 6, tr(names.Clinic), "", "L", false)
	}
	pdf.Ln(3)

	// Case facts as label–value rows.
	kind := names.Kind
	if kind == "" {
		kind = c.Kind.Label()
	}
	resident := names.Resident
	if names.PNR != "" {
		if resident != "" {
			resident += ", "
		}
		resident += names.PNR
	}
	facts := [][2]string{
		{"Invånare", resident},
		{"Ärendetyp", kind + " – " + AnswerText(c)},
		{"Status", c.Status.Label()},
		{"Startad av", c.StartedBy.Label()},
		{"Hanteras av", names.staff(c.AssigneeID)},
		{"Skapat", DateTime(c.CreatedAt)},
	}
	if c.Status == app.StatusClosed && !c.ClosedAt.IsZero() {
		facts = append(facts, [2]string{"Avslutat", DateTime(c.ClosedAt)})
	}
	const labelW = 32.0
	for _, f := range facts {
		pdf.SetTextColor(70, 70, 70)
		pdf.SetFont("Helvetica", "", bodyPt)
		pdf.CellFormat(labelW, lineH+0.5, tr(f[0]), "", 0, "L", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.MultiCell(width-labelW, lineH+0.5, tr(f[1]), "", "L", false)
	}
	pdf.Ln(3)
	pdf.SetDrawColor(180, 180, 180)
	pdf.Line(margin, pdf.GetY(), margin+width, pdf.GetY())
	pdf.Ln(4)

	// The thread, oldest first.
	for _, e := range Entries(t) {
		entry(pdf, tr, width, names, e)
	}
	if len(t.Messages)+len(t.Notes) == 0 {
		pdf.SetFont("Helvetica", "I", bodyPt)
		pdf.MultiCell(width, lineH, tr("Ärendet har inga meddelanden."), "", "L", false)
	}

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		// fpdf's errors are about layout and fonts, never the text itself.
		return nil, fmt.Errorf("export case %s: pdf: %w", c.ID, err)
	}
	return buf.Bytes(), nil
}

// entry prints one message or note: a heading line with author and time,
// the text, and for a staff message whether the resident has read it. A
// note is shaded and says that the resident never sees it.
func entry(pdf *fpdf.Fpdf, tr func(string) string, width float64, names Names, e Entry) {
	var who, text, status string
	note := e.Note != nil
	if note {
		who, text = names.staff(e.Note.StaffID), e.Note.Text
	} else {
		who, text = GuardianAuthor(e.Message, names.Guardians, names.staff), e.Message.Text
		if e.Message.Author == app.AuthorStaff {
			status = ReadText(e.Message)
		}
	}
	// Keep a heading with at least two lines of its text.
	_, pageH := pdf.GetPageSize()
	if pdf.GetY()+4*lineH > pageH-margin-5 {
		pdf.AddPage()
	}
	if note {
		pdf.SetFillColor(255, 244, 204)
		pdf.SetFont("Helvetica", "B", smallPt)
		pdf.SetTextColor(120, 80, 0)
		pdf.CellFormat(width, lineH, tr(TextNote), "", 1, "L", true, 0, "")
	}
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont("Helvetica", "B", bodyPt)
	at := DateTime(e.At)
	pdf.CellFormat(width-45, lineH+1, tr(who), "", 0, "L", note, 0, "")
	pdf.SetFont("Helvetica", "", bodyPt)
	pdf.CellFormat(45, lineH+1, tr(at), "", 1, "R", note, 0, "")
	pdf.SetFont("Helvetica", "", bodyPt)
	pdf.MultiCell(width, lineH, tr(strings.TrimRight(text, "\n ")), "", "L", note)
	if status != "" {
		pdf.SetFont("Helvetica", "I", smallPt)
		pdf.SetTextColor(90, 90, 90)
		pdf.MultiCell(width, lineH, tr(status), "", "L", false)
	}
	pdf.Ln(2)
	pdf.SetDrawColor(225, 225, 225)
	pdf.Line(margin, pdf.GetY(), margin+width, pdf.GetY())
	pdf.Ln(3)
}
