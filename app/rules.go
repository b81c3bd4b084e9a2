package app

import (
	"fmt"
	"time"
)

// ProxyAgeLimit is the age at which a child must sign in personally and
// guardians can no longer act as proxy (R5, R8).
const ProxyAgeLimit = 13

// IsChild reports whether r is under 13 on the Stockholm date of t. A
// resident without a personnummer is treated as an adult (no proxy).
func IsChild(r *Resident, t time.Time) bool {
	return !r.PNR.IsZero() && r.PNR.AgeOn(t) < ProxyAgeLimit
}

// ThirteenthBirthday is the Stockholm midnight of r's 13th birthday (a
// leap-day child has it on 28 February, see personnummer.Number.BirthdayIn).
func ThirteenthBirthday(r *Resident) time.Time {
	return r.PNR.BirthdayIn(r.PNR.Birthdate().Year() + ProxyAgeLimit)
}

// EffectiveSettings applies R8 on the date now: from the 13th birthday on,
// settings saved before that birthday no longer count, so they read as empty
// until the child saves new ones. It is evaluated on the date, not by a
// scheduled job, so a desktop that was off on the birthday is still right.
func EffectiveSettings(r *Resident, now time.Time) Settings {
	if r.PNR.IsZero() || IsChild(r, now) {
		return r.Settings
	}
	if r.Settings.SavedAt.Before(ThirteenthBirthday(r)) {
		return Settings{}
	}
	return r.Settings
}

// NeedsSettingsPrompt reports whether the resident is to be asked to fill in
// settings at sign-in: from 13, until settings are saved after the 13th
// birthday (R8).
func NeedsSettingsPrompt(r *Resident, now time.Time) bool {
	return !r.PNR.IsZero() && !IsChild(r, now) && r.Settings.SavedAt.Before(ThirteenthBirthday(r))
}

// CanSignIn says whether the resident may sign in with e-ID (R1, R10).
func CanSignIn(r *Resident) error {
	switch {
	case r.Register.Deceased:
		return fmt.Errorf("sign in resident %s: deceased: %w", r.ID, ErrForbidden)
	case r.PNR.IsZero():
		return fmt.Errorf("sign in resident %s: no personnummer: %w", r.ID, ErrForbidden)
	case r.Account.LoginLocked:
		return fmt.Errorf("sign in resident %s: %w", r.ID, ErrLoginLocked)
	}
	return nil
}

// CanSignInPersonally is CanSignIn for an e-ID sign-in on the date now:
// a child under 13 is refused as well. Such a child does not sign in
// with their own e-ID; a guardian uses the child's e-services in proxy
// mode (R5), and from the 13th birthday the child signs in personally
// (R8). Without this a child could save settings that nobody reads
// (NotifyTargets notifies a child's guardians, not the child).
func CanSignInPersonally(r *Resident, now time.Time) error {
	if err := CanSignIn(r); err != nil {
		return err
	}
	if IsChild(r, now) {
		return fmt.Errorf("sign in resident %s: %w", r.ID, ErrChildSignIn)
	}
	return nil
}

// CanSeeBookedTimes: a locked resident cannot see booked times (R10).
func CanSeeBookedTimes(r *Resident) bool { return CanSignIn(r) == nil }

// JournalReachableByLink: sealing is separate from locking (R11) — a locked
// resident still reaches the record by direct link unless it is sealed.
func JournalReachableByLink(r *Resident) bool {
	return !r.Register.Deceased && !r.Account.JournalSealed
}

// ProxyReason says why a guardian may not act for a child.
type ProxyReason string

// Reasons a proxy is refused.
const (
	ProxyNotGuardian       ProxyReason = "inte-vardnadshavare"
	ProxyChildTooOld       ProxyReason = "barnet-fyllt-13"     // R8
	ProxyProtectedIdentity ProxyReason = "skyddade-uppgifter"  // R7
	ProxyBlocked           ProxyReason = "sparrad"             // blocked guardian
	ProxyGuardianLocked    ProxyReason = "vardnadshavare-last" // R10 on the guardian
	ProxyChildLocked       ProxyReason = "barnet-last"         // R10 on the child
	ProxyDeceased          ProxyReason = "avliden"
	// ProxyChildNotActivated: no guardian has activated the child's login
	// in proxy mode (R5). The code is the one staff see as the blocking
	// reason (BlockChildNotActivated), so both sides name the same state.
	ProxyChildNotActivated ProxyReason = "barn-ej-aktiverat"
)

// Message is the Swedish explanation.
func (p ProxyReason) Message() string {
	switch p {
	case ProxyNotGuardian:
		return "Personen är inte vårdnadshavare för barnet."
	case ProxyChildTooOld:
		return "Barnet har fyllt 13 år och måste logga in själv med egen e-legitimation."
	case ProxyProtectedIdentity:
		return "Barnet eller vårdnadshavaren har skyddade personuppgifter, så ombudsläge är inte möjligt."
	case ProxyBlocked:
		return "Vårdnadshavarens ombudsbehörighet för barnet är spärrad."
	case ProxyGuardianLocked:
		return "Vårdnadshavaren har låst sin inloggning."
	case ProxyChildLocked:
		return "Barnets inloggning är låst, så ingen vårdnadshavare kan företräda barnet i e-tjänsterna. Kontakta 1177 för att låsa upp den."
	case ProxyDeceased:
		return "Barnet eller vårdnadshavaren är avliden."
	case ProxyChildNotActivated:
		return "Barnets inloggning är inte aktiverad i ombudsläge. Aktivera den först, så kan du använda e-tjänsterna för barnet."
	}
	return string(p)
}

// ProxyError is returned when a guardian may not act for a child. It
// matches ErrProxyNotAllowed with errors.Is.
type ProxyError struct {
	Reason   ProxyReason
	Child    ID
	Guardian ID
}

func (e *ProxyError) Error() string {
	return fmt.Sprintf("proxy for child %s by guardian %s: %s", e.Child, e.Guardian, e.Reason)
}

// Is makes errors.Is(err, ErrProxyNotAllowed) true.
func (e *ProxyError) Is(target error) bool { return target == ErrProxyNotAllowed }

// MayActAsProxy decides whether guardian may act for child on the date now:
// a registered guardian of a child under 13 (R5), neither of them with
// protected personal data (R7), not blocked, neither login locked (R10),
// and the child's login activated in proxy mode (R5) by some guardian.
// A locked child cannot sign in or receive digital messages, and proxy
// mode is only the child's own e-services used by someone else, so a
// guardian is refused exactly where the child would be. A child whose
// login nobody activated is one staff cannot send to
// (BlockChildNotActivated); a guardian is refused there too, until they
// activate it (MayActivateProxy). Every resident route that takes a
// child, the staff view of the child's guardians and the guardians'
// notifications go through this one decision.
func MayActAsProxy(guardian, child *Resident, now time.Time) error {
	if err := MayActivateProxy(guardian, child, now); err != nil {
		return err
	}
	if !child.Account.Activated {
		return &ProxyError{Reason: ProxyChildNotActivated, Child: child.ID, Guardian: guardian.ID}
	}
	return nil
}

// MayActivateProxy decides whether guardian may activate child's login in
// proxy mode on the date now (R5): every condition of MayActAsProxy but
// the activation itself, which is what it gives.
func MayActivateProxy(guardian, child *Resident, now time.Time) error {
	deny := func(r ProxyReason) error { return &ProxyError{Reason: r, Child: child.ID, Guardian: guardian.ID} }
	g, ok := child.Guardianship(guardian.ID)
	switch {
	case !ok:
		return deny(ProxyNotGuardian)
	case child.Register.Deceased || guardian.Register.Deceased:
		return deny(ProxyDeceased)
	case !IsChild(child, now):
		return deny(ProxyChildTooOld)
	case child.Register.ProtectedIdentity || guardian.Register.ProtectedIdentity:
		return deny(ProxyProtectedIdentity)
	case g.Blocked:
		// Before the child's lock: a block is about this guardian and
		// outlives an unlock, so it is the reason they must know.
		return deny(ProxyBlocked)
	case child.Account.LoginLocked:
		return deny(ProxyChildLocked)
	case guardian.Account.LoginLocked:
		return deny(ProxyGuardianLocked)
	}
	return nil
}

// Channel is a notification channel.
type Channel string

// Channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "epost"
)

// NotifyTarget is one notification to send for a message in ForResident's
// inbox: to RecipientID (the resident, or a guardian) on Channel at Address.
type NotifyTarget struct {
	ForResident ID
	RecipientID ID
	Guardian    bool
	Channel     Channel
	Address     string
}

// NotifyTargets decides who is notified when a message enters r's inbox
// (R1, R3, R6, R7, R8, R10, blocked guardian). guardians holds the child's
// guardians by id (nil for an adult). Nobody is notified for a locked,
// never-activated, deceased or reserve-number resident; a child under 13
// is notified through each guardian who may act for the child and filled in
// contact details under the child's settings; from 13 the child's own
// settings count only if saved after the 13th birthday.
func NotifyTargets(r *Resident, guardians map[ID]*Resident, now time.Time) []NotifyTarget {
	if r.Register.Deceased || r.PNR.IsZero() || r.Account.LoginLocked || !r.Account.Activated {
		return nil
	}
	var out []NotifyTarget
	if IsChild(r, now) {
		for _, g := range r.Guardians {
			gr := guardians[g.GuardianID]
			if gr == nil || MayActAsProxy(gr, r, now) != nil {
				continue
			}
			if g.Contact.Mobile != "" {
				out = append(out, NotifyTarget{ForResident: r.ID, RecipientID: gr.ID, Guardian: true, Channel: ChannelSMS, Address: g.Contact.Mobile})
			}
			if g.Contact.Email != "" {
				out = append(out, NotifyTarget{ForResident: r.ID, RecipientID: gr.ID, Guardian: true, Channel: ChannelEmail, Address: g.Contact.Email})
			}
		}
		return out
	}
	s := EffectiveSettings(r, now)
	if s.NotifySMS && s.Mobile != "" {
		out = append(out, NotifyTarget{ForResident: r.ID, RecipientID: r.ID, Channel: ChannelSMS, Address: s.Mobile})
	}
	if s.NotifyEmail && s.Email != "" {
		out = append(out, NotifyTarget{ForResident: r.ID, RecipientID: r.ID, Channel: ChannelEmail, Address: s.Email})
	}
	return out
}
