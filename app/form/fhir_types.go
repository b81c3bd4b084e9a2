package form

import "encoding/json"

// FHIR R4 JSON shapes, only the elements this package reads or writes.
// Anything else in a file is found by importer.keys and reported as
// Unsupported, so the structs need not list it. The import reads contained
// ValueSets from the generic JSON (importer.contained); fValueSet is what
// the export writes.

type fQuestionnaire struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Contained    []json.RawMessage `json:"contained,omitempty"`
	Extension    []fExtension      `json:"extension,omitempty"`
	URL          string            `json:"url,omitempty"`
	Version      string            `json:"version,omitempty"`
	Name         string            `json:"name,omitempty"`
	Title        string            `json:"title,omitempty"`
	Status       string            `json:"status"`
	Description  string            `json:"description,omitempty"`
	Code         []fCoding         `json:"code,omitempty"`
	Item         []fItem           `json:"item,omitempty"`
}

type fItem struct {
	Extension      []fExtension  `json:"extension,omitempty"`
	LinkID         string        `json:"linkId"`
	Prefix         string        `json:"prefix,omitempty"`
	Text           string        `json:"text,omitempty"`
	Code           []fCoding     `json:"code,omitempty"`
	Type           string        `json:"type"`
	EnableWhen     []fEnableWhen `json:"enableWhen,omitempty"`
	EnableBehavior string        `json:"enableBehavior,omitempty"`
	Required       bool          `json:"required,omitempty"`
	Repeats        bool          `json:"repeats,omitempty"`
	ReadOnly       bool          `json:"readOnly,omitempty"`
	MaxLength      *int          `json:"maxLength,omitempty"`
	AnswerValueSet string        `json:"answerValueSet,omitempty"`
	AnswerOption   []fOption     `json:"answerOption,omitempty"`
	Initial        []fValue      `json:"initial,omitempty"`
	Item           []fItem       `json:"item,omitempty"`
}

type fCoding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// fValue is value[x] as used by answerOption, initial and
// QuestionnaireResponse answers.
type fValue struct {
	ValueBoolean    *bool        `json:"valueBoolean,omitempty"`
	ValueDecimal    *json.Number `json:"valueDecimal,omitempty"`
	ValueInteger    *json.Number `json:"valueInteger,omitempty"`
	ValueDate       *string      `json:"valueDate,omitempty"`
	ValueDateTime   *string      `json:"valueDateTime,omitempty"`
	ValueTime       *string      `json:"valueTime,omitempty"`
	ValueString     *string      `json:"valueString,omitempty"`
	ValueURI        *string      `json:"valueUri,omitempty"`
	ValueCoding     *fCoding     `json:"valueCoding,omitempty"`
	ValueAttachment *fAttachment `json:"valueAttachment,omitempty"`
}

type fOption struct {
	Extension []fExtension `json:"extension,omitempty"`
	fValue
	InitialSelected bool `json:"initialSelected,omitempty"`
}

type fEnableWhen struct {
	Question       string       `json:"question"`
	Operator       string       `json:"operator"`
	AnswerBoolean  *bool        `json:"answerBoolean,omitempty"`
	AnswerDecimal  *json.Number `json:"answerDecimal,omitempty"`
	AnswerInteger  *json.Number `json:"answerInteger,omitempty"`
	AnswerDate     *string      `json:"answerDate,omitempty"`
	AnswerDateTime *string      `json:"answerDateTime,omitempty"`
	AnswerTime     *string      `json:"answerTime,omitempty"`
	AnswerString   *string      `json:"answerString,omitempty"`
	AnswerCoding   *fCoding     `json:"answerCoding,omitempty"`
}

type fExtension struct {
	URL                  string       `json:"url"`
	ValueString          *string      `json:"valueString,omitempty"`
	ValueCode            *string      `json:"valueCode,omitempty"`
	ValueDecimal         *json.Number `json:"valueDecimal,omitempty"`
	ValueInteger         *json.Number `json:"valueInteger,omitempty"`
	ValueCoding          *fCoding     `json:"valueCoding,omitempty"`
	ValueCodeableConcept *fConcept    `json:"valueCodeableConcept,omitempty"`
	ValueExpression      *fExpression `json:"valueExpression,omitempty"`
	Extension            []fExtension `json:"extension,omitempty"`
}

type fConcept struct {
	Coding []fCoding `json:"coding,omitempty"`
	Text   string    `json:"text,omitempty"`
}

type fExpression struct {
	Description string `json:"description,omitempty"`
	Name        string `json:"name,omitempty"`
	Language    string `json:"language"`
	Expression  string `json:"expression,omitempty"`
}

type fAttachment struct {
	ContentType string       `json:"contentType,omitempty"`
	URL         string       `json:"url,omitempty"`
	Size        *json.Number `json:"size,omitempty"`
	Title       string       `json:"title,omitempty"`
}

type fValueSet struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Status       string `json:"status"`
	Compose      *struct {
		Include []fInclude `json:"include"`
	} `json:"compose,omitempty"`
	Expansion *struct {
		Contains []fCoding `json:"contains"`
	} `json:"expansion,omitempty"`
}

type fInclude struct {
	System   string          `json:"system,omitempty"`
	Concept  []fVSConcept    `json:"concept,omitempty"`
	Filter   json.RawMessage `json:"filter,omitempty"`
	ValueSet json.RawMessage `json:"valueSet,omitempty"`
}

// fVSConcept is a code of a ValueSet's compose; its extension carries
// the option's score (ordinalValue).
type fVSConcept struct {
	Extension []fExtension `json:"extension,omitempty"`
	Code      string       `json:"code"`
	Display   string       `json:"display,omitempty"`
}

type fResponse struct {
	ResourceType  string   `json:"resourceType"`
	ID            string   `json:"id,omitempty"`
	Questionnaire string   `json:"questionnaire,omitempty"`
	Status        string   `json:"status"`
	Item          []fRItem `json:"item,omitempty"`
}

type fRItem struct {
	LinkID string     `json:"linkId"`
	Text   string     `json:"text,omitempty"`
	Answer []fRAnswer `json:"answer,omitempty"`
	Item   []fRItem   `json:"item,omitempty"`
}

type fRAnswer struct {
	fValue
	Item []fRItem `json:"item,omitempty"`
}

// Extension URLs this package understands.
const (
	extItemControl  = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
	extUnit         = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
	extMinValue     = "http://hl7.org/fhir/StructureDefinition/minValue"
	extMaxValue     = "http://hl7.org/fhir/StructureDefinition/maxValue"
	extMaxDecimals  = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces"
	extOrdinalValue = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
	extItemWeight   = "http://hl7.org/fhir/StructureDefinition/itemWeight"
	extOptionPrefix = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionPrefix"
	extCalculated   = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
	itemControlSys  = "http://hl7.org/fhir/questionnaire-item-control"
	// ExtItemFormat marks a FHIR string item as a personnummer, phone or
	// e-mail item of this package (valueCode "personnummer", "phone",
	// "email"); other readers see an ordinary string question.
	ExtItemFormat = "urn:mottagning:fhir:item-format"
	// scoreExpression is what the export writes as the calculatedExpression
	// of the score item, and the only expression the import evaluates: the
	// sum of the ordinal values of the chosen options (SDC FHIRPath).
	scoreExpression  = "%resource.repeat(item).answer.value.ordinal().sum()"
	scoreExpression2 = "%resource.repeat(item).answer.value.weight().sum()"
	// attachmentURL prefixes the id of an attachment answer in a
	// QuestionnaireResponse.
	attachmentURL = "urn:mottagning:attachment:"
)
