package client_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"mottagning/client"
)

var serverURLs = []struct {
	name, raw, want string
	err             error
}{
	{"https ok", "https://server.example.se:8443", "https://server.example.se:8443", nil},
	{"https without port", "https://server.example.se", "https://server.example.se", nil},
	{"trailing slash", "https://server.example.se:8443/", "https://server.example.se:8443", nil},
	{"slashes and spaces", "  https://server.example.se:8443//  ", "https://server.example.se:8443", nil},
	{"host and scheme case", "HTTPS://Server.Example.SE:8443", "https://server.example.se:8443", nil},
	{"path kept", "https://proxy.example.se/mottagning/", "https://proxy.example.se/mottagning", nil},
	{"loopback ip", "https://127.0.0.1:8443", "https://127.0.0.1:8443", nil},
	{"ipv6", "https://[::1]:8443", "https://[::1]:8443", nil},
	{"http", "http://server.example.se:8080", "", client.ErrURLNotHTTPS},
	{"http loopback", "http://127.0.0.1:8080", "", client.ErrURLNotHTTPS},
	{"ftp", "ftp://server.example.se", "", client.ErrURLNotHTTPS},
	{"no scheme", "server.example.se:8443", "", client.ErrURLNotHTTPS},
	{"empty", "", "", client.ErrURLNotHTTPS},
	{"missing host", "https://", "", client.ErrURLNoHost},
	{"missing host with port", "https://:8443", "", client.ErrURLNoHost},
	{"missing host with path", "https:///api", "", client.ErrURLNoHost},
	{"opaque", "https:server.example.se", "", client.ErrURLNoHost},
	{"user and password", "https://anna:hemligt@server.example.se:8443", "", client.ErrURLUserInfo},
	{"user only", "https://anna@server.example.se", "", client.ErrURLUserInfo},
	{"http with password", "http://anna:hemligt@server.example.se", "", client.ErrURLNotHTTPS},
	{"query", "https://server.example.se/?x=1", "", client.ErrURLMalformed},
	{"fragment", "https://server.example.se/#a", "", client.ErrURLMalformed},
	{"bad escape", "https://server.example.se/%zz", "", client.ErrURLMalformed},
	{"control character", "https://server.example.se\n/", "", client.ErrURLMalformed},
}

// TestCheckServerURL: only https://host[:port][/path] is taken (finding 8
// of issue 13: a desktop never talks to its server in clear).
func TestCheckServerURL(t *testing.T) {
	for _, tc := range serverURLs {
		t.Run(tc.name, func(t *testing.T) {
			got, err := client.CheckServerURL(tc.raw)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("CheckServerURL(%q) = %q, %v; want %q, %v", tc.raw, got, err, tc.want, tc.err)
			}
			msg := client.ServerURLMessage(err)
			if (err == nil) != (msg == "") {
				t.Fatalf("message %q for %v", msg, err)
			}
			if err != nil {
				if !strings.Contains(msg, "https://") {
					t.Errorf("message %q does not show the form to use", msg)
				}
				if strings.Contains(err.Error(), "hemligt") || strings.Contains(msg, "hemligt") {
					t.Errorf("the password of the URL is in %q / %q", err, msg)
				}
			}
		})
	}
}

// FuzzCheckServerURL: what is accepted is an https URL with a host and no
// user info, and checking it again gives it back unchanged.
func FuzzCheckServerURL(f *testing.F) {
	for _, tc := range serverURLs {
		f.Add(tc.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := client.CheckServerURL(raw)
		if err != nil {
			if got != "" {
				t.Fatalf("%q refused with %v but returned %q", raw, err, got)
			}
			return
		}
		u, perr := url.Parse(got)
		if perr != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("%q accepted as %q", raw, got)
		}
		if again, err := client.CheckServerURL(got); err != nil || again != got {
			t.Fatalf("%q → %q → %q, %v", raw, got, again, err)
		}
	})
}
