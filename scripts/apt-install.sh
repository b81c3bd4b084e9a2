#!/usr/bin/env bash
# apt-install.sh PKG... installs the Debian/Ubuntu packages among PKG that are
# not installed yet. It does nothing when all are present (so `make test` stays
# fast and needs no root on a prepared machine) and nothing on systems without
# apt-get, where README.md's macOS/Windows section says what to install.
# A test dependency leaves no daemon running or enabled at boot: the services
# the packages start (PostgreSQL, Kannel, the D-Bus system bus when it came
# with them) are stopped and disabled; Kannel is checked on every run.
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

# as_root runs a command as root: directly, or through sudo.
as_root() {
	if [[ "$(id -u)" -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "apt-install: cannot run '$*': run as root or install sudo" >&2
		return 1
	fi
}

# service_enabled SVC: the system starts SVC at boot (systemd, or a SysV
# rc link when systemd is not PID 1, as in containers).
service_enabled() {
	if [[ -d /run/systemd/system ]]; then
		systemctl is-enabled --quiet "$1" 2>/dev/null
	else
		compgen -G "/etc/rc[2-5].d/S*$1" >/dev/null
	fi
}

# quiet_service SVC: stop SVC and keep it from starting at boot. The tests
# start their own servers on 127.0.0.1 and stop them; a test dependency
# must leave no daemon running or enabled on the developer's machine.
quiet_service() {
	local svc=$1
	if [[ -d /run/systemd/system ]]; then
		if systemctl is-active --quiet "$svc" 2>/dev/null || service_enabled "$svc"; then
			echo "apt-install: stopping and disabling the $svc service (the tests run their own)"
			as_root systemctl disable --now "$svc" || true
		fi
		return
	fi
	if service_enabled "$svc"; then
		echo "apt-install: stopping and disabling the $svc service (the tests run their own)"
		if [[ -x "/etc/init.d/$svc" ]]; then
			as_root "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		fi
		as_root update-rc.d "$svc" disable >/dev/null 2>&1 || true
	fi
}

# stop_pg_clusters: Debian's postgresql package starts a cluster of its own
# (without systemd its init script does); the tests run throwaway clusters
# (internal/pgtest).
stop_pg_clusters() {
	if command -v pg_lsclusters >/dev/null 2>&1; then
		pg_lsclusters --no-header 2>/dev/null | while read -r ver name _ status _; do
			if [[ "$status" == online* ]]; then
				as_root pg_ctlcluster "$ver" "$name" stop || true
			fi
		done
	fi
}

# Kannel's package starts bearerbox at boot with its default admin password;
# Mottagning's tests run their own bearerbox and smsbox (notify/kannel_test.go).
# That is never wanted, also on a machine where an earlier `make test` left it
# enabled, so it is checked on every run.
for pkg in "$@"; do
	if [[ "$pkg" == kannel ]] && installed kannel; then
		quiet_service kannel
	fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi

if [[ "$(id -u)" -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
	echo "apt-install: missing ${missing[*]}; run as root or install sudo" >&2
	exit 1
fi

echo "apt-install: installing ${missing[*]}"
# `env` rather than `sudo VAR=…`: sudoers may refuse variables on its command line.
as_root env DEBIAN_FRONTEND=noninteractive apt-get update
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

# What this run installed starts no daemon that stays: PostgreSQL and Kannel
# (above), and the D-Bus system bus when it came with the test packages
# (the tests start a private session bus).
for pkg in "${missing[@]}"; do
	case "$pkg" in
	postgresql)
		quiet_service postgresql
		stop_pg_clusters
		;;
	kannel)
		quiet_service kannel
		;;
	dbus-daemon | gnome-keyring)
		quiet_service dbus
		;;
	esac
done
