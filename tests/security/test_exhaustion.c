// SPDX-License-Identifier: MIT
/*
 * Attacks by exhaustion, run as an unprivileged user in the engine's
 * scope: whatever the engine cannot record, a connect a rule covers is
 * refused and counted, never let through to its original destination.
 *
 * 1. Socket option memory: TCP_MD5SIG keys (which any user may add) use
 *    up optmem_max, so the engine cannot allocate the socket's state.
 * 2. The same on a service's listener: the engine cannot note who bound
 *    it, so it is nobody's, and the service counts as down.
 * 3. The event ring, unread, full: refusals are still refused and
 *    counted.
 *
 * Each refusal is also an event in lwfp events, with who made it.
 */
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"
#include "attack.h"

/* Add MD5 keys for distinct peers until the socket's option memory is
 * full; the number added. */
static int fill_optmem(int fd)
{
	int n;

	for (n = 0; n < 100000; n++) {
		struct tcp_md5sig sig = { .tcpm_keylen = 16 };
		struct sockaddr_in *sin = (struct sockaddr_in *)&sig.tcpm_addr;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0x7f000000u | (n + 2));
		memset(sig.tcpm_key, 'k', 16);
		if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)))
			break;
	}
	return n;
}

/* In the app cgroup as nobody: fill the option memory, then connect.
 * Exit 0 if the connect was refused with EPERM, 1 if it went through,
 * 2 if it failed otherwise, 3 if the setup failed. */
static void optmem_client(uint16_t port)
{
	int fd, keys, err;

	attacker_enter();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		_exit(3);
	keys = fill_optmem(fd);
	printf("# %d TCP_MD5SIG keys filled the socket's option memory\n",
	       keys);
	fflush(stdout);
	if (!keys)
		_exit(3);
	err = connect_loopback(fd, port);
	_exit(!err ? 1 : err == EPERM ? 0 : 2);
}

/* As nobody in the app cgroup: exit 0 if connect() fails with
 * ECONNREFUSED. */
static void refused_client(uint16_t port)
{
	int fd, err;

	attacker_enter();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		_exit(3);
	err = connect_loopback(fd, port);
	_exit(!err ? 1 : err == ECONNREFUSED ? 0 : 2);
}

/* lwfp events shows the refusal: who (pid, nobody), where, why. */
static void check_event(pid_t pid, const char *cause, uint16_t port)
{
	char want_pid[32], want_dst[64];

	snprintf(want_pid, sizeof(want_pid), "\"pid\": %d,", (int)pid);
	snprintf(want_dst, sizeof(want_dst), "\"dst\": \"127.0.0.1:%u\"",
		 port);
	CHECK(!lwfp_run("--json", "events", NULL), "lwfp events");
	CHECK(strstr(env.out, want_pid), "no event for pid %d: %s", (int)pid,
	      env.out);
	CHECK(strstr(env.out, want_dst), "no event for port %u", port);
	CHECK(strstr(env.out, cause), "no event with cause %s", cause);
	CHECK(strstr(env.out, "\"uid\": 65534,"), "the event does not name "
	      "nobody");
}

static void test_optmem_exhaustion(void)
{
	uint16_t origin_port, svc_port;
	int origin = listen_on("127.0.0.1", &origin_port);
	int svc = listen_on("127.0.0.1", &svc_port);
	long long before, after;
	pid_t pid;
	int rc;

	REQUIRE(origin >= 0 && svc >= 0, "listeners");
	REQUIRE(redirect_port(svc_port, NULL, NULL, origin_port),
		"service add, rule add");
	lwfp_run("--json", "status", NULL);
	before = json_int("refused_engine_full");

	pid = fork();
	if (pid == 0)
		optmem_client(origin_port);
	rc = client_wait(pid);
	CHECK(rc != 1, "the connect went through to its destination");
	CHECK(rc == 0, "the connect was not refused with EPERM (exit %d)",
	      rc);
	CHECK(!reached(origin, 200), "the origin was reached, bypassing the "
	      "redirect");
	CHECK(!reached(svc, 0), "the service got a connection it cannot know");
	lwfp_run("--json", "status", NULL);
	after = json_int("refused_engine_full");
	CHECK(after == before + 1, "refused_engine_full %lld -> %lld", before,
	      after);
	check_event(pid, "refused_engine_full", origin_port);
	close(origin);
	close(svc);
}

/* A fail-closed service that is down: refused, counted, and an event. */
static void test_fail_closed_event(void)
{
	uint16_t origin_port, svc_port = unused_port("127.0.0.1");
	int origin = listen_on("127.0.0.1", &origin_port);
	pid_t pid;
	int rc;

	REQUIRE(origin >= 0, "listener");
	REQUIRE(redirect_port(svc_port, "--fail", "closed", origin_port),
		"service add --fail closed, rule add");
	pid = fork();
	if (pid == 0)
		refused_client(origin_port);
	rc = client_wait(pid);
	CHECK(rc == 0, "the connect was not refused with ECONNREFUSED "
	      "(exit %d)", rc);
	CHECK(!reached(origin, 200), "the origin was reached");
	check_event(pid, "service_down_refused", origin_port);
	close(origin);
}

/* In a child (root): a listener on 127.0.0.1:port, its option memory
 * used up before its bind if full is set; reports through a pipe that it
 * listens, then holds it until killed. */
static pid_t service_process(uint16_t port, bool full)
{
	int p[2], fd;
	pid_t pid;
	char c = 0;

	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (full && !fill_optmem(fd))
			_exit(3);
		if (fd < 0 || listen_loopback_fd(fd, port))
			_exit(3);
		(void)!write(p[1], &c, 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		die("the service process did not start");
	close(p[0]);
	return pid;
}

/* A service registered by pid on 127.0.0.1:svc_port, fail closed, with
 * a rule sending connects to orig_port to it. */
static bool redirect_to_pid(const char *name, uint16_t svc_port,
			    pid_t pid, uint16_t orig_port)
{
	char listen[32], dport[8], spid[16];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	snprintf(spid, sizeof(spid), "%d", (int)pid);
	return !lwfp_run("service", "add", name, "--listen", listen, "--pid",
			 spid, "--fail", "closed", NULL) &&
	       !lwfp_run("rule", "add", "--service", name, "--dst",
			 "127.0.0.1/32", "--dport", dport, NULL);
}

/* As nobody in the app cgroup: exit 0 if connect() succeeds. */
static void accepted_client(uint16_t port)
{
	int fd;

	attacker_enter();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	_exit(fd >= 0 && !connect_loopback(fd, port) ? 0 : 1);
}

static int run_client(void (*client)(uint16_t), uint16_t port)
{
	pid_t pid = fork();

	if (pid == 0)
		client(port);
	return client_wait(pid);
}

static void test_listener_optmem(void)
{
	uint16_t full_port = unused_port("127.0.0.1");
	uint16_t ok_port = unused_port("127.0.0.1");
	uint16_t orig_full = unused_port("127.0.0.1");
	uint16_t orig_ok = unused_port("127.0.0.1");
	pid_t full = service_process(full_port, true);
	pid_t ok = service_process(ok_port, false);

	REQUIRE(redirect_to_pid("full", full_port, full, orig_full) &&
		redirect_to_pid("ok", ok_port, ok, orig_ok), "services, rules");
	CHECK(run_client(accepted_client, orig_ok) == 0,
	      "a listener of its own: the service is not up, no test");
	CHECK(run_client(refused_client, orig_full) == 0,
	      "a listener the engine could not mark took the service's "
	      "connects");
	CHECK(counter("service_down_refused") == 1, "not counted");
	kill(full, SIGKILL);
	kill(ok, SIGKILL);
	waitpid(full, NULL, 0);
	waitpid(ok, NULL, 0);
}

/* As nobody in the app cgroup: n connects; exit 0 if every one failed
 * with ECONNREFUSED. */
static void refused_clients(uint16_t port)
{
	attacker_enter();
	for (int i = 0; i < 4000; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (connect_loopback(fd, port) != ECONNREFUSED)
			_exit(1);
		close(fd);
	}
	_exit(0);
}

static void test_events_full(void)
{
	uint16_t origin_port, svc_port = unused_port("127.0.0.1");
	int origin = listen_on("127.0.0.1", &origin_port), shown = 0;

	REQUIRE(redirect_port(svc_port, "--fail", "closed", origin_port),
		"service add --fail closed, rule add");
	/* 4000 events of 80 bytes do not fit in the ring's 256 KiB */
	CHECK(run_client(refused_clients, origin_port) == 0,
	      "a connect was not refused with the event ring full");
	CHECK(!reached(origin, 200), "the origin was reached");
	CHECK(counter("service_down_refused") == 4000, "refusals not all "
	      "counted: %lld", counter("service_down_refused"));
	CHECK(!lwfp_run("--json", "events", NULL), "lwfp events");
	for (const char *p = env.out; (p = strstr(p, "\"pid\": ")); p++)
		shown++;
	CHECK(shown > 0 && shown < 4000, "%d events shown: the ring was not "
	      "full, no test", shown);
	close(origin);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"socket option memory used up: the connect is refused, "
		"counted, shown, never direct",
		"a fail-closed service down: refused, counted, shown",
		"a listener whose option memory is used up is nobody's: the "
		"service is down",
		"the event ring full: refusals still refused and counted",
	};
	static const test_fn fns[] = { test_optmem_exhaustion,
				       test_fail_closed_event,
				       test_listener_optmem, test_events_full };

	env_init(argc, argv, "sexhaust");
	return run_tests(names, fns, 4);
}
