// Package client is the Go client of the central server's API
// (docs/openapi.yaml): the staff API the desktop uses and the resident API
// 1177.se would call. The server's own tests drive the server through it.
//
// The server usually runs with a self-signed certificate whose SHA-256
// fingerprint it prints at start; Options.PinSHA256 pins it, so the
// connection is trusted by that fingerprint alone (and refused for any
// other certificate), with no CA involved.
package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	msync "mottagning/sync"
)

// Options configure a Client.
type Options struct {
	// PinSHA256 is the hex SHA-256 of the server certificate (DER), with or
	// without colons. When set, only that certificate is accepted.
	PinSHA256 string
	// RootCAs verifies the server normally when no pin is set (nil: the
	// system roots).
	RootCAs *x509.CertPool
	// Timeout bounds each request (default 30 s).
	Timeout time.Duration
	// HTTPClient replaces the whole transport (tests); the other options
	// are then ignored.
	HTTPClient *http.Client
}

// DialTimeout bounds a connection attempt to the server.
const DialTimeout = 5 * time.Second

// ErrPinMismatch: the server's certificate is not the pinned one. It is
// the sync package's value, so that the desktop's engine recognises it.
var ErrPinMismatch = msync.ErrPinMismatch

// Client calls one server. It is safe for concurrent use. Tokens are not
// kept in the Client: each call takes the token it acts with, so one
// Client can serve several staff members or residents (and tests).
type Client struct {
	base *url.URL
	http *http.Client
	// pin is the accepted certificate's SHA-256 when pinned (nil: CA
	// verification). SetPin moves it (a rotation the server announced).
	pin *atomic.Pointer[[32]byte]
}

// New returns a client for baseURL (https://host:port).
func New(baseURL string, opt Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("client: base URL %q: want https://host:port", baseURL)
	}
	hc := opt.HTTPClient
	var pinned *atomic.Pointer[[32]byte]
	if hc == nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: opt.RootCAs}
		if opt.PinSHA256 != "" {
			pin, err := ParseFingerprint(opt.PinSHA256)
			if err != nil {
				return nil, err
			}
			pinned = new(atomic.Pointer[[32]byte])
			pinned.Store(&pin)
			// The pin replaces CA verification: a self-signed certificate
			// is trusted for exactly its fingerprint.
			tc.InsecureSkipVerify = true
			tc.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return ErrPinMismatch
				}
				if sha256.Sum256(cs.PeerCertificates[0].Raw) != *pinned.Load() {
					return ErrPinMismatch
				}
				return nil
			}
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		tr.MaxIdleConnsPerHost = 64
		tr.Proxy = nil // the server is reached directly; a proxy would see the pinning fail anyway
		// A server that does not answer a connect within DialTimeout is
		// down for now: the sync engine tries again within seconds, and a
		// connect held for the whole request timeout would delay the
		// first push after the server is back (issue 14).
		tr.DialContext = (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext
		timeout := opt.Timeout
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		hc = &http.Client{Transport: tr, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Client{base: u, http: hc, pin: pinned}, nil
}

// SetPin moves the pin of a pinned client to fp: from the next connection
// on only that certificate is accepted (connections open now were made
// with the old pin and are closed). A client without a pin is refused.
func (c *Client) SetPin(fp string) error {
	if c.pin == nil {
		return errors.New("client: set pin: the client is not pinned")
	}
	p, err := ParseFingerprint(fp)
	if err != nil {
		return err
	}
	c.pin.Store(&p)
	c.http.CloseIdleConnections()
	return nil
}

// ParseFingerprint parses a hex SHA-256 fingerprint, with or without colons.
func ParseFingerprint(s string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if err != nil || len(b) != 32 {
		return out, fmt.Errorf("client: fingerprint: want 64 hex digits (SHA-256)")
	}
	copy(out[:], b)
	return out, nil
}

// Fingerprint formats the SHA-256 of a DER certificate as the server prints it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// HTTP returns the underlying *http.Client (with the pinning), for
// requests the typed methods do not make.
func (c *Client) HTTP() *http.Client { return c.http }

// CloseIdle closes idle connections.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }

// Do sends a request with a JSON body (nil: none) and decodes the JSON
// answer into out (nil: discard). An error answer is returned as *Error.
// It is exported for endpoints without a typed method and for tests of
// malformed requests.
func (c *Client) Do(ctx context.Context, method, path, token string, body, out any) error {
	return c.do(ctx, method, path, token, "application/json", body, out)
}

// do is Do asking for the media type accept; an answer of another type
// than JSON is handed to out's UnmarshalBinary.
func (c *Client) do(ctx context.Context, method, path, token, accept string, body, out any) error {
	var rd io.Reader
	if body != nil {
		if raw, ok := body.(json.RawMessage); ok {
			rd = bytes.NewReader(raw)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				return fmt.Errorf("client: encode %s %s: %w", method, path, err)
			}
			rd = bytes.NewReader(b)
		}
	}
	u := *c.base
	p, q, _ := strings.Cut(path, "?")
	u.Path = c.base.Path + p
	u.RawQuery = q
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, p, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("client: %s %s: read answer: %w", method, p, err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code = "http_" + strconv.Itoa(resp.StatusCode)
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if bu, ok := out.(encoding.BinaryUnmarshaler); ok && accept != "application/json" && resp.Header.Get("Content-Type") == accept {
		if err := bu.UnmarshalBinary(data); err != nil {
			return fmt.Errorf("client: %s %s: decode answer: %w", method, p, err)
		}
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("client: %s %s: decode answer: %w", method, p, err)
	}
	return nil
}

// Code returns the stable code of an API error ("" for nil, "transport"
// for an error that is not an API answer).
func Code(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "transport"
}

func esc(s string) string { return url.PathEscape(s) }

func clinicPath(clinic string) string { return "/api/staff/clinics/" + esc(clinic) }

func casePath(clinic, id string) string { return clinicPath(clinic) + "/cases/" + esc(id) }

// Healthz checks that the server answers.
func (c *Client) Healthz(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return &Error{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode)}
	}
	return nil
}

// Metrics returns the Prometheus text of GET /metrics.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// --- staff ---

// StaffSignIn signs a staff member in on a device.
func (c *Client) StaffSignIn(ctx context.Context, req StaffSignInRequest) (*Tokens, error) {
	var t Tokens
	return &t, c.Do(ctx, http.MethodPost, "/api/staff/auth/signin", "", req, &t)
}

// StaffRefresh exchanges a refresh token for new tokens.
func (c *Client) StaffRefresh(ctx context.Context, refresh string) (*Tokens, error) {
	var t Tokens
	return &t, c.Do(ctx, http.MethodPost, "/api/staff/auth/refresh", "", RefreshRequest{RefreshToken: refresh}, &t)
}

// StaffChallenge fetches a device challenge (to sign with the device key).
func (c *Client) StaffChallenge(ctx context.Context) (*Challenge, error) {
	var ch Challenge
	return &ch, c.Do(ctx, http.MethodPost, msync.PathChallenge, "", nil, &ch)
}

// StaffRefreshWith exchanges a refresh token for new tokens with a full
// request (a device key to adopt).
func (c *Client) StaffRefreshWith(ctx context.Context, req RefreshRequest) (*Tokens, error) {
	var t Tokens
	return &t, c.Do(ctx, http.MethodPost, "/api/staff/auth/refresh", "", req, &t)
}

// StaffSignOut ends the token's session (its tokens stop); the device
// stays registered.
func (c *Client) StaffSignOut(ctx context.Context, token string) error {
	return c.Do(ctx, http.MethodPost, "/api/staff/auth/signout", token, nil, nil)
}

// Devices lists the devices the token's staff member may revoke
// (administrators).
func (c *Client) Devices(ctx context.Context, token string) ([]Device, error) {
	var out []Device
	return out, c.Do(ctx, http.MethodGet, "/api/staff/devices", token, nil, &out)
}

// RevokeDevice revokes a device with a reason its users are shown
// (administrators).
func (c *Client) RevokeDevice(ctx context.Context, token, id, reason string) error {
	return c.Do(ctx, http.MethodPost, "/api/staff/devices/"+esc(id)+"/revoke", token, RevokeDeviceRequest{Reason: reason}, nil)
}

// The device-bound sign-in of a connected desktop (msync.AuthRemote).

// SyncChallenge fetches a device challenge.
func (c *Client) SyncChallenge(ctx context.Context) (string, error) {
	ch, err := c.StaffChallenge(ctx)
	if err != nil {
		return "", err
	}
	return ch.Challenge, nil
}

// SyncDeviceSignIn signs a staff member in on this device: registering it
// with its key, or naming it with its proof.
func (c *Client) SyncDeviceSignIn(ctx context.Context, req msync.SignInRequest) (*msync.Session, error) {
	t, err := c.StaffSignIn(ctx, StaffSignInRequest{Username: req.Username, Password: req.Password, TOTP: req.TOTP,
		RecoveryCode: req.RecoveryCode, DeviceID: req.DeviceID, DeviceName: req.DeviceName, DeviceKey: req.DeviceKey, Challenge: req.Challenge, DeviceProof: req.DeviceProof})
	if err != nil {
		return nil, err
	}
	return syncSession(t), nil
}

// SyncAdoptRefresh exchanges a refresh token and adopts the device key
// for the token's device (a device registered before device keys).
func (c *Client) SyncAdoptRefresh(ctx context.Context, refresh string, key []byte, challenge string, proof []byte) (*msync.Session, error) {
	t, err := c.StaffRefreshWith(ctx, RefreshRequest{RefreshToken: refresh, DeviceKey: key, Challenge: challenge, DeviceProof: proof})
	if err != nil {
		return nil, err
	}
	return syncSession(t), nil
}

func syncSession(t *Tokens) *msync.Session {
	return &msync.Session{Access: t.AccessToken, Refresh: t.RefreshToken, AccessExpires: t.AccessExpires, DeviceID: t.DeviceID,
		KeyBound: t.DeviceKeyBound}
}

// StaffMe returns who the token belongs to.
func (c *Client) StaffMe(ctx context.Context, token string) (*StaffMe, error) {
	var me StaffMe
	return &me, c.Do(ctx, http.MethodGet, "/api/staff/me", token, nil, &me)
}

// Cases lists one page of Mottagningens ärenden (List "clinic") or Mina
// ärenden ("mine").
func (c *Client) Cases(ctx context.Context, token, clinic string, q CaseListQuery) (*CasePage, error) {
	v := url.Values{}
	if q.List != "" {
		v.Set("list", q.List)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	p := clinicPath(clinic) + "/cases"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	var page CasePage
	return &page, c.Do(ctx, http.MethodGet, p, token, nil, &page)
}

// SearchCases is the filtered, sorted case list.
func (c *Client) SearchCases(ctx context.Context, token, clinic string, q CaseSearch) (*CasePage, error) {
	var page CasePage
	return &page, c.Do(ctx, http.MethodPost, clinicPath(clinic)+"/cases/search", token, q, &page)
}

// OpenCase opens a case (access-logged): thread, read receipts and notes.
func (c *Client) OpenCase(ctx context.Context, token, clinic, id string) (*Thread, error) {
	var t Thread
	return &t, c.Do(ctx, http.MethodGet, casePath(clinic, id), token, nil, &t)
}

// CaseNotifications lists the notifications of a case.
func (c *Client) CaseNotifications(ctx context.Context, token, clinic, id string) ([]NotificationStatus, error) {
	var out []NotificationStatus
	return out, c.Do(ctx, http.MethodGet, casePath(clinic, id)+"/notifications", token, nil, &out)
}

// Reply adds a staff reply.
func (c *Client) Reply(ctx context.Context, token, clinic, id, text string) (*Case, error) {
	var out Case
	return &out, c.Do(ctx, http.MethodPost, casePath(clinic, id)+"/replies", token, TextRequest{Text: text}, &out)
}

// AddNote adds an internal note.
func (c *Client) AddNote(ctx context.Context, token, clinic, id, text string) (*Case, error) {
	var out Case
	return &out, c.Do(ctx, http.MethodPost, casePath(clinic, id)+"/notes", token, TextRequest{Text: text}, &out)
}

// Assign gives a case to a staff member.
func (c *Client) Assign(ctx context.Context, token, clinic, id, assignee string) (*Case, error) {
	var out Case
	return &out, c.Do(ctx, http.MethodPost, casePath(clinic, id)+"/assign", token, AssignRequest{AssigneeID: assignee}, &out)
}

// Close closes a case.
func (c *Client) Close(ctx context.Context, token, clinic, id string) (*Case, error) {
	var out Case
	return &out, c.Do(ctx, http.MethodPost, casePath(clinic, id)+"/close", token, nil, &out)
}

// Reopen reopens a closed case.
func (c *Client) Reopen(ctx context.Context, token, clinic, id string) (*Case, error) {
	var out Case
	return &out, c.Do(ctx, http.MethodPost, casePath(clinic, id)+"/reopen", token, nil, &out)
}

// LookupResident looks a resident up for Skicka ärende (access-logged).
func (c *Client) LookupResident(ctx context.Context, token, clinic, pnr string) (*ResidentView, error) {
	var v ResidentView
	return &v, c.Do(ctx, http.MethodPost, clinicPath(clinic)+"/residents/lookup", token, LookupRequest{Personnummer: pnr}, &v)
}

// SendCase is Skicka ärende.
func (c *Client) SendCase(ctx context.Context, token, clinic string, req SendCaseRequest) (*Case, error) {
	var out Case
	return &out, c.Do(ctx, http.MethodPost, clinicPath(clinic)+"/cases", token, req, &out)
}

// Templates lists the clinic's templates; kind "" for all.
func (c *Client) Templates(ctx context.Context, token, clinic, kind string) ([]Template, error) {
	p := clinicPath(clinic) + "/templates"
	if kind != "" {
		p += "?kind=" + url.QueryEscape(kind)
	}
	var out []Template
	return out, c.Do(ctx, http.MethodGet, p, token, nil, &out)
}

// BlockGuardian blocks or unblocks a guardian's proxy access to a child.
func (c *Client) BlockGuardian(ctx context.Context, token, clinic, child, guardian string, blocked bool) error {
	return c.Do(ctx, http.MethodPost, clinicPath(clinic)+"/children/"+esc(child)+"/guardians/"+esc(guardian)+"/block", token, BlockGuardianRequest{Blocked: blocked}, nil)
}

// TestNotification is "Skicka testavisering".
func (c *Client) TestNotification(ctx context.Context, token, clinic, channel, address string) error {
	return c.Do(ctx, http.MethodPost, clinicPath(clinic)+"/notifications/test", token, TestNotificationRequest{Channel: channel, Address: address}, nil)
}

// RegionFind looks a resident up for the kontaktcenter (access-logged).
func (c *Client) RegionFind(ctx context.Context, token, pnr string) (*RegionResident, error) {
	var out RegionResident
	if err := c.Do(ctx, http.MethodPost, "/api/staff/region/residents/find", token, RegionResidentRequest{Personnummer: pnr}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RegionLock locks (req.On) or unlocks a resident's login (kontaktcenter),
// with the identity check and the reason; it returns the resident as now.
func (c *Client) RegionLock(ctx context.Context, token string, req RegionResidentRequest) (*RegionResident, error) {
	var out RegionResident
	if err := c.Do(ctx, http.MethodPost, "/api/staff/region/residents/lock", token, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RegionSeal seals (on) or unseals a resident's record (kontaktcenter).
func (c *Client) RegionSeal(ctx context.Context, token, pnr string, on bool) error {
	return c.Do(ctx, http.MethodPost, "/api/staff/region/residents/seal", token, RegionResidentRequest{Personnummer: pnr, On: on}, nil)
}

// --- resident ---

// EIDStart starts an e-ID sign-in.
func (c *Client) EIDStart(ctx context.Context, pnr string) (string, error) {
	var out EIDStartResponse
	err := c.Do(ctx, http.MethodPost, "/api/resident/auth/start", "", EIDStartRequest{Personnummer: pnr}, &out)
	return out.OrderRef, err
}

// EIDCollect polls an e-ID order once.
func (c *Client) EIDCollect(ctx context.Context, orderRef string) (*EIDCollectResponse, error) {
	var out EIDCollectResponse
	return &out, c.Do(ctx, http.MethodPost, "/api/resident/auth/collect", "", EIDCollectRequest{OrderRef: orderRef}, &out)
}

// ResidentSignIn starts an order and collects it every poll until it
// completes (BankID asks for 2 s; tests pass less).
func (c *Client) ResidentSignIn(ctx context.Context, pnr string, poll time.Duration) (*ResidentSession, error) {
	ref, err := c.EIDStart(ctx, pnr)
	if err != nil {
		return nil, err
	}
	for {
		res, err := c.EIDCollect(ctx, ref)
		if err != nil {
			return nil, err
		}
		if res.Status == "complete" && res.Session != nil {
			return res.Session, nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// ResidentSignOut ends the session.
func (c *Client) ResidentSignOut(ctx context.Context, token string) error {
	return c.Do(ctx, http.MethodPost, "/api/resident/auth/signout", token, nil, nil)
}

// ResidentMe returns the signed-in resident.
func (c *Client) ResidentMe(ctx context.Context, token string) (*ResidentMe, error) {
	var out ResidentMe
	return &out, c.Do(ctx, http.MethodGet, "/api/resident/me", token, nil, &out)
}

// Clinics lists the clinics and their e-services.
func (c *Client) Clinics(ctx context.Context, token string) ([]Clinic, error) {
	var out []Clinic
	return out, c.Do(ctx, http.MethodGet, "/api/resident/clinics", token, nil, &out)
}

func forQuery(forID string) string {
	if forID == "" {
		return ""
	}
	return "?for=" + url.QueryEscape(forID)
}

// Inbox lists all the resident's cases, or (forID) a child's in proxy
// mode, newest first, following the pages (InboxPage).
func (c *Client) Inbox(ctx context.Context, token, forID string) ([]ResidentCase, error) {
	var out []ResidentCase
	cursor := ""
	for {
		page, err := c.InboxPage(ctx, token, forID, cursor, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Cases...)
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// InboxPage reads one page of the inbox: at most limit cases (0: the
// server's default, 50) after cursor ("" for the first page).
func (c *Client) InboxPage(ctx context.Context, token, forID, cursor string, limit int) (*InboxPage, error) {
	q := url.Values{}
	if forID != "" {
		q.Set("for", forID)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/api/resident/cases"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out InboxPage
	return &out, c.Do(ctx, http.MethodGet, path, token, nil, &out)
}

// ReadCase opens a case in the inbox and sets the read receipts.
func (c *Client) ReadCase(ctx context.Context, token, id string) (*ResidentThread, error) {
	var out ResidentThread
	return &out, c.Do(ctx, http.MethodGet, "/api/resident/cases/"+esc(id), token, nil, &out)
}

// ResidentReply answers a case.
func (c *Client) ResidentReply(ctx context.Context, token, id, text string) (*ResidentCase, error) {
	var out ResidentCase
	return &out, c.Do(ctx, http.MethodPost, "/api/resident/cases/"+esc(id)+"/replies", token, TextRequest{Text: text}, &out)
}

// StartCase starts a case through an e-service.
func (c *Client) StartCase(ctx context.Context, token string, req StartCaseRequest) (*ResidentCase, error) {
	var out ResidentCase
	return &out, c.Do(ctx, http.MethodPost, "/api/resident/cases", token, req, &out)
}

// UpdateSettings saves the resident's own settings.
func (c *Client) UpdateSettings(ctx context.Context, token string, s Settings) (*Settings, error) {
	var out Settings
	return &out, c.Do(ctx, http.MethodPut, "/api/resident/settings", token, s, &out)
}

// Children lists the resident's children from the register.
func (c *Client) Children(ctx context.Context, token string) ([]Child, error) {
	var out []Child
	return out, c.Do(ctx, http.MethodGet, "/api/resident/children", token, nil, &out)
}

// ActivateProxy activates a child's login in proxy mode (R5).
func (c *Client) ActivateProxy(ctx context.Context, token, child string) error {
	return c.Do(ctx, http.MethodPost, "/api/resident/children/"+esc(child)+"/activate", token, nil, nil)
}

// SetGuardianContact saves the guardian's contact details under a child's settings (R6).
func (c *Client) SetGuardianContact(ctx context.Context, token, child string, gc GuardianContact) (*GuardianContact, error) {
	var out GuardianContact
	return &out, c.Do(ctx, http.MethodPut, "/api/resident/children/"+esc(child)+"/contact", token, gc, &out)
}

// LockLogin locks the resident's own login (R10); the session ends.
func (c *Client) LockLogin(ctx context.Context, token string) error {
	return c.Do(ctx, http.MethodPost, "/api/resident/lock", token, nil, nil)
}

// SealJournal seals or unseals the resident's record (R11).
func (c *Client) SealJournal(ctx context.Context, token string, sealed bool) error {
	return c.Do(ctx, http.MethodPut, "/api/resident/journal-seal", token, SealRequest{Sealed: sealed}, nil)
}

// EnrollTOTP starts the caller's second factor: a secret and its QR code.
func (c *Client) EnrollTOTP(ctx context.Context, token string) (*TOTPEnrollment, error) {
	var out TOTPEnrollment
	if err := c.Do(ctx, http.MethodPost, "/api/staff/me/totp", token, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConfirmTOTP completes the enrolment with a code from the app and returns
// the recovery codes.
func (c *Client) ConfirmTOTP(ctx context.Context, token, code string) ([]string, error) {
	var out TOTPConfirmation
	if err := c.Do(ctx, http.MethodPost, "/api/staff/me/totp/confirm", token, TOTPConfirmRequest{Code: code}, &out); err != nil {
		return nil, err
	}
	return out.RecoveryCodes, nil
}
