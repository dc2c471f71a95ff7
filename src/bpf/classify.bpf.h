/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The rule classifier: which rules a connect matches, and the first of
 * them whose service can take it (see lwfp_abi.h for the layout).
 *
 * Its steps are global functions: the verifier checks each once, on its
 * own, whatever state its callers are in, so the cost of verifying the
 * decision is their sum and not a product of paths. They share state
 * through struct cls_walk only; their callers read what they decide from
 * their return values, never from fields they wrote.
 */
#ifndef LWFP_CLASSIFY_BPF_H
#define LWFP_CLASSIFY_BPF_H

#define __global __attribute__((noinline))

/* Bitmap terms a connect selects; a field matches a rule if any of the
 * field's terms has the rule's bit. */
enum cls_term {
	T_ADDR_ANY,
	T_ADDR,			/* the rule prefixes containing it (naddr) */
	T_PROTO = T_ADDR + LWFP_CLS_ADDR_HITS,
	T_UID,
	T_UID_ANY,
	T_CGROUP_ANY,
	/* the non-empty port trie nodes on the port's path (nport) */
	T_PORT,
	/* the cgroup ancestors rules name (ncgroup) */
	T_CGROUP = T_PORT + LWFP_CLS_PORT_LEVELS,
	T_MAX = T_CGROUP + LWFP_CLS_LEVELS,
};

struct cls_walk {
	struct connect_info ci;
	__u64 cand[LWFP_CLS_SUMMARY];	/* candidate words not yet scanned */
	__u64 excluded;			/* slots found down (fail open) */
	__u16 term[T_MAX];		/* bitmap ids; 0 = empty */
	__u32 half;
	__u32 pos;			/* next rule index to consider */
	__u8 nport;
	__u8 ncgroup;
	__u8 naddr;
	__u8 _pad;
	__u8 skipped_self;
	__u8 skipped_chain;
	__u8 no_target;
	__u8 mismatch;
};

static __always_inline __u64 popcount64(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (x * 0x0101010101010101ull) >> 56;
}

/* index of the lowest set bit of a non-zero word */
static __always_inline __u32 lowest_bit(__u64 x)
{
	return popcount64((x & -x) - 1);
}

static __always_inline const struct lwfp_cls_bitmap *bitmap(__u32 half,
							     __u32 id)
{
	__u32 key = half * LWFP_CLS_BITMAPS_MAX + id;

	if (!id || id >= LWFP_CLS_BITMAPS_MAX)
		return NULL;
	return bpf_map_lookup_elem(&lwfp_cls_bitmaps, &key);
}

/* Word w of a sparse bitmap: stored only if its summary bit is set. A
 * global function: to its callers one path, whatever its branches. */
__global __u64 lwfp_bitmap_word(__u32 half, __u32 id, __u32 w)
{
	const struct lwfp_cls_bitmap *b = bitmap(half, id);
	__u32 s = w >> 6, bit = w & 63, key;
	__u64 sum, *word;

	/* a bound the verifier sees where s indexes (6.1 loses a mask) */
	asm volatile("" : "+r"(s));
	if (!b || s >= LWFP_CLS_SUMMARY)
		return 0;
	sum = b->summary[s];
	if (!((sum >> bit) & 1))
		return 0;
	key = half * LWFP_CLS_POOL_MAX + b->base[s] +
	      popcount64(sum & ((1ull << bit) - 1));
	word = bpf_map_lookup_elem(&lwfp_cls_words, &key);
	return word ? *word : 0;
}

static __always_inline void summary_or(__u64 *acc, __u32 half, __u32 id)
{
	const struct lwfp_cls_bitmap *b = bitmap(half, id);

	if (!b)
		return;
	for (int i = 0; i < LWFP_CLS_SUMMARY; i++)
		acc[i] |= b->summary[i];
}

static __always_inline __u32 index_lookup(struct lwfp_cls_key *k)
{
	__u32 *id = bpf_map_lookup_elem(&lwfp_cls_index, k);

	return id ? *id : 0;
}

struct addr_walk {
	struct lwfp_cls_key k;
	__u32 addr[4];
	__u32 n;
	__u16 id[LWFP_CLS_ADDR_HITS];	/* result: the prefixes' bitmaps */
};

/* One prefix length, longest first: the masks come from a map, so that
 * the verifier sees one path whatever the length. */
static long addr_step(__u32 i, void *data)
{
	struct addr_walk *aw = data;
	const struct lwfp_cls_mask *m;
	const struct lwfp_cls_hdr *h;
	__u32 half = aw->k.half & 1, len, n = aw->n, *id, *deep;
	__u32 *w = (__u32 *)aw->k.val;

	h = bpf_map_lookup_elem(&lwfp_cls_hdr, &half);
	if (!h || i >= h->nlens || i >= LWFP_CLS_LENS ||
	    n >= LWFP_CLS_ADDR_HITS)
		return 1;
	len = h->lens[i];
	m = bpf_map_lookup_elem(&lwfp_cls_masks, &len);
	if (!m)
		return 1;
	aw->k.kind = LWFP_CLS_ADDR;
	aw->k.len = len;
	w[0] = aw->addr[0] & m->w[0];
	w[1] = aw->addr[1] & m->w[1];
	w[2] = aw->addr[2] & m->w[2];
	w[3] = aw->addr[3] & m->w[3];
	id = bpf_map_lookup_elem(&lwfp_cls_index, &aw->k);
	if (!id)
		return 0;
	aw->id[n] = *id;
	aw->n = n + 1;
	if (n + 1 < LWFP_CLS_ADDR_HITS)
		return 0;
	/* the last one we take stands for its ancestors too */
	aw->k.kind = LWFP_CLS_ADDR_DEEP;
	deep = bpf_map_lookup_elem(&lwfp_cls_index, &aw->k);
	if (deep)
		aw->id[n] = *deep;
	return 1;
}

/* The rule prefixes that contain the address, into s->term[T_ADDR...].
 * Called before lwfp_cls_query(), not from it: the two frames never add
 * up on the stack (512 bytes for all the frames of a call chain). */
__global int lwfp_cls_addr(struct cls_walk *s)
{
	struct addr_walk aw = {
		.k = { .kind = LWFP_CLS_ADDR },
	};

	if (!s)
		return 0;
	aw.k.half = s->half & 1;
	__builtin_memcpy(aw.addr, s->ci.dst.addr, 16);
	bpf_loop(LWFP_CLS_LENS, addr_step, &aw, 0);
	for (int i = 0; i < LWFP_CLS_ADDR_HITS; i++)
		s->term[T_ADDR + i] = aw.id[i];
	s->naddr = aw.n;
	return 0;
}

/*
 * Narrow the candidate words by one field: the OR of the summaries of its
 * count terms from first (and of bitmap extra), ANDed into s->cand.
 */
__global int lwfp_cls_and(struct cls_walk *s, __u32 first, __u32 count,
			  __u32 extra)
{
	__u64 dim[LWFP_CLS_SUMMARY] = {};
	__u32 half;

	if (!s)
		return 0;
	half = s->half & 1;
	summary_or(dim, half, extra);
	for (__u32 t = 0; t < T_MAX; t++) {
		__u32 i = first + t;

		/* keep clang from turning i into a pointer it checks not */
		asm volatile("" : "+r"(i));
		if (t >= count || i >= T_MAX)
			break;
		summary_or(dim, half, s->term[i]);
	}
	for (int i = 0; i < LWFP_CLS_SUMMARY; i++)
		s->cand[i] &= dim[i];
	return 0;
}

/*
 * Select the connect's other terms and its candidate words (after
 * lwfp_cls_addr()). Returns 0 when no rule can match, 1 otherwise.
 * Counters live in *s: the verifier does not split its paths on memory it
 * does not track.
 */
__global int lwfp_cls_query(struct cls_walk *s)
{
	struct lwfp_cls_key k = {};
	const struct lwfp_cls_hdr *h;
	__u32 half, port, *id;

	if (!s)
		return 0;
	half = s->half & 1;
	h = bpf_map_lookup_elem(&lwfp_cls_hdr, &half);
	if (!h)
		return 0;
	/* s->term[T_ADDR...] and s->naddr: lwfp_cls_addr() */
	s->term[T_ADDR_ANY] = h->addr_any;
	s->term[T_PROTO] = h->proto[s->ci.dst.proto == IPPROTO_UDP];

	/* the port's path in the trie, root first; only non-empty nodes */
	port = bpf_ntohs(s->ci.dst.port_be);
	s->nport = 0;
	for (int l = 0; l < LWFP_CLS_PORT_LEVELS; l++) {
		__u32 node = half * LWFP_CLS_PORT_NODES + (1u << l) - 1 +
			     (port >> (16 - l));

		id = bpf_map_lookup_elem(&lwfp_cls_ports, &node);
		if (!id || !*id)
			continue;
		s->term[T_PORT + (s->nport & 31)] = *id;
		s->nport++;
	}

	k.half = half;
	k.kind = LWFP_CLS_UID;
	__builtin_memcpy(k.val, &s->ci.uid, sizeof(s->ci.uid));
	s->term[T_UID] = index_lookup(&k);
	s->term[T_UID_ANY] = h->uid_any;

	/* the task's ancestors at the cgroup levels rules use */
	k.kind = LWFP_CLS_CGROUP;
	s->term[T_CGROUP_ANY] = h->cgroup_any;
	s->ncgroup = 0;
	for (int i = 0; i < LWFP_CLS_LEVELS; i++) {
		__u64 cg;
		__u32 cid;

		if (i >= h->nlevels)
			break;
		cg = bpf_get_current_ancestor_cgroup_id(h->levels[i]);
		__builtin_memcpy(k.val, &cg, sizeof(cg));
		cid = cg ? index_lookup(&k) : 0;
		if (!cid)
			continue;
		s->term[T_CGROUP + (s->ncgroup & 15)] = cid;
		s->ncgroup++;
	}

	for (int i = 0; i < LWFP_CLS_SUMMARY; i++)
		s->cand[i] = ~0ull;
	lwfp_cls_and(s, T_ADDR_ANY, 1 + s->naddr, 0);
	lwfp_cls_and(s, T_PROTO, 1, 0);
	lwfp_cls_and(s, T_UID, 2, 0);
	lwfp_cls_and(s, T_PORT, s->nport, 0);
	lwfp_cls_and(s, T_CGROUP, s->ncgroup, s->term[T_CGROUP_ANY]);
	return (s->cand[0] | s->cand[1] | s->cand[2] | s->cand[3]) != 0;
}

/* The rules of word w that every field matches. */
static __always_inline __u64 walk_word(const struct cls_walk *s, __u32 w)
{
	__u32 half = s->half & 1, nport = s->nport, ncg = s->ncgroup;
	__u32 naddr = s->naddr;
	__u64 field, word;

	word = lwfp_bitmap_word(half, s->term[T_ADDR_ANY], w);
	for (int i = 0; i < LWFP_CLS_ADDR_HITS; i++) {
		if (i >= naddr)
			break;
		word |= lwfp_bitmap_word(half, s->term[T_ADDR + i], w);
	}
	word &= lwfp_bitmap_word(half, s->term[T_PROTO], w);
	field = lwfp_bitmap_word(half, s->term[T_UID], w) |
		lwfp_bitmap_word(half, s->term[T_UID_ANY], w);
	word &= field;
	field = 0;
	for (int i = 0; i < LWFP_CLS_PORT_LEVELS; i++) {
		if (i >= nport)
			break;
		field |= lwfp_bitmap_word(half, s->term[T_PORT + i], w);
	}
	word &= field;
	field = lwfp_bitmap_word(half, s->term[T_CGROUP_ANY], w);
	for (int i = 0; i < LWFP_CLS_LEVELS; i++) {
		if (i >= ncg)
			break;
		field |= lwfp_bitmap_word(half, s->term[T_CGROUP + i], w);
	}
	return word & field;
}

/* Can this service take this connect? Records why not, for the stats. */
static __always_inline bool service_usable(struct cls_walk *s,
					   const struct lwfp_rule *r,
					   const struct lwfp_service *svc,
					   __u32 slot)
{
	const struct connect_info *ci = &s->ci;
	int state;

	if (!(svc->flags & LWFP_SVC_IN_USE) || (s->excluded >> slot) & 1)
		return false;
	/* the analogue of WFP's localRedirectTargetPID */
	if (is_service_process(svc, ci->pid) ||
	    (svc->cgroup_id && in_cgroup(svc->cgroup_id, svc->cgroup_level))) {
		s->skipped_self = 1;
		return false;
	}
	/* never back to the service that just redirected the flow; to
	 * one that did earlier only if its rule asks to re-inspect */
	state = lwfp_chain_state(ci->chain, ci->chain_len, slot);
	if (state == LWFP_STATE_REDIRECTED_BY_SELF ||
	    (state == LWFP_STATE_PREVIOUSLY_REDIRECTED_BY_SELF &&
	     !(r->flags & LWFP_RULE_REINSPECT))) {
		s->skipped_chain = 1;
		return false;
	}
	if (svc->flags & (ci->dst.proto == IPPROTO_UDP ? LWFP_SVC_NO_UDP :
							 LWFP_SVC_NO_TCP))
		return false;
	if (!(svc->flags & (ci->dst.family == AF_INET ? LWFP_SVC_HAS_V4 :
						      LWFP_SVC_HAS_V6)) ||
	    (ci->v6_send && lwfp_is_v4_mapped(svc->addr6))) {
		s->no_target = 1;
		return false;
	}
	return true;
}

/* Can rule idx's service take this connect? Records why not. */
__global int lwfp_rule_takes(struct cls_walk *s, __u32 idx)
{
	const struct lwfp_service *svc;
	const struct lwfp_rule *r;
	__u32 key, slot;

	if (!s || idx >= LWFP_MAX_RULES)
		return 0;
	key = (s->half & 1) * LWFP_MAX_RULES + idx;
	r = bpf_map_lookup_elem(&lwfp_rules, &key);
	if (!r)
		return 0;
	/* the classifier is exact; a disagreement is a bug, never a match */
	if (!rule_matches(r, &s->ci)) {
		s->mismatch = 1;
		return 0;
	}
	slot = r->service;
	svc = bpf_map_lookup_elem(&lwfp_services, &slot);
	return svc && service_usable(s, r, svc, slot);
}

/*
 * The next candidate word at or after s->pos: the first rule there from
 * s->pos on that can take the connect. Returns its index, -1 when no
 * candidate is left, -2 to go on with the next word.
 */
__global int lwfp_cls_scan(struct cls_walk *s)
{
	__u32 pos, w = LWFP_CLS_WORDS, from;
	__u64 word;

	if (!s)
		return -1;
	pos = s->pos;
	if (pos >= LWFP_MAX_RULES)
		return -1;
	from = pos >> 6;
	for (int i = 0; i < LWFP_CLS_SUMMARY; i++) {
		__u64 m = s->cand[i];

		if ((__u32)(i + 1) * 64 <= from)
			continue;
		if ((__u32)i * 64 < from)
			m &= ~0ull << (from & 63);
		if (m) {
			w = i * 64 + lowest_bit(m);
			break;
		}
	}
	if (w >= LWFP_CLS_WORDS)
		return -1;
	word = walk_word(s, w);
	if (w == from)
		word &= ~0ull << (pos & 63);
	for (int b = 0; b < 64 && word; b++) {
		__u32 idx = w * 64 + lowest_bit(word);

		word &= word - 1;
		if (lwfp_rule_takes(s, idx) > 0)
			return idx;
	}
	s->pos = (w + 1) * 64;
	return -2;
}

/* The first rule from s->pos on whose service can take the connect, or
 * -1. At most one scan per candidate word. */
static __always_inline int cls_next(struct cls_walk *s)
{
	for (int i = 0; i < LWFP_CLS_WORDS; i++) {
		int ret = lwfp_cls_scan(s);

		if (ret != -2)
			return ret;
	}
	return -1;
}

#endif /* LWFP_CLASSIFY_BPF_H */
