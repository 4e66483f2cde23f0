/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exit_code.c - the way of a checkpoint exit code (--checkpoint-exit-code):
 * a task wrote its state into the staging directory and exited with that
 * code; the worker commits what it left there. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "exit_code.h"
#include "image.h"
#include "manifest.h"
#include "steps.h"

int exit_code_commit_left(struct ckpt_run *r, int basefd,
			  struct manifest *m, const char *what, char *err,
			  size_t errlen)
{
	const struct step *s = r->s;
	char staging[80];
	struct dirent *e;
	bool any = false;
	DIR *d;
	int fd;

	snprintf(staging, sizeof(staging), "%s%s", s->name,
		 IMAGE_STAGING_SUFFIX);
	fd = openat(basefd, staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	/* An empty one is removed when the step ends (staging_tidy.c). */
	if (fd < 0 && errno == ENOENT)
		return errprintf(err, errlen, ENODATA, "%s, but left nothing "
				 "(%s is gone)", what, staging);
	if (fd < 0 || !(d = fdopendir(fd))) {
		errprintf(err, errlen, errno, "%s, but %s cannot be read: %s",
			  what, staging, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (!any && (e = readdir(d)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		      strncmp(e->d_name, ".done.", 6);
	closedir(d);
	if (!any)
		return errprintf(err, errlen, ENODATA,
				 "%s, but left %s empty", what, staging);
	m->seq = image_next_seq(basefd, s->name);
	return run_commit(r, basefd, m, err, errlen);
}

/* Checkpoint-and-exit: a task wrote its state into the staging
 * directory and exited with the exit code; commit what it left there
 * (there is nobody to ask). */
static int take(struct ckpt_run *r, int basefd, struct manifest *m,
		char *err, size_t errlen)
{
	return exit_code_commit_left(r, basefd, m,
				     "exited with the checkpoint exit code",
				     err, errlen);
}

const struct ckpt_way exit_code_way = { "exit code", take };
