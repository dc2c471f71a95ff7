/* SPDX-License-Identifier: MIT */
/* Unit tests for the redirect context codec (src/context.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lwfp.h"
#include "lwfp_abi.h"

/* cmocka hands every test a state pointer; most of these do not use it. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* ---- helpers ----------------------------------------------------------- */

static uint8_t rule_ctx_data[LWFP_RULE_CTX_MAX + 1];

static void fill_rule_ctx(void)
{
	for (size_t i = 0; i < sizeof(rule_ctx_data); i++)
		rule_ctx_data[i] = (uint8_t)(i * 7 + 1);
}

static void make_v4(struct lwfp_context *ctx)
{
	struct sockaddr_in *sin = (void *)&ctx->orig_dst;

	memset(ctx, 0, sizeof(*ctx));
	ctx->version = LWFP_CTX_VERSION;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(443);
	inet_pton(AF_INET, "93.184.216.34", &sin->sin_addr);
	ctx->protocol = IPPROTO_TCP;
	ctx->pid = 4242;
	ctx->uid = 1000;
	ctx->gid = 1000;
	strcpy(ctx->comm, "curl");
	ctx->cgroup_id = 7829;
	ctx->rule_id = 3;
	strcpy(ctx->service, "proxy");
	ctx->timestamp_ns = 1700000000123456789ull;
}

static void make_v6(struct lwfp_context *ctx)
{
	struct sockaddr_in6 *sin6 = (void *)&ctx->orig_dst;

	memset(ctx, 0, sizeof(*ctx));
	ctx->version = LWFP_CTX_VERSION;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(8443);
	inet_pton(AF_INET6, "2001:db8::1:2:3", &sin6->sin6_addr);
	ctx->protocol = IPPROTO_TCP;
	ctx->pid = 0x01020304;
	ctx->uid = 0xfffffffe;
	ctx->gid = 0x80000000;
	strcpy(ctx->comm, "fifteen-chars-x");	/* the longest comm */
	ctx->cgroup_id = 0x0102030405060708ull;
	ctx->rule_id = 0xdeadbeef;
	/* the longest service name */
	strcpy(ctx->service, "a-service-name-of-31-characters");
	ctx->timestamp_ns = UINT64_MAX;
}

static void assert_ctx_equal(const struct lwfp_context *a,
			     const struct lwfp_context *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->orig_dst.ss_family, b->orig_dst.ss_family);
	if (a->orig_dst.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->orig_dst;
		const struct sockaddr_in *y = (const void *)&b->orig_dst;

		assert_int_equal(x->sin_port, y->sin_port);
		assert_memory_equal(&x->sin_addr, &y->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *x = (const void *)&a->orig_dst;
		const struct sockaddr_in6 *y = (const void *)&b->orig_dst;

		assert_int_equal(x->sin6_port, y->sin6_port);
		assert_memory_equal(&x->sin6_addr, &y->sin6_addr, 16);
	}
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_string_equal(a->comm, b->comm);
	assert_int_equal(a->cgroup_id, b->cgroup_id);
	assert_int_equal(a->rule_id, b->rule_id);
	assert_string_equal(a->service, b->service);
	assert_int_equal(a->timestamp_ns, b->timestamp_ns);
	assert_int_equal(a->rule_context_len, b->rule_context_len);
	if (a->rule_context_len)
		assert_memory_equal(a->rule_context, b->rule_context,
				    a->rule_context_len);
}

static void round_trip(const struct lwfp_context *in, size_t want_len)
{
	uint8_t buf[LWFP_CONTEXT_MAX_LEN];
	struct lwfp_context out;
	size_t len = sizeof(buf);

	assert_int_equal(lwfp_context_encode(in, buf, &len), 0);
	assert_int_equal(len, want_len);
	assert_int_equal(lwfp_context_decode(buf, len, &out), 0);
	assert_ctx_equal(in, &out);
	if (out.rule_context_len) {
		/* It points into the decoded buffer, not at a copy. */
		assert_true(out.rule_context >= buf &&
			    out.rule_context + out.rule_context_len <=
			    buf + len);
	} else {
		assert_null(out.rule_context);
	}
}

/* Hand-built blobs, for what the encoder will not produce. */
struct blob {
	uint8_t b[8192];
	size_t len;
};

static void put(struct blob *b, const void *p, size_t n)
{
	assert_true(b->len + n <= sizeof(b->b));
	memcpy(b->b + b->len, p, n);
	b->len += n;
}

static void put16(struct blob *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(b, x, 2);
}

static void blob_init(struct blob *b, uint8_t version)
{
	b->len = 0;
	put(b, "LWFC", 4);
	put(b, &version, 1);
	put(b, "\0", 1);
	put16(b, 0);		/* set by blob_done() */
}

static void blob_tlv(struct blob *b, uint16_t type, const void *v, size_t n)
{
	put16(b, type);
	put16(b, (uint16_t)n);
	put(b, v, n);
}

/* family(1) proto(1) port(2) addr(alen) */
static void blob_orig(struct blob *b, uint8_t family, size_t alen)
{
	uint8_t v[4 + 16 + 8] = { family, IPPROTO_TCP, 0x01, 0xbb,
				  127, 0, 0, 1 };

	blob_tlv(b, LWFP_CTX_ORIG_DST, v, 4 + alen);
}

static void blob_done(struct blob *b)
{
	b->b[6] = (uint8_t)(b->len >> 8);
	b->b[7] = (uint8_t)b->len;
}

/* A valid blob: header and an IPv4 ORIG_DST, more TLVs to follow. */
static void blob_min(struct blob *b)
{
	blob_init(b, LWFP_CTX_VERSION);
	blob_orig(b, AF_INET, 4);
}

static int decode_blob(struct blob *b)
{
	struct lwfp_context ctx;

	blob_done(b);
	return lwfp_context_decode(b->b, b->len, &ctx);
}

/* ---- encoding ---------------------------------------------------------- */

/*
 * The exact bytes of make_v4(); docs/context.md shows the same dump.
 * 8 header + 12 ORIG_DST + 3 * 8 u32s + 8 COMM + 12 CGROUP_ID + 8 RULE_ID +
 * 9 SERVICE + 12 TIMESTAMP = 93.
 */
static const uint8_t golden_v4[] = {
	0x4c, 0x57, 0x46, 0x43, 0x01, 0x00, 0x00, 0x5d,
	0x00, 0x01, 0x00, 0x08, 0x02, 0x06, 0x01, 0xbb, 0x5d, 0xb8, 0xd8, 0x22,
	0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x10, 0x92,
	0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0xe8,
	0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x03, 0xe8,
	0x00, 0x05, 0x00, 0x04, 'c', 'u', 'r', 'l',
	0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x1e, 0x95,
	0x00, 0x07, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03,
	0x00, 0x08, 0x00, 0x05, 'p', 'r', 'o', 'x', 'y',
	0x00, 0x09, 0x00, 0x08, 0x17, 0x97, 0x9c, 0xfe,
	0x3d, 0x85, 0xcd, 0x15,
};

static void test_encode_golden_v4(void **state)
{
	struct lwfp_context ctx;
	uint8_t buf[256];
	size_t len = sizeof(buf);

	make_v4(&ctx);
	assert_int_equal(lwfp_context_encode(&ctx, buf, &len), 0);
	assert_int_equal(len, sizeof(golden_v4));
	assert_memory_equal(buf, golden_v4, sizeof(golden_v4));
}

static void test_round_trip_v4(void **state)
{
	struct lwfp_context ctx;

	make_v4(&ctx);
	round_trip(&ctx, sizeof(golden_v4));
}

static void test_round_trip_v4_rule_ctx(void **state)
{
	struct lwfp_context ctx;

	make_v4(&ctx);
	ctx.rule_context = rule_ctx_data;
	ctx.rule_context_len = 100;
	round_trip(&ctx, sizeof(golden_v4) + 4 + 100);
}

static void test_round_trip_v6(void **state)
{
	struct lwfp_context ctx;

	make_v6(&ctx);
	/* 8 + (4+20) + 3*8 + (4+15) + 12 + 8 + (4+31) + 12 */
	round_trip(&ctx, 142);
}

static void test_round_trip_v6_rule_ctx(void **state)
{
	struct lwfp_context ctx;

	make_v6(&ctx);
	ctx.rule_context = rule_ctx_data;
	ctx.rule_context_len = 1;
	round_trip(&ctx, 142 + 4 + 1);
}

static void test_round_trip_empty_names(void **state)
{
	struct lwfp_context ctx;

	make_v4(&ctx);
	ctx.comm[0] = '\0';
	ctx.service[0] = '\0';
	/* COMM is written empty, SERVICE left out. */
	round_trip(&ctx, sizeof(golden_v4) - 4 - 9);
}

static void test_rule_ctx_max(void **state)
{
	uint8_t buf[LWFP_CONTEXT_MAX_LEN + 16];
	struct lwfp_context ctx;
	size_t len = sizeof(buf);

	make_v6(&ctx);
	ctx.rule_context = rule_ctx_data;
	ctx.rule_context_len = LWFP_RULE_CONTEXT_MAX;
	/* Every field at its largest: exactly the documented maximum. */
	round_trip(&ctx, LWFP_CONTEXT_MAX_LEN);

	ctx.rule_context_len = LWFP_RULE_CONTEXT_MAX + 1;
	assert_int_equal(lwfp_context_encode(&ctx, buf, &len), -EINVAL);
	assert_int_equal(len, sizeof(buf));
}

static void test_encode_size_query(void **state)
{
	uint8_t buf[sizeof(golden_v4)];
	struct lwfp_context ctx;
	size_t len = 0;

	make_v4(&ctx);
	assert_int_equal(lwfp_context_encode(&ctx, NULL, &len), -ERANGE);
	assert_int_equal(len, sizeof(golden_v4));

	/* Too small by one: nothing written, the size needed returned. */
	memset(buf, 0xa5, sizeof(buf));
	len = sizeof(buf) - 1;
	assert_int_equal(lwfp_context_encode(&ctx, buf, &len), -ERANGE);
	assert_int_equal(len, sizeof(golden_v4));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5);

	len = 0;
	assert_int_equal(lwfp_context_encode(&ctx, buf, &len), -ERANGE);
	assert_int_equal(len, sizeof(golden_v4));

	len = sizeof(buf);
	assert_int_equal(lwfp_context_encode(&ctx, buf, &len), 0);
	assert_int_equal(len, sizeof(golden_v4));
}

static void expect_encode_einval(const struct lwfp_context *ctx)
{
	uint8_t buf[LWFP_CONTEXT_MAX_LEN];
	size_t len = sizeof(buf);

	assert_int_equal(lwfp_context_encode(ctx, buf, &len), -EINVAL);
	assert_int_equal(len, sizeof(buf));
	len = 0;
	assert_int_equal(lwfp_context_encode(ctx, NULL, &len), -EINVAL);
}

static void test_encode_invalid(void **state)
{
	uint8_t buf[LWFP_CONTEXT_MAX_LEN];
	struct lwfp_context ctx;
	size_t len = sizeof(buf);

	make_v4(&ctx);
	assert_int_equal(lwfp_context_encode(NULL, buf, &len), -EINVAL);
	assert_int_equal(lwfp_context_encode(&ctx, buf, NULL), -EINVAL);
	/* A size without a buffer. */
	assert_int_equal(lwfp_context_encode(&ctx, NULL, &len), -EINVAL);

	make_v4(&ctx);
	ctx.orig_dst.ss_family = AF_UNSPEC;
	expect_encode_einval(&ctx);
	ctx.orig_dst.ss_family = AF_UNIX;
	expect_encode_einval(&ctx);

	make_v4(&ctx);
	memset(ctx.comm, 'x', sizeof(ctx.comm));
	expect_encode_einval(&ctx);

	make_v4(&ctx);
	memset(ctx.service, 'x', sizeof(ctx.service));
	expect_encode_einval(&ctx);

	make_v4(&ctx);
	ctx.rule_context = NULL;
	ctx.rule_context_len = 1;
	expect_encode_einval(&ctx);

	make_v4(&ctx);
	ctx.protocol = 256;
	expect_encode_einval(&ctx);
	ctx.protocol = -1;
	expect_encode_einval(&ctx);
}

static void test_encode_ignores_version(void **state)
{
	uint8_t buf[256];
	struct lwfp_context ctx;
	size_t len = sizeof(buf);

	/* The encoder always writes the version it implements. */
	make_v4(&ctx);
	ctx.version = 0;
	assert_int_equal(lwfp_context_encode(&ctx, buf, &len), 0);
	assert_memory_equal(buf, golden_v4, sizeof(golden_v4));
}

/* ---- decoding ---------------------------------------------------------- */

static void test_decode_fields(void **state)
{
	const struct sockaddr_in *sin;
	struct lwfp_context ctx;

	memset(&ctx, 0xff, sizeof(ctx));
	assert_int_equal(lwfp_context_decode(golden_v4, sizeof(golden_v4),
					     &ctx), 0);
	sin = (const void *)&ctx.orig_dst;
	assert_int_equal(ctx.version, 1);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 443);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x5db8d822);
	/* zeroed before filling */
	assert_int_equal(((const uint8_t *)sin)[sizeof(*sin) - 1], 0);
	assert_int_equal(ctx.protocol, IPPROTO_TCP);
	assert_int_equal(ctx.pid, 4242);
	assert_int_equal(ctx.uid, 1000);
	assert_int_equal(ctx.gid, 1000);
	assert_string_equal(ctx.comm, "curl");
	assert_int_equal(ctx.comm[15], 0);
	assert_int_equal(ctx.cgroup_id, 7829);
	assert_int_equal(ctx.rule_id, 3);
	assert_string_equal(ctx.service, "proxy");
	assert_int_equal(ctx.service[31], 0);
	assert_int_equal(ctx.timestamp_ns, 1700000000123456789ull);
	assert_null(ctx.rule_context);
	assert_int_equal(ctx.rule_context_len, 0);
}

static void test_decode_invalid_args(void **state)
{
	struct lwfp_context ctx;

	assert_int_equal(lwfp_context_decode(golden_v4, sizeof(golden_v4),
					     NULL), -EINVAL);
	assert_int_equal(lwfp_context_decode(NULL, 10, &ctx), -EINVAL);
	assert_int_equal(lwfp_context_decode(NULL, 0, &ctx), -EBADMSG);
}

/* Offsets at which a TLV ends (so a cut there is a well-formed blob). */
static int tlv_boundary(const uint8_t *b, size_t len, size_t cut)
{
	size_t off = LWFP_CTX_HDR_LEN;

	while (off < len) {
		off += LWFP_TLV_HDR_LEN + (b[off + 2] << 8 | b[off + 3]);
		if (off == cut)
			return 1;
	}
	return 0;
}

static void test_decode_truncated(void **state)
{
	uint8_t buf[LWFP_CONTEXT_MAX_LEN];
	struct lwfp_context ctx, ref;
	size_t len = sizeof(buf);
	size_t orig_end = LWFP_CTX_HDR_LEN + LWFP_TLV_HDR_LEN + 20;

	make_v6(&ref);
	ref.rule_context = rule_ctx_data;
	ref.rule_context_len = 33;
	assert_int_equal(lwfp_context_encode(&ref, buf, &len), 0);

	for (size_t n = 0; n < len; n++) {
		/* A copy of exactly n bytes, so ASan sees any overread. */
		uint8_t *cut = malloc(n ? n : 1);

		assert_non_null(cut);
		memcpy(cut, buf, n);
		assert_int_equal(lwfp_context_decode(cut, n, &ctx), -EBADMSG);

		/* The length field agreeing with the cut: only cuts between
		 * TLVs (after ORIG_DST) are well formed. */
		if (n >= LWFP_CTX_HDR_LEN) {
			cut[6] = (uint8_t)(n >> 8);
			cut[7] = (uint8_t)n;
			assert_int_equal(lwfp_context_decode(cut, n, &ctx),
					 n >= orig_end &&
					 tlv_boundary(buf, len, n) ?
					 0 : -EBADMSG);
		}
		free(cut);
	}
}

static void test_decode_trailing_ignored(void **state)
{
	uint8_t buf[sizeof(golden_v4) + 16];
	struct lwfp_context a, b;

	memcpy(buf, golden_v4, sizeof(golden_v4));
	memset(buf + sizeof(golden_v4), 0xee, 16);
	assert_int_equal(lwfp_context_decode(golden_v4, sizeof(golden_v4),
					     &a), 0);
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &b), 0);
	assert_ctx_equal(&a, &b);
}

static void test_decode_bad_length_field(void **state)
{
	uint8_t buf[sizeof(golden_v4)];
	struct lwfp_context ctx;

	memcpy(buf, golden_v4, sizeof(buf));
	for (unsigned int total = 0; total < LWFP_CTX_HDR_LEN; total++) {
		buf[7] = (uint8_t)total;
		assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
				 -EBADMSG);
	}
	buf[7] = sizeof(buf) + 1;
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
			 -EBADMSG);
	buf[6] = 0xff;
	buf[7] = 0xff;
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
			 -EBADMSG);
}

static void test_decode_bad_magic(void **state)
{
	uint8_t buf[sizeof(golden_v4)];
	struct lwfp_context ctx;

	for (int i = 0; i < 4; i++) {
		memcpy(buf, golden_v4, sizeof(buf));
		buf[i] ^= 0x20;		/* "lWFC", "LwFC", ... */
		assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
				 -EBADMSG);
	}
	/* The records magic is not a context. */
	memcpy(buf, golden_v4, sizeof(buf));
	memcpy(buf, "LWFR", 4);
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
			 -EBADMSG);
}

static void test_decode_version(void **state)
{
	uint8_t buf[sizeof(golden_v4)];
	struct lwfp_context ctx;
	struct blob b;

	memcpy(buf, golden_v4, sizeof(buf));
	buf[4] = 0;
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
			 -EBADMSG);
	buf[4] = LWFP_CTX_VERSION + 1;
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
			 -EPROTO);
	buf[4] = 0xff;
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
			 -EPROTO);

	/* A newer version is reported as such even if its body is not
	 * what this version would accept. */
	blob_init(&b, LWFP_CTX_VERSION + 1);
	put(&b, "\xff\xff\xff", 3);
	b.b[6] = 0xff;
	b.b[7] = 0xff;
	assert_int_equal(lwfp_context_decode(b.b, b.len, &ctx), -EPROTO);
}

static void test_decode_reserved_ignored(void **state)
{
	uint8_t buf[sizeof(golden_v4)];
	struct lwfp_context ctx;

	memcpy(buf, golden_v4, sizeof(buf));
	buf[5] = 0x5a;
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx), 0);
}

static void test_decode_duplicate(void **state)
{
	uint8_t buf[LWFP_CONTEXT_MAX_LEN];
	struct lwfp_context ctx;
	size_t len = sizeof(buf);
	size_t off = LWFP_CTX_HDR_LEN;
	int dups = 0;

	make_v4(&ctx);
	ctx.rule_context = rule_ctx_data;
	ctx.rule_context_len = 8;
	assert_int_equal(lwfp_context_encode(&ctx, buf, &len), 0);

	/* Append a copy of each TLV in turn. */
	while (off < len) {
		size_t n = LWFP_TLV_HDR_LEN + (buf[off + 2] << 8 |
					       buf[off + 3]);
		struct blob b;

		b.len = 0;
		put(&b, buf, len);
		put(&b, buf + off, n);
		assert_int_equal(decode_blob(&b), -EBADMSG);
		off += n;
		dups++;
	}
	assert_int_equal(dups, 10);
}

static void test_decode_unknown_skipped(void **state)
{
	static const uint16_t types[] = { 0, 11, 0x100, 0x7fff, 0xffff };
	struct lwfp_context ref, ctx;
	struct blob b;

	assert_int_equal(lwfp_context_decode(golden_v4, sizeof(golden_v4),
					     &ref), 0);
	/* Unknown TLVs first, between and after the known ones; repeated. */
	b.len = 0;
	put(&b, golden_v4, LWFP_CTX_HDR_LEN);
	for (size_t i = 0; i < 5; i++)
		blob_tlv(&b, types[i], "\x01\x02\x03\x04\x05", i);
	put(&b, golden_v4 + LWFP_CTX_HDR_LEN, 20 - LWFP_CTX_HDR_LEN);
	blob_tlv(&b, 11, "", 0);
	blob_tlv(&b, 11, "\0\0\0", 3);
	put(&b, golden_v4 + 20, sizeof(golden_v4) - 20);
	/* over the RULE_CTX limit */
	blob_tlv(&b, 0xffff, rule_ctx_data, sizeof(rule_ctx_data));
	blob_done(&b);
	assert_int_equal(lwfp_context_decode(b.b, b.len, &ctx), 0);
	assert_ctx_equal(&ref, &ctx);

	/* An unknown TLV still may not run past the end. */
	blob_min(&b);
	put16(&b, 12);
	put16(&b, 5);
	put(&b, "abcd", 4);
	assert_int_equal(decode_blob(&b), -EBADMSG);
}

static void test_decode_missing_orig_dst(void **state)
{
	struct blob b;

	blob_init(&b, LWFP_CTX_VERSION);
	assert_int_equal(decode_blob(&b), -EBADMSG);

	blob_init(&b, LWFP_CTX_VERSION);
	blob_tlv(&b, LWFP_CTX_PID, "\0\0\0\1", 4);
	assert_int_equal(decode_blob(&b), -EBADMSG);

	/* ORIG_DST alone is enough. */
	blob_min(&b);
	assert_int_equal(decode_blob(&b), 0);
}

static void test_decode_tlv_overrun(void **state)
{
	struct blob b;

	/* 1..3 bytes of a TLV header */
	for (size_t n = 1; n < LWFP_TLV_HDR_LEN; n++) {
		blob_min(&b);
		put(&b, "\0\2\0\4", n);
		assert_int_equal(decode_blob(&b), -EBADMSG);
	}
	/* a value one byte past the end */
	blob_min(&b);
	put(&b, "\0\2\0\5\0\0\0\0\0", 8);
	assert_int_equal(decode_blob(&b), -EBADMSG);
	blob_min(&b);
	put(&b, "\0\2\xff\xff", 4);
	assert_int_equal(decode_blob(&b), -EBADMSG);
}

static int decode_with(uint16_t type, const void *v, size_t n)
{
	struct blob b;

	blob_min(&b);
	blob_tlv(&b, type, v, n);
	return decode_blob(&b);
}

static void test_decode_fixed_sizes(void **state)
{
	static const uint16_t u32s[] = { LWFP_CTX_PID, LWFP_CTX_UID,
					 LWFP_CTX_GID, LWFP_CTX_RULE_ID };
	static const uint16_t u64s[] = { LWFP_CTX_CGROUP_ID,
					  LWFP_CTX_TIMESTAMP };
	static const uint8_t zero[32];

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(decode_with(u32s[i], zero, 4), 0);
		assert_int_equal(decode_with(u32s[i], zero, 0), -EBADMSG);
		assert_int_equal(decode_with(u32s[i], zero, 3), -EBADMSG);
		assert_int_equal(decode_with(u32s[i], zero, 5), -EBADMSG);
		assert_int_equal(decode_with(u32s[i], zero, 8), -EBADMSG);
	}
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(decode_with(u64s[i], zero, 8), 0);
		assert_int_equal(decode_with(u64s[i], zero, 0), -EBADMSG);
		assert_int_equal(decode_with(u64s[i], zero, 4), -EBADMSG);
		assert_int_equal(decode_with(u64s[i], zero, 7), -EBADMSG);
		assert_int_equal(decode_with(u64s[i], zero, 9), -EBADMSG);
		assert_int_equal(decode_with(u64s[i], zero, 16), -EBADMSG);
	}
}

static int decode_orig(uint8_t family, size_t alen)
{
	struct blob b;

	blob_init(&b, LWFP_CTX_VERSION);
	blob_orig(&b, family, alen);
	return decode_blob(&b);
}

static void test_decode_orig_dst(void **state)
{
	struct lwfp_context ctx;
	const struct sockaddr_in6 *sin6 = (const void *)&ctx.orig_dst;
	struct blob b;

	assert_int_equal(decode_orig(AF_INET, 4), 0);
	assert_int_equal(decode_orig(AF_INET6, 16), 0);
	/* length and family must agree */
	assert_int_equal(decode_orig(AF_INET, 16), -EBADMSG);
	assert_int_equal(decode_orig(AF_INET6, 4), -EBADMSG);
	assert_int_equal(decode_orig(AF_INET, 3), -EBADMSG);
	assert_int_equal(decode_orig(AF_INET, 5), -EBADMSG);
	assert_int_equal(decode_orig(AF_INET6, 15), -EBADMSG);
	assert_int_equal(decode_orig(AF_INET6, 17), -EBADMSG);
	assert_int_equal(decode_orig(AF_UNSPEC, 4), -EBADMSG);
	assert_int_equal(decode_orig(AF_UNIX, 4), -EBADMSG);
	assert_int_equal(decode_orig(AF_UNSPEC, 16), -EBADMSG);
	blob_init(&b, LWFP_CTX_VERSION);
	blob_tlv(&b, LWFP_CTX_ORIG_DST, "", 0);
	assert_int_equal(decode_blob(&b), -EBADMSG);

	/* family, protocol and port as sent */
	blob_init(&b, LWFP_CTX_VERSION);
	blob_tlv(&b, LWFP_CTX_ORIG_DST,
		 "\x0a\x11\x1f\x90" "\x20\x01\x0d\xb8" "\0\0\0\0\0\0\0\0"
		 "\0\0\0\x01", 20);
	blob_done(&b);
	assert_int_equal(lwfp_context_decode(b.b, b.len, &ctx), 0);
	assert_int_equal(ctx.orig_dst.ss_family, AF_INET6);
	assert_int_equal(ctx.protocol, 17);
	assert_int_equal(ntohs(sin6->sin6_port), 8080);
	assert_int_equal(sin6->sin6_addr.s6_addr[0], 0x20);
	assert_int_equal(sin6->sin6_addr.s6_addr[15], 1);
}

static void test_decode_names(void **state)
{
	struct lwfp_context ctx;
	char s[40];
	struct blob b;

	memset(s, 'n', sizeof(s));
	assert_int_equal(decode_with(LWFP_CTX_COMM, s, 0), 0);
	assert_int_equal(decode_with(LWFP_CTX_COMM, s, 15), 0);
	assert_int_equal(decode_with(LWFP_CTX_COMM, s, 16), -EBADMSG);
	assert_int_equal(decode_with(LWFP_CTX_COMM, s, 40), -EBADMSG);
	assert_int_equal(decode_with(LWFP_CTX_SERVICE, s, 0), -EBADMSG);
	assert_int_equal(decode_with(LWFP_CTX_SERVICE, s, 1), 0);
	assert_int_equal(decode_with(LWFP_CTX_SERVICE, s, 31), 0);
	assert_int_equal(decode_with(LWFP_CTX_SERVICE, s, 32), -EBADMSG);
	/* no NUL inside */
	assert_int_equal(decode_with(LWFP_CTX_COMM, "ab\0c", 4), -EBADMSG);
	assert_int_equal(decode_with(LWFP_CTX_COMM, "abc\0", 4), -EBADMSG);
	assert_int_equal(decode_with(LWFP_CTX_SERVICE, "\0", 1), -EBADMSG);

	blob_min(&b);
	blob_tlv(&b, LWFP_CTX_COMM, s, 15);
	blob_tlv(&b, LWFP_CTX_SERVICE, s, 31);
	blob_done(&b);
	assert_int_equal(lwfp_context_decode(b.b, b.len, &ctx), 0);
	assert_int_equal(strlen(ctx.comm), 15);
	assert_int_equal(strlen(ctx.service), 31);
}

static void test_decode_rule_ctx(void **state)
{
	struct lwfp_context ctx;
	struct blob b;

	assert_int_equal(decode_with(LWFP_CTX_RULE_CTX, rule_ctx_data,
				     LWFP_RULE_CTX_MAX), 0);
	assert_int_equal(decode_with(LWFP_CTX_RULE_CTX, rule_ctx_data,
				     LWFP_RULE_CTX_MAX + 1), -EBADMSG);

	/* Empty decodes as absent. */
	blob_min(&b);
	blob_tlv(&b, LWFP_CTX_RULE_CTX, "", 0);
	blob_done(&b);
	assert_int_equal(lwfp_context_decode(b.b, b.len, &ctx), 0);
	assert_null(ctx.rule_context);
	assert_int_equal(ctx.rule_context_len, 0);

	blob_min(&b);
	blob_tlv(&b, LWFP_CTX_RULE_CTX, "xyz", 3);
	blob_done(&b);
	assert_int_equal(lwfp_context_decode(b.b, b.len, &ctx), 0);
	assert_ptr_equal(ctx.rule_context, b.b + b.len - 3);
	assert_int_equal(ctx.rule_context_len, 3);
}

static void test_decode_failure_leaves_ctx(void **state)
{
	uint8_t buf[sizeof(golden_v4)];
	struct lwfp_context ctx, before;

	memset(&ctx, 0x3c, sizeof(ctx));
	before = ctx;
	memcpy(buf, golden_v4, sizeof(buf));
	buf[sizeof(buf) - 9] = 4;	/* TIMESTAMP (last) length 8 -> 4 */
	assert_int_equal(lwfp_context_decode(buf, sizeof(buf), &ctx),
			 -EBADMSG);
	assert_memory_equal(&ctx, &before, sizeof(ctx));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_golden_v4),
		cmocka_unit_test(test_round_trip_v4),
		cmocka_unit_test(test_round_trip_v4_rule_ctx),
		cmocka_unit_test(test_round_trip_v6),
		cmocka_unit_test(test_round_trip_v6_rule_ctx),
		cmocka_unit_test(test_round_trip_empty_names),
		cmocka_unit_test(test_rule_ctx_max),
		cmocka_unit_test(test_encode_size_query),
		cmocka_unit_test(test_encode_invalid),
		cmocka_unit_test(test_encode_ignores_version),
		cmocka_unit_test(test_decode_fields),
		cmocka_unit_test(test_decode_invalid_args),
		cmocka_unit_test(test_decode_truncated),
		cmocka_unit_test(test_decode_trailing_ignored),
		cmocka_unit_test(test_decode_bad_length_field),
		cmocka_unit_test(test_decode_bad_magic),
		cmocka_unit_test(test_decode_version),
		cmocka_unit_test(test_decode_reserved_ignored),
		cmocka_unit_test(test_decode_duplicate),
		cmocka_unit_test(test_decode_unknown_skipped),
		cmocka_unit_test(test_decode_missing_orig_dst),
		cmocka_unit_test(test_decode_tlv_overrun),
		cmocka_unit_test(test_decode_fixed_sizes),
		cmocka_unit_test(test_decode_orig_dst),
		cmocka_unit_test(test_decode_names),
		cmocka_unit_test(test_decode_rule_ctx),
		cmocka_unit_test(test_decode_failure_leaves_ctx),
	};

	fill_rule_ctx();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
