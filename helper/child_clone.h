/* SPDX-License-Identifier: GPL-2.0-or-later */
/* child_clone.h - starting a child on a private copy of only the
 * descriptors it needs (child_clone.c): child.c's fast path. */
#ifndef CKPT_CHILD_CLONE_H
#define CKPT_CHILD_CLONE_H

#include <stddef.h>
#include <sys/types.h>

/* The child, once it holds its descriptors: fds[0..n-1], the ones passed
 * to child_clone() in that order, under the numbers it has for them. */
typedef void (*child_clone_body)(void *ctx, const int *fds, size_t n)
	__attribute__((noreturn));

/* At start, before other descriptors: reserve the slots. */
void child_clone_init(void);
/* Start body in a child that holds fds[0..n-1] and nothing else above 2.
 * 0: started (*pid, *pidfd), owner holds a slot until the child took its
 * descriptors or child_clone_release(owner); 1: this way is not open (no
 * free slot, too many descriptors, no clone3): fork() instead; -1: failed,
 * with err. */
int child_clone(const int *fds, size_t n, child_clone_body body, void *ctx,
		const void *owner, pid_t *pid, int *pidfd, char *err,
		size_t errlen);
/* owner's child has ended: its slot, if it still holds one.  Before its
 * pipe is read (a child killed before it took its descriptors leaves
 * them in flight in the slot). */
void child_clone_release(const void *owner);
/* Children started so far: on their own descriptors, by fork(). */
void child_clone_counts(unsigned long *cloned, unsigned long *forked);
void child_clone_forked(void);

#endif
