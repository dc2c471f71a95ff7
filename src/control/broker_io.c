// SPDX-License-Identifier: MIT
/* What the offload broker asks of one TCP socket. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include "broker_int.h"

/* Bytes written into fd's TCP stream so far: acknowledged plus queued.
 * Read in this order it can only fall short, never run ahead: a drain
 * waits a little longer, a FIN never overtakes a byte. */
__u64 stream_written(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int outq = 0;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) ||
	    ioctl(fd, SIOCOUTQ, &outq))
		return 0;
	return ti.tcpi_bytes_acked + (__u64)outq;
}

__u64 socket_cookie(int fd)
{
	__u64 c = 0;
	socklen_t len = sizeof(c);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len) ? 0 : c;
}

/* Reset the connection now, whoever else holds the socket: a connect()
 * to AF_UNSPEC disconnects it, with a RST to the peer. */
int socket_reset(int fd)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	return connect(fd, &sa, sizeof(sa)) ? -errno : 0;
}
