package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Texts of the preparation screen.
const (
	textPrepTitle  = "prepare.creating_demo_data"
	textPrepCount  = "prepare.of_cases"
	textPrepIntro  = "prepare.demo_database_created_once_many"
	textPrepFailed = "prepare.demo_data_could_not_created"
)

// Prepare is a long job that must finish before anyone signs in (the demo
// seed): it reports how far it has come with progress.
type Prepare func(ctx context.Context, progress func(done, total int)) error

// prepareScreen shows Deps.Prepare running, with a progress bar, and then
// the start screen; on failure, the reason (nothing else can be done in
// this window).
type prepareScreen struct {
	content fyne.CanvasObject
	bar     *widget.ProgressBar
	count   *widget.Label
	errText *widget.Label
}

func (u *UI) showPrepare() {
	p := &prepareScreen{bar: widget.NewProgressBar(), count: widget.NewLabel(""), errText: newFieldMessage()}
	title := widget.NewLabelWithStyle(L(textPrepTitle), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	intro := widget.NewLabel(L(textPrepIntro))
	intro.Wrapping = fyne.TextWrapWord
	p.content = container.NewCenter(container.NewGridWrap(fyne.NewSize(460, 220),
		container.NewVBox(title, intro, p.bar, p.count, p.errText)))
	u.prepare = p
	u.win.SetContent(p.content)

	job := u.deps.Prepare
	shown := -1
	progress := func(done, total int) {
		if total <= 0 {
			return
		}
		// At most a hundred updates, whatever the number of cases.
		pct := done * 100 / total
		if pct == shown && done != total {
			return
		}
		shown = pct
		u.tasks.post(func() {
			p.bar.SetValue(float64(done) / float64(total))
			p.count.SetText(Lf(textPrepCount, thousands(done), thousands(total)))
		})
	}
	u.tasks.background(func() func() {
		err := job(u.ctx, progress)
		return func() {
			if err != nil {
				logError("prepare", err)
				fieldMessage(p.errText, L(textPrepFailed)+" "+errorText(err), true)
				return
			}
			u.deps.Prepare = nil
			u.prepare = nil
			u.showStart(u.deps.Preselect, nil)
		}
	})
}

// post applies a result on the UI goroutine, in order with the jobs'
// results (held for wait in the tests).
func (t *tasks) post(apply func()) {
	if holdResults {
		t.mu.Lock()
		t.held = append(t.held, apply)
		t.mu.Unlock()
		return
	}
	fyne.Do(apply)
}
