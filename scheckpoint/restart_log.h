/* SPDX-License-Identifier: GPL-2.0-or-later */
/* restart_log.h - a job's restarts as its checkpoint directory's
 * checkpoint.log records them: "<job>.batch restarted as job <new> from
 * <image>".  Read and written by "scheckpoint restart" as the job's
 * user. */
#ifndef CKPT_RESTART_LOG_H
#define CKPT_RESTART_LOG_H

#include <stdint.h>

/* Record that job was submitted again as newid from image (basefd: the
 * checkpoint directory).  0/-1 (errno). */
int restart_log_note(int basefd, uint32_t job, uint32_t newid,
		     const char *image);

/* A job that an earlier restart of job submitted and that slurmctld
 * still has in the queue (pending, running, requeued): 1 with *other,
 * else 0 (no log, no such line, or all of them ended). */
int restart_log_queued(int basefd, uint32_t job, uint32_t *other);

#endif
