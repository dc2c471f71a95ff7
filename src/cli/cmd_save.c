// SPDX-License-Identifier: MIT
/* lwfp save: the running configuration, as a file lwfp apply reads. */
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "i18n.h"
#include "cli.h"
#include "conf_parse.h"
#include "layout.h"
#include "netns.h"

/* " --opt VALUE", the value quoted as the file reads it back. */
static void opt(const char *name, const void *val, size_t len)
{
	size_t need = conf_quote(val, len, NULL, 0) + 1;
	char *q = malloc(need);

	if (!q)
		return;
	conf_quote(val, len, q, need);
	printf(" --%s %s", name, q);
	free(q);
}

static void opt_str(const char *name, const char *val)
{
	opt(name, val, strlen(val));
}

static void opt_u32(const char *name, __u32 v)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", v);
	opt_str(name, num);
}

static void save_load(struct cli *cli, const struct lwfp_config *cfg)
{
	struct stat st;

	printf("load");
	opt_str("cgroup", cfg->cgroup_path);
	if (!stat(cli->pin_dir, &st) && st.st_gid) {
		struct group *gr = getgrgid(st.st_gid);

		if (gr)
			opt_str("group", gr->gr_name);
		else
			opt_u32("group", st.st_gid);
	}
	if (cfg->udp_idle_s != LWFP_UDP_IDLE_DEFAULT_S)
		opt_u32("udp-timeout", cfg->udp_idle_s);
	if (cfg->udp_flows_per_user != LWFP_UDP_FLOWS_PER_USER_DEFAULT)
		opt_u32("udp-flows-per-user", cfg->udp_flows_per_user);
	if (cfg->pending_per_user != LWFP_PENDING_PER_USER_DEFAULT)
		opt_u32("pending-per-user", cfg->pending_per_user);
	if (cfg->live_per_user != LWFP_LIVE_PER_USER_DEFAULT)
		opt_u32("live-per-user", cfg->live_per_user);
	printf("\n");
}

/* What the file cannot say the same way: told on stderr. */
static void save_warn(const struct lwfp_service *svc, bool netns_unnamed)
{
	if (svc->pid)
		fprintf(stderr, _("lwfp: service '%s' is registered by --pid, "
			"which lwfp apply refuses: name its cgroup instead\n"),
			svc->name);
	if (netns_unnamed)
		fprintf(stderr, _("lwfp: service '%s' listens in another network "
			"namespace, which has no name in /run/netns: apply "
			"would register it in its own\n"), svc->name);
}

/* --netns NAME for a service of another namespace that ip netns named;
 * false if it has none. */
static bool save_netns(const struct lwfp_service *svc)
{
	char name[256];
	__u64 here = 0;

	if (!svc->netns || netns_cookie(&here) || svc->netns == here)
		return true;
	if (netns_name_of(svc->netns, name, sizeof(name)))
		return false;
	opt_str("netns", name);
	return true;
}

static void save_service(const struct lwfp_service *svc)
{
	char listen[64], cg[512];
	bool named;

	format_endpoint(svc->listen, svc->port_be,
			!(svc->flags & LWFP_SVC_HAS_V4), listen,
			sizeof(listen));
	printf("service add");
	printf(" %s", svc->name);	/* names are plain (parse.h) */
	opt_str("listen", listen);
	if (svc->flags & LWFP_SVC_NO_UDP)
		opt_str("proto", "tcp");
	else if (svc->flags & LWFP_SVC_NO_TCP)
		opt_str("proto", "udp");
	if (svc->pid)
		opt_u32("pid", svc->pid);
	if (svc->cgroup_id) {
		format_cgroup(svc->cgroup_id, cg, sizeof(cg));
		opt_str("cgroup", cg);
	}
	if (svc->weight)
		opt_u32("weight", svc->weight);
	if (svc->flags & LWFP_SVC_FAIL_CLOSED)
		opt_str("fail", "closed");
	named = save_netns(svc);
	printf("\n");
	save_warn(svc, !named);
}

/* The rule's layout, as --context-layout-text. */
static void save_layout(struct admin *a, const struct lwfp_rule *r,
			struct lwfp_rule_ctx *rc)
{
	int n;
	char *text;

	if (admin_rule_ctx(a, LWFP_RULE_LAYOUT_KEY(r->id), rc))
		return;
	n = layout_describe(rc->data, rc->len, NULL, 0);
	text = n > 0 ? malloc(n + 1) : NULL;
	if (!text)
		return;
	layout_describe(rc->data, rc->len, text, n + 1);
	opt_str("context-layout-text", text);
	free(text);
}

static void save_rule(struct admin *a, const struct lwfp_rule *r,
		      const char *service, struct lwfp_rule_ctx *rc)
{
	char buf[512];

	printf("rule add");
	opt_str("service", service);
	if (r->proto == IPPROTO_UDP)
		opt_str("proto", "udp");
	if (r->prefix_len) {
		format_dst(r, buf, sizeof(buf));
		opt_str("dst", buf);
	}
	format_ports(r, buf, sizeof(buf));
	if (strcmp(buf, "any"))
		opt_str("dport", buf);
	if (r->flags & LWFP_RULE_UID)
		opt_u32("uid", r->uid);
	if (r->flags & LWFP_RULE_CGROUP) {
		format_cgroup(r->cgroup_id, buf, sizeof(buf));
		opt_str("cgroup", buf);
	}
	if ((r->flags & LWFP_RULE_HAS_CTX) && !admin_rule_ctx(a, r->id, rc))
		opt("context", rc->data, rc->len);
	if (r->flags & LWFP_RULE_HAS_LAYOUT)
		save_layout(a, r, rc);
	if (r->flags & LWFP_RULE_REINSPECT)
		printf(" --reinspect");
	printf("\n");
}

static int save_all(struct cli *cli, struct admin *a)
{
	struct lwfp_service svcs[LWFP_MAX_SERVICES];
	struct lwfp_rule *rules = NULL;
	struct lwfp_rule_ctx *rc = malloc(sizeof(*rc));
	struct lwfp_config cfg;
	__u32 n = 0;
	int ret = rc ? admin_config(a, &cfg) : -ENOMEM;

	if (!ret)
		ret = admin_services(a, svcs);
	if (!ret)
		ret = admin_rules(a, &rules, &n);
	if (ret) {
		free(rc);
		return cli_error(_("cannot read the engine: %s"), strerror(-ret));
	}
	printf("# lwfp save: the engine at %s (lwfp apply reads it back)\n",
	       cli->pin_dir);
	save_load(cli, &cfg);
	for (int s = 0; s < LWFP_MAX_SERVICES; s++)
		if (svcs[s].flags & LWFP_SVC_IN_USE)
			save_service(&svcs[s]);
	/* in arbitration order: rules of one weight keep theirs */
	for (__u32 k = 0; k < n; k++)
		save_rule(a, &rules[k], svcs[rules[k].service %
					     LWFP_MAX_SERVICES].name, rc);
	free(rules);
	free(rc);
	return fflush(stdout) ? cli_error(_("cannot write: %s"),
					  strerror(errno)) : 0;
}

int cmd_save(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	struct admin a;
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, "lwfp save", false, NULL, NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("save: unexpected argument '%s'"), argv[i]);
	if (cli_admin_open(cli, &a))
		return 1;
	ret = save_all(cli, &a);
	admin_close(&a);
	return ret;
}
