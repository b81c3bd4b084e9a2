package form

import (
	"errors"
	"strings"
)

// Sentinel errors of the package. app maps them to its own kinds (see the
// report of issue 7: ErrDefinition, ErrAnswers, ErrHiddenAnswer → invalid;
// ErrPublished → conflict).
var (
	// ErrDefinition: the form itself is broken (duplicate id, missing
	// reference, cycle in the logic…). Returned as *DefinitionError.
	ErrDefinition = errors.New("form definition invalid")
	// ErrAnswers: the answers break validation. Returned as *AnswersError.
	ErrAnswers = errors.New("answers invalid")
	// ErrHiddenAnswer: a submission answers an item the resident cannot
	// see (hidden by logic), cannot answer (information text, read-only)
	// or that is not in the form. Returned inside *AnswersError.
	ErrHiddenAnswer = errors.New("answer to an item that is hidden or not in the form")
	// ErrPublished: a published version never changes.
	ErrPublished = errors.New("form version already published")
	// ErrFHIR: a FHIR file that cannot be read at all.
	ErrFHIR = errors.New("invalid FHIR resource")
)

// Problem is one definition error, naming the item.
type Problem struct {
	ItemID string `json:"itemId"`
	Code   string `json:"code"` // stable: duplicate_id, missing_reference, cycle, …
	Text   string `json:"text"` // Swedish, for the builder
}

// DefinitionError lists every problem Check found, so the builder can
// show them all at once.
type DefinitionError struct{ Problems []Problem }

func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString("form definition: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Code + " at item " + quoteID(p.ItemID))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrDefinition) hold.
func (e *DefinitionError) Is(target error) bool { return target == ErrDefinition }

// FieldError is one refused answer. Text is the Swedish sentence the
// resident reads next to the field; it names the field by its label and
// never repeats the value (personal data).
type FieldError struct {
	// Path locates the answer: the item id, prefixed by repeating group
	// instances as "group[0]/" (0-based).
	Path   string `json:"path"`
	ItemID string `json:"itemId"`
	Code   string `json:"code"` // stable: required, too_long, min, hidden…
	Text   string `json:"text"`
}

func (e FieldError) Error() string { return "item " + quoteID(e.Path) + ": " + e.Code }

// AnswersError is the refusal of a set of answers, with every field's
// error.
type AnswersError struct{ Fields []FieldError }

func (e *AnswersError) Error() string {
	var b strings.Builder
	b.WriteString("answers refused: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == 10 {
			b.WriteString("…")
			break
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrAnswers) hold, and ErrHiddenAnswer when some
// field was refused for being hidden or unknown.
func (e *AnswersError) Is(target error) bool {
	if target == ErrAnswers {
		return true
	}
	if target == ErrHiddenAnswer {
		for _, f := range e.Fields {
			if f.Code == CodeHidden || f.Code == CodeUnknown || f.Code == CodeNotAnswerable {
				return true
			}
		}
	}
	return false
}

// Field error codes.
const (
	CodeRequired      = "required"
	CodeTooLong       = "too_long"
	CodeMin           = "min"
	CodeMax           = "max"
	CodeDecimals      = "decimals"
	CodeNumber        = "number"
	CodeDate          = "date"
	CodeDateTime      = "datetime"
	CodeTime          = "time"
	CodeOption        = "option"
	CodeSingle        = "single"
	CodeTooMany       = "too_many"
	CodeDuplicate     = "duplicate"
	CodePersonnummer  = "personnummer"
	CodePhone         = "phone"
	CodeEmail         = "email"
	CodeAttachment    = "attachment"
	CodeText          = "text"
	CodeHidden        = "hidden"
	CodeUnknown       = "unknown"
	CodeNotAnswerable = "not_answerable"
)

// quoteID keeps ids printable in error strings (ids come from imported
// files and may hold anything).
func quoteID(id string) string {
	if len(id) > 200 {
		id = truncate(id, 200)
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, id) + "\""
}
