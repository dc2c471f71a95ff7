/* SPDX-License-Identifier: MIT */
/*
 * The data path a production Windows service uses, written as for
 * Windows: an I/O completion port with worker threads blocked in
 * GetQueuedCompletionStatus, AcceptEx with first data and
 * GetAcceptExSockaddrs, ConnectEx with a send buffer, overlapped
 * WSARecv/WSASend (a megabyte echoed back), CancelIoEx, and, without a
 * port, completion by event (WSAGetOverlappedResult) and by routine (an
 * alertable SleepEx). Built as C and as C++ by tests/e2e/windows.sh;
 * prints "iocp: ok", or the first check that failed.
 */
#include <WinSock2.h>
#include <MSWSock.h>
#include <WS2tcpip.h>
#include <Windows.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("iocp: failed: %s (line %d, error %lu)\n", \
			       #cond, __LINE__,			\
			       (unsigned long)GetLastError());		\
			exit(1);					\
		}							\
	} while (0)

#define BULK		(1024 * 1024)
#define ADDR_LEN	(sizeof(SOCKADDR_IN6) + 16)

enum { KEY_SERVER = 1, KEY_CLIENT = 2 };

/* One echo connection on the server side: receive, send back, again. */
typedef struct {
	OVERLAPPED ov;
	SOCKET s;
	char buf[8192];
	WSABUF wsabuf;
	BOOL sending;
	DWORD pending;	/* bytes of buf still to send */
	DWORD offset;
} ECHO;

static HANDLE g_port;
static ECHO g_echo;
static LONG volatile g_done;

static void EchoReceive(ECHO *e)
{
	DWORD flags = 0;

	ZeroMemory(&e->ov, sizeof(e->ov));
	e->sending = FALSE;
	e->wsabuf.buf = e->buf;
	e->wsabuf.len = sizeof(e->buf);
	CHECK(WSARecv(e->s, &e->wsabuf, 1, NULL, &flags, &e->ov, NULL) == 0 ||
	      WSAGetLastError() == WSA_IO_PENDING);
}

static void EchoSend(ECHO *e)
{
	ZeroMemory(&e->ov, sizeof(e->ov));
	e->sending = TRUE;
	e->wsabuf.buf = e->buf + e->offset;
	e->wsabuf.len = e->pending;
	CHECK(WSASend(e->s, &e->wsabuf, 1, NULL, 0, &e->ov, NULL) == 0 ||
	      WSAGetLastError() == WSA_IO_PENDING);
}

/* The server's completions: the echo loop until the client closes. */
static DWORD WINAPI Worker(LPVOID param)
{
	UNREFERENCED_PARAMETER(param);
	for (;;) {
		DWORD bytes = 0;
		ULONG_PTR key = 0;
		LPOVERLAPPED ov = NULL;
		BOOL ok = GetQueuedCompletionStatus(g_port, &bytes, &key, &ov,
						    INFINITE);
		ECHO *e = (ECHO *)ov;

		if (ov == NULL)
			return ok ? 0 : 1;	/* told to stop */
		if (!ok || (!e->sending && bytes == 0)) {
			closesocket(e->s);	/* the client is done */
			InterlockedExchange(&g_done, 1);
			continue;
		}
		if (e->sending) {
			e->offset += bytes;
			e->pending -= bytes;
			if (e->pending)
				EchoSend(e);
			else
				EchoReceive(e);
		} else {
			e->offset = 0;
			e->pending = bytes;
			EchoSend(e);
		}
	}
}

static LPFN_ACCEPTEX g_AcceptEx;
static LPFN_GETACCEPTEXSOCKADDRS g_GetAcceptExSockaddrs;
static LPFN_CONNECTEX g_ConnectEx;

static void LoadExtensions(SOCKET s)
{
	GUID accept = WSAID_ACCEPTEX, addrs = WSAID_GETACCEPTEXSOCKADDRS;
	GUID connect = WSAID_CONNECTEX;
	DWORD bytes = 0;

	CHECK(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &accept,
		       sizeof(accept), &g_AcceptEx, sizeof(g_AcceptEx), &bytes,
		       NULL, NULL) == 0);
	CHECK(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &addrs,
		       sizeof(addrs), &g_GetAcceptExSockaddrs,
		       sizeof(g_GetAcceptExSockaddrs), &bytes, NULL,
		       NULL) == 0);
	CHECK(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &connect,
		       sizeof(connect), &g_ConnectEx, sizeof(g_ConnectEx),
		       &bytes, NULL, NULL) == 0);
}

static SOCKET Listener(SOCKADDR_IN *addr)
{
	SOCKET s = WSASocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
			     WSA_FLAG_OVERLAPPED);
	int len = sizeof(*addr);

	ZeroMemory(addr, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(s != INVALID_SOCKET);
	CHECK(bind(s, (SOCKADDR *)addr, sizeof(*addr)) == 0);
	CHECK(listen(s, SOMAXCONN) == 0);
	CHECK(getsockname(s, (SOCKADDR *)addr, &len) == 0);
	return s;
}

/* The client side, by event (no port): connect with first data, then a
 * megabyte out and back. */
static void Client(const SOCKADDR_IN *server, SOCKET *out)
{
	SOCKADDR_IN any;
	OVERLAPPED ov;
	DWORD bytes = 0, flags = 0;
	SOCKET c = WSASocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
			     WSA_FLAG_OVERLAPPED);
	char hello[] = "hello";

	ZeroMemory(&any, sizeof(any));
	any.sin_family = AF_INET;
	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(c, (SOCKADDR *)&any, sizeof(any)) == 0);
	ZeroMemory(&ov, sizeof(ov));
	ov.hEvent = WSACreateEvent();
	if (!g_ConnectEx(c, (const SOCKADDR *)server, sizeof(*server), hello,
			 5, &bytes, &ov))
		CHECK(WSAGetLastError() == ERROR_IO_PENDING);
	CHECK(WSAGetOverlappedResult(c, &ov, &bytes, TRUE, &flags));
	CHECK(bytes == 5);
	CHECK(setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0) ==
	      0);
	WSACloseEvent(ov.hEvent);
	*out = c;
}

/* A megabyte, sent in one overlapped WSASend, echoed back. */
static void Bulk(SOCKET c)
{
	char *data = (char *)malloc(BULK), *back = (char *)malloc(BULK);
	WSABUF buf;
	OVERLAPPED ov;
	DWORD bytes = 0, flags = 0, got = 0;

	CHECK(data && back);
	for (int i = 0; i < BULK; i++)
		data[i] = (char)(i * 7);
	ZeroMemory(&ov, sizeof(ov));
	ov.hEvent = WSACreateEvent();
	buf.buf = data;
	buf.len = BULK;
	if (WSASend(c, &buf, 1, &bytes, 0, &ov, NULL) != 0)
		CHECK(WSAGetLastError() == WSA_IO_PENDING);
	while (got < BULK) {
		OVERLAPPED rov;
		WSABUF rb;

		ZeroMemory(&rov, sizeof(rov));
		rov.hEvent = WSACreateEvent();
		rb.buf = back + got;
		rb.len = BULK - got;
		flags = 0;
		if (WSARecv(c, &rb, 1, &bytes, &flags, &rov, NULL) != 0)
			CHECK(WSAGetLastError() == WSA_IO_PENDING);
		CHECK(WSAGetOverlappedResult(c, &rov, &bytes, TRUE, &flags));
		CHECK(bytes > 0);
		got += bytes;
		WSACloseEvent(rov.hEvent);
	}
	CHECK(WSAGetOverlappedResult(c, &ov, &bytes, TRUE, &flags) &&
	      bytes == BULK);
	CHECK(memcmp(data, back, BULK) == 0);
	WSACloseEvent(ov.hEvent);
	free(data);
	free(back);
}

static DWORD g_routine_bytes;

static void CALLBACK Done(DWORD error, DWORD bytes, LPWSAOVERLAPPED ov,
			  DWORD flags)
{
	UNREFERENCED_PARAMETER(ov);
	UNREFERENCED_PARAMETER(flags);
	g_routine_bytes = error ? 0 : bytes + 1;
}

/* A receive completed by routine, then one cancelled. */
static void RoutineAndCancel(SOCKET c)
{
	char buf[16];
	WSABUF b;
	OVERLAPPED ov;
	DWORD bytes = 0, flags = 0;

	b.buf = buf;
	b.len = 4;
	ZeroMemory(&ov, sizeof(ov));
	CHECK(send(c, "ping", 4, 0) == 4);
	if (WSARecv(c, &b, 1, NULL, &flags, &ov, Done) != 0)
		CHECK(WSAGetLastError() == WSA_IO_PENDING);
	for (int i = 0; i < 100 && !g_routine_bytes; i++)
		SleepEx(50, TRUE);
	CHECK(g_routine_bytes == 5);	/* 4 bytes, in the routine */

	ZeroMemory(&ov, sizeof(ov));
	ov.hEvent = WSACreateEvent();
	flags = 0;
	CHECK(WSARecv(c, &b, 1, NULL, &flags, &ov, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSA_IO_PENDING);
	CHECK(CancelIoEx((HANDLE)c, &ov));
	CHECK(!WSAGetOverlappedResult(c, &ov, &bytes, TRUE, &flags) &&
	      WSAGetLastError() == WSA_OPERATION_ABORTED);
	CHECK(!CancelIoEx((HANDLE)c, &ov) && GetLastError() == ERROR_NOT_FOUND);
	WSACloseEvent(ov.hEvent);
}

/* With FILE_SKIP_SET_EVENT_ON_HANDLE, a receive that completes at once
 * returns 0 and leaves its event alone. */
static void SkipOnSuccess(SOCKET c)
{
	char buf[16];
	WSABUF b;
	OVERLAPPED ov;
	DWORD bytes = 0, flags = 0;
	fd_set rd;
	TIMEVAL tv = { 5, 0 };

	CHECK(SetFileCompletionNotificationModes((HANDLE)c,
						 FILE_SKIP_SET_EVENT_ON_HANDLE));
	CHECK(send(c, "skip", 4, 0) == 4);
	FD_ZERO(&rd);
	FD_SET(c, &rd);
	CHECK(select(0, &rd, NULL, NULL, &tv) == 1);	/* the echo is back */
	b.buf = buf;
	b.len = sizeof(buf);
	ZeroMemory(&ov, sizeof(ov));
	ov.hEvent = WSACreateEvent();
	CHECK(WSARecv(c, &b, 1, &bytes, &flags, &ov, NULL) == 0 && bytes == 4);
	CHECK(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 0, FALSE) ==
	      WSA_WAIT_TIMEOUT);
	WSACloseEvent(ov.hEvent);
}

int main(void)
{
	WSADATA wsa;
	SOCKADDR_IN server;
	SOCKET listener, accepted, client;
	char out[64 + 2 * ADDR_LEN];
	OVERLAPPED aov;
	DWORD bytes = 0;
	HANDLE workers[2];
	SOCKADDR *local, *remote;
	SOCKADDR_IN mine;
	int llen = 0, rlen = 0, mlen = sizeof(mine);

	CHECK(WSAStartup(MAKEWORD(2, 2), &wsa) == 0);
	listener = Listener(&server);
	LoadExtensions(listener);
	g_port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
	CHECK(g_port != NULL);
	CHECK(CreateIoCompletionPort((HANDLE)listener, g_port, KEY_SERVER, 0) ==
	      g_port);

	/* AcceptEx, waiting for the first 5 bytes */
	accepted = WSASocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
			     WSA_FLAG_OVERLAPPED);
	ZeroMemory(&aov, sizeof(aov));
	if (!g_AcceptEx(listener, accepted, out, 5, ADDR_LEN, ADDR_LEN, &bytes,
			&aov))
		CHECK(WSAGetLastError() == ERROR_IO_PENDING);
	Client(&server, &client);
	{
		ULONG_PTR key = 0;
		LPOVERLAPPED ov = NULL;

		CHECK(GetQueuedCompletionStatus(g_port, &bytes, &key, &ov, 5000));
		CHECK(ov == &aov && key == KEY_SERVER && bytes == 5);
	}
	CHECK(memcmp(out, "hello", 5) == 0);
	CHECK(setsockopt(accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
			 (char *)&listener, sizeof(listener)) == 0);
	g_GetAcceptExSockaddrs(out, 5, ADDR_LEN, ADDR_LEN, &local, &llen,
			       &remote, &rlen);
	CHECK(getsockname(client, (SOCKADDR *)&mine, &mlen) == 0);
	CHECK(rlen == (int)sizeof(SOCKADDR_IN) &&
	      ((SOCKADDR_IN *)remote)->sin_port == mine.sin_port);
	CHECK(llen == (int)sizeof(SOCKADDR_IN) &&
	      ((SOCKADDR_IN *)local)->sin_port == server.sin_port);

	/* the echo, on the port, with two workers */
	g_echo.s = accepted;
	CHECK(CreateIoCompletionPort((HANDLE)accepted, g_port, KEY_CLIENT, 0) ==
	      g_port);
	for (int i = 0; i < 2; i++) {
		workers[i] = CreateThread(NULL, 0, Worker, NULL, 0, NULL);
		CHECK(workers[i] != NULL);
	}
	EchoReceive(&g_echo);
	Bulk(client);
	RoutineAndCancel(client);
	SkipOnSuccess(client);
	closesocket(client);
	for (int i = 0; i < 200 && !g_done; i++)
		Sleep(10);
	CHECK(g_done);

	for (int i = 0; i < 2; i++)
		CHECK(PostQueuedCompletionStatus(g_port, 0, 0, NULL));
	CHECK(WaitForMultipleObjects(2, workers, TRUE, 5000) == WAIT_OBJECT_0);
	CHECK(CloseHandle(workers[0]) && CloseHandle(workers[1]));
	CHECK(CloseHandle(g_port));
	closesocket(listener);
	WSACleanup();
	printf("iocp: ok\n");
	return 0;
}
