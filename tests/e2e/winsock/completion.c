// SPDX-License-Identifier: MIT
/* Overlapped completion: events, WSAGetOverlappedResult, completion routines, aborts, WSAEINPROGRESS. */
#include "ws_test.h"

/* ---- overlapped ------------------------------------------------------ */

void test_overlapped_event(void)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN], small[4];
	WSAOVERLAPPED ov = { 0 };
	struct lwfp_context ctx;
	DWORD n = UNSET, flags = UNSET, needed;
	WSAEVENT ev;
	struct flow f;
	struct res r;
	SOCKET sock;
	int o;

	REQUIRE(flow_begin(&f), "setup");
	needed = native_context(f.a, NULL, 0);
	ev = WSACreateEvent();
	REQUIRE_OR(out, ev != WSA_INVALID_EVENT, "event");
	ov.hEvent = ev;
	r = ioctl_(f.a, Q_CTX, NULL, 0, buf, sizeof(buf), &ov, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSA_IO_PENDING && r.bytes == 0,
	      "pending: rc %d err %d bytes %u", r.rc, r.err, r.bytes);
	CHECK(WSAWaitForMultipleEvents(1, &ev, TRUE, 5000, FALSE) ==
	      WSA_WAIT_EVENT_0, "event signalled");
	CHECK(WSAGetOverlappedResult(f.a, &ov, &n, FALSE, &flags) &&
	      n == needed && flags == 0, "result: %u of %u, flags %u", n,
	      needed, flags);
	CHECK(ov.Internal == 0 && ov.InternalHigh == needed, "Internal");
	CHECK(!lwfp_context_decode(buf, n, &ctx) &&
	      ctx.pid == (uint32_t)f.client, "the context arrived");

	/* a small buffer: the error and the size needed */
	r = ioctl_(f.a, Q_CTX, NULL, 0, small, sizeof(small), &ov, NULL);
	CHECK(r.err == WSA_IO_PENDING, "pending");
	CHECK(WSAWaitForMultipleEvents(1, &ev, TRUE, 5000, FALSE) ==
	      WSA_WAIT_EVENT_0, "event signalled");
	n = 0;
	CHECK(!WSAGetOverlappedResult(f.a, &ov, &n, TRUE, &flags) &&
	      WSAGetLastError() == ERROR_INSUFFICIENT_BUFFER && n == needed,
	      "small buffer: %d, %u", WSAGetLastError(), n);

	/* an overlapped SET */
	sock = WSASocketA(AF_INET, SOCK_STREAM, 0, NULL, 0,
			  WSA_FLAG_OVERLAPPED);
	r = ioctl_(sock, SET_REC, f.rec, sizeof(f.rec), NULL, 0, &ov, NULL);
	CHECK(r.err == WSA_IO_PENDING, "set pending: %d", r.err);
	CHECK(WSAWaitForMultipleEvents(1, &ev, TRUE, 5000, FALSE) ==
	      WSA_WAIT_EVENT_0, "event signalled");
	n = UNSET;
	CHECK(WSAGetOverlappedResult(sock, &ov, &n, FALSE, &flags) && n == 0,
	      "set completed: %d", WSAGetLastError());
	CHECK(!connect(sock, (struct sockaddr *)&f.orig, f.orig_len),
	      "connect");
	o = accept_timeout(f.origin, 3000);
	CHECK(o >= 0, "the records were set");

	/* an event that is not an event */
	ov.hEvent = (WSAEVENT)0x12345;
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "hEvent not an event: %d", r.err);
	if (o >= 0)
		close(o);
	closesocket(sock);
	WSACloseEvent(ev);
out:
	ws_end();
	flow_close(&f);
}

/* No event: WSAGetOverlappedResult(fWait) waits for the operation. */
void test_overlapped_wait(void)
{
	unsigned char buf[64];
	WSAOVERLAPPED ov = { 0 };
	DWORD n = 0, flags;
	struct flow f;
	struct res r;

	REQUIRE(flow_begin(&f), "setup");
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, NULL);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	CHECK(WSAGetOverlappedResult(f.a, &ov, &n, TRUE, &flags) &&
	      n == LWFP_RECORDS_LEN && !memcmp(buf, f.rec, n),
	      "waited: %d %u", WSAGetLastError(), n);
	/* polling while the worker completes: no status is ever lost */
	for (int i = 0, bad = 0; i < 500 && !bad; i++) {
		BOOL ok;

		memset(&ov, 0, sizeof(ov));
		r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, NULL);
		while (!(ok = WSAGetOverlappedResult(f.a, &ov, &n, FALSE,
						     &flags)) &&
		       WSAGetLastError() == WSA_IO_INCOMPLETE)
			;
		bad = r.err != WSA_IO_PENDING || !ok ||
		      n != LWFP_RECORDS_LEN;
		CHECK(!bad, "round %d: %d %d %u", i, r.err,
		      ok ? 0 : WSAGetLastError(), n);
	}
	CHECK(!WSAGetOverlappedResult(INVALID_SOCKET, &ov, &n, TRUE, &flags) &&
	      WSAGetLastError() == WSAENOTSOCK, "INVALID_SOCKET");
	CHECK(!WSAGetOverlappedResult(f.a, NULL, &n, TRUE, &flags) &&
	      WSAGetLastError() == WSAEFAULT, "NULL overlapped");
	CHECK(!WSAGetOverlappedResult(f.a, &ov, NULL, TRUE, &flags) &&
	      WSAGetLastError() == WSAEFAULT, "NULL lpcbTransfer");
	CHECK(!WSAGetOverlappedResult(f.a, &ov, &n, TRUE, NULL) &&
	      WSAGetLastError() == WSAEFAULT, "NULL lpdwFlags");
	ws_end();
	flow_close(&f);
}

void test_io_incomplete(void)
{
	unsigned char buf[64];
	WSAOVERLAPPED ov = { 0 };
	DWORD n = UNSET, flags;
	WSAEVENT ev;
	struct flow f;
	struct res r;

	REQUIRE(flow_begin(&f), "setup");
	ev = WSACreateEvent();
	ov.hEvent = ev;
	WSASetEvent(ev);	/* the operation resets it */
	lwfp_winsock_hold_completions(1);
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, NULL);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	CHECK(!WSAGetOverlappedResult(f.a, &ov, &n, FALSE, &flags) &&
	      WSAGetLastError() == WSA_IO_INCOMPLETE && n == UNSET,
	      "incomplete: %d", WSAGetLastError());
	CHECK(ov.Internal == STATUS_PENDING, "Internal %#lx",
	      (unsigned long)ov.Internal);
	CHECK(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE) ==
	      WSA_WAIT_TIMEOUT, "event not signalled while pending");
	lwfp_winsock_hold_completions(0);
	CHECK(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE) ==
	      WSA_WAIT_EVENT_0, "signalled once released");
	CHECK(WSAGetOverlappedResult(f.a, &ov, &n, FALSE, &flags) &&
	      n == LWFP_RECORDS_LEN, "complete: %u", n);
	WSACloseEvent(ev);
	ws_end();
	flow_close(&f);
}

void *alert_elsewhere(void *arg)
{
	struct alert_job *job = arg;

	job->ret = SleepEx(50, TRUE);
	return NULL;
}

void test_routine_sleepex(void)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN];
	WSAOVERLAPPED ov = { 0 };
	struct alert_job job;
	WSAEVENT never;
	DWORD needed;
	pthread_t th;
	struct flow f;
	struct res r;

	REQUIRE(flow_begin(&f), "setup");
	needed = native_context(f.a, NULL, 0);
	never = WSACreateEvent();
	seen_reset();
	ov.hEvent = (WSAEVENT)0x5eed;	/* the application's, with a routine */
	r = ioctl_(f.a, Q_CTX, NULL, 0, buf, sizeof(buf), &ov, routine);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSA_IO_PENDING, "pending: %d",
	      r.err);
	CHECK(wait_completed(f.a, &ov), "completed");
	/* complete, but the routine waits for an alertable wait */
	CHECK(SleepEx(0, FALSE) == 0 && SleepEx(5, FALSE) == 0 &&
	      seen.calls == 0, "not in a non-alertable SleepEx");
	CHECK(WSAWaitForMultipleEvents(1, &never, FALSE, 5, FALSE) ==
	      WSA_WAIT_TIMEOUT && seen.calls == 0,
	      "not in a non-alertable wait");
	pthread_create(&th, NULL, alert_elsewhere, &job);
	pthread_join(th, NULL);
	CHECK(job.ret == 0 && seen.calls == 0, "not on another thread");
	CHECK(SleepEx(5000, TRUE) == WAIT_IO_COMPLETION, "alertable SleepEx");
	CHECK(seen.calls == 1 && seen.error == 0 && seen.bytes == needed &&
	      seen.ov == &ov && seen.flags == 0 &&
	      pthread_equal(seen.thread, pthread_self()),
	      "routine: calls %d error %u bytes %u", seen.calls, seen.error,
	      seen.bytes);
	CHECK(ov.hEvent == (WSAEVENT)0x5eed, "hEvent left alone");
	CHECK(SleepEx(10, TRUE) == 0 && seen.calls == 1,
	      "nothing more queued: the time-out");
	WSACloseEvent(never);
	ws_end();
	flow_close(&f);
}

/* A routine may start the next operation: it is not inside a call. */
static struct {
	SOCKET s;
	WSAOVERLAPPED ov;
	unsigned char buf[64];
	int rc, err;
} chain;

void CALLBACK chain_routine(DWORD dwError, DWORD cbTransferred,
				   LPWSAOVERLAPPED lpOverlapped, DWORD dwFlags)
{
	DWORD n;

	routine(dwError, cbTransferred, lpOverlapped, dwFlags);
	memset(&chain.ov, 0, sizeof(chain.ov));
	chain.rc = WSAIoctl(chain.s, Q_REC, NULL, 0, chain.buf,
			    sizeof(chain.buf), &n, &chain.ov, routine);
	chain.err = chain.rc ? WSAGetLastError() : 0;
}

void test_routine_wait_events(void)
{
	unsigned char buf[64];
	WSAOVERLAPPED ov = { 0 };
	WSAEVENT never, set;
	struct flow f;
	struct res r;

	REQUIRE(flow_begin(&f), "setup");
	never = WSACreateEvent();
	set = WSACreateEvent();
	seen_reset();
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, routine);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	CHECK(wait_completed(f.a, &ov), "completed");
	/* a signalled event wins over the queued routine */
	WSASetEvent(set);
	CHECK(WSAWaitForMultipleEvents(1, &set, FALSE, 1000, TRUE) ==
	      WSA_WAIT_EVENT_0 && seen.calls == 0, "event first");
	CHECK(WSAWaitForMultipleEvents(1, &never, FALSE, 5000, TRUE) ==
	      WSA_WAIT_IO_COMPLETION, "alertable wait");
	CHECK(seen.calls == 1 && seen.error == 0 &&
	      seen.bytes == LWFP_RECORDS_LEN && seen.ov == &ov,
	      "routine: %d %u %u", seen.calls, seen.error, seen.bytes);
	CHECK(WSAWaitForMultipleEvents(1, &never, FALSE, 10, TRUE) ==
	      WSA_WAIT_TIMEOUT, "then the time-out");

	/* a routine that issues the next operation from inside */
	seen_reset();
	chain.s = f.a;
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, chain_routine);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	CHECK(WSAWaitForMultipleEvents(1, &never, FALSE, 5000, TRUE) ==
	      WSA_WAIT_IO_COMPLETION && seen.calls == 1, "first routine");
	CHECK(chain.rc == SOCKET_ERROR && chain.err == WSA_IO_PENDING,
	      "the next operation started from the routine: %d", chain.err);
	CHECK(SleepEx(5000, TRUE) == WAIT_IO_COMPLETION && seen.calls == 2 &&
	      seen.ov == &chain.ov && seen.bytes == LWFP_RECORDS_LEN,
	      "second routine: %d", seen.calls);
	WSACloseEvent(never);
	WSACloseEvent(set);
	ws_end();
	flow_close(&f);
}

void CALLBACK user_apc(DWORD_PTR ctx)
{
	*(int *)ctx += 1;
}

void stage_wait(struct spi_job *j, int stage)
{
	pthread_mutex_lock(&j->lock);
	while (j->stage < stage)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
}

void stage_set(struct spi_job *j, int stage)
{
	pthread_mutex_lock(&j->lock);
	j->stage = stage;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

void *spi_thread(void *arg)
{
	struct spi_job *j = arg;
	int err;

	WPUOpenCurrentThread(&j->tid, &err);
	stage_set(j, 1);
	stage_wait(j, 2);
	j->ret = SleepEx(5000, TRUE);
	j->close_rc = WPUCloseThread(&j->tid, &err);
	j->close_again_rc = WPUCloseThread(&j->tid, &j->close_again_err);
	return NULL;
}

void test_wspioctl_thread(void)
{
	unsigned char buf[64];
	struct spi_job j = { .lock = PTHREAD_MUTEX_INITIALIZER,
			     .cond = PTHREAD_COND_INITIALIZER };
	WSAOVERLAPPED ov = { 0 };
	WSATHREADID fake = { .ThreadHandle = (HANDLE)0x777 };
	struct flow f;
	pthread_t th;
	DWORD n = UNSET;
	int err = 0;

	REQUIRE(flow_begin(&f), "setup");
	seen_reset();
	pthread_create(&th, NULL, spi_thread, &j);
	stage_wait(&j, 1);
	CHECK(j.tid.ThreadHandle != NULL, "WPUOpenCurrentThread");
	CHECK(WSPIoctl(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &n, &ov,
		       routine, &j.tid, &err) == SOCKET_ERROR &&
	      err == WSA_IO_PENDING && n == 0, "pending: %d", err);
	CHECK(WPUQueueApc(&j.tid, user_apc, (DWORD_PTR)&j.apc_ctx, &err) == 0,
	      "WPUQueueApc");
	CHECK(wait_completed(f.a, &ov), "completed");
	CHECK(SleepEx(20, TRUE) == 0 && seen.calls == 0 && j.apc_ctx == 0,
	      "not on the issuing thread");
	stage_set(&j, 2);
	pthread_join(th, NULL);
	CHECK(j.ret == WAIT_IO_COMPLETION && seen.calls == 1 &&
	      pthread_equal(seen.thread, th) && seen.error == 0 &&
	      seen.bytes == LWFP_RECORDS_LEN && j.apc_ctx == 1,
	      "on the named thread: ret %u calls %d apc %d", j.ret,
	      seen.calls, j.apc_ctx);
	CHECK(j.close_rc == 0 && j.close_again_rc == SOCKET_ERROR &&
	      j.close_again_err == WSAEFAULT, "WPUCloseThread");
	CHECK(WSPIoctl(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &n, &ov,
		       routine, &fake, &err) == SOCKET_ERROR &&
	      err == WSAEFAULT, "a made-up thread: %d", err);
	CHECK(WSPIoctl(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &n, &ov,
		       routine, &j.tid, &err) == SOCKET_ERROR &&
	      err == WSAEFAULT, "a closed thread: %d", err);
	CHECK(WPUQueueApc(&fake, user_apc, 0, &err) == SOCKET_ERROR &&
	      err == WSAEFAULT, "WPUQueueApc to no thread");
	ws_end();
	flow_close(&f);
}

/* ---- aborts ----------------------------------------------------------- */

void test_abort_closesocket(void)
{
	unsigned char buf[64], zero[64] = { 0 };
	WSAOVERLAPPED ov = { 0 }, ov2 = { 0 };
	DWORD n = UNSET, flags;
	WSAEVENT ev;
	struct flow f;
	struct res r;
	int d, d2;

	REQUIRE(flow_begin(&f), "setup");
	d = dup(f.a);
	d2 = dup(f.a);
	ev = WSACreateEvent();
	ov.hEvent = ev;
	memset(buf, 0, sizeof(buf));
	seen_reset();
	lwfp_winsock_hold_completions(1);
	r = ioctl_(d, Q_REC, NULL, 0, buf, sizeof(buf), &ov, NULL);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	r = ioctl_(d2, Q_REC, NULL, 0, buf, sizeof(buf), &ov2, routine);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	CHECK(closesocket(d) == 0 && closesocket(d2) == 0, "closesocket");
	CHECK(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE) ==
	      WSA_WAIT_EVENT_0, "the event is set");
	CHECK(!WSAGetOverlappedResult(d, &ov, &n, FALSE, &flags) &&
	      WSAGetLastError() == WSA_OPERATION_ABORTED && n == UNSET,
	      "aborted: %d", WSAGetLastError());
	CHECK(ov.Internal == WSA_OPERATION_ABORTED, "Internal");
	CHECK(SleepEx(1000, TRUE) == WAIT_IO_COMPLETION && seen.calls == 1 &&
	      seen.error == WSA_OPERATION_ABORTED && seen.bytes == 0 &&
	      seen.ov == &ov2, "routine told: %u", seen.error);
	lwfp_winsock_hold_completions(0);
	/* an operation on another socket still completes; nothing is ever
	 * written for the aborted ones */
	r = ioctl_(f.a, Q_REC, NULL, 0, zero, 0, &ov2, NULL);
	CHECK(r.err == WSA_IO_PENDING && wait_completed(f.a, &ov2),
	      "the worker runs");
	CHECK(!memcmp(buf, zero, sizeof(buf)), "aborted: nothing written");
	WSACloseEvent(ev);
	ws_end();
	flow_close(&f);
}

void test_abort_flush(void)
{
	unsigned char buf[64], other[64];
	WSAOVERLAPPED ov = { 0 }, ov2 = { 0 }, ov3 = { 0 }, ovf = { 0 };
	DWORD n = UNSET, flags;
	WSAEVENT ev, evf;
	struct flow f;
	struct res r;
	int d;

	REQUIRE(flow_begin(&f), "setup");
	d = dup(f.a);
	ev = WSACreateEvent();
	evf = WSACreateEvent();
	ov.hEvent = ev;
	seen_reset();
	lwfp_winsock_hold_completions(1);
	r = ioctl_(f.a, Q_CTX, NULL, 0, buf, sizeof(buf), &ov, NULL);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov2, routine);
	CHECK(r.err == WSA_IO_PENDING, "pending: %d", r.err);
	r = ioctl_(d, Q_REC, NULL, 0, other, sizeof(other), &ov3, NULL);
	CHECK(r.err == WSA_IO_PENDING, "pending on another socket");

	r = ioctl_(f.a, SIO_FLUSH, NULL, 0, NULL, 0, NULL, NULL);
	CHECK(r.rc == 0 && r.bytes == 0, "SIO_FLUSH: %d", r.err);
	CHECK(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE) ==
	      WSA_WAIT_EVENT_0, "event set");
	CHECK(!WSAGetOverlappedResult(f.a, &ov, &n, FALSE, &flags) &&
	      WSAGetLastError() == WSA_OPERATION_ABORTED, "aborted: %d",
	      WSAGetLastError());
	CHECK(SleepEx(0, TRUE) == WAIT_IO_COMPLETION && seen.calls == 1 &&
	      seen.error == WSA_OPERATION_ABORTED, "routine told: %u",
	      seen.error);
	CHECK(!WSAGetOverlappedResult(d, &ov3, &n, FALSE, &flags) &&
	      WSAGetLastError() == WSA_IO_INCOMPLETE,
	      "the other socket's operation stays: %d", WSAGetLastError());

	/* an overlapped SIO_FLUSH completes at once, and says so */
	ovf.hEvent = evf;
	r = ioctl_(f.a, SIO_FLUSH, NULL, 0, NULL, 0, &ovf, NULL);
	CHECK(r.rc == 0 && WSAWaitForMultipleEvents(1, &evf, FALSE, 0, FALSE)
	      == WSA_WAIT_EVENT_0, "overlapped SIO_FLUSH: %d", r.err);

	lwfp_winsock_hold_completions(0);
	CHECK(WSAGetOverlappedResult(d, &ov3, &n, TRUE, &flags) &&
	      n == LWFP_RECORDS_LEN, "released: %u", n);
	closesocket(d);
	WSACloseEvent(ev);
	WSACloseEvent(evf);
	ws_end();
	flow_close(&f);
}

/* ---- sockets without the overlapped attribute ------------------------- */

void test_non_overlapped_socket(void)
{
	WSAOVERLAPPED ov = { 0 };
	WSAPROTOCOL_INFOA info = { .iAddressFamily = AF_INET,
				   .iSocketType = SOCK_STREAM,
				   .iProtocol = IPPROTO_TCP };
	WSAEVENT ev;
	struct flow f;
	struct res r;
	SOCKET s, t;
	int o, fd;

	REQUIRE(flow_begin(&f), "setup");
	ev = WSACreateEvent();
	ov.hEvent = ev;
	seen_reset();
	s = WSASocketA(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
		       FROM_PROTOCOL_INFO, &info, 0, 0);
	REQUIRE_OR(out, s != INVALID_SOCKET,
		   "WSASocketA from protocol info: %d", WSAGetLastError());
	/* lpOverlapped and the routine are ignored: a plain call */
	r = ioctl_(s, SET_REC, f.rec, sizeof(f.rec), NULL, 0, &ov, routine);
	CHECK(r.rc == 0 && r.bytes == 0, "synchronous: rc %d err %d", r.rc,
	      r.err);
	r = ioctl_(s, SET_REC, f.rec, sizeof(f.rec), NULL, 0,
		   (LPWSAOVERLAPPED)1, NULL);
	CHECK(r.rc == 0, "even a bad lpOverlapped is ignored: %d", r.err);
	CHECK(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, TRUE) ==
	      WSA_WAIT_TIMEOUT && seen.calls == 0,
	      "no event, no routine");
	CHECK(!connect(s, (struct sockaddr *)&f.orig, f.orig_len), "connect");
	o = accept_timeout(f.origin, 3000);
	CHECK(o >= 0, "the records were set");

	/* a descriptor number reused after close(): overlapped again */
	fd = (int)s;
	close(fd);
	t = socket(AF_INET, SOCK_STREAM, 0);
	CHECK((int)t == fd, "same number");
	r = ioctl_(t, SET_REC, f.rec, sizeof(f.rec), NULL, 0, &ov, NULL);
	CHECK(r.err == WSA_IO_PENDING, "overlapped: %d", r.err);
	CHECK(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE) ==
	      WSA_WAIT_EVENT_0, "completed");
	closesocket(t);

	/* WSASocket arguments */
	s = WSASocketW(AF_INET, SOCK_STREAM, 0, NULL, 1, 0);
	CHECK(s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL, "group");
	s = WSASocketW(AF_INET, SOCK_STREAM, 0, NULL, 0,
		       WSA_FLAG_MULTIPOINT_C_ROOT);
	CHECK(s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL,
	      "multipoint");
	s = WSASocketW(12345, SOCK_STREAM, 0, NULL, 0, 0);
	CHECK(s == INVALID_SOCKET && WSAGetLastError() == WSAEAFNOSUPPORT,
	      "family: %d", WSAGetLastError());
	s = WSASocketA(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
		       FROM_PROTOCOL_INFO, (LPWSAPROTOCOL_INFOA)1, 0, 0);
	CHECK(s == INVALID_SOCKET && WSAGetLastError() == WSAEFAULT,
	      "protocol info pointer");
	s = WSASocketW(AF_INET6, SOCK_STREAM, 0, NULL, 0,
		       WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
	CHECK(s != INVALID_SOCKET && (fcntl((int)s, F_GETFD) & FD_CLOEXEC),
	      "WSA_FLAG_NO_HANDLE_INHERIT");
	closesocket(s);
	if (o >= 0)
		close(o);
out:
	WSACloseEvent(ev);
	ws_end();
	flow_close(&f);
}

/* ---- events ------------------------------------------------------------ */

void *set_later(void *arg)
{
	SleepEx(20, FALSE);
	WSASetEvent(*(WSAEVENT *)arg);
	return NULL;
}

void test_events(void)
{
	WSAEVENT e[2], dup2_[2], many[WSA_MAXIMUM_WAIT_EVENTS + 1];
	struct timespec t0, t1;
	pthread_t th;
	long ms;

	REQUIRE(ws_begin(), "startup");
	e[0] = WSACreateEvent();
	e[1] = WSACreateEvent();
	REQUIRE(e[0] && e[1] && e[0] != e[1], "two events");
	CHECK(WSAWaitForMultipleEvents(2, e, FALSE, 0, FALSE) ==
	      WSA_WAIT_TIMEOUT, "created non-signalled");
	CHECK(WSASetEvent(e[1]), "set");
	CHECK(WSAWaitForMultipleEvents(2, e, FALSE, 0, FALSE) ==
	      WSA_WAIT_EVENT_0 + 1, "the second");
	CHECK(WSAWaitForMultipleEvents(2, e, FALSE, 0, FALSE) ==
	      WSA_WAIT_EVENT_0 + 1, "manual reset: still set");
	CHECK(WSAWaitForMultipleEvents(2, e, TRUE, 0, FALSE) ==
	      WSA_WAIT_TIMEOUT, "not all");
	CHECK(WSASetEvent(e[0]) && WSAWaitForMultipleEvents(2, e, TRUE, 0,
							    FALSE) ==
	      WSA_WAIT_EVENT_0, "all");
	CHECK(WSAWaitForMultipleEvents(2, e, FALSE, 0, FALSE) ==
	      WSA_WAIT_EVENT_0, "the lowest index");
	CHECK(WSAResetEvent(e[0]) && WSAResetEvent(e[1]) &&
	      WSAWaitForMultipleEvents(2, e, FALSE, 0, FALSE) ==
	      WSA_WAIT_TIMEOUT, "reset");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(WSAWaitForMultipleEvents(1, e, FALSE, 50, FALSE) ==
	      WSA_WAIT_TIMEOUT, "time-out");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 45 && ms < 2000, "waited %ld ms", ms);

	pthread_create(&th, NULL, set_later, &e[1]);
	CHECK(WSAWaitForMultipleEvents(2, e, FALSE, WSA_INFINITE, FALSE) ==
	      WSA_WAIT_EVENT_0 + 1, "set by another thread");
	pthread_join(th, NULL);

	dup2_[0] = dup2_[1] = e[0];
	CHECK(WSAWaitForMultipleEvents(2, dup2_, TRUE, 0, FALSE) ==
	      WSA_WAIT_FAILED && WSAGetLastError() == WSA_INVALID_PARAMETER,
	      "duplicates with fWaitAll");
	CHECK(WSAWaitForMultipleEvents(0, e, FALSE, 0, FALSE) ==
	      WSA_WAIT_FAILED && WSAGetLastError() == WSA_INVALID_PARAMETER,
	      "no events");
	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = e[0];
	CHECK(WSAWaitForMultipleEvents(ARRAY_SIZE(many), many, FALSE, 0,
				       FALSE) == WSA_WAIT_FAILED &&
	      WSAGetLastError() == WSA_INVALID_PARAMETER, "too many");
	CHECK(WSAWaitForMultipleEvents(1, NULL, FALSE, 0, FALSE) ==
	      WSA_WAIT_FAILED && WSAGetLastError() == WSAEFAULT, "NULL array");
	CHECK(WSACloseEvent(e[0]), "close");
	CHECK(!WSACloseEvent(e[0]) && WSAGetLastError() == WSA_INVALID_HANDLE,
	      "closed twice");
	CHECK(!WSASetEvent(e[0]) && WSAGetLastError() == WSA_INVALID_HANDLE,
	      "set a closed event");
	CHECK(WSAWaitForMultipleEvents(2, e, FALSE, 0, FALSE) ==
	      WSA_WAIT_FAILED && WSAGetLastError() == WSA_INVALID_HANDLE,
	      "wait on a closed event");
	CHECK(!WSASetEvent((WSAEVENT)0x4242) &&
	      WSAGetLastError() == WSA_INVALID_HANDLE, "made-up handle");
	CHECK(!WSAResetEvent(NULL) && WSAGetLastError() == WSA_INVALID_HANDLE,
	      "NULL handle");
	WSACloseEvent(e[1]);
	ws_end();
}

/* ---- WSAEINPROGRESS: a call while this thread is inside one ------------ */

int inprogress_seen;	/* atomic: set in a handler, read by poke */
pthread_t main_thread;

void on_usr1(int sig)
{
	int saved = errno;
	DWORD n;

	(void)sig;
	/* INVALID_SOCKET: outside a call, this fails at once, lock-free */
	if (WSAIoctl(INVALID_SOCKET, Q_REC, NULL, 0, NULL, 0, &n, NULL,
		     NULL) == SOCKET_ERROR &&
	    WSAGetLastError() == WSAEINPROGRESS)
		__atomic_store_n(&inprogress_seen, 1, __ATOMIC_RELAXED);
	errno = saved;
}

void *poke(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0;
	     i < 5000 && !__atomic_load_n(&inprogress_seen, __ATOMIC_RELAXED);
	     i++) {
		pthread_kill(main_thread, SIGUSR1);
		nanosleep(&ms, NULL);
	}
	WSASetEvent(*(WSAEVENT *)arg);
	return NULL;
}

void test_inprogress(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	WSAEVENT ev;
	pthread_t th;

	REQUIRE(ws_begin(), "startup");
	ev = WSACreateEvent();
	__atomic_store_n(&inprogress_seen, 0, __ATOMIC_RELAXED);
	main_thread = pthread_self();
	sigaction(SIGUSR1, &sa, &old);
	pthread_create(&th, NULL, poke, &ev);
	CHECK(WSAWaitForMultipleEvents(1, &ev, FALSE, 20000, FALSE) ==
	      WSA_WAIT_EVENT_0, "the wait ends");
	pthread_join(th, NULL);
	sigaction(SIGUSR1, &old, NULL);
	CHECK(__atomic_load_n(&inprogress_seen, __ATOMIC_RELAXED),
	      "a call from a signal handler during a wait fails with "
	      "WSAEINPROGRESS");
	WSACloseEvent(ev);
	ws_end();
}
