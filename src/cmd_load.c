// SPDX-License-Identifier: MIT
/* lwfp load | unload | status */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grp.h>
#include <sys/stat.h>
#include <stdint.h>

#include "cgroup.h"
#include "parse.h"
#include "cli.h"
#include "loader.h"

struct load_args {
	const char *cgroup;
	const char *group;
	uint32_t udp_idle_s;
};

static int load_opt(int c, const char *arg, void *data)
{
	struct load_args *la = data;
	char err[128];

	if (c == 'g') {
		la->group = arg;
	} else if (c == 'u') {
		if (parse_u32(arg, &la->udp_idle_s, err, sizeof(err)) ||
		    !la->udp_idle_s || la->udp_idle_s > 86400)
			return cli_usage("load: --udp-timeout takes seconds, "
					 "1 to 86400, not '%s'", arg);
	} else {
		la->cgroup = arg;
	}
	return 0;
}

/* --group NAME|GID; without it the group "lwfp" if there is one. */
static int resolve_group(const char *name, int *gid)
{
	struct group *gr;
	uint32_t n;
	char err[128];

	*gid = -1;
	if (!name) {
		gr = getgrnam("lwfp");
		if (gr)
			*gid = gr->gr_gid;
		return 0;
	}
	if (!parse_u32(name, &n, err, sizeof(err)) && n <= INT32_MAX) {
		*gid = n;
		return 0;
	}
	gr = getgrnam(name);
	if (!gr)
		return cli_error("no group named '%s'", name);
	*gid = gr->gr_gid;
	return 0;
}

int cmd_load(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "group", required_argument, NULL, 'g' },
		{ "udp-timeout", required_argument, NULL, 'u' },
		CLI_COMMON_OPTS, {}
	};
	struct load_args la = { .cgroup = "/" };
	struct cgroup_ref cg;
	char err[512], notice[512];
	int i, gid, ret;

	i = cli_getopt(cli, argc, argv, opts,
		       "lwfp load [--cgroup PATH] [--group NAME] "
		       "[--udp-timeout SECONDS]", false,
		       load_opt, &la);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage("load: unexpected argument '%s'", argv[i]);
	if (resolve_group(la.group, &gid))
		return 1;
	if (cgroup_resolve(la.cgroup, false, &cg, err, sizeof(err)))
		return cli_error("%s", err);
	ret = engine_load(cli->pin_dir, &cg, gid, la.udp_idle_s, notice,
			  sizeof(notice), err, sizeof(err));
	if (ret < 0)
		return cli_error("%s", err);
	print_notice(notice);
	if (!cli->json)
		printf("lwfp: engine %s at %s, attached to cgroup %s\n",
		       ret ? "upgraded" : "loaded", cli->pin_dir, cg.rel);
	return 0;
}

int cmd_unload(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	char err[512];
	int i = cli_getopt(cli, argc, argv, opts, "lwfp unload", false, NULL,
			   NULL);

	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage("unload: unexpected argument '%s'", argv[i]);
	if (engine_unload(cli->pin_dir, err, sizeof(err)))
		return cli_error("%s", err);
	return 0;
}

/* One line per optional program the kernel refused, on stderr. */
void print_notice(const char *notice)
{
	for (const char *p = notice; p && *p;) {
		size_t len = strcspn(p, "\n");

		fprintf(stderr, "lwfp: %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

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
};
_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) == LWFP_STAT_MAX,
	       "every counter needs a name");

/* Who may use the engine from a service: root, or a group too. */
static void access_text(const char *pin_dir, char *out, size_t len)
{
	struct group *gr;
	struct stat st;

	if (stat(pin_dir, &st) || !(st.st_mode & 0050)) {
		snprintf(out, len, "root");
		return;
	}
	gr = getgrgid(st.st_gid);
	if (gr)
		snprintf(out, len, "root and group %s", gr->gr_name);
	else
		snprintf(out, len, "root and group %u", (unsigned)st.st_gid);
}

/* Each program of the engine: required or optional, and what the
 * verifier processed to load it (the kernel matrix reads this). */
static void programs_text(const char *pin_dir)
{
	for (size_t i = 0; i < engine_nprogs; i++) {
		const struct engine_prog *p = &engine_progs[i];
		__u32 insns;

		printf("  %-20s %-8s ", p->name,
		       p->missing ? "optional" : "required");
		if (engine_prog_verified(pin_dir, p->name, &insns))
			printf("not loaded: %s\n", p->missing ? p->missing :
							       "?");
		else
			printf("%u insns verified\n", insns);
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

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	struct lwfp_service svcs[LWFP_MAX_SERVICES];
	struct lwfp_sk_dump *socks = NULL;
	struct lwfp_udp_flow *uf = NULL;
	__u64 stats[LWFP_STAT_MAX];
	struct lwfp_cls_hdr cls;
	struct lwfp_config cfg;
	struct admin a;
	size_t nsocks = 0, nsvc = 0, nuf = 0;
	size_t tracked[LWFP_ROLE_OUTBOUND + 1] = {};
	char access[64];
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, "lwfp status", false, NULL, NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage("status: unexpected argument '%s'", argv[i]);
	if (cli_admin_open(cli, &a))
		return 1;
	ret = admin_config(&a, &cfg);
	if (!ret)
		ret = admin_services(&a, svcs);
	if (!ret)
		ret = admin_stats(&a, stats);
	if (!ret)
		ret = admin_sockets(&a, &socks, &nsocks);
	if (!ret)
		ret = admin_udp_flows(&a, &uf, &nuf);
	if (!ret)
		ret = admin_cls_hdr(&a, &cls);
	free(uf);
	admin_close(&a);
	if (ret)
		return cli_error("cannot read the engine: %s", strerror(-ret));
	for (int s = 0; s < LWFP_MAX_SERVICES; s++)
		nsvc += !!(svcs[s].flags & LWFP_SVC_IN_USE);
	for (size_t s = 0; s < nsocks; s++)
		if (socks[s].sk.role <= LWFP_ROLE_OUTBOUND)
			tracked[socks[s].sk.role]++;
	free(socks);
	access_text(cli->pin_dir, access, sizeof(access));

	if (cli->json) {
		struct json_object *o = json_object_new_object();
		struct json_object *st = json_object_new_object();
		char id[32];

		snprintf(id, sizeof(id), "%016llx",
			 (unsigned long long)cfg.engine_id);
		json_object_object_add(o, "pin_dir",
				       json_object_new_string(cli->pin_dir));
		json_object_object_add(o, "engine_id", json_object_new_string(id));
		json_object_object_add(o, "cgroup",
				       json_object_new_string(cfg.cgroup_path));
		json_object_object_add(o, "access",
				       json_object_new_string(access));
		json_object_object_add(o, "services", json_object_new_int(nsvc));
		json_object_object_add(o, "rules",
				       json_object_new_int(LWFP_TABLE_COUNT(cfg.table)));
		json_object_object_add(o, "client_sockets",
				       json_object_new_int(tracked[LWFP_ROLE_CLIENT]));
		json_object_object_add(o, "accepted_sockets",
				       json_object_new_int(tracked[LWFP_ROLE_ACCEPTED]));
		json_object_object_add(o, "udp_flows", json_object_new_int(nuf));
		json_object_object_add(o, "udp_timeout_s",
				       json_object_new_int(cfg.udp_idle_s));
		json_object_object_add(o, "outbound_sockets",
				       json_object_new_int(tracked[LWFP_ROLE_OUTBOUND] +
							   tracked[LWFP_ROLE_RECORDS]));
		for (int s = 0; s < LWFP_STAT_MAX; s++)
			json_object_object_add(st, stat_names[s],
					       json_object_new_int64(stats[s]));
		json_object_object_add(o, "counters", st);
		json_object_object_add(o, "classifier", cls_json(&cls));
		json_object_object_add(o, "programs",
				       programs_json(cli->pin_dir));
		cli_json_print(o);
		return 0;
	}
	printf("engine     %s (id %016llx)\n", cli->pin_dir,
	       (unsigned long long)cfg.engine_id);
	printf("cgroup     %s\n", cfg.cgroup_path);
	printf("access     %s\n", access);
	printf("services   %zu\n", nsvc);
	printf("rules      %u\n", LWFP_TABLE_COUNT(cfg.table));
	printf("sockets    %zu client, %zu accepted, %zu outbound\n",
	       tracked[LWFP_ROLE_CLIENT], tracked[LWFP_ROLE_ACCEPTED],
	       tracked[LWFP_ROLE_OUTBOUND] + tracked[LWFP_ROLE_RECORDS]);
	printf("udp flows  %zu (idle timeout %us)\n", nuf, cfg.udp_idle_s);
	printf("classifier %u bitmaps, %u words (max %u, %u)\n",
	       cls.bitmaps, cls.words, LWFP_CLS_BITMAPS_MAX, LWFP_CLS_POOL_MAX);
	printf("counters\n");
	for (int s = 0; s < LWFP_STAT_MAX; s++)
		printf("  %-26s %llu\n", stat_names[s],
		       (unsigned long long)stats[s]);
	printf("programs\n");
	programs_text(cli->pin_dir);
	return 0;
}
