package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ElksDefaultURL is 46elks' API base; the sender appends /a1/sms.
const ElksDefaultURL = "https://api.46elks.com"

// ElksSender sends SMS through the HTTP API of 46elks, a Swedish SMS
// provider (46elks.se/docs, "Send an SMS"): POST {BaseURL}/a1/sms with the
// form fields from, to and message, authenticated with HTTP basic auth
// (API username and API password). Other providers with the same shape
// work too.
//
// Build one with NewElksSender, which checks the settings.
type ElksSender struct {
	// BaseURL is the API base (sms.url), ElksDefaultURL if empty. It must
	// be https unless the host is loopback (a test server).
	BaseURL string
	// Username and Password are the API credentials (sms.username,
	// sms.password).
	Username, Password string
	// From is the sender (sms.from): a text sender ID of at most 11
	// letters and digits with at least one letter, or a number in E.164.
	From string
	// HTTPClient is used for requests; nil means a default client. Its
	// redirects are never followed.
	HTTPClient *http.Client
	// Timeout bounds one send; 0 means 15 seconds.
	Timeout time.Duration
	// now is the clock for Retry-After dates; nil means time.Now.
	now func() time.Time
}

// NewElksSender returns a validated ElksSender. baseURL "" means
// ElksDefaultURL.
func NewElksSender(baseURL, username, password, from string) (*ElksSender, error) {
	e := &ElksSender{BaseURL: baseURL, Username: username, Password: password, From: from}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// Validate checks the settings; the error is an *SMSSettingError naming
// the setting.
func (e *ElksSender) Validate() error {
	_, err := e.endpoint()
	if err != nil {
		return err
	}
	if err := checkCredentials(e.Username, e.Password); err != nil {
		return err
	}
	return checkSender(e.From, true, false)
}

func (e *ElksSender) endpoint() (string, error) {
	base := e.BaseURL
	if base == "" {
		base = ElksDefaultURL
	}
	u, err := checkURL(base, false)
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", &SMSSettingError{SettingSMSURL, "must be the API base without ?query or #fragment"}
	}
	return strings.TrimSuffix(u.String(), "/") + "/a1/sms", nil
}

// elksResponse is the part of 46elks' answer we read.
type elksResponse struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "created", "sent", "delivered" or "failed"
}

// SendSMS sends text to the E.164 number to. nil means the provider
// accepted it (2xx). 429 (with Retry-After, see RetryAfter), 5xx, 402 (no
// credit: retried after a top-up), timeouts and an unreachable API are
// *TempError; 400, 401, 403 and a 2xx with status "failed" are permanent.
func (e *ElksSender) SendSMS(ctx context.Context, to, text string) error {
	if err := e.Validate(); err != nil {
		return err
	}
	endpoint, err := e.endpoint()
	if err != nil {
		return err
	}
	if err := checkMessage("elks", to, text); err != nil {
		return err
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	form := url.Values{"from": {e.From}, "to": {to}, "message": {text}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return &SMSSettingError{SettingSMSURL, "cannot make a request with it"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(e.Username, e.Password)

	now := time.Now
	if e.now != nil {
		now = e.now
	}
	status, header, body, err := do(ctx, e.HTTPClient, "elks", req)
	if err != nil {
		return fmt.Errorf("elks send sms: %w", err)
	}
	if status/100 == 2 {
		var r elksResponse
		if json.Unmarshal([]byte(body), &r) == nil && r.Status == "failed" {
			return fmt.Errorf("elks send sms: %w", &SMSGatewayError{Gateway: "elks", Code: SMSCodeRejected, Status: status, Detail: "status failed"})
		}
		// Accepted. An answer we cannot read is still a 2xx: sending
		// again would deliver twice.
		return nil
	}
	g := &SMSGatewayError{Gateway: "elks", Status: status, Code: statusCode(status), Detail: sanitize(body, to, text)}
	if status == http.StatusTooManyRequests {
		g.RetryAfter = parseRetryAfter(header.Get("Retry-After"), now())
	}
	return fmt.Errorf("elks send sms: %w", classify(g))
}
