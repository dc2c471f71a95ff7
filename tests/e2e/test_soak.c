// SPDX-License-Identifier: MIT
/*
 * Soak: many redirected connections ending every way a connection ends
 * (clean close, reset, the client killed mid-flow, the service dying
 * mid-flow), then the engine's maps and this process's descriptors must
 * be back to where they started. LWFP_SOAK=N sets the count (default
 * 3000; `make soak` runs 1,000,000).
 */
#include <dirent.h>
#include <pthread.h>

#include "harness.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1;	/* the directory itself */
}

struct service {
	int lfd;
	struct lwfp *eng;
	long served, unidentified, unanswered;
	volatile bool stop;
};

/* Accept, check the flow is identified, answer; errors are the client's. */
static void *serve(void *arg)
{
	struct service *s = arg;

	while (!s->stop) {
		unsigned char blob[LWFP_CONTEXT_MAX_LEN];
		size_t len = sizeof(blob);
		char buf[64];
		int c = accept_timeout(s->lfd, 200);

		if (c < 0)
			continue;
		if (lwfp_query_context(s->eng, c, blob, &len))
			s->unidentified++;
		/* a client that reset or said nothing gets no answer */
		if (read(c, buf, sizeof(buf)) > 0 && write(c, "ok", 2) != 2)
			s->unanswered++;
		close(c);
		s->served++;
	}
	return NULL;
}

/* The client side, in its own process: connections ending every way. */
static void clients(uint16_t port, long n)
{
	cg_enter("app");
	for (long i = 0; i < n; i++) {
		int fd = connect_to(AF_INET, "127.0.0.1", port);
		struct linger hard = { .l_onoff = 1, .l_linger = 0 };
		char buf[8];

		if (fd < 0)
			_exit(CL_CONNECT);
		switch (i % 4) {
		case 0:	/* clean */
			if (write(fd, "x", 1) != 1 || read(fd, buf, 2) < 0)
				_exit(CL_IO);
			break;
		case 1:	/* reset at once */
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard,
				   sizeof(hard));
			break;
		case 2:	/* reset after sending */
			if (write(fd, "y", 1) != 1)
				_exit(CL_IO);
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard,
				   sizeof(hard));
			break;
		case 3:	/* closes without a word */
			break;
		}
		close(fd);
		if (i % 97 == 0) {	/* a client killed mid-flow */
			pid_t k = fork();

			if (k == 0) {
				int kfd = connect_to(AF_INET, "127.0.0.1", port);

				if (kfd >= 0 && write(kfd, "z", 1) == 1)
					pause();
				_exit(0);
			}
			usleep(1000);
			kill(k, SIGKILL);
			waitpid(k, NULL, 0);
		}
	}
	_exit(CL_OK);
}

static void wait_for_zero(const char *what, long (*get)(void))
{
	long v = get();

	/* closes reach the engine asynchronously; give them a moment */
	for (int i = 0; i < 100 && v != 0; i++) {
		usleep(50000);
		v = get();
	}
	CHECK(v == 0, "%s left: %ld", what, v);
}

static long tracked_sockets(void)
{
	lwfp_run("--json", "status", NULL);
	return json_int("client_sockets") + json_int("accepted_sockets") +
	       json_int("outbound_sockets");
}

static long live_entries(void)
{
	return map_entries("lwfp_live");
}

static long pending_entries(void)
{
	return map_entries("lwfp_pending");
}

static void test_soak(void)
{
	const char *env_n = getenv("LWFP_SOAK");
	long n = env_n ? atol(env_n) : 3000;
	uint16_t orig = unused_port("127.0.0.1"), svc_port;
	struct service s = { .lfd = listen_on("127.0.0.1", &svc_port) };
	char listen[32], dport[8], cg[128];
	int fds_before;
	pthread_t th;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig);
	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	REQUIRE(!lwfp_run("service", "add", "soak", "--listen", listen,
			  "--cgroup", cg, NULL) &&
		!lwfp_run("rule", "add", "--service", "soak", "--dport", dport,
			  "--context", "soak", NULL), "service and rule");
	REQUIRE(!lwfp_open(env.pin_dir, &s.eng), "open");
	fds_before = count_fds();
	pthread_create(&th, NULL, serve, &s);
	pid = fork();
	if (pid == 0)
		clients(orig, n);
	CHECK(client_wait(pid) == 0, "clients");
	/* every connection, the killed clients' included (one in 97), may
	 * still wait in the accept queue: serve them all before stopping */
	for (int i = 0; i < 100 && s.served < n + (n + 96) / 97; i++)
		usleep(50000);
	s.stop = true;
	pthread_join(th, NULL);
	printf("# %ld connections served, %ld unidentified\n", s.served,
	       s.unidentified);
	CHECK(s.served >= n, "served %ld of %ld", s.served, n);
	CHECK(s.unidentified == 0, "%ld flows not identified", s.unidentified);
	wait_for_zero("tracked sockets", tracked_sockets);
	wait_for_zero("live records", live_entries);
	wait_for_zero("pending hand-offs", pending_entries);
	CHECK(count_fds() == fds_before, "descriptors: %d, before %d",
	      count_fds(), fds_before);

	/* the service process dies mid-flow: the client sees EOF or a reset */
	{
		int p[2], fd;
		pid_t svc;
		char c;
		ssize_t r;

		CHECK(!pipe(p), "pipe");
		svc = fork();
		if (svc == 0) {	/* a service process: accept, then hang */
			int a = accept_timeout(s.lfd, 5000);

			if (a < 0 || write(p[1], "a", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		pid = fork();
		if (pid == 0) {
			cg_enter("app");
			fd = connect_to(AF_INET, "127.0.0.1", orig);
			if (fd < 0 || write(fd, "d", 1) != 1)
				_exit(CL_CONNECT);
			r = read(fd, &c, 1);	/* until the service dies */
			_exit(r == 0 || (r < 0 && errno == ECONNRESET) ?
			      CL_OK : CL_IO);
		}
		CHECK(read(p[0], &c, 1) == 1, "the service accepted");
		kill(svc, SIGKILL);
		waitpid(svc, NULL, 0);
		CHECK(client_wait(pid) == 0, "the client saw EOF or a reset");
		wait_for_zero("tracked sockets", tracked_sockets);
		wait_for_zero("live records", live_entries);
		close(p[0]);
		close(p[1]);
	}
	lwfp_close(s.eng);
	close(s.lfd);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"soak: every kind of ending, then back to baseline",
	};
	static const test_fn fns[] = { test_soak };

	env_init(argc, argv, "soak");
	return run_tests(names, fns, 1);
}
