package app

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"mottagning/app/textcheck"
)

// What people type reaches residents' inboxes, staff lists, PDFs and the
// access log. Every door (the staff tool, the staff API, a desktop's sync
// ops, the resident API) checks text with these functions, so that
// nothing stored carries a NUL byte, an invisible control character or a
// Unicode direction override that makes a text read differently from
// what it is ("Trojan Source").

// ErrTextControl: a text holds a control character, a direction override
// or bytes that are not UTF-8. It matches ErrInvalid.
var ErrTextControl = fmt.Errorf("text holds control or direction-override characters: %w", ErrInvalid)

// TextMessage is the Swedish text of ErrTextControl.
const TextMessage = "Texten innehåller osynliga styrtecken, till exempel från en kopierad text, och kan inte sparas. " +
	"Skriv om texten eller klistra in den som oformaterad text."

// CheckLine checks one line of text (a subject, a name): no control
// characters at all, no direction overrides, valid UTF-8 (textcheck).
func CheckLine(s string) error {
	if !textcheck.Line(s) {
		return ErrTextControl
	}
	return nil
}

// CheckMultiline checks a text of several lines (a message, a note, a
// template's body): line breaks and tabs are allowed, other control
// characters and direction overrides are not (textcheck).
func CheckMultiline(s string) error {
	if !textcheck.Multiline(s) {
		return ErrTextControl
	}
	return nil
}

func checkText(subject, text string) error {
	switch {
	case strings.TrimSpace(subject) == "":
		return fmt.Errorf("subject is empty: %w", ErrInvalid)
	case utf8.RuneCountInString(subject) > MaxSubjectLen:
		return fmt.Errorf("subject longer than %d characters: %w", MaxSubjectLen, ErrInvalid)
	}
	if err := CheckLine(subject); err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	return checkBody(text)
}

func checkBody(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("message text is empty: %w", ErrInvalid)
	case utf8.RuneCountInString(text) > MaxTextLen:
		return fmt.Errorf("message text longer than %d characters: %w", MaxTextLen, ErrInvalid)
	}
	if err := CheckMultiline(text); err != nil {
		return fmt.Errorf("message text: %w", err)
	}
	return nil
}
