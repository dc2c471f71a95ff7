// SPDX-License-Identifier: MIT
/*
 * Exemptions that cannot be inherited: a service registered by --pid is
 * exempt while that process lives; a process that later gets the same pid
 * (here by setting ns_last_pid, as a user would by forking ~32k times) is
 * redirected like anyone in scope.
 */
#include <sys/wait.h>

#include "harness.h"
#include "attack.h"

/* In the app cgroup as nobody: connect to port; exit 0 once connected. */
static void connect_child(uint16_t port)
{
	int fd;

	attacker_enter();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	_exit(fd >= 0 && !connect_loopback(fd, port) ? 0 : 2);
}

/* Fork a child that gets pid want, if the kernel hands it out next. */
static pid_t fork_as(pid_t want, uint16_t port)
{
	for (int tries = 0; tries < 50; tries++) {
		FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
		pid_t pid;

		if (!f)
			return -1;
		fprintf(f, "%d", want - 1);
		fclose(f);
		pid = fork();
		if (pid == 0) {
			if (getpid() != want)
				_exit(4);
			connect_child(port);
		}
		if (pid == want)
			return pid;
		waitpid(pid, NULL, 0);	/* someone else took it: again */
	}
	return -1;
}

static void test_pid_reuse(void)
{
	uint16_t origin_port, svc_port;
	int origin = listen_on("127.0.0.1", &origin_port);
	int svc = listen_on("127.0.0.1", &svc_port);
	char pidarg[16];
	pid_t first, second;
	int wake, rc;

	REQUIRE(origin >= 0 && svc >= 0, "listeners");
	first = sleeper(&wake);
	snprintf(pidarg, sizeof(pidarg), "%d", first);
	REQUIRE(redirect_port(svc_port, "--pid", pidarg, origin_port),
		"service add --pid, rule add");
	close(wake);
	waitpid(first, NULL, 0);
	/* start times are kept in /proc's 10 ms ticks: a pid taken over in
	 * the same tick would look the same. Forking round to it takes far
	 * longer; ns_last_pid does not, so wait as long as that would. */
	usleep(30000);

	second = fork_as(first, origin_port);
	REQUIRE(second == first, "could not get pid %d again", first);
	rc = client_wait(second);
	CHECK(rc == 0, "the connect of the pid's new owner failed (exit %d)",
	      rc);
	CHECK(!reached(origin, 200), "a later process with the service's "
	      "pid went direct, exempt as the service");
	CHECK(reached(svc, 1000), "the later process was not redirected to "
	      "the service");
	close(origin);
	close(svc);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"a later process with a --pid service's pid is not exempt",
	};
	static const test_fn fns[] = { test_pid_reuse };

	env_init(argc, argv, "sexempt");
	return run_tests(names, fns, 1);
}
