/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sigterm.h - the way of a step whose checkpoint signal is SIGTERM, when
 * Slurm sent it first (sigterm.c). */
#ifndef CKPT_SIGTERM_H
#define CKPT_SIGTERM_H

#include "run.h"

/* As the user, at preemption or after a task ended on SIGTERM: wait for
 * what the tasks write on Slurm's SIGTERM, then commit it; nothing is
 * sent to them. */
extern const struct ckpt_way sigterm_way;

#endif
