// SPDX-License-Identifier: MIT
/* The control codes: startup, queries, buffer rules, the engine, SET, WSAEFAULT, the last error, WSPIoctl. */
#include "ws_test.h"

/* ---- startup ------------------------------------------------------- */

void test_startup(void)
{
	WSADATA d;
	DWORD n = UNSET;
	int p[2];

	CHECK(pipe(p) == 0, "pipe");
	WSASetLastError(0);
	CHECK(WSAIoctl(p[0], Q_REC, NULL, 0, NULL, 0, &n, NULL, NULL) ==
	      SOCKET_ERROR && WSAGetLastError() == WSANOTINITIALISED,
	      "before WSAStartup: %d", WSAGetLastError());
	CHECK(WSACreateEvent() == WSA_INVALID_EVENT &&
	      WSAGetLastError() == WSANOTINITIALISED, "event before startup");
	CHECK(closesocket(p[0]) == SOCKET_ERROR &&
	      WSAGetLastError() == WSANOTINITIALISED, "closesocket before");
	CHECK(WSACleanup() == SOCKET_ERROR &&
	      WSAGetLastError() == WSANOTINITIALISED, "cleanup before");
	CHECK(WSAStartup(MAKEWORD(2, 2), NULL) == WSAEFAULT, "NULL data");
	CHECK(WSAStartup(MAKEWORD(2, 2), (LPWSADATA)1) == WSAEFAULT,
	      "bad data pointer");
	CHECK(WSAStartup(MAKEWORD(0, 9), &d) == WSAVERNOTSUPPORTED,
	      "version 0.9");
	CHECK(WSACleanup() == SOCKET_ERROR, "a failed startup does not count");

	CHECK(WSAStartup(MAKEWORD(2, 2), &d) == 0 &&
	      d.wVersion == MAKEWORD(2, 2) && d.wHighVersion == MAKEWORD(2, 2),
	      "2.2: %#x %#x", d.wVersion, d.wHighVersion);
	CHECK(strstr(d.szDescription, "lwfp") && !strcmp(d.szSystemStatus,
							 "Running"),
	      "description");
	CHECK(WSAStartup(MAKEWORD(1, 1), &d) == 0 &&
	      d.wVersion == MAKEWORD(1, 1), "1.1: %#x", d.wVersion);
	CHECK(WSAStartup(MAKEWORD(3, 0), &d) == 0 &&
	      d.wVersion == MAKEWORD(2, 2), "3.0 gets 2.2: %#x", d.wVersion);
	/* three sessions open: three cleanups, the fourth fails */
	CHECK(WSACleanup() == 0 && WSACleanup() == 0, "cleanups");
	CHECK(WSAIoctl(p[0], Q_REC, NULL, 0, NULL, 0, &n, NULL, NULL) ==
	      SOCKET_ERROR && WSAGetLastError() == WSAENOTSOCK,
	      "still initialised: %d", WSAGetLastError());
	CHECK(WSACleanup() == 0, "last cleanup");
	CHECK(WSACleanup() == SOCKET_ERROR &&
	      WSAGetLastError() == WSANOTINITIALISED, "one cleanup too many");
	CHECK(WSAIoctl(p[0], Q_REC, NULL, 0, NULL, 0, &n, NULL, NULL) ==
	      SOCKET_ERROR && WSAGetLastError() == WSANOTINITIALISED,
	      "after the last cleanup");
	close(p[0]);
	close(p[1]);
}

/* ---- the queries --------------------------------------------------- */

void test_query_success(void)
{
	unsigned char rec[1024], blob[LWFP_CONTEXT_MAX_LEN];
	unsigned char want[LWFP_CONTEXT_MAX_LEN];
	struct lwfp_context got, ref;
	struct flow f;
	struct res r;
	size_t want_len;

	REQUIRE(flow_begin(&f), "setup");
	r = query(f.a, Q_REC, rec, sizeof(rec));
	CHECK(r.rc == 0 && r.bytes == LWFP_RECORDS_LEN &&
	      !memcmp(rec, f.rec, LWFP_RECORDS_LEN),
	      "records: rc %d err %d bytes %u", r.rc, r.err, r.bytes);

	r = query(f.a, Q_CTX, blob, sizeof(blob));
	want_len = native_context(f.a, want, sizeof(want));
	CHECK(r.rc == 0 && r.bytes > 0 && r.bytes == want_len,
	      "context: rc %d err %d bytes %u, want %zu", r.rc, r.err,
	      r.bytes, want_len);
	REQUIRE_OR(out, !lwfp_context_decode(blob, r.bytes, &got) &&
		   !lwfp_context_decode(want, want_len, &ref), "decode");
	CHECK(got.pid == (uint32_t)f.client && !strcmp(got.comm, "ws-client") &&
	      got.rule_id == ref.rule_id && !strcmp(got.service, "svc") &&
	      addr_port(&got.orig_dst) == f.orig_port &&
	      got.rule_context_len == strlen(rule_ctx) &&
	      !memcmp(got.rule_context, rule_ctx, strlen(rule_ctx)),
	      "context fields: pid %u comm %s", got.pid, got.comm);

	/* the input buffer is not used by the queries */
	r = ioctl_(f.a, Q_REC, (void *)1, 12345, rec, sizeof(rec), NULL,
		   NULL);
	CHECK(r.rc == 0 && r.bytes == LWFP_RECORDS_LEN,
	      "lpvInBuffer ignored: %d", r.err);
out:
	ws_end();
	flow_close(&f);
}

/* The buffer-size resolution of docs/winsock.md, both codes. */
void size_rules(SOCKET s, DWORD code, DWORD needed, const char *what)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN];
	struct res r;

	r = query(s, code, NULL, 0);
	CHECK(r.rc == SOCKET_ERROR && r.err == ERROR_INSUFFICIENT_BUFFER &&
	      r.bytes == needed, "%s size query: err %d bytes %u want %u",
	      what, r.err, r.bytes, needed);
	r = query(s, code, buf, 0);
	CHECK(r.rc == SOCKET_ERROR && r.err == ERROR_INSUFFICIENT_BUFFER &&
	      r.bytes == needed, "%s size query with a buffer: %d %u", what,
	      r.err, r.bytes);
	for (DWORD cb = 1; cb < sizeof(ULONG); cb++) {
		r = query(s, code, buf, cb);
		CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL &&
		      r.bytes == 0, "%s cb %u: err %d bytes %u", what, cb,
		      r.err, r.bytes);
	}
	r = query(s, code, buf, sizeof(ULONG));
	CHECK(r.rc == SOCKET_ERROR && r.err == ERROR_INSUFFICIENT_BUFFER &&
	      r.bytes == needed, "%s cb 4: err %d bytes %u", what, r.err,
	      r.bytes);
	r = query(s, code, buf, needed - 1);
	CHECK(r.rc == SOCKET_ERROR && r.err == ERROR_INSUFFICIENT_BUFFER &&
	      r.bytes == needed, "%s cb needed-1: err %d bytes %u", what,
	      r.err, r.bytes);
	r = query(s, code, buf, needed);
	CHECK(r.rc == 0 && r.bytes == needed, "%s cb needed: rc %d err %d "
	      "bytes %u", what, r.rc, r.err, r.bytes);
}

void test_buffer_sizes(void)
{
	struct flow f;
	DWORD ctx_len;

	REQUIRE(flow_begin(&f), "setup");
	ctx_len = native_context(f.a, NULL, 0);
	CHECK(ctx_len > sizeof(ULONG), "context size %u", ctx_len);
	size_rules(f.a, Q_REC, LWFP_RECORDS_LEN, "records");
	size_rules(f.a, Q_CTX, ctx_len, "context");
	ws_end();
	flow_close(&f);
}

/* Not redirected, unknown control codes: WSAEINVAL. */
void test_invalid(void)
{
	unsigned char buf[256];
	static const DWORD codes[] = { 0, 0x980000DF, _WSAIOW(IOC_VENDOR, 219),
				       _WSAIOR(IOC_WS2, 4), 0xFFFFFFFF };
	struct flow f;
	struct res r;
	int direct, d;

	REQUIRE(flow_begin(&f), "setup");
	/* a connection straight to the service: never redirected */
	direct = connect_to(AF_INET, "127.0.0.1", f.svc_port);
	d = accept_timeout(f.lfd, 5000);
	REQUIRE_OR(out, direct >= 0 && d >= 0, "direct connection");
	r = query(d, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL && r.bytes == 0,
	      "records of an unredirected socket: %d", r.err);
	r = query(d, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL && r.bytes == 0,
	      "context of an unredirected socket: %d", r.err);
	r = query(d, Q_CTX, NULL, 0);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "size query on an unredirected socket: %d", r.err);
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		r = query(f.a, codes[i], buf, sizeof(buf));
		CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL &&
		      r.bytes == 0, "code %#x: %d", codes[i], r.err);
	}
out:
	if (d >= 0)
		close(d);
	if (direct >= 0)
		close(direct);
	ws_end();
	flow_close(&f);
}

void test_not_socket(void)
{
	unsigned char buf[64], rec[LWFP_RECORDS_LEN] = { 0 };
	int p[2], file = open("/dev/null", O_RDONLY), gone;
	struct res r;

	REQUIRE(ws_begin() && pipe(p) == 0 && file >= 0, "setup");
	gone = dup(file);
	close(gone);
	r = query(p[0], Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTSOCK && r.bytes == 0,
	      "pipe: %d", r.err);
	r = query(file, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTSOCK, "file: %d", r.err);
	r = query(gone, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTSOCK,
	      "descriptor not open: %d", r.err);
	r = query(INVALID_SOCKET, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTSOCK,
	      "INVALID_SOCKET: %d", r.err);
	r = ioctl_(p[1], SET_REC, rec, sizeof(rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTSOCK, "SET on a pipe");
	r = ioctl_(p[1], SIO_FLUSH, NULL, 0, NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTSOCK, "SIO_FLUSH");
	CHECK(closesocket(p[0]) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOTSOCK, "closesocket on a pipe");
	CHECK(fcntl(p[0], F_GETFD) >= 0, "... leaves it open");
	close(p[0]);
	close(p[1]);
	close(file);
	ws_end();
}

void test_not_connected(void)
{
	unsigned char buf[64];
	uint16_t port;
	int u = socket(AF_INET, SOCK_STREAM, 0), l;
	struct res r;

	REQUIRE(ws_begin() && u >= 0, "setup");
	l = listen_on("127.0.0.1", &port);
	r = query(u, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTCONN && r.bytes == 0,
	      "records: %d", r.err);
	r = query(u, Q_CTX, NULL, 0);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTCONN,
	      "context size query: %d", r.err);
	r = query(l, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTCONN,
	      "listening socket: %d", r.err);
	close(u);
	close(l);
	ws_end();
}

/* TCP and UDP over IP are what the codes apply to. Other types: not
 * applicable (WSAEINVAL). A stream or datagram socket that is not TCP or
 * UDP: the option is not supported on that protocol. */
void test_socket_kinds(void)
{
	unsigned char buf[64], rec[LWFP_RECORDS_LEN] = { 0 };
	int udp = socket(AF_INET, SOCK_DGRAM, 0), sp[2], sq[2], ud[2];
	struct res r;

	REQUIRE(ws_begin() && udp >= 0 &&
		!socketpair(AF_UNIX, SOCK_STREAM, 0, sp) &&
		!socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq) &&
		!socketpair(AF_UNIX, SOCK_DGRAM, 0, ud), "setup");
	r = query(udp, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTCONN,
	      "unconnected UDP query: %d", r.err);
	r = ioctl_(udp, SET_REC, rec, sizeof(rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "UDP set, not records of the engine: %d", r.err);
	r = query(sq[0], Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "SOCK_SEQPACKET query: %d", r.err);
	r = ioctl_(sq[0], SET_REC, rec, sizeof(rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "SOCK_SEQPACKET set: %d", r.err);
	r = query(sp[0], Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOPROTOOPT,
	      "AF_UNIX stream query: %d", r.err);
	r = ioctl_(sp[0], SET_REC, rec, sizeof(rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOPROTOOPT,
	      "AF_UNIX stream set: %d", r.err);
	r = query(ud[0], Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOPROTOOPT,
	      "AF_UNIX datagram query: %d", r.err);
	close(udp);
	for (int i = 0; i < 2; i++) {
		close(sp[i]);
		close(sq[i]);
		close(ud[i]);
	}
	ws_end();
}

/* ---- the engine ----------------------------------------------------- */

int no_engine_child(const char *empty, int fd)
{
	unsigned char buf[64];
	WSADATA d;
	struct res r;

	setenv(LWFP_PIN_DIR_ENV, empty, 1);
	if (WSAStartup(MAKEWORD(2, 2), &d))
		return 10;
	r = query(fd, Q_REC, buf, sizeof(buf));
	if (r.rc != SOCKET_ERROR || r.err != WSAEOPNOTSUPP)
		return 11;
	WSACleanup();
	return 0;
}

void test_engine_not_loaded(void)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN];
	char empty[] = "/tmp/lwfp-ws-empty-XXXXXX";
	struct flow f;
	struct res r;
	WSADATA d;
	pid_t pid;
	int s;

	REQUIRE(flow_open(&f), "setup");
	REQUIRE_OR(abort, mkdtemp(empty), "temporary directory");
	/* a fresh process */
	pid = fork();
	if (pid == 0)
		_exit(no_engine_child(empty, f.a));
	CHECK(client_wait(pid) == 0, "fresh process: WSAEOPNOTSUPP");

	/* and a session of this one */
	setenv(LWFP_PIN_DIR_ENV, empty, 1);
	REQUIRE_OR(out, WSAStartup(MAKEWORD(2, 2), &d) == 0, "startup");
	r = query(f.a, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEOPNOTSUPP && r.bytes == 0,
	      "query: %d", r.err);
	r = query(f.a, Q_REC, NULL, 0);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEOPNOTSUPP,
	      "size query: %d", r.err);
	s = socket(AF_INET, SOCK_STREAM, 0);
	r = ioctl_(s, SET_REC, f.rec, sizeof(f.rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEOPNOTSUPP, "set: %d",
	      r.err);
	close(s);
	CHECK(WSACleanup() == 0, "cleanup");

	/* the engine is found again by the next session */
	REQUIRE_OR(out, ws_begin(), "startup");
	r = query(f.a, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == 0 && r.bytes > 0, "engine back: %d", r.err);
out:
	ws_end();
	rmdir(empty);
	flow_close(&f);
	return;
abort:
	flow_abort(&f);
}

int eacces_child(const unsigned char *rec, int accepted)
{
	unsigned char buf[64];
	WSADATA d;
	struct res r;
	int s;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return 10;
	setenv(LWFP_PIN_DIR_ENV, env.pin_dir, 1);
	if (WSAStartup(MAKEWORD(2, 2), &d))
		return 11;
	s = socket(AF_INET, SOCK_STREAM, 0);
	r = ioctl_(s, SET_REC, (void *)rec, LWFP_RECORDS_LEN, NULL, 0, NULL,
		   NULL);
	if (r.rc != SOCKET_ERROR || r.err != WSAEACCES)
		return 12;
	r = query(accepted, Q_REC, buf, sizeof(buf));
	if (r.rc != SOCKET_ERROR || r.err != WSAEACCES)
		return 13;
	closesocket(s);
	WSACleanup();
	return 0;
}

/* SET (and the queries) without the right to use the engine. */
void test_no_permission(void)
{
	struct flow f;
	pid_t pid;
	int rc;

	REQUIRE(flow_open(&f), "setup");
	pid = fork();
	if (pid == 0)
		_exit(eacces_child(f.rec, f.a));
	rc = client_wait(pid);
	CHECK(rc == 0, "uid 65534 must get WSAEACCES (child exit %d)", rc);
	flow_close(&f);
}

/* ---- SET ----------------------------------------------------------- */

void test_set_records(void)
{
	unsigned char junk[LWFP_RECORDS_LEN];
	struct flow f;
	struct res r;
	SOCKET out, loop;
	int o, again;

	REQUIRE(flow_begin(&f), "setup");
	out = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
			 WSA_FLAG_OVERLAPPED);
	REQUIRE_OR(done, out != INVALID_SOCKET, "WSASocketW");
	r = ioctl_(out, SET_REC, f.rec, sizeof(f.rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == 0 && r.bytes == 0, "set: rc %d err %d bytes %u", r.rc,
	      r.err, r.bytes);
	CHECK(!connect(out, (struct sockaddr *)&f.orig, f.orig_len),
	      "connect");
	o = accept_timeout(f.origin, 3000);
	CHECK(o >= 0, "with records the connect reaches the origin");
	r = ioctl_(out, SET_REC, f.rec, sizeof(f.rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEISCONN,
	      "set on a connected socket: %d", r.err);

	/* without records the same connect comes back to the service */
	loop = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!connect(loop, (struct sockaddr *)&f.orig, f.orig_len),
	      "connect without records");
	again = accept_timeout(f.lfd, 3000);
	CHECK(again >= 0, "without records the connect loops back");

	memset(junk, 1, sizeof(junk));
	closesocket(loop);
	loop = socket(AF_INET, SOCK_STREAM, 0);
	r = ioctl_(loop, SET_REC, junk, sizeof(junk), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL, "junk records: %d",
	      r.err);
	r = ioctl_(loop, SET_REC, f.rec, sizeof(f.rec) - 1, NULL, 0, NULL,
		   NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL, "short records: %d",
	      r.err);
	r = ioctl_(loop, SET_REC, NULL, 0, NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL, "no records: %d",
	      r.err);
	r = ioctl_(loop, SET_REC, f.rec, sizeof(f.rec), junk, 4, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "cbOutBuffer must be 0: %d", r.err);
	r = ioctl_(f.lfd, SET_REC, f.rec, sizeof(f.rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "set on a listening socket: %d", r.err);
	closesocket(loop);
	if (again >= 0)
		close(again);
	if (o >= 0)
		close(o);
	closesocket(out);
done:
	ws_end();
	flow_close(&f);
}

/* ---- WSAEFAULT ------------------------------------------------------ */

void test_efault(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *g = guard_pages(), buf[LWFP_CONTEXT_MAX_LEN];
	unsigned char *none, *ro;
	WSAOVERLAPPED ov = { 0 };
	struct flow f;
	struct res r;
	DWORD n;
	int err;
	void *const bad[] = { NULL, (void *)1 };
	LPWSAOVERLAPPED_COMPLETION_ROUTINE bad_cr;

	REQUIRE(g, "mmap");
	if (!flow_begin(&f)) {
		CHECK(false, "setup");
		guard_free(g);
		return;
	}
	none = g + ps;
	ro = g + 2 * ps;

	/* lpvOutBuffer */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = query(f.a, Q_CTX, bad[i], 64);
		CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT &&
		      r.bytes == 0, "out %p: %d", bad[i], r.err);
	}
	r = query(f.a, Q_REC, none, 64);
	CHECK(r.err == WSAEFAULT, "out in a PROT_NONE page: %d", r.err);
	r = query(f.a, Q_REC, ro, 64);
	CHECK(r.err == WSAEFAULT, "out in a read-only page: %d", r.err);
	r = query(f.a, Q_REC, none - 16, 64);
	CHECK(r.err == WSAEFAULT, "out running into a PROT_NONE page: %d",
	      r.err);
	r = query(f.a, Q_REC, none - LWFP_RECORDS_LEN, LWFP_RECORDS_LEN);
	CHECK(r.rc == 0 && r.bytes == LWFP_RECORDS_LEN,
	      "out ending right before the page: %d", r.err);
	r = query(f.a, Q_REC, none, 0);
	CHECK(r.err == ERROR_INSUFFICIENT_BUFFER,
	      "a size query does not look at the buffer: %d", r.err);

	/* lpcbBytesReturned */
	void *const bad_n[] = { NULL, (void *)1, none, ro };

	for (size_t i = 0; i < ARRAY_SIZE(bad_n); i++) {
		WSASetLastError(0);
		CHECK(WSAIoctl(f.a, Q_REC, NULL, 0, buf, sizeof(buf), bad_n[i],
			       NULL, NULL) == SOCKET_ERROR &&
		      WSAGetLastError() == WSAEFAULT,
		      "lpcbBytesReturned %p: %d", bad_n[i], WSAGetLastError());
	}

	/* lpOverlapped, on an overlapped socket */
	void *const bad_ov[] = { (void *)1, none, ro, none - 8 };

	for (size_t i = 0; i < ARRAY_SIZE(bad_ov); i++) {
		r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), bad_ov[i],
			   NULL);
		CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT,
		      "lpOverlapped %p: %d", bad_ov[i], r.err);
	}

	/* lpCompletionRoutine */
	bad_cr = (LPWSAOVERLAPPED_COMPLETION_ROUTINE)(uintptr_t)1;
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, bad_cr);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT, "routine 1: %d",
	      r.err);
	bad_cr = (LPWSAOVERLAPPED_COMPLETION_ROUTINE)(uintptr_t)none;
	r = ioctl_(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &ov, bad_cr);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT,
	      "routine in a PROT_NONE page: %d", r.err);

	/* lpvInBuffer of SET */
	{
		SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
		void *const bad_in[] = { NULL, (void *)1, none,
					 none - LWFP_RECORDS_LEN / 2 };

		for (size_t i = 0; i < ARRAY_SIZE(bad_in); i++) {
			r = ioctl_(s, SET_REC, bad_in[i], LWFP_RECORDS_LEN,
				   NULL, 0, NULL, NULL);
			CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT,
			      "lpvInBuffer %p: %d", bad_in[i], r.err);
		}
		closesocket(s);
	}

	/* WSPIoctl: lpThreadId for a completion routine */
	err = 0;
	CHECK(WSPIoctl(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &n, &ov, routine,
		       (LPWSATHREADID)none, &err) == SOCKET_ERROR &&
	      err == WSAEFAULT, "lpThreadId in a PROT_NONE page: %d", err);

	/* after all that, the socket still answers */
	r = query(f.a, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == 0 && r.bytes == LWFP_RECORDS_LEN, "still fine");
	guard_free(g);
	ws_end();
	flow_close(&f);
}

/* ---- last error ----------------------------------------------------- */

pthread_barrier_t barrier;

void *last_error_thread(void *arg)
{
	int *result = arg, p[2];
	DWORD n;

	if (pipe(p))
		return NULL;
	WSAIoctl(p[0], Q_REC, NULL, 0, NULL, 0, &n, NULL, NULL);
	pthread_barrier_wait(&barrier);		/* main sets its own */
	pthread_barrier_wait(&barrier);
	*result = WSAGetLastError();
	close(p[0]);
	close(p[1]);
	return NULL;
}

void test_last_error(void)
{
	pthread_t th;
	int other = 0, fd;
	uint16_t port = unused_port("127.0.0.1");

	REQUIRE(ws_begin(), "startup");
	pthread_barrier_init(&barrier, NULL, 2);
	pthread_create(&th, NULL, last_error_thread, &other);
	pthread_barrier_wait(&barrier);
	WSASetLastError(WSA_IO_PENDING);
	pthread_barrier_wait(&barrier);
	pthread_join(th, NULL);
	CHECK(WSAGetLastError() == WSA_IO_PENDING, "this thread's: %d",
	      WSAGetLastError());
	CHECK(other == WSAENOTSOCK, "the other thread's: %d", other);
	pthread_barrier_destroy(&barrier);

	/* stdio in between does not lose it */
	WSASetLastError(WSAEOPNOTSUPP);
	printf("# stdio between a failure and WSAGetLastError()\n");
	CHECK(WSAGetLastError() == WSAEOPNOTSUPP, "after printf: %d",
	      WSAGetLastError());
	/* a POSIX socket call that failed since is the last error */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_storage ss;
		socklen_t len = make_addr(&ss, "127.0.0.1", port);

		CHECK(connect(fd, (struct sockaddr *)&ss, len) ==
		      SOCKET_ERROR && WSAGetLastError() == WSAECONNREFUSED,
		      "refused connect: %d", WSAGetLastError());
	}
	close(fd);
	WSASetLastError(0);
	CHECK(WSAGetLastError() == 0, "set to 0");
	ws_end();
}

/* ---- WSPIoctl -------------------------------------------------------- */

void test_wspioctl_errors(void)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN];
	struct flow f;
	DWORD n;
	int err, p[2];

	REQUIRE(flow_begin(&f), "setup");
	REQUIRE_OR(out, !pipe(p), "pipe");
	WSASetLastError(4242);
	err = 0;
	CHECK(WSPIoctl(p[0], Q_REC, NULL, 0, buf, sizeof(buf), &n, NULL, NULL,
		       NULL, &err) == SOCKET_ERROR && err == WSAENOTSOCK,
	      "not a socket: %d", err);
	CHECK(WSPIoctl(f.a, 0x1234, NULL, 0, buf, sizeof(buf), &n, NULL, NULL,
		       NULL, &err) == SOCKET_ERROR && err == WSAEINVAL,
	      "unknown code: %d", err);
	CHECK(WSPIoctl(f.a, Q_CTX, NULL, 0, NULL, 0, &n, NULL, NULL, NULL,
		       &err) == SOCKET_ERROR &&
	      err == ERROR_INSUFFICIENT_BUFFER && n > 0,
	      "size query: %d %u", err, n);
	CHECK(WSPIoctl(f.a, Q_CTX, NULL, 0, buf, 2, &n, NULL, NULL, NULL,
		       &err) == SOCKET_ERROR && err == WSAEINVAL && n == 0,
	      "cb 2: %d %u", err, n);
	CHECK(WSPIoctl(f.a, Q_REC, NULL, 0, buf, sizeof(buf), NULL, NULL,
		       NULL, NULL, &err) == SOCKET_ERROR && err == WSAEFAULT,
	      "lpcbBytesReturned NULL: %d", err);
	CHECK(WSAGetLastError() == 4242,
	      "WSPIoctl leaves the last error alone: %d", WSAGetLastError());
	err = 77;
	CHECK(WSPIoctl(f.a, Q_REC, NULL, 0, buf, sizeof(buf), &n, NULL, NULL,
		       NULL, &err) == 0 && n == LWFP_RECORDS_LEN && err == 77,
	      "success: %u, *lpErrno untouched", n);
	/* nowhere to report: fails without writing */
	CHECK(WSPIoctl(p[0], Q_REC, NULL, 0, buf, sizeof(buf), &n, NULL, NULL,
		       NULL, NULL) == SOCKET_ERROR, "lpErrno NULL");
	CHECK(WSPIoctl(p[0], Q_REC, NULL, 0, buf, sizeof(buf), &n, NULL, NULL,
		       NULL, (LPINT)1) == SOCKET_ERROR, "lpErrno 1");
	close(p[0]);
	close(p[1]);
out:
	ws_end();
	flow_close(&f);
}
