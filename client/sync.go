package client

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"mottagning/app"
	msync "mottagning/sync"
	"mottagning/sync/wire"
)

// The sync calls of a connected desktop (docs/sync.md). They satisfy
// msync.Remote, msync.AuthRemote and msync.LookupRemote.

var (
	_ msync.Remote       = (*Client)(nil)
	_ msync.AuthRemote   = (*Client)(nil)
	_ msync.LookupRemote = (*Client)(nil)
)

// StatusCode is the HTTP status of an API error (msync tells an answer
// from an unreachable server by it).
func (e *Error) StatusCode() int { return e.Status }

// ErrorCode is the stable code of an API error.
func (e *Error) ErrorCode() string { return e.Code }

// SyncPush sends a batch of ops.
func (c *Client) SyncPush(ctx context.Context, token string, req *msync.PushRequest) (*msync.PushResponse, error) {
	var out msync.PushResponse
	return &out, c.do(ctx, http.MethodPost, "/api/sync/push", token, msync.PushMediaType, req, &out)
}

// SyncPull reads one page of changes after cursor.
func (c *Client) SyncPull(ctx context.Context, token, cursor string, limit int) (*msync.PullResponse, error) {
	v := url.Values{}
	v.Set("cursor", cursor)
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	// The binary page (sync/pullwire.go): records as the server stores
	// them; a server that answers JSON is read as JSON.
	var out msync.PullResponse
	return &out, c.do(ctx, http.MethodGet, "/api/sync/pull?"+v.Encode(), token, msync.PullMediaType, nil, &out)
}

// SyncEvents waits (up to msync.EventsWait seconds) for the server's
// change head to move past after.
func (c *Client) SyncEvents(ctx context.Context, token, after string) (*msync.EventsResponse, error) {
	var out msync.EventsResponse
	return &out, c.Do(ctx, http.MethodGet, "/api/sync/events?after="+url.QueryEscape(after), token, nil, &out)
}

// SyncLookup fetches a resident never seen on the desktop.
func (c *Client) SyncLookup(ctx context.Context, token string, clinic app.ID, pnr string) (*msync.LookupResponse, error) {
	var out msync.LookupResponse
	return &out, c.Do(ctx, http.MethodPost, "/api/sync/clinics/"+esc(string(clinic))+"/residents/lookup", token, msync.LookupRequest{Personnummer: pnr}, &out)
}

// SyncRefresh exchanges a refresh token.
func (c *Client) SyncRefresh(ctx context.Context, refresh string) (*msync.Session, error) {
	t, err := c.StaffRefresh(ctx, refresh)
	if err != nil {
		return nil, err
	}
	return &msync.Session{Access: t.AccessToken, Refresh: t.RefreshToken, AccessExpires: t.AccessExpires, DeviceID: t.DeviceID}, nil
}

// SyncVerifier returns the caller's offline-unlock verifier and staff record.
func (c *Client) SyncVerifier(ctx context.Context, access string) (*msync.VerifierResponse, error) {
	var out msync.VerifierResponse
	return &out, c.Do(ctx, http.MethodGet, "/api/staff/me/verifier", access, nil, &out)
}

// FetchFingerprint connects to the server at baseURL without verifying
// its certificate and returns the SHA-256 fingerprint of the certificate
// it presents: the pin of a first connect (trust on first use; the
// desktop shows it so that it can be compared with the one the server
// printed).
func FetchFingerprint(ctx context.Context, baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("client: base URL %q: want https://host:port", baseURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second},
		Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} // #nosec: the fingerprint is the trust
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return "", fmt.Errorf("client: connect to %s: %w", u.Host, err)
	}
	defer conn.Close()
	cs := conn.(*tls.Conn).ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return "", fmt.Errorf("client: %s presented no certificate", u.Host)
	}
	sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:]), nil
}

// NextPin is the server's announcement of its next certificate
// (GET /api/sync/next-pin), nil when it announces none. The caller checks
// it (msync.VerifyNextPin) before trusting it.
func (c *Client) NextPin(ctx context.Context) (*msync.NextPin, error) {
	var out msync.NextPin
	err := c.Do(ctx, http.MethodGet, msync.NextPinPath, "", nil, &out)
	if e := (*Error)(nil); errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PresentedNextPin connects to the server at baseURL without verifying
// its certificate, and returns the fingerprint of the certificate it
// presents and its announcement of a next certificate (nil when none).
// It is what a pinned desktop asks when the server's certificate is not
// the pinned one: nothing is trusted from this connection but the
// announcement's signature, which the caller checks against its pin
// (msync.VerifyNextPin); no token or data is sent over it.
func PresentedNextPin(ctx context.Context, baseURL string) (presented string, next *msync.NextPin, err error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", nil, fmt.Errorf("client: base URL %q: want https://host:port", baseURL)
	}
	var fp atomic.Value
	tr := &http.Transport{
		DialContext: (&net.Dialer{Timeout: DialTimeout}).DialContext,
		TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true, // #nosec: the signature is the trust
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return errors.New("client: the server presented no certificate")
				}
				fp.Store(Fingerprint(cs.PeerCertificates[0].Raw))
				return nil
			}},
	}
	defer tr.CloseIdleConnections()
	c := &Client{base: u, http: &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	next, err = c.NextPin(ctx)
	if s, _ := fp.Load().(string); s != "" {
		presented = s
	}
	if presented == "" && err != nil {
		return "", nil, err
	}
	if err != nil {
		// The certificate is known; the server has no answer to give.
		return presented, nil, nil
	}
	return presented, next, nil
}

// SyncAccessLog reads a clinic's access log on the server (its granskare).
func (c *Client) SyncAccessLog(ctx context.Context, token string, clinic app.ID, req wire.AccessLogRequest) (*wire.AccessLogResponse, error) {
	var out wire.AccessLogResponse
	return &out, c.Do(ctx, http.MethodPost, "/api/sync/clinics/"+esc(string(clinic))+"/access-log", token, req, &out)
}
