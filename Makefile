# Makefile for Mottagning: the desktop app (root package, Fyne, needs cgo) and
# the central server (cmd/mottagning-server, pure Go).
#
#   make run            build and start the desktop with the demo clinic
#   make run DATA=dir   ... with its data in dir instead of the user's config dir
#   make test           everything CI runs (.ci/run calls exactly this)
#
# Targets that need system packages install the missing ones first
# (scripts/apt-install.sh; Debian/Ubuntu only, elsewhere see README.md).

GO       ?= go
# How long `make fuzz` runs each fuzz target; the parsers of hostile input
# named in LONG_FUZZ (personnummer, sync requests, form/FHIR import) run
# LONG_FUZZTIME each.
FUZZTIME      ?= 2m
LONG_FUZZTIME ?= 10m
LONG_FUZZ     := FuzzParse FuzzImportQuestionnaire FuzzSyncRequest FuzzPushRequest FuzzPullRequest
# The server's version (mottagning-server version): the commit described by git.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Optional data directory for `make run`; empty means the app's default.
DATA     ?=

# System packages to build and run the desktop (cgo, OpenGL, and X11 and
# Wayland for GLFW 3.4, which Fyne 2.8 builds with both).
RUN_PKGS  := gcc libc6-dev libgl1-mesa-dev libx11-dev libxcursor-dev \
             libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev \
             libwayland-dev libxkbcommon-dev
# Extra system packages for tests and screenshots (virtual X display, typing
# into it for the first-run test of the real desktop binary, capture),
# for the SMS tests (Kannel's bearerbox and smsbox, fakesmsc as operator) and
# for the OS key store test (a private D-Bus session with GNOME Keyring) and
# for the check of deploy/mottagning-server.service (systemd-analyze), and
# PostgreSQL 15's server programs, of which the tests run throwaway
# clusters on Unix sockets (internal/pgtest; no daemon is left running).
TEST_PKGS := xvfb xauth xdotool imagemagick x11-utils kannel kannel-extras dbus-daemon gnome-keyring systemd postgresql
# mailpit, the SMTP server the notification tests send to (go install, pinned).
MAILPIT_VERSION := v1.33.1
GOBIN ?= $(shell $(GO) env GOPATH)/bin

# Packages run under the race detector. Not the root main package nor ./ui/...:
# building Fyne with -race takes minutes and they hold no concurrency of ours.
RACE_PKGS := ./app/... ./storage/... ./sync/... ./notify/... ./cmd/... ./export/... ./server/... ./client/... ./pgstore/... ./internal/pgtest/...
# Packages whose fuzz targets `make fuzz` runs.
FUZZ_PKGS := ./app/... ./storage/... ./server/... ./notify/... ./sync/...

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
# Prerequisites are steps in order (install, then build, then run), not
# independent jobs: keep them serial even under `make -j`.
.NOTPARALLEL:

# `make package`: fyne's packaging tool (pinned) and the cross compiler for
# the Windows exe; the version comes from FyneApp.toml.
FYNE_TOOLS_VERSION := v1.7.4
APP_VERSION := $(shell sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
# Packages vetted for Windows and macOS (pure Go, CGO_ENABLED=0): all but
# the desktop's main package (cgo), and for macOS also ui (Fyne's widgets
# need cgo there).
CROSS_EXCLUDE_windows := -e '^mottagning$$'
CROSS_EXCLUDE_darwin  := -e '^mottagning$$' -e '^mottagning/ui$$'

.PHONY: deps-run deps-test build run test bench fuzz crash screenshots clean package idle-cpu

# Install the system packages the desktop needs to build and run.
deps-run:
	scripts/apt-install.sh $(RUN_PKGS)

# deps-run plus what the tests need, in one apt-get run.
deps-test:
	scripts/apt-install.sh $(RUN_PKGS) $(TEST_PKGS)
	@if ! $(GO) version -m "$(GOBIN)/mailpit" 2>/dev/null | grep -q "github.com/axllent/mailpit[[:space:]]*$(MAILPIT_VERSION)"; then \
		echo "go install github.com/axllent/mailpit@$(MAILPIT_VERSION)"; \
		$(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION); \
	fi

# Build the desktop app and the server (the server without cgo, as it ships).
build:
	$(GO) build -o mottagning .
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o mottagning-server ./cmd/mottagning-server

# Start the desktop with the demo clinic (seeded when the data dir is empty).
run: deps-run build
	./mottagning --demo $(if $(DATA),--data '$(DATA)')

# Format check, vet, all tests, then the race detector on the logic packages.
test: deps-test
	@unformatted="$$(gofmt -l .)"; \
	if [[ -n "$$unformatted" ]]; then \
		echo "gofmt: these files need formatting (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...
	# The code and its tests compile for Windows and macOS too.
	CGO_ENABLED=0 GOOS=windows $(GO) vet $$($(GO) list ./... | grep -v $(CROSS_EXCLUDE_windows))
	CGO_ENABLED=0 GOOS=darwin $(GO) vet $$($(GO) list ./... | grep -v $(CROSS_EXCLUDE_darwin))
	MOTTAGNING_REQUIRE_SERVICES=1 $(GO) test -timeout 20m ./...
	# The server's and the sync tests once more on PostgreSQL (pgstore), each on a new
	# database of a throwaway cluster (internal/pgtest).
	MOTTAGNING_REQUIRE_SERVICES=1 MOTTAGNING_TEST_DB=postgres $(GO) test -timeout 20m ./server/ ./sync/
	MOTTAGNING_REQUIRE_SERVICES=1 $(GO) test -race -short -timeout 20m $(RACE_PKGS)
	@echo "make test: gofmt, vet, tests and race tests passed."

# Benchmarks of the store and the domain, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./storage/... ./pgstore/... ./app/... ./notify/... ./server/... ./sync/... | tee bench.out
	CGO_ENABLED=0 $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./ui/ | tee -a bench.out
	@echo
	@$(GO) run ./scripts/benchtable < bench.out

# Run every fuzz target for FUZZTIME each. `go test -fuzz` accepts one package
# and one target per run, so list the targets package by package.
fuzz:
	@pkgs="$$($(GO) list $(FUZZ_PKGS))"; \
	for pkg in $$pkgs; do \
		targets="$$($(GO) test -list '^Fuzz' "$$pkg")"; \
		for name in $$(grep '^Fuzz' <<<"$$targets" || true); do \
			t="$(FUZZTIME)"; \
			for long in $(LONG_FUZZ); do [[ "$$name" == "$$long" ]] && t="$(LONG_FUZZTIME)"; done; \
			echo "== fuzz $$pkg $$name for $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime "$$t" -fuzzminimizetime 10s "$$pkg"; \
		done; \
	done

# Kill-and-reopen crash tests, many rounds: the store (a writer killed
# with SIGKILL) and sync (the server and two desktops as processes on
# 127.0.0.1, each killed at random during push and pull), then the
# seeded convergence test of sync; then both again with two server
# nodes on one PostgreSQL database (nodes and the database killed).
crash:
	CRASH_KILLS=1000 $(GO) test -count=1 -run 'Crash' -timeout 60m ./storage/...
	CRASH_KILLS=1000 $(GO) test -count=1 -run '^TestCrashSyncKills$$' -timeout 60m ./sync/...
	SYNC_SEEDS=200 $(GO) test -count=1 -run 'Convergence' -timeout 60m ./sync/...
	CRASH_KILLS=200 $(GO) test -count=1 -run 'TestCrashSyncKillsTwoNodes' -timeout 60m ./sync/...
	MOTTAGNING_TEST_DB=postgres SYNC_SEEDS=200 $(GO) test -count=1 -run 'Convergence' -timeout 60m ./sync/...

# Regenerate docs/screenshots/start.png on a virtual display.
screenshots: deps-test
	scripts/screenshots.sh

# Installable packages in dist/ (docs/packaging.md): a Linux tarball (binary,
# icon, desktop file with its categories, an install Makefile) and a Windows
# GUI exe with the icon, built with Fyne's accessibility support (screen
# readers through UI Automation). Both in release mode. The macOS bundle is
# made on a Mac (docs/packaging.md).
package: deps-run
	scripts/apt-install.sh gcc-mingw-w64-x86-64
	@if ! $(GO) version -m "$(GOBIN)/fyne" 2>/dev/null | grep -q "fyne.io/tools[[:space:]]*$(FYNE_TOOLS_VERSION)"; then \
		echo "go install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION)"; \
		$(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION); \
	fi
	mkdir -p dist
	rm -f Mottagning.tar.xz Mottagning.exe
	@# fyne package adds one to Build in FyneApp.toml after each package:
	@# put the file back, so that both packages carry the committed build
	@# number and the tree stays clean (a new build is a commit).
	cp FyneApp.toml dist/.FyneApp.toml
	s=0; "$(GOBIN)/fyne" package -os linux -release || s=$$?; cp dist/.FyneApp.toml FyneApp.toml; exit $$s
	mv Mottagning.tar.xz dist/mottagning-$(APP_VERSION)-linux-amd64.tar.xz
	s=0; CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 "$(GOBIN)/fyne" package -os windows -release -tags accessibility || s=$$?; cp dist/.FyneApp.toml FyneApp.toml; exit $$s
	mv Mottagning.exe dist/mottagning-$(APP_VERSION)-windows-amd64.exe
	rm dist/.FyneApp.toml
	@ls -l dist

# The window's CPU when nobody uses it, against a bare Fyne window
# (scripts/idle-cpu.sh; seeds a 100,000-case database, about 4 minutes).
idle-cpu: deps-test
	scripts/idle-cpu.sh

# Remove what `make build` and `go test -c`/profiling leave at the root.
clean:
	rm -f mottagning mottagning-server *.test *.prof Mottagning.tar.xz Mottagning.exe
	rm -rf dist
