package server

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPIDocumentsEveryResidentRoute keeps docs/openapi.yaml in step
// with the resident API: every "METHOD /api/resident/..." route registered
// in this package has its path, with that method, in the document.
func TestOpenAPIDocumentsEveryResidentRoute(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The paths section: "  /path:" lines, each followed by its methods.
	methods := map[string]map[string]bool{}
	var cur string
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			cur = strings.TrimSuffix(strings.TrimSpace(line), ":")
			methods[cur] = map[string]bool{}
		case cur != "" && len(line) > 4 && line[:4] == "    " && line[4] != ' ':
			methods[cur][strings.TrimSuffix(strings.TrimSpace(line), ":")] = true
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	route := regexp.MustCompile(`"(GET|POST|PUT|DELETE|PATCH) (/api/resident/[^"?]*)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range route.FindAllStringSubmatch(string(src), -1) {
			n++
			if !methods[m[2]][strings.ToLower(m[1])] {
				t.Errorf("%s %s (%s) is not in docs/openapi.yaml", m[1], m[2], f)
			}
		}
	}
	if n < 20 {
		t.Errorf("found %d resident routes in the source: the pattern no longer matches how routes are registered", n)
	}
}
