// SPDX-License-Identifier: MIT
/*
 * The WSA forms of connect and accept, and addresses as text. A redirect
 * service does not exchange connect data or quality of service (TCP has
 * neither): WSAConnect refuses caller or callee data with WSAEOPNOTSUPP
 * and ignores the QOS structures, as Windows' TCP provider does.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

static int failed(int err)
{
	ws_set_error(err);
	return SOCKET_ERROR;
}

WS_EXPORT int WSAAPI WSAConnect(SOCKET s, const struct sockaddr *name,
				int namelen, LPWSABUF lpCallerData,
				LPWSABUF lpCalleeData, LPQOS lpSQOS,
				LPQOS lpGQOS)
{
	int err, fd;

	(void)lpSQOS;
	(void)lpGQOS;
	err = ws_started() ? ws_socket_fd(s, &fd) : WSANOTINITIALISED;
	if (!err && ((lpCallerData && lpCallerData->len) ||
		     (lpCalleeData && lpCalleeData->len)))
		err = WSAEOPNOTSUPP;
	if (!err && connect(fd, name, (socklen_t)namelen))
		err = ws_socket_error();
	return err ? failed(err) : 0;
}

/* Ask the condition function about the connection on fd: CF_ACCEPT,
 * CF_REJECT or (not supported here, taken as a refusal) CF_DEFER. */
static int ask(LPCONDITIONPROC cond, DWORD_PTR data, int fd,
	       struct sockaddr_storage *peer, socklen_t len)
{
	WSABUF caller = { .len = len, .buf = (char *)peer };
	struct sockaddr_storage me;
	socklen_t mlen = sizeof(me);
	WSABUF callee;
	GROUP g = 0;

	if (getsockname(fd, (struct sockaddr *)&me, &mlen))
		mlen = 0;
	callee.len = mlen;
	callee.buf = (char *)&me;
	return cond(&caller, NULL, NULL, NULL, &callee, NULL, &g, data);
}

WS_EXPORT SOCKET WSAAPI WSAAccept(SOCKET s, struct sockaddr *addr,
				  LPINT addrlen, LPCONDITIONPROC lpfnCondition,
				  DWORD_PTR dwCallbackData)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int err, fd, c = -1;

	err = ws_started() ? ws_socket_fd(s, &fd) : WSANOTINITIALISED;
	if (!err && addr && (!addrlen || *addrlen < 0))
		err = WSAEFAULT;
	if (!err && (c = accept4(fd, (struct sockaddr *)&peer, &len,
				 SOCK_CLOEXEC)) < 0)
		err = ws_socket_error();
	if (!err && lpfnCondition &&
	    ask(lpfnCondition, dwCallbackData, c, &peer, len) != CF_ACCEPT) {
		close(c);	/* refused: the peer sees a reset */
		err = WSAECONNREFUSED;
	}
	if (err) {
		ws_set_error(err);
		return INVALID_SOCKET;
	}
	if (addr) {
		memcpy(addr, &peer, (size_t)*addrlen < len ? (size_t)*addrlen :
							     len);
		*addrlen = (int)len;
	}
	return (SOCKET)c;
}

WS_EXPORT INT WSAAPI WSAAddressToStringA(LPSOCKADDR lpsaAddress,
					 DWORD dwAddressLength,
					 LPWSAPROTOCOL_INFOA lpProtocolInfo,
					 LPSTR lpszAddressString,
					 LPDWORD lpdwAddressStringLength)
{
	char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16];
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)lpsaAddress;
	const struct sockaddr_in6 *in6 =
		(const struct sockaddr_in6 *)lpsaAddress;
	size_t n;

	(void)lpProtocolInfo;
	if (!lpsaAddress || !lpdwAddressStringLength ||
	    (lpsaAddress->sa_family == AF_INET ?
	     dwAddressLength < sizeof(*in4) : dwAddressLength < sizeof(*in6)))
		return failed(WSAEFAULT);
	if (lpsaAddress->sa_family == AF_INET) {
		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		n = (size_t)(in4->sin_port ?
			snprintf(text, sizeof(text), "%s:%u", host,
				 ntohs(in4->sin_port)) :
			snprintf(text, sizeof(text), "%s", host));
	} else if (lpsaAddress->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		n = (size_t)(in6->sin6_port ?
			snprintf(text, sizeof(text), "[%s]:%u", host,
				 ntohs(in6->sin6_port)) :
			snprintf(text, sizeof(text), "%s", host));
	} else {
		return failed(WSAEINVAL);
	}
	if (!lpszAddressString || *lpdwAddressStringLength < n + 1) {
		*lpdwAddressStringLength = (DWORD)(n + 1);
		return failed(WSAEFAULT);
	}
	memcpy(lpszAddressString, text, n + 1);
	*lpdwAddressStringLength = (DWORD)(n + 1);
	return 0;
}
