// SPDX-License-Identifier: MIT
/*
 * WSAIoctl and WSPIoctl with the WFP redirect control codes, SIO_FLUSH
 * and SIO_GET_EXTENSION_FUNCTION_POINTER. The checks run in a fixed order, each with the error the
 * contract gives it (docs/winsock.md has the table):
 *
 *   in a call already (signal handler)        WSAEINPROGRESS
 *   no WSAStartup                             WSANOTINITIALISED
 *   lpcbBytesReturned not writable            WSAEFAULT
 *   s not a socket                            WSAENOTSOCK
 *   unknown control code                      WSAEINVAL
 *   overlapped: lpOverlapped, routine,
 *     lpThreadId not valid memory             WSAEFAULT
 *   QUERY: 0 < cbOutBuffer < sizeof(ULONG)    WSAEINVAL, *bytes 0
 *          lpvOutBuffer not writable          WSAEFAULT
 *   SET:   cbOutBuffer != 0                   WSAEINVAL
 *          lpvInBuffer not readable           WSAEFAULT
 *          cbInBuffer not a records blob      WSAEINVAL
 *   SIO_GET_EXTENSION_FUNCTION_POINTER:
 *          cbInBuffer not sizeof(GUID)        WSAEINVAL
 *          lpvInBuffer not readable           WSAEFAULT
 *          lpvOutBuffer too small/unwritable  WSAEFAULT
 *          unknown GUID                       WSAEINVAL
 *   (SIO_FLUSH and the function pointers are done at this point)
 *   neither a stream nor a datagram socket    WSAEINVAL
 *   not TCP or UDP over IP                    WSAENOPROTOOPT
 *   no engine / no right to use it            WSAEOPNOTSUPP / WSAEACCES
 *   overlapped: hEvent not an event           WSAEINVAL
 *               lpThreadId names no thread    WSAEFAULT
 *               otherwise                     WSA_IO_PENDING
 *   then the operation itself (now, or by the worker if overlapped):
 *     not connected                           WSAENOTCONN
 *     not redirected, bad records             WSAEINVAL
 *     buffer too small (0: size query)        ERROR_INSUFFICIENT_BUFFER
 *     SET on a connected socket               WSAEISCONN
 *
 * From the lpcbBytesReturned check on, *lpcbBytesReturned is written on
 * every return: the byte count, the size needed, or 0.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "internal.h"

_Static_assert(SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS ==
	       _WSAIOW(IOC_VENDOR, 220), "Windows value");
_Static_assert(SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT ==
	       _WSAIOW(IOC_VENDOR, 221), "Windows value");
_Static_assert(SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS ==
	       _WSAIOW(IOC_VENDOR, 222), "Windows value");
_Static_assert(SIO_FLUSH == _WSAIO(IOC_WS2, 4), "Windows value");
_Static_assert(SIO_GET_EXTENSION_FUNCTION_POINTER == _WSAIORW(IOC_WS2, 6),
	       "Windows value");
_Static_assert(sizeof(ULONG) == 4 && sizeof(DWORD) == 4, "Win32 sizes");

struct ioctl_args {
	SOCKET s;
	DWORD code;
	LPVOID in;
	DWORD in_len;
	LPVOID out;
	DWORD out_len;
	LPDWORD bytes;
	LPWSAOVERLAPPED overlapped;
	LPWSAOVERLAPPED_COMPLETION_ROUTINE routine;
	LPWSATHREADID thread_id;	/* WSPIoctl */
	bool spi;
};

typedef void (*ws_fn)(void);

/* The extension functions, by GUID. */
static ws_fn extension(const void *guid)
{
	static const struct {
		GUID id;
		ws_fn fn;
	} table[] = {
		{ WSAID_WSARECVMSG, (ws_fn)(LPFN_WSARECVMSG)ws_recvmsg },
		{ WSAID_WSASENDMSG, (ws_fn)(LPFN_WSASENDMSG)WSASendMsg },
		{ WSAID_ACCEPTEX, (ws_fn)(LPFN_ACCEPTEX)AcceptEx },
		{ WSAID_GETACCEPTEXSOCKADDRS,
		  (ws_fn)(LPFN_GETACCEPTEXSOCKADDRS)GetAcceptExSockaddrs },
		{ WSAID_CONNECTEX, (ws_fn)(LPFN_CONNECTEX)ws_connectex },
		{ WSAID_DISCONNECTEX, (ws_fn)(LPFN_DISCONNECTEX)ws_disconnectex },
	};

	for (size_t i = 0; i < WS_ARRAY_SIZE(table); i++)
		if (!memcmp(guid, &table[i].id, sizeof(GUID)))
			return table[i].fn;
	return NULL;
}

/* ---- the buffer rules of each kind of code ---- */

/* QUERY: 0 is a size query; less than a ULONG is refused. */
static int check_query(const struct ioctl_args *a)
{
	if (a->out_len && a->out_len < sizeof(ULONG))
		return WSAEINVAL;
	if (a->out_len && !ws_mem_writable(a->out, a->out_len))
		return WSAEFAULT;
	return 0;
}

static int check_set(const struct ioctl_args *a)
{
	if (a->out_len)
		return WSAEINVAL;	/* "must be set to zero" */
	if (a->in_len && !ws_mem_readable(a->in, a->in_len))
		return WSAEFAULT;
	if (a->in_len != LWFP_RECORDS_LEN)
		return WSAEINVAL;	/* not a records blob */
	return 0;
}

static int check_guid(const struct ioctl_args *a)
{
	if (a->in_len != sizeof(GUID))
		return WSAEINVAL;
	if (!ws_mem_readable(a->in, a->in_len))
		return WSAEFAULT;
	if (a->out_len < sizeof(ws_fn) ||
	    !ws_mem_writable(a->out, sizeof(ws_fn)))
		return WSAEFAULT;
	return 0;
}

/* ---- what the codes do with the engine ---- */

/* The byte count (or the size needed), and the error as Winsock's. */
static int done(int err, size_t len, DWORD *bytes)
{
	if (!err || err == -ERANGE)
		*bytes = (DWORD)len;
	return ws_from_lwfp(err);
}

static int query_records(struct lwfp *l, int fd, const void *in,
			 size_t in_len, void *out, size_t out_len,
			 DWORD *bytes)
{
	int err = lwfp_query_records(l, fd, out, &out_len);

	return done(err, out_len, bytes);
}

/* The rule's context layout if it has one (the bytes the service's own
 * callout would have attached), lwfp's TLV otherwise. */
static int query_context(struct lwfp *l, int fd, const void *in,
			 size_t in_len, void *out, size_t out_len,
			 DWORD *bytes)
{
	size_t len = out_len;
	int err = lwfp_query_context_layout(l, fd, out, &len);

	if (err == -ENOMSG) {
		len = out_len;
		err = lwfp_query_context(l, fd, out, &len);
	}
	return done(err, len, bytes);
}

static int set_records(struct lwfp *l, int fd, const void *in, size_t in_len,
		       void *out, size_t out_len, DWORD *bytes)
{
	return done(lwfp_set_records(l, fd, in, in_len), 0, bytes);
}

/* ---- what the codes do without it ---- */

static int flush(const struct ioctl_args *a, const struct ws_op_args *op,
		 bool overlapped)
{
	ws_ops_abort(op->fd);
	return overlapped ? ws_op_complete_now(op, 0, 0) : 0;
}

static int check_keepalive(const struct ioctl_args *a)
{
	if (a->in_len < sizeof(struct tcp_keepalive))
		return WSAEFAULT;
	return ws_mem_readable(a->in, sizeof(struct tcp_keepalive)) ? 0 :
								      WSAEFAULT;
}

static int keepalive_secs(ULONG ms)
{
	return ms < 1000 ? 1 : ms > 32767000 ? 32767 : (int)(ms / 1000);
}

static int keepalive_vals(const struct ioctl_args *a,
			  const struct ws_op_args *op, bool overlapped)
{
	struct tcp_keepalive k;
	int on, idle, intvl, err = 0;

	memcpy(&k, a->in, sizeof(k));
	on = k.onoff != 0;
	idle = keepalive_secs(k.keepalivetime);
	intvl = keepalive_secs(k.keepaliveinterval);
	if (setsockopt(op->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) ||
	    (on && (setsockopt(op->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
			       sizeof(idle)) ||
		    setsockopt(op->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
			       sizeof(intvl)))))
		err = ws_socket_error();
	if (!err)
		ws_put_dword(a->bytes, 0);
	return err || !overlapped ? err : ws_op_complete_now(op, 0, 0);
}

static int function_pointer(const struct ioctl_args *a,
			    const struct ws_op_args *op, bool overlapped)
{
	ws_fn fn = extension(a->in);

	if (!fn)
		return WSAEINVAL;	/* no such function */
	memcpy(a->out, &fn, sizeof(fn));
	ws_put_dword(a->bytes, sizeof(fn));
	return overlapped ? ws_op_complete_now(op, 0, sizeof(fn)) : 0;
}

/*
 * The control codes: the buffer rules (checked before anything is done),
 * and either what the code does with the engine (on a TCP or UDP socket,
 * now or as an overlapped operation) or what it does without one.
 */
static const struct ioctl_code {
	DWORD code;
	int (*check)(const struct ioctl_args *a);
	ws_op_fn fn;
	int (*local)(const struct ioctl_args *a, const struct ws_op_args *op,
		     bool overlapped);
} codes[] = {
	{ SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS, check_query,
	  query_records, NULL },
	{ SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT, check_query,
	  query_context, NULL },
	{ SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS, check_set, set_records,
	  NULL },
	{ SIO_FLUSH, NULL, NULL, flush },
	{ SIO_KEEPALIVE_VALS, check_keepalive, NULL, keepalive_vals },
	{ SIO_GET_EXTENSION_FUNCTION_POINTER, check_guid, NULL,
	  function_pointer },
};

static const struct ioctl_code *code_find(DWORD code)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

/* The kind of socket the redirect codes apply to: TCP or UDP over
 * IPv4/6. */
static int check_socket(int fd)
{
	int domain, type, protocol, err;

	err = ws_socket_kind(fd, &domain, &type, &protocol);
	if (err)
		return err;
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return WSAEINVAL;	/* not applicable to the type */
	if ((domain != AF_INET && domain != AF_INET6) ||
	    protocol != (type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return WSAENOPROTOOPT;	/* not supported on the protocol */
	return 0;
}

/* Where an overlapped call completes: its OVERLAPPED, and the thread
 * whose alertable wait runs its completion routine, if it has one. */
static int completion_target(const struct ioctl_args *a, struct ws_op_args *op)
{
	if (!ws_mem_writable(a->overlapped, sizeof(WSAOVERLAPPED)))
		return WSAEFAULT;
	if (a->routine &&
	    !ws_mem_readable((const void *)(uintptr_t)a->routine, 1))
		return WSAEFAULT;
	if (a->routine && a->spi) {
		WSATHREADID t;

		if (!ws_mem_readable(a->thread_id, sizeof(t)))
			return WSAEFAULT;
		memcpy(&t, a->thread_id, sizeof(t));
		op->thread_handle = t.ThreadHandle;
	} else if (a->routine) {
		op->thread = ws_apcq_self();
		if (!op->thread)
			return WSAENOBUFS;
	}
	return 0;
}

/* The body of WSAIoctl and WSPIoctl: checks in the documented order,
 * then the code's work, now or as an overlapped operation. */
static int ioctl_run(const struct ioctl_args *a)
{
	struct ws_op_args op = {
		.in = a->in,
		.in_len = a->in_len,
		.out = a->out,
		.out_len = a->out_len,
		.overlapped = a->overlapped,
		.routine = a->routine,
	};
	const struct ioctl_code *c;
	struct ws_engine *e;
	bool overlapped;
	DWORD n;
	int err;

	if (!ws_started())
		return WSANOTINITIALISED;
	if (!ws_mem_writable(a->bytes, sizeof(*a->bytes)))
		return WSAEFAULT;
	ws_put_dword(a->bytes, 0);
	err = ws_socket_fd(a->s, &op.fd);
	if (err)
		return err;
	c = code_find(a->code);
	if (!c)
		return WSAEINVAL;
	op.fn = c->fn;

	/* on a socket without the overlapped attribute both are ignored */
	overlapped = a->overlapped && ws_socket_overlapped(op.fd);
	err = overlapped ? completion_target(a, &op) : 0;
	if (!err && c->check)
		err = c->check(a);
	if (err)
		return err;
	if (!overlapped) {
		op.overlapped = NULL;
		op.routine = NULL;
	}
	if (c->local)
		return c->local(a, &op, overlapped);
	err = check_socket(op.fd);
	if (!err)
		err = ws_engine_get(&e);
	if (err)
		return err;

	if (overlapped) {
		op.engine = e;
		err = ws_op_submit(&op);
		if (err) {
			ws_engine_put(e);
			return err;
		}
		return WSA_IO_PENDING;
	}
	err = ws_op_run(c->fn, e, op.fd, a->in, a->in_len, a->out, a->out_len,
			&n);
	ws_engine_put(e);
	if (!err || err == ERROR_INSUFFICIENT_BUFFER)
		ws_put_dword(a->bytes, n);
	return err;
}

/* The arguments both entry points share. */
#define IOCTL_ARGS(s_, code_, in_, in_len_, out_, out_len_, bytes_, ov_,  \
		   routine_)						   \
	.s = (s_), .code = (code_), .in = (in_), .in_len = (in_len_),	   \
	.out = (out_), .out_len = (out_len_), .bytes = (bytes_),	   \
	.overlapped = (ov_), .routine = (routine_)

WS_EXPORT int WSAAPI WSAIoctl(SOCKET s, DWORD dwIoControlCode,
			      LPVOID lpvInBuffer, DWORD cbInBuffer,
			      LPVOID lpvOutBuffer, DWORD cbOutBuffer,
			      LPDWORD lpcbBytesReturned,
			      LPWSAOVERLAPPED lpOverlapped,
			      LPWSAOVERLAPPED_COMPLETION_ROUTINE
			      lpCompletionRoutine)
{
	struct ioctl_args a = {
		IOCTL_ARGS(s, dwIoControlCode, lpvInBuffer, cbInBuffer,
			   lpvOutBuffer, cbOutBuffer, lpcbBytesReturned,
			   lpOverlapped, lpCompletionRoutine),
	};
	struct ws_call call;
	int err;

	if (!ws_call_begin(&call))
		return SOCKET_ERROR;
	err = ioctl_run(&a);
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? SOCKET_ERROR : 0;
}

WS_EXPORT int WSPAPI WSPIoctl(SOCKET s, DWORD dwIoControlCode,
			      LPVOID lpvInBuffer, DWORD cbInBuffer,
			      LPVOID lpvOutBuffer, DWORD cbOutBuffer,
			      LPDWORD lpcbBytesReturned,
			      LPWSAOVERLAPPED lpOverlapped,
			      LPWSAOVERLAPPED_COMPLETION_ROUTINE
			      lpCompletionRoutine,
			      LPWSATHREADID lpThreadId, LPINT lpErrno)
{
	struct ioctl_args a = {
		IOCTL_ARGS(s, dwIoControlCode, lpvInBuffer, cbInBuffer,
			   lpvOutBuffer, cbOutBuffer, lpcbBytesReturned,
			   lpOverlapped, lpCompletionRoutine),
		.thread_id = lpThreadId,
		.spi = true,
	};
	struct ws_call call;
	int err;

	/* without a place for the error, there is no way to report one */
	if (!ws_mem_writable(lpErrno, sizeof(*lpErrno)))
		return SOCKET_ERROR;
	err = ws_call_enter(&call);
	if (err) {
		ws_put_int(lpErrno, err);
		return SOCKET_ERROR;
	}
	err = ioctl_run(&a);
	if (err)
		ws_put_int(lpErrno, err);
	/* the thread's last error is the application's, not the SPI's */
	ws_call_leave(&call, false);
	return err ? SOCKET_ERROR : 0;
}
