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
 * once it has moved --offload-after bytes (with 0: right after logging
 * its request line), and logs its end with the byte counts; a flow that
 * ends before that is relayed in user space to its end. Once the broker
 * is gone it says so once and relays in user space.
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

/* relay-proxy in its own cgroup (its service's), with 32 descriptors;
 * after: its --offload-after, or NULL for its default. */
static void relay_start(struct relay *r, uint16_t port, const char *idle,
			const char *after)
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
		      "--idle", idle, after ? "--offload-after" : NULL, after,
		      NULL);
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

	relay_start(&r, relay_port, "1", NULL);
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

	relay_start(&r, relay_port, "60", NULL);
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

#define LAZY_AFTER	"64K"
#define LAZY_BIG	(1024 * 1024)	/* well above LAZY_AFTER */

/* The sized origin: "GET /N ..." is answered with N bytes of a pattern;
 * then it waits for the client to close, so that the flow is still open
 * both ways when the proxy hands it over. */
static pid_t sized_origin_start(int lfd)
{
	pid_t pid = fork();
	char req[128], buf[64 * 1024];
	size_t got, size, off;
	ssize_t n = 0;
	int a;

	if (pid)
		return pid;
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		a = accept(lfd, NULL, NULL);
		if (a < 0)
			_exit(0);
		if (fork()) {
			close(a);
			continue;
		}
		for (got = 0; got < sizeof(req) - 1 && (!got ||
		     !memmem(req, got, "\r\n\r\n", 4)); got += n)
			if ((n = read(a, req + got, sizeof(req) - 1 - got)) <= 0)
				_exit(1);
		req[got] = '\0';
		size = strtoul(req + 5, NULL, 10);	/* after "GET /" */
		for (off = 0; off < size; off += n) {
			size_t k = size - off < sizeof(buf) ? size - off :
							     sizeof(buf);

			for (size_t i = 0; i < k; i++)
				buf[i] = (char)((off + i) % 251);
			if ((n = write(a, buf, k)) <= 0)
				_exit(1);
		}
		while (read(a, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
}

/* A client in scope asks the sized origin for size bytes and checks them,
 * then closes; with wake (a pipe), it reads nothing until the pipe's
 * other end is closed. Exits 0, or says where it failed. */
static pid_t sized_flow_start(uint16_t orig_port, size_t size,
			      const int *wake)
{
	static char buf[64 * 1024];
	char req[64];
	size_t got = 0;
	ssize_t n = 1;
	pid_t pid = fork();
	int fd, len;

	if (pid)
		return pid;
	if (wake)
		close(wake[1]);
	attacker_enter();
	alarm(60);	/* a proxy that blocks on one flow fails, not hangs */
	len = snprintf(req, sizeof(req), "GET /%zu HTTP/1.1\r\n\r\n", size);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect_loopback(fd, orig_port))
		_exit(4);
	if (write(fd, req, len) != len)
		_exit(5);
	if (wake && read(wake[0], buf, 1) < 0)
		_exit(8);
	while (got < size && (n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++, got++)
			if (buf[i] != (char)(got % 251))
				_exit(6);	/* lost or reordered */
	close(fd);
	_exit(got == size ? 0 : 7);
}

static int sized_flow(uint16_t orig_port, size_t size)
{
	return client_wait(sized_flow_start(orig_port, size, NULL));
}

/* A big flow whose client does not read yet: the proxy holds it, waiting
 * to write on what it read before the hand-over, and serves a short flow
 * meanwhile; once the client reads, the flow is offloaded, every byte in
 * order. */
static void slow_reader_flow(uint16_t orig_port)
{
	int wake[2], rc;
	pid_t slow;

	REQUIRE(!pipe(wake), "pipe");
	slow = sized_flow_start(orig_port, LAZY_BIG, wake);
	close(wake[0]);
	rc = sized_flow(orig_port, 2);
	CHECK(rc == 0, "a short flow beside a held one (%d)", rc);
	close(wake[1]);
	rc = client_wait(slow);
	CHECK(rc == 0, "a big flow with a slow reader (%d)", rc);
}

/* Wait for at least n lines matching grep in the proxy's log. */
static long log_wait(const struct relay *r, const char *grep, long n)
{
	long got = 0;

	for (int i = 0; i < 100 && (got = log_lines(r, grep)) < n; i++)
		usleep(50000);
	return got;
}

/* The engine's broker in a run directory of our own, seen by the proxy
 * through LWFP_RUN_DIR. */
struct broker {
	char run_dir[32], log[64];
	pid_t pid;
};

static void broker_up(struct broker *b)
{
	snprintf(b->run_dir, sizeof(b->run_dir), "/tmp/lwfp-relay-run-XXXXXX");
	REQUIRE(mkdtemp(b->run_dir), "mkdtemp");
	snprintf(b->log, sizeof(b->log), "%s/broker.log", b->run_dir);
	setenv("LWFP_RUN_DIR", b->run_dir, 1);	/* the broker's, the proxy's */
	b->pid = broker_start(b->run_dir, b->log);
	CHECK(b->pid > 0, "lwfp broker did not start");
}

static void broker_down(struct broker *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		waitpid(b->pid, NULL, 0);
	}
	b->pid = -1;
}

/* Show the logs if a check failed; remove them. */
/* End an offload case: the proxy, the origin (process o, listener lfd),
 * and the logs and run directory (shown first if a check failed). */
static void offload_cleanup(struct relay *r, struct broker *b, pid_t o,
			    int lfd)
{
	relay_stop(r);
	kill(o, SIGKILL);
	client_wait(o);
	close(lfd);
	if (failures) {
		char cmd[192];

		snprintf(cmd, sizeof(cmd), "cat %s %s | head -c 3000 | "
			 "sed 's/^/#   /'", r->log, b->log);
		(void)!system(cmd);
	}
	unsetenv("LWFP_RUN_DIR");
	unlink(r->log);
	unlink(b->log);
	rmdir(b->run_dir);
}

/* --offload-after 0: each flow goes to the kernel once its request line
 * is logged; without a broker, flows are relayed here. */
static void test_offload_at_once(void)
{
	uint16_t orig_port, relay_port = unused_port("127.0.0.1");
	int origin = listen_on("127.0.0.1", &orig_port), rc;
	struct broker b;
	struct relay r;
	pid_t o;

	broker_up(&b);
	relay_start(&r, relay_port, "60", "0");
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
	broker_down(&b);
	for (int i = 0; i < 2; i++) {
		rc = one_flow(orig_port);
		CHECK(rc == 0, "client after the broker stopped (%d)", rc);
	}
	CHECK(log_wait(&r, "up=25 down=2 http=", 2) == 2,
	      "without a broker, flows were not relayed in user space");
	CHECK(log_lines(&r, "not offloading flows") == 1,
	      "the proxy did not say once why it relays in user space");
	offload_cleanup(&r, &b, o, origin);
}


/* A flow is relayed here until it has moved --offload-after bytes, then
 * handed over with nothing lost; one that ends before stays here.
 * Without a broker, big flows are relayed here. */
static void test_offload_lazy(void)
{
	uint16_t orig_port, relay_port = unused_port("127.0.0.1");
	int origin = listen_on("127.0.0.1", &orig_port), rc;
	struct broker b;
	struct relay r;
	pid_t o;

	broker_up(&b);
	relay_start(&r, relay_port, "60", LAZY_AFTER);
	relay_ready(&r);
	relay_rule(orig_port);
	o = sized_origin_start(origin);
	rc = sized_flow(orig_port, 2);
	CHECK(rc == 0, "a short flow through the proxy (%d)", rc);
	rc = sized_flow(orig_port, LAZY_BIG);
	CHECK(rc == 0, "a big flow through the proxy (%d)", rc);
	/* "GET /2 HTTP/1.1\r\n\r\n": 19 bytes */
	CHECK(log_wait(&r, "up=19 down=2 http=\"GET /2 HTTP/1.1\"$", 1) == 1,
	      "the short flow was not relayed in user space to its end");
	CHECK(log_wait(&r, "up=25 down=1048576 offloaded http=\"GET /1048576 "
		       "HTTP/1.1\"$", 1) == 1,
	      "the big flow was not offloaded, or its byte counts are wrong");
	CHECK(log_lines(&r, "offloaded") == 1, "the short flow was offloaded");
	slow_reader_flow(orig_port);
	CHECK(log_wait(&r, "up=25 down=1048576 offloaded", 2) == 2,
	      "the slow reader's flow was not offloaded");
	CHECK(log_lines(&r, "up=19 down=2 http=\"GET /2 HTTP/1.1\"$") == 2,
	      "the short flow beside it was offloaded or failed");
	broker_down(&b);
	for (int i = 0; i < 2; i++) {
		rc = sized_flow(orig_port, LAZY_BIG);
		CHECK(rc == 0, "a big flow after the broker stopped (%d)", rc);
	}
	CHECK(log_wait(&r, "up=25 down=1048576 http=", 2) == 2,
	      "without a broker, big flows were not relayed in user space");
	CHECK(log_lines(&r, "not offloading flows") == 1,
	      "the proxy did not say once why it relays in user space");
	offload_cleanup(&r, &b, o, origin);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"relay-proxy: an idle flood with few descriptors neither "
		"spins nor starves the next client",
		"relay-proxy: a hostile process name is logged escaped",
		"relay-proxy --offload-after 0: offloads a flow after its "
		"request line where the broker runs, relays in user space "
		"without it",
		"relay-proxy: offloads a flow once it has moved enough bytes, "
		"not a short one; relays in user space without a broker",
	};
	static const test_fn fns[] = { test_idle_flood, test_hostile_name,
				       test_offload_at_once,
				       test_offload_lazy };

	env_init(argc, argv, "srelay");
	return run_tests(names, fns, 4);
}
