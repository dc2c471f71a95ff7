/* SPDX-License-Identifier: MIT */
/*
 * The kernel/user ABI of lwfp: map values shared by the BPF programs and
 * user space, the redirect records and the redirect context (TLV) layout.
 * Everything else derives from this header. Fixed-width types only; no
 * pointers; multi-byte integers in host order unless named be/_be.
 */
#ifndef LWFP_ABI_H
#define LWFP_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* 2: UDP flows (service protocols, config udp_idle_s, stats, flow map)
 * 3: the rule classifier (lwfp_cls_* maps), flows listed without tracing
 * 4: services carry their --pid process's start time
 * 5: ids made with a secret key (config id_key)
 * 6: services ask through socket options (SOL_LWFP), never maps; the
 *    hand-off (lwfp_pending) holds the connection it is for; services
 *    carry their network namespace; who bound a socket (lwfp_binder);
 *    UDP datagrams tagged at egress, checked at ingress; UDP flows
 *    counted per uid (lwfp_udp_quota), never evicted; MPTCP clients'
 *    original destinations by connection (lwfp_mptcp)
 * 7: each uid's share of UDP flows, hand-offs and live flows
 *    (lwfp_shares, config pending_per_user, live_per_user); hand-offs
 *    reserved at connect in a hash that never evicts; rules' context
 *    layouts (lwfp_rule_ctx under LWFP_RULE_LAYOUT_KEY, LWFP_SO_RULE_LAYOUT)
 * 8: LWFP_RULE_HAS_LAYOUT is bit 4 (it shared bit 3 with
 *    LWFP_RULE_REINSPECT): an engine of 7 cannot be upgraded in place, as
 *    its layout rules would read as re-inspecting ones
 * 9: lwfp_offload_count tracks the receive sequence (rcv_next) and the
 *    bytes cut as delivered twice (trimmed) */
#define LWFP_ABI_VERSION	9

#define LWFP_MAX_SERVICES	64
#define LWFP_MAX_RULES		16384	/* per rule table; there are two */
#define LWFP_MAX_CHAIN		8	/* services one flow may pass through */
#define LWFP_SERVICE_NAME_MAX	32	/* including the NUL */
#define LWFP_COMM_LEN		16
#define LWFP_RULE_CTX_MAX	4096	/* opaque rule context bytes */
#define LWFP_PENDING_MAX	65536	/* hand-offs in flight */
#define LWFP_LIVE_MAX		262144	/* accepted flows whose records count */
#define LWFP_UDP_FLOWS_MAX	65536	/* UDP flows tracked at once */
#define LWFP_UDP_FLOWS_PER_USER_DEFAULT	4096	/* of them, one uid's */
#define LWFP_PENDING_PER_USER_DEFAULT	4096	/* hand-offs of one uid */
#define LWFP_LIVE_PER_USER_DEFAULT	16384	/* live TCP flows of one uid */
/* skb priority of a redirected client's datagrams to its service: above
 * 6, which only CAP_NET_ADMIN may set (SO_PRIORITY) */
#define LWFP_UDP_TAG		0x4c570001
#define LWFP_UDP_IDLE_DEFAULT_S	60	/* a UDP flow without datagrams ends */

/*
 * The hand-off option: a TCP option (RFC 6994 experimental kind 253 with
 * our ExID) that a redirected client writes on the ACK concluding its
 * handshake. The service side reads it at PASSIVE_ESTABLISHED. NAT rewrites
 * addresses and ports, never options, so the hand-off survives a conntrack
 * source-port remap.
 */
#define LWFP_TCPOPT_KIND	253
#define LWFP_TCPOPT_EXID	0x4c57	/* "LW" */
#define LWFP_TCPOPT_LEN		12	/* kind, len, exid(2), hop id(8) */

struct lwfp_tcpopt {
	__u8 kind;
	__u8 len;
	__u8 exid[2];		/* big endian LWFP_TCPOPT_EXID */
	__u8 hop_id[8];		/* host order bytes of the hop id */
};

/* Addresses are 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d). */
struct lwfp_endpoint {
	__u8 addr[16];
	__u16 port_be;
	__u8 family;		/* AF_INET or AF_INET6, as the client used */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

/* Is a 16-byte address IPv4-mapped (::ffff:a.b.c.d)? Always inline: in
 * the engine a call would add a frame to its deepest call chains. */
static inline __attribute__((always_inline)) int
lwfp_is_v4_mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return 0;
	return a[10] == 0xff && a[11] == 0xff;
}

/* Store 4 bytes of IPv4 address as IPv4-mapped into a[16]. */
static inline void lwfp_v4_map(__u8 *a, const void *ip4)
{
	for (int i = 0; i < 10; i++)
		a[i] = 0;
	a[10] = a[11] = 0xff;
	__builtin_memcpy(a + 12, ip4, 4);
}

/* services map: array of LWFP_MAX_SERVICES, indexed by slot */
enum lwfp_service_flags {
	LWFP_SVC_IN_USE = 1 << 0,
	LWFP_SVC_HAS_V4 = 1 << 1,	/* reachable from IPv4 sockets */
	LWFP_SVC_HAS_V6 = 1 << 2,	/* reachable from IPv6 sockets */
	LWFP_SVC_FAIL_CLOSED = 1 << 3,
	/* a service serves TCP and UDP on its port unless told otherwise */
	LWFP_SVC_NO_TCP = 1 << 4,
	LWFP_SVC_NO_UDP = 1 << 5,
};

struct lwfp_service {
	char name[LWFP_SERVICE_NAME_MAX];
	__u8 addr4[4];		/* target for IPv4 sockets */
	__u8 addr6[16];		/* target for IPv6 sockets (may be v4-mapped) */
	__u8 listen[16];	/* the address as registered, v4-mapped if v4 */
	__u16 port_be;
	__u16 flags;
	__u32 pid;		/* exempt process (tgid), 0 = none */
	__u64 cgroup_id;	/* exempt cgroup subtree, 0 = none */
	__u32 cgroup_level;
	__u32 weight;		/* arbitration: higher first */
	__u32 gen;		/* bumped on each registration of the slot */
	__u32 uid;		/* of the --pid process: its user's sockets
				 * are the service's (lwfp_binder) */
	/* when the process pid names started, in clock ticks since boot
	 * (/proc/PID/stat): a later process with the same pid is not it */
	__u64 pid_start;
	/* cookie of the network namespace it listens in (where `service
	 * add` ran); 0 where the kernel cannot tell. A client in another
	 * namespace cannot reach it: there, it is down. */
	__u64 netns;
};

/*
 * lwfp_binder sk storage: who bound a socket in scope (cgroup/post_bind).
 * A service registered by pid takes redirected connects only on a
 * listener (UDP: socket) a process of that process's user bound; by
 * cgroup, only on one a process in that cgroup bound. A socket another
 * user bound on its address while it was down is not the service, nor is
 * one that listens without bind() (the kernel picked its port). Kept for
 * every explicit bind, since a service may be registered after it binds.
 */
#define LWFP_BINDER_LEVELS	16	/* cgroup depths a service may name */

struct lwfp_binder {
	__u32 uid;
	__u32 _pad;
	__u64 cgroup[LWFP_BINDER_LEVELS];	/* its ancestors, by level */
};

/* /proc reports start times in USER_HZ ticks, 100 a second on Linux. */
#define LWFP_NS_PER_TICK	10000000ull

/* rules map: array of 2 * LWFP_MAX_RULES; table t occupies [t*MAX, (t+1)*MAX) */
enum lwfp_rule_flags {
	LWFP_RULE_UID = 1 << 0,
	LWFP_RULE_CGROUP = 1 << 1,
	LWFP_RULE_HAS_CTX = 1 << 2,
	LWFP_RULE_HAS_LAYOUT = 1 << 4,	/* a context layout (below) */
	/* take a flow again that this service redirected before another */
	LWFP_RULE_REINSPECT = 1 << 3,
};

struct lwfp_rule {
	__u32 id;
	__u32 service;		/* slot */
	__u8 dst[16];		/* network, v4-mapped if IPv4 */
	__u8 mask[16];		/* derived from the prefix length */
	__u16 dport_lo;		/* host order, inclusive */
	__u16 dport_hi;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 prefix_len;	/* over the 128-bit address */
	__u16 flags;
	__u32 uid;
	__u32 cgroup_level;
	__u64 cgroup_id;
};

/*
 * The rule classifier, one per rule table half. Bit i of a rule bitmap is
 * rule i of that half, in arbitration order. Each field of a connect
 * (destination address, port, protocol, uid, cgroup) selects, through an
 * index, the bitmaps of the rules its value matches; the connect's
 * candidates are the AND over the fields (each field the OR of its
 * bitmaps), and the first candidate whose service can take it wins. The
 * cost of a decision depends on the fields, not on the number of rules.
 *
 * Bitmaps are sparse: a summary bit per 64-rule word says which words are
 * stored; the stored words sit in order in the words pool.
 */
#define LWFP_CLS_WORDS		(LWFP_MAX_RULES / 64)
#define LWFP_CLS_SUMMARY	(LWFP_CLS_WORDS / 64)
/* distinct bitmaps per half (equal ones are stored once); ids fit 16 bits */
#define LWFP_CLS_BITMAPS_MAX	65535
#define LWFP_CLS_POOL_MAX	(1 << 19)	/* stored words per half */
#define LWFP_CLS_LENS		128		/* prefix lengths 1..128 */
#define LWFP_CLS_LEVELS		16	/* cgroup depths rules may name */
/*
 * Ports: a binary trie of aligned port blocks, level L holding blocks of
 * 2^(16-L) ports; node (L, v) is entry 2^L - 1 + v. A rule's range is
 * split into at most 30 maximal blocks, so memory grows with the rules;
 * a port's rules are the OR of the 17 nodes on its path.
 */
#define LWFP_CLS_PORT_LEVELS	17
#define LWFP_CLS_PORT_NODES	((1 << LWFP_CLS_PORT_LEVELS) - 1)

struct lwfp_cls_bitmap {
	__u64 summary[LWFP_CLS_SUMMARY];
	/* pool index (within the half) of the first stored word of each
	 * summary word's range */
	__u32 base[LWFP_CLS_SUMMARY];
};

/* cls_hdr map: one per half. Bitmap ids index that half's bitmaps; id 0
 * is the empty set. */
struct lwfp_cls_hdr {
	__u32 addr_any;		/* rules with a /0 destination */
	__u32 uid_any;		/* rules without --uid */
	__u32 cgroup_any;	/* rules without --cgroup */
	__u32 proto[2];		/* rules TCP, UDP connects match */
	__u32 bitmaps;		/* bitmaps in use, id 0 included */
	__u32 words;		/* pool words in use */
	__u8 nlens;
	__u8 nlevels;
	__u8 _pad[2];
	__u8 lens[LWFP_CLS_LENS];	/* prefix lengths rules use, longest first */
	__u8 levels[LWFP_CLS_LEVELS];	/* cgroup levels rules use */
};

/* cls_masks map: entry L is the network mask of prefix length L, in
 * network order (written once, at load). */
struct lwfp_cls_mask {
	__u32 w[4];
};

/*
 * cls_index map (hash): a field value's bitmap id. A connect ORs the
 * rules of the rule prefixes that contain its address, longest first, up
 * to LWFP_CLS_ADDR_HITS of them; the last of those is looked up as
 * LWFP_CLS_ADDR_DEEP, whose bitmap also holds the rules of every shorter
 * prefix containing it (stored only for prefixes nested that deep).
 */
#define LWFP_CLS_ADDR_HITS	8

enum lwfp_cls_kind {
	LWFP_CLS_ADDR = 1,	/* val = address masked to len bits */
	LWFP_CLS_UID = 2,	/* val = uid, host order */
	LWFP_CLS_CGROUP = 3,	/* val = cgroup id, host order */
	LWFP_CLS_ADDR_DEEP = 4,	/* as ADDR, with its ancestors' rules */
};

struct lwfp_cls_key {
	__u8 kind;
	__u8 half;
	__u8 len;
	__u8 _pad;
	__u8 val[16];
};

/*
 * config map: one element. User space writes a new rule table into the
 * inactive half, then flips `table` with one 8-byte update:
 * bit 32 = active half, low 32 bits = number of rules in it.
 */
struct lwfp_config {
	__u64 table;
	__u64 engine_id;	/* random per load; in every record */
	__u64 cgroup_id;	/* the cgroup the engine is attached to */
	__u32 next_rule_id;
	__u32 abi_version;
	__u32 udp_idle_s;	/* idle timeout of UDP flows */
	__u32 udp_flows_per_user;	/* UDP flows one uid may hold */
	__u32 pending_per_user;	/* hand-offs one uid may have in flight */
	__u32 live_per_user;	/* accepted TCP flows of one uid's clients */
	char cgroup_path[256];
	/* the secret the engine's ids are made with (siphash.h); random per
	 * load, kept across upgrades */
	__u64 id_key[2];
};

#define LWFP_TABLE_COUNT(t)	((__u32)(t))
#define LWFP_TABLE_HALF(t)	((__u32)((t) >> 32) & 1)

/* stats map: per-CPU array, one counter per index */
enum lwfp_stat {
	LWFP_STAT_REDIRECTED,		/* connects rewritten to a service */
	LWFP_STAT_HANDOFF,		/* accepted sockets given their flow */
	LWFP_STAT_HANDOFF_MISS,		/* hand-off option seen, flow gone */
	LWFP_STAT_SKIP_SELF,		/* rule matched the service's own process */
	LWFP_STAT_SKIP_CHAIN,		/* service already in the flow's chain */
	LWFP_STAT_CHAIN_FULL,		/* chain at LWFP_MAX_CHAIN, went direct */
	LWFP_STAT_BAD_RECORDS,		/* records malformed */
	LWFP_STAT_NO_TARGET,		/* service has no address for the family */
	LWFP_STAT_RECORDS_FOREIGN,	/* records of another engine instance */
	LWFP_STAT_RECORDS_STALE,	/* forged, or their flow has closed */
	LWFP_STAT_RECORDS_WRONG_FLOW,	/* records of a flow to elsewhere */
	LWFP_STAT_FAIL_OPEN,		/* service not listening: went on */
	LWFP_STAT_FAIL_CLOSED,		/* service not listening: refused */
	LWFP_STAT_LIVE_FULL,		/* no room to register a flow's records */
	LWFP_STAT_UDP_FLOW,		/* UDP flows that reached their service */
	LWFP_STAT_UDP_IDLE,		/* UDP flows ended by the idle timeout */
	LWFP_STAT_UDP_REPLY,		/* replies shown from the original peer */
	LWFP_STAT_CLS_MISMATCH,		/* classifier and rule disagreed (a bug) */
	LWFP_STAT_REFUSED_FULL,		/* covered connect refused (EPERM): the
					 * engine could not record it */
	LWFP_STAT_REFUSED_RECORDS,	/* connect with records whose flow has
					 * ended refused (EPERM), not looped */
	LWFP_STAT_RECORDS_REFUSED,	/* records a caller may not set */
	LWFP_STAT_HANDOFF_FOREIGN,	/* hand-off id on a connection it was
					 * not made for: ignored */
	LWFP_STAT_UDP_FLOW_TAKEN,	/* datagram from another socket on a
					 * live flow's source: dropped */
	LWFP_STAT_UDP_FORGED,		/* datagram from a flow's source the
					 * engine did not tag: dropped */
	LWFP_STAT_UDP_QUOTA,		/* new UDP flow over its uid's share:
					 * refused (EPERM) */
	LWFP_STAT_UDP_FULL,		/* new UDP flow, no room: refused */
	LWFP_STAT_PENDING_SHARE,	/* connect over its uid's share of
					 * hand-offs: refused (EPERM) */
	LWFP_STAT_PENDING_FULL,		/* connect, no room for its hand-off:
					 * refused (EPERM) */
	LWFP_STAT_LIVE_SHARE,		/* accepted flow over its client uid's
					 * share: its records are not live */
	LWFP_STAT_MPTCP_FULL,		/* MPTCP connect redirected, no room to
					 * keep its original destination */
	LWFP_STAT_MAX,
};

/*
 * events map (ring buffer): one event per connect or send the engine
 * refused, for `lwfp events`. cause is the counter it was counted in.
 */
#define LWFP_EVENTS_BYTES	(256 * 1024)

struct lwfp_event {
	__u64 boot_ns;		/* CLOCK_BOOTTIME */
	__u64 cgroup_id;
	__u32 pid;
	__u32 uid;
	__u32 cause;		/* enum lwfp_stat */
	__u32 _pad;
	struct lwfp_endpoint dst;	/* where it was going */
	char comm[LWFP_COMM_LEN];
};

/*
 * Redirect records: the opaque blob a service copies from its accepted
 * socket to its outbound socket. Identifies the end-to-end flow and the
 * services that redirected it so far.
 */
#define LWFP_RECORDS_MAGIC	0x5246574cu	/* "LWFR" little endian */
#define LWFP_RECORDS_VERSION	1

struct lwfp_records {
	__u32 magic;
	__u8 version;
	__u8 chain_len;
	__u8 chain[LWFP_MAX_CHAIN];	/* service slots, oldest first */
	__u16 _pad;
	__u64 engine_id;
	__u64 flow_id;
	__u64 token;			/* random; key of the live map */
};

/*
 * A connect's redirect state relative to one service, as WFP defines it
 * (FwpsQueryConnectionRedirectState), from the chain the flow went through.
 */
enum lwfp_redirect_state_abi {
	LWFP_STATE_NOT_REDIRECTED,
	LWFP_STATE_REDIRECTED_BY_SELF,		/* the service is the last */
	LWFP_STATE_REDIRECTED_BY_OTHER,		/* the service is not in it */
	LWFP_STATE_PREVIOUSLY_REDIRECTED_BY_SELF, /* in it, not last */
};

/* Shared by the engine (its decisions) and the library (lwfp.h). */
static inline int lwfp_chain_state(const __u8 *chain, __u32 chain_len,
				   __u32 slot)
{
	int state = chain_len ? LWFP_STATE_REDIRECTED_BY_OTHER :
				LWFP_STATE_NOT_REDIRECTED;

	for (__u32 i = 0; i < LWFP_MAX_CHAIN; i++)
		if (i < chain_len && chain[i] == slot)
			state = i + 1 == chain_len ?
				LWFP_STATE_REDIRECTED_BY_SELF :
				LWFP_STATE_PREVIOUSLY_REDIRECTED_BY_SELF;
	return state;
}

/*
 * UDP flows map key: a UDP flow as its service sees it, the source of its
 * datagrams (the client socket's address and port on the wire) and the
 * service port they are sent to.
 */
struct lwfp_udp_key {
	__u8 client[16];	/* v4-mapped if IPv4 */
	__u16 client_port_be;
	__u16 service_port_be;
};

/* What a socket is to the engine; the role of its sk storage. */
enum lwfp_role {
	LWFP_ROLE_NONE,
	LWFP_ROLE_CLIENT,	/* its connect was redirected to a service */
	LWFP_ROLE_ACCEPTED,	/* a service accepted it; records/context here */
	LWFP_ROLE_RECORDS,	/* records set, not yet connected */
	LWFP_ROLE_OUTBOUND,	/* connected with records, not redirected */
};

/*
 * sk storage value (and hand-off value). One hop = one redirected connect.
 * The accepted socket gets a copy of the client's hop.
 *
 * The live map holds one too, keyed by records token: what the records
 * handed out on an accepted socket (or to a UDP flow) stand for, while
 * that socket (flow) lives. The engine trusts it, not the bytes a service
 * hands back, and `lwfp flows` lists flows from it where the kernel
 * refuses the flows iterator.
 */
struct lwfp_hop {
	struct lwfp_records rec;
	__u64 hop_id;
	__u64 start_ns;		/* CLOCK_BOOTTIME of the connect */
	__u64 cgroup_id;	/* of the connecting process */
	struct lwfp_endpoint orig;
	__u32 pid;
	__u32 uid;
	__u32 gid;
	__u32 rule_id;
	char comm[LWFP_COMM_LEN];
	__u32 service_gen;
	__u8 role;
	__u8 service;		/* slot this hop was redirected to */
	__u8 flags;		/* enum lwfp_hop_flags, in the live map */
	__u8 _pad;
};

/*
 * lwfp_shares: what each uid holds of the tables one user could fill for
 * everyone, against the config's per-user limits. A uid holding nothing
 * has no entry.
 */
enum lwfp_share_kind {
	LWFP_SHARE_UDP,		/* lwfp_udp_flows: its clients' UDP flows */
	LWFP_SHARE_PENDING,	/* lwfp_pending: its connects' hand-offs */
	LWFP_SHARE_LIVE,	/* lwfp_live: its clients' accepted flows */
};

struct lwfp_share_key {
	__u32 uid;
	__u32 kind;		/* enum lwfp_share_kind */
};

/*
 * lwfp_pending value: a client's hop waiting for the service side, and
 * the connection it was made for as the client's socket sees it. Reserved
 * at the connect's decision, the connection filled in as the socket
 * sends its SYN. The
 * service's socket takes the hop only if it is that connection, seen
 * from the other end in the same network namespace, and only once.
 */
struct lwfp_handoff {
	struct lwfp_hop hop;
	__u8 client[16];	/* the client socket's address, v4-mapped */
	__u8 service[16];	/* where it connected (the service) */
	__u16 client_port_be;	/* as the client saw it: NAT may remap it */
	__u16 service_port_be;
	__u32 _pad;
	__u64 netns;		/* cookie of the client's network namespace */
};

/*
 * lwfp_mptcp key: a redirected MPTCP client's connection as its first
 * subflow shows it (v4-mapped if IPv4). The subflow, a socket of the
 * kernel's, holds the hop; the application's MPTCP socket has the same
 * ends, so its getpeername() finds the original destination by them.
 */
struct lwfp_tuple {
	__u8 local[16];
	__u8 peer[16];
	__u16 local_port_be;
	__u16 peer_port_be;
	__u32 _pad;
	__u64 netns;		/* cookie of its network namespace */
};

enum lwfp_hop_flags {
	/* a service connected out with this hop's records, not redirected:
	 * the flow reached its origin */
	LWFP_HOP_AT_ORIGIN = 1 << 0,
};

/*
 * UDP flows map value. A UDP service has no accepted socket to carry the
 * hop, so the engine keeps it per flow, as the first datagram leaves the
 * client, until the client socket closes or the flow is idle.
 */
struct lwfp_udp_flow {
	struct lwfp_hop hop;	/* role LWFP_ROLE_ACCEPTED */
	__u64 cookie;		/* socket cookie of the client socket */
	__u64 last_ns;		/* boottime of its last datagram, either way */
	__u64 datagrams;	/* client to service */
	__u64 bytes;
	__u8 service_addr[16];	/* where its datagrams go, v4-mapped if IPv4 */
	__u64 netns;		/* cookie of the client's network namespace */
};

/*
 * A redirect service asks and tells the engine only through the sockets it
 * holds, with socket options the engine's sockopt programs answer (the
 * kernel itself knows no SOL_LWFP): nobody reads or writes the engine's
 * maps, so nobody learns of flows that are not theirs or forges state.
 *
 * getsockopt(fd, SOL_LWFP, LWFP_SO_HOP, &hop, &len) on a TCP socket a
 * service accepted from a redirected flow: its struct lwfp_hop. ENODATA
 * for any other socket (ENOPROTOOPT where no engine sees the socket).
 *
 * getsockopt(fd, SOL_LWFP, LWFP_SO_RULE_CONTEXT, buf, &len), len at
 * least LWFP_RULE_CTX_MAX: the context bytes of the rule that redirected
 * that socket's flow (for a UDP socket, the flow of its last answer
 * below); len becomes their number. ENOMSG if the rule has none (the
 * kernel does not hand back a length of 0).
 *
 * getsockopt(fd, SOL_LWFP, LWFP_SO_RULE_LAYOUT, buf, &len): the same for
 * the rule's context layout (struct lwfp_layout).
 *
 * setsockopt(fd, SOL_LWFP, LWFP_SO_RECORDS, &rec, sizeof(rec)) on a TCP
 * socket not yet connecting, or a UDP socket not connected: its connect
 * (each send) continues the flow. Refused unless the engine issued the
 * records, their flow is still open (ESTALE if not), and the caller is the
 * service that flow was redirected to, when that service is registered
 * by pid or cgroup (EACCES if not). Records of another engine instance
 * are left to it (ENOPROTOOPT if none takes them).
 *
 * A UDP service has no accepted socket per flow: setsockopt(fd, SOL_LWFP,
 * LWFP_SO_UDP_PEER, &key, sizeof(key)) on its UDP socket asks for the
 * flow from the client key names (service_port_be is ignored: the engine
 * takes the socket's port), and getsockopt of the same option on the same
 * socket reads the struct lwfp_udp_answer. The question fails with ENODATA
 * if no flow from that client comes to the socket (its port, its address
 * unless bound to any, its network namespace) or if the flow's service is
 * registered by pid or cgroup and the caller is not that process or in
 * that cgroup: the answer reveals nothing of other users' flows.
 */
#define SOL_LWFP		0x4c57
#define LWFP_SO_UDP_PEER	1
#define LWFP_SO_HOP		2
#define LWFP_SO_RULE_CONTEXT	3
#define LWFP_SO_RECORDS		4
#define LWFP_SO_RULE_LAYOUT	5

struct lwfp_udp_answer {
	struct lwfp_udp_key key;	/* the question, port filled in */
	__u32 _pad;
	struct lwfp_hop hop;
};

/* What the flows iterator writes per socket. */
struct lwfp_sk_dump {
	struct lwfp_hop sk;
	__u32 state;		/* TCP state of the socket */
	__u32 _pad;
};

/* state of a dump made without the iterator, from the engine's maps */
#define LWFP_SK_STATE_UNKNOWN	0xffffffffu

/*
 * Redirect context: a self-describing blob.
 *   header: magic "LWFC" (4 bytes), version (1), reserved (1), length of
 *           the whole blob including the header (2, big endian)
 *   then TLVs: type (2, big endian), length (2, big endian), value.
 * All integers in values are big endian. Unknown types are skipped by
 * decoders; each known type appears at most once. See docs/context.md.
 */
#define LWFP_CTX_MAGIC		"LWFC"
#define LWFP_CTX_VERSION	1
#define LWFP_CTX_HDR_LEN	8
#define LWFP_TLV_HDR_LEN	4

enum lwfp_ctx_type {
	LWFP_CTX_ORIG_DST = 1,	/* family(1) proto(1) port(2) addr(4|16) */
	LWFP_CTX_PID = 2,	/* u32 */
	LWFP_CTX_UID = 3,	/* u32 */
	LWFP_CTX_GID = 4,	/* u32 */
	LWFP_CTX_COMM = 5,	/* 0..15 bytes, no NUL */
	LWFP_CTX_CGROUP_ID = 6,	/* u64 */
	LWFP_CTX_RULE_ID = 7,	/* u32 */
	LWFP_CTX_SERVICE = 8,	/* 1..31 bytes, no NUL */
	LWFP_CTX_TIMESTAMP = 9,	/* u64 ns since the Unix epoch */
	LWFP_CTX_RULE_CTX = 10,	/* 0..LWFP_RULE_CTX_MAX opaque bytes */
};

/* The largest context the engine produces. */
#define LWFP_CTX_MAX_LEN (LWFP_CTX_HDR_LEN + 10 * LWFP_TLV_HDR_LEN + \
			  (4 + 16) + 4 + 4 + 4 + (LWFP_COMM_LEN - 1) + 8 + 4 + \
			  (LWFP_SERVICE_NAME_MAX - 1) + 8 + LWFP_RULE_CTX_MAX)

/* rule_ctx map value: the rule's opaque context, keyed by rule id */
struct lwfp_rule_ctx {
	__u32 len;
	__u8 data[LWFP_RULE_CTX_MAX];
};

/*
 * A rule's context layout: what a Windows service's own context struct
 * looks like, so that SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT returns
 * exactly the bytes its callout would have attached. Kept in lwfp_rule_ctx
 * under the rule's id with the top bit set; the engine only stores it.
 * Compiled by the control plane from a layout file (src/common/layout.c);
 * rendered per connection by the library: size bytes, zero but for the
 * fields, each at its offset. Multi-byte integers in host order.
 */
#define LWFP_RULE_LAYOUT_KEY(id)	((id) | 0x80000000u)
#define LWFP_LAYOUT_MAGIC	0x4c59744cu	/* "LtYL" */
#define LWFP_LAYOUT_FIELDS_MAX	64

enum lwfp_layout_what {
	LWFP_LW_BYTES,		/* arg: offset of len bytes in data[] */
	LWFP_LW_ORIG_DST,	/* the original destination */
	LWFP_LW_LOCAL,		/* the client's own address */
	LWFP_LW_PID,
	LWFP_LW_UID,
	LWFP_LW_GID,
	LWFP_LW_RULE_ID,
	LWFP_LW_PROTOCOL,	/* IPPROTO_TCP or IPPROTO_UDP */
	LWFP_LW_RULE_CONTEXT,	/* the rule's context bytes, up to len */
	LWFP_LW_COMM,		/* the process name, 16 bytes, NUL-padded */
};

enum lwfp_layout_format {
	/* addresses */
	LWFP_LF_SOCKADDR_STORAGE,	/* 128 bytes */
	LWFP_LF_SOCKADDR_IN6,		/* 28: IPv4 as v4-mapped */
	LWFP_LF_SOCKADDR_INET,		/* 28: a sockaddr_in or _in6 */
	LWFP_LF_ADDR16,			/* 16: IPv4 as v4-mapped */
	LWFP_LF_ADDR4,			/* 4: IPv6 as zeros */
	LWFP_LF_PORT,			/* 2, network order */
	/* integers: little or big endian */
	LWFP_LF_LE,
	LWFP_LF_BE,
	LWFP_LF_RAW,			/* bytes as they are */
};

struct lwfp_layout_field {
	__u16 offset;
	__u16 len;
	__u8 what;		/* enum lwfp_layout_what */
	__u8 format;		/* enum lwfp_layout_format */
	__u16 arg;
};

struct lwfp_layout {
	__u32 magic;
	__u16 size;		/* bytes the service gets */
	__u16 nfields;
	struct lwfp_layout_field field[];	/* then the fixed bytes */
};

/*
 * Kernel-offloaded relay (lwfp_offload(), lwfp-offload(7)). A service
 * hands the engine the accepted socket and the outbound socket of one
 * flow; the engine's offload broker pairs them, and the verdict program
 * (an sk_skb program on lwfp_offload_relay) moves each arriving skb to
 * the other socket's egress. Only the broker writes these maps; each
 * socket is a key by its cookie (SO_COOKIE).
 *
 * A direction is "spilling" while the verdict passes its bytes to the
 * socket itself (SK_PASS) instead of redirecting them: there the broker
 * reads and writes them on, and they are charged to the socket's receive
 * memory, so TCP's window closes on a slow reader. It spills whenever
 * redirecting one more skb would leave more than `bound` bytes waiting
 * between the two sockets (redirected, not yet in the peer's write
 * queue), then while bytes it spilled have not all been written on
 * (spilled != drained), and while the broker holds it paused (an
 * orderly close asked for): kernel memory per flow stays within the
 * sockets' buffers.
 */
#define LWFP_OFFLOAD_MAX	65536	/* flows offloaded at once */

/* lwfp_offload_ctl: the broker's word on one socket (one direction). */
struct lwfp_offload_ctl {
	__u64 peer;		/* the other socket's cookie */
	__u64 drained;		/* spilled bytes the broker wrote on */
	__u64 peer_user;	/* bytes the broker wrote into the peer */
	__u64 flow_id;		/* for lwfp flows */
	__u32 bound;		/* most bytes waiting between the two */
	__u32 paused;		/* spill everything */
	__u8 service;		/* slot of the service that offloaded */
	__u8 side;		/* 0 its accepted socket, 1 its outbound one */
	__u8 _pad[6];
};

/*
 * lwfp_offload_count: the verdict's counts for one socket. peer_seq0 is
 * taken at the first redirect (nothing is waiting then): the peer's
 * write_seq less the broker's writes into it so far. rcv_next is the TCP
 * sequence of the first byte the verdict has not seen yet (taken from
 * the socket's copied_seq at its first skb): the kernel can hand the
 * verdict an skb that begins with bytes it has seen (lwfp-offload(7)),
 * and the verdict cuts them (trimmed); if it cannot, the flow is broken
 * and the broker resets it.
 */
#define LWFP_OFFLOAD_RCV_KNOWN	(1U << 0)	/* rcv_next is set */
#define LWFP_OFFLOAD_BROKEN	(1U << 1)	/* bytes could not be cut */

struct lwfp_offload_count {
	__u64 redirected;	/* bytes moved to the peer's egress */
	__u64 spilled;		/* bytes left to the socket (the broker) */
	__u64 trimmed;		/* bytes seen twice, cut */
	__u32 peer_seq0;
	__u32 rcv_next;
	__u32 flags;		/* LWFP_OFFLOAD_RCV_KNOWN, _BROKEN */
	__u32 _pad;
};

#endif /* LWFP_ABI_H */
