// SPDX-License-Identifier: MIT
/* See attack.h. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"
#include "attack.h"

void attacker_enter(void)
{
	cg_enter("app");
	if (setgid(NOBODY) || setuid(NOBODY))
		_exit(3);
}

static char member_group[32], member_user[32];

static void member_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "userdel %s 2>/dev/null; groupdel %s",
		 member_user, member_group);
	if (system(cmd))
		printf("# could not remove the test accounts\n");
}

const char *member_create(const char **user)
{
	char cmd[256];

	snprintf(member_group, sizeof(member_group), "lwfpsg%d", getpid());
	snprintf(member_user, sizeof(member_user), "lwfpsu%d", getpid());
	snprintf(cmd, sizeof(cmd),
		 "groupadd %s && useradd -M -N -s /usr/sbin/nologin -G %s %s",
		 member_group, member_group, member_user);
	if (system(cmd))
		die("cannot create a test group and user (groupadd, useradd)");
	atexit(member_remove);
	*user = member_user;
	return member_group;
}

void member_enter(const char *user, const char *sub)
{
	struct passwd *pw = getpwnam(user);

	cg_enter(sub);
	if (!pw || initgroups(user, pw->pw_gid) || setgid(pw->pw_gid) ||
	    setuid(pw->pw_uid))
		_exit(3);
}

int listen_loopback_fd(int fd, uint16_t port)
{
	struct sockaddr_in at = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	return bind(fd, (struct sockaddr *)&at, sizeof(at)) || listen(fd, 64) ?
		errno : 0;
}

int listen_loopback(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && listen_loopback_fd(fd, port)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int connect_loopback(int fd, uint16_t port)
{
	struct sockaddr_in dst = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	return connect(fd, (struct sockaddr *)&dst, sizeof(dst)) ? errno : 0;
}

bool redirect_udp_port(uint16_t svc_port, uint16_t orig_port)
{
	char listen[32], dport[8];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	return !lwfp_run("service", "add", "svc", "--listen", listen,
			 "--proto", "udp", NULL) &&
	       !lwfp_run("rule", "add", "--service", "svc", "--proto", "udp",
			 "--dst", "127.0.0.1/32", "--dport", dport, NULL);
}

int send_from(int fd, uint32_t src, uint16_t port, const char *what)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
	struct iovec iov = { .iov_base = (void *)what, .iov_len = strlen(what) };
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to),
			      .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cm);

	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi->ipi_spec_dst.s_addr = src;
	return sendmsg(fd, &msg, 0) < 0 ? errno : 0;
}

pid_t sleeper(int *wake)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	*wake = p[1];
	return pid;
}

bool reached(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

bool redirect_port(uint16_t svc_port, const char *opt, const char *val,
		   uint16_t orig_port)
{
	char listen[32], dport[8];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	return !lwfp_run("service", "add", "svc", "--listen", listen, opt, val,
			 NULL) &&
	       !lwfp_run("rule", "add", "--service", "svc", "--dst",
			 "127.0.0.1/32", "--dport", dport, NULL);
}
