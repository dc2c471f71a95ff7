#!/bin/bash
# lwfp in Italian and Russian (po/, issue 17):
#   bash tests/e2e/l10n.sh path/to/lwfp
# Needs root and the it_IT.UTF-8 and ru_RU.UTF-8 locales (scripts/deps.sh
# generates them). Checks that every catalogue is complete and matches the
# sources, runs every failure of cli.sh again in each language (it fails on
# any line still English), and that status and the listings are translated
# and aligned while --json stays byte-identical. Prints TAP. Everything it
# creates is named lwfp-l10ntest-$$ and removed on exit.
set -u
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

need_root_and_lwfp "path/to/lwfp" "$@"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$LWFP")
LOCALES="it_IT.UTF-8 ru_RU.UTF-8"
TAG=lwfp-l10ntest-$$
PIN=/sys/fs/bpf/$TAG
CG=/$TAG
CGDIR=
T=$(mktemp -d)
fail=0
export LWFP_LOCALEDIR=$BUILD/locale

cleanup() {
	trap - EXIT
	remove_pin_dir "$PIN"
	remove_cgroups
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- the catalogues ----

for loc in $LOCALES; do
	check "locale $loc is generated" \
		"locale -a | grep -qix '${loc%.UTF-8}.utf8'"
done
xgettext --from-code=UTF-8 -k_ -kN_ -kP_:1,2 -o "$T/lwfp.pot" \
	"$SRC"/src/common/*.c "$SRC"/src/lib/*.c "$SRC"/src/control/*.c \
	"$SRC"/src/cli/*.c
for po in "$SRC"/po/*.po; do
	l=$(basename "$po" .po)
	msgfmt --check --statistics -o /dev/null "$po" >"$T/stat" 2>&1
	check "po/$l.po: msgfmt --check passes" "[ $? -eq 0 ]"
	check "po/$l.po: no untranslated or fuzzy message ($(cat "$T/stat"))" \
		"! grep -Eq 'untranslated|fuzzy' '$T/stat'"
	check "po/$l.po: every message of the sources is in it" \
		"msgcmp '$po' '$T/lwfp.pot' 2>'$T/cmp'"
	[ -s "$T/cmp" ] && head -5 "$T/cmp" | sed 's/^/#   /'
	check "$BUILD/locale/$l/LC_MESSAGES/lwfp.mo is built" \
		"[ -s '$BUILD/locale/$l/LC_MESSAGES/lwfp.mo' ]"
done

# ---- the man pages (po4a) ----

for page in $(sed -n 's|^\[type: man\] \(man/[^ ]*\) .*|\1|p' \
		"$SRC/po/man/po4a.cfg"); do
	po4a-updatepo -f man -M UTF-8 -m "$SRC/$page" -p "$T/$(basename "$page").pot" \
		>/dev/null 2>&1
	for po in "$SRC"/po/man/*.po; do
		l=$(basename "$po" .po)
		# (msgcmp warns of the other page's paragraphs: not an error)
		msgcmp "$po" "$T/$(basename "$page").pot" 2>"$T/cmp"
		cmp_rc=$?
		check "po/man/$l.po: every paragraph of $page is in it" \
			"[ $cmp_rc -eq 0 ]"
		[ $cmp_rc -ne 0 ] && grep -v 'not used' "$T/cmp" | head -3 |
			sed 's/^/#   /'
		out=$BUILD/man/$l/$(basename "$page")
		check "$out is built" "[ -s '$out' ]"
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$out" \
			>"$T/man.txt" 2>"$T/man.err"
		check "$out renders without warnings" \
			"[ -s '$T/man.txt' ] && [ ! -s '$T/man.err' ]"
	done
done
for po in "$SRC"/po/man/*.po; do
	l=$(basename "$po" .po)
	msgfmt --check --statistics -o /dev/null "$po" >"$T/stat" 2>&1
	check "po/man/$l.po: complete ($(cat "$T/stat"))" \
		"! grep -Eq 'untranslated|fuzzy' '$T/stat'"
done

# ---- every failure cli.sh checks, again in each language ----

LWFP_L10N_LANGS=$LOCALES bash "$SRC/tests/e2e/cli.sh" "$LWFP" >"$T/cli" 2>&1
rc=$?
check "cli.sh in $LOCALES: $(tail -2 "$T/cli" | tr '\n' ' ')" "[ $rc -eq 0 ]"
grep -A2 '^not ok' "$T/cli" | head -20 | sed 's/^/#   /'
check "cli.sh checked failures in each language" \
	"grep -Eq '^# l10n: [1-9][0-9]* failures checked' '$T/cli'"

# ---- an engine of our own: status, listings, --json ----

CGMNT=$(printf '%b' "$(cgroup2_mount)")
CGDIR=$CGMNT$CG
mkdir -p "$CGDIR"
lw() { "$LWFP" --pin-dir "$PIN" "$@"; }
lw load --cgroup "$CG" >/dev/null 2>"$T/err"
check "load (C)" "[ $? -eq 0 ]"
lw service add web --listen 127.0.0.1:18300 >/dev/null &&
	lw rule add --service web --dst 127.0.0.0/8 --dport 80 >/dev/null
check "a service and a rule added" "[ $? -eq 0 ]"

for cmd in status "service list" "rule list" flows events; do
	# shellcheck disable=SC2086 # cmd is words
	LC_ALL=C lw --json $cmd >"$T/json.C" 2>&1
	for loc in $LOCALES; do
		# shellcheck disable=SC2086
		LC_ALL=$loc lw --json $cmd >"$T/json.$loc" 2>&1
		check "--json $cmd is byte-identical in C and $loc" \
			"cmp -s '$T/json.C' '$T/json.$loc'"
	done
done

# status: every heading and summary line in the language (the counters'
# and programs' own names stay: they are identifiers, as in --json)
LC_ALL=C lw status >"$T/status.C" 2>&1
for loc in $LOCALES; do
	LC_ALL=$loc lw status >"$T/status.$loc" 2>&1
	same=$(paste -d '\n' <(sed -n '1,9p;10p' "$T/status.C") \
		<(sed -n '1,9p;10p' "$T/status.$loc") | uniq -d | grep -v '^cgroup ')
	check "status in $loc: no heading line left in English ($same)" \
		"[ -z \"\$same\" ]"
	check "status in $loc: the programs' lines are translated" \
		"! grep -Eq 'required|optional|insns verified' '$T/status.$loc'"
done

# the listings' columns line up by display width in Russian
col_of() {
	python3 -c 'import sys
h, r = open(sys.argv[1], encoding="utf-8").read().splitlines()[:2]
print(h.index(sys.argv[2]), r.index(sys.argv[3]))' "$@"
}
LC_ALL=ru_RU.UTF-8 lw rule list >"$T/rules.ru" 2>&1
check "rule list in Russian: its headings are translated" \
	"grep -q '^ID.*СЛУЖБА.*КОНТЕКСТ' '$T/rules.ru'"
cols=$(col_of "$T/rules.ru" "СЛУЖБА" "web")
check "rule list in Russian: the service column lines up ($cols)" \
	"[ '${cols% *}' = '${cols#* }' ]"
LC_ALL=ru_RU.UTF-8 lw service list >"$T/svcs.ru" 2>&1
cols=$(col_of "$T/svcs.ru" "ПРОСЛУШИВАНИЕ" "127.0.0.1:18300")
check "service list in Russian: the listen column lines up ($cols)" \
	"[ '${cols% *}' = '${cols#* }' ]"
check "rule list in Russian: the context size in Russian" \
	"grep -q '0 байт' '$T/rules.ru'"

lw unload >/dev/null 2>&1
check "unload" "[ $? -eq 0 ]"
cleanup
check "nothing left" "[ ! -e '$PIN' ] && [ ! -e '$CGDIR' ]"
echo "# $([ "$fail" = 0 ] && echo all passed || echo some failed)"
exit "$fail"
