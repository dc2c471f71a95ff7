// SPDX-License-Identifier: MIT
/* lwfp rule add | del | list */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "args.h"
#include "cgroup.h"
#include "cli.h"
#include "layout.h"
#include "parse.h"
#include "util.h"

int rule_opt(int c, const char *arg, void *data)
{
	struct rule_args *ra = data;
	const char **slot[] = {
		['s'] = &ra->service, ['p'] = &ra->proto, ['d'] = &ra->dst,
		['o'] = &ra->dport,   ['c'] = &ra->cgroup, ['u'] = &ra->uid,
		['x'] = &ra->context, ['f'] = &ra->context_file,
		['L'] = &ra->layout_file, ['Y'] = &ra->layout_text,
	};

	if (c == 'r') {
		ra->reinspect = true;
		return 0;
	}
	if (c < 0 || c >= (int)(sizeof(slot) / sizeof(slot[0])) || !slot[c])
		return -EINVAL;
	*slot[c] = arg;
	return 0;
}

#define RULE_ADD_USAGE \
	"lwfp rule add --service NAME [--proto tcp|udp] [--dst CIDR] " \
	"[--dport N[-M]] [--cgroup PATH] [--uid N] " \
	"[--context TEXT | --context-file FILE] " \
	"[--context-layout FILE | --context-layout-text TEXT] " \
	"[--reinspect]"

/* Read at most max + 1 bytes: one more tells "too large". */
static int read_file(const char *path, void *out, size_t max, size_t *len,
		     char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	__u8 *buf = out;
	size_t got = 0;
	ssize_t n = 0;

	if (fd < 0) {
		snprintf(err, errlen, _("cannot read %s: %s"), path, strerror(errno));
		return -errno;
	}
	while (got <= max && (n = read(fd, buf + got, max + 1 - got)) > 0)
		got += n;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, _("cannot read %s: %s"), path, strerror(errno));
		return -EIO;
	}
	if (got > max) {
		snprintf(err, errlen, _("too large: %s is over %zu bytes"), path,
			 max);
		return -E2BIG;
	}
	*len = got;
	return 0;
}

/* The layout file, compiled into layout (LAYOUT_BLOB_MAX bytes). */
static int read_layout(const char *path, __u8 *layout, size_t *len,
		       char *err, size_t errlen)
{
	static char text[LAYOUT_TEXT_MAX + 1];
	char why[256];
	size_t n;
	int ret = read_file(path, text, LAYOUT_TEXT_MAX, &n, err, errlen);

	if (ret)
		return ret;
	ret = layout_compile(text, n, layout, len, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, _("%s: %s"), path, why);
	return ret;
}

/* --context-layout-text: the file's lines on one, apart by ';'. */
static int inline_layout(const char *text, __u8 *layout, size_t *len,
			 char *err, size_t errlen)
{
	size_t n = strlen(text);
	char *copy = strdup(text), why[256];
	int ret;

	if (!copy) {
		snprintf(err, errlen, _("out of memory"));
		return -ENOMEM;
	}
	for (char *p = copy; (p = strchr(p, ';')); p++)
		*p = '\n';
	ret = layout_compile(copy, n, layout, len, why, sizeof(why));
	free(copy);
	if (ret)
		snprintf(err, errlen, _("--context-layout-text: %s (a line is a "
			 "statement)"), why);
	return ret;
}

/* The rule's context bytes (--context, --context-file) and layout. */
int blobs_from_args(struct rule_args *ra, __u8 *ctx, size_t *ctx_len,
		    __u8 *layout, size_t *layout_len, char *err, size_t errlen)
{
	*ctx_len = *layout_len = 0;
	ra->bad = ra->context_file;
	if (ra->context && ra->context_file) {
		snprintf(err, errlen,
			 _("rule add: give --context or --context-file, not both"));
		return -EINVAL;
	}
	ra->bad = ra->layout_text;
	if (ra->layout_file && ra->layout_text) {
		snprintf(err, errlen, _("rule add: give --context-layout or "
			 "--context-layout-text, not both"));
		return -EINVAL;
	}
	ra->bad = ra->context;
	if (ra->context) {
		*ctx_len = ra->context_len == (size_t)-1 ? strlen(ra->context) :
							    ra->context_len;
		if (*ctx_len > LWFP_RULE_CTX_MAX) {
			snprintf(err, errlen,
				 _("context too large: %zu bytes (max %d)"),
				 *ctx_len, LWFP_RULE_CTX_MAX);
			return -E2BIG;
		}
		memcpy(ctx, ra->context, *ctx_len);
	}
	ra->bad = ra->context_file;
	if (ra->context_file &&
	    read_file(ra->context_file, ctx, LWFP_RULE_CTX_MAX, ctx_len, err,
		      errlen))
		return -EINVAL;
	ra->bad = ra->layout_text;
	if (ra->layout_text)
		return inline_layout(ra->layout_text, layout, layout_len, err,
				     errlen);
	ra->bad = ra->layout_file;
	if (ra->layout_file)
		return read_layout(ra->layout_file, layout, layout_len, err,
				   errlen);
	return 0;
}

int rule_from_args(struct rule_args *ra, struct lwfp_rule *r, char *err,
		   size_t errlen)
{
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->proto = IPPROTO_TCP;
	r->dport_lo = 1;
	r->dport_hi = 65535;
	if (!ra->service) {
		snprintf(err, errlen, _("rule add: --service NAME is required"));
		return -EINVAL;
	}
	ra->bad = ra->proto;
	if (ra->proto)
		ret = parse_proto(ra->proto, &r->proto, err, errlen);
	if (!ret && ra->dst) {
		struct lwfp_cidr cidr;

		ra->bad = ra->dst;
		ret = parse_cidr(ra->dst, &cidr, err, errlen);
		memcpy(r->dst, cidr.net, 16);
		memcpy(r->mask, cidr.mask, 16);
		r->prefix_len = cidr.prefix_len;
	}
	if (!ret && ra->dport) {
		ra->bad = ra->dport;
		ret = parse_port_range(ra->dport, &r->dport_lo, &r->dport_hi,
				       err, errlen);
	}
	if (!ret && ra->uid) {
		ra->bad = ra->uid;
		ret = parse_uid(ra->uid, &r->uid, err, errlen);
		r->flags |= LWFP_RULE_UID;
	}
	if (!ret && ra->cgroup) {
		struct cgroup_ref cg;

		ra->bad = ra->cgroup;
		ret = cgroup_resolve(ra->cgroup, false, &cg, err, errlen);
		r->cgroup_id = cg.id;
		r->cgroup_level = cg.level;
		r->flags |= LWFP_RULE_CGROUP;
	}
	if (ret)
		return ret;
	if (ra->reinspect)
		r->flags |= LWFP_RULE_REINSPECT;
	return 0;
}

static int rule_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		RULE_ADD_OPTIONS, CLI_COMMON_OPTS, {}
	};
	static __u8 ctx[LWFP_RULE_CTX_MAX + 1], layout[LAYOUT_BLOB_MAX];
	struct rule_blobs b = { .ctx = ctx, .layout = layout };
	struct rule_args ra = { .context_len = (size_t)-1 };
	struct lwfp_rule r;
	struct lwfp_service svc;
	struct admin a;
	char err[512];
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, RULE_ADD_USAGE, false, rule_opt,
		       &ra);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("rule add: unexpected argument '%s'"), argv[i]);
	if (rule_from_args(&ra, &r, err, sizeof(err)) ||
	    blobs_from_args(&ra, ctx, &b.ctx_len, layout, &b.layout_len, err,
			    sizeof(err)))
		return cli_error("%s", err);
	if (cli_admin_open(cli, &a))
		return 1;
	if (admin_service_find(&a, ra.service, &r.service, &svc)) {
		admin_close(&a);
		return cli_error(_("no service named '%s' (lwfp service list)"),
				 ra.service);
	}
	if (svc.flags & (r.proto == IPPROTO_UDP ? LWFP_SVC_NO_UDP :
						  LWFP_SVC_NO_TCP)) {
		admin_close(&a);
		return cli_error(_("service '%s' does not serve %s"),
				 ra.service, r.proto == IPPROTO_UDP ? "udp" :
								    "tcp");
	}
	ret = admin_rule_add(&a, &r, &b, err, sizeof(err));
	admin_close(&a);
	if (ret)
		return cli_error("%s", err);
	if (cli->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(r.id));
		cli_json_print(o);
	} else {
		printf("%u\n", r.id);
	}
	return 0;
}

static int rule_del(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	struct admin a;
	char err[512];
	__u32 id;
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, "lwfp rule del ID", false, NULL,
		       NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (argc - i != 1)
		return cli_usage(_("usage: lwfp rule del ID"));
	if (parse_u32(argv[i], &id, err, sizeof(err)))
		return cli_error("%s", err);
	if (cli_admin_open(cli, &a))
		return 1;
	ret = admin_rule_del(&a, id, err, sizeof(err));
	admin_close(&a);
	return ret ? cli_error("%s", err) : 0;
}

void format_dst(const struct lwfp_rule *r, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (r->prefix_len >= 96 && lwfp_is_v4_mapped(r->dst)) {
		inet_ntop(AF_INET, r->dst + 12, host, sizeof(host));
		snprintf(out, len, "%s/%u", host, r->prefix_len - 96);
	} else {
		inet_ntop(AF_INET6, r->dst, host, sizeof(host));
		snprintf(out, len, "%s/%u", host, r->prefix_len);
	}
}

void format_ports(const struct lwfp_rule *r, char *out, size_t len)
{
	if (r->dport_lo == 1 && r->dport_hi == 65535)
		snprintf(out, len, "any");
	else if (r->dport_lo == r->dport_hi)
		snprintf(out, len, "%u", r->dport_lo);
	else
		snprintf(out, len, "%u-%u", r->dport_lo, r->dport_hi);
}

/* The size of the bytes a rule's context layout gives, or 0. */
static unsigned int layout_size(struct admin *a, const struct lwfp_rule *r,
				struct lwfp_rule_ctx *rc)
{
	struct lwfp_layout hdr;

	if (!(r->flags & LWFP_RULE_HAS_LAYOUT) ||
	    admin_rule_ctx(a, LWFP_RULE_LAYOUT_KEY(r->id), rc) ||
	    rc->len < sizeof(hdr))
		return 0;
	memcpy(&hdr, rc->data, sizeof(hdr));
	return hdr.size;
}

static struct json_object *rule_json(const struct lwfp_rule *r,
				     const char *service, const char *dst,
				     const char *ports, const char *cgroup,
				     const struct lwfp_rule_ctx *rc,
				     unsigned int layout)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "service", json_object_new_string(service));
	json_object_object_add(o, "proto",
			       json_object_new_string(r->proto == IPPROTO_UDP ? "udp" : "tcp"));
	json_object_object_add(o, "dst", json_object_new_string(dst));
	json_object_object_add(o, "dport", json_object_new_string(ports));
	json_object_object_add(o, "uid", r->flags & LWFP_RULE_UID ?
			       json_object_new_int64(r->uid) : NULL);
	json_object_object_add(o, "cgroup", cgroup ?
			       json_object_new_string(cgroup) : NULL);
	json_object_object_add(o, "reinspect", json_object_new_boolean(
				       !!(r->flags & LWFP_RULE_REINSPECT)));
	json_object_object_add(o, "context_len",
			       json_object_new_int64(rc ? rc->len : 0));
	json_object_object_add(o, "context", rc ?
			       json_object_new_string_len((char *)rc->data,
							  rc->len) : NULL);
	json_object_object_add(o, "context_layout_size", layout ?
			       json_object_new_int64(layout) : NULL);
	return o;
}

/* TRANSLATORS: the column headings of lwfp rule list fit 6, 16, 5, 22,
 * 11, 6 and 20 cells */
static void rules_headings(void)
{
	const char *names[] = { _("ID"), _("SERVICE"), _("PROTO"), _("DST"),
				_("DPORT"), _("UID"), _("CGROUP"),
				_("CONTEXT") };
	static const int widths[] = { 6, 16, 5, 22, 11, 6, 20, 0 };

	print_headings(names, widths, ARRAY_SIZE(names));
}

static int rule_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	struct lwfp_service svcs[LWFP_MAX_SERVICES];
	struct json_object *arr = NULL;
	struct lwfp_rule *rules = NULL;
	struct lwfp_rule_ctx *rc;
	char dst[64], ports[16], cg[512], uid[16];
	struct admin a;
	unsigned int ctx_len;
	__u32 n = 0;
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, "lwfp rule list", false, NULL,
		       NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("rule list: unexpected argument '%s'"), argv[i]);
	rc = malloc(sizeof(*rc));
	if (!rc)
		return cli_error(_("out of memory"));
	if (cli_admin_open(cli, &a)) {
		free(rc);
		return 1;
	}
	ret = admin_services(&a, svcs);
	if (!ret)
		ret = admin_rules(&a, &rules, &n);
	if (ret) {
		admin_close(&a);
		free(rc);
		return cli_error(_("cannot read the rules: %s"), strerror(-ret));
	}
	if (cli->json)
		arr = json_object_new_array();
	else
		rules_headings();
	for (__u32 k = 0; k < n; k++) {
		const struct lwfp_rule *r = &rules[k];
		const char *svc = svcs[r->service % LWFP_MAX_SERVICES].name;
		unsigned int layout = layout_size(&a, r, rc);
		bool has_ctx = (r->flags & LWFP_RULE_HAS_CTX) &&
			       !admin_rule_ctx(&a, r->id, rc);

		format_dst(r, dst, sizeof(dst));
		format_ports(r, ports, sizeof(ports));
		if (r->flags & LWFP_RULE_CGROUP)
			format_cgroup(r->cgroup_id, cg, sizeof(cg));
		if (arr) {
			json_object_array_add(arr, rule_json(r, svc, dst, ports,
				r->flags & LWFP_RULE_CGROUP ? cg : NULL,
				has_ctx ? rc : NULL, layout));
			continue;
		}
		if (r->flags & LWFP_RULE_UID)
			snprintf(uid, sizeof(uid), "%u", r->uid);
		else
			snprintf(uid, sizeof(uid), "-");
		printf("%-6u %-16s %-5s %-22s %-11s %-6s %-20s ",
		       r->id, svc, r->proto == IPPROTO_UDP ? "udp" : "tcp", dst,
		       ports, uid, r->flags & LWFP_RULE_CGROUP ? cg : "-");
		ctx_len = has_ctx ? rc->len : 0;
		printf(P_("%u byte", "%u bytes", ctx_len), ctx_len);
		if (layout)
			printf(_(", laid out in %u"), layout);
		printf("\n");
	}
	admin_close(&a);
	free(rules);
	free(rc);
	if (arr)
		cli_json_print(arr);
	return 0;
}

int cmd_rule(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "add", rule_add }, { "del", rule_del }, { "list", rule_list },
	};

	return cli_dispatch(cli, argc, argv, "rule", verbs, ARRAY_SIZE(verbs));
}
