// SPDX-License-Identifier: MIT
/* lwfp load | unload | status */
#include <errno.h>
#include <stddef.h>
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
#include "util.h"

struct load_args {
	const char *cgroup;
	const char *group;
	struct engine_settings set;
};

/* The per-user limits `load` sets: option letter, name, field, most. */
static const struct limit_opt {
	int c;
	const char *name;
	size_t off;
	__u32 max;
} limit_opts[] = {
	{ 'q', "udp-flows-per-user",
	  offsetof(struct engine_settings, udp_flows_per_user),
	  LWFP_UDP_FLOWS_MAX },
	{ 'p', "pending-per-user",
	  offsetof(struct engine_settings, pending_per_user),
	  LWFP_PENDING_MAX },
	{ 'l', "live-per-user", offsetof(struct engine_settings, live_per_user),
	  LWFP_LIVE_MAX },
};

static int limit_opt(struct load_args *la, const struct limit_opt *o,
		     const char *arg)
{
	__u32 *v = (__u32 *)((char *)&la->set + o->off);
	char err[128];

	if (parse_u32(arg, v, err, sizeof(err)) || !*v || *v > o->max)
		return cli_usage("load: --%s takes 1 to %u, not '%s'", o->name,
				 o->max, arg);
	return 0;
}

static int load_opt(int c, const char *arg, void *data)
{
	struct load_args *la = data;
	char err[128];

	for (size_t i = 0; i < ARRAY_SIZE(limit_opts); i++)
		if (c == limit_opts[i].c)
			return limit_opt(la, &limit_opts[i], arg);
	if (c == 'g') {
		la->group = arg;
	} else if (c == 'u') {
		if (parse_u32(arg, &la->set.udp_idle_s, err, sizeof(err)) ||
		    !la->set.udp_idle_s || la->set.udp_idle_s > 86400)
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
		{ "udp-flows-per-user", required_argument, NULL, 'q' },
		{ "pending-per-user", required_argument, NULL, 'p' },
		{ "live-per-user", required_argument, NULL, 'l' },
		CLI_COMMON_OPTS, {}
	};
	struct load_args la = { .cgroup = "/" };
	struct cgroup_ref cg;
	char err[512], notice[512];
	int i, gid, ret;

	i = cli_getopt(cli, argc, argv, opts,
		       "lwfp load [--cgroup PATH] [--group NAME] "
		       "[--udp-timeout SECONDS] [--udp-flows-per-user N] "
		       "[--pending-per-user N] [--live-per-user N]", false,
		       load_opt, &la);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage("load: unexpected argument '%s'", argv[i]);
	if (resolve_group(la.group, &gid))
		return 1;
	if (cgroup_resolve(la.cgroup, false, &cg, err, sizeof(err)))
		return cli_error("%s", err);
	ret = engine_load(cli->pin_dir, &cg, gid, &la.set, notice,
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
