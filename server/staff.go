package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/client"
)

// --- case lists ---

// listCases is GET .../cases?list=clinic|mine&status=&limit=&after=: one
// page from the store's indexes (ClinicCases or MyCases).
func (s *Server) listCases(w http.ResponseWriter, r *http.Request, sess app.Session) {
	q := r.URL.Query()
	cq := app.CaseQuery{Status: app.Status(q.Get("status")), After: q.Get("after")}
	if cq.Status != "" && !cq.Status.Valid() {
		s.fail(w, r, invalid("status"))
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			s.fail(w, r, invalid("limit"))
			return
		}
		cq.Limit = n
	}
	var page app.RowPage
	var err error
	switch q.Get("list") {
	case "", "clinic":
		page, err = s.cases.ClinicCases(r.Context(), sess, cq)
	case "mine":
		page, err = s.cases.MyCases(r.Context(), sess, cq)
	default:
		err = invalid("list")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := client.CasePage{Rows: make([]client.CaseRow, 0, len(page.Rows)), Next: page.Next}
	for i := range page.Rows {
		out.Rows = append(out.Rows, wireRow(&page.Rows[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

var sorts = map[string]app.CaseSort{"": app.SortActivity, "activity": app.SortActivity, "status": app.SortStatus,
	"subject": app.SortSubject, "type": app.SortType, "resident": app.SortResident, "startedBy": app.SortStartedBy}

// searchCases is POST .../cases/search: the filtered, sorted list of the
// staff tool (FindCases). A POST so that a personnummer searched for stays
// out of URLs.
func (s *Server) searchCases(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req client.CaseSearch
	if !decode(w, r, &req) {
		return
	}
	f := app.CaseFilter{Status: app.Status(req.Status), Type: req.Type, AssigneeID: app.ID(req.AssigneeID),
		Unassigned: req.Unassigned, UnreadOnly: req.UnreadOnly, Search: req.Search, Reverse: req.Reverse}
	switch req.List {
	case "", "clinic":
		f.List = app.ClinicList
	case "mine":
		f.List = app.MyList
	default:
		s.fail(w, r, invalid("list"))
		return
	}
	sort, ok := sorts[req.Sort]
	if !ok {
		s.fail(w, r, invalid("sort"))
		return
	}
	f.Sort = sort
	if f.Status != "" && !f.Status.Valid() {
		s.fail(w, r, invalid("status"))
		return
	}
	limit := req.Limit
	if limit == 0 {
		limit = 50
	}
	if limit < 0 || limit > 500 || req.Offset < 0 {
		s.fail(w, r, invalid("limit"))
		return
	}
	res, err := s.cases.FindCases(r.Context(), sess, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := client.CasePage{Rows: []client.CaseRow{}, Total: res.Total, Unread: res.Unread}
	for i := req.Offset; i < res.Len() && i < req.Offset+limit; i++ {
		row := res.Row(i)
		out.Rows = append(out.Rows, wireRow(&row))
	}
	if req.Offset+limit < res.Len() {
		out.Next = strconv.Itoa(req.Offset + limit)
	}
	writeJSON(w, http.StatusOK, out)
}

// --- one case ---

func caseID(r *http.Request) app.ID { return app.ID(r.PathValue("case")) }

func (s *Server) openCase(w http.ResponseWriter, r *http.Request, sess app.Session) {
	t, err := s.cases.OpenCase(r.Context(), sess, caseID(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireThread(t))
}

func (s *Server) caseNotifications(w http.ResponseWriter, r *http.Request, sess app.Session) {
	ns, err := s.cases.Notifications(r.Context(), sess, caseID(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]client.NotificationStatus, 0, len(ns))
	for i := range ns {
		out = append(out, wireNotification(&ns[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// afterChange answers a change to case id with its new header. The
// service that made the change has already checked that the session may
// handle the case, and a header is no patient data beyond what the change
// itself logged.
func (s *Server) afterChange(w http.ResponseWriter, r *http.Request, id app.ID) {
	c, err := s.gate.Case(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireCase(c))
}

func (s *Server) staffReply(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req client.TextRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.cases.Reply(r.Context(), sess, caseID(r), req.Text); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterChange(w, r, caseID(r))
}

func (s *Server) addNote(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req client.TextRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.cases.AddNote(r.Context(), sess, caseID(r), req.Text); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterChange(w, r, caseID(r))
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req client.AssignRequest
	if !decode(w, r, &req) {
		return
	}
	if req.AssigneeID == "" {
		s.fail(w, r, invalid("assigneeId"))
		return
	}
	if err := s.cases.Assign(r.Context(), sess, caseID(r), app.ID(req.AssigneeID)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterChange(w, r, caseID(r))
}

func (s *Server) closeCase(w http.ResponseWriter, r *http.Request, sess app.Session) {
	if err := s.cases.Close(r.Context(), sess, caseID(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterChange(w, r, caseID(r))
}

func (s *Server) reopenCase(w http.ResponseWriter, r *http.Request, sess app.Session) {
	if err := s.cases.Reopen(r.Context(), sess, caseID(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterChange(w, r, caseID(r))
}

// --- Skicka ärende ---

func (s *Server) lookupResident(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req client.LookupRequest
	if !decode(w, r, &req) {
		return
	}
	pnr, err := personnummer.ParseAt(req.Personnummer, s.clock.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.cases.LookupResident(r.Context(), sess, pnr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireView(v))
}

func (s *Server) sendCase(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req client.SendCaseRequest
	if !decode(w, r, &req) {
		return
	}
	c, err := s.cases.SendCase(r.Context(), sess, app.SendRequest{TemplateID: app.ID(req.TemplateID),
		ResidentID: app.ID(req.ResidentID), Subject: req.Subject, Text: req.Text})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, wireCase(c))
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, sess app.Session) {
	kind := app.TemplateKind(r.URL.Query().Get("kind"))
	if kind != "" && !app.ValidTemplateKind(kind) {
		s.fail(w, r, invalid("kind"))
		return
	}
	ts, err := s.templates.List(r.Context(), sess, kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]client.Template, 0, len(ts))
	for i := range ts {
		if ts[i].Retired {
			continue // kept for old cases; offered for nothing new
		}
		out = append(out, wireTemplate(&ts[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// blockGuardian is the lokal administratör's block of one guardian's proxy
// access to one child.
func (s *Server) blockGuardian(w http.ResponseWriter, r *http.Request, sess app.Session) {
	var req client.BlockGuardianRequest
	if !decode(w, r, &req) {
		return
	}
	err := s.residents.BlockGuardian(r.Context(), sess, app.ID(r.PathValue("child")), app.ID(r.PathValue("guardian")), req.Blocked)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// testNotification is "Skicka testavisering" (lokal administratör).
func (s *Server) testNotification(w http.ResponseWriter, r *http.Request, sess app.Session) {
	if !s.testLim.allow(r.Context(), clientAddr(r, s.trusted)) {
		writeErr(w, http.StatusTooManyRequests, codeTooManyAttempts, "")
		return
	}
	var req client.TestNotificationRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.notifyAdm.TestNotification(r.Context(), sess, app.Channel(req.Channel), req.Address); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- kontaktcenter (region role) ---

// regionResident finds the resident of a kontaktcenter request. The role is
// checked first, so that nobody else can probe which personnummer exist.
func (s *Server) regionResident(ctx context.Context, r *http.Request, req *client.RegionResidentRequest) (*app.Staff, app.ID, error) {
	st := staffOf(claimsOf(r))
	if !st.HasRegion(app.RoleContactCenter) {
		return nil, "", fmt.Errorf("region action: %w", app.ErrForbidden)
	}
	pnr, err := personnummer.ParseAt(req.Personnummer, s.clock.Now())
	if err != nil {
		return nil, "", err
	}
	res, err := s.gate.ResidentByPNR(ctx, pnr)
	if err != nil {
		return nil, "", fmt.Errorf("region action: %w", err)
	}
	return st, res.ID, nil
}

// regionFind is the kontaktcenter's lookup of a resident (R10), through
// app.ContactCenterService, which checks the role and records the access.
func (s *Server) regionFind(w http.ResponseWriter, r *http.Request) {
	var req client.RegionResidentRequest
	if !decode(w, r, &req) {
		return
	}
	v, err := s.contact.FindResident(r.Context(), staffOf(claimsOf(r)), req.Personnummer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.RegionResidentOf(v))
}

// regionLock locks or unlocks a resident's login on their request (R10),
// with the identity check and the reason, through the same door as the
// standalone desktop (app.ContactCenterService). A lock ends the
// resident's sessions at once.
func (s *Server) regionLock(w http.ResponseWriter, r *http.Request) {
	var req client.RegionResidentRequest
	if !decode(w, r, &req) {
		return
	}
	st := staffOf(claimsOf(r))
	v, err := s.contact.SetLoginLock(r.Context(), st, app.LockRequest{PNR: req.Personnummer, Locked: req.On,
		Check: app.IdentityCheck(req.IdentityCheck), Reason: app.LockReason(req.Reason)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if req.On {
		if err := s.sessions.endAll(r.Context(), v.ResidentID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.log.Info("login lock changed by kontaktcenter", "staff", st.ID, "resident", v.ResidentID, "locked", req.On)
	writeJSON(w, http.StatusOK, client.RegionResidentOf(v))
}

// regionSeal seals or unseals a resident's record on their request (R11).
func (s *Server) regionSeal(w http.ResponseWriter, r *http.Request) {
	var req client.RegionResidentRequest
	if !decode(w, r, &req) {
		return
	}
	st, id, err := s.regionResident(r.Context(), r, &req)
	if err == nil {
		err = s.residents.SetJournalSealed(r.Context(), app.Actor{Staff: st}, id, req.On)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("journal seal changed by kontaktcenter", "staff", st.ID, "resident", id, "sealed", req.On)
	w.WriteHeader(http.StatusNoContent)
}
