#!/bin/sh
# docs/hacking.md's recipes are true: recipes.patch adds a map and a CLI
# verb touching only the places the recipes name; the patched tree builds,
# and the new verb reads the new map from a running engine (in a cgroup
# and pin directory of its own, removed after).
#   recipes.sh LWFP EXAMPLES_DIR   (the arguments are not used)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
name=lwfp-recipes-$$
pin=/sys/fs/bpf/$name
pass=0
fail=0

cleanup() {
	[ -x "$work/build/lwfp" ] &&
		"$work/build/lwfp" unload --pin-dir "$pin" >/dev/null 2>&1
	[ -d "$cg2/$name" ] && rmdir "$cg2/$name"
	rm -rf "$work"
}
trap cleanup EXIT

check() {
	what=$1
	shift
	if "$@"; then
		echo "ok - $what"
		pass=$((pass + 1))
	else
		echo "not ok - $what"
		fail=$((fail + 1))
	fi
}

# the places the recipes name: a map (2), a CLI verb (3)
want="src/abi/pins.h src/bpf/maps.bpf.h src/cli/cli.h src/cli/cmd_hello.c src/cli/main.c"
got=$(sed -n 's|^+++ b/||p' "$top/tests/e2e/recipes.patch" | sort | tr '\n' ' ')
check "the patch touches only the places the recipes name" \
	[ "$got" = "$want " ]

(cd "$top" && git ls-files 2>/dev/null || find . -path ./build -prune -o \
	-type f -print) | (cd "$top" && tar cf - -T -) | tar xf - -C "$work"
check "the patch applies" sh -c "cd '$work' && patch -s -p1 < '$top/tests/e2e/recipes.patch'"
check "the patched tree builds" sh -c \
	"make -s -C '$work' BUILD='$work/build' '$work/build/lwfp' >'$work/make.log' 2>&1 || { tail -20 '$work/make.log'; false; }"

mkdir -p "$cg2/$name"
check "the patched engine loads" sh -c \
	"'$work/build/lwfp' load --cgroup '/$name' --pin-dir '$pin' >/dev/null 2>&1"
check "the new map is pinned" [ -e "$pin/lwfp_dummy" ]
check "the new verb reads it" sh -c \
	"'$work/build/lwfp' --pin-dir '$pin' hello | grep -q 'hello, dummy is 0'"
check "lwfp --help lists the new verb" sh -c \
	"'$work/build/lwfp' --help | grep -q '^  hello '"
echo "# $pass passed, $fail failed"
[ $fail = 0 ]
