package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mottagning/storage"
)

// TestSetSyncPinKeepsQueueAndForgetsAnnouncement: a re-pin changes the pin
// only; the server's address stays, the announcement of a next
// certificate goes, and a database never connected is refused.
func TestSetSyncPinKeepsQueueAndForgetsAnnouncement(t *testing.T) {
	ctx := context.Background()
	s, err := storage.Open(ctx, t.TempDir(), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old, next := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	if err := s.SetSyncPin(ctx, next); !errors.Is(err, storage.ErrNotConnected) {
		t.Fatalf("re-pin of a database never connected = %v, want ErrNotConnected", err)
	}
	if err := s.SetSyncServer(ctx, "https://127.0.0.1:1", old); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSyncNextPin(ctx, []byte(`{"next":"`+next+`"}`)); err != nil {
		t.Fatal(err)
	}
	if got := s.SyncNextPin(); !strings.Contains(string(got), next) {
		t.Fatalf("stored announcement = %q", got)
	}
	if err := s.SetSyncPin(ctx, next); err != nil {
		t.Fatal(err)
	}
	if url, pin := s.SyncServer(); url != "https://127.0.0.1:1" || pin != next {
		t.Fatalf("after re-pin: %q %q", url, pin)
	}
	if got := s.SyncNextPin(); got != nil {
		t.Fatalf("announcement kept after the switch: %q", got)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}
