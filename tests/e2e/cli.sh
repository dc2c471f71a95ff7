#!/bin/bash
# End-to-end tests of the lwfp command line, through the real binary and a
# real engine loaded in a cgroup and a pin directory of this script's own:
#   bash tests/e2e/cli.sh path/to/lwfp
# Needs root. Prints TAP ("ok - name" / "not ok - name"), exits 1 if any
# check failed. Everything it creates is named lwfp-clitest-$$ and removed
# on exit, also when a check fails or the script is interrupted.
# shellcheck disable=SC2016 # eval strings expand when evaluated
set -u
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

need_root_and_lwfp "path/to/lwfp" "$@"

TAG=lwfp-clitest-$$
BPFFS=/sys/fs/bpf
PIN=$BPFFS/$TAG			# the engine under test
PIN_BAD=$BPFFS/$TAG-bad		# loads that must fail and leave nothing
NOPIN=$BPFFS/lwfp-clitest-none-$$	# never created: "no engine here"
CG=/$TAG			# our cgroup, relative to the cgroup2 mount
CGMNT=
CGDIR=
T=
SLEEP_PID=
# A command that forgets --pin-dir must never reach the default pin dir.
export LWFP_PIN_DIR=$NOPIN
# Library noise would break the one-line-on-stderr checks.
unset LWFP_DEBUG

# ---- cleanup: runs on every exit, normal or not ----

# Remove one of our pin directories, never anything but ours.
remove_our_pin_dir() {
	case $1 in
	"$BPFFS"/lwfp-clitest-*) remove_pin_dir "$1" ;;
	esac
}


cleanup() {
	# once started, cleanup runs to its end: an impatient ^C cannot stop it
	trap - EXIT
	trap '' INT TERM HUP
	if [ -n "$SLEEP_PID" ]; then
		kill "$SLEEP_PID" 2>/dev/null
		wait "$SLEEP_PID" 2>/dev/null
		SLEEP_PID=
	fi
	remove_our_pin_dir "$PIN"
	remove_our_pin_dir "$PIN_BAD"
	remove_our_pin_dir "$NOPIN"
	remove_cgroups
	[ -n "$T" ] && rm -rf "$T"
	T=
}
trap cleanup EXIT
trap 'echo "# interrupted" >&2; exit 130' INT
trap 'echo "# terminated" >&2; exit 143' TERM HUP

# ---- the assertion helper ----

npass=0
nfail=0
why=
rc=0

begin() { why=; }

# need DESCRIPTION COMMAND...: record DESCRIPTION as a failure unless
# COMMAND succeeds.
need() {
	local desc=$1

	shift
	"$@" || why="$why${why:+; }$desc"
}

finish() {
	if [ -z "$why" ]; then
		npass=$((npass + 1))
		echo "ok - $1"
		return 0
	fi
	nfail=$((nfail + 1))
	echo "not ok - $1"
	echo "#   $why"
	if [ -n "$T" ] && [ -s "$T/cmd" ]; then
		echo "#   command: $(head -c 300 "$T/cmd")"
		echo "#   exit status: $rc"
		[ -s "$T/out" ] && head -n 6 "$T/out" | cut -c 1-160 | sed 's/^/#   stdout: /'
		[ -s "$T/err" ] && head -n 6 "$T/err" | cut -c 1-160 | sed 's/^/#   stderr: /'
	fi
	return 1
}

# run COMMAND...: stdout in $T/out, stderr in $T/err, status in $rc.
run() {
	printf '%q ' "$@" | head -c 300 >"$T/cmd"
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
}

lw() { "$LWFP" --pin-dir "$PIN" "$@"; }

one_stderr_line() {
	[ "$(wc -l <"$T/err")" -eq 1 ] && [ "$(head -c 6 "$T/err")" = "lwfp: " ]
}

# fails WANT PATTERN COMMAND...: COMMAND exits WANT ("nz": any failure
# that is not a crash), with exactly one stderr line "lwfp: ..." matching
# PATTERN (extended regexp, any case; "" for any) and nothing on stdout.
fails() {
	local want=$1 pat=$2

	shift 2
	run "$@"
	if [ "$want" = nz ]; then
		need "exit status $rc, expected a failure" [ "$rc" -ne 0 ]
		need "exit status $rc looks like a crash" [ "$rc" -lt 128 ]
	else
		need "exit status $rc, expected $want" [ "$rc" -eq "$want" ]
	fi
	need "stderr has $(wc -l <"$T/err") lines, expected one starting with 'lwfp: '" \
		one_stderr_line
	if [ -n "$pat" ]; then
		need "stderr does not match /$pat/" grep -Eqi -- "$pat" "$T/err"
	fi
	need "stdout is not empty" [ ! -s "$T/out" ]
	l10n_again "$@"
}

# Words an English line and its translation may share: names, protocols,
# and what the languages borrow from English.
L10N_SHARED='^(lwfp|cgroup|cgroups|cgroup2|bpffs|root|proxy|socket|tcp|udp|ipv4|ipv6|host|file|link|demo|buffer|bitmap|kernel|loopback|namespace|client|curl|json|make|load|unload|status|service|rule|apply|save|flows|events|exec|list|dels?|add|context|layout|text|upgrade|listen|cgroup|netns|pid|uid|weight|fail|open|closed|usage|endpoint|directory|mount|system|local|protocol|bytes|comm|orig|size)$'

# English words of the message file $1: not what is quoted (the user's),
# options, paths, metavariables (NAME, PORT) nor the command's own words
# ($2, one a line).
l10n_words() {
	sed -E "s/'[^']*'//g; s/«[^»]*»//g; s/-[-A-Za-z0-9|]+//g;
		s|/[^ ]*||g; s/\b[A-Z][A-Z0-9_]+\b//g" "$1" |
		grep -oE '[A-Za-z]{4,}' | tr 'A-Z' 'a-z' |
		grep -Ev "$L10N_SHARED" | grep -vxF -f "$2" | sort -u
}

# still_english C-FILE L10N-FILE COMMAND...: the words of the English
# message that the translated one repeats (a piece never marked for
# translation).
still_english() {
	local c=$1 l=$2

	shift 2
	printf '%s\n' "$@" | grep -oE '[A-Za-z]{4,}' | tr 'A-Z' 'a-z' \
		>"$T/l10n.args"
	echo lwfp >>"$T/l10n.args"
	comm -12 <(l10n_words "$c" "$T/l10n.args") \
		<(l10n_words "$l" "$T/l10n.args") | tr '\n' ' '
}

# Under LWFP_L10N_LANGS (tests/e2e/l10n.sh), a failure runs again in each
# of those locales: the same exit status, one "lwfp: " line on stderr, in
# that language: not the English line, nor English words from it.
l10n_again() {
	local loc lrc left

	for loc in ${LWFP_L10N_LANGS:-}; do
		LC_ALL=$loc "$@" >"$T/l10n.out" 2>"$T/l10n.err"
		lrc=$?
		need "$loc: exit status $lrc, expected $rc" [ "$lrc" -eq "$rc" ]
		need "$loc: stderr is not one 'lwfp: ' line" \
			l10n_one_line "$T/l10n.err"
		need "$loc: the message is the English one: $(head -c 200 "$T/l10n.err")" \
			l10n_differs "$T/err" "$T/l10n.err"
		left=$(still_english "$T/err" "$T/l10n.err" "$@")
		need "$loc: English words left ($left): $(head -c 200 "$T/l10n.err")" \
			[ -z "$left" ]
		l10n_checked=$((l10n_checked + 1))
	done
}
l10n_checked=0
l10n_one_line() {
	[ "$(wc -l <"$1")" -eq 1 ] && [ "$(head -c 6 "$1")" = "lwfp: " ]
}
l10n_differs() { ! cmp -s "$1" "$2"; }

# Nothing on stderr but the one line per optional program a kernel may
# refuse (the flows iterator, on hosts that refuse tracing programs).
quiet_stderr() {
	! grep -qv '^lwfp: [a-z_0-9]* not available (' "$T/err"
}

# succeeds COMMAND...: exit 0, nothing on stderr.
succeeds() {
	run "$@"
	need "exit status $rc, expected 0" [ "$rc" -eq 0 ]
	need "stderr is not empty" quiet_stderr
}

t_fail() {
	local name=$1

	shift
	begin
	fails "$@"
	finish "$name"
}

t_ok() {
	local name=$1

	shift
	begin
	succeeds "$@"
	finish "$name"
}

# Snapshots of the engine's state, to prove a failed command changed nothing.
snap_services() { lw --json service list >"$1" 2>&1; echo "rc=$?" >>"$1"; }
snap_rules() { lw --json rule list >"$1" 2>&1; echo "rc=$?" >>"$1"; }

# Services and rules in a snapshot (pretty JSON: one key a line).
snap_names() { sed -n 's/^    "name": "\(.*\)",$/\1/p' "$1"; }
snap_ids() { sed -n 's/^    "id": \([0-9]*\),$/\1/p' "$1"; }
leaked_rules=0

# A command that should have failed may have added something: remove it,
# so that one bug does not make the checks after it fail too.
undo_services() {
	local n

	for n in $(snap_names "$2"); do
		snap_names "$1" | grep -qxF -- "$n" ||
			lw service del "$n" >/dev/null 2>&1
	done
}
undo_rules() {
	local id

	for id in $(snap_ids "$2"); do
		if ! snap_ids "$1" | grep -qxF -- "$id"; then
			lw rule del "$id" >/dev/null 2>&1
			leaked_rules=$((leaked_rules + 1))
		fi
	done
}

# t_svc_fail NAME WANT PATTERN COMMAND...: fails, service list unchanged.
t_svc_fail() {
	local name=$1

	shift
	begin
	snap_services "$T/before"
	fails "$@"
	snap_services "$T/after"
	need "the service list changed" cmp -s "$T/before" "$T/after"
	undo_services "$T/before" "$T/after"
	finish "$name"
}

# t_rule_fail NAME WANT PATTERN COMMAND...: fails, rule list unchanged.
t_rule_fail() {
	local name=$1

	shift
	begin
	snap_rules "$T/before"
	fails "$@"
	snap_rules "$T/after"
	need "the rule list changed" cmp -s "$T/before" "$T/after"
	undo_rules "$T/before" "$T/after"
	finish "$name"
}

# JSON checks: with python3, a Python expression over the parsed document
# d (the arguments in A); without it, extended regexps the text must match.
HAVE_PY=
python3 -c 'import json' >/dev/null 2>&1 && HAVE_PY=1
HAVE_BPFTOOL=
command -v bpftool >/dev/null 2>&1 && HAVE_BPFTOOL=1

json_valid() {
	if [ -n "$HAVE_PY" ]; then
		python3 -c 'import json,sys; json.load(sys.stdin)' <"$1" 2>/dev/null
	else
		grep -Eq '^[[{]' "$1" && grep -Eq '[]}]$' "$1"
	fi
}

# json_is FILE PYEXPR [ARG...] -- [REGEXP...]
json_is() {
	local file=$1 expr=$2 args=() res

	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	if [ -n "$HAVE_PY" ]; then
		res=$(python3 -c '
import json, sys
A = sys.argv[2:]
d = json.load(open(sys.argv[1]))
def rule(i):
    return next(x for x in d if x["id"] == int(i))
def svc(n):
    return next(x for x in d if x["name"] == n)
print("yes" if eval("(" + sys.stdin.read() + ")") else "no")
' "$file" "${args[@]}" <<<"$expr" 2>&1)
		[ "$res" = yes ] && return 0
		[ "$res" = no ] || echo "# json_is: $res" | head -5
		return 1
	fi
	for re in "$@"; do
		grep -Eq -- "$re" "$file" || return 1
	done
}

# ---- set up ----

T=$(mktemp -d "/tmp/$TAG.XXXXXX") || exit 1
chmod 755 "$T"

if [ "$(stat -f -c %T "$BPFFS" 2>/dev/null)" != bpf_fs ]; then
	mount -t bpf bpf "$BPFFS" || { echo "Bail out! cannot mount bpffs"; exit 1; }
fi
CGMNT=$(cgroup2_mount)
CGMNT=$(printf '%b' "$CGMNT")	# \040 escapes
if [ -z "$CGMNT" ] || [ ! -d "$CGMNT" ]; then
	echo "Bail out! no cgroup2 file system is mounted"
	exit 1
fi
CGDIR=$CGMNT/$TAG
for d in "$CGDIR" "$CGDIR/svc" "$CGDIR/rule"; do
	mkdir "$d" || { echo "Bail out! cannot create cgroup $d"; exit 1; }
done
sleep 600 &
SLEEP_PID=$!

# The unprivileged user must be able to run the binary.
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
command -v setpriv >/dev/null 2>&1 || AS_NOBODY=(runuser -u nobody --)
LWFP_NOBODY=$LWFP
if ! "${AS_NOBODY[@]}" test -x "$LWFP" 2>/dev/null; then
	cp "$LWFP" "$T/lwfp" && chmod 755 "$T/lwfp"
	LWFP_NOBODY=$T/lwfp
fi

echo "# lwfp: $LWFP, cgroup2 mount: $CGMNT, cgroup: $CG, pin dir: $PIN"
[ -z "$HAVE_PY" ] && echo "# no python3: JSON checked with grep"

# ---- help and usage errors (no engine needed) ----

begin
succeeds "$LWFP" --help
need "no usage on stdout" grep -q '^Usage: lwfp' "$T/out"
finish "lwfp --help exits 0 with the usage on stdout"

for cmd in "rule add" "rule del" "rule list" "service add" "service list" \
	   "load" "unload" "status" "exec" "flows"; do
	begin
	# shellcheck disable=SC2086
	succeeds "$LWFP" $cmd --help
	need "no usage on stdout" grep -q "^Usage: lwfp $cmd" "$T/out"
	finish "lwfp $cmd --help exits 0 with its usage on stdout"
done

for cmd in rule service; do
	begin
	succeeds "$LWFP" $cmd --help
	need "no usage on stdout" grep -q "^Usage: lwfp $cmd" "$T/out"
	finish "lwfp $cmd --help exits 0 with its usage on stdout"
done

t_fail "unknown command exits 2, one line" 2 "unknown command" \
	"$LWFP" frobnicate
t_fail "unknown global option exits 2, one line" 2 "unknown option" \
	"$LWFP" --frobnicate status
t_fail "global --pin-dir without a value exits 2, one line" 2 "--pin-dir' needs a value" \
	"$LWFP" --pin-dir
t_fail "unknown subcommand option exits 2, one line" 2 "unknown option" \
	"$LWFP" rule list --frobnicate
t_fail "unknown service add option exits 2, one line" 2 "unknown option" \
	"$LWFP" service add x --listen 127.0.0.1:1 --frobnicate
t_fail "option without its value exits 2, one line" 2 "needs a value" \
	"$LWFP" rule add --service
t_fail "unknown rule subcommand fails, one line" nz "unknown subcommand" \
	"$LWFP" rule frobnicate
t_fail "unknown service subcommand fails, one line" nz "unknown subcommand" \
	"$LWFP" service frobnicate

begin
run "$LWFP"
need "exit status $rc, expected 2" [ "$rc" -eq 2 ]
need "no usage on stderr" grep -q 'Usage: lwfp' "$T/err"
finish "lwfp without a command exits 2 with the usage on stderr"

# ---- no engine at the pin dir ----

for cmd in "status" "unload" "service list" "service del web" \
	   "service add web --listen 127.0.0.1:18000" "rule list" \
	   "rule add --service web" "rule del 1" "flows"; do
	# shellcheck disable=SC2086
	t_fail "no engine: $cmd fails, one line" nz "no engine is loaded at $NOPIN" \
		"$LWFP" --pin-dir "$NOPIN" $cmd
done
t_fail "no engine: \$LWFP_PIN_DIR is honoured" nz "no engine is loaded at $NOPIN" \
	env LWFP_PIN_DIR="$NOPIN" "$LWFP" rule list
t_fail "no engine: --pin-dir after the subcommand is honoured" nz \
	"no engine is loaded at $NOPIN" "$LWFP" status --pin-dir "$NOPIN"
begin
need "$NOPIN was created" [ ! -e "$NOPIN" ]
finish "no engine: failed commands create no pin dir"

# ---- load, status, unload ----

t_fail "load into a missing cgroup fails, one line" nz "no such cgroup" \
	"$LWFP" --pin-dir "$PIN_BAD" load --cgroup "$CG/missing"
begin
need "$PIN_BAD was left behind" [ ! -e "$PIN_BAD" ]
finish "a failed load leaves no pin dir"
t_fail "load into a file, not a cgroup, fails, one line" nz "cgroup" \
	"$LWFP" --pin-dir "$PIN_BAD" load --cgroup "$CG/cgroup.procs"
begin
need "$PIN_BAD was left behind" [ ! -e "$PIN_BAD" ]
finish "a failed load leaves no pin dir (file, not a cgroup)"
mkdir "$T/notbpf"
t_fail "load into a pin dir off bpffs fails, one line" nz "bpf file system" \
	"$LWFP" --pin-dir "$T/notbpf/pin" load --cgroup "$CG"
t_fail "load with an extra argument fails, one line" nz "unexpected argument" \
	"$LWFP" --pin-dir "$PIN_BAD" load --cgroup "$CG" extra

begin
run lw load --cgroup "$CG"
need "exit status $rc, expected 0" [ "$rc" -eq 0 ]
need "stderr is not empty" quiet_stderr
need "stdout does not say where" grep -q "engine loaded at $PIN, attached to cgroup $CG\$" "$T/out"
need "$PIN/lwfp_config is not pinned" [ -e "$PIN/lwfp_config" ]
finish "load attaches the engine to our cgroup"
if [ -n "$HAVE_BPFTOOL" ]; then
	begin
	need "no program attached to $CGDIR" \
		eval '[ "$(bpftool cgroup show "$CGDIR" 2>/dev/null | grep -c lwfp_)" -ge 5 ]'
	finish "bpftool shows the programs on our cgroup"
fi

begin
succeeds lw status
need "no cgroup line" grep -Eq "^cgroup +$CG\$" "$T/out"
need "no services count" grep -Eq '^services +0$' "$T/out"
need "no rules count" grep -Eq '^rules +0$' "$T/out"
need "no engine line" grep -Eq "^engine +$PIN " "$T/out"
finish "status shows the engine, its cgroup and counts"

begin
succeeds lw --json status
cp "$T/out" "$T/status1.json"
need "not valid JSON" json_valid "$T/out"
need "wrong fields" json_is "$T/out" \
	'd["services"] == 0 and d["rules"] == 0 and d["cgroup"] == A[0] and d["pin_dir"] == A[1] and isinstance(d["counters"], dict)' \
	"$CG" "$PIN" -- '"services": 0' '"rules": 0' "\"cgroup\": \"$CG\""
finish "status --json parses and shows services and rules counts"

begin
succeeds lw status --json
need "--json after the subcommand differs" cmp -s "$T/out" "$T/status1.json"
finish "status --json also works after the subcommand"

t_fail "load on another cgroup over a loaded engine fails, one line" nz \
	"unload it first" lw load --cgroup "$CG/svc"
begin
run lw --json status
need "the engine changed or is gone" cmp -s "$T/out" "$T/status1.json"
finish "the failed second load left the engine as it was"

t_ok "load again on the same cgroup upgrades in place" lw load --cgroup "$CG"
begin
run lw --json status
need "the upgrade lost the engine's state" \
	eval 'grep -q "\"cgroup\": \"$CG\"" "$T/out"'
finish "the upgraded engine keeps its cgroup"

begin
mode_before=$(stat -c %a "$PIN")
succeeds lw load --cgroup "$CG" --group root
need "--group on an upgrade was not applied (mode $(stat -c %a "$PIN"), was $mode_before)" \
	[ "$(stat -c %a "$PIN")" = 750 ]
need "the group may not read the services" [ "$(stat -c %a "$PIN/lwfp_services")" = 640 ]
finish "load --group over a running engine gives that group access"

t_ok "unload succeeds" lw unload
begin
need "$PIN is still there" [ ! -e "$PIN" ]
if [ -n "$HAVE_BPFTOOL" ]; then
	need "programs still attached to $CGDIR" \
		eval '[ -z "$(bpftool cgroup show "$CGDIR" 2>/dev/null | grep lwfp_)" ]'
fi
finish "unload removes the pin dir and detaches the programs"
t_fail "unload when nothing is loaded fails, one line" nz "no engine is loaded at $PIN" \
	lw unload
t_fail "status after unload fails, one line" nz "no engine is loaded at $PIN" \
	lw status

begin
succeeds lw load --cgroup "$CGDIR"
finish "load again, naming the cgroup by its absolute path"
begin
succeeds lw --json status
need "wrong cgroup" json_is "$T/out" 'd["cgroup"] == A[0]' "$CG" -- "\"cgroup\": \"$CG\""
finish "the absolute cgroup path is shown relative to the mount"

begin
succeeds env LWFP_PIN_DIR="$PIN" "$LWFP" status
need "not the engine at $PIN" grep -Eq "^engine +$PIN " "$T/out"
finish "\$LWFP_PIN_DIR selects the engine"
begin
succeeds env LWFP_PIN_DIR="$NOPIN" "$LWFP" --pin-dir "$PIN" status
need "not the engine at $PIN" grep -Eq "^engine +$PIN " "$T/out"
finish "--pin-dir overrides \$LWFP_PIN_DIR"
begin
succeeds "$LWFP" status --pin-dir="$PIN"
need "not the engine at $PIN" grep -Eq "^engine +$PIN " "$T/out"
finish "--pin-dir=DIR after the subcommand"

# ---- services ----

t_ok "service add, IPv4 listen address, --pid of a live process" \
	lw service add web4 --listen 127.0.0.1:18080 --pid "$SLEEP_PID"
t_ok "service add, IPv6 listen address, --cgroup" \
	lw service add web6 --listen "[::1]:18081" --cgroup "$CG/svc"
t_ok "service add, wildcard address, --weight" \
	lw service add plain --listen 0.0.0.0:18082 --weight 5

begin
succeeds lw service list
need "web4 row" grep -Eq "^web4 +127\.0\.0\.1:18080 +tcp,udp +pid $SLEEP_PID +0 +open\$" "$T/out"
need "web6 row" grep -Eq "^web6 +\[::1\]:18081 +tcp,udp +cgroup $CG/svc +0 +open\$" "$T/out"
need "plain row" grep -Eq "^plain +0\.0\.0\.0:18082 +tcp,udp +- +5 +open\$" "$T/out"
need "not 3 services + header" [ "$(wc -l <"$T/out")" -eq 4 ]
finish "service list shows the services"

name31=$(printf 'x%.0s' $(seq 31))
begin
succeeds lw service add "$name31" --listen 127.0.0.1:18083
succeeds lw service list
# the LISTEN column starts where its heading does, on every row
need "columns do not line up with a 31-character name" awk '
	NR == 1 { col = index($0, "LISTEN"); next }
	{ rest = substr($0, col); if (substr($0, col - 1, 1) != " " ||
	  rest !~ /^[0-9[]/) bad = 1 }
	END { exit bad }' "$T/out"
succeeds lw service del "$name31"
finish "service list fits the longest name"

begin
succeeds lw --json service list
need "not valid JSON" json_valid "$T/out"
need "wrong fields" json_is "$T/out" '
len(d) == 3
and svc("web4")["listen"] == "127.0.0.1:18080" and svc("web4")["pid"] == int(A[0])
and svc("web4")["cgroup"] is None
and svc("web6")["listen"] == "[::1]:18081" and svc("web6")["cgroup"] == A[1]
and svc("web6")["pid"] is None
and svc("plain")["listen"] == "0.0.0.0:18082" and svc("plain")["weight"] == 5' \
	"$SLEEP_PID" "$CG/svc" -- '"name": "web4"' '"listen": "127.0.0.1:18080"' \
	"\"pid\": $SLEEP_PID" '"listen": "\[::1\]:18081"' "\"cgroup\": \"$CG/svc\""
finish "service list --json shows the services"

begin
succeeds lw --json status
need "services is not 3" json_is "$T/out" 'd["services"] == 3' -- '"services": 3'
finish "status --json counts the services"

nobody_uid=$(id -u nobody 2>/dev/null || echo 65534)
pid_max=$(cat /proc/sys/kernel/pid_max)	# pids are below it: never a process
long_name=$(printf 'n%.0s' $(seq 32))
t_svc_fail "service add: duplicate name" nz "already exists" \
	lw service add web4 --listen 127.0.0.1:18090
t_svc_fail "service add: address already used by a service" nz "already listens" \
	lw service add other --listen 127.0.0.1:18080
t_svc_fail "service add: the wildcard over a service's address" nz "already listens" \
	lw service add other --listen 0.0.0.0:18080
t_svc_fail "service add: the IPv6 wildcard over a service's address" nz "already listens" \
	lw service add other --listen "[::]:18080"
t_svc_fail "service add: an address under a wildcard service" nz "already listens" \
	lw service add other --listen 127.0.0.2:18082
# the table full: 64 services, the next one is refused
for i in $(seq 4 64); do
	lw service add "fill$i" --listen "127.0.1.$i:18100" >/dev/null 2>&1
done
t_svc_fail "service add: the 64 slots full" nz "too many services \(max 64\)" \
	lw service add other --listen 127.0.1.99:18100
for i in $(seq 4 64); do
	lw service del "fill$i" >/dev/null 2>&1
done
t_svc_fail "service add: bad name (character)" nz "bad service name" \
	lw service add bad/name --listen 127.0.0.1:18090
t_svc_fail "service add: bad name (32 characters)" nz "bad service name" \
	lw service add "$long_name" --listen 127.0.0.1:18090
t_svc_fail "service add: empty name" nz "service name" \
	lw service add "" --listen 127.0.0.1:18090
t_svc_fail "service add: no name" nz "usage" \
	lw service add --listen 127.0.0.1:18090
t_svc_fail "service add: two names" nz "usage" \
	lw service add a b --listen 127.0.0.1:18090
t_svc_fail "service add: missing --listen" nz "--listen" \
	lw service add new
t_svc_fail "service add: port 0" nz "bad port" \
	lw service add new --listen 127.0.0.1:0
t_svc_fail "service add: port 70000" nz "bad port" \
	lw service add new --listen 127.0.0.1:70000
t_svc_fail "service add: no port" nz "port" \
	lw service add new --listen 127.0.0.1:
t_svc_fail "service add: unbracketed IPv6" nz "brackets" \
	lw service add new --listen ::1:18090
t_svc_fail "service add: [IPv6] without :PORT" nz "bad endpoint" \
	lw service add new --listen "[::1]18090"
t_svc_fail "service add: junk address" nz "bad endpoint" \
	lw service add new --listen junk
t_svc_fail "service add: host name" nz "bad address" \
	lw service add new --listen localhost:18090
t_svc_fail "service add: --pid of no process" nz "no process with pid $pid_max" \
	lw service add new --listen 127.0.0.1:18090 --pid "$pid_max"
t_svc_fail "service add: --pid 0" nz "bad pid" \
	lw service add new --listen 127.0.0.1:18090 --pid 0
t_svc_fail "service add: --pid junk" nz "bad pid" \
	lw service add new --listen 127.0.0.1:18090 --pid 12x
t_svc_fail "service add: --pid and --cgroup together" nz "not both" \
	lw service add new --listen 127.0.0.1:18090 --pid "$SLEEP_PID" --cgroup "$CG/svc"
t_svc_fail "service add: missing cgroup" nz "no such cgroup" \
	lw service add new --listen 127.0.0.1:18090 --cgroup "$CG/missing"
t_svc_fail "service add: --cgroup naming a file, not a cgroup" nz "cgroup" \
	lw service add new --listen 127.0.0.1:18090 --cgroup "$CG/cgroup.procs"
t_svc_fail "service add: cgroup path with .." nz "bad cgroup path" \
	lw service add new --listen 127.0.0.1:18090 --cgroup "$CG/../x"
t_svc_fail "service add: --weight 70000" nz "bad weight" \
	lw service add new --listen 127.0.0.1:18090 --weight 70000
t_svc_fail "service del: unknown service" nz "no service named 'nosuch'" \
	lw service del nosuch

# ---- rules ----

ctx4096=$(head -c 4096 /dev/zero | tr '\0' x)
ctx4097=${ctx4096}y
head -c 4096 /dev/zero | tr '\0' z >"$T/ctx4096"
head -c 4097 /dev/zero | tr '\0' z >"$T/ctx4097"

# add_rule VAR NAME ARGS...: a rule added, its id (a number) in VAR
add_rule() {
	local var=$1 name=$2

	shift 2
	begin
	succeeds lw rule add "$@"
	need "stdout is not one number" grep -Eqx '[0-9]+' "$T/out"
	need "stdout has more than one line" [ "$(wc -l <"$T/out")" -eq 1 ]
	printf -v "$var" '%s' "$(cat "$T/out")"
	finish "$name"
}

add_rule R1 "rule add with every match and a context prints an id" \
	--service web4 --dst 10.0.0.0/8 --dport 80 --uid 0 --cgroup "$CG/rule" \
	--context hello
add_rule R2 "rule add, IPv6 network, port range, user name" \
	--service web6 --proto tcp --dst ::1/128 --dport 1000-2000 --uid nobody
add_rule R3 "rule add with only --service" --service plain
add_rule R4 "rule add with exactly 4096 bytes of --context" \
	--service plain --dport 18100 --context "$ctx4096"
add_rule R5 "rule add with exactly 4096 bytes of --context-file" \
	--service plain --dport 18101 --context-file "$T/ctx4096"
begin
succeeds lw --json rule add --service web6 --dst 127.0.0.0/8
need "not valid JSON" json_valid "$T/out"
need "no numeric id" json_is "$T/out" 'type(d["id"]) is int' -- '"id": [0-9]+'
finish "rule add --json prints the id as JSON"
R6=$(sed -n 's/.*"id": *\([0-9]*\).*/\1/p' "$T/out")
begin
need "ids not increasing: $R1 $R2 $R3 $R4 $R5 $R6" \
	eval '[ "${R1:-0}" -gt 0 ] && [ "${R2:-0}" -gt "${R1:-0}" ] && [ "${R3:-0}" -gt "${R2:-0}" ] && [ "${R4:-0}" -gt "${R3:-0}" ] && [ "${R5:-0}" -gt "${R4:-0}" ] && [ "${R6:-0}" -gt "${R5:-0}" ]'
finish "rule ids are distinct and increasing"

begin
succeeds lw rule list
need "R1 row" grep -Eq "^${R1:-x} +web4 +tcp +10\.0\.0\.0/8 +80 +0 +$CG/rule +5 bytes\$" "$T/out"
need "R2 row" grep -Eq "^${R2:-x} +web6 +tcp +::1/128 +1000-2000 +$nobody_uid +- +0 bytes\$" "$T/out"
need "R3 row" grep -Eq "^${R3:-x} +plain +tcp +[^ ]+ +any +- +- +0 bytes\$" "$T/out"
need "R4 row" grep -Eq "^${R4:-x} +plain +tcp +[^ ]+ +18100 +- +- +4096 bytes\$" "$T/out"
need "R5 row" grep -Eq "^${R5:-x} +plain +tcp +[^ ]+ +18101 +- +- +4096 bytes\$" "$T/out"
need "not 6 rules + header" [ "$(wc -l <"$T/out")" -eq 7 ]
finish "rule list shows service, dst, dport, uid, cgroup, context length"

begin
succeeds lw --json rule list
need "not valid JSON" json_valid "$T/out"
need "wrong fields" json_is "$T/out" '
len(d) == 6
and rule(A[0])["service"] == "web4" and rule(A[0])["proto"] == "tcp"
and rule(A[0])["dst"] == "10.0.0.0/8" and rule(A[0])["dport"] == "80"
and rule(A[0])["uid"] == 0 and rule(A[0])["cgroup"] == A[5]
and rule(A[0])["context_len"] == 5 and rule(A[0])["context"] == "hello"
and rule(A[1])["service"] == "web6" and rule(A[1])["dst"] == "::1/128"
and rule(A[1])["dport"] == "1000-2000" and rule(A[1])["uid"] == int(A[6])
and rule(A[1])["cgroup"] is None and rule(A[1])["context_len"] == 0
and rule(A[2])["service"] == "plain" and rule(A[2])["dport"] == "any"
and rule(A[2])["uid"] is None and rule(A[2])["cgroup"] is None
and rule(A[3])["context_len"] == 4096 and rule(A[3])["context"] == "x" * 4096
and rule(A[4])["context_len"] == 4096 and rule(A[4])["context"] == "z" * 4096' \
	"${R1:-0}" "${R2:-0}" "${R3:-0}" "${R4:-0}" "${R5:-0}" "$CG/rule" \
	"$nobody_uid" -- \
	'"service": "web4"' '"dst": "10.0.0.0/8"' '"dport": "80"' '"uid": 0' \
	"\"cgroup\": \"$CG/rule\"" '"context_len": 5' '"dport": "1000-2000"' \
	'"uid": '"$nobody_uid" '"context_len": 4096'
finish "rule list --json shows service, dst, dport, uid, cgroup, context"

begin
succeeds lw --json status
need "rules is not 6" json_is "$T/out" 'd["rules"] == 6' -- '"rules": 6'
finish "status --json counts the rules"

t_rule_fail "rule add: unknown service" nz "no service named 'nosuch'" \
	lw rule add --service nosuch --dport 80
t_rule_fail "rule add: no --service" nz "--service" \
	lw rule add --dport 80
t_rule_fail "rule add: extra argument" nz "unexpected argument" \
	lw rule add --service web4 extra
t_rule_fail "rule add: CIDR with host bits (10.0.0.1/8)" nz "host bits" \
	lw rule add --service web4 --dst 10.0.0.1/8
t_rule_fail "rule add: bad IPv4 address (300.1.1.1)" nz "bad network" \
	lw rule add --service web4 --dst 300.1.1.1
t_rule_fail "rule add: IPv6 prefix too long (::1/129)" nz "prefix length" \
	lw rule add --service web4 --dst ::1/129
t_rule_fail "rule add: IPv4 prefix too long (10.0.0.0/33)" nz "prefix length" \
	lw rule add --service web4 --dst 10.0.0.0/33
t_rule_fail "rule add: junk network" nz "bad network" \
	lw rule add --service web4 --dst junk
t_rule_fail "rule add: port 0" nz "bad port" \
	lw rule add --service web4 --dport 0
t_rule_fail "rule add: port 70000" nz "bad port" \
	lw rule add --service web4 --dport 70000
t_rule_fail "rule add: reversed port range (2000-1000)" nz "greater than" \
	lw rule add --service web4 --dport 2000-1000
t_rule_fail "rule add: open port range (80-)" nz "port range" \
	lw rule add --service web4 --dport 80-
t_rule_fail "rule add: --proto foo" nz "bad protocol" \
	lw rule add --service web4 --proto foo
t_rule_fail "rule add: --context of 4097 bytes" nz "too large" \
	lw rule add --service web4 --context "$ctx4097"
t_rule_fail "rule add: --context-file of 4097 bytes" nz "too large" \
	lw rule add --service web4 --context-file "$T/ctx4097"
t_rule_fail "rule add: missing --context-file" nz "cannot read $T/missing" \
	lw rule add --service web4 --context-file "$T/missing"
t_rule_fail "rule add: --context-file is a directory" nz "cannot read" \
	lw rule add --service web4 --context-file "$T"
t_rule_fail "rule add: --context and --context-file together" nz "not both" \
	lw rule add --service web4 --context hi --context-file "$T/ctx4096"
printf 'at 0 pid u32le\nat 2 uid u32le\n' >"$T/overlap.layout"
printf 'at 0 colour red\n' >"$T/unknown.layout"
t_rule_fail "rule add: a context layout with overlapping fields" nz \
	"overlap.layout: line 2: overlaps the field of line 1" \
	lw rule add --service web4 --context-layout "$T/overlap.layout"
t_rule_fail "rule add: a context layout with an unknown field" nz \
	"unknown.layout: line 1: no field 'colour'" \
	lw rule add --service web4 --context-layout "$T/unknown.layout"
t_rule_fail "rule add: missing --context-layout file" nz "cannot read $T/missing" \
	lw rule add --service web4 --context-layout "$T/missing"
t_rule_fail "rule add: missing --cgroup path" nz "no such cgroup" \
	lw rule add --service web4 --cgroup "$CG/missing"
t_rule_fail "rule add: --cgroup naming a file, not a cgroup" nz "cgroup" \
	lw rule add --service web4 --cgroup "$CG/cgroup.procs"
t_rule_fail "rule add: --cgroup path with .." nz "bad cgroup path" \
	lw rule add --service web4 --cgroup "$CG/../x"
t_rule_fail "rule add: --uid of no user" nz "no such user" \
	lw rule add --service web4 --uid "nosuchuser-$$"
t_rule_fail "rule add: --uid 4294967295" nz "bad uid" \
	lw rule add --service web4 --uid 4294967295
t_rule_fail "rule add: --uid -1" nz "uid|user" \
	lw rule add --service web4 --uid -1
t_rule_fail "rule add: --uid with a leading zero" nz "leading zeros" \
	lw rule add --service web4 --uid 01
t_rule_fail "rule del: unknown id" nz "no rule with id 999999" \
	lw rule del 999999
t_rule_fail "rule del: not a number" nz "bad number" \
	lw rule del abc
t_rule_fail "rule del: no id" nz "usage" \
	lw rule del

# No hidden state either: no rule id and no context left by the failures.
if [ -n "$HAVE_PY" ] && [ -n "$HAVE_BPFTOOL" ]; then
	begin
	bpftool -j map dump pinned "$PIN/lwfp_rule_ctx" >"$T/ctx.json" 2>/dev/null
	need "not 3 rule contexts (R1, R4, R5)" \
		json_is "$T/ctx.json" 'len(d) == 3'
	finish "the failed rule adds stored no context"
fi
add_rule R7 "rule add after the failures" --service web6 --dport 18102
begin
# (rules wrongly added, and removed again, used an id each)
need "id $R7 after $R6: the failures used ids" \
	[ "${R7:-0}" -eq $((${R6:-0} + 1 + leaked_rules)) ]
finish "the failed rule adds used no rule id"

# ---- deleting rules and services ----

begin
snap_rules "$T/rules.before"
fails nz "service 'web4' is used by 1 rule: delete it first" \
	lw service del web4
snap_rules "$T/rules.after"
need "the rule list changed" cmp -s "$T/rules.before" "$T/rules.after"
run lw service list
need "web4 is gone" grep -q '^web4 ' "$T/out"
finish "service del of a service with rules fails clearly"

t_ok "rule del of a real id" lw rule del "${R1:-0}"
begin
succeeds lw --json rule list
need "rule $R1 still listed" json_is "$T/out" \
	'all(r["id"] != int(A[0]) for r in d) and len(d) == 6' "${R1:-0}" -- '.'
need "rule $R1 still listed" eval '! grep -Eq "\"id\": ${R1:-0},?\$" "$T/out"'
finish "rule del removes the rule and only it"
t_rule_fail "rule del of a deleted id fails" nz "no rule with id ${R1:-0}" \
	lw rule del "${R1:-0}"
if [ -n "$HAVE_PY" ] && [ -n "$HAVE_BPFTOOL" ]; then
	begin
	bpftool -j map dump pinned "$PIN/lwfp_rule_ctx" >"$T/ctx.json" 2>/dev/null
	need "not 2 rule contexts (R4, R5)" json_is "$T/ctx.json" 'len(d) == 2'
	finish "rule del drops the context of the deleted rule"
fi

t_ok "service del succeeds once its rules are gone" lw service del web4
begin
succeeds lw service list
need "web4 still listed" eval '! grep -q "^web4 " "$T/out"'
need "web6 is gone" grep -q '^web6 ' "$T/out"
finish "service del removes the service and only it"

# ---- no permission ----

begin
fails nz "permission denied" "${AS_NOBODY[@]}" "$LWFP_NOBODY" --pin-dir "$PIN" rule list
finish "rule list as nobody fails, one line"
t_rule_fail "rule add as nobody fails, one line" nz "permission denied" \
	"${AS_NOBODY[@]}" "$LWFP_NOBODY" --pin-dir "$PIN" rule add --service web6
t_svc_fail "service add as nobody fails, one line" nz "permission denied" \
	"${AS_NOBODY[@]}" "$LWFP_NOBODY" --pin-dir "$PIN" service add x --listen 127.0.0.1:18095
t_fail "status as nobody fails, one line" nz "permission denied" \
	"${AS_NOBODY[@]}" "$LWFP_NOBODY" --pin-dir "$PIN" status
t_fail "unload as nobody fails, one line" nz "permission denied" \
	"${AS_NOBODY[@]}" "$LWFP_NOBODY" --pin-dir "$PIN" unload
begin
succeeds lw --json status
need "engine damaged" json_is "$T/out" 'd["rules"] == 6 and d["services"] == 2' -- \
	'"rules": 6' '"services": 2'
finish "the engine is intact after the unprivileged attempts"

# ---- UDP: service and rule protocols, the idle timeout ----

t_ok "service add --proto udp" \
	lw service add dns-udp --listen 127.0.0.1:18053 --proto udp
t_ok "service add --proto tcp at the same address as a UDP-only one" \
	lw service add dns-tcp --listen 127.0.0.1:18053 --proto tcp
t_svc_fail "service add: a both-protocol service where one serves udp" nz \
	"already listens" lw service add dns-both --listen 127.0.0.1:18053
t_svc_fail "service add: --proto sctp" nz "bad protocol" \
	lw service add bad --listen 127.0.0.1:18054 --proto sctp
begin
succeeds lw service list
need "dns-udp row" grep -Eq "^dns-udp +127\.0\.0\.1:18053 +udp +- +0 +open\$" "$T/out"
need "dns-tcp row" grep -Eq "^dns-tcp +127\.0\.0\.1:18053 +tcp +- +0 +open\$" "$T/out"
finish "service list shows each service's protocols"
begin
succeeds lw --json service list
need "proto not in JSON" json_is "$T/out" \
	'[s["proto"] for s in d if s["name"] in ("dns-udp", "dns-tcp")] == ["udp", "tcp"]' \
	-- '"proto": "udp"'
finish "service list --json shows each service's protocols"
add_rule RU "rule add --proto udp" --service dns-udp --proto udp \
	--dst 127.0.0.53/32 --dport 53
begin
succeeds lw rule list
need "udp rule row" grep -Eq "^$RU +dns-udp +udp +127\.0\.0\.53/32 +53 " "$T/out"
finish "rule list shows a UDP rule"
t_rule_fail "rule add: --proto udp for a TCP-only service" nz \
	"does not serve udp" lw rule add --service dns-tcp --proto udp --dport 53
t_rule_fail "rule add: a TCP rule for a UDP-only service" nz \
	"does not serve tcp" lw rule add --service dns-udp --dport 53
t_ok "rule del of the UDP rule" lw rule del "$RU"
t_ok "service del dns-udp" lw service del dns-udp
t_ok "service del dns-tcp" lw service del dns-tcp
for bad in 0 86401 junk -1 ""; do
	t_fail "load --udp-timeout '$bad' is a usage error" 2 "udp-timeout" \
		lw load --cgroup "$CG" --udp-timeout "$bad"
done
begin
succeeds lw load --cgroup "$CG" --udp-timeout 7
succeeds lw --json status
need "timeout not 7" json_is "$T/out" 'd["udp_timeout_s"] == 7 and d["udp_flows"] == 0' -- \
	'"udp_timeout_s": 7'
succeeds lw status
need "status text lacks the udp line" grep -Eq "^udp flows +0 \(idle timeout 7s, at most 4096 per user\)\$" "$T/out"
finish "load --udp-timeout over a running engine sets the timeout"

# ---- exec ----

begin
succeeds "$LWFP" exec --cgroup "$CG/exectest" -- cat /proc/self/cgroup
need "the process is not in $CG/exectest" grep -qx "0::$CG/exectest" "$T/out"
need "$CGDIR/exectest was not created" [ -d "$CGDIR/exectest" ]
finish "exec runs the command in the cgroup, created if missing"
begin
succeeds "$LWFP" exec --cgroup "$CG/exectest" -- cat /proc/self/cgroup
need "the process is not in $CG/exectest" grep -qx "0::$CG/exectest" "$T/out"
finish "exec into an existing cgroup"
begin
run "$LWFP" exec --cgroup "$CG/exectest" -- sh -c 'exit 7'
need "exit status $rc, expected 7" [ "$rc" -eq 7 ]
finish "exec exits with the status of the command"
begin
succeeds "$LWFP" exec --cgroup "$CG/exectest" -- sh -c 'echo "$#:$1:$2"' sh -a "b c"
need "arguments mangled" grep -qx '2:-a:b c' "$T/out"
finish "exec passes the command's options and arguments through"
t_fail "exec without --cgroup fails, one line" nz "--cgroup" \
	"$LWFP" exec -- true
begin
fails nz "no command" "$LWFP" exec --cgroup "$CG/exec-nocmd"
need "$CGDIR/exec-nocmd was created" [ ! -e "$CGDIR/exec-nocmd" ]
finish "exec without a command fails, one line, creates nothing"
t_fail "exec of a missing command exits 127, one line" 127 "cannot run" \
	"$LWFP" exec --cgroup "$CG/exectest" -- "$T/no-such-command"
t_fail "exec of a command not on \$PATH exits 127, one line" 127 "cannot run" \
	"$LWFP" exec --cgroup "$CG/exectest" -- "lwfp-clitest-no-such-command-$$"
t_fail "exec into a bad cgroup path fails, one line" nz "bad cgroup path" \
	"$LWFP" exec --cgroup "$CG/../x" -- true

# ---- unload and cleanup ----

t_ok "final unload" lw unload
begin
need "$PIN is still there" [ ! -e "$PIN" ]
if [ -n "$HAVE_BPFTOOL" ]; then
	need "bpftool cgroup tree still shows $TAG" \
		eval '! bpftool cgroup tree "$CGMNT" 2>/dev/null | grep -q "$TAG"'
fi
finish "nothing of the engine is left after unload"

cleanup
begin
for d in "$PIN" "$PIN_BAD" "$NOPIN"; do
	need "$d left" [ ! -e "$d" ]
done
need "cgroups left" [ ! -e "$CGDIR" ]
finish "cleanup removes the pin dirs and cgroups"

echo "1..$((npass + nfail))"
echo "# $npass passed, $nfail failed"
[ -n "${LWFP_L10N_LANGS:-}" ] &&
	echo "# l10n: $l10n_checked failures checked again in $LWFP_L10N_LANGS"
[ "$nfail" -eq 0 ]
