/* SPDX-License-Identifier: GPL-2.0-or-later */
/* worker.h - each checkpoint in a child process, a worker (worker.c). */
#ifndef CKPT_WORKER_H
#define CKPT_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"
#include "steps.h"

/* Told when a worker ended, before the step's listeners. */
typedef void (*worker_done_fn)(void *arg, const struct step *s,
			       const struct ckpt_result *r);
/* image_dir: ImageDir= of create/vacate/requeue (commit there), or NULL.
 * -1 with err and errno (EAGAIN: no worker free, for all or for the
 * step's user). */
int worker_start(struct step *s, const char *reason, const char *image_dir,
		 worker_done_fn done, void *arg, char *err, size_t errlen);
/* A follower's part of a multi-node step (peer.c): the child runs
 * peer_part_run(). */
int worker_start_part(struct step *s, char *err, size_t errlen);
int worker_count(void);
/* May s's user start one more checkpoint (max_user_workers)? */
bool worker_user_may(const struct step *s);
/* Kill a worker (its commit is crash-safe); its end is handled as usual. */
void worker_cancel(struct worker *wk);
/* A checkpoint of s failed (or could not start): its last error. */
void worker_record_error(struct step *s, int code, const char *error);

#endif
