/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the redirect context decoder. Whatever decodes
 * must re-encode, and the re-encoded blob must decode to the same context.
 * Seeds: tests/fuzz/corpus/context/.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lwfp.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s\n", __FILE__,	\
				__LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

static size_t addr_len(const struct lwfp_context *c)
{
	return c->orig_dst.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6);
}

static void check_equal(const struct lwfp_context *a,
			const struct lwfp_context *b)
{
	CHECK(a->version == b->version);
	CHECK(a->orig_dst.ss_family == b->orig_dst.ss_family);
	/* The decoder zeroes first, so the whole sockaddr compares. */
	CHECK(!memcmp(&a->orig_dst, &b->orig_dst, addr_len(a)));
	CHECK(a->protocol == b->protocol);
	CHECK(a->pid == b->pid);
	CHECK(a->uid == b->uid);
	CHECK(a->gid == b->gid);
	CHECK(!memcmp(a->comm, b->comm, sizeof(a->comm)));
	CHECK(a->cgroup_id == b->cgroup_id);
	CHECK(a->rule_id == b->rule_id);
	CHECK(!memcmp(a->service, b->service, sizeof(a->service)));
	CHECK(a->timestamp_ns == b->timestamp_ns);
	CHECK(a->rule_context_len == b->rule_context_len);
	CHECK(!a->rule_context_len ||
	      !memcmp(a->rule_context, b->rule_context, a->rule_context_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[LWFP_CONTEXT_MAX_LEN];
	struct lwfp_context a, b;
	size_t len = 0, need;
	int err;

	err = lwfp_context_decode(data, size, &a);
	if (err) {
		CHECK(err == -EBADMSG || err == -EPROTO);
		return 0;
	}
	CHECK(a.orig_dst.ss_family == AF_INET ||
	      a.orig_dst.ss_family == AF_INET6);
	CHECK(memchr(a.comm, '\0', sizeof(a.comm)));
	CHECK(memchr(a.service, '\0', sizeof(a.service)));
	CHECK(!a.rule_context_len ||
	      (a.rule_context >= data &&
	       a.rule_context + a.rule_context_len <= data + size));

	/* The size query agrees with the encoding. */
	CHECK(lwfp_context_encode(&a, NULL, &len) == -ERANGE);
	CHECK(len <= sizeof(buf));
	need = len;
	len = sizeof(buf);
	CHECK(lwfp_context_encode(&a, buf, &len) == 0);
	CHECK(len == need);
	CHECK(lwfp_context_decode(buf, len, &b) == 0);
	check_equal(&a, &b);
	return 0;
}
