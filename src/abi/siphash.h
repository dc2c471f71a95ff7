/* SPDX-License-Identifier: MIT */
/*
 * SipHash-2-4 (Aumasson, Bernstein) of a 16-byte message, shared by the
 * engine and user space: the engine makes the ids that authorise anything
 * (hop ids, records tokens, flow ids) with it, keyed with a secret of the
 * engine instance, so that ids one has seen tell nothing of the next.
 */
#ifndef LWFP_SIPHASH_H
#define LWFP_SIPHASH_H

#define LWFP_ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define LWFP_SIPROUND(v0, v1, v2, v3)					\
	do {								\
		v0 += v1; v1 = LWFP_ROTL64(v1, 13); v1 ^= v0;		\
		v0 = LWFP_ROTL64(v0, 32);				\
		v2 += v3; v3 = LWFP_ROTL64(v3, 16); v3 ^= v2;		\
		v0 += v3; v3 = LWFP_ROTL64(v3, 21); v3 ^= v0;		\
		v2 += v1; v1 = LWFP_ROTL64(v1, 17); v1 ^= v2;		\
		v2 = LWFP_ROTL64(v2, 32);				\
	} while (0)

/* The message is m0, m1 as 16 little-endian bytes. */
static inline __u64 lwfp_siphash16(const __u64 key[2], __u64 m0, __u64 m1)
{
	__u64 v0 = key[0] ^ 0x736f6d6570736575ull;
	__u64 v1 = key[1] ^ 0x646f72616e646f6dull;
	__u64 v2 = key[0] ^ 0x6c7967656e657261ull;
	__u64 v3 = key[1] ^ 0x7465646279746573ull;
	const __u64 last = 16ull << 56;	/* the length, no bytes left */

	v3 ^= m0;
	LWFP_SIPROUND(v0, v1, v2, v3);
	LWFP_SIPROUND(v0, v1, v2, v3);
	v0 ^= m0;
	v3 ^= m1;
	LWFP_SIPROUND(v0, v1, v2, v3);
	LWFP_SIPROUND(v0, v1, v2, v3);
	v0 ^= m1;
	v3 ^= last;
	LWFP_SIPROUND(v0, v1, v2, v3);
	LWFP_SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	LWFP_SIPROUND(v0, v1, v2, v3);
	LWFP_SIPROUND(v0, v1, v2, v3);
	LWFP_SIPROUND(v0, v1, v2, v3);
	LWFP_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#endif /* LWFP_SIPHASH_H */
