/* SPDX-License-Identifier: GPL-2.0-or-later */
/* restart_log.c - a job's restarts in checkpoint.log (restart_log.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "restart_log.h"
#include "sched.h"

/* The newest restarts are the ones that may still be queued. */
#define RECENT 8

int restart_log_note(int basefd, uint32_t job, uint32_t newid,
		     const char *image)
{
	char line[4400];

	snprintf(line, sizeof(line), "%u.batch restarted as job %u from %s",
		 job, newid, image);
	return image_log(basefd, line);
}

int restart_log_queued(int basefd, uint32_t job, uint32_t *other)
{
	uint32_t recent[RECENT], j, id;
	struct sched_job sj;
	char *line = NULL, err[256];
	size_t cap = 0, n = 0, i;
	struct stat st;
	FILE *f;
	int fd;

	fd = openat(basefd, IMAGE_LOG_NAME, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(f = fdopen(fd, "r"))) {
		close(fd);
		return 0;
	}
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "%*s %u.batch restarted as job %u ", &j,
			   &id) == 2 && j == job)
			recent[n++ % RECENT] = id;
	free(line);
	fclose(f);
	for (i = 0; i < n && i < RECENT; i++)
		if (sched_job(recent[i], &sj, err, sizeof(err)) == 0 &&
		    !sj.done) {
			*other = recent[i];
			return 1;
		}
	return 0;
}
