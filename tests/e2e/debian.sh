#!/bin/bash
# The Debian packages, built and used as a distribution would:
#   bash tests/e2e/debian.sh [ignored: it builds from the source tree]
# Copies the tree (no build/, no .git) to a scratch directory and builds
# it there twice, from two directory names, with dpkg-buildpackage -us -uc
# -b: the packages must be the same bytes (the build depends on neither
# the build host's kernel nor its paths). Runs lintian (no error), checks
# what each package holds, unpacks them all (dpkg -x) into a scratch root
# and, with that root's files only, loads an engine (its own pin directory
# and cgroup), redirects a loopback connect through the root's relay-proxy,
# and builds and runs programs against the root's -dev packages through
# their pkg-config files. Needs root, debhelper and lintian
# (scripts/deps.sh). Prints TAP; removes everything, also on failure.
# Takes about a minute (two builds of about 25 s each).
# shellcheck disable=SC2016,SC2317 # check strings (and the functions they
# call) run when evaluated, cleanup from the trap
set -u
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
fail=0

[ "$(id -u)" = 0 ] || bail "$0 needs root"
for tool in dpkg-buildpackage dh lintian curl python3; do
	command -v "$tool" >/dev/null ||
		bail "no $tool: run scripts/deps.sh"
done
# a make above us (make check) must not hand its jobserver or its
# variables to the package's build
unset MAKEFLAGS MFLAGS MAKELEVEL

TAG=lwfp-debtest-$$
PIN=/sys/fs/bpf/$TAG
CG=/$TAG
CGMNT=$(cgroup2_mount)
[ -n "$CGMNT" ] || bail "no cgroup2 mount"
CGDIR=
T=$(mktemp -d "/tmp/$TAG.XXXXXX")
PIDS=()
LWFP=
NS_MADE=	# no namespace: lib.sh's cleanup() leaves that part out
trap_cleanup

# ---- build, twice ----

# build NAME: the tree copied to $T/NAME/lwfp, its packages in $T/NAME
build() {
	mkdir -p "$T/$1/lwfp"
	tar -C "$top" --exclude=./build --exclude=./.git -cf - . |
		tar -C "$T/$1/lwfp" -xf -
	(cd "$T/$1/lwfp" && dpkg-buildpackage -us -uc -b) >"$T/$1.log" 2>&1
}
check "dpkg-buildpackage -us -uc -b" 'build one' || show "$T/one.log"
check "a build from another directory" 'build other-dir' ||
	show "$T/other-dir.log"
for deb in "$T"/one/*.deb; do
	check "$(basename "$deb") is the same bytes in both builds" \
		"cmp -s '$deb' '$T/other-dir/$(basename "$deb")'"
done
check "no build command names the running kernel's BTF" \
	"! grep -q '/sys/kernel/btf' '$T/one.log'"
[ $fail = 0 ] || bail "no packages"

# ---- lintian ----

lintian --fail-on error --pedantic -I "$T"/one/*.changes >"$T/lintian" 2>&1
check "lintian: no error" "[ $? = 0 ]"
grep -v '^running with root' "$T/lintian" | sed 's/^/# lintian: /'

# ---- what each package holds ----

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib=usr/lib/$ma
# holds PACKAGE PATH...: the package's data has each PATH
holds() {
	local pkg=$1 p

	shift
	dpkg-deb -c "$T"/one/"$pkg"_*.deb | awk '{ print $6 }' >"$T/list"
	for p in "$@"; do
		grep -qx "./$p" "$T/list" || { echo "# $pkg lacks $p"; return 1; }
	done
}
check "lwfp: the CLI, its page, its unit, the examples, their layouts" \
	'holds lwfp usr/bin/lwfp usr/share/man/man8/lwfp.8.gz \
		lib/systemd/system/lwfp.service \
		usr/libexec/lwfp/relay-proxy usr/libexec/lwfp/winsock-proxy \
		usr/share/lwfp/winsock-iocp-proxy.layout \
		usr/share/doc/lwfp/copyright'
check "liblwfp0: the library by its SONAME" \
	'holds liblwfp0 $lib/liblwfp.so.0.1.0 $lib/liblwfp.so.0'
check "liblwfp-dev: header, .so, static library, .pc, lwfp(3)" \
	'holds liblwfp-dev usr/include/lwfp.h $lib/liblwfp.so $lib/liblwfp.a \
		$lib/pkgconfig/lwfp.pc usr/share/man/man3/lwfp.3.gz'
check "liblwfp-winsock0: the library by its SONAME" \
	'holds liblwfp-winsock0 $lib/liblwfp-winsock.so.0.1.0 \
		$lib/liblwfp-winsock.so.0'
check "liblwfp-winsock-dev: headers, .so, static library, .pc" \
	'holds liblwfp-winsock-dev usr/include/lwfp-winsock/winsock2.h \
		usr/include/lwfp-winsock/spellings/WinSock2.h \
		$lib/liblwfp-winsock.so $lib/liblwfp-winsock.a \
		$lib/pkgconfig/lwfp-winsock.pc'
check "the runtime libraries hold no development file" \
	'! for d in "$T"/one/liblwfp0_*.deb "$T"/one/liblwfp-winsock0_*.deb; do
		dpkg-deb -c "$d" || echo "cannot list $d"
	done | grep "\.so$\|\.a$\|include/\|cannot list"'
check "liblwfp-dev depends on liblwfp0 of its version" \
	'dpkg-deb -f "$T"/one/liblwfp-dev_*.deb Depends |
		grep -q "liblwfp0 (= 0.1.0)"'
check "the shlibs name liblwfp0" \
	'dpkg-deb --ctrl-tarfile "$T"/one/liblwfp0_*.deb | tar -xOf - ./shlibs |
		grep -q "^liblwfp 0 liblwfp0"'

# ---- the installed files only ----

R=$T/root
for deb in "$T"/one/*.deb; do
	case $deb in *-dbgsym_*) continue ;; esac
	dpkg -x "$deb" "$R"
done
LWFP=$R/usr/bin/lwfp
check "the installed lwfp runs" '"$LWFP" --version | grep -q lwfp'
check "no installed binary has a run path but \$ORIGIN" \
	'! find "$R" -type f -exec readelf -d {} + 2>/dev/null |
		grep "R.*PATH" | grep -v "\[\$ORIGIN"'

# A redirect: an engine of our own, the root's relay-proxy as its service
# (exempt by its cgroup), a rule for a loopback destination, and curl in
# the engine's cgroup reaching the origin through the proxy.
CGDIR=$CGMNT$CG
mkdir -p "$CGDIR/app" "$CGDIR/proxy" "$CGDIR/origin" || bail "cgroups"
port=$((20000 + $$ % 20000))
origin=127.0.0.2:$((port + 1))
check "the installed lwfp loads an engine" \
	'"$LWFP" load --cgroup "$CG" --pin-dir "$PIN" >"$T/load" 2>&1' ||
	show "$T/load"
check "it registers the root's relay-proxy as a service" \
	'"$LWFP" service add deb --listen "127.0.0.1:$port" \
		--cgroup "$CG/proxy" --pin-dir "$PIN" >/dev/null'
check "it adds a rule for $origin" \
	'"$LWFP" rule add --service deb --dst 127.0.0.2/32 \
		--dport $((port + 1)) --context debian-test --pin-dir "$PIN" \
		>/dev/null'
mkdir -p "$T/www"
echo "lwfp from its Debian packages" >"$T/www/index.html"
"$LWFP" exec --cgroup "$CG/origin" -- python3 -m http.server \
	--bind 127.0.0.2 --directory "$T/www" $((port + 1)) \
	>"$T/origin.log" 2>&1 &
PIDS+=($!)
"$LWFP" exec --cgroup "$CG/proxy" -- "$R/usr/libexec/lwfp/relay-proxy" \
	--listen "127.0.0.1:$port" --pin-dir "$PIN" >"$T/proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do	# until both listen
	ss -Hltn "sport = :$port" | grep -q . &&
		ss -Hltn "sport = :$((port + 1))" | grep -q . && break
	sleep 0.1
done
check "a client in the engine's cgroup reaches $origin" \
	'"$LWFP" exec --cgroup "$CG/app" -- curl -sS -m 20 -o "$T/got" \
		"http://$origin/index.html" 2>"$T/curl.err" &&
		cmp -s "$T/got" "$T/www/index.html"' || show "$T/curl.err"
sleep 0.3
check "through the root's relay-proxy, with the rule's context" \
	'grep -q "orig=$origin .*rule-context=\"debian-test\"" "$T/proxy.log"' ||
	show "$T/proxy.log"
check "the engine counts one redirected connect" \
	'"$LWFP" status --pin-dir "$PIN" | grep -q "^  redirected  *1$"'

# ---- programs built against the -dev packages ----

export PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_PATH=$R/$lib/pkgconfig
export LD_LIBRARY_PATH=$R/$lib
cat >"$T/open.c" <<'EOF2'
#include <stdio.h>
#include <lwfp.h>

int main(int argc, char **argv)
{
	struct lwfp *engine;
	int err = lwfp_open(argv[1], &engine);

	if (err) {
		printf("lwfp_open: %s\n", lwfp_strerror(err));
		return 1;
	}
	printf("opened %s\n", lwfp_pin_dir(engine));
	lwfp_close(engine);
	return 0;
}
EOF2
check "a program builds with pkg-config lwfp against the root" \
	'cc -o "$T/open" "$T/open.c" $(pkg-config --cflags --libs lwfp) \
		2>"$T/cc.err"' || show "$T/cc.err"
check "it runs on the root's liblwfp.so.0" \
	'ldd "$T/open" | grep -q "liblwfp.so.0 => $R/$lib/liblwfp.so.0"'
check "it opens the running engine through liblwfp" \
	'"$T/open" "$PIN" | grep -qx "opened $PIN"'
check "winsock-proxy.c builds with pkg-config lwfp-winsock against the root" \
	'cc -o "$T/wsp" "$top/examples/winsock-proxy.c" \
		$(pkg-config --cflags --libs lwfp-winsock) 2>"$T/cc.err"' ||
	show "$T/cc.err"
check "it runs on the root's liblwfp-winsock.so.0 and liblwfp.so.0" \
	'ldd "$T/wsp" >"$T/ldd" &&
		grep -q "liblwfp-winsock.so.0 => $R/$lib/" "$T/ldd" &&
		grep -q "liblwfp.so.0 => $R/$lib/" "$T/ldd" &&
		"$T/wsp" --help 2>&1 | grep -q usage'
unset LD_LIBRARY_PATH
exit $fail
