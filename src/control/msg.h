/* SPDX-License-Identifier: MIT */
/* One-line error messages into a caller's buffer (err, errlen). */
#ifndef LWFP_MSG_H
#define LWFP_MSG_H

#include <stddef.h>

#define QUOTE_MAX	48	/* input bytes shown in a message */

struct quoted {
	char s[QUOTE_MAX + 4];
};

/* At most n bytes of s, printable ('?' for others), "..." if cut. */
struct quoted quote_n(const char *s, size_t n);
struct quoted quote(const char *s);

void clear_err(char *err, size_t errlen);
/* Write a message into err and return ret. */
int __attribute__((format(printf, 4, 5)))
fail(int ret, char *err, size_t errlen, const char *fmt, ...);

#endif /* LWFP_MSG_H */
