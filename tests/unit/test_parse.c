// SPDX-License-Identifier: MIT
/* Unit tests of the CLI argument parsers (src/parse.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "cgroup_path.h"
#include "util.h"

static char err[256];

/* A failure leaves exactly one non-empty line in err. */
static void check_msg(void)
{
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
	assert_null(strchr(err, '\r'));
	assert_true(strlen(err) < sizeof(err) - 1);
}

static void poison_err(void)
{
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
}

/* ---- parse_endpoint ---- */

static void ep_ok4(const char *s, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct in_addr want;
	socklen_t len = 0;

	poison_err();
	memset(&ss, 0xa5, sizeof(ss));
	assert_int_equal(parse_endpoint(s, &ss, &len, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), port);
	assert_int_equal(inet_pton(AF_INET, addr, &want), 1);
	assert_memory_equal(&sin->sin_addr, &want, 4);
	assert_memory_equal(sin->sin_zero, "\0\0\0\0\0\0\0\0", 8);
}

static void ep_ok6(const char *s, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct in6_addr want;
	socklen_t len = 0;

	poison_err();
	memset(&ss, 0xa5, sizeof(ss));
	assert_int_equal(parse_endpoint(s, &ss, &len, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), port);
	assert_int_equal(inet_pton(AF_INET6, addr, &want), 1);
	assert_memory_equal(&sin6->sin6_addr, &want, 16);
	assert_int_equal(sin6->sin6_scope_id, 0);
	assert_int_equal(sin6->sin6_flowinfo, 0);
}

static void ep_bad(const char *s)
{
	struct sockaddr_storage ss, orig;
	socklen_t len = 1234;

	memset(&ss, 0x5a, sizeof(ss));
	orig = ss;
	poison_err();
	assert_int_equal(parse_endpoint(s, &ss, &len, err, sizeof(err)),
			 -EINVAL);
	check_msg();
	assert_int_equal(len, 1234);
	assert_memory_equal(&ss, &orig, sizeof(ss));
}

static void test_endpoint_valid(void **state)
{
	(void)state;
	ep_ok4("127.0.0.1:8080", "127.0.0.1", 8080);
	ep_ok4("0.0.0.0:80", "0.0.0.0", 80);
	ep_ok4("255.255.255.255:65535", "255.255.255.255", 65535);
	ep_ok4("10.1.2.3:1", "10.1.2.3", 1);
	ep_ok6("[::1]:8080", "::1", 8080);
	ep_ok6("[::]:80", "::", 80);
	ep_ok6("[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80);
	ep_ok6("[2001:db8::42]:443", "2001:db8::42", 443);
	ep_ok6("[FE80::1]:22", "fe80::1", 22);
}

static void test_endpoint_invalid(void **state)
{
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:99999999999999999999999999",
		"127.0.0.1:+80", "127.0.0.1:-80", "127.0.0.1: 80",
		"127.0.0.1:80 ", " 127.0.0.1:80", "127.0.0.1 :80",
		"127.0.0.1:0x50", "127.0.0.1:080", "127.0.0.1:8o",
		"127.0.0.1:http", "localhost:80", "example.com:443",
		"1.2.3:80", "1.2.3.4.5:80", "256.0.0.1:80", "01.2.3.4:80",
		"1.2.3.4:80:90", "::1:80", "::1", "::80", "[::1]", "[::1]:",
		"[::1]80", "[::1:80", "::1]:80", "[]:80", "[[::1]]:80",
		"[::1]:80]", "[::1]]:80", "[1.2.3.4]:80", "[fe80::1%eth0]:80",
		"[fe80::1%1]:80", "[::g]:80", "[::1 ]:80", "[ ::1]:80",
		"1.2.3.4:8\n0", "1.2.3.4\n:80", "[::1]:65536", "[::1]:0",
		"\xff\xfe:80",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("endpoint '%s'\n", bad[i]);
		ep_bad(bad[i]);
	}
	ep_bad(NULL);
}

static void test_endpoint_messages(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char small[12];
	char *big;

	(void)state;
	assert_int_equal(parse_endpoint("127.0.0.1:70000", &ss, &len, err,
					sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad port '70000': must be 1-65535");

	assert_int_equal(parse_endpoint("::1:80", &ss, &len, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "brackets"));

	assert_int_equal(parse_endpoint("[fe80::1%eth0]:80", &ss, &len, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "zone"));

	assert_int_equal(parse_endpoint("localhost:80", &ss, &len, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'localhost'"));

	/* the input's newline does not reach the message */
	assert_int_equal(parse_endpoint("1.2.3.4:8\n0", &ss, &len, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'8?0'"));

	/* truncated to the caller's buffer, still terminated */
	memset(small, 'X', sizeof(small));
	assert_int_equal(parse_endpoint("127.0.0.1:0", &ss, &len, small,
					sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);

	/* no buffer at all */
	assert_int_equal(parse_endpoint("127.0.0.1:0", &ss, &len, NULL, 0),
			 -EINVAL);
	assert_int_equal(parse_endpoint("127.0.0.1:1", &ss, &len, NULL, 0), 0);

	/* huge input: a short message */
	big = malloc(100000);
	assert_non_null(big);
	memset(big, '1', 99999);
	big[99999] = '\0';
	big[5] = ':';
	ep_bad(big);
	assert_true(strlen(err) < 200);
	free(big);
}

/* ---- parse_cidr ---- */

static void cidr_ok(const char *s, const char *net, unsigned int plen,
		    int family)
{
	struct lwfp_cidr c;
	uint8_t want[16];
	unsigned int i, ones = 0;

	poison_err();
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(parse_cidr(s, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.prefix_len, plen);
	assert_int_equal(c.family, family);
	assert_int_equal(inet_pton(AF_INET6, net, want), 1);
	assert_memory_equal(c.net, want, 16);
	for (i = 0; i < 128; i++) {
		int bit = c.mask[i / 8] >> (7 - i % 8) & 1;

		assert_int_equal(bit, i < plen);
		ones += bit;
	}
	assert_int_equal(ones, plen);
	for (i = 0; i < 16; i++)
		assert_int_equal(c.net[i] & ~c.mask[i], 0);
}

static void cidr_bad(const char *s)
{
	struct lwfp_cidr c, orig;

	memset(&c, 0x5a, sizeof(c));
	orig = c;
	poison_err();
	assert_int_equal(parse_cidr(s, &c, err, sizeof(err)), -EINVAL);
	check_msg();
	assert_memory_equal(&c, &orig, sizeof(c));
}

static void test_cidr_valid(void **state)
{
	(void)state;
	cidr_ok("10.0.0.0/8", "::ffff:10.0.0.0", 104, AF_INET);
	cidr_ok("127.0.0.1", "::ffff:127.0.0.1", 128, AF_INET);
	cidr_ok("127.0.0.1/32", "::ffff:127.0.0.1", 128, AF_INET);
	cidr_ok("0.0.0.0/0", "::ffff:0.0.0.0", 96, AF_INET);
	cidr_ok("192.168.1.0/24", "::ffff:192.168.1.0", 120, AF_INET);
	cidr_ok("172.16.0.0/12", "::ffff:172.16.0.0", 108, AF_INET);
	cidr_ok("10.0.0.128/25", "::ffff:10.0.0.128", 121, AF_INET);
	cidr_ok("255.255.255.255/32", "::ffff:255.255.255.255", 128, AF_INET);
	cidr_ok("::1/128", "::1", 128, AF_INET6);
	cidr_ok("::1", "::1", 128, AF_INET6);
	cidr_ok("::/0", "::", 0, AF_INET6);
	cidr_ok("2001:db8::/32", "2001:db8::", 32, AF_INET6);
	cidr_ok("fe80::/10", "fe80::", 10, AF_INET6);
	cidr_ok("FE80::/10", "fe80::", 10, AF_INET6);
	cidr_ok("::ffff:10.0.0.0/104", "::ffff:10.0.0.0", 104, AF_INET6);
	cidr_ok("::ffff:0:0/96", "::ffff:0.0.0.0", 96, AF_INET6);
	cidr_ok("8000::/1", "8000::", 1, AF_INET6);
	cidr_ok("10.0.0.0/7", "::ffff:10.0.0.0", 103, AF_INET);
}

static void test_cidr_invalid(void **state)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/8/8", "10.0.0.0//8",
		"10.0.0.0/ 8", "10.0.0.0 /8", " 10.0.0.0/8", "10.0.0.0/8 ",
		"10.0.0.0/0x8", "10.0.0.0/999999999999999999999999",
		"10.0.0/8", "10/8", "10.0.0.256/32", "foo", "foo/8",
		"localhost", "::/129", "::1/", "[::1]/128", "[::1]",
		"::1%lo/128", ":::/0", "1.2.3.4:80", "10.0.0.1/8",
		"11.0.0.0/7", "0.0.0.1/0", "::1/127", "2001:db8::1/32",
		"fe80::1/10", "10.0.0.0/8\n", "10.0.0.0\n/8",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("cidr '%s'\n", bad[i]);
		cidr_bad(bad[i]);
	}
	cidr_bad(NULL);
}

static void test_cidr_messages(void **state)
{
	struct lwfp_cidr c;

	(void)state;
	assert_int_equal(parse_cidr("10.0.0.1/8", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "host bits set, did you mean 10.0.0.0/8?"));

	assert_int_equal(parse_cidr("192.168.1.77/24", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "did you mean 192.168.1.0/24?"));

	assert_int_equal(parse_cidr("2001:db8::1/32", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "did you mean 2001:db8::/32?"));

	assert_int_equal(parse_cidr("0.0.0.1/0", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "did you mean 0.0.0.0/0?"));

	assert_int_equal(parse_cidr("10.0.0.0/33", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "0-32"));

	assert_int_equal(parse_cidr("::/129", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0-128"));
}

/* ---- parse_port_range ---- */

static void range_ok(const char *s, uint16_t lo, uint16_t hi)
{
	uint16_t a = 0, b = 0;

	poison_err();
	assert_int_equal(parse_port_range(s, &a, &b, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(a, lo);
	assert_int_equal(b, hi);
}

static void range_bad(const char *s)
{
	uint16_t a = 7, b = 9;

	poison_err();
	assert_int_equal(parse_port_range(s, &a, &b, err, sizeof(err)),
			 -EINVAL);
	check_msg();
	assert_int_equal(a, 7);
	assert_int_equal(b, 9);
}

static void test_port_range(void **state)
{
	static const char *const bad[] = {
		"", "0", "65536", "70000", "-1", "+80", " 80", "80 ", "0x50",
		"080", "80-", "-80", "-", "80--90", "1-2-3", "2000-1000",
		"1000 - 2000", "1000- 2000", "0-10", "10-65536", "a-b", "80,81",
		"80:81", "99999999999999999999-1", "1-99999999999999999999",
		"\n",
	};
	uint16_t a, b;
	size_t i;

	(void)state;
	range_ok("80", 80, 80);
	range_ok("1", 1, 1);
	range_ok("65535", 65535, 65535);
	range_ok("1000-2000", 1000, 2000);
	range_ok("443-443", 443, 443);
	range_ok("1-65535", 1, 65535);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("port range '%s'\n", bad[i]);
		range_bad(bad[i]);
	}
	range_bad(NULL);

	assert_int_equal(parse_port_range("2000-1000", &a, &b, err,
					  sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2000 is greater than 1000"));
	assert_int_equal(parse_port_range("70000", &a, &b, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "bad port '70000': must be 1-65535");
}

/* ---- numbers ---- */

static void test_u32(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "0x10", "01", "00", "1e3", "1.0",
		"4294967296", "99999999999999999999999999", "one", "1\n",
	};
	uint32_t v;
	size_t i;

	(void)state;
	assert_int_equal(parse_u32("0", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_string_equal(err, "");
	assert_int_equal(parse_u32("123", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 123);
	assert_int_equal(parse_u32("4294967295", &v, err, sizeof(err)), 0);
	assert_int_equal(v, UINT32_MAX);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("u32 '%s'\n", bad[i]);
		v = 77;
		poison_err();
		assert_int_equal(parse_u32(bad[i], &v, err, sizeof(err)),
				 -EINVAL);
		check_msg();
		assert_int_equal(v, 77);
	}
	poison_err();
	assert_int_equal(parse_u32(NULL, &v, err, sizeof(err)), -EINVAL);
	check_msg();
	parse_u32("4294967296", &v, err, sizeof(err));
	assert_non_null(strstr(err, "0-4294967295"));
	parse_u32("010", &v, err, sizeof(err));
	assert_non_null(strstr(err, "leading zeros"));
}

static void test_uid(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+0", " 0", "0 ", "01", "4294967295", "4294967296",
		"lwfp-no-such-user-xyzzy", "root\n", "root ", " root",
		"ro:ot", "../root", "\x01",
	};
	uint32_t uid;
	size_t i;

	(void)state;
	assert_int_equal(parse_uid("0", &uid, err, sizeof(err)), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(parse_uid("1000", &uid, err, sizeof(err)), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(parse_uid("4294967294", &uid, err, sizeof(err)), 0);
	assert_int_equal(uid, 4294967294u);
	uid = 77;
	assert_int_equal(parse_uid("root", &uid, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(uid, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("uid '%s'\n", bad[i]);
		uid = 77;
		poison_err();
		assert_int_equal(parse_uid(bad[i], &uid, err, sizeof(err)),
				 -EINVAL);
		check_msg();
		assert_int_equal(uid, 77);
	}
	poison_err();
	assert_int_equal(parse_uid(NULL, &uid, err, sizeof(err)), -EINVAL);
	check_msg();
	parse_uid("lwfp-no-such-user-xyzzy", &uid, err, sizeof(err));
	assert_non_null(strstr(err, "no such user"));
}

static void test_pid(void **state)
{
	static const char *const bad[] = {
		"", "0", "-1", "+1", "01", "2147483648", "4294967297",
		"99999999999999999999", "self", "1 ", "0x1",
	};
	pid_t pid;
	size_t i;

	(void)state;
	assert_int_equal(parse_pid("1", &pid, err, sizeof(err)), 0);
	assert_int_equal(pid, 1);
	assert_int_equal(parse_pid("4194304", &pid, err, sizeof(err)), 0);
	assert_int_equal(pid, 4194304);
	assert_int_equal(parse_pid("2147483647", &pid, err, sizeof(err)), 0);
	assert_int_equal(pid, 2147483647);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("pid '%s'\n", bad[i]);
		pid = 77;
		poison_err();
		assert_int_equal(parse_pid(bad[i], &pid, err, sizeof(err)),
				 -EINVAL);
		check_msg();
		assert_int_equal(pid, 77);
	}
	poison_err();
	assert_int_equal(parse_pid(NULL, &pid, err, sizeof(err)), -EINVAL);
	check_msg();
}

static void test_weight(void **state)
{
	static const char *const bad[] = {
		"", "65536", "-1", "+1", "01", "1.5", "heavy", "100000000000",
	};
	uint32_t w;
	size_t i;

	(void)state;
	assert_int_equal(parse_weight("0", &w, err, sizeof(err)), 0);
	assert_int_equal(w, 0);
	assert_int_equal(parse_weight("100", &w, err, sizeof(err)), 0);
	assert_int_equal(w, 100);
	assert_int_equal(parse_weight("65535", &w, err, sizeof(err)), 0);
	assert_int_equal(w, 65535);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("weight '%s'\n", bad[i]);
		w = 77;
		poison_err();
		assert_int_equal(parse_weight(bad[i], &w, err, sizeof(err)),
				 -EINVAL);
		check_msg();
		assert_int_equal(w, 77);
	}
	parse_weight("65536", &w, err, sizeof(err));
	assert_string_equal(err, "bad weight '65536': must be 0-65535");
}

/* ---- check_service_name ---- */

static void test_service_name(void **state)
{
	static const char *const good[] = {
		"a", "Z", "0", "relay-proxy", "svc_1.v2", "a-", "a.", "_x",
		"1234567890123456789012345678901",
	};
	static const char *const bad[] = {
		"", "-x", ".x", "..", "a b", "a/b", "a:b", "a\nb", "a\tb",
		"caf\xc3\xa9", "a*", "a@b", "12345678901234567890123456789012",
		"a very long name that goes on and on and on and on and on",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		poison_err();
		assert_int_equal(check_service_name(good[i], err,
						    sizeof(err)), 0);
		assert_string_equal(err, "");
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("service name '%s'\n", bad[i]);
		poison_err();
		assert_int_equal(check_service_name(bad[i], err, sizeof(err)),
				 -EINVAL);
		check_msg();
	}
	poison_err();
	assert_int_equal(check_service_name(NULL, err, sizeof(err)), -EINVAL);
	check_msg();
}

/* ---- parse_proto ---- */

static void test_proto(void **state)
{
	static const char *const bad[] = {
		"", "icmp", "sctp", "tcp ", " tcp", "tcp6", "6", "tc", "tcpp",
		"udp6", "17", "udplite", "tcp,udp",
	};
	uint8_t p = 0;
	size_t i;

	(void)state;
	assert_int_equal(parse_proto("tcp", &p, err, sizeof(err)), 0);
	assert_int_equal(p, IPPROTO_TCP);
	assert_string_equal(err, "");
	p = 0;
	assert_int_equal(parse_proto("TCP", &p, err, sizeof(err)), 0);
	assert_int_equal(p, IPPROTO_TCP);

	p = 0;
	assert_int_equal(parse_proto("udp", &p, err, sizeof(err)), 0);
	assert_int_equal(p, IPPROTO_UDP);
	assert_string_equal(err, "");

	p = 99;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("proto '%s'\n", bad[i]);
		poison_err();
		assert_int_equal(parse_proto(bad[i], &p, err, sizeof(err)),
				 -EINVAL);
		check_msg();
		assert_int_equal(p, 99);
	}
	poison_err();
	assert_int_equal(parse_proto(NULL, &p, err, sizeof(err)), -EINVAL);
	check_msg();
}

/* ---- cgroup_path_join ---- */

static void join_ok(const char *mount, const char *path, const char *want,
		    int want_level)
{
	char out[4096];
	int level = -1;

	print_message("join '%s' '%s'\n", mount, path);
	poison_err();
	assert_int_equal(cgroup_path_join(mount, path, out, sizeof(out),
					  &level, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(out, want);
	assert_int_equal(level, want_level);
}

static void join_bad(const char *mount, const char *path, int ret)
{
	char out[64] = "untouched";
	int level = -7;

	print_message("join bad '%s' '%s'\n", mount ? mount : "(null)",
		      path ? path : "(null)");
	poison_err();
	assert_int_equal(cgroup_path_join(mount, path, out, sizeof(out),
					  &level, err, sizeof(err)), ret);
	check_msg();
	assert_string_equal(out, "untouched");
	assert_int_equal(level, -7);
}

static void test_cgroup_join_valid(void **state)
{
	const char *m = "/sys/fs/cgroup";
	const char *u = "/sys/fs/cgroup/unified";
	char out[64];
	int level;

	(void)state;
	join_ok(m, "/lwfp-test/apps", "/sys/fs/cgroup/lwfp-test/apps", 2);
	join_ok(m, "lwfp-test/apps", "/sys/fs/cgroup/lwfp-test/apps", 2);
	join_ok(m, "//lwfp-test///apps//", "/sys/fs/cgroup/lwfp-test/apps", 2);
	join_ok(m, "/", "/sys/fs/cgroup", 0);
	join_ok(m, "//", "/sys/fs/cgroup", 0);
	join_ok(m, "/system.slice", "/sys/fs/cgroup/system.slice", 1);
	join_ok(m, "/a/b/c/d/e", "/sys/fs/cgroup/a/b/c/d/e", 5);
	join_ok(m, "/sys/fs/cgroup/lwfp-test/apps",
		"/sys/fs/cgroup/lwfp-test/apps", 2);
	join_ok(m, "/sys/fs/cgroup", "/sys/fs/cgroup", 0);
	join_ok(m, "/sys/fs/cgroup/", "/sys/fs/cgroup", 0);
	join_ok(m, "//sys//fs//cgroup//x", "/sys/fs/cgroup/x", 1);
	/* a relative path is always relative, even if it looks like the mount */
	join_ok(m, "sys/fs/cgroup/x", "/sys/fs/cgroup/sys/fs/cgroup/x", 4);
	/* names that merely start with a dot */
	join_ok(m, "/.hidden/...", "/sys/fs/cgroup/.hidden/...", 2);
	join_ok(m, "/a..b/.x.", "/sys/fs/cgroup/a..b/.x.", 2);
	/* not the mount's first component: relative */
	join_ok(m, "/system/fs/cgroup", "/sys/fs/cgroup/system/fs/cgroup", 3);
	join_ok(m, "/sy", "/sys/fs/cgroup/sy", 1);

	/* hybrid layout */
	join_ok(u, "/sys/fs/cgroup/unified/lwfp-test/apps",
		"/sys/fs/cgroup/unified/lwfp-test/apps", 2);
	join_ok(u, "/lwfp-test/apps", "/sys/fs/cgroup/unified/lwfp-test/apps",
		2);
	join_ok(u, "lwfp-test", "/sys/fs/cgroup/unified/lwfp-test", 1);
	join_ok(u, "/", "/sys/fs/cgroup/unified", 0);

	/* the mount point is normalized too */
	join_ok("/sys/fs/cgroup/", "/x", "/sys/fs/cgroup/x", 1);
	join_ok("//sys//fs/cgroup//", "x/", "/sys/fs/cgroup/x", 1);
	join_ok("//sys//fs/cgroup//", "/sys/fs/cgroup/x", "/sys/fs/cgroup/x",
		1);

	/* cgroup2 mounted at / (some containers) */
	join_ok("/", "/", "/", 0);
	join_ok("/", "/lwfp-test/apps", "/lwfp-test/apps", 2);
	join_ok("/", "lwfp-test", "/lwfp-test", 1);
	join_ok("//", "a//b", "/a/b", 2);

	/* exact fit */
	assert_int_equal(cgroup_path_join("/m", "/abc", out, 7, &level, err,
					  sizeof(err)), 0);
	assert_string_equal(out, "/m/abc");
	assert_int_equal(level, 1);
	/* level may be NULL */
	assert_int_equal(cgroup_path_join("/m", "/abc", out, sizeof(out), NULL,
					  err, sizeof(err)), 0);
	assert_string_equal(out, "/m/abc");
}

static void test_cgroup_join_invalid(void **state)
{
	const char *m = "/sys/fs/cgroup";
	char name[300], path[310], out[8] = "keep";
	int level = 3;

	(void)state;
	join_bad(m, "", -EINVAL);
	join_bad(m, NULL, -EINVAL);
	join_bad(m, "..", -EINVAL);
	join_bad(m, ".", -EINVAL);
	join_bad(m, "/..", -EINVAL);
	join_bad(m, "/a/../b", -EINVAL);
	join_bad(m, "a/./b", -EINVAL);
	join_bad(m, "/a/b/..", -EINVAL);
	join_bad(m, "/a/b/.", -EINVAL);
	join_bad(m, "/sys/fs/cgroup/../etc", -EINVAL);
	/* absolute, shares the mount's start, not under it */
	join_bad(m, "/sys/fs/cgroupx/a", -EINVAL);
	join_bad(m, "/sys/fs", -EINVAL);
	join_bad(m, "/sys", -EINVAL);
	join_bad("/sys/fs/cgroup/unified", "/sys/fs/cgroup/lwfp-test",
		 -EINVAL);
	join_bad("/sys/fs/cgroup/unified", "/sys/fs/cgroup", -EINVAL);
	/* bad mount points */
	join_bad("sys/fs/cgroup", "/x", -EINVAL);
	join_bad("", "/x", -EINVAL);
	join_bad(NULL, "/x", -EINVAL);
	join_bad("/sys/../cgroup", "/x", -EINVAL);
	/* too long for out (64 bytes in join_bad) */
	join_bad(m, "/0123456789/0123456789/0123456789/0123456789/01234",
		 -ENAMETOOLONG);

	/* one byte short */
	assert_int_equal(cgroup_path_join("/m", "/abc", out, 6, &level, err,
					  sizeof(err)), -ENAMETOOLONG);
	check_msg();
	assert_string_equal(out, "keep");
	assert_int_equal(level, 3);
	assert_int_equal(cgroup_path_join("/m", "/", out, 0, &level, err,
					  sizeof(err)), -ENAMETOOLONG);

	/* a component of 255 is fine, 256 is not */
	memset(name, 'n', 255);
	name[255] = '\0';
	snprintf(path, sizeof(path), "/%s", name);
	{
		char want[320];

		snprintf(want, sizeof(want), "/m%s", path);
		join_ok("/m", path, want, 1);
	}
	memset(name, 'n', 256);
	name[256] = '\0';
	snprintf(path, sizeof(path), "/%s", name);
	join_bad("/m", path, -EINVAL);
}

static void test_cgroup_join_long(void **state)
{
	char *path, out[64];
	size_t i;
	int level = 5;

	(void)state;
	/* longer than PATH_MAX in total */
	path = malloc(20001);
	assert_non_null(path);
	for (i = 0; i < 20000; i += 2) {
		path[i] = '/';
		path[i + 1] = 'a';
	}
	path[20000] = '\0';
	poison_err();
	assert_int_equal(cgroup_path_join("/m", path, out, sizeof(out), &level,
					  err, sizeof(err)), -ENAMETOOLONG);
	check_msg();
	assert_true(strlen(err) < 200);
	assert_int_equal(level, 5);

	/* thousands of slashes collapse */
	memset(path, '/', 20000);
	memcpy(path + 10000, "x", 1);
	assert_int_equal(cgroup_path_join("/m", path, out, sizeof(out), &level,
					  err, sizeof(err)), 0);
	assert_string_equal(out, "/m/x");
	assert_int_equal(level, 1);
	free(path);
}

/* ---- find_cgroup2_mount_in ---- */

static int mountinfo(const char *text, char *out, size_t outlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = find_cgroup2_mount_in(f, out, outlen);
	fclose(f);
	return ret;
}

static const char hybrid[] =
	"21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"22 26 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"26 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
	"31 21 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
	"33 31 0:30 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
	"34 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory\n";

static void test_mountinfo(void **state)
{
	char out[256];

	(void)state;
	/* hybrid: tmpfs at /sys/fs/cgroup, v1 controllers, v2 in unified */
	assert_int_equal(mountinfo(hybrid, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");

	/* unified: no optional fields */
	assert_int_equal(mountinfo(
		"26 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"30 21 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n",
		out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");

	/* several optional fields */
	assert_int_equal(mountinfo(
		"30 21 0:26 / /cg rw shared:4 master:1 propagate_from:2 unbindable - cgroup2 none rw\n",
		out, sizeof(out)), 0);
	assert_string_equal(out, "/cg");

	/* escaped mount point: space, tab, newline, backslash */
	assert_int_equal(mountinfo(
		"26 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"40 26 0:40 / /mnt/my\\040cgroup\\011two\\012three\\134four rw,relatime - cgroup2 cgroup2 rw\n",
		out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cgroup\ttwo\nthree\\four");

	/* the first of two */
	assert_int_equal(mountinfo(
		"40 26 0:40 / /first rw - cgroup2 cgroup2 rw\n"
		"41 26 0:40 / /second rw - cgroup2 cgroup2 rw\n",
		out, sizeof(out)), 0);
	assert_string_equal(out, "/first");

	/* v1 only, and a v1 mount point named like v2 */
	assert_int_equal(mountinfo(
		"31 21 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
		"32 31 0:29 / /sys/fs/cgroup/cgroup2 rw - cgroup cgroup2 rw,cpu\n"
		"33 31 0:29 / /cgroup2 rw shared:1 cgroup2 - cgroup cgroup rw\n",
		out, sizeof(out)), -ENOENT);

	/* fstype in a position other than after " - " does not count */
	assert_int_equal(mountinfo(
		"30 21 0:26 / /x rw cgroup2 - tmpfs cgroup2 rw\n",
		out, sizeof(out)), -ENOENT);

	/* malformed lines are skipped */
	assert_int_equal(mountinfo(
		"\n"
		"garbage\n"
		"1 2 3 4\n"
		"1 2 3 4 5 6 -\n"
		"- - - - - - - cgroup2\n"
		"1 2 0:1 / relative rw - cgroup2 cgroup2 rw\n"
		"1 2 0:1 / /nul\\000x rw - cgroup2 cgroup2 rw\n"
		"30 21 0:26 / /ok rw - cgroup2 cgroup2 rw",	/* no newline */
		out, sizeof(out)), 0);
	assert_string_equal(out, "/ok");

	/* too small a buffer: error, out untouched */
	strcpy(out, "keep");
	assert_int_equal(mountinfo(hybrid, out, 22), -ENAMETOOLONG);
	assert_string_equal(out, "keep");
	assert_int_equal(mountinfo(hybrid, out, 23), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	strcpy(out, "keep");
	assert_int_equal(mountinfo(hybrid, out, 0), -ENAMETOOLONG);
	assert_string_equal(out, "keep");

	/* none at all */
	assert_int_equal(mountinfo("26 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
				   out, sizeof(out)), -ENOENT);
}

static void test_mountinfo_empty(void **state)
{
	char buf[1] = "", out[64];
	FILE *f;

	(void)state;
	f = fmemopen(buf, 0, "r");
	if (!f)
		f = fmemopen(buf, 1, "r");
	assert_non_null(f);
	assert_int_equal(find_cgroup2_mount_in(f, out, sizeof(out)), -ENOENT);
	fclose(f);
}

static void test_mountinfo_long_line(void **state)
{
	char *text, out[64];
	size_t n = 100000;

	(void)state;
	text = malloc(n + 100);
	assert_non_null(text);
	memset(text, 'x', n);
	text[0] = '/';
	strcpy(text + n, "\n30 21 0:26 / /after rw - cgroup2 cgroup2 rw\n");
	assert_int_equal(mountinfo(text, out, sizeof(out)), 0);
	assert_string_equal(out, "/after");
	free(text);
}

static void test_mountinfo_self(void **state)
{
	char out[4096];
	int ret;

	(void)state;
	ret = find_cgroup2_mount(out, sizeof(out));
	assert_true(ret == 0 || ret == -ENOENT);
	if (!ret) {
		assert_true(out[0] == '/');
		print_message("cgroup2 is mounted at %s\n", out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_valid),
		cmocka_unit_test(test_endpoint_invalid),
		cmocka_unit_test(test_endpoint_messages),
		cmocka_unit_test(test_cidr_valid),
		cmocka_unit_test(test_cidr_invalid),
		cmocka_unit_test(test_cidr_messages),
		cmocka_unit_test(test_port_range),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_service_name),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_cgroup_join_valid),
		cmocka_unit_test(test_cgroup_join_invalid),
		cmocka_unit_test(test_cgroup_join_long),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_mountinfo_empty),
		cmocka_unit_test(test_mountinfo_long_line),
		cmocka_unit_test(test_mountinfo_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
