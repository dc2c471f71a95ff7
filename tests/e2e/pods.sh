#!/bin/bash
# The topologies of a Kubernetes node (docs/deploy.md), with network
# namespaces and cgroups of this script's own standing in for pods:
#   (a) a proxy inside each pod's namespace, registered with --netns and
#       --cgroup: each pod's connects go to its own pod's proxy;
#   (b) a node-level proxy, in a namespace the pods are not in: not
#       supported; a connect it would take is refused (--fail closed) or
#       goes direct (--fail open), and counted either way.
#   bash tests/e2e/pods.sh path/to/lwfp
# Needs root, python3 and ip(8). Prints TAP, exits 1 if any check failed.
# Everything it creates is named lwfp-podtest-$$ (cgroups, pin directory,
# namespaces) and removed on exit, also when it fails. Every address is
# 127.0.0.1, inside a namespace the script made.
# shellcheck disable=SC2016,SC2034 # check strings expand when evaluated
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

need_root_and_lwfp "path/to/lwfp" "$@"
# wait_ready FILE: a peer printed "ready" there, within 20 s
wait_ready() {
	for _ in $(seq 200); do
		grep -q ready "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
command -v ip >/dev/null || { echo "1..0 # SKIP no ip(8)"; exit 0; }
scratch_engine podtest
PEERS=()
NSS=()
fail=0

cleanup() {
	local p n

	trap - EXIT
	trap '' INT TERM HUP
	for p in "${PEERS[@]}"; do
		stop_pid "$p"
	done
	case $PIN in /sys/fs/bpf/lwfp-podtest-*) remove_pin_dir "$PIN" ;; esac
	remove_cgroups
	for n in "${NSS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

lw() { "$LWFP" --pin-dir "$PIN" "$@"; }
# serve NAME POD CGROUP|- LABEL: a peer answering LABEL on a port of its
# namespace, in CGROUP (under ours) or in none of ours; its port in $PORT
serve() {
	local name=$1 ns=$TAG-$2 cg=$3 label=$4

	if [ "$cg" = - ]; then
		ip netns exec "$ns" python3 "$HERE/config_peers.py" serve \
			"$label" >"$T/$name" 2>&1 &
	else
		"$LWFP" exec --cgroup "$CGDIR/$cg" -- ip netns exec "$ns" \
			python3 "$HERE/config_peers.py" serve "$label" \
			>"$T/$name" 2>&1 &
	fi
	PEERS+=($!)
	for _ in $(seq 100); do
		grep -q ready "$T/$name" 2>/dev/null && break
		sleep 0.1
	done
	read -r _ PORT <"$T/$name"
}
# ask POD PORT: what a client in the pod's app cgroup and namespace gets
# from 127.0.0.1:PORT (the peer's label, or E:the error)
ask() {
	"$LWFP" exec --cgroup "$CGDIR/$1/app" -- ip netns exec "$TAG-$1" \
		python3 -c '
import socket, sys
try:
    print(socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).recv(16).decode())
except OSError as e:
    print("E:" + (e.strerror or str(e)))' "$2"
}
stat() { lw status | awk -v k="$1" '$1 == k || $1 == k ":" { print $NF; exit }'; }

for pod in pod1 pod2 node; do
	ip netns add "$TAG-$pod" || bail "cannot make a network namespace"
	NSS+=("$TAG-$pod")
	ip -n "$TAG-$pod" link set lo up
	mkdir -p "$CGDIR/$pod/app" "$CGDIR/$pod/proxy" || bail "no cgroup"
done

# in each pod: the destination its app connects to, and its proxy
serve target1 pod1 - target1; PT1=$PORT
serve target2 pod2 - target2; PT2=$PORT
serve node node node/proxy node; PN=$PORT
cat >"$T/a.conf" <<CONF
load --cgroup /$TAG
CONF
lw apply "$T/a.conf" >/dev/null || bail "cannot load the engine"
# the proxies bind inside the engine's cgroup, so they are known by it
serve proxy1 pod1 pod1/proxy proxy1; PS1=$PORT
serve proxy2 pod2 pod2/proxy proxy2; PS2=$PORT
cat >>"$T/a.conf" <<CONF
service add proxy1 --listen 127.0.0.1:$PS1 --netns $TAG-pod1 --cgroup /$TAG/pod1/proxy --fail closed
service add proxy2 --listen 127.0.0.1:$PS2 --netns $TAG-pod2 --cgroup /$TAG/pod2/proxy --fail closed
rule add --service proxy1 --dst 127.0.0.1/32 --cgroup /$TAG/pod1/app
rule add --service proxy2 --dst 127.0.0.1/32 --cgroup /$TAG/pod2/app
CONF
lw apply "$T/a.conf" >"$T/out" 2>&1
check "a proxy per pod: apply" '[ $? = 0 ]' || show "$T/out"
check "(a) pod1's app reaches pod1's proxy" '[ "$(ask pod1 "$PT1")" = proxy1 ]'
check "(a) pod2's app reaches pod2's proxy" '[ "$(ask pod2 "$PT2")" = proxy2 ]'
check "(a) each on its own: no service was down" \
	'[ "$(stat service_down_refused)" = 0 ] && [ "$(stat service_down_passed_over)" = 0 ]'

lw save >"$T/saved" 2>"$T/err"
check "(a) save names each proxy's namespace as ip netns does" \
	'grep -q -- "--netns $TAG-pod1\$" "$T/saved" && grep -q -- "--netns $TAG-pod2\$" "$T/saved" && [ ! -s "$T/err" ]'
lw apply - <"$T/saved" >"$T/out" 2>&1
check "(a) save | apply - keeps them" \
	'grep -q "services 2 kept, 0 added, 0 changed, 0 removed; rules 2 kept" "$T/out"'

# (a) what is not the pod's proxy: a listener on its address in its
# namespace, bound from outside its cgroup
kill -TERM "${PEERS[3]}"; wait "${PEERS[3]}" 2>/dev/null
ip netns exec "$TAG-pod1" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", '"$PS1"')); s.listen(8); print("ready", flush=True); time.sleep(60)' \
	>"$T/impostor" 2>&1 &
PEERS+=($!)
wait_ready "$T/impostor" || bail "the impostor did not start: $(cat "$T/impostor")"
check "(a) a listener outside the proxy's cgroup is not the proxy: refused" \
	'[ "${ask1:=$(ask pod1 "$PT1")}" != proxy1 ] && [ "${ask1#E:}" != "$ask1" ] && [ "$(stat service_down_refused)" = 1 ]'

# (b) a node-level proxy: its namespace is not the pod's, so for the
# pod's connect it is down, whatever listens at its address there
{ grep -v '^rule' "$T/a.conf"
  echo "service add node --listen 127.0.0.1:$PN --netns $TAG-node --cgroup /$TAG/node/proxy --fail closed"
  grep '^rule' "$T/a.conf" | sed "s/^rule add --service proxy1 /rule add --service node /"
} >"$T/b.conf"
lw apply "$T/b.conf" >"$T/out" 2>&1 || show "$T/out"
r=$(ask pod1 "$PT1")
check "(b) a node proxy, --fail closed: the pod's connect is refused" \
	'[ "${r#E:}" != "$r" ] && [ "$(stat service_down_refused)" = 2 ]'
# even a listener at the node proxy's address in the pod's namespace,
# bound from the node proxy's own cgroup, is not the node's service
"$LWFP" exec --cgroup "$CGDIR/node/proxy" -- ip netns exec "$TAG-pod1" \
	python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", '"$PN"')); s.listen(8); print("ready", flush=True)
while True: s.accept()[0].sendall(b"lookalike")' >"$T/lookalike" 2>&1 &
PEERS+=($!)
wait_ready "$T/lookalike" || bail "the lookalike did not start: $(cat "$T/lookalike")"
r=$(ask pod1 "$PT1")
check "(b) a lookalike in the pod's namespace does not make it alive" \
	'[ "${r#E:}" != "$r" ] && [ "$(stat service_down_refused)" = 3 ]'
sed -i "/^service add node/s/--fail closed/--fail open/" "$T/b.conf"
lw apply "$T/b.conf" >"$T/out" 2>&1 || show "$T/out"
r=$(ask pod1 "$PT1")
check "(b) --fail open: it goes to its destination, counted" \
	'[ "$r" = target1 ] && [ "$(stat service_down_passed_over)" = 1 ]'
check "(b) the other pod still reaches its own proxy" \
	'[ "$(ask pod2 "$PT2")" = proxy2 ]'

lw unload >/dev/null
check "unload leaves no pin directory" '[ ! -e "$PIN" ]'
exit $fail
