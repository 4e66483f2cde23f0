/* SPDX-License-Identifier: GPL-2.0-or-later */
/* periodic.h - periodic checkpoints, and those waiting for a free
 * worker (periodic.c). */
#ifndef CKPT_PERIODIC_H
#define CKPT_PERIODIC_H

#include "steps.h"

int periodic_init(void);
void periodic_shutdown(void);
/* After a step's interval or disabled changed. */
void periodic_rearm(void);
/* No worker free for s now (EAGAIN from worker_start): its checkpoint for
 * why ("periodic", or a final one of jobs.c, s->final set) waits its turn;
 * final ones go first, and a user at max_user_workers waits for their
 * own.  A final one that never starts (its step ends) is reported to the
 * step's listeners as failed. */
void periodic_enqueue(struct step *s, const char *why);
/* How many checkpoints wait for a free worker. */
unsigned long periodic_queued(void);
/* The time left to the next periodic checkpoint, and setting it. */
long periodic_due_in(const struct step *s);
void periodic_set_due_in(struct step *s, long seconds);

#endif
