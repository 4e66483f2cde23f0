/* SPDX-License-Identifier: GPL-2.0-or-later */
/* subtree.h - commands that must not outlive their caller (subtree.c). */
#ifndef CKPT_SUBTREE_H
#define CKPT_SUBTREE_H

#include <sys/types.h>

/* fork() for a command that must not outlive its caller.  Returns 0 in
 * the command's process (its own session; exec it), the pid of its
 * guardian in the caller (-1 on error), which stands for the command:
 * waitpid() gives the command's status, and the guardian kills
 * everything the command started when the command ends, on
 * subtree_stop(), and when the caller dies. */
pid_t subtree_fork(void);
void subtree_stop(pid_t guardian);

#endif
