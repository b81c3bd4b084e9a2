#!/usr/bin/env bash
# apt-install.sh PKG... installs the Debian/Ubuntu packages among PKG that are
# not installed yet. It does nothing when all are present (so `make test` stays
# fast and needs no root on a prepared machine) and nothing on systems without
# apt-get, where README.md's macOS/Windows section says what to install.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 PKG..." >&2
	exit 2
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
	echo "apt-install: no apt-get here; install the equivalent of these yourself:" >&2
	echo "  $*" >&2
	echo "  (see README.md, section macOS/Windows)" >&2
	exit 0
fi

# installed PKG succeeds when dpkg knows PKG as installed. ${Status} is
# "want error state", e.g. "install ok installed"; a multi-arch package prints
# one line per architecture, so any line ending in " installed" will do.
installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q ' installed$'
}

missing=()
for pkg in "$@"; do
	if ! installed "$pkg"; then
		missing+=("$pkg")
	fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "apt-install: missing ${missing[*]}; run as root or install sudo" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "apt-install: installing ${missing[*]}"
# `env` rather than `sudo VAR=…`: sudoers may refuse variables on its command line.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

# Debian's postgresql package starts a cluster of its own; the tests run
# their own throwaway clusters (internal/pgtest), so leave no daemon behind.
for pkg in "${missing[@]}"; do
	if [[ "$pkg" == postgresql ]]; then
		if [[ -d /run/systemd/system ]]; then
			"${sudo[@]}" systemctl disable --now postgresql || true
		elif command -v pg_lsclusters >/dev/null 2>&1; then
			pg_lsclusters --no-header 2>/dev/null | while read -r ver name _ status _; do
				if [[ "$status" == online* ]]; then
					"${sudo[@]}" pg_ctlcluster "$ver" "$name" stop || true
				fi
			done
		fi
	fi
done
