/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine.c - one checkpoint, in a worker that has the job user's
 * credentials: ImageDir= opened, then the step's way of taking it
 * (struct ckpt_way: a checkpoint exit code: commit what the task left,
 * exit_code.c; Slurm's SIGTERM as the checkpoint signal: what the tasks
 * wrote on it, sigterm.c; a step over several nodes: the leader's
 * two-phase commit, peer_worker.c; a method: method_run.c; else the
 * cooperative protocol, cooperate.c), and one report to the daemon of
 * what happened. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "cooperate.h"
#include "engine.h"
#include "exit_code.h"
#include "image.h"
#include "log.h"
#include "method_run.h"
#include "peer_worker.h"
#include "report.h"
#include "run.h"
#include "sigterm.h"
#include "steps.h"

/* Control characters of an error text (a user's file names) as '?'. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* A full checkpoint directory: say how much room a checkpoint needs
 * (the new image is written before the oldest is removed). */
static void hint_space(const struct step *s, char *err, size_t len)
{
	size_t n = strlen(err);

	if (strstr(err, strerror(ENOSPC)) && n < len)
		snprintf(err + n, len - n, " (the checkpoint directory needs "
			 "room for keep+1 = %ld images of the step)",
			 s->keep + 1);
}

/* The way of r's step at this checkpoint. */
static const struct ckpt_way *way_of(const struct ckpt_run *r)
{
	if (strcmp(r->reason, "exit-code") == 0)
		return &exit_code_way;
	/* Slurm sent SIGTERM before slurmckptd knew: nothing to ask. */
	if (step_on_sigterm(r->s) && r->s->nnodes == 1 &&
	    (strcmp(r->reason, "preemption") == 0 ||
	     strcmp(r->reason, "sigterm") == 0))
		return &sigterm_way;
	if (r->s->nnodes > 1)
		return &peer_leader_way;
	if (r->s->method)
		return &method_way;
	return &cooperate_way;
}

int engine_run(struct ckpt_run *r, const char *imgdir, int out)
{
	const struct step *s = r->s;
	const char *reason = r->reason;
	struct manifest m = { .job = s->job, .step = s->id,
			      .process_image = s->method != NULL };
	char err[1024] = "", line[1200], image[4352];
	const struct ckpt_way *way = way_of(r);
	bool exited = way == &exit_code_way || way == &sigterm_way;
	json_t *o;
	int basefd, rc = -1;

	m.reason = (char *)reason;
	m.node = s->node;
	basefd = image_open_base(s->dir, err, sizeof(err));
	if (basefd >= 0 && imgdir &&
	    run_open_image_dir(r, imgdir, err, sizeof(err)) < 0) {
		/* nothing asked, nothing staged */
	} else if (basefd >= 0) {
		log_msg(LOG_DEBUG, "%s: %s checkpoint, the %s way", s->label,
			reason, way->name);
		rc = way->take(r, basefd, &m, err, sizeof(err));
	}
	if (rc == 0) {
		snprintf(image, sizeof(image), "%s/%s",
			 imgdir ? imgdir : s->dir, s->name);
		/* The step's own log says where this image went. */
		if (imgdir) {
			snprintf(line, sizeof(line), "%s seq=%" PRIu64
				 " committed to ImageDir %.*s reason=%s",
				 s->label, m.seq, 1024, image, reason);
			image_log(basefd, line);
		}
		o = json_pack("{s:b,s:I,s:s,s:I,s:I,s:I}", "ok", 1, "seq",
			      (json_int_t)m.seq, "image", image, "files",
			      (json_int_t)m.nfiles, "bytes",
			      (json_int_t)manifest_bytes(&m), "flushed",
			      (json_int_t)r->flushed);
	} else {
		hint_space(s, err, sizeof(err));
		printable(err);
		/* The state an exited task left is all there is: keep it. */
		if (basefd >= 0 && !r->uncaught && !exited)
			image_discard(basefd, s->name, line, sizeof(line));
		if (r->image_dirfd >= 0)
			image_discard(r->image_dirfd, s->name, line,
				      sizeof(line));
		/* A step that cannot checkpoint is noted once, not at every
		 * interval; a task that ended on its own and wrote nothing is
		 * no event. */
		if (basefd >= 0 && !(r->uncaught && s->uncaught_noted) &&
		    !(r->skipped && strcmp(reason, "sigterm") == 0)) {
			snprintf(line, sizeof(line), "%s %s: %s", s->label,
				 r->skipped ? "skipped" : "failed", err);
			image_log(basefd, line);
		}
		o = json_pack("{s:b,s:s,s:b,s:b}", "ok", 0, "error", err,
			      "uncaught", r->uncaught, "skipped", r->skipped);
	}
	m.reason = NULL;
	m.node = NULL;
	manifest_free(&m);
	if (basefd >= 0)
		close(basefd);
	run_free(r);
	if (report_write(out, o) < 0)
		rc = -1;
	return rc;
}
