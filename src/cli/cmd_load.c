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

#include "i18n.h"
#include "args.h"
#include "cgroup.h"
#include "parse.h"
#include "cli.h"
#include "loader.h"
#include "util.h"

/* The per-user limits `load` sets: name, field, most. */
static const struct limit_opt {
	const char *name;
	size_t off;
	__u32 max;
} limit_opts[] = {
	{ "udp-flows-per-user",
	  offsetof(struct engine_settings, udp_flows_per_user),
	  LWFP_UDP_FLOWS_MAX },
	{ "pending-per-user",
	  offsetof(struct engine_settings, pending_per_user),
	  LWFP_PENDING_MAX },
	{ "live-per-user", offsetof(struct engine_settings, live_per_user),
	  LWFP_LIVE_MAX },
};

int load_opt(int c, const char *arg, void *data)
{
	struct load_args *la = data;

	switch (c) {
	case 'q':
		la->limit[0] = arg;
		break;
	case 'p':
		la->limit[1] = arg;
		break;
	case 'l':
		la->limit[2] = arg;
		break;
	case 'g':
		la->group = arg;
		break;
	case 'u':
		la->udp_timeout = arg;
		break;
	default:
		la->cgroup = arg;
	}
	return 0;
}

int load_from_args(struct load_args *la, struct engine_settings *set,
		   char *err, size_t errlen)
{
	char why[128];

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < ARRAY_SIZE(limit_opts); i++) {
		const struct limit_opt *o = &limit_opts[i];
		__u32 *v = (__u32 *)((char *)set + o->off);

		if (!la->limit[i])
			continue;
		if (parse_u32(la->limit[i], v, why, sizeof(why)) || !*v ||
		    *v > o->max) {
			la->bad = la->limit[i];
			snprintf(err, errlen, _("load: --%s takes 1 to %u, not "
				 "'%.32s'"), o->name, o->max, la->limit[i]);
			return -EINVAL;
		}
	}
	if (la->udp_timeout &&
	    (parse_u32(la->udp_timeout, &set->udp_idle_s, why, sizeof(why)) ||
	     !set->udp_idle_s || set->udp_idle_s > 86400)) {
		la->bad = la->udp_timeout;
		snprintf(err, errlen, _("load: --udp-timeout takes seconds, 1 to "
			 "86400, not '%.32s'"), la->udp_timeout);
		return -EINVAL;
	}
	return 0;
}

int resolve_group(const char *name, int *gid, char *err, size_t errlen)
{
	struct group *gr;
	uint32_t n;
	char why[128];

	*gid = -1;
	if (!name) {
		gr = getgrnam("lwfp");
		if (gr)
			*gid = gr->gr_gid;
		return 0;
	}
	if (!parse_u32(name, &n, why, sizeof(why)) && n <= INT32_MAX) {
		*gid = n;
		return 0;
	}
	gr = getgrnam(name);
	if (!gr) {
		snprintf(err, errlen, _("no group named '%.64s'"), name);
		return -ENOENT;
	}
	*gid = gr->gr_gid;
	return 0;
}

int cmd_load(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		LOAD_OPTIONS, CLI_COMMON_OPTS, {}
	};
	struct load_args la = { .cgroup = "/" };
	struct engine_settings set;
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
		return cli_usage(_("load: unexpected argument '%s'"), argv[i]);
	if (load_from_args(&la, &set, err, sizeof(err)))
		return cli_usage("%s", err);
	if (resolve_group(la.group, &gid, err, sizeof(err)))
		return cli_error("%s", err);
	if (cgroup_resolve(la.cgroup, false, &cg, err, sizeof(err)))
		return cli_error("%s", err);
	ret = engine_load(cli->pin_dir, &cg, gid, &set, notice,
			  sizeof(notice), err, sizeof(err));
	if (ret < 0)
		return cli_error("%s", err);
	print_notice(notice);
	if (!cli->json)
		printf(ret ? _("lwfp: engine upgraded at %s, attached to "
			       "cgroup %s\n") :
			     _("lwfp: engine loaded at %s, attached to cgroup "
			       "%s\n"), cli->pin_dir, cg.rel);
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
		return cli_usage(_("unload: unexpected argument '%s'"), argv[i]);
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
