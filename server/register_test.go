package server

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
)

var update = flag.Bool("update", false, "rewrite testdata/register/demo-region.csv from the demo data set")

const demoRegisterFile = "../testdata/register/demo-region.csv"

// demoRegisterCSV writes the demo data set's register as CSV: only people
// with Skatteverket's test personnummer (shared/DOMAIN.md: demo-built
// numbers never leave a demo database), so no child under 13 is in it.
func demoRegisterCSV(ds *demo.Dataset) []byte {
	var b bytes.Buffer
	b.WriteString("# Demoregion: folkbokföringsuppgifter ur demodatamängden (app/demo).\n")
	b.WriteString("# Endast Skatteverkets testpersonnummer; barn under 13 och samordningsnummer finns bara i demodatabasen.\n")
	w := csv.NewWriter(&b)
	_ = w.Write(registerColumns)
	byID := map[app.ID]*app.Resident{}
	for _, r := range ds.Residents {
		byID[r.ID] = r
	}
	yn := func(v bool) string {
		if v {
			return "ja"
		}
		return "nej"
	}
	for _, r := range ds.Residents {
		if r.Demo || r.PNR.IsZero() {
			continue
		}
		var gs []string
		for _, g := range r.Guardians {
			if gr := byID[g.GuardianID]; gr != nil && !gr.Demo {
				gs = append(gs, gr.PNR.String())
			}
		}
		a := r.Register.Address
		_ = w.Write([]string{r.PNR.String(), r.Register.GivenName, r.Register.FamilyName, a.Street, a.PostalCode, a.City,
			yn(r.Register.ProtectedIdentity), yn(r.Register.Deceased), strings.Join(gs, ";")})
	}
	w.Flush()
	return b.Bytes()
}

// TestR12_DemoRegisterFile: the checked-in demo register parses, holds only
// test numbers, and imports into an empty database.
func TestR12_DemoRegisterFile(t *testing.T) {
	ds := demo.Build(time.Date(2026, 1, 15, 12, 0, 0, 0, app.Stockholm))
	if *update {
		if err := os.MkdirAll(filepath.Dir(demoRegisterFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(demoRegisterFile, demoRegisterCSV(ds), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(demoRegisterFile)
	if err != nil {
		t.Fatalf("%v (run go test ./server -run DemoRegister -update)", err)
	}
	persons, err := ParseRegister(bytes.NewReader(data), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	test := map[string]bool{}
	for _, n := range demo.TestNumbers() {
		test[n.String()] = true
	}
	for _, p := range persons {
		if !test[p.PNR.String()] {
			t.Errorf("line %d: not a Skatteverket test number", p.Line)
		}
	}
	e := newEnv(t, envOpt{noDemo: true})
	res, err := e.srv.ImportRegister(e.ctx, bytes.NewReader(data))
	if err != nil || res.Created != len(persons) {
		t.Fatalf("import = %+v, %v; want %d created", res, err, len(persons))
	}
	// A person imported from the register has no account until the first
	// e-ID sign-in (R1), which then activates it.
	s, err := e.c.ResidentSignIn(e.ctx, persons[0].PNR.String(), time.Millisecond)
	if err != nil || !s.FirstSignIn {
		t.Fatalf("first sign-in = %+v, %v", s, err)
	}
}

const goodCSV = `personnummer,fornamn,efternamn,gatuadress,postnummer,postort,skyddad_identitet,avliden,vardnadshavare
%s,Anna,Alm,Storgatan 1,553 20,Jönköping,nej,nej,
%s,Bo,Alm,Storgatan 1,553 20,Jönköping,nej,nej,%s
%s,Cia,Berg,Hemlig 1,553 20,Jönköping,ja,nej,
`

// numbers returns three Skatteverket test numbers.
func numbers() [3]string {
	ns := demo.TestNumbers()
	return [3]string{ns[100].String(), ns[101].String(), ns[102].String()}
}

func TestR12_RegisterImport(t *testing.T) {
	e := newEnv(t, envOpt{noDemo: true})
	n := numbers()
	good := fmt.Sprintf(goodCSV, n[0], n[1], n[0], n[2])
	res, err := e.srv.ImportRegister(e.ctx, strings.NewReader(good))
	if err != nil || res.Created != 3 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	pn, _ := ParseRegister(strings.NewReader(good), time.Now())
	anna, err := e.store.ResidentByPNR(e.ctx, pn[0].PNR)
	if err != nil {
		t.Fatal(err)
	}
	bo, _ := e.store.ResidentByPNR(e.ctx, pn[1].PNR)
	cia, _ := e.store.ResidentByPNR(e.ctx, pn[2].PNR)
	if len(bo.Guardians) != 1 || bo.Guardians[0].GuardianID != anna.ID {
		t.Fatalf("guardians of Bo = %+v", bo.Guardians)
	}
	if !cia.Register.ProtectedIdentity || cia.Register.Address != (app.Address{}) {
		t.Fatalf("protected person kept an address: %+v", cia.Register)
	}

	// Anna signs in, changes her settings, and has a case.
	tok, err := e.c.ResidentSignIn(e.ctx, n[0], time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.UpdateSettings(e.ctx, tok.Token, client.Settings{Email: "anna@example.com", NotifyEmail: true}); err != nil {
		t.Fatal(err)
	}
	clinic := app.Clinic{ID: app.NewID(time.Now()), Name: "Test", StandardEServices: []app.ID{"std-kontakta-mottagningen"}}
	if err := e.store.PutClinic(e.ctx, &clinic); err != nil {
		t.Fatal(err)
	}
	c, err := e.c.StartCase(e.ctx, tok.Token, client.StartCaseRequest{ClinicID: string(clinic.ID), EServiceID: "std-kontakta-mottagningen", Subject: "Fråga", Text: "Hej"})
	if err != nil {
		t.Fatal(err)
	}

	// A broken row anywhere: nothing of the file is imported.
	for _, tc := range []struct {
		name, file string
		line       int
		field      string
	}{
		{"bad check digit", strings.Replace(good, "Anna,Alm", "Annika,Alm", 1) + n[0][:12] + "9,X,Y,,,,nej,nej,\n", 0, "personnummer"},
		{"empty name", strings.Replace(good, ",Bo,", ",,", 1), 3, "fornamn"},
		{"bad flag", strings.Replace(good, "ja,nej", "kanske,nej", 1), 4, "skyddad_identitet"},
		{"unknown guardian", strings.Replace(good, ",nej,nej,"+n[0], ",nej,nej,"+demo.TestNumbers()[200].String(), 1), 3, "vardnadshavare (number 1)"},
		{"duplicate person", good + n[1] + ",Bo,Alm,,,,nej,nej,\n", 5, "personnummer"},
		{"bad postal code", strings.Replace(good, "553 20,Jönköping,ja", "ABC,Jönköping,ja", 1), 4, "postnummer"},
		{"wrong header", strings.Replace(good, "fornamn", "förnamn", 1), 1, "column 2"},
		{"too few fields", good + n[2] + ",Cia\n", 5, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.srv.ImportRegister(e.ctx, strings.NewReader(tc.file))
			var re *RegisterError
			if !errors.As(err, &re) || !errors.Is(err, app.ErrInvalid) {
				t.Fatalf("import = %v, want a RegisterError", err)
			}
			if (tc.line != 0 && re.Line != tc.line) || re.Field != tc.field {
				t.Errorf("error at line %d field %q, want line %d field %q (%v)", re.Line, re.Field, tc.line, tc.field, err)
			}
			for _, num := range n {
				if strings.Contains(err.Error(), num) || strings.Contains(err.Error(), strings.ReplaceAll(num, "-", "")) {
					t.Errorf("error leaks a personnummer: %v", err)
				}
			}
			got, _ := e.store.ResidentByPNR(e.ctx, pn[0].PNR)
			if got.Register.GivenName != "Anna" {
				t.Errorf("a broken file changed a name: %q", got.Register.GivenName)
			}
		})
	}

	// Re-import: a new name and address, Bo's guardian gone; account,
	// settings and cases stay; nobody is deleted.
	again := strings.Replace(good, "Anna,Alm,Storgatan 1", "Anna,Ek,Kyrkogatan 2", 1)
	again = strings.Replace(again, ",nej,nej,"+n[0], ",nej,nej,", 1)
	res, err = e.srv.ImportRegister(e.ctx, strings.NewReader(again))
	if err != nil || res.Updated != 2 || res.Unchanged != 1 || res.Created != 0 {
		t.Fatalf("re-import = %+v, %v", res, err)
	}
	anna2, _ := e.store.ResidentByPNR(e.ctx, pn[0].PNR)
	if anna2.ID != anna.ID || anna2.Register.FamilyName != "Ek" || anna2.Register.Address.Street != "Kyrkogatan 2" ||
		!anna2.Account.Activated || anna2.Settings.Email != "anna@example.com" {
		t.Fatalf("after re-import: %+v", anna2)
	}
	inbox, err := e.c.Inbox(e.ctx, tok.Token, "")
	if err != nil || len(inbox) != 1 || inbox[0].ID != c.ID {
		t.Fatalf("cases after re-import = %+v, %v", inbox, err)
	}
	kids, err := e.c.Children(e.ctx, tok.Token)
	if err != nil || len(kids) != 0 {
		t.Fatalf("children after the guardianship ended = %+v, %v", kids, err)
	}

	// JSON form.
	js := fmt.Sprintf(`{"format":"mottagning-register/1","persons":[{"personnummer":%q,"fornamn":"Dan","efternamn":"Ek","skyddad_identitet":false,"avliden":true,"vardnadshavare":[]}]}`, demo.TestNumbers()[103].String())
	res, err = e.srv.ImportRegister(e.ctx, strings.NewReader(js))
	if err != nil || res.Created != 1 {
		t.Fatalf("JSON import = %+v, %v", res, err)
	}
	_, err = e.srv.ImportRegister(e.ctx, strings.NewReader(`{"format":"mottagning-register/1","persons":[{"personnummer":"x","fornamn":"A","efternamn":"B","extra":1}]}`))
	var re *RegisterError
	if !errors.As(err, &re) {
		t.Fatalf("unknown JSON field: %v", err)
	}
}

// FuzzParseRegister: the parser never panics, and an accepted file holds
// valid, distinct personnummer and names within limits.
func FuzzParseRegister(f *testing.F) {
	n := numbers()
	f.Add(fmt.Sprintf(goodCSV, n[0], n[1], n[0], n[2]))
	f.Add(`{"format":"mottagning-register/1","persons":[]}`)
	f.Add("personnummer\n\"unterminated")
	f.Add("\xef\xbb\xbf" + strings.Join(registerColumns, ",") + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseRegister(strings.NewReader(s), time.Now())
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range ps {
			if p.PNR.IsZero() || seen[p.PNR.String()] || p.Register.GivenName == "" {
				t.Fatalf("accepted a bad person: %+v", p)
			}
			seen[p.PNR.String()] = true
		}
	})
}
