package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
)

// registerAnswer is the admin API's answer to POST /admin/import-register,
// decoded by its JSON names (what cmd/mottagning-server reads).
type registerAnswer struct {
	Created, Updated, Unchanged int
	BlocksKept, BlocksHeld      int
}

// importOverAdmin sends a register file to the admin API over HTTP, as
// the admin command does while the server runs.
func (e *env) importOverAdmin(admin *httptest.Server, file string) registerAnswer {
	e.t.Helper()
	resp, err := admin.Client().Post(admin.URL+"/admin/import-register", "text/csv", strings.NewReader(file))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("import: status %d: %s", resp.StatusCode, body)
	}
	var a registerAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		e.t.Fatalf("import answer %s: %v", body, err)
	}
	return a
}

// TestR12_RegisterReimportKeepsGuardianBlock: a population-register import
// rewrites guardianships (R12) but never lifts a lokal administratör's
// block of a guardian: not when the guardian stays in the file, and not
// when the guardian is left out of one import and listed again in a later
// one (the block is held meanwhile). Each import reports the blocks it
// kept. Only a lokal administratör lifts a block — also a held one — and
// a lifted block stays lifted. Run on the real store through the admin
// API over HTTP and the resident API over HTTPS.
func TestR12_RegisterReimportKeepsGuardianBlock(t *testing.T) {
	e := newEnv(t)
	admin := httptest.NewServer(e.srv.AdminHandler(nil))
	defer admin.Close()
	elsa, ylva, ake := e.persona(demo.Child12y11m), e.persona(demo.GuardianBlocked), e.persona(demo.GuardianNotified)
	seeded, ok := elsa.Guardianship(ylva.ID)
	if !ok || !seeded.Blocked || seeded.BlockedBy == "" || seeded.BlockedAt.IsZero() || seeded.BlockedClinic == "" {
		t.Fatalf("demo: Ylva's block on Elsa = %+v", seeded)
	}
	a := elsa.Register.Address
	row := func(guardians ...*app.Resident) string {
		var gs []string
		for _, g := range guardians {
			gs = append(gs, g.PNR.String())
		}
		return strings.Join(registerColumns, ",") + "\n" + strings.Join([]string{elsa.PNR.String(), elsa.Register.GivenName, elsa.Register.FamilyName,
			a.Street, a.PostalCode, a.City, "nej", "nej", strings.Join(gs, ";")}, ",") + "\n"
	}
	withoutYlva, withYlva := row(ake), row(ylva, ake)
	ylvaTok := e.signIn(demo.GuardianBlocked)
	lift := func(blocked bool) {
		t.Helper()
		if err := e.c.BlockGuardian(e.ctx, e.staff(demo.StaffLocalAdmin), e.clinic(1), string(elsa.ID), string(ylva.ID), blocked); err != nil {
			t.Fatalf("lokal administratör sets blocked=%v: %v", blocked, err)
		}
	}
	// ylvaMay checks Ylva's proxy access to Elsa over the resident API:
	// reason "" means she may act.
	ylvaMay := func(when, reason string) {
		t.Helper()
		_, err := e.c.Inbox(e.ctx, ylvaTok, string(elsa.ID))
		if reason == "" {
			if err != nil {
				t.Fatalf("%s: Ylva refused: %v", when, err)
			}
			return
		}
		if ae := wantCode(t, err, "proxy_not_allowed"); len(ae.Reasons) != 1 || ae.Reasons[0].Code != reason {
			t.Fatalf("%s: reasons %+v, want %s", when, ae.Reasons, reason)
		}
	}
	stored := func() *app.Resident {
		t.Helper()
		r, err := e.store.Resident(e.ctx, elsa.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ylvaMay("seeded", string(app.ProxyBlocked))

	// 1. Ylva is left out: she is no longer a guardian, her block is held.
	if got := e.importOverAdmin(admin, withoutYlva); got != (registerAnswer{Updated: 1, BlocksKept: 1, BlocksHeld: 1}) {
		t.Errorf("import without Ylva = %+v, want 1 updated, 1 block kept, 1 held", got)
	}
	if _, still := stored().Guardianship(ylva.ID); still {
		t.Fatal("a guardian left out of the register is still a guardian")
	}
	ylvaMay("left out of the register", string(app.ProxyNotGuardian))

	// 2. Ylva is listed again: the same block is back in force.
	if got := e.importOverAdmin(admin, withYlva); got != (registerAnswer{Updated: 1, BlocksKept: 1}) {
		t.Errorf("import with Ylva again = %+v, want 1 updated, 1 block kept", got)
	}
	g, ok := stored().Guardianship(ylva.ID)
	if !ok || !g.Blocked || g.BlockedBy != seeded.BlockedBy || !g.BlockedAt.Equal(seeded.BlockedAt) || g.BlockedClinic != seeded.BlockedClinic {
		t.Fatalf("Ylva back in the register: %+v; want the block of %s by %s kept", g, seeded.BlockedAt, seeded.BlockedBy)
	}
	ylvaMay("back in the register", string(app.ProxyBlocked))
	kids, err := e.c.Children(e.ctx, ylvaTok)
	if err != nil || len(kids) != 1 || kids[0].MayAct || kids[0].Reason == nil || kids[0].Reason.Code != string(app.ProxyBlocked) {
		t.Fatalf("Ylva's children = %+v, %v; want Elsa, blocked", kids, err)
	}

	// 3. The same file again: nothing changes, the block is reported.
	if got := e.importOverAdmin(admin, withYlva); got != (registerAnswer{Unchanged: 1, BlocksKept: 1}) {
		t.Errorf("the same file again = %+v, want 1 unchanged, 1 block kept", got)
	}

	// 4. The lokal administratör lifts the block; an import does not put
	// it back.
	lift(false)
	ylvaMay("block lifted", "")
	if got := e.importOverAdmin(admin, withYlva); got != (registerAnswer{Unchanged: 1}) {
		t.Errorf("import after the lift = %+v, want 1 unchanged, no block", got)
	}
	ylvaMay("import after the lift", "")

	// 5. A block held while the guardian is out of the register can be
	// lifted too, and then does not come back with her.
	lift(true)
	if got := e.importOverAdmin(admin, withoutYlva); got != (registerAnswer{Updated: 1, BlocksKept: 1, BlocksHeld: 1}) {
		t.Errorf("import without Ylva, blocked = %+v", got)
	}
	lift(false)
	if got := e.importOverAdmin(admin, withYlva); got != (registerAnswer{Updated: 1}) {
		t.Errorf("import with Ylva after lifting the held block = %+v, want 1 updated, no block", got)
	}
	ylvaMay("held block lifted, back in the register", "")
	if r := stored(); len(r.Guardians) != 2 {
		t.Fatalf("guardians at the end = %+v", r.Guardians)
	}
}
