#!/bin/sh
# Install the Debian packages lwfp needs to build, test and run the demo,
# when any is missing. Needs root (apt-get) only when something is missing.
set -eu

pkgs="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
pkg-config libjson-c-dev libcmocka-dev libclang-rt-14-dev iproute2 \
nftables curl util-linux"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "lwfp: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "lwfp: run as root to install the packages above" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
