#!/usr/bin/env bash
# screenshots.sh takes docs/screenshots/start.png: the demo clinic right after
# start, on a virtual 1280x800 X display. Needs xvfb-run, xwininfo (x11-utils)
# and import (imagemagick); `make screenshots` installs them.
#
# xvfb-run runs a single command on its display, and the app, the window poll
# and the capture must all share that display; so the script builds the app,
# then runs itself again under xvfb-run for the second half.
set -euo pipefail

cd "$(dirname "$0")/.."

out=docs/screenshots/start.png
timeout_s=30

if [[ -z "${MOTTAGNING_SCREENSHOTS_IN_XVFB:-}" ]]; then
	go build -o mottagning .
	mkdir -p "$(dirname "$out")"
	MOTTAGNING_SCREENSHOTS_IN_XVFB=1 exec xvfb-run -a -s '-screen 0 1280x800x24' "$0" "$@"
fi

# From here on we are inside xvfb-run, with DISPLAY set.
tmp="$(mktemp -d)"
app_pid=""
cleanup() {
	if [[ -n "$app_pid" ]] && kill -0 "$app_pid" 2>/dev/null; then
		kill "$app_pid"
		wait "$app_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# A fresh data directory, so --demo seeds the demo clinic.
mkdir "$tmp/data"
./mottagning --demo --data "$tmp/data" >"$tmp/app.log" 2>&1 &
app_pid=$!

waited=0
until xwininfo -root -tree | grep -q Mottagning; do
	if ! kill -0 "$app_pid" 2>/dev/null; then
		echo "screenshots: mottagning exited before its window appeared; its log:" >&2
		cat "$tmp/app.log" >&2
		exit 1
	fi
	if ((waited >= timeout_s)); then
		echo "screenshots: no Mottagning window after ${timeout_s}s; app log:" >&2
		cat "$tmp/app.log" >&2
		exit 1
	fi
	sleep 1
	waited=$((waited + 1))
done

# The window exists before its first frame is drawn; give it a moment.
sleep 2
import -window root "$out"
echo "screenshots: wrote $out"
