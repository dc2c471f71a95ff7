// SPDX-License-Identifier: MIT
/*
 * lwfp demo: one flow, end to end, in a private engine and cgroup.
 * An origin server on loopback, the example proxy as the redirect service,
 * curl as the client; everything is torn down afterwards.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "i18n.h"
#include "cgroup.h"
#include "cli.h"
#include "loader.h"

#define ORIGIN_BODY "hello from the origin server\n"

struct demo {
	char pin_dir[64];
	char cg_base[64];
	struct cgroup_ref base, proxy_cg, client_cg;
	int origin_fd;
	pid_t origin, proxy;
	bool loaded;
};

static int listen_loopback(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* The origin: answer each HTTP request with a fixed body. */
static void serve_origin(int lfd)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: " "29"
				    "\r\nConnection: close\r\n\r\n" ORIGIN_BODY;
	char buf[4096];

	for (;;) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			_exit(1);
		if (read(c, buf, sizeof(buf)) > 0 &&
		    write(c, reply, sizeof(reply) - 1) < 0)
			_exit(1);
		close(c);
	}
}

/* Where the example proxy is: --proxy, installed, or beside this binary. */
static int find_proxy(const char *given, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;

	if (given) {
		snprintf(out, len, "%s", given);
		return access(out, X_OK) ? -errno : 0;
	}
	snprintf(out, len, "%s/relay-proxy", LWFP_LIBEXECDIR);
	if (!access(out, X_OK))
		return 0;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	snprintf(out, len, "%s/examples/relay-proxy", dirname(self));
	return access(out, X_OK) ? -ENOENT : 0;
}

/* Fork a child in a cgroup, its stdout and stderr into a pipe. */
static pid_t spawn(const struct cgroup_ref *cg, char *const argv[], int *out)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char err[512];

		dup2(p[1], 1);
		dup2(p[1], 2);
		if (cgroup_enter(cg, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			_exit(126);
		}
		execvp(argv[0], argv);
		fprintf(stderr, _("cannot run %s: %s\n"), argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* Echo a child's lines with a prefix until EOF, or until one contains
 * `until`; true if it was seen. */
static bool relay_lines(int fd, const char *prefix, const char *until,
			int timeout_ms)
{
	static char buf[8192];
	static size_t have;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	bool seen = false;
	ssize_t n;

	for (;;) {
		char *nl;

		while ((nl = memchr(buf, '\n', have))) {
			*nl = '\0';
			printf("  %s | %s\n", prefix, buf);
			seen |= until && strstr(buf, until);
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have);
			if (seen)
				return true;
		}
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		n = read(fd, buf + have, sizeof(buf) - have - 1);
		if (n <= 0) {
			if (have)
				printf("  %s | %.*s\n", prefix, (int)have, buf);
			have = 0;
			return !until;
		}
		have += n;
	}
}

static int demo_setup(struct demo *d, const char *proxy, uint16_t origin_port,
		      uint16_t proxy_port, char *err, size_t errlen)
{
	char listen_arg[32], dst[32];
	struct lwfp_service svc = {};
	struct lwfp_rule r = {};
	struct sockaddr_storage ss = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	static const char ctx[] = "demo rule: inspect curl's request";
	char notice[512];
	struct admin a;
	int ret;


	ret = engine_load(d->pin_dir, &d->base, -1, &(struct engine_settings){},
			  notice, sizeof(notice),
			  err, errlen);
	if (ret)
		return ret < 0 ? ret : -EEXIST;
	print_notice(notice);
	d->loaded = true;
	ret = admin_open(d->pin_dir, &a, err, errlen);
	if (ret)
		return ret;
	snprintf(svc.name, sizeof(svc.name), "demo-proxy");
	sin->sin_family = AF_INET;
	sin->sin_port = htons(proxy_port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	service_set_listen(&svc, &ss);
	/* the proxy's own connects are never redirected back to it */
	svc.cgroup_id = d->proxy_cg.id;
	svc.cgroup_level = d->proxy_cg.level;
	ret = admin_service_add(&a, &svc, &r.service, err, errlen);
	if (!ret) {
		r.proto = IPPROTO_TCP;
		r.dst[10] = r.dst[11] = 0xff;
		memcpy(&r.dst[12], &sin->sin_addr, 4);
		memset(r.mask, 0xff, sizeof(r.mask));
		r.prefix_len = 128;
		r.dport_lo = r.dport_hi = origin_port;
		ret = admin_rule_add(&a, &r,
				     &(struct rule_blobs){
					     .ctx = ctx,
					     .ctx_len = sizeof(ctx) - 1 },
				     err, errlen);
	}
	admin_close(&a);
	if (ret)
		return ret;
	snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%u", proxy_port);
	snprintf(dst, sizeof(dst), "127.0.0.1:%u", origin_port);
	printf(_("1. engine loaded at %s, attached to cgroup %s\n"), d->pin_dir,
	       d->base.rel);
	printf(_("2. origin server listening on %s\n"), dst);
	printf(_("3. service 'demo-proxy' = %s (%s) on %s, exempt cgroup %s\n"),
	       basename((char *)proxy), proxy, listen_arg, d->proxy_cg.rel);
	printf(_("4. rule %u: tcp to %s from %s -> demo-proxy, context \"%s\"\n"),
	       r.id, dst, d->base.rel, ctx);
	return 0;
}

static void demo_cleanup(struct demo *d)
{
	char err[256];

	if (d->proxy > 0) {
		kill(d->proxy, SIGTERM);
		waitpid(d->proxy, NULL, 0);
	}
	if (d->origin > 0) {
		kill(d->origin, SIGKILL);
		waitpid(d->origin, NULL, 0);
	}
	if (d->loaded && engine_unload(d->pin_dir, err, sizeof(err)))
		fprintf(stderr, _("lwfp: demo cleanup: %s\n"), err);
	rmdir(d->client_cg.path);
	rmdir(d->proxy_cg.path);
	rmdir(d->base.path);
}

static int demo_run(struct demo *d, const char *proxy, char *err, size_t errlen)
{
	char proxy_listen[32], pin_arg[80], url[64];
	uint16_t origin_port, proxy_port;
	int proxy_out, curl_out, status, fd;
	pid_t curl;
	bool flow_logged;

	d->origin_fd = listen_loopback(&origin_port);
	fd = listen_loopback(&proxy_port);	/* a free port for the proxy */
	if (d->origin_fd < 0 || fd < 0) {
		snprintf(err, errlen, _("cannot listen on loopback"));
		return -EADDRNOTAVAIL;
	}
	close(fd);
	d->origin = fork();
	if (d->origin == 0)
		serve_origin(d->origin_fd);
	close(d->origin_fd);
	if (demo_setup(d, proxy, origin_port, proxy_port, err, errlen))
		return -1;

	snprintf(proxy_listen, sizeof(proxy_listen), "127.0.0.1:%u", proxy_port);
	snprintf(pin_arg, sizeof(pin_arg), "%s", d->pin_dir);
	d->proxy = spawn(&d->proxy_cg, (char *[]){ (char *)proxy, "--listen",
		proxy_listen, "--pin-dir", pin_arg, "--count", "1", NULL },
		&proxy_out);
	if (d->proxy < 0 || !relay_lines(proxy_out, "proxy", "listening", 10000)) {
		snprintf(err, errlen, _("the proxy did not start"));
		return -1;
	}

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", origin_port);
	printf(_("5. curl %s, from cgroup %s:\n"), url, d->client_cg.rel);
	curl = spawn(&d->client_cg, (char *[]){ "curl", "-sS", "--max-time",
		"10", url, NULL }, &curl_out);
	relay_lines(curl_out, "curl ", NULL, 15000);
	close(curl_out);
	waitpid(curl, &status, 0);
	flow_logged = relay_lines(proxy_out, "proxy", "relay-proxy: flow", 10000);
	close(proxy_out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !flow_logged) {
		snprintf(err, errlen, _("the flow did not go through the proxy"));
		return -1;
	}
	printf(_("6. the connect to %s went to the proxy, which read the "
	       "context and relayed both ways.\n"), url);
	return 0;
}

static int proxy_opt(int c, const char *arg, void *data)
{
	*(const char **)data = arg;
	return 0;
}

int cmd_demo(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "proxy", required_argument, NULL, 'x' }, CLI_COMMON_OPTS, {}
	};
	const char *proxy_arg = NULL;
	struct demo d = { .origin_fd = -1 };
	char proxy[PATH_MAX], err[512], path[128];
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, "lwfp demo [--proxy PATH]", false,
		       proxy_opt, &proxy_arg);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("demo: unexpected argument '%s'"), argv[i]);
	if (geteuid() != 0)
		return cli_error(_("demo: run as root (it loads BPF programs)"));
	if (find_proxy(proxy_arg, proxy, sizeof(proxy)))
		return cli_error(_("demo: cannot find the example proxy%s%s "
				 "(build it with make, or give --proxy PATH)"),
				 proxy_arg ? " " : "", proxy_arg ? proxy_arg : "");
	if (system("command -v curl >/dev/null 2>&1"))
		return cli_error(_("demo: curl is not installed (apt-get install curl)"));

	snprintf(d.pin_dir, sizeof(d.pin_dir), "/sys/fs/bpf/lwfp-demo-%d",
		 getpid());
	snprintf(d.cg_base, sizeof(d.cg_base), "/lwfp-demo-%d", getpid());
	snprintf(path, sizeof(path), "%s/proxy", d.cg_base);
	ret = cgroup_resolve(d.cg_base, true, &d.base, err, sizeof(err));
	if (!ret)
		ret = cgroup_resolve(path, true, &d.proxy_cg, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/client", d.cg_base);
	if (!ret)
		ret = cgroup_resolve(path, true, &d.client_cg, err, sizeof(err));
	signal(SIGPIPE, SIG_IGN);
	if (!ret)
		ret = demo_run(&d, proxy, err, sizeof(err));
	fflush(stdout);
	demo_cleanup(&d);
	if (ret)
		return cli_error(_("demo: %s"), err);
	printf(_("7. cleaned up: engine unloaded, cgroups removed.\n"));
	return 0;
}
