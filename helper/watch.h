/* SPDX-License-Identifier: GPL-2.0-or-later */
/* watch.h - a task's file named by a path relative to its working
 * directory (or absolute): the trigger file a checkpoint request
 * creates (--checkpoint-trigger), and the file an application or its
 * framework writes its own checkpoint to (--checkpoint-watch), which
 * answers the request and is copied into the image (watch.c). */
#ifndef CKPT_WATCH_H
#define CKPT_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* The directory of path for the task whose pidfd is pidfd (its working
 * directory for a relative path): an O_PATH descriptor into *dir, and
 * path's last component in *name (a pointer into path).  Run with the
 * user's credentials: /proc/<pid>/cwd opens for the user's own tasks
 * only.  0, or -1 with the reason (naming what, "trigger file"...). */
int watch_dir(const char *what, const char *path, int pidfd,
	      unsigned task, int *dir, const char **name, char *err,
	      size_t errlen);

/* The time a request was made, as file times count it. */
void watch_now(struct timespec *ts);

/* dir/name was written at or after since and has not changed for a
 * second (or, settled, at all: its task has ended, say because the
 * framework requeued the job once it had saved).  A directory: at least
 * one regular file directly in it (not one whose name starts with '.')
 * was written since, and none of those is still changing. */
bool watch_written(int dir, const char *name, const struct timespec *since,
		   bool settled);

/* Copy dir/name (of a directory, its files written since) into stagefd
 * under the same name(s), as image_copy_file does; a name already there
 * (another task's copy of the same file, or one the task wrote itself)
 * is left alone.  0/-1 with err. */
int watch_copy(int dir, const char *name, const struct timespec *since,
	       int stagefd, char *err, size_t errlen);

#endif
