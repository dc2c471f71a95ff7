// SPDX-License-Identifier: MIT
/* Completion ports: which waiting thread a packet releases, and an
 * alertable GetQueuedCompletionStatusEx that a completion routine ends. */
#include "ws_test.h"

#define PORT_THREADS 3

struct port_job {
	HANDLE port;
	int index;
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
					  10000);
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

/* In a child after fork(): the parent's waiters did not come along, and
 * the child's own packet is its own. */
static bool fork_child_ok(HANDLE port)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		LPOVERLAPPED ov = NULL;
		ULONG_PTR key = 0;
		DWORD bytes = 0;
		bool ok = lwfp_winsock_port_blocked(port) == 0 &&
			  PostQueuedCompletionStatus(port, 3, 42, NULL) &&
			  GetQueuedCompletionStatus(port, &bytes, &key, &ov,
						    1000) &&
			  key == 42 && bytes == 3;

		_exit(ok ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Windows releases a port's waiting threads last in, first out: the
 * thread that blocked last takes the next packet. */
void test_port_lifo(void)
{
	struct port_job job[PORT_THREADS];
	pthread_t th[PORT_THREADS];
	HANDLE port;
	int started = 0;

	REQUIRE(ws_begin(), "WSAStartup");
	port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
	REQUIRE_OR(out, port != NULL, "CreateIoCompletionPort");
	taken = 0;
	for (; started < PORT_THREADS; started++) {
		job[started] = (struct port_job){ .port = port,
						  .index = started };
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
	CHECK(fork_child_ok(port), "after fork(): the child's port");
	/* packet k, posted once the one before was taken, goes to the
	 * thread that blocked k-th from last */
	for (int k = 0; k < started; k++) {
		CHECK(PostQueuedCompletionStatus(port, 0, (ULONG_PTR)k + 100,
						 NULL), "post %d", k);
		CHECK(taken_reach(k + 1), "packet %d taken", k);
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		CHECK(job[i].ok &&
		      job[i].key == (ULONG_PTR)(started - 1 - i) + 100,
		      "the thread to block %d of %d took packet %lu, want %d",
		      i + 1, started, (unsigned long)job[i].key - 100,
		      started - 1 - i);
	}
	CHECK(lwfp_winsock_port_blocked(port) == 0, "none blocked after");
	CHECK(CloseHandle(port), "CloseHandle");
out:
	ws_end();
}

struct release_job {
	HANDLE port;
	SOCKET s;
	LPWSAOVERLAPPED ov;
	int returned;		/* atomic: the waiter is back */
	bool posted;		/* it was not: a packet was posted instead */
};

/* Once the main thread waits on the port, let the held operation
 * complete; if the routine does not end the wait in 5 s, post a packet
 * so that the test ends (and fails). */
static void *release_later(void *arg)
{
	struct release_job *j = arg;

	if (!blocked_reach(j->port, 1))
		return NULL;
	lwfp_winsock_hold_completions(0);
	for (int i = 0; i < 500; i++) {
		if (__atomic_load_n(&j->returned, __ATOMIC_ACQUIRE))
			return NULL;
		usleep(10000);
	}
	j->posted = PostQueuedCompletionStatus(j->port, 0, 7, NULL);
	return NULL;
}

/* A completion routine queued to a thread blocked in an alertable
 * GetQueuedCompletionStatusEx runs there and ends the wait: FALSE,
 * WAIT_IO_COMPLETION, no packet. */
void test_port_alertable(void)
{
	unsigned char buf[64];
	OVERLAPPED_ENTRY e[2];
	WSAOVERLAPPED ov = { 0 };
	struct release_job j = { 0 };
	ULONG n = UNSET;
	pthread_t th;
	struct flow f;
	struct res r;
	BOOL ok;
	int err;

	REQUIRE(flow_begin(&f), "setup");
	j.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
	REQUIRE_OR(out, j.port != NULL, "CreateIoCompletionPort");
	seen_reset();
	lwfp_winsock_hold_completions(1);
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, routine);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	REQUIRE_OR(close, !pthread_create(&th, NULL, release_later, &j),
		   "thread");
	ok = GetQueuedCompletionStatusEx(j.port, e, 2, &n, INFINITE, TRUE);
	err = (int)GetLastError();
	__atomic_store_n(&j.returned, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(!j.posted, "the routine did not end the wait: a packet did");
	CHECK(!ok && err == WAIT_IO_COMPLETION && n == 0,
	      "ok %d, error %d, %lu packets", ok, err, (unsigned long)n);
	CHECK(seen.calls == 1 && seen.error == 0 &&
	      seen.bytes == LWFP_RECORDS_LEN && seen.ov == &ov &&
	      pthread_equal(seen.thread, pthread_self()),
	      "routine: calls %d error %u bytes %u", seen.calls, seen.error,
	      seen.bytes);
	/* not alertable: a routine queued now waits, the time-out comes */
	CHECK(!GetQueuedCompletionStatusEx(j.port, e, 2, &n, 0, FALSE) &&
	      GetLastError() == WAIT_TIMEOUT, "not alertable: time-out");
close:
	lwfp_winsock_hold_completions(0);
	CloseHandle(j.port);
out:
	ws_end();
	flow_close(&f);
}
