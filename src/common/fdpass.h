/* SPDX-License-Identifier: MIT */
/* One message and the descriptors it carries (SCM_RIGHTS) over a Unix
 * socket: what a service and the offload broker say to each other. */
#ifndef LWFP_FDPASS_H
#define LWFP_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX	4	/* descriptors one message may carry */

/* Send len bytes of buf with nfds (at most FDPASS_MAX) descriptors.
 * Returns the bytes sent, or -errno. */
ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds,
		    size_t nfds, int flags);

/* Receive one message into buf and up to maxfds descriptors (close-on-exec)
 * into fds; *nfds is how many came. Descriptors beyond maxfds are closed;
 * -EMSGSIZE, with all of them closed, if the kernel had to drop some.
 * Returns the bytes received (0: the peer hung up), or -errno. */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t maxfds,
		    size_t *nfds, int flags);

#endif /* LWFP_FDPASS_H */
