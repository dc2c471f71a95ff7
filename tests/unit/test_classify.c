// SPDX-License-Identifier: MIT
/*
 * Unit tests of the rule classifier (src/classify.c): for random rule
 * tables of mixed shapes and random connects, the candidates the engine's
 * lookup computes are exactly the rules that match, rule by rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

static char err[256];

/* A small world, so that random rules and connects meet often. */
static const __u64 cgroups[4][3] = {
	{ 0x10, 0x100, 0x1000 },	/* level 1, 2, 3 ancestors */
	{ 0x10, 0x100, 0x1001 },
	{ 0x10, 0x101, 0x1002 },
	{ 0x11, 0x102, 0x1003 },
};

static __u64 ancestor(const void *arg, __u32 level)
{
	const __u64 *chain = arg;

	return level >= 1 && level <= 3 ? chain[level - 1] : 0;
}

static void random_addr(__u8 *a, unsigned int seed)
{
	memset(a, 0, 16);
	if (seed & 1) {		/* IPv4, v4-mapped, in 127.0.0.0/16 */
		a[10] = a[11] = 0xff;
		a[12] = 127;
		a[14] = rand() % 4;
		a[15] = rand() % 8;
	} else {		/* IPv6 in a few /120s */
		a[0] = 0xfe;
		a[1] = 0x80;
		a[14] = rand() % 3;
		a[15] = rand() % 8;
	}
}

static void random_rule(struct lwfp_rule *r, __u32 id)
{
	static const __u8 v4_lens[] = { 96, 104, 112, 120, 126, 128 };
	static const __u8 v6_lens[] = { 0, 16, 120, 124, 128 };
	bool v4 = rand() & 1;

	memset(r, 0, sizeof(*r));
	r->id = id;
	random_addr(r->dst, v4);
	r->prefix_len = v4 ? v4_lens[rand() % 6] : v6_lens[rand() % 5];
	switch (rand() % 4) {
	case 0:
		r->dport_lo = 0;
		r->dport_hi = 65535;
		break;
	case 1:
		r->dport_lo = r->dport_hi = 80 + rand() % 8;
		break;
	default:
		r->dport_lo = 70 + rand() % 20;
		r->dport_hi = r->dport_lo + rand() % 30;
		break;
	}
	r->proto = (const __u8[]){ 0, IPPROTO_TCP, IPPROTO_UDP }[rand() % 3];
	if (rand() % 3 == 0) {
		r->flags |= LWFP_RULE_UID;
		r->uid = rand() % 3;
	}
	if (rand() % 3 == 0) {
		int c = rand() % 4, l = 1 + rand() % 3;

		r->flags |= LWFP_RULE_CGROUP;
		r->cgroup_level = l;
		r->cgroup_id = cgroups[c][l - 1];
	}
}

static void random_conn(struct cls_conn *c)
{
	random_addr(c->addr, rand());
	c->port = 70 + rand() % 60;
	c->proto = rand() & 1 ? IPPROTO_TCP : IPPROTO_UDP;
	c->uid = rand() % 4;
	c->ancestor = ancestor;
	c->arg = cgroups[rand() % 4];
}

static void check_table(__u32 n, unsigned int seed, int conns)
{
	struct lwfp_rule *rules = calloc(n + 1, sizeof(*rules));
	struct cls_table t;

	srand(seed);
	for (__u32 i = 0; i < n; i++)
		random_rule(&rules[i], i + 1);
	assert_int_equal(cls_build(rules, n, &t, err, sizeof(err)), 0);
	for (int k = 0; k < conns; k++) {
		struct cls_conn c;

		__u64 cand[LWFP_CLS_WORDS];

		random_conn(&c);
		cls_lookup(&t, &c, cand);
		for (__u32 w = 0; w < LWFP_CLS_WORDS; w++) {
			__u64 got = cand[w], want = 0;

			for (__u32 b = 0; b < 64 && w * 64 + b < n; b++)
				if (cls_rule_matches(&rules[w * 64 + b], &c))
					want |= 1ull << b;
			if (got != want)
				fail_msg("seed %u conn %d word %u: got %llx want %llx",
					 seed, k, w, (unsigned long long)got,
					 (unsigned long long)want);
		}
	}
	cls_free(&t);
	free(rules);
}

static void test_small_tables(void **state)
{
	for (unsigned int seed = 1; seed <= 200; seed++)
		check_table(1 + seed % 70, seed, 50);
}

static void test_large_table(void **state)
{
	check_table(3000, 4242, 300);
}

static void test_full_table(void **state)
{
	check_table(LWFP_MAX_RULES, 7, 20);
}

static void test_empty_table(void **state)
{
	__u64 cand[LWFP_CLS_WORDS];
	struct cls_table t;
	struct cls_conn c;

	assert_int_equal(cls_build(NULL, 0, &t, err, sizeof(err)), 0);
	assert_int_equal(t.hdr.bitmaps, 1);	/* only the empty set */
	random_conn(&c);
	cls_lookup(&t, &c, cand);
	assert_int_equal(cand[0], 0);
	cls_free(&t);
}

/* Equal sets are stored once: a thousand rules of one port have one
 * bitmap, shared with every field they do not restrict. */
static void test_interned(void **state)
{
	struct lwfp_rule rules[1000];
	struct cls_table t;

	for (int i = 0; i < 1000; i++) {
		memset(&rules[i], 0, sizeof(rules[i]));
		rules[i].id = i + 1;
		rules[i].dport_lo = rules[i].dport_hi = 8080;
	}
	assert_int_equal(cls_build(rules, 1000, &t, err, sizeof(err)), 0);
	/* empty, all rules (proto, /0, uid, cgroup, port 8080 share it) */
	assert_int_equal(t.hdr.bitmaps, 2);
	assert_int_equal(t.hdr.words, (1000 + 63) / 64);
	assert_int_equal(t.ports[65535 + 8080], t.hdr.proto[0]);
	assert_int_equal(t.ports[65535 + 8079], 0);
	assert_int_equal(t.ports[0], 0);	/* the root: every port */
	cls_free(&t);
}

/* A range is split into the fewest aligned blocks: 1-65534 into 30. */
static void test_port_blocks(void **state)
{
	struct lwfp_rule r = { .id = 1, .dport_lo = 1, .dport_hi = 65534 };
	struct cls_table t;
	size_t nodes = 0;

	assert_int_equal(cls_build(&r, 1, &t, err, sizeof(err)), 0);
	for (__u32 i = 0; i < LWFP_CLS_PORT_NODES; i++)
		nodes += t.ports[i] != 0;
	assert_int_equal(nodes, 30);
	assert_int_equal(t.ports[0], 0);
	cls_free(&t);
	r.dport_lo = 0;
	r.dport_hi = 65535;
	assert_int_equal(cls_build(&r, 1, &t, err, sizeof(err)), 0);
	assert_int_not_equal(t.ports[0], 0);
	cls_free(&t);
}

/* Prefixes nested deeper than a connect's address hits: the last hit
 * stands for its ancestors, so every one of 25 nested rules matches. */
static void test_deep_nesting(void **state)
{
	struct lwfp_rule rules[25];
	__u64 cand[LWFP_CLS_WORDS];
	struct cls_table t;
	struct cls_conn c = { .port = 80, .proto = IPPROTO_TCP,
			      .ancestor = ancestor, .arg = cgroups[0] };

	for (int i = 0; i < 25; i++) {
		memset(&rules[i], 0, sizeof(rules[i]));
		rules[i].id = i + 1;
		rules[i].dport_hi = 65535;
		rules[i].dst[10] = rules[i].dst[11] = 0xff;
		rules[i].dst[12] = 127;
		rules[i].prefix_len = 96 + 8 + i;	/* /8 .. /32 */
	}
	assert_int_equal(cls_build(rules, 25, &t, err, sizeof(err)), 0);
	c.addr[10] = c.addr[11] = 0xff;
	c.addr[12] = 127;
	c.addr[15] = 1;			/* 127.0.0.1: all but the /32 */
	cls_lookup(&t, &c, cand);
	assert_int_equal(cand[0], (1ull << 24) - 1);
	c.addr[15] = 0;			/* 127.0.0.0: every one */
	cls_lookup(&t, &c, cand);
	assert_int_equal(cand[0], (1ull << 25) - 1);
	c.addr[13] = 0x80;		/* 127.128.0.0: only the /8 */
	cls_lookup(&t, &c, cand);
	assert_int_equal(cand[0], 1);
	cls_free(&t);
}

static void test_malformed(void **state)
{
	struct lwfp_rule r = { .id = 9, .prefix_len = 129, .dport_hi = 1 };
	struct cls_table t;

	assert_int_equal(cls_build(&r, 1, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rule 9"));
	r.prefix_len = 0;
	r.dport_lo = 2;
	assert_int_equal(cls_build(&r, 1, &t, err, sizeof(err)), -EINVAL);
	r.dport_lo = 0;
	r.proto = IPPROTO_ICMP;
	assert_int_equal(cls_build(&r, 1, &t, err, sizeof(err)), -EINVAL);
}

static void test_cgroup_depths(void **state)
{
	struct lwfp_rule rules[LWFP_CLS_LEVELS + 1] = {};
	struct cls_table t;

	for (int i = 0; i <= LWFP_CLS_LEVELS; i++) {
		rules[i].id = i + 1;
		rules[i].dport_hi = 65535;
		rules[i].flags = LWFP_RULE_CGROUP;
		rules[i].cgroup_level = i + 1;
		rules[i].cgroup_id = 100 + i;
	}
	assert_int_equal(cls_build(rules, LWFP_CLS_LEVELS, &t, err,
				   sizeof(err)), 0);
	assert_int_equal(t.hdr.nlevels, LWFP_CLS_LEVELS);
	cls_free(&t);
	assert_int_equal(cls_build(rules, LWFP_CLS_LEVELS + 1, &t, err,
				   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "depths"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_tables),
		cmocka_unit_test(test_large_table),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_empty_table),
		cmocka_unit_test(test_interned),
		cmocka_unit_test(test_port_blocks),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_cgroup_depths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
