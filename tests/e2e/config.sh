#!/bin/bash
# End-to-end tests of the configuration file: lwfp apply, apply --check,
# lwfp save, through the real binary and a real engine in a cgroup and a
# pin directory of this script's own:
#   bash tests/e2e/config.sh path/to/lwfp
# Needs root and python3 (the peers: tests/e2e/config_peers.py). Prints
# TAP, exits 1 if any check failed. Everything it creates is named
# lwfp-conftest-$$ and removed on exit, also when it fails. Every peer is
# on 127.0.0.1.
# shellcheck disable=SC2016 # check strings expand when evaluated
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

need_root_and_lwfp "path/to/lwfp" "$@"
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }

scratch_engine conftest
PEERS=
CLIENT=
fail=0
# ports: the connects' target and three services (the peers' own, below;
# the files that only configure take any)
PT=9 P1=10 P2=11 P3=12

cleanup() {
	trap - EXIT
	trap '' INT TERM HUP
	[ -n "$CLIENT" ] && stop_pid "$CLIENT"
	[ -n "$PEERS" ] && stop_pid "$PEERS"
	case $PIN in /sys/fs/bpf/lwfp-conftest-*) remove_pin_dir "$PIN" ;; esac
	remove_cgroups
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

lw() { "$LWFP" --pin-dir "$PIN" "$@"; }
# the configuration as save writes it, without its comment
saved() { lw save | grep -v '^#'; }

mkdir -p "$CGDIR/app" "$CGDIR/svc" || { echo "Bail out! no cgroup"; exit 1; }
GROUP=
getent group lwfp >/dev/null && GROUP=" --group lwfp"
cp "$HERE/../../examples/winsock-thread-proxy.layout" "$T/thread.layout"

# ---- what is refused, and refused before anything changes ----

printf 'load --cgroup /%s\n# two\nservice add web --listen "127.0.0.1:%s\n' \
	"$TAG" "$P1" >"$T/quote.conf"
lw apply "$T/quote.conf" >"$T/out" 2>"$T/err"
check "a parse error names file:line:column" \
	'[ $? = 1 ] && grep -q "quote.conf:3:26: unterminated quote" "$T/err"'
check "a refused file loads no engine" '[ ! -e "$PIN" ]'

printf 'load --cgroup /%s\nrule add  --dport 99999 --service web\n' "$TAG" \
	>"$T/port.conf"
lw apply "$T/port.conf" 2>"$T/err"
check "an option's error names its word" \
	'grep -q "port.conf:2:19: bad port .99999." "$T/err"'

echo 'service add web --listen 127.0.0.1:9 --pid 1' >"$T/pid.conf"
lw apply --check "$T/pid.conf" 2>"$T/err"
check "--pid is refused in a file" \
	'[ $? = 1 ] && grep -q "pid.conf:1:44: --pid has no place" "$T/err"'

printf 'service add web --listen 127.0.0.1:%s\n' "$P1" >"$T/noload.conf"
lw apply "$T/noload.conf" 2>"$T/err"
check "over no engine, a file without load is refused" \
	'[ $? = 1 ] && grep -q "no load statement" "$T/err" && [ ! -e "$PIN" ]'

# ---- apply, save, and back ----

cat >"$T/main.conf" <<CONF
# the engine, its services and their rules
load --cgroup /$TAG --udp-timeout 30$GROUP
service add web --listen 127.0.0.1:$P1 --cgroup /$TAG/svc --weight 5
service add dns --listen [::1]:$P2 --proto udp --fail closed
rule add --service web --dst 127.0.0.0/8 --dport 80-90 --context "a\\x00b\\"c'\\xff" --context-layout-text "size 20; at 0 orig_dst addr16; at 16 pid u32le"
rule add --service web --dst 127.1.0.0/16 --dport 443 \\
	--context-layout thread.layout    # by path, from the file's folder
rule add --service dns --proto udp --dport 53 --uid 0 --cgroup /$TAG/app --reinspect
CONF
lw apply --check "$T/main.conf" >"$T/out"
check "apply --check validates and loads nothing" \
	'[ $? = 0 ] && grep -q "2 services, 3 rules: ok" "$T/out" && [ ! -e "$PIN" ]'
lw apply "$T/main.conf" >"$T/out"
check "apply over no engine loads it" \
	'[ $? = 0 ] && grep -q "2 added, 0 changed, 0 removed; rules 0 kept, 3 added" "$T/out"'

# what save should write: the file, with the layout given by path inline
# (its text as layout_describe writes it: below, only its start)
{
	grep -v -e '^#' -e 'thread.layout' -e 'dst 127.1' "$T/main.conf" |
		sed '/--service dns/d'
	echo "rule add --service web --dst 127.1.0.0/16 --dport 443 LAYOUT"
	grep -e '--service dns' "$T/main.conf"
} >"$T/want"
saved >"$T/saved"
check "apply F; save gives F back (odd context bytes, layouts)" \
	'sed "s/ --context-layout-text \"size [0-9]*; at 0 orig_dst addr16; at 16 orig_dst port; at 20 pid u32le; .*\"$/ LAYOUT/" "$T/saved" | diff -u "$T/want" -'
lw rule list >"$T/ids.before"
lw save | lw apply - >"$T/out"
lw rule list >"$T/ids.after"
check "save | apply - changes nothing" \
	'grep -q "services 2 kept, 0 added, 0 changed, 0 removed; rules 3 kept, 0 added, 0 removed" "$T/out"'
check "save | apply - keeps every rule id" \
	'diff -u "$T/ids.before" "$T/ids.after"'
saved | lw apply - >/dev/null && saved >"$T/saved2"
check "save | apply - | save is stable" 'diff -u "$T/saved" "$T/saved2"'
lw save | lw apply --upgrade - >"$T/out" 2>/dev/null
lw rule list >"$T/ids.upgraded"
check "apply --upgrade upgrades in place and keeps everything" \
	'grep -q "rules 3 kept, 0 added, 0 removed" "$T/out" && diff -u "$T/ids.before" "$T/ids.upgraded"'

# an error on the last line: nothing changes
{ saved | sed 's/--weight 5/--weight 7/'; echo "rule add --service web --cgroup /$TAG/none"; } >"$T/late.conf"
lw apply "$T/late.conf" 2>"$T/err"
check "an error late in a file changes nothing" \
	'[ $? = 1 ] && grep -q "late.conf:7:" "$T/err" && saved | diff -q - "$T/saved" >/dev/null'
printf 'load --cgroup /%s/app\n' "$TAG" >"$T/moved.conf"
lw apply "$T/moved.conf" 2>"$T/err"
check "another cgroup than the engine's is refused" \
	'[ $? = 1 ] && grep -q "unload first" "$T/err" && saved | diff -q - "$T/saved" >/dev/null'

# a rule goes, one comes, a weight changes: the others keep their ids
id_of() { awk -v d="$1" '$4 == d { print $1 }' "$2"; }
{ saved | sed -e 's/--weight 5/--weight 6/' -e '/127.1.0.0/d'
  echo "rule add --service dns --proto udp --dport 5353"; } >"$T/edit.conf"
lw apply "$T/edit.conf" >"$T/out"
lw rule list >"$T/ids.edit"
check "an edit keeps the ids of the rules that stay" \
	'grep -q "services 2 kept, 0 added, 0 changed, 0 removed; rules 2 kept, 1 added, 1 removed" "$T/out" &&
	 [ "$(id_of 127.0.0.0/8 "$T/ids.before")" = "$(id_of 127.0.0.0/8 "$T/ids.edit")" ] &&
	 [ -z "$(id_of 127.1.0.0/16 "$T/ids.edit")" ]'

# ---- atomic: a client connecting all along sees one configuration ----

# One rule a configuration, and no other service to fall back on: a
# connect that saw a mix (a rule naming a service slot not yet written,
# or already freed) goes unredirected, to the target, which answers "0".
# A: a on P1. B: a moves to P2 (a changed service takes a new slot).
# C: c on P3 takes a's place (one added, one removed). D: a on P1 again,
# c removed; then A: a's weight alone changes (written in place).
conf_one() {	# NAME PORT WEIGHT
	echo "load --cgroup /$TAG$GROUP"
	echo "service add $1 --listen 127.0.0.1:$2 --weight $3"
	echo "rule add --service $1 --dst 127.0.0.1/32 --dport $PT --cgroup /$TAG/app"
}
python3 "$HERE/config_peers.py" serve 0 1 2 3 >"$T/peers" &
PEERS=$!
for _ in $(seq 50); do grep -q ready "$T/peers" 2>/dev/null && break; sleep 0.1; done
read -r _ PT P1 P2 P3 <"$T/peers"
conf_one a "$P1" 10 >"$T/A.conf"
conf_one a "$P2" 10 >"$T/B.conf"
conf_one c "$P3" 10 >"$T/C.conf"
conf_one a "$P1" 20 >"$T/D.conf"
lw apply "$T/A.conf" >/dev/null
python3 -c 'import socket; print(socket.create_connection(("127.0.0.1", '"$PT"')).recv(4).decode())' >"$T/direct"
(echo 0 >"$CGDIR/app/cgroup.procs" &&
	exec python3 "$HERE/config_peers.py" client "$PT" "$T/stop") >"$T/seen" &
CLIENT=$!
applied=0
for i in $(seq 20); do
	for c in B C D A; do
		lw apply "$T/$c.conf" >/dev/null && applied=$((applied + 1))
	done
done
touch "$T/stop"
wait "$CLIENT"
CLIENT=
echo "# $applied applies while connecting: $(cat "$T/seen")"
check "the target answers 0 when not redirected" 'grep -qx 0 "$T/direct"'
check "80 applies while a client connects" '[ "$applied" = 80 ]'
check "no connect went unredirected or failed during apply" \
	'! grep -Eq "(^| )(0|E|empty)=" "$T/seen"'
check "each configuration took the connects in its turn" \
	'grep -q "1=" "$T/seen" && grep -q "2=" "$T/seen" && grep -q "3=" "$T/seen"'
stop_pid "$PEERS"
PEERS=

lw unload
check "unload leaves no pin directory" '[ ! -e "$PIN" ]'
remove_cgroups
check "no cgroup is left" '[ ! -e "$CGDIR" ]'
exit $fail
