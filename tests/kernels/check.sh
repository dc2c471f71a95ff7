#!/bin/sh
# The kernel matrix's check, the same on the host and in each guest:
#   check.sh LWFP RELAY_PROXY
# Loads an engine into a cgroup and pin directory of its own, redirects
# one real connect (busybox wget to busybox httpd, both on loopback)
# through the example relay proxy, checks what the proxy saw, prints each
# program's verified instructions, and removes everything.
# Then the same through the kernel-offloaded relay: the engine's broker
# pairs the proxy's two sockets and the kernel moves a 1 MiB body.
# Output lines: "prog NAME required|optional INSNS|-", "offload ok" and
# "result ok", or "result FAIL: why". Needs root and busybox.
set -u
[ -n "${KC_DEBUG:-}" ] && set -x
lwfp=$1
proxy=$2
bb=${BUSYBOX:-busybox}
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
name=lwfp-kcheck-$$
pin=/sys/fs/bpf/$name
work=$(mktemp -d)
port=$((20000 + $$ % 20000))
proxy_pid=
httpd_pid=
broker_pid=

fail() {
	echo "result FAIL: $*"
	exit 1
}

cleanup() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	[ -n "$httpd_pid" ] && kill "$httpd_pid" 2>/dev/null
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
	sleep 0.2
	"$lwfp" unload --pin-dir "$pin" >/dev/null 2>&1
	# a process left in one of our cgroups (a client that has not quite
	# exited) would keep it: end it, then wait until the cgroup is free
	for c in app proxy origin; do
		[ -d "$cg2/$name/$c" ] || continue
		[ -w "$cg2/$name/$c/cgroup.kill" ] &&
			echo 1 >"$cg2/$name/$c/cgroup.kill"
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$cg2/$name/$c" 2>/dev/null && break
			sleep 0.2
		done
	done
	[ -d "$cg2/$name" ] && rmdir "$cg2/$name" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "kernel $(uname -r)"
[ -n "$cg2" ] || fail "no cgroup2 mount"
mkdir -p "$cg2/$name/app" "$cg2/$name/proxy" "$cg2/$name/origin" ||
	fail "cannot create cgroups under $cg2"
if ! "$lwfp" load --cgroup "/$name" --pin-dir "$pin" >"$work/load" 2>&1; then
	# the verifier's reasons, for the log
	LWFP_DEBUG=1 "$lwfp" load --cgroup "/$name" --pin-dir "$pin" 2>&1 |
		grep -v '^libbpf: \(elf\|map\|sec\|prog .*: \(found\|added\|insn\)\)' |
		tail -n 40 | sed 's/^/verifier /'
	fail "load: $(cat "$work/load")"
fi
grep 'not available' "$work/load" | sed 's/^/note /'
# an upgrade in place over the running engine
"$lwfp" load --cgroup "/$name" --pin-dir "$pin" >"$work/load" 2>&1 &&
	grep -q 'engine upgraded' "$work/load" ||
	fail "upgrade in place: $(cat "$work/load")"

"$lwfp" status --pin-dir "$pin" | awk '
	/^programs/ { on = 1; next }
	on && NF >= 3 { print "prog", $1, $2, ($3 ~ /^[0-9]+$/ ? $3 : "-") }'

"$lwfp" service add kc --listen "127.0.0.1:$port" --cgroup "/$name/proxy" \
	--pin-dir "$pin" >/dev/null || fail "service add"
"$lwfp" rule add --service kc --dst 127.0.0.2/32 --dport "$((port + 1))" \
	--context kernel-matrix --pin-dir "$pin" >/dev/null || fail "rule add"

mkdir -p "$work/www" "$work/run"
echo "lwfp kernel matrix" >"$work/www/index.html"
"$bb" dd if=/dev/urandom of="$work/www/big.bin" bs=1024 count=1024 2>/dev/null
# the offload broker, where the proxy looks for it
export LWFP_RUN_DIR="$work/run"
LANGUAGE= LC_ALL=C "$lwfp" broker --pin-dir "$pin" >"$work/broker.log" 2>&1 &
broker_pid=$!
"$lwfp" exec --cgroup "/$name/origin" -- \
	"$bb" httpd -f -p "127.0.0.2:$((port + 1))" -h "$work/www" &
httpd_pid=$!
# --offload-after 0: each flow goes to the kernel right after its request
# line, so that the whole body below crosses the kernel's relay
"$lwfp" exec --cgroup "/$name/proxy" -- "$proxy" --listen "127.0.0.1:$port" \
	--pin-dir "$pin" --offload-after 0 >"$work/proxy.log" 2>&1 &
proxy_pid=$!
sleep 1

# (busybox 1.35's wget crashes with -T: bound it with timeout instead)
"$lwfp" exec --cgroup "/$name/app" -- "$bb" timeout 20 "$bb" wget -q -O "$work/got" \
	"http://127.0.0.2:$((port + 1))/index.html" 2>"$work/wget.err" ||
	fail "wget: $(cat "$work/wget.err")"
cmp -s "$work/got" "$work/www/index.html" || fail "the page came back wrong"
sleep 0.3
grep -q "orig=127.0.0.2:$((port + 1)) .*rule-context=\"kernel-matrix\"" \
	"$work/proxy.log" ||
	fail "the proxy did not see the flow: $(cat "$work/proxy.log")"
"$lwfp" status --pin-dir "$pin" | grep -q '^  redirected  *1$' ||
	fail "redirected counter is not 1"
"$lwfp" flows --pin-dir "$pin" >/dev/null || fail "lwfp flows"

# The verdict is optional (a hardened host may refuse sockmap programs),
# but every kernel of the matrix runs it
"$lwfp" status --pin-dir "$pin" |
	grep -q '^ *lwfp_offload_verdict *optional *[0-9]' ||
	fail "offload: the verdict did not load on $(uname -r)"

# a flow the kernel relays: the proxy offloads it once it has logged the
# request (--offload-after 0); the broker says how it ended and what the kernel moved
"$lwfp" exec --cgroup "/$name/app" -- "$bb" timeout 20 "$bb" wget -q \
	-O "$work/big.got" "http://127.0.0.2:$((port + 1))/big.bin" \
	2>"$work/wget.err" || fail "offload: wget: $(cat "$work/wget.err")"
cmp -s "$work/big.got" "$work/www/big.bin" ||
	fail "offload: the body came back wrong"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	grep -q '^flow .*: closed; .* to the client' "$work/broker.log" && break
	sleep 0.3
done
grep '^flow ' "$work/broker.log" | awk '
	{ for (i = 1; i < NF; i++) if ($i == "the" && $(i + 1) == "client")
		back = $(i - 2) }
	back + 0 > n { n = back + 0 }
	END { exit !(n >= 1048576) }' ||
	fail "offload: the broker did not relay the body: $(cat "$work/broker.log")"
echo "offload ok"
echo "result ok"
