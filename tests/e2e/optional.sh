#!/bin/sh
# An optional program the kernel refuses (forced with LWFP_REFUSE_PROGS,
# as a hardened host refuses tracing programs): load says so in one line,
# and load, upgrade in place, a real redirect, status, flows and unload
# all work without it (tests/kernels/check.sh, in its own cgroup and pin
# directory, loopback only).
#   optional.sh LWFP EXAMPLES_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(LWFP_REFUSE_PROGS=lwfp_flows sh "$here/../kernels/check.sh" "$1" \
	"$2/relay-proxy" 2>&1)
pass=0
fail=0
check() {
	if echo "$out" | grep -q "$2"; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1"
		fail=$((fail + 1))
	fi
}
check "load says in one line that the iterator is not available" \
	'^note lwfp: lwfp_flows not available (Operation not permitted): flows iterator'
check "status shows it optional and not loaded" '^prog lwfp_flows optional -$'
check "every required program loaded" '^prog lwfp_connect4 required [0-9]'
check "upgrade, redirect, status, flows and unload work without it" \
	'^result ok$'
[ $fail = 0 ] || echo "$out" | sed 's/^/# /'
echo "# $pass passed, $fail failed"
[ $fail = 0 ]
