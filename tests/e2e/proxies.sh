#!/bin/bash
# Unmodified transparent proxies from Debian's packages, doing real work
# through lwfp with curl as the client, and no netfilter rule anywhere:
#
#   squid (intercept mode), IPv4 and IPv6: it learns the original
#     destination with getsockopt(SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST),
#     which the engine answers;
#   redsocks (redirector = iptables, the same getsockopt) to a SOCKS5
#     upstream, microsocks;
#   the Windows redirect services of examples/ (winsock-proxy, -iocp-,
#     -eventselect-, -thread-proxy), built unchanged against lwfp-winsock,
#     reading records and context with WSAIoctl.
#
# Usage: bash tests/e2e/proxies.sh PATH-TO-lwfp [DIR-OF-EXAMPLES]
# Needs root and the packages scripts/deps.sh installs (squid, redsocks,
# microsocks, python3, curl, iproute2, nftables, util-linux).
#
# Everything runs in a network namespace of its own (so "no nat rule" is
# checked where the traffic is) and in a cgroup tree of its own:
#
#   /lwfp-proxies-PID/outside          origin HTTP servers (not in scope)
#   /lwfp-proxies-PID/scope            the engine is attached here
#   /lwfp-proxies-PID/scope/client     curl
#   /lwfp-proxies-PID/scope/squid      squid: services squid4, squid6
#   /lwfp-proxies-PID/scope/redsocks   service redsocks, exempt subtree:
#                     .../redsocks/redsocks   redsocks
#                     .../redsocks/socks      microsocks (its upstream)
#
# The engine is pinned at /sys/fs/bpf/lwfp-proxies-PID. Every address is
# on the namespace's loopback. Everything is removed on exit, also when a
# check fails or the script is interrupted.
# shellcheck disable=SC2016 # single-quoted python is not for the shell
set -u
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

need_root_and_lwfp "path/to/lwfp [examples-dir]" "$@"

TAG=lwfp-proxies-$$
BPFFS=/sys/fs/bpf
PIN=$BPFFS/$TAG
CG=/$TAG			# relative to the cgroup2 mount
NS=$TAG
NSP=/run/netns/$NS
CGMNT=$(cgroup2_mount)
CGDIR=
T=
NS_MADE=
PIDS=()			# what start() started, for cleanup
declare -A NAMES=()
export LWFP_PIN_DIR=$PIN	# a command without --pin-dir still hits ours
unset LWFP_DEBUG

trap_cleanup		# tests/lib.sh: clean up on every exit

# ---- checks ----

lw() { "$LWFP" --pin-dir "$PIN" "$@"; }

# counter NAME: the engine's counter NAME now.
counter() {
	lw --json status | python3 -c \
		'import json, sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

# listening PORT: something listens on TCP PORT in our netns.
listening() {
	nsenter --net="$NSP" ss -Hltn "sport = :$1" | grep -q .
}

# wait_listen PID PORT: wait (10 s at most) for PID to listen on PORT.
wait_listen() {
	for _ in $(seq 100); do
		running "$1" || return 1
		listening "$2" && return 0
		sleep 0.1
	done
	return 1
}

# lines FILE: number of lines of FILE (0 if there is none).
lines() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# ---- set up ----

for c in squid redsocks microsocks python3 curl ss nsenter nft ip; do
	command -v "$c" >/dev/null || bail "$c is missing (run scripts/deps.sh)"
done
id proxy >/dev/null 2>&1 || bail "no user proxy (squid's)"
{ [ -n "$CGMNT" ] && [ -d "$CGMNT" ]; } || bail "no cgroup2 file system mounted"
[ -d "$BPFFS" ] || bail "no $BPFFS"

T=$(mktemp -d "/tmp/$TAG.XXXXXX") || bail "mktemp"
chmod 755 "$T"		# squid runs as proxy and must reach its directory

ip netns add "$NS" || bail "ip netns add $NS"
NS_MADE=1
ip -n "$NS" link set lo up || bail "lo up in $NS"

CGDIR=$CGMNT/$TAG
mkdir "$CGDIR" || bail "mkdir $CGDIR"
for d in outside scope scope/client scope/squid scope/redsocks \
	scope/redsocks/redsocks scope/redsocks/socks; do
	mkdir "$CGDIR/$d" || bail "mkdir $CGDIR/$d"
done

# Free ports in the namespace (it is new, so any would do; still ask).
read -r P_ORIG4 P_ORIG6 P_ORIG_RS P_SQUID4 P_SQUID6 P_SQUID P_REDSOCKS P_SOCKS < <(
	nsenter --net="$NSP" python3 -c '
import socket
socks = []
for fam, addr in [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1"),
                  (socket.AF_INET, "127.0.0.2"), (socket.AF_INET, "127.0.0.1"),
                  (socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1"),
                  (socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "127.0.0.3")]:
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((addr, 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
')
[ -n "$P_SOCKS" ] || bail "could not pick ports"
echo "# ports: origin4 $P_ORIG4 origin6 $P_ORIG6 origin-rs $P_ORIG_RS" \
	"squid $P_SQUID4/$P_SQUID6 (forward $P_SQUID) redsocks $P_REDSOCKS socks $P_SOCKS"

# The origin: a static file server that logs one line per request with the
# peer and the headers a proxy adds.
cat >"$T/origin.py" <<'EOF'
import functools, http.server, socket, sys

addr, port, root, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        h = self.headers
        with open(log, "a") as f:
            f.write("peer=%s path=%s host=%s via=%s xff=%s\n" % (
                self.client_address[0], self.path, h.get("Host", "-"),
                (h.get("Via") or "-").replace(" ", "_"),
                h.get("X-Forwarded-For", "-")))
        super().do_GET()

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET

Server((addr, port), functools.partial(Handler, directory=root)).serve_forever()
EOF

# origin NAME ADDR PORT: start an origin serving $T/NAME/hello.txt.
origin() {
	mkdir "$T/$1"
	echo "hello from $1 ($TAG $RANDOM$RANDOM)" >"$T/$1/hello.txt"
	start "$1" outside python3 "$T/origin.py" "$2" "$3" "$T/$1" "$T/$1.log"
	wait_listen "$LAST_PID" "$3" || { show "$T/$1.out"; bail "origin $1 did not start"; }
}
origin origin4 127.0.0.1 "$P_ORIG4"
origin origin6 ::1 "$P_ORIG6"
origin origin-rs 127.0.0.2 "$P_ORIG_RS"

# ---- the engine, services, rules ----

lw load --cgroup "$CG/scope" >/dev/null || bail "lwfp load"
lw service add squid4 --netns "$NS" --listen "127.0.0.1:$P_SQUID4" --cgroup "$CG/scope/squid" ||
	bail "service add squid4"
lw service add squid6 --netns "$NS" --listen "[::1]:$P_SQUID6" --cgroup "$CG/scope/squid" ||
	bail "service add squid6"
lw service add redsocks --netns "$NS" --listen "127.0.0.1:$P_REDSOCKS" \
	--cgroup "$CG/scope/redsocks" || bail "service add redsocks"
# the nat lines these replace are in docs/migrating-from-iptables.md
lw rule add --service squid4 --dst 127.0.0.1/32 --dport "$P_ORIG4" >/dev/null ||
	bail "rule add squid4"
lw rule add --service squid6 --dst ::1/128 --dport "$P_ORIG6" >/dev/null ||
	bail "rule add squid6"
lw rule add --service redsocks --dst 127.0.0.2/32 >/dev/null ||
	bail "rule add redsocks"
lw rule list | sed 's/^/# /'

# ---- squid, unmodified, in intercept mode ----

SQ=$T/squid
mkdir "$SQ"
cat >"$SQ/squid.conf" <<EOF
# squid in intercept mode behind lwfp: no netfilter rule anywhere
# (squid wants one forward-proxy port too, for its internal URLs)
http_port 127.0.0.1:$P_SQUID
http_port 127.0.0.1:$P_SQUID4 intercept
http_port [::1]:$P_SQUID6 intercept
acl loopback src 127.0.0.0/8 ::1
http_access allow loopback
http_access deny all
visible_hostname $TAG
cache_effective_user proxy
pid_filename $SQ/squid.pid
cache_log $SQ/cache.log
logformat lwfp %ts.%03tu %>a %>la:%>lp %Ss/%03>Hs %rm %ru %<a:%<p
access_log stdio:$SQ/access.log lwfp
coredump_dir $SQ
cache deny all
cache_mem 8 MB
max_filedescriptors 1024
netdb_filename none
pinger_enable off
icp_port 0
htcp_port 0
dns_nameservers 127.0.0.1
shutdown_lifetime 0 seconds
EOF
chown -R proxy: "$SQ"
squid -k parse -f "$SQ/squid.conf" >"$SQ/parse.out" 2>&1 ||
	{ show "$SQ/parse.out"; bail "squid -k parse"; }
start squid scope/squid squid -N -f "$SQ/squid.conf"
SQUID_PID=$LAST_PID
{ wait_listen "$SQUID_PID" "$P_SQUID4" && wait_listen "$SQUID_PID" "$P_SQUID6"; } ||
	{ show "$T/squid.out" "$SQ/cache.log"; bail "squid did not start"; }

# ---- redsocks, unmodified, to microsocks (SOCKS5) ----

RS=$T/redsocks
mkdir "$RS"
cat >"$RS/redsocks.conf" <<EOF
base {
	log_debug = off;
	log_info = on;
	log = "file:$RS/redsocks.log";
	daemon = off;
	redirector = iptables;	// getsockopt(SO_ORIGINAL_DST), answered by lwfp
}
redsocks {
	local_ip = 127.0.0.1;
	local_port = $P_REDSOCKS;
	ip = 127.0.0.3;
	port = $P_SOCKS;
	type = socks5;
}
EOF
# -b: its outbound connects come from 127.0.0.3, so the origin can tell it
start microsocks scope/redsocks/socks microsocks -i 127.0.0.3 -p "$P_SOCKS" -b 127.0.0.3
wait_listen "$LAST_PID" "$P_SOCKS" ||
	{ show "$T/microsocks.out"; bail "microsocks did not start"; }
start redsocks scope/redsocks/redsocks redsocks -c "$RS/redsocks.conf"
wait_listen "$LAST_PID" "$P_REDSOCKS" ||
	{ show "$T/redsocks.out" "$RS/redsocks.log"; bail "redsocks did not start"; }

# ---- no netfilter anywhere the traffic goes ----

nsenter --net="$NSP" nft list ruleset >"$T/ruleset" 2>&1
check_cmd "no nftables rule in the namespace (nft list ruleset is empty)" \
	test ! -s "$T/ruleset" || show "$T/ruleset"
no_iptables_nat() {
	local save

	for save in iptables-save ip6tables-save iptables-legacy-save \
		ip6tables-legacy-save; do
		command -v "$save" >/dev/null || continue
		nsenter --net="$NSP" "$save" -t nat 2>/dev/null |
			grep -E -- '-j (REDIRECT|DNAT|TPROXY)' && return 1
	done
	return 0
}
check_cmd "no iptables nat rule in the namespace (where installed)" no_iptables_nat

# ---- the flows ----

# snap: remember the counters; delta NAME: how much NAME grew since.
snap() {
	lw --json status >"$T/before.json"
}
delta() {
	lw --json status | python3 -c '
import json, sys
before = json.load(open(sys.argv[1]))["counters"][sys.argv[2]]
print(json.load(sys.stdin)["counters"][sys.argv[2]] - before)' "$T/before.json" "$1"
}

# fetch NAME URL: curl, in the client cgroup, fetches URL; body in
# $T/NAME.body, response headers in $T/NAME.hdr, curl's view in $T/NAME.curl.
fetch() {
	in_ns scope/client curl -sS -g --noproxy '*' --max-time 20 \
		-o "$T/$1.body" -D "$T/$1.hdr" \
		-w 'remote %{remote_ip}:%{remote_port} http %{http_code}\n' \
		"$2" >"$T/$1.curl" 2>&1
}

# log_has FILE PATTERN: FILE has a line matching PATTERN (ERE).
log_has() {
	grep -E -q -- "$2" "$1" 2>/dev/null
}

# one_request LOG: the origin logged exactly one request.
one_request() {
	[ "$(lines "$1")" = 1 ]
}

# squid_flow NAME FAMILY URL ORIGIN-ADDR ORIGIN-PORT ORIGIN
squid_flow() {
	local n=$1 fam=$2 url=$3 oaddr=$4 oport=$5 o=$6 a0 ok=1

	a0=$(lines "$SQ/access.log")
	snap
	check_cmd "squid $fam: curl (client cgroup) fetched $url, exit 0" fetch "$n" "$url" ||
		{ ok=; show "$T/$n.curl"; }
	check_cmd "squid $fam: the body is the origin's file" \
		cmp -s "$T/$n.body" "$T/$o/hello.txt" || ok=
	check_cmd "squid $fam: the reply came through squid (Via: ... squid)" \
		log_has "$T/$n.hdr" '^Via: .*squid' || ok=
	# squid writes access.log when the transaction ends: give it a moment
	for _ in $(seq 50); do
		[ "$(lines "$SQ/access.log")" -gt "$a0" ] && break
		sleep 0.1
	done
	tail -n +"$((a0 + 1))" "$SQ/access.log" >"$T/$n.access"
	check_cmd "squid $fam: access.log shows the original URL, a miss fetched from $oaddr:$oport" \
		grep -F -q -- " TCP_MISS/200 GET $url $oaddr:$oport" "$T/$n.access" || ok=
	check_cmd "squid $fam: the origin served exactly one request" \
		one_request "$T/$o.log" || ok=
	check_cmd "squid $fam: the origin's client was squid (Via squid, X-Forwarded-For)" \
		log_has "$T/$o.log" "via=.*squid.* xff=(127\.0\.0\.1|::1)\$" || ok=
	check_cmd "squid $fam: lwfp redirected exactly one connect and handed it off" \
		test "$(delta redirected)" = 1 -a "$(delta handed_off)" = 1 || ok=
	check_cmd "squid $fam: no loop: squid's own connect to the origin skipped its service" \
		test "$(delta skipped_own_process)" -ge 1 || ok=
	[ -n "$ok" ] || show "$T/$n.curl" "$T/$n.hdr" "$T/$n.access" "$T/$o.log" \
		"$SQ/cache.log"
	echo "# $(cat "$T/$n.curl" 2>/dev/null)"
	sed 's/^/# access.log: /' "$T/$n.access"
}

squid_flow sq4 IPv4 "http://127.0.0.1:$P_ORIG4/hello.txt" 127.0.0.1 "$P_ORIG4" origin4
squid_flow sq6 IPv6 "http://[::1]:$P_ORIG6/hello.txt" ::1 "$P_ORIG6" origin6

# redsocks: curl -> (lwfp) -> redsocks -> microsocks (SOCKS5) -> origin
n=rs
url="http://127.0.0.2:$P_ORIG_RS/hello.txt"
ok=1
snap
check_cmd "redsocks: curl (client cgroup) fetched $url, exit 0" fetch "$n" "$url" ||
	{ ok=; show "$T/$n.curl"; }
check_cmd "redsocks: the body is the origin's file" \
	cmp -s "$T/$n.body" "$T/origin-rs/hello.txt" || ok=
for _ in $(seq 50); do
	log_has "$RS/redsocks.log" 'accepted' && break
	sleep 0.1
done
check_cmd "redsocks: its log shows the connection accepted for 127.0.0.2:$P_ORIG_RS" \
	log_has "$RS/redsocks.log" "127\.0\.0\.2:$P_ORIG_RS\]: accepted" || ok=
check_cmd "redsocks: microsocks was asked (SOCKS5) for the original destination" \
	log_has "$T/microsocks.out" "connected to 127\.0\.0\.2:$P_ORIG_RS\$" || ok=
check_cmd "redsocks: the origin served exactly one request" \
	one_request "$T/origin-rs.log" || ok=
check_cmd "redsocks: the origin's client was the SOCKS server (peer 127.0.0.3)" \
	log_has "$T/origin-rs.log" '^peer=127\.0\.0\.3 ' || ok=
check_cmd "redsocks: lwfp redirected exactly one connect and handed it off" \
	test "$(delta redirected)" = 1 -a "$(delta handed_off)" = 1 || ok=
check_cmd "redsocks: no loop: microsocks' connect to the origin skipped redsocks" \
	test "$(delta skipped_own_process)" -ge 1 || ok=
[ -n "$ok" ] || show "$T/$n.curl" "$RS/redsocks.log" "$T/microsocks.out" \
	"$T/origin-rs.log"
echo "# $(cat "$T/$n.curl" 2>/dev/null)"
sed 's/^/# redsocks.log: /' "$RS/redsocks.log"

# ---- Windows redirect services, built unchanged against lwfp-winsock ----
# Each of the Winsock examples (select, IOCP, event select, C++ threads)
# takes curl's flow from lwfp, reads its records and context with
# WSAIoctl, and relays it to the origin, its own connect carrying the
# records; not exempt, so only the records keep it from looping.

EX=${2:-$(dirname "$LWFP")/examples}
free_port() {
	nsenter --net="$NSP" python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}
P_ORIG_WS=$(free_port 127.0.0.4)
origin origin-ws 127.0.0.4 "$P_ORIG_WS"
ws_url="http://127.0.0.4:$P_ORIG_WS/hello.txt"
for ws in winsock-proxy winsock-iocp-proxy winsock-eventselect-proxy \
	winsock-thread-proxy; do
	[ -x "$EX/$ws" ] || { check_cmd "$ws is built" false; continue; }
	p=$(free_port 127.0.0.1)
	mkdir "$CGDIR/scope/$ws" || bail "mkdir"
	start "$ws" "scope/$ws" "$EX/$ws" --count 1 127.0.0.1 "$p"
	ws_pid=$LAST_PID
	wait_listen "$ws_pid" "$p" || { show "$T/$ws.out"; bail "$ws did not start"; }
	lw service add "$ws" --netns "$NS" --listen "127.0.0.1:$p" || bail "service add $ws"
	# the example's own context struct, if it reads one
	layout=()
	top=$(cd "$(dirname "$0")/../.." && pwd)
	[ -f "$top/examples/$ws.layout" ] &&
		layout=(--context-layout "$top/examples/$ws.layout")
	id=$(lw --json rule add --service "$ws" --dst 127.0.0.4/32 --dport "$P_ORIG_WS" \
		"${layout[@]}" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') ||
		bail "rule add $ws"
	snap
	ok=1
	check_cmd "$ws: curl (client cgroup) fetched $ws_url through it, exit 0" \
		fetch "$ws" "$ws_url" || { ok=; show "$T/$ws.curl"; }
	check_cmd "$ws: the body is the origin's file" \
		cmp -s "$T/$ws.body" "$T/origin-ws/hello.txt" || ok=
	for _ in $(seq 50); do running "$ws_pid" || break; sleep 0.1; done
	check_cmd "$ws: it named curl and the original destination, and ended" \
		log_has "$T/$ws.out" "flow 1: pid [0-9]+ comm \"curl\" uid 0 -> 127\.0\.0\.4:$P_ORIG_WS " || ok=
	check_cmd "$ws: lwfp redirected curl's connect only (its own carried the records)" \
		test "$(delta redirected)" = 1 -a "$(delta handed_off)" = 1 || ok=
	[ -n "$ok" ] || show "$T/$ws.out"
	grep 'flow 1' "$T/$ws.out" | sed 's/^/# /'
	lw rule del "$id" >/dev/null
	lw service del "$ws" >/dev/null
done
check_cmd "no loop through the Winsock services: the origin served one request each" \
	test "$(lines "$T/origin-ws.log")" = 4

# ---- what the client and squid see ----

# The redirected client's getpeername() is the address it asked for.
cat >"$T/peer.py" <<'EOF'
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((addr, port), timeout=10)
peer = s.getpeername()[:2]
s.sendall(b"GET /hello.txt HTTP/1.0\r\nHost: %s:%d\r\n\r\n" % (addr.encode(), port))
reply = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    reply += b
print("peer %s %d" % peer)
sys.stdout.write(reply.decode(errors="replace"))
EOF
in_ns scope/client python3 "$T/peer.py" 127.0.0.1 "$P_ORIG4" >"$T/peer.out" 2>&1
check_cmd "a redirected client's getpeername() is the original destination" \
	eval 'head -n 1 "$T/peer.out" | grep -qx "peer 127.0.0.1 $P_ORIG4"' ||
	show "$T/peer.out"
check_cmd "... and its request went through squid (Via on the reply)" \
	log_has "$T/peer.out" '^Via: .*squid' || show "$T/peer.out"

# Not redirected, squid's intercept port gets no original destination:
# squid really takes it from the engine, and the engine answers only
# sockets of redirected flows. Others get the kernel's own answer: ENOENT
# from netfilter (no conntrack entry here), or ENOPROTOOPT without it.
in_ns outside curl -sS --noproxy '*' --max-time 10 -o /dev/null \
	-w '%{http_code}\n' "http://127.0.0.1:$P_SQUID4/hello.txt" >"$T/direct.out" 2>&1
nf_failed='NF getsockopt\(ORIGINAL_DST\) failed .*(No such file or directory|Protocol not available)'
for _ in $(seq 50); do
	log_has "$SQ/cache.log" "$nf_failed" && break
	sleep 0.1
done
check_cmd "a direct (not redirected) connect to squid's intercept port: SO_ORIGINAL_DST fails (the kernel's answer, not the engine's)" \
	log_has "$SQ/cache.log" "$nf_failed" ||
	show "$T/direct.out" "$SQ/cache.log"
check_cmd "... and squid closes that connection without an HTTP reply" \
	grep -qx '000' "$T/direct.out"
grep -E 'ORIGINAL_DST|NAT.*lookup failed' "$SQ/cache.log" | sed 's/^/# cache.log: /'
echo "# direct curl: $(tr '\n' ' ' <"$T/direct.out")"
check_cmd "no loop anywhere: each origin served the requests counted above only" \
	test "$(lines "$T/origin4.log")" = 2 -a "$(lines "$T/origin6.log")" = 1 \
	-a "$(lines "$T/origin-rs.log")" = 1

lw status | sed 's/^/# /'

# ---- tear down, and check that nothing is left ----

cleanup
gone() {
	! kill -0 "$1" 2>/dev/null	# not even a zombie
}
for p in "${PIDS[@]}"; do
	check_cmd "${NAMES[$p]} (pid $p) stopped and reaped" gone "$p"
done
check_cmd "no pin directory left" test ! -e "$PIN"
check_cmd "no cgroup left" test ! -e "$CGMNT/$TAG"
check_cmd "no network namespace left" test ! -e "$NSP"
echo "1..$((npass + nfail))"
echo "# $npass passed, $nfail failed"
[ "$nfail" = 0 ]
