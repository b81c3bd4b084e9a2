package notify

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// Test numbers come from PTS's range reserved for fiction,
// +46701740605 … +46701740699: never a real subscriber, and in any case
// nothing here leaves 127.0.0.1.
const (
	testNumber  = "+46701740605"
	testNumber2 = "+46701740606"
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// (A race with another process is possible but harmless here: the Kannel
// harness then fails to start and says so.)
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// closedURL returns an http URL on 127.0.0.1 where nothing listens: the
// listener is opened and closed, so the port is ours and refuses.
func closedURL(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + path
}

// assertNoLeak fails when err's text contains any of the secrets (the
// number in any form, the message text, a password).
func assertNoLeak(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(msg, s) || strings.HasPrefix(s, "+") && strings.Contains(msg, s[1:]) {
			t.Errorf("error %q contains %q", msg, s)
		}
	}
}

// gatewayError returns the SMSGatewayError in err or fails.
func gatewayError(t *testing.T, err error) *SMSGatewayError {
	t.Helper()
	var g *SMSGatewayError
	if !errors.As(err, &g) {
		t.Fatalf("error %v (%T) is not an SMSGatewayError", err, err)
	}
	return g
}

func TestSMSSenderSettings(t *testing.T) {
	cases := []struct {
		name    string
		build   func() error
		setting string // "" = valid
	}{
		{"kannel ok", func() error {
			_, err := NewKannelSender("http://127.0.0.1:13013/cgi-bin/sendsms", "u", "p", "1177")
			return err
		}, ""},
		{"kannel no from", func() error {
			_, err := NewKannelSender("http://127.0.0.1:13013/cgi-bin/sendsms", "u", "p", "")
			return err
		}, ""},
		{"kannel bad url", func() error { _, err := NewKannelSender("127.0.0.1:13013", "u", "p", ""); return err }, SettingSMSURL},
		{"kannel ftp", func() error { _, err := NewKannelSender("ftp://127.0.0.1/", "u", "p", ""); return err }, SettingSMSURL},
		{"kannel creds in url", func() error { _, err := NewKannelSender("http://u:p@127.0.0.1/", "u", "p", ""); return err }, SettingSMSURL},
		{"kannel no user", func() error { _, err := NewKannelSender("http://127.0.0.1/", "", "p", ""); return err }, SettingSMSUsername},
		{"kannel no password", func() error { _, err := NewKannelSender("http://127.0.0.1/", "u", "", ""); return err }, SettingSMSPassword},
		{"kannel sender too long", func() error { _, err := NewKannelSender("http://127.0.0.1/", "u", "p", "Vardcentralen"); return err }, SettingSMSFrom},
		{"elks ok name", func() error { _, err := NewElksSender("", "u", "p", "Region1177"); return err }, ""},
		{"elks ok number", func() error { _, err := NewElksSender("http://127.0.0.1:1", "u", "p", "+46701740605"); return err }, ""},
		{"elks plain http off-host", func() error { _, err := NewElksSender("http://api.example.com", "u", "p", "Region"); return err }, SettingSMSURL},
		{"elks query", func() error { _, err := NewElksSender("https://api.example.com/?x=1", "u", "p", "Region"); return err }, SettingSMSURL},
		{"elks no from", func() error { _, err := NewElksSender("", "u", "p", ""); return err }, SettingSMSFrom},
		{"elks 12 chars", func() error { _, err := NewElksSender("", "u", "p", "Region123456"); return err }, SettingSMSFrom},
		{"elks space", func() error { _, err := NewElksSender("", "u", "p", "Region JKP"); return err }, SettingSMSFrom},
		{"elks å", func() error { _, err := NewElksSender("", "u", "p", "Vårdcentral"); return err }, SettingSMSFrom},
		{"elks digits only", func() error { _, err := NewElksSender("", "u", "p", "1177"); return err }, SettingSMSFrom},
		{"elks no password", func() error { _, err := NewElksSender("", "u", "", "Region"); return err }, SettingSMSPassword},
	}
	for _, c := range cases {
		err := c.build()
		if c.setting == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var se *SMSSettingError
		if !errors.As(err, &se) || se.Setting != c.setting {
			t.Errorf("%s: error %v, want an SMSSettingError for %s", c.name, err, c.setting)
			continue
		}
		if !strings.Contains(err.Error(), c.setting) || !strings.Contains(err.Error(), envName(c.setting)) {
			t.Errorf("%s: %q does not name %s and its variable", c.name, err, c.setting)
		}
	}
}

func TestSanitize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Authorization failed for sendsms", "Authorization failed for sendsms"},
		{"Invalid to number: +46701740605\nmore", "Invalid to number: [number]"},
		{"bad number 070-174 06 05", "bad number [digits]"},
		{"dial tcp 127.0.0.1:13013: connect: connection refused", "dial tcp 127.0.0.1:13013: connect: connection refused"},
		{"text Hej du was refused", "text [text] was refused"},
		{strings.Repeat("x", 300), strings.Repeat("x", 100) + "…"},
	} {
		if got := sanitize(c.in, testNumber, "Hej du"); got != c.want {
			t.Errorf("sanitize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
