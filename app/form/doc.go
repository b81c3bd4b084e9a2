// Package form is the e-service form engine (issue 7): the definition of
// an e-tjänst's questions (items, choices, logic, validation, pages,
// repeating groups, rating-scale scores), its evaluation against a
// resident's answers, the e-service definition around the form
// (availability, receiving queue, automatic reply), draft/published
// versions with a diff and an impact report, and FHIR R4 Questionnaire /
// QuestionnaireResponse import and export.
//
// One engine serves the desktop builder, the citizen preview and the
// server that validates submissions, so a rule is decided in one place.
//
// The package is pure: no storage, no network, no UI, and it does not
// import package app, so that app (EService, the submission service) can
// depend on it without an import cycle. Where a rule needs "today" (the
// century of a 10-digit personnummer, a named resident's end date) the
// caller passes the time.
//
// The FHIR import takes published questionnaires as they are
// (ImportQuestionnaire, fhir_lenient.go): options from contained ValueSets,
// a name for a missing title, and a value of the wrong JSON type or an
// element the form cannot represent costs only that element or item, with
// a warning (Unsupported) naming its linkId; only a file that is not a
// readable Questionnaire, or whose items contradict each other, is
// refused.
//
// Answers are personal data: no error string or log line made here ever
// contains an answer; messages name the field (its label), never its value.
package form
