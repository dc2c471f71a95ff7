// SPDX-License-Identifier: MIT
/* See logline.h. */
#include <string.h>

#include "logline.h"

char *log_escape(const void *s, size_t n, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = s;
	size_t o = 0;

	if (n == (size_t)-1)
		n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		bool plain = c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';

		if (o + (plain ? 1 : 4) >= outlen)
			break;
		if (plain) {
			out[o++] = c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = '\0';
	return out;
}

void log_rate_init(struct log_rate *r, double rate, double burst)
{
	memset(r, 0, sizeof(*r));
	r->rate = rate;
	r->burst = r->tokens = burst;
	clock_gettime(CLOCK_MONOTONIC, &r->last);
}

bool log_rate_take(struct log_rate *r, FILE *out, const char *prefix)
{
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (now.tv_sec - r->last.tv_sec) +
	     (now.tv_nsec - r->last.tv_nsec) / 1e9;
	r->last = now;
	r->tokens += dt * r->rate;
	if (r->tokens > r->burst)
		r->tokens = r->burst;
	if (r->tokens < 1) {
		r->dropped++;
		return false;
	}
	r->tokens -= 1;
	if (r->dropped) {
		fprintf(out, "%s: %lu log lines dropped (more than %.0f a "
			"second)\n", prefix, r->dropped, r->rate);
		r->dropped = 0;
	}
	return true;
}
