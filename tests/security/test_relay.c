// SPDX-License-Identifier: MIT
/*
 * The example relay-proxy survives hostile clients. It used to hold every
 * flow for ever and spin on accept() once descriptors ran out: 600 idle
 * connections against a 1,024-descriptor limit gave 100% CPU and millions
 * of log lines, and other clients timed out. A client may also name its
 * process anything, newlines and terminal escapes included, and the proxy
 * logged it raw. Here, against a proxy with 32 descriptors, it holds only
 * the flows those allow (the rest wait in the backlog), idle clients in
 * scope are ended after --idle, the log stays bounded, a client that comes
 * after them is served, and a hostile name is logged escaped.
 *
 * Where the engine's broker runs, the proxy hands a flow to the kernel
 * after logging its request line, and logs its end with the byte counts;
 * once the broker is gone it says so once and relays in user space.
 */
#include <dirent.h>
#include <libgen.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "harness.h"
#include "attack.h"

#define HOSTILE	30	/* idle connections, over what 32 descriptors hold */

struct relay {
	pid_t pid;
	char log[64];
};

/* relay-proxy in its own cgroup (its service's), with 32 descriptors. */
static void relay_start(struct relay *r, uint16_t port, const char *idle)
{
	char bin[PATH_MAX], path[PATH_MAX], listen[32], cg[PATH_MAX];
	struct rlimit few = { 32, 32 };
	int fd;

	snprintf(bin, sizeof(bin), "%s", env.lwfp);
	snprintf(path, sizeof(path), "%s/examples/relay-proxy", dirname(bin));
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(r->log, sizeof(r->log), "/tmp/lwfp-relay-XXXXXX");
	fd = mkstemp(r->log);
	REQUIRE(fd >= 0, "log file");
	cg_path(cg, sizeof(cg), "relay");
	mkdir(cg, 0755);
	r->pid = fork();
	if (r->pid == 0) {
		cg_enter("relay");
		dup2(fd, 1);
		dup2(fd, 2);
		if (setrlimit(RLIMIT_NOFILE, &few))
			_exit(126);
		execl(path, path, "--listen", listen, "--pin-dir", env.pin_dir,
		      "--idle", idle, NULL);
		_exit(127);
	}
	close(fd);
	snprintf(cg, sizeof(cg), "%s/relay", env.base);
	REQUIRE(!lwfp_run("service", "add", "relay", "--listen", listen,
			  "--cgroup", cg, NULL), "service add: %s", env.out);
}

/* Wait for the proxy's "listening" line. */
static void relay_ready(const struct relay *r)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "grep -q listening %s", r->log);
	for (int i = 0; i < 100 && system(cmd); i++)
		usleep(50000);
}

/* Connects to 127.0.0.1:orig_port go to the relay. */
static void relay_rule(uint16_t orig_port)
{
	char dport[8];

	snprintf(dport, sizeof(dport), "%u", orig_port);
	REQUIRE(!lwfp_run("rule", "add", "--service", "relay", "--dst",
			  "127.0.0.1/32", "--dport", dport, NULL), "rule add");
}

static void relay_stop(struct relay *r)
{
	kill(r->pid, SIGTERM);
	waitpid(r->pid, NULL, 0);
}

static long log_lines(const struct relay *r, const char *grep)
{
	char cmd[256];
	long n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "grep -c -a -e '%s' %s", grep, r->log);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%ld", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

/* The origin: answers "ok" to whatever each connection sends, each in a
 * process of its own (an idle one must not hold up the others). */
static pid_t origin_start(int lfd)
{
	pid_t pid = fork();
	char buf[64];
	int a;

	if (pid)
		return pid;
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		a = accept(lfd, NULL, NULL);
		if (a < 0)
			_exit(0);
		if (fork() == 0) {
			if (read(a, buf, sizeof(buf)) > 0)
				(void)!write(a, "ok", 2);
			_exit(0);
		}
		close(a);
	}
}

/* The hostile client: HOSTILE connections that never say a word. */
static pid_t idlers_start(uint16_t port)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	attacker_enter();
	for (int i = 0; i < HOSTILE; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect_loopback(fd, port))
			_exit(4);
	}
	pause();
	_exit(0);
}

static void test_idle_flood(void)
{
	uint16_t orig_port, relay_port = unused_port("127.0.0.1");
	int origin = listen_on("127.0.0.1", &orig_port), rc;
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .uid = NOBODY, .send = "p",
			    .expect = "ok" };
	struct relay r;
	pid_t o, idlers, victim;

	relay_start(&r, relay_port, "1");
	relay_ready(&r);
	relay_rule(orig_port);
	o = origin_start(origin);
	idlers = idlers_start(orig_port);
	sleep(1);	/* the proxy is out of descriptors now */
	c.port = orig_port;
	victim = client_start(&c);
	rc = client_wait(victim);
	CHECK(rc == 0, "a client after the idle flood was not served (%d)",
	      rc);
	CHECK(log_lines(&r, "holding at most 8 flows") == 1,
	      "the proxy did not fit its flows to its descriptors");
	CHECK(log_lines(&r, "Too many open files") == 0,
	      "the proxy ran out of descriptors");
	CHECK(log_lines(&r, ".") < 1000, "the log is not bounded: %ld lines",
	      log_lines(&r, "."));
	CHECK(log_lines(&r, "error=\"idle") >= 1, "no idle flow was ended");
	kill(idlers, SIGKILL);
	client_wait(idlers);
	kill(o, SIGKILL);
	client_wait(o);
	relay_stop(&r);
	if (failures) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "head -c 3000 %s | sed 's/^/#   /'",
			 r.log);
		(void)!system(cmd);
	}
	unlink(r.log);
	close(origin);
}

static void test_hostile_name(void)
{
	uint16_t orig_port, relay_port = unused_port("127.0.0.1");
	int origin = listen_on("127.0.0.1", &orig_port), rc;
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .uid = NOBODY,
			    .comm = "ev\"il\nx\033[2J",
			    .send = "GET /\033[31m HTTP/1.1\r\n\r\n",
			    .expect = "ok" };
	struct relay r;
	pid_t o, victim;

	relay_start(&r, relay_port, "60");
	relay_ready(&r);
	relay_rule(orig_port);
	o = origin_start(origin);
	c.port = orig_port;
	victim = client_start(&c);
	rc = client_wait(victim);
	CHECK(rc == 0, "client (%d)", rc);
	relay_stop(&r);
	kill(o, SIGKILL);
	client_wait(o);
	/* the name is cut to 15 bytes by the kernel */
	CHECK(log_lines(&r, "(ev\\\\x22il\\\\x0ax\\\\x1b\\[2J)") >= 1,
	      "the process name was not logged escaped");
	CHECK(log_lines(&r, "^x") == 0 && log_lines(&r, "\033") == 0,
	      "a client's bytes split a log line or reached the terminal");
	unlink(r.log);
	close(origin);
}

/* A broker for our engine, listening in a run directory of our own. */
static pid_t broker_start(const char *run_dir, const char *log)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	pid_t pid;
	DIR *d;

	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execl(env.lwfp, env.lwfp, "--pin-dir", env.pin_dir, "broker",
		      NULL);
		_exit(127);
	}
	close(fd);
	for (int i = 0; i < 200; i++) {
		struct dirent *e;
		bool up = false;

		d = opendir(run_dir);
		while (d && !up && (e = readdir(d)))
			up = !strncmp(e->d_name, "offload-", 8);
		if (d)
			closedir(d);
		if (up)
			return pid;
		usleep(25000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return -1;
}

/* One request through the proxy, answered "ok". */
static int one_flow(uint16_t orig_port)
{
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig_port,
			    .uid = NOBODY,
			    .send = "GET /offload HTTP/1.1\r\n\r\n",
			    .expect = "ok" };

	return client_wait(client_start(&c));
}

/* Wait for at least n lines matching grep in the proxy's log. */
static long log_wait(const struct relay *r, const char *grep, long n)
{
	long got = 0;

	for (int i = 0; i < 100 && (got = log_lines(r, grep)) < n; i++)
		usleep(50000);
	return got;
}

static void test_offload(void)
{
	uint16_t orig_port, relay_port = unused_port("127.0.0.1");
	int origin = listen_on("127.0.0.1", &orig_port), rc;
	char run_dir[] = "/tmp/lwfp-relay-run-XXXXXX", blog[64];
	struct relay r;
	pid_t o, broker;

	REQUIRE(mkdtemp(run_dir), "mkdtemp");
	snprintf(blog, sizeof(blog), "%s/broker.log", run_dir);
	setenv("LWFP_RUN_DIR", run_dir, 1);	/* the broker's, the proxy's */
	broker = broker_start(run_dir, blog);
	CHECK(broker > 0, "lwfp broker did not start");
	relay_start(&r, relay_port, "60");
	relay_ready(&r);
	relay_rule(orig_port);
	o = origin_start(origin);
	rc = one_flow(orig_port);
	CHECK(rc == 0, "client through the offloading proxy (%d)", rc);
	/* 25 bytes of request out, "ok" back, all relayed by the kernel */
	CHECK(log_wait(&r, "up=25 down=2 offloaded http=\"GET /offload "
		       "HTTP/1.1\"$", 1) == 1,
	      "the flow was not offloaded after its request line, or its "
	      "byte counts are wrong");
	if (broker > 0) {
		kill(broker, SIGTERM);
		waitpid(broker, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		rc = one_flow(orig_port);
		CHECK(rc == 0, "client after the broker stopped (%d)", rc);
	}
	CHECK(log_wait(&r, "up=25 down=2 http=", 2) == 2,
	      "without a broker, flows were not relayed in user space");
	CHECK(log_lines(&r, "not offloading flows") == 1,
	      "the proxy did not say once why it relays in user space");
	relay_stop(&r);
	kill(o, SIGKILL);
	client_wait(o);
	if (failures) {
		char cmd[192];

		snprintf(cmd, sizeof(cmd), "cat %s %s | head -c 3000 | "
			 "sed 's/^/#   /'", r.log, blog);
		(void)!system(cmd);
	}
	unsetenv("LWFP_RUN_DIR");
	unlink(r.log);
	unlink(blog);
	rmdir(run_dir);
	close(origin);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"relay-proxy: an idle flood with few descriptors neither "
		"spins nor starves the next client",
		"relay-proxy: a hostile process name is logged escaped",
		"relay-proxy: offloads a flow after its request line where "
		"the broker runs, relays in user space without it",
	};
	static const test_fn fns[] = { test_idle_flood, test_hostile_name,
				       test_offload };

	env_init(argc, argv, "srelay");
	return run_tests(names, fns, 3);
}
