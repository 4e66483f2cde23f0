/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exit_code.h - the way of a checkpoint exit code (exit_code.c). */
#ifndef CKPT_EXIT_CODE_H
#define CKPT_EXIT_CODE_H

#include "run.h"

/* As the user, after a task exited with the step's checkpoint exit
 * code: commit what it left in the staging directory. */
extern const struct ckpt_way exit_code_way;
/* Commit what the tasks left in the step's staging directory (ignoring
 * their ".done.<task>" files).  An error begins with what (what the
 * tasks did); errno ENODATA: they left nothing (an empty directory, or
 * none). */
int exit_code_commit_left(struct ckpt_run *r, int basefd,
			  struct manifest *m, const char *what, char *err,
			  size_t errlen);

#endif
