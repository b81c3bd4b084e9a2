package app

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// KindStandardReply is the kind of a standardsvar: a text staff insert
// when they reply in an existing case. It is a template kind only, never a
// case kind: no case is started from a standard reply, so no Case ever
// has this Kind, and CaseKind.Label does not know it (use
// TemplateKindLabel).
const KindStandardReply CaseKind = "standardsvar"

// TemplateKinds are the three kinds of template, in the order the UI shows them.
var TemplateKinds = []TemplateKind{KindInformation, KindQuestion, KindStandardReply}

// ValidTemplateKind reports whether k is one of TemplateKinds.
func ValidTemplateKind(k TemplateKind) bool {
	for _, x := range TemplateKinds {
		if k == x {
			return true
		}
	}
	return false
}

// TemplateKindLabel is the Swedish name of a template kind: Information,
// Fråga or Standardsvar.
func TemplateKindLabel(k TemplateKind) string {
	if k == KindStandardReply {
		return "Standardsvar"
	}
	return k.Label()
}

// TemplateLintError is returned by TemplateService.Save when the linter
// finds an error: nothing was written. Issues holds every finding, errors
// and warnings, for the form to show at its fields. It matches ErrInvalid.
type TemplateLintError struct {
	TemplateID ID // empty for a new template
	Issues     []LintIssue
}

// Error lists the issue codes only, never the template's text.
func (e *TemplateLintError) Error() string {
	var codes []string
	for _, i := range e.Issues {
		if i.Severity == LintError {
			codes = append(codes, i.Field+":"+i.Code)
		}
	}
	return fmt.Sprintf("save template %s: %s: %v", e.TemplateID, ErrInvalid, codes)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *TemplateLintError) Is(target error) bool { return target == ErrInvalid }

// TemplateService administers a clinic's message templates and standard
// replies. Only the clinic's lokal administratör changes them; staff who
// handle cases read them, since they start cases and write replies from
// them. Roles are enforced here, not only by hidden buttons.
//
// There is no delete: the DirectoryStore port has none, and a template that
// cases refer to (Case.TemplateID) should rather be archived, which needs a
// field on MessageTemplate that does not exist yet.
type TemplateService struct {
	store DirectoryStore
	clock Clock
}

// NewTemplateService returns a TemplateService over store, reading time
// from clock.
func NewTemplateService(store DirectoryStore, clock Clock) *TemplateService {
	return &TemplateService{store: store, clock: clock}
}

// mayRead: the lokal administratör and the staff with a case role.
func mayReadTemplates(sess Session) bool {
	st, c := sess.Staff, sess.ClinicID
	return st.Has(c, RoleLocalAdmin) || st.Has(c, RoleCaseReceiver) || st.Has(c, RoleCaseHandler)
}

// List returns the templates of the session's clinic by name; with kind
// set, only those of that kind.
func (s *TemplateService) List(ctx context.Context, sess Session, kind TemplateKind) ([]MessageTemplate, error) {
	if !mayReadTemplates(sess) {
		return nil, forbid("list templates of clinic", sess.ClinicID)
	}
	all, err := s.store.Templates(ctx, sess.ClinicID)
	if err != nil {
		return nil, fmt.Errorf("list templates of clinic %s: %w", sess.ClinicID, err)
	}
	if kind == "" {
		return all, nil
	}
	out := all[:0]
	for _, t := range all {
		if t.Kind == kind {
			out = append(out, t)
		}
	}
	return out, nil
}

// Get returns one template of the session's clinic.
func (s *TemplateService) Get(ctx context.Context, sess Session, id ID) (*MessageTemplate, error) {
	if !mayReadTemplates(sess) {
		return nil, forbid("get template", id)
	}
	t, err := s.store.Template(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get template %s: %w", id, err)
	}
	if t.ClinicID != sess.ClinicID {
		return nil, forbid("get template", id)
	}
	return t, nil
}

// Save creates (empty ID) or replaces a template of the session's clinic;
// only its lokal administratör may. t is not changed: the saved template
// is returned, with its ID, trimmed name and subject, and UpdatedAt from
// the clock, together with the linter's warnings.
//
// A template with a lint error is refused with a *TemplateLintError
// (ErrInvalid) and nothing is written, so the stored version stays as it
// was. Saving over a version other than the one the caller read (t's
// UpdatedAt differs from the stored one) is refused with ErrConflict, so
// that one administrator's edit does not silently undo another's.
// The store has no conditional put; the check narrows the window to the
// moment between read and write, which one desktop never has.
func (s *TemplateService) Save(ctx context.Context, sess Session, t *MessageTemplate) (*MessageTemplate, []LintIssue, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleLocalAdmin) {
		return nil, nil, forbid("save template in clinic", sess.ClinicID)
	}
	if t.ClinicID != "" && t.ClinicID != sess.ClinicID {
		return nil, nil, forbid("save template into clinic", t.ClinicID)
	}
	out := *t
	out.ClinicID = sess.ClinicID
	out.Name = strings.TrimSpace(out.Name)
	out.Subject = strings.TrimSpace(out.Subject)
	if !t.ID.IsZero() {
		old, err := s.store.Template(ctx, t.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("save template %s: %w", t.ID, err)
		}
		if old.ClinicID != sess.ClinicID {
			return nil, nil, forbid("save template", t.ID)
		}
		if !old.UpdatedAt.Equal(t.UpdatedAt) {
			return nil, nil, fmt.Errorf("save template %s: changed since it was read: %w", t.ID, ErrConflict)
		}
		out.Retired = old.Retired // SetRetired changes it, not an edit
	} else {
		out.Retired = false
	}
	issues := LintTemplate(&out)
	if HasLintErrors(issues) {
		return nil, nil, &TemplateLintError{TemplateID: t.ID, Issues: issues}
	}
	now := s.clock.Now()
	if out.ID.IsZero() {
		out.ID = NewID(now)
	}
	out.UpdatedAt = now
	if err := s.store.PutTemplate(ctx, &out); err != nil {
		return nil, nil, fmt.Errorf("save template %s: %w", out.ID, err)
	}
	return &out, issues, nil
}

// SetRetired takes a template of the session's clinic out of use
// (retired) or into use again; only its lokal administratör may. The
// template stays (old cases name it): a retired one is offered nowhere
// new. Like Save, it is refused with ErrConflict when the template
// changed since the caller read it (at).
func (s *TemplateService) SetRetired(ctx context.Context, sess Session, id ID, at time.Time, retired bool) (*MessageTemplate, error) {
	if !sess.Staff.Has(sess.ClinicID, RoleLocalAdmin) {
		return nil, forbid("retire template in clinic", sess.ClinicID)
	}
	old, err := s.store.Template(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("retire template %s: %w", id, err)
	}
	if old.ClinicID != sess.ClinicID {
		return nil, forbid("retire template", id)
	}
	if !old.UpdatedAt.Equal(at) {
		return nil, fmt.Errorf("retire template %s: changed since it was read: %w", id, ErrConflict)
	}
	out := *old
	out.Retired, out.UpdatedAt = retired, s.clock.Now()
	if err := s.store.PutTemplate(ctx, &out); err != nil {
		return nil, fmt.Errorf("retire template %s: %w", id, err)
	}
	return &out, nil
}
