package app

import (
	"testing"
	"time"
)

// TestR2_PullScopeByRole: what a pull carries to each role of the role
// table (shared/DOMAIN.md), in the staff member's clinic k1 and in k2,
// where they hold no role.
func TestR2_PullScopeByRole(t *testing.T) {
	const me, other = ID("me"), ID("other")
	mineAssigned := &Case{ID: "c1", ClinicID: "k1", AssigneeID: me, Status: StatusOngoing, Version: 4}
	othersCase := &Case{ID: "c2", ClinicID: "k1", AssigneeID: other, Status: StatusOngoing, Version: 5}
	unassigned := &Case{ID: "c3", ClinicID: "k1", Status: StatusNew}
	startedByMe := &Case{ID: "c4", ClinicID: "k1", AssigneeID: other, CreatorID: me, Status: StatusWaiting}
	elsewhere := &Case{ID: "c5", ClinicID: "k2", AssigneeID: me, CreatorID: me, Status: StatusOngoing}
	colleague := &Staff{ID: other, Name: "Kollega", Roles: map[ID][]Role{"k1": {RoleCaseHandler}, "k2": {RoleCaseReceiver}}}
	stranger := &Staff{ID: "x", Name: "Annan", Roles: map[ID][]Role{"k2": {RoleCaseHandler}}}
	type want struct {
		cases, withdraw                               [5]bool // mineAssigned, othersCase, unassigned, startedByMe, elsewhere
		tools, catalogue, clinic, colleague, caseRole bool
	}
	for _, tc := range []struct {
		name  string
		roles []Role
		want  want
	}{
		{"ärendemottagare", []Role{RoleCaseReceiver}, want{cases: [5]bool{true, true, true, true, false}, tools: true, catalogue: true, clinic: true, colleague: true, caseRole: true}},
		{"ärendehanterare", []Role{RoleCaseHandler}, want{cases: [5]bool{true, false, false, true, false}, withdraw: [5]bool{false, true, true, false, false},
			tools: true, catalogue: true, clinic: true, colleague: true, caseRole: true}},
		{"lokal administratör", []Role{RoleLocalAdmin}, want{tools: true, catalogue: true, clinic: true, colleague: true}},
		{"behörighetsadministratör", []Role{RolePermissionAdmin}, want{clinic: true, colleague: true}},
		{"granskare", []Role{RoleAuditor}, want{clinic: true, colleague: true}},
		{"kontaktcenter (no clinic)", nil, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &Staff{ID: me, Roles: map[ID][]Role{}}
			if tc.roles != nil {
				st.Roles["k1"] = tc.roles
			} else {
				st.RegionRoles = []Role{RoleContactCenter}
			}
			p := NewPullScope(st, "dev")
			for i, c := range []*Case{mineAssigned, othersCase, unassigned, startedByMe, elsewhere} {
				if got := p.Case(c); got != tc.want.cases[i] || got != CaseVisible(st, c) {
					t.Errorf("case %s: sent %v, want %v", c.ID, got, tc.want.cases[i])
				}
				if got := p.Withdraw(c); got != tc.want.withdraw[i] {
					t.Errorf("case %s: withdrawn %v, want %v", c.ID, got, tc.want.withdraw[i])
				}
			}
			if p.Template("k1") != tc.want.tools || p.EService("k1") != tc.want.tools || p.EService("") != tc.want.catalogue {
				t.Errorf("templates %v, e-services %v, catalogue %v", p.Template("k1"), p.EService("k1"), p.EService(""))
			}
			if p.Template("k2") || p.EService("k2") || p.Clinic("k2") || p.CaseClinic("k2") {
				t.Error("something of k2, where the staff member has no role")
			}
			if p.Clinic("k1") != tc.want.clinic || p.CaseRoles() != tc.want.caseRole || p.CaseClinic("k1") != tc.want.caseRole {
				t.Errorf("clinic %v, case roles %v", p.Clinic("k1"), p.CaseRoles())
			}
			rec, ok := p.StaffRecord(colleague)
			if ok != tc.want.colleague || (ok && (len(rec.Roles) != 1 || rec.Roles["k1"] == nil || rec.Name != "Kollega")) {
				t.Errorf("colleague: %v %+v", ok, rec)
			}
			if colleague.Roles["k2"] == nil {
				t.Error("StaffRecord changed the colleague's record")
			}
			if _, ok := p.StaffRecord(stranger); ok {
				t.Error("a staff member of another clinic only is sent")
			}
			if self, ok := p.StaffRecord(st); !ok || self.ID != me {
				t.Error("the staff member's own record is not sent")
			}
		})
	}
}

// The entries of what a pull sends name the staff member, the case's
// clinic and resident, the case and the device, and the version sent.
func TestPullAccesses(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	st := &Staff{ID: "s1", Roles: map[ID][]Role{"k1": {RoleCaseReceiver}}}
	var pt PulledThread
	pt.Case = Case{ID: "c1", ClinicID: "k1", ResidentID: "r1", Version: 7, Subject: "Provsvar"}
	got := NewPullScope(st, "d1").PullAccesses(now, []PulledThread{pt})
	want := AccessEntry{ID: got[0].Entry.ID, At: now, StaffID: "s1", ClinicID: "k1", ResidentID: "r1", CaseID: "c1", Action: AccessSyncPull, Device: "d1"}
	if len(got) != 1 || got[0].Entry != want || got[0].Version != 7 || got[0].Entry.ID == "" {
		t.Fatalf("got %+v", got)
	}
	if AccessSyncPull.Label() != "Hämtade till dator" {
		t.Fatal(AccessSyncPull.Label())
	}
	if h := NewPullScope(&Staff{ID: "s1"}, "").Holder(); h != "staff:s1" {
		t.Fatalf("holder without a device: %q", h)
	}
}
