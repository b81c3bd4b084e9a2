package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"mottagning/app/personnummer"
)

// Limits of massutskick (bulk send). One list is one piece of staff work;
// a list longer than this is more likely a wrong file than a mailing, and
// every entry costs an access-log commit.
const (
	MaxBulkRecipients = 5000
	// MaxBulkInput is the largest pasted or loaded list, in bytes: room for
	// MaxBulkRecipients numbers with separators and stray text.
	MaxBulkInput = 256 << 10
)

// ListTooLongError is returned when a recipient list holds more entries (or
// bytes) than massutskick accepts. It matches ErrInvalid.
type ListTooLongError struct {
	// Entries is the number of entries found; 0 when the input was refused
	// by its size in bytes before it was split.
	Entries int
	Max     int
}

func (e *ListTooLongError) Error() string {
	if e.Entries == 0 {
		return fmt.Sprintf("recipient list larger than %d bytes", MaxBulkInput)
	}
	return fmt.Sprintf("recipient list has %d entries, at most %d", e.Entries, e.Max)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ListTooLongError) Is(target error) bool { return target == ErrInvalid }

// RecipientStatus is what the reachability report says about one entry of
// a recipient list.
type RecipientStatus string

// Recipient statuses. Only RecipientSendable is sent to.
const (
	RecipientSendable  RecipientStatus = "skickas"
	RecipientInvalid   RecipientStatus = "ogiltigt"  // not a personnummer; Err says why
	RecipientNotFound  RecipientStatus = "okand"     // no resident with that number
	RecipientBlocked   RecipientStatus = "blockerad" // Reach.Blocking says why
	RecipientDuplicate RecipientStatus = "dubblett"  // the same person earlier in the list; sent once
)

// RecipientCheck is one entry of a recipient list as checked before a bulk
// send. Input and Name are personal data: show them, never log them.
type RecipientCheck struct {
	// Line is the 1-based line of the pasted text the entry was on.
	Line int
	// Input is the entry as written.
	Input  string
	Status RecipientStatus
	// PNR is the parsed number; zero when Status is RecipientInvalid.
	PNR personnummer.Number
	// Err is the personnummer error (its message is Swedish and safe to
	// show) for RecipientInvalid, a wrapped ErrNotFound for
	// RecipientNotFound, otherwise nil.
	Err error
	// ResidentID, Name and Reach are set when the resident was found
	// (also on a duplicate, copied from the first entry).
	ResidentID ID
	Name       string
	Reach      Reachability
	// DuplicateOf is the line of the first entry for the same person when
	// Status is RecipientDuplicate.
	DuplicateOf int
}

// Sendable reports whether a bulk send will go to this entry.
func (c RecipientCheck) Sendable() bool { return c.Status == RecipientSendable }

// recipientEntry is one token of a recipient list.
type recipientEntry struct {
	line  int
	input string
}

// splitRecipients splits a list into entries: separated by newlines,
// commas, semicolons or any whitespace (a column pasted from a spreadsheet,
// a line of an e-mail, a CSV file). Empty entries are skipped.
func splitRecipients(text string) []recipientEntry {
	var out []recipientEntry
	for i, line := range strings.Split(text, "\n") {
		for _, tok := range strings.FieldsFunc(line, func(r rune) bool {
			return r == ',' || r == ';' || unicode.IsSpace(r)
		}) {
			out = append(out, recipientEntry{line: i + 1, input: tok})
		}
	}
	return out
}

func mayStartCases(sess Session) bool {
	return sess.Staff.Has(sess.ClinicID, RoleCaseHandler) || sess.Staff.Has(sess.ClinicID, RoleCaseReceiver)
}

// CheckRecipients is the reachability report of massutskick: one entry per
// personnummer in text (see splitRecipients), in order, with the resident
// and their reachability (R1, R5, R7, R10, deceased) when found. The same
// person twice is reported as a duplicate and sent to once. Every resident
// found is recorded once in the access log, as LookupResident does; a
// failure to record ends the check with an error and no report. Roles as
// LookupResident.
func (s *CaseService) CheckRecipients(ctx context.Context, sess Session, text string) ([]RecipientCheck, error) {
	if !mayStartCases(sess) {
		return nil, forbid("check recipients in clinic", sess.ClinicID)
	}
	if len(text) > MaxBulkInput {
		return nil, fmt.Errorf("check recipients: %w", &ListTooLongError{Max: MaxBulkRecipients})
	}
	entries := splitRecipients(text)
	if len(entries) > MaxBulkRecipients {
		return nil, fmt.Errorf("check recipients: %w", &ListTooLongError{Entries: len(entries), Max: MaxBulkRecipients})
	}
	now := s.clock.Now()
	first := map[personnummer.Number]int{} // number → index in out of its first entry
	out := make([]RecipientCheck, 0, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("check recipients: %w", err)
		}
		c := RecipientCheck{Line: e.line, Input: e.input}
		n, err := personnummer.ParseAt(e.input, now)
		if err != nil {
			c.Status, c.Err = RecipientInvalid, err
			out = append(out, c)
			continue
		}
		c.PNR = n
		if i, ok := first[n]; ok {
			f := out[i]
			c.Status, c.DuplicateOf = RecipientDuplicate, f.Line
			c.ResidentID, c.Name, c.Reach, c.Err = f.ResidentID, f.Name, f.Reach, f.Err
			out = append(out, c)
			continue
		}
		first[n] = len(out)
		r, err := s.store.ResidentByPNR(ctx, n)
		switch {
		case errors.Is(err, ErrNotFound):
			c.Status, c.Err = RecipientNotFound, fmt.Errorf("check recipients: line %d: %w", e.line, err)
			out = append(out, c)
			continue
		case err != nil:
			return nil, fmt.Errorf("check recipients: line %d: %w", e.line, err)
		}
		if err := s.record(ctx, sess, AccessLookupResident, r.ID, ""); err != nil {
			return nil, fmt.Errorf("check recipients: %w", err)
		}
		gs, err := s.guardiansOf(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("check recipients: guardians of %s: %w", r.ID, err)
		}
		c.ResidentID, c.Name, c.Reach = r.ID, r.Register.FullName(), Reach(r, gs, now)
		c.Status = RecipientSendable
		if !c.Reach.OK() {
			c.Status = RecipientBlocked
		}
		out = append(out, c)
	}
	return out, nil
}

// BulkRequest is massutskick: one template and text, many residents.
type BulkRequest struct {
	TemplateID ID
	Subject    string
	Text       string
	// ResidentIDs are the recipients, normally the sendable entries of
	// CheckRecipients. A repeated id is sent to once.
	ResidentIDs []ID
}

// BulkResult is the outcome for one recipient: skickat (Case is set) or
// inte skickat (Err says why: an *UnreachableError, ErrNotFound, …).
type BulkResult struct {
	ResidentID ID
	Case       *Case
	Err        error
}

// Sent reports whether the case was sent.
func (r BulkResult) Sent() bool { return r.Err == nil && r.Case != nil }

// SendBulk sends one case per resident through SendCase, so each recipient
// is re-checked (R1, R5, R7, R10), logged and created exactly as a single
// send. A failing recipient does not stop the others; the results are in
// request order. What is wrong for every recipient alike — roles, the text,
// the template — is refused before anything is sent. When ctx ends, the
// recipients not yet sent are reported with ctx's error, which is also
// returned.
func (s *CaseService) SendBulk(ctx context.Context, sess Session, req BulkRequest) ([]BulkResult, error) {
	if !mayStartCases(sess) {
		return nil, forbid("bulk send in clinic", sess.ClinicID)
	}
	if err := checkText(req.Subject, req.Text); err != nil {
		return nil, fmt.Errorf("bulk send: %w", err)
	}
	ids := make([]ID, 0, len(req.ResidentIDs))
	seen := make(map[ID]bool, len(req.ResidentIDs))
	for _, id := range req.ResidentIDs {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("bulk send: no recipients: %w", ErrInvalid)
	case len(ids) > MaxBulkRecipients:
		return nil, fmt.Errorf("bulk send: %w", &ListTooLongError{Entries: len(ids), Max: MaxBulkRecipients})
	}
	tpl, err := s.store.Template(ctx, req.TemplateID)
	if err != nil {
		return nil, fmt.Errorf("bulk send: template %s: %w", req.TemplateID, err)
	}
	if tpl.ClinicID != sess.ClinicID {
		return nil, forbid("bulk send with template", tpl.ID)
	}
	if tpl.Retired {
		return nil, fmt.Errorf("bulk send: template %s: %w", tpl.ID, ErrTemplateRetired)
	}
	// Only the two kinds of invånarärende start a case; another kind of
	// template (standard replies) is not a message to send.
	if tpl.Kind != KindInformation && tpl.Kind != KindQuestion {
		return nil, fmt.Errorf("bulk send: template %s of kind %s: %w", tpl.ID, tpl.Kind, ErrInvalid)
	}
	out := make([]BulkResult, len(ids))
	for i, id := range ids {
		out[i].ResidentID = id
		if err := ctx.Err(); err != nil {
			for j := i; j < len(ids); j++ {
				out[j] = BulkResult{ResidentID: ids[j], Err: err}
			}
			return out, fmt.Errorf("bulk send: stopped after %d of %d: %w", i, len(ids), err)
		}
		c, err := s.SendCase(ctx, sess, SendRequest{TemplateID: tpl.ID, ResidentID: id, Subject: req.Subject, Text: req.Text})
		out[i].Case, out[i].Err = c, err
	}
	return out, nil
}

// LogRecipientExport records, before the file is written, that staff
// export residents of a massutskick to a file: the follow-up list of the
// recipients not sent to, who must get a letter or a call. One access-log
// entry (AccessExport, no case) per resident; a failure to record refuses
// the export. Roles as CheckRecipients.
func (s *CaseService) LogRecipientExport(ctx context.Context, sess Session, residentIDs []ID) error {
	if !mayStartCases(sess) {
		return forbid("export recipients in clinic", sess.ClinicID)
	}
	if len(residentIDs) > MaxBulkRecipients {
		return fmt.Errorf("export recipients: %w", &ListTooLongError{Entries: len(residentIDs), Max: MaxBulkRecipients})
	}
	seen := make(map[ID]bool, len(residentIDs))
	for _, id := range residentIDs {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if err := s.record(ctx, sess, AccessExport, id, ""); err != nil {
			return fmt.Errorf("export recipients: %w", err)
		}
	}
	return nil
}
