/* SPDX-License-Identifier: MIT */
/* UDP flows as the library finds them for a service's socket. */
#ifndef LWFP_UDP_H
#define LWFP_UDP_H

#include <sys/socket.h>

#include "lwfp_abi.h"

struct lwfp;

/* The hop of the UDP flow from peer to fd's port: -ENODATA if none. */
int udp_hop(struct lwfp *e, int fd, const struct sockaddr *peer,
	    socklen_t peerlen, struct lwfp_hop *st);
/* Which context udp_hop_context() gives. */
enum udp_ctx {
	UDP_CTX_TLV,		/* lwfp's TLV (hop_context) */
	UDP_CTX_LAYOUT,		/* the rule's layout (hop_layout), or -ENOMSG */
	UDP_CTX_LAYOUT_OR_TLV,	/* the layout if the rule has one, else TLV */
};

/* The same, and its redirect context into buf as want says, with no other
 * thread of this process asking through fd in between. */
int udp_hop_context(struct lwfp *e, int fd, const struct sockaddr *peer,
		    socklen_t peerlen, enum udp_ctx want, struct lwfp_hop *st,
		    void *buf, size_t *len);

#endif /* LWFP_UDP_H */
