// SPDX-License-Identifier: MIT
/*
 * Several redirect services on one host: arbitration, chains that end at
 * the origin, re-inspection, bounded chains, records that cannot be forged
 * or replayed, fail open and fail closed, 8 services at once.
 */
#include <libgen.h>
#include <poll.h>
#include <pthread.h>

#include "harness.h"
#include "lwfp_abi.h"

/* ---- an echo origin, in a thread of this process ---- */

static void *echo_conn(void *arg)
{
	int c = (int)(long)arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) > 0)
		if (write(c, buf, n) != n)
			break;
	close(c);
	return NULL;
}

static void *echo_server(void *arg)
{
	int lfd = (int)(long)arg, c;
	pthread_t t;

	while ((c = accept(lfd, NULL, NULL)) >= 0) {
		pthread_create(&t, NULL, echo_conn, (void *)(long)c);
		pthread_detach(t);
	}
	return NULL;
}

static uint16_t start_origin(void)
{
	uint16_t port;
	int lfd = listen_on("127.0.0.1", &port);
	pthread_t t;

	pthread_create(&t, NULL, echo_server, (void *)(long)lfd);
	pthread_detach(t);
	return port;
}

/* ---- relay-proxy processes as services A, B, C ---- */

struct proxy {
	const char *name;
	uint16_t port;
	pid_t pid;
	int out;
};

static void proxy_start(struct proxy *p, const char *weight)
{
	char bin[PATH_MAX], listen[32], cg[32], line[512];
	int fds[2];
	ssize_t n;

	snprintf(bin, sizeof(bin), "%s", env.lwfp);
	snprintf(line, sizeof(line), "%s/examples/relay-proxy", dirname(bin));
	p->port = unused_port("127.0.0.1");
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", p->port);
	if (lwfp_run("service", "add", p->name, "--listen", listen,
		     "--weight", weight, NULL))
		die("service add %s", p->name);
	snprintf(cg, sizeof(cg), "svc%s", p->name);
	if (pipe(fds))
		die("pipe");
	p->pid = fork();
	if (p->pid == 0) {
		cg_enter(cg);
		dup2(fds[1], 1);
		execl(line, line, "--listen", listen, "--pin-dir", env.pin_dir,
		      NULL);
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
	/* wait for its "listening" line */
	n = read(p->out, line, sizeof(line) - 1);
	if (n <= 0 || !memmem(line, n, "listening", 9))
		die("relay-proxy %s did not start", p->name);
}

static void proxy_stop(struct proxy *p)
{
	kill(p->pid, SIGTERM);
	waitpid(p->pid, NULL, 0);
	close(p->out);
}

static void rule(const char *svc, uint16_t port, const char *extra)
{
	char dport[8];

	snprintf(dport, sizeof(dport), "%u", port);
	if (lwfp_run("rule", "add", "--service", svc, "--dst", "127.0.0.1",
		     "--dport", dport, extra, NULL))
		die("rule add %s %u", svc, port);
}


/*
 * A client that sends 256 KiB through whatever path its connect takes,
 * checks the echo byte for byte, and holds the connection until told.
 */
struct held {
	pid_t pid;
	int go;		/* write a byte to let it close */
	int ready;	/* it writes a byte when the echo checked out */
};

static void held_client(uint16_t port, int ready, int go)
{
	static unsigned char sent[262144], got[262144];
	size_t off = 0;
	int fd;
	char c;

	cg_enter("app");
	for (size_t i = 0; i < sizeof(sent); i++)
		sent[i] = (unsigned char)(i * 131 + i / 7);
	fd = connect_to(AF_INET, "127.0.0.1", port);
	if (fd < 0)
		_exit(CL_CONNECT);
	/* a writer child, so neither side blocks on a full buffer */
	if (fork() == 0) {
		if (write(fd, sent, sizeof(sent)) != (ssize_t)sizeof(sent))
			_exit(1);
		_exit(0);
	}
	while (off < sizeof(got)) {
		ssize_t n = read(fd, got + off, sizeof(got) - off);

		if (n <= 0)
			_exit(CL_IO);
		off += n;
	}
	wait(NULL);
	if (memcmp(sent, got, sizeof(got)))
		_exit(CL_REPLY);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(CL_IO);
	close(fd);
	_exit(CL_OK);
}

static void held_start(struct held *h, uint16_t port)
{
	int r[2], g[2];

	if (pipe(r) || pipe(g))
		die("pipe");
	h->pid = fork();
	if (h->pid == 0) {
		close(r[0]);
		close(g[1]);
		held_client(port, r[1], g[0]);
	}
	close(r[1]);
	close(g[0]);
	h->ready = r[0];
	h->go = g[1];
}

/* Wait until the echo came back intact; the path is then complete. */
static bool held_ready(struct held *h)
{
	struct pollfd p = { .fd = h->ready, .events = POLLIN };
	char c;

	return poll(&p, 1, 20000) == 1 && read(h->ready, &c, 1) == 1;
}

static int held_finish(struct held *h)
{
	if (write(h->go, "g", 1) != 1)
		return -1;
	close(h->go);
	close(h->ready);
	return client_wait(h->pid);
}

static void check_path(uint16_t port, const char *want)
{
	struct held h;
	char chain[256];
	int rc;

	held_start(&h, port);
	CHECK(held_ready(&h), "port %u: the echo did not come back intact",
	      port);
	flow_chain(h.pid, chain, sizeof(chain));
	CHECK(!strcmp(chain, want), "port %u: path %s, want %s", port, chain,
	      want);
	rc = held_finish(&h);
	CHECK(rc == 0, "port %u: client exit %d", port, rc);
}

/* Crossing rules for A (weight 30), B (20), C (10) on several ports. */
static void test_paths(void)
{
	struct proxy a = { .name = "A" }, b = { .name = "B" }, c = { .name = "C" };
	/* one origin per topology: rules pick by destination port */
	uint16_t p1 = start_origin(), p2 = start_origin(), p3 = start_origin();
	uint16_t p4 = start_origin(), p5 = start_origin();

	proxy_start(&a, "30");
	proxy_start(&b, "20");
	proxy_start(&c, "10");
	rule("B", p1, NULL);			/* crossing: B's rule first... */
	rule("A", p1, NULL);			/* ...A wins on weight */
	rule("C", p2, NULL);
	rule("A", p2, NULL);
	rule("A", p3, NULL);			/* would loop forever untracked */
	rule("B", p3, NULL);
	rule("C", p3, NULL);
	rule("A", p4, "--reinspect");
	rule("B", p4, NULL);
	rule("A", p5, "--reinspect");
	rule("B", p5, "--reinspect");

	check_path(p1, "A,B,origin");
	check_path(p2, "A,C,origin");
	check_path(p3, "A,B,C,origin");
	check_path(p4, "A,B,A,origin");
	check_path(p5, "A,B,A,B,A,B,A,B,origin");
	CHECK(counter("chain_too_long") >= 1, "the bounded chain is counted");
	proxy_stop(&a);
	proxy_stop(&b);
	proxy_stop(&c);
}

/* ---- records: this process is the service, not exempt ---- */

struct flow {
	int lfd, a;
	uint16_t svc_port, orig;
	unsigned char rec[LWFP_RECORDS_LEN];
	pid_t client;
};

/* A service S on a port range, and one client flow accepted by it. */
static void flow_open(struct flow *f, struct lwfp **eng, uint16_t orig)
{
	char listen[32], dports[16];
	size_t len = sizeof(f->rec);
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig, .send = "s",
			    .expect = "bye" };

	f->orig = orig;
	f->lfd = listen_on("127.0.0.1", &f->svc_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", f->svc_port);
	snprintf(dports, sizeof(dports), "%u-%u", orig, orig + 1);
	if (lwfp_run("service", "add", "S", "--listen", listen, NULL) ||
	    lwfp_run("rule", "add", "--service", "S", "--dst", "127.0.0.1",
		     "--dport", dports, NULL))
		die("service S");
	if (lwfp_open(env.pin_dir, eng))
		die("lwfp_open");
	f->client = client_start(&c);
	f->a = accept_timeout(f->lfd, 5000);
	if (f->a < 0 || lwfp_query_records(*eng, f->a, f->rec, &len))
		die("flow not redirected");
}

/* The flow ends: the service replies, closes, and the client exits. */
static void flow_end(struct flow *f)
{
	if (f->a < 0)
		return;
	CHECK(write(f->a, "bye", 3) == 3, "reply");
	close(f->a);
	f->a = -1;
	CHECK(client_wait(f->client) == 0, "client");
}

static void flow_close(struct flow *f, struct lwfp *eng)
{
	flow_end(f);
	close(f->lfd);
	lwfp_close(eng);
}

/* Connect out with records; true if the connect came back to S. */
static bool back_to_service(struct flow *f, struct lwfp *eng,
			    const unsigned char *rec, uint16_t port)
{
	struct sockaddr_storage dst;
	socklen_t len = make_addr(&dst, "127.0.0.1", port);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), again;
	bool back;

	CHECK(!lwfp_set_records(eng, s, rec, LWFP_RECORDS_LEN), "set records");
	connect(s, (struct sockaddr *)&dst, len);
	again = accept_timeout(f->lfd, 1500);
	back = again >= 0;
	if (again >= 0)
		close(again);
	close(s);
	return back;
}

/* Records the engine refuses to take: -errno of lwfp_set_records(). */
static int set_on_new_socket(struct lwfp *eng, const unsigned char *rec)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err = lwfp_set_records(eng, s, rec, LWFP_RECORDS_LEN);

	close(s);
	return err;
}

/* A connect with records set while their flow was open, made after it
 * closed: refused (EPERM), never decided afresh. */
static void connect_after_close(struct flow *f, struct lwfp *eng,
				uint16_t origin)
{
	struct sockaddr_storage dst;
	socklen_t len = make_addr(&dst, "127.0.0.1", origin);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), again;

	CHECK(!lwfp_set_records(eng, s, f->rec, LWFP_RECORDS_LEN),
	      "records of an open flow are taken");
	flow_end(f);
	CHECK(connect(s, (struct sockaddr *)&dst, len) < 0 && errno == EPERM,
	      "its flow closed since: the connect is refused (%s)",
	      strerror(errno));
	again = accept_timeout(f->lfd, 500);
	CHECK(again < 0, "and did not come back to the service");
	if (again >= 0)
		close(again);
	close(s);
	CHECK(counter("refused_records_closed") == 1, "counted");
}

static void test_records_forged_replayed(void)
{
	uint16_t origin = start_origin();
	struct lwfp_records *r;
	unsigned char bad[LWFP_RECORDS_LEN];
	struct lwfp *eng;
	struct flow f;
	int err;

	/* S takes origin and origin + 1 */
	flow_open(&f, &eng, origin);
	CHECK(!back_to_service(&f, eng, f.rec, origin),
	      "valid records go to the origin");

	memcpy(bad, f.rec, sizeof(bad));
	r = (struct lwfp_records *)bad;
	r->token ^= 0x5a5a5a5a5a5a5a5aull;
	err = set_on_new_socket(eng, bad);
	CHECK(err == -ESTALE, "forged records are refused: %d", err);
	CHECK(counter("records_set_refused") == 1, "counted");

	memcpy(bad, f.rec, sizeof(bad));
	r->engine_id ^= 1;
	err = set_on_new_socket(eng, bad);
	CHECK(err == -EINVAL, "another engine's records are not this one's: %d",
	      err);

	CHECK(back_to_service(&f, eng, f.rec, origin + 1),
	      "records of a flow to another destination: fresh");
	CHECK(counter("records_other_destination") == 1, "counted");

	connect_after_close(&f, eng, origin);
	err = set_on_new_socket(eng, f.rec);
	CHECK(err == -ESTALE, "records of a closed flow are refused: %d", err);
	CHECK(counter("records_set_refused") == 2, "counted");
	flow_close(&f, eng);
}

/* lwfp_redirect_state: S redirected, then T; states relative to each. */
static void test_redirect_state(void)
{
	uint16_t origin = start_origin(), t_port;
	unsigned char rec2[LWFP_RECORDS_LEN];
	size_t len = sizeof(rec2);
	struct sockaddr_storage dst;
	socklen_t dlen = make_addr(&dst, "127.0.0.1", origin);
	int t_lfd = listen_on("127.0.0.1", &t_port), s, t;
	char listen[32], dport[8];
	struct lwfp *eng;
	struct flow f;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", t_port);
	snprintf(dport, sizeof(dport), "%u", origin);
	flow_open(&f, &eng, origin);
	REQUIRE(!lwfp_run("service", "add", "T", "--listen", listen, NULL) &&
		!lwfp_run("rule", "add", "--service", "T", "--dport", dport,
			  NULL), "service T");
	CHECK(lwfp_redirect_state(eng, NULL, 0, "S") == LWFP_NOT_REDIRECTED,
	      "no records");
	CHECK(lwfp_redirect_state(eng, f.rec, sizeof(f.rec), "S") ==
	      LWFP_REDIRECTED_BY_SELF, "S redirected it last");
	CHECK(lwfp_redirect_state(eng, f.rec, sizeof(f.rec), "T") ==
	      LWFP_REDIRECTED_BY_OTHER, "T never did");
	CHECK(lwfp_redirect_state(eng, f.rec, sizeof(f.rec), "nope") == -ESRCH,
	      "unknown service");
	/* S's outbound goes on to T */
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(!lwfp_set_records(eng, s, f.rec, sizeof(f.rec)), "set");
	CHECK(!connect(s, (struct sockaddr *)&dst, dlen), "connect");
	t = accept_timeout(t_lfd, 3000);
	REQUIRE(t >= 0, "S's outbound must reach T");
	CHECK(!lwfp_query_records(eng, t, rec2, &len), "T's records");
	CHECK(lwfp_redirect_state(eng, rec2, len, "S") ==
	      LWFP_PREVIOUSLY_REDIRECTED_BY_SELF, "S before T");
	CHECK(lwfp_redirect_state(eng, rec2, len, "T") ==
	      LWFP_REDIRECTED_BY_SELF, "T last");
	{
		unsigned char blob[LWFP_CONTEXT_MAX_LEN];
		struct lwfp_context ctx;
		size_t blen = sizeof(blob);

		/* T's context is the one of the redirect that brought the
		 * flow to T: its client is this process (S) */
		CHECK(!lwfp_query_context(eng, t, blob, &blen) &&
		      !lwfp_context_decode(blob, blen, &ctx) &&
		      ctx.pid == (uint32_t)getpid() &&
		      !strcmp(ctx.service, "T"), "T's context");
		CHECK(ctx.rule_context_len == 0,
		      "a rule without context bytes gave %zu of them",
		      ctx.rule_context_len);
	}
	close(t);
	close(s);
	close(t_lfd);
	flow_close(&f, eng);
}

/* A service nobody listens on: passed over, or the connect refused. */
static void fail_mode(const char *mode, bool refused)
{
	uint16_t origin = start_origin(), dead = unused_port("127.0.0.1");
	char listen[32], dport[8];
	int fd, err;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", dead);
	snprintf(dport, sizeof(dport), "%u", origin);
	REQUIRE(!lwfp_run("service", "add", "down", "--listen", listen,
			  "--fail", mode, NULL), "service add --fail %s", mode);
	REQUIRE(!lwfp_run("rule", "add", "--service", "down", "--dport", dport,
			  NULL), "rule add");
	/* from a client process: this one is the engine's svc cgroup too */
	{
		pid_t pid = fork();

		if (pid == 0) {
			cg_enter("app");
			fd = connect_to(AF_INET, "127.0.0.1", origin);
			err = fd < 0 ? errno : 0;
			if (fd >= 0 && (write(fd, "x", 1) != 1 ||
					read(fd, listen, 1) != 1))
				_exit(3);
			_exit(refused ? (err == ECONNREFUSED ? 0 : 1) :
					(err == 0 ? 0 : 2));
		}
		CHECK(client_wait(pid) == 0, "--fail %s: wrong outcome", mode);
	}
	CHECK(counter(refused ? "service_down_refused" :
				"service_down_passed_over") == 1, "counted");
}

static void test_fail_open(void)
{
	fail_mode("open", false);
}

static void test_fail_closed(void)
{
	fail_mode("closed", true);
}

/* Eight services, each with its own rule: each flow lands at its own. */
static void test_eight_services(void)
{
	enum { N = 8 };
	int lfd[N];
	uint16_t svc_port[N], orig[N];
	pid_t pids[N];
	struct lwfp *eng;

	for (int i = 0; i < N; i++) {
		char name[16], listen[32], dport[8], cg[128];

		lfd[i] = listen_on("127.0.0.1", &svc_port[i]);
		orig[i] = unused_port("127.0.0.1");
		snprintf(name, sizeof(name), "svc%d", i);
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port[i]);
		snprintf(dport, sizeof(dport), "%u", orig[i]);
		snprintf(cg, sizeof(cg), "%s/svc", env.base);
		REQUIRE(!lwfp_run("service", "add", name, "--listen", listen,
				  "--cgroup", cg, "--weight", "7", NULL) &&
			!lwfp_run("rule", "add", "--service", name, "--dport",
				  dport, NULL), "service %d", i);
	}
	REQUIRE(!lwfp_open(env.pin_dir, &eng), "open");
	for (int i = 0; i < N; i++) {
		struct client c = { .cgroup = "app", .family = AF_INET,
				    .ip = "127.0.0.1", .port = orig[i],
				    .send = "8", .expect = "ok" };

		pids[i] = client_start(&c);
	}
	for (int i = 0; i < N; i++) {
		unsigned char blob[LWFP_CONTEXT_MAX_LEN];
		struct lwfp_context ctx;
		size_t len = sizeof(blob);
		char name[16];
		int a = accept_timeout(lfd[i], 5000);

		snprintf(name, sizeof(name), "svc%d", i);
		CHECK(a >= 0 && !lwfp_query_context(eng, a, blob, &len) &&
		      !lwfp_context_decode(blob, len, &ctx) &&
		      !strcmp(ctx.service, name) &&
		      addr_port(&ctx.orig_dst) == orig[i],
		      "flow %d at its service", i);
		if (a >= 0) {
			CHECK(write(a, "ok", 2) == 2, "reply");
			close(a);
		}
	}
	for (int i = 0; i < N; i++) {
		CHECK(client_wait(pids[i]) == 0, "client %d", i);
		close(lfd[i]);
	}
	lwfp_close(eng);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"three services, crossing rules: the exact path of each flow",
		"forged, foreign and replayed records refused; misdirected ones fresh",
		"lwfp_redirect_state and the context of the hop",
		"--fail open: a service not listening is passed over",
		"--fail closed: ECONNREFUSED at connect time",
		"eight services at once",
	};
	static const test_fn fns[] = {
		test_paths, test_records_forged_replayed, test_redirect_state,
		test_fail_open, test_fail_closed, test_eight_services,
	};

	env_init(argc, argv, "chains");
	return run_tests(names, fns, sizeof(fns) / sizeof(fns[0]));
}
