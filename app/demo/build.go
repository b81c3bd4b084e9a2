package demo

import (
	"time"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// Build returns the demo data set as of now.
func Build(now time.Time) *Dataset {
	b := &builder{now: now, numbers: TestNumbers(), ds: &Dataset{Persona: map[string]app.ID{}, StaffBy: map[string]app.ID{}, Now: now, WithPasswords: true}}
	ds := b.ds

	centrum := app.Clinic{ID: b.id(), Name: "Vårdcentralen Centrum", Region: "Region Jönköpings län (demo)"}
	barn := app.Clinic{ID: b.id(), Name: "Barn- och ungdomsmottagningen Huskvarna", Region: centrum.Region}
	for _, e := range app.StandardCatalogue {
		centrum.StandardEServices = append(centrum.StandardEServices, e.ID)
	}
	barn.StandardEServices = []app.ID{"std-av-omboka-tid", "std-kontakta-mottagningen", "std-bestall-intyg"}
	ds.Clinics = []app.Clinic{centrum, barn}

	staff := func(key, name, user, title string, roles map[app.ID][]app.Role, region ...app.Role) app.ID {
		s := app.Staff{ID: b.id(), Name: name, Username: user, Title: title, Roles: roles, RegionRoles: region}
		ds.Staff = append(ds.Staff, s)
		ds.StaffBy[key] = s.ID
		return s.ID
	}
	anna := staff(StaffReceiver, "Anna Lindqvist", "anna", "Sjuksköterska", map[app.ID][]app.Role{
		centrum.ID: {app.RoleCaseReceiver, app.RoleCaseHandler},
		barn.ID:    {app.RoleCaseHandler},
	})
	bjorn := staff(StaffHandler, "Björn Ekström", "bjorn", "Distriktsläkare", map[app.ID][]app.Role{centrum.ID: {app.RoleCaseHandler}})
	cecilia := staff(StaffChildClinic, "Cecilia Holm", "cecilia", "Barnsjuksköterska", map[app.ID][]app.Role{barn.ID: {app.RoleCaseReceiver, app.RoleCaseHandler}})
	staff(StaffLocalAdmin, "David Sundberg", "david", "Verksamhetschef", map[app.ID][]app.Role{centrum.ID: {app.RoleLocalAdmin}, barn.ID: {app.RoleLocalAdmin}})
	staff(StaffPermAdmin, "Eva Bergström", "eva", "Administratör", map[app.ID][]app.Role{centrum.ID: {app.RolePermissionAdmin}, barn.ID: {app.RolePermissionAdmin}})
	staff(StaffAuditor, "Fredrik Nordin", "fredrik", "Informationssäkerhet", map[app.ID][]app.Role{centrum.ID: {app.RoleAuditor}})
	staff(StaffContact, "Greta Lundgren", "greta", "Kontaktcenter 1177", nil, app.RoleContactCenter)

	// Adults, each notification choice.
	sms := b.resident(AdultSMS, "Karin", "Johansson", b.adultPNR())
	sms.Settings = app.Settings{Mobile: phone(1), NotifySMS: true, ShareWithCare: true, SavedAt: now.AddDate(0, -3, 0)}
	mail := b.resident(AdultEmail, "Lars", "Andersson", b.adultPNR())
	mail.Settings = app.Settings{Email: email("lars", 2), NotifyEmail: true, SavedAt: now.AddDate(0, -8, 0)}
	both := b.resident(AdultBoth, "Maria", "Karlsson", b.adultPNR())
	both.Settings = app.Settings{Mobile: phone(3), Email: email("maria", 3), NotifySMS: true, NotifyEmail: true, ShareWithCare: true, SavedAt: now.AddDate(-1, 0, 0)}
	none := b.resident(AdultNone, "Nils", "Nilsson", b.adultPNR())
	none.Settings = app.Settings{Mobile: phone(4), SavedAt: now.AddDate(0, -1, 0)}

	never := b.resident(NeverSignedIn, "Olof", "Persson", b.adultPNR())
	never.Account = app.Account{}
	locked := b.resident(Locked, "Petra", "Svensson", b.adultPNR())
	locked.Account.LoginLocked = true
	locked.Settings = app.Settings{Mobile: phone(6), NotifySMS: true, SavedAt: now.AddDate(0, -4, 0)}
	sealed := b.resident(Sealed, "Rasmus", "Gustafsson", b.adultPNR())
	sealed.Account.JournalSealed = true
	sealed.Settings = app.Settings{Email: email("rasmus", 7), NotifyEmail: true, SavedAt: now.AddDate(0, -2, 0)}
	prot := b.resident(Protected, "Sara", "Pettersson", b.adultPNR())
	prot.Register.ProtectedIdentity = true
	prot.Register.Address = app.Address{} // the register gives no address for skyddad folkbokföring
	prot.Settings = app.Settings{Mobile: phone(8), NotifySMS: true, SavedAt: now.AddDate(0, -5, 0)}
	dead := b.resident(Deceased, "Tore", "Jonsson", b.adultPNR())
	dead.Register.Deceased = true
	coord := b.resident(Coordination, "Ulrika", "Wójcik", b.builtPNR(b.birthAgo(34, 2, 9), true))
	coord.Demo = true
	coord.Settings = app.Settings{Email: email("ulrika", 10), NotifyEmail: true, SavedAt: now.AddDate(0, -2, -3)}
	reserve := b.resident(ReserveNumber, "Viktor", "Okänd", b.adultPNR())
	reserve.PNR, reserve.ReserveNumber, reserve.Account = personnummer.Number{}, "20010704-R017", app.Account{}

	// A child of 12 years 11 months with two guardians: one blocked, one
	// who filled in contact details under the child's settings.
	gBlocked := b.resident(GuardianBlocked, "Ylva", "Lindberg", b.adultPNR())
	gNotified := b.resident(GuardianNotified, "Åke", "Lindberg", b.adultPNR())
	gNotified.Settings = app.Settings{Mobile: phone(13), NotifySMS: true, SavedAt: now.AddDate(0, -9, 0)}
	child := b.resident(Child12y11m, "Elsa", "Lindberg", b.builtPNR(b.birthAgo(12, 11, 0), false))
	child.Demo = true
	child.Guardians = []app.Guardianship{
		{GuardianID: gBlocked.ID, ProxyActivated: true, Contact: app.GuardianContact{Email: email("ylva", 12), SavedAt: now.AddDate(-1, 0, 0)},
			Blocked: true, BlockedAt: now.AddDate(0, -2, 0), BlockedClinic: barn.ID},
		{GuardianID: gNotified.ID, ProxyActivated: true, Contact: app.GuardianContact{Mobile: phone(13), Email: email("ake", 13), SavedAt: now.AddDate(0, -7, 0)}},
	}
	for _, g := range ds.Staff {
		if g.ID == ds.StaffBy[StaffLocalAdmin] {
			child.Guardians[0].BlockedBy = g.ID
		}
	}

	// A child who turns 13 tomorrow: today a guardian is notified; from
	// tomorrow nobody until the child signs in and fills in settings (R8).
	// (Seeded on 28 February of a leap year, tomorrow is 29 February and
	// nobody was born 13 years earlier on that day: the child then turns
	// 13 on 1 March, the day after tomorrow.)
	g13 := b.resident(GuardianOf13, "Ingrid", "Berg", b.adultPNR())
	c13 := b.resident(ChildTurns13, "Hugo", "Berg", b.builtPNR(app.DateIn(now).AddDate(-13, 0, 1), false))
	c13.Demo = true
	c13.Settings = app.Settings{} // a child under 13 has no own settings
	c13.Guardians = []app.Guardianship{{GuardianID: g13.ID, ProxyActivated: true, Contact: app.GuardianContact{Mobile: phone(15), SavedAt: now.AddDate(-2, 0, 0)}}}

	// A child whose only guardian has protected identity (R7).
	gProt := b.resident(GuardianProtected, "Johanna", "Ek", b.adultPNR())
	gProt.Register.ProtectedIdentity = true
	gProt.Register.Address = app.Address{}
	cProtG := b.resident(ChildProtectedGuard, "Alva", "Ek", b.builtPNR(b.birthAgo(7, 3, 12), false))
	cProtG.Demo = true
	cProtG.Guardians = []app.Guardianship{{GuardianID: gProt.ID, ProxyActivated: true, Contact: app.GuardianContact{Mobile: phone(17), SavedAt: now.AddDate(-1, 0, 0)}}}

	// A child with protected identity (R7, R9).
	gOfProt := b.resident(GuardianOfProtected, "Kristian", "Falk", b.adultPNR())
	cProt := b.resident(ChildProtected, "Liam", "Falk", b.builtPNR(b.birthAgo(9, 1, 3), false))
	cProt.Demo = true
	cProt.Register.ProtectedIdentity = true
	cProt.Register.Address = app.Address{}
	cProt.Guardians = []app.Guardianship{{GuardianID: gOfProt.ID, ProxyActivated: true}}

	// A child nobody has activated in proxy mode (R5).
	gInact := b.resident(GuardianInactive, "Mikael", "Dahl", b.adultPNR())
	cInact := b.resident(ChildNotActivated, "Nora", "Dahl", b.builtPNR(b.birthAgo(4, 6, 20), false))
	cInact.Demo = true
	cInact.Account = app.Account{}
	cInact.Guardians = []app.Guardianship{{GuardianID: gInact.ID}}

	// A teenager (test number, born 2009) whose settings were saved before
	// the 13th birthday: they no longer count (R8).
	teen := b.resident(TeenCleared, "Oskar", "Hedlund", b.teenPNR())
	teen.Settings = app.Settings{Mobile: phone(22), NotifySMS: true, SavedAt: ThirteenthMinus(teen, 30)}

	// Ordinary adults to fill the lists.
	names := [][2]string{{"Pia", "Larsson"}, {"Quentin", "Olsson"}, {"Rut", "Eriksson"}, {"Sven", "Magnusson"}, {"Therese", "Axelsson"}, {"Ulf", "Mattsson"}, {"Vera", "Sandberg"}, {"William", "Forsberg"}}
	var adults []*app.Resident
	for i, n := range names {
		r := b.resident("", n[0], n[1], b.adultPNR())
		switch i % 3 {
		case 0:
			r.Settings = app.Settings{Mobile: phone(30 + i), NotifySMS: true, ShareWithCare: i%2 == 0, SavedAt: now.AddDate(0, -i-1, 0)}
		case 1:
			r.Settings = app.Settings{Email: email(n[0], 30+i), NotifyEmail: true, SavedAt: now.AddDate(0, -i-1, 0)}
		default:
			r.Settings = app.Settings{Mobile: phone(30 + i), Email: email(n[0], 30+i), NotifySMS: true, NotifyEmail: true, ShareWithCare: true, SavedAt: now.AddDate(0, -i-1, 0)}
		}
		adults = append(adults, r)
	}

	// A local e-service with a published form (builder and preview).
	b.demoEService(centrum.ID)

	// Templates of both kinds per clinic, and standard replies.
	tpl := func(c app.ID, name string, kind app.CaseKind, subject, body string) app.ID {
		t := app.MessageTemplate{ID: b.id(), ClinicID: c, Name: name, Kind: kind, Subject: subject, Body: body, UpdatedAt: now.AddDate(0, -1, 0)}
		ds.Templates = append(ds.Templates, t)
		return t.ID
	}
	tProvsvar := tpl(centrum.ID, "Provsvar utan anmärkning", app.KindInformation, "Ditt provsvar",
		"Hej!\n\nDina provsvar är klara och visar inget som behöver åtgärdas. Du behöver inte göra något mer.\n\nVänliga hälsningar\nVårdcentralen Centrum")
	tKallelse := tpl(centrum.ID, "Kallelse till årskontroll", app.KindInformation, "Kallelse till årskontroll",
		"Hej!\n\nDet är dags för din årliga kontroll. Boka en tid via e-tjänsten Av- och omboka tid eller ring oss.\n\nVänliga hälsningar\nVårdcentralen Centrum")
	tFraga := tpl(centrum.ID, "Fråga om hur det går", app.KindQuestion, "Hur mår du efter besöket?",
		"Hej!\n\nHur har det gått sedan ditt besök hos oss? Svara gärna här i e-tjänsten.\n\nVänliga hälsningar\nVårdcentralen Centrum")
	tpl(centrum.ID, "Komplettering behövs", app.KindQuestion, "Vi behöver mer information",
		"Hej!\n\nFör att kunna hjälpa dig behöver vi veta lite mer. Beskriv gärna dina besvär och hur länge du haft dem.\n\nVänliga hälsningar\nVårdcentralen Centrum")
	tVacc := tpl(barn.ID, "Vaccination", app.KindInformation, "Dags för vaccination",
		"Hej!\n\nEnligt vaccinationsprogrammet är det dags för nästa vaccination. Boka en tid hos oss.\n\nVänliga hälsningar\nBarn- och ungdomsmottagningen")
	tBarnFraga := tpl(barn.ID, "Fråga till vårdnadshavare", app.KindQuestion, "Hur mår barnet?",
		"Hej!\n\nHur mår barnet efter besöket? Svara gärna här.\n\nVänliga hälsningar\nBarn- och ungdomsmottagningen")
	// Standard replies (standardsvar): texts staff insert when replying in
	// a case. They have no subject; the reply goes into an existing case.
	tpl(centrum.ID, "Recept förnyat", app.KindStandardReply, "",
		"Hej!\n\nDitt recept är förnyat och finns hos apoteket inom en arbetsdag.\n\nVänliga hälsningar\nVårdcentralen Centrum")
	tpl(centrum.ID, "Tid bokad", app.KindStandardReply, "",
		"Hej!\n\nVi har bokat en tid åt dig. Du ser tiden under Bokade tider när du har loggat in.\n\nVänliga hälsningar\nVårdcentralen Centrum")
	tpl(centrum.ID, "Hänvisning till 1177 Vårdguiden på telefon", app.KindStandardReply, "",
		"Hej!\n\nDin fråga behöver bedömas av en sjuksköterska samma dag. Ring 1177 så får du hjälp direkt.\n\nVänliga hälsningar\nVårdcentralen Centrum")
	tpl(barn.ID, "Tack för informationen", app.KindStandardReply, "",
		"Hej!\n\nTack för informationen. Vi återkommer om vi behöver veta något mer.\n\nVänliga hälsningar\nBarn- och ungdomsmottagningen")
	tpl(barn.ID, "Intyg skickat", app.KindStandardReply, "",
		"Hej!\n\nIntyget är klart och skickat med post till den adress som finns i folkbokföringen.\n\nVänliga hälsningar\nBarn- och ungdomsmottagningen")

	// Cases with threads in every status.
	day := func(d int) time.Time {
		return now.Add(-time.Duration(d) * 24 * time.Hour).Add(-time.Duration(d*37%600) * time.Minute)
	}
	cs := &caseMaker{b: b}
	// Vårdcentralen Centrum.
	cs.residentCase(centrum.ID, sms, "std-fornya-recept", "Förnya recept på blodtrycksmedicin",
		"Hej, jag behöver förnya mitt recept på Enalapril. Det tar slut om en vecka.", day(0), app.StatusNew, "", "")
	cs.residentCase(centrum.ID, both, "std-kontakta-mottagningen", "Ont i knät sedan två veckor",
		"Hej! Jag har haft ont i vänster knä i två veckor, värst vid trappor. Behöver jag komma in?", day(1), app.StatusNew, "", "")
	cs.residentCase(centrum.ID, mail, "std-bestall-intyg", "Intyg för sjukskrivning",
		"Jag behöver ett intyg om att jag var sjuk förra veckan, till min arbetsgivare.", day(2), app.StatusOngoing, bjorn, "Vi skriver intyget och skickar det hit inom tre arbetsdagar.")
	cs.residentCase(centrum.ID, prot, "std-av-omboka-tid", "Omboka tid",
		"Hej, kan jag flytta min tid på torsdag till nästa vecka?", day(3), app.StatusOngoing, anna, "")
	cs.staffCase(centrum.ID, tFraga, adults[0], "Hur mår du efter besöket?", "Hej! Hur har det gått sedan ditt besök? Har värken släppt?", day(4), app.StatusWaiting, bjorn, "")
	cs.staffCase(centrum.ID, tFraga, coord, "Hur mår du efter besöket?", "Hej! Hur mår du efter behandlingen?", day(6), app.StatusOngoing, anna, "Mycket bättre, tack! Inga problem längre.")
	cs.staffCase(centrum.ID, tProvsvar, adults[1], "Ditt provsvar", "Hej! Dina provsvar är klara och visar inget som behöver åtgärdas.", day(9), app.StatusClosed, anna, "")
	cs.staffCase(centrum.ID, tKallelse, adults[2], "Kallelse till årskontroll", "Hej! Det är dags för din årliga kontroll. Boka en tid hos oss.", day(14), app.StatusClosed, bjorn, "")
	cs.residentCase(centrum.ID, sealed, "std-egen-vardbegaran", "Remiss till hudmottagningen",
		"Jag har ett födelsemärke som förändrats och vill bli bedömd.", day(20), app.StatusClosed, bjorn, "Vi har skickat en remiss. Du blir kallad.")
	cs.residentCase(centrum.ID, locked, "std-kontakta-mottagningen", "Fråga om provtagning",
		"Behöver jag fasta inför provtagningen?", day(40), app.StatusClosed, anna, "Ja, fasta från midnatt.")
	cs.residentCase(centrum.ID, teen, "std-kontakta-mottagningen", "Vaccin inför resa",
		"Vilka vaccin behöver jag inför en resa till Thailand?", day(5), app.StatusWaiting, anna, "Hur länge ska du vara borta? Vi återkommer när vi vet.")
	for i, r := range adults[3:] {
		st := []app.Status{app.StatusNew, app.StatusOngoing, app.StatusWaiting, app.StatusClosed}[i%4]
		who := []app.ID{"", bjorn, anna, bjorn}[i%4]
		cs.residentCase(centrum.ID, r, "std-kontakta-mottagningen", []string{"Biverkningar av medicin", "Resultat av blodprov", "Hosta sedan en månad", "Trött och yr", "Fråga om remiss"}[i%5],
			"Hej, jag undrar över en sak och vill gärna ha svar när ni hinner.", day(7+i*3), st, who, map[bool]string{true: "", false: "Tack för ditt meddelande, vi återkommer."}[st == app.StatusNew])
	}
	cs.residentCase(centrum.ID, none, "std-av-omboka-tid", "Avboka tid",
		"Jag kan inte komma på min tid imorgon.", day(1), app.StatusNew, "", "")

	// Barn- och ungdomsmottagningen.
	cs.guardianCase(barn.ID, child, gNotified, "std-kontakta-mottagningen", "Utslag på armarna",
		"Hej, Elsa har fått utslag på båda armarna sedan i går. Ska vi komma in?", day(0), app.StatusNew, "", "")
	cs.guardianCase(barn.ID, c13, g13, "std-av-omboka-tid", "Omboka tid för Hugo",
		"Vi behöver flytta Hugos tid på fredag.", day(2), app.StatusOngoing, cecilia, "Vi har flyttat tiden till tisdag kl 10.")
	cs.staffCase(barn.ID, tVacc, child, "Dags för vaccination", "Hej! Enligt vaccinationsprogrammet är det dags för nästa vaccination.", day(12), app.StatusClosed, cecilia, "")
	cs.staffCase(barn.ID, tBarnFraga, c13, "Hur mår Hugo?", "Hej! Hur mår Hugo efter besöket?", day(3), app.StatusWaiting, cecilia, "")
	cs.staffCase(barn.ID, tBarnFraga, cProtG, "Hur mår barnet?", "Hej! Hur mår Alva efter besöket?", day(30), app.StatusClosed, anna, "")
	cs.residentCase(barn.ID, adults[4], "std-bestall-intyg", "Intyg för idrottsskola",
		"Jag behöver ett hälsointyg till idrottsskolan.", day(8), app.StatusOngoing, anna, "")
	ds.Threads = cs.threads
	return ds
}

// ThirteenthMinus returns the instant d days before r's 13th birthday.
func ThirteenthMinus(r *app.Resident, d int) time.Time {
	return app.ThirteenthBirthday(r).AddDate(0, 0, -d)
}

// teenPNR picks a test number of someone aged 13–17 now.
func (b *builder) teenPNR() personnummer.Number {
	for _, n := range b.numbers {
		if a := n.AgeOn(b.now); a >= 13 && a < 18 {
			return n
		}
	}
	return b.adultPNR()
}

type caseMaker struct {
	b       *builder
	threads []app.Thread
}

func (m *caseMaker) add(c app.Case, first app.Message, reply string, replyBy app.ID) {
	at := c.CreatedAt
	c.ID = m.b.id()
	first.ID, first.CaseID, first.At = m.b.id(), c.ID, at
	t := app.Thread{Case: c, Messages: []app.Message{first}}
	c.LastActivity = at
	if reply != "" {
		rAt := at.Add(3 * time.Hour)
		author, authorID := app.AuthorStaff, replyBy
		if first.Author == app.AuthorStaff {
			author, authorID = app.AuthorResident, c.ResidentID
			t.Messages[0].ReadByResident = at.Add(2 * time.Hour)
			t.Case.UnreadByStaff = c.Status != app.StatusClosed
		}
		msg := app.Message{ID: m.b.id(), CaseID: c.ID, Author: author, AuthorID: authorID, At: rAt, Text: reply}
		if author == app.AuthorStaff && c.Status == app.StatusClosed {
			msg.ReadByResident = rAt.Add(time.Hour)
		}
		t.Messages = append(t.Messages, msg)
		t.Case.LastActivity = rAt
	} else {
		t.Case.LastActivity = at
	}
	if c.Status == app.StatusClosed {
		t.Case.ClosedAt = t.Case.LastActivity
		if first.Author == app.AuthorStaff {
			t.Messages[0].ReadByResident = at.Add(5 * time.Hour)
		}
	}
	m.threads = append(m.threads, t)
}

func (m *caseMaker) residentCase(clinic app.ID, r *app.Resident, es app.ID, subject, text string, at time.Time, st app.Status, assignee app.ID, reply string) {
	m.add(app.Case{ClinicID: clinic, ResidentID: r.ID, Kind: app.KindEService, EServiceID: es, Subject: subject, Status: st,
		AssigneeID: assignee, StartedBy: app.StartedByResident, CreatedAt: at, UnreadByStaff: st == app.StatusNew},
		app.Message{Author: app.AuthorResident, AuthorID: r.ID, Text: text}, reply, assignee)
}

func (m *caseMaker) guardianCase(clinic app.ID, child, guardian *app.Resident, es app.ID, subject, text string, at time.Time, st app.Status, assignee app.ID, reply string) {
	m.add(app.Case{ClinicID: clinic, ResidentID: child.ID, Kind: app.KindEService, EServiceID: es, Subject: subject, Status: st,
		AssigneeID: assignee, StartedBy: app.StartedByGuardian, StartedByGuardian: guardian.ID, CreatedAt: at, UnreadByStaff: st == app.StatusNew},
		app.Message{Author: app.AuthorGuardian, AuthorID: guardian.ID, Text: text}, reply, assignee)
}

func (m *caseMaker) staffCase(clinic, tpl app.ID, r *app.Resident, subject, text string, at time.Time, st app.Status, assignee app.ID, reply string) {
	kind := app.KindQuestion
	for _, t := range m.b.ds.Templates {
		if t.ID == tpl {
			kind = t.Kind
		}
	}
	m.add(app.Case{ClinicID: clinic, ResidentID: r.ID, Kind: kind, TemplateID: tpl, Subject: subject, Status: st,
		AssigneeID: assignee, StartedBy: app.StartedByClinic, CreatedAt: at},
		app.Message{Author: app.AuthorStaff, AuthorID: assignee, Text: text}, reply, assignee)
}
