package ui

import (
	"context"
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
)

// Texts of the sign-in screen.
const (
	textStartTitle   = "start.sign_mottagning"
	textDemo         = "start.demo_database_every_person_case"
	textEmpty        = "start.database_empty_start_demo_try"
	textNoStaff      = "start.there_no_staff_database_yet"
	textLoading      = "start.loading_staff_clinics"
	textUsername     = "start.username"
	textPassword     = "start.password"
	textSignIn       = "start.sign_in"
	textSigningIn    = "start.signing_in"
	textNeedUsername = "start.enter_your_username"
	textNeedPassword = "start.enter_your_password"
	textDemoAccounts = "start.demo_accounts"
	textDemoHelp     = "start.choose_account_fill_username_password"
	textChooseClinic = "start.choose_clinic"
	textContinue     = "start.continue"
	textSignOut      = "start.sign_out"
	// A connected desktop on a new computer: nothing is stored yet.
	textFirstRun     = "start.computer_has_no_data_from"
	textFirstWait    = "start.fetching_your_data"
	textFirstWaitFor = "start.your_clinics_being_fetched_from"
	// A new computer without --server: the server is chosen here.
	textEmptyConnect = "start.database_empty_connect_computer_region"
	textConnectTitle = "start.connect_server"
	textServerURL    = "start.server_address"
	textServerPin    = "start.fingerprint"
	textServerURLEx  = "https://mottagning.regionen.se:8443"
	textServerPinEx  = "start.server_pin_hint"
	textConnect      = "start.connect"
	textConnecting   = "start.connecting"
	textNeedURL      = "start.enter_server_address"
	textNeedPin      = "start.enter_certificate_fingerprint_64_characters"
)

type startDeps struct {
	ctx   context.Context
	tasks *tasks
	dir   Directory
	auth  app.Authenticator
	clock app.Clock
	demo  bool
	// demoPassword gives the demo password of a username; nil unless the
	// database holds the demo data set.
	demoPassword func(username string) string
	preselect    *Preselect
	// resume, when set, is a signed-in staff member changing clinic ("Byt
	// mottagning"): the screen opens on the clinic step, no password asked.
	resume     *app.Staff
	onContinue func(app.Staff, app.Clinic)
	// sync is a connected desktop's engine; nil standalone. A connected
	// desktop on a new computer has no clinics until the first sign-in's
	// pull brings them: the form shows anyway, and the screen waits for
	// them after the sign-in.
	sync SyncStatus
	// connect chooses the server on a new computer (Deps.Connect); nil
	// hides the choice. onConnected takes the connection.
	connect     func(ctx context.Context, url, pin string) (*Connection, error)
	onConnected func(*Connection)
}

// startScreen is the sign-in: a username and a password checked by the
// app's Authenticator (argon2id verifiers in the local store today, the
// central server later), then the choice of clinic for staff who work in
// several. A demo database lists its accounts and their passwords.
type startScreen struct {
	startDeps

	staff   []app.Staff  // active staff, by name (the demo account list)
	clinics []app.Clinic // every clinic, by name
	signed  *app.Staff   // the signed-in staff member; nil before sign-in
	options []app.Clinic // the signed-in staff member's clinics, by name
	clinic  int          // index into options; -1 before a choice

	content  fyne.CanvasObject
	message  *widget.Label   // loading, empty database, errors reading
	retry    *fyne.Container // "Försök igen" after a failed read
	top      *fyne.Container // title, demo line, message
	main     *fyne.Container // form (and demo accounts), hidden until loaded
	form     *fyne.Container // the sign-in form
	username *widget.Entry
	password *widget.Entry
	// code is the one-time code (TOTP or recovery code): a third row of
	// credForm once the server says the account needs one (codeAsked).
	code      *widget.Entry
	credForm  *widget.Form
	codeAsked bool
	signIn    *widget.Button
	errText   *widget.Label // a failed sign-in, in Swedish
	staffList *widget.List  // demo accounts; nil without demo

	// After a first sign-in on a new computer: the wait for the clinics.
	first      *fyne.Container
	firstHint  *widget.Label
	firstText  *widget.Label
	firstBar   *widget.ProgressBar
	firstStop  func() // ends the status subscription; nil when not waiting
	firstStaff *app.Staff

	// The choice of server on a new computer (connect set).
	connectForm *fyne.Container
	serverURL   *widget.Entry
	serverPin   *widget.Entry
	connectBtn  *widget.Button
	connectErr  *widget.Label

	// After sign-in.
	choose     *fyne.Container // the clinic step
	hint       *widget.Label
	clinicPick *widget.RadioGroup
	roles      *widget.Label
	proceed    *widget.Button
	signOut    *widget.Button
}

func newStartScreen(d startDeps) *startScreen {
	s := &startScreen{startDeps: d, clinic: -1}

	title := widget.NewLabel(L(textStartTitle))
	title.SizeName = theme.SizeNameHeadingText
	title.TextStyle.Bold = true
	top := container.NewVBox(title)
	if d.demo {
		info := widget.NewLabelWithStyle(L(textDemo), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		top.Add(container.NewHBox(widget.NewIcon(theme.InfoIcon()), info))
	}
	s.message = widget.NewLabel(L(textLoading))
	s.message.Wrapping = fyne.TextWrapWord
	s.retry = container.NewHBox(widget.NewButtonWithIcon(L("start.try_again"), theme.ViewRefreshIcon(), s.load))
	s.retry.Hide()
	top.Add(s.message)
	top.Add(s.retry)

	s.username = widget.NewEntry()
	s.username.SetPlaceHolder(L(textUsername))
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder(L(textPassword))
	s.username.OnSubmitted = func(string) { s.submit() }
	s.password.OnSubmitted = func(string) { s.submit() }
	s.signIn = widget.NewButtonWithIcon(L(textSignIn), theme.LoginIcon(), s.submit)
	s.signIn.Importance = widget.HighImportance
	s.errText = widget.NewLabel("")
	s.errText.Wrapping = fyne.TextWrapWord
	s.errText.Importance = widget.DangerImportance
	s.errText.Hide()
	s.code = widget.NewEntry()
	s.code.SetPlaceHolder(L("start.six_digits_or_recovery_code"))
	s.code.OnSubmitted = func(string) { s.submit() }
	s.credForm = widget.NewForm(widget.NewFormItem(L(textUsername), s.username), widget.NewFormItem(L(textPassword), s.password))
	s.form = container.NewVBox(
		sectionTitle(L(textSignIn)),
		s.credForm,
		s.errText,
		container.NewHBox(layout.NewSpacer(), s.signIn),
	)

	s.hint = widget.NewLabel("")
	s.hint.Wrapping = fyne.TextWrapWord
	s.clinicPick = widget.NewRadioGroup(nil, s.chooseClinic)
	// The roles line keeps its place before a clinic is chosen, so that
	// Fortsätt below it does not move under the pointer.
	s.roles = widget.NewLabel(" ")
	s.roles.Wrapping = fyne.TextWrapWord
	s.proceed = widget.NewButtonWithIcon(L(textContinue), theme.NavigateNextIcon(), s.continueToWorkspace)
	s.proceed.Importance = widget.HighImportance
	s.proceed.Disable()
	s.signOut = widget.NewButtonWithIcon(L(textSignOut), theme.LogoutIcon(), s.reset)
	s.choose = container.NewVBox(sectionTitle(L(textChooseClinic)), s.hint, s.clinicPick, s.roles,
		container.NewHBox(s.signOut, layout.NewSpacer(), s.proceed))
	s.choose.Hide()

	s.firstHint = widget.NewLabel("")
	s.firstHint.Wrapping = fyne.TextWrapWord
	s.firstText = widget.NewLabel(L(textFirstStarting))
	s.firstText.Wrapping = fyne.TextWrapWord
	s.firstBar = widget.NewProgressBar()
	s.first = container.NewVBox(sectionTitle(L(textFirstWait)), s.firstHint, s.firstBar, s.firstText,
		container.NewHBox(widget.NewButtonWithIcon(L(textSignOut), theme.LogoutIcon(), s.reset)))
	s.first.Hide()

	s.serverURL = widget.NewEntry()
	s.serverURL.SetPlaceHolder(textServerURLEx)
	s.serverPin = widget.NewEntry()
	s.serverPin.SetPlaceHolder(L(textServerPinEx))
	s.serverURL.OnSubmitted = func(string) { s.connectServer() }
	s.serverPin.OnSubmitted = func(string) { s.connectServer() }
	s.connectBtn = widget.NewButtonWithIcon(L(textConnect), theme.LoginIcon(), s.connectServer)
	s.connectBtn.Importance = widget.HighImportance
	s.connectErr = widget.NewLabel("")
	s.connectErr.Wrapping = fyne.TextWrapWord
	s.connectErr.Importance = widget.DangerImportance
	s.connectErr.Hide()
	s.connectForm = container.NewVBox(sectionTitle(L(textConnectTitle)),
		widget.NewForm(widget.NewFormItem(L(textServerURL), s.serverURL), widget.NewFormItem(L(textServerPin), s.serverPin)),
		s.connectErr, container.NewHBox(layout.NewSpacer(), s.connectBtn))
	s.connectForm.Hide()

	left := container.NewVBox(s.connectForm, s.form, s.first, s.choose)
	if d.demoPassword != nil {
		s.staffList = widget.NewList(
			func() int { return len(s.staff) },
			func() fyne.CanvasObject { return widget.NewRichText() },
			func(id widget.ListItemID, o fyne.CanvasObject) {
				rt := o.(*widget.RichText)
				rt.Segments = s.staffSegments(&s.staff[id])
				rt.Refresh()
			},
		)
		s.staffList.OnSelected = s.fillDemoAccount
		help := widget.NewLabel(L(textDemoHelp))
		help.Wrapping = fyne.TextWrapWord
		right := container.NewBorder(container.NewVBox(sectionTitle(L(textDemoAccounts)), help), nil, nil, nil, s.staffList)
		s.main = container.NewGridWithColumns(2, container.NewPadded(left), container.NewPadded(right))
	} else {
		// Without demo accounts the form stands alone, at a readable width.
		s.main = container.NewGridWithColumns(3, container.NewPadded(left))
	}
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

// load reads clinics and staff off the UI goroutine: the clinics for the
// clinic step, the staff for the demo account list.
func (s *startScreen) load() {
	s.retry.Hide()
	s.message.SetText(L(textLoading))
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
		s.message.SetText(L(textStartFailed))
		s.retry.Show()
		s.top.Refresh()
		return
	}
	s.clinics = clinics
	s.staff = s.staff[:0]
	for _, st := range staff {
		if !st.Disabled {
			s.staff = append(s.staff, st)
		}
	}
	switch {
	case len(clinics) == 0 && s.sync == nil && s.connect != nil && !s.demo:
		// A new computer started without --server: choose the server.
		s.message.SetText(L(textEmptyConnect))
		s.form.Hide()
		s.connectForm.Show()
		s.main.Show()
		s.content.Refresh()
		if c := fyne.CurrentApp().Driver().CanvasForObject(s.serverURL); c != nil {
			c.Focus(s.serverURL)
		}
		return
	case len(clinics) == 0 && s.sync != nil:
		// A new computer: the sign-in brings the data.
		s.message.SetText(L(textFirstRun))
	case len(clinics) == 0:
		s.message.SetText(L(textEmpty))
		return
	case len(s.staff) == 0 && s.sync == nil:
		s.message.SetText(L(textNoStaff))
		return
	default:
		s.message.Hide()
	}
	s.main.Show()
	s.content.Refresh()
	if s.staffList != nil {
		for i := range s.staff {
			s.staffList.SetItemHeight(i, widget.NewRichText(s.staffSegments(&s.staff[i])...).MinSize().Height)
		}
		s.staffList.Refresh()
	}
	if s.resume != nil {
		st := s.resume
		s.resume = nil
		s.signedIn(st)
		return
	}
	if p := s.preselect; p != nil && s.demoPassword != nil {
		s.preselect = nil
		s.username.SetText(p.Username)
		s.password.SetText(s.demoPassword(p.Username))
		s.submitThen(func() {
			if p.Clinic >= 0 && p.Clinic < len(s.options) {
				s.chooseClinic(s.options[p.Clinic].Name)
				s.continueToWorkspace()
			}
		})
		return
	}
	if c := fyne.CurrentApp().Driver().CanvasForObject(s.username); c != nil {
		c.Focus(s.username)
	}
}

// fillDemoAccount puts a demo account's username and password in the form.
func (s *startScreen) fillDemoAccount(id widget.ListItemID) {
	st := s.staff[id]
	s.username.SetText(st.Username)
	s.password.SetText(s.demoPassword(st.Username))
	s.errText.Hide()
	if c := fyne.CurrentApp().Driver().CanvasForObject(s.signIn); c != nil {
		c.Focus(s.password)
	}
}

// staffSegments show a demo account: "Name · Title", one line per clinic
// with the roles held there, and the username and password.
func (s *startScreen) staffSegments(st *app.Staff) []widget.RichTextSegment {
	name := widget.RichTextStyleStrong
	name.Inline = st.Title != ""
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
		lines = append(lines, Lf("start.region", r))
	}
	if len(lines) == 0 {
		lines = append(lines, L("start.no_roles"))
	}
	if s.demoPassword != nil {
		lines = append(lines, Lf("start.username_password", st.Username, s.demoPassword(st.Username)))
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
			out = append(out, L(r.Label()))
		}
	}
	for _, r := range roles {
		if !slices.Contains(app.AllClinicRoles, r) {
			out = append(out, L(r.Label()))
		}
	}
	return strings.Join(out, ", ")
}

func (s *startScreen) showError(text string) {
	s.errText.SetText(text)
	s.errText.Show()
	s.form.Refresh()
}

func (s *startScreen) submit() { s.submitThen(nil) }

// submitThen checks the form, signs in off the UI goroutine (argon2id
// takes a noticeable moment) and goes on to the clinic step; then runs
// after a successful sign-in.
func (s *startScreen) submitThen(then func()) {
	user, pw := strings.TrimSpace(s.username.Text), s.password.Text
	switch {
	case s.signIn.Disabled():
		return
	case user == "":
		s.showError(L(textNeedUsername))
		return
	case pw == "":
		s.showError(L(textNeedPassword))
		return
	}
	s.errText.Hide()
	s.signIn.SetText(L(textSigningIn))
	s.signIn.Disable()
	ctx, code := s.ctx, ""
	if s.codeAsked {
		if code = strings.TrimSpace(s.code.Text); code == "" {
			s.showError(signInText(app.ErrOneTimeCodeRequired, s.clock.Now()))
			return
		}
		if app.IsAuthenticatorCode(code) {
			code = strings.ReplaceAll(code, " ", "") // "123 456" as some apps show it
		}
		ctx = app.WithOneTimeCode(ctx, code)
	}
	s.tasks.run(func() func() {
		st, err := s.auth.SignIn(ctx, user, pw)
		return func() {
			s.signIn.SetText(L(textSignIn))
			s.signIn.Enable()
			s.code.SetText("")
			if errors.Is(err, app.ErrOneTimeCodeRequired) {
				// The password was right: it stays, and the code is asked for.
				s.askCode(true)
				s.showError(signInText(err, s.clock.Now()))
				if c := fyne.CurrentApp(); c != nil {
					if w := c.Driver().CanvasForObject(s.code); w != nil {
						w.Focus(s.code)
					}
				}
				return
			}
			s.password.SetText("")
			if err != nil {
				logError("sign in", err)
				msg := signInText(err, s.clock.Now())
				if code != "" && errors.Is(err, app.ErrBadCredentials) {
					msg = L("start.wrong_password_or_one_time")
				}
				s.showError(msg)
				return
			}
			s.askCode(false)
			s.signedIn(st)
			if then != nil {
				then()
			}
		}
	})
}

// signedIn shows the clinic step, or goes straight on for one clinic. On a
// connected desktop that lacks a clinic of the staff member (a new
// computer), it waits for the first pull to bring it.
func (s *startScreen) signedIn(st *app.Staff) {
	if s.sync != nil && s.sync.Status().FirstSync && len(s.missingClinics(st)) > 0 {
		s.waitForClinics(st)
		return
	}
	s.signed, s.clinic = st, -1
	s.options = s.options[:0]
	for _, c := range s.clinics {
		if st.InClinic(c.ID) {
			s.options = append(s.options, c)
		}
	}
	if st.HasRegion(app.RoleContactCenter) {
		s.options = append(s.options, regionClinic())
	}
	if len(s.options) == 1 {
		s.clinic = 0
		s.continueToWorkspace()
		return
	}
	s.form.Hide()
	s.choose.Show()
	s.proceed.Disable()
	s.roles.SetText(" ")
	if len(s.options) == 0 {
		s.hint.SetText(noClinicText(st))
		s.clinicPick.Hide()
	} else {
		s.hint.SetText(Lf("start.choose_clinic_you_working_now", st.Name))
		names := make([]string, len(s.options))
		for i, c := range s.options {
			names[i] = c.Name
		}
		// No default: the clinic decides whose patients' data is shown.
		s.clinicPick.Required = false
		s.clinicPick.Options = names
		s.clinicPick.Selected = ""
		s.clinicPick.Show()
		s.clinicPick.Refresh()
	}
	s.content.Refresh()
}

func noClinicText(st *app.Staff) string {
	text := Lf("start.has_no_role_any_clinic", st.Name)
	return text
}

// chooseClinic is the radio group's callback.
func (s *startScreen) chooseClinic(name string) {
	s.clinic = -1
	for i, c := range s.options {
		if c.Name == name {
			s.clinic = i
		}
	}
	if s.clinic < 0 || s.signed == nil {
		s.proceed.Disable()
		s.roles.SetText(" ")
		s.choose.Refresh()
		return
	}
	if s.clinicPick.Selected != name {
		s.clinicPick.SetSelected(name) // calls back here once more; harmless
	}
	s.clinicPick.Required = true
	c := s.options[s.clinic]
	roles := s.signed.Roles[c.ID]
	if c.ID == regionClinicID {
		roles = []app.Role{app.RoleContactCenter}
	}
	s.roles.SetText(Lf("start.roles_in", c.Name, roleLabels(roles)))
	s.roles.Show()
	s.proceed.Enable()
	s.choose.Refresh()
}

func (s *startScreen) continueToWorkspace() {
	if s.signed == nil || s.clinic < 0 || s.clinic >= len(s.options) {
		return
	}
	s.onContinue(*s.signed, s.options[s.clinic])
}

// reset signs out of the clinic step, back to an empty form.
func (s *startScreen) reset() {
	s.stopWaiting()
	s.signed, s.clinic = nil, -1
	s.first.Hide()
	s.choose.Hide()
	s.form.Show()
	s.username.SetText("")
	s.password.SetText("")
	s.code.SetText("")
	s.askCode(false)
	s.errText.Hide()
	s.content.Refresh()
}

// askCode shows or hides the one-time code row of the sign-in form.
func (s *startScreen) askCode(on bool) {
	if on == s.codeAsked {
		return
	}
	s.codeAsked = on
	if on {
		s.credForm.Append(L("start.one_time_code"), s.code)
	} else {
		s.credForm.Items = s.credForm.Items[:2]
		s.credForm.Refresh()
	}
}

// missingClinics are the clinics where st holds a role that are not on
// this computer (yet).
func (s *startScreen) missingClinics(st *app.Staff) []app.ID {
	var out []app.ID
	for id, roles := range st.Roles {
		if len(roles) > 0 && !slices.ContainsFunc(s.clinics, func(c app.Clinic) bool { return c.ID == id }) {
			out = append(out, id)
		}
	}
	return out
}

// waitForClinics shows the first pull's progress after the first sign-in
// on a new computer, and goes on to the clinic step as soon as the staff
// member's clinics are stored (the lists open then; the rest of the cases
// keep coming, shown in the status bar), or once the first pull is done.
func (s *startScreen) waitForClinics(st *app.Staff) {
	s.stopWaiting()
	s.firstStaff = st
	s.form.Hide()
	s.choose.Hide()
	s.firstHint.SetText(Lf(textFirstWaitFor, st.Name))
	s.first.Show()
	s.content.Refresh()
	ch, stop := s.sync.Subscribe()
	done := make(chan struct{})
	s.firstStop = func() { stop(); close(done) }
	s.showFirst()
	go func() {
		for {
			select {
			case <-done:
				return
			case <-s.ctx.Done():
				return
			case <-ch:
				fyne.Do(s.showFirst)
			}
		}
	}()
}

// showFirst shows the first pull's status and reads the clinics again.
func (s *startScreen) showFirst() {
	if s.firstStop == nil {
		return
	}
	st := s.sync.Status()
	s.firstText.SetText(firstSyncText(st, s.clock.Now()))
	s.firstBar.SetValue(st.Progress)
	if st.LastError != "" && !st.Syncing {
		s.firstText.SetText(L(st.LastError))
	}
	staff, finished := s.firstStaff, !st.FirstSync
	s.tasks.run(func() func() {
		clinics, err := s.dir.Clinics(s.ctx)
		return func() {
			if s.firstStop == nil || s.firstStaff != staff {
				return
			}
			if err != nil {
				logError("load clinics", err)
				return
			}
			s.clinics = clinics
			if len(s.missingClinics(staff)) > 0 && !finished {
				return
			}
			s.stopWaiting()
			s.first.Hide()
			s.message.Hide()
			s.form.Show()
			s.signedInWith(staff)
		}
	})
}

// signedInWith is signedIn without the wait (the first pull brought what
// it could).
func (s *startScreen) signedInWith(st *app.Staff) {
	keep := s.sync
	s.sync = nil
	defer func() { s.sync = keep }()
	s.signedIn(st)
}

func (s *startScreen) stopWaiting() {
	if s.firstStop != nil {
		s.firstStop()
		s.firstStop = nil
	}
	s.firstStaff = nil
}

// connectServer checks the server form and connects off the UI goroutine
// (the first contact checks the certificate against the fingerprint).
func (s *startScreen) connectServer() {
	url, pin := strings.TrimSpace(s.serverURL.Text), strings.TrimSpace(s.serverPin.Text)
	show := func(text string) {
		s.connectErr.SetText(text)
		s.connectErr.Show()
		s.connectForm.Refresh()
	}
	switch {
	case s.connectBtn.Disabled():
		return
	case url == "":
		show(L(textNeedURL))
		return
	case pin != "" && !fingerprintLike(pin):
		show(L(textNeedPin))
		return
	}
	s.connectErr.Hide()
	s.connectBtn.SetText(L(textConnecting))
	s.connectBtn.Disable()
	s.tasks.run(func() func() {
		c, err := s.connect(s.ctx, url, pin)
		return func() {
			s.connectBtn.SetText(L(textConnect))
			s.connectBtn.Enable()
			if err != nil {
				show(err.Error()) // connect's errors are Swedish messages
				return
			}
			s.onConnected(c)
		}
	})
}

// fingerprintLike: 64 hex digits, colons and spaces allowed between.
func fingerprintLike(s string) bool {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f', r >= 'A' && r <= 'F':
			n++
		case r == ':' || r == ' ':
		default:
			return false
		}
	}
	return n == 64
}
