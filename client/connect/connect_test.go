package connect_test

import (
	"context"
	"strings"
	"testing"

	"mottagning/client/connect"
	"mottagning/storage"
)

// TestConnectRefusesBeforeAnyNetwork: what the command line gets wrong is
// refused with a Swedish message before anything is sent or stored.
func TestConnectRefusesBeforeAnyNetwork(t *testing.T) {
	ctx := context.Background()
	pin := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		cfg  connect.Config
		say  string
	}{
		{"repin without a pin", connect.Config{URL: "https://127.0.0.1:1", Repin: true}, "--repin kräver --server-pin"},
		{"pin not hex", connect.Config{URL: "https://127.0.0.1:1", Pin: "xyz"}, "64 hexadecimala"},
		{"another pin without repin", connect.Config{Pin: strings.Repeat("cd", 32)}, "--repin"},
		{"plain http", connect.Config{URL: "http://127.0.0.1:1", Pin: pin}, "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := storage.Open(ctx, t.TempDir(), storage.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if tc.cfg.URL == "" {
				if err := s.SetSyncServer(ctx, "https://127.0.0.1:1", pin); err != nil {
					t.Fatal(err)
				}
			}
			c, err := connect.Connect(ctx, s, tc.cfg)
			if err == nil {
				c.CloseIdle()
				t.Fatalf("connected, want %q", tc.say)
			}
			if !strings.Contains(err.Error(), tc.say) {
				t.Fatalf("message %q does not say %q", err, tc.say)
			}
			if _, got := s.SyncServer(); tc.cfg.URL == "" && got != pin {
				t.Fatalf("stored pin changed to %q", got)
			}
		})
	}
}
