// SPDX-License-Identifier: MIT
/* lwfp service add | del | list */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "args.h"
#include "cgroup.h"
#include "netns.h"
#include "cli.h"
#include "parse.h"
#include "proc.h"
#include "util.h"

int service_opt(int c, const char *arg, void *data)
{
	struct service_args *sa = data;

	switch (c) {
	case 'l':
		sa->listen = arg;
		break;
	case 'p':
		sa->pid = arg;
		break;
	case 'c':
		sa->cgroup = arg;
		break;
	case 'w':
		sa->weight = arg;
		break;
	case 'f':
		sa->fail = arg;
		break;
	case 'T':
		sa->proto = arg;
		break;
	case 'n':
		sa->netns = arg;
		break;
	}
	return 0;
}

#define SERVICE_ADD_USAGE \
	"lwfp service add NAME --listen ADDR:PORT [--pid PID | --cgroup PATH] " \
	"[--weight N] [--fail open|closed] [--proto tcp|udp] [--netns NAME|PATH]"

/* Who the service is: its process (--pid) or its cgroup, if given. */
static int service_identity(struct service_args *sa,
			    struct lwfp_service *svc, char *err, size_t errlen)
{
	int ret;

	if (sa->pid && sa->cgroup) {
		sa->bad = sa->cgroup;
		snprintf(err, errlen, _("service add: give --pid or --cgroup, not both"));
		return -EINVAL;
	}
	if (sa->pid) {
		pid_t pid;

		sa->bad = sa->pid;
		ret = parse_pid(sa->pid, &pid, err, errlen);
		if (ret)
			return ret;
		/* the pid and when its process started: exempt is that
		 * process, not a later one that gets the pid */
		ret = proc_start_ticks(pid, &svc->pid_start);
		if (ret == -ENOENT) {
			snprintf(err, errlen, _("no process with pid %d"), pid);
			return -ESRCH;
		}
		if (ret) {
			snprintf(err, errlen, _("cannot read when process %d "
				 "started: %s"), pid, strerror(-ret));
			return ret;
		}
		/* its user's sockets are the service's listeners */
		ret = proc_uid(pid, &svc->uid);
		if (ret) {
			snprintf(err, errlen, _("cannot read whose process %d "
				 "is: %s"), pid, strerror(-ret));
			return ret;
		}
		svc->pid = pid;
	}
	if (sa->cgroup) {
		struct cgroup_ref cg;

		sa->bad = sa->cgroup;
		ret = cgroup_resolve(sa->cgroup, false, &cg, err, errlen);
		if (ret)
			return ret;
		if (cg.level >= LWFP_BINDER_LEVELS) {
			snprintf(err, errlen, _("cgroup %s is %d levels deep: a "
				 "service's cgroup may be at most %d deep"),
				 sa->cgroup, cg.level, LWFP_BINDER_LEVELS - 1);
			return -EINVAL;
		}
		svc->cgroup_id = cg.id;
		svc->cgroup_level = cg.level;
	}
	return 0;
}

/* Where it listens: --netns, or the namespace `service add` runs in. A
 * client in another namespace cannot reach it, and a listener there is
 * not it. */
static int service_netns(struct service_args *sa,
			 struct lwfp_service *svc, char *err, size_t errlen)
{
	int ret;

	sa->bad = sa->netns;
	if (sa->netns) {
		ret = netns_cookie_of(sa->netns, &svc->netns);
		if (ret)
			snprintf(err, errlen, _("--netns %.200s: %s"), sa->netns,
				 ret == -ENOTDIR ? _("not a network namespace") :
				 ret == -ENOPROTOOPT ? _("this kernel cannot tell "
				 "namespaces apart") : strerror(-ret));
		return ret;
	}
	ret = netns_cookie(&svc->netns);
	if (ret && ret != -ENOPROTOOPT) {
		snprintf(err, errlen, _("cannot tell this network namespace: %s"),
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/* Turn arguments into a service; one message on the first bad one. */
int service_from_args(const char *name, struct service_args *sa,
		      struct lwfp_service *svc, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int ret;

	memset(svc, 0, sizeof(*svc));
	ret = check_service_name(name, err, errlen);
	if (ret)
		return ret;
	snprintf(svc->name, sizeof(svc->name), "%s", name);
	if (!sa->listen) {
		snprintf(err, errlen, _("service add: --listen ADDR:PORT is required"));
		return -EINVAL;
	}
	sa->bad = sa->listen;
	ret = parse_endpoint(sa->listen, &ss, &sslen, err, errlen);
	if (ret)
		return ret;
	service_set_listen(svc, &ss);
	ret = service_identity(sa, svc, err, errlen);
	if (ret)
		return ret;
	ret = service_netns(sa, svc, err, errlen);
	if (ret)
		return ret;
	sa->bad = sa->fail;
	if (sa->fail && !strcmp(sa->fail, "closed")) {
		svc->flags |= LWFP_SVC_FAIL_CLOSED;
	} else if (sa->fail && strcmp(sa->fail, "open")) {
		snprintf(err, errlen, _("bad --fail '%.32s': open or closed"),
			 sa->fail);
		return -EINVAL;
	}
	/* the port serves both protocols unless --proto names one */
	if (sa->proto) {
		uint8_t proto;

		sa->bad = sa->proto;
		ret = parse_proto(sa->proto, &proto, err, errlen);
		if (ret)
			return ret;
		svc->flags |= proto == IPPROTO_TCP ? LWFP_SVC_NO_UDP :
						     LWFP_SVC_NO_TCP;
	}
	sa->bad = sa->weight;
	if (sa->weight)
		return parse_weight(sa->weight, &svc->weight, err, errlen);
	return 0;
}

static int service_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		SERVICE_ADD_OPTIONS, CLI_COMMON_OPTS, {}
	};
	struct service_args sa = {};
	struct lwfp_service svc;
	struct admin a;
	char err[512];
	__u32 slot;
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, SERVICE_ADD_USAGE, false,
		       service_opt, &sa);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (argc - i != 1)
		return cli_usage(_("usage: %s"), SERVICE_ADD_USAGE);
	if (service_from_args(argv[i], &sa, &svc, err, sizeof(err)))
		return cli_error("%s", err);
	if (cli_admin_open(cli, &a))
		return 1;
	ret = admin_service_add(&a, &svc, &slot, err, sizeof(err));
	admin_close(&a);
	return ret ? cli_error("%s", err) : 0;
}

static int service_del(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	struct admin a;
	char err[512];
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, "lwfp service del NAME", false,
		       NULL, NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (argc - i != 1)
		return cli_usage(_("usage: lwfp service del NAME"));
	if (cli_admin_open(cli, &a))
		return 1;
	ret = admin_service_del(&a, argv[i], err, sizeof(err));
	admin_close(&a);
	return ret ? cli_error("%s", err) : 0;
}

/* TRANSLATORS: the column headings of lwfp service list fit 16, 24, 8,
 * 28 and 7 cells */
static void services_headings(int name_width)
{
	const char *names[] = { _("NAME"), _("LISTEN"), _("PROTO"),
				_("EXEMPT"), _("WEIGHT"), _("FAIL") };
	const int widths[] = { name_width, 24, 8, 28, 7, 0 };

	print_headings(names, widths, ARRAY_SIZE(names));
}

static void exempt_text(const struct lwfp_service *svc, char *out, size_t len)
{
	char cg[512];

	if (svc->pid) {
		snprintf(out, len, "pid %u", svc->pid);
	} else if (svc->cgroup_id) {
		format_cgroup(svc->cgroup_id, cg, sizeof(cg));
		snprintf(out, len, "cgroup %s", cg);
	} else {
		snprintf(out, len, "-");
	}
}

static const char *fail_mode(const struct lwfp_service *svc)
{
	return svc->flags & LWFP_SVC_FAIL_CLOSED ? "closed" : "open";
}

static const char *service_protos(const struct lwfp_service *svc)
{
	if (svc->flags & LWFP_SVC_NO_UDP)
		return "tcp";
	return svc->flags & LWFP_SVC_NO_TCP ? "udp" : "tcp,udp";
}

static int service_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	struct lwfp_service svcs[LWFP_MAX_SERVICES];
	struct json_object *arr = NULL;
	int width = 20;
	char listen[64], exempt[600];
	struct admin a;
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, "lwfp service list", false, NULL,
		       NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("service list: unexpected argument '%s'"), argv[i]);
	if (cli_admin_open(cli, &a))
		return 1;
	ret = admin_services(&a, svcs);
	admin_close(&a);
	if (ret)
		return cli_error(_("cannot read the services: %s"), strerror(-ret));

	/* the name column fits the longest name */
	for (int s = 0; s < LWFP_MAX_SERVICES; s++)
		if (svcs[s].flags & LWFP_SVC_IN_USE &&
		    (int)strlen(svcs[s].name) > width)
			width = strlen(svcs[s].name);
	if (cli->json)
		arr = json_object_new_array();
	else
		services_headings(width);
	for (int s = 0; s < LWFP_MAX_SERVICES; s++) {
		const struct lwfp_service *svc = &svcs[s];
		bool v6 = !(svc->flags & LWFP_SVC_HAS_V4);

		if (!(svc->flags & LWFP_SVC_IN_USE))
			continue;
		format_endpoint(svc->listen, svc->port_be, v6, listen,
				sizeof(listen));
		if (!cli->json) {
			exempt_text(svc, exempt, sizeof(exempt));
			printf("%-*s %-24s %-8s %-28s %-7u %s\n", width,
			       svc->name, listen, service_protos(svc), exempt,
			       svc->weight, fail_mode(svc));
			continue;
		}
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(svc->name));
		json_object_object_add(o, "listen", json_object_new_string(listen));
		json_object_object_add(o, "proto",
				       json_object_new_string(service_protos(svc)));
		json_object_object_add(o, "pid", svc->pid ?
				       json_object_new_int64(svc->pid) : NULL);
		if (svc->cgroup_id) {
			format_cgroup(svc->cgroup_id, exempt, sizeof(exempt));
			json_object_object_add(o, "cgroup",
					       json_object_new_string(exempt));
		} else {
			json_object_object_add(o, "cgroup", NULL);
		}
		json_object_object_add(o, "weight", json_object_new_int64(svc->weight));
		json_object_object_add(o, "fail",
				       json_object_new_string(fail_mode(svc)));
		json_object_array_add(arr, o);
	}
	if (arr)
		cli_json_print(arr);
	return 0;
}

int cmd_service(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "add", service_add }, { "del", service_del }, { "list", service_list },
	};

	return cli_dispatch(cli, argc, argv, "service", verbs, ARRAY_SIZE(verbs));
}
