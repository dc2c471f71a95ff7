#!/bin/sh
# Which include crosses which layer: every #include "..." of src/LAYER/
# must name a header of a layer LAYER may use (docs/hacking.md).
# Prints one line per crossing; exits 1 if there is any.
set -u
cd "$(dirname "$0")/.."

may_use() {
	case $1 in
	abi) echo "abi" ;;
	common) echo "abi common" ;;
	lib) echo "abi common lib" ;;
	control) echo "abi common control" ;;
	cli) echo "abi common control cli" ;;
	winsock) echo "abi common winsock" ;;
	bpf) echo "abi bpf" ;;
	*) echo "" ;;
	esac
}

# The layer that holds a header, "public" for include/, "built" for what
# the build generates (the skeleton).
owner() {
	for d in src/*/; do
		[ -f "$d$1" ] && { basename "$d"; return; }
	done
	[ -f "include/$1" ] || [ -f "include/winsock/$1" ] && { echo public; return; }
	case $1 in *.skel.h) echo built; return ;; esac
	echo unknown
}

bad=0
for dir in src/*/; do
	layer=$(basename "$dir")
	allowed=$(may_use "$layer")
	for f in "$dir"*.c "$dir"*.h; do
		[ -f "$f" ] || continue
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			o=$(owner "$h")
			case " $allowed public built " in *" $o "*) continue ;; esac
			echo "$f includes $h of $o: $layer may use $allowed"
			bad=1
		done
	done
done
[ $bad = 0 ] && echo "layers: no include crosses a layer"
exit $bad
