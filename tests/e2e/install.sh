#!/bin/bash
# make install into a scratch DESTDIR with PREFIX=/usr (a build of its own,
# not sanitized), then build the examples against the installed tree
# through pkg-config, as a user of the packages would.
set -u
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0


make -s -C "$top" BUILD="$tmp/build" PREFIX=/usr DESTDIR="$tmp/root" \
	install >"$tmp/log" 2>&1
check "make install PREFIX=/usr DESTDIR=..." "[ $? = 0 ]" || tail "$tmp/log"
r=$tmp/root/usr
for f in bin/lwfp lib/liblwfp.so lib/liblwfp.so.0 lib/liblwfp.a \
	include/lwfp.h lib/pkgconfig/lwfp.pc share/man/man8/lwfp.8 \
	share/man/man3/lwfp.3 libexec/lwfp/relay-proxy \
	share/lwfp/winsock-iocp-proxy.layout \
	share/lwfp/winsock-udp-proxy.layout lib/systemd/system/lwfp.service; do
	check "installed $f" "[ -e '$r/$f' ]"
done
check "lwfp.pc names the prefix" "grep -q '^prefix=/usr$' '$r/lib/pkgconfig/lwfp.pc'"
check "the installed lwfp runs" "'$r/bin/lwfp' --version | grep -q lwfp"
check "the installed unit runs the installed lwfp on /etc/lwfp/lwfp.conf" \
	"grep -qx 'ExecStart=/usr/bin/lwfp apply --upgrade /etc/lwfp/lwfp.conf' '$r/lib/systemd/system/lwfp.service'"

export PKG_CONFIG_SYSROOT_DIR=$tmp/root PKG_CONFIG_PATH=$r/lib/pkgconfig
check "minimal-proxy builds with pkg-config lwfp" \
	"cc -o '$tmp/mp' '$top/examples/minimal-proxy.c' \$(pkg-config --cflags --libs --static lwfp)"
if [ -e "$r/lib/pkgconfig/lwfp-winsock.pc" ]; then
	check "winsock-proxy builds unchanged with pkg-config lwfp-winsock" \
		"cc -o '$tmp/wp' '$top/examples/winsock-proxy.c' \$(pkg-config --cflags --libs --static lwfp-winsock)"
	check "winsock-udp-proxy (its own context struct, no lwfp header) builds unchanged with pkg-config lwfp-winsock" \
		"cc -o '$tmp/up' '$top/examples/winsock-udp-proxy.c' \$(pkg-config --cflags --libs --static lwfp-winsock)"
	check "winsock-thread-proxy (C++) builds unchanged with pkg-config lwfp-winsock" \
		"c++ -o '$tmp/tp' '$top/examples/winsock-thread-proxy.cpp' \$(pkg-config --cflags --libs --static lwfp-winsock)"
	check "a source spelling <Windows.h>, <WinSock2.h> builds with the installed headers" \
		"cc -o '$tmp/sp' '$top/tests/e2e/windows/spelled.c' \$(pkg-config --cflags --libs --static lwfp-winsock)"
fi
exit $fail
