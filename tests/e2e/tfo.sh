#!/bin/sh
# TCP Fast Open: a client's sendto(MSG_FASTOPEN) is redirected like a
# connect(), its data reaches the origin through the relay proxy, the
# proxy gets the flow's context, and getpeername() shows the original
# destination. Own cgroup and pin directory, loopback only.
#   tfo.sh LWFP EXAMPLES_DIR
set -u
lwfp=$1
proxy=$2/relay-proxy
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
name=lwfp-tfo-$$
pin=/sys/fs/bpf/$name
work=$(mktemp -d)
port=$((30000 + $$ % 20000))
pass=0
fail=0
pids=

cleanup() {
	[ -n "$pids" ] && kill $pids 2>/dev/null
	sleep 0.2
	"$lwfp" unload --pin-dir "$pin" >/dev/null 2>&1
	for c in app proxy origin; do
		[ -d "$cg2/$name/$c" ] && rmdir "$cg2/$name/$c"
	done
	[ -d "$cg2/$name" ] && rmdir "$cg2/$name"
	rm -rf "$work"
}
trap cleanup EXIT

check() {
	if grep -q "$2" "$3"; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1"
		sed 's/^/# /' "$3"
		fail=$((fail + 1))
	fi
}

if [ $(($(cat /proc/sys/net/ipv4/tcp_fastopen) & 1)) = 0 ]; then
	echo "ok - skipped: TCP Fast Open is off for clients (net.ipv4.tcp_fastopen)"
	echo "# 1 passed, 0 failed"
	exit 0
fi
mkdir -p "$cg2/$name/app" "$cg2/$name/proxy" "$cg2/$name/origin"
"$lwfp" load --cgroup "/$name" --pin-dir "$pin" >/dev/null 2>&1 || exit 1
"$lwfp" service add p --listen "127.0.0.1:$port" --cgroup "/$name/proxy" \
	--pin-dir "$pin" >/dev/null || exit 1
"$lwfp" rule add --service p --dst 127.0.0.2/32 --dport $((port + 1)) \
	--context tfo-test --pin-dir "$pin" >/dev/null || exit 1
"$lwfp" exec --cgroup "/$name/origin" -- python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.2", int(sys.argv[1])))
s.listen(5)
s.settimeout(30)
c, a = s.accept()
c.sendall(b"origin got " + c.recv(100))
' $((port + 1)) &
pids="$pids $!"
"$lwfp" exec --cgroup "/$name/proxy" -- "$proxy" --listen "127.0.0.1:$port" \
	--pin-dir "$pin" >"$work/proxy.log" 2>&1 &
pids="$pids $!"
sleep 1
"$lwfp" exec --cgroup "/$name/app" -- python3 -c '
import socket, struct, sys
s = socket.socket()
# a receive timeout that keeps the socket blocking (settimeout would not)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 10, 0))
dst = ("127.0.0.2", int(sys.argv[1]))
s.sendto(b"GET /tfo HTTP/1.0\r\n\r\n", socket.MSG_FASTOPEN, dst)
print("reply", s.recv(100))
print("peer", s.getpeername() == dst)
' $((port + 1)) >"$work/client.out" 2>&1
sleep 0.5
"$lwfp" status --pin-dir "$pin" >"$work/status"
check "the data sent with the SYN reached the origin" \
	"reply b'origin got GET /tfo" "$work/client.out"
check "getpeername() shows the original destination" "peer True" \
	"$work/client.out"
check "the proxy got the flow with its context" \
	"flow orig=127.0.0.2:$((port + 1)) .*rule-context=\"tfo-test\"" \
	"$work/proxy.log"
check "redirected and handed off once each" "handed_off  *1$" "$work/status"
echo "# $pass passed, $fail failed"
[ $fail = 0 ]
