// Package demo builds the demo data set: one region, two clinics, staff in
// every role, about 30 residents covering every rule state of
// shared/DOMAIN.md, message templates of both kinds and cases with threads
// in every status — plus a generator of large case sets for benchmarks.
//
// Adults use Skatteverket's published test personnummer (embedded). Only
// children under 13 and the samordningsnummer resident use numbers built
// with a correct check digit; they are marked Demo and never leave a demo
// database. Ages are relative to the day the data set is built, so "turns
// 13 tomorrow" stays true for a fresh demo.
package demo

import (
	"bufio"
	"embed"
	"fmt"
	"strings"
	"time"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/app/personnummer"
)

//go:embed skatteverket-test-personnummer.txt
var files embed.FS

// TestNumbers returns Skatteverket's published test personnummer (never
// issued to real people), in file order.
func TestNumbers() []personnummer.Number {
	f, err := files.Open("skatteverket-test-personnummer.txt")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	var out []personnummer.Number
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var n personnummer.Number
		if err := n.UnmarshalText([]byte(line)); err != nil {
			panic(fmt.Sprintf("demo: embedded test number list: %v", err))
		}
		out = append(out, n)
	}
	return out
}

// Dataset is the demo data set, ready to store.
type Dataset struct {
	Clinics   []app.Clinic
	Staff     []app.Staff
	Residents []*app.Resident
	Templates []app.MessageTemplate
	Threads   []app.Thread
	// Persona names the residents that show a rule state, for tests and
	// the demo sign-in help (key → resident id).
	Persona map[string]app.ID
	// StaffBy names staff by short key.
	StaffBy map[string]app.ID
	// Now is the time the set was built for.
	Now time.Time
	// WithPasswords makes Seed store each staff member's demo Password.
	WithPasswords bool
	// EServices are local e-services, Forms their published form versions.
	EServices []app.EService
	Forms     []*form.Series
}

// Persona keys: each resident who shows one rule state.
const (
	AdultSMS            = "vuxen-sms"
	AdultEmail          = "vuxen-epost"
	AdultBoth           = "vuxen-bada"
	AdultNone           = "vuxen-ingen"
	NeverSignedIn       = "aldrig-inloggad"
	Locked              = "last-inloggning"
	Sealed              = "forseglad-journal"
	Protected           = "skyddad-identitet"
	Deceased            = "avliden"
	Coordination        = "samordningsnummer"
	ReserveNumber       = "reservnummer"
	Child12y11m         = "barn-12-ar-11-man"
	GuardianBlocked     = "vardnadshavare-sparrad"
	GuardianNotified    = "vardnadshavare-aviseras"
	ChildTurns13        = "barn-fyller-13-imorgon"
	GuardianOf13        = "vardnadshavare-till-13"
	ChildProtectedGuard = "barn-med-skyddad-vardnadshavare"
	GuardianProtected   = "vardnadshavare-skyddad"
	ChildProtected      = "barn-skyddad"
	GuardianOfProtected = "vardnadshavare-till-skyddat-barn"
	ChildNotActivated   = "barn-ej-aktiverat"
	GuardianInactive    = "vardnadshavare-ej-aktiverat"
	TeenCleared         = "tonaring-installningar-rensade"
)

// Staff keys.
const (
	StaffReceiver    = "mottagare"
	StaffHandler     = "handlaggare"
	StaffChildClinic = "barnmottagning"
	StaffLocalAdmin  = "lokaladmin"
	StaffPermAdmin   = "behorighetsadmin"
	StaffAuditor     = "granskare"
	StaffContact     = "kontaktcenter"
)

type builder struct {
	now     time.Time
	ds      *Dataset
	numbers []personnummer.Number
	next    int
	serial  int
}

func (b *builder) id() app.ID { return app.NewID(b.now) }

// adultPNR hands out the next Skatteverket test number.
func (b *builder) adultPNR() personnummer.Number {
	n := b.numbers[b.next*7%len(b.numbers)] // spread over birth years
	b.next++
	return n
}

// builtPNR builds a number with a valid check digit for a demo child or a
// samordningsnummer (allowed by shared/DOMAIN.md only for those).
func (b *builder) builtPNR(birth time.Time, coordination bool) personnummer.Number {
	b.serial += 17
	n, err := personnummer.New(birth, 900+b.serial%99, coordination)
	if err != nil {
		panic(fmt.Sprintf("demo: build number: %v", err))
	}
	return n
}

func (b *builder) resident(key, given, family string, pnr personnummer.Number) *app.Resident {
	r := &app.Resident{
		ID: b.id(), PNR: pnr,
		Register: app.Register{GivenName: given, FamilyName: family, Address: b.address()},
		Account:  app.Account{Activated: true, ActivatedAt: b.now.AddDate(-2, 0, 0), LastSignIn: b.now.AddDate(0, 0, -10)},
		Settings: app.Settings{SavedAt: b.now.AddDate(0, -6, 0)},
	}
	if key != "" {
		b.ds.Persona[key] = r.ID
	}
	b.ds.Residents = append(b.ds.Residents, r)
	return r
}

var streets = []string{"Storgatan", "Kyrkogatan", "Västra Storgatan", "Östra Strandgatan", "Barnarpsgatan", "Huskvarnavägen", "Tändsticksgränd", "Dunkehallarvägen"}

func (b *builder) address() app.Address {
	i := len(b.ds.Residents)
	return app.Address{Street: fmt.Sprintf("%s %d", streets[i%len(streets)], 3+i*4%57), PostalCode: fmt.Sprintf("55%d %d%d", 3+i%6, i%9, (i*3)%10), City: "Jönköping"}
}

// phone gives numbers from the range PTS keeps for fiction (070-174 06 05 –
// 070-174 06 99), so a demo SMS can never reach a real person.
func phone(i int) string { return fmt.Sprintf("+4670174%04d", 605+i%95) }

// email gives addresses under example.com (RFC 2606), never a real mailbox.
func email(given string, i int) string {
	return fmt.Sprintf("%s.%d@example.com", strings.ToLower(strings.NewReplacer("å", "a", "ä", "a", "ö", "o", "é", "e").Replace(given)), i)
}

// birthAgo returns the date that is y years, m months and d days before now.
func (b *builder) birthAgo(y, m, d int) time.Time {
	return app.DateIn(b.now).AddDate(-y, -m, -d)
}
