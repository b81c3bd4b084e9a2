package server

import (
	"errors"
	"net/http"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/client"
)

// E-service submissions (issue 7, item 7): a resident, or a guardian in
// proxy mode (R5), lists the e-services a clinic offers with their
// published forms and submits answers. app.ResidentService.Submit
// validates them with the same form engine the builder and the preview
// use, on the server's copy of the form (synced from the desktop that
// published it), and creates the case in the e-service's receiving queue
// (app.Route: Mottagningens ärenden, or assigned to an ärendehanterare or
// to the named staff member) with the cleaned answers and the form version
// on its first message. A refused submission stores nothing.

func (s *Server) submitRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/resident/clinics/{clinic}/eservices", s.withResident(s.active(s.clinicEServices)))
	mux.HandleFunc("GET /api/resident/eservices/{eservice}/form", s.withResident(s.active(s.eserviceForm)))
	mux.HandleFunc("POST /api/resident/eservices/{eservice}/submissions", s.withResident(s.active(s.submit)))
}

func eserviceID(r *http.Request) app.ID { return app.ID(r.PathValue("eservice")) }

// clinicEServices lists what the caller may see at a clinic: each
// e-service with a published form, whether it can be used now and why not.
func (s *Server) clinicEServices(w http.ResponseWriter, r *http.Request, me app.ID) {
	list, err := s.residents.UsableEServices(r.Context(), s.gate, me, owner(r, me), app.ID(r.PathValue("clinic")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]client.EServiceForm, 0, len(list))
	for _, u := range list {
		out = append(out, client.EServiceForm{ID: string(u.EService.ID), Name: u.EService.Name, Description: u.EService.Description,
			Standard: u.EService.Standard, Version: u.Version, Form: u.Form, Available: u.Available, Reason: u.Reason})
	}
	writeJSON(w, http.StatusOK, out)
}

// eserviceForm is the latest published form of an e-service.
func (s *Server) eserviceForm(w http.ResponseWriter, r *http.Request, _ app.ID) {
	f, v, err := app.PublishedForm(r.Context(), s.gate, eserviceID(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.PublishedForm{EServiceID: string(eserviceID(r)), Version: v, Form: f})
}

// submit creates a case from an e-service's answers.
func (s *Server) submit(w http.ResponseWriter, r *http.Request, me app.ID) {
	var req client.SubmissionRequest
	if !decode(w, r, &req) {
		return
	}
	if req.ClinicID == "" {
		s.fail(w, r, invalid("clinicId"))
		return
	}
	who := me
	if req.For != "" {
		who = app.ID(req.For)
	}
	c, err := s.residents.Submit(r.Context(), s.gate, app.Submission{Actor: me, Owner: who,
		ClinicID: app.ID(req.ClinicID), EServiceID: eserviceID(r), Answers: req.Answers})
	if err != nil {
		s.failSubmit(w, r, err)
		return
	}
	s.caseChanged(r.Context(), c.ID)
	writeJSON(w, http.StatusCreated, wireResidentCase(c))
}

// failSubmit maps the refusals particular to a submission: the refused
// answers (each with its Swedish sentence naming the question), the
// reason an e-service is not available, and an e-service the clinic does
// not offer. Anything else goes through fail.
func (s *Server) failSubmit(w http.ResponseWriter, r *http.Request, err error) {
	var ae *form.AnswersError
	var na *app.NotAvailableError
	switch {
	case errors.As(err, &ae) && len(ae.Fields) > 0:
		reasons := make([]client.Reason, 0, len(ae.Fields))
		for _, f := range ae.Fields {
			reasons = append(reasons, client.Reason{Code: f.Code, Message: f.Text, Field: f.Path})
		}
		s.log.Debug("request refused", "route", r.Pattern, "code", codeInvalid)
		writeErr(w, http.StatusBadRequest, codeInvalid, ae.Fields[0].Path, reasons...)
	case errors.As(err, &na):
		s.log.Debug("request refused", "route", r.Pattern, "code", codeForbidden)
		writeErr(w, http.StatusForbidden, codeForbidden, "", client.Reason{Code: "not_available", Message: na.Reason})
	case errors.Is(err, app.ErrEServiceNotOffered):
		writeErr(w, http.StatusNotFound, codeNotFound, "eservice")
	default:
		s.fail(w, r, err)
	}
}
