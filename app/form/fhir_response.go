package form

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// ExportResponse writes answers to the form as a FHIR R4
// QuestionnaireResponse (status completed), nested as the form is: a
// group's answers inside the group, one group entry per instance of a
// repeating group, a question's child items inside its answer. Only the
// answers of visible questions are written, so an answer to a hidden item
// never leaves the system even when the caller passes answers that were
// not cleaned; pass the answers Accept returned.
func ExportResponse(f *Form, a Answers) ([]byte, error) {
	e := newEvaluator(f, time.Time{})
	e.run(a, false)
	r := fResponse{ResourceType: "QuestionnaireResponse", Status: "completed", Questionnaire: canonical(f)}
	r.Item = e.responseItems(f.Items, &scope{ans: a}, "")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("export response to form %s: %w", quoteID(f.ID), err)
	}
	return b.Bytes(), nil
}

func canonical(f *Form) string {
	c := f.URL
	if c == "" {
		c = "Questionnaire/" + f.ID
	}
	if f.Version > 0 {
		c += "|" + strconv.Itoa(f.Version)
	}
	return c
}

func (e *evaluator) responseItems(items []Item, sc *scope, prefix string) []fRItem {
	var out []fRItem
	for i := range items {
		it := &items[i]
		path := prefix + it.ID
		if !e.st.Visible[path] {
			continue
		}
		switch {
		case it.Type == TypeGroup && it.Repeats:
			for k, inst := range sc.ans[it.ID] {
				if k >= MaxValues {
					break
				}
				child := &scope{ans: inst.Group, parent: sc, group: it}
				if kids := e.responseItems(it.Items, child, path+"["+strconv.Itoa(k)+"]/"); len(kids) > 0 {
					out = append(out, fRItem{LinkID: it.ID, Text: it.Label, Item: kids})
				}
			}
		case it.Type == TypeGroup:
			if kids := e.responseItems(it.Items, sc, prefix); len(kids) > 0 {
				out = append(out, fRItem{LinkID: it.ID, Text: it.Label, Item: kids})
			}
		case it.Type == TypeDisplay:
		default:
			vals := presentValues(it, sc.ans[it.ID])
			if it.ID == e.f.ScoreItem && e.st.Scored > 0 {
				vals = []Value{NumberValue(e.st.Score)}
			}
			kids := e.responseItems(it.Items, sc, prefix)
			if len(vals) == 0 {
				// FHIR nests a question's children in its answer; with no
				// answer they have nowhere to go, so they stand beside it.
				out = append(out, kids...)
				continue
			}
			ri := fRItem{LinkID: it.ID, Text: it.Label}
			for _, v := range vals {
				ri.Answer = append(ri.Answer, fRAnswer{fValue: valueTo(it, v)})
			}
			ri.Answer[0].Item = kids
			out = append(out, ri)
		}
	}
	return out
}

// ImportResponse reads a FHIR R4 QuestionnaireResponse for the form into
// Answers. Items must be where the form has them; an unknown linkId or an
// answer whose type does not fit the question is an error wrapping
// ErrFHIR. The result is not validated: pass it to Accept.
func ImportResponse(f *Form, data []byte) (Answers, error) {
	if len(data) > MaxFHIRSize {
		return nil, fmt.Errorf("import response: file larger than %d bytes: %w", MaxFHIRSize, ErrFHIR)
	}
	var r fResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("import response: %v: %w", err, ErrFHIR)
	}
	if r.ResourceType != "QuestionnaireResponse" {
		return nil, fmt.Errorf("import response: resourceType is %s: %w", quoteID(r.ResourceType), ErrFHIR)
	}
	a := Answers{}
	if err := responseInto(a, f.Items, r.Item, 1); err != nil {
		return nil, fmt.Errorf("import response to form %s: %w", quoteID(f.ID), err)
	}
	return a, nil
}

func responseInto(a Answers, items []Item, ris []fRItem, level int) error {
	if level > maxDepth {
		return fmt.Errorf("items nested too deep: %w", ErrFHIR)
	}
	for _, ri := range ris {
		var it *Item
		for i := range items {
			if items[i].ID == ri.LinkID {
				it = &items[i]
				break
			}
		}
		if it == nil {
			return fmt.Errorf("item %s is not in the form at this place: %w", quoteID(ri.LinkID), ErrFHIR)
		}
		switch {
		case it.Type == TypeGroup && it.Repeats:
			if len(ri.Answer) > 0 {
				return fmt.Errorf("group %s has answers: %w", quoteID(it.ID), ErrFHIR)
			}
			inst := Answers{}
			if err := responseInto(inst, it.Items, ri.Item, level+1); err != nil {
				return err
			}
			a[it.ID] = append(a[it.ID], GroupValue(inst))
		case it.Type == TypeGroup || it.Type == TypeDisplay:
			if len(ri.Answer) > 0 {
				return fmt.Errorf("item %s cannot have answers: %w", quoteID(it.ID), ErrFHIR)
			}
			if err := responseInto(a, it.Items, ri.Item, level+1); err != nil {
				return err
			}
		default:
			for _, ans := range ri.Answer {
				v, ok := valueFrom(it, ans.fValue)
				if !ok {
					return fmt.Errorf("item %s: the answer's type does not fit a %s question: %w", quoteID(it.ID), it.Type, ErrFHIR)
				}
				a[it.ID] = append(a[it.ID], v)
				if err := responseInto(a, it.Items, ans.Item, level+1); err != nil {
					return err
				}
			}
			if err := responseInto(a, it.Items, ri.Item, level+1); err != nil {
				return err
			}
		}
	}
	return nil
}
