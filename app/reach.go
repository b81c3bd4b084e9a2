package app

import "time"

// BlockReason is a reason a message cannot be sent to a resident
// (shared/DOMAIN.md, "Reachability before sending"). Sending is refused and
// staff are told what to do instead.
type BlockReason string

// Blocking reasons.
const (
	BlockDeceased          BlockReason = "avliden"
	BlockReserveNumber     BlockReason = "reservnummer"
	BlockLoginLocked       BlockReason = "last-inloggning"   // R10
	BlockNeverSignedIn     BlockReason = "aldrig-inloggad"   // R1
	BlockChildNotActivated BlockReason = "barn-ej-aktiverat" // R5: no guardian activated the child's login
	BlockChildProtected    BlockReason = "barn-skyddade"     // R7: no guardian may act
	BlockChildAllBlocked   BlockReason = "barn-alla-sparrade"
)

// Message is the plain-Swedish reason and what to do instead.
func (b BlockReason) Message() string {
	switch b {
	case BlockDeceased:
		return "Personen är avliden enligt folkbokföringen. Inget meddelande kan skickas."
	case BlockReserveNumber:
		return "Personen har reservnummer och kan inte logga in i e-tjänsterna. Skicka ett brev eller ring i stället."
	case BlockLoginLocked:
		return "Invånaren har låst sin inloggning och kan inte ta emot digitala meddelanden. Skicka ett brev eller ring i stället."
	case BlockNeverSignedIn:
		return "Invånaren har aldrig loggat in i e-tjänsterna på 1177 och kan därför inte ta emot meddelanden. Skicka ett brev eller ring i stället."
	case BlockChildNotActivated:
		return "Barnet är under 13 år och ingen vårdnadshavare har aktiverat barnets inloggning i ombudsläge. Skicka ett brev till vårdnadshavarna eller ring i stället."
	case BlockChildProtected:
		return "Barnet är under 13 år och ingen vårdnadshavare kan vara ombud eftersom barnet eller vårdnadshavarna har skyddade personuppgifter. Kontakta familjen per brev eller telefon enligt rutinen för skyddade personuppgifter."
	case BlockChildAllBlocked:
		return "Barnet är under 13 år och alla vårdnadshavares ombudsbehörighet är spärrad. Kontakta familjen per brev eller telefon i stället."
	}
	return string(b)
}

// FactKind is something staff should know that does not stop the send.
type FactKind string

// Non-blocking facts.
const (
	// FactChildInbox: a child under 13; the message goes to the child's
	// inbox and the listed guardians are notified (R5, R6).
	FactChildInbox FactKind = "barnets-inkorg"
	// FactProtectedIdentity: skyddade personuppgifter (R9); the address is not shown.
	FactProtectedIdentity FactKind = "skyddade-personuppgifter"
	// FactNoNotification: nobody will be notified; the message is still delivered.
	FactNoNotification FactKind = "ingen-avisering"
)

// Reachability is the classification staff see before sending.
type Reachability struct {
	// Blocking is non-empty when the send must be refused, most important first.
	Blocking []BlockReason
	// Facts are shown but do not stop the send.
	Facts []FactKind
	// Choice is the resident's own notification method as they set it
	// (after R8); for a child under 13 it is not used, guardians are.
	Choice NotifyChoice
	// Notify is who will be notified when the message is delivered.
	Notify []NotifyTarget
	// NotifiedGuardians are the guardians that will be notified (child under 13).
	NotifiedGuardians []ID
}

// OK reports whether a message may be sent.
func (r Reachability) OK() bool { return len(r.Blocking) == 0 }

// Reach classifies whether a message can be sent to r on the date now
// (R1, R5, R7, R10, deceased, reserve number). guardians holds r's guardians
// by id when r is a child.
func Reach(r *Resident, guardians map[ID]*Resident, now time.Time) Reachability {
	var out Reachability
	switch {
	case r.Register.Deceased:
		out.Blocking = append(out.Blocking, BlockDeceased)
	case r.PNR.IsZero():
		out.Blocking = append(out.Blocking, BlockReserveNumber)
	}
	if r.Account.LoginLocked {
		out.Blocking = append(out.Blocking, BlockLoginLocked)
	}
	child := IsChild(r, now)
	if child {
		out.Facts = append(out.Facts, FactChildInbox)
		if b := childBlock(r, guardians, now); b != "" {
			out.Blocking = append(out.Blocking, b)
		}
	} else if !r.Account.Activated && !r.PNR.IsZero() {
		out.Blocking = append(out.Blocking, BlockNeverSignedIn)
	}
	if r.Register.ProtectedIdentity {
		out.Facts = append(out.Facts, FactProtectedIdentity)
	}
	out.Choice = EffectiveSettings(r, now).Choice()
	if !out.OK() {
		return out
	}
	out.Notify = NotifyTargets(r, guardians, now)
	seen := map[ID]bool{}
	for _, t := range out.Notify {
		if t.Guardian && !seen[t.RecipientID] {
			seen[t.RecipientID] = true
			out.NotifiedGuardians = append(out.NotifiedGuardians, t.RecipientID)
		}
	}
	if len(out.Notify) == 0 {
		out.Facts = append(out.Facts, FactNoNotification)
	}
	return out
}

// childBlock returns why no guardian can act for a child under 13, or "".
func childBlock(child *Resident, guardians map[ID]*Resident, now time.Time) BlockReason {
	if child.Account.LoginLocked || child.Register.Deceased {
		// R10: BlockLoginLocked already says it, and unlocking is what to
		// do; a deceased child: BlockDeceased says it all. Counting the
		// guardians refused for the lock or the death would add a false
		// "no guardian activated the login".
		return ""
	}
	if !child.Account.Activated {
		return BlockChildNotActivated
	}
	if child.Register.ProtectedIdentity {
		return BlockChildProtected
	}
	protected, blocked, other := 0, 0, 0
	for _, g := range child.Guardians {
		gr := guardians[g.GuardianID]
		if gr == nil {
			other++
			continue
		}
		err := MayActAsProxy(gr, child, now)
		if err == nil {
			return ""
		}
		switch err.(*ProxyError).Reason {
		case ProxyProtectedIdentity:
			protected++
		case ProxyBlocked:
			blocked++
		default:
			other++
		}
	}
	switch {
	case blocked > 0 && protected == 0 && other == 0:
		return BlockChildAllBlocked
	case protected > 0:
		return BlockChildProtected
	}
	return BlockChildNotActivated
}
