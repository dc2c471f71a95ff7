// SPDX-License-Identifier: MIT
/*
 * Is a buffer valid user memory? Winsock answers WSAEFAULT for a pointer
 * that is "not totally contained in a valid part of the user address
 * space", where dereferencing it here would crash. So it is asked of the
 * kernel instead: process_vm_readv() on ourselves fails with EFAULT for
 * memory that is not readable, process_vm_writev() for memory that is
 * not writable. Access rights are per page, so one byte of each page the
 * buffer touches is enough.
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

/* The pages remote[0..n) name: readable (and writable if write)? */
static bool probe_batch(const struct iovec *remote, int n, bool write)
{
	static int vm_unavailable;
	unsigned char bytes[BATCH];
	struct iovec local[BATCH];
	ssize_t r;

	if (__atomic_load_n(&vm_unavailable, __ATOMIC_RELAXED))
		return probe_pipe(remote, n);
	for (int i = 0; i < n; i++) {
		local[i].iov_base = &bytes[i];
		local[i].iov_len = 1;
	}
	r = process_vm_readv(getpid(), local, n, remote, n, 0);
	if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
		__atomic_store_n(&vm_unavailable, 1, __ATOMIC_RELAXED);
		return probe_pipe(remote, n);
	}
	if (r != n)
		return false;
	if (write && process_vm_writev(getpid(), local, n, remote, n, 0) != n)
		return false;
	return true;
}

static bool probe(const void *p, size_t len, bool write)
{
	uintptr_t a = (uintptr_t)p, end, mask = page_size() - 1;
	struct iovec remote[BATCH];
	int saved = errno, n;
	bool ok = true;

	if (!len)
		return true;
	if (!p || __builtin_add_overflow(a, len, &end))
		return false;
	while (ok && a < end) {
		for (n = 0; n < BATCH && a && a < end; n++) {
			remote[n].iov_base = (void *)a;
			remote[n].iov_len = 1;
			/* the next page; 0 past the top */
			a = (a | mask) + 1;
		}
		ok = probe_batch(remote, n, write);
		if (!a)
			break;
	}
	errno = saved;
	return ok;
}

bool ws_mem_readable(const void *p, size_t len)
{
	return probe(p, len, false);
}

bool ws_mem_writable(void *p, size_t len)
{
	return probe(p, len, true);
}
