package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainPackagesDoNotImportFyne keeps the architecture of
// shared/STYLE.md: ui → app ← storage, sync, notify. Only ui, assets and
// main may depend on Fyne; app also stays free of bbolt and net/http.
func TestDomainPackagesDoNotImportFyne(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	for _, pkg := range []string{"mottagning/app/...", "mottagning/storage/...", "mottagning/sync/...", "mottagning/notify/...", "mottagning/cmd/...", "mottagning/export/..."} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") {
				continue
			}
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "fyne.io/") {
				t.Errorf("%s depends on %s: only ui, assets and main may use Fyne", pkg, dep)
			}
			if strings.HasPrefix(pkg, "mottagning/app") && (strings.HasPrefix(dep, "go.etcd.io/bbolt") || dep == "net/http") {
				t.Errorf("%s depends on %s: app holds no storage or network code", pkg, dep)
			}
		}
	}
}
