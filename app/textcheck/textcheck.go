// Package textcheck is the one rule of which characters a text people
// type may hold, shared by package app (app.CheckLine, CheckMultiline) and
// the forms (app/form), which app imports and so cannot import app.
//
// Refused: bytes that are not UTF-8, C0 and C1 control characters (NUL
// among them) and the bidirectional embeddings, overrides and isolates
// U+202A–U+202E and U+2066–U+2069, which make a text read in another order
// than it is stored ("Trojan Source"). A text of several lines may hold
// line breaks and tabs. Other invisible format characters (a soft hyphen,
// a zero-width joiner, the marks LRM and RLM) occur in ordinary pasted text
// and change no text's order: they stay allowed.
package textcheck

import (
	"unicode"
	"unicode/utf8"
)

// Line reports whether s may be one line of text (a subject, a name).
func Line(s string) bool { return ok(s, false) }

// Multiline reports whether s may be a text of several lines.
func Multiline(s string) bool { return ok(s, true) }

func ok(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if Forbidden(r) {
			return false
		}
	}
	return true
}

// Forbidden reports whether r is refused in any text.
func Forbidden(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}
