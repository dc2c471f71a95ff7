// SPDX-License-Identifier: MIT
/*
 * UDP services: one socket receives every client's datagrams, so a flow is
 * named by its peer (the datagrams' source) and the socket's port. The
 * engine keeps each flow's hop in the UDP flows map from the client's
 * first datagram until the client socket closes or the flow is idle.
 */
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "lwfp.h"
#include "lwfp_abi.h"
#include "engine.h"
#include "hop.h"
#include "udp.h"
#include "util.h"

_Static_assert(LWFP_CMSG_RECORDS == 60 && LWFP_CMSG_CONTEXT == 70,
	       "the control message types are Windows' IP_WFP_REDIRECT_*");

/* Why the engine did not answer: the errno of setsockopt(), as the
 * library's errors say it. */
static int udp_ask_error(int fd, int err)
{
	int type;
	socklen_t len = sizeof(type);

	/* no engine program saw it: the socket is outside the engine's
	 * cgroup (or no engine is attached) and the kernel refused */
	if (err == ENOPROTOOPT) {
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		    type != SOCK_DGRAM)
			return -EPROTONOSUPPORT;
		return -ENODATA;
	}
	return -err;
}

/* The flows map key for a peer; false if peer is not an IP address. */
static bool peer_key(const struct sockaddr *peer, socklen_t peerlen,
		     __u16 service_port_be, struct lwfp_udp_key *key)
{
	memset(key, 0, sizeof(*key));
	key->service_port_be = service_port_be;
	if (peer->sa_family == AF_INET && peerlen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)peer;

		key->client[10] = key->client[11] = 0xff;
		memcpy(&key->client[12], &sin->sin_addr, 4);
		key->client_port_be = sin->sin_port;
		return true;
	}
	if (peer->sa_family == AF_INET6 &&
	    peerlen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)peer;

		/* an IPv4 client of a dual-stack socket is v4-mapped already */
		memcpy(key->client, &sin6->sin6_addr, 16);
		key->client_port_be = sin6->sin6_port;
		return true;
	}
	return false;
}

/* A socket answers for the flow it was last asked about: the threads of
 * this process ask, and read what depends on the answer, one at a time. */
static pthread_mutex_t ask_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Ask the engine through the socket (so only the socket's holder learns
 * about flows to its port), then read the answer back the same way.
 * Another process asking through the same socket may swap answers: the
 * answer is checked to be for this question, and asked again if not.
 */
static int udp_ask(struct lwfp *e, int fd, const struct sockaddr *peer,
		   socklen_t peerlen, struct lwfp_hop *st)
{
	struct lwfp_udp_answer ans;
	struct lwfp_udp_key key;
	socklen_t len;

	if (fd < 0)
		return -EBADF;
	if (!peer || !peer_key(peer, peerlen, 0, &key))
		return -EINVAL;
	for (int tries = 0; tries < 8; tries++) {
		if (setsockopt(fd, SOL_LWFP, LWFP_SO_UDP_PEER, &key,
			       sizeof(key)) < 0)
			return udp_ask_error(fd, errno);
		len = sizeof(ans);
		if (getsockopt(fd, SOL_LWFP, LWFP_SO_UDP_PEER, &ans, &len))
			return udp_ask_error(fd, errno);
		if (!memcmp(ans.key.client, key.client, sizeof(key.client)) &&
		    ans.key.client_port_be == key.client_port_be) {
			*st = ans.hop;
			return 0;
		}
	}
	return -EAGAIN;
}

int udp_hop(struct lwfp *e, int fd, const struct sockaddr *peer,
	    socklen_t peerlen, struct lwfp_hop *st)
{
	int err;

	pthread_mutex_lock(&ask_lock);
	err = udp_ask(e, fd, peer, peerlen, st);
	pthread_mutex_unlock(&ask_lock);
	return err;
}

/* The context of the flow the socket just answered for, as want says. */
static int flow_context(struct lwfp *e, int fd, const struct sockaddr *peer,
			socklen_t peerlen, enum udp_ctx want,
			const struct lwfp_hop *st, void *buf, size_t *len)
{
	int err;

	if (want == UDP_CTX_TLV)
		return hop_context(e, fd, st, buf, len);
	/* the layout's client is the peer that names the flow */
	err = hop_layout(e, fd, st, peer, peerlen, buf, len);
	if (err != -ENOMSG || want == UDP_CTX_LAYOUT)
		return err;
	return hop_context(e, fd, st, buf, len);	/* *len untouched */
}

int udp_hop_context(struct lwfp *e, int fd, const struct sockaddr *peer,
		    socklen_t peerlen, enum udp_ctx want, struct lwfp_hop *st,
		    void *buf, size_t *len)
{
	int err = -EAGAIN;

	pthread_mutex_lock(&ask_lock);
	for (int tries = 0; tries < 8 && err == -EAGAIN; tries++) {
		err = udp_ask(e, fd, peer, peerlen, st);
		if (!err)
			err = flow_context(e, fd, peer, peerlen, want, st, buf,
					   len);
	}
	pthread_mutex_unlock(&ask_lock);
	return err;
}

static int peer_hop(struct lwfp **e, int fd, const struct sockaddr *peer,
		    socklen_t peerlen, struct lwfp_hop *st)
{
	int err = engine_resolve(e);

	return err ? err : udp_hop(*e, fd, peer, peerlen, st);
}

LWFP_EXPORT int lwfp_query_udp_records(struct lwfp *e, int fd,
				       const struct sockaddr *peer,
				       socklen_t peerlen, void *buf,
				       size_t *len)
{
	struct lwfp_hop st;
	int err = len ? peer_hop(&e, fd, peer, peerlen, &st) : -EINVAL;

	return err ? err : copy_out(&st.rec, sizeof(st.rec), buf, len);
}

LWFP_EXPORT int lwfp_query_udp_context(struct lwfp *e, int fd,
				       const struct sockaddr *peer,
				       socklen_t peerlen, void *buf,
				       size_t *len)
{
	struct lwfp_hop st;
	int err = len ? engine_resolve(&e) : -EINVAL;

	return err ? err : udp_hop_context(e, fd, peer, peerlen, UDP_CTX_TLV,
					   &st, buf, len);
}

LWFP_EXPORT int lwfp_query_udp_context_layout(struct lwfp *e, int fd,
					      const struct sockaddr *peer,
					      socklen_t peerlen, void *buf,
					      size_t *len)
{
	struct lwfp_hop st;
	int err = len ? engine_resolve(&e) : -EINVAL;

	return err ? err : udp_hop_context(e, fd, peer, peerlen,
					   UDP_CTX_LAYOUT, &st, buf, len);
}

LWFP_EXPORT int lwfp_query_udp_original_dst(struct lwfp *e, int fd,
					    const struct sockaddr *peer,
					    socklen_t peerlen,
					    struct sockaddr_storage *dst,
					    socklen_t *len)
{
	struct lwfp_hop st;
	int err = dst && len ? peer_hop(&e, fd, peer, peerlen, &st) : -EINVAL;

	if (!err)
		endpoint_to_sockaddr(&st.orig, dst, len);
	return err;
}

/*
 * Flows announced by lwfp_recvmsg(), by their random token: a small
 * set-associative table. A flow pushed out by 4 others in its bucket is
 * announced again, which only a service with tens of thousands of live
 * flows would see.
 */
#define ANNOUNCED_WAYS		4
#define ANNOUNCED_BUCKETS	16384

/* Called with e->lock held. */
static bool announced(struct lwfp *e, __u64 token, bool mark)
{
	__u64 *b;

	if (!e->announced) {
		e->announced = calloc(ANNOUNCED_BUCKETS * ANNOUNCED_WAYS,
				      sizeof(__u64));
		if (!e->announced)
			return false;
	}
	b = &e->announced[(token % ANNOUNCED_BUCKETS) * ANNOUNCED_WAYS];
	for (int i = 0; i < ANNOUNCED_WAYS; i++)
		if (b[i] == token)
			return true;
	if (mark) {
		memmove(b + 1, b, (ANNOUNCED_WAYS - 1) * sizeof(*b));
		b[0] = token;
	}
	return false;
}

static void put_cmsg(struct cmsghdr *c, int level, int type, const void *data,
		     size_t len)
{
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
}

/* Append records and context after the control messages the kernel gave
 * (used bytes of cap); false if they do not fit. */
static bool add_cmsgs(struct msghdr *msg, size_t cap, int level,
		      const struct lwfp_records *rec, const void *ctx,
		      size_t ctx_len)
{
	size_t used = CMSG_ALIGN(msg->msg_controllen);
	size_t need = CMSG_SPACE(sizeof(*rec)) + CMSG_SPACE(ctx_len);
	unsigned char *base = msg->msg_control;

	if (!base || used > cap || cap - used < need)
		return false;
	memset(base + used, 0, need);
	put_cmsg((struct cmsghdr *)(base + used), level, LWFP_CMSG_RECORDS,
		 rec, sizeof(*rec));
	put_cmsg((struct cmsghdr *)(base + used + CMSG_SPACE(sizeof(*rec))),
		 level, LWFP_CMSG_CONTEXT, ctx, ctx_len);
	msg->msg_controllen = used + need;
	return true;
}

/*
 * The records and context of the flow a datagram came from (peer), as
 * control messages after the kernel's (cap: the room the caller gave),
 * once per flow: the rule's layout if asked for and the rule has one,
 * the TLV otherwise.
 */
static void announce_flow(struct lwfp *e, int fd, struct msghdr *msg,
			  socklen_t peerlen, size_t cap, int flags,
			  bool layout)
{
	unsigned char ctx[LWFP_CTX_MAX_LEN];
	size_t ctx_len = sizeof(ctx);
	struct lwfp_hop st;
	bool seen;
	int level;

	if (udp_hop(e, fd, msg->msg_name, peerlen, &st))
		return;		/* not a redirected flow: a datagram as any */
	pthread_mutex_lock(&e->lock);
	seen = announced(e, st.rec.token, false);
	pthread_mutex_unlock(&e->lock);
	if (seen)
		return;
	if (udp_hop_context(e, fd, msg->msg_name, peerlen,
			    layout ? UDP_CTX_LAYOUT_OR_TLV : UDP_CTX_TLV, &st,
			    ctx, &ctx_len))
		return;
	level = ((struct sockaddr *)msg->msg_name)->sa_family == AF_INET ?
		IPPROTO_IP : IPPROTO_IPV6;
	if (!add_cmsgs(msg, cap, level, &st.rec, ctx, ctx_len)) {
		/* they come again with the flow's next datagram */
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	/* a peek leaves the datagram, and its announcement, for later */
	if (flags & MSG_PEEK)
		return;
	pthread_mutex_lock(&e->lock);
	announced(e, st.rec.token, true);
	pthread_mutex_unlock(&e->lock);
}

static ssize_t recvmsg_announcing(struct lwfp *e, int fd, struct msghdr *msg,
				  int flags, bool layout)
{
	size_t cap;
	socklen_t namecap;
	ssize_t n;
	int err;

	if (!msg || !msg->msg_name ||
	    msg->msg_namelen < sizeof(struct sockaddr_in))
		return -EINVAL;
	err = engine_resolve(&e);
	if (err)
		return err;
	cap = msg->msg_control ? msg->msg_controllen : 0;
	namecap = msg->msg_namelen;
	n = recvmsg(fd, msg, flags);
	if (n < 0)
		return -errno;
	/* msg_namelen is the address's full length, maybe more than fit */
	announce_flow(e, fd, msg, msg->msg_namelen < namecap ?
		      msg->msg_namelen : namecap, cap, flags, layout);
	return n;
}

LWFP_EXPORT ssize_t lwfp_recvmsg(struct lwfp *e, int fd, struct msghdr *msg,
				 int flags)
{
	return recvmsg_announcing(e, fd, msg, flags, false);
}

LWFP_EXPORT ssize_t lwfp_recvmsg_layout(struct lwfp *e, int fd,
					struct msghdr *msg, int flags)
{
	return recvmsg_announcing(e, fd, msg, flags, true);
}
