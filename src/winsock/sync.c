// SPDX-License-Identifier: MIT
/*
 * The lock behind every piece of shared state of the Winsock layer, the
 * condition that event waits and alertable waits sleep on, and the one
 * WSAGetOverlappedResult sleeps on. Any change a waiter may care about
 * (an event set, an APC queued) broadcasts; waiters re-check. An
 * operation's end wakes only the threads waiting for operations: it
 * happens on every WSARecv/WSASend, and waking an unrelated waiter (a
 * main thread in WaitForSingleObject) each time costs the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int waiting;	/* threads in ws_wait(): no one, no broadcast */
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done_waiting;	/* ... in ws_wait_done() */

void ws_lock(void)
{
	pthread_mutex_lock(&lock);
}

void ws_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void ws_broadcast(void)
{
	if (waiting)
		pthread_cond_broadcast(&cond);
}

void ws_broadcast_done(void)
{
	if (done_waiting)
		pthread_cond_broadcast(&done_cond);
}

void ws_wait_done(void)
{
	done_waiting++;
	pthread_cond_wait(&done_cond, &lock);
	done_waiting--;
}

void ws_sync_atfork_child(void)
{
	/* the parent's waiters did not come along */
	pthread_cond_init(&cond, NULL);
	pthread_cond_init(&done_cond, NULL);
	waiting = done_waiting = 0;
}

void ws_deadline(struct timespec *ts, DWORD ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

bool ws_wait(const struct timespec *deadline)
{
	bool woken;

	waiting++;
	woken = ws_wait_on(&cond, deadline);
	waiting--;
	return woken;
}

void ws_wait_cond(pthread_cond_t *c)
{
	pthread_cond_wait(c, &lock);
}

bool ws_wait_on(pthread_cond_t *c, const struct timespec *deadline)
{
	if (!deadline) {
		pthread_cond_wait(c, &lock);
		return true;
	}
	return pthread_cond_clockwait(c, &lock, CLOCK_MONOTONIC, deadline) !=
	       ETIMEDOUT;
}

bool ws_by_fd_grow(void **array, int *n, int fd, size_t size)
{
	int want = *n ? *n : 64;
	char *a;

	while (want <= fd)
		want *= 2;
	a = realloc(*array, (size_t)want * size);
	if (!a)
		return false;
	memset(a + (size_t)*n * size, 0, (size_t)(want - *n) * size);
	*array = a;
	*n = want;
	return true;
}
