package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
)

// Texts of the workspace.
const (
	textClinicCases = "Mottagningens ärenden"
	textMyCases     = "Mina ärenden"
	textSend        = "Skicka ärende"
	textSwitch      = "Byt mottagning"
	textDemoBadge   = "Demodatabas"
)

type workspaceDeps struct {
	ctx   context.Context
	tasks *tasks
	dir   Directory
	cases CaseLists
	demo  bool
	// onSwitchClinic is "Byt mottagning" (staff in several clinics).
	onSwitchClinic func()
	onSignOut      func()
	onLock         func()
}

// workspaceScreen is one staff member at work in one clinic: a header bar
// and the case lists their roles allow (R16), or, for a role without case
// handling, what that role will be able to do here.
type workspaceScreen struct {
	content fyne.CanvasObject
	sess    app.Session

	clinicName *widget.Label
	staffName  *widget.Label
	switchBtn  *widget.Button // Byt mottagning; nil for staff in one clinic
	signOut    *widget.Button
	lockBtn    *widget.Button
	// send is Skicka ärende. It is shown, disabled, to staff who may send:
	// sending comes with the staff-tool issue, and a visible but disabled
	// button says where it will be without promising anything today.
	send *widget.Button

	tabs        *container.AppTabs // both lists; nil unless both roles
	clinicCases *caseList          // nil without ärendemottagare
	myCases     *caseList          // nil without ärendehanterare
	roleInfo    *widget.Label      // nil when there is a case list
}

func newWorkspaceScreen(d workspaceDeps, sess app.Session, clinic app.Clinic) *workspaceScreen {
	s := &workspaceScreen{sess: sess}
	st := sess.Staff
	receiver := st.Has(clinic.ID, app.RoleCaseReceiver)
	handler := st.Has(clinic.ID, app.RoleCaseHandler)

	s.clinicName = widget.NewLabelWithStyle(clinic.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.clinicName.SizeName = theme.SizeNameSubHeadingText
	who := st.Name
	if st.Title != "" {
		who += " · " + st.Title
	}
	s.staffName = widget.NewLabel(who)
	if clinics := len(st.Roles); clinics > 1 {
		s.switchBtn = widget.NewButtonWithIcon(textSwitch, theme.HomeIcon(), d.onSwitchClinic)
	}
	s.lockBtn = widget.NewButtonWithIcon(textLockNow, theme.VisibilityOffIcon(), d.onLock)
	s.signOut = widget.NewButtonWithIcon(textSignOut, theme.LogoutIcon(), d.onSignOut)
	s.send = widget.NewButtonWithIcon(textSend, theme.MailSendIcon(), nil)
	s.send.Disable()
	if !receiver && !handler {
		s.send.Hide()
	}
	right := container.NewHBox()
	if d.demo {
		badge := widget.NewLabelWithStyle(textDemoBadge, fyne.TextAlignTrailing, fyne.TextStyle{Italic: true})
		right.Add(badge)
	}
	right.Add(s.send)
	if s.switchBtn != nil {
		right.Add(s.switchBtn)
	}
	right.Add(s.lockBtn)
	right.Add(s.signOut)
	header := container.NewBorder(nil, nil,
		container.NewHBox(s.clinicName, container.NewCenter(s.staffName)), container.NewCenter(right))

	lists := caseListDeps{ctx: d.ctx, tasks: d.tasks, dir: d.dir, cases: d.cases, sess: sess}
	var body fyne.CanvasObject
	switch {
	case receiver && handler:
		s.clinicCases = newCaseList(lists, clinicList)
		s.myCases = newCaseList(lists, myList)
		s.tabs = container.NewAppTabs(
			container.NewTabItem(textClinicCases, s.clinicCases.content),
			container.NewTabItem(textMyCases, s.myCases.content),
		)
		body = s.tabs
	case receiver:
		s.clinicCases = newCaseList(lists, clinicList)
		body = titled(textClinicCases, s.clinicCases.content)
	case handler:
		s.myCases = newCaseList(lists, myList)
		body = titled(textMyCases, s.myCases.content)
	default:
		s.roleInfo = widget.NewLabel(roleInfoText(st, clinic))
		s.roleInfo.Wrapping = fyne.TextWrapWord
		body = container.NewVBox(s.roleInfo)
	}

	s.content = container.NewBorder(
		container.NewVBox(container.NewPadded(header), widget.NewSeparator()), nil, nil, nil,
		container.NewPadded(body))
	return s
}

func titled(title string, o fyne.CanvasObject) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewBorder(container.NewHBox(l, layout.NewSpacer()), nil, nil, nil, o)
}

// roleTexts say what a role without case handling will do in this window.
var roleTexts = map[app.Role]string{
	app.RoleLocalAdmin: "Som lokal administratör kommer du här att hantera mottagningens meddelandemallar, " +
		"standardsvar, e-tjänster och inställningar, och kunna spärra en vårdnadshavares ombudsbehörighet för ett barn.",
	app.RolePermissionAdmin: "Som behörighetsadministratör kommer du här att ge och ta bort medarbetares roller i mottagningen.",
	app.RoleAuditor: "Som granskare kommer du här att kunna läsa mottagningens åtkomstlogg: " +
		"vem som öppnade vilket ärende eller vilken invånares uppgifter, och när.",
}

// roleInfoText explains, calmly, why there is no case list and what comes.
func roleInfoText(st *app.Staff, clinic app.Clinic) string {
	parts := []string{"Ärendelistorna visas för ärendemottagare och ärendehanterare. " +
		"Dina roller i " + clinic.Name + " omfattar inte ärendehantering."}
	for _, r := range app.AllClinicRoles {
		if t, ok := roleTexts[r]; ok && st.Has(clinic.ID, r) {
			parts = append(parts, t)
		}
	}
	parts = append(parts, "De funktionerna kommer i senare versioner.")
	return strings.Join(parts, "\n\n")
}
