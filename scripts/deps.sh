#!/bin/sh
# Install the Debian packages lwfp needs to build, test and run the demo,
# when any is missing. Needs root (apt-get) only when something is missing.
# squid, redsocks and microsocks are the unmodified transparent proxies of
# tests/e2e/proxies.sh (python3 serves its origin): the tests run them by
# hand in cgroups of their own, so their system services are never started.
#   scripts/deps.sh [kernels|mingw]
# "kernels" adds what make check-kernels boots Debian's kernels with,
# "mingw" the MinGW-w64 compiler make check-mingw compares with.
set -eu

pkgs="make gcc g++ binutils clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
pkg-config libjson-c-dev libcmocka-dev libclang-rt-14-dev iproute2 \
dpkg-dev debhelper lintian \
nftables curl util-linux python3 python3-yaml squid redsocks microsocks dnsutils patch \
gettext po4a locales libc-l10n man-db"
if [ "${1:-}" = kernels ]; then
	pkgs="$pkgs qemu-system-x86 busybox-static cpio"
fi
if [ "${1:-}" = mingw ]; then
	pkgs="$pkgs g++-mingw-w64-x86-64"
fi

# packages that ship a daemon whose service must stay stopped
daemons="squid redsocks microsocks"

# The languages lwfp speaks (po/), for tests/e2e/l10n.sh: generated,
# without changing the system's default locale.
l10n_locales="it_IT ru_RU"
ensure_locales() {
	local l

	for l in $l10n_locales; do
		locale -a 2>/dev/null | grep -qix "$l.utf8" && continue
		if [ "$(id -u)" != 0 ]; then
			echo "lwfp: run as root to generate the locale $l.UTF-8" >&2
			return 1
		fi
		echo "lwfp: generating the locale $l.UTF-8"
		localedef -i "$l" -f UTF-8 "$l.UTF-8" || return 1
	done
}

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	ensure_locales
	exit
fi

echo "lwfp: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "lwfp: run as root to install the packages above" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# While installing, a policy-rc.d that exits 101 forbids invoke-rc.d and
# deb-systemd-invoke to start any service. One already there is put back
# afterwards, also when the install fails or is interrupted.
policy=/usr/sbin/policy-rc.d
saved=$policy.lwfp-saved
restore_policy() {
	rm -f "$policy"
	if [ -e "$saved" ]; then
		mv -f "$saved" "$policy"
	fi
}
if [ -e "$policy" ] && [ ! -e "$saved" ]; then
	mv -f "$policy" "$saved"
fi
trap restore_policy EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
printf '#!/bin/sh\n# lwfp scripts/deps.sh: start no service while installing\nexit 101\n' \
	>"$policy"
chmod 755 "$policy"

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

restore_policy
trap - EXIT INT TERM HUP

# Had a daemon we just installed started all the same, stop and disable it.
for d in $daemons; do
	case " $missing " in
	*" $d "*) ;;
	*) continue ;;	# installed before: the administrator's, not ours
	esac
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl disable --now "$d.service" >/dev/null 2>&1 || :
	elif [ -x "/etc/init.d/$d" ]; then
		"/etc/init.d/$d" stop >/dev/null 2>&1 || :
		update-rc.d "$d" disable >/dev/null 2>&1 || :
	fi
done

ensure_locales
