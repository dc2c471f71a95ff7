// SPDX-License-Identifier: MIT
/* Completion ports: which waiting thread a packet releases, an alertable
 * GetQueuedCompletionStatusEx that a completion routine ends, and fork(). */
#include "ws_test.h"

#define PORT_THREADS 3
#define KEY_BASE 100

struct port_job {
	HANDLE port;
	ULONG_PTR key;		/* the packet this thread took */
	BOOL ok;
};

static int taken;		/* packets taken so far (atomic) */

static void *port_take_one(void *arg)
{
	struct port_job *j = arg;
	LPOVERLAPPED ov = NULL;
	DWORD bytes = 0;

	j->ok = GetQueuedCompletionStatus(j->port, &bytes, &j->key, &ov,
					  30000);
	__atomic_add_fetch(&taken, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Wait up to 5 s for the port to have n threads blocked on it. */
static bool blocked_reach(HANDLE port, int n)
{
	for (int i = 0; i < 500; i++) {
		if (lwfp_winsock_port_blocked(port) == n)
			return true;
		usleep(10000);
	}
	return false;
}

static bool taken_reach(int n)
{
	for (int i = 0; i < 500; i++) {
		if (__atomic_load_n(&taken, __ATOMIC_ACQUIRE) >= n)
			return true;
		usleep(10000);
	}
	return false;
}

/* In a child after fork(): the parent's waiters did not come along; a
 * thread of the child's own waits and takes the child's packet. */
static int fork_child_main(HANDLE port)
{
	struct port_job job = { .port = port };
	pthread_t th;

	taken = 0;
	if (lwfp_winsock_port_blocked(port) != 0 ||
	    pthread_create(&th, NULL, port_take_one, &job))
		return 1;
	if (!blocked_reach(port, 1) ||
	    !PostQueuedCompletionStatus(port, 3, 42, NULL) || !taken_reach(1))
		return 2;
	pthread_join(th, NULL);
	return job.ok && job.key == 42 && CloseHandle(port) ? 0 : 3;
}

static int fork_child(HANDLE port)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(fork_child_main(port));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Windows releases a port's waiting threads last in, first out: the
 * thread that blocked last takes the next packet. */
void test_port_lifo(void)
{
	struct port_job job[PORT_THREADS];
	pthread_t th[PORT_THREADS];
	HANDLE port;
	int started = 0, child;

	REQUIRE(ws_begin(), "WSAStartup");
	port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
	REQUIRE_OR(out, port != NULL, "CreateIoCompletionPort");
	taken = 0;
	for (; started < PORT_THREADS; started++) {
		job[started] = (struct port_job){ .port = port };
		if (pthread_create(&th[started], NULL, port_take_one,
				   &job[started]))
			break;
		if (!blocked_reach(port, started + 1)) {
			started++;
			break;
		}
	}
	CHECK(started == PORT_THREADS &&
	      lwfp_winsock_port_blocked(port) == PORT_THREADS,
	      "%d threads blocked on the port",
	      lwfp_winsock_port_blocked(port));
	child = fork_child(port);
	CHECK(child == 0, "after fork(), the child's port: step %d", child);
	/* packet k, posted once the one before was taken, goes to the
	 * thread that blocked k-th from last */
	for (int k = 0; k < started; k++) {
		CHECK(PostQueuedCompletionStatus(port, 0, KEY_BASE + k, NULL),
		      "post %d", k);
		CHECK(taken_reach(k + 1), "packet %d taken", k);
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		CHECK(job[i].ok &&
		      job[i].key == (ULONG_PTR)(KEY_BASE + started - 1 - i),
		      "the thread to block %d of %d took packet %ld, want %d",
		      i + 1, started, (long)job[i].key - KEY_BASE,
		      started - 1 - i);
	}
	CHECK(lwfp_winsock_port_blocked(port) == 0, "none blocked after");
	CHECK(CloseHandle(port), "CloseHandle");
out:
	ws_end();
}

struct release_job {
	HANDLE port;
	int returned;		/* atomic: the waiter is back */
	bool posted;		/* it was not: a packet was posted instead */
};

/* Once the main thread waits on the port, let the held operation
 * complete; if the routine does not end the wait in 5 s, post a packet
 * so that the test ends (and fails). */
static void *release_later(void *arg)
{
	struct release_job *j = arg;
	bool waiting = blocked_reach(j->port, 1);

	lwfp_winsock_hold_completions(0);
	if (!waiting)
		return NULL;
	for (int i = 0; i < 500; i++) {
		if (__atomic_load_n(&j->returned, __ATOMIC_ACQUIRE))
			return NULL;
		usleep(10000);
	}
	j->posted = PostQueuedCompletionStatus(j->port, 0, 7, NULL);
	return NULL;
}

static HANDLE routine_port;	/* the port the routines below act on */
static pid_t forked = -1;	/* forking_routine's child, 0 in it */

/* A routine that posts a packet to the port its thread waits on. */
static void CALLBACK posting_routine(DWORD error, DWORD bytes,
				     LPWSAOVERLAPPED ov, DWORD flags)
{
	routine(error, bytes, ov, flags);
	PostQueuedCompletionStatus(routine_port, 0, 9, NULL);
}

/* A routine that forks; the child closes the port its wait is on. */
static void CALLBACK forking_routine(DWORD error, DWORD bytes,
				     LPWSAOVERLAPPED ov, DWORD flags)
{
	routine(error, bytes, ov, flags);
	forked = fork();
	if (forked == 0)
		CloseHandle(routine_port);
}

/* Start a held query with routine r on s, then wait alertably on port
 * while another thread releases it: *n and GetLastError() as returned. */
static BOOL wait_for_routine(SOCKET s, HANDLE port, WSAOVERLAPPED *ov,
			     LPWSAOVERLAPPED_COMPLETION_ROUTINE r, ULONG *n,
			     int *err, bool *posted)
{
	struct release_job j = { .port = port };
	OVERLAPPED_ENTRY e[2];
	unsigned char buf[64];
	pthread_t th;
	struct res res;
	BOOL ok;

	seen_reset();
	lwfp_winsock_hold_completions(1);
	res = ioctl_(s, Q_REC, NULL, 0, buf, sizeof(buf), ov, r);
	if (res.err != WSA_IO_PENDING ||
	    pthread_create(&th, NULL, release_later, &j)) {
		lwfp_winsock_hold_completions(0);
		*err = res.err;
		return TRUE;	/* a failure either way */
	}
	ok = GetQueuedCompletionStatusEx(port, e, 2, n, INFINITE, TRUE);
	*err = (int)GetLastError();
	__atomic_store_n(&j.returned, 1, __ATOMIC_RELEASE);
	if (forked != 0)	/* not in forking_routine's child */
		pthread_join(th, NULL);
	*posted = j.posted;
	return ok;
}

/* Alertable waits on a port and completion routines, as on Windows. */
void test_port_alertable(void)
{
	WSAOVERLAPPED ov = { 0 }, ov2 = { 0 };
	OVERLAPPED_ENTRY e[2];
	unsigned char rec[64];
	ULONG n = UNSET;
	bool posted = false;
	struct flow f;
	int err, status;
	BOOL ok;

	REQUIRE(flow_begin(&f), "setup");
	forked = -1;		/* no child: wait_for_routine joins */
	routine_port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
	REQUIRE_OR(out, routine_port != NULL, "CreateIoCompletionPort");

	/* a routine queued to the blocked thread runs there and ends the
	 * wait: FALSE, WAIT_IO_COMPLETION; the packet it posted stays */
	ok = wait_for_routine(f.a, routine_port, &ov, posting_routine, &n,
			      &err, &posted);
	CHECK(!posted, "the routine did not end the wait: a packet did");
	CHECK(!ok && err == WAIT_IO_COMPLETION && n == 0,
	      "ok %d, error %d, %lu packets", ok, err, (unsigned long)n);
	CHECK(seen.calls == 1 && seen.error == 0 &&
	      seen.bytes == LWFP_RECORDS_LEN && seen.ov == &ov &&
	      pthread_equal(seen.thread, pthread_self()),
	      "routine: calls %d error %u bytes %u", seen.calls, seen.error,
	      seen.bytes);
	CHECK(GetQueuedCompletionStatusEx(routine_port, e, 2, &n, 0, FALSE) &&
	      n == 1 && e[0].lpCompletionKey == 9,
	      "the routine's packet is still queued: %lu", (unsigned long)n);

	/* not alertable: a queued routine neither runs nor ends the wait */
	seen_reset();
	lwfp_winsock_hold_completions(0);
	CHECK(ioctl_(f.a, Q_REC, NULL, 0, rec, sizeof(rec), &ov2, routine).err ==
	      WSA_IO_PENDING && wait_completed(f.a, &ov2), "queued");
	CHECK(!GetQueuedCompletionStatusEx(routine_port, e, 2, &n, 50,
					   FALSE) &&
	      GetLastError() == WAIT_TIMEOUT && seen.calls == 0,
	      "not alertable: the time-out, the routine still queued");
	CHECK(SleepEx(0, TRUE) == WAIT_IO_COMPLETION && seen.calls == 1,
	      "then it runs in an alertable wait");

	/* fork() in a routine run inside the wait: the child's wait still
	 * holds the port it closes, and ends with it */
	ok = wait_for_routine(f.a, routine_port, &ov, forking_routine, &n,
			      &err, &posted);
	if (forked == 0)
		_exit(!ok && err == ERROR_ABANDONED_WAIT_0 ? 0 : 1);
	CHECK(forked > 0 && !ok && err == WAIT_IO_COMPLETION,
	      "forked %d, ok %d, error %d", (int)forked, ok, err);
	CHECK(forked > 0 && waitpid(forked, &status, 0) == forked &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child's wait ended with its closed port");
	CloseHandle(routine_port);
out:
	lwfp_winsock_hold_completions(0);
	ws_end();
	flow_close(&f);
}
