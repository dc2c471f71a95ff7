// SPDX-License-Identifier: MIT
/*
 * The Winsock layer against a real engine: WSAIoctl and WSPIoctl with the
 * WFP redirect control codes, every documented error, overlapped
 * completion (event, completion routine in alertable waits, on the thread
 * a WSATHREADID names, WSAGetOverlappedResult), aborts by closesocket()
 * and SIO_FLUSH, build/examples/winsock-proxy as the redirect service
 * of a real client, and UDP: setsockopt(IP_WFP_REDIRECT_*), WSARecvMsg's
 * control messages, WSASendMsg with the records, the codes on UDP, and
 * build/examples/winsock-udp-proxy as the UDP service of a real client.
 */
#include "ws_test.h"

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"WSAStartup/WSACleanup: versions, counting, WSANOTINITIALISED",
		"queries succeed: records and context, non-zero byte count",
		"buffer sizes: size query, < sizeof(ULONG), too small, exact",
		"WSAEINVAL: unredirected socket, unknown control codes",
		"WSAENOTSOCK: pipe, file, closed descriptor, INVALID_SOCKET",
		"WSAENOTCONN: unconnected and listening sockets",
		"socket kinds: UDP, SEQPACKET (WSAEINVAL), AF_UNIX (WSAENOPROTOOPT)",
		"WSAEOPNOTSUPP without an engine (fresh process and session)",
		"WSAEACCES without the right to use the engine",
		"SET: records prevent the loop; WSAEISCONN; bad records",
		"WSAEFAULT: NULL, (void *)1, PROT_NONE, read-only, straddling",
		"the last error is per thread and sees POSIX failures",
		"WSPIoctl reports through *lpErrno only",
		"overlapped: by event, byte count, small buffer, SET",
		"overlapped: WSAGetOverlappedResult waits, and polls",
		"overlapped: WSA_IO_INCOMPLETE while pending",
		"completion routine only in alertable SleepEx, its thread",
		"completion routine in an alertable WSAWaitForMultipleEvents",
		"WSPIoctl: the routine runs on the thread lpThreadId names",
		"WSA_OPERATION_ABORTED by closesocket",
		"WSA_OPERATION_ABORTED by SIO_FLUSH",
		"lpOverlapped ignored without WSA_FLAG_OVERLAPPED; WSASocket",
		"WSAEVENT objects and WSAWaitForMultipleEvents",
		"WSAEINPROGRESS for a call made from a signal handler",
		"winsock-proxy as the redirect service of a real client",
		"winsock-proxy: a silent client holds up no other",
		"winsock-iocp-proxy (IOCP, AcceptEx, ConnectEx) relays a flow",
		"winsock-thread-proxy (C++, a thread each) relays a flow",
		"winsock-eventselect-proxy (WSAEventSelect) relays a flow",
		"WSAPoll: readiness, hang-up, ignored entries, errors",
		"ioctlsocket: FIONBIO, FIONREAD, SIOCATMARK, errors",
		"select over Windows' fd_set: any descriptor, sets rewritten",
		"a rule's context layout: the service's own struct",
		"UDP: WSARecvMsg delivers records and context once (IPv4)",
		"UDP: WSARecvMsg delivers records and context once (IPv6)",
		"UDP: no WFP messages without IP_WFP_REDIRECT_CONTEXT",
		"UDP: MSG_CTRUNC, messages again after it and after MSG_PEEK",
		"UDP: records by WSASendMsg, setsockopt, SIO_SET: no loop",
		"UDP: SIO_QUERY_* on a per-flow connected socket",
		"UDP: setsockopt, extension pointers, WSARecvMsg errors",
		"winsock-udp-proxy relays a real UDP client's flow",
		"UDP: a rule's layout is the context message (IPv4), natively too",
		"UDP: a rule's layout is the context message (IPv6), natively too",
		"UDP: a layout larger than the Control buffer: MSG_CTRUNC",
		"completion port: the thread that blocked last wakes first",
		"completion port: a routine ends an alertable wait",
	};
	static const test_fn fns[] = {
		test_startup, test_query_success, test_buffer_sizes,
		test_invalid, test_not_socket, test_not_connected,
		test_socket_kinds, test_engine_not_loaded, test_no_permission,
		test_set_records, test_efault, test_last_error,
		test_wspioctl_errors, test_overlapped_event,
		test_overlapped_wait, test_io_incomplete,
		test_routine_sleepex, test_routine_wait_events,
		test_wspioctl_thread, test_abort_closesocket, test_abort_flush,
		test_non_overlapped_socket, test_events, test_inprogress,
		test_winsock_proxy, test_winsock_proxy_concurrent,
		test_winsock_iocp_proxy, test_winsock_thread_proxy,
		test_winsock_eventselect_proxy, test_poll,
		test_ioctlsocket, test_select, test_context_layout,
		test_udp_recvmsg_v4, test_udp_recvmsg_v6,
		test_udp_recvmsg_off, test_udp_recvmsg_ctrunc,
		test_udp_sendmsg_records, test_udp_query_connected,
		test_udp_errors, test_winsock_udp_proxy, test_udp_layout_v4,
		test_udp_layout_v6, test_udp_layout_ctrunc,
		test_port_lifo, test_port_alertable,
	};

	env_init(argc, argv, "winsock");
	return run_tests(names, fns, ARRAY_SIZE(fns));
}

