/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resubmit.h - a job that a preemption cancelled, submitted again from
 * its newest image (--checkpoint-resubmit; resubmit.c). */
#ifndef CKPT_RESUBMIT_H
#define CKPT_RESUBMIT_H

#include <stdint.h>

/* The batch step of a job with --checkpoint-resubmit ended on this node:
 * in a child, wait until slurmctld says how the job ended; when it was
 * cancelled after being selected for preemption (and not requeued since
 * restarts), run "scheckpoint restart <job> ImageDir=<dir>" as the
 * job's user, and write what came of it into dir's checkpoint.log.
 * 0/-1 (said in the log). */
int resubmit_when_cancelled(uint32_t job, uint32_t uid, uint32_t gid,
			    const char *dir, uint32_t restarts);

#endif
