/* SPDX-License-Identifier: MIT */
/* UDP flows as the library finds them for a service's socket. */
#ifndef LWFP_UDP_H
#define LWFP_UDP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "lwfp_abi.h"

struct lwfp;

/* The hop of the UDP flow from peer to fd's port: -ENODATA if none. */
int udp_hop(struct lwfp *e, int fd, const struct sockaddr *peer,
	    socklen_t peerlen, struct lwfp_hop *st);
/* The same, and its redirect context into buf (see hop_context), or with
 * layout the rule's layout of it (hop_layout: -ENOMSG if the rule has
 * none), with no other thread of this process asking through fd in
 * between. */
int udp_hop_context(struct lwfp *e, int fd, const struct sockaddr *peer,
		    socklen_t peerlen, bool layout, struct lwfp_hop *st,
		    void *buf, size_t *len);

#endif /* LWFP_UDP_H */
