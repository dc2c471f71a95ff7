// SPDX-License-Identifier: MIT
/* See bench.h. */
#include "bench.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A sorted copy of v[0..n), to be freed. */
static double *sorted_copy(const double *v, int n)
{
	double *s = malloc(n * sizeof(*s));

	if (!s)
		die("out of memory");
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return s;
}

double pct(const double *v, int n, double p)
{
	double *s, r;
	int k;

	if (n <= 0)
		return NAN;
	s = sorted_copy(v, n);
	k = (int)ceil(p / 100.0 * n) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	r = s[k];
	free(s);
	return r;
}

double median(const double *v, int n)
{
	double *s, r;

	if (n <= 0)
		return NAN;
	s = sorted_copy(v, n);
	r = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return r;
}

double vmin(const double *v, int n)
{
	double m = INFINITY;

	for (int i = 0; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

double vmax(const double *v, int n)
{
	double m = -INFINITY;

	for (int i = 0; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

void ratios(const double *a, const double *b, int n, double *out)
{
	for (int i = 0; i < n; i++)
		out[i] = b[i] > 0 ? a[i] / b[i] : NAN;
}

int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : def;
}

double env_double(const char *name, double def)
{
	const char *v = getenv(name);

	return v && *v ? atof(v) : def;
}

void row_text(const char *sec, const char *what,
			    const char *base, const char *value, double ratio,
			    double rmin, double rmax, const char *unit,
			    const char *target, const char *met)
{
	char r[32] = "-", s[48] = "-";

	if (!isnan(ratio)) {
		snprintf(r, sizeof(r), "%.3g%s", ratio, unit);
		if (!isnan(rmin) && !isnan(rmax))
			snprintf(s, sizeof(s), "%.3g..%.3g", rmin, rmax);
	}
	printf("ROW|%s|%s|%s|%s|%s|%s|%s|%s\n", sec, what, base ? base : "-",
	       value ? value : "-", r, s, target ? target : "-",
	       met ? met : "-");
}

void row(const char *sec, const char *what, const char *base,
		       const char *value, double ratio, double rmin,
		       double rmax, enum cmp cmp, double target,
		       const char *unit)
{
	char t[32] = "-", met[48] = "-";
	const char *op = cmp == AT_LEAST ? ">=" : cmp == AT_MOST ? "<=" :
			 cmp == ABOVE ? ">" : "<";
	bool ok = false, lo_ok = false, hi_ok = false;

	if (cmp != INFO)
		snprintf(t, sizeof(t), "%s %g%s", op, target, unit);
	if (cmp != INFO && !isnan(ratio)) {
		switch (cmp) {
		case AT_LEAST: ok = ratio >= target; lo_ok = rmin >= target;
			       hi_ok = rmax >= target; break;
		case AT_MOST: ok = ratio <= target; lo_ok = rmin <= target;
			      hi_ok = rmax <= target; break;
		case ABOVE: ok = ratio > target; lo_ok = rmin > target;
			    hi_ok = rmax > target; break;
		case BELOW: ok = ratio < target; lo_ok = rmin < target;
			    hi_ok = rmax < target; break;
		default: break;
		}
		snprintf(met, sizeof(met), "%s%s", ok ? "yes" : "NO",
			 !isnan(rmin) && !isnan(rmax) && lo_ok != hi_ok ?
			 " (within spread)" : "");
	} else if (cmp != INFO) {
		snprintf(met, sizeof(met), "n/a");
	}
	row_text(sec, what, base, value, ratio, rmin, rmax, unit, t, met);
}

const char *fmt(const char *f, ...)
{
	static char bufs[16][160];
	static int k;
	char *out = bufs[k++ % 16];
	va_list ap;

	va_start(ap, f);
	vsnprintf(out, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return out;
}

pid_t kids[MAX_KIDS];
int nkids;
bool in_child;
pid_t bench_fork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		in_child = true;
		nkids = 0;
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return 0;
	}
	if (nkids < MAX_KIDS)
		kids[nkids++] = pid;
	return pid;
}

int bench_wait(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	for (int i = 0; i < nkids; i++)
		if (kids[i] == pid) {
			kids[i] = kids[--nkids];
			break;
		}
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

void bench_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	bench_wait(pid);
}

void child_enter_abs(const char *abs)
{
	char procs[PATH_MAX + 16];
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", abs);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || dprintf(fd, "%d\n", getpid()) < 0)
		CFAIL("enter cgroup %s", abs);
	close(fd);
}

void child_enter(const char *sub)
{
	char p[PATH_MAX];

	cg_path(p, sizeof(p), sub);
	mkdir(p, 0755);
	child_enter_abs(p);
}

void child_home(void)
{
	child_enter_abs(env.home_cg);
}

void *shared_mem(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu: %s", len, strerror(errno));
	memset(p, 0, len);
	return p;
}

void gate_init(struct gate *g)
{
	if (pipe2(g->ready, O_CLOEXEC) || pipe2(g->go, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
}

void gate_child_wait(struct gate *g)
{
	char c = 'r';

	if (write(g->ready[1], &c, 1) != 1 || read(g->go[0], &c, 1) != 1)
		CFAIL("gate");
}

bool gate_open(struct gate *g, int n)
{
	char c;

	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = g->ready[0], .events = POLLIN };

		if (poll(&p, 1, 20000) != 1 || read(g->ready[0], &c, 1) != 1)
			return false;
	}
	for (int i = 0; i < n; i++)
		if (write(g->go[1], "g", 1) != 1)
			return false;
	return true;
}

void gate_close(struct gate *g)
{
	close(g->ready[0]);
	close(g->ready[1]);
	close(g->go[0]);
	close(g->go[1]);
}

socklen_t sin_of(struct sockaddr_in *sin, const char *ip,
			       uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return sizeof(*sin);
}

int tcp_listen(const char *ip, uint16_t port, int backlog)
{
	struct sockaddr_in sin;
	socklen_t len = sin_of(&sin, ip, port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, len) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return 0;
	return ntohs(sin.sin_port);
}

void close_rst(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

char bench_ns[64];
int bench_ns_fd = -1;
void netns_delete(void)
{
	char cmd[128];

	if (!bench_ns[0] || in_child)
		return;
	if (bench_ns_fd >= 0)
		close(bench_ns_fd);
	bench_ns_fd = -1;
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", bench_ns);
	if (system(cmd))
		printf("# could not delete netns %s\n", bench_ns);
	bench_ns[0] = '\0';
}

void netns_create(const char *tag, const char *nft_script)
{
	char cmd[4096];

	snprintf(bench_ns, sizeof(bench_ns), "lwfp-bench-%s-%d", tag,
		 getpid());
	snprintf(cmd, sizeof(cmd),
		 "ip netns add %s && ip -n %s link set lo up && "
		 "ip netns exec %s nft -f - <<'EOF'\n%s\nEOF\n",
		 bench_ns, bench_ns, bench_ns, nft_script);
	if (system(cmd)) {
		netns_delete();
		die("cannot set up netns %s with the nft rules", bench_ns);
	}
	snprintf(cmd, sizeof(cmd), "/run/netns/%s", bench_ns);
	bench_ns_fd = open(cmd, O_RDONLY | O_CLOEXEC);
	if (bench_ns_fd < 0)
		die("open %s: %s", cmd, strerror(errno));
}

void child_netns(void)
{
	if (setns(bench_ns_fd, CLONE_NEWNET))
		CFAIL("setns %s", bench_ns);
}

void bench_cleanup(void)
{
	if (in_child)
		return;
	for (int i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	while (nkids)
		bench_wait(kids[0]);
	netns_delete();
}

void bench_init(int argc, char **argv, const char *name)
{
	env_init(argc, argv, name);
	atexit(bench_cleanup);
	printf("# %s: cgroup %s, pin dir %s\n", name, env.base, env.pin_dir);
}

void service_add(const char *name, const char *ip,
			       uint16_t port, const char *exempt_sub,
			       const char *weight)
{
	char listen[64], cg[128];
	const char *args[16];
	int n = 0;

	snprintf(listen, sizeof(listen), "%s:%u", ip, port);
	args[n++] = "service";
	args[n++] = "add";
	args[n++] = name;
	args[n++] = "--listen";
	args[n++] = listen;
	if (exempt_sub) {
		snprintf(cg, sizeof(cg), "%s/%s", env.base, exempt_sub);
		args[n++] = "--cgroup";
		args[n++] = cg;
	}
	if (weight) {
		args[n++] = "--weight";
		args[n++] = weight;
	}
	while (n < 16)
		args[n++] = NULL;
	if (lwfp_run(args[0], args[1], args[2], args[3], args[4], args[5],
		     args[6], args[7], args[8], NULL))
		die("service add %s failed", name);
}

void rule_add(const char *svc, const char *dst, uint16_t dport)
{
	char d[8];

	snprintf(d, sizeof(d), "%u", dport);
	if (lwfp_run("rule", "add", "--service", svc, "--dst", dst, "--dport",
		     d, NULL))
		die("rule add %s %s %u failed", svc, dst, dport);
}

long long status_int(const char *key)
{
	if (lwfp_run("--json", "status", NULL))
		return -1;
	return json_int(key);
}

long bpftool_entries(const char *name)
{
	char cmd[PATH_MAX + 64], buf[65536];
	long n = 0;
	bool json = false;
	size_t have = 0, got;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "bpftool -j map dump pinned %s/%s 2>&1",
		 env.pin_dir, name);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	/* count across reads, keeping a short tail for matches that span */
	while ((got = fread(buf + have, 1, sizeof(buf) - 1 - have, f)) > 0) {
		char *p = buf;

		have += got;
		buf[have] = '\0';
		if (!json)
			json = buf[0] == '[';
		while ((p = strstr(p, "{\"key\":[")))
			n++, p += 8;
		if (have > 7) {	/* shorter than a match: never twice */
			memmove(buf, buf + have - 7, 7);
			have = 7;
		}
	}
	pclose(f);
	return json ? n : -1;
}

long long bpftool_memlock(const char *name)
{
	char cmd[PATH_MAX + 64], line[1024];
	long long n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "bpftool map show pinned %s/%s 2>&1",
		 env.pin_dir, name);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "memlock ");

		if (p) {
			n = strtoll(p + 8, NULL, 10);
			break;
		}
	}
	if (f)
		pclose(f);
	return n;
}

long long meminfo_kb(const char *key)
{
	char line[256];
	long long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoll(line + kl + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

void slabs_read(struct slabs *s)
{
	char line[512], name[64];
	long long active, num, objsize;
	FILE *f = fopen("/proc/slabinfo", "r");

	s->n = 0;
	while (f && fgets(line, sizeof(line), f) && s->n < MAX_SLABS) {
		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %lld %lld %lld", name, &active, &num,
			   &objsize) != 4)
			continue;
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
		s->bytes[s->n++] = active * objsize;
	}
	if (f)
		fclose(f);
}

long long slab_delta(const struct slabs *a,
				   const struct slabs *b, const char *name)
{
	long long x = 0, y = 0;

	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->name[i], name))
			x = a->bytes[i];
	for (int i = 0; i < b->n; i++)
		if (!strcmp(b->name[i], name))
			y = b->bytes[i];
	return y - x;
}

int sc_open(void)
{
	static const char *const ids[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};
	struct perf_event_attr a = { .type = PERF_TYPE_TRACEPOINT,
				     .size = sizeof(a), .disabled = 1 };
	long long id = -1;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]) && id < 0; i++) {
		FILE *f = fopen(ids[i], "r");

		if (f && fscanf(f, "%lld", &id) != 1)
			id = -1;
		if (f)
			fclose(f);
	}
	if (id < 0)
		return -1;
	a.config = id;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1,
		       PERF_FLAG_FD_CLOEXEC);
}

void sc_start(int fd)
{
	if (fd < 0)
		return;
	ioctl(fd, PERF_EVENT_IOC_RESET, 0);
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}

long long sc_stop(int fd)
{
	long long v = -1;

	if (fd < 0)
		return -1;
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	return v - 1;
}

double cpu_busy_s(void)
{
	unsigned long long u, n, s, i, w, irq, sirq, st;
	FILE *f = fopen("/proc/stat", "r");
	double r = NAN;

	if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u,
			&n, &s, &i, &w, &irq, &sirq, &st) == 8)
		r = (double)(u + n + s + irq + sirq + st) /
		    sysconf(_SC_CLK_TCK);
	if (f)
		fclose(f);
	return r;
}

void progs_read(struct progstat *ps)
{
	char p[PATH_MAX + 300];
	struct dirent *de;
	DIR *d = opendir(env.pin_dir);

	ps->n = 0;
	while (d && (de = readdir(d)) && ps->n < MAX_PROGS) {
		struct bpf_link_info li = { 0 };
		struct bpf_prog_info pi = { 0 };
		__u32 len = sizeof(li);
		int fd, pfd;

		if (strncmp(de->d_name, "link_", 5))
			continue;
		snprintf(p, sizeof(p), "%s/%s", env.pin_dir, de->d_name);
		fd = bpf_obj_get(p);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &li, &len) &&
		    (pfd = bpf_prog_get_fd_by_id(li.prog_id)) >= 0) {
			len = sizeof(pi);
			if (!bpf_obj_get_info_by_fd(pfd, &pi, &len)) {
				snprintf(ps->name[ps->n], sizeof(ps->name[0]),
					 "%s", pi.name);
				ps->cnt[ps->n] = pi.run_cnt;
				ps->ns[ps->n] = pi.run_time_ns;
				ps->n++;
			}
			close(pfd);
		}
		close(fd);
	}
	if (d)
		closedir(d);
}

void progs_print(const char *what, const struct progstat *a,
			       const struct progstat *b, double units)
{
	double total = 0;

	for (int i = 0; i < b->n; i++) {
		__u64 c0 = 0, n0 = 0, c, t;

		for (int j = 0; j < a->n; j++)
			if (!strcmp(a->name[j], b->name[i])) {
				c0 = a->cnt[j];
				n0 = a->ns[j];
			}
		c = b->cnt[i] - c0;
		t = b->ns[i] - n0;
		if (!c)
			continue;
		total += t / units;
		printf("#   %s: %-22s %5.2f runs x %6.0f ns = %6.0f ns per "
		       "connection\n", what, b->name[i], c / units,
		       (double)t / c, t / units);
	}
	printf("#   %s: all engine programs %.0f ns per connection\n", what,
	       total);
}

rlim_t raise_nofile(rlim_t n)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = n;
	if (rl.rlim_max < n && rl.rlim_max != RLIM_INFINITY) {
		struct rlimit want = { n, n };

		if (!setrlimit(RLIMIT_NOFILE, &want))
			return n;
		rl.rlim_cur = rl.rlim_max;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}

rlim_t nofile_max(rlim_t n)
{
	struct rlimit rl, want = { n, n };

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= n)
		return n;
	/* try in a throwaway child: the parent keeps its limits */
	{
		pid_t pid = fork();
		int st;

		if (pid == 0)
			_exit(setrlimit(RLIMIT_NOFILE, &want) ? 1 : 0);
		if (pid > 0 && waitpid(pid, &st, 0) == pid &&
		    WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return n;
	}
	return rl.rlim_max;
}

/* ---- section 3's bulk client and origin ---- */

#define BULK_PERIOD 251	/* prime: a stream offset shows in every byte */

uint64_t bulk_send(int fd, double secs)
{
	static char buf[BULK_CHUNK + BULK_PERIOD];
	uint64_t deadline = now_ns() + (uint64_t)(secs * 1e9), sent = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i % BULK_PERIOD);
	while (now_ns() < deadline) {
		ssize_t n = write(fd, buf + sent % BULK_PERIOD, BULK_CHUNK);

		if (n <= 0)
			break;
		sent += n;
	}
	shutdown(fd, SHUT_WR);
	return sent;
}

uint64_t bulk_receive(int fd, uint64_t *ns, bool check, uint64_t *bad)
{
	static char buf[BULK_CHUNK];
	uint64_t t0 = 0, bytes = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), check ? 0 : MSG_TRUNC)) > 0) {
		if (!t0)
			t0 = now_ns();
		for (ssize_t i = 0; check && i < n; i++)
			if ((unsigned char)buf[i] != (bytes + i) % BULK_PERIOD)
				(*bad)++;
		bytes += n;
	}
	*ns = t0 ? now_ns() - t0 : 0;
	return bytes;
}
