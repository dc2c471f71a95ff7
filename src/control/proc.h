/* SPDX-License-Identifier: MIT */
/* What /proc says of a process. */
#ifndef LWFP_PROC_H
#define LWFP_PROC_H

#include <sys/types.h>
#include <linux/types.h>

/* When process pid started, in clock ticks since boot (the starttime
 * field of /proc/PID/stat): 0 or -errno (-ENOENT: no such process). */
int proc_start_ticks(pid_t pid, __u64 *ticks);
/* Its real uid: 0 or -errno. */
int proc_uid(pid_t pid, __u32 *uid);

#endif /* LWFP_PROC_H */
