package form

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAvailable_R5R8_AgeProxyNamedClosed: who may use an e-service, with
// the Swedish reason when not.
func TestAvailable_R5R8_AgeProxyNamedClosed(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, stockholm) }
	adults := Definition{Name: "Förnya recept", Availability: Availability{MinAge: Ptr(18)}}
	kids := Definition{Name: "BVC", Availability: Availability{MaxAge: Ptr(17), Proxy: true}}
	noProxy := Definition{Name: "Kontakta", Availability: Availability{}}
	named := Definition{Name: "Uppföljning", Availability: Availability{Named: []NamedResident{
		{ResidentID: "r1", Until: day(2025, 6, 15)}, {ResidentID: "r2", Until: day(2025, 6, 14)}, {ResidentID: "r3"}}}}
	closed := Definition{Name: "Sommar", Closed: true, ClosedMessage: "Stängt i juli. Ring 036-10 10 10."}
	tests := []struct {
		name   string
		d      Definition
		r      Requester
		now    time.Time
		ok     bool
		reason string
	}{
		{"adult in range", adults, Requester{Age: 18}, testNow, true, ""},
		{"too young", adults, Requester{Age: 17}, testNow, false, "från 18 år"},
		{"child within max", kids, Requester{Age: 17}, testNow, true, ""},
		{"too old", kids, Requester{Age: 18}, testNow, false, "till och med 17 år"},
		{"R5 guardian of 12-year-old in proxy mode", kids, Requester{Age: 12, Proxy: true}, testNow, true, ""},
		{"R8 proxy refused from 13", kids, Requester{Age: 13, Proxy: true}, testNow, false, "Från 13 år loggar barnet in själv"},
		{"proxy not allowed for the e-service", noProxy, Requester{Age: 5, Proxy: true}, testNow, false, "kan inte användas i ombudsläge"},
		{"proxy age range names the child", adults, Requester{Age: 5, Proxy: true}, testNow, false, "kan inte användas i ombudsläge"},
		{"named resident on the end date", named, Requester{ResidentID: "r1", Age: 40}, time.Date(2025, 6, 15, 23, 59, 0, 0, stockholm), true, ""},
		{"named resident after the end date", named, Requester{ResidentID: "r2", Age: 40}, testNow, false, "upphörde 2025-06-14"},
		{"named resident without end", named, Requester{ResidentID: "r3", Age: 40}, testNow, true, ""},
		{"resident not named", named, Requester{ResidentID: "r9", Age: 40}, testNow, false, "inte öppen för dig"},
		{"closed shows its message", closed, Requester{Age: 40}, testNow, false, "Stängt i juli. Ring 036-10 10 10."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := tt.d.Available(tt.r, tt.now)
			if ok != tt.ok || !strings.Contains(reason, tt.reason) || (tt.ok && reason != "") {
				t.Errorf("got %v %q, want %v %q", ok, reason, tt.ok, tt.reason)
			}
		})
	}
}

// TestDefinitionCheck: an e-service definition without a name, with an
// impossible age range or a closed one without a message is refused.
func TestDefinitionCheck(t *testing.T) {
	bad := []Definition{
		{},
		{Name: "x", Availability: Availability{MinAge: Ptr(20), MaxAge: Ptr(10)}},
		{Name: "x", Availability: Availability{MinAge: Ptr(18), Proxy: true}},
		{Name: "x", Closed: true},
		{Name: "x", Availability: Availability{Named: []NamedResident{{ResidentID: "a"}, {ResidentID: "a"}}}},
	}
	for i, d := range bad {
		if err := d.Check(); !errors.Is(err, ErrDefinition) {
			t.Errorf("%d: %v", i, err)
		}
	}
	good := Definition{Name: "Förnya recept", ReceivingRole: "arendemottagare", AutoReply: "Tack!", AttachmentsAllowed: true}
	if err := good.Check(); err != nil {
		t.Error(err)
	}
}
