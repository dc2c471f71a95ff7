// SPDX-License-Identifier: MIT
/*
 * Is a buffer valid user memory? Winsock answers WSAEFAULT for a pointer
 * that is "not totally contained in a valid part of the user address
 * space", where dereferencing it here would crash. So it is asked of the
 * kernel instead, through a pipe of the layer's own: writev() of one byte
 * of each page into the pipe fails (EFAULT, or a short count) where a
 * page is not readable, and readv() of those bytes back to where they
 * came from fails where a page is not writable; a read-only page's byte
 * goes back to a scratch byte instead. Access rights are per page, so one
 * byte of each page a buffer touches is enough, and all the buffers of
 * one call take two syscalls: they sit on every overlapped
 * WSARecv/WSASend. (process_vm_readv() on ourselves answers the same but
 * pins the pages it reads: 1.7 us a call here, against 0.3-0.5 us for a
 * pipe's read or write.)
 *
 * The write probe writes back the byte it just read. A buffer handed to
 * a call belongs to the call, so no other thread should be writing it.
 *
 * The pipes (at most NSLOT, made as threads need them) have their
 * descriptors high (from PIPE_FD_MIN where the limit allows), out of the
 * way of a program's dup2() onto low numbers. Where no pipe can be had
 * (descriptors exhausted), process_vm_readv/writev answer instead:
 * slower, never wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#define BATCH	64	/* pages per syscall: well under PIPE_BUF */
#define PIPE_FD_MIN	512

static size_t page_size(void)
{
	static size_t size;
	size_t s = __atomic_load_n(&size, __ATOMIC_RELAXED);

	if (!s) {
		s = (size_t)sysconf(_SC_PAGESIZE);
		__atomic_store_n(&size, s, __ATOMIC_RELAXED);
	}
	return s;
}

/* A few pipes, each with its own lock: a thread keeps to the slot it was
 * given and moves on to a free one when that is busy, so threads probing
 * at once (an IOCP's workers) do not queue on one lock. Each pipe is made
 * on first use; a fork()ed child makes its own, as its parent's bytes are
 * not its own. */
#define NSLOT	8

struct slot {
	pthread_mutex_t lock;
	int fd[2];
} __attribute__((aligned(64)));		/* one cache line each */

static struct slot slots[NSLOT] = {
	[0 ... NSLOT - 1] = { PTHREAD_MUTEX_INITIALIZER, { -1, -1 } },
};
static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;
static unsigned int slot_next;
static __thread unsigned int slot_mine = -1U;

static void pipe_forget(void)
{
	for (int i = 0; i < NSLOT; i++) {
		if (slots[i].fd[0] >= 0) {
			close(slots[i].fd[0]);
			close(slots[i].fd[1]);
		}
		slots[i].fd[0] = slots[i].fd[1] = -1;
		pthread_mutex_init(&slots[i].lock, NULL);
	}
}

static void pipe_init(void)
{
	pthread_atfork(NULL, NULL, pipe_forget);
}

/* fd moved up to PIPE_FD_MIN or above, if the limit allows. */
static int fd_high(int fd)
{
	struct rlimit r;
	int high;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur <= 2 * PIPE_FD_MIN)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, PIPE_FD_MIN);
	if (high < 0)
		return fd;
	close(fd);
	return high;
}

/* Lock held: the slot's pipe, made on first use; false if it cannot be. */
static bool pipe_open(struct slot *sl)
{
	if (sl->fd[0] >= 0)
		return true;
	if (pipe2(sl->fd, O_CLOEXEC | O_NONBLOCK))
		return false;
	sl->fd[0] = fd_high(sl->fd[0]);
	sl->fd[1] = fd_high(sl->fd[1]);
	return true;
}

/* A slot of the pool, locked: this thread's own if free, else the first
 * free one, else this thread's own once it is free. */
static struct slot *slot_get(void)
{
	unsigned int mine = slot_mine;

	if (mine == -1U) {
		pthread_once(&pipe_once, pipe_init);
		mine = __atomic_fetch_add(&slot_next, 1, __ATOMIC_RELAXED);
		slot_mine = mine %= NSLOT;
	}
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &slots[(mine + i) % NSLOT];

		if (!pthread_mutex_trylock(&sl->lock))
			return sl;
	}
	pthread_mutex_lock(&slots[mine].lock);
	return &slots[mine];
}

/* Lock held: empty the pipe of what a failed probe left in it. */
static void pipe_drain(const struct slot *sl)
{
	char junk[BATCH];

	while (read(sl->fd[0], junk, sizeof(junk)) > 0)
		;
}

/* One byte of each page to probe, and whether it must be writable. */
struct batch {
	struct iovec page[BATCH];
	bool write[BATCH];
	int n;
};

/* Without a pipe: the same answer from process_vm_readv/writev on
 * ourselves (the write probe writes back the byte read). */
static bool probe_vm(const struct batch *b)
{
	unsigned char bytes[BATCH];
	struct iovec local[BATCH], wlocal[BATCH], wremote[BATCH];
	pid_t self = getpid();
	int nw = 0;
	ssize_t r;

	for (int i = 0; i < b->n; i++) {
		local[i].iov_base = &bytes[i];
		local[i].iov_len = 1;
	}
	r = process_vm_readv(self, local, b->n, b->page, b->n, 0);
	if (r < 0 && (errno == ENOSYS || errno == EPERM))
		return true;	/* cannot tell: let the call go on */
	if (r != b->n)
		return false;
	for (int i = 0; i < b->n; i++) {
		if (b->write[i]) {
			wlocal[nw] = local[i];
			wremote[nw++] = b->page[i];
		}
	}
	return !nw ||
	       process_vm_writev(self, wlocal, nw, wremote, nw, 0) == nw;
}

/* The pages of b: readable, and writable where asked? */
static bool probe_batch(const struct batch *b)
{
	unsigned char scratch[BATCH];
	struct iovec back[BATCH];
	struct slot *sl;
	int cancel;
	bool ok;

	for (int i = 0; i < b->n; i++) {
		back[i] = b->page[i];
		if (!b->write[i])
			back[i].iov_base = &scratch[i];
	}
	/* writev/readv are cancellation points: not with the lock held */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	sl = slot_get();
	if (pipe_open(sl)) {
		ok = writev(sl->fd[1], b->page, b->n) == b->n &&
		     readv(sl->fd[0], back, b->n) == b->n;
		if (!ok)
			pipe_drain(sl);
	} else {
		ok = probe_vm(b);
	}
	pthread_mutex_unlock(&sl->lock);
	pthread_setcancelstate(cancel, NULL);
	return ok;
}

/* Add span s's pages to b, probing each full batch: false if one fails. */
static bool add_span(struct batch *b, const struct ws_span *s)
{
	uintptr_t a = (uintptr_t)s->p, end, mask = page_size() - 1;

	if (!s->len)
		return true;
	if (!s->p || __builtin_add_overflow(a, s->len, &end))
		return false;
	while (a && a < end) {
		if (b->n == BATCH) {
			if (!probe_batch(b))
				return false;
			b->n = 0;
		}
		b->page[b->n].iov_base = (void *)a;
		b->page[b->n].iov_len = 1;
		b->write[b->n++] = s->write;
		a = (a | mask) + 1;	/* the next page; 0 past the top */
	}
	return true;
}

bool ws_mem_ok(const struct ws_span *spans, int n)
{
	struct batch b = { .n = 0 };
	int saved = errno;
	bool ok = true;

	for (int i = 0; i < n && ok; i++)
		ok = add_span(&b, &spans[i]);
	if (ok && b.n)
		ok = probe_batch(&b);
	errno = saved;
	return ok;
}

bool ws_mem_readable(const void *p, size_t len)
{
	struct ws_span s = { p, len, false };

	return ws_mem_ok(&s, 1);
}

bool ws_mem_writable(void *p, size_t len)
{
	struct ws_span s = { p, len, true };

	return ws_mem_ok(&s, 1);
}
