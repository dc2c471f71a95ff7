#!/bin/bash
# Windows sources build unchanged against lwfp-winsock, as a developer
# types it, and run: the headers as Windows spells them, Microsoft's
# keywords and annotations, the windows.h basics and kernel32 calls,
# from C and from C++ (tests/e2e/windows/*.c). Built against the build
# tree with the toolchain's --as-needed and no LD_LIBRARY_PATH: the
# program finds liblwfp-winsock by the .pc's rpath, and liblwfp-winsock
# finds liblwfp by its own.
set -u
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$(dirname "$1")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
export PKG_CONFIG_PATH=$build/pkgconfig
unset LD_LIBRARY_PATH

# a sanitized build (make check) needs its runtime in the program too
san=
if nm -D "$build/liblwfp-winsock.so" 2>/dev/null | grep -q __asan_init; then
	san="-fsanitize=address,undefined"
fi
flags() { echo "$san $(pkg-config --cflags --libs lwfp-winsock)"; }

check "liblwfp-winsock finds liblwfp by its own runpath" \
	"readelf -d '$build/liblwfp-winsock.so' | grep -q 'RUNPATH.*\\\$ORIGIN'"
for src in "$top"/tests/e2e/windows/*.c; do
	name=$(basename "$src" .c)
	check "$name.c builds unchanged as C" \
		"cc -Wl,--as-needed -o '$tmp/$name' '$src' $(flags)"
	check "$name runs (C)" "'$tmp/$name' | grep -q '^$name: ok$'"
	check "$name.c builds unchanged as C++" \
		"c++ -x c++ -Wl,--as-needed -o '$tmp/$name-cpp' '$src' -x none $(flags)"
	check "$name runs (C++)" "'$tmp/$name-cpp' | grep -q '^$name: ok$'"
done
exit $fail
