package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"mottagning/app"
)

// This file holds the Kannel back end and what both SMS back ends share:
// the configuration error, the gateway error with its codes, sender and
// number checks, and the HTTP plumbing.

// The configuration keys of the SMS gateway (docs/sms.md). The config
// loader reads them from the file and from the environment variables
// named in parentheses; errors from the senders name them.
const (
	SettingSMSKind     = "sms.kind"     // "kannel" | "elks" (MOTTAGNING_SMS_KIND)
	SettingSMSURL      = "sms.url"      // (MOTTAGNING_SMS_URL)
	SettingSMSUsername = "sms.username" // (MOTTAGNING_SMS_USERNAME)
	SettingSMSPassword = "sms.password" // (MOTTAGNING_SMS_PASSWORD)
	SettingSMSFrom     = "sms.from"     // (MOTTAGNING_SMS_FROM)
)

// SMSSettingError is a bad SMS gateway setting, found when a sender is
// built (or, for a hand-made struct, at the first send). It names the
// setting and never contains a secret.
type SMSSettingError struct {
	Setting string // e.g. "sms.from"
	Problem string
}

func (e *SMSSettingError) Error() string {
	return "SMS gateway setting " + e.Setting + " (" + envName(e.Setting) + "): " + e.Problem
}

// envName is the environment variable for a setting: sms.from ->
// MOTTAGNING_SMS_FROM.
func envName(setting string) string {
	return "MOTTAGNING_" + strings.ToUpper(strings.ReplaceAll(setting, ".", "_"))
}

// Codes of SMSGatewayError: stable, for logs and for the state staff see.
const (
	SMSCodeUnreachable = "unreachable"  // connection refused, DNS, reset: temporary
	SMSCodeTimeout     = "timeout"      // no answer in time: temporary (may have been sent)
	SMSCodeThrottled   = "throttled"    // 429: temporary, honour RetryAfter
	SMSCodeServer      = "server_error" // 5xx: temporary
	SMSCodeAuth        = "auth"         // 401/403 credentials refused: permanent until fixed
	SMSCodeNotRoutable = "not_routable" // Kannel: no SMSC takes this number: permanent
	SMSCodeBadRequest  = "bad_request"  // 400 and other refusals of this message: permanent
	SMSCodeBadNumber   = "bad_number"   // the number is not E.164; not sent: permanent
	SMSCodeBadText     = "bad_text"     // empty text; not sent: permanent
	SMSCodeNoCredit    = "no_credit"    // 402 payment required: temporary (top up)
	SMSCodeRejected    = "rejected"     // any other answer: permanent
	SMSCodeCanceled    = "canceled"     // the caller's context ended: temporary
)

// SMSGatewayError is a failed send. It carries a code, the HTTP status if
// there was one, and a cause that never holds the number, the text or a
// credential: gateways' answers are reduced to a short snippet with digit
// runs and the message removed. Temporary ones come wrapped in *TempError.
type SMSGatewayError struct {
	Gateway    string // "kannel" or "elks"
	Code       string // one of the SMSCode… constants
	Status     int    // HTTP status; 0 if no answer
	RetryAfter time.Duration
	Detail     string // sanitised: never a number, text or secret
}

func (e *SMSGatewayError) Error() string {
	var b strings.Builder
	b.WriteString("sms via ")
	b.WriteString(e.Gateway)
	b.WriteString(": ")
	b.WriteString(e.Code)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// RetryAfter returns how long the gateway asked us to wait (a 429 with
// Retry-After), if it did. The dispatcher should wait at least this long
// before the next attempt.
func RetryAfter(err error) (time.Duration, bool) {
	var g *SMSGatewayError
	if errors.As(err, &g) && g.RetryAfter > 0 {
		return g.RetryAfter, true
	}
	return 0, false
}

// SMSErrorCode returns the code of an SMS send error ("" for nil, and
// "internal" for an error that is not an SMSGatewayError).
func SMSErrorCode(err error) string {
	var g *SMSGatewayError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &g):
		return g.Code
	}
	var s *SMSSettingError
	if errors.As(err, &s) {
		return "config"
	}
	return "internal"
}

var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// checkMessage refuses what no gateway should get: a number not in E.164
// (app.NormalizePhone makes them when the resident saves) or empty text.
func checkMessage(gateway, to, text string) error {
	if !e164Pattern.MatchString(to) {
		return &SMSGatewayError{Gateway: gateway, Code: SMSCodeBadNumber, Detail: "recipient is not an E.164 number"}
	}
	if strings.TrimSpace(text) == "" {
		return &SMSGatewayError{Gateway: gateway, Code: SMSCodeBadText, Detail: "empty text"}
	}
	return nil
}

var alnumSender = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)

// checkSender validates the sender as operators and 46elks take it: an
// alphanumeric sender ID of at most 11 letters A–Z, a–z and digits with at
// least one letter (GSM 03.40 alphanumeric address: 11 characters), or a
// phone number in E.164. shortCode also allows a plain digit string (a
// short number such as 1177, which Kannel passes to the operator as is).
func checkSender(from string, required, shortCode bool) error {
	switch {
	case from == "":
		if required {
			return &SMSSettingError{SettingSMSFrom, "missing: give a sender name of at most 11 letters and digits, or a number in +46… form"}
		}
		return nil
	case e164Pattern.MatchString(from):
		return nil
	case shortCode && regexp.MustCompile(`^[0-9]{3,15}$`).MatchString(from):
		return nil
	case alnumSender.MatchString(from) && strings.Trim(from, "0123456789") != "":
		return nil
	}
	return &SMSSettingError{SettingSMSFrom, "must be a sender name of at most 11 letters A–Z, a–z and digits (no spaces, no å ä ö), or a number in +46… form"}
}

// checkURL parses a gateway URL. Plain http is allowed only where it cannot
// leak the credentials off the machine, unless allowHTTP (Kannel is often
// on a private network next to the server).
func checkURL(raw string, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &SMSSettingError{SettingSMSURL, "must be an http:// or https:// URL with a host"}
	}
	if u.User != nil {
		return nil, &SMSSettingError{SettingSMSURL, "must not contain credentials; use " + SettingSMSUsername + " and " + SettingSMSPassword}
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return nil, &SMSSettingError{SettingSMSURL, "must use https:// (plain http only to a gateway on this machine)"}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkCredentials(username, password string) error {
	if username == "" {
		return &SMSSettingError{SettingSMSUsername, "missing"}
	}
	if password == "" {
		return &SMSSettingError{SettingSMSPassword, "missing"}
	}
	return nil
}

// noRedirects: a gateway that redirects is misconfigured, and following it
// would resend the credentials (and for 301/302 turn the POST into a GET).
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// defaultSMSClient is used when a sender has no HTTPClient. Its own
// timeout is a backstop; each send has its context deadline.
var defaultSMSClient = &http.Client{CheckRedirect: noRedirects, Timeout: 2 * time.Minute}

// do sends req and returns the status, the header and up to 4 KiB of the body. A
// transport failure comes back as a temporary SMSGatewayError whose detail
// never includes the URL (it could carry query parameters).
func do(ctx context.Context, client *http.Client, gateway string, req *http.Request) (int, http.Header, string, error) {
	if client == nil {
		client = defaultSMSClient
	} else if client.CheckRedirect == nil {
		c := *client
		c.CheckRedirect = noRedirects
		client = &c
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", &TempError{Err: transportError(ctx, gateway, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil && len(body) == 0 && resp.StatusCode/100 != 2 {
		return 0, nil, "", &TempError{Err: transportError(ctx, gateway, err)}
	}
	// A 2xx whose body broke off is still accepted: the gateway took it.
	return resp.StatusCode, resp.Header, string(body), nil
}

// transportError classifies a failure without an HTTP answer.
func transportError(ctx context.Context, gateway string, err error) *SMSGatewayError {
	g := &SMSGatewayError{Gateway: gateway, Code: SMSCodeUnreachable}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop "Post \"url\": " from the text
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		g.Code = SMSCodeCanceled
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		// The request may have reached the gateway: a retry can then
		// send a second SMS. That is the price of not losing one.
		g.Code = SMSCodeTimeout
	}
	g.Detail = sanitize(err.Error(), "", "")
	return g
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var digitRun = regexp.MustCompile(`\+?[0-9][0-9 \-]{3,}[0-9]`)

// sanitize makes a gateway's answer fit for an error string and logs: one
// line, printable, at most 100 bytes, with the number, the text and any run
// of 6 or more digits, spaces and hyphens (a number in another format)
// removed. Host:port in transport errors survive: ports have at most 5
// digits.
func sanitize(s, to, text string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	// Control characters go first: one inside a number must not split it
	// into runs the blanking below no longer recognises.
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if text != "" {
		s = strings.ReplaceAll(s, text, "[text]")
	}
	if to != "" {
		s = strings.ReplaceAll(s, to, "[number]")
		s = strings.ReplaceAll(s, strings.TrimPrefix(to, "+"), "[number]")
	}
	s = digitRun.ReplaceAllStringFunc(s, func(m string) string {
		n := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		if n >= 6 {
			return "[digits]"
		}
		return m
	})
	s = strings.TrimSpace(s)
	if len(s) > 100 {
		s = strings.ToValidUTF8(s[:100], "") + "…"
	}
	return s
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; it caps the
// wait at a day so a wrong header cannot park the queue.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(h); err == nil {
		// Capped before the multiplication, which would overflow.
		d = time.Duration(min(max(secs, 0), 24*60*60)) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, 24*time.Hour)
}

// classify maps an HTTP answer that is not a success. Temporary ones are
// wrapped in *TempError.
func classify(g *SMSGatewayError) error {
	switch g.Code {
	case SMSCodeThrottled, SMSCodeServer, SMSCodeTimeout, SMSCodeUnreachable, SMSCodeNoCredit, SMSCodeCanceled:
		return &TempError{Err: g}
	}
	return g
}

// statusCode gives the code for an HTTP status both gateways share.
func statusCode(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return SMSCodeThrottled
	case status == http.StatusRequestTimeout:
		return SMSCodeTimeout
	case status == http.StatusPaymentRequired:
		return SMSCodeNoCredit
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return SMSCodeAuth
	case status == http.StatusBadRequest:
		return SMSCodeBadRequest
	case status >= 500:
		return SMSCodeServer
	}
	return SMSCodeRejected
}

// KannelSender sends SMS through Kannel's smsbox sendsms HTTP interface
// (Kannel user guide, "Kannel's HTTP interface: sending SMS"). Kannel then
// speaks SMPP (or another SMSC protocol) to the operator; we never do.
//
// The request is a POST with the parameters as X-Kannel-* headers and the
// text as a text/plain body in UTF-8, a form the guide documents next to
// GET. Unlike GET it keeps the password, the number and the text out of
// URLs, and so out of Kannel's and any proxy's access logs.
//
// Build one with NewKannelSender, or fill the struct and call Validate.
type KannelSender struct {
	// BaseURL is the sendsms URL of the smsbox, for example
	// http://127.0.0.1:13013/cgi-bin/sendsms (sms.url).
	BaseURL string
	// Username and Password of a sendsms-user group (sms.username,
	// sms.password).
	Username, Password string
	// From is the sender (sms.from): an alphanumeric name of at most 11
	// characters, a number in E.164, or a short number. Empty leaves it to
	// Kannel's global-sender / the sendsms-user's faked-sender.
	From string
	// HTTPClient is used for requests; nil means a default client. Its
	// redirects are never followed.
	HTTPClient *http.Client
	// Timeout bounds one send; 0 means 15 seconds.
	Timeout time.Duration
}

// NewKannelSender returns a validated KannelSender.
func NewKannelSender(baseURL, username, password, from string) (*KannelSender, error) {
	k := &KannelSender{BaseURL: baseURL, Username: username, Password: password, From: from}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	return k, nil
}

// Validate checks the settings; the error is an *SMSSettingError naming
// the setting.
func (k *KannelSender) Validate() error {
	if _, err := checkURL(k.BaseURL, true); err != nil {
		return err
	}
	if err := checkCredentials(k.Username, k.Password); err != nil {
		return err
	}
	return checkSender(k.From, false, true)
}

// SendSMS sends text to the E.164 number to. nil means Kannel accepted it
// (202 "0: Accepted for delivery", or "3: Queued for later delivery" when
// the SMSC link is down and Kannel stores it). 503 and other 5xx,
// timeouts and a refused connection are *TempError; 403 (bad credentials,
// "Not routable") and 400 are permanent.
func (k *KannelSender) SendSMS(ctx context.Context, to, text string) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if err := checkMessage("kannel", to, text); err != nil {
		return err
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.BaseURL, strings.NewReader(text))
	if err != nil {
		return &SMSSettingError{SettingSMSURL, "cannot make a request with it"}
	}
	req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
	req.Header.Set("X-Kannel-Username", k.Username)
	req.Header.Set("X-Kannel-Password", k.Password)
	req.Header.Set("X-Kannel-To", to)
	if k.From != "" {
		req.Header.Set("X-Kannel-From", k.From)
	}
	// coding 0 is GSM 7-bit: Kannel converts the UTF-8 body to the GSM
	// alphabet (å ä ö are in it). Text outside GSM-7 goes as UCS-2
	// (coding 2), which Kannel converts from UTF-8 as well.
	coding := "0"
	if _, ok := app.GSM7Segments(text); !ok {
		coding = "2"
	}
	req.Header.Set("X-Kannel-Coding", coding)

	status, _, body, err := do(ctx, k.HTTPClient, "kannel", req)
	if err != nil {
		return fmt.Errorf("kannel sendsms: %w", err)
	}
	if status/100 == 2 {
		return nil
	}
	g := &SMSGatewayError{Gateway: "kannel", Status: status, Code: statusCode(status), Detail: sanitize(body, to, text)}
	if status == http.StatusForbidden && strings.Contains(body, "Not routable") {
		g.Code = SMSCodeNotRoutable
	}
	return fmt.Errorf("kannel sendsms: %w", classify(g))
}
