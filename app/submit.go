package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"mottagning/app/form"
)

// Submissions through an e-service (issue 7, item 7): the resident (or a
// guardian in proxy mode, R5) answers the published form; the same engine
// that the builder and the preview use validates the answers here, and a
// case is created in the e-service's receiving queue (see Route) with the
// cleaned answers and the form version on its first message. Nothing is
// stored from a rejected submission.

// Submission is one e-service submission.
type Submission struct {
	// Actor is the signed-in resident; Owner the person the case is about
	// (the child in proxy mode, else the actor).
	Actor, Owner ID
	ClinicID     ID
	EServiceID   ID
	Answers      form.Answers
}

// ErrEServiceNotOffered: the clinic does not offer the e-service, or it has
// no published form.
var ErrEServiceNotOffered = fmt.Errorf("e-service not offered: %w", ErrInvalid)

// NotAvailableError says why the e-service cannot be used by this
// requester (closed, age, proxy not allowed, not named); Reason is Swedish.
type NotAvailableError struct{ Reason string }

func (e *NotAvailableError) Error() string { return "e-service not available to this requester" }

// Is makes errors.Is(err, ErrForbidden) true.
func (e *NotAvailableError) Is(target error) bool { return target == ErrForbidden }

// Submit validates and stores a submission (see Submission). forms gives
// the published form versions.
func (s *ResidentService) Submit(ctx context.Context, forms FormStore, sub Submission) (*Case, error) {
	proxy, err := s.mayAccess(ctx, sub.Actor, sub.Owner)
	if err != nil {
		return nil, fmt.Errorf("submit to %s: %w", sub.EServiceID, err)
	}
	actor, err := s.store.Resident(ctx, sub.Actor)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	if err := CanSignIn(actor); err != nil { // R10, R1: a locked login cannot use e-services
		return nil, fmt.Errorf("submit: %w", err)
	}
	owner, err := s.store.Resident(ctx, sub.Owner)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	e, err := offered(ctx, s.store, sub.ClinicID, sub.EServiceID)
	if err != nil {
		return nil, err
	}
	series, err := formsWithStandard{forms}.FormSeries(ctx, sub.EServiceID)
	if errors.Is(err, ErrNotFound) || (err == nil && len(series.Published) == 0) {
		return nil, fmt.Errorf("submit to %s: no published form: %w", sub.EServiceID, ErrEServiceNotOffered)
	}
	if err != nil {
		return nil, fmt.Errorf("submit to %s: %w", sub.EServiceID, err)
	}
	version := len(series.Published)
	f, err := series.Version(version)
	if err != nil {
		return nil, fmt.Errorf("submit to %s: %w", sub.EServiceID, err)
	}
	now := s.clock.Now()
	if e.Definition != nil {
		req := form.Requester{ResidentID: string(owner.ID), Proxy: proxy}
		if !owner.PNR.IsZero() {
			req.Age = owner.PNR.AgeOn(now)
		}
		if ok, reason := e.Definition.Available(req, now); !ok {
			return nil, fmt.Errorf("submit to %s: %w", sub.EServiceID, &NotAvailableError{Reason: reason})
		}
	}
	clean, err := f.Accept(sub.Answers, now)
	if err != nil {
		return nil, fmt.Errorf("submit to %s: %w", sub.EServiceID, err)
	}
	assignee, err := Route(ctx, s.store, sub.ClinicID, e.Definition)
	if err != nil {
		return nil, fmt.Errorf("submit to %s: %w", sub.EServiceID, err)
	}
	c := Case{
		ID: NewID(now), ClinicID: sub.ClinicID, ResidentID: owner.ID, Kind: KindEService, EServiceID: e.ID,
		Subject: e.Name, Status: StatusNew, AssigneeID: assignee, StartedBy: StartedByResident,
		CreatedAt: now, LastActivity: now, UnreadByStaff: true,
	}
	if assignee != "" {
		c.Status = StatusOngoing // as Assign does: an assigned case is Pågående
	}
	author := AuthorResident
	if proxy {
		c.StartedBy, c.StartedByGuardian, author = StartedByGuardian, sub.Actor, AuthorGuardian
	}
	first := Message{ID: NewID(now), CaseID: c.ID, Author: author, AuthorID: sub.Actor, At: now,
		Text: summary(f, clean), Answers: clean, FormVersion: version}
	t := &Thread{Case: c, Messages: []Message{first}}
	if e.Definition != nil && strings.TrimSpace(e.Definition.AutoReply) != "" {
		// The automatic reply enters the inbox at once, while the resident
		// is signed in: it is not notified (nothing waits unseen).
		t.Messages = append(t.Messages, Message{ID: NewID(now), CaseID: c.ID, Author: AuthorStaff, At: now,
			Text: strings.TrimSpace(e.Definition.AutoReply)})
	}
	if err := s.store.CreateThread(ctx, t, Write{}); err != nil {
		return nil, fmt.Errorf("submit to %s: case %s: %w", sub.EServiceID, c.ID, err)
	}
	return &t.Case, nil
}

// Where a submission lands (issue 7, item 2: the definition's receiving
// role and queue). A case has no queue field of its own: the staff tool's
// only queues are the clinic's list, Mottagningens ärenden (every
// ärendemottagare sees every case of the clinic and assigns them), and
// each staff member's Mina ärenden (the cases assigned to them; an
// ärendehanterare sees only those, see mayHandle). So the receiving queue
// is represented by the case's assignee:
//
//   - ReceivingRole ärendemottagare (or none): the case is Ny and
//     unassigned in Mottagningens ärenden, where the receivers triage it.
//   - ReceivingRole ärendehanterare: the case is assigned on arrival (and
//     so Pågående) to the clinic's ärendehanterare with the fewest
//     Pågående cases, ties broken by staff id; without an ärendehanterare
//     it stays Ny and unassigned, so the receivers still see it.
//   - Queue, when set, is the id of one staff member who holds the
//     receiving role in the clinic: their Mina ärenden is the queue, and
//     the case is assigned to them. When they no longer hold the role (or
//     the account is disabled) the case is routed by the role alone: a
//     submission is never given to someone who cannot see it, nor lost.
//
// In every case the case's type is the e-service (Case.EServiceID), which
// both lists filter on (CaseFilter.Type).

// routeSample is how many of the clinic's Pågående cases (most recent
// activity first) Route counts per ärendehanterare: one page of the
// status index, so a submission never scans a clinic's whole history.
const routeSample = 500

// ReceivingRoles are the roles an e-service's cases can be sent to.
var ReceivingRoles = []Role{RoleCaseReceiver, RoleCaseHandler}

// receivingRole is def's receiving role, ärendemottagare when none is set.
func receivingRole(def *form.Definition) Role {
	if def == nil || def.ReceivingRole == "" {
		return RoleCaseReceiver
	}
	return Role(def.ReceivingRole)
}

// Route returns the staff member a new case of an e-service with
// definition def is assigned to in clinic, or "" for Mottagningens
// ärenden (see above). An unknown receiving role (a definition synced
// from an older or newer desktop) also gives "": the receivers see it.
func Route(ctx context.Context, store Store, clinic ID, def *form.Definition) (ID, error) {
	role := receivingRole(def)
	if !slices.Contains(ReceivingRoles, role) {
		return "", nil
	}
	if def != nil && def.Queue != "" {
		st, err := store.Staff(ctx, ID(def.Queue))
		switch {
		case err == nil && st.Has(clinic, role):
			return st.ID, nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return "", fmt.Errorf("route to queue: staff %s: %w", def.Queue, err)
		}
	}
	if role != RoleCaseHandler {
		return "", nil
	}
	staff, err := store.AllStaff(ctx)
	if err != nil {
		return "", fmt.Errorf("route in clinic %s: staff: %w", clinic, err)
	}
	load := map[ID]int{}
	for i := range staff {
		if staff[i].Has(clinic, RoleCaseHandler) {
			load[staff[i].ID] = 0
		}
	}
	if len(load) == 0 {
		return "", nil
	}
	page, err := store.ListCases(ctx, CaseQuery{ClinicID: clinic, Status: StatusOngoing, Limit: routeSample})
	if err != nil {
		return "", fmt.Errorf("route in clinic %s: cases: %w", clinic, err)
	}
	for _, c := range page.Cases {
		if n, ok := load[c.AssigneeID]; ok {
			load[c.AssigneeID] = n + 1
		}
	}
	ids := make([]ID, 0, len(load))
	for id := range load {
		ids = append(ids, id)
	}
	best := slices.MinFunc(ids, func(a, b ID) int {
		return cmp.Or(cmp.Compare(load[a], load[b]), cmp.Compare(a, b))
	})
	return best, nil
}

// offered finds an e-service the clinic offers: an activated standard one
// or one of its local ones.
func offered(ctx context.Context, store Store, clinic, id ID) (*EService, error) {
	list, err := NewEServiceService(store, nil).Offered(ctx, clinic)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, fmt.Errorf("e-service %s in clinic %s: %w", id, clinic, ErrEServiceNotOffered)
}

// summary is the first message's text: each visible answered question and
// its answer, as staff read it in lists and exports (the case view shows
// the structured answers too).
func summary(f *form.Form, a form.Answers) string {
	var b strings.Builder
	f.Walk(func(it, _ *form.Item) bool {
		vs, ok := a[it.ID]
		if !ok || it.Type == form.TypeGroup || it.Type == form.TypeDisplay {
			return true
		}
		parts := make([]string, 0, len(vs))
		for _, v := range vs {
			parts = append(parts, it.AnswerText(v))
		}
		fmt.Fprintf(&b, "%s: %s\n", it.Label, strings.Join(parts, ", "))
		return true
	})
	if b.Len() == 0 {
		return "(inga svar)"
	}
	return strings.TrimRight(b.String(), "\n")
}
