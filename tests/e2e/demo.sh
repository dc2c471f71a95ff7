#!/bin/bash
# `lwfp demo` end to end: one flow through the example proxy, then nothing
# left behind. Usage: demo.sh PATH-TO-lwfp DIR-OF-EXAMPLES
set -u
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
lwfp=$1
examples=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0


"$lwfp" demo --proxy "$examples/relay-proxy" >"$out" 2>&1
status=$?
sed 's/^/# /' "$out"
check "demo exits 0" "[ $status = 0 ]"
check "curl got the origin's reply through the proxy" \
	"grep -q 'hello from the origin server' '$out'"
check "the proxy decoded the context (client curl, rule context)" \
	"grep -q 'curl' '$out' && grep -q 'demo rule' '$out'"
check "the proxy logged the flow with bytes both ways" \
	"grep -q 'relay-proxy: flow' '$out'"
check "no pin directory left" \
	"! ls -d /sys/fs/bpf/lwfp-demo-* >/dev/null 2>&1"
mnt=$(cgroup2_mount)
check "no cgroup left" "! ls -d '$mnt'/lwfp-demo-* >/dev/null 2>&1"
exit $fail
