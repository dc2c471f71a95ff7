// SPDX-License-Identifier: MIT
/* lwfp_offload(): hand a flow's two sockets to the engine's broker
 * (offload_wire.h) and follow the flow's end on the handle it returns. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "lwfp.h"
#include "fdpass.h"
#include "lwfp_abi.h"
#include "offload_wire.h"
#include "util.h"

/* A connection to the broker of the engine that redirected accepted. */
static int broker_connect(struct lwfp *e, int accepted)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };	/* a broker that hangs */
	struct lwfp_records rec;
	size_t len = sizeof(rec);
	int fd, err = lwfp_query_records(e, accepted, &rec, &len);

	if (err)
		return err;
	if (offload_socket_path(rec.engine_id, sa.sun_path,
				sizeof(sa.sun_path)))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno == ENOENT || errno == ECONNREFUSED ?
			      -EOPNOTSUPP : -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int request_send(int conn, int accepted, int outbound)
{
	struct lwfp_offload_req req = {
		.magic = LWFP_OFFLOAD_MAGIC, .version = LWFP_OFFLOAD_VERSION,
		.op = LWFP_OFFLOAD_OP_PAIR,
	};
	int fds[2] = { accepted, outbound };
	ssize_t n = fdpass_send(conn, &req, sizeof(req), fds, 2, 0);

	return n == sizeof(req) ? 0 : n < 0 ? (int)n : -EPROTO;
}

/* The broker's answer: 0 and the handle, or its -errno. */
static int reply_read(int conn, int *handle)
{
	struct lwfp_offload_reply r;
	int fd = -1;
	size_t nfds;
	ssize_t n = fdpass_recv(conn, &r, sizeof(r), &fd, 1, &nfds, 0);

	if (n < 0)
		return n == -EAGAIN ? -ETIMEDOUT : (int)n;
	if (n != (ssize_t)sizeof(r) || r.magic != LWFP_OFFLOAD_MAGIC ||
	    (!r.error && !nfds)) {
		if (nfds)
			close(fd);
		return -EPROTO;
	}
	if (r.error) {
		if (nfds)
			close(fd);
		return r.error;
	}
	*handle = fd;
	return 0;
}

LWFP_EXPORT int lwfp_offload(struct lwfp *e, int accepted, int outbound,
			     int *handle)
{
	int conn, err;

	if (!handle || accepted < 0 || outbound < 0 || accepted == outbound)
		return -EINVAL;
	conn = broker_connect(e, accepted);
	if (conn < 0)
		return conn;
	err = request_send(conn, accepted, outbound);
	if (!err)
		err = reply_read(conn, handle);
	close(conn);
	return err;
}

LWFP_EXPORT int lwfp_offload_end(int handle, struct lwfp_offload_end *end)
{
	struct lwfp_offload_report r;
	ssize_t n;

	if (!end)
		return -EINVAL;
	n = recv(handle, &r, sizeof(r), MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	memset(end, 0, sizeof(*end));
	if (n == 0) {		/* the broker went without a word */
		end->end = -ESHUTDOWN;
		return 0;
	}
	if (n != (ssize_t)sizeof(r) || r.magic != LWFP_OFFLOAD_MAGIC)
		return -EPROTO;
	end->end = r.end;
	end->to_origin = r.bytes[0];
	end->to_client = r.bytes[1];
	return 0;
}

static int handle_say(int handle, enum lwfp_offload_op op)
{
	struct lwfp_offload_req req = {
		.magic = LWFP_OFFLOAD_MAGIC, .version = LWFP_OFFLOAD_VERSION,
		.op = op,
	};

	return send(handle, &req, sizeof(req), MSG_NOSIGNAL) == sizeof(req) ?
		       0 : -errno;
}

LWFP_EXPORT int lwfp_offload_close(int handle)
{
	return handle_say(handle, LWFP_OFFLOAD_OP_CLOSE);
}

LWFP_EXPORT int lwfp_offload_reset(int handle)
{
	return handle_say(handle, LWFP_OFFLOAD_OP_RESET);
}
