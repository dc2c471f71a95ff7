/* SPDX-License-Identifier: MIT */
/*
 * udp-dns-proxy: an inspecting UDP redirect service on the lwfp native API.
 *
 * lwfp redirects a process's DNS queries (UDP datagrams to a rule's
 * destination) to this proxy's listen address. All clients' datagrams
 * arrive on that one socket, so a flow is named by its client's address.
 * For each query the proxy learns the flow's original destination, client
 * pid and comm (from lwfp_recvmsg()'s control messages with a flow's first
 * datagram, or by asking lwfp_query_udp_*() about the peer), logs one line,
 * and sends the query on from an outbound socket of that flow: it carries
 * the flow's records, set before connect(), so that lwfp continues the
 * flow instead of redirecting it back here. Replies are sent back to the
 * client from the listen address, which lwfp shows the client as coming
 * from the original destination.
 *
 * One thread, one level-triggered epoll loop, a bounded table of flows
 * (the least recently used goes when it is full), idle flows closed.
 *
 *   udp-dns-proxy --listen ADDR:PORT [--listen ADDR:PORT]... [--pin-dir DIR]
 *                 [--log FILE] [--idle SECONDS] [--max-flows N] [--count N]
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
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "dns.h"
#include "lwfp.h"

#define MAX_LISTEN	4
#define MAX_EVENTS	64
#define DGRAM_MAX	65535
/* Room for the records and the largest context lwfp_recvmsg() adds. */
#define CONTROL_LEN	(CMSG_SPACE(LWFP_RECORDS_LEN) + \
			 CMSG_SPACE(LWFP_CONTEXT_MAX_LEN))

/* What epoll hands back. */
struct watch {
	int fd;
	struct flow *flow;		/* an outbound socket's flow, or NULL */
};

struct listener {
	struct watch w;
	char name[ADDR_LEN];
};

/* What lwfp says about a flow. */
struct origin {
	uint8_t records[LWFP_RECORDS_LEN];
	size_t records_len;
	struct sockaddr_storage dst;
	uint32_t pid;
	char comm[16];
};

struct flow {
	bool used;
	struct watch up;		/* outbound, connected to origin.dst */
	struct listener *lst;		/* where the client's queries come */
	struct sockaddr_storage client;
	socklen_t client_len;
	struct origin origin;
	char client_name[ADDR_LEN], dst_name[ADDR_LEN], via_name[ADDR_LEN];
	unsigned long queries, replies;
	uint64_t last_ms;
};

static struct lwfp *engine;
static int epfd = -1;
static FILE *log_out;
static struct flow *flows;
static size_t max_flows = 256;
static uint64_t idle_ms = 30000;
static unsigned long replies_total, max_replies;
static uint8_t dgram[DGRAM_MAX];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* ---- what lwfp knows about a flow ------------------------------------ */

/* Decode a context blob into what the proxy keeps of it. */
static int origin_from_context(const void *blob, size_t len,
			       struct origin *o)
{
	struct lwfp_context ctx;
	int err = lwfp_context_decode(blob, len, &ctx);

	if (err)
		return err;
	o->dst = ctx.orig_dst;
	o->pid = ctx.pid;
	snprintf(o->comm, sizeof(o->comm), "%s", ctx.comm);
	return 0;
}

/*
 * The records and context lwfp_recvmsg() added: they come with the first
 * datagram of each flow (a new flow from an address we knew means that
 * address's earlier flow has ended). 1 if found, 0 if not, or an error.
 */
static int origin_from_cmsgs(struct msghdr *msg, struct origin *o)
{
	bool rec = false, ctx = false;
	struct cmsghdr *c;
	int err;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t len = c->cmsg_len - CMSG_LEN(0);

		if (c->cmsg_level != IPPROTO_IP && c->cmsg_level != IPPROTO_IPV6)
			continue;
		if (c->cmsg_type == LWFP_CMSG_RECORDS) {
			if (len != LWFP_RECORDS_LEN)
				return -EBADMSG;
			memcpy(o->records, CMSG_DATA(c), len);
			o->records_len = len;
			rec = true;
		} else if (c->cmsg_type == LWFP_CMSG_CONTEXT) {
			err = origin_from_context(CMSG_DATA(c), len, o);
			if (err)
				return err;
			ctx = true;
		}
	}
	return rec && ctx;
}

/* Ask lwfp about the flow from peer to this socket. -ENODATA: none. */
static int origin_query(int fd, const struct sockaddr_storage *peer,
			socklen_t peer_len, struct origin *o)
{
	static uint8_t blob[LWFP_CONTEXT_MAX_LEN];
	size_t len = sizeof(blob);
	int err;

	o->records_len = sizeof(o->records);
	err = lwfp_query_udp_records(engine, fd, (const void *)peer, peer_len,
				     o->records, &o->records_len);
	if (!err)
		err = lwfp_query_udp_context(engine, fd, (const void *)peer,
					     peer_len, blob, &len);
	return err ? err : origin_from_context(blob, len, o);
}

/* ---- flows --------------------------------------------------------- */

static struct flow *flow_find(const struct listener *l,
			      const struct sockaddr_storage *client)
{
	for (size_t i = 0; i < max_flows; i++)
		if (flows[i].used && flows[i].lst == l &&
		    addr_equal(&flows[i].client, client))
			return &flows[i];
	return NULL;
}

static void flow_end(struct flow *f, const char *why)
{
	fprintf(log_out, "flow from %s to %s via %s ended: %s, %lu queries, "
		"%lu replies\n", f->client_name, f->dst_name, f->via_name, why,
		f->queries, f->replies);
	close(f->up.fd);	/* closing also removes it from epoll */
	f->used = false;
}

/* A free slot, or the least recently used flow's. */
static struct flow *flow_slot(void)
{
	struct flow *lru = &flows[0];

	for (size_t i = 0; i < max_flows; i++) {
		if (!flows[i].used)
			return &flows[i];
		if (flows[i].last_ms < lru->last_ms)
			lru = &flows[i];
	}
	flow_end(lru, "table full");
	return lru;
}

/*
 * A new flow: its outbound socket, with the flow's records set before
 * connect(), so that lwfp continues the flow to the original destination
 * instead of redirecting it back to us. Errors are logged.
 */
static struct flow *flow_new(struct listener *l,
			     const struct sockaddr_storage *client,
			     socklen_t client_len, const struct origin *o)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage via;
	socklen_t via_len = sizeof(via);
	const char *what = "socket", *why;
	char dst[ADDR_LEN];
	struct flow *f;
	int fd, err;

	fd = socket(o->dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		goto fail_errno;
	what = "set records";
	err = lwfp_set_records(engine, fd, o->records, o->records_len);
	if (err) {
		why = lwfp_strerror(err);
		goto fail;
	}
	what = "connect";
	if (connect(fd, (const struct sockaddr *)&o->dst, addr_len(&o->dst)) ||
	    getsockname(fd, (struct sockaddr *)&via, &via_len))
		goto fail_errno;

	f = flow_slot();
	memset(f, 0, sizeof(*f));
	f->up = (struct watch){ .fd = fd, .flow = f };
	f->lst = l;
	memcpy(&f->client, client, client_len);
	f->client_len = client_len;
	f->origin = *o;
	f->last_ms = now_ms();
	addr_fmt(client, f->client_name);
	addr_fmt(&o->dst, f->dst_name);
	addr_fmt(&via, f->via_name);
	what = "epoll";
	ev.data.ptr = &f->up;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		goto fail_errno;
	f->used = true;
	return f;
fail_errno:
	why = strerror(errno);
fail:
	fprintf(log_out, "error: %s: outbound socket to %s: %s\n", what,
		addr_fmt(&o->dst, dst), why);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void flows_expire(void)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < max_flows; i++)
		if (flows[i].used && now - flows[i].last_ms >= idle_ms)
			flow_end(&flows[i], "idle");
}

/* ---- datagrams ------------------------------------------------------- */

/* The flow a datagram from client belongs to, or NULL (logged). */
static struct flow *query_flow(struct listener *l, struct msghdr *msg,
			       const struct dns_question *q)
{
	const struct sockaddr_storage *client = msg->msg_name;
	char name[ADDR_LEN], type[16];
	struct flow *f = flow_find(l, client);
	struct origin o;
	int err;

	err = origin_from_cmsgs(msg, &o);
	if (err > 0 && f && memcmp(f->origin.records, o.records,
				   sizeof(o.records))) {
		flow_end(f, "a new flow from the same address");
		f = NULL;
	}
	if (f)
		return f;
	if (!err)
		err = origin_query(l->w.fd, client, msg->msg_namelen, &o);
	if (err == -ENODATA) {
		fprintf(log_out, "refusing query %s %s from %s to %s: not "
			"redirected by lwfp\n", q->qname,
			dns_type_str(q->qtype, type, sizeof(type)),
			addr_fmt(client, name), l->name);
		return NULL;
	}
	if (err < 0) {
		fprintf(log_out, "error: query from %s: %s\n",
			addr_fmt(client, name), lwfp_strerror(err));
		return NULL;
	}
	return flow_new(l, client, msg->msg_namelen, &o);
}

/* A datagram on a listener: a client's query, inspected and sent on. */
static void on_query(struct listener *l)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CONTROL_LEN];
	} control;
	struct sockaddr_storage client;
	struct iovec iov = { .iov_base = dgram, .iov_len = sizeof(dgram) };
	struct msghdr msg = {
		.msg_name = &client, .msg_namelen = sizeof(client),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control),
	};
	char name[ADDR_LEN], type[16];
	struct dns_question q;
	struct flow *f;
	ssize_t n;
	int err;

	n = lwfp_recvmsg(engine, l->w.fd, &msg, MSG_DONTWAIT);
	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n < 0) {
		fprintf(log_out, "error: receive on %s: %s\n", l->name,
			lwfp_strerror(n));
		return;
	}
	addr_fmt(&client, name);
	err = msg.msg_flags & MSG_TRUNC ? -EMSGSIZE :
	      dns_parse_question(dgram, n, &q);
	if (!err && (q.flags & DNS_FLAG_QR))
		err = -EPROTO;
	if (err) {
		fprintf(log_out, "dropping bad query from %s (%zd bytes): %s\n",
			name, n, err == -EPROTO ? "a response, not a query" :
			strerror(-err));
		return;
	}
	f = query_flow(l, &msg, &q);
	if (!f)
		return;
	fprintf(log_out, "query %s %s from %s to %s id 0x%04x pid %u (%s) via %s\n",
		q.qname, dns_type_str(q.qtype, type, sizeof(type)), name,
		f->dst_name, q.id, f->origin.pid, f->origin.comm, f->via_name);
	f->queries++;
	f->last_ms = now_ms();
	if (send(f->up.fd, dgram, n, 0) < 0)
		fprintf(log_out, "error: send to %s: %s\n", f->dst_name,
			strerror(errno));
}

/* A datagram on a flow's outbound socket: the reply, back to the client
 * from the address it sent its query to. */
static void on_reply(struct flow *f)
{
	char type[16], rcode[16];
	struct dns_question q;
	ssize_t n;
	int err;

	n = recv(f->up.fd, dgram, sizeof(dgram), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0) {
		/* ECONNREFUSED: nothing listens at the original destination */
		if (errno != EAGAIN && errno != EINTR)
			fprintf(log_out, "error: from %s for %s: %s\n",
				f->dst_name, f->client_name, strerror(errno));
		return;
	}
	err = n > DGRAM_MAX ? -EMSGSIZE : dns_parse_question(dgram, n, &q);
	if (!err && !(q.flags & DNS_FLAG_QR))
		err = -EPROTO;
	if (err) {
		fprintf(log_out, "dropping bad reply from %s for %s: %s\n",
			f->dst_name, f->client_name,
			err == -EPROTO ? "a query, not a response" :
			strerror(-err));
		return;
	}
	fprintf(log_out, "reply %s %s %s answers %u id 0x%04x from %s to %s\n",
		q.qname, dns_type_str(q.qtype, type, sizeof(type)),
		dns_rcode_str(DNS_RCODE(q.flags), rcode, sizeof(rcode)),
		q.ancount, q.id, f->dst_name, f->client_name);
	f->last_ms = now_ms();
	if (sendto(f->lst->w.fd, dgram, n, 0,
		   (const struct sockaddr *)&f->client, f->client_len) < 0) {
		fprintf(log_out, "error: send to %s: %s\n", f->client_name,
			strerror(errno));
		return;
	}
	f->replies++;
	replies_total++;
}

/* ---- setting up ------------------------------------------------------ */

static int watch_fd(struct watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

static int listen_on(struct sockaddr_storage *addr, struct listener *l)
{
	socklen_t len = sizeof(*addr);
	char name[ADDR_LEN];

	l->w.fd = socket(addr->ss_family,
			 SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->w.fd < 0 ||
	    bind(l->w.fd, (struct sockaddr *)addr, addr_len(addr)) ||
	    getsockname(l->w.fd, (struct sockaddr *)addr, &len) ||
	    watch_fd(&l->w)) {
		fprintf(stderr, "udp-dns-proxy: cannot listen on %s: %s\n",
			addr_fmt(addr, name), strerror(errno));
		return -1;
	}
	/* the bound address: port 0 picks a free one */
	addr_fmt(addr, l->name);
	fprintf(log_out, "listening on %s\n", l->name);
	return 0;
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

static void run(struct watch *signals)
{
	struct epoll_event ev[MAX_EVENTS];
	bool stop = false;
	int i, n;

	while (!stop && (!max_replies || replies_total < max_replies)) {
		/* wake at least once a second to close idle flows */
		n = epoll_wait(epfd, ev, MAX_EVENTS, 1000);
		if (n < 0 && errno != EINTR) {
			perror("udp-dns-proxy: epoll_wait");
			break;
		}
		/*
		 * A flow ended in this batch (its slot taken by a new flow)
		 * may still have an event below: it then reads the new
		 * flow's socket, which has nothing or a reply of its own.
		 */
		for (i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;

			if (w == signals)
				stop = true;
			else if (w->flow)
				on_reply(w->flow);
			else
				on_query((struct listener *)w);
		}
		flows_expire();
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: udp-dns-proxy --listen ADDR:PORT [--listen ADDR:PORT]... "
		"[--pin-dir DIR]\n"
		"                     [--log FILE] [--idle SECONDS] "
		"[--max-flows N] [--count N]\n"
		"  --listen ADDR:PORT  where redirected queries arrive, up to %d:\n"
		"                      127.0.0.1:5300 or [::1]:5300\n"
		"  --pin-dir DIR       the lwfp engine (default: $%s or %s)\n"
		"  --log FILE          append the log to FILE (default: stdout)\n"
		"  --idle SECONDS      close a flow's socket after this long "
		"without traffic (30)\n"
		"  --max-flows N       flows kept at once (256)\n"
		"  --count N           exit after relaying N replies\n",
		MAX_LISTEN, LWFP_PIN_DIR_ENV, LWFP_DEFAULT_PIN_DIR);
}

static int parse_number(const char *opt, const char *arg, unsigned long min,
			unsigned long max, unsigned long *val)
{
	char *end;

	errno = 0;
	*val = strtoul(arg, &end, 10);
	if (!isdigit((unsigned char)*arg) || *end || errno || *val < min ||
	    *val > max) {
		fprintf(stderr, "udp-dns-proxy: bad --%s '%s': %lu to %lu\n",
			opt, arg, min, max);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'L' },
		{ "idle", required_argument, NULL, 'i' },
		{ "max-flows", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct listener listeners[MAX_LISTEN];
	struct sockaddr_storage listen_addrs[MAX_LISTEN];
	const char *pin_dir = NULL, *log_path = NULL;
	struct watch signals = { .fd = -1 };
	int opt, err, nlisten = 0, ret = 1;
	unsigned long val;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (nlisten == MAX_LISTEN) {
				fprintf(stderr, "udp-dns-proxy: at most %d "
					"--listen\n", MAX_LISTEN);
				return 2;
			}
			if (addr_parse(optarg, &listen_addrs[nlisten++])) {
				fprintf(stderr, "udp-dns-proxy: bad address "
					"'%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'L':
			log_path = optarg;
			break;
		case 'i':
			if (parse_number("idle", optarg, 1, 86400, &val))
				return 2;
			idle_ms = val * 1000;
			break;
		case 'm':
			if (parse_number("max-flows", optarg, 1, 65536, &val))
				return 2;
			max_flows = val;
			break;
		case 'c':
			if (parse_number("count", optarg, 1, ~0ul, &max_replies))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!nlisten || optind != argc) {
		usage(stderr);
		return 2;
	}

	log_out = log_path ? fopen(log_path, "ae") : stdout;
	if (!log_out) {
		fprintf(stderr, "udp-dns-proxy: cannot open %s: %s\n",
			log_path, strerror(errno));
		return 1;
	}
	setvbuf(log_out, NULL, _IOLBF, 0);		/* one log line at a time */
	err = lwfp_open(pin_dir, &engine);
	if (err) {
		if (!pin_dir)
			pin_dir = getenv(LWFP_PIN_DIR_ENV);
		fprintf(stderr, "udp-dns-proxy: cannot open the lwfp engine "
			"at %s: %s\n", pin_dir ? pin_dir : LWFP_DEFAULT_PIN_DIR,
			lwfp_strerror(err));
		goto out_log;
	}
	for (int i = 0; i < nlisten; i++)
		listeners[i].w = (struct watch){ .fd = -1 };
	flows = calloc(max_flows, sizeof(*flows));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	signals.fd = signals_fd();
	if (!flows || epfd < 0 || signals.fd < 0 || watch_fd(&signals)) {
		perror("udp-dns-proxy: setup");
		goto out;
	}
	for (int i = 0; i < nlisten; i++)
		if (listen_on(&listen_addrs[i], &listeners[i]))
			goto out;

	run(&signals);
	ret = 0;
out:
	for (size_t i = 0; flows && i < max_flows; i++)
		if (flows[i].used)
			flow_end(&flows[i], "exiting");
	for (int i = 0; i < nlisten; i++)
		if (listeners[i].w.fd >= 0)
			close(listeners[i].w.fd);
	if (signals.fd >= 0)
		close(signals.fd);
	if (epfd >= 0)
		close(epfd);
	free(flows);
	lwfp_close(engine);
out_log:
	if (log_out != stdout)
		fclose(log_out);
	return ret;
}
