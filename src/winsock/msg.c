// SPDX-License-Identifier: MIT
/*
 * UDP redirect services: setsockopt() with the WFP options, WSARecvMsg
 * delivering the records and the context of a redirected flow as control
 * messages (the context as the rule's layout lays it out when it has one,
 * lwfp's TLV otherwise), and WSASendMsg taking the records as one.
 *
 * setsockopt (the WFP options; every other goes to the POSIX function):
 *   in a call already (signal handler)         WSAEINPROGRESS
 *   no WSAStartup                              WSANOTINITIALISED
 *   s not a socket                             WSAENOTSOCK
 *   optval unreadable, optlen < 0,
 *     _CONTEXT: optlen < sizeof(DWORD)         WSAEFAULT
 *   IPPROTO_IPV6 on an IPv4 socket             WSAEINVAL
 *   _CONTEXT not on UDP, _RECORDS not on
 *     TCP or UDP (over IPv4/6)                 WSAENOPROTOOPT
 *   _RECORDS: optlen not a records blob        WSAEINVAL
 *             no engine / no right             WSAEOPNOTSUPP / WSAEACCES
 *             connected, bad records           WSAEISCONN / WSAEINVAL
 *
 * WSARecvMsg and WSASendMsg:
 *   in a call already, no WSAStartup           WSAEINPROGRESS, ...
 *   s not a socket                             WSAENOTSOCK
 *   lpMsg, the byte count (not overlapped),
 *     the WSABUF array, a buffer, name,
 *     Control not valid memory                 WSAEFAULT
 *   neither a datagram nor a raw socket        WSAEOPNOTSUPP
 *   overlapped (lpOverlapped on a socket
 *     with the overlapped attribute)           WSAEOPNOTSUPP
 *   flags other than MSG_PEEK/MSG_DONTWAIT
 *     (receive), MSG_DONTROUTE/MSG_DONTWAIT
 *     (send)                                   WSAEOPNOTSUPP
 *   more than IOV_MAX buffers                  WSAEINVAL
 *   send: a malformed control message, a
 *     records message of the wrong size, a
 *     context message                          WSAEINVAL
 *   then the records (as setsockopt) and the system call's own errors;
 *   receive: a datagram larger than the buffers: WSAEMSGSIZE, with the
 *   part that fit, its byte count and MSG_TRUNC.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "internal.h"

#include <ws2ipdef.h>

/* Control messages of one datagram never come near this. */
#define CONTROL_MAX	65536

_Static_assert(IP_WFP_REDIRECT_RECORDS == LWFP_CMSG_RECORDS &&
	       IPV6_WFP_REDIRECT_RECORDS == LWFP_CMSG_RECORDS &&
	       IP_WFP_REDIRECT_CONTEXT == LWFP_CMSG_CONTEXT &&
	       IPV6_WFP_REDIRECT_CONTEXT == LWFP_CMSG_CONTEXT,
	       "the types lwfp_recvmsg() uses are Windows'");

static bool wfp_level(int level)
{
	return level == IPPROTO_IP || level == IPPROTO_IPV6;
}

static bool is_ip(int domain)
{
	return domain == AF_INET || domain == AF_INET6;
}

/* Records on a socket not yet connected (0 or a WSA error). */
static int set_records(int fd, const void *rec, size_t len)
{
	struct ws_engine *e;
	int err = ws_engine_get(&e);

	if (err)
		return err;
	err = ws_from_lwfp(lwfp_set_records(ws_engine_lwfp(e), fd, rec, len));
	ws_engine_put(e);
	return err;
}

static int set_wfp_option(SOCKET s, int level, int optname,
			  const void *optval, int optlen)
{
	int fd, domain, type, protocol, err;
	DWORD on;

	if (!ws_started())
		return WSANOTINITIALISED;
	err = ws_socket_fd(s, &fd);
	if (!err)
		err = ws_socket_kind(fd, &domain, &type, &protocol);
	if (err)
		return err;
	if (optlen < 0 || !ws_mem_readable(optval, (size_t)optlen) ||
	    (optname == IP_WFP_REDIRECT_CONTEXT && optlen < (int)sizeof(on)))
		return WSAEFAULT;
	if (level == IPPROTO_IPV6 && domain != AF_INET6)
		return WSAEINVAL;	/* the level is not valid */
	if (!is_ip(domain))
		return WSAENOPROTOOPT;
	if (optname == IP_WFP_REDIRECT_CONTEXT) {
		if (type != SOCK_DGRAM || protocol != IPPROTO_UDP)
			return WSAENOPROTOOPT;
		memcpy(&on, optval, sizeof(on));
		return ws_socket_set_flag(fd, WS_SOCK_WFP_CONTEXT, on != 0);
	}
	if (!(type == SOCK_DGRAM && protocol == IPPROTO_UDP) &&
	    !(type == SOCK_STREAM && protocol == IPPROTO_TCP))
		return WSAENOPROTOOPT;
	if (optlen != LWFP_RECORDS_LEN)
		return WSAEINVAL;	/* not a records blob */
	return set_records(fd, optval, (size_t)optlen);
}

/* Socket options Windows needs and Linux has no use for: after AcceptEx
 * and ConnectEx the socket is already what they update it to, and
 * without SO_REUSEADDR a Linux port is already exclusive. */
static bool windows_only_option(int optname)
{
	return optname == SO_UPDATE_ACCEPT_CONTEXT ||
	       optname == SO_UPDATE_CONNECT_CONTEXT ||
	       optname == SO_EXCLUSIVEADDRUSE;
}

WS_EXPORT int WSAAPI lwfp_winsock_setsockopt(SOCKET s, int level,
					     int optname, const void *optval,
					     int optlen)
{
	struct ws_call call;
	int err;

	if (level == SOL_SOCKET && windows_only_option(optname))
		return 0;
	if (!wfp_level(level) || (optname != IP_WFP_REDIRECT_RECORDS &&
				  optname != IP_WFP_REDIRECT_CONTEXT)) {
		/* POSIX, errno and all; WSAGetLastError() translates */
		if (s > INT_MAX) {
			errno = EBADF;
			return SOCKET_ERROR;
		}
		return setsockopt((int)s, level, optname, optval,
				  (socklen_t)optlen);
	}
	err = ws_call_enter(&call);
	if (err) {
		ws_set_error(err);
		return SOCKET_ERROR;
	}
	err = set_wfp_option(s, level, optname, optval, optlen);
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? SOCKET_ERROR : 0;
}

/* The arguments both directions share, checked and converted. */
struct msg_args {
	int fd;
	WSAMSG msg;		/* the caller's, copied */
	struct iovec *iov;
	struct msghdr h;
	void *control;		/* ours: Linux layout */
};

static int msg_begin(struct msg_args *a, SOCKET s, LPWSAMSG m,
		     LPDWORD bytes, LPWSAOVERLAPPED ov, bool out)
{
	int domain, type, protocol, err;
	bool overlapped;
	WSABUF b;

	memset(a, 0, sizeof(*a));
	if (!ws_started())
		return WSANOTINITIALISED;
	err = ws_socket_fd(s, &a->fd);
	if (err)
		return err;
	overlapped = ov && ws_socket_overlapped(a->fd);
	/* the count may be NULL only for an overlapped call */
	if (!(out ? ws_mem_writable(m, sizeof(*m)) :
		    ws_mem_readable(m, sizeof(*m))) ||
	    (!overlapped && !ws_mem_writable(bytes, sizeof(*bytes))))
		return WSAEFAULT;
	if (bytes && ws_mem_writable(bytes, sizeof(*bytes)))
		ws_put_dword(bytes, 0);
	memcpy(&a->msg, m, sizeof(a->msg));
	err = ws_socket_kind(a->fd, &domain, &type, &protocol);
	if (err)
		return err;
	if (type != SOCK_DGRAM && type != SOCK_RAW)
		return WSAEOPNOTSUPP;
	if (overlapped)
		return WSAEOPNOTSUPP;	/* synchronous only */

	if (a->msg.dwBufferCount > IOV_MAX)
		return WSAEINVAL;
	if (!ws_mem_readable(a->msg.lpBuffers,
			     a->msg.dwBufferCount * sizeof(WSABUF)))
		return WSAEFAULT;
	a->iov = calloc(a->msg.dwBufferCount ? a->msg.dwBufferCount : 1,
			sizeof(*a->iov));
	if (!a->iov)
		return WSAENOBUFS;
	for (ULONG i = 0; i < a->msg.dwBufferCount; i++) {
		memcpy(&b, &a->msg.lpBuffers[i], sizeof(b));
		if (out ? !ws_mem_writable(b.buf, b.len) :
			  !ws_mem_readable(b.buf, b.len))
			return WSAEFAULT;
		a->iov[i].iov_base = b.buf;
		a->iov[i].iov_len = b.len;
	}
	if (a->msg.name &&
	    (a->msg.namelen < 0 ||
	     !(out ? ws_mem_writable(a->msg.name, (size_t)a->msg.namelen) :
		     ws_mem_readable(a->msg.name, (size_t)a->msg.namelen))))
		return WSAEFAULT;
	if (a->msg.Control.len &&
	    !(out ? ws_mem_writable(a->msg.Control.buf, a->msg.Control.len) :
		    ws_mem_readable(a->msg.Control.buf, a->msg.Control.len)))
		return WSAEFAULT;
	a->h.msg_iov = a->iov;
	a->h.msg_iovlen = a->msg.dwBufferCount;
	return 0;
}

static void msg_end(struct msg_args *a)
{
	free(a->iov);
	free(a->control);
}

/*
 * The control messages Linux gave (h), in Windows' layout into the
 * caller's buffer (unaligned-safe). Returns the bytes used; *trunc when
 * one did not fit.
 */
static ULONG control_out(const struct msghdr *h, char *buf, ULONG cap,
			 bool *trunc)
{
	const char *end = (const char *)h->msg_control + h->msg_controllen;
	struct cmsghdr *c;
	size_t used = 0;

	*trunc = false;
	for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
		size_t len = c->cmsg_len;
		WSACMSGHDR w;

		if (len < CMSG_LEN(0))
			break;
		if (len > (size_t)(end - (const char *)c))
			len = (size_t)(end - (const char *)c);
		len -= CMSG_LEN(0);
		if (used > cap || cap - used < WSA_CMSG_LEN(len)) {
			*trunc = true;
			break;
		}
		w.cmsg_len = WSA_CMSG_LEN(len);
		w.cmsg_level = c->cmsg_level;
		w.cmsg_type = c->cmsg_type;
		memcpy(buf + used, &w, sizeof(w));
		memcpy(buf + used + WSA_CMSG_LEN(0), CMSG_DATA(c), len);
		used += WSA_CMSG_SPACE(len);
		if (used > cap)
			used = cap;
	}
	return (ULONG)used;
}

static int recv_msg(SOCKET s, LPWSAMSG m, LPDWORD bytes,
		    LPWSAOVERLAPPED ov)
{
	struct sockaddr_storage from;
	struct msg_args a;
	struct ws_engine *e = NULL;
	ULONG cap;
	ssize_t n;
	bool trunc;
	int err, flags;

	err = msg_begin(&a, s, m, bytes, ov, true);
	if (err)
		goto out;
	/* output flags left from an earlier call are not requests */
	flags = (int)(a.msg.dwFlags & ~(ULONG)(MSG_TRUNC | MSG_CTRUNC));
	if (flags & ~(MSG_PEEK | MSG_DONTWAIT)) {
		err = WSAEOPNOTSUPP;
		goto out;
	}
	cap = a.msg.Control.buf ? a.msg.Control.len : 0;
	if (cap > CONTROL_MAX)
		cap = CONTROL_MAX;
	if (cap) {
		/* the same room as the caller's: truncation is decided by
		 * the kernel and lwfp_recvmsg(), which resends ours later */
		a.control = calloc(1, cap);
		if (!a.control) {
			err = WSAENOBUFS;
			goto out;
		}
	}
	a.h.msg_name = &from;
	a.h.msg_namelen = sizeof(from);
	a.h.msg_control = a.control;
	a.h.msg_controllen = cap;

	/* without an engine, datagrams come as any */
	if ((ws_socket_flags(a.fd) & WS_SOCK_WFP_CONTEXT) &&
	    !ws_engine_get(&e)) {
		n = lwfp_recvmsg_layout(ws_engine_lwfp(e), a.fd, &a.h,
					 flags);
		ws_engine_put(e);
		if (n < 0) {
			errno = (int)-n;
			n = -1;
		}
	} else {
		n = recvmsg(a.fd, &a.h, flags);
	}
	if (n < 0) {
		err = ws_socket_error();
		goto out;
	}
	if (!a.h.msg_control)
		a.h.msg_controllen = 0;
	a.msg.Control.len = control_out(&a.h, a.msg.Control.buf, cap, &trunc);
	a.msg.dwFlags = (ULONG)(a.h.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
	if (trunc)
		a.msg.dwFlags |= MSG_CTRUNC;
	if (a.msg.name) {
		socklen_t len = a.h.msg_namelen;

		if (len > (socklen_t)a.msg.namelen)
			len = (socklen_t)a.msg.namelen;
		memcpy(a.msg.name, &from, len);
		a.msg.namelen = (INT)a.h.msg_namelen;
	}
	memcpy(m, &a.msg, sizeof(a.msg));
	ws_put_dword(bytes, (DWORD)n);
	if (a.h.msg_flags & MSG_TRUNC)
		err = WSAEMSGSIZE;
out:
	msg_end(&a);
	return err;
}

INT WSAAPI ws_recvmsg(SOCKET s, LPWSAMSG lpMsg,
		      LPDWORD lpdwNumberOfBytesRecvd,
		      LPWSAOVERLAPPED lpOverlapped,
		      LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
	struct ws_call call;
	int err = 0;

	(void)lpCompletionRoutine;	/* only with lpOverlapped */
	if (!ws_call_begin(&call))
		return SOCKET_ERROR;
	err = recv_msg(s, lpMsg, lpdwNumberOfBytesRecvd, lpOverlapped);
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? SOCKET_ERROR : 0;
}

/*
 * The caller's control messages (Windows' layout) into ours, but for a
 * records message, which *rec points to (NULL: none).
 */
static int control_in(struct msg_args *a, const void **rec)
{
	const char *buf = a->msg.Control.buf;
	size_t len = a->msg.Control.buf ? a->msg.Control.len : 0;
	size_t off = 0, used = 0;
	char *out;

	*rec = NULL;
	if (!len)
		return 0;
	/* ours takes no more room than theirs: same layout rules */
	a->control = out = calloc(1, len + CMSG_SPACE(0));
	if (!out)
		return WSAENOBUFS;
	while (len - off >= sizeof(WSACMSGHDR)) {
		WSACMSGHDR w;
		const char *data;
		struct cmsghdr c;
		size_t dlen;

		memcpy(&w, buf + off, sizeof(w));
		if (w.cmsg_len < WSA_CMSG_LEN(0) || w.cmsg_len > len - off)
			return WSAEINVAL;	/* malformed */
		data = buf + off + WSA_CMSG_LEN(0);
		dlen = w.cmsg_len - WSA_CMSG_LEN(0);
		if (wfp_level(w.cmsg_level) &&
		    w.cmsg_type == IP_WFP_REDIRECT_RECORDS) {
			if (dlen != LWFP_RECORDS_LEN)
				return WSAEINVAL;
			*rec = data;
		} else if (wfp_level(w.cmsg_level) &&
			   w.cmsg_type == IP_WFP_REDIRECT_CONTEXT) {
			return WSAEINVAL;	/* what a service receives */
		} else {
			if (used + CMSG_SPACE(dlen) > len + CMSG_SPACE(0))
				return WSAEINVAL;
			memset(&c, 0, sizeof(c));
			c.cmsg_len = CMSG_LEN(dlen);
			c.cmsg_level = w.cmsg_level;
			c.cmsg_type = w.cmsg_type;
			memcpy(out + used, &c, sizeof(c));
			memcpy(out + used + CMSG_LEN(0), data, dlen);
			used += CMSG_SPACE(dlen);
		}
		off += WSA_CMSGHDR_ALIGN(w.cmsg_len);
		if (off >= len)
			break;
	}
	a->h.msg_control = used ? out : NULL;
	a->h.msg_controllen = used;
	return 0;
}

static int send_msg(SOCKET s, LPWSAMSG m, DWORD flags, LPDWORD bytes,
		    LPWSAOVERLAPPED ov)
{
	unsigned char rec[LWFP_RECORDS_LEN];
	const void *recp;
	struct msg_args a;
	ssize_t n;
	int err;

	err = msg_begin(&a, s, m, bytes, ov, false);
	if (err)
		goto out;
	if (flags & ~(DWORD)(MSG_DONTROUTE | MSG_DONTWAIT)) {
		err = WSAEOPNOTSUPP;
		goto out;
	}
	a.h.msg_name = a.msg.name;
	a.h.msg_namelen = a.msg.name ? (socklen_t)a.msg.namelen : 0;
	err = control_in(&a, &recp);
	if (err)
		goto out;
	if (recp) {
		memcpy(rec, recp, sizeof(rec));
		err = set_records(a.fd, rec, sizeof(rec));
		if (err)
			goto out;
	}
	n = sendmsg(a.fd, &a.h, (int)flags | MSG_NOSIGNAL);
	if (n < 0) {
		err = ws_socket_error();
		goto out;
	}
	ws_put_dword(bytes, (DWORD)n);
out:
	msg_end(&a);
	return err;
}

WS_EXPORT int WSAAPI WSASendMsg(SOCKET Handle, LPWSAMSG lpMsg, DWORD dwFlags,
				LPDWORD lpNumberOfBytesSent,
				LPWSAOVERLAPPED lpOverlapped,
				LPWSAOVERLAPPED_COMPLETION_ROUTINE
				lpCompletionRoutine)
{
	struct ws_call call;
	int err = 0;

	(void)lpCompletionRoutine;	/* only with lpOverlapped */
	if (!ws_call_begin(&call))
		return SOCKET_ERROR;
	err = send_msg(Handle, lpMsg, dwFlags, lpNumberOfBytesSent,
		       lpOverlapped);
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? SOCKET_ERROR : 0;
}
