#!/bin/sh
# make check-kernels: the engine on every kernel its users run.
#   tests/kernels/run.sh BUILD
# Boots the newest Debian 12 packaged cloud kernels of the 6.1 and 6.12
# series under qemu (software emulation: no /dev/kvm needed) from an
# initramfs holding busybox, the CLI and the example relay proxy, runs
# check.sh there and on the host, and prints each program's verified
# instructions per kernel; on each guest it then runs a reduced profile of
# the security suite (the attacks that need no extra tools) and the
# offloaded relay's cases that fit under emulation. Fails when a kernel
# cannot be had, a required program does not load, a program needs more
# than the budget, the redirect or the offload does not work, or an
# attack works.
# Needs root (apt-get download, the host check).
set -eu
build=${1:-build}
# the attacks run on every kernel: no accounts, no ip/nft needed
security="test_squat test_udp_inject test_netns test_live_full test_reuse
	test_exhaustion test_exemption test_shares"
# and where the sockopt programs are attached (links per service cgroup,
# updated in place: the kernels differ in cgroup multi-attach)
e2e="test_sockopt_scope"
# the offloaded relay's cases that fit under emulation: all but the 1 GiB
# transfers (1) and the 10,000 flows (8); case 4 makes the verdict cut
offload_cases="2 3 4 5 6 7 9 10 11 12"
budget=${LWFP_INSNS_BUDGET:-100000}
here=$(cd "$(dirname "$0")" && pwd)
cache=$build/kernels
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
results=$cache/results
rm -rf "$results"
mkdir -p "$results"

die() {
	echo "check-kernels: $*" >&2
	exit 1
}

# The newest image of a series that the package index offers now.
newest() {
	apt-cache search --names-only "$1" | awk '{ print $1 }' | sort -V |
		tail -n 1
}

kernel_image() {
	pkg=$1
	dir=$cache/$pkg
	if ! ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1; then
		(cd "$cache" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
			die "cannot download $pkg"
		rm -rf "$dir"
		dpkg-deb -x "$cache/$pkg"_*.deb "$dir" ||
			die "cannot unpack $pkg"
	fi
	ls "$dir"/boot/vmlinuz-* | head -n 1
}

# busybox, the CLI, the relay proxy, their libraries, check.sh and /init.
initramfs() {
	root=$cache/root
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/lwfp" "$root/proc" "$root/sys" \
		"$root/dev" "$root/tmp" "$root/etc"
	cp /bin/busybox "$root/bin/busybox"
	cp "$build/lwfp" "$build/examples/relay-proxy" "$here/check.sh" \
		"$root/lwfp/"
	mkdir -p "$root/lwfp/security"
	for t in $security; do
		cp "$build/tests/security/$t" "$root/lwfp/security/"
	done
	for t in $e2e; do
		cp "$build/tests/$t" "$root/lwfp/security/"
	done
	cp "$build/tests/test_offload" "$root/lwfp/"
	echo $offload_cases | tr ' ' , >"$root/lwfp/offload_cases"
	for bin in "$build/lwfp" "$build/examples/relay-proxy" \
		"$build"/tests/security/test_* "$build"/tests/test_sockopt_scope \
		"$build/tests/test_offload"; do
		ldd "$bin" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'
	done | sort -u | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /sys/fs/cgroup /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
ip link set lo up
sh /lwfp/check.sh /lwfp/lwfp /lwfp/relay-proxy
for t in /lwfp/security/test_*; do
	name=${t##*/}
	if "$t" /lwfp/lwfp >/tmp/$name.log 2>&1; then
		echo "security $name ok"
	else
		echo "security $name FAILED"
		grep -E "FAILED|Bail" /tmp/$name.log | head -n 5 | sed 's/^/note /'
	fi
done
LWFP_TEST_ONLY=$(cat /lwfp/offload_cases) LWFP_OFFLOAD_REPS=5 \
	/lwfp/test_offload /lwfp/lwfp >/tmp/test_offload.log 2>&1
sed -n 's/^\(not \)\{0,1\}ok \([0-9]*\) - \([^#]*\)$/offload \2 \1ok \3/p' \
	/tmp/test_offload.log
grep -E "FAILED|Bail" /tmp/test_offload.log | head -n 5 | sed 's/^/note /'
echo "check done"
poweroff -f
EOF
	chmod 755 "$root/init"
	(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) \
		>"$cache/initramfs.gz"
}

boot_once() {
	vmlinuz=$1
	log=$2
	out=$3
	timeout 900 qemu-system-x86_64 -accel tcg -cpu max -m 2G -smp 2 \
		-nographic -no-reboot -kernel "$vmlinuz" \
		-initrd "$cache/initramfs.gz" \
		-append "console=ttyS0 panic=-1 quiet" </dev/null >"$log" 2>&1 ||
		true
	# the console may put escape codes before the first line
	tr -d '\r' <"$log" |
		sed -n 's/^.*\(kernel [0-9][0-9.]*[^ ]*\)$/\1/p;
			/^\(prog\|result\|note\|security\|offload\) /p' \
		>"$out" || true
}

# A guest that never reached /init (its first line is "kernel VERSION")
# died in the emulator while booting, before any of our code ran (seen
# once: an int3 Oops in 6.12's early init under TCG): boot it once more,
# keeping the first log.
boot() {
	label=$1
	vmlinuz=$2
	log=$results/$label.log
	echo "check-kernels: booting $label ($(basename "$vmlinuz"))"
	boot_once "$vmlinuz" "$log" "$results/$label.out"
	grep -q '^kernel ' "$results/$label.out" && return
	mv "$log" "$log.first"
	echo "check-kernels: $label did not reach /init (see $log.first): booting it again"
	boot_once "$vmlinuz" "$log" "$results/$label.out"
}

command -v qemu-system-x86_64 >/dev/null && command -v busybox >/dev/null ||
	die "qemu-system-x86_64 and busybox are needed (scripts/deps.sh kernels)"
[ -x "$build/lwfp" ] && [ -x "$build/examples/relay-proxy" ] ||
	die "build first: make BUILD=$build"
for t in $security; do
	[ -x "$build/tests/security/$t" ] ||
		die "build first: make BUILD=$build ($t is missing)"
done
[ -x "$build/tests/test_offload" ] ||
	die "build first: make BUILD=$build (test_offload is missing)"

apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
k61=$(newest '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$')
k612=$(newest '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64$')
[ -n "$k61" ] || die "no linux-image-6.1.0-*-cloud-amd64 in the package index"
[ -n "$k612" ] || die "no linux-image-6.12.*-cloud-amd64 in the package index"
echo "check-kernels: kernels $k61, $k612 and the host's $(uname -r)"
v61=$(kernel_image "$k61")
v612=$(kernel_image "$k612")
initramfs

echo "check-kernels: the host"
sh "$here/check.sh" "$build/lwfp" "$build/examples/relay-proxy" \
	>"$results/host.out" 2>&1 || true
boot 6.1 "$v61"
boot 6.12 "$v612"

# The table: one row per program, one column per kernel.
status=0
printf '%-20s %-8s' "program" ""
for k in 6.1 6.12 host; do printf ' %10s' "$k"; done
printf '\n'
progs=$(awk '$1 == "prog" { print $2 " " $3 }' "$results/host.out")
[ -n "$progs" ] || { cat "$results/host.out"; die "the host check listed no program"; }
echo "$progs" | while read -r prog kind; do
	printf '%-20s %-8s' "$prog" "$kind"
	for k in 6.1 6.12 host; do
		n=$(awk -v p="$prog" '$1 == "prog" && $2 == p { print $4 }' \
			"$results/$k.out" 2>/dev/null)
		printf ' %10s' "${n:-?}"
	done
	printf '\n'
done
for k in 6.1 6.12 host; do
	out=$results/$k.out
	res=$(awk '$1 == "result"' "$out" 2>/dev/null)
	ver=$(awk '$1 == "kernel" { print $2; exit }' "$out" 2>/dev/null)
	echo "$k ($ver): ${res:-result FAIL: no result (see $results/$k.log)}"
	awk '$1 == "note"' "$out" 2>/dev/null | sed 's/^/  /'
	case $res in "result ok") ;; *) status=1 ;; esac
	over=$(awk -v b="$budget" '$1 == "prog" && $4 ~ /^[0-9]+$/ && $4 + 0 > b { print $2 " " $4 }' "$out")
	missing=$(awk '$1 == "prog" && $3 == "required" && $4 == "-" { print $2 }' "$out")
	if [ -n "$over" ]; then
		echo "  over the budget of $budget instructions: $over"
		status=1
	fi
	if [ -n "$missing" ]; then
		echo "  required programs not loaded: $missing"
		status=1
	fi
	[ "$k" = host ] && continue	# make check runs the whole suite there
	ran=$(awk '$1 == "security"' "$out" 2>/dev/null)
	echo "  security: $(echo "$ran" | grep -c ' ok$') of $(echo "$security $e2e" | wc -w) passed ($(echo "$security" | wc -w) attacks, $e2e)"
	echo "$ran" | awk '$3 != "ok" { print "  " $0 }'
	if [ "$(echo "$ran" | grep -c ' ok$')" != "$(echo "$security $e2e" | wc -w)" ]; then
		status=1
	fi
	ran=$(awk '$1 == "offload" && $2 ~ /^[0-9]+$/' "$out" 2>/dev/null)
	passed=$(echo "$ran" | grep -c '^offload [0-9]* ok ' || true)
	want=$(echo $offload_cases | wc -w)
	echo "  offload (test_offload $offload_cases): $passed of $want passed"
	echo "$ran" | awk '$3 != "ok" { print "  " $0 }'
	[ "$passed" = "$want" ] || status=1
done
[ $status = 0 ] && echo "check-kernels: passed" || echo "check-kernels: FAILED"
exit $status
