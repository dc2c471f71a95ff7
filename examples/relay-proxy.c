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
 * One thread, one level-triggered epoll loop, 64 KiB per direction.
 *
 *   relay-proxy --listen 127.0.0.1:9000 [--pin-dir DIR] [--max-flows N]
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "lwfp.h"
#include "sniff.h"

#define BUF_SIZE	(64 * 1024)
#define SNIFF_WINDOW	4096	/* first client bytes looked at */
#define MAX_EVENTS	64

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
	struct pipe up, down;	/* client->server, server->client */
	bool connected, closed;
	struct lwfp_context ctx;
	uint8_t ctx_buf[LWFP_CONTEXT_MAX_LEN];	/* ctx points into it */
	uint8_t sniff_buf[SNIFF_WINDOW];
	size_t sniff_len;
	bool sniff_done;
	char sniffed[SNIFF_SNI_MAX + 16];	/* for the log: ` sni="..."` */
	struct flow *next;
};

static struct lwfp *engine;
static int epfd = -1;
static struct flow *flows;
static unsigned long flows_done;

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

/* The rule context is opaque bytes: print it if it is text. */
static void print_rule_context(const struct lwfp_context *ctx)
{
	const uint8_t *text = ctx->rule_context;
	size_t len = ctx->rule_context_len;

	if (len && !text[len - 1])
		len--;				/* a C string's NUL */
	for (size_t i = 0; i < len; i++) {
		if (text[i] < 0x20 || text[i] > 0x7e) {
			printf(" rule-context-len=%zu", ctx->rule_context_len);
			return;
		}
	}
	if (len)
		printf(" rule-context=\"%.*s\"", (int)len, text);
}

static void log_flow(struct flow *f, const char *what, const char *why)
{
	char orig[ADDR_LEN];

	printf("relay-proxy: flow orig=%s client=pid %u (%s) uid %u service=%s "
	       "rule=%u up=%llu down=%llu%s", addr_fmt(&f->ctx.orig_dst, orig),
	       f->ctx.pid, f->ctx.comm, f->ctx.uid, f->ctx.service,
	       f->ctx.rule_id, f->up.bytes, f->down.bytes, f->sniffed);
	print_rule_context(&f->ctx);
	if (what)
		printf(" error=\"%s: %s\"", what, why);
	printf("\n");
}

/* End a flow; on error reset both sockets, so both peers see it failed. */
static void flow_end(struct flow *f, const char *what, const char *why)
{
	static const struct linger reset = { .l_onoff = 1, .l_linger = 0 };

	log_flow(f, what, why);
	if (what)
		setsockopt(f->client.fd, SOL_SOCKET, SO_LINGER, &reset,
			   sizeof(reset));
	close(f->client.fd);	/* closing also removes it from epoll */
	if (f->server.fd >= 0) {
		if (what)
			setsockopt(f->server.fd, SOL_SOCKET, SO_LINGER, &reset,
				   sizeof(reset));
		close(f->server.fd);
	}
	f->closed = true;	/* freed after this batch of events */
	flows_done++;
}

/* Look at the first client bytes until one sniffer decides. */
static void flow_sniff(struct flow *f, const char *data, size_t n)
{
	char out[SNIFF_SNI_MAX];
	int http, tls;

	if (n > SNIFF_WINDOW - f->sniff_len)
		n = SNIFF_WINDOW - f->sniff_len;
	memcpy(f->sniff_buf + f->sniff_len, data, n);
	f->sniff_len += n;

	http = sniff_http_request_line(f->sniff_buf, f->sniff_len, out,
				       sizeof(out));
	if (!http) {
		snprintf(f->sniffed, sizeof(f->sniffed), " http=\"%s\"", out);
		f->sniff_done = true;
		return;
	}
	tls = sniff_tls_sni(f->sniff_buf, f->sniff_len, out, sizeof(out));
	if (!tls)
		snprintf(f->sniffed, sizeof(f->sniffed), " sni=\"%s\"", out);
	f->sniff_done = !tls || (http != -EAGAIN && tls != -EAGAIN) ||
			f->sniff_len == SNIFF_WINDOW;
}

/*
 * One read and one write for one direction: level-triggered epoll brings
 * us back while there is more, and no flow starves the others. Returns 0
 * or an errno (a reset peer: ECONNRESET, EPIPE).
 */
static int pump(struct flow *f, struct pipe *p, int from, int to)
{
	ssize_t n;

	if (!p->eof && p->tail < BUF_SIZE) {
		n = read(from, p->buf + p->tail, BUF_SIZE - p->tail);
		if (n < 0 && errno != EAGAIN)
			return errno;
		if (n == 0)
			p->eof = true;
		if (n > 0 && p == &f->up && !f->sniff_done)
			flow_sniff(f, p->buf + p->tail, n);
		if (n > 0)
			p->tail += n;
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

/* A socket wants to read while its pipe has room, to write while the
 * pipe towards it holds bytes. */
static uint32_t wanted(const struct pipe *in, const struct pipe *out)
{
	return (!in->eof && in->tail < BUF_SIZE ? EPOLLIN : 0) |
	       (out->head < out->tail ? EPOLLOUT : 0);
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
	err = pump(f, &f->up, f->client.fd, f->server.fd);
	if (!err)
		err = pump(f, &f->down, f->server.fd, f->client.fd);
	if (err || (f->up.done && f->down.done))
		return err;
	*what = "epoll";
	err = watch(&f->client, wanted(&f->up, &f->down));
	if (!err)
		err = watch(&f->server, wanted(&f->down, &f->up));
	return err;
}

static void flow_event(struct flow *f)
{
	const char *what = NULL;
	int err = flow_step(f, &what);

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
	char orig[ADDR_LEN];

	printf("relay-proxy: accepted flow orig=%s client=pid %u (%s) uid %u "
	       "gid %u cgroup %llu service=%s rule=%u",
	       addr_fmt(&ctx->orig_dst, orig), ctx->pid, ctx->comm, ctx->uid,
	       ctx->gid, (unsigned long long)ctx->cgroup_id, ctx->service,
	       ctx->rule_id);
	print_rule_context(ctx);
	printf("\n");
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
		fprintf(stderr, "relay-proxy: out of memory\n");
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
			printf("relay-proxy: refusing direct connection from "
			       "%s\n", addr_fmt(&peer, from));
		else
			fprintf(stderr, "relay-proxy: connection from %s: %s\n",
				addr_fmt(&peer, from), lwfp_strerror(err));
		close(fd);
		free(f);
		return;
	}
	f->client = (struct conn){ .fd = fd, .flow = f };
	f->server = (struct conn){ .fd = -1, .flow = f };
	f->next = flows;
	flows = f;
	log_accepted(&f->ctx);
	flow_connect(f, records, rec_len);
}

static void accept_flows(int lfd)
{
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			flow_start(fd);
		} else if (errno != ECONNABORTED) {
			if (errno != EAGAIN)
				perror("relay-proxy: accept");
			return;
		}
	}
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
		"  --listen ADDR:PORT  where redirected connections arrive:\n"
		"                      127.0.0.1:9000 or [::1]:9000\n"
		"  --pin-dir DIR       the lwfp engine (default: $%s or %s)\n"
		"  --max-flows N       exit after N flows ended\n",
		LWFP_PIN_DIR_ENV, LWFP_DEFAULT_PIN_DIR);
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
		unsigned long max_flows)
{
	struct epoll_event ev[MAX_EVENTS];
	bool stop = false;
	int i, n;

	while (!stop && (!max_flows || flows_done < max_flows)) {
		n = epoll_wait(epfd, ev, MAX_EVENTS, -1);
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
		reap_flows();
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "max-flows", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conn listener = { .fd = -1 }, signals = { .fd = -1 };
	const char *listen_arg = NULL, *pin_dir = NULL;
	struct sockaddr_storage addr;
	unsigned long max_flows = 0;
	int opt, err, ret = 1;
	char *end;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen_arg = optarg;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'n':
			max_flows = strtoul(optarg, &end, 10);
			if (!isdigit((unsigned char)*optarg) || *end) {
				fprintf(stderr, "relay-proxy: bad --max-flows "
					"'%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!listen_arg || optind != argc || addr_parse(listen_arg, &addr)) {
		if (listen_arg && optind == argc)
			fprintf(stderr, "relay-proxy: bad address '%s'\n",
				listen_arg);
		usage(stderr);
		return 2;
	}
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
	listener.fd = listen_on(&addr);
	if (listener.fd < 0)
		goto out;
	if (watch(&listener, EPOLLIN) || watch(&signals, EPOLLIN)) {
		perror("relay-proxy: epoll_ctl");
		goto out;
	}

	run(&listener, &signals, max_flows);
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
