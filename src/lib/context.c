/* SPDX-License-Identifier: MIT */
/*
 * The redirect context codec: struct lwfp_context <-> the TLV blob laid out
 * in lwfp_abi.h and docs/context.md. Pure logic, no BPF, no I/O.
 *
 * The decoder sees bytes from other processes (and from the fuzzer), so it
 * reads only through a bounds-checked cursor and writes the caller's
 * context only once the whole blob has been validated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lwfp.h"
#include "lwfp_abi.h"
#include "util.h"

/* The public header restates some ABI limits; keep the two in step. */
_Static_assert(LWFP_CONTEXT_MAX_LEN == LWFP_CTX_MAX_LEN,
	       "LWFP_CONTEXT_MAX_LEN != LWFP_CTX_MAX_LEN");
_Static_assert(LWFP_RULE_CONTEXT_MAX == LWFP_RULE_CTX_MAX,
	       "LWFP_RULE_CONTEXT_MAX != LWFP_RULE_CTX_MAX");
_Static_assert(sizeof(((struct lwfp_context *)0)->comm) == LWFP_COMM_LEN,
	       "lwfp_context.comm size");
_Static_assert(sizeof(((struct lwfp_context *)0)->service) ==
	       LWFP_SERVICE_NAME_MAX, "lwfp_context.service size");
/* The length field is 16 bits. */
_Static_assert(LWFP_CTX_MAX_LEN <= UINT16_MAX, "context too large");

#define ORIG_DST4_LEN	(4 + 4)
#define ORIG_DST6_LEN	(4 + 16)

/* ---- encoding ---------------------------------------------------------- */

/*
 * A write cursor. With buf == NULL it only counts, so one walk over the
 * fields gives the size needed and a second one writes them.
 */
struct wcur {
	uint8_t *buf;
	size_t off;
};

static void put_bytes(struct wcur *c, const void *p, size_t n)
{
	if (c->buf && n)
		memcpy(c->buf + c->off, p, n);
	c->off += n;
}

static void put_u8(struct wcur *c, uint8_t v)
{
	put_bytes(c, &v, 1);
}

static void put_u16(struct wcur *c, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v };

	put_bytes(c, b, sizeof(b));
}

static void put_u32(struct wcur *c, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	put_bytes(c, b, sizeof(b));
}

static void put_u64(struct wcur *c, uint64_t v)
{
	put_u32(c, v >> 32);
	put_u32(c, v);
}

static void put_tlv_hdr(struct wcur *c, enum lwfp_ctx_type type, size_t len)
{
	put_u16(c, type);
	put_u16(c, len);
}

static void put_tlv(struct wcur *c, enum lwfp_ctx_type type, const void *p,
		    size_t len)
{
	put_tlv_hdr(c, type, len);
	put_bytes(c, p, len);
}

static void put_tlv_u32(struct wcur *c, enum lwfp_ctx_type type, uint32_t v)
{
	put_tlv_hdr(c, type, 4);
	put_u32(c, v);
}

static void put_tlv_u64(struct wcur *c, enum lwfp_ctx_type type, uint64_t v)
{
	put_tlv_hdr(c, type, 8);
	put_u64(c, v);
}

static void put_orig_dst(struct wcur *c, const struct lwfp_context *ctx)
{
	const struct sockaddr_in *sin = (const void *)&ctx->orig_dst;
	const struct sockaddr_in6 *sin6 = (const void *)&ctx->orig_dst;
	bool v4 = ctx->orig_dst.ss_family == AF_INET;

	put_tlv_hdr(c, LWFP_CTX_ORIG_DST, v4 ? ORIG_DST4_LEN : ORIG_DST6_LEN);
	put_u8(c, v4 ? AF_INET : AF_INET6);
	put_u8(c, ctx->protocol);
	/* sin_port is already in network order: copy its bytes as they are. */
	if (v4) {
		put_bytes(c, &sin->sin_port, 2);
		put_bytes(c, &sin->sin_addr, 4);
	} else {
		put_bytes(c, &sin6->sin6_port, 2);
		put_bytes(c, &sin6->sin6_addr, 16);
	}
}

/* Header and TLVs, in type order. Returns the number of bytes (to be) put. */
static size_t put_context(struct wcur *c, const struct lwfp_context *ctx,
			  size_t total)
{
	size_t comm_len = strnlen(ctx->comm, sizeof(ctx->comm));
	size_t svc_len = strnlen(ctx->service, sizeof(ctx->service));

	put_bytes(c, LWFP_CTX_MAGIC, 4);
	put_u8(c, LWFP_CTX_VERSION);
	put_u8(c, 0);
	put_u16(c, total);

	put_orig_dst(c, ctx);
	put_tlv_u32(c, LWFP_CTX_PID, ctx->pid);
	put_tlv_u32(c, LWFP_CTX_UID, ctx->uid);
	put_tlv_u32(c, LWFP_CTX_GID, ctx->gid);
	put_tlv(c, LWFP_CTX_COMM, ctx->comm, comm_len);
	put_tlv_u64(c, LWFP_CTX_CGROUP_ID, ctx->cgroup_id);
	put_tlv_u32(c, LWFP_CTX_RULE_ID, ctx->rule_id);
	/* A zero-length SERVICE is malformed, so "no service" is omitted. */
	if (svc_len)
		put_tlv(c, LWFP_CTX_SERVICE, ctx->service, svc_len);
	put_tlv_u64(c, LWFP_CTX_TIMESTAMP, ctx->timestamp_ns);
	if (ctx->rule_context_len)
		put_tlv(c, LWFP_CTX_RULE_CTX, ctx->rule_context,
			ctx->rule_context_len);
	return c->off;
}

static int check_context(const struct lwfp_context *ctx)
{
	int family = ctx->orig_dst.ss_family;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	/* The protocol travels as one byte. */
	if (ctx->protocol < 0 || ctx->protocol > UINT8_MAX)
		return -EINVAL;
	if (!memchr(ctx->comm, '\0', sizeof(ctx->comm)) ||
	    !memchr(ctx->service, '\0', sizeof(ctx->service)))
		return -EINVAL;
	if (ctx->rule_context_len > LWFP_RULE_CTX_MAX)
		return -EINVAL;
	if (ctx->rule_context_len && !ctx->rule_context)
		return -EINVAL;
	return 0;
}

LWFP_EXPORT
int lwfp_context_encode(const struct lwfp_context *ctx, void *buf,
			size_t *len)
{
	struct wcur c = { 0 };
	size_t need;
	int err;

	if (!ctx || !len)
		return -EINVAL;
	if (!buf && *len)
		return -EINVAL;
	err = check_context(ctx);
	if (err)
		return err;

	need = put_context(&c, ctx, 0);
	if (*len < need) {
		*len = need;
		return -ERANGE;
	}
	c = (struct wcur){ .buf = buf };
	put_context(&c, ctx, need);
	*len = need;
	return 0;
}

/* ---- decoding ---------------------------------------------------------- */

/* A read cursor over [p, p + len); callers check room before reading. */
struct rcur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static size_t left(const struct rcur *c)
{
	return c->len - c->off;
}

static const uint8_t *get_bytes(struct rcur *c, size_t n)
{
	const uint8_t *p = c->p + c->off;

	c->off += n;
	return p;
}

static uint8_t get_u8(struct rcur *c)
{
	return *get_bytes(c, 1);
}

static uint16_t get_u16(struct rcur *c)
{
	const uint8_t *b = get_bytes(c, 2);

	return (uint16_t)b[0] << 8 | b[1];
}

static uint32_t get_u32(struct rcur *c)
{
	const uint8_t *b = get_bytes(c, 4);

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static uint64_t get_u64(struct rcur *c)
{
	uint64_t hi = get_u32(c);

	return hi << 32 | get_u32(c);
}

static int get_orig_dst(struct rcur *v, struct lwfp_context *ctx)
{
	struct sockaddr_in *sin = (void *)&ctx->orig_dst;
	struct sockaddr_in6 *sin6 = (void *)&ctx->orig_dst;
	uint8_t family;

	if (left(v) != ORIG_DST4_LEN && left(v) != ORIG_DST6_LEN)
		return -EBADMSG;
	family = get_u8(v);
	if (!(family == AF_INET && left(v) == ORIG_DST4_LEN - 1) &&
	    !(family == AF_INET6 && left(v) == ORIG_DST6_LEN - 1))
		return -EBADMSG;
	ctx->protocol = get_u8(v);
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_port, get_bytes(v, 2), 2);
		memcpy(&sin->sin_addr, get_bytes(v, 4), 4);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_port, get_bytes(v, 2), 2);
		memcpy(&sin6->sin6_addr, get_bytes(v, 16), 16);
	}
	return 0;
}

/* A name of min..size-1 bytes with no NUL; stored NUL-terminated. */
static int get_name(struct rcur *v, char *dst, size_t size, size_t min)
{
	size_t n = left(v);
	const uint8_t *p;

	if (n < min || n >= size)
		return -EBADMSG;
	p = get_bytes(v, n);
	/* An embedded NUL would not survive a re-encode. */
	if (memchr(p, '\0', n))
		return -EBADMSG;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

static int get_fixed_u32(struct rcur *v, uint32_t *out)
{
	if (left(v) != 4)
		return -EBADMSG;
	*out = get_u32(v);
	return 0;
}

static int get_fixed_u64(struct rcur *v, uint64_t *out)
{
	if (left(v) != 8)
		return -EBADMSG;
	*out = get_u64(v);
	return 0;
}

/* One known TLV; v covers exactly its value. */
static int get_tlv(uint16_t type, struct rcur *v, struct lwfp_context *ctx)
{
	switch (type) {
	case LWFP_CTX_ORIG_DST:
		return get_orig_dst(v, ctx);
	case LWFP_CTX_PID:
		return get_fixed_u32(v, &ctx->pid);
	case LWFP_CTX_UID:
		return get_fixed_u32(v, &ctx->uid);
	case LWFP_CTX_GID:
		return get_fixed_u32(v, &ctx->gid);
	case LWFP_CTX_COMM:
		return get_name(v, ctx->comm, sizeof(ctx->comm), 0);
	case LWFP_CTX_CGROUP_ID:
		return get_fixed_u64(v, &ctx->cgroup_id);
	case LWFP_CTX_RULE_ID:
		return get_fixed_u32(v, &ctx->rule_id);
	case LWFP_CTX_SERVICE:
		return get_name(v, ctx->service, sizeof(ctx->service), 1);
	case LWFP_CTX_TIMESTAMP:
		return get_fixed_u64(v, &ctx->timestamp_ns);
	case LWFP_CTX_RULE_CTX:
		if (left(v) > LWFP_RULE_CTX_MAX)
			return -EBADMSG;
		/* Empty and absent decode alike, so both re-encode alike. */
		ctx->rule_context_len = left(v);
		ctx->rule_context = left(v) ? get_bytes(v, left(v)) : NULL;
		return 0;
	}
	return 0;
}

static bool known_type(uint16_t type)
{
	return type >= LWFP_CTX_ORIG_DST && type <= LWFP_CTX_RULE_CTX;
}

LWFP_EXPORT
int lwfp_context_decode(const void *buf, size_t len, struct lwfp_context *ctx)
{
	struct rcur c = { .p = buf, .len = len };
	struct lwfp_context out;
	uint32_t seen = 0;
	uint16_t total;
	uint8_t version;
	int err;

	if (!ctx || (!buf && len))
		return -EINVAL;
	if (len < LWFP_CTX_HDR_LEN)
		return -EBADMSG;
	if (memcmp(get_bytes(&c, 4), LWFP_CTX_MAGIC, 4))
		return -EBADMSG;
	/* Checked before the length: a newer version may redefine the rest. */
	version = get_u8(&c);
	if (version == 0)
		return -EBADMSG;
	if (version > LWFP_CTX_VERSION)
		return -EPROTO;
	get_u8(&c);		/* reserved: ignored on input */
	total = get_u16(&c);
	/* Bytes past the declared length are not ours; ignore them. */
	if (total < LWFP_CTX_HDR_LEN || total > len)
		return -EBADMSG;
	c.len = total;

	memset(&out, 0, sizeof(out));
	out.version = version;
	while (left(&c)) {
		struct rcur v;
		uint16_t type, vlen;

		if (left(&c) < LWFP_TLV_HDR_LEN)
			return -EBADMSG;
		type = get_u16(&c);
		vlen = get_u16(&c);
		if (vlen > left(&c))
			return -EBADMSG;
		v = (struct rcur){ .p = get_bytes(&c, vlen), .len = vlen };
		if (!known_type(type))
			continue;
		if (seen & (1u << type))
			return -EBADMSG;
		seen |= 1u << type;
		err = get_tlv(type, &v, &out);
		if (err)
			return err;
	}
	if (!(seen & (1u << LWFP_CTX_ORIG_DST)))
		return -EBADMSG;

	*ctx = out;
	return 0;
}
