/* SPDX-License-Identifier: MIT */
/*
 * Winsock 2's own forms of the socket calls, written as for Windows:
 * WSAConnect, WSAAccept with a condition function that accepts one peer
 * and rejects the next, WSAAddressToString, SIO_KEEPALIVE_VALS, and
 * WSAEventSelect with WSAEnumNetworkEvents (FD_ACCEPT, FD_CONNECT,
 * FD_READ again while data is left, FD_WRITE, FD_CLOSE). Built as C and
 * as C++ by tests/e2e/windows.sh; prints "wsa: ok".
 */
#include <WinSock2.h>
#include <WS2tcpip.h>
#include <MSTcpIP.h>
#include <Windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("wsa: failed: %s (line %d, error %d)\n",	\
			       #cond, __LINE__, WSAGetLastError());	\
			exit(1);					\
		}							\
	} while (0)

static int CALLBACK Condition(LPWSABUF lpCallerId, LPWSABUF lpCallerData,
			      LPQOS lpSQOS, LPQOS lpGQOS, LPWSABUF lpCalleeId,
			      LPWSABUF lpCalleeData, GROUP *g,
			      DWORD_PTR dwCallbackData)
{
	LONG *calls = (LONG *)dwCallbackData;

	UNREFERENCED_PARAMETER(lpCallerData);
	UNREFERENCED_PARAMETER(lpSQOS);
	UNREFERENCED_PARAMETER(lpGQOS);
	UNREFERENCED_PARAMETER(lpCalleeData);
	UNREFERENCED_PARAMETER(g);
	if (lpCallerId == NULL || lpCallerId->len < sizeof(SOCKADDR_IN) ||
	    lpCalleeId == NULL || lpCalleeId->len < sizeof(SOCKADDR_IN))
		return CF_REJECT;
	return InterlockedIncrement(calls) == 1 ? CF_ACCEPT : CF_REJECT;
}

static SOCKET Listener(SOCKADDR_IN *addr)
{
	SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	int len = sizeof(*addr);

	ZeroMemory(addr, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(s, (SOCKADDR *)addr, sizeof(*addr)) == 0);
	CHECK(listen(s, SOMAXCONN) == 0);
	CHECK(getsockname(s, (SOCKADDR *)addr, &len) == 0);
	return s;
}

static void AcceptAndConnect(void)
{
	SOCKADDR_IN addr, peer;
	SOCKET l = Listener(&addr), c1, c2, a;
	int len = sizeof(peer);
	LONG calls = 0;
	char text[64];
	DWORD textLen = sizeof(text);
	struct tcp_keepalive ka = { 1, 30000, 5000 };
	DWORD bytes = 0;
	int on = 0, onLen = sizeof(on);

	c1 = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK(WSAConnect(c1, (SOCKADDR *)&addr, sizeof(addr), NULL, NULL, NULL,
			 NULL) == 0);
	a = WSAAccept(l, (SOCKADDR *)&peer, &len, Condition, (DWORD_PTR)&calls);
	CHECK(a != INVALID_SOCKET && len == (int)sizeof(SOCKADDR_IN));
	CHECK(WSAAddressToString((SOCKADDR *)&addr, sizeof(addr), NULL, text,
				 &textLen) == 0);
	CHECK(strncmp(text, "127.0.0.1:", 10) == 0 &&
	      textLen == strlen(text) + 1);
	textLen = 3;
	CHECK(WSAAddressToString((SOCKADDR *)&addr, sizeof(addr), NULL, text,
				 &textLen) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT && textLen > 3);

	CHECK(WSAIoctl(a, SIO_KEEPALIVE_VALS, &ka, sizeof(ka), NULL, 0, &bytes,
		       NULL, NULL) == 0);
	CHECK(getsockopt(a, SOL_SOCKET, SO_KEEPALIVE, (char *)&on, &onLen) ==
		      0 && on);

	c2 = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK(connect(c2, (SOCKADDR *)&addr, sizeof(addr)) == 0);
	CHECK(WSAAccept(l, NULL, NULL, Condition, (DWORD_PTR)&calls) ==
		      INVALID_SOCKET &&
	      WSAGetLastError() == WSAECONNREFUSED && calls == 2);
	closesocket(a);
	closesocket(c1);
	closesocket(c2);
	closesocket(l);
}

/* Wait for the event, then what happened on the socket. */
static long Events(SOCKET s, WSAEVENT ev, WSANETWORKEVENTS *ne)
{
	if (WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE) !=
	    WSA_WAIT_EVENT_0)
		return 0;
	CHECK(WSAEnumNetworkEvents(s, ev, ne) == 0);
	return ne->lNetworkEvents;
}

static void EventSelect(void)
{
	SOCKADDR_IN addr;
	SOCKET l = Listener(&addr), c, a;
	WSAEVENT le = WSACreateEvent(), ce = WSACreateEvent();
	WSAEVENT ae = WSACreateEvent();
	WSANETWORKEVENTS ne;
	char buf[4];

	CHECK(WSAEventSelect(l, le, FD_ACCEPT) == 0);
	c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK(WSAEventSelect(c, ce, FD_CONNECT | FD_READ | FD_WRITE |
				     FD_CLOSE) == 0);
	/* the socket is non-blocking now, as on Windows */
	CHECK(connect(c, (SOCKADDR *)&addr, sizeof(addr)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEWOULDBLOCK);
	CHECK(Events(l, le, &ne) & FD_ACCEPT);
	CHECK(ne.iErrorCode[FD_ACCEPT_BIT] == 0);
	a = accept(l, NULL, NULL);
	CHECK(a != INVALID_SOCKET);
	CHECK(Events(c, ce, &ne) & FD_CONNECT);
	CHECK(ne.iErrorCode[FD_CONNECT_BIT] == 0);

	CHECK(WSAEventSelect(a, ae, FD_READ | FD_CLOSE) == 0);
	CHECK(send(c, "abcdefgh", 8, 0) == 8);
	CHECK(Events(a, ae, &ne) & FD_READ);
	CHECK(recv(a, buf, 4, 0) == 4);	/* half of it: FD_READ again */
	CHECK(Events(a, ae, &ne) & FD_READ);
	CHECK(recv(a, buf, 4, 0) == 4 && memcmp(buf, "efgh", 4) == 0);
	closesocket(c);
	CHECK(Events(a, ae, &ne) & FD_CLOSE);
	CHECK(ne.iErrorCode[FD_CLOSE_BIT] == 0);
	CHECK(WSAEventSelect(a, NULL, 0) == 0);	/* off again */
	closesocket(a);
	closesocket(l);
	WSACloseEvent(le);
	WSACloseEvent(ce);
	WSACloseEvent(ae);
}

int main(void)
{
	WSADATA wsa;

	CHECK(WSAStartup(MAKEWORD(2, 2), &wsa) == 0);
	AcceptAndConnect();
	EventSelect();
	WSACleanup();
	printf("wsa: ok\n");
	return 0;
}
