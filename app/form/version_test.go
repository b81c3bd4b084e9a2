package form

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func v1() *Form {
	return &Form{ID: "recept", Title: "Förnya recept", Items: []Item{
		{ID: "med", Label: "Läkemedel", Type: TypeText, Required: true},
		{ID: "how", Label: "Hur vill du hämta ut?", Type: TypeChoice, Options: []Option{
			{Code: "apotek", Label: "Apotek"}, {Code: "post", Label: "Post"}, {Code: "ombud", Label: "Ombud"}}},
		{ID: "addr", Label: "Adress", Type: TypeText, EnableWhen: []Condition{{"how", OpEquals, CodeValue("post")}}},
		{ID: "dose", Label: "Dos", Type: TypeNumber},
		{ID: "note", Label: "Övrigt", Type: TypeLongText},
	}}
}

// TestVersions_DraftPublishImmutable: a draft is published as version 1,
// the next draft starts as a copy with the same item ids, a published
// version never changes, and nothing is published from a broken draft.
func TestVersions_DraftPublishImmutable(t *testing.T) {
	s := &Series{FormID: "recept"}
	d := s.StartDraft("Förnya recept")
	if d.Version != 1 || d.Status != StatusDraft {
		t.Fatalf("draft %d %s", d.Version, d.Status)
	}
	if err := s.SaveDraft(v1()); !errors.Is(err, ErrPublished) {
		t.Errorf("a form with version 0 is not the next draft: %v", err)
	}
	f := v1()
	f.Version = 1
	if err := s.SaveDraft(f); err != nil {
		t.Fatal(err)
	}
	f.Items[0].Label = "ändrat efter sparning"
	p, err := s.Publish(testNow, "staff1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != StatusPublished || p.Version != 1 || p.Items[0].Label != "Läkemedel" {
		t.Errorf("published %+v", p)
	}
	p.Items[0].Label = "ändrat i kopian"
	got, err := s.Version(1)
	if err != nil || got.Items[0].Label != "Läkemedel" {
		t.Errorf("published version changed through a copy: %v %v", got.Items[0].Label, err)
	}
	// Changing the stored version in place is detected.
	s.Published[0].Form.Title = "manipulerad"
	if _, err := s.Version(1); !errors.Is(err, ErrPublished) {
		t.Errorf("digest should catch a change: %v", err)
	}
	s.Published[0].Form.Title = "Förnya recept"

	d2 := s.StartDraft("")
	if d2.Version != 2 || d2.Items[0].ID != "med" {
		t.Errorf("second draft %d %v", d2.Version, d2.Items[0].ID)
	}
	// A broken draft is not published and nothing changes.
	d2.Items = append(d2.Items, Item{ID: "x", Label: "Trasig", Type: TypeText, EnableWhen: []Condition{{"saknas", OpExists, BoolValue(true)}}})
	if err := s.SaveDraft(d2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(testNow, "staff1"); !errors.Is(err, ErrDefinition) || len(s.Published) != 1 {
		t.Errorf("broken draft: %v, %d published", err, len(s.Published))
	}
}

// TestVersions_ItemIDsStable: an id may not come back with another type
// in a later version (old submissions would be misread).
func TestVersions_ItemIDsStable(t *testing.T) {
	s := &Series{FormID: "recept"}
	f := v1()
	f.Version = 1
	if err := s.SaveDraft(f); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(testNow, "s"); err != nil {
		t.Fatal(err)
	}
	d := s.StartDraft("")
	d.Items[3] = Item{ID: "dose", Label: "Dosering", Type: TypeDate}
	d.Items[4].Type = TypeText // long text → text is not compatible either
	d.Items[0].Type = TypeLongText
	_ = s.SaveDraft(d)
	_, err := s.Publish(testNow, "s")
	var de *DefinitionError
	if !errors.As(err, &de) {
		t.Fatalf("got %v", err)
	}
	var ids []string
	for _, p := range de.Problems {
		ids = append(ids, p.ItemID+":"+p.Code)
		if !strings.Contains(p.Text, "nytt id") {
			t.Errorf("text %q", p.Text)
		}
	}
	if d := cmp.Diff([]string{"dose:id_reused", "note:id_reused"}, ids); d != "" {
		t.Error(d)
	}
}

// TestDiff_ItemsChoicesLogic lists added, removed, renamed and moved
// items, changed choices and logic.
func TestDiff_ItemsChoicesLogic(t *testing.T) {
	old := v1()
	n := old.Clone()
	n.Items[0].Label = "Läkemedlets namn"       // renamed
	n.Items[1].Options = n.Items[1].Options[:2] // "ombud" removed
	n.Items[1].Options[0].Label = "Apoteket"    // option renamed
	n.Items[1].Options = append(n.Items[1].Options, Option{Code: "hem", Label: "Hemleverans"})
	n.Items[2].EnableWhen[0].Value = CodeValue("hem")                                                                                               // logic
	n.Items[3].Max = Ptr(10.0)                                                                                                                      // validation
	n.Items = append(n.Items[:4], Item{ID: "grp", Label: "Mer", Type: TypeGroup, Items: []Item{{ID: "note", Label: "Övrigt", Type: TypeLongText}}}, // moved
		Item{ID: "phone", Label: "Telefon", Type: TypePhone, Required: true}) // added
	d := Compare(old, n)
	var got []string
	for _, c := range d.Changes {
		got = append(got, string(c.Kind)+" "+c.ItemID+" "+c.Option)
	}
	want := []string{
		"renamed med ",
		"option_renamed how apotek",
		"option_added how hem",
		"option_removed how ombud",
		"logic addr ",
		"validation dose ",
		"added grp ",
		"moved note ",
		"added phone ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s\n%v", diff, d.Changes)
	}
	if c := d.Of(ChangeRenamed)[0]; c.Text != "”Läkemedel” byter namn till ”Läkemedlets namn”." {
		t.Errorf("text %q", c.Text)
	}
	if !Compare(old, old.Clone()).Empty() {
		t.Error("a copy differs")
	}
}

// Issue 18, item 8: every changed rule says old → new.
func TestDiff_RulesOldToNew(t *testing.T) {
	old := v1()
	old.Items[3].Max = Ptr(365.0)
	old.Items[0].Help = "Som det står på förpackningen"
	n := old.Clone()
	n.Items[3].Max = Ptr(180.0)
	n.Items[3].Min = Ptr(0.0)
	n.Items[3].Decimals = Ptr(0)
	n.Items[0].MaxLength = 80
	n.Items[0].Help = ""
	n.Items[2].EnableWhen = append(n.Items[2].EnableWhen, Condition{"dose", OpGreater, NumberValue(2)})
	n.Items[2].EnableBehavior = Any
	n.Items[4].Initial = []Value{TextValue("Inget")}
	var got []string
	for _, c := range Compare(old, n).Changes {
		got = append(got, c.Text)
	}
	want := []string{
		"Högsta antal tecken i ”Läkemedel” ändras från 500 (standard) till 80.",
		"Hjälptexten för ”Läkemedel” ändras från ”Som det står på förpackningen” till ingen.",
		"Villkoren för när ”Adress” visas ändras från att ”Hur vill du hämta ut?” är lika med ”Post” till att ”Hur vill du hämta ut?” är lika med ”Post” eller ”Dos” är större än 2.",
		"Lägsta tillåtna värde i ”Dos” ändras från inget till 0.",
		"Högsta tillåtna värde i ”Dos” ändras från 365 till 180.",
		"Antal decimaler i ”Dos” ändras från valfritt till 0.",
		"Startvärdet för ”Övrigt” ändras från inget till ”Inget”.",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// TestImpact_InProgressSubmissions: which answers of submissions in
// progress would be dropped or become invalid under the new version.
func TestImpact_InProgressSubmissions(t *testing.T) {
	old := v1()
	n := old.Clone()
	n.Items = n.Items[:4]                                // "note" removed
	n.Items[1].Options = n.Items[1].Options[:2]          // "ombud" removed
	n.Items[2].EnableWhen[0].Value = CodeValue("apotek") // addr now hidden for post
	n.Items[3].Max = Ptr(10.0)                           // dose 20 now invalid
	n.Items = append(n.Items, Item{ID: "phone", Label: "Telefon", Type: TypePhone, Required: true})
	in := map[string]Answers{
		"s1": {"med": {TextValue("Alvedon")}, "how": {CodeValue("post")}, "addr": {TextValue("Storgatan 1")}, "note": {TextValue("hej")}, "dose": {NumberValue(20)}},
		"s2": {"med": {TextValue("Ipren")}, "how": {CodeValue("ombud")}},
	}
	r := Impact(old, n, in, testNow)
	if r.Submissions != 2 || len(r.Affected) != 2 {
		t.Fatalf("%+v", r)
	}
	var s1, s2 []string
	for _, x := range r.Affected[0].Dropped {
		s1 = append(s1, "dropped "+x.ItemID+" "+x.Code)
	}
	for _, x := range r.Affected[0].Invalid {
		s1 = append(s1, "invalid "+x.ItemID+" "+x.Code)
	}
	for _, x := range r.Affected[1].Invalid {
		s2 = append(s2, "invalid "+x.ItemID+" "+x.Code)
	}
	if d := cmp.Diff([]string{"dropped addr hidden", "dropped note removed", "invalid dose max", "invalid phone required"}, s1); d != "" {
		t.Errorf("s1:\n%s", d)
	}
	if d := cmp.Diff([]string{"invalid how option", "invalid phone required"}, s2); d != "" {
		t.Errorf("s2:\n%s", d)
	}
	if !strings.Contains(r.Affected[0].Dropped[1].Text, "”Övrigt”") {
		t.Errorf("text %q", r.Affected[0].Dropped[1].Text)
	}
}
