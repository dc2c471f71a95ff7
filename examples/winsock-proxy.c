/* SPDX-License-Identifier: MIT */
/*
 * winsock-proxy: a WFP redirect service, written as it is written for
 * Windows, built unchanged on Linux against lwfp-winsock:
 *
 *   cc winsock-proxy.c $(pkg-config --cflags --libs lwfp-winsock)
 *
 * For each connection its callout redirected here, the service reads the
 * redirect records and the redirect context from the accepted socket,
 * opens its own socket, gives it the records before connect() so that
 * the connection is not redirected back here, connects to the original
 * destination (which the callout put in its context) and relays both
 * ways. One thread serves every flow: non-blocking sockets
 * (ioctlsocket(FIONBIO)) and one WSAPoll() over all of them, so that no
 * client, however slow or silent, holds up another.
 *
 *   winsock-proxy [--max-flows N] [--idle SECONDS] [--count N] ADDR PORT
 *
 * PORT 0 lets the system choose; the line "listening on ADDR:PORT" names
 * it. --max-flows (default 1024) bounds the flows held at once: beyond
 * it, connections wait in the listen backlog. --idle (default 300) ends
 * a flow that moved no byte for that long. --count exits after that many
 * flows have ended (default: never). Lines about flows are rate-limited,
 * and what a client controls (its process name) is printed escaped.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The callout's redirect context format. A Windows redirect service
 * parses its own callout's context the same way. */
#include <lwfp.h>

#define RELAY_BUFFER	16384
#define RECORDS_BUFFER	1024
#define LOG_BURST	200	/* lines at once, then LOG_RATE a second */
#define LOG_RATE	50
#define ACCEPT_BACKOFF_MS	250	/* out of descriptors or memory */
#define MAX_FLOWS_LIMIT		16384	/* and the largest option value */

/* One direction of a flow: bytes read from one socket, not yet written
 * to the other. */
struct half {
	char buf[RELAY_BUFFER];
	int len, off;
	BOOL eof;		/* the reading side closed its end */
	BOOL shut;		/* so we shut down the writing side's */
	unsigned long long bytes;
};

enum flow_state { FLOW_FREE, FLOW_CONNECTING, FLOW_RELAYING };

struct flow {
	enum flow_state state;
	SOCKET client, server;
	struct half up;		/* client to destination */
	struct half down;	/* destination to client */
	ULONGLONG last;		/* GetTickCount64() of the last byte moved */
	int number;
	DWORD recordsSize, contextSize;
	struct lwfp_context info;
	char destination[80];
};

struct proxy {
	SOCKET listener;
	struct flow *flows;
	int maxFlows, open, ended, count, nextNumber;
	ULONGLONG idleMs, acceptAfter;
	/* the log's token bucket */
	ULONGLONG logLast;
	double logTokens;
	unsigned long logDropped;
};

/* May a line about a flow be printed now? Says first how many were not. */
static BOOL log_allowed(struct proxy *p)
{
	ULONGLONG now = GetTickCount64();

	p->logTokens += (double)(now - p->logLast) * LOG_RATE / 1000.0;
	if (p->logTokens > LOG_BURST)
		p->logTokens = LOG_BURST;
	p->logLast = now;
	if (p->logTokens < 1) {
		p->logDropped++;
		return FALSE;
	}
	p->logTokens -= 1;
	if (p->logDropped) {
		printf("winsock-proxy: %lu lines not printed\n", p->logDropped);
		p->logDropped = 0;
	}
	return TRUE;
}

/* A client's bytes, printable: anything else as \xNN. */
static const char *escaped(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

static int parse_address(const char *host, const char *port,
			 SOCKADDR_STORAGE *ss, int *len)
{
	SOCKADDR_IN *sin = (SOCKADDR_IN *)ss;
	SOCKADDR_IN6 *sin6 = (SOCKADDR_IN6 *)ss;
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	if (*port == '\0' || *end != '\0' || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((USHORT)p);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((USHORT)p);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static const char *address_text(const SOCKADDR_STORAGE *ss, char *buf,
				size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const SOCKADDR_IN *sin = (const SOCKADDR_IN *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else {
		const SOCKADDR_IN6 *sin6 = (const SOCKADDR_IN6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	}
	return buf;
}

static void flow_end(struct proxy *p, struct flow *f, const char *why)
{
	char comm[4 * sizeof(f->info.comm) + 1];

	if (log_allowed(p)) {
		if (why)
			printf("winsock-proxy: flow %d: %s\n", f->number, why);
		if (f->state == FLOW_RELAYING)
			printf("winsock-proxy: flow %d: pid %lu comm \"%s\" uid "
			       "%lu -> %s service %s rule %lu, %lu bytes of "
			       "records, %lu bytes of context, %llu bytes up, "
			       "%llu bytes down\n", f->number,
			       (unsigned long)f->info.pid,
			       escaped(f->info.comm, sizeof(f->info.comm), comm,
				       sizeof(comm)),
			       (unsigned long)f->info.uid, f->destination,
			       f->info.service, (unsigned long)f->info.rule_id,
			       (unsigned long)f->recordsSize,
			       (unsigned long)f->contextSize, f->up.bytes,
			       f->down.bytes);
		fflush(stdout);
	}
	if (f->server != INVALID_SOCKET)
		closesocket(f->server);
	closesocket(f->client);
	memset(f, 0, sizeof(*f));
	f->state = FLOW_FREE;
	p->open--;
	p->ended++;
}

/* The flow's records and context, from its accepted socket. */
static const char *flow_query(struct flow *f, BYTE *records)
{
	BYTE *context;
	int ok;

	if (WSAIoctl(f->client, SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS,
		     NULL, 0, records, RECORDS_BUFFER, &f->recordsSize, NULL,
		     NULL) == SOCKET_ERROR)
		return "no redirect records";
	/* The context: ask its size first, then fetch it. */
	if (WSAIoctl(f->client, SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT, NULL,
		     0, NULL, 0, &f->contextSize, NULL, NULL) != SOCKET_ERROR ||
	    WSAGetLastError() != ERROR_INSUFFICIENT_BUFFER)
		return "context size query failed";
	context = (BYTE *)malloc(f->contextSize);
	if (context == NULL)
		return "out of memory";
	ok = WSAIoctl(f->client, SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT,
		      NULL, 0, context, f->contextSize, &f->contextSize, NULL,
		      NULL) != SOCKET_ERROR &&
	     lwfp_context_decode(context, f->contextSize, &f->info) == 0;
	free(context);
	return ok ? NULL : "no redirect context";
}

/* Our own connection to the original destination, carrying the records;
 * connects in the background. */
static const char *flow_connect(struct flow *f, BYTE *records)
{
	u_long nonBlocking = 1;
	DWORD bytes = 0;
	int len = f->info.orig_dst.ss_family == AF_INET ?
		  (int)sizeof(SOCKADDR_IN) : (int)sizeof(SOCKADDR_IN6);

	address_text(&f->info.orig_dst, f->destination,
		     sizeof(f->destination));
	f->server = socket(f->info.orig_dst.ss_family, SOCK_STREAM,
			   IPPROTO_TCP);
	if (f->server == INVALID_SOCKET)
		return "socket failed";
	if (ioctlsocket(f->server, FIONBIO, &nonBlocking) == SOCKET_ERROR)
		return "ioctlsocket failed";
	if (WSAIoctl(f->server, SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS,
		     records, f->recordsSize, NULL, 0, &bytes, NULL,
		     NULL) == SOCKET_ERROR)
		return "setting the records failed";
	if (connect(f->server, (SOCKADDR *)&f->info.orig_dst, len) == 0)
		f->state = FLOW_RELAYING;
	else if (WSAGetLastError() == WSAEWOULDBLOCK)
		f->state = FLOW_CONNECTING;
	else
		return "connect failed";
	return NULL;
}

static void flow_start(struct proxy *p, SOCKET client)
{
	BYTE records[RECORDS_BUFFER];
	u_long nonBlocking = 1;
	struct flow *f = NULL;
	const char *why;

	for (int i = 0; i < p->maxFlows && f == NULL; i++)
		if (p->flows[i].state == FLOW_FREE)
			f = &p->flows[i];
	if (f == NULL) {	/* accept_ready() takes only what fits */
		closesocket(client);
		return;
	}
	memset(f, 0, sizeof(*f));
	f->client = client;
	f->server = INVALID_SOCKET;
	f->number = ++p->nextNumber;
	f->last = GetTickCount64();
	f->state = FLOW_CONNECTING;
	p->open++;
	why = ioctlsocket(client, FIONBIO, &nonBlocking) == SOCKET_ERROR ?
	      "ioctlsocket failed" : flow_query(f, records);
	if (why == NULL)
		why = flow_connect(f, records);
	if (why != NULL) {
		char text[128];

		snprintf(text, sizeof(text), "%s (error %d)", why,
			 WSAGetLastError());
		f->state = FLOW_CONNECTING;	/* no summary line */
		flow_end(p, f, text);
	}
}

/* Accept what the backlog holds, as far as there is room. */
static void accept_ready(struct proxy *p)
{
	while (p->open < p->maxFlows) {
		SOCKET client = accept(p->listener, NULL, NULL);
		int err;

		if (client != INVALID_SOCKET) {
			flow_start(p, client);
			continue;
		}
		err = WSAGetLastError();
		if (err == WSAEMFILE || err == WSAENOBUFS) {
			/* back off, rather than spin on a full table */
			p->acceptAfter = GetTickCount64() + ACCEPT_BACKOFF_MS;
			if (log_allowed(p))
				printf("winsock-proxy: accept failed (error "
				       "%d), waiting\n", err);
		}
		return;	/* WSAEWOULDBLOCK: the backlog is empty */
	}
}

/* Move what h holds into to; read more from from when it is empty.
 * FALSE if the flow failed. */
static BOOL half_move(struct half *h, SOCKET from, SOCKET to, short seenFrom,
		      short seenTo, BOOL *moved)
{
	int n;

	if (h->len == 0 && !h->eof && (seenFrom & (POLLRDNORM | POLLHUP |
						   POLLERR))) {
		n = recv(from, h->buf, sizeof(h->buf), 0);
		if (n > 0) {
			h->len = n;
			h->off = 0;
			*moved = TRUE;
		} else if (n == 0) {
			h->eof = TRUE;
		} else if (WSAGetLastError() != WSAEWOULDBLOCK) {
			return FALSE;
		}
	}
	if (h->len > 0 && (seenTo & (POLLWRNORM | POLLERR | POLLHUP))) {
		n = send(to, h->buf + h->off, h->len, 0);
		if (n == SOCKET_ERROR)
			return WSAGetLastError() == WSAEWOULDBLOCK;
		h->off += n;
		h->len -= n;
		h->bytes += (unsigned long long)n;
		*moved = TRUE;
	}
	if (h->eof && h->len == 0 && !h->shut) {
		shutdown(to, SD_SEND);
		h->shut = TRUE;
	}
	return TRUE;
}

/* What the flow's sockets showed: relay, or finish its connect. */
static void flow_step(struct proxy *p, struct flow *f, short seenClient,
		      short seenServer)
{
	BOOL moved = FALSE;
	int err = 0;
	socklen_t len = sizeof(err);	/* an int, in ws2tcpip.h on Windows */

	if (f->state == FLOW_CONNECTING) {
		if (!(seenServer & (POLLWRNORM | POLLERR | POLLHUP)))
			return;
		if (getsockopt(f->server, SOL_SOCKET, SO_ERROR, (char *)&err,
			       &len) == SOCKET_ERROR || err != 0) {
			char text[128];

			snprintf(text, sizeof(text), "connect to %s failed "
				 "(error %d)", f->destination, err);
			flow_end(p, f, text);
			return;
		}
		f->state = FLOW_RELAYING;
		f->last = GetTickCount64();
		seenServer = 0;
	}
	if (!half_move(&f->up, f->client, f->server, seenClient, seenServer,
		       &moved) ||
	    !half_move(&f->down, f->server, f->client, seenServer, seenClient,
		       &moved)) {
		flow_end(p, f, "relay failed");
		return;
	}
	if (moved)
		f->last = GetTickCount64();
	if (f->up.shut && f->down.shut)
		flow_end(p, f, NULL);
}

/* What each flow's sockets wait for: entry 0 is the listener, then two
 * per flow (client, server), INVALID_SOCKET for none. */
static void poll_fill(const struct proxy *p, WSAPOLLFD *fds, BOOL accepting)
{
	fds[0].fd = accepting ? p->listener : INVALID_SOCKET;
	fds[0].events = POLLRDNORM;
	for (int i = 0; i < p->maxFlows; i++) {
		const struct flow *f = &p->flows[i];
		WSAPOLLFD *c = &fds[1 + 2 * i], *s = c + 1;

		c->fd = s->fd = INVALID_SOCKET;
		c->events = s->events = c->revents = s->revents = 0;
		if (f->state == FLOW_FREE)
			continue;
		c->fd = f->client;
		s->fd = f->server;
		if (f->state == FLOW_CONNECTING) {
			c->fd = INVALID_SOCKET;
			s->events = POLLWRNORM;
			continue;
		}
		if (f->up.len == 0 && !f->up.eof)
			c->events |= POLLRDNORM;
		if (f->down.len > 0)
			c->events |= POLLWRNORM;
		if (f->down.len == 0 && !f->down.eof)
			s->events |= POLLRDNORM;
		if (f->up.len > 0)
			s->events |= POLLWRNORM;
	}
}

/* Serve until --count flows have ended; FALSE if polling failed. */
static BOOL serve(struct proxy *p)
{
	WSAPOLLFD *fds = (WSAPOLLFD *)calloc(1 + 2 * (size_t)p->maxFlows,
					     sizeof(*fds));

	if (fds == NULL)
		return FALSE;
	while (p->count == 0 || p->ended < p->count || p->open > 0) {
		ULONGLONG now = GetTickCount64();
		BOOL accepting = p->open < p->maxFlows &&
				 now >= p->acceptAfter &&
				 (p->count == 0 || p->nextNumber < p->count);

		poll_fill(p, fds, accepting);
		if (WSAPoll(fds, 1 + 2 * (ULONG)p->maxFlows, 1000) ==
		    SOCKET_ERROR) {
			free(fds);
			return FALSE;
		}
		if (fds[0].revents & POLLRDNORM)
			accept_ready(p);
		now = GetTickCount64();
		for (int i = 0; i < p->maxFlows; i++) {
			struct flow *f = &p->flows[i];

			if (f->state == FLOW_FREE)
				continue;
			flow_step(p, f, fds[1 + 2 * i].revents,
				  fds[2 + 2 * i].revents);
			if (f->state != FLOW_FREE && f->last + p->idleMs < now)
				flow_end(p, f, "idle, closed");
		}
	}
	free(fds);
	return TRUE;
}

static SOCKET listen_on(const SOCKADDR_STORAGE *address, int addressLen)
{
	u_long nonBlocking = 1;
	SOCKET s = socket(address->ss_family, SOCK_STREAM, IPPROTO_TCP);
	int on = 1;

	if (s == INVALID_SOCKET)
		return INVALID_SOCKET;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (const char *)&on, sizeof(on));
	if (bind(s, (const SOCKADDR *)address, addressLen) == SOCKET_ERROR ||
	    listen(s, SOMAXCONN) == SOCKET_ERROR ||
	    ioctlsocket(s, FIONBIO, &nonBlocking) == SOCKET_ERROR) {
		closesocket(s);
		return INVALID_SOCKET;
	}
	return s;
}

/* --max-flows, --idle, --count, then ADDR PORT; -1 on bad usage. */
static int parse_args(int argc, char **argv, struct proxy *p, int *first)
{
	int i = 1;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		char *end;
		long v = strtol(argv[i + 1], &end, 10);

		if (*end != '\0' || v < 1 || v > MAX_FLOWS_LIMIT)
			return -1;
		if (strcmp(argv[i], "--max-flows") == 0)
			p->maxFlows = (int)v;
		else if (strcmp(argv[i], "--idle") == 0)
			p->idleMs = (ULONGLONG)v * 1000;
		else if (strcmp(argv[i], "--count") == 0)
			p->count = (int)v;
		else
			return -1;
	}
	*first = i;
	return argc - i == 2 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct proxy p = { .maxFlows = 1024, .idleMs = 300 * 1000,
			   .logTokens = LOG_BURST };
	WSADATA wsaData;
	SOCKADDR_STORAGE address;
	int addressLen, first, err;
	socklen_t nameLen;	/* an int, in ws2tcpip.h on Windows */
	char text[80];

	if (parse_args(argc, argv, &p, &first) != 0) {
		fprintf(stderr, "usage: winsock-proxy [--max-flows N] "
			"[--idle SECONDS] [--count N] ADDR PORT\n");
		return 2;
	}
	if (parse_address(argv[first], argv[first + 1], &address,
			  &addressLen) != 0) {
		fprintf(stderr, "winsock-proxy: bad address %s port %s\n",
			argv[first], argv[first + 1]);
		return 2;
	}
	err = WSAStartup(MAKEWORD(2, 2), &wsaData);
	if (err != 0) {
		fprintf(stderr, "winsock-proxy: WSAStartup failed: %d\n", err);
		return 1;
	}
	p.flows = (struct flow *)calloc((size_t)p.maxFlows, sizeof(*p.flows));
	p.listener = p.flows ? listen_on(&address, addressLen) :
			       INVALID_SOCKET;
	if (p.listener == INVALID_SOCKET) {
		fprintf(stderr, "winsock-proxy: cannot listen: %d\n",
			WSAGetLastError());
		free(p.flows);
		WSACleanup();
		return 1;
	}
	nameLen = sizeof(address);
	getsockname(p.listener, (SOCKADDR *)&address, &nameLen);
	printf("winsock-proxy: listening on %s\n",
	       address_text(&address, text, sizeof(text)));
	fflush(stdout);
	p.logLast = GetTickCount64();
	err = serve(&p) ? 0 : 1;
	if (err)
		fprintf(stderr, "winsock-proxy: WSAPoll failed: %d\n",
			WSAGetLastError());
	closesocket(p.listener);
	free(p.flows);
	WSACleanup();
	return err;
}
