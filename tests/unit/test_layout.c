/* SPDX-License-Identifier: MIT */
/* Unit tests for context layouts (src/common/layout.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

static uint8_t blob[LAYOUT_BLOB_MAX];
static size_t blob_len;
static char err[256];

static int compile(const char *text)
{
	err[0] = '\0';
	return layout_compile(text, strlen(text), blob, &blob_len, err,
			      sizeof(err));
}

static void values(struct layout_values *v, int family)
{
	struct sockaddr_in *o4 = (struct sockaddr_in *)&v->orig_dst;
	struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)&v->orig_dst;
	struct sockaddr_in *l4 = (struct sockaddr_in *)&v->local;

	memset(v, 0, sizeof(*v));
	if (family == AF_INET) {
		o4->sin_family = AF_INET;
		o4->sin_port = htons(8080);
		inet_pton(AF_INET, "127.0.0.9", &o4->sin_addr);
	} else {
		o6->sin6_family = AF_INET6;
		o6->sin6_port = htons(443);
		inet_pton(AF_INET6, "::1", &o6->sin6_addr);
	}
	l4->sin_family = AF_INET;
	l4->sin_port = htons(40000);
	inet_pton(AF_INET, "127.0.0.1", &l4->sin_addr);
	v->pid = 0x01020304;
	v->uid = 1000;
	v->rule_id = 7;
	v->protocol = 6;
	memcpy(v->comm, "curl", 5);
	v->rule_context = (const uint8_t *)"hello";
	v->rule_context_len = 5;
}

/* WFPSampler's context: two SOCKADDR_STORAGEs, then a process id. */
static void test_two_storages(void **state)
{
	uint8_t out[512];
	size_t len = sizeof(out);
	struct layout_values v;
	struct sockaddr_in o, l;
	uint32_t pid;

	assert_int_equal(compile("# WFPSampler\n"
				 "at 0 orig_dst sockaddr_storage\n"
				 "\n"
				 "at 128 local sockaddr_storage\n"
				 "at 256 pid u32le   # the process\n"), 0);
	values(&v, AF_INET);
	assert_int_equal(layout_render(blob, blob_len, &v, out, &len), 0);
	assert_int_equal(len, 260);
	memcpy(&o, out, sizeof(o));
	memcpy(&l, out + 128, sizeof(l));
	memcpy(&pid, out + 256, 4);
	assert_int_equal(o.sin_family, AF_INET);
	assert_int_equal(ntohs(o.sin_port), 8080);
	assert_int_equal(ntohs(l.sin_port), 40000);
	assert_int_equal(pid, 0x01020304);
}

static void test_formats(void **state)
{
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0,
					    0, 9 };
	uint8_t out[128];
	size_t len = sizeof(out);
	struct layout_values v;
	struct sockaddr_in6 s6;

	assert_int_equal(compile("size 96\n"
				 "at 0 orig_dst sockaddr_in6\n"
				 "at 28 orig_dst addr16\n"
				 "at 44 orig_dst addr4\n"
				 "at 48 orig_dst port\n"
				 "at 50 pid u32be\n"
				 "at 54 uid u16le\n"
				 "at 56 rule_id u64be\n"
				 "at 64 bytes de ad 0xbeef\n"
				 "at 68 rule_context 8\n"
				 "at 76 protocol u8\n"
				 "at 78 comm\n"), 0);
	values(&v, AF_INET);
	assert_int_equal(layout_render(blob, blob_len, &v, out, &len), 0);
	assert_int_equal(len, 96);
	memcpy(&s6, out, sizeof(s6));
	assert_int_equal(s6.sin6_family, AF_INET6);	/* IPv4 mapped */
	assert_memory_equal(&s6.sin6_addr, mapped, 16);
	assert_memory_equal(out + 28, mapped, 16);
	assert_memory_equal(out + 44, mapped + 12, 4);
	assert_int_equal(out[48] << 8 | out[49], 8080);
	assert_memory_equal(out + 50, "\x01\x02\x03\x04", 4);
	assert_memory_equal(out + 54, "\xe8\x03", 2);
	assert_memory_equal(out + 56, "\0\0\0\0\0\0\0\x07", 8);
	assert_memory_equal(out + 64, "\xde\xad\xbe\xef", 4);
	assert_memory_equal(out + 68, "hello\0\0\0", 8);	/* padded */
	assert_int_equal(out[76], 6);
	assert_memory_equal(out + 78, "curl\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(out[95], 0);
}

static void test_v6_and_small_buffer(void **state)
{
	uint8_t out[28];
	size_t len = 4;
	struct layout_values v;

	assert_int_equal(compile("at 0 orig_dst sockaddr_inet\n"
				 "at 0x1c orig_dst addr4\n"), 0);
	values(&v, AF_INET6);
	assert_int_equal(layout_render(blob, blob_len, &v, out, &len), -ERANGE);
	assert_int_equal(len, 32);
	len = sizeof(out) + 4;
	{
		uint8_t big[32];

		assert_int_equal(layout_render(blob, blob_len, &v, big, &len),
				 0);
		assert_int_equal(((struct sockaddr_in6 *)big)->sin6_family,
				 AF_INET6);
		assert_memory_equal(big + 28, "\0\0\0\0", 4); /* no IPv4 */
	}
}

/* A client seen through a dual-stack socket (v4-mapped, as a UDP
 * datagram's source or an accepted socket's peer is): addr4 is its IPv4
 * address, the sockaddrs keep the family the socket saw. */
static void test_v4_mapped_client(void **state)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 };
	struct sockaddr_in6 *l6;
	struct layout_values v;
	uint8_t out[34];
	size_t len = sizeof(out);

	assert_int_equal(compile("at 0 local addr4\n"
				 "at 4 local sockaddr_inet\n"
				 "at 32 local port\n"), 0);
	values(&v, AF_INET);
	l6 = (struct sockaddr_in6 *)&v.local;
	memset(&v.local, 0, sizeof(v.local));
	l6->sin6_family = AF_INET6;
	l6->sin6_port = htons(40000);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &l6->sin6_addr);
	assert_int_equal(layout_render(blob, blob_len, &v, out, &len), 0);
	assert_memory_equal(out, lo, 4);
	memcpy(l6, out + 4, sizeof(*l6));
	assert_int_equal(l6->sin6_family, AF_INET6);
	assert_int_equal(out[32] << 8 | out[33], 40000);
}

/* Each mistake is refused with its line named. */
static void test_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "at 0 pid u32le\nat 2 uid u32le\n", "line 2: overlaps the field of line 1" },
		{ "at 0 pid u31le\n", "line 1: a number takes" },
		{ "at 0 orig_dst u32le\n", "line 1: an address takes" },
		{ "at 0 color red\n", "line 1: no field 'color'" },
		{ "frobnicate\n", "line 1: unknown statement" },
		{ "size 4\nat 0 pid u64le\n", "size 4, but the fields end at 8" },
		{ "size 1\nsize 2\n", "line 2: size given twice" },
		{ "at 4096 pid u8\n", "line 1: 'at' wants an offset" },
		{ "at 4090 pid u64le\n", "ends past 4096" },
		{ "at 0 bytes xyz\n", "not hex bytes" },
		{ "at 0 bytes abc\n", "not hex bytes" },
		{ "at 0 bytes\n", "bytes wants hex bytes" },
		{ "at 0 rule_context 0\n", "rule_context wants a length" },
		{ "at 0 pid u32le extra\n", "unexpected 'extra'" },
		{ "# nothing\n", "no field" },
		{ "at -1 pid u8\n", "'at' wants an offset" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(compile(bad[i].text), -EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("'%s': got '%s', want '%s'", bad[i].text, err,
				 bad[i].want);
	}
}

static void test_check_refuses_garbage(void **state)
{
	uint8_t junk[64] = { 1, 2, 3 };

	assert_int_equal(layout_check(junk, sizeof(junk)), -EBADMSG);
	assert_int_equal(compile("at 0 pid u32le\n"), 0);
	assert_int_equal(layout_check(blob, blob_len), 0);
	assert_int_equal(layout_check(blob, blob_len - 1), -EBADMSG);
	blob[8 + 2] = 200;	/* the field's length, past the size */
	assert_int_equal(layout_check(blob, blob_len), -EBADMSG);
}

/* A layout described compiles back to the same blob. */
static void describe_round_trip(const char *text)
{
	static uint8_t blob[LAYOUT_BLOB_MAX], again[LAYOUT_BLOB_MAX];
	static char desc[20000];
	size_t len, len2;
	int n;

	assert_int_equal(layout_compile(text, strlen(text), blob, &len, err,
					sizeof(err)), 0);
	n = layout_describe(blob, len, desc, sizeof(desc));
	assert_true(n > 0 && (size_t)n == strlen(desc));
	assert_null(strchr(desc, '\n'));
	for (char *p = desc; (p = strchr(p, ';')); p++)
		*p = '\n';
	assert_int_equal(layout_compile(desc, strlen(desc), again, &len2, err,
					sizeof(err)), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, blob, len);
}

static void test_describe(void **state)
{
	char small[8];
	uint8_t blob[LAYOUT_BLOB_MAX];
	size_t len;

	describe_round_trip("at 0 orig_dst sockaddr_storage\nat 128 local "
			    "sockaddr_in6\nat 160 pid u32le\nat 164 uid u16be\n"
			    "at 166 gid u8\nat 168 rule_id u64be\n"
			    "at 176 protocol u64le\nat 184 comm\n");
	describe_round_trip("size 300\nat 0 bytes de ad 0xbeef\nat 8 rule_context 12\n"
			    "at 20 orig_dst addr4\nat 24 orig_dst port\n"
			    "at 30 local addr16\nat 50 local sockaddr_inet\n"
			    "at 100 bytes 00ff\n");
	assert_int_equal(layout_compile("at 0 pid u32le", 14, blob, &len, err,
					sizeof(err)), 0);
	/* too small: the length needed, cut and terminated */
	assert_int_equal(layout_describe(blob, len, small, sizeof(small)),
			 strlen("size 4; at 0 pid u32le"));
	assert_string_equal(small, "size 4;");
	blob[0] ^= 1;
	assert_int_equal(layout_describe(blob, len, small, sizeof(small)),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_storages),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_v6_and_small_buffer),
		cmocka_unit_test(test_v4_mapped_client),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_check_refuses_garbage),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
