/* SPDX-License-Identifier: GPL-2.0-or-later */
/* child.h - a function run in a child process, its JSON report handed
 * to a callback in the event loop (child.c): the daemon's one way to
 * start a process from the loop (its calls to slurmctld, the checkpoint
 * workers, the offsite transfers). */
#ifndef CKPT_CHILD_H
#define CKPT_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* fn runs in a child and writes one JSON object to out with
 * report_write(); done runs in the loop with it (NULL if none) and the
 * child's wait status.  The child starts with no signal blocked, dies
 * with the daemon (PR_SET_PDEATHSIG; a change of credentials clears it),
 * and holds no descriptor above 2 but out and keep[]. */
typedef int (*child_fn)(void *arg, int out);
typedef void (*child_done_fn)(void *arg, json_t *report, int status);

struct child;

/* keep[0..nkeep-1]: descriptors the child keeps; when fn runs, keep[]
 * (the child's copy) holds the numbers they have there.  Returns the
 * child, or NULL with err and errno. */
struct child *child_spawn(child_fn fn, void *arg, int *keep, size_t nkeep,
			  child_done_fn done, void *donearg, char *err,
			  size_t errlen);
/* fn in a child, waited for: for start-up, before the loop runs.  Its
 * report in *report (NULL if none; the caller releases it), its wait
 * status in *status.  0/-1 with err. */
int child_run(child_fn fn, void *arg, json_t **report, int *status,
	      char *err, size_t errlen);
/* child_spawn() keeping nothing: 0/-1. */
int child_start(child_fn fn, void *arg, child_done_fn done, void *donearg,
		char *err, size_t errlen);
pid_t child_pid(const struct child *c);
/* SIGKILL; done is called as usual when it has gone.  0/-1. */
int child_kill(struct child *c);

/* At start, before other descriptors: what the fast way to start a
 * child needs (child_clone.c). */
void child_init(void);
/* At exit: the children still running are killed and reaped. */
void child_shutdown(void);

#endif
