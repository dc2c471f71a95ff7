// SPDX-License-Identifier: MIT
/* Helpers of the Winsock conformance tests: sessions, flows, guard pages. */
#include "ws_test.h"

/* ---- helpers ------------------------------------------------------- */

int threads_before;

bool ws_begin(void)
{
	WSADATA d;

	threads_before = thread_count();
	setenv(LWFP_PIN_DIR_ENV, env.pin_dir, 1);
	return WSAStartup(MAKEWORD(2, 2), &d) == 0;
}

int thread_count(void)
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
void ws_end(void)
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

struct res ioctl_(SOCKET s, DWORD code, void *in, DWORD in_len,
			 void *out, DWORD out_len, LPWSAOVERLAPPED ov,
			 LPWSAOVERLAPPED_COMPLETION_ROUTINE cr)
{
	struct res r = { .bytes = UNSET };

	WSASetLastError(0);
	r.rc = WSAIoctl(s, code, in, in_len, out, out_len, &r.bytes, ov, cr);
	r.err = r.rc ? WSAGetLastError() : 0;
	return r;
}

struct res query(SOCKET s, DWORD code, void *out, DWORD out_len)
{
	return ioctl_(s, code, NULL, 0, out, out_len, NULL, NULL);
}

const char *flow_layout;

bool flow_setup(struct flow *f)
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
		     flow_layout ? "--context-layout" : NULL, flow_layout,
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
void flow_abort(struct flow *f)
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

bool flow_open(struct flow *f)
{
	if (flow_setup(f))
		return true;
	flow_abort(f);
	return false;
}

/* A flow and a session, or neither. */
bool flow_begin(struct flow *f)
{
	if (!flow_open(f))
		return false;
	if (ws_begin())
		return true;
	ws_end();
	flow_abort(f);
	return false;
}

void flow_close(struct flow *f)
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
size_t native_context(int fd, void *buf, size_t cap)
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
unsigned char *guard_pages(void)
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

void guard_free(unsigned char *p)
{
	munmap(p, 3 * sysconf(_SC_PAGESIZE));
}

/* Wait until the worker has completed an operation (its status is
 * known), without entering an alertable wait. */
bool wait_completed(SOCKET s, LPWSAOVERLAPPED ov)
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

struct seen seen;

void CALLBACK routine(DWORD dwError, DWORD cbTransferred,
			     LPWSAOVERLAPPED lpOverlapped, DWORD dwFlags)
{
	seen.calls++;
	seen.error = dwError;
	seen.bytes = cbTransferred;
	seen.ov = lpOverlapped;
	seen.flags = dwFlags;
	seen.thread = pthread_self();
}

void seen_reset(void)
{
	memset(&seen, 0, sizeof(seen));
}
