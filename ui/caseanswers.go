package ui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/form"
)

// A submission through an e-service (issue 7) carries the resident's
// answers and the form version they answered on its first message. The
// case view shows them read-only with the questions of that version: each
// visible answered question as "Fråga: svar", repeating groups as one
// block per instance. Without the form (not synced yet, a read error) the
// message's text, the same answers as plain lines, is shown instead.

const cvAnswersHeading = "caseanswers.answers_e_service_version"

// FormReader reads an e-service's form versions; storage.Store implements it.
type FormReader interface {
	FormSeries(ctx context.Context, formID app.ID) (*form.Series, error)
}

// formReader is the deps' forms, else the directory when it can read
// forms (the store does), else nil.
func (d *caseViewDeps) formReader() FormReader {
	if d.forms != nil {
		return d.forms
	}
	if r, ok := d.dir.(FormReader); ok {
		return r
	}
	return nil
}

// answerForms reads the form versions t's messages were answered on, by
// version; a version that cannot be read is left out (its message shows
// its text).
func (v *caseView) answerForms(t *app.Thread) map[int]*form.Form {
	id := t.Case.EServiceID
	out := map[int]*form.Form{}
	var series *form.Series
	for _, m := range t.Messages {
		if len(m.Answers) == 0 || m.FormVersion < 1 || out[m.FormVersion] != nil || id == "" {
			continue
		}
		if series == nil {
			series = app.StandardForm(id)
			if series == nil {
				r := v.formReader()
				if r == nil {
					return out
				}
				s, err := r.FormSeries(v.ctx, id)
				if err != nil {
					if !errors.Is(err, app.ErrNotFound) {
						logError("case view: form of e-service", err, "case", t.Case.ID, "eservice", id)
					}
					return out
				}
				series = s
			}
		}
		if f, err := series.Version(m.FormVersion); err == nil {
			out[m.FormVersion] = f
		}
	}
	return out
}

// answersBlock is the read-only answers of m, or nil when its form
// version is not known here.
func (v *caseView) answersBlock(m *app.Message) fyne.CanvasObject {
	if m == nil || len(m.Answers) == 0 {
		return nil
	}
	f := v.formVersions[m.FormVersion]
	if f == nil {
		return nil
	}
	rows := answerRows(f.Items, m.Answers)
	if len(rows) == 0 {
		return nil
	}
	head := widget.NewLabelWithStyle(Lf(cvAnswersHeading, m.FormVersion), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	head.SizeName = theme.SizeNameCaptionText
	return container.NewVBox(append([]fyne.CanvasObject{head}, rows...)...)
}

// answerRows are the rows of the answered items among items: a question
// as "Fråga: svar", a group's answered questions under its label, and
// each instance of a repeating group under "Label 1", "Label 2", ….
// Hidden items were never stored (the engine drops them), so what has an
// answer was visible.
func answerRows(items []form.Item, a form.Answers) []fyne.CanvasObject {
	var rows []fyne.CanvasObject
	for i := range items {
		it := &items[i]
		switch {
		case it.Type == form.TypeDisplay:
		case it.Type == form.TypeGroup && it.Repeats:
			for k, inst := range a[it.ID] {
				sub := answerRows(it.Items, inst.Group)
				if len(sub) == 0 {
					continue
				}
				rows = append(rows, answerHeading(strings.TrimSpace(it.Prefix+" "+it.Label)+" "+itoa(k+1)), answerIndent(sub))
			}
		case it.Type == form.TypeGroup:
			sub := answerRows(it.Items, a)
			if len(sub) == 0 {
				continue
			}
			if label := strings.TrimSpace(it.Prefix + " " + it.Label); label != "" {
				rows = append(rows, answerHeading(label), answerIndent(sub))
			} else {
				rows = append(rows, sub...)
			}
		default:
			vs := a[it.ID]
			if len(vs) == 0 {
				continue
			}
			parts := make([]string, 0, len(vs))
			for _, x := range vs {
				s := it.AnswerText(x)
				if it.Type == form.TypeBoolean {
					s = valueText(it, x) // Ja / Nej in the window's language
				}
				parts = append(parts, s)
			}
			l := widget.NewLabel(strings.TrimSpace(it.Prefix+" "+it.Label) + ": " + strings.Join(parts, ", "))
			l.Wrapping = fyne.TextWrapWord
			l.Selectable = true // staff copy answers into the journal
			rows = append(rows, l)
			if len(it.Items) > 0 { // questions nested under a question
				rows = append(rows, answerIndent(answerRows(it.Items, a)))
			}
		}
	}
	return rows
}

func answerHeading(s string) fyne.CanvasObject {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

func answerIndent(rows []fyne.CanvasObject) fyne.CanvasObject {
	return container.New(layout.NewCustomPaddedLayout(0, 0, 2*theme.Padding()+theme.InnerPadding(), 0), container.NewVBox(rows...))
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
