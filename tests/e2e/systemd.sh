#!/bin/bash
# The systemd unit (lwfp.service.in): built for a prefix of this script's
# own, checked with systemd-analyze verify (when there is one), and its
# commands run the way systemd runs them (systemd is not PID 1 here), on
# an engine in a cgroup and a pin directory of this script's own
# (LWFP_PIN_DIR): start over no engine, reload, a restart (the engine
# upgraded in place, the rules' ids kept), a stop (the engine unloaded).
#   bash tests/e2e/systemd.sh path/to/lwfp
# Needs root. Prints TAP, exits 1 if any check failed.
# shellcheck disable=SC2016 # check strings expand when evaluated
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

need_root_and_lwfp "path/to/lwfp" "$@"
TAG=lwfp-unittest-$$
export LWFP_PIN_DIR=/sys/fs/bpf/$TAG
unset LWFP_DEBUG
CGDIR=$(cgroup2_mount)/$TAG
T=$(mktemp -d)
fail=0

cleanup() {
	trap - EXIT
	trap '' INT TERM HUP
	case $LWFP_PIN_DIR in
	/sys/fs/bpf/lwfp-unittest-*) remove_pin_dir "$LWFP_PIN_DIR" ;;
	esac
	remove_cgroups
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

mkdir -p "$CGDIR" "$T/bin" "$T/etc/lwfp" "$T/stub" || exit 1
cp "$LWFP" "$T/bin/lwfp"
make -s -C "$TOP" BUILD="$T/build" PREFIX="$T" SYSCONFDIR="$T/etc" \
	"$T/build/lwfp.service" "$T/build/lwfp-broker.service" >"$T/log" 2>&1
check "the unit builds for a prefix" '[ -s "$T/build/lwfp.service" ]' ||
	cat "$T/log"
UNIT=$T/build/lwfp.service
check "the unit names the prefix's lwfp and configuration" \
	'grep -q "^ExecStart=$T/bin/lwfp apply --upgrade $T/etc/lwfp/lwfp.conf$" "$UNIT"'
BROKER_UNIT=$T/build/lwfp-broker.service
check "the broker's unit names the prefix's lwfp" \
	'grep -q "^ExecStart=$T/bin/lwfp broker --quiet$" "$BROKER_UNIT"'
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify" \
		'systemd-analyze verify --man=no "$UNIT" "$BROKER_UNIT" \
			>"$T/verify" 2>&1 || { cat "$T/verify"; false; }'
else
	echo "ok - systemd-analyze verify # SKIP no systemd-analyze"
fi

# `systemctl list-jobs` as systemd would answer it in ExecStop: the unit's
# restart job, or none
printf '#!/bin/sh\n[ -f "%s/restarting" ] && echo "7 lwfp.service restart running"\nexit 0\n' \
	"$T" >"$T/stub/systemctl"
chmod +x "$T/stub/systemctl"

# run KEY: the unit's Exec line, as systemd runs it (%n: the unit's name)
run_exec() {
	local line

	line=$(sed -n "s/^$1=//p" "$UNIT" | sed 's/%n/lwfp.service/g')
	PATH="$T/stub:$PATH" eval "$line"
}

cat >"$T/etc/lwfp/lwfp.conf" <<CONF
load --cgroup /$TAG
service add web --listen 127.0.0.1:9
rule add --service web --dport 80
CONF
run_exec ExecStart >"$T/out" 2>/dev/null
check "start over no engine loads and applies" \
	'[ -e "$LWFP_PIN_DIR/lwfp_config" ] && grep -q "rules 0 kept, 1 added" "$T/out"'
echo "rule add --service web --dport 443" >>"$T/etc/lwfp/lwfp.conf"
run_exec ExecReload >"$T/out" 2>/dev/null
check "reload applies the file" 'grep -q "rules 1 kept, 1 added" "$T/out"'
"$LWFP" rule list >"$T/ids.before"
touch "$T/restarting"
run_exec ExecStop
check "a restart's stop leaves the engine" '[ -e "$LWFP_PIN_DIR/lwfp_config" ]'
rm -f "$T/restarting"
run_exec ExecStart >"$T/out" 2>/dev/null
"$LWFP" rule list >"$T/ids.after"
check "a restart's start upgrades in place and keeps the rules" \
	'grep -q "rules 2 kept, 0 added, 0 removed" "$T/out" && diff -u "$T/ids.before" "$T/ids.after"'
"$LWFP" save >"$T/saved.before"
run_exec ExecStop
check "an explicit stop unloads" '[ ! -e "$LWFP_PIN_DIR" ]'
run_exec ExecStart >/dev/null 2>&1
"$LWFP" save >"$T/saved.after"
check "start after an unload gives the same engine (lwfp save)" \
	'[ -s "$T/saved.after" ] && diff -u "$T/saved.before" "$T/saved.after"'

# the broker's unit: its command serves this engine, and goes when the
# engine is unloaded (as BindsTo= would stop it)
export LWFP_RUN_DIR=$T/run
(UNIT=$BROKER_UNIT; run_exec ExecStart) &
BROKER=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	"$LWFP" status | grep -q "broker on $T/run/offload-" && break
	sleep 0.2
done
check "the broker's unit serves the engine (lwfp status)" \
	'"$LWFP" status | grep -q "broker on $T/run/offload-"'
run_exec ExecStop
for _ in $(seq 30); do kill -0 "$BROKER" 2>/dev/null || break; sleep 0.1; done
check "the broker exits when the engine is unloaded" \
	'! kill -0 "$BROKER" 2>/dev/null'
kill "$BROKER" 2>/dev/null
wait "$BROKER" 2>/dev/null
check "the broker took its socket with it" \
	'[ -z "$(ls "$T/run" 2>/dev/null)" ]'
remove_cgroups
check "no cgroup is left" '[ ! -e "$CGDIR" ]'
exit $fail
