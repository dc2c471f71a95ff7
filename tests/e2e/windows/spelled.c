/* SPDX-License-Identifier: MIT */
/*
 * A Windows source as Windows code is written: headers spelled as on
 * Windows, Microsoft's keywords and annotations, the windows.h basics,
 * kernel32 threads, events, critical sections, the heap, the console
 * handler, Windows' fd_set, WSAPoll and ioctlsocket. It echoes over
 * loopback between a listener and a client thread and checks what each
 * call returns. Built unchanged as C and as C++ (tests/e2e/windows.sh);
 * prints "spelled: ok" and exits 0, or names the first check that failed.
 */
#include <Windows.h>
#include <WinSock2.h>
#include <WS2tcpip.h>
#include <MSWSock.h>
#include <Mstcpip.h>
#include <wspiapi.h>
#include <strsafe.h>
#include <tchar.h>
#include <process.h>
#include <sal.h>
#include <stdio.h>
#include <signal.h>

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("spelled: failed: %s (line %d, error %lu)\n", \
			       #cond, __LINE__,			\
			       (unsigned long)GetLastError());		\
			exit(1);					\
		}							\
	} while (0)

static CRITICAL_SECTION g_lock;
static LONG volatile g_count = 0;
static HANDLE g_ready;
static USHORT g_port;
static volatile LONG g_ctrl_seen = -1;

static BOOL WINAPI OnCtrl(_In_ DWORD dwCtrlType)
{
	InterlockedExchange(&g_ctrl_seen, (LONG)dwCtrlType);
	return TRUE;	/* handled: the process goes on */
}

/* The client: connects, sends "ping", expects it back. */
static unsigned __stdcall ClientThread(_In_opt_ void *pParam)
{
	SOCKADDR_IN addr;
	SOCKET s;
	char buf[8];
	int n;

	UNREFERENCED_PARAMETER(pParam);
	if (WaitForSingleObject(g_ready, 5000) != WAIT_OBJECT_0)
		return 2;
	ZeroMemory(&addr, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(g_port);
	InetPtonA(AF_INET, "127.0.0.1", &addr.sin_addr);
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (s == INVALID_SOCKET ||
	    connect(s, (SOCKADDR *)&addr, sizeof(addr)) == SOCKET_ERROR ||
	    send(s, "ping", 4, 0) != 4)
		return 3;
	n = recv(s, buf, sizeof(buf), 0);
	closesocket(s);
	EnterCriticalSection(&g_lock);
	EnterCriticalSection(&g_lock);	/* recursive, as on Windows */
	InterlockedIncrement(&g_count);
	LeaveCriticalSection(&g_lock);
	LeaveCriticalSection(&g_lock);
	return n == 4 && memcmp(buf, "ping", 4) == 0 ? 7 : 4;
}

/* Accept with Windows' fd_set and select (nfds ignored), read with
 * WSAPoll on a non-blocking socket, echo. */
static void Serve(SOCKET listener)
{
	fd_set readSet;
	TIMEVAL tv = { 5, 0 };
	WSAPOLLFD pfd;
	u_long nonBlocking = 1, pending = 0;
	SOCKET client;
	char buf[8];
	int n;

	FD_ZERO(&readSet);
	FD_SET(listener, &readSet);
	FD_SET(listener, &readSet);	/* once only */
	CHECK(readSet.fd_count == 1 && readSet.fd_array[0] == listener);
	CHECK(select(0, &readSet, NULL, NULL, &tv) == 1);
	CHECK(FD_ISSET(listener, &readSet));
	client = accept(listener, NULL, NULL);
	CHECK(client != INVALID_SOCKET);
	CHECK(ioctlsocket(client, FIONBIO, &nonBlocking) == NO_ERROR);
	pfd.fd = client;
	pfd.events = POLLRDNORM;
	pfd.revents = 0;
	CHECK(WSAPoll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLRDNORM));
	CHECK(ioctlsocket(client, FIONREAD, &pending) == 0 && pending == 4);
	n = recv(client, buf, sizeof(buf), 0);
	CHECK(n == 4 && send(client, buf, n, 0) == n);
	closesocket(client);
}

static void CheckBasics(void)
{
	UINT8 u8 = 255;
	INT64 i64 = -1;
	BOOLEAN yes = TRUE;
	HRESULT hr;
	TCHAR text[MAX_PATH];
	SYSTEM_INFO si;
	LARGE_INTEGER freq;
	BYTE *block;

	CHECK(u8 == 255 && i64 < 0 && yes);
	hr = StringCchPrintf(text, ARRAYSIZE(text), _T("%s-%d"), _T("x"), 1);
	CHECK(SUCCEEDED(hr) && strcmp(text, "x-1") == 0);
	hr = StringCchCopy(text, 3, "abcdef");
	CHECK(hr == STRSAFE_E_INSUFFICIENT_BUFFER && strcmp(text, "ab") == 0);
	CHECK(FAILED(E_FAIL) && !FAILED(S_OK) && FWP_E_NOT_FOUND != S_OK);
	CHECK(HRESULT_FROM_WIN32(ERROR_NOT_FOUND) == (HRESULT)0x80070490);
	block = (BYTE *)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 64);
	CHECK(block != NULL && block[63] == 0);
	SecureZeroMemory(block, 64);
	CHECK(HeapFree(GetProcessHeap(), 0, block));
	GetSystemInfo(&si);
	CHECK(si.dwNumberOfProcessors >= 1);
	CHECK(QueryPerformanceFrequency(&freq) && freq.QuadPart > 0);
	SetLastError(ERROR_ACCESS_DENIED);
	CHECK(GetLastError() == ERROR_ACCESS_DENIED);
	/* the C runtime's Microsoft names, and what windows.h brings */
	CHECK(_stricmp("WinSock", "winsock") == 0);
	CHECK(_strnicmp("TCP:80", "tcp:81", 4) == 0 && tolower('A') == 'a');
	CHECK(atoi("42") == 42);
	{
		HWND none = NULL;	/* declared, never a window here */

		CHECK(none == NULL);
	}
}

static void CheckEvents(void)
{
	HANDLE autoEv = CreateEvent(NULL, FALSE, TRUE, NULL);
	HANDLE manual = CreateEvent(NULL, TRUE, FALSE, NULL);
	HANDLE both[2];

	CHECK(autoEv != NULL && manual != NULL);
	CHECK(WaitForSingleObject(autoEv, 0) == WAIT_OBJECT_0);
	CHECK(WaitForSingleObject(autoEv, 0) == WAIT_TIMEOUT);	/* reset */
	CHECK(SetEvent(manual));
	CHECK(WaitForSingleObject(manual, 0) == WAIT_OBJECT_0);
	CHECK(WaitForSingleObject(manual, 0) == WAIT_OBJECT_0);	/* stays */
	both[0] = autoEv;
	both[1] = manual;
	CHECK(WaitForMultipleObjects(2, both, FALSE, 0) == WAIT_OBJECT_0 + 1);
	CHECK(WaitForMultipleObjects(2, both, TRUE, 10) == WAIT_TIMEOUT);
	CHECK(ResetEvent(manual) && CloseHandle(autoEv) && CloseHandle(manual));
	CHECK(!CloseHandle(manual) && GetLastError() == ERROR_INVALID_HANDLE);
}

int __cdecl _tmain(int argc, _TCHAR *argv[])
{
	WSADATA wsaData;
	SOCKADDR_IN addr;
	SOCKET listener;
	int len = sizeof(addr);
	unsigned threadId = 0;
	HANDLE thread;
	DWORD exitCode = 0;

	UNREFERENCED_PARAMETER(argc);
	UNREFERENCED_PARAMETER(argv);
	CHECK(WSAStartup(MAKEWORD(2, 2), &wsaData) == NO_ERROR);
	InitializeCriticalSection(&g_lock);
	CheckBasics();
	CheckEvents();
	CHECK(SetConsoleCtrlHandler(OnCtrl, TRUE));

	listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK(listener != INVALID_SOCKET);
	ZeroMemory(&addr, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(listener, (SOCKADDR *)&addr, sizeof(addr)) != SOCKET_ERROR);
	CHECK(listen(listener, SOMAXCONN) != SOCKET_ERROR);
	CHECK(getsockname(listener, (SOCKADDR *)&addr, &len) == 0);
	g_port = ntohs(addr.sin_port);

	g_ready = CreateEvent(NULL, TRUE, FALSE, NULL);
	thread = (HANDLE)_beginthreadex(NULL, 0, ClientThread, NULL, 0,
					&threadId);
	CHECK(thread != NULL && threadId != 0);
	CHECK(SetEvent(g_ready));
	Serve(listener);
	CHECK(WaitForSingleObject(thread, 5000) == WAIT_OBJECT_0);
	CHECK(GetExitCodeThread(thread, &exitCode) && exitCode == 7);
	CHECK(CloseHandle(thread) && g_count == 1);

	raise(SIGINT);	/* Ctrl+C: the handler runs on a thread of its own */
	for (int i = 0; i < 500 && g_ctrl_seen < 0; i++)
		Sleep(10);
	CHECK(g_ctrl_seen == CTRL_C_EVENT);

	closesocket(listener);
	CloseHandle(g_ready);
	DeleteCriticalSection(&g_lock);
	WSACleanup();
	printf("spelled: ok\n");
	return 0;
}
