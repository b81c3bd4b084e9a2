package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	stdsync "sync"
	"time"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/client"
)

// --- e-ID sign-in (R1, R10) ---

func (s *Server) eidStart(w http.ResponseWriter, r *http.Request) {
	if !s.startLim.allow(r.Context(), clientAddr(r, s.trusted)) {
		writeErr(w, http.StatusTooManyRequests, codeTooManyAttempts, "")
		return
	}
	var req client.EIDStartRequest
	if !decode(w, r, &req) {
		return
	}
	if s.eid == nil {
		writeErr(w, http.StatusServiceUnavailable, codeEIDUnavailable, "")
		return
	}
	pnr, err := personnummer.ParseAt(req.Personnummer, s.clock.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ref, err := s.eid.Start(r.Context(), pnr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.EIDStartResponse{OrderRef: ref})
}

// eidCollect polls an order; once the e-ID has verified the person, the
// sign-in is recorded (the first one activates the account, R1) and a
// session starts. A locked login (R10), a deceased person and a person not
// in the register are refused.
func (s *Server) eidCollect(w http.ResponseWriter, r *http.Request) {
	var req client.EIDCollectRequest
	if !decode(w, r, &req) {
		return
	}
	if s.eid == nil {
		writeErr(w, http.StatusServiceUnavailable, codeEIDUnavailable, "")
		return
	}
	if req.OrderRef == "" || len(req.OrderRef) > 200 {
		s.fail(w, r, invalid("orderRef"))
		return
	}
	res, err := s.eid.Collect(r.Context(), req.OrderRef)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !res.Complete {
		writeJSON(w, http.StatusOK, client.EIDCollectResponse{Status: "pending", HintCode: res.HintCode})
		return
	}
	rs, err := s.gate.ResidentByPNR(r.Context(), res.PNR)
	if err != nil {
		s.fail(w, r, fmt.Errorf("resident sign-in: %w", err))
		return
	}
	first := !rs.Account.Activated
	if err := s.residents.SignIn(r.Context(), rs.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	tok, exp, err := s.sessions.create(r.Context(), rs.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("resident signed in", "resident", rs.ID, "first", first)
	writeJSON(w, http.StatusOK, client.EIDCollectResponse{Status: "complete",
		Session: &client.ResidentSession{Token: tok, Expires: exp, ResidentID: string(rs.ID), FirstSignIn: first}})
}

// active lets a request through only while the session's resident may
// still sign in (R10, not deceased, not a child under 13). Locking through this server ends
// the sessions at once (lockSelf, regionLock); this catches a lock or a
// death that reached the database another way (a register import, an
// operator) while a session was open: it is refused with the same code as
// a sign-in would be, and nothing is read or written.
func (s *Server) active(h func(w http.ResponseWriter, r *http.Request, me app.ID)) func(w http.ResponseWriter, r *http.Request, me app.ID) {
	return func(w http.ResponseWriter, r *http.Request, me app.ID) {
		res, _ := r.Context().Value(sessionResidentKey{}).(*app.Resident)
		var err error
		if res == nil || res.ID != me {
			res, err = s.gate.Resident(r.Context(), me)
		}
		if err == nil {
			err = app.CanSignInPersonally(res, s.clock.Now())
		}
		if err != nil {
			s.fail(w, r, fmt.Errorf("resident session: %w", err))
			return
		}
		h(w, r, me)
	}
}

func (s *Server) residentSignOut(w http.ResponseWriter, r *http.Request, _ app.ID) {
	if err := s.sessions.end(r.Context(), bearer(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// residentMe is the resident's own data: name (R12, read-only), settings,
// and whether to ask for settings again after the 13th birthday (R8).
func (s *Server) residentMe(w http.ResponseWriter, r *http.Request, me app.ID) {
	res, err := s.gate.Resident(r.Context(), me)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.clock.Now()
	writeJSON(w, http.StatusOK, client.ResidentMe{
		ID: string(res.ID), Name: res.Register.FullName(), Activated: res.Account.Activated,
		JournalSealed: res.Account.JournalSealed, NeedsSettingsPrompt: app.NeedsSettingsPrompt(res, now),
		Settings: wireSettings(app.EffectiveSettings(res, now)),
	})
}

// residentClinics lists the clinics and the e-services each offers.
func (s *Server) residentClinics(w http.ResponseWriter, r *http.Request, _ app.ID) {
	cs, err := s.gate.Clinics(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]client.Clinic, 0, len(cs))
	for _, c := range cs {
		es, err := s.eservices.Offered(r.Context(), c.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		wc := client.Clinic{ID: string(c.ID), Name: c.Name, EServices: []client.EService{}}
		for _, e := range es {
			wc.EServices = append(wc.EServices, client.EService{ID: string(e.ID), Name: e.Name, Description: e.Description, Standard: e.Standard})
		}
		out = append(out, wc)
	}
	writeJSON(w, http.StatusOK, out)
}

// owner is whose inbox a request is about: ?for=child (proxy mode), or
// the resident themselves.
func owner(r *http.Request, me app.ID) app.ID {
	if f := r.URL.Query().Get("for"); f != "" {
		return app.ID(f)
	}
	return me
}

// inbox lists the cases of the resident or of a child they may act for
// (R2, R5, R7, R8, blocked guardian, R10 on the child).
// inbox lists one page of the inbox, newest case first: ?limit= (1 to
// 500, default 50) and ?cursor= (the next of the page before).
func (s *Server) inbox(w http.ResponseWriter, r *http.Request, me app.ID) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > app.MaxInboxPage {
			writeErr(w, http.StatusBadRequest, codeInvalid, fmt.Sprintf("limit: want 1 to %d", app.MaxInboxPage))
			return
		}
		limit = n
	}
	cs, next, err := s.residents.InboxPage(r.Context(), me, owner(r, me), app.ID(q.Get("cursor")), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := client.InboxPage{Cases: make([]client.ResidentCase, 0, len(cs)), Next: string(next)}
	for i := range cs {
		out.Cases = append(out.Cases, wireResidentCase(&cs[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// readCase opens a case and sets the read receipts staff see.
func (s *Server) readCase(w http.ResponseWriter, r *http.Request, me app.ID) {
	t, err := s.residents.ReadCase(r.Context(), me, caseID(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireResidentThread(t))
}

// residentReply answers a question or e-service case (never information, R16).
func (s *Server) residentReply(w http.ResponseWriter, r *http.Request, me app.ID) {
	var req client.TextRequest
	if !decode(w, r, &req) {
		return
	}
	id := caseID(r)
	if err := s.residents.Reply(r.Context(), me, id, req.Text); err != nil {
		s.fail(w, r, err)
		return
	}
	s.caseChanged(r.Context(), id)
	c, err := s.gate.Case(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireResidentCase(c))
}

// caseChanged brings a case the resident side changed into the staff case
// lists. The change is stored; a failure here only delays the list.
func (s *Server) caseChanged(ctx context.Context, id app.ID) {
	if err := s.cases.CaseChanged(ctx, id); err != nil {
		s.log.Warn("case list update failed", "case", id, "err", err)
	}
}

// startCase starts a case through an e-service the clinic offers.
func (s *Server) startCase(w http.ResponseWriter, r *http.Request, me app.ID) {
	var req client.StartCaseRequest
	if !decode(w, r, &req) {
		return
	}
	forID := app.ID(req.For)
	if forID == "" {
		forID = me
	}
	offered, err := s.eservices.Offered(r.Context(), app.ID(req.ClinicID))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !slices.ContainsFunc(offered, func(e app.EService) bool { return e.ID == app.ID(req.EServiceID) }) {
		s.fail(w, r, invalid("eserviceId"))
		return
	}
	c, err := s.residents.StartCase(r.Context(), me, forID, app.ID(req.ClinicID), app.ID(req.EServiceID), req.Subject, req.Text)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.caseChanged(r.Context(), c.ID)
	writeJSON(w, http.StatusCreated, wireResidentCase(c))
}

// settingsBody is the body of PUT /api/resident/settings: every field is
// required. The settings are replaced whole, so a body with one field
// would wipe the others (a missing field decodes as empty or off); it is
// refused instead, naming the first missing field.
type settingsBody struct {
	Mobile        *string `json:"mobile"`
	Email         *string `json:"email"`
	NotifySMS     *bool   `json:"notifySms"`
	NotifyEmail   *bool   `json:"notifyEmail"`
	ShareWithCare *bool   `json:"shareWithCare"`
	// SavedAt is read-only: accepted (settings read from /me and sent
	// back whole) and ignored.
	SavedAt *time.Time `json:"savedAt"`
}

// settings checks that every field is there.
func (b *settingsBody) settings() (app.Settings, error) {
	for _, f := range []struct {
		name    string
		present bool
	}{
		{"mobile", b.Mobile != nil}, {"email", b.Email != nil}, {"notifySms", b.NotifySMS != nil},
		{"notifyEmail", b.NotifyEmail != nil}, {"shareWithCare", b.ShareWithCare != nil},
	} {
		if !f.present {
			return app.Settings{}, &app.FieldError{Field: f.name, Code: "required",
				Text: "Fältet saknas. Skicka alla inställningar: mobilnummer, e-post, avisering per sms och e-post och delning med vården."}
		}
	}
	return app.Settings{Mobile: *b.Mobile, Email: *b.Email, NotifySMS: *b.NotifySMS, NotifyEmail: *b.NotifyEmail, ShareWithCare: *b.ShareWithCare}, nil
}

// updateSettings replaces the resident's own settings (R3, R13, R14): a
// body without every field is refused (settingsBody); the service
// normalises the phone number and refuses invalid ones, and refuses a
// child under 13, who has no settings of their own.
func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request, me app.ID) {
	var req settingsBody
	if !decode(w, r, &req) {
		return
	}
	set, err := req.settings()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.residents.UpdateSettings(r.Context(), app.Actor{ResidentID: me}, me, set); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.gate.Resident(r.Context(), me)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireSettings(res.Settings))
}

// listChildren lists the children the register names the resident as
// guardian of, with whether the resident may act for each (R5, R7, R8,
// blocked guardian, a locked child R10) and why not.
func (s *Server) listChildren(w http.ResponseWriter, r *http.Request, me app.ID) {
	ids, err := s.children.of(r.Context(), me)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []client.Child{}
	if len(ids) == 0 {
		writeJSON(w, http.StatusOK, out)
		return
	}
	rs, err := s.gate.ResidentsByID(r.Context(), append(ids, me))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g := rs[me]
	if g == nil {
		s.fail(w, r, fmt.Errorf("children of %s: %w", me, app.ErrNotFound))
		return
	}
	now := s.clock.Now()
	for _, id := range ids {
		c := rs[id]
		if c == nil {
			continue
		}
		gs, ok := c.Guardianship(me)
		if !ok {
			continue // the register changed since the index was built
		}
		ch := client.Child{ID: string(c.ID), Name: c.Register.FullName(), ProxyActivated: gs.ProxyActivated}
		if !c.PNR.IsZero() {
			ch.Age = c.PNR.AgeOn(now)
		}
		var pe *app.ProxyError
		if err := app.MayActAsProxy(g, c, now); err == nil {
			ch.MayAct = true
			ch.Contact = client.GuardianContact{Mobile: gs.Contact.Mobile, Email: gs.Contact.Email}
		} else if errors.As(err, &pe) {
			ch.Reason = &client.Reason{Code: string(pe.Reason), Message: pe.Reason.Message()}
		}
		out = append(out, ch)
	}
	writeJSON(w, http.StatusOK, out)
}

func childID(r *http.Request) app.ID { return app.ID(r.PathValue("child")) }

// activateProxy: a guardian activates the child's login in proxy mode (R5).
func (s *Server) activateProxy(w http.ResponseWriter, r *http.Request, me app.ID) {
	if childID(r) == me {
		s.fail(w, r, fmt.Errorf("activate proxy for self: %w", app.ErrForbidden))
		return
	}
	if err := s.residents.ActivateProxy(r.Context(), me, childID(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setGuardianContact saves the guardian's mobile and e-mail under one
// child's settings (R6), normalised as the resident's own settings are.
func (s *Server) setGuardianContact(w http.ResponseWriter, r *http.Request, me app.ID) {
	var req client.GuardianContact
	if !decode(w, r, &req) {
		return
	}
	var c app.GuardianContact
	var err error
	if req.Mobile != "" {
		if c.Mobile, err = app.NormalizePhone(req.Mobile); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if req.Email != "" {
		if c.Email, err = app.NormalizeEmail(req.Email); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := s.residents.SetGuardianContact(r.Context(), me, childID(r), c); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.GuardianContact{Mobile: c.Mobile, Email: c.Email})
}

// lockSelf locks the resident's own login (R10) and ends their sessions:
// from now on they cannot sign in; unlocking goes through kontaktcenter.
func (s *Server) lockSelf(w http.ResponseWriter, r *http.Request, me app.ID) {
	if err := s.residents.SetLoginLocked(r.Context(), app.Actor{ResidentID: me}, me, true); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.sessions.endAll(r.Context(), me); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sealSelf seals or unseals the resident's record (R11), separate from the lock.
func (s *Server) sealSelf(w http.ResponseWriter, r *http.Request, me app.ID) {
	var req client.SealRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.residents.SetJournalSealed(r.Context(), app.Actor{ResidentID: me}, me, req.Sealed); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- guardian → children index ---

// childIndex maps a guardian to the children the register names them
// guardian of. The store indexes guardianship only on the child, so the
// server keeps the reverse in memory: built at start from every resident
// and rebuilt after a register import through this server (the only way
// guardianships change, R12). About 50 bytes per child.
type childIndex struct {
	mu stdsync.RWMutex
	by map[app.ID][]app.ID
}

func newChildIndex() *childIndex { return &childIndex{by: map[app.ID][]app.ID{}} }

func (x *childIndex) load(ctx context.Context, st ResidentDirectory, log *slog.Logger) error {
	all, damaged, err := st.ReadableResidents(ctx)
	if err != nil {
		return err
	}
	if len(damaged) > 0 && log != nil {
		// Reported, not served: each reads as damaged when asked for.
		log.Error("damaged resident records left out; restore the database from a backup to get them back",
			"count", len(damaged), "ids", damaged)
	}
	by := map[app.ID][]app.ID{}
	for i := range all {
		for _, g := range all[i].Guardians {
			by[g.GuardianID] = append(by[g.GuardianID], all[i].ID)
		}
	}
	x.mu.Lock()
	x.by = by
	x.mu.Unlock()
	return nil
}

func (x *childIndex) of(g app.ID) []app.ID {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Clone(x.by[g])
}
