/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * What a redirect service asks and tells through its own sockets (SOL_LWFP
 * options, see lwfp_abi.h): the engine answers from state only it writes,
 * and takes records only from the service their flow went to.
 */
#ifndef LWFP_SOCKOPT_BPF_H
#define LWFP_SOCKOPT_BPF_H

/* The answer of a getsockopt: optlen bytes written, or -err. */
static __always_inline int sockopt_answer(struct bpf_sockopt *ctx, int err,
					  __u32 len)
{
	ctx->retval = err;
	if (!err)
		ctx->optlen = len;
	return 1;
}

/* The hop of the flow a service socket stands for: a TCP socket it
 * accepted, or the flow its UDP socket last asked about. */
static __always_inline const struct lwfp_hop *service_hop(struct bpf_sock *sk)
{
	struct lwfp_udp_answer *a;
	struct lwfp_hop *st;

	if (sk->protocol == IPPROTO_UDP) {
		a = bpf_sk_storage_get(&lwfp_udp_answer, sk, 0, 0);
		return a && a->hop.role == LWFP_ROLE_ACCEPTED ? &a->hop : NULL;
	}
	st = bpf_sk_storage_get(&lwfp_sk, sk, 0, 0);
	return st && st->role == LWFP_ROLE_ACCEPTED ? st : NULL;
}

/* LWFP_SO_HOP: an accepted socket's hop. */
static __always_inline int get_hop(struct bpf_sockopt *ctx,
				   struct bpf_sock *sk)
{
	struct lwfp_hop *out = ctx->optval;
	const struct lwfp_hop *st;

	if (sk->protocol != IPPROTO_TCP)
		return sockopt_answer(ctx, -ENODATA, 0);
	st = service_hop(sk);
	if (!st)
		return sockopt_answer(ctx, -ENODATA, 0);
	if ((void *)(out + 1) > ctx->optval_end)
		return sockopt_answer(ctx, -EINVAL, 0);
	*out = *st;
	return sockopt_answer(ctx, 0, sizeof(*out));
}

/* LWFP_SO_UDP_PEER: the answer to the socket's last question. */
static __always_inline int get_udp_answer(struct bpf_sockopt *ctx,
					  struct bpf_sock *sk)
{
	struct lwfp_udp_answer *out = ctx->optval, *a;

	if (sk->protocol != IPPROTO_UDP)
		return sockopt_answer(ctx, -EPROTONOSUPPORT, 0);
	a = bpf_sk_storage_get(&lwfp_udp_answer, sk, 0, 0);
	if (!a || a->hop.role != LWFP_ROLE_ACCEPTED)
		return sockopt_answer(ctx, -ENODATA, 0);
	if ((void *)(out + 1) > ctx->optval_end)
		return sockopt_answer(ctx, -EINVAL, 0);
	*out = *a;
	return sockopt_answer(ctx, 0, sizeof(*out));
}

/* LWFP_SO_RULE_CONTEXT: the rule bytes of that flow, copied whole (a
 * fixed size the verifier can check at once), their length in optlen;
 * LWFP_SO_RULE_LAYOUT (layout): the same for the rule's context layout. */
static __always_inline int get_rule_context(struct bpf_sockopt *ctx,
					    struct bpf_sock *sk, bool layout)
{
	const struct lwfp_rule_ctx *rc;
	const struct lwfp_hop *st;
	__u64 *out = ctx->optval;
	__u32 rule_id;

	st = service_hop(sk);
	if (!st)
		return sockopt_answer(ctx, -ENODATA, 0);
	rule_id = layout ? LWFP_RULE_LAYOUT_KEY(st->rule_id) : st->rule_id;
	rc = bpf_map_lookup_elem(&lwfp_rule_ctx, &rule_id);
	if (!rc || !rc->len)	/* the kernel would not hand back optlen 0 */
		return sockopt_answer(ctx, -ENOMSG, 0);
	if ((void *)out + LWFP_RULE_CTX_MAX > ctx->optval_end)
		return sockopt_answer(ctx, -EINVAL, 0);
#pragma clang loop unroll(full)
	for (int i = 0; i < LWFP_RULE_CTX_MAX / 8; i++)
		out[i] = ((const __u64 *)rc->data)[i];
	return sockopt_answer(ctx, 0, rc->len < LWFP_RULE_CTX_MAX ?
					      rc->len : LWFP_RULE_CTX_MAX);
}

/* Refuse a setsockopt with err, the kernel not asked. */
static __always_inline int sockopt_refuse(int err)
{
	bpf_set_retval(-err);
	return 0;
}

/*
 * LWFP_SO_RECORDS: records for a socket about to connect out. Taken only
 * if this engine issued them, their flow is open, and the caller is the
 * service it went to: nobody else can make a connect pass for inspected.
 */
static __always_inline int set_records(struct bpf_sockopt *ctx,
				       struct bpf_sock *sk)
{
	const struct lwfp_records *in = ctx->optval;
	const struct lwfp_config *cfg;
	struct lwfp_records rec;
	struct lwfp_hop *live, *st;
	__u32 zero = 0;
	__u64 token;

	if ((void *)(in + 1) > ctx->optval_end ||
	    ctx->optlen != (int)sizeof(*in))
		return sockopt_refuse(EINVAL);
	rec = *in;
	if (rec.magic != LWFP_RECORDS_MAGIC ||
	    rec.version != LWFP_RECORDS_VERSION)
		return sockopt_refuse(EINVAL);
	cfg = bpf_map_lookup_elem(&lwfp_config, &zero);
	if (!cfg || rec.engine_id != cfg->engine_id)
		return 1;	/* another engine's: the kernel says ENOPROTOOPT */
	if (sk->protocol == IPPROTO_TCP ? sk->state != BPF_TCP_CLOSE :
	    sk->protocol != IPPROTO_UDP || sk->dst_port)
		return sockopt_refuse(sk->protocol == IPPROTO_TCP ||
				      sk->protocol == IPPROTO_UDP ?
				      EISCONN : EPROTONOSUPPORT);
	token = rec.token;
	live = bpf_map_lookup_elem(&lwfp_live, &token);
	if (!live) {
		stat_inc(LWFP_STAT_RECORDS_REFUSED);
		return sockopt_refuse(ESTALE);
	}
	if (!hop_service_asks(live)) {
		stat_inc(LWFP_STAT_RECORDS_REFUSED);
		return sockopt_refuse(EACCES);
	}
	st = bpf_sk_storage_get(&lwfp_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return sockopt_refuse(ENOMEM);
	__builtin_memset(st, 0, sizeof(*st));
	st->rec = live->rec;
	st->role = LWFP_ROLE_RECORDS;
	ctx->optlen = -1;	/* taken: the kernel has nothing to do */
	return 1;
}

#endif /* LWFP_SOCKOPT_BPF_H */
