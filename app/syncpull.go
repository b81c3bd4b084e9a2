package app

import "mottagning/app/form"

// What a pull brings to a connected desktop (docs/sync.md, Pull): the
// current state of every record that changed after the desktop's cursor
// and concerns its clinics. Records are whole (state, not deltas), so a
// page applied twice changes nothing the second time.

// PulledThread is a case as the server has it, with the states of its
// notifications (their addresses left out: staff never see them).
type PulledThread struct {
	Thread
	Notifications []Notification `json:",omitempty"`
	// Seq is the position of the case's latest change in the server's
	// feed: a desktop that stored the case at this Seq (and changed
	// nothing since) skips it.
	Seq uint64 `json:",omitempty"`
	// RawHeader and RawItems carry the case header and its messages and
	// notes as the server stores them (their JSON), in the binary pull
	// (sync/pullwire.go): the desktop seals them as they are instead of
	// decoding and encoding every message. Of Case only the fields the
	// desktop indexes and checks it by are then decoded (DecodeCaseKeys:
	// ID, ClinicID, ResidentID, AssigneeID, Status, LastActivity,
	// UnreadByStaff); Messages and Notes are empty.
	RawHeader []byte    `json:"-"`
	RawItems  []RawItem `json:"-"`
}

// RawItem is a message or note of a case as stored: Key is the item's
// kind byte ('m' message, 'n' note) and its id; JSON its record.
type RawItem struct {
	Key  []byte
	JSON []byte
}

// SyncChanges is one page of a pull, or the server's current state of the
// cases a push answered.
type SyncChanges struct {
	Threads []PulledThread `json:",omitempty"`
	// Gone are cases the desktop holds that the server does not: the
	// creation was rejected. The desktop keeps the rejected op to show.
	Gone      []ID              `json:",omitempty"`
	Residents []Resident        `json:",omitempty"`
	Staff     []Staff           `json:",omitempty"`
	Clinics   []Clinic          `json:",omitempty"`
	Templates []MessageTemplate `json:",omitempty"`
	EServices []EService        `json:",omitempty"`
	// FormSeries are the form versions of local e-services (issue 7).
	FormSeries []form.Series `json:",omitempty"`
	// Withdrawn are cases of the caller's clinics that changed after the
	// cursor and that the caller may not see (any longer): an
	// ärendehanterare's case reassigned to someone else. Only what the
	// desktop needs to drop its copy, nothing of the content (PullScope).
	Withdrawn []WithdrawnCase `json:",omitempty"`
	// From and To, in a push's answer: between the desktop's pull cursor
	// From and the feed position To, the server's feed held nothing for
	// the desktop but these cases, so the desktop may move its cursor
	// from From to To with them and its next pull finds nothing it has
	// (docs/sync.md, Push). Empty: pull as usual.
	From string `json:",omitempty"`
	To   string `json:",omitempty"`
}

// Empty reports whether the page holds no record.
func (c *SyncChanges) Empty() bool {
	return c == nil || len(c.Threads)+len(c.Gone)+len(c.Residents)+len(c.Staff)+len(c.Clinics)+len(c.Templates)+len(c.EServices)+len(c.FormSeries)+len(c.Withdrawn) == 0
}

// WithdrawnCase tells a desktop that a case is not its staff member's to
// see (any longer): its clinic, assignee, status and version, never its
// subject, resident, messages or notes.
type WithdrawnCase struct {
	CaseID     ID
	ClinicID   ID
	AssigneeID ID `json:",omitempty"`
	Status     Status
	Version    uint64 `json:",omitempty"`
}

// Hidden stands in for a contact detail staff may not see (R14): the
// desktop still knows that a channel is filled in (the notification
// method it shows, R14), never the number or address itself.
const Hidden = "(dold)"

// RedactForStaff removes from a resident what staff may not see before it
// leaves the server for a desktop: the address of a person with protected
// identity (R9), and mobile and e-mail unless shared with care (R13, R14),
// also those a guardian filled in under a child's settings.
func RedactForStaff(r *Resident) {
	if r.Register.ProtectedIdentity {
		r.Register.Address = Address{}
	}
	if !r.Settings.ShareWithCare {
		if r.Settings.Mobile != "" {
			r.Settings.Mobile = Hidden
		}
		if r.Settings.Email != "" {
			r.Settings.Email = Hidden
		}
	}
	for i := range r.Guardians {
		c := &r.Guardians[i].Contact
		if c.Mobile != "" {
			c.Mobile = Hidden
		}
		if c.Email != "" {
			c.Email = Hidden
		}
	}
}
