// SPDX-License-Identifier: MIT
/* lwfp apply [--check] FILE|- : the engine made to hold a configuration. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "cli.h"
#include "conf.h"
#include "loader.h"
#include "watch.h"

#define CONF_FILE_MAX	(16 << 20)

/* The whole file, or standard input for "-". */
char *apply_slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	size_t cap = 65536, n = 0;
	char *buf = NULL, *grown;
	ssize_t got = 1;

	if (fd < 0) {
		snprintf(err, errlen, _("cannot read %s: %s"), path,
			 strerror(errno));
		return NULL;
	}
	while (got > 0 && n <= CONF_FILE_MAX) {
		if (!buf || n == cap) {
			cap = buf ? 2 * cap : cap;
			grown = realloc(buf, cap);
			if (!grown)
				break;
			buf = grown;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			got = 1;
		else if (got > 0)
			n += got;
	}
	if (fd)
		close(fd);
	if (got != 0 || n > CONF_FILE_MAX) {
		snprintf(err, errlen, _("cannot read %s: %s"), path,
			 n > CONF_FILE_MAX ? _("larger than 16 MiB") :
			 got < 0 ? strerror(errno) : _("out of memory"));
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* Parse and check text, read from path, into c; nothing touches the
 * engine. */
static int conf_text(const char *path, const char *text, size_t len,
		     struct conf *c, char *err, size_t errlen)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	struct conf_file f;
	char dir[PATH_MAX], why[512];
	int ret;

	ret = conf_parse(text, len, &f, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, _("%s:%s"), name, why);
		return ret;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	ret = conf_build(&f, name, strcmp(path, "-") ? dirname(dir) : NULL, c,
			 err, errlen);
	conf_free(&f);
	return ret;
}

/* Read, parse and check the file into c. */
static int conf_read(const char *path, struct conf *c, char *err,
		     size_t errlen)
{
	size_t len;
	char *text = apply_slurp(path, &len, err, errlen);
	int ret;

	if (!text)
		return -EIO;
	ret = conf_text(path, text, len, c, err, errlen);
	free(text);
	return ret;
}

/* Load an engine (or upgrade the running one in place), as the file's
 * load statement says. */
static int load_for(struct cli *cli, const struct conf *c, bool running,
		    char *err, size_t errlen)
{
	char notice[512];
	int ret;

	if (!c->load && running) {
		snprintf(err, errlen, _("--upgrade: the file has no load "
			 "statement"));
		return -ENOENT;
	}
	if (!c->load) {
		snprintf(err, errlen, _("no engine is loaded at %.200s, and the "
			 "file has no load statement to load one"), cli->pin_dir);
		return -ENOENT;
	}
	ret = engine_load(cli->pin_dir, &c->cg, c->gid, &c->ec.set, notice,
			  sizeof(notice), err, errlen);
	if (ret >= 0)
		print_notice(notice);
	return ret < 0 ? ret : 0;
}

/* The engine at the pin directory made to hold c; with upgrade, a
 * running engine's programs are first upgraded in place, as lwfp load
 * does (its maps, and so its flows and configuration, stay). 1 when it
 * loaded or upgraded the engine's programs, 0 when it only applied. */
static int apply_to(struct cli *cli, struct conf *c, bool upgrade,
		    struct apply_counts *n, char *err, size_t errlen)
{
	struct lwfp_config cfg;
	bool loaded = false;
	struct admin a;
	char ignored[256];
	int ret = admin_open(cli->pin_dir, &a, err, errlen);

	if (!ret && upgrade) {
		admin_close(&a);
		ret = load_for(cli, c, true, err, errlen);
		if (!ret)
			ret = admin_open(cli->pin_dir, &a, err, errlen);
	} else if (ret == -ENOENT) {
		ret = load_for(cli, c, false, err, errlen);
		loaded = !ret;
		if (!ret)
			ret = admin_open(cli->pin_dir, &a, err, errlen);
	}
	if (ret)
		goto out;
	ret = admin_config(&a, &cfg);
	if (ret)
		snprintf(err, errlen, _("cannot read the engine: %s"),
			 strerror(-ret));
	if (!ret && c->load && cfg.cgroup_id != c->cg.id) {
		snprintf(err, errlen, _("the engine at %.200s is attached to "
			 "%.200s, the file names %.200s: lwfp unload first to "
			 "move it"),
			 cli->pin_dir, cfg.cgroup_path, c->cg.rel);
		ret = -EEXIST;
	}
	if (!ret)
		ret = admin_apply(&a, &c->ec, n, err, errlen);
	admin_close(&a);
	if (!ret && !loaded && c->load && c->gid >= 0) {
		ret = engine_grant_group(cli->pin_dir, c->gid);
		if (ret)
			snprintf(err, errlen, _("applied, but cannot give group "
				 "%d access: %s"), c->gid, strerror(-ret));
	}
out:
	/* on any error nothing changes: not even an engine of ours */
	if (ret && loaded)
		engine_unload(cli->pin_dir, ignored, sizeof(ignored));
	return ret ? ret : loaded || upgrade;
}

static void print_counts(struct cli *cli, const struct apply_counts *n)
{
	struct json_object *o;

	if (!cli->json) {
		printf(_("lwfp: applied: services %u kept, %u added, %u changed, "
			 "%u removed; rules %u kept, %u added, %u removed\n"),
		       n->svc_kept, n->svc_added, n->svc_moved, n->svc_removed,
		       n->rules_kept, n->rules_added, n->rules_removed);
		return;
	}
	o = json_object_new_object();
#define COUNT(k, v) json_object_object_add(o, k, json_object_new_int64(v))
	COUNT("services_kept", n->svc_kept);
	COUNT("services_added", n->svc_added);
	COUNT("services_changed", n->svc_moved);
	COUNT("services_removed", n->svc_removed);
	COUNT("rules_kept", n->rules_kept);
	COUNT("rules_added", n->rules_added);
	COUNT("rules_removed", n->rules_removed);
#undef COUNT
	cli_json_print(o);
}

static void print_checked(struct cli *cli, const char *path,
			  const struct conf *c)
{
	char svcs[64], rules[64];
	struct json_object *o;

	if (!cli->json) {
		snprintf(svcs, sizeof(svcs), P_("%u service", "%u services",
						c->ec.nsvcs), c->ec.nsvcs);
		snprintf(rules, sizeof(rules), P_("%u rule", "%u rules",
						  c->ec.nrules), c->ec.nrules);
		/* TRANSLATORS: the file, "N services", "N rules" */
		printf(_("lwfp: %s: %s, %s: ok\n"), path, svcs, rules);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "services",
			       json_object_new_int64(c->ec.nsvcs));
	json_object_object_add(o, "rules", json_object_new_int64(c->ec.nrules));
	cli_json_print(o);
}

int apply_text(struct cli *cli, const char *path, const char *text,
	       size_t len, bool upgrade, char *err, size_t errlen)
{
	struct apply_counts n;
	struct conf c;
	int ret = conf_text(path, text, len, &c, err, errlen);

	if (ret)
		return ret < 0 ? ret : -EINVAL;
	ret = apply_to(cli, &c, upgrade, &n, err, errlen);
	conf_release(&c);
	if (ret >= 0)
		print_counts(cli, &n);
	return ret;
}

static int apply_opt(int c, const char *arg, void *data)
{
	struct watch_args *wa = data;

	if (c == 'k')
		wa->check = true;
	else if (c == 'w')
		wa->watch = true;
	else if (c == 'X')
		wa->unload_on_exit = true;
	else if (c == 'R')
		wa->ready_file = arg;
	else
		wa->upgrade = true;
	return 0;
}

#define APPLY_USAGE "lwfp apply [--check] [--upgrade] FILE|-\n" \
	"       lwfp apply --watch [--upgrade] [--unload-on-exit] " \
	"[--ready-file PATH] FILE"

int cmd_apply(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'k' },
		{ "upgrade", no_argument, NULL, 'U' },
		{ "watch", no_argument, NULL, 'w' },
		{ "unload-on-exit", no_argument, NULL, 'X' },
		{ "ready-file", required_argument, NULL, 'R' },
		CLI_COMMON_OPTS, {}
	};
	struct watch_args wa = {};
	struct apply_counts n;
	struct conf c;
	char err[1024];
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, APPLY_USAGE, false, apply_opt,
		       &wa);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (argc - i != 1 || (wa.watch && (wa.check || !strcmp(argv[i], "-")))
	    || ((wa.unload_on_exit || wa.ready_file) && !wa.watch))
		return cli_usage(_("usage: %s"), APPLY_USAGE);
	if (wa.watch)
		return apply_watch(cli, argv[i], &wa);
	if (conf_read(argv[i], &c, err, sizeof(err)))
		return cli_error("%s", err);
	if (wa.check) {
		print_checked(cli, argv[i], &c);
		conf_release(&c);
		return 0;
	}
	ret = apply_to(cli, &c, wa.upgrade, &n, err, sizeof(err));
	conf_release(&c);
	if (ret < 0)
		return cli_error("%s", err);
	print_counts(cli, &n);
	return 0;
}
