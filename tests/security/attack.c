// SPDX-License-Identifier: MIT
/* See attack.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"
#include "attack.h"

void attacker_enter(void)
{
	cg_enter("app");
	if (setgid(NOBODY) || setuid(NOBODY))
		_exit(3);
}

int connect_loopback(int fd, uint16_t port)
{
	struct sockaddr_in dst = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	return connect(fd, (struct sockaddr *)&dst, sizeof(dst)) ? errno : 0;
}

bool reached(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

bool redirect_port(uint16_t svc_port, const char *opt, const char *val,
		   uint16_t orig_port)
{
	char listen[32], dport[8];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	return !lwfp_run("service", "add", "svc", "--listen", listen, opt, val,
			 NULL) &&
	       !lwfp_run("rule", "add", "--service", "svc", "--dst",
			 "127.0.0.1/32", "--dport", dport, NULL);
}
