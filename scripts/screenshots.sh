#!/usr/bin/env bash
# screenshots.sh renders the main screens of the desktop app on a demo
# database into docs/screenshots/, on a virtual 1280x800 X display: the
# sign-in, the case lists, a case, Skicka ärende, massutskick and the
# templates. Each shot starts the app on a fresh demo data directory with
# MOTTAGNING_AUTOSELECT (user:clinic-index[:screen], demo databases only).
# Needs xvfb-run, xwininfo (x11-utils) and import (imagemagick); `make
# screenshots` installs them.
#
# xvfb-run runs a single command on its display, and the app, the window poll
# and the capture must all share that display; so the script builds the app,
# then runs itself again under xvfb-run for the second half.
set -euo pipefail

cd "$(dirname "$0")/.."

dir=docs/screenshots
timeout_s=30

if [[ -z "${MOTTAGNING_SCREENSHOTS_IN_XVFB:-}" ]]; then
	go build -o mottagning .
	mkdir -p "$dir"
	MOTTAGNING_SCREENSHOTS_IN_XVFB=1 exec xvfb-run -a -s '-screen 0 1280x800x24' "$0" "$@"
fi

# From here on we are inside xvfb-run, with DISPLAY set.
tmp="$(mktemp -d)"
app_pid=""
stop_app() {
	if [[ -n "$app_pid" ]] && kill -0 "$app_pid" 2>/dev/null; then
		kill "$app_pid"
		wait "$app_pid" 2>/dev/null || true
	fi
	app_pid=""
}
cleanup() {
	stop_app
	rm -rf "$tmp"
}
trap cleanup EXIT

# shoot NAME AUTOSELECT: one screen into $dir/NAME.png.
shoot() {
	local name=$1 select=$2 data="$tmp/$1"
	mkdir "$data"
	MOTTAGNING_LANG=sv MOTTAGNING_AUTOSELECT="$select" ./mottagning --demo --data "$data" >"$tmp/$name.log" 2>&1 &
	app_pid=$!
	local waited=0
	until xwininfo -root -tree | grep -q Mottagning; do
		if ! kill -0 "$app_pid" 2>/dev/null; then
			echo "screenshots: mottagning exited before its window appeared; its log:" >&2
			cat "$tmp/$name.log" >&2
			exit 1
		fi
		if ((waited >= timeout_s)); then
			echo "screenshots: no Mottagning window after ${timeout_s}s; app log:" >&2
			cat "$tmp/$name.log" >&2
			exit 1
		fi
		sleep 1
		waited=$((waited + 1))
	done
	# The window exists before its first frame is drawn, and sign-in
	# (argon2id) and the case index take a moment more.
	sleep 4
	import -window root "$dir/$name.png"
	echo "screenshots: wrote $dir/$name.png"
	stop_app
	# Wait for the window to go before the next one comes.
	while xwininfo -root -tree | grep -q Mottagning; do sleep 0.2; done
}

shoot start ""
shoot arenden anna:1
shoot arende anna:1:case
shoot skicka anna:1:send
shoot massutskick anna:1:bulk
shoot mallar david:1
shoot etjanster "david:1:tab:E-tjänster"
shoot forhandsgranska "anna:1:preview:Hälsodeklaration"
shoot atkomstlogg "fredrik:0:tab:Åtkomstlogg"
shoot kontaktcenter greta:0
