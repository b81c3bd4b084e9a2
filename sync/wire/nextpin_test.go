package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGoldenNextPin pins GET /api/sync/next-pin's body, as TestGolden
// pins the others (it has no app type to compare with, so it has its own
// file; -update rewrites it).
func TestGoldenNextPin(t *testing.T) {
	p := NextPin{Format: "mottagning-next-pin/1", Current: strings.Repeat("ab", 32), Next: strings.Repeat("cd", 32),
		NotAfter: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC), Cert: []byte{0x30, 0x82, 0x01}, Signature: []byte{1, 2, 3}}
	got, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "nextpin.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("wire encoding changed: a protocol change.\ngot:\n%s\nwant:\n%s", got, want)
	}
}
