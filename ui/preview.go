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
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/form"
	"mottagning/app/personnummer"
	"mottagning/export"
)

// Texts of the citizen preview.
const (
	textPvTab         = "common.preview"
	textPvTitle       = "preview.preview_as_resident"
	textPvIntro       = "preview.how_resident_sees_e_service"
	textPvEServiceTab = "common.e_service"
	textPvMessageTab  = "preview.message_notification"
	textPvEService    = "preview.e_service"
	textPvPersona     = "preview.as_label"
	textPvLoading     = "common.loading_e_services"
	textPvListFailed  = "common.loading_eservices_failed"
	textPvNoForm      = "preview.e_service_has_no_form"
	textPvPickService = "preview.choose_e_service"
	textPvVersion     = "preview.published_version"
	textPvDraft       = "preview.draft"
	textPvNoVersion   = "preview.no_form"
	textPvSubmit      = "preview.send_preview"
	textPvWouldSend   = "preview.would_submitted_preview_nothing_stored"
	textPvNothing     = "preview.no_answers_would_submitted"
	textPvRefused     = "preview.server_would_refuse_submission_fix"
	textPvDemoPerson  = "preview.years_demo_data"
	textPvMadeUp      = "preview.made_up_person_years"
	textPvChildOf     = "preview.proxy_mode"
	textPvOnDate      = "preview.on_date"
	textPvSignInOK    = "preview.sign_e_id"
	textPvLocked      = "preview.login_locked_resident_cannot_sign"
	textPvNoSignIn    = "preview.resident_cannot_sign_cannot_use"
	textPvProxyOK     = "preview.may_act_as_proxy_child"
	textPvProxyNo     = "preview.proxy_mode_refused"
	textPvOwnView     = "preview.child_now_signs_personally_child"
	textPvAvailable   = "preview.e_service_available"
	textPvUnavailable = "preview.e_service_not_available"
	textPvTemplate    = "preview.message_template"
	textPvNoTemplates = "preview.clinic_has_no_message_templates"
	textPvInbox       = "preview.the_inbox"
	textPvSMS         = "common.text_message"
	textPvEmail       = "common.e_mail"
	textPvEmailSubj   = "preview.subject"
	textPvNoCaseData  = "preview.notifications_always_exactly_these_texts"
	textPvTplFailed   = "common.loading_templates_failed"
)

// The personas of the preview, in the order the choice lists them.
type personaKind int

const (
	personaAdult personaKind = iota
	personaProxy
	personaTurned13
	personaProtected
	personaLocked
)

var personaLabels = []string{
	personaAdult:     K("preview.adult"),
	personaProxy:     K("preview.guardian_child_aged_12_years"),
	personaTurned13:  K("preview.same_child_13th_birthday"),
	personaProtected: K("preview.guardian_or_child_protected_identity"),
	personaLocked:    K("common.sign_locked"),
}

// persona is who the preview shows the e-service to: the resident who
// signs in (the guardian, in proxy mode), the child acted for, and the
// day it happens.
type persona struct {
	kind  personaKind
	who   *app.Resident
	child *app.Resident // proxy personas only
	at    time.Time
	demo  bool // real residents of the demo database
}

// demoResidents is what the preview reads to show the demo data set's
// residents: storage.Store has it. It is asked only on a demo database.
type demoResidents interface {
	AllResidents(ctx context.Context) ([]app.Resident, error)
}

// personas finds each persona among the residents of a demo database,
// and makes up the ones it cannot find (or all, without residents) with
// the preview's own fixed ages: adults get Skatteverket's published test
// personnummer, the children numbers built with a correct check digit (as
// shared/DOMAIN.md allows for children under 13).
func personas(rs []app.Resident, now time.Time) []persona {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b app.Resident) int { return strings.Compare(a.PNR.String(), b.PNR.String()) })
	byID := map[app.ID]*app.Resident{}
	for i := range sorted {
		byID[sorted[i].ID] = &sorted[i]
	}
	ok := func(r *app.Resident) bool {
		return !r.PNR.IsZero() && !r.Register.Deceased && r.Account.Activated && !r.Register.ProtectedIdentity
	}
	var adult, locked, proxyChild, proxyGuardian, protChild, protGuardian *app.Resident
	bestBirthday := time.Time{}
	for i := range sorted {
		r := &sorted[i]
		switch {
		case r.PNR.IsZero() || r.Register.Deceased:
			continue
		case adult == nil && ok(r) && !r.Account.LoginLocked && !r.Demo && r.PNR.AgeOn(now) >= 18:
			adult = r
		case locked == nil && r.Account.LoginLocked && r.PNR.AgeOn(now) >= 18:
			locked = r
		}
		if !app.IsChild(r, now) {
			continue
		}
		for _, g := range r.Guardians {
			gr := byID[g.GuardianID]
			if gr == nil {
				continue
			}
			err := app.MayActAsProxy(gr, r, now)
			var pe *app.ProxyError
			switch {
			case err == nil && r.PNR.AgeOn(now) == 12 && ok(r) && ok(gr):
				// 12 years 11 months: the 13th birthday within a month;
				// the latest such birthday is closest to 12 år 11 mån.
				if b := app.ThirteenthBirthday(r); b.Sub(now) <= 31*24*time.Hour && b.After(bestBirthday) {
					proxyChild, proxyGuardian, bestBirthday = r, gr, b
				}
			case errors.As(err, &pe) && pe.Reason == app.ProxyProtectedIdentity && protChild == nil:
				protChild, protGuardian = r, gr
			}
		}
	}
	made := syntheticResidents(now)
	out := make([]persona, len(personaLabels))
	if adult != nil {
		out[personaAdult] = persona{who: adult, demo: true}
	} else {
		out[personaAdult] = persona{who: made.adult}
	}
	if proxyChild != nil {
		out[personaProxy] = persona{who: proxyGuardian, child: proxyChild, demo: true}
	} else {
		out[personaProxy] = persona{who: made.guardian, child: made.child}
	}
	out[personaTurned13] = out[personaProxy]
	if protChild != nil {
		out[personaProtected] = persona{who: protGuardian, child: protChild, demo: true}
	} else {
		out[personaProtected] = persona{who: made.protGuardian, child: made.protChild}
	}
	if locked != nil {
		out[personaLocked] = persona{who: locked, demo: true}
	} else {
		out[personaLocked] = persona{who: made.locked}
	}
	for i := range out {
		out[i].kind = personaKind(i)
		out[i].at = now
	}
	// The same child, on the morning of the 13th birthday (R8).
	out[personaTurned13].at = app.ThirteenthBirthday(out[personaTurned13].child).Add(9 * time.Hour)
	return out
}

type madeUp struct {
	adult, guardian, child, protGuardian, protChild, locked *app.Resident
}

// syntheticResidents are the preview's own persons, never stored.
func syntheticResidents(now time.Time) madeUp {
	var adults []personnummer.Number
	for _, n := range demo.TestNumbers() {
		if n.AgeOn(now) >= 18 {
			adults = append(adults, n)
		}
	}
	adult := func(i int, id string) *app.Resident {
		r := &app.Resident{ID: app.ID(id), Demo: true, Account: app.Account{Activated: true}}
		if len(adults) > 0 {
			r.PNR = adults[i%len(adults)]
		}
		return r
	}
	child := func(id string, birth time.Time, serial int, g *app.Resident) *app.Resident {
		n, err := personnummer.New(birth, serial, false)
		if err != nil {
			panic(fmt.Sprintf("preview: child number: %v", err))
		}
		return &app.Resident{ID: app.ID(id), PNR: n, Demo: true, Account: app.Account{Activated: true},
			Guardians: []app.Guardianship{{GuardianID: g.ID, ProxyActivated: true}}}
	}
	today := app.DateIn(now)
	m := madeUp{adult: adult(0, "forhandsgranskning-vuxen"), guardian: adult(1, "forhandsgranskning-vardnadshavare"),
		protGuardian: adult(2, "forhandsgranskning-skyddad"), locked: adult(3, "forhandsgranskning-last")}
	m.child = child("forhandsgranskning-barn", today.AddDate(-12, -11, 0), 981, m.guardian)
	m.protGuardian.Register.ProtectedIdentity = true
	m.protChild = child("forhandsgranskning-barn-skyddad", today.AddDate(-7, -3, 0), 982, m.protGuardian)
	m.locked.Account.LoginLocked = true
	return m
}

// verdict is one line of the availability decision.
type verdict struct {
	ok   bool
	text string
}

// decision is what the preview decides for a persona: the lines that
// explain it, whether the form is shown, and as whom and when.
type decision struct {
	lines   []verdict
	allowed bool
	at      time.Time
}

// decide applies the rules a resident meets before the form: sign-in
// (R1, R10), proxy (R5, R7, R8, blocks), and the e-service's own
// availability (form.Definition.Available).
func decide(p persona, def *form.Definition) decision {
	d := decision{at: p.at}
	add := func(ok bool, text string) { d.lines = append(d.lines, verdict{ok, text}) }
	if err := app.CanSignIn(p.who); err != nil {
		if errors.Is(err, app.ErrLoginLocked) {
			add(false, L(textPvLocked))
		} else {
			add(false, L(textPvNoSignIn))
		}
		return d
	}
	add(true, L(textPvSignInOK))
	req := form.Requester{ResidentID: string(p.who.ID), Age: p.who.PNR.AgeOn(p.at)}
	if p.child != nil {
		if err := app.MayActAsProxy(p.who, p.child, p.at); err != nil {
			var pe *app.ProxyError
			msg := err.Error()
			if errors.As(err, &pe) {
				msg = pe.Reason.Message()
			}
			add(false, Lf(textPvProxyNo, msg))
			if p.kind != personaTurned13 {
				return d
			}
			// From 13 the child signs in personally (R8).
			add(true, L(textPvOwnView))
			if err := app.CanSignIn(p.child); err != nil {
				add(false, L(textPvNoSignIn))
				return d
			}
			req = form.Requester{ResidentID: string(p.child.ID), Age: p.child.PNR.AgeOn(p.at)}
		} else {
			add(true, L(textPvProxyOK))
			req = form.Requester{ResidentID: string(p.child.ID), Age: p.child.PNR.AgeOn(p.at), Proxy: true}
		}
	}
	if ok, why := def.Available(req, p.at); !ok {
		add(false, Lf(textPvUnavailable, why))
		return d
	}
	add(true, L(textPvAvailable))
	d.allowed = true
	return d
}

// describePersona is the line about who the persona is.
func describePersona(p persona) string {
	person := func(r *app.Resident) string {
		age := r.PNR.AgeOn(p.at)
		if p.demo && r.Register.GivenName != "" {
			return Lf(textPvDemoPerson, strings.TrimSpace(r.Register.GivenName+" "+r.Register.FamilyName), age)
		}
		return Lf(textPvMadeUp, age)
	}
	s := person(p.who)
	if p.child != nil {
		s += " " + Lf(textPvChildOf, person(p.child))
	}
	return s + " · " + Lf(textPvOnDate, p.at.In(app.Stockholm).Format("2006-01-02"))
}

// previewSource is one version of one e-service to preview.
type previewSource struct {
	label string
	def   form.Definition
	form  *form.Form // nil: no form
}

type previewDeps struct {
	ctx       context.Context
	tasks     *tasks
	svc       EServiceAdmin // nil with fixed
	dir       Directory     // message templates; nil hides the message tab
	residents demoResidents // nil: made-up personas only
	sess      app.Session
	clock     app.Clock
	// fixed previews one e-service as being edited (the builder's
	// Förhandsgranska): no choice of e-service, no message tab.
	fixed *previewSource
	// initial, when set, chooses the first e-service whose name starts
	// with it once the list is loaded (screenshots: Preselect.Screen
	// "preview:NAME").
	initial string
}

// previewScreen is the citizen preview: an e-service (published or draft)
// as each persona would meet it, and a message template with the
// notification texts as the resident receives them. It stores nothing.
type previewScreen struct {
	previewDeps
	content fyne.CanvasObject

	sources  []previewSource
	people   []persona
	service  *widget.Select
	persona  *widget.Select
	who      *widget.Label
	lines    *fyne.Container
	formBox  *fyne.Container
	view     *formView // nil when no form is shown
	scroll   *container.Scroll
	submit   *widget.Button // formView places it after the last page
	result   *widget.Label
	msg      *widget.Label
	decision decision
	tabs     *container.AppTabs // nil with fixed

	templates []app.MessageTemplate
	tplPick   *widget.Select
	inboxSubj *widget.Label
	inboxBody *widget.Label
	inboxNote *widget.Label
	sms       *widget.Label
	emailSubj *widget.Label
	emailBody *widget.Label
}

func newPreviewScreen(d previewDeps) *previewScreen {
	if d.clock == nil {
		d.clock = app.SystemClock{}
	}
	s := &previewScreen{previewDeps: d}
	s.people = personas(nil, d.clock.Now())

	var names []string
	for _, l := range personaLabels {
		names = append(names, L(l))
	}
	s.persona = newSelect(names, func(string) { s.show() })
	s.persona.Selected = names[0]
	s.service = newSelect(nil, func(string) { s.show() })
	s.service.PlaceHolder = L(textPvPickService)
	s.who = widget.NewLabel("")
	s.who.Wrapping = fyne.TextWrapWord
	s.lines = container.NewVBox()
	s.msg = widget.NewLabel("")
	s.msg.Wrapping = fyne.TextWrapWord
	s.msg.Hide()
	s.formBox = container.NewVBox()
	s.submit = widget.NewButtonWithIcon(L(textPvSubmit), theme.MailSendIcon(), s.doSubmit)
	s.submit.Importance = widget.HighImportance
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.result.Hide()

	pick := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel(L(textPvPersona)), nil, s.persona))
	if d.fixed == nil {
		pick.Objects = append([]fyne.CanvasObject{container.NewBorder(nil, nil, widget.NewLabel(L(textPvEService)), nil, s.service)}, pick.Objects...)
	}
	resident := container.NewVBox(s.who, s.lines, s.msg, widget.NewSeparator(), s.formBox, s.result)
	s.scroll = container.NewVScroll(container.NewPadded(resident))
	serviceTab := container.NewBorder(container.NewVBox(pick, widget.NewSeparator()), nil, nil, nil, s.scroll)

	title := widget.NewLabelWithStyle(L(textPvTitle), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	intro := widget.NewLabel(L(textPvIntro))
	intro.Wrapping = fyne.TextWrapWord
	head := container.NewVBox(title, intro, widget.NewSeparator())
	if d.fixed != nil || d.dir == nil {
		s.content = container.NewBorder(head, nil, nil, nil, serviceTab)
	} else {
		s.tabs = container.NewAppTabs(
			container.NewTabItem(L(textPvEServiceTab), serviceTab),
			container.NewTabItem(L(textPvMessageTab), s.messageTab()),
		)
		s.content = container.NewBorder(head, nil, nil, nil, s.tabs)
	}
	s.load()
	return s
}

// load reads the e-services, the demo residents and the templates.
func (s *previewScreen) load() {
	if s.fixed != nil {
		s.sources = []previewSource{*s.fixed}
		s.service.Options = []string{s.fixed.label}
		s.service.Selected = s.fixed.label
	} else {
		s.msg.SetText(L(textPvLoading))
		s.msg.Show()
	}
	s.tasks.run(func() func() {
		var (
			list []app.EServiceDraft
			err  error
			rs   []app.Resident
			rerr error
			tpls []app.MessageTemplate
			terr error
		)
		if s.fixed == nil {
			list, err = s.svc.List(s.ctx, s.sess)
		}
		if s.residents != nil {
			rs, rerr = s.residents.AllResidents(s.ctx)
		}
		if s.dir != nil && s.fixed == nil {
			tpls, terr = s.dir.Templates(s.ctx, s.sess.ClinicID)
		}
		return func() { s.loaded(list, err, rs, rerr, tpls, terr) }
	})
}

func (s *previewScreen) loaded(list []app.EServiceDraft, err error, rs []app.Resident, rerr error, tpls []app.MessageTemplate, terr error) {
	if rerr != nil {
		logError("preview personas", rerr, "clinic", s.sess.ClinicID)
	} else if rs != nil {
		s.people = personas(rs, s.clock.Now())
	}
	if s.fixed == nil {
		s.msg.Hide()
		if err != nil {
			logError("preview list e-services", err, "clinic", s.sess.ClinicID, "staff", s.sess.Staff.ID)
			s.msg.SetText(L(textPvListFailed))
			if errors.Is(err, app.ErrForbidden) {
				s.msg.SetText(L(textForbidden))
			}
			s.msg.Importance = widget.DangerImportance
			s.msg.Show()
		}
		s.setSources(list)
		if s.initial != "" && s.service.Selected == "" {
			for _, o := range s.service.Options {
				if strings.HasPrefix(o, s.initial) {
					s.service.Selected = o
					break
				}
			}
		}
		s.listedTemplates(tpls, terr)
	}
	s.show()
}

// setSources makes the choice of e-service: per e-service its latest
// published version and its draft.
func (s *previewScreen) setSources(list []app.EServiceDraft) {
	prev := s.service.Selected
	s.sources = nil
	for _, e := range list {
		def := form.Definition{Name: e.EService.Name, Description: e.EService.Description, Standard: e.EService.Standard}
		if e.EService.Definition != nil {
			def = *e.EService.Definition
		}
		n := len(e.Series.Published)
		if n > 0 {
			s.sources = append(s.sources, previewSource{label: Lf(textPvVersion, e.EService.Name, n), def: def, form: e.Series.Latest()})
		}
		if e.Series.Draft != nil {
			s.sources = append(s.sources, previewSource{label: Lf(textPvDraft, e.EService.Name), def: def, form: e.Series.Draft.Clone()})
		}
		if n == 0 && e.Series.Draft == nil {
			s.sources = append(s.sources, previewSource{label: Lf(textPvNoVersion, e.EService.Name), def: def})
		}
	}
	var opts []string
	for _, src := range s.sources {
		opts = append(opts, src.label)
	}
	s.service.Options = opts
	s.service.Selected = ""
	if slices.Contains(opts, prev) {
		s.service.Selected = prev
	}
	s.service.Refresh()
}

// selectSource chooses the e-service version labelled label.
func (s *previewScreen) selectSource(label string) { s.service.SetSelected(label) }

func (s *previewScreen) current() *previewSource {
	for i := range s.sources {
		if s.sources[i].label == s.service.Selected {
			return &s.sources[i]
		}
	}
	return nil
}

func (s *previewScreen) currentPersona() persona {
	i := s.persona.SelectedIndex()
	if i < 0 || i >= len(s.people) {
		i = 0
	}
	return s.people[i]
}

// selectPersona chooses a persona.
func (s *previewScreen) selectPersona(k personaKind) { s.persona.SetSelectedIndex(int(k)) }

// show renders the chosen e-service for the chosen persona.
func (s *previewScreen) show() {
	p := s.currentPersona()
	s.who.SetText(describePersona(p))
	s.result.Hide()
	s.view = nil
	s.formBox.Objects = nil
	s.lines.Objects = nil
	src := s.current()
	if src == nil {
		s.submit.Hide()
		s.lines.Add(widget.NewLabel(L(textPvPickService)))
		s.content.Refresh()
		return
	}
	s.decision = decide(p, &src.def)
	for _, v := range s.decision.lines {
		s.lines.Add(verdictRow(v))
	}
	switch {
	case !s.decision.allowed:
		s.submit.Hide()
	case src.form == nil:
		s.submit.Hide()
		s.formBox.Add(widget.NewLabel(L(textPvNoForm)))
	default:
		s.view = newFormView(src.form, s.decision.at)
		s.view.onChange = func() { s.result.Hide() }
		// A new page starts at its top, like a new page in a browser.
		s.view.onPage = func() {
			s.result.Hide()
			s.scroll.ScrollToTop()
		}
		title := widget.NewLabelWithStyle(src.form.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		title.SizeName = theme.SizeNameSubHeadingText
		s.formBox.Add(title)
		if src.form.Description != "" {
			s.formBox.Add(helpLabel(src.form.Description))
		}
		s.formBox.Add(s.view.content)
		s.view.setFinal(s.submit)
	}
	s.content.Refresh()
}

func verdictRow(v verdict) fyne.CanvasObject {
	l := widget.NewLabel(v.text)
	l.Wrapping = fyne.TextWrapWord
	icon := widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	if !v.ok {
		l.Importance = widget.DangerImportance
		icon = widget.NewIcon(theme.NewErrorThemedResource(theme.CancelIcon()))
	}
	return container.NewBorder(nil, nil, container.NewVBox(icon), nil, l)
}

// doSubmit checks the answers as the server would (form.Form.Accept) and
// shows what would be submitted. Nothing is stored or sent.
func (s *previewScreen) doSubmit() {
	if s.view == nil {
		return
	}
	clean, err := s.view.submit()
	if err != nil {
		s.result.Importance = widget.DangerImportance
		s.result.SetText(L(textPvRefused))
		s.result.Show()
		return
	}
	lines := describe(s.view.f, clean)
	text := L(textPvWouldSend) + "\n" + strings.Join(lines, "\n")
	if len(lines) == 0 {
		text = L(textPvNothing)
	}
	s.result.Importance = widget.SuccessImportance
	s.result.SetText(text)
	s.result.Show()
}

// messageTab previews a message template in the inbox and the exact
// notification texts (R4).
func (s *previewScreen) messageTab() fyne.CanvasObject {
	s.tplPick = newSelect(nil, func(string) { s.showTemplate() })
	s.inboxSubj = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.inboxSubj.Wrapping = fyne.TextWrapWord
	s.inboxBody = widget.NewLabel("")
	s.inboxBody.Wrapping = fyne.TextWrapWord
	s.inboxNote = widget.NewLabel("")
	s.inboxNote.SizeName = theme.SizeNameCaptionText
	s.sms = widget.NewLabel(app.SMSText)
	s.sms.Wrapping = fyne.TextWrapWord
	s.emailSubj = widget.NewLabel(Lf(textPvEmailSubj, app.EmailSubject))
	s.emailSubj.Wrapping = fyne.TextWrapWord
	s.emailBody = widget.NewLabel(strings.ReplaceAll(app.EmailBody, "\r\n", "\n"))
	s.emailBody.Wrapping = fyne.TextWrapWord
	note := widget.NewLabel(L(textPvNoCaseData))
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.MediumImportance
	bold := func(t string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(t, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	inbox := widget.NewCard("", "", container.NewVBox(s.inboxSubj, s.inboxBody, s.inboxNote))
	body := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel(L(textPvTemplate)), nil, s.tplPick),
		bold(L(textPvInbox)), inbox,
		widget.NewSeparator(),
		note,
		bold(L(textPvSMS)), widget.NewCard("", "", s.sms),
		bold(L(textPvEmail)), widget.NewCard("", "", container.NewVBox(s.emailSubj, s.emailBody)),
	)
	return container.NewVScroll(container.NewPadded(body))
}

func (s *previewScreen) listedTemplates(all []app.MessageTemplate, err error) {
	if s.tplPick == nil {
		return
	}
	if err != nil {
		logError("preview templates", err, "clinic", s.sess.ClinicID)
		s.inboxBody.SetText(L(textPvTplFailed))
		return
	}
	s.templates = nil
	var names []string
	for _, t := range all {
		// Standard replies go into an existing case; only templates that
		// start a case reach the inbox as a new message.
		if t.Kind == app.KindInformation || t.Kind == app.KindQuestion {
			s.templates = append(s.templates, t)
			names = append(names, t.Name)
		}
	}
	s.tplPick.Options = names
	if len(names) == 0 {
		s.inboxBody.SetText(L(textPvNoTemplates))
		s.tplPick.Refresh()
		return
	}
	s.tplPick.SetSelectedIndex(0)
}

func (s *previewScreen) showTemplate() {
	i := s.tplPick.SelectedIndex()
	if i < 0 || i >= len(s.templates) {
		return
	}
	t := s.templates[i]
	s.inboxSubj.SetText(t.Subject)
	s.inboxBody.SetText(t.Body)
	if t.Kind == app.KindQuestion {
		s.inboxNote.SetText(L(export.TextCanAnswer))
	} else {
		s.inboxNote.SetText(L(export.TextNoAnswer))
	}
}
