// SPDX-License-Identifier: MIT
/* Readiness as a Windows service asks for it: WSAPoll() and ioctlsocket(). */
#include "ws_test.h"

/* A connected pair over loopback: *a the connecting end, *b accepted. */
static bool tcp_pair(SOCKET *a, SOCKET *b)
{
	uint16_t port;
	int l = listen_on("127.0.0.1", &port);

	*a = (SOCKET)connect_to(AF_INET, "127.0.0.1", port);
	*b = (SOCKET)accept_timeout(l, 5000);
	close(l);
	return (int)*a >= 0 && (int)*b >= 0;
}

void test_poll(void)
{
	WSAPOLLFD fds[3];
	SOCKET a, b;

	CHECK(WSAPoll(fds, 1, 0) == SOCKET_ERROR &&
	      WSAGetLastError() == WSANOTINITIALISED, "before WSAStartup");
	REQUIRE(ws_begin(), "startup");
	REQUIRE(tcp_pair(&a, &b), "a connection");

	fds[0] = (WSAPOLLFD){ .fd = a, .events = POLLRDNORM | POLLWRNORM };
	fds[1] = (WSAPOLLFD){ .fd = b, .events = POLLRDNORM };
	fds[2] = (WSAPOLLFD){ .fd = INVALID_SOCKET, .events = POLLRDNORM,
			      .revents = POLLERR };
	CHECK(WSAPoll(fds, 3, 0) == 1, "one ready: a writable");
	CHECK(fds[0].revents == (POLLWRNORM | POLLOUT),
	      "writable shows as POLLWRNORM and POLLOUT: %#x", fds[0].revents);
	CHECK(fds[1].revents == 0, "nothing to read yet");
	CHECK(fds[2].revents == 0, "an INVALID_SOCKET entry is ignored");

	CHECK(send(a, "x", 1, 0) == 1, "send");
	fds[0].events = POLLIN;
	CHECK(WSAPoll(fds, 2, 5000) == 1, "b readable");
	CHECK(fds[1].revents == (POLLRDNORM | POLLIN),
	      "readable shows as POLLRDNORM and POLLIN: %#x", fds[1].revents);

	closesocket(a);
	fds[1].events = POLLRDNORM;
	CHECK(WSAPoll(&fds[1], 1, 5000) == 1 &&
	      (fds[1].revents & POLLRDNORM), "the peer's close is readable");

	fds[1].events = POLLERR;
	CHECK(WSAPoll(&fds[1], 1, 0) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEINVAL, "POLLERR asked for: WSAEINVAL");
	CHECK(WSAPoll(NULL, 1, 0) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEINVAL, "no array: WSAEINVAL");
	CHECK(WSAPoll((LPWSAPOLLFD)16, 1, 0) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT, "a bad pointer: WSAEFAULT");
	fds[0] = (WSAPOLLFD){ .fd = (SOCKET)1000000, .events = POLLRDNORM };
	CHECK(WSAPoll(fds, 1, 0) == 1 && fds[0].revents == POLLNVAL,
	      "not a socket: POLLNVAL");
	closesocket(b);
	ws_end();
}

void test_ioctlsocket(void)
{
	u_long arg = 1;
	SOCKET a, b;
	char c;

	CHECK(ioctlsocket((SOCKET)0, FIONBIO, &arg) == SOCKET_ERROR &&
	      WSAGetLastError() == WSANOTINITIALISED, "before WSAStartup");
	REQUIRE(ws_begin(), "startup");
	REQUIRE(tcp_pair(&a, &b), "a connection");

	CHECK(ioctlsocket(b, FIONBIO, &arg) == 0, "FIONBIO on");
	CHECK(recv(b, &c, 1, 0) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEWOULDBLOCK, "a read would block");
	arg = 99;
	CHECK(ioctlsocket(b, FIONREAD, &arg) == 0 && arg == 0,
	      "FIONREAD: nothing yet");
	CHECK(send(a, "abc", 3, 0) == 3, "send");
	CHECK(readable_in((int)b, 5000), "readable");
	CHECK(ioctlsocket(b, FIONREAD, &arg) == 0 && arg == 3,
	      "FIONREAD: %lu bytes", (unsigned long)arg);
	CHECK(ioctlsocket(b, SIOCATMARK, &arg) == 0 && arg == TRUE,
	      "SIOCATMARK: no urgent data, TRUE as on Windows");
	arg = 0;
	CHECK(ioctlsocket(b, FIONBIO, &arg) == 0, "FIONBIO off");

	CHECK(ioctlsocket(b, 0x7fff, &arg) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEINVAL, "unknown command: WSAEINVAL");
	CHECK(ioctlsocket(b, FIONBIO, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT, "no argument: WSAEFAULT");
	CHECK(ioctlsocket((SOCKET)1000000, FIONBIO, &arg) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOTSOCK, "not a socket: WSAENOTSOCK");
	closesocket(a);
	closesocket(b);
	ws_end();
}

/* Windows' fd_set and select: sets rewritten to the ready sockets,
 * descriptors above FD_SETSIZE and 1024 alike, nfds ignored, a failed
 * non-blocking connect in exceptfds only. */
void test_select(void)
{
	struct timeval tv = { 0, 0 }, wait = { 5, 0 };
	fd_set rd, wr, ex;
	u_long on = 1;
	SOCKET a, b, high, c;
	uint16_t dead = unused_port("127.0.0.1");
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(dead),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	FD_ZERO(&rd);
	CHECK(select(0, &rd, NULL, NULL, &tv) == SOCKET_ERROR &&
	      WSAGetLastError() == WSANOTINITIALISED, "before WSAStartup");
	REQUIRE(ws_begin(), "startup");
	REQUIRE(tcp_pair(&a, &b), "a connection");
	high = (SOCKET)fcntl((int)b, F_DUPFD, 1500);
	CHECK(high != INVALID_SOCKET && high >= 1024, "a descriptor past 1024");

	FD_ZERO(&rd);
	FD_SET(a, &rd);
	FD_SET(high, &rd);
	FD_SET(a, &rd);
	CHECK(rd.fd_count == 2, "a socket is in a set once: %u", rd.fd_count);
	FD_CLR(a, &rd);
	CHECK(rd.fd_count == 1 && rd.fd_array[0] == high, "FD_CLR");
	FD_SET(a, &rd);
	CHECK(send(a, "x", 1, 0) == 1, "send");
	CHECK(select(0, &rd, NULL, NULL, &wait) == 1, "nfds 0: one ready");
	CHECK(rd.fd_count == 1 && rd.fd_array[0] == high && FD_ISSET(high, &rd)
	      && !FD_ISSET(a, &rd), "the set holds the ready one only");

	c = (SOCKET)socket(AF_INET, SOCK_STREAM, 0);
	CHECK(ioctlsocket(c, FIONBIO, &on) == 0, "non-blocking");
	CHECK(connect((int)c, (struct sockaddr *)&to, sizeof(to)) ==
	      SOCKET_ERROR && WSAGetLastError() == WSAEWOULDBLOCK,
	      "connect under way");
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	FD_SET(c, &wr);
	FD_SET(c, &ex);
	CHECK(select(0, NULL, &wr, &ex, &wait) == 1 && ex.fd_count == 1 &&
	      wr.fd_count == 0, "a refused connect: exceptfds, not writefds");

	CHECK(select(0, NULL, NULL, NULL, &tv) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEINVAL, "no sets: WSAEINVAL");
	FD_ZERO(&rd);
	FD_SET((SOCKET)1000000, &rd);
	CHECK(select(0, &rd, NULL, NULL, &tv) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOTSOCK, "not a socket: WSAENOTSOCK");
	closesocket(a);
	closesocket(b);
	closesocket(high);
	closesocket(c);
	ws_end();
}
