#!/bin/bash
# End-to-end tests of lwfp apply --watch, the way a Kubernetes ConfigMap
# volume changes its file: a directory with the file as a symlink to
# ..data/FILE, ..data a symlink swapped by rename to a new timestamped
# directory; then an editor's rename over the file, then a write in place.
#   bash tests/e2e/watch.sh path/to/lwfp
# Needs root. Prints TAP, exits 1 if any check failed. Everything it
# creates is named lwfp-watchtest-$$ (cgroup, pin directory) or is in a
# scratch directory, and is removed on exit, also when it fails. It
# connects nowhere: what the engine holds is read back with lwfp save.
# shellcheck disable=SC2016,SC2034 # check strings expand when evaluated
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

need_root_and_lwfp "path/to/lwfp" "$@"
scratch_engine watchtest
CM=$T/cm	# the ConfigMap volume
W1=
W2=
fail=0

cleanup() {
	trap - EXIT
	trap '' INT TERM HUP
	[ -n "$W1" ] && stop_pid "$W1"
	[ -n "$W2" ] && stop_pid "$W2"
	case $PIN in /sys/fs/bpf/lwfp-watchtest-*) remove_pin_dir "$PIN" ;; esac
	remove_cgroups
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

lw() { "$LWFP" --pin-dir "$PIN" "$@"; }
# until COMMAND... succeeds, for 20 s at most
until_ok() {
	for _ in $(seq 200); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# count_is N PATTERN FILE: FILE has N lines matching PATTERN
count_is() { [ "$(grep -c "$2" "$3")" = "$1" ]; }
# holds PORT: the engine's configuration has the rule for PORT
holds() { lw save 2>/dev/null | grep -q -- "--dport $1\$"; }
conf() {	# PORT: a configuration with one rule
	echo "load --cgroup /$TAG"
	echo "service add web --listen 127.0.0.1:8080"
	echo "rule add --service web --dst 127.0.0.1/32 --dport $1"
}
# publish N PORT: what the kubelet does with a new version of a ConfigMap
publish() {
	local v="..2026_12_07_$1"

	mkdir "$CM/$v"
	cat >"$CM/$v/lwfp.conf"
	ln -s "$v" "$CM/..data_tmp"
	mv -T "$CM/..data_tmp" "$CM/..data"
	find "$CM" -maxdepth 1 -name '..2026_*' ! -name "$v" -exec rm -rf {} +
}

mkdir -p "$CGDIR" "$CM" || bail "no cgroup"
conf 81 | publish 1
ln -s ..data/lwfp.conf "$CM/lwfp.conf"

"$LWFP" --pin-dir "$PIN" apply --watch --upgrade --unload-on-exit --ready-file "$T/ready1" \
	"$CM/lwfp.conf" >"$T/w1.out" 2>"$T/w1.err" &
W1=$!
check "the watcher applies the file and loads the engine" \
	'until_ok holds 81 && until_ok test -e "$T/ready1"'

conf 82 | publish 2
check "a ..data swap is applied" 'until_ok holds 82'

{ conf 83; echo 'service add bad --listen "127.0.0.1:9'; } | publish 3
check "a broken version is reported at file:line:column" \
	'until_ok grep -q "cm/lwfp.conf:4:[0-9]*: unterminated quote" "$T/w1.err"'
check "and the engine keeps the last good configuration" \
	'holds 82 && ! holds 83 && running "$W1"'

conf 84 | publish 4
check "the fixed version is applied" 'until_ok holds 84'

conf 85 >"$CM/lwfp.conf.new"
mv "$CM/lwfp.conf.new" "$CM/lwfp.conf"
check "a new file renamed over it (an editor's save) is applied" \
	'until_ok holds 85'
conf 86 >"$CM/lwfp.conf"
check "a write in place is applied" 'until_ok holds 86'
check "each good version was applied once, the broken one refused once" \
	'[ "$(grep -c "^lwfp: applied" "$T/w1.out")" = 5 ] &&
	 [ "$(grep -c "unterminated" "$T/w1.err")" = 1 ]'

# what failed because of the system is tried again at the next event,
# and told once
# (the file is a file of its own since the rename over it)
{ conf 88; echo "rule add --service web --dport 89 --cgroup /$TAG/later"; } >"$CM/lwfp.conf"
until_ok grep -q "cm/lwfp.conf:4:.*later" "$T/w1.err"
touch "$CM/.unrelated"
until_ok count_is 1 later "$T/w1.err"
mkdir "$CGDIR/later"
touch "$CM/.unrelated"
check "a version that failed for want of a cgroup applies once it is there" \
	'until_ok holds 88 && [ "$(grep -c later "$T/w1.err")" = 1 ]'

# the next pod of a DaemonSet starts before this one stops: it upgrades
# the engine in place, so the first one must not unload it on its way out;
# also when the version it starts on is broken and only a later one applies
good=$(cat "$CM/lwfp.conf")
{ echo "$good"; echo 'service add bad --listen "127.0.0.1:9'; } >"$CM/lwfp.conf"
until_ok count_is 2 unterminated "$T/w1.err"
"$LWFP" --pin-dir "$PIN" apply --watch --upgrade --unload-on-exit --ready-file "$T/ready2" \
	"$CM/lwfp.conf" >"$T/w2.out" 2>"$T/w2.err" &
W2=$!
until_ok grep -q unterminated "$T/w2.err"
echo "$good" >"$CM/lwfp.conf"
until_ok test -e "$T/ready2"
kill -TERM "$W1"
wait "$W1"
st=$?
W1=
check "SIGTERM ends the watcher cleanly" \
	'[ $st = 0 ] && [ ! -e "$T/ready1" ]'
check "it leaves an engine another watcher upgraded since" \
	'grep -q "another loader has upgraded" "$T/w1.out" && holds 88'
conf 87 >"$CM/lwfp.conf"
check "the other watcher goes on applying" 'until_ok holds 87'
# its start and 87 (printed just after the engine holds it)
until_ok count_is 2 "^lwfp: applied" "$T/w2.out"
kill -HUP "$W2"
check "SIGHUP applies the file again, unchanged" \
	'until_ok count_is 3 "^lwfp: applied" "$T/w2.out" &&
	 grep "^lwfp: applied" "$T/w2.out" | tail -n 1 | grep -q "rules 1 kept, 0 added, 0 removed"'
kill -INT "$W2"
wait "$W2"
st=$?
W2=
check "SIGINT ends it cleanly, and it unloads the engine it upgraded" \
	'[ $st = 0 ] && grep -q "unloaded the engine" "$T/w2.out" && [ ! -e "$PIN" ]'

# without --unload-on-exit the engine stays (a restart keeps redirecting)
"$LWFP" --pin-dir "$PIN" apply --watch "$CM/lwfp.conf" >"$T/w3.out" 2>&1 &
W1=$!
until_ok holds 87
lw unload >/dev/null
touch "$CM/.unrelated"
check "an engine unloaded behind its back is loaded again" 'until_ok holds 87'
kill -TERM "$W1"
wait "$W1"
st=$?
W1=
check "without --unload-on-exit the engine stays loaded" \
	'[ $st = 0 ] && holds 87'
"$LWFP" --pin-dir "$PIN" apply --watch --check "$CM/lwfp.conf" >/dev/null 2>&1
check "--watch with --check is a usage error" '[ $? = 2 ]'
lw unload >/dev/null
remove_cgroups
check "nothing is left" '[ ! -e "$PIN" ] && [ ! -e "$CGDIR" ]'
[ $fail = 0 ] || show "$T"/w*.out "$T"/w*.err
exit $fail
