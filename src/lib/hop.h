/* SPDX-License-Identifier: MIT */
/* A hop (what the engine knows of one redirected connect or UDP flow) as
 * the library hands it out: records, context, original destination. */
#ifndef LWFP_HOP_H
#define LWFP_HOP_H

#include <stddef.h>
#include <sys/socket.h>

#include "lwfp_abi.h"

struct lwfp;

/* Copy n bytes to buf if *len allows, else -ERANGE; *len = n. */
int copy_out(const void *src, size_t n, void *buf, size_t *len);
void endpoint_to_sockaddr(const struct lwfp_endpoint *ep,
			  struct sockaddr_storage *ss, socklen_t *len);
/* The redirect context of a hop, encoded into buf (see copy_out); fd is
 * the service's socket of that flow, through which the engine is asked. */
int hop_context(struct lwfp *e, int fd, const struct lwfp_hop *st, void *buf,
		size_t *len);
/* The context as the rule's layout lays it out: as hop_context (*len,
 * -ERANGE), -ENOMSG if the rule has no layout. Its "local" fields are
 * client (clen bytes: a UDP datagram's source), or fd's peer if NULL. */
int hop_layout(struct lwfp *e, int fd, const struct lwfp_hop *st,
	       const struct sockaddr *client, socklen_t clen, void *buf,
	       size_t *len);

#endif /* LWFP_HOP_H */
