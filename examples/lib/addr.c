// SPDX-License-Identifier: MIT
/* Socket addresses for the examples: "127.0.0.1:53" / "[::1]:53". */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

const char *addr_fmt(const struct sockaddr_storage *ss, char *buf)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	bool v6 = ss->ss_family == AF_INET6;
	char host[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ss->ss_family, v6 ? (const void *)&sin6->sin6_addr
				    : (const void *)&sin->sin_addr,
		  host, sizeof(host));
	snprintf(buf, ADDR_LEN, v6 ? "[%s]:%u" : "%s:%u", host,
		 ntohs(v6 ? sin6->sin6_port : sin->sin_port));
	return buf;
}

int addr_parse(const char *arg, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;
	const char *colon = strrchr(arg, ':');
	bool v6 = arg[0] == '[';
	char host[INET6_ADDRSTRLEN], *end;
	unsigned long port;
	size_t len;
	void *ip;

	if (!colon || !isdigit((unsigned char)colon[1]))
		return -1;
	port = strtoul(colon + 1, &end, 10);
	len = colon - arg;
	if (*end || port > 65535 || (v6 && (len < 2 || colon[-1] != ']')))
		return -1;
	len -= 2 * v6;			/* without the brackets */
	if (len >= sizeof(host))
		return -1;
	memcpy(host, arg + v6, len);
	host[len] = '\0';

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = v6 ? AF_INET6 : AF_INET;
	if (v6)
		sin6->sin6_port = htons(port);
	else
		sin->sin_port = htons(port);
	ip = v6 ? (void *)&sin6->sin6_addr : (void *)&sin->sin_addr;
	return inet_pton(ss->ss_family, host, ip) == 1 ? 0 : -1;
}

socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

bool addr_equal(const struct sockaddr_storage *a,
		const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
}
