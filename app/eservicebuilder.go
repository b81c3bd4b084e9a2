package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"mottagning/app/form"
)

// FormStore keeps the versions of each e-service's form (form.Series,
// keyed by the e-service id). A store refuses to change a published
// version (its digest).
type FormStore interface {
	FormSeries(ctx context.Context, formID ID) (*form.Series, error)
	PutFormSeries(ctx context.Context, s *form.Series) error
}

// EServiceBuilder is the lokal administratör's e-service builder (R15,
// issue 7): local e-services and their definitions, form drafts, the diff
// before publishing, and publishing. Anyone with a role in the clinic may
// read (the citizen preview is for everyone); only the lokal administratör
// changes anything.
type EServiceBuilder struct {
	store Store
	forms FormStore
	clock Clock
}

// NewEServiceBuilder returns the builder over store and forms.
func NewEServiceBuilder(store Store, forms FormStore, clock Clock) *EServiceBuilder {
	return &EServiceBuilder{store: store, forms: formsWithStandard{forms}, clock: clock}
}

// EServiceDraft is an e-service with its form versions, as the builder
// shows it.
type EServiceDraft struct {
	EService EService
	Series   form.Series
}

func (b *EServiceBuilder) mayRead(sess Session) bool { return sess.Staff.InClinic(sess.ClinicID) }

func (b *EServiceBuilder) mayEdit(sess Session) bool {
	return sess.Staff.Has(sess.ClinicID, RoleLocalAdmin)
}

// List returns the clinic's local e-services and its activated standard
// ones, each with its form versions.
func (b *EServiceBuilder) List(ctx context.Context, sess Session) ([]EServiceDraft, error) {
	if !b.mayRead(sess) {
		return nil, forbid("list e-services of clinic", sess.ClinicID)
	}
	offered, err := NewEServiceService(b.store, b.clock).Offered(ctx, sess.ClinicID)
	if err != nil {
		return nil, err
	}
	out := make([]EServiceDraft, 0, len(offered))
	for _, e := range offered {
		s, err := b.series(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, EServiceDraft{EService: e, Series: *s})
	}
	return out, nil
}

func (b *EServiceBuilder) series(ctx context.Context, id ID) (*form.Series, error) {
	s, err := b.forms.FormSeries(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return &form.Series{FormID: string(id)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("form of e-service %s: %w", id, err)
	}
	return s, nil
}

// owned returns the clinic's local e-service id, refusing a standard one
// (national: its form is not the clinic's to change) and another clinic's.
func (b *EServiceBuilder) owned(ctx context.Context, sess Session, id ID) (*EService, error) {
	local, err := b.store.EServices(ctx, sess.ClinicID)
	if err != nil {
		return nil, fmt.Errorf("e-service %s: %w", id, err)
	}
	for i := range local {
		if local[i].ID == id {
			return &local[i], nil
		}
	}
	return nil, forbid("change e-service", id)
}

// Create makes a new local e-service with an empty draft form.
func (b *EServiceBuilder) Create(ctx context.Context, sess Session, name string) (*EServiceDraft, error) {
	if !b.mayEdit(sess) {
		return nil, forbid("create e-service in clinic", sess.ClinicID)
	}
	e, err := NewEServiceService(b.store, b.clock).CreateLocal(ctx, sess, name, "")
	if err != nil {
		return nil, err
	}
	e.Definition = &form.Definition{Name: e.Name}
	if err := b.store.PutEService(ctx, e); err != nil {
		return nil, fmt.Errorf("create e-service %s: %w", e.ID, err)
	}
	s := &form.Series{FormID: string(e.ID)}
	s.StartDraft(e.Name)
	if err := b.forms.PutFormSeries(ctx, s); err != nil {
		return nil, fmt.Errorf("create form of e-service %s: %w", e.ID, err)
	}
	return &EServiceDraft{EService: *e, Series: *s}, nil
}

// SaveDefinition stores who may use the e-service and where its cases go.
func (b *EServiceBuilder) SaveDefinition(ctx context.Context, sess Session, id ID, def form.Definition) error {
	if !b.mayEdit(sess) {
		return forbid("change e-service", id)
	}
	e, err := b.owned(ctx, sess, id)
	if err != nil {
		return err
	}
	def.ReceivingRole, def.Queue = strings.TrimSpace(def.ReceivingRole), strings.TrimSpace(def.Queue)
	var problems []form.Problem
	var de *form.DefinitionError
	if err := def.Check(); errors.As(err, &de) {
		problems = de.Problems
	} else if err != nil {
		return fmt.Errorf("e-service %s: %w", id, err)
	}
	rp, err := b.checkRouting(ctx, sess, e.Definition, &def)
	if err != nil {
		return fmt.Errorf("e-service %s: %w", id, err)
	}
	if problems = append(problems, rp...); len(problems) > 0 {
		return fmt.Errorf("e-service %s: %w", id, &form.DefinitionError{Problems: problems})
	}
	def.Name = strings.TrimSpace(def.Name)
	e.Name, e.Description, e.Definition = def.Name, def.Description, &def
	if err := b.store.PutEService(ctx, e); err != nil {
		return fmt.Errorf("save e-service %s: %w", id, err)
	}
	return nil
}

// checkRouting checks where the e-service's cases go (see Route): the
// receiving role must be one of ReceivingRoles, and a queue set or changed
// now must name a staff member who holds that role in the clinic. A queue
// saved earlier whose staff member has since lost the role is left alone
// (Route then goes by the role), so that an unrelated edit still saves.
func (b *EServiceBuilder) checkRouting(ctx context.Context, sess Session, old, def *form.Definition) ([]form.Problem, error) {
	role := receivingRole(def)
	if !slices.Contains(ReceivingRoles, role) {
		return []form.Problem{{Code: "receiving_role", Text: "Ärendena kan bara gå till ärendemottagare eller ärendehanterare."}}, nil
	}
	if def.Queue == "" || (old != nil && old.Queue == def.Queue && receivingRole(old) == role) {
		return nil, nil
	}
	st, err := b.store.Staff(ctx, ID(def.Queue))
	if errors.Is(err, ErrNotFound) || (err == nil && !st.Has(sess.ClinicID, role)) {
		return []form.Problem{{Code: "queue", Text: "Medarbetaren som ärendena ska gå till har inte rollen " +
			strings.ToLower(role.Label()) + " på mottagningen."}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: staff %s: %w", def.Queue, err)
	}
	return nil, nil
}

// SaveDraft stores the draft form (it may be incomplete: Check runs at
// publishing; the builder shows its problems while editing).
func (b *EServiceBuilder) SaveDraft(ctx context.Context, sess Session, id ID, f *form.Form) error {
	if !b.mayEdit(sess) {
		return forbid("change e-service form", id)
	}
	if _, err := b.owned(ctx, sess, id); err != nil {
		return err
	}
	s, err := b.series(ctx, id)
	if err != nil {
		return err
	}
	if err := s.SaveDraft(f); err != nil {
		return fmt.Errorf("save draft of e-service %s: %w", id, err)
	}
	if err := b.forms.PutFormSeries(ctx, s); err != nil {
		return fmt.Errorf("save draft of e-service %s: %w", id, err)
	}
	return nil
}

// Draft returns the draft, starting one from the latest published version
// when there is none (not stored until SaveDraft).
func (b *EServiceBuilder) Draft(ctx context.Context, sess Session, id ID) (*form.Form, error) {
	if !b.mayRead(sess) {
		return nil, forbid("read e-service form", id)
	}
	s, err := b.series(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.StartDraft(""), nil
}

// PublishPreview is what the builder shows before publishing: the diff of
// items, choices and logic against the latest published version, and the
// draft's problems (publishing is refused while there are any).
type PublishPreview struct {
	Diff     form.Diff
	Problems []form.Problem
}

// Preview compares the draft with the latest published version.
func (b *EServiceBuilder) Preview(ctx context.Context, sess Session, id ID) (*PublishPreview, error) {
	if !b.mayRead(sess) {
		return nil, forbid("preview e-service", id)
	}
	s, err := b.series(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.Draft == nil {
		return nil, fmt.Errorf("preview e-service %s: no draft: %w", id, ErrInvalid)
	}
	old := s.Latest()
	if old == nil {
		old = &form.Form{ID: s.FormID}
	}
	p := &PublishPreview{Diff: form.Compare(old, s.Draft)}
	var de *form.DefinitionError
	if err := s.Draft.Check(); errors.As(err, &de) {
		p.Problems = de.Problems
	}
	return p, nil
}

// Publish publishes the draft as the next version. On any problem nothing
// changes (the series is written only after Publish succeeded).
func (b *EServiceBuilder) Publish(ctx context.Context, sess Session, id ID) (*form.Form, error) {
	if !b.mayEdit(sess) {
		return nil, forbid("publish e-service", id)
	}
	if _, err := b.owned(ctx, sess, id); err != nil {
		return nil, err
	}
	s, err := b.series(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := s.Publish(b.clock.Now(), string(sess.Staff.ID))
	if err != nil {
		return nil, fmt.Errorf("publish e-service %s: %w", id, err)
	}
	if err := b.forms.PutFormSeries(ctx, s); err != nil {
		return nil, fmt.Errorf("publish e-service %s: %w", id, err)
	}
	return f, nil
}
