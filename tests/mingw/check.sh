#!/bin/bash
# Does lwfp-winsock build what MinGW-w64 builds? For each sample of
# tests/mingw/samples.txt, from checkouts of the samples' repositories at
# their commits, compile it unchanged with MinGW-w64 (the established way
# to build Windows code with GCC) and with lwfp-winsock's pkg-config
# flags, side by side; fail where MinGW succeeds and lwfp does not. An
# "echo" sample is also linked against lwfp-winsock (no LD_LIBRARY_PATH)
# and must echo on loopback.
#
#   tests/mingw/check.sh BUILD SAMPLES [DOCS]
#
# SAMPLES: a checkout of github.com/microsoft/Windows-classic-samples, and
# DOCS one of github.com/MicrosoftDocs/win32, at the commits samples.txt
# names (fetched once, kept outside this tree); without DOCS its samples
# are listed as skipped. Windows file names are case-insensitive: MinGW
# gets a directory of its headers under the spellings a sample uses.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: check.sh BUILD SAMPLES [DOCS]}" && pwd)
root=${2:?usage: check.sh BUILD SAMPLES [DOCS]}/Samples/Win7Samples/netds/winsock
docs=${3:+$3/desktop-src/WinSock}
mingw=x86_64-w64-mingw32-g++
mingw_inc=/usr/share/mingw-w64/include
export PKG_CONFIG_PATH=$build/pkgconfig
tmp=$(mktemp -d)
trap 'kill $echo_pid 2>/dev/null; rm -rf "$tmp"' EXIT
echo_pid=

[ -d "$root" ] || { echo "check-mingw: no samples at $root (see $0)" >&2; exit 2; }
command -v "$mingw" >/dev/null || { echo "check-mingw: $mingw missing (scripts/deps.sh mingw)" >&2; exit 2; }

# Headers under the spellings a sample includes them by, wherever the
# case differs: the sample's own (for both compilers) in $tmp/own, MinGW's
# in $tmp/ci. Windows file names are case-insensitive.
spellings() {
	local dir=$1 h l own

	rm -rf "$tmp/ci" "$tmp/own"
	mkdir -p "$tmp/ci" "$tmp/own"
	grep -ho '#include *[<"][^>"]*[>"]' "$dir"/* 2>/dev/null |
		sed 's/.*[<"]\(.*\)[>"]/\1/' | sort -u |
		while read -r h; do
			own=$(find "$dir" -maxdepth 1 -iname "$h" | head -1)
			if [ -n "$own" ] && [ ! -e "$dir/$h" ]; then
				ln -sf "$own" "$tmp/own/$h"
				continue
			fi
			l=$(echo "$h" | tr 'A-Z' 'a-z')
			[ "$h" != "$l" ] && [ -f "$mingw_inc/$l" ] &&
				ln -sf "$mingw_inc/$l" "$tmp/ci/$h"
		done
}

# echoes FILE KIND: the sample built with lwfp-winsock echoes a line on
# loopback (echo: on a port of ours; echo27015: on its own, until the
# client shuts down its side).
echoes() {
	local port=$((20000 + RANDOM % 20000)) got

	c++ -o "$tmp/echo" "$1" $(pkg-config --cflags --libs lwfp-winsock) \
		2>"$tmp/echo.err" || return 1
	if [ "$2" = echo27015 ]; then
		port=27015
		"$tmp/echo" >/dev/null 2>&1 &
	else
		"$tmp/echo" -p TCP -e "$port" -i 127.0.0.1 -4 >/dev/null 2>&1 &
	fi
	echo_pid=$!
	sleep 0.5
	got=$(python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"lwfp echo")
if sys.argv[2] == "echo27015":
    s.shutdown(socket.SHUT_WR)
print(s.recv(64).decode())' "$port" "$2" 2>/dev/null)
	kill "$echo_pid" 2>/dev/null
	wait "$echo_pid" 2>/dev/null
	echo_pid=
	[ "$got" = "lwfp echo" ]
}

# The sample a docs page holds: its first C++ code block.
page_code() {
	local out=$tmp/page/$(basename "$1" .md).cpp

	mkdir -p "$tmp/page"
	awk '/^```C\+\+/ { f = 1; next } /^```/ { if (f) exit } f' "$1" >"$out"
	echo "$out"
}

fail=0
printf '%-34s %-8s %-8s %s\n' SAMPLE MINGW LWFP NOTE
while read -r repo path sum kind; do
	case $repo in '#'* | '') continue ;; esac
	if [ "$repo" = docs ] && [ -z "$docs" ]; then
		printf '%-34s %s\n' "$path" "skipped: no DOCS checkout"
		continue
	fi
	f=$root/$path
	[ "$repo" = docs ] && f=$docs/$path
	if ! echo "$sum  $f" | sha256sum -c --quiet - 2>/dev/null; then
		printf '%-34s %s\n' "$path" "not the pinned file (checksum)"
		fail=1
		continue
	fi
	[ "$repo" = docs ] && f=$(page_code "$f")
	spellings "$(dirname "$f")"
	lang=c++
	case $f in *.c) lang=c ;; esac
	m=ok; l=ok; note=
	$mingw -x "$lang" -c -o /dev/null -I"$tmp/own" -I"$tmp/ci" "$f" \
		>"$tmp/m.err" 2>&1 || m=fails
	c++ -x "$lang" -c -o /dev/null -I"$tmp/own" "$f" \
		$(pkg-config --cflags lwfp-winsock) >"$tmp/l.err" 2>&1 || l=fails
	[ "$kind" = gui ] && note="GUI (WSAAsyncSelect, window messages): out of the promise"
	if [ "$m" = ok ] && [ "$l" != ok ] && [ "$kind" != gui ]; then
		note="lwfp fails where MinGW builds: $(grep -m1 error "$tmp/l.err")"
		fail=1
	elif [ "$m" != ok ] && [ -z "$note" ]; then
		note="out of the promise: MinGW fails too ($(grep -m1 -o 'error: .*' "$tmp/m.err" | cut -c1-60))"
	fi
	if [ "${kind#echo}" != "$kind" ] && [ "$l" = ok ]; then
		if echoes "$f" "$kind"; then note="links, echoes on loopback"
		else note="does not echo on loopback"; fail=1; fi
	fi
	printf '%-34s %-8s %-8s %s\n' "$path" "$m" "$l" "$note"
done <"$here/samples.txt"
exit $fail
