package form

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is where a form version is in its life.
type Status string

// Statuses. A published version never changes; submissions keep the
// version they were made with.
const (
	StatusDraft     Status = "utkast"
	StatusPublished Status = "publicerad"
)

// Series is the versions of one e-service's form: published versions in
// order (1, 2, …) and at most one draft. Storage keeps it; the builder and
// the server change it only through these methods.
type Series struct {
	FormID    string      `json:"formId"`
	Published []Published `json:"published,omitempty"`
	Draft     *Form       `json:"draft,omitempty"`
}

// Published is one published version with its digest, so that storage
// can prove it never changed.
type Published struct {
	Form        *Form     `json:"form"`
	PublishedAt time.Time `json:"publishedAt"`
	PublishedBy string    `json:"publishedBy,omitempty"` // staff id
	Digest      string    `json:"digest"`
}

// Latest returns a copy of the newest published version, or nil.
func (s *Series) Latest() *Form {
	if len(s.Published) == 0 {
		return nil
	}
	return s.Published[len(s.Published)-1].Form.Clone()
}

// Version returns a copy of published version n.
func (s *Series) Version(n int) (*Form, error) {
	if n < 1 || n > len(s.Published) {
		return nil, fmt.Errorf("form %s version %d: not published", quoteID(s.FormID), n)
	}
	p := s.Published[n-1]
	if p.Form.Digest() != p.Digest {
		return nil, fmt.Errorf("form %s version %d: digest mismatch, the published version was changed: %w", quoteID(s.FormID), n, ErrPublished)
	}
	return p.Form.Clone(), nil
}

// StartDraft returns the draft, creating it as a copy of the latest
// published version (or an empty form) when there is none. Item ids are
// copied, so they stay stable across versions.
func (s *Series) StartDraft(title string) *Form {
	if s.Draft != nil {
		return s.Draft.Clone()
	}
	d := s.Latest()
	if d == nil {
		d = &Form{ID: s.FormID, Title: title}
	}
	d.Version = len(s.Published) + 1
	d.Status = StatusDraft
	s.Draft = d.Clone()
	return d
}

// SaveDraft replaces the draft with f. It refuses a form of another id, a
// version number other than the next one, or one marked published.
func (s *Series) SaveDraft(f *Form) error {
	want := len(s.Published) + 1
	switch {
	case f.ID != s.FormID:
		return fmt.Errorf("save draft of form %s: form id %s: %w", quoteID(s.FormID), quoteID(f.ID), ErrDefinition)
	case f.Status == StatusPublished || f.Version != want:
		return fmt.Errorf("save draft of form %s: version %d is published or not the next (%d): %w", quoteID(s.FormID), f.Version, want, ErrPublished)
	}
	c := f.Clone()
	c.Status = StatusDraft
	s.Draft = c
	return nil
}

// Publish publishes the draft: it must pass Check, and no item id may come
// back with another type than it had in an earlier version (a submission
// of the old version would be misread). On any problem nothing changes.
func (s *Series) Publish(now time.Time, by string) (*Form, error) {
	if s.Draft == nil {
		return nil, fmt.Errorf("publish form %s: no draft: %w", quoteID(s.FormID), ErrDefinition)
	}
	d := s.Draft.Clone()
	var ps []Problem
	if err := d.Check(); err != nil {
		ps = append(ps, err.(*DefinitionError).Problems...)
	}
	ps = append(ps, s.stableIDs(d)...)
	if len(ps) > 0 {
		return nil, fmt.Errorf("publish form %s version %d: %w", quoteID(s.FormID), d.Version, &DefinitionError{Problems: ps})
	}
	d.Status = StatusPublished
	d.Version = len(s.Published) + 1
	s.Published = append(s.Published, Published{Form: d, PublishedAt: now, PublishedBy: by, Digest: d.Digest()})
	s.Draft = nil
	return d.Clone(), nil
}

// stableIDs lists the items of d whose id had another type in a published
// version.
func (s *Series) stableIDs(d *Form) []Problem {
	types := map[string]Type{}
	for _, p := range s.Published {
		p.Form.Walk(func(it, _ *Item) bool {
			types[it.ID] = it.Type
			return true
		})
	}
	var ps []Problem
	d.Walk(func(it, _ *Item) bool {
		if t, ok := types[it.ID]; ok && t != it.Type && !compatible(t, it.Type) {
			ps = append(ps, Problem{ItemID: it.ID, Code: "id_reused",
				Text: fmt.Sprintf("Id %s var %s i en tidigare version och kan inte bli %s: ge %s ett nytt id.",
					quoteID(it.ID), lower(t.Label()), lower(it.Type.Label()), it.name())})
		}
		return true
	})
	return ps
}

// compatible: answers of type a read correctly as type b (text grows long,
// a single choice becomes multiple).
func compatible(a, b Type) bool {
	return a == TypeText && b == TypeLongText || a == TypeChoice && b == TypeMultiChoice
}

func lower(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// Digest is a hash of the form's content (its JSON encoding, which Go
// writes with struct fields in a fixed order), used to prove a published
// version unchanged.
func (f *Form) Digest() string {
	b, err := json.Marshal(f)
	if err != nil {
		// Only NaN/Inf in a bound or score can fail to encode.
		b = []byte(fmt.Sprintf("%#v", f))
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
