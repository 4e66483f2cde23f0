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
int cooperate_part_staged(struct ckpt_run *r, int basefd, int partfd,
			  bool *uncaught, char *err, size_t errlen);

#endif
