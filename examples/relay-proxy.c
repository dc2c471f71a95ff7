/* SPDX-License-Identifier: MIT */
/*
 * relay-proxy: an inspecting redirect service on the lwfp native API.
 *
 * lwfp redirects a process's outbound TCP connect to this proxy. For each
 * connection it accepts, the proxy reads the redirect records and the
 * redirect context (original destination, client pid, uid, comm...),
 * opens its own socket, hands it the records before connect() so that
 * lwfp continues the flow instead of redirecting it back here, connects
 * to the original destination and relays both ways, logging what the
 * client said first (an HTTP request line or a TLS SNI).
 *
 * Once a flow has moved --offload-after bytes (both ways together), the
 * proxy stops reading, writes on every byte it read and hands the flow to
 * the kernel (lwfp_offload(), with the engine's `lwfp broker` running):
 * the bytes then move from socket to socket without crossing user space,
 * and the proxy only waits for the flow's end on a handle in its epoll
 * set. The hand-over costs more than relaying a short flow here, so short
 * flows never pay it (docs/performance.md, section 3). --offload-after 0
 * hands each flow over right after its first bytes are logged;
 * --no-offload relays every flow here. Without a broker (or on a kernel
 * without the offload verdict) it relays in user space.
 *
 * One thread, one level-triggered epoll loop (edge-triggered on a client
 * while its first bytes are peeked at, with --offload-after 0), 128 KiB
 * per direction. Written to survive hostile clients: it holds at most
 * --max-flows flows (the next connections wait in the listen backlog),
 * ends flows idle for --idle seconds, backs off instead of spinning when
 * descriptors or memory run out, escapes what clients control before
 * logging it, and logs at a bounded rate. An offloaded flow still counts against --max-flows until
 * it ends, but is not ended for being idle: the proxy no longer sees its
 * bytes (the kernel bounds its memory; docs/security.md).
 *
 *   relay-proxy --listen 127.0.0.1:9000 [--pin-dir DIR] [--max-flows N]
 *               [--idle SECONDS] [--count N] [--offload]
 *               [--offload-after BYTES] [--no-offload]
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "logline.h"
#include "lwfp.h"
#include "sniff.h"

/* a loopback window's worth in one read (docs/performance.md, section 3) */
#define BUF_SIZE	(128 * 1024)
#define SNIFF_WINDOW	4096	/* first client bytes looked at */
#define MAX_EVENTS	64
#define TICK_MS		250	/* idle sweeps, accept back-off */
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000
#define FD_RESERVE	16	/* descriptors not for flows */
#define LOG_RATE	50	/* lines a second, after a burst of */
#define LOG_BURST	200
/* bytes a flow moves here before it is handed to the kernel (section 3
 * of docs/performance.md says why this much) */
#define OFFLOAD_AFTER	(16 * 1024 * 1024)

/* One direction: bytes read from one socket, not yet written to the other. */
struct pipe {
	char buf[BUF_SIZE];
	size_t head, tail;		/* pending bytes: buf[head..tail) */
	bool eof;			/* the sender shut its side down */
	bool done;			/* ... and we passed that on */
	unsigned long long bytes;	/* bytes delivered */
};

/* What epoll hands back: one socket of a flow, or the listener/signalfd. */
struct conn {
	int fd;
	uint32_t events;		/* watched now; 0: not registered */
	struct flow *flow;
};

struct flow {
	struct conn client, server;
	struct conn handle;	/* the offload handle, once offloaded */
	struct pipe up, down;	/* client->server, server->client */
	bool connected, closed;
	bool offloaded;		/* the kernel relays it now */
	bool user_relay;	/* relayed here to the end */
	struct lwfp_context ctx;
	uint8_t ctx_buf[LWFP_CONTEXT_MAX_LEN];	/* ctx points into it */
	uint8_t sniff_buf[SNIFF_WINDOW];
	size_t sniff_len;
	bool sniff_done;
	/* for the log: ` sni="..."`, escaped */
	char sniffed[LOG_ESCAPED_LEN(SNIFF_SNI_MAX) + 16];
	unsigned long long moved;	/* bytes read here, both ways */
	long long last_active_ms;	/* CLOCK_MONOTONIC of its last byte */
	struct flow *next;
};

static struct lwfp *engine;
/* hand flows to the kernel (the default; --no-offload: never) */
static bool offload = true;
/* --offload-after: 0 hands a flow over once its first bytes are logged */
static unsigned long long offload_after = OFFLOAD_AFTER;
static int epfd = -1;
static struct flow *flows;
static unsigned long flows_done, flows_held;

/* What a hostile client must not be able to exhaust. */
static struct limits {
	unsigned long max_flows;	/* held at once */
	long long idle_ms;		/* a flow with no byte for this long */
} limits = { .max_flows = 1024, .idle_ms = 300 * 1000 };

/* The listener stops being watched while flows are at the limit, or
 * while accepting would fail for want of descriptors or memory. */
static struct accepting {
	struct conn *listener;
	bool paused;
	long long resume_ms;		/* after a failure; 0: on a flow's end */
	long backoff_ms;
} acc;

static struct log_rate log_rate;

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* One log line, unless lines come faster than LOG_RATE a second. */
static void __attribute__((format(printf, 2, 3)))
log_line(FILE *out, const char *fmt, ...)
{
	va_list ap;

	if (!log_rate_take(&log_rate, out, "relay-proxy"))
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

/* Make epoll watch exactly `events` on c. 0 unregisters it: a socket that
 * hung up while we have nothing to do with it must not wake us in a loop. */
static int watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	int op;

	if (events == c->events)
		return 0;
	op = !c->events ? EPOLL_CTL_ADD :
	     !events ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
	if (epoll_ctl(epfd, op, c->fd, &ev) < 0)
		return errno;
	c->events = events;
	return 0;
}

/* The rule context is opaque bytes: shown, escaped, if it is text. */
static const char *rule_context_text(const struct lwfp_context *ctx,
				     char *out, size_t outlen)
{
	char text[LOG_ESCAPED_LEN(64)];
	size_t len = ctx->rule_context_len;
	const uint8_t *p = ctx->rule_context;

	if (len && !p[len - 1])
		len--;				/* a C string's NUL */
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e) {
			snprintf(out, outlen, " rule-context-len=%zu",
				 ctx->rule_context_len);
			return out;
		}
	if (len)
		snprintf(out, outlen, " rule-context=\"%s\"",
			 log_escape(p, len, text, sizeof(text)));
	else
		out[0] = '\0';
	return out;
}

/* Who the client is, escaped: a process may name itself anything. */
static const char *client_text(const struct lwfp_context *ctx, char *out,
			       size_t outlen)
{
	char comm[LOG_ESCAPED_LEN(sizeof(ctx->comm))];
	char svc[LOG_ESCAPED_LEN(sizeof(ctx->service))];

	snprintf(out, outlen, "client=pid %u (%s) uid %u service=%s", ctx->pid,
		 log_escape(ctx->comm, (size_t)-1, comm, sizeof(comm)),
		 ctx->uid, log_escape(ctx->service, (size_t)-1, svc,
				      sizeof(svc)));
	return out;
}

static void log_flow(struct flow *f, const char *what, const char *why)
{
	char orig[ADDR_LEN], who[256], rc[LOG_ESCAPED_LEN(64) + 32];
	char err[256] = "";

	if (what)
		snprintf(err, sizeof(err), " error=\"%s: %s\"", what, why);
	log_line(stdout, "relay-proxy: flow orig=%s %s rule=%u up=%llu "
		 "down=%llu%s%s%s%s\n", addr_fmt(&f->ctx.orig_dst, orig),
		 client_text(&f->ctx, who, sizeof(who)), f->ctx.rule_id,
		 f->up.bytes, f->down.bytes, f->offloaded ? " offloaded" : "",
		 f->sniffed, rule_context_text(&f->ctx, rc, sizeof(rc)), err);
}

/* Close one socket of a flow; reset it if the flow failed. */
static void conn_close(struct conn *c, bool reset)
{
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	if (c->fd < 0)
		return;
	if (reset)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	/* closing does not take it out of epoll while the broker holds the
	 * socket too: epoll would go on reporting it, for a freed flow */
	watch(c, 0);
	close(c->fd);
	c->fd = -1;
	c->events = 0;
}

/* End a flow; on error reset both sockets, so both peers see it failed.
 * Closing the handle of an offloaded flow that runs resets it too. */
static void flow_end(struct flow *f, const char *what, const char *why)
{
	log_flow(f, what, why);
	conn_close(&f->client, what);
	conn_close(&f->server, what);
	conn_close(&f->handle, false);
	f->closed = true;	/* freed after this batch of events */
	flows_done++;
	flows_held--;
}

/* Run the sniffers over the first client bytes seen so far. */
static void sniff_decide(struct flow *f)
{
	char out[SNIFF_SNI_MAX], esc[LOG_ESCAPED_LEN(SNIFF_SNI_MAX)];
	int http, tls;

	http = sniff_http_request_line(f->sniff_buf, f->sniff_len, out,
				       sizeof(out));
	if (!http) {
		snprintf(f->sniffed, sizeof(f->sniffed), " http=\"%s\"",
			 log_escape(out, (size_t)-1, esc, sizeof(esc)));
		f->sniff_done = true;
		return;
	}
	tls = sniff_tls_sni(f->sniff_buf, f->sniff_len, out, sizeof(out));
	if (!tls)
		snprintf(f->sniffed, sizeof(f->sniffed), " sni=\"%s\"",
			 log_escape(out, (size_t)-1, esc, sizeof(esc)));
	f->sniff_done = !tls || (http != -EAGAIN && tls != -EAGAIN) ||
			f->sniff_len == SNIFF_WINDOW;
}

/* Look at the first client bytes read until one sniffer decides. */
static void flow_sniff(struct flow *f, const char *data, size_t n)
{
	if (n > SNIFF_WINDOW - f->sniff_len)
		n = SNIFF_WINDOW - f->sniff_len;
	memcpy(f->sniff_buf + f->sniff_len, data, n);
	f->sniff_len += n;
	sniff_decide(f);
}

/* Offloading at once (--offload-after 0), the first client bytes are
 * looked at, not read: they stay queued and the kernel relays them with
 * the rest (no copy, and the origin cannot answer and close before the
 * flow is handed over). */
static bool sniffing(const struct flow *f)
{
	return offload && !offload_after && !f->sniff_done && !f->user_relay;
}

/* Relayed here to the end. */
static void to_user_relay(struct flow *f)
{
	f->user_relay = true;
}

/* Did the client stop sending (FIN, reset) with the sniffers undecided? */
static bool client_done(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	       ti.tcpi_state != TCP_ESTABLISHED;
}

/* Peek at what the client sent; the client is watched edge-triggered
 * meanwhile, so that bytes looked at and left queued do not wake us
 * again and again. Returns 0 or an errno. */
static int flow_peek(struct flow *f)
{
	ssize_t n = recv(f->client.fd, f->sniff_buf, SNIFF_WINDOW, MSG_PEEK);

	if (n < 0)
		return errno == EAGAIN ? 0 : errno;
	if (n == 0 || ((size_t)n == f->sniff_len &&
		       client_done(f->client.fd))) {
		/* said all before we could tell: what was peeked is read
		 * again and looked at as it is read */
		to_user_relay(f);
		f->sniff_len = 0;
		return 0;
	}
	if ((size_t)n == f->sniff_len)
		return 0;
	f->sniff_len = n;
	f->last_active_ms = now_ms();
	sniff_decide(f);
	return 0;
}

/*
 * Once the flow has moved --offload-after bytes (or, with 0, once the
 * client's first bytes are logged), it waits to be offloaded: nothing
 * more is read, so that once what was read is written the kernel takes
 * both sockets with all they hold, in order.
 */
static bool holding(const struct flow *f)
{
	if (!offload || f->user_relay)
		return false;
	return offload_after ? f->moved >= offload_after : f->sniff_done;
}

/* May we read from the socket this pipe fills? While sniffing, the
 * client's bytes are peeked at instead. */
static bool may_read(const struct flow *f, const struct pipe *p)
{
	return !holding(f) && (p != &f->up || !sniffing(f));
}

/*
 * One read and one write for one direction: level-triggered epoll brings
 * us back while there is more, and no flow starves the others. Returns 0
 * or an errno (a reset peer: ECONNRESET, EPIPE).
 */
static int pump(struct flow *f, struct pipe *p, int from, int to)
{
	ssize_t n;

	if (!p->eof && p->tail < BUF_SIZE && may_read(f, p)) {
		n = read(from, p->buf + p->tail, BUF_SIZE - p->tail);
		if (n < 0 && errno != EAGAIN)
			return errno;
		if (n == 0)
			p->eof = true;
		if (n > 0 && p == &f->up && !f->sniff_done)
			flow_sniff(f, p->buf + p->tail, n);
		if (n > 0) {
			p->tail += n;
			f->moved += n;
			f->last_active_ms = now_ms();
		}
	}
	if (p->head < p->tail) {
		n = write(to, p->buf + p->head, p->tail - p->head);
		if (n < 0 && errno == EPIPE) {
			/* the receiver closed; drop what it will never read,
			 * but let it finish talking (e.g. an error reply) */
			p->eof = p->done = true;
			p->head = p->tail = 0;
			return 0;
		}
		if (n < 0 && errno != EAGAIN)
			return errno;
		if (n > 0) {
			p->head += n;
			p->bytes += n;
			f->last_active_ms = now_ms();
		}
		if (p->head == p->tail)
			p->head = p->tail = 0;
	}
	if (p->eof && p->head == p->tail && !p->done) {
		/* half-close: pass the FIN on, the other direction goes on */
		if (shutdown(to, SHUT_WR) < 0 && errno != ENOTCONN)
			return errno;
		p->done = true;
	}
	return 0;
}

/* A socket wants to read while its pipe has room (and the flow is not
 * held for offload), to write while the pipe towards it holds bytes. */
static uint32_t wanted(const struct flow *f, const struct pipe *in,
		       const struct pipe *out)
{
	uint32_t out_ev = out->head < out->tail ? EPOLLOUT : 0;

	if (in == &f->up && sniffing(f))
		return EPOLLIN | EPOLLET | out_ev;
	return (!in->eof && in->tail < BUF_SIZE && may_read(f, in) ?
		EPOLLIN : 0) | out_ev;
}

/* Say once per reason why flows are relayed here (no broker: EOPNOTSUPP). */
static void offload_refused(int err)
{
	static uint64_t said[4];
	unsigned int bit = (unsigned int)-err % 256;

	if (said[bit / 64] & (1ull << (bit % 64)))
		return;
	said[bit / 64] |= 1ull << (bit % 64);
	log_line(stderr, "relay-proxy: not offloading flows (%s): relaying "
		 "them in user space\n", lwfp_strerror(err));
}

/* Is the socket still open both ways (its peer sent no FIN, no reset)? */
static bool established(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	return !getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) &&
	       ti.tcpi_state == TCP_ESTABLISHED;
}

/*
 * Hand a held flow whose bytes read are all written to the kernel; on
 * success only the handle stays watched (readable at the flow's end). On
 * failure nothing was read: the flow is relayed here. Returns an errno.
 */
static int flow_offload(struct flow *f)
{
	int err, h;

	/* a flow closing on one side ends here: the broker pairs only
	 * established sockets, and the flow is about to end anyway */
	if (f->up.eof || f->down.eof || !established(f->client.fd) ||
	    !established(f->server.fd)) {
		to_user_relay(f);
		return 0;
	}
	err = lwfp_offload(engine, f->client.fd, f->server.fd, &h);
	if (err) {
		offload_refused(err);
		to_user_relay(f);
		return 0;
	}
	f->offloaded = true;
	f->handle = (struct conn){ .fd = h, .flow = f };
	/* the broker holds its own descriptors of both sockets */
	conn_close(&f->client, false);
	conn_close(&f->server, false);
	return watch(&f->handle, EPOLLIN);
}

/* An offloaded flow's handle is readable: it has ended. */
static void offload_event(struct flow *f)
{
	struct lwfp_offload_end end;
	int err = lwfp_offload_end(f->handle.fd, &end);

	if (err == -EAGAIN)
		return;
	if (err) {
		flow_end(f, "offload", lwfp_strerror(err));
		return;
	}
	f->up.bytes += end.to_origin;
	f->down.bytes += end.to_client;
	if (end.end)
		flow_end(f, "offloaded relay", lwfp_strerror(end.end));
	else
		flow_end(f, NULL, NULL);
}

/* Move a flow on after an event: 0, or an errno and the step that failed. */
static int flow_step(struct flow *f, const char **what)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (!f->connected) {
		/* the outbound connect finished, one way or another */
		*what = "connect";
		if (getsockopt(f->server.fd, SOL_SOCKET, SO_ERROR, &err, &len))
			return errno;
		if (err)
			return err;
		f->connected = true;
	}
	*what = "relay";
	err = sniffing(f) ? flow_peek(f) : 0;
	if (!err)
		err = pump(f, &f->up, f->client.fd, f->server.fd);
	if (!err)
		err = pump(f, &f->down, f->server.fd, f->client.fd);
	if (err || (f->up.done && f->down.done))
		return err;
	*what = "offload";
	if (holding(f) && f->up.head == f->up.tail &&
	    f->down.head == f->down.tail) {
		err = flow_offload(f);
		if (err || f->offloaded)
			return err;
	}
	*what = "epoll";
	err = watch(&f->client, wanted(f, &f->up, &f->down));
	if (!err)
		err = watch(&f->server, wanted(f, &f->down, &f->up));
	return err;
}

static void flow_event(struct flow *f)
{
	const char *what = NULL;
	int err;

	if (f->offloaded) {
		offload_event(f);
		return;
	}
	err = flow_step(f, &what);

	if (err)
		flow_end(f, what, strerror(err));
	else if (f->up.done && f->down.done)
		flow_end(f, NULL, NULL);	/* both sides said all */
}

/* Open the outbound socket; epoll tells us when the connect is done. */
static void flow_connect(struct flow *f, const void *records, size_t len)
{
	const struct sockaddr_storage *dst = &f->ctx.orig_dst;
	int fd, err;

	fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		flow_end(f, "socket", strerror(errno));
		return;
	}
	f->server.fd = fd;
	/* before connect(): this connect continues the flow, so lwfp does
	 * not redirect it back to us */
	err = lwfp_set_records(engine, fd, records, len);
	if (err) {
		flow_end(f, "set records", lwfp_strerror(err));
		return;
	}
	if (connect(fd, (const struct sockaddr *)dst, addr_len(dst)) < 0 &&
	    errno != EINPROGRESS) {
		flow_end(f, "connect", strerror(errno));
		return;
	}
	err = watch(&f->server, EPOLLOUT);
	if (err)
		flow_end(f, "epoll", strerror(err));
}

static void log_accepted(const struct lwfp_context *ctx)
{
	char orig[ADDR_LEN], who[256], rc[LOG_ESCAPED_LEN(64) + 32];

	log_line(stdout, "relay-proxy: accepted flow orig=%s %s gid %u cgroup "
		 "%llu rule=%u%s\n", addr_fmt(&ctx->orig_dst, orig),
		 client_text(ctx, who, sizeof(who)), ctx->gid,
		 (unsigned long long)ctx->cgroup_id, ctx->rule_id,
		 rule_context_text(ctx, rc, sizeof(rc)));
}

/* Read what lwfp knows about an accepted socket; refuse it if it was not
 * redirected (someone connected to the proxy directly). */
static void flow_start(int fd)
{
	uint8_t records[LWFP_RECORDS_LEN];
	size_t rec_len = sizeof(records), ctx_len;
	struct sockaddr_storage peer = { 0 };
	socklen_t plen = sizeof(peer);
	char from[ADDR_LEN];
	struct flow *f;
	int err;

	f = calloc(1, sizeof(*f));
	if (!f) {
		log_line(stderr, "relay-proxy: out of memory\n");
		close(fd);
		return;
	}
	ctx_len = sizeof(f->ctx_buf);
	err = lwfp_query_records(engine, fd, records, &rec_len);
	if (!err)
		err = lwfp_query_context(engine, fd, f->ctx_buf, &ctx_len);
	if (!err)
		err = lwfp_context_decode(f->ctx_buf, ctx_len, &f->ctx);
	if (err) {
		getpeername(fd, (struct sockaddr *)&peer, &plen);
		if (err == -ENODATA)
			log_line(stdout, "relay-proxy: refusing direct "
				 "connection from %s\n", addr_fmt(&peer, from));
		else
			log_line(stderr, "relay-proxy: connection from %s: "
				 "%s\n", addr_fmt(&peer, from),
				 lwfp_strerror(err));
		close(fd);
		free(f);
		return;
	}
	f->client = (struct conn){ .fd = fd, .flow = f };
	f->server = (struct conn){ .fd = -1, .flow = f };
	f->handle = (struct conn){ .fd = -1, .flow = f };
	f->next = flows;
	flows = f;
	flows_held++;
	f->last_active_ms = now_ms();
	log_accepted(&f->ctx);
	flow_connect(f, records, rec_len);
}

/* Stop accepting: until a flow ends (resume_ms 0), or until resume_ms. */
static void accept_pause(long long resume_ms)
{
	if (!acc.paused && watch(acc.listener, 0))
		return;		/* still watched: we will just try again */
	acc.paused = true;
	acc.resume_ms = resume_ms;
}

/* Out of descriptors or memory: wait a while, longer each time, rather
 * than spin on a listener that stays readable. */
static bool accept_starved(int err)
{
	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM)
		return false;
	acc.backoff_ms = acc.backoff_ms ? acc.backoff_ms * 2 : BACKOFF_MIN_MS;
	if (acc.backoff_ms > BACKOFF_MAX_MS)
		acc.backoff_ms = BACKOFF_MAX_MS;
	log_line(stderr, "relay-proxy: accept: %s; holding %lu flows, "
		 "accepting again in %ld ms\n", strerror(err), flows_held,
		 acc.backoff_ms);
	accept_pause(now_ms() + acc.backoff_ms);
	return true;
}

static void accept_flows(int lfd)
{
	int fd;

	while (flows_held < limits.max_flows) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			acc.backoff_ms = 0;
			flow_start(fd);
		} else if (errno != ECONNABORTED) {
			if (errno != EAGAIN && !accept_starved(errno))
				log_line(stderr, "relay-proxy: accept: %s\n",
					 strerror(errno));
			return;
		}
	}
	/* the rest wait in the listen backlog until a flow ends */
	accept_pause(0);
}

/* Accept again once a pause is over. */
static void accept_resume(void)
{
	if (!acc.paused || flows_held >= limits.max_flows ||
	    (acc.resume_ms && now_ms() < acc.resume_ms))
		return;
	if (!watch(acc.listener, EPOLLIN))
		acc.paused = false;
}

/* End the flows that moved no byte for --idle: an idle client must not
 * hold its place for ever. Offloaded flows are not seen moving bytes and
 * are left to their peers (the kernel bounds what they hold). */
static void sweep_idle(void)
{
	long long now = now_ms();
	char why[64];

	snprintf(why, sizeof(why), "no bytes for %lld s",
		 limits.idle_ms / 1000);
	for (struct flow *f = flows; f; f = f->next)
		if (!f->closed && !f->offloaded &&
		    now - f->last_active_ms >= limits.idle_ms)
			flow_end(f, "idle", why);
}

/* Free the flows ended in this batch: later events of the batch may
 * still have pointed at them. */
static void reap_flows(void)
{
	struct flow **pp = &flows, *f;

	while ((f = *pp)) {
		if (f->closed) {
			*pp = f->next;
			free(f);
		} else {
			pp = &f->next;
		}
	}
}

static int listen_on(const struct sockaddr_storage *addr)
{
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);
	char name[ADDR_LEN];
	int fd, one = 1;

	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)addr, addr_len(addr)) ||
	    listen(fd, SOMAXCONN) ||
	    getsockname(fd, (struct sockaddr *)&bound, &len)) {
		fprintf(stderr, "relay-proxy: cannot listen on %s: %s\n",
			addr_fmt(addr, name), strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* the bound address: port 0 picks a free one */
	printf("relay-proxy: listening on %s\n", addr_fmt(&bound, name));
	fflush(stdout);
	return fd;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: relay-proxy --listen ADDR:PORT [--pin-dir DIR] "
		"[--max-flows N]\n"
		"                   [--idle SECONDS] [--count N] [--offload]\n"
		"                   [--offload-after BYTES] [--no-offload]\n"
		"  --listen ADDR:PORT  where redirected connections arrive:\n"
		"                      127.0.0.1:9000 or [::1]:9000\n"
		"  --pin-dir DIR       the lwfp engine (default: $%s or %s)\n"
		"  --max-flows N       flows held at once (1024); more wait\n"
		"  --idle SECONDS      end a flow idle this long (300); not\n"
		"                      offloaded flows, which the kernel relays\n"
		"  --count N           exit after N flows ended\n"
		"  --offload           hand flows to the kernel (lwfp broker)\n"
		"                      once they have moved --offload-after\n"
		"                      bytes (the default)\n"
		"  --offload-after BYTES\n"
		"                      relay a flow\n"
		"                      here until it has moved\n"
		"                      BYTES both ways together (%llu; K, M,\n"
		"                      G: KiB, MiB, GiB), then hand it to the\n"
		"                      kernel (lwfp broker); 0: right after\n"
		"                      its request line or SNI is logged\n"
		"  --no-offload        relay every flow here, never hand it to\n"
		"                      the kernel\n",
		LWFP_PIN_DIR_ENV, LWFP_DEFAULT_PIN_DIR,
		(unsigned long long)OFFLOAD_AFTER);
}

/* Block SIGINT and SIGTERM and receive them on a descriptor instead. */
static int signals_fd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -1;
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void run(struct conn *listener, struct conn *signals,
		unsigned long count)
{
	struct epoll_event ev[MAX_EVENTS];
	long long next_sweep = now_ms() + TICK_MS;
	bool stop = false;
	int i, n;

	acc.listener = listener;
	while (!stop && (!count || flows_done < count)) {
		n = epoll_wait(epfd, ev, MAX_EVENTS, TICK_MS);
		if (n < 0 && errno != EINTR) {
			perror("relay-proxy: epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (c == listener)
				accept_flows(c->fd);
			else if (c == signals)
				stop = true;
			else if (!c->flow->closed)
				flow_event(c->flow);
		}
		if (now_ms() >= next_sweep) {
			sweep_idle();
			next_sweep = now_ms() + TICK_MS;
		}
		reap_flows();
		accept_resume();
	}
}

/* A whole number in [lo, hi] for option name, or false (said why). */
static bool parse_count(const char *name, const char *arg, unsigned long lo,
			unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 10);
	if (!isdigit((unsigned char)*arg) || *end || errno || *out < lo ||
	    *out > hi) {
		fprintf(stderr, "relay-proxy: bad --%s '%s': a number from %lu "
			"to %lu\n", name, arg, lo, hi);
		return false;
	}
	return true;
}

/* A byte count with an optional K, M or G (powers of 1024), or false. */
static bool parse_bytes(const char *name, const char *arg,
			unsigned long long *out)
{
	static const char units[] = "KMG";
	const char *u;
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	if (u && !end[1]) {
		unsigned int shift = 10 * (u - units + 1);

		if (*out > (1ull << 50) >> shift)
			errno = ERANGE;
		*out <<= shift;
		end++;
	}
	if (!isdigit((unsigned char)*arg) || *end || errno ||
	    *out > (1ull << 50)) {
		fprintf(stderr, "relay-proxy: bad --%s '%s': a number of "
			"bytes, K, M or G after it for KiB, MiB, GiB\n", name,
			arg);
		return false;
	}
	return true;
}

struct args {
	const char *listen, *pin_dir;
	struct sockaddr_storage addr;
	unsigned long count;
};

/* 0 to run, or the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "max-flows", required_argument, NULL, 'm' },
		{ "idle", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "no-offload", no_argument, NULL, 'o' },
		{ "offload", no_argument, NULL, 'O' },
		{ "offload-after", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			a->listen = optarg;
			break;
		case 'p':
			a->pin_dir = optarg;
			break;
		case 'm':
			if (!parse_count("max-flows", optarg, 1, 1000000,
					 &limits.max_flows))
				return 2;
			break;
		case 'i':
			if (!parse_count("idle", optarg, 1, 86400, &v))
				return 2;
			limits.idle_ms = v * 1000;
			break;
		case 'n':
			if (!parse_count("count", optarg, 1, ~0ul, &a->count))
				return 2;
			break;
		case 'o':
			offload = false;
			break;
		case 'O':
			offload = true;
			break;
		case 'a':
			if (!parse_bytes("offload-after", optarg,
					 &offload_after))
				return 2;
			offload = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!a->listen || optind != argc || addr_parse(a->listen, &a->addr)) {
		if (a->listen && optind == argc)
			fprintf(stderr, "relay-proxy: bad address '%s'\n",
				a->listen);
		usage(stderr);
		return 2;
	}
	return 0;
}

/* Two descriptors a flow and a few of our own: hold no more flows than
 * the descriptor limit allows, so that accept() and socket() do not fail
 * for want of them. */
static void fit_descriptors(void)
{
	struct rlimit r;
	unsigned long fit;

	if (getrlimit(RLIMIT_NOFILE, &r))
		return;
	if (r.rlim_cur < r.rlim_max) {
		rlim_t soft = r.rlim_cur;

		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r))
			r.rlim_cur = soft;
	}
	fit = r.rlim_cur > FD_RESERVE + 2 ? (r.rlim_cur - FD_RESERVE) / 2 : 1;
	if (limits.max_flows > fit) {
		fprintf(stderr, "relay-proxy: holding at most %lu flows at once "
			"(%llu descriptors)\n", fit,
			(unsigned long long)r.rlim_cur);
		limits.max_flows = fit;
	}
}

int main(int argc, char **argv)
{
	struct conn listener = { .fd = -1 }, signals = { .fd = -1 };
	struct args args = { 0 };
	const char *pin_dir;
	int err, ret = 1;

	ret = parse_args(argc, argv, &args);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = 1;
	pin_dir = args.pin_dir;
	log_rate_init(&log_rate, LOG_RATE, LOG_BURST);
	fit_descriptors();
	setvbuf(stdout, NULL, _IOLBF, 0);	/* one log line at a time */
	signal(SIGPIPE, SIG_IGN);	/* a peer gone is an error */

	err = lwfp_open(pin_dir, &engine);
	if (err) {
		if (!pin_dir)
			pin_dir = getenv(LWFP_PIN_DIR_ENV);
		if (!pin_dir)
			pin_dir = LWFP_DEFAULT_PIN_DIR;
		fprintf(stderr, "relay-proxy: cannot open the lwfp engine at "
			"%s: %s\n", pin_dir, lwfp_strerror(err));
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	signals.fd = signals_fd();
	if (epfd < 0 || signals.fd < 0) {
		perror("relay-proxy: epoll/signalfd");
		goto out;
	}
	listener.fd = listen_on(&args.addr);
	if (listener.fd < 0)
		goto out;
	if (watch(&listener, EPOLLIN) || watch(&signals, EPOLLIN)) {
		perror("relay-proxy: epoll_ctl");
		goto out;
	}

	run(&listener, &signals, args.count);
	ret = 0;
out:
	for (struct flow *f = flows; f; f = f->next)
		if (!f->closed)
			flow_end(f, "proxy", "exiting");
	reap_flows();
	if (listener.fd >= 0)
		close(listener.fd);
	if (signals.fd >= 0)
		close(signals.fd);
	if (epfd >= 0)
		close(epfd);
	lwfp_close(engine);
	return ret;
}
