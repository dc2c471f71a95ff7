// SPDX-License-Identifier: MIT
/* The offload broker's setup and event loop (broker.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "broker_int.h"
#include "i18n.h"
#include "pin.h"
#include "pins.h"

#define PIN_VERDICT	PIN_PROG_PREFIX "lwfp_offload_verdict"

static int maps_open(struct broker *b, const char *pin_dir, char *err,
		     size_t errlen)
{
	struct { int *fd; const char *name; } m[] = {
		{ &b->map_peers, PIN_OFFLOAD_PEERS },
		{ &b->map_relay, PIN_OFFLOAD_RELAY },
		{ &b->map_ctl, PIN_OFFLOAD_CTL },
		{ &b->map_count, PIN_OFFLOAD_COUNT },
		{ &b->map_sk, PIN_SK },
		{ &b->map_config, PIN_CONFIG },
	};
	struct lwfp_config cfg;
	__u32 zero = 0;
	int fd = pin_open(pin_dir, PIN_VERDICT);

	if (fd < 0) {
		snprintf(err, errlen, fd == -ENOENT && !access(pin_dir, F_OK) ?
			 _("the engine at %s has no offloaded relay: this "
			   "kernel refused its program (lwfp status)") :
			 _("cannot open the engine at %s: %s"), pin_dir,
			 strerror(-fd));
		return fd == -ENOENT && !access(pin_dir, F_OK) ?
			       -EOPNOTSUPP : fd;
	}
	close(fd);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		*m[i].fd = pin_open(pin_dir, m[i].name);
		if (*m[i].fd < 0) {
			snprintf(err, errlen, _("cannot open the engine at "
				 "%s: %s"), pin_dir, strerror(-*m[i].fd));
			return *m[i].fd;
		}
	}
	if (bpf_map_lookup_elem(b->map_config, &zero, &cfg))
		return -errno;
	b->engine_id = cfg.engine_id;
	return 0;
}

/* Listen where the library looks for this engine's broker; refuse if
 * another broker of it is there. */
static int listen_open(struct broker *b, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *slash;
	int fd;

	if (offload_socket_path(b->engine_id, b->path, sizeof(b->path)) ||
	    strlen(b->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, b->path);
	slash = strrchr(sa.sun_path, '/');
	*slash = '\0';
	mkdir(sa.sun_path, 0755);
	*slash = '/';
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		snprintf(err, errlen, _("a broker of this engine runs already "
			 "(%s)"), b->path);
		b->path[0] = '\0';
		return -EADDRINUSE;
	}
	unlink(b->path);	/* a broker that died left it */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(b->path, 0666) || listen(fd, 128)) {
		int e = -errno;

		snprintf(err, errlen, _("cannot listen on %s: %s"), b->path,
			 strerror(-e));
		close(fd);
		return e;
	}
	b->listen_fd = fd;
	return 0;
}

/*
 * Entries a broker that died left: their sockets go back to plain TCP
 * (out of the relay map first). Their services' handles said -ESHUTDOWN
 * when it died; this broker cannot reach the sockets to reset them.
 */
static void stale_release(struct broker *b)
{
	__u64 key, next;
	int maps[] = { b->map_relay, b->map_peers, b->map_ctl, b->map_count };

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		while (!bpf_map_get_next_key(maps[i], NULL, &next)) {
			key = next;
			if (bpf_map_delete_elem(maps[i], &key))
				break;
		}
}

static int watch(struct broker *b, int fd, struct watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int setup(struct broker *b, const char *pin_dir, char *err,
		 size_t errlen)
{
	struct rlimit r;
	sigset_t set;
	int ret = maps_open(b, pin_dir, err, errlen);

	if (ret)
		return ret;
	ret = listen_open(b, err, errlen);
	if (ret)
		return ret;
	stale_release(b);
	/* three descriptors per flow, and flows are many */
	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	b->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_CLOEXEC | TFD_NONBLOCK);
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->signal_fd < 0 || b->timer_fd < 0 || b->epfd < 0)
		return -errno;
	b->w_listen.kind = W_LISTEN;
	b->w_timer.kind = W_TIMER;
	b->w_signal.kind = W_SIGNAL;
	ret = watch(b, b->listen_fd, &b->w_listen);
	if (!ret)
		ret = watch(b, b->timer_fd, &b->w_timer);
	if (!ret)
		ret = watch(b, b->signal_fd, &b->w_signal);
	return ret;
}

static void dispatch(struct broker *b, struct epoll_event *ev)
{
	struct watch *w = ev->data.ptr;

	switch (w->kind) {
	case W_LISTEN:
		broker_accept(b);
		break;
	case W_TIMER:
		broker_timer_tick(b);
		break;
	case W_SIGNAL:
		b->stop = true;
		break;
	case W_CLIENT:
		broker_request(b, w);
		break;
	case W_SOCK:
		if (!w->flow->dead)
			flow_sock_event(b, w->flow, w->side, ev->events);
		break;
	case W_HANDLE:
		if (!w->flow->dead)
			flow_handle_event(b, w->flow);
		break;
	}
}

/* The engine unloaded: its maps are gone from the pin directory. */
static bool engine_gone(const char *pin_dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, PIN_CONFIG);
	return access(path, F_OK) != 0;
}

static void teardown(struct broker *b)
{
	int fds[] = { b->listen_fd, b->timer_fd, b->signal_fd, b->epfd,
		      b->map_peers, b->map_relay, b->map_ctl, b->map_count,
		      b->map_sk, b->map_config };

	/* nobody passes FINs on once we are gone: end every flow now */
	while (b->flows) {
		socket_reset(b->flows->fd[0]);
		socket_reset(b->flows->fd[1]);
		flow_end(b, b->flows, -ESHUTDOWN);
	}
	if (b->path[0] && b->listen_fd >= 0)
		unlink(b->path);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int broker_run(const char *pin_dir, const struct broker_opts *o, char *err,
	       size_t errlen)
{
	struct broker b = {
		.o = o, .epfd = -1, .listen_fd = -1, .timer_fd = -1,
		.signal_fd = -1, .map_peers = -1, .map_relay = -1,
		.map_ctl = -1, .map_count = -1, .map_sk = -1,
		.map_config = -1,
	};
	int ret = setup(&b, pin_dir, err, errlen);
	time_t checked = 0;

	if (!ret && !o->quiet) {
		printf(_("lwfp broker: offloading for the engine at %s on "
			 "%s\n"), pin_dir, b.path);
		fflush(stdout);
	}
	while (!ret && !b.stop) {
		struct epoll_event ev[64];
		int n = epoll_wait(b.epfd, ev, 64, 1000);
		time_t now = time(NULL);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		for (int i = 0; i < n; i++)
			dispatch(&b, &ev[i]);
		flows_reap(&b);
		if (now != checked && engine_gone(pin_dir))
			b.stop = true;
		checked = now;
	}
	teardown(&b);
	flows_reap(&b);
	return ret;
}
