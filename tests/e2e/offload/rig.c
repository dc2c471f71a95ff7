// SPDX-License-Identifier: MIT
/* See rig.h. */
#include <poll.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>

#include "fdpass.h"
#include "rig.h"

struct rig rig = { .svc_lfd = -1, .origin_lfd = -1, .conn_sock = -1,
		   .broker_out = -1 };

#define SAFETY_S	120	/* only against a hang: nothing is timed */

static void safety_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = SAFETY_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* ---- the connector: a child in cli whose sockets are the clients ---- */

struct conn_req {
	char ip[16];
	uint16_t port;
};

static void connector_main(int s)
{
	struct conn_req q;

	cg_enter("cli");
	while (recv(s, &q, sizeof(q), 0) == sizeof(q)) {
		struct sockaddr_storage ss;
		socklen_t len = make_addr(&ss, q.ip, q.port);
		int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;

		if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len))
			err = errno;
		if (fdpass_send(s, &err, sizeof(err), &fd, !err, 0) < 0)
			_exit(1);
		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}

static void connector_start(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	rig.connector = fork();
	if (rig.connector < 0)
		die("fork");
	if (rig.connector == 0) {
		dup2(sv[1], 3);
		close_range(4, ~0U, 0);
		connector_main(3);
	}
	close(sv[1]);
	rig.conn_sock = sv[0];
}

int client_connect(const char *ip, uint16_t port)
{
	struct conn_req q = { .port = port };
	int err = -1, fd = -1;
	size_t nfds;

	snprintf(q.ip, sizeof(q.ip), "%s", ip);
	if (send(rig.conn_sock, &q, sizeof(q), 0) != sizeof(q) ||
	    fdpass_recv(rig.conn_sock, &err, sizeof(err), &fd, 1, &nfds, 0) !=
		    sizeof(err))
		return -1;
	if (err && nfds) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		safety_timeouts(fd);
	return fd;
}

/* ---- the broker ---- */

static bool broker_listening(void)
{
	DIR *d = opendir(rig.run_dir);
	struct dirent *de;
	bool found = false;

	while (d && (de = readdir(d)))
		found |= !strncmp(de->d_name, "offload-", 8);
	if (d)
		closedir(d);
	return found;
}

void broker_start(void)
{
	char log[128];

	snprintf(log, sizeof(log), "%s/broker.log", rig.run_dir);
	rig.broker_out = open(log, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);
	rig.broker = fork();
	if (rig.broker < 0)
		die("fork");
	if (rig.broker == 0) {
		dup2(rig.broker_out, 1);
		dup2(rig.broker_out, 2);
		close_range(3, ~0U, 0);
		execl(env.lwfp, env.lwfp, "--pin-dir", env.pin_dir, "broker",
		      NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000 && !broker_listening(); i++) {
		if (waitpid(rig.broker, NULL, WNOHANG) == rig.broker) {
			rig.broker = 0;
			die("lwfp broker exited at start");
		}
		usleep(10000);
	}
	if (!broker_listening())
		die("lwfp broker does not listen in %s", rig.run_dir);
}

/* The broker's log, line by line, until fn says stop (true). */
static bool broker_log_each(bool (*fn)(const char *line, void *arg),
			    void *arg)
{
	char line[512];
	bool stop = false;
	FILE *f;

	if (rig.broker_out < 0)
		return false;
	lseek(rig.broker_out, 0, SEEK_SET);
	f = fdopen(dup(rig.broker_out), "r");
	while (f && !stop && fgets(line, sizeof(line), f))
		stop = fn(line, arg);
	if (f)
		fclose(f);
	return stop;
}

static bool log_print(const char *line, void *arg)
{
	int *n = arg;

	printf("#   broker: %s", line);
	return ++*n >= 40;
}

/* The broker's log on failure: what it says of each flow. */
static void broker_log_dump(void)
{
	int n = 0;

	broker_log_each(log_print, &n);
}

static bool log_has(const char *line, void *text)
{
	return strstr(line, text);
}

bool broker_said(const char *text)
{
	return broker_log_each(log_has, (void *)text);
}

void broker_stop(void)
{
	int status = 0;

	if (rig.broker > 0) {
		kill(rig.broker, SIGTERM);
		waitpid(rig.broker, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			printf("#   broker ended with status 0x%x\n", status);
	}
	rig.broker = 0;
	if (rig.broker_out >= 0) {
		if (getenv("LWFP_TEST_VERBOSE") || status)
			broker_log_dump();
		close(rig.broker_out);
	}
	rig.broker_out = -1;
}

/* Register service name, listening on 127.0.0.1:port from our cgroup
 * sub, and redirect connects to the origin to it. */
void service_redirect(const char *name, uint16_t port, const char *sub,
		      const char *weight)
{
	char listen[32], dport[8], cg[128];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(dport, sizeof(dport), "%u", rig.origin_port);
	snprintf(cg, sizeof(cg), "%s/%s", env.base, sub);
	if (lwfp_run("service", "add", name, "--listen", listen, "--cgroup",
		     cg, "--weight", weight, NULL) ||
	    lwfp_run("rule", "add", "--service", name, "--proto", "tcp",
		     "--dst", ORIGIN_IP "/32", "--dport", dport, NULL))
		die("service %s", name);
}

/* ---- the whole rig ---- */

void rig_start(bool with_broker)
{
	rig.svc_lfd = listen_on("127.0.0.1", &rig.svc_port);
	rig.origin_lfd = listen_on(ORIGIN_IP, &rig.origin_port);
	/* weight 30: ahead of a second service of the chain test */
	service_redirect("px", rig.svc_port, "svc", "30");
	if (lwfp_open(env.pin_dir, &rig.eng))
		die("lwfp_open");
	connector_start();
	if (with_broker)
		broker_start();
}

void rig_stop(void)
{
	broker_stop();
	if (rig.connector > 0) {
		kill(rig.connector, SIGKILL);
		waitpid(rig.connector, NULL, 0);
	}
	rig.connector = 0;
	if (rig.conn_sock >= 0)
		close(rig.conn_sock);
	if (rig.svc_lfd >= 0)
		close(rig.svc_lfd);
	if (rig.origin_lfd >= 0)
		close(rig.origin_lfd);
	rig.conn_sock = rig.svc_lfd = rig.origin_lfd = -1;
	if (rig.eng)
		lwfp_close(rig.eng);
	rig.eng = NULL;
}

/* ---- flows ---- */

bool proxy_connect_out(int lfd, int *a, int *b)
{
	unsigned char rec[LWFP_RECORDS_LEN], blob[LWFP_CONTEXT_MAX_LEN];
	size_t rlen = sizeof(rec), blen = sizeof(blob);
	struct lwfp_context ctx;

	*b = -1;
	*a = accept_timeout(lfd, 20000);
	if (*a < 0 || lwfp_query_records(rig.eng, *a, rec, &rlen) ||
	    lwfp_query_context(rig.eng, *a, blob, &blen) ||
	    lwfp_context_decode(blob, blen, &ctx))
		return false;
	*b = socket(ctx.orig_dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*b < 0 || lwfp_set_records(rig.eng, *b, rec, rlen) ||
	    connect(*b, (struct sockaddr *)&ctx.orig_dst,
		    ctx.orig_dst.ss_family == AF_INET ?
			    sizeof(struct sockaddr_in) :
			    sizeof(struct sockaddr_in6)))
		return false;
	safety_timeouts(*a);
	safety_timeouts(*b);
	return true;
}

bool flow_open(struct flow *f)
{
	*f = (struct flow){ -1, -1, -1, -1, -1 };
	f->c = client_connect(ORIGIN_IP, rig.origin_port);
	if (f->c < 0 || !proxy_connect_out(rig.svc_lfd, &f->a, &f->b))
		return false;
	f->o = accept_timeout(rig.origin_lfd, 20000);
	if (f->o >= 0)
		safety_timeouts(f->o);
	return f->o >= 0;
}

void flow_close_all(struct flow *f)
{
	int *fds[] = { &f->c, &f->a, &f->b, &f->o, &f->h };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* ---- streams ---- */

void stream_fill(uint64_t seed, uint64_t off, unsigned char *buf,
		 size_t len)
{
	while (len) {
		uint64_t w = off / 8;
		uint64_t v = (w ^ (seed << 40)) * 0x9E3779B97F4A7C15ull;
		size_t k = off % 8, n = 8 - k < len ? 8 - k : len;

		memcpy(buf, (unsigned char *)&v + k, n);
		buf += n;
		off += n;
		len -= n;
	}
}

int64_t stream_check(uint64_t seed, uint64_t off, const unsigned char *buf,
		     size_t len)
{
	static __thread unsigned char want[262144];

	while (len) {
		size_t n = len < sizeof(want) ? len : sizeof(want);

		stream_fill(seed, off, want, n);
		if (memcmp(want, buf, n)) {
			for (size_t i = 0; i < n; i++)
				if (want[i] != buf[i])
					return (int64_t)(off + i);
		}
		buf += n;
		off += n;
		len -= n;
	}
	return -1;
}

static bool send_range(struct sender *s, uint64_t upto, unsigned char *buf,
		       size_t cap)
{
	while (s->sent < upto) {
		size_t n = upto - s->sent < cap ? upto - s->sent : cap;
		ssize_t w;

		stream_fill(s->seed, s->from + s->sent, buf, n);
		w = send(s->fd, buf, n, MSG_NOSIGNAL);
		if (w <= 0) {
			s->err = w < 0 ? errno : EIO;
			return false;
		}
		s->sent += w;
	}
	return true;
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	unsigned char *buf = malloc(262144);
	uint64_t half = s->after_eof ? s->len / 2 : s->len;

	if (buf && send_range(s, half, buf, 262144)) {
		while (s->after_eof && !s->after_eof->done)
			usleep(1000);
		if (send_range(s, s->len, buf, 262144) && s->shut)
			shutdown(s->fd, SHUT_WR);
	}
	free(buf);
	return NULL;
}

static void *receiver_main(void *arg)
{
	struct receiver *r = arg;
	unsigned char *buf = malloc(262144);
	ssize_t n;

	while (buf && (n = recv(r->fd, buf, 262144, 0)) > 0) {
		if (r->bad < 0)
			r->bad = stream_check(r->seed, r->from + r->got, buf, n);
		r->got += n;
	}
	r->err = !buf ? ENOMEM : n < 0 ? errno : 0;
	free(buf);
	r->done = true;
	return NULL;
}

void sender_start(struct sender *s)
{
	s->sent = 0;
	s->err = 0;
	if (pthread_create(&s->t, NULL, sender_main, s))
		die("pthread_create");
}

int sender_join(struct sender *s)
{
	pthread_join(s->t, NULL);
	return s->err;
}

void receiver_start(struct receiver *r)
{
	r->got = 0;
	r->err = 0;
	r->bad = -1;
	r->done = false;
	if (pthread_create(&r->t, NULL, receiver_main, r))
		die("pthread_create");
}

void receiver_join(struct receiver *r)
{
	pthread_join(r->t, NULL);
}

/* ---- small helpers ---- */

bool read_exact(int fd, void *buf, size_t len)
{
	size_t have = 0;

	while (have < len) {
		ssize_t n = recv(fd, (char *)buf + have, len - have, 0);

		if (n <= 0)
			return false;
		have += n;
	}
	return true;
}

bool write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, (const char *)buf + done, len - done,
				 MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

bool offload_wait(int h, struct lwfp_offload_end *end)
{
	struct pollfd p = { .fd = h, .events = POLLIN };

	if (poll(&p, 1, SAFETY_S * 1000) != 1)
		return false;
	return lwfp_offload_end(h, end) == 0;
}

static const char *const offload_maps[] = {
	"lwfp_offload_ctl", "lwfp_offload_count", "lwfp_offload_peers",
	"lwfp_offload_relay",
};

bool maps_settle(long n)
{
	for (int tries = 0; tries < SAFETY_S * 100; tries++) {
		bool all = true;

		for (size_t i = 0; i < 4; i++)
			all &= map_entries(offload_maps[i]) == n;
		if (all)
			return true;
		usleep(10000);
	}
	for (size_t i = 0; i < 4; i++)
		printf("#   %s: %ld entries, want %ld\n", offload_maps[i],
		       map_entries(offload_maps[i]), n);
	return false;
}

void hard_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

int read_end(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	return n == 0 ? 0 : errno;
}

/* ---- transfers and reports ---- */

double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Offload f; the proxy then drops its descriptors, as it may. */
int offload(struct flow *f, bool keep)
{
	int err = lwfp_offload(rig.eng, f->a, f->b, &f->h);

	if (!err && !keep) {
		close(f->a);
		close(f->b);
		f->a = f->b = -1;
	}
	return err;
}

void xfer_init(struct xfer *x, const struct flow *f, uint64_t up,
		       uint64_t down, uint64_t seed)
{
	x->cs = (struct sender){ .fd = f->c, .seed = seed, .len = up,
				 .shut = true };
	x->os = (struct sender){ .fd = f->o, .seed = seed + 1, .len = down,
				 .shut = true };
	x->orr = (struct receiver){ .fd = f->o, .seed = seed };
	x->cr = (struct receiver){ .fd = f->c, .seed = seed + 1 };
}

void xfer_go(struct xfer *x)
{
	receiver_start(&x->orr);
	receiver_start(&x->cr);
	sender_start(&x->cs);
	sender_start(&x->os);
}

void xfer_start(struct xfer *x, const struct flow *f, uint64_t up,
		uint64_t down, uint64_t seed)
{
	xfer_init(x, f, up, down, seed);
	xfer_go(x);
}

/* Did r (the `who` end) get exactly from..len of what s sent, then EOF? */
static void got_all(const struct receiver *r, const struct sender *s,
		    const char *who, const char *what)
{
	uint64_t want = s->from + s->len - r->from;

	CHECK(r->got == want && r->err == 0 && r->bad < 0,
	      "%s: %s got %llu of %llu, end %s, first wrong byte %lld",
	      what, who, (unsigned long long)r->got,
	      (unsigned long long)want, strerror(r->err), (long long)r->bad);
}

/* Join; check that each end got exactly from..len of the other's, EOF. */
void xfer_check(struct xfer *x, const char *what)
{
	CHECK(!sender_join(&x->cs), "%s: client send: %s", what,
	      strerror(x->cs.err));
	CHECK(!sender_join(&x->os), "%s: origin send: %s", what,
	      strerror(x->os.err));
	receiver_join(&x->orr);
	receiver_join(&x->cr);
	got_all(&x->orr, &x->cs, "origin", what);
	got_all(&x->cr, &x->os, "client", what);
}

void report_check(struct flow *f, int want_end, uint64_t up,
			 uint64_t down, const char *what)
{
	struct lwfp_offload_end e;

	if (!offload_wait(f->h, &e)) {
		CHECK(false, "%s: no end report", what);
		return;
	}
	CHECK(e.end == want_end && e.to_origin == up && e.to_client == down,
	      "%s: end %d (want %d), %llu to the origin (want %llu), %llu "
	      "to the client (want %llu)", what, e.end, want_end,
	      (unsigned long long)e.to_origin, (unsigned long long)up,
	      (unsigned long long)e.to_client, (unsigned long long)down);
}

