/* SPDX-License-Identifier: MIT */
/* Unit tests for the protocol sniffers (examples/lib/sniff.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sniff.h"

/* cmocka hands every test a state pointer; these do not use it. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/*
 * A TLS 1.3 ClientHello as a client sends it, in one record: SNI
 * "example.test", supported_groups, ec_point_formats, signature_algorithms,
 * ALPN h2/http1.1, supported_versions, psk modes and an X25519 key share.
 * OpenSSL answers it with a ServerHello.
 */
static const uint8_t client_hello[] = {
	/* record: handshake, TLS 1.0 record version, length 207 */
	0x16, 0x03, 0x01, 0x00, 0xcf,
	/* handshake: ClientHello, length 203 */
	0x01, 0x00, 0x00, 0xcb,
	/* legacy_version TLS 1.2, random */
	0x03, 0x03,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	/* legacy_session_id: 32 bytes */
	0x20,
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
	0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	/* cipher_suites: AES128-GCM, AES256-GCM, CHACHA20, SCSV */
	0x00, 0x08, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0x00, 0xff,
	/* compression_methods: null */
	0x01, 0x00,
	/* extensions: 122 bytes */
	0x00, 0x7a,
	/* server_name: list of 15, host_name "example.test" */
	0x00, 0x00, 0x00, 0x11, 0x00, 0x0f, 0x00, 0x00, 0x0c,
	'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 't', 'e', 's', 't',
	/* supported_groups: x25519, secp256r1 */
	0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17,
	/* ec_point_formats: uncompressed */
	0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,
	/* signature_algorithms */
	0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
	/* ALPN: h2, http/1.1 */
	0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h', '2',
	0x08, 'h', 't', 't', 'p', '/', '1', '.', '1',
	/* supported_versions: TLS 1.3 */
	0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04,
	/* psk_key_exchange_modes: psk_dhe_ke */
	0x00, 0x2d, 0x00, 0x02, 0x01, 0x01,
	/* key_share: x25519 */
	0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20,
	0x35, 0x80, 0x72, 0xd6, 0x36, 0x58, 0x80, 0xd1,
	0xae, 0xea, 0x32, 0x9a, 0xdf, 0x91, 0x21, 0x38,
	0x38, 0x51, 0xed, 0x21, 0xa2, 0x8e, 0x3b, 0x75,
	0xe9, 0x65, 0xd0, 0xd2, 0xcd, 0x16, 0x62, 0x54,
};

/* Offsets into client_hello. */
enum {
	OFF_REC_LEN = 3,
	OFF_HS_TYPE = 5,
	OFF_HS_LEN = 6,
	OFF_VERSION = 9,
	OFF_SID_LEN = 43,
	OFF_CS_LEN = 76,
	OFF_COMP_LEN = 86,
	OFF_EXTS_LEN = 88,
	OFF_SNI_TYPE = 90,
	OFF_SNI_LEN = 92,
	OFF_SNI_LIST_LEN = 94,
	OFF_SNI_NAME_TYPE = 96,
	OFF_SNI_NAME_LEN = 97,
	OFF_SNI_NAME = 99,
};

/* Run the parser on an exact-size heap copy, so ASan sees any overread. */
static int sni(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	ret = sniff_tls_sni(copy, len, out, outlen);
	free(copy);
	return ret;
}

static int http(const char *s, size_t len, char *out, size_t outlen)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, s, len);
	ret = sniff_http_request_line(copy, len, out, outlen);
	free(copy);
	return ret;
}

/* A writable copy of client_hello, to break. */
static uint8_t hello[sizeof(client_hello)];

static uint8_t *fresh_hello(void)
{
	memcpy(hello, client_hello, sizeof(hello));
	return hello;
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* ---- TLS ------------------------------------------------------------- */

static void test_sni_found(void **state)
{
	char out[SNIFF_SNI_MAX];

	assert_int_equal(sni(client_hello, sizeof(client_hello), out,
			     sizeof(out)), 0);
	assert_string_equal(out, "example.test");
}

static void test_sni_trailing_data(void **state)
{
	uint8_t buf[sizeof(client_hello) + 64];
	char out[SNIFF_SNI_MAX];

	/* application data after the record does not matter */
	memcpy(buf, client_hello, sizeof(client_hello));
	memset(buf + sizeof(client_hello), 0x17, 64);
	assert_int_equal(sni(buf, sizeof(buf), out, sizeof(out)), 0);
	assert_string_equal(out, "example.test");
}

static void test_sni_truncated(void **state)
{
	char out[SNIFF_SNI_MAX];

	for (size_t len = 0; len < sizeof(client_hello); len++)
		assert_int_equal(sni(client_hello, len, out, sizeof(out)),
				 -EAGAIN);
}

static void test_sni_out_too_small(void **state)
{
	char out[12];	/* "example.test" needs 13 */

	assert_int_equal(sni(client_hello, sizeof(client_hello), out,
			     sizeof(out)), -ENOSPC);
	assert_int_equal(sni(client_hello, sizeof(client_hello), NULL, 0),
			 -ENOSPC);
}

static void test_sni_absent(void **state)
{
	uint8_t *h = fresh_hello();
	char out[SNIFF_SNI_MAX];

	put16(h + OFF_SNI_TYPE, 0x0015);	/* now a padding extension */
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -ENOENT);

	/* a server_name list with no host_name entry */
	h = fresh_hello();
	h[OFF_SNI_NAME_TYPE] = 1;
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -ENOENT);
}

static void test_sni_no_extensions(void **state)
{
	uint8_t *h = fresh_hello();
	char out[SNIFF_SNI_MAX];

	/* cut the ClientHello right after compression_methods */
	put16(h + OFF_REC_LEN, OFF_EXTS_LEN - 5);
	h[OFF_HS_LEN] = 0;
	put16(h + OFF_HS_LEN + 1, OFF_EXTS_LEN - 9);
	assert_int_equal(sni(h, OFF_EXTS_LEN, out, sizeof(out)), -ENOENT);
}

static void test_sni_not_tls(void **state)
{
	static const char get[] = "GET / HTTP/1.1\r\n\r\n";
	uint8_t *h;
	char out[SNIFF_SNI_MAX];

	assert_int_equal(sni((const uint8_t *)get, strlen(get), out,
			     sizeof(out)), -EINVAL);
	/* rejected from the first byte, not after a record's worth */
	assert_int_equal(sni((const uint8_t *)get, 1, out, sizeof(out)),
			 -EINVAL);
	h = fresh_hello();
	h[0] = 23;				/* application data */
	assert_int_equal(sni(h, 1, out, sizeof(out)), -EINVAL);
	h = fresh_hello();
	h[1] = 2;				/* SSLv2-ish version */
	assert_int_equal(sni(h, 2, out, sizeof(out)), -EINVAL);
	h = fresh_hello();
	h[OFF_HS_TYPE] = 2;			/* ServerHello */
	assert_int_equal(sni(h, OFF_HS_TYPE + 1, out, sizeof(out)), -EINVAL);
}

static void test_sni_malformed(void **state)
{
	char out[SNIFF_SNI_MAX];
	uint8_t *h;

	h = fresh_hello();
	put16(h + OFF_REC_LEN, 16385);		/* record too long */
	assert_int_equal(sni(h, 5, out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	put16(h + OFF_REC_LEN, 3);		/* no room for a handshake */
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	h[OFF_HS_LEN + 2]++;		/* spans records: unsupported */
	assert_int_equal(sni(h, 9, out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	h[OFF_VERSION] = 2;
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	h[OFF_SID_LEN] = 33;
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	put16(h + OFF_CS_LEN, 7);		/* odd */
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	h[OFF_COMP_LEN] = 0;
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	put16(h + OFF_EXTS_LEN, 0x7b);		/* past the ClientHello */
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	put16(h + OFF_EXTS_LEN, 0x79);		/* short of its end */
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	put16(h + OFF_SNI_LEN, 0x7a);	/* extension past the list */
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	put16(h + OFF_SNI_LIST_LEN, 0x10);	/* list past the extension */
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	put16(h + OFF_SNI_NAME_LEN, 0x0d);	/* name past the list */
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);

	h = fresh_hello();
	put16(h + OFF_SNI_NAME_LEN, 0xffff);
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), -EINVAL);
}

static void test_sni_unprintable_name(void **state)
{
	uint8_t *h = fresh_hello();
	char out[SNIFF_SNI_MAX];

	h[OFF_SNI_NAME + 1] = 0;
	h[OFF_SNI_NAME + 2] = '\n';
	assert_int_equal(sni(h, sizeof(hello), out, sizeof(out)), 0);
	assert_string_equal(out, "e??mple.test");
}

/* Every single-byte corruption, whole and cut right after it: no crash,
 * only documented results, and no answer before the record is complete. */
static void test_sni_corrupt_every_byte(void **state)
{
	static const uint8_t values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
	char out[SNIFF_SNI_MAX];

	for (size_t i = 0; i < sizeof(client_hello); i++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			uint8_t *h = fresh_hello();
			int ret;

			h[i] = values[v];
			ret = sni(h, sizeof(hello), out, sizeof(out));
			assert_true(ret == 0 || ret == -EAGAIN ||
				    ret == -EINVAL || ret == -ENOENT);
			if (!ret)
				assert_true(strlen(out) < sizeof(out));
			if (i + 1 == sizeof(hello))
				continue;
			ret = sni(h, i + 1, out, sizeof(out));
			assert_true(ret == -EAGAIN || ret == -EINVAL);
		}
	}
}

/* ---- HTTP ------------------------------------------------------------ */

static void expect_line(const char *req, const char *line)
{
	char out[256];

	assert_int_equal(http(req, strlen(req), out, sizeof(out)), 0);
	assert_string_equal(out, line);
}

static void test_http_methods(void **state)
{
	expect_line("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n",
		    "GET / HTTP/1.1");
	expect_line("POST /api/v1/items?x=1 HTTP/1.0\r\nContent-Length: 2\r\n",
		    "POST /api/v1/items?x=1 HTTP/1.0");
	expect_line("CONNECT example.test:443 HTTP/1.1\r\n",
		    "CONNECT example.test:443 HTTP/1.1");
	expect_line("OPTIONS * HTTP/1.1\r\n", "OPTIONS * HTTP/1.1");
	/* any uppercase token is a method (WebDAV, SSDP...) */
	expect_line("PROPFIND /dav/ HTTP/1.1\r\n", "PROPFIND /dav/ HTTP/1.1");
	expect_line("M-SEARCH * HTTP/1.1\r\n", "M-SEARCH * HTTP/1.1");
}

static void test_http_partial(void **state)
{
	static const char req[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n";
	size_t line = strlen("GET /index.html HTTP/1.1\r\n");
	char out[64];

	for (size_t len = 0; len < line; len++)
		assert_int_equal(http(req, len, out, sizeof(out)), -EAGAIN);
	assert_int_equal(http(req, line, out, sizeof(out)), 0);
	assert_string_equal(out, "GET /index.html HTTP/1.1");
}

static void test_http_not_http(void **state)
{
	static const char *const junk[] = {
		"get / HTTP/1.1\r\n",		/* lowercase method */
		" GET / HTTP/1.1\r\n",
		"GET  / HTTP/1.1\r\n",		/* empty target */
		"GET / HTTP/2.0\r\n",
		"GET / HTTP/1.x\r\n",
		"GET / HTTP/1.1\n",		/* bare LF */
		"GET / HTTP/1.1\r\r",
		"GET /a\tb HTTP/1.1\r\n",	/* control in target */
		"GET / HTTPS/1.1\r\n",
		"-GET / HTTP/1.1\r\n",
		"SSH-2.0-OpenSSH_9.2\r\n",
		"GET\r\n",
		"\x16\x03\x01\x00\xcf",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH / HTTP/1.1\r\n",
	};
	char out[64];

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(http(junk[i], strlen(junk[i]), out,
				      sizeof(out)), -EINVAL);
	assert_int_equal(http((const char *)client_hello,
			      sizeof(client_hello), out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(http("\0\0\0\0", 4, out, sizeof(out)), -EINVAL);
}

static void test_http_binary_junk(void **state)
{
	uint8_t buf[512];
	char out[64];
	uint32_t x = 12345;

	/* deterministic junk: must be rejected or incomplete, never read
	 * past the buffer */
	for (int round = 0; round < 2000; round++) {
		size_t len = round % sizeof(buf);
		int ret;

		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245 + 12345;
			buf[i] = x >> 16;
		}
		ret = http((const char *)buf, len, out, sizeof(out));
		assert_true(ret == -EAGAIN || ret == -EINVAL || ret == 0);
		ret = sni(buf, len, out, sizeof(out));
		assert_true(ret == -EAGAIN || ret == -EINVAL ||
			    ret == -ENOENT || ret == 0);
	}
}

static void test_http_truncated_output(void **state)
{
	static const char req[] = "GET /a/long/path HTTP/1.1\r\n";
	char out[8];

	memset(out, 'X', sizeof(out));
	assert_int_equal(http(req, strlen(req), out, sizeof(out)), 0);
	assert_string_equal(out, "GET /a/");
	assert_int_equal(http(req, strlen(req), NULL, 0), 0);
}

static void test_http_unprintable_target(void **state)
{
	static const char req[] = "GET /caf\xc3\xa9 HTTP/1.1\r\n";

	expect_line(req, "GET /caf?? HTTP/1.1");
}

static void test_http_too_long(void **state)
{
	size_t len = SNIFF_HTTP_MAX_LINE + 64;
	char *req = malloc(len);
	char out[64];

	assert_non_null(req);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'a', len - 5);
	assert_int_equal(http(req, len, out, sizeof(out)), -EINVAL);
	/* still undecided while under the limit */
	assert_int_equal(http(req, SNIFF_HTTP_MAX_LINE - 16, out,
			      sizeof(out)), -EAGAIN);
	free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_found),
		cmocka_unit_test(test_sni_trailing_data),
		cmocka_unit_test(test_sni_truncated),
		cmocka_unit_test(test_sni_out_too_small),
		cmocka_unit_test(test_sni_absent),
		cmocka_unit_test(test_sni_no_extensions),
		cmocka_unit_test(test_sni_not_tls),
		cmocka_unit_test(test_sni_malformed),
		cmocka_unit_test(test_sni_unprintable_name),
		cmocka_unit_test(test_sni_corrupt_every_byte),
		cmocka_unit_test(test_http_methods),
		cmocka_unit_test(test_http_partial),
		cmocka_unit_test(test_http_not_http),
		cmocka_unit_test(test_http_binary_junk),
		cmocka_unit_test(test_http_truncated_output),
		cmocka_unit_test(test_http_unprintable_target),
		cmocka_unit_test(test_http_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
