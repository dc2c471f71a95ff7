// SPDX-License-Identifier: MIT
/* One-line error messages into a caller's buffer, with user input quoted
 * so that a message never spans lines whatever the input. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

/* At most n bytes of s, printable, for a message. */
struct quoted quote_n(const char *s, size_t n)
{
	struct quoted q;
	size_t len = strnlen(s, n), i;
	size_t show = len > QUOTE_MAX ? QUOTE_MAX : len;

	for (i = 0; i < show; i++) {
		unsigned char c = s[i];

		q.s[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (show < len) {
		memcpy(q.s + show, "...", 3);
		show += 3;
	}
	q.s[show] = '\0';
	return q;
}

struct quoted quote(const char *s)
{
	return quote_n(s, SIZE_MAX);
}

void clear_err(char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
}

/* Write a message into err and return ret. */
int fail(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

