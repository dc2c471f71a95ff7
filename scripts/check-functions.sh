#!/bin/sh
# No function in src/ longer than MAX (80) lines of body. Kernel style:
# a body opens with "{" and closes with "}" at the start of a line.
set -u
cd "$(dirname "$0")/.."
max=${1:-80}
find src -name '*.c' -o -name '*.h' | sort | xargs awk -v max="$max" '
	FNR == 1 { sig = "" }
	/^[A-Za-z_].*\(/ && !/;[[:space:]]*$/ { sig = $0 }
	/^\{/ { start = FNR; name = sig }
	/^\}/ && start {
		n = FNR - start - 1
		if (n > max) {
			printf "%s:%d: %d lines: %s\n", FILENAME, start, n, name
			bad = 1
		}
		start = 0
	}
	END { exit bad }
' && echo "functions: none longer than $max lines"
