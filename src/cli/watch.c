// SPDX-License-Identifier: MIT
/*
 * See watch.h. The file's directory is watched, not the file: a
 * Kubernetes ConfigMap volume swaps its ..data symlink to a new
 * directory, and editors write a new file and rename it over the old
 * one; neither writes to the file that was watched.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>

#include "i18n.h"
#include "loader.h"
#include "watch.h"

/* A burst of events (a ..data swap is five) is over when none came for
 * this long; then the file is read once. */
#define SETTLE_MS	100
#define SETTLE_MAX	20	/* settles: 2 s at most after a first change */
/* Read it again anyway this often: an event the queue lost, a directory
 * that was replaced and is watched again. Unchanged text is not applied. */
#define RESCAN_MS	30000
/* The program whose kernel id says which load or upgrade the engine
 * runs: an upgrade in place gives it a new one. */
#define OWN_PROG	"lwfp_connect4"

#define DIR_EVENTS	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
			 IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | \
			 IN_MOVE_SELF | IN_ONLYDIR)

struct watcher {
	struct cli *cli;
	const struct watch_args *wa;
	const char *path;
	char dir[PATH_MAX];
	int ifd, wd, sfd;
	char *last;		/* the text tried last (NULL: unreadable) */
	size_t last_len;
	bool tried;
	char last_err[1024];	/* why it failed, "" if it applied */
	__u32 prog_id;		/* OWN_PROG's id when we loaded/upgraded */
	bool upgrade;		/* --upgrade, until an apply succeeds */
};

enum { EV_CHANGED, EV_STOP, EV_HUP };

static void watch_dir(struct watcher *w)
{
	if (w->wd >= 0)
		return;
	w->wd = inotify_add_watch(w->ifd, w->dir, DIR_EVENTS);
	if (w->wd < 0)
		fprintf(stderr, _("lwfp: cannot watch %s: %s (reading it every "
			"%d s)\n"), w->dir, strerror(errno), RESCAN_MS / 1000);
}

static bool same_text(const struct watcher *w, const char *text, size_t len)
{
	if (!w->tried || !text != !w->last)
		return false;
	return !text || (len == w->last_len && !memcmp(text, w->last, len));
}

/* Is an engine loaded at the pin directory? One unloaded behind the
 * watcher's back is loaded again, as the file says. */
static bool engine_running(const struct watcher *w)
{
	__u32 id;

	return !engine_prog_id(w->cli->pin_dir, OWN_PROG, &id);
}

/* Apply the file if its text is not the one applied last, or the engine
 * is gone (or force);
 * text that failed is tried again (what failed may have been the
 * engine's or the system's), its error told again only if it changed.
 * An error changes nothing: the engine keeps what it holds. */
static void try_apply(struct watcher *w, bool force)
{
	char err[sizeof(w->last_err)];
	size_t len = 0;
	char *text = apply_slurp(w->path, &len, err, sizeof(err));
	int ret;

	if (!force && !w->last_err[0] && same_text(w, text, len) &&
	    engine_running(w)) {
		free(text);
		return;
	}
	free(w->last);
	w->last = text;
	w->last_len = len;
	w->tried = true;
	ret = text ? apply_text(w->cli, w->path, text, len, w->upgrade, err,
				sizeof(err)) : -EIO;
	/* a first version that fails must not cost the upgrade: without it
	 * this watcher would not own the engine, and the pod it replaces
	 * would unload it on the way out (--unload-on-exit) */
	if (ret >= 0)
		w->upgrade = false;
	if (ret < 0 && (force || strcmp(err, w->last_err)))
		fprintf(stderr, _("lwfp: %s; the engine keeps the configuration "
			"it holds\n"), err);
	snprintf(w->last_err, sizeof(w->last_err), "%s", ret < 0 ? err : "");
	if (ret > 0 && engine_prog_id(w->cli->pin_dir, OWN_PROG,
					   &w->prog_id))
		w->prog_id = 0;
	if (ret >= 0 && w->wa->ready_file) {
		FILE *f = fopen(w->wa->ready_file, "w");

		if (f)
			fclose(f);
	}
	fflush(stdout);
}

/* Read the queued events; note a watch the directory's removal ended. */
static void drain(struct watcher *w)
{
	char buf[4096] __attribute__((aligned(8)));
	const struct inotify_event *ev;
	ssize_t n;

	while ((n = read(w->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->wd != w->wd)
				continue;
			if (ev->mask & IN_MOVE_SELF)	/* it follows the old one */
				inotify_rm_watch(w->ifd, w->wd);
			if (ev->mask & (IN_IGNORED | IN_MOVE_SELF))
				w->wd = -1;
		}
	}
}

/* A signal read from the signal descriptor. */
static int on_signal(struct watcher *w)
{
	struct signalfd_siginfo si;

	if (read(w->sfd, &si, sizeof(si)) != sizeof(si))
		return EV_CHANGED;
	return si.ssi_signo == SIGHUP ? EV_HUP : EV_STOP;
}

/* Wait for a change (and for its burst to end), or a signal. */
static int wait_change(struct watcher *w)
{
	struct pollfd p[2] = { { .fd = w->sfd, .events = POLLIN },
			       { .fd = w->ifd, .events = POLLIN } };
	int timeout = RESCAN_MS, n, settles = 0;
	bool changed = false;

	for (;;) {
		n = poll(p, 2, timeout);
		if (n < 0 && errno != EINTR)
			return EV_STOP;
		if (n > 0 && p[0].revents)
			return on_signal(w);
		/* a burst settles, but a folder that never rests is read
		 * within SETTLE_MAX of its first change all the same */
		if (n > 0 && p[1].revents && settles++ < SETTLE_MAX) {
			drain(w);
			changed = true;
			timeout = SETTLE_MS;
			continue;
		}
		if (n > 0 && p[1].revents)
			drain(w);
		if (n == 0 || changed)
			return EV_CHANGED;
	}
}

/* On the way out, with --unload-on-exit: unload the engine if this
 * watcher loaded or upgraded it and no other loader upgraded it since (a
 * DaemonSet's next pod, started before this one is stopped). */
static int finish(struct watcher *w)
{
	const char *pin = w->cli->pin_dir;
	char err[512];
	__u32 now;

	if (w->wa->ready_file)
		unlink(w->wa->ready_file);
	if (!w->wa->unload_on_exit)
		return 0;
	if (!w->prog_id) {
		printf(_("lwfp: left the engine at %s loaded: this watcher did "
		       "not load it\n"), pin);
		return 0;
	}
	if (engine_prog_id(pin, OWN_PROG, &now) || now != w->prog_id) {
		printf(_("lwfp: left the engine at %s as it is: another loader "
		       "has upgraded or unloaded it since\n"), pin);
		return 0;
	}
	if (engine_unload(pin, err, sizeof(err)))
		return cli_error("%s", err);
	printf(_("lwfp: unloaded the engine at %s\n"), pin);
	return 0;
}

static int watch_setup(struct watcher *w)
{
	char dir[PATH_MAX];
	sigset_t set;

	snprintf(dir, sizeof(dir), "%s", w->path);
	snprintf(w->dir, sizeof(w->dir), "%s", dirname(dir));
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return cli_error(_("cannot block signals: %s"), strerror(errno));
	w->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	w->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->sfd < 0 || w->ifd < 0)
		return cli_error(_("cannot watch %s: %s"), w->path,
				 strerror(errno));
	w->wd = -1;
	watch_dir(w);
	return 0;
}

int apply_watch(struct cli *cli, const char *path,
		const struct watch_args *wa)
{
	struct watcher w = { .cli = cli, .wa = wa, .path = path,
			     .ifd = -1, .sfd = -1 };
	int ev, ret;

	/* a pipe or a container's log: each line as it happens */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = watch_setup(&w);
	if (!ret) {
		printf(_("lwfp: watching %s\n"), path);
		w.upgrade = wa->upgrade;
		try_apply(&w, true);
		while ((ev = wait_change(&w)) != EV_STOP) {
			watch_dir(&w);
			try_apply(&w, ev == EV_HUP);
		}
		ret = finish(&w);
	}
	if (w.ifd >= 0)
		close(w.ifd);
	if (w.sfd >= 0)
		close(w.sfd);
	free(w.last);
	return ret;
}
