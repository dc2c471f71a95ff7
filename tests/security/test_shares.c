// SPDX-License-Identifier: MIT
/*
 * One user cannot fill the engine's tables for everyone. The hand-off
 * table was an LRU map: a user whose connects stalled at a service (its
 * accept queue full) could push everyone else's hand-offs out of it, and
 * a user whose flows stayed open could fill the live table. Now each uid
 * has a share of each (lwfp load --pending-per-user, --live-per-user);
 * over it, or with a table full, its connect is refused (EPERM) or its
 * flow's records are not live, counted, and nobody else's flow is
 * touched. Each test fills what it tests.
 */
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"
#include "attack.h"

/* A service and a rule sending connects to 127.0.0.1:orig_port to it. */
static bool redirect_named(const char *name, uint16_t svc_port,
			   uint16_t orig_port)
{
	char listen[32], dport[8];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	return !lwfp_run("service", "add", name, "--listen", listen, NULL) &&
	       !lwfp_run("rule", "add", "--service", name, "--dst",
			 "127.0.0.1/32", "--dport", dport, NULL);
}

/* A listener that never accepts and queues one connection: the SYNs of
 * later connects are dropped, their hand-offs stay in flight. */
static int stalled_service(uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, "127.0.0.1", 0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len))
		die("stalled service");
	*port = addr_port(&ss);
	return fd;
}

/*
 * nobody, in scope, makes n connects to port without waiting for them and
 * holds its sockets until *wake closes. Each connect's errno (0 for one
 * under way) is in results[], in order. Returns the child.
 */
static pid_t stalled_connects(uint16_t port, int n, unsigned char *results,
			      int *wake)
{
	int p[2], w[2];
	pid_t pid;
	char c;

	if (pipe(p) || pipe(w))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		close(w[1]);
		attacker_enter();
		for (int i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			int err = connect_loopback(fd, port);

			c = err == EINPROGRESS ? 0 : err;
			(void)!write(p[1], &c, 1);
		}
		(void)!read(w[0], &c, 1);
		_exit(0);
	}
	close(p[1]);
	close(w[0]);
	for (int i = 0; i < n; i++)
		if (read(p[0], &results[i], 1) != 1)
			results[i] = 255;	/* the child died */
	close(p[0]);
	*wake = w[1];
	return pid;
}

/* How many connects went out before the first refusal; -1 if a refusal
 * was not EPERM or a connect went out after one. */
static int before_refusal(const unsigned char *results, int n)
{
	int i = 0;

	while (i < n && !results[i])
		i++;
	for (int j = i; j < n; j++)
		if (results[j] != EPERM)
			return -1;
	return i;
}

/* Does pinned map name come to hold want entries within two seconds?
 * (A closed connection leaves its tables when TCP is done with it.) */
static bool entries_become(const char *name, long want)
{
	for (int i = 0; i < 200; i++) {
		if (map_entries(name) == want)
			return true;
		usleep(10000);
	}
	return false;
}

static void load_with(const char *opt, const char *val)
{
	engine_stop();
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, opt, val, NULL),
		"load %s %s", opt, val);
	env.loaded = true;
}

/* A client of uid 0 in scope connects to port: is its flow handed to
 * the service on listener lfd? */
static bool victim_handed_off(uint16_t port, int lfd)
{
	long long before = counter("handed_off");
	pid_t pid = fork();
	int fd, a, ok;

	if (pid == 0) {
		cg_enter("app");
		fd = socket(AF_INET, SOCK_STREAM, 0);
		_exit(connect_loopback(fd, port) ? 4 : 0);
	}
	a = accept_timeout(lfd, 5000);
	ok = client_wait(pid) == 0 && a >= 0 &&
	     counter("handed_off") == before + 1;
	if (a >= 0)
		close(a);
	return ok;
}

static void test_pending_share(void)
{
	uint16_t stall_port, svc_port, orig1, orig2;
	int stall = stalled_service(&stall_port);
	int svc = listen_on("127.0.0.1", &svc_port), wake, n;
	unsigned char res[8];
	pid_t pid;

	orig1 = unused_port("127.0.0.1");
	orig2 = unused_port("127.0.0.1");
	load_with("--pending-per-user", "2");
	REQUIRE(redirect_named("stall", stall_port, orig1) &&
		redirect_named("svc", svc_port, orig2), "services, rules");

	pid = stalled_connects(orig1, 8, res, &wake);
	n = before_refusal(res, 8);
	/* one queued at the service, then two in flight */
	CHECK(n >= 0 && n <= 3, "connects out before the refusal: %d", n);
	CHECK(n < 8, "no connect refused: the share is not enforced");
	CHECK(map_entries("lwfp_pending") == 2, "hand-offs in flight: %ld",
	      map_entries("lwfp_pending"));
	CHECK(counter("handoffs_over_user_share_refused") == 8 - n,
	      "refusals not counted");
	CHECK(victim_handed_off(orig2, svc),
	      "another user's connect lost its hand-off");

	close(wake);
	client_wait(pid);
	close(stall);	/* with the connection it queued */
	CHECK(entries_become("lwfp_pending", 0),
	      "hand-offs of closed sockets left: %ld",
	      map_entries("lwfp_pending"));
	CHECK(entries_become("lwfp_shares", 0), "shares left: %ld",
	      map_entries("lwfp_shares"));
	close(svc);
}

static void test_pending_full(void)
{
	uint16_t stall_port, orig;
	int stall = stalled_service(&stall_port), wake, n;
	unsigned char res[6];
	pid_t pid;

	orig = unused_port("127.0.0.1");
	engine_stop();
	setenv("LWFP_PENDING_MAX", "2", 1);
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, NULL),
		"load with a hand-off table of two");
	unsetenv("LWFP_PENDING_MAX");
	env.loaded = true;
	REQUIRE(redirect_named("stall", stall_port, orig), "service, rule");

	pid = stalled_connects(orig, 6, res, &wake);
	n = before_refusal(res, 6);
	CHECK(n >= 0 && n <= 3 && n < 6, "connects out before the refusal: %d",
	      n);
	CHECK(counter("handoffs_table_full_refused") == 6 - n,
	      "refusals not counted");
	CHECK(counter("redirected") == n, "a refused connect was counted "
	      "as redirected");
	close(wake);
	client_wait(pid);
	CHECK(entries_become("lwfp_pending", 0), "hand-offs left");
	close(stall);
}

/* In the child: bind fd to 127.0.0.1:port, reusing the address. */
static int bind_reuse(int fd, uint16_t port)
{
	struct sockaddr_in at = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return bind(fd, (struct sockaddr *)&at, sizeof(at));
}

/* nobody: connects that fail before their SYN (the connection they would
 * make exists already: EADDRNOTAVAIL), on one socket again and again and
 * on fresh ones, then a plain connect. Exit code: 0, or the step that
 * went wrong. */
static void failing_connects(uint16_t orig)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	int a, b;

	attacker_enter();
	a = socket(AF_INET, SOCK_STREAM, 0);
	if (bind_reuse(a, 0) || getsockname(a, (struct sockaddr *)&me, &len) ||
	    connect_loopback(a, orig))
		_exit(10);
	for (int i = 0; i < 4; i++) {
		b = socket(AF_INET, SOCK_STREAM, 0);
		if (bind_reuse(b, ntohs(me.sin_port)))
			_exit(11);
		for (int j = 0; j < 3; j++)
			if (connect_loopback(b, orig) != EADDRNOTAVAIL)
				_exit(12);
		close(b);
	}
	b = socket(AF_INET, SOCK_STREAM, 0);
	_exit(connect_loopback(b, orig) ? 13 : 0);
}

static void test_pending_unsent(void)
{
	uint16_t svc_port, orig = unused_port("127.0.0.1");
	int svc = listen_on("127.0.0.1", &svc_port), code;
	pid_t pid;

	load_with("--pending-per-user", "2");
	REQUIRE(redirect_named("svc", svc_port, orig), "service, rule");
	pid = fork();
	if (pid == 0)
		failing_connects(orig);
	code = client_wait(pid);
	CHECK(code == 0, "failed at step %d (13: the share leaked, every "
	      "connect refused)", code);
	CHECK(counter("handoffs_over_user_share_refused") == 0,
	      "a connect was refused: hand-offs that never went out kept "
	      "their places");
	CHECK(map_entries("lwfp_pending") == 0, "hand-offs left: %ld",
	      map_entries("lwfp_pending"));
	close(svc);
}

/* Can the service set the records of accepted socket a on a new
 * outbound socket: 0 or -errno. */
static int records_settable(struct lwfp *eng, int a)
{
	unsigned char rec[LWFP_RECORDS_LEN];
	size_t rlen = sizeof(rec);
	int out = socket(AF_INET, SOCK_STREAM, 0), err;

	err = lwfp_query_records(eng, a, rec, &rlen);
	if (!err)
		err = lwfp_set_records(eng, out, rec, rlen);
	close(out);
	return err;
}

static void test_live_share(void)
{
	uint16_t svc_port, orig = unused_port("127.0.0.1");
	int svc = listen_on("127.0.0.1", &svc_port), a1, a2, a3;
	struct lwfp *eng;
	pid_t c1, c2, c3;

	load_with("--live-per-user", "1");
	REQUIRE(redirect_named("svc", svc_port, orig), "service, rule");
	REQUIRE(!lwfp_open(env.pin_dir, &eng), "lwfp_open");

	c1 = silent_client(orig, attacker_enter);
	a1 = accept_timeout(svc, 5000);
	c2 = silent_client(orig, attacker_enter);
	a2 = accept_timeout(svc, 5000);
	REQUIRE(a1 >= 0 && a2 >= 0, "both flows at the service");
	CHECK(records_settable(eng, a1) == 0, "the first flow's records");
	CHECK(records_settable(eng, a2) == -ESTALE,
	      "a flow over its user's share has live records");
	CHECK(counter("records_over_user_share") == 1, "not counted");
	CHECK(victim_handed_off(orig, svc), "another user's flow");

	/* the first flow ends: its place is nobody's again */
	close(a1);
	silent_client_end(c1);
	CHECK(entries_become("lwfp_live", 0), "closed flows are still live");
	c3 = silent_client(orig, attacker_enter);
	a3 = accept_timeout(svc, 5000);
	CHECK(a3 >= 0, "the third flow at the service");
	CHECK(a3 < 0 || records_settable(eng, a3) == 0,
	      "a closed flow kept its user's place in the live table: %d",
	      a3 < 0 ? 0 : records_settable(eng, a3));
	close(a2);
	close(a3);
	silent_client_end(c2);
	silent_client_end(c3);
	lwfp_close(eng);
	close(svc);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"connects stalled at a service use up only their user's "
		"share of hand-offs",
		"with the hand-off table full, connects are refused, counted",
		"connects that never sent a SYN give their hand-offs back",
		"flows held open use up only their user's share of the live "
		"table",
	};
	static const test_fn fns[] = { test_pending_share, test_pending_full,
				       test_pending_unsent, test_live_share };

	env_init(argc, argv, "sshare");
	return run_tests(names, fns, 4);
}
