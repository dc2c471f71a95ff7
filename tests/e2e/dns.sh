#!/bin/bash
# Real DNS exchanges redirected through examples/udp-dns-proxy, IPv4 and
# IPv6, with dig (a connected UDP socket) and an unconnected client
# (tests/e2e/dns_client.py, sendto() only). A tiny responder
# (tests/e2e/dns_responder.py) answers at the original destinations.
#
#   client --query to 127.0.0.53:5353--> [lwfp] --> udp-dns-proxy 127.0.0.1:5300
#   udp-dns-proxy (records set on its socket) --> responder 127.0.0.53:5353
#   (and the same over IPv6: ::1 port 5353, proxy at [::1]:5300)
#
# Checked: each answer arrives, from the original destination (dig fails
# on ";; reply from unexpected source"); the proxy logged each query with
# its client and original destination; the responder saw each query once,
# from the proxy's outbound socket and not from the client; the flow shows
# in `lwfp flows` while the client holds its socket; junk and queries that
# were not redirected are refused; idle flows are closed.
#
# Usage: bash tests/e2e/dns.sh PATH-TO-lwfp DIR-OF-EXAMPLES
# Needs root, python3 and dig (dnsutils; scripts/deps.sh installs both).
#
# Everything runs in a network namespace of its own (so the addresses and
# ports are ours) and a cgroup tree of its own:
#
#   /lwfp-dns-PID/outside        the responder, a client not in scope
#   /lwfp-dns-PID/scope          the engine is attached here
#   /lwfp-dns-PID/scope/proxy    udp-dns-proxy: services dns4, dns6 (exempt)
#   /lwfp-dns-PID/scope/client   dig and the unconnected client
#
# The engine is pinned at /sys/fs/bpf/lwfp-dns-PID. Every address is on the
# namespace's loopback. Everything is removed on exit, also when a check
# fails or the script is interrupted.
set -u
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
	echo "usage: $0 path/to/lwfp dir/of/examples" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "Bail out! $0 needs root" >&2
	exit 1
fi
for c in dig python3; do
	if ! command -v "$c" >/dev/null; then
		echo "1..0 # SKIP $c is missing (run scripts/deps.sh)"
		exit 0
	fi
done
LWFP=$(readlink -f "$1")
PROXY=$(readlink -f "$2/udp-dns-proxy")
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$PROXY" ] || { echo "Bail out! no $2/udp-dns-proxy"; exit 1; }

TAG=lwfp-dns-$$
BPFFS=/sys/fs/bpf
PIN=$BPFFS/$TAG
CG=/$TAG			# relative to the cgroup2 mount
NS=$TAG
NSP=/run/netns/$NS
CGMNT=$(cgroup2_mount)
CGDIR=
T=
NS_MADE=
PIDS=()
export LWFP_PIN_DIR=$PIN	# a command without --pin-dir still hits ours
unset LWFP_DEBUG

# The original destinations (the responder) and the proxy's addresses.
ORIG4=127.0.0.53
ORIG6=::1
ORIG_PORT=5353
PROXY4=127.0.0.1
PROXY6=::1
PROXY_PORT=5300
IDLE=2			# the proxy closes a flow's socket after this long

trap_cleanup		# tests/lib.sh: clean up on every exit

# ---- checks ----

lw() { "$LWFP" --pin-dir "$PIN" "$@"; }

# wait_for PID FILE PATTERN: wait (10 s at most) for a line matching the
# ERE PATTERN in FILE while PID runs.
wait_for() {
	for _ in $(seq 100); do
		grep -E -q -- "$3" "$2" 2>/dev/null && return 0
		running "$1" || return 1
		sleep 0.1
	done
	return 1
}

counter() {
	lw --json status | python3 -c \
		'import json, sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

# to FILE CMD...: run CMD with its output in FILE.
to() {
	local f=$1

	shift
	"$@" >"$f" 2>&1
}

# ere TEXT: TEXT with the ERE metacharacters it may hold escaped.
ere() {
	# shellcheck disable=SC2016 # no expansion meant: $ is a character here
	printf '%s' "$1" | sed 's/[]\\[*^$()+?{}|.]/\\&/g'
}

# ---- set up ----

for c in nsenter ip ss; do
	command -v "$c" >/dev/null || bail "$c is missing (run scripts/deps.sh)"
done
{ [ -n "$CGMNT" ] && [ -d "$CGMNT" ]; } || bail "no cgroup2 file system mounted"
[ -d "$BPFFS" ] || bail "no $BPFFS"

T=$(mktemp -d "/tmp/$TAG.XXXXXX") || bail "mktemp"
ip netns add "$NS" || bail "ip netns add $NS"
NS_MADE=1
ip -n "$NS" link set lo up || bail "lo up in $NS"

CGDIR=$CGMNT/$TAG
mkdir "$CGDIR" || bail "mkdir $CGDIR"
for d in outside scope scope/proxy scope/client; do
	mkdir "$CGDIR/$d" || bail "mkdir $CGDIR/$d"
done

start responder outside python3 "$HERE/dns_responder.py" "$T/responder.log" \
	"$ORIG4:$ORIG_PORT" "[$ORIG6]:$ORIG_PORT"
RESPONDER_PID=$LAST_PID
wait_for "$RESPONDER_PID" "$T/responder.out" '^ready$' ||
	{ show "$T/responder.out"; bail "the responder did not start"; }

lw load --cgroup "$CG/scope" >/dev/null || bail "lwfp load"
lw service add dns4 --netns "$NS" --listen "$PROXY4:$PROXY_PORT" --cgroup "$CG/scope/proxy" \
	--proto udp || bail "service add dns4"
lw service add dns6 --netns "$NS" --listen "[$PROXY6]:$PROXY_PORT" --cgroup "$CG/scope/proxy" \
	--proto udp || bail "service add dns6"
lw rule add --service dns4 --proto udp --dst "$ORIG4/32" --dport "$ORIG_PORT" \
	>/dev/null || bail "rule add dns4"
lw rule add --service dns6 --proto udp --dst "$ORIG6/128" --dport "$ORIG_PORT" \
	>/dev/null || bail "rule add dns6"
lw rule list | sed 's/^/# /'

start proxy scope/proxy "$PROXY" --pin-dir "$PIN" --log "$T/proxy.log" \
	--idle "$IDLE" --listen "$PROXY4:$PROXY_PORT" \
	--listen "[$PROXY6]:$PROXY_PORT"
PROXY_PID=$LAST_PID
{ wait_for "$PROXY_PID" "$T/proxy.log" "^listening on $(ere "$PROXY4:$PROXY_PORT")\$" &&
  wait_for "$PROXY_PID" "$T/proxy.log" "^listening on $(ere "[$PROXY6]:$PROXY_PORT")\$"; } ||
	{ show "$T/proxy.out" "$T/proxy.log"; bail "the proxy did not start"; }
replies0=$(counter udp_replies_from_original_peer)

# ---- the exchanges ----

# endpoint ADDR PORT: how the proxy writes an address ("[::1]:53").
endpoint() {
	case $1 in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}

# queries_of NAME: the proxy's log lines for queries of NAME.
queries_of() {
	grep -E "^query $(ere "$1") " "$T/proxy.log"
}

# proxy_logged NAME TYPE ORIG-ADDR COMM N: the proxy logged N queries of
# NAME TYPE to ORIG-ADDR:$ORIG_PORT from a client whose comm matches the
# ERE COMM.
proxy_logged() {
	local n

	n=$(queries_of "$1" | grep -E -c -- " $2 from [^ ]+ to $(ere "$(endpoint "$3" "$ORIG_PORT")") id 0x[0-9a-f]{4} pid [0-9]+ \(($4)\) via ")
	[ "$n" = "$5" ]
}

# responder_saw_proxy NAME N: the responder saw N queries of NAME, all from
# the proxy's outbound socket (the "via" address the proxy logged), none
# from the client ("from").
responder_saw_proxy() {
	local via client seen

	via=$(queries_of "$1" | sed -n 's/.* via \([^ ]*\)$/\1/p' | sort -u)
	client=$(queries_of "$1" | sed -n 's/.* from \([^ ]*\) to .*/\1/p' | sort -u)
	[ "$(echo "$via" | wc -l)" = 1 ] && [ -n "$via" ] || return 1
	[ "$via" != "$client" ] || return 1
	seen=$(grep -E "^query $(ere "$1") " "$T/responder.log" |
		sed -n 's/.* from \([^ ]*\) \([0-9]*\) on .*/\1 \2/p')
	[ "$(echo "$seen" | grep -c .)" = "$2" ] || return 1
	while read -r a p; do
		[ "$(endpoint "$a" "$p")" = "$via" ] || return 1
	done <<<"$seen"
}

# dig_from_orig OUT ORIG: dig's output OUT shows the reply came from ORIG.
dig_from_orig() {
	! grep -q "unexpected source" "$1" &&
		grep -q "^;; SERVER: $(ere "$2")#$ORIG_PORT" "$1"
}

# answers OUT WANT N: dns_client.py's output OUT has N replies answering WANT.
answers() {
	[ "$(grep -c " answer $(ere "$2")\$" "$1")" = "$3" ]
}

# dig_case FAMILY ORIG TYPE WANT: dig, in the client cgroup, asks ORIG for
# a name of its own; WANT is the answer the responder gives.
dig_case() {
	local fam=$1 orig=$2 type=$3 want=$4 name ok=1 out

	name=$(echo "$fam-dig.test" | tr '[:upper:]' '[:lower:]')
	out=$T/dig-$fam
	check_cmd "dig $fam (connected socket): $name $type via the proxy, exit 0" \
		to "$out" in_ns scope/client dig @"$orig" -p "$ORIG_PORT" +notcp \
		+tries=1 +time=5 "$name" "$type" || ok=
	check_cmd "dig $fam: NOERROR with the responder's answer $want" \
		grep -E -q "^$(ere "$name.")[[:space:]]+60[[:space:]]+IN[[:space:]]+${type}[[:space:]]+$(ere "$want")\$" "$out" || ok=
	check_cmd "dig $fam: the reply came from the original destination (no \"reply from unexpected source\")" \
		dig_from_orig "$out" "$orig" || ok=
	# dig sends from its network thread, isc-net-NNNN
	check_cmd "dig $fam: the proxy logged the query, from dig to $(endpoint "$orig" "$ORIG_PORT")" \
		proxy_logged "$name" "$type" "$orig" 'dig|isc-net-[0-9]+' 1 || ok=
	check_cmd "dig $fam: the responder saw it once, from the proxy's outbound socket" \
		responder_saw_proxy "$name" 1 || ok=
	[ -n "$ok" ] || show "$out" "$T/proxy.log" "$T/responder.log"
}

# sendto_case FAMILY ORIG TYPE WANT: two queries on one unconnected socket.
sendto_case() {
	local fam=$1 orig=$2 type=$3 want=$4 name ok=1 out

	name=$(echo "$fam-sendto.test" | tr '[:upper:]' '[:lower:]')
	out=$T/sendto-$fam
	check_cmd "unconnected $fam client: two queries for $name answered, each from the original destination" \
		to "$out" in_ns scope/client python3 "$HERE/dns_client.py" \
		"$orig" "$ORIG_PORT" "$name" "$type" --count 2 || ok=
	check_cmd "unconnected $fam: the answer is the responder's ($want)" \
		answers "$out" "$want" 2 || ok=
	check_cmd "unconnected $fam: the proxy logged both queries, from python3" \
		proxy_logged "$name" "$type" "$orig" python3 2 || ok=
	check_cmd "unconnected $fam: the responder saw both from one outbound socket of the proxy" \
		responder_saw_proxy "$name" 2 || ok=
	[ -n "$ok" ] || show "$out" "$T/proxy.log" "$T/responder.log"
}

dig_case IPv4 "$ORIG4" A 127.0.0.42
dig_case IPv6 "$ORIG6" AAAA ::ffff:127.0.0.42
sendto_case IPv4 "$ORIG4" A 127.0.0.42
sendto_case IPv6 "$ORIG6" AAAA ::ffff:127.0.0.42

# A client holding its socket: its flow is listed.
start holder scope/client python3 "$HERE/dns_client.py" "$ORIG4" "$ORIG_PORT" \
	hold.test A --hold 30
HOLDER_PID=$LAST_PID
if check_cmd "a client holding its socket got its answer" \
	wait_for "$HOLDER_PID" "$T/holder.out" '^holding$'; then
	lw flows >"$T/flows" 2>&1
	check_cmd "lwfp flows lists its flow: python3 to $ORIG4:$ORIG_PORT through dns4" \
		grep -E -q "^[0-9a-f]{16} +$HOLDER_PID +python3 +$(ere "$ORIG4:$ORIG_PORT") +dns4" \
		"$T/flows" || show "$T/flows"
	sed 's/^/# flows: /' "$T/flows"
else
	show "$T/holder.out" "$T/proxy.log"
fi
stop_pid "$HOLDER_PID"

# Bad input: a redirected datagram that is not DNS; a query sent to the
# proxy directly, not redirected.
check_cmd "junk to $ORIG4:$ORIG_PORT from the client cgroup gets no reply" \
	to "$T/junk.out" in_ns scope/client python3 "$HERE/dns_client.py" \
	"$ORIG4" "$ORIG_PORT" junk.test A --junk --timeout 2 || show "$T/junk.out"
check_cmd "... and the proxy dropped it as a bad query (not DNS)" \
	grep -E -q '^dropping bad query from [^ ]+ \([0-9]+ bytes\): ' "$T/proxy.log" ||
	show "$T/proxy.log"
in_ns outside python3 "$HERE/dns_client.py" "$PROXY4" "$PROXY_PORT" \
	direct.test A --timeout 2 >"$T/direct.out" 2>&1
check_cmd "a query sent to the proxy directly (not redirected) gets no reply" \
	grep -q '^error: no reply' "$T/direct.out" || show "$T/direct.out"
check_cmd "... and the proxy refused it as not redirected by lwfp" \
	grep -E -q "^refusing query direct\.test A from [^ ]+ to $(ere "$PROXY4:$PROXY_PORT"): not redirected" \
	"$T/proxy.log" || show "$T/proxy.log"

# Each query reached the responder exactly once: no loop, nothing lost.
check_cmd "the responder saw 7 queries in all (each once: no loop through the proxy)" \
	test "$(grep -c '^query ' "$T/responder.log")" = 7 ||
	show "$T/responder.log"
check_cmd "the engine showed 7 replies as from the original destination" \
	test "$(($(counter udp_replies_from_original_peer) - replies0))" = 7

# Idle flows are closed: wait for more than the proxy's --idle.
wait_for "$PROXY_PID" "$T/proxy.log" ' ended: idle, ' >/dev/null
check_cmd "the proxy closed idle flows (--idle $IDLE)" \
	grep -E -q "^flow from [^ ]+ to $(ere "$ORIG4:$ORIG_PORT") via [^ ]+ ended: idle, 2 queries, 2 replies\$" \
	"$T/proxy.log" || show "$T/proxy.log"

sed 's/^/# proxy: /' "$T/proxy.log"
sed 's/^/# responder: /' "$T/responder.log"
lw status | sed 's/^/# /'

# The proxy stops cleanly on SIGTERM (sanitizers report at exit).
stop_pid "$PROXY_PID"
status=$?
check_cmd "the proxy exited 0 on SIGTERM" test "$status" = 0 || show "$T/proxy.out"
check_cmd "the proxy's stderr is empty (no error, no sanitizer report)" \
	test ! -s "$T/proxy.out" || show "$T/proxy.out"

# ---- tear down, and check that nothing is left ----

cleanup
gone() {
	! kill -0 "$1" 2>/dev/null	# not even a zombie
}
for p in "$RESPONDER_PID" "$PROXY_PID" "$HOLDER_PID"; do
	check_cmd "pid $p stopped and reaped" gone "$p"
done
check_cmd "no pin directory left" test ! -e "$PIN"
check_cmd "no cgroup left" test ! -e "$CGMNT/$TAG"
check_cmd "no network namespace left" test ! -e "$NSP"
echo "1..$((npass + nfail))"
echo "# $npass passed, $nfail failed"
[ "$nfail" = 0 ]
