// SPDX-License-Identifier: MIT
/* Descriptors passed with a message (fdpass.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds,
		    size_t nfds, int flags)
{
	char cbuf[CMSG_SPACE(FDPASS_MAX * sizeof(int))] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > FDPASS_MAX)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	n = sendmsg(sock, &m, flags | MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

/* Keep the descriptors of c in fds while there is room, close the rest. */
static void take_fds(struct cmsghdr *c, int *fds, size_t maxfds,
		     size_t *nfds)
{
	size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

	for (size_t i = 0; i < k; i++) {
		int fd;

		memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
		if (*nfds < maxfds)
			fds[(*nfds)++] = fd;
		else
			close(fd);
	}
}

ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t maxfds,
		    size_t *nfds, int flags)
{
	char cbuf[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &m, flags | MSG_CMSG_CLOEXEC);

	*nfds = 0;
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			take_fds(c, fds, maxfds, nfds);
	if (m.msg_flags & MSG_CTRUNC) {
		while (*nfds)
			close(fds[--*nfds]);
		return -EMSGSIZE;
	}
	return n;
}
