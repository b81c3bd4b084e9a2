package notify

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"mottagning/app"
)

// ErrBadAddress: an e-mail address (From or a recipient) cannot be used.
// The error never quotes the address.
var ErrBadAddress = errors.New("e-mail address not usable")

// Mail is one notification e-mail before it is built.
type Mail struct {
	// From is the configured sender, "Name <addr>" or "addr".
	From string
	// To is the recipient's bare address.
	To string
	// ID makes the Message-ID: the notification id, the same on every
	// retry, so a mailbox that got the message already can tell.
	ID   app.ID
	Date time.Time
}

// parseFrom checks the configured From and returns it as a header value
// (a name with å ä ö RFC 2047-encoded) and its bare address.
func parseFrom(from string) (header, addr string, err error) {
	a, err := mail.ParseAddress(from)
	if err != nil || strings.ContainsAny(from, "\r\n") {
		return "", "", fmt.Errorf("from: %w", ErrBadAddress)
	}
	return a.String(), a.Address, nil
}

// checkRecipient accepts a bare address only: no display name, no second
// address, no line break (header injection).
func checkRecipient(to string) error {
	a, err := mail.ParseAddress(to)
	if err != nil || a.Name != "" || a.Address != to || strings.ContainsAny(to, "\r\n<>,;") {
		return fmt.Errorf("recipient: %w", ErrBadAddress)
	}
	return nil
}

// BuildMail returns the RFC 5322 message of the notification e-mail: the
// fixed Swedish subject and body of app (R4: no case data, no name, no
// link), MIME 1.0, text/plain in UTF-8, quoted-printable so å ä ö survive
// any relay, the subject RFC 2047-encoded, and Auto-Submitted so that
// vacation responders stay quiet. Lines end in CRLF.
func BuildMail(m Mail) ([]byte, error) {
	fromHdr, fromAddr, err := parseFrom(m.From)
	if err != nil {
		return nil, err
	}
	if err := checkRecipient(m.To); err != nil {
		return nil, err
	}
	domain := fromAddr[strings.LastIndexByte(fromAddr, '@')+1:]
	var b bytes.Buffer
	b.Grow(1024)
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", fromHdr)
	h("To", "<"+m.To+">")
	h("Subject", mime.QEncoding.Encode("utf-8", app.EmailSubject))
	h("Date", m.Date.Format(time.RFC1123Z))
	h("Message-ID", "<"+strings.ToLower(string(m.ID))+"@"+domain+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	h("X-Auto-Response-Suppress", "All")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(app.EmailBody)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}
