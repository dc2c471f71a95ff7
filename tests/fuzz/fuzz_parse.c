// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the CLI argument parsers (src/parse.c).
 *
 * The first byte picks the parser (low 7 bits) and the size of the error
 * buffer (high bit); for the cgroup join and mountinfo the next byte is
 * the size of a tight output buffer; the rest, NUL-terminated, is the
 * argument (mountinfo gets the raw bytes). Every
 * result is checked against the parser's contract: the error message is
 * one non-empty line on failure and empty on success, outputs satisfy
 * their invariants, and what a parser accepts formats back to something
 * it accepts again with the same meaning.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "cgroup_path.h"

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

enum {
	F_ENDPOINT,
	F_CIDR,
	F_PORT_RANGE,
	F_U32,
	F_UID,
	F_PID,
	F_WEIGHT,
	F_SERVICE,
	F_PROTO,
	F_CGROUP,
	F_MOUNTINFO,
	F_MAX,
};

static void check_err(int ret, const char *err, size_t errlen)
{
	size_t i, n = strnlen(err, errlen);

	CHECK(n < errlen);
	if (!ret) {
		CHECK(n == 0);
		return;
	}
	CHECK(ret < 0);
	CHECK(n > 0 || errlen == 1);
	for (i = 0; i < n; i++)
		CHECK((unsigned char)err[i] >= 0x20 &&
		      (unsigned char)err[i] < 0x7f);
}

static void fuzz_endpoint(const char *s, char *err, size_t errlen)
{
	struct sockaddr_storage ss, ss2;
	socklen_t len = 0, len2 = 0;
	char text[INET6_ADDRSTRLEN], again[80];
	char e2[256];
	int ret;

	ret = parse_endpoint(s, &ss, &len, err, errlen);
	check_err(ret, err, errlen);
	if (ret) {
		CHECK(ret == -EINVAL);
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		CHECK(len == sizeof(*sin));
		CHECK(sin->sin_port != 0);
		CHECK(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)));
		snprintf(again, sizeof(again), "%s:%u", text,
			 ntohs(sin->sin_port));
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		CHECK(ss.ss_family == AF_INET6);
		CHECK(len == sizeof(*sin6));
		CHECK(sin6->sin6_port != 0);
		CHECK(sin6->sin6_scope_id == 0);
		CHECK(inet_ntop(AF_INET6, &sin6->sin6_addr, text,
				sizeof(text)));
		snprintf(again, sizeof(again), "[%s]:%u", text,
			 ntohs(sin6->sin6_port));
	}
	CHECK(parse_endpoint(again, &ss2, &len2, e2, sizeof(e2)) == 0);
	CHECK(len2 == len);
	CHECK(!memcmp(&ss, &ss2, len));
}

static void fuzz_cidr(const char *s, char *err, size_t errlen)
{
	static const uint8_t v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct lwfp_cidr c, c2;
	char text[INET6_ADDRSTRLEN], again[80], e2[256];
	unsigned int i, ones = 0;
	int ret;

	ret = parse_cidr(s, &c, err, errlen);
	check_err(ret, err, errlen);
	if (ret) {
		CHECK(ret == -EINVAL);
		return;
	}
	CHECK(c.prefix_len <= 128);
	for (i = 0; i < 128; i++) {
		int bit = c.mask[i / 8] >> (7 - i % 8) & 1;

		CHECK(bit == (i < c.prefix_len));	/* contiguous */
		ones += bit;
	}
	CHECK(ones == c.prefix_len);
	for (i = 0; i < 16; i++)
		CHECK((c.net[i] & ~c.mask[i]) == 0);
	if (c.family == AF_INET) {
		CHECK(c.prefix_len >= 96);
		CHECK(!memcmp(c.net, v4mapped, 12));
		CHECK(inet_ntop(AF_INET, c.net + 12, text, sizeof(text)));
		snprintf(again, sizeof(again), "%s/%u", text,
			 c.prefix_len - 96);
	} else {
		CHECK(c.family == AF_INET6);
		CHECK(inet_ntop(AF_INET6, c.net, text, sizeof(text)));
		snprintf(again, sizeof(again), "%s/%u", text, c.prefix_len);
	}
	CHECK(parse_cidr(again, &c2, e2, sizeof(e2)) == 0);
	CHECK(!memcmp(c.net, c2.net, 16));
	CHECK(!memcmp(c.mask, c2.mask, 16));
	CHECK(c.prefix_len == c2.prefix_len);
	CHECK(c.family == c2.family);
}

static void fuzz_port_range(const char *s, char *err, size_t errlen)
{
	uint16_t lo = 0, hi = 0, lo2, hi2;
	char again[16], e2[256];
	int ret;

	ret = parse_port_range(s, &lo, &hi, err, errlen);
	check_err(ret, err, errlen);
	if (ret) {
		CHECK(ret == -EINVAL);
		return;
	}
	CHECK(lo >= 1);
	CHECK(lo <= hi);
	/* strict: only the canonical forms "N", "N-N" and "LO-HI" */
	snprintf(again, sizeof(again), "%u", lo);
	if (lo != hi || strcmp(again, s))
		snprintf(again, sizeof(again), "%u-%u", lo, hi);
	CHECK(!strcmp(again, s));
	CHECK(parse_port_range(again, &lo2, &hi2, e2, sizeof(e2)) == 0);
	CHECK(lo2 == lo && hi2 == hi);
}

/* Strict decimal parsers accept exactly the canonical form. */
static void check_canonical(const char *s, unsigned long long v)
{
	char again[32];

	snprintf(again, sizeof(again), "%llu", v);
	CHECK(!strcmp(again, s));
}

static void fuzz_numbers(int which, const char *s, char *err, size_t errlen)
{
	uint32_t u = 0;
	pid_t pid = 0;
	int ret;

	switch (which) {
	case F_U32:
		ret = parse_u32(s, &u, err, errlen);
		check_err(ret, err, errlen);
		if (!ret)
			check_canonical(s, u);
		break;
	case F_UID:
		ret = parse_uid(s, &u, err, errlen);
		check_err(ret, err, errlen);
		if (!ret && s[0] >= '0' && s[0] <= '9') {
			CHECK(u != UINT32_MAX);
			check_canonical(s, u);
		}
		break;
	case F_PID:
		ret = parse_pid(s, &pid, err, errlen);
		check_err(ret, err, errlen);
		if (!ret) {
			CHECK(pid > 0);
			check_canonical(s, (unsigned long long)pid);
		}
		break;
	default:
		ret = parse_weight(s, &u, err, errlen);
		check_err(ret, err, errlen);
		if (!ret) {
			CHECK(u <= 65535);
			check_canonical(s, u);
		}
		break;
	}
}

static void fuzz_service(const char *s, char *err, size_t errlen)
{
	size_t i, n;
	int ret;

	ret = check_service_name(s, err, errlen);
	check_err(ret, err, errlen);
	if (ret) {
		CHECK(ret == -EINVAL);
		return;
	}
	n = strlen(s);
	CHECK(n >= 1 && n <= 31);
	CHECK(s[0] != '-' && s[0] != '.');
	for (i = 0; i < n; i++)
		CHECK(strchr("abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]));
}

static void fuzz_proto(const char *s, char *err, size_t errlen)
{
	uint8_t p = 0;
	int ret;

	ret = parse_proto(s, &p, err, errlen);
	check_err(ret, err, errlen);
	if (!ret)
		CHECK((p == IPPROTO_TCP && !strcasecmp(s, "tcp")) ||
		      (p == IPPROTO_UDP && !strcasecmp(s, "udp")));
	else
		CHECK(ret == -EINVAL);
}

/* Input: mount '\n' path. */
static void fuzz_cgroup(const char *s, size_t small, char *err,
			size_t errlen)
{
	char out[4096], out2[4096], e2[256], *mount, *path, *nl, *tiny;
	const char *p;
	int level = -1, level2 = -1, comps = 0, ret;

	mount = strdup(s);
	CHECK(mount);
	nl = strchr(mount, '\n');
	if (nl) {
		*nl = '\0';
		path = nl + 1;
	} else {
		path = mount + strlen(mount);
	}

	ret = cgroup_path_join(mount, path, out, sizeof(out), &level, err,
			       errlen);
	check_err(ret, err, errlen);
	if (ret) {
		CHECK(ret == -EINVAL || ret == -ENAMETOOLONG);
		CHECK(level == -1);
		free(mount);
		return;
	}
	CHECK(out[0] == '/');
	CHECK(!strstr(out, "//"));
	CHECK(!strcmp(out, "/") || out[strlen(out) - 1] != '/');
	CHECK(!strstr(out, "/./") && !strstr(out, "/../"));
	for (p = out; *p; p++)
		comps += *p == '/' && p[1];
	CHECK(level >= 0 && level <= comps);

	/* idempotent: the result is an absolute path under the mount */
	CHECK(cgroup_path_join(mount, out, out2, sizeof(out2), &level2, e2,
			       sizeof(e2)) == 0);
	CHECK(!strcmp(out, out2));
	CHECK(level == level2);

	/* fits exactly when strlen(out) < outlen, in a tight buffer */
	tiny = malloc(small ? small : 1);
	CHECK(tiny);
	ret = cgroup_path_join(mount, path, tiny, small, &level2, e2,
			       sizeof(e2));
	CHECK(ret == (strlen(out) < small ? 0 : -ENAMETOOLONG));
	if (!ret)
		CHECK(!strcmp(tiny, out));
	free(tiny);
	free(mount);
}

static void fuzz_mountinfo(const uint8_t *data, size_t size, size_t small)
{
	char out[4096], *tiny;
	FILE *f;
	int ret, ret2;

	f = fmemopen((void *)data, size, "r");
	if (!f)
		return;
	ret = find_cgroup2_mount_in(f, out, sizeof(out));
	fclose(f);
	CHECK(ret == 0 || ret == -ENOENT || ret == -ENAMETOOLONG);
	if (!ret)
		CHECK(out[0] == '/');

	f = fmemopen((void *)data, size, "r");
	if (!f)
		return;
	tiny = malloc(small ? small : 1);
	CHECK(tiny);
	ret2 = find_cgroup2_mount_in(f, tiny, small);
	fclose(f);
	if (!ret)
		CHECK(ret2 == (strlen(out) < small ? 0 : -ENAMETOOLONG));
	if (!ret2)
		CHECK(!strcmp(tiny, out));
	free(tiny);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t errlen, small;
	char *s, *err;
	int which;

	if (!size)
		return 0;
	which = (data[0] & 0x7f) % F_MAX;
	errlen = data[0] & 0x80 ? 7 : 256;
	data++;
	size--;
	small = 0;
	if ((which == F_CGROUP || which == F_MOUNTINFO) && size) {
		small = data[0];	/* a tight output buffer size */
		data++;
		size--;
	}

	s = malloc(size + 1);
	err = malloc(errlen);
	if (!s || !err)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	memset(err, 'X', errlen);

	switch (which) {
	case F_ENDPOINT:
		fuzz_endpoint(s, err, errlen);
		break;
	case F_CIDR:
		fuzz_cidr(s, err, errlen);
		break;
	case F_PORT_RANGE:
		fuzz_port_range(s, err, errlen);
		break;
	case F_U32:
	case F_UID:
	case F_PID:
	case F_WEIGHT:
		fuzz_numbers(which, s, err, errlen);
		break;
	case F_SERVICE:
		fuzz_service(s, err, errlen);
		break;
	case F_PROTO:
		fuzz_proto(s, err, errlen);
		break;
	case F_CGROUP:
		fuzz_cgroup(s, small, err, errlen);
		break;
	default:
		fuzz_mountinfo(data, size, small);
		break;
	}
	free(err);
	free(s);
	return 0;
}
