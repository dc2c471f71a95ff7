// SPDX-License-Identifier: MIT
/*
 * Building the rule classifier: for each field value rules name, the
 * bitmap of the rules that value matches, interned (equal bitmaps are
 * stored once) and stored sparse.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "classify.h"

#define NWORDS LWFP_CLS_WORDS

struct builder {
	struct cls_table *t;
	__u32 nwords;		/* words that can hold a rule */
	size_t cap_bitmaps, cap_words, cap_index;
	__u32 *slots;		/* intern hash: bitmap ids, 0 = free */
	size_t nslots;
	char *err;
	size_t errlen;
};

static unsigned int popcount(__u64 x)
{
	return __builtin_popcountll(x);
}

static void set_bit(__u64 *set, __u32 i)
{
	set[i / 64] |= 1ull << (i % 64);
}

static __u64 set_hash(const __u64 *set, __u32 nwords)
{
	__u64 h = 1469598103934665603ull;

	for (__u32 i = 0; i < nwords; i++) {
		h ^= set[i];
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return h;
}

/* Is bitmap id equal to the dense set? */
static bool same_set(const struct cls_table *t, __u32 id, const __u64 *set,
		     __u32 nwords)
{
	const struct lwfp_cls_bitmap *b = &t->bitmaps[id];
	__u32 k = b->base[0];

	for (__u32 w = 0; w < NWORDS; w++) {
		bool stored = (b->summary[w / 64] >> (w % 64)) & 1;
		__u64 v = w < nwords ? set[w] : 0;

		if (stored != !!v || (stored && t->words[k++] != v))
			return false;
	}
	return true;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* fmt: "... %zu ...", max */
static int __attribute__((format(printf, 2, 0)))
too_big(struct builder *b, const char *fmt, size_t max)
{
	snprintf(b->err, b->errlen, fmt, max);
	return -ENOSPC;
}

/* The bitmap id of a set, stored if new. Returns 0 for the empty set,
 * a negative errno on failure. */
static long intern(struct builder *b, const __u64 *set)
{
	struct cls_table *t = b->t;
	struct lwfp_cls_bitmap *bm;
	__u32 nwords = b->nwords, stored = 0, id;
	size_t mask = b->nslots - 1, i;
	__u64 any = 0;

	for (__u32 w = 0; w < nwords; w++) {
		any |= set[w];
		stored += !!set[w];
	}
	if (!any)
		return 0;
	for (i = set_hash(set, nwords) & mask; b->slots[i]; i = (i + 1) & mask)
		if (same_set(t, b->slots[i], set, nwords))
			return b->slots[i];
	if (t->hdr.bitmaps >= LWFP_CLS_BITMAPS_MAX)
		return too_big(b, _("the rules need more than the classifier's "
				    "%zu bitmaps: fewer rules, or rules that "
				    "share addresses and ports"),
			       LWFP_CLS_BITMAPS_MAX);
	if (t->hdr.words + stored > LWFP_CLS_POOL_MAX)
		return too_big(b, _("the rules need more than the classifier's "
				    "%zu bitmap words: fewer rules, or rules "
				    "that share addresses and ports"),
			       LWFP_CLS_POOL_MAX);
	if (grow((void **)&t->bitmaps, &b->cap_bitmaps, t->hdr.bitmaps + 1,
		 sizeof(*t->bitmaps)) ||
	    grow((void **)&t->words, &b->cap_words, t->hdr.words + stored,
		 sizeof(*t->words)))
		return -ENOMEM;
	id = t->hdr.bitmaps++;
	bm = &t->bitmaps[id];
	memset(bm, 0, sizeof(*bm));
	for (__u32 w = 0; w < NWORDS; w++) {
		if (w % 64 == 0)
			bm->base[w / 64] = t->hdr.words;
		if (w < nwords && set[w]) {
			bm->summary[w / 64] |= 1ull << (w % 64);
			t->words[t->hdr.words++] = set[w];
		}
	}
	b->slots[i] = id;
	return id;
}

static int add_index(struct builder *b, const struct lwfp_cls_key *k,
		     long id)
{
	struct cls_table *t = b->t;

	if (id <= 0)
		return id;	/* an error, or the empty set: no entry */
	if (grow((void **)&t->keys, &b->cap_index, t->nindex + 1,
		 sizeof(*t->keys)))
		return -ENOMEM;
	t->ids = realloc(t->ids, b->cap_index * sizeof(*t->ids));
	if (!t->ids)
		return -ENOMEM;
	t->keys[t->nindex] = *k;
	t->ids[t->nindex++] = id;
	return 0;
}

static void mask_addr(__u8 *out, const __u8 *addr, __u32 len)
{
	for (__u32 i = 0; i < 16; i++) {
		int bits = (int)len - 8 * (int)i;

		out[i] = bits >= 8 ? addr[i] :
			 bits <= 0 ? 0 : addr[i] & (__u8)(0xff << (8 - bits));
	}
}

static bool has_uid(const struct lwfp_rule *r)
{
	return r->flags & LWFP_RULE_UID;
}

static bool has_cgroup(const struct lwfp_rule *r)
{
	return r->flags & LWFP_RULE_CGROUP;
}

/* A set per predicate over the rules. */
static long intern_where(struct builder *b, const struct lwfp_rule *rules,
			 __u32 n, bool (*pred)(const struct lwfp_rule *, __u32),
			 __u32 arg)
{
	__u64 set[NWORDS] = {};

	for (__u32 i = 0; i < n; i++)
		if (pred(&rules[i], arg))
			set_bit(set, i);
	return intern(b, set);
}

static bool pred_proto(const struct lwfp_rule *r, __u32 proto)
{
	return !r->proto || r->proto == proto;
}

static bool pred_addr_any(const struct lwfp_rule *r, __u32 unused)
{
	return r->prefix_len == 0;
}

static bool pred_no_uid(const struct lwfp_rule *r, __u32 unused)
{
	return !has_uid(r);
}

static bool pred_no_cgroup(const struct lwfp_rule *r, __u32 unused)
{
	return !has_cgroup(r);
}

static int check_rules(struct builder *b, const struct lwfp_rule *rules,
		       __u32 n)
{
	__u8 levels[LWFP_CLS_LEVELS];
	__u32 nlevels = 0;

	if (n > LWFP_MAX_RULES) {
		snprintf(b->err, b->errlen, _("too many rules (max %d)"),
			 LWFP_MAX_RULES);
		return -EINVAL;
	}
	for (__u32 i = 0; i < n; i++) {
		const struct lwfp_rule *r = &rules[i];
		__u32 l = 0;

		if (r->prefix_len > 128 || r->dport_lo > r->dport_hi ||
		    (r->proto && r->proto != IPPROTO_TCP &&
		     r->proto != IPPROTO_UDP)) {
			snprintf(b->err, b->errlen, _("rule %u is malformed"),
				 r->id);
			return -EINVAL;
		}
		if (!has_cgroup(r))
			continue;
		while (l < nlevels && levels[l] != r->cgroup_level)
			l++;
		if (l < nlevels)
			continue;
		if (nlevels == LWFP_CLS_LEVELS || r->cgroup_level > 255) {
			snprintf(b->err, b->errlen,
				 _("rules may name cgroups at %d depths at most "
				 "(rule %u adds another)"), LWFP_CLS_LEVELS,
				 r->id);
			return -EINVAL;
		}
		levels[nlevels++] = r->cgroup_level;
	}
	memcpy(b->t->hdr.levels, levels, nlevels);
	b->t->hdr.nlevels = nlevels;
	return 0;
}

/* ---- destination addresses ---- */

struct node {
	__u8 len;
	__u8 addr[16];		/* masked to len */
	__u32 first, count;	/* its rules, in by_node */
};

static int node_cmp(const void *pa, const void *pb)
{
	const struct node *a = pa, *b = pb;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

static struct node *node_find(struct node *nodes, size_t n, __u8 len,
			      const __u8 *addr)
{
	struct node key = { .len = len };

	mask_addr(key.addr, addr, len);
	return bsearch(&key, nodes, n, sizeof(*nodes), node_cmp);
}

/* Index by (prefix length, masked address): the rules of that prefix; for
 * prefixes nested LWFP_CLS_ADDR_HITS deep, also with those of every
 * shorter rule prefix that contains it. /0 rules go to addr_any. */
static int build_addr(struct builder *b, const struct lwfp_rule *rules,
		      __u32 n)
{
	struct lwfp_cls_hdr *h = &b->t->hdr;
	struct node *nodes = calloc(n + 1, sizeof(*nodes));
	__u32 *by_node = calloc(n + 1, sizeof(*by_node));
	bool lens[129] = {};
	size_t nn = 0, k;
	int ret = 0;

	if (!nodes || !by_node) {
		ret = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0; i < n; i++) {
		if (!rules[i].prefix_len)
			continue;
		nodes[nn].len = rules[i].prefix_len;
		mask_addr(nodes[nn].addr, rules[i].dst, rules[i].prefix_len);
		nn++;
		lens[rules[i].prefix_len] = true;
	}
	qsort(nodes, nn, sizeof(*nodes), node_cmp);
	k = 0;
	for (size_t i = 0; i < nn; i++)
		if (!k || node_cmp(&nodes[k - 1], &nodes[i]))
			nodes[k++] = nodes[i];
	nn = k;
	/* each node's rules, in rule order (counting sort) */
	for (__u32 i = 0; i < n; i++)
		if (rules[i].prefix_len)
			node_find(nodes, nn, rules[i].prefix_len,
				  rules[i].dst)->count++;
	for (size_t i = 0, at = 0; i < nn; i++) {
		nodes[i].first = at;
		at += nodes[i].count;
		nodes[i].count = 0;
	}
	for (__u32 i = 0; i < n; i++) {
		struct node *nd;

		if (!rules[i].prefix_len)
			continue;
		nd = node_find(nodes, nn, rules[i].prefix_len, rules[i].dst);
		by_node[nd->first + nd->count++] = i;
	}
	for (int l = 128; l >= 1; l--)
		if (lens[l])
			h->lens[h->nlens++] = l;
	for (size_t i = 0; i < nn && !ret; i++) {
		struct lwfp_cls_key key = { .kind = LWFP_CLS_ADDR };
		__u64 set[NWORDS] = {};
		__u32 ancestors = 0;

		for (__u32 r = 0; r < nodes[i].count; r++)
			set_bit(set, by_node[nodes[i].first + r]);
		key.len = nodes[i].len;
		memcpy(key.val, nodes[i].addr, 16);
		ret = add_index(b, &key, intern(b, set));
		/* nested deep enough to be a connect's last hit: its rules
		 * with those of every rule prefix that contains it */
		for (__u32 l = 0; l < h->nlens; l++)
			ancestors += h->lens[l] < nodes[i].len &&
				     node_find(nodes, nn, h->lens[l],
					       nodes[i].addr);
		if (ret || ancestors + 1 < LWFP_CLS_ADDR_HITS)
			continue;
		for (__u32 l = 0; l < h->nlens; l++) {
			struct node *a;

			if (h->lens[l] >= nodes[i].len)
				continue;
			a = node_find(nodes, nn, h->lens[l], nodes[i].addr);
			for (__u32 r = 0; a && r < a->count; r++)
				set_bit(set, by_node[a->first + r]);
		}
		key.kind = LWFP_CLS_ADDR_DEEP;
		ret = add_index(b, &key, intern(b, set));
	}
out:
	free(nodes);
	free(by_node);
	return ret;
}

/* ---- destination ports ---- */

struct node_rule {
	__u32 node, rule;
};

static int node_rule_cmp(const void *pa, const void *pb)
{
	const struct node_rule *a = pa, *b = pb;

	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/* Split [lo, hi] into maximal aligned blocks: trie nodes. */
static size_t port_blocks(__u32 lo, __u32 hi, __u32 *nodes)
{
	size_t n = 0;

	while (lo <= hi) {
		int l = 0;	/* the biggest block at lo within [lo, hi] */

		while (l < 16 && (lo & ((1u << (16 - l)) - 1)))
			l++;
		while (lo + (1u << (16 - l)) - 1 > hi)
			l++;
		nodes[n++] = (1u << l) - 1 + (lo >> (16 - l));
		lo += 1u << (16 - l);
	}
	return n;
}

/* Each trie node, the bitmap of the rules whose range holds its block. */
static int build_ports(struct builder *b, const struct lwfp_rule *rules,
		       __u32 n)
{
	struct node_rule *v = calloc((size_t)n * 32 + 1, sizeof(*v));
	size_t nv = 0;
	int ret = 0;

	b->t->ports = calloc(LWFP_CLS_PORT_NODES, sizeof(*b->t->ports));
	if (!v || !b->t->ports) {
		free(v);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < n; i++) {
		__u32 nodes[32];
		size_t k = port_blocks(rules[i].dport_lo, rules[i].dport_hi,
				       nodes);

		for (size_t j = 0; j < k; j++)
			v[nv++] = (struct node_rule){ nodes[j], i };
	}
	qsort(v, nv, sizeof(*v), node_rule_cmp);
	for (size_t i = 0, j; i < nv && !ret; i = j) {
		__u64 set[NWORDS] = {};
		long id;

		for (j = i; j < nv && v[j].node == v[i].node; j++)
			set_bit(set, v[j].rule);
		id = intern(b, set);
		if (id < 0)
			ret = id;
		else
			b->t->ports[v[i].node] = id;
	}
	free(v);
	return ret;
}

/* ---- uids and cgroups ---- */

struct keyed {
	__u64 key;
	__u32 rule;
};

static int keyed_cmp(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/* An index entry per distinct value of a rule field. */
static int build_keyed(struct builder *b, const struct lwfp_rule *rules,
		       __u32 n, enum lwfp_cls_kind kind)
{
	struct keyed *v = calloc(n + 1, sizeof(*v));
	size_t nv = 0;
	int ret = 0;

	if (!v)
		return -ENOMEM;
	for (__u32 i = 0; i < n; i++) {
		if (kind == LWFP_CLS_UID && has_uid(&rules[i]))
			v[nv++] = (struct keyed){ rules[i].uid, i };
		if (kind == LWFP_CLS_CGROUP && has_cgroup(&rules[i]))
			v[nv++] = (struct keyed){ rules[i].cgroup_id, i };
	}
	qsort(v, nv, sizeof(*v), keyed_cmp);
	for (size_t i = 0, j; i < nv && !ret; i = j) {
		struct lwfp_cls_key key = { .kind = kind };
		__u64 set[NWORDS] = {};

		for (j = i; j < nv && v[j].key == v[i].key; j++)
			set_bit(set, v[j].rule);
		if (kind == LWFP_CLS_UID) {
			__u32 uid = v[i].key;

			memcpy(key.val, &uid, sizeof(uid));
		} else {
			memcpy(key.val, &v[i].key, sizeof(v[i].key));
		}
		ret = add_index(b, &key, intern(b, set));
	}
	free(v);
	return ret;
}

int cls_build(const struct lwfp_rule *rules, __u32 n, struct cls_table *t,
	      char *err, size_t errlen)
{
	struct builder b = {
		.t = t, .nwords = (n + 63) / 64, .err = err, .errlen = errlen,
		.nslots = 1,
	};
	long id;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = check_rules(&b, rules, n);
	if (ret)
		return ret;
	while (b.nslots < 2 * ((size_t)5 * n + 8))
		b.nslots *= 2;
	b.slots = calloc(b.nslots, sizeof(*b.slots));
	/* bitmap 0: the empty set */
	ret = b.slots ? grow((void **)&t->bitmaps, &b.cap_bitmaps, 1,
			     sizeof(*t->bitmaps)) : -ENOMEM;
	if (ret)
		goto out;
	memset(&t->bitmaps[0], 0, sizeof(t->bitmaps[0]));
	t->hdr.bitmaps = 1;

#define FIXED(field, pred, arg)						\
	do {								\
		id = intern_where(&b, rules, n, pred, arg);		\
		if (id < 0) {						\
			ret = id;					\
			goto out;					\
		}							\
		t->hdr.field = id;					\
	} while (0)
	FIXED(proto[0], pred_proto, IPPROTO_TCP);
	FIXED(proto[1], pred_proto, IPPROTO_UDP);
	FIXED(addr_any, pred_addr_any, 0);
	FIXED(uid_any, pred_no_uid, 0);
	FIXED(cgroup_any, pred_no_cgroup, 0);
#undef FIXED
	ret = build_addr(&b, rules, n);
	if (!ret)
		ret = build_ports(&b, rules, n);
	if (!ret)
		ret = build_keyed(&b, rules, n, LWFP_CLS_UID);
	if (!ret)
		ret = build_keyed(&b, rules, n, LWFP_CLS_CGROUP);
out:
	free(b.slots);
	if (ret == -ENOMEM)
		snprintf(err, errlen, _("out of memory building the classifier"));
	if (ret)
		cls_free(t);
	return ret;
}

void cls_free(struct cls_table *t)
{
	free(t->bitmaps);
	free(t->words);
	free(t->ports);
	free(t->keys);
	free(t->ids);
	memset(t, 0, sizeof(*t));
}

/* ---- the lookup, as the engine does it (for tests) ---- */

bool cls_rule_matches(const struct lwfp_rule *r, const struct cls_conn *c)
{
	__u8 net[16];

	if (r->proto && r->proto != c->proto)
		return false;
	if (c->port < r->dport_lo || c->port > r->dport_hi)
		return false;
	mask_addr(net, c->addr, r->prefix_len);
	if (r->prefix_len) {
		__u8 dst[16];

		mask_addr(dst, r->dst, r->prefix_len);
		if (memcmp(net, dst, 16))
			return false;
	}
	if (has_uid(r) && r->uid != c->uid)
		return false;
	if (has_cgroup(r) &&
	    c->ancestor(c->arg, r->cgroup_level) != r->cgroup_id)
		return false;
	return true;
}

static __u64 word_of(const struct cls_table *t, __u32 id, __u32 w)
{
	const struct lwfp_cls_bitmap *b;
	__u64 sum;

	if (!id || id >= t->hdr.bitmaps)
		return 0;
	b = &t->bitmaps[id];
	sum = b->summary[w / 64];
	if (!((sum >> (w % 64)) & 1))
		return 0;
	return t->words[b->base[w / 64] +
			popcount(sum & ((1ull << (w % 64)) - 1))];
}

static __u32 index_of(const struct cls_table *t,
		      const struct lwfp_cls_key *k)
{
	for (size_t i = 0; i < t->nindex; i++)
		if (!memcmp(&t->keys[i], k, sizeof(*k)))
			return t->ids[i];
	return 0;
}

void cls_lookup(const struct cls_table *t, const struct cls_conn *c,
		__u64 out[LWFP_CLS_WORDS])
{
	const struct lwfp_cls_hdr *h = &t->hdr;
	struct lwfp_cls_key k = { .kind = LWFP_CLS_ADDR };
	__u32 addr[LWFP_CLS_ADDR_HITS], naddr = 0, uid;
	__u32 cg[LWFP_CLS_LEVELS] = {};

	for (__u32 i = 0; i < h->nlens && naddr < LWFP_CLS_ADDR_HITS; i++) {
		k.kind = LWFP_CLS_ADDR;
		k.len = h->lens[i];
		mask_addr(k.val, c->addr, k.len);
		addr[naddr] = index_of(t, &k);
		if (!addr[naddr])
			continue;
		if (++naddr == LWFP_CLS_ADDR_HITS) {
			k.kind = LWFP_CLS_ADDR_DEEP;
			if (index_of(t, &k))
				addr[naddr - 1] = index_of(t, &k);
		}
	}
	memset(&k, 0, sizeof(k));
	k.kind = LWFP_CLS_UID;
	memcpy(k.val, &c->uid, sizeof(c->uid));
	uid = index_of(t, &k);
	for (__u32 i = 0; i < h->nlevels; i++) {
		__u64 id = c->ancestor(c->arg, h->levels[i]);

		memset(&k, 0, sizeof(k));
		k.kind = LWFP_CLS_CGROUP;
		memcpy(k.val, &id, sizeof(id));
		cg[i] = id ? index_of(t, &k) : 0;
	}
	for (__u32 w = 0; w < LWFP_CLS_WORDS; w++) {
		__u64 word, field;

		word = word_of(t, h->addr_any, w);
		for (__u32 i = 0; i < naddr; i++)
			word |= word_of(t, addr[i], w);
		field = 0;
		for (__u32 l = 0; l < LWFP_CLS_PORT_LEVELS; l++)
			field |= word_of(t, t->ports[(1u << l) - 1 +
						     (c->port >> (16 - l))], w);
		word &= field;
		word &= word_of(t, h->proto[c->proto == IPPROTO_UDP], w);
		word &= word_of(t, uid, w) | word_of(t, h->uid_any, w);
		field = word_of(t, h->cgroup_any, w);
		for (__u32 i = 0; i < h->nlevels; i++)
			field |= word_of(t, cg[i], w);
		out[w] = word & field;
	}
}
