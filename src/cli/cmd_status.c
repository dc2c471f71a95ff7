// SPDX-License-Identifier: MIT
/* lwfp status: the engine, its counters, its classifier, its programs. */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "i18n.h"
#include "cli.h"
#include "loader.h"
#include "offload_view.h"

static const char *const stat_names[] = {
	[LWFP_STAT_REDIRECTED] = "redirected",
	[LWFP_STAT_HANDOFF] = "handed_off",
	[LWFP_STAT_HANDOFF_MISS] = "handoff_missed",
	[LWFP_STAT_SKIP_SELF] = "skipped_own_process",
	[LWFP_STAT_SKIP_CHAIN] = "skipped_already_in_chain",
	[LWFP_STAT_CHAIN_FULL] = "chain_too_long",
	[LWFP_STAT_BAD_RECORDS] = "records_malformed",
	[LWFP_STAT_NO_TARGET] = "no_address_for_family",
	[LWFP_STAT_RECORDS_FOREIGN] = "records_other_engine",
	[LWFP_STAT_RECORDS_STALE] = "records_unknown_or_closed",
	[LWFP_STAT_RECORDS_WRONG_FLOW] = "records_other_destination",
	[LWFP_STAT_FAIL_OPEN] = "service_down_passed_over",
	[LWFP_STAT_FAIL_CLOSED] = "service_down_refused",
	[LWFP_STAT_LIVE_FULL] = "records_table_full",
	[LWFP_STAT_UDP_FLOW] = "udp_flows",
	[LWFP_STAT_UDP_IDLE] = "udp_flows_idle_ended",
	[LWFP_STAT_UDP_REPLY] = "udp_replies_from_original_peer",
	[LWFP_STAT_CLS_MISMATCH] = "classifier_mismatches",
	[LWFP_STAT_REFUSED_FULL] = "refused_engine_full",
	[LWFP_STAT_REFUSED_RECORDS] = "refused_records_closed",
	[LWFP_STAT_RECORDS_REFUSED] = "records_set_refused",
	[LWFP_STAT_HANDOFF_FOREIGN] = "handoff_wrong_connection",
	[LWFP_STAT_UDP_FLOW_TAKEN] = "udp_flow_takeover_dropped",
	[LWFP_STAT_UDP_FORGED] = "udp_forged_dropped",
	[LWFP_STAT_UDP_QUOTA] = "udp_flows_over_user_share_refused",
	[LWFP_STAT_UDP_FULL] = "udp_flows_table_full_refused",
	[LWFP_STAT_PENDING_SHARE] = "handoffs_over_user_share_refused",
	[LWFP_STAT_PENDING_FULL] = "handoffs_table_full_refused",
	[LWFP_STAT_LIVE_SHARE] = "records_over_user_share",
	[LWFP_STAT_MPTCP_FULL] = "mptcp_peer_table_full",
};
_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) == LWFP_STAT_MAX,
	       "every counter needs a name");

const char *stat_name(unsigned int counter)
{
	return counter < LWFP_STAT_MAX ? stat_names[counter] : "?";
}

/* Who may use the engine from a service: root, or a group too. */
static void access_text(const char *pin_dir, char *out, size_t len)
{
	struct group *gr;
	struct stat st;

	if (stat(pin_dir, &st) || !(st.st_mode & 0050)) {
		snprintf(out, len, "%s", _("root"));
		return;
	}
	gr = getgrgid(st.st_gid);
	if (gr)
		snprintf(out, len, _("root and group %s"), gr->gr_name);
	else
		snprintf(out, len, _("root and group %u"), (unsigned)st.st_gid);
}

/* Each program of the engine: required or optional, and what the
 * verifier processed to load it (the kernel matrix reads this). */
static void programs_text(const char *pin_dir)
{
	for (size_t i = 0; i < engine_nprogs; i++) {
		const struct engine_prog *p = &engine_progs[i];
		__u32 insns;

		printf("  %-20s ", p->name);
		print_padded(p->missing ? _("optional") : _("required"), 8);
		if (engine_prog_verified(pin_dir, p->name, &insns))
			printf(_(" not loaded: %s\n"), p->missing ?
			       _(p->missing) : "?");
		else
			printf(P_(" %u insn verified\n",
				  " %u insns verified\n", insns), insns);
	}
}

static struct json_object *programs_json(const char *pin_dir)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < engine_nprogs; i++) {
		const struct engine_prog *p = &engine_progs[i];
		struct json_object *o = json_object_new_object();
		__u32 insns;
		bool loaded = !engine_prog_verified(pin_dir, p->name, &insns);

		json_object_object_add(o, "name",
				       json_object_new_string(p->name));
		json_object_object_add(o, "required",
				       json_object_new_boolean(!p->missing));
		json_object_object_add(o, "loaded",
				       json_object_new_boolean(loaded));
		if (loaded)
			json_object_object_add(o, "verified_insns",
					       json_object_new_int64(insns));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *cls_json(const struct lwfp_cls_hdr *h)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "bitmaps", json_object_new_int64(h->bitmaps));
	json_object_object_add(o, "words", json_object_new_int64(h->words));
	json_object_object_add(o, "bitmaps_max",
			       json_object_new_int64(LWFP_CLS_BITMAPS_MAX));
	json_object_object_add(o, "words_max",
			       json_object_new_int64(LWFP_CLS_POOL_MAX));
	return o;
}

/* What lwfp status shows, read in one go under the engine's lock. */
struct status {
	struct lwfp_config cfg;
	struct lwfp_cls_hdr cls;
	__u64 stats[LWFP_STAT_MAX];
	size_t services, udp_flows;
	size_t tracked[LWFP_ROLE_OUTBOUND + 1];	/* sockets by role */
	char access[64];
	enum offload_state offload;
	size_t offloaded;			/* flows */
	char broker[108];			/* where its broker listens */
};

static int status_offload(struct admin *a, struct status *st)
{
	struct offload_hop *h;
	int ret = admin_offloads(a, &h, &st->offloaded);

	if (ret)
		return ret;
	free(h);
	st->offload = offload_state(a->pin_dir, st->cfg.engine_id, st->broker,
				    sizeof(st->broker));
	return 0;
}

static int status_read(struct cli *cli, struct status *st)
{
	struct lwfp_service svcs[LWFP_MAX_SERVICES];
	struct lwfp_sk_dump *socks = NULL;
	struct lwfp_udp_flow *uf = NULL;
	size_t nsocks = 0;
	struct admin a;
	int ret;

	memset(st, 0, sizeof(*st));
	if (cli_admin_open(cli, &a))
		return -1;
	ret = admin_config(&a, &st->cfg);
	if (!ret)
		ret = admin_services(&a, svcs);
	if (!ret)
		ret = admin_stats(&a, st->stats);
	if (!ret)
		ret = admin_sockets(&a, &socks, &nsocks);
	if (!ret)
		ret = admin_udp_flows(&a, &uf, &st->udp_flows);
	if (!ret)
		ret = admin_cls_hdr(&a, &st->cls);
	if (!ret)
		ret = status_offload(&a, st);
	free(uf);
	admin_close(&a);
	if (ret) {
		free(socks);
		cli_error(_("cannot read the engine: %s"), strerror(-ret));
		return -1;
	}
	for (int s = 0; s < LWFP_MAX_SERVICES; s++)
		st->services += !!(svcs[s].flags & LWFP_SVC_IN_USE);
	for (size_t s = 0; s < nsocks; s++)
		if (socks[s].sk.role <= LWFP_ROLE_OUTBOUND)
			st->tracked[socks[s].sk.role]++;
	free(socks);
	access_text(cli->pin_dir, st->access, sizeof(st->access));
	return 0;
}

static size_t outbound(const struct status *st)
{
	return st->tracked[LWFP_ROLE_OUTBOUND] + st->tracked[LWFP_ROLE_RECORDS];
}

static void status_json(const struct cli *cli, const struct status *st)
{
	struct json_object *o = json_object_new_object();
	struct json_object *c = json_object_new_object();
	char id[32];

	snprintf(id, sizeof(id), "%016llx",
		 (unsigned long long)st->cfg.engine_id);
#define ADD(key, val) json_object_object_add(o, key, val)
	ADD("pin_dir", json_object_new_string(cli->pin_dir));
	ADD("engine_id", json_object_new_string(id));
	ADD("cgroup", json_object_new_string(st->cfg.cgroup_path));
	ADD("access", json_object_new_string(st->access));
	ADD("services", json_object_new_int(st->services));
	ADD("rules", json_object_new_int(LWFP_TABLE_COUNT(st->cfg.table)));
	ADD("client_sockets",
	    json_object_new_int(st->tracked[LWFP_ROLE_CLIENT]));
	ADD("accepted_sockets",
	    json_object_new_int(st->tracked[LWFP_ROLE_ACCEPTED]));
	ADD("udp_flows", json_object_new_int(st->udp_flows));
	ADD("udp_timeout_s", json_object_new_int(st->cfg.udp_idle_s));
	ADD("udp_flows_per_user",
	    json_object_new_int64(st->cfg.udp_flows_per_user));
	ADD("pending_per_user", json_object_new_int64(st->cfg.pending_per_user));
	ADD("live_per_user", json_object_new_int64(st->cfg.live_per_user));
	ADD("outbound_sockets", json_object_new_int(outbound(st)));
	ADD("offload", json_object_new_string(
		st->offload == OFFLOAD_NONE ? "unavailable" :
		st->offload == OFFLOAD_BROKER ? "broker" : "no broker"));
	ADD("offload_socket", json_object_new_string(st->broker));
	ADD("offloaded_flows", json_object_new_int64(st->offloaded));
	for (int s = 0; s < LWFP_STAT_MAX; s++)
		json_object_object_add(c, stat_names[s],
				       json_object_new_int64(st->stats[s]));
	ADD("counters", c);
	ADD("classifier", cls_json(&st->cls));
	ADD("programs", programs_json(cli->pin_dir));
#undef ADD
	cli_json_print(o);
}

/* The headings of lwfp status, in the order printed; the column after
 * them starts past the widest (in display cells, whatever the language). */
enum { H_ENGINE, H_CGROUP, H_ACCESS, H_SERVICES, H_RULES, H_SOCKETS,
       H_UDP, H_PER_USER, H_CLASSIFIER, H_OFFLOAD, H_MAX };

static int heading_width;

static void heading(const char *name)
{
	print_padded(name, heading_width);
	putchar(' ');
}

static void status_headings(const char *names[H_MAX])
{
	names[H_ENGINE] = _("engine");
	names[H_CGROUP] = _("cgroup");
	names[H_ACCESS] = _("access");
	names[H_SERVICES] = _("services");
	names[H_RULES] = _("rules");
	names[H_SOCKETS] = _("sockets");
	names[H_UDP] = _("udp flows");
	names[H_PER_USER] = _("per user");
	names[H_CLASSIFIER] = _("classifier");
	names[H_OFFLOAD] = _("offload");
	heading_width = 0;
	for (int h = 0; h < H_MAX; h++)
		if (display_width(names[h]) > heading_width)
			heading_width = display_width(names[h]);
}

static void offload_text(const struct status *st)
{
	if (st->offload == OFFLOAD_NONE)
		printf("%s\n", _("unavailable: the kernel refused its program"));
	else if (st->offload == OFFLOAD_NO_BROKER)
		printf(P_("%zu flow, no broker (lwfp broker)\n",
			  "%zu flows, no broker (lwfp broker)\n",
			  st->offloaded), st->offloaded);
	else
		printf(P_("%zu flow, broker on %s\n",
			  "%zu flows, broker on %s\n", st->offloaded),
		       st->offloaded, st->broker);
}

static void status_text(const struct cli *cli, const struct status *st)
{
	const char *h[H_MAX];

	status_headings(h);
	heading(h[H_ENGINE]);
	printf(_("%s (id %016llx)\n"), cli->pin_dir,
	       (unsigned long long)st->cfg.engine_id);
	heading(h[H_CGROUP]);
	printf("%s\n", st->cfg.cgroup_path);
	heading(h[H_ACCESS]);
	printf("%s\n", st->access);
	heading(h[H_SERVICES]);
	printf("%zu\n", st->services);
	heading(h[H_RULES]);
	printf("%u\n", LWFP_TABLE_COUNT(st->cfg.table));
	heading(h[H_SOCKETS]);
	printf(_("%zu client, %zu accepted, %zu outbound\n"),
	       st->tracked[LWFP_ROLE_CLIENT], st->tracked[LWFP_ROLE_ACCEPTED],
	       outbound(st));
	heading(h[H_UDP]);
	printf(_("%zu (idle timeout %us, at most %u per user)\n"),
	       st->udp_flows, st->cfg.udp_idle_s, st->cfg.udp_flows_per_user);
	heading(h[H_PER_USER]);
	printf(_("%u hand-offs in flight, %u live TCP flows\n"),
	       st->cfg.pending_per_user, st->cfg.live_per_user);
	heading(h[H_CLASSIFIER]);
	printf(_("%u bitmaps, %u words (max %u, %u)\n"),
	       st->cls.bitmaps, st->cls.words, LWFP_CLS_BITMAPS_MAX,
	       LWFP_CLS_POOL_MAX);
	heading(h[H_OFFLOAD]);
	offload_text(st);
	printf("%s\n", _("counters"));
	for (int s = 0; s < LWFP_STAT_MAX; s++)
		printf("  %-33s %llu\n", stat_names[s],
		       (unsigned long long)st->stats[s]);
	printf("%s\n", _("programs"));
	programs_text(cli->pin_dir);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	struct status st;
	int i;

	i = cli_getopt(cli, argc, argv, opts, "lwfp status", false, NULL, NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("status: unexpected argument '%s'"), argv[i]);
	if (status_read(cli, &st))
		return 1;
	if (cli->json)
		status_json(cli, &st);
	else
		status_text(cli, &st);
	return 0;
}
