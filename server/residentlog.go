package server

import (
	"net/http"
	"time"

	"mottagning/app"
	"mottagning/client"
	"mottagning/export"
)

// The resident's own log extract (issue 8, item 1; patientdatalagen 8 kap.
// 1 §): who at which clinic opened, looked up, read, sent, exported or
// printed the resident's data, and when — the content of a granskare's log
// extract, across every clinic of this server, as JSON or as the same A4
// PDF (package export). For themselves, or for a child under 13 they may
// act for in proxy mode (R5; refused for protected identity, R7, from the
// 13th birthday, R8, for a blocked guardian, and while the child's login
// is locked, R10): the guardian exercises
// the child's right to the information as they do the child's other
// e-services. app.ResidentService.AccessLogExtract decides and records the
// extract in the server's access log; the request log line here holds ids
// only.

func (s *Server) residentLogRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/resident/access-log", s.withResident(s.active(s.accessLogJSON)))
	mux.HandleFunc("GET /api/resident/access-log/pdf", s.withResident(s.active(s.accessLogPDF)))
}

// extractPeriod reads ?from= and ?to= as Stockholm calendar dates, to
// included, into the period [from, to+1 day). Without either it is the
// last twelve months up to and including today.
func (s *Server) extractPeriod(r *http.Request) (from, to time.Time, err error) {
	q := r.URL.Query()
	fs, ts := q.Get("from"), q.Get("to")
	today := app.DateIn(s.clock.Now())
	to = today.AddDate(0, 0, 1)
	if ts != "" {
		d, err := time.ParseInLocation(time.DateOnly, ts, app.Stockholm)
		if err != nil {
			return from, to, invalid("to")
		}
		to = d.AddDate(0, 0, 1)
	}
	from = to.AddDate(-1, 0, 0)
	if fs != "" {
		d, err := time.ParseInLocation(time.DateOnly, fs, app.Stockholm)
		if err != nil {
			return from, to, invalid("from")
		}
		from = d
	}
	if !to.After(from) || to.After(from.AddDate(1, 0, 0)) {
		return from, to, invalid("period")
	}
	return from, to, nil
}

// extract makes the extract of ?for= (or the caller's own) and logs it.
func (s *Server) extract(w http.ResponseWriter, r *http.Request, me app.ID, format string) (*app.LogExtract, bool) {
	from, to, err := s.extractPeriod(r)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	who := owner(r, me)
	x, err := s.residents.AccessLogExtract(r.Context(), me, who, from, to)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	s.log.Info("resident log extract", "resident", who, "by", me, "proxy", x.Proxy, "rows", len(x.Rows), "format", format)
	return x, true
}

func (s *Server) accessLogJSON(w http.ResponseWriter, r *http.Request, me app.ID) {
	x, ok := s.extract(w, r, me, "json")
	if !ok {
		return
	}
	out := client.AccessLogExtract{ResidentID: string(x.ResidentID), ResidentName: x.ResidentName,
		From: x.From, To: x.To, MadeAt: x.MadeAt, Proxy: x.Proxy, Rows: make([]client.AccessLogEntry, 0, len(x.Rows))}
	for _, row := range x.Rows {
		out.Rows = append(out.Rows, client.AccessLogEntry{ID: string(row.ID), At: row.At, Action: string(row.Action),
			ActionLabel: row.ActionLabel, ClinicID: string(row.ClinicID), ClinicName: row.ClinicName,
			StaffName: row.StaffName, StaffTitle: row.StaffTitle, CaseID: string(row.CaseID), CaseSubject: row.CaseSubject})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) accessLogPDF(w http.ResponseWriter, r *http.Request, me app.ID) {
	x, ok := s.extract(w, r, me, "pdf")
	if !ok {
		return
	}
	data, err := export.LogExtractPDF(x)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	// A generic file name: no name or personnummer in a download folder.
	h.Set("Content-Disposition", `attachment; filename="loggutdrag.pdf"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}
