/* SPDX-License-Identifier: MIT */
/*
 * winsock-eventselect-proxy: a WFP redirect service built on
 * WSAEventSelect, as many Windows services are: every socket has an
 * event object, one thread waits on them all with
 * WSAWaitForMultipleEvents and asks WSAEnumNetworkEvents what happened.
 * Written as for Windows, built unchanged on Linux against lwfp-winsock:
 *
 *   cc winsock-eventselect-proxy.c $(pkg-config --cflags --libs lwfp-winsock)
 *
 * For each redirected connection it reads the redirect records and
 * context, sets the records on its own socket before connecting to the
 * original destination, and relays both ways. The context is this
 * service's own FLOW_CONTEXT, as its callout lays it out (on Linux:
 * lwfp rule add ... --context-layout winsock-eventselect-proxy.layout). One wait covers at most
 * WSA_MAXIMUM_WAIT_EVENTS (64) events: the listener and two per flow, so
 * at most 31 flows at once; more wait in the listen backlog.
 *
 *   winsock-eventselect-proxy [--count N] ADDR PORT
 */
#include <WinSock2.h>
#include <WS2tcpip.h>
#include <Mstcpip.h>
#include <Windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The redirect context this service's callout attaches. */
#pragma pack(push, 1)
typedef struct FLOW_CONTEXT {
	SOCKADDR_INET destination;	/* 0 */
	SOCKADDR_INET source;		/* 28 */
	UINT64 processId;		/* 56 */
	UINT32 userId;			/* 64 */
	UINT32 filterId;		/* 68 */
	char image[16];			/* 72 */
} FLOW_CONTEXT;
#pragma pack(pop)

#define MAX_FLOWS	((WSA_MAXIMUM_WAIT_EVENTS - 1) / 2)
#define RELAY_BUFFER	65536

/* One direction: bytes read from one socket, waiting to go to the other. */
typedef struct {
	char buf[RELAY_BUFFER];
	int len, off;
	BOOL eof;		/* its source closed */
	BOOL shut;		/* and we passed that on */
	unsigned long long bytes;
} PIPE;

typedef struct {
	BOOL used, connected;
	SOCKET s[2];		/* client, server */
	WSAEVENT ev[2];
	PIPE pipe[2];		/* [0]: client to server, [1]: back */
	int number;
	DWORD recordsSize, contextSize;
	FLOW_CONTEXT info;
	SOCKADDR_INET dst;	/* info.destination, aligned */
	char destination[80];
} FLOW;

static FLOW g_flows[MAX_FLOWS];
static int g_started, g_ended, g_count;

static void FlowEnd(FLOW *f, const char *why)
{
	char comm[4 * sizeof(f->info.image) + 1];
	size_t o = 0;

	for (size_t i = 0; i < sizeof(f->info.image) && f->info.image[i]; i++) {
		unsigned char c = (unsigned char)f->info.image[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			comm[o++] = (char)c;
		else
			o += (size_t)snprintf(comm + o, sizeof(comm) - o,
					      "\\x%02x", c);
	}
	comm[o] = '\0';
	if (why != NULL)
		printf("winsock-eventselect-proxy: flow %d: %s (error %d)\n",
		       f->number, why, WSAGetLastError());
	else
		printf("winsock-eventselect-proxy: flow %d: pid %lu comm \"%s\" "
		       "uid %lu -> %s rule %lu, %lu bytes of records, %lu "
		       "bytes of context, %llu bytes up, %llu bytes down\n",
		       f->number, (unsigned long)f->info.processId, comm,
		       (unsigned long)f->info.userId, f->destination,
		       (unsigned long)f->info.filterId,
		       (unsigned long)f->recordsSize,
		       (unsigned long)f->contextSize, f->pipe[0].bytes,
		       f->pipe[1].bytes);
	fflush(stdout);
	for (int i = 0; i < 2; i++) {
		if (f->s[i] != INVALID_SOCKET)
			closesocket(f->s[i]);
		WSACloseEvent(f->ev[i]);
	}
	ZeroMemory(f, sizeof(*f));
	g_ended++;
}

/* Records, context, our own socket with the records, connecting. */
static const char *FlowStart(FLOW *f)
{
	BYTE records[1024];
	DWORD recordsSize = 0, contextSize = 0, bytes = 0;
	int len;

	if (WSAIoctl(f->s[0], SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS, NULL, 0,
		     records, sizeof(records), &recordsSize, NULL,
		     NULL) == SOCKET_ERROR)
		return "no redirect records";
	if (WSAIoctl(f->s[0], SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT, NULL, 0,
		     &f->info, sizeof(f->info), &contextSize, NULL,
		     NULL) == SOCKET_ERROR || contextSize != sizeof(f->info))
		return "no redirect context of ours";
	f->recordsSize = recordsSize;
	f->contextSize = contextSize;
	/* the packed struct's address need not be aligned: copy it out */
	CopyMemory(&f->dst, &f->info.destination, sizeof(f->dst));
	len = f->dst.si_family == AF_INET ? (int)sizeof(SOCKADDR_IN) :
					    (int)sizeof(SOCKADDR_IN6);
	bytes = sizeof(f->destination);
	WSAAddressToString((LPSOCKADDR)&f->dst, (DWORD)len, NULL,
			   f->destination, &bytes);
	f->s[1] = socket(f->dst.si_family, SOCK_STREAM, IPPROTO_TCP);
	if (f->s[1] == INVALID_SOCKET ||
	    WSAIoctl(f->s[1], SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS, records,
		     recordsSize, NULL, 0, &bytes, NULL, NULL) == SOCKET_ERROR ||
	    WSAEventSelect(f->s[1], f->ev[1], FD_CONNECT | FD_READ | FD_WRITE |
						 FD_CLOSE) == SOCKET_ERROR)
		return "setting up the outbound socket failed";
	if (connect(f->s[1], (SOCKADDR *)&f->dst, len) == 0 ||
	    WSAGetLastError() == WSAEWOULDBLOCK)
		return NULL;
	return "connect failed";
}

static void Accept(SOCKET listener)
{
	FLOW *f = NULL;
	const char *why;

	for (int i = 0; i < MAX_FLOWS && f == NULL; i++)
		if (!g_flows[i].used)
			f = &g_flows[i];
	if (f == NULL)
		return;	/* full: it waits in the backlog */
	f->s[0] = accept(listener, NULL, NULL);
	if (f->s[0] == INVALID_SOCKET)
		return;
	f->used = TRUE;
	f->s[1] = INVALID_SOCKET;
	f->number = ++g_started;
	f->ev[0] = WSACreateEvent();
	f->ev[1] = WSACreateEvent();
	why = FlowStart(f);
	if (why != NULL)
		FlowEnd(f, why);
}

/* Move what pipe p holds (read from side from) to the other side; read
 * more when it is empty. FALSE on an error. */
static BOOL Pump(FLOW *f, int from)
{
	PIPE *p = &f->pipe[from];
	SOCKET in = f->s[from], out = f->s[1 - from];
	int n;

	for (;;) {
		while (p->len > 0) {
			n = send(out, p->buf + p->off, p->len, 0);
			if (n == SOCKET_ERROR)
				return WSAGetLastError() == WSAEWOULDBLOCK;
			p->off += n;
			p->len -= n;
			p->bytes += (unsigned long long)n;
		}
		if (p->eof)
			break;
		n = recv(in, p->buf, sizeof(p->buf), 0);
		if (n == SOCKET_ERROR)
			return WSAGetLastError() == WSAEWOULDBLOCK;
		if (n == 0) {
			p->eof = TRUE;
			break;
		}
		p->off = 0;
		p->len = n;
	}
	if (!p->shut) {
		shutdown(out, SD_SEND);
		p->shut = TRUE;
	}
	return TRUE;
}

static void Handle(FLOW *f, int side)
{
	WSANETWORKEVENTS ne;

	if (WSAEnumNetworkEvents(f->s[side], f->ev[side], &ne) == SOCKET_ERROR) {
		FlowEnd(f, "WSAEnumNetworkEvents failed");
		return;
	}
	if (ne.lNetworkEvents & FD_CONNECT) {
		if (ne.iErrorCode[FD_CONNECT_BIT] != 0) {
			WSASetLastError(ne.iErrorCode[FD_CONNECT_BIT]);
			FlowEnd(f, "connect failed");
			return;
		}
		f->connected = TRUE;
		WSAEventSelect(f->s[0], f->ev[0], FD_READ | FD_WRITE | FD_CLOSE);
	}
	if (!f->connected)
		return;
	/* whatever happened, both directions try to move */
	if (!Pump(f, 0) || !Pump(f, 1)) {
		FlowEnd(f, "relaying failed");
		return;
	}
	if (f->pipe[0].shut && f->pipe[1].shut)
		FlowEnd(f, NULL);
}

/* One wait over the listener and every flow's two events. */
static BOOL Serve(SOCKET listener, WSAEVENT listenEvent)
{
	WSAEVENT events[WSA_MAXIMUM_WAIT_EVENTS];
	int owner[WSA_MAXIMUM_WAIT_EVENTS];
	DWORD n = 0, r;

	events[n] = listenEvent;
	owner[n++] = -1;
	for (int i = 0; i < MAX_FLOWS; i++) {
		if (!g_flows[i].used)
			continue;
		for (int side = 0; side < 2; side++) {
			events[n] = g_flows[i].ev[side];
			owner[n++] = 2 * i + side;
		}
	}
	r = WSAWaitForMultipleEvents(n, events, FALSE, WSA_INFINITE, FALSE);
	if (r == WSA_WAIT_FAILED)
		return FALSE;
	for (DWORD k = r - WSA_WAIT_EVENT_0; k < n; k++) {
		/* every signalled one, not only the first */
		if (WSAWaitForMultipleEvents(1, &events[k], FALSE, 0, FALSE) !=
		    WSA_WAIT_EVENT_0)
			continue;
		if (owner[k] < 0) {
			WSANETWORKEVENTS ne;

			WSAEnumNetworkEvents(listener, listenEvent, &ne);
			if ((g_count == 0 || g_started < g_count) &&
			    (ne.lNetworkEvents & FD_ACCEPT))
				Accept(listener);
		} else if (g_flows[owner[k] / 2].used) {
			Handle(&g_flows[owner[k] / 2], owner[k] % 2);
		}
	}
	return TRUE;
}

int main(int argc, char **argv)
{
	WSADATA wsaData;
	ADDRINFOA hints, *ai = NULL;
	SOCKADDR_STORAGE bound;
	SOCKET listener;
	WSAEVENT listenEvent;
	char text[80];
	DWORD textLen = sizeof(text);
	int i = 1, len = sizeof(bound);

	if (argc == 5 && strcmp(argv[1], "--count") == 0) {
		g_count = atoi(argv[2]);
		i = 3;
	}
	if (argc - i != 2 || g_count < 0) {
		fprintf(stderr, "usage: winsock-eventselect-proxy [--count N] "
			"ADDR PORT\n");
		return 2;
	}
	if (WSAStartup(MAKEWORD(2, 2), &wsaData) != 0)
		return 1;
	ZeroMemory(&hints, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(argv[i], argv[i + 1], &hints, &ai) != 0)
		return 2;
	listener = socket(ai->ai_family, SOCK_STREAM, IPPROTO_TCP);
	listenEvent = WSACreateEvent();
	if (listener == INVALID_SOCKET ||
	    bind(listener, ai->ai_addr, (int)ai->ai_addrlen) != 0 ||
	    listen(listener, SOMAXCONN) != 0 ||
	    getsockname(listener, (SOCKADDR *)&bound, &len) != 0 ||
	    WSAEventSelect(listener, listenEvent, FD_ACCEPT) != 0) {
		fprintf(stderr, "winsock-eventselect-proxy: cannot listen: %d\n",
			WSAGetLastError());
		return 1;
	}
	freeaddrinfo(ai);
	WSAAddressToString((LPSOCKADDR)&bound, (DWORD)len, NULL, text, &textLen);
	printf("winsock-eventselect-proxy: listening on %s\n", text);
	fflush(stdout);
	while (g_count == 0 || g_ended < g_count)
		if (!Serve(listener, listenEvent))
			return 1;
	closesocket(listener);
	WSACloseEvent(listenEvent);
	WSACleanup();
	return 0;
}
