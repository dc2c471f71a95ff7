/* SPDX-License-Identifier: MIT */
/* The offload broker's insides (broker.h): its state and one flow's. */
#ifndef LWFP_BROKER_INT_H
#define LWFP_BROKER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "broker.h"
#include "lwfp_abi.h"
#include "offload_wire.h"

/* What an epoll event is about. */
enum watch_kind { W_LISTEN, W_TIMER, W_SIGNAL, W_CLIENT, W_SOCK, W_HANDLE };

struct watch {
	enum watch_kind kind;
	struct flow *flow;
	int side;		/* W_SOCK: 0 accepted, 1 outbound; W_CLIENT:
				 * the connection */
};

#define DIR_BUF	(256 * 1024)	/* bytes a direction holds in user space */
#define OFFLOAD_RCVBUF_FLOOR	(1 << 20)	/* broker_pair.c, rcvbuf_floor() */

/* One direction: from side d to side !d. */
struct direction {
	char *buf;		/* read from side d, to write on */
	size_t cap, len, off;
	__u64 spill_read;	/* spilled bytes read from side d */
	__u64 user_written;	/* bytes the broker wrote into side !d */
	__u64 pre_read;		/* read before the pairing */
	bool eof;		/* side d said FIN, all of it read */
	bool rdhup;		/* side d's receive side is shut (epoll) */
	bool fin_sent;		/* shutdown(side !d, SHUT_WR) done */
	bool ctl_stale;		/* ctl of side d lags drained/peer_user */
	bool relayed;		/* side d is in the relay map, to the end */
	bool joining;		/* it joins once what it held is written on */
};

struct flow {
	int fd[2];		/* accepted, outbound: our duplicates */
	int handle;		/* our end of the service's handle; -1 */
	__u64 cookie[2];
	__u64 flow_id;		/* the accepted socket's hop: for lwfp flows */
	__u8 service;
	__u64 base[2];		/* stream_written(fd[i]) at the pairing */
	__u32 bound[2];
	struct direction dir[2];
	struct watch w_sock[2], w_handle;
	bool closing;		/* the service asked for an orderly close */
	bool waiting;		/* on the timer list: a drain to wait for */
	bool dead;		/* ended; freed after this round of events */
	struct flow *next, *prev;	/* every flow */
	unsigned long id;
};

struct broker {
	const struct broker_opts *o;
	int epfd, listen_fd, timer_fd, signal_fd;
	int map_peers, map_relay, map_ctl, map_count, map_sk, map_config;
	__u64 engine_id;
	char path[108];
	struct watch w_listen, w_timer, w_signal;
	struct flow *flows;
	struct flow *dead;	/* ended this round, freed after it */
	size_t nflows, nclients;
	unsigned long next_id;
	bool timer_armed, stop;
};

/* broker_pair.c: services' connections and their PAIR requests */
void broker_accept(struct broker *b);
void broker_request(struct broker *b, struct watch *w);

/* broker_flow.c */
int flow_start(struct broker *b, struct flow *f);
struct lwfp_offload_ctl flow_ctl(const struct flow *f, int d);
void flow_step(struct broker *b, struct flow *f);
void flow_first_step(struct broker *b, struct flow *f);
void flow_handle_event(struct broker *b, struct flow *f);
void flow_sock_event(struct broker *b, struct flow *f, int side,
		     unsigned int events);
void flow_end(struct broker *b, struct flow *f, int end);
void flows_reap(struct broker *b);
void broker_timer_tick(struct broker *b);
void broker_want_timer(struct broker *b, struct flow *f);

/* broker_io.c: what the kernel says of one TCP socket */
__u64 stream_written(int fd);
__u64 socket_cookie(int fd);
int socket_reset(int fd);

#endif /* LWFP_BROKER_INT_H */
