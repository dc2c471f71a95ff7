/* SPDX-License-Identifier: MIT */
/*
 * End-to-end test harness: a private cgroup tree and pin directory per
 * run, the real engine loaded through the real CLI, and clean-up (unload,
 * leave and remove the cgroups) even when a test fails or is interrupted.
 * All addresses are loopback. TAP output.
 */
#ifndef LWFP_TEST_HARNESS_H
#define LWFP_TEST_HARNESS_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwfp.h"

struct env {
	char lwfp[PATH_MAX];	/* the CLI binary under test */
	char mount[PATH_MAX];	/* cgroup2 mount */
	char base[64];		/* our cgroup, relative to the mount */
	char pin_dir[96];
	char home_cg[PATH_MAX];	/* where this process was, to go back */
	bool loaded;
	char out[65536];	/* stdout of the last lwfp command */
};

extern struct env env;
extern int failures, checks;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		checks++;                                                  \
		if (!(cond)) {                                             \
			failures++;                                        \
			printf("#   FAILED %s:%d: %s: ", __FILE__, __LINE__,   \
			       #cond);                                     \
			printf(__VA_ARGS__);                               \
			printf("\n");                                      \
		}                                                          \
	} while (0)

/* Fatal in a test: abandon it (the runner cleans up). */
#define REQUIRE(cond, ...)                                                 \
	do {                                                               \
		bool ok_ = (cond);                                         \
		CHECK(ok_ && #cond, __VA_ARGS__);                          \
		if (!ok_)                                                  \
			return;                                            \
	} while (0)

void die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

void cg_path(char *out, size_t len, const char *sub);

void cg_enter_abs(const char *abs);

/* Move the calling process into our cgroup `sub` ("svc", "app", ...). */
void cg_enter(const char *sub);

/* Run the CLI with --pin-dir; stdout lands in env.out. Returns the exit
 * status. Arguments are a NULL-terminated list. */
int lwfp_run(const char *arg, ...);

/* The chain `lwfp flows` shows for the flow of client pid, "A,B,origin"
 * (empty if it shows none). */
void flow_chain(pid_t pid, char *out, size_t len);

void engine_stop(void);

/* A fresh engine on our cgroup for each test: no state leaks between. */
void engine_start(void);

/* Our cgroups are one level deep: remove the children, then the base. */
void rmdir_tree(const char *abs);

void cleanup(void);

void on_signal(int sig);

void find_cgroup2(void);

void env_init(int argc, char **argv, const char *name);

typedef void (*test_fn)(void);

int run_tests(const char *const names[], const test_fn fns[], int n);

/* ---- sockets ---- */

socklen_t make_addr(struct sockaddr_storage *ss, const char *ip,
			   uint16_t port);

uint16_t addr_port(const struct sockaddr_storage *ss);

/* "127.0.0.1:80" / "[::1]:80" */
const char *addr_str(const struct sockaddr_storage *ss);

/* Listen on ip, port chosen by the kernel. */
int listen_on(const char *ip, uint16_t *port);

/* A port nothing listens on, for "original destinations" that must be
 * rewritten: if a redirect fails, the connect is refused on loopback. */
uint16_t unused_port(const char *ip);

/* accept with a timeout, so a missed redirect fails instead of hanging */
int accept_timeout(int lfd, int ms);

int connect_to(int family, const char *ip, uint16_t port);
/* A UDP socket bound to ip, on *port (0: the kernel picks; *port is set). */
int udp_bind(const char *ip, uint16_t *port);

/* ---- client processes ---- */

struct client {
	const char *cgroup;	/* our sub-cgroup to run in */
	int family;
	const char *ip;		/* the original destination */
	uint16_t port;
	uid_t uid;		/* 0: stay root */
	const char *comm;
	const char *send;	/* bytes to send; the reply is checked */
	const char *expect;	/* expected reply prefix, NULL: none */
	bool check_peer;	/* getpeername must show ip:port */
};

/* Exit codes say what failed, for the parent's message. */
enum { CL_OK, CL_CONNECT = 10, CL_PEER, CL_IO, CL_REPLY, CL_SETUP };

void client_main(const struct client *c);

pid_t client_start(const struct client *c);

int client_wait(pid_t pid);
/* A child that enter()s (its cgroup, its user), connects to
 * 127.0.0.1:port and holds the connection, silent, until
 * silent_client_end(). It holds none of the caller's descriptors, so a flow
 * the caller closes closes (a pipe to stop it would not do: children
 * forked later would hold its other end). */
pid_t silent_client(uint16_t port, void (*enter)(void));
void silent_client_end(pid_t pid);

/* The value of "key": N in the last JSON the CLI printed (flat search). */
long long json_int(const char *key);
/* How many entries the engine's pinned map name holds; -1 if it cannot
 * be opened. */
long map_entries(const char *name);
/* The engine's counter name, from lwfp --json status. */
long long counter(const char *name);

#endif /* LWFP_TEST_HARNESS_H */
