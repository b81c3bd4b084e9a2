package app

import "time"

// PullScope is what the server may send to one staff member's device —
// a pull page or a push's answer (docs/sync.md, Pull) — the role table of
// shared/DOMAIN.md applied to every kind of record the change feed holds.
// The storage pager asks it about each record, so the rule lives here and
// not in storage or the server:
//
//   - Case content (header, messages, notes, notifications): CaseVisible,
//     the one rule of every door. An ärendemottagare gets the clinic's
//     cases, an ärendehanterare those assigned to them and those they
//     started; the other roles none.
//   - A case the staff member may not see, of a clinic where they hold a
//     case role, that changed after the desktop's cursor and whose content
//     the server once sent to this device: a WithdrawnCase (a pull after a
//     cursor only), so that the desktop learns the case is no longer its
//     staff member's. Nobody hears about a case their device never held;
//     roles without case content hear nothing about cases.
//   - Residents: only those a case the staff member may see needs (a
//     child's guardians with the child), redacted (RedactForStaff).
//   - Templates, e-services and their form series: the tools of the case
//     roles (Skicka ärende starts from a template; an e-service case's
//     answers are read with its form) and of the lokal administratör, who
//     designs them; the national catalogue to anyone who holds one of
//     those roles somewhere.
//   - Clinics: those the staff member has any role in (every role needs to
//     name its clinics).
//   - Staff: the staff member's own record whole, and colleagues — staff
//     with a role in one of the caller's clinics — with their roles in the
//     caller's clinics only (nobody sees anything of a clinic they have no
//     role in). A behörighetsadministratör thus gets the staff and roles of
//     the clinics they administer; everyone else the names an assignee or
//     an author needs. Staff who share no clinic with the caller are not
//     sent.
//
// A scope also names the device the records go to: the server records
// each case whose content it sends there (PullAccesses), and a case is
// withdrawn only from a device it was sent to.
type PullScope struct {
	st     *Staff
	device ID
	// member: clinics where st holds any role; cases: a case role
	// (ärendemottagare or ärendehanterare); tools: a case role or lokal
	// administratör.
	member, cases, tools map[ID]bool
}

// NewPullScope is the scope of staff member st (nil: nothing) on device
// ("" for a caller without one, never a desktop).
func NewPullScope(st *Staff, device ID) *PullScope {
	p := &PullScope{st: st, device: device, member: map[ID]bool{}, cases: map[ID]bool{}, tools: map[ID]bool{}}
	if st == nil || st.Disabled {
		return p
	}
	for c, roles := range st.Roles {
		for _, r := range roles {
			p.member[c] = true
			switch r {
			case RoleCaseReceiver, RoleCaseHandler:
				p.cases[c], p.tools[c] = true, true
			case RoleLocalAdmin:
				p.tools[c] = true
			}
		}
	}
	return p
}

// Staff is the staff member the scope is of.
func (p *PullScope) Staff() *Staff { return p.st }

// Holder names where the records go, for the server's memory of what it
// sent there: the device, or the staff member for a caller without one.
func (p *PullScope) Holder() ID {
	switch {
	case p.device != "":
		return p.device
	case p.st != nil:
		return "staff:" + p.st.ID
	}
	return ""
}

// Clinic reports whether clinic id's record is sent.
func (p *PullScope) Clinic(id ID) bool { return p.member[id] }

// CaseClinic reports whether a case of clinic id can concern the staff
// member at all (its content, or its withdrawal): they hold a case role
// there. Feed entries of other clinics' cases are skipped unread.
func (p *PullScope) CaseClinic(id ID) bool { return p.cases[id] }

// CaseRoles reports whether the staff member holds a case role anywhere:
// without one no case, and so no resident, is ever sent.
func (p *PullScope) CaseRoles() bool { return len(p.cases) > 0 }

// Case reports whether case c's content is sent (CaseVisible).
func (p *PullScope) Case(c *Case) bool { return CaseVisible(p.st, c) }

// Withdraw reports whether a page after a cursor tells the desktop that
// case c is not its staff member's: a case of a clinic where they hold a
// case role that they may not see. The store adds the other condition:
// the case's content was sent to this device before.
func (p *PullScope) Withdraw(c *Case) bool { return p.cases[c.ClinicID] && !p.Case(c) }

// Withdrawn is what a page carries of a case that Withdraw reports.
func Withdrawn(c *Case) WithdrawnCase {
	return WithdrawnCase{CaseID: c.ID, ClinicID: c.ClinicID, AssigneeID: c.AssigneeID, Status: c.Status, Version: c.Version}
}

// Template reports whether the templates of clinic are sent.
func (p *PullScope) Template(clinic ID) bool { return p.tools[clinic] }

// EService reports whether an e-service of clinic ("" for the national
// catalogue), and its form series, is sent.
func (p *PullScope) EService(clinic ID) bool {
	if clinic == "" {
		return len(p.tools) > 0
	}
	return p.tools[clinic]
}

// StaffRecord returns what is sent of staff member s, and whether
// anything is: the staff member's own record whole, a colleague's with
// their roles in the caller's clinics only.
func (p *PullScope) StaffRecord(s *Staff) (Staff, bool) {
	if p.st == nil {
		return Staff{}, false
	}
	if s.ID == p.st.ID {
		return *s, true
	}
	out := *s
	out.Roles = nil
	for c, roles := range s.Roles {
		if len(roles) > 0 && p.member[c] {
			if out.Roles == nil {
				out.Roles = map[ID][]Role{}
			}
			out.Roles[c] = roles
		}
	}
	return out, out.Roles != nil
}

// PullAccess is the access-log entry of one case whose content the server
// sends to a device, with the case version sent: a device is recorded
// once per case and version (the store remembers what it recorded).
type PullAccess struct {
	Entry   AccessEntry
	Version uint64
}

// PullAccesses are the access-log entries of the cases whose content
// threads carry to the scope's device, sent at now to its staff member
// (patientdatalagen 4 kap.: who, when, whose data, from which clinic, and
// here to which computer). They hold ids only, never message text.
func (p *PullScope) PullAccesses(now time.Time, threads []PulledThread) []PullAccess {
	if len(threads) == 0 || p.st == nil {
		return nil
	}
	out := make([]PullAccess, len(threads))
	for i := range threads {
		c := &threads[i].Case
		out[i] = PullAccess{Version: c.Version, Entry: AccessEntry{ID: NewID(now), At: now, StaffID: p.st.ID, ClinicID: c.ClinicID,
			ResidentID: c.ResidentID, CaseID: c.ID, Action: AccessSyncPull, Device: p.device}}
	}
	return out
}
