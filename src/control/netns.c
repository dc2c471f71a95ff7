// SPDX-License-Identifier: MIT
/* See netns.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "netns.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int netns_cookie(__u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		ret = -errno;
	close(fd);
	return ret;
}

/* A bare name is one `ip netns` made. */
static int netns_open(const char *name)
{
	char path[4096];

	if (strchr(name, '/'))
		return open(name, O_RDONLY | O_CLOEXEC);
	if (snprintf(path, sizeof(path), "/run/netns/%s", name) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDONLY | O_CLOEXEC);
}

int netns_cookie_of(const char *name, __u64 *cookie)
{
	int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int there = netns_open(name), ret;

	if (here < 0 || there < 0) {
		ret = -errno;
		goto out;
	}
	if (setns(there, CLONE_NEWNET)) {
		ret = errno == EINVAL ? -ENOTDIR : -errno;
		goto out;
	}
	ret = netns_cookie(cookie);
	if (setns(here, CLONE_NEWNET))
		ret = -errno;	/* not where we were: say so */
out:
	if (here >= 0)
		close(here);
	if (there >= 0)
		close(there);
	return ret;
}

int netns_name_of(__u64 cookie, char *out, size_t len)
{
	DIR *d = opendir("/run/netns");
	struct dirent *e;
	__u64 c;
	int ret = -ENOENT;

	if (!d)
		return -ENOENT;
	while (ret && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= len ||
		    netns_cookie_of(e->d_name, &c) || c != cookie)
			continue;
		snprintf(out, len, "%s", e->d_name);
		ret = 0;
	}
	closedir(d);
	return ret;
}
