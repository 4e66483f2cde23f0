/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cooperate.h - the cooperative protocol: ask the tasks (a signal or a
 * trigger file) and wait for their acknowledgements (cooperate.c). */
#ifndef CKPT_COOPERATE_H
#define CKPT_COOPERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "run.h"

struct manifest;

/* Ask, wait, and commit (r->uncaught: no task catches the signal, so
 * nothing was asked and nothing staged). */
extern const struct ckpt_way cooperate_way;
/* Ask the step's local tasks and wait for their acknowledgements in
 * partfd (a staging directory, or node.<k> of one); nothing committed.
 * 0/-1 with err; *uncaught as above. */
int cooperate_part(struct ckpt_run *r, int partfd, bool *uncaught,
		   char *err, size_t errlen);
/* The same, for a part of a step over several nodes: with node-local
 * staging (s->local) the tasks write into the local N.partial, which is
 * committed there as this node's part (released tasks go on computing)
 * and copied into partfd, node.<k> of basefd's N.partial. */
/* Wait, without asking, for the tasks Slurm sent SIGTERM (preemption,
 * time limit): each has answered when it wrote its ".done.<task>" into
 * stagefd or ended; a live task that does not catch SIGTERM is not waited
 * for (none left: r->uncaught).  Bounded by max_wait; nothing committed.
 * 0/-1 with err. */
int cooperate_wait_unasked(struct ckpt_run *r, int stagefd, char *err,
			   size_t errlen);
/* After a commit, a SIGTERM step's next staging directory, for the next
 * SIGTERM that comes unasked (as the user, in the worker). */
void cooperate_restage(const struct step *s, int basefd);
int cooperate_part_staged(struct ckpt_run *r, int basefd, int partfd,
			  bool *uncaught, char *err, size_t errlen);

#endif
