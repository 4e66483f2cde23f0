/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sigterm.c - the way of a step whose checkpoint signal is SIGTERM when
 * Slurm sent it first: at preemption with GraceTime slurmctld sends
 * SIGTERM to the steps' tasks at once, before slurmckptd can know of it.
 * A second SIGTERM could cut short the state they are writing (or kill a
 * task whose handler has run), and a fresh staging directory would throw
 * it away.  So nothing is sent: the staging directory the plugin made at
 * the start is kept, each task's ".done.<task>" or end is waited for, and
 * what they wrote is committed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cooperate.h"
#include "errbuf.h"
#include "exit_code.h"
#include "image.h"
#include "manifest.h"
#include "sigterm.h"
#include "steps.h"

static int take(struct ckpt_run *r, int basefd, struct manifest *m,
		char *err, size_t errlen)
{
	const struct step *s = r->s;
	char staging[80];
	int fd, rc;

	snprintf(staging, sizeof(staging), "%s%s", s->name,
		 IMAGE_STAGING_SUFFIX);
	fd = openat(basefd, staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* Removed at the step's end (staging_tidy.c): it was empty. */
		r->skipped = true;
		return errprintf(err, errlen, ENODATA, "the tasks ended with "
				 "nothing written: %s is gone", staging);
	}
	if (fd < 0)
		return errprintf(err, errlen, errno, "SIGTERM came, but %s "
				 "cannot be opened: %s", staging,
				 strerror(errno));
	rc = cooperate_wait_unasked(r, fd, err, errlen);
	close(fd);
	if (rc < 0)
		return -1;
	/* A task that ended without writing anything (a normal end) is no
	 * failure: there was nothing to keep. */
	if (exit_code_commit_left(r, basefd, m, "the tasks had SIGTERM",
				  err, errlen) < 0) {
		r->skipped = errno == ENODATA;
		return -1;
	}
	cooperate_restage(s, basefd);
	return 0;
}

const struct ckpt_way sigterm_way = { "SIGTERM", take };
