# shellcheck shell=bash
# Shared by the shell tests in tests/e2e (sourced, not run).

# The tests read lwfp's English messages, whatever the caller's language
# (tests/e2e/l10n.sh runs them again in Italian and Russian).
export LC_ALL=C
unset LANGUAGE

# The first cgroup2 mount, as lwfp finds it (field 5; the type follows "-").
cgroup2_mount() {
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") {
		if ($(i + 1) == "cgroup2") { print $5; exit } ; break } }' \
		/proc/self/mountinfo
}

# need_root_and_lwfp USAGE-ARGS "$@": a test's preamble. Exits with its
# usage unless $1 is the lwfp binary, bails out unless run as root; sets
# LWFP to the binary's full path.
need_root_and_lwfp() {
	local usage=$1

	shift
	if [ $# -lt 1 ] || [ ! -x "$1" ]; then
		echo "usage: $0 $usage" >&2
		exit 2
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "Bail out! $0 needs root" >&2
		exit 1
	fi
	LWFP=$(readlink -f "$1")
}

# scratch_engine NAME: where a test's private engine lives. TAG, PIN (its
# pin directory, made by the test's load), CGDIR (its cgroup), T (a
# scratch directory); LWFP_PIN_DIR names a directory that is never made,
# so that a command missing --pin-dir fails instead of reaching another
# engine.
scratch_engine() {
	TAG=lwfp-$1-$$
	PIN=/sys/fs/bpf/$TAG
	export LWFP_PIN_DIR=/sys/fs/bpf/$TAG-none
	unset LWFP_DEBUG
	CGDIR=$(cgroup2_mount)/$TAG
	T=$(mktemp -d)
}

# check NAME SHELL-CONDITION: one TAP line; sets fail=1 when it fails.
check() {
	if eval "$2"; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		fail=1
	fi
}

# Remove the cgroup tree $CGDIR, deepest first. What is left inside (only
# processes the calling script started: it never enters the tree itself)
# is killed by pid first. Returns non-zero if the tree could not go.
remove_cgroups() {
	local d p

	[ -n "$CGDIR" ] && [ -d "$CGDIR" ] || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		while read -r d; do
			{ while read -r p; do
				[ -n "$p" ] && [ "$p" != $$ ] && kill -9 "$p"
			done <"$d/cgroup.procs"; } 2>/dev/null
			rmdir "$d" 2>/dev/null
		done < <(find "$CGDIR" -depth -type d 2>/dev/null)
		[ -d "$CGDIR" ] || return 0
		sleep 0.2
	done
	return 1
}

# running PID: PID (a child of ours) exists and has not exited yet.
running() {
	local st

	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# stop_pid PID: TERM, KILL after 5 s, and reap (no zombie left behind).
stop_pid() {
	local p=$1

	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 50); do
		running "$p" || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

# remove_pin_dir [DIR]: unload the engine at DIR (default $PIN), or unpin
# by hand if that fails: links first, so no program runs on removed maps.
remove_pin_dir() {
	local dir=${1:-$PIN}

	[ -d "$dir" ] || return 0
	if [ -e "$dir/lwfp_config" ]; then
		"$LWFP" --pin-dir "$dir" unload >/dev/null 2>&1
	fi
	if [ -d "$dir" ]; then
		rm -f "$dir"/link_* 2>/dev/null
		rm -f "$dir"/* 2>/dev/null
		rmdir "$dir" 2>/dev/null
	fi
}

# ---- TAP for the scripts that count their checks ----

npass=0
nfail=0

# check_cmd DESCRIPTION COMMAND...: "ok" when COMMAND succeeds.
check_cmd() {
	local desc=$1

	shift
	if "$@"; then
		npass=$((npass + 1))
		echo "ok - $desc"
		return 0
	fi
	nfail=$((nfail + 1))
	echo "not ok - $desc"
	return 1
}

# show FILE...: the files' last lines as TAP comments (after a failure).
show() {
	local f

	for f in "$@"; do
		[ -s "$f" ] || { echo "#   $(basename "$f"): (empty)"; continue; }
		tail -n 15 "$f" | cut -c 1-200 | sed "s|^|#   $(basename "$f"): |"
	done
}

bail() {
	echo "Bail out! $*"
	exit 1
}

# ---- running things in the test's cgroups and network namespace ----
# (the script sets LWFP, CG, NSP, T and the arrays PIDS and NAMES)

# in_ns CGROUP CMD...: run CMD in the cgroup $CG/CGROUP and in our netns.
in_ns() {
	local cg=$1

	shift
	"$LWFP" exec --cgroup "$CG/$cg" -- nsenter --net="$NSP" -- "$@"
}

# start NAME CGROUP CMD...: start CMD in the background like in_ns, output
# in $T/NAME.out. lwfp exec execs nsenter, which execs CMD: LAST_PID is
# CMD's own, a child of this shell.
start() {
	local name=$1 cg=$2

	shift 2
	"$LWFP" exec --cgroup "$CG/$cg" -- nsenter --net="$NSP" -- "$@" \
		</dev/null >"$T/$name.out" 2>&1 &
	PIDS+=($!)
	NAMES[$!]=$name
	LAST_PID=$!
}

# ---- clean-up of a script with a network namespace (dns.sh, proxies.sh):
# runs on every exit, normal or not, and may be called before it ----

# cleanup: stop what start() started (PIDS stays, for checks after), then
# remove the cgroups, the engine, the namespace (if NS_MADE) and the
# scratch directory T.
cleanup() {
	local p

	trap - EXIT
	trap '' INT TERM HUP
	for p in "${PIDS[@]}"; do
		stop_pid "$p"
	done
	remove_cgroups || echo "# could not remove $CGDIR" >&2
	remove_pin_dir
	[ -n "$NS_MADE" ] && ip netns del "$NS" 2>/dev/null
	NS_MADE=
	[ -n "$T" ] && rm -rf "$T"
	T=
}

# trap_cleanup: run cleanup on exit; an interrupt exits (and so cleans up).
trap_cleanup() {
	trap cleanup EXIT
	trap 'echo "# interrupted" >&2; exit 130' INT
	trap 'echo "# terminated" >&2; exit 143' TERM HUP
}
