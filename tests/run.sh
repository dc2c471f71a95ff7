#!/bin/sh
# Run the test suites against a build directory:
#   tests/run.sh BUILD [unit|e2e|fuzz|all]
# Unit tests need nothing; end-to-end tests need root (they load the engine
# into cgroups and network namespaces they create, and remove them after).
set -u
build=${1:-build}
what=${2:-all}
failed=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

run() {
	name=$1
	shift
	echo "=== $name"
	if "$@"; then
		echo "=== $name: ok"
	else
		echo "=== $name: FAILED"
		failed="$failed $name"
	fi
}

if [ "$what" = unit ] || [ "$what" = all ]; then
	# the structure: layers only use the layers below, functions stay short
	run "structure/layers" sh scripts/check-layers.sh
	run "structure/functions" sh scripts/check-functions.sh
	for src in tests/unit/test_*.c; do
		t=$(basename "$src" .c)
		run "unit/$t" "$build/tests/$t"
	done
fi

if [ "$what" = e2e ] || [ "$what" = all ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "end-to-end tests need root" >&2
		exit 1
	fi
	for src in tests/e2e/test_*.c; do
		t=$(basename "$src" .c)
		run "e2e/$t" "$build/tests/$t" "$build/lwfp"
	done
	for src in tests/security/test_*.c; do
		t=$(basename "$src" .c)
		run "security/$t" "$build/tests/security/$t" "$build/lwfp"
	done
	for t in tests/e2e/*.sh; do
		run "e2e/$(basename "$t" .sh)" bash "$t" "$build/lwfp" \
			"$build/examples"
	done
fi

if [ "$what" = fuzz ] || [ "$what" = all ]; then
	# a short bounded run of each harness on its seed corpus
	for f in "$build"/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus=$(mktemp -d)
		seeds="tests/fuzz/corpus/${name#fuzz_}"
		[ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
		# a crashing input lands in BUILD/fuzz-artifacts, not here
		mkdir -p "$build/fuzz-artifacts"
		run "fuzz/$name" "$f" -max_total_time="${FUZZ_SECONDS:-10}" \
			-print_final_stats=0 \
			-artifact_prefix="$build/fuzz-artifacts/$name-" "$corpus"
		rm -rf "$corpus"
	done
fi

if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "all tests passed"
