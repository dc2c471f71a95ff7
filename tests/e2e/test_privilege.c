// SPDX-License-Identifier: MIT
/*
 * The privilege model, with real users and a group this test creates: a
 * service running as a member of the engine's group queries its own
 * sockets and sets records; a user outside the group can do neither;
 * ordinary applications are redirected without any access.
 */
#include <grp.h>
#include <pwd.h>

#include "harness.h"

static char group[32], user_in[32], user_out[32];

/* Whether this process may open a pinned object of the engine: 0 or
 * -errno (the file mode decides, before bpffs is asked). */
static int pin_access(const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", env.pin_dir, name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return -errno;
}

static void accounts_cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "userdel %s 2>/dev/null; userdel %s 2>/dev/null; "
		 "groupdel %s 2>/dev/null", user_in, user_out, group);
	if (system(cmd))
		printf("# could not remove the test accounts\n");
}

static void accounts_create(void)
{
	char cmd[512];

	snprintf(group, sizeof(group), "lwfpt%d", getpid());
	snprintf(user_in, sizeof(user_in), "lwfpi%d", getpid());
	snprintf(user_out, sizeof(user_out), "lwfpo%d", getpid());
	atexit(accounts_cleanup);
	snprintf(cmd, sizeof(cmd),
		 "groupadd %s && "
		 "useradd -M -N -s /usr/sbin/nologin -G %s %s && "
		 "useradd -M -N -s /usr/sbin/nologin %s",
		 group, group, user_in, user_out);
	if (system(cmd))
		die("cannot create test users (useradd, groupadd)");
}

/* Become `name` with its groups, after entering a cgroup as root. */
static void become(const char *name, const char *cgroup)
{
	struct passwd *pw = getpwnam(name);

	cg_enter(cgroup);
	if (!pw || initgroups(name, pw->pw_gid) || setgid(pw->pw_gid) ||
	    setuid(pw->pw_uid))
		_exit(100);
}

enum { SV_OK, SV_OPEN = 20, SV_ACCEPT, SV_QUERY, SV_SET, SV_CONNECT,
       SV_ORIGIN, SV_FOREIGN_FD };

/* The service, as user_in: accept, query, set records, connect out. */
static void service_main(int lfd, int origin)
{
	unsigned char rec[LWFP_RECORDS_LEN], blob[LWFP_CONTEXT_MAX_LEN];
	size_t rlen = sizeof(rec), blen = sizeof(blob);
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct lwfp *eng;
	int a, out;

	become(user_in, "svc");
	if (lwfp_open(env.pin_dir, &eng))
		_exit(SV_OPEN);
	a = accept_timeout(lfd, 5000);
	if (a < 0)
		_exit(SV_ACCEPT);
	if (lwfp_query_records(eng, a, rec, &rlen) ||
	    lwfp_query_context(eng, a, blob, &blen) ||
	    lwfp_query_original_dst(eng, a, &dst, &dlen))
		_exit(SV_QUERY);
	/* a socket this process does not hold cannot even be named: the
	 * engine is asked by descriptor, and descriptors are per process */
	close(origin);
	if (lwfp_query_records(eng, origin, rec, &rlen) != -EBADF)
		_exit(SV_FOREIGN_FD);
	out = socket(AF_INET, SOCK_STREAM, 0);
	if (lwfp_set_records(eng, out, rec, rlen))
		_exit(SV_SET);
	if (connect(out, (struct sockaddr *)&dst, dlen))
		_exit(SV_CONNECT);
	if (write(a, "ok", 2) != 2)
		_exit(SV_QUERY);
	close(out);
	close(a);
	lwfp_close(eng);
	_exit(SV_OK);
}

/* user_out: no engine access at all. */
static void outsider_main(void)
{
	struct lwfp *eng;

	become(user_out, "app");
	_exit(lwfp_open(env.pin_dir, &eng) == -EACCES ? 0 : 1);
}

static void test_group_access(void)
{
	uint16_t svc_port, orig_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int lfd = listen_on("127.0.0.1", &svc_port), o, rc;
	char listen[32], dport[8];
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .uid = 65534, .send = "p",
			    .expect = "ok" };
	pid_t svc, client, out;
	struct stat st;

	/* reload the engine for the group */
	engine_stop();
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, "--group", group,
			  NULL), "load --group");
	env.loaded = true;
	REQUIRE(!lwfp_run("status", NULL) && strstr(env.out, group),
		"status shows the group: %s", env.out);
	CHECK(!stat(env.pin_dir, &st) && (st.st_mode & 0777) == 0750,
	      "pin dir mode %o", st.st_mode & 0777);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	REQUIRE(!lwfp_run("service", "add", "priv", "--listen", listen, NULL) &&
		!lwfp_run("rule", "add", "--service", "priv", "--dport", dport,
			  NULL), "service and rule");

	svc = fork();
	if (svc == 0)
		service_main(lfd, origin);
	c.port = orig_port;
	client = client_start(&c);	/* an ordinary app: uid 65534 */
	o = accept_timeout(origin, 5000);
	CHECK(o >= 0, "the service's outbound (records set) reached the origin");
	rc = client_wait(svc);
	CHECK(rc == SV_OK, "service as a member of the group: step %d", rc);
	rc = client_wait(client);
	CHECK(rc == 0, "ordinary client redirected: exit %d", rc);

	out = fork();
	if (out == 0)
		outsider_main();
	CHECK(client_wait(out) == 0,
	      "a user outside the group cannot open the engine");
	if (o >= 0)
		close(o);
	close(lfd);
	close(origin);
}

/* A UDP service as user_in: its flows through its own socket, and not
 * the engine's table of every UDP flow. */
static void udp_service_main(int fd)
{
	unsigned char blob[LWFP_CONTEXT_MAX_LEN];
	struct sockaddr_storage peer, dst;
	socklen_t plen = sizeof(peer), dlen = sizeof(dst);
	size_t blen = sizeof(blob);
	struct lwfp *eng;
	char buf[16];
	ssize_t n;
	int map;

	become(user_in, "svc");
	if (lwfp_open(env.pin_dir, &eng))
		_exit(SV_OPEN);
	map = pin_access("lwfp_udp_flows");
	if (map != -EACCES)
		_exit(SV_FOREIGN_FD);
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
	if (n <= 0)
		_exit(SV_ACCEPT);
	if (lwfp_query_udp_context(eng, fd, (struct sockaddr *)&peer, plen,
				   blob, &blen) ||
	    lwfp_query_udp_original_dst(eng, fd, (struct sockaddr *)&peer,
					plen, &dst, &dlen))
		_exit(SV_QUERY);
	if (sendto(fd, "ok", 2, 0, (struct sockaddr *)&peer, plen) != 2)
		_exit(SV_CONNECT);
	lwfp_close(eng);
	_exit(SV_OK);
}

/* An ordinary app (uid 65534) sending one datagram, expecting "ok" from
 * where it sent it. */
static void udp_app_main(uint16_t port)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen = make_addr(&dst, "127.0.0.2", port), slen = sizeof(src);
	struct timeval tv = { .tv_sec = 5 };
	char buf[8];
	int fd;

	cg_enter("app");
	if (setgid(65534) || setuid(65534))
		_exit(CL_SETUP);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, "q", 1, 0, (struct sockaddr *)&dst, dlen) != 1)
		_exit(CL_IO);
	if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src,
		     &slen) != 2)
		_exit(CL_REPLY);
	_exit(strcmp(addr_str(&src), addr_str(&dst)) ? CL_PEER : CL_OK);
}

static void test_group_udp(void)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, "127.0.0.1", 0);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;
	uint16_t svc_port, orig_port = unused_port("127.0.0.2");
	char listen[32], dport[8];
	pid_t svc, app;

	engine_stop();
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, "--group", group,
			  NULL), "load --group");
	env.loaded = true;
	REQUIRE(fd >= 0 && !bind(fd, (struct sockaddr *)&ss, len), "bind");
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	svc_port = addr_port(&ss);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	REQUIRE(!lwfp_run("service", "add", "udp", "--listen", listen,
			  "--proto", "udp", NULL) &&
		!lwfp_run("rule", "add", "--service", "udp", "--proto", "udp",
			  "--dst", "127.0.0.2/32", "--dport", dport, NULL),
		"service and rule: %s", env.out);
	svc = fork();
	if (svc == 0)
		udp_service_main(fd);
	app = fork();
	if (app == 0)
		udp_app_main(orig_port);
	rc = client_wait(svc);
	CHECK(rc == SV_OK, "UDP service as a member of the group: step %d",
	      rc);
	rc = client_wait(app);
	CHECK(rc == CL_OK, "ordinary UDP app redirected: exit %d", rc);
	close(fd);
}

/* Without --group (and no group "lwfp"), only root has access. */
static void test_root_only(void)
{
	struct stat st;
	pid_t pid;

	if (getgrnam("lwfp")) {
		printf("# a group lwfp exists here: the default gives it access\n");
		return;
	}
	CHECK(!stat(env.pin_dir, &st) && !(st.st_mode & 0077),
	      "pin dir mode %o", st.st_mode & 0777);
	pid = fork();
	if (pid == 0) {
		struct lwfp *eng;

		become(user_in, "app");
		_exit(lwfp_open(env.pin_dir, &eng) == -EACCES ? 0 : 1);
	}
	CHECK(client_wait(pid) == 0, "no group: a group member has no access");
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"a service in the engine's group; an outsider; an ordinary app",
		"without a group, root only",
		"a UDP service in the group: its flows only, through its socket",
	};
	static const test_fn fns[] = { test_group_access, test_root_only,
				       test_group_udp };

	env_init(argc, argv, "priv");
	accounts_create();
	return run_tests(names, fns, 3);
}
