package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

// TestProcessRegisterImportReportsKeptBlocks: import-register, through the
// running server's admin socket and straight into the stopped server's
// database, reports the guardian blocks the import kept — also the block
// of a guardian the file leaves out, which is held and is back in force
// when a later file lists the guardian again.
func TestProcessRegisterImportReportsKeptBlocks(t *testing.T) {
	data := t.TempDir()
	ds := demo.Build(time.Now())
	byKey := func(key string) *app.Resident {
		for _, r := range ds.Residents {
			if r.ID == ds.Persona[key] {
				return r
			}
		}
		t.Fatalf("no persona %s", key)
		return nil
	}
	elsa, ylva, ake := byKey(demo.Child12y11m), byKey(demo.GuardianBlocked), byKey(demo.GuardianNotified)
	file := func(name string, guardians ...*app.Resident) string {
		var gs []string
		for _, g := range guardians {
			gs = append(gs, g.PNR.String())
		}
		a := elsa.Register.Address
		csv := "personnummer,fornamn,efternamn,gatuadress,postnummer,postort,skyddad_identitet,avliden,vardnadshavare\n" +
			strings.Join([]string{elsa.PNR.String(), elsa.Register.GivenName, elsa.Register.FamilyName, a.Street, a.PostalCode, a.City,
				"nej", "nej", strings.Join(gs, ";")}, ",") + "\n"
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	without, with := file("utan.csv", ake), file("med.csv", ylva, ake)
	importing := func(path, want string) {
		t.Helper()
		out, err := cli(t, "import-register", "--data", data, path)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("import-register %s: %v\n%s\nwant %q", filepath.Base(path), err, out, want)
		}
		for _, secret := range []string{elsa.PNR.String(), ylva.PNR.String(), elsa.Register.GivenName} {
			if strings.Contains(out, secret) {
				t.Fatalf("the output names a person: %s", out)
			}
		}
	}

	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--demo")
	importing(without, "0 new, 1 updated, 0 unchanged; guardian blocks kept: 1 (1 of them for guardians the file no longer lists)")
	importing(with, "0 new, 1 updated, 0 unchanged; guardian blocks kept: 1 (0 of them for guardians the file no longer lists)")
	sess, err := p.c.ResidentSignIn(t.Context(), ylva.PNR.String(), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := p.c.Children(t.Context(), sess.Token)
	if err != nil || len(kids) != 1 || kids[0].MayAct || kids[0].Reason == nil || kids[0].Reason.Code != string(app.ProxyBlocked) {
		t.Fatalf("the blocked guardian's children after the imports = %+v, %v; want the child, blocked", kids, err)
	}
	p.stop(t)

	// The same through the database itself, with the server stopped.
	importing(without, "0 new, 1 updated, 0 unchanged; guardian blocks kept: 1 (1 of them for guardians the file no longer lists)")
	importing(with, "0 new, 1 updated, 0 unchanged; guardian blocks kept: 1 (0 of them for guardians the file no longer lists)")
}
