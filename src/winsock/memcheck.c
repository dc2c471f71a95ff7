// SPDX-License-Identifier: MIT
/*
 * Is a buffer valid user memory? Winsock answers WSAEFAULT for a pointer
 * that is "not totally contained in a valid part of the user address
 * space", where dereferencing it here would crash. So it is asked of the
 * kernel instead: process_vm_readv() on ourselves fails with EFAULT for
 * memory that is not readable, process_vm_writev() for memory that is
 * not writable. Access rights are per page, so one byte of each page the
 * buffer touches is enough, and all the buffers of one call are probed
 * in one process_vm_readv() (and one process_vm_writev() if any must be
 * writable), as these syscalls sit on every overlapped WSARecv/WSASend.
 *
 * The write probe writes back the byte it just read. A buffer handed to
 * a call belongs to the call, so no other thread should be writing it.
 *
 * Where process_vm_* is not allowed (seccomp), readability is probed by
 * write()ing the byte into a pipe, and writable memory is taken to be
 * memory that is readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#define BATCH	64	/* pages per syscall */

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

static bool probe_pipe(const struct iovec *remote, int n)
{
	int p[2];
	bool ok = true;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return true;	/* cannot tell: let the call go on */
	for (int i = 0; i < n && ok; i++) {
		ok = write(p[1], remote[i].iov_base, 1) == 1;
		if (ok && read(p[0], &c, 1) != 1)
			ok = false;
	}
	close(p[0]);
	close(p[1]);
	return ok;
}

/* Our pid, without a syscall per probe; a fork()ed child asks again. */
static pid_t self_pid;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void self_forget(void)
{
	__atomic_store_n(&self_pid, 0, __ATOMIC_RELAXED);
}

static void self_init(void)
{
	pthread_atfork(NULL, NULL, self_forget);
}

static pid_t self(void)
{
	pid_t pid = __atomic_load_n(&self_pid, __ATOMIC_RELAXED);

	if (!pid) {
		pthread_once(&self_once, self_init);
		pid = getpid();
		__atomic_store_n(&self_pid, pid, __ATOMIC_RELAXED);
	}
	return pid;
}

/* One byte of each page to probe, and whether it must be writable. */
struct batch {
	struct iovec page[BATCH];
	bool write[BATCH];
	int n;
};

/* The pages of b: readable, and writable where asked? Two syscalls at
 * most for the whole batch. */
static bool probe_batch(const struct batch *b)
{
	static int vm_unavailable;
	unsigned char bytes[BATCH];
	struct iovec local[BATCH], wlocal[BATCH], wremote[BATCH];
	int nw = 0;
	ssize_t r;

	if (__atomic_load_n(&vm_unavailable, __ATOMIC_RELAXED))
		return probe_pipe(b->page, b->n);
	for (int i = 0; i < b->n; i++) {
		local[i].iov_base = &bytes[i];
		local[i].iov_len = 1;
	}
	r = process_vm_readv(self(), local, b->n, b->page, b->n, 0);
	if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
		__atomic_store_n(&vm_unavailable, 1, __ATOMIC_RELAXED);
		return probe_pipe(b->page, b->n);
	}
	if (r != b->n)
		return false;
	for (int i = 0; i < b->n; i++) {
		if (!b->write[i])
			continue;
		wlocal[nw] = local[i];
		wremote[nw++] = b->page[i];
	}
	return !nw || process_vm_writev(self(), wlocal, nw, wremote, nw, 0) ==
		      nw;
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
