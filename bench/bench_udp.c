// SPDX-License-Identifier: MIT
/*
 * Section 6: UDP request/response exchanges through lwfp against direct
 * ones, from a client in the engine's scope to an echo in this process.
 *
 * Variants, interleaved and rotated round by round:
 *   direct       to an echo at 127.0.0.2, not redirected (the baseline)
 *   lwfp         to 127.0.0.3, redirected to an echo service
 *   lwfp+query   to 127.0.0.4, redirected to an echo service that asks
 *                lwfp_query_udp_original_dst() for every datagram
 * each with one socket for all exchanges, and with a new socket per
 * exchange (a DNS stub resolver's pattern: every exchange starts a flow,
 * and its close ends it). The client and the echoes share one CPU: a
 * ping-pong across vCPUs measures the hypervisor's wake-up latency
 * (bimodal, 13k/s or 160k/s here), not the cost of the hooks.
 *
 *   bench_udp PATH-TO-lwfp
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>

#include "bench.h"

enum target { T_DIRECT, T_LWFP, T_QUERY, NTARGETS };
enum { V_PER_TARGET = 2, NVARIANTS = NTARGETS * V_PER_TARGET };

static const char *const target_ip[NTARGETS] = {
	"127.0.0.2", "127.0.0.3", "127.0.0.4",
};
static uint16_t target_port[NTARGETS];
static struct lwfp *eng;

struct echo {
	int fd;
	bool query;
};

static void pin_to_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int udp_socket_at(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;
	socklen_t len = sin_of(&sin, ip, port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, len))
		die("bind %s:%u: %s", ip, port, strerror(errno));
	return fd;
}

/* The echoes: every datagram back to its sender, from the address it was
 * sent to (so the client sees the original destination). */
static void *echo_main(void *arg)
{
	struct echo *echoes = arg;
	struct pollfd p[NTARGETS];
	char buf[512];

	pin_to_cpu0();
	for (int i = 0; i < NTARGETS; i++)
		p[i] = (struct pollfd){ .fd = echoes[i].fd, .events = POLLIN };
	for (;;) {
		if (poll(p, NTARGETS, -1) < 0 && errno != EINTR)
			return NULL;
		for (int i = 0; i < NTARGETS; i++) {
			struct sockaddr_storage peer, orig;
			socklen_t plen = sizeof(peer), olen = sizeof(orig);
			ssize_t n;

			if (!(p[i].revents & POLLIN))
				continue;
			n = recvfrom(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &plen);
			if (n < 0)
				continue;
			if (echoes[i].query &&
			    lwfp_query_udp_original_dst(eng, p[i].fd,
							(struct sockaddr *)&peer,
							plen, &orig, &olen))
				continue;	/* the client times out: counted */
			sendto(p[i].fd, buf, n, 0, (struct sockaddr *)&peer,
			       plen);
		}
	}
}

/* One exchange on fd; false on a lost or wrong reply. */
static bool exchange(int fd, const struct sockaddr_in *dst)
{
	struct sockaddr_in src;
	socklen_t slen = sizeof(src);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[64] = "query";

	if (sendto(fd, buf, 48, 0, (const struct sockaddr *)dst,
		   sizeof(*dst)) != 48 || poll(&p, 1, 1000) != 1 ||
	    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src,
		     &slen) != 48)
		return false;
	/* the reply must seem to come from where the query went */
	return src.sin_addr.s_addr == dst->sin_addr.s_addr &&
	       src.sin_port == dst->sin_port;
}

struct cmd {
	int variant;
	double seconds;
};

struct res {
	double per_s;
	long errors;
};

static struct res run_variant(int v, double seconds)
{
	enum target t = v / V_PER_TARGET;
	bool new_socket = v % V_PER_TARGET;
	struct res r = { 0 };
	struct sockaddr_in dst;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
	long done = 0;
	int fd = -1;

	sin_of(&dst, target_ip[t], target_port[t]);
	while (now_ns() < end) {
		for (int i = 0; i < 64; i++) {
			if (fd < 0)
				fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC,
					    0);
			if (exchange(fd, &dst))
				done++;
			else
				r.errors++;
			if (new_socket) {
				close(fd);
				fd = -1;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	r.per_s = done / ((now_ns() - t0) / 1e9);
	return r;
}

static void exchanger_main(int cmd_fd, int res_fd)
{
	struct cmd c;

	child_enter("app");
	pin_to_cpu0();
	while (read(cmd_fd, &c, sizeof(c)) == sizeof(c)) {
		struct res r = run_variant(c.variant, c.seconds);

		if (write(res_fd, &r, sizeof(r)) != sizeof(r))
			break;
	}
	_exit(0);
}

static const char *variant_name(int v)
{
	static const char *const names[NVARIANTS] = {
		"direct, one socket", "direct, a socket per exchange",
		"lwfp, one socket", "lwfp, a socket per exchange",
		"lwfp+query, one socket", "lwfp+query, a socket per exchange",
	};

	return names[v];
}

int main(int argc, char **argv)
{
	int rounds = env_int("BENCH_ROUNDS", 5), cmdp[2], resp[2];
	double t = env_double("BENCH_T", 1.0);
	static double per_s[NVARIANTS][32];
	long errors[NVARIANTS] = { 0 };
	struct echo echoes[NTARGETS];
	uint16_t svc_port[NTARGETS] = { 0 };
	pthread_t th;
	pid_t kid;
	double r[32];

	bench_init(argc, argv, "budp");
	if (rounds > 32)
		rounds = 32;
	engine_start();
	/* every destination is loopback; the echoes take fixed offsets from
	 * a free port so that they do not clash with other runs */
	for (int i = 0; i < NTARGETS; i++) {
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);
		const char *ip = i == T_DIRECT ? target_ip[i] : "127.0.0.1";

		echoes[i].fd = udp_socket_at(ip, 0);
		echoes[i].query = i == T_QUERY;
		getsockname(echoes[i].fd, (struct sockaddr *)&sin, &len);
		svc_port[i] = ntohs(sin.sin_port);
		target_port[i] = i == T_DIRECT ? svc_port[i] : 20000 + i;
	}
	for (int i = T_LWFP; i < NTARGETS; i++) {
		char name[16], listen[32], cg[128], dst[32], port[8];

		snprintf(name, sizeof(name), "echo%d", i);
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port[i]);
		snprintf(cg, sizeof(cg), "%s/svc", env.base);
		snprintf(dst, sizeof(dst), "%s/32", target_ip[i]);
		snprintf(port, sizeof(port), "%u", target_port[i]);
		if (lwfp_run("service", "add", name, "--listen", listen,
			     "--proto", "udp", "--cgroup", cg, NULL) ||
		    lwfp_run("rule", "add", "--service", name, "--proto", "udp",
			     "--dst", dst, "--dport", port, NULL))
			die("service/rule %s failed", name);
	}
	if (lwfp_open(env.pin_dir, &eng))
		die("lwfp_open");
	pthread_create(&th, NULL, echo_main, echoes);

	if (pipe(cmdp) || pipe(resp))
		die("pipe");
	kid = bench_fork();
	if (kid == 0) {
		close(cmdp[1]);
		close(resp[0]);
		exchanger_main(cmdp[0], resp[1]);
	}
	close(cmdp[0]);
	close(resp[1]);

	printf("# section 6: %d rounds x %.1fs per variant, 48-byte "
	       "exchanges\n", rounds, t);
	for (int k = 0; k < rounds; k++)
		for (int j = 0; j < NVARIANTS; j++) {
			int v = (j + k) % NVARIANTS;
			struct cmd c = { v, t };
			struct res res;

			if (write(cmdp[1], &c, sizeof(c)) != sizeof(c) ||
			    read(resp[0], &res, sizeof(res)) != sizeof(res))
				die("client died");
			per_s[v][k] = res.per_s;
			errors[v] += res.errors;
		}
	close(cmdp[1]);
	bench_wait(kid);

	for (int v = 0; v < NVARIANTS; v++)
		printf("# %-36s %9.0f/s (%.0f..%.0f), %ld lost or wrong\n",
		       variant_name(v), median(per_s[v], rounds),
		       vmin(per_s[v], rounds), vmax(per_s[v], rounds),
		       errors[v]);
	for (int v = V_PER_TARGET; v < NVARIANTS; v++) {
		int base = v % V_PER_TARGET;

		ratios(per_s[v], per_s[base], rounds, r);
		row("6", fmt("UDP exchanges, %s / direct", variant_name(v)),
		    fmt("%.0f/s", median(per_s[base], rounds)),
		    fmt("%.0f/s", median(per_s[v], rounds)),
		    median(r, rounds), vmin(r, rounds), vmax(r, rounds), INFO,
		    0, "x");
	}
	lwfp_close(eng);
	for (int v = 0; v < NVARIANTS; v++)
		if (errors[v])
			return 1;
	return 0;
}
