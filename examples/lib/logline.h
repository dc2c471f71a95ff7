/* SPDX-License-Identifier: MIT */
/*
 * Log lines a hostile client cannot bend: what it controls (its process
 * name, the bytes it sent) is escaped, and a flood of lines is cut to a
 * steady rate, the lines dropped counted and said.
 */
#ifndef LWFP_LOGLINE_H
#define LWFP_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

/*
 * s (n bytes, or up to its NUL if n is (size_t)-1) as printable ASCII:
 * '"', '\\' and every byte outside 0x20-0x7e become \xNN. Truncated to
 * fit out (outlen > 0), never in the middle of an escape. Returns out.
 */
char *log_escape(const void *s, size_t n, char *out, size_t outlen);
/* Room for the escape of n bytes, and its NUL. */
#define LOG_ESCAPED_LEN(n)	(4 * (n) + 1)

/* A token bucket: burst lines at once, then rate a second. */
struct log_rate {
	double rate, burst, tokens;
	struct timespec last;
	unsigned long dropped;
};

void log_rate_init(struct log_rate *r, double rate, double burst);
/*
 * May a line be written now? If so, and lines were dropped since the last
 * one, says how many on out first (with prefix). Each call that returns
 * false counts one dropped line.
 */
bool log_rate_take(struct log_rate *r, FILE *out, const char *prefix);

#endif /* LWFP_LOGLINE_H */
