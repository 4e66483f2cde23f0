/* run.h - the checkpoint in flight in a worker, and its commit (run.c).
 * Every way of taking a checkpoint (cooperate.c, method.c, peer_worker.c,
 * engine.c) stages its image and commits it with run_commit(). */
#ifndef CKPT_RUN_H
#define CKPT_RUN_H

#include <stddef.h>

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
