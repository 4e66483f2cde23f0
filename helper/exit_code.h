/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exit_code.h - the way of a checkpoint exit code (exit_code.c). */
#ifndef CKPT_EXIT_CODE_H
#define CKPT_EXIT_CODE_H

#include "run.h"

/* As the user, after a task exited with the step's checkpoint exit
 * code: commit what it left in the staging directory. */
extern const struct ckpt_way exit_code_way;

#endif
