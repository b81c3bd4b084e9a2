package form

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// bigForm has 200 items: 10 pages of 20, with number questions, choices
// with scores, conditions on earlier answers and a repeating group.
func bigForm() (*Form, Answers) {
	f := &Form{ID: "big", Title: "Stort formulär"}
	a := Answers{}
	opts := []Option{{Code: "0", Score: Ptr(0.0)}, {Code: "1", Score: Ptr(1.0)}, {Code: "2", Score: Ptr(2.0)}}
	for p := 0; p < 10; p++ {
		page := Item{ID: "p" + strconv.Itoa(p), Label: "Sida", Type: TypeGroup, Page: true}
		for i := 0; i < 19; i++ {
			id := "q" + strconv.Itoa(p*20+i)
			it := Item{ID: id, Label: "Fråga " + id, Required: i%3 == 0}
			switch i % 4 {
			case 0:
				it.Type, it.Min, it.Max = TypeNumber, Ptr(0.0), Ptr(100.0)
				a[id] = []Value{NumberValue(float64(i))}
			case 1:
				it.Type, it.Options = TypeChoice, opts
				a[id] = []Value{CodeValue("2")}
			case 2:
				it.Type = TypeText
				a[id] = []Value{TextValue("svar")}
			case 3:
				it.Type = TypeBoolean
				it.EnableWhen = []Condition{{"q" + strconv.Itoa(p*20+i-3), OpGreater, NumberValue(5)}, {"q" + strconv.Itoa(p*20+i-2), OpEquals, CodeValue("2")}}
				it.EnableBehavior = Any
				a[id] = []Value{BoolValue(true)}
			}
			page.Items = append(page.Items, it)
		}
		page.Items = append(page.Items, Item{ID: "r" + strconv.Itoa(p), Label: "Rader", Type: TypeGroup, Repeats: true,
			Items: []Item{{ID: "rv" + strconv.Itoa(p), Label: "Värde", Type: TypeNumber}}})
		a["r"+strconv.Itoa(p)] = []Value{GroupValue(Answers{"rv" + strconv.Itoa(p): {NumberValue(1)}}), GroupValue(Answers{})}
		f.Items = append(f.Items, page)
	}
	return f, a
}

func BenchmarkEvaluate(b *testing.B) {
	gad, _ := mustImport(b, "testdata/fhir/public/02-gad7.json")
	ga := Answers{}
	gad.Walk(func(it, _ *Item) bool {
		if it.Type == TypeChoice {
			ga[it.ID] = []Value{CodeValue(it.Options[2].Code)}
		}
		return true
	})
	big, ba := bigForm()
	if err := big.Check(); err != nil {
		b.Fatal(err)
	}
	n := 0
	big.Walk(func(*Item, *Item) bool { n++; return true })
	if n < 200 {
		b.Fatalf("big form has %d items", n)
	}
	for _, c := range []struct {
		name string
		f    *Form
		a    Answers
	}{{"GAD-7", gad, ga}, {"200-items", big, ba}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.f.Evaluate(c.a, testNow)
			}
		})
	}
	b.Run("200-items-Accept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := big.Accept(ba, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFHIRImport takes the published questionnaires of testdata
// (GAD-7 as NLM exports it, the PHQ-9 with its contained ValueSet) through
// the import, against the raw baseline of decoding the same bytes with
// encoding/json (…Raw): what the import costs beyond reading JSON.
func BenchmarkFHIRImport(b *testing.B) {
	for _, path := range []string{"testdata/fhir/public/02-gad7.json", "testdata/fhir/written/phq9.json"} {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		b.Run(name+"Raw", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var v any
				if err := json.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := ImportQuestionnaire(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
