/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the benchmarks: timing and statistics, result rows,
 * child processes that never run the harness's clean-up, the private
 * network namespace for nftables, pinned-map counts, slab accounting and
 * an in-process syscall counter.
 *
 * Safety, as in the end-to-end tests: a private cgroup tree and pin
 * directory (env_init/engine_start in harness.h), loopback addresses only,
 * nftables rules only inside a network namespace created here and deleted
 * at exit.
 *
 * Results are printed as
 *   ROW|section|what|baseline|value|ratio|spread|target|met
 * and bench/run.sh turns them into one table. Detail lines start with '#'.
 */
#ifndef LWFP_BENCH_H
#define LWFP_BENCH_H

#include <math.h>
#include <poll.h>
#include <sched.h>
#include <time.h>
#include <linux/perf_event.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#include "harness.h"
#include "lwfp_abi.h"

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* ---- time and statistics ---- */

uint64_t now_ns(void);

int cmp_double(const void *a, const void *b);

/* Nearest-rank percentile of n values (the input is not modified). */
double pct(const double *v, int n, double p);

/* The median; for an even count the mean of the two middle values. */
double median(const double *v, int n);

double vmin(const double *v, int n);

double vmax(const double *v, int n);

/* Per-round ratios a[i]/b[i] into out (paired: same round). */
void ratios(const double *a, const double *b, int n, double *out);

int env_int(const char *name, int def);

double env_double(const char *name, double def);

/* ---- result rows ---- */

enum cmp { AT_LEAST, AT_MOST, ABOVE, BELOW, INFO };

/* One row of the table, with the target and the verdict given as text. */
void row_text(const char *sec, const char *what,
			    const char *base, const char *value, double ratio,
			    double rmin, double rmax, const char *unit,
			    const char *target, const char *met);

/*
 * One row of the table. ratio/rmin/rmax: the median of the per-round
 * ratios and their range; target: the bound; the verdict comes from the
 * median, with a note when the per-round range straddles the bound.
 */
void row(const char *sec, const char *what, const char *base,
		       const char *value, double ratio, double rmin,
		       double rmax, enum cmp cmp, double target,
		       const char *unit);

/* "12.3k/s" etc. into a static rotating buffer */
const char *fmt(const char *f, ...);

/* ---- children: they never run the harness's atexit clean-up ---- */

#define MAX_KIDS 64
extern pid_t kids[MAX_KIDS];
extern int nkids;
extern bool in_child;

/* Fatal in a child: _exit, never exit() (that would unload the engine
 * and remove the cgroups from under the parent). */
#define CFAIL(...)                                                         \
	do {                                                               \
		fprintf(stderr, "# bench child %d: ", getpid());           \
		fprintf(stderr, __VA_ARGS__);                              \
		fprintf(stderr, ": %s\n", strerror(errno));                \
		_exit(99);                                                 \
	} while (0)

pid_t bench_fork(void);

int bench_wait(pid_t pid);

void bench_kill(pid_t pid);

void child_enter_abs(const char *abs);

/* A sub-cgroup of ours ("app", "svcA"): in the engine's scope. */
void child_enter(const char *sub);

/* Where we started: outside the engine's scope (no engine at all). */
void child_home(void);

void *shared_mem(size_t len);

/* A start gate: children report ready, then wait for go. */
struct gate {
	int ready[2], go[2];
};

void gate_init(struct gate *g);

void gate_child_wait(struct gate *g);

/* Wait for n children to be ready (bounded), then let them go. */
bool gate_open(struct gate *g, int n);

void gate_close(struct gate *g);

/* ---- sockets (safe in children: no die) ---- */

socklen_t sin_of(struct sockaddr_in *sin, const char *ip,
			       uint16_t port);

/* Listen on ip:port (port 0: any); -1 on error. */
int tcp_listen(const char *ip, uint16_t port, int backlog);

uint16_t local_port(int fd);

/* Close with RST: no TIME_WAIT piles up across millions of connections. */
void close_rst(int fd);

/* ---- section 3's bulk client and origin (bench_bulk, bench_offload) ---- */

/*
 * The machine's limit, with the same code at both ends of every path: an
 * origin that receives with MSG_TRUNC, so TCP frees what arrived without
 * copying it to user space (the origin's copy is not a relay's cost:
 * 1.4x on its own), and 1 MiB writes (a little ahead of 128 KiB: fewer
 * syscalls and send-buffer waits). Socket buffers stay autotuned:
 * SO_SNDBUF/SO_RCVBUF of 4 MiB measured the same, and setting them turns
 * autotuning off; sendfile() from a memfd at the client was slower than
 * write(). docs/performance.md has the measurement.
 */
#define BULK_CHUNK (1024 * 1024)

/* Write a numbered stream (byte i is i % 251) for secs seconds, then
 * shut down the write side; the bytes sent. Safe in children. */
uint64_t bulk_send(int fd, double secs);

/*
 * Receive to EOF: the bytes received, *ns from the first byte to EOF.
 * check: copy the bytes and count those out of numbering in *bad (a
 * correctness pass); otherwise MSG_TRUNC.
 */
uint64_t bulk_receive(int fd, uint64_t *ns, bool check, uint64_t *bad);

/* ---- the network namespace for nftables REDIRECT ---- */

extern char bench_ns[64];
extern int bench_ns_fd;

void netns_delete(void);

/*
 * Create a namespace with lo up and the given nft script loaded inside it
 * (`ip netns exec NS nft -f -`): the host's tables are never touched.
 */
void netns_create(const char *tag, const char *nft_script);

void child_netns(void);

/* ---- clean-up: children first, then the namespace (atexit is LIFO, so
 * this runs before the harness removes the engine and the cgroups) ---- */

void bench_cleanup(void);

void bench_init(int argc, char **argv, const char *name);

/* ---- the engine, through the CLI ---- */

void service_add(const char *name, const char *ip,
			       uint16_t port, const char *exempt_sub,
			       const char *weight);

void rule_add(const char *svc, const char *dst, uint16_t dport);

long long status_int(const char *key);

/* map_entries(): the harness's (tests/e2e/harness.h). */

/* The same as bpftool sees it: elements of `bpftool -j map dump` (with
 * BTF each element is {"key":[bytes],"value":[bytes],"formatted":{..}}). */
long bpftool_entries(const char *name);

/* "memlock" bytes of a pinned map as `bpftool map show` reports it. */
long long bpftool_memlock(const char *name);

/* ---- kernel memory ---- */

long long meminfo_kb(const char *key);

#define MAX_SLABS 512
struct slabs {
	int n;
	char name[MAX_SLABS][64];
	long long bytes[MAX_SLABS];	/* active objects x object size */
};

void slabs_read(struct slabs *s);

long long slab_delta(const struct slabs *a,
				   const struct slabs *b, const char *name);

/* ---- syscalls per call: raw_syscalls:sys_enter, this thread only ---- */

int sc_open(void);

void sc_start(int fd);

/* Syscalls entered since sc_start, less the one that stops the count. */
long long sc_stop(int fd);

/* CPU busy time of the whole machine (all CPUs), in seconds. */
double cpu_busy_s(void);

/* ---- run time of the engine's own programs (BPF_ENABLE_STATS) ---- */

/*
 * BPF_ENABLE_STATS(RUN_TIME) turns on per-program run counts and run time
 * while the returned fd is open (the kernel turns it off when it closes).
 * It adds two clock reads to every BPF program run, so it is only used in
 * diagnostic passes, never while a ratio is being measured.
 */
#define MAX_PROGS 16
struct progstat {
	int n;
	char name[MAX_PROGS][32];
	__u64 cnt[MAX_PROGS], ns[MAX_PROGS];
};

/* The programs our engine attached: through its pinned cgroup links. */
void progs_read(struct progstat *ps);

/* Print runs and ns per unit of work (a connection) between a and b. */
void progs_print(const char *what, const struct progstat *a,
			       const struct progstat *b, double units);

/* Raise the soft limit on descriptors towards n (the hard limit caps it:
 * without CAP_SYS_RESOURCE it cannot be raised). Returns the new limit. */
rlim_t raise_nofile(rlim_t n);

/* How many descriptors one process may have (hard limit, or n if we may
 * raise it that far). */
rlim_t nofile_max(rlim_t n);

#endif /* LWFP_BENCH_H */
