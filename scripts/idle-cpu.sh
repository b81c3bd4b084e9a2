#!/usr/bin/env bash
# idle-cpu.sh [SECONDS] measures the CPU the desktop's window uses when
# nobody touches it (issue 18, item 9), under a virtual X display:
#
#   baseline   a Fyne window with one label (scripts/idlebaseline): what
#              Fyne's event loop costs by itself on this machine
#   demo       Mottagning on the demo database, Mottagningens ärenden open
#   100k       Mottagning on a demo database with 100,000 more cases
#
# Each runs SECONDS (default 30) after it has settled; the figure is the
# process's user+system time from /proc, as a percentage of one core. The
# 100k database is seeded once into a temporary directory (about a minute).
# Needs xvfb-run (make test installs it). `make idle-cpu` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/mottagning" .
go build -o "$tmp/idlebaseline" scripts/idlebaseline/main.go
hz=$(getconf CLK_TCK)

# measure NAME SETTLE CMD...: start CMD on a virtual display, wait SETTLE
# seconds, then count its CPU ticks for $secs seconds.
measure() {
	local name=$1 settle=$2
	shift 2
	HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" XDG_CACHE_HOME="$tmp/home/.cache" \
		xvfb-run -a -s '-screen 0 1280x800x24' sh -c "\"\$@\" >\"$tmp/$name.log\" 2>&1 & echo \$! >\"$tmp/pid\"; wait" sh "$@" &
	local runner=$!
	sleep "$settle"
	local pid
	pid=$(cat "$tmp/pid")
	local t0 t1
	t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
	sleep "$secs"
	t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
	kill "$pid" 2>/dev/null || true
	wait "$runner" 2>/dev/null || true
	awk -v n="$name" -v d=$((t1 - t0)) -v s="$secs" -v hz="$hz" \
		'BEGIN { printf "%-10s %6.2f %% of a core (%d ticks in %d s)\n", n, 100 * d / hz / s, d, s }'
}

mkdir -p "$tmp/home"
measure baseline 8 "$tmp/idlebaseline"
MOTTAGNING_AUTOSELECT=anna:0 measure demo 15 "$tmp/mottagning" --demo --data "$tmp/demo"
# Seed the big database first (the window shows its progress), then measure a fresh start on it.
MOTTAGNING_AUTOSELECT=anna:0 measure seeding 90 "$tmp/mottagning" --demo --demo-size 100000 --data "$tmp/big" >/dev/null
MOTTAGNING_AUTOSELECT=anna:0 measure 100k 25 "$tmp/mottagning" --demo --data "$tmp/big"
