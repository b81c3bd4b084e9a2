package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLSMode says how the SMTP connection is protected.
type TLSMode string

// The TLS modes.
const (
	// TLSStartTLS: plain TCP, then STARTTLS before anything else (port 587).
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit: TLS from the first byte (port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone: no TLS. Only for a test server on a loopback address, and
	// only with SMTPConfig.AllowInsecureLoopback.
	TLSNone TLSMode = "none"
)

// Errors of the SMTP configuration: the server refuses us, not the
// recipient, so the notifications stay queued and nothing is marked.
var (
	// ErrInsecure: the configuration would send credentials or
	// addresses in clear text to a server that is not on this machine.
	ErrInsecure = errors.New("SMTP without TLS is allowed only to a loopback test server with allow_insecure_loopback")
	// ErrAuthRejected: the server rejected the user name or password.
	ErrAuthRejected = errors.New("the SMTP server rejected the user name or password (smtp.username, smtp.password)")
	// ErrTLS: TLS could not be set up (no STARTTLS, bad certificate, …).
	ErrTLS = errors.New("TLS with the SMTP server failed (smtp.tls, smtp.ca_file)")
)

// SMTPConfig is how to reach the SMTP server.
type SMTPConfig struct {
	Host string
	Port int
	TLS  TLSMode
	// Username and Password authenticate with SASL PLAIN or LOGIN; empty
	// Username means no authentication.
	Username string
	Password Secret
	// Auth is "plain", "login" or "" (PLAIN when offered, else LOGIN).
	Auth string
	// From is the sender of every notification, "Name <addr>" or "addr".
	From string
	// CAFile adds the certificate authorities in this PEM file to the
	// system's, for a server with a private CA.
	CAFile string
	// AllowInsecureLoopback allows TLSNone, and authentication without
	// TLS, to a server on a loopback address. For tests only.
	AllowInsecureLoopback bool
	// HeloName is the name we give in EHLO (default "localhost").
	HeloName string
	// DialTimeout bounds connecting and the TLS handshake (default 30 s);
	// CommandTimeout each command's answer, DataTimeout the answer to the
	// end of a message (defaults 1 min and 2 min).
	DialTimeout, CommandTimeout, DataTimeout time.Duration
}

func (c *SMTPConfig) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// isLoopback reports whether host names this machine: localhost, or an
// address in 127.0.0.0/8 or ::1.
func smtpLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// check refuses a configuration that is unsafe or incomplete, naming the
// setting.
func (c *SMTPConfig) check() error {
	switch {
	case c.Host == "":
		return errors.New("smtp.host is empty")
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("smtp.port %d is not a port number", c.Port)
	case c.TLS != TLSStartTLS && c.TLS != TLSImplicit && c.TLS != TLSNone:
		return fmt.Errorf("smtp.tls %q: want starttls, tls or none", c.TLS)
	case c.TLS == TLSNone && !(c.AllowInsecureLoopback && smtpLoopback(c.Host)):
		return fmt.Errorf("smtp.tls none: %w", ErrInsecure)
	case c.Auth != "" && c.Auth != "plain" && c.Auth != "login":
		return fmt.Errorf("smtp.auth %q: want plain, login or empty", c.Auth)
	case (c.Username == "") != (c.Password == ""):
		return errors.New("smtp.username and smtp.password must be set together")
	}
	if _, _, err := parseFrom(c.From); err != nil {
		return fmt.Errorf("smtp.from is not an e-mail address: %w", err)
	}
	return nil
}

// SMTPClient sends notification e-mails over SMTP with go-smtp: STARTTLS
// or implicit TLS, SASL PLAIN or LOGIN, one connection per batch.
type SMTPClient struct {
	cfg SMTPConfig
	tls *tls.Config
}

// NewSMTPClient checks cfg and returns a client.
func NewSMTPClient(cfg SMTPConfig) (*SMTPClient, error) {
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 30 * time.Second
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = time.Minute
	}
	if cfg.DataTimeout <= 0 {
		cfg.DataTimeout = 2 * time.Minute
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp.ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return &SMTPClient{cfg: cfg, tls: tc}, nil
}

// From is the configured sender.
func (c *SMTPClient) From() string { return c.cfg.From }

// SMTPSession is one connection to the server, reused for a batch.
type SMTPSession struct {
	c        *smtp.Client
	conn     net.Conn
	from     string
	broken   bool
	dirty    bool // a transaction was left half done: RSET before the next
	stopWake func() bool
}

// Dial connects, sets up TLS, says EHLO and authenticates. Its errors are
// about the configuration or the server, not a recipient: ErrTLS,
// ErrAuthRejected, ErrInsecure, or a TempError when the server cannot be
// reached or answers 4xx. Ending ctx closes the connection.
func (c *SMTPClient) Dial(ctx context.Context) (*SMTPSession, error) {
	d := net.Dialer{Timeout: c.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", c.cfg.addr())
	if err != nil {
		return nil, &TempError{Err: fmt.Errorf("connect to SMTP server: %w", errConnLost)}
	}
	_, fromAddr, _ := parseFrom(c.cfg.From)
	s := &SMTPSession{conn: conn, from: fromAddr}
	s.stopWake = context.AfterFunc(ctx, func() { conn.Close() })
	// The greeting, EHLO, STARTTLS and the handshake share one deadline.
	conn.SetDeadline(time.Now().Add(c.cfg.DialTimeout))
	switch c.cfg.TLS {
	case TLSImplicit:
		tconn := tls.Client(conn, c.tls)
		if err := tconn.HandshakeContext(ctx); err != nil {
			s.Close()
			return nil, tlsOrConn("TLS handshake", err)
		}
		s.c = smtp.NewClient(tconn)
	case TLSStartTLS:
		// NewClientStartTLS reads the greeting, says EHLO, checks that
		// STARTTLS is offered and starts it; nothing else is sent before.
		cl, err := smtp.NewClientStartTLS(conn, c.tls)
		if err != nil {
			s.Close()
			return nil, tlsOrConn("STARTTLS", err)
		}
		s.c = cl
	default:
		s.c = smtp.NewClient(conn)
	}
	s.c.CommandTimeout, s.c.SubmissionTimeout = c.cfg.CommandTimeout, c.cfg.DataTimeout
	// After STARTTLS this EHLO is the first write over TLS: the handshake
	// happens here.
	if err := s.c.Hello(c.cfg.HeloName); err != nil {
		s.Close()
		return nil, tlsOrConn("EHLO", err)
	}
	conn.SetDeadline(time.Time{})
	if c.cfg.TLS != TLSNone {
		if _, ok := s.c.TLSConnectionState(); !ok {
			s.Close()
			return nil, fmt.Errorf("%w: no TLS after set-up", ErrTLS)
		}
	}
	return s, c.auth(s)
}

// tlsOrConn classifies a set-up error: an SMTP answer by its code, a
// certificate or TLS failure as ErrTLS (a configuration problem), anything
// else as a lost connection.
func tlsOrConn(op string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return classifyConn(op, err)
	}
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
		al tls.AlertError
		rh tls.RecordHeaderError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &al) || errors.As(err, &rh) || err.Error() == "smtp: server doesn't support STARTTLS" {
		return fmt.Errorf("%s: %w: %w", op, ErrTLS, err)
	}
	return classifyConn(op, err)
}

// auth authenticates when a user name is configured, refusing to send a
// password without TLS unless the server is a loopback test server and
// that was allowed explicitly.
func (c *SMTPClient) auth(s *SMTPSession) error {
	if c.cfg.Username == "" {
		return nil
	}
	if _, isTLS := s.c.TLSConnectionState(); !isTLS && !(c.cfg.AllowInsecureLoopback && smtpLoopback(c.cfg.Host)) {
		s.Close()
		return fmt.Errorf("smtp.username set: %w", ErrInsecure)
	}
	mech := c.cfg.Auth
	if mech == "" {
		mech = "login"
		if s.c.SupportsAuth(sasl.Plain) {
			mech = "plain"
		}
	}
	var cl sasl.Client
	if mech == "plain" {
		cl = sasl.NewPlainClient("", c.cfg.Username, string(c.cfg.Password))
	} else {
		cl = sasl.NewLoginClient(c.cfg.Username, string(c.cfg.Password))
	}
	if err := s.c.Auth(cl); err != nil {
		s.Close()
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code/100 == 4 {
			return &TempError{Err: fmt.Errorf("AUTH: smtp %d", se.Code)}
		}
		if errors.As(err, &se) {
			return fmt.Errorf("%w (smtp %d)", ErrAuthRejected, se.Code)
		}
		return &TempError{Err: fmt.Errorf("AUTH: connection lost: %w", errConnLost)}
	}
	return nil
}

// errConnLost stands for any I/O error on the connection; the underlying
// error is dropped because some quote the server's answer.
var errConnLost = errors.New("connection lost")

// classifyConn turns an error at connection set-up into a temporary error
// (4xx or I/O) or a permanent one (5xx: the server will not talk to us).
func classifyConn(op string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		if se.Code/100 == 4 {
			return &TempError{Err: fmt.Errorf("%s: smtp %d", op, se.Code)}
		}
		return fmt.Errorf("%s: smtp %d", op, se.Code)
	}
	return &TempError{Err: fmt.Errorf("%s: %w", op, errConnLost)}
}

// SendError is the outcome of one message: Code is a stable code for the
// outbox ("smtp-451", "connection-lost"), never the server's text (which
// may quote the address).
type SendError struct {
	Code string
	temp bool
}

func (e *SendError) Error() string   { return "send notification: " + e.Code }
func (e *SendError) Temporary() bool { return e.temp }

// Send delivers one message to one recipient in its own transaction
// (MAIL, RCPT, DATA). A 4xx answer gives a temporary SendError, a 5xx a
// permanent one for this recipient; an I/O error gives a temporary
// SendError and marks the session broken. A transaction left half done is
// reset (RSET) before the next message; one that ended with the server's
// answer to DATA needs no RSET (RFC 5321, 4.1.1.5).
func (s *SMTPSession) Send(to string, msg []byte) error {
	if s.broken {
		return &SendError{Code: "connection-lost", temp: true}
	}
	if err := checkRecipient(to); err != nil {
		return &SendError{Code: "bad-address"}
	}
	if s.dirty {
		if err := s.c.Reset(); err != nil {
			return s.fail(err)
		}
		s.dirty = false
	}
	s.dirty = true
	if err := s.c.Mail(s.from, nil); err != nil {
		return s.fail(err)
	}
	if err := s.c.Rcpt(to, nil); err != nil {
		return s.fail(err)
	}
	w, err := s.c.Data()
	if err != nil {
		return s.fail(err)
	}
	if _, err := w.Write(msg); err != nil {
		return s.fail(err)
	}
	if err := w.Close(); err != nil {
		return s.fail(err)
	}
	s.dirty = false
	return nil
}

func (s *SMTPSession) fail(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &SendError{Code: fmt.Sprintf("smtp-%d", se.Code), temp: se.Code/100 == 4}
	}
	s.broken = true
	return &SendError{Code: "connection-lost", temp: true}
}

// Broken reports whether the connection was lost.
func (s *SMTPSession) Broken() bool { return s.broken }

// Close ends the session politely (QUIT) when the connection still
// stands, and closes it.
func (s *SMTPSession) Close() error {
	if s.stopWake != nil {
		s.stopWake()
	}
	if s.c == nil {
		return s.conn.Close()
	}
	if !s.broken {
		if err := s.c.Quit(); err == nil {
			return nil
		}
	}
	return s.c.Close()
}
