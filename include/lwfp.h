/* SPDX-License-Identifier: MIT */
/*
 * liblwfp: the native C API of lwfp, the Linux connection redirect engine
 * modelled on the Windows Filtering Platform's redirect services.
 *
 * A redirect service accepts a redirected connection, reads the redirect
 * records and the redirect context from the accepted socket, opens its own
 * outbound socket, sets the records on it before connect(), and relays.
 *
 * Every function returns 0 on success and a negative errno on failure;
 * lwfp_strerror() describes each. Functions are thread-safe.
 * Passing NULL as the engine uses the process default: the engine pinned
 * at $LWFP_PIN_DIR, or LWFP_DEFAULT_PIN_DIR, opened on first use.
 */
#ifndef LWFP_H
#define LWFP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LWFP_DEFAULT_PIN_DIR	"/sys/fs/bpf/lwfp"
#define LWFP_PIN_DIR_ENV	"LWFP_PIN_DIR"

/* Size of the redirect records blob. */
#define LWFP_RECORDS_LEN	40
/* No redirect context is larger than this. */
#define LWFP_CONTEXT_MAX_LEN	4242
/* Largest rule context a rule may carry. */
#define LWFP_RULE_CONTEXT_MAX	4096

struct lwfp;

/* Open the engine pinned at pin_dir (NULL: $LWFP_PIN_DIR or the default).
 * -ENOENT: no engine loaded there; -EACCES: no permission to use it. */
int lwfp_open(const char *pin_dir, struct lwfp **engine);
void lwfp_close(struct lwfp *engine);
const char *lwfp_pin_dir(const struct lwfp *engine);

/*
 * Copy the redirect records (opaque) or the redirect context of an accepted
 * socket into buf. On entry *len is the size of buf; on success it is the
 * number of bytes written. If buf is too small the call fails with -ERANGE
 * and *len is the size needed. -ENODATA: the socket was not redirected by
 * this engine (or no engine sees it); -ENOTCONN: it is not connected;
 * -ENOTSOCK, -EBADF. The engine is asked through the socket itself (socket
 * options at level SOL_LWFP), so a process learns only about sockets it
 * holds.
 */
int lwfp_query_records(struct lwfp *engine, int fd, void *buf, size_t *len);
int lwfp_query_context(struct lwfp *engine, int fd, void *buf, size_t *len);
/*
 * The redirect context as the rule's context layout lays it out (lwfp rule
 * add --context-layout): the bytes a Windows callout would have attached,
 * for services that read a struct of their own. On an accepted TCP socket
 * (or a UDP socket connected to one client); *len as for
 * lwfp_query_context. -ENOMSG if the rule has no layout (the TLV of
 * lwfp_query_context is always there).
 */
int lwfp_query_context_layout(struct lwfp *engine, int fd, void *buf,
			      size_t *len);

/*
 * Hand records to a socket that is not yet connected, so that its connect
 * (or, for UDP, each send) continues the flow instead of starting a new
 * one, and is not redirected back to a service the flow already went
 * through. The engine takes only records it issued, while their flow is
 * open, from the service the flow went to. -EISCONN if connected or
 * connecting, -EINVAL if records is not a records blob of an engine that
 * sees this socket, -EPROTONOSUPPORT if neither TCP nor UDP, -ESTALE if
 * their flow has closed, -EACCES if the caller is not the service the flow
 * went to (its process, or a process in its cgroup, when it was registered
 * by pid or cgroup). A connect with records whose flow closed after they
 * were set fails with EPERM: the flow is over.
 */
int lwfp_set_records(struct lwfp *engine, int fd, const void *records,
		     size_t len);

/*
 * The redirect state of the flow named by records relative to a service,
 * as WFP's FwpsQueryConnectionRedirectState() reports it. The engine
 * computes the same when it decides: never back to the service that just
 * redirected the flow; to one that redirected it earlier only if its rule
 * was added with --reinspect.
 */
enum lwfp_redirect_state {
	LWFP_NOT_REDIRECTED,
	LWFP_REDIRECTED_BY_SELF,		/* the service redirected it last */
	LWFP_REDIRECTED_BY_OTHER,		/* the service never did */
	LWFP_PREVIOUSLY_REDIRECTED_BY_SELF,	/* it did, then others did */
};

/* Returns an enum lwfp_redirect_state, or -EINVAL if records is not a
 * records blob, -ESRCH if no service has that name. NULL records (a
 * connect that carries none) is LWFP_NOT_REDIRECTED. */
int lwfp_redirect_state(struct lwfp *engine, const void *records, size_t len,
			const char *service);

/* The destination the client connected to, from an accepted socket. */
int lwfp_query_original_dst(struct lwfp *engine, int fd,
			    struct sockaddr_storage *dst, socklen_t *len);

/*
 * UDP. A UDP service receives every client's datagrams on one socket, so
 * a flow is named by its peer: the source address of its datagrams, as
 * recvfrom() gave it. These take the service's socket and that address,
 * and answer like the calls above. -ENODATA: no redirected flow from that
 * peer to this socket's port, or it has ended (the client closed its
 * socket, or sent nothing for the engine's UDP timeout). A service that
 * connects a socket to each client may use the calls above on it instead.
 * Replies the service sends to the peer from the address the client was
 * redirected to reach the client as if from the original destination.
 */
int lwfp_query_udp_records(struct lwfp *engine, int fd,
			   const struct sockaddr *peer, socklen_t peerlen,
			   void *buf, size_t *len);
int lwfp_query_udp_context(struct lwfp *engine, int fd,
			   const struct sockaddr *peer, socklen_t peerlen,
			   void *buf, size_t *len);
int lwfp_query_udp_original_dst(struct lwfp *engine, int fd,
				const struct sockaddr *peer,
				socklen_t peerlen,
				struct sockaddr_storage *dst, socklen_t *len);
/*
 * The UDP flow's context as its rule's layout lays it out, as
 * lwfp_query_context_layout: -ENOMSG if the rule has no layout (the TLV of
 * lwfp_query_udp_context is always there). The layout's "local" fields
 * are peer, the client's address as the service receives it; pid, uid,
 * gid and comm those of the process that sent the flow's first datagram;
 * protocol IPPROTO_UDP.
 */
int lwfp_query_udp_context_layout(struct lwfp *engine, int fd,
				  const struct sockaddr *peer,
				  socklen_t peerlen, void *buf, size_t *len);

/* Control message types lwfp_recvmsg() adds, at level IPPROTO_IP (IPv4
 * peer) or IPPROTO_IPV6: Windows' IP_WFP_REDIRECT_RECORDS and _CONTEXT. */
#define LWFP_CMSG_RECORDS	60
#define LWFP_CMSG_CONTEXT	70

/*
 * recvmsg() for a UDP service socket. With the first datagram of each
 * redirected flow this engine handle sees, the flow's records and context
 * follow the control messages the kernel gave. msg->msg_name is required.
 * If msg_control has no room for them (CMSG_SPACE(LWFP_RECORDS_LEN) +
 * CMSG_SPACE(LWFP_CONTEXT_MAX_LEN) always does), MSG_CTRUNC is set and
 * they come with the flow's next datagram; so they do after MSG_PEEK.
 * Returns the datagram's length, or a negative errno.
 */
ssize_t lwfp_recvmsg(struct lwfp *engine, int fd, struct msghdr *msg,
		     int flags);
/*
 * lwfp_recvmsg(), but the LWFP_CMSG_CONTEXT message carries the rule's
 * context layout when the flow's rule has one (what
 * lwfp_query_udp_context_layout() returns), the TLV otherwise: what
 * Windows' IP_WFP_REDIRECT_CONTEXT carries, and what lwfp-winsock's
 * WSARecvMsg delivers.
 */
ssize_t lwfp_recvmsg_layout(struct lwfp *engine, int fd, struct msghdr *msg,
			    int flags);

/*
 * Kernel-offloaded relay (lwfp-offload(7)). After inspecting the start of
 * a flow, a service hands its two sockets of it to the engine: the socket
 * it accepted and its outbound socket, connected with the flow's records
 * (lwfp_set_records). From then on the kernel moves the bytes both ways;
 * the engine's broker (`lwfp broker`) passes each FIN on after the bytes
 * before it, and a reset on either side resets the other.
 *
 * Before the call the service must have written on everything it read:
 * bytes still queued on either socket are relayed, in order, not lost
 * (inspect with MSG_PEEK to leave them there). After it, the service must
 * not read, write, shutdown or connect either socket; it may close its
 * descriptors (the broker holds its own; take them out of an epoll set
 * first: while the broker holds the sockets, closing does not remove
 * them, and epoll goes on reporting them), and getsockopt(), getsockname()
 * and getpeername() still answer. The handle is a descriptor: it becomes
 * readable when the flow has ended, and lwfp_offload_end() then says how
 * and how many bytes went each way. Closing the handle before the flow
 * ends resets the flow (each peer sees a reset): a service that exits or
 * crashes leaves no flow behind.
 *
 * -EOPNOTSUPP: no broker runs for this engine, or this kernel has no
 * offload; -ENODATA: accepted is not a socket a service accepted from a
 * redirected flow; -EPERM: outbound does not carry that flow;
 * -ENOTCONN: a socket is not connected; -EPROTONOSUPPORT: not TCP;
 * -EBUSY: a socket is offloaded already; -ENOSPC: the engine offloads
 * 65,536 flows already. On any error nothing was read from the
 * sockets: the service may go on relaying them itself.
 */
struct lwfp_offload_end {
	int end;		/* 0: both ways closed; -ECONNRESET: a side was
				 * reset; -ECANCELED: reset on request or the
				 * handle closed; -ESHUTDOWN: the broker stopped */
	uint64_t to_origin;	/* bytes relayed after the call, accepted
				 * socket to outbound socket */
	uint64_t to_client;	/* and back */
};

int lwfp_offload(struct lwfp *engine, int accepted, int outbound,
		 int *handle);
/* 0 and *end once the flow has ended, -EAGAIN while it runs. Then close
 * the handle. */
int lwfp_offload_end(int handle, struct lwfp_offload_end *end);
/* End the flow early: an orderly close (a FIN each way, after the bytes
 * on their way) or a reset of both sides. The end follows on the handle. */
int lwfp_offload_close(int handle);
int lwfp_offload_reset(int handle);

/* A decoded redirect context. rule_context points into the buffer that was
 * decoded (keep it alive while you use it), or is NULL when the rule had
 * no context (rule_context_len 0). */
struct lwfp_context {
	unsigned int version;
	struct sockaddr_storage orig_dst;	/* AF_INET or AF_INET6 */
	int protocol;				/* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t pid;
	uint32_t uid;
	uint32_t gid;
	char comm[16];				/* NUL-terminated */
	uint64_t cgroup_id;
	uint32_t rule_id;
	char service[32];			/* NUL-terminated */
	uint64_t timestamp_ns;			/* since the Unix epoch */
	const uint8_t *rule_context;
	size_t rule_context_len;
};

/* Decode a context blob. -EBADMSG if malformed, -EPROTO if its version is
 * newer than this library understands. */
int lwfp_context_decode(const void *buf, size_t len, struct lwfp_context *ctx);

/* Encode ctx into buf (*len: size of buf, then bytes written, or the size
 * needed with -ERANGE). */
int lwfp_context_encode(const struct lwfp_context *ctx, void *buf,
			size_t *len);

/* A one-line description of a negative errno returned by this library, in
 * its meaning here (ENOENT: no engine loaded); use strerror() for errors of
 * socket(), connect() and other system calls. */
const char *lwfp_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* LWFP_H */
