package client

import (
	"context"
	"net/http"
	"net/url"

	"mottagning/app/form"
)

// E-service submissions through the resident API (issue 7, item 7): the
// resident (or a guardian in proxy mode, For) lists what a clinic offers
// with the published forms, and submits answers; the server validates them
// with the same form engine and answers 201 with the new case.
//
// Refusals: 400 "invalid" with Field set to the first refused answer's
// path and one Reason per refused answer (Code the engine's field code,
// Message the Swedish sentence naming the question, Field its path); 403
// "forbidden" with a Reason "not_available" whose Message is the Swedish
// reason (closed, age, proxy not allowed, not named); 403
// "proxy_not_allowed" or "login_locked"; 404 when the clinic does not offer
// the e-service or it has no published form.

// SubmissionRequest is the body of a submission.
type SubmissionRequest struct {
	ClinicID string `json:"clinicId"`
	// For is the child's id in proxy mode; empty: the resident themselves.
	For     string       `json:"for,omitempty"`
	Answers form.Answers `json:"answers"`
}

// EServiceForm is an e-service with its latest published form and whether
// the caller may use it today (Reason, Swedish, when not).
type EServiceForm struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Standard    bool       `json:"standard"`
	Version     int        `json:"version"`
	Form        *form.Form `json:"form"`
	Available   bool       `json:"available"`
	Reason      string     `json:"reason,omitempty"`
}

// PublishedForm is the latest published version of an e-service's form.
type PublishedForm struct {
	EServiceID string     `json:"eserviceId"`
	Version    int        `json:"version"`
	Form       *form.Form `json:"form"`
}

// ClinicEServices lists the e-services of clinic that have a published
// form, for the resident or (forID) a child in proxy mode.
func (c *Client) ClinicEServices(ctx context.Context, token, clinic, forID string) ([]EServiceForm, error) {
	var out []EServiceForm
	return out, c.Do(ctx, http.MethodGet, "/api/resident/clinics/"+esc(clinic)+"/eservices"+forQuery(forID), token, nil, &out)
}

// EServiceForm returns the latest published form of an e-service.
func (c *Client) EServiceForm(ctx context.Context, token, eservice string) (*PublishedForm, error) {
	var out PublishedForm
	return &out, c.Do(ctx, http.MethodGet, "/api/resident/eservices/"+url.PathEscape(eservice)+"/form", token, nil, &out)
}

// Submit submits answers to an e-service; the answer is the new case.
func (c *Client) Submit(ctx context.Context, token, eservice string, req SubmissionRequest) (*ResidentCase, error) {
	var out ResidentCase
	return &out, c.Do(ctx, http.MethodPost, "/api/resident/eservices/"+esc(eservice)+"/submissions", token, req, &out)
}
