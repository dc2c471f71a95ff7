// SPDX-License-Identifier: MIT
/*
 * Where the engine's sockopt programs run: on the cgroups of its services,
 * not on its whole scope, so that a getsockopt() of a process in scope
 * that is no service costs what it costs outside (issue 15). Through the
 * real CLI and real sockets: what the kernel says is attached where, what
 * a service and a client are answered, across service add/del, apply,
 * upgrade in place and unload.
 */
#include <bpf/bpf.h>

#include "harness.h"
#include "lwfp_abi.h"

static struct lwfp *eng;

/* How many programs of type are attached to our cgroup sub ("" for the
 * scope), effective (inherited too) or attached right there. */
static int progs_at(const char *sub, enum bpf_attach_type type,
		    bool effective)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q);
	char path[PATH_MAX + 128];
	__u32 ids[16];
	int fd, ret;

	if (*sub)
		cg_path(path, sizeof(path), sub);
	else
		snprintf(path, sizeof(path), "%s/%s", env.mount, env.base);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	q.prog_ids = ids;
	q.prog_cnt = 16;
	q.query_flags = effective ? BPF_F_QUERY_EFFECTIVE : 0;
	ret = bpf_prog_query_opts(fd, type, &q);
	close(fd);
	return ret ? -1 : (int)q.prog_cnt;
}

/* Both sockopt programs attached right at sub, or neither. */
static bool hooked(const char *sub)
{
	int g = progs_at(sub, BPF_CGROUP_GETSOCKOPT, false);
	int s = progs_at(sub, BPF_CGROUP_SETSOCKOPT, false);

	return g == 1 && s == 1;
}

static bool unhooked(const char *sub)
{
	return progs_at(sub, BPF_CGROUP_GETSOCKOPT, true) == 0 &&
	       progs_at(sub, BPF_CGROUP_SETSOCKOPT, true) == 0;
}

/* How many service links are pinned (two per cgroup). */
static int sockopt_links(void)
{
	DIR *d = opendir(env.pin_dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += !strncmp(de->d_name, "link_sockopt_", 13);
	if (d)
		closedir(d);
	return n;
}

static int add_service(const char *name, uint16_t port, const char *how,
		       const char *who)
{
	char listen[32];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	return lwfp_run("service", "add", name, "--listen", listen, how, who,
			NULL);
}

/* A process in app (no service's cgroup) asks the engine: nothing runs
 * over its socket, so the kernel itself answers (EOPNOTSUPP, where the
 * engine would say ENODATA). */
static int ask_from_app(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct lwfp_hop hop;
		socklen_t len = sizeof(hop);
		int fd;

		cg_enter("app");
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (getsockopt(fd, SOL_LWFP, LWFP_SO_HOP, &hop, &len) == 0)
			_exit(1);
		if (errno == EOPNOTSUPP)	/* ip_getsockopt's, not ENODATA */
			_exit(0);
		printf("#   getsockopt(SOL_LWFP) in app: %s\n", strerror(errno));
		_exit(2);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* A client in app redirected to a service in svc, which asks the engine
 * where it was going: answered. */
static void redirected_and_answered(const char *svc_name, int lfd)
{
	uint16_t orig = unused_port("127.0.0.1");
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig, .expect = NULL };
	struct sockaddr_storage dst;
	socklen_t dlen = sizeof(dst);
	char dport[8];
	pid_t pid;
	int a;

	snprintf(dport, sizeof(dport), "%u", orig);
	REQUIRE(!lwfp_run("rule", "add", "--service", svc_name, "--dst",
			  "127.0.0.1", "--dport", dport, NULL), "rule add");
	REQUIRE(!lwfp_open(env.pin_dir, &eng), "lwfp_open");
	pid = client_start(&c);
	a = accept_timeout(lfd, 5000);
	CHECK(a >= 0, "not redirected");
	if (a >= 0) {
		CHECK(!lwfp_query_original_dst(eng, a, &dst, &dlen) &&
		      addr_port(&dst) == orig, "no answer to the service");
		close(a);
	}
	client_wait(pid);
	lwfp_close(eng);
	eng = NULL;
}

/* Loaded with no service: nothing over the scope; one by --cgroup: its
 * cgroup only, answered there; deleted: gone. */
static void test_cgroup_service(void)
{
	uint16_t port;
	int lfd = listen_on("127.0.0.1", &port);
	char cg[128], app[PATH_MAX];

	cg_path(app, sizeof(app), "app");
	mkdir(app, 0755);
	CHECK(unhooked("") && unhooked("app") && unhooked("svc"),
	      "sockopt programs over the scope after load: %d %d %d",
	      progs_at("", BPF_CGROUP_GETSOCKOPT, true),
	      progs_at("app", BPF_CGROUP_GETSOCKOPT, true),
	      progs_at("svc", BPF_CGROUP_GETSOCKOPT, true));
	CHECK(ask_from_app() == 0, "a process in scope reached a program");
	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	REQUIRE(!add_service("s", port, "--cgroup", cg), "service add");
	CHECK(hooked("svc"), "the service's cgroup has no sockopt programs");
	CHECK(unhooked("") && unhooked("app"), "programs beyond the service");
	CHECK(ask_from_app() == 0, "a client in scope reached a program");
	redirected_and_answered("s", lfd);
	close(lfd);
}

/* Two services in one cgroup share its links, which go with the last. */
static void test_shared_cgroup(void)
{
	char cg[128];

	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	REQUIRE(!add_service("a", 7001, "--cgroup", cg), "service add a");
	REQUIRE(!add_service("b", 7002, "--cgroup", cg), "service add b");
	CHECK(hooked("svc") && sockopt_links() == 2, "links: %d",
	      sockopt_links());
	REQUIRE(!lwfp_run("service", "del", "a", NULL), "service del a");
	CHECK(hooked("svc"), "b lost its hooks with a");
	REQUIRE(!lwfp_run("service", "del", "b", NULL), "service del b");
	CHECK(unhooked("svc") && sockopt_links() == 0,
	      "hooks left after the last service: %d", sockopt_links());
}

/* --pid: the cgroup the process is in (this process: svc), answered. */
static void test_pid_service(void)
{
	uint16_t port;
	int lfd = listen_on("127.0.0.1", &port);
	char pid_s[16];

	snprintf(pid_s, sizeof(pid_s), "%d", getpid());
	REQUIRE(!add_service("p", port, "--pid", pid_s), "service add");
	CHECK(hooked("svc") && unhooked("app") && unhooked(""),
	      "--pid service: not its cgroup alone");
	redirected_and_answered("p", lfd);
	close(lfd);
}

/*
 * In a --pid service's cgroup, a process that is not the service gets
 * the engine's answer to leaked records: -EACCES, counted; the service
 * itself sets them.
 */
static void test_neighbour_refused(void)
{
	uint16_t port, orig = unused_port("127.0.0.1");
	int lfd = listen_on("127.0.0.1", &port), a, out, st;
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig, .expect = NULL };
	unsigned char rec[LWFP_RECORDS_LEN];
	size_t rlen = sizeof(rec);
	char pid_s[16], dport[8];
	pid_t pid, client;

	snprintf(pid_s, sizeof(pid_s), "%d", getpid());
	snprintf(dport, sizeof(dport), "%u", orig);
	REQUIRE(!add_service("n", port, "--pid", pid_s), "service add");
	REQUIRE(!lwfp_run("rule", "add", "--service", "n", "--dst",
			  "127.0.0.1", "--dport", dport, NULL), "rule add");
	REQUIRE(!lwfp_open(env.pin_dir, &eng), "lwfp_open");
	client = client_start(&c);
	a = accept_timeout(lfd, 5000);
	REQUIRE(a >= 0 && !lwfp_query_records(eng, a, rec, &rlen), "records");
	pid = fork();
	if (pid == 0) {	/* same cgroup (svc), another process */
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		_exit(lwfp_set_records(eng, fd, rec, rlen) == -EACCES ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0, "the neighbour was not refused EACCES");
	CHECK(counter("records_set_refused") == 1, "refusal not counted");
	out = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!lwfp_set_records(eng, out, rec, rlen), "the service refused");
	close(out);
	close(a);
	client_wait(client);
	lwfp_close(eng);
	eng = NULL;
	close(lfd);
}

/*
 * --pid of a process outside the scope (in a cgroup of ours beside it):
 * no hook there, where it would tax that cgroup's other processes.
 */
static void test_pid_outside_scope(void)
{
	char out[PATH_MAX + 128], pid_s[16];
	int fds[2], st;
	pid_t pid;
	char c;

	REQUIRE(!pipe(fds), "pipe");
	/* from here on nothing returns before the rmdir below */
	snprintf(out, sizeof(out), "%s/%s-outside", env.mount, env.base);
	CHECK(!mkdir(out, 0755) || errno == EEXIST, "mkdir %s", out);
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		cg_enter_abs(out);
		if (read(fds[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[0]);
	usleep(100000);	/* in its cgroup */
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	CHECK(!add_service("o", 7003, "--pid", pid_s), "service add");
	CHECK(sockopt_links() == 0, "a link outside the scope");
	lwfp_run("service", "del", "o", NULL);
	close(fds[1]);
	waitpid(pid, &st, 0);
	CHECK(!rmdir(out), "rmdir %s: %s", out, strerror(errno));
}

/* lwfp apply links a file's services and unlinks those it drops. */
static void test_apply(void)
{
	char file[] = "/tmp/lwfp-sockopt-XXXXXX", text[512], cg[128];
	int fd = mkstemp(file);
	ssize_t n;

	REQUIRE(fd >= 0, "mkstemp");
	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	n = snprintf(text, sizeof(text),
		     "service add f --listen 127.0.0.1:7004 --cgroup %s\n", cg);
	CHECK(write(fd, text, n) == n, "write");
	close(fd);
	CHECK(!lwfp_run("apply", file, NULL), "apply: %s", env.out);
	CHECK(hooked("svc") && unhooked("app"), "apply did not link");
	fd = open(file, O_WRONLY | O_TRUNC);
	close(fd);
	CHECK(!lwfp_run("apply", file, NULL), "apply empty: %s", env.out);
	CHECK(unhooked("svc") && sockopt_links() == 0, "apply did not unlink");
	unlink(file);
}

/* An upgrade in place keeps the links on the new programs; unload
 * leaves nothing attached. */
static void test_upgrade_and_unload(void)
{
	uint16_t port;
	int lfd = listen_on("127.0.0.1", &port);
	char cg[128];
	__u32 before[1], after[1];
	LIBBPF_OPTS(bpf_prog_query_opts, q);
	char path[PATH_MAX];
	int cfd;

	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	REQUIRE(!add_service("u", port, "--cgroup", cg), "service add");
	cg_path(path, sizeof(path), "svc");
	cfd = open(path, O_RDONLY | O_DIRECTORY);
	q.prog_ids = before;
	q.prog_cnt = 1;
	CHECK(!bpf_prog_query_opts(cfd, BPF_CGROUP_GETSOCKOPT, &q), "query");
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, NULL), "upgrade");
	q.prog_ids = after;
	q.prog_cnt = 1;
	CHECK(!bpf_prog_query_opts(cfd, BPF_CGROUP_GETSOCKOPT, &q) &&
	      q.prog_cnt == 1 && after[0] != before[0],
	      "the link does not run the new program");
	CHECK(hooked("svc") && unhooked("app"), "hooks after the upgrade");
	redirected_and_answered("u", lfd);
	REQUIRE(!lwfp_run("unload", NULL), "unload");
	env.loaded = false;
	CHECK(unhooked("svc"), "hooks left after unload");
	close(cfd);
	close(lfd);
}

/*
 * A service of the whole scope (neither --pid nor --cgroup) and one in
 * svc: a socket in svc runs both links' programs, one after the other,
 * and is answered once, and its records are taken once.
 */
static void test_nested_links(void)
{
	uint16_t port, orig = unused_port("127.0.0.1");
	int lfd = listen_on("127.0.0.1", &port), a, out;
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig, .expect = NULL };
	unsigned char rec[LWFP_RECORDS_LEN];
	size_t rlen = sizeof(rec);
	struct sockaddr_storage dst;
	socklen_t dlen = sizeof(dst);
	char cg[128], dport[8];
	pid_t client;

	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	snprintf(dport, sizeof(dport), "%u", orig);
	REQUIRE(!add_service("whole", 7005, NULL, NULL), "service add whole");
	REQUIRE(!add_service("inner", port, "--cgroup", cg), "service add");
	CHECK(hooked("") && hooked("svc") &&
	      progs_at("svc", BPF_CGROUP_GETSOCKOPT, true) == 2,
	      "not linked at both levels");
	REQUIRE(!lwfp_run("rule", "add", "--service", "inner", "--dst",
			  "127.0.0.1", "--dport", dport, NULL), "rule add");
	REQUIRE(!lwfp_open(env.pin_dir, &eng), "lwfp_open");
	client = client_start(&c);
	a = accept_timeout(lfd, 5000);
	REQUIRE(a >= 0, "not redirected");
	CHECK(!lwfp_query_original_dst(eng, a, &dst, &dlen) &&
	      addr_port(&dst) == orig, "not answered under two links");
	CHECK(!lwfp_query_records(eng, a, rec, &rlen), "records");
	out = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!lwfp_set_records(eng, out, rec, rlen),
	      "records refused under two links");
	CHECK(counter("records_set_refused") == 0, "a refusal counted");
	close(out);
	close(a);
	client_wait(client);
	lwfp_close(eng);
	eng = NULL;
	close(lfd);
}

/* An engine of the version before kept its sockopt links on the whole
 * scope; the upgrade moves them to the services' cgroups. */
static void test_upgrade_moves_scope_links(void)
{
	static const char *const names[] = { "get", "set" };
	static const enum bpf_attach_type types[] = {
		BPF_CGROUP_GETSOCKOPT, BPF_CGROUP_SETSOCKOPT,
	};
	char cg[128], path[PATH_MAX + 128];
	int scope_fd, prog, link;

	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	REQUIRE(!add_service("m", 7006, "--cgroup", cg), "service add");
	snprintf(path, sizeof(path), "%s/%s", env.mount, env.base);
	scope_fd = open(path, O_RDONLY | O_DIRECTORY);
	REQUIRE(scope_fd >= 0, "scope");
	for (int i = 0; i < 2; i++) {	/* as the old loader left them */
		snprintf(path, sizeof(path), "%s/prog_lwfp_%ssockopt",
			 env.pin_dir, names[i]);
		prog = bpf_obj_get(path);
		link = prog < 0 ? -1 : bpf_link_create(prog, scope_fd,
							types[i], NULL);
		snprintf(path, sizeof(path), "%s/link_lwfp_%ssockopt",
			 env.pin_dir, names[i]);
		CHECK(link >= 0 && !bpf_obj_pin(link, path), "old link");
		close(link);
		close(prog);
	}
	close(scope_fd);
	CHECK(hooked(""), "the old layout");
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, NULL), "upgrade");
	CHECK(unhooked("app") && hooked("svc") && sockopt_links() == 2,
	      "the scope's links were not moved");
	CHECK(access(path, F_OK) && errno == ENOENT, "old pin left");
}

/* A service whose cgroup was removed blocks no other change. */
/* Detach every pinned sockopt link, as `bpftool link detach` would. */
static int detach_links(void)
{
	DIR *d = opendir(env.pin_dir);
	char path[PATH_MAX + 256];
	struct dirent *de;
	int n = 0, fd;

	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "link_sockopt_", 13))
			continue;
		snprintf(path, sizeof(path), "%s/%s", env.pin_dir, de->d_name);
		fd = bpf_obj_get(path);
		n += fd >= 0 && !bpf_link_detach(fd);
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	return n;
}

/* A link detached behind the engine's back is made anew at the next
 * change instead of refusing it. */
static void test_detached_link(void)
{
	char cg[PATH_MAX], rel[128];

	cg_path(cg, sizeof(cg), "det");
	snprintf(rel, sizeof(rel), "%s/det", env.base);
	REQUIRE(!mkdir(cg, 0755) || errno == EEXIST, "mkdir");
	REQUIRE(!add_service("d", 7011, "--cgroup", rel), "service add d");
	CHECK(hooked("det"), "d not linked");
	CHECK(detach_links() == 2, "detached %d links", detach_links());
	CHECK(unhooked("det"), "still linked after the detach");
	CHECK(!add_service("e", 7013, "--cgroup", rel), "blocked: %s",
	      env.out);
	CHECK(hooked("det"), "not linked again");
	CHECK(!lwfp_run("service", "del", "d", NULL), "service del d");
	CHECK(!lwfp_run("service", "del", "e", NULL), "service del e");
	CHECK(sockopt_links() == 0, "links left: %d", sockopt_links());
	CHECK(!rmdir(cg), "rmdir %s: %s", cg, strerror(errno));
}

static void test_removed_cgroup(void)
{
	char gone[PATH_MAX], rel[128];

	cg_path(gone, sizeof(gone), "gone");
	snprintf(rel, sizeof(rel), "%s/gone", env.base);
	REQUIRE(!mkdir(gone, 0755), "mkdir");
	REQUIRE(!add_service("g", 7007, "--cgroup", rel), "service add g");
	CHECK(!rmdir(gone), "rmdir %s: %s", gone, strerror(errno));
	CHECK(!add_service("k", 7009, NULL, NULL), "blocked by g: %s",
	      env.out);
	CHECK(hooked(""), "k not linked");
	CHECK(!lwfp_run("service", "del", "g", NULL), "service del g");
	CHECK(!lwfp_run("service", "del", "k", NULL), "service del k");
	CHECK(sockopt_links() == 0, "links left: %d", sockopt_links());
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"a --cgroup service: hooks on its cgroup only, answered",
		"services of one cgroup share its hooks",
		"a --pid service: hooks on its process's cgroup, answered",
		"a --pid service's neighbour: records refused, counted",
		"a --pid service outside the scope: no hook",
		"lwfp apply links and unlinks",
		"upgrade in place keeps the hooks; unload removes them",
		"links at two levels: answered once, records taken once",
		"an upgrade moves an older engine's scope links",
		"a service whose cgroup was removed blocks nothing",
		"a link detached from outside is made anew",
	};
	static const test_fn fns[] = {
		test_cgroup_service, test_shared_cgroup, test_pid_service,
		test_neighbour_refused, test_pid_outside_scope, test_apply,
		test_upgrade_and_unload, test_nested_links,
		test_upgrade_moves_scope_links, test_removed_cgroup,
		test_detached_link,
	};

	env_init(argc, argv, "sockopt");
	return run_tests(names, fns, sizeof(fns) / sizeof(fns[0]));
}
