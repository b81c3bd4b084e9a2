package form

import (
	"fmt"
	"mottagning/app/textcheck"
	"strings"
	"time"
)

// Definition is an e-tjänst around its form (issue 7, item 2): what the
// resident sees in the list, who may use it, where the cases go and what
// the resident is told. The versions of the questions are in a Series.
type Definition struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Standard: from the national catalogue (the clinic activates it);
	// otherwise a local e-service of the clinic (R15).
	Standard     bool         `json:"standard,omitempty"`
	Availability Availability `json:"availability"`
	// ReceivingRole is the staff role (app.Role code) whose members see
	// the new cases; Queue names the clinic's queue within it, if any.
	ReceivingRole string `json:"receivingRole,omitempty"`
	Queue         string `json:"queue,omitempty"`
	// AutoReply is sent to the resident's inbox when a case is created
	// (empty: none).
	AutoReply          string `json:"autoReply,omitempty"`
	AttachmentsAllowed bool   `json:"attachmentsAllowed,omitempty"`
	// Closed stops new cases; ClosedMessage tells residents why and what
	// to do instead (for example over the summer).
	Closed        bool   `json:"closed,omitempty"`
	ClosedMessage string `json:"closedMessage,omitempty"`
}

// Availability says who may use the e-service.
type Availability struct {
	// MinAge and MaxAge bound the age (inclusive) of the person the case
	// is about (the child in proxy mode); nil means no bound.
	MinAge *int `json:"minAge,omitempty"`
	MaxAge *int `json:"maxAge,omitempty"`
	// Proxy: a guardian of a child under 13 may use it in ombudsläge (R5).
	Proxy bool `json:"proxy,omitempty"`
	// Named, when not empty, limits the e-service to these residents,
	// each until an end date (for example a follow-up form sent to a few
	// patients).
	Named []NamedResident `json:"named,omitempty"`
}

// NamedResident may use an e-service until and including Until (a calendar
// date in Europe/Stockholm; zero: no end).
type NamedResident struct {
	ResidentID string    `json:"residentId"`
	Until      time.Time `json:"until,omitempty"`
}

// Requester is who wants to use the e-service. Age is the age of the
// person the case is about (the child when Proxy), on today's Stockholm
// date, as the caller computes it (personnummer.Number.AgeOn, which also
// decides leap-day birthdays). ResidentID is that person's id.
type Requester struct {
	ResidentID string
	Age        int
	// Proxy: a guardian acts in the child's name (ombudsläge). Whether the
	// guardian may act for this child at all (R7, blocks) is decided by
	// app.MayActAsProxy before this.
	Proxy bool
}

// ProxyAgeLimit is the age from which a child signs in personally and no
// guardian can act as proxy (R5, R8).
const ProxyAgeLimit = 13

// Available reports whether r may use the e-service today (now, on the
// Stockholm calendar) and, when not, the Swedish reason the resident
// reads.
func (d *Definition) Available(r Requester, now time.Time) (bool, string) {
	if d.Closed {
		msg := strings.TrimSpace(d.ClosedMessage)
		if msg == "" {
			msg = "E-tjänsten är stängd just nu. Kontakta mottagningen på annat sätt."
		}
		return false, msg
	}
	if r.Proxy {
		if r.Age >= ProxyAgeLimit {
			return false, "Från 13 år loggar barnet in själv. En vårdnadshavare kan inte använda e-tjänsten i barnets namn."
		}
		if !d.Availability.Proxy {
			return false, "E-tjänsten kan inte användas i ombudsläge. Kontakta mottagningen på annat sätt."
		}
	}
	min, max := d.Availability.MinAge, d.Availability.MaxAge
	if (min != nil && r.Age < *min) || (max != nil && r.Age > *max) {
		who := "dig"
		if r.Proxy {
			who = "barnet"
		}
		switch {
		case min != nil && max != nil:
			return false, fmt.Sprintf("E-tjänsten är för personer mellan %d och %d år och kan inte användas för %s.", *min, *max, who)
		case min != nil:
			return false, fmt.Sprintf("E-tjänsten är för personer från %d år och kan inte användas för %s.", *min, who)
		default:
			return false, fmt.Sprintf("E-tjänsten är för personer till och med %d år och kan inte användas för %s.", *max, who)
		}
	}
	if len(d.Availability.Named) > 0 {
		today := civilDate(now)
		for _, n := range d.Availability.Named {
			if n.ResidentID != r.ResidentID {
				continue
			}
			if !n.Until.IsZero() && civilDate(n.Until) < today {
				return false, fmt.Sprintf("Din tillgång till e-tjänsten upphörde %s.", n.Until.In(stockholm).Format("2006-01-02"))
			}
			return true, ""
		}
		return false, "E-tjänsten är inte öppen för dig. Kontakta mottagningen om du tror att det är fel."
	}
	return true, ""
}

// Check reports what is wrong with the definition, in Swedish.
func (d *Definition) Check() error {
	var ps []Problem
	if strings.TrimSpace(d.Name) == "" {
		ps = append(ps, Problem{Code: "empty_name", Text: "E-tjänsten saknar namn."})
	}
	if !textcheck.Line(strings.TrimSpace(d.Name)) || !textcheck.Multiline(d.Description) || !textcheck.Multiline(d.AutoReply) || !textcheck.Multiline(d.ClosedMessage) {
		ps = append(ps, Problem{Code: "control_chars", Text: "Namnet, beskrivningen eller ett meddelande innehåller osynliga styrtecken, till exempel från en kopierad text. Skriv om texten."})
	}
	a := d.Availability
	if a.MinAge != nil && a.MaxAge != nil && *a.MinAge > *a.MaxAge {
		ps = append(ps, Problem{Code: "age_range", Text: "Den lägsta åldern är högre än den högsta."})
	}
	if (a.MinAge != nil && *a.MinAge < 0) || (a.MaxAge != nil && *a.MaxAge < 0) {
		ps = append(ps, Problem{Code: "age_range", Text: "En ålder kan inte vara negativ."})
	}
	if a.Proxy && a.MinAge != nil && *a.MinAge >= ProxyAgeLimit {
		ps = append(ps, Problem{Code: "proxy_age", Text: "Ombudsläge gäller barn under 13 år, men e-tjänsten är bara för personer från " + fmt.Sprint(*a.MinAge) + " år."})
	}
	seen := map[string]bool{}
	for _, n := range a.Named {
		if n.ResidentID == "" {
			ps = append(ps, Problem{Code: "named_empty", Text: "En namngiven invånare saknar id."})
		} else if seen[n.ResidentID] {
			ps = append(ps, Problem{Code: "named_duplicate", Text: "Samma invånare står två gånger i listan."})
		}
		seen[n.ResidentID] = true
	}
	if d.Closed && strings.TrimSpace(d.ClosedMessage) == "" {
		ps = append(ps, Problem{Code: "closed_message", Text: "Skriv ett meddelande som visas när e-tjänsten är stängd."})
	}
	if len(ps) == 0 {
		return nil
	}
	return &DefinitionError{Problems: ps}
}

// stockholm is the calendar of dates (shared/DOMAIN.md, Dates).
var stockholm = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		panic("form: time zone Europe/Stockholm: " + err.Error()) // tzdata is embedded by personnummer
	}
	return loc
}()

// civilDate is t's Stockholm calendar date as yyyymmdd, for comparing.
func civilDate(t time.Time) int {
	y, m, d := t.In(stockholm).Date()
	return y*10000 + int(m)*100 + d
}
