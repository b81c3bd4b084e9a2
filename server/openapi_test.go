package server

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
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

// TestOpenAPI_SettingsSentWholeAndEveryErrorCode keeps two parts of
// docs/openapi.yaml in step with the server (issue 14): the Settings
// schema requires exactly the fields PUT /api/resident/settings requires
// (settingsBody; savedAt is read-only), and every error code the server
// can answer (ErrorCodes) is in the Error schema's enum and in the code
// table with its status.
func TestOpenAPI_SettingsSentWholeAndEveryErrorCode(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)

	// The Settings schema's lines: up to the next schema (a line
	// indented by exactly four spaces).
	var block []string
	in := false
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case line == "    Settings:":
			in = true
		case in && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			in = false
		case in:
			block = append(block, line)
		}
	}
	m := regexp.MustCompile(`(?m)^      required: \[([^\]]*)\]`).FindStringSubmatch(strings.Join(block, "\n"))
	if m == nil {
		t.Fatalf("the Settings schema has no required list: %q", block)
	}
	var documented []string
	for _, f := range strings.Split(m[1], ",") {
		documented = append(documented, strings.TrimSpace(f))
	}
	var required []string
	bt := reflect.TypeOf(settingsBody{})
	for k := 0; k < bt.NumField(); k++ {
		name, _, _ := strings.Cut(bt.Field(k).Tag.Get("json"), ",")
		if name != "savedAt" {
			required = append(required, name)
		}
	}
	sort.Strings(documented)
	sort.Strings(required)
	if !slices.Equal(documented, required) {
		t.Errorf("Settings required %v in docs/openapi.yaml, the server requires %v", documented, required)
	}

	// Every error code: in the enum and in the table with its status.
	enum := regexp.MustCompile(`(?m)^        code: \{type: string, enum: \[([^\]]*)\]\}`).FindStringSubmatch(doc)
	if enum == nil {
		t.Fatal("no enum of error codes in the Error schema")
	}
	inEnum := map[string]bool{}
	for _, c := range strings.Split(enum[1], ",") {
		inEnum[strings.TrimSpace(c)] = true
	}
	for code, info := range ErrorCodes {
		if !inEnum[code] {
			t.Errorf("error code %s is not in the Error schema's enum", code)
		}
		if row := fmt.Sprintf("| %s | %d |", code, info.Status); !strings.Contains(doc, row) {
			t.Errorf("error code %s: no row %q in the code table", code, row)
		}
	}
}
