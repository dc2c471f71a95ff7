#!/bin/sh
# Run every benchmark against the build in BUILD and print one table of
# ratios, each against a baseline measured in the same run (also written
# to BUILD/bench/results.txt, with every benchmark's detail lines).
#
#   bench/run.sh BUILD            (as root; `make bench` does this)
#
# Knobs (environment): BENCH_ROUNDS (7 for section 1, 9 for section 3, 5 elsewhere), BENCH_T (seconds per trial, 1.0),
# BENCH_HELD (flows held open in section 4, 100000), BENCH_HELD_ROUNDS (2),
# BENCH_LAT_BLOCKS (16), BENCH_LAT_N (1500), BENCH_QN (50000),
# BENCH_BROKER_SNDBUF (section 3's lwfp broker --sndbuf; default none),
# BENCH_ONLY ("bench_conn bench_scale": run only these), BENCH_VARIANTS
# (section 3: "proxy iocp" runs only those paths; keys in bench_bulk.c).
#
# Each benchmark makes its own cgroup /lwfp-test-b*-PID, pin directory
# /sys/fs/bpf/lwfp-test-b*-PID and (for nftables) network namespace
# lwfp-bench-*-PID, and removes them when it ends, also on failure or
# SIGTERM. Only loopback addresses are used.
set -u

BUILD=${1:-build}
OUT=$BUILD/bench
LWFP=$BUILD/lwfp
BENCHES=${BENCH_ONLY:-"bench_conn bench_query bench_bulk bench_scale bench_udp"}

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: the benchmarks need root" >&2
	exit 1
fi
for b in $BENCHES; do
	if [ ! -x "$OUT/$b" ]; then
		echo "bench/run.sh: $OUT/$b missing: run 'make bench'" >&2
		exit 1
	fi
done
[ -x "$LWFP" ] || { echo "bench/run.sh: $LWFP missing" >&2; exit 1; }

rows=$OUT/rows.txt
details=$OUT/details.txt
: > "$rows"
: > "$details"
status=0
t_all=$(date +%s)

for b in $BENCHES; do
	t0=$(date +%s)
	printf '%-12s ' "$b"
	# SIGTERM lets a benchmark run its clean-up (cgroup, engine, netns)
	if timeout --signal=TERM --kill-after=30 900 \
		"$OUT/$b" "$LWFP" > "$OUT/$b.log" 2>&1; then
		echo "ok ($(( $(date +%s) - t0 )) s)"
	else
		status=1
		echo "FAILED ($(( $(date +%s) - t0 )) s), see $OUT/$b.log:"
		grep -v '^ROW|' "$OUT/$b.log" | tail -5 | sed 's/^/    /'
	fi
	grep '^ROW|' "$OUT/$b.log" >> "$rows"
	{ echo "## $b"; grep -v '^ROW|' "$OUT/$b.log"; echo; } >> "$details"
done

{
	echo "lwfp benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr)," \
	     "$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' \
	     /proc/cpuinfo | head -1)), load average at the end:" \
	     "$(cut -d' ' -f1-3 /proc/loadavg), $(( $(date +%s) - t_all )) s"
	echo "Ratios: median of per-round paired ratios (variants interleaved" \
	     "in the same run); spread: min..max over rounds."
	echo
	echo "| # | measurement | baseline | measured | ratio | spread | target | met |"
	echo "|---|---|---|---|---|---|---|---|"
	# stable sort by section number, so 5 (from bench_conn) comes last
	sort -t'|' -k2,2n -s "$rows" |
		awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			     $2, $3, $4, $5, $6, $7, $8, $9 }'
} > "$OUT/table.txt"

cat "$OUT/table.txt"
{ cat "$OUT/table.txt"; echo; echo "Details"; echo; cat "$details"; } \
	> "$OUT/results.txt"
echo
echo "written to $OUT/results.txt (details in $OUT/*.log)"
exit $status
