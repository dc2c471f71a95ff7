/* SPDX-License-Identifier: MIT */
/* Socket addresses for the examples: "127.0.0.1:53" / "[::1]:53". */
#ifndef LWFP_EXAMPLES_ADDR_H
#define LWFP_EXAMPLES_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

#define ADDR_LEN	64	/* room for any formatted address */

/* Format ss into buf (ADDR_LEN bytes); returns buf. */
const char *addr_fmt(const struct sockaddr_storage *ss, char *buf);
/* Parse "a.b.c.d:port" or "[v6]:port"; 0 or -1. */
int addr_parse(const char *arg, struct sockaddr_storage *ss);
socklen_t addr_len(const struct sockaddr_storage *ss);
/* Same family, address and port. */
bool addr_equal(const struct sockaddr_storage *a,
		const struct sockaddr_storage *b);

#endif /* LWFP_EXAMPLES_ADDR_H */
