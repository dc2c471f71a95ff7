/* SPDX-License-Identifier: MIT */
/*
 * winsock-iocp-proxy: a WFP redirect service built the way most
 * production Windows proxies are: an I/O completion port, a pool of
 * worker threads blocked in GetQueuedCompletionStatus, AcceptEx to
 * accept, ConnectEx to connect out, overlapped WSARecv/WSASend to relay.
 * Written as for Windows, built unchanged on Linux against lwfp-winsock:
 *
 *   cc winsock-iocp-proxy.c $(pkg-config --cflags --libs lwfp-winsock)
 *
 * For each redirected connection it reads the redirect records and
 * context from the accepted socket, gives the records to its own socket
 * before ConnectEx (so that the connection is not redirected back here),
 * connects to the original destination named in the context and relays
 * both ways until both sides have closed.
 *
 * The context is this service's own REDIRECT_CONTEXT, as its callout lays
 * it out: on Linux the rule that redirects to it says so with
 *
 *   lwfp rule add --service NAME ... --context-layout winsock-iocp-proxy.layout
 *
 *   winsock-iocp-proxy [--workers N] [--count N] ADDR PORT
 *
 * PORT 0 lets the system choose; the line "listening on ADDR:PORT" names
 * it. --workers: threads (default: two per processor). --count: exit
 * after that many flows have ended (default: never; Ctrl+C stops it).
 */
#include <WinSock2.h>
#include <WS2tcpip.h>
#include <MSWSock.h>
#include <Mstcpip.h>
#include <Windows.h>
#include <stdio.h>
#include <stdlib.h>

/* The redirect context this service's callout attaches. */
#pragma pack(push, 1)
typedef struct REDIRECT_CONTEXT {
	SOCKADDR_STORAGE originalDestination;	/* 0 */
	SOCKADDR_STORAGE clientAddress;		/* 128 */
	UINT32 processId;			/* 256 */
	UINT32 userId;				/* 260 */
	UINT32 ruleId;				/* 264 */
	char processName[16];			/* 268 */
} REDIRECT_CONTEXT;
#pragma pack(pop)

/* A receive posted again at once takes what has come in, up to this: with
 * 64 KiB a loopback window of ~93 KiB came as 64 + 29 KiB, a third more
 * receives and sends per byte (docs/performance.md, section 3). */
#define RELAY_BUFFER	131072
#define RECORDS_BUFFER	1024
#define ACCEPTS		16	/* AcceptEx calls outstanding */
#define ADDRESS_SPACE	(sizeof(SOCKADDR_IN6) + 16)

typedef enum { OP_ACCEPT, OP_CONNECT, OP_RECV, OP_SEND } OPERATION;

struct CONNECTION;

/* One overlapped operation; the OVERLAPPED comes first, so that the
 * pointer a completion returns is the IO_CONTEXT. */
typedef struct IO_CONTEXT {
	OVERLAPPED ov;
	OPERATION op;
	struct CONNECTION *conn;
	struct HALF *half;
} IO_CONTEXT;

/* One direction: read from one socket, write what was read to the other. */
typedef struct HALF {
	IO_CONTEXT io;
	SOCKET *from, *to;
	char buf[RELAY_BUFFER];
	WSABUF wsabuf;
	unsigned long long bytes;
	BOOL done;
} HALF;

typedef struct CONNECTION {
	IO_CONTEXT accept;
	SOCKET client, server;
	char acceptBuffer[2 * ADDRESS_SPACE];
	HALF up, down;		/* client to server, server to client */
	LONG volatile refs;	/* operations outstanding, plus one */
	LONG volatile failed;
	int number;
	REDIRECT_CONTEXT info;
	DWORD recordsSize, contextSize;
	char destination[80];
} CONNECTION;

static HANDLE g_port;
static SOCKET g_listener;
static int g_family;
static LPFN_ACCEPTEX g_AcceptEx;
static LPFN_CONNECTEX g_ConnectEx;
static LONG volatile g_started, g_ended;
static LONG g_count;
static HANDLE g_finished;
static CRITICAL_SECTION g_print;

static const char *AddressText(const SOCKADDR_STORAGE *ss, char *buf,
			       size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const SOCKADDR_IN *sin = (const SOCKADDR_IN *)ss;

		InetNtopA(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host,
					ntohs(sin->sin_port));
	} else {
		const SOCKADDR_IN6 *sin6 = (const SOCKADDR_IN6 *)ss;

		InetNtopA(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host,
					ntohs(sin6->sin6_port));
	}
	return buf;
}

/* The client's process name, printable: a hostile client chooses it. */
static const char *Printable(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] != '\0' && o + 5 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", ch);
	}
	out[o] = '\0';
	return out;
}

static void Release(CONNECTION *c)
{
	char comm[4 * sizeof(c->info.processName) + 1];

	if (InterlockedDecrement(&c->refs) != 0)
		return;
	EnterCriticalSection(&g_print);
	if (c->destination[0])
		printf("winsock-iocp-proxy: flow %d: pid %lu comm \"%s\" uid %lu "
		       "-> %s rule %lu, %lu bytes of records, %lu bytes of "
		       "context, %llu bytes up, %llu bytes down%s\n",
		       c->number, (unsigned long)c->info.processId,
		       Printable(c->info.processName,
				 sizeof(c->info.processName), comm,
				 sizeof(comm)),
		       (unsigned long)c->info.userId, c->destination,
		       (unsigned long)c->info.ruleId,
		       (unsigned long)c->recordsSize,
		       (unsigned long)c->contextSize, c->up.bytes,
		       c->down.bytes, c->failed ? " (ended by an error)" : "");
	fflush(stdout);
	LeaveCriticalSection(&g_print);
	if (c->client != INVALID_SOCKET)
		closesocket(c->client);
	if (c->server != INVALID_SOCKET)
		closesocket(c->server);
	HeapFree(GetProcessHeap(), 0, c);
	if (InterlockedIncrement(&g_ended) == g_count)
		SetEvent(g_finished);
}

/* Something failed: close both sockets, which ends what is pending. */
static void Fail(CONNECTION *c, const char *what, int error)
{
	if (InterlockedExchange(&c->failed, 1) != 0)
		return;
	EnterCriticalSection(&g_print);
	printf("winsock-iocp-proxy: flow %d: %s (error %d)\n", c->number, what,
	       error);
	fflush(stdout);
	LeaveCriticalSection(&g_print);
	shutdown(c->client, SD_BOTH);
	if (c->server != INVALID_SOCKET)
		shutdown(c->server, SD_BOTH);
}

/*
 * Start a receive (op OP_RECV) or a send of bytes (OP_SEND) on half h.
 * TRUE if it completed at once, *bytes moved: the sockets skip the
 * completion packet then (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), so the
 * caller goes on itself. FALSE if it is under way (a packet will come) or
 * failed.
 */
static BOOL Start(HALF *h, OPERATION op, DWORD *bytes)
{
	DWORD flags = 0;
	int ret;

	ZeroMemory(&h->io.ov, sizeof(h->io.ov));
	h->io.op = op;
	h->wsabuf.buf = h->buf;
	h->wsabuf.len = op == OP_RECV ? (ULONG)sizeof(h->buf) : *bytes;
	InterlockedIncrement(&h->io.conn->refs);
	ret = op == OP_RECV ?
		WSARecv(*h->from, &h->wsabuf, 1, bytes, &flags, &h->io.ov,
			NULL) :
		WSASend(*h->to, &h->wsabuf, 1, bytes, 0, &h->io.ov, NULL);
	if (ret == 0) {
		InterlockedDecrement(&h->io.conn->refs);	/* no packet */
		return TRUE;
	}
	if (WSAGetLastError() != WSA_IO_PENDING) {
		Fail(h->io.conn, op == OP_RECV ? "WSARecv failed" :
						 "WSASend failed",
		     WSAGetLastError());
		Release(h->io.conn);
	}
	return FALSE;
}

/* Half h's op has moved bytes: what comes next, for as long as each step
 * completes at once. */
static void Drive(HALF *h, OPERATION op, DWORD bytes)
{
	for (;;) {
		if (op == OP_RECV && bytes == 0) {	/* its side closed */
			h->done = TRUE;
			shutdown(*h->to, SD_SEND);
			return;
		}
		if (op == OP_RECV)
			h->bytes += bytes;
		op = op == OP_RECV ? OP_SEND : OP_RECV;
		if (!Start(h, op, &bytes))
			return;
	}
}

static BOOL PostAccept(void)
{
	CONNECTION *c = (CONNECTION *)HeapAlloc(GetProcessHeap(),
						 HEAP_ZERO_MEMORY, sizeof(*c));
	DWORD bytes = 0;

	if (c == NULL)
		return FALSE;
	c->client = WSASocket(g_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
			      WSA_FLAG_OVERLAPPED);
	c->server = INVALID_SOCKET;
	c->refs = 1;
	c->accept.op = OP_ACCEPT;
	c->accept.conn = c;
	if (c->client == INVALID_SOCKET ||
	    (!g_AcceptEx(g_listener, c->client, c->acceptBuffer, 0,
			 ADDRESS_SPACE, ADDRESS_SPACE, &bytes, &c->accept.ov) &&
	     WSAGetLastError() != ERROR_IO_PENDING)) {
		if (c->client != INVALID_SOCKET)
			closesocket(c->client);
		HeapFree(GetProcessHeap(), 0, c);
		return FALSE;
	}
	return TRUE;
}

/* The redirect records and our context struct, from the accepted
 * socket. */
static BOOL QueryRedirect(CONNECTION *c, BYTE *records)
{
	if (WSAIoctl(c->client, SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS, NULL,
		     0, records, RECORDS_BUFFER, &c->recordsSize, NULL,
		     NULL) == SOCKET_ERROR)
		return FALSE;
	return WSAIoctl(c->client, SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT,
			NULL, 0, &c->info, sizeof(c->info), &c->contextSize,
			NULL, NULL) != SOCKET_ERROR &&
	       c->contextSize == sizeof(c->info);
}

static void OnConnect(CONNECTION *c);

/* Accepted: our own socket, with the records, connects out. */
static void OnAccept(CONNECTION *c)
{
	BYTE records[RECORDS_BUFFER];
	SOCKADDR_STORAGE any, dst;
	DWORD bytes = 0;
	int len;

	c->number = InterlockedIncrement(&g_started);
	if (g_count == 0 || c->number < g_count)
		PostAccept();
	setsockopt(c->client, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
		   (char *)&g_listener, sizeof(g_listener));
	if (!QueryRedirect(c, records)) {
		Fail(c, "no redirect records or context", WSAGetLastError());
		return;
	}
	/* the packed struct's addresses need not be aligned: copy out */
	CopyMemory(&dst, &c->info.originalDestination, sizeof(dst));
	AddressText(&dst, c->destination, sizeof(c->destination));
	len = dst.ss_family == AF_INET ? (int)sizeof(SOCKADDR_IN) :
					 (int)sizeof(SOCKADDR_IN6);
	ZeroMemory(&any, sizeof(any));
	any.ss_family = dst.ss_family;	/* ConnectEx wants a bound socket */
	c->server = WSASocket(any.ss_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
			      WSA_FLAG_OVERLAPPED);
	if (c->server == INVALID_SOCKET ||
	    bind(c->server, (SOCKADDR *)&any, len) == SOCKET_ERROR ||
	    WSAIoctl(c->server, SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS,
		     records, c->recordsSize, NULL, 0, &bytes, NULL,
		     NULL) == SOCKET_ERROR ||
	    CreateIoCompletionPort((HANDLE)c->server, g_port, 0, 0) == NULL ||
	    CreateIoCompletionPort((HANDLE)c->client, g_port, 0, 0) == NULL ||
	    !SetFileCompletionNotificationModes((HANDLE)c->server,
					FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) ||
	    !SetFileCompletionNotificationModes((HANDLE)c->client,
					FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)) {
		Fail(c, "setting up the outbound socket failed",
		     WSAGetLastError());
		return;
	}
	ZeroMemory(&c->accept.ov, sizeof(c->accept.ov));
	c->accept.op = OP_CONNECT;
	InterlockedIncrement(&c->refs);
	if (g_ConnectEx(c->server, (SOCKADDR *)&dst, len, NULL, 0, &bytes,
			&c->accept.ov)) {
		/* connected at once: the socket skips the packet */
		OnConnect(c);
		Release(c);
	} else if (WSAGetLastError() != ERROR_IO_PENDING) {
		Fail(c, "ConnectEx failed", WSAGetLastError());
		Release(c);
	}
}

static void OnConnect(CONNECTION *c)
{
	setsockopt(c->server, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0);
	c->up.io.conn = c->down.io.conn = c;
	c->up.io.half = &c->up;
	c->down.io.half = &c->down;
	c->up.from = c->down.to = &c->client;
	c->up.to = c->down.from = &c->server;
	Drive(&c->up, OP_SEND, 0);	/* as if a send had ended: receive */
	Drive(&c->down, OP_SEND, 0);
}

static void Complete(IO_CONTEXT *io, BOOL ok, DWORD bytes)
{
	CONNECTION *c = io->conn;

	if (!ok || c->failed) {
		if (io->op != OP_ACCEPT || ok)
			Fail(c, "an operation failed", (int)GetLastError());
		else if (g_count == 0 || InterlockedIncrement(&g_started) <
						 g_count)
			PostAccept();	/* an accept failed: keep accepting */
	} else if (io->op == OP_ACCEPT) {
		OnAccept(c);
	} else if (io->op == OP_CONNECT) {
		OnConnect(c);
	} else {
		Drive(io->half, io->op, bytes);
	}
	Release(c);
}

static DWORD WINAPI Worker(LPVOID param)
{
	UNREFERENCED_PARAMETER(param);
	for (;;) {
		DWORD bytes = 0;
		ULONG_PTR key = 0;
		LPOVERLAPPED ov = NULL;
		BOOL ok = GetQueuedCompletionStatus(g_port, &bytes, &key, &ov,
						    INFINITE);

		if (ov == NULL)
			return 0;	/* PostQueuedCompletionStatus: stop */
		Complete((IO_CONTEXT *)ov, ok, bytes);
	}
}

static BOOL WINAPI OnCtrl(DWORD type)
{
	UNREFERENCED_PARAMETER(type);
	SetEvent(g_finished);
	return TRUE;
}

static BOOL LoadExtensions(void)
{
	GUID acceptId = WSAID_ACCEPTEX, connectId = WSAID_CONNECTEX;
	DWORD bytes = 0;

	return WSAIoctl(g_listener, SIO_GET_EXTENSION_FUNCTION_POINTER,
			&acceptId, sizeof(acceptId), &g_AcceptEx,
			sizeof(g_AcceptEx), &bytes, NULL, NULL) == 0 &&
	       WSAIoctl(g_listener, SIO_GET_EXTENSION_FUNCTION_POINTER,
			&connectId, sizeof(connectId), &g_ConnectEx,
			sizeof(g_ConnectEx), &bytes, NULL, NULL) == 0;
}

static BOOL Listen(const char *host, const char *port)
{
	ADDRINFOA hints, *ai = NULL;
	SOCKADDR_STORAGE bound;
	int len = sizeof(bound);
	char text[80];

	ZeroMemory(&hints, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return FALSE;
	g_family = ai->ai_family;
	g_listener = WSASocket(g_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
			       WSA_FLAG_OVERLAPPED);
	if (g_listener == INVALID_SOCKET ||
	    bind(g_listener, ai->ai_addr, (int)ai->ai_addrlen) != 0 ||
	    listen(g_listener, SOMAXCONN) != 0 ||
	    getsockname(g_listener, (SOCKADDR *)&bound, &len) != 0) {
		freeaddrinfo(ai);
		return FALSE;
	}
	freeaddrinfo(ai);
	printf("winsock-iocp-proxy: listening on %s\n",
	       AddressText(&bound, text, sizeof(text)));
	fflush(stdout);
	return TRUE;
}

int main(int argc, char **argv)
{
	WSADATA wsaData;
	SYSTEM_INFO si;
	HANDLE *workers;
	DWORD nworkers;
	int i = 1;

	GetSystemInfo(&si);
	nworkers = 2 * si.dwNumberOfProcessors;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		long v = strtol(argv[i + 1], NULL, 10);

		if (v < 1 || v > 100000)
			break;
		if (strcmp(argv[i], "--workers") == 0 && v <= 256)
			nworkers = (DWORD)v;
		else if (strcmp(argv[i], "--count") == 0)
			g_count = v;
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: winsock-iocp-proxy [--workers N] "
			"[--count N] ADDR PORT\n");
		return 2;
	}
	if (WSAStartup(MAKEWORD(2, 2), &wsaData) != 0)
		return 1;
	InitializeCriticalSection(&g_print);
	g_finished = CreateEvent(NULL, TRUE, FALSE, NULL);
	g_port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
	workers = (HANDLE *)HeapAlloc(GetProcessHeap(), 0,
				      nworkers * sizeof(HANDLE));
	if (g_finished == NULL || g_port == NULL || workers == NULL ||
	    !Listen(argv[i], argv[i + 1]) || !LoadExtensions() ||
	    CreateIoCompletionPort((HANDLE)g_listener, g_port, 0, 0) == NULL) {
		fprintf(stderr, "winsock-iocp-proxy: cannot start: %lu\n",
			(unsigned long)GetLastError());
		return 1;
	}
	SetConsoleCtrlHandler(OnCtrl, TRUE);
	for (DWORD w = 0; w < nworkers; w++)
		workers[w] = CreateThread(NULL, 0, Worker, NULL, 0, NULL);
	for (int a = 0; a < ACCEPTS && (g_count == 0 || a < g_count); a++)
		PostAccept();

	WaitForSingleObject(g_finished, INFINITE);
	for (DWORD w = 0; w < nworkers; w++)
		PostQueuedCompletionStatus(g_port, 0, 0, NULL);
	for (DWORD w = 0; w < nworkers; w++) {
		WaitForSingleObject(workers[w], INFINITE);
		CloseHandle(workers[w]);
	}
	closesocket(g_listener);
	CloseHandle(g_port);
	HeapFree(GetProcessHeap(), 0, workers);
	WSACleanup();
	return 0;
}
