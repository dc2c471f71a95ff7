/* SPDX-License-Identifier: MIT */
/* What the attacks of the security suite share. */
#ifndef LWFP_ATTACK_H
#define LWFP_ATTACK_H

#include <stdbool.h>
#include <stdint.h>

#define NOBODY 65534

/* In a child: move into our "app" cgroup (the engine's scope) and become
 * nobody; exits 3 if that fails. */
void attacker_enter(void);
/* A listener on 127.0.0.1:port (that port, not any), or -1. */
int listen_loopback(uint16_t port);
/* Make socket fd that listener: 0 or errno. */
int listen_loopback_fd(int fd, uint16_t port);
/* connect() fd to 127.0.0.1:port: 0 or errno. */
int connect_loopback(int fd, uint16_t port);
/* A service "svc" on 127.0.0.1:svc_port (with one more option and its
 * value, e.g. "--fail" "closed", or NULL) and a rule sending connects to
 * 127.0.0.1:orig_port to it; false if the CLI refused either. */
bool redirect_port(uint16_t svc_port, const char *opt, const char *val,
		   uint16_t orig_port);
/* A group for the engine and a user in it (a proxy account), removed at
 * exit: the group's name; the user's is in *user. */
const char *member_create(const char **user);
/* In a child: enter our cgroup sub (created if need be), then become
 * user with its groups; exits 3 if that fails. */
void member_enter(const char *user, const char *sub);
/* A UDP service "svc" on 127.0.0.1:svc_port and a UDP rule sending
 * datagrams to 127.0.0.1:orig_port to it; false if the CLI refused. */
bool redirect_udp_port(uint16_t svc_port, uint16_t orig_port);
/* Send what from fd to 127.0.0.1:port with source address src (network
 * order) named by IP_PKTINFO: 0 or errno. */
int send_from(int fd, uint32_t src, uint16_t port, const char *what);
/* A child that waits until *wake, its pipe, is closed. */
pid_t sleeper(int *wake);
/* Did a connection arrive at listener lfd within ms? */
bool reached(int lfd, int ms);

#endif /* LWFP_ATTACK_H */
