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
	if (lookup_errno == EBADF || lookup_errno == ENOTSOCK)
		return -lookup_errno;
	len = sizeof(*type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0)
		return errno == ENOTSOCK ? -ENOTSOCK : -errno;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 &&
	    errno == ENOTCONN)
		return -ENOTCONN;
	return -ENODATA;
}

/*
 * The hop of a socket a service accepted, asked of the engine through the
 * socket itself. A UDP socket the service connected to one client has no
 * hop of its own: then -ENODATA, *type SOCK_DGRAM, and that client in
 * peer (its flow's hop is asked for by peer, see udp.c).
 */
static int own_hop(int fd, struct lwfp_hop *st, int *type,
		   struct sockaddr_storage *peer, socklen_t *plen)
{
	socklen_t len = sizeof(*st);
	int err;

	*type = 0;
	if (fd < 0)
		return -EBADF;
	if (!getsockopt(fd, SOL_LWFP, LWFP_SO_HOP, st, &len))
		return len == sizeof(*st) ? 0 : -EPROTO;
	/* ENOPROTOOPT: no engine sees the socket */
	err = why_no_state(fd, errno, type);
	if (err != -ENODATA || *type != SOCK_DGRAM)
		return err;
	*plen = sizeof(*peer);
	if (getpeername(fd, (struct sockaddr *)peer, plen) < 0)
		return -ENOTCONN;
	return -ENODATA;
}

/* The hop of an accepted socket, or of a connected UDP socket's flow. */
static int accepted_hop(struct lwfp *e, int fd, struct lwfp_hop *st)
{
	struct sockaddr_storage peer;
	socklen_t plen;
	int err = engine_resolve(&e), type = 0;

	if (!err)
		err = own_hop(fd, st, &type, &peer, &plen);
	if (err == -ENODATA && type == SOCK_DGRAM)
		return udp_hop(e, fd, (struct sockaddr *)&peer, plen, st);
	return err;
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

/* The context of an accepted socket, or of a connected UDP socket's flow:
 * lwfp's TLV, or with layout the rule's layout of it. */
static int query_context(struct lwfp *e, int fd, bool layout, void *buf,
			 size_t *len)
{
	struct sockaddr_storage peer;
	struct lwfp_hop st;
	socklen_t plen;
	int err, type = 0;

	if (!len)
		return -EINVAL;
	err = engine_resolve(&e);
	if (!err)
		err = own_hop(fd, &st, &type, &peer, &plen);
	/* a UDP socket connected to one client: its flow's hop and context,
	 * asked together as the per-peer calls do */
	if (err == -ENODATA && type == SOCK_DGRAM)
		return udp_hop_context(e, fd, (struct sockaddr *)&peer, plen,
				       layout ? UDP_CTX_LAYOUT : UDP_CTX_TLV,
				       &st, buf, len);
	if (err)
		return err;
	return layout ? hop_layout(e, fd, &st, NULL, 0, buf, len) :
			hop_context(e, fd, &st, buf, len);
}

LWFP_EXPORT int lwfp_query_context(struct lwfp *e, int fd, void *buf,
				   size_t *len)
{
	return query_context(e, fd, false, buf, len);
}

LWFP_EXPORT int lwfp_query_context_layout(struct lwfp *e, int fd, void *buf,
					  size_t *len)
{
	return query_context(e, fd, true, buf, len);
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
	struct lwfp_records rec;
	int err;

	if (fd < 0)
		return -EBADF;
	err = records_parse(records, len, &rec);
	if (!err)
		err = check_settable(fd);
	if (!err)
		err = engine_resolve(&e);
	if (err)
		return err;
	/* the engine takes records only from the service their flow went
	 * to, while the flow is open (-EACCES, -ESTALE); ENOPROTOOPT: no
	 * engine over the socket issued them */
	if (setsockopt(fd, SOL_LWFP, LWFP_SO_RECORDS, &rec, sizeof(rec)))
		return errno == ENOPROTOOPT ? -EINVAL : -errno;
	return 0;
}
