package main

import (
	"context"
	"strings"
	"testing"

	"mottagning/storage"
)

// TestConnectServerRefusesPlainHTTP is finding 8 of issue 13: a server
// address that is not https (given now, or stored in the database by an
// earlier version) is refused at start with a Swedish message, before
// anything is sent: a password must never travel in clear. A stored plain
// address gives way to the https address of the same host.
func TestConnectServerRefusesPlainHTTP(t *testing.T) {
	ctx := context.Background()
	pin := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, flag, stored string
		refused            string // part of the message; "" when connected
		nowStored          string
	}{
		{"flag http with pin", "http://127.0.0.1:1", "", "https://", ""},
		{"flag ftp", "ftp://127.0.0.1:1", "", "https://", ""},
		{"flag with password", "https://anna:hemligt@127.0.0.1:1", "", "lösenord", ""},
		{"flag without host", "https://:1", "", "värdnamn", ""},
		{"stored http", "", "http://127.0.0.1:1", "inte använder https (http://127.0.0.1:1)", "http://127.0.0.1:1"},
		{"stored http with password", "", "http://anna:hemligt@127.0.0.1:1", "inte använder https (http://127.0.0.1:1)", "http://anna:hemligt@127.0.0.1:1"},
		{"stored http, other host given", "https://other.example:1", "http://127.0.0.1:1", "inte använder https", "http://127.0.0.1:1"},
		{"stored http, same host given in https", "https://127.0.0.1:1/", "http://127.0.0.1:1", "", "https://127.0.0.1:1"},
		// A first connect stores nothing until the server presents the
		// pinned certificate: down, it is refused (try again), not stored.
		{"https, first connect while the server is down", "https://127.0.0.1:1/", "", "kan inte nås", ""},
		{"stored https", "", "https://127.0.0.1:1", "", "https://127.0.0.1:1"},
		{"stored https, other given", "https://other.example:1", "https://127.0.0.1:1", "inte https://other.example:1", "https://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := storage.Open(ctx, t.TempDir(), storage.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if tc.stored != "" {
				if err := store.SetSyncServer(ctx, tc.stored, pin); err != nil {
					t.Fatal(err)
				}
			}
			c, err := connectServer(ctx, store, tc.flag, pin)
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("connectServer(%q) = %v", tc.flag, err)
			case tc.refused != "" && err == nil:
				t.Fatalf("connectServer(%q) = %v, nil; want a refusal", tc.flag, c)
			case err != nil && !strings.Contains(err.Error(), tc.refused):
				t.Fatalf("message %q does not say %q", err, tc.refused)
			case err != nil && strings.Contains(err.Error(), "hemligt"):
				t.Fatalf("message %q shows the password", err)
			}
			if c != nil {
				c.CloseIdle()
			}
			if got, _ := store.SyncServer(); got != tc.nowStored {
				t.Fatalf("stored address %q, want %q", got, tc.nowStored)
			}
		})
	}
}
