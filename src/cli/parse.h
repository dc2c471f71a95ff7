/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for the arguments of the lwfp CLI.
 *
 * Every function returns 0 on success or a negative errno. On failure it
 * also writes one line (no newline) describing the problem into err
 * (truncated to errlen; err may be NULL when errlen is 0), e.g.
 * "bad port '70000': must be 1-65535". On success err is set to "".
 * Output parameters are written only on success.
 *
 * Numbers are strict decimal: digits only, no sign, no white space, no
 * hex, and no leading zeros (so "010" is neither 8 nor silently 10).
 */
#ifndef LWFP_PARSE_H
#define LWFP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

/* An address prefix over the 128-bit space; IPv4 is stored v4-mapped. */
struct lwfp_cidr {
	uint8_t net[16];	/* the network, host bits clear */
	uint8_t mask[16];	/* prefix_len leading one bits */
	uint8_t prefix_len;	/* 0..128; IPv4 /n is 96 + n */
	int family;		/* AF_INET or AF_INET6, as written */
};

/*
 * "127.0.0.1:8080", "[::1]:8080", "[::ffff:127.0.0.1]:80". IPv6 must be
 * bracketed; no host names, no zone ids. Port 1..65535. Fills a
 * sockaddr_in or sockaddr_in6 (the family as written) and its length.
 */
int parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		   char *err, size_t errlen);

/*
 * "10.0.0.0/8" (prefix 104), "127.0.0.1" (/32: 128), "::1/128", "::/0",
 * "0.0.0.0/0" (96: every IPv4 address). Host bits must be clear.
 */
int parse_cidr(const char *s, struct lwfp_cidr *out, char *err, size_t errlen);

/* "80" or "1000-2000": 1..65535, lo <= hi. */
int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi,
		     char *err, size_t errlen);

/* 0..4294967295. */
int parse_u32(const char *s, uint32_t *out, char *err, size_t errlen);

/*
 * A decimal uid (not 4294967295, which is (uid_t)-1) or a user name,
 * looked up with getpwnam_r (this one does I/O). A string of digits is
 * always a number.
 */
int parse_uid(const char *s, uint32_t *uid, char *err, size_t errlen);

/* 1..INT_MAX (whatever fits in pid_t). */
int parse_pid(const char *s, pid_t *pid, char *err, size_t errlen);

/* 0..65535. */
int parse_weight(const char *s, uint32_t *weight, char *err, size_t errlen);

/* 1..31 characters of [A-Za-z0-9_.-], not starting with '-' or '.'. */
int check_service_name(const char *s, char *err, size_t errlen);

/* "tcp" -> IPPROTO_TCP; "udp" -> -EPROTONOSUPPORT; else -EINVAL. */
int parse_proto(const char *s, uint8_t *proto, char *err, size_t errlen);

#endif /* LWFP_PARSE_H */
