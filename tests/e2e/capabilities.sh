#!/bin/bash
# The capabilities lwfp needs to load, configure and unload an engine
# (what docs/deploy.md gives the DaemonSet), measured on this kernel: each
# command run as root with only the named capabilities left (setpriv
# --bounding-set: root's exec gets no others).
#   bash tests/e2e/capabilities.sh path/to/lwfp
# Needs root and setpriv(1). Prints TAP, exits 1 if any check failed. Its
# cgroup, pin directory and network namespace are named lwfp-captest-$$
# and removed on exit, also when it fails. It connects nowhere.
# shellcheck disable=SC2016 # check strings expand when evaluated
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

need_root_and_lwfp "path/to/lwfp" "$@"
command -v setpriv >/dev/null || { echo "1..0 # SKIP no setpriv"; exit 0; }
command -v ip >/dev/null || { echo "1..0 # SKIP no ip(8)"; exit 0; }
scratch_engine captest
NS=
fail=0

cleanup() {
	trap - EXIT
	trap '' INT TERM HUP
	case $PIN in /sys/fs/bpf/lwfp-captest-*) remove_pin_dir "$PIN" ;; esac
	remove_cgroups
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# with CAPS COMMAND...: lwfp COMMAND with only CAPS ("+bpf,+net_admin")
with() {
	local caps=$1

	shift
	setpriv --bounding-set=-all,"$caps" --inh-caps=-all -- \
		"$LWFP" --pin-dir "$PIN" "$@" >"$T/out" 2>&1
}
unload() { "$LWFP" --pin-dir "$PIN" unload >/dev/null 2>&1; }
ENGINE=+bpf,+net_admin,+perfmon

mkdir -p "$CGDIR" || bail "no cgroup"
ip netns add "$TAG" || bail "cannot make a network namespace"
NS=$TAG
cat >"$T/base.conf" <<CONF
load --cgroup /$TAG
service add web --listen 127.0.0.1:8080 --fail closed
rule add --service web --dst 127.0.0.1/32 --dport 81
CONF
{ cat "$T/base.conf"; echo "service add pod --listen 127.0.0.1:8081 --netns $TAG"; } >"$T/netns.conf"
{ echo "load --cgroup /$TAG --group nogroup"; tail -n +2 "$T/base.conf"; } >"$T/group.conf"

with "$ENGINE" apply "$T/base.conf"
check "CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON: apply loads the engine" '[ $? = 0 ]'
with "$ENGINE" save
check "... save reads it" '[ $? = 0 ] && grep -q -- "--dport 81" "$T/out"'
with "$ENGINE" apply --upgrade "$T/base.conf"
check "... apply --upgrade upgrades it in place" '[ $? = 0 ]'
with "$ENGINE" unload
check "... unload unloads it" '[ $? = 0 ] && [ ! -e "$PIN" ]'

with +bpf,+net_admin apply "$T/base.conf"
check "without CAP_PERFMON the verifier refuses the programs" \
	'[ $? != 0 ] && grep -q "Permission denied" "$T/out" && [ ! -e "$PIN" ]'
with +bpf,+perfmon apply "$T/base.conf"
check "without CAP_NET_ADMIN nothing loads" '[ $? != 0 ] && [ ! -e "$PIN" ]'
with +net_admin,+perfmon apply "$T/base.conf"
check "without CAP_BPF nothing loads" '[ $? != 0 ] && [ ! -e "$PIN" ]'

with "$ENGINE" apply "$T/netns.conf"
check "a service in another network namespace (--netns) needs CAP_SYS_ADMIN" \
	'[ $? != 0 ] && grep -q "netns.conf:4:.*--netns.*Operation not permitted" "$T/out" && [ ! -e "$PIN" ]'
with "$ENGINE,+sys_admin" apply "$T/netns.conf"
check "... with it, it is registered" '[ $? = 0 ]'
unload

with "$ENGINE" apply "$T/group.conf"
check "--group needs CAP_CHOWN" '[ $? != 0 ] && grep -q "cannot give group" "$T/out"'
unload
with "$ENGINE,+chown" apply "$T/group.conf"
check "... with it, the group is given access" '[ $? = 0 ]'
unload
check "nothing is left" '[ ! -e "$PIN" ]'
exit $fail
