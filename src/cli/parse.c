// SPDX-License-Identifier: MIT
/*
 * Parsers for the arguments of the lwfp CLI. See parse.h. Pure but for
 * parse_uid(), which looks a user name up in the user database.
 *
 * Each failure writes exactly one line into the caller's err buffer. User
 * input quoted in a message is passed through quote(), which replaces
 * control and non-ASCII bytes with '?' and shortens long input, so a
 * message never spans lines whatever the input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "i18n.h"
#include "lwfp_abi.h"
#include "parse.h"
#include "util.h"
#include "msg.h"

_Static_assert(sizeof(pid_t) == sizeof(int), "pid_t is not an int");

#define USER_NAME_MAX	256
#define SERVICE_NAME_LEN (LWFP_SERVICE_NAME_MAX - 1)

enum dec {
	DEC_OK,
	DEC_JUNK,	/* empty, or not only digits */
	DEC_ZERO,	/* leading zero */
	DEC_RANGE,	/* greater than max */
};

/* Strict decimal in s[0..n): digits only, no leading zeros, <= max. */
static enum dec parse_dec(const char *s, size_t n, uint64_t max,
			  uint64_t *out)
{
	uint64_t v = 0;
	bool big = false;
	size_t i;

	if (!n)
		return DEC_JUNK;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return DEC_JUNK;
		if (!big) {
			v = v * 10 + (uint64_t)(s[i] - '0');
			big = v > max;
		}
	}
	if (s[0] == '0' && n > 1)
		return DEC_ZERO;
	if (big)
		return DEC_RANGE;
	*out = v;
	return DEC_OK;
}

/* A number that must be lo..hi: the value or a message. */
static int parse_num(const char *s, size_t n, const char *what,
		     uint64_t lo, uint64_t hi, uint64_t *out,
		     char *err, size_t errlen)
{
	uint64_t v = 0;

	switch (parse_dec(s, n, hi, &v)) {
	case DEC_OK:
		if (v >= lo)
			break;
		/* fall through */
	case DEC_RANGE:
		return fail(-EINVAL, err, errlen,
			    _("bad %s '%s': must be %llu-%llu"), _(what),
			    quote_n(s, n).s, (unsigned long long)lo,
			    (unsigned long long)hi);
	case DEC_ZERO:
		return fail(-EINVAL, err, errlen,
			    _("bad %s '%s': leading zeros are not allowed"),
			    _(what), quote_n(s, n).s);
	default:
		if (!n)
			return fail(-EINVAL, err, errlen, _("missing %s"), _(what));
		return fail(-EINVAL, err, errlen,
			    _("bad %s '%s': must be a decimal number %llu-%llu"),
			    _(what), quote_n(s, n).s, (unsigned long long)lo,
			    (unsigned long long)hi);
	}
	*out = v;
	return 0;
}

/* The address part of IPV4:PORT or [IPV6]:PORT: its start, length,
 * family, and where the port starts. */
static int split_endpoint(const char *s, const char **h, size_t *hlen,
			  const char **port, int *family, char *err,
			  size_t errlen)
{
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end)
			return fail(-EINVAL, err, errlen,
				    _("bad endpoint '%s': missing ']' after the IPv6 address"),
				    quote(s).s);
		if (end[1] != ':')
			return fail(-EINVAL, err, errlen,
				    _("bad endpoint '%s': expected [IPV6]:PORT"),
				    quote(s).s);
		*h = s + 1;
		*hlen = end - *h;
		*port = end + 2;
		*family = AF_INET6;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon || memchr(s, ':', colon - s))
			return fail(-EINVAL, err, errlen,
				    _("bad endpoint '%s': expected IPV4:PORT or [IPV6]:PORT (IPv6 addresses must be in brackets)"),
				    quote(s).s);
		*h = s;
		*hlen = colon - s;
		*port = colon + 1;
		*family = AF_INET;
	}
	if (!*hlen)
		return fail(-EINVAL, err, errlen,
			    _("bad endpoint '%s': missing address"), quote(s).s);
	if (*family == AF_INET6 && memchr(*h, '%', *hlen))
		return fail(-EINVAL, err, errlen,
			    _("bad endpoint '%s': zone ids are not supported"),
			    quote(s).s);
	return 0;
}

static void endpoint_fill(struct sockaddr_storage *ss, socklen_t *len,
			  int family, const unsigned char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
		*len = sizeof(*sin6);
	}
}

int parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		   char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	const char *h = NULL, *port = NULL;
	size_t hlen = 0;
	uint64_t pnum;
	int family = AF_INET, ret;

	clear_err(err, errlen);
	if (!s || !*s)
		return fail(-EINVAL, err, errlen,
			    _("missing endpoint: expected IPV4:PORT or [IPV6]:PORT"));
	ret = split_endpoint(s, &h, &hlen, &port, &family, err, errlen);
	if (ret)
		return ret;
	if (hlen < sizeof(host)) {
		memcpy(host, h, hlen);
		host[hlen] = '\0';
		ret = inet_pton(family, host, addr);
	} else {
		ret = 0;
	}
	if (ret != 1)
		return fail(-EINVAL, err, errlen, family == AF_INET ?
			    _("bad address '%s': expected an IPv4 address (no host names) or a bracketed IPv6 address") :
			    _("bad address '%s': not an IPv6 address"),
			    quote_n(h, hlen).s);
	if (!*port)
		return fail(-EINVAL, err, errlen,
			    _("bad endpoint '%s': missing port"), quote(s).s);
	ret = parse_num(port, strlen(port), N_("port"), 1, 65535, &pnum,
			err, errlen);
	if (ret)
		return ret;
	endpoint_fill(ss, len, family, addr, (uint16_t)pnum);
	return 0;
}

/* The prefix length after the slash of network s, or max without one. */
static int cidr_prefix_len(const char *s, const char *slash, unsigned int max,
			   uint64_t *plen, char *err, size_t errlen)
{
	const char *p = slash ? slash + 1 : NULL;
	size_t n = p ? strlen(p) : 0;

	if (!slash) {
		*plen = max;
		return 0;
	}
	switch (parse_dec(p, n, max, plen)) {
	case DEC_OK:
		return 0;
	case DEC_ZERO:
		return fail(-EINVAL, err, errlen,
			    _("bad network '%s': prefix length: leading zeros are not allowed"),
			    quote(s).s);
	default:
		if (!n)
			return fail(-EINVAL, err, errlen,
				    _("bad network '%s': missing prefix length after '/'"),
				    quote(s).s);
		return fail(-EINVAL, err, errlen,
			    _("bad network '%s': prefix length must be 0-%u"),
			    quote(s).s, max);
	}
}

int parse_cidr(const char *s, struct lwfp_cidr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN], sugg[INET6_ADDRSTRLEN];
	uint8_t addr[16], mask[16], net[16], v4[4];
	const char *slash;
	size_t hlen;
	uint64_t plen;
	unsigned int max, prefix, i;
	bool host_bits = false;
	int family, ret;

	clear_err(err, errlen);
	if (!s || !*s)
		return fail(-EINVAL, err, errlen,
			    _("missing network: expected ADDRESS[/PREFIX]"));

	slash = strchr(s, '/');
	hlen = slash ? (size_t)(slash - s) : strlen(s);
	family = memchr(s, ':', hlen) ? AF_INET6 : AF_INET;
	max = family == AF_INET ? 32 : 128;

	if (!hlen)
		return fail(-EINVAL, err, errlen,
			    _("bad network '%s': missing address"), quote(s).s);
	if (hlen < sizeof(host)) {
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		ret = inet_pton(family, host, family == AF_INET ?
				addr + 12 : addr);
	} else {
		ret = 0;
	}
	if (ret != 1)
		return fail(-EINVAL, err, errlen,
			    _("bad network '%s': '%s' is not an IPv4 or IPv6 address"),
			    quote(s).s, quote_n(s, hlen).s);
	if (family == AF_INET) {
		memcpy(v4, addr + 12, 4);
		lwfp_v4_map(addr, v4);
	}

	ret = cidr_prefix_len(s, slash, max, &plen, err, errlen);
	if (ret)
		return ret;

	prefix = (unsigned int)plen + (family == AF_INET ? 96 : 0);
	for (i = 0; i < 16; i++) {
		unsigned int bits = prefix > i * 8 ? prefix - i * 8 : 0;

		mask[i] = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
		net[i] = addr[i] & mask[i];
		host_bits |= net[i] != addr[i];
	}
	if (host_bits) {
		inet_ntop(family, family == AF_INET ? net + 12 : net, sugg,
			  sizeof(sugg));
		return fail(-EINVAL, err, errlen,
			    _("bad network '%s': host bits set, did you mean %s/%u?"),
			    quote(s).s, sugg, (unsigned int)plen);
	}

	memcpy(out->net, net, 16);
	memcpy(out->mask, mask, 16);
	out->prefix_len = (uint8_t)prefix;
	out->family = family;
	return 0;
}

int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi,
		     char *err, size_t errlen)
{
	const char *dash;
	uint64_t a, b;
	int ret;

	clear_err(err, errlen);
	if (!s || !*s)
		return fail(-EINVAL, err, errlen,
			    _("missing port: expected PORT or LOW-HIGH"));

	dash = strchr(s, '-');
	if (!dash) {
		ret = parse_num(s, strlen(s), N_("port"), 1, 65535, &a,
				err, errlen);
		if (ret)
			return ret;
		b = a;
	} else {
		if (dash == s || !dash[1] || strchr(dash + 1, '-'))
			return fail(-EINVAL, err, errlen,
				    _("bad port range '%s': expected PORT or LOW-HIGH"),
				    quote(s).s);
		ret = parse_num(s, dash - s, N_("port"), 1, 65535, &a,
				err, errlen);
		if (!ret)
			ret = parse_num(dash + 1, strlen(dash + 1), N_("port"),
					1, 65535, &b, err, errlen);
		if (ret)
			return ret;
		if (a > b)
			return fail(-EINVAL, err, errlen,
				    _("bad port range '%s': %llu is greater than %llu"),
				    quote(s).s, (unsigned long long)a,
				    (unsigned long long)b);
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int parse_u32(const char *s, uint32_t *out, char *err, size_t errlen)
{
	uint64_t v;
	int ret;

	clear_err(err, errlen);
	ret = parse_num(s ? s : "", s ? strlen(s) : 0, N_("number"), 0,
			UINT32_MAX, &v, err, errlen);
	if (!ret)
		*out = (uint32_t)v;
	return ret;
}

int parse_uid(const char *s, uint32_t *uid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	long size;
	char *buf;
	uint64_t v;
	int ret;

	clear_err(err, errlen);
	if (!s || !*s)
		return fail(-EINVAL, err, errlen, _("missing uid or user name"));

	if (strspn(s, "0123456789") == strlen(s)) {
		/* (uid_t)-1 means "no uid" to the kernel: not a user */
		ret = parse_num(s, strlen(s), N_("uid"), 0, UINT32_MAX - 1, &v,
				err, errlen);
		if (!ret)
			*uid = (uint32_t)v;
		return ret;
	}

	if (strnlen(s, USER_NAME_MAX + 1) > USER_NAME_MAX ||
	    strpbrk(s, ":/\n"))
		return fail(-EINVAL, err, errlen, _("bad user '%s': no such user"),
			    quote(s).s);

	size = sysconf(_SC_GETPW_R_SIZE_MAX);
	if (size < 1024)
		size = 1024;
	for (;;) {
		buf = malloc(size);
		if (!buf)
			return fail(-ENOMEM, err, errlen,
				    _("cannot look up user '%s': out of memory"),
				    quote(s).s);
		ret = getpwnam_r(s, &pw, buf, size, &res);
		if (ret != ERANGE || size >= (1L << 24))
			break;
		free(buf);
		size *= 2;
	}
	if (res) {
		*uid = pw.pw_uid;
		free(buf);
		return 0;
	}
	free(buf);
	/* Not found is 0, or one of these, depending on the NSS module. */
	if (!ret || ret == ENOENT || ret == ESRCH || ret == EBADF ||
	    ret == EPERM)
		return fail(-EINVAL, err, errlen, _("bad user '%s': no such user"),
			    quote(s).s);
	errno = ret;
	return fail(-ret, err, errlen, _("cannot look up user '%s': %m"),
		    quote(s).s);
}

int parse_pid(const char *s, pid_t *pid, char *err, size_t errlen)
{
	uint64_t v;
	int ret;

	clear_err(err, errlen);
	ret = parse_num(s ? s : "", s ? strlen(s) : 0, N_("pid"), 1, INT_MAX, &v,
			err, errlen);
	if (!ret)
		*pid = (pid_t)v;
	return ret;
}

int parse_weight(const char *s, uint32_t *weight, char *err, size_t errlen)
{
	uint64_t v;
	int ret;

	clear_err(err, errlen);
	ret = parse_num(s ? s : "", s ? strlen(s) : 0, N_("weight"), 0, 65535, &v,
			err, errlen);
	if (!ret)
		*weight = (uint32_t)v;
	return ret;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int check_service_name(const char *s, char *err, size_t errlen)
{
	size_t i, n;

	clear_err(err, errlen);
	if (!s || !*s)
		return fail(-EINVAL, err, errlen, _("missing service name"));
	n = strnlen(s, SERVICE_NAME_LEN + 1);
	if (n > SERVICE_NAME_LEN)
		return fail(-EINVAL, err, errlen,
			    _("bad service name '%s': at most %d characters"),
			    quote(s).s, SERVICE_NAME_LEN);
	for (i = 0; i < n; i++)
		if (!name_char(s[i]))
			return fail(-EINVAL, err, errlen,
				    _("bad service name '%s': only letters, digits, '_', '.' and '-' are allowed"),
				    quote(s).s);
	if (s[0] == '-' || s[0] == '.')
		return fail(-EINVAL, err, errlen,
			    _("bad service name '%s': must not start with '-' or '.'"),
			    quote(s).s);
	return 0;
}

int parse_proto(const char *s, uint8_t *proto, char *err, size_t errlen)
{
	clear_err(err, errlen);
	if (!s || !*s)
		return fail(-EINVAL, err, errlen, _("missing protocol"));
	if (!strcasecmp(s, "tcp")) {
		*proto = IPPROTO_TCP;
		return 0;
	}
	if (!strcasecmp(s, "udp")) {
		*proto = IPPROTO_UDP;
		return 0;
	}
	return fail(-EINVAL, err, errlen, _("bad protocol '%s': tcp or udp"),
		    quote(s).s);
}
