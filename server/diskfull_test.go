package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"

	"mottagning/client"
)

// TestDiskFullAnswers507: a write that fails because the disk is full is
// answered 507 insufficient_storage with its Swedish message, not 500
// internal (issue 15). The error is the kernel's own: a write to
// /dev/full, wrapped as the store wraps a failed commit.
func TestDiskFullAnswers507(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/dev/full is Linux's")
	}
	werr := os.WriteFile("/dev/full", []byte("x"), 0o600)
	if werr == nil {
		t.Fatal("a write to /dev/full succeeded")
	}
	e := newEnv(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/staff/cases", nil)
	e.srv.fail(rec, req, fmt.Errorf("send case: commit: %w", werr))
	if rec.Code != http.StatusInsufficientStorage {
		t.Fatalf("status %d, want 507", rec.Code)
	}
	var body client.Error
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Code != "insufficient_storage" || body.Message != ErrorCodes["insufficient_storage"].Message {
		t.Fatalf("body %+v", body)
	}
	// Any other fault stays internal.
	rec = httptest.NewRecorder()
	e.srv.fail(rec, req, fmt.Errorf("send case: %w", os.ErrClosed))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("another fault: status %d, want 500", rec.Code)
	}
}
