/* SPDX-License-Identifier: MIT */
/*
 * The rig of test_offload: per test, an engine (the harness's), a service
 * "px" in our svc cgroup (this process is its proxy), a rule sending
 * 127.0.0.2:ORIGIN to it, the origin listening there, the engine's broker
 * with a private LWFP_RUN_DIR, and a connector child in the cli cgroup
 * whose sockets are the clients (it connects and hands them over).
 * Streams: each byte's value follows from its offset and the stream's
 * seed (8-byte words carrying their index), so any loss, duplicate or
 * reordering shows at the first wrong byte.
 */
#ifndef LWFP_TEST_OFFLOAD_RIG_H
#define LWFP_TEST_OFFLOAD_RIG_H

#include <pthread.h>
#include <stdint.h>

#include "harness.h"

#define ORIGIN_IP	"127.0.0.2"
#define MIB		(1024ull * 1024)

struct rig {
	int svc_lfd, origin_lfd;
	uint16_t svc_port, origin_port;
	pid_t broker, connector;
	int conn_sock;		/* our end to the connector */
	int broker_out;		/* the broker's stdout, for failures */
	char run_dir[64];
	struct lwfp *eng;
};

extern struct rig rig;

/* Start all of it; stop (also from atexit). */
void rig_start(bool with_broker);
void rig_stop(void);
void broker_start(void);
void broker_stop(void);
/* Does a line of the broker's log hold text? (before broker_stop) */
bool broker_said(const char *text);

/* A client socket, connected from the cli cgroup to ip:port. */
int client_connect(const char *ip, uint16_t port);

/* One flow: client end c, proxy's accepted a and outbound b, origin end
 * o, handle h (-1 until offloaded). */
struct flow {
	int c, a, b, o, h;
};

/* Connect a client to the origin's address: redirected to px, which
 * accepts and connects out with the records; the origin accepts. */
bool flow_open(struct flow *f);
/* The proxy's part of flow_open, on a listener of choice. */
bool proxy_connect_out(int lfd, int *a, int *b);
void flow_close_all(struct flow *f);

/* ---- streams ---- */
void stream_fill(uint64_t seed, uint64_t off, unsigned char *buf,
		 size_t len);
/* Offset of the first byte in buf that is not the stream's; -1 if none. */
int64_t stream_check(uint64_t seed, uint64_t off, const unsigned char *buf,
		     size_t len);

/* A sender thread: len bytes of stream seed from offset from, then
 * shutdown(SHUT_WR) if shut. */
struct sender {
	int fd;
	uint64_t seed, from, len;
	bool shut;
	volatile uint64_t sent;
	int err;
	pthread_t t;
	/* optional: before the second half, wait for this receiver's EOF */
	struct receiver *after_eof;
};

/* A receiver thread: reads to EOF or error, checks each byte. */
struct receiver {
	int fd;
	uint64_t seed, from;
	volatile uint64_t got;
	volatile bool done;
	int err;		/* 0: EOF; or errno */
	int64_t bad;		/* first wrong offset, or -1 */
	pthread_t t;
};

void sender_start(struct sender *s);
int sender_join(struct sender *s);
void receiver_start(struct receiver *r);
void receiver_join(struct receiver *r);

/* Blocking helpers with a safety timeout (a test that fails must not
 * hang forever; nothing is measured against it). */
bool read_exact(int fd, void *buf, size_t len);
bool write_all(int fd, const void *buf, size_t len);
/* The flow's end report, waiting for it. */
bool offload_wait(int h, struct lwfp_offload_end *end);
/* Wait until every offload map holds n entries; false if never. */
bool maps_settle(long n);
/* Reset fd: SO_LINGER 0, then close. */
void hard_close(int fd);
/* The error a blocking read on fd ends with: 0 EOF, errno, -1 data. */
int read_end(int fd);

/* ---- transfers ---- */
double now_s(void);
/* Offload f; unless keep, the proxy then drops its two descriptors. */
int offload(struct flow *f, bool keep);

/* Both ends send and read to EOF (or as set between init and go). */
struct xfer {
	struct sender cs, os;
	struct receiver cr, orr;
};

void xfer_init(struct xfer *x, const struct flow *f, uint64_t up,
	       uint64_t down, uint64_t seed);
void xfer_go(struct xfer *x);
void xfer_start(struct xfer *x, const struct flow *f, uint64_t up,
		uint64_t down, uint64_t seed);
/* Join; each end must have got all the other sent, in order, then EOF. */
void xfer_check(struct xfer *x, const char *what);
/* The end report must say want_end and these counts. */
void report_check(struct flow *f, int want_end, uint64_t up, uint64_t down,
		  const char *what);

/* Register service name on 127.0.0.1:port, run from our cgroup sub, and
 * a rule sending connects to the origin to it. */
void service_redirect(const char *name, uint16_t port, const char *sub,
		      const char *weight);

/* the later cases (offload/cases.c) */
void test_many(void);
void test_chain(void);
void test_slow_reader(void);
void test_errors(void);
void offload_cleanup(void);

#endif /* LWFP_TEST_OFFLOAD_RIG_H */
