// SPDX-License-Identifier: MIT
/* See harness.h. */
#include <bpf/bpf.h>

#include "harness.h"

struct env env;
int failures, checks;

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("Bail out! ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(1);
}

void cg_path(char *out, size_t len, const char *sub)
{
	if (snprintf(out, len, "%s%s%s%s", env.mount, env.base,
		     sub ? "/" : "", sub ? sub : "") >= (int)len)
		die("cgroup path too long");
}

void cg_enter_abs(const char *abs)
{
	char procs[PATH_MAX + 16];
	FILE *f;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", abs);
	f = fopen(procs, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f))
		die("cannot enter cgroup %s: %s", abs, strerror(errno));
}

void cg_enter(const char *sub)
{
	char p[PATH_MAX];

	cg_path(p, sizeof(p), sub);
	mkdir(p, 0755);
	cg_enter_abs(p);
}

int lwfp_run(const char *arg, ...)
{
	char *argv[64] = { env.lwfp, "--pin-dir", env.pin_dir };
	int argc = 3, p[2], status;
	size_t have = 0;
	va_list ap;
	ssize_t n;
	pid_t pid;

	va_start(ap, arg);
	for (const char *a = arg; a && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(env.lwfp, argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], env.out + have, sizeof(env.out) - 1 - have)) > 0)
		have += n;
	env.out[have] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void engine_stop(void)
{
	if (env.loaded)
		lwfp_run("unload", NULL);
	env.loaded = false;
}

void engine_start(void)
{
	engine_stop();
	if (lwfp_run("load", "--cgroup", env.base, NULL))
		die("lwfp load failed");
	env.loaded = true;
}

void rmdir_tree(const char *abs)
{
	char p[PATH_MAX + 256];
	struct dirent *de;
	DIR *d = opendir(abs);

	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", abs, de->d_name);
		rmdir(p);
	}
	if (d)
		closedir(d);
	rmdir(abs);
}

void cleanup(void)
{
	char p[PATH_MAX];

	engine_stop();
	cg_enter_abs(env.home_cg);
	cg_path(p, sizeof(p), NULL);
	rmdir_tree(p);
}

static pid_t cleanup_owner;

/* abort(): an assert, or a sanitizer's report (tests/run.sh has them
 * abort): clean up all the same, though never from a child, then die of
 * it. */
static void on_abort(int sig)
{
	if (getpid() == cleanup_owner)
		cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void on_signal(int sig)
{
	(void)sig;
	exit(2);	/* runs cleanup through atexit */
}

void find_cgroup2(void)
{
	char line[4096], home[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "r");

	env.mount[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 "), *mnt;

		if (!sep)
			continue;
		/* field 5 is the mount point */
		strtok(line, " ");
		for (int i = 0; i < 3; i++)
			strtok(NULL, " ");
		mnt = strtok(NULL, " ");
		snprintf(env.mount, sizeof(env.mount), "%s", mnt);
		break;
	}
	if (f)
		fclose(f);
	if (!env.mount[0])
		die("no cgroup2 mount");
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(home, sizeof(home), "%s", line + 3);
		}
	if (f)
		fclose(f);
	if (snprintf(env.home_cg, sizeof(env.home_cg), "%s%s", env.mount,
		     strcmp(home, "/") ? home : "") >= (int)sizeof(env.home_cg))
		die("cgroup path too long");
}

void env_init(int argc, char **argv, const char *name)
{
	char p[PATH_MAX];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0)
		die("end-to-end tests need root");
	if (argc < 2)
		die("usage: %s PATH-TO-lwfp", argv[0]);
	snprintf(env.lwfp, sizeof(env.lwfp), "%s", argv[1]);
	find_cgroup2();
	snprintf(env.base, sizeof(env.base), "/lwfp-test-%s-%d", name,
		 getpid());
	snprintf(env.pin_dir, sizeof(env.pin_dir),
		 "/sys/fs/bpf/lwfp-test-%s-%d", name, getpid());
	cg_path(p, sizeof(p), NULL);
	if (mkdir(p, 0755))
		die("mkdir %s: %s", p, strerror(errno));
	atexit(cleanup);
	cleanup_owner = getpid();
	signal(SIGABRT, on_abort);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* this process is the service side: its sockets are in scope */
	cg_enter("svc");
}

/* LWFP_TEST_ONLY: case numbers, comma-separated ("4" or "2,3,9") */
static bool selected(const char *only, int number)
{
	const char *p = only;
	char *end;

	if (!only)
		return true;
	for (;;) {
		long n = strtol(p, &end, 10);

		if (end != p && n == number && (*end == ',' || !*end))
			return true;
		p = strchr(p, ',');
		if (!p++)
			return false;
	}
}

int run_tests(const char *const names[], const test_fn fns[], int n)
{
	const char *only = getenv("LWFP_TEST_ONLY");

	printf("1..%d\n", n);
	for (int i = 0; i < n; i++) {
		int before = failures;

		if (!selected(only, i + 1)) {
			printf("ok %d - %s # SKIP not selected\n", i + 1,
			       names[i]);
			continue;
		}
		engine_start();
		fns[i]();
		engine_stop();
		printf("%s %d - %s\n", failures == before ? "ok" : "not ok",
		       i + 1, names[i]);
	}
	printf("# %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}

socklen_t make_addr(struct sockaddr_storage *ss, const char *ip,
			   uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
		die("bad address %s", ip);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return sizeof(*sin6);
}

uint16_t addr_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ?
		     ((const struct sockaddr_in *)ss)->sin_port :
		     ((const struct sockaddr_in6 *)ss)->sin6_port);
}

const char *addr_str(const struct sockaddr_storage *ss)
{
	static char bufs[4][80];
	static int k;
	char host[INET6_ADDRSTRLEN];
	char *out = bufs[k++ % 4];

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  host, sizeof(host));
		snprintf(out, 80, "%s:%u", host, addr_port(ss));
	} else {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)ss)->sin6_addr, host,
			  sizeof(host));
		snprintf(out, 80, "[%s]:%u", host, addr_port(ss));
	}
	return out;
}

int listen_on(const char *ip, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, ip, 0);
	int one = 1, fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) ||
	    listen(fd, 1024))
		die("listen on %s: %s", ip, strerror(errno));
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = addr_port(&ss);
	return fd;
}

uint16_t unused_port(const char *ip)
{
	uint16_t port;
	int fd = listen_on(ip, &port);

	close(fd);
	return port;
}

int accept_timeout(int lfd, int ms)
{
	fd_set rd;
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	FD_ZERO(&rd);
	FD_SET(lfd, &rd);
	if (select(lfd + 1, &rd, NULL, NULL, &tv) != 1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

int connect_to(int family, const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, ip, port);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

void client_main(const struct client *c)
{
	struct sockaddr_storage want, got;
	socklen_t len = sizeof(got);
	char buf[256];
	ssize_t n;
	int fd;

	cg_enter(c->cgroup);
	if (c->comm)
		prctl(PR_SET_NAME, c->comm);
	if (c->uid && (setgid(c->uid) || setuid(c->uid)))
		_exit(CL_SETUP);
	fd = connect_to(c->family, c->ip, c->port);
	if (fd < 0)
		_exit(CL_CONNECT);
	/* if the test dies, its clients must not wait forever */
	{
		struct timeval tv = { .tv_sec = 20 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (c->check_peer) {
		make_addr(&want, c->ip, c->port);
		if (getpeername(fd, (struct sockaddr *)&got, &len) ||
		    strcmp(addr_str(&got), addr_str(&want))) {
			fprintf(stderr, "# peer %s, want %s\n", addr_str(&got),
				addr_str(&want));
			_exit(CL_PEER);
		}
	}
	if (c->send && write(fd, c->send, strlen(c->send)) < 0)
		_exit(CL_IO);
	if (c->expect) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0)
			_exit(CL_IO);
		buf[n > 0 ? n : 0] = '\0';
		if (strncmp(buf, c->expect, strlen(c->expect)))
			_exit(CL_REPLY);
	}
	close(fd);
	_exit(CL_OK);
}

pid_t client_start(const struct client *c)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		client_main(c);
	return pid;
}

int client_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t silent_client(uint16_t port, void (*enter)(void))
{
	pid_t pid = fork();

	if (pid)
		return pid;
	close_range(3, ~0U, 0);
	enter();
	if (connect_to(AF_INET, "127.0.0.1", port) < 0)
		_exit(4);
	for (;;)
		pause();
}

void silent_client_end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

long long json_int(const char *key)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(env.out, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

long long counter(const char *name)
{
	lwfp_run("--json", "status", NULL);
	return json_int(name);
}

int udp_bind(const char *ip, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, ip, *port);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len))
		die("udp bind %s: %s", ip, strerror(errno));
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = addr_port(&ss);
	return fd;
}

long map_entries(const char *name)
{
	unsigned char key[64], next[64];	/* the largest key is 40 bytes */
	char path[PATH_MAX];
	void *prev = NULL;
	long n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", env.pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	close(fd);
	return n;
}

/* The chain `lwfp flows` shows for the flow of client `pid`, "A,B,origin". */
void flow_chain(pid_t pid, char *out, size_t len)
{
	char key[32];
	const char *p, *end;

	out[0] = '\0';
	if (lwfp_run("--json", "flows", NULL))
		return;
	snprintf(key, sizeof(key), "\"pid\": %d,", pid);
	p = strstr(env.out, key);
	p = p ? strstr(p, "\"chain\": [") : NULL;
	end = p ? strchr(p, ']') : NULL;
	for (p = p ? strchr(p, '[') : NULL; p && p < end;) {
		const char *q = strchr(p, '"'), *r = q ? strchr(q + 1, '"') : NULL;

		if (!q || !r || r > end)
			break;
		snprintf(out + strlen(out), len - strlen(out), "%s%.*s",
			 out[0] ? "," : "", (int)(r - q - 1), q + 1);
		p = r + 1;
	}
}
