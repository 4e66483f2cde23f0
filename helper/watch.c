/* SPDX-License-Identifier: GPL-2.0-or-later */
/* watch.c - the trigger file and the watched checkpoint file of a task
 * (see watch.h).  Everything here runs in a worker that has the job
 * user's credentials, on descriptors: never through a symbolic link. */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "pidfd.h"
#include "proto.h"
#include "watch.h"

#define WATCH_SETTLE_MS 1000	/* unchanged this long: written */

int watch_dir(const char *what, const char *path, int pidfd,
	      unsigned task, int *dir, const char **name, char *err,
	      size_t errlen)
{
	char dpath[CKPT_TRIGGER_MAX + 64], *slash;
	const char *rel;
	pid_t pid = pidfd_pid(pidfd);

	*dir = -1;
	if (pid <= 0)
		return errprintf(err, errlen, ESRCH, "task %u ended", task);
	if (path[0] == '/') {
		snprintf(dpath, sizeof(dpath), "%s", path);
		slash = strrchr(dpath, '/');
		*name = path + (slash - dpath) + 1;
		if (slash == dpath)
			slash[1] = '\0';
		else
			*slash = '\0';
	} else if ((rel = strrchr(path, '/'))) {
		snprintf(dpath, sizeof(dpath), "/proc/%d/cwd/%.*s", (int)pid,
			 (int)(rel - path), path);
		*name = rel + 1;
	} else {
		snprintf(dpath, sizeof(dpath), "/proc/%d/cwd", (int)pid);
		*name = path;
	}
	*dir = open(dpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dir < 0)
		return errprintf(err, errlen, errno, "%s %.512s of task %u: %s",
				 what, path, task, strerror(errno));
	/* Still alive now, so the directory was this task's. */
	if (!pidfd_alive(pidfd)) {
		close(*dir);
		*dir = -1;
		return errprintf(err, errlen, ESRCH, "task %u ended", task);
	}
	return 0;
}

/* File times come from the kernel's coarse clock: a write after the
 * request is never older than this. */
void watch_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME_COARSE, ts);
}

/* st was written at or after since: 1 settled (for a second, or at all
 * when settled), 0 still being written, -1 not since. */
static int written(const struct stat *st, const struct timespec *since,
		   bool settled)
{
	struct timespec now;
	long long ms;

	if (!S_ISREG(st->st_mode) || st->st_mtim.tv_sec < since->tv_sec ||
	    (st->st_mtim.tv_sec == since->tv_sec &&
	     st->st_mtim.tv_nsec < since->tv_nsec))
		return -1;
	if (settled)
		return 1;
	clock_gettime(CLOCK_REALTIME, &now);
	ms = (now.tv_sec - st->st_mtim.tv_sec) * 1000LL +
	     (now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
	return ms >= WATCH_SETTLE_MS;
}

/* For each regular file of directory dir/name written since the
 * request: fn(its directory, its name, arg) (when fn is set); how many
 * there are, -1 when one is still being written or the directory cannot
 * be read. */
static int each_written(int dir, const char *name,
			const struct timespec *since, bool settled,
			int (*fn)(int, const char *, void *), void *arg)
{
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC), n = 0, w;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' ||
		    fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (w = written(&st, since, settled)) < 0)
			continue;
		if (w == 0 || (fn && fn(fd, e->d_name, arg) < 0)) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

bool watch_written(int dir, const char *name, const struct timespec *since,
		   bool settled)
{
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (S_ISDIR(st.st_mode))
		return each_written(dir, name, since, settled, NULL,
				    NULL) > 0;
	return written(&st, since, settled) == 1;
}

struct copying {
	int stagefd;
	char *err;
	size_t errlen;
};

/* One file into the image, under its name; one already there (another
 * task's copy, or one the task wrote itself) is left alone. */
static int copy_one(int dir, const char *name, void *arg)
{
	const struct copying *c = arg;
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errprintf(c->err, c->errlen, errno, "%.512s: %s", name,
				 strerror(errno));
	if (image_copy_file(fd, c->stagefd, name) < 0 && errno != EEXIST) {
		errprintf(c->err, c->errlen, errno, "cannot copy %.512s into "
			  "the image: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int watch_copy(int dir, const char *name, const struct timespec *since,
	       int stagefd, char *err, size_t errlen)
{
	struct copying c = { stagefd, err, errlen };
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errprintf(err, errlen, errno, "%.512s: %s", name,
				 strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return copy_one(dir, name, &c);
	err[0] = '\0';
	if (each_written(dir, name, since, true, copy_one, &c) < 0)
		return err[0] ? -1 : errprintf(err, errlen, EIO, "cannot read "
					       "%.512s", name);
	return 0;
}
