// SPDX-License-Identifier: MIT
/* A configuration file's statements, read as the commands they name. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "args.h"
#include "conf.h"
#include "layout.h"

/* Where errors point: the file, the statement, the word. */
struct where {
	const char *name;
	const struct conf_stmt *s;
	char *err;
	size_t errlen;
};

/* "NAME:LINE:COL: why", at the word holding p (else the statement). */
static int fail_at(const struct where *w, const char *p, int ret,
		   const char *fmt, ...)
{
	const struct conf_word *wd = conf_word_at(w->s, p);
	va_list ap;
	int n;

	if (!wd)
		wd = &w->s->word[0];
	n = snprintf(w->err, w->errlen, _("%s:%d:%d: "), w->name, wd->line,
		     wd->col);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < w->errlen)
		vsnprintf(w->err + n, w->errlen - n, fmt, ap);
	va_end(ap);
	return ret ? ret : -EINVAL;
}

/* getopt over the statement's words from first (as argv[0]); the index
 * of the first operand there, or -EINVAL. */
static int stmt_getopt(const struct where *w, int first,
		       const struct option *opts,
		       int (*on_opt)(int c, const char *arg, void *data),
		       void *data)
{
	char **argv = w->s->argv + first;
	int argc = w->s->nwords - first, c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == ':')
			return fail_at(w, argv[optind - 1], 0, _("option '%s' "
				       "needs a value"), argv[optind - 1]);
		if (c == '?')
			return fail_at(w, argv[optind - 1], 0, _("unknown option "
				       "'%s' for %s"), argv[optind - 1],
				       w->s->argv[0]);
		on_opt(c, optarg, data);
	}
	return optind;
}

static int stmt_load(const struct where *w, struct conf *c)
{
	static const struct option opts[] = { LOAD_OPTIONS, {} };
	struct load_args la = { .cgroup = "/" };
	char why[512];
	int i, ret;

	if (c->load)
		return fail_at(w, NULL, 0, _("a second load statement"));
	i = stmt_getopt(w, 0, opts, load_opt, &la);
	if (i < 0)
		return i;
	if (i != w->s->nwords)
		return fail_at(w, w->s->argv[i], 0, _("load: unexpected '%s'"),
			       w->s->argv[i]);
	ret = load_from_args(&la, &c->ec.set, why, sizeof(why));
	if (ret)
		return fail_at(w, la.bad, ret, "%s", why);
	ret = resolve_group(la.group, &c->gid, why, sizeof(why));
	if (ret)
		return fail_at(w, la.group, ret, "%s", why);
	ret = cgroup_resolve(la.cgroup, false, &c->cg, why, sizeof(why));
	if (ret)
		return fail_at(w, la.cgroup, ret, "%s", why);
	c->load = true;
	return 0;
}

static int stmt_service(const struct where *w, struct conf *c)
{
	static const struct option opts[] = { SERVICE_ADD_OPTIONS, {} };
	struct service_args sa = {};
	struct lwfp_service *svc = &c->ec.svc[c->ec.nsvcs];
	char why[512];
	int i, ret;

	i = stmt_getopt(w, 1, opts, service_opt, &sa);
	if (i < 0)
		return i;
	i++;	/* past "service" */
	if (w->s->nwords - i != 1)
		return fail_at(w, NULL, 0, _("service add NAME: one name"));
	if (sa.pid)
		return fail_at(w, sa.pid, 0, _("--pid has no place in a "
			       "configuration file: a process id does not "
			       "outlive the process; name the service's cgroup "
			       "(--cgroup /system.slice/NAME.service)"));
	if (c->ec.nsvcs == LWFP_MAX_SERVICES)
		return fail_at(w, NULL, -ENOSPC, _("too many services (max %d)"),
			       LWFP_MAX_SERVICES);
	ret = service_from_args(w->s->argv[i], &sa, svc, why, sizeof(why));
	if (ret)
		return fail_at(w, sa.bad ? sa.bad : w->s->argv[i], ret, "%s",
			       why);
	for (unsigned int k = 0; k < c->ec.nsvcs; k++) {
		if (!strcmp(c->ec.svc[k].name, svc->name))
			return fail_at(w, w->s->argv[i], -EEXIST, _("service "
				       "'%s' is declared twice"), svc->name);
		if (services_clash(&c->ec.svc[k], svc))
			return fail_at(w, sa.listen, -EEXIST, _("service '%s' "
				       "listens there already"),
				       c->ec.svc[k].name);
	}
	c->ec.nsvcs++;
	return 0;
}

/* A path in the file, from the file's directory. */
static const char *from_dir(const char *dir, const char *path, char *buf,
			    size_t len)
{
	if (!path || path[0] == '/' || !dir)
		return path;
	snprintf(buf, len, "%s/%s", dir, path);
	return buf;
}

static int service_index(const struct conf *c, const char *name)
{
	for (unsigned int k = 0; k < c->ec.nsvcs; k++)
		if (!strcmp(c->ec.svc[k].name, name))
			return k;
	return -1;
}

/* The rule's blobs, kept by the configuration. */
static int keep_blobs(struct conf_rule *cr, const __u8 *ctx, size_t ctx_len,
		      const __u8 *layout, size_t layout_len)
{
	void *c = ctx_len ? malloc(ctx_len) : NULL;
	void *l = layout_len ? malloc(layout_len) : NULL;

	if ((ctx_len && !c) || (layout_len && !l)) {
		free(c);
		free(l);
		return -ENOMEM;
	}
	if (c)
		memcpy(c, ctx, ctx_len);
	if (l)
		memcpy(l, layout, layout_len);
	cr->b = (struct rule_blobs){ .ctx = c, .ctx_len = ctx_len,
				     .layout = l, .layout_len = layout_len };
	return 0;
}

/* The rule's words made a rule, its service an index into c's. */
static int rule_read(const struct where *w, const struct conf *c,
		     const char *dir, struct rule_args *ra, struct lwfp_rule *r,
		     __u8 *ctx, size_t *ctx_len, __u8 *layout,
		     size_t *layout_len)
{
	static char file_path[PATH_MAX], layout_path[PATH_MAX];
	const struct conf_word *wd = conf_word_at(w->s, ra->context);
	char why[512];
	int svc, ret;

	/* the context as written: NULs and all */
	if (wd)
		ra->context_len = wd->len - (size_t)(ra->context - wd->text);
	ra->context_file = from_dir(dir, ra->context_file, file_path,
				    sizeof(file_path));
	ra->layout_file = from_dir(dir, ra->layout_file, layout_path,
				   sizeof(layout_path));
	ret = rule_from_args(ra, r, why, sizeof(why));
	if (!ret)
		ret = blobs_from_args(ra, ctx, ctx_len, layout, layout_len,
				      why, sizeof(why));
	if (ret)
		return fail_at(w, ra->bad, ret, "%s", why);
	svc = service_index(c, ra->service);
	if (svc < 0)
		return fail_at(w, ra->service, -ENOENT, _("no service '%s' "
			       "declared before this rule"), ra->service);
	if (c->ec.svc[svc].flags & (r->proto == IPPROTO_UDP ?
				    LWFP_SVC_NO_UDP : LWFP_SVC_NO_TCP))
		return fail_at(w, ra->proto ? ra->proto : ra->service, 0,
			       _("service '%s' does not serve %s"), ra->service,
			       r->proto == IPPROTO_UDP ? "udp" : "tcp");
	r->service = svc;
	return 0;
}

static int stmt_rule(const struct where *w, struct conf *c, const char *dir)
{
	static const struct option opts[] = { RULE_ADD_OPTIONS, {} };
	static __u8 ctx[LWFP_RULE_CTX_MAX + 1], layout[LAYOUT_BLOB_MAX];
	struct rule_args ra = { .context_len = (size_t)-1 };
	struct conf_rule *grown, *cr;
	size_t ctx_len, layout_len;
	int i, ret;

	i = stmt_getopt(w, 1, opts, rule_opt, &ra);
	if (i < 0)
		return i;
	if (i + 1 != w->s->nwords)
		return fail_at(w, w->s->argv[i + 1], 0, _("rule add: unexpected "
			       "'%s'"), w->s->argv[i + 1]);
	if (c->ec.nrules == LWFP_MAX_RULES)
		return fail_at(w, NULL, -ENOSPC, _("too many rules (max %d)"),
			       LWFP_MAX_RULES);
	grown = realloc(c->ec.rules, (c->ec.nrules + 1) * sizeof(*grown));
	if (!grown)
		return fail_at(w, NULL, -ENOMEM, _("out of memory"));
	c->ec.rules = grown;
	cr = &grown[c->ec.nrules];
	ret = rule_read(w, c, dir, &ra, &cr->r, ctx, &ctx_len, layout,
			&layout_len);
	if (!ret && keep_blobs(cr, ctx, ctx_len, layout, layout_len))
		ret = fail_at(w, NULL, -ENOMEM, _("out of memory"));
	if (!ret)
		c->ec.nrules++;
	return ret;
}

/* Which command a statement is: its first two words. */
static int statement(const struct where *w, struct conf *c, const char *dir)
{
	const struct conf_stmt *s = w->s;
	bool add = s->nwords > 1 && !strcmp(s->argv[1], "add");

	if (!strcmp(s->argv[0], "load"))
		return stmt_load(w, c);
	if (!strcmp(s->argv[0], "service") && add)
		return stmt_service(w, c);
	if (!strcmp(s->argv[0], "rule") && add)
		return stmt_rule(w, c, dir);
	if (!strcmp(s->argv[0], "service") || !strcmp(s->argv[0], "rule"))
		return fail_at(w, s->nwords > 1 ? s->argv[1] : NULL, 0,
			       _("%s: a configuration only adds (%s add ...)"),
			       s->argv[0], s->argv[0]);
	return fail_at(w, NULL, 0, _("unknown statement '%.32s' (load, service "
		       "add, rule add)"), s->argv[0]);
}

int conf_build(const struct conf_file *f, const char *name, const char *dir,
	       struct conf *c, char *err, size_t errlen)
{
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->gid = -1;
	for (int i = 0; !ret && i < f->nstmts; i++) {
		struct where w = { .name = name, .s = &f->stmt[i], .err = err,
				   .errlen = errlen };

		ret = statement(&w, c, dir);
	}
	if (!ret) {
		char why[512];

		ret = engine_conf_check(&c->ec, why, sizeof(why));
		if (ret)
			snprintf(err, errlen, _("%s: %s"), name, why);
	}
	if (!ret)
		engine_settings_fill(&c->ec.set);
	if (ret)
		conf_release(c);
	return ret;
}

void conf_release(struct conf *c)
{
	for (__u32 i = 0; i < c->ec.nrules; i++) {
		free((void *)c->ec.rules[i].b.ctx);
		free((void *)c->ec.rules[i].b.layout);
	}
	free(c->ec.rules);
	c->ec.rules = NULL;
	c->ec.nrules = 0;
}
