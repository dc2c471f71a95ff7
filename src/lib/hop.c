// SPDX-License-Identifier: MIT
/* A hop as the library hands it out: copied to a caller's buffer, its
 * original destination as a sockaddr, its redirect context encoded. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "lwfp.h"
#include "lwfp_abi.h"
#include "engine.h"
#include "hop.h"
#include "layout.h"

int copy_out(const void *src, size_t n, void *buf, size_t *len)
{
	if (!len)
		return -EINVAL;
	if (*len < n || !buf) {
		*len = n;
		return -ERANGE;
	}
	memcpy(buf, src, n);
	*len = n;
	return 0;
}

void endpoint_to_sockaddr(const struct lwfp_endpoint *ep,
				 struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = ep->port_be;
		memcpy(&sin->sin_addr, &ep->addr[12], 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = ep->port_be;
		memcpy(&sin6->sin6_addr, ep->addr, 16);
		*len = sizeof(*sin6);
	}
}

/* Hops carry CLOCK_BOOTTIME; the context speaks wall-clock time. */
static __u64 boottime_to_realtime(__u64 boot_ns)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return boot_ns + (rt.tv_sec - bt.tv_sec) * 1000000000ull +
	       (rt.tv_nsec - bt.tv_nsec);
}

/* A UDP socket answers for the flow it was last asked about: another
 * thread asking through it in between makes the bytes not ours. */
static bool still_answering(int fd, const struct lwfp_hop *st)
{
	struct lwfp_udp_answer ans;
	socklen_t len = sizeof(ans);

	return !getsockopt(fd, SOL_LWFP, LWFP_SO_UDP_PEER, &ans, &len) &&
	       ans.hop.rec.token == st->rec.token;
}

/* Bytes of the rule that redirected a flow (optname: its context or its
 * layout, key: theirs in lwfp_rule_ctx) into out, asked of the engine
 * through the service's socket of that flow, and their number in *len
 * (0: the rule has none): 0, or -errno (-EAGAIN: the socket answered for
 * another flow meanwhile). */
static int rule_blob(struct lwfp *e, int fd, const struct lwfp_hop *st,
		     int optname, __u32 key, unsigned char *out, size_t *len)
{
	socklen_t n = LWFP_RULE_CTX_MAX;

	if (cache_rule_ctx_get(e, key, out, len))
		return 0;
	if (getsockopt(fd, SOL_LWFP, optname, out, &n)) {
		if (errno != ENOMSG)
			return -errno;
		n = 0;	/* the rule has none */
	}
	/* threads of this process ask under one lock (udp.c); another
	 * process asking through the same socket: ask again */
	if (st->orig.proto == IPPROTO_UDP && !still_answering(fd, st))
		return -EAGAIN;
	*len = n;
	cache_rule_ctx_put(e, key, out, n);
	return 0;
}

static int rule_context(struct lwfp *e, int fd, const struct lwfp_hop *st,
			unsigned char *out, size_t *len)
{
	return rule_blob(e, fd, st, LWFP_SO_RULE_CONTEXT, st->rule_id, out,
			 len);
}

/* What a layout's fields take from a hop. The client is the flow's peer
 * as the service sees it: a UDP datagram's source, or fd's peer. */
static void layout_values_of(const struct lwfp_hop *st, int fd,
			     const struct sockaddr *client, socklen_t clen,
			     struct layout_values *v)
{
	socklen_t slen = sizeof(v->orig_dst);

	*v = (struct layout_values){
		.pid = st->pid, .uid = st->uid, .gid = st->gid,
		.rule_id = st->rule_id, .protocol = st->orig.proto,
	};
	endpoint_to_sockaddr(&st->orig, &v->orig_dst, &slen);
	memcpy(v->comm, st->comm, sizeof(v->comm));
	v->comm[sizeof(v->comm) - 1] = '\0';
	if (client && clen <= sizeof(v->local)) {
		memcpy(&v->local, client, clen);
		return;
	}
	slen = sizeof(v->local);
	if (client || getpeername(fd, (struct sockaddr *)&v->local, &slen))
		memset(&v->local, 0, sizeof(v->local));
}

int hop_layout(struct lwfp *e, int fd, const struct lwfp_hop *st,
	       const struct sockaddr *client, socklen_t clen, void *buf,
	       size_t *len)
{
	unsigned char blob[LWFP_RULE_CTX_MAX], rule_ctx[LWFP_RULE_CTX_MAX];
	struct layout_values v;
	size_t n;
	int err;

	err = rule_blob(e, fd, st, LWFP_SO_RULE_LAYOUT,
			LWFP_RULE_LAYOUT_KEY(st->rule_id), blob, &n);
	if (err)
		return err;
	if (!n)
		return -ENOMSG;	/* the rule has no layout */
	layout_values_of(st, fd, client, clen, &v);
	err = rule_context(e, fd, st, rule_ctx, &v.rule_context_len);
	if (err)
		return err;
	v.rule_context = v.rule_context_len ? rule_ctx : NULL;
	if (!buf) {	/* a size query: nothing is written */
		size_t need = 0;

		err = layout_render(blob, n, &v, NULL, &need);
		*len = need;
		return err;
	}
	return layout_render(blob, n, &v, buf, len);
}

int hop_context(struct lwfp *e, int fd, const struct lwfp_hop *st, void *buf,
		size_t *len)
{
	unsigned char blob[LWFP_CTX_MAX_LEN], rule_ctx[LWFP_RULE_CTX_MAX];
	struct lwfp_context ctx = { .version = LWFP_CTX_VERSION };
	socklen_t slen;
	size_t n = sizeof(blob);
	int err;

	endpoint_to_sockaddr(&st->orig, &ctx.orig_dst, &slen);
	ctx.protocol = st->orig.proto;
	ctx.pid = st->pid;
	ctx.uid = st->uid;
	ctx.gid = st->gid;
	memcpy(ctx.comm, st->comm, sizeof(ctx.comm) - 1);
	ctx.cgroup_id = st->cgroup_id;
	ctx.rule_id = st->rule_id;
	cache_service_name(e, st->service, st->service_gen, ctx.service,
			   sizeof(ctx.service));
	ctx.timestamp_ns = boottime_to_realtime(st->start_ns);
	/* rule bytes live once per rule, never per socket */
	err = rule_context(e, fd, st, rule_ctx, &ctx.rule_context_len);
	if (err)
		return err;
	if (ctx.rule_context_len)
		ctx.rule_context = rule_ctx;
	err = lwfp_context_encode(&ctx, blob, &n);
	if (err)
		return err;
	return copy_out(blob, n, buf, len);
}
