// SPDX-License-Identifier: MIT
/* What /proc says of a process: when it started, whose it is. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwfp_abi.h"
#include "proc.h"

int proc_start_ticks(pid_t pid, __u64 *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	size_t n;
	FILE *f;

	/* the engine compares in these ticks (LWFP_NS_PER_TICK) */
	if (sysconf(_SC_CLK_TCK) != 1000000000 / LWFP_NS_PER_TICK)
		return -ENOTSUP;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the name (field 2) may hold anything: fields go on after its ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* starttime is field 22: the 20th after the name */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -EIO;
	*ticks = start;
	return 0;
}

int proc_uid(pid_t pid, __u32 *uid)
{
	char path[64], line[256];
	unsigned long u;
	int ret = -EIO;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %lu", &u) == 1) {
			*uid = u;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}
