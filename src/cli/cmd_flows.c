// SPDX-License-Identifier: MIT
/* lwfp flows: redirected flows, one per flow id, with their chain. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i18n.h"
#include "util.h"
#include "cli.h"
#include "offload_view.h"

/* What every flow's line is made from. */
struct flows_view {
	const struct lwfp_service *svcs;
	const struct lwfp_udp_flow *uf;
	size_t nuf;
	const struct offload_hop *offs;
	size_t noffs;
	struct json_object *arr;	/* --json */
};

/* One flow, gathered from the sockets that carry its id. */
struct flow {
	__u64 flow_id;
	const struct lwfp_sk_dump *client;	/* first hop's client socket */
	const struct lwfp_sk_dump *first;	/* socket with the shortest chain */
	const struct lwfp_sk_dump *longest;	/* socket with the longest chain */
	bool at_origin;				/* a service connected out direct */
};

static const char *tcp_state(__u32 s)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
		"LISTEN", "CLOSING", "NEW_SYN_RECV",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static int by_flow(const void *pa, const void *pb)
{
	const struct lwfp_sk_dump *a = pa, *b = pb;

	if (a->sk.rec.flow_id != b->sk.rec.flow_id)
		return a->sk.rec.flow_id < b->sk.rec.flow_id ? -1 : 1;
	return (int)a->sk.rec.chain_len - (int)b->sk.rec.chain_len;
}

/* Sockets sorted by flow id: fold each run into one flow. */
static size_t group_flows(const struct lwfp_sk_dump *s, size_t n,
			  struct flow *flows)
{
	size_t nf = 0;

	for (size_t i = 0; i < n; i++) {
		const struct lwfp_sk_dump *d = &s[i];
		struct flow *f;

		if (d->sk.role == LWFP_ROLE_NONE || d->sk.role == LWFP_ROLE_RECORDS)
			continue;
		if (!nf || flows[nf - 1].flow_id != d->sk.rec.flow_id) {
			f = &flows[nf++];
			memset(f, 0, sizeof(*f));
			f->flow_id = d->sk.rec.flow_id;
			f->first = d;	/* sorted by chain length */
		}
		f = &flows[nf - 1];
		if (d->sk.role == LWFP_ROLE_CLIENT && !f->client)
			f->client = d;
		if (!f->longest || d->sk.rec.chain_len > f->longest->sk.rec.chain_len)
			f->longest = d;
		if (d->sk.role == LWFP_ROLE_OUTBOUND)
			f->at_origin = true;
	}
	return nf;
}

static void chain_names(const struct flow *f,
			const struct lwfp_service *svcs,
			const char *names[LWFP_MAX_CHAIN + 1], int *n)
{
	const struct lwfp_records *rec = &f->longest->sk.rec;

	*n = 0;
	for (int i = 0; i < rec->chain_len && i < LWFP_MAX_CHAIN; i++)
		names[(*n)++] = svcs[rec->chain[i] % LWFP_MAX_SERVICES].name;
	if (f->at_origin)
		names[(*n)++] = "origin";
}

static __u64 now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int by_token(const void *pa, const void *pb)
{
	const struct lwfp_udp_flow *a = pa, *b = pb;

	if (a->hop.rec.token != b->hop.rec.token)
		return a->hop.rec.token < b->hop.rec.token ? -1 : 1;
	return 0;
}

/* A UDP client socket's state: its live flow, if any (uf sorted by
 * token); in the reader's language for the text listing, English in
 * --json. */
static void udp_state(const struct lwfp_hop *sk, const struct lwfp_udp_flow *uf,
		      size_t nuf, bool text, char *out, size_t len)
{
	struct lwfp_udp_flow want = { .hop.rec.token = sk->rec.token };
	const struct lwfp_udp_flow *f = nuf ?
		bsearch(&want, uf, nuf, sizeof(*uf), by_token) : NULL;

	if (!f) {
		snprintf(out, len, "%s", text ? _("udp no live flow") :
						 "udp no live flow");
		return;
	}
	snprintf(out, len, !text ? "udp %llu datagrams, idle %.1fs" :
		 P_("udp %llu datagram, idle %.1fs",
		    "udp %llu datagrams, idle %.1fs", f->datagrams),
		 (unsigned long long)f->datagrams,
		 (now_boot_ns() - f->last_ns) / 1e9);
}

/* TRANSLATORS: the column headings of lwfp flows fit 16, 7, 15, 24, 34
 * and 9 cells */
static void flows_headings(void)
{
	const char *names[] = { _("FLOW"), _("PID"), _("COMM"),
				_("ORIGINAL DST"), _("CHAIN"), _("AGE"),
				_("STATE") };
	static const int widths[] = { 16, 7, 15, 24, 34, -9, 0 };

	print_headings(names, widths, ARRAY_SIZE(names));
}

/* The hops of f a service offloaded: appended to the state, or to o. */
static void offloads_add(const struct flow *f, const struct flows_view *v,
			 char *state, size_t len, struct json_object *o)
{
	const struct lwfp_records *rec = &f->longest->sk.rec;
	struct json_object *list = o ? json_object_new_array() : NULL;

	for (int i = 0; i < rec->chain_len && i < LWFP_MAX_CHAIN; i++) {
		const struct offload_hop *h = offload_find(v->offs, v->noffs,
							   f->flow_id,
							   rec->chain[i]);
		const char *name = v->svcs[rec->chain[i] %
					   LWFP_MAX_SERVICES].name;
		size_t used = strlen(state);

		if (!h)
			continue;
		if (!o) {
			snprintf(state + used, len - used,
				 _(", offloaded by %s: %llu bytes out, %llu "
				   "back"), name,
				 (unsigned long long)h->to_origin,
				 (unsigned long long)h->to_client);
			continue;
		}
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "service",
				       json_object_new_string(name));
		json_object_object_add(e, "to_origin",
				       json_object_new_int64(h->to_origin));
		json_object_object_add(e, "to_client",
				       json_object_new_int64(h->to_client));
		json_object_array_add(list, e);
	}
	if (o)
		json_object_object_add(o, "offloaded", list);
}

static void print_flow(const struct flow *f, const struct flows_view *v)
{
	const struct lwfp_service *svcs = v->svcs;
	struct json_object *arr = v->arr;
	/* the client socket may be gone (or unseen without the flows
	 * iterator); its hop lives on with the first service */
	const struct lwfp_sk_dump *c = f->client ? f->client : f->first;
	const char *names[LWFP_MAX_CHAIN + 1];
	char dst[64], chain[512] = "", id[20], udp[64], shown[512];
	double age = (now_boot_ns() - c->sk.start_ns) / 1e9;
	const char *state = c->state == LWFP_SK_STATE_UNKNOWN ? N_("open") :
			    f->client ? tcp_state(c->state) :
			    N_("client closed");
	bool is_udp = c->sk.orig.proto == IPPROTO_UDP;
	int n;

	if (is_udp && f->client) {
		udp_state(&c->sk, v->uf, v->nuf, !arr, udp, sizeof(udp));
		state = udp;
	}

	format_endpoint(c->sk.orig.addr, c->sk.orig.port_be,
			c->sk.orig.family == 10, dst, sizeof(dst));
	chain_names(f, svcs, names, &n);
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)f->flow_id);
	if (!arr) {
		for (int i = 0; i < n; i++)
			snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain),
				 "%s%s", i ? " -> " : "", names[i]);
		snprintf(shown, sizeof(shown), "%s",
			 state == udp ? state : _(state));
		offloads_add(f, v, shown, sizeof(shown), NULL);
		printf("%-16s %-7u %-15s %-24s %-34s %8.1fs %s\n", id,
		       c->sk.pid, c->sk.comm, dst, chain, age, shown);
		return;
	}
	struct json_object *o = json_object_new_object();
	struct json_object *ch = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(ch, json_object_new_string(names[i]));
	json_object_object_add(o, "flow_id", json_object_new_string(id));
	json_object_object_add(o, "pid", json_object_new_int64(c->sk.pid));
	json_object_object_add(o, "comm", json_object_new_string(c->sk.comm));
	json_object_object_add(o, "uid", json_object_new_int64(c->sk.uid));
	json_object_object_add(o, "proto",
			       json_object_new_string(is_udp ? "udp" : "tcp"));
	json_object_object_add(o, "orig_dst", json_object_new_string(dst));
	json_object_object_add(o, "chain", ch);
	json_object_object_add(o, "age_s", json_object_new_double(age));
	json_object_object_add(o, "state", json_object_new_string(state));
	offloads_add(f, v, shown, sizeof(shown), o);
	json_object_array_add(arr, o);
}

int cmd_flows(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	struct lwfp_service svcs[LWFP_MAX_SERVICES];
	struct lwfp_sk_dump *socks = NULL;
	struct lwfp_udp_flow *uf = NULL;
	struct offload_hop *offs = NULL;
	struct flows_view v = { .svcs = svcs };
	struct flow *flows;
	struct admin a;
	size_t n = 0, nf, nuf = 0, noffs = 0;
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, "lwfp flows", false, NULL, NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("flows: unexpected argument '%s'"), argv[i]);
	if (cli_admin_open(cli, &a))
		return 1;
	ret = admin_services(&a, svcs);
	if (!ret)
		ret = admin_sockets(&a, &socks, &n);
	if (!ret)
		ret = admin_udp_flows(&a, &uf, &nuf);
	if (!ret)
		ret = admin_offloads(&a, &offs, &noffs);
	admin_close(&a);
	if (ret) {
		free(socks);
		free(uf);
		return cli_error(_("cannot list flows: %s"), strerror(-ret));
	}
	flows = calloc(n + 1, sizeof(*flows));
	if (!flows) {
		free(socks);
		free(uf);
		free(offs);
		return cli_error(_("out of memory"));
	}
	qsort(socks, n, sizeof(*socks), by_flow);
	if (nuf)
		qsort(uf, nuf, sizeof(*uf), by_token);
	nf = group_flows(socks, n, flows);
	v = (struct flows_view){ svcs, uf, nuf, offs, noffs, NULL };
	if (cli->json)
		v.arr = json_object_new_array();
	else
		flows_headings();
	for (size_t k = 0; k < nf; k++)
		print_flow(&flows[k], &v);
	if (v.arr)
		cli_json_print(v.arr);
	free(flows);
	free(socks);
	free(uf);
	free(offs);
	return 0;
}
