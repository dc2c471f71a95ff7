# shellcheck shell=bash
# Shared by the shell tests in tests/e2e (sourced, not run).

# The first cgroup2 mount, as lwfp finds it (field 5; the type follows "-").
cgroup2_mount() {
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") {
		if ($(i + 1) == "cgroup2") { print $5; exit } ; break } }' \
		/proc/self/mountinfo
}

# check NAME SHELL-CONDITION: one TAP line; sets fail=1 when it fails.
check() {
	if eval "$2"; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		fail=1
	fi
}

# Remove the cgroup tree $CGDIR, deepest first. What is left inside (only
# processes the calling script started: it never enters the tree itself)
# is killed by pid first. Returns non-zero if the tree could not go.
remove_cgroups() {
	local d p

	[ -n "$CGDIR" ] && [ -d "$CGDIR" ] || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		while read -r d; do
			{ while read -r p; do
				[ -n "$p" ] && [ "$p" != $$ ] && kill -9 "$p"
			done <"$d/cgroup.procs"; } 2>/dev/null
			rmdir "$d" 2>/dev/null
		done < <(find "$CGDIR" -depth -type d 2>/dev/null)
		[ -d "$CGDIR" ] || return 0
		sleep 0.2
	done
	return 1
}
