// SPDX-License-Identifier: MIT
/* Cgroup paths: joining one with the cgroup2 mount, and finding that
 * mount in mountinfo. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "cgroup_path.h"
#include "msg.h"

#define CGROUP_NAME_MAX	255	/* NAME_MAX of a cgroup directory */

/* The next component of a path at p: its start, and its length in *n. */
static const char *next_comp(const char *p, size_t *n)
{
	while (*p == '/')
		p++;
	*n = strcspn(p, "/");
	return p;
}

static bool dot_comp(const char *c, size_t n)
{
	return (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.');
}

/* Append "/" and c[0..n) to buf at *pos; false if it does not fit. */
static bool append_comp(char *buf, size_t size, size_t *pos, const char *c,
			size_t n)
{
	if (size - *pos < n + 2)
		return false;
	buf[(*pos)++] = '/';
	memcpy(buf + *pos, c, n);
	*pos += n;
	buf[*pos] = '\0';
	return true;
}

int cgroup_path_join(const char *mount, const char *path, char *out,
		     size_t outlen, int *level, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	const char *m, *p, *rel;
	size_t mn, pn, pos = 0;
	int depth = 0;

	clear_err(err, errlen);
	buf[0] = '\0';
	if (!mount || mount[0] != '/')
		return fail(-EINVAL, err, errlen,
			    _("bad cgroup2 mount point '%s': must be an absolute path"),
			    mount ? quote(mount).s : "");
	if (!path || !*path)
		return fail(-EINVAL, err, errlen, _("missing cgroup path"));

	/* The mount point, normalized. */
	for (m = next_comp(mount, &mn); mn; m = next_comp(m + mn, &mn)) {
		if (dot_comp(m, mn))
			return fail(-EINVAL, err, errlen,
				    _("bad cgroup2 mount point '%s': '.' and '..' are not allowed"),
				    quote(mount).s);
		if (!append_comp(buf, sizeof(buf), &pos, m, mn))
			goto too_long;
	}

	/*
	 * An absolute path under the mount point is taken as such. One that
	 * shares its first component with the mount point but is not under
	 * it ("/sys/fs/cgroup" when the mount is /sys/fs/cgroup/unified) is
	 * most likely a mistake. Anything else is relative to the mount.
	 */
	rel = path;
	if (path[0] == '/' && pos) {
		size_t first;

		m = next_comp(mount, &mn);
		first = mn;
		p = next_comp(path, &pn);
		if (pn == first && !memcmp(p, m, pn)) {
			while (mn && pn == mn && !memcmp(p, m, pn)) {
				m = next_comp(m + mn, &mn);
				p = next_comp(p + pn, &pn);
			}
			if (mn)
				return fail(-EINVAL, err, errlen,
					    _("bad cgroup path '%s': not under the cgroup2 mount point %s"),
					    quote(path).s, quote(buf).s);
			rel = p;
		}
	}

	for (p = next_comp(rel, &pn); pn; p = next_comp(p + pn, &pn)) {
		if (dot_comp(p, pn))
			return fail(-EINVAL, err, errlen,
				    _("bad cgroup path '%s': '.' and '..' are not allowed"),
				    quote(path).s);
		if (pn > CGROUP_NAME_MAX)
			return fail(-EINVAL, err, errlen,
				    _("bad cgroup path '%s': a component is longer than %d characters"),
				    quote(path).s, CGROUP_NAME_MAX);
		if (!append_comp(buf, sizeof(buf), &pos, p, pn))
			goto too_long;
		depth++;
	}
	if (!pos) {
		buf[pos++] = '/';
		buf[pos] = '\0';
	}

	if (pos >= outlen)
		goto too_long;
	memcpy(out, buf, pos + 1);
	if (level)
		*level = depth;
	return 0;

too_long:
	return fail(-ENAMETOOLONG, err, errlen,
		    _("bad cgroup path '%s': the full path is too long"),
		    quote(path).s);
}

/* Decode the octal escapes (\040) of a mountinfo field in place. */
static int unescape(char *s)
{
	char *out = s;

	while (*s) {
		char c = *s++;

		if (c == '\\' && s[0] >= '0' && s[0] <= '3' &&
		    s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
			c = (char)((s[0] - '0') << 6 | (s[1] - '0') << 3 |
				   (s[2] - '0'));
			s += 3;
			if (!c)
				return -EINVAL;
		}
		*out++ = c;
	}
	*out = '\0';
	return 0;
}

/*
 * mountinfo(5): id parent major:minor root mount-point options
 * [optional fields...] - fstype source super-options
 */
int find_cgroup2_mount_in(FILE *f, char *out, size_t outlen)
{
	char *line = NULL, *save, *tok, *mnt, *fstype;
	size_t cap = 0;
	int ret = -ENOENT, i;

	while (getline(&line, &cap, f) >= 0) {
		bool sep = false;

		line[strcspn(line, "\n")] = '\0';
		mnt = fstype = NULL;
		for (i = 0, tok = strtok_r(line, " ", &save); tok;
		     i++, tok = strtok_r(NULL, " ", &save)) {
			if (i == 4) {
				mnt = tok;
			} else if (sep) {
				fstype = tok;
				break;
			} else if (i >= 6 && !strcmp(tok, "-")) {
				sep = true;
			}
		}
		if (!fstype || !mnt || strcmp(fstype, "cgroup2") ||
		    mnt[0] != '/')
			continue;
		if (unescape(mnt))
			continue;
		if (strlen(mnt) >= outlen) {
			ret = -ENAMETOOLONG;
		} else {
			memcpy(out, mnt, strlen(mnt) + 1);
			ret = 0;
		}
		break;
	}
	if (ret == -ENOENT && ferror(f))
		ret = -EIO;
	free(line);
	return ret;
}

int find_cgroup2_mount(char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int ret;

	if (!f)
		return -errno;
	ret = find_cgroup2_mount_in(f, out, outlen);
	fclose(f);
	return ret;
}
