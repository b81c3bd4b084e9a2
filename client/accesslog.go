package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The resident's own log extract (issue 8; patientdatalagen 8 kap. 1 §):
// every access staff made to the resident's data, or (For) a child's they
// may act for in proxy mode, in a period, from every clinic. The server
// records that the extract was made. From and To are calendar dates
// (YYYY-MM-DD, Europe/Stockholm), To included; both empty: the last twelve
// months up to today. At most one year.
//
// Refusals: 400 "invalid" (field from, to or period); 403
// "proxy_not_allowed" (R5, R7, R8, blocked) or "login_locked" (R10); 401
// without a valid session.

// AccessLogQuery selects whose extract and which period.
type AccessLogQuery struct {
	For      string
	From, To string
}

func (q AccessLogQuery) values() string {
	v := url.Values{}
	if q.For != "" {
		v.Set("for", q.For)
	}
	if q.From != "" {
		v.Set("from", q.From)
	}
	if q.To != "" {
		v.Set("to", q.To)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// AccessLogExtract is the log extract as JSON.
type AccessLogExtract struct {
	ResidentID   string `json:"residentId"`
	ResidentName string `json:"residentName"`
	// From and To are the period [from, to) as instants.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// MadeAt is when the server made the extract; Proxy is set when a
	// guardian fetched a child's extract.
	MadeAt time.Time        `json:"madeAt"`
	Proxy  bool             `json:"proxy"`
	Rows   []AccessLogEntry `json:"rows"`
}

// AccessLogEntry is one access: when, what, from which clinic and by
// which staff member (name and title, never an account id).
type AccessLogEntry struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	Action      string    `json:"action"`
	ActionLabel string    `json:"actionLabel"`
	ClinicID    string    `json:"clinicId"`
	ClinicName  string    `json:"clinicName"`
	StaffName   string    `json:"staffName"`
	StaffTitle  string    `json:"staffTitle,omitempty"`
	CaseID      string    `json:"caseId,omitempty"`
	// CaseSubject is the case's subject, so that the resident recognises it.
	CaseSubject string `json:"caseSubject,omitempty"`
}

// AccessLog returns the log extract as JSON.
func (c *Client) AccessLog(ctx context.Context, token string, q AccessLogQuery) (*AccessLogExtract, error) {
	var out AccessLogExtract
	return &out, c.Do(ctx, http.MethodGet, "/api/resident/access-log"+q.values(), token, nil, &out)
}

// AccessLogPDF returns the log extract as a printable A4 PDF.
func (c *Client) AccessLogPDF(ctx context.Context, token string, q AccessLogQuery) ([]byte, error) {
	u := *c.base
	u.Path = c.base.Path + "/api/resident/access-log/pdf"
	u.RawQuery = strings.TrimPrefix(q.values(), "?")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("client: access log pdf: %w", err)
	}
	req.Header.Set("Accept", "application/pdf")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: access log pdf: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("client: access log pdf: read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code = "http_" + strconv.Itoa(resp.StatusCode)
		}
		return nil, e
	}
	return data, nil
}
