/* SPDX-License-Identifier: MIT */
/* What the Winsock conformance tests share (tests/e2e/winsock/). */
#ifndef LWFP_WS_TEST_H
#define LWFP_WS_TEST_H

#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <time.h>

#include "harness.h"

#include <winsock2.h>
#include <ws2spi.h>
#include <mstcpip.h>
#include <mswsock.h>

#include "../../../src/winsock/testhooks.h"

#define Q_REC	SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS
#define Q_CTX	SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT
#define SET_REC	SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS
#define UNSET	0xdeadbeefu
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Fatal in a test that has something to clean up: go there. */
#define REQUIRE_OR(label, cond, ...)                                       \
	do {                                                               \
		bool ok_ = (cond);                                         \
		CHECK(ok_ && #cond, __VA_ARGS__);                          \
		if (!ok_)                                                  \
			goto label;                                        \
	} while (0)

static const char rule_ctx[] = "tenant=blue; policy=inspect";

struct res {
	int rc;
	int err;
	DWORD bytes;
};

/*
 * A redirected flow: a service (this process, not exempt: its own
 * connects to the original destination loop back unless they carry
 * records), a rule for 127.0.0.1:orig_port, an origin listening there,
 * and a client in our "app" cgroup that connected, sent "hold" and
 * waits for "bye".
 */
struct flow {
	int lfd, origin, a;
	uint16_t svc_port, orig_port;
	pid_t client;
	struct sockaddr_storage orig;
	socklen_t orig_len;
	unsigned char rec[LWFP_RECORDS_LEN];
};

struct alert_job {
	DWORD ret;
};

/* WSPIoctl: the routine runs on the thread lpThreadId names. */
struct spi_job {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stage;
	WSATHREADID tid;
	DWORD ret;
	int apc_ctx;
	int close_rc, close_again_rc, close_again_err;
};

/*
 * A redirected UDP flow: the service socket (this process, not exempt;
 * SO_REUSEADDR so that a per-flow socket can share its address), a rule
 * for orig_ip:orig_port where nothing listens, and a client in "app"
 * that sends "d0".."dN-1" there, then waits for "bye", which must come
 * from the original destination.
 */
struct uflow {
	int svc, level;
	const char *svc_ip, *orig_ip;
	uint16_t svc_port, orig_port;
	pid_t client;
	struct sockaddr_storage orig, peer;
	socklen_t orig_len, peer_len;
	LPFN_WSARECVMSG recvmsg_fn;
};

struct urecv {
	int rc, err;
	DWORD bytes;
	WSAMSG msg;
	char data[64];
	struct sockaddr_storage from;
	/* aligned, as a Windows source would declare it */
	union {
		WSACMSGHDR align;
		char buf[WSA_CMSG_SPACE(LWFP_RECORDS_LEN) +
			 WSA_CMSG_SPACE(LWFP_CONTEXT_MAX_LEN) + 64];
	} control;
	WSABUF wb;
	/* what came */
	const unsigned char *rec, *ctx;
	size_t rec_len, ctx_len;
	int others;
};

/* What a completion routine saw. */
struct seen {
	int calls;
	DWORD error, bytes, flags;
	LPWSAOVERLAPPED ov;
	pthread_t thread;
};

extern struct seen seen;
extern int threads_before;
extern pthread_barrier_t barrier;
extern int inprogress_seen;
extern pthread_t main_thread;

bool ws_begin(void);
int thread_count(void);
void ws_end(void);
struct res ioctl_(SOCKET s, DWORD code, void *in, DWORD in_len,
			 void *out, DWORD out_len, LPWSAOVERLAPPED ov,
			 LPWSAOVERLAPPED_COMPLETION_ROUTINE cr);
struct res query(SOCKET s, DWORD code, void *out, DWORD out_len);
/* A context layout file the next flow's rule gets (TCP or UDP), or NULL. */
extern const char *flow_layout;
bool flow_setup(struct flow *f);
void flow_abort(struct flow *f);
bool flow_open(struct flow *f);
bool flow_begin(struct flow *f);
void flow_close(struct flow *f);
size_t native_context(int fd, void *buf, size_t cap);
unsigned char *guard_pages(void);
void guard_free(unsigned char *p);
bool wait_completed(SOCKET s, LPWSAOVERLAPPED ov);
void CALLBACK routine(DWORD dwError, DWORD cbTransferred,
			     LPWSAOVERLAPPED lpOverlapped, DWORD dwFlags);
void seen_reset(void);
void test_startup(void);
void test_query_success(void);
void size_rules(SOCKET s, DWORD code, DWORD needed, const char *what);
void test_buffer_sizes(void);
void test_invalid(void);
void test_not_socket(void);
void test_not_connected(void);
void test_socket_kinds(void);
int no_engine_child(const char *empty, int fd);
void test_engine_not_loaded(void);
int eacces_child(const unsigned char *rec, int accepted);
void test_no_permission(void);
void test_set_records(void);
void test_efault(void);
void *last_error_thread(void *arg);
void test_last_error(void);
void test_wspioctl_errors(void);
void test_overlapped_event(void);
void test_overlapped_wait(void);
void test_io_incomplete(void);
void *alert_elsewhere(void *arg);
void test_routine_sleepex(void);
void CALLBACK chain_routine(DWORD dwError, DWORD cbTransferred,
				   LPWSAOVERLAPPED lpOverlapped, DWORD dwFlags);
void test_routine_wait_events(void);
void CALLBACK user_apc(DWORD_PTR ctx);
void stage_wait(struct spi_job *j, int stage);
void stage_set(struct spi_job *j, int stage);
void *spi_thread(void *arg);
void test_wspioctl_thread(void);
void test_abort_closesocket(void);
void test_abort_flush(void);
void test_non_overlapped_socket(void);
void *set_later(void *arg);
void test_events(void);
void on_usr1(int sig);
void *poke(void *arg);
void test_inprogress(void);
bool read_line(int fd, char *buf, size_t len, int ms);
void test_winsock_proxy(void);
void test_winsock_proxy_concurrent(void);
void test_winsock_iocp_proxy(void);
void test_winsock_thread_proxy(void);
void test_winsock_eventselect_proxy(void);
void test_poll(void);
void test_ioctlsocket(void);
void test_select(void);
void test_context_layout(void);
void test_port_lifo(void);
void test_port_alertable(void);
void echo_client_main(const struct sockaddr_storage *dst,
			     socklen_t dst_len);
void test_winsock_udp_proxy(void);
bool readable_in(int fd, int ms);
uint16_t unused_udp_port(const char *ip);
void uclient_main(const struct uflow *f, int count);
bool uflow_setup(struct uflow *f, const char *svc_ip,
			const char *orig_ip, const char *name, int count);
bool uflow_begin(struct uflow *f, const char *svc_ip,
			const char *orig_ip, int count);
void uflow_end(struct uflow *f);
void urecv(struct uflow *f, struct urecv *u, int control_len,
		  ULONG data_len, ULONG flags);
bool set_context_opt(struct uflow *f, DWORD on);
void check_context(struct uflow *f, const struct urecv *u);
void recvmsg_context(const char *svc_ip, const char *orig_ip);
void test_udp_recvmsg_v4(void);
void test_udp_recvmsg_v6(void);
void test_udp_recvmsg_off(void);
void test_udp_recvmsg_ctrunc(void);
int sendmsg_(SOCKET s, const struct sockaddr_storage *dst,
		    socklen_t dlen, const char *data, void *control,
		    ULONG control_len, DWORD *sent);
ULONG put_cmsg(void *buf, int level, int type, const void *data,
		      size_t len);
bool got(int fd, const char *want, int ms);
void test_udp_sendmsg_records(void);
void test_udp_query_connected(void);
int recvmsg_err(LPFN_WSARECVMSG fn, SOCKET s, LPWSAMSG m,
		       LPDWORD n, LPWSAOVERLAPPED ov);
void test_udp_errors(void);
void test_udp_layout_v4(void);
void test_udp_layout_v6(void);
void test_udp_layout_ctrunc(void);

#endif /* LWFP_WS_TEST_H */
