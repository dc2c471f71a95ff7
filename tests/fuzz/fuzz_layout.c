// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for context layouts (src/common/layout.c).
 *
 * The input is layout text. What compiles must check as well formed and
 * render, in its size exactly, for an IPv4 and an IPv6 flow; a failure
 * must say which line. The raw input is also checked and rendered as a
 * compiled layout, which must be refused or render without overrunning.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwfp_abi.h"
#include "layout.h"

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void render_both(const void *blob, size_t len, int must)
{
	struct layout_values v;
	uint8_t *out = malloc(LWFP_RULE_CTX_MAX);
	size_t n;
	int ret;

	memset(&v, 0, sizeof(v));
	v.rule_context = (const uint8_t *)"ctx";
	v.rule_context_len = 3;
	for (int fam = 0; fam < 2; fam++) {
		v.orig_dst.ss_family = fam ? AF_INET6 : AF_INET;
		v.local.ss_family = fam ? AF_INET6 : AF_INET;
		n = LWFP_RULE_CTX_MAX;
		ret = layout_render(blob, len, &v, out, &n);
		CHECK(!must || !ret);
		CHECK(ret || (n >= 1 && n <= LWFP_RULE_CTX_MAX));
	}
	free(out);
}

/* Described, with "; " as lines, it compiles to the same blob. */
static void describe_again(const uint8_t *blob, size_t len)
{
	static char text[LAYOUT_BLOB_MAX * 3 + 64];
	static uint8_t again[LAYOUT_BLOB_MAX];
	char err[256];
	size_t len2 = 0;
	int n = layout_describe(blob, len, text, sizeof(text));

	CHECK(n > 0 && (size_t)n < sizeof(text));
	for (char *p = text; (p = strchr(p, ';')); p++)
		*p = '\n';
	CHECK(!layout_compile(text, n, again, &len2, err, sizeof(err)));
	CHECK(len2 == len && !memcmp(again, blob, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t blob[LAYOUT_BLOB_MAX];
	char err[256] = "";
	size_t len = 0;
	int ret;

	ret = layout_compile((const char *)data, size, blob, &len, err,
			     sizeof(err));
	if (ret) {
		CHECK(ret == -EINVAL || ret == -ENOMEM);
		CHECK(ret == -ENOMEM || !strncmp(err, "line ", 5));
		CHECK(!strchr(err, '\n'));
	} else {
		CHECK(len >= sizeof(struct lwfp_layout) && len <= sizeof(blob));
		CHECK(!layout_check(blob, len));
		render_both(blob, len, 1);
		describe_again(blob, len);
	}
	if (size <= LAYOUT_BLOB_MAX && !layout_check(data, size))
		render_both(data, size, 1);
	else if (size <= LAYOUT_BLOB_MAX)
		render_both(data, size, 0);
	return 0;
}
