package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
)

// Texts of the start screen.
const (
	textStartTitle  = "Välj medarbetare och mottagning"
	textDemo        = "Demodatabas – alla personer och ärenden är påhittade."
	textEmpty       = "Databasen är tom. Starta med --demo för att prova med demodata."
	textNoStaff     = "Det finns inga medarbetare i databasen ännu."
	textLoading     = "Hämtar medarbetare och mottagningar …"
	textChooseStaff = "Välj medarbetare i listan."
	textContinue    = "Fortsätt"
)

type startDeps struct {
	ctx        context.Context
	tasks      *tasks
	dir        Directory
	demo       bool
	preselect  *Preselect
	onContinue func(app.Staff, app.Clinic)
}

// startScreen is "Välj medarbetare och mottagning": choose who you are and
// in which clinic you work. There is no sign-in yet (it comes with the
// central server's accounts); the choice only decides what the workspace
// shows, and the services check the roles again.
type startScreen struct {
	startDeps

	staff   []app.Staff  // active staff, by name
	clinics []app.Clinic // every clinic, by name
	chosen  int          // index into staff; -1 before a choice
	options []app.Clinic // the chosen staff member's clinics, by name
	clinic  int          // index into options; -1 before a choice

	content    fyne.CanvasObject
	message    *widget.Label   // loading, empty database, errors
	retry      *fyne.Container // "Försök igen" after a failed read
	top        *fyne.Container // title, demo line, message
	main       *fyne.Container // the two columns, hidden until there is something to choose
	right      *fyne.Container // the clinic column
	staffList  *widget.List
	hint       *widget.Label // what to do next / why there is nothing to choose
	clinicOne  *widget.Label // the clinic, when the staff member has exactly one
	clinicPick *widget.RadioGroup
	roles      *widget.Label // the chosen staff member's roles in the chosen clinic
	proceed    *widget.Button
}

func newStartScreen(d startDeps) *startScreen {
	s := &startScreen{startDeps: d, chosen: -1, clinic: -1}

	title := widget.NewLabel(textStartTitle)
	title.SizeName = theme.SizeNameHeadingText
	title.TextStyle.Bold = true
	top := container.NewVBox(title)
	if d.demo {
		info := widget.NewLabelWithStyle(textDemo, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		info.Importance = widget.MediumImportance
		top.Add(container.NewHBox(widget.NewIcon(theme.InfoIcon()), info))
	}

	s.message = widget.NewLabel(textLoading)
	s.message.Wrapping = fyne.TextWrapWord
	s.retry = container.NewHBox(widget.NewButtonWithIcon("Försök igen", theme.ViewRefreshIcon(), s.load))
	s.retry.Hide()
	top.Add(s.message)
	top.Add(s.retry)

	s.staffList = widget.NewList(
		func() int { return len(s.staff) },
		func() fyne.CanvasObject { return widget.NewRichText() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			rt := o.(*widget.RichText)
			rt.Segments = s.staffSegments(&s.staff[id])
			rt.Refresh()
		},
	)
	s.staffList.OnSelected = s.chooseStaff

	s.hint = widget.NewLabel(textChooseStaff)
	s.hint.Wrapping = fyne.TextWrapWord
	s.clinicOne = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.clinicOne.Hide()
	s.clinicPick = widget.NewRadioGroup(nil, s.chooseClinic)
	s.clinicPick.Hide()
	s.roles = widget.NewLabel("")
	s.roles.Wrapping = fyne.TextWrapWord
	s.roles.Hide()
	s.proceed = widget.NewButtonWithIcon(textContinue, theme.NavigateNextIcon(), s.continueToWorkspace)
	s.proceed.Importance = widget.HighImportance
	s.proceed.Disable()

	left := container.NewBorder(sectionTitle("Medarbetare"), nil, nil, nil, s.staffList)
	s.right = container.NewVBox(
		sectionTitle("Mottagning"),
		s.hint, s.clinicOne, s.clinicPick, s.roles,
		container.NewHBox(layout.NewSpacer(), s.proceed),
	)
	s.main = container.NewGridWithColumns(2, container.NewPadded(left), container.NewPadded(s.right))
	s.main.Hide()

	s.top = top
	s.content = container.NewPadded(container.NewBorder(top, nil, nil, nil, s.main))
	s.load()
	return s
}

func sectionTitle(text string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	return container.NewVBox(l, widget.NewSeparator())
}

// load reads clinics and staff off the UI goroutine.
func (s *startScreen) load() {
	s.retry.Hide()
	s.message.SetText(textLoading)
	s.message.Show()
	s.top.Refresh()
	s.tasks.run(func() func() {
		clinics, err := s.dir.Clinics(s.ctx)
		var staff []app.Staff
		if err == nil {
			staff, err = s.dir.AllStaff(s.ctx)
		}
		return func() { s.loaded(clinics, staff, err) }
	})
}

func (s *startScreen) loaded(clinics []app.Clinic, staff []app.Staff, err error) {
	if err != nil {
		logError("load staff and clinics", err)
		s.message.SetText(textStartFailed)
		s.retry.Show()
		s.top.Refresh()
		return
	}
	s.clinics = clinics
	s.staff = s.staff[:0]
	for _, st := range staff {
		// A disabled account may not work in any clinic; it stays in the
		// database for the access log only.
		if !st.Disabled {
			s.staff = append(s.staff, st)
		}
	}
	switch {
	case len(clinics) == 0:
		s.message.SetText(textEmpty)
		return
	case len(s.staff) == 0:
		s.message.SetText(textNoStaff)
		return
	}
	s.message.Hide()
	s.main.Show()
	// Showing an object does not lay out its parents again.
	s.content.Refresh()
	// Items differ in height: one line per clinic the person has roles in.
	for i := range s.staff {
		s.staffList.SetItemHeight(i, s.itemHeight(&s.staff[i]))
	}
	s.staffList.Refresh()
	if p := s.preselect; p != nil {
		s.preselect = nil
		s.apply(p)
	}
}

func (s *startScreen) itemHeight(st *app.Staff) float32 {
	return widget.NewRichText(s.staffSegments(st)...).MinSize().Height
}

// apply carries out a Preselect: choose, pick the clinic, continue.
func (s *startScreen) apply(p *Preselect) {
	for i := range s.staff {
		if s.staff[i].Username != p.Username {
			continue
		}
		s.staffList.Select(i)
		if p.Clinic >= 0 && p.Clinic < len(s.options) {
			s.chooseClinic(s.options[p.Clinic].Name)
			s.continueToWorkspace()
		}
		return
	}
}

// staffSegments show a staff member as "Name · Title" and, one line per
// clinic, the roles held there in Swedish.
func (s *startScreen) staffSegments(st *app.Staff) []widget.RichTextSegment {
	name := widget.RichTextStyleStrong
	name.Inline = st.Title != "" // else the name is a paragraph of its own
	segs := []widget.RichTextSegment{&widget.TextSegment{Style: name, Text: st.Name}}
	if st.Title != "" {
		segs = append(segs, &widget.TextSegment{Style: widget.RichTextStyleParagraph, Text: " · " + st.Title})
	}
	var lines []string
	for _, c := range s.clinics {
		if r := roleLabels(st.Roles[c.ID]); r != "" {
			lines = append(lines, c.Name+": "+r)
		}
	}
	if r := roleLabels(st.RegionRoles); r != "" {
		lines = append(lines, "Regionen: "+r)
	}
	if len(lines) == 0 {
		lines = append(lines, "Inga roller")
	}
	for _, l := range lines {
		segs = append(segs, &widget.TextSegment{Style: widget.RichTextStyleParagraph, Text: l})
	}
	return segs
}

// roleLabels lists roles in the order of app.AllClinicRoles, region roles last.
func roleLabels(roles []app.Role) string {
	var out []string
	for _, r := range app.AllClinicRoles {
		if slices.Contains(roles, r) {
			out = append(out, r.Label())
		}
	}
	for _, r := range roles {
		if !slices.Contains(app.AllClinicRoles, r) {
			out = append(out, r.Label())
		}
	}
	return strings.Join(out, ", ")
}

func (s *startScreen) chooseStaff(id widget.ListItemID) {
	s.chosen, s.clinic = id, -1
	st := &s.staff[id]
	s.options = s.options[:0]
	for _, c := range s.clinics {
		if st.InClinic(c.ID) {
			s.options = append(s.options, c)
		}
	}
	s.proceed.Disable()
	s.roles.Hide()
	s.clinicOne.Hide()
	s.clinicPick.Hide()
	switch len(s.options) {
	case 0:
		s.hint.SetText(noClinicText(st))
	case 1:
		s.hint.SetText(st.Name + " har roller i:")
		s.clinicOne.SetText(s.options[0].Name)
		s.clinicOne.Show()
		s.chooseClinic(s.options[0].Name)
	default:
		s.hint.SetText("Välj mottagning för " + st.Name + ":")
		names := make([]string, len(s.options))
		for i, c := range s.options {
			names[i] = c.Name
		}
		// Set the options without a selection: the choice of clinic decides
		// whose patients' data is shown, so it is never made by default.
		s.clinicPick.Required = false
		s.clinicPick.Options = names
		s.clinicPick.Selected = ""
		s.clinicPick.Show()
		s.clinicPick.Refresh()
	}
	s.right.Refresh()
}

func noClinicText(st *app.Staff) string {
	text := st.Name + " har ingen roll i någon mottagning."
	if st.HasRegion(app.RoleContactCenter) {
		text += " Som kontaktcenter kommer du att kunna låsa och låsa upp en invånares inloggning på invånarens begäran. Det kommer i en senare version."
	}
	return text
}

// chooseClinic is the radio group's callback and is also called directly
// for a staff member with one clinic.
func (s *startScreen) chooseClinic(name string) {
	s.clinic = -1
	for i, c := range s.options {
		if c.Name == name {
			s.clinic = i
		}
	}
	if s.clinic < 0 || s.chosen < 0 {
		s.proceed.Disable()
		s.roles.Hide()
		s.right.Refresh()
		return
	}
	if len(s.options) > 1 && s.clinicPick.Selected != name {
		s.clinicPick.SetSelected(name) // calls back here once more; harmless
	}
	s.clinicPick.Required = true // once chosen, a tap on it again must not clear it
	c := s.options[s.clinic]
	s.roles.SetText(fmt.Sprintf("Roller i %s: %s", c.Name, roleLabels(s.staff[s.chosen].Roles[c.ID])))
	s.roles.Show()
	s.proceed.Enable()
	s.right.Refresh()
}

func (s *startScreen) continueToWorkspace() {
	if s.chosen < 0 || s.clinic < 0 {
		return
	}
	s.onContinue(s.staff[s.chosen], s.options[s.clinic])
}
