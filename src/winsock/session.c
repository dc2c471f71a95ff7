// SPDX-License-Identifier: MIT
/*
 * WSAStartup/WSACleanup: the session, counted as on Windows. The engine
 * is opened on first use inside a session (from $LWFP_PIN_DIR, or the
 * default pin directory) and closed by the last WSACleanup, so a process
 * that runs several sessions sees an engine loaded or reloaded between
 * them. A failed open is retried on the next call: the engine may come.
 *
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#ifndef LWFP_VERSION
#define LWFP_VERSION "0"
#endif

struct ws_engine {
	struct lwfp *lwfp;
	int refs;		/* atomic */
};

/* Held across the whole of WSAStartup/WSACleanup, worker join included.
 * Nothing the worker does takes it. */
static pthread_mutex_t startup_lock = PTHREAD_MUTEX_INITIALIZER;
static int startup_count;		/* under startup_lock */
static struct ws_engine *engine;	/* under startup_lock */
static int started;			/* atomic mirror of startup_count > 0 */

bool ws_started(void)
{
	return __atomic_load_n(&started, __ATOMIC_ACQUIRE);
}

int ws_engine_get(struct ws_engine **out)
{
	struct lwfp *l;
	int err = 0;

	pthread_mutex_lock(&startup_lock);
	if (!startup_count) {
		err = WSANOTINITIALISED;
	} else if (!engine) {
		err = lwfp_open(NULL, &l);
		if (!err) {
			engine = malloc(sizeof(*engine));
			if (engine) {
				engine->lwfp = l;
				engine->refs = 1;	/* the session's */
			} else {
				lwfp_close(l);
			}
		}
		err = err ? ws_from_lwfp(err) : engine ? 0 : WSAENOBUFS;
	}
	if (!err) {
		__atomic_add_fetch(&engine->refs, 1, __ATOMIC_RELAXED);
		*out = engine;
	}
	pthread_mutex_unlock(&startup_lock);
	return err;
}

struct lwfp *ws_engine_lwfp(const struct ws_engine *e)
{
	return e->lwfp;
}

void ws_engine_put(struct ws_engine *e)
{
	if (e && !__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL)) {
		lwfp_close(e->lwfp);
		free(e);
	}
}

/*
 * Windows has no SIGPIPE: send() on a connection the peer closed fails
 * with an error there. Under its default action the signal would kill a
 * Windows source instead, so the first WSAStartup ignores it, unless the
 * application has chosen something for it already.
 */
static void no_sigpipe(void)
{
	struct sigaction sa;

	if (!sigaction(SIGPIPE, NULL, &sa) && !(sa.sa_flags & SA_SIGINFO) &&
	    sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static void fill_wsadata(LPWSADATA d, WORD version)
{
	WSADATA w = {
		.wVersion = version,
		.wHighVersion = MAKEWORD(2, 2),
	};

	snprintf(w.szDescription, sizeof(w.szDescription),
		 "lwfp-winsock %s: WFP redirect services on Linux",
		 LWFP_VERSION);
	snprintf(w.szSystemStatus, sizeof(w.szSystemStatus), "Running");
	memcpy(d, &w, sizeof(w));
}

WS_EXPORT int WSAAPI WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData)
{
	BYTE major = LOBYTE(wVersionRequested);
	BYTE minor = HIBYTE(wVersionRequested);
	struct ws_call call;
	WORD version;
	int err = ws_call_enter(&call);

	if (err)
		return err;	/* WSAStartup returns its error */
	if (!lpWSAData || !ws_mem_writable(lpWSAData, sizeof(*lpWSAData))) {
		err = WSAEFAULT;
		goto out;
	}
	if (major < 1) {
		fill_wsadata(lpWSAData, MAKEWORD(2, 2));
		err = WSAVERNOTSUPPORTED;
		goto out;
	}
	version = major > 2 || (major == 2 && minor > 2) ? MAKEWORD(2, 2) :
							   wVersionRequested;
	fill_wsadata(lpWSAData, version);

	pthread_mutex_lock(&startup_lock);
	if (!startup_count++) {
		no_sigpipe();
		ws_ops_begin();
		__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&startup_lock);
out:
	ws_call_leave(&call, false);
	return err;
}

WS_EXPORT int WSAAPI WSACleanup(void)
{
	struct ws_engine *last = NULL;
	struct ws_call call;
	int err = 0;

	if (!ws_call_begin(&call))
		return SOCKET_ERROR;
	pthread_mutex_lock(&startup_lock);
	if (!startup_count) {
		err = WSANOTINITIALISED;
	} else if (!--startup_count) {
		__atomic_store_n(&started, 0, __ATOMIC_RELEASE);
		ws_ops_end();
		last = engine;
		engine = NULL;
	}
	pthread_mutex_unlock(&startup_lock);
	ws_engine_put(last);
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? SOCKET_ERROR : 0;
}

/* fork(): the child gets both locks in a known state, and no worker. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&startup_lock);
	ws_lock();
}

static void atfork_parent(void)
{
	ws_unlock();
	pthread_mutex_unlock(&startup_lock);
}

static void atfork_child(void)
{
	ws_sync_atfork_child();
	ws_unlock();
	pthread_mutex_unlock(&startup_lock);
	ws_ops_atfork_child();
}

__attribute__((constructor)) static void session_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}
