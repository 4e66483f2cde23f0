/* SPDX-License-Identifier: GPL-2.0-or-later */
/* events.h - each checkpoint's outcome as one line of JSON: said in the
 * log ("event: {...}") and the newest kept in memory for "scheckpoint
 * events" (events.c). */
#ifndef CKPT_EVENTS_H
#define CKPT_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EVENTS_KEPT 1024	/* on this node, all jobs */
#define EVENTS_PER_JOB 128	/* of one job: its oldest go first */
/* The most bytes of events in one answer, as they are escaped in the
 * reply (a packet of at most CKPT_MSG_MAX): the newest that fit. */
#define EVENTS_REPLY_MAX 60000

/* The event of a checkpoint of job's step, of uid's job, on node: line
 * (metrics_event()) logged and kept.  Nothing kept when out of memory. */
void events_add(uint32_t job, uint32_t step, uid_t uid, const char *node,
		const char *line);

/* The events kept of job (step: one step, or CKPT_STEP_ALL) that client
 * may see (access_may_act()), of node only unless node is NULL, oldest
 * first: {"job":N,"events":[...],"left_out":K} as JSON text (malloc'd;
 * left_out: older ones past EVENTS_REPLY_MAX).  NULL with errno ENOENT
 * when there is none, ENOMEM. */
char *events_of(uint32_t job, uint32_t step, uid_t client, const char *node);

/* Forget every event (tests; teardown). */
void events_clear(void);

#endif
