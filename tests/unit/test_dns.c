/* SPDX-License-Identifier: MIT */
/* Unit tests for the DNS question parser (examples/lib/dns.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

/* cmocka hands every test a state pointer; these do not use it. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* A query as dig sends it: "Example.Test. IN A", RD, with an EDNS OPT. */
static const uint8_t query_a[] = {
	0x12, 0x34,		/* ID */
	0x01, 0x20,		/* RD, AD */
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 4, 'T', 'e', 's', 't', 0,
	0x00, 0x01,		/* A */
	0x00, 0x01,		/* IN */
	/* OPT: root, type 41, payload 1232, no options */
	0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

#define QUERY_A_END	(DNS_HEADER_LEN + 14 + 4)

/* Run the parser on an exact-size heap copy, so ASan sees any overread. */
static int parse(const uint8_t *buf, size_t len, struct dns_question *q)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	ret = dns_parse_question(copy, len, q);
	free(copy);
	return ret;
}

/* A query for the name given as wire labels (name, nlen bytes), QTYPE A;
 * returns its length. */
static size_t make_query(uint8_t *buf, size_t size, const uint8_t *name,
			 size_t nlen)
{
	static const uint8_t hdr[DNS_HEADER_LEN] = {
		0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
	};

	assert_true(size >= sizeof(hdr) + nlen + 4);
	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), name, nlen);
	memcpy(buf + sizeof(hdr) + nlen, "\x00\x01\x00\x01", 4);
	return sizeof(hdr) + nlen + 4;
}

static void test_query_a(void **state)
{
	struct dns_question q;

	assert_int_equal(parse(query_a, sizeof(query_a), &q), 0);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, 0x0120);
	assert_false(q.flags & DNS_FLAG_QR);
	assert_int_equal(DNS_OPCODE(q.flags), 0);
	assert_int_equal(q.qdcount, 1);
	assert_int_equal(q.ancount, 0);
	assert_int_equal(q.arcount, 1);
	assert_string_equal(q.qname, "example.test");
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_int_equal(q.end, QUERY_A_END);
}

static void test_response(void **state)
{
	static const uint8_t reply[] = {
		0xbe, 0xef, 0x81, 0x83, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x01, 0x00, 0x00,
		3, 'w', 'w', 'w', 0, 0x00, 0x1c, 0x00, 0x01,
	};
	struct dns_question q;

	assert_int_equal(parse(reply, sizeof(reply), &q), 0);
	assert_true(q.flags & DNS_FLAG_QR);
	assert_int_equal(DNS_RCODE(q.flags), 3);
	assert_int_equal(q.nscount, 1);
	assert_string_equal(q.qname, "www");
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
}

static void test_root(void **state)
{
	uint8_t buf[64];
	size_t len = make_query(buf, sizeof(buf), (const uint8_t *)"", 1);
	struct dns_question q;

	assert_int_equal(parse(buf, len, &q), 0);
	assert_string_equal(q.qname, ".");
	assert_int_equal(q.end, len);
}

static void test_short_header(void **state)
{
	struct dns_question q;

	for (size_t len = 0; len < DNS_HEADER_LEN; len++)
		assert_int_equal(parse(query_a, len, &q), -EBADMSG);
}

static void test_no_question(void **state)
{
	uint8_t buf[sizeof(query_a)];
	struct dns_question q;

	memcpy(buf, query_a, sizeof(buf));
	buf[4] = buf[5] = 0;
	assert_int_equal(parse(buf, sizeof(buf), &q), -ENOENT);
	/* a bare header too */
	assert_int_equal(parse(buf, DNS_HEADER_LEN, &q), -ENOENT);
}

static void test_truncated_question(void **state)
{
	struct dns_question q;

	/* every cut inside the question (name, type, class) */
	for (size_t len = DNS_HEADER_LEN; len < QUERY_A_END; len++)
		assert_int_equal(parse(query_a, len, &q), -EBADMSG);
	assert_int_equal(parse(query_a, QUERY_A_END, &q), 0);
}

static void test_not_written_on_error(void **state)
{
	struct dns_question q, before;

	memset(&q, 0x5a, sizeof(q));
	memcpy(&before, &q, sizeof(q));
	assert_int_equal(parse(query_a, QUERY_A_END - 1, &q), -EBADMSG);
	assert_memory_equal(&q, &before, sizeof(q));
}

static void test_compression_pointer(void **state)
{
	/* a pointer to the start of the question: a loop if followed */
	static const uint8_t self[] = { 0xc0, 0x0c };
	/* a label, then a pointer into the header */
	static const uint8_t after[] = { 1, 'a', 0xc0, 0x00 };
	uint8_t buf[64];
	struct dns_question q;
	size_t len;

	len = make_query(buf, sizeof(buf), self, sizeof(self));
	assert_int_equal(parse(buf, len, &q), -EBADMSG);
	len = make_query(buf, sizeof(buf), after, sizeof(after));
	assert_int_equal(parse(buf, len, &q), -EBADMSG);
}

static void test_reserved_label_types(void **state)
{
	static const uint8_t types[] = { 0x40, 0x41, 0x80, 0xbf };
	uint8_t name[4], buf[64];
	struct dns_question q;
	size_t len;

	for (size_t i = 0; i < sizeof(types); i++) {
		name[0] = types[i];
		name[1] = name[2] = name[3] = 0;
		len = make_query(buf, sizeof(buf), name, sizeof(name));
		assert_int_equal(parse(buf, len, &q), -EBADMSG);
	}
}

/* A name of labels of the given lengths, filled with 'a'. */
static size_t make_name(uint8_t *name, const size_t *labels, size_t n)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		name[off++] = (uint8_t)labels[i];
		memset(name + off, 'a', labels[i]);
		off += labels[i];
	}
	name[off++] = 0;
	return off;
}

static void test_label_limits(void **state)
{
	size_t l63[] = { 63 }, l64[] = { 64 };
	uint8_t name[300], buf[400];
	struct dns_question q;
	size_t len;

	len = make_query(buf, sizeof(buf), name, make_name(name, l63, 1));
	assert_int_equal(parse(buf, len, &q), 0);
	assert_int_equal(strlen(q.qname), 63);
	len = make_query(buf, sizeof(buf), name, make_name(name, l64, 1));
	assert_int_equal(parse(buf, len, &q), -EBADMSG);
}

static void test_name_length_limit(void **state)
{
	/* 63 + 63 + 63 + 61 bytes: 255 on the wire, 253 as text */
	size_t longest[] = { 63, 63, 63, 61 }, over[] = { 63, 63, 63, 62 };
	uint8_t name[300], buf[400];
	struct dns_question q;
	size_t len, nlen;

	nlen = make_name(name, longest, 4);
	assert_int_equal(nlen, DNS_WIRE_NAME_MAX);
	len = make_query(buf, sizeof(buf), name, nlen);
	assert_int_equal(parse(buf, len, &q), 0);
	assert_int_equal(strlen(q.qname), 253);
	assert_int_equal(q.end, len);

	len = make_query(buf, sizeof(buf), name, make_name(name, over, 4));
	assert_int_equal(parse(buf, len, &q), -ENAMETOOLONG);
}

static void test_many_short_labels(void **state)
{
	size_t labels[127];
	uint8_t name[300], buf[400];
	struct dns_question q;
	size_t len;

	/* 127 one-byte labels: 255 bytes on the wire */
	for (size_t i = 0; i < 127; i++)
		labels[i] = 1;
	len = make_query(buf, sizeof(buf), name, make_name(name, labels, 127));
	assert_int_equal(parse(buf, len, &q), 0);
	assert_int_equal(strlen(q.qname), 253);
	/* one more is too long */
	name[0] = 1;
	name[1] = 'b';
	len = make_query(buf, sizeof(buf), name,
			 2 + make_name(name + 2, labels, 127));
	assert_int_equal(parse(buf, len, &q), -ENAMETOOLONG);
}

static void test_escapes(void **state)
{
	static const uint8_t name[] = {
		6, 'a', '.', 'B', '\\', ' ', 0xff, 2, 0x00, 0x7f, 0,
	};
	uint8_t buf[64];
	struct dns_question q;
	size_t len;

	len = make_query(buf, sizeof(buf), name, sizeof(name));
	assert_int_equal(parse(buf, len, &q), 0);
	assert_string_equal(q.qname, "a\\046b\\092\\032\\255.\\000\\127");
}

static void test_longest_text_fits(void **state)
{
	/* four labels of unprintable bytes, 255 on the wire: the longest text */
	size_t labels[] = { 63, 63, 63, 61 };
	uint8_t name[300], buf[400];
	struct dns_question q;
	size_t len, nlen;

	nlen = make_name(name, labels, 4);
	for (size_t i = 0; i < nlen - 1; i++)
		if (name[i] == 'a')
			name[i] = 0x01;
	len = make_query(buf, sizeof(buf), name, nlen);
	assert_int_equal(parse(buf, len, &q), 0);
	assert_int_equal(strlen(q.qname), 4 * 250 + 3);
	assert_true(strlen(q.qname) < sizeof(q.qname));
}

static void test_junk(void **state)
{
	uint8_t buf[300];
	struct dns_question q;
	uint32_t x = 4242;

	/* deterministic junk: any documented answer, never an overread */
	for (int round = 0; round < 5000; round++) {
		size_t len = round % sizeof(buf);
		int ret;

		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245 + 12345;
			buf[i] = x >> 16;
		}
		/* half of them with a plausible header */
		if (round & 1 && len >= DNS_HEADER_LEN)
			memcpy(buf, query_a, DNS_HEADER_LEN);
		ret = parse(buf, len, &q);
		assert_true(ret == 0 || ret == -EBADMSG || ret == -ENOENT ||
			    ret == -ENAMETOOLONG);
		if (!ret)
			assert_true(q.end <= len && strlen(q.qname) > 0);
	}
}

static void test_null_args(void **state)
{
	struct dns_question q;

	assert_int_equal(dns_parse_question(NULL, 10, &q), -EINVAL);
	assert_int_equal(dns_parse_question(query_a, sizeof(query_a), NULL),
			 -EINVAL);
}

static void test_names(void **state)
{
	char buf[16];

	assert_string_equal(dns_type_str(DNS_TYPE_A, buf, sizeof(buf)), "A");
	assert_string_equal(dns_type_str(DNS_TYPE_AAAA, buf, sizeof(buf)),
			    "AAAA");
	assert_string_equal(dns_type_str(65, buf, sizeof(buf)), "HTTPS");
	assert_string_equal(dns_type_str(65280, buf, sizeof(buf)),
			    "TYPE65280");
	assert_string_equal(dns_rcode_str(0, buf, sizeof(buf)), "NOERROR");
	assert_string_equal(dns_rcode_str(3, buf, sizeof(buf)), "NXDOMAIN");
	assert_string_equal(dns_rcode_str(15, buf, sizeof(buf)), "RCODE15");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_a),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_short_header),
		cmocka_unit_test(test_no_question),
		cmocka_unit_test(test_truncated_question),
		cmocka_unit_test(test_not_written_on_error),
		cmocka_unit_test(test_compression_pointer),
		cmocka_unit_test(test_reserved_label_types),
		cmocka_unit_test(test_label_limits),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_many_short_labels),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_longest_text_fits),
		cmocka_unit_test(test_junk),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
