// SPDX-License-Identifier: MIT
/*
 * The per-socket calls a redirect service makes: query records and context
 * on the socket it accepted, set records on the socket it connects out.
 * A hop (struct lwfp_hop) becomes records, context or an address here.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "lwfp.h"
#include "lwfp_abi.h"
#include "engine.h"
#include "records.h"
#include "hop.h"
#include "udp.h"
#include "util.h"

_Static_assert(sizeof(struct lwfp_records) == LWFP_RECORDS_LEN,
	       "LWFP_RECORDS_LEN must match the ABI");
_Static_assert(LWFP_CTX_MAX_LEN == LWFP_CONTEXT_MAX_LEN,
	       "LWFP_CONTEXT_MAX_LEN must match the ABI");
_Static_assert(LWFP_RULE_CTX_MAX == LWFP_RULE_CONTEXT_MAX,
	       "LWFP_RULE_CONTEXT_MAX must match the ABI");

/* Why a socket has no state for us: not a socket, not connected, or
 * simply never redirected. Only paid on the error path. */
static int why_no_state(int fd, int lookup_errno, int *type)
{
	struct sockaddr_storage ss;
	socklen_t len;

	*type = 0;
	if (lookup_errno == EBADF)
		return -EBADF;
	if (lookup_errno == EPERM || lookup_errno == EACCES)
		return -EACCES;
	len = sizeof(*type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0)
		return errno == ENOTSOCK ? -ENOTSOCK : -errno;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 &&
	    errno == ENOTCONN)
		return -ENOTCONN;
	return -ENODATA;
}

/* The hop of a socket a service accepted; for a UDP socket the service
 * connected to one client, the hop of the flow from that client. */
static int accepted_hop(struct lwfp *e, int fd, struct lwfp_hop *st)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int err = engine_resolve(&e), type;

	if (err)
		return err;
	if (fd < 0)
		return -EBADF;
	if (!bpf_map_lookup_elem(e->sk_fd, &fd, st)) {
		if (st->role == LWFP_ROLE_ACCEPTED)
			return 0;
		errno = ENOENT;	/* state, but not an accepted socket's */
	}
	err = why_no_state(fd, errno, &type);
	if (err != -ENODATA || type != SOCK_DGRAM)
		return err;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
		return -ENOTCONN;
	return udp_hop(e, fd, (struct sockaddr *)&peer, plen, st);
}

LWFP_EXPORT int lwfp_query_records(struct lwfp *e, int fd, void *buf,
				   size_t *len)
{
	struct lwfp_hop st;
	int err = len ? accepted_hop(e, fd, &st) : -EINVAL;

	if (err)
		return err;
	return copy_out(&st.rec, sizeof(st.rec), buf, len);
}

LWFP_EXPORT int lwfp_query_context(struct lwfp *e, int fd, void *buf,
				   size_t *len)
{
	struct lwfp_hop st;
	int err;

	if (!len)
		return -EINVAL;
	err = engine_resolve(&e);
	if (!err)
		err = accepted_hop(e, fd, &st);
	if (err)
		return err;
	return hop_context(e, &st, buf, len);
}

LWFP_EXPORT int lwfp_query_original_dst(struct lwfp *e, int fd,
					struct sockaddr_storage *dst,
					socklen_t *len)
{
	struct lwfp_hop st;
	int err;

	if (!dst || !len)
		return -EINVAL;
	err = accepted_hop(e, fd, &st);
	if (err)
		return err;
	endpoint_to_sockaddr(&st.orig, dst, len);
	return 0;
}

/* Records may go only on a TCP socket whose connect has not started, or
 * on a UDP socket that is not connected (its sends continue the flow). */

static int check_settable(int fd)
{
	struct sockaddr_storage peer;
	struct tcp_info ti;
	socklen_t len = sizeof(int);
	int type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type == SOCK_DGRAM) {
		len = sizeof(peer);
		if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
			return -EISCONN;
		return errno == ENOTCONN ? 0 : -errno;
	}
	if (type != SOCK_STREAM)
		return -EPROTONOSUPPORT;
	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return errno == EOPNOTSUPP ? -EPROTONOSUPPORT : -errno;
	if (ti.tcpi_state == TCP_LISTEN)
		return -EINVAL;
	return ti.tcpi_state == TCP_CLOSE ? 0 : -EISCONN;
}

LWFP_EXPORT int lwfp_set_records(struct lwfp *e, int fd, const void *records,
				 size_t len)
{
	struct lwfp_hop st = { .role = LWFP_ROLE_RECORDS };
	int err;

	if (fd < 0)
		return -EBADF;
	err = records_parse(records, len, &st.rec);
	if (!err)
		err = check_settable(fd);
	if (!err)
		err = engine_resolve(&e);
	if (err)
		return err;
	if (bpf_map_update_elem(e->sk_fd, &fd, &st, BPF_ANY))
		return errno == EPERM ? -EACCES : -errno;
	return 0;
}
