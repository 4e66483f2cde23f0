/* SPDX-License-Identifier: GPL-2.0-or-later */
/* run.h - the checkpoint in flight in a worker, and its commit (run.c);
 * the one interface of the ways of taking it (struct ckpt_way), each of
 * which stages its image and commits it with run_commit(). */
#ifndef CKPT_RUN_H
#define CKPT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct manifest;
struct step;

struct ckpt_run {
	const struct step *s;
	const char *reason;	/* "periodic", "create", "exit-code"... */
	int image_dirfd;	/* ImageDir= of create, vacate, requeue; -1 */
	json_t *saved_job;	/* the job's submission (batch steps), */
	char *saved_script;	/* fetched as root before the drop */
	long paused_ms;		/* request to last acknowledgement; -1 */
	long flush_ms;		/* node-local staging's copy; -1 */
	uint64_t flushed;	/* bytes of that copy */
	bool uncaught;		/* set by a way: no task catches the
				 * signal, nothing was asked */
	bool skipped;		/* set by a way: no whole image can be
				 * made now (a follower's tasks have
				 * ended); not a failure */
};

/* A way of taking a step's checkpoint, as the user in the worker
 * (engine.c picks one per checkpoint): the cooperative protocol
 * (cooperate.c), a method's command or criu (method_run.c), the leader
 * of a step over several nodes (peer_worker.c), or what a task left at
 * its checkpoint exit code (exit_code.c). */
struct ckpt_way {
	const char *name;
	/* Stage r's image under basefd, have it filled, commit it into m
	 * (seq, files): 0, or -1 with err (and r->uncaught when nothing
	 * could be asked). */
	int (*take)(struct ckpt_run *r, int basefd, struct manifest *m,
		    char *err, size_t errlen);
};

void run_init(struct ckpt_run *r, const struct step *s, const char *reason);
void run_free(struct ckpt_run *r);
/* As root, before the drop to the user: fetch the job's submission to
 * save with its image (method: the step's method's name). */
void run_fetch_job(struct ckpt_run *r, const char *method);
/* ImageDir= of this checkpoint, opened as the user: 0, or -1 with err. */
int run_open_image_dir(struct ckpt_run *r, const char *dir, char *err,
		       size_t errlen);
/* Write the saved job into N.partial, then image_commit(); with an
 * ImageDir=, N.partial is moved there first and committed there. */
int run_commit(struct ckpt_run *r, int basefd, struct manifest *m,
	       char *err, size_t errlen);

#endif
