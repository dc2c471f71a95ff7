// SPDX-License-Identifier: MIT
/*
 * The Winsock layer against a real engine: WSAIoctl and WSPIoctl with the
 * WFP redirect control codes, every documented error, overlapped
 * completion (event, completion routine in alertable waits, on the thread
 * a WSATHREADID names, WSAGetOverlappedResult), aborts by closesocket()
 * and SIO_FLUSH, build/examples/winsock-proxy as the redirect service
 * of a real client, and UDP: setsockopt(IP_WFP_REDIRECT_*), WSARecvMsg's
 * control messages, WSASendMsg with the records, the codes on UDP, and
 * build/examples/winsock-udp-proxy as the UDP service of a real client.
 */
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <time.h>

#include "harness.h"

#include <winsock2.h>
#include <ws2spi.h>
#include <mstcpip.h>
#include <mswsock.h>

#include "../../src/winsock/testhooks.h"

#define Q_REC	SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS
#define Q_CTX	SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT
#define SET_REC	SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS
#define UNSET	0xdeadbeefu
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Fatal in a test that has something to clean up: go there. */
#define REQUIRE_OR(label, cond, ...)                                       \
	do {                                                               \
		bool ok_ = (cond);                                         \
		CHECK(ok_ && #cond, __VA_ARGS__);                          \
		if (!ok_)                                                  \
			goto label;                                        \
	} while (0)

static const char rule_ctx[] = "tenant=blue; policy=inspect";

/* ---- helpers ------------------------------------------------------- */

static int thread_count(void);
static int threads_before;

static bool ws_begin(void)
{
	WSADATA d;

	threads_before = thread_count();
	setenv(LWFP_PIN_DIR_ENV, env.pin_dir, 1);
	return WSAStartup(MAKEWORD(2, 2), &d) == 0;
}

static int thread_count(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* The last WSACleanup joins the worker: no thread is left behind. */
static void ws_end(void)
{
	int n;

	lwfp_winsock_hold_completions(0);
	while (WSACleanup() == 0)
		;
	unsetenv(LWFP_PIN_DIR_ENV);
	n = thread_count();
	CHECK(n == threads_before, "%d threads after WSACleanup, %d before",
	      n, threads_before);
}

struct res {
	int rc;
	int err;
	DWORD bytes;
};

static struct res ioctl_(SOCKET s, DWORD code, void *in, DWORD in_len,
			 void *out, DWORD out_len, LPWSAOVERLAPPED ov,
			 LPWSAOVERLAPPED_COMPLETION_ROUTINE cr)
{
	struct res r = { .bytes = UNSET };

	WSASetLastError(0);
	r.rc = WSAIoctl(s, code, in, in_len, out, out_len, &r.bytes, ov, cr);
	r.err = r.rc ? WSAGetLastError() : 0;
	return r;
}

static struct res query(SOCKET s, DWORD code, void *out, DWORD out_len)
{
	return ioctl_(s, code, NULL, 0, out, out_len, NULL, NULL);
}

/*
 * A redirected flow: a service (this process, not exempt: its own
 * connects to the original destination loop back unless they carry
 * records), a rule for 127.0.0.1:orig_port, an origin listening there,
 * and a client in our "app" cgroup that connected, sent "hold" and
 * waits for "bye".
 */
struct flow {
	int lfd, origin, a;
	uint16_t svc_port, orig_port;
	pid_t client;
	struct sockaddr_storage orig;
	socklen_t orig_len;
	unsigned char rec[LWFP_RECORDS_LEN];
};

static bool flow_setup(struct flow *f)
{
	char listen[32], dport[8];
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .comm = "ws-client",
			    .send = "hold", .expect = "bye" };
	struct lwfp *native;
	size_t len = sizeof(f->rec);

	memset(f, 0, sizeof(*f));
	f->a = -1;
	f->origin = listen_on("127.0.0.1", &f->orig_port);
	f->lfd = listen_on("127.0.0.1", &f->svc_port);
	f->orig_len = make_addr(&f->orig, "127.0.0.1", f->orig_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", f->svc_port);
	snprintf(dport, sizeof(dport), "%u", f->orig_port);
	if (lwfp_run("service", "add", "svc", "--listen", listen, NULL) ||
	    lwfp_run("rule", "add", "--service", "svc", "--dst",
		     "127.0.0.1/32", "--dport", dport, "--context", rule_ctx,
		     NULL))
		return false;
	c.port = f->orig_port;
	f->client = client_start(&c);
	f->a = accept_timeout(f->lfd, 5000);
	if (f->a < 0 || lwfp_open(env.pin_dir, &native))
		return false;
	/* the records, the native way, for the SET tests */
	len = lwfp_query_records(native, f->a, f->rec, &len);
	lwfp_close(native);
	return len == 0;
}

/* A setup that failed half-way: stop our client, close our sockets. */
static void flow_abort(struct flow *f)
{
	if (f->client > 0) {
		kill(f->client, SIGKILL);
		waitpid(f->client, NULL, 0);
	}
	if (f->a >= 0)
		close(f->a);
	close(f->lfd);
	close(f->origin);
}

static bool flow_open(struct flow *f)
{
	if (flow_setup(f))
		return true;
	flow_abort(f);
	return false;
}

/* A flow and a session, or neither. */
static bool flow_begin(struct flow *f)
{
	if (!flow_open(f))
		return false;
	if (ws_begin())
		return true;
	ws_end();
	flow_abort(f);
	return false;
}

static void flow_close(struct flow *f)
{
	int rc;

	if (f->a >= 0) {
		CHECK(write(f->a, "bye", 3) == 3, "reply to the client");
		close(f->a);
	}
	if (f->client > 0) {
		rc = client_wait(f->client);
		CHECK(rc == 0, "client exit %d", rc);
	}
	close(f->lfd);
	close(f->origin);
}

/* The size of the context, the native way. */
static size_t native_context(int fd, void *buf, size_t cap)
{
	struct lwfp *native;
	size_t len = cap;

	if (lwfp_open(env.pin_dir, &native))
		return 0;
	/* with buf NULL, a size query: -ERANGE and the size */
	if (lwfp_query_context(native, fd, buf, &len) && buf)
		len = 0;
	lwfp_close(native);
	return len;
}

/* Three pages: read-write, no access, read-only. */
static unsigned char *guard_pages(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *p = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	mprotect(p + ps, ps, PROT_NONE);
	mprotect(p + 2 * ps, ps, PROT_READ);
	return p;
}

static void guard_free(unsigned char *p)
{
	munmap(p, 3 * sysconf(_SC_PAGESIZE));
}

/* Wait until the worker has completed an operation (its status is
 * known), without entering an alertable wait. */
static bool wait_completed(SOCKET s, LPWSAOVERLAPPED ov)
{
	DWORD n, flags;

	for (int i = 0; i < 5000; i++) {
		if (WSAGetOverlappedResult(s, ov, &n, FALSE, &flags) ||
		    WSAGetLastError() != WSA_IO_INCOMPLETE)
			return true;
		SleepEx(1, FALSE);
	}
	return false;
}

/* What a completion routine saw. */
static struct {
	int calls;
	DWORD error, bytes, flags;
	LPWSAOVERLAPPED ov;
	pthread_t thread;
} seen;

static void CALLBACK routine(DWORD dwError, DWORD cbTransferred,
			     LPWSAOVERLAPPED lpOverlapped, DWORD dwFlags)
{
	seen.calls++;
	seen.error = dwError;
	seen.bytes = cbTransferred;
	seen.ov = lpOverlapped;
	seen.flags = dwFlags;
	seen.thread = pthread_self();
}

static void seen_reset(void)
{
	memset(&seen, 0, sizeof(seen));
}

/* ---- startup ------------------------------------------------------- */

static void test_startup(void)
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

static void test_query_success(void)
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
static void size_rules(SOCKET s, DWORD code, DWORD needed, const char *what)
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

static void test_buffer_sizes(void)
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
static void test_invalid(void)
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

static void test_not_socket(void)
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

static void test_not_connected(void)
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
static void test_socket_kinds(void)
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

static int no_engine_child(const char *empty, int fd)
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

static void test_engine_not_loaded(void)
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

static int eacces_child(const unsigned char *rec, int accepted)
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
static void test_no_permission(void)
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

static void test_set_records(void)
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

static void test_efault(void)
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

static pthread_barrier_t barrier;

static void *last_error_thread(void *arg)
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

static void test_last_error(void)
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

static void test_wspioctl_errors(void)
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

/* ---- overlapped ------------------------------------------------------ */

static void test_overlapped_event(void)
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
static void test_overlapped_wait(void)
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

static void test_io_incomplete(void)
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

struct alert_job {
	DWORD ret;
};

static void *alert_elsewhere(void *arg)
{
	struct alert_job *job = arg;

	job->ret = SleepEx(50, TRUE);
	return NULL;
}

static void test_routine_sleepex(void)
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

static void CALLBACK chain_routine(DWORD dwError, DWORD cbTransferred,
				   LPWSAOVERLAPPED lpOverlapped, DWORD dwFlags)
{
	DWORD n;

	routine(dwError, cbTransferred, lpOverlapped, dwFlags);
	memset(&chain.ov, 0, sizeof(chain.ov));
	chain.rc = WSAIoctl(chain.s, Q_REC, NULL, 0, chain.buf,
			    sizeof(chain.buf), &n, &chain.ov, routine);
	chain.err = chain.rc ? WSAGetLastError() : 0;
}

static void test_routine_wait_events(void)
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

/* WSPIoctl: the routine runs on the thread lpThreadId names. */
struct spi_job {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stage;
	WSATHREADID tid;
	DWORD ret;
	int apc_ctx;
	int close_rc, close_again_rc, close_again_err;
};

static void CALLBACK user_apc(DWORD_PTR ctx)
{
	*(int *)ctx += 1;
}

static void stage_wait(struct spi_job *j, int stage)
{
	pthread_mutex_lock(&j->lock);
	while (j->stage < stage)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
}

static void stage_set(struct spi_job *j, int stage)
{
	pthread_mutex_lock(&j->lock);
	j->stage = stage;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

static void *spi_thread(void *arg)
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

static void test_wspioctl_thread(void)
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

static void test_abort_closesocket(void)
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

static void test_abort_flush(void)
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

static void test_non_overlapped_socket(void)
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

static void *set_later(void *arg)
{
	SleepEx(20, FALSE);
	WSASetEvent(*(WSAEVENT *)arg);
	return NULL;
}

static void test_events(void)
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

static int inprogress_seen;	/* atomic: set in a handler, read by poke */
static pthread_t main_thread;

static void on_usr1(int sig)
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

static void *poke(void *arg)
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

static void test_inprogress(void)
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

/* ---- the example, as the redirect service of a real client ------------ */

/* A line from fd within ms, or false. */
static bool read_line(int fd, char *buf, size_t len, int ms)
{
	size_t have = 0;

	while (have + 1 < len) {
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
		fd_set rd;

		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (select(fd + 1, &rd, NULL, NULL, &tv) != 1 ||
		    read(fd, buf + have, 1) != 1)
			break;
		if (buf[have] == '\n') {
			buf[have] = '\0';
			return true;
		}
		have++;
	}
	buf[have] = '\0';
	return false;
}

static void test_winsock_proxy(void)
{
	char proxy[PATH_MAX], line[512], listen[32], dport[8], want[128];
	uint16_t orig_port, proxy_port = 0;
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .comm = "ws-client",
			    .send = "ping", .expect = "pong:ping",
			    .check_peer = true };
	int origin = listen_on("127.0.0.1", &orig_port), p[2], o, rc;
	const char *slash = strrchr(env.lwfp, '/');
	pid_t pid, cpid;
	char got[16];
	ssize_t n;

	snprintf(proxy, sizeof(proxy), "%.*s/examples/winsock-proxy",
		 slash ? (int)(slash - env.lwfp) : 1, slash ? env.lwfp : ".");
	REQUIRE_OR(no_proxy, access(proxy, X_OK) == 0, "%s missing", proxy);
	REQUIRE_OR(no_proxy, pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setenv(LWFP_PIN_DIR_ENV, env.pin_dir, 1);
		execl(proxy, "winsock-proxy", "127.0.0.1", "0", "1", NULL);
		_exit(127);
	}
	close(p[1]);
	CHECK(read_line(p[0], line, sizeof(line), 10000) &&
	      sscanf(line, "winsock-proxy: listening on 127.0.0.1:%hu",
		     &proxy_port) == 1, "proxy ready: %s", line);
	if (!proxy_port) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p[0]);
		close(origin);
		return;
	}
	/* not exempt: only the records keep its own connect from looping */
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", proxy_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	CHECK(!lwfp_run("service", "add", "wproxy", "--listen", listen, NULL),
	      "service add");
	CHECK(!lwfp_run("rule", "add", "--service", "wproxy", "--dst",
			"127.0.0.1/32", "--dport", dport, "--context",
			rule_ctx, NULL), "rule add");

	c.port = orig_port;
	cpid = client_start(&c);
	o = accept_timeout(origin, 10000);
	CHECK(o >= 0, "the proxy reached the origin");
	if (o >= 0) {
		n = read(o, got, sizeof(got) - 1);
		got[n > 0 ? n : 0] = '\0';
		CHECK(!strcmp(got, "ping"), "origin got %s", got);
		CHECK(write(o, "pong:ping", 9) == 9, "origin reply");
		close(o);
	}
	rc = client_wait(cpid);
	CHECK(rc == 0, "client exit %d", rc);
	CHECK(read_line(p[0], line, sizeof(line), 10000), "flow line");
	printf("# %s\n", line);
	snprintf(want, sizeof(want), "flow 1: pid %d comm ws-client uid 0 -> "
		 "127.0.0.1:%u service wproxy", cpid, orig_port);
	CHECK(strstr(line, want), "flow line names the client and "
	      "destination: %s", line);
	CHECK(strstr(line, " 40 bytes of records") &&
	      strstr(line, "4 bytes up, 9 bytes down"),
	      "records and bytes both ways: %s", line);
	if (waitpid(pid, &rc, 0) == pid)
		CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
		      "proxy exit %#x", rc);
	close(p[0]);
no_proxy:
	close(origin);
}

/* ---- UDP: WSARecvMsg, WSASendMsg, the WFP options ------------------- */

static bool readable_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static uint16_t unused_udp_port(const char *ip)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, ip, 0);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len))
		die("udp bind %s: %s", ip, strerror(errno));
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	close(fd);
	return addr_port(&ss);
}

/*
 * A redirected UDP flow: the service socket (this process, not exempt;
 * SO_REUSEADDR so that a per-flow socket can share its address), a rule
 * for orig_ip:orig_port where nothing listens, and a client in "app"
 * that sends "d0".."dN-1" there, then waits for "bye", which must come
 * from the original destination.
 */
struct uflow {
	int svc, level;
	const char *svc_ip, *orig_ip;
	uint16_t svc_port, orig_port;
	pid_t client;
	struct sockaddr_storage orig, peer;
	socklen_t orig_len, peer_len;
	LPFN_WSARECVMSG recvmsg_fn;
};

static void uclient_main(const struct uflow *f, int count)
{
	struct timeval tv = { .tv_sec = 20 };
	struct sockaddr_storage src;
	socklen_t slen = sizeof(src);
	char buf[64];
	ssize_t n;
	int fd;

	cg_enter("app");
	prctl(PR_SET_NAME, "ws-udp");
	fd = socket(f->orig.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(CL_SETUP);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < count; i++) {
		snprintf(buf, sizeof(buf), "d%d", i);
		if (sendto(fd, buf, strlen(buf), 0,
			   (const struct sockaddr *)&f->orig, f->orig_len) < 0)
			_exit(CL_IO);
	}
	n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&src,
		     &slen);
	if (n < 0)
		_exit(CL_IO);
	buf[n] = '\0';
	if (strcmp(buf, "bye"))
		_exit(CL_REPLY);
	if (strcmp(addr_str(&src), addr_str(&f->orig)))
		_exit(CL_PEER);
	_exit(CL_OK);
}

static bool uflow_setup(struct uflow *f, const char *svc_ip,
			const char *orig_ip, const char *name, int count)
{
	GUID id = WSAID_WSARECVMSG;
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, svc_ip, 0);
	char listen[64], dport[8];
	DWORD n;
	int one = 1;

	f->svc_ip = svc_ip;
	f->orig_ip = orig_ip;
	f->level = ss.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	f->svc = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* through the layer's setsockopt: passed on to the POSIX one */
	if (f->svc < 0 || setsockopt(f->svc, SOL_SOCKET, SO_REUSEADDR,
				     (const char *)&one, sizeof(one)) ||
	    bind(f->svc, (struct sockaddr *)&ss, len))
		return false;
	len = sizeof(ss);
	getsockname(f->svc, (struct sockaddr *)&ss, &len);
	f->svc_port = addr_port(&ss);
	f->orig_port = unused_udp_port(orig_ip);
	f->orig_len = make_addr(&f->orig, orig_ip, f->orig_port);
	snprintf(listen, sizeof(listen), "%s", addr_str(&ss));
	snprintf(dport, sizeof(dport), "%u", f->orig_port);
	if (lwfp_run("service", "add", name, "--listen", listen, NULL) ||
	    lwfp_run("rule", "add", "--service", name, "--proto", "udp",
		     "--dst", orig_ip, "--dport", dport, "--context",
		     rule_ctx, NULL))
		return false;
	if (WSAIoctl(f->svc, SIO_GET_EXTENSION_FUNCTION_POINTER, &id,
		     sizeof(id), &f->recvmsg_fn, sizeof(f->recvmsg_fn), &n,
		     NULL, NULL) || n != sizeof(f->recvmsg_fn))
		return false;
	f->client = fork();
	if (f->client == 0)
		uclient_main(f, count);
	return f->client > 0;
}

/* A session and a flow, or neither. */
static bool uflow_begin(struct uflow *f, const char *svc_ip,
			const char *orig_ip, int count)
{
	memset(f, 0, sizeof(*f));
	f->svc = -1;
	if (!ws_begin()) {
		ws_end();
		return false;
	}
	if (uflow_setup(f, svc_ip, orig_ip, "usvc", count))
		return true;
	if (f->client > 0) {
		kill(f->client, SIGKILL);
		waitpid(f->client, NULL, 0);
	}
	if (f->svc >= 0)
		close(f->svc);
	ws_end();
	return false;
}

/* "bye" to the client, from the service socket; the client must see it
 * come from the original destination. */
static void uflow_end(struct uflow *f)
{
	int rc;

	if (f->peer_len)
		sendto(f->svc, "bye", 3, 0, (struct sockaddr *)&f->peer,
		       f->peer_len);
	else
		kill(f->client, SIGKILL);
	rc = client_wait(f->client);
	CHECK(!f->peer_len || rc == 0, "client exit %d", rc);
	close(f->svc);
	ws_end();
}

struct urecv {
	int rc, err;
	DWORD bytes;
	WSAMSG msg;
	char data[64];
	struct sockaddr_storage from;
	/* aligned, as a Windows source would declare it */
	union {
		WSACMSGHDR align;
		char buf[WSA_CMSG_SPACE(LWFP_RECORDS_LEN) +
			 WSA_CMSG_SPACE(LWFP_CONTEXT_MAX_LEN) + 64];
	} control;
	WSABUF wb;
	/* what came */
	const unsigned char *rec, *ctx;
	size_t rec_len, ctx_len;
	int others;
};

/* WSARecvMsg of one datagram (after waiting for it) with a Control
 * buffer of control_len bytes (-1: NULL). */
static void urecv(struct uflow *f, struct urecv *u, int control_len,
		  ULONG data_len, ULONG flags)
{
	LPWSACMSGHDR c;

	memset(u, 0, sizeof(*u));
	u->bytes = UNSET;
	u->wb.buf = u->data;
	u->wb.len = data_len;
	u->msg.name = (LPSOCKADDR)&u->from;
	u->msg.namelen = sizeof(u->from);
	u->msg.lpBuffers = &u->wb;
	u->msg.dwBufferCount = 1;
	u->msg.Control.buf = control_len < 0 ? NULL : u->control.buf;
	u->msg.Control.len = control_len < 0 ? 0 : (ULONG)control_len;
	u->msg.dwFlags = flags;
	if (!readable_in(f->svc, 5000)) {
		u->rc = SOCKET_ERROR;
		u->err = -1;
		return;
	}
	WSASetLastError(0);
	u->rc = f->recvmsg_fn(f->svc, &u->msg, &u->bytes, NULL, NULL);
	u->err = u->rc ? WSAGetLastError() : 0;
	if (u->rc && u->err != WSAEMSGSIZE)
		return;
	if (!f->peer_len) {
		memcpy(&f->peer, &u->from, sizeof(f->peer));
		f->peer_len = (socklen_t)u->msg.namelen;
	}
	for (c = WSA_CMSG_FIRSTHDR(&u->msg); c;
	     c = WSA_CMSG_NXTHDR(&u->msg, c)) {
		size_t len = c->cmsg_len - WSA_CMSG_LEN(0);

		if (c->cmsg_level == f->level &&
		    c->cmsg_type == IP_WFP_REDIRECT_RECORDS) {
			u->rec = WSA_CMSG_DATA(c);
			u->rec_len = len;
		} else if (c->cmsg_level == f->level &&
			   c->cmsg_type == IP_WFP_REDIRECT_CONTEXT) {
			u->ctx = WSA_CMSG_DATA(c);
			u->ctx_len = len;
		} else {
			u->others++;
		}
	}
}

static bool set_context_opt(struct uflow *f, DWORD on)
{
	return setsockopt(f->svc, f->level, IP_WFP_REDIRECT_CONTEXT,
			  (const char *)&on, sizeof(on)) == 0;
}

static void check_context(struct uflow *f, const struct urecv *u)
{
	struct lwfp_context ctx;

	CHECK(u->rec && u->rec_len == LWFP_RECORDS_LEN, "records: %zu bytes",
	      u->rec_len);
	REQUIRE(u->ctx && !lwfp_context_decode(u->ctx, u->ctx_len, &ctx),
		"the context decodes (%zu bytes)", u->ctx_len);
	CHECK(!strcmp(addr_str(&ctx.orig_dst), addr_str(&f->orig)),
	      "original destination %s, want %s", addr_str(&ctx.orig_dst),
	      addr_str(&f->orig));
	CHECK(ctx.protocol == IPPROTO_UDP && ctx.pid == (uint32_t)f->client &&
	      !strcmp(ctx.comm, "ws-udp") && !strcmp(ctx.service, "usvc") &&
	      ctx.rule_context_len == strlen(rule_ctx) &&
	      !memcmp(ctx.rule_context, rule_ctx, strlen(rule_ctx)),
	      "context fields: proto %d pid %u comm %s service %s",
	      ctx.protocol, ctx.pid, ctx.comm, ctx.service);
}

static void recvmsg_context(const char *svc_ip, const char *orig_ip)
{
	struct urecv *u = calloc(1, sizeof(*u));
	struct uflow f;

	REQUIRE(u, "memory");
	if (!uflow_begin(&f, svc_ip, orig_ip, 2)) {
		CHECK(false, "setup %s -> %s", orig_ip, svc_ip);
		free(u);
		return;
	}
	CHECK(set_context_opt(&f, 1), "IP_WFP_REDIRECT_CONTEXT: %d",
	      WSAGetLastError());
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !memcmp(u->data, "d0", 2),
	      "first datagram: rc %d err %d bytes %u", u->rc, u->err,
	      u->bytes);
	CHECK(!(u->msg.dwFlags & (MSG_CTRUNC | MSG_TRUNC)) && !u->others,
	      "flags %#x, %d other messages", u->msg.dwFlags, u->others);
	CHECK(u->msg.Control.len == WSA_CMSG_SPACE(LWFP_RECORDS_LEN) +
	      WSA_CMSG_LEN(u->ctx_len) ||
	      u->msg.Control.len == WSA_CMSG_SPACE(LWFP_RECORDS_LEN) +
	      WSA_CMSG_SPACE(u->ctx_len), "Control.len %u",
	      u->msg.Control.len);
	check_context(&f, u);

	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !memcmp(u->data, "d1", 2),
	      "second datagram: rc %d err %d", u->rc, u->err);
	CHECK(!u->rec && !u->ctx && u->msg.Control.len == 0 &&
	      u->msg.dwFlags == 0, "no messages with the second: len %u",
	      u->msg.Control.len);
	CHECK(!strcmp(addr_str(&u->from), addr_str(&f.peer)),
	      "the same peer");
	uflow_end(&f);
	free(u);
}

static void test_udp_recvmsg_v4(void)
{
	recvmsg_context("127.0.0.1", "127.0.0.2");
}

static void test_udp_recvmsg_v6(void)
{
	recvmsg_context("::1", "::1");
}

/* Without the option (never set, or set to 0): no WFP messages. */
static void test_udp_recvmsg_off(void)
{
	struct urecv *u = calloc(1, sizeof(*u));
	struct uflow f;

	REQUIRE(u, "memory");
	if (!uflow_begin(&f, "127.0.0.1", "127.0.0.2", 3)) {
		CHECK(false, "setup");
		free(u);
		return;
	}
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !u->rec && !u->ctx &&
	      u->msg.Control.len == 0 && u->msg.dwFlags == 0,
	      "without the option: rc %d err %d len %u", u->rc, u->err,
	      u->msg.Control.len);
	CHECK(set_context_opt(&f, 1) && set_context_opt(&f, 0), "on, off");
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && !u->rec && !u->ctx && u->msg.Control.len == 0,
	      "with the option set to 0: len %u", u->msg.Control.len);
	/* a Windows source may ask for other messages: they pass */
	{
		int on = 1;

		CHECK(setsockopt(f.svc, IPPROTO_IP, IP_PKTINFO,
				 (const char *)&on, sizeof(on)) == 0,
		      "IP_PKTINFO");
	}
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && !u->rec && u->others == 1,
	      "a kernel message passes: %d", u->others);
	uflow_end(&f);
	free(u);
}

/* Too small a Control buffer: MSG_CTRUNC, and the messages come with the
 * flow's next datagram; MSG_PEEK leaves them for the read. A datagram
 * larger than the buffer: WSAEMSGSIZE and MSG_TRUNC. */
static void test_udp_recvmsg_ctrunc(void)
{
	struct urecv *u = calloc(1, sizeof(*u));
	struct uflow f;

	REQUIRE(u, "memory");
	if (!uflow_begin(&f, "127.0.0.1", "127.0.0.2", 4)) {
		CHECK(false, "setup");
		free(u);
		return;
	}
	CHECK(set_context_opt(&f, 1), "option");
	urecv(&f, u, WSA_CMSG_SPACE(LWFP_RECORDS_LEN), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !memcmp(u->data, "d0", 2) &&
	      (u->msg.dwFlags & MSG_CTRUNC) && !u->rec && !u->ctx &&
	      u->msg.Control.len == 0, "small buffer: rc %d flags %#x "
	      "len %u", u->rc, u->msg.dwFlags, u->msg.Control.len);
	urecv(&f, u, -1, sizeof(u->data), 0);
	CHECK(u->rc == 0 && !memcmp(u->data, "d1", 2) &&
	      (u->msg.dwFlags & MSG_CTRUNC), "no buffer: flags %#x",
	      u->msg.dwFlags);
	/* the output flags of the last call are no request */
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data),
	      MSG_PEEK | MSG_CTRUNC);
	CHECK(u->rc == 0 && !memcmp(u->data, "d2", 2) &&
	      !(u->msg.dwFlags & MSG_CTRUNC), "peek: rc %d err %d", u->rc,
	      u->err);
	check_context(&f, u);
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && !memcmp(u->data, "d2", 2), "d2 again");
	check_context(&f, u);
	urecv(&f, u, sizeof(u->control.buf), 1, 0);
	CHECK(u->rc == SOCKET_ERROR && u->err == WSAEMSGSIZE &&
	      u->bytes == 1 && u->data[0] == 'd' &&
	      (u->msg.dwFlags & MSG_TRUNC) && !u->rec,
	      "datagram truncated: rc %d err %d bytes %u flags %#x", u->rc,
	      u->err, u->bytes, u->msg.dwFlags);
	uflow_end(&f);
	free(u);
}

/* A WSAMSG to dst with data and the given control bytes. */
static int sendmsg_(SOCKET s, const struct sockaddr_storage *dst,
		    socklen_t dlen, const char *data, void *control,
		    ULONG control_len, DWORD *sent)
{
	WSABUF b = { .len = (ULONG)strlen(data), .buf = (CHAR *)data };
	WSAMSG m = {
		.name = (LPSOCKADDR)dst,
		.namelen = (INT)dlen,
		.lpBuffers = &b,
		.dwBufferCount = 1,
		.Control = { .len = control_len, .buf = control },
	};

	*sent = UNSET;
	WSASetLastError(0);
	return WSASendMsg(s, &m, 0, sent, NULL, NULL) ? WSAGetLastError() : 0;
}

/* One control message of len bytes; returns its space. */
static ULONG put_cmsg(void *buf, int level, int type, const void *data,
		      size_t len)
{
	WSACMSGHDR *c = buf;

	memset(buf, 0, WSA_CMSG_SPACE(len));
	c->cmsg_len = WSA_CMSG_LEN(len);
	c->cmsg_level = level;
	c->cmsg_type = type;
	memcpy(WSA_CMSG_DATA(c), data, len);
	return WSA_CMSG_SPACE(len);
}

/* Did fd get exactly want within ms? */
static bool got(int fd, const char *want, int ms)
{
	char buf[64];
	ssize_t n;

	if (!readable_in(fd, ms))
		return false;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, want);
}

/* The outbound side of a UDP service: records by WSASendMsg, by
 * setsockopt and by SIO_SET keep its datagrams from looping back. */
static void test_udp_sendmsg_records(void)
{
	struct urecv *u = calloc(1, sizeof(*u));
	union {
		WSACMSGHDR align;
		char buf[256];
	} ctl;
	unsigned char rec[LWFP_RECORDS_LEN];
	struct uflow f;
	int dst = -1, o[5], ttl = 7, err;
	uint16_t port;
	DWORD sent;
	ULONG len;
	struct res r;

	for (size_t i = 0; i < ARRAY_SIZE(o); i++)
		o[i] = -1;
	REQUIRE(u, "memory");
	if (!uflow_begin(&f, "127.0.0.1", "127.0.0.2", 1)) {
		CHECK(false, "setup");
		free(u);
		return;
	}
	CHECK(set_context_opt(&f, 1), "option");
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	REQUIRE_OR(out, u->rc == 0 && u->rec &&
		   u->rec_len == LWFP_RECORDS_LEN, "records: %d", u->err);
	memcpy(rec, u->rec, sizeof(rec));
	/* the original destination, for real this time */
	port = f.orig_port;
	dst = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE_OR(out, dst >= 0 && !bind(dst, (struct sockaddr *)&f.orig,
					  f.orig_len), "bind 127.0.0.2:%u",
		   port);
	for (size_t i = 0; i < ARRAY_SIZE(o); i++)
		o[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* without records, this process's datagram loops to the service */
	CHECK(sendto(o[0], "loop", 4, 0, (struct sockaddr *)&f.orig,
		     f.orig_len) == 4, "send");
	CHECK(got(f.svc, "loop", 2000) && !readable_in(dst, 200),
	      "without records: redirected to the service");

	/* WSASendMsg with the records: straight to the destination */
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS, rec,
		       sizeof(rec));
	err = sendmsg_(o[1], &f.orig, f.orig_len, "fwd", ctl.buf, len, &sent);
	CHECK(err == 0 && sent == 3, "WSASendMsg: %d, %u bytes", err, sent);
	CHECK(got(dst, "fwd", 2000) && !readable_in(f.svc, 200),
	      "with records: to the original destination");
	/* the records stay on the socket */
	err = sendmsg_(o[1], &f.orig, f.orig_len, "fwd2", NULL, 0, &sent);
	CHECK(err == 0 && sent == 4 && got(dst, "fwd2", 2000),
	      "second send: %d", err);
	/* with another message Linux takes (IP_TTL) */
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	len += put_cmsg(ctl.buf + len, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			rec, sizeof(rec));
	err = sendmsg_(o[2], &f.orig, f.orig_len, "ttl", ctl.buf, len, &sent);
	CHECK(err == 0 && got(dst, "ttl", 2000) && !readable_in(f.svc, 200),
	      "IP_TTL and the records: %d", err);

	/* the option on the socket */
	CHECK(setsockopt(o[3], IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)rec, sizeof(rec)) == 0,
	      "setsockopt records: %d", WSAGetLastError());
	CHECK(sendto(o[3], "opt", 3, 0, (struct sockaddr *)&f.orig,
		     f.orig_len) == 3 && got(dst, "opt", 2000) &&
	      !readable_in(f.svc, 200), "setsockopt: to the destination");

	/* SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS on unconnected UDP */
	r = ioctl_(o[4], SET_REC, rec, sizeof(rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == 0 && r.bytes == 0, "SIO_SET on UDP: %d", r.err);
	CHECK(sendto(o[4], "ioctl", 5, 0, (struct sockaddr *)&f.orig,
		     f.orig_len) == 5 && got(dst, "ioctl", 2000) &&
	      !readable_in(f.svc, 200), "SIO_SET: to the destination");

	/* errors: connected, malformed, wrong size, a context message */
	CHECK(!connect(o[0], (struct sockaddr *)&f.orig, f.orig_len),
	      "connect");
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS, rec,
		       sizeof(rec));
	err = sendmsg_(o[0], NULL, 0, "x", ctl.buf, len, &sent);
	CHECK(err == WSAEISCONN, "WSASendMsg, connected socket: %d", err);
	CHECK(setsockopt(o[0], IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)rec, sizeof(rec)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEISCONN, "setsockopt, connected: %d",
	      WSAGetLastError());
	r = ioctl_(o[0], SET_REC, rec, sizeof(rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEISCONN,
	      "SIO_SET, connected: %d", r.err);
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS, rec,
		       sizeof(rec) - 1);
	err = sendmsg_(o[1], &f.orig, f.orig_len, "x", ctl.buf, len, &sent);
	CHECK(err == WSAEINVAL, "records of 39 bytes: %d", err);
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT, rec,
		       sizeof(rec));
	err = sendmsg_(o[1], &f.orig, f.orig_len, "x", ctl.buf, len, &sent);
	CHECK(err == WSAEINVAL, "a context message: %d", err);
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS, rec,
		       sizeof(rec));
	ctl.align.cmsg_len = len + 8;
	err = sendmsg_(o[1], &f.orig, f.orig_len, "x", ctl.buf, len, &sent);
	CHECK(err == WSAEINVAL, "cmsg_len past the buffer: %d", err);
	CHECK(!readable_in(dst, 200) && !readable_in(f.svc, 0),
	      "nothing sent by the failures");
out:
	for (size_t i = 0; i < ARRAY_SIZE(o); i++)
		if (o[i] >= 0)
			close(o[i]);
	if (dst >= 0)
		close(dst);
	uflow_end(&f);
	free(u);
}

/* A service that connects a socket to each client: the plain queries. */
static void test_udp_query_connected(void)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN], rec[LWFP_RECORDS_LEN];
	struct urecv *u = calloc(1, sizeof(*u));
	struct sockaddr_storage me;
	socklen_t len = make_addr(&me, "127.0.0.1", 0);
	struct lwfp_context ctx;
	struct uflow f;
	struct res r;
	int c = -1, one = 1, rc;

	REQUIRE(u, "memory");
	if (!uflow_begin(&f, "127.0.0.1", "127.0.0.2", 1)) {
		CHECK(false, "setup");
		free(u);
		return;
	}
	CHECK(set_context_opt(&f, 1), "option");
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	REQUIRE_OR(out, u->rc == 0 && u->rec, "first datagram: %d", u->err);
	memcpy(rec, u->rec, sizeof(rec));
	r = query(f.svc, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTCONN,
	      "the unconnected service socket: %d", r.err);

	make_addr(&me, "127.0.0.1", f.svc_port);
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE_OR(out, c >= 0 &&
		   !setsockopt(c, SOL_SOCKET, SO_REUSEADDR, (const char *)&one,
			       sizeof(one)) &&
		   !bind(c, (struct sockaddr *)&me, len) &&
		   !connect(c, (struct sockaddr *)&f.peer, f.peer_len),
		   "per-flow socket: %s", strerror(errno));
	r = query(c, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == 0 && r.bytes == LWFP_RECORDS_LEN &&
	      !memcmp(buf, rec, sizeof(rec)), "records: rc %d err %d bytes "
	      "%u", r.rc, r.err, r.bytes);
	r = query(c, Q_CTX, NULL, 0);
	CHECK(r.rc == SOCKET_ERROR && r.err == ERROR_INSUFFICIENT_BUFFER &&
	      r.bytes == u->ctx_len, "context size %u, want %zu", r.bytes,
	      u->ctx_len);
	r = query(c, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == 0 && r.bytes == u->ctx_len &&
	      !lwfp_context_decode(buf, r.bytes, &ctx) &&
	      !strcmp(addr_str(&ctx.orig_dst), addr_str(&f.orig)) &&
	      ctx.protocol == IPPROTO_UDP, "context: rc %d err %d", r.rc,
	      r.err);
	/* the reply through it reaches the client from the original */
	CHECK(send(c, "bye", 3, 0) == 3, "reply");
	rc = client_wait(f.client);
	CHECK(rc == 0, "client exit %d", rc);
	f.client = 0;
	r = query(c, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "the flow ended with the client's socket: %d", r.err);
out:
	if (c >= 0)
		close(c);
	if (f.client > 0) {
		uflow_end(&f);
	} else {
		close(f.svc);
		ws_end();
	}
	free(u);
}

static int recvmsg_err(LPFN_WSARECVMSG fn, SOCKET s, LPWSAMSG m,
		       LPDWORD n, LPWSAOVERLAPPED ov)
{
	WSASetLastError(0);
	return fn(s, m, n, ov, NULL) ? WSAGetLastError() : 0;
}

static void test_udp_errors(void)
{
	GUID rid = WSAID_WSARECVMSG, sid = WSAID_WSASENDMSG;
	GUID bad = { 1, 2, 3, { 4 } };
	int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET,
							    SOCK_STREAM, 0);
	int u6 = socket(AF_INET6, SOCK_DGRAM, 0), ud[2], p[2];
	unsigned char zeros[LWFP_RECORDS_LEN] = { 0 }, fp[16];
	LPFN_WSARECVMSG fn = NULL;
	LPFN_WSASENDMSG sfn = NULL;
	WSAOVERLAPPED ov = { 0 };
	char data[16];
	WSABUF b = { sizeof(data), data };
	WSAMSG m = { .lpBuffers = &b, .dwBufferCount = 1 };
	DWORD on = 1, n;
	SOCKET plain;
	struct res r;

	REQUIRE(u >= 0 && t >= 0 && u6 >= 0 && !pipe(p) &&
		!socketpair(AF_UNIX, SOCK_DGRAM, 0, ud), "sockets");
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSANOTINITIALISED, "before WSAStartup");
	REQUIRE_OR(out, ws_begin(), "startup");

	/* setsockopt */
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == 0, "UDP: ok");
	CHECK(setsockopt(u6, IPPROTO_IPV6, IPV6_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == 0 &&
	      setsockopt(u6, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == 0,
	      "IPv6 UDP, both levels: %d", WSAGetLastError());
	CHECK(setsockopt(t, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOPROTOOPT, "TCP: %d",
	      WSAGetLastError());
	CHECK(setsockopt(ud[0], IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOPROTOOPT, "AF_UNIX: %d",
	      WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, 2) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT, "optlen 2: %d",
	      WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT, NULL,
			 sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT, "NULL: %d", WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IPV6, IPV6_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEINVAL, "IPPROTO_IPV6 on IPv4: %d",
	      WSAGetLastError());
	CHECK(setsockopt(p[0], IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOTSOCK, "pipe: %d",
	      WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)zeros, sizeof(zeros) - 1) ==
	      SOCKET_ERROR && WSAGetLastError() == WSAEINVAL,
	      "records, 39 bytes: %d", WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)zeros, sizeof(zeros)) ==
	      SOCKET_ERROR && WSAGetLastError() == WSAEINVAL,
	      "records not of the engine: %d", WSAGetLastError());
	CHECK(setsockopt(ud[0], IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)zeros, sizeof(zeros)) ==
	      SOCKET_ERROR && WSAGetLastError() == WSAENOPROTOOPT,
	      "records on AF_UNIX: %d", WSAGetLastError());
	/* other options: POSIX, errors through WSAGetLastError */
	CHECK(setsockopt(u, SOL_SOCKET, SO_REUSEADDR, (const char *)&on,
			 sizeof(on)) == 0, "SO_REUSEADDR");
	CHECK(setsockopt(u, SOL_SOCKET, 12345, (const char *)&on,
			 sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOPROTOOPT, "unknown option: %d",
	      WSAGetLastError());

	/* SIO_GET_EXTENSION_FUNCTION_POINTER */
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &rid, sizeof(rid),
		   &fn, sizeof(fn), NULL, NULL);
	CHECK(r.rc == 0 && r.bytes == sizeof(fn) && fn, "WSARecvMsg: %d",
	      r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &sid, sizeof(sid),
		   &sfn, sizeof(sfn), NULL, NULL);
	CHECK(r.rc == 0 && sfn == WSASendMsg, "WSASendMsg: %d", r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &bad, sizeof(bad),
		   fp, sizeof(fp), NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL, "unknown GUID: %d",
	      r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &rid,
		   sizeof(rid) - 1, fp, sizeof(fp), NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL, "short GUID: %d",
	      r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &rid, sizeof(rid),
		   fp, 4, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT,
	      "small output: %d", r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, NULL, sizeof(rid),
		   fp, sizeof(fp), NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT, "NULL GUID: %d",
	      r.err);
	REQUIRE_OR(end, fn, "no WSARecvMsg");

	/* WSARecvMsg */
	CHECK(recvmsg_err(fn, t, &m, &n, NULL) == WSAEOPNOTSUPP,
	      "on TCP");
	CHECK(recvmsg_err(fn, p[0], &m, &n, NULL) == WSAENOTSOCK,
	      "on a pipe");
	CHECK(recvmsg_err(fn, u, NULL, &n, NULL) == WSAEFAULT, "NULL msg");
	CHECK(recvmsg_err(fn, u, &m, NULL, NULL) == WSAEFAULT,
	      "NULL byte count");
	CHECK(recvmsg_err(fn, u, &m, &n, &ov) == WSAEOPNOTSUPP,
	      "overlapped");
	m.dwFlags = MSG_OOB;
	CHECK(recvmsg_err(fn, u, &m, &n, NULL) == WSAEOPNOTSUPP,
	      "MSG_OOB");
	m.dwFlags = MSG_DONTWAIT;
	CHECK(recvmsg_err(fn, u, &m, &n, NULL) == WSAEWOULDBLOCK,
	      "nothing to receive");
	m.Control.len = 16;
	CHECK(recvmsg_err(fn, u, &m, &n, NULL) == WSAEFAULT,
	      "Control.buf NULL with a length");
	m.Control.len = 0;
	b.buf = (CHAR *)1;
	CHECK(recvmsg_err(fn, u, &m, &n, NULL) == WSAEFAULT, "bad buffer");
	b.buf = data;
	/* lpOverlapped is ignored on a socket without the attribute */
	plain = WSASocketA(AF_INET, SOCK_DGRAM, 0, NULL, 0, 0);
	CHECK(plain != INVALID_SOCKET &&
	      recvmsg_err(fn, plain, &m, &n, &ov) == WSAEWOULDBLOCK,
	      "overlapped ignored: %d", WSAGetLastError());
	closesocket(plain);
	m.dwFlags = 0;

	/* WSASendMsg */
	n = UNSET;
	CHECK(WSASendMsg(t, &m, 0, &n, NULL, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEOPNOTSUPP, "WSASendMsg on TCP");
	CHECK(WSASendMsg(u, NULL, 0, &n, NULL, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT, "WSASendMsg NULL");
	CHECK(WSASendMsg(u, &m, MSG_OOB, &n, NULL, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEOPNOTSUPP, "WSASendMsg MSG_OOB");
	CHECK(WSASendMsg(u, &m, 0, &n, NULL, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEDESTADDRREQ,
	      "WSASendMsg without a destination: %d", WSAGetLastError());
end:
	ws_end();
out:
	close(u);
	close(u6);
	close(t);
	close(p[0]);
	close(p[1]);
	close(ud[0]);
	close(ud[1]);
}

/* ---- the UDP example, as the redirect service of a real client -------- */

/* A client in "app": "one", then "two" to dst, each echoed back to it
 * from dst. */
static void echo_client_main(const struct sockaddr_storage *dst,
			     socklen_t dst_len)
{
	static const char *const msgs[] = { "one", "two" };
	struct sockaddr_storage src;
	socklen_t slen;
	char buf[64];
	ssize_t n;
	int fd;

	cg_enter("app");
	prctl(PR_SET_NAME, "ws-udp-echo");
	fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(CL_SETUP);
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++) {
		if (sendto(fd, msgs[i], strlen(msgs[i]), 0,
			   (const struct sockaddr *)dst, dst_len) < 0)
			_exit(CL_IO);
		/* if the test dies, the client must not wait forever */
		if (!readable_in(fd, 20000))
			_exit(CL_IO);
		slen = sizeof(src);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&src, &slen);
		if (n < 0)
			_exit(CL_IO);
		buf[n] = '\0';
		if (strcmp(buf, msgs[i]))
			_exit(CL_REPLY);
		if (strcmp(addr_str(&src), addr_str(dst)))
			_exit(CL_PEER);
	}
	_exit(CL_OK);
}

/*
 * build/examples/winsock-udp-proxy (exempt by --pid) between a client and
 * an echo at 127.0.0.2: the echoes reach the client from 127.0.0.2, the
 * origin sees the proxy's outbound socket, and the proxy logs the flow
 * from its context, then its end (idle after 1 s) with the bytes.
 */
static void test_winsock_udp_proxy(void)
{
	char proxy[PATH_MAX], line[512], listen[32], dport[8], pid_s[16];
	char want[160], echo[64];
	struct sockaddr_storage orig, src[2], direct;
	socklen_t orig_len, len;
	uint16_t orig_port, proxy_port = 0, client_port = 0, via_port = 0;
	const char *slash = strrchr(env.lwfp, '/'), *via;
	int origin, p[2] = { -1, -1 }, d = -1, rc;
	pid_t pid = -1, cpid = -1, client_pid = 0;
	ssize_t n;

	origin = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	orig_len = make_addr(&orig, "127.0.0.2", 0);
	REQUIRE_OR(out, origin >= 0 &&
		   !bind(origin, (struct sockaddr *)&orig, orig_len),
		   "origin at 127.0.0.2: %s", strerror(errno));
	len = sizeof(orig);
	getsockname(origin, (struct sockaddr *)&orig, &len);
	orig_port = addr_port(&orig);

	snprintf(proxy, sizeof(proxy), "%.*s/examples/winsock-udp-proxy",
		 slash ? (int)(slash - env.lwfp) : 1, slash ? env.lwfp : ".");
	REQUIRE_OR(out, access(proxy, X_OK) == 0, "%s missing", proxy);
	REQUIRE_OR(out, pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setenv(LWFP_PIN_DIR_ENV, env.pin_dir, 1);
		/* one flow, ended after 1 s idle */
		execl(proxy, "winsock-udp-proxy", "127.0.0.1", "0", "1", "1",
		      NULL);
		_exit(127);
	}
	close(p[1]);
	p[1] = -1;
	REQUIRE_OR(out, pid > 0, "fork");
	CHECK(read_line(p[0], line, sizeof(line), 10000) &&
	      sscanf(line, "winsock-udp-proxy: listening on 127.0.0.1:%hu",
		     &proxy_port) == 1, "proxy ready: %s", line);
	if (!proxy_port)
		goto out;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", proxy_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	REQUIRE_OR(out, !lwfp_run("service", "add", "wudp", "--listen",
				  listen, "--proto", "udp", "--pid", pid_s,
				  NULL), "service add");
	REQUIRE_OR(out, !lwfp_run("rule", "add", "--service", "wudp",
				  "--proto", "udp", "--dst", "127.0.0.2/32",
				  "--dport", dport, "--context", rule_ctx,
				  NULL), "rule add");

	/* a datagram sent to the proxy directly is no flow: dropped */
	d = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	make_addr(&direct, "127.0.0.1", proxy_port);
	CHECK(d >= 0 && sendto(d, "direct", 6, 0, (struct sockaddr *)&direct,
			       sizeof(struct sockaddr_in)) == 6, "direct send");
	CHECK(read_line(p[0], line, sizeof(line), 10000) &&
	      strstr(line, ": not a redirected flow, 6 bytes dropped"),
	      "direct datagram dropped: %s", line);

	cpid = fork();
	if (cpid == 0)
		echo_client_main(&orig, orig_len);
	REQUIRE_OR(out, cpid > 0, "fork");
	client_pid = cpid;

	/* the origin echoes each datagram to where it came from */
	for (int i = 0; i < 2; i++) {
		len = sizeof(src[i]);
		n = -1;
		if (readable_in(origin, 10000))
			n = recvfrom(origin, echo, sizeof(echo) - 1, 0,
				     (struct sockaddr *)&src[i], &len);
		REQUIRE_OR(out, n > 0, "datagram %d reached the origin",
			   i + 1);
		echo[n] = '\0';
		CHECK(!strcmp(echo, i ? "two" : "one"), "origin got %s",
		      echo);
		CHECK(sendto(origin, echo, n, 0, (struct sockaddr *)&src[i],
			     len) == n, "echo %d", i + 1);
	}
	rc = client_wait(cpid);
	cpid = -1;
	CHECK(rc == 0, "client exit %d (echoes from 127.0.0.2:%u)", rc,
	      orig_port);

	/* the new flow, from the context the first datagram came with */
	CHECK(read_line(p[0], line, sizeof(line), 10000), "flow line");
	printf("# %s\n", line);
	CHECK(sscanf(line, "winsock-udp-proxy: flow 1: 127.0.0.1:%hu -> ",
		     &client_port) == 1, "flow 1, its client: %s", line);
	snprintf(want, sizeof(want), " -> 127.0.0.2:%u pid %d comm "
		 "ws-udp-echo uid 0 service wudp rule ", orig_port,
		 client_pid);
	CHECK(strstr(line, want), "the destination and the client process "
	      "from the context: %s", line);
	CHECK(strstr(line, ", 40 bytes of records, ") &&
	      strstr(line, "first datagram 3 bytes"), "records: %s", line);
	via = strstr(line, ", via port ");
	CHECK(via && sscanf(via, ", via port %hu", &via_port) == 1 &&
	      via_port != proxy_port, "the outbound socket: %s", line);
	/* the origin heard the outbound socket, not the service port */
	for (int i = 0; i < 2; i++)
		CHECK(src[i].ss_family == AF_INET &&
		      ((struct sockaddr_in *)&src[i])->sin_addr.s_addr ==
		      htonl(INADDR_LOOPBACK) &&
		      addr_port(&src[i]) == via_port &&
		      addr_port(&src[i]) != proxy_port,
		      "datagram %d came from %s, via port %u, service "
		      "port %u", i + 1, addr_str(&src[i]), via_port,
		      proxy_port);

	/* idle for 1 s: the flow ends with its bytes, the proxy exits */
	CHECK(read_line(p[0], line, sizeof(line), 10000), "end line");
	printf("# %s\n", line);
	snprintf(want, sizeof(want), "winsock-udp-proxy: flow 1 ended (idle): "
		 "127.0.0.1:%u -> 127.0.0.2:%u, 6 bytes up, 6 bytes down",
		 client_port, orig_port);
	CHECK(!strcmp(line, want), "end line: %s, want %s", line, want);
	for (int ms = 0; ms < 10000 && pid > 0; ms += 10) {
		if (waitpid(pid, &rc, WNOHANG) == pid)
			pid = -1;
		else
			usleep(10000);
	}
	CHECK(pid < 0 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	      "proxy exit %#x", pid < 0 ? rc : -1);
out:
	if (cpid > 0) {
		kill(cpid, SIGKILL);
		waitpid(cpid, NULL, 0);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	if (d >= 0)
		close(d);
	if (origin >= 0)
		close(origin);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"WSAStartup/WSACleanup: versions, counting, WSANOTINITIALISED",
		"queries succeed: records and context, non-zero byte count",
		"buffer sizes: size query, < sizeof(ULONG), too small, exact",
		"WSAEINVAL: unredirected socket, unknown control codes",
		"WSAENOTSOCK: pipe, file, closed descriptor, INVALID_SOCKET",
		"WSAENOTCONN: unconnected and listening sockets",
		"socket kinds: UDP, SEQPACKET (WSAEINVAL), AF_UNIX (WSAENOPROTOOPT)",
		"WSAEOPNOTSUPP without an engine (fresh process and session)",
		"WSAEACCES without the right to use the engine",
		"SET: records prevent the loop; WSAEISCONN; bad records",
		"WSAEFAULT: NULL, (void *)1, PROT_NONE, read-only, straddling",
		"the last error is per thread and sees POSIX failures",
		"WSPIoctl reports through *lpErrno only",
		"overlapped: by event, byte count, small buffer, SET",
		"overlapped: WSAGetOverlappedResult waits, and polls",
		"overlapped: WSA_IO_INCOMPLETE while pending",
		"completion routine only in alertable SleepEx, its thread",
		"completion routine in an alertable WSAWaitForMultipleEvents",
		"WSPIoctl: the routine runs on the thread lpThreadId names",
		"WSA_OPERATION_ABORTED by closesocket",
		"WSA_OPERATION_ABORTED by SIO_FLUSH",
		"lpOverlapped ignored without WSA_FLAG_OVERLAPPED; WSASocket",
		"WSAEVENT objects and WSAWaitForMultipleEvents",
		"WSAEINPROGRESS for a call made from a signal handler",
		"winsock-proxy as the redirect service of a real client",
		"UDP: WSARecvMsg delivers records and context once (IPv4)",
		"UDP: WSARecvMsg delivers records and context once (IPv6)",
		"UDP: no WFP messages without IP_WFP_REDIRECT_CONTEXT",
		"UDP: MSG_CTRUNC, messages again after it and after MSG_PEEK",
		"UDP: records by WSASendMsg, setsockopt, SIO_SET: no loop",
		"UDP: SIO_QUERY_* on a per-flow connected socket",
		"UDP: setsockopt, extension pointers, WSARecvMsg errors",
		"winsock-udp-proxy relays a real UDP client's flow",
	};
	static const test_fn fns[] = {
		test_startup, test_query_success, test_buffer_sizes,
		test_invalid, test_not_socket, test_not_connected,
		test_socket_kinds, test_engine_not_loaded, test_no_permission,
		test_set_records, test_efault, test_last_error,
		test_wspioctl_errors, test_overlapped_event,
		test_overlapped_wait, test_io_incomplete,
		test_routine_sleepex, test_routine_wait_events,
		test_wspioctl_thread, test_abort_closesocket, test_abort_flush,
		test_non_overlapped_socket, test_events, test_inprogress,
		test_winsock_proxy, test_udp_recvmsg_v4, test_udp_recvmsg_v6,
		test_udp_recvmsg_off, test_udp_recvmsg_ctrunc,
		test_udp_sendmsg_records, test_udp_query_connected,
		test_udp_errors, test_winsock_udp_proxy,
	};

	env_init(argc, argv, "winsock");
	return run_tests(names, fns, ARRAY_SIZE(fns));
}
